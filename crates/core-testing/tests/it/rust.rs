//! The Rust fixture through cargo test, nextest and clippy, checked against the tools' own reports.

use std::collections::BTreeSet;

use core_testing::{
    Counts, CoverageOutcome, LintRequest, LintTool, RerunFailedRequest, RunStatus, RunnerKind,
    RunnerSelection, Severity, TestRunRequest, TestStatus,
};
use regex::Regex;

use crate::support::{Fixture, Recorder, only};

fn request(fixture: &Fixture, runners: &[RunnerKind]) -> TestRunRequest {
    let mut request = TestRunRequest::new(&fixture.project);
    request.runners = RunnerSelection::List(runners.to_vec());
    request.include_passed = true;
    request.env.insert("CARGO_TARGET_DIR".into(), fixture.cargo_target_dir().display().to_string());
    request
}

#[tokio::test]
async fn cargo_test_counts_match_libtest_and_failures_carry_panics() {
    let fixture = Fixture::new("rust-project");
    let mut req = request(&fixture, &[RunnerKind::CargoTest]);
    req.coverage = true;
    let recorder = Recorder::default();
    let report = fixture.testing.run(&req, &recorder.callback()).await.expect("report");
    let result = only(&report, RunnerKind::CargoTest);
    assert_eq!(result.status, RunStatus::Failed, "{result:#?}");
    assert_eq!(result.exit_code, Some(101));
    assert_eq!(&result.command[..3], ["cargo", "test", "--no-fail-fast"]);

    // The fixture: lib (adds, should_panic_ok pass; fails_assert, panics fail; ignored),
    // integration (one passes, one fails), one doctest.
    assert_eq!(
        result.counts,
        Counts { total: 8, passed: 4, failed: 3, skipped: 1, ..Counts::default() },
        "{result:#?}"
    );
    // ...and libtest's own `test result:` lines, one per test binary, say the same.
    assert_eq!(result.suites.len(), 3, "{:#?}", result.suites);
    let mut from_libtest = Counts::default();
    for suite in &result.suites {
        from_libtest.merge(&suite.counts);
    }
    assert_eq!(from_libtest, result.counts);
    let tail_totals: (u64, u64, u64) =
        Regex::new(r"test result: \w+\. (\d+) passed; (\d+) failed; (\d+) ignored")
            .expect("regex")
            .captures_iter(&result.output_tail)
            .fold((0, 0, 0), |acc, c| {
                (
                    acc.0 + c[1].parse::<u64>().expect("n"),
                    acc.1 + c[2].parse::<u64>().expect("n"),
                    acc.2 + c[3].parse::<u64>().expect("n"),
                )
            });
    assert_eq!(tail_totals, (4, 3, 1));

    let panics = result.tests.iter().find(|t| t.name == "tests::panics").expect("tests::panics");
    assert_eq!(panics.status, TestStatus::Failed);
    assert_eq!(panics.message.as_deref(), Some("boom from the fixture"));
    assert_eq!((panics.file.as_deref(), panics.line), (Some("src/lib.rs"), Some(29)));
    assert_eq!(panics.suite.as_deref(), Some("unittests src/lib.rs (pipette_fixture)"));
    let ignored = result.tests.iter().find(|t| t.name == "tests::ignored").expect("ignored");
    assert_eq!(ignored.status, TestStatus::Skipped);
    assert!(matches!(result.coverage, Some(CoverageOutcome::Unavailable { .. })));

    // Progress ends at every test done.
    let calls = recorder.calls();
    let last = calls.last().expect("progress");
    assert_eq!((last.0, last.1), (8, Some(8)), "{calls:?}");

    // Rerun only what failed, here and after a "restart".
    let mut rerun = RerunFailedRequest::new(&fixture.project);
    rerun.include_passed = true;
    rerun.env.insert("CARGO_TARGET_DIR".into(), fixture.cargo_target_dir().display().to_string());
    let again = fixture.restarted().rerun_failed(&rerun, &|_, _, _| {}).await.expect("rerun");
    let result = only(&again, RunnerKind::CargoTest);
    assert!(result.command.contains(&"--exact".to_string()));
    let names: BTreeSet<&str> = result.tests.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, BTreeSet::from(["integration_fails", "tests::fails_assert", "tests::panics"]));
    assert_eq!(result.counts.failed, 3);
    assert_eq!(result.counts.total, 3);
}

#[tokio::test]
async fn cargo_test_filter_narrows_the_run() {
    let fixture = Fixture::new("rust-project");
    let mut req = request(&fixture, &[RunnerKind::CargoTest]);
    req.filter = Some("adds".into());
    let report = fixture.testing.run(&req, &|_, _, _| {}).await.expect("report");
    let result = only(&report, RunnerKind::CargoTest);
    assert_eq!(result.status, RunStatus::Passed, "{result:#?}");
    assert_eq!(result.counts.total, 1);
    assert_eq!(result.counts.passed, 1);
    let filtered: u64 = result.suites.iter().map(|s| s.filtered_out).sum();
    assert_eq!(filtered, 7);

    // A filter that matches nothing runs no test: that is `no_tests`, never a pass.
    req.filter = Some("matches_nothing".into());
    let report = fixture.testing.run(&req, &|_, _, _| {}).await.expect("report");
    let result = only(&report, RunnerKind::CargoTest);
    assert_eq!(result.status, RunStatus::NoTests, "{result:#?}");
    assert_eq!(report.summary.status, RunStatus::NoTests);
    assert!(result.notes.iter().any(|n| n.contains("`matches_nothing`")), "{result:#?}");
}

#[tokio::test]
async fn nextest_counts_match_its_junit_and_summary() {
    let fixture = Fixture::new("rust-project");
    let req = request(&fixture, &[RunnerKind::CargoNextest]);
    let report = fixture.testing.run(&req, &|_, _, _| {}).await.expect("report");
    let result = only(&report, RunnerKind::CargoNextest);
    let installed = fixture.direct("cargo", &["nextest", "--version"]).await.exit_code == Some(0);
    if !installed {
        // Without cargo-nextest the runner says so plainly.
        assert_eq!(result.status, RunStatus::Error);
        let error = result.error.as_deref().unwrap_or_default();
        assert!(error.contains("cargo-nextest is not installed"), "{error}");
        return;
    }
    assert_eq!(result.status, RunStatus::Failed, "{result:#?}");
    assert_eq!(result.exit_code, Some(100));
    // Nextest runs no doctests: 5 lib tests (1 ignored) + 2 integration tests.
    assert_eq!(result.counts, Counts { total: 7, passed: 3, failed: 3, skipped: 1, ..Counts::default() });
    // Nextest's own summary line agrees.
    let summary =
        Regex::new(r"Summary \[[^\]]*\]\s+(\d+) tests? run: (\d+) passed, (\d+) failed, (\d+) skipped")
            .expect("regex")
            .captures(&result.output_tail)
            .expect("nextest summary line");
    let n = |i: usize| summary[i].parse::<u64>().expect("n");
    assert_eq!(n(1), result.counts.total - result.counts.skipped);
    assert_eq!((n(2), n(3), n(4)), (3, 3, 1));
    let skipped = result.tests.iter().find(|t| t.status == TestStatus::Skipped).expect("skipped test");
    assert_eq!(skipped.name, "tests::ignored");
    let failed = result.tests.iter().find(|t| t.name == "integration_fails").expect("integration_fails");
    assert_eq!(failed.suite.as_deref(), Some("pipette-fixture::integration"));
    assert_eq!(failed.message.as_deref(), Some("one plus one is not three"));
    assert_eq!(failed.line, Some(10));
    // Nothing was written into the project: the JUnit report went to a private directory.
    assert!(!fixture.project.join("target").exists());

    // A filter that matches nothing runs no test: that is `no_tests`, never a pass.
    let mut req = request(&fixture, &[RunnerKind::CargoNextest]);
    req.filter = Some("matches_nothing".into());
    let report = fixture.testing.run(&req, &|_, _, _| {}).await.expect("report");
    let result = only(&report, RunnerKind::CargoNextest);
    assert_eq!(result.status, RunStatus::NoTests, "{result:#?}");
}

#[tokio::test]
async fn clippy_diagnostics_match_cargos_own_json() {
    let fixture = Fixture::new("rust-project");
    let mut req = LintRequest::new(&fixture.project);
    req.tools = vec![LintTool::Clippy];
    req.env.insert("CARGO_TARGET_DIR".into(), fixture.cargo_target_dir().display().to_string());
    let report = fixture.testing.lint(&req, &|_, _, _| {}).await.expect("report");
    let result = only(&report, RunnerKind::Clippy);
    assert_eq!(result.status, RunStatus::Failed, "{result:#?}");
    assert_eq!(result.counts, Counts::default(), "diagnostics are not tests");
    let needless = result
        .diagnostics
        .iter()
        .find(|d| d.code.as_deref() == Some("clippy::needless_return"))
        .expect("needless_return");
    assert_eq!(needless.severity, Severity::Warning);
    assert_eq!(
        (needless.file.as_deref(), needless.line, needless.column),
        (Some("src/lib.rs"), Some(10), Some(5))
    );

    // Count cargo's own JSON messages independently: unique (code, file, line, column).
    let direct = fixture.direct("cargo", &["clippy", "--all-targets", "--message-format=json"]).await;
    let mut unique = BTreeSet::new();
    for line in direct.stdout.text.lines() {
        let Ok(v) = serde_json::from_str::<serde_json::Value>(line) else {
            continue;
        };
        if v["reason"] != "compiler-message" {
            continue;
        }
        let m = &v["message"];
        let Some(span) = m["spans"].as_array().and_then(|s| s.iter().find(|s| s["is_primary"] == true))
        else {
            continue;
        };
        unique.insert((
            m["code"]["code"].as_str().unwrap_or("").to_string(),
            span["file_name"].as_str().unwrap_or("").to_string(),
            span["line_start"].as_u64(),
            span["column_start"].as_u64(),
        ));
    }
    assert_eq!(result.diagnostic_counts.total, unique.len() as u64);
    assert_eq!(result.diagnostic_counts.warnings, unique.len() as u64);
}

#[tokio::test]
async fn a_crate_that_does_not_compile_is_an_error_with_the_compiler_message() {
    let fixture = Fixture::new("rust-project");
    std::fs::write(
        fixture.project.join("tests/broken.rs"),
        "#[test]\nfn broken() { let x: u32 = \"no\"; }\n",
    )
    .expect("write");
    let req = request(&fixture, &[RunnerKind::CargoTest]);
    let report = fixture.testing.run(&req, &|_, _, _| {}).await.expect("report");
    let result = only(&report, RunnerKind::CargoTest);
    assert_eq!(result.status, RunStatus::Error, "{result:#?}");
    let error = result.error.as_deref().expect("error");
    assert!(error.contains("did not compile"), "{error}");
    assert!(error.contains("E0308"), "{error}");
}
