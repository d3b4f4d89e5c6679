//! Jobs as markdown: one job (status, progress, error, its result's own text, new output) and a list as a table.

use std::fmt::Write as _;

use crate::jobs::{JobRecord, JobStatus};

impl JobRecord {
    /// The job as markdown: what it runs and where it stands, then its error or its result's text.
    pub fn markdown(&self, output: &str) -> String {
        let mut out = format!("## Job `{}` — `{}`: {}\n", self.job_id, self.tool, self.status.as_str());
        let mut when = format!("Started {}", self.started_at);
        if let Some(f) = &self.finished_at {
            let _ = write!(when, ", finished {f}");
        }
        let _ = writeln!(out, "{when}; owner {}.", self.owner);
        if let Some(p) = &self.progress {
            let total = p.total.map(|t| format!("/{t}")).unwrap_or_default();
            let message = p.message.as_deref().map(|m| format!(" — {m}")).unwrap_or_default();
            let _ = writeln!(out, "Progress: {}{total}{message}", p.current);
        }
        if self.attempts > 1 {
            let _ = writeln!(out, "Attempt {}.", self.attempts);
        }
        match self.status {
            JobStatus::Running => {
                let _ = writeln!(
                    out,
                    "Still running: `job_status {{\"job_id\": \"{}\"}}` again later.",
                    self.job_id
                );
            }
            JobStatus::Queued => {
                let _ = writeln!(
                    out,
                    "Queued: a running pipette-mcp or `pipette worker` on this data dir runs it; \
                     `job_status {{\"job_id\": \"{}\"}}` again later.",
                    self.job_id
                );
            }
            _ => {}
        }
        if !self.partial.is_empty() {
            let _ = writeln!(out, "{} item(s) finished so far (in `partial`).", self.partial.len());
        }
        if let Some(e) = &self.error {
            let _ = writeln!(out, "\n**{} error**: {}", e.kind.as_str(), e.message);
        }
        if let Some(result) = &self.result {
            let _ = writeln!(out, "\n### Result\n{}", crate::text::render_text(result).trim_end());
        }
        if !output.is_empty() {
            let _ = writeln!(out, "\n### Output\n```\n{}\n```", output.trim_end());
        }
        out
    }
}

/// Jobs as a table, newest first, with the call that shows one.
pub(crate) fn list_markdown(jobs: &[JobRecord]) -> String {
    if jobs.is_empty() {
        return "No jobs.\n".to_owned();
    }
    let mut out = format!(
        "## {} job{}\n\n| job_id | tool | status | started | progress |\n|---|---|---|---|---|\n",
        jobs.len(),
        if jobs.len() == 1 { "" } else { "s" }
    );
    for j in jobs {
        let progress = j
            .progress
            .as_ref()
            .map(|p| format!("{}{}", p.current, p.total.map(|t| format!("/{t}")).unwrap_or_default()))
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "| `{}` | `{}` | {} | {} | {progress} |",
            j.job_id,
            j.tool,
            j.status.as_str(),
            j.started_at
        );
    }
    out.push_str("\nOne job's result: `job_status {\"job_id\": \"…\"}`.\n");
    out
}
