//! Full-text tools (the `fulltext` toolset): an article's full text from the first open source, citations
//! both ways, and Europe PMC search, over core-scrapers' `fulltext`.

use core_scrapers::fulltext::{
    self, Citations, CitationsRequest, EuropePmcRequest, EuropePmcSearch, FullTextRequest, FullTextResult,
};
use core_scrapers::http::Upstreams;
use tool_metadata::{ToolContext, tool_metadata};

use crate::Error;
use crate::format::{Formatted, Shown};
use crate::research_index::{Indexed, WithIndex, index_into, with_index_note};

/// An article's full text (PMC, Europe PMC, publisher page) as sections, captions and references; says
/// which source answered, or gives the abstract and links when none is open.
#[tool_metadata(category = research, runtime = Async, priority = 5, timeout_seconds = 120, retry = none,
                cache_ttl_seconds = 21600, read_only, open_world, indexes_results)]
async fn article_fulltext(
    ctx: ToolContext,
    p: Formatted<WithIndex<FullTextRequest>>,
) -> Result<Shown<Indexed<FullTextResult>>, Error> {
    let upstreams = ctx.service::<Upstreams>()?;
    let (format, p) = (p.response_format, p.request);
    let result = fulltext::fulltext(&upstreams, &p.request).await?;
    let indexed = index_into(&ctx, p.index.as_deref(), std::slice::from_ref(&result)).await?;
    let markdown = with_index_note(indexed.as_ref(), result.markdown(format));
    Ok(Shown { result: Indexed { result, indexed }, markdown })
}

/// PubMed articles citing a PMID (`cited_by`) or cited by it (`references`), with the count.
#[tool_metadata(category = research, runtime = Async, priority = 5, timeout_seconds = 60, retry = none,
                cache_ttl_seconds = 21600, read_only, open_world)]
async fn article_citations(
    ctx: ToolContext,
    p: Formatted<CitationsRequest>,
) -> Result<Shown<Citations>, Error> {
    let upstreams = ctx.service::<Upstreams>()?;
    let result = fulltext::citations(&upstreams, &p.request).await?;
    Ok(Shown { markdown: result.markdown(p.response_format), result })
}

/// Searches Europe PMC (abstracts, open-access flag, PMCID, citation counts): a second literature source.
#[tool_metadata(category = research, runtime = Async, priority = 5, timeout_seconds = 60, retry = none,
                cache_ttl_seconds = 3600, read_only, open_world)]
async fn europepmc_search(
    ctx: ToolContext,
    p: Formatted<EuropePmcRequest>,
) -> Result<Shown<EuropePmcSearch>, Error> {
    let upstreams = ctx.service::<Upstreams>()?;
    let result = fulltext::europepmc_search(&upstreams, &p.request).await?;
    Ok(Shown { markdown: result.markdown(p.response_format), result })
}
