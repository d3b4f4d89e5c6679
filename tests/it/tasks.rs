//! MCP Tasks over the job store: task-augmented tools/call, tasks/get, tasks/cancel, tasks/result,
//! tasks/list, and tasks read back after a restart; all with rmcp's client over stdio.

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rmcp::model::{
    CallToolResponse, CancelTaskParams, ClientCapabilities, ClientConfig, ClientRequest, CustomRequest,
    GetTaskParams, Implementation, TaskPayload, TaskStatus, TaskStatusNotificationParams,
};
use rmcp::service::{NotificationContext, RunningService};
use rmcp::transport::TokioChildProcess;
use rmcp::{ClientHandler, RoleClient, ServiceExt as _};
use serde_json::{Value, json};

use crate::support::{call_ok, command, params, sigkill, stdio};

type TaskConn = RunningService<RoleClient, TasksClient>;

/// A client that declares the tasks extension and keeps the task notifications it hears.
#[derive(Clone, Default)]
struct TasksClient {
    heard: Arc<Mutex<Vec<Value>>>,
}

impl ClientHandler for TasksClient {
    fn get_info(&self) -> ClientConfig {
        ClientConfig::new(
            ClientCapabilities::builder().enable_tasks().build(),
            Implementation::new("pipette-it-tasks", "1"),
        )
    }

    async fn on_task_status(
        &self,
        params: TaskStatusNotificationParams,
        _context: NotificationContext<RoleClient>,
    ) {
        self.heard.lock().unwrap().push(serde_json::to_value(params).unwrap());
    }
}

/// Connects a [`TasksClient`] to `pipette-mcp-test` over stdio; also answers the server's pid.
async fn tasks_client(dir: &Path) -> (TaskConn, u32) {
    let mut cmd = command("pipette-mcp-test", dir);
    cmd.stderr(std::process::Stdio::null());
    let transport = TokioChildProcess::new(cmd).expect("spawn the server");
    let pid = transport.id().expect("pid");
    (TasksClient::default().serve(transport).await.expect("initialize over stdio"), pid)
}

/// Starts `fixture_slow` as a task-augmented call and answers the task id.
async fn start(conn: &TaskConn, args: Value) -> String {
    let reply = conn.call_tool_once(params("fixture_slow", args)).await.expect("tools/call answered");
    let CallToolResponse::Task(created) = reply else {
        panic!("a task-capable client gets a task for a long call: {reply:?}");
    };
    assert_eq!(created.task.status, TaskStatus::Working);
    assert!(created.task.task_id.starts_with("job-"), "task ids are job ids: {}", created.task.task_id);
    assert!(created.task.poll_interval_ms.is_some_and(|ms| ms > 0));
    assert_eq!(created.task.ttl_ms, None);
    created.task.task_id
}

/// tasks/get as JSON.
async fn get(conn: &TaskConn, id: &str) -> Value {
    let r = conn.get_task(GetTaskParams::new(id)).await.expect("tasks/get answered");
    serde_json::to_value(r).unwrap()
}

/// Polls tasks/get until the task leaves `working` (or 20 s pass).
async fn wait_task(conn: &TaskConn, id: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let t = get(conn, id).await;
        if t["status"] != "working" {
            return t;
        }
        assert!(Instant::now() < deadline, "task {id} still working: {t}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A custom request (the 2025-11-25 `tasks/result` and `tasks/list`), its result as JSON.
async fn custom(conn: &TaskConn, method: &str, params: Value) -> Result<Value, rmcp::ServiceError> {
    let req = ClientRequest::CustomRequest(CustomRequest::new(method, Some(params)));
    let r = conn.send_request(req).await?;
    Ok(serde_json::to_value(r).unwrap())
}

#[tokio::test]
async fn a_task_is_created_polled_and_read() {
    let dir = tempfile::tempdir().unwrap();
    let (conn, _) = tasks_client(dir.path()).await;
    let caps = conn.peer_info().expect("server info").capabilities.clone();
    assert!(caps.supports_tasks(), "the server declares the tasks extension: {caps:?}");

    let id = start(&conn, json!({"ms": 800, "text": "tasked", "async_mode": true})).await;
    let first = get(&conn, &id).await;
    assert_eq!(first["status"], "working", "{first}");
    assert_eq!(first["taskId"], id.as_str());

    // tasks/result blocks until the end and answers what the call would have answered inline.
    let result = custom(&conn, "tasks/result", json!({"taskId": id})).await.expect("tasks/result");
    assert_eq!(result["structuredContent"]["text"], "tasked", "{result}");
    assert_eq!(result["content"][0]["type"], "text");
    assert_ne!(result["isError"], true);
    assert_eq!(result["_meta"]["io.modelcontextprotocol/related-task"]["taskId"], id.as_str());

    let done = wait_task(&conn, &id).await;
    assert_eq!(done["status"], "completed", "{done}");
    assert_eq!(done["result"]["structuredContent"], json!({"text": "tasked", "ms": 800}), "{done}");
    assert_eq!(done["result"]["content"], result["content"]);
    assert!(done["lastUpdatedAt"].as_str().unwrap() >= done["createdAt"].as_str().unwrap());
    // The typed view agrees.
    let typed = conn.get_task(GetTaskParams::new(&id)).await.unwrap();
    assert!(matches!(typed.task.payload, TaskPayload::Completed { .. }));

    // The session heard the task end (notifications/tasks), with the same payload as tasks/get.
    let deadline = Instant::now() + Duration::from_secs(5);
    let heard = loop {
        let heard = conn.service().heard.lock().unwrap().clone();
        if let Some(n) = heard.iter().find(|n| n["taskId"] == id.as_str() && n["status"] == "completed") {
            break n.clone();
        }
        assert!(Instant::now() < deadline, "no completed notification for {id}: {heard:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(heard["result"], done["result"], "{heard}");

    // The job tools see the same thing under the same id.
    let job = call_ok_tasks(&conn, "job_status", json!({"job_id": id})).await;
    assert_eq!(job["status"], "completed", "{job}");

    // A task that is still working reports its progress; tasks/list shows both, newest first.
    let id2 = start(&conn, json!({"ms": 3000, "text": "second", "async_mode": true})).await;
    tokio::time::sleep(Duration::from_millis(700)).await;
    let working = get(&conn, &id2).await;
    assert_eq!(working["status"], "working", "{working}");
    assert!(working["statusMessage"].as_str().unwrap_or("").contains("/10"), "progress shown: {working}");
    let list = custom(&conn, "tasks/list", json!({})).await.expect("tasks/list");
    let ids: Vec<&str> =
        list["tasks"].as_array().expect("tasks").iter().map(|t| t["taskId"].as_str().unwrap()).collect();
    assert_eq!(ids, [id2.as_str(), id.as_str()], "{list}");
    assert_eq!(list["tasks"][1]["status"], "completed");
    assert!(list.get("nextCursor").is_none(), "one page: {list}");
    let bad = custom(&conn, "tasks/list", json!({"cursor": "nope"})).await.unwrap_err();
    assert!(bad.to_string().contains("cursor"), "{bad}");

    // Unknown tasks are invalid params, tasks/update has nothing to update.
    let err = conn.get_task(GetTaskParams::new("job-nope")).await.unwrap_err();
    assert!(err.to_string().contains("job-nope"), "{err}");
    let err = custom(&conn, "tasks/result", json!({"taskId": "job-nope"})).await.unwrap_err();
    assert!(err.to_string().contains("job-nope"), "{err}");
    conn.cancel().await.unwrap();
}

/// The job tools over a tasks client (its tools/call of a quick tool answers inline).
async fn call_ok_tasks(conn: &TaskConn, tool: &str, args: Value) -> Value {
    let r = conn.call_tool(params(tool, args)).await.expect("tools/call answered inline");
    assert_ne!(r.is_error, Some(true), "{tool} failed: {:?}", r.content);
    r.structured_content.expect("structured content")
}

#[tokio::test]
async fn a_long_call_becomes_a_task_a_quick_one_answers_inline() {
    let dir = tempfile::tempdir().unwrap();
    let (conn, _) = tasks_client(dir.path()).await;
    // Within the inline budget (300 ms for fixture_slow): a plain result, even for a tasks client.
    let quick =
        conn.call_tool_once(params("fixture_slow", json!({"ms": 20, "text": "quick"}))).await.unwrap();
    let CallToolResponse::Complete(quick) = quick else { panic!("a quick call answers inline: {quick:?}") };
    assert_eq!(quick.structured_content.unwrap()["text"], "quick");
    // Past the budget, without async_mode: the job it becomes is answered as a task.
    let id = start(&conn, json!({"ms": 1000, "text": "late"})).await;
    let done = wait_task(&conn, &id).await;
    assert_eq!(done["result"]["structuredContent"]["text"], "late", "{done}");
    conn.cancel().await.unwrap();

    // A client without the tasks capability gets a normal result from the same call: the job ticket.
    let (plain, _) = stdio("pipette-mcp-test", dir.path()).await;
    let reply =
        plain.call_tool_once(params("fixture_slow", json!({"ms": 1000, "text": "late"}))).await.unwrap();
    let CallToolResponse::Complete(r) = reply else { panic!("no task without the capability: {reply:?}") };
    let ticket = r.structured_content.expect("a job ticket");
    assert_eq!(ticket["status"], "running", "{ticket}");
    // ...and cannot use tasks/get.
    let err = plain.get_task(GetTaskParams::new(ticket["job_id"].as_str().unwrap())).await.unwrap_err();
    assert!(err.to_string().to_lowercase().contains("capabilit"), "{err}");
    plain.cancel().await.unwrap();
}

#[tokio::test]
async fn a_task_is_cancelled() {
    let dir = tempfile::tempdir().unwrap();
    let (conn, _) = tasks_client(dir.path()).await;
    let id = start(&conn, json!({"ms": 30000, "key": "task-cancel", "async_mode": true})).await;
    assert_eq!(get(&conn, &id).await["status"], "working");
    conn.cancel_task(CancelTaskParams::new(&id)).await.expect("tasks/cancel acknowledged");
    let t = wait_task(&conn, &id).await;
    assert_eq!(t["status"], "cancelled", "{t}");
    assert!(t.get("result").is_none() && t.get("error").is_none(), "{t}");
    let job = call_ok_tasks(&conn, "job_status", json!({"job_id": id})).await;
    assert_eq!(job["status"], "cancelled", "job_status agrees: {job}");
    // tasks/result of a cancelled task: the error the call would have answered.
    let r = custom(&conn, "tasks/result", json!({"taskId": id})).await.unwrap();
    assert_eq!(r["isError"], true, "{r}");
    assert!(r["content"][0]["text"].as_str().unwrap().contains("cancelled"), "{r}");
    // Cancelling again (a finished task) is acknowledged and changes nothing.
    conn.cancel_task(CancelTaskParams::new(&id)).await.expect("acknowledged");
    assert_eq!(get(&conn, &id).await["status"], "cancelled");
    conn.cancel().await.unwrap();
}

#[tokio::test]
async fn tasks_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let (conn, pid) = tasks_client(dir.path()).await;
    let done = start(&conn, json!({"ms": 100, "text": "kept", "async_mode": true})).await;
    assert_eq!(wait_task(&conn, &done).await["status"], "completed");
    let running = start(&conn, json!({"ms": 30000, "async_mode": true})).await;
    assert_eq!(get(&conn, &running).await["status"], "working");
    sigkill(pid);
    drop(conn);

    let (conn, _) = tasks_client(dir.path()).await;
    let t = get(&conn, &done).await;
    assert_eq!(t["status"], "completed", "{t}");
    assert_eq!(t["result"]["structuredContent"]["text"], "kept", "{t}");
    let t = get(&conn, &running).await;
    assert_eq!(t["status"], "failed", "the killed process's task: {t}");
    assert_eq!(t["error"]["code"], -32603, "{t}");
    assert!(t["error"]["message"].as_str().unwrap().contains("stopped"), "{t}");
    let job = call_ok_tasks(&conn, "job_status", json!({"job_id": running})).await;
    assert_eq!(job["status"], "interrupted");
    // tasks/result of the interrupted task: the JSON-RPC error, at once.
    let err = custom(&conn, "tasks/result", json!({"taskId": running})).await.unwrap_err();
    assert!(err.to_string().contains("stopped"), "{err}");
    let list = custom(&conn, "tasks/list", json!({})).await.unwrap();
    assert_eq!(list["tasks"].as_array().unwrap().len(), 2, "{list}");
    conn.cancel().await.unwrap();
}

/// A plain client (support.rs) still has the job tools for the same jobs.
#[tokio::test]
async fn job_tools_see_task_ids() {
    let dir = tempfile::tempdir().unwrap();
    let (conn, _) = tasks_client(dir.path()).await;
    let id = start(&conn, json!({"ms": 100, "text": "shared", "async_mode": true})).await;
    wait_task(&conn, &id).await;
    conn.cancel().await.unwrap();
    let (plain, _) = stdio("pipette-mcp-test", dir.path()).await;
    let job = call_ok(&plain, "job_status", json!({"job_id": id})).await;
    assert_eq!(job["status"], "completed", "{job}");
    assert_eq!(job["result"]["text"], "shared", "{job}");
    plain.cancel().await.unwrap();
}

/// The 2026-07-28 wire, spoken raw (no `initialize`; capabilities in each request's `_meta`):
/// a task handle with `resultType: "task"`, then tasks/get; without the extension, tasks/get is refused.
#[tokio::test]
async fn the_2026_wire_carries_tasks() {
    let dir = tempfile::tempdir().unwrap();
    let mut raw = crate::support::Raw2026::start("pipette-mcp-test", dir.path());
    let tasks = json!({"extensions": {"io.modelcontextprotocol/tasks": {}}});
    let discover = raw.ask(1, "server/discover", json!({}), &tasks).await;
    assert!(
        discover["result"]["capabilities"]["extensions"]["io.modelcontextprotocol/tasks"].is_object(),
        "{discover}"
    );
    let call = json!({"name": "fixture_slow", "arguments": {"ms": 200, "text": "raw", "async_mode": true}});
    let created = raw.ask(2, "tools/call", call.clone(), &tasks).await;
    assert_eq!(created["result"]["resultType"], "task", "{created}");
    assert_eq!(created["result"]["status"], "working", "{created}");
    assert!(
        created["result"]["ttlMs"].is_null() && created["result"]["pollIntervalMs"].is_u64(),
        "{created}"
    );
    let id = created["result"]["taskId"].as_str().expect("taskId").to_owned();
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut n = 3;
    let done = loop {
        let t = raw.ask(n, "tasks/get", json!({"taskId": id}), &tasks).await;
        n += 1;
        if t["result"]["status"] != "working" {
            break t;
        }
        assert!(Instant::now() < deadline, "{t}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(done["result"]["status"], "completed", "{done}");
    assert_eq!(done["result"]["result"]["structuredContent"]["text"], "raw", "{done}");

    // Without the extension: the same call answers its job ticket inline, and tasks/get is refused.
    let none = json!({});
    let plain = raw.ask(100, "tools/call", call, &none).await;
    assert_ne!(plain["result"]["resultType"], "task", "{plain}");
    assert_eq!(plain["result"]["structuredContent"]["status"], "running", "{plain}");
    let refused = raw.ask(101, "tasks/get", json!({"taskId": id}), &none).await;
    assert_eq!(refused["error"]["code"], -32021, "missing client capability: {refused}");
}
