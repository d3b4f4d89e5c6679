//! The UniProt and ChEMBL parsers on every recorded biomolecule fixture, as JSON snapshots.

use core_scrapers::biomolecules::{parse_mechanisms, parse_protein};
use pipette_test_support::fixture;

#[test]
fn uniprot_entry_p15056() {
    let p = parse_protein(&fixture("uniprot/get_P15056_BRAF_20260812.json")).expect("parses");
    assert_eq!(p.accession, "P15056");
    assert_eq!(p.gene.as_deref(), Some("BRAF"));
    assert_eq!(p.gene_synonyms, ["BRAF1", "RAFB1"]);
    assert_eq!(p.name.as_deref(), Some("Serine/threonine-protein kinase B-raf"));
    assert!(p.reviewed);
    assert_eq!((p.taxon_id, p.length), (Some(9606), Some(766)));
    assert!(p.function.as_deref().is_some_and(|f| f.starts_with("Protein kinase involved")));
    assert_eq!((p.structures.len(), p.structures_total), (6, 6));
    insta::assert_json_snapshot!("uniprot_P15056", p);
}

#[test]
fn uniprot_search_page_entry_matches_the_entry() {
    let page: serde_json::Value =
        serde_json::from_slice(&fixture("uniprot/search_BRAF_human_reviewed_20260812.json")).expect("json");
    let first = serde_json::to_vec(&page["results"][0]).expect("entry");
    let from_search = parse_protein(&first).expect("parses");
    let direct = parse_protein(&fixture("uniprot/get_P15056_BRAF_20260812.json")).expect("parses");
    assert_eq!(from_search, direct);
}

#[test]
fn chembl_mechanisms_of_pembrolizumab() {
    let m = parse_mechanisms(&fixture("chembl/mechanism_CHEMBL3137343_pembrolizumab_20260811.json"))
        .expect("parses");
    assert_eq!(m.len(), 1);
    assert_eq!(m[0].target_chembl_id.as_deref(), Some("CHEMBL3307223"));
    assert_eq!(m[0].max_phase, Some(4.0));
    insta::assert_json_snapshot!("chembl_mechanism_CHEMBL3137343", m);
}

#[test]
fn obsolete_entries_are_not_found() {
    // Recorded shape of an inactive UniProt entry (not a recording).
    let body = br#"{"entryType":"Inactive","primaryAccession":"P00001","inactiveReason":{"inactiveReasonType":"DELETED"}}"#;
    let err = parse_protein(body).expect_err("inactive");
    assert_eq!(err.kind(), "not_found");
}
