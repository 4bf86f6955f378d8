/* Heaps over the C ABI: creation, statistics, memory limit, release. */
#include "objffi.h" /* first: the header must compile on its own */

#include <string.h>

#include "check.h"

int objffi_c_test_heap(void);

int objffi_c_test_heap(void) {
    int failures = 0;

    obj_heap_t *heap = obj_heap_new();
    CHECK(failures, heap != NULL);
    if (heap == NULL) {
        return failures;
    }

    /* A new heap holds nothing and has no limit. */
    obj_heap_stats_t stats;
    memset(&stats, 0xAB, sizeof stats);
    CHECK_STATUS(failures, obj_heap_stats(heap, &stats), OBJ_OK);
    CHECK(failures, stats.objects_live == 0);
    CHECK(failures, stats.bytes_in_use == 0);
    CHECK(failures, stats.bytes_in_use <= stats.bytes_reserved);
    CHECK(failures, stats.bytes_reserved <= stats.peak_bytes_reserved);
    CHECK(failures, stats.memory_limit == 0);

    /* The limit is reported back; 0 removes it. */
    CHECK_STATUS(failures, obj_heap_set_memory_limit(heap, (size_t)1 << 20), OBJ_OK);
    CHECK_STATUS(failures, obj_heap_stats(heap, &stats), OBJ_OK);
    CHECK(failures, stats.memory_limit == (size_t)1 << 20);
    CHECK_STATUS(failures, obj_heap_set_memory_limit(heap, 0), OBJ_OK);
    CHECK_STATUS(failures, obj_heap_stats(heap, &stats), OBJ_OK);
    CHECK(failures, stats.memory_limit == 0);

    /* A NULL heap is refused and the out-parameter is left alone. */
    obj_heap_stats_t untouched;
    obj_heap_stats_t sentinel;
    memset(&untouched, 0x5A, sizeof untouched);
    memcpy(&sentinel, &untouched, sizeof sentinel);
    CHECK_STATUS(failures, obj_heap_stats(NULL, &untouched), OBJ_ERR_NULL_ARG);
    CHECK(failures, memcmp(&untouched, &sentinel, sizeof untouched) == 0);
    CHECK_STR(failures, obj_last_error(), "obj_heap_stats: argument 'heap' is NULL");

    CHECK_STATUS(failures, obj_heap_stats(heap, NULL), OBJ_ERR_NULL_ARG);
    CHECK_STR(failures, obj_last_error(), "obj_heap_stats: argument 'out' is NULL");

    CHECK_STATUS(failures, obj_heap_set_memory_limit(NULL, 0), OBJ_ERR_NULL_ARG);
    CHECK_STR(failures, obj_last_error(), "obj_heap_set_memory_limit: argument 'heap' is NULL");

    /* Releasing NULL is harmless; a second heap is independent of the first. */
    obj_heap_free(NULL);
    obj_heap_t *other = obj_heap_new();
    CHECK(failures, other != NULL && other != heap);
    CHECK_STATUS(failures, obj_heap_set_memory_limit(other, 4096), OBJ_OK);
    CHECK_STATUS(failures, obj_heap_stats(heap, &stats), OBJ_OK);
    CHECK(failures, stats.memory_limit == 0);
    obj_heap_free(other);
    obj_heap_free(heap);

    return failures;
}
