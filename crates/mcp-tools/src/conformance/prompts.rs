//! Prompt fixtures: `test_simple_prompt`, `test_prompt_with_arguments`,
//! `test_prompt_with_embedded_resource` and `test_prompt_with_image`.

use serde::Deserialize;
use tool_metadata::{Content, ResourceBody, ToolError};

use crate::Router;
use crate::protocol::{PromptDescriptor, PromptMessage, PromptOutput, ProtocolFuture, Role};

/// No arguments.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
struct NoArgs {}

/// The two arguments of `test_prompt_with_arguments`.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
struct TwoArgs {
    /// First test argument.
    arg1: String,
    /// Second test argument.
    arg2: String,
}

/// The argument of `test_prompt_with_embedded_resource`.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
struct ResourceArgs {
    /// URI of the resource to embed.
    resource_uri: String,
}

fn schema<T: schemars::JsonSchema>() -> serde_json::Value {
    tool_metadata::__private::schema_for::<T>()
}

/// Parses prompt arguments (`null` when the client sent none) into `T`, naming the bad or missing one.
fn parse<T: serde::de::DeserializeOwned>(args: serde_json::Value) -> Result<T, ToolError> {
    let args = if args.is_null() { serde_json::json!({}) } else { args };
    // serde names the field: "missing field `arg1`".
    serde_json::from_value(args).map_err(|e| ToolError::invalid_argument("arguments", e))
}

fn output(messages: Vec<PromptMessage>) -> Result<PromptOutput, ToolError> {
    Ok(PromptOutput { description: None, messages })
}

fn user(content: Content) -> PromptMessage {
    PromptMessage { role: Role::User, content }
}

fn simple(_: Router, _: serde_json::Value) -> ProtocolFuture<PromptOutput> {
    Box::pin(async { output(vec![PromptMessage::user("This is a simple prompt for testing.")]) })
}

fn with_arguments(_: Router, args: serde_json::Value) -> ProtocolFuture<PromptOutput> {
    Box::pin(async move {
        let a: TwoArgs = parse(args)?;
        output(vec![PromptMessage::user(format!(
            "Prompt with arguments: arg1='{}', arg2='{}'",
            a.arg1, a.arg2
        ))])
    })
}

fn with_embedded_resource(_: Router, args: serde_json::Value) -> ProtocolFuture<PromptOutput> {
    Box::pin(async move {
        let a: ResourceArgs = parse(args)?;
        let body = ResourceBody::text(a.resource_uri, "text/plain", "Embedded resource content for testing.");
        output(vec![
            user(Content::Resource { resource: body }),
            PromptMessage::user("Please process the embedded resource above."),
        ])
    })
}

fn with_image(_: Router, _: serde_json::Value) -> ProtocolFuture<PromptOutput> {
    Box::pin(async {
        output(vec![
            user(Content::Image { data: super::png_base64(), mime_type: "image/png".into() }),
            PromptMessage::user("Please analyze the image above."),
        ])
    })
}

inventory::submit! {
    PromptDescriptor {
        name: "test_simple_prompt",
        title: "Simple prompt",
        description: "Conformance fixture: a prompt without arguments.",
        arguments: schema::<NoArgs>,
        get: simple,
    }
}

inventory::submit! {
    PromptDescriptor {
        name: "test_prompt_with_arguments",
        title: "Prompt with arguments",
        description: "Conformance fixture: a prompt with two required arguments.",
        arguments: schema::<TwoArgs>,
        get: with_arguments,
    }
}

inventory::submit! {
    PromptDescriptor {
        name: "test_prompt_with_embedded_resource",
        title: "Prompt with an embedded resource",
        description: "Conformance fixture: a prompt embedding the resource named by resourceUri.",
        arguments: schema::<ResourceArgs>,
        get: with_embedded_resource,
    }
}

inventory::submit! {
    PromptDescriptor {
        name: "test_prompt_with_image",
        title: "Prompt with an image",
        description: "Conformance fixture: a prompt with an image.",
        arguments: schema::<NoArgs>,
        get: with_image,
    }
}
