//! Job tools: follow, list, cancel, resume and prune the calls that became background jobs.

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use tool_metadata::{ToolContext, tool_metadata};

use crate::assist::{Confirmed, confirm};
use crate::format::Shown;
use crate::{Error, JobManager, JobRecord, JobStatus};

#[derive(Deserialize, schemars::JsonSchema)]
struct JobStatusParams {
    /// The job's id.
    job_id: String,
    /// Only output added since the last look.
    #[serde(default)]
    incremental: bool,
}

#[derive(Serialize, schemars::JsonSchema)]
struct JobView {
    #[serde(flatten)]
    job: JobRecord,
    /// The job's output (all of it, or only the new part with `incremental`).
    output: String,
}

/// A background job's status, progress, and result or error.
#[tool_metadata(category = jobs, runtime = Async, priority = 9, timeout_seconds = 10, read_only)]
async fn job_status(ctx: ToolContext, p: JobStatusParams) -> Result<Shown<JobView>, Error> {
    let (job, output) = ctx.service::<JobManager>()?.status(ctx.principal(), &p.job_id, p.incremental)?;
    Ok(Shown { markdown: job.markdown(&output), result: JobView { job, output } })
}

fn default_limit() -> usize {
    50
}

#[derive(Deserialize, schemars::JsonSchema)]
struct JobListParams {
    /// Only jobs in this status.
    status: Option<JobStatus>,
    /// Only jobs of this tool.
    tool: Option<String>,
    /// At most this many, newest first (1–1000).
    #[serde(default = "default_limit")]
    #[schemars(range(min = 1, max = 1000))]
    limit: usize,
}

#[derive(Serialize, schemars::JsonSchema)]
struct JobList {
    /// Newest first.
    jobs: Vec<JobRecord>,
}

/// Lists your background jobs, newest first, optionally by status or tool.
#[tool_metadata(category = jobs, runtime = Async, priority = 9, timeout_seconds = 10, read_only)]
async fn job_list(ctx: ToolContext, p: JobListParams) -> Result<Shown<JobList>, Error> {
    let jobs = ctx.service::<JobManager>()?.list(ctx.principal(), p.status, p.tool.as_deref(), p.limit)?;
    Ok(Shown { markdown: crate::jobs::list_markdown(&jobs), result: JobList { jobs } })
}

#[derive(Deserialize, schemars::JsonSchema)]
struct JobCancelParams {
    /// The job to cancel.
    job_id: String,
}

/// Cancels a running background job and answers its record once it has stopped.
#[tool_metadata(category = jobs, runtime = Async, priority = 10, timeout_seconds = 10, idempotent)]
async fn job_cancel(ctx: ToolContext, p: JobCancelParams) -> Result<Shown<JobRecord>, Error> {
    let job = ctx.service::<JobManager>()?.cancel(ctx.principal(), &p.job_id).await?;
    Ok(Shown { markdown: job.markdown(""), result: job })
}

#[derive(Deserialize, schemars::JsonSchema)]
struct JobResumeParams {
    /// The interrupted job to run again.
    job_id: String,
}

/// Runs an interrupted job again under the same id: it is queued, and a running pipette-mcp or `pipette
/// worker` runs it; a batch runs only the items it had not finished.
#[tool_metadata(category = jobs, runtime = Async, priority = 9, timeout_seconds = 10)]
async fn job_resume(ctx: ToolContext, p: JobResumeParams) -> Result<Shown<JobRecord>, Error> {
    let job = ctx.service::<JobManager>()?.resume(ctx.principal(), &p.job_id)?;
    Ok(Shown { markdown: job.markdown(""), result: job })
}

fn default_older_than() -> String {
    "0s".into()
}

fn default_statuses() -> Vec<JobStatus> {
    vec![JobStatus::Completed, JobStatus::Failed, JobStatus::Cancelled, JobStatus::Interrupted]
}

#[derive(Deserialize, schemars::JsonSchema)]
struct JobPruneParams {
    /// Only jobs that ended at least this long ago, e.g. "0s", "30m", "7d" (default "0s": every finished job).
    #[serde(default = "default_older_than")]
    older_than: String,
    /// Which statuses to remove (default: every finished status; add "running" to cancel and remove those too).
    #[serde(default = "default_statuses")]
    statuses: Vec<JobStatus>,
}

#[derive(Serialize, schemars::JsonSchema)]
struct Pruned {
    /// How many jobs were removed.
    removed: usize,
    /// Their ids.
    job_ids: Vec<String>,
}

/// Removes your finished background jobs from the store (by default every finished job). Pruning running jobs
/// (which cancels them) asks the person to confirm through the client (elicitation) unless `confirm: true`.
#[tool_metadata(category = jobs, runtime = Async, priority = 5, timeout_seconds = 600, inline_ms = 600000,
                destructive)]
async fn job_prune(ctx: ToolContext, p: Confirmed<JobPruneParams>) -> Result<Pruned, Error> {
    let (p, confirmed) = (p.request, p.confirm);
    if p.statuses.contains(&JobStatus::Running) {
        confirm(&ctx, confirmed, "cancel and remove running jobs").await?;
    }
    let older_than = humantime::parse_duration(&p.older_than).map_err(|e| {
        tool_metadata::ToolError::invalid_argument(
            "older_than",
            format!("{e}; expected a duration like 0s, 30m, 7d"),
        )
    })?;
    let manager: Arc<JobManager> = ctx.service()?;
    let mut statuses = p.statuses;
    if statuses.contains(&JobStatus::Running) && !statuses.contains(&JobStatus::Cancelled) {
        statuses.push(JobStatus::Cancelled);
    }
    let job_ids = manager.prune(ctx.principal(), older_than, &statuses).await?;
    Ok(Pruned { removed: job_ids.len(), job_ids })
}
