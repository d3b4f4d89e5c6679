//! Bounded time under upstream faults (issue 17), through the real `pipette-mcp`: `trials_match` against a
//! local ClinicalTrials.gov serving the recorded studies, with a hang, a 429 without `Retry-After`, a
//! truncated body, an HTML page or a reset in front of the good answer. Each asserts behaviour (the call
//! answers, the upstream saw another attempt, the hung one was abandoned, the error names the service),
//! never a time; the figures are in `cargo xtask bench reliability`.

use pipette_test_support::{Reply, UpstreamServer, ctgov};
use serde_json::{Value, json};

use crate::support::*;

const MATCHED: &str = "NCT06604689";
const STUDIES: [&str; 2] = ["NCT06382129", MATCHED];

/// The search page the live API answers when asked for eligibility text: the recorded studies, whole.
fn page() -> Reply {
    let studies: Vec<Value> =
        STUDIES.iter().map(|id| ctgov::with_sites(ctgov::study(id), ctgov::boston_sites())).collect();
    Reply::json(200, ctgov::search_page(&studies))
}

fn args() -> Value {
    json!({ "mutation": "EGFR L858R", "condition": "non-small cell lung cancer", "status": [] })
}

/// Every upstream on `server`, caches off, plus `extra`.
fn env(server: &UpstreamServer, extra: &[(&'static str, &'static str)]) -> Vec<(String, String)> {
    let url = server.url();
    let mut env = Vec::new();
    for (name, path) in
        [("PUBMED", "eutils"), ("CTGOV", "ctgov"), ("UNIPROT", "uniprot"), ("CHEMBL", "chembl")]
    {
        env.push((format!("PIPETTE_{name}_BASE"), format!("{url}/{path}")));
        env.push((format!("PIPETTE_{name}_CACHE_TTL_SECS"), "0".to_owned()));
    }
    env.extend(extra.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())));
    env
}

fn pairs(env: &[(String, String)]) -> Vec<(&str, &str)> {
    env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect()
}

/// Waits (briefly) until the upstream has seen `n` attempts abandoned by pipette.
async fn abandoned(server: &UpstreamServer, n: usize) -> usize {
    for _ in 0..100 {
        if server.abandoned() >= n {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    server.abandoned()
}

fn matched_ids(result: &Value) -> Vec<&str> {
    result["matches"].as_array().unwrap().iter().map(|m| m["nct_id"].as_str().unwrap()).collect()
}

#[tokio::test]
async fn a_hung_search_is_hedged_abandoned_and_counted_and_the_match_answers_inline() {
    let upstream = UpstreamServer::start().await;
    upstream.route("GET", "/ctgov/studies", Reply::seq(vec![Reply::hang(), page()]));
    // A minute of time-to-headers budget: only the hedge can rescue the call before it becomes a job.
    let env = env(&upstream, &[("PIPETTE_CTGOV_HEDGE_MS", "50"), ("PIPETTE_CTGOV_FIRST_BYTE_MS", "60000")]);
    let dir = tempfile::tempdir().unwrap();
    let server = http_server("pipette-mcp", dir.path(), &pairs(&env)).await;
    let (conn, _) = http_client(&server.url, None).await;

    let r = call(&conn, "trials_match", args()).await;
    assert_ne!(r.is_error, Some(true), "{}", text(&r));
    assert!(!text(&r).contains("still running as job"), "answered inline: {}", text(&r));
    assert_eq!(matched_ids(r.structured_content.as_ref().unwrap()), [MATCHED]);
    assert_eq!(upstream.requests().len(), 2, "the hung attempt and its hedge");
    assert_eq!(abandoned(&upstream, 1).await, 1, "the hung attempt was dropped once the hedge answered");

    let metrics = reqwest::get(format!("{}/metrics", server.base)).await.unwrap().text().await.unwrap();
    let series = |name: &str| {
        metrics.lines().find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.trim().parse::<f64>().ok())
    };
    assert_eq!(series("pipette_upstream_hedges_total{service=\"ctgov\"}"), Some(1.0), "{metrics}");
    assert_eq!(series("pipette_upstream_abandoned_attempts_total{service=\"ctgov\"}"), Some(1.0));
    conn.cancel().await.unwrap();
}

#[tokio::test]
async fn a_429_a_truncated_body_an_html_page_and_a_reset_are_retried_until_the_match_answers() {
    let upstream = UpstreamServer::start().await;
    let html = Reply::text(
        200,
        "text/html",
        "<!DOCTYPE html><html><head><title>Service Temporarily Unavailable</title></head></html>",
    );
    let faults = [
        ("429 without Retry-After", Reply::text(429, "text/plain", "Too Many Requests")),
        ("truncated body", Reply::truncated("clinicaltrials/search_nsclc_egfr_l858r_20260811.json", 2000)),
        ("HTML page", html),
        ("reset", Reply::reset()),
    ];
    let names: Vec<&str> = faults.iter().map(|(name, _)| *name).collect();
    let replies: Vec<Reply> = faults.into_iter().flat_map(|(_, fault)| [fault, page()]).collect();
    upstream.route("GET", "/ctgov/studies", Reply::seq(replies));
    let env = env(&upstream, &[]);
    let dir = tempfile::tempdir().unwrap();
    let (conn, _) = stdio_with("pipette-mcp", dir.path(), &pairs(&env)).await;

    for (i, fault) in names.iter().enumerate() {
        let r = call(&conn, "trials_match", args()).await;
        assert_ne!(r.is_error, Some(true), "after a {fault}: {}", text(&r));
        assert_eq!(matched_ids(r.structured_content.as_ref().unwrap()), [MATCHED], "after a {fault}");
        assert_eq!(upstream.requests().len(), 2 * (i + 1), "a {fault}, then a second attempt");
    }
    conn.cancel().await.unwrap();
}

#[tokio::test]
async fn an_upstream_that_never_answers_ends_the_call_at_its_deadline_naming_the_service() {
    let upstream = UpstreamServer::start().await;
    upstream.route("GET", "/ctgov/studies", Reply::hang());
    let env = env(
        &upstream,
        &[
            ("PIPETTE_CTGOV_HEDGE_MS", "50"),
            ("PIPETTE_CTGOV_FIRST_BYTE_MS", "60000"),
            ("PIPETTE_HTTP_RETRY_DEADLINE_MS", "1500"),
        ],
    );
    let dir = tempfile::tempdir().unwrap();
    let (conn, _) = stdio_with("pipette-mcp", dir.path(), &pairs(&env)).await;

    let r = call(&conn, "trials_match", args()).await;
    assert_eq!(r.is_error, Some(true), "{}", text(&r));
    let message = text(&r);
    assert!(!message.contains("still running as job"), "an error, not a job: {message}");
    assert!(message.contains("ClinicalTrials.gov did not answer"), "{message}");
    let sent = upstream.requests().len();
    assert!(sent >= 2, "the hung attempt was hedged: {sent} requests");
    assert_eq!(abandoned(&upstream, sent).await, sent, "every hung attempt was abandoned");
    conn.cancel().await.unwrap();
}
