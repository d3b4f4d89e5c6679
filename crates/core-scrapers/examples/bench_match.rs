//! `trials_match` cold and warm, and a batch of 10 mutations against the same 10 one by one, against the
//! local upstream serving the recorded EGFR L858R search and its two studies with 50 ms injected latency.
//!
//! Run: `cargo run --release -p core-scrapers --example bench_match`.
//! Each configuration runs with the production ClinicalTrials.gov rate (10 requests/s, spaced 110 ms by the
//! limiter) and again unlimited (`rate 0`), to show what bounds it. Every mutation's search is answered with
//! the same recorded page (2 candidates), so a batch shares the two eligibility fetches.
#![allow(clippy::print_stdout, reason = "a benchmark reports on stdout")]
#![allow(clippy::expect_used, reason = "a benchmark fails loudly on a broken setup")]

use std::time::{Duration, Instant};

use core_cache::Cache;
use core_scrapers::ScrapersConfig;
use core_scrapers::http::Upstreams;
use core_scrapers::mutation::{MatchFilters, MatchLimits, trials_match, trials_match_batch};
use pipette_test_support::{Reply, UpstreamServer};

const LATENCY: Duration = Duration::from_millis(50);
const COLD_RUNS: usize = 5;
const WARM_CALLS: usize = 2000;
const MUTATIONS: [&str; 10] = [
    "EGFR L858R",
    "EGFR exon 19 deletion",
    "KRAS G12C",
    "BRAF V600E",
    "ALK fusion",
    "ERBB2 amplification",
    "MET exon 14 skipping",
    "EGFR exon 20 insertion",
    "ROS1 rearrangement",
    "EGFR T790M",
];

fn upstreams(server: &UpstreamServer, rate: f64) -> Upstreams {
    let url = server.url();
    let mut config = ScrapersConfig::default().with_base_urls(&url, &url, &url, &url);
    config.ctgov.rate_per_second = rate;
    Upstreams::new(&config, Cache::in_process(64 << 20)).expect("upstreams")
}

fn filters() -> MatchFilters {
    MatchFilters { condition: Some("non-small cell lung cancer".into()), ..MatchFilters::default() }
}

fn quiet(_: u64, _: Option<u64>, _: &str) {}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn median(mut values: Vec<Duration>) -> Duration {
    values.sort();
    values[values.len() / 2]
}

async fn one(upstreams: &Upstreams, mutation: &str) -> Duration {
    let started = Instant::now();
    let result = trials_match(upstreams, mutation, &filters(), &MatchLimits::default(), &quiet).await;
    let elapsed = started.elapsed();
    let result = result.expect("trials_match");
    assert_eq!(result.total_candidates, 2, "{mutation}");
    elapsed
}

async fn run(server: &UpstreamServer, rate: f64) {
    let label = if rate > 0.0 { format!("{rate} req/s") } else { "unlimited".to_owned() };

    // Cold: a fresh cache and limiter each time (one search, then the candidates' eligibility).
    let mut cold = Vec::new();
    server.clear();
    for _ in 0..COLD_RUNS {
        cold.push(one(&upstreams(server, rate), "EGFR L858R").await);
    }
    let requests = server.requests().len();
    let cold = median(cold);

    // Warm: the same call again, every answer from the cache.
    let warm_upstreams = upstreams(server, rate);
    one(&warm_upstreams, "EGFR L858R").await;
    server.clear();
    let mut warm = Vec::with_capacity(WARM_CALLS);
    for _ in 0..WARM_CALLS {
        warm.push(one(&warm_upstreams, "EGFR L858R").await);
    }
    assert_eq!(server.requests().len(), 0, "warm calls must not reach the upstream");
    let warm_mean = warm.iter().sum::<Duration>() / WARM_CALLS as u32;
    let warm_p50 = median(warm);

    // A batch of 10 (fresh cache) against the same 10 one by one (fresh cache).
    server.clear();
    let batch_upstreams = upstreams(server, rate);
    let mutations: Vec<String> = MUTATIONS.iter().map(|m| (*m).to_owned()).collect();
    let started = Instant::now();
    let batch = trials_match_batch(&batch_upstreams, &mutations, &filters(), &MatchLimits::default(), &quiet)
        .await
        .expect("batch");
    let batch_time = started.elapsed();
    assert_eq!(batch.failed, 0);
    let batch_requests = server.requests().len();

    server.clear();
    let serial_upstreams = upstreams(server, rate);
    let started = Instant::now();
    for m in MUTATIONS {
        one(&serial_upstreams, m).await;
    }
    let serial_time = started.elapsed();
    let serial_requests = server.requests().len();

    println!(
        "| {label} | cold trials_match (median of {COLD_RUNS}) | {:.1} ms | {} requests |",
        ms(cold),
        requests / COLD_RUNS
    );
    println!(
        "| {label} | warm trials_match (mean / p50 of {WARM_CALLS}) | {:.3} / {:.3} ms | 0 requests |",
        ms(warm_mean),
        ms(warm_p50)
    );
    println!(
        "| {label} | batch of 10 mutations | {:.1} ms ({:.2}× one cold) | {batch_requests} requests |",
        ms(batch_time),
        batch_time.as_secs_f64() / cold.as_secs_f64()
    );
    println!("| {label} | the same 10 one by one | {:.1} ms | {serial_requests} requests |", ms(serial_time));
}

#[tokio::main]
async fn main() {
    let server = UpstreamServer::start().await;
    server.route("GET", "/studies", Reply::fixture("clinicaltrials/search_nsclc_egfr_l858r_20260811.json"));
    for id in ["NCT06604689", "NCT06382129"] {
        server.route(
            "GET",
            &format!("/studies/{id}"),
            Reply::fixture(&format!("clinicaltrials/get_{}_20260811.json", id.to_ascii_lowercase())),
        );
    }
    server.latency(LATENCY);
    println!("trials_match against the local upstream, {} ms latency per answer", LATENCY.as_millis());
    println!("(BioMCP, same recorded answers: 303 ms cold, 3.7–5.0 ms warm)\n");
    println!("| CT.gov rate | what | time | upstream requests |");
    println!("|---|---|---|---|");
    let production = ScrapersConfig::default().ctgov.rate_per_second;
    run(&server, production).await;
    run(&server, 0.0).await;
}
