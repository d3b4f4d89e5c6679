//! How every command reaches a tool and shows its answer: one router call (waiting with a progress bar,
//! following the job it became, or queued with `--detach`), printed as the tool's own markdown — the text MCP
//! clients read — or, with `--json`, as the structured result.

use futures::StreamExt;
use std::io::{IsTerminal as _, Write as _};
use std::time::Duration;

use mcp_tools::{CallOptions, CallOutcome, JobStatus, Router, ToolError};
use serde_json::Value;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

/// A failure whose message already says everything (a test run that did not pass, a command whose every
/// document was rejected): printed as it is, without another `error:` in front.
#[derive(Debug)]
pub(crate) struct Failed(pub(crate) String);

impl std::fmt::Display for Failed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Failed {}

/// The router and the global output flags.
pub(crate) struct Face {
    router: Router,
    json: bool,
    detach: bool,
}

/// The CLI command for each tool a message may name (errors and hints speak of tools; a CLI user types
/// commands).
const COMMANDS: [(&str, &str); 27] = [
    ("index_create", "pipette index create"),
    ("index_add", "pipette index add"),
    ("index_search", "pipette index search"),
    ("index_get", "pipette index get"),
    ("index_delete", "pipette index delete"),
    ("index_status", "pipette index status"),
    ("index_list", "pipette index list"),
    ("index_optimize", "pipette index optimize"),
    ("index_reshard", "pipette index reshard"),
    ("index_config_get", "pipette index config"),
    ("index_config_update", "pipette index config"),
    ("index_metrics", "pipette index metrics"),
    ("index_drop", "pipette index drop"),
    ("job_status", "pipette jobs status"),
    ("job_list", "pipette jobs list"),
    ("job_cancel", "pipette jobs cancel"),
    ("job_resume", "pipette jobs resume"),
    ("pubmed_search", "pipette pubmed search"),
    ("pubmed_fetch", "pipette pubmed fetch"),
    ("trials_search", "pipette trials search"),
    ("trial_get", "pipette trials get"),
    ("trials_match", "pipette trials match"),
    ("trials_match_batch", "pipette trials match-batch"),
    ("discover_biomolecules", "pipette molecules discover"),
    ("protein_get", "pipette molecules protein"),
    ("test_run", "pipette test run"),
    ("lint_run", "pipette test lint"),
];

/// `text` with every tool name that has a CLI command replaced by that command (whole words only).
pub(crate) fn cli_words(text: &str) -> String {
    let word = |c: char| c.is_ascii_alphanumeric() || c == '_';
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find(|c: char| c.is_ascii_lowercase()) {
        let (before, from) = rest.split_at(start);
        out.push_str(before);
        let end = from.find(|c: char| !word(c)).unwrap_or(from.len());
        let (token, after) = from.split_at(end);
        let boundary = !out.ends_with(word);
        match COMMANDS.iter().find(|(tool, _)| *tool == token).filter(|_| boundary) {
            Some((_, command)) => out.push_str(command),
            None => out.push_str(token),
        }
        rest = after;
    }
    out.push_str(rest);
    out
}

/// A router error as the CLI says it: the message, naming CLI commands rather than tools.
pub(crate) fn cli_error(e: ToolError) -> anyhow::Error {
    anyhow::anyhow!(cli_words(&e.message))
}

/// A progress bar on stderr (hidden when stderr is not a terminal).
fn bar(label: &str) -> indicatif::ProgressBar {
    if !std::io::stderr().is_terminal() {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new_spinner();
    let style = indicatif::ProgressStyle::with_template("{spinner} {prefix} [{bar:30}] {pos}/{len} {msg}")
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar());
    bar.set_style(style.progress_chars("=> "));
    bar.set_prefix(label.to_owned());
    bar.enable_steady_tick(Duration::from_millis(120));
    bar
}

fn show_progress(bar: &indicatif::ProgressBar, current: u64, total: Option<u64>, message: Option<&str>) {
    if let Some(t) = total {
        bar.set_length(t);
    }
    bar.set_position(current);
    if let Some(m) = message.filter(|m| !m.is_empty()) {
        bar.set_message(m.to_owned());
    }
}

impl Face {
    pub(crate) fn new(router: Router, json: bool, detach: bool) -> Face {
        Face { router, json, detach }
    }

    pub(crate) fn router(&self) -> &Router {
        &self.router
    }

    /// Calls `tool` with `args` and prints its answer; answers the structured result (none when the call
    /// was queued with `--detach`).
    pub(crate) async fn run(&self, tool: &str, args: Value) -> anyhow::Result<Option<Value>> {
        if self.detach {
            let ticket = self.router.detach(tool, args).map_err(cli_error)?;
            let value = serde_json::to_value(&ticket)?;
            let text = format!(
                "queued job {} ({}): a running `pipette-mcp` or `pipette worker` on this data dir runs it; follow \
                 it with `pipette jobs status {}`\n",
                ticket.job_id, ticket.tool, ticket.job_id
            );
            self.print(&value, text)?;
            return Ok(None);
        }
        let value = self.call(tool, args).await?;
        self.print(&value, mcp_tools::render_text(&value))?;
        Ok(Some(value))
    }

    /// Prints `value` (markdown key taken out) with `--json`, else `text`.
    pub(crate) fn print(&self, value: &Value, text: String) -> anyhow::Result<()> {
        let mut out = std::io::stdout().lock();
        if self.json {
            let mut value = value.clone();
            if let Some(object) = value.as_object_mut() {
                object.remove(mcp_tools::MARKDOWN_KEY);
            }
            serde_json::to_writer_pretty(&mut out, &value)?;
            writeln!(out)?;
        } else {
            write!(out, "{text}")?;
            if !text.ends_with('\n') {
                writeln!(out)?;
            }
        }
        Ok(())
    }

    /// Calls `tool` and waits for its result with a progress bar (Ctrl-C cancels it). A CLI call never
    /// leaves a job behind that dies with it: `async_mode: true` waits too (`--detach` queues instead),
    /// and a call that became a job anyway is followed to its end.
    pub(crate) async fn call(&self, tool: &str, mut args: Value) -> anyhow::Result<Value> {
        if let Some(o) = args.as_object_mut()
            && o.get("async_mode").is_some_and(Value::is_boolean)
        {
            o.remove("async_mode");
        }
        let bar = bar(tool);
        let (tx, mut rx) = mpsc::unbounded_channel();
        let cancel = CancellationToken::new();
        let options = CallOptions {
            progress: Some(tx),
            cancel: cancel.clone(),
            inline_ms: Some(u64::MAX / 4),
            client: None,
        };
        let call = self.router.call(tool, args, options);
        tokio::pin!(call);
        let result = loop {
            tokio::select! {
                r = &mut call => break r,
                Some(p) = rx.recv() => show_progress(&bar, p.current, p.total, p.message.as_deref()),
                _ = tokio::signal::ctrl_c() => cancel.cancel(),
            }
        };
        let value = match result {
            Ok(CallOutcome::Done(v)) => Ok(v),
            Ok(CallOutcome::Job(ticket)) => self.follow(&ticket.job_id, &bar).await,
            Err(e) => Err(cli_error(e)),
        };
        bar.finish_and_clear();
        value
    }

    /// Follows a job to its end, showing its progress; Ctrl-C cancels it.
    async fn follow(&self, job_id: &str, bar: &indicatif::ProgressBar) -> anyhow::Result<Value> {
        let jobs = self.router.jobs();
        let me = self.router.principal();
        let watch = jobs.watch(me, job_id, mcp_tools::WATCH_FALLBACK);
        futures::pin_mut!(watch);
        loop {
            let next = tokio::select! {
                next = watch.next() => next,
                _ = tokio::signal::ctrl_c() => {
                    jobs.cancel(me, job_id).await.map_err(cli_error)?;
                    continue;
                }
            };
            let Some(record) = next else { anyhow::bail!("job {job_id}: lost track of it") };
            let record = record.map_err(cli_error)?;
            if let Some(p) = &record.progress {
                show_progress(bar, p.current, p.total, p.message.as_deref());
            }
            match record.status {
                JobStatus::Completed => return Ok(record.result.unwrap_or(Value::Null)),
                status if status.is_terminal() => {
                    let why =
                        record.error.map_or_else(|| status.as_str().to_owned(), |e| cli_words(&e.message));
                    anyhow::bail!("job {job_id} {}: {why}", status.as_str());
                }
                _ => {}
            }
        }
    }
}

/// Drops the `null` fields of an argument object (an absent flag is an absent argument).
pub(crate) fn args(value: Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(map.into_iter().filter(|(_, v)| !v.is_null()).collect()),
        other => other,
    }
}

/// A JSON argument given inline or as `@path`.
pub(crate) fn json_arg(arg: &str, flag: &str) -> anyhow::Result<Value> {
    let text = match arg.strip_prefix('@') {
        Some(path) => {
            std::fs::read_to_string(path).map_err(|e| anyhow::anyhow!("{flag}: cannot read {path}: {e}"))?
        }
        None => arg.to_owned(),
    };
    serde_json::from_str(&text).map_err(|e| anyhow::anyhow!("{flag} is not valid JSON: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tool_names_become_cli_commands_whole_words_only() {
        assert_eq!(
            cli_words("index `x` not found: create it first (index_create) or check the id with index_list"),
            "index `x` not found: create it first (pipette index create) or check the id with pipette index list"
        );
        assert_eq!(
            cli_words("my_index_create and index_createx stay"),
            "my_index_create and index_createx stay"
        );
        assert_eq!(cli_words("poll job_status."), "poll pipette jobs status.");
    }
}
