// The header from C++17: it compiles with -Wpedantic -Werror, its include guard
// works, and it is usable from two translation units (see second_tu.cpp).
#include "objffi.h"
#include "objffi.h"  // twice: the include guard must make this harmless

#include <cstdio>
#include <cstring>
#include <string>

extern "C" int objffi_cpp_test_heap();
const char* objffi_cpp_second_tu_ok_name();  // defined in second_tu.cpp

namespace {

int failures = 0;

void check(bool ok, const char* what, int line) {
    if (!ok) {
        std::fprintf(stderr, "%s:%d: check failed: %s (last error: \"%s\")\n", __FILE__, line,
                     what, obj_last_error());
        ++failures;
    }
}

#define CHECK(cond) check((cond), #cond, __LINE__)

// Owns a heap for the length of a scope.
struct Heap {
    obj_heap_t* raw = obj_heap_new();
    Heap() = default;
    Heap(const Heap&) = delete;
    Heap& operator=(const Heap&) = delete;
    ~Heap() { obj_heap_free(raw); }
};

}  // namespace

int objffi_cpp_test_heap() {
    failures = 0;
    {
        Heap heap;
        CHECK(heap.raw != nullptr);

        obj_heap_stats_t stats{};
        CHECK(obj_heap_stats(heap.raw, &stats) == OBJ_OK);
        CHECK(stats.objects_live == 0);
        CHECK(stats.bytes_in_use > 0);  // the built-ins

        obj_heap_stats_t untouched{};
        untouched.pools = 42;
        CHECK(obj_heap_stats(nullptr, &untouched) == OBJ_ERR_NULL_ARG);
        CHECK(untouched.pools == 42);
        CHECK(std::string(obj_last_error()) == "obj_heap_stats: argument 'heap' is NULL");
    }
    CHECK(std::strcmp(objffi_cpp_second_tu_ok_name(), "OBJ_OK") == 0);

    // A switch over the enum: every enumerator is a distinct constant.
    switch (obj_status_t s = OBJ_ERR_MRO) {
        case OBJ_OK:
        case OBJ_ERR_NULL_ARG:
        case OBJ_ERR_TYPE:
        case OBJ_ERR_VALUE:
        case OBJ_ERR_ATTRIBUTE:
        case OBJ_ERR_KEY:
        case OBJ_ERR_INDEX:
        case OBJ_ERR_NO_MEMORY:
        case OBJ_ERR_CALLBACK:
        case OBJ_ERR_HEAP_MISMATCH:
        case OBJ_ERR_PANIC:
        case OBJ_ERR_THREAD:
        case OBJ_ERR_RECURSION:
            CHECK(false);
            break;
        case OBJ_ERR_MRO:
            CHECK(std::string(obj_status_name(s)) == "OBJ_ERR_MRO");
            break;
    }
    obj_heap_free(nullptr);
    return failures;
}
