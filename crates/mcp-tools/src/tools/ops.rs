//! Ops tools: the health of every subsystem, the upstreams' circuit breakers and the router's metrics.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use tool_metadata::{ToolContext, tool_metadata};

use crate::telemetry::Series;
use core_scrapers::http::{CircuitStatus, Upstreams};

use crate::{Error, Health, HealthReport, MetricsExporter};

#[derive(Deserialize, schemars::JsonSchema)]
struct NoParams {}

/// The health of each subsystem: the tool registry, the job store, the cache backend, the upstreams' circuits.
#[tool_metadata(category = ops, runtime = Async, priority = 10, timeout_seconds = 10, read_only)]
async fn health(ctx: ToolContext, _p: NoParams) -> Result<HealthReport, Error> {
    Ok(ctx.service::<Health>()?.report().await)
}

#[derive(Serialize, schemars::JsonSchema)]
struct Circuits {
    /// One per upstream: pubmed, ctgov, uniprot, chembl.
    circuits: Vec<CircuitStatus>,
}

/// The circuit breaker of each upstream (PubMed, ClinicalTrials.gov, UniProt, ChEMBL): closed, open or
/// half-open, consecutive failures, and when an open circuit lets a probe through.
#[tool_metadata(category = ops, runtime = Async, priority = 10, timeout_seconds = 10, retry = none, read_only)]
async fn circuit_status(ctx: ToolContext, _p: NoParams) -> Result<Circuits, Error> {
    Ok(Circuits { circuits: ctx.service::<Upstreams>()?.circuits() })
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
