//! Task fixtures (SEP-2663) over the job store: `greet` (answers at once), `slow_compute` (sleeps, stops
//! when cancelled), `failing_job` (a tool error; tasks only), `protocol_error_job` (an internal error),
//! `confirm_delete` and `multi_input` (tasks at once that wait for the person), `test_tool_with_task` (asks
//! first, then continues as a task), and the stateless diagnostics `test_missing_capability`,
//! `test_streaming_elicitation`, `test_logging_tool` and `test_trigger_tool_change`, and `test_custom_header`
//! (a parameter mirrored in a custom header).

use std::time::Duration;

use serde::Deserialize;
use tool_metadata::{Content, ErrorKind, RichOutput, SampleRequest, ToolContext, ToolError, tool_metadata};

use super::tools::NoArgs;
use crate::protocol::{TaskSupport, TaskSupportDecl};

fn text(t: String) -> Result<RichOutput, ToolError> {
    Ok(RichOutput { content: vec![Content::text(t)] })
}

fn client(ctx: &ToolContext) -> Result<&std::sync::Arc<dyn tool_metadata::ClientBridge>, ToolError> {
    ctx.client().ok_or_else(|| ToolError::new(ErrorKind::Conflict, "this call has no MCP client behind it"))
}

/// Sleeps `d` unless the call is cancelled first.
async fn work(ctx: &ToolContext, d: Duration) -> Result<(), ToolError> {
    tokio::select! {
        () = tokio::time::sleep(d) => Ok(()),
        () = ctx.cancellation().cancelled() => Err(ToolError::new(ErrorKind::Cancelled, "cancelled")),
    }
}

/// Whom to greet.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
struct GreetArgs {
    /// A name.
    name: String,
}

/// Conformance fixture: greets at once.
#[tool_metadata(category = fixture, runtime = Async, timeout_seconds = 10, read_only, idempotent)]
async fn greet(p: GreetArgs) -> Result<RichOutput, ToolError> {
    text(format!("Hello, {}!", p.name))
}

/// How long to compute.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
struct ComputeArgs {
    /// Seconds to sleep.
    seconds: u64,
    /// A label echoed in the result.
    label: Option<String>,
}

/// Conformance fixture: sleeps `seconds` (a task past 300 ms), then answers; cancellable.
#[tool_metadata(category = fixture, runtime = Async, timeout_seconds = 300, inline_ms = 300, read_only)]
async fn slow_compute(ctx: ToolContext, p: ComputeArgs) -> Result<RichOutput, ToolError> {
    work(&ctx, Duration::from_secs(p.seconds.min(120))).await?;
    text(format!("computed {} after {} s", p.label.unwrap_or_default(), p.seconds))
}

/// Conformance fixture: fails with a tool error after a second (tasks only).
#[tool_metadata(category = fixture, runtime = Async, timeout_seconds = 30, inline_ms = 300, read_only)]
async fn failing_job(ctx: ToolContext, _p: NoArgs) -> Result<RichOutput, ToolError> {
    work(&ctx, Duration::from_secs(1)).await?;
    Err(ToolError::new(ErrorKind::Conflict, "failing_job failed, as it always does").with_retryable(false))
}

/// Conformance fixture: fails with an internal error after a second (a failed task).
#[tool_metadata(category = fixture, runtime = Async, timeout_seconds = 30, inline_ms = 300, read_only)]
async fn protocol_error_job(ctx: ToolContext, _p: NoArgs) -> Result<RichOutput, ToolError> {
    work(&ctx, Duration::from_secs(1)).await?;
    Err(ToolError::internal("protocol_error_job stopped with an internal error"))
}

/// The file to delete.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
struct DeleteArgs {
    /// A file name (nothing is deleted).
    filename: String,
}

/// Conformance fixture: a task that asks the person to confirm, then answers.
#[tool_metadata(category = fixture, runtime = Async, timeout_seconds = 120, read_only)]
async fn confirm_delete(ctx: ToolContext, p: DeleteArgs) -> Result<RichOutput, ToolError> {
    let schema = serde_json::json!({ "type": "object", "properties": { "confirm": { "type": "boolean" } } });
    let answer = client(&ctx)?.elicit(format!("Delete {}?", p.filename), schema).await?;
    text(format!("{}: {}", p.filename, answer.action.as_str()))
}

/// Conformance fixture: a task that asks two questions at once.
#[tool_metadata(category = fixture, runtime = Async, timeout_seconds = 120, read_only)]
async fn multi_input(ctx: ToolContext, _p: NoArgs) -> Result<RichOutput, ToolError> {
    let client = client(&ctx)?;
    let schema = serde_json::json!({ "type": "object", "properties": { "name": { "type": "string" } } });
    let (a, b) = futures::join!(
        client.elicit("First name?".into(), schema.clone()),
        client.elicit("Second name?".into(), schema),
    );
    text(format!("{} and {}", a?.action.as_str(), b?.action.as_str()))
}

/// Conformance fixture: asks the person's name (`user_name`) before it becomes a task, then works a second.
#[tool_metadata(category = fixture, runtime = Async, timeout_seconds = 60, inline_ms = 300, read_only)]
async fn test_tool_with_task(ctx: ToolContext, _p: NoArgs) -> Result<RichOutput, ToolError> {
    let schema = serde_json::json!({ "type": "object", "properties": { "name": { "type": "string" } }, "required": ["name"] });
    let answer = client(&ctx)?.elicit_as("user_name", "What is your name?".into(), schema).await?;
    let name = answer.content.as_ref().and_then(|c| c["name"].as_str()).unwrap_or("nobody").to_owned();
    work(&ctx, Duration::from_secs(1)).await?;
    text(format!("Hello, {name}!"))
}

/// Conformance fixture: needs sampling (a request that did not declare it is refused with -32021).
#[tool_metadata(category = fixture, runtime = Async, timeout_seconds = 30, read_only)]
async fn test_missing_capability(ctx: ToolContext, _p: NoArgs) -> Result<RichOutput, ToolError> {
    let answer =
        client(&ctx)?.sample(SampleRequest { system: None, prompt: "Say hi".into(), max_tokens: 20 }).await?;
    text(answer.text)
}

/// Conformance fixture: asks the person something (an input-required result, never a request on the stream).
#[tool_metadata(category = fixture, runtime = Async, timeout_seconds = 30, read_only)]
async fn test_streaming_elicitation(ctx: ToolContext, _p: NoArgs) -> Result<RichOutput, ToolError> {
    let schema = serde_json::json!({ "type": "object", "properties": { "ok": { "type": "boolean" } } });
    let answer = client(&ctx)?.elicit("Continue?".into(), schema).await?;
    text(format!("answered {}", answer.action.as_str()))
}

/// Conformance fixture: logs (sent only to clients that asked for a log level).
#[tool_metadata(category = fixture, runtime = Async, timeout_seconds = 10, read_only)]
async fn test_logging_tool(_p: NoArgs) -> Result<RichOutput, ToolError> {
    tracing::info!("test_logging_tool: started");
    tracing::warn!("test_logging_tool: finished");
    text("logged".into())
}

inventory::submit! { TaskSupportDecl { tool: "confirm_delete", support: TaskSupport::Immediate } }
inventory::submit! { TaskSupportDecl { tool: "multi_input", support: TaskSupport::Immediate } }
inventory::submit! { TaskSupportDecl { tool: "failing_job", support: TaskSupport::Required } }
inventory::submit! { TaskSupportDecl { tool: "test_tool_with_task", support: TaskSupport::Required } }

/// Where to route the call.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
struct RegionArgs {
    /// A region, mirrored into the `Mcp-Param-Region` header by 2026-07-28 clients.
    #[schemars(extend("x-mcp-header" = "Region"))]
    region: String,
}

/// Conformance fixture: a parameter mirrored in a custom header (SEP-2243 `x-mcp-header`; rmcp checks it).
#[tool_metadata(category = fixture, runtime = Async, timeout_seconds = 10, read_only, idempotent)]
async fn test_custom_header(p: RegionArgs) -> Result<RichOutput, ToolError> {
    text(format!("region {}", p.region))
}

/// Conformance fixture: the suite's hook to change the tool list; announces a server-wide change, as
/// whatever changes the tools every client sees does.
#[tool_metadata(category = fixture, runtime = Async, timeout_seconds = 10, read_only)]
async fn test_trigger_tool_change(_p: NoArgs) -> Result<RichOutput, ToolError> {
    crate::protocol::announce_tools_changed();
    text("announced a tool list change".into())
}
