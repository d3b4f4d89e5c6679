//! Content, logging, progress and error fixtures: `test_simple_text`, `test_image_content`,
//! `test_audio_content`, `test_embedded_resource`, `test_multiple_content_types`, `test_tool_with_logging`,
//! `test_tool_with_progress`, `test_error_handling` and `json_schema_2020_12_tool`.

use std::time::Duration;

use serde::Deserialize;
use tool_metadata::{Content, ErrorKind, ResourceBody, RichOutput, ToolContext, ToolError, tool_metadata};

/// No arguments.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub(super) struct NoArgs {}

fn rich(content: Vec<Content>) -> Result<RichOutput, ToolError> {
    Ok(RichOutput { content })
}

fn image() -> Content {
    Content::Image { data: super::png_base64(), mime_type: "image/png".into() }
}

/// Conformance fixture: returns one text block.
#[tool_metadata(category = fixture, runtime = Async, timeout_seconds = 10, read_only, idempotent)]
async fn test_simple_text(_p: NoArgs) -> Result<RichOutput, ToolError> {
    rich(vec![Content::text("This is a simple text response for testing.")])
}

/// Conformance fixture: returns a 1×1 PNG image block.
#[tool_metadata(category = fixture, runtime = Async, timeout_seconds = 10, read_only, idempotent)]
async fn test_image_content(_p: NoArgs) -> Result<RichOutput, ToolError> {
    rich(vec![image()])
}

/// Conformance fixture: returns a short WAV audio block.
#[tool_metadata(category = fixture, runtime = Async, timeout_seconds = 10, read_only, idempotent)]
async fn test_audio_content(_p: NoArgs) -> Result<RichOutput, ToolError> {
    rich(vec![Content::Audio { data: super::wav_base64(), mime_type: "audio/wav".into() }])
}

/// Conformance fixture: returns an embedded text resource.
#[tool_metadata(category = fixture, runtime = Async, timeout_seconds = 10, read_only, idempotent)]
async fn test_embedded_resource(_p: NoArgs) -> Result<RichOutput, ToolError> {
    let body =
        ResourceBody::text("test://embedded-resource", "text/plain", "This is an embedded resource content.");
    rich(vec![Content::Resource { resource: body }])
}

/// Conformance fixture: returns text, an image and an embedded JSON resource.
#[tool_metadata(category = fixture, runtime = Async, timeout_seconds = 10, read_only, idempotent)]
async fn test_multiple_content_types(_p: NoArgs) -> Result<RichOutput, ToolError> {
    let body = ResourceBody::text(
        "test://mixed-content-resource",
        "application/json",
        r#"{"test":"data","value":123}"#,
    );
    rich(vec![Content::text("Multiple content types test:"), image(), Content::Resource { resource: body }])
}

/// Conformance fixture: logs three info events 50 ms apart (sent to the caller as notifications/message).
#[tool_metadata(category = fixture, runtime = Async, timeout_seconds = 10, read_only)]
async fn test_tool_with_logging(_p: NoArgs) -> Result<RichOutput, ToolError> {
    tracing::info!("Tool execution started");
    tokio::time::sleep(Duration::from_millis(50)).await;
    tracing::info!("Tool processing data");
    tokio::time::sleep(Duration::from_millis(50)).await;
    tracing::info!("Tool execution completed");
    rich(vec![Content::text("Tool with logging executed successfully")])
}

/// Conformance fixture: reports progress 0, 50 and 100 of 100, 50 ms apart.
#[tool_metadata(category = fixture, runtime = Async, timeout_seconds = 10, read_only)]
async fn test_tool_with_progress(ctx: ToolContext, _p: NoArgs) -> Result<RichOutput, ToolError> {
    for (i, step) in [0, 50, 100].into_iter().enumerate() {
        if i > 0 {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        ctx.progress().report(step, Some(100), &format!("{step}%"));
    }
    rich(vec![Content::text("Tool with progress executed successfully")])
}

/// Conformance fixture: always fails (the call's result has isError: true).
#[tool_metadata(category = fixture, runtime = Async, timeout_seconds = 10, read_only)]
async fn test_error_handling(_p: NoArgs) -> Result<RichOutput, ToolError> {
    Err(ToolError::new(ErrorKind::Conflict, "This tool intentionally returns an error for testing")
        .with_retryable(false))
}

/// A postal address.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[allow(dead_code)] // only its schema matters
#[schemars(rename = "address")]
struct Address {
    /// The street.
    street: Option<String>,
    /// The city.
    city: Option<String>,
}

/// Arguments whose schema uses JSON Schema 2020-12 features ($defs, $ref, additionalProperties: false).
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct SchemaArgs {
    /// A name.
    name: Option<String>,
    /// An address.
    address: Option<Address>,
}

/// Conformance fixture: Tool with JSON Schema 2020-12 features (its input schema keeps `$schema`, `$defs`
/// and `additionalProperties: false`).
#[tool_metadata(category = fixture, runtime = Async, timeout_seconds = 10, read_only, idempotent)]
async fn json_schema_2020_12_tool(p: SchemaArgs) -> Result<RichOutput, ToolError> {
    let city = p.address.and_then(|a| a.city).unwrap_or_default();
    rich(vec![Content::text(format!("name={} city={city}", p.name.unwrap_or_default()))])
}
