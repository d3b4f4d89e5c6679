//! The router: every call goes through here, whatever face (MCP, CLI, tests) it came from.

use std::hash::{Hash, Hasher};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use backon::{ConstantBuilder, ExponentialBuilder, Retryable};
use serde::Serialize;
use tokio::sync::{mpsc, oneshot};
use tokio_util::sync::CancellationToken;
use tool_metadata::{
    Category, ClientBridge, ErrorKind, Extensions, Principal, Progress, ProgressSink, ProgressUpdate,
    RetryPolicy, Runtime, ToolContext, ToolDescriptor, ToolError,
};

use crate::jobs::{JobManager, JobTicket};
use crate::limiter::{Permit, PriorityLimiter};
use crate::registry::{Registry, ToolInfo};
use crate::seen::SeenIds;
use crate::{RouterConfig, jobs};

/// How one call is made.
#[derive(Default)]
pub struct CallOptions {
    /// Receives the call's progress reports, in order (MCP progress notifications, CLI bars).
    pub progress: Option<mpsc::UnboundedSender<ProgressUpdate>>,
    /// Cancels the call while the caller waits for it (MCP `notifications/cancelled`, Ctrl-C).
    pub cancel: CancellationToken,
    /// Overrides the inline budget: how long to wait before the call becomes a job.
    pub inline_ms: Option<u64>,
    /// The MCP client behind the call (sampling, elicitation); none for the CLI.
    pub client: Option<Arc<dyn ClientBridge>>,
}

/// A call's own deadline and retry policy over its tool's (a workflow step's `timeout_seconds`, `retry`).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Overrides {
    pub(crate) timeout_seconds: Option<u64>,
    pub(crate) retry: Option<RetryPolicy>,
    /// The work stops when the caller stops waiting (drops the call) before it became a job.
    pub(crate) stop_when_dropped: bool,
}

impl std::fmt::Debug for CallOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CallOptions")
            .field("progress", &self.progress.is_some())
            .field("inline_ms", &self.inline_ms)
            .field("client", &self.client.is_some())
            .finish()
    }
}

/// How a call ended for its caller.
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum CallOutcome {
    /// The tool's result.
    Done(serde_json::Value),
    /// The call outlived its inline budget (or asked for `async_mode`) and continues as a job.
    Job(JobTicket),
}

impl CallOutcome {
    /// The outcome as JSON: the result, or the job ticket.
    pub fn into_value(self) -> serde_json::Value {
        match self {
            CallOutcome::Done(v) => v,
            CallOutcome::Job(t) => serde_json::to_value(t).unwrap_or_default(),
        }
    }
}

/// Drops a blocking-pool runtime without blocking the async context it is dropped from.
struct BlockingPool(Option<tokio::runtime::Runtime>);

impl Drop for BlockingPool {
    fn drop(&mut self) {
        if let Some(rt) = self.0.take() {
            rt.shutdown_background();
        }
    }
}

struct Inner {
    registry: Arc<Registry>,
    config: RouterConfig,
    jobs: Arc<JobManager>,
    cache: core_cache::Cache,
    extensions: Arc<Extensions>,
    async_limit: PriorityLimiter,
    blocking_limit: PriorityLimiter,
    process_limit: PriorityLimiter,
    blocking: BlockingPool,
    seen: SeenIds,
}

/// The router as a service of the tools that call other tools (workflows): kept in the extensions, it
/// holds the router weakly (the router owns the extensions).
pub(crate) struct RouterHandle(std::sync::OnceLock<std::sync::Weak<Inner>>);

impl RouterHandle {
    /// The router, acting for `principal` (`None` once the router is gone).
    pub(crate) fn router(&self, principal: Principal) -> Option<Router> {
        let inner = self.0.get()?.upgrade()?;
        Some(Router { inner, principal })
    }
}

/// Dispatches every call by its runtime, with limits, deadlines, retries, caching, metrics and jobs.
/// A router acts for one [`Principal`] (the local user unless a face says otherwise with
/// [`Router::acting_for`]): the jobs its calls become are that principal's.
#[derive(Clone)]
pub struct Router {
    inner: Arc<Inner>,
    principal: Principal,
}

impl std::fmt::Debug for Router {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Router")
            .field("tools", &self.inner.registry.tools().len())
            .field("principal", &self.principal.name())
            .finish()
    }
}

/// The progress of one call: forwarded to its caller, kept for its job once it becomes one.
struct CallProgress {
    tx: Option<mpsc::UnboundedSender<ProgressUpdate>>,
    jobs: Arc<JobManager>,
    state: Mutex<ProgressState>,
    /// The items a resumed job had finished (empty for a fresh call).
    prior: Vec<(u64, serde_json::Value)>,
}

#[derive(Default)]
struct ProgressState {
    latest: Option<ProgressUpdate>,
    pending_output: String,
    job_id: Option<String>,
    last_flush: Option<Instant>,
    dirty: bool,
    /// Finished items of a call that is not (yet) a job.
    items: Vec<(u64, serde_json::Value)>,
}

const FLUSH_EVERY: Duration = Duration::from_millis(200);

impl CallProgress {
    fn new(
        tx: Option<mpsc::UnboundedSender<ProgressUpdate>>,
        jobs: Arc<JobManager>,
        job_id: Option<String>,
        prior: Vec<(u64, serde_json::Value)>,
    ) -> CallProgress {
        let state = ProgressState { job_id, ..ProgressState::default() };
        CallProgress { tx, jobs, state: Mutex::new(state), prior }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, ProgressState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Writes progress and new output to the job record, at most every `FLUSH_EVERY` unless `force`.
    fn flush(&self, st: &mut ProgressState, force: bool) {
        let Some(job_id) = st.job_id.clone() else { return };
        if !force && st.last_flush.is_some_and(|t| t.elapsed() < FLUSH_EVERY) {
            return;
        }
        if !st.dirty {
            return;
        }
        let progress = st.latest.as_ref().map(jobs::ProgressJson::from);
        if let Some(p) = progress {
            self.jobs.progress(&job_id, &p, &std::mem::take(&mut st.pending_output));
            st.last_flush = Some(Instant::now());
            st.dirty = false;
        }
    }

    /// Writes what the throttle held back (called periodically while the job runs).
    fn flush_pending(&self) {
        let mut st = self.lock();
        self.flush(&mut st, true);
    }

    fn become_job(&self, job_id: &str) {
        let mut st = self.lock();
        st.job_id = Some(job_id.to_owned());
        for (index, value) in std::mem::take(&mut st.items) {
            self.jobs.item(job_id, index, &value);
        }
        self.flush(&mut st, true);
    }

    fn take_output(&self) -> String {
        std::mem::take(&mut self.lock().pending_output)
    }
}

impl ProgressSink for CallProgress {
    fn report(&self, update: ProgressUpdate) {
        if let Some(tx) = &self.tx {
            let _ = tx.send(update.clone());
        }
        let mut st = self.lock();
        st.latest = Some(update);
        st.dirty = true;
        self.flush(&mut st, false);
    }

    fn log(&self, line: &str) {
        let mut st = self.lock();
        st.pending_output.push_str(line);
        if !line.ends_with('\n') {
            st.pending_output.push('\n');
        }
        if st.latest.is_none() {
            st.latest = Some(ProgressUpdate { current: 0, total: None, message: None });
        }
        st.dirty = true;
        self.flush(&mut st, false);
    }

    fn item(&self, index: u64, value: serde_json::Value) {
        let mut st = self.lock();
        match &st.job_id {
            // Kept at once: a job killed right after still has it.
            Some(job_id) => self.jobs.item(job_id, index, &value),
            None => st.items.push((index, value)),
        }
    }

    fn prior_items(&self) -> Vec<(u64, serde_json::Value)> {
        self.prior.clone()
    }
}

fn cancelled(tool: &str) -> ToolError {
    ToolError::new(ErrorKind::Cancelled, format!("the call to `{tool}` was cancelled"))
}

/// Whether a call may be answered from (and stored in) the result cache. A research tool's `index` asks
/// for a side effect besides the answer (upsert the results into a local index; declared with
/// `indexes_results` in the tool's metadata): a hit would skip it. (The upstream layer's own cache still
/// spares the network.)
fn cacheable(desc: &ToolDescriptor, args: &serde_json::Value) -> bool {
    desc.cache_ttl_seconds.is_some()
        && !(desc.indexes_results && args.get("index").is_some_and(|v| !v.is_null()))
}

fn cache_key(args: &serde_json::Value) -> String {
    // serde_json maps are sorted, so equal arguments serialize equally.
    let mut h = std::collections::hash_map::DefaultHasher::new();
    args.to_string().hash(&mut h);
    format!("{:016x}", h.finish())
}

/// The most bytes of an argument a validation error quotes.
const QUOTE_MAX: usize = 100;
/// Arguments the tool does not take are refused (a misspelt or invented name would otherwise be ignored
/// silently), naming them and the accepted ones.
fn unknown_arguments(info: &ToolInfo, args: &serde_json::Value) -> Option<ToolError> {
    let accepted = info.accepted()?;
    let unknown: Vec<&str> =
        args.as_object()?.keys().map(String::as_str).filter(|k| !accepted.iter().any(|a| a == k)).collect();
    let first = *unknown.first()?;
    let quoted = |names: &mut dyn Iterator<Item = &str>| {
        names
            .map(|n| {
                // A name is quoted up to QUOTE_MAX bytes: a client's megabyte-long key is not echoed back.
                let end = (0..=n.len().min(QUOTE_MAX)).rev().find(|&i| n.is_char_boundary(i)).unwrap_or(0);
                if end < n.len() { format!("`{}…`", &n[..end]) } else { format!("`{n}`") }
            })
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut accepts = accepted.iter().map(String::as_str).chain([crate::registry::ASYNC_MODE]);
    let message = format!(
        "unknown argument{} {} for `{}`; it accepts {}",
        if unknown.len() > 1 { "s" } else { "" },
        quoted(&mut unknown.iter().copied()),
        info.descriptor.name,
        quoted(&mut accepts),
    );
    Some(ToolError::new(ErrorKind::InvalidArgument, message).with_param(first))
}

fn validation_error(info: &ToolInfo, args: &serde_json::Value) -> Option<ToolError> {
    // A failed `oneOf`/`anyOf` says only that no alternative matched; the tool's own parameter parsing
    // names the field and the accepted values better, so those are left to it.
    let err = info.validator()?.iter_errors(args).find(|e| {
        !matches!(
            e.kind(),
            jsonschema::error::ValidationErrorKind::AnyOf { .. }
                | jsonschema::error::ValidationErrorKind::OneOfNotValid { .. }
                | jsonschema::error::ValidationErrorKind::OneOfMultipleValid { .. }
        )
    })?;
    let path = err.instance_path().to_string();
    // The validator quotes the offending value whole: a huge one is cut to its first bytes.
    let instance = err.instance().to_string();
    let message = if instance.len() <= QUOTE_MAX {
        err.to_string()
    } else {
        let mut end = QUOTE_MAX;
        while !instance.is_char_boundary(end) {
            end -= 1;
        }
        err.masked_with(format!("{}… ({} bytes in all)", &instance[..end], instance.len())).to_string()
    };
    let name = if path.is_empty() || path == "/" {
        // A missing required property is reported at the root: name it from the message.
        message.split('"').nth(1).map(str::to_owned).unwrap_or_else(|| "arguments".to_owned())
    } else {
        path.trim_start_matches('/').replace('/', ".")
    };
    let expected = expected_of(info.input_schema(), &name);
    let reason = match expected {
        Some(exp) => format!("{message}; expected {exp}"),
        None => message,
    };
    Some(ToolError::invalid_argument(name, reason))
}

/// A short "expected" from the schema of a top-level parameter: its type and description.
fn expected_of(schema: &serde_json::Value, name: &str) -> Option<String> {
    let top = name.split('.').next()?;
    let prop = schema.get("properties")?.get(top)?;
    let ty = match prop.get("type") {
        Some(serde_json::Value::String(s)) => s.clone(),
        Some(serde_json::Value::Array(a)) => {
            a.iter().filter_map(|v| v.as_str()).filter(|t| *t != "null").collect::<Vec<_>>().join(" or ")
        }
        _ => prop.get("enum").map(|e| format!("one of {e}")).unwrap_or_else(|| "a value".to_owned()),
    };
    Some(match prop.get("description").and_then(|d| d.as_str()) {
        Some(d) => format!("{ty} ({})", d.trim_end_matches('.')),
        None => ty,
    })
}

impl Router {
    /// A router over `registry`, with the shared services the tools use.
    pub fn new(
        registry: Arc<Registry>,
        config: RouterConfig,
        jobs: Arc<JobManager>,
        cache: core_cache::Cache,
        mut extensions: Extensions,
    ) -> Result<Router, ToolError> {
        let handle = Arc::new(RouterHandle(std::sync::OnceLock::new()));
        extensions.insert(handle.clone());
        let blocking = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(config.blocking_threads)
            .thread_name("pipette-blocking")
            .enable_all()
            .build()
            .map_err(|e| ToolError::internal(format!("cannot start the blocking pool: {e}")))?;
        let router = Router {
            inner: Arc::new(Inner {
                async_limit: PriorityLimiter::new("Async", config.async_limit),
                blocking_limit: PriorityLimiter::new("Blocking", config.blocking_threads),
                process_limit: PriorityLimiter::new("Process", config.process_limit),
                blocking: BlockingPool(Some(blocking)),
                seen: SeenIds::shared(cache.clone()),
                registry,
                config,
                jobs,
                cache,
                extensions: Arc::new(extensions),
            }),
            principal: Principal::local(),
        };
        let _ = handle.0.set(Arc::downgrade(&router.inner));
        Ok(router)
    }

    /// The same router, acting for `principal` (cheap: the router is shared).
    pub fn acting_for(&self, principal: Principal) -> Router {
        Router { inner: self.inner.clone(), principal }
    }

    /// Who this router acts for.
    pub fn principal(&self) -> &Principal {
        &self.principal
    }

    /// The registry this router serves.
    pub fn registry(&self) -> &Arc<Registry> {
        &self.inner.registry
    }

    /// The job manager.
    pub fn jobs(&self) -> &Arc<JobManager> {
        &self.inner.jobs
    }

    /// Where tools may read files and run projects (absent in routers built without the core services).
    pub fn roots(&self) -> Option<Arc<crate::Roots>> {
        self.inner.extensions.get::<crate::Roots>()
    }

    /// The subsystems' health, read without a tool call (absent in routers built without the core services).
    pub fn health(&self) -> Option<Arc<crate::Health>> {
        self.inner.extensions.get::<crate::Health>()
    }

    /// The alerts engine, read without a tool call (absent in routers built without the core services).
    pub fn alerts(&self) -> Option<Arc<crate::Alerts>> {
        self.inner.extensions.get::<crate::Alerts>()
    }

    /// The PMIDs and NCT ids seen in research results (for completions).
    pub fn seen_ids(&self) -> &SeenIds {
        &self.inner.seen
    }

    /// Calls `tool` and waits for its answer, however long its deadline allows (never a job): what
    /// resources and prompts read through. A call still running at the budget is a timeout error.
    pub async fn call_now(
        &self,
        tool: &str,
        arguments: serde_json::Value,
    ) -> Result<serde_json::Value, ToolError> {
        const BUDGET_MS: u64 = 10 * 60 * 1000;
        let options = CallOptions { inline_ms: Some(BUDGET_MS), ..CallOptions::default() };
        match self.call(tool, arguments, options).await? {
            CallOutcome::Done(v) => Ok(v),
            CallOutcome::Job(t) => Err(ToolError::new(
                ErrorKind::Timeout,
                format!("`{tool}` is still running as job {}; read job://{} later", t.job_id, t.job_id),
            )),
        }
    }

    /// The tool and its arguments as a call takes them: known tool, a JSON object, `async_mode` taken out,
    /// no unknown argument, valid against the schema.
    fn prepare(
        &self,
        tool: &str,
        arguments: serde_json::Value,
    ) -> Result<(&ToolInfo, serde_json::Value, bool), ToolError> {
        let inner = &self.inner;
        let Some(info) = inner.registry.get(tool) else {
            metrics::counter!("pipette_unknown_tool_calls_total").increment(1);
            let hint = match inner.registry.suggest(tool).as_slice() {
                [] => "tools/list (or `pipette tools`) shows every tool".to_owned(),
                s => format!("did you mean {}?", s.join(", ")),
            };
            return Err(ToolError::new(ErrorKind::UnknownTool, format!("unknown tool `{tool}`; {hint}")));
        };
        let desc = info.descriptor;
        let mut args = match arguments {
            serde_json::Value::Null => serde_json::Value::Object(Default::default()),
            v @ serde_json::Value::Object(_) => v,
            other => {
                return Err(ToolError::invalid_argument(
                    "arguments",
                    format!("expected a JSON object of parameters, got {other}"),
                ));
            }
        };
        let async_mode = match args.as_object_mut().and_then(|o| o.remove("async_mode")) {
            None | Some(serde_json::Value::Null) => false,
            Some(serde_json::Value::Bool(b)) => b,
            Some(other) => {
                return Err(ToolError::invalid_argument(
                    "async_mode",
                    format!("expected true or false, got {other}"),
                ));
            }
        };
        if let Some(err) = unknown_arguments(info, &args).or_else(|| validation_error(info, &args)) {
            record_error(desc, &err);
            return Err(err);
        }
        Ok((info, args, async_mode))
    }

    /// Queues a call as a job without running it here: a running `pipette-mcp` or `pipette worker` on the
    /// same data dir runs it (`pipette call --detach`). The arguments are checked now.
    pub fn detach(&self, tool: &str, arguments: serde_json::Value) -> Result<JobTicket, ToolError> {
        let (info, args, _) = self.prepare(tool, arguments)?;
        let desc = info.descriptor;
        self.inner.jobs.enqueue(&self.principal, desc.name, desc.retry, &args)
    }

    /// Calls `tool` with `arguments` (a JSON object; `async_mode: true` starts it as a job).
    pub async fn call(
        &self,
        tool: &str,
        arguments: serde_json::Value,
        options: CallOptions,
    ) -> Result<CallOutcome, ToolError> {
        self.call_with(tool, arguments, options, Overrides::default()).await
    }

    /// [`Router::call`] with the tool's deadline or retry policy overridden (workflow steps).
    pub(crate) async fn call_with(
        &self,
        tool: &str,
        arguments: serde_json::Value,
        options: CallOptions,
        overrides: Overrides,
    ) -> Result<CallOutcome, ToolError> {
        let inner = &self.inner;
        let (info, args, async_mode) = self.prepare(tool, arguments)?;
        let desc = info.descriptor;
        let limits = Limits::of(desc, overrides);
        // With a shared queue (Redis), a background call goes through it: any consumer may run it.
        if async_mode && inner.jobs.is_shared() {
            let ticket = inner.jobs.enqueue(&self.principal, desc.name, desc.retry, &args)?;
            return Ok(CallOutcome::Job(ticket));
        }

        if desc.category == Category::Research {
            crate::seen::count_asked_mutations(&inner.cache, &args);
        }
        let key = cacheable(desc, &args).then(|| cache_key(&args));
        if let Some(key) = &key
            && let Some(bytes) = inner.cache.get(desc.name, key).await
            && let Ok(v) = serde_json::from_slice::<serde_json::Value>(&bytes)
        {
            metrics::counter!("pipette_tool_cache_hits_total", "tool" => desc.name).increment(1);
            inner.note_seen(desc, &v);
            return Ok(CallOutcome::Done(v));
        }

        let started_at = jobs::now_string();
        let cancel = CancellationToken::new();
        // A caller that asked for it (a workflow's step) stops the work when it stops waiting, unless the
        // call has become a job by then.
        let stop_on_drop = overrides.stop_when_dropped.then(|| cancel.clone().drop_guard());
        let progress = Arc::new(CallProgress::new(options.progress, inner.jobs.clone(), None, Vec::new()));
        let sink: Arc<dyn ProgressSink> = progress.clone();
        let ctx = ToolContext::new(desc.name, Progress::new(sink), cancel.clone(), inner.extensions.clone())
            .with_client(options.client)
            .with_principal(self.principal.clone());
        let (tx, mut rx) = oneshot::channel();
        let supervisor = {
            let inner = inner.clone();
            let args = args.clone();
            let cancel = cancel.clone();
            async move {
                let out = supervise_cached(&inner, desc, limits, args, ctx, cancel, key.as_deref()).await;
                let _ = tx.send(out);
            }
        };
        // The call's span travels with it, so its events reach the caller's MCP log stream.
        tokio::spawn(tracing::Instrument::in_current_span(supervisor));

        let inline = if async_mode {
            Duration::ZERO
        } else {
            let ms = options
                .inline_ms
                .or(inner.config.inline_ms_override)
                .or_else(|| inner.config.inline_overrides.get(desc.name).copied())
                .or(desc.inline_ms)
                .unwrap_or(inner.config.inline_ms);
            Duration::from_millis(ms)
        };
        if !inline.is_zero() {
            tokio::select! {
                out = &mut rx => {
                    return out.unwrap_or_else(|_| Err(ToolError::internal("the call's task ended without an answer")))
                        .map(CallOutcome::Done);
                }
                _ = options.cancel.cancelled() => {
                    cancel.cancel();
                    return Err(cancelled(desc.name));
                }
                _ = tokio::time::sleep(inline) => {}
            }
        }

        // Past the inline budget: the call continues as a job that outlives this request.
        if let Some(guard) = stop_on_drop {
            guard.disarm();
        }
        let latest = progress.lock().latest.as_ref().map(jobs::ProgressJson::from);
        let ticket = inner.jobs.start(
            &self.principal,
            desc.name,
            desc.retry,
            &args,
            &started_at,
            cancel.clone(),
            latest,
        )?;
        progress.become_job(&ticket.job_id);
        tokio::spawn(follow_job(inner.jobs.clone(), progress, rx, ticket.job_id.clone()));
        tracing::info!(tool = desc.name, job_id = %ticket.job_id, "call continues as a job");
        Ok(CallOutcome::Job(ticket))
    }

    /// Runs a job claimed from the queue in this process, until it ends (its record says how).
    async fn run_claimed(&self, claimed: jobs::Claimed, cancel: CancellationToken) {
        let inner = &self.inner;
        let job_id = claimed.record.job_id.clone();
        let progress =
            Arc::new(CallProgress::new(None, inner.jobs.clone(), Some(job_id.clone()), claimed.items));
        let principal = Principal::named(claimed.record.owner.clone(), false);
        let (tx, rx) = oneshot::channel();
        let Some(info) = inner.registry.get(&claimed.record.tool) else {
            let _ = tx.send(Err(ToolError::new(ErrorKind::UnknownTool, "no such tool in this process")));
            return follow_job(inner.jobs.clone(), progress, rx, job_id).await;
        };
        let desc = info.descriptor;
        tracing::info!(tool = desc.name, %job_id, attempt = claimed.record.attempts, "running a queued job");
        let sink: Arc<dyn ProgressSink> = progress.clone();
        let ctx = ToolContext::new(desc.name, Progress::new(sink), cancel.clone(), inner.extensions.clone())
            .with_principal(principal);
        let args = claimed.arguments;
        // Checked again: the tool may have changed since the job was queued.
        let invalid = unknown_arguments(info, &args).or_else(|| validation_error(info, &args));
        let supervisor = {
            let inner = inner.clone();
            async move {
                let out = match invalid {
                    Some(err) => Err(err),
                    None => {
                        let key = cacheable(desc, &args).then(|| cache_key(&args));
                        let limits = Limits::of(desc, Overrides::default());
                        supervise_cached(&inner, desc, limits, args, ctx, cancel, key.as_deref()).await
                    }
                };
                let _ = tx.send(out);
            }
        };
        tokio::spawn(supervisor);
        follow_job(inner.jobs.clone(), progress, rx, job_id).await;
    }

    /// Runs queued jobs of the tools `filter` takes, `concurrency` at a time, until `stop` (then the jobs
    /// still running are given back to the queue for another consumer): what
    /// `pipette worker` does, and a `pipette-mcp` beside its sessions. Jobs queued in this process start at
    /// once; others are seen within `PIPETTE_QUEUE_POLL_MS` (default 200 ms).
    pub async fn serve_queue(&self, filter: QueueFilter, stop: CancellationToken) {
        let tools: Vec<&'static str> = self
            .inner
            .registry
            .tools()
            .iter()
            .map(|t| t.descriptor)
            .filter(|d| filter.takes(d))
            .map(|d| d.name)
            .collect();
        if tools.is_empty() {
            tracing::warn!("the job queue consumer takes no tool: it stops");
            return;
        }
        let poll = Duration::from_millis(
            std::env::var("PIPETTE_QUEUE_POLL_MS").ok().and_then(|v| v.trim().parse().ok()).unwrap_or(200),
        );
        let slots = Arc::new(tokio::sync::Semaphore::new(filter.concurrency.max(1)));
        tracing::info!(tools = tools.len(), concurrency = filter.concurrency, "job queue consumer started");
        loop {
            let permit = tokio::select! {
                p = slots.clone().acquire_owned() => match p { Ok(p) => p, Err(_) => break },
                _ = stop.cancelled() => break,
            };
            // Its own token: stopping the consumer gives its jobs back (`release_all`), never cancels them.
            let cancel = CancellationToken::new();
            let claimed = match self.inner.jobs.claim(&tools, &cancel) {
                Ok(c) => c,
                Err(e) => {
                    tracing::warn!(error = %e, "could not look for queued jobs");
                    None
                }
            };
            match claimed {
                Some(job) => {
                    let router = self.clone();
                    tokio::spawn(async move {
                        router.run_claimed(job, cancel).await;
                        drop(permit);
                    });
                }
                None => {
                    drop(permit);
                    tokio::select! {
                        _ = self.inner.jobs.queued_or(poll) => {}
                        _ = stop.cancelled() => break,
                    }
                }
            }
        }
        let released = self.inner.jobs.release_all();
        tracing::info!(released, "job queue consumer stopped; its running jobs went back to the queue");
    }
}

/// Which queued jobs a consumer takes: by the tools' runtime and category, and how many at once.
#[derive(Debug, Clone)]
pub struct QueueFilter {
    /// Only tools of these runtimes (`None`: every runtime).
    pub runtimes: Option<Vec<Runtime>>,
    /// Only tools of these categories (`None`: every category).
    pub categories: Option<Vec<Category>>,
    /// Jobs run at once.
    pub concurrency: usize,
}

impl Default for QueueFilter {
    fn default() -> Self {
        QueueFilter { runtimes: None, categories: None, concurrency: 4 }
    }
}

impl QueueFilter {
    /// A filter from names (`async,blocking,process`; `research,testing,…`), refusing unknown ones.
    pub fn parse(
        runtimes: &[String],
        categories: &[String],
        concurrency: usize,
    ) -> Result<QueueFilter, ToolError> {
        fn names<T: Copy>(
            param: &str,
            given: &[String],
            all: &[T],
            name: impl Fn(T) -> &'static str,
        ) -> Result<Option<Vec<T>>, ToolError> {
            if given.is_empty() {
                return Ok(None);
            }
            given
                .iter()
                .map(|g| {
                    all.iter().copied().find(|t| name(*t).eq_ignore_ascii_case(g.trim())).ok_or_else(|| {
                        let accepted: Vec<&str> = all.iter().map(|t| name(*t)).collect();
                        ToolError::invalid_argument(
                            param,
                            format!("unknown {param} `{g}`; expected one of {}", accepted.join(", ")),
                        )
                    })
                })
                .collect::<Result<Vec<T>, _>>()
                .map(Some)
        }
        Ok(QueueFilter {
            runtimes: names("runtime", runtimes, &Runtime::ALL, Runtime::as_str)?,
            categories: names("category", categories, &Category::ALL, Category::as_str)?,
            concurrency: concurrency.max(1),
        })
    }

    fn takes(&self, d: &ToolDescriptor) -> bool {
        self.runtimes.as_ref().is_none_or(|r| r.contains(&d.runtime))
            && self.categories.as_ref().is_none_or(|c| c.contains(&d.category))
    }
}

/// Follows a job's task to its end: writes throttled progress while it runs, then its outcome.
async fn follow_job(
    jobs: Arc<JobManager>,
    progress: Arc<CallProgress>,
    mut rx: oneshot::Receiver<Result<serde_json::Value, ToolError>>,
    job_id: String,
) {
    let out = loop {
        tokio::select! {
            out = &mut rx => break out,
            _ = tokio::time::sleep(FLUSH_EVERY) => progress.flush_pending(),
        }
    };
    let out = out.unwrap_or_else(|_| Err(ToolError::internal("the job's task ended without an answer")));
    progress.flush_pending(); // the last report may still be held back by the throttle
    let output = progress.take_output();
    jobs.finish(&job_id, &out, &output);
}

/// [`supervise`], then the result noted (seen ids) and cached under `key`.
async fn supervise_cached(
    inner: &Inner,
    desc: &'static ToolDescriptor,
    limits: Limits,
    args: serde_json::Value,
    ctx: ToolContext,
    cancel: CancellationToken,
    key: Option<&str>,
) -> Result<serde_json::Value, ToolError> {
    let out = supervise(inner, desc, limits, args, ctx, cancel).await;
    if let Ok(v) = &out {
        inner.note_seen(desc, v);
    }
    if let (Ok(v), Some(key), Some(ttl)) = (&out, key, desc.cache_ttl_seconds) {
        inner.cache.set(desc.name, key, bytes_of(v), Duration::from_secs(ttl)).await;
    }
    out
}

fn bytes_of(v: &serde_json::Value) -> bytes::Bytes {
    bytes::Bytes::from(serde_json::to_vec(v).unwrap_or_default())
}

fn record_error(desc: &ToolDescriptor, err: &ToolError) {
    metrics::counter!("pipette_tool_errors_total",
        "tool" => desc.name, "category" => desc.category.as_str(), "kind" => err.kind.as_str())
    .increment(1);
}

impl Inner {
    fn note_seen(&self, desc: &ToolDescriptor, result: &serde_json::Value) {
        if desc.category == Category::Research {
            self.seen.observe(result);
        }
    }

    fn limiter(&self, runtime: Runtime) -> &PriorityLimiter {
        match runtime {
            Runtime::Async => &self.async_limit,
            Runtime::Blocking => &self.blocking_limit,
            Runtime::Process => &self.process_limit,
        }
    }
}

/// A call's deadline and retry policy: the tool's own unless the call overrides them.
#[derive(Clone, Copy)]
struct Limits {
    timeout_seconds: u64,
    retry: RetryPolicy,
}

impl Limits {
    fn of(desc: &ToolDescriptor, overrides: Overrides) -> Limits {
        Limits {
            timeout_seconds: overrides.timeout_seconds.unwrap_or(desc.timeout_seconds),
            retry: overrides.retry.unwrap_or(desc.retry),
        }
    }
}

/// Admits, runs (with retries) and times out one call; records its metrics.
async fn supervise(
    inner: &Inner,
    desc: &'static ToolDescriptor,
    limits: Limits,
    args: serde_json::Value,
    ctx: ToolContext,
    cancel: CancellationToken,
) -> Result<serde_json::Value, ToolError> {
    let labels = [("tool", desc.name), ("category", desc.category.as_str())];
    metrics::counter!("pipette_tool_calls_total", &labels).increment(1);
    let queued = Instant::now();
    let permit = tokio::select! {
        p = inner.limiter(desc.runtime).acquire(desc.priority) => Arc::new(p),
        _ = cancel.cancelled() => return Err(cancelled(desc.name)),
    };
    metrics::histogram!("pipette_tool_queue_wait_seconds", &labels).record(queued.elapsed().as_secs_f64());
    metrics::gauge!("pipette_tool_in_flight", &labels).increment(1.0);
    let started = Instant::now();
    let deadline = Duration::from_secs(limits.timeout_seconds);

    let attempt = || run_once(inner, desc, &args, &ctx, &permit);
    let attempts = async {
        match limits.retry {
            RetryPolicy::None => attempt().await,
            RetryPolicy::Fixed { retries, delay_ms } => {
                let b = ConstantBuilder::default()
                    .with_delay(Duration::from_millis(delay_ms))
                    .with_max_times(retries as usize);
                attempt.retry(b).when(|e: &ToolError| e.retryable).notify(|e, d| note_retry(desc, e, d)).await
            }
            RetryPolicy::Exponential { retries, base_ms } => {
                let b = ExponentialBuilder::default()
                    .with_min_delay(Duration::from_millis(base_ms))
                    .with_max_delay(Duration::from_millis(base_ms.saturating_mul(64)))
                    .with_jitter()
                    .with_max_times(retries as usize);
                attempt.retry(b).when(|e: &ToolError| e.retryable).notify(|e, d| note_retry(desc, e, d)).await
            }
        }
    };
    let out = tokio::select! {
        r = tokio::time::timeout(deadline, attempts) => r.unwrap_or_else(|_| Err(ToolError::new(
            ErrorKind::Timeout,
            format!("`{}` did not finish within its {} s deadline", desc.name, limits.timeout_seconds),
        ).with_retryable(false))),
        _ = cancel.cancelled() => Err(cancelled(desc.name)),
    };
    cancel.cancel(); // stops whatever an aborted attempt left behind that still watches the token
    metrics::gauge!("pipette_tool_in_flight", &labels).decrement(1.0);
    let secs = started.elapsed().as_secs_f64();
    metrics::histogram!("pipette_tool_duration_seconds", &labels).record(secs);
    metrics::histogram!("pipette_category_duration_seconds", "category" => desc.category.as_str())
        .record(secs);
    if let Err(e) = &out {
        record_error(desc, e);
    }
    out
}

fn note_retry(desc: &ToolDescriptor, err: &ToolError, after: Duration) {
    metrics::counter!("pipette_tool_retries_total", "tool" => desc.name).increment(1);
    tracing::info!(tool = desc.name, error = %err, ?after, "retrying");
}

/// One attempt, on the runtime the tool asks for. The permit travels with the work, so a slot is
/// freed only when the work has really stopped.
async fn run_once(
    inner: &Inner,
    desc: &'static ToolDescriptor,
    args: &serde_json::Value,
    ctx: &ToolContext,
    permit: &Arc<Permit>,
) -> Result<serde_json::Value, ToolError> {
    let fut = (desc.handler)(args.clone(), ctx.clone());
    let permit = permit.clone();
    let work = async move {
        let out = fut.await;
        drop(permit);
        out
    };
    let handle = match desc.runtime {
        Runtime::Blocking => match &inner.blocking.0 {
            Some(rt) => rt.spawn(tracing::Instrument::in_current_span(work)),
            None => tokio::spawn(tracing::Instrument::in_current_span(work)),
        },
        Runtime::Async | Runtime::Process => tokio::spawn(tracing::Instrument::in_current_span(work)),
    };
    let abort = handle.abort_handle();
    let _guard = AbortOnDrop(abort);
    match handle.await {
        Ok(out) => out,
        Err(e) if e.is_panic() => {
            tracing::error!(tool = desc.name, "tool panicked");
            Err(ToolError::internal(format!(
                "`{}` failed unexpectedly (a bug in pipette; see the server log)",
                desc.name
            )))
        }
        Err(_) => Err(cancelled(desc.name)),
    }
}

struct AbortOnDrop(tokio::task::AbortHandle);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}
