//! Output caps of `trial_get` (a full record can exceed 400 KB; some studies list 400+ sites) and the
//! selection of sections: every capped list says how many items were left out and how to get them.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::error::ScrapeError;
use crate::trials::model::{Trial, Truncation};
use crate::trials::query::TrialSection;

/// How much of a study `trial_get` returns. Each cap has a default and a hard maximum.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct TrialCaps {
    /// Most locations.
    #[serde(default = "defaults::locations")]
    #[schemars(range(max = 10000))]
    pub max_locations: u32,
    /// Most criteria per list.
    #[serde(default = "defaults::criteria")]
    #[schemars(range(max = 1000))]
    pub max_criteria: u32,
    /// Raw criteria characters.
    #[serde(default = "defaults::criteria_chars")]
    #[schemars(range(max = 200000))]
    pub max_criteria_chars: u32,
    /// Most interventions.
    #[serde(default = "defaults::interventions")]
    #[schemars(range(max = 1000))]
    pub max_interventions: u32,
    /// Most arms.
    #[serde(default = "defaults::arms")]
    #[schemars(range(max = 1000))]
    pub max_arms: u32,
    /// Most outcome measures.
    #[serde(default = "defaults::outcomes")]
    #[schemars(range(max = 1000))]
    pub max_outcomes: u32,
}

mod defaults {
    pub(super) fn locations() -> u32 {
        25
    }
    pub(super) fn criteria() -> u32 {
        50
    }
    pub(super) fn criteria_chars() -> u32 {
        4000
    }
    pub(super) fn interventions() -> u32 {
        25
    }
    pub(super) fn arms() -> u32 {
        25
    }
    pub(super) fn outcomes() -> u32 {
        25
    }
}

impl Default for TrialCaps {
    fn default() -> Self {
        Self {
            max_locations: defaults::locations(),
            max_criteria: defaults::criteria(),
            max_criteria_chars: defaults::criteria_chars(),
            max_interventions: defaults::interventions(),
            max_arms: defaults::arms(),
            max_outcomes: defaults::outcomes(),
        }
    }
}

const LIMITS: [(&str, u32); 6] = [
    ("max_locations", 10_000),
    ("max_criteria", 1000),
    ("max_criteria_chars", 200_000),
    ("max_interventions", 1000),
    ("max_arms", 1000),
    ("max_outcomes", 1000),
];

impl TrialCaps {
    /// Checks each cap against its hard maximum.
    pub fn validate(&self) -> Result<(), ScrapeError> {
        let values = [
            self.max_locations,
            self.max_criteria,
            self.max_criteria_chars,
            self.max_interventions,
            self.max_arms,
            self.max_outcomes,
        ];
        for ((name, max), value) in LIMITS.iter().zip(values) {
            if value > *max {
                return Err(ScrapeError::invalid(*name, format!("{value} is above the maximum {max}")));
            }
        }
        Ok(())
    }

    fn max_of(name: &str) -> u32 {
        LIMITS.iter().find(|(n, _)| *n == name).map_or(u32::MAX, |(_, max)| *max)
    }
}

/// Cuts `list` to `cap`, noting what was left out under `field` with a hint naming `param`.
fn cap_list<T>(list: &mut Vec<T>, cap: u32, field: &str, param: &str, notes: &mut Vec<Truncation>) {
    let total = list.len();
    let cap = cap as usize;
    if total <= cap {
        return;
    }
    list.truncate(cap);
    let omitted = total - cap;
    let max = TrialCaps::max_of(param) as usize;
    let hint = if total <= max {
        format!("{omitted} more: call trial_get again with {param}={total} to get all {total}")
    } else {
        format!("{omitted} more: call trial_get again with {param}={max} (the most one call returns)")
    };
    notes.push(Truncation { field: field.to_owned(), omitted: omitted as u64, hint });
}

/// Applies `caps` to `trial`, recording each cut in `trial.truncated`.
pub(crate) fn apply(trial: &mut Trial, caps: &TrialCaps) {
    let mut notes = std::mem::take(&mut trial.truncated);
    cap_list(&mut trial.locations, caps.max_locations, "locations", "max_locations", &mut notes);
    cap_list(
        &mut trial.interventions,
        caps.max_interventions,
        "interventions",
        "max_interventions",
        &mut notes,
    );
    cap_list(&mut trial.arms, caps.max_arms, "arms", "max_arms", &mut notes);
    cap_list(&mut trial.outcomes, caps.max_outcomes, "outcomes", "max_outcomes", &mut notes);
    if let Some(e) = &mut trial.eligibility {
        cap_list(&mut e.inclusion, caps.max_criteria, "eligibility.inclusion", "max_criteria", &mut notes);
        cap_list(&mut e.exclusion, caps.max_criteria, "eligibility.exclusion", "max_criteria", &mut notes);
        cap_list(&mut e.unlabelled, caps.max_criteria, "eligibility.unlabelled", "max_criteria", &mut notes);
        if let Some(text) = &mut e.criteria {
            let total = text.chars().count();
            let cap = caps.max_criteria_chars as usize;
            if total > cap {
                let cut = text.char_indices().nth(cap).map_or(text.len(), |(i, _)| i);
                text.truncate(cut);
                if cap > 0 {
                    text.push('…');
                }
                let omitted = total - cap;
                let hint = format!(
                    "{omitted} more characters of the raw criteria text (its items are in inclusion/exclusion): \
                     call trial_get again with max_criteria_chars={total} to get all of it"
                );
                notes.push(Truncation {
                    field: "eligibility.criteria".to_owned(),
                    omitted: omitted as u64,
                    hint,
                });
                if cap == 0 {
                    e.criteria = None;
                }
            }
        }
    }
    trial.truncated = notes;
}

/// Keeps only what `sections` asked for besides the summary (an upstream may send more than asked).
pub(crate) fn retain_sections(trial: &mut Trial, sections: &[TrialSection]) {
    let has = |s: TrialSection| sections.contains(&s);
    if !has(TrialSection::Eligibility) {
        trial.eligibility = None;
    }
    if !has(TrialSection::Locations) {
        trial.locations.clear();
    }
    if !has(TrialSection::Arms) {
        trial.arms.clear();
        for i in &mut trial.interventions {
            i.description = None;
        }
    }
    if !has(TrialSection::Outcomes) {
        trial.outcomes.clear();
    }
    if !has(TrialSection::Sponsor) {
        trial.sponsor_class = None;
        trial.collaborators.clear();
    }
    if !has(TrialSection::Dates) {
        trial.primary_completion_date = None;
        trial.first_posted = None;
        trial.last_updated = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trials::model::{Eligibility, Location};

    #[test]
    fn caps_cut_lists_and_say_how_to_get_the_rest() {
        let mut trial = Trial {
            nct_id: "NCT00000001".into(),
            locations: vec![Location::default(); 30],
            eligibility: Some(Eligibility {
                criteria: Some("ééééé".into()),
                exclusion: vec!["x".into(); 3],
                ..Eligibility::default()
            }),
            ..Trial::default()
        };
        let caps =
            TrialCaps { max_locations: 10, max_criteria: 2, max_criteria_chars: 2, ..TrialCaps::default() };
        apply(&mut trial, &caps);
        assert_eq!(trial.locations.len(), 10);
        let e = trial.eligibility.as_ref().map(|e| (e.exclusion.len(), e.criteria.clone()));
        assert_eq!(e, Some((2, Some("éé…".to_owned()))));
        let notes: Vec<(String, u64)> =
            trial.truncated.iter().map(|t| (t.field.clone(), t.omitted)).collect();
        assert_eq!(
            notes,
            vec![
                ("locations".to_owned(), 20),
                ("eligibility.exclusion".to_owned(), 1),
                ("eligibility.criteria".to_owned(), 3)
            ]
        );
        assert_eq!(
            trial.truncated[0].hint,
            "20 more: call trial_get again with max_locations=30 to get all 30"
        );
    }

    #[test]
    fn caps_are_bounded() {
        assert!(TrialCaps::default().validate().is_ok());
        let err = TrialCaps { max_locations: 20_000, ..TrialCaps::default() }.validate().err();
        assert_eq!(
            err.map(|e| e.to_string()).as_deref(),
            Some("invalid argument `max_locations`: 20000 is above the maximum 10000")
        );
    }
}
