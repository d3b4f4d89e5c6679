//! Checks the local upstream server itself: routing, sequences, faults and recording.

use std::time::Duration;

use pipette_test_support::{Reply, UpstreamServer, fixture, fixtures_dir};

fn client() -> reqwest::Client {
    reqwest::Client::builder().timeout(Duration::from_secs(5)).build().expect("client")
}

#[test]
fn fixtures_are_found() {
    assert!(fixtures_dir().join("README.md").is_file());
    let xml = fixture("pubmed/efetch_pubmed_22663011.xml");
    assert!(xml.starts_with(b"<?xml"));
}

#[tokio::test]
async fn routes_by_path_and_query_and_records() {
    let server = UpstreamServer::start().await;
    assert!(server.url().starts_with("http://127.0.0.1:"));
    server.route("GET", "/a", Reply::text(200, "text/plain", "any"));
    server.route_query("GET", "/a", &[("id", "7 8")], Reply::json(201, serde_json::json!({"x": 1})));
    server.route(
        "GET",
        "/fx",
        Reply::fixture("pubmed/esearch_json_apc_pE1317Q_retmax100.json").header("x-test", "yes"),
    );

    let c = client();
    let r = c.get(format!("{}/a?id=7%208&other=1", server.url())).send().await.expect("send");
    assert_eq!(r.status().as_u16(), 201);
    assert_eq!(r.text().await.expect("body"), r#"{"x":1}"#);
    let r = c.get(format!("{}/a?id=9", server.url())).send().await.expect("send");
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(r.text().await.expect("body"), "any");
    let r = c.get(format!("{}/fx", server.url())).send().await.expect("send");
    assert_eq!(r.headers()["content-type"], "application/json");
    assert_eq!(r.headers()["x-test"], "yes");

    let r = c.post(format!("{}/nowhere", server.url())).body("q=1").send().await.expect("send");
    assert_eq!(r.status().as_u16(), 404);
    let text = r.text().await.expect("body");
    assert!(text.contains("POST /nowhere"), "{text}");

    let requests = server.requests();
    assert_eq!(requests.len(), 4);
    assert_eq!(
        requests[0].query,
        vec![("id".to_owned(), "7 8".to_owned()), ("other".to_owned(), "1".to_owned())]
    );
    assert_eq!(requests[0].param("id").as_deref(), Some("7 8"));
    assert_eq!(requests[3].body, "q=1");
    assert!(requests[0].at <= requests[3].at);
    server.clear();
    assert!(server.requests().is_empty());
}

#[tokio::test]
async fn form_bodies_match_query_routes() {
    let server = UpstreamServer::start().await;
    server.route_query("POST", "/efetch", &[("id", "1,2")], Reply::text(200, "text/xml", "<ok/>"));
    let r = client()
        .post(format!("{}/efetch", server.url()))
        .form(&[("db", "pubmed"), ("id", "1,2")])
        .send()
        .await
        .expect("send");
    assert_eq!(r.status().as_u16(), 200);
}

#[tokio::test]
async fn sequences_advance_and_repeat_the_last() {
    let server = UpstreamServer::start().await;
    server.route(
        "GET",
        "/s",
        Reply::seq(vec![Reply::text(500, "text/plain", "boom"), Reply::text(200, "text/plain", "ok")]),
    );
    let c = client();
    let mut statuses = Vec::new();
    for _ in 0..3 {
        statuses.push(c.get(format!("{}/s", server.url())).send().await.expect("send").status().as_u16());
    }
    assert_eq!(statuses, vec![500, 200, 200]);
}

#[tokio::test]
async fn hang_and_delay_outlast_a_short_client_timeout() {
    let server = UpstreamServer::start().await;
    server.route("GET", "/hang", Reply::hang());
    server.route("GET", "/slow", Reply::text(200, "text/plain", "late").delay(Duration::from_secs(3)));
    let c = reqwest::Client::builder().timeout(Duration::from_millis(200)).build().expect("client");
    for path in ["/hang", "/slow"] {
        let err = c.get(format!("{}{path}", server.url())).send().await.expect_err("must time out");
        assert!(err.is_timeout(), "{path}: {err}");
    }
}

#[tokio::test]
async fn truncated_bodies_fail_on_the_client() {
    let server = UpstreamServer::start().await;
    let full = fixture("pubmed/efetch_pubmed_22663011.xml").len();
    server.route("GET", "/t", Reply::truncated("pubmed/efetch_pubmed_22663011.xml", 100));
    let r = client().get(format!("{}/t", server.url())).send().await.expect("headers arrive");
    assert_eq!(r.content_length(), Some(full as u64));
    assert!(r.bytes().await.is_err(), "a truncated body must be an error");
}

#[tokio::test]
async fn latency_applies_to_every_response() {
    let server = UpstreamServer::start().await;
    server.route("GET", "/x", Reply::text(200, "text/plain", "x"));
    server.latency(Duration::from_millis(300));
    let c = reqwest::Client::builder().timeout(Duration::from_millis(100)).build().expect("client");
    let err = c.get(format!("{}/x", server.url())).send().await.expect_err("latency exceeds timeout");
    assert!(err.is_timeout());
    server.latency(Duration::ZERO);
    let ok = client().get(format!("{}/x", server.url())).send().await.expect("no latency");
    assert_eq!(ok.status().as_u16(), 200);
}

#[tokio::test]
async fn stalls_resets_and_mixes() {
    let server = UpstreamServer::start().await;
    let efetch = "pubmed/efetch_pubmed_22663011.xml";
    server.route("GET", "/stall", Reply::stall(efetch, 100));
    server.route("GET", "/reset", Reply::reset());
    server.route("GET", "/hang", Reply::hang());
    let choices = vec![(3, Reply::text(200, "text/plain", "a")), (1, Reply::text(500, "text/plain", "b"))];
    server.route("GET", "/mix", Reply::mix(7, choices));

    let short = reqwest::Client::builder().timeout(Duration::from_millis(300)).build().expect("client");
    let r = short.get(format!("{}/stall", server.url())).send().await.expect("headers arrive");
    assert_eq!(r.status().as_u16(), 200);
    assert!(r.bytes().await.is_err(), "the body never completes");
    assert!(short.get(format!("{}/hang", server.url())).send().await.is_err());
    assert!(client().get(format!("{}/reset", server.url())).send().await.is_err(), "no response");
    // The client gave up on the hang and the stall: the server saw both go.
    for _ in 0..50 {
        if server.abandoned() == 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(server.abandoned(), 2);

    let mut statuses = Vec::new();
    for _ in 0..200 {
        let r = client().get(format!("{}/mix", server.url())).send().await.expect("send");
        statuses.push(r.status().as_u16());
    }
    let errors = statuses.iter().filter(|s| **s == 500).count();
    assert!((25..=75).contains(&errors), "about a quarter of 200: {errors}");
}
