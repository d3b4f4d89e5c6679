//! Rolling per-index usage metrics (queries, latency, errors, ingests) that survive restarts.

use std::collections::VecDeque;
use std::path::{Path, PathBuf};

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::store::write_atomic;

/// Upper bounds (inclusive, microseconds) of the latency histogram buckets; the last is open.
const LATENCY_BOUNDS_US: [u64; 20] = [
    100,
    200,
    300,
    500,
    750,
    1_000,
    1_500,
    2_000,
    3_000,
    5_000,
    7_500,
    10_000,
    20_000,
    50_000,
    100_000,
    250_000,
    500_000,
    1_000_000,
    5_000_000,
    u64::MAX,
];
const MINUTE: i64 = 60;
const HOUR: i64 = 3_600;
const KEEP_MINUTES: i64 = 24 * 60;
const KEEP_HOURS: i64 = 7 * 24;

/// The time window of a metrics report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
pub enum Window {
    /// The last hour (per-minute resolution).
    #[default]
    #[serde(rename = "1h")]
    Hour,
    /// The last 24 hours (per-minute resolution).
    #[serde(rename = "24h")]
    Day,
    /// The last 7 days (per-hour resolution).
    #[serde(rename = "7d")]
    Week,
}

impl Window {
    /// Length of the window in seconds.
    pub fn seconds(self) -> u64 {
        match self {
            Window::Hour => 3_600,
            Window::Day => 86_400,
            Window::Week => 7 * 86_400,
        }
    }
}

impl std::str::FromStr for Window {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "1h" => Ok(Window::Hour),
            "24h" => Ok(Window::Day),
            "7d" => Ok(Window::Week),
            other => Err(format!("unknown window `{other}`; accepted: 1h, 24h, 7d")),
        }
    }
}

/// Latency percentiles in milliseconds (estimated from a fixed histogram).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct LatencyStats {
    /// Median.
    pub p50_ms: f64,
    /// 95th percentile.
    pub p95_ms: f64,
    /// 99th percentile.
    pub p99_ms: f64,
    /// Mean.
    pub mean_ms: f64,
}

/// Usage of one index (or all) over a window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct MetricsReport {
    /// The index, or none for all indexes together.
    pub index: Option<String>,
    /// The window reported.
    pub window: Window,
    /// Searches run (successful or not).
    pub queries: u64,
    /// Searches per second over the window.
    pub qps: f64,
    /// Searches that failed.
    pub errors: u64,
    /// errors / queries (0 when there were no queries).
    pub error_rate: f64,
    /// Search latency.
    pub latency: LatencyStats,
    /// Ingest calls (add and research upserts).
    pub ingests: u64,
    /// Documents added or updated.
    pub docs_ingested: u64,
    /// Documents rejected by validation.
    pub docs_rejected: u64,
    /// Documents per second while ingesting (docs / time spent in ingest calls).
    pub ingest_docs_per_sec: f64,
    /// Indexes that contributed.
    pub indexes: Vec<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Bucket {
    start: i64,
    #[serde(default)]
    queries: u64,
    #[serde(default)]
    errors: u64,
    #[serde(default)]
    latency: Vec<u64>,
    #[serde(default)]
    latency_sum_us: u64,
    #[serde(default)]
    ingests: u64,
    #[serde(default)]
    docs: u64,
    #[serde(default)]
    rejected: u64,
    #[serde(default)]
    ingest_us: u64,
}

impl Bucket {
    fn new(start: i64) -> Bucket {
        Bucket { start, latency: vec![0; LATENCY_BOUNDS_US.len()], ..Bucket::default() }
    }
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct Persisted {
    version: u32,
    minutes: VecDeque<Bucket>,
    hours: VecDeque<Bucket>,
}

/// An accumulation of buckets.
#[derive(Debug, Default, Clone)]
pub(crate) struct Totals {
    queries: u64,
    errors: u64,
    latency: Vec<u64>,
    latency_sum_us: u64,
    ingests: u64,
    docs: u64,
    rejected: u64,
    ingest_us: u64,
}

impl Totals {
    fn add(&mut self, b: &Bucket) {
        self.queries += b.queries;
        self.errors += b.errors;
        if self.latency.len() < LATENCY_BOUNDS_US.len() {
            self.latency.resize(LATENCY_BOUNDS_US.len(), 0);
        }
        for (t, v) in self.latency.iter_mut().zip(&b.latency) {
            *t += v;
        }
        self.latency_sum_us += b.latency_sum_us;
        self.ingests += b.ingests;
        self.docs += b.docs;
        self.rejected += b.rejected;
        self.ingest_us += b.ingest_us;
    }

    pub(crate) fn merge(&mut self, other: &Totals) {
        let as_bucket = Bucket {
            start: 0,
            queries: other.queries,
            errors: other.errors,
            latency: other.latency.clone(),
            latency_sum_us: other.latency_sum_us,
            ingests: other.ingests,
            docs: other.docs,
            rejected: other.rejected,
            ingest_us: other.ingest_us,
        };
        self.add(&as_bucket);
    }

    fn percentile_ms(&self, q: f64) -> f64 {
        let count: u64 = self.latency.iter().sum();
        if count == 0 {
            return 0.0;
        }
        let rank = (q * count as f64).ceil().max(1.0);
        let mut seen = 0u64;
        for (i, &n) in self.latency.iter().enumerate() {
            if n == 0 {
                continue;
            }
            if (seen + n) as f64 >= rank {
                let lower = if i == 0 { 0 } else { LATENCY_BOUNDS_US[i - 1] };
                let upper = LATENCY_BOUNDS_US[i];
                if upper == u64::MAX {
                    return lower as f64 / 1000.0;
                }
                let frac = (rank - seen as f64) / n as f64;
                return (lower as f64 + frac * (upper - lower) as f64) / 1000.0;
            }
            seen += n;
        }
        0.0
    }

    pub(crate) fn report(
        &self,
        index: Option<String>,
        window: Window,
        indexes: Vec<String>,
    ) -> MetricsReport {
        let qcount: u64 = self.latency.iter().sum();
        MetricsReport {
            index,
            window,
            queries: self.queries,
            qps: self.queries as f64 / window.seconds() as f64,
            errors: self.errors,
            error_rate: if self.queries == 0 { 0.0 } else { self.errors as f64 / self.queries as f64 },
            latency: LatencyStats {
                p50_ms: self.percentile_ms(0.50),
                p95_ms: self.percentile_ms(0.95),
                p99_ms: self.percentile_ms(0.99),
                mean_ms: if qcount == 0 { 0.0 } else { self.latency_sum_us as f64 / qcount as f64 / 1000.0 },
            },
            ingests: self.ingests,
            docs_ingested: self.docs,
            docs_rejected: self.rejected,
            ingest_docs_per_sec: if self.ingest_us == 0 {
                0.0
            } else {
                self.docs as f64 / (self.ingest_us as f64 / 1e6)
            },
            indexes,
        }
    }
}

/// The rolling buckets of one index, with its file.
#[derive(Debug)]
pub(crate) struct MetricsStore {
    path: PathBuf,
    data: Persisted,
    dirty: bool,
    last_flush: std::time::Instant,
}

pub(crate) const METRICS_FILE: &str = "metrics.json";

pub(crate) fn now_secs() -> i64 {
    chrono::Utc::now().timestamp()
}

impl MetricsStore {
    /// Loads the file in `dir` (a missing or unreadable file starts empty).
    pub(crate) fn load(dir: &Path) -> MetricsStore {
        let path = dir.join(METRICS_FILE);
        let data = std::fs::read(&path)
            .ok()
            .and_then(|bytes| match serde_json::from_slice::<Persisted>(&bytes) {
                Ok(p) => Some(p),
                Err(e) => {
                    tracing::warn!(path = %path.display(), error = %e, "ignoring unreadable metrics file");
                    None
                }
            })
            .unwrap_or_default();
        MetricsStore { path, data, dirty: false, last_flush: std::time::Instant::now() }
    }

    /// Applies `f` to the current minute and hour buckets (creating them, dropping expired ones).
    fn apply(&mut self, now: i64, f: impl Fn(&mut Bucket)) {
        let minute = now - now.rem_euclid(MINUTE);
        let hour = now - now.rem_euclid(HOUR);
        if self.data.minutes.back().is_none_or(|b| b.start != minute) {
            self.data.minutes.push_back(Bucket::new(minute));
        }
        if self.data.hours.back().is_none_or(|b| b.start != hour) {
            self.data.hours.push_back(Bucket::new(hour));
        }
        while self.data.minutes.front().is_some_and(|b| b.start <= now - KEEP_MINUTES * MINUTE) {
            self.data.minutes.pop_front();
        }
        while self.data.hours.front().is_some_and(|b| b.start <= now - KEEP_HOURS * HOUR) {
            self.data.hours.pop_front();
        }
        self.dirty = true;
        for b in [self.data.minutes.back_mut(), self.data.hours.back_mut()].into_iter().flatten() {
            if b.latency.len() < LATENCY_BOUNDS_US.len() {
                b.latency.resize(LATENCY_BOUNDS_US.len(), 0);
            }
            f(b);
        }
    }

    pub(crate) fn record_query(&mut self, now: i64, micros: u64, ok: bool) {
        let slot = LATENCY_BOUNDS_US.iter().position(|&b| micros <= b).unwrap_or(LATENCY_BOUNDS_US.len() - 1);
        self.apply(now, |b| {
            b.queries += 1;
            if !ok {
                b.errors += 1;
            }
            b.latency[slot] += 1;
            b.latency_sum_us += micros;
        });
    }

    pub(crate) fn record_ingest(&mut self, now: i64, docs: u64, rejected: u64, micros: u64) {
        self.apply(now, |b| {
            b.ingests += 1;
            b.docs += docs;
            b.rejected += rejected;
            b.ingest_us += micros;
        });
    }

    pub(crate) fn totals(&self, now: i64, window: Window) -> Totals {
        let since = now - window.seconds() as i64;
        let mut totals = Totals::default();
        let buckets = match window {
            Window::Hour | Window::Day => &self.data.minutes,
            Window::Week => &self.data.hours,
        };
        let width = if window == Window::Week { HOUR } else { MINUTE };
        for b in buckets.iter().filter(|b| b.start + width > since) {
            totals.add(b);
        }
        totals
    }

    /// Writes the file if anything changed.
    pub(crate) fn flush(&mut self) {
        if !self.dirty {
            return;
        }
        self.data.version = 1;
        match serde_json::to_vec(&self.data) {
            Ok(bytes) => match write_atomic(&self.path, &bytes) {
                Ok(()) => {
                    self.dirty = false;
                    self.last_flush = std::time::Instant::now();
                }
                Err(e) => {
                    tracing::warn!(path = %self.path.display(), error = %e, "cannot write metrics")
                }
            },
            Err(e) => tracing::warn!(error = %e, "cannot serialize metrics"),
        }
    }

    /// Flushes when the last flush is older than `interval`.
    pub(crate) fn maybe_flush(&mut self, interval: std::time::Duration) {
        if self.dirty && self.last_flush.elapsed() >= interval {
            self.flush();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_roll_and_survive_reload() {
        let dir = tempfile::tempdir().unwrap();
        let t0 = 1_700_000_000 - 1_700_000_000 % 3600;
        let mut store = MetricsStore::load(dir.path());
        for i in 0..100u64 {
            store.record_query(t0 + 5, 1_000 + i * 10, i % 10 != 0);
        }
        store.record_ingest(t0 + 10, 500, 2, 250_000);
        // an old query, 2 hours before: outside 1h, inside 24h
        store.record_query(t0 - 2 * 3600, 50, true);
        store.flush();
        let reloaded = MetricsStore::load(dir.path());
        let hour = reloaded.totals(t0 + 30, Window::Hour).report(Some("x".into()), Window::Hour, vec![]);
        assert_eq!(hour.queries, 100);
        assert_eq!(hour.errors, 10);
        assert!((hour.error_rate - 0.1).abs() < 1e-9);
        assert!(hour.latency.p50_ms >= 1.0 && hour.latency.p50_ms <= 1.5, "{:?}", hour.latency);
        assert!(hour.latency.p99_ms <= 2.0 && hour.latency.p99_ms >= hour.latency.p50_ms);
        assert_eq!(hour.docs_ingested, 500);
        assert_eq!(hour.docs_rejected, 2);
        assert!((hour.ingest_docs_per_sec - 2000.0).abs() < 1e-6);
        let day = reloaded.totals(t0 + 30, Window::Day).report(None, Window::Day, vec![]);
        assert_eq!(day.queries, 101);
        let week = reloaded.totals(t0 + 30, Window::Week).report(None, Window::Week, vec![]);
        assert_eq!(week.queries, 101);
        // eight days later everything has expired from the windows
        let later = reloaded.totals(t0 + 8 * 86_400, Window::Week);
        assert_eq!(later.report(None, Window::Week, vec![]).queries, 0);
    }

    #[test]
    fn percentiles_of_empty_and_slow() {
        let t = Totals::default();
        assert_eq!(t.percentile_ms(0.99), 0.0);
        let dir = tempfile::tempdir().unwrap();
        let mut store = MetricsStore::load(dir.path());
        store.record_query(1_000_000, 10_000_000, true);
        let r = store.totals(1_000_000, Window::Hour).report(None, Window::Hour, vec![]);
        assert_eq!(r.latency.p99_ms, 5_000.0);
        assert!("2h".parse::<Window>().is_err());
        assert_eq!("7d".parse::<Window>(), Ok(Window::Week));
    }
}
