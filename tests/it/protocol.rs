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
    assert_eq!(
        names,
        [
            "find_trials_for_mutations",
            "literature_review",
            "literature_to_index",
            "mutation_panel",
            "triage_test_run"
        ]
    );
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

    // The saved workflows, run by name: the prompt hands over the definition for workflow_run.
    let lit = get("literature_to_index", json!({ "query": "BRAF V600E", "index": "braf" })).await.unwrap();
    let text = serde_json::to_string(&lit.messages).unwrap();
    assert!(
        text.contains("workflow_run") && text.contains("pubmed_fetch") && text.contains("index_add"),
        "{text}"
    );
    let bad = get("literature_to_index", json!({ "query": "x", "index": "../up" })).await.unwrap_err();
    assert!(format!("{bad:?}").contains("index"), "{bad:?}");
    let panel = get("mutation_panel", json!({ "mutations": "EGFR L858R" })).await.unwrap();
    let text = serde_json::to_string(&panel.messages).unwrap();
    assert!(text.contains("trials_match_batch") && text.contains("trial_get"), "{text}");
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
    // A bad or unknown id is refused before the person is asked anything.
    for (id, kind) in [("\u{0}\u{0}", "invalid_argument"), ("nowhere", "not_found")] {
        let r = call(&conn, "index_drop", json!({ "id": id })).await;
        assert_eq!(error_kind(&r), kind, "{id:?}: {:?}", r.content);
    }
    assert!(person.elicited.lock().unwrap().is_empty(), "nobody is asked to delete what cannot be deleted");
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

/// The protocol edges of issue 17, as raw bytes: each is answered with its request's id and the right code,
/// and the server still answers `ping` after it.
fn edge_cases() -> Vec<(&'static str, Vec<u8>, Value, i64)> {
    let mut deep =
        br#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"health","arguments":{"a":"#
            .to_vec();
    deep.extend(std::iter::repeat_n(b'[', 10_000));
    deep.extend(std::iter::repeat_n(b']', 10_000));
    deep.extend_from_slice(b"}}}");
    let call = |id: u32, args: &str| {
        format!(r#"{{"jsonrpc":"2.0","id":{id},"method":"tools/call","params":{{"name":"health","arguments":{args}}}}}"#)
            .into_bytes()
    };
    vec![
        ("arguments nested 10k deep", deep, json!(1), -32600),
        ("a lone surrogate", call(2, r#"{"a":"\ud800"}"#), json!(2), -32700),
        ("invalid UTF-8", [&call(3, r#"{"a":"#)[..], b"\"\xff\xfe\"}}}"].concat(), json!(3), -32700),
        (
            "trailing garbage",
            br#"{"jsonrpc":"2.0","id":"four","method":"ping"} garbage"#.to_vec(),
            json!("four"),
            -32700,
        ),
        ("jsonrpc 1.0", br#"{"jsonrpc":"1.0","id":5,"method":"ping"}"#.to_vec(), json!(5), -32600),
        ("arguments that are a string", call(6, r#""x""#), json!(6), -32602),
        (
            "a message cut short",
            br#"{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"#.to_vec(),
            json!(7),
            -32700,
        ),
        ("no method", br#"{"jsonrpc":"2.0","id":8}"#.to_vec(), json!(8), -32600),
        ("a batch", br#"[{"jsonrpc":"2.0","id":10,"method":"ping"}]"#.to_vec(), json!(10), -32600),
    ]
}

/// A raw stdio session with `pipette-mcp`: lines in, lines out.
struct RawStdio {
    _child: tokio::process::Child,
    stdin: tokio::process::ChildStdin,
    lines: tokio::io::Lines<tokio::io::BufReader<tokio::process::ChildStdout>>,
}

impl RawStdio {
    async fn start(dir: &std::path::Path) -> RawStdio {
        let mut cmd = command("pipette-mcp", dir);
        cmd.stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null());
        let mut child = cmd.spawn().expect("spawn pipette-mcp");
        let stdin = child.stdin.take().unwrap();
        let lines =
            tokio::io::AsyncBufReadExt::lines(tokio::io::BufReader::new(child.stdout.take().unwrap()));
        let mut raw = RawStdio { _child: child, stdin, lines };
        raw.send(br#"{"jsonrpc":"2.0","id":"init","method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"raw","version":"1"}}}"#).await;
        raw.answer(&json!("init")).await;
        raw.send(br#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#).await;
        raw
    }

    async fn send(&mut self, bytes: &[u8]) {
        use tokio::io::AsyncWriteExt as _;
        self.stdin.write_all(bytes).await.unwrap();
        self.stdin.write_all(b"\n").await.unwrap();
        self.stdin.flush().await.unwrap();
    }

    /// The next message answering `id` (others are skipped); a server that never answers fails the test
    /// after 30 s instead of hanging it.
    async fn answer(&mut self, id: &Value) -> Value {
        let wait = async {
            loop {
                let line = self.lines.next_line().await.unwrap().expect("the server closed stdout");
                let v: Value =
                    serde_json::from_str(&line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
                if v["id"] == *id {
                    return v;
                }
            }
        };
        tokio::time::timeout(std::time::Duration::from_secs(30), wait)
            .await
            .unwrap_or_else(|_| panic!("no answer with id {id}"))
    }

    async fn ping(&mut self, n: u32) {
        self.send(format!(r#"{{"jsonrpc":"2.0","id":"ping-{n}","method":"ping"}}"#).as_bytes()).await;
        let pong = self.answer(&json!(format!("ping-{n}"))).await;
        assert_eq!(pong["result"], json!({}), "{pong}");
    }
}

#[tokio::test]
async fn every_malformed_request_over_stdio_is_answered_with_its_id() {
    let dir = tempfile::tempdir().unwrap();
    let mut raw = RawStdio::start(dir.path()).await;
    for (n, (what, bytes, id, code)) in edge_cases().into_iter().enumerate() {
        raw.send(&bytes).await;
        let answer = raw.answer(&id).await;
        assert_eq!(answer["error"]["code"], code, "{what}: {answer}");
        assert_eq!(answer["jsonrpc"], "2.0", "{what}: {answer}");
        raw.ping(u32::try_from(n).unwrap()).await;
    }
    // A line past the 4 MiB bound is answered from its start, and the next line is read normally.
    let mut big =
        br#"{"jsonrpc":"2.0","id":"big","method":"tools/call","params":{"name":"health","arguments":{"a":""#
            .to_vec();
    big.extend(std::iter::repeat_n(b'a', 5 << 20));
    big.extend_from_slice(br#""}}}"#);
    raw.send(&big).await;
    let answer = raw.answer(&json!("big")).await;
    assert_eq!(answer["error"]["code"], -32600, "{answer}");
    raw.ping(100).await;
}

#[tokio::test]
async fn a_huge_value_is_quoted_by_its_first_100_bytes_and_wrong_params_name_themselves() {
    let dir = tempfile::tempdir().unwrap();
    let mut raw = RawStdio::start(dir.path()).await;
    let huge = "L".repeat(1 << 20);
    raw.send(
        format!(r#"{{"jsonrpc":"2.0","id":1,"method":"logging/setLevel","params":{{"level":"{huge}"}}}}"#)
            .as_bytes(),
    )
    .await;
    let answer = raw.answer(&json!(1)).await;
    let message = answer["error"]["message"].as_str().unwrap();
    assert_eq!(answer["error"]["code"], -32602, "{answer}");
    assert!(message.contains("logging/setLevel") && message.len() < 400, "{message}");
    raw.send(format!(r#"{{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{{"name":"invalidate_cache","arguments":{{"pattern":"{huge}"}}}}}}"#).as_bytes())
        .await;
    let answer = raw.answer(&json!(2)).await;
    let error = &answer["result"]["_meta"]["pipette/error"];
    assert_eq!(error["param"], "pattern", "{error}");
    assert!(
        answer.to_string().len() < 2000,
        "the 1 MB pattern is not echoed: {} bytes",
        answer.to_string().len()
    );
    raw.ping(0).await;
}

#[tokio::test]
async fn every_malformed_request_over_http_gets_400_with_its_id() {
    let dir = tempfile::tempdir().unwrap();
    let server = http_server("pipette-mcp", dir.path(), &[]).await;
    let http = reqwest::Client::new();
    let post = |body: Vec<u8>, session: Option<String>| {
        let mut req = http
            .post(&server.url)
            .header("content-type", "application/json")
            .header("accept", "application/json, text/event-stream")
            .header("mcp-protocol-version", "2025-11-25")
            .body(body);
        if let Some(s) = session {
            req = req.header("mcp-session-id", s);
        }
        req.send()
    };
    let init = br#"{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"raw","version":"1"}}}"#;
    let resp = post(init.to_vec(), None).await.unwrap();
    assert_eq!(resp.status(), 200);
    let session = resp.headers()["mcp-session-id"].to_str().unwrap().to_owned();
    let initialized = br#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#.to_vec();
    assert_eq!(post(initialized, Some(session.clone())).await.unwrap().status(), 202);
    for (n, (what, bytes, id, code)) in edge_cases().into_iter().enumerate() {
        let resp = post(bytes, Some(session.clone())).await.unwrap();
        assert_eq!(resp.status(), 400, "{what}");
        let body: Value = resp.json().await.unwrap();
        let answer = if body.is_array() { body[0].clone() } else { body };
        assert_eq!((&answer["id"], &answer["error"]["code"]), (&id, &json!(code)), "{what}: {answer}");
        let ping = format!(r#"{{"jsonrpc":"2.0","id":"ping-{n}","method":"ping"}}"#).into_bytes();
        let pong = post(ping, Some(session.clone())).await.unwrap();
        assert_eq!(pong.status(), 200, "{what}: ping after it");
        let text = pong.text().await.unwrap();
        assert!(
            text.contains(&format!(r#""id":"ping-{n}""#)) && text.contains(r#""result":{}"#),
            "{what}: {text}"
        );
    }
    let mut big = br#"{"jsonrpc":"2.0","id":"big","method":"ping","params":{"a":""#.to_vec();
    big.extend(std::iter::repeat_n(b'a', 5 << 20));
    big.extend_from_slice(br#""}}"#);
    let resp = post(big, Some(session.clone())).await.unwrap();
    assert_eq!(resp.status(), 413);
    let answer: Value = resp.json().await.unwrap();
    assert_eq!(answer["id"], "big", "{answer}");
}

/// For every tool and every argument it declares: a value of the wrong kind is refused naming that argument
/// (or, for a tool that needs another argument first, naming the missing one) — never `arguments` as a
/// whole. An integer past u64 is refused for every integer argument. The upstreams point at a closed port.
#[tokio::test]
async fn every_tools_bad_argument_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let dead = "http://127.0.0.1:9";
    let env = [
        ("PIPETTE_PUBMED_BASE", dead),
        ("PIPETTE_CTGOV_BASE", dead),
        ("PIPETTE_UNIPROT_BASE", dead),
        ("PIPETTE_CHEMBL_BASE", dead),
    ];
    let (conn, _) = crate::support::stdio_with("pipette-mcp", dir.path(), &env).await;
    let tools = conn.list_all_tools().await.unwrap();
    assert!(tools.len() > 20, "{} tools", tools.len());
    let huge: Value = serde_json::from_str("18446744073709551616").unwrap();
    let mut checked = 0;
    for tool in &tools {
        let props =
            tool.input_schema.get("properties").and_then(Value::as_object).cloned().unwrap_or_default();
        for (prop, schema) in &props {
            let integer = schema.to_string().contains(r#""type":"integer""#)
                || schema["type"].as_array().is_some_and(|t| t.contains(&json!("integer")));
            for bad in [huge.clone(), json!({ "x": { "y": 1 } }), json!(true)] {
                let r = crate::support::call(&conn, &tool.name, json!({ prop: bad })).await;
                let error = r.meta.as_ref().and_then(|m| m.get("pipette/error")).cloned().unwrap_or_default();
                let what = format!("{} {prop}={bad}: {error}", tool.name);
                if integer && bad == huge {
                    assert_eq!(error["kind"], "invalid_argument", "{what}");
                }
                if error["kind"] != "invalid_argument" {
                    continue;
                }
                let param = error["param"].as_str().unwrap_or_default();
                let message = error["message"].as_str().unwrap_or_default();
                assert_ne!(param, "arguments", "{what}");
                assert!(
                    param == prop
                        || param.starts_with(&format!("{prop}."))
                        || message.contains("required property"),
                    "{what}"
                );
                assert!(message.len() < 1200, "{what}");
                checked += 1;
            }
        }
    }
    assert!(checked > 100, "only {checked} refusals checked");
    conn.cancel().await.unwrap();
}
