//! `GET /tools` (every tool with its schemas) and `POST /tools/{name}` (a call through the router: 200 with
//! the result, or 202 with the job it became).

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use mcp_tools::{CallOptions, CallOutcome, ToolInfo, Toolset};
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

use crate::error::ApiError;
use crate::{Api, Caller};

/// The first toolset that holds `info`'s tool (its home), if any.
pub(crate) fn toolset_of(info: &ToolInfo) -> Option<Toolset> {
    let d = info.descriptor;
    Toolset::ALL.into_iter().find(|set| set.contains(d.name, d.category))
}

/// A tool as `GET /tools` lists it.
fn listing(info: &ToolInfo) -> Value {
    let d = info.descriptor;
    let a = d.annotations;
    json!({
        "name": d.name,
        "description": d.description,
        "category": d.category.as_str(),
        "toolset": toolset_of(info).map(Toolset::as_str),
        "runtime": d.runtime.as_str(),
        "deprecated": d.deprecated,
        "annotations": {
            "read_only": a.read_only,
            "destructive": a.destructive,
            "idempotent": a.idempotent,
            "open_world": a.open_world,
        },
        "input_schema": info.input_schema(),
        "output_schema": info.output_schema(),
    })
}

/// `GET /tools`: every tool this server has, sorted by name.
pub(crate) async fn list(State(api): State<Api>) -> Response {
    let tools: Vec<Value> = api.router.registry().tools().iter().map(listing).collect();
    axum::Json(json!({ "tools": tools })).into_response()
}

/// Whether the caller prefers markdown: `text/markdown` comes before any JSON type in `Accept`.
pub(crate) fn wants_markdown(headers: &HeaderMap) -> bool {
    let Some(accept) = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()) else { return false };
    accept
        .split(',')
        .map(|t| t.split(';').next().unwrap_or("").trim().to_ascii_lowercase())
        .find(|t| t == "text/markdown" || t == "application/json" || t.ends_with("+json"))
        .is_some_and(|t| t == "text/markdown")
}

pub(crate) fn markdown(status: StatusCode, text: String) -> Response {
    (status, [(header::CONTENT_TYPE, "text/markdown; charset=utf-8")], text).into_response()
}

/// `POST /tools/{name}` with the arguments as the JSON body (none: no arguments). Dropping the request
/// (the client went away) cancels a call that has not yet become a job.
pub(crate) async fn call(
    State(api): State<Api>,
    caller: Caller,
    Path(name): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let args: Value = if body.iter().all(u8::is_ascii_whitespace) {
        Value::Null
    } else {
        serde_json::from_slice(&body).map_err(|e| {
            ApiError::bad_request("body", format!("expected a JSON object of the tool's arguments: {e}"))
        })?
    };
    let asked = args.clone();
    let cancel = CancellationToken::new();
    let _cancel_on_drop = cancel.clone().drop_guard();
    let options = CallOptions { cancel, ..CallOptions::default() };
    let router = api.router_for(caller);
    let outcome = router.call(&name, args, options).await?;
    let md = wants_markdown(&headers);
    Ok(match outcome {
        CallOutcome::Done(mut value) => {
            if md {
                let text = mcp_tools::result_text(&name, &asked, &value, mcp_tools::max_result_bytes());
                return Ok(markdown(StatusCode::OK, text));
            }
            if let Some(object) = value.as_object_mut() {
                object.remove(mcp_tools::MARKDOWN_KEY);
            }
            axum::Json(value).into_response()
        }
        CallOutcome::Job(ticket) => {
            let location = format!("{}/jobs/{}", crate::PREFIX, ticket.job_id);
            let mut response = if md {
                let value = serde_json::to_value(&ticket).unwrap_or_default();
                markdown(StatusCode::ACCEPTED, mcp_tools::render_text(&value))
            } else {
                (StatusCode::ACCEPTED, axum::Json(ticket)).into_response()
            };
            if let Ok(v) = HeaderValue::from_str(&location) {
                response.headers_mut().insert(header::LOCATION, v);
            }
            response
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_only_when_asked_before_json() {
        let check = |accept: Option<&str>, expected: bool| {
            let mut h = HeaderMap::new();
            if let Some(a) = accept {
                h.insert(header::ACCEPT, HeaderValue::from_str(a).unwrap());
            }
            assert_eq!(wants_markdown(&h), expected, "{accept:?}");
        };
        check(None, false);
        check(Some("*/*"), false);
        check(Some("text/markdown"), true);
        check(Some("text/markdown; charset=utf-8, application/json;q=0.5"), true);
        check(Some("application/json, text/markdown"), false);
        check(Some("application/problem+json, text/markdown"), false);
    }
}
