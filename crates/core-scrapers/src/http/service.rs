//! The upstream services pipette talks to, as a closed enum.

use std::fmt;

/// An upstream service.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    serde::Serialize,
    serde::Deserialize,
    schemars::JsonSchema,
)]
pub enum Service {
    /// NCBI E-utilities (PubMed).
    #[serde(rename = "pubmed")]
    PubMed,
    /// ClinicalTrials.gov API v2.
    #[serde(rename = "ctgov")]
    ClinicalTrials,
    /// UniProt REST.
    #[serde(rename = "uniprot")]
    UniProt,
    /// ChEMBL REST.
    #[serde(rename = "chembl")]
    Chembl,
}

impl Service {
    /// Every service, in a stable order.
    pub const ALL: [Service; 4] =
        [Service::PubMed, Service::ClinicalTrials, Service::UniProt, Service::Chembl];

    /// The short name used in cache scopes, metrics labels and JSON: `pubmed`, `ctgov`, `uniprot`, `chembl`.
    pub fn as_str(self) -> &'static str {
        match self {
            Service::PubMed => "pubmed",
            Service::ClinicalTrials => "ctgov",
            Service::UniProt => "uniprot",
            Service::Chembl => "chembl",
        }
    }
}

impl fmt::Display for Service {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Service::PubMed => "PubMed (NCBI E-utilities)",
            Service::ClinicalTrials => "ClinicalTrials.gov",
            Service::UniProt => "UniProt",
            Service::Chembl => "ChEMBL",
        })
    }
}
