//! ChEMBL REST JSON: targets, mechanisms, molecules and activities (numbers arrive as numbers or strings).

use serde::{Deserialize, Deserializer, Serialize};

use crate::error::ScrapeError;
use crate::http::Service;

/// A number that ChEMBL may send as `4`, `4.0`, `"4.0"` or `null`.
fn flex_f64<'de, D: Deserializer<'de>>(de: D) -> Result<Option<f64>, D::Error> {
    Ok(match Option::<serde_json::Value>::deserialize(de)? {
        Some(serde_json::Value::Number(n)) => n.as_f64(),
        Some(serde_json::Value::String(s)) => s.trim().parse().ok(),
        _ => None,
    })
}

fn flex_i32<'de, D: Deserializer<'de>>(de: D) -> Result<Option<i32>, D::Error> {
    Ok(flex_f64(de)?.filter(|v| v.fract() == 0.0 && v.abs() < 1e9).map(|v| v as i32))
}

/// The web page of a compound.
pub(crate) fn compound_url(chembl_id: &str) -> String {
    format!("https://www.ebi.ac.uk/chembl/explore/compound/{chembl_id}")
}

/// The web page of a target.
pub(crate) fn target_url(chembl_id: &str) -> String {
    format!("https://www.ebi.ac.uk/chembl/explore/target/{chembl_id}")
}

fn parse<T: for<'de> Deserialize<'de>>(body: &[u8], what: &str) -> Result<T, ScrapeError> {
    let mut de = serde_json::Deserializer::from_slice(body);
    serde_path_to_error::deserialize(&mut de).map_err(|err| {
        ScrapeError::parse(Service::Chembl, format!("{what} JSON at `{}`: {}", err.path(), err.inner()))
    })
}

#[derive(Debug, Clone, Deserialize)]
pub(crate) struct Target {
    pub(crate) target_chembl_id: String,
    #[serde(default)]
    pub(crate) pref_name: Option<String>,
    #[serde(default)]
    pub(crate) target_type: Option<String>,
    #[serde(default)]
    pub(crate) organism: Option<String>,
    #[serde(default, deserialize_with = "flex_f64")]
    pub(crate) tax_id: Option<f64>,
}

#[derive(Deserialize)]
struct Targets {
    #[serde(default)]
    targets: Vec<Target>,
}

pub(crate) fn parse_targets(body: &[u8]) -> Result<Vec<Target>, ScrapeError> {
    Ok(parse::<Targets>(body, "target")?.targets)
}

/// A mechanism of action: a molecule acting on a target.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Mechanism {
    pub molecule_chembl_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent_molecule_chembl_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_chembl_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mechanism_of_action: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action_type: Option<String>,
    #[serde(default, deserialize_with = "flex_f64", skip_serializing_if = "Option::is_none")]
    pub max_phase: Option<f64>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub mechanism_refs: Vec<MechanismRef>,
}

/// A reference of a mechanism (an FDA label, a paper, …).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct MechanismRef {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ref_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ref_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ref_url: Option<String>,
}

#[derive(Deserialize)]
struct Mechanisms {
    #[serde(default)]
    mechanisms: Vec<Mechanism>,
}

/// Parses a `mechanism.json` page.
pub fn parse_mechanisms(body: &[u8]) -> Result<Vec<Mechanism>, ScrapeError> {
    Ok(parse::<Mechanisms>(body, "mechanism")?.mechanisms)
}

#[derive(Debug, Clone, Deserialize)]
pub(crate) struct Molecule {
    pub(crate) molecule_chembl_id: String,
    #[serde(default)]
    pub(crate) pref_name: Option<String>,
    #[serde(default, deserialize_with = "flex_f64")]
    pub(crate) max_phase: Option<f64>,
    #[serde(default)]
    pub(crate) molecule_type: Option<String>,
    #[serde(default, deserialize_with = "flex_i32")]
    pub(crate) first_approval: Option<i32>,
    #[serde(default)]
    pub(crate) molecule_structures: Option<Structures>,
}

#[derive(Debug, Clone, Deserialize)]
pub(crate) struct Structures {
    #[serde(default)]
    pub(crate) canonical_smiles: Option<String>,
    #[serde(default)]
    pub(crate) standard_inchi_key: Option<String>,
}

#[derive(Deserialize)]
struct Molecules {
    #[serde(default)]
    molecules: Vec<Molecule>,
}

pub(crate) fn parse_molecules(body: &[u8]) -> Result<Vec<Molecule>, ScrapeError> {
    Ok(parse::<Molecules>(body, "molecule")?.molecules)
}

#[derive(Debug, Clone, Deserialize)]
pub(crate) struct Activity {
    pub(crate) molecule_chembl_id: String,
    #[serde(default)]
    pub(crate) molecule_pref_name: Option<String>,
    #[serde(default)]
    pub(crate) canonical_smiles: Option<String>,
    #[serde(default, deserialize_with = "flex_f64")]
    pub(crate) pchembl_value: Option<f64>,
    #[serde(default)]
    pub(crate) standard_type: Option<String>,
    #[serde(default)]
    pub(crate) standard_relation: Option<String>,
    #[serde(default)]
    pub(crate) standard_value: Option<serde_json::Value>,
    #[serde(default)]
    pub(crate) standard_units: Option<String>,
    #[serde(default)]
    pub(crate) assay_chembl_id: Option<String>,
    #[serde(default)]
    pub(crate) document_chembl_id: Option<String>,
}

#[derive(Deserialize)]
struct Activities {
    #[serde(default)]
    activities: Vec<Activity>,
}

pub(crate) fn parse_activities(body: &[u8]) -> Result<Vec<Activity>, ScrapeError> {
    Ok(parse::<Activities>(body, "activity")?.activities)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_arrive_in_any_form() {
        let body = br#"{"molecules":[
            {"molecule_chembl_id":"A","max_phase":"4.0","first_approval":2011},
            {"molecule_chembl_id":"B","max_phase":2,"first_approval":null},
            {"molecule_chembl_id":"C","max_phase":null,"first_approval":"1999"}]}"#;
        let m = parse_molecules(body).expect("parses");
        let got: Vec<(Option<f64>, Option<i32>)> =
            m.iter().map(|m| (m.max_phase, m.first_approval)).collect();
        assert_eq!(got, vec![(Some(4.0), Some(2011)), (Some(2.0), None), (None, Some(1999))]);
        let err = parse_activities(br#"{"activities":[{"pchembl_value":"9"}]}"#).expect_err("no id");
        assert!(err.to_string().contains("activities[0]"), "{err}");
    }
}
