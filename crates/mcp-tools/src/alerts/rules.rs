//! The samples the engine keeps (the counters the rules read, per tool, upstream, cache scope and index) and
//! the rules themselves: pure functions of the ring of samples, the circuits and the disk.

use std::collections::{BTreeMap, VecDeque};
use std::time::{Duration, Instant};

use core_scrapers::http::{CircuitState, CircuitStatus};

use super::{AlertConfig, Firing, Severity};
use crate::telemetry::Series;

/// Calls, failures and latency of one tool, as counted since the process started.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct ToolSample {
    pub(crate) calls: f64,
    pub(crate) errors: f64,
    /// Calls timed (the duration summary's count).
    pub(crate) timed: f64,
    /// The exporter's p50 and p99 (over its rolling window), in seconds.
    pub(crate) p50: f64,
    pub(crate) p99: f64,
}

/// Requests to one upstream by status, and its rate-limit waits.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct UpstreamSample {
    /// Requests by status label (`200`, `429`, `500`, `timeout`…).
    pub(crate) by_status: BTreeMap<String, f64>,
    /// Requests that waited for the rate limit (the wait summary's count), and the p50 wait in seconds.
    pub(crate) waits: f64,
    pub(crate) wait_p50: f64,
}

/// Query counts and latency of one index.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct IndexSample {
    pub(crate) queries: f64,
    pub(crate) p50: f64,
    pub(crate) p99: f64,
}

/// One sample of the counters the rules and the status page read.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Sample {
    pub(crate) at: Instant,
    pub(crate) wall: chrono::DateTime<chrono::Utc>,
    pub(crate) tools: BTreeMap<String, ToolSample>,
    pub(crate) upstreams: BTreeMap<String, UpstreamSample>,
    /// Finished jobs by status (`completed`, `failed`, `interrupted`, `cancelled`).
    pub(crate) jobs_finished: BTreeMap<String, f64>,
    /// Cache lookups by scope: (hits, misses).
    pub(crate) cache: BTreeMap<String, (f64, f64)>,
    pub(crate) indexes: BTreeMap<String, IndexSample>,
    /// Calls waiting for a slot now, by runtime (`pipette_runtime_queued`).
    pub(crate) queued: BTreeMap<String, f64>,
}

impl Default for Sample {
    fn default() -> Self {
        Sample {
            at: Instant::now(),
            wall: chrono::Utc::now(),
            tools: BTreeMap::new(),
            upstreams: BTreeMap::new(),
            jobs_finished: BTreeMap::new(),
            cache: BTreeMap::new(),
            indexes: BTreeMap::new(),
            queued: BTreeMap::new(),
        }
    }
}

/// Error kinds that are the caller's, not a fault of pipette or an upstream (`PipetteToolErrorRate` leaves them
/// out, as `deploy/prometheus/alerts.yml` does).
const CALLER_KINDS: [&str; 5] = ["invalid_argument", "unknown_tool", "not_found", "cancelled", "conflict"];

/// Whether an upstream request with this status label failed: a 5xx, a 429, or no answer at all (a timeout,
/// a refused connection, a body that was not what was asked for). 404 and other 4xx are answers.
pub(crate) fn is_upstream_error(status: &str) -> bool {
    match status.parse::<u16>() {
        Ok(code) => code >= 500 || code == 429,
        Err(_) => true,
    }
}

impl Sample {
    /// The sample of the exporter's JSON view.
    pub(crate) fn read(metrics: &BTreeMap<String, Vec<Series>>, at: Instant) -> Sample {
        let series = |name: &str| metrics.get(name).map(Vec::as_slice).unwrap_or_default();
        let label = |s: &Series, k: &str| s.labels.get(k).cloned().unwrap_or_default();
        let q = |s: &Series, k: &str| s.quantiles.get(k).copied().filter(|v| v.is_finite()).unwrap_or(0.0);
        let mut out = Sample { at, ..Sample::default() };
        for s in series("pipette_tool_calls_total") {
            out.tools.entry(label(s, "tool")).or_default().calls += s.value.unwrap_or(0.0);
        }
        // Faults only: a caller's bad arguments, unknown ids, cancellations and conflicts are answers.
        for s in series("pipette_tool_errors_total")
            .iter()
            .filter(|s| !CALLER_KINDS.contains(&label(s, "kind").as_str()))
        {
            out.tools.entry(label(s, "tool")).or_default().errors += s.value.unwrap_or(0.0);
        }
        for s in series("pipette_tool_duration_seconds") {
            let t = out.tools.entry(label(s, "tool")).or_default();
            t.timed += s.count.unwrap_or(0.0);
            t.p50 = t.p50.max(q(s, "p50"));
            t.p99 = t.p99.max(q(s, "p99"));
        }
        for s in series("pipette_upstream_requests_total") {
            let u = out.upstreams.entry(label(s, "service")).or_default();
            *u.by_status.entry(label(s, "status")).or_default() += s.value.unwrap_or(0.0);
        }
        for s in series("pipette_upstream_rate_limit_wait_seconds") {
            let u = out.upstreams.entry(label(s, "service")).or_default();
            u.waits += s.count.unwrap_or(0.0);
            u.wait_p50 = u.wait_p50.max(q(s, "p50"));
        }
        for s in series("pipette_runtime_queued") {
            *out.queued.entry(label(s, "runtime")).or_default() += s.value.unwrap_or(0.0);
        }
        for s in series("pipette_jobs_finished_total") {
            *out.jobs_finished.entry(label(s, "status")).or_default() += s.value.unwrap_or(0.0);
        }
        for s in series("pipette_cache_lookups_total") {
            let c = out.cache.entry(label(s, "scope")).or_default();
            match label(s, "outcome").as_str() {
                "hit" => c.0 += s.value.unwrap_or(0.0),
                _ => c.1 += s.value.unwrap_or(0.0),
            }
        }
        for s in series("pipette_index_query_seconds") {
            let i = out.indexes.entry(label(s, "index")).or_default();
            i.queries += s.count.unwrap_or(0.0);
            i.p50 = i.p50.max(q(s, "p50"));
            i.p99 = i.p99.max(q(s, "p99"));
        }
        out
    }

    /// The failed statuses each upstream answered since `prev`: (service, the last such status label).
    pub(crate) fn new_upstream_errors(&self, prev: &Sample) -> Vec<(String, String)> {
        let mut out = Vec::new();
        for (service, u) in &self.upstreams {
            let before = prev.upstreams.get(service);
            let mut grew = u.by_status.iter().filter(|(status, n)| {
                is_upstream_error(status)
                    && **n > before.and_then(|b| b.by_status.get(*status)).copied().unwrap_or(0.0)
            });
            if let Some((status, _)) = grew.next_back() {
                out.push((service.clone(), status.clone()));
            }
        }
        out
    }
}

/// The samples of the last `window`, and the base they are measured from: the newest sample at least
/// `window` old, else nothing (the process is younger than the window: counters started at zero).
pub(crate) struct Window<'a> {
    pub(crate) base: Option<&'a Sample>,
    /// The samples after the base, oldest first; the last is now.
    pub(crate) samples: Vec<&'a Sample>,
}

impl<'a> Window<'a> {
    pub(crate) fn of(ring: &'a VecDeque<Sample>, window: Duration) -> Window<'a> {
        let Some(now) = ring.back() else { return Window { base: None, samples: Vec::new() } };
        let split = ring.iter().rposition(|s| now.at.duration_since(s.at) >= window);
        let base = split.map(|i| &ring[i]);
        let samples = ring.iter().skip(split.map_or(0, |i| i + 1)).collect();
        Window { base, samples }
    }

    fn now(&self) -> Option<&'a Sample> {
        self.samples.last().copied()
    }

    /// How much `f` grew over the window.
    pub(crate) fn increase(&self, f: impl Fn(&Sample) -> f64) -> f64 {
        let Some(now) = self.now() else { return 0.0 };
        (f(now) - self.base.map_or(0.0, &f)).max(0.0)
    }

    /// The largest `value` among the samples where `count` grew since the sample before (a quantile the
    /// exporter reported while calls were being measured).
    pub(crate) fn worst_while_busy(
        &self,
        count: impl Fn(&Sample) -> f64,
        value: impl Fn(&Sample) -> f64,
    ) -> f64 {
        let mut prev = self.base.map_or(0.0, &count);
        let mut worst: f64 = 0.0;
        for s in &self.samples {
            let c = count(s);
            if c > prev {
                worst = worst.max(value(s));
            }
            prev = c;
        }
        worst
    }
}

fn labels(key: &str, value: &str) -> BTreeMap<String, String> {
    BTreeMap::from([(key.to_owned(), value.to_owned())])
}

fn pct(r: f64) -> String {
    format!("{:.0} %", r * 100.0)
}

fn span(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s >= 60.0 && s % 60.0 == 0.0 { format!("{} min", s / 60.0) } else { format!("{s} s") }
}

/// Every rule over the ring (newest sample last), the circuits now and the data dir's file system use
/// (0..1, when known). `budget(tool)` is a tool's latency budget in seconds.
pub(crate) fn evaluate(
    c: &AlertConfig,
    ring: &VecDeque<Sample>,
    circuits: &[CircuitStatus],
    disk_used: Option<f64>,
    budget: &dyn Fn(&str) -> Option<f64>,
) -> Vec<Firing> {
    let mut out = Vec::new();
    let w = Window::of(ring, c.window);
    let over = span(c.window);
    let tools: Vec<&String> = w.now().map(|s| s.tools.keys().collect()).unwrap_or_default();
    for tool in tools {
        let get = |s: &Sample| s.tools.get(tool).cloned().unwrap_or_default();
        let calls = w.increase(|s| get(s).calls);
        let errors = w.increase(|s| get(s).errors);
        if calls >= c.tool_min_calls && calls > 0.0 && errors / calls > c.tool_error_ratio {
            let ratio = errors / calls;
            out.push(Firing {
                name: "PipetteToolErrorRate",
                severity: if ratio >= c.tool_error_critical { Severity::Critical } else { Severity::Warning },
                labels: labels("tool", tool),
                cause: format!(
                    "{tool}: {errors} of {calls} calls failed in the last {over} ({})",
                    pct(ratio)
                ),
                hint: format!(
                    "the errors by kind are in `metrics` (pipette_tool_errors_total{{tool=\"{tool}\"}}); \
                     an upstream's outage shows in `circuit_status`"
                ),
            });
        }
        if let Some(budget) = budget(tool) {
            let p99 = w.worst_while_busy(|s| get(s).timed, |s| get(s).p99);
            if p99 > budget {
                out.push(Firing {
                    name: "PipetteToolLatencyBudget",
                    severity: Severity::Warning,
                    labels: labels("tool", tool),
                    cause: format!(
                        "{tool}: p99 latency {:.2} s in the last {over}, over its budget of {budget:.2} s",
                        p99
                    ),
                    hint: "a slow upstream (see the upstreams' latency in `metrics`) or calls queueing for a \
                           slot (pipette_runtime_queued); the budget is PIPETTE_ALERT_LATENCY_BUDGET_RATIO of \
                           the tool's timeout"
                        .to_owned(),
                });
            }
        }
    }
    let services: Vec<&String> = w.now().map(|s| s.upstreams.keys().collect()).unwrap_or_default();
    for service in services {
        let get = |s: &Sample| s.upstreams.get(service).cloned().unwrap_or_default();
        let requests = w.increase(|s| get(s).by_status.values().sum());
        let errors = w.increase(|s| {
            get(s).by_status.iter().filter(|(k, _)| is_upstream_error(k)).map(|(_, v)| v).sum()
        });
        if requests >= c.upstream_min_requests && requests > 0.0 && errors / requests > c.upstream_error_ratio
        {
            out.push(Firing {
                name: "PipetteUpstreamErrorRate",
                severity: Severity::Warning,
                labels: labels("upstream", service),
                cause: format!(
                    "{service}: {errors} of {requests} requests failed in the last {over} ({})",
                    pct(errors / requests)
                ),
                hint: format!(
                    "the statuses are in `metrics` (pipette_upstream_requests_total{{service=\"{service}\"}}); \
                     pipette retries and its circuit opens if the failures go on"
                ),
            });
        }
        let throttled = w.increase(|s| get(s).by_status.get("429").copied().unwrap_or(0.0));
        if throttled > 0.0 {
            out.push(Firing {
                name: "PipetteUpstreamThrottled",
                severity: Severity::Warning,
                labels: labels("upstream", service),
                cause: format!("{service} answered 429 Too Many Requests {throttled} times in the last {over}"),
                hint: format!(
                    "lower PIPETTE_{}_RATE (requests per second), or share the limit between instances through \
                     REDIS_URL",
                    env_name(service)
                ),
            });
        }
        let wait = w.worst_while_busy(|s| get(s).waits, |s| get(s).wait_p50);
        if wait > c.rate_limit_wait_seconds {
            out.push(Firing {
                name: "PipetteRateLimitSaturated",
                severity: Severity::Warning,
                labels: labels("upstream", service),
                cause: format!(
                    "calls to {service} wait {wait:.2} s (p50) for its rate limit in the last {over}: they queue"
                ),
                hint: format!(
                    "fewer concurrent calls, answers from the cache (warm_cache), or a higher PIPETTE_{}_RATE \
                     if the service allows it (an NCBI API key raises PubMed's)",
                    env_name(service)
                ),
            });
        }
    }
    // Calls queueing for a runtime slot at every sample of a whole window (a queue that empties now and then
    // is a burst, not saturation).
    let runtimes: Vec<&String> = w.now().map(|s| s.queued.keys().collect()).unwrap_or_default();
    for runtime in runtimes {
        let queued = |s: &Sample| s.queued.get(runtime).copied().unwrap_or(0.0);
        let least = w.samples.iter().map(|s| queued(s)).fold(f64::INFINITY, f64::min);
        if w.base.is_some() && least > 0.0 {
            out.push(Firing {
                name: "PipetteRateLimitSaturated",
                severity: Severity::Warning,
                labels: labels("runtime", runtime),
                cause: format!(
                    "calls have queued for a {runtime} slot for the whole of the last {over} (at least {least} waiting)"
                ),
                hint: "raise the runtime's limit (PIPETTE_ASYNC_LIMIT, PIPETTE_BLOCKING_THREADS, \
                       PIPETTE_PROCESS_LIMIT) or add a worker (`pipette worker`)"
                    .to_owned(),
            });
        }
    }
    for circuit in circuits.iter().filter(|c| c.state == CircuitState::Open) {
        let service = circuit.service.as_str();
        out.push(Firing {
            name: "PipetteCircuitOpen",
            severity: Severity::Critical,
            labels: labels("upstream", service),
            cause: format!(
                "the circuit of {service} is open after {} failed call{}: its tools fail fast{}",
                circuit.consecutive_failures,
                if circuit.consecutive_failures == 1 { "" } else { "s" },
                circuit
                    .retry_in_ms
                    .map(|ms| format!(" for {} s more", ms.div_ceil(1000)))
                    .unwrap_or_default()
            ),
            hint: format!(
                "{service} is down or failing; a probe goes through when the cool-down ends \
                 (PIPETTE_BREAKER_COOLDOWN_MS), and the circuit closes when it answers"
            ),
        });
    }
    let jobs = Window::of(ring, c.jobs_window);
    let failed = jobs.increase(|s| s.jobs_finished.get("failed").copied().unwrap_or(0.0));
    let interrupted = jobs.increase(|s| s.jobs_finished.get("interrupted").copied().unwrap_or(0.0));
    if failed + interrupted > 0.0 {
        out.push(Firing {
            name: "PipetteJobsFailing",
            severity: Severity::Warning,
            labels: BTreeMap::new(),
            cause: format!(
                "{failed} jobs failed and {interrupted} were interrupted in the last {}",
                span(c.jobs_window)
            ),
            hint:
                "`job_list` with status `failed` or `interrupted` shows them and why; `job_resume` runs an \
                   interrupted one again"
                    .to_owned(),
        });
    }
    if let Some(used) = disk_used.filter(|u| *u > c.disk_warning) {
        out.push(Firing {
            name: "PipetteDiskFilling",
            severity: if used > c.disk_critical { Severity::Critical } else { Severity::Warning },
            labels: BTreeMap::new(),
            cause: format!("the data dir's file system is {} full", pct(used)),
            hint: "free space: `job_prune` removes old jobs, `index_drop` unused indexes; or move \
                   PIPETTE_DATA_DIR to a larger disk"
                .to_owned(),
        });
    }
    out
}

/// The service's name in `PIPETTE_<NAME>_RATE`.
fn env_name(service: &str) -> &'static str {
    match service {
        "pubmed" => "PUBMED",
        "ctgov" => "CTGOV",
        "uniprot" => "UNIPROT",
        "chembl" => "CHEMBL",
        _ => "<SERVICE>",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tool(calls: f64, errors: f64, timed: f64, p99: f64) -> ToolSample {
        ToolSample { calls, errors, timed, p50: p99 / 2.0, p99 }
    }

    /// A sample `secs` seconds after `t0` with the given tool and upstream counters.
    fn at(t0: Instant, secs: u64, tools: &[(&str, ToolSample)], ups: &[(&str, &[(&str, f64)])]) -> Sample {
        Sample {
            at: t0 + Duration::from_secs(secs),
            tools: tools.iter().map(|(k, v)| ((*k).to_owned(), v.clone())).collect(),
            upstreams: ups
                .iter()
                .map(|(k, by)| {
                    let by_status = by.iter().map(|(s, n)| ((*s).to_owned(), *n)).collect();
                    ((*k).to_owned(), UpstreamSample { by_status, ..UpstreamSample::default() })
                })
                .collect(),
            ..Sample::default()
        }
    }

    /// The rules over `ring` fire exactly `expected` (name, severity, label value).
    fn check(
        ring: Vec<Sample>,
        circuits: &[CircuitStatus],
        disk: Option<f64>,
        expected: &[(&str, Severity, &str)],
    ) {
        let c = AlertConfig::default();
        let ring: VecDeque<Sample> = ring.into();
        let got = evaluate(&c, &ring, circuits, disk, &|_| Some(5.0));
        let got: Vec<(&str, Severity, String)> = got
            .iter()
            .map(|f| (f.name, f.severity, f.labels.values().next().cloned().unwrap_or_default()))
            .collect();
        let want: Vec<(&str, Severity, String)> =
            expected.iter().map(|(n, s, l)| (*n, *s, (*l).to_owned())).collect();
        assert_eq!(got, want);
    }

    #[test]
    fn error_rates_fire_over_the_window_with_enough_calls_and_clear_when_it_slides_past() {
        let t0 = Instant::now();
        let ok = || tool(0.0, 0.0, 0.0, 0.0);
        // 20 calls, 3 failed (15 %) in the window: warning; 12 of 20: critical; 9 calls: too few to judge.
        check(
            vec![at(t0, 0, &[("a", ok())], &[]), at(t0, 60, &[("a", tool(20.0, 3.0, 20.0, 0.1))], &[])],
            &[],
            None,
            &[("PipetteToolErrorRate", Severity::Warning, "a")],
        );
        check(
            vec![at(t0, 60, &[("a", tool(20.0, 12.0, 20.0, 0.1))], &[])],
            &[],
            None,
            &[("PipetteToolErrorRate", Severity::Critical, "a")],
        );
        check(vec![at(t0, 60, &[("a", tool(9.0, 9.0, 9.0, 0.1))], &[])], &[], None, &[]);
        // The failures are older than the window: nothing new failed since.
        let old = tool(20.0, 12.0, 20.0, 0.1);
        check(vec![at(t0, 0, &[("a", old.clone())], &[]), at(t0, 400, &[("a", old)], &[])], &[], None, &[]);
    }

    #[test]
    fn calls_queued_for_a_whole_window_saturate_a_runtime_but_a_burst_does_not() {
        let t0 = Instant::now();
        let q = |secs: u64, n: f64| Sample {
            at: t0 + Duration::from_secs(secs),
            queued: BTreeMap::from([("Process".to_owned(), n)]),
            ..Sample::default()
        };
        let fired = |ring: Vec<Sample>| {
            evaluate(&AlertConfig::default(), &ring.into(), &[], None, &|_| None)
                .iter()
                .map(|f| (f.name, f.labels.get("runtime").cloned().unwrap_or_default()))
                .collect::<Vec<_>>()
        };
        let always: Vec<Sample> = (0..=6).map(|m| q(m * 60, 3.0)).collect();
        assert_eq!(fired(always), vec![("PipetteRateLimitSaturated", "Process".to_owned())]);
        let burst: Vec<Sample> = (0..=6).map(|m| q(m * 60, if m == 4 { 0.0 } else { 3.0 })).collect();
        assert_eq!(fired(burst), vec![]);
        // A process younger than the window has not seen a whole window yet.
        assert_eq!(fired(vec![q(0, 3.0), q(60, 3.0)]), vec![]);
    }

    #[test]
    fn a_callers_bad_arguments_are_not_faults() {
        let series = |kind: &str, value: f64| Series {
            labels: [("tool", "pubmed_fetch"), ("kind", kind)]
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect(),
            value: Some(value),
            ..Series::default()
        };
        let metrics: BTreeMap<String, Vec<Series>> = [(
            "pipette_tool_errors_total".to_owned(),
            vec![series("invalid_argument", 7.0), series("not_found", 5.0), series("upstream", 2.0)],
        )]
        .into_iter()
        .collect();
        let sample = Sample::read(&metrics, Instant::now());
        assert_eq!(sample.tools["pubmed_fetch"].errors, 2.0);
    }

    #[test]
    fn latency_over_budget_counts_only_while_calls_are_measured() {
        let t0 = Instant::now();
        check(
            vec![at(t0, 0, &[("a", tool(1.0, 0.0, 1.0, 9.0))], &[])],
            &[],
            None,
            &[("PipetteToolLatencyBudget", Severity::Warning, "a")],
        );
        // The slow call was before the window; the exporter's quantile still shows it, but no call since.
        let slow = tool(1.0, 0.0, 1.0, 9.0);
        check(vec![at(t0, 0, &[("a", slow.clone())], &[]), at(t0, 400, &[("a", slow)], &[])], &[], None, &[]);
    }

    #[test]
    fn upstream_rules_read_statuses_and_circuits() {
        let t0 = Instant::now();
        let ring = vec![
            at(t0, 0, &[], &[("ctgov", &[("200", 5.0)])]),
            at(t0, 30, &[], &[("ctgov", &[("200", 10.0), ("500", 4.0), ("429", 1.0)])]),
        ];
        let open = CircuitStatus {
            service: core_scrapers::http::Service::PubMed,
            state: CircuitState::Open,
            consecutive_failures: 5,
            opened_at: None,
            retry_in_ms: Some(1500),
        };
        check(
            ring,
            &[open],
            Some(0.96),
            &[
                ("PipetteUpstreamErrorRate", Severity::Warning, "ctgov"),
                ("PipetteUpstreamThrottled", Severity::Warning, "ctgov"),
                ("PipetteCircuitOpen", Severity::Critical, "pubmed"),
                ("PipetteDiskFilling", Severity::Critical, ""),
            ],
        );
        // 5 of 15 requests failed over the window (a 404 is an answer, not an error).
        let ring = vec![at(
            t0,
            0,
            &[],
            &[("ctgov", &[("200", 10.0), ("500", 4.0), ("404", 1.0), ("timeout", 1.0)])],
        )];
        check(
            ring,
            &[],
            Some(0.91),
            &[
                ("PipetteUpstreamErrorRate", Severity::Warning, "ctgov"),
                ("PipetteDiskFilling", Severity::Warning, ""),
            ],
        );
    }

    #[test]
    fn failed_and_interrupted_jobs_fire_for_the_jobs_window() {
        let t0 = Instant::now();
        let mut a = at(t0, 0, &[], &[]);
        a.jobs_finished.insert("completed".into(), 3.0);
        let mut b = at(t0, 600, &[], &[]);
        b.jobs_finished.insert("completed".into(), 3.0);
        b.jobs_finished.insert("interrupted".into(), 1.0);
        check(vec![a.clone(), b.clone()], &[], None, &[("PipetteJobsFailing", Severity::Warning, "")]);
        let mut c = b.clone();
        c.at = t0 + Duration::from_secs(1600);
        check(vec![a, b, c], &[], None, &[]);
    }
}
