//! What a model reads from the trials tools, in bytes, and what a cold call costs, in upstream requests:
//! `trials_match` EGFR L858R (concise, detailed, near Boston), `trial_get` NCT06604689 (the old JSON text,
//! concise, detailed, near Boston) and a `trials_search` page, against the local upstream.
//!
//! Run: `cargo xtask bench trials-results` (or `cargo run --release -p core-scrapers --example
//! bench_trials_results`). The search page is served two ways: as recorded (summary fields only, so each
//! candidate is fetched for its criteria) and whole, as the live API answers a request that names
//! `EligibilityCriteria` in `fields` (each recorded study, with five sites added, three near Boston).
#![allow(clippy::print_stdout, reason = "a benchmark reports on stdout")]
#![allow(clippy::expect_used, reason = "a benchmark fails loudly on a broken setup")]

use std::time::{Duration, Instant};

use core_cache::Cache;
use core_scrapers::http::Upstreams;
use core_scrapers::mutation::{MatchFilters, MatchLimits, trials_match};
use core_scrapers::trials::{TrialGetParams, TrialSearchParams, trial_get, trials_search};
use core_scrapers::{ResponseFormat, ScrapersConfig};
use pipette_test_support::{Reply, UpstreamServer, ctgov};

const LATENCY: Duration = Duration::from_millis(50);
const IDS: [&str; 2] = ["NCT06382129", "NCT06604689"];

/// A fresh cache and limiter at the production rate: every call below is cold.
fn upstreams(server: &UpstreamServer) -> Upstreams {
    let url = server.url();
    let config = ScrapersConfig::default().with_base_urls(&url, &url, &url, &url);
    Upstreams::new(&config, Cache::in_process(64 << 20)).expect("upstreams")
}

fn quiet(_: u64, _: Option<u64>, _: &str) {}

fn row(what: &str, bytes: usize, requests: usize, time: Duration) {
    println!("| {what} | {bytes} | {requests} | {:.0} ms |", time.as_secs_f64() * 1000.0);
}

async fn server(whole: bool) -> UpstreamServer {
    let server = UpstreamServer::start().await;
    let studies: Vec<serde_json::Value> =
        IDS.iter().map(|id| ctgov::with_sites(ctgov::study(id), ctgov::boston_sites())).collect();
    if whole {
        server.route("GET", "/studies", Reply::json(200, ctgov::search_page(&studies)));
    } else {
        server.route(
            "GET",
            "/studies",
            Reply::fixture("clinicaltrials/search_nsclc_egfr_l858r_20260811.json"),
        );
    }
    for (id, study) in IDS.iter().zip(&studies) {
        server.route("GET", &format!("/studies/{id}"), Reply::json(200, study.clone()));
    }
    server.latency(LATENCY);
    server
}

async fn matched(server: &UpstreamServer, what: &str, filters: MatchFilters, format: ResponseFormat) {
    server.clear();
    let limits = MatchLimits { response_format: format, ..MatchLimits::default() };
    let started = Instant::now();
    let r = trials_match(&upstreams(server), "EGFR L858R", &filters, &limits, &quiet).await.expect("match");
    let time = started.elapsed();
    assert_eq!((r.matches.len(), r.excluded.len()), (1, 1), "{what}");
    if std::env::var_os("SHOW").is_some() {
        println!("\n{}\n", r.summary_markdown);
    }
    row(what, r.summary_markdown.len(), server.requests().len(), time);
}

async fn got(server: &UpstreamServer, what: &str, params: TrialGetParams) {
    server.clear();
    let started = Instant::now();
    let trial = trial_get(&upstreams(server), &params).await.expect("trial_get");
    let time = started.elapsed();
    let md = trial.markdown(params.response_format);
    if std::env::var_os("SHOW").is_some() {
        println!("\n{md}\n");
    }
    row(what, md.len(), server.requests().len(), time);
}

#[tokio::main]
async fn main() {
    println!(
        "Trials text a model reads (bytes of markdown) and cold upstream requests, {} ms latency",
        LATENCY.as_millis()
    );
    println!("Targets: trials_match EGFR L858R ≤ 1536 bytes, trial_get NCT06604689 ≤ 2048 bytes.\n");
    println!("| call | text bytes | upstream requests | time |");
    println!("|---|---|---|---|");
    let nsclc = || MatchFilters {
        condition: Some("non-small cell lung cancer".into()),
        status: Some(Vec::new()),
        ..MatchFilters::default()
    };
    let boston = || MatchFilters { location: Some("Boston, MA".into()), ..nsclc() };
    let recorded = server(false).await;
    matched(
        &recorded,
        "trials_match EGFR L858R, concise (recorded page: summary fields only)",
        nsclc(),
        ResponseFormat::Concise,
    )
    .await;
    let whole = server(true).await;
    matched(
        &whole,
        "trials_match EGFR L858R, concise (page with criteria)",
        nsclc(),
        ResponseFormat::Concise,
    )
    .await;
    matched(&whole, "trials_match EGFR L858R, detailed", nsclc(), ResponseFormat::Detailed).await;
    matched(&whole, "trials_match EGFR L858R near Boston, MA, concise", boston(), ResponseFormat::Concise)
        .await;

    // trial_get: the text was the JSON of the study (3.7 KB for the recorded one).
    whole.clear();
    let plain = trial_get(&upstreams(&whole), &TrialGetParams::new("NCT06604689")).await.expect("trial_get");
    row(
        "trial_get NCT06604689, JSON text (before)",
        serde_json::to_string(&plain).expect("json").len(),
        1,
        Duration::ZERO,
    );
    got(&whole, "trial_get NCT06604689, concise", TrialGetParams::new("NCT06604689")).await;
    let detailed =
        TrialGetParams { response_format: ResponseFormat::Detailed, ..TrialGetParams::new("NCT06604689") };
    got(&whole, "trial_get NCT06604689, detailed", detailed).await;
    let near = TrialGetParams { location: Some("Boston, MA".into()), ..TrialGetParams::new("NCT06604689") };
    got(&whole, "trial_get NCT06604689 near Boston, MA, concise", near).await;

    for format in [ResponseFormat::Concise, ResponseFormat::Detailed] {
        whole.clear();
        let params = TrialSearchParams {
            condition: Some("non-small cell lung cancer".into()),
            location: Some("Boston".into()),
            response_format: format,
            ..TrialSearchParams::default()
        };
        let started = Instant::now();
        let found = trials_search(&upstreams(&whole), &params).await.expect("search");
        let what = format!("trials_search NSCLC near Boston (2 studies), {format:?}").to_lowercase();
        let md = found.markdown(format);
        if std::env::var_os("SHOW").is_some() {
            println!("\n{md}\n");
        }
        row(&what, md.len(), whole.requests().len(), started.elapsed());
    }
}
