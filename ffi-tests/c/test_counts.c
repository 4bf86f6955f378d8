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
 * four times past the floor.
 *
 * Then the inline counting of objffi.h (obj_incref_inline and
 * obj_decref_inline): on the owner thread they count in the object's
 * `local` word without calling in; on any other thread, at the owner's last
 * reference, for immortal objects and for a heap whose owner has exited
 * they call the exported functions; counts always agree with obj_refcount. */
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

/* A class `name` whose __del__ counts in `finalized`, into `*cls`;
 * returns the failed checks. */
static int new_counted_class(obj_heap_t *heap, const char *name, obj_t **cls) {
    int failures = 0;
    obj_t *del = NULL;
    CHECK_STATUS(failures, obj_type_new(heap, name, NULL, 0, NULL, cls), OBJ_OK);
    CHECK_STATUS(failures, obj_function_new(heap, "__del__", count_del, heap, &del), OBJ_OK);
    CHECK_STATUS(failures, obj_setattr_str(*cls, "__del__", del), OBJ_OK);
    obj_decref(del);
    return failures;
}

/* The other thread: drops `HANDED` references to `arg`. */
static void *drop_all(void *arg) {
    obj_t *o = arg;
    for (long i = 0; i < HANDED; ++i) obj_decref(o);
    return NULL;
}

/* The owner's and the other threads' words of `o` (the layout objffi.h
 * documents for inline counting). */
static uint32_t local_word(obj_t *o) { return ((const obj_abi_head_t *)(void *)o)->local; }
static uint32_t shared_word(obj_t *o) { return ((const obj_abi_head_t *)(void *)o)->shared; }

#define INLINE_ROUNDS 1000

/* Another thread: counts `arg` up and down inline, INLINE_ROUNDS times;
 * returns the owner's word as it was between the two (cast to a pointer). */
static void *count_inline(void *arg) {
    obj_t *o = arg;
    for (int i = 0; i < INLINE_ROUNDS; ++i) obj_incref_inline(o);
    uintptr_t local = local_word(o);
    for (int i = 0; i < INLINE_ROUNDS; ++i) obj_decref_inline(o);
    return (void *)local;
}

/* A thread that makes a heap with one instance and exits (the heap lives
 * on, ownerless). */
struct orphan {
    obj_heap_t *heap;
    obj_t *cls, *o;
};
static void *make_orphan(void *arg) {
    struct orphan *orphan = arg;
    orphan->heap = obj_heap_new();
    if (orphan->heap == NULL) return NULL;
    if (obj_type_new(orphan->heap, "Orphan", NULL, 0, NULL, &orphan->cls) != OBJ_OK) return NULL;
    if (obj_alloc(orphan->cls, &orphan->o) != OBJ_OK) orphan->o = NULL;
    return NULL;
}

static int test_inline_counts(void) {
    int failures = 0;
    atomic_store(&finalized, 0);
    obj_heap_t *heap = obj_heap_new();
    CHECK(failures, heap != NULL);
    obj_t *cls = NULL, *o = NULL;
    failures += new_counted_class(heap, "Inline", &cls);
    size_t base = test_live(heap);
    CHECK_STATUS(failures, obj_alloc(cls, &o), OBJ_OK);

    /* NULL is ignored, as by the exported calls. */
    obj_incref_inline(NULL);
    obj_decref_inline(NULL);

    /* The owner counts in `local`, and nothing else moves. */
    uint32_t shared = shared_word(o);
    for (int i = 0; i < INLINE_ROUNDS; ++i) obj_incref_inline(o);
    CHECK(failures, obj_refcount(o) == INLINE_ROUNDS + 1);
#ifdef OBJ_INLINE_COUNTS
    CHECK(failures, local_word(o) == INLINE_ROUNDS + 1);
    CHECK(failures, shared_word(o) == shared);
#endif
    for (int i = 0; i < INLINE_ROUNDS; ++i) obj_decref_inline(o);
    CHECK(failures, obj_refcount(o) == 1);
    CHECK(failures, local_word(o) == 1);

    /* Another thread is not taken for the owner: it counts in the shared
     * word (through the exported calls), never in `local`. */
    pthread_t others[2];
    void *seen = NULL;
    CHECK(failures, pthread_create(&others[0], NULL, count_inline, o) == 0);
    CHECK(failures, pthread_join(others[0], &seen) == 0);
    CHECK(failures, (uintptr_t)seen == 1);
    CHECK(failures, local_word(o) == 1);
    CHECK_STATUS(failures, obj_gc_collect(heap, 0, NULL), OBJ_OK); /* merges, if any */
    CHECK(failures, obj_refcount(o) == 1);

    /* Also while the owner counts inline. */
    for (int t = 0; t < 2; ++t) CHECK(failures, pthread_create(&others[t], NULL, count_inline, o) == 0);
    for (int i = 0; i < INLINE_ROUNDS; ++i) obj_incref_inline(o);
    for (int i = 0; i < INLINE_ROUNDS; ++i) obj_decref_inline(o);
    for (int t = 0; t < 2; ++t) CHECK(failures, pthread_join(others[t], NULL) == 0);
    CHECK_STATUS(failures, obj_gc_collect(heap, 0, NULL), OBJ_OK); /* merges, if any */
    CHECK(failures, obj_refcount(o) == 1);
    CHECK(failures, atomic_load(&finalized) == 0);

    /* The owner's last reference: the exported call frees it, __del__ runs. */
    obj_decref_inline(o);
    CHECK(failures, atomic_load(&finalized) == 1);
    CHECK(failures, test_live(heap) == base);

    /* Immortal objects are never counted. */
    obj_t *none = obj_none(heap);
    size_t immortal = obj_refcount(none);
    for (int i = 0; i < INLINE_ROUNDS; ++i) obj_incref_inline(none);
    for (int i = 0; i < 2 * INLINE_ROUNDS; ++i) obj_decref_inline(none);
    CHECK(failures, obj_refcount(none) == immortal);

    obj_decref(cls);
    obj_heap_free(heap);

    /* A heap whose owner exited: no thread counts inline until one adopts
     * it (here by entering it: any call). */
    struct orphan orphan = {NULL, NULL, NULL};
    pthread_t maker;
    CHECK(failures, pthread_create(&maker, NULL, make_orphan, &orphan) == 0);
    CHECK(failures, pthread_join(maker, NULL) == 0);
    CHECK(failures, orphan.o != NULL);
    if (orphan.o != NULL) {
        uint32_t local = local_word(orphan.o);
        obj_incref_inline(orphan.o);
        CHECK(failures, local_word(orphan.o) == local);
        CHECK(failures, obj_refcount(orphan.o) == 2);
        size_t live = test_live(orphan.heap); /* a call: this thread adopts the heap */
        local = local_word(orphan.o);
        obj_incref_inline(orphan.o);
#ifdef OBJ_INLINE_COUNTS
        CHECK(failures, local_word(orphan.o) == local + 1);
#endif
        CHECK(failures, obj_refcount(orphan.o) == 3);
        for (int i = 0; i < 3; ++i) obj_decref_inline(orphan.o);
        CHECK(failures, test_live(orphan.heap) == live - 1);
        obj_decref(orphan.cls);
    }
    if (orphan.heap != NULL) obj_heap_free(orphan.heap);
    return failures;
}

int objffi_c_test_counts(void) {
    int failures = test_inline_counts();
    atomic_store(&finalized, 0);
    obj_heap_t *heap = obj_heap_new();
    CHECK(failures, heap != NULL);

    obj_t *cls = NULL, *o = NULL;
    failures += new_counted_class(heap, "Counted", &cls);
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
