//! PubMed tools: search (esearch then efetch) and fetch by PMID, over core-scrapers' `pubmed`.

use core_scrapers::http::Upstreams;
use core_scrapers::pubmed::{self, FetchResult, SearchRequest, SearchResult};
use serde::Deserialize;
use tool_metadata::{ToolContext, tool_metadata};

use crate::Error;
use crate::assist::{Summarized, WithSummary, summarize};
use crate::format::{Formatted, Shown};
use crate::research_index::{Indexed, WithIndex, index_into, with_index_note};

/// Searches PubMed: full records (abstract, authors, journal, DOI, MeSH) and the total count.
#[tool_metadata(category = research, runtime = Async, priority = 5, timeout_seconds = 120, retry = none,
                cache_ttl_seconds = 3600, read_only, open_world, indexes_results)]
async fn pubmed_search(
    ctx: ToolContext,
    p: Formatted<WithIndex<WithSummary<SearchRequest>>>,
) -> Result<Shown<Summarized<Indexed<SearchResult>>>, Error> {
    let upstreams = ctx.service::<Upstreams>()?;
    let (format, p) = (p.response_format, p.request);
    let (q, wanted) = (&p.request.request, p.request.summarize);
    let result = pubmed::search(&upstreams, q, &ctx.progress().callback()).await?;
    let indexed = index_into(&ctx, p.index.as_deref(), &result.articles).await?;
    let markdown = with_index_note(indexed.as_ref(), result.markdown(format));
    let task = "Summarize what these PubMed articles report, for the query above.";
    let summary = summarize(&ctx, wanted, task, &markdown).await?;
    let markdown = summary.as_ref().map_or(markdown, |s| s.text.clone());
    Ok(Shown { result: Summarized { result: Indexed { result, indexed }, summary }, markdown })
}

#[derive(Deserialize, schemars::JsonSchema)]
struct FetchParams {
    /// PMIDs, e.g. `["22663011"]`.
    #[schemars(length(min = 1, max = 200))]
    pmids: Vec<String>,
}

/// PubMed articles by PMID, in order; lists the PMIDs without a record.
#[tool_metadata(category = research, runtime = Async, priority = 5, timeout_seconds = 60, retry = none,
                cache_ttl_seconds = 21600, read_only, open_world, indexes_results)]
async fn pubmed_fetch(
    ctx: ToolContext,
    p: Formatted<WithIndex<FetchParams>>,
) -> Result<Shown<Indexed<FetchResult>>, Error> {
    let upstreams = ctx.service::<Upstreams>()?;
    let (format, p) = (p.response_format, p.request);
    let result = pubmed::fetch(&upstreams, &p.request.pmids).await?;
    let indexed = index_into(&ctx, p.index.as_deref(), &result.articles).await?;
    let markdown = with_index_note(indexed.as_ref(), result.markdown(format));
    Ok(Shown { result: Indexed { result, indexed }, markdown })
}
