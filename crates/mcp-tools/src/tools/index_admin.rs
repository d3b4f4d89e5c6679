//! Index tools, life cycle and upkeep: load, unload, status, optimize, reshard, metrics, configuration.

use core_indexing::{
    ConfigResponse, ConfigUpdateRequest, IndexManager, IndexRef, IndexStatus, MetricsReport, MetricsRequest,
    OptimizeRequest, OptimizeResponse, ReshardRequest, ReshardResponse, UnloadResponse,
};
use tool_metadata::{ToolContext, tool_metadata};

use crate::Error;

/// Opens an index (readers and searcher) so the next queries are fast.
#[tool_metadata(category = indexing, runtime = Blocking, priority = 6, timeout_seconds = 120, idempotent)]
async fn index_load(ctx: ToolContext, p: IndexRef) -> Result<IndexStatus, Error> {
    Ok(ctx.service::<IndexManager>()?.load(&p)?)
}

/// Closes an index, releasing its memory and its writer lock; the data stays on disk.
#[tool_metadata(category = indexing, runtime = Blocking, priority = 6, timeout_seconds = 120, idempotent)]
async fn index_unload(ctx: ToolContext, p: IndexRef) -> Result<UnloadResponse, Error> {
    Ok(ctx.service::<IndexManager>()?.unload(&p)?)
}

/// An index's state: loaded or not, documents, segments, bytes on disk, memory estimate, shards, last commit.
#[tool_metadata(category = indexing, runtime = Blocking, priority = 7, timeout_seconds = 30, read_only)]
async fn index_status(ctx: ToolContext, p: IndexRef) -> Result<IndexStatus, Error> {
    Ok(ctx.service::<IndexManager>()?.status(&p)?)
}

/// Merges an index's segments (down to `target_segments`, default 1) and collects garbage files; reports
/// segments and bytes before and after.
#[tool_metadata(category = indexing, runtime = Blocking, priority = 3, timeout_seconds = 3600, inline_ms = 15000)]
async fn index_optimize(ctx: ToolContext, p: OptimizeRequest) -> Result<OptimizeResponse, Error> {
    let progress = ctx.progress().callback();
    Ok(ctx.service::<IndexManager>()?.optimize(&p, &progress)?)
}

/// Rebuilds an index into a new number of shards without losing a document.
#[tool_metadata(category = indexing, runtime = Blocking, priority = 3, timeout_seconds = 7200, inline_ms = 15000)]
async fn index_reshard(ctx: ToolContext, p: ReshardRequest) -> Result<ReshardResponse, Error> {
    let progress = ctx.progress().callback();
    Ok(ctx.service::<IndexManager>()?.reshard(&p, &progress)?)
}

/// Queries, QPS, latency p50/p95/p99, error rate, ingests and docs/s of one index or all, over 1h, 24h or 7d.
#[tool_metadata(category = indexing, runtime = Blocking, priority = 7, timeout_seconds = 30, read_only)]
async fn index_metrics(ctx: ToolContext, p: MetricsRequest) -> Result<MetricsReport, Error> {
    Ok(ctx.service::<IndexManager>()?.metrics(&p)?)
}

/// An index's settings: writer memory budget, merge policy, commit batch size.
#[tool_metadata(category = indexing, runtime = Blocking, priority = 7, timeout_seconds = 30, read_only)]
async fn index_config_get(ctx: ToolContext, p: IndexRef) -> Result<ConfigResponse, Error> {
    Ok(ctx.service::<IndexManager>()?.config_get(&p)?)
}

/// Changes an index's settings and says whether the change needs a rebuild (`index_reshard`).
#[tool_metadata(category = indexing, runtime = Blocking, priority = 5, timeout_seconds = 60, idempotent)]
async fn index_config_update(ctx: ToolContext, p: ConfigUpdateRequest) -> Result<ConfigResponse, Error> {
    Ok(ctx.service::<IndexManager>()?.config_update(&p)?)
}
