//! Completions for prompt and resource-template arguments, chosen by the argument's name.
//!
//! | argument | suggestions |
//! |---|---|
//! | `pmid`, `pmids` | PMIDs seen in research results (every instance's with Redis), newest first |
//! | `nct_id`, `nct_ids` | NCT ids seen likewise |
//! | `id`, `index_id`, `index` | the indexes (`index_list`) |
//! | `doc_id` | document ids of the index named by `id` in the context (`index_search`, first 200) |
//! | `job_id` | the newest jobs |
//! | `gene` | gene symbols and aliases the mutation parser knows, and the genes of the well-known mutations |
//! | `mutation` | well-known mutations (`EGFR L858R`...) |
//! | `mutations` | the same, for the last item of a comma-separated list |
//! | `alteration` | the alterations of the well-known mutations (of the context's `gene` when given) |
//!
//! Matching is by prefix, case-insensitive; a case-exact prefix ranks first, then shorter values.

use std::collections::BTreeMap;

use core_scrapers::mutation::gene_aliases;
use core_scrapers::warm::DEFAULT_WARM_MUTATIONS;
use serde_json::json;
use tool_metadata::ToolError;

use crate::{CallOptions, CallOutcome, Router};

/// The most values one answer carries (MCP's limit).
pub const MAX_COMPLETIONS: usize = 100;

/// What is being completed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompletionRef<'a> {
    /// An argument of the prompt with this name.
    Prompt(&'a str),
    /// A variable of the resource template with this URI.
    Resource(&'a str),
}

/// The suggestions: at most [`MAX_COMPLETIONS`] values, how many matched, and whether some were left out.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Completion {
    /// The best values, best first.
    pub values: Vec<String>,
    /// How many values matched.
    pub total: usize,
    /// Whether more matched than `values` holds.
    pub has_more: bool,
}

/// Suggestions for `argument` of `reference` starting with `value`; `context` holds the arguments
/// already filled. An unknown prompt or template is an error; an argument pipette has no source for
/// gets no suggestions.
pub async fn complete(
    router: &Router,
    reference: CompletionRef<'_>,
    argument: &str,
    value: &str,
    context: &BTreeMap<String, String>,
) -> Result<Completion, ToolError> {
    match reference {
        CompletionRef::Prompt(name) if super::prompt(name).is_none() => {
            return Err(ToolError::invalid_argument(
                "ref",
                format!("no prompt `{name}`; prompts/list shows them"),
            ));
        }
        CompletionRef::Resource(uri) if !super::resources().iter().any(|d| d.uri == uri) => {
            return Err(ToolError::invalid_argument(
                "ref",
                format!("no resource template `{uri}`; resources/templates/list shows them"),
            ));
        }
        _ => {}
    }
    let (prefix, last) = match argument {
        // A list: complete its last item, keeping what comes before.
        "mutations" | "pmids" | "nct_ids" => match value.rfind(',') {
            Some(i) => (format!("{}, ", value[..i].trim_end()), value[i + 1..].trim_start()),
            None => (String::new(), value),
        },
        _ => (String::new(), value),
    };
    let candidates = candidates(router, argument, context).await;
    let mut done = rank(candidates, last);
    if !prefix.is_empty() {
        for v in &mut done.values {
            v.insert_str(0, &prefix);
        }
    }
    Ok(done)
}

async fn candidates(router: &Router, argument: &str, context: &BTreeMap<String, String>) -> Vec<String> {
    match argument {
        "pmid" | "pmids" => router.seen_ids().pmids().await,
        "nct_id" | "nct_ids" => router.seen_ids().nct_ids().await,
        "id" | "index_id" | "index" => ids_of(router, "index_list", json!({}), "indexes", "id").await,
        "doc_id" => match context.get("id").or_else(|| context.get("index_id")) {
            Some(id) => {
                let args = json!({ "id": id, "query": "*", "limit": 200 });
                ids_of(router, "index_search", args, "hits", "doc_id").await
            }
            None => Vec::new(),
        },
        "job_id" => router
            .jobs()
            .list(router.principal(), None, None, 200)
            .map(|j| j.into_iter().map(|j| j.job_id).collect())
            .unwrap_or_default(),
        "gene" => genes(),
        "mutation" | "mutations" => DEFAULT_WARM_MUTATIONS.iter().map(|m| (*m).to_owned()).collect(),
        "alteration" => {
            let gene = context.get("gene").map(|g| g.trim().to_ascii_uppercase());
            DEFAULT_WARM_MUTATIONS
                .iter()
                .filter_map(|m| m.split_once(' '))
                .filter(|(g, _)| gene.as_deref().is_none_or(|want| want == *g))
                .map(|(_, alt)| alt.to_owned())
                .collect()
        }
        _ => Vec::new(),
    }
}

/// The `field` of each item of `list` in the result of `tool` (nothing when the call fails).
async fn ids_of(
    router: &Router,
    tool: &str,
    args: serde_json::Value,
    list: &str,
    field: &str,
) -> Vec<String> {
    let options = CallOptions { inline_ms: Some(30_000), ..Default::default() };
    let Ok(CallOutcome::Done(v)) = router.call(tool, args, options).await else { return Vec::new() };
    v[list]
        .as_array()
        .map(|items| items.iter().filter_map(|i| i[field].as_str().map(str::to_owned)).collect())
        .unwrap_or_default()
}

fn genes() -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for (gene, aliases) in gene_aliases() {
        out.push((*gene).to_owned());
        out.extend(aliases.iter().map(|a| (*a).to_owned()));
    }
    out.extend(DEFAULT_WARM_MUTATIONS.iter().filter_map(|m| m.split(' ').next()).map(str::to_owned));
    out
}

/// Keeps the candidates starting with `typed` (any case), ranked: case-exact prefix first, then shorter,
/// then in the source's order; of values equal but for case, the best ranked stays.
fn rank(candidates: Vec<String>, typed: &str) -> Completion {
    let lower = typed.to_lowercase();
    let mut hits: Vec<(bool, usize, usize, String)> = candidates
        .into_iter()
        .enumerate()
        .filter(|(_, c)| c.to_lowercase().starts_with(&lower))
        .map(|(i, c)| (!c.starts_with(typed), c.chars().count(), i, c))
        .collect();
    hits.sort();
    let mut seen = std::collections::HashSet::new();
    hits.retain(|h| seen.insert(h.3.to_lowercase()));
    let total = hits.len();
    let values: Vec<String> = hits.into_iter().take(MAX_COMPLETIONS).map(|h| h.3).collect();
    Completion { has_more: total > values.len(), values, total }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn ranks_case_exact_then_shorter_then_source_order() {
        let c = rank(strings(&["BRAF V600E", "braf", "BRCA1", "BRAF", "EGFR", "BRAF"]), "BR");
        assert_eq!(c.values, ["BRAF", "BRCA1", "BRAF V600E"]);
        assert_eq!((c.total, c.has_more), (3, false));
        let c = rank(strings(&["b-x", "B", "bb"]), "b");
        assert_eq!(c.values, ["bb", "b-x", "B"]);
        let many: Vec<String> = (0..150).map(|i| format!("job-{i:03}")).collect();
        let c = rank(many, "JOB");
        assert_eq!((c.values.len(), c.total, c.has_more), (100, 150, true));
        assert_eq!(c.values[0], "job-000");
    }

    #[test]
    fn knows_genes_and_alterations() {
        let g = genes();
        for want in ["EGFR", "HER2", "BRAF", "PIK3CA"] {
            assert!(g.iter().any(|x| x == want), "{want} in {g:?}");
        }
        let c = rank(g, "br");
        assert_eq!(c.values, ["BRAF"]);
    }
}
