//! `trials_match` and `trials_match_batch` end to end, over real sockets, against the local upstream
//! serving the recorded EGFR L858R search and the two recorded studies.

use std::sync::Mutex;
use std::time::Duration;

use core_cache::Cache;
use core_scrapers::ResponseFormat;
use core_scrapers::ScrapersConfig;
use core_scrapers::http::Upstreams;
use core_scrapers::mutation::{
    EvidenceSection, MatchFilters, MatchLimits, match_query, parse_mutation, trials_match, trials_match_batch,
};
use core_scrapers::trials::{DistanceUnit, GeoFilter};
use pipette_test_support::{Reply, UpstreamServer, ctgov};

const NSCLC: &str = "non-small cell lung cancer";

fn upstream_of(server: &UpstreamServer, cache_ttl: Duration) -> Upstreams {
    let url = server.url();
    let mut config = ScrapersConfig::default().with_base_urls(&url, &url, &url, &url);
    config.ctgov.rate_per_second = 0.0;
    config.ctgov.cache_ttl = cache_ttl;
    config.retry.attempts = 1;
    match Upstreams::new(&config, Cache::in_process(16 << 20)) {
        Ok(upstreams) => upstreams,
        Err(err) => panic!("upstreams: {err}"),
    }
}

/// The recorded search answers any NSCLC search (or only the one with `term`), the two studies by id.
async fn server(term: Option<&str>, study_delay: Duration) -> UpstreamServer {
    let server = UpstreamServer::start().await;
    let mut query = vec![("query.cond", NSCLC)];
    if let Some(term) = term {
        query.push(("query.term", term));
    }
    server.route_query(
        "GET",
        "/studies",
        &query,
        Reply::fixture("clinicaltrials/search_nsclc_egfr_l858r_20260811.json"),
    );
    for id in ["NCT06604689", "NCT06382129"] {
        server.route(
            "GET",
            &format!("/studies/{id}"),
            Reply::fixture(&format!("clinicaltrials/get_{}_20260811.json", id.to_ascii_lowercase()))
                .delay(study_delay),
        );
    }
    server
}

fn nsclc(status: Option<Vec<String>>) -> MatchFilters {
    MatchFilters { condition: Some(NSCLC.into()), status, ..MatchFilters::default() }
}

type Calls = Mutex<Vec<(u64, Option<u64>, String)>>;

fn recorder(calls: &Calls) -> impl Fn(u64, Option<u64>, &str) + Send + Sync + '_ {
    move |current, total, message| {
        calls.lock().unwrap_or_else(std::sync::PoisonError::into_inner).push((
            current,
            total,
            message.to_owned(),
        ))
    }
}

#[tokio::test]
async fn egfr_l858r_matches_one_study_and_reports_the_one_that_excludes_it() {
    let mutation = parse_mutation("EGFR L858R").unwrap_or_else(|err| panic!("{err}"));
    let term = match_query(&mutation);
    // The studies answer after 400 ms: fetched one after the other, the second would arrive 400 ms later.
    let server = server(Some(&term), Duration::from_millis(400)).await;
    let upstream = upstream_of(&server, Duration::from_secs(60));
    let calls = Calls::default();
    let result = trials_match(
        &upstream,
        "EGFR L858R",
        &nsclc(Some(Vec::new())),
        &MatchLimits::default(),
        &recorder(&calls),
    )
    .await
    .unwrap_or_else(|err| panic!("{err}"));

    assert_eq!(result.total_candidates, 2);
    let matched: Vec<&str> = result.matches.iter().map(|m| m.trial.nct_id.as_str()).collect();
    assert_eq!(matched, ["NCT06604689"]);
    let best = &result.matches[0].evidence[0];
    assert_eq!(best.section, EvidenceSection::Inclusion);
    assert_eq!(best.sentence, "EGFR sensitive mutations: EGFR L858R, EGFR exon 19 deletion");
    assert!(!best.excludes);
    assert_eq!(result.matches[0].score, 1.0);

    let excluded: Vec<&str> = result.excluded.iter().map(|m| m.trial.nct_id.as_str()).collect();
    assert_eq!(excluded, ["NCT06382129"]);
    let why = &result.excluded[0].evidence[0];
    assert_eq!(why.section, EvidenceSection::Exclusion);
    assert_eq!(why.sentence, "Patients with EGFR L858R mutation, EGFR 19DEL mutation or EGFR T790M positive");
    assert!(why.excludes);
    assert_eq!(result.excluded[0].score, 0.0);

    // One search with the variants' query and no status filter (status: []), then both studies, fetched
    // concurrently (the second asked for before the first could have answered).
    let requests = server.requests();
    assert_eq!(requests.len(), 3);
    assert_eq!(requests[0].path, "/studies");
    assert_eq!(requests[0].param("query.term").as_deref(), Some(term.as_str()));
    assert_eq!(requests[0].param("filter.overallStatus"), None);
    let mut studies: Vec<&str> = requests[1..].iter().map(|r| r.path.as_str()).collect();
    studies.sort();
    assert_eq!(studies, ["/studies/NCT06382129", "/studies/NCT06604689"]);
    assert!(
        requests[2].at.duration_since(requests[1].at) < Duration::from_millis(400),
        "the eligibility fetches did not overlap"
    );
    for r in &requests[1..] {
        assert!(r.param("fields").unwrap_or_default().contains("EligibilityModule"));
    }

    let calls = calls.into_inner().unwrap_or_default();
    assert_eq!(calls.first().map(|c| (c.0, c.1)), Some((0, None)));
    assert_eq!(calls.last().map(|c| (c.0, c.1)), Some((2, Some(2))));

    insta::assert_json_snapshot!("egfr_l858r_nsclc", result);
    assert!(result.summary_markdown.contains("**NCT06604689**"), "{}", result.summary_markdown);

    // Warm: the same call is answered from the cache, without any request.
    let again = trials_match(
        &upstream,
        "egfr p.Leu858Arg",
        &nsclc(Some(Vec::new())),
        &MatchLimits::default(),
        &|_, _, _| {},
    )
    .await
    .unwrap_or_else(|err| panic!("{err}"));
    assert_eq!(server.requests().len(), 3);
    assert_eq!((again.matches.len(), again.excluded.len()), (1, 1));
}

#[tokio::test]
async fn the_default_status_filter_is_recruiting_and_not_yet_recruiting() {
    let server = server(None, Duration::ZERO).await;
    let upstream = upstream_of(&server, Duration::ZERO);
    let limits = MatchLimits { max_candidates: 10, max_results: 1, ..MatchLimits::default() };
    let result = trials_match(&upstream, "EGFR exon 19 deletion", &nsclc(None), &limits, &|_, _, _| {})
        .await
        .unwrap_or_else(|err| panic!("{err}"));
    let search = &server.requests()[0];
    assert_eq!(search.param("filter.overallStatus").as_deref(), Some("RECRUITING,NOT_YET_RECRUITING"));
    assert_eq!(search.param("pageSize").as_deref(), Some("10"));
    let term = search.param("query.term").unwrap_or_default();
    assert!(term.contains("AREA[EligibilityCriteria](\"del19\")"), "{term}");
    assert_eq!(result.matches[0].trial.nct_id, "NCT06604689");
    assert_eq!(
        result.excluded[0].evidence[0].sentence,
        "Patients with EGFR L858R mutation, EGFR 19DEL mutation or EGFR T790M positive"
    );

    let err = trials_match(&upstream, "V600E", &nsclc(None), &limits, &|_, _, _| {}).await.err();
    let text = err.as_ref().map(|e| e.to_string()).unwrap_or_default();
    assert!(text.contains("a gene is needed"), "{text}");
    let err =
        trials_match(&upstream, "EGFR L858R", &nsclc(Some(vec!["open".into()])), &limits, &|_, _, _| {})
            .await
            .err();
    assert!(err.map(|e| e.to_string()).unwrap_or_default().contains("accepted: RECRUITING"));
    assert_eq!(server.requests().len(), 3, "invalid arguments send nothing");
}

#[tokio::test]
async fn a_study_that_cannot_be_fetched_is_judged_on_its_summary_with_a_warning() {
    let server = UpstreamServer::start().await;
    server.route("GET", "/studies", Reply::fixture("clinicaltrials/search_nsclc_egfr_l858r_20260811.json"));
    server.route(
        "GET",
        "/studies/NCT06604689",
        Reply::fixture("clinicaltrials/get_nct06604689_20260811.json"),
    );
    server.route("GET", "/studies/NCT06382129", Reply::text(500, "text/plain", "boom"));
    let upstream = upstream_of(&server, Duration::ZERO);
    let result = trials_match(&upstream, "EGFR L858R", &nsclc(None), &MatchLimits::default(), &|_, _, _| {})
        .await
        .unwrap_or_else(|err| panic!("{err}"));
    assert_eq!(result.matches.len(), 1);
    assert_eq!(result.warnings.len(), 1, "{:?}", result.warnings);
    assert!(result.warnings[0].starts_with("NCT06382129: eligibility not fetched"), "{}", result.warnings[0]);
    // Its search summary still says "EGFR wild-type": excluded, on summary and title evidence.
    assert_eq!(result.excluded.len(), 1);
    assert!(result.excluded[0].evidence.iter().all(|e| e.excludes));
}

#[tokio::test]
async fn a_batch_shares_requests_and_isolates_a_bad_mutation() {
    let server = server(None, Duration::ZERO).await;
    // Cache off: sharing comes from the batch itself.
    let upstream = upstream_of(&server, Duration::ZERO);
    let mutations: Vec<String> =
        ["EGFR L858R", "V600E", "EGFR exon 19 deletion", "KRAS G12C", "egfr p.L858R"]
            .map(String::from)
            .to_vec();
    let calls = Calls::default();
    let batch = trials_match_batch(
        &upstream,
        &mutations,
        &nsclc(Some(Vec::new())),
        &MatchLimits::default(),
        &recorder(&calls),
    )
    .await
    .unwrap_or_else(|err| panic!("{err}"));

    assert_eq!((batch.succeeded, batch.failed), (4, 1));
    let order: Vec<&str> = batch.results.iter().map(|e| e.mutation.as_str()).collect();
    assert_eq!(order, mutations.iter().map(String::as_str).collect::<Vec<_>>());
    let bad = &batch.results[1];
    assert!(bad.result.is_none());
    let error = bad.error.as_ref().unwrap_or_else(|| panic!("V600E must fail"));
    assert_eq!(error.kind, "invalid_argument");
    assert!(error.message.contains("a gene is needed") && !error.retryable, "{}", error.message);

    let summary = |i: usize| {
        let r = batch.results[i].result.as_ref().unwrap_or_else(|| panic!("{} failed", mutations[i]));
        (
            r.matches.iter().map(|m| m.trial.nct_id.clone()).collect::<Vec<_>>(),
            r.excluded.iter().map(|m| m.trial.nct_id.clone()).collect::<Vec<_>>(),
        )
    };
    let l858r = (vec!["NCT06604689".to_owned()], vec!["NCT06382129".to_owned()]);
    assert_eq!(summary(0), l858r);
    assert_eq!(summary(2), l858r, "exon 19 deletion: in one's inclusion, the other's exclusion (19DEL)");
    assert_eq!(summary(3), (Vec::new(), Vec::new()), "KRAS G12C is named by neither");
    assert_eq!(summary(4), l858r);

    // 3 distinct searches (the two L858R spellings are one query) and 2 studies, each asked for once.
    assert_eq!(batch.distinct_requests, 5);
    let requests = server.requests();
    let searches = requests.iter().filter(|r| r.path == "/studies").count();
    let studies = requests.iter().filter(|r| r.path.starts_with("/studies/")).count();
    assert_eq!((searches, studies), (3, 2));

    let calls = calls.into_inner().unwrap_or_default();
    assert_eq!(calls.len(), 6, "{calls:?}");
    assert_eq!(calls.last().map(|c| (c.0, c.1)), Some((5, Some(5))));
    assert!(batch.summary_markdown.contains("### Errors") && batch.summary_markdown.contains("`V600E`"));
}

#[tokio::test]
async fn batch_arguments_shared_by_all_fail_the_batch() {
    let server = server(None, Duration::ZERO).await;
    let upstream = upstream_of(&server, Duration::ZERO);
    let quiet = |_: u64, _: Option<u64>, _: &str| {};
    let many: Vec<String> = (0..51).map(|i| format!("EGFR L{i}R")).collect();
    for (mutations, filters, name) in [
        (many, nsclc(None), "`mutations`"),
        (Vec::new(), nsclc(None), "`mutations`"),
        (vec!["EGFR L858R".to_owned()], MatchFilters { phase: vec!["9".into()], ..nsclc(None) }, "`phase`"),
    ] {
        let err =
            trials_match_batch(&upstream, &mutations, &filters, &MatchLimits::default(), &quiet).await.err();
        let text = err.map(|e| e.to_string()).unwrap_or_default();
        assert!(text.contains(name), "{text}");
    }
    assert!(server.requests().is_empty());
}

/// The search page as the live API answers `trials_match`'s request: each study with its eligibility text
/// (and, here, its sites), so that no study is fetched alone.
fn whole_page() -> serde_json::Value {
    let studies: Vec<serde_json::Value> = ["NCT06382129", "NCT06604689"]
        .iter()
        .map(|id| ctgov::with_sites(ctgov::study(id), ctgov::boston_sites()))
        .collect();
    ctgov::search_page(&studies)
}

#[tokio::test]
async fn a_page_carrying_the_criteria_makes_a_cold_match_one_request() {
    let server = UpstreamServer::start().await;
    server.route("GET", "/studies", Reply::json(200, whole_page()));
    let upstream = upstream_of(&server, Duration::from_secs(60));
    let result = trials_match(
        &upstream,
        "EGFR L858R",
        &nsclc(Some(Vec::new())),
        &MatchLimits::default(),
        &|_, _, _| {},
    )
    .await
    .unwrap_or_else(|err| panic!("{err}"));
    assert_eq!(server.requests().len(), 1, "the search only");
    let fields = server.requests()[0].param("fields").unwrap_or_default();
    assert!(fields.contains("EligibilityCriteria") && fields.contains("OfficialTitle"), "{fields}");
    assert!(!fields.contains("Location"), "no place, no sites asked: {fields}");
    // The same verdicts as with one fetch per study.
    let matched: Vec<&str> = result.matches.iter().map(|m| m.trial.nct_id.as_str()).collect();
    assert_eq!(matched, ["NCT06604689"]);
    assert_eq!(
        result.matches[0].evidence[0].sentence,
        "EGFR sensitive mutations: EGFR L858R, EGFR exon 19 deletion"
    );
    let excluded: Vec<&str> = result.excluded.iter().map(|m| m.trial.nct_id.as_str()).collect();
    assert_eq!(excluded, ["NCT06382129"]);
    assert_eq!(
        result.excluded[0].evidence[0].sentence,
        "Patients with EGFR L858R mutation, EGFR 19DEL mutation or EGFR T790M positive"
    );
    assert!(result.matches[0].trial.locations_near.is_none());
}

#[tokio::test]
async fn with_a_place_each_trial_lists_its_sites_near_it() {
    let server = UpstreamServer::start().await;
    server.route("GET", "/studies", Reply::json(200, whole_page()));
    let upstream = upstream_of(&server, Duration::ZERO);
    let geo = GeoFilter { lat: 42.3601, lon: -71.0589, radius: 50.0, unit: DistanceUnit::Km };
    let filters = MatchFilters { geo: Some(geo), ..nsclc(Some(Vec::new())) };
    let limits = MatchLimits { response_format: ResponseFormat::Concise, ..MatchLimits::default() };
    let result = trials_match(&upstream, "EGFR L858R", &filters, &limits, &|_, _, _| {})
        .await
        .unwrap_or_else(|err| panic!("{err}"));
    assert_eq!(server.requests().len(), 1);
    let fields = server.requests()[0].param("fields").unwrap_or_default();
    assert!(fields.contains("LocationGeoPoint"), "{fields}");
    assert_eq!(server.requests()[0].param("filter.geo").as_deref(), Some("distance(42.3601,-71.0589,50km)"));
    for m in result.matches.iter().chain(&result.excluded) {
        let sites: Vec<(&str, Option<f64>)> = m
            .trial
            .locations
            .iter()
            .map(|l| (l.facility.as_deref().unwrap_or_default(), l.distance_km))
            .collect();
        assert_eq!(
            sites,
            [("Dana-Farber Cancer Institute", Some(4.7)), ("Lahey Hospital", Some(18.1))],
            "{}",
            m.trial.nct_id
        );
    }
    let md = &result.summary_markdown;
    assert!(
        md.contains("   Near within 50 km of 42.3601,-71.0589: Dana-Farber Cancer Institute, Boston, Massachusetts, United States · RECRUITING · 4.7 km; Lahey Hospital"),
        "{md}"
    );
    assert!(!md.contains("Shanghai"), "{md}");

    // Without coordinates, a place name: the Boston sites, in the structured result and in the text.
    let filters = MatchFilters { location: Some("Boston".into()), ..nsclc(Some(Vec::new())) };
    let result = trials_match(&upstream, "EGFR L858R", &filters, &MatchLimits::default(), &|_, _, _| {})
        .await
        .unwrap_or_else(|err| panic!("{err}"));
    let cities: Vec<&str> =
        result.matches[0].trial.locations.iter().filter_map(|l| l.city.as_deref()).collect();
    assert_eq!(cities, ["Boston", "Boston"]);
    assert!(
        result.summary_markdown.contains("   Near Boston: Dana-Farber Cancer Institute"),
        "{}",
        result.summary_markdown
    );
}

#[tokio::test]
async fn the_text_says_how_many_trials_have_no_phase() {
    let server = UpstreamServer::start().await;
    server.route("GET", "/studies", Reply::json(200, whole_page()));
    let upstream = upstream_of(&server, Duration::ZERO);
    let mut all = nsclc(Some(Vec::new()));
    all.condition = None;
    // "EGFR mutation" matches both: the observational one (no phase) and the phase 3 one.
    let result = trials_match(&upstream, "EGFR L858R", &all, &MatchLimits::default(), &|_, _, _| {})
        .await
        .unwrap_or_else(|err| panic!("{err}"));
    let md = &result.summary_markdown;
    assert!(md.contains("By phase: 1 trial has no phase. By status: 1 RECRUITING."), "{md}");
    assert!(!md.contains("no phase 1"), "{md}");
}
