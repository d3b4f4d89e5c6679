//! The Python fixture through pytest, unittest, mypy, ruff and flake8, checked against the tools'
//! own reports (pytest's own JUnit XML, unittest's summary, each linter's own count).

use std::collections::BTreeSet;

use core_testing::{
    Counts, CoverageOutcome, DetectRequest, LintRequest, LintTool, RerunFailedRequest, RunStatus, RunnerKind,
    RunnerSelection, Severity, TestRunReport, TestRunRequest, TestStatus,
};
use regex::Regex;

use crate::support::{Fixture, Recorder, gone, only};

fn request(fixture: &Fixture, runners: &[RunnerKind]) -> TestRunRequest {
    let mut request = TestRunRequest::new(&fixture.project);
    request.runners = RunnerSelection::List(runners.to_vec());
    request.include_passed = true;
    request
}

/// pytest's own JUnit XML, read here with regexes (independently of the crate's parser).
struct OwnJunit {
    tests: u64,
    failures: u64,
    errors: u64,
    skipped: u64,
    /// (classname, name) of every test case.
    cases: BTreeSet<(String, String)>,
}

fn own_junit(xml: &str) -> OwnJunit {
    let suite =
        Regex::new(r#"<testsuite [^>]*errors="(\d+)" failures="(\d+)" skipped="(\d+)" tests="(\d+)""#)
            .expect("regex")
            .captures(xml)
            .expect("testsuite element");
    let n = |i: usize| suite[i].parse::<u64>().expect("n");
    let cases = Regex::new(r#"<testcase classname="([^"]*)" name="([^"]*)""#)
        .expect("regex")
        .captures_iter(xml)
        .map(|c| (c[1].to_string(), c[2].to_string()))
        .collect();
    OwnJunit { errors: n(1), failures: n(2), skipped: n(3), tests: n(4), cases }
}

#[tokio::test]
async fn pytest_counts_match_pytests_own_junit_xml() {
    let fixture = Fixture::new("python-project");
    let recorder = Recorder::default();
    let report = fixture
        .testing
        .run(&request(&fixture, &[RunnerKind::Pytest]), &recorder.callback())
        .await
        .expect("report");
    let result = only(&report, RunnerKind::Pytest);
    assert_eq!(result.status, RunStatus::Failed, "{result:#?}");
    assert_eq!(result.exit_code, Some(1));

    // Run pytest directly, with its own JUnit report, and compare.
    let junit = fixture.dir.path().join("own-junit.xml");
    let junit_arg = format!("--junitxml={}", junit.display());
    fixture.direct("python3", &["-m", "pytest", "-q", &junit_arg]).await;
    let own = own_junit(&std::fs::read_to_string(&junit).expect("own junit"));
    let c = &result.counts;
    assert_eq!(c.total, own.tests);
    assert_eq!(c.failed, own.failures);
    assert_eq!(c.errors, own.errors);
    assert_eq!(c.skipped + c.xfailed, own.skipped);
    assert_eq!(c.passed + c.xpassed, own.tests - own.failures - own.errors - own.skipped);
    assert_eq!(result.tests.len() as u64, own.tests);
    let own_names: BTreeSet<&str> = own.cases.iter().map(|(_, name)| name.as_str()).collect();
    let our_names: BTreeSet<&str> = result.tests.iter().filter_map(|t| t.name.rsplit("::").next()).collect();
    assert_eq!(our_names, own_names);
    // The fixture's outcomes, as pytest's summary line puts them:
    // 4 failed, 5 passed, 2 skipped, 2 xfailed, 1 xpassed, 1 error.
    assert_eq!(*c, Counts { total: 15, passed: 5, failed: 4, skipped: 2, errors: 1, xfailed: 2, xpassed: 1 });
    let summary =
        Regex::new(r"(\d+) failed, (\d+) passed, (\d+) skipped, (\d+) xfailed, (\d+) xpassed, (\d+) error")
            .expect("regex")
            .captures(&result.output_tail)
            .expect("pytest summary line");
    assert_eq!(
        (1..=6).map(|i| summary[i].parse::<u64>().expect("n")).collect::<Vec<_>>(),
        [c.failed, c.passed, c.skipped, c.xfailed, c.xpassed, c.errors]
    );

    let get =
        |name: &str| result.tests.iter().find(|t| t.name == name).unwrap_or_else(|| panic!("no {name}"));
    let wrong = get("tests/test_calc.py::test_add_wrong");
    assert_eq!(wrong.status, TestStatus::Failed);
    assert_eq!(wrong.file.as_deref(), Some("tests/test_calc.py"));
    assert_eq!(wrong.line, Some(17), "the line of the failing assert");
    assert!(wrong.message.as_deref().is_some_and(|m| m.starts_with("assert 4 == 5")));
    assert!(wrong.duration_ms.is_some());
    assert_eq!(get("tests/test_calc.py::test_uses_broken_fixture").status, TestStatus::Error);
    assert_eq!(get("tests/test_calc.py::test_unexpectedly_passes").status, TestStatus::Xpass);
    assert_eq!(get("tests/test_calc.py::test_divide_by_zero").status, TestStatus::Xfail);
    let skipped = get("tests/test_calc.py::test_skipped");
    assert_eq!(skipped.status, TestStatus::Skipped);
    assert_eq!(skipped.message.as_deref(), Some("not ready"));
    assert_eq!(get("tests/test_calc.py::TestGroup::test_in_class").status, TestStatus::Passed);
    assert_eq!(get("tests/test_calc.py::test_add_param[2-3-5]").status, TestStatus::Passed);
    assert!(result.coverage.is_none(), "coverage was not asked for");

    // Progress ended at 15 of 15.
    let calls = recorder.calls();
    let last = calls.last().expect("progress");
    assert_eq!((last.0, last.1), (15, Some(15)), "{calls:?}");

    // Only what failed is rerun — also by a new service over the same state (a restart).
    let again = fixture
        .restarted()
        .rerun_failed(&RerunFailedRequest::new(&fixture.project), &|_, _, _| {})
        .await
        .expect("rerun");
    let rerun = only(&again, RunnerKind::Pytest);
    let rerun_names: BTreeSet<&str> = rerun.tests.iter().map(|t| t.name.as_str()).collect();
    let failed_before: BTreeSet<&str> = result
        .tests
        .iter()
        .filter(|t| matches!(t.status, TestStatus::Failed | TestStatus::Error))
        .map(|t| t.name.as_str())
        .collect();
    assert_eq!(rerun_names, failed_before);
    assert_eq!(rerun.counts.total, 5);
    for name in &failed_before {
        assert!(rerun.command.iter().any(|a| a == name), "{name} not in {:?}", rerun.command);
    }
}

#[tokio::test]
async fn pytest_coverage_comes_from_pytest_cov() {
    let fixture = Fixture::new("python-project");
    let mut req = request(&fixture, &[RunnerKind::Pytest]);
    req.coverage = true;
    let report = fixture.testing.run(&req, &|_, _, _| {}).await.expect("report");
    let result = only(&report, RunnerKind::Pytest);
    let Some(CoverageOutcome::Measured(coverage)) = &result.coverage else {
        panic!("coverage not measured: {:?}", result.coverage);
    };
    assert!(coverage.total_percent > 0.0 && coverage.total_percent <= 100.0);
    let calc = coverage.files.iter().find(|f| f.file == "calc/__init__.py").expect("calc/__init__.py");
    // `label` is never called: its return line is missing.
    assert!(calc.missing_lines.contains(&15), "{calc:?}");
    assert!(calc.percent < 100.0);
    assert_eq!(result.counts.total, 15, "coverage does not change the results");
}

/// A project virtualenv that sees every installed package except pytest-cov (and coverage).
async fn venv_without_pytest_cov(fixture: &Fixture) {
    let site = fixture
        .direct(
            "python3",
            &["-c", "import os, pytest; print(os.path.dirname(os.path.dirname(pytest.__file__)))"],
        )
        .await;
    let site = site.stdout.text.trim().to_string();
    let venv = fixture.project.join(".venv");
    let out = fixture.direct("python3", &["-m", "venv", "--without-pip", &venv.display().to_string()]).await;
    assert_eq!(out.exit_code, Some(0), "{out:?}");
    let purelib = fixture
        .direct(
            &venv.join("bin/python").display().to_string(),
            &["-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        )
        .await;
    let purelib = purelib.stdout.text.trim().to_string();
    let packages = fixture.dir.path().join("packages");
    std::fs::create_dir_all(&packages).expect("mkdir");
    for entry in std::fs::read_dir(&site).expect("site-packages") {
        let entry = entry.expect("entry");
        let name = entry.file_name().to_string_lossy().to_lowercase();
        if name.starts_with("pytest_cov") || name.starts_with("coverage") {
            continue;
        }
        std::os::unix::fs::symlink(entry.path(), packages.join(entry.file_name())).expect("symlink");
    }
    std::fs::write(
        std::path::Path::new(&purelib).join("pipette-test.pth"),
        format!("{}\n", packages.display()),
    )
    .expect("pth");
}

#[tokio::test]
async fn missing_pytest_cov_is_said_plainly_and_the_tests_still_run() {
    let fixture = Fixture::new("python-project");
    venv_without_pytest_cov(&fixture).await;
    let mut req = request(&fixture, &[RunnerKind::Pytest]);
    req.coverage = true;
    let report = fixture.testing.run(&req, &|_, _, _| {}).await.expect("report");
    let result = only(&report, RunnerKind::Pytest);
    assert!(
        result.command[0].ends_with(".venv/bin/python"),
        "the project's virtualenv is used: {:?}",
        result.command
    );
    let Some(CoverageOutcome::Unavailable { reason }) = &result.coverage else {
        panic!("expected unavailable coverage, got {:?}", result.coverage);
    };
    assert!(reason.contains("pytest-cov is not installed"), "{reason}");
    assert!(reason.contains("pip install pytest-cov"), "{reason}");
    assert!(!result.command.iter().any(|a| a.starts_with("--cov")));
    assert_eq!(result.counts.total, 15, "{result:#?}");
    assert_eq!(result.status, RunStatus::Failed);
}

#[tokio::test]
async fn unittest_counts_match_its_own_summary() {
    let fixture = Fixture::new("python-project");
    let report = fixture
        .testing
        .run(&request(&fixture, &[RunnerKind::Unittest]), &|_, _, _| {})
        .await
        .expect("report");
    let result = only(&report, RunnerKind::Unittest);
    assert_eq!(result.status, RunStatus::Failed, "{result:#?}");
    let ran: u64 =
        Regex::new(r"Ran (\d+) tests?").expect("regex").captures(&result.output_tail).expect("Ran line")[1]
            .parse()
            .expect("n");
    assert_eq!(result.counts.total, ran);
    let verdict =
        Regex::new(r"FAILED \(([^)]*)\)").expect("regex").captures(&result.output_tail).expect("verdict")[1]
            .to_string();
    let own = |key: &str| -> u64 {
        verdict
            .split(", ")
            .find_map(|kv| kv.strip_prefix(&format!("{key}=")))
            .map_or(0, |v| v.parse().expect("n"))
    };
    let c = &result.counts;
    assert_eq!(c.failed, own("failures"));
    assert_eq!(c.errors, own("errors"));
    assert_eq!(c.skipped, own("skipped"));
    assert_eq!(c.xfailed, own("expected failures"));
    assert_eq!(c.xpassed, own("unexpected successes"));
    assert_eq!(c.passed, ran - c.failed - c.errors - c.skipped - c.xfailed - c.xpassed);
    assert_eq!((c.total, c.passed), (6, 1));
    let error =
        result.tests.iter().find(|t| t.name == "tests.test_unit.TestCalc.test_error").expect("test_error");
    assert_eq!(error.status, TestStatus::Error);
    assert_eq!(error.message.as_deref(), Some("ValueError: boom from unittest"));
    assert_eq!(error.file.as_deref(), Some("tests/test_unit.py"));
    assert_eq!(error.line, Some(19));
}

fn count_line(text: &str, pattern: &str) -> u64 {
    Regex::new(pattern).expect("regex").captures(text).unwrap_or_else(|| panic!("`{pattern}` not in {text}"))
        [1]
    .parse()
    .expect("n")
}

#[tokio::test]
async fn linters_report_what_each_tool_reports_itself() {
    let fixture = Fixture::new("python-project");
    let mut req = LintRequest::new(&fixture.project);
    req.tools = vec![LintTool::Mypy, LintTool::Ruff, LintTool::Flake8];
    let report: TestRunReport = fixture.testing.lint(&req, &|_, _, _| {}).await.expect("report");
    assert_eq!(report.results.len(), 3);
    assert_eq!(report.summary.status, RunStatus::Failed);
    assert_eq!(report.summary.counts, Counts::default(), "no diagnostic counts as a test");

    let mypy = only(&report, RunnerKind::Mypy);
    assert_eq!(mypy.status, RunStatus::Failed, "{mypy:#?}");
    assert!(mypy.command.contains(&"json".to_string()), "{:?}", mypy.command);
    let own = fixture.direct("python3", &["-m", "mypy"]).await;
    let own_errors = count_line(&own.stdout.text, r"Found (\d+) errors? in");
    assert_eq!(mypy.diagnostic_counts.errors, own_errors);
    let codes: BTreeSet<_> = mypy.diagnostics.iter().filter_map(|d| d.code.as_deref()).collect();
    assert_eq!(codes, BTreeSet::from(["operator", "return-value"]));
    let ret =
        mypy.diagnostics.iter().find(|d| d.code.as_deref() == Some("return-value")).expect("return-value");
    assert_eq!(
        (ret.file.as_deref(), ret.line, ret.column, ret.severity),
        (Some("calc/__init__.py"), Some(15), Some(12), Severity::Error)
    );

    let ruff = only(&report, RunnerKind::Ruff);
    assert_eq!(ruff.status, RunStatus::Failed, "{ruff:#?}");
    let own = fixture.direct("ruff", &["check", "--no-cache", "--output-format", "concise"]).await;
    let own_count = count_line(&own.stdout.text, r"Found (\d+) errors?");
    assert_eq!(ruff.diagnostic_counts.total, own_count);
    let f401 = ruff.diagnostics.iter().find(|d| d.code.as_deref() == Some("F401")).expect("F401");
    assert_eq!(f401.file.as_deref(), Some("calc/__init__.py"), "made relative");
    assert_eq!((f401.line, f401.column), (Some(2), Some(8)));

    let flake8 = only(&report, RunnerKind::Flake8);
    assert_eq!(flake8.status, RunStatus::Failed, "{flake8:#?}");
    let own = fixture.direct("python3", &["-m", "flake8", "--count"]).await;
    let own_count: u64 =
        own.stdout.text.lines().last().and_then(|l| l.trim().parse().ok()).expect("flake8 --count");
    assert_eq!(flake8.diagnostic_counts.total, own_count);
    let codes: BTreeSet<_> = flake8.diagnostics.iter().filter_map(|d| d.code.as_deref()).collect();
    assert_eq!(codes, BTreeSet::from(["E302", "E711", "F401"]));

    // Rerun only the files with findings.
    let again = fixture
        .testing
        .rerun_failed(&RerunFailedRequest::new(&fixture.project), &|_, _, _| {})
        .await
        .expect("rerun");
    assert_eq!(again.results.len(), 3);
    for r in &again.results {
        assert_eq!(r.command.last().map(String::as_str), Some("calc/__init__.py"), "{:?}", r.command);
        assert_eq!(r.status, RunStatus::Failed);
    }
}

#[tokio::test]
async fn runners_run_in_parallel_and_fold_into_one_summary() {
    let fixture = Fixture::new("python-project");
    let runners = [RunnerKind::Pytest, RunnerKind::Ruff, RunnerKind::Flake8, RunnerKind::Mypy];
    let mut req = request(&fixture, &runners);
    req.include_passed = false;
    req.save = true;
    let report = fixture.testing.run(&req, &|_, _, _| {}).await.expect("report");
    let order: Vec<_> = report.results.iter().map(|r| r.runner).collect();
    assert_eq!(order, runners, "results keep the requested order");
    let mut counts = Counts::default();
    let mut diagnostics = 0;
    for r in &report.results {
        counts.merge(&r.counts);
        diagnostics += r.diagnostic_counts.total;
    }
    assert_eq!(report.summary.counts, counts);
    assert_eq!(report.summary.diagnostic_counts.total, diagnostics);
    assert_eq!(report.summary.status, RunStatus::Failed);
    let pytest = only(&report, RunnerKind::Pytest);
    assert!(pytest.tests.iter().all(|t| t.status != TestStatus::Passed), "passed tests not listed");
    assert_eq!(pytest.counts.passed, 5, "but counted");
    assert!(report.notes.iter().any(|n| n.contains("include_passed")));

    // Saved into the project.
    let json = std::fs::read(fixture.project.join(".pipette/test-results.json")).expect("json");
    let saved: TestRunReport = serde_json::from_slice(&json).expect("a report");
    assert_eq!(saved, report);
    let md = std::fs::read_to_string(fixture.project.join(".pipette/test-results.md")).expect("md");
    assert!(md.starts_with("# Test results: "), "{md}");
    assert!(md.contains("tests/test_calc.py::test_add_wrong"), "{md}");
    assert!(md.contains("[F401]"), "{md}");
}

#[tokio::test]
async fn a_timeout_kills_the_test_and_its_grandchild() {
    let fixture = Fixture::new("python-project");
    let pid_file = fixture.dir.path().join("grandchild.pid");
    let mut req = request(&fixture, &[RunnerKind::Pytest]);
    req.filter = Some("slow/test_sleepy.py".into());
    req.timeout_seconds = Some(5);
    req.env.insert("PIPETTE_FIXTURE_PID_FILE".into(), pid_file.display().to_string());
    let started = std::time::Instant::now();
    let report = fixture.testing.run(&req, &|_, _, _| {}).await.expect("report");
    assert!(started.elapsed() < std::time::Duration::from_secs(60));
    let result = only(&report, RunnerKind::Pytest);
    assert_eq!(result.status, RunStatus::Timeout, "{result:#?}");
    assert_eq!(report.summary.status, RunStatus::Timeout);
    assert!(result.error.as_deref().is_some_and(|e| e.contains("timed out after 5 s")));
    let pid: i32 = std::fs::read_to_string(&pid_file)
        .expect("the test wrote its grandchild's pid")
        .trim()
        .parse()
        .expect("pid");
    assert!(gone(pid).await, "the sleeping grandchild {pid} survived the timeout");
}

#[tokio::test]
async fn dropping_a_run_kills_the_test_and_its_grandchild() {
    let fixture = Fixture::new("python-project");
    let pid_file = fixture.dir.path().join("grandchild.pid");
    let mut req = request(&fixture, &[RunnerKind::Pytest]);
    req.filter = Some("slow/test_sleepy.py".into());
    req.env.insert("PIPETTE_FIXTURE_PID_FILE".into(), pid_file.display().to_string());
    let mut run = Box::pin(fixture.testing.run(&req, &|_, _, _| {}));
    // Wait until the grandchild exists, then cancel the way the tool layer does: drop the future.
    let mut pid = None;
    for _ in 0..200 {
        tokio::select! {
            report = &mut run => panic!("the sleeping test finished: {report:?}"),
            () = tokio::time::sleep(std::time::Duration::from_millis(50)) => {}
        }
        if let Some(p) = std::fs::read_to_string(&pid_file).ok().and_then(|t| t.trim().parse::<i32>().ok()) {
            pid = Some(p);
            break;
        }
    }
    let pid = pid.expect("the test wrote its grandchild's pid");
    drop(run);
    assert!(gone(pid).await, "the sleeping grandchild {pid} survived the cancellation");
}

#[tokio::test]
async fn detect_finds_the_tools_and_says_they_are_installed() {
    let fixture = Fixture::new("python-project");
    let detection =
        fixture.testing.detect(&DetectRequest { path: fixture.project.clone() }).await.expect("detect");
    assert_eq!(detection.test_runners, [RunnerKind::Pytest]);
    assert_eq!(detection.linters, [RunnerKind::Mypy, RunnerKind::Ruff, RunnerKind::Flake8]);
    assert!(detection.rust.is_none());
    let python = detection.python.as_ref().expect("python");
    assert_eq!(python.test_files, 3);
    for tool in &detection.tools {
        assert!(tool.available, "{tool:?}");
        assert!(tool.version.is_some(), "{tool:?}");
    }
    let pytest = detection.tools.iter().find(|t| t.runner == RunnerKind::Pytest).expect("pytest");
    assert!(pytest.note.as_deref().is_some_and(|n| n.contains("coverage available")));

    // `auto` runs what detection found.
    let report =
        fixture.testing.run(&TestRunRequest::new(&fixture.project), &|_, _, _| {}).await.expect("report");
    assert_eq!(report.results.len(), 1);
    assert_eq!(report.results[0].runner, RunnerKind::Pytest);
}

#[tokio::test]
async fn a_bare_assert_project_is_detected_as_pytest_and_its_failure_reported() {
    let fixture = Fixture::new("bare-pytest-project");
    let detection =
        fixture.testing.detect(&DetectRequest { path: fixture.project.clone() }).await.expect("detect");
    assert_eq!(detection.test_runners, [RunnerKind::Pytest], "{detection:#?}");
    assert!(detection.evidence.iter().any(|e| e.contains("test_arith.py") && e.contains("pytest style")));

    let report =
        fixture.testing.run(&TestRunRequest::new(&fixture.project), &|_, _, _| {}).await.expect("report");
    let result = only(&report, RunnerKind::Pytest);
    assert_eq!(result.status, RunStatus::Failed, "{result:#?}");
    assert_eq!(result.counts, Counts { total: 2, passed: 1, failed: 1, ..Counts::default() });
    assert_eq!(report.summary.status, RunStatus::Failed);
    assert!(core_testing::to_markdown(&report).contains("**FAILED**"));
}

#[tokio::test]
async fn zero_tests_executed_is_no_tests_for_pytest_and_unittest() {
    let fixture = Fixture::new("bare-pytest-project");
    let run = |runners: &[RunnerKind], filter: Option<&str>| {
        let mut req = request(&fixture, runners);
        req.filter = filter.map(str::to_string);
        let testing = fixture.testing.clone();
        async move { testing.run(&req, &|_, _, _| {}).await.expect("report") }
    };

    // Every test deselected by the filter.
    let report = run(&[RunnerKind::Pytest], Some("matches_nothing")).await;
    let pytest = only(&report, RunnerKind::Pytest);
    assert_eq!(pytest.status, RunStatus::NoTests, "{pytest:#?}");
    assert_eq!(report.summary.status, RunStatus::NoTests);
    assert!(
        pytest.notes.iter().any(|n| n.contains("none matched the filter `matches_nothing`")),
        "{pytest:#?}"
    );
    let md = core_testing::to_markdown(&report);
    assert!(md.contains("**NO TESTS**") && !md.contains("PASSED"), "{md}");

    // unittest does not run bare test functions, finds nothing, and says which runner does.
    let report = run(&[RunnerKind::Unittest], None).await;
    let unittest = only(&report, RunnerKind::Unittest);
    assert_eq!(unittest.status, RunStatus::NoTests, "{unittest:#?}");
    assert!(unittest.notes.iter().any(|n| n.contains("pytest runner")), "{unittest:#?}");
    let report = run(&[RunnerKind::Unittest], Some("matches_nothing")).await;
    assert_eq!(only(&report, RunnerKind::Unittest).status, RunStatus::NoTests);

    // A Python project without tests, runners named or detected.
    std::fs::remove_file(fixture.project.join("test_arith.py")).expect("rm");
    std::fs::write(fixture.project.join("calc.py"), "def add(a, b):\n    return a + b\n").expect("write");
    let report = run(&[RunnerKind::Pytest, RunnerKind::Unittest], None).await;
    assert_eq!(report.summary.status, RunStatus::NoTests, "{report:#?}");
    for r in &report.results {
        assert_eq!(r.status, RunStatus::NoTests, "{r:#?}");
        assert!(!r.notes.is_empty(), "{r:#?}");
    }
    let report =
        fixture.testing.run(&TestRunRequest::new(&fixture.project), &|_, _, _| {}).await.expect("report");
    assert!(report.results.is_empty());
    assert_eq!(report.summary.status, RunStatus::NoTests);
}

#[tokio::test]
async fn a_missing_pytest_is_an_error_that_says_how_to_install_it() {
    use std::os::unix::fs::PermissionsExt as _;
    let fixture = Fixture::new("bare-pytest-project");
    // The project's virtualenv: an interpreter that sees no site-packages, so no pytest.
    let bin = fixture.project.join(".venv/bin");
    std::fs::create_dir_all(&bin).expect("mkdir");
    std::fs::write(bin.join("python"), "#!/bin/sh\nexec python3 -S \"$@\"\n").expect("write");
    std::fs::set_permissions(bin.join("python"), std::fs::Permissions::from_mode(0o755)).expect("chmod");

    let report =
        fixture.testing.run(&TestRunRequest::new(&fixture.project), &|_, _, _| {}).await.expect("report");
    let pytest = only(&report, RunnerKind::Pytest);
    assert_eq!(pytest.status, RunStatus::Error, "{pytest:#?}");
    let error = pytest.error.as_deref().unwrap_or_default();
    assert!(error.contains("pytest is not installed") && error.contains("pip install pytest"), "{error}");
    assert_eq!(report.summary.status, RunStatus::Error);
}
