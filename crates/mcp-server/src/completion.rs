//! completion/complete: suggestions for prompt and resource-template arguments (mcp-tools chooses them).

use std::collections::BTreeMap;

use mcp_tools::Router;
use mcp_tools::protocol::{self, CompletionRef};
use rmcp::ErrorData as McpError;
use rmcp::model::{CompleteRequestParams, CompleteResult, CompletionInfo, Reference};

use crate::resources::to_mcp_error;

pub(crate) async fn complete(
    router: &Router,
    request: CompleteRequestParams,
) -> Result<CompleteResult, McpError> {
    let reference = match &request.r#ref {
        Reference::Prompt(p) => CompletionRef::Prompt(&p.name),
        Reference::Resource(r) => CompletionRef::Resource(&r.uri),
        _ => return Err(McpError::invalid_params("completion/complete: unknown kind of ref", None)),
    };
    let context: BTreeMap<String, String> =
        request.context.and_then(|c| c.arguments).unwrap_or_default().into_iter().collect();
    let argument = &request.argument;
    let done = protocol::complete(router, reference, &argument.name, &argument.value, &context)
        .await
        .map_err(|e| to_mcp_error(&e))?;
    let total = u32::try_from(done.total).unwrap_or(u32::MAX);
    let info = CompletionInfo::with_pagination(done.values, Some(total), done.has_more)
        .map_err(|e| McpError::internal_error(e, None))?;
    Ok(CompleteResult::new(info))
}
