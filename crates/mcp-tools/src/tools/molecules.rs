//! Biomolecule tools: discovery for a target (UniProt → ChEMBL) and one UniProt entry, over core-scrapers.

use core_scrapers::biomolecules::{self, DiscoverRequest, Discovery, Protein};
use core_scrapers::http::Upstreams;
use serde::Deserialize;
use tool_metadata::{ToolContext, tool_metadata};

use crate::Error;

/// Discovers proteins, compounds and drugs for a target (a human gene symbol such as `BRAF`, or a UniProt
/// accession): the reviewed human UniProt entry, then ChEMBL mechanisms (drugs, approved first) and the most
/// potent bioactive compounds by pChEMBL. Every candidate carries its ids, evidence and source URL.
#[tool_metadata(category = research, runtime = Async, priority = 5, timeout_seconds = 120, retry = none,
                cache_ttl_seconds = 21600, read_only, open_world)]
async fn discover_biomolecules(ctx: ToolContext, p: DiscoverRequest) -> Result<Discovery, Error> {
    let upstreams = ctx.service::<Upstreams>()?;
    Ok(biomolecules::discover(&upstreams, &p).await?)
}

#[derive(Deserialize, schemars::JsonSchema)]
struct ProteinParams {
    /// A UniProt accession, e.g. `P15056` (BRAF).
    accession: String,
}

/// One UniProtKB entry by accession: names, gene, organism, length, function and PDB structures.
#[tool_metadata(category = research, runtime = Async, priority = 5, timeout_seconds = 60, retry = none,
                cache_ttl_seconds = 86400, read_only, open_world)]
async fn protein_get(ctx: ToolContext, p: ProteinParams) -> Result<Protein, Error> {
    let upstreams = ctx.service::<Upstreams>()?;
    Ok(biomolecules::protein_get(&upstreams, &p.accession).await?)
}
