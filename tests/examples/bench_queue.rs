//! Job queue benchmark: jobs/s of a no-op tool through the queue with 1, 2 and 4 worker processes, and the
//! enqueue → start latency (p50/p99) of single jobs with idle workers, on the embedded (SQLite) queue and,
//! when `REDIS_URL` is set, on Redis.
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
        tokio::time::sleep(Duration::from_millis(20)).await;
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

#[tokio::main]
async fn main() {
    pipette_tests::link();
    let backend = if std::env::var("REDIS_URL").is_ok_and(|u| !u.is_empty()) { "redis" } else { "embedded" };
    println!("| queue ({backend}) | workers | jobs/s | vs 1 worker | enqueue µs/job |");
    println!("|---|---|---|---|---|");
    let mut base = None;
    for n in [1, 2, 4] {
        let (rate, enqueue) = throughput(n).await;
        let base = *base.get_or_insert(rate);
        println!("| {backend} | {n} | {rate:.0} | {:.2}× | {enqueue:.0} |", rate / base);
    }
    let (p50, p99) = latency().await;
    println!(
        "\nenqueue → start ({backend}, {LATENCY_SAMPLES} single jobs, idle workers): p50 {p50:.1} ms, p99 {p99:.1} ms"
    );
}
