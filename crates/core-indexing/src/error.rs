//! The one error type of core-indexing: what went wrong and what the caller can do about it.

use std::path::PathBuf;

/// Everything an index operation can fail with.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum IndexError {
    /// A parameter is malformed or not acceptable; fix it and call again.
    #[error("invalid argument `{name}`: {reason}")]
    InvalidArgument {
        /// The parameter at fault (e.g. `id`, `schema`, `query`).
        name: String,
        /// Why it was refused.
        reason: String,
    },
    /// No index with this id exists in the data directory.
    #[error("index `{id}` not found: create it first (index_create) or check the id with index_list")]
    NotFound {
        /// The index id asked for.
        id: String,
    },
    /// An index with this id already exists.
    #[error("index `{id}` already exists: pick another id or drop it first")]
    AlreadyExists {
        /// The index id asked for.
        id: String,
    },
    /// Another writer (another process, or another manager in this one) holds the index lock.
    #[error(
        "index `{id}` is being written by another process (tantivy writer lock busy): wait for it to \
         finish or stop it, then retry; readers are not affected"
    )]
    WriterBusy {
        /// The index id.
        id: String,
    },
    /// A JSONL input file lies outside the allowed roots.
    #[error(
        "path `{}` is outside the allowed roots ({}): move the file under one of them, add its folder to \
         PIPETTE_ALLOWED_ROOTS, or declare it as a root in your MCP client", path.display(),
         if roots.is_empty() { "none is configured".to_owned() }
         else { roots.iter().map(|r| r.display().to_string()).collect::<Vec<_>>().join(", ") }
    )]
    PathNotAllowed {
        /// The path as resolved (symlinks followed).
        path: PathBuf,
        /// The roots that are allowed.
        roots: Vec<PathBuf>,
    },
    /// The files of an index are not what they should be (e.g. a missing or unreadable manifest).
    #[error("index `{id}` is damaged: {reason}; drop and re-create it, or restore it from a copy")]
    Corrupt {
        /// The index id.
        id: String,
        /// What is wrong.
        reason: String,
    },
    /// A filesystem operation failed.
    #[error("i/o error while {context}: {source}")]
    Io {
        /// What was being done.
        context: String,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// tantivy reported an error that is not the caller's fault.
    #[error("search engine error while {context}: {source}")]
    Engine {
        /// What was being done.
        context: String,
        /// The underlying error.
        #[source]
        source: tantivy::TantivyError,
    },
}

impl IndexError {
    /// A short snake_case kind for the tool layer and logs.
    pub fn kind(&self) -> &'static str {
        match self {
            IndexError::InvalidArgument { .. } | IndexError::PathNotAllowed { .. } => "invalid_argument",
            IndexError::NotFound { .. } => "not_found",
            IndexError::AlreadyExists { .. } | IndexError::WriterBusy { .. } => "conflict",
            IndexError::Io { .. } => "io",
            IndexError::Corrupt { .. } | IndexError::Engine { .. } => "internal",
        }
    }

    /// Whether calling again later, unchanged, may succeed.
    pub fn retryable(&self) -> bool {
        match self {
            IndexError::WriterBusy { .. } => true,
            IndexError::Io { source, .. } => matches!(
                source.kind(),
                std::io::ErrorKind::Interrupted
                    | std::io::ErrorKind::WouldBlock
                    | std::io::ErrorKind::TimedOut
            ),
            _ => false,
        }
    }

    pub(crate) fn invalid(name: &str, reason: impl Into<String>) -> IndexError {
        IndexError::InvalidArgument { name: name.to_string(), reason: reason.into() }
    }

    pub(crate) fn io(context: impl Into<String>, source: std::io::Error) -> IndexError {
        IndexError::Io { context: context.into(), source }
    }

    /// Maps a tantivy error, recognising the writer lock.
    pub(crate) fn engine(id: &str, context: impl Into<String>, err: tantivy::TantivyError) -> IndexError {
        match err {
            tantivy::TantivyError::LockFailure(tantivy::directory::error::LockError::LockBusy, _) => {
                IndexError::WriterBusy { id: id.to_string() }
            }
            other => IndexError::Engine { context: context.into(), source: other },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_and_retryable() {
        let busy = IndexError::WriterBusy { id: "a".into() };
        assert_eq!(busy.kind(), "conflict");
        assert!(busy.retryable());
        let inv = IndexError::invalid("id", "bad");
        assert_eq!(inv.kind(), "invalid_argument");
        assert!(!inv.retryable());
        assert!(inv.to_string().contains("`id`"));
        let nf = IndexError::NotFound { id: "x".into() };
        assert_eq!(nf.kind(), "not_found");
        let lock = tantivy::TantivyError::LockFailure(tantivy::directory::error::LockError::LockBusy, None);
        assert!(matches!(IndexError::engine("x", "opening writer", lock), IndexError::WriterBusy { .. }));
    }
}
