//! A test-only prompt whose arguments have the names pipette completes, so completions for prompt
//! arguments can be tested whatever the production prompts are.

use mcp_tools::Router;
use mcp_tools::protocol::{PromptDescriptor, PromptMessage, PromptOutput, ProtocolFuture};
use serde::Deserialize;

/// Keeps the registrations of this module in the final binary.
pub fn link() {}

#[derive(Deserialize, schemars::JsonSchema)]
#[allow(dead_code)] // only its schema is used
struct FixtureArgs {
    /// Comma-separated mutations, e.g. `EGFR L858R, KRAS G12C`.
    mutations: String,
    /// A gene symbol.
    gene: Option<String>,
    /// An alteration of `gene`.
    alteration: Option<String>,
    /// A background job.
    job_id: Option<String>,
    /// A condition.
    condition: Option<String>,
}

fn arguments() -> serde_json::Value {
    serde_json::to_value(schemars::schema_for!(FixtureArgs)).unwrap_or_default()
}

fn get(_router: Router, args: serde_json::Value) -> ProtocolFuture<PromptOutput> {
    Box::pin(async move {
        Ok(PromptOutput { description: None, messages: vec![PromptMessage::user(args.to_string())] })
    })
}

inventory::submit!(PromptDescriptor {
    name: "fixture_prompt",
    title: "Fixture prompt",
    description: "Test fixture: echoes its arguments.",
    arguments,
    get,
});
