//! The testing tools through the real `pipette-mcp` binary, on the Python fixture project.

use serde_json::json;

use crate::support::*;

/// (tests, failures, errors, skipped) from pytest's own JUnit XML, run directly in a second copy.
fn pytest_own_counts(project: &std::path::Path) -> (u64, u64, u64, u64) {
    let xml = project.join("own.xml");
    #[allow(clippy::disallowed_methods)] // the reference run of pytest itself
    let _ = std::process::Command::new("python3")
        .args(["-m", "pytest", "-q", "-p", "no:cacheprovider"])
        .arg(format!("--junitxml={}", xml.display()))
        .current_dir(project)
        .output()
        .expect("pytest is installed (.ci/run installs it)");
    let text = std::fs::read_to_string(&xml).unwrap();
    let suite = text.split("<testsuite ").nth(1).unwrap();
    let attr = |name: &str| -> u64 {
        let start = suite.find(&format!(" {name}=\"")).unwrap() + name.len() + 3;
        suite[start..].split('"').next().unwrap().parse().unwrap()
    };
    (attr("tests"), attr("failures"), attr("errors"), attr("skipped"))
}

#[tokio::test]
async fn detect_run_rerun_and_lint_the_python_fixture() {
    let dir = tempfile::tempdir().unwrap();
    let fixture = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../crates/core-testing/fixtures/python-project");
    let project = dir.path().join("project");
    copy_dir(&fixture, &project);
    let reference = dir.path().join("reference");
    copy_dir(&fixture, &reference);
    let (tests, failures, errors, skipped) = pytest_own_counts(&reference);

    let mut cmd = command("pipette-mcp", dir.path());
    cmd.env("PIPETTE_ALLOWED_ROOTS", dir.path());
    let (conn, _, _) = stdio_pid(cmd).await;

    let detected = call_ok(&conn, "test_detect", json!({"path": project})).await;
    assert!(detected.to_string().contains("pytest"), "{detected}");

    let run = call_ok(&conn, "test_run", json!({"path": project, "runners": ["pytest"]})).await;
    let pytest = &run["results"][0];
    assert_eq!(pytest["runner"], "pytest");
    assert_eq!(pytest["status"], "failed");
    let c = &pytest["counts"];
    assert_eq!(c["total"], tests, "{c}");
    assert_eq!(c["failed"], failures, "{c}");
    assert_eq!(c["errors"], errors, "{c}");
    assert_eq!(
        c["skipped"].as_u64().unwrap() + c["xfailed"].as_u64().unwrap_or(0),
        skipped,
        "JUnit counts xfail as skipped: {c}"
    );
    assert!(run["summary_markdown"].as_str().unwrap().contains("pytest"));

    let rerun = call_ok(&conn, "test_rerun_failed", json!({"path": project})).await;
    let c = &rerun["results"][0]["counts"];
    assert_eq!(c["total"].as_u64().unwrap(), failures + errors, "only what failed runs again: {c}");

    let lint = call_ok(&conn, "lint_run", json!({"path": project, "tools": ["ruff"]})).await;
    assert!(!lint["results"][0]["diagnostics"].as_array().unwrap().is_empty(), "{lint}");

    let outside = call(&conn, "test_run", json!({"path": "/etc"})).await;
    assert_eq!(outside.is_error, Some(true));
    assert!(text(&outside).contains("`path`"), "{}", text(&outside));
    conn.cancel().await.unwrap();
}

/// A copy of the bare-assert pytest fixture (one passing, one failing test; no config, no `import pytest`).
fn bare_project(dest: &std::path::Path) {
    let fixture = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../crates/core-testing/fixtures/bare-pytest-project");
    copy_dir(&fixture, dest);
}

#[tokio::test]
async fn a_failing_bare_assert_project_is_never_reported_as_passed() {
    let dir = tempfile::tempdir().unwrap();
    let project = dir.path().join("bare");
    bare_project(&project);
    let empty = dir.path().join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    std::fs::write(empty.join("calc.py"), "def add(a, b):\n    return a + b\n").unwrap();

    let mut cmd = command("pipette-mcp", dir.path());
    cmd.env("PIPETTE_ALLOWED_ROOTS", dir.path());
    let (conn, _, _) = stdio_pid(cmd).await;

    // Without runners: pytest is detected and its failure reported.
    let run = call_ok(&conn, "test_run", json!({"path": project})).await;
    assert_eq!(run["results"][0]["runner"], "pytest", "{run}");
    assert_eq!(run["results"][0]["status"], "failed", "{run}");
    assert_eq!(run["summary"]["status"], "failed");
    assert_eq!(run["summary"]["counts"]["failed"], 1);
    let md = run["summary_markdown"].as_str().unwrap();
    assert!(md.contains("**FAILED**") && !md.contains("PASSED"), "{md}");

    // One runner named as a string.
    let run = call_ok(&conn, "test_run", json!({"path": project, "runners": "pytest"})).await;
    assert_eq!(run["results"][0]["runner"], "pytest", "{run}");
    assert_eq!(run["results"].as_array().unwrap().len(), 1);
    let bad = call(&conn, "test_run", json!({"path": project, "runners": "jest"})).await;
    assert_eq!(bad.is_error, Some(true));
    let message = text(&bad);
    assert!(message.contains("`runners`") || message.contains("runners"), "{message}");
    assert!(message.contains("unknown runner `jest`") && !message.contains("untagged"), "{message}");

    // Every test deselected, or none there: `no_tests`, said in a plain word.
    let run = call_ok(
        &conn,
        "test_run",
        json!({"path": project, "runners": "pytest", "filter": "matches_nothing"}),
    )
    .await;
    assert_eq!(run["results"][0]["status"], "no_tests", "{run}");
    assert_eq!(run["summary"]["status"], "no_tests");
    assert!(run["summary_markdown"].as_str().unwrap().contains("**NO TESTS**"), "{run}");
    let run = call_ok(&conn, "test_run", json!({"path": empty})).await;
    assert_eq!(run["summary"]["status"], "no_tests", "{run}");
    let run = call_ok(&conn, "test_run", json!({"path": empty, "runners": ["pytest", "unittest"]})).await;
    assert_eq!(run["summary"]["status"], "no_tests", "{run}");
    for r in run["results"].as_array().unwrap() {
        assert_eq!(r["status"], "no_tests", "{r}");
    }
    conn.cancel().await.unwrap();
}
