//! Streamable HTTP on the wire, with a raw HTTP client: resumable streams (event ids, `Last-Event-ID`),
//! several streams per session, session termination with DELETE, DNS-rebinding protection, and the
//! operators' probes (`/livez`, `/readyz`, `/health`) and `/metrics`.

use std::time::Duration;

use serde_json::{Value, json};

use crate::support::{call, call_ok, http_client, http_server, text};

/// One server-sent event.
#[derive(Debug, Default, Clone)]
struct Event {
    id: Option<String>,
    data: String,
}

/// Reads events from an SSE response until `stop` says so, the stream ends, or `limit` passes.
async fn read_events(
    resp: &mut reqwest::Response,
    limit: Duration,
    stop: impl Fn(&Event) -> bool,
) -> Vec<Event> {
    let mut events = Vec::new();
    let mut buf = String::new();
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        let chunk = match tokio::time::timeout_at(deadline, resp.chunk()).await {
            Ok(Ok(Some(c))) => c,
            _ => return events,
        };
        buf.push_str(&String::from_utf8_lossy(&chunk));
        while let Some(end) = buf.find("\n\n") {
            let block: String = buf.drain(..end + 2).collect();
            let mut ev = Event::default();
            for line in block.lines() {
                if let Some(v) = line.strip_prefix("id:") {
                    ev.id = Some(v.trim().to_owned());
                } else if let Some(v) = line.strip_prefix("data:") {
                    ev.data.push_str(v.trim_start());
                }
            }
            let done = stop(&ev);
            events.push(ev);
            if done {
                return events;
            }
        }
    }
}

fn answers(ev: &Event, id: u64) -> bool {
    serde_json::from_str::<Value>(&ev.data).is_ok_and(|v| v["id"] == id && v.get("result").is_some())
}

struct Session {
    http: reqwest::Client,
    url: String,
    id: String,
}

impl Session {
    async fn open(url: &str) -> Session {
        let http = reqwest::Client::new();
        let init = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
            "protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "raw", "version": "1"}}});
        let resp = post(&http, url, None, &init).await;
        assert_eq!(resp.status(), 200);
        let id = resp.headers()["mcp-session-id"].to_str().unwrap().to_owned();
        let session = Session { http, url: url.to_owned(), id };
        let initialized = json!({"jsonrpc": "2.0", "method": "notifications/initialized"});
        assert_eq!(post(&session.http, url, Some(&session.id), &initialized).await.status(), 202);
        session
    }

    async fn post(&self, body: &Value) -> reqwest::Response {
        post(&self.http, &self.url, Some(&self.id), body).await
    }
}

async fn post(http: &reqwest::Client, url: &str, session: Option<&str>, body: &Value) -> reqwest::Response {
    let mut req = http
        .post(url)
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .header("mcp-protocol-version", "2025-11-25")
        .body(body.to_string());
    if let Some(s) = session {
        req = req.header("mcp-session-id", s);
    }
    req.send().await.unwrap()
}

#[tokio::test]
async fn a_dropped_stream_resumes_from_its_last_event_id() {
    let dir = tempfile::tempdir().unwrap();
    let server = http_server("pipette-mcp-test", dir.path(), &[]).await;
    let session = Session::open(&server.url).await;

    // A call whose answer comes later; the client drops the stream after the first event.
    let call = json!({"jsonrpc": "2.0", "id": 7, "method": "tools/call",
        "params": {"name": "fixture_block", "arguments": {"ms": 400, "text": "resumed"}}});
    let mut resp = session.post(&call).await;
    assert!(resp.headers()["content-type"].to_str().unwrap().starts_with("text/event-stream"));
    let first = read_events(&mut resp, Duration::from_secs(5), |e| e.id.is_some()).await;
    let last_id = first.iter().rev().find_map(|e| e.id.clone()).expect("events carry ids");
    assert!(!first.iter().any(|e| answers(e, 7)), "dropped before the answer: {first:?}");
    drop(resp);
    tokio::time::sleep(Duration::from_millis(800)).await; // the answer is written while nobody listens

    let mut resumed = session
        .http
        .get(&server.url)
        .header("accept", "text/event-stream")
        .header("mcp-session-id", &session.id)
        .header("mcp-protocol-version", "2025-11-25")
        .header("last-event-id", &last_id)
        .send()
        .await
        .unwrap();
    assert_eq!(resumed.status(), 200);
    let events = read_events(&mut resumed, Duration::from_secs(10), |e| answers(e, 7)).await;
    let answer =
        events.iter().find(|e| answers(e, 7)).unwrap_or_else(|| panic!("no answer replayed: {events:?}"));
    let v: Value = serde_json::from_str(&answer.data).unwrap();
    assert_eq!(v["result"]["structuredContent"]["text"], "resumed", "{v}");
}

#[tokio::test]
async fn streams_run_side_by_side_and_delete_ends_the_session() {
    let dir = tempfile::tempdir().unwrap();
    let server = http_server("pipette-mcp-test", dir.path(), &[]).await;
    let session = Session::open(&server.url).await;

    // Three calls at once on one session, each answered on its own stream.
    let calls = (0..3u64).map(|i| {
        let body = json!({"jsonrpc": "2.0", "id": 100 + i, "method": "tools/call",
            "params": {"name": "fixture_block", "arguments": {"ms": 300, "text": format!("s{i}")}}});
        let session = &session;
        async move {
            let mut resp = session.post(&body).await;
            let events = read_events(&mut resp, Duration::from_secs(10), |e| answers(e, 100 + i)).await;
            events.iter().any(|e| answers(e, 100 + i))
        }
    });
    let answered = futures::future::join_all(calls).await;
    assert_eq!(answered, [true, true, true]);

    let deleted = session
        .http
        .delete(&server.url)
        .header("mcp-session-id", &session.id)
        .header("mcp-protocol-version", "2025-11-25")
        .send()
        .await
        .unwrap();
    assert!(deleted.status().is_success(), "{}", deleted.status());
    let after = session.post(&json!({"jsonrpc": "2.0", "id": 9, "method": "tools/list"})).await;
    assert_eq!(after.status(), 404, "a terminated session is gone");
}

#[tokio::test]
async fn a_rebinding_host_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let server = http_server("pipette-mcp-test", dir.path(), &[]).await;
    let init = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "raw", "version": "1"}}});
    let http = reqwest::Client::new();
    let send = |host: &'static str| {
        http.post(&server.url)
            .header("host", host)
            .header("origin", format!("http://{host}"))
            .header("content-type", "application/json")
            .header("accept", "application/json, text/event-stream")
            .body(init.to_string())
            .send()
    };
    let evil = send("evil.example.com").await.unwrap();
    assert!(evil.status().is_client_error(), "{}", evil.status());
    let port = server.base.rsplit(':').next().unwrap().to_owned();
    let good = http
        .post(&server.url)
        .header("host", format!("localhost:{port}"))
        .header("origin", format!("http://localhost:{port}"))
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .body(init.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(good.status(), 200);
}

/// The value of one `/metrics` series, by its exact name and labels (`None` when absent).
fn series(metrics: &str, name_and_labels: &str) -> Option<f64> {
    metrics.lines().find_map(|l| l.strip_prefix(name_and_labels)?.strip_prefix(' ')?.trim().parse().ok())
}

#[tokio::test]
async fn probes_tell_liveness_from_readiness_and_an_open_circuit_only_degrades_health() {
    let dir = tempfile::tempdir().unwrap();
    // ClinicalTrials.gov at a port nobody listens on: one failed call opens its circuit.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let ctgov = format!("http://127.0.0.1:{}/ctgov", closed.local_addr().unwrap().port());
    drop(closed);
    let env = [
        ("PIPETTE_CTGOV_BASE", ctgov.as_str()),
        ("PIPETTE_BREAKER_THRESHOLD", "1"),
        ("PIPETTE_HTTP_RETRY_ATTEMPTS", "1"),
        ("PIPETTE_CTGOV_RATE", "0"),
    ];
    let server = http_server("pipette-mcp-test", dir.path(), &env).await;
    let http = reqwest::Client::new();
    let get = |path: &str| http.get(format!("{}{path}", server.base)).send();

    let live = get("/livez").await.unwrap();
    assert_eq!(live.status(), 200);
    assert_eq!(live.text().await.unwrap(), "ok");
    let ready = get("/readyz").await.unwrap();
    assert_eq!(ready.status(), 200);
    assert_eq!(ready.text().await.unwrap(), "ready");
    let health = get("/health").await.unwrap();
    assert_eq!(health.status(), 200);
    assert_eq!(health.json::<Value>().await.unwrap()["status"], "ok");

    let (conn, _) = http_client(&server.url, None).await;
    let failed = call(&conn, "trial_get", json!({"nct_id": "NCT04280705"})).await;
    assert_eq!(failed.is_error, Some(true), "{:?}", failed.content);
    let circuits = call_ok(&conn, "circuit_status", json!({})).await;
    assert_eq!(circuits["circuits"][1]["service"], "ctgov");
    assert_eq!(circuits["circuits"][1]["state"], "open", "{circuits}");

    // An upstream's outage degrades the report but keeps every probe at 200: nothing to restart.
    let health = get("/health").await.unwrap();
    assert_eq!(health.status(), 200);
    let report = health.json::<Value>().await.unwrap();
    assert_eq!(report["status"], "degraded", "{report}");
    assert!(report["problems"][0].as_str().unwrap().contains("ctgov"), "{report}");
    assert_eq!(get("/readyz").await.unwrap().status(), 200);
    assert_eq!(get("/livez").await.unwrap().status(), 200);

    // /metrics: HELP lines, the circuit gauge's documented values, and probes that are not tool calls.
    let metrics = get("/metrics").await.unwrap().text().await.unwrap();
    for name in ["pipette_tool_calls_total", "pipette_upstream_circuit_state"] {
        assert!(metrics.contains(&format!("# HELP {name} ")), "no HELP for {name}:\n{metrics}");
    }
    assert!(metrics.contains("0 closed") && metrics.contains("2 open"), "{metrics}");
    assert_eq!(series(&metrics, "pipette_upstream_circuit_state{service=\"ctgov\"}"), Some(2.0), "{metrics}");
    assert_eq!(
        series(&metrics, "pipette_upstream_circuit_state{service=\"pubmed\"}"),
        Some(0.0),
        "{metrics}"
    );
    let health_calls = "pipette_tool_calls_total{tool=\"health\",category=\"ops\"}";
    let before = series(&metrics, health_calls);
    for path in ["/health", "/livez", "/readyz", "/metrics"] {
        assert!(get(path).await.unwrap().status().is_success(), "{path}");
    }
    let after = get("/metrics").await.unwrap().text().await.unwrap();
    assert_eq!(series(&after, health_calls), before, "probes are not tool calls");
    assert_eq!(
        series(&after, "pipette_tool_calls_total{tool=\"metrics_prometheus\",category=\"ops\"}"),
        None
    );
    // The tool itself still counts.
    call_ok(&conn, "health", json!({})).await;
    let counted = get("/metrics").await.unwrap().text().await.unwrap();
    assert_eq!(series(&counted, health_calls), Some(before.unwrap_or(0.0) + 1.0), "{counted}");
    conn.cancel().await.unwrap();
}

#[tokio::test]
async fn a_megabyte_cache_pattern_is_refused_short_and_the_server_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let server = http_server("pipette-mcp-test", dir.path(), &[]).await;
    let (conn, _) = http_client(&server.url, None).await;
    // The schema's maxLength (characters) catches the first three; pipette's own bound (bytes) the last.
    let patterns =
        ["*".repeat(1 << 20), "a".repeat(1 << 20), format!("pubmed:{}", "?".repeat(1020)), "é".repeat(600)];
    for pattern in patterns {
        let r = call(&conn, "invalidate_cache", json!({"pattern": pattern, "confirm": true})).await;
        assert_eq!(r.is_error, Some(true), "{:?}", r.content);
        let error = r.meta.as_ref().and_then(|m| m.get("pipette/error")).cloned().unwrap_or_default();
        assert_eq!(error["kind"], "invalid_argument", "{error}");
        assert_eq!(error["param"], "pattern", "{error}");
        let message = text(&r);
        assert!(
            message.contains("pattern") && message.len() < 600,
            "short, quoting at most 100 bytes: {message}"
        );
        assert!(!message.contains("a bug in pipette"), "{message}");
    }
    let huge = call(&conn, "warm_cache", json!({"mutations": ["EGFR L858R", "X".repeat(1 << 20)]})).await;
    assert_eq!(huge.is_error, Some(true));
    let message = text(&huge);
    assert!(
        message.contains("`mutations`") && message.contains("mutation 2") && message.len() < 600,
        "{message}"
    );

    // The server still answers, and a sane pattern still works.
    let done = call_ok(&conn, "invalidate_cache", json!({"pattern": "pubmed:*"})).await;
    assert_eq!(done["removed"], 0);
    assert_eq!(reqwest::get(format!("{}/livez", server.base)).await.unwrap().status(), 200);
    conn.cancel().await.unwrap();
}
