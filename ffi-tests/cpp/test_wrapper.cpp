// objffi.hpp from C++17: RAII references, exceptions carrying the status and
// message, host functions written with obj::host_call, and the header used
// from two translation units (see second_tu.cpp).
#include "objffi.hpp"  // first: the header must compile on its own
#include "objffi.hpp"  // twice: the include guard must make this harmless

#include <cstdio>
#include <stdexcept>
#include <string>

extern "C" int objffi_cpp_test_wrapper();
std::string objffi_cpp_second_tu_repr(const obj::ref& o);  // defined in second_tu.cpp

namespace {

int failures = 0;

void check(bool ok, const char* what, int line) {
    if (!ok) {
        std::fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, line, what);
        ++failures;
    }
}

#define CHECK(cond) check((cond), #cond, __LINE__)

// Expects `stmt` to throw obj::error with `status` and `message`.
#define CHECK_THROWS(stmt, want_status, want_message)                                 \
    do {                                                                              \
        try {                                                                         \
            (void)(stmt);                                                             \
            check(false, #stmt " did not throw", __LINE__);                           \
        } catch (const obj::error& e) {                                               \
            check(e.status() == (want_status), #stmt ": status", __LINE__);           \
            check(std::string(e.what()) == (want_message), #stmt ": message", __LINE__); \
        }                                                                             \
    } while (0)

// self.name, or the class's: a host function written with host_call.
obj_status_t get_name(void*, obj_t* const* args, size_t nargs, obj_t** result) {
    return obj::host_call(result, [&] {
        if (nargs != 1) {
            throw std::invalid_argument("get_name() takes self only");
        }
        return obj::ref::borrow(args[0]).getattr("name");
    });
}

// A host's own failing code, no status of the library's: it must come back
// through obj::error and obj::host_call as it left.
constexpr obj_status_t HOST_CODE = 1234;

// Fails with HOST_CODE, written in C style (no wrapper).
obj_status_t refuse(void*, obj_t* const*, size_t, obj_t** result) {
    (void)result;
    obj_set_last_error("refused by the host");
    return HOST_CODE;
}

// Calls `data` (a callable) through the wrapper: its failure becomes an
// obj::error, which host_call turns back into the status and message.
obj_status_t call_through(void* data, obj_t* const*, size_t, obj_t** result) {
    return obj::host_call(result, [&] { return obj::ref::borrow(static_cast<obj_t*>(data))(); });
}

}  // namespace

int objffi_cpp_test_wrapper() {
    failures = 0;
    obj::heap h;  // first: destroyed after every ref below
    {
        // The seed's story.
        obj::ref parent = h.type("Parent");
        parent.setattr("name", h.none());
        obj::ref child = h.type("Child", {parent});
        obj::ref andrey = child();
        andrey.setattr("name", h.str("Андрей"));
        obj::ref other = child();
        CHECK(andrey.getattr("name").str() == "Андрей");
        CHECK(other.getattr("name").is(h.none()));
        CHECK(objffi_cpp_second_tu_repr(child) == "<class 'Child'>");
        auto mro = child.mro();
        CHECK(mro.size() == 3 && mro[0].is(child) && mro[1].is(parent) &&
              mro[2].is(h.object_type()));
        CHECK(andrey.isinstance(parent) && !h.integer(1).isinstance(parent));

        // By an interned name: objffi.h's inline lookups (the second round
        // and on hit the heap's cache), with the same answers and errors.
        obj::ref name_key = h.intern("name");
        for (int round = 0; round < 3; ++round) {
            andrey.setattr(name_key, h.integer(round));
            CHECK(andrey.getattr(name_key).repr() == std::to_string(round));
            CHECK(other.getattr(name_key).is(h.none()));
        }
        andrey.setattr(name_key, h.str("Андрей"));
        obj::ref missing = h.intern("missing");
        CHECK_THROWS(andrey.getattr(missing), OBJ_ERR_ATTRIBUTE,
                     "'Child' object has no attribute 'missing'");

        // A method stored once, bound to each instance.
        obj::ref f = h.function("get_name", get_name);
        parent.setattr("get_name", f);
        CHECK(parent.getattr("get_name").is(f));
        CHECK(!andrey.getattr("get_name").is(other.getattr("get_name")));
        CHECK(andrey.call_method("get_name").repr() == "'Андрей'");
        CHECK(other.getattr("get_name")().is(h.none()));

        // Copies count; moves do not; destruction gives the count back.
        obj::ref s = h.str("counted");
        CHECK(s.refcount() == 1);
        {
            obj::ref copy = s;
            CHECK(s.refcount() == 2 && copy.is(s));
            obj::ref moved = std::move(copy);
            CHECK(s.refcount() == 2 && !copy);
        }
        CHECK(s.refcount() == 1);
        obj_t* raw = s.release();
        CHECK(!s && obj_refcount(raw) == 1);
        s = obj::ref::steal(raw);

        // Values and containers.
        obj::ref list = h.list();
        list.append(h.integer(1000));
        list.append(h.number(0.5));
        list.append(h.tuple({s, h.boolean(true)}));
        CHECK(list.repr() == "[1000, 0.5, ('counted', True)]");
        CHECK(list.size() == 3 && list[0].as_int() == 1000 && list[-2].as_float() == 0.5);
        list.set_item(0, h.intern("x"));
        CHECK(list[0].is(h.intern("x")));
        obj::ref d = h.dict();
        d.dict_set(h.integer(1), s);
        CHECK(d.dict_get(h.number(1.0)).is(s));
        d.dict_del(h.boolean(true));
        CHECK(d.size() == 0);

        // Failures throw obj::error with the status and CPython's message.
        CHECK_THROWS(other.getattr("zzz"), OBJ_ERR_ATTRIBUTE, "'Child' object has no attribute 'zzz'");
        CHECK_THROWS(child.getattr("zzz"), OBJ_ERR_ATTRIBUTE,
                     "type object 'Child' has no attribute 'zzz'");
        CHECK_THROWS(list[3], OBJ_ERR_INDEX, "list index out of range");
        CHECK_THROWS(d.dict_get(s), OBJ_ERR_KEY, "'counted'");
        CHECK_THROWS(h.type("X", {parent, parent}), OBJ_ERR_TYPE, "duplicate base class Parent");
        CHECK_THROWS(s.as_int(), OBJ_ERR_TYPE, "'str' object cannot be interpreted as an integer");
        CHECK_THROWS(h.str("\xff"), OBJ_ERR_VALUE,
                     "'utf-8' codec can't decode byte 0xff in position 0: invalid start byte");
        CHECK_THROWS(obj::ref().repr(), OBJ_ERR_NULL_ARG, "obj_repr: argument 'o' is NULL");
        // A host function's exception: its status for obj::error, else OBJ_ERR_CALLBACK.
        CHECK_THROWS(f(andrey, andrey), OBJ_ERR_CALLBACK, "get_name() takes self only");
        obj::ref nameless = h.type("Nameless");
        nameless.setattr("get_name", f);
        CHECK_THROWS(nameless.alloc().call_method("get_name"), OBJ_ERR_ATTRIBUTE,
                     "'Nameless' object has no attribute 'name'");
        try {
            obj::heap other_heap;
            list.append(other_heap.str("theirs"));
            CHECK(false);
        } catch (const obj::error& e) {
            CHECK(e.status() == OBJ_ERR_HEAP_MISMATCH);
            CHECK(std::string(e.status_name()) == "OBJ_ERR_HEAP_MISMATCH");
        }
    }
    {
        // A host's own code, 1234, through obj::error, then through
        // obj::host_call and obj::error again.
        obj::ref refusing = h.function("refuse", refuse);
        CHECK_THROWS(refusing(), HOST_CODE, "refused by the host");
        try {
            refusing();
            CHECK(false);
        } catch (const obj::error& e) {
            CHECK(e.status() == 1234);
            CHECK(std::string(e.status_name()) == "OBJ_UNKNOWN");
        }
        obj::ref relaying = h.function("call_through", call_through, refusing.get());
        CHECK_THROWS(relaying(), HOST_CODE, "refused by the host");
    }
    CHECK(h.stats().objects_live > 0);  // interned names stay
    obj::heap moved = std::move(h);
    CHECK(moved.get() != nullptr && h.get() == nullptr);
    return failures;
}
