//! Streamable HTTP: `/mcp` (rmcp; resumable SSE streams through `streams.rs` and `events.rs`), the JSON API
//! under `/api/v1` (the `pipette-api` crate), the probes
//! `GET /livez`, `GET /readyz` and `GET /health`, and `GET /metrics`, every path behind one guard: Host and Origin checks (DNS rebinding), then the bearer
//! token of a principal (`auth.rs`). `listener.rs` accepts the connections (cap, header and idle timeouts).

mod auth;
mod listener;

use std::net::{Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context as _, bail};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode, header, uri::Authority};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Extension, Json};
use mcp_tools::{HealthStatus, MetricsExporter};
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use serde_json::Value;
use tokio_util::sync::CancellationToken;

use crate::events::MemoryEventStore;
use crate::streams::Sessions;
use crate::{PipetteServer, ServerArgs};

use auth::Principals;
use listener::Limits;

/// How long a client waits before reconnecting to a closed SSE stream (the priming events' `retry`).
const SSE_RETRY: Duration = Duration::from_secs(1);
/// Host names always allowed (any port).
const LOOPBACK_HOSTS: [&str; 3] = ["localhost", "127.0.0.1", "::1"];
/// Browser origins always allowed.
const LOOPBACK_ORIGINS: [&str; 6] = [
    "http://localhost:*",
    "http://127.0.0.1:*",
    "http://[::1]:*",
    "https://localhost:*",
    "https://127.0.0.1:*",
    "https://[::1]:*",
];
/// What a refused `Host` is told.
const HOST_HINT: &str = "allowed: localhost, 127.0.0.1 and [::1] (any port), and the names listed in \
                         PIPETTE_ALLOWED_HOSTS (--allowed-hosts)";

/// Who sent an HTTP request, once its bearer token matched: the request's extensions carry it, and rmcp hands
/// the request's `http::request::Parts` to the handler (see [`authenticated`]).
#[derive(Clone, Debug)]
pub(crate) struct Authenticated {
    /// The principal's name: `token` for `PIPETTE_TOKEN` / `PIPETTE_TOKEN_FILE`, else its name in
    /// `PIPETTE_TOKENS_FILE`.
    pub(crate) principal: Arc<str>,
    /// Marked `operator` in `PIPETTE_TOKENS_FILE`.
    pub(crate) operator: bool,
}

/// The principal of an MCP request that came over HTTP with a valid token, read from the request context's
/// extensions (`RequestContext::extensions`, where rmcp puts the HTTP request's `Parts`). `None` over stdio,
/// and over HTTP when no token is configured.
pub(crate) fn authenticated(ext: &rmcp::model::Extensions) -> Option<Authenticated> {
    ext.get::<axum::http::request::Parts>()?.extensions.get::<Authenticated>().cloned()
}

/// The HTTP face's settings, checked before the server starts.
pub(crate) struct Config {
    addr: SocketAddr,
    guard: Guard,
    /// The same lists, spelled for rmcp's own checks on `/mcp`.
    hosts: Vec<String>,
    origins: Vec<String>,
    limits: Limits,
    /// Live sessions at most.
    max_sessions: usize,
    /// Bytes of SSE events kept for resumption.
    event_budget: usize,
}

impl Config {
    /// Reads the tokens and checks the lists. Refuses an address beyond loopback without a token unless
    /// `--allow-unauthenticated`.
    pub(crate) fn from_args(addr: SocketAddr, args: &ServerArgs) -> anyhow::Result<Config> {
        let principals = Principals::from_args(args)?;
        if !addr.ip().is_loopback() {
            if principals.is_empty() && !args.allow_unauthenticated {
                bail!(
                    "refusing to serve HTTP on {addr} without a token: anyone who can reach that address could \
                     call every tool. Set a token (--token-file / PIPETTE_TOKEN_FILE, --tokens-file / \
                     PIPETTE_TOKENS_FILE, or PIPETTE_TOKEN), or pass --allow-unauthenticated \
                     (PIPETTE_ALLOW_UNAUTHENTICATED=true) if something in front of pipette authenticates"
                );
            }
            if principals.is_empty() {
                tracing::warn!(%addr, "serving beyond loopback without a token (--allow-unauthenticated)");
            }
            if args.allowed_hosts.is_empty() {
                tracing::warn!(
                    %addr,
                    "serving beyond loopback: only requests for localhost pass the Host check; \
                     list this machine's names in PIPETTE_ALLOWED_HOSTS"
                );
            }
        }
        let hosts: Vec<String> = LOOPBACK_HOSTS
            .iter()
            .map(|h| (*h).to_owned())
            .chain(args.allowed_hosts.iter().cloned())
            .collect();
        let host_rules = hosts
            .iter()
            .map(|h| {
                parse_allowed_host(h).with_context(|| {
                    format!("PIPETTE_ALLOWED_HOSTS (--allowed-hosts): `{h}` is not a host name or host:port")
                })
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        let origins: Vec<String> = LOOPBACK_ORIGINS
            .iter()
            .map(|o| (*o).to_owned())
            .chain(args.allowed_origins.iter().cloned())
            .collect();
        let origin_rules = origins
            .iter()
            .map(|o| {
                parse_allowed_origin(o).with_context(|| {
                    format!(
                        "PIPETTE_ALLOWED_ORIGINS (--allowed-origins): `{o}` is not an origin \
                         (scheme://host, scheme://host:port, scheme://host:* or null)"
                    )
                })
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        let limits = Limits {
            header_timeout: Duration::from_millis(args.http_header_timeout_ms),
            idle_timeout: Duration::from_millis(args.http_idle_timeout_ms),
            max_connections: usize::try_from(args.http_max_connections).unwrap_or(usize::MAX),
        };
        let guard =
            Guard { hosts: host_rules.into(), origins: origin_rules.into(), principals: principals.into() };
        let max_sessions = usize::try_from(args.http_max_sessions).unwrap_or(usize::MAX);
        let event_budget = usize::try_from(args.http_event_buffer_bytes).unwrap_or(usize::MAX);
        Ok(Config { addr, guard, hosts, origins, limits, max_sessions, event_budget })
    }
}

#[derive(Clone)]
struct Guard {
    hosts: Arc<[HostRule]>,
    origins: Arc<[OriginRule]>,
    principals: Arc<Principals>,
}

/// An allowed `Host`: a name, and a port when the rule names one.
#[derive(Debug, PartialEq)]
struct HostRule {
    host: String,
    port: Option<u16>,
}

fn normalize_host(host: &str) -> String {
    host.trim_start_matches('[').trim_end_matches(']').to_ascii_lowercase()
}

/// `host`, `host:port`, `[v6]`, `[v6]:port` or a bare IPv6 address.
fn parse_allowed_host(s: &str) -> Option<HostRule> {
    let s = s.trim();
    if let Ok(ip) = s.parse::<Ipv6Addr>() {
        return Some(HostRule { host: ip.to_string(), port: None });
    }
    let a = Authority::try_from(s).ok().filter(|a| !a.as_str().contains('@') && !a.host().is_empty())?;
    Some(HostRule { host: normalize_host(a.host()), port: a.port_u16() })
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum PortRule {
    Any,
    Exact(u16),
}

#[derive(Debug, PartialEq)]
enum OriginRule {
    Null,
    Tuple { scheme: String, host: String, port: PortRule },
}

/// An `Origin` value: `null`, or scheme, host and port (`None`: the scheme's default).
fn parse_origin(s: &str) -> Option<(String, String, Option<u16>)> {
    let uri = axum::http::Uri::try_from(s.trim()).ok()?;
    let scheme = uri.scheme_str()?.to_ascii_lowercase();
    let authority = uri.authority().filter(|a| !a.as_str().contains('@') && !a.host().is_empty())?;
    if uri.path_and_query().is_some_and(|p| !matches!(p.as_str(), "" | "/")) {
        return None;
    }
    Some((scheme, normalize_host(authority.host()), authority.port_u16()))
}

/// An allowed origin: `null`, `scheme://host:*` (any port), `scheme://host:port`, or `scheme://host` (any port,
/// as rmcp reads it for `/mcp`).
fn parse_allowed_origin(s: &str) -> Option<OriginRule> {
    let s = s.trim();
    if s.eq_ignore_ascii_case("null") {
        return Some(OriginRule::Null);
    }
    if let Some(base) = s.strip_suffix(":*") {
        let (scheme, host, None) = parse_origin(base)? else { return None };
        return Some(OriginRule::Tuple { scheme, host, port: PortRule::Any });
    }
    let (scheme, host, port) = parse_origin(s)?;
    Some(OriginRule::Tuple { scheme, host, port: port.map_or(PortRule::Any, PortRule::Exact) })
}

fn default_port(scheme: &str) -> Option<u16> {
    match scheme {
        "http" => Some(80),
        "https" => Some(443),
        _ => None,
    }
}

impl Guard {
    fn host_allowed(&self, host: &str, port: Option<u16>) -> bool {
        let host = normalize_host(host);
        self.hosts.iter().any(|r| r.host == host && r.port.is_none_or(|p| port == Some(p)))
    }

    fn origin_allowed(&self, origin: &str) -> bool {
        if origin.trim().eq_ignore_ascii_case("null") {
            return self.origins.contains(&OriginRule::Null);
        }
        let Some((scheme, host, port)) = parse_origin(origin) else { return false };
        self.origins.iter().any(|r| match r {
            OriginRule::Null => false,
            OriginRule::Tuple { scheme: s, host: h, port: p } => {
                *s == scheme
                    && *h == host
                    && match p {
                        PortRule::Any => true,
                        PortRule::Exact(p) => port.or_else(|| default_port(&scheme)) == Some(*p),
                    }
            }
        })
    }

    /// `None` when the request may go on; else the refusal.
    fn refuse(&self, req: &Request) -> Option<Response> {
        let host = match req.headers().get(header::HOST) {
            Some(h) => h.to_str().ok().and_then(|h| Authority::try_from(h).ok()),
            // HTTP/2 carries the host in `:authority`.
            None => req.uri().authority().cloned(),
        };
        let Some(host) = host.filter(|a| !a.as_str().contains('@')) else {
            return Some((StatusCode::BAD_REQUEST, "missing or malformed Host header").into_response());
        };
        if !self.host_allowed(host.host(), host.port_u16()) {
            tracing::warn!(host = host.as_str(), "refused a request for a foreign Host (DNS rebinding?)");
            let body = format!("Host {} is not allowed; {HOST_HINT}", host.as_str());
            return Some((StatusCode::FORBIDDEN, body).into_response());
        }
        if let Some(origin) = req.headers().get(header::ORIGIN) {
            let origin = origin.to_str().unwrap_or("");
            if !self.origin_allowed(origin) {
                tracing::warn!(origin, "refused a request from a foreign Origin");
                let body = format!(
                    "Origin {origin} is not allowed; allowed: http(s)://localhost, 127.0.0.1 and [::1] (any port), \
                     and the origins listed in PIPETTE_ALLOWED_ORIGINS (--allowed-origins)"
                );
                return Some((StatusCode::FORBIDDEN, body).into_response());
            }
        }
        None
    }
}

/// The token of `Authorization: Bearer TOKEN` (the scheme in any case).
fn bearer(headers: &HeaderMap) -> Option<&[u8]> {
    let value = headers.get(header::AUTHORIZATION)?.as_bytes();
    let (scheme, token) = value.split_at_checked(7)?;
    scheme.eq_ignore_ascii_case(b"bearer ").then_some(token)
}

async fn guard(State(g): State<Guard>, mut req: Request, next: Next) -> Response {
    if let Some(refused) = g.refuse(&req) {
        return refused;
    }
    if !g.principals.is_empty() {
        let Some(who) = bearer(req.headers()).and_then(|t| g.principals.authenticate(t)) else {
            let mut headers = HeaderMap::new();
            headers.insert(header::WWW_AUTHENTICATE, header::HeaderValue::from_static("Bearer"));
            let body =
                "missing or wrong bearer token (PIPETTE_TOKEN, PIPETTE_TOKEN_FILE or PIPETTE_TOKENS_FILE)";
            return (StatusCode::UNAUTHORIZED, headers, body).into_response();
        };
        tracing::trace!(principal = %who.principal, operator = who.operator, "authenticated an HTTP request");
        // The JSON API reads the principal itself (MCP reads `Authenticated` through rmcp's request parts).
        req.extensions_mut().insert(mcp_tools::Principal::named(who.principal.clone(), who.operator));
        req.extensions_mut().insert(who);
    }
    next.run(req).await
}

/// `GET /livez`: the process serves HTTP. Nothing else is checked, so an upstream's outage (or a slow
/// Redis) never makes an orchestrator restart pipette.
async fn livez() -> &'static str {
    "ok"
}

/// `GET /readyz`: 200 `ready` when the job store and the cache backend are usable, else 503 with the reason.
/// Upstream circuits do not count.
async fn readyz(State(server): State<PipetteServer>, who: Option<Extension<Authenticated>>) -> Response {
    let Some(health) = server.router().health() else {
        return (StatusCode::SERVICE_UNAVAILABLE, "not ready: the router has no health service")
            .into_response();
    };
    match health.readiness().await {
        Ok(()) => "ready".into_response(),
        Err(reason) => {
            let reason = if who.is_none() { scrub(&reason) } else { reason };
            (StatusCode::SERVICE_UNAVAILABLE, format!("not ready: {reason}")).into_response()
        }
    }
}

/// `GET /health`: the detailed report (the `health` tool's, read directly: a probe is not a tool call). 200
/// while pipette serves, `degraded` included (an upstream's circuit is open); 503 only when it cannot serve
/// (`unavailable`: the job store or the cache backend is unusable). Without a token, what would reveal the
/// file system is left out.
async fn health(State(server): State<PipetteServer>, who: Option<Extension<Authenticated>>) -> Response {
    let Some(health) = server.router().health() else {
        return (StatusCode::SERVICE_UNAVAILABLE, "the router has no health service").into_response();
    };
    let report = health.report().await;
    let code = match report.status {
        HealthStatus::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        HealthStatus::Ok | HealthStatus::Degraded => StatusCode::OK,
    };
    let mut v =
        serde_json::to_value(&report).unwrap_or_else(|e| serde_json::json!({ "error": e.to_string() }));
    if who.is_none() {
        hide_paths(&mut v);
    }
    (code, Json(v)).into_response()
}

/// What stands in for a path inside a message.
const HIDDEN: &str = "<hidden>";

/// Leaves out every member named like a path (`path`, `dir`, `root`, `file`, `*_path`, `*_dir`, `*_file`,
/// `*_root`) or whose value is an absolute path, and hides the paths inside other strings (error messages).
fn hide_paths(v: &mut Value) {
    match v {
        Value::Object(map) => {
            map.retain(|k, v| !path_key(k) && !v.as_str().is_some_and(is_path));
            map.values_mut().for_each(hide_paths);
        }
        Value::Array(items) => {
            items.retain(|v| !v.as_str().is_some_and(is_path));
            items.iter_mut().for_each(hide_paths);
        }
        Value::String(s) if s.split_whitespace().any(|w| is_path(trim_word(w))) => *s = scrub(s),
        _ => {}
    }
}

fn path_key(key: &str) -> bool {
    let key = key.to_ascii_lowercase();
    let last = key.rsplit(['_', '-']).next().unwrap_or_default();
    matches!(
        last,
        "path"
            | "paths"
            | "dir"
            | "dirs"
            | "directory"
            | "directories"
            | "root"
            | "roots"
            | "file"
            | "files"
            | "filename"
    )
}

/// An absolute path: `/…`, `~/…`, `C:\…`, `C:/…` or `\\server\…`.
fn is_path(s: &str) -> bool {
    let b = s.trim().as_bytes();
    match b {
        [b'/', ..] | [b'~', b'/', ..] | [b'\\', b'\\', ..] => true,
        [d, b':', b'\\' | b'/', ..] => d.is_ascii_alphabetic(),
        _ => false,
    }
}

fn trim_word(w: &str) -> &str {
    w.trim_matches(|c: char| {
        matches!(c, '"' | '\'' | '`' | '(' | ')' | '[' | ']' | '<' | '>' | ',' | ';' | ':')
    })
}

/// `message` with each word that is an absolute path replaced by `<hidden>`.
fn scrub(message: &str) -> String {
    message
        .split_inclusive(char::is_whitespace)
        .map(|w| {
            let word = w.trim_end();
            let core = trim_word(word);
            if is_path(core) { w.replacen(core, HIDDEN, 1) } else { w.to_owned() }
        })
        .collect()
}

/// `GET /metrics`: the Prometheus exposition, read from the exporter directly (not a tool call).
async fn metrics() -> Response {
    match MetricsExporter::install() {
        Ok(exporter) => ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], exporter.prometheus_text())
            .into_response(),
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, e).into_response(),
    }
}

/// `/livez`, `/readyz`, `/health`, `/metrics`, `/api/v1` and `/mcp`, each behind the guard.
fn app(server: PipetteServer, config: &Config, stop: &CancellationToken) -> axum::Router {
    let rmcp_config = StreamableHttpServerConfig::default()
        .with_allowed_hosts(config.hosts.clone())
        .with_allowed_origins(config.origins.clone())
        .with_sse_retry(Some(SSE_RETRY))
        .with_cancellation_token(stop.child_token());
    let mcp_server = server.clone();
    let service = StreamableHttpService::new(
        move || Ok(mcp_server.for_session()),
        Arc::new(Sessions::new(MemoryEventStore::new(config.event_budget), SSE_RETRY, config.max_sessions)),
        rmcp_config,
    );
    let api = pipette_api::routes(server.router().clone());
    axum::Router::new()
        .nest(pipette_api::PREFIX, api)
        .route("/livez", get(livez))
        .route("/readyz", get(readyz))
        .route("/health", get(health))
        .route("/metrics", get(metrics))
        .merge(crate::status::routes())
        .with_state(server)
        // The request guard reads each POSTed body before rmcp does (malformed JSON: 400 with the id).
        .nest_service(
            "/mcp",
            axum::Router::new().fallback_service(service).layer(middleware::from_fn(crate::guard::http)),
        )
        .layer(middleware::from_fn_with_state(config.guard.clone(), guard))
}

/// Serves until Ctrl-C, then lets busy connections finish.
pub(crate) async fn serve(server: PipetteServer, config: Config) -> anyhow::Result<()> {
    let stop = CancellationToken::new();
    let app = app(server, &config, &stop);
    let addr = config.addr;
    let listener = tokio::net::TcpListener::bind(addr).await.with_context(|| format!("binding {addr}"))?;
    let local = listener.local_addr()?;
    tracing::info!(
        header_timeout_ms = config.limits.header_timeout.as_millis(),
        idle_timeout_ms = config.limits.idle_timeout.as_millis(),
        max_connections = config.limits.max_connections,
        "serving streamable HTTP at http://{local}/mcp"
    );
    let on_signal = stop.clone();
    tokio::spawn(async move {
        let signal = mcp_tools::shutdown::signalled().await;
        tracing::info!("stopping: {signal}");
        on_signal.cancel();
    });
    listener::serve(listener, app, config.limits, stop).await;
    Ok(())
}

#[cfg(test)]
mod tests;
