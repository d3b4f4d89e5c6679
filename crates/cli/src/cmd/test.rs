//! `pipette test`: run a project's tests and linters through core-testing, with live progress.

use std::fmt::Write as _;
use std::path::PathBuf;

use core_testing::{
    AllowedRoots, Config, CoverageOutcome, DetectRequest, Detection, LintRequest, LintTool,
    RerunFailedRequest, RunResult, RunStatus, RunnerKind, RunnerSelection, Severity, TestRunReport,
    TestRunRequest, TestStatus, Testing,
};

/// Run tests, rerun failures, detect runners, lint.
#[derive(clap::Subcommand, Debug)]
pub(crate) enum TestCmd {
    /// Run the project's tests: the runners it uses, or those named with --runners.
    Run {
        /// The project directory.
        #[arg(default_value = ".")]
        path: PathBuf,
        /// Runners, comma-separated: cargo_test, cargo_nextest, clippy, pytest, unittest, mypy,
        /// ruff, flake8 (default: detected).
        #[arg(long, value_delimiter = ',')]
        runners: Vec<RunnerKind>,
        /// Narrow the tests: a name substring (cargo), a -k expression or node id (pytest).
        #[arg(long, short = 'k')]
        filter: Option<String>,
        /// Measure coverage (pytest with pytest-cov).
        #[arg(long)]
        coverage: bool,
        /// List passed tests too (with --json).
        #[arg(long)]
        include_passed: bool,
        #[command(flatten)]
        common: Common,
    },
    /// Rerun only what failed in the project's last run.
    RerunFailed {
        /// The project directory.
        #[arg(default_value = ".")]
        path: PathBuf,
        /// List passed tests too (with --json).
        #[arg(long)]
        include_passed: bool,
        #[command(flatten)]
        common: Common,
    },
    /// Show the test runners and linters the project uses, and which are installed.
    Detect {
        /// The project directory.
        #[arg(default_value = ".")]
        path: PathBuf,
    },
    /// Run linters and type checkers: the configured ones, or those named with --tools.
    Lint {
        /// The project directory.
        #[arg(default_value = ".")]
        path: PathBuf,
        /// Tools, comma-separated: clippy, mypy, ruff, flake8 (default: configured).
        #[arg(long, value_delimiter = ',')]
        tools: Vec<LintTool>,
        #[command(flatten)]
        common: Common,
    },
}

/// Options shared by the running subcommands.
#[derive(clap::Args, Debug)]
pub(crate) struct Common {
    /// Wall-clock limit per runner, in seconds (default 600).
    #[arg(long, value_name = "SECONDS")]
    timeout: Option<u64>,
    /// An extra environment variable for the tools (repeatable).
    #[arg(long = "env", value_name = "KEY=VALUE", value_parser = parse_env)]
    env: Vec<(String, String)>,
    /// Also write .pipette/test-results.json and .md into the project.
    #[arg(long)]
    save: bool,
}

fn parse_env(s: &str) -> Result<(String, String), String> {
    s.split_once('=')
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .ok_or_else(|| format!("`{s}` is not KEY=VALUE"))
}

/// The service, allowed to run under `roots` only (`--allow-root`, `PIPETTE_ALLOWED_ROOTS`, else the data
/// directory's `files` folder).
fn testing_in(roots: &[PathBuf]) -> Testing {
    let mut config = Config::from_env();
    config.allowed_roots = AllowedRoots::existing(roots);
    Testing::new(config)
}

pub(crate) async fn run(cmd: TestCmd, out: &crate::Output, roots: &[PathBuf]) -> anyhow::Result<()> {
    match cmd {
        TestCmd::Run { path, runners, filter, coverage, include_passed, common } => {
            let testing = testing_in(roots);
            let mut request = TestRunRequest::new(path);
            if !runners.is_empty() {
                request.runners = RunnerSelection::List(runners);
            }
            request.filter = filter;
            request.coverage = coverage;
            request.include_passed = include_passed;
            request.timeout_seconds = common.timeout;
            request.env = common.env.into_iter().collect();
            request.save = common.save;
            let bar = out.progress(None, "test");
            let callback = bar.callback();
            let report = testing.run(&request, &callback).await;
            bar.finish();
            finish(out, &report?)
        }
        TestCmd::RerunFailed { path, include_passed, common } => {
            let testing = testing_in(roots);
            let mut request = RerunFailedRequest::new(path);
            request.include_passed = include_passed;
            request.timeout_seconds = common.timeout;
            request.env = common.env.into_iter().collect();
            request.save = common.save;
            let bar = out.progress(None, "rerun");
            let callback = bar.callback();
            let report = testing.rerun_failed(&request, &callback).await;
            bar.finish();
            finish(out, &report?)
        }
        TestCmd::Detect { path } => {
            let testing = testing_in(roots);
            let detection = testing.detect(&DetectRequest { path }).await?;
            out.emit(&detection, || detection_text(&detection))
        }
        TestCmd::Lint { path, tools, common } => {
            let testing = testing_in(roots);
            let mut request = LintRequest::new(path);
            request.tools = tools;
            request.timeout_seconds = common.timeout;
            request.env = common.env.into_iter().collect();
            request.save = common.save;
            let bar = out.progress(None, "lint");
            let callback = bar.callback();
            let report = testing.lint(&request, &callback).await;
            bar.finish();
            finish(out, &report?)
        }
    }
}

/// Prints the report; anything but a pass (failures, errors, a timeout, or no test executed) makes the
/// command fail (non-zero exit).
fn finish(out: &crate::Output, report: &TestRunReport) -> anyhow::Result<()> {
    out.emit(report, || report_text(report))?;
    if report.summary.status != RunStatus::Passed {
        anyhow::bail!("{}", report.summary.message);
    }
    Ok(())
}

fn status_word(status: RunStatus) -> &'static str {
    match status {
        RunStatus::Passed => "passed",
        RunStatus::NoTests => "NO TESTS",
        RunStatus::Failed => "FAILED",
        RunStatus::Error => "ERROR",
        RunStatus::Timeout => "TIMEOUT",
    }
}

fn report_text(report: &TestRunReport) -> String {
    let mut text = String::new();
    for result in &report.results {
        result_text(result, &mut text);
    }
    for note in &report.notes {
        let _ = writeln!(text, "note: {note}");
    }
    for path in &report.saved {
        let _ = writeln!(text, "saved: {path}");
    }
    let _ =
        writeln!(text, "\n{} ({:.1} s)", report.summary.message, report.summary.duration_ms as f64 / 1000.0);
    text
}

fn result_text(r: &RunResult, text: &mut String) {
    let c = &r.counts;
    let mut what = Vec::new();
    if r.runner.runs_tests() {
        what.push(format!("{} tests", c.total));
        for (n, word) in [
            (c.passed, "passed"),
            (c.failed, "failed"),
            (c.errors, "errors"),
            (c.skipped, "skipped"),
            (c.xfailed, "xfailed"),
            (c.xpassed, "xpassed"),
        ] {
            if n > 0 {
                what.push(format!("{n} {word}"));
            }
        }
    } else {
        what.push(format!("{} diagnostics", r.diagnostic_counts.total));
    }
    let _ = writeln!(
        text,
        "{:<14} {:<8} {}  ({:.1} s)",
        r.runner.as_str(),
        status_word(r.status),
        what.join(", "),
        r.duration_ms as f64 / 1000.0
    );
    if let Some(error) = &r.error {
        let _ = writeln!(text, "  error: {error}");
    }
    for t in r.tests.iter().filter(|t| matches!(t.status, TestStatus::Failed | TestStatus::Error)) {
        let location = match (&t.file, t.line) {
            (Some(f), Some(l)) => format!(" ({f}:{l})"),
            _ => String::new(),
        };
        let message = t.message.as_deref().and_then(|m| m.lines().next()).unwrap_or("");
        let word = if t.status == TestStatus::Error { "ERROR " } else { "FAILED" };
        let _ = writeln!(text, "  {word} {}{location}: {message}", t.name);
    }
    for d in r.diagnostics.iter().take(50) {
        let severity = match d.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Note => "note",
        };
        let _ = writeln!(
            text,
            "  {}:{}:{} {severity} {}{}",
            d.file.as_deref().unwrap_or("?"),
            d.line.unwrap_or(0),
            d.column.unwrap_or(0),
            d.code.as_deref().map(|c| format!("[{c}] ")).unwrap_or_default(),
            d.message.lines().next().unwrap_or("")
        );
    }
    if r.diagnostics.len() > 50 {
        let _ = writeln!(text, "  ... and {} more", r.diagnostics.len() - 50);
    }
    match &r.coverage {
        Some(CoverageOutcome::Measured(cov)) => {
            let _ = writeln!(
                text,
                "  coverage {:.2} % ({}/{} statements)",
                cov.total_percent, cov.covered_lines, cov.num_statements
            );
            for f in cov.files.iter().filter(|f| f.percent < 100.0).take(10) {
                let _ = writeln!(text, "    {:>6.2} %  {}", f.percent, f.file);
            }
        }
        Some(CoverageOutcome::Unavailable { reason }) => {
            let _ = writeln!(text, "  coverage not measured: {reason}");
        }
        None => {}
    }
    for note in &r.notes {
        let _ = writeln!(text, "  note: {note}");
    }
}

fn detection_text(d: &Detection) -> String {
    let mut text = String::new();
    let _ = writeln!(text, "project: {}", d.project);
    if let Some(rust) = &d.rust {
        let _ = writeln!(
            text,
            "rust: {}{}{}",
            rust.manifest,
            rust.package.as_deref().map(|p| format!(" (package {p})")).unwrap_or_default(),
            if rust.workspace { " [workspace]" } else { "" }
        );
    }
    if let Some(py) = &d.python {
        let _ = writeln!(
            text,
            "python: {} ({} test files; config: {})",
            py.interpreter,
            py.test_files,
            if py.config_files.is_empty() { "none".to_string() } else { py.config_files.join(", ") }
        );
    }
    let names = |kinds: &[RunnerKind]| {
        if kinds.is_empty() {
            "none".to_string()
        } else {
            kinds.iter().map(|k| k.as_str()).collect::<Vec<_>>().join(", ")
        }
    };
    let _ = writeln!(text, "test runners: {}", names(&d.test_runners));
    let _ = writeln!(text, "linters: {}", names(&d.linters));
    if !d.tools.is_empty() {
        let _ = writeln!(text, "tools:");
        for t in &d.tools {
            let _ = writeln!(
                text,
                "  {:<14} {:<10} {}{}",
                t.runner.as_str(),
                if t.available { "installed" } else { "MISSING" },
                t.version.as_deref().unwrap_or(""),
                t.note.as_deref().map(|n| format!("  ({n})")).unwrap_or_default()
            );
        }
    }
    for e in &d.evidence {
        let _ = writeln!(text, "  - {e}");
    }
    text
}
