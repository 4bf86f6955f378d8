/* Heaps over the C ABI: creation, statistics, memory limit, release. */
#include "objffi.h" /* first: the header must compile on its own */

#include <string.h>

#include "check.h"

int objffi_c_test_heap(void);

/* Past the memory limit an allocating call fails with OBJ_ERR_NO_MEMORY, does
 * nothing, and the heap stays usable. */
static int test_memory_limit(void) {
    int failures = 0;
    obj_heap_t *heap = obj_heap_new();
    obj_heap_stats_t stats;
    CHECK_STATUS(failures, obj_heap_stats(heap, &stats), OBJ_OK);
    size_t limit = stats.bytes_reserved; /* no more arenas than the heap has now */
    CHECK_STATUS(failures, obj_heap_set_memory_limit(heap, limit), OBJ_OK);

    /* Fill the heap with a chain of 1-tuples, each holding the one before. */
    obj_t *chain = obj_none(heap);
    obj_status_t st = OBJ_OK;
    size_t made = 0;
    while (st == OBJ_OK && made < 100000000) {
        obj_t *next = NULL;
        st = obj_tuple_new(heap, &chain, 1, &next);
        if (st == OBJ_OK) {
            obj_decref(chain); /* the new tuple holds it */
            chain = next;
            ++made;
        } else {
            CHECK(failures, next == NULL);
        }
    }
    CHECK_STATUS(failures, st, OBJ_ERR_NO_MEMORY);
    CHECK(failures, made > 1000);
    CHECK_STATUS(failures, obj_heap_stats(heap, &stats), OBJ_OK);
    CHECK(failures, stats.bytes_reserved <= limit);
    CHECK(failures, stats.memory_limit == limit);
    CHECK(failures, stats.objects_live == made);

    /* Nothing half-done: the chain is whole. */
    obj_t *link = chain;
    size_t length = 0;
    while (link != obj_none(heap)) {
        obj_t *inner = NULL;
        CHECK_STATUS(failures, obj_seq_get(link, 0, &inner), OBJ_OK);
        obj_decref(inner); /* still held by `link` */
        link = inner;
        ++length;
    }
    CHECK(failures, length == made);
    /* Other allocating calls fail the same way, and change nothing. */
    static char big[100000];
    memset(big, 'x', sizeof big - 1); /* NUL-terminated: also a long class name */
    obj_t *out = NULL;
    CHECK_STATUS(failures, obj_str_new(heap, big, sizeof big - 1, &out), OBJ_ERR_NO_MEMORY);
    obj_t *type = NULL;
    CHECK_STATUS(failures, obj_type_new(heap, big + sizeof big - 5000, NULL, 0, NULL, &type),
                 OBJ_ERR_NO_MEMORY); /* its name is too long to fit */
    CHECK(failures, out == NULL && type == NULL);
    CHECK_STATUS(failures, obj_heap_stats(heap, &stats), OBJ_OK);
    CHECK(failures, stats.objects_live == made);

    /* Freeing makes room again (the chain goes without deep recursion). */
    obj_decref(chain);
    CHECK_STATUS(failures, obj_heap_stats(heap, &stats), OBJ_OK);
    CHECK(failures, stats.objects_live == 0);
    CHECK_STATUS(failures, obj_str_new(heap, big, 100, &out), OBJ_OK);
    obj_decref(out);
    /* Lifting the limit lets the heap grow. */
    CHECK_STATUS(failures, obj_heap_set_memory_limit(heap, 0), OBJ_OK);
    obj_t *list = NULL;
    CHECK_STATUS(failures, obj_list_new(heap, &list), OBJ_OK);
    for (int64_t i = 0; i < 200000; ++i) {
        CHECK_STATUS(failures, obj_int_new(heap, 1000 + i, &out), OBJ_OK);
        CHECK_STATUS(failures, obj_list_append(list, out), OBJ_OK);
        obj_decref(out);
    }
    CHECK_STATUS(failures, obj_heap_stats(heap, &stats), OBJ_OK);
    CHECK(failures, stats.bytes_reserved > limit);
    obj_decref(list);
    obj_heap_free(heap);
    return failures;
}

int objffi_c_test_heap(void) {
    int failures = 0;

    obj_heap_t *heap = obj_heap_new();
    CHECK(failures, heap != NULL);
    if (heap == NULL) {
        return failures;
    }

    /* A new heap holds only its built-ins (not counted as live) and has no limit. */
    obj_heap_stats_t stats;
    memset(&stats, 0xAB, sizeof stats);
    CHECK_STATUS(failures, obj_heap_stats(heap, &stats), OBJ_OK);
    CHECK(failures, stats.objects_live == 0);
    CHECK(failures, stats.builtin_objects > 262); /* None, True, False, -5..256, types, names */
    CHECK(failures, stats.bytes_in_use > 0);
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

    return failures + test_memory_limit();
}
