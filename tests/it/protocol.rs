//! The protocol beyond tools, end to end with rmcp's client: prompts, logging, sampling and elicitation,
//! against the real binaries over stdio and HTTP.

// Sampling and logging are deprecated for 2026-07-28 peers (SEP-2577) and current for 2025-11-25 ones.
#![allow(deprecated)]

use std::sync::{Arc, Mutex};

use pipette_test_support::{Reply, UpstreamServer};
use rmcp::model::{
    ClientCapabilities, ClientConfig, CreateMessageRequestParams, CreateMessageResult, ElicitRequestParams,
    ElicitResult, GetPromptRequestParams, Implementation, LoggingLevel, LoggingMessageNotificationParam,
    ProtocolVersion, SamplingMessage, SetLevelRequestParams,
};
use rmcp::service::{NotificationContext, RequestContext, RunningService};
use rmcp::transport::TokioChildProcess;
use rmcp::{ClientHandler, ErrorData as McpError, RoleClient, ServiceExt};
use serde_json::{Value, json};

use crate::support::{command, http_server, params};

/// How the person behind the client answers.
#[derive(Clone, Copy, PartialEq)]
enum Answer {
    Accept,
    Decline,
}

/// A client with a model (sampling) and a person (elicitation), recording what the server sent.
#[derive(Clone)]
struct Person {
    capable: bool,
    answer: Answer,
    logs: Arc<Mutex<Vec<LoggingMessageNotificationParam>>>,
    sampled: Arc<Mutex<Vec<String>>>,
    elicited: Arc<Mutex<Vec<Value>>>,
}

impl Person {
    fn new(capable: bool, answer: Answer) -> Person {
        Person {
            capable,
            answer,
            logs: Default::default(),
            sampled: Default::default(),
            elicited: Default::default(),
        }
    }
}

impl ClientHandler for Person {
    fn get_info(&self) -> ClientConfig {
        let caps = if self.capable {
            ClientCapabilities::builder().enable_sampling().enable_elicitation().build()
        } else {
            ClientCapabilities::default()
        };
        ClientConfig::new(caps, Implementation::new("person", "1.0"))
            .with_protocol_version(ProtocolVersion::V_2025_11_25)
    }

    async fn create_message(
        &self,
        params: CreateMessageRequestParams,
        _context: RequestContext<RoleClient>,
    ) -> Result<CreateMessageResult, McpError> {
        self.sampled.lock().unwrap().push(serde_json::to_string(&params).unwrap());
        let message = SamplingMessage::assistant_text("MODEL SUMMARY: one strong match.");
        Ok(CreateMessageResult::new(message, "test-model".into()))
    }

    async fn create_elicitation(
        &self,
        request: ElicitRequestParams,
        _context: RequestContext<RoleClient>,
    ) -> Result<ElicitResult, McpError> {
        self.elicited.lock().unwrap().push(serde_json::to_value(&request).unwrap());
        let v = match self.answer {
            Answer::Accept => json!({ "action": "accept", "content": { "confirm": true } }),
            Answer::Decline => json!({ "action": "decline" }),
        };
        Ok(serde_json::from_value(v).unwrap())
    }

    async fn on_logging_message(
        &self,
        params: LoggingMessageNotificationParam,
        _context: NotificationContext<RoleClient>,
    ) {
        self.logs.lock().unwrap().push(params);
    }
}

type PersonConn = RunningService<RoleClient, Person>;

async fn connect(name: &str, dir: &std::path::Path, env: &[(&str, String)], person: Person) -> PersonConn {
    let mut cmd = command(name, dir);
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.stderr(std::process::Stdio::null());
    person.serve(TokioChildProcess::new(cmd).unwrap()).await.expect("initialize")
}

async fn call(conn: &PersonConn, tool: &str, args: Value) -> rmcp::model::CallToolResult {
    conn.call_tool(params(tool, args)).await.expect("tools/call answered")
}

fn error_kind(r: &rmcp::model::CallToolResult) -> String {
    let meta = r.meta.as_ref().and_then(|m| m.get("pipette/error")).cloned().unwrap_or_default();
    meta["kind"].as_str().unwrap_or_default().to_owned()
}

fn set_level(level: LoggingLevel) -> SetLevelRequestParams {
    SetLevelRequestParams::new(level)
}

#[tokio::test]
async fn logging_follows_the_clients_level_and_arrives_before_the_result() {
    let dir = tempfile::tempdir().unwrap();
    let person = Person::new(false, Answer::Accept);
    let conn = connect("pipette-mcp-test", dir.path(), &[], person.clone()).await;

    // Before logging/setLevel: nothing.
    call(&conn, "fixture_log", json!({ "tag": "quiet" })).await;
    assert!(person.logs.lock().unwrap().is_empty(), "no messages before the client asks");

    conn.set_level(set_level(LoggingLevel::Warning)).await.unwrap();
    call(&conn, "fixture_log", json!({ "tag": "warn-level" })).await;
    let levels: Vec<LoggingLevel> = {
        let logs = person.logs.lock().unwrap();
        logs.iter().filter(|l| l.data.to_string().contains("warn-level")).map(|l| l.level).collect()
    };
    assert_eq!(levels, vec![LoggingLevel::Warning, LoggingLevel::Error], "warning and above, in order");

    conn.set_level(set_level(LoggingLevel::Debug)).await.unwrap();
    call(&conn, "fixture_log", json!({ "tag": "debug-level" })).await;
    let logs = person.logs.lock().unwrap().clone();
    let mine: Vec<_> = logs.iter().filter(|l| l.data.to_string().contains("debug-level")).collect();
    assert_eq!(mine.len(), 4, "all four levels: {mine:?}");
    assert_eq!(mine[0].data["message"], "fixture debug");
    assert_eq!(mine[0].logger.as_deref(), Some("pipette_tests::fixture_tools"));
    conn.cancel().await.unwrap();
}

#[tokio::test]
async fn logs_of_a_call_go_to_its_own_session_only() {
    let dir = tempfile::tempdir().unwrap();
    let server = http_server("pipette-mcp-test", dir.path(), &[]).await;
    let connect_http = |person: Person| {
        let url = server.url.clone();
        async move {
            let transport = rmcp::transport::StreamableHttpClientTransport::from_uri(url);
            person.serve(transport).await.expect("initialize over HTTP")
        }
    };
    let (a, b) = (Person::new(false, Answer::Accept), Person::new(false, Answer::Accept));
    let conn_a = connect_http(a.clone()).await;
    let conn_b = connect_http(b.clone()).await;
    conn_a.set_level(set_level(LoggingLevel::Info)).await.unwrap();
    conn_b.set_level(set_level(LoggingLevel::Info)).await.unwrap();
    call(&conn_a, "fixture_log", json!({ "tag": "from-a" })).await;
    call(&conn_b, "fixture_log", json!({ "tag": "from-b" })).await;
    let seen = |p: &Person, tag: &str| {
        p.logs.lock().unwrap().iter().filter(|l| l.data.to_string().contains(tag)).count()
    };
    // Over HTTP the client handles notifications on its own task: give a loaded machine a moment.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while (seen(&a, "from-a") < 3 || seen(&b, "from-b") < 3) && std::time::Instant::now() < deadline {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!((seen(&a, "from-a"), seen(&a, "from-b")), (3, 0), "info, warn, error of its own call only");
    assert_eq!((seen(&b, "from-b"), seen(&b, "from-a")), (3, 0));
}

#[tokio::test]
async fn prompts_list_and_get_validate_arguments_like_tools() {
    let dir = tempfile::tempdir().unwrap();
    let conn = connect("pipette-mcp", dir.path(), &[], Person::new(false, Answer::Accept)).await;
    let prompts = conn.list_all_prompts().await.unwrap();
    let names: Vec<_> = prompts.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["find_trials_for_mutations", "literature_review", "triage_test_run"]);
    let trials = &prompts[0];
    let args: Vec<_> =
        trials.arguments.iter().flatten().map(|a| (a.name.as_str(), a.required.unwrap_or(false))).collect();
    assert_eq!(args, [("condition", false), ("location", false), ("mutations", true)]);

    let get = |name: &str, args: Value| {
        let mut p = GetPromptRequestParams::new(name);
        p.arguments = args.as_object().cloned();
        conn.get_prompt(p)
    };
    let ok = get(
        "find_trials_for_mutations",
        json!({ "mutations": "braf v600e, EGFR exon 19 del", "condition": "NSCLC" }),
    )
    .await
    .unwrap();
    let text = serde_json::to_string(&ok.messages).unwrap();
    assert!(
        text.contains("BRAF V600E") && text.contains("EGFR exon 19 deletion"),
        "canonical labels: {text}"
    );
    assert!(text.contains("trials_match_batch") && text.contains("NSCLC"), "{text}");

    let bad = get("find_trials_for_mutations", json!({ "mutations": "BRAF banana" })).await.unwrap_err();
    let msg = format!("{bad:?}");
    assert!(msg.contains("mutations") && msg.contains("banana"), "the argument is named: {msg}");
    let missing = get("find_trials_for_mutations", json!({})).await.unwrap_err();
    assert!(format!("{missing:?}").contains("mutations"), "{missing:?}");
    let unknown = get("no_such_prompt", json!({})).await.unwrap_err();
    assert!(format!("{unknown:?}").contains("find_trials_for_mutations"), "{unknown:?}");

    let review = get("literature_review", json!({ "gene": "kras", "alteration": "G12C" })).await.unwrap();
    assert!(serde_json::to_string(&review.messages).unwrap().contains("KRAS G12C"));
    let triage = get("triage_test_run", json!({ "job_id": "nope" })).await.unwrap_err();
    assert!(format!("{triage:?}").contains("nope"), "an unknown job is named: {triage:?}");

    // completion/complete for the prompts' own arguments.
    let complete = |prompt: &'static str, arg: &'static str, value: &'static str| {
        let conn = conn.clone();
        async move {
            let info =
                conn.complete_prompt_argument(prompt, arg, value, None).await.expect("completion/complete");
            info.values
        }
    };
    let genes = complete("literature_review", "gene", "KR").await;
    assert_eq!(genes.first().map(String::as_str), Some("KRAS"), "{genes:?}");
    let muts = complete("find_trials_for_mutations", "mutations", "EGFR L858R, braf").await;
    assert!(
        muts.iter().any(|m| m == "EGFR L858R, BRAF V600E"),
        "the last item of the list is completed: {muts:?}"
    );
    assert!(complete("triage_test_run", "path", "/").await.is_empty(), "no guesses for free text");
    conn.cancel().await.unwrap();
}

/// The recorded ClinicalTrials.gov answers (the EGFR L858R search and its two studies) and PubMed's, served
/// locally, with the environment that points pipette-mcp at them.
async fn upstream() -> (UpstreamServer, Vec<(&'static str, String)>) {
    let server = UpstreamServer::start().await;
    server.route(
        "GET",
        "/ctgov/studies",
        Reply::fixture("clinicaltrials/search_nsclc_egfr_l858r_20260811.json"),
    );
    for id in ["NCT06604689", "NCT06382129"] {
        let file = format!("clinicaltrials/get_{}_20260811.json", id.to_ascii_lowercase());
        server.route("GET", &format!("/ctgov/studies/{id}"), Reply::fixture(&file));
    }
    server.route(
        "GET",
        "/eutils/esearch.fcgi",
        Reply::fixture("pubmed/esearch_json_apc_pE1317Q_retmax100.json"),
    );
    server.route("GET", "/eutils/efetch.fcgi", Reply::fixture("pubmed/efetch_pubmed_22663011.xml"));
    let url = server.url();
    let env = vec![
        ("PIPETTE_CTGOV_BASE", format!("{url}/ctgov")),
        ("PIPETTE_CTGOV_RATE", "0".into()),
        ("PIPETTE_PUBMED_BASE", format!("{url}/eutils")),
        ("PIPETTE_PUBMED_RATE", "0".into()),
    ];
    (server, env)
}

#[tokio::test]
async fn summaries_come_from_the_clients_model_when_it_can_sample() {
    let (_upstream, env) = upstream().await;
    let dir = tempfile::tempdir().unwrap();
    let args = json!({ "mutation": "EGFR L858R", "summarize": true });

    let person = Person::new(true, Answer::Accept);
    let conn = connect("pipette-mcp", dir.path(), &env, person.clone()).await;
    let r = call(&conn, "trials_match", args.clone()).await;
    assert_ne!(r.is_error, Some(true), "{:?}", r.content);
    let s = r.structured_content.clone().unwrap();
    assert_eq!(s["summary"]["source"], "client_model", "{}", s["summary"]);
    assert_eq!(s["summary"]["model"], "test-model");
    assert_eq!(s["summary"]["text"], "MODEL SUMMARY: one strong match.");
    assert!(s["summary_markdown"].as_str().unwrap().contains("NCT06604689"), "the deterministic one stays");
    assert!(crate::support::text(&r).starts_with("MODEL SUMMARY"), "the text content is the model's summary");
    let asked = person.sampled.lock().unwrap().clone();
    assert_eq!(asked.len(), 1);
    assert!(asked[0].contains("NCT06604689"), "the model saw the matches: {}", asked[0]);
    assert!(asked[0].contains("\"maxTokens\":600"), "{}", asked[0]);
    let plain = call(&conn, "trials_match", json!({ "mutation": "EGFR L858R" })).await;
    assert!(plain.structured_content.unwrap().get("summary").is_none(), "no summary unless asked");
    assert_eq!(person.sampled.lock().unwrap().len(), 1, "and no sampling");
    conn.cancel().await.unwrap();

    // A client that cannot sample gets the deterministic markdown, and is told why.
    let conn = connect("pipette-mcp", dir.path(), &env, Person::new(false, Answer::Accept)).await;
    let s = call(&conn, "trials_match", args).await.structured_content.unwrap();
    assert_eq!(s["summary"]["source"], "deterministic");
    assert_eq!(s["summary"]["text"], s["summary_markdown"]);
    assert!(s["summary"]["fallback_reason"].as_str().unwrap().contains("sampling"));
    let s = call(&conn, "pubmed_search", json!({ "query": "APC p.E1317Q", "summarize": true }))
        .await
        .structured_content
        .unwrap();
    assert_eq!(s["summary"]["source"], "deterministic");
    assert!(s["summary"]["text"].as_str().unwrap().starts_with("## PubMed: "), "{}", s["summary"]);
    conn.cancel().await.unwrap();
}

async fn create(conn: &PersonConn) {
    let r = call(conn, "index_create", json!({ "id": "keep", "schema": { "builtin": "pubmed" } })).await;
    assert_ne!(r.is_error, Some(true), "{:?}", r.content);
}

async fn exists(conn: &PersonConn) -> bool {
    let list = call(conn, "index_list", json!({})).await.structured_content.unwrap();
    list.to_string().contains("\"keep\"")
}

#[tokio::test]
async fn destructive_tools_ask_the_person_or_need_confirm() {
    let dir = tempfile::tempdir().unwrap();

    // A person who declines: nothing is deleted, and the error says so.
    let person = Person::new(true, Answer::Decline);
    let conn = connect("pipette-mcp", dir.path(), &[], person.clone()).await;
    create(&conn).await;
    let r = call(&conn, "index_drop", json!({ "id": "keep" })).await;
    assert_eq!(r.is_error, Some(true));
    assert_eq!(error_kind(&r), "cancelled", "{:?}", r.content);
    let asked = person.elicited.lock().unwrap().clone();
    assert_eq!(asked.len(), 1);
    assert!(asked[0]["message"].as_str().unwrap().contains("delete the index `keep`"), "{}", asked[0]);
    assert_eq!(asked[0]["requestedSchema"]["properties"]["confirm"]["type"], "boolean");
    assert!(exists(&conn).await, "declined: the index is still there");
    conn.cancel().await.unwrap();

    // A client that cannot ask: refused, naming `confirm`; with confirm: true it goes ahead.
    let conn = connect("pipette-mcp", dir.path(), &[], Person::new(false, Answer::Accept)).await;
    let r = call(&conn, "index_drop", json!({ "id": "keep" })).await;
    assert_eq!(error_kind(&r), "invalid_argument");
    assert!(crate::support::text(&r).contains("confirm: true"), "{}", crate::support::text(&r));
    let r = call(&conn, "invalidate_cache", json!({ "pattern": "*" })).await;
    assert_eq!(error_kind(&r), "invalid_argument", "emptying the whole cache needs confirmation too");
    let r = call(&conn, "invalidate_cache", json!({ "pattern": "pubmed:*" })).await;
    assert_ne!(r.is_error, Some(true), "a narrow invalidation does not ask");
    let r = call(&conn, "index_drop", json!({ "id": "keep", "confirm": true })).await;
    assert_ne!(r.is_error, Some(true), "{:?}", r.content);
    assert!(!exists(&conn).await);
    conn.cancel().await.unwrap();

    // A person who accepts: done after one question.
    let person = Person::new(true, Answer::Accept);
    let conn = connect("pipette-mcp", dir.path(), &[], person.clone()).await;
    create(&conn).await;
    let r = call(&conn, "index_drop", json!({ "id": "keep" })).await;
    assert_ne!(r.is_error, Some(true), "{:?}", r.content);
    assert_eq!(person.elicited.lock().unwrap().len(), 1);
    assert!(!exists(&conn).await);
    conn.cancel().await.unwrap();
}
