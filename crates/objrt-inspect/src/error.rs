//! What can go wrong when the tool runs: a bad command line, a file that
//! cannot be read or written, a file that is not a heap snapshot, an id the
//! snapshot does not hold. Each is a message for stderr and an exit status;
//! nothing in this crate panics on bad input.

use std::fmt;
use std::io;
use std::path::PathBuf;

/// Why a command failed.
#[derive(Debug)]
pub enum InspectError {
    /// The command line is wrong: the message says how, and `--help` how to
    /// write it.
    Usage(String),
    /// A file could not be read or written.
    Io {
        /// The file.
        path: PathBuf,
        /// What the operating system said.
        source: io::Error,
    },
    /// A file was read but is not a version-1 heap snapshot (invalid JSON,
    /// another format or version, an edge to an object it does not list).
    InvalidSnapshot {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// The id given on the command line names no object of the snapshot.
    UnknownId {
        /// The snapshot.
        path: PathBuf,
        /// The id asked for.
        id: u64,
    },
}

impl InspectError {
    /// The process exit status for this error: 2 for a bad command line
    /// (as most tools do), 1 for everything else.
    pub fn exit_status(&self) -> u8 {
        match self {
            InspectError::Usage(_) => 2,
            _ => 1,
        }
    }
}

impl fmt::Display for InspectError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            InspectError::Usage(message) => {
                write!(f, "{message} (objrt-inspect --help shows the commands)")
            }
            InspectError::Io { path, source } => write!(f, "{}: {source}", path.display()),
            InspectError::InvalidSnapshot { path, reason } => {
                write!(f, "{}: not a heap snapshot: {reason}", path.display())
            }
            InspectError::UnknownId { path, id } => write!(
                f,
                "{}: no object has id {id:#x} ({id}) in this snapshot",
                path.display()
            ),
        }
    }
}

impl std::error::Error for InspectError {}
