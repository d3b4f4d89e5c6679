//! `GET /status`: the live status page of `pipette-mcp --http` (behind the same guard as every route).
//!
//! One server-rendered HTML page, nothing fetched from the web and no build step: `render.rs` turns the alerts
//! engine's [`mcp_tools::Board`] into HTML once, for the page and for `GET /status/live` (the fragment the
//! page's small script, `app.js`, polls and swaps in); `GET /status.json` is the same board as JSON.

mod render;

use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Extension, Json};

use crate::PipetteServer;

/// How often the page asks for a fresh fragment.
const REFRESH_MS: u64 = 1000;

/// The page allows only itself: its script and style from this server, no inline script, no frames.
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; \
                   base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// `/status`, `/status/live`, `/status.json` and the page's script and style.
pub(crate) fn routes() -> axum::Router<PipetteServer> {
    axum::Router::new()
        .route("/status", get(page))
        .route("/status/live", get(live))
        .route("/status.json", get(json))
        .route("/status/app.js", get(|| asset("text/javascript; charset=utf-8", include_str!("app.js"))))
        .route("/status/app.css", get(|| asset("text/css; charset=utf-8", include_str!("app.css"))))
}

async fn asset(content_type: &'static str, body: &'static str) -> Response {
    ([(header::CONTENT_TYPE, content_type), (header::CACHE_CONTROL, "no-cache")], body).into_response()
}

/// The board for the caller: with tokens, the jobs the request's principal may see (an operator's: all);
/// without (loopback only, or something in front that authenticates), the single user's page shows every job.
fn board(server: &PipetteServer, who: Option<Extension<mcp_tools::Principal>>) -> Option<mcp_tools::Board> {
    let alerts = server.router().alerts()?;
    let principal = who.map_or_else(|| mcp_tools::Principal::named("status-page", true), |Extension(p)| p);
    Some(alerts.board(&principal))
}

fn unavailable() -> Response {
    (
        StatusCode::SERVICE_UNAVAILABLE,
        "the status page needs the router's alerts engine, which is not running",
    )
        .into_response()
}

fn html(body: String) -> Response {
    let mut response = ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], body).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    response
}

/// `GET /status`: the whole page.
async fn page(State(server): State<PipetteServer>, who: Option<Extension<mcp_tools::Principal>>) -> Response {
    match board(&server, who) {
        Some(b) => html(render::page(&b, REFRESH_MS)),
        None => unavailable(),
    }
}

/// `GET /status/live`: the page's live part, for the script to swap in.
async fn live(State(server): State<PipetteServer>, who: Option<Extension<mcp_tools::Principal>>) -> Response {
    match board(&server, who) {
        Some(b) => html(render::live(&b)),
        None => unavailable(),
    }
}

/// `GET /status.json`: the same data for programs.
async fn json(State(server): State<PipetteServer>, who: Option<Extension<mcp_tools::Principal>>) -> Response {
    match board(&server, who) {
        Some(b) => ([(header::CACHE_CONTROL, "no-store")], Json(b)).into_response(),
        None => unavailable(),
    }
}
