//! The job manager: starts, follows, cancels, resumes and prunes jobs over the durable store, which is also
//! the queue that detached and left-behind jobs wait in.
//!
//! A running job is held by a lease: its runner (this manager's instance id) renews `lease_until` with a
//! heartbeat while the job runs. A job whose lease ran out has no runner (dead, hung or stopped, whatever
//! its PID now shows) and is queued again or marked `interrupted` on the next look at the store. The same
//! heartbeat reads the cancel flag that `job_cancel` in another process sets.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock, Weak};
use std::time::{Duration, Instant};

use serde::Serialize;
use tokio::sync::{Notify, broadcast};
use tokio_util::sync::CancellationToken;
use tool_metadata::{ErrorKind, Principal, RetryPolicy, ToolError};

use super::queue::JobQueue;
use super::store::{Claimed, JobStore, NewJob, ProgressJson, now, now_ms};
use super::{JobRecord, JobStatus};

/// What a call that became a job answers.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct JobTicket {
    /// Follow it with `job_status`.
    pub job_id: String,
    /// `running`, or `queued` for a detached call.
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

/// How long a runner's lease lasts without a heartbeat (`PIPETTE_JOB_LEASE_MS`, default 15 s): a job
/// whose process stopped is known dead at most this long after.
fn lease_duration() -> Duration {
    let ms = std::env::var("PIPETTE_JOB_LEASE_MS").ok().and_then(|v| v.trim().parse::<u64>().ok());
    Duration::from_millis(ms.unwrap_or(15_000).max(300))
}

/// How often the heartbeat looks for cancel flags; the lease is renewed every third of its length.
const TICK: Duration = Duration::from_millis(200);

struct Shared {
    data_dir: PathBuf,
    store: OnceLock<Box<dyn JobQueue>>,
    opening: Mutex<()>,
    instance: String,
    lease: Duration,
    live: Mutex<HashMap<String, Live>>,
    changes: broadcast::Sender<String>,
    queued: Arc<Notify>,
    heartbeat: AtomicBool,
}

/// Jobs of this process (cancellable) over the durable store (all processes). Every read and change is on
/// behalf of a [`Principal`], which sees only its own jobs unless it is an operator; a job of another
/// principal reads as unknown. The store is opened on first use, not at start-up.
pub struct JobManager {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for JobManager {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JobManager").field("store", &self.store_path()).finish()
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

/// Times a job may be started by a process under its tool's retry policy (a job whose process died is
/// run again while it has attempts left).
pub(crate) fn max_attempts(retry: RetryPolicy) -> u32 {
    match retry {
        RetryPolicy::None => 1,
        RetryPolicy::Fixed { retries, .. } | RetryPolicy::Exponential { retries, .. } => {
            retries.saturating_add(1)
        }
    }
}

/// Hears the changes other processes make to jobs in the SQLite store of `data_dir` (a detached call run
/// by a `pipette worker`, a job another `pipette-mcp` claimed) and forwards their ids to `tx`, so `job://`
/// subscribers and followers in this process hear them as Redis publishes them to every instance. Polls
/// every `PIPETTE_QUEUE_POLL_MS` (default 200 ms) on a connection of its own, only while someone listens.
fn watch_store(data_dir: &std::path::Path, instance: &str, tx: broadcast::Sender<String>) {
    let Ok(handle) = tokio::runtime::Handle::try_current() else { return };
    let (data_dir, instance) = (data_dir.to_path_buf(), instance.to_owned());
    let poll = Duration::from_millis(
        std::env::var("PIPETTE_QUEUE_POLL_MS").ok().and_then(|v| v.trim().parse().ok()).unwrap_or(200),
    );
    handle.spawn(async move {
        let store = match JobStore::open(&data_dir) {
            Ok(s) => s,
            Err(e) => {
                return tracing::warn!(error = %e, "cannot watch the job store for other processes' changes");
            }
        };
        let mut since = now();
        // The rows seen at `since` itself: the next look (`>= since`) skips them.
        let mut seen_at_since: HashSet<String> = HashSet::new();
        loop {
            tokio::time::sleep(poll).await;
            if tx.receiver_count() == 0 {
                continue;
            }
            let rows = match store.changed_by_others(&since, &instance) {
                Ok(rows) => rows,
                Err(e) => {
                    tracing::debug!(error = %e, "job store watch failed; trying again");
                    continue;
                }
            };
            for (id, at) in rows {
                if at == since && seen_at_since.contains(&id) {
                    continue;
                }
                if at > since {
                    since = at;
                    seen_at_since.clear();
                }
                seen_at_since.insert(id.clone());
                let _ = tx.send(id);
            }
        }
    });
}

impl Shared {
    /// The queue: Redis when `REDIS_URL` is set (namespace `PIPETTE_CACHE_NAMESPACE`, as the cache), else
    /// the SQLite store in the data dir. Opened on first use.
    fn store(&self) -> Result<&dyn JobQueue, ToolError> {
        if let Some(s) = self.store.get() {
            return Ok(s.as_ref());
        }
        let _once = self.opening.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(s) = self.store.get() {
            return Ok(s.as_ref());
        }
        let started = Instant::now();
        let store: Box<dyn JobQueue> = match std::env::var("REDIS_URL") {
            Ok(url) if !url.trim().is_empty() => {
                let ns = std::env::var("PIPETTE_CACHE_NAMESPACE").unwrap_or_else(|_| "pipette".into());
                let redis = super::redis::RedisJobs::open(&url, &ns)?;
                redis.follow(self.changes.clone(), self.queued.clone());
                Box::new(redis)
            }
            _ => {
                let store = JobStore::open(&self.data_dir)?;
                watch_store(&self.data_dir, &self.instance, self.changes.clone());
                Box::new(store)
            }
        };
        tracing::debug!(
            ms = started.elapsed().as_secs_f64() * 1e3,
            backend = store.backend(),
            "job queue opened"
        );
        Ok(self.store.get_or_init(|| store).as_ref())
    }

    fn live(&self) -> std::sync::MutexGuard<'_, HashMap<String, Live>> {
        self.live.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn changed(&self, job_id: &str) {
        match self.store.get() {
            // Every instance hears it, this one included, through the published feed.
            Some(s) if s.shared() => s.publish(job_id),
            // No receiver is fine: nobody follows jobs right now.
            _ => {
                let _ = self.changes.send(job_id.to_owned());
            }
        }
    }

    fn lease_until(&self) -> i64 {
        now_ms() + i64::try_from(self.lease.as_millis()).unwrap_or(i64::MAX / 2)
    }

    /// One heartbeat: renews the leases (when `renew`), stops the jobs cancelled elsewhere or taken away.
    fn beat(&self, renew: bool) {
        let ids: Vec<String> = self.live().keys().cloned().collect();
        if ids.is_empty() {
            return;
        }
        let Ok(store) = self.store() else { return };
        match store.heartbeat(&self.instance, &ids, renew.then(|| self.lease_until())) {
            Ok(stop) => {
                for id in stop {
                    if let Some(l) = self.live().get(&id) {
                        tracing::info!(job_id = %id, "job cancelled from another process (or its lease lost)");
                        l.cancel.cancel();
                    }
                }
            }
            Err(e) => tracing::warn!(error = %e, "job heartbeat failed"),
        }
    }
}

/// Renews the leases of this manager's running jobs and applies cancel flags, until the manager is gone.
async fn heartbeat(shared: Weak<Shared>) {
    let mut last_renew = Instant::now();
    loop {
        tokio::time::sleep(TICK).await;
        let Some(shared) = shared.upgrade() else { return };
        let renew = last_renew.elapsed() >= shared.lease / 3;
        if renew {
            last_renew = Instant::now();
        }
        let s = shared.clone();
        // SQLite calls block: off the async workers.
        let _ = tokio::task::spawn_blocking(move || s.beat(renew)).await;
    }
}

impl JobManager {
    /// A manager over the store in `data_dir` (opened on first use).
    pub fn open(data_dir: &Path) -> Result<JobManager, ToolError> {
        let (changes, _) = broadcast::channel(256);
        Ok(JobManager {
            shared: Arc::new(Shared {
                data_dir: data_dir.to_owned(),
                store: OnceLock::new(),
                opening: Mutex::new(()),
                instance: uuid::Uuid::new_v4().simple().to_string(),
                lease: lease_duration(),
                live: Mutex::new(HashMap::new()),
                changes,
                queued: Arc::new(Notify::new()),
                heartbeat: AtomicBool::new(false),
            }),
        })
    }

    fn store(&self) -> Result<&dyn JobQueue, ToolError> {
        let store = self.shared.store()?;
        store.expire()?;
        Ok(store)
    }

    /// A feed of the ids of jobs that changed in this process: started, progress recorded (throttled like
    /// the record itself), finished, cancelled or pruned. A slow receiver skips ahead (`Lagged`).
    pub fn subscribe_changes(&self) -> broadcast::Receiver<String> {
        self.shared.changes.subscribe()
    }

    /// Where the store lives.
    pub fn store_path(&self) -> PathBuf {
        self.shared.data_dir.join("jobs.sqlite3")
    }

    /// This manager's instance id: the runner named in the leases it holds.
    pub fn instance(&self) -> &str {
        &self.shared.instance
    }

    fn adopt(&self, job_id: &str, cancel: CancellationToken, owner: &str) {
        self.shared.live().insert(job_id.to_owned(), Live { cancel, owner: owner.to_owned() });
        if !self.shared.heartbeat.swap(true, Ordering::AcqRel) {
            tokio::spawn(heartbeat(Arc::downgrade(&self.shared)));
        }
    }

    fn record(
        principal: &Principal,
        tool: &str,
        arguments: &serde_json::Value,
        status: JobStatus,
    ) -> JobRecord {
        JobRecord {
            job_id: new_id(),
            tool: tool.to_owned(),
            status,
            arguments: super::secrets::redact(arguments),
            started_at: now(),
            updated_at: now(),
            finished_at: None,
            progress: None,
            result: None,
            error: None,
            owner_pid: std::process::id(),
            owner: principal.name().to_owned(),
            attempts: u32::from(status == JobStatus::Running),
            partial: Vec::new(),
        }
    }

    /// Records a running job of `principal` for a call that is still working in this process. The record
    /// keeps its arguments with every secret-looking value redacted; the real ones are kept beside it
    /// until the job ends, so that it can run again if this process dies (see `secrets.rs`).
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn start(
        &self,
        principal: &Principal,
        tool: &str,
        retry: RetryPolicy,
        arguments: &serde_json::Value,
        started_at: &str,
        cancel: CancellationToken,
        progress: Option<ProgressJson>,
    ) -> Result<JobTicket, ToolError> {
        let mut rec = Self::record(principal, tool, arguments, JobStatus::Running);
        rec.started_at = started_at.to_owned();
        rec.progress = progress;
        let lease = self.shared.lease_until();
        let job = NewJob {
            record: &rec,
            run_args: arguments,
            max_attempts: max_attempts(retry),
            runner: Some((&self.shared.instance, lease)),
        };
        self.store()?.insert(&job)?;
        self.adopt(&rec.job_id, cancel, principal.name());
        self.shared.changed(&rec.job_id);
        metrics::counter!("pipette_jobs_started_total", "tool" => tool.to_owned()).increment(1);
        Ok(JobTicket {
            hint: format!("the call continues as job {}; poll job_status with this job_id", rec.job_id),
            job_id: rec.job_id,
            status: JobStatus::Running,
            tool: tool.to_owned(),
            started_at: started_at.to_owned(),
        })
    }

    /// Queues a job for a running `pipette-mcp` or `pipette worker` on the same data dir to run.
    pub(crate) fn enqueue(
        &self,
        principal: &Principal,
        tool: &str,
        retry: RetryPolicy,
        arguments: &serde_json::Value,
    ) -> Result<JobTicket, ToolError> {
        let rec = Self::record(principal, tool, arguments, JobStatus::Queued);
        let job =
            NewJob { record: &rec, run_args: arguments, max_attempts: max_attempts(retry), runner: None };
        self.store()?.insert(&job)?;
        self.shared.changed(&rec.job_id);
        self.shared.queued.notify_one();
        metrics::counter!("pipette_jobs_queued_total", "tool" => tool.to_owned()).increment(1);
        Ok(JobTicket {
            hint: format!(
                "queued as job {}: a running pipette-mcp or `pipette worker` on this data dir runs it; poll \
                 job_status with this job_id",
                rec.job_id
            ),
            job_id: rec.job_id,
            status: JobStatus::Queued,
            tool: tool.to_owned(),
            started_at: rec.started_at,
        })
    }

    /// Takes the oldest queued job of one of `tools` to run in this process (its cancel token is `cancel`).
    pub(crate) fn claim(
        &self,
        tools: &[&str],
        cancel: &CancellationToken,
    ) -> Result<Option<Claimed>, ToolError> {
        let Some(claimed) = self.store()?.claim(tools, &self.shared.instance, self.shared.lease_until())?
        else {
            return Ok(None);
        };
        self.adopt(&claimed.record.job_id, cancel.clone(), &claimed.record.owner);
        self.shared.changed(&claimed.record.job_id);
        metrics::counter!("pipette_jobs_claimed_total", "tool" => claimed.record.tool.clone()).increment(1);
        Ok(Some(claimed))
    }

    /// Waits until a job may have been queued (in this process; on Redis, by any instance), or `timeout`
    /// passes (other processes' jobs on the embedded store are seen by polling).
    pub(crate) async fn queued_or(&self, timeout: Duration) {
        let _ = tokio::time::timeout(timeout, self.shared.queued.notified()).await;
    }

    pub(crate) fn progress(&self, job_id: &str, progress: &ProgressJson, output: &str) {
        let r = self.shared.store().and_then(|s| s.update_progress(job_id, progress, output));
        match r {
            Ok(()) => self.shared.changed(job_id),
            Err(e) => tracing::warn!(job_id, error = %e, "could not record job progress"),
        }
    }

    /// Keeps one finished item of a batch with the job, at once (an interrupted job keeps it).
    pub(crate) fn item(&self, job_id: &str, index: u64, value: &serde_json::Value) {
        if let Err(e) = self.shared.store().and_then(|s| s.add_item(job_id, index, value)) {
            tracing::warn!(job_id, error = %e, "could not keep a finished item of the job");
        }
    }

    pub(crate) fn finish(&self, job_id: &str, outcome: &Result<serde_json::Value, ToolError>, output: &str) {
        self.shared.live().remove(job_id);
        let (status, result, error) = match outcome {
            Ok(v) => (JobStatus::Completed, Some(v), None),
            Err(e) if e.kind == ErrorKind::Cancelled => (JobStatus::Cancelled, None, Some(e)),
            Err(e) => (JobStatus::Failed, None, Some(e)),
        };
        metrics::counter!("pipette_jobs_finished_total", "status" => status.as_str()).increment(1);
        let r = self
            .shared
            .store()
            .and_then(|s| s.finish(job_id, &self.shared.instance, status, result, error, output));
        if let Err(e) = r {
            tracing::error!(job_id, error = %e, "could not record the end of a job");
        }
        self.shared.changed(job_id);
    }

    /// The job, with its output (all, or only what is new since the last incremental look).
    pub fn status(
        &self,
        principal: &Principal,
        job_id: &str,
        incremental: bool,
    ) -> Result<(JobRecord, String), ToolError> {
        let rec = self.get(principal, job_id)?;
        let output = self.store()?.read_output(job_id, incremental)?;
        Ok((rec, output))
    }

    /// The job's record, when `principal` may see it (another principal's job reads as unknown).
    pub fn get(&self, principal: &Principal, job_id: &str) -> Result<JobRecord, ToolError> {
        match self.store()?.get(job_id)? {
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
        self.store()?.list(status, tool, owner_filter(principal), limit)
    }

    /// Cancels a job and waits (briefly) until it has stopped: in this process at once; in another
    /// process by a flag its runner reads at its next heartbeat; a queued job before anyone runs it.
    pub async fn cancel(&self, principal: &Principal, job_id: &str) -> Result<JobRecord, ToolError> {
        let rec = self.get(principal, job_id)?;
        if rec.status.is_terminal() {
            return Ok(rec);
        }
        let token = self.shared.live().get(job_id).map(|l| l.cancel.clone());
        match (token, rec.status) {
            (Some(token), _) => token.cancel(),
            (None, JobStatus::Queued) => {
                let err = ToolError::new(
                    ErrorKind::Cancelled,
                    format!("job `{job_id}` was cancelled before it ran"),
                );
                self.store()?.cancel_queued(job_id, &err)?;
                self.shared.changed(job_id);
            }
            (None, _) => self.store()?.request_cancel(job_id)?,
        }
        // The runner elsewhere sees the flag within a heartbeat tick; its lease bounds the wait otherwise.
        let deadline = Instant::now() + Duration::from_secs(5).max(TICK * 10);
        loop {
            let rec = self.get(principal, job_id)?;
            if rec.status.is_terminal() || Instant::now() >= deadline {
                return Ok(rec);
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Queues an interrupted job of `principal` again: a running `pipette-mcp` or `pipette worker` runs it,
    /// a batch only for the items it had not finished.
    pub fn resume(&self, principal: &Principal, job_id: &str) -> Result<JobRecord, ToolError> {
        let rec = self.get(principal, job_id)?;
        if rec.status != JobStatus::Interrupted {
            return Err(ToolError::new(
                ErrorKind::Conflict,
                format!("job `{job_id}` is {}; only an interrupted job can be resumed", rec.status.as_str()),
            )
            .with_param("job_id"));
        }
        if !self.store()?.requeue(job_id)? {
            return Err(ToolError::new(
                ErrorKind::Conflict,
                format!("job `{job_id}` kept no arguments to run again with; call `{}` again", rec.tool),
            )
            .with_param("job_id"));
        }
        self.shared.changed(job_id);
        self.shared.queued.notify_one();
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
                .shared
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
        let pruned = self.store()?.prune(&before, statuses, owner_filter(principal))?;
        for id in &pruned {
            self.shared.changed(id);
        }
        Ok(pruned)
    }

    /// Gives every job this process runs back to the queue, for another consumer to run (a worker that is
    /// stopping); answers how many. Their tasks here are cancelled; whatever they record after is ignored.
    pub fn release_all(&self) -> usize {
        let live: Vec<(String, CancellationToken)> =
            self.shared.live().iter().map(|(id, l)| (id.clone(), l.cancel.clone())).collect();
        let Ok(store) = self.shared.store() else { return 0 };
        let mut released = 0;
        for (id, cancel) in live {
            match store.release(&id, &self.shared.instance) {
                Ok(true) => {
                    released += 1;
                    self.shared.changed(&id);
                }
                Ok(false) => {}
                Err(e) => tracing::warn!(job_id = %id, error = %e, "could not give a job back to the queue"),
            }
            cancel.cancel();
        }
        released
    }

    /// Jobs in the store.
    pub fn count(&self) -> Result<u64, ToolError> {
        self.store()?.count()
    }

    /// Where jobs live: `sqlite` (the data dir) or `redis`.
    pub fn backend(&self) -> Result<&'static str, ToolError> {
        Ok(self.shared.store()?.backend())
    }

    /// Whether jobs are shared with processes on other machines (Redis): then a call that asks for
    /// `async_mode` is queued for any consumer rather than run here.
    pub fn is_shared(&self) -> bool {
        self.shared.store().is_ok_and(|s| s.shared())
    }
}
