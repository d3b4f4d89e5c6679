//! The one error every tool call can end in: a kind a client can act on, and a message a person can act on.

use serde::{Deserialize, Serialize};

/// What kind of failure ended a tool call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ErrorKind {
    /// A parameter is missing or wrong; `param` names it.
    InvalidArgument,
    /// No tool by that name.
    UnknownTool,
    /// The thing asked for does not exist.
    NotFound,
    /// An upstream service failed.
    Upstream,
    /// An upstream service is rate limiting us.
    RateLimited,
    /// The call ran past its deadline.
    Timeout,
    /// The upstream's circuit breaker is open.
    CircuitOpen,
    /// An answer could not be understood.
    Parse,
    /// The call was cancelled.
    Cancelled,
    /// The resource is busy or in a conflicting state.
    Conflict,
    /// A local resource (disk, process, backend) failed.
    Io,
    /// A bug or an unexpected state in pipette.
    Internal,
}

impl ErrorKind {
    /// Maps a core crate's `kind()` string to a kind; unknown strings are `Internal`.
    pub fn from_name(name: &str) -> ErrorKind {
        match name {
            "invalid_argument" | "invalid_request" => ErrorKind::InvalidArgument,
            "unknown_tool" => ErrorKind::UnknownTool,
            "not_found" => ErrorKind::NotFound,
            "upstream" | "connect" | "unexpected_content" | "body_too_large" | "too_large" => {
                ErrorKind::Upstream
            }
            "rate_limited" => ErrorKind::RateLimited,
            "timeout" => ErrorKind::Timeout,
            "circuit_open" => ErrorKind::CircuitOpen,
            "parse" => ErrorKind::Parse,
            "cancelled" => ErrorKind::Cancelled,
            "conflict" | "locked" | "busy" => ErrorKind::Conflict,
            "io" | "cache_backend" | "process" => ErrorKind::Io,
            _ => ErrorKind::Internal,
        }
    }

    /// The snake_case name (also the metrics label).
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::InvalidArgument => "invalid_argument",
            ErrorKind::UnknownTool => "unknown_tool",
            ErrorKind::NotFound => "not_found",
            ErrorKind::Upstream => "upstream",
            ErrorKind::RateLimited => "rate_limited",
            ErrorKind::Timeout => "timeout",
            ErrorKind::CircuitOpen => "circuit_open",
            ErrorKind::Parse => "parse",
            ErrorKind::Cancelled => "cancelled",
            ErrorKind::Conflict => "conflict",
            ErrorKind::Io => "io",
            ErrorKind::Internal => "internal",
        }
    }
}

/// Why a tool call failed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema, thiserror::Error)]
#[error("{message}")]
pub struct ToolError {
    /// What kind of failure.
    pub kind: ErrorKind,
    /// What went wrong and what to do about it.
    pub message: String,
    /// The parameter at fault, for `invalid_argument`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub param: Option<String>,
    /// Whether the same call may succeed later.
    #[serde(default)]
    pub retryable: bool,
    /// The upstream service at fault (`pubmed`, `ctgov`, `uniprot`, `chembl`), for upstream failures.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service: Option<String>,
    /// How many seconds to wait before trying again, when the upstream (or its open circuit) said so.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after_seconds: Option<u64>,
}

impl ToolError {
    /// An error of `kind` with `message`.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> ToolError {
        let retryable = matches!(
            kind,
            ErrorKind::Upstream | ErrorKind::RateLimited | ErrorKind::Timeout | ErrorKind::CircuitOpen
        );
        ToolError {
            kind,
            message: message.into(),
            param: None,
            retryable,
            service: None,
            retry_after_seconds: None,
        }
    }

    /// Parameter `name` is wrong: `reason` says what was expected.
    pub fn invalid_argument(name: impl Into<String>, reason: impl std::fmt::Display) -> ToolError {
        let name = name.into();
        ToolError {
            kind: ErrorKind::InvalidArgument,
            message: format!("invalid argument `{name}`: {reason}"),
            param: Some(name),
            retryable: false,
            service: None,
            retry_after_seconds: None,
        }
    }

    /// The thing asked for does not exist.
    pub fn not_found(message: impl Into<String>) -> ToolError {
        ToolError::new(ErrorKind::NotFound, message)
    }

    /// A bug or unexpected state.
    pub fn internal(message: impl Into<String>) -> ToolError {
        ToolError::new(ErrorKind::Internal, message)
    }

    /// Sets whether the router may retry this error.
    pub fn with_retryable(mut self, retryable: bool) -> ToolError {
        self.retryable = retryable;
        self
    }

    /// Names the upstream service at fault.
    pub fn with_service(mut self, service: impl Into<String>) -> ToolError {
        self.service = Some(service.into());
        self
    }

    /// Says how long to wait before trying again (rounded up to whole seconds).
    pub fn with_retry_after(mut self, after: std::time::Duration) -> ToolError {
        let secs = after.as_secs() + u64::from(after.subsec_nanos() > 0);
        self.retry_after_seconds = Some(secs);
        self
    }

    /// Names the parameter at fault.
    pub fn with_param(mut self, param: impl Into<String>) -> ToolError {
        self.param = Some(param.into());
        self
    }
}
