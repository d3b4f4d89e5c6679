//! The status page's data: jobs, tools (with the last hour's points), cache scopes, upstreams, indexes and
//! the active alerts, read from the engine's samples and the services directly (never a tool call).

use serde::Serialize;

use super::rules::{Sample, Window, is_upstream_error};
use super::{Alert, Alerts, LastError};
use crate::{JobStatus, Principal};

/// Charts have at most this many points.
const POINTS: usize = 60;

/// Everything `/status` shows.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Board {
    /// When it was read (RFC 3339).
    pub generated_at: String,
    /// The alert rules' evaluation interval (also the charts' sampling), in milliseconds.
    pub interval_ms: u64,
    /// Seconds of history the charts cover (up to an hour).
    pub history_seconds: u64,
    /// The active alerts, critical first.
    pub alerts: Vec<Alert>,
    /// Running and queued jobs first, then the most recent ones.
    pub jobs: Vec<JobRow>,
    /// The tools called since start-up.
    pub tools: Vec<ToolRow>,
    /// Cache lookups per scope (a tool or an upstream).
    pub cache: Vec<CacheRow>,
    /// Every upstream.
    pub upstreams: Vec<UpstreamRow>,
    /// Every index of the data dir.
    pub indexes: Vec<IndexRow>,
}

/// One job.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct JobRow {
    /// Its id.
    pub job_id: String,
    /// The tool it runs.
    pub tool: String,
    /// queued, running, completed, failed, cancelled or interrupted.
    pub status: String,
    /// When it started (RFC 3339).
    pub started_at: String,
    /// Work done and the total, when reported.
    pub current: Option<u64>,
    /// Total work, when known.
    pub total: Option<u64>,
    /// The latest progress message.
    pub message: Option<String>,
}

/// One point of a chart: what happened during one step of the history.
#[derive(Debug, Clone, Copy, Default, Serialize, schemars::JsonSchema)]
pub struct Point {
    /// Calls during the step.
    pub calls: f64,
    /// Failed calls during the step.
    pub errors: f64,
    /// The p99 latency the exporter reported at the step's end, in milliseconds (0 without calls).
    pub p99_ms: f64,
}

/// One tool.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct ToolRow {
    /// Its name.
    pub tool: String,
    /// Calls since start-up.
    pub calls: f64,
    /// Failed calls since start-up.
    pub errors: f64,
    /// Latency quantiles over the exporter's recent window, in milliseconds.
    pub p50_ms: f64,
    /// See `p50_ms`.
    pub p99_ms: f64,
    /// The last hour, oldest first.
    pub history: Vec<Point>,
}

/// One cache scope.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct CacheRow {
    /// A tool or an upstream.
    pub scope: String,
    /// Lookups answered from the cache.
    pub hits: f64,
    /// Lookups that were not.
    pub misses: f64,
    /// hits / lookups (absent before the first lookup).
    pub hit_rate: Option<f64>,
}

/// One upstream.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct UpstreamRow {
    /// pubmed, ctgov, uniprot or chembl.
    pub service: String,
    /// closed, open or half_open.
    pub circuit: String,
    /// Calls in a row that failed after their retries.
    pub consecutive_failures: u32,
    /// Requests since start-up.
    pub requests: f64,
    /// Failed requests since start-up (5xx, 429, no answer).
    pub errors: f64,
    /// Requests in the last alert window.
    pub recent_requests: f64,
    /// Requests that waited for the rate limit, and the p50 wait in milliseconds.
    pub rate_limited: f64,
    /// See `rate_limited`.
    pub rate_limit_wait_p50_ms: f64,
    /// The last failed answer seen.
    pub last_error: Option<LastError>,
}

/// One index.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct IndexRow {
    /// Its id.
    pub id: String,
    /// Live documents.
    pub docs: u64,
    /// Bytes on disk.
    pub bytes_on_disk: u64,
    /// Queries since start-up, and their latency in milliseconds.
    pub queries: f64,
    /// See `queries`.
    pub query_p50_ms: f64,
    /// See `queries`.
    pub query_p99_ms: f64,
}

/// Up to [`POINTS`] evenly spaced samples of `ring`, each with the one before it (the first with the sample
/// before the chosen span, when there is one).
fn steps(ring: &[&Sample]) -> Vec<(Option<usize>, usize)> {
    if ring.is_empty() {
        return Vec::new();
    }
    let stride = ring.len().div_ceil(POINTS).max(1);
    let picks: Vec<usize> =
        (0..ring.len()).rev().step_by(stride).collect::<Vec<_>>().into_iter().rev().collect();
    picks
        .iter()
        .enumerate()
        .map(|(i, &p)| (if i == 0 { p.checked_sub(stride) } else { Some(picks[i - 1]) }, p))
        .collect()
}

impl Alerts {
    /// The status page's data, the jobs as `principal` may see them.
    pub fn board(&self, principal: &Principal) -> Board {
        let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        let alerts = self.list().alerts;
        // Every running and queued job (up to 50 each), then the 10 most recent others.
        let list = |status| self.jobs.list(principal, status, None, 50).unwrap_or_default();
        let mut records = list(Some(JobStatus::Running));
        records.extend(list(Some(JobStatus::Queued)));
        let recent = self.jobs.list(principal, None, None, 10 + records.len()).unwrap_or_default();
        let seen: std::collections::HashSet<String> = records.iter().map(|j| j.job_id.clone()).collect();
        records.extend(recent.into_iter().filter(|j| !seen.contains(&j.job_id)).take(10));
        let jobs: Vec<JobRow> = records
            .into_iter()
            .map(|j| JobRow {
                job_id: j.job_id,
                tool: j.tool,
                status: j.status.as_str().to_owned(),
                started_at: j.started_at,
                current: j.progress.as_ref().map(|p| p.current),
                total: j.progress.as_ref().and_then(|p| p.total),
                message: j.progress.and_then(|p| p.message),
            })
            .collect();
        let indexes = self.indexes.list().map(|l| l.indexes).unwrap_or_default();
        let circuits = self.upstreams.circuits();

        let st = self.state();
        let empty = Sample::default();
        let last = st.ring.back().unwrap_or(&empty);
        let since_hour: Vec<&Sample> = {
            let w = Window::of(&st.ring, super::HISTORY);
            w.base.into_iter().chain(w.samples).collect()
        };
        let history_seconds = match (since_hour.first(), since_hour.last()) {
            (Some(a), Some(b)) => b.at.duration_since(a.at).as_secs(),
            _ => 0,
        };
        let step_pairs = steps(&since_hour);
        let tools = last
            .tools
            .iter()
            .filter(|(_, t)| t.calls > 0.0)
            .map(|(name, t)| {
                let get = |s: &Sample| s.tools.get(name).cloned().unwrap_or_default();
                let history = step_pairs
                    .iter()
                    .map(|&(before, at)| {
                        let (b, a) =
                            (before.map(|i| get(since_hour[i])).unwrap_or_default(), get(since_hour[at]));
                        let calls = (a.calls - b.calls).max(0.0);
                        Point {
                            calls,
                            errors: (a.errors - b.errors).max(0.0),
                            p99_ms: if a.timed > b.timed { a.p99 * 1e3 } else { 0.0 },
                        }
                    })
                    .collect();
                ToolRow {
                    tool: name.clone(),
                    calls: t.calls,
                    errors: t.errors,
                    p50_ms: t.p50 * 1e3,
                    p99_ms: t.p99 * 1e3,
                    history,
                }
            })
            .collect();
        let cache = last
            .cache
            .iter()
            .map(|(scope, &(hits, misses))| CacheRow {
                scope: scope.clone(),
                hits,
                misses,
                hit_rate: (hits + misses > 0.0).then(|| hits / (hits + misses)),
            })
            .collect();
        let window = Window::of(&st.ring, self.config.window);
        let upstreams = circuits
            .iter()
            .map(|c| {
                let service = c.service.as_str();
                let u = last.upstreams.get(service).cloned().unwrap_or_default();
                let get = |s: &Sample| s.upstreams.get(service).map_or(0.0, |u| u.by_status.values().sum());
                UpstreamRow {
                    service: service.to_owned(),
                    circuit: serde_json::to_value(c.state)
                        .ok()
                        .and_then(|v| v.as_str().map(str::to_owned))
                        .unwrap_or_default(),
                    consecutive_failures: c.consecutive_failures,
                    requests: u.by_status.values().sum(),
                    errors: u.by_status.iter().filter(|(k, _)| is_upstream_error(k)).map(|(_, v)| v).sum(),
                    recent_requests: window.increase(get),
                    rate_limited: u.waits,
                    rate_limit_wait_p50_ms: u.wait_p50 * 1e3,
                    last_error: st.last_errors.get(service).cloned(),
                }
            })
            .collect();
        let indexes = indexes
            .into_iter()
            .map(|i| {
                let m = last.indexes.get(&i.id).cloned().unwrap_or_default();
                IndexRow {
                    id: i.id,
                    docs: i.docs,
                    bytes_on_disk: i.bytes_on_disk,
                    queries: m.queries,
                    query_p50_ms: m.p50 * 1e3,
                    query_p99_ms: m.p99 * 1e3,
                }
            })
            .collect();
        Board {
            generated_at: now,
            interval_ms: u64::try_from(self.config.interval.as_millis()).unwrap_or(u64::MAX),
            history_seconds,
            alerts,
            jobs,
            tools,
            cache,
            upstreams,
            indexes,
        }
    }
}
