//! The `pipette` CLI as a person uses it: every domain command through the router on the recorded upstream,
//! the same structured result as `pipette call`, the tools' own markdown without `--json`, jobs that outlive
//! the CLI only when detached, and each thing a new user hit.

use std::process::Stdio;

use pipette_test_support::Reply;
use serde_json::{Value, json};

use crate::research::Lab;
use crate::support::{bin, command};

/// What a `pipette` run left: success, stdout, stderr.
struct Out {
    ok: bool,
    stdout: String,
    stderr: String,
}

impl Out {
    /// The stdout as JSON (a `--json` run).
    fn json(&self) -> Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.stdout))
    }

    /// A successful run's stdout, which is text (markdown), never JSON.
    fn text(&self) -> &str {
        assert!(self.ok, "failed: {}", self.stderr);
        let start = self.stdout.trim_start();
        assert!(!start.starts_with('{') && !start.starts_with('['), "JSON without --json: {}", self.stdout);
        &self.stdout
    }
}

/// Runs `pipette` in the lab's data dir, pointed at its local upstream, stdin not a terminal.
async fn pipette(lab: &Lab, args: &[&str]) -> Out {
    let mut cmd = command("pipette", lab.dir.path());
    for (k, v) in lab.env() {
        cmd.env(k, v);
    }
    let out =
        cmd.env("PIPETTE_LOG", "warn").args(args).stdin(Stdio::null()).output().await.expect("run pipette");
    Out {
        ok: out.status.success(),
        stdout: String::from_utf8_lossy(&out.stdout).into(),
        stderr: String::from_utf8_lossy(&out.stderr).into(),
    }
}

fn route_uniprot(lab: &Lab) {
    let s = &lab.server;
    s.route("GET", "/uniprot/uniprotkb/P15056.json", Reply::fixture("uniprot/get_P15056_BRAF_20260812.json"));
    s.route(
        "GET",
        "/uniprot/uniprotkb/search",
        Reply::fixture("uniprot/search_BRAF_human_reviewed_20260812.json"),
    );
}

#[tokio::test]
async fn pubmed_and_molecules_print_the_tools_markdown_and_feed_an_index() {
    let lab = Lab::start().await;
    lab.route_pubmed();
    route_uniprot(&lab);

    // pubmed fetch: the tool's markdown; --json: the structured result, without the markdown.
    let text = pipette(&lab, &["pubmed", "fetch", "22663011"]).await;
    assert!(
        text.text().contains("Improved survival with MEK inhibition in BRAF-mutated melanoma."),
        "{}",
        text.stdout
    );
    let fetched = pipette(&lab, &["--json", "pubmed", "fetch", "22663011"]).await;
    let value = fetched.json();
    assert_eq!(value["articles"][0]["pmid"], "22663011");
    assert!(value.get("markdown").is_none());

    // What `pubmed fetch --json` printed goes into a built-in index, and is found there.
    assert!(pipette(&lab, &["index", "create", "papers", "--builtin", "pubmed"]).await.ok);
    let file = lab.dir.path().join("fetched.json");
    std::fs::write(&file, &fetched.stdout).unwrap();
    let added =
        pipette(&lab, &["--json", "index", "add", "papers", "--docs", &format!("@{}", file.display())]).await;
    assert!(added.ok, "{}", added.stderr);
    assert_eq!((added.json()["added"].as_u64(), added.json()["rejected"].as_u64()), (Some(1), Some(0)));
    let found = pipette(&lab, &["index", "search", "papers", "title:melanoma"]).await;
    assert!(found.text().contains("22663011") && !found.stdout.contains("1 hits"), "{}", found.stdout);
    let found = pipette(&lab, &["--json", "index", "search", "papers", "title:melanoma"]).await;
    assert_eq!(found.json()["total_hits"], 1);

    // --index on the domain command, like the tools' `index` argument.
    let kept = pipette(&lab, &["pubmed", "fetch", "22663011", "--index", "lit"]).await;
    assert!(kept.text().contains("Indexed into `lit`: 1 added"), "{}", kept.stdout);
    let found = pipette(&lab, &["--json", "index", "search", "lit", "title:melanoma"]).await;
    assert_eq!(found.json()["total_hits"], 1, "{}", found.stdout);
    let searched = pipette(&lab, &["pubmed", "search", "APC p.E1317Q", "-n", "5", "--index", "lit"]).await;
    assert!(searched.text().contains("Indexed into `lit`"), "{}", searched.stdout);

    // molecules, on the recorded UniProt answers.
    let protein = pipette(&lab, &["molecules", "protein", "P15056"]).await;
    assert!(protein.text().contains("B-raf"), "{}", protein.stdout);
    let found = pipette(&lab, &["--json", "molecules", "discover", "BRAF", "--kind", "proteins"]).await;
    assert_eq!(found.json()["proteins"][0]["ids"]["uniprot"], "P15056", "{}", found.stdout);

    // Bad input is refused by the router's one validation, naming the argument.
    let bad = pipette(&lab, &["pubmed", "search", "braf", "--from", "2020-13"]).await;
    assert!(!bad.ok && bad.stderr.contains("`date_from`"), "{}", bad.stderr);
    assert!(!bad.stderr.contains("error: error"), "{}", bad.stderr);
}

#[tokio::test]
async fn trials_commands_are_the_tools_calls() {
    let lab = Lab::start().await;
    lab.route_trials();

    // The domain command and `pipette call` give the same structured result.
    let command = pipette(&lab, &["--json", "trials", "match", "EGFR", "L858R"]).await;
    let call = pipette(&lab, &["--json", "call", "trials_match", r#"{"mutation":"EGFR L858R"}"#]).await;
    assert!(command.ok && call.ok, "{}{}", command.stderr, call.stderr);
    assert_eq!(command.json(), call.json());
    assert!(command.json()["matches"].is_array());

    // async_mode in a CLI call waits for the result: no job left behind to die with the CLI.
    let waited = pipette(
        &lab,
        &["call", "trials_match", r#"{"mutation":"EGFR L858R","status":[],"async_mode":true}"#],
    )
    .await;
    assert!(waited.text().contains("NCT06604689"), "{}", waited.stdout);
    let jobs = pipette(&lab, &["--json", "jobs", "list"]).await;
    assert_eq!(jobs.json()["jobs"], json!([]), "{}", jobs.stdout);

    // --index keeps the matched trials; the index finds them.
    let matched = pipette(&lab, &["trials", "match", "EGFR", "L858R", "--any-status", "--index", "tr"]).await;
    assert!(matched.text().contains("NCT06604689"), "{}", matched.stdout);
    let found = pipette(&lab, &["index", "search", "tr", "nct_id:NCT06604689"]).await;
    assert!(found.text().contains("NCT06604689"), "{}", found.stdout);

    let got = pipette(&lab, &["trials", "get", "NCT06604689", "--section", "eligibility"]).await;
    assert!(got.text().contains("NCT06604689") && got.stdout.contains("L858R"), "{}", got.stdout);
    let search =
        pipette(&lab, &["--json", "trials", "search", "-c", "melanoma", "--status", "RECRUITING", "-n", "3"])
            .await;
    assert!(search.ok, "{}", search.stderr);
    assert_eq!(search.json()["trials"].as_array().map(Vec::len), Some(3), "{}", search.stdout);
    let batch =
        pipette(&lab, &["--json", "trials", "match-batch", "EGFR L858R", "L858R", "--any-status"]).await;
    assert_eq!(batch.json()["results"].as_array().map(Vec::len), Some(2), "{}", batch.stdout);
}

#[tokio::test]
async fn a_detached_call_waits_for_a_worker_that_outlives_the_cli() {
    let lab = Lab::start().await;
    lab.route_trials();
    let queued =
        pipette(&lab, &["--json", "--detach", "trials", "match", "EGFR", "L858R", "--any-status"]).await;
    assert!(queued.ok, "{}", queued.stderr);
    let job_id = queued.json()["job_id"].as_str().unwrap().to_owned();
    let status = pipette(&lab, &["--json", "jobs", "status", &job_id]).await;
    assert_eq!(
        status.json()["status"],
        "queued",
        "not interrupted once the CLI has exited: {}",
        status.stdout
    );
    let text = pipette(&lab, &["jobs", "status", &job_id]).await;
    assert!(text.text().contains(&job_id), "{}", text.stdout);

    let mut worker = command("pipette", lab.dir.path());
    for (k, v) in lab.env() {
        worker.env(k, v);
    }
    let _worker = worker
        .arg("worker")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let done = loop {
        let status = pipette(&lab, &["--json", "jobs", "status", &job_id]).await.json();
        if status["status"] == "completed" || std::time::Instant::now() > deadline {
            break status;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    };
    assert_eq!(done["status"], "completed", "{done}");
    assert!(done["result"]["matches"].to_string().contains("NCT06604689"), "{done}");
}

#[tokio::test]
async fn what_a_new_user_hit() {
    let lab = Lab::start().await;

    // Errors name CLI commands, not MCP tools.
    let missing = pipette(&lab, &["index", "search", "nope", "x"]).await;
    assert!(!missing.ok && missing.stderr.contains("(pipette index create)"), "{}", missing.stderr);
    assert!(!missing.stderr.contains("index_create"), "{}", missing.stderr);

    // A command whose every document was rejected fails.
    assert!(pipette(&lab, &["index", "create", "papers", "--builtin", "pubmed"]).await.ok);
    let rejected = pipette(&lab, &["index", "add", "papers", "--docs", r#"[{"title": "no pmid"}]"#]).await;
    assert!(!rejected.ok && rejected.stderr.contains("all 1 were rejected"), "{}", rejected.stderr);
    assert!(!rejected.stderr.contains("error: error"), "{}", rejected.stderr);

    // No JSON without --json: index config, jobs status, call.
    assert!(pipette(&lab, &["index", "config", "papers"]).await.text().contains("commit_batch_size"));
    assert!(pipette(&lab, &["call", "health"]).await.text().contains("status"));
    let ticket = pipette(&lab, &["--json", "--detach", "call", "health"]).await.json();
    let status = pipette(&lab, &["jobs", "status", ticket["job_id"].as_str().unwrap()]).await;
    assert!(status.text().contains("queued"), "{}", status.stdout);

    // index drop asks; without a terminal it refuses unless --yes.
    let refused = pipette(&lab, &["index", "drop", "papers"]).await;
    assert!(!refused.ok && refused.stderr.contains("--yes"), "{}", refused.stderr);
    assert!(pipette(&lab, &["index", "status", "papers"]).await.ok, "the index is still there");
    assert!(pipette(&lab, &["index", "drop", "papers", "--yes"]).await.ok);
    assert!(!pipette(&lab, &["index", "status", "papers"]).await.ok);

    // PIPETTE_DATA_DIR is set: the usage does not show --data-dir as if it were required.
    let usage = pipette(&lab, &["index", "search"]).await;
    assert!(
        !usage.ok && usage.stderr.contains("Usage: pipette index search <ID> <QUERY>"),
        "{}",
        usage.stderr
    );
    assert!(!usage.stderr.contains("--data-dir"), "{}", usage.stderr);

    // `pipette tools`: aligned columns, whole descriptions (the first sentence, never cut in a word).
    let table = pipette(&lab, &["tools"]).await;
    let lines: Vec<&str> = table.text().lines().collect();
    let at = lines[0].find("DESCRIPTION").unwrap();
    let rows = pipette(&lab, &["--json", "tools"]).await.json();
    for (line, row) in lines[1..].iter().zip(rows.as_array().unwrap()) {
        assert_eq!(line.split_whitespace().next(), row["name"].as_str());
        assert_eq!(&line[at..], row["description"].as_str().unwrap(), "{line}");
        assert!(line[..at].ends_with("  "), "{line}");
    }
    assert!(lines.iter().any(|l| l.starts_with("job_status ") && l.contains("jobs") && l.contains("Async")));
}

/// A `pipette` run without an upstream: (exit success, stdout, stderr).
fn run(dir: &std::path::Path, args: &[&str]) -> (bool, String, String) {
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
fn call_and_jobs() {
    let dir = tempfile::tempdir().unwrap();
    let (ok, json, _) = run(dir.path(), &["--json", "tools"]);
    assert!(ok);
    let rows: Value = serde_json::from_str(&json).unwrap();
    assert!(
        rows.as_array()
            .unwrap()
            .iter()
            .all(|r| r["name"].as_str().is_some_and(|n| !n.starts_with("fixture")))
    );

    let (ok, health, _) = run(dir.path(), &["--json", "call", "health", "{}"]);
    assert!(ok);
    let health: Value = serde_json::from_str(&health).unwrap();
    assert_eq!(health["status"], "ok");

    let (ok, _, err) = run(dir.path(), &["call", "job_status", "{\"job_id\": 3}"]);
    assert!(!ok);
    assert!(err.contains("`job_id`"), "{err}");
    let (ok, _, err) = run(dir.path(), &["call", "health", "{not json"]);
    assert!(!ok && err.contains("not valid JSON"), "{err}");

    let (ok, list, _) = run(dir.path(), &["jobs", "list"]);
    assert!(ok && list.contains("No jobs"), "{list}");
    let (ok, _, err) = run(dir.path(), &["jobs", "status", "job-missing"]);
    assert!(!ok && err.contains("no job `job-missing`") && err.contains("pipette jobs list"), "{err}");
}

/// `pipette test run DIR --allow-root ROOT`: (exit success, stdout, stderr).
fn test_run(root: &std::path::Path, args: &[&str]) -> (bool, String, String) {
    let root_arg = root.display().to_string();
    let mut all = vec!["test", "run", "--allow-root", root_arg.as_str()];
    all.extend_from_slice(args);
    run(root, &all)
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

    let (ok, out, err) = test_run(dir.path(), &[&project]);
    assert!(!ok, "a failing test fails the command: {out}");
    assert!(out.contains("pytest") && out.contains("FAILED"), "{out}");
    assert_eq!(err.trim(), "failed: pytest failed; 2 tests (1 passed, 1 failed)", "said once");
    assert!(out.contains("1 passed test is counted"), "{out}");

    let (ok, out, _) = test_run(dir.path(), &["-k", "test_add_wrong", &project]);
    assert!(!ok && out.contains("1 test (0 passed, 1 failed)") && !out.contains("1 tests"), "{out}");

    let (ok, out, _) = test_run(dir.path(), &["-k", "matches_nothing", &project]);
    assert!(!ok, "no test executed is not a pass: {out}");

    // A runner that errors (a broken pytest.ini) says so once: not `error: error: pytest error`.
    let broken = dir.path().join("broken");
    std::fs::create_dir_all(&broken).unwrap();
    std::fs::write(broken.join("pytest.ini"), "[pytest\n").unwrap();
    std::fs::write(broken.join("test_x.py"), "def test_x():\n    pass\n").unwrap();
    let (ok, _, err) = test_run(dir.path(), &["--runners", "pytest", &broken.display().to_string()]);
    assert!(!ok);
    assert_eq!(err.trim(), "error: pytest error");

    let empty = dir.path().join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    let (ok, out, _) = test_run(dir.path(), &[&empty.display().to_string()]);
    assert!(!ok, "nothing to run is not a pass: {out}");
    assert!(out.to_lowercase().contains("no tests"), "{out}");
}
