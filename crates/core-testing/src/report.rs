//! The summary over runners, and the Markdown rendering of a report (also saved into the project).

use std::fmt::Write as _;

use crate::{
    Counts, CoverageOutcome, DiagnosticCounts, RunResult, RunStatus, RunnerOutcome, Severity, Summary,
    TestRunReport, TestStatus,
};

/// Folds runner results into a summary.
pub(crate) fn summarize(results: &[RunResult], duration_ms: u64) -> Summary {
    let mut counts = Counts::default();
    let mut diagnostics = DiagnosticCounts::default();
    for r in results {
        counts.merge(&r.counts);
        diagnostics.merge(&r.diagnostic_counts);
    }
    let status = results.iter().map(|r| r.status).max().unwrap_or(RunStatus::NoTests);
    let runners = results.iter().map(|r| RunnerOutcome { runner: r.runner, status: r.status }).collect();
    let message = if results.is_empty() {
        "no tests: nothing ran".to_string()
    } else {
        let per_runner: Vec<String> =
            results.iter().map(|r| format!("{} {}", r.runner, runner_text(r.status))).collect();
        let mut parts = vec![format!("{}: {}", status_text(status), per_runner.join(", "))];
        if counts.total > 0 {
            parts.push(counts_text(&counts));
        }
        if diagnostics.total > 0 {
            parts.push(diagnostics_text(&diagnostics));
        }
        parts.join("; ")
    };
    Summary { status, counts, diagnostic_counts: diagnostics, runners, duration_ms, message }
}

pub(crate) fn status_text(status: RunStatus) -> &'static str {
    match status {
        RunStatus::Passed => "passed",
        RunStatus::NoTests => "no tests",
        RunStatus::Failed => "failed",
        RunStatus::Error => "error",
        RunStatus::Timeout => "timeout",
    }
}

/// What a runner did, after its name: `pytest failed`, `unittest ran no tests`.
fn runner_text(status: RunStatus) -> &'static str {
    match status {
        RunStatus::NoTests => "ran no tests",
        other => status_text(other),
    }
}

/// `1 test`, `2 tests`.
fn count(n: u64, singular: &str, plural: &str) -> String {
    format!("{n} {}", if n == 1 { singular } else { plural })
}

fn counts_text(c: &Counts) -> String {
    let mut parts = vec![format!("{} passed", c.passed)];
    for (n, singular, plural) in [
        (c.failed, "failed", "failed"),
        (c.errors, "error", "errors"),
        (c.skipped, "skipped", "skipped"),
        (c.xfailed, "xfailed", "xfailed"),
        (c.xpassed, "xpassed", "xpassed"),
    ] {
        if n > 0 {
            parts.push(count(n, singular, plural));
        }
    }
    format!("{} ({})", count(c.total, "test", "tests"), parts.join(", "))
}

fn diagnostics_text(d: &DiagnosticCounts) -> String {
    let mut parts = Vec::new();
    for (n, singular, plural) in
        [(d.errors, "error", "errors"), (d.warnings, "warning", "warnings"), (d.notes, "note", "notes")]
    {
        if n > 0 {
            parts.push(count(n, singular, plural));
        }
    }
    format!("{} ({})", count(d.total, "diagnostic", "diagnostics"), parts.join(", "))
}

/// First line of a message, shortened, safe inside a Markdown list item.
fn one_line(text: &str, max: usize) -> String {
    let line = text.lines().next().unwrap_or("").trim();
    let mut out: String = line.chars().take(max).collect();
    if line.chars().count() > max {
        out.push('…');
    }
    out.replace('|', "\\|")
}

/// Renders a report as Markdown.
pub fn to_markdown(report: &TestRunReport) -> String {
    let mut md = String::new();
    let s = &report.summary;
    let _ = writeln!(md, "# Test results: {}\n", report.project);
    let _ = writeln!(
        md,
        "**{}** — {} ({:.1} s)\n",
        status_text(s.status).to_uppercase(),
        s.message,
        s.duration_ms as f64 / 1000.0
    );
    let _ =
        writeln!(md, "| Runner | Status | Tests | Passed | Failed | Errors | Skipped | Diagnostics | Time |");
    let _ = writeln!(md, "|---|---|---:|---:|---:|---:|---:|---:|---:|");
    for r in &report.results {
        let c = &r.counts;
        let _ = writeln!(
            md,
            "| {} | {} | {} | {} | {} | {} | {} | {} | {:.1} s |",
            r.runner,
            status_text(r.status),
            c.total,
            c.passed + c.xpassed,
            c.failed,
            c.errors,
            c.skipped + c.xfailed,
            r.diagnostic_counts.total,
            r.duration_ms as f64 / 1000.0
        );
    }
    for r in &report.results {
        let _ = writeln!(md, "\n## {} — {}\n", r.runner, status_text(r.status));
        let _ = writeln!(md, "`{}`\n", r.command.join(" "));
        if let Some(error) = &r.error {
            let _ = writeln!(md, "**Error:** {error}\n");
        }
        for note in &r.notes {
            let _ = writeln!(md, "- note: {note}");
        }
        let bad: Vec<_> =
            r.tests.iter().filter(|t| matches!(t.status, TestStatus::Failed | TestStatus::Error)).collect();
        if !bad.is_empty() {
            let _ = writeln!(md, "\n### Failures\n");
            for t in bad {
                let location = match (&t.file, t.line) {
                    (Some(f), Some(l)) => format!(" ({f}:{l})"),
                    (Some(f), None) => format!(" ({f})"),
                    _ => String::new(),
                };
                let message = t.message.as_deref().map(|m| one_line(m, 200)).unwrap_or_default();
                let word = if t.status == TestStatus::Error { "error" } else { "failed" };
                let _ = writeln!(md, "- `{}` {word}{location}: {message}", t.name);
            }
        }
        if !r.diagnostics.is_empty() {
            let _ = writeln!(md, "\n### Diagnostics\n");
            for d in r.diagnostics.iter().take(200) {
                let severity = match d.severity {
                    Severity::Error => "error",
                    Severity::Warning => "warning",
                    Severity::Note => "note",
                };
                let location = format!(
                    "{}:{}:{}",
                    d.file.as_deref().unwrap_or("?"),
                    d.line.unwrap_or(0),
                    d.column.unwrap_or(0)
                );
                let code = d.code.as_deref().map(|c| format!(" [{c}]")).unwrap_or_default();
                let _ = writeln!(md, "- `{location}` {severity}{code}: {}", one_line(&d.message, 200));
            }
            if r.diagnostics.len() > 200 {
                let _ = writeln!(md, "- … and {} more", r.diagnostics.len() - 200);
            }
        }
        match &r.coverage {
            Some(CoverageOutcome::Measured(c)) => {
                let _ = writeln!(
                    md,
                    "\n### Coverage: {:.2} % ({}/{} statements)\n",
                    c.total_percent, c.covered_lines, c.num_statements
                );
                let _ = writeln!(md, "| File | Covered | Statements | Missing lines |");
                let _ = writeln!(md, "|---|---:|---:|---|");
                for f in c.files.iter().take(100) {
                    let missing: Vec<String> = f.missing_lines.iter().take(20).map(u64::to_string).collect();
                    let _ = writeln!(
                        md,
                        "| {} | {:.2} % | {} | {} |",
                        f.file,
                        f.percent,
                        f.num_statements,
                        missing.join(", ")
                    );
                }
            }
            Some(CoverageOutcome::Unavailable { reason }) => {
                let _ = writeln!(md, "\n### Coverage\n\nNot measured: {reason}");
            }
            None => {}
        }
    }
    for note in &report.notes {
        let _ = writeln!(md, "\n> {note}");
    }
    md
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Diagnostic, RunnerKind, TestCase};

    fn sample() -> TestRunReport {
        let mut pytest =
            RunResult::new(RunnerKind::Pytest, vec!["python3".into(), "-m".into(), "pytest".into()]);
        pytest.status = RunStatus::Failed;
        let mut failing = TestCase::new("tests/t.py::test_x", TestStatus::Failed);
        failing.message = Some("assert 1 == 2\nmore | detail".into());
        failing.file = Some("tests/t.py".into());
        failing.line = Some(3);
        pytest.tests = vec![failing, TestCase::new("tests/t.py::test_y", TestStatus::Passed)];
        pytest.counts = Counts::of(&pytest.tests);
        pytest.coverage = Some(CoverageOutcome::Unavailable { reason: "pytest-cov is not installed".into() });
        let mut ruff = RunResult::new(RunnerKind::Ruff, vec!["ruff".into()]);
        ruff.status = RunStatus::Failed;
        ruff.diagnostics = vec![Diagnostic {
            severity: Severity::Warning,
            code: Some("F401".into()),
            message: "`os` imported but unused".into(),
            file: Some("a.py".into()),
            line: Some(2),
            column: Some(8),
            hint: None,
        }];
        ruff.diagnostic_counts = DiagnosticCounts::of(&ruff.diagnostics);
        let results = vec![pytest, ruff];
        TestRunReport {
            project: "/p".into(),
            summary: summarize(&results, 1500),
            results,
            saved: vec![],
            notes: vec![],
        }
    }

    #[test]
    fn the_summary_takes_the_worst_status_and_sums_counts() {
        let report = sample();
        assert_eq!(report.summary.status, RunStatus::Failed);
        assert_eq!(report.summary.counts.total, 2);
        assert_eq!(report.summary.diagnostic_counts.warnings, 1);
        assert_eq!(
            report.summary.message,
            "failed: pytest failed, ruff failed; 2 tests (1 passed, 1 failed); 1 diagnostic (1 warning)"
        );
        assert_eq!(summarize(&[], 0).status, RunStatus::NoTests);
    }

    #[test]
    fn markdown_lists_failures_diagnostics_and_coverage() {
        let md = to_markdown(&sample());
        assert!(md.contains("| pytest | failed | 2 | 1 | 1 | 0 | 0 | 0 | 0.0 s |"), "{md}");
        assert!(md.contains("- `tests/t.py::test_x` failed (tests/t.py:3): assert 1 == 2"), "{md}");
        assert!(md.contains("- `a.py:2:8` warning [F401]: `os` imported but unused"), "{md}");
        assert!(md.contains("Not measured: pytest-cov is not installed"), "{md}");
    }

    #[test]
    fn zero_tests_read_as_no_tests_never_as_passed() {
        let mut unittest = RunResult::new(RunnerKind::Unittest, vec!["python3".into()]);
        unittest.status = RunStatus::NoTests;
        unittest.notes.push("unittest found no tests".into());
        let mut ruff = RunResult::new(RunnerKind::Ruff, vec!["ruff".into()]);
        ruff.status = RunStatus::Passed;
        let results = vec![unittest, ruff];
        let report = TestRunReport {
            project: "/p".into(),
            summary: summarize(&results, 10),
            results,
            saved: vec![],
            notes: vec![],
        };
        assert_eq!(report.summary.status, RunStatus::NoTests);
        assert_eq!(report.summary.message, "no tests: unittest ran no tests, ruff passed");
        let md = to_markdown(&report);
        assert!(md.contains("**NO TESTS**"), "{md}");
        assert!(md.contains("| unittest | no tests | 0 |"), "{md}");
        assert!(!md.contains("PASSED"), "{md}");
    }
}
