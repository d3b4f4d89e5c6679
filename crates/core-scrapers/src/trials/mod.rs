//! ClinicalTrials.gov API v2: search with paging, single-trial fetch, eligibility parsing.
//!
//! Pure parts (request building, parsing, criteria splitting, caps) are separate from the thin fetching
//! layer in `client`, so that every request and every parse is testable without a network.

mod caps;
mod client;
mod criteria;
mod model;
mod near;
mod parse;
mod query;
pub(crate) mod render;

pub use caps::TrialCaps;
pub use client::{TrialGetParams, trial_get, trials_search};
pub use model::{
    Arm, Eligibility, Intervention, Location, Outcome, OutcomeKind, SearchPage, Trial, TrialSearchResult,
    Truncation,
};
pub use parse::{parse_search, parse_study};
pub use query::{
    DEFAULT_MAX_RESULTS, DistanceUnit, GeoFilter, MAX_PAGE_SIZE, MAX_RESULTS, Phase, TrialSearchParams,
    TrialSection, TrialStatus, normalize_nct,
};

pub(crate) use client::{MAX_NEAR_SITES, Source, fetch_study, search_with};
pub(crate) use near::{Place, keep_near};
pub(crate) use query::{geo_param, phases, statuses, text_param};

/// The criteria splitter, for the mutation module's robustness tests.
#[cfg(test)]
pub(crate) fn criteria_split_for_tests(text: &str) -> usize {
    let c = criteria::split(text);
    c.inclusion.len() + c.exclusion.len() + c.unlabelled.len()
}
