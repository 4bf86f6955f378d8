/* The threading rule of the contract: obj_incref and obj_decref from any
 * thread at any time, and objects whose last reference drops on a thread
 * that does not own the heap are freed safely.
 *
 * The main thread creates the heap (it owns it) and 256 `Node`s, each with
 * a `Leaf` child and a __del__ that counts. Four workers then count every
 * node up and down for a while and drop their references, while the main
 * thread keeps making calls on the heap:
 *
 * - group A: the owner hands each worker a reference it counted (owner-side
 *   counts dropped elsewhere: the owner merges them at its next call);
 * - group B: each worker counts its own reference before the owner drops
 *   the owner's (the last reference drops on a worker: the node, its
 *   __del__ and its child are freed on that worker, or by the main thread
 *   if it is inside a call at that moment).
 *
 * Afterwards every __del__ has run exactly once and the heap holds nothing
 * but the classes. ci/tsan.sh runs this under ThreadSanitizer. */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdatomic.h>

#include "check.h"

enum { WORKERS = 4, NODES = 256, ROUNDS = 50 };

static atomic_int finalized;

static obj_status_t count_del(void *data, obj_t *const *args, size_t nargs, obj_t **result) {
    (void)args;
    (void)nargs;
    atomic_fetch_add(&finalized, 1);
    *result = obj_none((obj_heap_t *)data);
    return OBJ_OK;
}

struct shared {
    obj_heap_t *heap;
    obj_t *nodes[NODES]; /* the first half is group A, the rest group B */
    pthread_barrier_t counted;
    atomic_int workers_done;
};

struct worker {
    struct shared *shared;
    int failures;
};

static void *work(void *arg) {
    struct worker *w = arg;
    struct shared *s = w->shared;
    for (int i = NODES / 2; i < NODES; ++i) obj_incref(s->nodes[i]); /* group B */
    pthread_barrier_wait(&s->counted);
    for (int r = 0; r < ROUNDS; ++r) {
        for (int i = 0; i < NODES; ++i) {
            obj_incref(s->nodes[i]);
            obj_decref(s->nodes[i]);
        }
    }
    /* A collection reads counts only the owner keeps: not on this thread. */
    if (obj_gc_collect(s->heap, 0, NULL) != OBJ_ERR_THREAD) ++w->failures;
    for (int i = 0; i < NODES; ++i) obj_decref(s->nodes[i]); /* A: handed, B: own */
    atomic_fetch_add(&s->workers_done, 1);
    return NULL;
}

static size_t live(obj_heap_t *heap) {
    obj_heap_stats_t st;
    return obj_heap_stats(heap, &st) == OBJ_OK ? st.objects_live : (size_t)-1;
}

int objffi_c_test_threads(void) {
    int failures = 0;
    static struct shared s;
    s.heap = obj_heap_new();
    CHECK(failures, s.heap != NULL);
    atomic_store(&s.workers_done, 0);
    atomic_store(&finalized, 0);

    obj_t *node = NULL, *leaf = NULL, *del = NULL;
    CHECK_STATUS(failures, obj_type_new(s.heap, "Node", NULL, 0, NULL, &node), OBJ_OK);
    CHECK_STATUS(failures, obj_type_new(s.heap, "Leaf", NULL, 0, NULL, &leaf), OBJ_OK);
    CHECK_STATUS(failures, obj_function_new(s.heap, "__del__", count_del, s.heap, &del), OBJ_OK);
    CHECK_STATUS(failures, obj_setattr_str(node, "__del__", del), OBJ_OK);
    obj_decref(del);
    /* Attribute names are interned (and stay): make them before counting. */
    obj_t *names[2] = {NULL, NULL};
    CHECK_STATUS(failures, obj_intern(s.heap, "child", 5, &names[0]), OBJ_OK);
    CHECK_STATUS(failures, obj_intern(s.heap, "n", 1, &names[1]), OBJ_OK);
    size_t base = live(s.heap);

    for (int i = 0; i < NODES; ++i) {
        obj_t *child = NULL;
        CHECK_STATUS(failures, obj_alloc(node, &s.nodes[i]), OBJ_OK);
        CHECK_STATUS(failures, obj_alloc(leaf, &child), OBJ_OK);
        CHECK_STATUS(failures, obj_setattr_str(s.nodes[i], "child", child), OBJ_OK);
        obj_decref(child);
    }
    /* Group A: one reference per worker, counted here; the owner's own goes. */
    for (int i = 0; i < NODES / 2; ++i) {
        for (int k = 0; k < WORKERS; ++k) obj_incref(s.nodes[i]);
        obj_decref(s.nodes[i]);
    }
    CHECK(failures, live(s.heap) == base + 2 * NODES);

    pthread_t threads[WORKERS];
    struct worker workers[WORKERS];
    CHECK(failures, pthread_barrier_init(&s.counted, NULL, WORKERS + 1) == 0);
    for (int k = 0; k < WORKERS; ++k) {
        workers[k] = (struct worker){.shared = &s, .failures = 0};
        CHECK(failures, pthread_create(&threads[k], NULL, work, &workers[k]) == 0);
    }
    pthread_barrier_wait(&s.counted);
    /* Group B: the workers hold their own references now; drop the owner's. */
    for (int i = NODES / 2; i < NODES; ++i) obj_decref(s.nodes[i]);
    /* Keep using the heap while the workers drop references. */
    int calls = 0;
    while (atomic_load(&s.workers_done) < WORKERS) {
        obj_t *tmp = NULL;
        CHECK_STATUS(failures, obj_alloc(leaf, &tmp), OBJ_OK);
        CHECK_STATUS(failures, obj_setattr_str(tmp, "n", obj_none(s.heap)), OBJ_OK);
        obj_decref(tmp);
        ++calls;
    }
    for (int k = 0; k < WORKERS; ++k) {
        CHECK(failures, pthread_join(threads[k], NULL) == 0);
        failures += workers[k].failures;
    }
    pthread_barrier_destroy(&s.counted);
    CHECK(failures, calls > 0);

    /* The owner merges what the workers handed back and frees the rest. */
    CHECK_STATUS(failures, obj_gc_collect(s.heap, -1, NULL), OBJ_OK);
    CHECK(failures, atomic_load(&finalized) == NODES);
    CHECK(failures, live(s.heap) == base);

    obj_decref(names[0]);
    obj_decref(names[1]);
    obj_decref(node);
    obj_decref(leaf);
    obj_heap_free(s.heap);
    return failures;
}
