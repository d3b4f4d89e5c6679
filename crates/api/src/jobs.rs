//! `GET /jobs`, `GET /jobs/{id}`, `DELETE /jobs/{id}` (cancel) and `GET /jobs/{id}/events` (server-sent
//! events: `progress` while it runs, then `result` or `error`), each for the caller's own jobs.

use std::collections::HashMap;
use std::convert::Infallible;

use std::time::Duration;

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures::StreamExt;
use mcp_tools::{JobRecord, JobStatus, ProgressJson, ToolError};
use serde_json::{Value, json};

use crate::error::ApiError;
use crate::tools::{markdown, wants_markdown};
use crate::{Api, Caller};

/// The most jobs one list answers.
const LIST_MAX: usize = 500;
/// How often an event stream looks at its job when no change was announced (a job run by another process).
const POLL: Duration = Duration::from_secs(1);

/// A record as the API shows it: the result without its markdown (that is `Accept: text/markdown`).
fn shown(mut rec: JobRecord) -> JobRecord {
    if let Some(obj) = rec.result.as_mut().and_then(Value::as_object_mut) {
        obj.remove(mcp_tools::MARKDOWN_KEY);
    }
    rec
}

/// `GET /jobs?status=&tool=&limit=`: the caller's jobs, newest first (an anonymous caller has none).
pub(crate) async fn list(
    State(api): State<Api>,
    caller: Caller,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    let status = match query.get("status").map(|s| s.trim()) {
        None | Some("") => None,
        Some(s) => Some(JobStatus::ALL.into_iter().find(|j| j.as_str() == s).ok_or_else(|| {
            let all: Vec<&str> = JobStatus::ALL.iter().map(|j| j.as_str()).collect();
            ToolError::invalid_argument(
                "status",
                format!("unknown status `{s}`; expected one of {}", all.join(", ")),
            )
        })?),
    };
    let limit = match query.get("limit") {
        None => 50,
        Some(l) => {
            l.trim().parse::<usize>().ok().filter(|n| (1..=LIST_MAX).contains(n)).ok_or_else(|| {
                ToolError::invalid_argument(
                    "limit",
                    format!("expected a whole number from 1 to {LIST_MAX}, got `{l}`"),
                )
            })?
        }
    };
    let tool = query.get("tool").map(String::as_str).filter(|t| !t.is_empty());
    let router = api.router_for(caller);
    let jobs: Vec<JobRecord> =
        router.jobs().list(router.principal(), status, tool, limit)?.into_iter().map(shown).collect();
    Ok(axum::Json(json!({ "jobs": jobs })).into_response())
}

/// `GET /jobs/{id}`: the job, with its output so far (`Accept: text/markdown`: as a person reads it).
pub(crate) async fn get(
    State(api): State<Api>,
    caller: Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let router = api.router_for(caller);
    let (rec, output) = router.jobs().status(router.principal(), &id, false)?;
    if wants_markdown(&headers) {
        return Ok(markdown(StatusCode::OK, rec.markdown(&output)));
    }
    let mut v = serde_json::to_value(shown(rec)).unwrap_or_default();
    if !output.is_empty() {
        v["output"] = Value::from(output);
    }
    Ok(axum::Json(v).into_response())
}

/// `DELETE /jobs/{id}`: cancels the job and answers its record once it has stopped (an ended job is
/// answered as it is).
pub(crate) async fn cancel(
    State(api): State<Api>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let router = api.router_for(caller);
    let rec = router.jobs().cancel(router.principal(), &id).await?;
    Ok(axum::Json(shown(rec)).into_response())
}

fn event(name: &str, data: &impl serde::Serialize) -> Event {
    Event::default().event(name).json_data(data).unwrap_or_else(|_| Event::default().event(name).data("{}"))
}

/// The event for one record the job's watch yielded: the end (`result` or `error`), or `progress` when it
/// moved (a status change without progress says nothing new to an events reader).
fn follow_event(rec: Result<JobRecord, ToolError>, last: &mut Option<ProgressJson>) -> Option<Event> {
    let rec = match rec {
        Ok(rec) => rec,
        Err(e) => return Some(event("error", &e)),
    };
    if rec.status.is_terminal() {
        return Some(match (rec.status, shown(rec)) {
            (JobStatus::Completed, rec) => event("result", &rec.result.unwrap_or(Value::Null)),
            (status, rec) => {
                let err = rec.error.unwrap_or_else(|| {
                    ToolError::internal(format!("job `{}` ended {}", rec.job_id, status.as_str()))
                });
                event("error", &err)
            }
        });
    }
    if rec.progress.is_some() && rec.progress != *last {
        last.clone_from(&rec.progress);
        return Some(event("progress", &json!({ "status": rec.status, "progress": rec.progress })));
    }
    None
}

/// `GET /jobs/{id}/events`: server-sent events for one job, `progress` (`{status, progress}`) as it
/// changes, then `result` (the result) or `error` (the tool error), and the stream ends.
pub(crate) async fn events(
    State(api): State<Api>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let router = api.router_for(caller);
    let jobs = router.jobs();
    jobs.get(router.principal(), &id)?; // an unknown job is a 404, not an empty stream
    let mut last = None;
    let stream = jobs
        .watch(router.principal(), &id, POLL)
        .filter_map(move |rec| std::future::ready(follow_event(rec, &mut last).map(Ok::<_, Infallible>)));
    Ok(Sse::new(stream).keep_alive(KeepAlive::default()).into_response())
}
