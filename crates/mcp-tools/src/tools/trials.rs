//! ClinicalTrials.gov tools: search, one trial, and mutation → trial matching (single and batch).

use core_scrapers::http::Upstreams;
use core_scrapers::mutation::{self, MatchBatch, MutationTrials, TrialsMatchBatchParams, TrialsMatchParams};
use core_scrapers::trials::{self, Trial, TrialGetParams, TrialSearchParams, TrialSearchResult};
use tool_metadata::{ToolContext, tool_metadata};

use crate::Error;
use crate::assist::{Summarized, WithSummary, summarize};
use crate::research_index::{Indexed, WithIndex, index_into};
use core_indexing::BuiltinSchema;

/// A result with its markdown (the text a model reads), rendered by the core as `response_format` asks.
#[derive(Debug, serde::Serialize, schemars::JsonSchema)]
struct Shown<T> {
    #[serde(flatten)]
    result: T,
    /// The result as markdown.
    markdown: String,
}

/// Searches ClinicalTrials.gov by condition, terms, intervention, sponsor, location (text or a radius around
/// a point), status and phase; follows pages up to `max_results` and returns the total count when known and
/// the token to continue from. With a location, each study lists its sites near it.
#[tool_metadata(category = research, runtime = Async, priority = 5, timeout_seconds = 120, retry = none,
                cache_ttl_seconds = 1800, read_only, open_world)]
async fn trials_search(
    ctx: ToolContext,
    p: WithIndex<TrialSearchParams>,
) -> Result<Shown<Indexed<TrialSearchResult>>, Error> {
    let upstreams = ctx.service::<Upstreams>()?;
    let result = trials::trials_search(&upstreams, &p.request).await?;
    let indexed = index_into(&ctx, p.index.as_deref(), BuiltinSchema::Trials, &result.trials).await?;
    Ok(Shown { markdown: result.markdown(p.request.response_format), result: Indexed { result, indexed } })
}

/// One ClinicalTrials.gov study by NCT number: eligibility (inclusion and exclusion lists), locations (or
/// only those near a `location`/`geo`), arms and interventions, outcomes, sponsor, dates and phases. Long
/// lists are capped; each capped list says how many items were left out and how to get them.
#[tool_metadata(category = research, runtime = Async, priority = 5, timeout_seconds = 60, retry = none,
                cache_ttl_seconds = 3600, read_only, open_world)]
async fn trial_get(ctx: ToolContext, p: TrialGetParams) -> Result<Shown<Trial>, Error> {
    let upstreams = ctx.service::<Upstreams>()?;
    let trial = trials::trial_get(&upstreams, &p).await?;
    Ok(Shown { markdown: trial.markdown(p.response_format), result: trial })
}

/// Finds trials for a mutation: searches ClinicalTrials.gov with its textual variants, reads each candidate's
/// eligibility, and scores where the alteration appears (inclusion criteria above title, keywords and summary
/// above conditions). Trials that name it only to exclude it are listed apart with the excluding sentence.
/// With a location, each trial lists its sites near it. Default status: recruiting and not yet recruiting.
/// Comes with a markdown summary; with `summarize: true`, also one by the client's own model (MCP
/// sampling) when the client can sample.
// No result cache: a result can carry per-trial warnings (or per-mutation errors) that must not outlive
// their cause; the upstream cache already answers a repeated match without a request.
#[tool_metadata(category = research, runtime = Async, priority = 5, timeout_seconds = 180, inline_ms = 15000,
                retry = none, read_only, open_world)]
async fn trials_match(
    ctx: ToolContext,
    p: WithIndex<WithSummary<TrialsMatchParams>>,
) -> Result<Summarized<Indexed<MutationTrials>>, Error> {
    let upstreams = ctx.service::<Upstreams>()?;
    let (q, progress) = (&p.request.request, ctx.progress().callback());
    let result = mutation::trials_match(&upstreams, &q.mutation, &q.filters, &q.limits, &progress).await?;
    let indexed = index_into(&ctx, p.index.as_deref(), BuiltinSchema::Trials, &result.matches).await?;
    let task = "Summarize which trials fit this mutation and why, strongest matches first.";
    let summary = summarize(&ctx, p.request.summarize, task, &result.summary_markdown).await;
    Ok(Summarized { result: Indexed { result, indexed }, summary })
}

/// Matches up to 50 mutations at once with the same filters: concurrently within the upstream's rate limit,
/// identical requests shared, one result or one error per mutation (a bad mutation never fails the batch).
/// Becomes a background job when long; follow it with `job_status`.
// No result cache, as for trials_match.
#[tool_metadata(category = research, runtime = Async, priority = 4, timeout_seconds = 900, inline_ms = 5000,
                retry = none, read_only, open_world)]
async fn trials_match_batch(ctx: ToolContext, p: TrialsMatchBatchParams) -> Result<MatchBatch, Error> {
    let upstreams = ctx.service::<Upstreams>()?;
    let progress = ctx.progress().callback();
    Ok(mutation::trials_match_batch(&upstreams, &p.mutations, &p.filters, &p.limits, &progress).await?)
}
