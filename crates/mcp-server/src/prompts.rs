//! prompts/list and prompts/get over the prompts declared in mcp-tools.

use mcp_tools::Router;
use mcp_tools::protocol::{self, PromptOutput};
use rmcp::ErrorData as McpError;
use rmcp::model::{GetPromptRequestParams, GetPromptResult, ListPromptsResult, Prompt, PromptArgument};

use crate::resources::to_mcp_error;

pub(crate) fn list() -> ListPromptsResult {
    let prompts = protocol::prompts()
        .into_iter()
        .map(|d| {
            let args = d
                .argument_list()
                .into_iter()
                .map(|a| {
                    let mut arg = PromptArgument::new(a.name).with_required(a.required);
                    if let Some(desc) = a.description {
                        arg = arg.with_description(desc);
                    }
                    arg
                })
                .collect::<Vec<_>>();
            let args = (!args.is_empty()).then_some(args);
            Prompt::new(d.name, Some(d.description), args).with_title(d.title)
        })
        .collect();
    ListPromptsResult::with_all_items(prompts)
}

pub(crate) async fn get(
    router: &Router,
    request: GetPromptRequestParams,
) -> Result<GetPromptResult, McpError> {
    let Some(d) = protocol::prompt(&request.name) else {
        let known: Vec<_> = protocol::prompts().iter().map(|d| d.name).collect();
        return Err(McpError::invalid_params(
            format!("unknown prompt `{}`; prompts/list shows: {}", request.name, known.join(", ")),
            None,
        ));
    };
    let args = request.arguments.map(serde_json::Value::Object).unwrap_or(serde_json::Value::Null);
    let output: PromptOutput = (d.get)(router.clone(), args).await.map_err(|e| to_mcp_error(&e))?;
    let value = serde_json::json!({ "description": output.description, "messages": output.messages });
    let mut result: GetPromptResult = serde_json::from_value(value)
        .map_err(|e| McpError::internal_error(format!("prompt {}: {e}", d.name), None))?;
    // What the constructors set (rmcp leaves it out for 2025-era peers); from JSON it would be absent.
    result.result_type = Some(rmcp::model::ResultType::COMPLETE);
    Ok(result)
}
