//! The PubMed parsers on every recorded PubMed fixture, as JSON snapshots (tests/snapshots/).

use core_scrapers::pubmed::{parse_efetch, parse_esearch};
use pipette_test_support::fixture;

#[test]
fn efetch_22663011_structured_abstract_collective_author_mesh() {
    let articles = parse_efetch(&fixture("pubmed/efetch_pubmed_22663011.xml")).expect("parses");
    assert_eq!(articles.len(), 1);
    let a = &articles[0];
    assert_eq!(a.pmid, "22663011");
    assert_eq!(a.doi.as_deref(), Some("10.1056/NEJMoa1203421"));
    assert_eq!(a.abstract_sections.len(), 4);
    assert_eq!(a.abstract_sections[0].label.as_deref(), Some("BACKGROUND"));
    assert!(
        a.abstract_text
            .as_deref()
            .is_some_and(|t| t.starts_with("BACKGROUND: Activating") && t.contains("\n\nMETHODS: "))
    );
    assert_eq!(a.authors.len(), 26, "25 people and the METRIC Study Group; investigators are not authors");
    assert_eq!(a.authors[17].name, "Jürgen C Becker");
    let group = a.authors.last().expect("group");
    assert!(group.collective && group.name == "METRIC Study Group");
    let melanoma = a.mesh.iter().find(|m| m.descriptor == "Melanoma").expect("Melanoma");
    assert_eq!(melanoma.qualifiers, ["drug therapy", "genetics", "mortality"]);
    assert!(melanoma.major_topic, "a major qualifier makes the heading major");
    let date = a.pub_date.as_ref().expect("date");
    assert_eq!(
        (date.year, date.month, date.day, date.text.as_str()),
        (Some(2012), Some(7), Some(12), "2012 Jul 12")
    );
    insta::assert_json_snapshot!("efetch_22663011", articles);
}

#[test]
fn efetch_12091962_9997_season_keywords_no_abstract() {
    let articles = parse_efetch(&fixture("pubmed/efetch_pubmed_12091962_9997_abstract.xml")).expect("parses");
    let pmids: Vec<&str> = articles.iter().map(|a| a.pmid.as_str()).collect();
    assert_eq!(pmids, ["12091962", "9997"]);
    assert_eq!(articles[0].pub_date.as_ref().map(|d| d.text.as_str()), Some("1990 Spring"));
    assert_eq!(articles[0].keywords, ["Health Care and Public Health", "Legal Approach"]);
    assert_eq!(articles[0].abstract_text, None);
    assert_eq!(articles[1].doi.as_deref(), Some("10.1016/0005-2795(76)90109-4"));
    insta::assert_json_snapshot!("efetch_12091962_9997", articles);
}

#[test]
fn esearch_json_page() {
    let page = parse_esearch(&fixture("pubmed/esearch_json_apc_pE1317Q_retmax100.json")).expect("parses");
    assert_eq!((page.count, page.retstart, page.retmax, page.ids.len()), (40362, 0, 100, 100));
    assert_eq!(page.phrases_not_found, ["p.E1317Q"]);
    insta::assert_json_snapshot!("esearch_json_apc", page);
}

#[test]
fn esearch_xml_page_with_history() {
    let page = parse_esearch(&fixture("pubmed/esearch_cancer_reldate60_usehistory.xml")).expect("parses");
    assert_eq!((page.count, page.ids.len()), (42249, 100));
    assert_eq!(page.web_env.as_deref(), Some("MCID_6927d6e7fee3e90f880ec190"));
    assert_eq!(page.query_key.as_deref(), Some("1"));
    insta::assert_json_snapshot!("esearch_xml_cancer", page);
}

#[test]
fn ncbi_rate_limit_error_body_is_named() {
    let err = parse_esearch(&fixture("pubmed/esummary_json_rate_limit_exceeded_error.json"))
        .expect_err("error body");
    assert_eq!(err.kind(), "unexpected_content");
    insta::assert_json_snapshot!(
        "esummary_rate_limit_error",
        serde_json::json!({ "kind": err.kind(), "retryable": err.retryable(), "message": err.to_string() })
    );
}

/// The markdown of the recorded article: concise keeps every identifier and a short abstract in under 3 KB;
/// detailed keeps the whole record.
#[test]
fn markdown_of_22663011_concise_and_detailed() {
    use core_scrapers::ResponseFormat;
    use core_scrapers::pubmed::FetchResult;
    let articles = parse_efetch(&fixture("pubmed/efetch_pubmed_22663011.xml")).expect("parses");
    let result = FetchResult { articles, not_found: vec!["1".into()] };
    let concise = result.markdown(ResponseFormat::Concise);
    for needle in [
        "PMID 22663011",
        "DOI 10.1056/NEJMoa1203421",
        "Improved survival with MEK inhibition",
        "et al. (26 authors)",
        "N Engl J Med, 2012 Jul 12",
        "Conclusions: Trametinib",
        "NCT01245062",
        "\"response_format\": \"detailed\"",
        "**1 PMID without a record in PubMed**: 1.",
    ] {
        assert!(concise.contains(needle), "{needle:?} missing from\n{concise}");
    }
    assert!(concise.len() <= 3_000, "{} bytes", concise.len());
    let detailed = result.markdown(ResponseFormat::Detailed);
    assert!(
        detailed.contains("- METRIC Study Group (group)")
            && detailed.contains("**Methods**: In this phase 3")
    );
    assert!(detailed.contains("Melanoma* (drug therapy, genetics, mortality)"), "{detailed}");
    insta::assert_snapshot!("markdown_22663011_concise", concise);
    insta::assert_snapshot!("markdown_22663011_detailed", detailed);
}
