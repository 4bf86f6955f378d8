//! Errors: a kind (which maps one-to-one onto the C ABI's status codes) and
//! a message in CPython's wording where CPython has one.

use core::fmt;

/// What kind of failure, as CPython's exception classes and the C ABI's
/// status codes name them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// Wrong kind of object (`TypeError`).
    Type,
    /// Right kind, bad value (`ValueError`).
    Value,
    /// No such attribute (`AttributeError`).
    Attribute,
    /// No such key (`KeyError`).
    Key,
    /// Index out of range (`IndexError`).
    Index,
    /// No consistent method resolution order (a `TypeError` in CPython).
    Mro,
    /// The heap's memory limit or the system refused memory (`MemoryError`).
    NoMemory,
    /// Objects of two heaps were mixed: only through [`crate::abi`], whose
    /// objects come from raw pointers (in Rust, the heap's brand makes it a
    /// compile error).
    HeapMismatch,
    /// Nesting went too deep: too many levels, or too little stack left
    /// (`RecursionError`).
    Recursion,
    /// The heap's own structures are inconsistent ([`crate::Heap::check`]
    /// found a broken invariant: a bug, or memory written by a host).
    Corrupt,
    /// A host callback failed with this status; it reaches the caller unchanged.
    Host(i32),
}

/// A failed operation: its kind and its message.
///
/// One pointer wide (the two live in one heap block), so that a
/// `Result<Obj>` is two words and comes back in registers: success, the
/// common case, pays nothing for the size of a failure.
#[derive(Clone, PartialEq, Eq)]
pub struct Error(Box<Failure>);

#[derive(Clone, PartialEq, Eq)]
struct Failure {
    kind: ErrorKind,
    message: String,
}

impl Error {
    /// An error of `kind` with `message`.
    #[cold]
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Self(Box::new(Failure {
            kind,
            message: message.into(),
        }))
    }

    /// What kind of failure.
    pub fn kind(&self) -> ErrorKind {
        self.0.kind
    }

    /// The message, in CPython's wording where it has one.
    pub fn message(&self) -> &str {
        &self.0.message
    }

    /// The message, taken out.
    pub fn into_message(self) -> String {
        self.0.message
    }

    pub(crate) fn type_error(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Type, message)
    }

    pub(crate) fn attribute(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Attribute, message)
    }
}

impl From<objheap::AllocError> for Error {
    fn from(e: objheap::AllocError) -> Self {
        Self::new(ErrorKind::NoMemory, e.to_string())
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.message())
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Error")
            .field("kind", &self.kind())
            .field("message", &self.message())
            .finish()
    }
}

impl std::error::Error for Error {}

/// The result of an object operation.
pub type Result<T> = core::result::Result<T, Error>;
