//! Types and instances: classes made by the host (with an optional payload
//! of host data, slots, a `__dict__`, and hooks), their MRO and layout,
//! `isinstance`, and allocation.
//!
//! A spec's `traverse`, `clear` and `finalize` become objmodel
//! [`PayloadHooks`] through [`HostHooks`]: objmodel hands a hook the payload's
//! address, and the hook gives C the object too (`self` = payload − the
//! payload's offset, the same in every instance of the class and its
//! subclasses):
//!
//! ```text
//!  self                 self + payload_offset
//!  v                    v
//!  +--------+-----------+---------------------+-------+---------------+
//!  | header |   ...     | payload (host data) | slots | attributes    |
//!  +--------+-----------+---------------------+-------+---------------+
//! ```

use core::ffi::{c_char, c_void};
use core::ptr::NonNull;
use std::any::Any;
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use objmodel::abi::{self, HEADER_SIZE};
use objmodel::{Hook, Obj, PayloadHooks, TypeSpec};

use crate::error::{Error, RawStatus, Result, obj_status_t};
use crate::heap::{obj_heap_t, try_heap};
use crate::object::{as_c, as_refs, new_ref, obj_t, try_obj, try_obj_in, try_objs_in};
use crate::panic::ffi_boundary;
use crate::ptr::{try_cstr, try_out, try_slice};

/// Called by a `traverse` hook once for each object the payload refers to.
/// `arg` is the `arg` the hook received.
#[expect(
    non_camel_case_types,
    reason = "the C ABI contract spells the type this way"
)]
pub type obj_visit_t = Option<unsafe extern "C" fn(referent: *mut obj_t, arg: *mut c_void)>;

/// A `traverse` hook: calls `visit(referent, arg)` for each object that the
/// payload holds a reference to.
type TraverseFn = unsafe extern "C" fn(*mut obj_t, *mut c_void, obj_visit_t, *mut c_void);

/// A `clear` or `finalize` hook.
type HookFn = unsafe extern "C" fn(*mut obj_t, *mut c_void);

/// How a new class's instances are made (`obj_type_new`). All fields are
/// read during the call only.
#[repr(C)]
pub struct obj_type_spec_t {
    /// Bytes of host data per instance (rounded up to 16; 16-byte aligned,
    /// zero-filled at allocation). 0: none. A size no allocation could hold
    /// (over `PTRDIFF_MAX / 2`) gives `OBJ_ERR_VALUE` at `obj_type_new`; an
    /// instance larger than the heap's memory limit allows gives
    /// `OBJ_ERR_NO_MEMORY` at `obj_alloc`, without touching memory. A large
    /// payload is zero without being written: its pages are committed as
    /// the host uses them.
    pub payload_size: usize,
    /// Names of fixed-offset fields, like `__slots__` (UTF-8); NULL for none.
    pub slots: *const *const c_char,
    /// Number of names at `slots`.
    pub nslots: usize,
    /// Whether instances also get a `__dict__` (they do anyway if a base has one).
    pub has_dict: bool,
    /// For the cycle collector: reports the references held in the payload.
    /// Nullable. The three hooks are called only for instances with a
    /// payload (this class's or an inherited one), with the instance and
    /// its payload. Each is inherited on its own: a NULL hook means the
    /// nearest base's (on the MRO) that is not NULL, so a subclass that
    /// sets only `finalize` keeps its base's `traverse` and `clear`.
    ///
    /// `clear` and `finalize` may use the instance through the API
    /// (contract 1.1): during them a dying instance is alive with one
    /// reference, and one that the hooks leave reachable lives on (its
    /// hooks run again when it next dies). `traverse` runs inside a
    /// collection and may only report: calls that enter the heap give
    /// `OBJ_ERR_VALUE` there (counting up and down with `obj_incref` /
    /// `obj_decref` is allowed, and so is dropping a reference the payload
    /// owns, even the last one: that object is freed once the collection
    /// is over; dropping a reference it does not own is not).
    pub traverse: Option<
        unsafe extern "C" fn(
            self_: *mut obj_t,
            payload: *mut c_void,
            visit: obj_visit_t,
            arg: *mut c_void,
        ),
    >,
    /// Drops the references held in the payload (before `finalize`). Nullable.
    /// May run more than once for one instance (by the collector breaking a
    /// cycle, then when the instance dies), so it must leave the payload
    /// cleared, as `Py_CLEAR` does.
    pub clear: Option<unsafe extern "C" fn(self_: *mut obj_t, payload: *mut c_void)>,
    /// The last call before the instance's memory is freed. Nullable.
    pub finalize: Option<unsafe extern "C" fn(self_: *mut obj_t, payload: *mut c_void)>,
}

/// The layout of a class's instances (`obj_type_layout`), in bytes from the
/// start of the object.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct obj_type_layout_t {
    /// Bytes of the header every object starts with (reference count, type).
    pub header_size: usize,
    /// Bytes of one instance.
    pub instance_size: usize,
    /// Where the host payload starts (what `obj_payload` returns), or 0 when none.
    pub payload_offset: usize,
    /// Bytes of host data asked for per instance, or 0 when none.
    pub payload_size: usize,
    /// Where the `__dict__` attributes are found (two words: up to two
    /// values, or an array of values and its shape, or a dict), or 0 when
    /// instances have no `__dict__`.
    pub dict_offset: usize,
    /// Slots of an instance, inherited ones first.
    pub nslots: usize,
}

/// The C hooks of a class with a payload, as objmodel calls them.
struct HostHooks {
    traverse: Option<TraverseFn>,
    clear: Option<HookFn>,
    finalize: Option<HookFn>,
    /// The payload's offset in every instance, or [`NO_PAYLOAD`]; set once
    /// the class exists (no instance, so no hook call, can come before).
    payload_offset: Arc<AtomicUsize>,
}

/// The `payload_offset` of hooks whose class has no payload (not even an
/// inherited one): they are never called. (objmodel could hand them the
/// payload of a subclass that added one; its offset is not theirs.)
const NO_PAYLOAD: usize = usize::MAX;

impl HostHooks {
    /// The instance whose payload is at `payload`, or `None` when this
    /// class has no payload.
    fn object(&self, payload: NonNull<u8>) -> Option<*mut obj_t> {
        let offset = self.payload_offset.load(Ordering::Relaxed);
        // The payload lies `offset` bytes into its instance.
        (offset != NO_PAYLOAD).then(|| payload.as_ptr().wrapping_sub(offset).cast())
    }
}

/// What a `traverse` hook's `arg` points to.
struct VisitCtx<'v> {
    visit: &'v mut dyn FnMut(&Obj<'_>),
    /// A panic of `visit`, kept to resume once the C hook has returned
    /// (it must not unwind through C).
    panic: Option<Box<dyn Any + Send>>,
}

/// The `obj_visit_t` handed to `traverse` hooks.
///
/// # Safety
///
/// `arg` is the `VisitCtx` that `HostHooks::traverse` passed along, and
/// `referent` is NULL or a live object.
unsafe extern "C" fn visit_referent(referent: *mut obj_t, arg: *mut c_void) {
    // SAFETY: `arg` is the live, unaliased `VisitCtx` of the running traverse.
    let ctx = unsafe { &mut *arg.cast::<VisitCtx<'_>>() };
    let Some(p) = NonNull::new(referent) else {
        return;
    };
    if ctx.panic.is_some() {
        return;
    }
    // SAFETY: the hook reports a live object it holds a reference to.
    let o = unsafe { abi::borrow_ptr(p.cast()) };
    if let Err(payload) = catch_unwind(AssertUnwindSafe(|| (ctx.visit)(&o))) {
        ctx.panic = Some(payload);
    }
}

impl PayloadHooks for HostHooks {
    fn defines(&self, hook: Hook) -> bool {
        match hook {
            Hook::Traverse => self.traverse.is_some(),
            Hook::Clear => self.clear.is_some(),
            Hook::Finalize => self.finalize.is_some(),
        }
    }

    fn traverse(&self, payload: NonNull<u8>, visit: &mut dyn FnMut(&Obj<'_>)) {
        let (Some(traverse), Some(object)) = (self.traverse, self.object(payload)) else {
            return;
        };
        let mut ctx = VisitCtx { visit, panic: None };
        // SAFETY: the host's hook gets the instance and its payload, and
        // calls `visit_referent` with `ctx`, which outlives the call.
        unsafe {
            traverse(
                object,
                payload.as_ptr().cast(),
                Some(visit_referent),
                (&raw mut ctx).cast(),
            );
        }
        if let Some(panic) = ctx.panic {
            resume_unwind(panic);
        }
    }

    fn clear(&self, payload: NonNull<u8>) {
        if let (Some(clear), Some(object)) = (self.clear, self.object(payload)) {
            // SAFETY: the host's hook gets the dying instance and its payload.
            unsafe { clear(object, payload.as_ptr().cast()) };
        }
    }

    fn finalize(&self, payload: NonNull<u8>) {
        if let (Some(finalize), Some(object)) = (self.finalize, self.object(payload)) {
            // SAFETY: the host's hook gets the dying instance and its payload.
            unsafe { finalize(object, payload.as_ptr().cast()) };
        }
    }
}

/// Creates a class named `name` (UTF-8; a dotted `"mod.Name"` gives
/// `__name__` `"Name"`) with the `nbases` classes at `bases` (none means
/// `object`; NULL allowed when `nbases` is 0): `*out` receives a new reference.
///
/// `spec` NULL means no payload, no slots, a `__dict__`. An inconsistent
/// hierarchy gives `OBJ_ERR_MRO` (`Cannot create a consistent method
/// resolution order (MRO) for bases A, B`); a duplicate base, a base that is
/// no class, or two bases with conflicting layouts (both with slots or a
/// payload) `OBJ_ERR_TYPE`; a base of another heap `OBJ_ERR_HEAP_MISMATCH`;
/// a name or slot name that is not UTF-8 `OBJ_ERR_VALUE`.
///
/// # Safety
///
/// `heap` is NULL or a live heap; `name` is NULL or a NUL-terminated string;
/// `bases` is NULL or points to `nbases` pointers, each NULL or a live
/// object; `spec` is NULL or a valid spec whose `slots` is NULL or points
/// to `nslots` NUL-terminated strings (or NULLs); its hooks are safe to call
/// as documented; `out` is NULL or valid for writing one pointer.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn obj_type_new(
    heap: *mut obj_heap_t,
    name: *const c_char,
    bases: *const *mut obj_t,
    nbases: usize,
    spec: *const obj_type_spec_t,
    out: *mut *mut obj_t,
) -> RawStatus {
    const F: &str = "obj_type_new";
    ffi_boundary(F, || -> Result<()> {
        // SAFETY: the caller passes NULL or a live heap.
        let heap = unsafe { try_heap(heap, F) }?;
        // SAFETY: the caller passes NULL or a NUL-terminated string.
        let name = unsafe { try_cstr(name, F, "name") }?;
        // SAFETY: the caller passes NULL or `nbases` pointers to live objects.
        let bases = unsafe { try_objs_in(bases, nbases, &heap, F, "bases") }?;
        // SAFETY: the caller passes NULL or a pointer valid for one write.
        let out = unsafe { try_out(out, F, "out") }?;
        // A NULL spec: no payload, no slots, a `__dict__`.
        let mut type_spec = TypeSpec::dict();
        let mut slot_names = Vec::new();
        let mut hooks = None;
        // SAFETY: the caller passes NULL or a valid spec.
        if let Some(spec) = unsafe { spec.as_ref() } {
            // SAFETY: the caller passes NULL or `nslots` string pointers.
            let slots = unsafe { try_slice(spec.slots, spec.nslots, F, "spec->slots") }?;
            for (i, &s) in slots.iter().enumerate() {
                // SAFETY: each is NULL or a NUL-terminated string.
                slot_names.push(unsafe { try_cstr(s, F, &format!("spec->slots[{i}]")) }?);
            }
            type_spec.payload_size = spec.payload_size;
            type_spec.has_dict = spec.has_dict;
            if spec.traverse.is_some() || spec.clear.is_some() || spec.finalize.is_some() {
                hooks = Some(HostHooks {
                    traverse: spec.traverse,
                    clear: spec.clear,
                    finalize: spec.finalize,
                    payload_offset: Arc::new(AtomicUsize::new(NO_PAYLOAD)),
                });
            }
        }
        type_spec.slots = &slot_names;
        let offset = hooks.as_ref().map(|h| Arc::clone(&h.payload_offset));
        let hooks = hooks.map(|h| Box::new(h) as Box<dyn PayloadHooks>);
        let t = heap.new_type_with_hooks(name, &as_refs(&bases), &type_spec, hooks)?;
        if let Some(offset) = offset {
            if let Some(payload) = t.instance_layout().and_then(|l| l.payload) {
                offset.store(payload.start, Ordering::Relaxed);
            }
        }
        out.write(new_ref(t));
        Ok(())
    })
}

/// The method resolution order of `type`, itself first (C3): the first
/// `min(cap, length)` classes are written to `buf` as borrowed
/// references (the class keeps them alive), and `*len` receives the full
/// length; so `cap` 0 (with `buf` NULL) asks for the length. A non-class
/// gives `OBJ_ERR_TYPE`.
///
/// # Safety
///
/// `type` is NULL or a live object; `buf` is NULL or valid for writing `cap`
/// pointers; `len` is NULL or valid for writing one `size_t`.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn obj_type_mro(
    r#type: *mut obj_t,
    buf: *mut *mut obj_t,
    cap: usize,
    len: *mut usize,
) -> RawStatus {
    const F: &str = "obj_type_mro";
    ffi_boundary(F, || -> Result<()> {
        // SAFETY: the caller passes NULL or a live object.
        let ty = unsafe { try_obj(r#type, F, "type") }?;
        // SAFETY: the caller passes NULL or a pointer valid for one write.
        let len = unsafe { try_out(len, F, "len") }?;
        if cap != 0 && buf.is_null() {
            return Err(crate::ptr::null_arg(F, "buf"));
        }
        let mro = ty.mro()?;
        for (i, t) in mro.iter().take(cap).enumerate() {
            // SAFETY: `buf` is valid for `cap` writes and `i < cap`.
            unsafe { buf.add(i).write(as_c(t)) };
        }
        len.write(mro.len());
        Ok(())
    })
}

/// `isinstance(o, type)`: `*out` receives whether `o`'s class is `type` or a
/// subclass of it. A `type` that is no class gives `OBJ_ERR_TYPE`.
///
/// # Safety
///
/// `o` and `type` are NULL or live objects; `out` is NULL or valid for
/// writing one `bool`.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn obj_is_instance(
    o: *mut obj_t,
    r#type: *mut obj_t,
    out: *mut bool,
) -> RawStatus {
    const F: &str = "obj_is_instance";
    ffi_boundary(F, || -> Result<()> {
        // SAFETY: the caller passes NULL or live objects.
        let o = unsafe { try_obj(o, F, "o") }?;
        // SAFETY: as above.
        let ty = unsafe { try_obj_in(r#type, o.heap(), F, "type") }?;
        // SAFETY: the caller passes NULL or a pointer valid for one write.
        let out = unsafe { try_out(out, F, "out") }?;
        out.write(o.is_instance(&ty)?);
        Ok(())
    })
}

/// A new instance of the class `type`, without calling `__init__`: slots
/// unset, `__dict__` empty, payload zero-filled. `*out` receives a new
/// reference. A built-in type other than `object`, or a non-class, gives
/// `OBJ_ERR_TYPE`; an instance past the memory limit `OBJ_ERR_NO_MEMORY`.
///
/// # Safety
///
/// `type` is NULL or a live object; `out` is NULL or valid for writing one pointer.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn obj_alloc(r#type: *mut obj_t, out: *mut *mut obj_t) -> RawStatus {
    ffi_boundary("obj_alloc", || -> Result<()> {
        // SAFETY: the caller passes NULL or a live object.
        let ty = unsafe { try_obj(r#type, "obj_alloc", "type") }?;
        // SAFETY: the caller passes NULL or a pointer valid for one write.
        let out = unsafe { try_out(out, "obj_alloc", "out") }?;
        out.write(new_ref(ty.new_instance()?));
        Ok(())
    })
}

/// The host data of an instance whose class (or a base) declared a
/// payload: `payload_size` bytes, 16-byte aligned, valid while `o` lives.
/// NULL when there is none (and for NULL, which also sets `obj_last_error()`).
///
/// # Safety
///
/// `o` is NULL or a live object.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn obj_payload(o: *mut obj_t) -> *mut c_void {
    ffi_boundary("obj_payload", || {
        // SAFETY: the caller passes NULL or a live object.
        match unsafe { try_obj(o, "obj_payload", "o") } {
            Ok(o) => o
                .payload()
                .map_or(core::ptr::null_mut(), |p| p.as_ptr().cast()),
            Err(e) => {
                e.record();
                core::ptr::null_mut()
            }
        }
    })
}

/// An addition to the contract: the layout of the class `type`'s instances
/// (`*out`), and the offset of each slot, inherited ones first: the first
/// `min(cap, out->nslots)` are written to `slot_offsets` (NULL allowed when
/// `cap` is 0). A built-in type other than `object`, or a non-class, gives
/// `OBJ_ERR_TYPE`.
///
/// # Safety
///
/// `type` is NULL or a live object; `out` is NULL or valid for writing one
/// `obj_type_layout_t`; `slot_offsets` is NULL or valid for writing `cap`
/// `size_t`s.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn obj_type_layout(
    r#type: *mut obj_t,
    out: *mut obj_type_layout_t,
    slot_offsets: *mut usize,
    cap: usize,
) -> RawStatus {
    const F: &str = "obj_type_layout";
    ffi_boundary(F, || -> Result<()> {
        // SAFETY: the caller passes NULL or a live object.
        let ty = unsafe { try_obj(r#type, F, "type") }?;
        // SAFETY: the caller passes NULL or a pointer valid for one write.
        let out = unsafe { try_out(out, F, "out") }?;
        if cap != 0 && slot_offsets.is_null() {
            return Err(crate::ptr::null_arg(F, "slot_offsets"));
        }
        let layout = ty.instance_layout().ok_or_else(|| {
            let what = ty.repr().unwrap_or_else(objmodel::Error::into_message);
            Error::new(
                obj_status_t::OBJ_ERR_TYPE,
                format!("{what} is not a class of plain objects (object or a class made by obj_type_new)"),
            )
        })?;
        let payload = layout.payload.unwrap_or_default();
        for (i, &offset) in layout.slots.iter().take(cap).enumerate() {
            // SAFETY: `slot_offsets` is valid for `cap` writes and `i < cap`.
            unsafe { slot_offsets.add(i).write(offset) };
        }
        out.write(obj_type_layout_t {
            header_size: HEADER_SIZE,
            instance_size: layout.size,
            payload_offset: payload.start,
            payload_size: payload.len(),
            dict_offset: layout.dict_offset.unwrap_or(0),
            nslots: layout.slots.len(),
        });
        Ok(())
    })
}
