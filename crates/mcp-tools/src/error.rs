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
    /// An upstream (PubMed, ClinicalTrials.gov, UniProt, ChEMBL).
    #[error(transparent)]
    Scrape(#[from] core_scrapers::ScrapeError),
}

fn tool_error(kind: &str, retryable: bool, message: String, param: Option<String>) -> ToolError {
    ToolError { kind: ErrorKind::from_name(kind), message, param, retryable }
}

impl From<Error> for ToolError {
    fn from(e: Error) -> ToolError {
        match e {
            Error::Tool(t) => t,
            Error::Cache(c) => {
                let param =
                    matches!(c, core_cache::CacheError::InvalidPattern { .. }).then(|| "pattern".to_owned());
                tool_error(c.kind(), c.retryable(), c.to_string(), param)
            }
            Error::Scrape(s) => {
                let param = match &s {
                    core_scrapers::ScrapeError::InvalidArgument { name, .. } => Some(name.clone()),
                    _ => None,
                };
                tool_error(s.kind(), s.retryable(), s.to_string(), param)
            }
        }
    }
}
