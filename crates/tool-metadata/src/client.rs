//! What a tool may ask of the client on the other end (its model, its person), without knowing the protocol.
//!
//! The MCP server implements [`ClientBridge`] over the session's peer; the CLI and tests may leave it out,
//! and tools then fall back (a deterministic summary instead of a sampled one; `confirm: true` instead of
//! a question to the person).

use std::future::Future;
use std::pin::Pin;

use serde::{Deserialize, Serialize};

use crate::ToolError;

/// A boxed future, as the bridge's methods return.
pub type BridgeFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, ToolError>> + Send + 'a>>;

/// A request for a completion from the client's own model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SampleRequest {
    /// The system prompt.
    pub system: Option<String>,
    /// The user message.
    pub prompt: String,
    /// The longest answer wanted, in tokens.
    pub max_tokens: u32,
}

/// What the client's model answered.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Sampled {
    /// The text of the answer.
    pub text: String,
    /// The model that wrote it, as the client names it.
    pub model: String,
}

/// What the person did with an elicitation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ElicitAction {
    /// Answered and submitted.
    Accept,
    /// Said no.
    Decline,
    /// Dismissed without choosing.
    Cancel,
}

impl ElicitAction {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            ElicitAction::Accept => "accept",
            ElicitAction::Decline => "decline",
            ElicitAction::Cancel => "cancel",
        }
    }
}

/// The person's answer to an elicitation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Elicited {
    /// What they did.
    pub action: ElicitAction,
    /// The form's values, when they accepted.
    pub content: Option<serde_json::Value>,
}

/// The client behind a call: its model (sampling) and its person (elicitation).
pub trait ClientBridge: Send + Sync {
    /// Whether the client declared the sampling capability.
    fn supports_sampling(&self) -> bool;
    /// Whether the client declared the elicitation capability.
    fn supports_elicitation(&self) -> bool;
    /// Asks the client's model for a completion.
    fn sample(&self, request: SampleRequest) -> BridgeFuture<'_, Sampled>;
    /// Asks the person to fill a form: `schema` is a flat JSON Schema object of primitive properties.
    fn elicit(&self, message: String, schema: serde_json::Value) -> BridgeFuture<'_, Elicited>;
    /// Closes the call's response stream now, so that the client reconnects (after `retry`) and receives
    /// the result on the resumed stream: streamable HTTP's SSE polling (SEP-1699), for long calls behind
    /// proxies that cut idle connections. False when the transport cannot (stdio, a JSON response).
    fn close_stream(&self, retry: std::time::Duration) -> BridgeFuture<'_, bool> {
        let _ = retry;
        Box::pin(async { Ok(false) })
    }
    /// Whether a question this call asked ended its round: the client answers by sending the request again
    /// (MCP 2026-07-28 input-required results). A tool that falls back when the client cannot answer must
    /// return the question's error instead, so that the retry, with the answer, gets the real result.
    fn awaits_answers(&self) -> bool {
        false
    }
    /// Whether the client declared the roots capability.
    fn supports_roots(&self) -> bool {
        false
    }
    /// [`ClientBridge::elicit`] under a name of the tool's choosing: a client that answers by retrying the
    /// request (MCP 2026-07-28 input-required results) sees `key` as the input request's key.
    fn elicit_as(&self, key: &str, message: String, schema: serde_json::Value) -> BridgeFuture<'_, Elicited> {
        let _ = key;
        self.elicit(message, schema)
    }
    /// [`ClientBridge::sample`] under a name of the tool's choosing (see [`ClientBridge::elicit_as`]).
    fn sample_as(&self, key: &str, request: SampleRequest) -> BridgeFuture<'_, Sampled> {
        let _ = key;
        self.sample(request)
    }
    /// The client's roots (their URIs), asked under `key` (see [`ClientBridge::elicit_as`]).
    fn list_roots(&self, key: &str) -> BridgeFuture<'_, Vec<String>> {
        let _ = key;
        Box::pin(async {
            Err(ToolError::new(
                crate::ErrorKind::Conflict,
                "the MCP client did not declare the roots capability",
            ))
        })
    }
}
