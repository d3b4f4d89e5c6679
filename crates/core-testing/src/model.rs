//! The result types shared by every runner: one [`RunResult`] per tool, one [`TestRunReport`] per call.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A tool pipette can run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum RunnerKind {
    /// `cargo test` (libtest's per-test output).
    CargoTest,
    /// `cargo nextest run` (its JUnit report).
    CargoNextest,
    /// `cargo clippy --message-format=json`.
    Clippy,
    /// `pytest` (its JUnit XML report; coverage through pytest-cov).
    Pytest,
    /// `python -m unittest` (verbose output).
    Unittest,
    /// `mypy` (`-O json` where supported).
    Mypy,
    /// `ruff check --output-format json`.
    Ruff,
    /// `flake8` (default format).
    Flake8,
}

impl RunnerKind {
    /// Every runner, tests first.
    pub const ALL: [RunnerKind; 8] = [
        Self::CargoTest,
        Self::CargoNextest,
        Self::Pytest,
        Self::Unittest,
        Self::Clippy,
        Self::Mypy,
        Self::Ruff,
        Self::Flake8,
    ];

    /// The snake_case name used in requests and results.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::CargoTest => "cargo_test",
            Self::CargoNextest => "cargo_nextest",
            Self::Clippy => "clippy",
            Self::Pytest => "pytest",
            Self::Unittest => "unittest",
            Self::Mypy => "mypy",
            Self::Ruff => "ruff",
            Self::Flake8 => "flake8",
        }
    }

    /// Whether it runs tests (as opposed to reporting diagnostics).
    pub fn runs_tests(self) -> bool {
        matches!(self, Self::CargoTest | Self::CargoNextest | Self::Pytest | Self::Unittest)
    }
}

impl std::fmt::Display for RunnerKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for RunnerKind {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let wanted = s.trim().to_ascii_lowercase().replace('-', "_");
        Self::ALL
            .into_iter()
            .find(|k| k.as_str() == wanted || (wanted == "nextest" && *k == Self::CargoNextest))
            .ok_or_else(|| {
                let names: Vec<&str> = Self::ALL.iter().map(|k| k.as_str()).collect();
                format!("unknown runner `{s}`; expected one of {}", names.join(", "))
            })
    }
}

/// How a whole run (or one runner) ended, from best to worst.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    /// Everything passed; no diagnostics at warning level or above.
    Passed,
    /// Nothing was checked: zero tests executed (none found, every test deselected by the filter or
    /// skipped), or no runner applied to the project. Never a pass; `notes` say why.
    NoTests,
    /// The tool ran and reported failing tests or diagnostics.
    Failed,
    /// The tool could not do its job (not installed, did not compile, crashed, unreadable output).
    Error,
    /// The wall-clock timeout fired and the tool's process group was killed.
    Timeout,
}

/// The outcome of one test.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum TestStatus {
    /// Passed.
    Passed,
    /// Failed (an assertion or a panic).
    Failed,
    /// Skipped or ignored.
    Skipped,
    /// Broke outside the test body (fixture setup/teardown, collection, import).
    Error,
    /// Expected to fail, and failed.
    Xfail,
    /// Expected to fail, but passed.
    Xpass,
}

/// One test and its outcome.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct TestCase {
    /// The test's full name as its tool spells it: a pytest node id
    /// (`tests/test_x.py::TestA::test_b[1]`), a libtest path (`tests::adds`), a unittest id
    /// (`tests.test_unit.TestCalc.test_ok`).
    pub name: String,
    /// The test binary or suite it belongs to (e.g. `unittests src/lib.rs`, `tests/it.rs`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suite: Option<String>,
    /// The outcome.
    pub status: TestStatus,
    /// How long the test took, in milliseconds, when the tool says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_ms: Option<f64>,
    /// The failure, error or skip message (first lines of a panic, an assertion, a skip reason).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// The source file (relative to the project), when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    /// The 1-based line (of the panic or failure when known, else of the test).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<u32>,
    /// Longer detail for failures: traceback or panic output (tail, capped).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub details: Option<String>,
}

impl TestCase {
    /// A test with only a name and a status.
    pub fn new(name: impl Into<String>, status: TestStatus) -> Self {
        Self {
            name: name.into(),
            suite: None,
            status,
            duration_ms: None,
            message: None,
            file: None,
            line: None,
            details: None,
        }
    }
}

/// How severe a diagnostic is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// An error (type error, syntax error, compile error, denied lint).
    Error,
    /// A warning (a lint violation).
    Warning,
    /// A note or help attached to other diagnostics.
    Note,
}

/// One linter or type-checker finding.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
pub struct Diagnostic {
    /// How severe it is.
    pub severity: Severity,
    /// The rule or lint code (`clippy::needless_return`, `F401`, `arg-type`), when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// The message.
    pub message: String,
    /// The file (as the tool reports it, usually relative to the project).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    /// 1-based line.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<u32>,
    /// 1-based column.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub column: Option<u32>,
    /// An extra hint or documentation URL, when the tool gives one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
}

/// Test counts. `total = passed + failed + skipped + errors + xfailed + xpassed`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Counts {
    /// Tests seen.
    pub total: u64,
    /// Passed.
    pub passed: u64,
    /// Failed.
    pub failed: u64,
    /// Skipped or ignored.
    pub skipped: u64,
    /// Errors outside test bodies (setup, collection).
    pub errors: u64,
    /// Expected failures that failed.
    pub xfailed: u64,
    /// Expected failures that passed.
    pub xpassed: u64,
}

impl Counts {
    /// Counts of a list of tests.
    pub fn of(tests: &[TestCase]) -> Self {
        let mut counts = Self::default();
        for test in tests {
            counts.add(test.status);
        }
        counts
    }

    /// Counts one more test.
    pub fn add(&mut self, status: TestStatus) {
        self.total += 1;
        match status {
            TestStatus::Passed => self.passed += 1,
            TestStatus::Failed => self.failed += 1,
            TestStatus::Skipped => self.skipped += 1,
            TestStatus::Error => self.errors += 1,
            TestStatus::Xfail => self.xfailed += 1,
            TestStatus::Xpass => self.xpassed += 1,
        }
    }

    /// Adds another set of counts.
    pub fn merge(&mut self, other: &Self) {
        self.total += other.total;
        self.passed += other.passed;
        self.failed += other.failed;
        self.skipped += other.skipped;
        self.errors += other.errors;
        self.xfailed += other.xfailed;
        self.xpassed += other.xpassed;
    }
}

/// Diagnostic counts by severity.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct DiagnosticCounts {
    /// All diagnostics.
    pub total: u64,
    /// Errors.
    pub errors: u64,
    /// Warnings.
    pub warnings: u64,
    /// Notes.
    pub notes: u64,
}

impl DiagnosticCounts {
    /// Counts of a list of diagnostics.
    pub fn of(diagnostics: &[Diagnostic]) -> Self {
        let mut counts = Self::default();
        for d in diagnostics {
            counts.total += 1;
            match d.severity {
                Severity::Error => counts.errors += 1,
                Severity::Warning => counts.warnings += 1,
                Severity::Note => counts.notes += 1,
            }
        }
        counts
    }

    /// Adds another set of counts.
    pub fn merge(&mut self, other: &Self) {
        self.total += other.total;
        self.errors += other.errors;
        self.warnings += other.warnings;
        self.notes += other.notes;
    }
}

/// One test binary (cargo) or suite, with the counts its own summary line reported.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct SuiteResult {
    /// The suite's name (`unittests src/lib.rs`, `tests/integration.rs`, `doctests my_crate`).
    pub name: String,
    /// Counts from the tool's own summary for this suite.
    pub counts: Counts,
    /// Tests filtered out (libtest's `filtered out`).
    pub filtered_out: u64,
    /// Wall time the tool reported, in milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_ms: Option<f64>,
}

/// Line coverage of one file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct FileCoverage {
    /// The file, relative to the project.
    pub file: String,
    /// Percent of statements covered (0–100).
    pub percent: f64,
    /// Statements covered.
    pub covered_lines: u64,
    /// Statements in the file.
    pub num_statements: u64,
    /// Line numbers not covered.
    pub missing_lines: Vec<u64>,
}

/// Line coverage of a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Coverage {
    /// Percent of statements covered over all measured files (0–100).
    pub total_percent: f64,
    /// Statements covered.
    pub covered_lines: u64,
    /// Statements measured.
    pub num_statements: u64,
    /// Per-file coverage, lowest first.
    pub files: Vec<FileCoverage>,
}

/// Coverage when it was asked for: measured, or why it could not be.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum CoverageOutcome {
    /// Coverage was measured.
    Measured(Coverage),
    /// Coverage could not be measured; `reason` says why in plain words.
    Unavailable {
        /// Why, and what to install or change.
        reason: String,
    },
}

/// The structured result of one runner.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct RunResult {
    /// Which tool ran.
    pub runner: RunnerKind,
    /// The command as run (program and arguments; no shell).
    pub command: Vec<String>,
    /// The exit code (absent when killed by a signal or not started).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exit_code: Option<i32>,
    /// How it ended.
    pub status: RunStatus,
    /// Test counts (all zero for linters).
    pub counts: Counts,
    /// Diagnostic counts (all zero for test runners).
    pub diagnostic_counts: DiagnosticCounts,
    /// Per-test results (passed tests only when `include_passed` was asked for).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tests: Vec<TestCase>,
    /// Per test binary / suite summaries, as the tool reported them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub suites: Vec<SuiteResult>,
    /// Linter and type-checker findings.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub diagnostics: Vec<Diagnostic>,
    /// Coverage, when it was asked for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub coverage: Option<CoverageOutcome>,
    /// Wall time, in milliseconds.
    pub duration_ms: u64,
    /// Why the status is `error` or `timeout`, in plain words.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Remarks worth knowing (e.g. "passed tests are counted but not listed").
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    /// The last part of the tool's combined output.
    pub output_tail: String,
}

impl RunResult {
    /// An empty result (status passed, nothing counted) for a runner to fill in.
    pub(crate) fn new(runner: RunnerKind, command: Vec<String>) -> Self {
        Self {
            runner,
            command,
            exit_code: None,
            status: RunStatus::Passed,
            counts: Counts::default(),
            diagnostic_counts: DiagnosticCounts::default(),
            tests: Vec::new(),
            suites: Vec::new(),
            diagnostics: Vec::new(),
            coverage: None,
            duration_ms: 0,
            error: None,
            notes: Vec::new(),
            output_tail: String::new(),
        }
    }
}

impl RunStatus {
    /// The snake_case name used in results and metric labels.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Passed => "passed",
            Self::NoTests => "no_tests",
            Self::Failed => "failed",
            Self::Error => "error",
            Self::Timeout => "timeout",
        }
    }
}

impl std::fmt::Display for RunStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One line per runner in the summary.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct RunnerOutcome {
    /// The runner.
    pub runner: RunnerKind,
    /// Its status.
    pub status: RunStatus,
}

/// The summary over every runner of a call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Summary {
    /// The worst status of any runner (`no_tests` when nothing ran).
    pub status: RunStatus,
    /// Test counts summed over runners.
    pub counts: Counts,
    /// Diagnostic counts summed over runners.
    pub diagnostic_counts: DiagnosticCounts,
    /// Each runner's status.
    pub runners: Vec<RunnerOutcome>,
    /// Wall time of the whole call, in milliseconds.
    pub duration_ms: u64,
    /// A one-line human summary.
    pub message: String,
}

/// The answer to `test_run`, `lint_run` and `test_rerun_failed`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct TestRunReport {
    /// The canonical project directory.
    pub project: String,
    /// The summary over all runners.
    pub summary: Summary,
    /// Each runner's result, in the order the runners were requested.
    pub results: Vec<RunResult>,
    /// Files written into the project when `save` was asked for.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub saved: Vec<String>,
    /// Remarks about the call as a whole.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runner_names_round_trip() {
        for kind in RunnerKind::ALL {
            assert_eq!(kind.as_str().parse::<RunnerKind>(), Ok(kind));
            let json = serde_json::to_string(&kind).expect("json");
            assert_eq!(json, format!("\"{}\"", kind.as_str()));
        }
        assert_eq!("nextest".parse(), Ok(RunnerKind::CargoNextest));
        assert_eq!("cargo-test".parse(), Ok(RunnerKind::CargoTest));
        assert!("jest".parse::<RunnerKind>().is_err());
    }

    #[test]
    fn counts_add_up() {
        let tests = [
            TestCase::new("a", TestStatus::Passed),
            TestCase::new("b", TestStatus::Failed),
            TestCase::new("c", TestStatus::Skipped),
            TestCase::new("d", TestStatus::Error),
            TestCase::new("e", TestStatus::Xfail),
            TestCase::new("f", TestStatus::Xpass),
        ];
        let c = Counts::of(&tests);
        assert_eq!(c.total, 6);
        assert_eq!(c.passed + c.failed + c.skipped + c.errors + c.xfailed + c.xpassed, c.total);
    }

    #[test]
    fn status_names_match_their_json() {
        for status in
            [RunStatus::Passed, RunStatus::NoTests, RunStatus::Failed, RunStatus::Error, RunStatus::Timeout]
        {
            assert_eq!(serde_json::to_value(status).expect("json"), status.as_str());
        }
    }

    #[test]
    fn statuses_order_from_best_to_worst() {
        assert!(RunStatus::Passed < RunStatus::NoTests);
        assert!(RunStatus::NoTests < RunStatus::Failed);
        assert!(RunStatus::Failed < RunStatus::Error);
        assert!(RunStatus::Error < RunStatus::Timeout);
    }
}
