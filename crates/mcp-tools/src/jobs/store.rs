//! The durable job store: one SQLite file under the data directory, shared safely by several processes.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use rusqlite::{Connection, OptionalExtension, params};
use serde::{Deserialize, Serialize};
use tool_metadata::{ProgressUpdate, ToolError};

/// Where a job stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum JobStatus {
    /// Still working.
    Running,
    /// Finished with a result.
    Completed,
    /// Finished with an error.
    Failed,
    /// Cancelled by `job_cancel` or the client.
    Cancelled,
    /// The process running it stopped before it finished.
    Interrupted,
}

impl JobStatus {
    /// Every status.
    pub const ALL: [JobStatus; 5] = [
        JobStatus::Running,
        JobStatus::Completed,
        JobStatus::Failed,
        JobStatus::Cancelled,
        JobStatus::Interrupted,
    ];

    /// The snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
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

    /// Whether the job has ended.
    pub fn is_terminal(self) -> bool {
        self != JobStatus::Running
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
    /// The call's arguments.
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
    /// The process that runs (or ran) it.
    pub owner_pid: u32,
    /// The principal that started it (`local` for stdio and the CLI, a token's name, or an HTTP session).
    pub owner: String,
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

pub(crate) struct JobStore {
    conn: Mutex<Connection>,
    path: PathBuf,
}

fn db_err(e: rusqlite::Error) -> ToolError {
    ToolError::new(tool_metadata::ErrorKind::Io, format!("the job store failed: {e}"))
}

const COLUMNS: &str = "id, tool, status, arguments, started_at, updated_at, finished_at, progress, result, error, owner_pid, owner";

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
    })
}

pub(crate) fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

fn pid_alive(pid: u32) -> bool {
    Path::new(&format!("/proc/{pid}")).exists()
}

impl JobStore {
    /// Opens (or creates) the store; jobs whose process is gone come back as `interrupted`.
    pub(crate) fn open(dir: &Path, instance: &str) -> Result<JobStore, ToolError> {
        std::fs::create_dir_all(dir).map_err(|e| {
            ToolError::new(
                tool_metadata::ErrorKind::Io,
                format!("cannot create the data dir {}: {e}", dir.display()),
            )
        })?;
        let path = dir.join("jobs.sqlite3");
        let conn = Connection::open(&path).map_err(db_err)?;
        conn.busy_timeout(std::time::Duration::from_secs(5)).map_err(db_err)?;
        conn.pragma_update(None, "journal_mode", "WAL").map_err(db_err)?;
        conn.pragma_update(None, "synchronous", "NORMAL").map_err(db_err)?;
        conn.execute_batch(
            "CREATE TABLE IF NOT EXISTS jobs (
                id TEXT PRIMARY KEY, tool TEXT NOT NULL, status TEXT NOT NULL, arguments TEXT,
                started_at TEXT NOT NULL, updated_at TEXT NOT NULL, finished_at TEXT,
                progress TEXT, result TEXT, error TEXT, output TEXT NOT NULL DEFAULT '',
                read_offset INTEGER NOT NULL DEFAULT 0, owner_pid INTEGER NOT NULL, owner_instance TEXT NOT NULL);
             CREATE INDEX IF NOT EXISTS jobs_started ON jobs(started_at);",
        )
        .map_err(db_err)?;
        // Stores made before jobs had owners: their jobs belong to the local user.
        let has_owner = conn
            .prepare("SELECT 1 FROM pragma_table_info('jobs') WHERE name = 'owner'")
            .and_then(|mut s| s.exists([]))
            .map_err(db_err)?;
        if !has_owner {
            conn.execute_batch(&format!(
                "ALTER TABLE jobs ADD COLUMN owner TEXT NOT NULL DEFAULT '{}'",
                tool_metadata::Principal::LOCAL
            ))
            .map_err(db_err)?;
        }
        let store = JobStore { conn: Mutex::new(conn), path };
        store.recover(instance)?;
        Ok(store)
    }

    fn conn(&self) -> std::sync::MutexGuard<'_, Connection> {
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    fn recover(&self, instance: &str) -> Result<(), ToolError> {
        let conn = self.conn();
        let mut stmt = conn
            .prepare("SELECT id, owner_pid, owner_instance FROM jobs WHERE status = 'running'")
            .map_err(db_err)?;
        let running: Vec<(String, u32, String)> = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .map_err(db_err)?
            .filter_map(Result::ok)
            .collect();
        drop(stmt);
        let me = std::process::id();
        let err = ToolError::new(
            tool_metadata::ErrorKind::Io,
            "the process running this job stopped before it finished; run the tool again",
        );
        let err = serde_json::to_string(&err).unwrap_or_default();
        for (id, pid, inst) in running {
            let dead = if pid == me { inst != instance } else { !pid_alive(pid) };
            if dead {
                tracing::warn!(job_id = %id, pid, "job interrupted by the end of its process");
                conn.execute(
                    "UPDATE jobs SET status = 'interrupted', error = ?2, finished_at = ?3, updated_at = ?3
                     WHERE id = ?1 AND status = 'running'",
                    params![id, err, now()],
                )
                .map_err(db_err)?;
            }
        }
        Ok(())
    }

    pub(crate) fn insert(&self, rec: &JobRecord, instance: &str) -> Result<(), ToolError> {
        self.conn()
            .execute(
                &format!(
                    "INSERT INTO jobs ({COLUMNS}, owner_instance) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13)"
                ),
                params![
                    rec.job_id,
                    rec.tool,
                    rec.status.as_str(),
                    rec.arguments.to_string(),
                    rec.started_at,
                    rec.updated_at,
                    rec.finished_at,
                    rec.progress.as_ref().map(|p| serde_json::to_string(p).unwrap_or_default()),
                    None::<String>,
                    None::<String>,
                    rec.owner_pid,
                    rec.owner,
                    instance,
                ],
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

    pub(crate) fn finish(
        &self,
        id: &str,
        status: JobStatus,
        result: Option<&serde_json::Value>,
        error: Option<&ToolError>,
        output: &str,
    ) -> Result<(), ToolError> {
        let result = result.map(|r| r.to_string());
        let error = error.map(|e| serde_json::to_string(e).unwrap_or_default());
        let t = now();
        self.conn()
            .execute(
                "UPDATE jobs SET status = ?2, result = ?3, error = ?4, output = output || ?5,
                 finished_at = ?6, updated_at = ?6 WHERE id = ?1 AND status = 'running'",
                params![id, status.as_str(), result, error, output, t],
            )
            .map(|_| ())
            .map_err(db_err)
    }

    pub(crate) fn get(&self, id: &str) -> Result<Option<JobRecord>, ToolError> {
        self.conn()
            .query_row(&format!("SELECT {COLUMNS} FROM jobs WHERE id = ?1"), params![id], row_to_record)
            .optional()
            .map_err(db_err)
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
