/* Status codes, their names, and obj_last_error(). */
#include "objffi.h" /* first: the header must compile on its own */

#include "check.h"

#if !defined(OBJFFI_VERSION_MAJOR) || !defined(OBJFFI_VERSION_MINOR) || \
    !defined(OBJFFI_VERSION_PATCH)
#error "objffi.h must define OBJFFI_VERSION_MAJOR, _MINOR and _PATCH"
#endif

int objffi_c_test_errors(void);

int objffi_c_test_errors(void) {
    int failures = 0;

    /* The values are part of the ABI. */
    CHECK(failures, OBJ_OK == 0);
    CHECK(failures, OBJ_ERR_NULL_ARG == 1);
    CHECK(failures, OBJ_ERR_PANIC == 11);
    CHECK(failures, OBJ_ERR_THREAD == 12);
    CHECK(failures, OBJ_ERR_RECURSION == 13);
    CHECK(failures, sizeof(obj_status_t) == sizeof(int32_t));
    CHECK(failures, (obj_status_t)-1 < 0); /* signed: any host code fits */

    static const struct {
        obj_status_t status;
        const char *name;
    } names[] = {
        {OBJ_OK, "OBJ_OK"},
        {OBJ_ERR_NULL_ARG, "OBJ_ERR_NULL_ARG"},
        {OBJ_ERR_TYPE, "OBJ_ERR_TYPE"},
        {OBJ_ERR_VALUE, "OBJ_ERR_VALUE"},
        {OBJ_ERR_ATTRIBUTE, "OBJ_ERR_ATTRIBUTE"},
        {OBJ_ERR_KEY, "OBJ_ERR_KEY"},
        {OBJ_ERR_INDEX, "OBJ_ERR_INDEX"},
        {OBJ_ERR_MRO, "OBJ_ERR_MRO"},
        {OBJ_ERR_NO_MEMORY, "OBJ_ERR_NO_MEMORY"},
        {OBJ_ERR_CALLBACK, "OBJ_ERR_CALLBACK"},
        {OBJ_ERR_HEAP_MISMATCH, "OBJ_ERR_HEAP_MISMATCH"},
        {OBJ_ERR_PANIC, "OBJ_ERR_PANIC"},
        {OBJ_ERR_THREAD, "OBJ_ERR_THREAD"},
        {OBJ_ERR_RECURSION, "OBJ_ERR_RECURSION"},
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; ++i) {
        CHECK_STR(failures, obj_status_name(names[i].status), names[i].name);
    }
    /* A value that is no status code still gets a printable name. */
    CHECK_STR(failures, obj_status_name((obj_status_t)14), "OBJ_UNKNOWN");
    CHECK_STR(failures, obj_status_name((obj_status_t)-1), "OBJ_UNKNOWN");

    /* The last error stays until the next failure: a success does not clear it. */
    obj_heap_t *heap = obj_heap_new();
    CHECK(failures, heap != NULL);
    obj_heap_stats_t stats;
    CHECK_STATUS(failures, obj_heap_stats(NULL, &stats), OBJ_ERR_NULL_ARG);
    CHECK_STR(failures, obj_last_error(), "obj_heap_stats: argument 'heap' is NULL");
    CHECK_STATUS(failures, obj_heap_stats(heap, &stats), OBJ_OK);
    CHECK_STR(failures, obj_last_error(), "obj_heap_stats: argument 'heap' is NULL");
    CHECK_STATUS(failures, obj_heap_stats(heap, NULL), OBJ_ERR_NULL_ARG);
    CHECK_STR(failures, obj_last_error(), "obj_heap_stats: argument 'out' is NULL");

    /* A host function sets the message its caller will read; NULL is ignored;
     * text that is not UTF-8 is kept, with U+FFFD for the bad bytes. */
    obj_set_last_error("custom message");
    CHECK_STR(failures, obj_last_error(), "custom message");
    obj_set_last_error(NULL);
    CHECK_STR(failures, obj_last_error(), "custom message");
    obj_set_last_error("bad \xff byte");
    CHECK_STR(failures, obj_last_error(), "bad \xef\xbf\xbd byte");
    obj_heap_free(heap);

    return failures;
}
