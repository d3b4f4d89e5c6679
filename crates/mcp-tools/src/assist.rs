//! What tools ask of the client behind a call: a person's confirmation before destructive work
//! (elicitation), and a summary written by the client's own model (sampling), each with a fallback
//! for clients that cannot (an explicit `confirm: true`; the deterministic markdown summary).

use serde::{Deserialize, Serialize};
use tool_metadata::{ElicitAction, ErrorKind, SampleRequest, ToolContext, ToolError};

/// A destructive tool's parameters plus the explicit confirmation.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub(crate) struct Confirmed<T> {
    #[serde(flatten)]
    pub(crate) request: T,
    /// Confirms the destructive step. Without it, pipette asks the person through the MCP client
    /// (elicitation) when the client can, and refuses otherwise.
    #[serde(default)]
    pub(crate) confirm: bool,
}

/// Goes ahead when `confirmed`, or when the person confirms `what` through the client; an error otherwise.
pub(crate) async fn confirm(ctx: &ToolContext, confirmed: bool, what: &str) -> Result<(), ToolError> {
    if confirmed {
        return Ok(());
    }
    let Some(client) = ctx.client().filter(|c| c.supports_elicitation()) else {
        return Err(ToolError::invalid_argument(
            "confirm",
            format!("this would {what}; pass confirm: true to proceed"),
        ));
    };
    let schema = serde_json::json!({
        "type": "object",
        "properties": { "confirm": {
            "type": "boolean", "title": "Go ahead", "description": format!("Yes, {what}"), "default": false,
        }},
        "required": ["confirm"],
    });
    let answer = client.elicit(format!("pipette is about to {what}. This cannot be undone."), schema).await?;
    let yes = answer.content.as_ref().and_then(|c| c.get("confirm")).and_then(|v| v.as_bool());
    match (answer.action, yes) {
        (ElicitAction::Accept, Some(true)) => Ok(()),
        (action, _) => Err(ToolError::new(
            ErrorKind::Cancelled,
            format!("not done: the person did not confirm ({}) that pipette should {what}", action.as_str()),
        )),
    }
}

/// A research tool's parameters plus the wish for a model-written summary.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub(crate) struct WithSummary<T> {
    #[serde(flatten)]
    pub(crate) request: T,
    /// Add a summary by the client's model.
    #[serde(default)]
    pub(crate) summarize: bool,
}

/// Who wrote a summary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub(crate) enum SummarySource {
    /// The client's model, through MCP sampling.
    ClientModel,
    /// pipette's deterministic markdown.
    Deterministic,
}

/// A summary of a result.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub(crate) struct Summary {
    /// The summary (markdown).
    pub(crate) text: String,
    /// Who wrote it.
    pub(crate) source: SummarySource,
    /// The model that wrote it, when the client's did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) model: Option<String>,
    /// Why the deterministic summary was used when a model-written one was asked for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) fallback_reason: Option<String>,
}

/// A result plus its summary, when asked.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub(crate) struct Summarized<T> {
    #[serde(flatten)]
    pub(crate) result: T,
    /// The summary asked for with `summarize: true`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) summary: Option<Summary>,
}

const SYSTEM: &str = "You summarize biomedical search results for a researcher or clinician. Be factual and \
brief (at most 8 bullet points), cite PMIDs or NCT ids as given, never invent data that is not in the results.";

/// When `wanted`, a summary of `markdown` (the result's deterministic rendering) by the client's model,
/// or `markdown` itself when the client cannot sample or sampling fails. The error when the client answers
/// by retrying (2026-07-28): its retry brings the model's answer.
pub(crate) async fn summarize(
    ctx: &ToolContext,
    wanted: bool,
    task: &str,
    markdown: &str,
) -> Result<Option<Summary>, ToolError> {
    if !wanted {
        return Ok(None);
    }
    let fallback = |reason: String| Summary {
        text: markdown.to_owned(),
        source: SummarySource::Deterministic,
        model: None,
        fallback_reason: Some(reason),
    };
    let Some(client) = ctx.client().filter(|c| c.supports_sampling()) else {
        return Ok(Some(fallback("the MCP client does not offer sampling".to_owned())));
    };
    let request = SampleRequest {
        system: Some(SYSTEM.to_owned()),
        prompt: format!("{task}\n\n{markdown}"),
        max_tokens: 600,
    };
    Ok(match client.sample(request).await {
        Ok(s) if !s.text.trim().is_empty() => Some(Summary {
            text: s.text,
            source: SummarySource::ClientModel,
            model: (!s.model.is_empty()).then_some(s.model),
            fallback_reason: None,
        }),
        Ok(_) => Some(fallback("the client's model answered with no text".to_owned())),
        Err(e) if client.awaits_answers() => return Err(e),
        Err(e) => {
            tracing::info!(error = %e.message, "sampling failed; using the deterministic summary");
            Some(fallback(e.message))
        }
    })
}
