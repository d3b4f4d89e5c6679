//! Workflow tools: validate, run, follow, cancel and list durable DAGs of tool calls (`workflow/`).

use serde::Deserialize;
use tool_metadata::{ToolContext, tool_metadata};

use crate::format::Shown;
use crate::workflow::{self, Definition, Validation, WorkflowList, WorkflowOutcome, WorkflowView};
use crate::{Error, JobManager, JobStatus};

#[derive(Deserialize, schemars::JsonSchema)]
struct DefinitionParams {
    /// `{"name", "steps": [{"id", "tool", "args", "depends_on"?, "retry"?, "timeout_seconds"?, "for_each"?}],
    /// "max_parallel"?}`; an argument may be `{"$ref": "<step id>", "path": "<JSONPath>"}`.
    definition: Definition,
}

/// Checks a workflow without running it: the waves of steps that can run together, or every problem by
/// step and field (unknown tool, bad literal argument, bad reference, cycle).
#[tool_metadata(category = workflows, runtime = Async, priority = 7, timeout_seconds = 10, read_only)]
async fn workflow_validate(ctx: ToolContext, p: DefinitionParams) -> Result<Validation, Error> {
    Ok(workflow::check(&ctx, &p.definition)?)
}

/// Runs a workflow of tool calls (dependency order, independent steps in parallel); long runs become a job
/// whose id is the workflow id, resumed after a restart without repeating completed steps.
#[tool_metadata(category = workflows, runtime = Async, priority = 5, timeout_seconds = 86400, retry = fixed(2, 1000))]
async fn workflow_run(ctx: ToolContext, p: DefinitionParams) -> Result<Shown<WorkflowOutcome>, Error> {
    Ok(workflow::start(&ctx, &p.definition).await?)
}

#[derive(Deserialize, schemars::JsonSchema)]
struct WorkflowRef {
    /// The workflow's id (the job id `workflow_run` answered).
    workflow_id: String,
}

/// A workflow's state: each step's state, attempts, timing and output preview.
#[tool_metadata(category = workflows, runtime = Async, priority = 9, timeout_seconds = 10, read_only)]
async fn workflow_status(ctx: ToolContext, p: WorkflowRef) -> Result<Shown<WorkflowView>, Error> {
    Ok(workflow::status(&*ctx.service::<JobManager>()?, ctx.principal(), &p.workflow_id)?)
}

/// Cancels a workflow: its running steps stop and no new step starts; answers its state.
#[tool_metadata(category = workflows, runtime = Async, priority = 10, timeout_seconds = 10, idempotent)]
async fn workflow_cancel(ctx: ToolContext, p: WorkflowRef) -> Result<Shown<WorkflowView>, Error> {
    Ok(workflow::cancel(&*ctx.service::<JobManager>()?, ctx.principal(), &p.workflow_id).await?)
}

fn default_limit() -> usize {
    50
}

#[derive(Deserialize, schemars::JsonSchema)]
struct ListParams {
    /// Only workflows whose job is in this status.
    status: Option<JobStatus>,
    /// At most this many, newest first (1–1000).
    #[serde(default = "default_limit")]
    #[schemars(range(min = 1, max = 1000))]
    limit: usize,
}

/// Your workflows, newest first, with their status and progress.
#[tool_metadata(category = workflows, runtime = Async, priority = 9, timeout_seconds = 10, read_only)]
async fn workflow_list(ctx: ToolContext, p: ListParams) -> Result<Shown<WorkflowList>, Error> {
    Ok(workflow::list(&*ctx.service::<JobManager>()?, ctx.principal(), p.status, p.limit)?)
}
