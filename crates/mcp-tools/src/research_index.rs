//! Research results → index: what `pubmed_*` and `trials_*` found is also upserted into a local index on request.

use std::sync::Arc;

use core_indexing::{AddResponse, BuiltinSchema, IndexManager};
use serde::{Deserialize, Serialize};
use tool_metadata::ToolContext;

use crate::Error;

/// A research tool's parameters plus the optional index to keep its results in.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub(crate) struct WithIndex<T> {
    #[serde(flatten)]
    pub(crate) request: T,
    /// Also store results in this local index.
    #[serde(default, deserialize_with = "index_id")]
    pub(crate) index: Option<String>,
}

/// The `index` argument, checked as an index id before any upstream request (a bad one is a problem with
/// `index`, not with the index manager's `id`).
fn index_id<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Option<String>, D::Error> {
    let id = Option::<String>::deserialize(deserializer)?;
    if let Some(id) = &id {
        core_indexing::validate_index_id(id).map_err(|e| match e {
            core_indexing::IndexError::InvalidArgument { reason, .. } => {
                serde::de::Error::custom(format!("invalid `index`: {reason}"))
            }
            other => serde::de::Error::custom(format!("invalid `index`: {other}")),
        })?;
    }
    Ok(id)
}

/// A research tool's result plus what was indexed, when asked.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub(crate) struct Indexed<T> {
    #[serde(flatten)]
    pub(crate) result: T,
    /// What the `index` argument added or updated.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) indexed: Option<AddResponse>,
}

/// Upserts `items` into `index` (on the blocking pool: tantivy work never runs on the I/O threads).
pub(crate) async fn index_into<T: Serialize>(
    ctx: &ToolContext,
    index: Option<&str>,
    kind: BuiltinSchema,
    items: &[T],
) -> Result<Option<AddResponse>, Error> {
    let Some(index) = index else { return Ok(None) };
    let manager: Arc<IndexManager> = ctx.service()?;
    let docs: Vec<serde_json::Value> = items.iter().filter_map(|i| serde_json::to_value(i).ok()).collect();
    let index = index.to_owned();
    let added = tokio::task::spawn_blocking(move || manager.upsert_research(&index, kind, &docs))
        .await
        .map_err(|e| tool_metadata::ToolError::internal(format!("indexing the results failed: {e}")))??;
    Ok(Some(added))
}

/// A result's markdown plus a line saying what the `index` argument added, when it was given.
pub(crate) fn with_index_note(indexed: Option<&AddResponse>, mut markdown: String) -> String {
    if let Some(a) = indexed {
        markdown.push_str(&format!(
            "\nIndexed into `{}`: {} added, {} updated, {} rejected (search them with `index_search`).\n",
            a.id, a.added, a.updated, a.rejected
        ));
    }
    markdown
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Deserialize, schemars::JsonSchema)]
    struct Query {
        #[allow(dead_code)]
        query: String,
    }

    #[test]
    fn a_bad_index_is_refused_before_any_request_naming_index() {
        let parse = tool_metadata::__private::parse_params::<WithIndex<Query>>;
        let err = parse(serde_json::json!({"query": "x", "index": "../bad"})).unwrap_err();
        assert_eq!(err.param.as_deref(), Some("index"), "{err:?}");
        assert!(err.message.contains("must not be a path"), "{}", err.message);
        let ok = parse(serde_json::json!({"query": "x", "index": "papers"})).unwrap();
        assert_eq!(ok.index.as_deref(), Some("papers"));
        assert!(parse(serde_json::json!({"query": "x"})).unwrap().index.is_none());
    }
}
