//! The built-in workflows a person runs by name (served as prompts and resources): "literature to index"
//! and "mutation panel", each a definition built from a few arguments.

use serde_json::json;

use super::Definition;

/// "literature to index": PubMed search → fetch the articles → add them to a new local index (one
/// document per article: PMID and title).
pub(crate) fn literature_to_index(query: &str, index: &str, max_results: u32) -> Definition {
    let def = json!({
        "name": "literature to index",
        "steps": [
            {"id": "create", "tool": "index_create", "args": {"id": index, "schema": {"builtin": "pubmed"}}},
            {"id": "search", "tool": "pubmed_search", "args": {"query": query, "max_results": max_results}},
            {"id": "fetch", "tool": "pubmed_fetch",
             "args": {"pmids": {"$ref": "search", "path": "$.articles[*].pmid"}}},
            {"id": "index", "tool": "index_add", "depends_on": ["create"],
             "for_each": {"$ref": "fetch", "path": "$.articles[*]"},
             "args": {"id": index, "documents": [{
                 "pmid": {"$ref": "$item", "path": "$.pmid"},
                 "title": {"$ref": "$item", "path": "$.title"},
             }]}},
        ],
        "max_parallel": 4,
    });
    serde_json::from_value(def).unwrap_or_else(|_| unreachable_definition())
}

/// "mutation panel": match the mutations to trials, then read the best match of each in full.
pub(crate) fn mutation_panel(mutations: &[String], condition: Option<&str>) -> Definition {
    let mut args = serde_json::Map::new();
    args.insert("mutations".into(), json!(mutations));
    if let Some(c) = condition {
        args.insert("condition".into(), c.into());
    }
    let def = json!({
        "name": "mutation panel",
        "steps": [
            {"id": "match", "tool": "trials_match_batch", "args": args},
            {"id": "best", "tool": "trial_get",
             "for_each": {"$ref": "match", "path": "$.results[*].result.matches[0].trial.nct_id"},
             "args": {"nct_id": {"$ref": "$item"}}},
        ],
        "max_parallel": 4,
    });
    serde_json::from_value(def).unwrap_or_else(|_| unreachable_definition())
}

/// The saved workflows by name, as `workflow://saved/{name}` and the prompts call them.
pub(crate) const SAVED: [(&str, &str); 2] = [
    ("literature-to-index", "PubMed search → fetch the articles → add them to a new local index"),
    ("mutation-panel", "match mutations to trials → read the best match of each in full"),
];

/// A saved workflow by name, its arguments from `args` (a missing one is left as a placeholder to fill).
pub(crate) fn saved(name: &str, args: &std::collections::BTreeMap<String, String>) -> Option<Definition> {
    let arg = |k: &str, placeholder: &str| args.get(k).cloned().unwrap_or_else(|| placeholder.to_owned());
    match name {
        "literature-to-index" => {
            let max = args.get("max_results").and_then(|m| m.parse().ok()).unwrap_or(20);
            Some(literature_to_index(&arg("query", "<PubMed query>"), &arg("index", "literature"), max))
        }
        "mutation-panel" => {
            let mutations: Vec<String> = arg("mutations", "<GENE CHANGE>")
                .split(',')
                .map(|m| m.trim().to_owned())
                .filter(|m| !m.is_empty())
                .collect();
            Some(mutation_panel(&mutations, args.get("condition").map(String::as_str)))
        }
        _ => None,
    }
}

/// The definitions above are literal and always parse; should one not, it is an empty (invalid) one that
/// `workflow_validate` reports rather than a panic.
fn unreachable_definition() -> Definition {
    Definition { name: String::new(), steps: Vec::new(), max_parallel: None }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Registry;

    #[test]
    fn the_saved_workflows_are_valid() {
        let registry = Registry::from_inventory().unwrap();
        let lit = literature_to_index("BRAF V600E", "papers", 10);
        let (v, _) = super::super::validate(&lit, &registry);
        assert!(v.valid, "{:?}", v.errors);
        assert_eq!(v.waves, [vec!["create", "search"], vec!["fetch"], vec!["index"]]);
        let panel = mutation_panel(&["EGFR L858R".into()], Some("lung cancer"));
        let (v, _) = super::super::validate(&panel, &registry);
        assert!(v.valid, "{:?}", v.errors);
        assert_eq!(v.waves, [vec!["match"], vec!["best"]]);
    }
}
