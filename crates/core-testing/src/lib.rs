//! Runs a project's test suites and linters as safe child processes and returns one structured result.

mod config;
mod detect;
mod error;
mod model;
pub mod parse;
pub mod process;
mod report;
mod request;
mod roots;
mod runners;
mod state;
mod testing;

pub use config::{Config, DATA_DIR_ENV};
pub use detect::{Detection, PythonProject, RustProject, ToolStatus};
pub use error::TestingError;
pub use model::{
    Counts, Coverage, CoverageOutcome, Diagnostic, DiagnosticCounts, FileCoverage, RunResult, RunStatus,
    RunnerKind, RunnerOutcome, Severity, SuiteResult, Summary, TestCase, TestRunReport, TestStatus,
};
pub use report::to_markdown;
pub use request::{
    Auto, DetectRequest, LintRequest, LintTool, RerunFailedRequest, RunnerSelection, TestRunRequest,
};
pub use roots::{ALLOWED_ROOTS_ENV, AllowedRoots};
pub use testing::{Progress, RESULTS_DIR, Testing};
