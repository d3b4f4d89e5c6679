//! The HTTP JSON API: `/api/v1/tools`, `/api/v1/tools/{name}`, `/api/v1/jobs…` and `/api/v1/openapi.json`,
//! a face over the same [`mcp_tools::Router`] as MCP and the CLI. It speaks HTTP only: the listener, the
//! bearer token and the Host and Origin checks belong to whoever mounts it (`pipette-mcp --http`), which
//! puts the caller's [`tool_metadata::Principal`] in each request's extensions.

mod docs;
mod error;
mod jobs;
mod openapi;
mod tools;

use std::sync::{Arc, OnceLock};

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::routing::{get, post};
use mcp_tools::Router;
use tool_metadata::Principal;

/// Where the API is mounted.
pub const PREFIX: &str = "/api/v1";

/// What every handler shares: the router, and the OpenAPI document once built.
#[derive(Clone)]
struct Api {
    router: Router,
    openapi: Arc<OnceLock<axum::body::Bytes>>,
}

/// The principal a request acts for: the one its mounter authenticated, else `anonymous` (who may follow a
/// job by its id but lists none).
struct Caller(Principal);

impl<S: Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(Caller(parts.extensions.get::<Principal>().cloned().unwrap_or_else(Principal::anonymous)))
    }
}

impl Api {
    fn router_for(&self, caller: Caller) -> Router {
        self.router.acting_for(caller.0)
    }
}

/// The API's routes, to be nested at [`PREFIX`] behind the mounter's guard (in a router of any state).
pub fn routes<S: Clone + Send + Sync + 'static>(router: Router) -> axum::Router<S> {
    let api = Api { router, openapi: Arc::default() };
    axum::Router::new()
        .route("/tools", get(tools::list))
        .route("/tools/{name}", post(tools::call))
        .route("/jobs", get(jobs::list))
        .route("/jobs/{id}", get(jobs::get).delete(jobs::cancel))
        .route("/jobs/{id}/events", get(jobs::events))
        .route("/openapi.json", get(openapi::serve))
        .route("/docs", get(docs::page))
        .fallback(error::no_route)
        .with_state(api)
}
