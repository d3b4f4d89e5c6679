//! Workflow prompts: the saved workflows "literature to index" and "mutation panel", run by name with
//! arguments (the prompt hands the model the definition to pass to `workflow_run`).

use std::collections::BTreeMap;

use serde::Deserialize;
use tool_metadata::__private::{parse_params, schema_for};
use tool_metadata::ToolError;

use crate::Router;
use crate::protocol::{PromptDescriptor, PromptMessage, PromptOutput, ProtocolFuture};

#[derive(Deserialize, schemars::JsonSchema)]
struct LiteratureArgs {
    /// The PubMed query, e.g. `BRAF V600E melanoma`.
    query: String,
    /// A new local index for the articles, e.g. `braf-papers`.
    index: String,
    /// How many articles (default 20).
    #[serde(default)]
    max_results: Option<u32>,
}

#[derive(Deserialize, schemars::JsonSchema)]
struct PanelArgs {
    /// The mutations, comma-separated, e.g. `EGFR L858R, KRAS G12C`.
    mutations: String,
    /// The condition, e.g. `non-small cell lung cancer` (optional).
    #[serde(default)]
    condition: Option<String>,
}

fn message(name: &str, args: BTreeMap<String, String>, then: &str) -> Result<PromptOutput, ToolError> {
    let def = crate::workflow::saved(name, &args)
        .ok_or_else(|| ToolError::not_found(format!("no saved workflow `{name}`")))?;
    let definition = serde_json::to_string(&def).map_err(|e| ToolError::internal(e.to_string()))?;
    let text = format!(
        "Run the saved workflow \"{}\" in one call: `workflow_run` with {{\"definition\": {definition}, \
         \"async_mode\": true}}. Follow it with `workflow_status` (its `workflow_id` is the job id it answers) \
         until it is completed, then {then}. If a step failed, say which and why (the status names the cause).",
        def.name
    );
    Ok(PromptOutput { description: Some(def.name.clone()), messages: vec![PromptMessage::user(text)] })
}

fn literature_to_index(_router: Router, args: serde_json::Value) -> ProtocolFuture<PromptOutput> {
    Box::pin(async move {
        let a: LiteratureArgs = parse_params(args)?;
        core_indexing::validate_index_id(&a.index)
            .map_err(|e| ToolError::invalid_argument("index", e.to_string()))?;
        let mut args = BTreeMap::from([("query".to_owned(), a.query), ("index".to_owned(), a.index.clone())]);
        if let Some(m) = a.max_results {
            args.insert("max_results".into(), m.to_string());
        }
        let then = format!("search the articles with `index_search` on `{}`", a.index);
        message("literature-to-index", args, &then)
    })
}

fn mutation_panel(_router: Router, args: serde_json::Value) -> ProtocolFuture<PromptOutput> {
    Box::pin(async move {
        let a: PanelArgs = parse_params(args)?;
        for m in a.mutations.split(',').map(str::trim).filter(|m| !m.is_empty()) {
            core_scrapers::mutation::parse_mutation(m)
                .map_err(|e| ToolError::invalid_argument("mutations", format!("`{m}`: {e}")))?;
        }
        let mut args = BTreeMap::from([("mutations".to_owned(), a.mutations)]);
        if let Some(c) = a.condition.filter(|c| !c.trim().is_empty()) {
            args.insert("condition".into(), c);
        }
        message("mutation-panel", args, "summarize the best trial for each mutation from `outputs.best`")
    })
}

inventory::submit! { PromptDescriptor {
    name: "literature_to_index",
    title: "Literature to index (saved workflow)",
    description: "Runs the saved workflow: PubMed search → fetch the articles → add them to a new local index, \
                  then searchable with index_search.",
    arguments: schema_for::<LiteratureArgs>,
    get: literature_to_index,
}}

inventory::submit! { PromptDescriptor {
    name: "mutation_panel",
    title: "Mutation panel (saved workflow)",
    description: "Runs the saved workflow: match a patient's mutations to trials → read the best match of each.",
    arguments: schema_for::<PanelArgs>,
    get: mutation_panel,
}}
