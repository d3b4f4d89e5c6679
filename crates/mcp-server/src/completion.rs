//! completion/complete: suggestions for prompt and resource-template arguments.

use mcp_tools::Router;
use rmcp::ErrorData as McpError;
use rmcp::model::{CompleteRequestParams, CompleteResult};

pub(crate) async fn complete(
    router: &Router,
    request: CompleteRequestParams,
) -> Result<CompleteResult, McpError> {
    let _ = router;
    let _ = request;
    serde_json::from_value(serde_json::json!({ "completion": { "values": [], "hasMore": false } }))
        .map_err(|e| McpError::internal_error(e.to_string(), None))
}
