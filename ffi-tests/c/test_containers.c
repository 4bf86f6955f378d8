/* Tuples, lists and dicts over the C ABI: ownership, indexing, Python's key
 * equality, insertion order, and every bad input. */
#include "objffi.h" /* first: the header must compile on its own */

#include "check.h"

int objffi_c_test_containers(void);

static int test_tuples(obj_heap_t *heap) {
    int failures = 0;
    size_t live = test_live(heap);
    obj_t *a = test_str(heap, "a");
    obj_t *b = test_int(heap, 1000);
    obj_t *items[] = {a, b, obj_none(heap)};

    obj_t *t = NULL;
    CHECK_STATUS(failures, obj_tuple_new(heap, items, 3, &t), OBJ_OK);
    CHECK(failures, obj_refcount(a) == 2); /* the tuple took its own reference */
    CHECK_REPR(failures, t, "('a', 1000, None)");
    size_t n = 0;
    CHECK_STATUS(failures, obj_len(t, &n), OBJ_OK);
    CHECK(failures, n == 3);

    obj_t *got = NULL;
    CHECK_STATUS(failures, obj_seq_get(t, 0, &got), OBJ_OK);
    CHECK(failures, got == a && obj_refcount(a) == 3); /* a new reference */
    obj_decref(got);
    CHECK_STATUS(failures, obj_seq_get(t, -2, &got), OBJ_OK); /* from the end */
    CHECK(failures, got == b);
    obj_decref(got);
    got = NULL;
    CHECK_ERROR(failures, obj_seq_get(t, 3, &got), OBJ_ERR_INDEX, "tuple index out of range");
    CHECK_STATUS(failures, obj_seq_get(t, -4, &got), OBJ_ERR_INDEX);
    CHECK(failures, got == NULL);

    /* One item: Python's trailing comma; none: (). NULL is fine for no items. */
    obj_t *one = NULL;
    CHECK_STATUS(failures, obj_tuple_new(heap, items, 1, &one), OBJ_OK);
    CHECK_REPR(failures, one, "('a',)");
    obj_t *empty = NULL;
    CHECK_STATUS(failures, obj_tuple_new(heap, NULL, 0, &empty), OBJ_OK);
    CHECK_REPR(failures, empty, "()");

    /* Bad input: nothing is made. */
    size_t before = test_live(heap);
    obj_t *with_null[] = {a, NULL};
    obj_t *out = NULL;
    CHECK_ERROR(failures, obj_tuple_new(heap, with_null, 2, &out), OBJ_ERR_NULL_ARG,
                "obj_tuple_new: argument 'items[1]' is NULL");
    CHECK_ERROR(failures, obj_tuple_new(heap, NULL, 2, &out), OBJ_ERR_NULL_ARG,
                "obj_tuple_new: argument 'items' is NULL");
    CHECK_STATUS(failures, obj_tuple_new(NULL, items, 1, &out), OBJ_ERR_NULL_ARG);
    CHECK_STATUS(failures, obj_tuple_new(heap, items, 1, NULL), OBJ_ERR_NULL_ARG);
    CHECK_STATUS(failures, obj_seq_get(NULL, 0, &out), OBJ_ERR_NULL_ARG);
    CHECK_STATUS(failures, obj_seq_get(t, 0, NULL), OBJ_ERR_NULL_ARG);
    CHECK_ERROR(failures, obj_seq_get(b, 0, &out), OBJ_ERR_TYPE,
                "'int' object is not subscriptable");
    CHECK_STATUS(failures, obj_list_append(t, a), OBJ_ERR_TYPE); /* tuples are not lists */
    CHECK(failures, out == NULL);
    CHECK(failures, test_live(heap) == before);

    obj_decref(empty);
    obj_decref(one);
    obj_decref(t);
    CHECK(failures, obj_refcount(a) == 1);
    obj_decref(a);
    obj_decref(b);
    CHECK(failures, test_live(heap) == live);
    return failures;
}

static int test_lists(obj_heap_t *heap) {
    int failures = 0;
    size_t live = test_live(heap);
    obj_t *list = NULL;
    CHECK_STATUS(failures, obj_list_new(heap, &list), OBJ_OK);
    CHECK_REPR(failures, list, "[]");
    obj_t *x = test_str(heap, "x");
    for (int64_t i = 0; i < 100; ++i) {
        obj_t *v = test_int(heap, i * 1000);
        CHECK_STATUS(failures, obj_list_append(list, v), OBJ_OK);
        obj_decref(v); /* the list keeps it */
    }
    size_t n = 0;
    CHECK_STATUS(failures, obj_len(list, &n), OBJ_OK);
    CHECK(failures, n == 100);
    obj_t *got = NULL;
    CHECK_STATUS(failures, obj_seq_get(list, 99, &got), OBJ_OK);
    CHECK_INT_OBJ(failures, got, 99000);
    obj_decref(got);

    /* Replace an item: the list's old reference goes, the new one is taken. */
    CHECK_STATUS(failures, obj_list_set(list, -1, x), OBJ_OK);
    CHECK(failures, obj_refcount(x) == 2);
    CHECK_STATUS(failures, obj_seq_get(list, 99, &got), OBJ_OK);
    CHECK(failures, got == x);
    obj_decref(got);
    CHECK_ERROR(failures, obj_list_set(list, 100, x), OBJ_ERR_INDEX,
                "list assignment index out of range");
    CHECK_ERROR(failures, obj_seq_get(list, -101, &got), OBJ_ERR_INDEX,
                "list index out of range");

    /* A list inside itself prints as Python prints it. */
    obj_t *small = NULL;
    CHECK_STATUS(failures, obj_list_new(heap, &small), OBJ_OK);
    CHECK_STATUS(failures, obj_list_append(small, x), OBJ_OK);
    CHECK_STATUS(failures, obj_list_append(small, small), OBJ_OK);
    CHECK_REPR(failures, small, "['x', [...]]");
    CHECK_STATUS(failures, obj_list_set(small, 1, obj_none(heap)), OBJ_OK); /* break the cycle */

    /* Bad input. */
    obj_t *out = NULL;
    CHECK_STATUS(failures, obj_list_new(NULL, &out), OBJ_ERR_NULL_ARG);
    CHECK_ERROR(failures, obj_list_new(heap, NULL), OBJ_ERR_NULL_ARG,
                "obj_list_new: argument 'out' is NULL");
    CHECK_STATUS(failures, obj_list_append(NULL, x), OBJ_ERR_NULL_ARG);
    CHECK_ERROR(failures, obj_list_append(list, NULL), OBJ_ERR_NULL_ARG,
                "obj_list_append: argument 'item' is NULL");
    CHECK_STATUS(failures, obj_list_set(NULL, 0, x), OBJ_ERR_NULL_ARG);
    CHECK_STATUS(failures, obj_list_set(list, 0, NULL), OBJ_ERR_NULL_ARG);
    CHECK_ERROR(failures, obj_list_append(x, x), OBJ_ERR_TYPE, "expected a list, not 'str'");
    CHECK_STATUS(failures, obj_list_set(x, 0, x), OBJ_ERR_TYPE);
    CHECK(failures, out == NULL);

    obj_decref(small);
    obj_decref(list);
    CHECK(failures, obj_refcount(x) == 1);
    obj_decref(x);
    CHECK(failures, test_live(heap) == live);
    return failures;
}

static int test_dicts(obj_heap_t *heap) {
    int failures = 0;
    size_t live = test_live(heap);
    obj_t *d = NULL;
    CHECK_STATUS(failures, obj_dict_new(heap, &d), OBJ_OK);
    CHECK_REPR(failures, d, "{}");

    /* 1, 1.0 and True are one key: the first key object stays, the value changes. */
    obj_t *one = test_int(heap, 1);
    obj_t *one_f = NULL;
    CHECK_STATUS(failures, obj_float_new(heap, 1.0, &one_f), OBJ_OK);
    obj_t *a = test_str(heap, "a");
    obj_t *b = test_str(heap, "b");
    CHECK_STATUS(failures, obj_dict_set(d, one, a), OBJ_OK);
    CHECK_STATUS(failures, obj_dict_set(d, one_f, b), OBJ_OK);
    CHECK_STATUS(failures, obj_dict_set(d, obj_true(heap), b), OBJ_OK);
    size_t n = 0;
    CHECK_STATUS(failures, obj_len(d, &n), OBJ_OK);
    CHECK(failures, n == 1);
    CHECK_REPR(failures, d, "{1: 'b'}");
    CHECK(failures, obj_refcount(a) == 1); /* the replaced value was given back */

    /* Strs by value; tuples of values by value; others by identity. */
    obj_t *k1 = test_str(heap, "key");
    obj_t *k2 = test_str(heap, "key");
    CHECK_STATUS(failures, obj_dict_set(d, k1, a), OBJ_OK);
    obj_t *got = NULL;
    CHECK_STATUS(failures, obj_dict_get(d, k2, &got), OBJ_OK);
    CHECK(failures, got == a);
    obj_decref(got);
    obj_t *pair_items[] = {k1, one};
    obj_t *pair1 = NULL;
    obj_t *pair2 = NULL;
    CHECK_STATUS(failures, obj_tuple_new(heap, pair_items, 2, &pair1), OBJ_OK);
    pair_items[0] = k2;
    CHECK_STATUS(failures, obj_tuple_new(heap, pair_items, 2, &pair2), OBJ_OK);
    CHECK_STATUS(failures, obj_dict_set(d, pair1, obj_none(heap)), OBJ_OK);
    CHECK_STATUS(failures, obj_dict_get(d, pair2, &got), OBJ_OK);
    CHECK(failures, got == obj_none(heap));
    obj_t *l1 = NULL;
    obj_t *l2 = NULL;
    CHECK_STATUS(failures, obj_list_new(heap, &l1), OBJ_OK);
    CHECK_STATUS(failures, obj_list_new(heap, &l2), OBJ_OK);
    CHECK_STATUS(failures, obj_dict_set(d, l1, one), OBJ_OK);
    got = NULL;
    CHECK_ERROR(failures, obj_dict_get(d, l2, &got), OBJ_ERR_KEY, "[]");
    CHECK_ERROR(failures, obj_dict_get(d, b, &got), OBJ_ERR_KEY, "'b'");
    CHECK(failures, got == NULL);

    /* Insertion order. */
    CHECK_REPR(failures, d, "{1: 'b', 'key': 'a', ('key', 1): None, []: 1}");
    obj_t *key = NULL;
    obj_t *value = NULL;
    CHECK_STATUS(failures, obj_dict_item(d, 1, &key, &value), OBJ_OK);
    CHECK(failures, key == k1 && value == a);
    obj_decref(key);
    obj_decref(value);
    key = value = NULL;
    CHECK_ERROR(failures, obj_dict_item(d, 4, &key, &value), OBJ_ERR_INDEX,
                "dict index out of range");
    CHECK(failures, key == NULL && value == NULL);

    /* Deleting gives back both references; deleting again is a KeyError. */
    CHECK_STATUS(failures, obj_dict_del(d, k2), OBJ_OK);
    CHECK(failures, obj_refcount(k1) == 2); /* k1 itself, and pair1 */
    CHECK_ERROR(failures, obj_dict_del(d, k2), OBJ_ERR_KEY, "'key'");
    CHECK_STATUS(failures, obj_dict_item(d, 1, &key, &value), OBJ_OK);
    CHECK(failures, key == pair1);
    obj_decref(key);
    obj_decref(value);

    /* Bad input. */
    obj_t *out = NULL;
    CHECK_STATUS(failures, obj_dict_new(NULL, &out), OBJ_ERR_NULL_ARG);
    CHECK_STATUS(failures, obj_dict_new(heap, NULL), OBJ_ERR_NULL_ARG);
    CHECK_ERROR(failures, obj_dict_set(NULL, a, b), OBJ_ERR_NULL_ARG,
                "obj_dict_set: argument 'dict' is NULL");
    CHECK_STATUS(failures, obj_dict_set(d, NULL, b), OBJ_ERR_NULL_ARG);
    CHECK_ERROR(failures, obj_dict_set(d, a, NULL), OBJ_ERR_NULL_ARG,
                "obj_dict_set: argument 'value' is NULL");
    CHECK_STATUS(failures, obj_dict_get(NULL, a, &out), OBJ_ERR_NULL_ARG);
    CHECK_STATUS(failures, obj_dict_get(d, NULL, &out), OBJ_ERR_NULL_ARG);
    CHECK_STATUS(failures, obj_dict_get(d, a, NULL), OBJ_ERR_NULL_ARG);
    CHECK_STATUS(failures, obj_dict_del(NULL, a), OBJ_ERR_NULL_ARG);
    CHECK_STATUS(failures, obj_dict_del(d, NULL), OBJ_ERR_NULL_ARG);
    CHECK_STATUS(failures, obj_dict_item(NULL, 0, &key, &value), OBJ_ERR_NULL_ARG);
    CHECK_ERROR(failures, obj_dict_item(d, 0, NULL, &value), OBJ_ERR_NULL_ARG,
                "obj_dict_item: argument 'key' is NULL");
    CHECK_STATUS(failures, obj_dict_item(d, 0, &key, NULL), OBJ_ERR_NULL_ARG);
    CHECK_ERROR(failures, obj_dict_set(l1, a, b), OBJ_ERR_TYPE, "expected a dict, not 'list'");
    CHECK_STATUS(failures, obj_dict_get(l1, a, &out), OBJ_ERR_TYPE);
    CHECK_STATUS(failures, obj_dict_del(l1, a), OBJ_ERR_TYPE);
    CHECK_STATUS(failures, obj_dict_item(l1, 0, &key, &value), OBJ_ERR_TYPE);
    CHECK(failures, out == NULL);

    obj_t *objs[] = {d, one_f, a, b, k1, k2, pair1, pair2, l1, l2};
    for (size_t i = 0; i < sizeof objs / sizeof objs[0]; ++i) {
        obj_decref(objs[i]);
    }
    CHECK(failures, test_live(heap) == live);
    return failures;
}

/* Objects of two heaps never mix: every such call fails and changes nothing. */
static int test_two_heaps(obj_heap_t *heap) {
    int failures = 0;
    obj_heap_t *other = obj_heap_new();
    CHECK(failures, other != NULL);
    obj_t *mine = test_str(heap, "mine");
    obj_t *theirs = test_str(other, "theirs");
    obj_t *list = NULL;
    obj_t *d = NULL;
    CHECK_STATUS(failures, obj_list_new(heap, &list), OBJ_OK);
    CHECK_STATUS(failures, obj_dict_new(heap, &d), OBJ_OK);
    CHECK_STATUS(failures, obj_list_append(list, mine), OBJ_OK);
    CHECK_STATUS(failures, obj_dict_set(d, mine, mine), OBJ_OK);

    CHECK_ERROR(failures, obj_list_append(list, theirs), OBJ_ERR_HEAP_MISMATCH,
                "objects of two heaps cannot be mixed");
    CHECK_STATUS(failures, obj_list_set(list, 0, theirs), OBJ_ERR_HEAP_MISMATCH);
    CHECK_STATUS(failures, obj_dict_set(d, theirs, mine), OBJ_ERR_HEAP_MISMATCH);
    CHECK_STATUS(failures, obj_dict_set(d, mine, theirs), OBJ_ERR_HEAP_MISMATCH);
    obj_t *out = NULL;
    CHECK_STATUS(failures, obj_dict_get(d, theirs, &out), OBJ_ERR_HEAP_MISMATCH);
    CHECK_STATUS(failures, obj_dict_del(d, theirs), OBJ_ERR_HEAP_MISMATCH);
    obj_t *items[] = {mine, theirs};
    CHECK_STATUS(failures, obj_tuple_new(heap, items, 2, &out), OBJ_ERR_HEAP_MISMATCH);
    CHECK_STATUS(failures, obj_tuple_new(other, items, 1, &out), OBJ_ERR_HEAP_MISMATCH);
    CHECK(failures, out == NULL);
    CHECK_REPR(failures, list, "['mine']");
    CHECK_REPR(failures, d, "{'mine': 'mine'}");
    CHECK(failures, obj_refcount(theirs) == 1);

    obj_decref(list);
    obj_decref(d);
    obj_decref(mine);
    obj_decref(theirs);
    CHECK(failures, test_live(other) == 0);
    obj_heap_free(other);
    return failures;
}

int objffi_c_test_containers(void) {
    int failures = 0;
    obj_heap_t *heap = obj_heap_new();
    CHECK(failures, heap != NULL);
    if (heap == NULL) {
        return failures;
    }
    failures += test_tuples(heap);
    failures += test_lists(heap);
    failures += test_dicts(heap);
    failures += test_two_heaps(heap);
    obj_heap_free(heap);
    return failures;
}
