//! Full text and citations end to end: the real `pipette-mcp` over stdio (toolset `fulltext` enabled)
//! against the recorded answers of fixtures/fulltext served from 127.0.0.1 — each source path, the
//! fallbacks on 404 and "not open access", a DOI redirect to a landing page, citations both ways, Europe PMC
//! search, indexing the body, and the `pmc://` / `article://` resources.

use pipette_test_support::Reply;
use rmcp::model::{ReadResourceRequestParams, ResourceContents};
use serde_json::{Value, json};

use crate::research::Lab;
use crate::support::*;

const PMCID: &str = "PMC3040717";
const PMID: &str = "20516115";
const TITLE: &str = "Comprehensive Analysis of Missense Variations in the BRCT Domain of BRCA1";

fn env(lab: &Lab) -> Vec<(&'static str, String)> {
    let url = lab.server.url();
    let mut env = lab.env();
    for (k, v) in [
        ("PIPETTE_EUROPEPMC_BASE", format!("{url}/europepmc")),
        ("PIPETTE_PMC_BASE", format!("{url}/pmc")),
        ("PIPETTE_PMC_OAI_BASE", format!("{url}/oai/oai.cgi")),
        ("PIPETTE_PMC_OA_BASE", format!("{url}/oa/oa.fcgi")),
        ("PIPETTE_PMC_S3_BASE", format!("{url}/s3")),
        ("PIPETTE_DOI_BASE", format!("{url}/doi")),
        ("PIPETTE_EUROPEPMC_RATE", "0".into()),
        ("PIPETTE_PMC_S3_RATE", "0".into()),
        ("PIPETTE_DOI_RATE", "0".into()),
        ("PIPETTE_TOOLSETS", "default,fulltext".into()),
        // Each test changes the routes between calls: no upstream answer may be kept.
        ("PIPETTE_PUBMED_CACHE_TTL_SECS", "0".into()),
        ("PIPETTE_EUROPEPMC_CACHE_TTL_SECS", "0".into()),
        ("PIPETTE_PMC_CACHE_TTL_SECS", "0".into()),
        ("PIPETTE_PMC_S3_CACHE_TTL_SECS", "0".into()),
        ("PIPETTE_DOI_CACHE_TTL_SECS", "0".into()),
    ] {
        env.push((k, v));
    }
    env
}

async fn connect(lab: &Lab) -> (Conn, Client) {
    connect_with(lab, &[]).await
}

async fn connect_with(lab: &Lab, extra: &[(&str, String)]) -> (Conn, Client) {
    let env = env(lab);
    let pairs: Vec<(&str, &str)> = env.iter().chain(extra).map(|(k, v)| (*k, v.as_str())).collect();
    let mut cmd = command("pipette-mcp", lab.dir.path());
    cmd.envs(pairs.iter().copied());
    let (conn, client, _) = stdio_pid(cmd).await;
    (conn, client)
}

fn outcomes(result: &Value) -> Vec<(String, String)> {
    result["attempts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| (a["source"].as_str().unwrap().to_owned(), a["outcome"].as_str().unwrap().to_owned()))
        .collect()
}

fn section_titles(result: &Value) -> Vec<String> {
    result["article"]["sections"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["title"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn efetch_first_then_the_datasets_copy_when_efetch_is_missing() {
    let lab = Lab::start().await;
    let s = &lab.server;
    s.route_query(
        "GET",
        "/eutils/efetch.fcgi",
        &[("db", "pmc"), ("id", "3040717")],
        Reply::fixture("fulltext/jats/efetch_pmc__PMC3040717__biomcp.xml"),
    );
    let (conn, _client) = connect(&lab).await;

    let r = call(&conn, "article_fulltext", json!({ "pmcid": PMCID })).await;
    let v = r.structured_content.clone().expect("structured");
    assert_eq!(v["article"]["source"], "pmc_efetch");
    assert_eq!(v["full_text"], true);
    assert_eq!(v["article"]["ids"]["pmid"], PMID);
    assert!(v["article"]["title"].as_str().unwrap().starts_with(TITLE));
    assert_eq!(section_titles(&v)[..4], ["Introduction", "Materials and Methods", "Results", "Discussion"]);
    assert_eq!(v["article"]["references"].as_array().unwrap().len(), 53);
    let md = text(&r);
    assert!(md.contains("Source: PMC (E-utilities efetch"), "{md}");
    assert!(md.contains("- **Introduction**") && md.contains("**Figure 1**"), "{md}");
    assert!(md.contains("\"response_format\": \"detailed\""), "the concise text says how to get more: {md}");

    // efetch gone: the datasets copy answers, and the answer says efetch was not found.
    s.route_query("GET", "/eutils/efetch.fcgi", &[("db", "pmc")], Reply::text(404, "text/plain", "gone"));
    s.route(
        "GET",
        "/s3/PMC3040717.1/PMC3040717.1.xml",
        Reply::fixture("fulltext/jats/pmc_oa_s3__PMC3040717.1__biomcp.xml"),
    );
    let v = call_ok(
        &conn,
        "article_fulltext",
        json!({ "pmcid": "3040717", "sections": ["discussion"], "response_format": "detailed" }),
    )
    .await;
    assert_eq!(v["article"]["source"], "pmc_datasets");
    let tried = outcomes(&v);
    assert_eq!(tried[0].0, "pmc_efetch");
    assert!(tried[0].1.contains("not found"), "{tried:?}");
    assert_eq!(section_titles(&v), ["Discussion"]);
    assert!(v["all_sections"].as_array().unwrap().len() >= 4);
}

#[tokio::test]
async fn europepmc_then_oai_paths() {
    let lab = Lab::start().await;
    let s = &lab.server;
    s.route(
        "GET",
        "/europepmc/PMC3258128/fullTextXML",
        Reply::fixture("fulltext/jats/europepmc_fullTextXML__PMC3258128__pyEuropePMC.xml"),
    );
    s.route_query(
        "GET",
        "/oai/oai.cgi",
        &[
            ("verb", "GetRecord"),
            ("identifier", "oai:pubmedcentral.nih.gov:4500000"),
            ("metadataPrefix", "pmc"),
        ],
        Reply::fixture("fulltext/jats/oai_getrecord__PMC4500000__pubmed-client.xml"),
    );
    let (conn, _client) = connect(&lab).await;
    let v = call_ok(&conn, "article_fulltext", json!({ "pmcid": "PMC3258128" })).await;
    assert_eq!(v["article"]["source"], "europe_pmc");
    assert_eq!(v["article"]["ids"]["doi"], "10.1093/nar/gkr715");
    let tried: Vec<String> = outcomes(&v).into_iter().map(|(s, _)| s).collect();
    assert_eq!(tried, ["pmc_efetch", "pmc_datasets", "europe_pmc"]);

    let v = call_ok(&conn, "article_fulltext", json!({ "pmcid": "PMC4500000" })).await;
    assert_eq!(v["article"]["source"], "pmc_oai");
    assert_eq!(v["article"]["ids"]["pmid"], "26180337");
    assert_eq!(section_titles(&v), ["INTRODUCTION", "SUBJECTS AND METHODS", "RESULTS", "DISCUSSION"]);
}

/// A PMID resolves through Europe PMC; every JATS source is closed ("not open access"), the OA service
/// says so, and the PMC web page answers; without it, the answer says plainly that nothing is open.
#[tokio::test]
async fn pmid_resolution_and_the_not_open_access_fallbacks() {
    let lab = Lab::start().await;
    let s = &lab.server;
    s.route(
        "GET",
        "/europepmc/search",
        Reply::fixture("fulltext/europepmc_search/search_lite__EXT_ID-20516115__biomcp.json"),
    );
    s.route(
        "GET",
        "/europepmc/PMC3040717/fullTextXML",
        Reply::fixture("fulltext/related/europepmc_supplementaryFiles__PMC3040717_not_OA__biomcp.xml"),
    );
    s.route(
        "GET",
        "/oa/oa.fcgi",
        Reply::fixture("fulltext/related/pmc_oa_fcgi__PMC3040717_idIsNotOpenAccess__biomcp.xml"),
    );
    let (conn, _client) = connect(&lab).await;

    let r = call(&conn, "article_fulltext", json!({ "pmid": PMID })).await;
    let v = r.structured_content.clone().expect("structured");
    assert_eq!(v["full_text"], false);
    assert_eq!(v["open_access"], false);
    assert_eq!(v["article"]["source"], "abstract_only");
    assert_eq!(v["article"]["ids"]["pmcid"], PMCID, "resolved through Europe PMC search");
    let notice = v["notice"].as_str().unwrap();
    assert!(notice.contains("not open access") && notice.contains("idIsNotOpenAccess"), "{notice}");
    let links = v["links"].as_array().unwrap();
    assert!(links.iter().any(|l| l == "https://pubmed.ncbi.nlm.nih.gov/20516115/"), "{links:?}");
    assert!(links.iter().any(|l| l == "https://doi.org/10.1158/0008-5472.can-09-4563"), "{links:?}");
    let tried = outcomes(&v);
    assert!(tried.iter().any(|(s, o)| s == "europe_pmc" && o.contains("not open access")), "{tried:?}");
    assert!(text(&r).contains("No open full text"), "{}", text(&r));
    let search = lab.server.requests().into_iter().find(|r| r.path == "/europepmc/search").expect("a search");
    assert_eq!(search.param("query").as_deref(), Some("EXT_ID:20516115 AND SRC:MED"));

    // The PMC web page is readable: it answers, parsed as HTML.
    s.route(
        "GET",
        "/pmc/articles/PMC3040717/",
        Reply::fixture("fulltext/html/pmc_article_page__PMC3040717__biomcp.html"),
    );
    let v = call_ok(&conn, "article_fulltext", json!({ "pmid": PMID, "response_format": "detailed" })).await;
    assert_eq!(v["full_text"], true);
    assert_eq!(v["article"]["source"], "pmc_web_page");
    assert_eq!(
        v["article"]["pdf_url"],
        "https://pmc.ncbi.nlm.nih.gov/articles/PMC3040717/pdf/nihms265402.pdf"
    );
    assert!(section_titles(&v).contains(&"Discussion".to_owned()));
}

#[tokio::test]
async fn a_doi_leads_through_the_resolver_to_the_landing_page() {
    let lab = Lab::start().await;
    let s = &lab.server;
    let landing = format!("{}/journals/plosone/article", lab.server.url());
    s.route(
        "GET",
        "/doi/10.1371/journal.pone.0213978",
        Reply::text(302, "text/plain", "").header("Location", &landing),
    );
    s.route(
        "GET",
        "/journals/plosone/article",
        Reply::fixture("fulltext/html/journal_landing__plos_one_pone.0213978__sandcrawler.html"),
    );
    let (conn, _client) = connect(&lab).await;
    let v =
        call_ok(&conn, "article_fulltext", json!({ "doi": "https://doi.org/10.1371/journal.pone.0213978" }))
            .await;
    assert_eq!(v["article"]["source"], "publisher_page");
    assert_eq!(v["article"]["ids"]["doi"], "10.1371/journal.pone.0213978");
    assert_eq!(
        v["article"]["pdf_url"],
        "https://journals.plos.org/plosone/article/file?id=10.1371/journal.pone.0213978&type=printable"
    );
    assert!(section_titles(&v).contains(&"Introduction".to_owned()));

    let bad = call(&conn, "article_fulltext", json!({ "doi": "not a doi" })).await;
    assert_eq!(bad.is_error, Some(true));
    assert!(text(&bad).contains("doi"), "{}", text(&bad));
    let none = call(&conn, "article_fulltext", json!({})).await;
    assert_eq!(none.is_error, Some(true));
}

#[tokio::test]
async fn citations_both_ways_and_europepmc_search() {
    let lab = Lab::start().await;
    let s = &lab.server;
    s.route_query(
        "GET",
        "/eutils/elink.fcgi",
        &[("linkname", "pubmed_pubmed_citedin")],
        Reply::fixture("fulltext/citations/elink_citedin_json__pmid27350240__pubmed-client.json"),
    );
    s.route_query(
        "GET",
        "/eutils/elink.fcgi",
        &[("linkname", "pubmed_pubmed_refs")],
        Reply::fixture("fulltext/citations/elink_neighbor_incl_citedin__pmid9298984__biopython.xml"),
    );
    s.route(
        "GET",
        "/europepmc/search",
        Reply::fixture("fulltext/europepmc_search/search_core__query-cancer__pyEuropePMC.json"),
    );
    let (conn, _client) = connect(&lab).await;

    let r =
        call(&conn, "article_citations", json!({ "pmid": "27350240", "direction": "cited_by", "limit": 5 }))
            .await;
    let v = r.structured_content.clone().expect("structured");
    assert_eq!(v["count"], 8);
    assert_eq!(v["articles"].as_array().unwrap().len(), 5);
    assert_eq!(v["articles"][0]["pmid"], "38899158");
    assert!(text(&r).contains("8 PubMed articles cite PMID 27350240"), "{}", text(&r));

    let v = call_ok(
        &conn,
        "article_citations",
        json!({ "pmid": "9298984", "direction": "references", "limit": 100 }),
    )
    .await;
    assert_eq!(v["count"], 56);
    assert_eq!(v["direction"], "references");

    let v = call_ok(&conn, "europepmc_search", json!({ "query": "cancer", "limit": 25 })).await;
    assert_eq!(v["total"], 5_059_039);
    assert_eq!(v["articles"].as_array().unwrap().len(), 25);
    assert!(v["next_cursor"].is_string());
}

#[tokio::test]
async fn the_index_argument_makes_the_body_searchable_and_resources_read_it() {
    let lab = Lab::start().await;
    lab.server.route_query(
        "GET",
        "/eutils/efetch.fcgi",
        &[("db", "pmc")],
        Reply::fixture("fulltext/jats/efetch_pmc__PMC3040717__biomcp.xml"),
    );
    lab.server.route(
        "GET",
        "/europepmc/search",
        Reply::fixture("fulltext/europepmc_search/search_lite__EXT_ID-20516115__biomcp.json"),
    );
    let (conn, _client) = connect(&lab).await;
    let v = call_ok(&conn, "article_fulltext", json!({ "pmcid": PMCID, "index": "papers" })).await;
    assert_eq!(v["indexed"]["added"], 1);
    // "luciferase" is in the body (methods), not in the title or the abstract.
    let hits = call_ok(&conn, "index_search", json!({ "id": "papers", "query": "luciferase" })).await;
    let hits = hits["hits"].as_array().expect("hits");
    assert_eq!(hits.len(), 1, "{hits:?}");
    assert!(hits[0].to_string().contains(PMID), "{hits:?}");

    for uri in [format!("pmc://{PMCID}"), format!("article://{PMID}/fulltext")] {
        let r = conn.read_resource(ReadResourceRequestParams::new(uri.clone())).await.expect("read");
        let ResourceContents::TextResourceContents { text, .. } = &r.contents[0] else {
            panic!("{uri}: {r:?}")
        };
        let v: Value = serde_json::from_str(text).expect("JSON");
        assert_eq!(v["article"]["ids"]["pmcid"], PMCID, "{uri}");
    }
}

/// Neither Europe PMC nor the ID converter knows the PMID: the PubMed record gives the DOI; the DOI leads to
/// a page about another article, which is refused; the answer is the record's abstract.
#[tokio::test]
async fn the_pubmed_record_resolves_and_a_page_about_another_article_is_refused() {
    let lab = Lab::start().await;
    let s = &lab.server;
    s.route("GET", "/eutils/efetch.fcgi", Reply::fixture("pubmed/efetch_pubmed_22663011.xml"));
    s.route(
        "GET",
        "/doi/10.1056/NEJMoa1203421",
        Reply::fixture("fulltext/html/journal_landing__plos_one_pone.0213978__sandcrawler.html"),
    );
    let (conn, _client) = connect(&lab).await;
    let v = call_ok(&conn, "article_fulltext", json!({ "pmid": crate::research::PMID })).await;
    assert_eq!(v["full_text"], false);
    assert_eq!(v["article"]["source"], "abstract_only");
    assert_eq!(v["article"]["ids"]["doi"], "10.1056/NEJMoa1203421");
    assert_eq!(v["article"]["title"], "Improved survival with MEK inhibition in BRAF-mutated melanoma.");
    assert!(v["article"]["abstract"].as_str().is_some_and(|a| !a.is_empty()));
    let tried = outcomes(&v);
    assert!(tried.iter().any(|(s, o)| s == "publisher_page" && o.contains("another article")), "{tried:?}");
    assert!(tried.iter().any(|(s, o)| s == "pmc_efetch" && o.contains("no PMCID")), "{tried:?}");
}
