//! A 2025-11-25 client's task-augmented `tools/call` (its `task` parameter, which rmcp's typed request
//! drops), spoken raw over stdio after `initialize`: a task at once in that era's shape, read back with
//! `tasks/result`; the same `task` on a 2026-07-28 request is ignored.

use std::time::Duration;

use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt as _, AsyncWriteExt as _, BufReader};

use crate::support::command;

struct Session {
    _child: tokio::process::Child,
    stdin: tokio::process::ChildStdin,
    lines: tokio::io::Lines<BufReader<tokio::process::ChildStdout>>,
}

impl Session {
    async fn send(&mut self, message: Value) {
        self.stdin.write_all(format!("{message}\n").as_bytes()).await.unwrap();
    }

    async fn ask(&mut self, id: u64, method: &str, params: Value) -> Value {
        self.send(json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params})).await;
        loop {
            let line = tokio::time::timeout(Duration::from_secs(20), self.lines.next_line())
                .await
                .expect("an answer in time")
                .unwrap()
                .expect("the server is still there");
            let m: Value = serde_json::from_str(&line).unwrap();
            if m["id"] == id {
                return m;
            }
        }
    }
}

async fn session(dir: &std::path::Path) -> Session {
    let mut child = command("pipette-mcp-test", dir)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let stdin = child.stdin.take().unwrap();
    let lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut s = Session { _child: child, stdin, lines };
    let init = json!({
        "protocolVersion": "2025-11-25",
        "capabilities": {"tasks": {"requests": {"tools": {"call": {}}}}},
        "clientInfo": {"name": "v1-tasks", "version": "1"},
    });
    let answer = s.ask(1, "initialize", init).await;
    assert_eq!(answer["result"]["protocolVersion"], "2025-11-25", "{answer}");
    s.send(json!({"jsonrpc": "2.0", "method": "notifications/initialized"})).await;
    s
}

#[tokio::test]
async fn a_task_augmented_call_of_2025_11_25_is_a_task_in_that_eras_shape() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = session(dir.path()).await;
    let call = json!({"name": "fixture_slow", "arguments": {"ms": 50, "text": "v1"}, "task": {"ttl": 60000}});
    let created = s.ask(2, "tools/call", call).await;
    let task = &created["result"]["task"];
    assert!(task["taskId"].as_str().is_some_and(|id| id.starts_with("job-")), "{created}");
    assert_eq!(task["status"], "working", "{created}");
    assert!(task.as_object().unwrap().contains_key("ttl") && task["pollInterval"].is_u64(), "{created}");
    assert!(created["result"].get("content").is_none(), "a task, not the call's result: {created}");

    let id = task["taskId"].clone();
    let result = s.ask(3, "tasks/result", json!({"taskId": id})).await;
    assert_eq!(result["result"]["structuredContent"]["text"], "v1", "{result}");

    // Without `task`, the same quick call answers inline.
    let inline =
        s.ask(4, "tools/call", json!({"name": "fixture_slow", "arguments": {"ms": 10, "text": "now"}})).await;
    assert_eq!(inline["result"]["structuredContent"]["text"], "now", "{inline}");
}

#[tokio::test]
async fn a_2026_request_with_a_leftover_task_parameter_answers_inline() {
    let dir = tempfile::tempdir().unwrap();
    let mut raw = crate::support::Raw2026::start("pipette-mcp-test", dir.path());
    let caps = json!({"extensions": {"io.modelcontextprotocol/tasks": {}}});
    let call =
        json!({"name": "fixture_slow", "arguments": {"ms": 10, "text": "now"}, "task": {"ttl": 60000}});
    let answer = raw.ask(1, "tools/call", call, &caps).await;
    assert_eq!(answer["result"]["resultType"], "complete", "{answer}");
    assert_eq!(answer["result"]["structuredContent"]["text"], "now", "{answer}");
}
