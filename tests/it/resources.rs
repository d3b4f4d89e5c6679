//! Resources, resource subscriptions and completions end to end: the real `pipette-mcp-test` with rmcp's
//! client over stdio and HTTP; PubMed and ClinicalTrials.gov answers come from the recorded fixtures.

// resources/subscribe is deprecated for 2026-07-28 peers and current for the 2025-11-25 sessions tested here.
#![allow(deprecated)]

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use pipette_test_support::{Reply, UpstreamServer};
use rmcp::model::{
    CompletionContext, CompletionInfo, ErrorCode, ReadResourceRequestParams, ResourceContents,
    ResourceUpdatedNotificationParam, SubscribeRequestParams, UnsubscribeRequestParams,
};
use rmcp::service::{NotificationContext, RunningService, ServiceError};
use rmcp::transport::TokioChildProcess;
use rmcp::{ClientHandler, RoleClient, ServiceExt};
use serde_json::{Value, json};

use crate::support::*;

/// The PMID of the recorded efetch answer, and the title it records.
const PMID: &str = "22663011";
const PMID_TITLE: &str = "Improved survival with MEK inhibition in BRAF-mutated melanoma.";
/// A recorded study.
const NCT: &str = "NCT06604689";

/// Records the resource updates a client receives.
#[derive(Clone, Default)]
struct Watcher {
    updates: Arc<Mutex<Vec<String>>>,
}

impl ClientHandler for Watcher {
    async fn on_resource_updated(
        &self,
        params: ResourceUpdatedNotificationParam,
        _context: NotificationContext<RoleClient>,
    ) {
        self.updates.lock().unwrap().push(params.uri);
    }
}

impl Watcher {
    fn count(&self, uri: &str) -> usize {
        self.updates.lock().unwrap().iter().filter(|u| *u == uri).count()
    }
}

type WConn = RunningService<RoleClient, Watcher>;

/// `pipette-mcp-test` over stdio in `dir`, pointed at the local upstream.
async fn stdio_watcher(dir: &std::path::Path, upstream: &UpstreamServer) -> (WConn, Watcher) {
    let url = upstream.url();
    let mut cmd = command("pipette-mcp-test", dir);
    cmd.env("PIPETTE_PUBMED_BASE", format!("{url}/eutils"))
        .env("PIPETTE_CTGOV_BASE", format!("{url}/ctgov"))
        .env("PIPETTE_PUBMED_RATE", "0")
        .env("PIPETTE_CTGOV_RATE", "0")
        .env("PIPETTE_HTTP_RETRY_BASE_MS", "10")
        .env("PIPETTE_HTTP_RETRY_MAX_DELAY_MS", "40")
        .stderr(std::process::Stdio::null());
    let watcher = Watcher::default();
    let conn = watcher.clone().serve(TokioChildProcess::new(cmd).unwrap()).await.expect("initialize");
    (conn, watcher)
}

/// A session over HTTP with bearer `token` (sessions of one token are one principal: they share jobs).
async fn http_watcher(url: &str, token: &str) -> (WConn, Watcher) {
    use rmcp::transport::StreamableHttpClientTransport;
    use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
    let watcher = Watcher::default();
    let config = StreamableHttpClientTransportConfig::with_uri(url.to_owned()).auth_header(token.to_owned());
    let transport = StreamableHttpClientTransport::from_config(config);
    let conn = watcher.clone().serve(transport).await.expect("initialize over HTTP");
    (conn, watcher)
}

async fn tool(conn: &WConn, name: &str, args: Value) -> Value {
    let r = conn.call_tool(params(name, args)).await.expect("tools/call answered");
    assert_ne!(r.is_error, Some(true), "{name} failed: {:?}", r.content);
    r.structured_content.expect("structured content")
}

/// Reads `uri`: its one content's MIME type and JSON, or the JSON-RPC error.
async fn read(conn: &WConn, uri: &str) -> Result<(String, Value), rmcp::ErrorData> {
    match conn.read_resource(ReadResourceRequestParams::new(uri)).await {
        Ok(r) => {
            assert_eq!(r.contents.len(), 1, "{uri}: {r:?}");
            match &r.contents[0] {
                ResourceContents::TextResourceContents { uri: u, mime_type, text, .. } => {
                    assert_eq!(u, uri);
                    let v = serde_json::from_str(text).unwrap_or_else(|e| panic!("{uri}: {e}: {text}"));
                    Ok((mime_type.clone().unwrap_or_default(), v))
                }
                other => panic!("{uri}: not text: {other:?}"),
            }
        }
        Err(ServiceError::McpError(e)) => Err(e),
        Err(e) => panic!("{uri}: {e}"),
    }
}

async fn read_ok(conn: &WConn, uri: &str) -> Value {
    let (mime, v) = read(conn, uri).await.unwrap_or_else(|e| panic!("{uri}: {e:?}"));
    assert_eq!(mime, "application/json", "{uri}");
    v
}

/// The error reading `uri` must have `code` and a message containing `needle`.
async fn read_err(conn: &WConn, uri: &str, code: ErrorCode, needle: &str) {
    let e = read(conn, uri).await.expect_err(uri);
    assert_eq!(e.code, code, "{uri}: {e:?}");
    assert!(e.message.contains(needle), "{uri}: {e:?} should name {needle}");
}

async fn complete_resource(
    conn: &WConn,
    template: &str,
    arg: &str,
    value: &str,
    ctx: &[(&str, &str)],
) -> CompletionInfo {
    let ctx = (!ctx.is_empty()).then(|| {
        CompletionContext::with_arguments(
            ctx.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect(),
        )
    });
    conn.complete_resource_argument(template, arg, value, ctx).await.expect("completion/complete")
}

async fn complete_prompt(conn: &WConn, arg: &str, value: &str, ctx: &[(&str, &str)]) -> CompletionInfo {
    let ctx: HashMap<String, String> = ctx.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
    let ctx = (!ctx.is_empty()).then(|| CompletionContext::with_arguments(ctx));
    conn.complete_prompt_argument("fixture_prompt", arg, value, ctx).await.expect("completion/complete")
}

const TEMPLATES: [&str; 8] = [
    "article://{pmid}/fulltext",
    "index://{id}/doc/{doc_id}",
    "index://{id}/status",
    "job://{job_id}",
    "pmc://{pmcid}",
    "pubmed://{pmid}",
    "trial://{nct_id}",
    "workflow://saved/{name}",
];

#[tokio::test]
async fn resources_read_list_and_complete_over_stdio() {
    let upstream = UpstreamServer::start().await;
    upstream.route("GET", "/eutils/efetch.fcgi", Reply::fixture("pubmed/efetch_pubmed_22663011.xml"));
    upstream.route(
        "GET",
        &format!("/ctgov/studies/{NCT}"),
        Reply::fixture(&format!("clinicaltrials/get_{}_20260811.json", NCT.to_lowercase())),
    );
    let dir = tempfile::tempdir().unwrap();
    let (conn, _) = stdio_watcher(dir.path(), &upstream).await;

    // The declared templates, exactly (fixture `test://` ones of a conformance build aside).
    let templates = conn.list_all_resource_templates().await.unwrap();
    let uris: BTreeSet<&str> =
        templates.iter().map(|t| t.uri_template.as_str()).filter(|u| !u.starts_with("test://")).collect();
    assert_eq!(uris, BTreeSet::from(TEMPLATES));
    let job = templates.iter().find(|t| t.uri_template == "job://{job_id}").unwrap();
    assert_eq!(job.mime_type.as_deref(), Some("application/json"));
    assert!(job.description.as_deref().unwrap().contains("Subscribe"));
    // A fresh data dir: no index and no job to list; the saved workflows are there.
    let listed = conn.list_all_resources().await.unwrap();
    let saved: Vec<&str> =
        listed.iter().map(|r| r.uri.as_str()).filter(|u| u.starts_with("workflow://")).collect();
    assert_eq!(saved, ["workflow://saved/literature-to-index", "workflow://saved/mutation-panel"]);
    assert!(
        listed.iter().all(|r| r.uri.starts_with("test://") || r.uri.starts_with("workflow://saved/")),
        "{listed:?}"
    );

    // Nothing seen yet: no PMID or NCT id to suggest.
    assert!(complete_resource(&conn, "pubmed://{pmid}", "pmid", "", &[]).await.values.is_empty());

    // pubmed://{pmid}: the recorded article, through pubmed_fetch.
    let article = read_ok(&conn, &format!("pubmed://{PMID}")).await;
    assert_eq!((article["pmid"].as_str(), article["title"].as_str()), (Some(PMID), Some(PMID_TITLE)));
    assert_eq!(article["doi"], "10.1056/NEJMoa1203421");
    read_err(&conn, "pubmed://1", ErrorCode::RESOURCE_NOT_FOUND, "1").await;
    read_err(&conn, "pubmed://abc", ErrorCode::INVALID_PARAMS, "pmid").await;
    read_err(&conn, &format!("pubmed://{PMID}?x=1"), ErrorCode::INVALID_PARAMS, "x").await;
    // The PMID is now known to completions (prefix, any case).
    let seen = complete_resource(&conn, "pubmed://{pmid}", "pmid", "2266", &[]).await;
    assert_eq!(seen.values, [PMID]);
    assert_eq!((seen.total, seen.has_more), (Some(1), Some(false)));
    assert!(complete_resource(&conn, "pubmed://{pmid}", "pmid", "9", &[]).await.values.is_empty());

    // trial://{nct_id}: the recorded study, any case, sections as a query parameter.
    let trial = read_ok(&conn, &format!("trial://{NCT}")).await;
    assert_eq!(trial["nct_id"], NCT);
    assert!(trial["eligibility"]["inclusion"].as_array().is_some_and(|a| !a.is_empty()), "{trial}");
    let only = read_ok(&conn, &format!("trial://{}?sections=eligibility", NCT.to_lowercase())).await;
    assert_eq!(only["nct_id"], NCT);
    assert!(only["eligibility"].is_object(), "{only}");
    // The sections asked for are the fields asked of ClinicalTrials.gov.
    let fields: Vec<String> = upstream
        .requests()
        .iter()
        .filter(|r| r.path.starts_with("/ctgov/"))
        .filter_map(|r| r.param("fields"))
        .collect();
    assert_eq!(fields.len(), 2, "{fields:?}");
    assert!(fields[0].contains("ContactsLocationsModule"), "every section: {}", fields[0]);
    assert!(fields[1].ends_with(",EligibilityModule"), "eligibility only: {}", fields[1]);
    read_err(&conn, "trial://NCT123", ErrorCode::INVALID_PARAMS, "nct_id").await;
    read_err(&conn, &format!("trial://{NCT}?sections=nope"), ErrorCode::INVALID_PARAMS, "sections").await;
    read_err(&conn, "trial://NCT00000000", ErrorCode::RESOURCE_NOT_FOUND, "NCT00000000").await;
    let seen = complete_resource(&conn, "trial://{nct_id}", "nct_id", "nct066", &[]).await;
    assert_eq!(seen.values, [NCT]);

    // URIs pipette does not serve.
    read_err(&conn, "gopher://x", ErrorCode::RESOURCE_NOT_FOUND, "gopher://x").await;
    read_err(&conn, "pubmed://", ErrorCode::RESOURCE_NOT_FOUND, "pubmed://").await;

    // index://: status and documents after index_create + index_add; listed once it exists.
    let schema = json!({"id_field": "id", "fields": [
        {"name": "id", "type": "string", "stored": true, "indexed": true},
        {"name": "title", "type": "text", "stored": true, "indexed": true}]});
    tool(&conn, "index_create", json!({"id": "papers", "schema": schema})).await;
    tool(&conn, "index_create", json!({"id": "notes", "schema": schema})).await;
    let docs = json!([{"id": "d1", "title": "melanoma"}, {"id": "d2", "title": "glioma"}, {"id": "x9", "title": "lung"}]);
    tool(&conn, "index_add", json!({"id": "papers", "documents": docs})).await;
    let status = read_ok(&conn, "index://papers/status").await;
    assert_eq!((status["id"].as_str(), status["docs"].as_u64()), (Some("papers"), Some(3)), "{status}");
    let doc = read_ok(&conn, "index://papers/doc/d2").await;
    assert_eq!(doc["title"], "glioma");
    read_err(&conn, "index://papers/doc/nope", ErrorCode::RESOURCE_NOT_FOUND, "nope").await;
    read_err(&conn, "index://nowhere/status", ErrorCode::RESOURCE_NOT_FOUND, "nowhere").await;
    let listed: BTreeSet<String> =
        conn.list_all_resources().await.unwrap().into_iter().map(|r| r.uri).collect();
    assert!(
        listed.contains("index://papers/status") && listed.contains("index://notes/status"),
        "{listed:?}"
    );

    // Completions of index ids and of document ids (of the index named in the context).
    let ids = complete_resource(&conn, "index://{id}/status", "id", "PA", &[]).await;
    assert_eq!(ids.values, ["papers"]);
    assert_eq!(complete_resource(&conn, "index://{id}/status", "id", "", &[]).await.total, Some(2));
    let docs =
        complete_resource(&conn, "index://{id}/doc/{doc_id}", "doc_id", "d", &[("id", "papers")]).await;
    assert_eq!(
        docs.values.iter().collect::<BTreeSet<_>>(),
        BTreeSet::from([&"d1".to_owned(), &"d2".to_owned()])
    );
    assert!(
        complete_resource(&conn, "index://{id}/doc/{doc_id}", "doc_id", "d", &[]).await.values.is_empty()
    );

    // Prompt arguments by name: genes, mutations (the last item of a list), alterations of a gene.
    let prompts = conn.list_all_prompts().await.unwrap();
    assert!(prompts.iter().any(|p| p.name == "fixture_prompt"), "{prompts:?}");
    assert_eq!(complete_prompt(&conn, "gene", "BR", &[]).await.values, ["BRAF"]);
    let her = complete_prompt(&conn, "gene", "her", &[]).await;
    assert_eq!(her.values, ["HER1", "HER2", "HER3", "HER4", "HER-2"]);
    let muts = complete_prompt(&conn, "mutations", "EGFR L858R, kras", &[]).await;
    assert_eq!(muts.values, ["EGFR L858R, KRAS G12C", "EGFR L858R, KRAS G12D"]);
    let first = complete_prompt(&conn, "mutations", "EGFR", &[]).await;
    assert_eq!(first.values[..2], ["EGFR L858R", "EGFR T790M"]);
    assert_eq!(first.total, Some(4));
    let alts = complete_prompt(&conn, "alteration", "", &[("gene", "kras")]).await;
    assert_eq!(alts.values, ["G12C", "G12D"]);
    assert!(complete_prompt(&conn, "condition", "mel", &[]).await.values.is_empty());
    // Unknown prompts and templates are the client's error.
    let e = conn.complete_prompt_argument("no_such_prompt", "gene", "B", None).await.unwrap_err();
    assert!(matches!(&e, ServiceError::McpError(e) if e.code == ErrorCode::INVALID_PARAMS), "{e:?}");
    let e = conn.complete_resource_argument("nope://{x}", "x", "", None).await.unwrap_err();
    assert!(matches!(&e, ServiceError::McpError(e) if e.code == ErrorCode::INVALID_PARAMS), "{e:?}");

    // job://{job_id}: a finished job reads as job_status does, and completes by prefix.
    let ticket = tool(&conn, "fixture_slow", json!({"ms": 10, "text": "hi", "async_mode": true})).await;
    let job_id = ticket["job_id"].as_str().unwrap().to_owned();
    let uri = format!("job://{job_id}");
    let deadline = Instant::now() + Duration::from_secs(20);
    let job = loop {
        let job = read_ok(&conn, &uri).await;
        if job["status"] != "running" {
            break job;
        }
        assert!(Instant::now() < deadline, "{job}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!((job["status"].as_str(), job["result"]["text"].as_str()), (Some("completed"), Some("hi")));
    assert!(job["output"].as_str().unwrap().contains("line 9"), "{job}");
    read_err(&conn, "job://job-nope", ErrorCode::RESOURCE_NOT_FOUND, "job-nope").await;
    let listed = conn.list_all_resources().await.unwrap();
    let entry = listed.iter().find(|r| r.uri == uri).expect("the job is listed");
    assert!(entry.description.as_deref().unwrap().contains("fixture_slow"), "{entry:?}");
    let ids = complete_resource(&conn, "job://{job_id}", "job_id", &job_id[..8], &[]).await;
    assert_eq!(ids.values, [job_id.as_str()]);
    assert_eq!(complete_prompt(&conn, "job_id", "JOB-", &[]).await.values, [job_id]);
    conn.cancel().await.unwrap();
}

/// Waits until `cond` holds (or fails after 20 s).
async fn until(what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !cond() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn job_resources_notify_subscribers_over_http() {
    let dir = tempfile::tempdir().unwrap();
    let server = http_server("pipette-mcp-test", dir.path(), &[("PIPETTE_TOKEN", "team-token")]).await;
    let (a, wa) = http_watcher(&server.url, "team-token").await;
    let (b, wb) = http_watcher(&server.url, "team-token").await;

    // A slow job (10 steps of 300 ms) that both sessions follow.
    let ticket = tool(&a, "fixture_slow", json!({"ms": 3000, "text": "slow", "async_mode": true})).await;
    let uri = format!("job://{}", ticket["job_id"].as_str().unwrap());
    a.subscribe(SubscribeRequestParams::new(uri.clone())).await.unwrap();
    b.subscribe(SubscribeRequestParams::new(uri.clone())).await.unwrap();
    until("updates to both sessions", || wa.count(&uri) >= 2 && wb.count(&uri) >= 2).await;

    // a unsubscribes mid-way: it hears no more, while b hears the rest, up to the end.
    a.unsubscribe(UnsubscribeRequestParams::new(uri.clone())).await.unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    let (a_at_unsubscribe, b_at_unsubscribe) = (wa.count(&uri), wb.count(&uri));
    let running = read_ok(&a, &uri).await;
    assert_eq!(
        running["status"], "running",
        "the job must outlast the unsubscribe for this test to mean anything"
    );
    until("b's updates after a left", || wb.count(&uri) >= b_at_unsubscribe + 2).await;
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let job = read_ok(&b, &uri).await;
        if job["status"] == "completed" {
            break;
        }
        assert!(Instant::now() < deadline, "{job}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let b_at_end = wb.count(&uri);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(wa.count(&uri), a_at_unsubscribe, "no update after unsubscribe");
    assert!(b_at_end > b_at_unsubscribe);
    // Throttled: 10 steps and the end, not one notification per report.
    assert!(wb.count(&uri) <= 20, "{} updates", wb.count(&uri));
    // Only the subscribed URI was announced.
    assert!(wb.updates.lock().unwrap().iter().all(|u| u == &uri));

    // A session that goes away is dropped: b leaves, a new job still notifies a (re-subscribed) session.
    b.cancel().await.unwrap();
    let ticket = tool(&a, "fixture_slow", json!({"ms": 500, "async_mode": true})).await;
    let uri2 = format!("job://{}", ticket["job_id"].as_str().unwrap());
    a.subscribe(SubscribeRequestParams::new(uri2.clone())).await.unwrap();
    until("updates of the second job", || wa.count(&uri2) >= 1).await;
    // Subscribing to what pipette does not serve is refused.
    let e = a.subscribe(SubscribeRequestParams::new("gopher://x")).await.unwrap_err();
    assert!(matches!(&e, ServiceError::McpError(e) if e.code == ErrorCode::RESOURCE_NOT_FOUND), "{e:?}");
    a.cancel().await.unwrap();
}

/// A 2026-07-28 client (no `initialize`) follows a job through `subscriptions/listen`: the stream is
/// acknowledged with the job URI accepted (an unknown URI dropped), and carries resource updates.
#[tokio::test]
async fn a_2026_listen_stream_carries_job_updates() {
    use serde_json::{Value, json};
    let dir = tempfile::tempdir().unwrap();
    let mut raw = crate::support::Raw2026::start("pipette-mcp-test", dir.path());
    let caps = json!({});
    let mut seen: Vec<Value> = Vec::new();
    let discover = raw.ask(1, "server/discover", json!({}), &caps).await;
    assert_eq!(discover["result"]["capabilities"]["resources"]["subscribe"], true, "{discover}");
    let call = json!({"name": "fixture_slow", "arguments": {"ms": 1500, "text": "x", "async_mode": true}});
    let ticket = raw.ask(2, "tools/call", call, &caps).await;
    let job_id = ticket["result"]["structuredContent"]["job_id"].as_str().expect("a job ticket").to_owned();
    let uri = format!("job://{job_id}");
    let filter = json!({"notifications": {"resourceSubscriptions": [uri, "job://nope/extra"]}});
    raw.send(3, "subscriptions/listen", filter, &caps).await;
    let deadline = Instant::now() + Duration::from_secs(10);
    while seen.iter().filter(|m| m["method"] == "notifications/resources/updated").count() < 2 {
        assert!(Instant::now() < deadline, "no resource updates on the listen stream: {seen:?}");
        seen.push(raw.next().await);
    }
    let ack = seen.iter().find(|m| m["method"] == "notifications/subscriptions/acknowledged");
    let ack = ack.unwrap_or_else(|| panic!("the stream is acknowledged first: {seen:?}"));
    assert_eq!(ack["params"]["notifications"]["resourceSubscriptions"], json!([uri]), "{ack}");
    let update = seen.iter().find(|m| m["method"] == "notifications/resources/updated").unwrap();
    assert_eq!(update["params"]["uri"], uri.as_str(), "{update}");
}
