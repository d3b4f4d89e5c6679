//! PubMed tools: search (esearch then efetch) and fetch by PMID, over core-scrapers' `pubmed`.

use core_scrapers::http::Upstreams;
use core_scrapers::pubmed::{self, FetchResult, SearchRequest, SearchResult};
use serde::Deserialize;
use tool_metadata::{ToolContext, tool_metadata};

use crate::Error;

/// Searches PubMed and returns full article records (title, structured abstract, authors with affiliations and
/// ORCID, journal, date, DOI, PMCID, MeSH, publication types, keywords), the total count and the offset to
/// continue from. Dates are `YYYY`, `YYYY/MM` or `YYYY/MM/DD`.
#[tool_metadata(category = research, runtime = Async, priority = 5, timeout_seconds = 120, retry = none,
                cache_ttl_seconds = 3600, read_only, open_world)]
async fn pubmed_search(ctx: ToolContext, p: SearchRequest) -> Result<SearchResult, Error> {
    let upstreams = ctx.service::<Upstreams>()?;
    Ok(pubmed::search(&upstreams, &p, &ctx.progress().callback()).await?)
}

#[derive(Deserialize, schemars::JsonSchema)]
struct FetchParams {
    /// PubMed ids (1–200), e.g. `["22663011"]`; a `PMID:` prefix is accepted.
    pmids: Vec<String>,
}

/// Fetches PubMed articles by PMID, in the order given, and lists the PMIDs PubMed has no record for.
#[tool_metadata(category = research, runtime = Async, priority = 5, timeout_seconds = 60, retry = none,
                cache_ttl_seconds = 21600, read_only, open_world)]
async fn pubmed_fetch(ctx: ToolContext, p: FetchParams) -> Result<FetchResult, Error> {
    let upstreams = ctx.service::<Upstreams>()?;
    Ok(pubmed::fetch(&upstreams, &p.pmids).await?)
}
