//! Containers: tuples, lists, dicts, indexing and `len`.
//!
//! Items are stored with a count of their own (arguments are borrowed);
//! items read back are new references. Dict keys compare as in Python:
//! `1`, `1.0` and `True` are one key, strs and tuples compare by value,
//! other objects by identity.

use crate::error::{Error, RawStatus, Result, obj_status_t};
use crate::heap::{obj_heap_t, try_heap};
use crate::object::{as_refs, new_ref, obj_t, try_obj, try_obj_in, try_objs_in};
use crate::panic::ffi_boundary;
use crate::ptr::try_out;

/// A tuple of the `n` objects at `items` (NULL allowed when `n` is 0):
/// `*out` receives a new reference; each item gains a reference. An item
/// of another heap gives `OBJ_ERR_HEAP_MISMATCH`.
///
/// # Safety
///
/// `heap` is NULL or a live heap; `items` is NULL or points to `n` pointers,
/// each NULL or a live object; `out` is NULL or valid for writing one pointer.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn obj_tuple_new(
    heap: *mut obj_heap_t,
    items: *const *mut obj_t,
    n: usize,
    out: *mut *mut obj_t,
) -> RawStatus {
    ffi_boundary("obj_tuple_new", || -> Result<()> {
        // SAFETY: the caller passes NULL or a live heap.
        let heap = unsafe { try_heap(heap, "obj_tuple_new") }?;
        // SAFETY: the caller passes NULL or `n` pointers to live objects.
        let items = unsafe { try_objs_in(items, n, &heap, "obj_tuple_new", "items") }?;
        // SAFETY: the caller passes NULL or a pointer valid for one write.
        let out = unsafe { try_out(out, "obj_tuple_new", "out") }?;
        out.write(new_ref(heap.tuple(&as_refs(&items))?));
        Ok(())
    })
}

/// An empty list: `*out` receives a new reference.
///
/// # Safety
///
/// `heap` is NULL or a live heap; `out` is NULL or valid for writing one pointer.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn obj_list_new(heap: *mut obj_heap_t, out: *mut *mut obj_t) -> RawStatus {
    ffi_boundary("obj_list_new", || -> Result<()> {
        // SAFETY: the caller passes NULL or a live heap.
        let heap = unsafe { try_heap(heap, "obj_list_new") }?;
        // SAFETY: the caller passes NULL or a pointer valid for one write.
        let out = unsafe { try_out(out, "obj_list_new", "out") }?;
        out.write(new_ref(heap.list()?));
        Ok(())
    })
}

/// `list.append(item)`; the list takes a reference to `item`. A non-list
/// gives `OBJ_ERR_TYPE`.
///
/// # Safety
///
/// `list` and `item` are NULL or live objects.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn obj_list_append(list: *mut obj_t, item: *mut obj_t) -> RawStatus {
    ffi_boundary("obj_list_append", || -> Result<()> {
        // SAFETY: the caller passes NULL or live objects.
        let list = unsafe { try_obj(list, "obj_list_append", "list") }?;
        // SAFETY: as above.
        let item = unsafe { try_obj_in(item, list.heap(), "obj_list_append", "item") }?;
        Ok(list.list_append(&item)?)
    })
}

/// `list[index] = item` (a negative index counts from the end); the list
/// takes a reference to `item` and gives back the old one's. Out of range
/// gives `OBJ_ERR_INDEX`, a non-list `OBJ_ERR_TYPE`.
///
/// # Safety
///
/// `list` and `item` are NULL or live objects.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn obj_list_set(list: *mut obj_t, index: i64, item: *mut obj_t) -> RawStatus {
    ffi_boundary("obj_list_set", || -> Result<()> {
        // SAFETY: the caller passes NULL or live objects.
        let list = unsafe { try_obj(list, "obj_list_set", "list") }?;
        // SAFETY: as above.
        let item = unsafe { try_obj_in(item, list.heap(), "obj_list_set", "item") }?;
        Ok(list.list_set(index, &item)?)
    })
}

/// `seq[index]` of a tuple or list (a negative index counts from the end):
/// `*out` receives a new reference. Out of range gives `OBJ_ERR_INDEX`,
/// another kind `OBJ_ERR_TYPE`.
///
/// # Safety
///
/// `seq` is NULL or a live object; `out` is NULL or valid for writing one pointer.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn obj_seq_get(
    seq: *mut obj_t,
    index: i64,
    out: *mut *mut obj_t,
) -> RawStatus {
    ffi_boundary("obj_seq_get", || -> Result<()> {
        // SAFETY: the caller passes NULL or a live object.
        let seq = unsafe { try_obj(seq, "obj_seq_get", "seq") }?;
        // SAFETY: the caller passes NULL or a pointer valid for one write.
        let out = unsafe { try_out(out, "obj_seq_get", "out") }?;
        out.write(new_ref(seq.get_item(index)?));
        Ok(())
    })
}

/// `len(o)`: code points of a str; items of a tuple, list or dict. Another
/// kind gives `OBJ_ERR_TYPE`. `o` is borrowed.
///
/// # Safety
///
/// `o` is NULL or a live object; `out` is NULL or valid for writing one `size_t`.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn obj_len(o: *const obj_t, out: *mut usize) -> RawStatus {
    ffi_boundary("obj_len", || -> Result<()> {
        // SAFETY: the caller passes NULL or a live object.
        let o = unsafe { try_obj(o, "obj_len", "o") }?;
        // SAFETY: the caller passes NULL or a pointer valid for one write.
        let out = unsafe { try_out(out, "obj_len", "out") }?;
        out.write(o.len()?);
        Ok(())
    })
}

/// An empty dict: `*out` receives a new reference.
///
/// # Safety
///
/// `heap` is NULL or a live heap; `out` is NULL or valid for writing one pointer.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn obj_dict_new(heap: *mut obj_heap_t, out: *mut *mut obj_t) -> RawStatus {
    ffi_boundary("obj_dict_new", || -> Result<()> {
        // SAFETY: the caller passes NULL or a live heap.
        let heap = unsafe { try_heap(heap, "obj_dict_new") }?;
        // SAFETY: the caller passes NULL or a pointer valid for one write.
        let out = unsafe { try_out(out, "obj_dict_new", "out") }?;
        out.write(new_ref(heap.dict()?));
        Ok(())
    })
}

/// `dict[key] = value`; the dict takes references to both (an equal key
/// already there is kept, and its old value given back). A non-dict gives
/// `OBJ_ERR_TYPE`.
///
/// # Safety
///
/// `dict`, `key` and `value` are NULL or live objects.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn obj_dict_set(
    dict: *mut obj_t,
    key: *mut obj_t,
    value: *mut obj_t,
) -> RawStatus {
    ffi_boundary("obj_dict_set", || -> Result<()> {
        // SAFETY: the caller passes NULL or live objects.
        let dict = unsafe { try_obj(dict, "obj_dict_set", "dict") }?;
        // SAFETY: as above.
        let key = unsafe { try_obj_in(key, dict.heap(), "obj_dict_set", "key") }?;
        // SAFETY: as above.
        let value = unsafe { try_obj_in(value, dict.heap(), "obj_dict_set", "value") }?;
        Ok(dict.dict_set(&key, &value)?)
    })
}

/// `dict[key]`: `*out` receives a new reference. Absent gives `OBJ_ERR_KEY`
/// (the message is the key's repr, as CPython's `KeyError`), a non-dict
/// `OBJ_ERR_TYPE`.
///
/// # Safety
///
/// `dict` and `key` are NULL or live objects; `out` is NULL or valid for
/// writing one pointer.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn obj_dict_get(
    dict: *mut obj_t,
    key: *mut obj_t,
    out: *mut *mut obj_t,
) -> RawStatus {
    ffi_boundary("obj_dict_get", || -> Result<()> {
        // SAFETY: the caller passes NULL or live objects.
        let dict = unsafe { try_obj(dict, "obj_dict_get", "dict") }?;
        // SAFETY: as above.
        let key = unsafe { try_obj_in(key, dict.heap(), "obj_dict_get", "key") }?;
        // SAFETY: the caller passes NULL or a pointer valid for one write.
        let out = unsafe { try_out(out, "obj_dict_get", "out") }?;
        out.write(new_ref(dict.dict_get(&key)?));
        Ok(())
    })
}

/// `del dict[key]`: the dict gives back its references to the key and the
/// value. Absent gives `OBJ_ERR_KEY`, a non-dict `OBJ_ERR_TYPE`.
///
/// # Safety
///
/// `dict` and `key` are NULL or live objects.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn obj_dict_del(dict: *mut obj_t, key: *mut obj_t) -> RawStatus {
    ffi_boundary("obj_dict_del", || -> Result<()> {
        // SAFETY: the caller passes NULL or live objects.
        let dict = unsafe { try_obj(dict, "obj_dict_del", "dict") }?;
        // SAFETY: as above.
        let key = unsafe { try_obj_in(key, dict.heap(), "obj_dict_del", "key") }?;
        Ok(dict.dict_del(&key)?)
    })
}

/// The `i`-th entry of a dict in insertion order: `*key` and `*value`
/// receive new references. `i` past the end gives `OBJ_ERR_INDEX`, a
/// non-dict `OBJ_ERR_TYPE`; `key` and `value` pointing to the same place
/// give `OBJ_ERR_VALUE`, whatever `i` is.
///
/// # Safety
///
/// `dict` is NULL or a live object; `key` and `value` are NULL or valid for
/// writing one pointer each.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn obj_dict_item(
    dict: *mut obj_t,
    i: usize,
    key: *mut *mut obj_t,
    value: *mut *mut obj_t,
) -> RawStatus {
    ffi_boundary("obj_dict_item", || -> Result<()> {
        // SAFETY: the caller passes NULL or a live object.
        let dict = unsafe { try_obj(dict, "obj_dict_item", "dict") }?;
        if !key.is_null() && key == value {
            // Both results in one place: one would leak, and two `&mut` to
            // it would alias.
            return Err(Error::new(
                obj_status_t::OBJ_ERR_VALUE,
                "obj_dict_item: arguments 'key' and 'value' point to the same place",
            ));
        }
        // SAFETY: the caller passes NULL or pointers valid for one write
        // each, and they are distinct (checked above).
        let key_out = unsafe { try_out(key, "obj_dict_item", "key") }?;
        // SAFETY: as above.
        let value_out = unsafe { try_out(value, "obj_dict_item", "value") }?;
        let (k, v) = dict.dict_item(i)?;
        key_out.write(new_ref(k));
        value_out.write(new_ref(v));
        Ok(())
    })
}
