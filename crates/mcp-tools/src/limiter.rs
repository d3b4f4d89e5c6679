//! Admission by priority: a bounded number of permits; when none is free, waiters are served by
//! priority (higher first), then by arrival.

use std::cmp::Ordering;
use std::collections::BinaryHeap;
use std::sync::{Arc, Mutex};

use tokio::sync::oneshot;

struct Waiter {
    priority: u8,
    seq: u64,
    tx: oneshot::Sender<Permit>,
}

impl PartialEq for Waiter {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for Waiter {}
impl PartialOrd for Waiter {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Waiter {
    fn cmp(&self, other: &Self) -> Ordering {
        // Max-heap: higher priority first, then the earlier arrival (smaller seq).
        self.priority.cmp(&other.priority).then(other.seq.cmp(&self.seq))
    }
}

struct State {
    in_use: usize,
    capacity: usize,
    seq: u64,
    waiters: BinaryHeap<Waiter>,
}

/// A priority-admission semaphore.
#[derive(Clone)]
pub(crate) struct PriorityLimiter {
    state: Arc<Mutex<State>>,
    name: &'static str,
}

/// A held slot; dropping it hands the slot to the best waiter.
pub(crate) struct Permit {
    limiter: Option<PriorityLimiter>,
}

impl PriorityLimiter {
    pub(crate) fn new(name: &'static str, capacity: usize) -> PriorityLimiter {
        let state = State { in_use: 0, capacity: capacity.max(1), seq: 0, waiters: BinaryHeap::new() };
        PriorityLimiter { state: Arc::new(Mutex::new(state)), name }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Waits for a slot. Dropping the future gives up the place in the queue.
    pub(crate) async fn acquire(&self, priority: u8) -> Permit {
        let rx = {
            let mut st = self.lock();
            if st.in_use < st.capacity && st.waiters.is_empty() {
                st.in_use += 1;
                return Permit { limiter: Some(self.clone()) };
            }
            let (tx, rx) = oneshot::channel();
            st.seq += 1;
            let seq = st.seq;
            st.waiters.push(Waiter { priority, seq, tx });
            metrics::gauge!("pipette_runtime_queued", "runtime" => self.name).set(st.waiters.len() as f64);
            rx
        };
        match rx.await {
            Ok(permit) => permit,
            // The limiter is gone only when the router is; take a detached permit.
            Err(_) => Permit { limiter: None },
        }
    }

    fn release(&self) {
        let mut st = self.lock();
        while let Some(w) = st.waiters.pop() {
            // The slot moves to the waiter; if it has gone, the permit comes back and we try the next one.
            match w.tx.send(Permit { limiter: Some(self.clone()) }) {
                Ok(()) => {
                    metrics::gauge!("pipette_runtime_queued", "runtime" => self.name)
                        .set(st.waiters.len() as f64);
                    return;
                }
                Err(mut p) => p.limiter = None,
            }
        }
        st.in_use = st.in_use.saturating_sub(1);
    }

    #[cfg(test)]
    pub(crate) fn in_use(&self) -> usize {
        self.lock().in_use
    }
}

impl Drop for Permit {
    fn drop(&mut self) {
        if let Some(l) = self.limiter.take() {
            l.release();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn waiters_are_admitted_by_priority_then_arrival() {
        let limiter = PriorityLimiter::new("test", 1);
        let held = limiter.acquire(0).await;
        let order = Arc::new(Mutex::new(Vec::new()));
        let mut tasks = Vec::new();
        for (i, prio) in [(0, 1u8), (1, 9), (2, 5), (3, 9), (4, 1)] {
            let l = limiter.clone();
            let order = order.clone();
            tasks.push(tokio::spawn(async move {
                let _p = l.acquire(prio).await;
                order.lock().unwrap().push(i);
            }));
            tokio::task::yield_now().await;
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
        drop(held);
        for t in tasks {
            t.await.unwrap();
        }
        assert_eq!(*order.lock().unwrap(), vec![1, 3, 2, 0, 4]);
        assert_eq!(limiter.in_use(), 0);
    }

    #[tokio::test]
    async fn a_waiter_that_gives_up_does_not_leak_its_slot() {
        let limiter = PriorityLimiter::new("test", 1);
        let held = limiter.acquire(0).await;
        let l = limiter.clone();
        let gave_up = tokio::spawn(async move { l.acquire(5).await });
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        gave_up.abort();
        let _ = gave_up.await;
        drop(held);
        let again = tokio::time::timeout(std::time::Duration::from_secs(1), limiter.acquire(0)).await;
        assert!(again.is_ok(), "the slot came back");
    }
}
