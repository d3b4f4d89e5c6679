//! Alert rules fire and clear on recorded faults, through the real `pipette-mcp` over stdio: a local
//! ClinicalTrials.gov answering 429, then 500 until the circuit opens, then the recorded study again. The
//! `alerts` tool lists what fires, `health` turns degraded on a critical alert, and a session that set its
//! log level to `warning` is told when each alert fires and when it clears.

// Logging is deprecated for 2026-07-28 peers (SEP-2577) and current for 2025-11-25 ones.
#![allow(deprecated)]

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use pipette_test_support::{Reply, UpstreamServer};
use rmcp::model::{LoggingLevel, LoggingMessageNotificationParam, SetLevelRequestParams};
use rmcp::service::{NotificationContext, RunningService};
use rmcp::transport::TokioChildProcess;
use rmcp::{ClientHandler, RoleClient, ServiceExt};
use serde_json::{Value, json};

use crate::support::{command, params};

const NCT: &str = "NCT06604689";

/// A client that keeps the log messages it receives.
#[derive(Clone, Default)]
struct Listener {
    logs: Arc<Mutex<Vec<LoggingMessageNotificationParam>>>,
}

impl ClientHandler for Listener {
    async fn on_logging_message(
        &self,
        params: LoggingMessageNotificationParam,
        _context: NotificationContext<RoleClient>,
    ) {
        self.logs.lock().unwrap().push(params);
    }
}

type Conn = RunningService<RoleClient, Listener>;

async fn call(conn: &Conn, tool: &str, args: Value) -> rmcp::model::CallToolResult {
    conn.call_tool(params(tool, args)).await.expect("tools/call answered")
}

async fn structured(conn: &Conn, tool: &str) -> Value {
    let r = call(conn, tool, json!({})).await;
    assert_ne!(r.is_error, Some(true), "{tool} failed: {:?}", r.content);
    r.structured_content.expect("structured content")
}

/// (name, severity, labels as `k=v`) of every active alert.
fn active(list: &Value) -> Vec<(String, String, String)> {
    list["alerts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            let labels = a["labels"]
                .as_object()
                .map(|m| {
                    m.iter()
                        .map(|(k, v)| format!("{k}={}", v.as_str().unwrap()))
                        .collect::<Vec<_>>()
                        .join(",")
                })
                .unwrap_or_default();
            (a["name"].as_str().unwrap().to_owned(), a["severity"].as_str().unwrap().to_owned(), labels)
        })
        .collect()
}

/// Polls `alerts` until `done` holds of its answer (15 s at most).
async fn alerts_until(conn: &Conn, what: &str, done: impl Fn(&[(String, String, String)]) -> bool) -> Value {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let list = structured(conn, "alerts").await;
        if done(&active(&list)) {
            return list;
        }
        assert!(Instant::now() < deadline, "waited for {what}; alerts now: {list}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn has(alerts: &[(String, String, String)], name: &str, severity: &str, labels: &str) -> bool {
    alerts.iter().any(|(n, s, l)| n == name && s == severity && l == labels)
}

/// The messages received so far that start with `prefix` (`alert firing: …`, `alert cleared: …`).
fn messages(listener: &Listener, prefix: &str) -> Vec<String> {
    listener
        .logs
        .lock()
        .unwrap()
        .iter()
        .filter(|m| m.level == LoggingLevel::Warning)
        .filter_map(|m| m.data["message"].as_str().map(str::to_owned))
        .filter(|m| m.starts_with(prefix))
        .collect()
}

async fn messages_until(listener: &Listener, prefix: &str, wanted: &[&str]) -> Vec<String> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let got = messages(listener, prefix);
        if wanted.iter().all(|w| got.iter().any(|m| m.starts_with(&format!("{prefix}{w}")))) {
            return got;
        }
        assert!(Instant::now() < deadline, "waited for {prefix}{wanted:?}; got {got:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn alert_rules_fire_and_clear_on_429s_and_500s_through_the_tool_and_the_log() {
    let dir = tempfile::tempdir().unwrap();
    let upstream = UpstreamServer::start().await;
    let study = format!("/ctgov/studies/{NCT}");
    upstream.route("GET", &study, Reply::json(429, json!({ "message": "Too many requests" })));
    let base = format!("{}/ctgov", upstream.url());
    let mut cmd = command("pipette-mcp-test", dir.path());
    cmd.envs([
        ("PIPETTE_CTGOV_BASE", base.as_str()),
        ("PIPETTE_CTGOV_CACHE_TTL_SECS", "0"),
        ("PIPETTE_CTGOV_RATE", "0"),
        ("PIPETTE_HTTP_RETRY_ATTEMPTS", "1"),
        ("PIPETTE_BREAKER_THRESHOLD", "3"),
        ("PIPETTE_BREAKER_COOLDOWN_MS", "500"),
        // Short windows so the test sees alerts clear; fewer calls to judge a rate by.
        ("PIPETTE_ALERT_INTERVAL_MS", "100"),
        ("PIPETTE_ALERT_WINDOW_SECONDS", "4"),
        ("PIPETTE_ALERT_TOOL_MIN_CALLS", "3"),
        ("PIPETTE_ALERT_UPSTREAM_MIN_REQUESTS", "3"),
        // Whatever the machine's disk, this test is about the upstream.
        ("PIPETTE_ALERT_DISK_WARNING", "1"),
        ("PIPETTE_ALERT_DISK_CRITICAL", "1"),
    ]);
    cmd.stderr(std::process::Stdio::null());
    let listener = Listener::default();
    let conn = listener.clone().serve(TokioChildProcess::new(cmd).unwrap()).await.expect("initialize");
    conn.set_level(SetLevelRequestParams::new(LoggingLevel::Warning)).await.unwrap();
    assert!(active(&structured(&conn, "alerts").await).is_empty(), "nothing fires before a fault");

    // 429: the upstream throttles.
    let r = call(&conn, "trial_get", json!({ "nct_id": NCT })).await;
    assert_eq!(r.is_error, Some(true), "a 429 fails the call: {:?}", r.content);
    let list = alerts_until(&conn, "PipetteUpstreamThrottled", |a| {
        has(a, "PipetteUpstreamThrottled", "warning", "upstream=ctgov")
    })
    .await;
    let throttled = &list["alerts"].as_array().unwrap()[0];
    assert!(throttled["cause"].as_str().unwrap().contains("429"), "{throttled}");
    assert!(throttled["hint"].as_str().unwrap().contains("PIPETTE_CTGOV_RATE"), "{throttled}");
    assert!(throttled["started_at"].as_str().is_some_and(|s| s.ends_with('Z')), "{throttled}");
    messages_until(&listener, "alert firing: ", &["PipetteUpstreamThrottled (upstream=ctgov)"]).await;

    // 500s until the circuit opens; then calls fail fast.
    upstream.route("GET", &study, Reply::text(500, "text/plain", "internal error"));
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let r = call(&conn, "trial_get", json!({ "nct_id": NCT })).await;
        assert_eq!(r.is_error, Some(true), "{:?}", r.content);
        let circuits = structured(&conn, "circuit_status").await;
        if circuits["circuits"][1]["state"] == "open" {
            break;
        }
        assert!(Instant::now() < deadline, "the circuit never opened: {circuits}");
    }
    alerts_until(&conn, "the circuit, error-rate and throttling alerts", |a| {
        has(a, "PipetteCircuitOpen", "critical", "upstream=ctgov")
            && has(a, "PipetteToolErrorRate", "critical", "tool=trial_get")
            && has(a, "PipetteUpstreamErrorRate", "warning", "upstream=ctgov")
    })
    .await;
    let shown = crate::support::text(&call(&conn, "alerts", json!({})).await);
    assert!(shown.contains("- **critical** PipetteCircuitOpen (upstream=ctgov) since "), "{shown}");
    assert!(shown.contains("Hint: "), "{shown}");
    let health = structured(&conn, "health").await;
    assert_eq!(health["status"], "degraded", "{health}");
    let problems = health["problems"].to_string();
    assert!(problems.contains("critical alert PipetteToolErrorRate"), "{health}");
    messages_until(
        &listener,
        "alert firing: ",
        &[
            "PipetteCircuitOpen (upstream=ctgov)",
            "PipetteToolErrorRate (tool=trial_get)",
            "PipetteUpstreamErrorRate (upstream=ctgov)",
        ],
    )
    .await;

    // The upstream recovers: the probe after the cool-down closes the circuit, and once the faults have
    // left the window every alert clears.
    upstream.route("GET", &study, Reply::fixture("clinicaltrials/get_nct06604689_20260811.json"));
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        tokio::time::sleep(Duration::from_millis(200)).await;
        let r = call(&conn, "trial_get", json!({ "nct_id": NCT })).await;
        if r.is_error != Some(true) {
            break;
        }
        assert!(Instant::now() < deadline, "trial_get never recovered: {:?}", r.content);
    }
    alerts_until(&conn, "every alert to clear", <[_]>::is_empty).await;
    let cleared = messages_until(
        &listener,
        "alert cleared: ",
        &[
            "PipetteUpstreamThrottled (upstream=ctgov)",
            "PipetteCircuitOpen (upstream=ctgov)",
            "PipetteToolErrorRate (tool=trial_get)",
            "PipetteUpstreamErrorRate (upstream=ctgov)",
        ],
    )
    .await;
    let mut fired: Vec<String> =
        messages(&listener, "alert firing: ").iter().map(|m| name_and_labels(m, "alert firing: ")).collect();
    let mut cleared: Vec<String> = cleared.iter().map(|m| name_and_labels(m, "alert cleared: ")).collect();
    fired.sort();
    cleared.sort();
    assert_eq!(fired, cleared, "every alert that fired cleared, as often");
    let health = structured(&conn, "health").await;
    assert_eq!(health["status"], "ok", "{health}");
    conn.cancel().await.unwrap();
}

/// `PipetteCircuitOpen (upstream=ctgov)` of `alert firing: PipetteCircuitOpen (upstream=ctgov): cause`.
fn name_and_labels(message: &str, prefix: &str) -> String {
    let rest = message.strip_prefix(prefix).unwrap_or(message);
    match rest.find("): ") {
        Some(end) => rest[..=end].to_owned(),
        None => rest.split(": ").next().unwrap_or(rest).to_owned(),
    }
}
