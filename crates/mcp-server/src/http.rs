//! Streamable HTTP: `/mcp` (rmcp; resumable SSE streams through `streams.rs` and `events.rs`), `GET /health`
//! and `GET /metrics`, behind a bearer token and Host/Origin checks (DNS rebinding).

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context as _;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use mcp_tools::{CallOptions, CallOutcome};
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};

use crate::events::MemoryEventStore;
use crate::streams::Sessions;
use crate::{PipetteServer, ServerArgs};

/// How long a client waits before reconnecting to a closed SSE stream (the priming events' `retry`).
const SSE_RETRY: std::time::Duration = std::time::Duration::from_secs(1);
/// The bytes of SSE events kept for clients that reconnect with `Last-Event-ID`.
const EVENT_BUDGET: usize = 64 << 20;

/// The principal a request's bearer token stands for (set by the guard on authenticated requests).
#[derive(Clone, Debug)]
pub(crate) struct Authenticated {
    pub(crate) principal: Arc<str>,
    pub(crate) operator: bool,
}

/// The principal of an authenticated HTTP request, from the request parts rmcp hands the handler.
pub(crate) fn authenticated(parts: &axum::http::request::Parts) -> Option<Authenticated> {
    parts.extensions.get::<Authenticated>().cloned()
}

#[derive(Clone)]
struct Guard {
    token: Option<Arc<str>>,
    origins: Arc<Vec<String>>,
}

fn loopback_origin(origin: &str) -> bool {
    let rest = origin.strip_prefix("http://").or_else(|| origin.strip_prefix("https://")).unwrap_or("");
    let host = if rest.starts_with('[') {
        rest.split(']').next().map(|h| format!("{h}]")).unwrap_or_default()
    } else {
        rest.split(':').next().unwrap_or("").to_owned()
    };
    matches!(host.as_str(), "localhost" | "127.0.0.1" | "[::1]")
}

async fn guard(State(g): State<Guard>, mut req: Request, next: Next) -> Response {
    if let Some(origin) = req.headers().get(header::ORIGIN) {
        let origin = origin.to_str().unwrap_or("");
        if !loopback_origin(origin) && !g.origins.iter().any(|o| o == origin) {
            tracing::warn!(origin, "refused a request from a foreign Origin");
            return (
                StatusCode::FORBIDDEN,
                format!("Origin {origin} is not allowed (PIPETTE_ALLOWED_ORIGINS)"),
            )
                .into_response();
        }
    }
    if let Some(token) = &g.token {
        let ok = req
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .is_some_and(|t| constant_time_eq(t.as_bytes(), token.as_bytes()));
        if !ok {
            let mut headers = HeaderMap::new();
            headers.insert(header::WWW_AUTHENTICATE, header::HeaderValue::from_static("Bearer"));
            return (StatusCode::UNAUTHORIZED, headers, "missing or wrong bearer token (PIPETTE_TOKEN)")
                .into_response();
        }
        req.extensions_mut().insert(Authenticated { principal: Arc::from("token"), operator: false });
    }
    next.run(req).await
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

async fn call_json(server: &PipetteServer, tool: &str) -> Result<serde_json::Value, (StatusCode, String)> {
    match server.router().call(tool, serde_json::json!({}), CallOptions::default()).await {
        Ok(CallOutcome::Done(v)) => Ok(v),
        Ok(CallOutcome::Job(_)) => Err((StatusCode::SERVICE_UNAVAILABLE, format!("{tool} is still running"))),
        Err(e) => Err((StatusCode::INTERNAL_SERVER_ERROR, e.message)),
    }
}

async fn health(State(server): State<PipetteServer>) -> Response {
    match call_json(&server, "health").await {
        Ok(v) => {
            let code = if v["status"] == "ok" { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
            (code, axum::Json(v)).into_response()
        }
        Err(e) => e.into_response(),
    }
}

async fn metrics(State(server): State<PipetteServer>) -> Response {
    match call_json(&server, "metrics_prometheus").await {
        Ok(v) => (
            [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
            v["text"].as_str().unwrap_or_default().to_owned(),
        )
            .into_response(),
        Err(e) => e.into_response(),
    }
}

pub(crate) async fn serve(server: PipetteServer, addr: SocketAddr, args: &ServerArgs) -> anyhow::Result<()> {
    let mut hosts = vec!["localhost".to_owned(), "127.0.0.1".to_owned(), "::1".to_owned()];
    hosts.extend(args.allowed_hosts.iter().cloned());
    if !addr.ip().is_loopback() {
        tracing::warn!(%addr, "serving beyond loopback; set PIPETTE_TOKEN and PIPETTE_ALLOWED_HOSTS");
    }
    let mut origins: Vec<String> =
        vec!["http://localhost:*".into(), "http://127.0.0.1:*".into(), "http://[::1]:*".into()];
    origins.extend(args.allowed_origins.iter().cloned());
    let config = StreamableHttpServerConfig::default()
        .with_allowed_hosts(hosts)
        .with_allowed_origins(origins)
        .with_sse_retry(Some(SSE_RETRY));
    let mcp_server = server.clone();
    let service = StreamableHttpService::new(
        move || Ok(mcp_server.for_session()),
        Arc::new(Sessions::new(Arc::new(MemoryEventStore::new(EVENT_BUDGET)), SSE_RETRY)),
        config,
    );
    let guard_state = Guard {
        token: args.token.as_deref().filter(|t| !t.is_empty()).map(Arc::from),
        origins: Arc::new(args.allowed_origins.clone()),
    };
    let app = axum::Router::new()
        .route("/health", get(health))
        .route("/metrics", get(metrics))
        .with_state(server)
        .nest_service("/mcp", service)
        .layer(middleware::from_fn_with_state(guard_state, guard));
    let listener = tokio::net::TcpListener::bind(addr).await.with_context(|| format!("binding {addr}"))?;
    let local = listener.local_addr()?;
    tracing::info!("serving streamable HTTP at http://{local}/mcp");
    // Small request/response exchanges: do not let Nagle's algorithm hold replies back.
    let listener = axum::serve::ListenerExt::tap_io(listener, |tcp| {
        if let Err(e) = tcp.set_nodelay(true) {
            tracing::debug!(error = %e, "TCP_NODELAY not set");
        }
    });
    axum::serve(listener, app)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await
        .context("serving HTTP")
}
