//! Research prompts: trials for a patient's mutations, a literature review of a gene alteration.

use serde::Deserialize;
use tool_metadata::__private::{parse_params, schema_for};
use tool_metadata::ToolError;

use crate::Router;
use crate::protocol::{PromptDescriptor, PromptMessage, PromptOutput, ProtocolFuture};

#[derive(Deserialize, schemars::JsonSchema)]
struct TrialsArgs {
    /// The patient's mutations, comma-separated, e.g. `BRAF V600E, EGFR exon 19 deletion`.
    mutations: String,
    /// The condition, e.g. `melanoma` (optional).
    #[serde(default)]
    condition: Option<String>,
    /// Where the patient can travel, e.g. `Boston, MA` (optional).
    #[serde(default)]
    location: Option<String>,
}

fn trials_for_mutations(_router: Router, args: serde_json::Value) -> ProtocolFuture<PromptOutput> {
    Box::pin(async move {
        let a: TrialsArgs = parse_params(args)?;
        let mut labels = Vec::new();
        for m in a.mutations.split(',').map(str::trim).filter(|m| !m.is_empty()) {
            let parsed = core_scrapers::mutation::parse_mutation(m)
                .map_err(|e| ToolError::invalid_argument("mutations", format!("`{m}`: {e}")))?;
            labels.push(parsed.label);
        }
        if labels.is_empty() {
            return Err(ToolError::invalid_argument(
                "mutations",
                "give at least one mutation, e.g. BRAF V600E",
            ));
        }
        let mut filters = serde_json::Map::new();
        if let Some(c) = a.condition.filter(|c| !c.trim().is_empty()) {
            filters.insert("condition".into(), c.into());
        }
        if let Some(l) = a.location.filter(|l| !l.trim().is_empty()) {
            filters.insert("location".into(), l.into());
        }
        let call = serde_json::json!({ "mutations": labels, "filters": filters });
        let text = format!(
            "Find recruiting clinical trials this patient may be eligible for. Mutations: {}.\n\n\
             1. Call `trials_match_batch` with {call}.\n\
             2. For the strongest matches (the alteration named in the inclusion criteria), call `trial_get` and \
             check the eligibility criteria against the patient.\n\
             3. List trials that exclude any of these mutations apart, quoting the excluding sentence.\n\
             Answer with a table: NCT id, title, phase, why it matches, nearest site, and open questions for the \
             care team. Never claim eligibility: say what must be checked.",
            labels.join(", ")
        );
        Ok(PromptOutput {
            description: Some(format!("Trials for {}", labels.join(", "))),
            messages: vec![PromptMessage::user(text)],
        })
    })
}

#[derive(Deserialize, schemars::JsonSchema)]
struct ReviewArgs {
    /// The gene symbol, e.g. `KRAS`.
    gene: String,
    /// The alteration, e.g. `G12C` (optional: the gene as a whole otherwise).
    #[serde(default)]
    alteration: Option<String>,
    /// What to focus on, e.g. `resistance to sotorasib` (optional).
    #[serde(default)]
    focus: Option<String>,
}

fn literature_review(_router: Router, args: serde_json::Value) -> ProtocolFuture<PromptOutput> {
    Box::pin(async move {
        let a: ReviewArgs = parse_params(args)?;
        let gene = a.gene.trim().to_uppercase();
        if gene.is_empty() || !gene.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
            return Err(ToolError::invalid_argument(
                "gene",
                format!("expected a gene symbol such as KRAS, got `{}`", a.gene),
            ));
        }
        let subject = match a.alteration.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            Some(alt) => format!("{gene} {alt}"),
            None => gene.clone(),
        };
        let query =
            format!("\"{subject}\"{}", a.focus.as_deref().map(|f| format!(" AND ({f})")).unwrap_or_default());
        let index =
            format!("review-{}", subject.to_lowercase().replace(|c: char| !c.is_ascii_alphanumeric(), "-"));
        let text = format!(
            "Write a literature review of {subject}{}.\n\n\
             1. Call `pubmed_search` with {{\"query\": {query:?}, \"max_results\": 50, \"sort\": \"relevance\", \
             \"index\": \"{index}\"}} (and once more sorted by date for the newest work).\n\
             2. Use `index_search` on `{index}` to find passages on prevalence, prognosis, therapies and resistance.\n\
             3. Write: background; frequency by tumor type; therapeutic implications (approved, investigational); \
             resistance; open questions. Cite every claim with its PMID.",
            a.focus.as_deref().map(|f| format!(", focused on {f}")).unwrap_or_default()
        );
        Ok(PromptOutput {
            description: Some(format!("Literature review: {subject}")),
            messages: vec![PromptMessage::user(text)],
        })
    })
}

inventory::submit! { PromptDescriptor {
    name: "find_trials_for_mutations",
    title: "Find trials for a patient's mutations",
    description: "Clinical trials a patient with these mutations may join: matched on the mutations' textual \
                  forms in eligibility criteria, filtered by condition and location, exclusions listed apart.",
    arguments: schema_for::<TrialsArgs>,
    get: trials_for_mutations,
}}

inventory::submit! { PromptDescriptor {
    name: "literature_review",
    title: "Literature review of a gene alteration",
    description: "A cited review of what PubMed says about a gene or one of its alterations: prevalence, \
                  therapies, resistance; results kept in a local index for follow-up searches.",
    arguments: schema_for::<ReviewArgs>,
    get: literature_review,
}}
