//! The trial record (`Trial` and its parts) and the search result, as returned to callers.
//!
//! Every `Option` is left out of the JSON when it is `None`, every empty list when it is empty: a search
//! result carries the same `Trial` type with fewer fields filled.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// One clinical study from ClinicalTrials.gov.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Trial {
    /// The NCT number, e.g. `NCT06604689`.
    pub nct_id: String,
    /// The short public title.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub brief_title: Option<String>,
    /// The full scientific title.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub official_title: Option<String>,
    /// The overall recruitment status, e.g. `RECRUITING`, `COMPLETED`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub overall_status: Option<String>,
    /// The phases, e.g. `["PHASE1", "PHASE2"]` for a phase 1/2 study; `NA` when not applicable.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub phases: Vec<String>,
    /// `INTERVENTIONAL`, `OBSERVATIONAL` or `EXPANDED_ACCESS`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub study_type: Option<String>,
    /// The conditions studied.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<String>,
    /// Keywords given by the sponsor.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub keywords: Vec<String>,
    /// The interventions (drugs, devices, procedures…).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub interventions: Vec<Intervention>,
    /// The arms (groups of participants and what they receive).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub arms: Vec<Arm>,
    /// Primary, secondary and other outcome measures.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub outcomes: Vec<Outcome>,
    /// The lead sponsor.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sponsor: Option<String>,
    /// The lead sponsor's class: `INDUSTRY`, `NIH`, `OTHER`, …
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sponsor_class: Option<String>,
    /// Collaborating organisations.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub collaborators: Vec<String>,
    /// The (anticipated or actual) number of participants.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enrollment: Option<u64>,
    /// The brief summary.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub brief_summary: Option<String>,
    /// Study start, `YYYY-MM` or `YYYY-MM-DD`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_date: Option<String>,
    /// Primary completion (last participant's primary outcome), `YYYY-MM[-DD]`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub primary_completion_date: Option<String>,
    /// Study completion, `YYYY-MM[-DD]`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completion_date: Option<String>,
    /// First posted on ClinicalTrials.gov, `YYYY-MM-DD`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_posted: Option<String>,
    /// Last update posted on ClinicalTrials.gov, `YYYY-MM-DD`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_updated: Option<String>,
    /// Who may take part.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub eligibility: Option<Eligibility>,
    /// The study sites; only those near `locations_near` when a place was given.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub locations: Vec<Location>,
    /// The place the sites were chosen by (`location` text, `geo` radius), nearest first; absent when
    /// `locations` lists sites anywhere.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub locations_near: Option<String>,
    /// The study page on ClinicalTrials.gov.
    pub url: String,
    /// The lists and texts that were cut to the output caps, how much was left out and how to get it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub truncated: Vec<Truncation>,
}

/// One intervention of a study.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Intervention {
    /// `DRUG`, `BIOLOGICAL`, `DEVICE`, `PROCEDURE`, `RADIATION`, `BEHAVIORAL`, `OTHER`, …
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// The intervention's name.
    pub name: String,
    /// Other names (brand names, codes).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub other_names: Vec<String>,
    /// What it is (only with the `arms` section).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// One arm (group) of a study.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Arm {
    /// The arm's label.
    pub label: String,
    /// `EXPERIMENTAL`, `ACTIVE_COMPARATOR`, `PLACEBO_COMPARATOR`, …
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// What the arm receives.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The interventions given in this arm, as `TYPE: name`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub interventions: Vec<String>,
}

/// Which list an outcome measure belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum OutcomeKind {
    /// A primary outcome.
    Primary,
    /// A secondary outcome.
    Secondary,
    /// Another pre-specified outcome.
    Other,
}

/// One outcome measure.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Outcome {
    /// Primary, secondary or other.
    pub kind: OutcomeKind,
    /// What is measured.
    pub measure: String,
    /// When it is measured.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_frame: Option<String>,
    /// How it is measured.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// Who may take part in a study.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Eligibility {
    /// The eligibility criteria as written (may be cut to `max_criteria_chars`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub criteria: Option<String>,
    /// Inclusion criteria, one entry per criterion; nested sub-items follow their parent on lines
    /// starting with `  - `.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub inclusion: Vec<String>,
    /// Exclusion criteria, one entry per criterion (nested sub-items as in `inclusion`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub exclusion: Vec<String>,
    /// Criteria written under no inclusion or exclusion heading.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unlabelled: Vec<String>,
    /// `ALL`, `FEMALE` or `MALE`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sex: Option<String>,
    /// e.g. `18 Years`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub minimum_age: Option<String>,
    /// e.g. `75 Years`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub maximum_age: Option<String>,
    /// Whether healthy volunteers are accepted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub healthy_volunteers: Option<bool>,
    /// Age groups: `CHILD`, `ADULT`, `OLDER_ADULT`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub std_ages: Vec<String>,
}

/// One study site.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Location {
    /// The facility's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub facility: Option<String>,
    /// City.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub city: Option<String>,
    /// State or region.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    /// Postal code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zip: Option<String>,
    /// Country.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    /// The site's recruitment status.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// Latitude.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lat: Option<f64>,
    /// Longitude.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lon: Option<f64>,
    /// Distance from the point asked for (`geo`), in km, when the site's coordinates are known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub distance_km: Option<f64>,
}

/// A list or text cut to an output cap.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Truncation {
    /// The field that was cut, e.g. `locations` or `eligibility.exclusion`.
    pub field: String,
    /// How many items (or characters, for texts) were left out.
    pub omitted: u64,
    /// How to get them.
    pub hint: String,
}

/// One page of search results, as parsed from one answer.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct SearchPage {
    /// The studies of this page.
    pub trials: Vec<Trial>,
    /// The number of studies matching the query (first page only, with `countTotal=true`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total_count: Option<u64>,
    /// The token of the next page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_page_token: Option<String>,
}

/// The result of `trials_search`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct TrialSearchResult {
    /// The studies found, in the upstream's order (at most `max_results`).
    pub trials: Vec<Trial>,
    /// How many studies match in all, when the upstream said so (it does on a first page only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total_count: Option<u64>,
    /// Pass this as `page_token` (with the same other parameters) to continue; absent at the end.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_page_token: Option<String>,
    /// How many pages were fetched.
    pub pages: u32,
}

/// The public page of a study.
pub(crate) fn study_url(nct_id: &str) -> String {
    format!("https://clinicaltrials.gov/study/{nct_id}")
}
