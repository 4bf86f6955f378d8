//! Debug checks (feature `debug`, on in this crate's tests).
//!
//! Every block is painted so that misuse shows up where it happens:
//!
//! ```text
//!   allocated:  | FRESH_BYTE x size | GUARD_BYTE x (block size - size) |
//!   freed:      | free-list link (8) | FREED_BYTE x (block size - 8)    |
//! ```
//!
//! Each request carries at least [`GUARD_BYTES`] guard bytes after it. On
//! free the guard must be intact (else: a buffer overflow), the pointer must
//! be a live block of this heap (else: a double free or a foreign pointer),
//! and the size must match the class the block came from. On reuse, a freed
//! block must still hold its FREED pattern (else: a write after free). Each
//! failure panics with a message naming the block and what went wrong.
//!
//! Without the feature [`GUARD_BYTES`] is 0 and every function here is dead
//! code the optimiser removes (the callers test [`ENABLED`], a constant).

/// Whether the checks are compiled in.
pub const ENABLED: bool = cfg!(feature = "debug");
/// Guard bytes after every request in debug builds.
pub const GUARD_BYTES: usize = if ENABLED { 16 } else { 0 };
/// Fill of a freshly allocated block.
pub const FRESH_BYTE: u8 = 0xCB;
/// Fill of a freed block, past its free-list link.
pub const FREED_BYTE: u8 = 0xDB;
/// Fill of the guard bytes after a request.
pub const GUARD_BYTE: u8 = 0xFB;
/// Bytes at the start of a freed block that hold the free-list link.
pub(crate) const LINK_BYTES: usize = 8;

/// Paints a newly allocated block: the request fresh, the rest guard.
///
/// # Safety
/// `block..block + block_size` is writable and `size <= block_size`.
pub(crate) unsafe fn paint_allocated(block: *mut u8, size: usize, block_size: usize) {
    // SAFETY: both ranges lie inside the block, as the caller promises.
    unsafe {
        block.write_bytes(FRESH_BYTE, size);
        paint_guard(block, size, block_size);
    }
}

/// Paints the guard bytes after a `size`-byte request (a zeroed request
/// keeps its zeros).
///
/// # Safety
/// `block..block + block_size` is writable and `size <= block_size`.
pub(crate) unsafe fn paint_guard(block: *mut u8, size: usize, block_size: usize) {
    // SAFETY: the range lies inside the block, as the caller promises.
    unsafe { block.add(size).write_bytes(GUARD_BYTE, block_size - size) };
}

/// Panics unless the guard bytes after a `size`-byte request are intact.
///
/// # Safety
/// `block..block + block_size` is readable and `size <= block_size`.
pub(crate) unsafe fn check_guard(block: *const u8, size: usize, block_size: usize) {
    // SAFETY: the range lies inside the block, as the caller promises.
    let guard = unsafe { core::slice::from_raw_parts(block.add(size), block_size - size) };
    if let Some(i) = guard.iter().position(|&b| b != GUARD_BYTE) {
        panic!(
            "objheap: buffer overflow: byte {} past the end of the {size}-byte block at {block:p} \
             was overwritten (guard byte {:#04x} is now {:#04x})",
            i, GUARD_BYTE, guard[i]
        );
    }
}

/// Paints a freed block past its free-list link.
///
/// # Safety
/// `block..block + block_size` is writable and `block_size >= LINK_BYTES`.
pub(crate) unsafe fn paint_freed(block: *mut u8, block_size: usize) {
    // SAFETY: the range lies inside the block, as the caller promises.
    unsafe {
        block
            .add(LINK_BYTES)
            .write_bytes(FREED_BYTE, block_size - LINK_BYTES)
    };
}

/// Panics unless a freed block still holds its FREED pattern.
#[cfg(feature = "debug")]
///
/// # Safety
/// `block..block + block_size` is readable and `block_size >= LINK_BYTES`.
pub(crate) unsafe fn check_freed(block: *const u8, block_size: usize) {
    // SAFETY: the range lies inside the block, as the caller promises.
    let body =
        unsafe { core::slice::from_raw_parts(block.add(LINK_BYTES), block_size - LINK_BYTES) };
    if let Some(i) = body.iter().position(|&b| b != FREED_BYTE) {
        panic!(
            "objheap: use after free: byte {} of the freed {block_size}-byte block at {block:p} \
             was written after it was freed ({:#04x} instead of {:#04x})",
            i + LINK_BYTES,
            body[i],
            FREED_BYTE
        );
    }
}
