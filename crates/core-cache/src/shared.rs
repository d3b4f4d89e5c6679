//! Small shared tallies and lists beside the cache: what was asked in the last 24 h (trending), and
//! the ids seen most recently. In Redis when the cache is (every process sharing it counts into the same
//! keys), else in this process. Kept out of the cache's `namespace:` keys, so `invalidate` leaves them.
//!
//! Redis keys: `{namespace}~trend:{name}:{hour}` (a sorted set per hour bucket, 25 h TTL) and
//! `{namespace}~recent:{name}` (a list, newest first, bounded, with a TTL).

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::{Backend, Cache, CacheError};

/// How many hour buckets a trend sums (24 h).
pub const TREND_HOURS: u64 = 24;
/// The most distinct members one hour bucket keeps (the least counted go first).
pub const MAX_TREND_MEMBERS: usize = 10_000;
/// The longest member counted, in bytes; longer ones are not counted.
pub const MAX_MEMBER_BYTES: usize = 200;

fn hour_now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs() / 3600)
}

/// Per hour bucket, a count per member.
type Buckets = BTreeMap<u64, HashMap<String, u64>>;

/// In-process tallies: per name, its hour buckets.
#[derive(Debug, Default)]
pub(crate) struct Tallies {
    inner: Mutex<HashMap<String, Buckets>>,
}

impl Tallies {
    fn count(&self, name: &str, member: &str, hour: u64) {
        let mut all = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        let buckets = all.entry(name.to_owned()).or_default();
        buckets.retain(|h, _| h + TREND_HOURS > hour);
        let bucket = buckets.entry(hour).or_default();
        if bucket.len() >= MAX_TREND_MEMBERS && !bucket.contains_key(member) {
            return;
        }
        *bucket.entry(member.to_owned()).or_default() += 1;
    }

    fn sum(&self, name: &str, hour: u64) -> HashMap<String, u64> {
        let all = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        let mut sum = HashMap::new();
        for (_, bucket) in all.get(name).into_iter().flatten().filter(|(h, _)| *h + TREND_HOURS > hour) {
            for (m, n) in bucket {
                *sum.entry(m.clone()).or_default() += n;
            }
        }
        sum
    }
}

/// Most counted first; ties by member, so the order is stable.
fn top(sum: HashMap<String, u64>, limit: usize) -> Vec<(String, u64)> {
    let mut v: Vec<(String, u64)> = sum.into_iter().filter(|(_, n)| *n > 0).collect();
    v.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    v.truncate(limit);
    v
}

impl Cache {
    /// Whether [`Cache::push_recent`] and the trends are shared with other processes (Redis).
    pub fn is_shared(&self) -> bool {
        matches!(&*self.backend, Backend::Redis(_))
    }

    /// Counts one ask of `member` under `name` (e.g. `mutation`, `EGFR L858R`) in the current hour bucket.
    /// A member over [`MAX_MEMBER_BYTES`] is not counted; a Redis failure is logged, never returned.
    pub async fn count(&self, name: &str, member: &str) {
        if member.is_empty() || member.len() > MAX_MEMBER_BYTES {
            return;
        }
        let hour = hour_now();
        match &*self.backend {
            Backend::Memory(_) => self.tallies.count(name, member, hour),
            Backend::Redis(r) => {
                let key = r.side_key(&format!("trend:{name}:{hour}"));
                let mut pipe = redis::pipe();
                pipe.cmd("ZINCRBY").arg(&key).arg(1).arg(member).ignore();
                pipe.cmd("ZREMRANGEBYRANK").arg(&key).arg(0).arg(-(MAX_TREND_MEMBERS as i64) - 1).ignore();
                pipe.cmd("EXPIRE").arg(&key).arg((TREND_HOURS + 1) * 3600).ignore();
                if let Err(e) = pipe.query_async::<()>(&mut r.conn()).await {
                    tracing::warn!(error = %e, name, "cache backend redis: counting failed; not counted");
                }
            }
        }
    }

    /// The `limit` members of `name` counted most over the last 24 h, with their counts, most first.
    pub async fn trending(&self, name: &str, limit: usize) -> Result<Vec<(String, u64)>, CacheError> {
        let hour = hour_now();
        let sum = match &*self.backend {
            Backend::Memory(_) => self.tallies.sum(name, hour),
            Backend::Redis(r) => {
                let mut pipe = redis::pipe();
                for h in (hour + 1 - TREND_HOURS)..=hour {
                    pipe.cmd("ZRANGE")
                        .arg(r.side_key(&format!("trend:{name}:{h}")))
                        .arg(0)
                        .arg(-1)
                        .arg("WITHSCORES");
                }
                let buckets: Vec<Vec<(String, f64)>> = pipe
                    .query_async(&mut r.conn())
                    .await
                    .map_err(|e| CacheError::Redis { detail: e.to_string() })?;
                let mut sum: HashMap<String, u64> = HashMap::new();
                for (m, n) in buckets.into_iter().flatten() {
                    *sum.entry(m).or_default() += n.max(0.0) as u64;
                }
                sum
            }
        };
        Ok(top(sum, limit))
    }

    /// With Redis, puts `ids` (first newest) at the head of the shared list `name`, without duplicates, keeps
    /// the newest `keep` and refreshes its `ttl`. Without Redis, does nothing (the caller keeps its own).
    pub async fn push_recent(&self, name: &str, ids: &[String], keep: usize, ttl: Duration) {
        let Backend::Redis(r) = &*self.backend else { return };
        if ids.is_empty() {
            return;
        }
        let key = r.side_key(&format!("recent:{name}"));
        let mut pipe = redis::pipe();
        pipe.atomic();
        for id in ids.iter().take(keep).rev() {
            pipe.cmd("LREM").arg(&key).arg(0).arg(id).ignore();
            pipe.cmd("LPUSH").arg(&key).arg(id).ignore();
        }
        pipe.cmd("LTRIM").arg(&key).arg(0).arg(keep.saturating_sub(1)).ignore();
        pipe.cmd("PEXPIRE").arg(&key).arg(u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX).max(1)).ignore();
        if let Err(e) = pipe.query_async::<()>(&mut r.conn()).await {
            tracing::warn!(error = %e, name, "cache backend redis: recording recent ids failed");
        }
    }

    /// With Redis, the newest `keep` ids of the shared list `name`, newest first; else `Ok(None)`.
    pub async fn recent(&self, name: &str, keep: usize) -> Result<Option<Vec<String>>, CacheError> {
        let Backend::Redis(r) = &*self.backend else { return Ok(None) };
        let key = r.side_key(&format!("recent:{name}"));
        let ids: Vec<String> = redis::cmd("LRANGE")
            .arg(key)
            .arg(0)
            .arg(keep.saturating_sub(1))
            .query_async(&mut r.conn())
            .await
            .map_err(|e| CacheError::Redis { detail: e.to_string() })?;
        Ok(Some(ids))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tallies_sum_the_last_24_hours_only() {
        let t = Tallies::default();
        t.count("mutation", "KRAS G12C", 99); // 24 buckets before 123: out of the window
        t.count("mutation", "KRAS G12C", 110);
        t.count("mutation", "EGFR L858R", 123);
        t.count("mutation", "EGFR L858R", 123);
        t.count("mutation", "EGFR L858R", 123);
        assert_eq!(top(t.sum("mutation", 123), 10), [("EGFR L858R".to_owned(), 3), ("KRAS G12C".into(), 1)]);
        assert_eq!(top(t.sum("mutation", 200), 10), []);
        assert!(t.sum("other", 123).is_empty());
    }
}
