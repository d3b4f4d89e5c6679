//! Streamable HTTP on the wire, with a raw HTTP client: resumable streams (event ids, `Last-Event-ID`),
//! several streams per session, session termination with DELETE, and DNS-rebinding protection.

use std::time::Duration;

use serde_json::{Value, json};

use crate::support::http_server;

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
