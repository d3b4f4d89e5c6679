//! Start-up: the registry, the job store, the cache and the core services, wired into one router.

use std::sync::Arc;

use serde::Serialize;
use tool_metadata::{Extensions, ToolError};

use crate::{JobManager, MetricsExporter, Registry, RegistryStats, Roots, Router, RouterConfig};

/// Builds the router of this binary: every registered tool, the job store under the data dir,
/// the cache from the environment (`REDIS_URL`), and the metrics exporter when one is installed.
pub async fn build_router(
    config: RouterConfig,
    metrics: Option<MetricsExporter>,
) -> Result<Router, ToolError> {
    let started = std::time::Instant::now();
    let registry = Registry::from_inventory().map_err(|e| ToolError::internal(e.to_string()))?;
    tracing::debug!(ms = started.elapsed().as_secs_f64() * 1e3, "start-up: registry");
    build_router_with(config, registry, metrics).await
}

/// Like [`build_router`], over a given registry.
pub async fn build_router_with(
    config: RouterConfig,
    registry: Registry,
    metrics: Option<MetricsExporter>,
) -> Result<Router, ToolError> {
    let started = std::time::Instant::now();
    let lap = |what: &str| tracing::debug!(what, ms = started.elapsed().as_secs_f64() * 1e3, "start-up");
    let registry = Arc::new(registry);
    let jobs = Arc::new(JobManager::open(&config.data_dir)?);
    lap("job store");
    let cache = core_cache::Cache::from_env().await.map_err(crate::Error::from)?;
    lap("cache");
    let scrapers = core_scrapers::ScrapersConfig::from_env().map_err(crate::Error::from)?;
    let upstreams =
        core_scrapers::http::Upstreams::new(&scrapers, cache.clone()).map_err(crate::Error::from)?;
    lap("upstream clients");
    let mut indexing = core_indexing::IndexConfig::from_env();
    indexing.data_dir = config.data_dir.join("indexes");
    let indexes = Arc::new(core_indexing::IndexManager::open(indexing).map_err(crate::Error::from)?);
    let mut testing = core_testing::Config::from_env();
    testing.state_dir = config.data_dir.join("testing");
    let testing = Arc::new(core_testing::Testing::new(testing));
    let roots =
        Roots::new(config.allowed_roots.as_deref(), &config.data_dir, testing.clone(), indexes.clone());
    lap("indexes, test runner, roots");
    let upstreams = Arc::new(upstreams);
    match &metrics {
        Some(m) => {
            let u = upstreams.clone();
            m.when_ready(move || u.report_circuits());
        }
        None => upstreams.report_circuits(),
    }
    let alerts = Arc::new(crate::Alerts::new(
        crate::AlertConfig::from_env()?,
        crate::alerts::Sources {
            exporter: metrics.clone(),
            upstreams: upstreams.clone(),
            registry: registry.clone(),
            jobs: jobs.clone(),
            indexes: indexes.clone(),
            data_dir: config.data_dir.clone(),
        },
    ));
    alerts.start();
    if let Some(m) = &metrics {
        let a = alerts.clone();
        m.when_ready(move || a.export_budgets());
    }
    let health = Health {
        registry: registry.clone(),
        jobs: jobs.clone(),
        cache: cache.clone(),
        upstreams: upstreams.clone(),
        alerts: Some(alerts.clone()),
    };
    let mut ext = Extensions::default();
    ext.insert(Arc::new(health));
    ext.insert(alerts);
    ext.insert(testing);
    ext.insert(upstreams.clone());
    ext.insert(indexes);
    ext.insert(Arc::new(roots));
    ext.insert(registry.clone());
    ext.insert(jobs.clone());
    ext.insert(Arc::new(cache.clone()));
    if let Some(m) = metrics {
        ext.insert(Arc::new(m));
    }
    let warm_on_start = config.warm_on_start;
    let router = Router::new(registry, config, jobs, cache.clone(), ext)?;
    if warm_on_start {
        tokio::spawn(warm_on_start_task(router.clone()));
    }
    Ok(router)
}

/// `PIPETTE_WARM_ON_START`: a `warm_cache` job started in the background (on Redis, queued for any
/// consumer), so its report — what it warmed and why — is there for `job_list`/`job_status` on every
/// instance; the log says it too.
async fn warm_on_start_task(router: Router) {
    let args = serde_json::json!({ "async_mode": true });
    let ticket = match router.call("warm_cache", args, crate::CallOptions::default()).await {
        Ok(crate::CallOutcome::Job(ticket)) => ticket,
        Ok(crate::CallOutcome::Done(_)) => return tracing::info!("start-up warming: done"),
        Err(e) => return tracing::warn!(error = %e.message, "start-up warming: failed to start"),
    };
    let id = ticket.job_id;
    tracing::info!(job_id = %id, "start-up warming: started in the background");
    let watch = router.jobs().watch(router.principal(), &id, crate::jobs::WATCH_FALLBACK);
    futures::pin_mut!(watch);
    let mut last = None;
    while let Some(rec) = futures::StreamExt::next(&mut watch).await {
        last = Some(rec);
    }
    let job = match last {
        Some(Ok(job)) => job,
        Some(Err(e)) => {
            return tracing::warn!(job_id = %id, error = %e.message, "start-up warming: lost its job");
        }
        None => return tracing::warn!(job_id = %id, "start-up warming: lost its job"),
    };
    let report = job
        .result
        .filter(|_| job.status == crate::JobStatus::Completed)
        .map(serde_json::from_value::<core_scrapers::warm::WarmReport>);
    let report = match report {
        Some(Ok(report)) => report,
        Some(Err(e)) => {
            return tracing::warn!(job_id = %id, error = %e, "start-up warming: unreadable report");
        }
        None => {
            let error = job.error.map(|e| e.message).unwrap_or_default();
            return tracing::warn!(job_id = %id, status = ?job.status, error, "start-up warming: failed");
        }
    };
    let order: Vec<String> = report
        .mutations
        .iter()
        .map(|e| match e.asked_24h {
            Some(n) => format!("{} (trending, {n} asks)", e.mutation),
            None => format!("{} ({})", e.mutation, e.reason.as_str()),
        })
        .collect();
    tracing::info!(
        job_id = %id,
        succeeded = report.succeeded,
        failed = report.failed,
        order = order.join("; "),
        "start-up warming: done"
    );
}

/// The state of one subsystem.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub(crate) struct Subsystem {
    /// `ok` or `error`.
    pub(crate) status: String,
    /// Details.
    pub(crate) detail: serde_json::Value,
}

/// How pipette is, as a whole.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum HealthStatus {
    /// Every subsystem is ok and every upstream circuit is closed or half-open.
    Ok,
    /// pipette serves, but an upstream's circuit is open (its tools fail fast until it recovers), the
    /// shared Redis is unreachable (local limits, no shared cache or jobs until it is back), or a critical
    /// alert is active (`alerts`).
    Degraded,
    /// The job store or the cache backend is unusable: pipette cannot serve calls.
    Unavailable,
}

/// The health of every subsystem.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct HealthReport {
    /// `ok`; `degraded` while an upstream's circuit is open, the shared Redis is unreachable or a critical
    /// alert is active;
    /// `unavailable` when the embedded job store is unusable.
    pub status: HealthStatus,
    /// What is wrong, in plain words (empty when `ok`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) problems: Vec<String>,
    /// pipette's version.
    pub(crate) version: String,
    /// The tools by runtime and category.
    pub(crate) registry: RegistryStats,
    /// The durable job store.
    pub(crate) job_store: Subsystem,
    /// The cache backend.
    pub(crate) cache: Subsystem,
    /// The circuit breaker of each upstream.
    pub(crate) upstreams: Vec<core_scrapers::http::CircuitStatus>,
}

fn subsystem(r: Result<serde_json::Value, String>) -> Subsystem {
    match r {
        Ok(detail) => Subsystem { status: "ok".into(), detail },
        Err(e) => Subsystem { status: "error".into(), detail: serde_json::json!({ "error": e }) },
    }
}

/// The health of the subsystems the tools share, read directly: the `health` tool and the HTTP probes
/// (`/health`, `/readyz`) use it, so a probe is not a tool call and leaves the tool metrics alone.
#[derive(Clone)]
pub struct Health {
    registry: Arc<Registry>,
    jobs: Arc<JobManager>,
    cache: core_cache::Cache,
    upstreams: Arc<core_scrapers::http::Upstreams>,
    alerts: Option<Arc<crate::Alerts>>,
}

impl std::fmt::Debug for Health {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Health")
    }
}

impl Health {
    /// Whether pipette can serve calls: the job store answers and the cache backend answers. The error says
    /// which does not, and why. Upstream circuits do not count: an upstream's outage is not pipette's.
    ///
    /// Redis (`REDIS_URL`) going away does not make a process unready: it serves on with local limits, every
    /// cache lookup a miss, and calls answered inline (`report` says `degraded` and why) — taking every
    /// instance out of a load balancer at once would turn a Redis outage into a full one.
    pub async fn readiness(&self) -> Result<(), String> {
        let (job_store, cache) = self.subsystems().await;
        let (problems, _) = self.unusable(&job_store, &cache);
        if problems.is_empty() { Ok(()) } else { Err(problems.join("; ")) }
    }

    /// The detailed report.
    pub async fn report(&self) -> HealthReport {
        let (job_store, cache) = self.subsystems().await;
        let (mut problems, redis) = self.unusable(&job_store, &cache);
        let unavailable = !problems.is_empty();
        problems.extend(redis);
        let circuits = self.upstreams.circuits();
        if let core_scrapers::http::Coordination::Fallback { reason } = self.upstreams.coordination() {
            problems
                .push(format!("upstream rate limits and circuit breakers are this process's own: {reason}"));
        }
        for c in circuits.iter().filter(|c| c.state == core_scrapers::http::CircuitState::Open) {
            // No failure seen here: another process on the same Redis opened it.
            let why = match c.consecutive_failures {
                0 => "by another pipette process sharing Redis".to_owned(),
                n => format!("after {n} failed calls"),
            };
            problems.push(format!(
                "the circuit of {} is open {why}: its tools fail fast{}",
                c.service.as_str(),
                c.retry_in_ms.map(|ms| format!(" for {} s more", ms.div_ceil(1000))).unwrap_or_default()
            ));
        }
        // A critical alert (an open circuit is said above already) degrades pipette too.
        for alert in self.alerts.iter().flat_map(|a| a.critical()) {
            if alert.name != "PipetteCircuitOpen" {
                problems.push(format!("critical alert {}: {}", alert.name, alert.cause));
            }
        }
        let status = if unavailable {
            HealthStatus::Unavailable
        } else if problems.is_empty() {
            HealthStatus::Ok
        } else {
            HealthStatus::Degraded
        };
        HealthReport {
            status,
            problems,
            version: env!("CARGO_PKG_VERSION").into(),
            registry: self.registry.stats(),
            job_store,
            cache,
            upstreams: circuits,
        }
    }

    async fn subsystems(&self) -> (Subsystem, Subsystem) {
        let job_store = subsystem(
            self.jobs
                .count()
                .and_then(|n| {
                    let backend = self.jobs.backend()?;
                    Ok(match backend {
                        "sqlite" => serde_json::json!({ "jobs": n, "backend": backend,
                                                        "path": self.jobs.store_path().display().to_string() }),
                        _ => serde_json::json!({ "jobs": n, "backend": backend }),
                    })
                })
                .map_err(|e| e.to_string()),
        );
        let cache = subsystem(
            self.cache
                .ping()
                .await
                .map(|()| serde_json::json!({ "backend": self.cache.backend_name() }))
                .map_err(|e| e.to_string()),
        );
        (job_store, cache)
    }

    /// What makes pipette unable to serve (the embedded job store), and what only degrades it (the shared
    /// cache and job store on an unreachable Redis), in plain words.
    fn unusable(&self, job_store: &Subsystem, cache: &Subsystem) -> (Vec<String>, Vec<String>) {
        let (mut fatal, mut degraded) = (Vec::new(), Vec::new());
        let on_redis = [self.jobs.is_shared(), self.cache.backend_name() == "redis"];
        for ((name, s), on_redis) in
            [("job store", job_store), ("cache backend", cache)].into_iter().zip(on_redis)
        {
            if s.status == "ok" {
                continue;
            }
            let why = s.detail["error"].as_str().unwrap_or("unknown error");
            if on_redis {
                let effect = if name == "job store" {
                    "calls are answered inline, and calls that become jobs fail until it is back"
                } else {
                    "every lookup is a miss until it is back"
                };
                degraded.push(format!("the shared {name} (Redis) is unreachable: {effect} ({why})"));
            } else {
                fatal.push(format!("the {name} is unusable: {why}"));
            }
        }
        (fatal, degraded)
    }
}
