//! PubMed search and fetch against the local upstream: esearch then batched efetch (GET, POST above 100
//! ids), ordering, paging, argument checks before any request, progress.
//!
//! Where a test needs an esearch page listing the PMIDs of the recorded efetch fixtures, it builds one in
//! the recorded shape of `esearch_json_apc_pE1317Q_retmax100.json` (marked "recorded shape" below).

use std::sync::Mutex;
use std::time::Duration;

use core_cache::Cache;
use core_scrapers::http::{CircuitState, Upstreams};
use core_scrapers::pubmed::{self, SearchRequest, Sort};
use core_scrapers::{ScrapeError, ScrapersConfig};
use pipette_test_support::{Reply, UpstreamServer};

fn upstreams(server: &UpstreamServer) -> Upstreams {
    let mut c = ScrapersConfig::default().with_base_urls(
        &format!("{}/eutils", server.url()),
        &format!("{}/ctgov", server.url()),
        &format!("{}/uniprot", server.url()),
        &format!("{}/chembl", server.url()),
    );
    c.pubmed.rate_per_second = 0.0;
    c.retry.base_delay = Duration::from_millis(10);
    Upstreams::new(&c, Cache::in_process(1 << 24)).expect("upstreams")
}

/// Recorded shape: an esearch JSON page (see the module comment).
fn esearch_page(count: u64, ids: &[String]) -> Reply {
    Reply::json(
        200,
        serde_json::json!({
            "header": {"type": "esearch", "version": "0.3"},
            "esearchresult": {
                "count": count.to_string(), "retmax": ids.len().to_string(), "retstart": "0",
                "idlist": ids, "translationset": [], "querytranslation": "braf[All Fields]"
            }
        }),
    )
}

#[tokio::test]
async fn search_runs_esearch_then_efetch_and_keeps_the_esearch_order() {
    let server = UpstreamServer::start().await;
    let ids = vec!["9997".to_owned(), "12091962".to_owned()];
    server.route("GET", "/eutils/esearch.fcgi", esearch_page(3, &ids));
    server.route(
        "GET",
        "/eutils/efetch.fcgi",
        Reply::fixture("pubmed/efetch_pubmed_12091962_9997_abstract.xml"),
    );
    let u = upstreams(&server);
    let mut req = SearchRequest::new("braf");
    req.max_results = 2;
    req.sort = Sort::PubDate;
    req.date_from = Some("1970".into());
    req.date_to = Some("1995-12-31".into());
    req.publication_types = vec!["Journal Article".into()];
    let steps = Mutex::new(Vec::new());
    let result = pubmed::search(&u, &req, &|cur, total, _msg| steps.lock().expect("lock").push((cur, total)))
        .await
        .expect("search");

    let pmids: Vec<&str> = result.articles.iter().map(|a| a.pmid.as_str()).collect();
    assert_eq!(pmids, ["9997", "12091962"], "esearch order, not efetch order");
    assert_eq!((result.total, result.offset, result.next_offset), (3, 0, Some(2)));
    assert_eq!(result.term, "(braf) AND (\"Journal Article\"[pt])");
    assert_eq!(result.query_translation.as_deref(), Some("braf[All Fields]"));
    assert_eq!(steps.into_inner().expect("steps"), vec![(0, Some(2)), (1, Some(2)), (2, Some(2))]);

    let requests = server.requests();
    assert_eq!(requests.len(), 2);
    let esearch = &requests[0];
    for (k, v) in [
        ("db", "pubmed"),
        ("retmode", "json"),
        ("retmax", "2"),
        ("retstart", "0"),
        ("sort", "pub_date"),
        ("datetype", "pdat"),
        ("mindate", "1970"),
        ("maxdate", "1995/12/31"),
        ("tool", "pipette"),
    ] {
        assert_eq!(esearch.param(k).as_deref(), Some(v), "esearch {k}");
    }
    let efetch = &requests[1];
    assert_eq!((efetch.method.as_str(), efetch.param("id").as_deref()), ("GET", Some("9997,12091962")));
    assert_eq!(efetch.param("retmode").as_deref(), Some("xml"));
}

/// esearch lists three PMIDs, efetch returns one record: the other two are named, not silently dropped; a
/// phrase PubMed ignored is said to be a phrase, not a missing PMID.
#[tokio::test]
async fn pmids_whose_records_did_not_come_back_are_listed() {
    let server = UpstreamServer::start().await;
    let ids = vec!["22663011".to_owned(), "111".to_owned(), "222".to_owned()];
    server.route("GET", "/eutils/esearch.fcgi", esearch_page(3, &ids));
    server.route("GET", "/eutils/efetch.fcgi", Reply::fixture("pubmed/efetch_pubmed_22663011.xml"));
    let u = upstreams(&server);
    let mut result =
        pubmed::search(&u, &SearchRequest::new("PTEN D326N"), &|_, _, _| {}).await.expect("search");
    assert_eq!(result.articles.len(), 1);
    assert_eq!(result.not_fetched, ["111", "222"]);
    result.phrases_not_found = vec!["p.E1317Q".into()];
    let md = result.markdown(core_scrapers::ResponseFormat::Concise);
    assert!(md.contains("**2 PMIDs listed by the search came back without a record**: 111, 222."), "{md}");
    assert!(md.contains("`pubmed_fetch {\"pmids\": [\"111\",\"222\"]}`"), "{md}");
    assert!(md.contains("PubMed found nothing for `p.E1317Q` and searched without it"), "{md}");
}

#[tokio::test]
async fn long_id_lists_are_fetched_in_batches_with_post() {
    let server = UpstreamServer::start().await;
    let ids: Vec<String> = (0..250).map(|i| (30_000_000 + i).to_string()).collect();
    server.route("GET", "/eutils/esearch.fcgi", esearch_page(40_000, &ids));
    server.route("GET", "/eutils/efetch.fcgi", Reply::fixture("pubmed/efetch_pubmed_22663011.xml"));
    server.route("POST", "/eutils/efetch.fcgi", Reply::fixture("pubmed/efetch_pubmed_22663011.xml"));
    let u = upstreams(&server);
    let mut req = SearchRequest::new("cancer");
    req.max_results = 250;
    let result = pubmed::search(&u, &req, &|_, _, _| {}).await.expect("search");
    assert!(result.articles.is_empty(), "the recorded efetch holds none of these PMIDs");
    assert_eq!(result.next_offset, Some(250));

    let mut fetches: Vec<(String, usize)> = server
        .requests()
        .iter()
        .filter(|r| r.path.ends_with("efetch.fcgi"))
        .map(|r| (r.method.clone(), r.param("id").map(|ids| ids.split(',').count()).unwrap_or(0)))
        .collect();
    fetches.sort();
    assert_eq!(fetches, vec![("GET".to_owned(), 50), ("POST".to_owned(), 200)]);
}

#[tokio::test]
async fn bad_arguments_fail_before_any_request() {
    let server = UpstreamServer::start().await;
    let u = upstreams(&server);
    let cases: Vec<(SearchRequest, &str)> = vec![
        (SearchRequest { max_results: 1001, ..SearchRequest::new("x") }, "max_results"),
        (SearchRequest { date_from: Some(String::new()), ..SearchRequest::new("x") }, "date_from"),
        (SearchRequest { date_to: Some("2020-02-30".into()), ..SearchRequest::new("x") }, "date_to"),
        (SearchRequest { date_from: Some("yesterday".into()), ..SearchRequest::new("x") }, "date_from"),
        (SearchRequest { offset: 10_000, ..SearchRequest::new("x") }, "offset"),
        (SearchRequest::new(""), "query"),
    ];
    for (req, expected) in cases {
        match pubmed::search(&u, &req, &|_, _, _| {}).await {
            Err(ScrapeError::InvalidArgument { name, reason }) => {
                assert_eq!(name, expected, "{reason}");
                assert!(!reason.is_empty());
            }
            other => panic!("{req:?}: expected InvalidArgument({expected}), got {other:?}"),
        }
    }
    let too_many: Vec<String> = (1..=201).map(|i| i.to_string()).collect();
    for pmids in [too_many, vec![], vec!["PMC123".to_owned()]] {
        let err = pubmed::fetch(&u, &pmids).await.expect_err("invalid");
        assert!(matches!(&err, ScrapeError::InvalidArgument { name, .. } if name == "pmids"), "{err:?}");
    }
    assert!(server.requests().is_empty(), "nothing was sent");
}

#[tokio::test]
async fn fetch_returns_articles_in_order_and_names_the_missing() {
    let server = UpstreamServer::start().await;
    server.route("GET", "/eutils/efetch.fcgi", Reply::fixture("pubmed/efetch_pubmed_22663011.xml"));
    let u = upstreams(&server);
    let pmids = vec!["1".to_owned(), "22663011".to_owned(), "PMID:22663011".to_owned()];
    let result = pubmed::fetch(&u, &pmids).await.expect("fetch");
    assert_eq!(result.articles.len(), 1);
    assert_eq!(result.articles[0].pmid, "22663011");
    assert_eq!(result.not_found, ["1"]);
    assert_eq!(server.requests()[0].param("id").as_deref(), Some("1,22663011"));
}

#[tokio::test]
async fn an_efetch_error_answer_is_named() {
    let server = UpstreamServer::start().await;
    server.route(
        "GET",
        "/eutils/efetch.fcgi",
        Reply::text(
            200,
            "text/xml",
            "<eFetchResult><ERROR>Cannot retrieve the record</ERROR></eFetchResult>",
        ),
    );
    let u = upstreams(&server);
    let err = pubmed::fetch(&u, &["22663011".to_owned()]).await.expect_err("error answer");
    assert_eq!(err.kind(), "unexpected_content");
    assert!(err.to_string().contains("Cannot retrieve the record"), "{err}");
}

#[tokio::test]
async fn a_200k_character_query_is_refused_before_any_request_and_trips_nothing() {
    let server = UpstreamServer::start().await;
    server.route(
        "GET",
        "/eutils/esearch.fcgi",
        Reply::fixture("pubmed/esearch_json_apc_pE1317Q_retmax100.json"),
    );
    server.route(
        "POST",
        "/eutils/esearch.fcgi",
        Reply::fixture("pubmed/esearch_json_apc_pE1317Q_retmax100.json"),
    );
    let mut c = ScrapersConfig::default().with_base_urls(
        &format!("{}/eutils", server.url()),
        &format!("{}/ctgov", server.url()),
        &format!("{}/uniprot", server.url()),
        &format!("{}/chembl", server.url()),
    );
    c.pubmed.rate_per_second = 0.0;
    c.breaker.threshold = 1;
    let u = Upstreams::new(&c, Cache::in_process(1 << 20)).expect("upstreams");
    let req = SearchRequest { max_results: 0, ..SearchRequest::new("a".repeat(200_000)) };
    for _ in 0..5 {
        match pubmed::search(&u, &req, &|_, _, _| {}).await {
            Err(ScrapeError::InvalidArgument { name, reason }) => {
                assert_eq!(name, "query");
                assert!(reason.contains(&pubmed::MAX_QUERY_CHARS.to_string()), "{reason}");
                assert!(reason.len() < 200, "the value is not echoed: {reason}");
            }
            other => panic!("expected InvalidArgument(query), got {other:?}"),
        }
    }
    assert!(server.requests().is_empty(), "nothing reached the upstream");
    let status = u.pubmed.circuit();
    assert_eq!((status.state, status.consecutive_failures), (CircuitState::Closed, 0));
}

#[tokio::test]
async fn a_long_but_legal_query_goes_by_post_and_works() {
    let server = UpstreamServer::start().await;
    // Only POST is routed for esearch: a GET would get the support server's 404.
    server.route("GET", "/eutils/efetch.fcgi", Reply::fixture("pubmed/efetch_pubmed_22663011.xml"));
    server.route(
        "POST",
        "/eutils/esearch.fcgi",
        Reply::fixture("pubmed/esearch_json_apc_pE1317Q_retmax100.json"),
    );
    let u = upstreams(&server);
    let terms: Vec<String> = (0..300).map(|i| format!("\"gene {i}\"[tiab]")).collect();
    let query = terms.join(" OR ");
    assert!(query.len() > 5000 && query.chars().count() <= pubmed::MAX_QUERY_CHARS);
    let req = SearchRequest { max_results: 0, ..SearchRequest::new(query.clone()) };
    let result = pubmed::search(&u, &req, &|_, _, _| {}).await.expect("search by POST");
    assert_eq!(result.total, 40362);
    let requests: Vec<_> =
        server.requests().into_iter().filter(|r| r.path == "/eutils/esearch.fcgi").collect();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].method, "POST");
    assert!(requests[0].query.is_empty(), "nothing in the URL");
    assert_eq!(requests[0].param("term").as_deref(), Some(query.as_str()));
    assert_eq!(requests[0].param("tool").as_deref(), Some("pipette"));

    // A short one still goes by GET.
    server.route(
        "GET",
        "/eutils/esearch.fcgi",
        Reply::fixture("pubmed/esearch_json_apc_pE1317Q_retmax100.json"),
    );
    let req = SearchRequest { max_results: 0, ..SearchRequest::new("braf") };
    pubmed::search(&u, &req, &|_, _, _| {}).await.expect("search by GET");
    let last = server.requests().into_iter().rfind(|r| r.path == "/eutils/esearch.fcgi").expect("esearch");
    assert_eq!(last.method, "GET");
}

#[tokio::test]
async fn fetching_many_pmids_goes_by_post() {
    let server = UpstreamServer::start().await;
    server.route("POST", "/eutils/efetch.fcgi", Reply::fixture("pubmed/efetch_pubmed_22663011.xml"));
    let u = upstreams(&server);
    let mut pmids: Vec<String> = (0..199).map(|i| (30_000_000 + i).to_string()).collect();
    pmids.push("22663011".to_owned());
    let result = pubmed::fetch(&u, &pmids).await.expect("fetch by POST");
    assert_eq!(result.articles.len(), 1);
    assert_eq!(result.not_found.len(), 199);
    let requests = server.requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].method, "POST");
    assert_eq!(requests[0].param("id").map(|ids| ids.split(',').count()), Some(200));
}
