//! The durable job store: one SQLite file under the data directory, shared safely by several processes.

use std::path::Path;
use std::sync::Mutex;

use rusqlite::{Connection, OptionalExtension, params};
use serde::{Deserialize, Serialize};
use tool_metadata::{ProgressUpdate, ToolError};

/// Where a job stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum JobStatus {
    /// Waiting for a process to run it (a detached call, a resumed job, or one whose process died).
    Queued,
    /// Still working.
    Running,
    /// Finished with a result.
    Completed,
    /// Finished with an error.
    Failed,
    /// Cancelled by `job_cancel` or the client.
    Cancelled,
    /// The process running it stopped before it finished (`job_resume` runs it again).
    Interrupted,
}

impl JobStatus {
    /// Every status.
    pub const ALL: [JobStatus; 6] = [
        JobStatus::Queued,
        JobStatus::Running,
        JobStatus::Completed,
        JobStatus::Failed,
        JobStatus::Cancelled,
        JobStatus::Interrupted,
    ];

    /// The snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            JobStatus::Queued => "queued",
            JobStatus::Running => "running",
            JobStatus::Completed => "completed",
            JobStatus::Failed => "failed",
            JobStatus::Cancelled => "cancelled",
            JobStatus::Interrupted => "interrupted",
        }
    }

    fn parse(s: &str) -> JobStatus {
        JobStatus::ALL.into_iter().find(|j| j.as_str() == s).unwrap_or(JobStatus::Interrupted)
    }

    /// Whether the job has ended (neither queued nor running).
    pub fn is_terminal(self) -> bool {
        !matches!(self, JobStatus::Running | JobStatus::Queued)
    }
}

/// A job as stored.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct JobRecord {
    /// The job's id.
    pub job_id: String,
    /// The tool it runs.
    pub tool: String,
    /// Where it stands.
    pub status: JobStatus,
    /// The call's arguments, secrets redacted.
    pub arguments: serde_json::Value,
    /// When the call started (RFC 3339).
    pub started_at: String,
    /// When the record last changed.
    pub updated_at: String,
    /// When it ended.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub finished_at: Option<String>,
    /// The latest progress report.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub progress: Option<ProgressJson>,
    /// The result, once completed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub result: Option<serde_json::Value>,
    /// The error, once failed, cancelled or interrupted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<ToolError>,
    /// The process that runs (or ran, or queued) it.
    pub owner_pid: u32,
    /// The principal that started it (`local` for stdio and the CLI, a token's name, or an HTTP session).
    pub owner: String,
    /// Times a process has started it (a job whose process died is run again up to the tool's retry
    /// policy; `job_resume` adds one).
    #[serde(default)]
    pub attempts: u32,
    /// The items of a batch finished so far, in order (kept while the job has no result, so an interrupted
    /// batch keeps them; `job_status` only).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub partial: Vec<serde_json::Value>,
}

/// A progress report as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ProgressJson {
    /// Work done.
    pub current: u64,
    /// Total work, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub total: Option<u64>,
    /// What is happening.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

impl From<&ProgressUpdate> for ProgressJson {
    fn from(p: &ProgressUpdate) -> Self {
        ProgressJson { current: p.current, total: p.total, message: p.message.clone() }
    }
}

/// A job claimed from the queue: its record, its real arguments and the items it had finished.
pub(crate) struct Claimed {
    pub(crate) record: JobRecord,
    pub(crate) arguments: serde_json::Value,
    pub(crate) items: Vec<(u64, serde_json::Value)>,
}

/// A new job as the store takes it.
pub(crate) struct NewJob<'a> {
    pub(crate) record: &'a JobRecord,
    /// The real arguments (kept while the job may still run; see `secrets.rs`).
    pub(crate) run_args: &'a serde_json::Value,
    pub(crate) max_attempts: u32,
    /// The running instance and its lease, or `None` for a queued job.
    pub(crate) runner: Option<(&'a str, i64)>,
}

pub(crate) struct JobStore {
    conn: Mutex<Connection>,
}

fn db_err(e: rusqlite::Error) -> ToolError {
    ToolError::new(tool_metadata::ErrorKind::Io, format!("the job store failed: {e}"))
}

const COLUMNS: &str = "id, tool, status, arguments, started_at, updated_at, finished_at, progress, result, error, owner_pid, owner, attempts";

fn row_to_record(row: &rusqlite::Row<'_>) -> rusqlite::Result<JobRecord> {
    let json = |i: usize| -> rusqlite::Result<Option<String>> { row.get(i) };
    Ok(JobRecord {
        job_id: row.get(0)?,
        tool: row.get(1)?,
        status: JobStatus::parse(&row.get::<_, String>(2)?),
        arguments: json(3)?.and_then(|s| serde_json::from_str(&s).ok()).unwrap_or_default(),
        started_at: row.get(4)?,
        updated_at: row.get(5)?,
        finished_at: row.get(6)?,
        progress: json(7)?.and_then(|s| serde_json::from_str(&s).ok()),
        result: json(8)?.and_then(|s| serde_json::from_str(&s).ok()),
        error: json(9)?.and_then(|s| serde_json::from_str(&s).ok()),
        owner_pid: row.get(10)?,
        owner: row.get(11)?,
        attempts: row.get(12)?,
        partial: Vec::new(),
    })
}

pub(crate) fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// Milliseconds since the epoch: what leases are measured in.
pub(crate) fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

fn pid_alive(pid: u32) -> bool {
    Path::new(&format!("/proc/{pid}")).exists()
}

/// Columns added after the first release of the store, with their definitions.
const ADDED: [(&str, &str); 6] = [
    ("owner", "TEXT NOT NULL DEFAULT 'local'"),
    ("lease_until", "INTEGER NOT NULL DEFAULT 0"),
    ("cancel_requested", "INTEGER NOT NULL DEFAULT 0"),
    ("attempts", "INTEGER NOT NULL DEFAULT 1"),
    ("max_attempts", "INTEGER NOT NULL DEFAULT 1"),
    ("run_args", "TEXT"),
];

impl JobStore {
    /// Opens (or creates) the store.
    pub(crate) fn open(dir: &Path) -> Result<JobStore, ToolError> {
        std::fs::create_dir_all(dir).map_err(|e| {
            ToolError::new(
                tool_metadata::ErrorKind::Io,
                format!("cannot create the data dir {}: {e}", dir.display()),
            )
        })?;
        let path = dir.join("jobs.sqlite3");
        let conn = Connection::open(&path).map_err(db_err)?;
        // The store holds the real arguments of queued and running jobs: readable by its user only.
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let _ = std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600));
        }
        conn.busy_timeout(std::time::Duration::from_secs(5)).map_err(db_err)?;
        conn.pragma_update(None, "journal_mode", "WAL").map_err(db_err)?;
        conn.pragma_update(None, "synchronous", "NORMAL").map_err(db_err)?;
        conn.execute_batch(
            "CREATE TABLE IF NOT EXISTS jobs (
                id TEXT PRIMARY KEY, tool TEXT NOT NULL, status TEXT NOT NULL, arguments TEXT,
                started_at TEXT NOT NULL, updated_at TEXT NOT NULL, finished_at TEXT,
                progress TEXT, result TEXT, error TEXT, output TEXT NOT NULL DEFAULT '',
                read_offset INTEGER NOT NULL DEFAULT 0, owner_pid INTEGER NOT NULL, owner_instance TEXT NOT NULL);
             CREATE INDEX IF NOT EXISTS jobs_started ON jobs(started_at);
             CREATE INDEX IF NOT EXISTS jobs_status ON jobs(status);
             CREATE INDEX IF NOT EXISTS jobs_updated ON jobs(updated_at);
             CREATE TABLE IF NOT EXISTS job_items (
                job_id TEXT NOT NULL, idx INTEGER NOT NULL, value TEXT NOT NULL, PRIMARY KEY (job_id, idx));",
        )
        .map_err(db_err)?;
        // Stores made by earlier versions: add what they lack (their jobs belong to the local user).
        for (name, def) in ADDED {
            let has = conn
                .prepare("SELECT 1 FROM pragma_table_info('jobs') WHERE name = ?1")
                .and_then(|mut s| s.exists([name]))
                .map_err(db_err)?;
            if !has {
                conn.execute_batch(&format!("ALTER TABLE jobs ADD COLUMN {name} {def}")).map_err(db_err)?;
            }
        }
        Ok(JobStore { conn: Mutex::new(conn) })
    }

    fn conn(&self) -> std::sync::MutexGuard<'_, Connection> {
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The jobs changed at or after `since` whose runner is not `instance` (queued ones included), as
    /// `(id, updated_at)`, oldest first, at most 1,000.
    pub(crate) fn changed_by_others(
        &self,
        since: &str,
        instance: &str,
    ) -> Result<Vec<(String, String)>, ToolError> {
        let conn = self.conn();
        let mut stmt = conn
            .prepare_cached(
                "SELECT id, updated_at FROM jobs WHERE updated_at >= ?1 AND owner_instance != ?2
                 ORDER BY updated_at LIMIT 1000",
            )
            .map_err(db_err)?;
        let rows: Result<Vec<_>, _> = stmt
            .query_map(params![since, instance], |r| Ok((r.get(0)?, r.get(1)?)))
            .map_err(db_err)?
            .collect();
        rows.map_err(db_err)
    }

    /// Ends the running jobs whose runner is gone: its lease ran out (it stopped renewing it: dead, hung or
    /// stopped, whatever its PID now is), or its process is surely gone (no such PID on this machine). Such
    /// a job is queued again while it has attempts left under its tool's retry policy and its arguments
    /// were kept, else it is `interrupted` (retryable: `job_resume` runs it again).
    pub(crate) fn expire(&self) -> Result<(), ToolError> {
        let conn = self.conn();
        let mut stmt = conn
            .prepare_cached(
                "SELECT id, owner_pid, lease_until, attempts, max_attempts, run_args IS NOT NULL, tool
                 FROM jobs WHERE status = 'running'",
            )
            .map_err(db_err)?;
        let running: Vec<(String, u32, i64, u32, u32, bool, String)> = stmt
            .query_map([], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?))
            })
            .map_err(db_err)?
            .filter_map(Result::ok)
            .collect();
        drop(stmt);
        let (me, t) = (std::process::id(), now_ms());
        for (id, pid, lease_until, attempts, max_attempts, kept, tool) in running {
            let gone = pid != me && !pid_alive(pid);
            if lease_until >= t && !gone {
                continue;
            }
            if kept && attempts < max_attempts {
                tracing::warn!(job_id = %id, pid, attempts, "job's runner is gone: queued to run again");
                conn.execute(
                    "UPDATE jobs SET status = 'queued', owner_instance = '', lease_until = 0, updated_at = ?2
                     WHERE id = ?1 AND status = 'running' AND lease_until = ?3",
                    params![id, now(), lease_until],
                )
                .map_err(db_err)?;
                continue;
            }
            tracing::warn!(job_id = %id, pid, "job interrupted: its runner is gone");
            let how = if kept {
                format!("job_resume {{\"job_id\": \"{id}\"}} runs it again (a batch only for what is left)")
            } else {
                format!("run `{tool}` again")
            };
            let err = ToolError::new(
                tool_metadata::ErrorKind::Io,
                format!(
                    "the process running this job stopped before it finished (attempt {attempts}); {how}"
                ),
            )
            .with_retryable(true);
            let err = serde_json::to_string(&err).unwrap_or_default();
            conn.execute(
                "UPDATE jobs SET status = 'interrupted', error = ?2, finished_at = ?3, updated_at = ?3
                 WHERE id = ?1 AND status = 'running' AND lease_until = ?4",
                params![id, err, now(), lease_until],
            )
            .map_err(db_err)?;
        }
        Ok(())
    }

    pub(crate) fn insert(&self, job: &NewJob<'_>) -> Result<(), ToolError> {
        let rec = job.record;
        let (instance, lease) = job.runner.unwrap_or(("", 0));
        self.conn()
            .execute(
                "INSERT INTO jobs (id, tool, status, arguments, started_at, updated_at, progress, owner_pid, owner,
                    owner_instance, lease_until, attempts, max_attempts, run_args)
                 VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14)",
                params![
                    rec.job_id,
                    rec.tool,
                    rec.status.as_str(),
                    rec.arguments.to_string(),
                    rec.started_at,
                    rec.updated_at,
                    rec.progress.as_ref().map(|p| serde_json::to_string(p).unwrap_or_default()),
                    std::process::id(),
                    rec.owner,
                    instance,
                    lease,
                    rec.attempts,
                    job.max_attempts,
                    job.run_args.to_string(),
                ],
            )
            .map(|_| ())
            .map_err(db_err)
    }

    /// Takes the oldest queued job of one of `tools` for `instance`, leased until `lease_until`.
    pub(crate) fn claim(
        &self,
        tools: &serde_json::Value,
        instance: &str,
        lease_until: i64,
    ) -> Result<Option<Claimed>, ToolError> {
        let mut conn = self.conn();
        // A cheap read first: an idle consumer polling never takes the write lock.
        let any: bool = conn
            .prepare_cached(
                "SELECT 1 FROM jobs WHERE status = 'queued' AND tool IN (SELECT value FROM json_each(?1)) LIMIT 1",
            )
            .and_then(|mut s| s.exists(params![tools.to_string()]))
            .map_err(db_err)?;
        if !any {
            return Ok(None);
        }
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate).map_err(db_err)?;
        let id: Option<String> = tx
            .query_row(
                "SELECT id FROM jobs WHERE status = 'queued' AND tool IN (SELECT value FROM json_each(?1))
                 ORDER BY started_at, rowid LIMIT 1",
                params![tools.to_string()],
                |r| r.get(0),
            )
            .optional()
            .map_err(db_err)?;
        let Some(id) = id else { return Ok(None) };
        tx.execute(
            "UPDATE jobs SET status = 'running', owner_instance = ?2, owner_pid = ?3, lease_until = ?4,
             attempts = attempts + 1, cancel_requested = 0, updated_at = ?5 WHERE id = ?1",
            params![id, instance, std::process::id(), lease_until, now()],
        )
        .map_err(db_err)?;
        let record = tx
            .query_row(&format!("SELECT {COLUMNS} FROM jobs WHERE id = ?1"), params![id], row_to_record)
            .map_err(db_err)?;
        let arguments: Option<String> = tx
            .query_row("SELECT run_args FROM jobs WHERE id = ?1", params![id], |r| r.get(0))
            .map_err(db_err)?;
        let items = read_items(&tx, &id)?;
        tx.commit().map_err(db_err)?;
        let arguments = arguments.and_then(|a| serde_json::from_str(&a).ok()).unwrap_or_default();
        Ok(Some(Claimed { record, arguments, items }))
    }

    /// Renews the lease of every job `instance` runs; answers those of `ids` it must stop: cancelled
    /// elsewhere (`job_cancel` in another process), or no longer its own (its lease ran out meanwhile).
    pub(crate) fn heartbeat(
        &self,
        instance: &str,
        ids: &[String],
        lease_until: Option<i64>,
    ) -> Result<Vec<String>, ToolError> {
        let conn = self.conn();
        if let Some(until) = lease_until {
            conn.execute(
                "UPDATE jobs SET lease_until = ?2 WHERE owner_instance = ?1 AND status = 'running'",
                params![instance, until],
            )
            .map_err(db_err)?;
        }
        let ids = serde_json::to_string(ids).unwrap_or_default();
        let mut stmt = conn
            .prepare_cached(
                "SELECT id FROM jobs WHERE id IN (SELECT value FROM json_each(?1))
                 AND (status != 'running' OR owner_instance != ?2 OR cancel_requested = 1)",
            )
            .map_err(db_err)?;
        let stop = stmt
            .query_map(params![ids, instance], |r| r.get(0))
            .map_err(db_err)?
            .filter_map(Result::ok)
            .collect();
        Ok(stop)
    }

    /// Asks the process running `id` to cancel it (it sees the flag at its next heartbeat).
    pub(crate) fn request_cancel(&self, id: &str) -> Result<(), ToolError> {
        self.conn()
            .execute("UPDATE jobs SET cancel_requested = 1 WHERE id = ?1 AND status = 'running'", params![id])
            .map(|_| ())
            .map_err(db_err)
    }

    /// Gives a job `instance` runs back to the queue.
    pub(crate) fn release(&self, id: &str, instance: &str) -> Result<bool, ToolError> {
        self.conn()
            .execute(
                "UPDATE jobs SET status = 'queued', owner_instance = '', lease_until = 0, updated_at = ?3
                 WHERE id = ?1 AND status = 'running' AND owner_instance = ?2 AND run_args IS NOT NULL",
                params![id, instance, now()],
            )
            .map(|n| n > 0)
            .map_err(db_err)
    }

    /// Cancels a job nobody runs yet.
    pub(crate) fn cancel_queued(&self, id: &str, error: &ToolError) -> Result<(), ToolError> {
        let error = serde_json::to_string(error).unwrap_or_default();
        self.conn()
            .execute(
                "UPDATE jobs SET status = 'cancelled', error = ?2, finished_at = ?3, updated_at = ?3,
                 run_args = NULL WHERE id = ?1 AND status = 'queued'",
                params![id, error, now()],
            )
            .map(|_| ())
            .map_err(db_err)
    }

    /// Queues an interrupted job again, to run what is left; false when it is not interrupted or its
    /// arguments were not kept.
    pub(crate) fn requeue(&self, id: &str) -> Result<bool, ToolError> {
        self.conn()
            .execute(
                "UPDATE jobs SET status = 'queued', error = NULL, finished_at = NULL, cancel_requested = 0,
                 owner_instance = '', lease_until = 0, max_attempts = attempts + 1, updated_at = ?2
                 WHERE id = ?1 AND status = 'interrupted' AND run_args IS NOT NULL",
                params![id, now()],
            )
            .map(|n| n > 0)
            .map_err(db_err)
    }

    pub(crate) fn add_item(&self, id: &str, index: u64, value: &serde_json::Value) -> Result<(), ToolError> {
        self.conn()
            .execute(
                "INSERT OR REPLACE INTO job_items (job_id, idx, value) VALUES (?1, ?2, ?3)",
                params![id, index as i64, value.to_string()],
            )
            .map(|_| ())
            .map_err(db_err)
    }
    pub(crate) fn update_progress(
        &self,
        id: &str,
        progress: &ProgressJson,
        output: &str,
    ) -> Result<(), ToolError> {
        let p = serde_json::to_string(progress).unwrap_or_default();
        self.conn()
            .execute(
                "UPDATE jobs SET progress = ?2, output = output || ?3, updated_at = ?4 WHERE id = ?1",
                params![id, p, output, now()],
            )
            .map(|_| ())
            .map_err(db_err)
    }

    /// Records the end of a job `instance` runs (a job taken away from it meanwhile is left alone). Its
    /// real arguments are deleted; a completed job's items are too (its result has them all).
    pub(crate) fn finish(
        &self,
        id: &str,
        instance: &str,
        status: JobStatus,
        result: Option<&serde_json::Value>,
        error: Option<&ToolError>,
        output: &str,
    ) -> Result<(), ToolError> {
        let result = result.map(|r| r.to_string());
        let error = error.map(|e| serde_json::to_string(e).unwrap_or_default());
        let t = now();
        let conn = self.conn();
        conn.execute(
            "UPDATE jobs SET status = ?2, result = ?3, error = ?4, output = output || ?5,
             finished_at = ?6, updated_at = ?6, run_args = NULL, lease_until = 0
             WHERE id = ?1 AND status = 'running' AND owner_instance = ?7",
            params![id, status.as_str(), result, error, output, t, instance],
        )
        .map_err(db_err)?;
        if status == JobStatus::Completed {
            conn.execute("DELETE FROM job_items WHERE job_id = ?1", params![id]).map_err(db_err)?;
        }
        Ok(())
    }

    /// The job, with its finished items when it has no result.
    pub(crate) fn get(&self, id: &str) -> Result<Option<JobRecord>, ToolError> {
        let conn = self.conn();
        let rec = conn
            .query_row(&format!("SELECT {COLUMNS} FROM jobs WHERE id = ?1"), params![id], row_to_record)
            .optional()
            .map_err(db_err)?;
        let Some(mut rec) = rec else { return Ok(None) };
        if rec.result.is_none() {
            rec.partial = read_items(&conn, id)?.into_iter().map(|(_, v)| v).collect();
        }
        Ok(Some(rec))
    }

    /// The job's output: all of it, or only what was added since the last incremental read.
    pub(crate) fn read_output(&self, id: &str, incremental: bool) -> Result<String, ToolError> {
        let conn = self.conn();
        let (output, offset): (String, i64) = conn
            .query_row("SELECT output, read_offset FROM jobs WHERE id = ?1", params![id], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .map_err(db_err)?;
        if !incremental {
            return Ok(output);
        }
        let start = usize::try_from(offset).unwrap_or(0).min(output.len());
        let start = (start..=output.len()).find(|&i| output.is_char_boundary(i)).unwrap_or(output.len());
        conn.execute("UPDATE jobs SET read_offset = ?2 WHERE id = ?1", params![id, output.len() as i64])
            .map_err(db_err)?;
        Ok(output[start..].to_owned())
    }

    /// Jobs newest first; `owner` `None` means every owner's.
    pub(crate) fn list(
        &self,
        status: Option<JobStatus>,
        tool: Option<&str>,
        owner: Option<&str>,
        limit: usize,
    ) -> Result<Vec<JobRecord>, ToolError> {
        let conn = self.conn();
        let mut stmt = conn
            .prepare(&format!(
                "SELECT {COLUMNS} FROM jobs WHERE (?1 IS NULL OR status = ?1) AND (?2 IS NULL OR tool = ?2)
                 AND (?4 IS NULL OR owner = ?4)
                 ORDER BY started_at DESC, rowid DESC LIMIT ?3"
            ))
            .map_err(db_err)?;
        let rows = stmt
            .query_map(params![status.map(|s| s.as_str()), tool, limit as i64, owner], row_to_record)
            .map_err(db_err)?;
        rows.collect::<Result<Vec<_>, _>>().map_err(db_err)
    }

    /// Deletes jobs in `statuses` that ended (or, for running ones, started) before `before`; `owner`
    /// `None` means every owner's.
    pub(crate) fn prune(
        &self,
        before: &str,
        statuses: &[JobStatus],
        owner: Option<&str>,
    ) -> Result<Vec<String>, ToolError> {
        let conn = self.conn();
        let mut removed = Vec::new();
        for s in statuses {
            let mut stmt = conn
                .prepare(
                    "SELECT id FROM jobs WHERE status = ?1 AND COALESCE(finished_at, started_at) <= ?2
                     AND (?3 IS NULL OR owner = ?3)",
                )
                .map_err(db_err)?;
            let ids: Vec<String> = stmt
                .query_map(params![s.as_str(), before, owner], |r| r.get(0))
                .map_err(db_err)?
                .filter_map(Result::ok)
                .collect();
            for id in ids {
                conn.execute("DELETE FROM jobs WHERE id = ?1", params![id]).map_err(db_err)?;
                conn.execute("DELETE FROM job_items WHERE job_id = ?1", params![id]).map_err(db_err)?;
                removed.push(id);
            }
        }
        Ok(removed)
    }

    pub(crate) fn count(&self) -> Result<u64, ToolError> {
        self.conn()
            .query_row("SELECT COUNT(*) FROM jobs", [], |r| r.get::<_, i64>(0))
            .map(|n| n as u64)
            .map_err(db_err)
    }
}

fn read_items(conn: &Connection, id: &str) -> Result<Vec<(u64, serde_json::Value)>, ToolError> {
    let mut stmt = conn
        .prepare_cached("SELECT idx, value FROM job_items WHERE job_id = ?1 ORDER BY idx")
        .map_err(db_err)?;
    let rows = stmt
        .query_map(params![id], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?)))
        .map_err(db_err)?
        .filter_map(Result::ok)
        .filter_map(|(i, v)| Some((u64::try_from(i).ok()?, serde_json::from_str(&v).ok()?)))
        .collect();
    Ok(rows)
}
