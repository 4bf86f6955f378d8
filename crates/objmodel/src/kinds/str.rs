//! `str`: immutable UTF-8 text, with its length in code points and a cached
//! hash, and interning so that equal names are one object.
//!
//! ```text
//!  0        16      24       32       40   41                41+nbytes
//!  +--------+-------+--------+--------+----+-----------------+----+
//!  | header | hash  | nbytes | nchars | in | UTF-8 bytes ... | \0 |
//!  +--------+-------+--------+--------+----+-----------------+----+
//!  hash: 0 until first computed (a computed 0 is stored as 1)
//!  in:   1 if interned
//! ```
//!
//! The bytes end with a NUL so C can read them in place. Interned strings
//! are immortal and live in the heap's intern table. Every name stored as
//! an attribute (class namespaces, shapes, slots) is interned, so the lookup
//! code compares names by address. A lookup does not intern: its name is the
//! interned str of that text if there is one ([`lookup_obj`]), else a str
//! that no namespace or shape can hold, and a failed lookup leaves nothing
//! behind.

use core::cell::Cell;
use core::mem::ManuallyDrop;
use core::ptr::NonNull;

use hashbrown::HashTable;

use crate::error::{Error, ErrorKind, Result};
use crate::heap::{Heap, HeapAlloc};
use crate::kinds::type_object::Kind;
use crate::object::{Obj, ObjHeader, ObjRef};

#[repr(C)]
pub(crate) struct StrObj {
    header: ObjHeader,
    hash: Cell<u64>,
    nbytes: usize,
    nchars: usize,
    interned: Cell<u8>,
    data: [u8; 0],
}

const DATA_OFFSET: usize = core::mem::offset_of!(StrObj, data);

/// Bytes of a str object holding `nbytes` of text.
pub(crate) fn str_size(nbytes: usize) -> usize {
    DATA_OFFSET + nbytes + 1
}

/// The str behind `o`.
///
/// # Safety
/// `o` is a live str, and the reference is used only while it stays alive
/// (the caller holds a count on it, or it is interned: immortal).
#[inline]
unsafe fn obj(o: ObjRef) -> &'static StrObj {
    debug_assert_eq!(o.ty().kind, Kind::Str);
    // SAFETY: a str object (the caller's promise), alive while used.
    unsafe { o.cast::<StrObj>().as_ref() }
}

/// The text of a str object.
///
/// # Safety
/// As for [`obj`]: `o` is a live str.
#[inline]
pub(crate) unsafe fn as_str(o: ObjRef) -> &'static str {
    // SAFETY: forwarded from the caller.
    let s = unsafe { obj(o) };
    // SAFETY: `nbytes` bytes follow the fields, copied from a `&str` at
    // creation and never changed.
    unsafe {
        let p = o.cast::<u8>().as_ptr().add(DATA_OFFSET);
        core::str::from_utf8_unchecked(core::slice::from_raw_parts(p, s.nbytes))
    }
}

/// The text of `o` if it is a str (for messages, where a check costs nothing).
pub(crate) fn text(o: ObjRef) -> Option<&'static str> {
    // SAFETY: just checked the kind; an `ObjRef` is live while used.
    (o.ty().kind == Kind::Str).then(|| unsafe { as_str(o) })
}

/// Code points of a str object.
///
/// # Safety
/// `o` is a live str.
pub(crate) unsafe fn char_len(o: ObjRef) -> usize {
    // SAFETY: forwarded from the caller.
    unsafe { obj(o) }.nchars
}

/// Hash of a str's text (computed once, then cached).
///
/// # Safety
/// `o` is a live str.
pub(crate) unsafe fn hash(o: ObjRef) -> u64 {
    // SAFETY: forwarded from the caller.
    let s = unsafe { obj(o) };
    let h = s.hash.get();
    if h != 0 {
        return h;
    }
    // SAFETY: forwarded from the caller.
    let h = hash_text(unsafe { as_str(o) });
    s.hash.set(h);
    h
}

/// A fast, deterministic hash of text (FxHash's multiply-rotate over 8-byte
/// words, then a final mix). Never 0: 0 marks "not computed".
fn hash_text(text: &str) -> u64 {
    const K: u64 = 0x517c_c1b7_2722_0a95;
    let bytes = text.as_bytes();
    let mut h = bytes.len() as u64;
    let mut chunks = bytes.chunks_exact(8);
    for c in &mut chunks {
        let word = u64::from_le_bytes(c.try_into().expect("8 bytes"));
        h = (h.rotate_left(5) ^ word).wrapping_mul(K);
    }
    let mut tail = [0u8; 8];
    tail[..chunks.remainder().len()].copy_from_slice(chunks.remainder());
    h = (h.rotate_left(5) ^ u64::from_le_bytes(tail)).wrapping_mul(K);
    (h ^ (h >> 29)).max(1)
}

/// Whether a str is interned.
///
/// # Safety
/// `o` is a live str.
#[inline]
pub(crate) unsafe fn is_interned(o: ObjRef) -> bool {
    // SAFETY: forwarded from the caller.
    unsafe { obj(o) }.interned.get() != 0
}

/// Creates a str object.
pub(crate) fn new_str(heap: &Heap, text: &str) -> Result<ObjRef> {
    // SAFETY: the built-in str type, and the size of a str of `text`.
    let o = unsafe { heap.alloc_object(heap.b().str_, str_size(text.len()))? };
    // SAFETY: the object has room for the fields and text + NUL (zeroed).
    unsafe {
        let p = o.cast::<StrObj>().as_ptr();
        (&raw mut (*p).nbytes).write(text.len());
        (&raw mut (*p).nchars).write(text.chars().count());
        o.cast::<u8>()
            .as_ptr()
            .add(DATA_OFFSET)
            .copy_from_nonoverlapping(text.as_ptr(), text.len());
    }
    Ok(o)
}

/// Entries of the intern table's front cache.
const RECENT: usize = 64;

/// The heap's interned strings, with a small direct-mapped cache in front
/// keyed by the address of the caller's text (a Rust `&str` or a C
/// string): hosts name attributes with string literals, whose addresses
/// repeat, so the common lookup is a compare of a few bytes instead of a
/// hash and a probe. The address proves nothing (the caller's buffer may
/// hold other text now): the bytes decide.
///
/// The table lives in the heap's own memory (contract 1.1: the memory
/// limit bounds the name tables too), and goes with it: the heap forgets
/// it rather than drop it.
pub(crate) struct InternTable {
    table: HashTable<ObjRef, HeapAlloc>,
    recent: [(usize, Option<ObjRef>); RECENT],
}

impl InternTable {
    /// An empty table allocating from `alloc` (nothing until the first name).
    pub(crate) fn new_in(alloc: HeapAlloc) -> Self {
        Self {
            table: HashTable::new_in(alloc),
            recent: [(0, None); RECENT],
        }
    }

    /// The interned str equal to `text`, if any.
    pub(crate) fn find(&self, text: &str) -> Option<ObjRef> {
        // SAFETY: the table holds interned strs (immortal) only.
        self.table
            .find(hash_text(text), |&o| unsafe { as_str(o) } == text)
            .copied()
    }

    /// The front cache's entry for text at `addr`, if it was cached there
    /// and `is_text` accepts its bytes.
    fn recent_at(&self, addr: usize, is_text: impl FnOnce(&str) -> bool) -> Option<ObjRef> {
        match self.recent[recent_slot(addr)] {
            // SAFETY: the front cache holds interned strs (immortal) only.
            (cached, Some(o)) if cached == addr && is_text(unsafe { as_str(o) }) => Some(o),
            _ => None,
        }
    }

    /// Remembers `o` as the interned str of the text at `addr`.
    fn remember(&mut self, addr: usize, o: ObjRef) {
        self.recent[recent_slot(addr)] = (addr, Some(o));
    }
}

/// The front cache's slot for text at `addr`.
fn recent_slot(addr: usize) -> usize {
    (addr ^ addr >> 6) % RECENT
}

/// The interned str equal to `text`, if there is one (nothing is added).
pub(crate) fn find_interned(heap: &Heap, text: &str) -> Option<ObjRef> {
    // SAFETY: single-threaded; the table is not borrowed across calls that intern.
    let table = unsafe { &mut *heap.interned.get() };
    let addr = text.as_ptr().addr();
    if let Some(o) = table.recent_at(addr, |cached| cached == text) {
        return Some(o);
    }
    let o = table.find(text)?;
    table.remember(addr, o);
    Some(o)
}

/// The interned str whose text is the NUL-terminated string at `text`, if
/// there is one (nothing is added). A C host names attributes with string
/// literals: a hit in the front cache (keyed by the address) compares the
/// bytes without measuring, decoding or hashing them. The str comes as a
/// view without a count: an interned str is immortal.
///
/// # Safety
/// `text` points to a NUL-terminated string.
pub unsafe fn find_interned_cstr<'h>(
    heap: &Heap<'h>,
    text: NonNull<core::ffi::c_char>,
) -> Option<ManuallyDrop<Obj<'h>>> {
    // SAFETY: single-threaded; the table is not borrowed across calls that intern.
    let table = unsafe { &*heap.interned.get() };
    // SAFETY: NUL-terminated (the caller's promise).
    let cached = table.recent_at(text.as_ptr().addr(), |t| unsafe { is_cstr_of(text, t) });
    let found = match cached {
        Some(o) => o,
        None => {
            // SAFETY: NUL-terminated (the caller's promise).
            let text = unsafe { core::ffi::CStr::from_ptr(text.as_ptr()) }
                .to_str()
                .ok()?;
            find_interned(heap, text)?
        }
    };
    // An interned str is immortal: the view needs no count.
    Some(ManuallyDrop::new(found.into_obj()))
}

/// Whether the NUL-terminated string at `c` is `text`, reading no byte
/// past its NUL.
///
/// # Safety
/// `c` points to a NUL-terminated string.
unsafe fn is_cstr_of(c: NonNull<core::ffi::c_char>, text: &str) -> bool {
    let c = c.as_ptr().cast::<u8>();
    for (i, &t) in text.as_bytes().iter().enumerate() {
        // SAFETY: no byte before `i` was NUL, so `i` is within the string.
        let b = unsafe { *c.add(i) };
        if b != t || b == 0 {
            return false;
        }
    }
    // SAFETY: as above, for `text.len()`.
    unsafe { *c.add(text.len()) == 0 }
}

/// The interned str for `text`: the same object for equal text, immortal.
pub(crate) fn intern(heap: &Heap, text: &str) -> Result<ObjRef> {
    if let Some(o) = find_interned(heap, text) {
        return Ok(o);
    }
    let o = new_str(heap, text)?;
    // SAFETY: single-threaded; the table is not borrowed across calls that intern.
    let table = unsafe { &mut *heap.interned.get() };
    // SAFETY: the table holds strs only.
    let hash_key = |&k: &ObjRef| unsafe { hash(k) };
    if table.table.try_reserve(1, hash_key).is_err() {
        o.decref();
        return Err(Error::new(ErrorKind::NoMemory, "name table: out of memory"));
    }
    // SAFETY: the str made above, held.
    unsafe { obj(o) }.interned.set(1);
    o.make_immortal();
    // SAFETY: the str made above, held.
    let h = unsafe { hash(o) };
    table.table.insert_unique(h, o, hash_key);
    table.remember(text.as_ptr().addr(), o);
    Ok(o)
}

/// The interned equivalent of a str object (itself when already interned).
///
/// # Safety
/// `o` is a live str.
pub(crate) unsafe fn intern_obj(heap: &Heap, o: ObjRef) -> Result<ObjRef> {
    // SAFETY: forwarded from the caller.
    let (interned, text) = unsafe { (is_interned(o), as_str(o)) };
    if interned { Ok(o) } else { intern(heap, text) }
}

/// A str object as a name to look up: the interned str of its text if
/// there is one, else `o` itself (which no namespace or shape holds: they
/// hold interned names only). Interns nothing.
///
/// # Safety
/// `o` is a live str.
pub(crate) unsafe fn lookup_obj(heap: &Heap, o: ObjRef) -> ObjRef {
    // SAFETY: forwarded from the caller.
    let (interned, text) = unsafe { (is_interned(o), as_str(o)) };
    if interned {
        o
    } else {
        find_interned(heap, text).unwrap_or(o)
    }
}

impl<'h> Heap<'h> {
    /// A new str ([`crate::Str::new`] gives it typed).
    pub fn str(&self, text: &str) -> Result<Obj<'h>> {
        crate::Str::new(self, text).map(crate::Str::into_obj)
    }

    /// The interned str for `text`: equal text gives the same object.
    pub fn intern(&self, text: &str) -> Result<Obj<'h>> {
        Ok(intern(self, text)?.into_obj())
    }
}

impl Obj<'_> {
    /// The text of a str, else `None` ([`crate::Str::as_str`] needs no `Option`).
    pub fn as_str(&self) -> Option<&str> {
        self.as_view().map(crate::Str::as_str)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::with_heap;

    /// The interned str the C string `c` names, through the cache.
    fn find(heap: &Heap, c: &core::ffi::CStr) -> Option<String> {
        // SAFETY: a `CStr` is NUL-terminated.
        let found = unsafe { find_interned_cstr(heap, NonNull::from(c).cast()) };
        found.map(|o| o.as_str().expect("a str").to_owned())
    }

    #[test]
    fn c_strings_find_interned_names_by_their_bytes() {
        with_heap(|heap| {
            intern(heap, "ab").unwrap();
            intern(heap, "abc").unwrap();
            assert_eq!(find(heap, c"zz"), None, "nothing is interned on lookup");
            assert_eq!(find(heap, c"zz"), None);
            // One buffer, other text at the same address each time.
            let mut buffer = [0u8; 4];
            let text = |b: &[u8; 4]| find(heap, core::ffi::CStr::from_bytes_until_nul(b).unwrap());
            for _ in 0..2 {
                buffer.copy_from_slice(b"abc\0");
                assert_eq!(text(&buffer).as_deref(), Some("abc"));
                buffer.copy_from_slice(b"ab\0\0");
                assert_eq!(text(&buffer).as_deref(), Some("ab"));
                buffer.copy_from_slice(b"a\0\0\0");
                assert_eq!(text(&buffer), None);
            }
            let abc = NonNull::from(c"abc").cast();
            // SAFETY: `abc` is NUL-terminated.
            let is_abc = |text| unsafe { is_cstr_of(abc, text) };
            assert!(is_abc("abc"));
            assert!(!is_abc("ab"));
            assert!(!is_abc("abcd"));
            assert!(!is_abc("ab\0"));
        });
    }
}
