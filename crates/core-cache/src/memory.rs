//! The in-process backend: a moka cache bounded by bytes, with a TTL per entry.

use std::time::{Duration, Instant};

use bytes::Bytes;
use moka::Expiry;
use moka::future::Cache as Moka;

use crate::CacheError;

#[derive(Clone)]
struct Entry {
    value: Bytes,
    ttl: Duration,
}

struct PerEntryTtl;

impl Expiry<String, Entry> for PerEntryTtl {
    fn expire_after_create(&self, _key: &String, value: &Entry, _now: Instant) -> Option<Duration> {
        Some(value.ttl)
    }

    fn expire_after_update(
        &self,
        _key: &String,
        value: &Entry,
        _now: Instant,
        _current: Option<Duration>,
    ) -> Option<Duration> {
        Some(value.ttl)
    }
}

pub(crate) struct MemoryCache {
    inner: Moka<String, Entry>,
}

impl MemoryCache {
    pub(crate) fn new(max_bytes: u64) -> MemoryCache {
        let inner = Moka::builder()
            .max_capacity(max_bytes)
            .weigher(|k: &String, v: &Entry| u32::try_from(k.len() + v.value.len() + 64).unwrap_or(u32::MAX))
            .expire_after(PerEntryTtl)
            .build();
        MemoryCache { inner }
    }

    pub(crate) async fn get(&self, key: &str) -> Option<Bytes> {
        self.inner.get(key).await.map(|e| e.value)
    }

    pub(crate) async fn set(&self, key: String, value: Bytes, ttl: Duration) {
        self.inner.insert(key, Entry { value, ttl }).await;
    }

    pub(crate) async fn invalidate(&self, glob: &str) -> Result<u64, CacheError> {
        let matcher = crate::compile_glob(glob)?;
        let keys: Vec<String> = self
            .inner
            .iter()
            .filter(|(k, _)| matcher.is_match(k.as_str()))
            .map(|(k, _)| (*k).clone())
            .collect();
        let mut removed = 0;
        for k in keys {
            if self.inner.remove(&k).await.is_some() {
                removed += 1;
            }
        }
        Ok(removed)
    }

    pub(crate) async fn size(&self) -> (u64, u64) {
        self.inner.run_pending_tasks().await;
        (self.inner.entry_count(), self.inner.weighted_size())
    }
}
