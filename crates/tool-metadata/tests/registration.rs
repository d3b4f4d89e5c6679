//! `#[tool_metadata]` registers a descriptor with the declared metadata, schemas and a working handler.

use std::sync::Arc;

use tokio_util::sync::CancellationToken;
use tool_metadata::{
    Category, ErrorKind, Progress, RetryPolicy, Runtime, ToolContext, ToolError, tool_metadata,
};

#[derive(serde::Deserialize, schemars::JsonSchema)]
struct EchoParams {
    /// What to echo.
    text: String,
    /// How many times.
    #[serde(default = "one")]
    times: u32,
}

fn one() -> u32 {
    1
}

#[derive(serde::Serialize, schemars::JsonSchema)]
struct EchoOut {
    text: String,
}

/// Echoes its input.
///
/// Twice, if asked.
#[tool_metadata(category = ops, runtime = Async, priority = 7, timeout_seconds = 5,
                retry = exponential(2, 10), cache_ttl_seconds = 60, read_only, idempotent = true,
                deprecated = "use echo2")]
async fn echo(params: EchoParams) -> Result<EchoOut, ToolError> {
    Ok(EchoOut { text: params.text.repeat(params.times as usize) })
}

/// Renamed and with a context.
#[tool_metadata(name = "echo_ctx", category = fixture, runtime = Blocking, timeout_seconds = 1)]
async fn echo_with_context(ctx: ToolContext, params: EchoParams) -> Result<EchoOut, ToolError> {
    Ok(EchoOut { text: format!("{}:{}", ctx.tool(), params.text) })
}

fn find(name: &str) -> &'static tool_metadata::ToolDescriptor {
    tool_metadata::registered().find(|d| d.name == name).expect("registered")
}

fn ctx(tool: &'static str) -> ToolContext {
    ToolContext::new(tool, Progress::default(), CancellationToken::new(), Arc::default())
}

#[tokio::test]
async fn descriptors_carry_the_declared_metadata() {
    let d = find("echo");
    assert_eq!(d.description, "Echoes its input.\n\nTwice, if asked.");
    assert_eq!((d.category, d.runtime, d.priority, d.timeout_seconds), (Category::Ops, Runtime::Async, 7, 5));
    assert_eq!(d.retry, RetryPolicy::Exponential { retries: 2, base_ms: 10 });
    assert_eq!(d.cache_ttl_seconds, Some(60));
    assert!(d.annotations.read_only && d.annotations.idempotent);
    assert!(!d.annotations.destructive && !d.annotations.open_world);
    assert_eq!(d.deprecated, Some("use echo2"));
    assert!(d.source.ends_with(".rs:28") || d.source.contains("registration.rs"), "{}", d.source);

    let input = (d.input_schema)();
    assert_eq!(input["type"], "object");
    assert_eq!(input["properties"]["text"]["description"], "What to echo.");
    assert_eq!(input["required"], serde_json::json!(["text"]));
    assert_eq!((d.output_schema)()["properties"]["text"]["type"], "string");

    let d2 = find("echo_ctx");
    assert_eq!(
        (d2.category, d2.runtime, d2.priority, d2.retry),
        (Category::Fixture, Runtime::Blocking, 5, RetryPolicy::None)
    );
    assert_eq!(d2.cache_ttl_seconds, None);
}

#[tokio::test]
async fn handlers_parse_parameters_and_name_the_wrong_one() {
    let d = find("echo");
    let out = (d.handler)(serde_json::json!({"text": "ab", "times": 2}), ctx("echo")).await.expect("ok");
    assert_eq!(out, serde_json::json!({"text": "abab"}));

    let d2 = find("echo_ctx");
    let out = (d2.handler)(serde_json::json!({"text": "x"}), ctx("echo_ctx")).await.expect("ok");
    assert_eq!(out["text"], "echo_ctx:x");

    let missing = (d.handler)(serde_json::json!({}), ctx("echo")).await.unwrap_err();
    assert_eq!((missing.kind, missing.param.as_deref()), (ErrorKind::InvalidArgument, Some("text")));

    let wrong = (d.handler)(serde_json::json!({"text": "a", "times": "x"}), ctx("echo")).await.unwrap_err();
    assert_eq!(wrong.param.as_deref(), Some("times"));
    assert!(wrong.message.contains("expected u32"), "{}", wrong.message);
}

#[test]
fn bad_attributes_are_compile_errors() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/*.rs");
}

#[derive(Debug, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
enum Format {
    Concise,
    Detailed,
}

#[derive(Debug, serde::Deserialize)]
struct Shared {
    #[serde(default)]
    format: Option<Format>,
}

#[derive(Debug, serde::Deserialize)]
#[allow(dead_code)] // only parsed
struct WithFlatten {
    query: String,
    #[serde(default)]
    limit: Option<u32>,
    #[serde(flatten)]
    shared: Shared,
}

#[test]
fn a_wrong_argument_is_named_even_inside_a_flatten() {
    use tool_metadata::__private::parse_params;
    let param = |args: serde_json::Value| parse_params::<WithFlatten>(args).unwrap_err().param.unwrap();
    // serde loses the path inside a flatten: the argument whose removal lets the rest parse is named.
    assert_eq!(param(serde_json::json!({ "query": "x", "format": "nope" })), "format");
    assert_eq!(
        param(serde_json::json!({ "query": "x", "format": 18446744073709551616u128 as f64 })),
        "format"
    );
    assert_eq!(param(serde_json::json!({ "format": "concise" })), "query", "a missing field names itself");
    assert_eq!(param(serde_json::json!({ "query": "x", "limit": -1 })), "limit");
    let ok = parse_params::<WithFlatten>(serde_json::json!({ "query": "x", "format": "detailed" })).unwrap();
    assert!(matches!(ok.shared.format, Some(Format::Detailed)));
    let _ = Format::Concise;
}
