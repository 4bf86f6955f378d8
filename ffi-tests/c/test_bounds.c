/* Host code cannot break the heap (issue 11): a failed lookup leaves no trace,
 * attribute layouts stay within bounds and within the memory limit, a payload
 * the heap could never hold is refused without touching memory, dropping many
 * classes works (and takes linear time), and bad slot names and aliased
 * out-parameters are refused. Each part uses a heap of its own. */
#include "objffi.h" /* first: the header must compile on its own */

#include <stdlib.h>

#include "check.h"

int objffi_c_test_bounds(void);

/* The process's resident memory in bytes, from /proc/self/status; 0 where it
 * says nothing about this library (the checks that use it then pass): where
 * there is no /proc, and under valgrind, whose calloc writes every byte it
 * returns. The C tests run beside others in one process, so only large jumps
 * mean anything. */
static size_t resident_bytes(void) {
    const char *preload = getenv("LD_PRELOAD");
    if (preload != NULL && strstr(preload, "vgpreload") != NULL) {
        return 0;
    }
    FILE *f = fopen("/proc/self/status", "r");
    if (f == NULL) {
        return 0;
    }
    char line[256];
    size_t kib = 0;
    while (fgets(line, sizeof line, f) != NULL) {
        if (strncmp(line, "VmRSS:", 6) == 0) {
            kib = (size_t)strtoull(line + 6, NULL, 10);
            break;
        }
    }
    fclose(f);
    return kib * 1024;
}

#define MIB ((size_t)1 << 20)

/* Release builds (ci/limits.sh) run the counts of the issue; debug builds
 * (cargo test, valgrind, sanitizers) a tenth of the lookups and classes,
 * and a quarter of the room for attributes under a memory limit. */
#ifdef OBJFFI_TEST_FULL_SIZE
enum { LOOKUPS = 100000, CLASSES = 80000, ROOM_MIB = 4 };
#else
enum { LOOKUPS = 10000, CLASSES = 8000, ROOM_MIB = 1 };
#endif

/* Whether resident memory grew by less than `slack` since `before` (yes when
 * it cannot be told). */
static int resident_grew_less_than(size_t before, size_t slack) {
    size_t now = resident_bytes();
    return before == 0 || now < before || now - before < slack;
}

static obj_t *new_class(obj_heap_t *heap, const char *name, const obj_type_spec_t *spec) {
    obj_t *t = NULL;
    obj_status_t st = obj_type_new(heap, name, NULL, 0, spec, &t);
    if (st != OBJ_OK) {
        fprintf(stderr, "obj_type_new(%s) gave %s: %s\n", name, obj_status_name(st),
                obj_last_error());
    }
    return t;
}

static obj_t *new_instance(obj_t *type) {
    obj_t *o = NULL;
    obj_status_t st = obj_alloc(type, &o);
    if (st != OBJ_OK) {
        fprintf(stderr, "obj_alloc gave %s: %s\n", obj_status_name(st), obj_last_error());
    }
    return o;
}

/* ----- finding 8: a failed lookup does not grow the heap ------------------- */

/* A `__getattr__` that answers with the name it was asked for. */
static obj_status_t answer_name(void *data, obj_t *const *args, size_t nargs, obj_t **result) {
    (void)data;
    if (nargs != 2) {
        return OBJ_ERR_TYPE;
    }
    obj_incref(args[1]);
    *result = args[1];
    return OBJ_OK;
}

static int test_failed_lookups_leave_no_trace(void) {
    int failures = 0;
    obj_heap_t *heap = obj_heap_new();
    obj_t *cls = new_class(heap, "C", NULL);
    obj_t *o = new_instance(cls);
    CHECK_STATUS(failures, obj_setattr_str(o, "x", obj_none(heap)), OBJ_OK);
    obj_heap_stats_t before, after;
    CHECK_STATUS(failures, obj_heap_stats(heap, &before), OBJ_OK);

    enum { N = LOOKUPS };
    char name[32];
    size_t wrong = 0;
    for (int i = 0; i < N; ++i) {
        obj_t *out = NULL;
        snprintf(name, sizeof name, "missing_%d", i);
        wrong += obj_getattr_str(o, name, &out) != OBJ_ERR_ATTRIBUTE;
        wrong += obj_getattr_str(cls, name, &out) != OBJ_ERR_ATTRIBUTE;
        snprintf(name, sizeof name, "absent_%d", i);
        obj_t *fresh = test_str(heap, name);
        wrong += obj_getattr(o, fresh, &out) != OBJ_ERR_ATTRIBUTE;
        wrong += obj_getattr(cls, fresh, &out) != OBJ_ERR_ATTRIBUTE;
        wrong += obj_delattr(o, fresh) != OBJ_ERR_ATTRIBUTE;
        wrong += out != NULL;
        obj_decref(fresh);
    }
    CHECK(failures, wrong == 0);
    CHECK_ERROR(failures, obj_getattr_str(o, "missing_7", &(obj_t *){NULL}), OBJ_ERR_ATTRIBUTE,
                "'C' object has no attribute 'missing_7'");
    CHECK_STATUS(failures, obj_heap_stats(heap, &after), OBJ_OK);
    CHECK(failures, after.objects_live == before.objects_live);
    CHECK(failures, after.bytes_in_use == before.bytes_in_use);
    if (after.objects_live != before.objects_live || after.bytes_in_use != before.bytes_in_use) {
        fprintf(stderr, "%d failed lookups: objects_live %zu -> %zu, bytes_in_use %zu -> %zu\n",
                5 * N, before.objects_live, after.objects_live, before.bytes_in_use,
                after.bytes_in_use);
    }

    /* A name that is not interned still finds what is there. */
    obj_t *x = test_str(heap, "x");
    obj_t *out = NULL;
    CHECK_STATUS(failures, obj_getattr(o, x, &out), OBJ_OK);
    CHECK(failures, out == obj_none(heap));
    obj_decref(out);
    /* ... also a key the host put in the instance's __dict__ itself. */
    obj_t *dict = NULL;
    CHECK_STATUS(failures, obj_getattr_str(o, "__dict__", &dict), OBJ_OK);
    obj_t *key = test_str(heap, "put_by_host");
    obj_t *one = test_int(heap, 1);
    CHECK_STATUS(failures, obj_dict_set(dict, key, one), OBJ_OK);
    CHECK_STATUS(failures, obj_getattr_str(o, "put_by_host", &out), OBJ_OK);
    CHECK(failures, out == one);
    obj_decref(out);
    CHECK_STATUS(failures, obj_getattr(o, key, &out), OBJ_OK);
    CHECK(failures, out == one);
    obj_decref(out);
    CHECK_STATUS(failures, obj_delattr(o, key), OBJ_OK);
    CHECK_STATUS(failures, obj_getattr(o, key, &out), OBJ_ERR_ATTRIBUTE);

    /* `__getattr__` gets the name asked for, and nothing stays behind. */
    obj_t *hook = NULL;
    CHECK_STATUS(failures, obj_function_new(heap, "__getattr__", answer_name, NULL, &hook),
                 OBJ_OK);
    CHECK_STATUS(failures, obj_setattr_str(cls, "__getattr__", hook), OBJ_OK);
    obj_t *fresh = test_str(heap, "asked_for");
    CHECK_STATUS(failures, obj_getattr(o, fresh, &out), OBJ_OK);
    CHECK_STR_OBJ(failures, out, "asked_for");
    obj_decref(out);
    CHECK_STATUS(failures, obj_heap_stats(heap, &before), OBJ_OK);
    for (int i = 0; i < 1000; ++i) {
        snprintf(name, sizeof name, "hooked_%d", i);
        out = NULL;
        CHECK_STATUS(failures, obj_getattr_str(o, name, &out), OBJ_OK);
        CHECK_STR_OBJ(failures, out, name);
        obj_decref(out);
    }
    CHECK_STATUS(failures, obj_heap_stats(heap, &after), OBJ_OK);
    CHECK(failures, after.objects_live == before.objects_live);
    CHECK(failures, after.bytes_in_use == before.bytes_in_use);

    obj_decref(fresh);
    obj_decref(hook);
    obj_decref(one);
    obj_decref(key);
    obj_decref(dict);
    obj_decref(x);
    obj_decref(o);
    obj_decref(cls);
    obj_heap_free(heap);
    return failures;
}

/* ----- finding 9: attribute layouts stay small and inside the limit -------- */

static int test_many_attributes_on_one_object(void) {
    int failures = 0;
    obj_heap_t *heap = obj_heap_new();
    obj_t *cls = new_class(heap, "C", NULL);
    obj_t *o = new_instance(cls);
    size_t resident = resident_bytes();

    enum { N = 15000 };
    char name[32];
    size_t wrong = 0;
    for (int i = 0; i < N; ++i) {
        snprintf(name, sizeof name, "a%d", i);
        obj_t *v = test_int(heap, 1000 + i);
        wrong += obj_setattr_str(o, name, v) != OBJ_OK;
        obj_decref(v);
    }
    for (int i = 0; i < N; ++i) {
        snprintf(name, sizeof name, "a%d", i);
        obj_t *v = NULL;
        int64_t got = -1;
        wrong += obj_getattr_str(o, name, &v) != OBJ_OK;
        wrong += obj_int_value(v, &got) != OBJ_OK || got != 1000 + i;
        obj_decref(v);
    }
    CHECK(failures, wrong == 0);
    obj_heap_stats_t stats;
    CHECK_STATUS(failures, obj_heap_stats(heap, &stats), OBJ_OK);
    CHECK(failures, stats.bytes_reserved < 32 * MIB);
    CHECK(failures, resident_grew_less_than(resident, 256 * MIB));
    if (!resident_grew_less_than(resident, 256 * MIB)) {
        fprintf(stderr, "%d attributes on one object: +%zu MiB resident, the heap has %zu MiB\n",
                N, (resident_bytes() - resident) / MIB, stats.bytes_reserved / MIB);
    }
    obj_decref(o);
    obj_decref(cls);
    obj_heap_free(heap);
    return failures;
}

/* Many instances, each with its attributes in an order of its own. */
static int test_many_attribute_orders(void) {
    int failures = 0;
    obj_heap_t *heap = obj_heap_new();
    obj_t *cls = new_class(heap, "C", NULL);
    size_t live = test_live(heap);
    enum { N = 3000 };
    obj_t *objs[N];
    char name[32];
    size_t wrong = 0;
    for (int i = 0; i < N; ++i) {
        objs[i] = new_instance(cls);
        snprintf(name, sizeof name, "own_%d", i);
        wrong += obj_setattr_str(objs[i], name, obj_true(heap)) != OBJ_OK;
        wrong += obj_setattr_str(objs[i], "shared", obj_false(heap)) != OBJ_OK;
    }
    for (int i = 0; i < N; ++i) {
        obj_t *v = NULL;
        snprintf(name, sizeof name, "own_%d", i);
        wrong += obj_getattr_str(objs[i], name, &v) != OBJ_OK || v != obj_true(heap);
        obj_decref(v);
        wrong += obj_getattr_str(objs[i], "shared", &v) != OBJ_OK || v != obj_false(heap);
        obj_decref(v);
        snprintf(name, sizeof name, "own_%d", (i + 1) % N);
        wrong += obj_getattr_str(objs[i], name, &v) != OBJ_ERR_ATTRIBUTE;
        obj_decref(objs[i]);
    }
    CHECK(failures, wrong == 0);
    CHECK(failures, test_live(heap) == live + N + 1); /* the names stay interned */
    obj_decref(cls);
    obj_heap_free(heap);
    return failures;
}

/* With a memory limit, attributes past it give OBJ_ERR_NO_MEMORY, and the
 * object and the heap stay whole and usable. */
static int test_attributes_past_the_limit(void) {
    int failures = 0;
    obj_heap_t *heap = obj_heap_new();
    obj_t *cls = new_class(heap, "C", NULL);
    obj_t *o = new_instance(cls);
    obj_heap_stats_t stats;
    CHECK_STATUS(failures, obj_heap_stats(heap, &stats), OBJ_OK);
    size_t limit = stats.bytes_reserved + ROOM_MIB * MIB;
    CHECK_STATUS(failures, obj_heap_set_memory_limit(heap, limit), OBJ_OK);
    size_t resident = resident_bytes();

    char name[32];
    obj_status_t st = OBJ_OK;
    int added = 0;
    while (st == OBJ_OK && added < 1000000) {
        snprintf(name, sizeof name, "a%d", added);
        st = obj_setattr_str(o, name, obj_none(heap));
        added += st == OBJ_OK;
    }
    CHECK_STATUS(failures, st, OBJ_ERR_NO_MEMORY);
    CHECK(failures, added > 1000);
    CHECK_STATUS(failures, obj_heap_stats(heap, &stats), OBJ_OK);
    CHECK(failures, stats.bytes_reserved <= limit);
    CHECK(failures, resident_grew_less_than(resident, 256 * MIB));

    /* Every attribute set is there; the one refused is not. */
    size_t wrong = 0;
    for (int i = 0; i < added; ++i) {
        obj_t *v = NULL;
        snprintf(name, sizeof name, "a%d", i);
        wrong += obj_getattr_str(o, name, &v) != OBJ_OK || v != obj_none(heap);
        obj_decref(v);
    }
    CHECK(failures, wrong == 0);
    /* The refused name is absent. (Looking it up makes a temporary str of
     * its text, which a heap at its limit may refuse: lift the limit.) */
    obj_t *v = NULL;
    snprintf(name, sizeof name, "a%d", added);
    CHECK_STATUS(failures, obj_heap_set_memory_limit(heap, 0), OBJ_OK);
    CHECK_STATUS(failures, obj_getattr_str(o, name, &v), OBJ_ERR_ATTRIBUTE);
    CHECK_STATUS(failures, obj_heap_set_memory_limit(heap, limit), OBJ_OK);

    /* Freeing makes room again. */
    obj_decref(o);
    o = new_instance(cls);
    CHECK(failures, o != NULL);
    CHECK_STATUS(failures, obj_setattr_str(o, "a0", obj_none(heap)), OBJ_OK);
    obj_decref(o);
    obj_decref(cls);
    obj_heap_free(heap);
    return failures;
}

/* ----- finding 10: payloads the heap could never hold ---------------------- */

/* A class with a payload of `size` bytes must be refused at obj_type_new or
 * at obj_alloc, with OBJ_ERR_NO_MEMORY or OBJ_ERR_VALUE. */
static int check_refused_payload(obj_heap_t *heap, size_t size) {
    int failures = 0;
    obj_type_spec_t spec = {0};
    spec.payload_size = size;
    obj_t *t = NULL;
    obj_status_t st = obj_type_new(heap, "Huge", NULL, 0, &spec, &t);
    if (st == OBJ_OK) {
        obj_t *o = NULL;
        st = obj_alloc(t, &o);
        CHECK(failures, o == NULL);
        obj_decref(t);
    } else {
        CHECK(failures, t == NULL);
    }
    if (st != OBJ_ERR_NO_MEMORY && st != OBJ_ERR_VALUE) {
        fprintf(stderr, "a payload of %zu bytes gave %s: %s\n", size, obj_status_name(st),
                obj_last_error());
        ++failures;
    }
    return failures;
}

static int test_payloads_the_heap_could_never_hold(void) {
    int failures = 0;
    obj_heap_t *heap = obj_heap_new();
    obj_t *name = NULL; /* the classes' name, interned for good before the count */
    CHECK_STATUS(failures, obj_intern(heap, "Huge", 4, &name), OBJ_OK);
    obj_decref(name);
    size_t live = test_live(heap);
    size_t resident = resident_bytes();
    CHECK_STATUS(failures, obj_heap_set_memory_limit(heap, 64 * MIB), OBJ_OK);
    failures += check_refused_payload(heap, (size_t)1 << 40);
    failures += check_refused_payload(heap, 65 * MIB);
    /* Sizes whose arithmetic would overflow; with and without a limit. */
    failures += check_refused_payload(heap, SIZE_MAX - 8);
    failures += check_refused_payload(heap, SIZE_MAX);
    CHECK_STATUS(failures, obj_heap_set_memory_limit(heap, 0), OBJ_OK);
    failures += check_refused_payload(heap, SIZE_MAX - 8);
    failures += check_refused_payload(heap, SIZE_MAX - 4096);
    failures += check_refused_payload(heap, SIZE_MAX / 2 + 1);
    CHECK(failures, resident_grew_less_than(resident, 64 * MIB));
    CHECK(failures, test_live(heap) == live);

    /* The heap is usable. */
    obj_type_spec_t spec = {0};
    spec.payload_size = 48;
    obj_t *t = new_class(heap, "Small", &spec);
    obj_t *o = new_instance(t);
    CHECK(failures, o != NULL && obj_payload(o) != NULL);
    obj_decref(o);
    obj_decref(t);
    obj_heap_free(heap);
    return failures;
}

/* Without a limit a large payload is zero, and memory is touched only when
 * the host uses it. */
static int test_large_payloads_are_not_touched(void) {
    int failures = 0;
    obj_heap_t *heap = obj_heap_new();
    size_t resident = resident_bytes();
    const size_t size = (size_t)1 << 30;
    obj_type_spec_t spec = {0};
    spec.payload_size = size;
    obj_t *t = new_class(heap, "Big", &spec);
    obj_t *o = t == NULL ? NULL : new_instance(t);
    CHECK(failures, o != NULL);
    if (o != NULL) {
        const unsigned char *p = obj_payload(o);
        CHECK(failures, p != NULL);
        const size_t offsets[] = {0, 1, 4096, size / 3, size / 2 + 17, size - 4096, size - 1};
        for (size_t i = 0; p != NULL && i < sizeof offsets / sizeof offsets[0]; ++i) {
            CHECK(failures, p[offsets[i]] == 0);
        }
        CHECK(failures, resident_grew_less_than(resident, 512 * MIB));
        if (!resident_grew_less_than(resident, 512 * MIB)) {
            fprintf(stderr, "a %zu MiB payload: +%zu MiB resident\n", size / MIB,
                    (resident_bytes() - resident) / MIB);
        }
        obj_heap_stats_t stats;
        CHECK_STATUS(failures, obj_heap_stats(heap, &stats), OBJ_OK);
        CHECK(failures, stats.bytes_reserved > size);
        obj_decref(o);
        CHECK_STATUS(failures, obj_heap_stats(heap, &stats), OBJ_OK);
        CHECK(failures, stats.bytes_reserved < size);
    }
    obj_decref(t);
    obj_heap_free(heap);
    return failures;
}

/* ----- finding 12: many classes come and go -------------------------------- */

static int test_many_subclasses_dropped(void) {
    int failures = 0;
    obj_heap_t *heap = obj_heap_new();
    obj_t *base = new_class(heap, "Base", NULL);
    obj_t *names[2] = {NULL, NULL}; /* interned for good before the count */
    CHECK_STATUS(failures, obj_intern(heap, "Sub", 3, &names[0]), OBJ_OK);
    CHECK_STATUS(failures, obj_intern(heap, "flag", 4, &names[1]), OBJ_OK);
    obj_decref(names[0]);
    obj_decref(names[1]);
    size_t live = test_live(heap);
    enum { N = CLASSES };
    obj_t **subs = calloc(N, sizeof *subs);
    CHECK(failures, subs != NULL);
    if (subs == NULL) {
        obj_decref(base);
        obj_heap_free(heap);
        return failures;
    }
    size_t wrong = 0;
    for (int i = 0; i < N; ++i) {
        wrong += obj_type_new(heap, "Sub", &base, 1, NULL, &subs[i]) != OBJ_OK;
    }
    CHECK(failures, wrong == 0);
    /* The class's namespace changing reaches every subclass. */
    obj_t *v = NULL;
    CHECK_STATUS(failures, obj_setattr_str(base, "flag", obj_true(heap)), OBJ_OK);
    CHECK_STATUS(failures, obj_getattr_str(subs[N - 1], "flag", &v), OBJ_OK);
    CHECK(failures, v == obj_true(heap));
    obj_decref(v);
    /* Dropped in the order made, then half in the other order. */
    for (int i = 0; i < N / 2; ++i) {
        obj_decref(subs[i]);
    }
    for (int i = N - 1; i >= N / 2; --i) {
        obj_decref(subs[i]);
    }
    free(subs);
    CHECK(failures, test_live(heap) == live);
    /* The base lives on, with no subclasses to reach. */
    CHECK_STATUS(failures, obj_setattr_str(base, "flag", obj_false(heap)), OBJ_OK);
    obj_t *sub = NULL;
    CHECK_STATUS(failures, obj_type_new(heap, "Sub", &base, 1, NULL, &sub), OBJ_OK);
    CHECK_STATUS(failures, obj_getattr_str(sub, "flag", &v), OBJ_OK);
    CHECK(failures, v == obj_false(heap));
    obj_decref(v);
    obj_decref(sub);
    obj_decref(base);
    obj_heap_free(heap);
    return failures;
}

/* ----- finding 13: bad slot names, aliased out-parameters ------------------ */

static int test_slot_names_must_be_identifiers(void) {
    int failures = 0;
    obj_heap_t *heap = obj_heap_new();
    size_t live = test_live(heap);
    const char *bad[] = {"", "1a", "a b", "a-b", "a.b", " a", "\xc3\xa9!"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; ++i) {
        const char *slots[] = {"fine", bad[i]};
        obj_type_spec_t spec = {0};
        spec.slots = slots;
        spec.nslots = 2;
        obj_t *t = NULL;
        CHECK_ERROR(failures, obj_type_new(heap, "S", NULL, 0, &spec, &t), OBJ_ERR_TYPE,
                    "__slots__ must be identifiers");
        CHECK(failures, t == NULL);
    }
    CHECK(failures, test_live(heap) == live);
    /* Python's identifiers: letters, digits after the first, '_', non-ASCII letters. */
    const char *good[] = {"_", "a1", "_x_", "\xc3\xa9t\xc3\xa9", "\xce\xbb"};
    obj_type_spec_t spec = {0};
    spec.slots = good;
    spec.nslots = sizeof good / sizeof good[0];
    obj_t *t = new_class(heap, "S", &spec);
    CHECK(failures, t != NULL);
    obj_t *o = t == NULL ? NULL : new_instance(t);
    CHECK_STATUS(failures, obj_setattr_str(o, "\xc3\xa9t\xc3\xa9", obj_none(heap)), OBJ_OK);
    obj_decref(o);
    obj_decref(t);
    obj_heap_free(heap);
    return failures;
}

static int test_dict_item_refuses_one_place_for_two_results(void) {
    int failures = 0;
    obj_heap_t *heap = obj_heap_new();
    obj_t *d = NULL;
    CHECK_STATUS(failures, obj_dict_new(heap, &d), OBJ_OK);
    obj_t *k = test_str(heap, "key");
    obj_t *v = test_int(heap, 1000);
    CHECK_STATUS(failures, obj_dict_set(d, k, v), OBJ_OK);
    size_t live = test_live(heap);
    size_t k_count = obj_refcount(k), v_count = obj_refcount(v);

    obj_t *both = (obj_t *)&both; /* a sentinel: must stay as it is */
    CHECK_ERROR(failures, obj_dict_item(d, 0, &both, &both), OBJ_ERR_VALUE,
                "obj_dict_item: arguments 'key' and 'value' point to the same place");
    CHECK(failures, both == (obj_t *)&both);
    CHECK(failures, obj_refcount(k) == k_count && obj_refcount(v) == v_count);
    CHECK(failures, test_live(heap) == live);
    /* Out of range with the same place: the aliasing is refused first. */
    CHECK_STATUS(failures, obj_dict_item(d, 5, &both, &both), OBJ_ERR_VALUE);

    obj_t *key = NULL, *value = NULL;
    CHECK_STATUS(failures, obj_dict_item(d, 0, &key, &value), OBJ_OK);
    CHECK(failures, key == k && value == v);
    obj_decref(key);
    obj_decref(value);
    obj_decref(k);
    obj_decref(v);
    obj_decref(d);
    obj_heap_free(heap);
    return failures;
}

int objffi_c_test_bounds(void) {
    int failures = 0;
    failures += test_failed_lookups_leave_no_trace();
    failures += test_many_attributes_on_one_object();
    failures += test_many_attribute_orders();
    failures += test_attributes_past_the_limit();
    failures += test_payloads_the_heap_could_never_hold();
    failures += test_large_payloads_are_not_touched();
    failures += test_many_subclasses_dropped();
    failures += test_slot_names_must_be_identifiers();
    failures += test_dict_item_refuses_one_place_for_two_results();
    return failures;
}
