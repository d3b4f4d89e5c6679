//! `trials_search` and `trial_get` over real sockets against the local upstream serving recorded answers:
//! the requests sent, paging (total on page 1 only, stop on a repeated token or an empty page), caps.

use core_cache::Cache;
use core_scrapers::ResponseFormat;
use core_scrapers::ScrapersConfig;
use core_scrapers::http::Upstreams;
use core_scrapers::trials::{
    DistanceUnit, GeoFilter, TrialCaps, TrialGetParams, TrialSearchParams, TrialSection, trial_get,
    trials_search,
};
use pipette_test_support::{Reply, UpstreamServer, ctgov};

const PAGE2: &str = "ZVt07cGHkvI2wRk2CJf6_LLq14bEL8swd7KrgP4dnDeTsPkw";
const PAGE3: &str = "ZVt07cGHkvI2wRk2CJf6_LLq14bEL8swd7KrgP4bmjeauvk_IQ";

fn ctgov(server: &UpstreamServer) -> Upstreams {
    let url = server.url();
    let mut config = ScrapersConfig::default().with_base_urls(&url, &url, &url, &url);
    config.ctgov.rate_per_second = 0.0;
    config.retry.attempts = 1;
    match Upstreams::new(&config, Cache::in_process(16 << 20)) {
        Ok(upstreams) => upstreams,
        Err(err) => panic!("upstreams: {err}"),
    }
}

fn phelan(page_size: u32, max_results: u32) -> TrialSearchParams {
    TrialSearchParams {
        condition: Some("Phelan-McDermid Syndrome".into()),
        page_size: Some(page_size),
        max_results: Some(max_results),
        ..TrialSearchParams::default()
    }
}

/// Page 1 → token 2 → page 2 → token 3; `page3` answers the request carrying token 3.
async fn phelan_server(page3: Reply) -> UpstreamServer {
    let server = UpstreamServer::start().await;
    server.route_query(
        "GET",
        "/studies",
        &[("query.cond", "Phelan-McDermid Syndrome"), ("countTotal", "true")],
        Reply::fixture("clinicaltrials/search_phelan_limit5_20260811.json"),
    );
    server.route_query(
        "GET",
        "/studies",
        &[("pageToken", PAGE2)],
        Reply::fixture("clinicaltrials/search_phelan_next_20260811.json"),
    );
    server.route_query("GET", "/studies", &[("pageToken", PAGE3)], page3);
    server
}

#[tokio::test]
async fn paging_keeps_the_first_total_and_stops_on_a_repeated_token() {
    // The third page answers with page 2 again, whose token was already seen: paging stops there.
    let server = phelan_server(Reply::fixture("clinicaltrials/search_phelan_next_20260811.json")).await;
    let result = trials_search(&ctgov(&server), &phelan(5, 20)).await.unwrap_or_else(|err| panic!("{err}"));
    assert_eq!(result.total_count, Some(21), "the total of page 1");
    assert_eq!(result.trials.len(), 10, "the repeated page adds no study twice");
    assert_eq!(result.next_page_token, None);
    assert_eq!(result.pages, 3);
    let requests = server.requests();
    assert_eq!(requests.len(), 3);
    assert_eq!(requests[0].param("pageToken"), None);
    assert_eq!(requests[1].param("pageToken").as_deref(), Some(PAGE2));
    assert_eq!(requests[2].param("pageToken").as_deref(), Some(PAGE3));
    for r in &requests {
        assert_eq!(r.param("pageSize").as_deref(), Some("5"));
        assert_eq!(r.param("query.cond").as_deref(), Some("Phelan-McDermid Syndrome"));
    }
}

#[tokio::test]
async fn paging_stops_on_an_empty_page_even_with_a_token() {
    let empty = Reply::json(200, serde_json::json!({"studies": [], "nextPageToken": "ZZZ"}));
    let server = phelan_server(empty).await;
    let result = trials_search(&ctgov(&server), &phelan(5, 100)).await.unwrap_or_else(|err| panic!("{err}"));
    assert_eq!((result.trials.len(), result.pages, result.next_page_token), (10, 3, None));
}

#[tokio::test]
async fn paging_stops_at_max_results_and_hands_back_the_token() {
    let server = phelan_server(Reply::json(500, serde_json::json!({"never": "asked"}))).await;
    let upstream = ctgov(&server);
    let result = trials_search(&upstream, &phelan(5, 7)).await.unwrap_or_else(|err| panic!("{err}"));
    assert_eq!(result.trials.len(), 7);
    assert_eq!(result.total_count, Some(21));
    assert_eq!(result.next_page_token.as_deref(), Some(PAGE3), "the token to continue from");
    let sizes: Vec<Option<String>> = server.requests().iter().map(|r| r.param("pageSize")).collect();
    assert_eq!(
        sizes,
        [Some("5".to_owned()), Some("2".to_owned())],
        "the last page asks only for what is missing"
    );

    // Continuing from the token: page 3 is asked for, with no total expected.
    let next = TrialSearchParams { page_token: result.next_page_token, ..phelan(5, 5) };
    let err = trials_search(&upstream, &next).await.err().map(|e| e.kind());
    assert_eq!(err, Some("upstream"), "the continuation reached page 3 (a 500 here)");
}

#[tokio::test]
async fn searches_send_the_recorded_requests() {
    let server = UpstreamServer::start().await;
    server.route_query(
        "GET",
        "/studies",
        &[
            ("query.cond", "melanoma"),
            ("filter.overallStatus", "RECRUITING"),
            ("countTotal", "true"),
            ("pageSize", "3"),
        ],
        Reply::fixture("clinicaltrials/search_melanoma_recruiting_limit3_20260811.json"),
    );
    server.route_query(
        "GET",
        "/studies",
        &[("query.intr", "\"Keytruda\""), ("countTotal", "true"), ("pageSize", "3")],
        Reply::fixture("clinicaltrials/search_keytruda_limit3_20260811.json"),
    );
    let upstream = ctgov(&server);
    let melanoma = TrialSearchParams {
        condition: Some("melanoma".into()),
        status: vec!["recruiting".into()],
        max_results: Some(3),
        ..TrialSearchParams::default()
    };
    let result = trials_search(&upstream, &melanoma).await.unwrap_or_else(|err| panic!("{err}"));
    assert_eq!((result.trials.len(), result.total_count), (3, Some(480)));
    assert!(result.next_page_token.is_some(), "480 found, 3 returned: more follow");

    let keytruda = TrialSearchParams {
        intervention: Some("\"Keytruda\"".into()),
        max_results: Some(3),
        ..TrialSearchParams::default()
    };
    let result = trials_search(&upstream, &keytruda).await.unwrap_or_else(|err| panic!("{err}"));
    assert_eq!((result.trials.len(), result.total_count), (3, Some(2924)));
    let fields = server.requests()[0].param("fields").unwrap_or_default();
    assert!(fields.starts_with("NCTId,BriefTitle,OverallStatus,Phase"), "{fields}");
}

#[tokio::test]
async fn phases_go_through_filter_advanced_and_bad_arguments_send_nothing() {
    let server = UpstreamServer::start().await;
    server.route("GET", "/studies", Reply::json(200, serde_json::json!({"studies": []})));
    let upstream = ctgov(&server);
    let params = TrialSearchParams {
        condition: Some("melanoma".into()),
        phase: vec!["2".into(), "PHASE3".into()],
        ..TrialSearchParams::default()
    };
    let result = trials_search(&upstream, &params).await.unwrap_or_else(|err| panic!("{err}"));
    assert!(result.trials.is_empty());
    let sent = &server.requests()[0];
    assert_eq!(sent.param("filter.advanced").as_deref(), Some("AREA[Phase](PHASE2 OR PHASE3)"));
    assert_eq!(sent.param("filter.phase"), None);

    let bad = TrialSearchParams { phase: vec!["phase 9".into()], ..params };
    let err = trials_search(&upstream, &bad).await.err().map(|e| e.to_string()).unwrap_or_default();
    assert!(err.contains("`phase`") && err.contains("PHASE2"), "{err}");
    assert_eq!(server.requests().len(), 1, "an invalid argument sends nothing");
}

#[tokio::test]
async fn trial_get_returns_sections_with_capped_lists() {
    let server = UpstreamServer::start().await;
    server.route(
        "GET",
        "/studies/NCT06382129",
        Reply::fixture("clinicaltrials/get_nct06382129_20260811.json"),
    );
    let upstream = ctgov(&server);
    let params = TrialGetParams {
        nct_id: " nct06382129".into(),
        sections: vec![TrialSection::Eligibility],
        caps: TrialCaps { max_criteria: 5, max_criteria_chars: 0, ..TrialCaps::default() },
        ..TrialGetParams::new("")
    };
    let trial = trial_get(&upstream, &params).await.unwrap_or_else(|err| panic!("{err}"));
    assert_eq!(trial.nct_id, "NCT06382129");
    let e = trial.eligibility.as_ref().unwrap_or_else(|| panic!("eligibility"));
    assert_eq!((e.inclusion.len(), e.exclusion.len(), e.criteria.is_none()), (5, 5, true));
    let notes: Vec<(&str, u64)> = trial.truncated.iter().map(|t| (t.field.as_str(), t.omitted)).collect();
    assert_eq!(notes[..2], [("eligibility.inclusion", 7), ("eligibility.exclusion", 21)]);
    assert_eq!(notes[2].0, "eligibility.criteria", "the raw text left out (max_criteria_chars=0)");
    assert_eq!(notes[2].1, 4066, "every character of the criteria text");
    assert!(trial.truncated[1].hint.contains("max_criteria=26"), "{}", trial.truncated[1].hint);
    let fields = server.requests()[0].param("fields").unwrap_or_default();
    assert!(fields.ends_with(",EligibilityModule"), "{fields}");
    assert!(!fields.contains("ContactsLocationsModule"), "{fields}");

    let missing = trial_get(&upstream, &TrialGetParams::new("NCT00000000")).await.err();
    let text = missing.as_ref().map(|e| e.to_string()).unwrap_or_default();
    assert_eq!(missing.map(|e| e.kind()), Some("not_found"));
    assert!(text.contains("study NCT00000000"), "{text}");

    let bad = trial_get(&upstream, &TrialGetParams::new("NCT123")).await.err().map(|e| e.to_string());
    assert!(bad.unwrap_or_default().contains("`nct_id`"));
    assert_eq!(server.requests().len(), 2, "an invalid NCT id sends nothing");
}

#[tokio::test]
async fn a_place_keeps_the_sites_near_it_nearest_first() {
    let server = UpstreamServer::start().await;
    let study = ctgov::with_sites(ctgov::study("NCT06604689"), ctgov::boston_sites());
    server.route("GET", "/studies/NCT06604689", Reply::json(200, study.clone()));
    server.route("GET", "/studies", Reply::json(200, ctgov::search_page(&[study])));
    let upstream = ctgov(&server);

    // By name: the two Boston sites, the one with coordinates first; the rest counted with the call.
    let by_name =
        TrialGetParams { location: Some("Boston, MA".into()), ..TrialGetParams::new("NCT06604689") };
    let trial = trial_get(&upstream, &by_name).await.unwrap_or_else(|err| panic!("{err}"));
    let names: Vec<&str> = trial.locations.iter().filter_map(|l| l.facility.as_deref()).collect();
    assert_eq!(names, ["Dana-Farber Cancer Institute", "Boston Medical Center"]);
    assert_eq!(trial.locations_near.as_deref(), Some("Boston, MA"));
    assert_eq!(trial.locations[0].distance_km, None, "no point asked, no distance");
    let note = trial.truncated.iter().find(|t| t.field == "locations").unwrap_or_else(|| panic!("a note"));
    assert_eq!(note.omitted, 3);
    assert!(
        note.hint.contains("3 sites elsewhere") && note.hint.contains("without location and geo"),
        "{}",
        note.hint
    );
    let md = trial.markdown(ResponseFormat::Concise);
    assert!(
        md.contains("Sites near Boston, MA (2 of 2 listed):\n- Dana-Farber Cancer Institute, Boston"),
        "{md}"
    );
    assert!(!md.contains("Shanghai"), "{md}");

    // By radius: distances, nearest first; the site without coordinates is not within a radius.
    let geo = GeoFilter { lat: 42.3601, lon: -71.0589, radius: 25.0, unit: DistanceUnit::Mi };
    let around = TrialGetParams {
        geo: Some(geo),
        sections: vec![TrialSection::Eligibility],
        ..TrialGetParams::new("NCT06604689")
    };
    let trial = trial_get(&upstream, &around).await.unwrap_or_else(|err| panic!("{err}"));
    let got: Vec<(&str, Option<f64>)> =
        trial.locations.iter().map(|l| (l.facility.as_deref().unwrap_or_default(), l.distance_km)).collect();
    assert_eq!(got, [("Dana-Farber Cancer Institute", Some(4.7)), ("Lahey Hospital", Some(18.1))]);
    let fields = server.requests().last().and_then(|r| r.param("fields")).unwrap_or_default();
    assert!(fields.contains("ContactsLocationsModule"), "a place implies the sites: {fields}");

    // A search with a place asks for the sites and lists, per study, those near it.
    let search = TrialSearchParams {
        condition: Some("lung cancer".into()),
        location: Some("Boston".into()),
        ..TrialSearchParams::default()
    };
    let found = trials_search(&upstream, &search).await.unwrap_or_else(|err| panic!("{err}"));
    let sites: Vec<&str> = found.trials[0].locations.iter().filter_map(|l| l.city.as_deref()).collect();
    assert_eq!(sites, ["Boston", "Boston"]);
    let fields = server.requests().last().and_then(|r| r.param("fields")).unwrap_or_default();
    assert!(fields.contains("LocationGeoPoint") && fields.contains("LocationFacility"), "{fields}");
    let md = found.markdown(ResponseFormat::Concise);
    assert!(md.contains("   Near Boston: Dana-Farber Cancer Institute, Boston, Massachusetts, United States · RECRUITING; Boston Medical Center"), "{md}");

    let bad = TrialGetParams { location: Some("\"Boston".into()), ..TrialGetParams::new("NCT06604689") };
    let err = trial_get(&upstream, &bad).await.err().map(|e| e.to_string()).unwrap_or_default();
    assert!(err.contains("`location`"), "{err}");
}
