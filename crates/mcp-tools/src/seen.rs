//! The PMIDs and NCT ids seen in research results, newest first, for completions.
//!
//! Fed by the router after each successful research call; bounded in size and in the work per result.
//! Kept in this process; with a Redis cache also in Redis (lists `{namespace}~recent:pmid` and
//! `~recent:nct_id`, the newest [`KEEP`], a [`SHARED_TTL`] refreshed on each write), so completions on every
//! instance sharing it offer them. Also counts the mutations asked (for warming's trending list).

use std::collections::VecDeque;
use std::sync::Mutex;

/// How many ids of each kind are kept.
pub(crate) const KEEP: usize = 1000;
/// How long the shared lists live after their last write.
pub(crate) const SHARED_TTL: std::time::Duration = std::time::Duration::from_secs(7 * 24 * 3600);
/// How many JSON nodes one result walk visits at most.
const MAX_NODES: usize = 50_000;
/// How deep one result walk goes.
const MAX_DEPTH: usize = 8;

/// Recently seen PMIDs and NCT ids.
#[derive(Debug, Default)]
pub struct SeenIds {
    inner: Mutex<Lists>,
    /// The cache, when it is shared (Redis).
    shared: Option<core_cache::Cache>,
}

/// Counts the mutations a research call asks (`mutation`, or `mutations` as a list), in the background.
pub(crate) fn count_asked_mutations(cache: &core_cache::Cache, args: &serde_json::Value) {
    let asked: Vec<String> = match (args.get("mutation"), args.get("mutations")) {
        (Some(serde_json::Value::String(m)), _) => vec![m.clone()],
        (_, Some(serde_json::Value::Array(list))) => {
            list.iter().take(50).filter_map(|m| m.as_str().map(str::to_owned)).collect()
        }
        _ => return,
    };
    let cache = cache.clone();
    if let Ok(rt) = tokio::runtime::Handle::try_current() {
        rt.spawn(async move {
            let asked: Vec<&str> = asked.iter().map(String::as_str).collect();
            core_scrapers::warm::count_asked(&cache, &asked).await;
        });
    }
}

#[derive(Debug, Default)]
struct Lists {
    pmids: VecDeque<String>,
    nct_ids: VecDeque<String>,
}

fn remember(list: &mut VecDeque<String>, id: &str) {
    if let Some(pos) = list.iter().position(|x| x == id) {
        list.remove(pos);
    }
    list.push_front(id.to_owned());
    list.truncate(KEEP);
}

/// Whether `s` looks like a PMID (1 to 10 digits).
fn is_pmid(s: &str) -> bool {
    core_scrapers::pubmed::normalize_pmid(s, "pmid").is_ok_and(|id| id == s)
}

/// Whether `s` is an NCT number (`NCT` and 8 digits, any case).
fn is_nct_id(s: &str) -> bool {
    core_scrapers::trials::normalize_nct(s).is_ok_and(|id| id.eq_ignore_ascii_case(s))
}

impl SeenIds {
    /// Ids kept in this process, and in the cache's Redis too when the cache is shared.
    pub fn shared(cache: core_cache::Cache) -> SeenIds {
        SeenIds { inner: Mutex::default(), shared: cache.is_shared().then_some(cache) }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Lists> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Records the `pmid` and `nct_id` string values found in `result`.
    pub fn observe(&self, result: &serde_json::Value) {
        let (mut pmids, mut ncts) = (Vec::new(), Vec::new());
        let mut budget = MAX_NODES;
        walk(result, 0, &mut budget, &mut |key, value| match key {
            "pmid" if is_pmid(value) => pmids.push(value.to_owned()),
            "nct_id" if is_nct_id(value) => ncts.push(value.to_ascii_uppercase()),
            _ => {}
        });
        if pmids.is_empty() && ncts.is_empty() {
            return;
        }
        {
            let mut lists = self.lock();
            // In reverse, so the first id of a result ends up newest.
            for id in pmids.iter().rev().take(KEEP) {
                remember(&mut lists.pmids, id);
            }
            for id in ncts.iter().rev().take(KEEP) {
                remember(&mut lists.nct_ids, id);
            }
        }
        if let (Some(cache), Ok(rt)) = (&self.shared, tokio::runtime::Handle::try_current()) {
            let cache = cache.clone();
            rt.spawn(async move {
                cache.push_recent("pmid", &dedup(pmids), KEEP, SHARED_TTL).await;
                cache.push_recent("nct_id", &dedup(ncts), KEEP, SHARED_TTL).await;
            });
        }
    }

    /// PMIDs seen, newest first: every instance's with a shared cache, else (or when Redis fails) this one's.
    pub async fn pmids(&self) -> Vec<String> {
        self.read("pmid", |l| &l.pmids).await
    }

    /// NCT ids seen, newest first, likewise.
    pub async fn nct_ids(&self) -> Vec<String> {
        self.read("nct_id", |l| &l.nct_ids).await
    }

    async fn read(&self, name: &str, local: impl Fn(&Lists) -> &VecDeque<String>) -> Vec<String> {
        if let Some(cache) = &self.shared {
            match cache.recent(name, KEEP).await {
                Ok(Some(ids)) => return ids,
                Ok(None) => {}
                Err(e) => {
                    tracing::warn!(error = %e, "seen ids: the shared list is unavailable; this process's")
                }
            }
        }
        local(&self.lock()).iter().cloned().collect()
    }
}

/// The ids in their first order, without repeats, at most [`KEEP`].
fn dedup(ids: Vec<String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::with_capacity(ids.len().min(KEEP));
    for id in ids {
        if out.len() < KEEP && !out.contains(&id) {
            out.push(id);
        }
    }
    out
}

fn walk(v: &serde_json::Value, depth: usize, budget: &mut usize, f: &mut impl FnMut(&str, &str)) {
    if *budget == 0 || depth > MAX_DEPTH {
        return;
    }
    *budget -= 1;
    match v {
        serde_json::Value::Object(map) => {
            for (k, child) in map {
                if let serde_json::Value::String(s) = child {
                    f(k, s);
                } else {
                    walk(child, depth + 1, budget, f);
                }
            }
        }
        serde_json::Value::Array(items) => {
            for child in items {
                walk(child, depth + 1, budget, f);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn keeps_ids_newest_first_without_duplicates() {
        let seen = SeenIds::default();
        seen.observe(&serde_json::json!({"articles": [{"pmid": "1"}, {"pmid": "2"}, {"pmid": "x1"}]}));
        seen.observe(
            &serde_json::json!({"matches": [{"nct_id": "nct01234567", "pmid": "2"}], "nct_id": "N1"}),
        );
        assert_eq!(seen.pmids().await, ["2", "1"]);
        assert_eq!(seen.nct_ids().await, ["NCT01234567"]);
        for i in 0..KEEP + 10 {
            seen.observe(&serde_json::json!({"pmid": i.to_string()}));
        }
        assert_eq!(seen.pmids().await.len(), KEEP);
        assert_eq!(seen.pmids().await[0], (KEEP + 9).to_string());
    }
}
