//! The tools (thin wrappers over the cores), the registry, the router and the job manager.
//!
//! Every call, from MCP, the CLI or a test, goes through one [`Router`]: it validates the arguments
//! against the tool's schema, admits the call by runtime and priority, enforces the deadline, retries
//! what the tool marks retryable, serves cached results, records metrics, and turns long calls into jobs.

mod alerts;
mod assist;
mod config;
#[cfg(feature = "conformance")]
mod conformance;
mod error;
mod format;
mod jobs;
mod limiter;
mod prompts;
pub mod protocol;
mod registry;
mod research_index;
mod resources;
mod roots;
mod router;
mod schema;
mod seen;
mod services;
pub mod shutdown;
mod telemetry;
mod text;
mod tools;
pub mod toolsets;
mod workflow;

pub use alerts::{
    Alert, AlertConfig, AlertList, Alerts, Board, CacheRow, IndexRow, JobRow, LastError, Point, Severity,
    ToolRow, UpstreamRow,
};
pub use config::RouterConfig;
pub use error::Error;
pub use jobs::{JobManager, JobRecord, JobStatus, JobTicket, ProgressJson, WATCH_FALLBACK};
pub use registry::{Registry, RegistryError, RegistryStats, ToolInfo};
pub use research_index::research_documents;
pub use roots::{FILES_DIR, Roots, default_roots};
pub use router::{CallOptions, CallOutcome, QueueFilter, Router};
pub use seen::SeenIds;
pub use services::{Health, HealthReport, HealthStatus, build_router, build_router_with};
pub use telemetry::{MetricsExporter, exported_metrics};
pub use text::{
    DEFAULT_MAX_RESULT_BYTES, MARKDOWN_KEY, bound, json_markdown, max_result_bytes, render_text, result_text,
};
pub use tool_metadata::{Category, ErrorKind, Principal, ProgressUpdate, Runtime, ToolError};
pub use toolsets::{Toolset, Toolsets};
