//! Input-required fixtures (SEP-2322): tools and a prompt that ask the client for input through the same
//! client bridge real tools use; the MCP server turns their questions into input-required results.

use serde_json::{Value, json};
use tool_metadata::{
    ClientBridge, Content, ElicitAction, ErrorKind, RichOutput, SampleRequest, ToolContext, ToolError,
    tool_metadata,
};

use super::tools::NoArgs;
use crate::Router;
use crate::protocol::{PromptDescriptor, PromptMessage, PromptOutput, ProtocolFuture};

fn client(ctx: &ToolContext) -> Result<&std::sync::Arc<dyn ClientBridge>, ToolError> {
    ctx.client().ok_or_else(|| ToolError::new(ErrorKind::Conflict, "this call has no MCP client behind it"))
}

fn text(t: String) -> Result<RichOutput, ToolError> {
    Ok(RichOutput { content: vec![Content::text(t)] })
}

/// A form of one required property.
fn form(name: &str, ty: &str) -> Value {
    json!({ "type": "object", "properties": { name: { "type": ty } }, "required": [name] })
}

/// The accepted answer's `field`, as text.
fn field(answer: &tool_metadata::Elicited, field: &str) -> String {
    match (answer.action, answer.content.as_ref().and_then(|c| c.get(field))) {
        (ElicitAction::Accept, Some(Value::String(s))) => s.clone(),
        (ElicitAction::Accept, Some(v)) => v.to_string(),
        (action, _) => format!("({})", action.as_str()),
    }
}

async fn ask_name(client: &dyn ClientBridge, key: &str) -> Result<String, ToolError> {
    let answer = client.elicit_as(key, "What is your name?".into(), form("name", "string")).await?;
    Ok(field(&answer, "name"))
}

fn capital() -> SampleRequest {
    SampleRequest { system: None, prompt: "What is the capital of France?".into(), max_tokens: 100 }
}

/// Conformance fixture: asks the person's name (elicitation `user_name`) and greets them.
#[tool_metadata(category = fixture, runtime = Async, timeout_seconds = 60, read_only)]
async fn test_input_required_result_elicitation(
    ctx: ToolContext,
    _p: NoArgs,
) -> Result<RichOutput, ToolError> {
    let name = ask_name(client(&ctx)?.as_ref(), "user_name").await?;
    text(format!("Hello, {name}!"))
}

/// Conformance fixture: asks the client's model (sampling `capital_question`) and returns its answer.
#[tool_metadata(category = fixture, runtime = Async, timeout_seconds = 60, read_only)]
async fn test_input_required_result_sampling(ctx: ToolContext, _p: NoArgs) -> Result<RichOutput, ToolError> {
    let answer = client(&ctx)?.sample_as("capital_question", capital()).await?;
    text(format!("The model answered: {}", answer.text))
}

/// Conformance fixture: asks the client's roots (`client_roots`) and lists them.
#[tool_metadata(category = fixture, runtime = Async, timeout_seconds = 60, read_only)]
async fn test_input_required_result_list_roots(
    ctx: ToolContext,
    _p: NoArgs,
) -> Result<RichOutput, ToolError> {
    let roots = client(&ctx)?.list_roots("client_roots").await?;
    text(format!("Client roots: {}", roots.join(", ")))
}

async fn confirm(ctx: &ToolContext) -> Result<RichOutput, ToolError> {
    let answer = client(ctx)?.elicit_as("confirm", "Please confirm".into(), form("ok", "boolean")).await?;
    // The answer arrived with a verified requestState (the server refuses any other).
    text(format!("state-ok: ok={}", field(&answer, "ok")))
}

/// Conformance fixture: one confirmation; the retry's requestState is verified by the server.
#[tool_metadata(category = fixture, runtime = Async, timeout_seconds = 60, read_only)]
async fn test_input_required_result_request_state(
    ctx: ToolContext,
    _p: NoArgs,
) -> Result<RichOutput, ToolError> {
    confirm(&ctx).await
}

/// Conformance fixture: as test_input_required_result_request_state, for the tampered-state check.
#[tool_metadata(category = fixture, runtime = Async, timeout_seconds = 60, read_only)]
async fn test_input_required_result_tampered_state(
    ctx: ToolContext,
    _p: NoArgs,
) -> Result<RichOutput, ToolError> {
    confirm(&ctx).await
}

/// Conformance fixture: asks three things at once (elicitation, sampling and roots).
#[tool_metadata(category = fixture, runtime = Async, timeout_seconds = 60, read_only)]
async fn test_input_required_result_multiple_inputs(
    ctx: ToolContext,
    _p: NoArgs,
) -> Result<RichOutput, ToolError> {
    let client = client(&ctx)?;
    let greeting = SampleRequest { system: None, prompt: "Generate a greeting".into(), max_tokens: 50 };
    let (name, greeting, roots) = futures::join!(
        ask_name(client.as_ref(), "user_name"),
        client.sample_as("greeting", greeting),
        client.list_roots("client_roots"),
    );
    let (name, greeting, roots) = (name?, greeting?, roots?);
    text(format!("{} {name} (roots: {})", greeting.text, roots.join(", ")))
}

/// Conformance fixture: two questions in two rounds (the second asked after the first is answered).
#[tool_metadata(category = fixture, runtime = Async, timeout_seconds = 60, read_only)]
async fn test_input_required_result_multi_round(
    ctx: ToolContext,
    _p: NoArgs,
) -> Result<RichOutput, ToolError> {
    let client = client(&ctx)?;
    let name = client.elicit_as("step1", "Step 1: What is your name?".into(), form("name", "string")).await?;
    let color = client
        .elicit_as("step2", "Step 2: What is your favorite color?".into(), form("color", "string"))
        .await?;
    text(format!("{} likes {}", field(&name, "name"), field(&color, "color")))
}

/// Conformance fixture: asks only what the request's declared capabilities allow.
#[tool_metadata(category = fixture, runtime = Async, timeout_seconds = 60, read_only)]
async fn test_input_required_result_capabilities(
    ctx: ToolContext,
    _p: NoArgs,
) -> Result<RichOutput, ToolError> {
    let client = client(&ctx)?;
    let name = async {
        if client.supports_elicitation() {
            ask_name(client.as_ref(), "user_name").await.map(Some)
        } else {
            Ok(None)
        }
    };
    let answer = async {
        if client.supports_sampling() {
            client.sample_as("capital_question", capital()).await.map(Some)
        } else {
            Ok(None)
        }
    };
    let (name, answer) = futures::join!(name, answer);
    let (name, answer) = (name?, answer?);
    text(format!("name={name:?} answer={:?}", answer.map(|a| a.text)))
}

fn input_prompt(_: Router, _: Value) -> ProtocolFuture<PromptOutput> {
    Box::pin(async {
        let client = crate::protocol::client().ok_or_else(|| {
            ToolError::new(ErrorKind::Conflict, "this prompt needs an MCP client behind it")
        })?;
        let answer = client
            .elicit_as(
                "user_context",
                "What context should the prompt use?".into(),
                form("context", "string"),
            )
            .await?;
        let context = field(&answer, "context");
        Ok(PromptOutput {
            description: None,
            messages: vec![PromptMessage::user(format!("Context: {context}"))],
        })
    })
}

fn no_arguments() -> Value {
    tool_metadata::__private::schema_for::<NoArgs>()
}

inventory::submit! {
    PromptDescriptor {
        name: "test_input_required_result_prompt",
        title: "Prompt with input",
        description: "Conformance fixture: a prompt that asks the person for its context.",
        arguments: no_arguments,
        get: input_prompt,
    }
}
