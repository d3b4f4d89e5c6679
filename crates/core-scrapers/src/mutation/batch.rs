//! `trials_match_batch`: up to 50 mutations matched concurrently within the upstream's rate limit,
//! identical upstream requests shared (the same search, the same study's eligibility), one result or one
//! error per mutation: a bad mutation never fails the batch.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};

use futures::StreamExt;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::error::ScrapeError;
use crate::http::Upstreams;
use crate::mutation::matching::{MatchFilters, MatchLimits, MutationTrials, match_with, validate_filters};
use crate::trials::Source;

/// The most mutations in one batch.
pub const MAX_BATCH: usize = 50;
/// Mutations worked on at once (each fetches its candidates concurrently too; the rate limiter paces all).
const BATCH_CONCURRENCY: usize = 10;

/// Why one mutation of a batch failed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct EntryError {
    /// The error kind: `invalid_argument`, `rate_limited`, `upstream`, `timeout`, `circuit_open`, …
    pub kind: String,
    /// What went wrong and what to do.
    pub message: String,
    /// Whether the same mutation may succeed if tried again later.
    pub retryable: bool,
}

impl From<&ScrapeError> for EntryError {
    fn from(err: &ScrapeError) -> Self {
        Self { kind: err.kind().to_owned(), message: err.to_string(), retryable: err.retryable() }
    }
}

/// One mutation of a batch: its result or its error.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct BatchEntry {
    /// The mutation as given.
    pub mutation: String,
    /// The trials, when it worked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<MutationTrials>,
    /// The error, when it did not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<EntryError>,
}

/// The result of `trials_match_batch`, in the order the mutations were given.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct MatchBatch {
    /// One entry per mutation.
    pub results: Vec<BatchEntry>,
    /// Mutations that worked.
    pub succeeded: u32,
    /// Mutations that failed.
    pub failed: u32,
    /// Distinct upstream requests the batch needed (identical ones are shared).
    pub distinct_requests: u32,
    /// The summaries of every mutation, then the errors.
    pub summary_markdown: String,
}

/// Matches each of `mutations` (1 to 50) with the same filters and limits.
///
/// Fails as a whole only on arguments shared by all (the list's size, the filters, the limits).
/// Progress: `(done, Some(mutations))` after each mutation, with its label and number of matches.
pub async fn trials_match_batch(
    upstreams: &Upstreams,
    mutations: &[String],
    filters: &MatchFilters,
    limits: &MatchLimits,
    progress: &(dyn Fn(u64, Option<u64>, &str) + Send + Sync),
) -> Result<MatchBatch, ScrapeError> {
    let none = |_: u64, _: &BatchEntry| {};
    trials_match_batch_resuming(upstreams, mutations, filters, limits, progress, &BTreeMap::new(), &none)
        .await
}

/// [`trials_match_batch`] that hands each finished entry to `on_entry` (by its position) as soon as it is
/// done, and takes the entries an earlier, interrupted run had finished (`done`, by position): a done
/// entry with a result for the same mutation is kept as it was; the others (errors, or a list that has
/// changed since) are matched again.
pub async fn trials_match_batch_resuming(
    upstreams: &Upstreams,
    mutations: &[String],
    filters: &MatchFilters,
    limits: &MatchLimits,
    progress: &(dyn Fn(u64, Option<u64>, &str) + Send + Sync),
    done: &BTreeMap<u64, BatchEntry>,
    on_entry: &(dyn Fn(u64, &BatchEntry) + Send + Sync),
) -> Result<MatchBatch, ScrapeError> {
    if mutations.is_empty() || mutations.len() > MAX_BATCH {
        return Err(ScrapeError::invalid(
            "mutations",
            format!("give 1 to {MAX_BATCH} mutations (got {}); split longer lists", mutations.len()),
        ));
    }
    limits.validate()?;
    validate_filters(filters)?;

    let source = Source::memoised(&upstreams.ctgov);
    let total = mutations.len() as u64;
    let kept: Vec<(usize, BatchEntry)> = mutations
        .iter()
        .enumerate()
        .filter_map(|(i, m)| {
            let entry = done.get(&(i as u64))?;
            (entry.result.is_some() && entry.mutation == *m).then(|| (i, entry.clone()))
        })
        .collect();
    let todo: Vec<(usize, String)> =
        mutations.iter().cloned().enumerate().filter(|(i, _)| !kept.iter().any(|(k, _)| k == i)).collect();
    let message = if kept.is_empty() {
        format!("matching {total} mutations")
    } else {
        format!("resuming: {} of {total} mutations were done, matching the other {}", kept.len(), todo.len())
    };
    progress(kept.len() as u64, Some(total), &message);
    let done = AtomicU64::new(kept.len() as u64);
    let quiet = |_: u64, _: Option<u64>, _: &str| {};
    let mut entries: Vec<(usize, BatchEntry)> = futures::stream::iter(todo)
        .map(|(index, mutation)| {
            let (source, done, quiet) = (&source, &done, &quiet);
            async move {
                let outcome = match_with(source, &mutation, filters, limits, quiet).await;
                let n = done.fetch_add(1, Ordering::Relaxed) + 1;
                let message = match &outcome {
                    Ok(r) => format!("{}: {} matches", r.mutation.label, r.matches.len()),
                    Err(err) => format!("{mutation}: {}", err.kind()),
                };
                progress(n, Some(total), &message);
                let entry = match outcome {
                    Ok(result) => {
                        BatchEntry { mutation: mutation.clone(), result: Some(result), error: None }
                    }
                    Err(err) => {
                        tracing::debug!(%mutation, error = %err, "trials_match_batch: one mutation failed");
                        BatchEntry { mutation: mutation.clone(), result: None, error: Some((&err).into()) }
                    }
                };
                on_entry(index as u64, &entry);
                (index, entry)
            }
        })
        .buffer_unordered(BATCH_CONCURRENCY)
        .collect()
        .await;
    entries.extend(kept);
    entries.sort_by_key(|(index, _)| *index);
    let results: Vec<BatchEntry> = entries.into_iter().map(|(_, entry)| entry).collect();
    let failed = results.iter().filter(|e| e.error.is_some()).count() as u32;
    let summary_markdown = batch_markdown(&results);
    metrics::counter!("pipette_trials_match_batch_total").increment(1);
    Ok(MatchBatch {
        succeeded: results.len() as u32 - failed,
        failed,
        distinct_requests: source.distinct_requests() as u32,
        results,
        summary_markdown,
    })
}

fn batch_markdown(results: &[BatchEntry]) -> String {
    let mut out = String::new();
    for entry in results {
        if let Some(result) = &entry.result {
            let _ = writeln!(out, "{}\n", result.summary_markdown);
        }
    }
    let errors: Vec<&BatchEntry> = results.iter().filter(|e| e.error.is_some()).collect();
    if !errors.is_empty() {
        let _ = writeln!(out, "### Errors\n");
        for entry in errors {
            if let Some(err) = &entry.error {
                let _ = writeln!(out, "- `{}`: {}", entry.mutation, err.message);
            }
        }
    }
    out.trim_end().to_owned()
}
