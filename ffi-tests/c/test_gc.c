/* Cycle collection and weak references through the C ABI: cycles that
 * reference counting cannot free are collected, reachable objects never
 * are, __del__ runs once (and may resurrect), weak references are cleared
 * with their callbacks run, automatic collection, and the bad inputs. */
#define _POSIX_C_SOURCE 200809L /* fileno, getpid */
#include <unistd.h>

#include "check.h"

static int callbacks_run;

/* A weak-reference callback: counts its calls and checks its argument is
 * the (now dead) weak reference. */
static obj_status_t on_death(void *data, obj_t *const *args, size_t nargs, obj_t **result) {
    obj_heap_t *heap = data;
    obj_t *target = NULL;
    ++callbacks_run;
    if (nargs != 1 || obj_weakref_get(args[0], &target) != OBJ_OK) return OBJ_ERR_TYPE;
    obj_status_t st = target == obj_none(heap) ? OBJ_OK : OBJ_ERR_VALUE;
    obj_decref(target);
    *result = obj_none(heap);
    return st;
}

static int dels_run;

/* __del__: counts, and resurrects `self` into the list in self.home once. */
static obj_status_t del_hook(void *data, obj_t *const *args, size_t nargs, obj_t **result) {
    obj_heap_t *heap = data;
    obj_t *home = NULL;
    (void)nargs;
    ++dels_run;
    if (obj_getattr_str(args[0], "home", &home) == OBJ_OK) {
        ignore_status(obj_list_append(home, args[0]));
        obj_decref(home);
    }
    *result = obj_none(heap);
    return OBJ_OK;
}

static size_t live(obj_heap_t *heap) {
    obj_heap_stats_t s;
    return obj_heap_stats(heap, &s) == OBJ_OK ? s.objects_live : (size_t)-1;
}

/* Full collections while `n` live objects are made (a heap that only
 * grows), with the growth rule at `percent` (-1: left at its default). */
static size_t full_collections_growing(int percent, int n, int *failures) {
    obj_heap_t *heap = obj_heap_new();
    obj_t *cls = NULL, *name = NULL;
    CHECK_STATUS(*failures, obj_type_new(heap, "Node", NULL, 0, NULL, &cls), OBJ_OK);
    CHECK_STATUS(*failures, obj_intern(heap, "next", 4, &name), OBJ_OK);
    if (percent >= 0) CHECK_STATUS(*failures, obj_gc_set_full_growth(heap, (size_t)percent), OBJ_OK);
    obj_t *last = obj_none(heap);
    for (int i = 0; i < n; ++i) {
        obj_t *t = NULL;
        CHECK_STATUS(*failures, obj_alloc(cls, &t), OBJ_OK);
        CHECK_STATUS(*failures, obj_setattr(t, name, last), OBJ_OK);
        obj_decref(last);
        last = t;
    }
    obj_gc_stats_t gs;
    CHECK_STATUS(*failures, obj_gc_stats(heap, &gs), OBJ_OK);
    obj_decref(last);
    obj_decref(name);
    obj_decref(cls);
    obj_heap_free(heap);
    return gs.collections_by_generation[2];
}

/* The growth rule (obj_gc_set_full_growth): by default a full collection
 * comes each time the tracked objects grow by a third; a larger growth
 * means fewer; 0 leaves CPython's rules alone (ten generation-1
 * collections, 70,000 allocations at the default thresholds, and a quarter
 * more long-lived objects than the last full collection left): none here. */
static int full_collections_of_a_growing_heap(void) {
    int failures = 0;
    size_t by_default = full_collections_growing(-1, 30000, &failures);
    size_t at_33 = full_collections_growing(33, 30000, &failures);
    size_t at_300 = full_collections_growing(300, 30000, &failures);
    size_t off = full_collections_growing(0, 30000, &failures);
    CHECK(failures, by_default == at_33);
    CHECK(failures, at_300 < by_default);
    CHECK(failures, off == 0);
    CHECK_STATUS(failures, obj_gc_set_full_growth(NULL, 10), OBJ_ERR_NULL_ARG);
    fprintf(stderr, "full collections while growing to 30,000 objects: %zu by default, %zu at 300%%, %zu off\n",
            by_default, at_300, off);
    return failures;
}

/* Whether the list `list` holds `o`. */
static bool list_holds(obj_t *list, obj_t *o) {
    size_t n = 0;
    if (obj_len(list, &n) != OBJ_OK) return false;
    for (size_t i = 0; i < n; ++i) {
        obj_t *item = NULL;
        if (obj_seq_get(list, (int64_t)i, &item) != OBJ_OK) return false;
        obj_decref(item);
        if (item == o) return true;
    }
    return false;
}

static size_t list_len(obj_t *list) {
    size_t n = (size_t)-1;
    ignore_status(obj_len(list, &n));
    return n;
}

/* Counts the collection callback's calls: [0] starts, [1] stops; [2] the
 * `collected` figure of the last stop. */
static void count_phases(void *data, int32_t phase, int32_t generation, size_t collected,
                         size_t uncollectable) {
    size_t *seen = data;
    (void)generation;
    (void)uncollectable;
    seen[phase == 0 ? 0 : 1] += 1;
    if (phase == 1) seen[2] = collected;
}

/* CPython's gc module through the C ABI: referents and referrers, tracked
 * objects, freeze, DEBUG_SAVEALL's garbage, callbacks, and bad input. */
static int looking_into_the_heap(void) {
    int failures = 0;
    obj_heap_t *heap = obj_heap_new();
    obj_gc_disable(heap);
    obj_t *node = NULL, *a = NULL, *b = NULL, *list = NULL, *seven = NULL;
    CHECK_STATUS(failures, obj_type_new(heap, "Node", NULL, 0, NULL, &node), OBJ_OK);
    CHECK_STATUS(failures, obj_alloc(node, &a), OBJ_OK);
    CHECK_STATUS(failures, obj_alloc(node, &b), OBJ_OK);
    CHECK_STATUS(failures, obj_int_new(heap, 7, &seven), OBJ_OK);
    CHECK_STATUS(failures, obj_setattr_str(a, "other", b), OBJ_OK);
    CHECK_STATUS(failures, obj_setattr_str(a, "n", seven), OBJ_OK);
    CHECK_STATUS(failures, obj_setattr_str(b, "other", a), OBJ_OK);

    CHECK_STATUS(failures, obj_gc_referents(a, &list), OBJ_OK);
    CHECK(failures, list_len(list) == 3);
    CHECK(failures, list_holds(list, node) && list_holds(list, b) && list_holds(list, seven));
    obj_decref(list);
    CHECK_STATUS(failures, obj_gc_referrers(a, &list), OBJ_OK);
    CHECK(failures, list_len(list) == 1 && list_holds(list, b));
    obj_decref(list);
    CHECK(failures, obj_gc_is_tracked(a) && obj_gc_is_tracked(node));
    CHECK(failures, !obj_gc_is_tracked(seven) && !obj_gc_is_tracked(NULL));
    CHECK_STATUS(failures, obj_gc_get_objects(heap, -1, &list), OBJ_OK);
    CHECK(failures, list_holds(list, a) && list_holds(list, b) && !list_holds(list, list));
    obj_decref(list);
    CHECK_STATUS(failures, obj_gc_get_objects(heap, 2, &list), OBJ_OK);
    CHECK(failures, !list_holds(list, a)); /* still young */
    obj_decref(list);

    /* Frozen: the dropped cycle is not found until unfrozen. */
    CHECK_STATUS(failures, obj_gc_freeze(heap), OBJ_OK);
    CHECK(failures, obj_gc_freeze_count(heap) >= 3);
    obj_decref(a);
    obj_decref(b);
    size_t found = 99;
    CHECK_STATUS(failures, obj_gc_collect(heap, -1, &found), OBJ_OK);
    CHECK(failures, found == 0);
    CHECK_STATUS(failures, obj_gc_unfreeze(heap), OBJ_OK);
    CHECK(failures, obj_gc_freeze_count(heap) == 0);
    CHECK_STATUS(failures, obj_gc_collect(heap, -1, &found), OBJ_OK);
    CHECK(failures, found == 2);

    /* DEBUG_SAVEALL keeps what a collection finds, intact; callbacks see it. */
    size_t seen[3] = {0, 0, 0};
    CHECK_STATUS(failures, obj_gc_set_callback(heap, count_phases, seen), OBJ_OK);
    CHECK_STATUS(failures, obj_gc_set_debug(heap, OBJ_GC_DEBUG_SAVEALL), OBJ_OK);
    CHECK_STATUS(failures, obj_alloc(node, &a), OBJ_OK);
    CHECK_STATUS(failures, obj_alloc(node, &b), OBJ_OK);
    CHECK_STATUS(failures, obj_setattr_str(a, "other", b), OBJ_OK);
    CHECK_STATUS(failures, obj_setattr_str(b, "other", a), OBJ_OK);
    obj_t *kept_a = a; /* compared by address only */
    obj_decref(a);
    obj_decref(b);
    CHECK_STATUS(failures, obj_gc_collect(heap, -1, &found), OBJ_OK);
    CHECK(failures, found == 2);
    CHECK_STATUS(failures, obj_gc_garbage(heap, &list), OBJ_OK);
    CHECK(failures, list_len(list) == 2 && list_holds(list, kept_a));
    obj_t *other = NULL;
    CHECK_STATUS(failures, obj_getattr_str(kept_a, "other", &other), OBJ_OK); /* intact */
    CHECK(failures, list_holds(list, other));
    obj_decref(other);
    obj_decref(list);
    CHECK_STATUS(failures, obj_gc_set_debug(heap, 0), OBJ_OK);
    CHECK_STATUS(failures, obj_gc_release_garbage(heap), OBJ_OK);
    CHECK_STATUS(failures, obj_gc_collect(heap, -1, &found), OBJ_OK);
    CHECK(failures, found == 2);
    CHECK(failures, seen[0] == 2 && seen[1] == 2 && seen[2] >= 4);
    CHECK_STATUS(failures, obj_gc_set_callback(heap, NULL, NULL), OBJ_OK);
    CHECK_STATUS(failures, obj_gc_collect(heap, -1, &found), OBJ_OK);
    CHECK(failures, seen[0] == 2); /* removed */

    /* A snapshot of the heap, read back: JSON with this heap's objects in it
     * (tests/snapshot.rs of objmodel checks the format field by field). */
    static const char head[] = "{\"format\":\"objrt-heap-snapshot\",\"version\":1,";
    char path[64];
    snprintf(path, sizeof path, "/tmp/objrt-test-snapshot-%ld.json", (long)getpid());
    CHECK_STATUS(failures, obj_heap_snapshot(heap, path), OBJ_OK);
    FILE *f = fopen(path, "r");
    CHECK(failures, f != NULL);
    if (f != NULL) {
        static char text[1 << 16];
        size_t n = fread(text, 1, sizeof text - 1, f);
        text[n] = '\0';
        fclose(f);
        char node_id[40];
        snprintf(node_id, sizeof node_id, "{\"id\":%lu,", (unsigned long)(uintptr_t)node);
        CHECK(failures, strncmp(text, head, sizeof head - 1) == 0);
        CHECK(failures, strstr(text, node_id) != NULL);
        CHECK(failures, strstr(text, "\"arenas\":[") != NULL);
    }
    remove(path);
    CHECK_ERROR(failures, obj_heap_snapshot(heap, "/nonexistent-dir/x.json"), OBJ_ERR_VALUE,
                "obj_heap_snapshot: cannot write '/nonexistent-dir/x.json': No such file or "
                "directory (os error 2)");
    CHECK_STATUS(failures, obj_heap_snapshot(heap, NULL), OBJ_ERR_NULL_ARG);
    /* The same document through a descriptor the host keeps open. */
    FILE *tmp = tmpfile();
    CHECK(failures, tmp != NULL);
    if (tmp != NULL) {
        CHECK_STATUS(failures, obj_heap_snapshot_fd(heap, fileno(tmp)), OBJ_OK);
        CHECK_STATUS(failures, obj_heap_snapshot_fd(heap, fileno(tmp)), OBJ_OK); /* still open */
        long size = fseek(tmp, 0, SEEK_END) == 0 ? ftell(tmp) : -1;
        rewind(tmp);
        static char start[64];
        size_t got = fread(start, 1, sizeof start - 1, tmp);
        start[got] = '\0';
        CHECK(failures, size > 100 && strncmp(start, head, sizeof head - 1) == 0);
        fclose(tmp);
    }
    CHECK_ERROR(failures, obj_heap_snapshot_fd(heap, -1), OBJ_ERR_VALUE,
                "obj_heap_snapshot_fd: invalid file descriptor -1");
    CHECK_STATUS(failures, obj_heap_snapshot(NULL, path), OBJ_ERR_NULL_ARG);

    /* Bad input. */
    CHECK_STATUS(failures, obj_gc_referents(NULL, &list), OBJ_ERR_NULL_ARG);
    CHECK_STATUS(failures, obj_gc_referrers(node, NULL), OBJ_ERR_NULL_ARG);
    CHECK_ERROR(failures, obj_gc_get_objects(heap, 3, &list), OBJ_ERR_VALUE,
                "obj_gc_get_objects: invalid generation 3 (0..2, or -1 for all)");
    CHECK_ERROR(failures, obj_gc_set_debug(heap, 1), OBJ_ERR_VALUE,
                "obj_gc_set_debug: unknown debug flags 0x1 (only OBJ_GC_DEBUG_SAVEALL)");
    CHECK_STATUS(failures, obj_gc_freeze(NULL), OBJ_ERR_NULL_ARG);
    CHECK(failures, obj_gc_freeze_count(NULL) == 0);
    obj_decref(seven);
    obj_decref(node);
    obj_heap_free(heap);
    return failures;
}

int objffi_c_test_gc(void) {
    int failures = 0;
    obj_heap_t *heap = obj_heap_new();
    CHECK(failures, heap != NULL);
    obj_gc_disable(heap);
    CHECK(failures, !obj_gc_is_enabled(heap));

    obj_t *node = NULL;
    CHECK_STATUS(failures, obj_type_new(heap, "Node", NULL, 0, NULL, &node), OBJ_OK);
    obj_t *name = NULL;
    CHECK_STATUS(failures, obj_intern(heap, "other", 5, &name), OBJ_OK);
    size_t before = live(heap);

    /* 100 two-object cycles: refcounting frees none of them. */
    for (int i = 0; i < 100; ++i) {
        obj_t *a = NULL, *b = NULL;
        CHECK_STATUS(failures, obj_alloc(node, &a), OBJ_OK);
        CHECK_STATUS(failures, obj_alloc(node, &b), OBJ_OK);
        CHECK_STATUS(failures, obj_setattr(a, name, b), OBJ_OK);
        CHECK_STATUS(failures, obj_setattr(b, name, a), OBJ_OK);
        obj_decref(a);
        obj_decref(b);
    }
    CHECK(failures, live(heap) == before + 200);
    size_t collected = 0;
    CHECK_STATUS(failures, obj_gc_collect(heap, -1, &collected), OBJ_OK);
    CHECK(failures, collected == 200);
    CHECK(failures, live(heap) == before);
    CHECK_STATUS(failures, obj_gc_collect(heap, 0, NULL), OBJ_OK); /* `collected` may be NULL */

    /* A reachable cycle survives. */
    obj_t *keep = NULL, *a = NULL, *b = NULL;
    CHECK_STATUS(failures, obj_list_new(heap, &keep), OBJ_OK);
    CHECK_STATUS(failures, obj_alloc(node, &a), OBJ_OK);
    CHECK_STATUS(failures, obj_alloc(node, &b), OBJ_OK);
    CHECK_STATUS(failures, obj_setattr(a, name, b), OBJ_OK);
    CHECK_STATUS(failures, obj_setattr(b, name, a), OBJ_OK);
    CHECK_STATUS(failures, obj_list_append(keep, a), OBJ_OK);
    obj_decref(a);
    obj_decref(b);
    CHECK_STATUS(failures, obj_gc_collect(heap, 2, &collected), OBJ_OK);
    CHECK(failures, collected == 0);
    obj_t *got = NULL, *other = NULL;
    CHECK_STATUS(failures, obj_seq_get(keep, 0, &got), OBJ_OK);
    CHECK_STATUS(failures, obj_getattr(got, name, &other), OBJ_OK);
    CHECK(failures, obj_type_of(other) == node);
    obj_decref(other);
    obj_decref(got);
    CHECK_STATUS(failures, obj_list_set(keep, 0, obj_none(heap)), OBJ_OK);
    CHECK_STATUS(failures, obj_gc_collect(heap, 2, &collected), OBJ_OK);
    CHECK(failures, collected == 2);

    /* Weak references: cleared when the target dies, callback called. */
    obj_t *cb = NULL, *target = NULL, *ref = NULL, *seen = NULL;
    CHECK_STATUS(failures, obj_function_new(heap, "on_death", on_death, heap, &cb), OBJ_OK);
    CHECK_STATUS(failures, obj_alloc(node, &target), OBJ_OK);
    CHECK_STATUS(failures, obj_weakref_new(target, cb, &ref), OBJ_OK);
    CHECK_STATUS(failures, obj_weakref_get(ref, &seen), OBJ_OK);
    CHECK(failures, seen == target);
    obj_decref(seen);
    CHECK(failures, obj_refcount(target) == 1);
    obj_decref(target);
    CHECK(failures, callbacks_run == 1);
    CHECK_STATUS(failures, obj_weakref_get(ref, &seen), OBJ_OK);
    CHECK(failures, seen == obj_none(heap));
    obj_decref(ref);

    /* ...and when the target dies in a cycle. */
    CHECK_STATUS(failures, obj_alloc(node, &a), OBJ_OK);
    CHECK_STATUS(failures, obj_alloc(node, &b), OBJ_OK);
    CHECK_STATUS(failures, obj_setattr(a, name, b), OBJ_OK);
    CHECK_STATUS(failures, obj_setattr(b, name, a), OBJ_OK);
    CHECK_STATUS(failures, obj_weakref_new(a, cb, &ref), OBJ_OK);
    obj_decref(a);
    obj_decref(b);
    CHECK_STATUS(failures, obj_gc_collect(heap, -1, &collected), OBJ_OK);
    CHECK(failures, collected == 2);
    CHECK(failures, callbacks_run == 2);
    obj_decref(ref);

    /* Values cannot be weakly referenced; a non-weakref cannot be read. */
    obj_t *i = NULL;
    CHECK_STATUS(failures, obj_int_new(heap, 1000, &i), OBJ_OK);
    CHECK_ERROR(failures, obj_weakref_new(i, NULL, &ref), OBJ_ERR_TYPE,
                "cannot create weak reference to 'int' object");
    CHECK_STATUS(failures, obj_weakref_get(i, &seen), OBJ_ERR_TYPE);
    obj_decref(i);

    /* __del__ in a cycle: runs once; resurrection keeps the object intact. */
    obj_t *del = NULL, *home = NULL, *x = NULL;
    CHECK_STATUS(failures, obj_function_new(heap, "__del__", del_hook, heap, &del), OBJ_OK);
    CHECK_STATUS(failures, obj_setattr_str(node, "__del__", del), OBJ_OK);
    CHECK_STATUS(failures, obj_list_new(heap, &home), OBJ_OK);
    CHECK_STATUS(failures, obj_alloc(node, &x), OBJ_OK);
    CHECK_STATUS(failures, obj_setattr_str(x, "home", home), OBJ_OK);
    CHECK_STATUS(failures, obj_setattr(x, name, x), OBJ_OK); /* a self-cycle */
    obj_decref(x);
    CHECK_STATUS(failures, obj_gc_collect(heap, -1, &collected), OBJ_OK);
    CHECK(failures, dels_run == 1);
    size_t n = 0;
    CHECK_STATUS(failures, obj_len(home, &n), OBJ_OK);
    CHECK(failures, n == 1); /* resurrected */
    CHECK_STATUS(failures, obj_list_set(home, 0, obj_none(heap)), OBJ_OK);
    CHECK_STATUS(failures, obj_gc_collect(heap, -1, &collected), OBJ_OK);
    CHECK(failures, dels_run == 1); /* never twice */
    CHECK_STATUS(failures, obj_delattr_str(node, "__del__"), OBJ_OK);

    /* Statistics, thresholds, automatic collection. */
    obj_gc_stats_t gs;
    CHECK_STATUS(failures, obj_gc_stats(heap, &gs), OBJ_OK);
    CHECK(failures, gs.collections >= 7);
    CHECK(failures, gs.collected >= 206);
    CHECK_STATUS(failures, obj_gc_set_threshold(heap, 50, 10, 10), OBJ_OK);
    obj_gc_enable(heap);
    CHECK(failures, obj_gc_is_enabled(heap));
    size_t base = live(heap), peak = 0;
    for (int k = 0; k < 2000; ++k) {
        CHECK_STATUS(failures, obj_alloc(node, &a), OBJ_OK);
        CHECK_STATUS(failures, obj_alloc(node, &b), OBJ_OK);
        CHECK_STATUS(failures, obj_setattr(a, name, b), OBJ_OK);
        CHECK_STATUS(failures, obj_setattr(b, name, a), OBJ_OK);
        obj_decref(a);
        obj_decref(b);
        if (live(heap) - base > peak) peak = live(heap) - base;
    }
    CHECK(failures, peak < 400); /* collected along the way, not 4000 */
    obj_gc_stats_t gs2;
    CHECK_STATUS(failures, obj_gc_stats(heap, &gs2), OBJ_OK);
    CHECK(failures, gs2.collections > gs.collections);

    /* Bad inputs. */
    CHECK_STATUS(failures, obj_gc_collect(NULL, 0, NULL), OBJ_ERR_NULL_ARG);
    CHECK_ERROR(failures, obj_gc_collect(heap, 3, NULL), OBJ_ERR_VALUE,
                "obj_gc_collect: invalid generation 3 (0..2, or -1 for all)");
    CHECK_STATUS(failures, obj_gc_stats(heap, NULL), OBJ_ERR_NULL_ARG);
    CHECK_STATUS(failures, obj_gc_set_threshold(NULL, 1, 1, 1), OBJ_ERR_NULL_ARG);
    CHECK(failures, !obj_gc_is_enabled(NULL));
    obj_gc_enable(NULL);  /* ignored */
    obj_gc_disable(NULL); /* ignored */
    CHECK_STATUS(failures, obj_weakref_new(NULL, NULL, &ref), OBJ_ERR_NULL_ARG);
    CHECK_STATUS(failures, obj_weakref_get(NULL, &ref), OBJ_ERR_NULL_ARG);

    /* Objects of two heaps never mix: a callback from another heap. */
    obj_heap_t *heap2 = obj_heap_new();
    obj_t *foreign = NULL;
    CHECK_STATUS(failures, obj_function_new(heap2, "f", on_death, heap2, &foreign), OBJ_OK);
    CHECK_STATUS(failures, obj_alloc(node, &target), OBJ_OK);
    CHECK_STATUS(failures, obj_weakref_new(target, foreign, &ref), OBJ_ERR_HEAP_MISMATCH);
    obj_decref(target);
    obj_decref(foreign);
    obj_heap_free(heap2);

    obj_decref(home);
    obj_decref(del);
    obj_decref(cb);
    obj_decref(keep);
    obj_decref(name);
    obj_decref(node);
    obj_heap_free(heap);
    failures += full_collections_of_a_growing_heap();
    failures += looking_into_the_heap();
    return failures;
}
