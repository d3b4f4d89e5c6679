//! Rate limits and circuit breakers shared through a real redis-server (issue 11): four independent
//! clients of the HTTP layer (as four processes would be, each with its own limiter and breaker) against
//! the local upstream serving the recorded PubMed answers.

use std::time::Duration;

use core_cache::Cache;
use core_scrapers::http::{CircuitState, Coordination, Upstreams};
use core_scrapers::{ScrapeError, ScrapersConfig, Secret};
use pipette_test_support::{RedisServer, Reply, UpstreamServer};

const ESEARCH: &str = "pubmed/esearch_json_apc_pE1317Q_retmax100.json";

/// Production rates and breakers, every upstream on `server`, the limits shared on `redis` under a
/// namespace of this test's own.
fn config(server: &UpstreamServer, redis: &str, namespace: &str) -> ScrapersConfig {
    let url = server.url();
    let mut c = ScrapersConfig::default().with_base_urls(
        &format!("{url}/eutils"),
        &format!("{url}/ctgov"),
        &format!("{url}/uniprot"),
        &format!("{url}/chembl"),
    );
    c.pubmed.cache_ttl = Duration::ZERO;
    c.redis_url = Some(Secret::new(redis));
    // Keys of this run only (a circuit opened by an earlier run stays open for its cool-down).
    c.namespace = format!(
        "{namespace}-{}-{}",
        std::process::id(),
        std::time::SystemTime::UNIX_EPOCH.elapsed().unwrap_or_default().as_nanos()
    );
    c
}

fn client(config: &ScrapersConfig) -> Upstreams {
    Upstreams::new(config, Cache::in_process(1 << 20)).expect("upstreams")
}

/// The most requests the upstream received within any one second.
fn busiest_second(server: &UpstreamServer) -> usize {
    let at: Vec<_> = server.requests().iter().map(|r| r.at).collect();
    (0..at.len())
        .map(|i| at[i..].iter().take_while(|t| t.duration_since(at[i]) < Duration::from_secs(1)).count())
        .max()
        .unwrap_or(0)
}

#[tokio::test]
async fn four_clients_of_one_redis_keep_ncbi_at_three_requests_a_second_together() {
    let redis = RedisServer::start();
    let server = UpstreamServer::start().await;
    server.route("GET", "/eutils/esearch.fcgi", Reply::fixture(ESEARCH));
    let config = config(&server, redis.url(), "rate-test");
    let clients: Vec<Upstreams> = (0..4).map(|_| client(&config)).collect();
    let calls = clients.iter().enumerate().flat_map(|(c, u)| {
        (0..20).map(move |i| {
            let u = u.clone();
            async move { u.pubmed.get("/esearch.fcgi", &[("term", format!("client {c} call {i}"))]).await }
        })
    });
    let results = futures::future::join_all(calls).await;
    assert!(
        results.iter().all(Result::is_ok),
        "every call succeeds: {:?}",
        results.iter().find(|r| r.is_err())
    );
    assert_eq!(server.requests().len(), 80);
    let busiest = busiest_second(&server);
    assert!(busiest <= 3, "the upstream saw {busiest} requests within one second");
    assert_eq!(clients[0].coordination(), Coordination::Shared);
}

#[tokio::test]
async fn a_circuit_opened_by_one_client_refuses_calls_in_another() {
    let redis = RedisServer::start();
    let server = UpstreamServer::start().await;
    server.route("GET", "/ctgov/studies", Reply::text(503, "text/plain", "down"));
    let mut config = config(&server, redis.url(), "breaker-test");
    config.ctgov.rate_per_second = 0.0;
    config.retry.attempts = 1;
    config.breaker.threshold = 1;
    config.breaker.cooldown = Duration::from_secs(30);
    let (a, b) = (client(&config), client(&config));
    let err = a.ctgov.get("/studies", &[]).await.expect_err("503");
    assert!(matches!(err, ScrapeError::Upstream { status: 503, .. }), "{err:?}");
    assert_eq!(a.ctgov.circuit().state, CircuitState::Open);
    assert_eq!(b.ctgov.circuit().state, CircuitState::Closed, "b has seen nothing yet");

    let err = b.ctgov.get("/studies", &[]).await.expect_err("open");
    assert!(matches!(err, ScrapeError::CircuitOpen { .. }), "{err:?}");
    assert_eq!(server.requests().len(), 1, "b sent nothing");
    assert_eq!(b.ctgov.circuit().state, CircuitState::Open, "b's own status shows it open");
    assert_eq!(b.uniprot.circuit().state, CircuitState::Closed, "only that upstream");
}

#[tokio::test]
async fn redis_killed_mid_run_falls_back_to_local_limits_without_failing_a_call() {
    let redis = RedisServer::start_own();
    let server = UpstreamServer::start().await;
    server.route("GET", "/eutils/esearch.fcgi", Reply::fixture(ESEARCH));
    let u = client(&config(&server, redis.url(), "fallback-test"));
    for i in 0..3 {
        u.pubmed.get("/esearch.fcgi", &[("term", format!("before {i}"))]).await.expect("shared");
    }
    assert_eq!(u.coordination(), Coordination::Shared);
    drop(redis); // killed
    for i in 0..6 {
        u.pubmed.get("/esearch.fcgi", &[("term", format!("after {i}"))]).await.expect("local limits");
    }
    match u.coordination() {
        Coordination::Fallback { reason } => assert!(reason.starts_with("Redis unreachable"), "{reason}"),
        other => panic!("expected the local fallback, got {other:?}"),
    }
    assert!(u.coordination().degraded());
    assert_eq!(server.requests().len(), 9);
    assert!(busiest_second(&server) <= 3, "the local limiter still holds the rate");
}

#[tokio::test]
async fn without_redis_nothing_changes() {
    let server = UpstreamServer::start().await;
    let mut config = config(&server, "redis://unused", "none");
    config.redis_url = None;
    assert_eq!(client(&config).coordination(), Coordination::Local);
}
