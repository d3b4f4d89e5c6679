//! UniProt REST JSON: an entry (`/uniprotkb/{accession}.json`) and a search page (`/uniprotkb/search`).

use serde::Deserialize;

use crate::biomolecules::model::Protein;
use crate::error::ScrapeError;
use crate::http::Service;

const MAX_STRUCTURES: usize = 20;

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct Entry {
    entry_type: Option<String>,
    primary_accession: Option<String>,
    uni_protkb_id: Option<String>,
    protein_description: Option<Description>,
    genes: Vec<Gene>,
    organism: Option<Organism>,
    sequence: Option<Sequence>,
    comments: Vec<Comment>,
    #[serde(rename = "uniProtKBCrossReferences")]
    cross_references: Vec<CrossReference>,
    inactive_reason: Option<serde_json::Value>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct Description {
    recommended_name: Option<Name>,
    submission_names: Vec<Name>,
    alternative_names: Vec<Name>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct Name {
    full_name: Option<Value>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Value {
    value: String,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct Gene {
    gene_name: Option<Value>,
    synonyms: Vec<Value>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct Organism {
    scientific_name: Option<String>,
    taxon_id: Option<u64>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Sequence {
    length: Option<u64>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct Comment {
    comment_type: String,
    texts: Vec<Value>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct CrossReference {
    database: String,
    id: String,
}

#[derive(Deserialize)]
struct SearchPage {
    #[serde(default)]
    results: Vec<Entry>,
}

/// The web page of an entry.
pub(crate) fn entry_url(accession: &str) -> String {
    format!("https://www.uniprot.org/uniprotkb/{accession}/entry")
}

/// Whether `s` has the form of a UniProtKB accession (e.g. `P15056`, `A0A024R161`).
pub(crate) fn is_accession(s: &str) -> bool {
    let b = s.as_bytes();
    let upper_digit = |c: u8| c.is_ascii_uppercase() || c.is_ascii_digit();
    match b.len() {
        6 if matches!(b[0], b'O' | b'P' | b'Q') => {
            b[1].is_ascii_digit() && b[2..5].iter().all(|&c| upper_digit(c)) && b[5].is_ascii_digit()
        }
        6 | 10 => {
            b[0].is_ascii_uppercase()
                && !matches!(b[0], b'O' | b'P' | b'Q')
                && b[1].is_ascii_digit()
                && b[2..].chunks(4).all(|g| {
                    g.len() == 4
                        && g[0].is_ascii_uppercase()
                        && upper_digit(g[1])
                        && upper_digit(g[2])
                        && g[3].is_ascii_digit()
                })
        }
        _ => false,
    }
}

fn protein(entry: Entry) -> Result<Protein, ScrapeError> {
    let accession = entry
        .primary_accession
        .filter(|a| !a.is_empty())
        .ok_or_else(|| ScrapeError::parse(Service::UniProt, "an entry without primaryAccession"))?;
    let entry_type = entry.entry_type.unwrap_or_default();
    if entry_type.eq_ignore_ascii_case("inactive") || entry.inactive_reason.is_some() {
        return Err(ScrapeError::NotFound {
            service: Service::UniProt,
            what: format!("active entry {accession} (it is obsolete, merged or demerged)"),
        });
    }
    let description = entry.protein_description.unwrap_or_default();
    let full = |n: &Name| n.full_name.as_ref().map(|v| v.value.clone()).filter(|v| !v.is_empty());
    let name = description
        .recommended_name
        .as_ref()
        .and_then(full)
        .or_else(|| description.submission_names.iter().find_map(full));
    let gene = entry.genes.first();
    let function = entry
        .comments
        .iter()
        .filter(|c| c.comment_type == "FUNCTION")
        .flat_map(|c| c.texts.iter().map(|t| t.value.trim()))
        .filter(|t| !t.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    let pdb: Vec<String> =
        entry.cross_references.iter().filter(|x| x.database == "PDB").map(|x| x.id.clone()).collect();
    Ok(Protein {
        url: entry_url(&accession),
        entry_name: entry.uni_protkb_id,
        reviewed: entry_type.to_ascii_lowercase().contains("reviewed")
            && !entry_type.to_ascii_lowercase().contains("unreviewed"),
        name,
        alternative_names: description.alternative_names.iter().filter_map(full).collect(),
        gene: gene.and_then(|g| g.gene_name.as_ref()).map(|v| v.value.clone()),
        gene_synonyms: gene.map(|g| g.synonyms.iter().map(|s| s.value.clone()).collect()).unwrap_or_default(),
        organism: entry.organism.as_ref().and_then(|o| o.scientific_name.clone()),
        taxon_id: entry.organism.as_ref().and_then(|o| o.taxon_id),
        length: entry.sequence.and_then(|s| s.length),
        function: (!function.is_empty()).then_some(function),
        structures_total: pdb.len(),
        structures: pdb.into_iter().take(MAX_STRUCTURES).collect(),
        accession,
    })
}

/// Parses a UniProtKB entry (`/uniprotkb/{accession}.json`). An obsolete entry is `NotFound`.
pub fn parse_protein(body: &[u8]) -> Result<Protein, ScrapeError> {
    let entry: Entry = serde_json::from_slice(body)
        .map_err(|err| ScrapeError::parse(Service::UniProt, format!("UniProt entry JSON: {err}")))?;
    protein(entry)
}

/// Parses a UniProtKB search page into proteins (entries that cannot be read are skipped).
pub(crate) fn parse_search(body: &[u8]) -> Result<Vec<Protein>, ScrapeError> {
    let page: SearchPage = serde_json::from_slice(body)
        .map_err(|err| ScrapeError::parse(Service::UniProt, format!("UniProt search JSON: {err}")))?;
    Ok(page.results.into_iter().filter_map(|e| protein(e).ok()).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accessions() {
        for yes in ["P15056", "Q9Y6K9", "O15350", "A0A024R161", "B2RXH2"] {
            assert!(is_accession(yes), "{yes}");
        }
        for no in ["BRAF", "p15056", "P1505", "P150566", "KRAS", "TP53", "HLA-A", "A0A024R16"] {
            assert!(!is_accession(no), "{no}");
        }
    }
}
