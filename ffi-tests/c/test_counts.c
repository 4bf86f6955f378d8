/* Reference counts past the old wrap point of the shared count (issue 11,
 * finding 6): the heap's creating thread counts an instance up
 * 2^26 + 1000 times, a second thread drops every one of those references
 * (each one counted by the owner, so each goes to the shared count), the
 * owner merges what the other thread handed back and finds one reference;
 * dropping it runs __del__ once and frees the instance.
 *
 * Before the shared count had a floor it went negative by one per decref
 * and wrapped after 2^26 of them: the count then read 2^27 + 1, and the
 * object was never freed. Now a decref at the floor (2^16, objgc's
 * refcount.rs) hands the excess to the owner.
 *
 * 2^27 calls take about 30 s against a debug library (and far longer under
 * valgrind): release builds run the full size (build.rs defines
 * OBJFFI_TEST_FULL_SIZE; ci/limits.sh), debug builds 2^18 + 1000, still
 * four times past the floor. */
#define _POSIX_C_SOURCE 200809L
#include "objffi.h" /* first: the header must compile on its own */

#include <pthread.h>
#include <stdatomic.h>

#include "check.h"

int objffi_c_test_counts(void);

/* References the owner adds and the other thread drops. */
#ifdef OBJFFI_TEST_FULL_SIZE
#define HANDED ((1L << 26) + 1000)
#else
#define HANDED ((1L << 18) + 1000)
#endif

static atomic_int finalized;

static obj_status_t count_del(void *data, obj_t *const *args, size_t nargs, obj_t **result) {
    (void)args;
    (void)nargs;
    atomic_fetch_add(&finalized, 1);
    *result = obj_none((obj_heap_t *)data);
    return OBJ_OK;
}

/* The other thread: drops `HANDED` references to `arg`. */
static void *drop_all(void *arg) {
    obj_t *o = arg;
    for (long i = 0; i < HANDED; ++i) obj_decref(o);
    return NULL;
}

int objffi_c_test_counts(void) {
    int failures = 0;
    atomic_store(&finalized, 0);
    obj_heap_t *heap = obj_heap_new();
    CHECK(failures, heap != NULL);

    obj_t *cls = NULL, *del = NULL, *o = NULL;
    CHECK_STATUS(failures, obj_type_new(heap, "Counted", NULL, 0, NULL, &cls), OBJ_OK);
    CHECK_STATUS(failures, obj_function_new(heap, "__del__", count_del, heap, &del), OBJ_OK);
    CHECK_STATUS(failures, obj_setattr_str(cls, "__del__", del), OBJ_OK);
    obj_decref(del);
    size_t base = test_live(heap);

    CHECK_STATUS(failures, obj_alloc(cls, &o), OBJ_OK);
    for (long i = 0; i < HANDED; ++i) obj_incref(o);
    CHECK(failures, obj_refcount(o) == (size_t)HANDED + 1);

    pthread_t other;
    CHECK(failures, pthread_create(&other, NULL, drop_all, o) == 0);
    CHECK(failures, pthread_join(other, NULL) == 0);

    /* The owner merges what the other thread handed back (at its next call
     * inside the heap) and holds the one reference left. */
    CHECK_STATUS(failures, obj_gc_collect(heap, 0, NULL), OBJ_OK);
    size_t count = obj_refcount(o);
    if (count != 1) fprintf(stderr, "test_counts.c: refcount %zu, expected 1\n", count);
    CHECK(failures, count == 1);
    CHECK(failures, atomic_load(&finalized) == 0);

    obj_decref(o);
    CHECK(failures, atomic_load(&finalized) == 1);
    CHECK(failures, test_live(heap) == base);

    obj_decref(cls);
    obj_heap_free(heap);
    return failures;
}
