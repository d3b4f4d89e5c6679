//! Fixtures that reach back to the client: `test_sampling`, `test_elicitation`,
//! `test_elicitation_sep1034_defaults`, `test_elicitation_sep1330_enums` and `test_reconnection`.

use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;
use serde_json::json;
use tool_metadata::{
    ClientBridge, Content, ErrorKind, RichOutput, SampleRequest, ToolContext, ToolError, tool_metadata,
};

use super::tools::NoArgs;

fn client(ctx: &ToolContext) -> Result<&Arc<dyn ClientBridge>, ToolError> {
    ctx.client().ok_or_else(|| ToolError::new(ErrorKind::Conflict, "this call has no MCP client behind it"))
}

fn text(t: String) -> Result<RichOutput, ToolError> {
    Ok(RichOutput { content: vec![Content::text(t)] })
}

/// The prompt to sample.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
struct SamplingArgs {
    /// The prompt to send to the client's model.
    prompt: String,
}

/// Conformance fixture: asks the client's model (sampling/createMessage) and returns its answer.
#[tool_metadata(category = fixture, runtime = Async, timeout_seconds = 60, read_only)]
async fn test_sampling(ctx: ToolContext, p: SamplingArgs) -> Result<RichOutput, ToolError> {
    let client = client(&ctx)?;
    let answer = client.sample(SampleRequest { system: None, prompt: p.prompt, max_tokens: 100 }).await?;
    text(format!("LLM response: {}", answer.text))
}

/// The message to show.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
struct ElicitationArgs {
    /// The message to show the person.
    message: String,
}

async fn elicit(
    ctx: &ToolContext,
    message: String,
    schema: serde_json::Value,
    prefix: &str,
) -> Result<RichOutput, ToolError> {
    let answer = client(ctx)?.elicit(message, schema).await?;
    let content = answer.content.unwrap_or(serde_json::Value::Null);
    text(format!("{prefix}: action={}, content={content}", answer.action.as_str()))
}

/// Conformance fixture: asks the person for a username and an email (elicitation/create).
#[tool_metadata(category = fixture, runtime = Async, timeout_seconds = 60, read_only)]
async fn test_elicitation(ctx: ToolContext, p: ElicitationArgs) -> Result<RichOutput, ToolError> {
    let schema = json!({
        "type": "object",
        "properties": {
            "username": { "type": "string", "description": "User's response" },
            "email": { "type": "string", "description": "User's email address" },
        },
        "required": ["username", "email"],
    });
    elicit(&ctx, p.message, schema, "User response").await
}

/// Conformance fixture: an elicitation whose fields all have defaults (SEP-1034).
#[tool_metadata(category = fixture, runtime = Async, timeout_seconds = 60, read_only)]
async fn test_elicitation_sep1034_defaults(ctx: ToolContext, _p: NoArgs) -> Result<RichOutput, ToolError> {
    let schema = json!({
        "type": "object",
        "properties": {
            "name": { "type": "string", "description": "Your name", "default": "John Doe" },
            "age": { "type": "integer", "description": "Your age", "default": 30 },
            "score": { "type": "number", "description": "Your score", "default": 95.5 },
            "status": {
                "type": "string",
                "description": "Your status",
                "enum": ["active", "inactive", "pending"],
                "default": "active",
            },
            "verified": { "type": "boolean", "description": "Verified?", "default": true },
        },
    });
    elicit(
        &ctx,
        "Please review and update the form fields with defaults".into(),
        schema,
        "Elicitation completed",
    )
    .await
}

/// Conformance fixture: an elicitation with the five enum shapes of SEP-1330.
#[tool_metadata(category = fixture, runtime = Async, timeout_seconds = 60, read_only)]
async fn test_elicitation_sep1330_enums(ctx: ToolContext, _p: NoArgs) -> Result<RichOutput, ToolError> {
    let titled = |prefix: &str, names: [&str; 3]| {
        names
            .iter()
            .enumerate()
            .map(|(i, t)| json!({ "const": format!("{prefix}{}", i + 1), "title": t }))
            .collect::<Vec<_>>()
    };
    let schema = json!({
        "type": "object",
        "properties": {
            "untitledSingle": { "type": "string", "enum": ["option1", "option2", "option3"] },
            "titledSingle": {
                "type": "string",
                "oneOf": titled("value", ["First Option", "Second Option", "Third Option"]),
            },
            "legacyEnum": {
                "type": "string",
                "enum": ["opt1", "opt2", "opt3"],
                "enumNames": ["Option One", "Option Two", "Option Three"],
            },
            "untitledMulti": {
                "type": "array",
                "items": { "type": "string", "enum": ["option1", "option2", "option3"] },
            },
            "titledMulti": {
                "type": "array",
                "items": { "anyOf": titled("value", ["First Choice", "Second Choice", "Third Choice"]) },
            },
        },
    });
    elicit(&ctx, "Please choose from the options".into(), schema, "Elicitation completed").await
}

/// Conformance fixture: closes its own response stream mid-call, so the client reconnects with
/// Last-Event-ID and receives the result on the resumed stream (SSE polling, SEP-1699).
#[tool_metadata(category = fixture, runtime = Async, timeout_seconds = 30, read_only)]
async fn test_reconnection(ctx: ToolContext, _p: NoArgs) -> Result<RichOutput, ToolError> {
    let closed = match ctx.client() {
        Some(client) => client.close_stream(Duration::from_millis(500)).await?,
        None => false,
    };
    // A little work after the close; the result is kept for the resumed stream whenever it comes.
    tokio::time::sleep(Duration::from_millis(200)).await;
    text(format!("Reconnection test completed (stream closed mid-call: {closed})"))
}
