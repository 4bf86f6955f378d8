//! What code in another language needs (objffi's C ABI): host functions
//! with C's calling convention ([`ExternFn`]), and the layout that
//! counting on the owner thread reads, for code that counts without
//! calling in (objffi.h's `obj_incref_inline`): the owner's count
//! is the object's first `u32`; the type pointer is at [`TYPE_OFFSET`]
//! of the object; the type's pointer to its heap's owner word (the owner
//! thread's [`objgc::thread_token`]) is at [`OWNER_WORD_OFFSET`] of
//! the type. Changing any of these breaks compiled C hosts: objffi pins
//! them to the numbers its header carries.
//!
//! This module is for objffi and other hosts that keep objects behind raw
//! pointers; Rust users of [`Heap`](crate::Heap) and [`Obj`](crate::Obj)
//! do not need it.

/// Offset of an object's type pointer.
pub const TYPE_OFFSET: usize = core::mem::offset_of!(crate::object::ObjHeader, ty);
/// Offset, in a type object, of the pointer to its heap's owner word.
pub const OWNER_WORD_OFFSET: usize = core::mem::offset_of!(crate::types::TypeObject, owner);
/// The most references the owner counts before the object becomes immortal.
pub const LOCAL_MAX: u32 = objgc::LOCAL_MAX;
/// The owner's count of an immortal object, which nobody counts.
pub const IMMORTAL: u32 = objgc::IMMORTAL_LOCAL;

pub use crate::func::{ExternCall, ExternErrors, ExternFn};
