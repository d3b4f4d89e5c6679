//! The full-text parsers on every recorded answer of `fixtures/fulltext` (JATS of each dialect, the PMC and
//! publisher pages, elink both shapes, Europe PMC search, the OA refusals). Snapshots hold a digest of each
//! parse (ids, metadata, the section tree, captions, reference ids, text sizes), not the articles' text.

use core_scrapers::fulltext::{
    FullText, JatsAnswer, Section, Source, parse_article_html, parse_elink, parse_europepmc_search,
    parse_jats,
};
use pipette_test_support::fixture;
use serde_json::{Value, json};

fn outline(s: &Section) -> Value {
    let mut v = json!({
        "title": s.title,
        "paragraphs": s.paragraphs.len(),
        "first": s.paragraphs.first().map(|p| p.chars().take(60).collect::<String>()),
    });
    if !s.sections.is_empty() {
        v["sections"] = s.sections.iter().map(outline).collect();
    }
    v
}

fn digest(a: &FullText) -> Value {
    json!({
        "source": a.source,
        "ids": a.ids,
        "title": a.title,
        "authors": a.authors.iter().map(|x| json!({"name": x.name, "affiliations": x.affiliations.len(), "first_affiliation": x.affiliations.first()})).collect::<Vec<_>>(),
        "journal": a.journal,
        "publisher": a.publisher,
        "dates": a.dates,
        "volume": a.volume, "issue": a.issue, "pages": a.pages,
        "license": a.license.as_ref().map(|l| l.chars().take(80).collect::<String>()),
        "license_url": a.license_url,
        "article_type": a.article_type,
        "abstract_start": a.abstract_text.as_ref().map(|t| t.chars().take(80).collect::<String>()),
        "abstract_chars": a.abstract_text.as_ref().map(|t| t.chars().count()),
        "keywords": a.keywords,
        "sections": a.sections.iter().map(outline).collect::<Vec<_>>(),
        "body_chars": a.body_text().chars().count(),
        "captions": a.captions.iter().map(|c| json!({"kind": c.kind, "label": c.label, "start": c.text.chars().take(50).collect::<String>()})).collect::<Vec<_>>(),
        "references": a.references.len(),
        "reference_ids": a.references.iter().take(5).map(|r| json!({"label": r.label, "pmid": r.pmid, "pmcid": r.pmcid, "doi": r.doi})).collect::<Vec<_>>(),
        "references_with_pmid": a.references.iter().filter(|r| r.pmid.is_some()).count(),
        "pdf_url": a.pdf_url,
    })
}

fn jats(rel: &str, source: Source) -> FullText {
    match parse_jats(&fixture(&format!("fulltext/{rel}")), source).expect(rel) {
        JatsAnswer::Article(a) => *a,
        other => panic!("{rel}: {other:?}"),
    }
}

#[test]
fn efetch_pmc_current_id_style() {
    let a = jats("jats/efetch_pmc__PMC3040717__biomcp.xml", Source::PmcEfetch);
    assert_eq!(a.ids.pmid.as_deref(), Some("20516115"));
    assert_eq!(a.ids.pmcid.as_deref(), Some("PMC3040717"));
    assert_eq!(a.ids.pmc_version, Some(1));
    assert_eq!(a.ids.doi.as_deref(), Some("10.1158/0008-5472.CAN-09-4563"));
    assert_eq!(a.authors.len(), 11);
    assert_eq!(a.references.len(), 53);
    assert!(a.has_body());
    insta::assert_json_snapshot!("efetch_pmc_PMC3040717", digest(&a));
}

#[test]
fn datasets_copy_is_the_same_article() {
    let a = jats("jats/pmc_oa_s3__PMC3040717.1__biomcp.xml", Source::PmcDatasets);
    let b = jats("jats/efetch_pmc__PMC3040717__biomcp.xml", Source::PmcEfetch);
    assert_eq!(a.ids, b.ids);
    assert_eq!(a.title, b.title);
    assert_eq!(a.sections, b.sections);
    assert_eq!(a.captions, b.captions);
    assert_eq!(a.references, b.references);
}

#[test]
fn efetch_pmc_older_id_style_correction() {
    let a = jats("jats/efetch_pmc__PMC8435807_correction__biopython.xml", Source::PmcEfetch);
    assert_eq!(a.ids.pmcid.as_deref(), Some("PMC8435807"));
    assert_eq!(a.ids.pmid.as_deref(), Some("34527728"));
    assert_eq!(a.article_type.as_deref(), Some("correction"));
    assert!(a.title.starts_with('“') && a.title.contains("ERJ Open Res 2021"), "{}", a.title);
    assert_eq!(a.license_url.as_deref(), Some("https://creativecommons.org/licenses/by-nc/4.0/"));
    insta::assert_json_snapshot!("efetch_pmc_PMC8435807", digest(&a));
}

#[test]
fn oai_default_namespace() {
    let a = jats("jats/oai_getrecord__PMC4500000__pubmed-client.xml", Source::PmcOai);
    assert_eq!(a.ids.pmcid.as_deref(), Some("PMC4500000"));
    assert_eq!(a.ids.pmid.as_deref(), Some("26180337"));
    assert_eq!(a.ids.doi.as_deref(), Some("10.1589/jpts.27.1865"));
    assert_eq!(a.journal.as_deref(), Some("Journal of Physical Therapy Science"));
    assert!(a.has_body());
    insta::assert_json_snapshot!("oai_PMC4500000", digest(&a));
}

#[test]
fn europepmc_bare_digit_pmcid() {
    let a = jats("jats/europepmc_fullTextXML__PMC3258128__pyEuropePMC.xml", Source::EuropePmc);
    assert_eq!(a.ids.pmcid.as_deref(), Some("PMC3258128"));
    assert_eq!(a.ids.doi.as_deref(), Some("10.1093/nar/gkr715"));
    assert!(a.has_body());
    insta::assert_json_snapshot!("europepmc_PMC3258128", digest(&a));
}

#[test]
fn refusals_say_not_open() {
    let oa = fixture("fulltext/related/pmc_oa_fcgi__PMC3040717_idIsNotOpenAccess__biomcp.xml");
    assert!(
        matches!(parse_jats(&oa, Source::PmcOai), Ok(JatsAnswer::NotOpen(m)) if m.contains("idIsNotOpenAccess"))
    );
    let bean = fixture("fulltext/related/europepmc_supplementaryFiles__PMC3040717_not_OA__biomcp.xml");
    assert!(
        matches!(parse_jats(&bean, Source::EuropePmc), Ok(JatsAnswer::NotOpen(m)) if m.contains("not open access"))
    );
}

#[test]
fn pmc_web_page() {
    let html = String::from_utf8(fixture("fulltext/html/pmc_article_page__PMC3040717__biomcp.html")).unwrap();
    let a = parse_article_html(
        &html,
        Source::PmcWebPage,
        Some("https://pmc.ncbi.nlm.nih.gov/articles/PMC3040717/"),
    );
    assert_eq!(a.ids.pmid.as_deref(), Some("20516115"));
    assert_eq!(a.ids.pmcid.as_deref(), Some("PMC3040717"));
    assert_eq!(a.ids.doi.as_deref(), Some("10.1158/0008-5472.CAN-09-4563"));
    assert_eq!(
        a.pdf_url.as_deref(),
        Some("https://pmc.ncbi.nlm.nih.gov/articles/PMC3040717/pdf/nihms265402.pdf")
    );
    assert_eq!(a.authors.len(), 11);
    assert_eq!(a.authors[2].affiliations.len(), 2);
    assert!(a.abstract_text.as_deref().is_some_and(|t| t.starts_with("Genetic screening")));
    assert!(a.has_body());
    insta::assert_json_snapshot!("pmc_page_PMC3040717", digest(&a));
}

#[test]
fn publisher_landing_page() {
    let html =
        String::from_utf8(fixture("fulltext/html/journal_landing__plos_one_pone.0213978__sandcrawler.html"))
            .unwrap();
    let a = parse_article_html(&html, Source::PublisherPage, None);
    assert_eq!(a.ids.doi.as_deref(), Some("10.1371/journal.pone.0213978"));
    assert_eq!(
        a.pdf_url.as_deref(),
        Some("https://journals.plos.org/plosone/article/file?id=10.1371/journal.pone.0213978&type=printable")
    );
    assert_eq!(a.authors.len(), 11);
    assert_eq!(a.references.len(), 23);
    assert_eq!(a.ids.pmid, None, "no reference's id is the article's");
    insta::assert_json_snapshot!("plos_landing", digest(&a));
}

#[test]
fn elink_both_shapes() {
    let json = fixture("fulltext/citations/elink_citedin_json__pmid27350240__pubmed-client.json");
    let ids = parse_elink(&json, "pubmed_pubmed_citedin").unwrap();
    assert_eq!(ids.len(), 8);
    assert_eq!(ids[0], "38899158");
    assert!(parse_elink(&json, "pubmed_pubmed_refs").unwrap().is_empty());
    let xml = fixture("fulltext/citations/elink_neighbor_incl_citedin__pmid9298984__biopython.xml");
    assert_eq!(parse_elink(&xml, "pubmed_pubmed_citedin").unwrap().len(), 39);
    assert_eq!(parse_elink(&xml, "pubmed_pubmed_refs").unwrap().len(), 56);
    assert_eq!(parse_elink(&xml, "pubmed_pubmed").unwrap().len(), 101);
}

#[test]
fn europepmc_search_core_and_lite() {
    let core = fixture("fulltext/europepmc_search/search_core__query-cancer__pyEuropePMC.json");
    let s = parse_europepmc_search(&core, "cancer").unwrap();
    assert_eq!(s.total, 5_059_039);
    assert_eq!(s.articles.len(), 25);
    assert_eq!(s.articles.iter().filter(|a| a.abstract_text.is_some()).count(), 21);
    assert_eq!(s.articles.iter().filter(|a| a.pmcid.is_some()).count(), 9);
    assert!(s.next_cursor.is_some());
    let digest: Vec<Value> = s
        .articles
        .iter()
        .map(|a| json!({"id": a.id, "source": a.source, "pmid": a.pmid, "pmcid": a.pmcid, "doi": a.doi, "oa": a.open_access, "cited_by": a.cited_by_count, "title": a.title.chars().take(60).collect::<String>()}))
        .collect();
    insta::assert_json_snapshot!("europepmc_search_core", digest);
    let lite = fixture("fulltext/europepmc_search/search_lite__EXT_ID-20516115__biomcp.json");
    let s = parse_europepmc_search(&lite, "EXT_ID:20516115 AND SRC:MED").unwrap();
    let a = &s.articles[0];
    assert_eq!((a.pmid.as_deref(), a.pmcid.as_deref()), (Some("20516115"), Some("PMC3040717")));
    assert_eq!(a.cited_by_count, Some(133));
    assert!(!a.open_access);
    assert_eq!(s.next_cursor, None);
}

/// The text a model reads: concise (section titles with first sentences, every caption, the call for more)
/// and detailed (everything up to the bound, then the call for the sections left out).
#[test]
fn markdown_concise_and_detailed() {
    use core_scrapers::ResponseFormat;
    use core_scrapers::fulltext::{Attempt, DETAILED_MAX_CHARS, FullTextResult};
    let article = jats("jats/oai_getrecord__PMC4500000__pubmed-client.xml", Source::PmcOai);
    let result = FullTextResult {
        full_text: true,
        open_access: None,
        notice: None,
        attempts: vec![Attempt { source: Source::PmcOai, outcome: "full text".into() }],
        links: vec!["https://pubmed.ncbi.nlm.nih.gov/26180337/".into()],
        all_sections: Vec::new(),
        notes: Vec::new(),
        article,
    };
    let concise = result.markdown(ResponseFormat::Concise);
    insta::assert_snapshot!("markdown_PMC4500000_concise", concise);
    // The abstract's results and conclusion come last: concise keeps the abstract whole.
    assert!(
        concise.contains("[Conclusion] A multifactorial fall prevention program is effective"),
        "{concise}"
    );
    let detailed = result.markdown(ResponseFormat::Detailed);
    for s in &result.article.sections {
        for p in &s.paragraphs {
            assert!(detailed.contains(p.as_str()), "detailed holds every paragraph");
        }
    }
    assert!(detailed.contains("## References") && detailed.contains("PMID 7740577"));

    // A body past the bound: the rendering stops at a section and names the call for the rest.
    let mut big = result.clone();
    let long = "word ".repeat(DETAILED_MAX_CHARS / 5);
    big.article.sections[1].paragraphs.push(long);
    let cut = big.markdown(ResponseFormat::Detailed);
    assert!(cut.len() < DETAILED_MAX_CHARS + 40_000, "{}", cut.len());
    assert!(
        cut.contains(r#"article_fulltext {"pmcid": "PMC4500000", "sections": ["RESULTS", "DISCUSSION"], "response_format": "detailed"}"#)
            || cut.contains(r#""sections": ["SUBJECTS AND METHODS""#),
        "{}",
        &cut[cut.len().saturating_sub(600)..]
    );
}
