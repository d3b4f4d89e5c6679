//! The ClinicalTrials.gov parsers on every recorded answer (insta JSON snapshots), plus the facts that
//! matter checked by hand.

use core_scrapers::trials::{SearchPage, Trial, parse_search, parse_study};
use pipette_test_support::{fixture, fixtures_dir};

fn search(name: &str) -> SearchPage {
    match parse_search(&fixture(&format!("clinicaltrials/{name}"))) {
        Ok(page) => page,
        Err(err) => panic!("{name}: {err}"),
    }
}

fn study(name: &str) -> Trial {
    match parse_study(&fixture(&format!("clinicaltrials/{name}"))) {
        Ok(trial) => trial,
        Err(err) => panic!("{name}: {err}"),
    }
}

/// Every JSON answer in `clinicaltrials/` parses and matches its snapshot: `search_*` as a page,
/// `get_*` as a study. A new fixture gets a new snapshot.
#[test]
fn every_ctgov_fixture_parses_to_its_snapshot() {
    let dir = fixtures_dir().join("clinicaltrials");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap_or_else(|err| panic!("{}: {err}", dir.display()))
        .filter_map(|entry| entry.ok()?.file_name().into_string().ok())
        .filter(|name| name.ends_with(".json"))
        .collect();
    names.sort();
    assert!(names.len() >= 7, "expected the 7 recorded CT.gov answers, found {names:?}");
    for name in names {
        let stem = name.trim_end_matches(".json").to_owned();
        if name.starts_with("search_") {
            insta::assert_json_snapshot!(stem, search(&name));
        } else if name.starts_with("get_") {
            insta::assert_json_snapshot!(stem, study(&name));
        } else {
            panic!("unexpected CT.gov fixture {name}: teach this test what it answers");
        }
    }
}

#[test]
fn search_pages_carry_total_and_token_only_where_recorded() {
    let page1 = search("search_phelan_limit5_20260811.json");
    assert_eq!(page1.trials.len(), 5);
    assert_eq!(page1.total_count, Some(21));
    assert_eq!(page1.next_page_token.as_deref(), Some("ZVt07cGHkvI2wRk2CJf6_LLq14bEL8swd7KrgP4dnDeTsPkw"));
    let page2 = search("search_phelan_next_20260811.json");
    assert_eq!(page2.total_count, None, "later pages carry no totalCount");
    assert!(page2.next_page_token.is_some());

    let nsclc = search("search_nsclc_egfr_l858r_20260811.json");
    let ids: Vec<&str> = nsclc.trials.iter().map(|t| t.nct_id.as_str()).collect();
    assert_eq!(ids, ["NCT06382129", "NCT06604689"]);
    assert_eq!(nsclc.next_page_token, None);
    let first = &nsclc.trials[0];
    assert_eq!(first.phases, ["PHASE3"]);
    assert_eq!(first.overall_status.as_deref(), Some("ACTIVE_NOT_RECRUITING"));
    assert_eq!(first.enrollment, Some(698));
    assert_eq!(first.url, "https://clinicaltrials.gov/study/NCT06382129");
}

#[test]
fn studies_split_their_criteria() {
    let t = study("get_nct06604689_20260811.json");
    let e = t.eligibility.as_ref().unwrap_or_else(|| panic!("no eligibility"));
    assert_eq!(e.inclusion.len(), 10, "{:#?}", e.inclusion);
    assert_eq!(e.exclusion.len(), 4, "{:#?}", e.exclusion);
    assert!(e.unlabelled.is_empty());
    assert_eq!(e.inclusion[2], "EGFR sensitive mutations: EGFR L858R, EGFR exon 19 deletion");
    assert_eq!(e.sex.as_deref(), Some("ALL"));
    assert_eq!(t.study_type.as_deref(), Some("OBSERVATIONAL"));
    assert!(t.phases.is_empty(), "an observational study has no phase");

    let t = study("get_nct06382129_20260811.json");
    let e = t.eligibility.as_ref().unwrap_or_else(|| panic!("no eligibility"));
    assert_eq!(e.inclusion.len(), 12);
    assert_eq!(e.exclusion.len(), 26);
    assert_eq!(
        e.exclusion[1],
        "Patients with EGFR L858R mutation, EGFR 19DEL mutation or EGFR T790M positive"
    );
    assert_eq!(e.inclusion[10], "Urine protein ≤2+ or < 1000mg/24h", "markdown escapes are removed");
    assert_eq!(t.interventions[0].other_names, ["iza-bren", "izalontamab brengitecan", "BMS-986507"]);
}
