//! HTTP API overhead against MCP over HTTP: the same cheap tool (`fixture_echo`) on the same release server,
//! 64 connections, as `POST /api/v1/tools/fixture_echo` and as an MCP `tools/call` in one session.
//!
//! Run with `cargo xtask bench api` (release binaries must be built; xtask does it).

#![allow(clippy::disallowed_methods)] // starts the release server binary
#![allow(clippy::print_stdout)] // the table is the output

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use pipette_tests::bench::rss_kib;
use serde_json::json;

const CONNECTIONS: usize = 64;
const CALLS: usize = 40_000;

fn pct(sorted: &[Duration], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1000.0
}

/// How one call is sent: the face's request for call number `i`.
type Request = Arc<dyn Fn(&reqwest::Client, u64) -> reqwest::RequestBuilder + Send + Sync>;

/// `n` calls over `connections` connections, each checked; calls/s and per-call latencies.
async fn load(request: Request, n: usize, connections: usize) -> (f64, Vec<Duration>) {
    let client = reqwest::Client::builder().pool_max_idle_per_host(connections).build().unwrap();
    let counter = Arc::new(AtomicUsize::new(0));
    let t0 = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..connections {
        let (client, counter, request) = (client.clone(), counter.clone(), request.clone());
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            loop {
                let i = counter.fetch_add(1, Ordering::Relaxed);
                if i >= n {
                    return lat;
                }
                let t = Instant::now();
                let resp = request(&client, i as u64).send().await.unwrap();
                assert!(resp.status().is_success(), "{}", resp.status());
                let body = resp.text().await.unwrap();
                assert!(body.contains("\"text\":\"x\""), "{body}");
                lat.push(t.elapsed());
            }
        }));
    }
    let mut lat = Vec::new();
    for t in tasks {
        lat.extend(t.await.unwrap());
    }
    (n as f64 / t0.elapsed().as_secs_f64(), lat)
}

fn row(name: &str, rate: f64, mut lat: Vec<Duration>) -> f64 {
    lat.sort();
    println!("| {name} | {rate:.0} | {:.3} | {:.3} |", pct(&lat, 0.5), pct(&lat, 0.99));
    rate
}

/// Opens an MCP session on `url` (initialize, initialized); answers its id.
async fn mcp_session(url: &str) -> String {
    let client = reqwest::Client::new();
    let init = json!({"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"bench","version":"1"}}});
    let resp = client
        .post(url)
        .header("accept", "application/json, text/event-stream")
        .json(&init)
        .send()
        .await
        .unwrap();
    let session =
        resp.headers().get("mcp-session-id").map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default();
    let _ = resp.text().await;
    client
        .post(url)
        .header("accept", "application/json, text/event-stream")
        .header("mcp-session-id", &session)
        .header("content-type", "application/json")
        .body("{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}")
        .send()
        .await
        .unwrap();
    session
}

#[tokio::main]
async fn main() {
    let dir = tempfile::tempdir().unwrap();
    let (server, base) = pipette_tests::bench::http_server(dir.path()).await;
    let mcp_url = format!("{base}/mcp");
    let session = mcp_session(&mcp_url).await;
    let mcp: Request = Arc::new(move |client, i| {
        let body = format!(
            "{{\"jsonrpc\":\"2.0\",\"id\":{},\"method\":\"tools/call\",\"params\":{{\"name\":\"fixture_echo\",\"arguments\":{{\"text\":\"x\"}}}}}}",
            i + 1
        );
        client
            .post(&mcp_url)
            .header("accept", "application/json, text/event-stream")
            .header("mcp-session-id", &session)
            .header("mcp-protocol-version", "2025-11-25")
            .header("content-type", "application/json")
            .body(body)
    });
    let api_url = format!("{base}/api/v1/tools/fixture_echo");
    let api: Request = Arc::new(move |client, _| {
        client.post(&api_url).header("content-type", "application/json").body("{\"text\":\"x\"}")
    });

    // Warm both paths, then one measured run each.
    let _ = load(mcp.clone(), 4_000, CONNECTIONS).await;
    let _ = load(api.clone(), 4_000, CONNECTIONS).await;
    println!("| `fixture_echo`, {CONNECTIONS} connections, {CALLS} calls | calls/s | p50 ms | p99 ms |");
    println!("|---|---|---|---|");
    let (rate, lat) = load(mcp, CALLS, CONNECTIONS).await;
    let mcp_rate = row("MCP over HTTP (`tools/call`, one session)", rate, lat);
    let (rate, lat) = load(api, CALLS, CONNECTIONS).await;
    let api_rate = row("HTTP API (`POST /api/v1/tools/fixture_echo`)", rate, lat);
    println!(
        "\nAPI / MCP throughput: {:.2}×; server RSS after: {:.1} MiB",
        api_rate / mcp_rate,
        rss_kib(server.id().unwrap()) as f64 / 1024.0
    );
}
