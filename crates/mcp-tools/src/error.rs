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
    /// The local indexes.
    #[error(transparent)]
    Index(#[from] core_indexing::IndexError),
    /// The test runner.
    #[error(transparent)]
    Testing(#[from] core_testing::TestingError),
    /// An upstream (PubMed, ClinicalTrials.gov, UniProt, ChEMBL).
    #[error(transparent)]
    Scrape(#[from] core_scrapers::ScrapeError),
}

fn tool_error(kind: &str, retryable: bool, message: String, param: Option<String>) -> ToolError {
    ToolError {
        kind: ErrorKind::from_name(kind),
        message,
        param,
        retryable,
        service: None,
        retry_after_seconds: None,
    }
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
            Error::Index(i) => {
                let param = match &i {
                    core_indexing::IndexError::InvalidArgument { name, .. } => Some(name.clone()),
                    _ => None,
                };
                tool_error(i.kind(), i.retryable(), i.to_string(), param)
            }
            Error::Testing(t) => {
                let param = match &t {
                    core_testing::TestingError::InvalidArgument { name, .. } => Some(name.to_string()),
                    _ => None,
                };
                tool_error(t.kind(), t.retryable(), t.to_string(), param)
            }
            Error::Scrape(s) => {
                let param = match &s {
                    core_scrapers::ScrapeError::InvalidArgument { name, .. } => Some(name.clone()),
                    _ => None,
                };
                let mut e = tool_error(s.kind(), s.retryable(), s.to_string(), param);
                if let Some(service) = s.service() {
                    e = e.with_service(service.as_str());
                }
                if let Some(after) = s.retry_after() {
                    e = e.with_retry_after(after);
                }
                e
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use core_scrapers::ScrapeError;
    use core_scrapers::http::Service;

    #[test]
    fn scrape_errors_that_are_the_request_s_fault_are_invalid_arguments() {
        let e = ToolError::from(Error::from(ScrapeError::invalid("query", "too long")));
        assert_eq!(
            (e.kind, e.param.as_deref(), e.retryable),
            (ErrorKind::InvalidArgument, Some("query"), false)
        );
        let e = ToolError::from(Error::from(ScrapeError::InvalidRequest {
            service: Service::PubMed,
            detail: "the URL is refused".into(),
        }));
        assert_eq!((e.kind, e.param, e.retryable), (ErrorKind::InvalidArgument, None, false));
        let e = ToolError::from(Error::from(ScrapeError::Timeout {
            service: Service::PubMed,
            after: std::time::Duration::from_secs(1),
        }));
        assert_eq!((e.kind, e.retryable), (ErrorKind::Timeout, true));
        assert_eq!(e.service.as_deref(), Some("pubmed"));
        let e = ToolError::from(Error::from(ScrapeError::RateLimited {
            service: Service::ClinicalTrials,
            retry_after: Some(std::time::Duration::from_millis(1500)),
        }));
        assert_eq!((e.service.as_deref(), e.retry_after_seconds), (Some("ctgov"), Some(2)));
    }
}
