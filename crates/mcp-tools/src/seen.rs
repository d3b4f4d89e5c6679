//! The PMIDs and NCT ids this process has seen in research results, newest first, for completions.
//!
//! Fed by the router after each successful research call; bounded in size and in the work per result.

use std::collections::VecDeque;
use std::sync::Mutex;

/// How many ids of each kind are kept.
const KEEP: usize = 1000;
/// How many JSON nodes one result walk visits at most.
const MAX_NODES: usize = 50_000;
/// How deep one result walk goes.
const MAX_DEPTH: usize = 8;

/// Recently seen PMIDs and NCT ids.
#[derive(Debug, Default)]
pub struct SeenIds {
    inner: Mutex<Lists>,
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
        let mut lists = self.lock();
        // In reverse, so the first id of a result ends up newest.
        for id in pmids.iter().rev().take(KEEP) {
            remember(&mut lists.pmids, id);
        }
        for id in ncts.iter().rev().take(KEEP) {
            remember(&mut lists.nct_ids, id);
        }
    }

    /// PMIDs seen, newest first.
    pub fn pmids(&self) -> Vec<String> {
        self.lock().pmids.iter().cloned().collect()
    }

    /// NCT ids seen, newest first.
    pub fn nct_ids(&self) -> Vec<String> {
        self.lock().nct_ids.iter().cloned().collect()
    }
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

    #[test]
    fn keeps_ids_newest_first_without_duplicates() {
        let seen = SeenIds::default();
        seen.observe(&serde_json::json!({"articles": [{"pmid": "1"}, {"pmid": "2"}, {"pmid": "x1"}]}));
        seen.observe(
            &serde_json::json!({"matches": [{"nct_id": "nct01234567", "pmid": "2"}], "nct_id": "N1"}),
        );
        assert_eq!(seen.pmids(), ["2", "1"]);
        assert_eq!(seen.nct_ids(), ["NCT01234567"]);
        for i in 0..KEEP + 10 {
            seen.observe(&serde_json::json!({"pmid": i.to_string()}));
        }
        assert_eq!(seen.pmids().len(), KEEP);
        assert_eq!(seen.pmids()[0], (KEEP + 9).to_string());
    }
}
