//! ClinicalTrials.gov tools: search, one trial, and mutation → trial matching (single and batch).

use core_scrapers::http::Upstreams;
use core_scrapers::mutation::{self, MatchBatch, MutationTrials, TrialsMatchBatchParams, TrialsMatchParams};
use core_scrapers::trials::{self, Trial, TrialGetParams, TrialSearchParams, TrialSearchResult};
use tool_metadata::{ToolContext, tool_metadata};

use crate::Error;
use crate::assist::{Summarized, WithSummary, summarize};
use crate::format::Shown;
use crate::research_index::{Indexed, WithIndex, index_into};

/// Searches ClinicalTrials.gov by condition, terms, intervention, sponsor, place, status and phase.
#[tool_metadata(category = research, runtime = Async, priority = 5, timeout_seconds = 120, retry = none,
                cache_ttl_seconds = 1800, read_only, open_world, indexes_results)]
async fn trials_search(
    ctx: ToolContext,
    p: WithIndex<TrialSearchParams>,
) -> Result<Shown<Indexed<TrialSearchResult>>, Error> {
    let upstreams = ctx.service::<Upstreams>()?;
    let result = trials::trials_search(&upstreams, &p.request).await?;
    let indexed = index_into(&ctx, p.index.as_deref(), &result.trials).await?;
    Ok(Shown { markdown: result.markdown(p.request.response_format), result: Indexed { result, indexed } })
}

/// One ClinicalTrials.gov study by NCT number: eligibility, sites, arms, outcomes, sponsor, dates.
#[tool_metadata(category = research, runtime = Async, priority = 5, timeout_seconds = 60, retry = none,
                cache_ttl_seconds = 3600, read_only, open_world)]
async fn trial_get(ctx: ToolContext, p: TrialGetParams) -> Result<Shown<Trial>, Error> {
    let upstreams = ctx.service::<Upstreams>()?;
    let trial = trials::trial_get(&upstreams, &p).await?;
    Ok(Shown { markdown: trial.markdown(p.response_format), result: trial })
}

/// Trials for a mutation, scored by where each study names it (inclusion criteria first); studies that
/// exclude it are listed apart.
// No result cache: a result can carry per-trial warnings (or per-mutation errors) that must not outlive
// their cause; the upstream cache already answers a repeated match without a request.
#[tool_metadata(category = research, runtime = Async, priority = 5, timeout_seconds = 180, inline_ms = 15000,
                retry = none, read_only, open_world, indexes_results)]
async fn trials_match(
    ctx: ToolContext,
    p: WithIndex<WithSummary<TrialsMatchParams>>,
) -> Result<Shown<Summarized<Indexed<MutationTrials>>>, Error> {
    let upstreams = ctx.service::<Upstreams>()?;
    let (q, progress) = (&p.request.request, ctx.progress().callback());
    let result = mutation::trials_match(&upstreams, &q.mutation, &q.filters, &q.limits, &progress).await?;
    let indexed = index_into(&ctx, p.index.as_deref(), &result.matches).await?;
    let task = "Summarize which trials fit this mutation and why, strongest matches first.";
    let summary = summarize(&ctx, p.request.summarize, task, &result.summary_markdown).await?;
    Ok(Summarized { result: Indexed { result, indexed }, summary }.into())
}

/// `trials_match` for several mutations with shared filters: one result or error each.
// No result cache, as for trials_match. Each finished mutation is kept with the job as it finishes; a
// resumed job (`job_resume`) matches only the mutations that were not done.
#[tool_metadata(category = research, runtime = Async, priority = 4, timeout_seconds = 900, inline_ms = 5000,
                retry = none, read_only, open_world)]
async fn trials_match_batch(ctx: ToolContext, p: TrialsMatchBatchParams) -> Result<Shown<MatchBatch>, Error> {
    let upstreams = ctx.service::<Upstreams>()?;
    let (progress, on_entry) = (ctx.progress().callback(), ctx.progress().item_callback());
    let done = ctx.progress().prior_items();
    let (m, f, l) = (&p.mutations, &p.filters, &p.limits);
    Ok(mutation::trials_match_batch_resuming(&upstreams, m, f, l, &progress, &done, &on_entry).await?.into())
}
