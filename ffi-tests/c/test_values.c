/* Built-in values, reference counts, obj_type_of and obj_repr over the C ABI. */
#include "objffi.h" /* first: the header must compile on its own */

#include <math.h>

#include "check.h"

int objffi_c_test_values(void);

static int test_builtins(obj_heap_t *heap) {
    int failures = 0;
    obj_t *none = obj_none(heap);
    obj_t *t = obj_true(heap);
    obj_t *f = obj_false(heap);
    obj_t *object = obj_object_type(heap);
    CHECK(failures, none != NULL && t != NULL && f != NULL && object != NULL);
    CHECK(failures, none == obj_none(heap) && t != f);
    CHECK_REPR(failures, none, "None");
    CHECK_REPR(failures, t, "True");
    CHECK_REPR(failures, f, "False");
    CHECK_REPR(failures, object, "<class 'object'>");
    CHECK_REPR(failures, obj_type_of(none), "<class 'NoneType'>");
    CHECK_REPR(failures, obj_type_of(t), "<class 'bool'>");
    CHECK_REPR(failures, obj_type_of(object), "<class 'type'>");
    CHECK(failures, obj_type_of(obj_type_of(object)) == obj_type_of(object));

    /* bool is an int, as in Python. */
    int64_t v = -1;
    CHECK_STATUS(failures, obj_int_value(t, &v), OBJ_OK);
    CHECK(failures, v == 1);
    double d = -1.0;
    CHECK_STATUS(failures, obj_float_value(f, &d), OBJ_OK);
    CHECK(failures, d == 0.0);

    /* Immortal: counts never move, and giving back a borrowed reference is harmless. */
    size_t rc = obj_refcount(none);
    CHECK(failures, rc >= ((size_t)1 << 62));
    obj_incref(none);
    obj_decref(none);
    obj_decref(none);
    obj_decref(object);
    CHECK(failures, obj_refcount(none) == rc);
    CHECK_REPR(failures, none, "None");
    CHECK_REPR(failures, object, "<class 'object'>");

    /* A NULL heap gives NULL and says why. */
    CHECK(failures, obj_none(NULL) == NULL);
    CHECK_STR(failures, obj_last_error(), "obj_none: argument 'heap' is NULL");
    CHECK(failures, obj_true(NULL) == NULL);
    CHECK(failures, obj_false(NULL) == NULL);
    CHECK(failures, obj_object_type(NULL) == NULL);
    CHECK_STR(failures, obj_last_error(), "obj_object_type: argument 'heap' is NULL");
    return failures;
}

static int test_ints_and_floats(obj_heap_t *heap) {
    int failures = 0;
    size_t live = test_live(heap);

    /* Small ints are shared and immortal; others are new objects. */
    obj_t *a = NULL;
    obj_t *b = NULL;
    CHECK_STATUS(failures, obj_int_new(heap, 256, &a), OBJ_OK);
    CHECK_STATUS(failures, obj_int_new(heap, 256, &b), OBJ_OK);
    CHECK(failures, a == b);
    CHECK(failures, test_live(heap) == live);
    obj_decref(a);
    obj_decref(b);

    obj_t *big = NULL;
    CHECK_STATUS(failures, obj_int_new(heap, INT64_MIN, &big), OBJ_OK);
    CHECK(failures, obj_refcount(big) == 1);
    CHECK(failures, test_live(heap) == live + 1);
    CHECK_INT_OBJ(failures, big, INT64_MIN);
    CHECK_REPR(failures, big, "-9223372036854775808");
    CHECK_REPR(failures, obj_type_of(big), "<class 'int'>");
    obj_incref(big);
    CHECK(failures, obj_refcount(big) == 2);
    obj_decref(big);
    CHECK(failures, obj_refcount(big) == 1);
    double d = 0;
    CHECK_STATUS(failures, obj_float_value(big, &d), OBJ_OK); /* ints convert */
    CHECK(failures, d == -9223372036854775808.0);
    obj_decref(big); /* the last reference: freed */
    CHECK(failures, test_live(heap) == live);

    obj_t *x = NULL;
    CHECK_STATUS(failures, obj_float_new(heap, 0.1, &x), OBJ_OK);
    d = 0;
    CHECK_STATUS(failures, obj_float_value(x, &d), OBJ_OK);
    CHECK(failures, d == 0.1);
    CHECK_REPR(failures, x, "0.1");
    obj_t *e = NULL;
    CHECK_STATUS(failures, obj_float_new(heap, 1e100, &e), OBJ_OK);
    CHECK_REPR(failures, e, "1e+100");
    obj_t *nan = NULL;
    CHECK_STATUS(failures, obj_float_new(heap, NAN, &nan), OBJ_OK);
    CHECK_REPR(failures, nan, "nan");

    /* Wrong kinds: OBJ_ERR_TYPE, and the out-parameter is left alone. */
    int64_t v = 42;
    CHECK_ERROR(failures, obj_int_value(x, &v), OBJ_ERR_TYPE,
                "'float' object cannot be interpreted as an integer");
    CHECK(failures, v == 42);
    obj_t *s = test_str(heap, "1.5");
    d = 7.0;
    CHECK_ERROR(failures, obj_float_value(s, &d), OBJ_ERR_TYPE, "must be real number, not str");
    CHECK(failures, d == 7.0);
    CHECK_STATUS(failures, obj_int_value(obj_none(heap), &v), OBJ_ERR_TYPE);

    /* NULLs. */
    obj_t *out = (obj_t *)&v; /* a sentinel that must survive failures */
    CHECK_ERROR(failures, obj_int_new(NULL, 1000, &out), OBJ_ERR_NULL_ARG,
                "obj_int_new: argument 'heap' is NULL");
    CHECK_ERROR(failures, obj_int_new(heap, 1000, NULL), OBJ_ERR_NULL_ARG,
                "obj_int_new: argument 'out' is NULL");
    CHECK_STATUS(failures, obj_float_new(NULL, 1.0, &out), OBJ_ERR_NULL_ARG);
    CHECK_STATUS(failures, obj_float_new(heap, 1.0, NULL), OBJ_ERR_NULL_ARG);
    CHECK(failures, out == (obj_t *)&v);
    CHECK_ERROR(failures, obj_int_value(NULL, &v), OBJ_ERR_NULL_ARG,
                "obj_int_value: argument 'o' is NULL");
    CHECK_STATUS(failures, obj_int_value(x, NULL), OBJ_ERR_NULL_ARG);
    CHECK_STATUS(failures, obj_float_value(NULL, &d), OBJ_ERR_NULL_ARG);
    CHECK_STATUS(failures, obj_float_value(x, NULL), OBJ_ERR_NULL_ARG);
    CHECK(failures, test_live(heap) == live + 4);

    obj_decref(s);
    obj_decref(nan);
    obj_decref(e);
    obj_decref(x);
    CHECK(failures, test_live(heap) == live);
    return failures;
}

static int test_strings(obj_heap_t *heap) {
    int failures = 0;
    size_t live = test_live(heap);

    /* Text may hold NULs; the bytes read back end with a NUL anyway. */
    static const char with_nul[] = "a\0b";
    obj_t *s = NULL;
    CHECK_STATUS(failures, obj_str_new(heap, with_nul, 3, &s), OBJ_OK);
    const char *text = NULL;
    size_t len = 0;
    CHECK_STATUS(failures, obj_str_data(s, &text, &len), OBJ_OK);
    CHECK(failures, len == 3 && memcmp(text, with_nul, 4) == 0);
    CHECK_REPR(failures, s, "'a\\x00b'");
    obj_decref(s);

    /* len() counts code points; the bytes are UTF-8. */
    obj_t *name = test_str(heap, "Андрей");
    size_t n = 0;
    CHECK_STATUS(failures, obj_len(name, &n), OBJ_OK);
    CHECK(failures, n == 6);
    CHECK_STR_OBJ(failures, name, "Андрей");
    CHECK_REPR(failures, name, "'Андрей'");
    CHECK_REPR(failures, obj_type_of(name), "<class 'str'>");

    /* Two strs of equal text are two objects; interned ones are one. */
    obj_t *other = test_str(heap, "Андрей");
    CHECK(failures, other != name);
    obj_t *i1 = NULL;
    obj_t *i2 = NULL;
    CHECK_STATUS(failures, obj_intern(heap, "name", 4, &i1), OBJ_OK);
    CHECK_STATUS(failures, obj_intern(heap, "name!", 4, &i2), OBJ_OK);
    CHECK(failures, i1 != NULL && i1 == i2);
    CHECK_STR_OBJ(failures, i2, "name");
    obj_decref(i1);
    obj_decref(i2);

    /* The empty text needs no address. */
    obj_t *empty = NULL;
    CHECK_STATUS(failures, obj_str_new(heap, NULL, 0, &empty), OBJ_OK);
    CHECK_STATUS(failures, obj_len(empty, &n), OBJ_OK);
    CHECK(failures, n == 0);
    CHECK_STATUS(failures, obj_str_data(empty, &text, &len), OBJ_OK);
    CHECK(failures, len == 0 && text != NULL && text[0] == '\0');
    obj_decref(empty);

    /* Not UTF-8: OBJ_ERR_VALUE with CPython's message; nothing is made. */
    size_t before = test_live(heap);
    obj_t *out = NULL;
    CHECK_ERROR(failures, obj_str_new(heap, "ok\xff", 3, &out), OBJ_ERR_VALUE,
                "'utf-8' codec can't decode byte 0xff in position 2: invalid start byte");
    CHECK_ERROR(failures, obj_intern(heap, "\xe2\x28\xa1", 3, &out), OBJ_ERR_VALUE,
                "'utf-8' codec can't decode byte 0xe2 in position 0: invalid continuation byte");
    CHECK_ERROR(failures, obj_str_new(heap, "\xd0", 1, &out), OBJ_ERR_VALUE,
                "'utf-8' codec can't decode byte 0xd0 in position 0: unexpected end of data");
    CHECK(failures, out == NULL);
    CHECK(failures, test_live(heap) == before);

    /* Wrong kinds and NULLs. */
    obj_t *one = test_int(heap, 1);
    text = "untouched";
    CHECK_ERROR(failures, obj_str_data(one, &text, &len), OBJ_ERR_TYPE,
                "expected a str, not 'int'");
    CHECK_STR(failures, text, "untouched");
    CHECK_ERROR(failures, obj_len(one, &n), OBJ_ERR_TYPE, "object of type 'int' has no len()");
    CHECK_ERROR(failures, obj_str_new(heap, NULL, 1, &out), OBJ_ERR_NULL_ARG,
                "obj_str_new: argument 'utf8' is NULL");
    CHECK_STATUS(failures, obj_str_new(NULL, "a", 1, &out), OBJ_ERR_NULL_ARG);
    CHECK_STATUS(failures, obj_str_new(heap, "a", 1, NULL), OBJ_ERR_NULL_ARG);
    CHECK_STATUS(failures, obj_intern(NULL, "a", 1, &out), OBJ_ERR_NULL_ARG);
    CHECK_STATUS(failures, obj_intern(heap, NULL, 1, &out), OBJ_ERR_NULL_ARG);
    CHECK_STATUS(failures, obj_intern(heap, "a", 1, NULL), OBJ_ERR_NULL_ARG);
    CHECK_STATUS(failures, obj_str_data(NULL, &text, &len), OBJ_ERR_NULL_ARG);
    CHECK_STATUS(failures, obj_str_data(name, NULL, &len), OBJ_ERR_NULL_ARG);
    CHECK_STATUS(failures, obj_str_data(name, &text, NULL), OBJ_ERR_NULL_ARG);
    CHECK_STATUS(failures, obj_len(NULL, &n), OBJ_ERR_NULL_ARG);
    CHECK_STATUS(failures, obj_len(name, NULL), OBJ_ERR_NULL_ARG);
    CHECK(failures, out == NULL);

    obj_decref(name);
    obj_decref(other);
    /* The interned "name" stays: interned strings live as long as the heap. */
    CHECK(failures, test_live(heap) == live + 1);
    return failures;
}

static int test_refcounts_and_repr_args(obj_heap_t *heap) {
    int failures = 0;
    /* NULL is ignored by incref/decref and counts 0. */
    obj_incref(NULL);
    obj_decref(NULL);
    CHECK(failures, obj_refcount(NULL) == 0);
    CHECK(failures, obj_type_of(NULL) == NULL);
    CHECK_STR(failures, obj_last_error(), "obj_type_of: argument 'o' is NULL");
    obj_t *r = NULL;
    CHECK_ERROR(failures, obj_repr(NULL, &r), OBJ_ERR_NULL_ARG,
                "obj_repr: argument 'o' is NULL");
    CHECK_ERROR(failures, obj_repr(obj_none(heap), NULL), OBJ_ERR_NULL_ARG,
                "obj_repr: argument 'out_str' is NULL");
    CHECK(failures, r == NULL);
    return failures;
}

int objffi_c_test_values(void) {
    int failures = 0;
    obj_heap_t *heap = obj_heap_new();
    CHECK(failures, heap != NULL);
    if (heap == NULL) {
        return failures;
    }
    failures += test_builtins(heap);
    failures += test_ints_and_floats(heap);
    failures += test_strings(heap);
    failures += test_refcounts_and_repr_args(heap);
    obj_heap_free(heap);
    return failures;
}
