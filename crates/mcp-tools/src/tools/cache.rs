//! Cache tools: analytics (JSON and markdown), warming with well-known mutations, invalidation by glob.

use core_cache::{Cache, CacheAnalytics};
use core_scrapers::http::Upstreams;
use core_scrapers::warm::{self, WarmReport, WarmRequest};
use serde::{Deserialize, Serialize};
use tool_metadata::{ToolContext, tool_metadata};

use crate::Error;
use crate::assist::{Confirmed, confirm};
use crate::format::Shown;

#[derive(Deserialize, schemars::JsonSchema)]
struct NoParams {}

/// The cache's backend (memory or redis), its entries and size, and hits, misses and hit rate per tool and
/// per upstream.
#[tool_metadata(category = cache, runtime = Async, priority = 8, timeout_seconds = 15, retry = none, read_only)]
async fn cache_analytics(ctx: ToolContext, _p: NoParams) -> Result<Shown<CacheAnalytics>, Error> {
    let analytics = ctx.service::<Cache>()?.analytics().await;
    Ok(Shown { markdown: analytics.to_markdown(), result: analytics })
}

#[derive(Serialize, schemars::JsonSchema)]
struct CacheReport {
    /// The analytics as readable markdown.
    report_markdown: String,
    /// The same figures, structured.
    analytics: CacheAnalytics,
}

/// The cache analytics as a readable markdown report (backend, size, hit rate per tool and upstream).
#[tool_metadata(category = cache, runtime = Async, priority = 8, timeout_seconds = 15, retry = none, read_only)]
async fn cache_report(ctx: ToolContext, _p: NoParams) -> Result<Shown<CacheReport>, Error> {
    let analytics = ctx.service::<Cache>()?.analytics().await;
    let markdown = analytics.to_markdown();
    Ok(Shown { result: CacheReport { report_markdown: markdown.clone(), analytics }, markdown })
}

/// Warms the cache by matching mutations to trials, so that later `trials_match` calls are answered from the
/// cache: by default the most asked mutations of the last 24 h first (counted across every process sharing
/// the cache), then the configured list (`PIPETTE_WARM_MUTATIONS`, else a dozen such as EGFR L858R,
/// BRAF V600E, KRAS G12C). Reports each mutation warmed and why. Runs as a background job with progress.
#[tool_metadata(category = cache, runtime = Async, priority = 2, timeout_seconds = 900, inline_ms = 500,
                retry = none, open_world)]
async fn warm_cache(ctx: ToolContext, p: WarmRequest) -> Result<Shown<WarmReport>, Error> {
    let upstreams = ctx.service::<Upstreams>()?;
    let cache = ctx.service::<Cache>()?;
    Ok(warm::warm(&upstreams, &cache, &p, &ctx.progress().callback()).await?.into())
}

#[derive(Deserialize, schemars::JsonSchema)]
struct InvalidateParams {
    /// A glob over `scope:key`, where scope is a tool (`pubmed_search`) or an upstream (`pubmed`, `ctgov`,
    /// `uniprot`, `chembl`): e.g. `pubmed:*`, `trials_*`, or `*` for everything. At most 1024 bytes.
    #[schemars(length(max = 1024))]
    pattern: String,
}

#[derive(Serialize, schemars::JsonSchema)]
struct Invalidated {
    /// The glob that was applied.
    pattern: String,
    /// How many entries were removed.
    removed: u64,
}

/// Removes every cache entry whose `scope:key` matches a glob, in whichever backend is active (shared by every
/// pipette process on the same Redis), and says how many went. Emptying the whole cache (`*`) asks the person
/// to confirm through the client (elicitation) unless `confirm: true`.
#[tool_metadata(category = cache, runtime = Async, priority = 7, timeout_seconds = 600, inline_ms = 600000,
                retry = none, destructive, idempotent)]
async fn invalidate_cache(ctx: ToolContext, p: Confirmed<InvalidateParams>) -> Result<Invalidated, Error> {
    let pattern = p.request.pattern;
    core_cache::check_pattern(&pattern).map_err(Error::from)?;
    if pattern.chars().all(|c| c == '*' || c == ':') {
        confirm(&ctx, p.confirm, "empty the whole cache (every scope, every pipette process sharing it)")
            .await?;
    }
    let removed = ctx.service::<Cache>()?.invalidate(&pattern).await?;
    Ok(Invalidated { pattern, removed })
}
