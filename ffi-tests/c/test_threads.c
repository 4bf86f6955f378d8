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
 *   __del__ and its child are freed by the main thread, which keeps the
 *   heap's gate between its calls, at its next call; or on that worker
 *   if the gate is free at that moment, after a worker's call).
 *
 * Afterwards every __del__ has run exactly once and the heap holds nothing
 * but the classes. The other tests below: objffi.h's inline lookups while
 * other threads count, a heap without its creator, the owner freeing while
 * another thread calls, heaps mixed across threads. ci/tsan.sh runs this
 * under ThreadSanitizer. */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>

#include "check.h"

enum { WORKERS = 4, NODES = 256, ROUNDS = 50 };

int objffi_c_test_threads(void);

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
    pthread_mutex_t calls; /* serialises calls on the heap (contract) */
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
    /* Any thread may collect (its calls serialised with the owner's). */
    pthread_mutex_lock(&s->calls);
    if (obj_gc_collect(s->heap, 0, NULL) != OBJ_OK) ++w->failures;
    pthread_mutex_unlock(&s->calls);
    for (int i = 0; i < NODES; ++i) obj_decref(s->nodes[i]); /* A: handed, B: own */
    atomic_fetch_add(&s->workers_done, 1);
    return NULL;
}

static size_t live(obj_heap_t *heap) {
    obj_heap_stats_t st;
    return obj_heap_stats(heap, &st) == OBJ_OK ? st.objects_live : (size_t)-1;
}

static int test_owner_counts_while_workers_count(void) {
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
    CHECK(failures, pthread_mutex_init(&s.calls, NULL) == 0);
    for (int k = 0; k < WORKERS; ++k) {
        workers[k] = (struct worker){.shared = &s, .failures = 0};
        CHECK(failures, pthread_create(&threads[k], NULL, work, &workers[k]) == 0);
    }
    pthread_barrier_wait(&s.counted);
    /* Group B: the workers hold their own references now; drop the owner's. */
    for (int i = NODES / 2; i < NODES; ++i) obj_decref(s.nodes[i]);
    /* Keep using the heap while the workers drop references. */
    while (atomic_load(&s.workers_done) < WORKERS) {
        obj_t *tmp = NULL;
        pthread_mutex_lock(&s.calls);
        CHECK_STATUS(failures, obj_alloc(leaf, &tmp), OBJ_OK);
        CHECK_STATUS(failures, obj_setattr_str(tmp, "n", obj_none(s.heap)), OBJ_OK);
        obj_decref(tmp);
        pthread_mutex_unlock(&s.calls);
    }
    for (int k = 0; k < WORKERS; ++k) {
        CHECK(failures, pthread_join(threads[k], NULL) == 0);
        failures += workers[k].failures;
    }
    pthread_barrier_destroy(&s.counted);
    pthread_mutex_destroy(&s.calls);

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

/* ----- objffi.h's inline lookups while other threads count -----------------------
 *
 * The owner holds HOLDERS objects, each with a `child`; each worker holds a
 * reference to every child (counted by the owner, handed over) and counts
 * the children up and down, with no call on the heap, while the owner
 * reads each holder's child through obj_getattr_inline and stores it back
 * through obj_setattr_inline: the owner's plain counts and the workers'
 * atomic ones meet in the same objects. Afterwards, with every reference
 * dropped, everything is freed (a count lost or doubled would leak or free
 * too early). */

enum { HOLDERS = 64 };

struct counting {
    obj_t *children[HOLDERS];
    pthread_barrier_t start;
    atomic_int done;
};

static void *count_children(void *arg) {
    struct counting *c = arg;
    pthread_barrier_wait(&c->start);
    for (int r = 0; r < ROUNDS; ++r) {
        for (int i = 0; i < HOLDERS; ++i) {
            obj_incref(c->children[i]);
            obj_decref(c->children[i]);
        }
    }
    for (int i = 0; i < HOLDERS; ++i) obj_decref(c->children[i]); /* handed over */
    atomic_fetch_add(&c->done, 1);
    return NULL;
}

static int test_inline_lookups_while_workers_count(void) {
    int failures = 0;
    static struct counting c;
    atomic_store(&c.done, 0);
    obj_heap_t *heap = obj_heap_new();
    CHECK(failures, heap != NULL);
    obj_t *holder = NULL, *leaf = NULL, *child_name = NULL, *holders[HOLDERS];
    CHECK_STATUS(failures, obj_type_new(heap, "Holder", NULL, 0, NULL, &holder), OBJ_OK);
    CHECK_STATUS(failures, obj_type_new(heap, "Leaf", NULL, 0, NULL, &leaf), OBJ_OK);
    CHECK_STATUS(failures, obj_intern(heap, "child", 5, &child_name), OBJ_OK);
    size_t base = live(heap);
    for (int i = 0; i < HOLDERS; ++i) {
        CHECK_STATUS(failures, obj_alloc(holder, &holders[i]), OBJ_OK);
        CHECK_STATUS(failures, obj_alloc(leaf, &c.children[i]), OBJ_OK);
        CHECK_STATUS(failures, obj_setattr(holders[i], child_name, c.children[i]), OBJ_OK);
        for (int k = 0; k < WORKERS; ++k) obj_incref(c.children[i]);
        obj_decref(c.children[i]); /* the holder keeps one */
    }
    pthread_t threads[WORKERS];
    CHECK(failures, pthread_barrier_init(&c.start, NULL, WORKERS + 1) == 0);
    for (int k = 0; k < WORKERS; ++k) {
        CHECK(failures, pthread_create(&threads[k], NULL, count_children, &c) == 0);
    }
    pthread_barrier_wait(&c.start);
    long lookups = 0;
    while (atomic_load(&c.done) < WORKERS || lookups < 4 * HOLDERS) {
        int i = (int)(lookups++ % HOLDERS);
        obj_t *got = NULL;
        CHECK_STATUS(failures, obj_getattr_inline(holders[i], child_name, &got), OBJ_OK);
        CHECK(failures, got == c.children[i]);
        CHECK_STATUS(failures, obj_setattr_inline(holders[i], child_name, got), OBJ_OK);
        obj_decref_inline(got);
    }
    for (int k = 0; k < WORKERS; ++k) CHECK(failures, pthread_join(threads[k], NULL) == 0);
    pthread_barrier_destroy(&c.start);
    /* The owner merges the counts the workers handed back (at its next
     * call: the inline lookups are none), then frees everything. */
    CHECK_STATUS(failures, obj_gc_collect(heap, -1, NULL), OBJ_OK);
    for (int i = 0; i < HOLDERS; ++i) obj_decref(holders[i]);
    CHECK(failures, live(heap) == base);
    obj_decref(holder);
    obj_decref(leaf);
    obj_heap_free(heap);
    return failures;
}

/* ----- a heap that belongs to no thread (contract 1.1) ---------------------------
 *
 * A creator thread makes the heap, a class with a counting __del__ and
 * SHARED objects it counted, hands one reference to each of two workers,
 * and then either exits or idles (blocked until the end). The workers make
 * all further calls, serialised by a mutex: each builds PAIRS two-object
 * cycles and drops them (automatic collections on the workers must free
 * them, so the live objects stay bounded), and drops its shared references
 * (counts the creator made: with the creator gone, the next thread in
 * adopts the heap and merges them; while it idles, they wait for it or for
 * a thread that calls obj_heap_adopt). In the end everything is freed and
 * every __del__ ran once. */

/* LEFT: what stays alive: the class, its __del__, and the interned names
 * "Node", "__del__" and "other". Without the workers' collections, 4 *
 * PAIRS objects would pile up: LIVE_BOUND is well below. Debug builds
 * (valgrind, sanitizers) run a quarter of the pairs. */
#ifdef OBJFFI_TEST_FULL_SIZE
enum { PAIRS = 20000 };
#else
enum { PAIRS = 5000 };
#endif
enum { SHARED = 64, LIVE_BOUND = 2 * PAIRS, LEFT = 5 };

struct ownerless {
    obj_heap_t *heap;
    obj_t *node;               /* the class */
    obj_t *shared[2][SHARED];  /* one reference per worker */
    pthread_mutex_t calls;
    pthread_mutex_t idle;      /* the idle creator waits on it */
    int creator_exits;
    atomic_int made;           /* the creator has made everything */
    size_t max_live;           /* highest objects_live the workers saw */
    int failures;
};

static void *create(void *arg) {
    struct ownerless *o = arg;
    o->heap = obj_heap_new();
    if (o->heap == NULL) {
        ++o->failures;
        atomic_store(&o->made, 1);
        return NULL;
    }
    obj_t *del = NULL;
    if (obj_type_new(o->heap, "Node", NULL, 0, NULL, &o->node) != OBJ_OK ||
        obj_function_new(o->heap, "__del__", count_del, o->heap, &del) != OBJ_OK ||
        obj_setattr_str(o->node, "__del__", del) != OBJ_OK) {
        ++o->failures;
    }
    obj_decref(del);
    for (int i = 0; i < SHARED; ++i) {
        obj_t *n = NULL;
        if (obj_alloc(o->node, &n) != OBJ_OK) {
            ++o->failures;
            continue;
        }
        obj_incref(n); /* counted here, dropped by a worker */
        o->shared[0][i] = n;
        o->shared[1][i] = n;
    }
    atomic_store(&o->made, 1);
    if (!o->creator_exits) {
        pthread_mutex_lock(&o->idle); /* held by the main thread until the end */
        pthread_mutex_unlock(&o->idle);
    }
    return NULL;
}

struct ownerless_worker {
    struct ownerless *o;
    int index;
    int failures;
};

static void *churn(void *arg) {
    struct ownerless_worker *w = arg;
    struct ownerless *o = w->o;
    for (int i = 0; i < PAIRS; ++i) {
        obj_t *a = NULL, *b = NULL;
        pthread_mutex_lock(&o->calls);
        if (obj_alloc(o->node, &a) != OBJ_OK || obj_alloc(o->node, &b) != OBJ_OK ||
            obj_setattr_str(a, "other", b) != OBJ_OK || obj_setattr_str(b, "other", a) != OBJ_OK) {
            ++w->failures;
        }
        obj_decref(a);
        obj_decref(b);
        if (i % 1000 == 0) {
            size_t now = live(o->heap);
            if (now > o->max_live) o->max_live = now;
        }
        pthread_mutex_unlock(&o->calls);
        if (i == PAIRS / 2) {
            for (int k = 0; k < SHARED; ++k) obj_decref(o->shared[w->index][k]);
        }
    }
    return NULL;
}

static int test_heap_without_its_creator(int creator_exits) {
    int failures = 0;
    static struct ownerless o;
    memset(&o, 0, sizeof o);
    o.creator_exits = creator_exits;
    atomic_store(&finalized, 0);
    CHECK(failures, pthread_mutex_init(&o.calls, NULL) == 0);
    CHECK(failures, pthread_mutex_init(&o.idle, NULL) == 0);
    pthread_mutex_lock(&o.idle);
    pthread_t creator, workers[2];
    CHECK(failures, pthread_create(&creator, NULL, create, &o) == 0);
    if (creator_exits) CHECK(failures, pthread_join(creator, NULL) == 0);
    while (!atomic_load(&o.made)) sched_yield();
    struct ownerless_worker w[2];
    for (int k = 0; k < 2; ++k) {
        w[k] = (struct ownerless_worker){.o = &o, .index = k, .failures = 0};
        CHECK(failures, pthread_create(&workers[k], NULL, churn, &w[k]) == 0);
    }
    for (int k = 0; k < 2; ++k) {
        CHECK(failures, pthread_join(workers[k], NULL) == 0);
        failures += w[k].failures;
    }
    failures += o.failures;
    /* The workers' automatic collections kept the cycles in check. */
    if (o.max_live > LIVE_BOUND) {
        fprintf(stderr, "creator %s: %zu objects alive at once (bound %d)\n",
                creator_exits ? "exited" : "idle", o.max_live, LIVE_BOUND);
        ++failures;
    }
    if (!creator_exits) {
        /* The idle creator still owns the heap: the references it counted
         * and the workers dropped wait for it to merge them. This thread
         * takes the heap over (the creator stopped counting before `made`),
         * and its next call merges them. */
        CHECK_STATUS(failures, obj_gc_collect(o.heap, -1, NULL), OBJ_OK);
        CHECK(failures, atomic_load(&finalized) == 4 * PAIRS);
        CHECK_STATUS(failures, obj_heap_adopt(o.heap), OBJ_OK);
    }
    /* With the creator gone, this thread adopted the heap on entering. */
    CHECK_STATUS(failures, obj_gc_collect(o.heap, -1, NULL), OBJ_OK);
    if (atomic_load(&finalized) != SHARED + 4 * PAIRS || live(o.heap) != LEFT) {
        fprintf(stderr, "creator %s: %d finalised (expected %d), %zu alive (expected %d)\n",
                creator_exits ? "exited" : "idle", atomic_load(&finalized), SHARED + 4 * PAIRS,
                live(o.heap), LEFT);
        ++failures;
    }
    pthread_mutex_unlock(&o.idle);
    if (!creator_exits) CHECK(failures, pthread_join(creator, NULL) == 0);
    obj_decref(o.node);
    CHECK_STATUS(failures, obj_heap_check(o.heap), OBJ_OK);
    obj_heap_free(o.heap);
    pthread_mutex_destroy(&o.calls);
    pthread_mutex_destroy(&o.idle);
    return failures;
}

/* ----- the owner frees between its calls while another thread calls --------------
 *
 * The owner keeps the heap's gate between its calls; another thread's call
 * takes it over. Decrefs are not serialised with calls (contract), so the
 * owner's last decref of an object, made outside its calls, races the
 * other thread's calls: the owner makes each object inside the calls
 * mutex and drops it outside, where its __del__ (host code, which calls
 * in) runs while the worker may be taking the gate over. Every __del__
 * runs once and the worker's own objects are all freed; ci/tsan.sh runs
 * this under ThreadSanitizer. */

enum { RACING_OBJECTS = 20000 };

struct racing {
    obj_heap_t *heap;
    obj_t *node, *leaf;
    pthread_mutex_t calls;
    int failures;
};

static void *call_while_the_owner_frees(void *arg) {
    struct racing *r = arg;
    for (int i = 0; i < RACING_OBJECTS; ++i) {
        obj_t *t = NULL;
        pthread_mutex_lock(&r->calls);
        if (obj_alloc(r->leaf, &t) != OBJ_OK || obj_setattr_str(t, "n", obj_none(r->heap)) != OBJ_OK) {
            ++r->failures;
        }
        obj_decref(t); /* its last reference, inside this thread's calls */
        pthread_mutex_unlock(&r->calls);
    }
    return NULL;
}

static int test_owner_frees_while_another_thread_calls(void) {
    int failures = 0;
    static struct racing r;
    memset(&r, 0, sizeof r);
    atomic_store(&finalized, 0);
    r.heap = obj_heap_new();
    CHECK(failures, r.heap != NULL);
    obj_t *del = NULL;
    CHECK_STATUS(failures, obj_type_new(r.heap, "Node", NULL, 0, NULL, &r.node), OBJ_OK);
    CHECK_STATUS(failures, obj_type_new(r.heap, "Leaf", NULL, 0, NULL, &r.leaf), OBJ_OK);
    CHECK_STATUS(failures, obj_function_new(r.heap, "__del__", count_del, r.heap, &del), OBJ_OK);
    CHECK_STATUS(failures, obj_setattr_str(r.node, "__del__", del), OBJ_OK);
    obj_decref(del);
    obj_t *n = NULL;
    CHECK_STATUS(failures, obj_intern(r.heap, "n", 1, &n), OBJ_OK);
    size_t base = live(r.heap);
    CHECK(failures, pthread_mutex_init(&r.calls, NULL) == 0);
    pthread_t worker;
    CHECK(failures, pthread_create(&worker, NULL, call_while_the_owner_frees, &r) == 0);
    for (int i = 0; i < RACING_OBJECTS; ++i) {
        obj_t *o = NULL;
        pthread_mutex_lock(&r.calls);
        CHECK_STATUS(failures, obj_alloc(r.node, &o), OBJ_OK);
        pthread_mutex_unlock(&r.calls);
        obj_decref(o); /* the last reference, outside any call */
    }
    CHECK(failures, pthread_join(worker, NULL) == 0);
    failures += r.failures;
    CHECK(failures, atomic_load(&finalized) == RACING_OBJECTS);
    CHECK(failures, live(r.heap) == base);
    pthread_mutex_destroy(&r.calls);
    obj_decref(n);
    obj_decref(r.node);
    obj_decref(r.leaf);
    CHECK_STATUS(failures, obj_heap_check(r.heap), OBJ_OK);
    obj_heap_free(r.heap);
    return failures;
}

/* ----- two heaps mixed by mistake on two threads ----------------------------------
 *
 * Each thread makes calls on its own heap, passing an object of the other
 * heap: every call fails at once with OBJ_ERR_HEAP_MISMATCH, before taking
 * the other heap's gate (taking both, in opposite orders, would deadlock). */

enum { MIXED_CALLS = 2000 };

struct mixed {
    obj_t *mine, *theirs;
    int failures;
};

static void *mix(void *arg) {
    struct mixed *m = arg;
    for (int i = 0; i < MIXED_CALLS; ++i) {
        if (obj_setattr_str(m->mine, "x", m->theirs) != OBJ_ERR_HEAP_MISMATCH) ++m->failures;
    }
    return NULL;
}

static int test_mixed_heaps_fail_at_once(void) {
    int failures = 0;
    obj_heap_t *heaps[2] = {obj_heap_new(), obj_heap_new()};
    obj_t *cls[2] = {NULL, NULL}, *objs[2] = {NULL, NULL};
    for (int k = 0; k < 2; ++k) {
        CHECK(failures, heaps[k] != NULL);
        CHECK_STATUS(failures, obj_type_new(heaps[k], "M", NULL, 0, NULL, &cls[k]), OBJ_OK);
        CHECK_STATUS(failures, obj_alloc(cls[k], &objs[k]), OBJ_OK);
    }
    struct mixed m[2] = {{objs[0], objs[1], 0}, {objs[1], objs[0], 0}};
    pthread_t t[2];
    for (int k = 0; k < 2; ++k) CHECK(failures, pthread_create(&t[k], NULL, mix, &m[k]) == 0);
    for (int k = 0; k < 2; ++k) {
        CHECK(failures, pthread_join(t[k], NULL) == 0);
        failures += m[k].failures;
    }
    for (int k = 0; k < 2; ++k) {
        obj_decref(objs[k]);
        obj_decref(cls[k]);
        obj_heap_free(heaps[k]);
    }
    return failures;
}

int objffi_c_test_threads(void) {
    int failures = test_owner_counts_while_workers_count();
    failures += test_owner_frees_while_another_thread_calls();
    failures += test_inline_lookups_while_workers_count();
    failures += test_mixed_heaps_fail_at_once();
    failures += test_heap_without_its_creator(1);
    failures += test_heap_without_its_creator(0);
    return failures;
}
