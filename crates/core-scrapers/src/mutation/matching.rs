//! Mutation → trials: one ClinicalTrials.gov search over the mutation's textual variants that also asks for
//! each study's eligibility text (a candidate whose page lacks it is fetched alone, concurrently), and each
//! trial judged by where the alteration appears. With a place, each trial keeps its sites near it.
//!
//! Inclusion criteria weigh most, then titles, keywords and summary, then conditions. A trial that names
//! the alteration only as an exclusion (an exclusion criterion, `without EGFR L858R`, `EGFR wild-type`)
//! is not a match: it goes to `excluded`, with the sentence that excludes it.

use std::collections::HashMap;

use futures::StreamExt;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::error::ScrapeError;
use crate::http::Upstreams;
use crate::mutation::parse::{Mutation, parse_mutation};
use crate::mutation::summary;
use crate::mutation::text::{self, Hit, Matcher};
use crate::render::ResponseFormat;
use crate::trials::{
    self, Eligibility, GeoFilter, MAX_NEAR_SITES, Place, Source, Trial, TrialSearchParams, TrialSection,
    TrialStatus, Truncation,
};

/// Candidate studies fetched at once per mutation (the upstream's rate limiter paces them anyway).
const FETCH_CONCURRENCY: usize = 8;
/// Most evidence sentences kept per trial, and per section and polarity.
const MAX_EVIDENCE: usize = 6;
const MAX_EVIDENCE_PER_SECTION: usize = 2;
/// The ClinicalTrials.gov search areas the variants are looked for in.
const SEARCH_AREAS: [&str; 5] =
    ["EligibilityCriteria", "BriefTitle", "OfficialTitle", "BriefSummary", "Keyword"];
/// What the search asks for besides each study's summary: every text a study is judged on, so that a
/// candidate is fetched alone only when its page lacks its criteria.
const MATCH_FIELDS: &str = "OfficialTitle,Keyword,EligibilityCriteria,Sex,HealthyVolunteers,StdAge";

/// Filters of `trials_match` and `trials_match_batch`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct MatchFilters {
    /// Statuses (default recruiting and not yet; `[]`: any).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<Vec<String>>,
    /// Phases, e.g. `PHASE2`, `2`, `phase II`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub phase: Vec<String>,
    /// Condition, e.g. `lung cancer`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub condition: Option<String>,
    /// City, state, country or site.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    /// Sites near `lat,lon,radius[km]`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub geo: Option<GeoFilter>,
}

/// Parameters of a `trials_match` tool: the mutation, the filters and the limits, flat.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct TrialsMatchParams {
    /// e.g. `EGFR L858R`, `EGFR p.Leu858Arg`, `EGFR exon 19 deletion`, `ALK fusion`.
    pub mutation: String,
    /// Filters.
    #[serde(flatten)]
    pub filters: MatchFilters,
    /// Limits.
    #[serde(flatten)]
    pub limits: MatchLimits,
}

/// Parameters of a `trials_match_batch` tool: up to 50 mutations sharing filters and limits, flat.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct TrialsMatchBatchParams {
    /// Mutations, each as `trials_match` takes it.
    #[schemars(length(min = 1, max = 50))]
    pub mutations: Vec<String>,
    /// Filters shared by all.
    #[serde(flatten)]
    pub filters: MatchFilters,
    /// Limits shared by all.
    #[serde(flatten)]
    pub limits: MatchLimits,
}

/// The statuses used when `MatchFilters::status` is absent.
pub const DEFAULT_MATCH_STATUS: [TrialStatus; 2] = [TrialStatus::Recruiting, TrialStatus::NotYetRecruiting];

/// Size limits of `trials_match`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct MatchLimits {
    /// Candidate studies examined.
    #[serde(default = "default_candidates")]
    #[schemars(range(min = 1, max = 200))]
    pub max_candidates: u32,
    /// Most matches.
    #[serde(default = "default_results")]
    #[schemars(range(min = 1, max = 200))]
    pub max_results: u32,
    /// Text: `concise` or `detailed`.
    #[serde(default)]
    pub response_format: ResponseFormat,
}

fn default_candidates() -> u32 {
    50
}

fn default_results() -> u32 {
    20
}

impl Default for MatchLimits {
    fn default() -> Self {
        Self {
            max_candidates: default_candidates(),
            max_results: default_results(),
            response_format: ResponseFormat::default(),
        }
    }
}

impl MatchLimits {
    /// Checks both limits (1 to 200).
    pub fn validate(&self) -> Result<(), ScrapeError> {
        for (name, value) in [("max_candidates", self.max_candidates), ("max_results", self.max_results)] {
            if !(1..=200).contains(&value) {
                return Err(ScrapeError::invalid(name, format!("{value} is out of range: give 1 to 200")));
            }
        }
        Ok(())
    }
}

/// Where in a study the evidence was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum EvidenceSection {
    /// An inclusion criterion.
    Inclusion,
    /// An exclusion criterion.
    Exclusion,
    /// A criterion under no inclusion or exclusion heading.
    Criteria,
    /// The brief or the official title.
    Title,
    /// A keyword.
    Keywords,
    /// The brief summary.
    Summary,
    /// A condition.
    Conditions,
}

impl EvidenceSection {
    /// How much a positive mention here weighs (the score of a match is its best weight, plus a little
    /// per further section).
    fn weight(self) -> f64 {
        match self {
            EvidenceSection::Inclusion => 1.0,
            EvidenceSection::Exclusion | EvidenceSection::Criteria => 0.9,
            EvidenceSection::Title => 0.8,
            EvidenceSection::Keywords => 0.7,
            EvidenceSection::Summary => 0.6,
            EvidenceSection::Conditions => 0.5,
        }
    }

    /// The order of exclusion evidence: the exclusion criteria first, where the eligibility rules live.
    fn exclusion_rank(self) -> u8 {
        match self {
            EvidenceSection::Exclusion => 0,
            EvidenceSection::Inclusion => 1,
            EvidenceSection::Criteria => 2,
            EvidenceSection::Title => 3,
            EvidenceSection::Keywords => 4,
            EvidenceSection::Summary => 5,
            EvidenceSection::Conditions => 6,
        }
    }

    fn is_eligibility(self) -> bool {
        matches!(self, EvidenceSection::Inclusion | EvidenceSection::Exclusion | EvidenceSection::Criteria)
    }

    /// The word used in summaries.
    pub fn as_str(self) -> &'static str {
        match self {
            EvidenceSection::Inclusion => "inclusion",
            EvidenceSection::Exclusion => "exclusion",
            EvidenceSection::Criteria => "criteria",
            EvidenceSection::Title => "title",
            EvidenceSection::Keywords => "keywords",
            EvidenceSection::Summary => "summary",
            EvidenceSection::Conditions => "conditions",
        }
    }
}

fn is_false(value: &bool) -> bool {
    !*value
}

/// One sentence of a study about the alteration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Evidence {
    /// Where it was found.
    pub section: EvidenceSection,
    /// The sentence (cut around the mention when long).
    pub sentence: String,
    /// True when the sentence keeps carriers of the alteration out (an exclusion criterion naming it,
    /// `without …`, `… wild-type`, `…-negative`).
    #[serde(default, skip_serializing_if = "is_false")]
    pub excludes: bool,
}

/// A study judged against a mutation: the study (eligibility lists left out; see the evidence) with its
/// score and evidence.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct TrialMatch {
    /// The study.
    #[serde(flatten)]
    pub trial: Trial,
    /// 0 to 1: 1 for a mention in the inclusion criteria, 0.8 in a title, 0.7 keywords, 0.6 summary, 0.5
    /// conditions; +0.05 per further section, -0.1 when some sentence also excludes it; 0 when excluded.
    pub score: f64,
    /// The sentences that name the alteration, strongest first.
    pub evidence: Vec<Evidence>,
}

/// The trials for one mutation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct MutationTrials {
    /// The mutation as understood.
    pub mutation: Mutation,
    /// The ClinicalTrials.gov `query.term` sent (Essie syntax).
    pub query: String,
    /// Studies that name the alteration as eligible, best first.
    pub matches: Vec<TrialMatch>,
    /// Studies that name it only to keep its carriers out, with the sentence that does.
    pub excluded: Vec<TrialMatch>,
    /// Candidates whose fetched text does not name the alteration (the search matched elsewhere).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unconfirmed: Vec<String>,
    /// How many candidate studies were examined.
    pub total_candidates: u32,
    /// How many studies the search found in all, when the upstream said.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total_available: Option<u64>,
    /// What was left out by the limits, and how to get it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub truncated: Vec<Truncation>,
    /// Candidates that could not be fetched in full (judged on their search summary).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
    /// The markdown: counts by phase and status, the matches with their evidence and the sites near the
    /// place asked (concise or detailed, as asked).
    pub summary_markdown: String,
}

/// The `query.term` for a mutation: each search term in each area, OR-ed.
pub fn match_query(mutation: &Mutation) -> String {
    let atoms: Vec<String> = mutation
        .search_terms
        .iter()
        .flat_map(|term| SEARCH_AREAS.iter().map(move |area| format!("AREA[{area}](\"{term}\")")))
        .collect();
    format!("({})", atoms.join(" OR "))
}

/// The search of `trials_match`: the variants' query, the filters, `max_candidates` studies.
pub(crate) fn match_search(
    mutation: &Mutation,
    filters: &MatchFilters,
    limits: &MatchLimits,
) -> TrialSearchParams {
    let status = match &filters.status {
        None => DEFAULT_MATCH_STATUS.iter().map(|s| s.as_str().to_owned()).collect(),
        Some(list) => list.clone(),
    };
    TrialSearchParams {
        condition: filters.condition.clone(),
        term: Some(match_query(mutation)),
        location: filters.location.clone(),
        geo: filters.geo,
        status,
        phase: filters.phase.clone(),
        page_size: Some(limits.max_candidates),
        max_results: Some(limits.max_candidates),
        ..TrialSearchParams::default()
    }
}

/// Checks the filters (so that a batch fails once, up front, on a bad shared filter).
pub(crate) fn validate_filters(filters: &MatchFilters) -> Result<(), ScrapeError> {
    trials::statuses(filters.status.as_deref().unwrap_or_default())?;
    trials::phases(&filters.phase)?;
    trials::text_param("condition", filters.condition.as_deref(), 1000)?;
    trials::text_param("location", filters.location.as_deref(), 1000)?;
    if let Some(geo) = filters.geo {
        trials::geo_param(geo)?;
    }
    Ok(())
}

/// Finds recruiting trials for a mutation such as `EGFR L858R` (see `parse_mutation` for the forms).
///
/// Progress: `(0, None)` while searching, then `(done, Some(candidates))` as eligibility arrives.
pub async fn trials_match(
    upstreams: &Upstreams,
    mutation: &str,
    filters: &MatchFilters,
    limits: &MatchLimits,
    progress: &(dyn Fn(u64, Option<u64>, &str) + Send + Sync),
) -> Result<MutationTrials, ScrapeError> {
    match_with(&Source::direct(&upstreams.ctgov), mutation, filters, limits, progress).await
}

/// `trials_match` through `source` (a batch shares one memoised source).
pub(crate) async fn match_with(
    source: &Source,
    input: &str,
    filters: &MatchFilters,
    limits: &MatchLimits,
    progress: &(dyn Fn(u64, Option<u64>, &str) + Send + Sync),
) -> Result<MutationTrials, ScrapeError> {
    let mutation = parse_mutation(input)?;
    limits.validate()?;
    validate_filters(filters)?;
    let matcher = text::matcher_for(&mutation)
        .map_err(|err| ScrapeError::invalid("mutation", format!("cannot build its text patterns: {err}")))?;
    let params = match_search(&mutation, filters, limits);
    progress(0, None, &format!("searching ClinicalTrials.gov for {}", mutation.label));
    let found = trials::search_with(source, &params, &[MATCH_FIELDS]).await?;
    let candidates = found.trials.len();
    progress(0, Some(candidates as u64), &format!("{candidates} candidates for {}", mutation.label));

    // A candidate whose page carried its criteria is judged as it is; the others are fetched alone.
    let place = Place::new(filters.location.as_deref(), filters.geo);
    let sections: &[TrialSection] = if place.is_some() {
        &[TrialSection::Eligibility, TrialSection::Locations]
    } else {
        &[TrialSection::Eligibility]
    };
    let mut fetches = futures::stream::iter(found.trials)
        .map(|candidate| async move {
            let has_criteria = candidate.eligibility.as_ref().is_some_and(|e| e.criteria.is_some());
            if has_criteria {
                return (candidate, None);
            }
            let full = trials::fetch_study(source, &candidate.nct_id, sections).await;
            (candidate, Some(full))
        })
        .buffer_unordered(FETCH_CONCURRENCY);
    let mut verdicts = Vec::with_capacity(candidates);
    let mut warnings = Vec::new();
    let mut done = 0u64;
    while let Some((candidate, full)) = fetches.next().await {
        done += 1;
        let trial = match full {
            None => candidate,
            Some(Ok(full)) => merge(candidate, full),
            Some(Err(err)) => {
                tracing::warn!(nct_id = %candidate.nct_id, error = %err, "trials_match: eligibility not fetched");
                warnings.push(format!(
                    "{}: eligibility not fetched ({err}); judged on its search summary only",
                    candidate.nct_id
                ));
                candidate
            }
        };
        progress(done, Some(candidates as u64), &trial.nct_id);
        verdicts.push(judge(&matcher, trial));
    }
    drop(fetches);

    let mut result = assemble(mutation, params.term.unwrap_or_default(), verdicts, limits);
    if let Some(place) = &place {
        for m in result.matches.iter_mut().chain(result.excluded.iter_mut()) {
            let how = format!("call trial_get with nct_id {} and the same location or geo", m.trial.nct_id);
            trials::keep_near(&mut m.trial, place, Some(MAX_NEAR_SITES), &how);
        }
    }
    result.total_available = found.total_count;
    if let Some(total) = found.total_count.filter(|total| *total > candidates as u64) {
        result.truncated.insert(
            0,
            Truncation {
                field: "candidates".to_owned(),
                omitted: total - candidates as u64,
                hint: format!(
                    "only the first {candidates} of {total} studies found were examined: raise max_candidates \
                     (at most 200) or narrow with condition, phase, status or location"
                ),
            },
        );
    }
    result.warnings = warnings;
    result.summary_markdown = summary::markdown(&result, limits.response_format);
    metrics::counter!("pipette_trials_match_total").increment(1);
    metrics::histogram!("pipette_trials_match_candidates").record(candidates as f64);
    Ok(result)
}

/// The full record, with what only the search summary had.
fn merge(candidate: Trial, mut full: Trial) -> Trial {
    if full.phases.is_empty() {
        full.phases = candidate.phases;
    }
    if full.conditions.is_empty() {
        full.conditions = candidate.conditions;
    }
    full.overall_status = full.overall_status.or(candidate.overall_status);
    full.brief_summary = full.brief_summary.or(candidate.brief_summary);
    full.brief_title = full.brief_title.or(candidate.brief_title);
    if full.locations.is_empty() {
        full.locations = candidate.locations;
    }
    full
}

/// What a study says about the alteration.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Verdict {
    /// Names it as eligible.
    Match(TrialMatch),
    /// Names it only to keep its carriers out.
    Excluded(TrialMatch),
    /// Does not name it.
    Silent(Trial),
}

/// A criterion with its nested items joined into one line (`parent: child; child`).
fn flatten(item: &str) -> String {
    let mut out = String::new();
    for (i, line) in item.lines().enumerate() {
        let line = line.trim_start().trim_start_matches("- ");
        if i > 0 {
            out.push_str(if out.ends_with(':') { " " } else { "; " });
        }
        out.push_str(line.trim());
    }
    out
}

/// The texts of a study to look in, with their section.
fn texts(trial: &Trial) -> Vec<(EvidenceSection, String)> {
    let mut out = Vec::new();
    if let Some(e) = &trial.eligibility {
        out.extend(e.inclusion.iter().map(|i| (EvidenceSection::Inclusion, flatten(i))));
        out.extend(e.exclusion.iter().map(|i| (EvidenceSection::Exclusion, flatten(i))));
        out.extend(e.unlabelled.iter().map(|i| (EvidenceSection::Criteria, flatten(i))));
    }
    for title in [&trial.brief_title, &trial.official_title].into_iter().flatten() {
        out.push((EvidenceSection::Title, title.clone()));
    }
    out.extend(trial.keywords.iter().map(|k| (EvidenceSection::Keywords, k.clone())));
    if let Some(summary) = &trial.brief_summary {
        out.push((EvidenceSection::Summary, summary.clone()));
    }
    out.extend(trial.conditions.iter().map(|c| (EvidenceSection::Conditions, c.clone())));
    out
}

/// Judges one study (pure).
pub(crate) fn judge(matcher: &Matcher, trial: Trial) -> Verdict {
    let mut support: Vec<Evidence> = Vec::new();
    let mut against: Vec<Evidence> = Vec::new();
    let mut per_section: HashMap<(EvidenceSection, bool), usize> = HashMap::new();
    let mut add = |list: &mut Vec<Evidence>, section: EvidenceSection, hit: Hit, excludes: bool| {
        let count = per_section.entry((section, excludes)).or_default();
        if *count < MAX_EVIDENCE_PER_SECTION && !list.iter().any(|e| e.sentence == hit.sentence) {
            *count += 1;
            list.push(Evidence { section, sentence: hit.sentence, excludes });
        }
    };
    for (section, text) in texts(&trial) {
        if let Some(hit) = matcher.find(&text) {
            match (section, hit.negated) {
                // An exclusion criterion that names it keeps carriers out; one that negates it
                // ("patients without L858R are excluded") asks for it.
                (EvidenceSection::Exclusion, false) => add(&mut against, section, hit, true),
                (EvidenceSection::Exclusion, true) => add(&mut support, section, hit, false),
                (_, false) => add(&mut support, section, hit, false),
                (_, true) => add(&mut against, section, hit, true),
            }
        }
        if section != EvidenceSection::Exclusion
            && let Some(hit) = matcher.find_gene_negative(&text)
        {
            add(&mut against, section, hit, true);
        }
    }
    let strong = support.iter().any(|e| e.section.is_eligibility());
    if strong || (against.is_empty() && !support.is_empty()) {
        support.sort_by(|a, b| b.section.weight().total_cmp(&a.section.weight()));
        let best = support.first().map_or(0.0, |e| e.section.weight());
        let mut sections: Vec<EvidenceSection> = support.iter().map(|e| e.section).collect();
        sections.dedup();
        let mut score = (best + 0.05 * (sections.len().saturating_sub(1)) as f64).min(1.0);
        if !against.is_empty() {
            score -= 0.1;
        }
        let mut evidence = support;
        against.sort_by_key(|e| e.section.exclusion_rank());
        evidence.extend(against);
        evidence.truncate(MAX_EVIDENCE);
        let score = (score * 100.0).round() / 100.0;
        return Verdict::Match(TrialMatch { trial: compact(trial), score, evidence });
    }
    if !against.is_empty() {
        against.sort_by_key(|e| e.section.exclusion_rank());
        let mut evidence = against;
        evidence.extend(support);
        evidence.truncate(MAX_EVIDENCE);
        return Verdict::Excluded(TrialMatch { trial: compact(trial), score: 0.0, evidence });
    }
    Verdict::Silent(trial)
}

/// The study without its eligibility lists and raw criteria (the evidence carries what matters).
fn compact(mut trial: Trial) -> Trial {
    if let Some(e) = &mut trial.eligibility {
        e.criteria = None;
        e.inclusion.clear();
        e.exclusion.clear();
        e.unlabelled.clear();
        if *e == Eligibility::default() {
            trial.eligibility = None;
        }
    }
    trial
}

/// Sorts and caps the verdicts into a result (summary left empty).
pub(crate) fn assemble(
    mutation: Mutation,
    query: String,
    verdicts: Vec<Verdict>,
    limits: &MatchLimits,
) -> MutationTrials {
    let total_candidates = verdicts.len() as u32;
    let mut matches = Vec::new();
    let mut excluded = Vec::new();
    let mut unconfirmed = Vec::new();
    for verdict in verdicts {
        match verdict {
            Verdict::Match(m) => matches.push(m),
            Verdict::Excluded(m) => excluded.push(m),
            Verdict::Silent(t) => unconfirmed.push(t.nct_id),
        }
    }
    let rank = |m: &TrialMatch| TrialStatus::rank(m.trial.overall_status.as_deref());
    matches.sort_by(|a, b| {
        b.score.total_cmp(&a.score).then(rank(a).cmp(&rank(b))).then(a.trial.nct_id.cmp(&b.trial.nct_id))
    });
    excluded.sort_by(|a, b| rank(a).cmp(&rank(b)).then(a.trial.nct_id.cmp(&b.trial.nct_id)));
    unconfirmed.sort();
    let mut truncated = Vec::new();
    let cap = limits.max_results as usize;
    for (field, list) in [("matches", &mut matches), ("excluded", &mut excluded)] {
        if list.len() > cap {
            let omitted = list.len() - cap;
            list.truncate(cap);
            truncated.push(Truncation {
                field: field.to_owned(),
                omitted: omitted as u64,
                hint: format!("{omitted} more: call again with max_results={} (at most 200)", cap + omitted),
            });
        }
    }
    MutationTrials {
        mutation,
        query,
        matches,
        excluded,
        unconfirmed,
        total_candidates,
        total_available: None,
        truncated,
        warnings: Vec::new(),
        summary_markdown: String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trials::parse_study;

    fn matcher(mutation: &str) -> Matcher {
        let m = parse_mutation(mutation).unwrap_or_else(|err| panic!("{mutation}: {err}"));
        Matcher::new(&m).unwrap_or_else(|err| panic!("{err}"))
    }

    fn trial(inclusion: &[&str], exclusion: &[&str], title: &str) -> Trial {
        Trial {
            nct_id: "NCT00000001".into(),
            brief_title: Some(title.into()),
            eligibility: Some(Eligibility {
                inclusion: inclusion.iter().map(|s| (*s).to_owned()).collect(),
                exclusion: exclusion.iter().map(|s| (*s).to_owned()).collect(),
                ..Eligibility::default()
            }),
            ..Trial::default()
        }
    }

    /// `expected`: `match <score>: <section>[!] <sentence> | …`, `excluded: …` or `silent`.
    fn check(mutation: &str, t: Trial, expected: &str) {
        let show = |m: &TrialMatch| {
            m.evidence
                .iter()
                .map(|e| {
                    format!("{}{} {}", e.section.as_str(), if e.excludes { "!" } else { "" }, e.sentence)
                })
                .collect::<Vec<_>>()
                .join(" | ")
        };
        let got = match judge(&matcher(mutation), t) {
            Verdict::Match(m) => format!("match {}: {}", m.score, show(&m)),
            Verdict::Excluded(m) => format!("excluded: {}", show(&m)),
            Verdict::Silent(_) => "silent".to_owned(),
        };
        assert_eq!(got, expected);
    }

    #[test]
    fn where_the_alteration_appears_decides() {
        check("EGFR L858R", trial(&["EGFR L858R"], &[], "A study"), "match 1: inclusion EGFR L858R");
        check(
            "EGFR L858R",
            trial(&["EGFR L858R"], &[], "Osimertinib in EGFR L858R NSCLC"),
            "match 1: inclusion EGFR L858R | title Osimertinib in EGFR L858R NSCLC",
        );
        check(
            "EGFR L858R",
            trial(&[], &[], "Osimertinib in EGFR L858R NSCLC"),
            "match 0.8: title Osimertinib in EGFR L858R NSCLC",
        );
        check(
            "EGFR L858R",
            trial(&["Adults"], &["EGFR L858R mutation"], "A study"),
            "excluded: exclusion! EGFR L858R mutation",
        );
        check(
            "EGFR L858R",
            trial(&["Patients without EGFR L858R"], &[], "A study"),
            "excluded: inclusion! Patients without EGFR L858R",
        );
        check(
            "EGFR L858R",
            trial(&["EGFR wild-type NSCLC"], &[], "A study"),
            "excluded: inclusion! EGFR wild-type NSCLC",
        );
        check(
            "EGFR L858R",
            trial(&[], &["Patients without EGFR L858R"], "A study"),
            "match 0.9: exclusion Patients without EGFR L858R",
        );
        check(
            "EGFR L858R",
            trial(&["Cohort A: EGFR L858R", "Cohort B: EGFR wild-type"], &[], "A study"),
            "match 0.9: inclusion Cohort A: EGFR L858R | inclusion! Cohort B: EGFR wild-type",
        );
        check(
            "EGFR L858R",
            trial(&["Documented EGFR mutation, one of:\n  - exon 19 deletion\n  - L858R"], &[], "A study"),
            "match 1: inclusion Documented EGFR mutation, one of: exon 19 deletion; L858R",
        );
        check("EGFR L858R", trial(&["Adults"], &["Pregnancy"], "A study"), "silent");
        check("KRAS G12C", trial(&["KRAS G12D"], &[], "NRAS G12C study"), "silent");
    }

    #[test]
    fn the_recorded_studies() {
        let read = |name: &str| {
            let bytes = pipette_test_support::fixture(&format!("clinicaltrials/{name}"));
            parse_study(&bytes).unwrap_or_else(|err| panic!("{name}: {err}"))
        };
        check(
            "EGFR L858R",
            read("get_nct06604689_20260811.json"),
            "match 1: inclusion EGFR sensitive mutations: EGFR L858R, EGFR exon 19 deletion",
        );
        check(
            "EGFR L858R",
            read("get_nct06382129_20260811.json"),
            "excluded: exclusion! Patients with EGFR L858R mutation, EGFR 19DEL mutation or EGFR T790M positive | inclusion! Patients with histologically or cytologically confirmed locally advanced or metastatic EGFR wild-type non-small cell lung cancer | title! A Study Comparing BL-B01D1 With Docetaxel in Patients With Unresectable Locally Advanced or Metastatic EGFR Wild-type Non-small Cell Lung Cancer(PANKU-Lung02) | summary! …randomized, open-label, multicenter study to evaluate the efficacy and safety of BL-B01D1 in patients with locally advanced or metastatic EGFR wild-type non-small cell lung cancer after failure of anti-PD-1/PD-L1 monoclonal antibodies and platinum-based chemotherapy.",
        );
        check(
            "EGFR exon 19 deletion",
            read("get_nct06382129_20260811.json"),
            "excluded: exclusion! Patients with EGFR L858R mutation, EGFR 19DEL mutation or EGFR T790M positive | inclusion! Patients with histologically or cytologically confirmed locally advanced or metastatic EGFR wild-type non-small cell lung cancer | title! A Study Comparing BL-B01D1 With Docetaxel in Patients With Unresectable Locally Advanced or Metastatic EGFR Wild-type Non-small Cell Lung Cancer(PANKU-Lung02) | summary! …randomized, open-label, multicenter study to evaluate the efficacy and safety of BL-B01D1 in patients with locally advanced or metastatic EGFR wild-type non-small cell lung cancer after failure of anti-PD-1/PD-L1 monoclonal antibodies and platinum-based chemotherapy.",
        );
    }

    #[test]
    fn the_query_ors_every_term_in_every_area() {
        let m = parse_mutation("EGFR L858R").unwrap_or_else(|err| panic!("{err}"));
        assert_eq!(
            match_query(&m),
            "(AREA[EligibilityCriteria](\"L858R\") OR AREA[BriefTitle](\"L858R\") OR AREA[OfficialTitle](\"L858R\") \
             OR AREA[BriefSummary](\"L858R\") OR AREA[Keyword](\"L858R\") OR AREA[EligibilityCriteria](\"Leu858Arg\") \
             OR AREA[BriefTitle](\"Leu858Arg\") OR AREA[OfficialTitle](\"Leu858Arg\") OR AREA[BriefSummary](\"Leu858Arg\") \
             OR AREA[Keyword](\"Leu858Arg\"))"
        );
        let params = match_search(&m, &MatchFilters::default(), &MatchLimits::default());
        assert_eq!(params.status, ["RECRUITING", "NOT_YET_RECRUITING"]);
        assert_eq!((params.page_size, params.max_results), (Some(50), Some(50)));
        let any = MatchFilters { status: Some(Vec::new()), ..MatchFilters::default() };
        assert!(match_search(&m, &any, &MatchLimits::default()).status.is_empty());
    }

    #[test]
    fn limits_and_filters_are_checked() {
        let err = MatchLimits { max_candidates: 0, max_results: 5, ..MatchLimits::default() }
            .validate()
            .err()
            .map(|e| e.to_string());
        assert_eq!(
            err.as_deref(),
            Some("invalid argument `max_candidates`: 0 is out of range: give 1 to 200")
        );
        let bad = MatchFilters { status: Some(vec!["open".into()]), ..MatchFilters::default() };
        assert!(validate_filters(&bad).err().is_some_and(|e| e.to_string().contains("`status`")));
        let bad = MatchFilters { phase: vec!["5".into()], ..MatchFilters::default() };
        assert!(validate_filters(&bad).err().is_some_and(|e| e.to_string().contains("`phase`")));
    }

    #[test]
    fn tool_parameters_take_defaults_and_have_a_schema() {
        let params: TrialsMatchParams = serde_json::from_str(
            r#"{"mutation": "EGFR L858R", "condition": "lung cancer", "max_results": 5}"#,
        )
        .unwrap_or_else(|err| panic!("{err}"));
        assert_eq!(params.filters.condition.as_deref(), Some("lung cancer"));
        assert_eq!(params.filters.status, None, "absent status means the default statuses");
        assert_eq!(
            params.limits,
            MatchLimits { max_candidates: 50, max_results: 5, ..MatchLimits::default() }
        );
        let batch: TrialsMatchBatchParams =
            serde_json::from_str(r#"{"mutations": ["KRAS G12C"], "status": []}"#)
                .unwrap_or_else(|err| panic!("{err}"));
        assert_eq!(batch.filters.status, Some(Vec::new()));
        let schema = serde_json::to_value(schemars::schema_for!(TrialsMatchParams)).unwrap_or_default();
        let properties = schema.get("properties").cloned().unwrap_or_default();
        for name in
            ["mutation", "status", "phase", "condition", "location", "geo", "max_candidates", "max_results"]
        {
            assert!(properties.get(name).is_some(), "{name} missing from {schema}");
        }
    }
}
