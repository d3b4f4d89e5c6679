//! Alerts with degradation detection: rules evaluated in-process, every few seconds, over the metrics pipette
//! records (tools, upstreams, jobs), the upstreams' circuits and the data dir's disk.
//!
//! The engine keeps a ring of compact samples of the exporter's counters (the last hour, for windowed rates
//! and for the status page's charts); each tick it samples, evaluates the rules (`rules.rs`), and logs an
//! alert that fires or clears at `warning` (so MCP sessions that set a log level get a
//! `notifications/message`). `board.rs` is the status page's view of the same state.

mod board;
mod config;
mod rules;

use std::collections::{BTreeMap, VecDeque};
use std::path::PathBuf;
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use serde::Serialize;

pub use board::{Board, CacheRow, IndexRow, JobRow, Point, ToolRow, UpstreamRow};
pub use config::AlertConfig;

use crate::{JobManager, MetricsExporter, Registry};
use rules::Sample;

/// How bad an alert is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Something degrades: look when you can.
    Warning,
    /// pipette cannot do part of its work (`health` says `degraded` while one is active).
    Critical,
}

impl Severity {
    /// `warning` or `critical`.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Warning => "warning",
            Severity::Critical => "critical",
        }
    }
}

/// One active alert.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct Alert {
    /// The rule's name (the same as the Prometheus rule's `alert`), e.g. `PipetteCircuitOpen`.
    pub name: String,
    /// `warning` or `critical`.
    pub severity: Severity,
    /// What it is about: `tool` or `upstream`, when the rule is per tool or per upstream.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
    /// When it fired (RFC 3339).
    pub started_at: String,
    /// What is wrong, in words.
    pub cause: String,
    /// What to do or look at.
    pub hint: String,
}

/// The alerts now, for the `alerts` tool.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct AlertList {
    /// The active alerts, critical first.
    pub alerts: Vec<Alert>,
    /// When the rules were last evaluated (RFC 3339; absent before the first evaluation).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evaluated_at: Option<String>,
    /// How often the rules are evaluated, in milliseconds (`PIPETTE_ALERT_INTERVAL_MS`).
    pub interval_ms: u64,
}

/// A rule's verdict before it becomes an [`Alert`] (the engine adds the start time).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Firing {
    pub(crate) name: &'static str,
    pub(crate) severity: Severity,
    pub(crate) labels: BTreeMap<String, String>,
    pub(crate) cause: String,
    pub(crate) hint: String,
}

impl Firing {
    fn key(&self) -> (String, BTreeMap<String, String>) {
        (self.name.to_owned(), self.labels.clone())
    }
}

/// The last error an upstream answered, as the samples saw it.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct LastError {
    /// When it was seen (RFC 3339, to the evaluation interval).
    pub at: String,
    /// The HTTP status, or the failure's kind (`timeout`, `connect`…).
    pub status: String,
}

#[derive(Default)]
struct State {
    ring: VecDeque<Sample>,
    active: BTreeMap<(String, BTreeMap<String, String>), Alert>,
    last_errors: BTreeMap<String, LastError>,
    evaluated_at: Option<String>,
}

/// The alerts engine: shared through the router's services (`alerts` tool, `health`, `/status`).
pub struct Alerts {
    config: AlertConfig,
    exporter: Option<MetricsExporter>,
    upstreams: Arc<core_scrapers::http::Upstreams>,
    registry: Arc<Registry>,
    jobs: Arc<JobManager>,
    indexes: Arc<core_indexing::IndexManager>,
    data_dir: PathBuf,
    state: Mutex<State>,
}

/// The services the engine reads.
pub(crate) struct Sources {
    pub(crate) exporter: Option<MetricsExporter>,
    pub(crate) upstreams: Arc<core_scrapers::http::Upstreams>,
    pub(crate) registry: Arc<Registry>,
    pub(crate) jobs: Arc<JobManager>,
    pub(crate) indexes: Arc<core_indexing::IndexManager>,
    pub(crate) data_dir: PathBuf,
}

impl std::fmt::Debug for Alerts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Alerts").field("interval", &self.config.interval).finish_non_exhaustive()
    }
}

/// The ring keeps this much history (the status page's charts), and at least the longest rule window.
const HISTORY: Duration = Duration::from_secs(3600);
/// And never more than this many samples (a short interval keeps a shorter history).
const MAX_SAMPLES: usize = 1440;

impl Alerts {
    /// An engine over these services; nothing runs until [`Alerts::start`].
    pub(crate) fn new(config: AlertConfig, sources: Sources) -> Alerts {
        let Sources { exporter, upstreams, registry, jobs, indexes, data_dir } = sources;
        Alerts { config, exporter, upstreams, registry, jobs, indexes, data_dir, state: Mutex::default() }
    }

    /// Evaluates the rules every interval, on the current runtime, for as long as the engine lives.
    pub(crate) fn start(self: &Arc<Self>) {
        let engine: Weak<Alerts> = Arc::downgrade(self);
        let interval = self.config.interval;
        tokio::spawn(async move {
            loop {
                // The first evaluation one interval after start-up: start-up neither waits for it nor shares
                // the CPU with it (counters start at zero, so nothing is missed).
                tokio::time::sleep(interval).await;
                let Some(alerts) = engine.upgrade() else { return };
                alerts.tick();
            }
        });
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// One evaluation: a sample, the rules, the alerts that fired and cleared (logged at `warning`).
    fn tick(&self) {
        // Until the recorder is built (a moment after start-up) nothing was recorded: reading would only make
        // this thread wait for the build.
        let ready = self.exporter.as_ref().is_some_and(MetricsExporter::is_ready);
        let disk = fs4::statvfs(&self.data_dir)
            .ok()
            .and_then(|s| disk_used(s.total_space(), s.free_space(), s.available_space()));
        if let (true, Some(used)) = (ready, disk) {
            metrics::gauge!("pipette_data_dir_used_ratio").set(used);
        }
        let metrics = match &self.exporter {
            Some(e) if ready => e.json(),
            _ => BTreeMap::new(),
        };
        let sample = Sample::read(&metrics, Instant::now());
        let circuits = self.upstreams.circuits();
        let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        let mut st = self.state();
        let errors = sample.new_upstream_errors(st.ring.back().unwrap_or(&Sample::default()));
        for (service, status) in errors {
            st.last_errors.insert(service, LastError { at: now.clone(), status });
        }
        st.ring.push_back(sample);
        let newest = st.ring.back().map(|s| s.at).unwrap_or_else(Instant::now);
        let keep = HISTORY.max(self.config.jobs_window);
        while st.ring.len() > MAX_SAMPLES
            || st.ring.front().is_some_and(|s| newest.duration_since(s.at) > keep + self.config.interval)
        {
            st.ring.pop_front();
        }
        let budget =
            |tool: &str| self.registry.get(tool).map(|t| self.latency_budget(t.descriptor.timeout_seconds));
        let firing = rules::evaluate(&self.config, &st.ring, &circuits, disk, &budget);
        let mut next = BTreeMap::new();
        for f in firing {
            let key = f.key();
            let alert = match st.active.remove(&key) {
                Some(mut a) => {
                    a.severity = f.severity;
                    a.cause = f.cause;
                    a.hint = f.hint;
                    a
                }
                None => {
                    let labels = labels_text(&f.labels);
                    tracing::warn!(
                        alert = f.name,
                        severity = f.severity.as_str(),
                        labels,
                        cause = %f.cause,
                        hint = %f.hint,
                        "alert firing: {}{}: {}",
                        f.name,
                        if labels.is_empty() { String::new() } else { format!(" ({labels})") },
                        f.cause
                    );
                    Alert {
                        name: f.name.to_owned(),
                        severity: f.severity,
                        labels: f.labels,
                        started_at: now.clone(),
                        cause: f.cause,
                        hint: f.hint,
                    }
                }
            };
            next.insert(key, alert);
        }
        for gone in std::mem::replace(&mut st.active, next).into_values() {
            let labels = labels_text(&gone.labels);
            tracing::warn!(
                alert = %gone.name,
                severity = gone.severity.as_str(),
                labels,
                started_at = %gone.started_at,
                "alert cleared: {}{}",
                gone.name,
                if labels.is_empty() { String::new() } else { format!(" ({labels})") },
            );
        }
        st.evaluated_at = Some(now);
    }

    /// Records every tool's latency budget (`pipette_tool_latency_budget_seconds{tool}`), for Prometheus rules
    /// to compare a p99 with.
    pub(crate) fn export_budgets(&self) {
        for t in self.registry.tools() {
            let budget = self.latency_budget(t.descriptor.timeout_seconds);
            metrics::gauge!("pipette_tool_latency_budget_seconds", "tool" => t.descriptor.name).set(budget);
        }
    }

    /// A tool's latency budget in seconds: `PIPETTE_ALERT_LATENCY_BUDGET_RATIO` of its declared timeout.
    fn latency_budget(&self, timeout_seconds: u64) -> f64 {
        timeout_seconds as f64 * self.config.latency_budget_ratio
    }

    /// The active alerts, critical first, then by name.
    pub fn list(&self) -> AlertList {
        let st = self.state();
        let mut alerts: Vec<Alert> = st.active.values().cloned().collect();
        alerts.sort_by(|a, b| b.severity.cmp(&a.severity).then_with(|| a.name.cmp(&b.name)));
        AlertList {
            alerts,
            evaluated_at: st.evaluated_at.clone(),
            interval_ms: u64::try_from(self.config.interval.as_millis()).unwrap_or(u64::MAX),
        }
    }

    /// The active critical alerts (for `health`).
    pub(crate) fn critical(&self) -> Vec<Alert> {
        self.list().alerts.into_iter().filter(|a| a.severity == Severity::Critical).collect()
    }
}

impl crate::format::CarriesMarkdown for AlertList {
    fn markdown(&self) -> String {
        let every = format!("every {} s", self.interval_ms as f64 / 1000.0);
        let Some(at) = &self.evaluated_at else {
            return format!(
                "Not evaluated yet: the rules run {every}, the first time one interval after start-up."
            );
        };
        if self.alerts.is_empty() {
            return format!("No active alerts (evaluated at {at}, {every}).");
        }
        let mut out = format!(
            "**{} active alert{}** (evaluated at {at}, {every}):\n",
            self.alerts.len(),
            if self.alerts.len() == 1 { "" } else { "s" }
        );
        for a in &self.alerts {
            let labels = labels_text(&a.labels);
            let labels = if labels.is_empty() { String::new() } else { format!(" ({labels})") };
            out.push_str(&format!(
                "- **{}** {}{labels} since {}: {}. Hint: {}.\n",
                a.severity.as_str(),
                a.name,
                a.started_at,
                a.cause,
                a.hint
            ));
        }
        out
    }
}

/// `tool=x, upstream=y`.
fn labels_text(labels: &BTreeMap<String, String>) -> String {
    labels.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(", ")
}

/// The share of a file system in use as `df` computes it: used / (used + available to unprivileged users), where
/// used = total - free. Blocks reserved for root (or held back by the host) count neither way, so a disk that
/// `df` shows 80 % full reads 0.8 here, not the 0.9 that `1 - available / total` would say.
fn disk_used(total: u64, free: u64, available: u64) -> Option<f64> {
    let used = total.saturating_sub(free);
    let usable = used.checked_add(available).filter(|u| *u > 0)?;
    Some(used as f64 / usable as f64)
}

#[cfg(test)]
mod tests {
    #[test]
    fn disk_use_is_what_df_shows() {
        // A disk of 252 GB: 73 GB used, 179 GB free of which 19 GB available to users (`df`: 80 %).
        let gb = 1_000_000_000;
        let used = super::disk_used(252 * gb, 179 * gb, 19 * gb).expect("known");
        assert!((used - 73.0 / 92.0).abs() < 1e-9, "{used}");
        assert_eq!(super::disk_used(0, 0, 0), None);
        assert_eq!(super::disk_used(100, 0, 0), Some(1.0));
    }
}
