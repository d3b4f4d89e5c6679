//! Converts the core crates' errors into the one tool error, once, at the edge of the tools layer.

use tool_metadata::{ErrorKind, ToolError};

/// An error from a core crate or the tools layer; tools return it and `?` does the rest.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Already a tool error.
    #[error(transparent)]
    Tool(#[from] ToolError),
    /// The cache backend.
    #[error(transparent)]
    Cache(#[from] core_cache::CacheError),
}

impl From<Error> for ToolError {
    fn from(e: Error) -> ToolError {
        match e {
            Error::Tool(t) => t,
            Error::Cache(c) => {
                let kind = ErrorKind::from_name(c.kind());
                let param =
                    matches!(c, core_cache::CacheError::InvalidPattern { .. }).then(|| "pattern".to_owned());
                ToolError { kind, message: c.to_string(), param, retryable: c.retryable() }
            }
        }
    }
}
