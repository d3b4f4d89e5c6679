//! Biomolecule tools: discovery for a target (UniProt → ChEMBL) and one UniProt entry, over core-scrapers.

use core_scrapers::biomolecules::{self, DiscoverRequest, Discovery, Protein};
use core_scrapers::http::Upstreams;
use serde::Deserialize;
use tool_metadata::{ToolContext, tool_metadata};

use crate::Error;
use crate::format::{Formatted, Shown};

/// Proteins, compounds and drugs for a target (UniProt, ChEMBL); a failed source is named in `source_errors`.
// No result cache: a partial result (a source error) must not outlive its cause; the upstream cache already
// answers a repeated discovery without a request.
#[tool_metadata(category = research, runtime = Async, priority = 5, timeout_seconds = 120, retry = none,
                read_only, open_world)]
async fn discover_biomolecules(
    ctx: ToolContext,
    p: Formatted<DiscoverRequest>,
) -> Result<Shown<Discovery>, Error> {
    let upstreams = ctx.service::<Upstreams>()?;
    let result = biomolecules::discover(&upstreams, &p.request).await?;
    Ok(Shown { markdown: result.markdown(p.response_format), result })
}

#[derive(Deserialize, schemars::JsonSchema)]
struct ProteinParams {
    /// UniProt accession, e.g. `P15056`.
    accession: String,
}

/// One UniProt entry: names, gene, organism, length, function, PDB structures.
#[tool_metadata(category = research, runtime = Async, priority = 5, timeout_seconds = 60, retry = none,
                cache_ttl_seconds = 86400, read_only, open_world)]
async fn protein_get(ctx: ToolContext, p: Formatted<ProteinParams>) -> Result<Shown<Protein>, Error> {
    let upstreams = ctx.service::<Upstreams>()?;
    let result = biomolecules::protein_get(&upstreams, &p.request.accession).await?;
    Ok(Shown { markdown: result.markdown(p.response_format), result })
}
