//! Biomolecule tools: discovery for a target (UniProt → ChEMBL) and one UniProt entry, over core-scrapers.

use core_scrapers::biomolecules::{self, DiscoverRequest, Discovery, Protein};
use core_scrapers::http::Upstreams;
use serde::Deserialize;
use tool_metadata::{ToolContext, tool_metadata};

use crate::Error;

/// Proteins, compounds and drugs for a target: its UniProt entry, ChEMBL drugs (approved first) and the
/// most potent compounds.
#[tool_metadata(category = research, runtime = Async, priority = 5, timeout_seconds = 120, retry = none,
                cache_ttl_seconds = 21600, read_only, open_world)]
async fn discover_biomolecules(ctx: ToolContext, p: DiscoverRequest) -> Result<Discovery, Error> {
    let upstreams = ctx.service::<Upstreams>()?;
    Ok(biomolecules::discover(&upstreams, &p).await?)
}

#[derive(Deserialize, schemars::JsonSchema)]
struct ProteinParams {
    /// UniProt accession, e.g. `P15056`.
    accession: String,
}

/// One UniProt entry: names, gene, organism, length, function, PDB structures.
#[tool_metadata(category = research, runtime = Async, priority = 5, timeout_seconds = 60, retry = none,
                cache_ttl_seconds = 86400, read_only, open_world)]
async fn protein_get(ctx: ToolContext, p: ProteinParams) -> Result<Protein, Error> {
    let upstreams = ctx.service::<Upstreams>()?;
    Ok(biomolecules::protein_get(&upstreams, &p.accession).await?)
}
