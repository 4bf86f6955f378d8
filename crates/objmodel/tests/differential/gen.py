#!/usr/bin/env python3
"""Random attribute-model scenarios, executed in CPython, for tests/differential.rs.

Usage: gen.py --seed S --count N [--start K]

Scenario i (K <= i < K + N) is drawn from random.Random(S * 1000003 + i), so one
scenario can be regenerated on its own with --start i --count 1.

Output: one line per step, space-separated tokens. Each scenario is

    scenario <i>
    class <C> bases=<C,C,..> slots=<none | (empty: ()) | a,b>
    attr <C> <name> int <k>                  # class body: name = k
    attr <C> <name> method <k>               # def name(self): return k
    attr <C> <name> prop <k> ro|rw           # @property getter returning k
                                             # (rw: setter storing self._<name>)
    attr <C> __getattr__ getattr <k>         # def __getattr__(self, n): return k
    attr <C> __init__ init <name>=<k>,..     # def __init__(self): self.name = k; ...
    made <C> => <outcome>                    # type(C, bases, namespace)
    inst <i> <C> => <outcome>                # i = C()
    get <T> <name> => <outcome>              # getattr(T, name)
    set <T> <name> int <k> => <outcome>      # setattr(T, name, k)
    set <C> <name> method <k> => <outcome>   # setattr(C, name, <new function>)
    set <C> <name> prop <k> ro|rw => <outcome>
    del <T> <name> => <outcome>              # delattr(T, name)
    call <i> <name> => <outcome>             # getattr(i, name)()
    end

where T is a class (C0..C5) or an instance (i0..i2). Every constant k is unique
within a scenario, so a value names where it came from. Outcomes:

    ok | int <k> | none | method <k> [wrong-self] | function <k> | property <k>
    | member <name> <owner> | type <name> | dict <repr> | other <type name>
    | err <exception class> <message, whitespace collapsed to single spaces>

`method <k>` is a bound method of the function returning k (bound to T unless
`wrong-self`); `function <k>` and `property <k>` are the objects made for k.
"""

import argparse
import random
import sys

NAMES = ["a", "b", "c", "d"]


def norm(msg):
    return " ".join(str(msg).split())


class Scenario:
    def __init__(self, rng):
        self.rng = rng
        self.next_k = 100
        self.lines = []
        self.classes = {}  # name -> class, created ones only
        self.insts = {}
        self.funcs = {}  # id(function) -> k
        self.props = {}  # id(property) -> k
        self.keep = []  # keeps the ids above valid

    def const(self):
        self.next_k += 1
        return self.next_k

    def emit(self, *tokens):
        self.lines.append(" ".join(str(t) for t in tokens))

    # ----- values ---------------------------------------------------------

    def method(self, cls_name, name, k):
        def f(self):
            return k

        f.__name__ = name
        f.__qualname__ = f"{cls_name}.{name}"
        self.funcs[id(f)] = k
        self.keep.append(f)
        return f

    def getattr_hook(self, cls_name, k):
        def __getattr__(self, n):
            return k

        __getattr__.__qualname__ = f"{cls_name}.__getattr__"
        self.funcs[id(__getattr__)] = k
        self.keep.append(__getattr__)
        return __getattr__

    def init(self, cls_name, assigns):
        def __init__(self):
            for n, k in assigns:
                setattr(self, n, k)

        __init__.__qualname__ = f"{cls_name}.__init__"
        return __init__

    def prop(self, cls_name, name, k, rw):
        def getter(self):
            return k

        getter.__name__ = name
        getter.__qualname__ = f"{cls_name}.{name}"
        setter = None
        if rw:
            store = "_" + name

            def setter(self, v):
                setattr(self, store, v)

            setter.__name__ = name
            setter.__qualname__ = f"{cls_name}.{name}"
        p = property(getter, setter)
        self.props[id(p)] = k
        self.keep.append(p)
        return p

    def describe(self, v, target):
        if type(v) is int:
            return f"int {v}"
        if v is None:
            return "none"
        t = type(v).__name__
        if t == "method":
            k = self.funcs.get(id(v.__func__), "?")
            return f"method {k}" + ("" if v.__self__ is target else " wrong-self")
        if t == "function":
            return f"function {self.funcs.get(id(v), '?')}"
        if t == "property":
            return f"property {self.props.get(id(v), '?')}"
        if t == "member_descriptor":
            return f"member {v.__name__} {v.__objclass__.__name__}"
        if isinstance(v, type):
            return f"type {v.__name__}"
        if t == "dict":
            return f"dict {v!r}"
        return f"other {t}"

    def outcome(self, fn, target):
        try:
            v = fn()
        except Exception as e:  # the outcome is the exception, whatever it is
            return f"err {type(e).__name__} {norm(e)}"
        if v is _OK:
            return "ok"
        return self.describe(v, target)

    # ----- steps ----------------------------------------------------------

    def make_class(self, idx):
        rng = self.rng
        name = f"C{idx}"
        existing = list(self.classes)
        nbases = rng.choice([0, 1, 1, 1, 2, 2, 3]) if existing else 0
        if rng.random() < 0.9:  # distinct bases, mostly
            bases = rng.sample(existing, min(nbases, len(existing)))
        else:  # some duplicates
            bases = [rng.choice(existing) for _ in range(nbases)]
        r = rng.random()
        if r < 0.55:
            slots = None
        elif r < 0.65:
            slots = ()
        else:
            slots = tuple(rng.choice(NAMES) for _ in range(rng.choice([1, 1, 2])))
        base_objs = [self.classes[b] for b in bases]
        has_dict = slots is None or any(b.__dictoffset__ != 0 for b in base_objs)
        self.emit("class", name, "bases=" + ",".join(bases),
                  "slots=" + ("none" if slots is None else ",".join(slots)))
        ns = {}
        if slots is not None:
            ns["__slots__"] = slots
        # Class attributes never reuse the class's own slot names (CPython
        # refuses that with ValueError; objrt has no class body to check).
        free = [n for n in NAMES if slots is None or n not in slots]
        for attr in rng.sample(free, min(len(free), rng.choice([0, 1, 2, 2, 3]))):
            kind = rng.choice(["int", "method", "method", "prop"])
            k = self.const()
            if kind == "int":
                ns[attr] = k
                self.emit("attr", name, attr, "int", k)
            elif kind == "method":
                ns[attr] = self.method(name, attr, k)
                self.emit("attr", name, attr, "method", k)
            else:
                rw = has_dict and rng.random() < 0.6
                ns[attr] = self.prop(name, attr, k, rw)
                self.emit("attr", name, attr, "prop", k, "rw" if rw else "ro")
        if rng.random() < 0.2:
            k = self.const()
            ns["__getattr__"] = self.getattr_hook(name, k)
            self.emit("attr", name, "__getattr__", "getattr", k)
        if rng.random() < 0.15:
            assigns = [(self.pick_name(True, "set"), self.const()) for _ in range(rng.randint(1, 2))]
            ns["__init__"] = self.init(name, assigns)
            self.emit("attr", name, "__init__", "init", ",".join(f"{n}={k}" for n, k in assigns))

        def create():
            self.classes[name] = type(name, tuple(base_objs), ns)
            return _OK

        self.emit("made", name, "=>", self.outcome(create, None))

    def make_instance(self, idx):
        name = f"i{idx}"
        cname = self.rng.choice(list(self.classes))

        def create():
            self.insts[name] = self.classes[cname]()
            return _OK

        self.emit("inst", name, cname, "=>", self.outcome(create, None))

    def pick_name(self, on_instance, verb):
        r = self.rng.random()
        if r < 0.86:
            return self.rng.choice(NAMES)
        if r < 0.93:
            return "_" + self.rng.choice(NAMES)
        if verb == "call":
            return self.rng.choice(NAMES)
        if on_instance and verb == "get":
            return self.rng.choice(["__dict__", "__class__", "__getattr__"])
        if not on_instance and verb == "get":
            return self.rng.choice(["__class__", "__getattr__"])
        if not on_instance:
            return "__getattr__"
        return self.rng.choice(NAMES)

    def op(self):
        rng = self.rng
        on_instance = bool(self.insts) and rng.random() < 0.6
        if on_instance:
            tname = rng.choice(list(self.insts))
            target = self.insts[tname]
            verb = rng.choices(["get", "set", "del", "call"], [40, 25, 15, 20])[0]
        else:
            tname = rng.choice(list(self.classes))
            target = self.classes[tname]
            verb = rng.choices(["get", "set", "del"], [45, 35, 20])[0]
        name = self.pick_name(on_instance, verb)
        if verb == "get":
            self.emit("get", tname, name, "=>", self.outcome(lambda: getattr(target, name), target))
        elif verb == "call":
            self.emit("call", tname, name, "=>", self.outcome(lambda: getattr(target, name)(), target))
        elif verb == "del":
            def delete():
                delattr(target, name)
                return _OK

            self.emit("del", tname, name, "=>", self.outcome(delete, target))
        else:
            k = self.const()
            kind = "int" if on_instance else rng.choices(["int", "method", "prop"], [60, 25, 15])[0]
            tokens = [kind, k]
            if kind == "int":
                value = k
            elif kind == "method":
                value = self.getattr_hook(tname, k) if name == "__getattr__" else self.method(tname, name, k)
            else:
                rw = target.__dictoffset__ != 0 and rng.random() < 0.6
                value = self.prop(tname, name, k, rw)
                tokens.append("rw" if rw else "ro")

            def store():
                setattr(target, name, value)
                return _OK

            self.emit("set", tname, name, *tokens, "=>", self.outcome(store, target))

    def run(self, index):
        rng = self.rng
        self.emit("scenario", index)
        for i in range(rng.randint(1, 6)):
            self.make_class(i)
        for i in range(rng.randint(1, 3)):
            self.make_instance(i)
        for _ in range(rng.randint(10, 40)):
            self.op()
        self.emit("end")


_OK = object()


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=int, required=True)
    ap.add_argument("--count", type=int, required=True)
    ap.add_argument("--start", type=int, default=0)
    args = ap.parse_args()
    out = []
    for i in range(args.start, args.start + args.count):
        s = Scenario(random.Random(args.seed * 1000003 + i))
        s.run(i)
        out.extend(s.lines)
    sys.stdout.write("\n".join(out) + "\n")


if __name__ == "__main__":
    main()
