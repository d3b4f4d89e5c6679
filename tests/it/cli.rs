//! The `pipette` CLI: the tool table, a call through the router, and the job commands.

use crate::support::bin;

fn pipette(dir: &std::path::Path, args: &[&str]) -> (bool, String, String) {
    #[allow(clippy::disallowed_methods)] // the test runs the real binary
    let out = std::process::Command::new(bin("pipette"))
        .args(args)
        .env("PIPETTE_DATA_DIR", dir)
        .env_remove("REDIS_URL")
        .output()
        .expect("run pipette");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

#[test]
fn tools_call_and_jobs() {
    let dir = tempfile::tempdir().unwrap();
    let (ok, table, _) = pipette(dir.path(), &["tools"]);
    assert!(ok);
    let header = table.lines().next().unwrap();
    assert!(header.starts_with("NAME") && header.contains("CATEGORY") && header.contains("RUNTIME"));
    assert!(table.lines().any(|l| l.starts_with("job_status ") && l.contains("jobs") && l.contains("Async")));

    let (ok, json, _) = pipette(dir.path(), &["--json", "tools"]);
    assert!(ok);
    let rows: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert!(
        rows.as_array()
            .unwrap()
            .iter()
            .all(|r| r["name"].as_str().is_some_and(|n| !n.starts_with("fixture")))
    );

    let (ok, health, _) = pipette(dir.path(), &["--json", "call", "health", "{}"]);
    assert!(ok);
    let health: serde_json::Value = serde_json::from_str(&health).unwrap();
    assert_eq!(health["status"], "ok");

    let (ok, _, err) = pipette(dir.path(), &["call", "job_status", "{\"job_id\": 3}"]);
    assert!(!ok);
    assert!(err.contains("`job_id`"), "{err}");
    let (ok, _, err) = pipette(dir.path(), &["call", "health", "{not json"]);
    assert!(!ok && err.contains("not valid JSON"), "{err}");

    let (ok, list, _) = pipette(dir.path(), &["jobs", "list"]);
    assert!(ok && list.starts_with("JOB"), "{list}");
    let (ok, _, err) = pipette(dir.path(), &["jobs", "status", "job-missing"]);
    assert!(!ok && err.contains("no job `job-missing`"), "{err}");
}

/// `pipette test run DIR --allow-root ROOT`: (exit success, stdout).
fn test_run(root: &std::path::Path, args: &[&str]) -> (bool, String) {
    let root_arg = root.display().to_string();
    let mut all = vec!["test", "run", "--allow-root", root_arg.as_str()];
    all.extend_from_slice(args);
    let (ok, out, _) = pipette(root, &all);
    (ok, out)
}

#[test]
fn test_run_fails_on_failures_and_on_zero_tests() {
    let dir = tempfile::tempdir().unwrap();
    let project = dir.path().join("bare");
    std::fs::create_dir_all(&project).unwrap();
    let fixture = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../crates/core-testing/fixtures/bare-pytest-project/test_arith.py");
    std::fs::copy(fixture, project.join("test_arith.py")).unwrap();
    let project = project.display().to_string();

    let (ok, out) = test_run(dir.path(), &[&project]);
    assert!(!ok, "a failing test fails the command: {out}");
    assert!(out.contains("pytest") && out.contains("FAILED"), "{out}");

    let (ok, out) = test_run(dir.path(), &["-k", "matches_nothing", &project]);
    assert!(!ok, "no test executed is not a pass: {out}");
    assert!(out.contains("NO TESTS"), "{out}");

    let empty = dir.path().join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    let (ok, out) = test_run(dir.path(), &[&empty.display().to_string()]);
    assert!(!ok, "nothing to run is not a pass: {out}");
    assert!(out.contains("no tests"), "{out}");
}
