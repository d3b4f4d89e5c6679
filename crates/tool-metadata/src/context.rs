//! What a tool receives besides its parameters: progress reporting, cancellation and shared services.

use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::sync::Arc;

use serde::Serialize;
use tokio_util::sync::CancellationToken;

use crate::{ClientBridge, Principal, ToolError};

/// One progress report.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct ProgressUpdate {
    /// Work done so far.
    pub current: u64,
    /// Total work, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub total: Option<u64>,
    /// What is happening now.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// Receives a call's progress (the router: to the job record and to MCP progress notifications).
pub trait ProgressSink: Send + Sync {
    /// A new progress report.
    fn report(&self, update: ProgressUpdate);
    /// A line of output for the job's log (read incrementally through `job_status`).
    fn log(&self, line: &str);
    /// One finished item of a batch (its position in the batch and its result), kept with the job as it
    /// finishes so an interrupted job keeps what it had done.
    fn item(&self, _index: u64, _value: serde_json::Value) {}
    /// The items a resumed job had already finished, by position (empty for a fresh call).
    fn prior_items(&self) -> Vec<(u64, serde_json::Value)> {
        Vec::new()
    }
}

/// A tool's handle for reporting progress; reports go nowhere when nobody listens.
#[derive(Clone, Default)]
pub struct Progress {
    sink: Option<Arc<dyn ProgressSink>>,
}

impl std::fmt::Debug for Progress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Progress").field("connected", &self.sink.is_some()).finish()
    }
}

impl Progress {
    /// A handle that forwards to `sink`.
    pub fn new(sink: Arc<dyn ProgressSink>) -> Progress {
        Progress { sink: Some(sink) }
    }

    /// Reports `current` of `total` with a message.
    pub fn report(&self, current: u64, total: Option<u64>, message: &str) {
        if let Some(sink) = &self.sink {
            let message = (!message.is_empty()).then(|| message.to_owned());
            sink.report(ProgressUpdate { current, total, message });
        }
    }

    /// Appends a line to the job's output.
    pub fn log(&self, line: &str) {
        if let Some(sink) = &self.sink {
            sink.log(line);
        }
    }

    /// Keeps one finished item of a batch with the job (see [`ProgressSink::item`]).
    pub fn item<T: Serialize>(&self, index: u64, value: &T) {
        if let Some(sink) = &self.sink
            && let Ok(v) = serde_json::to_value(value)
        {
            sink.item(index, v);
        }
    }

    /// The callback shape the core crates take for finished items: `(index, item)`.
    pub fn item_callback<T: Serialize>(&self) -> impl Fn(u64, &T) + Send + Sync + 'static {
        let this = self.clone();
        move |index, value| this.item(index, value)
    }

    /// The items a resumed job had already finished, by position; items that no longer read as `T` are
    /// left out (they are done again).
    pub fn prior_items<T: serde::de::DeserializeOwned>(&self) -> std::collections::BTreeMap<u64, T> {
        let Some(sink) = &self.sink else { return Default::default() };
        sink.prior_items()
            .into_iter()
            .filter_map(|(i, v)| serde_json::from_value(v).ok().map(|t| (i, t)))
            .collect()
    }

    /// The callback shape the core crates take: `(current, total, message)`.
    pub fn callback(&self) -> impl Fn(u64, Option<u64>, &str) + Send + Sync + 'static {
        let this = self.clone();
        move |current, total, message| this.report(current, total, message)
    }
}

/// Shared services by type (index manager, upstream clients, job manager…), set up once by the binary.
#[derive(Default)]
pub struct Extensions {
    map: HashMap<TypeId, Arc<dyn Any + Send + Sync>>,
}

impl std::fmt::Debug for Extensions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Extensions").field("len", &self.map.len()).finish()
    }
}

impl Extensions {
    /// Adds (or replaces) the service of type `T`.
    pub fn insert<T: Any + Send + Sync>(&mut self, value: Arc<T>) {
        self.map.insert(TypeId::of::<T>(), value);
    }

    /// The service of type `T`, if any.
    pub fn get<T: Any + Send + Sync>(&self) -> Option<Arc<T>> {
        self.map.get(&TypeId::of::<T>()).cloned().and_then(|v| v.downcast::<T>().ok())
    }
}

/// What a tool receives besides its parameters. Cheap to clone.
#[derive(Clone)]
pub struct ToolContext {
    tool: &'static str,
    progress: Progress,
    cancel: CancellationToken,
    extensions: Arc<Extensions>,
    client: Option<Arc<dyn ClientBridge>>,
    principal: Principal,
}

impl std::fmt::Debug for ToolContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ToolContext")
            .field("tool", &self.tool)
            .field("progress", &self.progress)
            .field("client", &self.client.is_some())
            .field("principal", &self.principal.name())
            .finish()
    }
}

impl ToolContext {
    /// A context for one call of `tool`.
    pub fn new(
        tool: &'static str,
        progress: Progress,
        cancel: CancellationToken,
        extensions: Arc<Extensions>,
    ) -> ToolContext {
        ToolContext { tool, progress, cancel, extensions, client: None, principal: Principal::local() }
    }

    /// The same context, with the client behind the call (MCP sampling and elicitation).
    pub fn with_client(mut self, client: Option<Arc<dyn ClientBridge>>) -> ToolContext {
        self.client = client;
        self
    }

    /// The same context, on behalf of `principal`.
    pub fn with_principal(mut self, principal: Principal) -> ToolContext {
        self.principal = principal;
        self
    }

    /// Who makes the call (jobs are kept per principal).
    pub fn principal(&self) -> &Principal {
        &self.principal
    }

    /// The client behind the call, when it is an MCP client (none for the CLI and in-process calls).
    pub fn client(&self) -> Option<&Arc<dyn ClientBridge>> {
        self.client.as_ref()
    }

    /// The tool being called.
    pub fn tool(&self) -> &'static str {
        self.tool
    }

    /// The progress handle.
    pub fn progress(&self) -> &Progress {
        &self.progress
    }

    /// Cancelled when the caller cancels or the call times out.
    pub fn cancellation(&self) -> &CancellationToken {
        &self.cancel
    }

    /// The shared service of type `T`; an internal error when the binary did not provide it.
    pub fn service<T: Any + Send + Sync>(&self) -> Result<Arc<T>, ToolError> {
        self.extensions.get::<T>().ok_or_else(|| {
            ToolError::internal(format!(
                "the service {} is not configured in this process",
                std::any::type_name::<T>()
            ))
        })
    }
}
