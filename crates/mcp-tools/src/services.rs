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
    let registry = Registry::from_inventory().map_err(|e| ToolError::internal(e.to_string()))?;
    build_router_with(config, registry, metrics).await
}

/// Like [`build_router`], over a given registry.
pub async fn build_router_with(
    config: RouterConfig,
    registry: Registry,
    metrics: Option<MetricsExporter>,
) -> Result<Router, ToolError> {
    let registry = Arc::new(registry);
    let jobs = Arc::new(JobManager::open(&config.data_dir)?);
    let cache = core_cache::Cache::from_env().await.map_err(crate::Error::from)?;
    let scrapers = core_scrapers::ScrapersConfig::from_env().map_err(crate::Error::from)?;
    let upstreams =
        core_scrapers::http::Upstreams::new(&scrapers, cache.clone()).map_err(crate::Error::from)?;
    let mut indexing = core_indexing::IndexConfig::from_env();
    indexing.data_dir = config.data_dir.join("indexes");
    let indexes = Arc::new(core_indexing::IndexManager::open(indexing).map_err(crate::Error::from)?);
    let mut testing = core_testing::Config::from_env();
    testing.state_dir = config.data_dir.join("testing");
    let testing = Arc::new(core_testing::Testing::new(testing));
    let roots =
        Roots::new(config.allowed_roots.as_deref(), &config.data_dir, testing.clone(), indexes.clone());
    let mut ext = Extensions::default();
    ext.insert(testing);
    ext.insert(Arc::new(upstreams));
    ext.insert(indexes);
    ext.insert(Arc::new(roots));
    ext.insert(registry.clone());
    ext.insert(jobs.clone());
    ext.insert(Arc::new(cache.clone()));
    if let Some(m) = metrics {
        ext.insert(Arc::new(m));
    }
    Router::new(registry, config, jobs, cache, ext)
}

/// The state of one subsystem.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub(crate) struct Subsystem {
    /// `ok` or `error`.
    pub(crate) status: String,
    /// Details.
    pub(crate) detail: serde_json::Value,
}

/// The health of every subsystem.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub(crate) struct HealthReport {
    /// `ok` when every subsystem is ok, else `degraded`.
    pub(crate) status: String,
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

pub(crate) async fn health_report(
    registry: &Registry,
    jobs: &JobManager,
    cache: &core_cache::Cache,
    upstreams: &core_scrapers::http::Upstreams,
) -> HealthReport {
    let job_store = subsystem(
        jobs.count()
            .map(|n| serde_json::json!({ "jobs": n, "path": jobs.store_path().display().to_string() }))
            .map_err(|e| e.to_string()),
    );
    let cache = subsystem(
        cache
            .ping()
            .await
            .map(|()| serde_json::json!({ "backend": cache.backend_name() }))
            .map_err(|e| e.to_string()),
    );
    let circuits = upstreams.circuits();
    let open = circuits.iter().any(|c| c.state == core_scrapers::http::CircuitState::Open);
    let status =
        if [&job_store, &cache].iter().all(|s| s.status == "ok") && !open { "ok" } else { "degraded" };
    HealthReport {
        status: status.into(),
        version: env!("CARGO_PKG_VERSION").into(),
        registry: registry.stats(),
        job_store,
        cache,
        upstreams: circuits,
    }
}
