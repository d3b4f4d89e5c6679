//! The cost of the shared rate limiter and breaker (issue 11) per upstream request: the same requests to
//! the local upstream serving the recorded esearch answer, with limits and breakers local to the process
//! (the embedded default) and shared through a real redis-server (`PIPETTE_TEST_REDIS_URL`, else one
//! started from PATH). The rate is set far above what is sent, so no request ever waits for a slot: what is
//! left is the limiter's own cost (one Lua GCRA call and one breaker key check per request on Redis).
//!
//! Run: `cargo xtask bench queue` (or `cargo run --release -p core-scrapers --example bench_limits`).
#![allow(clippy::print_stdout, reason = "a benchmark reports on stdout")]

use std::time::{Duration, Instant};

use core_cache::Cache;
use core_scrapers::http::{Coordination, Upstreams};
use core_scrapers::{ScrapersConfig, Secret};
use pipette_test_support::{RedisServer, Reply, UpstreamServer};

const ESEARCH: &str = "pubmed/esearch_json_apc_pE1317Q_retmax100.json";
const REQUESTS: usize = 1000;
const CONCURRENT: usize = 16;

fn config(server: &UpstreamServer, redis: Option<&str>) -> ScrapersConfig {
    let url = server.url();
    let mut c = ScrapersConfig::default().with_base_urls(
        &format!("{url}/eutils"),
        &format!("{url}/ctgov"),
        &format!("{url}/uniprot"),
        &format!("{url}/chembl"),
    );
    c.pubmed.cache_ttl = Duration::ZERO;
    c.pubmed.rate_per_second = 1e6;
    c.redis_url = redis.map(Secret::new);
    let nanos = std::time::SystemTime::UNIX_EPOCH.elapsed().unwrap_or_default().as_nanos();
    c.namespace = format!("bench-limits-{nanos}");
    c
}

fn pct(sorted: &[Duration], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1e6
}

/// Per-request latencies of `REQUESTS` sequential requests, and requests/s of `CONCURRENT` streams.
async fn measure(upstreams: &Upstreams) -> (Vec<Duration>, f64) {
    for i in 0..50 {
        upstreams.pubmed.get("/esearch.fcgi", &[("term", format!("warm-up {i}"))]).await.expect("warm-up");
    }
    let mut each = Vec::with_capacity(REQUESTS);
    for i in 0..REQUESTS {
        let t = Instant::now();
        upstreams.pubmed.get("/esearch.fcgi", &[("term", format!("seq {i}"))]).await.expect("a request");
        each.push(t.elapsed());
    }
    each.sort();
    let t = Instant::now();
    let streams = (0..CONCURRENT).map(|s| {
        let u = upstreams.clone();
        async move {
            for i in 0..REQUESTS / CONCURRENT {
                u.pubmed.get("/esearch.fcgi", &[("term", format!("c{s} {i}"))]).await.expect("a request");
            }
        }
    });
    futures::future::join_all(streams).await;
    let rate = (REQUESTS / CONCURRENT * CONCURRENT) as f64 / t.elapsed().as_secs_f64();
    (each, rate)
}

#[tokio::main]
async fn main() {
    let redis = RedisServer::start();
    let server = UpstreamServer::start().await;
    server.route("GET", "/eutils/esearch.fcgi", Reply::fixture(ESEARCH));
    let local = Upstreams::new(&config(&server, None), Cache::in_process(1 << 20)).expect("upstreams");
    let shared =
        Upstreams::new(&config(&server, Some(redis.url())), Cache::in_process(1 << 20)).expect("upstreams");
    let (l, l_rate) = measure(&local).await;
    let (s, s_rate) = measure(&shared).await;
    assert_eq!(shared.coordination(), Coordination::Shared, "the shared limiter was used throughout");
    let mean = |v: &[Duration]| v.iter().sum::<Duration>().as_secs_f64() * 1e6 / v.len() as f64;
    println!(
        "| limits | p50 µs/request | p99 µs/request | mean µs/request | requests/s ({CONCURRENT} streams) |"
    );
    println!("|---|---|---|---|---|");
    for (what, v, rate) in [("local (embedded default)", &l, l_rate), ("shared on Redis", &s, s_rate)] {
        println!("| {what} | {:.0} | {:.0} | {:.0} | {rate:.0} |", pct(v, 0.5), pct(v, 0.99), mean(v));
    }
    println!(
        "\nshared limiter cost per upstream request: {:+.0} µs at p50 ({:.2}× the local request), throughput {:.2}× local",
        pct(&s, 0.5) - pct(&l, 0.5),
        pct(&s, 0.5) / pct(&l, 0.5),
        s_rate / l_rate
    );
}
