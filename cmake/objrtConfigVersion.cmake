# objrtConfigVersion.cmake: the version of the objrt package, read from the
# OBJFFI_VERSION_* macros of the objffi.h beside it (installed, or in the
# repository checkout), so it never needs generating. A request is met by
# the same major version, at least as new; 0.x versions must also match
# their minor (each 0.x may break the next).

get_filename_component(_objrt_checkout "${CMAKE_CURRENT_LIST_DIR}/.." ABSOLUTE)
if(EXISTS "${_objrt_checkout}/Cargo.toml" AND EXISTS "${_objrt_checkout}/crates/objffi")
    set(_objrt_header "${_objrt_checkout}/include/objffi.h")
else()
    get_filename_component(_objrt_header "${CMAKE_CURRENT_LIST_DIR}/../../../include/objffi.h" ABSOLUTE)
endif()

foreach(_objrt_part IN ITEMS MAJOR MINOR PATCH)
    file(STRINGS "${_objrt_header}" _objrt_line REGEX "^#define OBJFFI_VERSION_${_objrt_part} ")
    string(REGEX REPLACE "^#define OBJFFI_VERSION_${_objrt_part} ([0-9]+).*" "\\1" _objrt_number "${_objrt_line}")
    set(_objrt_${_objrt_part} "${_objrt_number}")
endforeach()
set(PACKAGE_VERSION "${_objrt_MAJOR}.${_objrt_MINOR}.${_objrt_PATCH}")

set(PACKAGE_VERSION_COMPATIBLE FALSE)
if(PACKAGE_FIND_VERSION_MAJOR STREQUAL _objrt_MAJOR
   AND NOT PACKAGE_VERSION VERSION_LESS PACKAGE_FIND_VERSION
   AND (NOT _objrt_MAJOR EQUAL 0 OR PACKAGE_FIND_VERSION_MINOR STREQUAL _objrt_MINOR))
    set(PACKAGE_VERSION_COMPATIBLE TRUE)
endif()
if(PACKAGE_VERSION VERSION_EQUAL PACKAGE_FIND_VERSION)
    set(PACKAGE_VERSION_EXACT TRUE)
endif()
