//! Security regressions through the real binary (issue 18): jobs belong to their principal, secrets given
//! in arguments are never stored or echoed, and files outside the allowed roots stay out of reach —
//! whether or not they exist.

#![allow(clippy::disallowed_methods)]
// tests start the real binaries
// Roots and resources/subscribe are 2025-11-25 features (deprecated for 2026-07-28 peers), still served.
#![allow(deprecated)]

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::support::{Conn, call, call_ok, command, copy_dir, http_client, http_server_in, stdio_pid, text};

const SECRET: &str = "sk-live-A-SECRET-7f3a";

/// A copy of the Python fixture project at `dest`.
fn python_project(dest: &Path) {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("../crates/core-testing/fixtures/python-project");
    copy_dir(&src, dest);
}

/// `pipette-mcp-test --http` started from `cwd`, its stderr kept in `data_dir/server.log`.
struct Server {
    url: String,
    base: String,
    log: PathBuf,
    _http: crate::support::HttpServer,
}

async fn server(data_dir: &Path, cwd: &Path, env: &[(&str, &str)]) -> Server {
    let log = data_dir.join("server.log");
    let http = http_server_in("pipette-mcp-test", data_dir, env, Some(cwd), Some(&log)).await;
    Server { url: http.url.clone(), base: http.base.clone(), log, _http: http }
}

/// The error kind of a failed call.
async fn error_kind(conn: &Conn, tool: &str, args: Value) -> (String, String) {
    let r = call(conn, tool, args).await;
    assert_eq!(r.is_error, Some(true), "{tool} should fail: {:?}", r.content);
    let meta = r.meta.as_ref().and_then(|m| m.get("pipette/error")).cloned().unwrap_or_default();
    (meta["kind"].as_str().unwrap_or_default().to_owned(), text(&r))
}

async fn wait_done(conn: &Conn, job_id: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let s = call_ok(conn, "job_status", json!({ "job_id": job_id })).await;
        if s["status"] != "running" {
            return s;
        }
        assert!(Instant::now() < deadline, "job {job_id} still running: {s}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn sessions_see_only_their_own_jobs_and_secrets_are_never_stored() {
    let dir = tempfile::tempdir().unwrap();
    // The default allowed root: the data directory's `files` folder.
    let project = dir.path().join("files/project");
    python_project(&project);
    let srv = server(dir.path(), dir.path(), &[]).await;
    let (a, _) = http_client(&srv.url, None).await;
    let (b, _) = http_client(&srv.url, None).await;

    // Session A: a test run with a secret in its environment, and a slow job that is still running.
    let args = json!({"path": project, "runners": ["pytest"], "env": {"OPENAI_API_KEY": SECRET},
        "async_mode": true});
    let ticket = call_ok(&a, "test_run", args).await;
    let secret_job = ticket["job_id"].as_str().unwrap().to_owned();
    let slow = call_ok(&a, "fixture_slow", json!({"ms": 8000, "text": "slow", "async_mode": true})).await;
    let slow_job = slow["job_id"].as_str().unwrap().to_owned();
    let done = wait_done(&a, &secret_job).await;
    assert!(done["owner"].as_str().unwrap_or_default().starts_with("session-"), "{done}");
    assert_eq!(done["arguments"]["env"]["OPENAI_API_KEY"], "[redacted]", "{done}");

    // A sees its jobs; nothing A can read carries the secret.
    let listed = call_ok(&a, "job_list", json!({})).await;
    let ids: Vec<&str> =
        listed["jobs"].as_array().unwrap().iter().filter_map(|j| j["job_id"].as_str()).collect();
    assert!(ids.contains(&secret_job.as_str()) && ids.contains(&slow_job.as_str()), "{listed}");
    let resource =
        a.read_resource(rmcp::model::ReadResourceRequestParams::new(format!("job://{secret_job}"))).await;
    let resource = serde_json::to_string(&resource.expect("A reads its own job")).unwrap();
    for seen in [listed.to_string(), done.to_string(), resource] {
        assert!(!seen.contains(SECRET), "the secret leaked: {seen}");
    }

    // B sees none of them, and cannot read, cancel or prune them.
    let listed = call_ok(&b, "job_list", json!({})).await;
    assert_eq!(listed["jobs"].as_array().unwrap().len(), 0, "{listed}");
    for id in [&secret_job, &slow_job] {
        let (kind, msg) = error_kind(&b, "job_status", json!({ "job_id": id })).await;
        assert_eq!(kind, "not_found", "{msg}");
        let (kind, msg) = error_kind(&b, "job_cancel", json!({ "job_id": id })).await;
        assert_eq!(kind, "not_found", "{msg}");
    }
    let err =
        b.read_resource(rmcp::model::ReadResourceRequestParams::new(format!("job://{secret_job}"))).await;
    assert!(err.is_err(), "B read A's job resource: {err:?}");
    let err = b.subscribe(rmcp::model::SubscribeRequestParams::new(format!("job://{slow_job}"))).await;
    assert!(err.is_err(), "B subscribed to A's job: {err:?}");
    let pruned =
        call_ok(&b, "job_prune", json!({"statuses": ["completed", "failed", "running"], "confirm": true}))
            .await;
    assert_eq!(pruned["removed"], 0, "{pruned}");
    let still = call_ok(&a, "job_status", json!({ "job_id": slow_job })).await;
    assert_eq!(still["status"], "running", "B's prune touched A's running job: {still}");
    let still = call_ok(&a, "job_status", json!({ "job_id": secret_job })).await;
    assert_eq!(still["job_id"], secret_job.as_str());

    // A prunes its own.
    let pruned = call_ok(&a, "job_prune", json!({"confirm": true})).await;
    assert!(pruned["job_ids"].as_array().unwrap().iter().any(|j| j == secret_job.as_str()), "{pruned}");

    // Neither /metrics nor the server's log carries the secret.
    let metrics = reqwest::get(format!("{}/metrics", srv.base)).await.unwrap().text().await.unwrap();
    assert!(metrics.contains("pipette_tool_calls_total"), "{metrics}");
    assert!(!metrics.contains(SECRET));
    let log = std::fs::read_to_string(&srv.log).unwrap();
    assert!(!log.is_empty(), "the server logged nothing at all");
    assert!(!log.contains(SECRET), "the secret is in the log");
}

#[tokio::test]
async fn a_server_started_from_root_reads_no_file_outside_its_roots_and_reveals_none_exists() {
    let dir = tempfile::tempdir().unwrap();
    let srv = server(dir.path(), Path::new("/"), &[]).await;
    let (conn, _) = http_client(&srv.url, None).await;
    call_ok(&conn, "index_create", json!({"id": "x", "schema": {"builtin": "pubmed"}})).await;

    // A file that exists and one that does not: the same refusal, naming the parameter and the fix.
    let (kind_a, msg_a) =
        error_kind(&conn, "index_add", json!({"id": "x", "jsonl_path": "/etc/passwd"})).await;
    let (kind_b, msg_b) =
        error_kind(&conn, "index_add", json!({"id": "x", "jsonl_path": "/etc/no_such_zz.jsonl"})).await;
    assert_eq!(
        (kind_a.as_str(), kind_b.as_str()),
        ("invalid_argument", "invalid_argument"),
        "{msg_a} / {msg_b}"
    );
    for msg in [&msg_a, &msg_b] {
        assert!(msg.contains("outside the allowed roots") && msg.contains("PIPETTE_ALLOWED_ROOTS"), "{msg}");
        assert!(!msg.contains("No such file"), "{msg}");
    }
    // Relative paths resolve against `/` here: still refused.
    let (kind, msg) = error_kind(&conn, "index_add", json!({"id": "x", "jsonl_path": "etc/passwd"})).await;
    assert_eq!(kind, "invalid_argument", "{msg}");

    // No project outside the roots runs, `/` and the home directory included.
    for path in ["/", "/etc", dir.path().to_str().unwrap()] {
        let (kind, msg) = error_kind(&conn, "test_detect", json!({ "path": path })).await;
        assert_eq!(kind, "invalid_argument", "{path}: {msg}");
        assert!(msg.contains("allowed roots"), "{msg}");
    }

    // The data directory's `files` folder is allowed.
    let files = dir.path().join("files");
    assert!(files.is_dir(), "the default root is created at start");
    std::fs::write(files.join("in.jsonl"), "{\"pmid\": \"1\", \"title\": \"a\"}\n").unwrap();
    let added = call_ok(&conn, "index_add", json!({"id": "x", "jsonl_path": files.join("in.jsonl")})).await;
    assert_eq!(added["added"], 1, "{added}");
}

/// A stdio client that declares `roots` and answers `roots/list` with its folders.
#[derive(Clone)]
struct RootsClient {
    roots: Vec<String>,
}

impl rmcp::ClientHandler for RootsClient {
    fn get_info(&self) -> rmcp::model::ClientInfo {
        let caps = rmcp::model::ClientCapabilities::builder().enable_roots().build();
        rmcp::model::ClientInfo::new(caps, rmcp::model::Implementation::new("roots-client", "1"))
    }

    async fn list_roots(
        &self,
        _context: rmcp::service::RequestContext<rmcp::RoleClient>,
    ) -> Result<rmcp::model::ListRootsResult, rmcp::ErrorData> {
        let roots = self.roots.iter().map(|u| rmcp::model::Root::new(u.clone())).collect();
        Ok(rmcp::model::ListRootsResult::new(roots))
    }
}

#[tokio::test]
async fn a_local_client_s_roots_are_allowed_but_never_slash_or_home() {
    use rmcp::ServiceExt as _;
    let dir = tempfile::tempdir().unwrap();
    let work = tempfile::tempdir().unwrap();
    let project = work.path().join("project");
    python_project(&project);
    let other = tempfile::tempdir().unwrap();
    python_project(&other.path().join("project"));

    let mut cmd = command("pipette-mcp", dir.path());
    cmd.current_dir("/").stderr(std::process::Stdio::null());
    let transport = rmcp::transport::TokioChildProcess::new(cmd).unwrap();
    let client =
        RootsClient { roots: vec![format!("file://{}", work.path().display()), "file:///".to_owned()] };
    let conn = client.serve(transport).await.expect("initialize");
    let detected =
        conn.call_tool(crate::support::params("test_detect", json!({"path": project}))).await.unwrap();
    assert_ne!(detected.is_error, Some(true), "the client's root is allowed: {:?}", detected.content);
    // `file:///` was declared too, but is never a root: other folders stay refused.
    let refused = conn
        .call_tool(crate::support::params("test_detect", json!({"path": other.path().join("project")})))
        .await;
    let refused = refused.unwrap();
    assert_eq!(refused.is_error, Some(true), "{:?}", refused.content);
    assert!(text(&refused).contains("allowed roots"), "{}", text(&refused));
    conn.cancel().await.unwrap();

    // A client without roots: only the data directory's files folder.
    let mut cmd = command("pipette-mcp", dir.path());
    cmd.current_dir(work.path());
    let (conn, _, _) = stdio_pid(cmd).await;
    let (kind, msg) = error_kind(&conn, "test_detect", json!({"path": project})).await;
    assert_eq!(kind, "invalid_argument", "the working directory is no longer a root by default: {msg}");
}

#[tokio::test]
async fn each_token_is_a_principal_and_an_operator_sees_all() {
    let dir = tempfile::tempdir().unwrap();
    let tokens = dir.path().join("tokens");
    std::fs::write(&tokens, "# name token [operator]\nalice tok-alice\nbob tok-bob\nops tok-ops operator\n")
        .unwrap();
    let srv = server(dir.path(), dir.path(), &[("PIPETTE_TOKENS_FILE", tokens.to_str().unwrap())]).await;
    let (alice, _) = http_client(&srv.url, Some("tok-alice")).await;
    let (alice2, _) = http_client(&srv.url, Some("tok-alice")).await;
    let (bob, _) = http_client(&srv.url, Some("tok-bob")).await;
    let (ops, _) = http_client(&srv.url, Some("tok-ops")).await;

    let ticket = call_ok(&alice, "fixture_slow", json!({"ms": 8000, "text": "a", "async_mode": true})).await;
    let job = ticket["job_id"].as_str().unwrap().to_owned();
    // Another session of the same token is the same principal.
    let seen = call_ok(&alice2, "job_status", json!({ "job_id": job })).await;
    assert_eq!(seen["owner"], "alice", "{seen}");
    let (kind, msg) = error_kind(&bob, "job_status", json!({ "job_id": job })).await;
    assert_eq!(kind, "not_found", "{msg}");
    assert_eq!(call_ok(&bob, "job_list", json!({})).await["jobs"].as_array().unwrap().len(), 0);
    // The operator lists and cancels it.
    let listed = call_ok(&ops, "job_list", json!({})).await;
    assert!(listed["jobs"].as_array().unwrap().iter().any(|j| j["job_id"] == job.as_str()), "{listed}");
    let cancelled = call_ok(&ops, "job_cancel", json!({ "job_id": job })).await;
    assert_eq!(cancelled["status"], "cancelled", "{cancelled}");
}
