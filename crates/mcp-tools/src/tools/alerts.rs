//! The `alerts` tool: what the alert rules see as degraded now (ops toolset).

use serde::Deserialize;
use tool_metadata::{ToolContext, tool_metadata};

use crate::format::Shown;
use crate::{AlertList, Alerts, Error};

#[derive(Deserialize, schemars::JsonSchema)]
struct NoParams {}

/// Active alerts (tool or upstream error rates, p99 over budget, open circuits, 429s, rate-limit queueing,
/// failing jobs, disk filling), each with severity, start, cause and a hint. Thresholds: docs/alerts.md.
#[tool_metadata(category = ops, runtime = Async, priority = 10, timeout_seconds = 10, retry = none, read_only)]
async fn alerts(ctx: ToolContext, _p: NoParams) -> Result<Shown<AlertList>, Error> {
    Ok(ctx.service::<Alerts>()?.list().into())
}
