//! resources/list, resources/templates/list, resources/read and subscriptions, over the resources
//! declared in mcp-tools.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock, Weak};

use mcp_tools::protocol;
use mcp_tools::{ErrorKind, Router, ToolError};
use rmcp::ErrorData as McpError;
use rmcp::RoleServer;
use rmcp::model::{
    ListResourceTemplatesResult, ListResourcesResult, ReadResourceResult, Resource, ResourceTemplate,
    ResourceUpdatedNotificationParam,
};
use rmcp::service::{Peer, SubscriptionSink};
use tokio::sync::broadcast::error::RecvError;

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
            Some(serde_json::json!({ "uri": uri })),
        ));
    };
    let bodies = (d.read)(router.clone(), request).await.map_err(|e| to_mcp_error(&e))?;
    let mut result: ReadResourceResult =
        serde_json::from_value(serde_json::json!({ "contents": bodies })).map_err(internal)?;
    // What the constructors set (rmcp leaves it out for 2025-era peers); from JSON it would be absent.
    result.result_type = Some(rmcp::model::ResultType::COMPLETE);
    Ok(result)
}

/// Where a resource update goes: a 2025-era session (`resources/subscribe`) or a 2026-era
/// `subscriptions/listen` stream.
#[derive(Clone)]
pub(crate) enum Target {
    Peer(Peer<RoleServer>),
    Listen(SubscriptionSink),
}

impl Target {
    fn is_closed(&self) -> bool {
        match self {
            Target::Peer(p) => p.is_transport_closed(),
            Target::Listen(_) => false, // removed when its listen request ends
        }
    }

    async fn notify(&self, uri: &str) -> Result<(), String> {
        match self {
            Target::Peer(p) => p
                .notify_resource_updated(ResourceUpdatedNotificationParam::new(uri))
                .await
                .map_err(|e| e.to_string()),
            Target::Listen(sink) => sink.notify_resource_updated(uri).await.map_err(|e| e.to_string()),
        }
    }
}

type ByUri = HashMap<String, HashMap<u64, Target>>;

/// Who subscribed to what: `uri` → the sessions' peers. Job resources are live: the job manager's change
/// feed becomes `notifications/resources/updated` for every session subscribed to `job://{id}`.
pub(crate) struct Subscriptions {
    router: Router,
    by_uri: Arc<Mutex<ByUri>>,
    feed: OnceLock<()>,
}

fn lock(map: &Mutex<ByUri>) -> std::sync::MutexGuard<'_, ByUri> {
    map.lock().unwrap_or_else(|p| p.into_inner())
}

impl Subscriptions {
    pub(crate) fn new(router: Router) -> Subscriptions {
        Subscriptions { router, by_uri: Arc::new(Mutex::new(HashMap::new())), feed: OnceLock::new() }
    }

    /// Subscribes `session` to `uri`, when the router's principal may read it (another principal's job
    /// reads as unknown).
    pub(crate) fn subscribe(
        &self,
        router: &Router,
        session: u64,
        peer: Target,
        uri: &str,
    ) -> Result<(), McpError> {
        if protocol::match_resource(uri).is_none() {
            return Err(McpError::resource_not_found(format!("no resource matches {uri}"), None));
        }
        if let Some(job_id) = uri.strip_prefix("job://") {
            router.jobs().get(router.principal(), job_id).map_err(|e| to_mcp_error(&e))?;
        }
        self.feed.get_or_init(|| follow_jobs(&self.router, Arc::downgrade(&self.by_uri)));
        let mut map = lock(&self.by_uri);
        // Sessions that went away are dropped here too, not only when a notification fails.
        map.retain(|_, sessions| {
            sessions.retain(|_, p| !p.is_closed());
            !sessions.is_empty()
        });
        map.entry(uri.to_owned()).or_default().insert(session, peer);
        Ok(())
    }

    /// The URIs of `requested` a `subscriptions/listen` may follow: those of subscribable resources.
    pub(crate) fn listenable(requested: &[String]) -> Vec<String> {
        requested
            .iter()
            .filter(|uri| protocol::match_resource(uri).is_some_and(|(d, _)| d.subscribable))
            .cloned()
            .collect()
    }

    pub(crate) fn unsubscribe(&self, session: u64, uri: &str) {
        let mut map = lock(&self.by_uri);
        if let Some(sessions) = map.get_mut(uri) {
            sessions.remove(&session);
            if sessions.is_empty() {
                map.remove(uri);
            }
        }
    }
}

/// Turns the job manager's change feed into resource updates, for as long as the subscriptions live.
fn follow_jobs(router: &Router, by_uri: Weak<Mutex<ByUri>>) {
    let mut changes = router.jobs().subscribe_changes();
    tokio::spawn(async move {
        loop {
            let uris = match changes.recv().await {
                Ok(job_id) => vec![format!("job://{job_id}")],
                // Some changes were missed: tell every job subscriber to read again.
                Err(RecvError::Lagged(_)) => match by_uri.upgrade() {
                    Some(map) => lock(&map).keys().filter(|u| u.starts_with("job://")).cloned().collect(),
                    None => return,
                },
                Err(RecvError::Closed) => return,
            };
            let Some(map) = by_uri.upgrade() else { return };
            for uri in uris {
                notify(&map, &uri).await;
            }
        }
    });
}

async fn notify(map: &Mutex<ByUri>, uri: &str) {
    let peers: Vec<(u64, Target)> = match lock(map).get(uri) {
        Some(sessions) => sessions.iter().map(|(s, p)| (*s, p.clone())).collect(),
        None => return,
    };
    for (session, peer) in peers {
        if let Err(e) = peer.notify(uri).await {
            tracing::debug!(uri, session, error = %e, "resource update not delivered");
            if peer.is_closed() || matches!(peer, Target::Listen(_)) {
                let mut map = lock(map);
                if let Some(sessions) = map.get_mut(uri) {
                    sessions.remove(&session);
                    if sessions.is_empty() {
                        map.remove(uri);
                    }
                }
            }
        }
    }
}
