//! Biomolecule tools: discovery for a target (UniProt → ChEMBL) and one UniProt entry, over core-scrapers.

use core_scrapers::biomolecules::{self, DiscoverRequest, Discovery, Protein};
use core_scrapers::http::Upstreams;
use serde::Deserialize;
use tool_metadata::{ToolContext, tool_metadata};

use crate::Error;
use crate::format::{Formatted, Shown};

/// Discovers proteins, compounds and drugs for a target (a human gene symbol such as `BRAF`, or a UniProt
/// accession): the reviewed human UniProt entry, then ChEMBL mechanisms (drugs, approved first) and the most
/// potent bioactive compounds by pChEMBL. Every candidate carries its ids, evidence and source URL; a source
/// that fails is named in `source_errors` and the rest is still returned.
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
    /// A UniProt accession, e.g. `P15056` (BRAF).
    accession: String,
}

/// One UniProtKB entry by accession: names, gene, organism, length, function and PDB structures.
#[tool_metadata(category = research, runtime = Async, priority = 5, timeout_seconds = 60, retry = none,
                cache_ttl_seconds = 86400, read_only, open_world)]
async fn protein_get(ctx: ToolContext, p: Formatted<ProteinParams>) -> Result<Shown<Protein>, Error> {
    let upstreams = ctx.service::<Upstreams>()?;
    let result = biomolecules::protein_get(&upstreams, &p.request.accession).await?;
    Ok(Shown { markdown: result.markdown(p.response_format), result })
}
