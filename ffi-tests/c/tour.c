/* A tour of objrt's C API, run by `cargo run --release -p ffi-tests --bin tour`.
 *
 * It tells the story objrt started from (shared/SEED.md): how an object is
 * created, where its header and fields lie, and how a name is found on it:
 * first in the object, then in its class and the class's parents. Every
 * figure printed is read from the running library. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "objffi.h"

int objffi_tour_main(void);

/* On failure: print the call, its status and message, and leave the tour. */
#define TRY(call)                                                                   \
    do {                                                                            \
        obj_status_t st_ = (call);                                                  \
        if (st_ != OBJ_OK) {                                                        \
            fprintf(stderr, "%s:%d: %s failed: %s: %s\n", __FILE__, __LINE__, #call, \
                    obj_status_name(st_), obj_last_error());                        \
            goto fail;                                                              \
        }                                                                           \
    } while (0)

/* repr(o) into a static buffer, for printing. */
static const char *repr(obj_t *o) {
    static char bufs[4][256];
    static int next;
    char *buf = bufs[next++ % 4];
    obj_t *r = NULL;
    const char *text = NULL;
    size_t len = 0;
    if (obj_repr(o, &r) != OBJ_OK || obj_str_data(r, &text, &len) != OBJ_OK) {
        snprintf(buf, 256, "<repr failed: %s>", obj_last_error());
    } else {
        snprintf(buf, 256, "%.*s", (int)len, text);
    }
    obj_decref(r);
    return buf;
}

static void print_stats(const char *when, obj_heap_t *heap) {
    obj_heap_stats_t s;
    if (obj_heap_stats(heap, &s) != OBJ_OK) {
        return;
    }
    printf("%s:\n"
           "  objects_live     %zu   (the heap's %zu built-ins not counted)\n"
           "  bytes_in_use     %zu   (in blocks handed out, built-ins included)\n"
           "  bytes_reserved   %zu   (taken from the system: %zu arena(s), %zu pool(s) in use)\n",
           when, s.objects_live, s.builtin_objects, s.bytes_in_use, s.bytes_reserved, s.arenas,
           s.pools);
}

/* greet(self): "hello from " + repr(self.name). `data` is the heap. */
static obj_status_t greet(void *data, obj_t *const *args, size_t nargs, obj_t **result) {
    if (nargs != 1) {
        obj_set_last_error("greet() takes exactly one argument (self)");
        return OBJ_ERR_TYPE;
    }
    obj_t *name = NULL;
    obj_status_t st = obj_getattr_str(args[0], "name", &name);
    if (st != OBJ_OK) {
        return st;
    }
    char text[300];
    snprintf(text, sizeof text, "hello from %s", repr(name));
    obj_decref(name);
    return obj_str_new((obj_heap_t *)data, text, strlen(text), result);
}

/* The word at `offset` bytes into the object `o`. */
static uintptr_t word_at(obj_t *o, size_t offset) {
    uintptr_t w;
    memcpy(&w, (const char *)o + offset, sizeof w);
    return w;
}

int objffi_tour_main(void) {
    obj_t *parent = NULL, *child = NULL, *andrey = NULL, *other = NULL, *name = NULL;
    obj_t *got = NULL, *greet_fn = NULL, *bound_a = NULL, *bound_b = NULL, *point = NULL;
    obj_t *pt = NULL, *x = NULL, *y = NULL, *ns = NULL, *tmp = NULL;
    obj_t *mro[8];
    size_t mro_len = 0;

    printf("objrt tour (objffi %d.%d.%d)\n\n", OBJFFI_VERSION_MAJOR, OBJFFI_VERSION_MINOR,
           OBJFFI_VERSION_PATCH);

    /* ---------------------------------------------------------------------- */
    printf("== 1. A heap ==\n\n");
    obj_heap_t *heap = obj_heap_new();
    if (heap == NULL) {
        fprintf(stderr, "obj_heap_new failed: %s\n", obj_last_error());
        return 1;
    }
    print_stats("A new heap, holding only the objects every heap has (None, True, False,\n"
                "the small ints -5..256, the built-in types, a few names)",
                heap);

    /* ---------------------------------------------------------------------- */
    printf("\n== 2. Classes: a namespace dict each ==\n\n");
    printf(">>> class Parent:\n...     name = None\n");
    TRY(obj_type_new(heap, "Parent", NULL, 0, NULL, &parent));
    TRY(obj_setattr_str(parent, "name", obj_none(heap)));
    printf(">>> class Child(Parent): pass\n");
    TRY(obj_type_new(heap, "Child", &parent, 1, NULL, &child));
    TRY(obj_getattr_str(parent, "__dict__", &ns));
    printf("Parent.__dict__ = %s   (every class attribute is an entry: name -> object)\n",
           repr(ns));
    obj_decref(ns);
    ns = NULL;
    TRY(obj_type_mro(child, mro, 8, &mro_len));
    printf("Child's method resolution order (C3):");
    for (size_t i = 0; i < mro_len && i < 8; ++i) {
        printf("%s %s", i == 0 ? "" : " ->", repr(mro[i]));
    }
    printf("\n");

    /* ---------------------------------------------------------------------- */
    printf("\n== 3. Instances, and where a name is found ==\n\n");
    printf(">>> andrey = Child()\n>>> andrey.name = 'Андрей'\n>>> other = Child()\n");
    TRY(obj_call(child, NULL, 0, &andrey));
    TRY(obj_str_new(heap, "Андрей", strlen("Андрей"), &name));
    TRY(obj_setattr_str(andrey, "name", name));
    TRY(obj_call(child, NULL, 0, &other));
    TRY(obj_getattr_str(andrey, "__dict__", &ns));
    printf("andrey.__dict__ = %s\n", repr(ns));
    obj_decref(ns);
    TRY(obj_getattr_str(other, "__dict__", &ns));
    printf("other.__dict__  = %s\n", repr(ns));
    obj_decref(ns);
    ns = NULL;
    TRY(obj_getattr_str(andrey, "name", &got));
    printf(">>> andrey.name\n%s      <- found in the instance itself: the lookup stops there\n",
           repr(got));
    obj_decref(got);
    TRY(obj_getattr_str(other, "name", &got));
    printf(">>> other.name\n%s          <- not in the instance: found in Child's MRO, on Parent\n",
           repr(got));
    obj_decref(got);
    got = NULL;
    obj_status_t st = obj_getattr_str(other, "age", &got);
    printf(">>> other.age\n%s: %s   <- nowhere on the MRO\n", obj_status_name(st),
           obj_last_error());

    /* ---------------------------------------------------------------------- */
    printf("\n== 4. Methods live in the class, once ==\n\n");
    printf(">>> Parent.greet = greet   (a host function written in C)\n");
    TRY(obj_function_new(heap, "greet", greet, heap, &greet_fn));
    TRY(obj_setattr_str(parent, "greet", greet_fn));
    TRY(obj_getattr_str(child, "greet", &got));
    printf("Child.greet       -> %s at %p: %s the object stored in Parent\n", repr(got),
           (void *)got, got == greet_fn ? "the very function," : "NOT");
    obj_decref(got);
    got = NULL;
    TRY(obj_getattr_str(andrey, "greet", &bound_a));
    TRY(obj_getattr_str(other, "greet", &bound_b));
    printf("andrey.greet      -> %s\n", repr(bound_a));
    printf("other.greet       -> %s\n", repr(bound_b));
    printf("the bound methods are %s objects; each pairs the one function with its self\n",
           bound_a == bound_b ? "the same" : "two different");
    TRY(obj_call(bound_a, NULL, 0, &got));
    printf(">>> andrey.greet()\n%s\n", repr(got));
    obj_decref(got);
    TRY(obj_call_method_str(other, "greet", NULL, 0, &got));
    printf(">>> other.greet()\n%s\n", repr(got));
    obj_decref(got);
    got = NULL;
    obj_decref(bound_a);
    bound_a = NULL;

    /* ---------------------------------------------------------------------- */
    printf("\n== 5. Header first, fields after: an object in memory ==\n\n");
    static const char *const xy[] = {"x", "y"};
    obj_type_spec_t spec = {.payload_size = 0,
                            .slots = xy,
                            .nslots = 2,
                            .has_dict = false,
                            .traverse = NULL,
                            .clear = NULL,
                            .finalize = NULL};
    printf(">>> class Point:\n...     __slots__ = ('x', 'y')\n");
    TRY(obj_type_new(heap, "Point", NULL, 0, &spec, &point));
    obj_type_layout_t layout;
    size_t offsets[2];
    TRY(obj_type_layout(point, &layout, offsets, 2));
    TRY(obj_call(point, NULL, 0, &pt));
    TRY(obj_int_new(heap, 1000, &x));
    TRY(obj_int_new(heap, 2000, &y));
    TRY(obj_setattr_str(pt, "x", x));
    TRY(obj_setattr_str(pt, "y", y));
    printf(">>> pt = Point(); pt.x = 1000; pt.y = 2000\n");
    printf("pt is %zu bytes at %p: a %zu-byte header, then the fields at fixed offsets\n"
           "(its block also holds the cycle collector's links, just before the header).\n",
           layout.instance_size, (void *)pt, layout.header_size);
    printf("  offset  field      word in memory        meaning\n");
    printf("  +%-6d refcount   %#-20" PRIxPTR "  %zu reference(s) (obj_refcount)\n", 0,
           word_at(pt, 0), obj_refcount(pt));
    printf("  +%-6d type       %#-20" PRIxPTR "  %s at %p (obj_type_of)\n", 8, word_at(pt, 8),
           repr(obj_type_of(pt)), (void *)obj_type_of(pt));
    printf("  +%-6zu slot x     %#-20" PRIxPTR "  %s at %p\n", offsets[0],
           word_at(pt, offsets[0]), repr(x), (void *)x);
    printf("  +%-6zu slot y     %#-20" PRIxPTR "  %s at %p\n", offsets[1],
           word_at(pt, offsets[1]), repr(y), (void *)y);
    printf("Reading pt.x is a load at offset %zu: no dict, no search.\n", offsets[0]);
    TRY(obj_type_layout(child, &layout, NULL, 0));
    printf("A Child instance has no slots but a __dict__: %zu bytes, header at 0, and at +%zu "
           "a pointer to its shape\n(the attribute names, shared by every Child given the same "
           "names in the same order) and one to its values.\n",
           layout.instance_size, layout.dict_offset);

    /* ---------------------------------------------------------------------- */
    printf("\n== 6. Reference counts ==\n\n");
    printf("andrey is referenced %zu time(s) (by us); the string 'Андрей' %zu time(s) (by us, "
           "and by andrey's attributes)\n",
           obj_refcount(andrey), obj_refcount(name));
    TRY(obj_list_new(heap, &tmp));
    TRY(obj_list_append(tmp, andrey));
    printf("after putting andrey in a list: %zu; ", obj_refcount(andrey));
    obj_decref(tmp);
    tmp = NULL;
    printf("after the list is freed: %zu\n", obj_refcount(andrey));
    obj_heap_stats_t before;
    obj_heap_stats_t after;
    TRY(obj_heap_stats(heap, &before));
    obj_decref(bound_b);
    bound_b = NULL;
    obj_decref(other);
    other = NULL;
    TRY(obj_heap_stats(heap, &after));
    printf("dropping the last references to `other` and to its bound method frees them at "
           "once,\nwith other's __dict__: %zu -> %zu objects live\n",
           before.objects_live, after.objects_live);

    /* ---------------------------------------------------------------------- */
    /* ---------------------------------------------------------------------- */
    printf("\n== 7. Cycles and the collector ==\n\n");
    {
        obj_gc_disable(heap); /* so that the collection below is the one we ask for */
        obj_heap_stats_t s0;
        TRY(obj_heap_stats(heap, &s0));
        obj_t *first = NULL, *second = NULL, *ref = NULL;
        TRY(obj_alloc(child, &first));
        TRY(obj_alloc(child, &second));
        TRY(obj_setattr_str(first, "friend", second));
        TRY(obj_setattr_str(second, "friend", first));
        TRY(obj_weakref_new(first, NULL, &ref));
        printf("two Child objects point at each other (first.friend = second, second.friend = first);\n"
               "each is referenced by us and by the other: refcounts %zu and %zu\n",
               obj_refcount(first), obj_refcount(second));
        obj_decref(first);
        obj_decref(second);
        obj_heap_stats_t s1;
        TRY(obj_heap_stats(heap, &s1));
        printf("we drop our references; each count falls to 1, so reference counting frees neither\n"
               "(%zu objects live before; %zu now: the two, a weak reference to the first,\n"
               " and the interned name 'friend')\n",
               s0.objects_live, s1.objects_live);
        size_t collected = 0;
        TRY(obj_gc_collect(heap, -1, &collected));
        obj_heap_stats_t s2;
        TRY(obj_heap_stats(heap, &s2));
        obj_t *target = NULL;
        TRY(obj_weakref_get(ref, &target));
        printf("obj_gc_collect finds %zu unreachable objects and frees them: %zu objects live;\n"
               "a weak reference to the first now gives %s\n",
               collected, s2.objects_live, repr(target));
        obj_decref(target);
        obj_decref(ref);
        obj_gc_stats_t gs;
        TRY(obj_gc_stats(heap, &gs));
        printf("collector statistics: %zu collection(s), %zu unreachable object(s) found, "
               "%zu uncollectable\n",
               gs.collections, gs.collected, gs.uncollectable);
        obj_gc_enable(heap);
    }

    /* ---------------------------------------------------------------------- */
    printf("\n== 8. Looking into the heap ==\n\n");
    {
        obj_t *referrers = NULL, *referents = NULL;
        TRY(obj_gc_referents(andrey, &referents));
        TRY(obj_gc_referrers(andrey, &referrers));
        size_t n_to = 0, n_from = 0;
        TRY(obj_len(referents, &n_to));
        TRY(obj_len(referrers, &n_from));
        printf(">>> gc.get_referents(andrey)  # its class and its attribute values\n%s\n",
               repr(referents));
        printf(">>> len(gc.get_referrers(andrey))  # tracked objects that refer to it\n%zu\n",
               n_from);
        obj_decref(referents);
        obj_decref(referrers);
        (void)n_to;
        /* The snapshot goes where cargo puts its output when run from the
         * workspace (the tour's own main draws the pictures from it). */
        const char *path = "target/tour-snapshot.json";
        if (obj_heap_snapshot(heap, path) != OBJ_OK) {
            path = "tour-snapshot.json";
            TRY(obj_heap_snapshot(heap, path));
        }
        printf("obj_heap_snapshot wrote every object of the heap, with its references, to %s\n"
               "(andrey is object %lu there)\n",
               path, (unsigned long)(uintptr_t)andrey);
    }

    /* ---------------------------------------------------------------------- */
    printf("\n== 9. The heap at the end ==\n\n");
    print_stats("Heap statistics", heap);

    obj_t *all[] = {parent, child, andrey, name, greet_fn, bound_a, point, pt, x, y};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; ++i) {
        obj_decref(all[i]);
    }
    print_stats("After giving back every reference (what stays are the interned names:\n"
                "Parent, Child, name, age, greet, Point, x, y; they live as long as the heap)",
                heap);
    obj_heap_free(heap);
    printf("\nheap freed\n");
    fflush(stdout);
    return 0;

fail:
    obj_heap_free(heap); /* releases every object */
    return 1;
}
