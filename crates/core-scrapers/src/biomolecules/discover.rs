//! `discover` (UniProt → ChEMBL target → mechanisms/drugs and potent compounds) and `protein_get`.

use std::collections::{BTreeMap, HashMap, HashSet};

use serde::{Deserialize, Serialize};

use crate::biomolecules::chembl::{
    Activity, Mechanism, Molecule, Target, compound_url, parse_activities, parse_mechanisms, parse_molecules,
    parse_targets, target_url,
};
use crate::biomolecules::model::{
    Candidate, CandidateKind, ChemblTarget, Discovery, Evidence, Kind, Protein, SourceError,
};
use crate::biomolecules::uniprot::{self, is_accession, parse_protein};
use crate::error::{ScrapeError, quote};
use crate::http::{Service, Upstreams};

/// Largest `max_results` (per kind).
pub const MAX_PER_KIND: u32 = 100;
const HUMAN: u64 = 9606;
/// UniProt search page size (as recorded by the fixtures).
const UNIPROT_PAGE: u32 = 25;
const UNIPROT_FIELDS: &str =
    "accession,id,reviewed,protein_name,gene_names,organism_name,organism_id,length,cc_function,xref_pdb";
/// ChEMBL activities read per wanted compound (one molecule often has several measurements).
const ACTIVITIES_PER_COMPOUND: u32 = 5;

fn default_kinds() -> Vec<Kind> {
    Kind::ALL.to_vec()
}

fn default_max_results() -> u32 {
    10
}

/// A discovery request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct DiscoverRequest {
    /// Gene symbol (`BRAF`) or UniProt accession (`P15056`).
    pub target: String,
    /// What to discover.
    #[serde(default = "default_kinds")]
    pub kinds: Vec<Kind>,
    /// Candidates of each kind.
    #[serde(default = "default_max_results")]
    #[schemars(range(min = 1, max = 100))]
    pub max_results: u32,
}

impl DiscoverRequest {
    /// Every kind, 10 of each.
    pub fn new(target: impl Into<String>) -> Self {
        Self { target: target.into(), kinds: default_kinds(), max_results: default_max_results() }
    }
}

/// One UniProtKB entry by accession. An unknown or obsolete accession is `NotFound`.
pub async fn protein_get(upstreams: &Upstreams, accession: &str) -> Result<Protein, ScrapeError> {
    let accession = accession.trim().to_ascii_uppercase();
    if !is_accession(&accession) {
        return Err(ScrapeError::invalid(
            "accession",
            format!("{} is not a UniProt accession (e.g. P15056 or A0A024R161)", quote(&accession)),
        ));
    }
    let path = format!("/uniprotkb/{accession}.json");
    let body = upstreams.uniprot.get(&path, &[]).await.map_err(|err| match err {
        ScrapeError::NotFound { service, .. } => {
            ScrapeError::NotFound { service, what: format!("entry {accession}") }
        }
        other => other,
    })?;
    parse_protein(&body)
}

/// Resolves `target` to a reviewed human UniProt entry, then finds its ChEMBL target, the molecules with a
/// known mechanism on it (drugs, approved first) and its most potent bioactive compounds (by pChEMBL).
pub async fn discover(upstreams: &Upstreams, request: &DiscoverRequest) -> Result<Discovery, ScrapeError> {
    if request.max_results == 0 || request.max_results > MAX_PER_KIND {
        return Err(ScrapeError::invalid(
            "max_results",
            format!("{} is outside 1–{MAX_PER_KIND} (it is per kind)", request.max_results),
        ));
    }
    let kinds: Vec<Kind> = if request.kinds.is_empty() { default_kinds() } else { request.kinds.clone() };
    let limit = request.max_results as usize;
    let query = request.target.trim();
    let mut notes = Vec::new();

    let (protein, related) = if is_accession(&query.to_ascii_uppercase()) {
        (protein_get(upstreams, query).await?, Vec::new())
    } else {
        resolve_symbol(upstreams, query).await?
    };
    if !protein.reviewed || protein.taxon_id != Some(HUMAN) {
        notes.push(format!(
            "{} is not a reviewed human entry ({}, {}): ChEMBL results may not apply",
            protein.accession,
            if protein.reviewed { "reviewed" } else { "unreviewed" },
            protein.organism.as_deref().unwrap_or("unknown organism")
        ));
    }

    let mut proteins = Vec::new();
    if kinds.contains(&Kind::Proteins) {
        proteins.push(protein_candidate(&protein, "the resolved target"));
        for other in related.iter().filter(|p| p.accession != protein.accession) {
            proteins.push(protein_candidate(other, "a reviewed human entry matching the query"));
        }
        proteins.truncate(limit);
    }

    // ChEMBL failing never drops what UniProt gave: each failed step becomes a source error.
    let mut source_errors = Vec::new();
    let wants_chembl = kinds.contains(&Kind::Compounds) || kinds.contains(&Kind::Drugs);
    let chembl_target = if wants_chembl {
        match find_target(upstreams, &protein).await {
            Ok(target) => target,
            Err(e) => {
                source_errors.push(source_error("target lookup (/target.json): no compounds or drugs", &e));
                None
            }
        }
    } else {
        None
    };
    let (mut drugs, mut compounds) = (Vec::new(), Vec::new());
    match &chembl_target {
        Some(target) => {
            let (d, c) = futures::future::join(
                async {
                    if kinds.contains(&Kind::Drugs) {
                        drugs_for(upstreams, target, limit).await
                    } else {
                        Ok(Vec::new())
                    }
                },
                async {
                    if kinds.contains(&Kind::Compounds) {
                        compounds_for(upstreams, target, limit).await
                    } else {
                        Ok(Vec::new())
                    }
                },
            )
            .await;
            match d {
                Ok(d) => drugs = d,
                Err(e) => source_errors.push(source_error("mechanisms and molecules (drugs)", &e)),
            }
            match c {
                Ok(c) => compounds = c,
                Err(e) => source_errors.push(source_error("activities (compounds)", &e)),
            }
            let failed = |step: &str| source_errors.iter().any(|e| e.step.starts_with(step));
            if kinds.contains(&Kind::Drugs) && drugs.is_empty() && !failed("mechanisms") {
                notes.push(format!("ChEMBL lists no mechanism of action on {}", target.target_chembl_id));
            }
            if kinds.contains(&Kind::Compounds) && compounds.is_empty() && !failed("activities") {
                notes.push(format!(
                    "ChEMBL lists no activity with a pChEMBL value on {}",
                    target.target_chembl_id
                ));
            }
        }
        None if wants_chembl && source_errors.is_empty() => notes
            .push(format!("ChEMBL has no target for UniProt {}: no compounds or drugs", protein.accession)),
        None => {}
    }

    Ok(Discovery {
        query: query.to_owned(),
        protein,
        chembl_target,
        proteins,
        compounds,
        drugs,
        notes,
        source_errors,
    })
}

/// A failed ChEMBL step as a source error. A 404 on one of ChEMBL's fixed endpoints is the service's fault
/// (moved, down, behind a proxy), never the identifier's: it is said so.
fn source_error(step: &str, e: &ScrapeError) -> SourceError {
    let service = e.service().unwrap_or(Service::Chembl);
    let message = match e {
        ScrapeError::NotFound { what, .. } => format!(
            "{service} answered 404 (not found) for {what}: that endpoint should always exist, so {service} is \
             down, moved or blocked — not a problem with the target asked for; try again later"
        ),
        other => other.to_string(),
    };
    SourceError {
        service,
        step: step.to_owned(),
        kind: e.kind().to_owned(),
        message,
        retryable: e.retryable() || matches!(e, ScrapeError::NotFound { .. }),
    }
}

/// A gene symbol → the reviewed human entry whose gene name (or synonym) is exactly that symbol, plus the
/// other entries the search returned.
async fn resolve_symbol(upstreams: &Upstreams, symbol: &str) -> Result<(Protein, Vec<Protein>), ScrapeError> {
    let valid = !symbol.is_empty()
        && symbol.len() <= 30
        && symbol.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_'));
    if !valid {
        return Err(ScrapeError::invalid(
            "target",
            format!(
                "{} is neither a gene symbol (e.g. BRAF, HLA-A) nor a UniProt accession (e.g. P15056)",
                quote(symbol)
            ),
        ));
    }
    // UniProt matches case-insensitively; one spelling keeps one cache entry.
    let symbol = symbol.to_ascii_uppercase();
    let symbol = symbol.as_str();
    let params = [
        ("query", format!("({symbol}) AND organism_id:{HUMAN} AND reviewed:true")),
        ("format", "json".to_owned()),
        ("fields", UNIPROT_FIELDS.to_owned()),
        ("size", UNIPROT_PAGE.to_string()),
    ];
    let found = uniprot::parse_search(&upstreams.uniprot.get("/uniprotkb/search", &params).await?)?;
    let matches = |p: &Protein| {
        p.gene.as_deref().is_some_and(|g| g.eq_ignore_ascii_case(symbol))
            || p.gene_synonyms.iter().any(|s| s.eq_ignore_ascii_case(symbol))
    };
    // An exact gene name beats a synonym (e.g. a symbol that is another gene's old alias).
    let best = found
        .iter()
        .position(|p| p.gene.as_deref().is_some_and(|g| g.eq_ignore_ascii_case(symbol)))
        .or_else(|| found.iter().position(matches))
        .ok_or_else(|| ScrapeError::NotFound {
            service: Service::UniProt,
            what: format!("reviewed human entry with the gene symbol {symbol} (try the UniProt accession)"),
        })?;
    let protein = found[best].clone();
    Ok((protein, found))
}

fn protein_candidate(p: &Protein, why: &str) -> Candidate {
    let mut ids = BTreeMap::from([("uniprot".to_owned(), p.accession.clone())]);
    if let Some(gene) = &p.gene {
        ids.insert("gene".to_owned(), gene.clone());
    }
    let mut detail =
        format!("UniProtKB {} entry, {why}", if p.reviewed { "reviewed (Swiss-Prot)" } else { "unreviewed" });
    if let Some(function) = &p.function {
        let short: String = function.chars().take(200).collect();
        detail.push_str(&format!(
            "; function: {short}{}",
            if function.chars().count() > 200 { "…" } else { "" }
        ));
    }
    Candidate {
        kind: CandidateKind::Protein,
        name: p.name.clone().unwrap_or_else(|| p.accession.clone()),
        ids,
        evidence: vec![Evidence { source: "uniprot".to_owned(), detail, url: Some(p.url.clone()) }],
        source_url: p.url.clone(),
        max_phase: None,
        pchembl: None,
        molecule_type: None,
        first_approval: None,
        smiles: None,
    }
}

/// The ChEMBL target of a UniProt accession: a human single protein first, then any single protein,
/// then whatever ChEMBL lists first (complexes, families).
async fn find_target(upstreams: &Upstreams, protein: &Protein) -> Result<Option<ChemblTarget>, ScrapeError> {
    let params = [("target_components__accession", protein.accession.clone()), ("limit", "20".to_owned())];
    let targets = parse_targets(&upstreams.chembl.get("/target.json", &params).await?)?;
    let single = |t: &&Target| t.target_type.as_deref() == Some("SINGLE PROTEIN");
    let human = |t: &&Target| t.tax_id == Some(HUMAN as f64) || t.organism.as_deref() == Some("Homo sapiens");
    let chosen = targets
        .iter()
        .find(|t| single(t) && human(t))
        .or_else(|| targets.iter().find(single))
        .or_else(|| targets.first());
    Ok(chosen.map(|t| ChemblTarget {
        target_chembl_id: t.target_chembl_id.clone(),
        pref_name: t.pref_name.clone(),
        target_type: t.target_type.clone(),
        organism: t.organism.clone(),
        url: target_url(&t.target_chembl_id),
    }))
}

/// Molecules details by id, in one request.
async fn molecules(upstreams: &Upstreams, ids: &[String]) -> Result<HashMap<String, Molecule>, ScrapeError> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let params = [("molecule_chembl_id__in", ids.join(",")), ("limit", ids.len().to_string())];
    let list = parse_molecules(&upstreams.chembl.get("/molecule.json", &params).await?)?;
    Ok(list.into_iter().map(|m| (m.molecule_chembl_id.clone(), m)).collect())
}

fn phase_text(phase: Option<f64>) -> String {
    match phase {
        Some(p) if p >= 4.0 => "approved (max phase 4)".to_owned(),
        Some(p) if p > 0.0 => format!("clinical, max phase {p}"),
        Some(_) => "preclinical".to_owned(),
        None => "phase unknown".to_owned(),
    }
}

/// Molecules with a mechanism of action on the target, approved first, then by phase.
async fn drugs_for(
    upstreams: &Upstreams,
    target: &ChemblTarget,
    limit: usize,
) -> Result<Vec<Candidate>, ScrapeError> {
    let params = [("target_chembl_id", target.target_chembl_id.clone()), ("limit", "100".to_owned())];
    let mechanisms: Vec<Mechanism> =
        parse_mechanisms(&upstreams.chembl.get("/mechanism.json", &params).await?)?
            .into_iter()
            .filter(|m| m.target_chembl_id.as_deref().is_none_or(|t| t == target.target_chembl_id))
            .collect();
    // One candidate per parent molecule (salts share the parent's mechanism).
    let mut by_molecule: Vec<(String, Vec<Mechanism>)> = Vec::new();
    for m in mechanisms {
        let id = m.parent_molecule_chembl_id.clone().unwrap_or_else(|| m.molecule_chembl_id.clone());
        match by_molecule.iter_mut().find(|(seen, _)| *seen == id) {
            Some((_, list)) => list.push(m),
            None => by_molecule.push((id, vec![m])),
        }
    }
    let phase_of = |list: &[Mechanism]| {
        list.iter()
            .filter_map(|m| m.max_phase)
            .fold(None, |a: Option<f64>, p| Some(a.map_or(p, |a| a.max(p))))
    };
    by_molecule.sort_by(|a, b| {
        phase_of(&b.1).unwrap_or(-1.0).total_cmp(&phase_of(&a.1).unwrap_or(-1.0)).then(a.0.cmp(&b.0))
    });
    by_molecule.truncate(limit);

    let ids: Vec<String> = by_molecule.iter().map(|(id, _)| id.clone()).collect();
    let details = molecules(upstreams, &ids).await?;
    Ok(by_molecule
        .into_iter()
        .map(|(id, list)| {
            let molecule = details.get(&id);
            let max_phase = molecule.and_then(|m| m.max_phase).or_else(|| phase_of(&list));
            let evidence = list
                .iter()
                .map(|m| {
                    let what =
                        m.mechanism_of_action.clone().unwrap_or_else(|| "mechanism of action".to_owned());
                    let action = m.action_type.as_deref().map(|a| format!(" ({a})")).unwrap_or_default();
                    let reference = m.mechanism_refs.iter().find_map(|r| r.ref_url.clone());
                    let mut cited: Vec<&str> = m
                        .mechanism_refs
                        .iter()
                        .filter_map(|r| r.ref_type.as_deref())
                        .collect::<HashSet<_>>()
                        .into_iter()
                        .collect();
                    cited.sort_unstable();
                    let refs = if cited.is_empty() {
                        String::new()
                    } else {
                        format!("; references: {}", cited.join(", "))
                    };
                    Evidence {
                        source: "chembl_mechanism".to_owned(),
                        detail: format!(
                            "{what}{action} on {}; {}{refs}",
                            target.target_chembl_id,
                            phase_text(max_phase)
                        ),
                        url: reference,
                    }
                })
                .collect();
            molecule_candidate(CandidateKind::Drug, &id, molecule, None, evidence, max_phase, None)
        })
        .collect())
}

/// The most potent compounds measured against the target (best pChEMBL per molecule).
async fn compounds_for(
    upstreams: &Upstreams,
    target: &ChemblTarget,
    limit: usize,
) -> Result<Vec<Candidate>, ScrapeError> {
    let params = [
        ("target_chembl_id", target.target_chembl_id.clone()),
        ("pchembl_value__isnull", "false".to_owned()),
        ("order_by", "-pchembl_value".to_owned()),
        ("limit", (limit as u32 * ACTIVITIES_PER_COMPOUND).min(1000).to_string()),
    ];
    let activities = parse_activities(&upstreams.chembl.get("/activity.json", &params).await?)?;
    let mut best: Vec<Activity> = Vec::new();
    for a in activities.into_iter().filter(|a| a.pchembl_value.is_some()) {
        match best.iter_mut().find(|b| b.molecule_chembl_id == a.molecule_chembl_id) {
            Some(b) if a.pchembl_value > b.pchembl_value => *b = a,
            Some(_) => {}
            None => best.push(a),
        }
    }
    best.sort_by(|a, b| {
        b.pchembl_value
            .unwrap_or(0.0)
            .total_cmp(&a.pchembl_value.unwrap_or(0.0))
            .then(a.molecule_chembl_id.cmp(&b.molecule_chembl_id))
    });
    best.truncate(limit);
    Ok(best
        .into_iter()
        .map(|a| {
            let measured = match (&a.standard_type, &a.standard_value) {
                (Some(kind), Some(value)) => {
                    let value = match value {
                        serde_json::Value::String(s) => s.clone(),
                        other => other.to_string(),
                    };
                    format!(
                        "{kind} {}{value}{}",
                        a.standard_relation.as_deref().map(|r| format!("{r} ")).unwrap_or_default(),
                        a.standard_units.as_deref().map(|u| format!(" {u}")).unwrap_or_default()
                    )
                }
                _ => "activity".to_owned(),
            };
            let assay = a.assay_chembl_id.as_deref().map(|x| format!(", assay {x}")).unwrap_or_default();
            let doc = a.document_chembl_id.as_deref().map(|x| format!(", document {x}")).unwrap_or_default();
            let evidence = vec![Evidence {
                source: "chembl_activity".to_owned(),
                detail: format!(
                    "pChEMBL {:.2} ({measured}) against {}{assay}{doc}",
                    a.pchembl_value.unwrap_or_default(),
                    target.target_chembl_id
                ),
                url: a
                    .assay_chembl_id
                    .as_deref()
                    .map(|x| format!("https://www.ebi.ac.uk/chembl/explore/assay/{x}")),
            }];
            let mut c = molecule_candidate(
                CandidateKind::Compound,
                &a.molecule_chembl_id,
                None,
                a.molecule_pref_name.clone(),
                evidence,
                None,
                a.pchembl_value,
            );
            if c.smiles.is_none() {
                c.smiles = a.canonical_smiles.clone();
            }
            c
        })
        .collect())
}

fn molecule_candidate(
    kind: CandidateKind,
    id: &str,
    molecule: Option<&Molecule>,
    name: Option<String>,
    evidence: Vec<Evidence>,
    max_phase: Option<f64>,
    pchembl: Option<f64>,
) -> Candidate {
    let mut ids = BTreeMap::from([("chembl".to_owned(), id.to_owned())]);
    let structures = molecule.and_then(|m| m.molecule_structures.as_ref());
    if let Some(key) = structures.and_then(|s| s.standard_inchi_key.clone()) {
        ids.insert("inchi_key".to_owned(), key);
    }
    Candidate {
        kind,
        name: molecule.and_then(|m| m.pref_name.clone()).or(name).unwrap_or_else(|| id.to_owned()),
        ids,
        evidence,
        source_url: compound_url(id),
        max_phase: max_phase.or_else(|| molecule.and_then(|m| m.max_phase)),
        pchembl,
        molecule_type: molecule.and_then(|m| m.molecule_type.clone()),
        first_approval: molecule.and_then(|m| m.first_approval),
        smiles: structures.and_then(|s| s.canonical_smiles.clone()),
    }
}
