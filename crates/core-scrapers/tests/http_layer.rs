//! The HTTP layer through a real socket to the local upstream: faults, retries, Retry-After, the circuit
//! breaker, the rate limiter, the cache, single flight, NCBI parameters and the body cap.

use std::time::{Duration, Instant};

use core_cache::Cache;
use core_scrapers::ScrapeError;
use core_scrapers::ScrapersConfig;
use core_scrapers::http::{CircuitState, Service, Upstreams};
use pipette_test_support::{Reply, UpstreamServer};

const NCBI_ERROR: &str = "pubmed/esummary_json_rate_limit_exceeded_error.json";
const ESEARCH: &str = "pubmed/esearch_json_apc_pE1317Q_retmax100.json";
const EFETCH: &str = "pubmed/efetch_pubmed_22663011.xml";

/// Short, test-sized settings: every upstream on the local server, no rate limit, quick retries.
fn config(server: &UpstreamServer) -> ScrapersConfig {
    let url = server.url();
    let mut c = ScrapersConfig::default().with_base_urls(
        &format!("{url}/eutils"),
        &format!("{url}/ctgov"),
        &format!("{url}/uniprot"),
        &format!("{url}/chembl"),
    );
    for upstream in [&mut c.pubmed, &mut c.ctgov, &mut c.uniprot, &mut c.chembl] {
        upstream.rate_per_second = 0.0;
    }
    c.timeouts.total = Duration::from_secs(3);
    c.timeouts.read = Duration::from_secs(3);
    c.retry.attempts = 3;
    c.retry.base_delay = Duration::from_millis(20);
    c.retry.max_delay = Duration::from_millis(100);
    c.retry.deadline = Duration::from_secs(10);
    c.retry.retry_after_cap = Duration::from_secs(3);
    c.breaker.threshold = 100;
    c
}

fn upstreams(config: &ScrapersConfig) -> Upstreams {
    Upstreams::new(config, Cache::in_process(64 * 1024 * 1024)).expect("upstreams")
}

fn gaps(server: &UpstreamServer) -> Vec<Duration> {
    let requests = server.requests();
    requests.windows(2).map(|w| w[1].at.duration_since(w[0].at)).collect()
}

#[tokio::test]
async fn a_429_without_retry_after_is_retried_then_named() {
    let server = UpstreamServer::start().await;
    server.route("GET", "/eutils/esummary.fcgi", Reply::fixture(NCBI_ERROR).status(429));
    let u = upstreams(&config(&server));
    let started = Instant::now();
    let err = u.pubmed.get("/esummary.fcgi", &[("id", "1".into())]).await.expect_err("429");
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_eq!(err, ScrapeError::RateLimited { service: Service::PubMed, retry_after: None });
    assert!(err.retryable());
    assert_eq!(server.requests().len(), 3, "3 attempts in all");
}

#[tokio::test]
async fn a_429_with_retry_after_in_seconds_is_honoured() {
    let server = UpstreamServer::start().await;
    server.route(
        "GET",
        "/ctgov/studies",
        Reply::seq(vec![
            Reply::text(429, "text/plain", "slow down").header("retry-after", "1"),
            Reply::fixture("clinicaltrials/search_keytruda_limit3_20260811.json"),
        ]),
    );
    let u = upstreams(&config(&server));
    let body = u.ctgov.get("/studies", &[]).await.expect("second attempt succeeds");
    assert!(body.starts_with(b"{"));
    let gaps = gaps(&server);
    assert_eq!(gaps.len(), 1);
    assert!(gaps[0] >= Duration::from_millis(950), "waited {:?}, Retry-After said 1 s", gaps[0]);
}

#[tokio::test]
async fn a_retry_after_http_date_is_honoured_and_one_beyond_the_cap_ends_the_call() {
    let server = UpstreamServer::start().await;
    let when = httpdate::fmt_http_date(std::time::SystemTime::now() + Duration::from_secs(2));
    server.route(
        "GET",
        "/uniprot/date",
        Reply::seq(vec![
            Reply::text(503, "text/plain", "maintenance").header("retry-after", &when),
            Reply::text(200, "application/json", "{}"),
        ]),
    );
    server.route("GET", "/uniprot/far", Reply::text(429, "text/plain", "no").header("retry-after", "120"));
    let u = upstreams(&config(&server));
    u.uniprot.get("/date", &[]).await.expect("after the date");
    let gap = gaps(&server)[0];
    // An HTTP-date has one-second resolution: 2 s ahead means at least 1 s from now.
    assert!(gap >= Duration::from_millis(950), "waited {gap:?}");

    server.clear();
    let started = Instant::now();
    let err = u.uniprot.get("/far", &[]).await.expect_err("beyond the cap");
    assert!(started.elapsed() < Duration::from_secs(2), "did not wait 120 s");
    assert_eq!(
        err,
        ScrapeError::RateLimited { service: Service::UniProt, retry_after: Some(Duration::from_secs(120)) }
    );
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn a_500_then_success_is_retried() {
    let server = UpstreamServer::start().await;
    server.route(
        "GET",
        "/chembl/mechanism.json",
        Reply::seq(vec![
            Reply::text(500, "text/plain", "Internal Server Error"),
            Reply::fixture("chembl/mechanism_CHEMBL3137343_pembrolizumab_20260811.json"),
        ]),
    );
    let u = upstreams(&config(&server));
    let value: serde_json::Value = u
        .chembl
        .get_json("/mechanism.json", &[("molecule_chembl_id", "CHEMBL3137343".into())])
        .await
        .expect("ok");
    assert!(value.get("mechanisms").is_some());
    assert_eq!(server.requests().len(), 2);
}

#[tokio::test]
async fn persistent_5xx_ends_with_the_status_and_an_excerpt() {
    let server = UpstreamServer::start().await;
    server.route(
        "GET",
        "/chembl/x",
        Reply::json(502, serde_json::json!({"error_message": "bad gateway upstream"})),
    );
    let u = upstreams(&config(&server));
    let err = u.chembl.get("/x", &[]).await.expect_err("502");
    assert_eq!(
        err,
        ScrapeError::Upstream {
            service: Service::Chembl,
            status: 502,
            excerpt: "bad gateway upstream".into()
        }
    );
    assert_eq!(server.requests().len(), 3);
}

#[tokio::test]
async fn a_hang_times_out_in_bounded_time() {
    let server = UpstreamServer::start().await;
    server.route("GET", "/ctgov/studies/NCT1", Reply::hang());
    let mut c = config(&server);
    c.timeouts.total = Duration::from_millis(300);
    c.retry.attempts = 2;
    let u = upstreams(&c);
    let started = Instant::now();
    let err = u.ctgov.get("/studies/NCT1", &[]).await.expect_err("hang");
    let elapsed = started.elapsed();
    assert!(matches!(err, ScrapeError::Timeout { service: Service::ClinicalTrials, .. }), "{err:?}");
    assert!(elapsed < Duration::from_secs(3), "took {elapsed:?}");
    assert_eq!(server.requests().len(), 2);
}

#[tokio::test]
async fn a_truncated_body_is_a_connection_error_and_retried() {
    let server = UpstreamServer::start().await;
    server.route("GET", "/eutils/efetch.fcgi", Reply::truncated(EFETCH, 500));
    let u = upstreams(&config(&server));
    let err = u.pubmed.get("/efetch.fcgi", &[]).await.expect_err("truncated");
    match &err {
        ScrapeError::Connect { service: Service::PubMed, detail } => {
            assert!(detail.contains("cut short after 500 bytes"), "{detail}")
        }
        other => panic!("expected Connect, got {other:?}"),
    }
    assert_eq!(server.requests().len(), 3);
}

#[tokio::test]
async fn an_html_page_is_named_retried_and_not_cached() {
    let server = UpstreamServer::start().await;
    server.route(
        "GET",
        "/uniprot/uniprotkb/P15056.json",
        Reply::text(
            200,
            "text/html",
            "<!DOCTYPE html><html><head><title>Service Temporarily Down</title></head></html>",
        ),
    );
    let u = upstreams(&config(&server));
    for _ in 0..2 {
        let err =
            u.uniprot.get_json::<serde_json::Value>("/uniprotkb/P15056.json", &[]).await.expect_err("html");
        assert_eq!(err.kind(), "unexpected_content");
        assert!(err.to_string().contains("Service Temporarily Down"), "{err}");
    }
    // A maintenance or proxy page is transient (issue 17): each call tries 3 times, nothing is cached.
    assert_eq!(server.requests().len(), 6, "three attempts per call, nothing cached");
}

#[tokio::test]
async fn a_json_error_body_with_status_200_is_named() {
    let server = UpstreamServer::start().await;
    server.route("GET", "/eutils/esummary.fcgi", Reply::fixture(NCBI_ERROR));
    let u = upstreams(&config(&server));
    let err = u.pubmed.get_json::<serde_json::Value>("/esummary.fcgi", &[]).await.expect_err("error body");
    match &err {
        ScrapeError::UnexpectedContent { service: Service::PubMed, detail } => {
            assert!(detail.contains("API rate limit exceeded"), "{detail}")
        }
        other => panic!("expected UnexpectedContent, got {other:?}"),
    }
}

#[tokio::test]
async fn the_circuit_opens_after_its_threshold_and_closes_after_its_cooldown() {
    let server = UpstreamServer::start().await;
    server.route("GET", "/chembl/target.json", Reply::text(503, "text/plain", "down"));
    let mut c = config(&server);
    c.retry.attempts = 1;
    c.breaker.threshold = 3;
    // Long enough that a loaded machine cannot outlast it between two statements.
    c.breaker.cooldown = Duration::from_millis(1500);
    let u = upstreams(&c);
    for _ in 0..3 {
        let err = u.chembl.get("/target.json", &[]).await.expect_err("503");
        assert_eq!(err.kind(), "upstream");
    }
    let status = u.chembl.circuit();
    assert_eq!((status.state, status.consecutive_failures), (CircuitState::Open, 3));
    assert!(status.opened_at.is_some() && status.retry_in_ms.is_some());

    let err = u.chembl.get("/target.json", &[]).await.expect_err("open");
    assert!(matches!(err, ScrapeError::CircuitOpen { service: Service::Chembl, .. }), "{err:?}");
    assert_eq!(server.requests().len(), 3, "an open circuit sends nothing");
    assert_eq!(u.uniprot.circuit().state, CircuitState::Closed, "circuits are per upstream");

    tokio::time::sleep(Duration::from_millis(1600)).await;
    assert_eq!(u.chembl.circuit().state, CircuitState::HalfOpen);
    server.route("GET", "/chembl/target.json", Reply::text(200, "application/json", "{}"));
    u.chembl.get("/target.json", &[]).await.expect("probe succeeds");
    let status = u.chembl.circuit();
    assert_eq!((status.state, status.consecutive_failures), (CircuitState::Closed, 0));
    let all = u.circuits();
    assert_eq!(all.len(), 8, "one circuit per service");
    assert!(all.iter().all(|s| s.state == CircuitState::Closed));
    let json = serde_json::to_value(&all[3]).expect("json");
    assert_eq!(json["service"], "chembl");
    assert_eq!(json["state"], "closed");
}

#[tokio::test]
async fn twenty_concurrent_pubmed_calls_never_exceed_three_per_second() {
    let server = UpstreamServer::start().await;
    server.route("GET", "/eutils/esearch.fcgi", Reply::fixture(ESEARCH));
    let mut c = config(&server);
    c.pubmed.rate_per_second = 3.0;
    let u = upstreams(&c);
    let calls = (0..20).map(|i| {
        let pubmed = u.pubmed.clone();
        tokio::spawn(async move { pubmed.get("/esearch.fcgi", &[("term", format!("q{i}"))]).await })
    });
    for result in futures::future::join_all(calls).await {
        result.expect("task").expect("call");
    }
    let times: Vec<Instant> = server.requests().iter().map(|r| r.at).collect();
    assert_eq!(times.len(), 20);
    for (i, window) in times.windows(4).enumerate() {
        let span = window[3].duration_since(window[0]);
        assert!(
            span >= Duration::from_secs(1),
            "requests {i}..{} arrived within {span:?}: more than 3/s",
            i + 3
        );
    }
}

#[tokio::test]
async fn an_isolated_call_does_not_wait_for_the_rate_limiter() {
    let server = UpstreamServer::start().await;
    server.route("GET", "/ctgov/studies", Reply::json(200, serde_json::json!({"studies": []})));
    let mut c = config(&server);
    c.ctgov.rate_per_second = 2.0; // one request per 550 ms
    let u = upstreams(&c);
    let timed = |i: u32| {
        let ctgov = u.ctgov.clone();
        async move {
            let started = Instant::now();
            ctgov.get("/studies", &[("query.cond", format!("q{i}"))]).await.expect("call");
            started.elapsed()
        }
    };
    // The first call, and a call after a quiet interval, go out at once; back to back, the second waits.
    assert!(timed(0).await < Duration::from_millis(200), "a first call waited");
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert!(timed(1).await < Duration::from_millis(200), "a call after a quiet interval waited");
    let waited = timed(2).await;
    assert!(waited >= Duration::from_millis(450), "back to back, the rate holds: {waited:?}");
}

#[tokio::test]
async fn answers_are_cached_per_url_and_ttl_zero_disables_it() {
    let server = UpstreamServer::start().await;
    server.route("GET", "/eutils/esearch.fcgi", Reply::fixture(ESEARCH));
    let mut c = config(&server);
    c.ncbi_api_key = Some(core_scrapers::Secret::new("sekret"));
    c.ncbi_email = Some("dev@example.org".into());
    let cache = Cache::in_process(1 << 20);
    let u = Upstreams::new(&c, cache.clone()).expect("upstreams");
    let a = u.pubmed.get("/esearch.fcgi", &[("term", "braf".into())]).await.expect("first");
    let b = u.pubmed.get("/esearch.fcgi", &[("term", "braf".into())]).await.expect("cached");
    assert_eq!(a, b);
    u.pubmed.get("/esearch.fcgi", &[("term", "kras".into())]).await.expect("other key");
    let requests = server.requests();
    assert_eq!(requests.len(), 2);
    let first = &requests[0];
    assert_eq!(first.param("api_key").as_deref(), Some("sekret"));
    assert_eq!(first.param("tool").as_deref(), Some("pipette"));
    assert_eq!(first.param("email").as_deref(), Some("dev@example.org"));
    assert_eq!(first.param("term").as_deref(), Some("braf"));

    let analytics = cache.analytics().await;
    let scope = analytics.scopes.iter().find(|s| s.scope == "pubmed").expect("pubmed scope");
    assert_eq!((scope.hits, scope.misses), (1, 2));
    assert_eq!(cache.invalidate("pubmed:*esearch*").await.expect("invalidate"), 2);
    assert_eq!(
        cache.invalidate("pubmed:*sekret*").await.expect("invalidate"),
        0,
        "credentials stay out of cache keys"
    );

    server.clear();
    let mut c = config(&server);
    c.pubmed.cache_ttl = Duration::ZERO;
    let u = upstreams(&c);
    for _ in 0..2 {
        u.pubmed.get("/esearch.fcgi", &[("term", "braf".into())]).await.expect("uncached");
    }
    assert_eq!(server.requests().len(), 2);
}

#[tokio::test]
async fn identical_concurrent_calls_share_one_request() {
    let server = UpstreamServer::start().await;
    server.route("POST", "/eutils/efetch.fcgi", Reply::fixture(EFETCH).delay(Duration::from_millis(200)));
    let u = upstreams(&config(&server));
    let form = [("db", "pubmed".to_owned()), ("id", "22663011".to_owned())];
    let calls = (0..5).map(|_| u.pubmed.post_form("/efetch.fcgi", &form));
    let bodies = futures::future::join_all(calls).await;
    assert!(bodies.iter().all(|b| b.as_ref().is_ok_and(|b| b.starts_with(b"<?xml"))));
    let requests = server.requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].method, "POST");
    assert_eq!(requests[0].param("id").as_deref(), Some("22663011"));
}

#[tokio::test]
async fn a_cancelled_call_leaves_the_upstream_usable() {
    let server = UpstreamServer::start().await;
    server.route(
        "GET",
        "/ctgov/slow",
        Reply::seq(vec![
            Reply::text(200, "application/json", "{}").delay(Duration::from_secs(5)),
            Reply::json(200, serde_json::json!({"ok": true})),
        ]),
    );
    let u = upstreams(&config(&server));
    let cancelled = tokio::time::timeout(Duration::from_millis(100), u.ctgov.get("/slow", &[])).await;
    assert!(cancelled.is_err(), "dropped by the timeout");
    let body = u.ctgov.get("/slow", &[]).await.expect("a fresh fetch, not the abandoned one");
    assert_eq!(&body[..], br#"{"ok":true}"#);
}

#[tokio::test]
async fn bodies_over_the_cap_are_refused() {
    let server = UpstreamServer::start().await;
    server.route("GET", "/eutils/efetch.fcgi", Reply::fixture(EFETCH));
    let mut c = config(&server);
    c.max_body_bytes = 1000;
    c.breaker.threshold = 1;
    let u = upstreams(&c);
    let err = u.pubmed.get("/efetch.fcgi", &[]).await.expect_err("too large");
    assert_eq!(err, ScrapeError::BodyTooLarge { service: Service::PubMed, limit: 1000 });
    assert!(!err.retryable());
    assert_eq!(server.requests().len(), 1, "not retried");
    assert_eq!(u.pubmed.circuit().state, CircuitState::Closed, "the request's fault, not the upstream's");
}

#[tokio::test]
async fn wrong_json_shapes_name_the_field_and_404_is_not_found() {
    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct Shape {
        esearchresult: Inner,
    }
    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct Inner {
        count: u64,
    }
    let server = UpstreamServer::start().await;
    server.route("GET", "/eutils/esearch.fcgi", Reply::fixture(ESEARCH));
    let u = upstreams(&config(&server));
    let err = u.pubmed.get_json::<Shape>("/esearch.fcgi", &[]).await.expect_err("count is a string");
    match &err {
        ScrapeError::Parse { service: Service::PubMed, detail } => {
            assert!(detail.contains("esearchresult.count"), "{detail}")
        }
        other => panic!("expected Parse, got {other:?}"),
    }
    let err = u.uniprot.get("/uniprotkb/P00000.json", &[]).await.expect_err("404");
    assert_eq!(err.kind(), "not_found");
    assert_eq!(server.requests().len(), 2, "404 is not retried");
}

#[tokio::test]
async fn a_refused_connection_is_a_connect_error() {
    let server = UpstreamServer::start().await;
    let mut c = config(&server);
    drop(server);
    c.retry.attempts = 1;
    let url = c.ctgov.base_url.clone();
    // A port that was just freed: nothing listens there now.
    let u = upstreams(&c);
    let err = u.ctgov.get("/studies", &[]).await.expect_err("refused");
    assert_eq!(err.kind(), "connect", "{err} ({url})");
    assert!(err.retryable());
}

#[tokio::test]
async fn half_the_answers_failing_keeps_the_circuit_closed_while_retries_succeed() {
    let server = UpstreamServer::start().await;
    // 50 % of the answers fail, two in a row each time: every call succeeds within its 3 attempts.
    let ok = || Reply::fixture("clinicaltrials/search_keytruda_limit3_20260811.json");
    let fail = || Reply::text(500, "text/plain", "Internal Server Error");
    let replies = (0..5).flat_map(|_| [fail(), fail(), ok(), ok()]).collect();
    server.route("GET", "/ctgov/studies", Reply::seq(replies));
    let mut c = config(&server);
    c.breaker.threshold = 2;
    c.ctgov.cache_ttl = Duration::ZERO;
    let u = upstreams(&c);
    for call in 1..=10 {
        u.ctgov.get("/studies", &[]).await.unwrap_or_else(|err| panic!("call {call}: {err}"));
        let status = u.ctgov.circuit();
        assert_eq!((status.state, status.consecutive_failures), (CircuitState::Closed, 0), "call {call}");
    }
    let failed = server.requests().len() - 10;
    assert_eq!(failed, 10, "ten failed attempts, two in a row five times, and the circuit never opened");
}

#[tokio::test]
async fn calls_that_fail_after_all_their_retries_open_the_circuit_at_the_threshold() {
    let server = UpstreamServer::start().await;
    server.route("GET", "/uniprot/uniprotkb/search", Reply::text(503, "text/plain", "down"));
    let mut c = config(&server);
    c.breaker.threshold = 2;
    c.breaker.cooldown = Duration::from_secs(60);
    let u = upstreams(&c);

    let err = u.uniprot.get("/uniprotkb/search", &[]).await.expect_err("503");
    assert_eq!(err.kind(), "upstream");
    assert_eq!(server.requests().len(), 3, "three attempts");
    let status = u.uniprot.circuit();
    assert_eq!((status.state, status.consecutive_failures), (CircuitState::Closed, 1), "one failed call");

    u.uniprot.get("/uniprotkb/search", &[]).await.expect_err("503");
    assert_eq!(server.requests().len(), 6);
    let status = u.uniprot.circuit();
    assert_eq!((status.state, status.consecutive_failures), (CircuitState::Open, 2), "two failed calls");

    let err = u.uniprot.get("/uniprotkb/search", &[]).await.expect_err("open");
    assert!(matches!(err, ScrapeError::CircuitOpen { service: Service::UniProt, .. }), "{err:?}");
    assert_eq!(server.requests().len(), 6, "an open circuit sends nothing");
}

#[tokio::test]
async fn a_get_url_past_the_budget_is_an_invalid_argument_sent_to_no_one() {
    let server = UpstreamServer::start().await;
    server.route(
        "GET",
        "/ctgov/studies",
        Reply::fixture("clinicaltrials/search_keytruda_limit3_20260811.json"),
    );
    let mut c = config(&server);
    c.breaker.threshold = 1;
    let u = upstreams(&c);
    let huge = "x".repeat(200_000);
    for _ in 0..3 {
        let err = u
            .ctgov
            .get("/studies", &[("query.term", huge.clone()), ("pageSize", "3".into())])
            .await
            .expect_err("too long");
        match &err {
            ScrapeError::InvalidArgument { name, reason } => {
                assert_eq!(name, "query.term", "the longest parameter is named");
                assert!(reason.contains("8192") && reason.len() < 300, "{reason}");
            }
            other => panic!("expected InvalidArgument, got {other:?}"),
        }
        assert!(!err.retryable());
    }
    let err = u.uniprot.get(&format!("/uniprotkb/{huge}.json"), &[]).await.expect_err("too long");
    assert!(matches!(&err, ScrapeError::InvalidArgument { name, .. } if name == "path"), "{err:?}");
    assert!(server.requests().is_empty(), "nothing was sent");
    assert!(u.circuits().iter().all(|s| s.state == CircuitState::Closed && s.consecutive_failures == 0));
    u.ctgov.get("/studies", &[("query.term", "keytruda".into())]).await.expect("a normal call goes through");
}

// ---- issue 17: bounded time under upstream faults ----

const CTGOV_SEARCH: &str = "clinicaltrials/search_keytruda_limit3_20260811.json";

/// Waits (briefly) until the server has seen `n` requests abandoned by the client.
async fn abandoned(server: &UpstreamServer, n: usize) -> usize {
    for _ in 0..100 {
        if server.abandoned() >= n {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    server.abandoned()
}

#[tokio::test]
async fn a_hung_attempt_is_hedged_and_the_first_good_answer_wins() {
    let server = UpstreamServer::start().await;
    server.route("GET", "/ctgov/studies", Reply::seq(vec![Reply::hang(), Reply::fixture(CTGOV_SEARCH)]));
    let mut c = config(&server);
    c.ctgov.hedge_floor = Duration::from_millis(50);
    c.ctgov.first_byte = Duration::from_secs(30); // only the hedge can rescue this call
    c.timeouts.total = Duration::from_secs(60);
    c.timeouts.read = Duration::from_secs(60);
    let u = upstreams(&c);
    let body = u.ctgov.get("/studies", &[]).await.expect("the hedge answers");
    assert!(body.starts_with(b"{"));
    assert_eq!(server.requests().len(), 2, "the first attempt and its hedge");
    assert_eq!(abandoned(&server, 1).await, 1, "the hung attempt was dropped once the hedge answered");
}

#[tokio::test]
async fn hung_headers_cost_one_budget_then_the_call_is_retried() {
    let server = UpstreamServer::start().await;
    server.route("GET", "/ctgov/studies", Reply::seq(vec![Reply::hang(), Reply::fixture(CTGOV_SEARCH)]));
    let mut c = config(&server);
    c.ctgov.hedge_floor = Duration::ZERO; // no hedging: the budget alone ends the hung attempt
    c.ctgov.first_byte = Duration::from_millis(200);
    let u = upstreams(&c);
    u.ctgov.get("/studies", &[]).await.expect("the retry answers");
    assert_eq!(server.requests().len(), 2);
    assert_eq!(abandoned(&server, 1).await, 1, "the hung attempt was abandoned at its budget");
}

#[tokio::test]
async fn a_stalled_body_is_abandoned_at_its_budget_and_retried() {
    let server = UpstreamServer::start().await;
    server.route(
        "GET",
        "/eutils/efetch.fcgi",
        Reply::seq(vec![Reply::stall(EFETCH, 300), Reply::fixture(EFETCH)]),
    );
    let mut c = config(&server);
    c.pubmed.hedge_floor = Duration::ZERO;
    c.pubmed.body = Duration::from_millis(200);
    let u = upstreams(&c);
    let body = u.pubmed.get("/efetch.fcgi", &[]).await.expect("the retry answers");
    assert!(body.starts_with(b"<?xml"));
    assert_eq!(server.requests().len(), 2);
    assert_eq!(abandoned(&server, 1).await, 1, "the stalled body was abandoned");
}

#[tokio::test]
async fn a_reset_connection_and_an_html_page_are_retried() {
    let server = UpstreamServer::start().await;
    let html = Reply::text(200, "text/html", "<html><head><title>Down for maintenance</title></head></html>");
    server.route(
        "GET",
        "/ctgov/studies",
        Reply::seq(vec![Reply::reset(), html, Reply::fixture(CTGOV_SEARCH)]),
    );
    let u = upstreams(&config(&server));
    u.ctgov.get_json::<serde_json::Value>("/studies", &[]).await.expect("the third attempt answers");
    assert_eq!(server.requests().len(), 3);
}

#[tokio::test]
async fn every_attempt_hanging_ends_at_the_call_deadline_naming_the_service() {
    let server = UpstreamServer::start().await;
    server.route("GET", "/ctgov/studies", Reply::hang());
    let mut c = config(&server);
    c.ctgov.hedge_floor = Duration::from_millis(50);
    c.ctgov.first_byte = Duration::from_secs(30);
    c.timeouts.total = Duration::from_secs(60);
    c.timeouts.read = Duration::from_secs(60);
    c.retry.deadline = Duration::from_millis(1500);
    let u = upstreams(&c);
    let err = u.ctgov.get("/studies", &[]).await.expect_err("nothing answers");
    assert!(matches!(err, ScrapeError::Timeout { service: Service::ClinicalTrials, .. }), "{err:?}");
    assert!(err.to_string().starts_with("ClinicalTrials.gov did not answer"), "{err}");
    let sent = server.requests().len();
    assert!((2..=3).contains(&sent), "a first attempt and a hedge, within 3 attempts: {sent}");
    assert_eq!(abandoned(&server, sent).await, sent, "every attempt was abandoned at the deadline");
}

#[tokio::test]
async fn a_retry_after_past_the_deadline_ends_the_call_at_once() {
    let server = UpstreamServer::start().await;
    server.route(
        "GET",
        "/ctgov/studies",
        Reply::text(429, "text/plain", "slow down").header("retry-after", "5"),
    );
    let mut c = config(&server);
    c.retry.retry_after_cap = Duration::from_secs(30);
    c.retry.deadline = Duration::from_secs(2);
    let u = upstreams(&c);
    let err = u.ctgov.get("/studies", &[]).await.expect_err("429");
    assert_eq!(
        err,
        ScrapeError::RateLimited {
            service: Service::ClinicalTrials,
            retry_after: Some(Duration::from_secs(5))
        }
    );
    assert_eq!(server.requests().len(), 1, "no attempt after a wait the deadline cannot hold");
}

#[tokio::test]
async fn a_429_without_retry_after_is_retried_and_succeeds() {
    let server = UpstreamServer::start().await;
    server.route(
        "GET",
        "/ctgov/studies",
        Reply::seq(vec![Reply::text(429, "text/plain", "slow down"), Reply::fixture(CTGOV_SEARCH)]),
    );
    let u = upstreams(&config(&server));
    u.ctgov.get("/studies", &[]).await.expect("the retry answers");
    assert_eq!(server.requests().len(), 2);
}

#[tokio::test]
async fn hedges_wait_for_the_rate_limiter() {
    let server = UpstreamServer::start().await;
    server.route("GET", "/ctgov/studies", Reply::fixture(CTGOV_SEARCH));
    server.route("GET", "/ctgov/studies/NCT1", Reply::hang());
    let mut c = config(&server);
    c.ctgov.rate_per_second = 10.0;
    c.ctgov.hedge_floor = Duration::from_millis(10);
    c.ctgov.first_byte = Duration::from_secs(30);
    c.timeouts.total = Duration::from_secs(60);
    c.timeouts.read = Duration::from_secs(60);
    c.retry.attempts = 4;
    c.retry.deadline = Duration::from_millis(1200);
    let u = upstreams(&c);
    // Warm: enough quick answers that the hedge delay falls to its 10 ms floor.
    for i in 0..10 {
        u.ctgov.get("/studies", &[("n", i.to_string())]).await.expect("warm");
    }
    server.clear();
    let calls = (0..4).map(|i| {
        let u = u.clone();
        async move { u.ctgov.get("/studies/NCT1", &[("n", i.to_string())]).await }
    });
    for result in futures::future::join_all(calls).await {
        assert!(matches!(result, Err(ScrapeError::Timeout { .. })), "{result:?}");
    }
    // Unlimited, 4 calls hedging every 10 ms would send 16 requests within 50 ms; the limiter spaces them.
    let gaps = gaps(&server);
    assert!(gaps.len() >= 4, "hedges were sent: {} requests", gaps.len() + 1);
    assert!(server.requests().len() < 16, "not every hedge fits in the rate before the deadline");
    for gap in gaps {
        assert!(gap >= Duration::from_millis(90), "requests spaced by the 10/s limiter, got {gap:?}");
    }
}
