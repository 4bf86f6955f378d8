/* The CMake consumer's program: a heap, a class, an instance, an attribute
 * set and read back, and a missing one; returns nonzero on any wrong answer. */
#include <objffi.h>
#include <stdio.h>
#include <string.h>

static int fail(const char *what) {
    fprintf(stderr, "cmake-consumer: %s (last error: %s)\n", what, obj_last_error());
    return 1;
}

int main(void) {
    obj_heap_t *heap = obj_heap_new();
    if (heap == NULL) return fail("obj_heap_new");
    obj_t *point = NULL, *p = NULL, *x = NULL, *got = NULL, *missing = NULL;
    int64_t value = 0;
    int failed = 0;
    if (obj_type_new(heap, "Point", NULL, 0, NULL, &point) != OBJ_OK) {
        failed = fail("obj_type_new");
    } else if (obj_call(point, NULL, 0, &p) != OBJ_OK) {
        failed = fail("obj_call");
    } else if (obj_int_new(heap, 42, &x) != OBJ_OK || obj_setattr_str(p, "x", x) != OBJ_OK) {
        failed = fail("obj_setattr_str");
    } else if (obj_getattr_str(p, "x", &got) != OBJ_OK || obj_int_value(got, &value) != OBJ_OK ||
               value != 42) {
        failed = fail("p.x is not 42");
    } else if (obj_getattr_str(p, "y", &missing) != OBJ_ERR_ATTRIBUTE || missing != NULL ||
               strcmp(obj_last_error(), "'Point' object has no attribute 'y'") != 0) {
        failed = fail("p.y is not an AttributeError");
    }
    obj_decref(got);
    obj_decref(x);
    obj_decref(p);
    obj_decref(point);
    obj_heap_free(heap);
    if (!failed) printf("cmake-consumer: p.x == %lld, contract %d.%d\n", (long long)value,
                        OBJFFI_CONTRACT_VERSION_MAJOR, OBJFFI_CONTRACT_VERSION_MINOR);
    return failed;
}
