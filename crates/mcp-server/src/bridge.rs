//! The client behind a call, for tools: sampling and elicitation over the session's peer.

// Logging and sampling are deprecated for 2026-07-28 peers (SEP-2577) and current for 2025-11-25 ones.
#![allow(deprecated)]

use rmcp::RoleServer;
use rmcp::model::{
    ClientCapabilities, ClientResult, CreateMessageRequest, CreateMessageRequestParams, ElicitRequest,
    ElicitRequestParams, GetExtensions as _, RequestId, ServerRequest,
};
use rmcp::service::{OriginatingRequestId, Peer, RequestContext};
use tool_metadata::{BridgeFuture, ClientBridge, ElicitAction, Elicited, SampleRequest, Sampled, ToolError};

use crate::streams::StreamControl;

/// A [`ClientBridge`] over one MCP peer, with the capabilities it declared.
pub(crate) struct PeerBridge {
    peer: Peer<RoleServer>,
    capabilities: ClientCapabilities,
    stream: Option<StreamControl>,
    /// The call's request: sampling and elicitation requests name it so that streamable HTTP sends them
    /// on the call's own SSE stream (SEP-2260; rmcp's task-local marker does not survive the router's
    /// spawned call task).
    origin: RequestId,
}

impl PeerBridge {
    pub(crate) fn new(context: &RequestContext<RoleServer>) -> PeerBridge {
        PeerBridge {
            peer: context.peer.clone(),
            capabilities: context.client_capabilities().unwrap_or_default(),
            stream: crate::streams::control_of(context),
            origin: context.id.clone(),
        }
    }

    async fn request(&self, mut request: ServerRequest) -> Result<ClientResult, rmcp::service::ServiceError> {
        request.extensions_mut().insert(OriginatingRequestId(self.origin.clone()));
        self.peer.send_request(request).await
    }
}

fn client_error(what: &str, e: impl std::fmt::Display) -> ToolError {
    ToolError::new(tool_metadata::ErrorKind::Upstream, format!("the MCP client's {what} failed: {e}"))
}

impl ClientBridge for PeerBridge {
    fn supports_sampling(&self) -> bool {
        self.capabilities.sampling.is_some()
    }

    fn supports_elicitation(&self) -> bool {
        self.capabilities.elicitation.is_some()
    }

    fn sample(&self, request: SampleRequest) -> BridgeFuture<'_, Sampled> {
        Box::pin(async move {
            if !self.supports_sampling() {
                return Err(ToolError::new(
                    tool_metadata::ErrorKind::Conflict,
                    "the MCP client did not declare the sampling capability",
                ));
            }
            let mut params = serde_json::json!({
                "messages": [{ "role": "user", "content": { "type": "text", "text": request.prompt } }],
                "maxTokens": request.max_tokens,
            });
            if let Some(system) = request.system {
                params["systemPrompt"] = system.into();
            }
            let params: CreateMessageRequestParams =
                serde_json::from_value(params).map_err(|e| ToolError::internal(e.to_string()))?;
            params.validate().map_err(|e| {
                ToolError::internal(format!("a sampling request pipette built is invalid: {e}"))
            })?;
            let request = ServerRequest::CreateMessageRequest(CreateMessageRequest::new(params));
            let result = match self.request(request).await.map_err(|e| client_error("sampling", e))? {
                ClientResult::CreateMessageResult(r) => r,
                other => return Err(client_error("sampling", format!("unexpected answer {other:?}"))),
            };
            let value = serde_json::to_value(&result).map_err(|e| ToolError::internal(e.to_string()))?;
            let text = match &value["content"] {
                serde_json::Value::Array(blocks) => {
                    blocks.iter().filter_map(|b| b["text"].as_str()).collect::<Vec<_>>().join("\n")
                }
                block => block["text"].as_str().unwrap_or_default().to_owned(),
            };
            Ok(Sampled { text, model: value["model"].as_str().unwrap_or_default().to_owned() })
        })
    }

    fn elicit(&self, message: String, schema: serde_json::Value) -> BridgeFuture<'_, Elicited> {
        Box::pin(async move {
            if !self.supports_elicitation() {
                return Err(ToolError::new(
                    tool_metadata::ErrorKind::Conflict,
                    "the MCP client did not declare the elicitation capability",
                ));
            }
            let params: ElicitRequestParams = serde_json::from_value(serde_json::json!({
                "mode": "form",
                "message": message,
                "requestedSchema": schema,
            }))
            .map_err(|e| {
                ToolError::internal(format!("an elicitation schema pipette built is invalid: {e}"))
            })?;
            let request = ServerRequest::ElicitRequest(ElicitRequest::new(params));
            let result = match self.request(request).await.map_err(|e| client_error("elicitation", e))? {
                ClientResult::ElicitResult(r) => r,
                other => return Err(client_error("elicitation", format!("unexpected answer {other:?}"))),
            };
            let value = serde_json::to_value(&result).map_err(|e| ToolError::internal(e.to_string()))?;
            let action = match value["action"].as_str() {
                Some("accept") => ElicitAction::Accept,
                Some("decline") => ElicitAction::Decline,
                _ => ElicitAction::Cancel,
            };
            let content = value.get("content").filter(|c| !c.is_null()).cloned();
            Ok(Elicited { action, content })
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
