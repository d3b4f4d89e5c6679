//! Many `pipette-mcp` processes on one Redis (issue 11), as real processes against the local upstream
//! serving the recorded answers: one NCBI rate for all of them, a circuit opened in one refusing calls in
//! another, and Redis dying mid-run (local limits, `health` degraded, no failed call) then coming back.

use std::time::Duration;

use pipette_test_support::{RedisServer, Reply};
use serde_json::{Value, json};

use crate::queue::namespace;
use crate::research::Lab;
use crate::support::*;

const EFETCH: &str = "pubmed/efetch_pubmed_22663011.xml";

/// The most requests the upstream received within any one second.
fn busiest_second(lab: &Lab) -> usize {
    let at: Vec<_> = lab.server.requests().iter().map(|r| r.at).collect();
    (0..at.len())
        .map(|i| at[i..].iter().take_while(|t| t.duration_since(at[i]) < Duration::from_secs(1)).count())
        .max()
        .unwrap_or(0)
}

/// One node of the deployment: NCBI's own rate (3 requests/s), limits shared on `redis` under `ns`, every
/// call answered inline, no queued jobs taken.
async fn node(lab: &Lab, redis: &str, ns: &str, extra: &[(&str, &str)]) -> Conn {
    let mut env = vec![
        ("REDIS_URL", redis),
        ("PIPETTE_CACHE_NAMESPACE", ns),
        ("PIPETTE_PUBMED_RATE", "3"),
        ("PIPETTE_CLAIM_JOBS", "0"),
        ("PIPETTE_INLINE_OVERRIDES", "pubmed_fetch=600000,trials_search=600000"),
    ];
    env.extend_from_slice(extra);
    lab.connect(&env).await.0
}

async fn health(conn: &Conn) -> Value {
    call_ok(conn, "health", json!({})).await
}

#[tokio::test]
async fn four_processes_on_one_redis_keep_ncbi_at_three_requests_a_second_together() {
    let redis = RedisServer::start();
    let ns = namespace("rate");
    let lab = Lab::start().await;
    lab.server.route("GET", "/eutils/efetch.fcgi", Reply::fixture(EFETCH));
    let mut nodes = Vec::new();
    for _ in 0..4 {
        nodes.push(node(&lab, redis.url(), &ns, &[]).await);
    }
    // 20 concurrent calls on each node, each for a PMID of its own (no cache answers for another).
    let calls = nodes.iter().enumerate().flat_map(|(n, conn)| {
        (0..20).map(move |i| {
            let pmid = (30_000_000 + n * 100 + i).to_string();
            async move { call(conn, "pubmed_fetch", json!({ "pmids": [pmid] })).await }
        })
    });
    let results = futures::future::join_all(calls).await;
    let failed: Vec<_> = results.iter().filter(|r| r.is_error == Some(true)).map(text).collect();
    assert!(failed.is_empty(), "every call succeeds: {failed:?}");
    assert_eq!(lab.server.requests().len(), 80, "one request a call");
    let busiest = busiest_second(&lab);
    assert!(busiest <= 3, "the upstream saw {busiest} requests within one second from the four processes");
    let h = health(&nodes[0]).await;
    assert_eq!(h["status"], "ok", "{h}");
}

#[tokio::test]
async fn a_circuit_opened_by_faults_in_one_process_refuses_calls_in_another() {
    let redis = RedisServer::start();
    let ns = namespace("breaker");
    let lab = Lab::start().await;
    lab.server.route("GET", "/ctgov/studies", Reply::text(503, "text/plain", "down for maintenance"));
    let breaker = [
        ("PIPETTE_BREAKER_THRESHOLD", "1"),
        ("PIPETTE_BREAKER_COOLDOWN_MS", "60000"),
        ("PIPETTE_HTTP_RETRY_ATTEMPTS", "1"),
    ];
    let a = node(&lab, redis.url(), &ns, &breaker).await;
    let b = node(&lab, redis.url(), &ns, &breaker).await;
    let search = json!({ "condition": "melanoma" });
    let r = call(&a, "trials_search", search.clone()).await;
    assert_eq!(r.is_error, Some(true), "the upstream is down: {:?}", r.content);
    assert!(text(&r).contains("503"), "a's error says what the upstream answered: {}", text(&r));
    assert_eq!(lab.server.requests().len(), 1);

    let r = call(&b, "trials_search", json!({ "condition": "lung cancer" })).await;
    assert_eq!(r.is_error, Some(true), "b is refused: {:?}", r.content);
    let said = text(&r).to_lowercase();
    assert!(
        said.contains("circuit") && said.contains("clinicaltrials.gov"),
        "b says which circuit is open: {said}"
    );
    assert_eq!(lab.server.requests().len(), 1, "b sent nothing to the upstream");
    let h = health(&b).await;
    assert_eq!(h["status"], "degraded", "{h}");
    assert!(h["problems"].to_string().contains("circuit of ctgov is open by another pipette process"), "{h}");
}

#[tokio::test]
async fn redis_killed_mid_run_leaves_local_limits_and_a_degraded_health_then_shares_again() {
    let mut redis = RedisServer::start_own();
    let ns = namespace("fallback");
    let lab = Lab::start().await;
    lab.server.route("GET", "/eutils/efetch.fcgi", Reply::fixture(EFETCH));
    let conn = node(&lab, redis.url(), &ns, &[]).await;
    let fetch = |pmid: u32| call_ok(&conn, "pubmed_fetch", json!({ "pmids": [pmid.to_string()] }));
    for pmid in 1..=2 {
        fetch(pmid).await;
    }
    assert_eq!(health(&conn).await["status"], "ok");

    redis.kill();
    for pmid in 3..=6 {
        fetch(pmid).await; // no failed call
    }
    let h = health(&conn).await;
    assert_eq!(h["status"], "degraded", "{h}");
    let problems = h["problems"].to_string();
    assert!(problems.contains("rate limits and circuit breakers are this process's own"), "{h}");
    assert!(problems.contains("shared cache backend (Redis) is unreachable"), "{h}");
    assert_eq!(lab.server.requests().len(), 6);
    assert!(busiest_second(&lab) <= 3, "the local limiter still holds NCBI's rate");

    redis.restart();
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    let mut pmid = 7;
    loop {
        fetch(pmid).await;
        pmid += 1;
        let h = health(&conn).await;
        if h["status"] == "ok" {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "not shared again after Redis came back: {h}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
