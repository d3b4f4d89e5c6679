//! The job queue on Redis (`REDIS_URL`, namespace `PIPETTE_CACHE_NAMESPACE` like the cache): one stream per
//! tool read through one consumer group, records in hashes with a retention TTL, changes published.
//!
//! Keys under `<ns>:`: `job:<id>` (hash: `rec` the record as JSON, `status`, `runner`, `lease_until`,
//! `max_attempts`, `run_args`, `read_offset`, `cancel`, `stream`/`entry` while it came from the queue),
//! `job:<id>:out` (its output), `job:<id>:items` (finished batch items), `jobs` (a sorted set of every id by
//! start), `jobs:live` (jobs running in some process outside the streams), `queue:<tool>` (the stream of
//! queued job ids, group `pipette`), and the channel `jobs:changes`.
//!
//! Delivery is at least once: a consumer reads an entry (XREADGROUP), runs the job and heartbeats (its lease
//! in the hash, and XCLAIM of its own entry, which resets the entry's idle time); an entry idle for longer
//! than the lease belongs to a dead consumer and is claimed again (XAUTOCLAIM) while the job has attempts
//! left under its tool's retry policy, else the job is `interrupted`. Meanwhile any instance that looks at
//! the job sees its lease ran out and shows it `queued` (waiting to be claimed again), never `running`. The
//! entry is acknowledged and deleted when the job ends. A finished job's keys expire after `PIPETTE_JOB_RETENTION_SECS` (default 7 days).

use std::collections::HashSet;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use redis::Value;
use tokio::sync::broadcast;
use tool_metadata::{ErrorKind, ToolError};

use super::queue::JobQueue;
use super::store::{Claimed, NewJob, ProgressJson, now, now_ms};
use super::{JobRecord, JobStatus};

const GROUP: &str = "pipette";

/// A job hash's fields by name.
type Fields = std::collections::HashMap<String, String>;

/// Sets status and record when the status (and, unless `*`, the runner) is as expected; more fields follow
/// as pairs. Answers 1 when applied.
const TRANSITION: &str = r"
local s = redis.call('HGET', KEYS[1], 'status')
if s ~= ARGV[1] then return 0 end
if ARGV[2] ~= '*' and redis.call('HGET', KEYS[1], 'runner') ~= ARGV[2] then return 0 end
redis.call('HSET', KEYS[1], 'status', ARGV[3], 'rec', ARGV[4])
for i = 5, #ARGV, 2 do redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
return 1
";

fn redis_err(e: redis::RedisError) -> ToolError {
    ToolError::new(
        ErrorKind::Io,
        format!("the job queue on redis failed: {e} (check REDIS_URL and redis-server)"),
    )
}

fn text(v: &Value) -> Option<String> {
    match v {
        Value::BulkString(b) => Some(String::from_utf8_lossy(b).into_owned()),
        Value::SimpleString(s) => Some(s.clone()),
        Value::Int(i) => Some(i.to_string()),
        Value::Okay => Some("OK".into()),
        _ => None,
    }
}

fn array(v: Value) -> Vec<Value> {
    match v {
        Value::Array(a) | Value::Set(a) => a,
        _ => Vec::new(),
    }
}

/// The first stream entry in an XREADGROUP / XAUTOCLAIM entry list: (stream, entry id, job id).
fn first_entry(stream: &str, entries: Value) -> Option<(String, String, String)> {
    let entry = array(entries).into_iter().next()?;
    let mut parts = array(entry).into_iter();
    let id = text(&parts.next()?)?;
    let fields = array(parts.next()?);
    let job = fields
        .chunks(2)
        .find(|kv| text(&kv[0]).as_deref() == Some("job"))
        .and_then(|kv| kv.get(1))
        .and_then(text)?;
    Some((stream.to_owned(), id, job))
}

pub(crate) struct RedisJobs {
    client: redis::Client,
    conn: Mutex<Option<redis::Connection>>,
    ns: String,
    retention: u64,
    groups: Mutex<HashSet<String>>,
    last_autoclaim: Mutex<Option<Instant>>,
}

impl RedisJobs {
    /// Connects to `url`; keys go under `namespace:`.
    pub(crate) fn open(url: &str, namespace: &str) -> Result<RedisJobs, ToolError> {
        let client = redis::Client::open(url).map_err(redis_err)?;
        let retention = std::env::var("PIPETTE_JOB_RETENTION_SECS")
            .ok()
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(7 * 24 * 3600);
        let jobs = RedisJobs {
            client,
            conn: Mutex::new(None),
            ns: namespace.to_owned(),
            retention,
            groups: Mutex::new(HashSet::new()),
            last_autoclaim: Mutex::new(None),
        };
        jobs.query::<String>(&mut redis::cmd("PING"))?;
        Ok(jobs)
    }

    fn key(&self, rest: &str) -> String {
        format!("{}:{rest}", self.ns)
    }

    fn job_key(&self, id: &str) -> String {
        self.key(&format!("job:{id}"))
    }

    fn stream(&self, tool: &str) -> String {
        self.key(&format!("queue:{tool}"))
    }

    fn with_conn<T>(
        &self,
        f: impl FnOnce(&mut redis::Connection) -> redis::RedisResult<T>,
    ) -> Result<T, ToolError> {
        let mut guard = self.conn.lock().unwrap_or_else(|p| p.into_inner());
        if guard.is_none() {
            let c = self.client.get_connection_with_timeout(Duration::from_secs(5)).map_err(redis_err)?;
            let _ = c.set_read_timeout(Some(Duration::from_secs(5)));
            let _ = c.set_write_timeout(Some(Duration::from_secs(5)));
            *guard = Some(c);
        }
        let Some(conn) = guard.as_mut() else { return Err(ToolError::internal("no redis connection")) };
        let out = f(conn);
        if let Err(e) = &out
            && (e.is_io_error() || e.is_connection_dropped() || e.is_timeout())
        {
            *guard = None; // reconnect on the next call
        }
        out.map_err(redis_err)
    }

    fn query<T: redis::FromRedisValue>(&self, cmd: &mut redis::Cmd) -> Result<T, ToolError> {
        self.with_conn(|c| cmd.query(c))
    }

    fn ensure_group(&self, stream: &str) -> Result<(), ToolError> {
        if self.groups.lock().unwrap_or_else(|p| p.into_inner()).contains(stream) {
            return Ok(());
        }
        let r: Result<Value, ToolError> =
            self.query(redis::cmd("XGROUP").arg("CREATE").arg(stream).arg(GROUP).arg("0").arg("MKSTREAM"));
        match r {
            Ok(_) => {}
            Err(e) if e.message.contains("BUSYGROUP") => {}
            Err(e) => return Err(e),
        }
        self.groups.lock().unwrap_or_else(|p| p.into_inner()).insert(stream.to_owned());
        Ok(())
    }

    /// Applies a transition (see [`TRANSITION`]); true when it applied.
    fn transition(
        &self,
        id: &str,
        from: JobStatus,
        runner: &str,
        rec: &JobRecord,
        fields: &[(&str, String)],
    ) -> Result<bool, ToolError> {
        let mut cmd = redis::cmd("EVAL");
        cmd.arg(TRANSITION)
            .arg(1)
            .arg(self.job_key(id))
            .arg(from.as_str())
            .arg(runner)
            .arg(rec.status.as_str());
        cmd.arg(serde_json::to_string(rec).unwrap_or_default());
        for (k, v) in fields {
            cmd.arg(*k).arg(v);
        }
        Ok(self.query::<i64>(&mut cmd)? == 1)
    }

    /// The record and the hash's fields, or `None` when the job is unknown (or expired).
    fn load(&self, id: &str) -> Result<Option<(JobRecord, Fields)>, ToolError> {
        let map: Fields = self.query(redis::cmd("HGETALL").arg(self.job_key(id)))?;
        let Some(rec) = map.get("rec").and_then(|r| serde_json::from_str::<JobRecord>(r).ok()) else {
            return Ok(None);
        };
        let mut rec = rec;
        if let Some(s) = map.get("status") {
            rec.status =
                JobStatus::ALL.into_iter().find(|j| j.as_str() == s).unwrap_or(JobStatus::Interrupted);
        }
        Ok(Some((rec, map)))
    }

    fn retire(&self, id: &str) -> Result<(), ToolError> {
        let ttl = self.retention.max(1);
        let mut pipe = redis::pipe();
        for k in [self.job_key(id), self.key(&format!("job:{id}:out")), self.key(&format!("job:{id}:items"))]
        {
            pipe.cmd("EXPIRE").arg(k).arg(ttl).ignore();
        }
        pipe.cmd("SREM").arg(self.key("jobs:live")).arg(id).ignore();
        self.with_conn(|c| pipe.query::<()>(c))
    }

    fn ack(&self, stream: &str, entry: &str) -> Result<(), ToolError> {
        if stream.is_empty() || entry.is_empty() {
            return Ok(());
        }
        let mut pipe = redis::pipe();
        pipe.cmd("XACK").arg(stream).arg(GROUP).arg(entry).ignore();
        pipe.cmd("XDEL").arg(stream).arg(entry).ignore();
        self.with_conn(|c| pipe.query::<()>(c))
    }

    fn enqueue_entry(&self, rec: &JobRecord) -> Result<(), ToolError> {
        let stream = self.stream(&rec.tool);
        self.ensure_group(&stream)?;
        self.query::<String>(redis::cmd("XADD").arg(&stream).arg("*").arg("job").arg(&rec.job_id))?;
        // Wakes idle consumers everywhere (they poll too, in case this is lost).
        let _ = self.query::<i64>(redis::cmd("PUBLISH").arg(self.key("jobs:queued")).arg(&rec.tool));
        Ok(())
    }

    fn interrupted(rec: &mut JobRecord, kept: bool) {
        let how = if kept {
            format!(
                "job_resume {{\"job_id\": \"{}\"}} runs it again (a batch only for what is left)",
                rec.job_id
            )
        } else {
            format!("run `{}` again", rec.tool)
        };
        rec.status = JobStatus::Interrupted;
        rec.error = Some(
            ToolError::new(
                ErrorKind::Io,
                format!(
                    "the process running this job stopped before it finished (attempt {}); {how}",
                    rec.attempts
                ),
            )
            .with_retryable(true),
        );
        rec.finished_at = Some(now());
        rec.updated_at = now();
    }

    /// Decides about an entry whose job may have to run: runs it (answers the claim) or retires it.
    fn take(
        &self,
        stream: &str,
        entry: &str,
        id: &str,
        instance: &str,
        lease_until: i64,
        reclaimed: bool,
    ) -> Result<Option<Claimed>, ToolError> {
        let Some((mut rec, map)) = self.load(id)? else {
            self.ack(stream, entry)?;
            return Ok(None);
        };
        let from = rec.status;
        let runnable = from == JobStatus::Queued || (reclaimed && from == JobStatus::Running);
        if !runnable {
            self.ack(stream, entry)?;
            return Ok(None);
        }
        let max: u32 = map.get("max_attempts").and_then(|m| m.parse().ok()).unwrap_or(1);
        let run_args = map.get("run_args").cloned().unwrap_or_default();
        if from == JobStatus::Running && (rec.attempts >= max || run_args.is_empty()) {
            Self::interrupted(&mut rec, !run_args.is_empty());
            if self.transition(id, from, "*", &rec, &[("lease_until", "0".into())])? {
                tracing::warn!(job_id = id, attempts = rec.attempts, "job's consumer died: interrupted");
                self.retire(id)?;
                self.publish(id);
            }
            self.ack(stream, entry)?;
            return Ok(None);
        }
        rec.status = JobStatus::Running;
        rec.attempts += 1;
        rec.owner_pid = std::process::id();
        rec.updated_at = now();
        let fields = [
            ("runner", instance.to_owned()),
            ("lease_until", lease_until.to_string()),
            ("cancel", "0".to_owned()),
            ("stream", stream.to_owned()),
            ("entry", entry.to_owned()),
        ];
        if !self.transition(id, from, "*", &rec, &fields)? {
            return Ok(None);
        }
        self.query::<i64>(redis::cmd("SADD").arg(self.key("jobs:live")).arg(id))?;
        if reclaimed {
            tracing::warn!(job_id = id, attempt = rec.attempts, "claimed the job of a dead consumer");
        }
        let items = self.items(id)?;
        let arguments = serde_json::from_str(&run_args).unwrap_or_default();
        Ok(Some(Claimed { record: rec, arguments, items }))
    }

    fn items(&self, id: &str) -> Result<Vec<(u64, serde_json::Value)>, ToolError> {
        let map: std::collections::HashMap<u64, String> =
            self.query(redis::cmd("HGETALL").arg(self.key(&format!("job:{id}:items"))))?;
        let mut items: Vec<(u64, serde_json::Value)> =
            map.into_iter().filter_map(|(i, v)| Some((i, serde_json::from_str(&v).ok()?))).collect();
        items.sort_by_key(|(i, _)| *i);
        Ok(items)
    }

    /// Every known id, newest first; ids whose record expired are dropped from the index.
    fn records(&self) -> Result<Vec<JobRecord>, ToolError> {
        let ids: Vec<String> = self.query(redis::cmd("ZREVRANGE").arg(self.key("jobs")).arg(0).arg(-1))?;
        let mut pipe = redis::pipe();
        for id in &ids {
            pipe.cmd("HMGET").arg(self.job_key(id)).arg("rec").arg("status");
        }
        let rows: Vec<(Option<String>, Option<String>)> = self.with_conn(|c| pipe.query(c))?;
        let mut out = Vec::new();
        let mut gone = Vec::new();
        for (id, (rec, status)) in ids.iter().zip(rows) {
            match rec.and_then(|r| serde_json::from_str::<JobRecord>(&r).ok()) {
                Some(mut r) => {
                    if let Some(s) = status {
                        r.status = JobStatus::ALL.into_iter().find(|j| j.as_str() == s).unwrap_or(r.status);
                    }
                    out.push(r);
                }
                None => gone.push(id.clone()),
            }
        }
        if !gone.is_empty() {
            self.query::<i64>(redis::cmd("ZREM").arg(self.key("jobs")).arg(&gone))?;
        }
        Ok(out)
    }
}

impl JobQueue for RedisJobs {
    fn backend(&self) -> &'static str {
        "redis"
    }

    fn shared(&self) -> bool {
        true
    }

    fn expire(&self) -> Result<(), ToolError> {
        let live: Vec<String> = self.query(redis::cmd("SMEMBERS").arg(self.key("jobs:live")))?;
        let t = now_ms();
        for id in live {
            let Some((mut rec, map)) = self.load(&id)? else {
                self.query::<i64>(redis::cmd("SREM").arg(self.key("jobs:live")).arg(&id))?;
                continue;
            };
            if rec.status != JobStatus::Running {
                self.query::<i64>(redis::cmd("SREM").arg(self.key("jobs:live")).arg(&id))?;
                continue;
            }
            let lease: i64 = map.get("lease_until").and_then(|l| l.parse().ok()).unwrap_or(0);
            if lease >= t {
                continue;
            }
            let max: u32 = map.get("max_attempts").and_then(|m| m.parse().ok()).unwrap_or(1);
            let kept = map.get("run_args").is_some_and(|a| !a.is_empty());
            let runner = map.get("runner").cloned().unwrap_or_default();
            let entry = map.get("entry").filter(|e| !e.is_empty()).cloned();
            if let Some(entry) = entry.filter(|_| kept && rec.attempts < max) {
                // A consumer died with the stream entry pending: the job waits for another consumer to
                // claim the entry (XAUTOCLAIM), never `running` meanwhile.
                rec.status = JobStatus::Queued;
                rec.updated_at = now();
                if self.transition(&id, JobStatus::Running, &runner, &rec, &[("runner", String::new())])? {
                    tracing::warn!(job_id = %id, %entry, "job's consumer is gone: waiting to be claimed again");
                    self.query::<i64>(redis::cmd("SREM").arg(self.key("jobs:live")).arg(&id))?;
                    self.publish(&id);
                }
                continue;
            }
            if kept && rec.attempts < max {
                rec.status = JobStatus::Queued;
                rec.updated_at = now();
                if self.transition(&id, JobStatus::Running, &runner, &rec, &[("runner", String::new())])? {
                    tracing::warn!(job_id = %id, "job's runner is gone: queued to run again");
                    self.query::<i64>(redis::cmd("SREM").arg(self.key("jobs:live")).arg(&id))?;
                    self.enqueue_entry(&rec)?;
                    self.publish(&id);
                }
                continue;
            }
            Self::interrupted(&mut rec, kept);
            if self.transition(&id, JobStatus::Running, &runner, &rec, &[("lease_until", "0".into())])? {
                tracing::warn!(job_id = %id, "job interrupted: its runner is gone");
                self.ack(map.get("stream").map_or("", |s| s), map.get("entry").map_or("", |s| s))?;
                self.retire(&id)?;
                self.publish(&id);
            }
        }
        Ok(())
    }

    fn insert(&self, job: &NewJob<'_>) -> Result<(), ToolError> {
        let rec = job.record;
        let key = self.job_key(&rec.job_id);
        let (runner, lease) = job.runner.unwrap_or(("", 0));
        let started = chrono::DateTime::parse_from_rfc3339(&rec.started_at)
            .map(|d| d.timestamp_millis())
            .unwrap_or_else(|_| now_ms());
        let mut pipe = redis::pipe();
        pipe.cmd("HSET")
            .arg(&key)
            .arg("rec")
            .arg(serde_json::to_string(rec).unwrap_or_default())
            .arg("status")
            .arg(rec.status.as_str())
            .arg("runner")
            .arg(runner)
            .arg("lease_until")
            .arg(lease)
            .arg("max_attempts")
            .arg(job.max_attempts)
            .arg("run_args")
            .arg(job.run_args.to_string())
            .arg("read_offset")
            .arg(0)
            .arg("cancel")
            .arg(0)
            .ignore();
        pipe.cmd("ZADD").arg(self.key("jobs")).arg(started).arg(&rec.job_id).ignore();
        if job.runner.is_some() {
            pipe.cmd("SADD").arg(self.key("jobs:live")).arg(&rec.job_id).ignore();
        }
        self.with_conn(|c| pipe.query::<()>(c))?;
        if job.runner.is_none() {
            self.enqueue_entry(rec)?;
        }
        Ok(())
    }

    fn claim(&self, tools: &[&str], instance: &str, lease_until: i64) -> Result<Option<Claimed>, ToolError> {
        let streams: Vec<String> = tools.iter().map(|t| self.stream(t)).collect();
        for s in &streams {
            self.ensure_group(s)?;
        }
        let lease_ms = (lease_until - now_ms()).max(1);
        // Entries of dead consumers: idle longer than a lease (checked every half lease).
        let due = {
            let mut last = self.last_autoclaim.lock().unwrap_or_else(|p| p.into_inner());
            let due = last.is_none_or(|t| t.elapsed() >= Duration::from_millis(lease_ms as u64 / 2));
            if due {
                *last = Some(Instant::now());
            }
            due
        };
        if due {
            let mut pipe = redis::pipe();
            for s in &streams {
                pipe.cmd("XAUTOCLAIM")
                    .arg(s)
                    .arg(GROUP)
                    .arg(instance)
                    .arg(lease_ms)
                    .arg("0-0")
                    .arg("COUNT")
                    .arg(1);
            }
            let replies: Vec<Value> = self.with_conn(|c| pipe.query(c))?;
            for (s, reply) in streams.iter().zip(replies) {
                let mut parts = array(reply).into_iter();
                let _next = parts.next();
                if let Some((stream, entry, id)) = parts.next().and_then(|e| first_entry(s, e))
                    && let Some(c) = self.take(&stream, &entry, &id, instance, lease_until, true)?
                {
                    return Ok(Some(c));
                }
            }
        }
        for _ in 0..16 {
            let mut cmd = redis::cmd("XREADGROUP");
            cmd.arg("GROUP").arg(GROUP).arg(instance).arg("COUNT").arg(1).arg("STREAMS");
            for s in &streams {
                cmd.arg(s);
            }
            for _ in &streams {
                cmd.arg(">");
            }
            let reply: Value = self.query(&mut cmd)?;
            // [[stream, [[id, [k, v…]]]], …] (RESP2) or a map (RESP3).
            let pairs: Vec<(Value, Value)> = match reply {
                Value::Map(m) => m,
                other => array(other)
                    .into_iter()
                    .filter_map(|sv| {
                        let mut p = array(sv).into_iter();
                        Some((p.next()?, p.next()?))
                    })
                    .collect(),
            };
            let Some((stream, entries)) = pairs.into_iter().next() else { return Ok(None) };
            let Some(stream) = text(&stream) else { return Ok(None) };
            let Some((stream, entry, id)) = first_entry(&stream, entries) else { return Ok(None) };
            if let Some(c) = self.take(&stream, &entry, &id, instance, lease_until, false)? {
                return Ok(Some(c));
            }
        }
        Ok(None)
    }

    fn heartbeat(
        &self,
        instance: &str,
        ids: &[String],
        lease_until: Option<i64>,
    ) -> Result<Vec<String>, ToolError> {
        let mut stop = Vec::new();
        for id in ids {
            let fields: [Option<String>; 5] = self.query(
                redis::cmd("HMGET")
                    .arg(self.job_key(id))
                    .arg("status")
                    .arg("runner")
                    .arg("cancel")
                    .arg("stream")
                    .arg("entry"),
            )?;
            let [status, runner, cancel, stream, entry] = fields;
            let mine = status.as_deref() == Some("running") && runner.as_deref() == Some(instance);
            if !mine || cancel.as_deref() == Some("1") {
                stop.push(id.clone());
                continue;
            }
            if let Some(until) = lease_until {
                let mut pipe = redis::pipe();
                pipe.cmd("HSET").arg(self.job_key(id)).arg("lease_until").arg(until).ignore();
                if let (Some(s), Some(e)) =
                    (stream.filter(|s| !s.is_empty()), entry.filter(|e| !e.is_empty()))
                {
                    // Resets the entry's idle time: it is not claimed again while this heartbeat goes on.
                    pipe.cmd("XCLAIM").arg(s).arg(GROUP).arg(instance).arg(0).arg(e).arg("JUSTID").ignore();
                }
                self.with_conn(|c| pipe.query::<()>(c))?;
            }
        }
        Ok(stop)
    }

    fn request_cancel(&self, id: &str) -> Result<(), ToolError> {
        self.query::<i64>(redis::cmd("HSET").arg(self.job_key(id)).arg("cancel").arg(1))?;
        self.publish(id);
        Ok(())
    }

    fn release(&self, id: &str, instance: &str) -> Result<bool, ToolError> {
        let Some((mut rec, map)) = self.load(id)? else { return Ok(false) };
        if map.get("run_args").is_none_or(|a| a.is_empty()) {
            return Ok(false);
        }
        rec.status = JobStatus::Queued;
        rec.updated_at = now();
        let fields = [("runner", String::new()), ("lease_until", "0".to_owned()), ("entry", String::new())];
        if !self.transition(id, JobStatus::Running, instance, &rec, &fields)? {
            return Ok(false);
        }
        self.query::<i64>(redis::cmd("SREM").arg(self.key("jobs:live")).arg(id))?;
        self.ack(map.get("stream").map_or("", |s| s), map.get("entry").map_or("", |s| s))?;
        self.enqueue_entry(&rec)?;
        Ok(true)
    }

    fn cancel_queued(&self, id: &str, error: &ToolError) -> Result<(), ToolError> {
        let Some((mut rec, _)) = self.load(id)? else { return Ok(()) };
        rec.status = JobStatus::Cancelled;
        rec.error = Some(error.clone());
        rec.finished_at = Some(now());
        rec.updated_at = now();
        if self.transition(id, JobStatus::Queued, "*", &rec, &[("run_args", String::new())])? {
            self.retire(id)?;
        }
        Ok(())
    }

    fn requeue(&self, id: &str) -> Result<bool, ToolError> {
        let Some((mut rec, map)) = self.load(id)? else { return Ok(false) };
        if rec.status != JobStatus::Interrupted || map.get("run_args").is_none_or(|a| a.is_empty()) {
            return Ok(false);
        }
        rec.status = JobStatus::Queued;
        rec.error = None;
        rec.finished_at = None;
        rec.updated_at = now();
        let fields = [
            ("max_attempts", (rec.attempts + 1).to_string()),
            ("cancel", "0".into()),
            ("runner", String::new()),
        ];
        if !self.transition(id, JobStatus::Interrupted, "*", &rec, &fields)? {
            return Ok(false);
        }
        let mut pipe = redis::pipe();
        for k in [self.job_key(id), self.key(&format!("job:{id}:out")), self.key(&format!("job:{id}:items"))]
        {
            pipe.cmd("PERSIST").arg(k).ignore();
        }
        self.with_conn(|c| pipe.query::<()>(c))?;
        self.enqueue_entry(&rec)?;
        Ok(true)
    }

    fn add_item(&self, id: &str, index: u64, value: &serde_json::Value) -> Result<(), ToolError> {
        self.query::<i64>(
            redis::cmd("HSET").arg(self.key(&format!("job:{id}:items"))).arg(index).arg(value.to_string()),
        )?;
        Ok(())
    }

    fn update_progress(&self, id: &str, progress: &ProgressJson, output: &str) -> Result<(), ToolError> {
        if !output.is_empty() {
            self.query::<i64>(redis::cmd("APPEND").arg(self.key(&format!("job:{id}:out"))).arg(output))?;
        }
        let Some((mut rec, _)) = self.load(id)? else { return Ok(()) };
        rec.progress = Some(progress.clone());
        rec.updated_at = now();
        self.transition(id, JobStatus::Running, "*", &rec, &[])?;
        Ok(())
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
        if !output.is_empty() {
            self.query::<i64>(redis::cmd("APPEND").arg(self.key(&format!("job:{id}:out"))).arg(output))?;
        }
        let Some((mut rec, map)) = self.load(id)? else { return Ok(()) };
        rec.status = status;
        rec.result = result.cloned();
        rec.error = error.cloned();
        rec.finished_at = Some(now());
        rec.updated_at = now();
        let fields = [("run_args", String::new()), ("lease_until", "0".into())];
        if !self.transition(id, JobStatus::Running, instance, &rec, &fields)? {
            return Ok(()); // taken away meanwhile: its new runner records the end
        }
        if status == JobStatus::Completed {
            self.query::<i64>(redis::cmd("DEL").arg(self.key(&format!("job:{id}:items"))))?;
        }
        self.ack(map.get("stream").map_or("", |s| s), map.get("entry").map_or("", |s| s))?;
        self.retire(id)
    }

    fn get(&self, id: &str) -> Result<Option<JobRecord>, ToolError> {
        let Some((mut rec, _)) = self.load(id)? else { return Ok(None) };
        if rec.result.is_none() {
            rec.partial = self.items(id)?.into_iter().map(|(_, v)| v).collect();
        }
        Ok(Some(rec))
    }

    fn read_output(&self, id: &str, incremental: bool) -> Result<String, ToolError> {
        let output: Option<String> = self.query(redis::cmd("GET").arg(self.key(&format!("job:{id}:out"))))?;
        let output = output.unwrap_or_default();
        if !incremental {
            return Ok(output);
        }
        let offset: Option<usize> =
            self.query(redis::cmd("HGET").arg(self.job_key(id)).arg("read_offset"))?;
        let start = offset.unwrap_or(0).min(output.len());
        let start = (start..=output.len()).find(|&i| output.is_char_boundary(i)).unwrap_or(output.len());
        self.query::<i64>(redis::cmd("HSET").arg(self.job_key(id)).arg("read_offset").arg(output.len()))?;
        Ok(output[start..].to_owned())
    }

    fn list(
        &self,
        status: Option<JobStatus>,
        tool: Option<&str>,
        owner: Option<&str>,
        limit: usize,
    ) -> Result<Vec<JobRecord>, ToolError> {
        Ok(self
            .records()?
            .into_iter()
            .filter(|r| status.is_none_or(|s| r.status == s))
            .filter(|r| tool.is_none_or(|t| r.tool == t))
            .filter(|r| owner.is_none_or(|o| r.owner == o))
            .take(limit)
            .collect())
    }

    fn prune(
        &self,
        before: &str,
        statuses: &[JobStatus],
        owner: Option<&str>,
    ) -> Result<Vec<String>, ToolError> {
        let doomed: Vec<String> = self
            .records()?
            .into_iter()
            .filter(|r| statuses.contains(&r.status))
            .filter(|r| owner.is_none_or(|o| r.owner == o))
            .filter(|r| r.finished_at.as_deref().unwrap_or(&r.started_at) <= before)
            .map(|r| r.job_id)
            .collect();
        for id in &doomed {
            let mut pipe = redis::pipe();
            pipe.cmd("DEL")
                .arg(self.job_key(id))
                .arg(self.key(&format!("job:{id}:out")))
                .arg(self.key(&format!("job:{id}:items")))
                .ignore();
            pipe.cmd("ZREM").arg(self.key("jobs")).arg(id).ignore();
            pipe.cmd("SREM").arg(self.key("jobs:live")).arg(id).ignore();
            self.with_conn(|c| pipe.query::<()>(c))?;
        }
        Ok(doomed)
    }

    fn count(&self) -> Result<u64, ToolError> {
        self.query(redis::cmd("ZCARD").arg(self.key("jobs")))
    }

    fn publish(&self, id: &str) {
        let r: Result<i64, ToolError> =
            self.query(redis::cmd("PUBLISH").arg(self.key("jobs:changes")).arg(id));
        if let Err(e) = r {
            tracing::warn!(job_id = id, error = %e, "could not publish a job change");
        }
    }
}

impl RedisJobs {
    /// Forwards the job changes published by every instance to `tx`, and wakes `queued` when any instance
    /// queues a job (reconnecting after a failure).
    pub(crate) fn follow(&self, tx: broadcast::Sender<String>, queued: std::sync::Arc<tokio::sync::Notify>) {
        let Ok(handle) = tokio::runtime::Handle::try_current() else { return };
        let client = self.client.clone();
        let channel = self.key("jobs:changes");
        let queued_channel = self.key("jobs:queued");
        handle.spawn(async move {
            use futures::StreamExt as _;
            // Said once per outage (at warn), not once a second while Redis is away.
            let mut lost = false;
            loop {
                match client.get_async_pubsub().await {
                    Ok(mut pubsub) => {
                        if pubsub.subscribe(&channel).await.is_ok()
                            && pubsub.subscribe(&queued_channel).await.is_ok()
                        {
                            if std::mem::take(&mut lost) {
                                tracing::info!("job change feed from redis is back");
                            }
                            let mut messages = pubsub.on_message();
                            while let Some(msg) = messages.next().await {
                                if msg.get_channel_name() == queued_channel {
                                    queued.notify_one();
                                } else if let Ok(id) = msg.get_payload::<String>() {
                                    // No receiver is fine: nobody follows jobs right now.
                                    let _ = tx.send(id);
                                }
                            }
                        }
                    }
                    Err(e) if !lost => {
                        lost = true;
                        tracing::warn!(error = %e, "job change feed from redis lost; retrying every second");
                    }
                    Err(e) => tracing::debug!(error = %e, "job change feed from redis still lost"),
                }
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        });
    }
}
