//! The biomolecule result shapes: a resolved protein, a ChEMBL target, and candidates with their evidence.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::http::Service;

/// What to discover for a target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// Reviewed human UniProt entries (the target itself first).
    Proteins,
    /// The most potent bioactive compounds against the target (ChEMBL activities by pChEMBL).
    Compounds,
    /// Molecules with a known mechanism of action on the target (ChEMBL mechanisms), approved first.
    Drugs,
}

impl Kind {
    pub const ALL: [Kind; 3] = [Kind::Proteins, Kind::Compounds, Kind::Drugs];
}

/// A UniProtKB entry, reduced to what research needs.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Protein {
    pub accession: String,
    /// e.g. `BRAF_HUMAN`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entry_name: Option<String>,
    /// Swiss-Prot (reviewed) rather than TrEMBL.
    pub reviewed: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub alternative_names: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gene: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub gene_synonyms: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organism: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub taxon_id: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub length: Option<u64>,
    /// The FUNCTION comment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub function: Option<String>,
    /// PDB structure ids (at most 20; `structures_total` says how many there are).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub structures: Vec<String>,
    #[serde(default)]
    pub structures_total: usize,
    pub url: String,
}

/// The ChEMBL target a protein maps to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ChemblTarget {
    pub target_chembl_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pref_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organism: Option<String>,
    pub url: String,
}

/// The type of a candidate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum CandidateKind {
    Protein,
    Compound,
    Drug,
}

/// Why a candidate is listed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Evidence {
    /// `uniprot`, `chembl_mechanism` or `chembl_activity`.
    pub source: String,
    pub detail: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

/// One discovered protein, compound or drug.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Candidate {
    #[serde(rename = "type")]
    pub kind: CandidateKind,
    pub name: String,
    /// Identifiers by namespace: `uniprot`, `chembl`, `inchi_key`, `gene`.
    pub ids: BTreeMap<String, String>,
    pub evidence: Vec<Evidence>,
    /// The page a person can open to check it.
    pub source_url: String,
    /// Highest clinical phase reached (4 = approved), for compounds and drugs when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_phase: Option<f64>,
    /// Best pChEMBL value against the target (compounds).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pchembl: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub molecule_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_approval: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub smiles: Option<String>,
}

/// The result of a discovery: the resolved target and the candidates of each requested kind.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Discovery {
    /// The target as asked.
    pub query: String,
    /// The reviewed human UniProt entry it resolved to.
    pub protein: Protein,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chembl_target: Option<ChemblTarget>,
    pub proteins: Vec<Candidate>,
    pub compounds: Vec<Candidate>,
    pub drugs: Vec<Candidate>,
    /// What could not be found or was left out, in words.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    /// The sources that failed: what they could not give, and why. The rest of the result stands.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub source_errors: Vec<SourceError>,
}

/// One source of a multi-source result that failed: which service, at which step, and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct SourceError {
    /// `uniprot` or `chembl`.
    pub service: Service,
    /// What was being asked of it, e.g. `target lookup (/target.json)`.
    pub step: String,
    /// The error kind (`not_found`, `upstream`, `timeout`, …).
    pub kind: String,
    /// Why, in words, and what to do.
    pub message: String,
    /// Whether the same call may succeed later.
    pub retryable: bool,
}
