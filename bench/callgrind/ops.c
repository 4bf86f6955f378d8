/* One C-ABI operation repeated N times, for instruction counts under
 * callgrind: `ops OP N`. ci/callgrind-ops.sh runs each operation with N = 0
 * and N = 200,000 and divides the difference by N, so set-up costs cancel.
 *
 * The operations are those of the C-ABI budget (issue 12): allocation,
 * calling a class with a host __init__, attribute reads of each kind,
 * attribute writes, method calls, and counting; the `_cached` ones go
 * through a call-site cache (obj_attr_cache_t), the `_inline` ones through
 * objffi.h's inline hits (obj_getattr_inline, obj_getattr_cached_inline,
 * ...; CPython's peer of an uncached one is its plain getattr); `spilled`
 * reads the third attribute of an instance, whose values are in an array.
 *
 * The collector's rows (issue 13): `gc_dead` and `gc_live` build N
 * instances with automatic collection off, as N/2 dead 2-cycles or as N
 * live instances each pointing at the one before, and run one full
 * collection, the only part counted (between MEASURED_BEGIN and
 * MEASURED_END: ci/callgrind-ops.sh runs these rows with callgrind's
 * collection off at the start), so the figure is per object collected or
 * examined. `gc_young` builds 100,000 live instances that automatic
 * collections age, then N new ones in rounds of 700, each round followed
 * by a counted young collection: per young object, with an old heap 140
 * times the young one (a young collection whose cost grew with the heap
 * would show here). `gc_tree` builds a complete binary tree of N nodes
 * with parent links, drops it and collects (per node, all counted);
 * `gc_churn` makes and drops a 2-cycle per step with automatic collection
 * on (per step). */
#define _POSIX_C_SOURCE 199309L /* clock_gettime */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <valgrind/callgrind.h>

#include "wall.h"

#include "objffi.h"

/* The counted part of a row that callgrind runs with collection off. */
#define MEASURED_BEGIN CALLGRIND_TOGGLE_COLLECT
#define MEASURED_END CALLGRIND_TOGGLE_COLLECT

/* gc_young: the old heap, and the new objects per young collection. */
#define OLD_OBJECTS 100000
#define YOUNG_ROUND 700

static obj_heap_t *heap;

/* How a host drops the references it gets back: inline where the header
 * has inline counting (the owner's plain case without a call), else the
 * exported call (an older header, measured with OPS_INCLUDE). */
#ifdef OBJ_ABI_LOCAL_MAX
#define DECREF(o) obj_decref_inline(o)
#else
#define DECREF(o) obj_decref(o)
#endif

static obj_status_t init_xy(void *data, obj_t *const *args, size_t nargs, obj_t **result) {
    (void)data;
    if (nargs != 3) return OBJ_ERR_TYPE;
    if (obj_setattr_str(args[0], "x", args[1]) != OBJ_OK) return OBJ_ERR_CALLBACK;
    if (obj_setattr_str(args[0], "y", args[2]) != OBJ_OK) return OBJ_ERR_CALLBACK;
    *result = obj_none(heap);
    return OBJ_OK;
}

static obj_status_t method(void *data, obj_t *const *args, size_t nargs, obj_t **result) {
    (void)data;
    (void)args;
    (void)nargs;
    *result = obj_none(heap);
    return OBJ_OK;
}

static obj_t *name(const char *s) {
    obj_t *n = NULL;
    if (obj_intern(heap, s, strlen(s), &n) != OBJ_OK) exit(2);
    return n;
}

static void must(obj_status_t st, const char *what) {
    if (st != OBJ_OK) {
        fprintf(stderr, "%s: %s (%s)\n", what, obj_status_name(st), obj_last_error());
        exit(2);
    }
}

/* A collection of `generation` that must find `expected` unreachable
 * objects. */
static void collect_expecting(int generation, size_t expected, const char *what) {
    size_t found = 0;
    must(obj_gc_collect(heap, generation, &found), what);
    if (found != expected) {
        fprintf(stderr, "%s: collected %zu, expected %zu\n", what, found, expected);
        exit(2);
    }
}

/* `n` new instances of `cls`, each pointing through `attr` at the one
 * made before it, the first at `last` (whose reference this takes);
 * returns the newest. */
static obj_t *live_chain(obj_t *cls, obj_t *attr, obj_t *last, long n) {
    for (long i = 0; i < n; ++i) {
        obj_t *t = NULL;
        must(obj_alloc(cls, &t), "chain");
        must(obj_setattr(t, attr, last), "chain");
        obj_decref(last);
        last = t;
    }
    return last;
}

/* Two new instances of `cls` pointing at each other through `attr`, dropped. */
static void drop_a_2_cycle(obj_t *cls, obj_t *attr) {
    obj_t *a = NULL, *b = NULL;
    must(obj_alloc(cls, &a), "cycle a");
    must(obj_alloc(cls, &b), "cycle b");
    must(obj_setattr(a, attr, b), "a.x = b");
    must(obj_setattr(b, attr, a), "b.x = a");
    obj_decref(a);
    obj_decref(b);
}

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: ops OP N\n");
        return 2;
    }
    const char *op = argv[1];
    long n = atol(argv[2]);
    heap = obj_heap_new();
    obj_t *p = NULL, *base = NULL, *mid[5], *slotted = NULL, *f = NULL, *init = NULL;
    must(obj_type_new(heap, "P", NULL, 0, NULL, &p), "P");
    must(obj_function_new(heap, "__init__", init_xy, NULL, &init), "__init__");
    must(obj_function_new(heap, "m", method, NULL, &f), "m");
    must(obj_setattr_str(p, "m", f), "P.m");
    must(obj_setattr_str(p, "c", obj_none(heap)), "P.c");
    /* base <- mid[0] <- ... <- mid[4]: a class attribute 5 bases up. */
    must(obj_type_new(heap, "Base", NULL, 0, NULL, &base), "Base");
    must(obj_setattr_str(base, "up", obj_none(heap)), "Base.up");
    obj_t *prev = base;
    for (int i = 0; i < 5; ++i) {
        must(obj_type_new(heap, "Mid", &prev, 1, NULL, &mid[i]), "Mid");
        prev = mid[i];
    }
    static const char *const slots[] = {"s"};
    obj_type_spec_t spec = {.slots = slots, .nslots = 1};
    must(obj_type_new(heap, "S", NULL, 0, &spec, &slotted), "S");
    obj_t *x = name("x"), *c = name("c"), *m = name("m"), *up = name("up"), *s = name("s");
    obj_t *o = NULL, *deep = NULL, *so = NULL, *one = NULL, *got = NULL;
    must(obj_alloc(p, &o), "P()");
    must(obj_int_new(heap, 1, &one), "1");
    must(obj_setattr(o, x, one), "o.x");
    must(obj_alloc(mid[4], &deep), "Mid()");
    must(obj_alloc(slotted, &so), "S()");
    must(obj_setattr(so, s, one), "so.s");
    /* o3: a third attribute, x, puts its values in an array. */
    obj_t *o3 = NULL;
    must(obj_alloc(p, &o3), "P()");
    must(obj_setattr_str(o3, "a", one), "o3.a");
    must(obj_setattr_str(o3, "b", one), "o3.b");
    must(obj_setattr(o3, x, one), "o3.x");

    long long started = ops_now_ns();
    if (strcmp(op, "alloc") == 0) {
        for (long i = 0; i < n; ++i) {
            obj_t *t = NULL;
            must(obj_alloc(p, &t), "alloc");
            DECREF(t);
        }
    } else if (strcmp(op, "call_init") == 0) {
        must(obj_setattr_str(p, "__init__", init), "P.__init__");
        obj_t *args[2] = {one, one};
        for (long i = 0; i < n; ++i) {
            obj_t *t = NULL;
            must(obj_call(p, args, 2, &t), "P(1, 1)");
            DECREF(t);
        }
    } else if (strncmp(op, "getattr_", 8) == 0) {
        /* getattr_KIND, or getattr_cached_KIND through a call-site cache. */
        const char *kind = op + 8;
        int cached = strncmp(kind, "cached_", 7) == 0;
        if (cached) kind += 7;
        /* getattr_inline_KIND, getattr_cached_inline_KIND: the hit
         * compiled in from objffi.h. */
        int inline_hit = strncmp(kind, "inline_", 7) == 0;
        if (inline_hit) kind += 7;
        obj_t *target = o, *attr = x;
        if (strcmp(kind, "class") == 0) attr = c;
        else if (strcmp(kind, "5_up") == 0) target = deep, attr = up;
        else if (strcmp(kind, "method") == 0) attr = m;
        else if (strcmp(kind, "slot") == 0) target = so, attr = s;
        else if (strcmp(kind, "spilled") == 0) target = o3, attr = x;
        else if (strcmp(kind, "instance") != 0) {
            fprintf(stderr, "unknown op %s\n", op);
            return 2;
        }
        /* One loop per way of calling, so that no loop tests which. */
#define GETATTR_LOOP(call)               \
    for (long i = 0; i < n; ++i) {       \
        must(call, op);                  \
        DECREF(got);                     \
    }
        /* An older library (`ci/callgrind-ops.sh LIBDIR`) lacks some calls. */
#ifndef OBJ_ABI_CACHE_FOUND_WORD
        if (inline_hit) cached = -1;
#endif
#ifndef OBJ_ABI_SHARED_SITES_BITS
        if (inline_hit && !cached) cached = -1;
#endif
#ifndef OBJ_ATTR_CACHE_INIT
        if (cached) cached = -1;
#endif
        if (cached < 0) {
            fprintf(stderr, "unknown op %s\n", op);
            return 2;
        }
#ifdef OBJ_ATTR_CACHE_INIT
        obj_attr_cache_t cache = OBJ_ATTR_CACHE_INIT;
#endif
#ifdef OBJ_ABI_SHARED_SITES_BITS
        if (inline_hit && !cached) {
            GETATTR_LOOP(obj_getattr_inline(target, attr, &got))
        } else
#endif
#ifdef OBJ_ABI_CACHE_FOUND_WORD
        if (inline_hit) {
            GETATTR_LOOP(obj_getattr_cached_inline(target, attr, &cache, &got))
        } else
#endif
#ifdef OBJ_ATTR_CACHE_INIT
        if (cached) {
            GETATTR_LOOP(obj_getattr_cached(target, attr, &cache, &got))
        } else
#endif
        {
            GETATTR_LOOP(obj_getattr(target, attr, &got))
        }
    } else if (strcmp(op, "setattr_instance") == 0) {
        for (long i = 0; i < n; ++i) must(obj_setattr(o, x, one), op);
    } else if (strcmp(op, "call_method") == 0) {
        /* o.m(): a host function of the class, no arguments. */
        for (long i = 0; i < n; ++i) {
            must(obj_call_method(o, m, NULL, 0, &got), op);
            DECREF(got);
        }
#ifdef OBJ_ATTR_CACHE_INIT
    } else if (strcmp(op, "setattr_cached_instance") == 0) {
        obj_attr_cache_t cache = OBJ_ATTR_CACHE_INIT;
        for (long i = 0; i < n; ++i) must(obj_setattr_cached(o, x, one, &cache), op);
#ifdef OBJ_ABI_SHARED_SITES_BITS
    } else if (strcmp(op, "setattr_inline_instance") == 0) {
        for (long i = 0; i < n; ++i) must(obj_setattr_inline(o, x, one), op);
#endif
#ifdef OBJ_ABI_CACHE_FOUND_WORD
    } else if (strcmp(op, "setattr_cached_inline_instance") == 0) {
        obj_attr_cache_t cache = OBJ_ATTR_CACHE_INIT;
        for (long i = 0; i < n; ++i) must(obj_setattr_cached_inline(o, x, one, &cache), op);
#endif
    } else if (strcmp(op, "call_method_cached") == 0) {
        obj_attr_cache_t cache = OBJ_ATTR_CACHE_INIT;
        for (long i = 0; i < n; ++i) {
            must(obj_call_method_cached(o, m, NULL, 0, &cache, &got), op);
            DECREF(got);
        }
#endif
    } else if (strcmp(op, "incref_decref") == 0) {
        for (long i = 0; i < n; ++i) {
            obj_incref(o);
            obj_decref(o);
        }
#ifdef OBJ_ABI_LOCAL_MAX
    } else if (strcmp(op, "incref_decref_inline") == 0) {
        /* As CPython's side of this row: the empty asm keeps the compiler
         * from cancelling the pair, and the count goes through memory. */
        for (long i = 0; i < n; ++i) {
            obj_incref_inline(o);
            __asm__ volatile("" : : "r"(o) : "memory");
            obj_decref_inline(o);
        }
#endif
    } else if (strcmp(op, "gc_dead") == 0) {
        obj_gc_disable(heap);
        for (long i = 0; i < n / 2; ++i) drop_a_2_cycle(p, x);
        MEASURED_BEGIN;
        collect_expecting(-1, (size_t)(n / 2 * 2), op);
        MEASURED_END;
    } else if (strcmp(op, "gc_live") == 0) {
        obj_gc_disable(heap);
        obj_t *last = live_chain(p, x, obj_none(heap), n);
        MEASURED_BEGIN;
        collect_expecting(-1, 0, op);
        MEASURED_END;
        DECREF(last);
    } else if (strcmp(op, "gc_young") == 0) {
        obj_t *last = live_chain(p, x, obj_none(heap), OLD_OBJECTS); /* aged by automatic collections */
        obj_gc_disable(heap);
        must(obj_gc_collect(heap, 0, NULL), op); /* the young leftovers of building, uncounted */
        for (long made = 0; made < n; made += YOUNG_ROUND) {
            last = live_chain(p, x, last, n - made < YOUNG_ROUND ? n - made : YOUNG_ROUND);
            MEASURED_BEGIN;
            collect_expecting(0, 0, op);
            MEASURED_END;
        }
        DECREF(last);
    } else if (strcmp(op, "gc_tree") == 0) {
        /* node i's parent is node (i - 1) / 2, its children 2i + 1, 2i + 2 */
        obj_t *left = name("left"), *right = name("right"), *parent = name("parent");
        obj_t **nodes = malloc(sizeof *nodes * (size_t)(n + 1));
        if (nodes == NULL) exit(2);
        for (long i = 0; i < n; ++i) {
            must(obj_alloc(p, &nodes[i]), op);
            if (i > 0) {
                obj_t *up_node = nodes[(i - 1) / 2];
                must(obj_setattr(nodes[i], parent, up_node), op);
                must(obj_setattr(up_node, i % 2 ? left : right, nodes[i]), op);
            }
        }
        for (long i = 0; i < n; ++i) DECREF(nodes[i]);
        free(nodes);
        collect_expecting(-1, (size_t)(n > 1 ? n : 0), op);
    } else if (strcmp(op, "gc_churn") == 0) {
        for (long i = 0; i < n; ++i) drop_a_2_cycle(p, x);
    } else {
        fprintf(stderr, "unknown op %s\n", op);
        return 2;
    }
    ops_report_wall(started);
    obj_decref(o);
    obj_decref(deep);
    obj_decref(so);
    obj_decref(o3);
    obj_decref(one);
    obj_heap_free(heap);
    return 0;
}
