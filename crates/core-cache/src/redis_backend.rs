//! The Redis backend: namespaced keys with a TTL, shared by every pipette process that uses the same server.

use std::time::Duration;

use bytes::Bytes;
use redis::AsyncCommands;
use redis::aio::ConnectionManager;

use crate::CacheError;

pub(crate) struct RedisCache {
    conn: ConnectionManager,
    namespace: String,
}

fn redis_err(e: redis::RedisError) -> CacheError {
    CacheError::Redis { detail: e.to_string() }
}

impl RedisCache {
    pub(crate) async fn connect(url: &str, namespace: &str) -> Result<RedisCache, CacheError> {
        let client = redis::Client::open(url).map_err(redis_err)?;
        let conn = tokio::time::timeout(Duration::from_secs(5), ConnectionManager::new(client))
            .await
            .map_err(|_| CacheError::Redis { detail: format!("no answer from {url} within 5 s") })?
            .map_err(redis_err)?;
        Ok(RedisCache { conn, namespace: namespace.to_owned() })
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
        let v: Option<Vec<u8>> = conn.get(self.key(key)).await.map_err(redis_err)?;
        Ok(v.map(Bytes::from))
    }

    pub(crate) async fn set(&self, key: &str, value: Bytes, ttl: Duration) -> Result<(), CacheError> {
        let mut conn = self.conn.clone();
        let ms = u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX).max(1);
        redis::cmd("SET")
            .arg(self.key(key))
            .arg(value.as_ref())
            .arg("PX")
            .arg(ms)
            .query_async::<()>(&mut conn)
            .await
            .map_err(redis_err)
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
        redis::cmd("PING").query_async::<String>(&mut conn).await.map(|_| ()).map_err(redis_err)
    }
}
