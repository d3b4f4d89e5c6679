//! resources/list, resources/templates/list, resources/read and subscriptions, over the resources
//! declared in mcp-tools.

use std::collections::HashMap;
use std::sync::Mutex;

use mcp_tools::protocol::{self, UriTemplate};
use mcp_tools::{ErrorKind, Router, ToolError};
use rmcp::ErrorData as McpError;
use rmcp::RoleServer;
use rmcp::model::{
    ListResourceTemplatesResult, ListResourcesResult, ReadResourceResult, Resource, ResourceTemplate,
};
use rmcp::service::Peer;

/// A tool error as a JSON-RPC error: bad input and unknown things are the client's (-32602 / -32002),
/// the rest are internal, with pipette's error in `data`.
pub(crate) fn to_mcp_error(e: &ToolError) -> McpError {
    let data = serde_json::to_value(e).ok();
    match e.kind {
        ErrorKind::InvalidArgument | ErrorKind::UnknownTool => {
            McpError::invalid_params(e.message.clone(), data)
        }
        ErrorKind::NotFound => McpError::resource_not_found(e.message.clone(), data),
        _ => McpError::internal_error(format!("{} error: {}", e.kind.as_str(), e.message), data),
    }
}

fn internal(e: impl std::fmt::Display) -> McpError {
    McpError::internal_error(e.to_string(), None)
}

fn resource(
    uri: &str,
    name: &str,
    title: Option<&str>,
    description: Option<&str>,
    mime: Option<&str>,
) -> Resource {
    let mut v = serde_json::json!({ "uri": uri, "name": name });
    for (key, value) in [("title", title), ("description", description), ("mimeType", mime)] {
        if let Some(value) = value {
            v[key] = value.into();
        }
    }
    serde_json::from_value(v).unwrap_or_else(|_| Resource::new(uri, name))
}

pub(crate) async fn list(router: &Router) -> Result<ListResourcesResult, McpError> {
    let mut out = Vec::new();
    for d in protocol::resources() {
        if !d.is_template() {
            out.push(resource(d.uri, d.name, Some(d.title), Some(d.description), Some(d.mime_type)));
        } else if let Some(list) = d.list {
            match list(router.clone()).await {
                Ok(items) => out.extend(items.iter().map(|r| {
                    let mime = r.mime_type.as_deref().unwrap_or(d.mime_type);
                    resource(&r.uri, &r.name, None, r.description.as_deref(), Some(mime))
                })),
                Err(e) => tracing::warn!(resource = d.uri, error = %e.message, "listing resources failed"),
            }
        }
    }
    Ok(ListResourcesResult::with_all_items(out))
}

pub(crate) fn templates() -> ListResourceTemplatesResult {
    let out = protocol::resources()
        .into_iter()
        .filter(|d| d.is_template())
        .map(|d| {
            let v = serde_json::json!({
                "uriTemplate": d.uri, "name": d.name, "title": d.title,
                "description": d.description, "mimeType": d.mime_type,
            });
            serde_json::from_value(v).unwrap_or_else(|_| ResourceTemplate::new(d.uri, d.name))
        })
        .collect();
    ListResourceTemplatesResult::with_all_items(out)
}

pub(crate) async fn read(router: &Router, uri: &str) -> Result<ReadResourceResult, McpError> {
    let Some((d, request)) = protocol::match_resource(uri) else {
        let known: Vec<_> = protocol::resources().iter().map(|d| d.uri).collect();
        return Err(McpError::resource_not_found(
            format!("no resource matches {uri}; pipette serves {}", known.join(", ")),
            None,
        ));
    };
    let bodies = (d.read)(router.clone(), request).await.map_err(|e| to_mcp_error(&e))?;
    serde_json::from_value(serde_json::json!({ "contents": bodies })).map_err(internal)
}

/// Who subscribed to what: `(session, uri)` → the session's peer.
pub(crate) struct Subscriptions {
    router: Router,
    by_uri: Mutex<HashMap<String, HashMap<u64, Peer<RoleServer>>>>,
}

impl Subscriptions {
    pub(crate) fn new(router: Router) -> Subscriptions {
        Subscriptions { router, by_uri: Mutex::new(HashMap::new()) }
    }

    pub(crate) fn subscribe(&self, session: u64, peer: Peer<RoleServer>, uri: &str) -> Result<(), McpError> {
        let Some((d, _)) = protocol::match_resource(uri) else {
            return Err(McpError::resource_not_found(format!("no resource matches {uri}"), None));
        };
        let _ = (&self.router, UriTemplate::new(d.uri));
        self.by_uri
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry(uri.to_owned())
            .or_default()
            .insert(session, peer);
        Ok(())
    }

    pub(crate) fn unsubscribe(&self, session: u64, uri: &str) {
        let mut map = self.by_uri.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(sessions) = map.get_mut(uri) {
            sessions.remove(&session);
            if sessions.is_empty() {
                map.remove(uri);
            }
        }
    }
}
