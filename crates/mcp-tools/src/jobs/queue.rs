//! One job queue interface, two backends: the embedded SQLite store (the default, one machine) and Redis
//! Streams (`REDIS_URL`: many processes on many machines). The manager speaks only this interface.

use tool_metadata::ToolError;

use super::store::{Claimed, JobStore, NewJob, ProgressJson};
use super::{JobRecord, JobStatus};

/// What the job manager needs from where jobs live. Every method is a short blocking call (a local SQLite
/// transaction or a Redis round trip).
pub(crate) trait JobQueue: Send + Sync {
    /// `sqlite` or `redis`.
    fn backend(&self) -> &'static str;
    /// Whether jobs are shared by processes on other machines (then `async_mode` calls are queued, and
    /// changes are published to every instance).
    fn shared(&self) -> bool;
    /// Ends the running jobs whose runner's lease ran out (queued again, or `interrupted`).
    fn expire(&self) -> Result<(), ToolError>;
    fn insert(&self, job: &NewJob<'_>) -> Result<(), ToolError>;
    /// Takes the oldest queued job of one of `tools` (or one whose runner died) for `instance`.
    fn claim(&self, tools: &[&str], instance: &str, lease_until: i64) -> Result<Option<Claimed>, ToolError>;
    /// Renews `instance`'s leases; answers the ids of `ids` it must stop (cancelled, or taken away).
    fn heartbeat(
        &self,
        instance: &str,
        ids: &[String],
        lease_until: Option<i64>,
    ) -> Result<Vec<String>, ToolError>;
    fn request_cancel(&self, id: &str) -> Result<(), ToolError>;
    /// Gives a job `instance` runs back to the queue (a worker that stops), for another consumer.
    fn release(&self, id: &str, instance: &str) -> Result<bool, ToolError>;
    fn cancel_queued(&self, id: &str, error: &ToolError) -> Result<(), ToolError>;
    fn requeue(&self, id: &str) -> Result<bool, ToolError>;
    fn add_item(&self, id: &str, index: u64, value: &serde_json::Value) -> Result<(), ToolError>;
    fn update_progress(&self, id: &str, progress: &ProgressJson, output: &str) -> Result<(), ToolError>;
    #[allow(clippy::too_many_arguments)]
    fn finish(
        &self,
        id: &str,
        instance: &str,
        status: JobStatus,
        result: Option<&serde_json::Value>,
        error: Option<&ToolError>,
        output: &str,
    ) -> Result<(), ToolError>;
    fn get(&self, id: &str) -> Result<Option<JobRecord>, ToolError>;
    fn read_output(&self, id: &str, incremental: bool) -> Result<String, ToolError>;
    fn list(
        &self,
        status: Option<JobStatus>,
        tool: Option<&str>,
        owner: Option<&str>,
        limit: usize,
    ) -> Result<Vec<JobRecord>, ToolError>;
    fn prune(
        &self,
        before: &str,
        statuses: &[JobStatus],
        owner: Option<&str>,
    ) -> Result<Vec<String>, ToolError>;
    fn count(&self) -> Result<u64, ToolError>;
    /// Tells every instance that job `id` changed (Redis: published; SQLite: nothing beyond this process).
    fn publish(&self, _id: &str) {}
}

impl JobQueue for JobStore {
    fn backend(&self) -> &'static str {
        "sqlite"
    }
    fn shared(&self) -> bool {
        false
    }
    fn expire(&self) -> Result<(), ToolError> {
        JobStore::expire(self)
    }
    fn insert(&self, job: &NewJob<'_>) -> Result<(), ToolError> {
        JobStore::insert(self, job)
    }
    fn claim(&self, tools: &[&str], instance: &str, lease_until: i64) -> Result<Option<Claimed>, ToolError> {
        JobStore::claim(self, &serde_json::json!(tools), instance, lease_until)
    }
    fn heartbeat(
        &self,
        instance: &str,
        ids: &[String],
        lease_until: Option<i64>,
    ) -> Result<Vec<String>, ToolError> {
        JobStore::heartbeat(self, instance, ids, lease_until)
    }
    fn request_cancel(&self, id: &str) -> Result<(), ToolError> {
        JobStore::request_cancel(self, id)
    }
    fn release(&self, id: &str, instance: &str) -> Result<bool, ToolError> {
        JobStore::release(self, id, instance)
    }
    fn cancel_queued(&self, id: &str, error: &ToolError) -> Result<(), ToolError> {
        JobStore::cancel_queued(self, id, error)
    }
    fn requeue(&self, id: &str) -> Result<bool, ToolError> {
        JobStore::requeue(self, id)
    }
    fn add_item(&self, id: &str, index: u64, value: &serde_json::Value) -> Result<(), ToolError> {
        JobStore::add_item(self, id, index, value)
    }
    fn update_progress(&self, id: &str, progress: &ProgressJson, output: &str) -> Result<(), ToolError> {
        JobStore::update_progress(self, id, progress, output)
    }
    fn finish(
        &self,
        id: &str,
        instance: &str,
        status: JobStatus,
        result: Option<&serde_json::Value>,
        error: Option<&ToolError>,
        output: &str,
    ) -> Result<(), ToolError> {
        JobStore::finish(self, id, instance, status, result, error, output)
    }
    fn get(&self, id: &str) -> Result<Option<JobRecord>, ToolError> {
        JobStore::get(self, id)
    }
    fn read_output(&self, id: &str, incremental: bool) -> Result<String, ToolError> {
        JobStore::read_output(self, id, incremental)
    }
    fn list(
        &self,
        status: Option<JobStatus>,
        tool: Option<&str>,
        owner: Option<&str>,
        limit: usize,
    ) -> Result<Vec<JobRecord>, ToolError> {
        JobStore::list(self, status, tool, owner, limit)
    }
    fn prune(
        &self,
        before: &str,
        statuses: &[JobStatus],
        owner: Option<&str>,
    ) -> Result<Vec<String>, ToolError> {
        JobStore::prune(self, before, statuses, owner)
    }
    fn count(&self) -> Result<u64, ToolError> {
        JobStore::count(self)
    }
}
