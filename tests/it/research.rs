//! The research tools end to end: the real `pipette-mcp` over stdio against the local upstream serving the
//! recorded responses of /work/shared/fixtures (PubMed, ClinicalTrials.gov, UniProt), with faults, the
//! circuit breakers, the cache tools, and two processes sharing one Redis.

use std::collections::BTreeSet;

use pipette_test_support::{RedisServer, Reply, UpstreamServer, ctgov};
use serde_json::{Value, json};

use crate::support::*;

/// The PMID of the recorded efetch answer, and the title it records.
pub(crate) const PMID: &str = "22663011";
const PMID_TITLE: &str = "Improved survival with MEK inhibition in BRAF-mutated melanoma.";

/// The recorded EGFR L858R study that names it among its inclusion criteria, and the one that excludes it.
const MATCHED: &str = "NCT06604689";
const EXCLUDED: &str = "NCT06382129";
const NSCLC: &str = "non-small cell lung cancer";

/// A local upstream and a data dir; every `pipette-mcp` started from here talks only to that upstream.
pub(crate) struct Lab {
    pub(crate) server: UpstreamServer,
    pub(crate) dir: tempfile::TempDir,
}

impl Lab {
    pub(crate) async fn start() -> Lab {
        Lab { server: UpstreamServer::start().await, dir: tempfile::tempdir().unwrap() }
    }

    /// A `pipette-mcp` over stdio pointed at the local upstream (no rate limits, quick retries), plus `extra`.
    pub(crate) async fn connect(&self, extra: &[(&str, &str)]) -> (Conn, Client) {
        let (conn, client, _) = self.connect_pid(extra).await;
        (conn, client)
    }

    /// As [`Lab::connect`], also answering the server's pid (for a test that kills it).
    pub(crate) async fn connect_pid(&self, extra: &[(&str, &str)]) -> (Conn, Client, u32) {
        let env = self.env();
        let mut cmd = command("pipette-mcp", self.dir.path());
        cmd.envs(env.iter().map(|(k, v)| (*k, v.as_str())));
        cmd.envs(extra.iter().copied());
        stdio_pid(cmd).await
    }

    /// The environment that points a pipette process at the local upstream (no rate limits, quick retries).
    pub(crate) fn env(&self) -> Vec<(&'static str, String)> {
        let url = self.server.url();
        let mut env = vec![
            ("PIPETTE_PUBMED_BASE", format!("{url}/eutils")),
            ("PIPETTE_CTGOV_BASE", format!("{url}/ctgov")),
            ("PIPETTE_UNIPROT_BASE", format!("{url}/uniprot")),
            ("PIPETTE_CHEMBL_BASE", format!("{url}/chembl")),
        ];
        for (k, v) in [
            ("PIPETTE_PUBMED_RATE", "0"),
            ("PIPETTE_CTGOV_RATE", "0"),
            ("PIPETTE_UNIPROT_RATE", "0"),
            ("PIPETTE_CHEMBL_RATE", "0"),
            ("PIPETTE_HTTP_RETRY_BASE_MS", "10"),
            ("PIPETTE_HTTP_RETRY_MAX_DELAY_MS", "40"),
        ] {
            env.push((k, v.to_owned()));
        }
        env
    }

    pub(crate) fn route_pubmed(&self) {
        let s = &self.server;
        s.route(
            "GET",
            "/eutils/esearch.fcgi",
            Reply::fixture("pubmed/esearch_json_apc_pE1317Q_retmax100.json"),
        );
        s.route("GET", "/eutils/efetch.fcgi", Reply::fixture("pubmed/efetch_pubmed_22663011.xml"));
    }

    /// The recorded ClinicalTrials.gov answers: the EGFR L858R search answers any search but the melanoma
    /// one, and the two studies it lists answer by NCT id.
    pub(crate) fn route_trials(&self) {
        let s = &self.server;
        s.route(
            "GET",
            "/ctgov/studies",
            Reply::fixture("clinicaltrials/search_nsclc_egfr_l858r_20260811.json"),
        );
        s.route_query(
            "GET",
            "/ctgov/studies",
            &[("query.cond", "melanoma"), ("filter.overallStatus", "RECRUITING"), ("pageSize", "3")],
            Reply::fixture("clinicaltrials/search_melanoma_recruiting_limit3_20260811.json"),
        );
        for id in [MATCHED, EXCLUDED] {
            let file = format!("clinicaltrials/get_{}_20260811.json", id.to_ascii_lowercase());
            s.route("GET", &format!("/ctgov/studies/{id}"), Reply::fixture(&file));
        }
    }

    /// How many requests the upstream received under `path`.
    fn hits(&self, path: &str) -> usize {
        self.server.requests().iter().filter(|r| r.path == path).count()
    }

    /// Distinct requests (path and query) under `prefix`: what the upstream layer caches, one entry each.
    fn distinct(&self, prefix: &str) -> usize {
        let reqs = self.server.requests();
        reqs.iter()
            .filter(|r| r.path.starts_with(prefix))
            .map(|r| format!("{}?{:?}", r.path, r.query))
            .collect::<BTreeSet<_>>()
            .len()
    }
}

fn scope<'a>(analytics: &'a Value, name: &str) -> &'a Value {
    analytics["scopes"]
        .as_array()
        .and_then(|s| s.iter().find(|s| s["scope"] == name))
        .unwrap_or_else(|| panic!("no scope {name} in {analytics}"))
}

#[tokio::test]
async fn pubmed_tools_and_the_cache_tools() {
    let lab = Lab::start().await;
    lab.route_pubmed();
    let (conn, client) = lab.connect(&[]).await;

    // pubmed_fetch: the recorded article, field by field.
    let fetched = call_ok(&conn, "pubmed_fetch", json!({ "pmids": [PMID, "PMID:1"] })).await;
    let article = &fetched["articles"][0];
    assert_eq!(article["pmid"], PMID);
    assert_eq!(article["title"], PMID_TITLE);
    assert_eq!(article["doi"], "10.1056/NEJMoa1203421");
    assert_eq!(article["journal"]["title"], "The New England journal of medicine");
    assert_eq!(fetched["not_found"], json!(["1"]), "the PMID the recorded answer lacks is named");
    let efetch = lab.server.requests().into_iter().find(|r| r.path == "/eutils/efetch.fcgi").unwrap();
    assert_eq!(efetch.param("id").as_deref(), Some("22663011,1"));

    // pubmed_search: esearch's recorded count and page, then one efetch of the page's ids, with progress.
    let query = "APC p.E1317Q NOT retracted publication[pt]";
    let (r, steps) =
        call_with_progress(&conn, &client, "pubmed_search", json!({ "query": query, "max_results": 100 }))
            .await;
    assert_ne!(r.is_error, Some(true), "{}", text(&r));
    let found = r.structured_content.clone().unwrap();
    assert_eq!((found["total"].as_u64(), found["next_offset"].as_u64()), (Some(40362), Some(100)));
    assert_eq!(found["term"], query);
    let esearch = lab.server.requests().into_iter().find(|r| r.path == "/eutils/esearch.fcgi").unwrap();
    assert_eq!(esearch.param("term").as_deref(), Some(query));
    let page_fetch = lab.server.requests().into_iter().rfind(|r| r.path == "/eutils/efetch.fcgi").unwrap();
    let ids = page_fetch.param("id").unwrap();
    assert_eq!(ids.split(',').count(), 100);
    assert!(ids.starts_with("42555032,42553597,"), "the recorded idlist, in order: {ids}");

    let last = steps.last().expect("progress notifications");
    assert!(steps.len() >= 2 && Some(last.progress) == last.total, "{steps:?}");

    // A repeated call is served by the cache: no new upstream request, and a hit in cache_analytics.
    let efetches = lab.hits("/eutils/efetch.fcgi");
    let again = call_ok(&conn, "pubmed_fetch", json!({ "pmids": [PMID, "PMID:1"] })).await;
    assert_eq!(again, fetched);
    assert_eq!(lab.hits("/eutils/efetch.fcgi"), efetches);
    let analytics = call_ok(&conn, "cache_analytics", json!({})).await;
    assert_eq!(analytics["backend"], "memory");
    let tool = scope(&analytics, "pubmed_fetch");
    assert_eq!((tool["hits"].as_u64(), tool["misses"].as_u64()), (Some(1), Some(1)), "{analytics}");
    let upstream_entries = lab.distinct("/eutils/");
    assert_eq!(scope(&analytics, "pubmed")["misses"].as_u64(), Some(upstream_entries as u64));
    assert_eq!(analytics["entries"].as_u64(), Some(upstream_entries as u64 + 2), "two tool results too");

    // cache_report: the same figures as markdown, which is also the text the client sees.
    let report = call(&conn, "cache_report", json!({})).await;
    let md = text(&report);
    assert!(md.contains("Backend **memory**") && md.contains("| `pubmed_fetch` | 1 | 1 | 50.0% |"), "{md}");
    assert_eq!(report.structured_content.unwrap()["report_markdown"], md);

    // invalidate_cache: counts per glob, and the next call goes upstream again.
    let tools = call_ok(&conn, "invalidate_cache", json!({ "pattern": "pubmed_*" })).await;
    assert_eq!(tools["removed"], 2, "pubmed_fetch and pubmed_search results");
    let upstream = call_ok(&conn, "invalidate_cache", json!({ "pattern": "pubmed:*" })).await;
    assert_eq!(upstream["removed"].as_u64(), Some(upstream_entries as u64));
    assert_eq!(
        call_ok(&conn, "invalidate_cache", json!({ "pattern": "*", "confirm": true })).await["removed"],
        0
    );
    assert_eq!(call_ok(&conn, "cache_analytics", json!({})).await["entries"], 0);
    call_ok(&conn, "pubmed_fetch", json!({ "pmids": [PMID, "PMID:1"] })).await;
    assert_eq!(lab.hits("/eutils/efetch.fcgi"), efetches + 1);

    // Bad arguments are named, and nothing is sent.
    let before = lab.server.requests().len();
    let bad = call(&conn, "pubmed_search", json!({ "query": "braf", "date_from": "2020-13" })).await;
    assert_eq!(bad.is_error, Some(true));
    assert!(text(&bad).contains("`date_from`"), "{}", text(&bad));
    let bad = call(&conn, "invalidate_cache", json!({ "pattern": "[" })).await;
    assert!(text(&bad).contains("`pattern`"), "{}", text(&bad));
    assert_eq!(lab.server.requests().len(), before);
    conn.cancel().await.unwrap();
}

#[tokio::test]
async fn biomolecule_tools_read_uniprot() {
    let lab = Lab::start().await;
    lab.server.route(
        "GET",
        "/uniprot/uniprotkb/P15056.json",
        Reply::fixture("uniprot/get_P15056_BRAF_20260812.json"),
    );
    lab.server.route(
        "GET",
        "/uniprot/uniprotkb/search",
        Reply::fixture("uniprot/search_BRAF_human_reviewed_20260812.json"),
    );
    let (conn, _) = lab.connect(&[]).await;

    let protein = call_ok(&conn, "protein_get", json!({ "accession": "p15056" })).await;
    assert_eq!(protein["accession"], "P15056");
    assert_eq!(protein["name"], "Serine/threonine-protein kinase B-raf");
    assert_eq!((protein["gene"].as_str(), protein["length"].as_u64()), (Some("BRAF"), Some(766)));

    let found =
        call_ok(&conn, "discover_biomolecules", json!({ "target": "BRAF", "kinds": ["proteins"] })).await;
    assert_eq!(found["protein"]["accession"], "P15056");
    assert_eq!(found["proteins"][0]["ids"]["uniprot"], "P15056");
    assert_eq!(found["proteins"][0]["name"], "Serine/threonine-protein kinase B-raf");
    let search = lab.server.requests().into_iter().find(|r| r.path == "/uniprot/uniprotkb/search").unwrap();
    assert_eq!(search.param("query").as_deref(), Some("(BRAF) AND organism_id:9606 AND reviewed:true"));
    assert!(lab.server.requests().iter().all(|r| !r.path.starts_with("/chembl")), "proteins only");

    let bad = call(&conn, "protein_get", json!({ "accession": "not an accession" })).await;
    assert!(text(&bad).contains("invalid_argument") && text(&bad).contains("`accession`"), "{}", text(&bad));
    conn.cancel().await.unwrap();
}

#[tokio::test]
async fn upstream_faults_reach_the_client_named_and_open_the_circuit() {
    let lab = Lab::start().await;
    lab.server.route(
        "GET",
        "/uniprot/uniprotkb/P15056.json",
        Reply::text(200, "text/html; charset=UTF-8", "<!DOCTYPE html><html><body>Maintenance</body></html>"),
    );
    lab.server.route(
        "GET",
        "/eutils/efetch.fcgi",
        Reply::text(500, "text/html", "<html>Internal error</html>"),
    );
    let (conn, _) =
        lab.connect(&[("PIPETTE_BREAKER_THRESHOLD", "2"), ("PIPETTE_HTTP_RETRY_ATTEMPTS", "1")]).await;

    // An HTML page where JSON was asked: an error naming the service.
    let page = call(&conn, "protein_get", json!({ "accession": "P15056" })).await;
    assert_eq!(page.is_error, Some(true));
    assert!(
        text(&page).starts_with("upstream error: UniProt sent an unexpected answer: an HTML page"),
        "{}",
        text(&page)
    );

    // A 500, twice: the error names PubMed and the status, and the circuit opens.
    for _ in 0..2 {
        let failed = call(&conn, "pubmed_fetch", json!({ "pmids": [PMID] })).await;
        assert_eq!(failed.is_error, Some(true));
        assert!(text(&failed).contains("PubMed (NCBI E-utilities) answered HTTP 500"), "{}", text(&failed));
    }
    let circuits = call_ok(&conn, "circuit_status", json!({})).await;
    let services: Vec<&str> =
        circuits["circuits"].as_array().unwrap().iter().map(|c| c["service"].as_str().unwrap()).collect();
    assert_eq!(services, ["pubmed", "ctgov", "uniprot", "chembl", "europepmc", "pmc", "pmc_s3", "doi"]);
    let pubmed = &circuits["circuits"][0];
    assert_eq!((pubmed["state"].as_str(), pubmed["consecutive_failures"].as_u64()), (Some("open"), Some(2)));
    assert!(pubmed["retry_in_ms"].as_u64().is_some_and(|ms| ms > 0), "{pubmed}");
    assert_eq!(circuits["circuits"][1]["state"], "closed");
    assert_eq!(call_ok(&conn, "health", json!({})).await["status"], "degraded");

    // While open, calls fail fast without reaching the upstream.
    let sent = lab.hits("/eutils/efetch.fcgi");
    assert_eq!(sent, 2);
    let fast = call(&conn, "pubmed_fetch", json!({ "pmids": [PMID] })).await;
    assert!(text(&fast).starts_with("circuit_open error: PubMed"), "{}", text(&fast));
    assert_eq!(lab.hits("/eutils/efetch.fcgi"), sent);
    conn.cancel().await.unwrap();
}

#[tokio::test]
async fn a_huge_query_is_an_invalid_argument_and_opens_no_circuit() {
    let lab = Lab::start().await;
    lab.route_pubmed();
    // One failed call would open the circuit: the huge query must not count as one.
    let (conn, _) = lab.connect(&[("PIPETTE_BREAKER_THRESHOLD", "1")]).await;

    let huge = "a".repeat(200_000);
    let bad = call(&conn, "pubmed_search", json!({ "query": huge })).await;
    assert_eq!(bad.is_error, Some(true));
    let error = bad.meta.as_ref().and_then(|m| m.get("pipette/error")).cloned().unwrap_or_default();
    assert_eq!((error["kind"].as_str(), error["param"].as_str()), (Some("invalid_argument"), Some("query")));
    assert_eq!(error["retryable"], false);
    let message = text(&bad);
    assert!(message.starts_with("invalid_argument error:") && message.contains("`query`"), "{message}");
    assert!(message.contains("10000") && message.len() < 500, "names the limit, not the value: {message}");
    // A huge value where the schema wants a number: the validator's message quotes only its start.
    let bad = call(&conn, "pubmed_search", json!({ "query": "braf", "max_results": huge })).await;
    let message = text(&bad);
    assert!(message.starts_with("invalid_argument error:") && message.contains("`max_results`"), "{message}");
    assert!(message.contains("200002 bytes in all") && message.len() < 1000, "{message}");
    assert!(lab.server.requests().is_empty(), "nothing reached the upstream");
    let circuits = call_ok(&conn, "circuit_status", json!({})).await;
    assert_eq!(circuits["circuits"][0]["state"], "closed", "{circuits}");

    let query = "APC p.E1317Q NOT retracted publication[pt]";
    let found = call_ok(&conn, "pubmed_search", json!({ "query": query, "max_results": 1 })).await;
    assert_eq!(found["total"], 40362);
    assert_eq!(found["term"], query);
    conn.cancel().await.unwrap();
}

#[tokio::test]
async fn two_processes_share_the_redis_cache_and_its_invalidation() {
    let redis = RedisServer::start();
    let lab = Lab::start().await;
    lab.route_pubmed();
    let namespace = format!("research-{}", std::process::id());
    let env = [("REDIS_URL", redis.url()), ("PIPETTE_CACHE_NAMESPACE", namespace.as_str())];
    let (a, _) = lab.connect(&env).await;
    let (b, _) = lab.connect(&env).await;

    let first = call_ok(&a, "pubmed_fetch", json!({ "pmids": [PMID] })).await;
    assert_eq!(first["articles"][0]["title"], PMID_TITLE);
    assert_eq!(lab.hits("/eutils/efetch.fcgi"), 1);
    let second = call_ok(&b, "pubmed_fetch", json!({ "pmids": [PMID] })).await;
    assert_eq!(second, first);
    assert_eq!(lab.hits("/eutils/efetch.fcgi"), 1, "the second process answered from Redis");
    let analytics = call_ok(&b, "cache_analytics", json!({})).await;
    assert_eq!(analytics["backend"], "redis");
    assert_eq!(scope(&analytics, "pubmed_fetch")["hits"], 1);
    assert_eq!(analytics["entries"], 2, "one tool result and one upstream answer in this namespace");

    // An invalidation in one process is seen by the other.
    assert_eq!(
        call_ok(&b, "invalidate_cache", json!({ "pattern": "*", "confirm": true })).await["removed"],
        2
    );
    let third = call_ok(&a, "pubmed_fetch", json!({ "pmids": [PMID] })).await;
    assert_eq!(third, first);
    assert_eq!(lab.hits("/eutils/efetch.fcgi"), 2, "the first process had to go upstream again");
    a.cancel().await.unwrap();
    b.cancel().await.unwrap();
}

fn nct_ids(list: &Value) -> Vec<&str> {
    list.as_array().unwrap().iter().map(|t| t["nct_id"].as_str().unwrap()).collect()
}

#[tokio::test]
async fn trials_tools_search_get_and_match() {
    let lab = Lab::start().await;
    lab.route_trials();
    let (conn, client) = lab.connect(&[]).await;

    // trials_search: the recorded melanoma page, its total and the token to continue.
    let args = json!({ "condition": "melanoma", "status": ["recruiting"], "max_results": 3 });
    let found = call_ok(&conn, "trials_search", args).await;
    assert_eq!(nct_ids(&found["trials"]), ["NCT06970236", "NCT04114136", "NCT04318717"]);
    assert_eq!(found["total_count"], 480);
    assert!(found["next_page_token"].as_str().is_some_and(|t| !t.is_empty()), "{found}");

    // trial_get: the recorded study, eligibility split into inclusion and exclusion.
    let trial = call_ok(&conn, "trial_get", json!({ "nct_id": MATCHED.to_lowercase() })).await;
    assert_eq!(trial["nct_id"], MATCHED);
    assert!(
        trial["brief_title"]
            .as_str()
            .unwrap()
            .starts_with("AI-guided Prognostication and Cranial Radiotherapy")
    );
    let inclusion = trial["eligibility"]["inclusion"].as_array().unwrap();
    assert!(inclusion.iter().any(|c| c.as_str().unwrap().contains("EGFR sensitive mutations: EGFR L858R")));
    let missing = call(&conn, "trial_get", json!({ "nct_id": "NCT00000000" })).await;
    assert!(text(&missing).starts_with("not_found error:") && text(&missing).contains("NCT00000000"));

    // trials_match: the study naming L858R for inclusion matches; the one naming it to exclude is apart.
    let args = json!({ "mutation": "EGFR p.Leu858Arg", "condition": NSCLC, "status": [] });
    let (r, steps) = call_with_progress(&conn, &client, "trials_match", args).await;
    assert_ne!(r.is_error, Some(true), "{}", text(&r));
    let matched = r.structured_content.clone().unwrap();
    assert_eq!(nct_ids(&matched["matches"]), [MATCHED]);
    assert_eq!(matched["matches"][0]["evidence"][0]["section"], "inclusion");
    assert_eq!(
        matched["matches"][0]["evidence"][0]["sentence"],
        "EGFR sensitive mutations: EGFR L858R, EGFR exon 19 deletion"
    );
    assert_eq!(nct_ids(&matched["excluded"]), [EXCLUDED]);
    assert_eq!(matched["excluded"][0]["evidence"][0]["section"], "exclusion");
    assert_eq!(
        matched["excluded"][0]["evidence"][0]["sentence"],
        "Patients with EGFR L858R mutation, EGFR 19DEL mutation or EGFR T790M positive"
    );
    assert_eq!(text(&r), matched["summary_markdown"], "the text is the markdown summary");
    assert!(text(&r).contains(MATCHED));
    let search = lab
        .server
        .requests()
        .into_iter()
        .find(|r| r.path == "/ctgov/studies" && r.param("query.cond").as_deref() == Some(NSCLC))
        .unwrap();
    assert!(search.param("query.term").unwrap().contains("AREA[EligibilityCriteria](\"L858R\")"));
    assert_eq!(search.param("filter.overallStatus"), None, "status [] asks for any status");
    let last = steps.last().expect("progress notifications");
    assert_eq!((last.progress, last.total), (2.0, Some(2.0)), "{steps:?}");

    // trials_match_batch: one result per mutation; a bad mutation is an entry's error, not the batch's.
    let args = json!({ "mutations": ["EGFR L858R", "L858R"], "condition": NSCLC, "status": [] });
    let (r, steps) = call_with_progress(&conn, &client, "trials_match_batch", args).await;
    assert_ne!(r.is_error, Some(true), "{}", text(&r));
    let batch = r.structured_content.clone().unwrap();
    assert_eq!((batch["succeeded"].as_u64(), batch["failed"].as_u64()), (Some(1), Some(1)));
    assert_eq!(nct_ids(&batch["results"][0]["result"]["matches"]), [MATCHED]);
    assert_eq!(nct_ids(&batch["results"][0]["result"]["excluded"]), [EXCLUDED]);
    assert_eq!(batch["results"][1]["mutation"], "L858R");
    assert_eq!(batch["results"][1]["error"]["kind"], "invalid_argument");
    assert!(text(&r).contains("### Errors") && text(&r).contains(MATCHED), "{}", text(&r));
    let last = steps.last().expect("progress notifications");
    assert_eq!((last.progress, last.total), (2.0, Some(2.0)), "{steps:?}");

    let bad = call(&conn, "trials_match", json!({ "mutation": "EGFR L858R", "max_candidates": 0 })).await;
    assert!(text(&bad).contains("`max_candidates`"), "{}", text(&bad));
    conn.cancel().await.unwrap();
}

/// What the live API answers once a search names `EligibilityCriteria` (and the site fields) in `fields`:
/// each recorded study whole, with five sites added (two in Boston, one in Burlington, MA).
fn route_whole_trials(lab: &Lab) {
    let studies: Vec<Value> = [EXCLUDED, MATCHED]
        .iter()
        .map(|id| ctgov::with_sites(ctgov::study(id), ctgov::boston_sites()))
        .collect();
    lab.server.route("GET", "/ctgov/studies", Reply::json(200, ctgov::search_page(&studies)));
    lab.server.route("GET", &format!("/ctgov/studies/{MATCHED}"), Reply::json(200, studies[1].clone()));
}

fn facilities(trial: &Value) -> Vec<&str> {
    trial["locations"].as_array().unwrap().iter().map(|l| l["facility"].as_str().unwrap()).collect()
}

#[tokio::test]
async fn trials_answer_where_briefly_in_one_request() {
    let lab = Lab::start().await;
    route_whole_trials(&lab);
    let (conn, _) = lab.connect(&[]).await;

    // A cold match: one request, the search, when its page carries the criteria.
    let r =
        call(&conn, "trials_match", json!({ "mutation": "EGFR L858R", "condition": NSCLC, "status": [] }))
            .await;
    assert_ne!(r.is_error, Some(true), "{}", text(&r));
    assert_eq!(lab.server.requests().len(), 1, "{:?}", lab.server.requests());
    let matched = r.structured_content.clone().unwrap();
    assert_eq!(nct_ids(&matched["matches"]), [MATCHED]);
    assert_eq!(nct_ids(&matched["excluded"]), [EXCLUDED]);
    let md = text(&r);
    assert!(md.contains("By phase: 1 trial has no phase. By status: 1 RECRUITING."), "{md}");
    assert!(md.contains(&format!("**{MATCHED}**")) && md.contains("(no phase · RECRUITING)"), "{md}");
    assert!(
        md.contains(&format!("**{EXCLUDED}**")) && md.contains("(PHASE3 · ACTIVE_NOT_RECRUITING)"),
        "{md}"
    );

    // With a place: each listed trial shows its sites there, in the text and the structured content.
    let args =
        json!({ "mutation": "EGFR L858R", "condition": NSCLC, "status": [], "location": "Boston, MA" });
    let near = call_ok(&conn, "trials_match", args).await;
    let search = lab.server.requests().into_iter().next_back().unwrap();
    assert_eq!(search.param("query.locn").as_deref(), Some("Boston, MA"));
    for m in near["matches"].as_array().unwrap().iter().chain(near["excluded"].as_array().unwrap()) {
        assert_eq!(facilities(m), ["Dana-Farber Cancer Institute", "Boston Medical Center"], "{m}");
        assert_eq!(m["locations_near"], "Boston, MA");
    }
    let md = near["summary_markdown"].as_str().unwrap();
    assert!(md.contains("   Near Boston, MA: Dana-Farber Cancer Institute, Boston, Massachusetts, United States · RECRUITING"), "{md}");
    assert!(!md.contains("Shanghai") && !md.contains("Sloan"), "{md}");
    // Around a point: distances in km, nearest first.
    let geo = json!({ "lat": 42.3601, "lon": -71.0589, "radius": 15, "unit": "mi" });
    let args = json!({ "mutation": "EGFR L858R", "condition": NSCLC, "status": [], "geo": geo });
    let r = call(&conn, "trials_match", args).await;
    let around = r.structured_content.clone().unwrap();
    let site = &around["matches"][0]["locations"];
    assert_eq!(
        (site[0]["facility"].as_str(), site[0]["distance_km"].as_f64()),
        (Some("Dana-Farber Cancer Institute"), Some(4.7))
    );
    assert_eq!(site.as_array().unwrap().len(), 2, "Lahey at 18 km is within 15 mi too: {site}");
    assert!(
        text(&r).contains(
            "Dana-Farber Cancer Institute, Boston, Massachusetts, United States · RECRUITING · 4.7 km"
        ),
        "{}",
        text(&r)
    );

    // trial_get near a place: only the sites there.
    let r = call(&conn, "trial_get", json!({ "nct_id": MATCHED, "location": "Boston" })).await;
    let trial = r.structured_content.clone().unwrap();
    assert_eq!(facilities(&trial), ["Dana-Farber Cancer Institute", "Boston Medical Center"]);
    let md = text(&r);
    assert!(md.contains("Sites near Boston (2 of 2 listed):") && !md.contains("Shanghai"), "{md}");
    assert!(md.contains("3 sites elsewhere not listed"), "{md}");

    // Concise (default) and detailed: both markdown with the id, status and phase; detailed has everything.
    let concise = text(&call(&conn, "trial_get", json!({ "nct_id": MATCHED })).await);
    let detailed =
        text(&call(&conn, "trial_get", json!({ "nct_id": MATCHED, "response_format": "detailed" })).await);
    for md in [&concise, &detailed] {
        assert!(md.starts_with(&format!("### {MATCHED}: AI-guided Prognostication")), "{md}");
        assert!(md.contains("RECRUITING · no phase · observational · 800 participants"), "{md}");
        assert!(md.contains("- EGFR sensitive mutations: EGFR L858R, EGFR exon 19 deletion"), "{md}");
    }
    assert!(
        concise.contains("Inclusion (5 of 10):") && !concise.contains("informed consent of the patient"),
        "{concise}"
    );
    assert!(
        concise
            .contains(&format!("Call trial_get with nct_id \"{MATCHED}\" and response_format \"detailed\".")),
        "{concise}"
    );
    assert!(
        detailed.contains("- informed consent of the patient.")
            && detailed.contains("Memorial Sloan Kettering"),
        "{detailed}"
    );
    assert!(detailed.len() > concise.len());

    // trials_search with a place, and the batch in detailed form.
    let found = call(&conn, "trials_search", json!({ "condition": NSCLC, "location": "Boston" })).await;
    assert!(
        text(&found).contains(&format!("**{MATCHED}**"))
            && text(&found).contains("   Near Boston: Dana-Farber"),
        "{}",
        text(&found)
    );
    let args = json!({ "mutations": ["EGFR L858R"], "condition": NSCLC, "status": [], "response_format": "detailed" });
    let batch = text(&call(&conn, "trials_match_batch", args).await);
    assert!(batch.contains("Query: `(AREA[EligibilityCriteria]") && batch.contains("score 1"), "{batch}");
    conn.cancel().await.unwrap();
}

#[tokio::test]
async fn warm_cache_runs_as_a_job_with_progress_and_later_matches_are_cached() {
    let lab = Lab::start().await;
    lab.route_trials();
    let (conn, _) = lab.connect(&[("PIPETTE_WARM_MUTATIONS", "EGFR L858R, KRAS G12C, BRAF V600E")]).await;

    // Every upstream answer takes 300 ms: a search then the studies cannot fit warm_cache's inline budget.
    lab.server.latency(std::time::Duration::from_millis(300));
    let ticket = call_ok(&conn, "warm_cache", json!({})).await;
    assert_eq!((ticket["status"].as_str(), ticket["tool"].as_str()), (Some("running"), Some("warm_cache")));
    let job = wait_job(&conn, ticket["job_id"].as_str().unwrap()).await;
    assert_eq!(job["status"], "completed", "{job}");
    assert_eq!((job["progress"]["current"].as_u64(), job["progress"]["total"].as_u64()), (Some(3), Some(3)));
    let warmed = &job["result"]["mutations"];
    let names: Vec<&str> =
        warmed.as_array().unwrap().iter().map(|m| m["mutation"].as_str().unwrap()).collect();
    assert_eq!(names, ["EGFR L858R", "KRAS G12C", "BRAF V600E"], "the configured list, in order");
    assert_eq!((warmed[0]["matches"].as_u64(), warmed[0]["excluded"].as_u64()), (Some(1), Some(1)));
    lab.server.latency(std::time::Duration::ZERO);

    // The same match later (default filters, as warming uses them) needs no upstream request.
    let before = lab.server.requests().len();
    let matched = call_ok(&conn, "trials_match", json!({ "mutation": "EGFR L858R" })).await;
    assert_eq!(nct_ids(&matched["matches"]), [MATCHED]);
    assert_eq!(lab.server.requests().len(), before, "answered from the warmed cache");
    let search = lab.server.requests().into_iter().find(|r| r.path == "/ctgov/studies").unwrap();
    assert_eq!(search.param("filter.overallStatus").as_deref(), Some("RECRUITING,NOT_YET_RECRUITING"));

    // An explicit list is used as given.
    let one = call_ok(&conn, "warm_cache", json!({ "mutations": ["ALK fusion"], "async_mode": true })).await;
    let job = wait_job(&conn, one["job_id"].as_str().unwrap()).await;
    assert_eq!(job["result"]["mutations"][0]["mutation"], "ALK fusion", "{job}");
    conn.cancel().await.unwrap();
}

#[tokio::test]
async fn research_results_are_indexed_on_request_and_searchable() {
    let lab = Lab::start().await;
    lab.route_pubmed();
    lab.route_trials();
    let (conn, _) = lab.connect(&[]).await;

    let fetched = call_ok(&conn, "pubmed_fetch", json!({ "pmids": [PMID], "index": "lit" })).await;
    assert_eq!(fetched["indexed"]["added"], 1, "{fetched}");
    let title = fetched["articles"][0]["title"].as_str().unwrap().to_owned();
    let hits = call_ok(&conn, "index_search", json!({ "id": "lit", "query": "melanoma" })).await;
    assert_eq!(hits["total_hits"], 1, "{hits}");
    assert_eq!(hits["hits"][0]["doc_id"], PMID);
    assert_eq!(hits["hits"][0]["document"]["title"], title.as_str());

    // The same call again, into a fresh index: indexed again (never skipped by the result cache).
    call_ok(&conn, "index_drop", json!({ "id": "lit", "confirm": true })).await;
    let again = call_ok(&conn, "pubmed_fetch", json!({ "pmids": [PMID], "index": "lit" })).await;
    assert_eq!(again["indexed"]["added"], 1, "{again}");
    let hits = call_ok(&conn, "index_search", json!({ "id": "lit", "query": "melanoma" })).await;
    assert_eq!(hits["total_hits"], 1, "{hits}");

    let args = json!({ "mutation": "EGFR L858R", "condition": NSCLC, "status": [], "index": "egfr-trials" });
    let matched = call_ok(&conn, "trials_match", args).await;
    assert_eq!(matched["indexed"]["added"], 1, "only the matches are indexed, not the excluded: {matched}");
    let hit = call_ok(&conn, "index_get", json!({ "id": "egfr-trials", "doc_id": MATCHED })).await;
    assert_eq!(hit["found"], true, "{hit}");
    let status = call_ok(&conn, "index_status", json!({ "id": "egfr-trials" })).await;
    assert_eq!(status["docs"], 1);

    let bad = call(&conn, "pubmed_fetch", json!({ "pmids": [PMID], "index": "../x" })).await;
    assert_eq!(bad.is_error, Some(true));
    assert!(text(&bad).contains("`index`") && text(&bad).contains("must not be a path"), "{}", text(&bad));
    conn.cancel().await.unwrap();
}

#[tokio::test]
async fn research_output_schemas_hold_for_the_recorded_results() {
    use crate::toolsets::check_output;
    let lab = Lab::start().await;
    lab.route_pubmed();
    lab.route_trials();
    lab.server.route(
        "GET",
        "/uniprot/uniprotkb/P15056.json",
        Reply::fixture("uniprot/get_P15056_BRAF_20260812.json"),
    );
    // The default toolset, as a research client sees it.
    let (conn, _) = lab.connect(&[("PIPETTE_TOOLSETS", "default")]).await;
    check_output(&conn, "pubmed_fetch", json!({ "pmids": [PMID] })).await;
    check_output(&conn, "pubmed_search", json!({ "query": "APC p.E1317Q", "max_results": 5 })).await;
    check_output(&conn, "trials_search", json!({ "condition": "melanoma", "max_results": 3 })).await;
    check_output(&conn, "trial_get", json!({ "nct_id": MATCHED })).await;
    let args = json!({ "mutation": "EGFR L858R", "condition": NSCLC, "status": [], "index": "kept" });
    check_output(&conn, "trials_match", args).await;
    check_output(&conn, "index_search", json!({ "id": "kept", "query": "*" })).await;
    check_output(&conn, "protein_get", json!({ "accession": "P15056" })).await;
    conn.cancel().await.unwrap();
}
