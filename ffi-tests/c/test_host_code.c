/* Host code that touches what it is given (contract 1.1): payload hooks
 * that use their dying object, host functions that drop the last reference
 * to what is running (a "run once" __init__, __getattr__, a property
 * getter, __del__, a weakref callback), hooks inherited one by one, a
 * traverse hook that may only report, and nesting that goes too deep
 * (__getattr__ chains on small thread stacks, repr of nested lists, deep
 * tuples as dict keys). Each case ends with a consistent heap and nothing
 * leaked. */
#include "objffi.h" /* first: the header must compile on its own */

#include <pthread.h>

#include "check.h"

int objffi_c_test_host_code(void);

static obj_heap_t *the_heap; /* the heap of every case */

/* ----- payload hooks that use `self` ---------------------------------------- */

static int finalizes, clears;
static obj_t *phoenix; /* where the resurrecting hook puts its object */

/* finalize: make a bound method of self and drop it; count self up and down. */
static void bind_self_finalize(obj_t *self, void *payload) {
    obj_t *m = NULL;
    (void)payload;
    ++finalizes;
    if (obj_getattr_str(self, "meth", &m) == OBJ_OK) obj_decref(m);
    obj_incref(self);
    obj_decref(self);
}

/* clear: put self in a list and drop the list. */
static void list_self_clear(obj_t *self, void *payload) {
    obj_t *list = NULL;
    (void)payload;
    ++clears;
    if (obj_list_new(the_heap, &list) != OBJ_OK) return;
    ignore_status(obj_list_append(list, self));
    obj_decref(list);
}

/* finalize: resurrect self the first time (keep a reference in `phoenix`). */
static void resurrect_finalize(obj_t *self, void *payload) {
    (void)payload;
    ++finalizes;
    if (finalizes == 1) {
        obj_incref(self);
        phoenix = self;
    }
}

static obj_status_t returns_none(void *data, obj_t *const *args, size_t nargs,
                                 obj_t **result) {
    (void)args;
    (void)nargs;
    *result = obj_none((obj_heap_t *)data);
    return OBJ_OK;
}

/* cls.name = a new host function `fn` with `data`; the status of the setattr. */
static obj_status_t set_fn(obj_t *cls, const char *name, obj_cfunc_t fn, void *data) {
    obj_t *f = NULL;
    obj_status_t st = obj_function_new(the_heap, name, fn, data, &f);
    if (st != OBJ_OK) return st;
    st = obj_setattr_str(cls, name, f);
    obj_decref(f);
    return st;
}

static int test_hooks_touching_self(obj_heap_t *heap) {
    int failures = 0;
    size_t base = test_live(heap);
    obj_type_spec_t spec = {.payload_size = 16, .has_dict = true,
                            .clear = list_self_clear, .finalize = bind_self_finalize};
    obj_t *cls = NULL, *o = NULL;
    CHECK_STATUS(failures, obj_type_new(heap, "Hooked", NULL, 0, &spec, &cls), OBJ_OK);
    CHECK_STATUS(failures, set_fn(cls, "meth", returns_none, heap), OBJ_OK);
    size_t class_refs = obj_refcount(cls);

    /* Freed by its count, then as cyclic garbage: the hooks run once each time. */
    CHECK_STATUS(failures, obj_alloc(cls, &o), OBJ_OK);
    obj_decref(o);
    CHECK(failures, finalizes == 1 && clears == 1);
    CHECK_STATUS(failures, obj_alloc(cls, &o), OBJ_OK);
    CHECK_STATUS(failures, obj_setattr_str(o, "me", o), OBJ_OK);
    obj_decref(o);
    CHECK_STATUS(failures, obj_gc_collect(heap, -1, NULL), OBJ_OK);
    CHECK(failures, finalizes == 2);
    CHECK(failures, obj_refcount(cls) == class_refs);
    CHECK_STATUS(failures, obj_heap_check(heap), OBJ_OK);

    /* A finalize hook that resurrects: the object lives on, usable; when it
     * dies again its hooks run again, and then it is freed. */
    obj_type_spec_t again = {.payload_size = 16, .has_dict = true,
                             .finalize = resurrect_finalize};
    obj_t *rc = NULL;
    finalizes = 0;
    CHECK_STATUS(failures, obj_type_new(heap, "Resurrected", NULL, 0, &again, &rc), OBJ_OK);
    CHECK_STATUS(failures, obj_alloc(rc, &o), OBJ_OK);
    obj_decref(o);
    CHECK(failures, finalizes == 1 && phoenix == o);
    obj_t *n = test_int(heap, 5);
    CHECK_STATUS(failures, obj_setattr_str(phoenix, "n", n), OBJ_OK);
    obj_decref(n);
    obj_t *last = phoenix;
    phoenix = NULL;
    obj_decref(last);
    CHECK(failures, finalizes == 2 && phoenix == NULL);

    obj_decref(rc);
    obj_decref(cls);
    CHECK_STATUS(failures, obj_gc_collect(heap, -1, NULL), OBJ_OK);
    CHECK_STATUS(failures, obj_heap_check(heap), OBJ_OK);
    CHECK(failures, test_live(heap) == base);
    return failures;
}

/* ----- hooks are inherited one by one -------------------------------------------- */

struct held {
    obj_t *ref;
};

static int base_traverses, base_clears, sub_finalizes;

static void held_traverse(obj_t *self, void *payload, obj_visit_t visit, void *arg) {
    struct held *h = payload;
    (void)self;
    ++base_traverses;
    if (h->ref) visit(h->ref, arg);
}

static void held_clear(obj_t *self, void *payload) {
    struct held *h = payload;
    (void)self;
    ++base_clears;
    obj_t *r = h->ref;
    h->ref = NULL;
    if (r) obj_decref(r);
}

static void sub_finalize(obj_t *self, void *payload) {
    (void)self;
    (void)payload;
    ++sub_finalizes;
}

/* A traverse hook that tries to use the heap while the collector runs it:
 * refused (it may only report), counted, and the collection goes on. */
static int traverse_refusals, traverse_calls;

static void meddling_traverse(obj_t *self, void *payload, obj_visit_t visit, void *arg) {
    struct held *h = payload;
    obj_t *m = NULL;
    ++traverse_calls;
    if (obj_getattr_str(self, "tag", &m) == OBJ_ERR_VALUE) ++traverse_refusals;
    else if (m) obj_decref(m);
    obj_incref(self); /* counting up and down is fine */
    obj_decref(self);
    if (h->ref) visit(h->ref, arg);
}

static int test_traverse_hooks_only_report(obj_heap_t *heap) {
    int failures = 0;
    size_t base = test_live(heap);
    obj_type_spec_t spec = {.payload_size = sizeof(struct held), .has_dict = true,
                            .traverse = meddling_traverse, .clear = held_clear};
    obj_t *cls = NULL, *o = NULL;
    CHECK_STATUS(failures, obj_type_new(heap, "Meddler", NULL, 0, &spec, &cls), OBJ_OK);
    CHECK_STATUS(failures, obj_alloc(cls, &o), OBJ_OK);
    CHECK_STATUS(failures, obj_setattr_str(o, "tag", o), OBJ_OK);
    obj_incref(o);
    ((struct held *)obj_payload(o))->ref = o;
    obj_decref(o);
    size_t collected = 0;
    CHECK_STATUS(failures, obj_gc_collect(heap, -1, &collected), OBJ_OK);
    CHECK(failures, collected == 1);
    CHECK(failures, traverse_calls > 0 && traverse_refusals == traverse_calls);
    /* Outside a collection the heap works as ever. */
    obj_t *r = NULL;
    CHECK_STATUS(failures, obj_getattr_str(cls, "__name__", &r), OBJ_OK);
    obj_decref(r);
    obj_decref(cls);
    CHECK_STATUS(failures, obj_gc_collect(heap, -1, NULL), OBJ_OK);
    CHECK_STATUS(failures, obj_heap_check(heap), OBJ_OK);
    CHECK(failures, test_live(heap) == base);
    return failures;
}

/* A traverse hook that drops the reference its payload owns (allowed: it
 * owns it), the last one to a container the collection examines. Freed at
 * once, it would leave the collector's lists while their links hold the
 * collection's tags: the heap keeps it until the collection is over, then
 * frees it. 100 holders, each with its own. */
static int dropped_in_traverse;

static void dropping_traverse(obj_t *self, void *payload, obj_visit_t visit, void *arg) {
    struct held *h = payload;
    (void)self;
    (void)visit;
    (void)arg;
    obj_t *r = h->ref;
    h->ref = NULL;
    if (r) {
        ++dropped_in_traverse;
        obj_decref(r);
    }
}

static int test_traverse_hook_drops_its_last_reference(obj_heap_t *heap) {
    int failures = 0;
    size_t base = test_live(heap);
    obj_type_spec_t spec = {.payload_size = sizeof(struct held), .has_dict = true,
                            .traverse = dropping_traverse, .clear = held_clear};
    obj_t *cls = NULL, *plain = NULL;
    CHECK_STATUS(failures, obj_type_new(heap, "Dropper", NULL, 0, &spec, &cls), OBJ_OK);
    CHECK_STATUS(failures, obj_type_new(heap, "Plain", NULL, 0, NULL, &plain), OBJ_OK);
    enum { N = 100 };
    obj_t *holders[N], *watch[N];
    for (int i = 0; i < N; ++i) {
        obj_t *x = NULL;
        CHECK_STATUS(failures, obj_alloc(cls, &holders[i]), OBJ_OK);
        CHECK_STATUS(failures, obj_alloc(plain, &x), OBJ_OK);
        CHECK_STATUS(failures, obj_weakref_new(x, NULL, &watch[i]), OBJ_OK);
        ((struct held *)obj_payload(holders[i]))->ref = x; /* its only reference */
    }
    dropped_in_traverse = 0;
    CHECK_STATUS(failures, obj_gc_collect(heap, -1, NULL), OBJ_OK);
    CHECK(failures, dropped_in_traverse == N);
    for (int i = 0; i < N; ++i) {
        obj_t *target = NULL;
        CHECK_STATUS(failures, obj_weakref_get(watch[i], &target), OBJ_OK);
        CHECK(failures, target == obj_none(heap)); /* freed after the collection */
        obj_decref(target);
        obj_decref(watch[i]);
        obj_decref(holders[i]);
    }
    obj_decref(cls);
    obj_decref(plain);
    CHECK_STATUS(failures, obj_gc_collect(heap, -1, NULL), OBJ_OK);
    CHECK_STATUS(failures, obj_heap_check(heap), OBJ_OK);
    CHECK(failures, test_live(heap) == base);
    return failures;
}

/* A subclass that declares only `finalize` keeps its base's `traverse` and
 * `clear`: a cycle through the payload is collected, and the payload's
 * reference is released. */
static int test_hooks_are_inherited_one_by_one(obj_heap_t *heap) {
    int failures = 0;
    size_t base = test_live(heap);
    obj_type_spec_t base_spec = {.payload_size = sizeof(struct held), .has_dict = true,
                                 .traverse = held_traverse, .clear = held_clear};
    obj_type_spec_t sub_spec = {.has_dict = true, .finalize = sub_finalize};
    obj_t *b = NULL, *sub = NULL, *o = NULL;
    CHECK_STATUS(failures, obj_type_new(heap, "HeldBase", NULL, 0, &base_spec, &b), OBJ_OK);
    CHECK_STATUS(failures, obj_type_new(heap, "HeldSub", &b, 1, &sub_spec, &sub), OBJ_OK);
    CHECK_STATUS(failures, obj_alloc(sub, &o), OBJ_OK);
    obj_incref(o);
    ((struct held *)obj_payload(o))->ref = o; /* a cycle through the payload */
    obj_decref(o);
    size_t collected = 0;
    CHECK_STATUS(failures, obj_gc_collect(heap, -1, &collected), OBJ_OK);
    CHECK(failures, collected == 1);
    CHECK(failures, base_traverses > 0 && base_clears >= 1 && sub_finalizes == 1);
    obj_decref(sub);
    obj_decref(b);
    CHECK_STATUS(failures, obj_gc_collect(heap, -1, NULL), OBJ_OK);
    CHECK(failures, test_live(heap) == base);
    return failures;
}

/* ----- host code that drops the last reference to what runs ------------------- */

/* What the running host functions rebind or drop. */
static struct {
    obj_t *cls;       /* the class whose special method rebinds itself */
    obj_t *weakref;   /* the weak reference whose callback drops it */
    int runs;
    int saw_self;     /* the running method's `self` was still intact */
} run_once;

/* Helper.init_once(self): replaces T.__init__ (a bound method of a Helper:
 * its last reference) with a plain function, then reads its own `self`. */
static obj_status_t init_once(void *data, obj_t *const *args, size_t nargs, obj_t **result) {
    obj_t *tag = NULL;
    (void)nargs;
    ++run_once.runs;
    if (set_fn(run_once.cls, "__init__", returns_none, data) != OBJ_OK) return OBJ_ERR_CALLBACK;
    if (obj_getattr_str(args[0], "tag", &tag) == OBJ_OK) {
        run_once.saw_self += 1;
        obj_decref(tag);
    }
    *result = obj_none((obj_heap_t *)data);
    return OBJ_OK;
}

/* Helper.getattr_once(self, name): removes T.__getattr__, then reads self. */
static obj_status_t getattr_once(void *data, obj_t *const *args, size_t nargs,
                                 obj_t **result) {
    obj_t *tag = NULL;
    (void)nargs;
    ++run_once.runs;
    if (obj_delattr_str(run_once.cls, "__getattr__") != OBJ_OK) return OBJ_ERR_CALLBACK;
    if (obj_getattr_str(args[0], "tag", &tag) == OBJ_OK) {
        run_once.saw_self += 1;
        obj_decref(tag);
    }
    return obj_int_new((obj_heap_t *)data, 42, result);
}

/* A property getter (a bound method of a Helper) that deletes its property. */
static obj_status_t getter_once(void *data, obj_t *const *args, size_t nargs,
                                obj_t **result) {
    obj_t *tag = NULL;
    (void)nargs;
    ++run_once.runs;
    if (obj_delattr_str(run_once.cls, "prop") != OBJ_OK) return OBJ_ERR_CALLBACK;
    if (obj_getattr_str(args[0], "tag", &tag) == OBJ_OK) {
        run_once.saw_self += 1;
        obj_decref(tag);
    }
    return obj_int_new((obj_heap_t *)data, 7, result);
}

/* A weakref callback (a bound method of a Helper) that drops the weak
 * reference holding it. */
static obj_status_t callback_once(void *data, obj_t *const *args, size_t nargs,
                                  obj_t **result) {
    obj_t *tag = NULL;
    (void)nargs;
    ++run_once.runs;
    obj_t *w = run_once.weakref;
    run_once.weakref = NULL;
    obj_decref(w);
    if (obj_getattr_str(args[0], "tag", &tag) == OBJ_OK) {
        run_once.saw_self += 1;
        obj_decref(tag);
    }
    *result = obj_none((obj_heap_t *)data);
    return OBJ_OK;
}

/* A bound method `helper_cls.name` of a new Helper instance with a `tag`;
 * the instance itself is not kept: the bound method holds the only reference. */
static obj_t *bound_helper(obj_t *helper_cls, const char *name) {
    obj_t *h = NULL, *m = NULL;
    if (obj_alloc(helper_cls, &h) != OBJ_OK) return NULL;
    ignore_status(obj_setattr_str(h, "tag", obj_none(the_heap)));
    ignore_status(obj_getattr_str(h, name, &m));
    obj_decref(h);
    return m;
}

static int test_running_code_loses_its_last_reference(obj_heap_t *heap) {
    int failures = 0;
    size_t base = test_live(heap);
    obj_t *helper = NULL, *t = NULL, *o = NULL, *r = NULL, *m = NULL;
    CHECK_STATUS(failures, obj_type_new(heap, "Helper", NULL, 0, NULL, &helper), OBJ_OK);
    CHECK_STATUS(failures, set_fn(helper, "init_once", init_once, heap), OBJ_OK);
    CHECK_STATUS(failures, set_fn(helper, "getattr_once", getattr_once, heap), OBJ_OK);
    CHECK_STATUS(failures, set_fn(helper, "getter_once", getter_once, heap), OBJ_OK);
    CHECK_STATUS(failures, set_fn(helper, "callback_once", callback_once, heap), OBJ_OK);
    CHECK_STATUS(failures, obj_type_new(heap, "T", NULL, 0, NULL, &t), OBJ_OK);
    run_once.cls = t;

    /* __init__ */
    m = bound_helper(helper, "init_once");
    CHECK_STATUS(failures, obj_setattr_str(t, "__init__", m), OBJ_OK);
    obj_decref(m);
    CHECK_STATUS(failures, obj_call(t, NULL, 0, &o), OBJ_OK);
    obj_decref(o);
    CHECK_STATUS(failures, obj_call(t, NULL, 0, &o), OBJ_OK); /* the plain one now */
    obj_decref(o);
    CHECK(failures, run_once.runs == 1 && run_once.saw_self == 1);

    /* __getattr__ */
    m = bound_helper(helper, "getattr_once");
    CHECK_STATUS(failures, obj_setattr_str(t, "__getattr__", m), OBJ_OK);
    obj_decref(m);
    CHECK_STATUS(failures, obj_alloc(t, &o), OBJ_OK);
    CHECK_STATUS(failures, obj_getattr_str(o, "missing", &r), OBJ_OK);
    CHECK_INT_OBJ(failures, r, 42);
    obj_decref(r);
    CHECK_STATUS(failures, obj_getattr_str(o, "missing", &r), OBJ_ERR_ATTRIBUTE);
    CHECK(failures, run_once.runs == 2 && run_once.saw_self == 2);

    /* a property getter */
    obj_t *prop = NULL;
    m = bound_helper(helper, "getter_once");
    CHECK_STATUS(failures, obj_property_new(heap, m, NULL, &prop), OBJ_OK);
    obj_decref(m);
    CHECK_STATUS(failures, obj_setattr_str(t, "prop", prop), OBJ_OK);
    obj_decref(prop);
    /* The getter is called with the instance: as a bound method, after its
     * own `self`. It deletes the property, whose getter it is. */
    CHECK_STATUS(failures, obj_getattr_str(o, "prop", &r), OBJ_OK);
    CHECK_INT_OBJ(failures, r, 7);
    obj_decref(r);
    CHECK(failures, run_once.runs == 3 && run_once.saw_self == 3);
    obj_decref(o);

    /* a weakref callback */
    obj_t *target = NULL;
    CHECK_STATUS(failures, obj_alloc(t, &target), OBJ_OK);
    m = bound_helper(helper, "callback_once");
    CHECK_STATUS(failures, obj_weakref_new(target, m, &run_once.weakref), OBJ_OK);
    obj_decref(m);
    int runs = run_once.runs, saw = run_once.saw_self;
    obj_decref(target);
    CHECK(failures, run_once.runs == runs + 1 && run_once.saw_self == saw + 1);
    CHECK(failures, run_once.weakref == NULL);

    obj_decref(t);
    obj_decref(helper);
    CHECK_STATUS(failures, obj_gc_collect(heap, -1, NULL), OBJ_OK);
    CHECK_STATUS(failures, obj_heap_check(heap), OBJ_OK);
    CHECK(failures, test_live(heap) == base);
    return failures;
}

/* ----- nesting too deep ---------------------------------------------------------- */

/* __getattr__(self, name): looks up another missing attribute on self. */
static obj_status_t getattr_deeper(void *data, obj_t *const *args, size_t nargs,
                                   obj_t **result) {
    (void)data;
    (void)nargs;
    return obj_getattr_str(args[0], "still_missing", result);
}

struct deep_case {
    obj_heap_t *heap;
    obj_t *cls;    /* a class whose __getattr__ is getattr_deeper */
    int failures;
};

/* A __getattr__ chain and a repr of 3,000 nested lists, on the running thread. */
static void *deep_on_this_thread(void *arg) {
    struct deep_case *c = arg;
    obj_t *o = NULL, *r = NULL;
    CHECK_STATUS(c->failures, obj_alloc(c->cls, &o), OBJ_OK);
    CHECK_ERROR(c->failures, obj_getattr_str(o, "missing", &r), OBJ_ERR_RECURSION,
                "maximum recursion depth exceeded while calling a Python object");
    obj_decref(o);

    obj_t *outer = NULL;
    CHECK_STATUS(c->failures, obj_list_new(c->heap, &outer), OBJ_OK);
    for (int i = 0; i < 3000 && outer; ++i) {
        obj_t *l = NULL;
        if (obj_list_new(c->heap, &l) != OBJ_OK) break;
        ignore_status(obj_list_append(l, outer));
        obj_decref(outer);
        outer = l;
    }
    CHECK_ERROR(c->failures, obj_repr(outer, &r), OBJ_ERR_RECURSION,
                "maximum recursion depth exceeded while getting the repr of an object");
    obj_decref(outer);
    return NULL;
}

/* Depth of the nested tuples: past where recursive hashing overflowed an
 * 8 MiB stack (near 120,000) in release builds (ci/limits.sh); in debug
 * builds (valgrind, sanitizers) far past a 256 KiB stack's reach. */
#ifdef OBJFFI_TEST_FULL_SIZE
enum { KEY_DEPTH = 200000 };
#else
enum { KEY_DEPTH = 20000 };
#endif

struct deep_keys {
    obj_heap_t *heap;
    int failures;
};

/* Two separately built equal keys, KEY_DEPTH tuples deep, find each other. */
static void *deep_keys(void *arg) {
    struct deep_keys *c = arg;
    obj_t *keys[2] = {NULL, NULL};
    for (int k = 0; k < 2; ++k) {
        CHECK_STATUS(c->failures, obj_tuple_new(c->heap, NULL, 0, &keys[k]), OBJ_OK);
        for (int i = 0; i < KEY_DEPTH && keys[k]; ++i) {
            obj_t *t = NULL;
            if (obj_tuple_new(c->heap, &keys[k], 1, &t) != OBJ_OK) break;
            obj_decref(keys[k]);
            keys[k] = t;
        }
    }
    obj_t *d = NULL, *v = test_int(c->heap, 1), *got = NULL;
    CHECK_STATUS(c->failures, obj_dict_new(c->heap, &d), OBJ_OK);
    CHECK_STATUS(c->failures, obj_dict_set(d, keys[0], v), OBJ_OK);
    CHECK_STATUS(c->failures, obj_dict_get(d, keys[1], &got), OBJ_OK);
    CHECK(c->failures, got == v);
    if (got) obj_decref(got);
    obj_decref(v);
    obj_decref(d);
    obj_decref(keys[0]);
    obj_decref(keys[1]);
    return NULL;
}

static int test_deep_nesting(obj_heap_t *heap) {
    int failures = 0;
    size_t base = test_live(heap);
    struct deep_case c = {.heap = heap};
    CHECK_STATUS(failures, obj_type_new(heap, "Deep", NULL, 0, NULL, &c.cls), OBJ_OK);
    CHECK_STATUS(failures, set_fn(c.cls, "__getattr__", getattr_deeper, NULL), OBJ_OK);

    deep_on_this_thread(&c);
    static const size_t stacks[] = {1024 * 1024, 512 * 1024, 256 * 1024, 128 * 1024};
    for (size_t i = 0; i < sizeof stacks / sizeof stacks[0]; ++i) {
        pthread_attr_t attr;
        pthread_t th;
        pthread_attr_init(&attr);
        pthread_attr_setstacksize(&attr, stacks[i]);
        CHECK(failures, pthread_create(&th, &attr, deep_on_this_thread, &c) == 0);
        pthread_join(th, NULL);
        pthread_attr_destroy(&attr);
    }
    failures += c.failures;

    /* Repr of a list nested 5,000 deep on the main thread: refused too. */
    obj_t *outer = NULL, *r = NULL;
    CHECK_STATUS(failures, obj_list_new(heap, &outer), OBJ_OK);
    for (int i = 0; i < 5000; ++i) {
        obj_t *l = NULL;
        if (obj_list_new(heap, &l) != OBJ_OK) break;
        ignore_status(obj_list_append(l, outer));
        obj_decref(outer);
        outer = l;
    }
    CHECK_STATUS(failures, obj_repr(outer, &r), OBJ_ERR_RECURSION);
    obj_decref(outer);

    /* Tuples nested deep as dict keys, on a 256 KiB stack: hashed and
     * compared at any depth (no recursion). */
    pthread_attr_t attr;
    pthread_t th;
    struct deep_keys k = {.heap = heap};
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, 256 * 1024);
    CHECK(failures, pthread_create(&th, &attr, deep_keys, &k) == 0);
    pthread_join(th, NULL);
    pthread_attr_destroy(&attr);
    failures += k.failures;

    obj_decref(c.cls);
    CHECK_STATUS(failures, obj_gc_collect(heap, -1, NULL), OBJ_OK);
    CHECK_STATUS(failures, obj_heap_check(heap), OBJ_OK);
    CHECK(failures, test_live(heap) == base);
    return failures;
}

int objffi_c_test_host_code(void) {
    int failures = 0;
    obj_heap_t *heap = the_heap = obj_heap_new();
    CHECK(failures, heap != NULL);
    /* Names are interned for good: make them before counting. */
    static const char *const names[] = {
        "Hooked", "meth", "me", "n", "Resurrected", "Helper", "init_once", "getattr_once",
        "getter_once", "callback_once", "T", "__init__", "__getattr__", "prop", "tag",
        "missing", "Deep", "still_missing", "HeldBase", "HeldSub", "Meddler", "__name__", "Dropper", "Plain"};
    obj_t *interned[sizeof names / sizeof names[0]];
    for (size_t i = 0; i < sizeof names / sizeof names[0]; ++i) {
        CHECK_STATUS(failures, obj_intern(heap, names[i], strlen(names[i]), &interned[i]), OBJ_OK);
    }
    failures += test_hooks_touching_self(heap);
    failures += test_hooks_are_inherited_one_by_one(heap);
    failures += test_traverse_hooks_only_report(heap);
    failures += test_traverse_hook_drops_its_last_reference(heap);
    failures += test_running_code_loses_its_last_reference(heap);
    failures += test_deep_nesting(heap);
    for (size_t i = 0; i < sizeof names / sizeof names[0]; ++i) obj_decref(interned[i]);
    obj_heap_free(heap);
    return failures;
}
