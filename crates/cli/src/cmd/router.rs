//! `pipette tools`, `pipette call` and `pipette jobs`: the same registry and router as the MCP server, in-process.

use std::fmt::Write as _;

use mcp_tools::{CallOptions, CallOutcome, Router};
use tokio::sync::mpsc;

use crate::output::Output;

/// `pipette jobs …`
#[derive(clap::Subcommand, Debug)]
pub(crate) enum JobsCmd {
    /// Background jobs, newest first.
    List {
        /// Only this status (queued, running, completed, failed, cancelled, interrupted).
        #[arg(long)]
        status: Option<String>,
        /// Only this tool.
        #[arg(long)]
        tool: Option<String>,
        /// At most this many.
        #[arg(long, default_value_t = 50)]
        limit: usize,
    },
    /// One job: progress, result or error, output.
    Status {
        /// The job id.
        job_id: String,
    },
    /// Cancels a queued or running job, in whichever process on this data dir runs it.
    Cancel {
        /// The job id.
        job_id: String,
    },
    /// Queues an interrupted job again (a batch: only what it had not finished) for a running
    /// `pipette-mcp` or `pipette worker`.
    Resume {
        /// The job id.
        job_id: String,
    },
}

/// Prints the tool table.
pub(crate) fn tools(router: &Router, out: &Output) -> anyhow::Result<()> {
    let rows: Vec<serde_json::Value> = router
        .registry()
        .tools()
        .iter()
        .map(|t| {
            let d = t.descriptor;
            serde_json::json!({
                "name": d.name, "category": d.category.as_str(), "runtime": d.runtime.as_str(),
                "timeout_seconds": d.timeout_seconds, "description": d.description.lines().next().unwrap_or(""),
            })
        })
        .collect();
    out.emit(&rows, || {
        let mut s = format!(
            "{:<24} {:<10} {:<9} {:>8}  {}\n",
            "NAME", "CATEGORY", "RUNTIME", "TIMEOUT", "DESCRIPTION"
        );
        for r in &rows {
            let _ = writeln!(
                s,
                "{:<24} {:<10} {:<9} {:>7}s  {}",
                r["name"].as_str().unwrap_or(""),
                r["category"].as_str().unwrap_or(""),
                r["runtime"].as_str().unwrap_or(""),
                r["timeout_seconds"],
                r["description"].as_str().unwrap_or("")
            );
        }
        s
    })
}

/// Calls a tool through the router, waiting for it, with a progress bar and Ctrl-C cancelling it.
pub(crate) async fn call(router: &Router, tool: &str, args: &str, out: &Output) -> anyhow::Result<()> {
    let args: serde_json::Value = if args.trim().is_empty() {
        serde_json::json!({})
    } else {
        serde_json::from_str(args).map_err(|e| anyhow::anyhow!("the arguments are not valid JSON: {e}"))?
    };
    let mut value = call_value(router, tool, args, out).await?;
    let text = mcp_tools::render_text(&value);
    if let Some(object) = value.as_object_mut() {
        object.remove(mcp_tools::MARKDOWN_KEY);
    }
    out.emit(&value, || text)
}

/// Queues a call as a job for a running server or worker and prints its ticket.
pub(crate) fn detach(router: &Router, tool: &str, args: &str, out: &Output) -> anyhow::Result<()> {
    let args: serde_json::Value = if args.trim().is_empty() {
        serde_json::json!({})
    } else {
        serde_json::from_str(args).map_err(|e| anyhow::anyhow!("the arguments are not valid JSON: {e}"))?
    };
    let ticket =
        router.detach(tool, args).map_err(|e| anyhow::anyhow!("{} error: {}", e.kind.as_str(), e.message))?;
    let value = serde_json::to_value(&ticket)?;
    out.emit(&value, || format!("{}\n{}\n", ticket.job_id, ticket.hint))
}

pub(crate) async fn call_value(
    router: &Router,
    tool: &str,
    args: serde_json::Value,
    out: &Output,
) -> anyhow::Result<serde_json::Value> {
    let bar = out.progress(None, tool);
    let report = bar.callback();
    let (tx, mut rx) = mpsc::unbounded_channel();
    let cancel = tokio_util::sync::CancellationToken::new();
    let options = CallOptions {
        progress: Some(tx),
        cancel: cancel.clone(),
        inline_ms: Some(u64::MAX / 4),
        client: None,
    };
    let call = router.call(tool, args, options);
    tokio::pin!(call);
    let result = loop {
        tokio::select! {
            r = &mut call => break r,
            Some(p) = rx.recv() => report(p.current, p.total, p.message.as_deref().unwrap_or("")),
            _ = tokio::signal::ctrl_c() => cancel.cancel(),
        }
    };
    bar.finish();
    match result {
        Ok(CallOutcome::Done(v)) => Ok(v),
        Ok(job @ CallOutcome::Job(_)) => Ok(job.into_value()),
        Err(e) => Err(anyhow::anyhow!("{} error: {}", e.kind.as_str(), e.message)),
    }
}

/// `pipette jobs …`, through the job tools.
pub(crate) async fn jobs(router: &Router, cmd: JobsCmd, out: &Output) -> anyhow::Result<()> {
    let (tool, args) = match cmd {
        JobsCmd::List { status, tool, limit } => {
            ("job_list", serde_json::json!({ "status": status, "tool": tool, "limit": limit }))
        }
        JobsCmd::Status { job_id } => ("job_status", serde_json::json!({ "job_id": job_id })),
        JobsCmd::Cancel { job_id } => ("job_cancel", serde_json::json!({ "job_id": job_id })),
        JobsCmd::Resume { job_id } => ("job_resume", serde_json::json!({ "job_id": job_id })),
    };
    let value = call_value(router, tool, args, out).await?;
    out.emit(&value, || {
        let Some(list) = value.get("jobs").and_then(|j| j.as_array()) else {
            return serde_json::to_string_pretty(&value).unwrap_or_default();
        };
        let mut s = format!("{:<32} {:<20} {:<12} {}\n", "JOB", "TOOL", "STATUS", "STARTED");
        for j in list {
            let _ = writeln!(
                s,
                "{:<32} {:<20} {:<12} {}",
                j["job_id"].as_str().unwrap_or(""),
                j["tool"].as_str().unwrap_or(""),
                j["status"].as_str().unwrap_or(""),
                j["started_at"].as_str().unwrap_or("")
            );
        }
        s
    })
}
