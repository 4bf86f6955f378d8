// A second translation unit including the header: nothing in it may be defined
// twice at link time.
#include "objffi.h"

const char* objffi_cpp_second_tu_ok_name();

const char* objffi_cpp_second_tu_ok_name() { return obj_status_name(OBJ_OK); }
