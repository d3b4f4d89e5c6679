//! A workflow as its job shows it: each step's state, attempts, timing and output preview (from the
//! result once finished, else from the step records kept with the job), and the list of workflows.

use std::collections::HashMap;
use std::fmt::Write as _;

use serde::Serialize;
use tool_metadata::{Principal, ToolError};

use super::engine::{StepProblem, WorkflowOutcome, preview};
use super::{Definition, RUN_TOOL, StepRecord, StepState};
use crate::format::Shown;
use crate::{JobManager, JobRecord, JobStatus, ProgressJson};

/// What `workflow_status` and `workflow_cancel` answer.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub(crate) struct WorkflowView {
    /// The workflow's id (its job's id).
    pub(crate) workflow_id: String,
    /// Its name.
    pub(crate) name: String,
    /// `queued`, `running`, `completed`, `failed` (a step failed, or the run did), `cancelled`, `interrupted`.
    pub(crate) status: String,
    /// When it started.
    pub(crate) started_at: String,
    /// When it ended.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) finished_at: Option<String>,
    /// Steps done of all.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) progress: Option<ProgressJson>,
    /// Times a process started the workflow (a restart adds one).
    pub(crate) attempts: u32,
    /// Every step: state, attempts, timing, output preview.
    pub(crate) steps: Vec<StepRecord>,
    /// The steps that failed, and why.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) failed: Vec<StepProblem>,
    /// Why the run itself ended badly (cancelled, interrupted).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) error: Option<ToolError>,
}

fn not_a_workflow(id: &str, rec: &JobRecord) -> ToolError {
    ToolError::not_found(format!(
        "`{id}` is a job of `{}`, not a workflow; job_status shows it, workflow_list shows your workflows",
        rec.tool
    ))
    .with_param("workflow_id")
}

/// The view of one job of `workflow_run`.
pub(crate) fn view(rec: JobRecord) -> Result<WorkflowView, ToolError> {
    let def: Option<Definition> =
        rec.arguments.get("definition").and_then(|d| serde_json::from_value(d.clone()).ok());
    let outcome: Option<WorkflowOutcome> =
        rec.result.as_ref().and_then(|r| serde_json::from_value(r.clone()).ok());
    let (steps, failed) = match outcome {
        Some(o) => {
            let failed = o.failed.clone();
            (o.steps, failed)
        }
        None => {
            let kept: HashMap<String, StepRecord> = rec
                .partial
                .iter()
                .filter_map(|v| serde_json::from_value::<StepRecord>(v.clone()).ok())
                .map(|r| (r.id.clone(), r))
                .collect();
            let steps: Vec<StepRecord> = def
                .as_ref()
                .map(|d| {
                    d.steps
                        .iter()
                        .map(|s| {
                            let mut r = kept.get(&s.id).cloned().unwrap_or_else(|| StepRecord::pending(s));
                            r.output = r.output.as_ref().map(preview);
                            r
                        })
                        .collect()
                })
                .unwrap_or_default();
            let failed = steps
                .iter()
                .filter(|r| r.state == StepState::Failed)
                .map(|r| StepProblem { step: r.id.clone(), error: r.error.clone().unwrap_or_default() })
                .collect();
            (steps, failed)
        }
    };
    // A cancelled run was stopped where it stood: what was running was stopped, the rest never started.
    let mut steps = steps;
    if rec.status == JobStatus::Cancelled {
        for s in steps.iter_mut() {
            let why = match s.state {
                StepState::Running => "stopped: the workflow was cancelled",
                StepState::Pending => "not started: the workflow was cancelled",
                _ => continue,
            };
            s.state = StepState::Cancelled;
            s.error = Some(why.to_owned());
        }
    }
    let status = match rec.status {
        JobStatus::Completed
            if !failed.is_empty() || steps.iter().any(|s| s.state != StepState::Completed) =>
        {
            "failed".to_owned()
        }
        s => s.as_str().to_owned(),
    };
    Ok(WorkflowView {
        workflow_id: rec.job_id,
        name: def.map(|d| d.name).unwrap_or_default(),
        status,
        started_at: rec.started_at,
        finished_at: rec.finished_at,
        progress: rec.progress,
        attempts: rec.attempts,
        steps,
        failed,
        error: rec.error,
    })
}

impl WorkflowView {
    /// The markdown a model reads: one line per step.
    pub(crate) fn markdown(&self) -> String {
        let mut out = format!("## Workflow `{}` ({}): {}\n\n", self.name, self.workflow_id, self.status);
        let _ = writeln!(out, "| step | tool | state | attempts | ms | note |\n|---|---|---|---|---|---|");
        for s in &self.steps {
            let note = s.error.clone().unwrap_or_default().replace('|', "\\|");
            let ms = s.duration_ms.map(|m| m.to_string()).unwrap_or_default();
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {ms} | {note} |",
                s.id,
                s.tool,
                s.state.as_str(),
                s.attempts
            );
        }
        if let Some(e) = &self.error {
            let _ = writeln!(out, "\n{}", e.message);
        }
        if matches!(self.status.as_str(), "running" | "queued") {
            let _ = writeln!(
                out,
                "\nFollow it with workflow_status {{\"workflow_id\": \"{}\"}}.",
                self.workflow_id
            );
        }
        out
    }
}

impl WorkflowOutcome {
    /// The markdown a model reads: the verdict, the failures with their causes, the final outputs' sizes.
    pub(crate) fn markdown(&self) -> String {
        let mut out = format!(
            "## Workflow `{}`: {} ({}/{} steps completed)\n",
            self.name, self.status, self.completed, self.total
        );
        for f in &self.failed {
            let _ = writeln!(out, "- failed `{}`: {}", f.step, f.error);
        }
        for s in &self.skipped {
            let _ = writeln!(out, "- skipped `{}`: {}", s.step, s.error);
        }
        for s in &self.steps {
            let ms = s.duration_ms.map(|m| format!(", {m} ms")).unwrap_or_default();
            let _ = writeln!(
                out,
                "- `{}` ({}): {}, {} attempt(s){ms}",
                s.id,
                s.tool,
                s.state.as_str(),
                s.attempts
            );
        }
        for (id, v) in &self.outputs {
            let _ = writeln!(out, "\nOutput of `{id}` (in `outputs.{id}`, {} bytes).", v.to_string().len());
        }
        out
    }
}

/// `workflow_status`: the workflow `id` of `principal`.
pub(crate) fn status(
    jobs: &JobManager,
    principal: &Principal,
    id: &str,
) -> Result<Shown<WorkflowView>, ToolError> {
    let rec = jobs.get(principal, id).map_err(|e| e.with_param("workflow_id"))?;
    if rec.tool != RUN_TOOL {
        return Err(not_a_workflow(id, &rec));
    }
    let v = view(rec)?;
    Ok(Shown { markdown: v.markdown(), result: v })
}

/// One line of `workflow_list`.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub(crate) struct WorkflowSummary {
    /// Its id.
    pub(crate) workflow_id: String,
    /// Its name.
    pub(crate) name: String,
    /// Where it stands.
    pub(crate) status: String,
    /// Steps done of all.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) progress: Option<ProgressJson>,
    /// When it started.
    pub(crate) started_at: String,
}

/// What `workflow_list` answers.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub(crate) struct WorkflowList {
    /// Newest first.
    pub(crate) workflows: Vec<WorkflowSummary>,
}

/// `workflow_list`: `principal`'s workflows, newest first.
pub(crate) fn list(
    jobs: &JobManager,
    principal: &Principal,
    status: Option<JobStatus>,
    limit: usize,
) -> Result<Shown<WorkflowList>, ToolError> {
    let recs = jobs.list(principal, status, Some(RUN_TOOL), limit)?;
    let workflows: Vec<WorkflowSummary> = recs
        .into_iter()
        .filter_map(|r| view(r).ok())
        .map(|v| WorkflowSummary {
            workflow_id: v.workflow_id,
            name: v.name,
            status: v.status,
            progress: v.progress,
            started_at: v.started_at,
        })
        .collect();
    let mut markdown = format!("{} workflow(s), newest first.\n\n", workflows.len());
    for w in &workflows {
        let p = w
            .progress
            .as_ref()
            .map(|p| format!(" {}/{}", p.current, p.total.unwrap_or(0)))
            .unwrap_or_default();
        let _ = writeln!(
            markdown,
            "- `{}` {} — {}{p}, started {}",
            w.workflow_id, w.name, w.status, w.started_at
        );
    }
    Ok(Shown { markdown, result: WorkflowList { workflows } })
}
