//! Testing tools: run a project's test suites and linters, rerun what failed, detect what it uses (core-testing).

use core_testing::{
    DetectRequest, Detection, LintRequest, RerunFailedRequest, TestRunReport, TestRunRequest, Testing,
    to_markdown,
};
use serde::Serialize;
use tool_metadata::{ToolContext, tool_metadata};

use crate::Error;
use crate::format::{CarriesMarkdown, Shown};

/// A report with its Markdown rendering (the text clients show).
#[derive(Serialize, schemars::JsonSchema)]
struct Report {
    #[serde(flatten)]
    report: TestRunReport,
    /// The same report as Markdown.
    summary_markdown: String,
}

impl CarriesMarkdown for Report {
    fn markdown(&self) -> String {
        self.summary_markdown.clone()
    }
}

impl From<TestRunReport> for Report {
    fn from(report: TestRunReport) -> Report {
        Report { summary_markdown: to_markdown(&report), report }
    }
}

/// Runs a project's tests (cargo test or nextest, clippy, pytest with optional coverage, unittest, mypy, ruff,
/// flake8; `auto` detects them) in parallel and answers one structured result: counts, failures with messages and
/// locations, diagnostics, coverage. The path must lie under the allowed roots.
#[tool_metadata(category = testing, runtime = Process, priority = 5, timeout_seconds = 3600, inline_ms = 20000)]
async fn test_run(ctx: ToolContext, p: TestRunRequest) -> Result<Shown<Report>, Error> {
    let progress = ctx.progress().callback();
    Ok(Report::from(ctx.service::<Testing>()?.run(&p, &progress).await?).into())
}

/// Runs again only what failed in the last run of this project (remembered across restarts).
#[tool_metadata(category = testing, runtime = Process, priority = 6, timeout_seconds = 3600, inline_ms = 20000)]
async fn test_rerun_failed(ctx: ToolContext, p: RerunFailedRequest) -> Result<Shown<Report>, Error> {
    let progress = ctx.progress().callback();
    Ok(Report::from(ctx.service::<Testing>()?.rerun_failed(&p, &progress).await?).into())
}

/// Detects what a project uses (Cargo, pytest, unittest, mypy, ruff, flake8), from which files, and which tools
/// are installed.
#[tool_metadata(category = testing, runtime = Process, priority = 7, timeout_seconds = 60, read_only)]
async fn test_detect(ctx: ToolContext, p: DetectRequest) -> Result<Detection, Error> {
    Ok(ctx.service::<Testing>()?.detect(&p).await?)
}

/// Runs linters (clippy, mypy, ruff, flake8) and answers their diagnostics: level, code, message, file, line, column.
#[tool_metadata(category = testing, runtime = Process, priority = 5, timeout_seconds = 1800, inline_ms = 20000)]
async fn lint_run(ctx: ToolContext, p: LintRequest) -> Result<Shown<Report>, Error> {
    let progress = ctx.progress().callback();
    Ok(Report::from(ctx.service::<Testing>()?.lint(&p, &progress).await?).into())
}
