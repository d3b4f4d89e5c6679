//! The client behind a call, for tools, prompts and resources: elicitation, sampling and roots. How a
//! question reaches the client depends on the request:
//! - a 2026-07-28 request's call running as a task parks the task in `input_required` until `tasks/update`
//!   answers (`parked.rs`);
//! - any other 2026-07-28 request ends its round with an input-required result and is answered by the
//!   client's retry (`mrtr.rs`);
//! - a 2025-11-25 session is sent the request on the call's own stream, as before (tasks included).
//!
//! A question needing a capability the request did not declare fails the handler; for a 2026-07-28 request
//! the answer is then -32021 (missing required client capability).

// Logging and sampling are deprecated for 2026-07-28 peers (SEP-2577) and current for 2025-11-25 ones.
#![allow(deprecated)]

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use rmcp::RoleServer;
use rmcp::model::{
    ClientCapabilities, ElicitationCapability, GetExtensions as _, InputRequest, RequestId,
    RootsCapabilities, SamplingCapability, ServerRequest,
};
use rmcp::service::{OriginatingRequestId, Peer, RequestContext};
use serde_json::{Value, json};
use tokio::sync::watch;
use tool_metadata::{
    BridgeFuture, ClientBridge, ElicitAction, Elicited, ErrorKind, SampleRequest, Sampled, ToolError,
};

use crate::mrtr::Rounds;
use crate::parked;
use crate::streams::StreamControl;

/// A [`ClientBridge`] for one request, with the capabilities it declared.
pub(crate) struct PeerBridge {
    peer: Peer<RoleServer>,
    capabilities: ClientCapabilities,
    stream: Option<StreamControl>,
    /// The call's request: requests to a 2025-11-25 session name it so that streamable HTTP sends them on
    /// the call's own SSE stream (SEP-2260; rmcp's task-local marker does not survive the router's
    /// spawned call task).
    origin: RequestId,
    /// The request's rounds when its client answers by retrying (2026-07-28).
    rounds: Option<Arc<Rounds>>,
    /// The task the call became, once it did.
    task: watch::Sender<Option<String>>,
    /// The call becomes a task at once: questions wait for its id.
    task_first: bool,
    next_key: AtomicU32,
}

impl PeerBridge {
    pub(crate) fn new(context: &RequestContext<RoleServer>, rounds: Option<Arc<Rounds>>) -> PeerBridge {
        PeerBridge {
            peer: context.peer.clone(),
            capabilities: context.client_capabilities().unwrap_or_default(),
            stream: crate::streams::control_of(context),
            origin: context.id.clone(),
            rounds,
            task: watch::channel(None).0,
            task_first: false,
            next_key: AtomicU32::new(1),
        }
    }

    /// The call will be a task from its start (its questions park the task).
    pub(crate) fn task_first(mut self, yes: bool) -> PeerBridge {
        self.task_first = yes;
        self
    }

    /// The call became task `task_id`: its questions from now on park the task.
    pub(crate) fn became_task(&self, task_id: &str) {
        self.task.send_replace(Some(task_id.to_owned()));
    }

    /// The call's task, when it is one (waiting for its id when it becomes one at once).
    async fn task_id(&self) -> Option<String> {
        if !self.task_first {
            return self.task.borrow().clone();
        }
        let mut rx = self.task.subscribe();
        rx.wait_for(Option::is_some).await.ok().and_then(|id| id.clone())
    }

    fn key(&self, kind: &str) -> String {
        format!("{kind}-{}", self.next_key.fetch_add(1, Ordering::Relaxed))
    }

    /// Asks `request` (`{method, params}`) under `key` the way this request allows; the client's answer.
    async fn ask(
        &self,
        key: &str,
        request: Value,
        supported: bool,
        needs: ClientCapabilities,
        what: &str,
    ) -> Result<Value, ToolError> {
        if !supported {
            if let Some(rounds) = &self.rounds {
                rounds.need(needs);
            }
            return Err(ToolError::new(
                ErrorKind::Conflict,
                format!("the MCP client did not declare the {what} capability"),
            ));
        }
        if let Some(rounds) = &self.rounds {
            if let Some(task) = self.task_id().await {
                return Ok(parked::of(&task).ask(key, request).await);
            }
            return match rounds.answer(key) {
                Some(answer) => Ok(answer.clone()),
                None => Err(rounds.ask(key, request)),
            };
        }
        let input: InputRequest = serde_json::from_value(request)
            .map_err(|e| ToolError::internal(format!("a {what} request pipette built is invalid: {e}")))?;
        let mut request = match input {
            InputRequest::CreateMessage(r) => ServerRequest::CreateMessageRequest(r),
            InputRequest::Elicitation(r) => ServerRequest::ElicitRequest(r),
            InputRequest::ListRoots(r) => ServerRequest::ListRootsRequest(r),
            _ => return Err(ToolError::internal(format!("pipette cannot send this {what} request"))),
        };
        request.extensions_mut().insert(OriginatingRequestId(self.origin.clone()));
        let result = self.peer.send_request(request).await.map_err(|e| client_error(what, e))?;
        serde_json::to_value(result).map_err(|e| ToolError::internal(e.to_string()))
    }

    /// An answer that does not have the expected shape: asked again in a round, else an error.
    fn malformed(&self, key: &str, request: Value, what: &str) -> ToolError {
        match &self.rounds {
            Some(rounds) if self.task.borrow().is_none() => rounds.ask(key, request),
            _ => client_error(what, format!("the answer to `{key}` is malformed")),
        }
    }
}

/// The capabilities `set` names.
fn needs(set: impl FnOnce(&mut ClientCapabilities)) -> ClientCapabilities {
    let mut capabilities = ClientCapabilities::default();
    set(&mut capabilities);
    capabilities
}

fn client_error(what: &str, e: impl std::fmt::Display) -> ToolError {
    ToolError::new(ErrorKind::Upstream, format!("the MCP client's {what} failed: {e}"))
}

/// An elicitation answer: `{action, content}`.
fn elicited(v: &Value) -> Option<Elicited> {
    let action = match v.get("action")?.as_str()? {
        "accept" => ElicitAction::Accept,
        "decline" => ElicitAction::Decline,
        "cancel" => ElicitAction::Cancel,
        _ => return None,
    };
    let content = v.get("content").filter(|c| !c.is_null()).cloned();
    if content.as_ref().is_some_and(|c| !c.is_object()) {
        return None;
    }
    Some(Elicited { action, content })
}

/// A sampling answer: its text blocks and model.
fn sampled(v: &Value) -> Option<Sampled> {
    let text = match v.get("content")? {
        Value::Array(blocks) => {
            blocks.iter().filter_map(|b| b["text"].as_str()).collect::<Vec<_>>().join("\n")
        }
        block => block.get("text")?.as_str()?.to_owned(),
    };
    Some(Sampled { text, model: v["model"].as_str().unwrap_or_default().to_owned() })
}

/// A roots answer: the roots' URIs.
fn roots(v: &Value) -> Option<Vec<String>> {
    v.get("roots")?.as_array()?.iter().map(|r| r.get("uri")?.as_str().map(str::to_owned)).collect()
}

impl ClientBridge for PeerBridge {
    fn supports_sampling(&self) -> bool {
        self.capabilities.sampling.is_some()
    }

    fn supports_elicitation(&self) -> bool {
        self.capabilities.elicitation.is_some()
    }

    fn supports_roots(&self) -> bool {
        self.capabilities.roots.is_some()
    }

    fn awaits_answers(&self) -> bool {
        self.rounds.as_ref().is_some_and(|r| r.asked_anything())
    }

    fn sample(&self, request: SampleRequest) -> BridgeFuture<'_, Sampled> {
        Box::pin(async move { self.sample_as(&self.key("sampling"), request).await })
    }

    fn sample_as(&self, key: &str, request: SampleRequest) -> BridgeFuture<'_, Sampled> {
        let key = key.to_owned();
        Box::pin(async move {
            let mut params = json!({
                "messages": [{ "role": "user", "content": { "type": "text", "text": request.prompt } }],
                "maxTokens": request.max_tokens,
            });
            if let Some(system) = request.system {
                params["systemPrompt"] = system.into();
            }
            let request = json!({ "method": "sampling/createMessage", "params": params });
            let needs = needs(|c| c.sampling = Some(SamplingCapability::default()));
            let answer = self.ask(&key, request.clone(), self.supports_sampling(), needs, "sampling").await?;
            sampled(&answer).ok_or_else(|| self.malformed(&key, request, "sampling"))
        })
    }

    fn elicit(&self, message: String, schema: Value) -> BridgeFuture<'_, Elicited> {
        Box::pin(async move { self.elicit_as(&self.key("elicitation"), message, schema).await })
    }

    fn elicit_as(&self, key: &str, message: String, schema: Value) -> BridgeFuture<'_, Elicited> {
        let key = key.to_owned();
        Box::pin(async move {
            let params = json!({ "mode": "form", "message": message, "requestedSchema": schema });
            let request = json!({ "method": "elicitation/create", "params": params });
            let needs = needs(|c| c.elicitation = Some(ElicitationCapability::default()));
            let answer =
                self.ask(&key, request.clone(), self.supports_elicitation(), needs, "elicitation").await?;
            elicited(&answer).ok_or_else(|| self.malformed(&key, request, "elicitation"))
        })
    }

    fn list_roots(&self, key: &str) -> BridgeFuture<'_, Vec<String>> {
        let key = key.to_owned();
        Box::pin(async move {
            let request = json!({ "method": "roots/list", "params": {} });
            let needs = needs(|c| c.roots = Some(RootsCapabilities::default()));
            let answer = self.ask(&key, request.clone(), self.supports_roots(), needs, "roots").await?;
            roots(&answer).ok_or_else(|| self.malformed(&key, request, "roots"))
        })
    }

    fn close_stream(&self, retry: std::time::Duration) -> BridgeFuture<'_, bool> {
        Box::pin(async move {
            Ok(match &self.stream {
                Some(stream) => stream.close(retry).await,
                None => false,
            })
        })
    }
}
