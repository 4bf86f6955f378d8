/* Call-site caches (contract 1.1, issue 12): obj_getattr_cached,
 * obj_setattr_cached and obj_call_method_cached give exactly what
 * obj_getattr, obj_setattr and obj_call_method give (results, statuses,
 * messages), however the class, the instance, the name or the heap change
 * between calls; a cache holds no reference; NULLs are refused. Every
 * lookup below runs three times, so the first fills the cache and the
 * others hit it (or find it stale). objffi.h's inline hits
 * (obj_getattr_cached_inline, obj_setattr_cached_inline, and
 * obj_getattr_inline, obj_setattr_inline through the heap's own cache)
 * answer the same. */
#define _POSIX_C_SOURCE 200809L
#include "objffi.h" /* first: the header must compile on its own */

#include <pthread.h>
#include <stdlib.h>

#include "check.h"

int objffi_c_test_cache(void);

static obj_heap_t *heap;

static obj_t *interned(const char *s) {
    obj_t *n = NULL;
    if (obj_intern(heap, s, strlen(s), &n) != OBJ_OK) return NULL;
    return n;
}

static obj_t *integer(int64_t v) {
    obj_t *o = NULL;
    if (obj_int_new(heap, v, &o) != OBJ_OK) return NULL;
    return o;
}

/* The repr of a result, or of the error, for comparing two calls. */
static char *outcome(obj_status_t st, obj_t *result) {
    char buf[512];
    if (st != OBJ_OK) {
        snprintf(buf, sizeof buf, "%s: %s", obj_status_name(st), obj_last_error());
    } else {
        obj_t *r = NULL;
        const char *text = "?";
        size_t len = 1;
        if (obj_repr(result, &r) == OBJ_OK && obj_str_data(r, &text, &len) == OBJ_OK) {
            snprintf(buf, sizeof buf, "ok: %.*s", (int)len, text);
        } else {
            snprintf(buf, sizeof buf, "ok: (no repr)");
        }
        obj_decref(r);
        obj_decref(result);
    }
    char *copy = malloc(strlen(buf) + 1);
    strcpy(copy, buf);
    return copy;
}

/* getattr(o, name) both ways, three times: the same outcome each time. */
static int same_getattr(obj_t *o, obj_t *name, obj_attr_cache_t *cache, const char *want) {
    int failures = 0;
    for (int round = 0; round < 3; ++round) {
        obj_t *r = NULL;
        obj_status_t st = obj_getattr(o, name, &r);
        char *plain = outcome(st, r);
        /* objffi.h's inline hits first, with the caches as the last call
         * through them left them (for another object, maybe), then the
         * export. */
        r = NULL;
        st = obj_getattr_inline(o, name, &r);
        char *shared_hit = outcome(st, r);
        CHECK_STR(failures, shared_hit, plain);
        free(shared_hit);
        r = NULL;
        st = obj_getattr_cached_inline(o, name, cache, &r);
        char *inline_hit = outcome(st, r);
        CHECK_STR(failures, inline_hit, plain);
        r = NULL;
        st = obj_getattr_cached(o, name, cache, &r);
        char *cached = outcome(st, r);
        CHECK_STR(failures, cached, plain);
        if (want != NULL) CHECK_STR(failures, cached, want);
        free(plain);
        free(cached);
        free(inline_hit);
    }
    return failures;
}

/* setattr(o, name, v) through `cache` by the inline hit, twice (to fill
 * the cache, then to hit it), then by obj_setattr_inline (the heap's own
 * cache), then getattr every way: `want` (the repr of v). */
static int set_and_see(obj_t *o, obj_t *name, obj_t *v, obj_attr_cache_t *cache, const char *want) {
    int failures = 0;
    CHECK_STATUS(failures, obj_setattr_cached_inline(o, name, v, cache), OBJ_OK);
    CHECK_STATUS(failures, obj_setattr_cached_inline(o, name, v, cache), OBJ_OK);
    CHECK_STATUS(failures, obj_setattr_inline(o, name, v), OBJ_OK);
    obj_attr_cache_t get = OBJ_ATTR_CACHE_INIT;
    failures += same_getattr(o, name, &get, want);
    return failures;
}

static obj_status_t add(void *data, obj_t *const *args, size_t nargs, obj_t **result) {
    (void)data;
    int64_t a = 0, b = 0;
    if (nargs != 2 || obj_int_value(args[1], &b) != OBJ_OK) return OBJ_ERR_TYPE;
    /* self.base + b */
    obj_t *base = NULL;
    if (obj_getattr_str(args[0], "base", &base) != OBJ_OK) return OBJ_ERR_CALLBACK;
    obj_status_t st = obj_int_value(base, &a);
    obj_decref(base);
    if (st != OBJ_OK) return st;
    return obj_int_new(heap, a + b, result);
}

static obj_status_t twice(void *data, obj_t *const *args, size_t nargs, obj_t **result) {
    (void)data;
    int64_t b = 0;
    if (nargs != 2 || obj_int_value(args[1], &b) != OBJ_OK) return OBJ_ERR_TYPE;
    return obj_int_new(heap, 2 * b, result);
}

static obj_status_t fallback(void *data, obj_t *const *args, size_t nargs, obj_t **result) {
    (void)data;
    (void)args;
    (void)nargs;
    return obj_int_new(heap, 99, result);
}

/* A method that rebinds itself on its class while it runs. */
static obj_status_t rebinds(void *data, obj_t *const *args, size_t nargs, obj_t **result) {
    obj_t *replacement = data;
    if (nargs != 1) return OBJ_ERR_TYPE;
    obj_t *cls = obj_type_of(args[0]);
    if (obj_setattr_str(cls, "m", replacement) != OBJ_OK) return OBJ_ERR_CALLBACK;
    return obj_int_new(heap, 1, result);
}

static obj_status_t returns_two(void *data, obj_t *const *args, size_t nargs, obj_t **result) {
    (void)data;
    (void)args;
    (void)nargs;
    return obj_int_new(heap, 2, result);
}

/* A class spec: one slot, `s`, and a __dict__. */
static obj_type_spec_t slot_s_and_dict(void) {
    static const char *const slots[] = {"s"};
    obj_type_spec_t spec = {0};
    spec.slots = slots;
    spec.nslots = 1;
    spec.has_dict = true;
    return spec;
}

/* Each kind of attribute, and each way a cached answer goes stale. */
static int getattr_kinds(void) {
    int failures = 0;
    obj_type_spec_t spec = slot_s_and_dict();

    obj_t *base = NULL, *cls = NULL, *o = NULL, *other = NULL, *f = NULL;
    CHECK_STATUS(failures, obj_type_new(heap, "Base", NULL, 0, NULL, &base), OBJ_OK);
    CHECK_STATUS(failures, obj_type_new(heap, "C", &base, 1, &spec, &cls), OBJ_OK);
    CHECK_STATUS(failures, obj_function_new(heap, "add", add, NULL, &f), OBJ_OK);
    CHECK_STATUS(failures, obj_setattr_str(base, "add", f), OBJ_OK);
    obj_t *seven = integer(7), *eight = integer(8);
    CHECK_STATUS(failures, obj_setattr_str(base, "k", seven), OBJ_OK);
    CHECK_STATUS(failures, obj_call(cls, NULL, 0, &o), OBJ_OK);
    CHECK_STATUS(failures, obj_call(cls, NULL, 0, &other), OBJ_OK);
    CHECK_STATUS(failures, obj_setattr_str(o, "x", seven), OBJ_OK);
    CHECK_STATUS(failures, obj_setattr_str(o, "s", eight), OBJ_OK);

    obj_t *x = interned("x"), *s = interned("s"), *k = interned("k"), *add_name = interned("add");
    obj_t *missing = interned("missing");
    obj_attr_cache_t cx = OBJ_ATTR_CACHE_INIT, cs = OBJ_ATTR_CACHE_INIT,
                     ck = OBJ_ATTR_CACHE_INIT, cm = OBJ_ATTR_CACHE_INIT,
                     cmiss = OBJ_ATTR_CACHE_INIT;

    failures += same_getattr(o, x, &cx, "ok: 7");
    failures += same_getattr(o, s, &cs, "ok: 8");
    failures += same_getattr(o, k, &ck, "ok: 7");
    failures += same_getattr(o, add_name, &cm, NULL);
    failures += same_getattr(o, missing, &cmiss,
                             "OBJ_ERR_ATTRIBUTE: 'C' object has no attribute 'missing'");

    /* The instance value changes; another instance without it; with it later. */
    CHECK_STATUS(failures, obj_setattr_str(o, "x", eight), OBJ_OK);
    failures += same_getattr(o, x, &cx, "ok: 8");
    failures += same_getattr(other, x, &cx,
                             "OBJ_ERR_ATTRIBUTE: 'C' object has no attribute 'x'");
    CHECK_STATUS(failures, obj_setattr_str(other, "x", seven), OBJ_OK);
    failures += same_getattr(other, x, &cx, "ok: 7");
    /* Deleting it (dict mode from then on). */
    CHECK_STATUS(failures, obj_delattr_str(o, "x"), OBJ_OK);
    failures += same_getattr(o, x, &cx, "OBJ_ERR_ATTRIBUTE: 'C' object has no attribute 'x'");
    /* An unset slot. */
    CHECK_STATUS(failures, obj_delattr_str(o, "s"), OBJ_OK);
    failures += same_getattr(o, s, &cs, "OBJ_ERR_ATTRIBUTE: 'C' object has no attribute 's'");
    /* The base's class attribute changes; an instance attribute shadows it. */
    CHECK_STATUS(failures, obj_setattr_str(base, "k", eight), OBJ_OK);
    failures += same_getattr(other, k, &ck, "ok: 8");
    CHECK_STATUS(failures, obj_setattr_str(other, "k", seven), OBJ_OK);
    failures += same_getattr(other, k, &ck, "ok: 7");
    /* A property appears on the base: it wins over the instance value. */
    obj_t *getter = NULL, *prop = NULL;
    CHECK_STATUS(failures, obj_function_new(heap, "getter", fallback, NULL, &getter), OBJ_OK);
    CHECK_STATUS(failures, obj_property_new(heap, getter, NULL, &prop), OBJ_OK);
    CHECK_STATUS(failures, obj_setattr_str(base, "k", prop), OBJ_OK);
    failures += same_getattr(other, k, &ck, "ok: 99");
    /* __getattr__ answers what is missing. */
    CHECK_STATUS(failures, obj_setattr_str(base, "__getattr__", getter), OBJ_OK);
    failures += same_getattr(o, missing, &cmiss, "ok: 99");

    /* The same cache across objects of other types and kinds. */
    obj_attr_cache_t any = OBJ_ATTR_CACHE_INIT;
    failures += same_getattr(o, add_name, &any, NULL);
    failures += same_getattr(cls, add_name, &any, NULL);
    failures += same_getattr(seven, add_name, &any,
                             "OBJ_ERR_ATTRIBUTE: 'int' object has no attribute 'add'");
    failures += same_getattr(other, add_name, &any, NULL);

    /* A name that is not interned gives the same answers (uncached), and a
     * name that is no str the same TypeError. */
    obj_t *fresh_x = test_str(heap, "k");
    failures += same_getattr(other, fresh_x, &any, "ok: 99");
    failures += same_getattr(other, seven, &any,
                             "OBJ_ERR_TYPE: attribute name must be string, not 'int'");

    /* NULLs. */
    obj_t *r = NULL;
    CHECK_STATUS(failures, obj_getattr_cached(o, x, NULL, &r), OBJ_ERR_NULL_ARG);
    CHECK_STATUS(failures, obj_getattr_cached(NULL, x, &cx, &r), OBJ_ERR_NULL_ARG);
    CHECK_STATUS(failures, obj_getattr_cached(o, NULL, &cx, &r), OBJ_ERR_NULL_ARG);
    CHECK_STATUS(failures, obj_getattr_cached(other, k, &ck, NULL), OBJ_ERR_NULL_ARG);
    CHECK_STATUS(failures, obj_setattr_cached(o, x, seven, NULL), OBJ_ERR_NULL_ARG);
    CHECK_STATUS(failures, obj_getattr_cached_inline(o, x, NULL, &r), OBJ_ERR_NULL_ARG);
    CHECK_STATUS(failures, obj_getattr_cached_inline(NULL, x, &cx, &r), OBJ_ERR_NULL_ARG);
    CHECK_STATUS(failures, obj_getattr_cached_inline(o, NULL, &cx, &r), OBJ_ERR_NULL_ARG);
    CHECK_STATUS(failures, obj_getattr_cached_inline(other, k, &ck, NULL), OBJ_ERR_NULL_ARG);
    CHECK_STATUS(failures, obj_setattr_cached_inline(o, x, seven, NULL), OBJ_ERR_NULL_ARG);
    CHECK_STATUS(failures, obj_setattr_cached_inline(NULL, x, seven, &cx), OBJ_ERR_NULL_ARG);
    CHECK_STATUS(failures, obj_setattr_cached_inline(o, NULL, seven, &cx), OBJ_ERR_NULL_ARG);
    CHECK_STATUS(failures, obj_setattr_cached_inline(o, x, NULL, &cx), OBJ_ERR_NULL_ARG);
    CHECK_STATUS(failures, obj_getattr_inline(NULL, x, &r), OBJ_ERR_NULL_ARG);
    CHECK_STATUS(failures, obj_getattr_inline(o, NULL, &r), OBJ_ERR_NULL_ARG);
    CHECK_STATUS(failures, obj_getattr_inline(other, k, NULL), OBJ_ERR_NULL_ARG);
    CHECK_STATUS(failures, obj_setattr_inline(NULL, x, seven), OBJ_ERR_NULL_ARG);
    CHECK_STATUS(failures, obj_setattr_inline(o, NULL, seven), OBJ_ERR_NULL_ARG);
    CHECK_STATUS(failures, obj_setattr_inline(o, x, NULL), OBJ_ERR_NULL_ARG);
    CHECK_STATUS(failures, obj_call_method_cached(o, add_name, NULL, 0, NULL, &r),
                 OBJ_ERR_NULL_ARG);

    obj_decref(fresh_x);
    obj_decref(prop);
    obj_decref(getter);
    obj_decref(seven);
    obj_decref(eight);
    obj_decref(o);
    obj_decref(other);
    obj_decref(f);
    obj_decref(cls);
    obj_decref(base);
    return failures;
}

/* setattr through a cache: values replaced, slots set, a class's
 * namespace changed, and the errors obj_setattr gives (a read-only
 * built-in, a name that is no str). */
static int setattr_kinds(void) {
    int failures = 0;
    obj_type_spec_t spec = slot_s_and_dict();
    obj_t *cls = NULL, *o = NULL;
    CHECK_STATUS(failures, obj_type_new(heap, "S", NULL, 0, &spec, &cls), OBJ_OK);
    CHECK_STATUS(failures, obj_call(cls, NULL, 0, &o), OBJ_OK);
    obj_t *x = interned("x"), *s = interned("s");
    obj_attr_cache_t cx = OBJ_ATTR_CACHE_INIT, cs = OBJ_ATTR_CACHE_INIT,
                     get = OBJ_ATTR_CACHE_INIT;
    for (int64_t i = 0; i < 5; ++i) {
        obj_t *v = integer(i);
        CHECK_STATUS(failures, obj_setattr_cached(o, x, v, &cx), OBJ_OK);
        CHECK_STATUS(failures, obj_setattr_cached(o, s, v, &cs), OBJ_OK);
        obj_decref(v);
        obj_t *r = NULL;
        int64_t got = -1;
        CHECK_STATUS(failures, obj_getattr_cached(o, x, &get, &r), OBJ_OK);
        CHECK_STATUS(failures, obj_int_value(r, &got), OBJ_OK);
        CHECK(failures, got == i);
        obj_decref(r);
        r = NULL;
        CHECK_STATUS(failures, obj_getattr_str(o, "s", &r), OBJ_OK);
        CHECK_STATUS(failures, obj_int_value(r, &got), OBJ_OK);
        CHECK(failures, got == i);
        obj_decref(r);
    }
    /* On the class: its namespace changes, and instances see it. */
    obj_t *one = integer(1);
    obj_attr_cache_t cc = OBJ_ATTR_CACHE_INIT;
    obj_t *c = interned("c");
    CHECK_STATUS(failures, obj_setattr_cached(cls, c, one, &cc), OBJ_OK);
    failures += same_getattr(o, c, &get, "ok: 1");
    /* A read-only built-in, and a non-str name, as obj_setattr says. */
    CHECK_STATUS(failures, obj_setattr_cached(one, x, one, &cx), OBJ_ERR_ATTRIBUTE);
    char *cached = strdup(obj_last_error());
    CHECK_STATUS(failures, obj_setattr(one, x, one), OBJ_ERR_ATTRIBUTE);
    CHECK_STR(failures, cached, obj_last_error());
    free(cached);
    CHECK_ERROR(failures, obj_setattr_cached(o, one, one, &cx), OBJ_ERR_TYPE,
                "attribute name must be string, not 'int'");
    obj_decref(one);
    obj_decref(o);
    obj_decref(cls);
    return failures;
}

/* Method calls through a cache, with the method changing under it. */
static int call_method_kinds(void) {
    int failures = 0;
    obj_t *cls = NULL, *o = NULL, *f = NULL, *g = NULL, *two = NULL, *rebinder = NULL;
    CHECK_STATUS(failures, obj_type_new(heap, "M", NULL, 0, NULL, &cls), OBJ_OK);
    CHECK_STATUS(failures, obj_function_new(heap, "add", add, NULL, &f), OBJ_OK);
    CHECK_STATUS(failures, obj_function_new(heap, "twice", twice, NULL, &g), OBJ_OK);
    CHECK_STATUS(failures, obj_setattr_str(cls, "m", f), OBJ_OK);
    CHECK_STATUS(failures, obj_call(cls, NULL, 0, &o), OBJ_OK);
    obj_t *base = integer(100), *arg = integer(5);
    CHECK_STATUS(failures, obj_setattr_str(o, "base", base), OBJ_OK);
    obj_t *m = interned("m");
    obj_attr_cache_t cm = OBJ_ATTR_CACHE_INIT;
    int64_t want[] = {105, 105, 105, 10, 10, 99};
    for (int i = 0; i < 6; ++i) {
        if (i == 3) CHECK_STATUS(failures, obj_setattr_str(cls, "m", g), OBJ_OK);
        if (i == 5) {
            /* A callable instance attribute shadows the method. */
            obj_t *fb = NULL;
            CHECK_STATUS(failures, obj_function_new(heap, "fb", fallback, NULL, &fb), OBJ_OK);
            CHECK_STATUS(failures, obj_setattr_str(o, "m", fb), OBJ_OK);
            obj_decref(fb);
        }
        obj_t *r = NULL;
        int64_t got = -1;
        CHECK_STATUS(failures, obj_call_method_cached(o, m, &arg, 1, &cm, &r), OBJ_OK);
        CHECK_STATUS(failures, obj_int_value(r, &got), OBJ_OK);
        CHECK(failures, got == want[i]);
        obj_decref(r);
    }
    /* A method that rebinds itself while it runs: the call finishes, the
     * next call runs the new method. */
    obj_t *cls2 = NULL, *o2 = NULL;
    CHECK_STATUS(failures, obj_type_new(heap, "R", NULL, 0, NULL, &cls2), OBJ_OK);
    CHECK_STATUS(failures, obj_function_new(heap, "two", returns_two, NULL, &two), OBJ_OK);
    CHECK_STATUS(failures, obj_function_new(heap, "rebinds", rebinds, two, &rebinder), OBJ_OK);
    CHECK_STATUS(failures, obj_setattr_str(cls2, "m", rebinder), OBJ_OK);
    obj_decref(rebinder);
    CHECK_STATUS(failures, obj_call(cls2, NULL, 0, &o2), OBJ_OK);
    obj_attr_cache_t cr = OBJ_ATTR_CACHE_INIT;
    for (int64_t i = 1; i <= 3; ++i) {
        obj_t *r = NULL;
        int64_t got = -1;
        CHECK_STATUS(failures, obj_call_method_cached(o2, m, NULL, 0, &cr, &r), OBJ_OK);
        CHECK_STATUS(failures, obj_int_value(r, &got), OBJ_OK);
        CHECK(failures, got == (i == 1 ? 1 : 2));
        obj_decref(r);
    }
    /* A warm call site refuses bad arguments as the full path does: NULL
     * in the array, an object of another heap, a NULL array or result. */
    obj_heap_t *other = obj_heap_new();
    obj_t *theirs = NULL;
    CHECK_STATUS(failures, obj_int_new(other, 1, &theirs), OBJ_OK);
    obj_t *ok_args[] = {arg}, *null_args[] = {NULL}, *their_args[] = {theirs};
    obj_t *o3 = NULL;
    CHECK_STATUS(failures, obj_call(cls, NULL, 0, &o3), OBJ_OK);
    CHECK_STATUS(failures, obj_setattr_str(cls, "m", f), OBJ_OK);
    CHECK_STATUS(failures, obj_setattr_str(o3, "base", base), OBJ_OK);
    obj_attr_cache_t cw = OBJ_ATTR_CACHE_INIT;
    struct {
        obj_t **args;
        size_t nargs;
        int null_result;
        const char *want;
    } calls[] = {
        {ok_args, 1, 0, "ok: 105"},
        {ok_args, 1, 0, "ok: 105"},
        {null_args, 1, 0, "OBJ_ERR_NULL_ARG: obj_call_method: argument 'args[0]' is NULL"},
        {their_args, 1, 0, "OBJ_ERR_HEAP_MISMATCH: objects of two heaps cannot be mixed"},
        {NULL, 1, 0, "OBJ_ERR_NULL_ARG: obj_call_method: argument 'args' is NULL"},
        {ok_args, 1, 1, "OBJ_ERR_NULL_ARG: obj_call_method: argument 'result' is NULL"},
        {ok_args, 1, 0, "ok: 105"},
    };
    for (size_t i = 0; i < sizeof calls / sizeof calls[0]; ++i) {
        obj_t *got = NULL;
        obj_t **out = calls[i].null_result ? NULL : &got;
        obj_status_t st = obj_call_method(o3, m, calls[i].args, calls[i].nargs, out);
        char *plain = outcome(st, got);
        CHECK_STR(failures, plain, calls[i].want);
        got = NULL;
        st = obj_call_method_cached(o3, m, calls[i].args, calls[i].nargs, &cw, out);
        char *cached = outcome(st, got);
        /* The same, but for the function's name in the message. */
        const char *cached_want = strstr(calls[i].want, "obj_call_method:") != NULL
                                      ? NULL
                                      : calls[i].want;
        if (cached_want != NULL) CHECK_STR(failures, cached, cached_want);
        else CHECK(failures, strstr(cached, "obj_call_method_cached:") != NULL);
        free(plain);
        free(cached);
    }
    obj_decref(o3);
    obj_decref(theirs);
    obj_heap_free(other);

    /* A missing method: obj_call_method's error. */
    obj_t *r = NULL;
    obj_t *nope = interned("nope");
    CHECK_ERROR(failures, obj_call_method_cached(o2, nope, NULL, 0, &cr, &r), OBJ_ERR_ATTRIBUTE,
                "'R' object has no attribute 'nope'");
    obj_decref(o2);
    obj_decref(cls2);
    obj_decref(two);
    obj_decref(base);
    obj_decref(arg);
    obj_decref(o);
    obj_decref(f);
    obj_decref(g);
    obj_decref(cls);
    return failures;
}

static int dels;

/* __del__(self): counts its calls. */
static obj_status_t count_del(void *data, obj_t *const *args, size_t nargs, obj_t **result) {
    (void)data;
    (void)args;
    (void)nargs;
    ++dels;
    *result = obj_none(heap);
    return OBJ_OK;
}

/* What a thread that does not own the heap gets from the inline hits (the
 * owner waits meanwhile: the calls are serialised, as the contract asks). */
struct foreign_calls {
    obj_t *o, *x, *v;
    obj_attr_cache_t *cache;
    obj_status_t set, get;
    obj_t *got;
};

static void *call_from_another_thread(void *arg) {
    struct foreign_calls *c = arg;
    c->set = obj_setattr_cached_inline(c->o, c->x, c->v, c->cache);
    c->get = obj_getattr_cached_inline(c->o, c->x, c->cache, &c->got);
    if (c->set == OBJ_OK) c->set = obj_setattr_inline(c->o, c->x, c->v);
    obj_t *again = NULL;
    if (c->get == OBJ_OK) c->get = obj_getattr_inline(c->o, c->x, &again);
    if (again != c->got) c->get = OBJ_ERR_VALUE;
    obj_decref(again);
    return NULL;
}

/* objffi.h's inline hits where they must not hit: an attribute to add, a
 * dict-mode instance, a class, a value of another heap, another thread;
 * and where they do, the value they replace dies as it would (its
 * __del__ runs). Every answer is the exported call's. */
static int inline_hits(void) {
    int failures = 0;
    obj_type_spec_t spec = slot_s_and_dict();
    obj_t *cls = NULL, *o = NULL, *mortal_cls = NULL, *del = NULL;
    CHECK_STATUS(failures, obj_type_new(heap, "I", NULL, 0, &spec, &cls), OBJ_OK);
    CHECK_STATUS(failures, obj_type_new(heap, "Mortal", NULL, 0, NULL, &mortal_cls), OBJ_OK);
    CHECK_STATUS(failures, obj_function_new(heap, "__del__", count_del, NULL, &del), OBJ_OK);
    CHECK_STATUS(failures, obj_setattr_str(mortal_cls, "__del__", del), OBJ_OK);
    CHECK_STATUS(failures, obj_call(cls, NULL, 0, &o), OBJ_OK);
    obj_t *x = interned("x"), *y = interned("y"), *s = interned("s");
    obj_attr_cache_t cx = OBJ_ATTR_CACHE_INIT, cy = OBJ_ATTR_CACHE_INIT, cs = OBJ_ATTR_CACHE_INIT;
    obj_t *seven = integer(7), *eight = integer(8);

    /* Adding x (a miss, then held inline), replacing it (hits); an empty
     * slot set, then replaced. */
    failures += set_and_see(o, x, seven, &cx, "ok: 7");
    failures += set_and_see(o, x, eight, &cx, "ok: 8");
    failures += set_and_see(o, x, seven, &cx, "ok: 7");
    failures += set_and_see(o, s, seven, &cs, "ok: 7");
    failures += set_and_see(o, s, eight, &cs, "ok: 8");
    /* The replaced value's last reference: its __del__ runs at once. */
    obj_t *mortal = NULL;
    CHECK_STATUS(failures, obj_call(mortal_cls, NULL, 0, &mortal), OBJ_OK);
    CHECK_STATUS(failures, obj_setattr_cached_inline(o, x, mortal, &cx), OBJ_OK);
    obj_decref(mortal);
    dels = 0;
    failures += set_and_see(o, x, seven, &cx, "ok: 7");
    CHECK(failures, dels == 1);
    CHECK_STATUS(failures, obj_call(mortal_cls, NULL, 0, &mortal), OBJ_OK);
    CHECK_STATUS(failures, obj_setattr_cached_inline(o, s, mortal, &cs), OBJ_OK);
    obj_decref(mortal);
    failures += set_and_see(o, s, eight, &cs, "ok: 8");
    CHECK(failures, dels == 2);

    /* A value of another heap: the exported call's mismatch, twice (the
     * second with the cache warm). */
    obj_heap_t *their_heap = obj_heap_new();
    obj_t *theirs = NULL;
    CHECK_STATUS(failures, obj_int_new(their_heap, 12345678, &theirs), OBJ_OK);
    for (int i = 0; i < 2; ++i) {
        CHECK_ERROR(failures, obj_setattr_cached_inline(o, x, theirs, &cx), OBJ_ERR_HEAP_MISMATCH,
                    "objects of two heaps cannot be mixed");
        CHECK_ERROR(failures, obj_setattr_inline(o, x, theirs), OBJ_ERR_HEAP_MISMATCH,
                    "objects of two heaps cannot be mixed");
    }
    obj_decref(theirs);
    obj_heap_free(their_heap);

    /* Another thread: what the exported calls give it. */
    obj_t *nine = integer(9);
    struct foreign_calls c = {o, x, nine, &cx, OBJ_ERR_VALUE, OBJ_ERR_VALUE, NULL};
    pthread_t t;
    CHECK(failures, pthread_create(&t, NULL, call_from_another_thread, &c) == 0);
    CHECK(failures, pthread_join(t, NULL) == 0);
    CHECK_STATUS(failures, c.set, OBJ_OK);
    CHECK_STATUS(failures, c.get, OBJ_OK);
    CHECK(failures, c.got == nine);
    obj_decref(c.got);
    obj_decref(nine);
    failures += same_getattr(o, x, &cx, "ok: 9");

    /* A second attribute added through the inline call (a miss each time
     * for another instance of the same class: it adds); then o in dict
     * mode: every answer from the exported calls. */
    obj_t *p = NULL;
    CHECK_STATUS(failures, obj_call(cls, NULL, 0, &p), OBJ_OK);
    failures += set_and_see(o, y, seven, &cy, "ok: 7");
    failures += set_and_see(p, y, eight, &cy, "ok: 8");
    failures += same_getattr(p, x, &cx,
                             "OBJ_ERR_ATTRIBUTE: 'I' object has no attribute 'x'");
    CHECK_STATUS(failures, obj_delattr_str(o, "y"), OBJ_OK);
    failures += set_and_see(o, x, eight, &cx, "ok: 8");
    failures += set_and_see(o, x, seven, &cx, "ok: 7");
    failures += same_getattr(o, y, &cy, "OBJ_ERR_ATTRIBUTE: 'I' object has no attribute 'y'");
    /* Values in an array (a third attribute): two instances of one shape,
     * one of another (the same keys in another order), and a value
     * replaced in each. */
    obj_t *a = interned("a"), *b = interned("b"), *z = interned("z");
    obj_t *spilled[3] = {NULL, NULL, NULL};
    obj_attr_cache_t cz = OBJ_ATTR_CACHE_INIT, cset = OBJ_ATTR_CACHE_INIT;
    for (int i = 0; i < 3; ++i) {
        CHECK_STATUS(failures, obj_call(cls, NULL, 0, &spilled[i]), OBJ_OK);
        obj_t *first = i == 2 ? b : a, *second = i == 2 ? a : b;
        CHECK_STATUS(failures, obj_setattr(spilled[i], first, seven), OBJ_OK);
        CHECK_STATUS(failures, obj_setattr(spilled[i], second, seven), OBJ_OK);
        obj_t *v = integer(100 + i);
        CHECK_STATUS(failures, obj_setattr(spilled[i], z, v), OBJ_OK);
        obj_decref(v);
    }
    failures += same_getattr(spilled[0], z, &cz, "ok: 100");
    failures += same_getattr(spilled[1], z, &cz, "ok: 101");
    failures += same_getattr(spilled[2], z, &cz, "ok: 102");
    failures += same_getattr(spilled[1], z, &cz, "ok: 101");
    for (int i = 0; i < 3; ++i) failures += set_and_see(spilled[i], z, eight, &cset, "ok: 8");
    failures += set_and_see(spilled[0], z, seven, &cset, "ok: 7");
    failures += set_and_see(spilled[2], z, seven, &cset, "ok: 7");
    failures += same_getattr(spilled[1], z, &cz, "ok: 8");
    for (int i = 0; i < 3; ++i) obj_decref(spilled[i]);

    /* A class attribute: for instances that hold their values inline or
     * none, then for one in dict mode (which might shadow it), then
     * shadowed; and on a class whose instances have no __dict__. */
    obj_t *k = interned("k");
    obj_attr_cache_t ck = OBJ_ATTR_CACHE_INIT;
    CHECK_STATUS(failures, obj_setattr_str(cls, "k", seven), OBJ_OK);
    obj_t *q = NULL;
    CHECK_STATUS(failures, obj_call(cls, NULL, 0, &q), OBJ_OK);
    failures += same_getattr(q, k, &ck, "ok: 7");
    failures += same_getattr(p, k, &ck, "ok: 7");
    failures += same_getattr(o, k, &ck, "ok: 7");
    CHECK_STATUS(failures, obj_setattr_str(o, "k", eight), OBJ_OK);
    failures += same_getattr(o, k, &ck, "ok: 8");
    failures += same_getattr(q, k, &ck, "ok: 7");
    CHECK_STATUS(failures, obj_setattr_str(q, "k", eight), OBJ_OK);
    failures += same_getattr(q, k, &ck, "ok: 8");
    failures += same_getattr(p, k, &ck, "ok: 7");
    obj_decref(q);
    static const char *const only_s[] = {"s"};
    obj_type_spec_t no_dict = {0};
    no_dict.slots = only_s;
    no_dict.nslots = 1;
    obj_t *slotted = NULL, *so = NULL;
    CHECK_STATUS(failures, obj_type_new(heap, "NoDict", NULL, 0, &no_dict, &slotted), OBJ_OK);
    CHECK_STATUS(failures, obj_setattr_str(slotted, "k", eight), OBJ_OK);
    CHECK_STATUS(failures, obj_call(slotted, NULL, 0, &so), OBJ_OK);
    failures += same_getattr(so, k, &ck, "ok: 8");
    failures += same_getattr(o, k, &ck, "ok: 8");
    failures += same_getattr(p, k, &ck, "ok: 7");
    CHECK_STATUS(failures, obj_setattr_str(slotted, "k", seven), OBJ_OK);
    failures += same_getattr(so, k, &ck, "ok: 7");
    obj_decref(so);
    obj_decref(slotted);
    /* The class itself, through the same caches. */
    failures += set_and_see(cls, x, eight, &cx, "ok: 8");
    failures += same_getattr(p, x, &cx, "ok: 8");

    obj_decref(p);
    obj_decref(seven);
    obj_decref(eight);
    obj_decref(o);
    obj_decref(del);
    obj_decref(mortal_cls);
    obj_decref(cls);
    return failures;
}

/* A cache outlives what it saw: the class, the instance and the heap are
 * freed (nothing kept alive, nothing leaked), and a new heap's objects at
 * the same addresses are answered right. */
static int outlives_its_heap(void) {
    int failures = 0;
    static obj_attr_cache_t site = OBJ_ATTR_CACHE_INIT;
    for (int64_t round = 0; round < 4; ++round) {
        heap = obj_heap_new();
        /* Names are immortal: interned before the count. */
        obj_t *x = interned("x");
        CHECK(failures, interned("y") != NULL && interned("T") != NULL);
        obj_heap_stats_t before, after;
        CHECK_STATUS(failures, obj_heap_stats(heap, &before), OBJ_OK);
        obj_t *cls = NULL, *o = NULL, *v = integer(1000 + round);
        /* Shapes differ between rounds: y first in odd rounds. */
        CHECK_STATUS(failures, obj_type_new(heap, "T", NULL, 0, NULL, &cls), OBJ_OK);
        CHECK_STATUS(failures, obj_call(cls, NULL, 0, &o), OBJ_OK);
        if (round % 2) CHECK_STATUS(failures, obj_setattr_str(o, "y", v), OBJ_OK);
        CHECK_STATUS(failures, obj_setattr_str(o, "x", v), OBJ_OK);
        for (int i = 0; i < 3; ++i) {
            obj_t *r = NULL;
            int64_t got = -1;
            /* The exported call, then objffi.h's inline hit. */
            CHECK_STATUS(failures,
                         i == 0 ? obj_getattr_cached(o, x, &site, &r)
                                : obj_getattr_cached_inline(o, x, &site, &r),
                         OBJ_OK);
            CHECK_STATUS(failures, obj_int_value(r, &got), OBJ_OK);
            CHECK(failures, got == 1000 + round);
            obj_decref(r);
        }
        obj_decref(v);
        obj_decref(o);
        obj_decref(cls);
        CHECK_STATUS(failures, obj_gc_collect(heap, 2, NULL), OBJ_OK);
        CHECK_STATUS(failures, obj_heap_stats(heap, &after), OBJ_OK);
        CHECK(failures, after.objects_live == before.objects_live);
        obj_heap_free(heap);
    }
    return failures;
}

int objffi_c_test_cache(void) {
    int failures = 0;
    heap = obj_heap_new();
    CHECK(failures, heap != NULL);
    failures += getattr_kinds();
    failures += setattr_kinds();
    failures += call_method_kinds();
    failures += inline_hits();
    CHECK_STATUS(failures, obj_heap_check(heap), OBJ_OK);
    obj_heap_free(heap);
    failures += outlives_its_heap();
    return failures;
}
