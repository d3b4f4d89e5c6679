//! Memory under abuse over streamable HTTP: the release `pipette-mcp`'s RSS idle, during and after a load of
//! `tools/call health` from 64 sessions, and while 5,000 sessions are opened, left, then closed.
//!
//! Run with `cargo xtask bench memory` (release binaries must be built; xtask does it). Figures, not
//! pass/fail: the target is RSS under load ≤ 64 MB, and memory given back when sessions end.

#![allow(clippy::disallowed_methods)] // starts the release server binary
#![allow(clippy::print_stdout)] // the table is the output

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use pipette_tests::bench::{release_bin, rss_kib};
use serde_json::{Value, json};

fn rss_mib(pid: u32) -> f64 {
    rss_kib(pid) as f64 / 1024.0
}

async fn open_session(http: &reqwest::Client, url: &str) -> String {
    let init = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "bench", "version": "1"}}});
    let resp = post(http, url, None, &init).await;
    let id = resp.headers()["mcp-session-id"].to_str().unwrap().to_owned();
    let _ = resp.bytes().await;
    let done = json!({"jsonrpc": "2.0", "method": "notifications/initialized"});
    let _ = post(http, url, Some(&id), &done).await.bytes().await;
    id
}

async fn post(http: &reqwest::Client, url: &str, session: Option<&str>, body: &Value) -> reqwest::Response {
    let mut req = http
        .post(url)
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .header("mcp-protocol-version", "2025-11-25")
        .json(body);
    if let Some(s) = session {
        req = req.header("mcp-session-id", s);
    }
    req.send().await.expect("the server answers")
}

#[tokio::main]
async fn main() {
    let dir = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut child = tokio::process::Command::new(release_bin("pipette-mcp"))
        .env("PIPETTE_DATA_DIR", dir.path())
        .env("PIPETTE_LOG", "warn")
        .env("PIPETTE_TOOLSETS", "all")
        .args(["--http", &format!("127.0.0.1:{port}")])
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let pid = child.id().unwrap();
    let url = format!("http://127.0.0.1:{port}/mcp");
    while tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_err() {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let http = reqwest::Client::new();
    tokio::time::sleep(Duration::from_secs(1)).await;
    let idle = rss_mib(pid);

    // Load: 64 sessions calling `health` as fast as they can.
    let load_secs = std::env::var("BENCH_LOAD_SECS").ok().and_then(|v| v.parse().ok()).unwrap_or(20u64);
    let calls = Arc::new(AtomicU64::new(0));
    let errors = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let mut workers = Vec::new();
    for _ in 0..64 {
        let (http, url, calls, errors, stop) =
            (http.clone(), url.clone(), calls.clone(), errors.clone(), stop.clone());
        workers.push(tokio::spawn(async move {
            let session = open_session(&http, &url).await;
            let mut id = 2u64;
            while !stop.load(Ordering::Relaxed) {
                let call = json!({"jsonrpc": "2.0", "id": id, "method": "tools/call",
                    "params": {"name": "health", "arguments": {}}});
                let ok = post(&http, &url, Some(&session), &call).await.bytes().await.is_ok();
                if ok { &calls } else { &errors }.fetch_add(1, Ordering::Relaxed);
                id += 1;
            }
        }));
    }
    let started = Instant::now();
    let mut peak: f64 = 0.0;
    while started.elapsed() < Duration::from_secs(load_secs) {
        tokio::time::sleep(Duration::from_millis(250)).await;
        peak = peak.max(rss_mib(pid));
    }
    stop.store(true, Ordering::Relaxed);
    for w in workers {
        let _ = w.await;
    }
    let rate = calls.load(Ordering::Relaxed) as f64 / started.elapsed().as_secs_f64();
    let after_load = rss_mib(pid);
    tokio::time::sleep(Duration::from_secs(10)).await;
    let after_load_idle = rss_mib(pid);

    // Flood: 5,000 sessions opened and left, then closed.
    let mut sessions = Vec::new();
    for _ in 0..5000 {
        sessions.push(open_session(&http, &url).await);
    }
    let with_sessions = rss_mib(pid);
    for s in &sessions {
        let _ = http
            .delete(&url)
            .header("mcp-session-id", s)
            .header("mcp-protocol-version", "2025-11-25")
            .send()
            .await;
    }
    tokio::time::sleep(Duration::from_secs(10)).await;
    let after_close = rss_mib(pid);
    // A second round: freed memory is reused (flat), leaked memory would add up.
    let mut again = Vec::new();
    for _ in 0..5000 {
        again.push(open_session(&http, &url).await);
    }
    let second_round = rss_mib(pid);

    println!("| pipette-mcp --http (release) | RSS MiB |");
    println!("|---|---|");
    println!("| idle | {idle:.1} |");
    println!(
        "| 64 sessions × health for {load_secs} s: peak ({rate:.0} calls/s, {} errors) | {peak:.1} |",
        errors.load(Ordering::Relaxed)
    );
    println!("| right after the load | {after_load:.1} |");
    println!("| 10 s later | {after_load_idle:.1} |");
    println!("| 5,000 sessions open (cap {}) | {with_sessions:.1} |", 1024);
    println!("| 10 s after closing them | {after_close:.1} |");
    println!("| 5,000 more sessions opened and left | {second_round:.1} |");
    let _ = child.kill().await;
}
