//! `GET /jobs`, `GET /jobs/{id}`, `DELETE /jobs/{id}` (cancel) and `GET /jobs/{id}/events` (server-sent
//! events: `progress` while it runs, then `result` or `error`), each for the caller's own jobs.

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use mcp_tools::{JobManager, JobRecord, JobStatus, Principal, ProgressJson, ToolError};
use serde_json::{Value, json};
use tokio::sync::broadcast;

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

/// What an event stream follows.
struct Follow {
    jobs: Arc<JobManager>,
    principal: Principal,
    id: String,
    changes: broadcast::Receiver<String>,
    last: Option<ProgressJson>,
    done: bool,
}

fn event(name: &str, data: &impl serde::Serialize) -> Event {
    Event::default().event(name).json_data(data).unwrap_or_else(|_| Event::default().event(name).data("{}"))
}

impl Follow {
    /// The next event: new progress, or the end (`result` or `error`); waits for a change in between.
    async fn next(mut self) -> Option<(Result<Event, Infallible>, Follow)> {
        if self.done {
            return None;
        }
        loop {
            let rec = match self.jobs.get(&self.principal, &self.id) {
                Ok(rec) => rec,
                Err(e) => {
                    self.done = true;
                    return Some((Ok(event("error", &e)), self));
                }
            };
            if rec.status.is_terminal() {
                self.done = true;
                let ev = match (rec.status, shown(rec)) {
                    (JobStatus::Completed, rec) => event("result", &rec.result.unwrap_or(Value::Null)),
                    (status, rec) => {
                        let err = rec.error.unwrap_or_else(|| {
                            ToolError::internal(format!("job `{}` ended {}", rec.job_id, status.as_str()))
                        });
                        event("error", &err)
                    }
                };
                return Some((Ok(ev), self));
            }
            if rec.progress.is_some() && rec.progress != self.last {
                self.last = rec.progress.clone();
                let data = json!({ "status": rec.status, "progress": rec.progress });
                return Some((Ok(event("progress", &data)), self));
            }
            let wait = tokio::time::sleep(POLL);
            tokio::pin!(wait);
            loop {
                tokio::select! {
                    changed = self.changes.recv() => match changed {
                        Ok(id) if id == self.id => break,
                        Ok(_) => continue,
                        Err(broadcast::error::RecvError::Lagged(_)) => break,
                        Err(broadcast::error::RecvError::Closed) => {
                            (&mut wait).await;
                            break;
                        }
                    },
                    _ = &mut wait => break,
                }
            }
        }
    }
}

/// `GET /jobs/{id}/events`: server-sent events for one job, `progress` (`{status, progress}`) as it
/// changes, then `result` (the result) or `error` (the tool error), and the stream ends.
pub(crate) async fn events(
    State(api): State<Api>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let router = api.router_for(caller);
    let jobs = router.jobs().clone();
    let changes = jobs.subscribe_changes();
    let principal = router.principal().clone();
    jobs.get(&principal, &id)?; // an unknown job is a 404, not an empty stream
    let follow = Follow { jobs, principal, id, changes, last: None, done: false };
    let stream = futures::stream::unfold(follow, Follow::next);
    Ok(Sse::new(stream).keep_alive(KeepAlive::default()).into_response())
}
