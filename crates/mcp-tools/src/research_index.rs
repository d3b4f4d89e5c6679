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
    #[serde(default)]
    pub(crate) index: Option<String>,
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
