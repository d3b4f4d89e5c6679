//! Parse throughput (MB/s) of efetch XML and ClinicalTrials.gov JSON, built from the recorded fixtures.
//!
//! Run: `cargo run --release -p core-scrapers --example bench_parse [-- <target MiB> [xml]]` (`xml`: XML only).
//! The efetch set is every recorded `<PubmedArticle>` repeated until the target size (default 64 MiB);
//! the CT.gov set is every recorded study repeated into one `{"studies": [...]}` page of the same size.
#![allow(clippy::print_stdout, reason = "a benchmark reports on stdout")]

use std::time::{Duration, Instant};

use core_scrapers::pubmed::parse_efetch;
use pipette_test_support::fixture;

const EFETCH: [&str; 2] =
    ["pubmed/efetch_pubmed_22663011.xml", "pubmed/efetch_pubmed_12091962_9997_abstract.xml"];
const CTGOV: [&str; 7] = [
    "clinicaltrials/search_nsclc_egfr_l858r_20260811.json",
    "clinicaltrials/get_nct06604689_20260811.json",
    "clinicaltrials/get_nct06382129_20260811.json",
    "clinicaltrials/search_melanoma_recruiting_limit3_20260811.json",
    "clinicaltrials/search_phelan_limit5_20260811.json",
    "clinicaltrials/search_phelan_next_20260811.json",
    "clinicaltrials/search_keytruda_limit3_20260811.json",
];

/// The `<PubmedArticle>…</PubmedArticle>` elements of an efetch answer, verbatim.
fn articles(xml: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = xml;
    while let Some(start) = rest.find("<PubmedArticle>") {
        let Some(len) = rest[start..].find("</PubmedArticle>") else { break };
        let end = start + len + "</PubmedArticle>".len();
        out.push(&rest[start..end]);
        rest = &rest[end..];
    }
    out
}

fn efetch_set(target: usize) -> (Vec<u8>, usize) {
    let texts: Vec<String> =
        EFETCH.iter().map(|f| String::from_utf8(fixture(f)).expect("fixtures are UTF-8")).collect();
    let pieces: Vec<&str> = texts.iter().flat_map(|t| articles(t)).collect();
    let mut xml = String::from("<?xml version=\"1.0\" ?>\n<PubmedArticleSet>\n");
    let mut n = 0;
    while xml.len() < target {
        for p in &pieces {
            xml.push_str(p);
            xml.push('\n');
            n += 1;
        }
    }
    xml.push_str("</PubmedArticleSet>\n");
    (xml.into_bytes(), n)
}

fn ctgov_set(target: usize) -> (Vec<u8>, usize) {
    let mut studies = Vec::new();
    for f in CTGOV {
        let value: serde_json::Value = serde_json::from_slice(&fixture(f)).expect("fixture JSON");
        match value.get("studies").and_then(|s| s.as_array()) {
            Some(list) => studies.extend(list.iter().map(|s| s.to_string())),
            None => studies.push(value.to_string()),
        }
    }
    let mut json = String::from("{\"studies\":[");
    let mut n = 0;
    while json.len() < target {
        for s in &studies {
            if n > 0 {
                json.push(',');
            }
            json.push_str(s);
            n += 1;
        }
    }
    json.push_str("],\"totalCount\":1}");
    (json.into_bytes(), n)
}

/// The trial fields pipette reads (the ClinicalTrials.gov v2 paths listed in the fixtures README).
mod ctgov {
    use serde::Deserialize;

    #[derive(Deserialize)]
    pub(crate) struct Page {
        #[allow(dead_code)]
        pub(crate) studies: Vec<Study>,
    }

    #[derive(Deserialize)]
    #[allow(dead_code)]
    #[serde(rename_all = "camelCase")]
    pub(crate) struct Study {
        pub(crate) protocol_section: Option<Protocol>,
    }

    #[derive(Deserialize)]
    #[allow(dead_code)]
    #[serde(rename_all = "camelCase")]
    pub(crate) struct Protocol {
        pub(crate) identification_module: Option<serde_json::Value>,
        pub(crate) status_module: Option<serde_json::Value>,
        pub(crate) design_module: Option<serde_json::Value>,
        pub(crate) conditions_module: Option<serde_json::Value>,
        pub(crate) arms_interventions_module: Option<serde_json::Value>,
        pub(crate) eligibility_module: Option<Eligibility>,
        pub(crate) contacts_locations_module: Option<serde_json::Value>,
        pub(crate) sponsor_collaborators_module: Option<serde_json::Value>,
        pub(crate) description_module: Option<serde_json::Value>,
    }

    #[derive(Deserialize)]
    #[allow(dead_code)]
    #[serde(rename_all = "camelCase")]
    pub(crate) struct Eligibility {
        pub(crate) eligibility_criteria: Option<String>,
        pub(crate) sex: Option<String>,
        pub(crate) minimum_age: Option<String>,
        pub(crate) maximum_age: Option<String>,
    }
}

/// Best of `rounds` timings of `f` over `bytes` bytes, in MB/s (1 MB = 10^6 bytes).
fn measure(bytes: usize, rounds: usize, mut f: impl FnMut()) -> (f64, Duration) {
    f(); // warm-up
    let best = (0..rounds)
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed()
        })
        .min()
        .unwrap_or_default();
    (bytes as f64 / 1e6 / best.as_secs_f64(), best)
}

fn main() {
    let mib: usize = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(64);
    let target = mib * 1024 * 1024;
    if cfg!(debug_assertions) {
        println!("(debug build: run with --release for meaningful figures)");
    }

    let (xml, n_articles) = efetch_set(target);
    let mut parsed = 0;
    let (xml_rate, xml_time) = measure(xml.len(), 5, || {
        parsed = parse_efetch(&xml).map(|a| a.len()).unwrap_or(0);
    });
    assert_eq!(parsed, n_articles, "every article parsed");
    println!(
        "efetch XML  : {:>7.1} MB/s  ({:.1} MB, {n_articles} articles, best of 5: {:?}) target >= 200 MB/s",
        xml_rate,
        xml.len() as f64 / 1e6,
        xml_time
    );

    let (raw_rate, _) = measure(xml.len(), 5, || {
        let mut reader = quick_xml::Reader::from_reader(xml.as_slice());
        let mut events = 0u64;
        while !matches!(reader.read_event(), Ok(quick_xml::events::Event::Eof) | Err(_)) {
            events += 1;
        }
        assert!(events > 0);
    });
    println!(
        "  (for scale: quick-xml's bare event loop over the same bytes, nothing skipped: {raw_rate:.1} MB/s)"
    );

    if std::env::args().nth(2).as_deref() == Some("xml") {
        return;
    }
    let (json, n_studies) = ctgov_set(target);
    let (typed_rate, typed_time) = measure(json.len(), 5, || {
        let page: ctgov::Page = serde_json::from_slice(&json).expect("typed page");
        assert_eq!(page.studies.len(), n_studies);
    });
    println!(
        "CT.gov JSON : {:>7.1} MB/s  ({:.1} MB, {n_studies} studies, typed serde, best of 5: {:?})",
        typed_rate,
        json.len() as f64 / 1e6,
        typed_time
    );
    let (value_rate, value_time) = measure(json.len(), 5, || {
        let value: serde_json::Value = serde_json::from_slice(&json).expect("value");
        assert!(value.is_object());
    });
    println!("CT.gov JSON : {value_rate:>7.1} MB/s  (serde_json::Value, best of 5: {value_time:?})");
}
