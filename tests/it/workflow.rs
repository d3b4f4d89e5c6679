//! Workflows end to end, real tools over the recorded upstream: "literature to index" ends searchable; a
//! cycle and a bad reference are named; cancel mid-run; a `pipette-mcp` killed mid-workflow, then a new one
//! on the same data dir finishes it without repeating the completed steps (the upstream's request counts).

use std::time::{Duration, Instant};

use pipette_test_support::Reply;
use rmcp::model::ReadResourceRequestParams;
use serde_json::{Value, json};

use crate::research::{Lab, PMID};
use crate::support::*;

/// Polls `workflow_status` until `done` holds (or 20 s pass).
async fn wait_until(conn: &Conn, id: &str, what: &str, done: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let s = call_ok(conn, "workflow_status", json!({ "workflow_id": id })).await;
        if done(&s) {
            return s;
        }
        assert!(Instant::now() < deadline, "workflow {id}: waited 20 s for {what}: {s}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The recorded PubMed answers, made to agree: the recorded esearch answer with its id list cut to the one
/// PMID the recorded efetch answer holds (as recorded, the two come from different queries).
fn route_pubmed(lab: &Lab) {
    let mut esearch: Value = serde_json::from_slice(&pipette_test_support::fixture(
        "pubmed/esearch_json_apc_pE1317Q_retmax100.json",
    ))
    .unwrap();
    esearch["esearchresult"]["idlist"] = json!([PMID]);
    lab.server.route("GET", "/eutils/esearch.fcgi", Reply::json(200, esearch));
    lab.server.route("GET", "/eutils/efetch.fcgi", Reply::fixture("pubmed/efetch_pubmed_22663011.xml"));
}

fn step<'a>(status: &'a Value, id: &str) -> &'a Value {
    status["steps"].as_array().and_then(|s| s.iter().find(|s| s["id"] == id)).expect("the step")
}

#[tokio::test]
async fn the_saved_literature_to_index_workflow_ends_with_the_articles_searchable() {
    let lab = Lab::start().await;
    route_pubmed(&lab);
    let (conn, client) = lab.connect(&[]).await;
    // The saved workflow, by name with its arguments, as a resource.
    let uri = "workflow://saved/literature-to-index?query=APC%20p.E1317Q&index=papers&max_results=20";
    let read = conn.read_resource(ReadResourceRequestParams::new(uri)).await.expect("the saved workflow");
    let body = serde_json::to_value(&read.contents[0]).unwrap();
    let definition: Value = serde_json::from_str(body["text"].as_str().unwrap()).unwrap();
    assert_eq!(definition["name"], "literature to index");

    let plan = call_ok(&conn, "workflow_validate", json!({ "definition": definition })).await;
    assert_eq!(plan["waves"], json!([["create", "search"], ["fetch"], ["index"]]), "{plan}");

    let (r, progress) =
        call_with_progress(&conn, &client, "workflow_run", json!({ "definition": definition })).await;
    assert_ne!(r.is_error, Some(true), "{}", text(&r));
    let out = r.structured_content.unwrap();
    assert_eq!(out["status"], "completed", "{out}");
    assert_eq!(out["completed"], 4);
    let last = progress.last().expect("progress notifications");
    assert_eq!((last.progress, last.total), (4.0, Some(4.0)), "steps done / total");
    assert!(progress.iter().any(|p| p.message.as_deref() == Some("step `fetch` completed")));

    let hits = call_ok(&conn, "index_search", json!({ "id": "papers", "query": "MEK inhibition" })).await;
    assert_eq!(hits["total_hits"], 1, "{hits}");
    assert_eq!(hits["hits"][0]["doc_id"], PMID, "{hits}");
    conn.cancel().await.unwrap();
}

#[tokio::test]
async fn a_cycle_and_a_bad_reference_are_named_before_anything_runs() {
    let dir = tempfile::tempdir().unwrap();
    let (conn, _) = stdio("pipette-mcp-test", dir.path()).await;
    let noop = |id: &str, needs: &[&str]| json!({"id": id, "tool": "fixture_noop", "depends_on": needs});
    let cycle = json!({"name": "loop", "steps": [noop("start", &[]), noop("a", &["start", "c"]),
                                                  noop("b", &["a"]), noop("c", &["b"])]});
    let plan = call_ok(&conn, "workflow_validate", json!({ "definition": cycle })).await;
    assert_eq!(plan["valid"], false);
    assert_eq!(plan["errors"][0]["step"], "a");
    assert_eq!(plan["errors"][0]["field"], "depends_on");
    let message = plan["errors"][0]["message"].as_str().unwrap();
    assert!(message.contains("`a` → `b` → `c` → `a`"), "{message}");
    // Run, it is refused with the same words, and no job is left behind.
    let r = call(&conn, "workflow_run", json!({ "definition": cycle })).await;
    assert_eq!(r.is_error, Some(true));
    assert!(text(&r).contains("`a` → `b` → `c` → `a`"), "{}", text(&r));
    let listed = call_ok(&conn, "workflow_list", json!({})).await;
    assert_eq!(listed["workflows"], json!([]));

    let bad = json!({"name": "refs", "steps": [
        {"id": "first", "tool": "fixture_noop"},
        {"id": "second", "tool": "fixture_slow", "args": {"ms": 1, "text": {"$ref": "frist", "path": "$.attempts"}}},
        {"id": "third", "tool": "fixture_slow", "args": {"ms": 1, "text": {"$ref": "first", "path": "attempts"}}},
    ]});
    let plan = call_ok(&conn, "workflow_validate", json!({ "definition": bad })).await;
    let errors = plan["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 2, "{plan}");
    assert_eq!((&errors[0]["step"], &errors[0]["field"]), (&json!("second"), &json!("args.text")));
    assert!(errors[0]["message"].as_str().unwrap().contains("step `frist`, which is not in this workflow"));
    assert_eq!((&errors[1]["step"], &errors[1]["field"]), (&json!("third"), &json!("args.text")));
    assert!(errors[1]["message"].as_str().unwrap().contains("`attempts` is not a JSONPath"), "{plan}");

    // A path that parses but selects nothing is found when the step runs: its error names step and path.
    let empty = json!({"name": "empty", "steps": [
        {"id": "first", "tool": "fixture_noop"},
        {"id": "second", "tool": "fixture_slow", "args": {"ms": 1, "text": {"$ref": "first", "path": "$.nope"}}},
    ]});
    let out = call_ok(&conn, "workflow_run", json!({ "definition": empty })).await;
    assert_eq!(out["status"], "failed");
    assert_eq!(
        out["failed"],
        json!([{"step": "second", "error": "args: `$.nope` selects nothing in the output of `first`"}])
    );
    conn.cancel().await.unwrap();
}

/// In-process, so the fixture tool's own record shows its call was stopped rather than left running.
#[tokio::test]
async fn cancel_stops_the_running_steps_and_starts_no_new_one() {
    use mcp_tools::{CallOptions, CallOutcome};
    use pipette_tests::fixture_tools::recorded;
    pipette_tests::link();
    let dir = tempfile::tempdir().unwrap();
    let config = mcp_tools::RouterConfig { data_dir: dir.path().to_path_buf(), ..Default::default() };
    let router = mcp_tools::build_router(config, None).await.expect("router");
    let def = json!({"name": "long", "max_parallel": 2, "steps": [
        {"id": "quick", "tool": "fixture_noop"},
        {"id": "slow", "tool": "fixture_slow", "depends_on": ["quick"], "args": {"ms": 30000, "key": "wf-slow"}},
        {"id": "other", "tool": "fixture_slow", "args": {"ms": 30000, "key": "wf-other"}},
        {"id": "after", "tool": "fixture_noop", "depends_on": ["slow"]},
    ]});
    let args = json!({ "definition": def, "async_mode": true });
    let Ok(CallOutcome::Job(ticket)) = router.call("workflow_run", args, CallOptions::default()).await else {
        panic!("workflow_run with async_mode answers a job ticket");
    };
    let id = json!({ "workflow_id": ticket.job_id });
    let deadline = Instant::now() + Duration::from_secs(10);
    while recorded("wf-slow").is_empty() || recorded("wf-other").is_empty() {
        assert!(Instant::now() < deadline, "the slow steps never started");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let running = router.call_now("workflow_status", id.clone()).await.unwrap();
    assert_eq!(running["status"], "running");
    assert_eq!(step(&running, "quick")["state"], "completed", "{running}");
    assert_eq!(step(&running, "slow")["state"], "running", "{running}");
    assert_eq!(running["progress"]["total"], 4, "{running}");
    let started = Instant::now();
    let cancelled = router.call_now("workflow_cancel", id.clone()).await.unwrap();
    assert!(started.elapsed() < Duration::from_secs(3), "stopped at once");
    assert_eq!(cancelled["status"], "cancelled", "{cancelled}");
    assert_eq!(cancelled["error"]["kind"], "cancelled", "{cancelled}");
    assert_eq!(step(&cancelled, "quick")["state"], "completed");
    for (s, why) in [("slow", "stopped"), ("other", "stopped"), ("after", "not started")] {
        assert_eq!(step(&cancelled, s)["state"], "cancelled", "{s}: {cancelled}");
        assert!(step(&cancelled, s)["error"].as_str().unwrap().starts_with(why), "{s}: {cancelled}");
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    for key in ["wf-slow", "wf-other"] {
        assert_eq!(recorded(key), ["started", "dropped"], "{key}: the call was stopped, not left running");
    }
    let listed = router.call_now("workflow_list", json!({})).await.unwrap();
    assert_eq!(listed["workflows"][0]["workflow_id"], ticket.job_id.as_str());
    assert_eq!(listed["workflows"][0]["status"], "cancelled");
    // A job that is not a workflow is refused, naming the parameter.
    let Ok(CallOutcome::Job(job)) =
        router.call("fixture_slow", json!({ "ms": 10, "async_mode": true }), CallOptions::default()).await
    else {
        panic!("a job ticket")
    };
    let err = router.call_now("workflow_status", json!({ "workflow_id": job.job_id })).await.unwrap_err();
    assert_eq!(err.param.as_deref(), Some("workflow_id"));
    assert!(err.message.contains("not a workflow"), "{}", err.message);
}

#[tokio::test]
async fn a_workflow_killed_mid_run_finishes_in_a_new_process_without_repeating_completed_steps() {
    const NCT: &str = "NCT06604689";
    let lab = Lab::start().await;
    route_pubmed(&lab);
    let study = format!("clinicaltrials/get_{}_20260811.json", NCT.to_ascii_lowercase());
    // The second step's upstream answers slowly: the process is killed while it waits.
    lab.server.route(
        "GET",
        &format!("/ctgov/studies/{NCT}"),
        Reply::fixture(&study).delay(Duration::from_secs(3)),
    );
    let def = json!({"name": "killed", "steps": [
        {"id": "search", "tool": "pubmed_search", "args": {"query": "APC p.E1317Q", "max_results": 5}},
        {"id": "trial", "tool": "trial_get", "depends_on": ["search"], "args": {"nct_id": NCT}},
        {"id": "fetch", "tool": "pubmed_fetch", "depends_on": ["trial"],
         "args": {"pmids": {"$ref": "search", "path": "$.articles[*].pmid"}}},
    ]});
    let lease = [("PIPETTE_JOB_LEASE_MS", "1000")];
    let (a, _) = lab.connect(&lease).await;
    let ticket = call_ok(&a, "workflow_run", json!({ "definition": def, "async_mode": true })).await;
    let id = ticket["job_id"].as_str().expect("a job ticket").to_owned();
    wait_until(&a, &id, "trial running", |s| step(s, "trial")["state"] == "running").await;
    let hits = |path: &str| lab.server.requests().iter().filter(|r| r.path == path).count();
    assert_eq!(hits("/eutils/esearch.fcgi"), 1);
    let study_path = format!("/ctgov/studies/{NCT}");
    let asked_before_kill = hits(&study_path);
    assert!(asked_before_kill >= 1);
    drop(a); // kill_on_drop: SIGKILL, mid-step

    let (b, _) = lab.connect(&lease).await;
    let done = wait_until(&b, &id, "completed", |s| s["status"] == "completed").await;
    assert_eq!(done["attempts"], 2, "run by a second process: {done}");
    assert_eq!(step(&done, "search")["attempts"], 1, "{done}");
    assert_eq!(step(&done, "trial")["attempts"], 2, "the step that was running ran again: {done}");
    assert_eq!(step(&done, "fetch")["state"], "completed");
    assert_eq!(hits("/eutils/esearch.fcgi"), 1, "the completed search was not repeated");
    // (The slow answer may be asked for more than once per run: the upstream layer's own retries.)
    assert!(hits(&study_path) > asked_before_kill, "the interrupted step asked again");
    b.cancel().await.unwrap();
}
