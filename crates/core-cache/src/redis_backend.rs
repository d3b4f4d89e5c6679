//! The Redis backend: namespaced keys with a TTL, shared by every pipette process that uses the same server.

use std::time::{Duration, Instant};

use bytes::Bytes;
use redis::AsyncCommands;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};

use crate::CacheError;

pub(crate) struct RedisCache {
    conn: ConnectionManager,
    namespace: String,
    /// Set while Redis is unreachable: until then every command fails at once (a miss), instead of each
    /// call waiting for a connection that will not come.
    down_until: std::sync::Mutex<Option<Instant>>,
}

/// The longest a cache command may take (a value of a few MB included) before it counts as a failure.
const COMMAND_BUDGET: Duration = Duration::from_secs(2);
/// How long a failed connection keeps the cache from trying Redis again.
const DOWN_FOR: Duration = Duration::from_secs(1);

fn redis_err(e: redis::RedisError) -> CacheError {
    CacheError::Redis { detail: e.to_string() }
}

impl RedisCache {
    pub(crate) async fn connect(url: &str, namespace: &str) -> Result<RedisCache, CacheError> {
        let client = redis::Client::open(url).map_err(redis_err)?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(Duration::from_millis(500)))
            .set_response_timeout(Some(COMMAND_BUDGET))
            .set_number_of_retries(1);
        let conn =
            tokio::time::timeout(Duration::from_secs(5), ConnectionManager::new_with_config(client, config))
                .await
                .map_err(|_| CacheError::Redis { detail: format!("no answer from {url} within 5 s") })?
                .map_err(redis_err)?;
        Ok(RedisCache { conn, namespace: namespace.to_owned(), down_until: std::sync::Mutex::new(None) })
    }

    /// Runs one command, failing at once while Redis is known to be away; a connection failure marks it
    /// away for [`DOWN_FOR`] (said once at warn), the first success after marks it back.
    async fn run<T>(
        &self,
        command: impl std::future::Future<Output = Result<T, redis::RedisError>>,
    ) -> Result<T, CacheError> {
        let lock = || self.down_until.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(until) = *lock()
            && Instant::now() < until
        {
            return Err(CacheError::Redis { detail: "unreachable (retrying every second)".into() });
        }
        let result = tokio::time::timeout(COMMAND_BUDGET, command).await;
        let mut down = lock();
        match result {
            Ok(Ok(value)) => {
                if down.take().is_some() {
                    tracing::info!("the Redis cache answers again");
                }
                Ok(value)
            }
            Ok(Err(e)) if !(e.is_io_error() || e.is_connection_dropped() || e.is_timeout()) => {
                tracing::warn!(error = %e, "a Redis cache command failed");
                Err(redis_err(e))
            }
            failed => {
                let detail = match failed {
                    Ok(Err(e)) => e.to_string(),
                    _ => format!("no answer within {} ms", COMMAND_BUDGET.as_millis()),
                };
                if down.is_none() {
                    tracing::warn!(error = %detail, "the Redis cache is unreachable: every lookup is a miss until it is back");
                }
                *down = Some(Instant::now() + DOWN_FOR);
                Err(CacheError::Redis { detail })
            }
        }
    }

    /// A key beside the cache's own (`{namespace}~{rest}`), which `invalidate` never matches.
    pub(crate) fn side_key(&self, rest: &str) -> String {
        format!("{}~{rest}", self.namespace)
    }

    pub(crate) fn conn(&self) -> ConnectionManager {
        self.conn.clone()
    }

    fn key(&self, key: &str) -> String {
        format!("{}:{key}", self.namespace)
    }

    pub(crate) async fn get(&self, key: &str) -> Result<Option<Bytes>, CacheError> {
        let mut conn = self.conn.clone();
        let v: Option<Vec<u8>> = self.run(conn.get(self.key(key))).await?;
        Ok(v.map(Bytes::from))
    }

    pub(crate) async fn set(&self, key: &str, value: Bytes, ttl: Duration) -> Result<(), CacheError> {
        let mut conn = self.conn.clone();
        let ms = u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX).max(1);
        let mut set = redis::cmd("SET");
        set.arg(self.key(key)).arg(value.as_ref()).arg("PX").arg(ms);
        self.run(set.query_async::<()>(&mut conn)).await
    }

    async fn scan(&self, pattern: &str) -> Result<Vec<String>, CacheError> {
        let mut conn = self.conn.clone();
        let mut cursor: u64 = 0;
        let mut keys = Vec::new();
        loop {
            let (next, batch): (u64, Vec<String>) = redis::cmd("SCAN")
                .arg(cursor)
                .arg("MATCH")
                .arg(pattern)
                .arg("COUNT")
                .arg(1000)
                .query_async(&mut conn)
                .await
                .map_err(redis_err)?;
            keys.extend(batch);
            if next == 0 {
                return Ok(keys);
            }
            cursor = next;
        }
    }

    pub(crate) async fn invalidate(&self, glob: &str) -> Result<u64, CacheError> {
        // Validate with the same glob rules as the memory backend; Redis MATCH understands the same syntax.
        crate::compile_glob(glob)?;
        let keys = self.scan(&self.key(glob)).await?;
        let mut removed = 0u64;
        let mut conn = self.conn.clone();
        for chunk in keys.chunks(500) {
            let n: u64 = conn.del(chunk).await.map_err(redis_err)?;
            removed += n;
        }
        Ok(removed)
    }

    /// Keys in this namespace, and the server's used memory in bytes when it says.
    pub(crate) async fn size(&self) -> Result<(u64, Option<u64>), CacheError> {
        let keys = self.scan(&self.key("*")).await?.len() as u64;
        let mut conn = self.conn.clone();
        let info: String =
            redis::cmd("INFO").arg("memory").query_async(&mut conn).await.map_err(redis_err)?;
        let used =
            info.lines().find_map(|l| l.strip_prefix("used_memory:")).and_then(|v| v.trim().parse().ok());
        Ok((keys, used))
    }

    pub(crate) async fn ping(&self) -> Result<(), CacheError> {
        let mut conn = self.conn.clone();
        self.run(redis::cmd("PING").query_async::<String>(&mut conn)).await.map(|_| ())
    }
}
