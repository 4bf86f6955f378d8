/* The CPython 3.11 peer of ops.c: the same operations, with the same names,
 * through CPython's C API in an embedded interpreter: `ops_cpython OP N`.
 * ci/callgrind-ops.sh runs both programs and prints them side by side.
 *
 * Each loop body mirrors the one in ops.c: one C API call (or the pair
 * alloc/decref, call/decref, getattr/decref), its result checked, nothing
 * else. The objects have the same shapes and are made the ordinary Python
 * way (the classes by running Python source, the instances by calling the
 * class), so instances keep 3.11's inline attribute values.
 *
 * Host functions are C on both sides: objrt's __init__ and m are host (C)
 * functions, so here they are METH_FASTCALL C functions put on the class as
 * method descriptors (PyDescr_NewMethod, how a C extension type's methods
 * are bound, list.append for one). Calling P(1, 1) then calls __init__ with
 * self in front and no bound method made, as objrt's call_special does; a
 * Python __init__ would add a frame and bytecode that objrt does not run.
 *
 * The interpreter is isolated (no environment, no site) with hash seed 0,
 * so string hashes, and with them the instruction counts, are the same on
 * every run. */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <valgrind/callgrind.h>

#include "wall.h"

/* The counted part of a row that callgrind runs with collection off. */
#define MEASURED_BEGIN CALLGRIND_TOGGLE_COLLECT
#define MEASURED_END CALLGRIND_TOGGLE_COLLECT

/* gc_young (as in ops.c): the old heap, and the new objects per young collection. */
#define OLD_OBJECTS 100000
#define YOUNG_ROUND 700

static void fail(const char *what) {
    fprintf(stderr, "%s failed\n", what);
    if (PyErr_Occurred()) PyErr_Print();
    exit(2);
}

static PyObject *must(PyObject *o, const char *what) {
    if (o == NULL) fail(what);
    return o;
}

/* A full collection that must find at least `expected` unreachable objects
 * (CPython counts each instance's dict too, where one was made). */
static void collect_expecting(Py_ssize_t expected, const char *what) {
    PyGC_Enable(); /* PyGC_Collect does nothing while collection is off */
    Py_ssize_t found = PyGC_Collect();
    if (found < expected) {
        fprintf(stderr, "%s: collected %zd, expected %zd\n", what, found, expected);
        exit(2);
    }
}

/* `n` new instances of `cls`, each pointing through `attr` at the one
 * made before it, the first at `last` (whose reference this takes);
 * returns the newest. */
static PyObject *live_chain(PyObject *cls, PyObject *attr, PyObject *last, long n) {
    for (long i = 0; i < n; ++i) {
        PyObject *t = must(PyObject_CallNoArgs(cls), "chain");
        if (PyObject_SetAttr(t, attr, last) < 0) fail("chain");
        Py_DECREF(last);
        last = t;
    }
    return last;
}

/* `gc.collect(0)`: a young collection (the C API has only full ones). */
static void collect_young(PyObject *collect, int counted) {
    PyObject *zero = must(PyLong_FromLong(0), "0");
    if (counted) MEASURED_BEGIN;
    PyObject *found = PyObject_CallOneArg(collect, zero);
    if (counted) MEASURED_END;
    Py_DECREF(must(found, "gc.collect(0)"));
    Py_DECREF(zero);
}

/* Two new instances of `cls` pointing at each other through `attr`, dropped. */
static void drop_a_2_cycle(PyObject *cls, PyObject *attr) {
    PyObject *a = must(PyObject_CallNoArgs(cls), "cycle a");
    PyObject *b = must(PyObject_CallNoArgs(cls), "cycle b");
    if (PyObject_SetAttr(a, attr, b) < 0 || PyObject_SetAttr(b, attr, a) < 0) fail("cycle");
    Py_DECREF(a);
    Py_DECREF(b);
}

static PyObject *init_xy(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs != 2) {
        PyErr_SetString(PyExc_TypeError, "__init__ takes 2 arguments");
        return NULL;
    }
    if (PyObject_SetAttrString(self, "x", args[0]) < 0) return NULL;
    if (PyObject_SetAttrString(self, "y", args[1]) < 0) return NULL;
    Py_RETURN_NONE;
}

static PyObject *method(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    (void)self;
    (void)args;
    (void)nargs;
    Py_RETURN_NONE;
}

static PyMethodDef init_def = {"__init__", (PyCFunction)(void (*)(void))init_xy, METH_FASTCALL, NULL};
static PyMethodDef method_def = {"m", (PyCFunction)(void (*)(void))method, METH_FASTCALL, NULL};

/* `cls.<def->ml_name> = <def as a method descriptor of cls>` */
static void set_method(PyObject *cls, PyMethodDef *def) {
    PyObject *descr = must(PyDescr_NewMethod((PyTypeObject *)cls, def), def->ml_name);
    if (PyObject_SetAttrString(cls, def->ml_name, descr) < 0) fail(def->ml_name);
    Py_DECREF(descr);
}

static const char classes[] =
    "class P:\n"
    "    c = None\n"
    "class Base:\n"
    "    up = None\n"
    "class Mid0(Base): pass\n"
    "class Mid1(Mid0): pass\n"
    "class Mid2(Mid1): pass\n"
    "class Mid3(Mid2): pass\n"
    "class Mid4(Mid3): pass\n"
    "class S:\n"
    "    __slots__ = ('s',)\n";

static void start_interpreter(void) {
    PyConfig config;
    PyConfig_InitIsolatedConfig(&config);
    config.site_import = 0;
    config.use_hash_seed = 1;
    config.hash_seed = 0;
    PyStatus status = Py_InitializeFromConfig(&config);
    PyConfig_Clear(&config);
    if (PyStatus_Exception(status)) Py_ExitStatusException(status);
}

/* hot: otherwise GCC guesses the last branches of the op chain unlikely
 * and calls Py_DECREF out of line there (in incref_decref), where
 * CPython's own code, and any extension, has it inline. */
__attribute__((hot)) int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: ops_cpython OP N\n");
        return 2;
    }
    const char *op = argv[1];
    long n = atol(argv[2]);
    start_interpreter();
    PyObject *globals = must(PyDict_New(), "globals");
    if (PyDict_SetItemString(globals, "__builtins__", PyEval_GetBuiltins()) < 0) fail("__builtins__");
    Py_DECREF(must(PyRun_String(classes, Py_file_input, globals, globals), "classes"));
    /* Borrowed from globals, which lives to the end. */
    PyObject *p = must(PyDict_GetItemString(globals, "P"), "P");
    PyObject *mid4 = must(PyDict_GetItemString(globals, "Mid4"), "Mid4");
    PyObject *slotted = must(PyDict_GetItemString(globals, "S"), "S");
    set_method(p, &method_def);
    PyObject *x = PyUnicode_InternFromString("x"), *c = PyUnicode_InternFromString("c"),
             *m = PyUnicode_InternFromString("m"), *up = PyUnicode_InternFromString("up"),
             *s = PyUnicode_InternFromString("s");
    if (!x || !c || !m || !up || !s) fail("names");
    PyObject *o = must(PyObject_CallNoArgs(p), "P()");
    PyObject *one = must(PyLong_FromLong(1), "1");
    if (PyObject_SetAttr(o, x, one) < 0) fail("o.x");
    PyObject *deep = must(PyObject_CallNoArgs(mid4), "Mid4()");
    PyObject *so = must(PyObject_CallNoArgs(slotted), "S()");
    if (PyObject_SetAttr(so, s, one) < 0) fail("so.s");

    /* objrt's getattr_inline_KIND and setattr_inline_instance (objffi.h's
     * inline lookups) have CPython's own getattr and setattr for peers: its
     * C API has no inline form. */
    char peer[64];
    if (strncmp(op, "getattr_inline_", 15) == 0 || strcmp(op, "setattr_inline_instance") == 0) {
        snprintf(peer, sizeof peer, "%.8s%s", op, op + 15);
        op = peer;
    }

    long long started = ops_now_ns();
    if (strcmp(op, "alloc") == 0) {
        PyTypeObject *type = (PyTypeObject *)p;
        for (long i = 0; i < n; ++i) {
            PyObject *t = must(type->tp_alloc(type, 0), "alloc");
            Py_DECREF(t);
        }
    } else if (strcmp(op, "call_init") == 0) {
        set_method(p, &init_def);
        PyObject *args[2] = {one, one};
        for (long i = 0; i < n; ++i) {
            PyObject *t = must(PyObject_Vectorcall(p, args, 2, NULL), "P(1, 1)");
            Py_DECREF(t);
        }
    } else if (strcmp(op, "getattr_instance") == 0 || strcmp(op, "getattr_class") == 0 ||
               strcmp(op, "getattr_5_up") == 0 || strcmp(op, "getattr_method") == 0 ||
               strcmp(op, "getattr_slot") == 0) {
        PyObject *target = o, *attr = x;
        if (strcmp(op, "getattr_class") == 0) attr = c;
        if (strcmp(op, "getattr_5_up") == 0) target = deep, attr = up;
        if (strcmp(op, "getattr_method") == 0) attr = m;
        if (strcmp(op, "getattr_slot") == 0) target = so, attr = s;
        for (long i = 0; i < n; ++i) {
            PyObject *got = must(PyObject_GetAttr(target, attr), op);
            Py_DECREF(got);
        }
    } else if (strcmp(op, "setattr_instance") == 0) {
        for (long i = 0; i < n; ++i)
            if (PyObject_SetAttr(o, x, one) < 0) fail(op);
    } else if (strcmp(op, "call_method") == 0) {
        /* o.m(): the C method of the class, called without a bound method
         * (as the interpreter's LOAD_METHOD/CALL do). */
        for (long i = 0; i < n; ++i) {
            PyObject *got = must(PyObject_CallMethodNoArgs(o, m), op);
            Py_DECREF(got);
        }
    } else if (strcmp(op, "incref_decref") == 0 || strcmp(op, "incref_decref_inline") == 0) {
        /* Py_INCREF and Py_DECREF are inline: without the empty asm, which
         * the compiler must assume reads o and writes memory, the pair
         * would cancel and the loop be deleted. The count is written and
         * read back each iteration, as through objrt's calls. */
        for (long i = 0; i < n; ++i) {
            Py_INCREF(o);
            __asm__ volatile("" : : "r"(o) : "memory");
            Py_DECREF(o);
        }
    } else if (strcmp(op, "gc_dead") == 0) {
        PyGC_Disable();
        for (long i = 0; i < n / 2; ++i) drop_a_2_cycle(p, x);
        MEASURED_BEGIN;
        collect_expecting(n / 2 * 2, op);
        MEASURED_END;
    } else if (strcmp(op, "gc_live") == 0) {
        PyGC_Disable();
        PyObject *last = live_chain(p, x, Py_NewRef(Py_None), n);
        MEASURED_BEGIN;
        collect_expecting(0, op);
        MEASURED_END;
        Py_DECREF(last);
    } else if (strcmp(op, "gc_young") == 0) {
        PyObject *gc = must(PyImport_ImportModule("gc"), "gc");
        PyObject *collect = must(PyObject_GetAttrString(gc, "collect"), "gc.collect");
        PyObject *last = live_chain(p, x, Py_NewRef(Py_None), OLD_OBJECTS); /* aged by automatic collections */
        PyGC_Disable();
        collect_young(collect, 0); /* the young leftovers of building, uncounted */
        for (long made = 0; made < n; made += YOUNG_ROUND) {
            last = live_chain(p, x, last, n - made < YOUNG_ROUND ? n - made : YOUNG_ROUND);
            collect_young(collect, 1);
        }
        Py_DECREF(last);
        Py_DECREF(collect);
        Py_DECREF(gc);
    } else if (strcmp(op, "gc_tree") == 0) {
        /* node i's parent is node (i - 1) / 2, its children 2i + 1, 2i + 2 */
        PyObject *left = PyUnicode_InternFromString("left"),
                 *right = PyUnicode_InternFromString("right"),
                 *parent = PyUnicode_InternFromString("parent");
        PyObject **nodes = malloc(sizeof *nodes * (size_t)(n + 1));
        if (!left || !right || !parent || nodes == NULL) fail(op);
        for (long i = 0; i < n; ++i) {
            nodes[i] = must(PyObject_CallNoArgs(p), op);
            if (i > 0) {
                PyObject *up_node = nodes[(i - 1) / 2];
                if (PyObject_SetAttr(nodes[i], parent, up_node) < 0 ||
                    PyObject_SetAttr(up_node, i % 2 ? left : right, nodes[i]) < 0)
                    fail(op);
            }
        }
        for (long i = 0; i < n; ++i) Py_DECREF(nodes[i]);
        free(nodes);
        collect_expecting(n > 1 ? n : 0, op);
        Py_DECREF(left);
        Py_DECREF(right);
        Py_DECREF(parent);
    } else if (strcmp(op, "gc_churn") == 0) {
        for (long i = 0; i < n; ++i) drop_a_2_cycle(p, x);
    } else {
        fprintf(stderr, "unknown op %s\n", op);
        return 2;
    }
    ops_report_wall(started);
    Py_DECREF(o);
    Py_DECREF(deep);
    Py_DECREF(so);
    Py_DECREF(one);
    Py_DECREF(x);
    Py_DECREF(c);
    Py_DECREF(m);
    Py_DECREF(up);
    Py_DECREF(s);
    Py_DECREF(globals);
    if (Py_FinalizeEx() < 0) return 2;
    return 0;
}
