/* Host functions, methods, properties and calls over the C ABI: binding,
 * __init__, __repr__, __getattr__, __del__, and host functions that fail,
 * return nothing, or return an object of another heap. */
#include "objffi.h" /* first: the header must compile on its own */

#include "check.h"

int objffi_c_test_calls(void);

/* ----- host functions ------------------------------------------------------ */

/* data: the heap. Returns the number of arguments (self included). */
static obj_status_t count_args(void *data, obj_t *const *args, size_t nargs, obj_t **result) {
    (void)args;
    return obj_int_new((obj_heap_t *)data, (int64_t)nargs, result);
}

/* Returns its first argument. */
static obj_status_t first_arg(void *data, obj_t *const *args, size_t nargs, obj_t **result) {
    (void)data;
    if (nargs == 0) {
        obj_set_last_error("first_arg() takes at least 1 argument");
        return OBJ_ERR_TYPE;
    }
    obj_incref(args[0]);
    *result = args[0];
    return OBJ_OK;
}

/* data: a status to fail with, and no message of its own. */
static obj_status_t fail_quietly(void *data, obj_t *const *args, size_t nargs, obj_t **result) {
    (void)args;
    (void)nargs;
    (void)result;
    return (obj_status_t)(intptr_t)data;
}

/* Fails with a host's own code and a message. */
#define HOST_CODE ((obj_status_t)1234)
static obj_status_t fail_loudly(void *data, obj_t *const *args, size_t nargs, obj_t **result) {
    (void)data;
    (void)args;
    (void)nargs;
    (void)result;
    obj_set_last_error("the host said no");
    return HOST_CODE;
}

/* Returns OBJ_OK and no result: a host bug the library reports. */
static obj_status_t no_result(void *data, obj_t *const *args, size_t nargs, obj_t **result) {
    (void)data;
    (void)args;
    (void)nargs;
    (void)result;
    return OBJ_OK;
}

/* data: another heap. Returns a new str of that heap. */
static obj_status_t other_heap_result(void *data, obj_t *const *args, size_t nargs,
                                      obj_t **result) {
    (void)args;
    (void)nargs;
    return obj_str_new((obj_heap_t *)data, "stranger", 8, result);
}

/* __init__(self, x): self.x = x. A failure inside passes through. */
static obj_status_t init_x(void *data, obj_t *const *args, size_t nargs, obj_t **result) {
    if (nargs != 2) {
        obj_set_last_error("__init__() takes 2 arguments");
        return OBJ_ERR_TYPE;
    }
    obj_status_t st = obj_setattr_str(args[0], "x", args[1]);
    if (st != OBJ_OK) {
        return st;
    }
    *result = obj_none((obj_heap_t *)data);
    return OBJ_OK;
}

/* data: the heap. __repr__(self): a str naming self's x. */
static obj_status_t repr_x(void *data, obj_t *const *args, size_t nargs, obj_t **result) {
    (void)nargs;
    obj_t *x = NULL;
    obj_status_t st = obj_getattr_str(args[0], "x", &x); /* may fail: passed on */
    if (st != OBJ_OK) {
        return st;
    }
    char buf[64];
    st = test_repr(x, buf, sizeof buf);
    obj_decref(x);
    if (st != OBJ_OK) {
        return st;
    }
    char text[96];
    snprintf(text, sizeof text, "X(%s)", buf);
    return obj_str_new((obj_heap_t *)data, text, strlen(text), result);
}

/* __getattr__(self, name): "computed " + name. */
static obj_status_t getattr_hook(void *data, obj_t *const *args, size_t nargs, obj_t **result) {
    (void)nargs;
    const char *name = NULL;
    size_t len = 0;
    obj_status_t st = obj_str_data(args[1], &name, &len);
    if (st != OBJ_OK) {
        return st;
    }
    char text[64];
    snprintf(text, sizeof text, "computed %s", name);
    return obj_str_new((obj_heap_t *)data, text, strlen(text), result);
}

/* Property accessors keeping the value in self._secret. */
static obj_status_t get_secret(void *data, obj_t *const *args, size_t nargs, obj_t **result) {
    (void)data;
    (void)nargs;
    return obj_getattr_str(args[0], "_secret", result);
}

static obj_status_t set_secret(void *data, obj_t *const *args, size_t nargs, obj_t **result) {
    (void)nargs;
    obj_status_t st = obj_setattr_str(args[0], "_secret", args[1]);
    if (st == OBJ_OK) {
        *result = obj_none((obj_heap_t *)data);
    }
    return st;
}

/* __del__(self): counts its calls. */
static int del_calls;
static obj_status_t count_del(void *data, obj_t *const *args, size_t nargs, obj_t **result) {
    (void)args;
    (void)nargs;
    ++del_calls;
    *result = obj_none((obj_heap_t *)data);
    return OBJ_OK;
}

/* ----- tests ------------------------------------------------------------------ */

static obj_t *new_function(obj_heap_t *heap, const char *name, obj_cfunc_t fn, void *data) {
    obj_t *f = NULL;
    if (obj_function_new(heap, name, fn, data, &f) != OBJ_OK) {
        fprintf(stderr, "obj_function_new(%s): %s\n", name, obj_last_error());
    }
    return f;
}

static obj_t *new_class(obj_heap_t *heap, const char *name) {
    obj_t *t = NULL;
    if (obj_type_new(heap, name, NULL, 0, NULL, &t) != OBJ_OK) {
        fprintf(stderr, "obj_type_new(%s): %s\n", name, obj_last_error());
    }
    return t;
}

static int test_functions_and_methods(obj_heap_t *heap) {
    int failures = 0;
    obj_t *count = new_function(heap, "count", count_args, heap);
    CHECK_REPR(failures, count, "<built-in function count>");
    CHECK_REPR(failures, obj_type_of(count), "<class 'builtin_function_or_method'>");

    /* A plain call. */
    obj_t *one = test_int(heap, 1);
    obj_t *args[] = {one, one, one};
    obj_t *r = NULL;
    CHECK_STATUS(failures, obj_call(count, args, 3, &r), OBJ_OK);
    CHECK_INT_OBJ(failures, r, 3);
    CHECK_STATUS(failures, obj_call(count, NULL, 0, &r), OBJ_OK);
    CHECK_INT_OBJ(failures, r, 0);

    /* Stored once in the class, bound to each instance: self comes first. */
    obj_t *a = new_class(heap, "A");
    CHECK_STATUS(failures, obj_setattr_str(a, "count", count), OBJ_OK);
    obj_t *x = NULL;
    obj_t *y = NULL;
    CHECK_STATUS(failures, obj_call(a, NULL, 0, &x), OBJ_OK);
    CHECK_STATUS(failures, obj_call(a, NULL, 0, &y), OBJ_OK);
    obj_t *fx = NULL;
    obj_t *fy = NULL;
    obj_t *fa = NULL;
    CHECK_STATUS(failures, obj_getattr_str(a, "count", &fa), OBJ_OK);
    CHECK(failures, fa == count); /* through the class: the function itself */
    CHECK_STATUS(failures, obj_getattr_str(x, "count", &fx), OBJ_OK);
    CHECK_STATUS(failures, obj_getattr_str(y, "count", &fy), OBJ_OK);
    CHECK(failures, fx != count && fy != count && fx != fy); /* two bound methods */
    CHECK_REPR(failures, obj_type_of(fx), "<class 'method'>");
    char buf[128];
    CHECK_STATUS(failures, test_repr(fx, buf, sizeof buf), OBJ_OK);
    CHECK(failures, strncmp(buf, "<built-in method count of A object at 0x", 40) == 0);
    CHECK_STATUS(failures, obj_call(fx, args, 2, &r), OBJ_OK);
    CHECK_INT_OBJ(failures, r, 3); /* self + 2 */

    /* Calling a method by name: with the name as a str, or as C text. */
    obj_t *name = test_str(heap, "count");
    CHECK_STATUS(failures, obj_call_method(y, name, args, 1, &r), OBJ_OK);
    CHECK_INT_OBJ(failures, r, 2);
    CHECK_STATUS(failures, obj_call_method_str(y, "count", NULL, 0, &r), OBJ_OK);
    CHECK_INT_OBJ(failures, r, 1);
    /* Through the class, unbound: no self. */
    CHECK_STATUS(failures, obj_call_method_str(a, "count", args, 1, &r), OBJ_OK);
    CHECK_INT_OBJ(failures, r, 1);
    /* An instance attribute that is a function is not bound. */
    CHECK_STATUS(failures, obj_setattr_str(x, "own", count), OBJ_OK);
    CHECK_STATUS(failures, obj_call_method_str(x, "own", NULL, 0, &r), OBJ_OK);
    CHECK_INT_OBJ(failures, r, 0);
    obj_t *missing = NULL;
    CHECK_ERROR(failures, obj_call_method_str(x, "nope", NULL, 0, &missing), OBJ_ERR_ATTRIBUTE,
                "'A' object has no attribute 'nope'");
    CHECK(failures, missing == NULL);

    /* Not callable. */
    CHECK_ERROR(failures, obj_call(one, NULL, 0, &r), OBJ_ERR_TYPE, "'int' object is not callable");
    CHECK_ERROR(failures, obj_call(a, args, 1, &r), OBJ_ERR_TYPE, "A() takes no arguments");

    obj_t *objs[] = {fx, fy, fa, x, y, a, name, count};
    for (size_t i = 0; i < sizeof objs / sizeof objs[0]; ++i) {
        obj_decref(objs[i]);
    }
    return failures;
}

static int test_init_repr_getattr_del(obj_heap_t *heap) {
    int failures = 0;
    obj_t *b = new_class(heap, "B");
    obj_t *init = new_function(heap, "__init__", init_x, heap);
    obj_t *repr = new_function(heap, "__repr__", repr_x, heap);
    obj_t *hook = new_function(heap, "__getattr__", getattr_hook, heap);
    obj_t *del = new_function(heap, "__del__", count_del, heap);
    CHECK_STATUS(failures, obj_setattr_str(b, "__init__", init), OBJ_OK);
    CHECK_STATUS(failures, obj_setattr_str(b, "__repr__", repr), OBJ_OK);

    /* Calling a class: a new instance, then __init__ with the arguments. */
    obj_t *v = test_str(heap, "v");
    obj_t *o = NULL;
    CHECK_STATUS(failures, obj_call(b, &v, 1, &o), OBJ_OK);
    obj_t *got = NULL;
    CHECK_STATUS(failures, obj_getattr_str(o, "x", &got), OBJ_OK);
    CHECK(failures, got == v);
    obj_decref(got);
    CHECK_REPR(failures, o, "X('v')");
    /* __init__'s own failure passes through unchanged, message included. */
    obj_t *out = NULL;
    CHECK_ERROR(failures, obj_call(b, NULL, 0, &out), OBJ_ERR_TYPE, "__init__() takes 2 arguments");
    /* __repr__ failing inside: its status. */
    obj_t *bare = NULL;
    CHECK_STATUS(failures, obj_alloc(b, &bare), OBJ_OK);
    CHECK_ERROR(failures, obj_repr(bare, &out), OBJ_ERR_ATTRIBUTE, "'B' object has no attribute 'x'");
    CHECK(failures, out == NULL);

    /* __init__ must return None; __repr__ must return a str. */
    obj_t *c = new_class(heap, "C");
    obj_t *returns_self = new_function(heap, "__init__", first_arg, NULL);
    CHECK_STATUS(failures, obj_setattr_str(c, "__init__", returns_self), OBJ_OK);
    CHECK_ERROR(failures, obj_call(c, NULL, 0, &out), OBJ_ERR_TYPE,
                "__init__() should return None, not 'C'");
    CHECK_STATUS(failures, obj_delattr_str(c, "__init__"), OBJ_OK);
    CHECK_STATUS(failures, obj_setattr_str(c, "__repr__", returns_self), OBJ_OK);
    obj_t *ci = NULL;
    CHECK_STATUS(failures, obj_call(c, NULL, 0, &ci), OBJ_OK);
    CHECK_ERROR(failures, obj_repr(ci, &out), OBJ_ERR_TYPE, "__repr__ returned non-string (type C)");
    CHECK(failures, out == NULL);

    /* __getattr__ answers what the normal lookup does not find. */
    CHECK_STATUS(failures, obj_setattr_str(c, "__getattr__", hook), OBJ_OK);
    CHECK_STATUS(failures, obj_getattr_str(ci, "anything", &got), OBJ_OK);
    CHECK_STR_OBJ(failures, got, "computed anything");
    obj_decref(got);

    /* __del__ runs once, when the last reference goes. */
    CHECK_STATUS(failures, obj_setattr_str(c, "__del__", del), OBJ_OK);
    del_calls = 0;
    obj_incref(ci);
    obj_decref(ci);
    CHECK(failures, del_calls == 0);
    obj_decref(ci);
    CHECK(failures, del_calls == 1);

    obj_t *objs[] = {o, bare, v, b, c, init, repr, hook, del, returns_self};
    for (size_t i = 0; i < sizeof objs / sizeof objs[0]; ++i) {
        obj_decref(objs[i]);
    }
    return failures;
}

static int test_properties(obj_heap_t *heap) {
    int failures = 0;
    obj_t *getter = new_function(heap, "secret", get_secret, NULL);
    obj_t *setter = new_function(heap, "set_secret", set_secret, heap);
    obj_t *rw = NULL;
    obj_t *ro = NULL;
    CHECK_STATUS(failures, obj_property_new(heap, getter, setter, &rw), OBJ_OK);
    CHECK_STATUS(failures, obj_property_new(heap, getter, NULL, &ro), OBJ_OK);
    CHECK_REPR(failures, obj_type_of(rw), "<class 'property'>");
    obj_t *p = new_class(heap, "P");
    CHECK_STATUS(failures, obj_setattr_str(p, "secret", rw), OBJ_OK);
    CHECK_STATUS(failures, obj_setattr_str(p, "ro", ro), OBJ_OK);
    obj_t *o = NULL;
    CHECK_STATUS(failures, obj_call(p, NULL, 0, &o), OBJ_OK);

    /* The getter's failure passes through: nothing stored yet. */
    obj_t *got = NULL;
    CHECK_ERROR(failures, obj_getattr_str(o, "secret", &got), OBJ_ERR_ATTRIBUTE,
                "'P' object has no attribute '_secret'");
    /* The setter runs; a property (data descriptor) beats the instance __dict__. */
    obj_t *v = test_str(heap, "v");
    CHECK_STATUS(failures, obj_setattr_str(o, "secret", v), OBJ_OK);
    CHECK_STATUS(failures, obj_getattr_str(o, "secret", &got), OBJ_OK);
    CHECK(failures, got == v);
    obj_decref(got);
    CHECK_STATUS(failures, obj_getattr_str(o, "__dict__", &got), OBJ_OK);
    CHECK_REPR(failures, got, "{'_secret': 'v'}");
    obj_decref(got);
    CHECK_ERROR(failures, obj_setattr_str(o, "ro", v), OBJ_ERR_ATTRIBUTE,
                "property 'ro' of 'P' object has no setter");
    CHECK_ERROR(failures, obj_delattr_str(o, "secret"), OBJ_ERR_ATTRIBUTE,
                "property 'secret' of 'P' object has no deleter");

    /* Bad input. */
    obj_t *out = NULL;
    CHECK_STATUS(failures, obj_property_new(NULL, getter, NULL, &out), OBJ_ERR_NULL_ARG);
    CHECK_ERROR(failures, obj_property_new(heap, NULL, setter, &out), OBJ_ERR_NULL_ARG,
                "obj_property_new: argument 'getter' is NULL");
    CHECK_STATUS(failures, obj_property_new(heap, getter, NULL, NULL), OBJ_ERR_NULL_ARG);
    CHECK(failures, out == NULL);

    obj_t *objs[] = {o, p, v, rw, ro, getter, setter};
    for (size_t i = 0; i < sizeof objs / sizeof objs[0]; ++i) {
        obj_decref(objs[i]);
    }
    return failures;
}

static int test_failing_hosts(obj_heap_t *heap) {
    int failures = 0;
    obj_heap_t *other = obj_heap_new();
    obj_t *out = NULL;

    /* A host's status reaches the caller unchanged, a code of its own included. */
    obj_t *loud = new_function(heap, "loud", fail_loudly, NULL);
    CHECK_ERROR(failures, obj_call(loud, NULL, 0, &out), HOST_CODE, "the host said no");
    CHECK_STR(failures, obj_status_name(HOST_CODE), "OBJ_UNKNOWN");
    obj_t *quiet = new_function(heap, "quiet", fail_quietly, (void *)(intptr_t)OBJ_ERR_KEY);
    CHECK_ERROR(failures, obj_call(quiet, NULL, 0, &out), OBJ_ERR_KEY,
                "host function 'quiet' failed with OBJ_ERR_KEY");
    obj_t *odd = new_function(heap, "odd", fail_quietly, (void *)(intptr_t)-7);
    CHECK_ERROR(failures, obj_call(odd, NULL, 0, &out), (obj_status_t)-7,
                "host function 'odd' failed with OBJ_UNKNOWN");
    /* ...through a bound method, a method call, and a property too. */
    obj_t *k = new_class(heap, "K");
    CHECK_STATUS(failures, obj_setattr_str(k, "m", loud), OBJ_OK);
    obj_t *prop = NULL;
    CHECK_STATUS(failures, obj_property_new(heap, quiet, NULL, &prop), OBJ_OK);
    CHECK_STATUS(failures, obj_setattr_str(k, "p", prop), OBJ_OK);
    obj_t *inst = NULL;
    CHECK_STATUS(failures, obj_call(k, NULL, 0, &inst), OBJ_OK);
    CHECK_STATUS(failures, obj_call_method_str(inst, "m", NULL, 0, &out), HOST_CODE);
    obj_t *bound = NULL;
    CHECK_STATUS(failures, obj_getattr_str(inst, "m", &bound), OBJ_OK);
    CHECK_STATUS(failures, obj_call(bound, NULL, 0, &out), HOST_CODE);
    CHECK_STATUS(failures, obj_getattr_str(inst, "p", &out), OBJ_ERR_KEY);

    /* OBJ_OK without a result: a callback error, not a crash. */
    obj_t *nothing = new_function(heap, "nothing", no_result, NULL);
    CHECK_ERROR(failures, obj_call(nothing, NULL, 0, &out), OBJ_ERR_CALLBACK,
                "host function 'nothing' returned OBJ_OK without a result");
    /* A result of another heap: refused, and given back to its heap. */
    obj_t *stranger = new_function(heap, "stranger", other_heap_result, other);
    CHECK_ERROR(failures, obj_call(stranger, NULL, 0, &out), OBJ_ERR_HEAP_MISMATCH,
                "objects of two heaps cannot be mixed");
    CHECK(failures, test_live(other) == 0);
    CHECK(failures, out == NULL);

    /* Arguments of another heap. */
    obj_t *theirs = test_str(other, "theirs");
    obj_t *first = new_function(heap, "first", first_arg, NULL);
    CHECK_ERROR(failures, obj_call(first, &theirs, 1, &out), OBJ_ERR_HEAP_MISMATCH,
                "objects of two heaps cannot be mixed");
    CHECK_STATUS(failures, obj_call_method_str(inst, "m", &theirs, 1, &out),
                 OBJ_ERR_HEAP_MISMATCH);
    obj_t *m = test_str(heap, "m");
    CHECK_STATUS(failures, obj_call_method(inst, m, &theirs, 1, &out), OBJ_ERR_HEAP_MISMATCH);
    obj_t *m_theirs = test_str(other, "m");
    CHECK_STATUS(failures, obj_call_method(inst, m_theirs, NULL, 0, &out), OBJ_ERR_HEAP_MISMATCH);
    CHECK_STATUS(failures, obj_property_new(other, first, NULL, &out), OBJ_ERR_HEAP_MISMATCH);
    CHECK_STATUS(failures, obj_property_new(heap, first, m_theirs, &out), OBJ_ERR_HEAP_MISMATCH);
    CHECK(failures, out == NULL && obj_refcount(theirs) == 1);

    obj_t *objs[] = {loud, quiet, odd, k, prop, inst, bound, nothing, stranger, first, m};
    for (size_t i = 0; i < sizeof objs / sizeof objs[0]; ++i) {
        obj_decref(objs[i]);
    }
    obj_decref(theirs);
    obj_decref(m_theirs);
    obj_heap_free(other);
    return failures;
}

static int test_bad_input(obj_heap_t *heap) {
    int failures = 0;
    obj_t *out = NULL;
    obj_t *f = new_function(heap, "f", first_arg, NULL);
    obj_t *c = new_class(heap, "C");
    obj_t *o = NULL;
    CHECK_STATUS(failures, obj_call(c, NULL, 0, &o), OBJ_OK);
    obj_t *name = test_str(heap, "f");

    CHECK_ERROR(failures, obj_function_new(NULL, "f", first_arg, NULL, &out), OBJ_ERR_NULL_ARG,
                "obj_function_new: argument 'heap' is NULL");
    CHECK_STATUS(failures, obj_function_new(heap, NULL, first_arg, NULL, &out), OBJ_ERR_NULL_ARG);
    CHECK_ERROR(failures, obj_function_new(heap, "f", NULL, NULL, &out), OBJ_ERR_NULL_ARG,
                "obj_function_new: argument 'fn' is NULL");
    CHECK_STATUS(failures, obj_function_new(heap, "f", first_arg, NULL, NULL), OBJ_ERR_NULL_ARG);
    CHECK_STATUS(failures, obj_function_new(heap, "\xff", first_arg, NULL, &out), OBJ_ERR_VALUE);

    obj_t *args[] = {o, NULL};
    CHECK_STATUS(failures, obj_call(NULL, NULL, 0, &out), OBJ_ERR_NULL_ARG);
    CHECK_ERROR(failures, obj_call(f, args, 2, &out), OBJ_ERR_NULL_ARG,
                "obj_call: argument 'args[1]' is NULL");
    CHECK_STATUS(failures, obj_call(f, NULL, 1, &out), OBJ_ERR_NULL_ARG);
    CHECK_ERROR(failures, obj_call(f, args, 1, NULL), OBJ_ERR_NULL_ARG,
                "obj_call: argument 'result' is NULL");
    CHECK_STATUS(failures, obj_call_method(NULL, name, NULL, 0, &out), OBJ_ERR_NULL_ARG);
    CHECK_STATUS(failures, obj_call_method(o, NULL, NULL, 0, &out), OBJ_ERR_NULL_ARG);
    CHECK_STATUS(failures, obj_call_method(o, name, args, 2, &out), OBJ_ERR_NULL_ARG);
    CHECK_STATUS(failures, obj_call_method(o, name, NULL, 0, NULL), OBJ_ERR_NULL_ARG);
    CHECK_STATUS(failures, obj_call_method(o, o, NULL, 0, &out), OBJ_ERR_TYPE);
    CHECK_STATUS(failures, obj_call_method_str(NULL, "f", NULL, 0, &out), OBJ_ERR_NULL_ARG);
    CHECK_STATUS(failures, obj_call_method_str(o, NULL, NULL, 0, &out), OBJ_ERR_NULL_ARG);
    CHECK_STATUS(failures, obj_call_method_str(o, "f", args, 2, &out), OBJ_ERR_NULL_ARG);
    CHECK_STATUS(failures, obj_call_method_str(o, "f", NULL, 0, NULL), OBJ_ERR_NULL_ARG);
    CHECK_STATUS(failures, obj_call_method_str(o, "\xff", NULL, 0, &out), OBJ_ERR_VALUE);
    CHECK(failures, out == NULL);

    obj_decref(name);
    obj_decref(o);
    obj_decref(c);
    obj_decref(f);
    return failures;
}

int objffi_c_test_calls(void) {
    int failures = 0;
    obj_heap_t *heap = obj_heap_new();
    CHECK(failures, heap != NULL);
    if (heap == NULL) {
        return failures;
    }
    size_t live = test_live(heap);
    failures += test_functions_and_methods(heap);
    failures += test_init_repr_getattr_del(heap);
    failures += test_properties(heap);
    failures += test_failing_hosts(heap);
    failures += test_bad_input(heap);
    /* Only interned names (classes', functions', attributes') remain. */
    obj_heap_stats_t stats;
    CHECK_STATUS(failures, obj_heap_stats(heap, &stats), OBJ_OK);
    CHECK(failures, stats.objects_live >= live);
    obj_heap_free(heap);
    return failures;
}
