/* Classes over the C ABI: specs (payload, slots, __dict__, hooks), C3 MROs and
 * their errors, isinstance, allocation, payloads and layouts. */
#include "objffi.h" /* first: the header must compile on its own */

#include "check.h"

int objffi_c_test_types(void);

/* A class with no bases, no spec. */
static obj_t *new_class(obj_heap_t *heap, const char *name, obj_t *const *bases, size_t n) {
    obj_t *t = NULL;
    obj_status_t st = obj_type_new(heap, name, bases, n, NULL, &t);
    if (st != OBJ_OK) {
        fprintf(stderr, "obj_type_new(%s) gave %s: %s\n", name, obj_status_name(st),
                obj_last_error());
        return NULL;
    }
    return t;
}

/* Checks that the MRO of `t` reads as the names in `want`, separated by spaces. */
static int check_mro(obj_t *t, const char *want) {
    int failures = 0;
    obj_t *buf[16];
    size_t len = 0;
    CHECK_STATUS(failures, obj_type_mro(t, buf, 16, &len), OBJ_OK);
    char names[256] = "";
    for (size_t i = 0; i < len && i < 16; ++i) {
        obj_t *name = NULL;
        CHECK_STATUS(failures, obj_getattr_str(buf[i], "__name__", &name), OBJ_OK);
        const char *text = "?";
        size_t n = 0;
        CHECK_STATUS(failures, obj_str_data(name, &text, &n), OBJ_OK);
        if (i > 0) {
            strcat(names, " ");
        }
        strncat(names, text, sizeof names - strlen(names) - 1);
        obj_decref(name);
    }
    CHECK_STR(failures, names, want);
    return failures;
}

static int test_hierarchies(obj_heap_t *heap) {
    int failures = 0;
    obj_t *object = obj_object_type(heap);

    /* The diamond: D(B, C), B(A), C(A). */
    obj_t *a = new_class(heap, "A", NULL, 0);
    obj_t *b = new_class(heap, "B", &a, 1);
    obj_t *c = new_class(heap, "C", &a, 1);
    obj_t *bc[] = {b, c};
    obj_t *d = new_class(heap, "D", bc, 2);
    failures += check_mro(d, "D B C A object");
    failures += check_mro(object, "object");
    CHECK_REPR(failures, d, "<class 'D'>");
    CHECK_REPR(failures, obj_type_of(d), "<class 'type'>");

    /* A short buffer gets the first entries; the length is always whole. */
    obj_t *buf[2] = {NULL, NULL};
    size_t len = 0;
    CHECK_STATUS(failures, obj_type_mro(d, buf, 2, &len), OBJ_OK);
    CHECK(failures, len == 5 && buf[0] == d && buf[1] == b);
    len = 0;
    CHECK_STATUS(failures, obj_type_mro(d, NULL, 0, &len), OBJ_OK);
    CHECK(failures, len == 5);

    /* A dotted name: the module part shows in repr only. */
    obj_t *dotted = new_class(heap, "pkg.mod.Name", NULL, 0);
    CHECK_REPR(failures, dotted, "<class 'pkg.mod.Name'>");
    failures += check_mro(dotted, "Name object");

    /* isinstance follows the MRO. */
    obj_t *o = NULL;
    CHECK_STATUS(failures, obj_call(d, NULL, 0, &o), OBJ_OK);
    bool yes = false;
    CHECK_STATUS(failures, obj_is_instance(o, c, &yes), OBJ_OK);
    CHECK(failures, yes);
    CHECK_STATUS(failures, obj_is_instance(o, object, &yes), OBJ_OK);
    CHECK(failures, yes);
    CHECK_STATUS(failures, obj_is_instance(o, dotted, &yes), OBJ_OK);
    CHECK(failures, !yes);
    CHECK_STATUS(failures, obj_is_instance(d, obj_type_of(d), &yes), OBJ_OK);
    CHECK(failures, yes); /* a class is an instance of type */
    CHECK_STATUS(failures, obj_is_instance(obj_true(heap), obj_type_of(o), &yes), OBJ_OK);
    CHECK(failures, !yes);
    yes = true;
    CHECK_ERROR(failures, obj_is_instance(o, o, &yes), OBJ_ERR_TYPE,
                "isinstance() arg 2 must be a type");
    CHECK(failures, yes);

    /* Inconsistent orders, duplicate bases, bases that are no classes. */
    obj_t *x = new_class(heap, "X", NULL, 0);
    obj_t *y = new_class(heap, "Y", NULL, 0);
    obj_t *xy[] = {x, y};
    obj_t *yx[] = {y, x};
    obj_t *p = new_class(heap, "P", xy, 2);
    obj_t *q = new_class(heap, "Q", yx, 2);
    obj_t *pq[] = {p, q};
    obj_t *out = NULL;
    size_t before = test_live(heap);
    CHECK_ERROR(failures, obj_type_new(heap, "R", pq, 2, NULL, &out), OBJ_ERR_MRO,
                "Cannot create a consistent method resolution order (MRO) for bases X, Y");
    obj_t *xx[] = {x, x};
    CHECK_ERROR(failures, obj_type_new(heap, "R", xx, 2, NULL, &out), OBJ_ERR_TYPE,
                "duplicate base class X");
    obj_t *thousand = test_int(heap, 1000);
    CHECK_ERROR(failures, obj_type_new(heap, "R", &thousand, 1, NULL, &out), OBJ_ERR_TYPE,
                "bases must be types, not 'int'");
    obj_t *int_type = obj_type_of(thousand);
    CHECK_ERROR(failures, obj_type_new(heap, "R", &int_type, 1, NULL, &out), OBJ_ERR_TYPE,
                "type 'int' is not an acceptable base type");
    obj_decref(thousand);
    CHECK(failures, out == NULL);
    CHECK(failures, test_live(heap) == before);

    /* Bad input. */
    obj_t *with_null[] = {x, NULL};
    CHECK_ERROR(failures, obj_type_new(heap, "R", with_null, 2, NULL, &out), OBJ_ERR_NULL_ARG,
                "obj_type_new: argument 'bases[1]' is NULL");
    CHECK_STATUS(failures, obj_type_new(heap, "R", NULL, 1, NULL, &out), OBJ_ERR_NULL_ARG);
    CHECK_STATUS(failures, obj_type_new(NULL, "R", NULL, 0, NULL, &out), OBJ_ERR_NULL_ARG);
    CHECK_ERROR(failures, obj_type_new(heap, NULL, NULL, 0, NULL, &out), OBJ_ERR_NULL_ARG,
                "obj_type_new: argument 'name' is NULL");
    CHECK_STATUS(failures, obj_type_new(heap, "R", NULL, 0, NULL, NULL), OBJ_ERR_NULL_ARG);
    CHECK_ERROR(failures, obj_type_new(heap, "R\xff", NULL, 0, NULL, &out), OBJ_ERR_VALUE,
                "'utf-8' codec can't decode byte 0xff in position 1: invalid start byte");
    CHECK_STATUS(failures, obj_type_mro(NULL, buf, 2, &len), OBJ_ERR_NULL_ARG);
    CHECK_STATUS(failures, obj_type_mro(d, buf, 2, NULL), OBJ_ERR_NULL_ARG);
    CHECK_ERROR(failures, obj_type_mro(d, NULL, 2, &len), OBJ_ERR_NULL_ARG,
                "obj_type_mro: argument 'buf' is NULL");
    CHECK_ERROR(failures, obj_type_mro(o, buf, 2, &len), OBJ_ERR_TYPE,
                "'D' object is not a type");
    CHECK_STATUS(failures, obj_is_instance(NULL, d, &yes), OBJ_ERR_NULL_ARG);
    CHECK_STATUS(failures, obj_is_instance(o, NULL, &yes), OBJ_ERR_NULL_ARG);
    CHECK_STATUS(failures, obj_is_instance(o, d, NULL), OBJ_ERR_NULL_ARG);
    CHECK(failures, out == NULL);

    obj_t *all[] = {o, a, b, c, d, dotted, x, y, p, q};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; ++i) {
        obj_decref(all[i]);
    }
    return failures;
}

/* Host data of an instance: a reference it holds, and where to report its hooks. */
typedef struct {
    obj_t *held;
    int *log;
    int64_t number;
} payload_t;

static int hook_log[8];
static int hook_calls;

static void payload_clear(obj_t *self, void *payload) {
    payload_t *p = (payload_t *)payload;
    (void)self;
    hook_log[hook_calls++ % 8] = 1;
    obj_t *held = p->held;
    p->held = NULL;
    obj_decref(held);
}

static void payload_finalize(obj_t *self, void *payload) {
    payload_t *p = (payload_t *)payload;
    hook_log[hook_calls++ % 8] = 2;
    /* `self` is the instance whose payload this is. */
    if (obj_payload(self) != payload || p->held != NULL) {
        hook_log[hook_calls++ % 8] = -1;
    }
}

static void payload_traverse(obj_t *self, void *payload, obj_visit_t visit, void *arg) {
    (void)self;
    payload_t *p = (payload_t *)payload;
    if (p->held != NULL) {
        visit(p->held, arg);
    }
}

static int test_payloads(obj_heap_t *heap) {
    int failures = 0;
    obj_type_spec_t spec = {
        .payload_size = sizeof(payload_t),
        .slots = NULL,
        .nslots = 0,
        .has_dict = false,
        .traverse = payload_traverse,
        .clear = payload_clear,
        .finalize = payload_finalize,
    };
    obj_t *buf_type = NULL;
    CHECK_STATUS(failures, obj_type_new(heap, "Buffer", NULL, 0, &spec, &buf_type), OBJ_OK);
    obj_t *sub = new_class(heap, "SubBuffer", &buf_type, 1); /* inherits payload and hooks */

    obj_t *inst = NULL;
    CHECK_STATUS(failures, obj_alloc(sub, &inst), OBJ_OK);
    payload_t *p = (payload_t *)obj_payload(inst);
    CHECK(failures, p != NULL);
    CHECK(failures, ((uintptr_t)p % 16) == 0);
    CHECK(failures, p != NULL && p->held == NULL && p->number == 0); /* zero-filled */
    obj_t *held = test_str(heap, "held by the payload");
    if (p != NULL) {
        obj_incref(held);
        p->held = held;
        p->number = 7;
    }
    CHECK(failures, obj_refcount(held) == 2);

    /* The subclass has a __dict__ (no spec); the payload class has not. */
    obj_type_layout_t layout;
    CHECK_STATUS(failures, obj_type_layout(buf_type, &layout, NULL, 0), OBJ_OK);
    CHECK(failures, layout.header_size == 16);
    CHECK(failures, layout.payload_offset >= 16 && layout.payload_offset % 16 == 0);
    CHECK(failures, layout.payload_size == sizeof(payload_t));
    CHECK(failures, layout.dict_offset == 0 && layout.nslots == 0);
    CHECK(failures, layout.instance_size >= layout.payload_offset + sizeof(payload_t));
    CHECK(failures, (char *)p == (char *)inst + layout.payload_offset);
    obj_type_layout_t sub_layout;
    CHECK_STATUS(failures, obj_type_layout(sub, &sub_layout, NULL, 0), OBJ_OK);
    CHECK(failures, sub_layout.payload_offset == layout.payload_offset);
    CHECK(failures, sub_layout.dict_offset >= layout.instance_size);

    /* The last reference: clear, then finalize, once each. */
    hook_calls = 0;
    obj_decref(inst);
    CHECK(failures, hook_calls == 2 && hook_log[0] == 1 && hook_log[1] == 2);
    CHECK(failures, obj_refcount(held) == 1);
    obj_decref(held);

    /* Hooks of a class without a payload are never called, even for a
     * subclass that adds one. */
    obj_type_spec_t hooks_only = spec;
    hooks_only.payload_size = 0;
    obj_t *inert = NULL;
    CHECK_STATUS(failures, obj_type_new(heap, "Inert", NULL, 0, &hooks_only, &inert), OBJ_OK);
    obj_type_spec_t payload_only = {.payload_size = 32,
                                    .slots = NULL,
                                    .nslots = 0,
                                    .has_dict = false,
                                    .traverse = NULL,
                                    .clear = NULL,
                                    .finalize = NULL};
    obj_t *below = NULL;
    CHECK_STATUS(failures, obj_type_new(heap, "Below", &inert, 1, &payload_only, &below), OBJ_OK);
    hook_calls = 0;
    CHECK_STATUS(failures, obj_alloc(below, &inst), OBJ_OK);
    CHECK(failures, obj_payload(inst) != NULL);
    obj_decref(inst);
    CHECK_STATUS(failures, obj_alloc(inert, &inst), OBJ_OK);
    CHECK(failures, obj_payload(inst) == NULL);
    obj_decref(inst);
    CHECK(failures, hook_calls == 0);
    obj_decref(below);
    obj_decref(inert);

    /* Classes without a payload give NULL, and so does NULL. */
    obj_t *plain = NULL;
    CHECK_STATUS(failures, obj_alloc(obj_object_type(heap), &plain), OBJ_OK);
    CHECK(failures, obj_payload(plain) == NULL);
    CHECK(failures, obj_payload(test_int(heap, 3)) == NULL);
    CHECK(failures, obj_payload(NULL) == NULL);
    CHECK_STR(failures, obj_last_error(), "obj_payload: argument 'o' is NULL");

    /* Two payloads cannot meet in one class. */
    obj_t *other = NULL;
    CHECK_STATUS(failures, obj_type_new(heap, "Other", NULL, 0, &spec, &other), OBJ_OK);
    obj_t *both[] = {buf_type, other};
    obj_t *out = NULL;
    CHECK_ERROR(failures, obj_type_new(heap, "Both", both, 2, NULL, &out), OBJ_ERR_TYPE,
                "multiple bases have instance lay-out conflict");
    CHECK_STATUS(failures, obj_type_new(heap, "Again", &buf_type, 1, &spec, &out), OBJ_ERR_TYPE);

    /* Allocating: only classes of plain objects. */
    obj_t *int_type = obj_type_of(test_int(heap, 3));
    CHECK_STATUS(failures, obj_alloc(int_type, &out), OBJ_ERR_TYPE);
    CHECK_STATUS(failures, obj_alloc(plain, &out), OBJ_ERR_TYPE);
    CHECK_STATUS(failures, obj_alloc(NULL, &out), OBJ_ERR_NULL_ARG);
    CHECK_STATUS(failures, obj_alloc(sub, NULL), OBJ_ERR_NULL_ARG);
    CHECK(failures, out == NULL);

    obj_decref(plain);
    obj_decref(sub);
    obj_decref(other);
    obj_decref(buf_type);
    return failures;
}

static int test_slots_and_layouts(obj_heap_t *heap) {
    int failures = 0;
    static const char *const slot_names[] = {"x", "y"};
    obj_type_spec_t spec = {
        .payload_size = 0,
        .slots = slot_names,
        .nslots = 2,
        .has_dict = false,
        .traverse = NULL,
        .clear = NULL,
        .finalize = NULL,
    };
    obj_t *point = NULL;
    CHECK_STATUS(failures, obj_type_new(heap, "Point", NULL, 0, &spec, &point), OBJ_OK);
    spec.nslots = 1;
    spec.slots = slot_names + 1;
    spec.has_dict = true;
    obj_t *point3 = NULL; /* a slot of its own (shadowing Point's "y"), and a __dict__ */
    CHECK_STATUS(failures, obj_type_new(heap, "Labelled", &point, 1, &spec, &point3), OBJ_OK);

    obj_type_layout_t layout;
    size_t offsets[4] = {0, 0, 0, 0};
    CHECK_STATUS(failures, obj_type_layout(point, &layout, offsets, 4), OBJ_OK);
    CHECK(failures, layout.header_size == 16 && layout.nslots == 2);
    CHECK(failures, offsets[0] == 16 && offsets[1] == 24 && offsets[2] == 0);
    CHECK(failures, layout.payload_offset == 0 && layout.payload_size == 0);
    CHECK(failures, layout.dict_offset == 0 && layout.instance_size == 32);
    CHECK_STATUS(failures, obj_type_layout(point3, &layout, offsets, 1), OBJ_OK);
    CHECK(failures, layout.nslots == 3 && offsets[0] == 16 && offsets[1] == 24);
    /* the attribute area: two words (two inline values, or an array and
     * its shape, or a dict) */
    CHECK(failures, layout.dict_offset == 40 && layout.instance_size == 56);

    /* A slot is a load at its offset. */
    obj_t *pt = NULL;
    CHECK_STATUS(failures, obj_alloc(point, &pt), OBJ_OK);
    obj_t *seven = test_int(heap, 7);
    CHECK_STATUS(failures, obj_setattr_str(pt, "y", seven), OBJ_OK);
    CHECK(failures, *(obj_t **)((char *)pt + 24) == seven);
    obj_decref(pt);

    /* Bad specs. */
    obj_t *out = NULL;
    static const char *const with_null[] = {"a", NULL};
    spec.slots = with_null;
    spec.nslots = 2;
    CHECK_ERROR(failures, obj_type_new(heap, "S", NULL, 0, &spec, &out), OBJ_ERR_NULL_ARG,
                "obj_type_new: argument 'spec->slots[1]' is NULL");
    static const char *const not_utf8[] = {"\xc3\x28"};
    spec.slots = not_utf8;
    spec.nslots = 1;
    CHECK_STATUS(failures, obj_type_new(heap, "S", NULL, 0, &spec, &out), OBJ_ERR_VALUE);
    spec.slots = NULL;
    CHECK_ERROR(failures, obj_type_new(heap, "S", NULL, 0, &spec, &out), OBJ_ERR_NULL_ARG,
                "obj_type_new: argument 'spec->slots' is NULL");
    CHECK(failures, out == NULL);

    /* Layouts: classes of plain objects only. */
    CHECK_STATUS(failures, obj_type_layout(obj_object_type(heap), &layout, NULL, 0), OBJ_OK);
    CHECK(failures, layout.instance_size == 16 && layout.nslots == 0);
    CHECK_ERROR(failures, obj_type_layout(obj_type_of(seven), &layout, NULL, 0), OBJ_ERR_TYPE,
                "<class 'int'> is not a class of plain objects (object or a class made by "
                "obj_type_new)");
    CHECK_STATUS(failures, obj_type_layout(seven, &layout, NULL, 0), OBJ_ERR_TYPE);
    CHECK_STATUS(failures, obj_type_layout(NULL, &layout, NULL, 0), OBJ_ERR_NULL_ARG);
    CHECK_STATUS(failures, obj_type_layout(point, NULL, NULL, 0), OBJ_ERR_NULL_ARG);
    CHECK_ERROR(failures, obj_type_layout(point, &layout, NULL, 1), OBJ_ERR_NULL_ARG,
                "obj_type_layout: argument 'slot_offsets' is NULL");

    obj_decref(point3);
    obj_decref(point);
    return failures;
}

static int test_two_heaps(obj_heap_t *heap) {
    int failures = 0;
    obj_heap_t *other = obj_heap_new();
    obj_t *mine = new_class(heap, "Mine", NULL, 0);
    obj_t *theirs = new_class(other, "Theirs", NULL, 0);
    obj_t *out = NULL;
    CHECK_ERROR(failures, obj_type_new(heap, "Mixed", &theirs, 1, NULL, &out),
                OBJ_ERR_HEAP_MISMATCH, "objects of two heaps cannot be mixed");
    obj_t *inst = NULL;
    CHECK_STATUS(failures, obj_alloc(mine, &inst), OBJ_OK);
    bool yes = true;
    CHECK_STATUS(failures, obj_is_instance(inst, theirs, &yes), OBJ_ERR_HEAP_MISMATCH);
    CHECK(failures, yes && out == NULL);
    obj_decref(inst);
    obj_decref(mine);
    obj_decref(theirs);
    obj_heap_free(other);
    return failures;
}

int objffi_c_test_types(void) {
    int failures = 0;
    obj_heap_t *heap = obj_heap_new();
    CHECK(failures, heap != NULL);
    if (heap == NULL) {
        return failures;
    }
    failures += test_hierarchies(heap);
    failures += test_payloads(heap);
    failures += test_slots_and_layouts(heap);
    failures += test_two_heaps(heap);
    obj_heap_free(heap);
    return failures;
}
