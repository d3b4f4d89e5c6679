//! The job manager: starts, follows, cancels and prunes jobs over the durable store.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Mutex;
use std::time::Duration;

use serde::Serialize;
use tokio::sync::broadcast;
use tokio_util::sync::CancellationToken;
use tool_metadata::{ErrorKind, Principal, ToolError};

use super::store::{JobStore, ProgressJson, now};
use super::{JobRecord, JobStatus};

/// What a call that became a job answers.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct JobTicket {
    /// Follow it with `job_status`.
    pub job_id: String,
    /// Always `running` when issued.
    pub status: JobStatus,
    /// The tool it runs.
    pub tool: String,
    /// When the call started (RFC 3339).
    pub started_at: String,
    /// What to do next.
    pub hint: String,
}

/// A job running in this process: how to cancel it, and whose it is.
struct Live {
    cancel: CancellationToken,
    owner: String,
}

/// Jobs of this process (cancellable) over the durable store (all processes). Every read and change is on
/// behalf of a [`Principal`], which sees only its own jobs unless it is an operator; a job of another
/// principal reads as unknown.
pub struct JobManager {
    store: JobStore,
    instance: String,
    live: Mutex<HashMap<String, Live>>,
    changes: broadcast::Sender<String>,
}

impl std::fmt::Debug for JobManager {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JobManager").field("store", &self.store.path()).finish()
    }
}

/// The owner a principal's listings are limited to (`None`: an operator sees every owner's).
fn owner_filter(principal: &Principal) -> Option<&str> {
    (!principal.is_operator()).then(|| principal.name())
}

fn new_id() -> String {
    let u = uuid::Uuid::now_v7().simple().to_string();
    // The time-ordered prefix plus random bits: sortable and unique.
    format!("job-{}{}", &u[..12], &u[20..])
}

impl JobManager {
    /// Opens the store in `data_dir`; jobs whose process died come back as `interrupted`.
    pub fn open(data_dir: &Path) -> Result<JobManager, ToolError> {
        let instance = uuid::Uuid::new_v4().simple().to_string();
        let store = JobStore::open(data_dir, &instance)?;
        let (changes, _) = broadcast::channel(256);
        Ok(JobManager { store, instance, live: Mutex::new(HashMap::new()), changes })
    }

    /// A feed of the ids of jobs that changed in this process: started, progress recorded (throttled like
    /// the record itself), finished, cancelled or pruned. A slow receiver skips ahead (`Lagged`).
    pub fn subscribe_changes(&self) -> broadcast::Receiver<String> {
        self.changes.subscribe()
    }

    fn changed(&self, job_id: &str) {
        // No receiver is fine: nobody follows jobs right now.
        let _ = self.changes.send(job_id.to_owned());
    }

    fn live(&self) -> std::sync::MutexGuard<'_, HashMap<String, Live>> {
        self.live.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Where the store lives.
    pub fn store_path(&self) -> &Path {
        self.store.path()
    }

    /// Records a running job of `principal` for a call that is still working. Its arguments are stored
    /// with every secret-looking value redacted.
    pub(crate) fn start(
        &self,
        principal: &Principal,
        tool: &str,
        arguments: &serde_json::Value,
        started_at: &str,
        cancel: CancellationToken,
        progress: Option<ProgressJson>,
    ) -> Result<JobTicket, ToolError> {
        let job_id = new_id();
        let rec = JobRecord {
            job_id: job_id.clone(),
            tool: tool.to_owned(),
            status: JobStatus::Running,
            arguments: super::secrets::redact(arguments),
            started_at: started_at.to_owned(),
            updated_at: now(),
            finished_at: None,
            progress,
            result: None,
            error: None,
            owner_pid: std::process::id(),
            owner: principal.name().to_owned(),
        };
        self.store.insert(&rec, &self.instance)?;
        self.live().insert(job_id.clone(), Live { cancel, owner: principal.name().to_owned() });
        self.changed(&job_id);
        metrics::counter!("pipette_jobs_started_total", "tool" => tool.to_owned()).increment(1);
        Ok(JobTicket {
            hint: format!("the call continues as job {job_id}; poll job_status with this job_id"),
            job_id,
            status: JobStatus::Running,
            tool: tool.to_owned(),
            started_at: started_at.to_owned(),
        })
    }

    pub(crate) fn progress(&self, job_id: &str, progress: &ProgressJson, output: &str) {
        match self.store.update_progress(job_id, progress, output) {
            Ok(()) => self.changed(job_id),
            Err(e) => tracing::warn!(job_id, error = %e, "could not record job progress"),
        }
    }

    pub(crate) fn finish(&self, job_id: &str, outcome: &Result<serde_json::Value, ToolError>, output: &str) {
        self.live().remove(job_id);
        let (status, result, error) = match outcome {
            Ok(v) => (JobStatus::Completed, Some(v), None),
            Err(e) if e.kind == ErrorKind::Cancelled => (JobStatus::Cancelled, None, Some(e)),
            Err(e) => (JobStatus::Failed, None, Some(e)),
        };
        metrics::counter!("pipette_jobs_finished_total", "status" => status.as_str()).increment(1);
        if let Err(e) = self.store.finish(job_id, status, result, error, output) {
            tracing::error!(job_id, error = %e, "could not record the end of a job");
        }
        self.changed(job_id);
    }

    /// The job, with its output (all, or only what is new since the last incremental look).
    pub fn status(
        &self,
        principal: &Principal,
        job_id: &str,
        incremental: bool,
    ) -> Result<(JobRecord, String), ToolError> {
        let rec = self.get(principal, job_id)?;
        let output = self.store.read_output(job_id, incremental)?;
        Ok((rec, output))
    }

    /// The job's record, when `principal` may see it (another principal's job reads as unknown).
    pub fn get(&self, principal: &Principal, job_id: &str) -> Result<JobRecord, ToolError> {
        match self.store.get(job_id)? {
            Some(rec) if principal.may_access(&rec.owner) => Ok(rec),
            _ => Err(ToolError::not_found(format!("no job `{job_id}`; job_list shows your jobs"))
                .with_param("job_id")),
        }
    }

    /// Jobs `principal` may see, newest first (an anonymous caller has none to list).
    pub fn list(
        &self,
        principal: &Principal,
        status: Option<JobStatus>,
        tool: Option<&str>,
        limit: usize,
    ) -> Result<Vec<JobRecord>, ToolError> {
        if !principal.may_list() {
            return Ok(Vec::new());
        }
        self.store.list(status, tool, owner_filter(principal), limit)
    }

    /// Cancels a running job of this process and waits (briefly) until it has stopped.
    pub async fn cancel(&self, principal: &Principal, job_id: &str) -> Result<JobRecord, ToolError> {
        let rec = self.get(principal, job_id)?;
        if rec.status.is_terminal() {
            return Ok(rec);
        }
        let token = self.live().get(job_id).map(|l| l.cancel.clone());
        let Some(token) = token else {
            return Err(ToolError::new(
                ErrorKind::Conflict,
                format!(
                    "job `{job_id}` runs in another pipette process (pid {}); cancel it there",
                    rec.owner_pid
                ),
            ));
        };
        token.cancel();
        for _ in 0..100 {
            let rec = self.get(principal, job_id)?;
            if rec.status.is_terminal() {
                return Ok(rec);
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        self.get(principal, job_id)
    }

    /// Deletes `principal`'s jobs in `statuses` that ended more than `older_than` ago; its running jobs of
    /// this process are cancelled first when `running` is among the statuses.
    pub async fn prune(
        &self,
        principal: &Principal,
        older_than: Duration,
        statuses: &[JobStatus],
    ) -> Result<Vec<String>, ToolError> {
        if !principal.may_list() {
            return Ok(Vec::new());
        }
        if statuses.contains(&JobStatus::Running) {
            let tokens: Vec<(String, CancellationToken)> = self
                .live()
                .iter()
                .filter(|(_, l)| principal.may_access(&l.owner))
                .map(|(k, l)| (k.clone(), l.cancel.clone()))
                .collect();
            for (id, t) in tokens {
                t.cancel();
                let _ = self.cancel(principal, &id).await;
            }
        }
        let cutoff = chrono::Utc::now() - chrono::Duration::from_std(older_than).unwrap_or_default();
        let before = cutoff.to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        let pruned = self.store.prune(&before, statuses, owner_filter(principal))?;
        for id in &pruned {
            self.changed(id);
        }
        Ok(pruned)
    }

    /// Jobs in the store.
    pub fn count(&self) -> Result<u64, ToolError> {
        self.store.count()
    }
}
