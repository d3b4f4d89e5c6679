//! The real server over stdio and streamable HTTP, driven by rmcp's client.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use rmcp::model::{CancelledNotificationParam, ClientRequest, ProgressToken, RequestMetaObject};
use rmcp::service::PeerRequestOptions;
use serde_json::json;

use crate::support::*;

/// The production tool set: a new tool must be added here on purpose.
const PRODUCTION_TOOLS: &[&str] = &[
    "alerts",
    "article_citations",
    "article_fulltext",
    "cache_analytics",
    "cache_report",
    "circuit_status",
    "discover_biomolecules",
    "europepmc_search",
    "health",
    "index_add",
    "index_config_get",
    "index_config_update",
    "index_create",
    "index_delete",
    "index_drop",
    "index_get",
    "index_list",
    "index_load",
    "index_metrics",
    "index_optimize",
    "index_reshard",
    "index_search",
    "index_status",
    "index_unload",
    "invalidate_cache",
    "job_cancel",
    "job_list",
    "job_prune",
    "job_resume",
    "job_status",
    "lint_run",
    "metrics",
    "metrics_prometheus",
    "protein_get",
    "pubmed_fetch",
    "pubmed_search",
    "test_detect",
    "test_rerun_failed",
    "test_run",
    "trial_get",
    "trials_match",
    "trials_match_batch",
    "trials_search",
    "warm_cache",
    "workflow_cancel",
    "workflow_list",
    "workflow_run",
    "workflow_status",
    "workflow_validate",
];

async fn scenario(conn: &Conn, client: &Client) {
    // initialize happened in `serve`; the server says who it is.
    let info = conn.peer_info().expect("server info");
    assert_eq!(info.server_info.as_ref().map(|s| s.name.as_str()), Some("pipette"));

    // tools/list: the full set, each with schemas and annotations.
    let tools = conn.list_all_tools().await.expect("tools/list");
    let names: BTreeSet<String> = tools.iter().map(|t| t.name.to_string()).collect();
    for t in PRODUCTION_TOOLS {
        assert!(names.contains(*t), "{t} missing from {names:?}");
    }
    assert!(names.contains("fixture_slow"), "the test server adds its fixtures");
    for t in &tools {
        assert_eq!(t.input_schema.get("type"), Some(&json!("object")), "{}", t.name);
        // async_mode is accepted everywhere but said once, in the instructions, not in every schema.
        assert!(t.input_schema.get("properties").and_then(|p| p.get("async_mode")).is_none(), "{}", t.name);
        let dynamic = ["toolsets_list", "toolset_enable"].contains(&t.name.as_ref());
        assert!(dynamic || t.output_schema.is_some(), "{} has an output schema", t.name);
        assert!(t.annotations.is_some(), "{} has annotations", t.name);
        assert!(t.description.as_deref().is_some_and(|d| !d.is_empty()));
    }
    let job_status = tools.iter().find(|t| t.name == "job_status").unwrap();
    assert_eq!(job_status.input_schema["required"], json!(["job_id"]));

    let instructions = info.instructions.as_deref().unwrap_or_default();
    assert!(instructions.contains("async_mode: true"), "{instructions}");

    // A successful call: structured content and a text rendering.
    let health = call(conn, "health", json!({})).await;
    assert_eq!(health.structured_content.as_ref().unwrap()["status"], "ok");
    assert!(text(&health).contains("- **status**: ok"), "{}", text(&health));

    // A missing and a wrong-typed parameter: a tool error naming it.
    let missing = call(conn, "job_status", json!({})).await;
    assert_eq!(missing.is_error, Some(true));
    assert!(text(&missing).contains("`job_id`"), "{}", text(&missing));
    let wrong = call(conn, "job_status", json!({ "job_id": 42 })).await;
    assert_eq!(wrong.is_error, Some(true));
    assert!(text(&wrong).contains("`job_id`") && text(&wrong).contains("string"), "{}", text(&wrong));

    // An unknown tool: a protocol error that says so.
    let unknown = conn.call_tool(params("no_such_tool", json!({}))).await.unwrap_err();
    assert!(unknown.to_string().contains("unknown tool `no_such_tool`"), "{unknown}");

    // A slow tool crossing its inline budget: a job, followed to its result.
    let ticket = call_ok(conn, "fixture_slow", json!({ "ms": 1200, "text": "late" })).await;
    assert_eq!(ticket["status"], "running");
    let job_id = ticket["job_id"].as_str().expect("job_id").to_owned();
    let done = wait_job(conn, &job_id).await;
    assert_eq!(done["status"], "completed", "{done}");
    assert_eq!(done["result"], json!({ "text": "late", "ms": 1200 }));
    assert!(done["output"].as_str().unwrap().contains("line 9"), "the job kept the tool's output");
    let incremental = call_ok(conn, "job_status", json!({ "job_id": job_id, "incremental": true })).await;
    assert!(incremental["output"].as_str().unwrap().contains("line 0"));
    let again = call_ok(conn, "job_status", json!({ "job_id": job_id, "incremental": true })).await;
    assert_eq!(again["output"], "", "nothing new since the last incremental look");

    // async_mode: a job at once, even for a short call.
    let t0 = Instant::now();
    let ticket =
        call_ok(conn, "fixture_slow", json!({ "ms": 100, "text": "quick", "async_mode": true })).await;
    assert!(t0.elapsed() < Duration::from_millis(1000));
    let done = wait_job(conn, ticket["job_id"].as_str().unwrap()).await;
    assert_eq!(done["result"]["text"], "quick");

    // job_cancel: a long job stops and says so; the tool was really stopped.
    let ticket =
        call_ok(conn, "fixture_slow", json!({ "ms": 30000, "key": "to-cancel", "async_mode": true })).await;
    let id = ticket["job_id"].as_str().unwrap();
    // Cancel once the tool runs (a job cancelled before it starts never runs it: right, but not this check).
    let deadline = Instant::now() + Duration::from_secs(10);
    while call_ok(conn, "fixture_probe", json!({ "key": "to-cancel" })).await["events"] != json!(["started"])
    {
        assert!(Instant::now() < deadline, "the job's tool never started");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let cancelled = call_ok(conn, "job_cancel", json!({ "job_id": id })).await;
    assert_eq!(cancelled["status"], "cancelled", "{cancelled}");
    let events = call_ok(conn, "fixture_probe", json!({ "key": "to-cancel" })).await;
    assert_eq!(events["events"], json!(["started", "dropped"]));
    let listed = call_ok(conn, "job_list", json!({ "status": "cancelled" })).await;
    assert!(listed["jobs"].as_array().unwrap().iter().any(|j| j["job_id"] == id));

    // Progress notifications arrive, all before the result.
    client.progress.lock().unwrap().clear();
    let mut p = params("fixture_slow", json!({ "ms": 200, "text": "p" }));
    p.meta = Some(RequestMetaObject::with_progress_token(ProgressToken(
        rmcp::model::NumberOrString::String("tok-1".into()),
    )));
    let req = ClientRequest::CallToolRequest(rmcp::model::CallToolRequest::new(p));
    let options = PeerRequestOptions::no_options();
    let handle = conn.send_request_with_option(req, options).await.expect("send");
    handle.await_response().await.expect("result");
    let seen = client.progress.lock().unwrap().clone();
    assert_eq!(seen.len(), 11, "every step and the last one: {seen:?}");
    assert_eq!(seen.last().unwrap().progress, 10.0);
    assert_eq!(seen.last().unwrap().total, Some(10.0));
    assert_eq!(seen.last().unwrap().message.as_deref(), Some("done"));

    // A cancellation is honoured: the tool stops.
    let mut p = params("fixture_slow", json!({ "ms": 20000, "key": "client-cancel" }));
    p.arguments.as_mut().unwrap().insert("text".into(), json!("x"));
    let req = ClientRequest::CallToolRequest(rmcp::model::CallToolRequest::new(p));
    let handle = conn.send_request_with_option(req, PeerRequestOptions::no_options()).await.expect("send");
    tokio::time::sleep(Duration::from_millis(150)).await;
    conn.notify_cancelled(CancelledNotificationParam::new(Some(handle.id.clone()), Some("test".into())))
        .await
        .expect("cancel");
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let events = call_ok(conn, "fixture_probe", json!({ "key": "client-cancel" })).await;
        if events["events"] == json!(["started", "dropped"]) {
            break;
        }
        assert!(Instant::now() < deadline, "the cancelled call kept running: {events}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn stdio_end_to_end() {
    let dir = tempfile::tempdir().unwrap();
    let (conn, client) = stdio("pipette-mcp-test", dir.path()).await;
    scenario(&conn, &client).await;
    conn.cancel().await.unwrap();
}

#[tokio::test]
async fn http_end_to_end() {
    let dir = tempfile::tempdir().unwrap();
    let server = http_server("pipette-mcp-test", dir.path(), &[]).await;
    let (conn, client) = http_client(&server.url, None).await;
    scenario(&conn, &client).await;
    let health = reqwest::get(format!("{}/health", server.base)).await.unwrap();
    assert_eq!(health.status(), 200);
    let metrics = reqwest::get(format!("{}/metrics", server.base)).await.unwrap().text().await.unwrap();
    assert!(metrics.contains("pipette_tool_calls_total{tool=\"health\",category=\"ops\"}"), "{metrics}");
    conn.cancel().await.unwrap();
}

#[tokio::test]
async fn production_binary_lists_exactly_the_production_tools() {
    let dir = tempfile::tempdir().unwrap();
    let (conn, _) = stdio("pipette-mcp", dir.path()).await;
    let tools = conn.list_all_tools().await.unwrap();
    let names: Vec<String> = tools.iter().map(|t| t.name.to_string()).collect();
    // The dynamic toolset tools first, then every tool (the test environment enables every toolset).
    assert_eq!(names[..2], ["toolsets_list", "toolset_enable"]);
    assert_eq!(names[2..], *PRODUCTION_TOOLS);
    conn.cancel().await.unwrap();
}

#[tokio::test]
async fn jobs_survive_a_restart_and_running_ones_come_back_interrupted() {
    let dir = tempfile::tempdir().unwrap();
    let (conn, _, pid) = stdio_pid(command("pipette-mcp-test", dir.path())).await;
    let done = call_ok(&conn, "fixture_slow", json!({ "ms": 50, "text": "kept", "async_mode": true })).await;
    let done_id = done["job_id"].as_str().unwrap().to_owned();
    assert_eq!(wait_job(&conn, &done_id).await["status"], "completed");
    let long = call_ok(&conn, "fixture_slow", json!({ "ms": 60000, "async_mode": true })).await;
    let long_id = long["job_id"].as_str().unwrap().to_owned();
    tokio::time::sleep(Duration::from_millis(300)).await;
    // Kill the server outright, the way a crash or `kill -9` would (a clean stop gives the job back to
    // the queue instead: queue.rs).
    sigkill(pid);
    drop(conn);
    tokio::time::sleep(Duration::from_millis(300)).await;

    let (conn, _) = stdio("pipette-mcp-test", dir.path()).await;
    let kept = call_ok(&conn, "job_status", json!({ "job_id": done_id })).await;
    assert_eq!(kept["status"], "completed");
    assert_eq!(kept["result"]["text"], "kept");
    let interrupted = call_ok(&conn, "job_status", json!({ "job_id": long_id })).await;
    assert_eq!(interrupted["status"], "interrupted", "{interrupted}");
    assert!(interrupted["progress"]["current"].as_u64().is_some(), "its last progress was kept");
    let pruned = call_ok(&conn, "job_prune", json!({})).await;
    assert_eq!(pruned["removed"], 2);
    assert_eq!(call_ok(&conn, "job_list", json!({})).await["jobs"], json!([]));
    conn.cancel().await.unwrap();
}

#[tokio::test]
async fn http_requires_the_token_and_refuses_foreign_origins() {
    let dir = tempfile::tempdir().unwrap();
    let server = http_server("pipette-mcp", dir.path(), &[("PIPETTE_TOKEN", "s3cret")]).await;
    let init = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}});
    let http = reqwest::Client::new();
    let post = |token: Option<&str>, origin: Option<&str>| {
        let mut r = http
            .post(&server.url)
            .header("content-type", "application/json")
            .header("accept", "application/json, text/event-stream")
            .json(&init);
        if let Some(t) = token {
            r = r.bearer_auth(t);
        }
        if let Some(o) = origin {
            r = r.header("origin", o);
        }
        r.send()
    };
    assert_eq!(post(None, None).await.unwrap().status(), 401);
    assert_eq!(post(Some("wrong"), None).await.unwrap().status(), 401);
    assert_eq!(post(Some("s3cret"), Some("https://evil.example")).await.unwrap().status(), 403);
    assert_eq!(post(Some("s3cret"), Some("http://localhost:3000")).await.unwrap().status(), 200);
    assert_eq!(reqwest::get(format!("{}/metrics", server.base)).await.unwrap().status(), 401);

    let (conn, _) = http_client(&server.url, Some("s3cret")).await;
    assert_eq!(call_ok(&conn, "health", json!({})).await["status"], "ok");
    conn.cancel().await.unwrap();
}

/// The 2026-07-28 era has no `initialize`: `server/discover` and per-request `_meta`. Spoken raw over stdio.
#[tokio::test]
async fn answers_the_2026_era_without_initialize() {
    let dir = tempfile::tempdir().unwrap();
    let mut raw = Raw2026::start("pipette-mcp", dir.path());
    let caps = json!({});
    let discover = raw.ask(1, "server/discover", json!({}), &caps).await;
    let versions = discover["result"]["supportedVersions"].as_array().expect("versions").clone();
    assert!(versions.contains(&json!("2026-07-28")) && versions.contains(&json!("2025-11-25")), "{discover}");
    let list = raw.ask(2, "tools/list", json!({}), &caps).await;
    let names: Vec<&str> =
        list["result"]["tools"].as_array().unwrap().iter().map(|t| t["name"].as_str().unwrap()).collect();
    assert_eq!(names[..2], ["toolsets_list", "toolset_enable"]);
    assert_eq!(names[2..], *PRODUCTION_TOOLS);
    let health = raw.ask(3, "tools/call", json!({"name": "health", "arguments": {}}), &caps).await;
    assert_eq!(health["result"]["structuredContent"]["status"], "ok", "{health}");
    let bad = raw.ask(4, "tools/call", json!({"name": "job_status", "arguments": {}}), &caps).await;
    assert_eq!(bad["result"]["isError"], true);
    assert!(bad["result"]["content"][0]["text"].as_str().unwrap().contains("`job_id`"));
}
