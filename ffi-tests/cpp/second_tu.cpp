// A second translation unit including both headers: nothing in them may be
// defined twice at link time (objffi.hpp is header-only: everything inline).
#include "objffi.hpp"

#include <string>

const char* objffi_cpp_second_tu_ok_name();
std::string objffi_cpp_second_tu_repr(const obj::ref& o);

const char* objffi_cpp_second_tu_ok_name() { return obj_status_name(OBJ_OK); }

std::string objffi_cpp_second_tu_repr(const obj::ref& o) { return o.repr(); }
