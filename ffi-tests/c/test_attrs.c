/* Attributes over the C ABI: CPython's lookup order, class namespaces seen by
 * subclasses and instances, the special names, slots, and every bad input.
 * (Properties and __getattr__, which need host functions, are in test_calls.c.) */
#include "objffi.h" /* first: the header must compile on its own */

#include <string.h>

#include "check.h"

int objffi_c_test_attrs(void);

static obj_t *new_class(obj_heap_t *heap, const char *name, obj_t *const *bases, size_t n) {
    obj_t *t = NULL;
    if (obj_type_new(heap, name, bases, n, NULL, &t) != OBJ_OK) {
        fprintf(stderr, "obj_type_new(%s): %s\n", name, obj_last_error());
    }
    return t;
}

static int test_lookup_order(obj_heap_t *heap) {
    int failures = 0;
    /* class Parent: name = None;  class Child(Parent): pass */
    obj_t *parent = new_class(heap, "Parent", NULL, 0);
    CHECK_STATUS(failures, obj_setattr_str(parent, "name", obj_none(heap)), OBJ_OK);
    obj_t *child = new_class(heap, "Child", &parent, 1);
    obj_t *andrey = NULL;
    obj_t *other = NULL;
    CHECK_STATUS(failures, obj_call(child, NULL, 0, &andrey), OBJ_OK);
    CHECK_STATUS(failures, obj_alloc(child, &other), OBJ_OK);

    /* The instance's own attribute first... */
    obj_t *name = test_str(heap, "Андрей");
    CHECK_STATUS(failures, obj_setattr_str(andrey, "name", name), OBJ_OK);
    CHECK(failures, obj_refcount(name) == 2);
    obj_t *got = NULL;
    CHECK_STATUS(failures, obj_getattr_str(andrey, "name", &got), OBJ_OK);
    CHECK(failures, got == name);
    obj_decref(got);
    /* ...then the class's MRO. */
    CHECK_STATUS(failures, obj_getattr_str(other, "name", &got), OBJ_OK);
    CHECK(failures, got == obj_none(heap));
    obj_decref(got);

    /* The same with the name as a str object (interned or not). */
    obj_t *key = test_str(heap, "name");
    CHECK_STATUS(failures, obj_getattr(andrey, key, &got), OBJ_OK);
    CHECK(failures, got == name);
    obj_decref(got);

    /* A class attribute changed later is seen at once below it. */
    obj_t *hello = test_str(heap, "hello");
    CHECK_STATUS(failures, obj_setattr(parent, key, hello), OBJ_OK);
    CHECK_STATUS(failures, obj_getattr_str(other, "name", &got), OBJ_OK);
    CHECK(failures, got == hello);
    obj_decref(got);
    CHECK_STATUS(failures, obj_getattr_str(child, "name", &got), OBJ_OK);
    CHECK(failures, got == hello);
    obj_decref(got);

    /* Deleting the instance's attribute uncovers the class's. */
    CHECK_STATUS(failures, obj_delattr(andrey, key), OBJ_OK);
    CHECK(failures, obj_refcount(name) == 1);
    CHECK_STATUS(failures, obj_getattr_str(andrey, "name", &got), OBJ_OK);
    CHECK(failures, got == hello);
    obj_decref(got);
    CHECK_ERROR(failures, obj_delattr_str(andrey, "name"), OBJ_ERR_ATTRIBUTE,
                "'Child' object has no attribute 'name'");
    CHECK_STATUS(failures, obj_delattr_str(parent, "name"), OBJ_OK);
    got = NULL;
    CHECK_ERROR(failures, obj_getattr_str(other, "name", &got), OBJ_ERR_ATTRIBUTE,
                "'Child' object has no attribute 'name'");
    CHECK_ERROR(failures, obj_getattr_str(child, "zzz", &got), OBJ_ERR_ATTRIBUTE,
                "type object 'Child' has no attribute 'zzz'");
    CHECK_ERROR(failures, obj_delattr_str(child, "zzz"), OBJ_ERR_ATTRIBUTE,
                "type object 'Child' has no attribute 'zzz'");
    CHECK(failures, got == NULL);

    /* The special names. */
    CHECK_STATUS(failures, obj_getattr_str(andrey, "__class__", &got), OBJ_OK);
    CHECK(failures, got == child);
    obj_decref(got);
    CHECK_STATUS(failures, obj_getattr_str(child, "__name__", &got), OBJ_OK);
    CHECK_STR_OBJ(failures, got, "Child");
    obj_decref(got);
    CHECK_STATUS(failures, obj_getattr_str(child, "__bases__", &got), OBJ_OK);
    CHECK_REPR(failures, got, "(<class 'Parent'>,)");
    obj_decref(got);
    CHECK_STATUS(failures, obj_getattr_str(child, "__mro__", &got), OBJ_OK);
    CHECK_REPR(failures, got, "(<class 'Child'>, <class 'Parent'>, <class 'object'>)");
    obj_decref(got);
    CHECK_STATUS(failures, obj_setattr_str(andrey, "x", hello), OBJ_OK);
    CHECK_STATUS(failures, obj_getattr_str(andrey, "__dict__", &got), OBJ_OK);
    CHECK_REPR(failures, got, "{'x': 'hello'}");
    obj_decref(got);

    /* Built-in types are immutable. */
    CHECK_ERROR(failures, obj_setattr_str(obj_type_of(hello), "x", hello), OBJ_ERR_TYPE,
                "cannot set 'x' attribute of immutable type 'str'");
    /* Built-in values have no __dict__. */
    CHECK_ERROR(failures, obj_setattr_str(hello, "x", hello), OBJ_ERR_ATTRIBUTE,
                "'str' object has no attribute 'x'");

    obj_t *objs[] = {andrey, other, child, parent, name, key, hello};
    for (size_t i = 0; i < sizeof objs / sizeof objs[0]; ++i) {
        obj_decref(objs[i]);
    }
    return failures;
}

static int test_slots(obj_heap_t *heap) {
    int failures = 0;
    static const char *const slot_names[] = {"x"};
    obj_type_spec_t spec = {
        .payload_size = 0,
        .slots = slot_names,
        .nslots = 1,
        .has_dict = false,
        .traverse = NULL,
        .clear = NULL,
        .finalize = NULL,
    };
    obj_t *s = NULL;
    CHECK_STATUS(failures, obj_type_new(heap, "S", NULL, 0, &spec, &s), OBJ_OK);
    obj_t *o = NULL;
    CHECK_STATUS(failures, obj_call(s, NULL, 0, &o), OBJ_OK);
    obj_t *got = NULL;
    CHECK_ERROR(failures, obj_getattr_str(o, "x", &got), OBJ_ERR_ATTRIBUTE,
                "'S' object has no attribute 'x'"); /* an unset slot */
    obj_t *v = test_str(heap, "v");
    CHECK_STATUS(failures, obj_setattr_str(o, "x", v), OBJ_OK);
    CHECK_STATUS(failures, obj_getattr_str(o, "x", &got), OBJ_OK);
    CHECK(failures, got == v);
    obj_decref(got);
    /* Neither a slot nor a __dict__: refused. */
    CHECK_ERROR(failures, obj_setattr_str(o, "y", v), OBJ_ERR_ATTRIBUTE,
                "'S' object has no attribute 'y'");
    /* A slot is a data descriptor: it wins over a class attribute of a subclass's instance. */
    obj_t *sub = new_class(heap, "T", &s, 1);
    obj_t *t = NULL;
    CHECK_STATUS(failures, obj_call(sub, NULL, 0, &t), OBJ_OK);
    CHECK_STATUS(failures, obj_setattr_str(t, "x", v), OBJ_OK);
    CHECK_STATUS(failures, obj_getattr_str(t, "__dict__", &got), OBJ_OK);
    CHECK_REPR(failures, got, "{}");
    obj_decref(got);
    CHECK_STATUS(failures, obj_delattr_str(o, "x"), OBJ_OK);
    CHECK(failures, obj_refcount(v) == 2); /* held by t's slot, and here */

    obj_decref(t);
    obj_decref(sub);
    obj_decref(o);
    obj_decref(s);
    CHECK(failures, obj_refcount(v) == 1);
    obj_decref(v);
    return failures;
}

static int test_bad_input(obj_heap_t *heap) {
    int failures = 0;
    obj_heap_t *other = obj_heap_new();
    obj_t *c = new_class(heap, "C", NULL, 0);
    obj_t *o = NULL;
    CHECK_STATUS(failures, obj_alloc(c, &o), OBJ_OK);
    obj_t *v = test_str(heap, "v");
    obj_t *theirs = test_str(other, "x");
    obj_t *got = NULL;

    CHECK_ERROR(failures, obj_getattr(NULL, v, &got), OBJ_ERR_NULL_ARG,
                "obj_getattr: argument 'o' is NULL");
    CHECK_STATUS(failures, obj_getattr(o, NULL, &got), OBJ_ERR_NULL_ARG);
    CHECK_STATUS(failures, obj_getattr(o, v, NULL), OBJ_ERR_NULL_ARG);
    CHECK_STATUS(failures, obj_getattr_str(NULL, "x", &got), OBJ_ERR_NULL_ARG);
    CHECK_ERROR(failures, obj_getattr_str(o, NULL, &got), OBJ_ERR_NULL_ARG,
                "obj_getattr_str: argument 'name' is NULL");
    CHECK_STATUS(failures, obj_getattr_str(o, "x", NULL), OBJ_ERR_NULL_ARG);
    CHECK_STATUS(failures, obj_setattr(NULL, v, v), OBJ_ERR_NULL_ARG);
    CHECK_STATUS(failures, obj_setattr(o, NULL, v), OBJ_ERR_NULL_ARG);
    CHECK_ERROR(failures, obj_setattr(o, v, NULL), OBJ_ERR_NULL_ARG,
                "obj_setattr: argument 'value' is NULL");
    CHECK_STATUS(failures, obj_setattr_str(NULL, "x", v), OBJ_ERR_NULL_ARG);
    CHECK_STATUS(failures, obj_setattr_str(o, NULL, v), OBJ_ERR_NULL_ARG);
    CHECK_STATUS(failures, obj_setattr_str(o, "x", NULL), OBJ_ERR_NULL_ARG);
    CHECK_STATUS(failures, obj_delattr(NULL, v), OBJ_ERR_NULL_ARG);
    CHECK_STATUS(failures, obj_delattr(o, NULL), OBJ_ERR_NULL_ARG);
    CHECK_STATUS(failures, obj_delattr_str(NULL, "x"), OBJ_ERR_NULL_ARG);
    CHECK_STATUS(failures, obj_delattr_str(o, NULL), OBJ_ERR_NULL_ARG);

    /* Names: a str, in UTF-8. */
    obj_t *one = test_int(heap, 1);
    CHECK_ERROR(failures, obj_getattr(o, one, &got), OBJ_ERR_TYPE,
                "attribute name must be string, not 'int'");
    CHECK_STATUS(failures, obj_setattr(o, one, v), OBJ_ERR_TYPE);
    CHECK_STATUS(failures, obj_delattr(o, one), OBJ_ERR_TYPE);
    CHECK_ERROR(failures, obj_getattr_str(o, "\xff", &got), OBJ_ERR_VALUE,
                "'utf-8' codec can't decode byte 0xff in position 0: invalid start byte");
    CHECK_STATUS(failures, obj_setattr_str(o, "\xff", v), OBJ_ERR_VALUE);
    CHECK_STATUS(failures, obj_delattr_str(o, "\xff"), OBJ_ERR_VALUE);

    /* Two heaps: nothing changes. */
    CHECK_ERROR(failures, obj_setattr_str(o, "x", theirs), OBJ_ERR_HEAP_MISMATCH,
                "objects of two heaps cannot be mixed");
    CHECK_STATUS(failures, obj_setattr_str(c, "x", theirs), OBJ_ERR_HEAP_MISMATCH);
    CHECK_STATUS(failures, obj_setattr(o, theirs, v), OBJ_ERR_HEAP_MISMATCH);
    CHECK_STATUS(failures, obj_getattr(o, theirs, &got), OBJ_ERR_HEAP_MISMATCH);
    CHECK_STATUS(failures, obj_delattr(o, theirs), OBJ_ERR_HEAP_MISMATCH);
    CHECK_STATUS(failures, obj_getattr_str(o, "x", &got), OBJ_ERR_ATTRIBUTE);
    CHECK_STATUS(failures, obj_getattr_str(c, "x", &got), OBJ_ERR_ATTRIBUTE);
    CHECK(failures, got == NULL);
    CHECK(failures, obj_refcount(theirs) == 1);

    obj_decref(o);
    obj_decref(c);
    obj_decref(v);
    obj_decref(theirs);
    obj_heap_free(other);
    return failures;
}

/* Names passed as C strings: the heap caches interned names by the
 * string's address, and the bytes decide. One buffer that holds a name,
 * then a longer one it prefixes, then a shorter one, then the first again,
 * names four different attributes each time; literals find each. */
static int test_names_in_one_buffer(obj_heap_t *heap) {
    int failures = 0;
    obj_t *cls = new_class(heap, "Named", NULL, 0), *o = NULL, *v[4] = {NULL};
    CHECK_STATUS(failures, obj_alloc(cls, &o), OBJ_OK);
    static const char *const names[] = {"ab", "abc", "a", "zz"};
    char buffer[8];
    for (int i = 0; i < 4; ++i) {
        CHECK_STATUS(failures, obj_int_new(heap, 100 + i, &v[i]), OBJ_OK);
        strcpy(buffer, names[i]);
        /* Twice: the second time through the cache. */
        CHECK_STATUS(failures, obj_setattr_str(o, buffer, v[i]), OBJ_OK);
        CHECK_STATUS(failures, obj_setattr_str(o, buffer, v[i]), OBJ_OK);
    }
    strcpy(buffer, "ab");
    CHECK_STATUS(failures, obj_delattr_str(o, buffer), OBJ_OK);
    CHECK_ERROR(failures, obj_delattr_str(o, buffer), OBJ_ERR_ATTRIBUTE,
                "'Named' object has no attribute 'ab'");
    for (int i = 1; i < 4; ++i) {
        obj_t *got = NULL;
        strcpy(buffer, names[i]);
        CHECK_STATUS(failures, obj_getattr_str(o, buffer, &got), OBJ_OK);
        CHECK(failures, got == v[i]);
        obj_decref(got);
        CHECK_STATUS(failures, obj_getattr_str(o, names[i], &got), OBJ_OK);
        CHECK(failures, got == v[i]);
        obj_decref(got);
    }
    for (int i = 0; i < 4; ++i) obj_decref(v[i]);
    obj_decref(o);
    obj_decref(cls);
    return failures;
}

int objffi_c_test_attrs(void) {
    int failures = 0;
    obj_heap_t *heap = obj_heap_new();
    CHECK(failures, heap != NULL);
    if (heap == NULL) {
        return failures;
    }
    failures += test_lookup_order(heap);
    failures += test_slots(heap);
    failures += test_bad_input(heap);
    failures += test_names_in_one_buffer(heap);
    obj_heap_free(heap);
    return failures;
}
