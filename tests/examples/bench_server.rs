//! Router and server benchmark: in-process dispatch, stdio and streamable HTTP round trips, RSS.
//!
//! Run with `cargo xtask bench router` (release binaries must be built; xtask does it).

#![allow(clippy::disallowed_methods)] // starts the release server binary
#![allow(clippy::print_stdout)] // the table is the output

use std::sync::Arc;
use std::time::{Duration, Instant};

use mcp_tools::{CallOptions, RouterConfig};
use pipette_tests::bench::{release_bin, rss_kib};
use serde_json::json;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

fn pct(sorted: &[Duration], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1000.0
}

async fn in_process(n: usize) -> f64 {
    pipette_tests::link();
    let dir = tempfile::tempdir().unwrap();
    let config = RouterConfig { data_dir: dir.path().to_path_buf(), ..RouterConfig::default() };
    let router = mcp_tools::build_router(config, None).await.unwrap();
    for _ in 0..1000 {
        router.call("fixture_echo", json!({"text": "x"}), CallOptions::default()).await.unwrap();
    }
    let t0 = Instant::now();
    for _ in 0..n {
        router.call("fixture_echo", json!({"text": "x"}), CallOptions::default()).await.unwrap();
    }
    t0.elapsed().as_nanos() as f64 / n as f64
}

struct Stdio {
    child: tokio::process::Child,
    stdin: tokio::process::ChildStdin,
    lines: tokio::io::Lines<BufReader<tokio::process::ChildStdout>>,
}

async fn stdio_server(dir: &std::path::Path) -> Stdio {
    let mut child = tokio::process::Command::new(release_bin("pipette-mcp-test"))
        .env("PIPETTE_DATA_DIR", dir)
        .env("PIPETTE_LOG", "warn")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let init = json!({"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"bench","version":"1"}}});
    stdin.write_all(format!("{init}\n").as_bytes()).await.unwrap();
    lines.next_line().await.unwrap().unwrap();
    stdin.write_all(b"{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}\n").await.unwrap();
    Stdio { child, stdin, lines }
}

fn call_line(id: u64) -> String {
    format!(
        "{{\"jsonrpc\":\"2.0\",\"id\":{id},\"method\":\"tools/call\",\"params\":{{\"name\":\"fixture_echo\",\"arguments\":{{\"text\":\"x\"}}}}}}\n"
    )
}

/// `n` calls with `inflight` outstanding at a time; per-call latencies.
async fn stdio_run(s: &mut Stdio, n: usize, inflight: usize, first_id: u64) -> (f64, Vec<Duration>) {
    let mut sent = std::collections::HashMap::new();
    let mut lat = Vec::with_capacity(n);
    let mut next = first_id;
    let t0 = Instant::now();
    let end = first_id + n as u64;
    while next < end && sent.len() < inflight {
        s.stdin.write_all(call_line(next).as_bytes()).await.unwrap();
        sent.insert(next, Instant::now());
        next += 1;
    }
    s.stdin.flush().await.unwrap();
    while lat.len() < n {
        let line = s.lines.next_line().await.unwrap().unwrap();
        let v: serde_json::Value = serde_json::from_str(&line).unwrap();
        let Some(id) = v["id"].as_u64() else { continue };
        lat.push(sent.remove(&id).unwrap().elapsed());
        if next < end {
            s.stdin.write_all(call_line(next).as_bytes()).await.unwrap();
            s.stdin.flush().await.unwrap();
            sent.insert(next, Instant::now());
            next += 1;
        }
    }
    (n as f64 / t0.elapsed().as_secs_f64(), lat)
}

async fn http_run(
    url: &str,
    session: &str,
    n: usize,
    concurrency: usize,
    first_id: u64,
) -> (f64, Vec<Duration>) {
    let client = reqwest::Client::builder().pool_max_idle_per_host(concurrency).build().unwrap();
    let counter = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let t0 = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..concurrency {
        let (client, url, session, counter) =
            (client.clone(), url.to_owned(), session.to_owned(), counter.clone());
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            loop {
                let i = counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if i >= n {
                    return lat;
                }
                let t = Instant::now();
                let body = client
                    .post(&url)
                    .header("accept", "application/json, text/event-stream")
                    .header("mcp-session-id", &session)
                    .header("mcp-protocol-version", "2025-11-25")
                    .header("content-type", "application/json")
                    .body(call_line(first_id + i as u64))
                    .send()
                    .await
                    .unwrap()
                    .text()
                    .await
                    .unwrap();
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

fn row(name: &str, rate: f64, mut lat: Vec<Duration>) {
    lat.sort();
    println!("| {name} | {rate:.0} | {:.3} | {:.3} |", pct(&lat, 0.5), pct(&lat, 0.99));
}

#[tokio::main]
async fn main() {
    let ns = in_process(200_000).await;
    println!(
        "| measure | value |\n|---|---|\n| router dispatch in-process (trivial tool) | {ns:.0} ns/call |\n"
    );

    let dir = tempfile::tempdir().unwrap();
    println!("| transport | calls/s | p50 ms | p99 ms |\n|---|---|---|---|");
    let mut s = stdio_server(dir.path()).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let idle = rss_kib(s.child.id().unwrap());
    let _ = stdio_run(&mut s, 2_000, 1, 1).await;
    let (rate, lat) = stdio_run(&mut s, 20_000, 1, 10_000).await;
    row("stdio sequential", rate, lat);
    let (rate, lat) = stdio_run(&mut s, 40_000, 8, 100_000).await;
    row("stdio 8 in flight", rate, lat);
    let (_, _) = stdio_run(&mut s, 40_000, 8, 200_000).await;
    let after = rss_kib(s.child.id().unwrap());

    let hdir = tempfile::tempdir().unwrap();
    let (_http, base) = pipette_tests::bench::http_server(hdir.path()).await;
    let url = format!("{base}/mcp");
    let client = reqwest::Client::new();
    let init = json!({"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"bench","version":"1"}}});
    let resp = client
        .post(&url)
        .header("accept", "application/json, text/event-stream")
        .json(&init)
        .send()
        .await
        .unwrap();
    let session =
        resp.headers().get("mcp-session-id").map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default();
    let _ = resp.text().await;
    client
        .post(&url)
        .header("accept", "application/json, text/event-stream")
        .header("mcp-session-id", &session)
        .header("content-type", "application/json")
        .body("{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}")
        .send()
        .await
        .unwrap();
    let _ = http_run(&url, &session, 2_000, 8, 1).await;
    let (rate, lat) = http_run(&url, &session, 10_000, 1, 10_000).await;
    row("HTTP 1 concurrent", rate, lat);
    let (rate, lat) = http_run(&url, &session, 40_000, 64, 100_000).await;
    row("HTTP 64 concurrent", rate, lat);

    println!(
        "\n| memory | RSS |\n|---|---|\n| stdio server idle | {:.1} MiB |\n| after 102k calls | {:.1} MiB |",
        idle as f64 / 1024.0,
        after as f64 / 1024.0
    );
}
