// objffi.hpp: a small C++17 wrapper over objffi.h (header-only).
//
// Written by hand (objffi.h is generated). It adds no behaviour: every member
// calls one function of the C ABI, whose documentation in objffi.h holds.
//
//   obj::heap   owns an obj_heap_t (move-only); frees it on destruction.
//   obj::ref    owns one reference to an obj_t: copying increfs, destruction
//               decrefs, moving transfers. `ref::steal` adopts a new
//               reference, `ref::borrow` adds one to a borrowed pointer.
//   obj::error  what every failing call throws: the obj_status_t (a host
//               function's own code included) and obj_last_error()'s message,
//               copied when thrown.
//
// Errors are exceptions: C++17 has no std::expected, and a status that is
// ignored by mistake is worse than one that unwinds. Code that must not
// throw can call the C functions directly on `ref::get()`. obj_status_t is a
// plain int32_t, so a host function's own code (any value) travels through
// obj::error and obj::host_call unchanged.
//
// Every member that returns a value is [[nodiscard]], except the calls
// (`ref::operator()`, `ref::call_method`): calling for the effect alone is
// common, and the result they drop is a ref that releases itself.
//
// Two rules the types cannot enforce:
//
// - Every `ref` of a heap must be destroyed before the heap: declare the
//   `obj::heap` first, so it is destroyed last.
// - A host function (obj_cfunc_t) is called from Rust: no exception may leave
//   it. Write its body with `obj::host_call`, which turns an exception into
//   a status and a message.
//
//   obj::heap h;
//   obj::ref parent = h.type("Parent");
//   parent.setattr("name", h.none());
//   obj::ref child = h.type("Child", {parent});
//   obj::ref andrey = child();
//   andrey.setattr("name", h.str("Андрей"));
//   std::string s = andrey.getattr("name").repr();   // "'Андрей'"
#ifndef OBJFFI_HPP
#define OBJFFI_HPP

#include "objffi.h"

#include <cstddef>
#include <cstdint>
#include <exception>
#include <initializer_list>
#include <new>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace obj {

/// A failed call of the C ABI: its status and message.
class error : public std::runtime_error {
public:
    error(obj_status_t status, const char* message)
        : std::runtime_error(message), status_(status) {}

    /// The status the call returned (possibly a host function's own code).
    [[nodiscard]] obj_status_t status() const noexcept { return status_; }
    /// The status's name, e.g. "OBJ_ERR_ATTRIBUTE" ("OBJ_UNKNOWN" for a host's code).
    [[nodiscard]] const char* status_name() const noexcept { return obj_status_name(status_); }

private:
    obj_status_t status_;
};

/// Throws `obj::error` with the calling thread's last message unless `s` is OBJ_OK.
inline void check(obj_status_t s) {
    if (s != OBJ_OK) {
        throw error(s, obj_last_error());
    }
}

class ref;

namespace detail {
/// Runs `call(&out)`, which writes a new reference to `out` on OBJ_OK, and
/// adopts it; throws on failure.
template <class Call>
[[nodiscard]] ref adopt(Call&& call);
}  // namespace detail

/// One owned reference to an object (or none).
class ref {
public:
    /// No object.
    ref() noexcept = default;

    /// Adopts a new reference (e.g. an `obj_t **out` result).
    [[nodiscard]] static ref steal(obj_t* p) noexcept { return ref(p); }
    /// Adds a reference to a borrowed pointer (e.g. an argument of a host function).
    [[nodiscard]] static ref borrow(obj_t* p) noexcept {
        obj_incref_inline(p);
        return ref(p);
    }

    ref(const ref& other) noexcept : p_(other.p_) { obj_incref_inline(p_); }
    ref(ref&& other) noexcept : p_(std::exchange(other.p_, nullptr)) {}
    ref& operator=(ref other) noexcept {
        std::swap(p_, other.p_);
        return *this;
    }
    ~ref() { obj_decref_inline(p_); }

    /// The object, borrowed (still owned by this ref).
    [[nodiscard]] obj_t* get() const noexcept { return p_; }
    /// Gives up ownership: the caller now owns the reference.
    [[nodiscard]] obj_t* release() noexcept { return std::exchange(p_, nullptr); }
    [[nodiscard]] explicit operator bool() const noexcept { return p_ != nullptr; }
    /// Identity, as Python's `is`.
    [[nodiscard]] bool is(const ref& other) const noexcept { return p_ == other.p_; }

    [[nodiscard]] size_t refcount() const noexcept { return obj_refcount(p_); }
    /// `type(self)`.
    [[nodiscard]] ref type() const {
        obj_t* t = obj_type_of(p_);
        if (t == nullptr) {
            throw error(OBJ_ERR_NULL_ARG, obj_last_error());
        }
        return borrow(t);
    }

    // ----- attributes ---------------------------------------------------------
    [[nodiscard]] ref getattr(const char* name) const {
        return detail::adopt([&](obj_t** o) { return obj_getattr_str(p_, name, o); });
    }
    /// Through objffi.h's inline hit (obj_getattr_inline): an interned
    /// name (obj_intern) found before is read without a call.
    [[nodiscard]] ref getattr(const ref& name) const {
        return detail::adopt([&](obj_t** o) { return obj_getattr_inline(p_, name.p_, o); });
    }
    void setattr(const char* name, const ref& value) const {
        check(obj_setattr_str(p_, name, value.p_));
    }
    /// Through objffi.h's inline hit (obj_setattr_inline), as getattr.
    void setattr(const ref& name, const ref& value) const {
        check(obj_setattr_inline(p_, name.p_, value.p_));
    }
    void delattr(const char* name) const { check(obj_delattr_str(p_, name)); }
    void delattr(const ref& name) const { check(obj_delattr(p_, name.p_)); }

    // ----- calls ----------------------------------------------------------------
    /// `self(args...)`; each argument is an `obj::ref`.
    template <class... Args>
    ref operator()(const Args&... args) const {
        obj_t* argv[] = {args.get()..., nullptr};
        obj_t* r = nullptr;
        check(obj_call(p_, argv, sizeof...(Args), &r));
        return steal(r);
    }
    /// `self.name(args...)`.
    template <class... Args>
    ref call_method(const char* name, const Args&... args) const {
        obj_t* argv[] = {args.get()..., nullptr};
        obj_t* r = nullptr;
        check(obj_call_method_str(p_, name, argv, sizeof...(Args), &r));
        return steal(r);
    }

    // ----- values -----------------------------------------------------------------
    [[nodiscard]] int64_t as_int() const {
        int64_t v = 0;
        check(obj_int_value(p_, &v));
        return v;
    }
    [[nodiscard]] double as_float() const {
        double v = 0;
        check(obj_float_value(p_, &v));
        return v;
    }
    /// The text of a str, borrowed: valid while the object lives.
    [[nodiscard]] std::string_view str() const {
        const char* s = nullptr;
        size_t n = 0;
        check(obj_str_data(p_, &s, &n));
        return std::string_view(s, n);
    }
    /// Python's `repr(self)`.
    [[nodiscard]] std::string repr() const {
        ref r = detail::adopt([&](obj_t** o) { return obj_repr(p_, o); });
        return std::string(r.str());
    }
    /// `len(self)`.
    [[nodiscard]] size_t size() const {
        size_t n = 0;
        check(obj_len(p_, &n));
        return n;
    }
    [[nodiscard]] bool isinstance(const ref& type) const {
        bool yes = false;
        check(obj_is_instance(p_, type.p_, &yes));
        return yes;
    }
    [[nodiscard]] void* payload() const noexcept { return obj_payload(p_); }

    // ----- containers -------------------------------------------------------------
    /// `self[index]` of a tuple or list.
    [[nodiscard]] ref operator[](int64_t index) const {
        return detail::adopt([&](obj_t** o) { return obj_seq_get(p_, index, o); });
    }
    void append(const ref& item) const { check(obj_list_append(p_, item.p_)); }
    void set_item(int64_t index, const ref& item) const {
        check(obj_list_set(p_, index, item.p_));
    }
    void dict_set(const ref& key, const ref& value) const {
        check(obj_dict_set(p_, key.p_, value.p_));
    }
    [[nodiscard]] ref dict_get(const ref& key) const {
        return detail::adopt([&](obj_t** o) { return obj_dict_get(p_, key.p_, o); });
    }
    void dict_del(const ref& key) const { check(obj_dict_del(p_, key.p_)); }

    // ----- classes ----------------------------------------------------------------
    /// The MRO of a class, itself first.
    [[nodiscard]] std::vector<ref> mro() const {
        size_t n = 0;
        check(obj_type_mro(p_, nullptr, 0, &n));
        std::vector<obj_t*> raw(n);
        check(obj_type_mro(p_, raw.data(), raw.size(), &n));
        std::vector<ref> types;
        types.reserve(raw.size());
        for (obj_t* t : raw) {
            types.push_back(borrow(t));
        }
        return types;
    }
    /// A new instance without calling `__init__`.
    [[nodiscard]] ref alloc() const { return detail::adopt([&](obj_t** o) { return obj_alloc(p_, o); }); }

private:
    explicit ref(obj_t* p) noexcept : p_(p) {}

    obj_t* p_ = nullptr;
};

/// A heap: the owner of a set of objects. Move-only; frees everything on
/// destruction (destroy its `ref`s first).
class heap {
public:
    /// A new heap; throws std::bad_alloc when the system has no memory.
    heap() : h_(obj_heap_new()) {
        if (h_ == nullptr) {
            throw std::bad_alloc();
        }
    }
    heap(const heap&) = delete;
    heap& operator=(const heap&) = delete;
    heap(heap&& other) noexcept : h_(std::exchange(other.h_, nullptr)) {}
    heap& operator=(heap&& other) noexcept {
        std::swap(h_, other.h_);
        return *this;
    }
    ~heap() { obj_heap_free(h_); }

    [[nodiscard]] obj_heap_t* get() const noexcept { return h_; }

    [[nodiscard]] obj_heap_stats_t stats() const {
        obj_heap_stats_t s{};
        check(obj_heap_stats(h_, &s));
        return s;
    }
    /// Bounds the bytes the heap takes from the system (0: no bound).
    void set_memory_limit(size_t max_bytes) const {
        check(obj_heap_set_memory_limit(h_, max_bytes));
    }

    [[nodiscard]] ref none() const { return ref::borrow(obj_none(h_)); }
    [[nodiscard]] ref boolean(bool v) const { return ref::borrow(v ? obj_true(h_) : obj_false(h_)); }
    [[nodiscard]] ref object_type() const { return ref::borrow(obj_object_type(h_)); }

    [[nodiscard]] ref integer(int64_t v) const {
        return detail::adopt([&](obj_t** o) { return obj_int_new(h_, v, o); });
    }
    [[nodiscard]] ref number(double v) const {
        return detail::adopt([&](obj_t** o) { return obj_float_new(h_, v, o); });
    }
    [[nodiscard]] ref str(std::string_view text) const {
        return detail::adopt([&](obj_t** o) {
            return obj_str_new(h_, text.data(), text.size(), o);
        });
    }
    [[nodiscard]] ref intern(std::string_view text) const {
        return detail::adopt([&](obj_t** o) {
            return obj_intern(h_, text.data(), text.size(), o);
        });
    }
    [[nodiscard]] ref tuple(std::initializer_list<ref> items) const {
        std::vector<obj_t*> raw;
        raw.reserve(items.size());
        for (const ref& item : items) {
            raw.push_back(item.get());
        }
        return detail::adopt([&](obj_t** o) {
            return obj_tuple_new(h_, raw.data(), raw.size(), o);
        });
    }
    [[nodiscard]] ref list() const { return detail::adopt([&](obj_t** o) { return obj_list_new(h_, o); }); }
    [[nodiscard]] ref dict() const { return detail::adopt([&](obj_t** o) { return obj_dict_new(h_, o); }); }

    /// A class; no bases means `object`; no spec: no payload, no slots, a __dict__.
    [[nodiscard]] ref type(const char* name, std::initializer_list<ref> bases = {},
             const obj_type_spec_t* spec = nullptr) const {
        std::vector<obj_t*> raw;
        raw.reserve(bases.size());
        for (const ref& b : bases) {
            raw.push_back(b.get());
        }
        return detail::adopt([&](obj_t** o) {
            return obj_type_new(h_, name, raw.data(), raw.size(), spec, o);
        });
    }
    /// A host function (`data` must outlive it; see obj_function_new).
    [[nodiscard]] ref function(const char* name, obj_cfunc_t fn, void* data = nullptr) const {
        return detail::adopt([&](obj_t** o) { return obj_function_new(h_, name, fn, data, o); });
    }
    /// A property; an empty `setter` makes it read-only.
    [[nodiscard]] ref property(const ref& getter, const ref& setter = ref()) const {
        return detail::adopt([&](obj_t** o) {
            return obj_property_new(h_, getter.get(), setter.get(), o);
        });
    }

private:
    obj_heap_t* h_;
};

template <class Call>
ref detail::adopt(Call&& call) {
    obj_t* out = nullptr;
    check(call(&out));
    return ref::steal(out);
}

/// The body of a host function: runs `body` (which returns an `obj::ref`)
/// and hands its result to the library; an `obj::error` it throws becomes
/// its status and message, any other exception OBJ_ERR_CALLBACK. Never throws.
///
///   static obj_status_t greet(void* data, obj_t* const* args, size_t n, obj_t** result) {
///       return obj::host_call(result, [&] { return obj::ref::borrow(args[0]).getattr("name"); });
///   }
template <class F>
[[nodiscard]] obj_status_t host_call(obj_t** result, F&& body) noexcept {
    try {
        ref r = body();
        if (!r) {
            obj_set_last_error("host function returned no object");
            return OBJ_ERR_CALLBACK;
        }
        *result = r.release();
        return OBJ_OK;
    } catch (const error& e) {
        obj_set_last_error(e.what());
        return e.status();
    } catch (const std::exception& e) {
        obj_set_last_error(e.what());
        return OBJ_ERR_CALLBACK;
    } catch (...) {
        obj_set_last_error("a C++ exception of unknown type");
        return OBJ_ERR_CALLBACK;
    }
}

}  // namespace obj

#endif  // OBJFFI_HPP
