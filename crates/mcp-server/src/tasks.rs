//! MCP Tasks (the `io.modelcontextprotocol/tasks` extension, SEP-2663) over pipette's durable job
//! store: a task id is a job id, so `tasks/*` and the job tools see the same things, restarts included.
//!
//! A `tools/call` from a client that declared the extension becomes a task when pipette would have
//! made it a job: at once with `async_mode: true`, or when it outlives its inline budget. Quick calls
//! still answer inline. The 2025-11-25 experimental methods `tasks/result` and `tasks/list` are served
//! as custom requests for clients of that era.

use std::time::Duration;

use futures::StreamExt;
use mcp_tools::{JobRecord, JobStatus, JobTicket, Router, ToolError};
use rmcp::model::{
    CallToolResponse, CreateTaskResult, CustomRequest, CustomResult, DetailedTask, ErrorCode, GetTaskResult,
    JsonObject, ServerNotification, Task, TaskPayload, TaskStatus, TaskStatusNotification,
    TaskStatusNotificationParams, UpdateTaskParams,
};
use rmcp::service::{Peer, RequestContext};
use rmcp::{ErrorData as McpError, RoleServer};

use crate::handler::{done_result, error_result};

/// How often clients are asked to poll a working task, in milliseconds.
pub(crate) const POLL_INTERVAL_MS: u64 = 500;
/// Tasks per `tasks/list` page.
const PAGE: usize = 50;
/// The `_meta` key that ties a message to its task (2025-11-25).
const RELATED_TASK: &str = "io.modelcontextprotocol/related-task";

/// Whether the client behind this request accepts a task in answer to `tools/call`.
pub(crate) fn accepted(context: &RequestContext<RoleServer>) -> bool {
    context.client_capabilities().is_some_and(|c| c.supports_tasks())
}

/// The answer to a `tools/call` that became job `ticket`. A session opened with `initialize` also
/// hears `notifications/tasks` as the task changes status (2026-07-28 sessions poll `tasks/get`).
pub(crate) fn created(
    router: &Router,
    ticket: &JobTicket,
    context: &RequestContext<RoleServer>,
) -> CallToolResponse {
    if context.peer.peer_info().is_some() {
        watch(router.clone(), context.peer.clone(), ticket.job_id.clone());
    }
    let task = Task::new(&ticket.job_id, TaskStatus::Working, &ticket.started_at, &ticket.started_at)
        .with_poll_interval_ms(POLL_INTERVAL_MS)
        .with_status_message(format!("{} is working", ticket.tool));
    CallToolResponse::Task(CreateTaskResult::new(task))
}

/// Sends `notifications/tasks` to `peer` whenever the task's status changes, until it ends or the
/// client goes away. It polls rather than following `JobManager::watch`: a task's `input_required` comes from
/// the questions parked for it (`parked.rs`), which the job's record does not show.
fn watch(router: Router, peer: Peer<RoleServer>, task_id: String) {
    tokio::spawn(async move {
        let mut last = TaskStatus::Working; // what the CreateTaskResult said
        while !peer.is_transport_closed() {
            tokio::time::sleep(Duration::from_millis(POLL_INTERVAL_MS / 2)).await;
            let Ok(rec) = router.jobs().get(router.principal(), &task_id) else { return };
            let task = detailed(&rec);
            if task.status() != last {
                last = task.status();
                let n = TaskStatusNotification::new(TaskStatusNotificationParams::new(task));
                if let Err(e) = peer.send_notification(ServerNotification::TaskStatusNotification(n)).await {
                    tracing::debug!(task_id, error = %e, "task notification not delivered");
                    return;
                }
            }
            if rec.status.is_terminal() {
                return;
            }
        }
    });
}

fn object(v: serde_json::Value) -> JsonObject {
    match v {
        serde_json::Value::Object(o) => o,
        _ => JsonObject::new(),
    }
}

/// The JSON-RPC error a task failed with: the process running it stopped.
fn rpc_error(e: Option<&ToolError>) -> McpError {
    let message = e.map(|e| e.message.clone()).unwrap_or_else(|| "the task failed".to_owned());
    McpError::internal_error(message, e.and_then(|e| serde_json::to_value(e).ok()))
}

/// The `tools/call` result a finished job stands for: what the call would have answered inline.
fn call_result(rec: &JobRecord) -> Option<rmcp::model::CallToolResult> {
    match rec.status {
        JobStatus::Completed => {
            Some(done_result(&rec.tool, &rec.arguments, rec.result.clone().unwrap_or_default()))
        }
        JobStatus::Failed | JobStatus::Cancelled => Some(error_result(
            rec.error.as_ref().unwrap_or(&ToolError::internal("the job ended without an error record")),
        )),
        JobStatus::Queued | JobStatus::Running | JobStatus::Interrupted => None,
    }
}

/// A job as a task, with its status-specific payload. Tool errors complete the task with an
/// `isError` result (as the call would have answered inline); a job whose process stopped fails it.
pub(crate) fn detailed(rec: &JobRecord) -> DetailedTask {
    let mut task = Task::new(&rec.job_id, TaskStatus::Working, &rec.started_at, &rec.updated_at);
    let payload = match rec.status {
        JobStatus::Queued | JobStatus::Running if !crate::parked::open_questions(&rec.job_id).is_empty() => {
            task = task
                .with_poll_interval_ms(POLL_INTERVAL_MS)
                .with_status_message("waiting for the client's input");
            let input_requests = crate::parked::open_questions(&rec.job_id)
                .into_iter()
                .filter_map(|(k, v)| Some((k, serde_json::from_value(v).ok()?)))
                .collect();
            TaskPayload::InputRequired { input_requests }
        }
        JobStatus::Queued | JobStatus::Running => {
            task = task.with_poll_interval_ms(POLL_INTERVAL_MS);
            if let Some(p) = &rec.progress {
                let step = match p.total {
                    Some(t) => format!("{}/{t}", p.current),
                    None => p.current.to_string(),
                };
                task = task.with_status_message(match &p.message {
                    Some(m) => format!("{m} ({step})"),
                    None => step,
                });
            }
            TaskPayload::Working
        }
        // A tool that failed unexpectedly (a panic, an internal error) failed at the protocol level.
        JobStatus::Failed if rec.error.as_ref().is_some_and(|e| e.kind == mcp_tools::ErrorKind::Internal) => {
            let error = rpc_error(rec.error.as_ref());
            task = task.with_status_message(error.message.to_string());
            TaskPayload::Failed { error: object(serde_json::to_value(error).unwrap_or_default()) }
        }
        JobStatus::Completed | JobStatus::Failed => {
            if let Some(e) = &rec.error {
                task = task.with_status_message(format!("{} error: {}", e.kind.as_str(), e.message));
            }
            let result = call_result(rec).and_then(|r| serde_json::to_value(r).ok()).unwrap_or_default();
            TaskPayload::Completed { result: object(result) }
        }
        JobStatus::Cancelled => {
            if let Some(e) = &rec.error {
                task = task.with_status_message(e.message.clone());
            }
            TaskPayload::Cancelled
        }
        JobStatus::Interrupted => {
            let error = rpc_error(rec.error.as_ref());
            task = task.with_status_message(error.message.to_string());
            TaskPayload::Failed { error: object(serde_json::to_value(error).unwrap_or_default()) }
        }
    };
    DetailedTask::new(task, payload)
}

fn record(router: &Router, task_id: &str) -> Result<JobRecord, McpError> {
    router.jobs().get(router.principal(), task_id).map_err(|e| {
        McpError::invalid_params(
            format!("no task `{task_id}` (task ids are job ids; job_list shows them)"),
            serde_json::to_value(e).ok(),
        )
    })
}

/// `tasks/get`.
pub(crate) fn get(router: &Router, task_id: &str) -> Result<GetTaskResult, McpError> {
    let rec = record(router, task_id)?;
    if rec.status.is_terminal() {
        crate::parked::forget(&rec.job_id);
    }
    Ok(GetTaskResult::new(detailed(&rec)))
}

/// `tasks/cancel`: cancels the job and waits briefly until it has stopped. Cancelling a finished or
/// unknown task is acknowledged and changes nothing (cancellation is cooperative).
pub(crate) async fn cancel(router: &Router, task_id: &str) -> Result<(), McpError> {
    match router.jobs().cancel(router.principal(), task_id).await {
        Ok(rec) => tracing::info!(task_id, status = rec.status.as_str(), "task cancel requested"),
        Err(e) => tracing::info!(task_id, error = %e, "task cancel not applied"),
    }
    Ok(())
}

/// `tasks/update`: answers the task's open questions (`inputResponses` by key; keys it did not ask are
/// ignored) and acknowledges; the task goes on, as the next `tasks/get` shows.
pub(crate) fn update(router: &Router, request: UpdateTaskParams) -> Result<(), McpError> {
    let rec = record(router, &request.task_id)?;
    if !crate::parked::answer(&rec.job_id, request.input_responses.into_iter().collect()) {
        tracing::info!(
            task_id = rec.job_id,
            status = rec.status.as_str(),
            "tasks/update for a task that asked nothing"
        );
    }
    Ok(())
}

/// The custom requests of the 2025-11-25 Tasks API: `tasks/result` and `tasks/list`.
pub(crate) async fn custom(
    server: &crate::PipetteServer,
    router: &Router,
    request: CustomRequest,
    context: RequestContext<RoleServer>,
) -> Result<CustomResult, McpError> {
    if request.method == crate::guard::TASK_AUGMENTED_CALL {
        return task_augmented(server, request, context).await;
    }
    // SEP-2663 removed both: a request without an `initialize` session (2026-07-28) is told so.
    if crate::mrtr::answers_by_retrying(&context) {
        return Err(McpError::new(ErrorCode::METHOD_NOT_FOUND, request.method.clone(), None));
    }
    match request.method.as_str() {
        "tasks/result" => {
            let task_id = param(&request, "taskId")?
                .ok_or_else(|| McpError::invalid_params("tasks/result: `taskId` is required", None))?;
            result(router, task_id, context).await.map(CustomResult::new)
        }
        "tasks/list" => list(router, param(&request, "cursor")?).map(CustomResult::new),
        other => Err(McpError::new(ErrorCode::METHOD_NOT_FOUND, other.to_owned(), None)),
    }
}

/// A string parameter of a custom request, if present.
fn param<'a>(request: &'a CustomRequest, name: &str) -> Result<Option<&'a str>, McpError> {
    match request.params.as_ref().and_then(|p| p.get(name)) {
        None | Some(serde_json::Value::Null) => Ok(None),
        Some(serde_json::Value::String(s)) => Ok(Some(s)),
        Some(other) => Err(McpError::invalid_params(
            format!("{}: `{name}` must be a string, got {other}", request.method),
            None,
        )),
    }
}

/// `tasks/result`: waits until the task has ended, then answers what the call would have answered.
async fn result(
    router: &Router,
    task_id: &str,
    context: RequestContext<RoleServer>,
) -> Result<serde_json::Value, McpError> {
    let watch = router.jobs().watch(router.principal(), task_id, mcp_tools::WATCH_FALLBACK);
    let last = async {
        futures::pin_mut!(watch);
        let mut last = None;
        while let Some(rec) = watch.next().await {
            last = Some(rec);
        }
        last
    };
    let rec = tokio::select! {
        last = last => match last {
            Some(Ok(rec)) => rec,
            // Unknown (or not this caller's): the error `tasks/get` gives.
            Some(Err(_)) | None => record(router, task_id)?,
        },
        _ = context.ct.cancelled() => {
            return Err(McpError::internal_error("tasks/result was cancelled by the client", None));
        }
    };
    let Some(mut result) = call_result(&rec) else {
        return Err(rpc_error(rec.error.as_ref()));
    };
    let mut meta = result.meta.take().unwrap_or_default();
    meta.insert(RELATED_TASK.into(), serde_json::json!({ "taskId": task_id }));
    result.meta = Some(meta);
    serde_json::to_value(result).map_err(|e| McpError::internal_error(e.to_string(), None))
}

/// A task in the 2025-11-25 shape (`ttl`, `pollInterval`), with the SEP-2663 names alongside.
fn legacy_task(rec: &JobRecord) -> serde_json::Value {
    v1_task(&detailed(rec).task)
}

fn v1_task(task: &Task) -> serde_json::Value {
    let mut v = serde_json::to_value(task).unwrap_or_default();
    if let Some(o) = v.as_object_mut() {
        o.insert("ttl".into(), serde_json::Value::Null);
        if let Some(p) = task.poll_interval_ms {
            o.insert("pollInterval".into(), p.into());
        }
    }
    v
}

/// A 2025-11-25 task-augmented `tools/call` (its `task` parameter, which rmcp's typed request drops; the
/// guard hands it over as this custom request): the call starts as a task at once and is answered with the
/// 2025-11-25 `CreateTaskResult`, `{task: {...}}`. A call refused before it started answers as it would have.
async fn task_augmented(
    server: &crate::PipetteServer,
    request: CustomRequest,
    context: RequestContext<RoleServer>,
) -> Result<CustomResult, McpError> {
    let params = request.params.unwrap_or_default();
    let params: rmcp::model::CallToolRequestParams = serde_json::from_value(params)
        .map_err(|e| McpError::invalid_params(format!("invalid params for `tools/call`: {e}"), None))?;
    let answer = match server.call(params, context, true).await? {
        CallToolResponse::Task(created) => serde_json::json!({ "task": v1_task(&created.task) }),
        other => serde_json::to_value(rmcp::model::ServerResult::from(other))
            .map_err(|e| McpError::internal_error(e.to_string(), None))?,
    };
    Ok(CustomResult::new(answer))
}

/// `tasks/list`: the tasks (jobs), newest first, `PAGE` at a time; the cursor is an offset.
fn list(router: &Router, cursor: Option<&str>) -> Result<serde_json::Value, McpError> {
    let offset = match cursor {
        None => 0,
        Some(c) => c
            .parse::<usize>()
            .map_err(|_| McpError::invalid_params(format!("invalid tasks/list cursor `{c}`"), None))?,
    };
    let jobs = router
        .jobs()
        .list(router.principal(), None, None, offset + PAGE + 1)
        .map_err(|e| McpError::internal_error(e.message.clone(), None))?;
    let more = jobs.len() > offset + PAGE;
    let tasks: Vec<serde_json::Value> = jobs.iter().skip(offset).take(PAGE).map(legacy_task).collect();
    let mut out = serde_json::json!({ "tasks": tasks });
    if more {
        out["nextCursor"] = (offset + PAGE).to_string().into();
    }
    Ok(out)
}
