//! How much of a research result its markdown shows: every identifier always, the rest on request.

use serde::{Deserialize, Serialize};

/// How much a result's markdown (the text a model reads) carries. The structured data is always complete.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ResponseFormat {
    /// Every identifier (PMID, DOI, PMCID, NCT id), status, phase and the evidence sentence; drops what can
    /// be asked for next, and says how.
    #[default]
    Concise,
    /// Everything the result holds.
    Detailed,
}

impl ResponseFormat {
    /// Whether the full rendering was asked for.
    pub fn is_detailed(self) -> bool {
        self == ResponseFormat::Detailed
    }
}
