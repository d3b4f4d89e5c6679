//! Cache warming: match a list of well-known mutations (configurable) so that their ClinicalTrials.gov
//! searches and eligibility records are in the cache before anyone asks.
//!
//! | variable | default | meaning |
//! |---|---|---|
//! | `PIPETTE_WARM_MUTATIONS` | [`DEFAULT_WARM_MUTATIONS`] | comma-separated mutations `warm` uses when given none |
//! | `PIPETTE_WARM_TRENDING` | `20` | how many of the most asked mutations (last 24 h) `warm` takes first; `0`: none |
//!
//! Trending: every mutation asked of the research tools is counted ([`count_asked`]) in the cache's shared
//! store (Redis when configured, so every process counts into one tally; else this process). `warm` given no
//! list warms the most asked of the last 24 h first, most asked first, then the configured list.

use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use crate::error::ScrapeError;
use crate::http::Upstreams;
use crate::mutation::{EntryError, MatchFilters, MatchLimits, trials_match_batch};

/// Well-known actionable alterations, one per common trial population.
pub const DEFAULT_WARM_MUTATIONS: [&str; 12] = [
    "EGFR L858R",
    "EGFR exon 19 deletion",
    "EGFR T790M",
    "EGFR exon 20 insertion",
    "KRAS G12C",
    "KRAS G12D",
    "BRAF V600E",
    "ALK fusion",
    "ROS1 fusion",
    "MET exon 14 skipping",
    "ERBB2 amplification",
    "PIK3CA H1047R",
];

const ENV: &str = "PIPETTE_WARM_MUTATIONS";
const TRENDING_ENV: &str = "PIPETTE_WARM_TRENDING";
/// The tally the asked mutations are counted under.
pub const TREND: &str = "mutation";
/// How many trending mutations `warm` takes by default.
pub const DEFAULT_TRENDING: usize = 20;

/// Counts mutations asked of a research tool, for trending (one count per distinct mutation of the call,
/// trimmed; over-long ones are not counted).
pub async fn count_asked(cache: &core_cache::Cache, mutations: &[&str]) {
    let mut done: Vec<&str> = Vec::new();
    for m in mutations.iter().map(|m| m.trim()).take(50) {
        if !m.is_empty() && m.len() <= MAX_MUTATION_BYTES && !done.contains(&m) {
            done.push(m);
            cache.count(TREND, m).await;
        }
    }
}

/// The longest mutation `warm` accepts, in bytes (a gene and an alteration are a few dozen).
pub const MAX_MUTATION_BYTES: usize = 200;

/// Refuses mutations over [`MAX_MUTATION_BYTES`], naming the parameter and the item, never quoting it.
fn check_lengths(name: &str, mutations: &[String]) -> Result<(), ScrapeError> {
    match mutations.iter().position(|m| m.len() > MAX_MUTATION_BYTES) {
        None => Ok(()),
        Some(i) => Err(ScrapeError::invalid(
            name,
            format!(
                "mutation {} is {} bytes; each is at most {MAX_MUTATION_BYTES} bytes: a gene and an \
                 alteration such as `EGFR L858R`",
                i + 1,
                mutations[i].len()
            ),
        )),
    }
}

/// Which mutations `warm` uses by default.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WarmConfig {
    pub mutations: Vec<String>,
    /// Whether `mutations` came from `PIPETTE_WARM_MUTATIONS` (else the built-in list).
    pub configured: bool,
    /// How many trending mutations to take first.
    pub trending: usize,
}

impl Default for WarmConfig {
    fn default() -> Self {
        Self {
            mutations: DEFAULT_WARM_MUTATIONS.iter().map(|m| (*m).to_owned()).collect(),
            configured: false,
            trending: DEFAULT_TRENDING,
        }
    }
}

impl WarmConfig {
    /// The defaults, or `PIPETTE_WARM_MUTATIONS` (comma-separated) when set; a list with no mutation in it
    /// is an `InvalidArgument` naming the variable.
    pub fn from_env() -> Result<Self, ScrapeError> {
        let mut config = match std::env::var(ENV) {
            Ok(raw) => Self::parse(&raw)?,
            Err(_) => Self::default(),
        };
        if let Ok(raw) = std::env::var(TRENDING_ENV) {
            config.trending = raw.trim().parse().map_err(|_| {
                ScrapeError::invalid(
                    TRENDING_ENV,
                    format!(
                        "is `{}`; expected a count such as 20 (0: none)",
                        raw.chars().take(40).collect::<String>()
                    ),
                )
            })?;
        }
        Ok(config)
    }

    fn parse(raw: &str) -> Result<Self, ScrapeError> {
        let mutations: Vec<String> =
            raw.split(',').map(str::trim).filter(|m| !m.is_empty()).map(str::to_owned).collect();
        check_lengths(ENV, &mutations)?;
        if mutations.is_empty() {
            return Err(ScrapeError::invalid(
                ENV,
                "lists no mutation: give comma-separated mutations such as `EGFR L858R, BRAF V600E`, or unset it",
            ));
        }
        Ok(Self { mutations, configured: true, trending: DEFAULT_TRENDING })
    }
}

/// What to warm.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct WarmRequest {
    /// Mutations to match (1–50), e.g. `["EGFR L858R", "BRAF V600E"]`. Absent: the configured list
    /// (`PIPETTE_WARM_MUTATIONS`, else a dozen well-known alterations such as EGFR L858R, KRAS G12C).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mutations: Option<Vec<String>>,
}

/// How warming went for one mutation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct WarmEntry {
    /// The mutation as given.
    pub mutation: String,
    /// Why it was warmed: `requested` (given in the call), `trending` (among the most asked of the last
    /// 24 h), `configured` (`PIPETTE_WARM_MUTATIONS`) or `built_in` (the built-in list).
    pub reason: WarmReason,
    /// For `trending`: how many times it was asked in the last 24 h (every process sharing the store).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub asked_24h: Option<u64>,
    /// Matching trials now cached.
    pub matches: u32,
    /// Trials that exclude it, now cached.
    pub excluded: u32,
    /// Candidate studies whose eligibility was fetched.
    pub candidates: u32,
    /// Why this mutation could not be warmed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<EntryError>,
}

/// Why a mutation was warmed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum WarmReason {
    /// Given in the call.
    Requested,
    /// Among the most asked mutations of the last 24 h.
    Trending,
    /// From `PIPETTE_WARM_MUTATIONS`.
    Configured,
    /// From the built-in list of well-known alterations.
    BuiltIn,
}

impl WarmReason {
    /// The reason in words.
    pub fn as_str(self) -> &'static str {
        match self {
            WarmReason::Requested => "requested",
            WarmReason::Trending => "trending",
            WarmReason::Configured => "configured",
            WarmReason::BuiltIn => "built-in list",
        }
    }
}

/// What `warm` will warm, in order, and why: the trending mutations (most asked first, those that parse),
/// then the configured or built-in list without repeats. A failure to read the tally is logged and skips
/// the trending part.
pub async fn plan(cache: &core_cache::Cache, config: &WarmConfig) -> Vec<(String, WarmReason, Option<u64>)> {
    let mut out: Vec<(String, WarmReason, Option<u64>)> = Vec::new();
    if config.trending > 0 {
        match cache.trending(TREND, config.trending.saturating_mul(2)).await {
            Ok(top) => out.extend(
                top.into_iter()
                    .filter(|(m, _)| crate::mutation::parse_mutation(m).is_ok())
                    .take(config.trending)
                    .map(|(m, n)| (m, WarmReason::Trending, Some(n))),
            ),
            Err(e) => tracing::warn!(error = %e, "warming: trending mutations unavailable; the list only"),
        }
    }
    let reason = if config.configured { WarmReason::Configured } else { WarmReason::BuiltIn };
    for m in &config.mutations {
        if !out.iter().any(|(o, _, _)| o.eq_ignore_ascii_case(m)) {
            out.push((m.clone(), reason, None));
        }
    }
    out
}

/// The result of `warm`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct WarmReport {
    /// One entry per mutation, in the order warmed: given ones in their order; else trending (most asked
    /// first), then the configured or built-in list.
    pub mutations: Vec<WarmEntry>,
    pub succeeded: u32,
    pub failed: u32,
    /// Distinct upstream requests made or served from the cache.
    pub distinct_requests: u32,
    /// A short markdown summary.
    pub summary_markdown: String,
}

/// Matches each mutation (default filters and limits, as `trials_match` uses them), which leaves its
/// ClinicalTrials.gov answers in the cache. One mutation failing never fails the rest.
/// Progress: `(done, Some(mutations))` after each mutation.
pub async fn warm(
    upstreams: &Upstreams,
    cache: &core_cache::Cache,
    request: &WarmRequest,
    progress: &(dyn Fn(u64, Option<u64>, &str) + Send + Sync),
) -> Result<WarmReport, ScrapeError> {
    let planned = match &request.mutations {
        Some(list) => {
            check_lengths("mutations", list)?;
            list.iter().map(|m| (m.clone(), WarmReason::Requested, None)).collect()
        }
        None => plan(cache, &WarmConfig::from_env()?).await,
    };
    let mutations: Vec<String> = planned.iter().map(|(m, _, _)| m.clone()).collect();
    let batch = trials_match_batch(
        upstreams,
        &mutations,
        &MatchFilters::default(),
        &MatchLimits::default(),
        progress,
    )
    .await?;
    let entries: Vec<WarmEntry> = batch
        .results
        .into_iter()
        .zip(planned)
        .map(|(e, (_, reason, asked_24h))| {
            let (matches, excluded, candidates) = e
                .result
                .as_ref()
                .map_or((0, 0, 0), |r| (r.matches.len() as u32, r.excluded.len() as u32, r.total_candidates));
            WarmEntry {
                mutation: e.mutation,
                reason,
                asked_24h,
                matches,
                excluded,
                candidates,
                error: e.error,
            }
        })
        .collect();
    metrics::counter!("pipette_cache_warm_mutations_total").increment(entries.len() as u64);
    Ok(WarmReport {
        summary_markdown: summary(&entries),
        succeeded: batch.succeeded,
        failed: batch.failed,
        distinct_requests: batch.distinct_requests,
        mutations: entries,
    })
}

fn summary(entries: &[WarmEntry]) -> String {
    let ok = entries.iter().filter(|e| e.error.is_none()).count();
    let mut out = format!("## Cache warmed: {ok} of {} mutations\n\n", entries.len());
    out.push_str("| mutation | why | matches | excluded | candidates |\n|---|---|---:|---:|---:|\n");
    for e in entries {
        let why = match e.asked_24h {
            Some(n) => format!("{} ({n} asks in 24 h)", e.reason.as_str()),
            None => e.reason.as_str().to_owned(),
        };
        match &e.error {
            None => {
                let _ = writeln!(
                    out,
                    "| {} | {why} | {} | {} | {} |",
                    e.mutation, e.matches, e.excluded, e.candidates
                );
            }
            Some(err) => {
                let _ = writeln!(
                    out,
                    "| {} | {why} | error: {} | | |",
                    e.mutation,
                    err.message.replace('|', "/")
                );
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_default_mutation_parses() {
        for m in DEFAULT_WARM_MUTATIONS {
            assert!(crate::mutation::parse_mutation(m).is_ok(), "{m} does not parse");
        }
    }

    #[test]
    fn the_env_list_is_comma_separated_and_never_empty() {
        let c = WarmConfig::parse(" EGFR L858R, BRAF V600E ,,").expect("list");
        assert_eq!(c.mutations, ["EGFR L858R", "BRAF V600E"]);
        let err = WarmConfig::parse(" , ").expect_err("empty");
        assert!(err.to_string().contains("PIPETTE_WARM_MUTATIONS"), "{err}");
    }

    #[tokio::test]
    async fn the_plan_puts_the_most_asked_first_then_the_list_without_repeats() {
        let cache = core_cache::Cache::in_process(1 << 20);
        count_asked(&cache, &["KRAS G12C", "BRAF V600E", " BRAF V600E "]).await;
        count_asked(&cache, &["BRAF V600E", "not a mutation at all", "not a mutation at all"]).await;
        let config =
            WarmConfig { mutations: vec!["EGFR L858R".into(), "kras g12c".into()], ..Default::default() };
        let plan = plan(&cache, &config).await;
        assert_eq!(
            plan,
            [
                ("BRAF V600E".to_owned(), WarmReason::Trending, Some(2)),
                ("KRAS G12C".to_owned(), WarmReason::Trending, Some(1)),
                ("EGFR L858R".to_owned(), WarmReason::BuiltIn, None),
            ],
            "counted once per call, unparsable ones skipped, the list after without repeats"
        );
        let none = plan_of(&cache, WarmConfig { trending: 0, ..config }).await;
        assert_eq!(none.len(), 2);
    }

    async fn plan_of(
        cache: &core_cache::Cache,
        config: WarmConfig,
    ) -> Vec<(String, WarmReason, Option<u64>)> {
        plan(cache, &config).await
    }

    #[test]
    fn huge_mutations_are_refused_by_position_without_being_quoted() {
        let huge = "X".repeat(1 << 20);
        let err = check_lengths("mutations", &["EGFR L858R".into(), huge]).expect_err("huge").to_string();
        assert!(err.contains("`mutations`") && err.contains("mutation 2 is 1048576 bytes"), "{err}");
        assert!(err.len() < 300, "{err}");
        assert!(check_lengths("mutations", &["EGFR L858R".into()]).is_ok());
    }
}
