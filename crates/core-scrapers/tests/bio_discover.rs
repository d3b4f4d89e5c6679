//! Biomolecule discovery against the local upstream.
//!
//! UniProt answers are the recorded fixtures. Only a ChEMBL mechanism recording exists (pembrolizumab, not a
//! BRAF drug), so the ChEMBL target, mechanism, molecule and activity answers for BRAF below are SMALL
//! REPLIES IN THE RECORDED SHAPE of the ChEMBL API (field names and types as ChEMBL sends them, values
//! chosen for the test) — they are marked `recorded_shape_*` and are not recordings.

use std::time::Duration;

use core_cache::Cache;
use core_scrapers::biomolecules::{self, CandidateKind, DiscoverRequest, Kind};
use core_scrapers::http::Upstreams;
use core_scrapers::{ScrapeError, ScrapersConfig};
use pipette_test_support::{Reply, UpstreamServer};
use serde_json::json;

fn upstreams(server: &UpstreamServer) -> Upstreams {
    let mut c = ScrapersConfig::default().with_base_urls(
        &format!("{}/eutils", server.url()),
        &format!("{}/ctgov", server.url()),
        &format!("{}/uniprot", server.url()),
        &format!("{}/chembl", server.url()),
    );
    c.chembl.rate_per_second = 0.0;
    c.uniprot.rate_per_second = 0.0;
    c.retry.base_delay = Duration::from_millis(10);
    Upstreams::new(&c, Cache::in_process(1 << 24)).expect("upstreams")
}

fn recorded_shape_targets() -> Reply {
    Reply::json(
        200,
        json!({
            "page_meta": {"limit": 20, "next": null, "offset": 0, "previous": null, "total_count": 2},
            "targets": [
                {"organism": "Homo sapiens", "pref_name": "RAF family", "species_group_flag": false,
                 "target_chembl_id": "CHEMBL_TEST_FAMILY", "target_type": "PROTEIN FAMILY", "tax_id": 9606,
                 "target_components": [{"accession": "P15056", "component_type": "PROTEIN"}]},
                {"organism": "Homo sapiens", "pref_name": "Serine/threonine-protein kinase B-raf",
                 "species_group_flag": false, "target_chembl_id": "CHEMBL5145", "target_type": "SINGLE PROTEIN",
                 "tax_id": 9606, "target_components": [{"accession": "P15056", "component_type": "PROTEIN"}]}
            ]
        }),
    )
}

fn recorded_shape_mechanisms() -> Reply {
    let mechanism = |molecule: &str, parent: &str, target: &str, phase: serde_json::Value| {
        json!({
            "action_type": "INHIBITOR", "binding_site_comment": null, "direct_interaction": 1,
            "disease_efficacy": 1, "max_phase": phase, "mechanism_comment": null,
            "mechanism_of_action": "Serine/threonine-protein kinase B-raf inhibitor",
            "mechanism_refs": [{"ref_id": "test-label.pdf", "ref_type": "FDA", "ref_url": "https://example.org/test-label.pdf"}],
            "molecular_mechanism": 1, "molecule_chembl_id": molecule, "parent_molecule_chembl_id": parent,
            "target_chembl_id": target
        })
    };
    Reply::json(
        200,
        json!({
            "mechanisms": [
                mechanism("CHEMBL_TEST_PHASE2", "CHEMBL_TEST_PHASE2", "CHEMBL5145", json!(2)),
                mechanism("CHEMBL1229517", "CHEMBL1229517", "CHEMBL5145", json!(4)),
                mechanism("CHEMBL_TEST_SALT", "CHEMBL2028663", "CHEMBL5145", json!(4)),
                mechanism("CHEMBL_TEST_OTHER", "CHEMBL_TEST_OTHER", "CHEMBL_TEST_ELSEWHERE", json!(4))
            ],
            "page_meta": {"limit": 100, "next": null, "offset": 0, "previous": null, "total_count": 4}
        }),
    )
}

fn recorded_shape_molecules() -> Reply {
    Reply::json(
        200,
        json!({
            "molecules": [
                {"molecule_chembl_id": "CHEMBL1229517", "pref_name": "VEMURAFENIB", "max_phase": "4.0",
                 "first_approval": 2011, "molecule_type": "Small molecule",
                 "molecule_structures": {"canonical_smiles": "C-TEST", "standard_inchi_key": "TEST-INCHI-KEY"}},
                {"molecule_chembl_id": "CHEMBL2028663", "pref_name": "DABRAFENIB", "max_phase": "4.0",
                 "first_approval": 2013, "molecule_type": "Small molecule", "molecule_structures": null}
            ],
            "page_meta": {"limit": 3, "next": null, "offset": 0, "previous": null, "total_count": 2}
        }),
    )
}

fn recorded_shape_activities() -> Reply {
    let activity = |molecule: &str, name: serde_json::Value, pchembl: &str, value: &str| {
        json!({
            "activity_id": 1, "assay_chembl_id": "CHEMBL_TEST_ASSAY", "document_chembl_id": "CHEMBL_TEST_DOC",
            "molecule_chembl_id": molecule, "molecule_pref_name": name, "canonical_smiles": "C-TEST",
            "pchembl_value": pchembl, "standard_relation": "=", "standard_type": "IC50",
            "standard_units": "nM", "standard_value": value, "target_chembl_id": "CHEMBL5145"
        })
    };
    Reply::json(
        200,
        json!({
            "activities": [
                activity("CHEMBL_TEST_A", json!(null), "9.70", "0.2"),
                activity("CHEMBL_TEST_A", json!(null), "8.10", "7.9"),
                activity("CHEMBL1229517", json!("VEMURAFENIB"), "9.52", "0.3"),
                activity("CHEMBL_TEST_B", json!(null), "7.00", "100")
            ],
            "page_meta": {"limit": 10, "next": null, "offset": 0, "previous": null, "total_count": 4}
        }),
    )
}

fn route_braf(server: &UpstreamServer) {
    server.route_query(
        "GET",
        "/uniprot/uniprotkb/search",
        &[("query", "(BRAF) AND organism_id:9606 AND reviewed:true"), ("format", "json")],
        Reply::fixture("uniprot/search_BRAF_human_reviewed_20260812.json"),
    );
    server.route_query(
        "GET",
        "/chembl/target.json",
        &[("target_components__accession", "P15056")],
        recorded_shape_targets(),
    );
    server.route_query(
        "GET",
        "/chembl/mechanism.json",
        &[("target_chembl_id", "CHEMBL5145")],
        recorded_shape_mechanisms(),
    );
    server.route("GET", "/chembl/molecule.json", recorded_shape_molecules());
    server.route_query(
        "GET",
        "/chembl/activity.json",
        &[
            ("target_chembl_id", "CHEMBL5145"),
            ("pchembl_value__isnull", "false"),
            ("order_by", "-pchembl_value"),
        ],
        recorded_shape_activities(),
    );
}

#[tokio::test]
async fn discover_braf_resolves_through_uniprot_then_chembl() {
    let server = UpstreamServer::start().await;
    route_braf(&server);
    let u = upstreams(&server);
    let mut req = DiscoverRequest::new("braf");
    req.max_results = 2;
    let d = biomolecules::discover(&u, &req).await.expect("discover");

    assert_eq!(d.protein.accession, "P15056");
    let target = d.chembl_target.as_ref().expect("target");
    assert_eq!(target.target_chembl_id, "CHEMBL5145", "the single protein, not the family listed first");

    assert_eq!(d.proteins.len(), 1);
    assert_eq!(d.proteins[0].kind, CandidateKind::Protein);
    assert_eq!(d.proteins[0].ids["uniprot"], "P15056");

    let drugs: Vec<(&str, &str, Option<f64>)> =
        d.drugs.iter().map(|c| (c.ids["chembl"].as_str(), c.name.as_str(), c.max_phase)).collect();
    assert_eq!(
        drugs,
        [("CHEMBL1229517", "VEMURAFENIB", Some(4.0)), ("CHEMBL2028663", "DABRAFENIB", Some(4.0))],
        "approved first, salts folded into their parent, other targets' mechanisms dropped, capped at 2"
    );
    let vemurafenib = &d.drugs[0];
    assert_eq!(vemurafenib.first_approval, Some(2011));
    assert_eq!(vemurafenib.ids.get("inchi_key").map(String::as_str), Some("TEST-INCHI-KEY"));
    assert!(vemurafenib.evidence[0].detail.contains("B-raf inhibitor (INHIBITOR) on CHEMBL5145; approved"));
    assert!(vemurafenib.source_url.contains("CHEMBL1229517"));

    let compounds: Vec<(&str, Option<f64>)> =
        d.compounds.iter().map(|c| (c.ids["chembl"].as_str(), c.pchembl)).collect();
    assert_eq!(
        compounds,
        [("CHEMBL_TEST_A", Some(9.7)), ("CHEMBL1229517", Some(9.52))],
        "best value per molecule"
    );
    assert!(d.compounds[0].evidence[0].detail.starts_with("pChEMBL 9.70 (IC50 = 0.2 nM)"));
    assert!(d.candidates_have_sources());

    let molecule_request =
        server.requests().into_iter().find(|r| r.path == "/chembl/molecule.json").expect("molecules");
    assert_eq!(
        molecule_request.param("molecule_chembl_id__in").as_deref(),
        Some("CHEMBL1229517,CHEMBL2028663")
    );
    insta::assert_json_snapshot!("discover_braf", d);
    insta::assert_snapshot!("discover_braf_concise", d.markdown(core_scrapers::ResponseFormat::Concise));
    insta::assert_snapshot!("discover_braf_detailed", d.markdown(core_scrapers::ResponseFormat::Detailed));
}

/// ChEMBL answers 404 on its target endpoint: the UniProt result stays, and a source error names ChEMBL and
/// says the 404 is the service's, not the identifier's.
#[tokio::test]
async fn a_chembl_failure_keeps_the_uniprot_result_and_names_the_source() {
    let server = UpstreamServer::start().await;
    server.route_query(
        "GET",
        "/uniprot/uniprotkb/search",
        &[("query", "(BRAF) AND organism_id:9606 AND reviewed:true"), ("format", "json")],
        Reply::fixture("uniprot/search_BRAF_human_reviewed_20260812.json"),
    );
    let u = upstreams(&server);
    let d = biomolecules::discover(&u, &DiscoverRequest::new("BRAF")).await.expect("a partial answer");
    assert_eq!((d.protein.accession.as_str(), d.proteins.len()), ("P15056", 1));
    assert!(d.drugs.is_empty() && d.compounds.is_empty() && d.chembl_target.is_none());
    assert_eq!(d.source_errors.len(), 1, "{:?}", d.source_errors);
    let e = &d.source_errors[0];
    assert_eq!((e.service, e.kind.as_str()), (core_scrapers::http::Service::Chembl, "not_found"));
    assert!(e.step.contains("/target.json") && e.message.contains("not a problem with the target"), "{e:?}");
    assert!(d.notes.is_empty(), "no note claims ChEMBL has no target: {:?}", d.notes);
    let md = d.markdown(core_scrapers::ResponseFormat::Concise);
    assert!(md.contains("**Sources that failed**") && md.contains("- ChEMBL — target lookup"), "{md}");
    assert!(md.contains("UniProt P15056"), "{md}");
}

trait Sources {
    fn candidates_have_sources(&self) -> bool;
}

impl Sources for core_scrapers::biomolecules::Discovery {
    fn candidates_have_sources(&self) -> bool {
        self.proteins
            .iter()
            .chain(&self.compounds)
            .chain(&self.drugs)
            .all(|c| !c.ids.is_empty() && !c.evidence.is_empty() && c.source_url.starts_with("https://"))
    }
}

#[tokio::test]
async fn proteins_only_asks_nothing_of_chembl() {
    let server = UpstreamServer::start().await;
    route_braf(&server);
    let u = upstreams(&server);
    let req = DiscoverRequest { target: "BRAF".into(), kinds: vec![Kind::Proteins], max_results: 5 };
    let d = biomolecules::discover(&u, &req).await.expect("discover");
    assert_eq!(d.proteins.len(), 1);
    assert!(d.drugs.is_empty() && d.compounds.is_empty() && d.chembl_target.is_none());
    assert!(server.requests().iter().all(|r| r.path.starts_with("/uniprot/")));
}

#[tokio::test]
async fn protein_get_by_accession_and_its_errors() {
    let server = UpstreamServer::start().await;
    server.route(
        "GET",
        "/uniprot/uniprotkb/P15056.json",
        Reply::fixture("uniprot/get_P15056_BRAF_20260812.json"),
    );
    let u = upstreams(&server);
    let p = biomolecules::protein_get(&u, " p15056 ").await.expect("entry");
    assert_eq!(p.gene.as_deref(), Some("BRAF"));

    let err = biomolecules::protein_get(&u, "P00000").await.expect_err("404");
    assert_eq!(
        err,
        ScrapeError::NotFound { service: core_scrapers::http::Service::UniProt, what: "entry P00000".into() }
    );

    let before = server.requests().len();
    for bad in ["BRAF", "", "P15056; DROP"] {
        let err = biomolecules::protein_get(&u, bad).await.expect_err("invalid");
        assert!(matches!(&err, ScrapeError::InvalidArgument { name, .. } if name == "accession"), "{err:?}");
    }
    assert_eq!(server.requests().len(), before, "invalid accessions send nothing");
}

#[tokio::test]
async fn unknown_symbols_and_bad_arguments_are_named() {
    let server = UpstreamServer::start().await;
    server.route("GET", "/uniprot/uniprotkb/search", Reply::json(200, json!({"results": []})));
    let u = upstreams(&server);
    let err = biomolecules::discover(&u, &DiscoverRequest::new("NOSUCHGENE1")).await.expect_err("unknown");
    assert_eq!(err.kind(), "not_found");
    assert!(err.to_string().contains("NOSUCHGENE1"), "{err}");

    let cases = [
        (DiscoverRequest::new("BRAF V600E"), "target"),
        (DiscoverRequest { max_results: 0, ..DiscoverRequest::new("BRAF") }, "max_results"),
        (DiscoverRequest { max_results: 101, ..DiscoverRequest::new("BRAF") }, "max_results"),
    ];
    for (req, expected) in cases {
        let err = biomolecules::discover(&u, &req).await.expect_err("invalid");
        assert!(matches!(&err, ScrapeError::InvalidArgument { name, .. } if name == expected), "{err:?}");
    }
}
