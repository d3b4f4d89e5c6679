//! Tasks waiting for the client (SEP-2663 `input_required`): a tool running as a task that asks the person,
//! the client's model or the client's roots parks here under its task (job) id. `tasks/get` shows the
//! questions still open as `inputRequests`; `tasks/update` answers some or all of them and the tool goes
//! on. The questions live in this process only: a task whose process stops is interrupted like any job.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, LazyLock, Mutex};

use serde_json::Value;
use tokio::sync::watch;

/// One task's open questions and the answers not yet taken.
#[derive(Debug)]
pub(crate) struct Parked {
    state: Mutex<Questions>,
    changed: watch::Sender<u64>,
}

#[derive(Debug, Default)]
struct Questions {
    asked: BTreeMap<String, Value>,
    answers: BTreeMap<String, Value>,
}

static PARKED: LazyLock<Mutex<HashMap<String, Arc<Parked>>>> = LazyLock::new(Mutex::default);

fn all() -> std::sync::MutexGuard<'static, HashMap<String, Arc<Parked>>> {
    PARKED.lock().unwrap_or_else(|p| p.into_inner())
}

/// The questions of task `task_id` (created on first use).
pub(crate) fn of(task_id: &str) -> Arc<Parked> {
    all()
        .entry(task_id.to_owned())
        .or_insert_with(|| Arc::new(Parked { state: Mutex::default(), changed: watch::channel(0).0 }))
        .clone()
}

/// The task's open questions (`{method, params}` by key); empty when it waits for nothing.
pub(crate) fn open_questions(task_id: &str) -> BTreeMap<String, Value> {
    all().get(task_id).map(|p| p.lock().asked.clone()).unwrap_or_default()
}

/// Forgets a task that ended.
pub(crate) fn forget(task_id: &str) {
    all().remove(task_id);
}

/// Answers the open questions among `responses` (others are ignored); false when the task waits for nothing.
pub(crate) fn answer(task_id: &str, responses: BTreeMap<String, Value>) -> bool {
    let Some(parked) = all().get(task_id).cloned() else { return false };
    {
        let mut q = parked.lock();
        for (key, value) in responses {
            if q.asked.remove(&key).is_some() {
                q.answers.insert(key, value);
            }
        }
    }
    parked.changed.send_modify(|n| *n += 1);
    true
}

impl Parked {
    fn lock(&self) -> std::sync::MutexGuard<'_, Questions> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Asks `key` (`request` is `{method, params}`) and waits for its answer (`tasks/update`).
    pub(crate) async fn ask(&self, key: &str, request: Value) -> Value {
        let mut changed = self.changed.subscribe();
        {
            let mut q = self.lock();
            if let Some(answer) = q.answers.remove(key) {
                return answer;
            }
            q.asked.insert(key.to_owned(), request);
        }
        self.changed.send_modify(|n| *n += 1);
        loop {
            if let Some(answer) = self.lock().answers.remove(key) {
                return answer;
            }
            if changed.changed().await.is_err() {
                // The sender lives as long as `self`: not reached.
                std::future::pending::<()>().await;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[tokio::test]
    async fn questions_are_answered_one_at_a_time() {
        let parked = of("t-partial");
        let p1 = parked.clone();
        let p2 = parked.clone();
        let a = tokio::spawn(async move { p1.ask("a", json!({ "method": "roots/list" })).await });
        let b = tokio::spawn(async move { p2.ask("b", json!({ "method": "roots/list" })).await });
        while open_questions("t-partial").len() < 2 {
            tokio::task::yield_now().await;
        }
        assert!(answer("t-partial", [("a".to_owned(), json!(1)), ("zzz".to_owned(), json!(0))].into()));
        assert_eq!(a.await.unwrap(), json!(1));
        assert_eq!(open_questions("t-partial").keys().collect::<Vec<_>>(), ["b"], "only b is still open");
        answer("t-partial", [("b".to_owned(), json!(2))].into());
        assert_eq!(b.await.unwrap(), json!(2));
        forget("t-partial");
        assert!(!answer("t-partial", BTreeMap::new()));
    }
}
