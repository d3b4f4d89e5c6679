//! The one cache interface: in-process (moka) by default, Redis when configured.

mod memory;
mod redis_backend;
mod shared;
mod stats;

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;

pub use shared::{MAX_MEMBER_BYTES, MAX_TREND_MEMBERS, TREND_HOURS};
pub use stats::{CacheAnalytics, ScopeStats};

/// What went wrong in the cache backend.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CacheError {
    /// Redis could not be reached or refused a command.
    #[error("cache backend redis failed: {detail} (check REDIS_URL and that redis-server is running)")]
    Redis {
        /// What redis said.
        detail: String,
    },
    /// The invalidation pattern is not a valid glob.
    #[error("invalid argument `pattern`: {reason} (expected a glob such as `pubmed:*` or `*`)")]
    InvalidPattern {
        /// Why the glob was refused.
        reason: String,
    },
}

impl CacheError {
    /// A short, stable name for the kind of error.
    pub fn kind(&self) -> &'static str {
        match self {
            CacheError::Redis { .. } => "cache_backend",
            CacheError::InvalidPattern { .. } => "invalid_argument",
        }
    }

    /// Whether trying again may succeed.
    pub fn retryable(&self) -> bool {
        matches!(self, CacheError::Redis { .. })
    }
}

enum Backend {
    Memory(memory::MemoryCache),
    Redis(redis_backend::RedisCache),
}

/// A cache of byte values under `scope:key`, with a TTL per entry. Cheap to clone.
///
/// `scope` groups statistics (a tool name, or an upstream such as `pubmed`).
#[derive(Clone)]
pub struct Cache {
    backend: Arc<Backend>,
    stats: Arc<stats::Stats>,
    tallies: Arc<shared::Tallies>,
}

impl std::fmt::Debug for Cache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cache").field("backend", &self.backend_name()).finish()
    }
}

/// The default bound of the in-process cache: 256 MiB.
pub const DEFAULT_MAX_BYTES: u64 = 256 * 1024 * 1024;

impl Cache {
    /// An in-process cache bounded by `max_bytes` of keys and values.
    pub fn in_process(max_bytes: u64) -> Cache {
        Cache::with_backend(Backend::Memory(memory::MemoryCache::new(max_bytes)))
    }

    /// A Redis cache at `url`; every key is stored under `namespace:`.
    pub async fn redis(url: &str, namespace: &str) -> Result<Cache, CacheError> {
        let backend = redis_backend::RedisCache::connect(url, namespace).await?;
        Ok(Cache::with_backend(Backend::Redis(backend)))
    }

    /// Redis when `REDIS_URL` is set (namespace `PIPETTE_CACHE_NAMESPACE`, default `pipette`),
    /// else in-process bounded by `PIPETTE_CACHE_MAX_BYTES` (default 256 MiB).
    pub async fn from_env() -> Result<Cache, CacheError> {
        match std::env::var("REDIS_URL") {
            Ok(url) if !url.trim().is_empty() => {
                let ns = std::env::var("PIPETTE_CACHE_NAMESPACE").unwrap_or_else(|_| "pipette".into());
                Cache::redis(&url, &ns).await
            }
            _ => {
                let max = std::env::var("PIPETTE_CACHE_MAX_BYTES")
                    .ok()
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(DEFAULT_MAX_BYTES);
                Ok(Cache::in_process(max))
            }
        }
    }

    fn with_backend(backend: Backend) -> Cache {
        Cache {
            backend: Arc::new(backend),
            stats: Arc::new(stats::Stats::default()),
            tallies: Arc::new(shared::Tallies::default()),
        }
    }

    /// `"memory"` or `"redis"`.
    pub fn backend_name(&self) -> &'static str {
        match &*self.backend {
            Backend::Memory(_) => "memory",
            Backend::Redis(_) => "redis",
        }
    }

    /// The value under `scope:key`, if present and fresh. A backend failure counts as a miss.
    pub async fn get(&self, scope: &str, key: &str) -> Option<Bytes> {
        let full = full_key(scope, key);
        let found = match &*self.backend {
            Backend::Memory(m) => m.get(&full).await,
            Backend::Redis(r) => match r.get(&full).await {
                Ok(v) => v,
                Err(e) => {
                    // The backend says an outage once; each miss it causes is only a debug line.
                    tracing::debug!(error = %e, "cache get failed; treating as a miss");
                    None
                }
            },
        };
        self.stats.record(scope, found.is_some());
        found
    }

    /// Stores `value` under `scope:key` for `ttl`. A zero TTL stores nothing.
    pub async fn set(&self, scope: &str, key: &str, value: Bytes, ttl: Duration) {
        if ttl.is_zero() {
            return;
        }
        let full = full_key(scope, key);
        match &*self.backend {
            Backend::Memory(m) => m.set(full, value, ttl).await,
            Backend::Redis(r) => {
                if let Err(e) = r.set(&full, value, ttl).await {
                    tracing::debug!(error = %e, "cache set failed; entry not cached");
                }
            }
        }
    }

    /// Removes every entry whose `scope:key` matches the glob; returns how many went.
    pub async fn invalidate(&self, glob: &str) -> Result<u64, CacheError> {
        let removed = match &*self.backend {
            Backend::Memory(m) => m.invalidate(glob).await?,
            Backend::Redis(r) => r.invalidate(glob).await?,
        };
        metrics::counter!("pipette_cache_invalidated_total", "backend" => self.backend_name())
            .increment(removed);
        Ok(removed)
    }

    /// Entries, size and hit rates per scope.
    pub async fn analytics(&self) -> CacheAnalytics {
        let (entries, bytes, detail) = match &*self.backend {
            Backend::Memory(m) => {
                let (entries, bytes) = m.size().await;
                (Some(entries), Some(bytes), None)
            }
            Backend::Redis(r) => match r.size().await {
                Ok((keys, used)) => (Some(keys), used, None),
                Err(e) => (None, None, Some(e.to_string())),
            },
        };
        self.stats.analytics(self.backend_name(), entries, bytes, detail)
    }

    /// Checks that the backend answers.
    pub async fn ping(&self) -> Result<(), CacheError> {
        match &*self.backend {
            Backend::Memory(_) => Ok(()),
            Backend::Redis(r) => r.ping().await,
        }
    }
}

fn full_key(scope: &str, key: &str) -> String {
    let mut s = String::with_capacity(scope.len() + key.len() + 1);
    s.push_str(scope);
    s.push(':');
    s.push_str(key);
    s
}

/// The longest invalidation pattern, in bytes (keys are a scope and a hash; no useful glob is longer).
pub const MAX_PATTERN_BYTES: usize = 1024;
/// The most bytes of a refused pattern an error quotes.
const QUOTE_BYTES: usize = 100;

/// The first [`QUOTE_BYTES`] of `s` (on a character boundary), marked when cut.
fn quote(s: &str) -> String {
    if s.len() <= QUOTE_BYTES {
        return format!("`{s}`");
    }
    let mut end = QUOTE_BYTES;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("`{}…` ({} bytes in all)", &s[..end], s.len())
}

/// Checks an invalidation glob without applying it: at most [`MAX_PATTERN_BYTES`], no control characters, a
/// valid glob. The error names `pattern` and quotes at most its first 100 bytes.
pub fn check_pattern(glob: &str) -> Result<(), CacheError> {
    compile_glob(glob).map(drop)
}

/// Checks and compiles an invalidation glob. A set of one glob, because `GlobSet::build` reports a regex
/// over its size limit as an error where `Glob::compile_matcher` panics.
fn compile_glob(glob: &str) -> Result<globset::GlobSet, CacheError> {
    if glob.len() > MAX_PATTERN_BYTES {
        return Err(CacheError::InvalidPattern {
            reason: format!("{} is longer than {MAX_PATTERN_BYTES} bytes", quote(glob)),
        });
    }
    if glob.chars().any(char::is_control) {
        return Err(CacheError::InvalidPattern {
            reason: format!("{} holds control characters", quote(glob)),
        });
    }
    // globset's errors quote the whole glob: say what is wrong, quoting it ourselves.
    let glob_error = |e: globset::Error| CacheError::InvalidPattern {
        reason: format!("{} is not a valid glob: {}", quote(glob), e.kind()),
    };
    let parsed = globset::GlobBuilder::new(glob).literal_separator(false).build().map_err(glob_error)?;
    globset::GlobSetBuilder::new().add(parsed).build().map_err(glob_error)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_are_bounded_and_quoted_short() {
        assert!(compile_glob("pubmed:*").expect("glob").is_match("pubmed:abc"));
        assert!(!compile_glob("pubmed:*").expect("glob").is_match("ctgov:abc"));
        for huge in ["*".repeat(1 << 20), "a".repeat(MAX_PATTERN_BYTES + 1), "é".repeat(600)] {
            let err = compile_glob(&huge).expect_err("too long").to_string();
            assert!(err.contains("`pattern`") && err.contains("longer than 1024 bytes"), "{err}");
            assert!(err.len() < 400, "the error quotes at most 100 bytes: {} bytes", err.len());
        }
        // Within the bound, globs whose regex outgrows globset's limit are refused, not a panic.
        for heavy in ["?".repeat(MAX_PATTERN_BYTES), "[!a]".repeat(MAX_PATTERN_BYTES / 4), "**".repeat(512)] {
            if let Err(err) = compile_glob(&heavy) {
                assert!(err.to_string().contains("`pattern`"), "{err}");
            }
        }
        let err = compile_glob("[").expect_err("broken").to_string();
        assert!(err.contains("`[` is not a valid glob"), "{err}");
        assert!(compile_glob("a\nb").is_err());
    }
}
