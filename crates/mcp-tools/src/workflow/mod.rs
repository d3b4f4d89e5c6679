//! Workflows: durable DAGs of tool calls an agent submits once. A definition names steps (a tool and its
//! arguments, which may refer to earlier results by JSONPath); `plan.rs` validates it into waves, `engine.rs`
//! runs it through the router (each step a router call, independent steps in parallel), keeping each step's
//! state with the workflow's job so that a restarted process resumes it; `view.rs` shows a workflow's state.

mod engine;
mod plan;
mod refs;
mod saved;
mod view;

use serde::{Deserialize, Serialize};
use tool_metadata::ToolError;

use crate::format::Shown;
pub(crate) use engine::{WorkflowOutcome, run};
pub(crate) use plan::{Plan, Validation, validate};
pub(crate) use saved::{SAVED, saved};
pub(crate) use view::{WorkflowList, WorkflowView, list, status};

/// The tool a workflow runs as: its job's tool.
pub(crate) const RUN_TOOL: &str = "workflow_run";

/// A workflow: named steps, each a tool call; `depends_on` and references order them.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct Definition {
    /// What the workflow does, e.g. `literature to index`.
    pub(crate) name: String,
    /// The steps, in any order.
    pub(crate) steps: Vec<StepDef>,
    /// Tool calls at once (1–64, default 4).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) max_parallel: Option<usize>,
}

/// One step: a tool call.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct StepDef {
    /// Unique id (letters, digits, `_`, `-`).
    pub(crate) id: String,
    /// The tool to call.
    pub(crate) tool: String,
    /// Its arguments; any value may be `{"$ref": "<step id>", "path": "<JSONPath>"}` (or `"$item"` in a
    /// `for_each` step).
    #[serde(default = "empty_object")]
    #[schemars(extend("type" = "object"))]
    pub(crate) args: serde_json::Value,
    /// Steps that must complete first (references imply it).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) depends_on: Vec<String>,
    /// Overrides the tool's retry policy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) retry: Option<StepRetry>,
    /// Overrides the tool's deadline (per attempt).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) timeout_seconds: Option<u64>,
    /// A reference to a list: one call per item (`$item` in `args`), results gathered in order.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) for_each: Option<serde_json::Value>,
}

fn empty_object() -> serde_json::Value {
    serde_json::Value::Object(Default::default())
}

/// A step's retry policy.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct StepRetry {
    /// Retries after the first attempt (0–10).
    pub(crate) retries: u32,
    /// Delay before a retry, ms (default 500).
    #[serde(default = "default_delay")]
    pub(crate) delay_ms: u64,
    /// Double the delay each time.
    #[serde(default)]
    pub(crate) exponential: bool,
}

fn default_delay() -> u64 {
    500
}

/// Where a step stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub(crate) enum StepState {
    /// Not started.
    Pending,
    /// Its call is running.
    Running,
    /// Done; its output is kept.
    Completed,
    /// Its call failed (after its retries).
    Failed,
    /// Not run: a step it depends on did not complete.
    Skipped,
    /// Stopped or never started because the workflow was cancelled.
    Cancelled,
}

impl StepState {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            StepState::Pending => "pending",
            StepState::Running => "running",
            StepState::Completed => "completed",
            StepState::Failed => "failed",
            StepState::Skipped => "skipped",
            StepState::Cancelled => "cancelled",
        }
    }

    pub(crate) fn is_final(self) -> bool {
        !matches!(self, StepState::Pending | StepState::Running)
    }
}

/// A step's record, kept with the workflow's job as it changes (a job item per step).
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub(crate) struct StepRecord {
    /// The step's id.
    pub(crate) id: String,
    /// Its tool.
    pub(crate) tool: String,
    /// Where it stands.
    pub(crate) state: StepState,
    /// Calls started for it (a retry, or a run again after a restart, adds one).
    pub(crate) attempts: u32,
    /// When it started (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) started_at: Option<String>,
    /// How long its last run took, ms.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) duration_ms: Option<u64>,
    /// Its result (a `for_each` step: the results in order).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) output: Option<serde_json::Value>,
    /// Why it failed, was skipped or cancelled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) error: Option<String>,
}

impl StepRecord {
    pub(crate) fn pending(step: &StepDef) -> StepRecord {
        StepRecord {
            id: step.id.clone(),
            tool: step.tool.clone(),
            state: StepState::Pending,
            attempts: 0,
            started_at: None,
            duration_ms: None,
            output: None,
            error: None,
        }
    }
}

/// `workflow_validate`: the plan of `def`, or its problems.
pub(crate) fn check(ctx: &tool_metadata::ToolContext, def: &Definition) -> Result<Validation, ToolError> {
    let registry = ctx.service::<crate::Registry>()?;
    Ok(validate(def, &registry).0)
}

/// `workflow_run`: validates `def`, then runs it through the router on behalf of the caller.
pub(crate) async fn start(
    ctx: &tool_metadata::ToolContext,
    def: &Definition,
) -> Result<Shown<WorkflowOutcome>, ToolError> {
    let registry = ctx.service::<crate::Registry>()?;
    let (validation, plan) = validate(def, &registry);
    let Some(plan) = plan else {
        return Err(ToolError::invalid_argument("definition", Plan::issues_message(&validation.errors)));
    };
    let router = ctx
        .service::<crate::router::RouterHandle>()?
        .router(ctx.principal().clone())
        .ok_or_else(|| ToolError::internal("the router is shutting down"))?;
    // The run's own errors (a cancel) are final: the job is not retried for them.
    let outcome = run(&plan, &router, ctx).await.map_err(|e| e.with_retryable(false))?;
    Ok(Shown { markdown: outcome.markdown(), result: outcome })
}

/// `workflow_cancel`: stops the workflow `id` (its running steps; no new one starts) and shows it.
pub(crate) async fn cancel(
    jobs: &crate::JobManager,
    principal: &tool_metadata::Principal,
    id: &str,
) -> Result<Shown<WorkflowView>, ToolError> {
    status(jobs, principal, id)?; // a job that is not a workflow is refused before anything stops
    jobs.cancel(principal, id).await.map_err(|e| e.with_param("workflow_id"))?;
    status(jobs, principal, id)
}
