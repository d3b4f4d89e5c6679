//! The NCBI hosts share one rate: E-utilities (efetch pmc, elink), the PMC pages and ID converter, OAI-PMH
//! and the OA service draw on `PIPETTE_PUBMED_RATE` together, while Europe PMC keeps its own.

use std::time::{Duration, Instant};

use core_cache::Cache;
use core_scrapers::ScrapersConfig;
use core_scrapers::http::Upstreams;
use pipette_test_support::{Reply, UpstreamServer};

#[tokio::test]
async fn ncbi_hosts_make_three_requests_a_second_together() {
    let server = UpstreamServer::start().await;
    let url = server.url();
    for path in [
        "/eutils/efetch.fcgi",
        "/pmc/tools/idconv/api/v1/articles/",
        "/oai/oai.cgi",
        "/oa/oa.fcgi",
        "/europepmc/search",
    ] {
        server.route("GET", path, Reply::text(200, "text/xml", "<ok/>"));
    }
    let mut c = ScrapersConfig::default()
        .with_base_urls(
            &format!("{url}/eutils"),
            &format!("{url}/ctgov"),
            &format!("{url}/uniprot"),
            &format!("{url}/chembl"),
        )
        .with_fulltext_base(&url);
    c.pmc_oai_base = format!("{url}/oai/oai.cgi");
    c.pmc_oa_base = format!("{url}/oa/oa.fcgi");
    c.pubmed.rate_per_second = 3.0;
    c.europepmc.rate_per_second = 0.0;
    let u = Upstreams::new(&c, Cache::in_process(1 << 20)).expect("upstreams");

    // Europe PMC is not NCBI: five requests at once, no waiting.
    let started = Instant::now();
    let calls = (0..5).map(|i| {
        let e = u.europepmc.clone();
        tokio::spawn(async move { e.get("/search", &[("query", format!("q{i}"))]).await })
    });
    for r in futures::future::join_all(calls).await {
        r.expect("task").expect("call");
    }
    assert!(started.elapsed() < Duration::from_millis(900), "{:?}", started.elapsed());
    server.clear();

    let calls = (0..12).map(|i| {
        let u = u.clone();
        tokio::spawn(async move {
            let q = vec![("id", format!("{i}"))];
            match i % 4 {
                0 => u.pubmed.get("/efetch.fcgi", &q).await,
                1 => u.pmc.get("/tools/idconv/api/v1/articles/", &q).await,
                2 => u.pmc_oai.get("", &q).await,
                _ => u.pmc_oa.get("", &q).await,
            }
        })
    });
    for r in futures::future::join_all(calls).await {
        r.expect("task").expect("call");
    }
    let times: Vec<Instant> = server.requests().iter().map(|r| r.at).collect();
    assert_eq!(times.len(), 12);
    for (i, w) in times.windows(4).enumerate() {
        let span = w[3].duration_since(w[0]);
        assert!(
            span >= Duration::from_secs(1),
            "NCBI requests {i}..{} within {span:?}: more than 3/s",
            i + 3
        );
    }
}
