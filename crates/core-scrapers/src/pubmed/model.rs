//! The PubMed result shapes (serde JSON as documented for the tools and the index schemas).

use serde::{Deserialize, Serialize};

/// One PubMed article. `Option`s are absent from the JSON when `None`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Article {
    pub pmid: String,
    pub title: String,
    /// Every abstract section joined by blank lines, labelled sections as `LABEL: text`.
    #[serde(rename = "abstract", default, skip_serializing_if = "Option::is_none")]
    pub abstract_text: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub abstract_sections: Vec<AbstractSection>,
    #[serde(default)]
    pub authors: Vec<Author>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub journal: Option<Journal>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pub_date: Option<PubDate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub doi: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pmcid: Option<String>,
    #[serde(default)]
    pub mesh: Vec<MeshHeading>,
    #[serde(default)]
    pub publication_types: Vec<String>,
    #[serde(default)]
    pub keywords: Vec<String>,
}

impl Article {
    /// The article's PubMed page.
    pub fn url(&self) -> String {
        format!("https://pubmed.ncbi.nlm.nih.gov/{}/", self.pmid)
    }
}

/// One section of a structured abstract (`label` is absent for an unstructured abstract).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct AbstractSection {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    pub text: String,
}

/// An author: a person ("ForeName LastName") or a collective (group) name.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Author {
    pub name: String,
    /// Affiliations joined by "; ".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub affiliation: Option<String>,
    /// ORCID as `0000-0000-0000-0000`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub orcid: Option<String>,
    /// True for a group author (`CollectiveName`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub collective: bool,
}

/// The journal issue an article appeared in.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Journal {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iso_abbreviation: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub volume: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issue: Option<String>,
}

/// A publication date: as structured as the record allows (`Year`/`Month`/`Day`, a `Season`, or a free
/// `MedlineDate` such as "1998 Dec-1999 Jan"), plus the text form.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct PubDate {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub year: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub month: Option<u8>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub day: Option<u8>,
    pub text: String,
}

/// A MeSH heading. `major_topic` is true when the descriptor or any of its qualifiers is a major topic.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct MeshHeading {
    pub descriptor: String,
    #[serde(default)]
    pub qualifiers: Vec<String>,
    pub major_topic: bool,
}
