//! The descriptor `#[tool_metadata]` registers: metadata, schemas and a type-erased handler.

use std::future::Future;
use std::pin::Pin;

use serde::Serialize;

use crate::{ToolContext, ToolError};

/// The future a handler returns.
pub type HandlerFuture = Pin<Box<dyn Future<Output = Result<serde_json::Value, ToolError>> + Send>>;
/// A type-erased tool handler: JSON arguments in, JSON result out.
pub type HandlerFn = fn(serde_json::Value, ToolContext) -> HandlerFuture;
/// Builds a JSON schema.
pub type SchemaFn = fn() -> serde_json::Value;

/// The family a tool belongs to; limits and metrics are kept per category.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    /// PubMed, ClinicalTrials.gov, mutation matching, biomolecules.
    Research,
    /// The local full-text indexes.
    Indexing,
    /// Test suites and linters.
    Testing,
    /// Background jobs.
    Jobs,
    /// The cache.
    Cache,
    /// Health and metrics.
    Ops,
    /// Fixtures for tests and protocol conformance; never in a production build.
    Fixture,
    /// Workflows: durable DAGs of tool calls.
    Workflows,
}

impl Category {
    /// Every category, in order.
    pub const ALL: [Category; 8] = [
        Category::Research,
        Category::Indexing,
        Category::Testing,
        Category::Jobs,
        Category::Cache,
        Category::Ops,
        Category::Fixture,
        Category::Workflows,
    ];

    /// The snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Category::Research => "research",
            Category::Indexing => "indexing",
            Category::Testing => "testing",
            Category::Jobs => "jobs",
            Category::Cache => "cache",
            Category::Ops => "ops",
            Category::Fixture => "fixture",
            Category::Workflows => "workflows",
        }
    }
}

/// Where a call runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, schemars::JsonSchema)]
pub enum Runtime {
    /// On the main tokio runtime: I/O-bound work.
    Async,
    /// On a bounded pool of its own, so CPU or blocking work never stalls I/O.
    Blocking,
    /// Spawns child processes; bounded by the number of concurrent children.
    Process,
}

impl Runtime {
    /// Every runtime, in order.
    pub const ALL: [Runtime; 3] = [Runtime::Async, Runtime::Blocking, Runtime::Process];

    /// The name as written in the attribute.
    pub fn as_str(self) -> &'static str {
        match self {
            Runtime::Async => "Async",
            Runtime::Blocking => "Blocking",
            Runtime::Process => "Process",
        }
    }
}

/// How the router retries an error that the tool marks retryable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum RetryPolicy {
    /// One attempt.
    None,
    /// Up to `retries` more attempts, `delay_ms` apart.
    Fixed {
        /// Retries after the first attempt.
        retries: u32,
        /// Delay between attempts.
        delay_ms: u64,
    },
    /// Up to `retries` more attempts, `base_ms`, 2×, 4×… apart.
    Exponential {
        /// Retries after the first attempt.
        retries: u32,
        /// The first delay.
        base_ms: u64,
    },
}

impl RetryPolicy {
    /// Retries after the first attempt.
    pub fn retries(self) -> u32 {
        match self {
            RetryPolicy::None => 0,
            RetryPolicy::Fixed { retries, .. } | RetryPolicy::Exponential { retries, .. } => retries,
        }
    }
}

/// The MCP annotation hints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Annotations {
    /// The tool does not modify its environment.
    pub read_only: bool,
    /// The tool may perform destructive updates.
    pub destructive: bool,
    /// Calling it twice with the same arguments has no additional effect.
    pub idempotent: bool,
    /// The tool talks to the outside world.
    pub open_world: bool,
}

/// One tool, as declared by `#[tool_metadata]`.
#[derive(Debug)]
pub struct ToolDescriptor {
    /// The tool's name (the function's name unless `name = ".."`).
    pub name: &'static str,
    /// The doc comment.
    pub description: &'static str,
    /// Its family.
    pub category: Category,
    /// Where it runs.
    pub runtime: Runtime,
    /// 0 (lowest) to 10: the order of admission when its runtime is saturated.
    pub priority: u8,
    /// The whole call's deadline, inline or as a job.
    pub timeout_seconds: u64,
    /// How long a caller waits before the call becomes a job; `None` takes the configured default.
    pub inline_ms: Option<u64>,
    /// The retry policy for retryable errors.
    pub retry: RetryPolicy,
    /// Results are cached this long, keyed by the arguments.
    pub cache_ttl_seconds: Option<u64>,
    /// MCP annotation hints.
    pub annotations: Annotations,
    /// The tool takes an `index` argument that also keeps its results in a local index (`indexes_results`
    /// in `#[tool_metadata]`): a side effect, so a call that gives it is neither answered from nor stored in
    /// the result cache.
    pub indexes_results: bool,
    /// Why the tool is deprecated and what to use instead.
    pub deprecated: Option<&'static str>,
    /// The input JSON schema.
    pub input_schema: SchemaFn,
    /// The output JSON schema.
    pub output_schema: SchemaFn,
    /// The type-erased handler.
    pub handler: HandlerFn,
    /// Where it is declared (`file:line`), for duplicate-name errors.
    pub source: &'static str,
}
