//! The testing tools through the real `pipette-mcp` binary, on the Python fixture project.

use serde_json::json;

use crate::support::*;

fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let target = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), target).unwrap();
        }
    }
}

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
