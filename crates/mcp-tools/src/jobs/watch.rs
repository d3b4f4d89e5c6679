//! Following one job to its end: the one way every face (MCP tasks, the HTTP API's events, the CLI, start-up
//! warming) waits on a job, woken by the change feed rather than each polling on its own.

use std::sync::Arc;
use std::time::Duration;

use futures::Stream;
use tokio::sync::broadcast;
use tool_metadata::{Principal, ToolError};

use super::{JobManager, JobRecord, ProgressJson};

/// How often a follower reads the job even without a change notice (a change in another process reaches the
/// feed through the store's watcher or Redis, but a missed notice must not stall anyone).
pub const WATCH_FALLBACK: Duration = Duration::from_millis(500);

struct Watch {
    jobs: Arc<JobManager>,
    principal: Principal,
    id: String,
    changes: broadcast::Receiver<String>,
    fallback: Duration,
    /// What was last yielded: nothing yet, or the status and progress.
    last: Option<(super::JobStatus, Option<ProgressJson>)>,
    done: bool,
}

impl JobManager {
    /// Follows `job_id` on behalf of `principal`: its record now, then each time its status or progress
    /// changes, ending after the record whose status is terminal. An unknown job (or one this principal may
    /// not see) yields that error and ends. Reads happen on a change notice for this job, at the latest every
    /// `fallback`.
    pub fn watch(
        self: &Arc<Self>,
        principal: &Principal,
        job_id: &str,
        fallback: Duration,
    ) -> impl Stream<Item = Result<JobRecord, ToolError>> + Send + 'static {
        let state = Watch {
            changes: self.subscribe_changes(),
            jobs: self.clone(),
            principal: principal.clone(),
            id: job_id.to_owned(),
            fallback,
            last: None,
            done: false,
        };
        futures::stream::unfold(state, Watch::next)
    }
}

impl Watch {
    async fn next(mut self) -> Option<(Result<JobRecord, ToolError>, Watch)> {
        if self.done {
            return None;
        }
        loop {
            let rec = match self.jobs.get(&self.principal, &self.id) {
                Ok(rec) => rec,
                Err(e) => {
                    self.done = true;
                    return Some((Err(e), self));
                }
            };
            let seen = (rec.status, rec.progress.clone());
            if rec.status.is_terminal() {
                self.done = true;
                return Some((Ok(rec), self));
            }
            if self.last.as_ref() != Some(&seen) {
                self.last = Some(seen);
                return Some((Ok(rec), self));
            }
            let wait = tokio::time::sleep(self.fallback);
            tokio::pin!(wait);
            loop {
                tokio::select! {
                    changed = self.changes.recv() => match changed {
                        Ok(id) if id == self.id => break,
                        Ok(_) => continue,
                        Err(broadcast::error::RecvError::Lagged(_)) => break,
                        Err(broadcast::error::RecvError::Closed) => {
                            (&mut wait).await;
                            break;
                        }
                    },
                    _ = &mut wait => break,
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::{Duration, Instant};

    use futures::StreamExt;
    use tokio_util::sync::CancellationToken;
    use tool_metadata::{Principal, RetryPolicy};

    use crate::jobs::{JobManager, JobStatus, ProgressJson};

    #[tokio::test]
    async fn a_watch_yields_each_change_then_the_end_woken_by_the_feed_not_the_fallback() {
        let dir = tempfile::tempdir().unwrap();
        let jobs = Arc::new(JobManager::open(dir.path()).unwrap());
        let me = Principal::named("me", false);
        let args = serde_json::json!({});
        let ticket = jobs
            .start(
                &me,
                "fixture",
                RetryPolicy::None,
                &args,
                "2026-12-03T00:00:00Z",
                CancellationToken::new(),
                None,
            )
            .unwrap();
        let id = ticket.job_id.clone();
        // A fallback far longer than the test: only the change feed can wake the watch in time.
        let watch = jobs.watch(&me, &id, Duration::from_secs(60));
        let writer = jobs.clone();
        let job = id.clone();
        tokio::spawn(async move {
            for current in 1..=3 {
                tokio::time::sleep(Duration::from_millis(20)).await;
                let p = ProgressJson { current, total: Some(3), message: None };
                writer.progress(&job, &p, "");
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
            writer.finish(&job, &Ok(serde_json::json!({"done": true})), "");
        });
        let started = Instant::now();
        let seen: Vec<_> = watch.collect().await;
        assert!(started.elapsed() < Duration::from_secs(10), "woken by the feed: {:?}", started.elapsed());
        let seen: Vec<_> = seen.into_iter().map(|r| r.unwrap()).collect();
        assert_eq!(seen.first().map(|r| r.status), Some(JobStatus::Running));
        let running = seen.iter().filter(|r| !r.status.is_terminal());
        let steps: Vec<u64> = running.filter_map(|r| r.progress.as_ref().map(|p| p.current)).collect();
        assert!(steps.windows(2).all(|w| w[0] < w[1]), "each change once, in order: {steps:?}");
        assert_eq!(seen.last().map(|r| r.status), Some(JobStatus::Completed));
        assert_eq!(seen.last().and_then(|r| r.result.clone()), Some(serde_json::json!({"done": true})));

        // Another principal's job reads as unknown: one error, then the end.
        let other: Vec<_> =
            jobs.watch(&Principal::named("other", false), &id, Duration::from_secs(60)).collect().await;
        assert_eq!(other.len(), 1);
        assert!(other[0].is_err());
    }
}
