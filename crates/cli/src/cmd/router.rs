//! `pipette tools`, `pipette call` and `pipette jobs`: the registry and any tool, through the router.

use std::fmt::Write as _;

use serde_json::{Value, json};

use crate::face::{Face, args};

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

/// The first sentence of a description, on one line (never cut inside a word).
fn first_sentence(description: &str) -> String {
    let joined = description.split_whitespace().collect::<Vec<_>>().join(" ");
    match joined.find(". ") {
        Some(end) => joined[..=end].to_owned(),
        None => joined,
    }
}

/// Prints the tool table, its columns as wide as their widest cell.
pub(crate) fn tools(face: &Face) -> anyhow::Result<()> {
    let rows: Vec<[String; 5]> = face
        .router()
        .registry()
        .tools()
        .iter()
        .map(|t| {
            let d = t.descriptor;
            [
                d.name.to_owned(),
                d.category.as_str().to_owned(),
                d.runtime.as_str().to_owned(),
                format!("{}s", d.timeout_seconds),
                first_sentence(d.description),
            ]
        })
        .collect();
    let value: Vec<Value> = rows
        .iter()
        .zip(face.router().registry().tools())
        .map(|(r, t)| {
            json!({ "name": r[0], "category": r[1], "runtime": r[2],
                    "timeout_seconds": t.descriptor.timeout_seconds, "description": r[4] })
        })
        .collect();
    let header = ["NAME", "CATEGORY", "RUNTIME", "TIMEOUT", "DESCRIPTION"].map(str::to_owned);
    let width = |i: usize| rows.iter().chain([&header]).map(|r| r[i].chars().count()).max().unwrap_or(0);
    let (w0, w1, w2, w3) = (width(0), width(1), width(2), width(3));
    let mut text = String::new();
    for r in [&header].into_iter().chain(&rows) {
        let _ = writeln!(text, "{:<w0$}  {:<w1$}  {:<w2$}  {:>w3$}  {}", r[0], r[1], r[2], r[3], r[4]);
    }
    face.print(&Value::Array(value), text)
}

/// `pipette call TOOL ARGS`.
pub(crate) async fn call(face: &Face, tool: &str, arguments: &str) -> anyhow::Result<()> {
    let arguments: Value = if arguments.trim().is_empty() {
        json!({})
    } else {
        serde_json::from_str(arguments)
            .map_err(|e| anyhow::anyhow!("the arguments are not valid JSON: {e}"))?
    };
    face.run(tool, arguments).await?;
    Ok(())
}

/// `pipette jobs …`, through the job tools.
pub(crate) async fn jobs(face: &Face, cmd: JobsCmd) -> anyhow::Result<()> {
    let (tool, arguments) = match cmd {
        JobsCmd::List { status, tool, limit } => {
            ("job_list", json!({ "status": status, "tool": tool, "limit": limit }))
        }
        JobsCmd::Status { job_id } => ("job_status", json!({ "job_id": job_id })),
        JobsCmd::Cancel { job_id } => ("job_cancel", json!({ "job_id": job_id })),
        JobsCmd::Resume { job_id } => ("job_resume", json!({ "job_id": job_id })),
    };
    face.run(tool, args(arguments)).await?;
    Ok(())
}
