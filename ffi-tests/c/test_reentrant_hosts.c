/* Host code that misbehaves or calls back into the library from inside it:
 * a __del__ that fails, one that uses the API heavily on its dying object
 * (attributes, method calls, new objects) and one that resurrects it; host
 * functions nested three deep through obj_call; a host function that
 * overwrites its caller's argument array; a payload clear hook that
 * drops the references it holds while the collector runs. Every case
 * leaves the heap consistent (obj_heap_check) with nothing leaked. */
#include "objffi.h" /* first: the header must compile on its own */

#include "check.h"

int objffi_c_test_reentrant_hosts(void);

static int dels_failed, dels_busy;
static obj_t *saved; /* where the resurrecting __del__ puts its object */

/* __del__ that fails: CPython reports and ignores such errors; so do we. */
static obj_status_t failing_del(void *data, obj_t *const *args, size_t nargs, obj_t **result) {
    (void)data;
    (void)args;
    (void)nargs;
    (void)result;
    ++dels_failed;
    obj_set_last_error("__del__ failed on purpose");
    return OBJ_ERR_CALLBACK;
}

/* __del__ that works its dying object hard: new objects, attributes, a
 * method call on it, and decrefs of what it made. */
static obj_status_t busy_del(void *data, obj_t *const *args, size_t nargs, obj_t **result) {
    obj_heap_t *heap = data;
    obj_t *self = args[0], *list = NULL, *n = NULL, *r = NULL;
    (void)nargs;
    ++dels_busy;
    if (obj_list_new(heap, &list) != OBJ_OK) return OBJ_ERR_CALLBACK;
    if (obj_int_new(heap, 424242, &n) == OBJ_OK) {
        ignore_status(obj_list_append(list, n));
        obj_decref(n);
    }
    ignore_status(obj_setattr_str(self, "made_in_del", list)); /* the dying object holds it */
    if (obj_call_method_str(self, "twice", NULL, 0, &r) == OBJ_OK) obj_decref(r);
    obj_decref(list);
    *result = obj_none(heap);
    return OBJ_OK;
}

/* __del__ that resurrects: keeps a new reference in `saved`. */
static obj_status_t resurrecting_del(void *data, obj_t *const *args, size_t nargs,
                                     obj_t **result) {
    (void)nargs;
    obj_incref(args[0]);
    saved = args[0];
    *result = obj_none((obj_heap_t *)data);
    return OBJ_OK;
}

/* A method: returns 2 * self.n (or 0 without one). */
static obj_status_t twice(void *data, obj_t *const *args, size_t nargs, obj_t **result) {
    obj_t *n = NULL;
    int64_t v = 0;
    (void)nargs;
    if (obj_getattr_str(args[0], "n", &n) == OBJ_OK) {
        ignore_status(obj_int_value(n, &v));
        obj_decref(n);
    }
    return obj_int_new((obj_heap_t *)data, 2 * v, result);
}

/* data: the next host function, or NULL for the innermost, which calls
 * the method `count` of its argument; the others call the next with their
 * arguments. So one call runs three host functions, one inside another. */
static obj_status_t nest(void *data, obj_t *const *args, size_t nargs, obj_t **result) {
    obj_t *next = data;
    if (nargs != 1) return OBJ_ERR_TYPE;
    if (next == NULL) return obj_call_method_str(args[0], "count", NULL, 0, result);
    return obj_call(next, args, nargs, result);
}

/* count(): 7. */
static obj_status_t count(void *data, obj_t *const *args, size_t nargs, obj_t **result) {
    (void)args;
    (void)nargs;
    return obj_int_new((obj_heap_t *)data, 7, result);
}

/* Payload: one reference, dropped by `clear` (which the collector calls). */
struct holder {
    obj_t *held;
};

static void holder_traverse(obj_t *self, void *payload, obj_visit_t visit, void *arg) {
    struct holder *h = payload;
    (void)self;
    if (h->held) visit(h->held, arg);
}

static int clears;
static void holder_clear(obj_t *self, void *payload) {
    struct holder *h = payload;
    obj_t *name = NULL;
    (void)self;
    ++clears;
    /* Back into the API from the hook: intern a name, then let go. */
    if (obj_getattr_str(h->held, "__class__", &name) == OBJ_OK) obj_decref(name);
    obj_t *tmp = h->held;
    h->held = NULL;
    obj_decref(tmp);
}

/* The argument array a host passes to a call, which the host function the
 * call runs then overwrites (say, a scratch array the host reuses for every
 * call): the call holds and releases what it was given, not what the array
 * holds when it returns. */
static obj_t *scratch_args[3];
static obj_t *scribbled; /* what `scribble` writes over the array */

static obj_status_t scribble(void *data, obj_t *const *args, size_t nargs, obj_t **result) {
    (void)args;
    for (size_t i = 0; i < sizeof scratch_args / sizeof scratch_args[0]; ++i) {
        scratch_args[i] = scribbled;
    }
    return obj_int_new((obj_heap_t *)data, (int64_t)nargs, result);
}

static obj_t *new_fn(obj_heap_t *heap, const char *name, obj_cfunc_t fn, void *data) {
    obj_t *f = NULL;
    return obj_function_new(heap, name, fn, data, &f) == OBJ_OK ? f : NULL;
}

/* cls.name = a new host function `fn` (data: the heap); the status of the setattr. */
static obj_status_t set_fn(obj_heap_t *heap, obj_t *cls, const char *name, obj_cfunc_t fn) {
    obj_t *f = new_fn(heap, name, fn, heap);
    if (f == NULL) return OBJ_ERR_NO_MEMORY;
    obj_status_t st = obj_setattr_str(cls, name, f);
    obj_decref(f);
    return st;
}

int objffi_c_test_reentrant_hosts(void) {
    int failures = 0;
    obj_heap_t *heap = obj_heap_new();
    CHECK(failures, heap != NULL);
    /* Names are interned for good: make them before counting. */
    static const char *const names[] = {"K", "__del__", "Busy", "twice", "n", "made_in_del",
                                        "me", "Phoenix", "C", "count", "inner", "middle",
                                        "outer", "Holder", "__class__", "scribble"};
    obj_t *interned[sizeof names / sizeof names[0]];
    for (size_t i = 0; i < sizeof names / sizeof names[0]; ++i) {
        CHECK_STATUS(failures, obj_intern(heap, names[i], strlen(names[i]), &interned[i]), OBJ_OK);
    }
    size_t base = test_live(heap);

    /* A failing __del__: the object is freed anyway, the heap is fine. */
    obj_t *k = NULL, *o = NULL;
    CHECK_STATUS(failures, obj_type_new(heap, "K", NULL, 0, NULL, &k), OBJ_OK);
    CHECK_STATUS(failures, set_fn(heap, k, "__del__", failing_del), OBJ_OK);
    CHECK_STATUS(failures, obj_alloc(k, &o), OBJ_OK);
    obj_decref(o);
    CHECK(failures, dels_failed == 1);

    /* A busy __del__, by refcount and in a cycle. */
    obj_t *b = NULL;
    CHECK_STATUS(failures, obj_type_new(heap, "Busy", NULL, 0, NULL, &b), OBJ_OK);
    CHECK_STATUS(failures, set_fn(heap, b, "__del__", busy_del), OBJ_OK);
    CHECK_STATUS(failures, set_fn(heap, b, "twice", twice), OBJ_OK);
    CHECK_STATUS(failures, obj_alloc(b, &o), OBJ_OK);
    obj_t *n = test_int(heap, 21);
    CHECK_STATUS(failures, obj_setattr_str(o, "n", n), OBJ_OK);
    obj_decref(o);
    CHECK(failures, dels_busy == 1);
    CHECK_STATUS(failures, obj_alloc(b, &o), OBJ_OK);
    CHECK_STATUS(failures, obj_setattr_str(o, "me", o), OBJ_OK);
    obj_decref(o);
    CHECK_STATUS(failures, obj_gc_collect(heap, -1, NULL), OBJ_OK);
    CHECK(failures, dels_busy == 2);

    /* Resurrection: intact and usable; freed later without a second __del__. */
    obj_t *r = NULL;
    CHECK_STATUS(failures, obj_type_new(heap, "Phoenix", NULL, 0, NULL, &r), OBJ_OK);
    CHECK_STATUS(failures, set_fn(heap, r, "__del__", resurrecting_del), OBJ_OK);
    CHECK_STATUS(failures, obj_alloc(r, &o), OBJ_OK);
    CHECK_STATUS(failures, obj_setattr_str(o, "n", n), OBJ_OK);
    obj_decref(o);
    CHECK(failures, saved == o);
    obj_t *got = NULL;
    CHECK_STATUS(failures, obj_getattr_str(saved, "n", &got), OBJ_OK);
    CHECK_INT_OBJ(failures, got, 21);
    obj_decref(got);
    obj_t *again = saved;
    saved = NULL;
    obj_decref(again);
    CHECK(failures, saved == NULL);

    /* Host functions three deep. */
    obj_t *c = NULL;
    CHECK_STATUS(failures, obj_type_new(heap, "C", NULL, 0, NULL, &c), OBJ_OK);
    CHECK_STATUS(failures, set_fn(heap, c, "count", count), OBJ_OK);
    obj_t *inner = new_fn(heap, "inner", nest, NULL);
    obj_t *middle = new_fn(heap, "middle", nest, inner);
    obj_t *outer = new_fn(heap, "outer", nest, middle);
    CHECK_STATUS(failures, obj_alloc(c, &o), OBJ_OK);
    obj_t *res = NULL;
    CHECK_STATUS(failures, obj_call(outer, &o, 1, &res), OBJ_OK);
    CHECK_INT_OBJ(failures, res, 7);
    obj_decref(res);
    obj_decref(o);
    obj_decref(outer);
    obj_decref(middle);
    obj_decref(inner);

    /* A host function that overwrites its caller's argument array, called
     * as a function and as a method (self first): every count it was
     * given comes back, none is taken from what it wrote there. */
    obj_t *scribbler = new_fn(heap, "scribble", scribble, heap);
    CHECK_STATUS(failures, set_fn(heap, c, "scribble", scribble), OBJ_OK);
    CHECK_STATUS(failures, obj_alloc(c, &o), OBJ_OK);
    obj_t *a0 = test_int(heap, 1000001), *a1 = test_int(heap, 1000002);
    scribbled = test_int(heap, 1000003);
    size_t counts[] = {obj_refcount(a0), obj_refcount(a1), obj_refcount(scribbled)};
    scratch_args[0] = a0;
    scratch_args[1] = a1;
    CHECK_STATUS(failures, obj_call(scribbler, scratch_args, 2, &res), OBJ_OK);
    CHECK_INT_OBJ(failures, res, 2);
    obj_decref(res);
    scratch_args[0] = a0;
    scratch_args[1] = a1;
    CHECK_STATUS(failures, obj_call_method_str(o, "scribble", scratch_args, 2, &res), OBJ_OK);
    CHECK_INT_OBJ(failures, res, 3);
    obj_decref(res);
    CHECK(failures, obj_refcount(a0) == counts[0] && obj_refcount(a1) == counts[1] &&
                        obj_refcount(scribbled) == counts[2]);
    obj_decref(a0);
    obj_decref(a1);
    obj_decref(scribbled);
    obj_decref(o);
    obj_decref(scribbler);

    /* A payload cycle whose clear hook calls back into the API. */
    obj_type_spec_t spec = {.payload_size = sizeof(struct holder),
                            .slots = NULL,
                            .nslots = 0,
                            .has_dict = true,
                            .traverse = holder_traverse,
                            .clear = holder_clear,
                            .finalize = NULL};
    obj_t *h = NULL;
    CHECK_STATUS(failures, obj_type_new(heap, "Holder", NULL, 0, &spec, &h), OBJ_OK);
    obj_t *x = NULL, *y = NULL;
    CHECK_STATUS(failures, obj_alloc(h, &x), OBJ_OK);
    CHECK_STATUS(failures, obj_alloc(h, &y), OBJ_OK);
    obj_incref(y);
    ((struct holder *)obj_payload(x))->held = y;
    obj_incref(x);
    ((struct holder *)obj_payload(y))->held = x;
    obj_decref(x);
    obj_decref(y);
    size_t collected = 0;
    CHECK_STATUS(failures, obj_gc_collect(heap, -1, &collected), OBJ_OK);
    CHECK(failures, collected == 2 && clears >= 1);

    obj_decref(n);
    obj_t *classes[] = {k, b, r, c, h};
    for (size_t i = 0; i < sizeof classes / sizeof classes[0]; ++i) obj_decref(classes[i]);
    CHECK_STATUS(failures, obj_gc_collect(heap, -1, NULL), OBJ_OK);
    CHECK_STATUS(failures, obj_heap_check(heap), OBJ_OK);
    CHECK(failures, test_live(heap) == base);
    for (size_t i = 0; i < sizeof names / sizeof names[0]; ++i) obj_decref(interned[i]);
    obj_heap_free(heap);
    return failures;
}
