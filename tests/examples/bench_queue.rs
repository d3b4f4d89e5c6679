//! Job queue benchmark: jobs/s of a no-op tool through the queue with 1, 2 and 4 worker processes, and the
//! enqueue → start latency (p50/p99) of single jobs with idle workers, on the embedded (SQLite) queue and,
//! when `REDIS_URL` is set, on Redis. Each measurement runs in a child process of its own (a fresh Redis
//! namespace, an empty queue).
//!
//! Run with `cargo xtask bench queue` (release binaries must be built; xtask does it).

#![allow(clippy::disallowed_methods)] // starts the worker binaries
#![allow(clippy::print_stdout)] // the table is the output

use std::path::Path;
use std::time::{Duration, Instant};

use mcp_tools::{JobStatus, Principal, Router, RouterConfig};
use pipette_tests::bench::release_bin;
use serde_json::json;

const JOBS: usize = 400;
const LATENCY_SAMPLES: usize = 60;

fn pct(sorted: &[Duration], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1000.0
}

fn workers(dir: &Path, n: usize) -> Vec<tokio::process::Child> {
    (0..n)
        .map(|_| {
            tokio::process::Command::new(release_bin("pipette-worker-test"))
                .env("PIPETTE_DATA_DIR", dir)
                .env("PIPETTE_LOG", "warn")
                .env("PIPETTE_WORKER_CONCURRENCY", "8")
                .stderr(std::process::Stdio::null())
                .kill_on_drop(true)
                .spawn()
                .expect("spawn a worker")
        })
        .collect()
}

async fn router(dir: &Path) -> Router {
    let config = RouterConfig { data_dir: dir.to_path_buf(), ..RouterConfig::default() };
    mcp_tools::build_router(config, None).await.expect("router")
}

fn completed(router: &Router) -> usize {
    router
        .jobs()
        .list(&Principal::local(), Some(JobStatus::Completed), None, JOBS + 10)
        .map_or(0, |l| l.len())
}

/// Jobs/s: `JOBS` no-op jobs queued first, then drained by `n` workers.
async fn throughput(n: usize) -> (f64, f64) {
    let dir = tempfile::tempdir().unwrap();
    let router = router(dir.path()).await;
    let t0 = Instant::now();
    for _ in 0..JOBS {
        router.detach("fixture_noop", json!({})).expect("queued");
    }
    let enqueue_us = t0.elapsed().as_secs_f64() * 1e6 / JOBS as f64;
    let _w = workers(dir.path(), n);
    let t0 = Instant::now();
    while completed(&router) < JOBS {
        assert!(t0.elapsed() < Duration::from_secs(300), "the workers did not drain the queue");
        // Counting reads every record: not so often that the counting loads the queue.
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    (JOBS as f64 / t0.elapsed().as_secs_f64(), enqueue_us)
}

/// Enqueue → start (here: → end, the tool does nothing) of single jobs, with 2 idle workers waiting.
async fn latency() -> (f64, f64) {
    let dir = tempfile::tempdir().unwrap();
    let router = router(dir.path()).await;
    let _w = workers(dir.path(), 2);
    tokio::time::sleep(Duration::from_millis(500)).await;
    let me = Principal::local();
    let mut samples = Vec::new();
    for _ in 0..LATENCY_SAMPLES {
        let t0 = Instant::now();
        let id = router.detach("fixture_noop", json!({})).expect("queued").job_id;
        loop {
            if router.jobs().get(&me, &id).is_ok_and(|r| r.status != JobStatus::Queued) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        samples.push(t0.elapsed());
    }
    samples.sort();
    (pct(&samples, 0.5), pct(&samples, 0.99))
}

/// Runs one measurement in a child process of this benchmark, with its own Redis namespace (each run
/// starts from an empty queue): `--one <workers>` or `--one latency`.
fn child(what: &str, redis: Option<&str>) -> String {
    let mut cmd = std::process::Command::new(std::env::current_exe().expect("current exe"));
    cmd.args(["--one", what]);
    match redis {
        Some(url) => {
            let nanos = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos());
            cmd.env("REDIS_URL", url).env("PIPETTE_CACHE_NAMESPACE", format!("bench-queue-{nanos}"));
        }
        None => {
            cmd.env_remove("REDIS_URL");
        }
    }
    let out = cmd.output().expect("run a measurement");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

#[tokio::main]
async fn main() {
    pipette_tests::link();
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("--one") {
        match args.get(2).map(String::as_str) {
            Some("latency") => {
                let (p50, p99) = latency().await;
                println!("{p50:.1} {p99:.1}");
            }
            Some(n) => {
                let (rate, enqueue) = throughput(n.parse().expect("a number of workers")).await;
                println!("{rate:.1} {enqueue:.1}");
            }
            None => panic!("--one <workers|latency>"),
        }
        return;
    }
    let redis = std::env::var("REDIS_URL").ok().filter(|u| !u.trim().is_empty());
    let mut backends = vec![("embedded", None)];
    if let Some(url) = redis.as_deref() {
        backends.push(("redis", Some(url)));
    }
    println!("| queue | workers | jobs/s | vs 1 worker | vs embedded | enqueue µs/job |");
    println!("|---|---|---|---|---|---|");
    let mut embedded = Vec::new();
    for (backend, url) in &backends {
        let mut base = None;
        for (i, n) in [1, 2, 4].into_iter().enumerate() {
            let line = child(&n.to_string(), *url);
            let mut parts = line.split_whitespace().map(|v| v.parse::<f64>().unwrap_or(0.0));
            let (rate, enqueue) = (parts.next().unwrap_or(0.0), parts.next().unwrap_or(0.0));
            let base = *base.get_or_insert(rate);
            if *backend == "embedded" {
                embedded.push(rate);
            }
            let vs = embedded.get(i).map_or(1.0, |e| rate / e);
            println!("| {backend} | {n} | {rate:.0} | {:.2}× | {vs:.2}× | {enqueue:.0} |", rate / base);
        }
    }
    println!();
    for (backend, url) in &backends {
        let line = child("latency", *url);
        let mut parts = line.split_whitespace();
        let (p50, p99) = (parts.next().unwrap_or("?"), parts.next().unwrap_or("?"));
        println!(
            "enqueue → start ({backend}, {LATENCY_SAMPLES} single jobs, 2 idle workers): p50 {p50} ms, p99 {p99} ms"
        );
    }
}
