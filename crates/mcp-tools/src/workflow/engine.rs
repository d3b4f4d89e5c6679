//! Running a plan: each step a router call (its tool's own deadline, retry and cache unless the step
//! overrides them), every step whose needs completed started at once, tool calls bounded by `max_parallel`.
//! Each change of a step is kept with the workflow's job (a job item per step), so a workflow run again
//! after its process died skips what completed and runs again what was running. A failed step skips its
//! dependants (with the cause), never its independent siblings. Cancelling stops running calls and starts
//! no new ones.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::StreamExt;
use futures::stream::FuturesUnordered;
use serde::Serialize;
use serde_json::Value;
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use tool_metadata::{ErrorKind, RetryPolicy, ToolContext, ToolError};

use super::refs::{self, ITEM};
use super::{Plan, StepDef, StepRecord, StepState};
use crate::router::Overrides;
use crate::{CallOptions, CallOutcome, Router};

/// Bytes of a step's output a result or a status shows inline; a longer output is cut to a preview.
pub(crate) const OUTPUT_PREVIEW: usize = 2_000;

/// A step that did not complete, and why.
#[derive(Debug, Clone, Serialize, serde::Deserialize, schemars::JsonSchema)]
pub(crate) struct StepProblem {
    /// The step.
    pub(crate) step: String,
    /// Why.
    pub(crate) error: String,
}

/// What a finished workflow answers.
#[derive(Debug, Clone, Serialize, serde::Deserialize, schemars::JsonSchema)]
pub(crate) struct WorkflowOutcome {
    /// The workflow's name.
    pub(crate) name: String,
    /// `completed` (every step did) or `failed`.
    pub(crate) status: String,
    /// Steps in all.
    pub(crate) total: usize,
    /// Steps completed.
    pub(crate) completed: usize,
    /// Steps that failed, and why.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) failed: Vec<StepProblem>,
    /// Steps not run because a step they need did not complete (with the cause).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) skipped: Vec<StepProblem>,
    /// Every step's state, attempts and timing; outputs cut to a preview.
    pub(crate) steps: Vec<StepRecord>,
    /// The full outputs of the final steps (those no other step needs).
    pub(crate) outputs: BTreeMap<String, Value>,
}

/// `output` as shown inline: itself when short, else a preview saying how big it is.
pub(crate) fn preview(output: &Value) -> Value {
    let text = output.to_string();
    if text.len() <= OUTPUT_PREVIEW {
        return output.clone();
    }
    let end = (0..=OUTPUT_PREVIEW).rev().find(|&i| text.is_char_boundary(i)).unwrap_or(0);
    Value::String(format!("{}… ({} bytes in all)", &text[..end], text.len()))
}

fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

struct Run<'a> {
    plan: &'a Plan,
    ctx: &'a ToolContext,
    records: Vec<StepRecord>,
}

impl Run<'_> {
    /// Keeps step `i`'s record with the job at once.
    fn keep(&self, i: usize) {
        self.ctx.progress().item(i as u64, &self.records[i]);
    }

    fn report(&self, what: &str) {
        let done = self.records.iter().filter(|r| r.state.is_final()).count();
        self.ctx.progress().report(done as u64, Some(self.records.len() as u64), what);
    }

    fn set(&mut self, i: usize, state: StepState, error: Option<String>) {
        let r = &mut self.records[i];
        r.state = state;
        r.error = error;
        self.keep(i);
    }
}

/// Runs `plan` through `router`, resuming from the step records the job kept (a run after a restart).
pub(crate) async fn run(
    plan: &Plan,
    router: &Router,
    ctx: &ToolContext,
) -> Result<WorkflowOutcome, ToolError> {
    let prior: BTreeMap<u64, StepRecord> = ctx.progress().prior_items();
    let mut run = Run { plan, ctx, records: Vec::with_capacity(plan.def.steps.len()) };
    for (i, s) in plan.def.steps.iter().enumerate() {
        let mut rec = match prior.get(&(i as u64)) {
            Some(r) if r.id == s.id => r.clone(),
            _ => StepRecord::pending(s),
        };
        // What was running (or stopped by a cancel that gave the job back) runs again.
        if matches!(rec.state, StepState::Running | StepState::Cancelled) {
            rec.state = StepState::Pending;
            rec.error = None;
        }
        run.records.push(rec);
    }
    let resumed = run.records.iter().filter(|r| r.state == StepState::Completed).count();
    if resumed > 0 {
        tracing::info!(workflow = %plan.def.name, resumed, "workflow resumed: completed steps are not run again");
    }
    run.report("started");
    let slots = Arc::new(Semaphore::new(plan.max_parallel));
    let stop = ctx.cancellation().child_token();
    let mut running = FuturesUnordered::new();
    loop {
        start_ready(&mut run, router, &slots, &stop, &mut running);
        if running.is_empty() {
            break;
        }
        tokio::select! {
            biased;
            _ = ctx.cancellation().cancelled() => {
                stop.cancel();
                return Err(cancel_all(&mut run, &mut running).await);
            }
            Some((i, out, attempts, took)) = running.next() => finish(&mut run, i, out, attempts, took),
        }
    }
    Ok(outcome(run))
}

type StepFuture = std::pin::Pin<
    Box<dyn std::future::Future<Output = (usize, Result<Value, String>, u32, Duration)> + Send>,
>;

/// Skips the pending steps whose needs will never complete; starts those whose needs all completed.
fn start_ready(
    run: &mut Run<'_>,
    router: &Router,
    slots: &Arc<Semaphore>,
    stop: &CancellationToken,
    running: &mut FuturesUnordered<StepFuture>,
) {
    for wave in &run.plan.waves {
        for &i in wave {
            if run.records[i].state != StepState::Pending {
                continue;
            }
            let deps = &run.plan.deps[i];
            if let Some(&d) = deps.iter().find(|&&d| {
                matches!(run.records[d].state, StepState::Failed | StepState::Skipped | StepState::Cancelled)
            }) {
                let dep = &run.records[d];
                let cause = match dep.state {
                    StepState::Failed => {
                        format!("`{}` failed: {}", dep.id, dep.error.as_deref().unwrap_or("unknown error"))
                    }
                    _ => dep.error.clone().unwrap_or_else(|| format!("`{}` did not complete", dep.id)),
                };
                run.set(i, StepState::Skipped, Some(cause));
                run.report(&format!("step `{}` skipped", run.records[i].id));
                continue;
            }
            if !deps.iter().all(|&d| run.records[d].state == StepState::Completed) {
                continue;
            }
            let step = run.plan.def.steps[i].clone();
            let outputs: BTreeMap<String, Value> = deps
                .iter()
                .filter_map(|&d| Some((run.records[d].id.clone(), run.records[d].output.clone()?)))
                .collect();
            let r = &mut run.records[i];
            r.state = StepState::Running;
            r.attempts += 1;
            r.started_at = Some(now());
            r.error = None;
            run.keep(i);
            let (router, slots, stop) = (router.clone(), slots.clone(), stop.child_token());
            running.push(Box::pin(async move {
                let started = Instant::now();
                let (out, attempts) = run_step(&router, &step, &outputs, &slots, &stop).await;
                (i, out, attempts, started.elapsed())
            }));
        }
    }
}

fn finish(run: &mut Run<'_>, i: usize, out: Result<Value, String>, attempts: u32, took: Duration) {
    if out.is_err() && run.ctx.cancellation().is_cancelled() {
        run.records[i].duration_ms = Some(took.as_millis() as u64);
        return run.set(i, StepState::Cancelled, Some("stopped: the workflow was cancelled".into()));
    }
    let r = &mut run.records[i];
    r.attempts += attempts.saturating_sub(1);
    r.duration_ms = Some(took.as_millis() as u64);
    match out {
        Ok(v) => {
            r.output = Some(v);
            run.set(i, StepState::Completed, None);
        }
        Err(e) => run.set(i, StepState::Failed, Some(e)),
    }
    let what = format!("step `{}` {}", run.records[i].id, run.records[i].state.as_str());
    run.report(&what);
}

/// After a cancel: waits for the running calls to stop, marks them and every step not started cancelled,
/// and answers the workflow's cancellation error.
async fn cancel_all(run: &mut Run<'_>, running: &mut FuturesUnordered<StepFuture>) -> ToolError {
    let mut stopped = 0;
    while let Some((i, out, attempts, took)) = running.next().await {
        match out {
            Ok(_) => finish(run, i, out, attempts, took),
            Err(_) => {
                stopped += 1;
                run.records[i].duration_ms = Some(took.as_millis() as u64);
                run.set(i, StepState::Cancelled, Some("stopped: the workflow was cancelled".into()));
            }
        }
    }
    let mut never = 0;
    for i in 0..run.records.len() {
        if run.records[i].state == StepState::Pending {
            never += 1;
            run.set(i, StepState::Cancelled, Some("not started: the workflow was cancelled".into()));
        }
    }
    let done = run.records.iter().filter(|r| r.state == StepState::Completed).count();
    ToolError::new(
        ErrorKind::Cancelled,
        format!(
            "workflow `{}` was cancelled: {done} step(s) had completed, {stopped} running were stopped, {never} \
             never started",
            run.plan.def.name
        ),
    )
}

fn outcome(run: Run<'_>) -> WorkflowOutcome {
    let plan = run.plan;
    let mut needed = vec![false; run.records.len()];
    plan.deps.iter().flatten().for_each(|&d| needed[d] = true);
    let problems = |state: StepState| -> Vec<StepProblem> {
        run.records
            .iter()
            .filter(|r| r.state == state)
            .map(|r| StepProblem { step: r.id.clone(), error: r.error.clone().unwrap_or_default() })
            .collect()
    };
    let (failed, skipped) = (problems(StepState::Failed), problems(StepState::Skipped));
    let completed = run.records.iter().filter(|r| r.state == StepState::Completed).count();
    let mut outputs = BTreeMap::new();
    let mut steps = Vec::with_capacity(run.records.len());
    for (i, mut r) in run.records.into_iter().enumerate() {
        if let Some(out) = r.output.take() {
            r.output = Some(preview(&out));
            if !needed[i] {
                outputs.insert(r.id.clone(), out);
            }
        }
        steps.push(r);
    }
    WorkflowOutcome {
        name: plan.def.name.clone(),
        status: if completed == steps.len() { "completed" } else { "failed" }.to_owned(),
        total: steps.len(),
        completed,
        failed,
        skipped,
        steps,
        outputs,
    }
}

/// The policy a step runs under: its own `retry`, else its tool's.
fn policy(router: &Router, step: &StepDef) -> (RetryPolicy, u64) {
    let desc = router.registry().get(&step.tool).map(|t| t.descriptor);
    let retry = match step.retry {
        Some(r) if r.exponential => RetryPolicy::Exponential { retries: r.retries, base_ms: r.delay_ms },
        Some(r) => RetryPolicy::Fixed { retries: r.retries, delay_ms: r.delay_ms },
        None => desc.map_or(RetryPolicy::None, |d| d.retry),
    };
    let timeout = step.timeout_seconds.or(desc.map(|d| d.timeout_seconds)).unwrap_or(60);
    (retry, timeout)
}

/// One step: its references resolved, then one call (or one per item of `for_each`); answers the output
/// or why it failed, and the attempts made (the most of any item).
async fn run_step(
    router: &Router,
    step: &StepDef,
    outputs: &BTreeMap<String, Value>,
    slots: &Semaphore,
    stop: &CancellationToken,
) -> (Result<Value, String>, u32) {
    let lookup = |s: &str| outputs.get(s).cloned();
    let Some(each) = &step.for_each else {
        let args = match refs::resolve(&step.args, &lookup) {
            Ok(a) => a,
            Err(e) => return (Err(format!("args: {e}")), 1),
        };
        return call(router, step, args, slots, stop).await;
    };
    let items = match refs::resolve(each, &lookup) {
        Ok(Value::Array(items)) => items,
        Ok(other) => {
            let kind = match other {
                Value::Object(_) => "an object",
                Value::String(_) => "a string",
                Value::Null => "null",
                _ => "a single value",
            };
            return (Err(format!("for_each: expected a list, the reference selects {kind}")), 1);
        }
        Err(e) => return (Err(format!("for_each: {e}")), 1),
    };
    let calls = items.iter().enumerate().map(|(n, item)| {
        let lookup = |s: &str| if s == ITEM { Some(item.clone()) } else { outputs.get(s).cloned() };
        let args = refs::resolve(&step.args, &lookup);
        async move {
            let args = args.map_err(|e| (format!("item {n}: args: {e}"), 1))?;
            match call(router, step, args, slots, stop).await {
                (Ok(v), a) => Ok((v, a)),
                (Err(e), a) => {
                    stop.cancel(); // the other items stop: the step has failed
                    Err((format!("item {n}: {e}"), a))
                }
            }
        }
    });
    match futures::future::try_join_all(calls).await {
        Ok(done) => {
            let attempts = done.iter().map(|(_, a)| *a).max().unwrap_or(1);
            (Ok(Value::Array(done.into_iter().map(|(v, _)| v).collect())), attempts)
        }
        Err((e, a)) => (Err(e), a),
    }
}

/// One router call of `step`'s tool, retried under the step's policy; never becomes a job of its own
/// (the workflow is the job).
async fn call(
    router: &Router,
    step: &StepDef,
    args: Value,
    slots: &Semaphore,
    stop: &CancellationToken,
) -> (Result<Value, String>, u32) {
    let (retry, timeout) = policy(router, step);
    let Ok(_slot) = slots.acquire().await else { return (Err("the workflow stopped".into()), 0) };
    let mut attempts = 0;
    loop {
        attempts += 1;
        let options = CallOptions {
            cancel: stop.child_token(),
            inline_ms: Some(timeout.saturating_add(30).saturating_mul(1000)),
            ..CallOptions::default()
        };
        let overrides = Overrides {
            timeout_seconds: Some(timeout),
            retry: Some(RetryPolicy::None),
            stop_when_dropped: true,
        };
        let err = match router.call_with(&step.tool, args.clone(), options, overrides).await {
            Ok(CallOutcome::Done(v)) => return (Ok(v), attempts),
            Ok(CallOutcome::Job(t)) => {
                ToolError::internal(format!("`{}` continued as job {} unexpectedly", step.tool, t.job_id))
            }
            Err(e) => e,
        };
        if !err.retryable || attempts > retry.retries() || stop.is_cancelled() {
            return (Err(describe(&err)), attempts);
        }
        let delay = match retry {
            RetryPolicy::None => 0,
            RetryPolicy::Fixed { delay_ms, .. } => delay_ms,
            RetryPolicy::Exponential { base_ms, .. } => base_ms.saturating_mul(1 << (attempts - 1).min(6)),
        };
        tracing::info!(step = %step.id, tool = %step.tool, attempts, error = %err, "retrying a workflow step");
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_millis(delay)) => {}
            _ = stop.cancelled() => return (Err(describe(&err)), attempts),
        }
    }
}

fn describe(err: &ToolError) -> String {
    match &err.param {
        Some(p) => format!("{} ({}; argument `{p}`)", err.message, err.kind.as_str()),
        None => format!("{} ({})", err.message, err.kind.as_str()),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use serde_json::json;
    use tool_metadata::{Extensions, Progress, ProgressSink, ProgressUpdate};

    use super::*;
    use crate::workflow::{Definition, validate};

    /// A job's side of the progress: the step records kept, the reports, and what a resumed job had.
    #[derive(Default)]
    struct Kept {
        items: Mutex<BTreeMap<u64, Value>>,
        reports: Mutex<Vec<ProgressUpdate>>,
        prior: Vec<(u64, Value)>,
    }

    impl ProgressSink for Kept {
        fn report(&self, update: ProgressUpdate) {
            self.reports.lock().unwrap().push(update);
        }
        fn log(&self, _line: &str) {}
        fn item(&self, index: u64, value: Value) {
            self.items.lock().unwrap().insert(index, value);
        }
        fn prior_items(&self) -> Vec<(u64, Value)> {
            self.prior.clone()
        }
    }

    async fn router(dir: &std::path::Path) -> Router {
        let config = crate::RouterConfig { data_dir: dir.to_path_buf(), ..crate::RouterConfig::default() };
        crate::build_router(config, None).await.unwrap()
    }

    async fn run_def(router: &Router, def: Value, kept: Arc<Kept>) -> Result<WorkflowOutcome, ToolError> {
        let def: Definition = serde_json::from_value(def).unwrap();
        let (v, plan) = validate(&def, router.registry());
        let plan = plan.unwrap_or_else(|| panic!("{:?}", v.errors));
        let sink: Arc<dyn ProgressSink> = kept;
        let ctx = ToolContext::new(
            "workflow_run",
            Progress::new(sink),
            CancellationToken::new(),
            Arc::new(Extensions::default()),
        );
        run(&plan, router, &ctx).await
    }

    fn state(o: &WorkflowOutcome, id: &str) -> (StepState, u32, Option<String>) {
        let s = o.steps.iter().find(|s| s.id == id).unwrap();
        (s.state, s.attempts, s.error.clone())
    }

    #[tokio::test]
    async fn a_failed_step_skips_its_dependants_not_its_siblings() {
        let dir = tempfile::tempdir().unwrap();
        let router = router(dir.path()).await;
        let kept = Arc::new(Kept::default());
        let def = json!({"name": "w", "max_parallel": 2, "steps": [
            {"id": "mk", "tool": "index_create", "args": {"id": "docs", "schema": {"builtin": "pubmed"}}},
            {"id": "add", "tool": "index_add", "depends_on": ["mk"],
             "args": {"id": "docs", "documents": [{"pmid": "1", "title": "BRAF in melanoma"}]}},
            {"id": "bad", "tool": "index_search", "args": {"id": "missing", "query": "x"}},
            {"id": "after", "tool": "index_list", "depends_on": ["bad"]},
            {"id": "later", "tool": "index_list", "depends_on": ["after"]},
            {"id": "find", "tool": "index_search", "depends_on": ["add"],
             "args": {"id": {"$ref": "mk", "path": "$.id"}, "query": "melanoma"}},
        ]});
        let o = run_def(&router, def, kept.clone()).await.unwrap();
        assert_eq!(o.status, "failed");
        assert_eq!((o.completed, o.total), (3, 6));
        assert_eq!(state(&o, "bad").0, StepState::Failed);
        assert!(o.failed[0].error.contains("missing"), "{:?}", o.failed);
        let (s, _, cause) = state(&o, "after");
        assert_eq!(s, StepState::Skipped);
        assert!(cause.unwrap().starts_with("`bad` failed:"));
        let (s, _, cause) = state(&o, "later");
        assert_eq!(s, StepState::Skipped);
        assert!(cause.unwrap().starts_with("`bad` failed:"), "the root cause travels");
        assert_eq!(o.outputs["find"]["total_hits"], 1, "{}", o.outputs["find"]);
        assert_eq!(kept.items.lock().unwrap().len(), 6, "every step's record was kept");
        let last = kept.reports.lock().unwrap().last().cloned().unwrap();
        assert_eq!((last.current, last.total), (6, Some(6)));
    }

    #[tokio::test]
    async fn a_resumed_workflow_skips_completed_steps_and_reruns_the_running_one() {
        let dir = tempfile::tempdir().unwrap();
        let router = router(dir.path()).await;
        let def = json!({"name": "w", "steps": [
            {"id": "mk", "tool": "index_create", "args": {"id": "made", "schema": {"builtin": "pubmed"}}},
            {"id": "list", "tool": "index_list", "depends_on": ["mk"]},
        ]});
        // As the job kept them when its process died: `mk` done (its index never made here), `list` running.
        let done = json!({"id": "mk", "tool": "index_create", "state": "completed", "attempts": 1,
                          "output": {"id": "made"}});
        let running = json!({"id": "list", "tool": "index_list", "state": "running", "attempts": 1});
        let kept = Arc::new(Kept { prior: vec![(0, done), (1, running)], ..Kept::default() });
        let o = run_def(&router, def, kept).await.unwrap();
        assert_eq!(o.status, "completed");
        assert_eq!(state(&o, "mk").1, 1, "not run again");
        assert_eq!(state(&o, "list").1, 2, "run again");
        assert_eq!(o.outputs["list"]["indexes"], json!([]), "index_create was not called again");
    }

    #[tokio::test]
    async fn for_each_gathers_results_in_order_and_a_bad_path_names_step_and_path() {
        let dir = tempfile::tempdir().unwrap();
        let router = router(dir.path()).await;
        let three = json!({"name": "x", "steps": [
            {"id": "c1", "tool": "index_list"}, {"id": "b2", "tool": "index_list"}, {"id": "a3", "tool": "index_list"}]});
        let def = json!({"name": "w", "max_parallel": 3, "steps": [
            {"id": "mk", "tool": "index_create", "for_each": {"$ref": "ids", "path": "$.waves[0][*]"},
             "args": {"id": {"$ref": "$item"}, "schema": {"builtin": "trials"}}},
            {"id": "ids", "tool": "workflow_validate", "args": {"definition": three}},
        ]});
        let o = run_def(&router, def, Arc::new(Kept::default())).await.unwrap();
        assert_eq!(state(&o, "mk").0, StepState::Completed, "{:?}", o.failed);
        let ids: Vec<&str> =
            o.outputs["mk"].as_array().unwrap().iter().map(|v| v["id"].as_str().unwrap()).collect();
        assert_eq!(ids, ["c1", "b2", "a3"], "one call per item, results in the items' order");
        let def = json!({"name": "w", "steps": [
            {"id": "l", "tool": "index_list"},
            {"id": "s", "tool": "index_search", "args": {"id": {"$ref": "l", "path": "$.nothing"}, "query": "x"}},
        ]});
        let o = run_def(&router, def, Arc::new(Kept::default())).await.unwrap();
        let (s, _, why) = state(&o, "s");
        assert_eq!(s, StepState::Failed);
        assert_eq!(why.unwrap(), "args: `$.nothing` selects nothing in the output of `l`");
    }
}
