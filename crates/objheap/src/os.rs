//! Arena memory from the operating system.
//!
//! An arena is [`ARENA_SIZE`] bytes aligned to [`ARENA_SIZE`], so masking any
//! address inside it gives its start. Linux's `mmap` only promises page
//! alignment, so when the first try is misaligned we map twice the size and
//! unmap the slack on both sides:
//!
//! ```text
//!   raw     |<-- head -->|<------- ARENA_SIZE ------->|<-- tail -->|
//!           ^ raw        ^ aligned (returned)
//! ```
//!
//! Fresh anonymous pages read as zero and cost no physical memory until
//! touched, which is why pools that were never used are not initialised.
//! Under miri (which cannot always map) the memory comes from `std::alloc`.

use core::ptr::NonNull;

use crate::arena::ARENA_SIZE;

/// Maps one zeroed, [`ARENA_SIZE`]-aligned arena; `None` when the OS refuses.
#[cfg(not(miri))]
pub(crate) fn map_arena() -> Option<NonNull<u8>> {
    let try_map = |len: usize| {
        // SAFETY: an anonymous private mapping at an address of the kernel's
        // choosing touches no existing memory.
        let p = unsafe {
            libc::mmap(
                core::ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        (p != libc::MAP_FAILED).then(|| p.cast::<u8>())
    };
    let unmap = |p: *mut u8, len: usize| {
        if len > 0 {
            // SAFETY: `p..p+len` is part of a mapping made above and no
            // pointer into it has been handed out.
            unsafe { libc::munmap(p.cast(), len) };
        }
    };

    let p = try_map(ARENA_SIZE)?;
    if p.addr() % ARENA_SIZE == 0 {
        return Some(expose(p));
    }
    unmap(p, ARENA_SIZE);
    let raw = try_map(2 * ARENA_SIZE)?;
    let head = raw.addr().next_multiple_of(ARENA_SIZE) - raw.addr();
    // SAFETY: head < ARENA_SIZE, so the aligned arena lies inside the 2x mapping.
    let aligned = unsafe { raw.add(head) };
    unmap(raw, head);
    // SAFETY: aligned + ARENA_SIZE <= raw + 2 * ARENA_SIZE.
    unmap(unsafe { aligned.add(ARENA_SIZE) }, ARENA_SIZE - head);
    Some(expose(aligned))
}

/// Exposes an arena's provenance so `heap::reclaim` can rebuild pointers
/// into it from addresses alone.
fn expose(arena: *mut u8) -> NonNull<u8> {
    let _ = arena.expose_provenance();
    NonNull::new(arena).expect("mmap never maps page zero")
}

/// Returns an arena to the OS.
///
/// # Safety
/// `arena` came from [`map_arena`] and nothing points into it any more.
#[cfg(not(miri))]
pub(crate) unsafe fn unmap_arena(arena: NonNull<u8>) {
    // SAFETY: the caller guarantees the mapping is ours and unused.
    unsafe { libc::munmap(arena.as_ptr().cast(), ARENA_SIZE) };
}

#[cfg(miri)]
const ARENA_LAYOUT: std::alloc::Layout =
    match std::alloc::Layout::from_size_align(ARENA_SIZE, ARENA_SIZE) {
        Ok(layout) => layout,
        Err(_) => panic!("arena layout"),
    };

#[cfg(miri)]
pub(crate) fn map_arena() -> Option<NonNull<u8>> {
    // SAFETY: the layout has a non-zero size.
    let arena = unsafe { std::alloc::alloc_zeroed(ARENA_LAYOUT) };
    (!arena.is_null()).then(|| expose(arena))
}

#[cfg(miri)]
pub(crate) unsafe fn unmap_arena(arena: NonNull<u8>) {
    // SAFETY: the caller guarantees `arena` came from `map_arena`, which used this layout.
    unsafe { std::alloc::dealloc(arena.as_ptr(), ARENA_LAYOUT) };
}
