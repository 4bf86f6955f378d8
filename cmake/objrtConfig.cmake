# objrtConfig.cmake: the CMake package of objrt's C ABI, for
#   find_package(objrt CONFIG REQUIRED)
#   target_link_libraries(app PRIVATE objrt::objffi)         # libobjffi.so.1
#   target_link_libraries(app PRIVATE objrt::objffi_static)  # libobjffi.a (+ pthread, dl, m)
# Both targets carry the include directory of objffi.h and objffi.hpp.
#
# The same file serves two layouts:
# - installed by ci/install.sh PREFIX as PREFIX/lib/cmake/objrt/ (found
#   through CMAKE_PREFIX_PATH=PREFIX, or objrt_DIR=PREFIX/lib/cmake/objrt);
# - in the repository checkout as <repo>/cmake/ (objrt_DIR=<repo>/cmake),
#   after `cargo build --release -p objffi`: the libraries are taken from
#   objrt_LIBRARY_DIR, by default $CARGO_TARGET_DIR/release or else
#   <repo>/target/release. Cargo leaves the shared library as libobjffi.so
#   while its soname is libobjffi.so.1, so this file links the consumer
#   against a libobjffi.so.1 symlink in the consumer's build directory, which
#   the loader then finds through the build RPATH.

if(TARGET objrt::objffi)
    return()
endif()

get_filename_component(_objrt_checkout "${CMAKE_CURRENT_LIST_DIR}/.." ABSOLUTE)
if(EXISTS "${_objrt_checkout}/Cargo.toml" AND EXISTS "${_objrt_checkout}/crates/objffi")
    set(_objrt_include_dir "${_objrt_checkout}/include")
    if(DEFINED ENV{CARGO_TARGET_DIR})
        set(_objrt_default_library_dir "$ENV{CARGO_TARGET_DIR}/release")
    else()
        set(_objrt_default_library_dir "${_objrt_checkout}/target/release")
    endif()
    set(objrt_LIBRARY_DIR "${_objrt_default_library_dir}" CACHE PATH
        "Where `cargo build --release -p objffi` left libobjffi.a and libobjffi.so")
    set(_objrt_static_library "${objrt_LIBRARY_DIR}/libobjffi.a")
    set(_objrt_soname_dir "${CMAKE_BINARY_DIR}/objrt-soname")
    set(_objrt_shared_library "${_objrt_soname_dir}/libobjffi.so.1")
    if(EXISTS "${objrt_LIBRARY_DIR}/libobjffi.so")
        file(MAKE_DIRECTORY "${_objrt_soname_dir}")
        file(CREATE_LINK "${objrt_LIBRARY_DIR}/libobjffi.so" "${_objrt_shared_library}" SYMBOLIC)
    endif()
else()
    get_filename_component(_objrt_prefix "${CMAKE_CURRENT_LIST_DIR}/../../.." ABSOLUTE)
    set(_objrt_include_dir "${_objrt_prefix}/include")
    set(_objrt_static_library "${_objrt_prefix}/lib/libobjffi.a")
    set(_objrt_shared_library "${_objrt_prefix}/lib/libobjffi.so.1")
endif()

foreach(_objrt_file IN ITEMS "${_objrt_include_dir}/objffi.h" "${_objrt_static_library}"
                             "${_objrt_shared_library}")
    if(NOT EXISTS "${_objrt_file}")
        set(objrt_FOUND FALSE)
        set(objrt_NOT_FOUND_MESSAGE
            "objrt: ${_objrt_file} is missing (build it with `cargo build --release -p objffi`, or install it with ci/install.sh)")
        return()
    endif()
endforeach()

set(THREADS_PREFER_PTHREAD_FLAG ON)
include(CMakeFindDependencyMacro)
find_dependency(Threads)

add_library(objrt::objffi SHARED IMPORTED)
set_target_properties(objrt::objffi PROPERTIES
    IMPORTED_LOCATION "${_objrt_shared_library}"
    IMPORTED_SONAME "libobjffi.so.1"
    INTERFACE_INCLUDE_DIRECTORIES "${_objrt_include_dir}")

# A Rust static library needs the system libraries of the Rust standard library.
add_library(objrt::objffi_static STATIC IMPORTED)
set_target_properties(objrt::objffi_static PROPERTIES
    IMPORTED_LOCATION "${_objrt_static_library}"
    IMPORTED_LINK_INTERFACE_LANGUAGES "C"
    INTERFACE_INCLUDE_DIRECTORIES "${_objrt_include_dir}"
    INTERFACE_LINK_LIBRARIES "Threads::Threads;${CMAKE_DL_LIBS};m")

set(objrt_INCLUDE_DIR "${_objrt_include_dir}")
