//! The one error type of core-testing: what went wrong, and what the caller can do about it.

use std::path::PathBuf;

/// Everything that can stop a test or lint run before a structured result exists.
///
/// A tool that runs but reports failures is not an error: that is a [`crate::RunResult`] with
/// status `failed` (or `error` / `timeout` when the tool itself broke down).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TestingError {
    /// A parameter is malformed or not allowed (for instance a path outside the allowed roots).
    #[error("invalid argument `{name}`: {reason}")]
    InvalidArgument {
        /// The parameter's name, as the caller spelt it (`path`, `env`, `timeout_seconds`, ...).
        name: &'static str,
        /// Why it was refused and how to fix it.
        reason: String,
    },
    /// A path the caller named does not exist.
    #[error("`{name}` does not exist: {path}; check the path")]
    NotFound {
        /// The parameter's name.
        name: &'static str,
        /// The path as given.
        path: PathBuf,
    },
    /// `rerun_failed` was asked for a project with no recorded run.
    #[error(
        "no previous run is recorded for {project}; run the tests first (test_run), then rerun what failed"
    )]
    NoPreviousRun {
        /// The canonical project path.
        project: PathBuf,
    },
    /// A program could not be started because it is not installed (or not on PATH).
    #[error("`{program}` is not installed or not on PATH; {hint}")]
    ToolNotFound {
        /// The program that was looked for.
        program: String,
        /// How to install it.
        hint: String,
    },
    /// A tool's machine-readable output could not be read.
    #[error("could not parse the {what}: {reason}")]
    Parse {
        /// Which output (e.g. "JUnit XML report").
        what: &'static str,
        /// What was wrong with it.
        reason: String,
    },
    /// A file-system or pipe operation failed.
    #[error("I/O error while {action}: {source}; check permissions and free space")]
    Io {
        /// What was being done.
        action: String,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// A bug or an impossible state inside core-testing.
    #[error("internal error in the test runner: {0}; please report it")]
    Internal(String),
}

impl TestingError {
    /// A short snake_case name of the error's kind, stable for callers and metrics.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::InvalidArgument { .. } => "invalid_argument",
            Self::NotFound { .. } | Self::NoPreviousRun { .. } | Self::ToolNotFound { .. } => "not_found",
            Self::Parse { .. } => "parse",
            Self::Io { .. } => "io",
            Self::Internal(_) => "internal",
        }
    }

    /// Whether the same call may succeed if simply tried again.
    pub fn retryable(&self) -> bool {
        matches!(self, Self::Io { .. })
    }

    pub(crate) fn io(action: impl Into<String>, source: std::io::Error) -> Self {
        Self::Io { action: action.into(), source }
    }

    pub(crate) fn invalid(name: &'static str, reason: impl Into<String>) -> Self {
        Self::InvalidArgument { name, reason: reason.into() }
    }

    pub(crate) fn parse(what: &'static str, reason: impl Into<String>) -> Self {
        Self::Parse { what, reason: reason.into() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_and_retryability() {
        let cases: Vec<(TestingError, &str, bool)> = vec![
            (TestingError::invalid("path", "x"), "invalid_argument", false),
            (TestingError::NotFound { name: "path", path: "/nope".into() }, "not_found", false),
            (TestingError::NoPreviousRun { project: "/p".into() }, "not_found", false),
            (TestingError::parse("JUnit XML report", "bad"), "parse", false),
            (TestingError::io("reading", std::io::Error::other("x")), "io", true),
            (TestingError::Internal("x".into()), "internal", false),
        ];
        for (err, kind, retryable) in cases {
            assert_eq!(err.kind(), kind, "{err}");
            assert_eq!(err.retryable(), retryable, "{err}");
        }
    }

    #[test]
    fn invalid_argument_names_the_parameter() {
        let err = TestingError::invalid("path", "outside the allowed roots");
        assert_eq!(err.to_string(), "invalid argument `path`: outside the allowed roots");
    }
}
