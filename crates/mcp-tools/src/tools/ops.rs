//! Ops tools: the health of every subsystem and the router's metrics (JSON and Prometheus text).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use tool_metadata::{ToolContext, tool_metadata};

use crate::services::{HealthReport, health_report};
use crate::telemetry::Series;
use core_scrapers::http::Upstreams;

use crate::{Error, JobManager, MetricsExporter, Registry};

#[derive(Deserialize, schemars::JsonSchema)]
struct NoParams {}

/// The health of each subsystem: the tool registry, the job store, the cache backend, the upstreams' circuits.
#[tool_metadata(category = ops, runtime = Async, priority = 10, timeout_seconds = 10, read_only)]
async fn health(ctx: ToolContext, _p: NoParams) -> Result<HealthReport, Error> {
    let (registry, jobs, cache) =
        (ctx.service::<Registry>()?, ctx.service::<JobManager>()?, ctx.service::<core_cache::Cache>()?);
    let upstreams = ctx.service::<Upstreams>()?;
    Ok(health_report(&registry, &jobs, &cache, &upstreams).await)
}

#[derive(Serialize, schemars::JsonSchema)]
struct MetricsJson {
    /// Metric name → series (labels and value, or count, sum and p50/p95/p99).
    metrics: BTreeMap<String, Vec<Series>>,
}

/// Call counts, errors by kind, in-flight calls, queue waits and latency quantiles per tool and category, as JSON.
#[tool_metadata(category = ops, runtime = Async, priority = 10, timeout_seconds = 10, read_only)]
async fn metrics(ctx: ToolContext, _p: NoParams) -> Result<MetricsJson, Error> {
    Ok(MetricsJson { metrics: ctx.service::<MetricsExporter>()?.json() })
}

#[derive(Serialize, schemars::JsonSchema)]
struct PrometheusText {
    /// The Prometheus text exposition format.
    text: String,
}

/// The same metrics in the Prometheus text exposition format.
#[tool_metadata(category = ops, runtime = Async, priority = 10, timeout_seconds = 10, read_only)]
async fn metrics_prometheus(ctx: ToolContext, _p: NoParams) -> Result<PrometheusText, Error> {
    Ok(PrometheusText { text: ctx.service::<MetricsExporter>()?.prometheus_text() })
}
