//! Metrics export: the Prometheus recorder the binaries install, and a JSON view of what it holds.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use serde::Serialize;

/// The installed exporter. Cheap to clone.
#[derive(Clone)]
pub struct MetricsExporter {
    handle: std::sync::Arc<OnceLock<PrometheusHandle>>,
    wake: std::sync::mpsc::SyncSender<()>,
    ready: std::sync::Arc<std::sync::Mutex<Ready>>,
}

/// What runs once the recorder is built (before the first scrape), or whether it has run.
enum Ready {
    Waiting(Vec<Box<dyn FnOnce() + Send>>),
    Done,
}

impl std::fmt::Debug for MetricsExporter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MetricsExporter")
    }
}

static INSTALLED: OnceLock<Result<MetricsExporter, String>> = OnceLock::new();

/// The process-wide recorder, installed at once; the Prometheus recorder behind it is built on the metrics
/// thread a moment after start-up (or at once when a metric needs it), because building it calibrates
/// `quanta`'s clock (a busy loop of 0.5 ms up to 200 ms on a noisy machine) and start-up should neither wait
/// for it nor share the CPU with it. A metric recorded before the recorder is built waits for it: nothing is
/// lost.
struct Deferred {
    recorder: std::sync::Arc<OnceLock<metrics_exporter_prometheus::PrometheusRecorder>>,
    wake: std::sync::mpsc::SyncSender<()>,
}

/// How long after start-up the recorder is built when no metric asks for it sooner.
const BUILD_AFTER: std::time::Duration = std::time::Duration::from_millis(250);

impl Deferred {
    fn get(&self) -> &metrics_exporter_prometheus::PrometheusRecorder {
        wait_for(&self.recorder, &self.wake)
    }
}

/// The value once set, asking the metrics thread to build it now.
fn wait_for<'a, T>(cell: &'a OnceLock<T>, wake: &std::sync::mpsc::SyncSender<()>) -> &'a T {
    if let Some(v) = cell.get() {
        return v;
    }
    let _ = wake.try_send(());
    cell.wait()
}

impl metrics::Recorder for Deferred {
    fn describe_counter(
        &self,
        key: metrics::KeyName,
        unit: Option<metrics::Unit>,
        text: metrics::SharedString,
    ) {
        self.get().describe_counter(key, unit, text);
    }
    fn describe_gauge(
        &self,
        key: metrics::KeyName,
        unit: Option<metrics::Unit>,
        text: metrics::SharedString,
    ) {
        self.get().describe_gauge(key, unit, text);
    }
    fn describe_histogram(
        &self,
        key: metrics::KeyName,
        unit: Option<metrics::Unit>,
        text: metrics::SharedString,
    ) {
        self.get().describe_histogram(key, unit, text);
    }
    fn register_counter(&self, key: &metrics::Key, metadata: &metrics::Metadata<'_>) -> metrics::Counter {
        self.get().register_counter(key, metadata)
    }
    fn register_gauge(&self, key: &metrics::Key, metadata: &metrics::Metadata<'_>) -> metrics::Gauge {
        self.get().register_gauge(key, metadata)
    }
    fn register_histogram(&self, key: &metrics::Key, metadata: &metrics::Metadata<'_>) -> metrics::Histogram {
        self.get().register_histogram(key, metadata)
    }
}

impl MetricsExporter {
    /// Installs the process-wide Prometheus recorder once; later calls return the same exporter. The
    /// recorder is built, described and kept up (histograms drained every 5 s) on its own thread.
    pub fn install() -> Result<MetricsExporter, String> {
        INSTALLED.get_or_init(install).clone()
    }

    fn handle(&self) -> &PrometheusHandle {
        wait_for(&self.handle, &self.wake)
    }

    /// Runs `f` once the recorder is built, on the metrics thread and before the first scrape is answered
    /// (at once, on this thread, when it is built already): for the series that should exist from the start.
    pub fn when_ready(&self, f: impl FnOnce() + Send + 'static) {
        let mut ready = self.ready.lock().unwrap_or_else(|p| p.into_inner());
        match &mut *ready {
            Ready::Waiting(hooks) => hooks.push(Box::new(f)),
            Ready::Done => {
                drop(ready);
                f();
            }
        }
    }

    /// Whether the recorder is built (reading before it is would wait for it to be built).
    pub(crate) fn is_ready(&self) -> bool {
        self.handle.get().is_some()
    }

    /// The Prometheus text exposition.
    pub fn prometheus_text(&self) -> String {
        let handle = self.handle();
        handle.run_upkeep();
        handle.render()
    }

    /// The same metrics as JSON: metric name → series.
    pub fn json(&self) -> BTreeMap<String, Vec<Series>> {
        parse_exposition(&self.prometheus_text())
    }
}

fn install() -> Result<MetricsExporter, String> {
    let builder = PrometheusBuilder::new().set_quantiles(&[0.5, 0.95, 0.99]).map_err(|e| e.to_string())?;
    let recorder = std::sync::Arc::new(OnceLock::new());
    let (wake, needed) = std::sync::mpsc::sync_channel(1);
    let handle = std::sync::Arc::new(OnceLock::new());
    let ready = std::sync::Arc::new(std::sync::Mutex::new(Ready::Waiting(Vec::new())));
    let exporter = MetricsExporter { handle: handle.clone(), wake, ready: ready.clone() };
    // Installed only once its builder runs: a recorder whose builder never starts would make every metric wait
    // forever.
    let deferred = Deferred { recorder: recorder.clone(), wake: exporter.wake.clone() };
    let build = move || {
        let _ = needed.recv_timeout(BUILD_AFTER);
        let built = builder.build_recorder();
        let upkeep = built.handle();
        let _ = recorder.set(built);
        describe();
        let hooks =
            match std::mem::replace(&mut *ready.lock().unwrap_or_else(|p| p.into_inner()), Ready::Done) {
                Ready::Waiting(hooks) => hooks,
                Ready::Done => Vec::new(),
            };
        for hook in hooks {
            hook();
        }
        let _ = handle.set(upkeep.clone());
        // Histograms keep their samples until upkeep drains them: without it memory grows with every call.
        loop {
            std::thread::sleep(std::time::Duration::from_secs(5));
            upkeep.run_upkeep();
        }
    };
    if let Err(e) = std::thread::Builder::new().name("pipette-metrics".into()).spawn(build) {
        return Err(format!("cannot start the metrics thread: {e}"));
    }
    metrics::set_global_recorder(deferred)
        .map_err(|e| format!("cannot install the metrics recorder: {e}"))?;
    Ok(exporter)
}

/// One series: its labels and value, or for a summary its count, sum and quantiles.
#[derive(Debug, Clone, Default, Serialize, schemars::JsonSchema)]
pub struct Series {
    /// The labels.
    pub labels: BTreeMap<String, String>,
    /// Counter or gauge value.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<f64>,
    /// Observations (summaries).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub count: Option<f64>,
    /// Sum of observations (summaries).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sum: Option<f64>,
    /// Quantiles by name (`p50`, `p95`, `p99`); absent for counters and gauges.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub quantiles: BTreeMap<String, f64>,
}

/// The value of `pipette_upstream_circuit_state` for each circuit state (documented in the README).
pub(crate) const CIRCUIT_STATE_HELP: &str = "Each upstream's circuit breaker, by service: 0 closed (requests flow), 1 half-open (the next request is a \
     probe), 2 open (requests fail fast)";

/// The `# HELP` text of pipette's metrics, given to the recorder once, when it is installed. Every metric the
/// crates record is listed here (`every_recorded_metric_is_described` checks).
const DESCRIPTIONS: &[(Kind, &str, &str)] = &[
    (
        Kind::Counter,
        "pipette_tool_calls_total",
        "Tool calls, by tool and category (the HTTP probes are not tool calls)",
    ),
    (Kind::Counter, "pipette_tool_errors_total", "Tool calls that failed, by tool, category and error kind"),
    (Kind::Counter, "pipette_tool_retries_total", "Retries of failed tool calls, by tool"),
    (Kind::Counter, "pipette_tool_cache_hits_total", "Tool calls answered from the result cache, by tool"),
    (Kind::Counter, "pipette_unknown_tool_calls_total", "Calls of a tool name that does not exist"),
    (Kind::Gauge, "pipette_tool_in_flight", "Tool calls running now, by tool"),
    (
        Kind::Gauge,
        "pipette_runtime_queued",
        "Calls waiting for a slot, by runtime (Async, Blocking, Process)",
    ),
    (
        Kind::Histogram,
        "pipette_tool_duration_seconds",
        "Duration of tool calls in seconds, by tool and category",
    ),
    (Kind::Histogram, "pipette_category_duration_seconds", "Duration of tool calls in seconds, by category"),
    (Kind::Histogram, "pipette_tool_queue_wait_seconds", "Seconds a call waited for a slot, by runtime"),
    (Kind::Counter, "pipette_jobs_started_total", "Calls that became background jobs"),
    (
        Kind::Counter,
        "pipette_jobs_queued_total",
        "Calls queued as jobs for a server or worker to run (detached)",
    ),
    (Kind::Counter, "pipette_jobs_claimed_total", "Queued jobs this process took to run"),
    (Kind::Gauge, "pipette_http_sessions", "Live MCP sessions over streamable HTTP"),
    (
        Kind::Counter,
        "pipette_http_sessions_evicted_total",
        "HTTP sessions closed to stay under the session cap",
    ),
    (Kind::Gauge, "pipette_http_event_buffer_bytes", "Bytes of SSE events kept for resumption"),
    (Kind::Counter, "pipette_jobs_finished_total", "Background jobs that ended, by status"),
    (
        Kind::Counter,
        "pipette_cache_lookups_total",
        "Cache lookups, by scope (tool or upstream) and outcome (hit, miss)",
    ),
    (
        Kind::Counter,
        "pipette_cache_invalidated_total",
        "Cache entries removed by invalidate_cache, by backend",
    ),
    (Kind::Counter, "pipette_cache_warm_mutations_total", "Mutations matched by warm_cache"),
    (Kind::Counter, "pipette_upstream_requests_total", "HTTP requests to an upstream, by service and status"),
    (
        Kind::Histogram,
        "pipette_upstream_request_duration_seconds",
        "Duration of upstream requests in seconds, by service",
    ),
    (Kind::Counter, "pipette_upstream_retries_total", "Retried upstream requests, by service"),
    (
        Kind::Counter,
        "pipette_upstream_hedges_total",
        "Hedged upstream requests (a second attempt beside one silent past the hedge delay), by service",
    ),
    (
        Kind::Counter,
        "pipette_upstream_abandoned_attempts_total",
        "Upstream attempts dropped unfinished (another attempt answered, or the call's deadline), by service",
    ),
    (
        Kind::Gauge,
        "pipette_upstream_limits_shared",
        "With REDIS_URL: 1 while the upstream rate limits and breakers are shared through Redis, 0 while \
         this process fell back to its own",
    ),
    (
        Kind::Gauge,
        "pipette_tool_latency_budget_seconds",
        "Each tool's latency budget in seconds (PIPETTE_ALERT_LATENCY_BUDGET_RATIO of its timeout): the \
         PipetteToolLatencyBudget alert compares the tool's p99 with it",
    ),
    (
        Kind::Gauge,
        "pipette_data_dir_used_ratio",
        "The share of the data dir's file system in use (0 to 1), read at each alert evaluation",
    ),
    (
        Kind::Histogram,
        "pipette_upstream_rate_limit_wait_seconds",
        "Seconds spent waiting for an upstream's rate limit, by service",
    ),
    (Kind::Counter, "pipette_upstream_cache_hits_total", "Upstream GETs answered from the cache, by service"),
    (Kind::Counter, "pipette_upstream_cache_misses_total", "Upstream GETs not in the cache, by service"),
    (
        Kind::Counter,
        "pipette_upstream_circuit_opened_total",
        "Times an upstream's circuit breaker opened, by service",
    ),
    (Kind::Gauge, "pipette_upstream_circuit_state", CIRCUIT_STATE_HELP),
    (
        Kind::Counter,
        "pipette_ctgov_search_pages_total",
        "Result pages fetched from ClinicalTrials.gov searches",
    ),
    (Kind::Counter, "pipette_trials_match_total", "Mutations matched to trials"),
    (Kind::Counter, "pipette_trials_match_batch_total", "Batches of mutations matched to trials"),
    (Kind::Histogram, "pipette_trials_match_candidates", "Candidate studies examined per mutation match"),
    (Kind::Gauge, "pipette_index_loaded", "Local indexes loaded in memory"),
    (Kind::Counter, "pipette_index_queries_total", "Searches of a local index, by index"),
    (Kind::Counter, "pipette_index_query_errors_total", "Searches of a local index that failed, by index"),
    (Kind::Histogram, "pipette_index_query_seconds", "Duration of local index searches in seconds, by index"),
    (Kind::Counter, "pipette_index_docs_ingested_total", "Documents added to a local index, by index"),
    (
        Kind::Counter,
        "pipette_index_docs_rejected_total",
        "Documents refused by a local index's schema, by index",
    ),
    (Kind::Histogram, "pipette_index_ingest_seconds", "Duration of ingest batches in seconds, by index"),
    (
        Kind::Counter,
        "pipette_testing_runs_total",
        "Test runner and linter runs, by runner and status (passed, no_tests, failed, error, timeout)",
    ),
    (Kind::Histogram, "pipette_testing_run_seconds", "Duration of runner runs in seconds, by runner"),
    (
        Kind::Counter,
        "pipette_testing_children_total",
        "Child processes started for tests and linters, by program",
    ),
    (Kind::Counter, "pipette_testing_timeouts_total", "Child processes killed at their timeout, by program"),
    (Kind::Histogram, "pipette_testing_child_seconds", "Duration of child processes in seconds, by program"),
];

#[derive(Clone, Copy)]
enum Kind {
    Counter,
    Gauge,
    Histogram,
}

/// How a metric is exported: `counter`, `gauge`, or `summary` (histograms are exported as summaries with the
/// quantiles 0.5, 0.95 and 0.99, plus `_sum` and `_count`).
pub fn exported_metrics() -> impl Iterator<Item = (&'static str, &'static str)> {
    DESCRIPTIONS.iter().map(|(kind, name, _)| {
        let kind = match kind {
            Kind::Counter => "counter",
            Kind::Gauge => "gauge",
            Kind::Histogram => "summary",
        };
        (*name, kind)
    })
}

/// Gives the installed recorder the `# HELP` text of every metric.
fn describe() {
    for (kind, name, help) in DESCRIPTIONS {
        match kind {
            Kind::Counter => metrics::describe_counter!(*name, *help),
            Kind::Gauge => metrics::describe_gauge!(*name, *help),
            Kind::Histogram => metrics::describe_histogram!(*name, *help),
        }
    }
}

/// Reads the exporter's text exposition back into series (summary lines are folded into one series).
fn parse_exposition(text: &str) -> BTreeMap<String, Vec<Series>> {
    let mut out: BTreeMap<String, BTreeMap<String, Series>> = BTreeMap::new();
    for line in text.lines().filter(|l| !l.starts_with('#') && !l.trim().is_empty()) {
        let Some((head, value)) = line.rsplit_once(' ') else { continue };
        let Ok(value) = value.parse::<f64>() else { continue };
        let (name, label_text) = match head.split_once('{') {
            Some((n, rest)) => (n, rest.trim_end_matches('}')),
            None => (head, ""),
        };
        let mut labels = BTreeMap::new();
        for pair in split_labels(label_text) {
            if let Some((k, v)) = pair.split_once('=') {
                labels.insert(k.to_owned(), v.trim_matches('"').replace("\\\"", "\"").replace("\\\\", "\\"));
            }
        }
        let quantile = labels.remove("quantile");
        let (base, field) = if let Some(b) = name.strip_suffix("_count") {
            (b, "count")
        } else if let Some(b) = name.strip_suffix("_sum") {
            (b, "sum")
        } else {
            (name, "value")
        };
        let key = serde_json::to_string(&labels).unwrap_or_default();
        let series = out
            .entry(base.to_owned())
            .or_default()
            .entry(key)
            .or_insert_with(|| Series { labels: labels.clone(), ..Series::default() });
        match (field, quantile) {
            ("count", _) => series.count = Some(value),
            ("sum", _) => series.sum = Some(value),
            (_, Some(q)) => {
                let pct = q.parse::<f64>().map(|q| format!("p{}", (q * 100.0).round())).unwrap_or(q);
                series.quantiles.insert(pct, value);
            }
            _ => series.value = Some(value),
        }
    }
    out.into_iter().map(|(k, v)| (k, v.into_values().collect())).collect()
}

/// Splits `a="x",b="y,z"` on the commas outside quotes.
fn split_labels(s: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let (mut start, mut quoted, mut escaped) = (0, false, false);
    for (i, c) in s.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' => escaped = true,
            '"' => quoted = !quoted,
            ',' if !quoted => {
                parts.push(&s[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    if start < s.len() {
        parts.push(&s[start..]);
    }
    parts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_exposition_reads_back_into_series() {
        let text = "# TYPE pipette_tool_calls_total counter\n\
            pipette_tool_calls_total{tool=\"health\",category=\"ops\"} 3\n\
            # TYPE pipette_tool_duration_seconds summary\n\
            pipette_tool_duration_seconds{tool=\"health\",category=\"ops\",quantile=\"0.5\"} 0.001\n\
            pipette_tool_duration_seconds{tool=\"health\",category=\"ops\",quantile=\"0.99\"} 0.004\n\
            pipette_tool_duration_seconds_sum{tool=\"health\",category=\"ops\"} 0.006\n\
            pipette_tool_duration_seconds_count{tool=\"health\",category=\"ops\"} 3\n\
            pipette_plain 7\n";
        let m = parse_exposition(text);
        assert_eq!(m["pipette_tool_calls_total"][0].value, Some(3.0));
        assert_eq!(m["pipette_tool_calls_total"][0].labels["tool"], "health");
        let d = &m["pipette_tool_duration_seconds"][0];
        assert_eq!((d.count, d.sum), (Some(3.0), Some(0.006)));
        assert_eq!(d.quantiles["p50"], 0.001);
        assert_eq!(d.quantiles["p99"], 0.004);
        assert_eq!(m["pipette_plain"][0].value, Some(7.0));
        assert_eq!(split_labels("a=\"x,y\",b=\"z\""), vec!["a=\"x,y\"", "b=\"z\""]);
    }

    /// Every `pipette_*` metric named in the workspace's sources has a description, and only those do.
    #[test]
    fn every_recorded_metric_is_described() {
        let crates = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let mut recorded = std::collections::BTreeSet::new();
        let mut stack = vec![crates];
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(&dir).expect("read dir").flatten() {
                let path = entry.path();
                let name = entry.file_name().to_string_lossy().into_owned();
                if path.is_dir() && !matches!(name.as_str(), "target" | "fixtures" | "tests" | "testdata") {
                    stack.push(path);
                } else if name.ends_with(".rs") && name != "telemetry.rs" {
                    let text = std::fs::read_to_string(&path).expect("read");
                    for (i, _) in text.match_indices("metrics::") {
                        let rest = &text[i..];
                        let Some(open) = rest.find("!(") else { continue };
                        let macro_name = &rest["metrics::".len()..open];
                        if !matches!(macro_name, "counter" | "gauge" | "histogram") {
                            continue;
                        }
                        let args = rest[open + 2..].trim_start();
                        if let Some(quoted) = args.strip_prefix('"') {
                            let metric = quoted.split('"').next().unwrap_or_default();
                            if metric.starts_with("pipette_") {
                                recorded.insert(metric.to_owned());
                            }
                        }
                    }
                }
            }
        }
        let described: std::collections::BTreeSet<String> =
            DESCRIPTIONS.iter().map(|(_, name, _)| (*name).to_owned()).collect();
        assert!(recorded.len() > 30, "{recorded:?}");
        assert_eq!(recorded, described);
    }
}
