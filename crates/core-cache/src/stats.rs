//! Hit and miss counts per scope (tool or upstream), and the analytics built from them.

use std::collections::BTreeMap;
use std::sync::Mutex;

use serde::Serialize;

#[derive(Default)]
pub(crate) struct Stats {
    scopes: Mutex<BTreeMap<String, (u64, u64)>>,
}

/// Hits and misses of one scope.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct ScopeStats {
    /// The tool or upstream name.
    pub scope: String,
    /// Lookups that found a fresh entry.
    pub hits: u64,
    /// Lookups that found nothing.
    pub misses: u64,
    /// hits / (hits + misses), 0 when there were no lookups.
    pub hit_rate: f64,
}

/// What the cache holds and how well it serves, per scope.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct CacheAnalytics {
    /// `memory` or `redis`.
    pub backend: String,
    /// Entries (memory) or keys in this namespace (redis), when known.
    pub entries: Option<u64>,
    /// Bytes held (memory: weighted size; redis: the server's used memory), when known.
    pub bytes: Option<u64>,
    /// Hits over all scopes.
    pub hits: u64,
    /// Misses over all scopes.
    pub misses: u64,
    /// Hit rate over all scopes.
    pub hit_rate: f64,
    /// Per tool or upstream, sorted by name.
    pub scopes: Vec<ScopeStats>,
    /// Why the backend could not be measured, if it could not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

fn rate(hits: u64, misses: u64) -> f64 {
    if hits + misses == 0 { 0.0 } else { hits as f64 / (hits + misses) as f64 }
}

impl Stats {
    pub(crate) fn record(&self, scope: &str, hit: bool) {
        let outcome = if hit { "hit" } else { "miss" };
        metrics::counter!("pipette_cache_lookups_total", "scope" => scope.to_owned(), "outcome" => outcome)
            .increment(1);
        let mut scopes = self.scopes.lock().unwrap_or_else(|p| p.into_inner());
        let e = scopes.entry(scope.to_owned()).or_default();
        if hit {
            e.0 += 1;
        } else {
            e.1 += 1;
        }
    }

    pub(crate) fn analytics(
        &self,
        backend: &str,
        entries: Option<u64>,
        bytes: Option<u64>,
        error: Option<String>,
    ) -> CacheAnalytics {
        let scopes = self.scopes.lock().unwrap_or_else(|p| p.into_inner());
        let list: Vec<ScopeStats> = scopes
            .iter()
            .map(|(s, (h, m))| ScopeStats { scope: s.clone(), hits: *h, misses: *m, hit_rate: rate(*h, *m) })
            .collect();
        let hits = list.iter().map(|s| s.hits).sum();
        let misses = list.iter().map(|s| s.misses).sum();
        CacheAnalytics {
            backend: backend.to_owned(),
            entries,
            bytes,
            hits,
            misses,
            hit_rate: rate(hits, misses),
            scopes: list,
            error,
        }
    }
}
