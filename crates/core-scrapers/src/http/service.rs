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
    /// Europe PMC REST (search, full text).
    #[serde(rename = "europepmc")]
    EuropePmc,
    /// NCBI PubMed Central: web pages, OAI-PMH, the OA service, the ID converter.
    #[serde(rename = "pmc")]
    Pmc,
    /// The PMC Article Datasets bucket (AWS Open Data).
    #[serde(rename = "pmc_s3")]
    PmcDatasets,
    /// The DOI resolver and the publishers' landing pages it leads to.
    #[serde(rename = "doi")]
    Doi,
}

impl Service {
    /// Every service, in a stable order.
    pub const ALL: [Service; 8] = [
        Service::PubMed,
        Service::ClinicalTrials,
        Service::UniProt,
        Service::Chembl,
        Service::EuropePmc,
        Service::Pmc,
        Service::PmcDatasets,
        Service::Doi,
    ];

    /// The short name used in cache scopes, metrics labels and JSON: `pubmed`, `ctgov`, `uniprot`, `chembl`,
    /// `europepmc`, `pmc`, `pmc_s3`, `doi`.
    pub fn as_str(self) -> &'static str {
        match self {
            Service::PubMed => "pubmed",
            Service::ClinicalTrials => "ctgov",
            Service::UniProt => "uniprot",
            Service::Chembl => "chembl",
            Service::EuropePmc => "europepmc",
            Service::Pmc => "pmc",
            Service::PmcDatasets => "pmc_s3",
            Service::Doi => "doi",
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
            Service::EuropePmc => "Europe PMC",
            Service::Pmc => "PubMed Central (NCBI)",
            Service::PmcDatasets => "PMC Article Datasets (AWS)",
            Service::Doi => "the DOI resolver / publisher site",
        })
    }
}
