//! Test-only tools: slow, failing, blocking and progress-reporting, to drive the router and the server.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tool_metadata::{ErrorKind, ToolContext, ToolError, tool_metadata};

/// Keeps the registrations of this module in the final binary.
pub fn link() {}

fn events() -> &'static Mutex<HashMap<String, Vec<String>>> {
    static EVENTS: OnceLock<Mutex<HashMap<String, Vec<String>>>> = OnceLock::new();
    EVENTS.get_or_init(Default::default)
}

/// Records `event` under `key` (what a tool saw: started, finished, dropped...).
pub fn record(key: &str, event: &str) {
    events()
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .entry(key.to_owned())
        .or_default()
        .push(event.to_owned());
}

/// What was recorded under `key`.
pub fn recorded(key: &str) -> Vec<String> {
    events().lock().unwrap_or_else(|p| p.into_inner()).get(key).cloned().unwrap_or_default()
}

struct DropRecorder(String);

impl Drop for DropRecorder {
    fn drop(&mut self) {
        record(&self.0, "dropped");
    }
}

#[derive(Deserialize, schemars::JsonSchema)]
pub struct SlowParams {
    /// How long to work, in milliseconds.
    ms: u64,
    /// Echoed back.
    #[serde(default)]
    text: String,
    /// Where to record start, progress and the end.
    #[serde(default)]
    key: String,
}

#[derive(Serialize, schemars::JsonSchema)]
pub struct Echo {
    /// The text.
    text: String,
    /// How long it worked.
    ms: u64,
}

/// Test fixture: works `ms` milliseconds in 10 steps, reporting progress, then echoes `text`.
#[tool_metadata(category = fixture, runtime = Async, timeout_seconds = 60, inline_ms = 300)]
pub async fn fixture_slow(ctx: ToolContext, p: SlowParams) -> Result<Echo, ToolError> {
    let _guard = DropRecorder(p.key.clone());
    record(&p.key, "started");
    for i in 0..10 {
        ctx.progress().report(i, Some(10), &format!("step {i}"));
        ctx.progress().log(&format!("line {i}"));
        tokio::time::sleep(Duration::from_millis(p.ms / 10)).await;
    }
    ctx.progress().report(10, Some(10), "done");
    record(&p.key, "finished");
    Ok(Echo { text: p.text, ms: p.ms })
}

/// Test fixture: sleeps `ms` milliseconds on a blocked thread (runtime Blocking).
#[tool_metadata(category = fixture, runtime = Blocking, timeout_seconds = 60)]
pub async fn fixture_block(p: SlowParams) -> Result<Echo, ToolError> {
    record(&p.key, "started");
    std::thread::sleep(Duration::from_millis(p.ms));
    record(&p.key, "finished");
    Ok(Echo { text: p.text, ms: p.ms })
}

/// Test fixture: sleeps past its 1 s deadline.
#[tool_metadata(category = fixture, runtime = Async, timeout_seconds = 1)]
pub async fn fixture_overrun(p: SlowParams) -> Result<Echo, ToolError> {
    let _guard = DropRecorder(p.key.clone());
    tokio::time::sleep(Duration::from_millis(p.ms)).await;
    Ok(Echo { text: p.text, ms: p.ms })
}

#[derive(Deserialize, schemars::JsonSchema)]
pub struct FlakyParams {
    /// Counts attempts under this key.
    key: String,
    /// Fail this many times (retryable), then succeed.
    fail_times: usize,
    /// Fail with a non-retryable error instead.
    #[serde(default)]
    permanent: bool,
}

#[derive(Serialize, schemars::JsonSchema)]
pub struct Attempts {
    /// Attempts made, including the successful one.
    attempts: usize,
}

/// Test fixture: fails `fail_times` times with a retryable error, then succeeds (retry = fixed(3, 10 ms)).
#[tool_metadata(category = fixture, runtime = Async, timeout_seconds = 10, retry = fixed(3, 10))]
pub async fn fixture_flaky(p: FlakyParams) -> Result<Attempts, ToolError> {
    record(&p.key, "attempt");
    let attempts = recorded(&p.key).len();
    if p.permanent {
        return Err(ToolError::new(ErrorKind::NotFound, "permanent failure").with_retryable(false));
    }
    if attempts <= p.fail_times {
        return Err(
            ToolError::new(ErrorKind::Upstream, format!("transient failure {attempts}")).with_retryable(true)
        );
    }
    Ok(Attempts { attempts })
}

#[derive(Deserialize, schemars::JsonSchema)]
pub struct HoldParams {
    /// Records "start" under this key when admitted.
    key: String,
    /// Name recorded.
    label: String,
    /// How long to hold the slot.
    ms: u64,
}

/// Test fixture: holds a Process slot for `ms` (priority 1).
#[tool_metadata(category = fixture, runtime = Process, priority = 1, timeout_seconds = 30)]
pub async fn fixture_hold_low(p: HoldParams) -> Result<Attempts, ToolError> {
    record(&p.key, &p.label);
    tokio::time::sleep(Duration::from_millis(p.ms)).await;
    Ok(Attempts { attempts: 1 })
}

/// Test fixture: holds a Process slot for `ms` (priority 9).
#[tool_metadata(category = fixture, runtime = Process, priority = 9, timeout_seconds = 30)]
pub async fn fixture_hold_high(p: HoldParams) -> Result<Attempts, ToolError> {
    record(&p.key, &p.label);
    tokio::time::sleep(Duration::from_millis(p.ms)).await;
    Ok(Attempts { attempts: 1 })
}

#[derive(Deserialize, schemars::JsonSchema)]
pub struct ProbeParams {
    /// The key to read.
    key: String,
}

#[derive(Serialize, schemars::JsonSchema)]
pub struct Events {
    /// What was recorded under the key, in order.
    events: Vec<String>,
}

/// Test fixture: what the other fixtures recorded under `key` in this process.
#[tool_metadata(category = fixture, runtime = Async, timeout_seconds = 5, read_only)]
pub async fn fixture_probe(p: ProbeParams) -> Result<Events, ToolError> {
    Ok(Events { events: recorded(&p.key) })
}

#[derive(Deserialize, schemars::JsonSchema)]
pub struct EchoParams {
    /// Echoed back.
    #[serde(default)]
    text: String,
}

#[derive(Serialize, schemars::JsonSchema)]
pub struct EchoOnly {
    /// The text.
    text: String,
}

/// Test fixture: echoes `text` at once (the trivial tool of the benchmarks).
#[tool_metadata(category = fixture, runtime = Async, timeout_seconds = 5, read_only, idempotent)]
pub async fn fixture_echo(p: EchoParams) -> Result<EchoOnly, ToolError> {
    Ok(EchoOnly { text: p.text })
}

#[derive(Deserialize, schemars::JsonSchema)]
pub struct LogParams {
    /// Tagged onto each event.
    tag: String,
}

/// Test fixture: emits one tracing event per level (debug, info, warn, error), tagged, then answers.
#[tool_metadata(category = fixture, runtime = Async, timeout_seconds = 10)]
pub async fn fixture_log(p: LogParams) -> Result<Echo, ToolError> {
    tracing::debug!(tag = %p.tag, "fixture debug");
    tracing::info!(tag = %p.tag, "fixture info");
    tracing::warn!(tag = %p.tag, "fixture warn");
    tracing::error!(tag = %p.tag, "fixture error");
    Ok(Echo { text: p.tag, ms: 0 })
}

#[derive(Deserialize, schemars::JsonSchema)]
pub struct BatchParams {
    /// Items in the batch.
    items: u64,
    /// How long each item takes, in milliseconds.
    ms: u64,
}

#[derive(Serialize, schemars::JsonSchema)]
pub struct BatchDone {
    /// Every item's value, in order (`item-<i>`).
    values: Vec<String>,
    /// The items this run worked on (the others were done by an earlier, interrupted run).
    ran: Vec<u64>,
    /// The process that finished the batch.
    pid: u32,
}

async fn batch(ctx: ToolContext, p: BatchParams) -> Result<BatchDone, ToolError> {
    let done: std::collections::BTreeMap<u64, String> = ctx.progress().prior_items();
    let mut values = Vec::new();
    let mut ran = Vec::new();
    for i in 0..p.items {
        let value = match done.get(&i) {
            Some(v) => v.clone(),
            None => {
                tokio::time::sleep(Duration::from_millis(p.ms)).await;
                let v = format!("item-{i}");
                ctx.progress().item(i, &v);
                ran.push(i);
                v
            }
        };
        values.push(value);
        ctx.progress().report(i + 1, Some(p.items), &format!("item {i}"));
    }
    Ok(BatchDone { values, ran, pid: std::process::id() })
}

/// Test fixture: a batch of `items` items of `ms` each, one at a time, each kept with the job as it
/// finishes; a resumed job works only on the items not done (no retries: one attempt).
#[tool_metadata(category = fixture, runtime = Async, timeout_seconds = 120, inline_ms = 100)]
pub async fn fixture_batch(ctx: ToolContext, p: BatchParams) -> Result<BatchDone, ToolError> {
    batch(ctx, p).await
}

/// Test fixture: `fixture_batch` with retry = fixed(1, 10 ms): a job whose process died runs once more.
#[tool_metadata(category = fixture, runtime = Async, timeout_seconds = 120, inline_ms = 100, retry = fixed(1, 10))]
pub async fn fixture_batch_retried(ctx: ToolContext, p: BatchParams) -> Result<BatchDone, ToolError> {
    batch(ctx, p).await
}

#[derive(Deserialize, schemars::JsonSchema)]
pub struct NoopParams {}

/// Test fixture: does nothing (the queue benchmark's unit of work).
#[tool_metadata(category = fixture, runtime = Async, timeout_seconds = 10)]
pub async fn fixture_noop(_p: NoopParams) -> Result<Attempts, ToolError> {
    Ok(Attempts { attempts: 1 })
}
