//! Resumable SSE streams: a bounded in-memory [`EventStore`] for the streamable HTTP sessions.
//!
//! Every event sent on a stream (a request's POST stream or a session's GET stream) is kept here under a
//! globally unique id, so a client that lost its connection reconnects with `Last-Event-ID` and receives
//! what it missed, then what follows: the replay keeps following a request's stream until its response,
//! even when the response was sent while nobody was connected (rmcp's own per-session cache drops a
//! request's stream once answered). Memory is bounded by bytes, and answered streams expire.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rmcp::model::ServerJsonRpcMessage;
use rmcp::transport::streamable_http_server::session::{
    EventId, EventStore, EventStoreError, EventStream, ServerSseMessage,
};
use tokio::sync::{mpsc, watch};

/// How long an answered stream stays replayable.
const FINISHED_TTL: Duration = Duration::from_secs(120);
/// How long a stream without new events stays replayable (and a replay waits for more).
const IDLE_TTL: Duration = Duration::from_secs(600);

struct Stream {
    events: VecDeque<(u64, ServerSseMessage, usize)>,
    finished: Option<Instant>,
    touched: Instant,
}

#[derive(Default)]
struct State {
    next: u64,
    bytes: usize,
    streams: HashMap<String, Stream>,
    /// Every kept event's sequence number → its stream, oldest first (eviction order and id lookup).
    owners: BTreeMap<u64, String>,
    swept: Option<Instant>,
}

struct Inner {
    state: Mutex<State>,
    budget: usize,
    changed: watch::Sender<u64>,
}

/// The store: cheap to clone, shared by every session of the server.
#[derive(Clone)]
pub(crate) struct MemoryEventStore {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for MemoryEventStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryEventStore").field("budget", &self.inner.budget).finish()
    }
}

/// Counts bytes without keeping them.
struct Counter(usize);

impl std::io::Write for Counter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0 += buf.len();
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn size_of(event: &ServerSseMessage) -> usize {
    let mut n = Counter(64);
    if let Some(m) = event.message.as_ref() {
        let _ = serde_json::to_writer(&mut n, m.as_ref());
    }
    n.0
}

/// A response or an error ends a request's stream.
fn ends_stream(event: &ServerSseMessage) -> bool {
    matches!(
        event.message.as_deref(),
        Some(ServerJsonRpcMessage::Response(_) | ServerJsonRpcMessage::Error(_))
    )
}

impl State {
    fn evict_oldest(&mut self) {
        let Some((seq, stream_id)) = self.owners.pop_first() else { return };
        if let Some(s) = self.streams.get_mut(&stream_id)
            && s.events.front().is_some_and(|(first, _, _)| *first == seq)
            && let Some((_, _, size)) = s.events.pop_front()
        {
            self.bytes -= size;
            if s.events.is_empty() {
                self.streams.remove(&stream_id);
            }
        }
    }

    fn remove_stream(&mut self, stream_id: &str) {
        if let Some(s) = self.streams.remove(stream_id) {
            for (seq, _, size) in s.events {
                self.owners.remove(&seq);
                self.bytes -= size;
            }
        }
    }

    fn sweep(&mut self, now: Instant) {
        if self.swept.is_some_and(|t| now.duration_since(t) < Duration::from_secs(5)) {
            return;
        }
        self.swept = Some(now);
        let expired: Vec<String> = self
            .streams
            .iter()
            .filter(|(_, s)| {
                s.finished.is_some_and(|t| now.duration_since(t) > FINISHED_TTL)
                    || now.duration_since(s.touched) > IDLE_TTL
            })
            .map(|(id, _)| id.clone())
            .collect();
        for id in expired {
            self.remove_stream(&id);
        }
    }

    /// The events of `stream_id` after `after`, and whether the stream is over (answered or gone).
    fn after(&self, stream_id: &str, after: u64) -> (Vec<(u64, ServerSseMessage)>, bool) {
        match self.streams.get(stream_id) {
            None => (Vec::new(), true),
            Some(s) => (
                s.events.iter().filter(|(seq, _, _)| *seq > after).map(|(q, e, _)| (*q, e.clone())).collect(),
                s.finished.is_some(),
            ),
        }
    }
}

impl MemoryEventStore {
    /// A store keeping at most `budget` bytes of events.
    pub(crate) fn new(budget: usize) -> MemoryEventStore {
        let (changed, _) = watch::channel(0);
        MemoryEventStore { inner: Arc::new(Inner { state: Mutex::new(State::default()), budget, changed }) }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.inner.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn store(&self, stream_id: &str, event: &ServerSseMessage) -> u64 {
        let size = size_of(event);
        let now = Instant::now();
        let seq = {
            let mut st = self.state();
            st.sweep(now);
            st.next += 1;
            let seq = st.next;
            let mut kept = event.clone();
            kept.event_id = Some(seq.to_string());
            let s = st.streams.entry(stream_id.to_owned()).or_insert_with(|| Stream {
                events: VecDeque::new(),
                finished: None,
                touched: now,
            });
            s.touched = now;
            if ends_stream(event) {
                s.finished = Some(now);
            }
            s.events.push_back((seq, kept, size));
            st.owners.insert(seq, stream_id.to_owned());
            st.bytes += size;
            while st.bytes > self.inner.budget && st.owners.len() > 1 {
                st.evict_oldest();
            }
            seq
        };
        self.inner.changed.send_replace(seq);
        seq
    }

    /// Sends `stream_id`'s events after `cursor` into `tx`, following new ones until the stream is
    /// answered, expires, stays idle too long or the client goes away.
    async fn follow(self, stream_id: String, mut cursor: u64, tx: mpsc::Sender<ServerSseMessage>) {
        let mut changed = self.inner.changed.subscribe();
        loop {
            changed.borrow_and_update();
            let (events, over) = self.state().after(&stream_id, cursor);
            for (seq, event) in events {
                if tx.send(event).await.is_err() {
                    return;
                }
                cursor = seq;
            }
            if over {
                return;
            }
            tokio::select! {
                r = changed.changed() => if r.is_err() { return },
                () = tx.closed() => return,
                () = tokio::time::sleep(IDLE_TTL) => return,
            }
        }
    }
}

#[async_trait::async_trait]
impl EventStore for MemoryEventStore {
    async fn store_event(
        &self,
        stream_id: &str,
        event: &ServerSseMessage,
    ) -> Result<EventId, EventStoreError> {
        Ok(self.store(stream_id, event).to_string())
    }

    async fn replay_events_after(&self, last_event_id: &str) -> Result<EventStream, EventStoreError> {
        let seq: u64 = last_event_id.parse().map_err(|_| format!("unknown event id {last_event_id:?}"))?;
        let stream_id = self
            .state()
            .owners
            .get(&seq)
            .cloned()
            .ok_or_else(|| format!("event {seq} is unknown or expired"))?;
        let (tx, mut rx) = mpsc::channel(64);
        tokio::spawn(self.clone().follow(stream_id, seq, tx));
        Ok(Box::pin(futures::stream::poll_fn(move |cx| rx.poll_recv(cx))))
    }
}

#[cfg(test)]
mod tests {
    use futures::StreamExt as _;
    use rmcp::model::{EmptyResult, ServerResult};

    use super::*;

    fn response(id: i64) -> ServerSseMessage {
        let msg = ServerJsonRpcMessage::response(
            ServerResult::EmptyResult(EmptyResult {}),
            rmcp::model::NumberOrString::Number(id),
        );
        ServerSseMessage::from_message(msg)
    }

    #[tokio::test]
    async fn replay_follows_a_stream_until_its_response() {
        let store = MemoryEventStore::new(1 << 20);
        let first = store.store_event("a", &ServerSseMessage::retry(Duration::from_secs(1))).await.unwrap();
        store.store_event("b", &response(9)).await.unwrap();
        let mut replay = store.replay_events_after(&first).await.unwrap();
        let later = store.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(50)).await;
            later.store_event("a", &response(1)).await.unwrap();
        });
        let got = replay.next().await.expect("the response, stored after the replay began");
        assert!(ends_stream(&got));
        assert_eq!(got.event_id.as_deref(), Some("3"));
        assert!(replay.next().await.is_none(), "the replay ends with the response");
    }

    #[tokio::test]
    async fn the_budget_evicts_the_oldest_events() {
        let store = MemoryEventStore::new(200);
        let first = store.store_event("a", &response(1)).await.unwrap();
        for i in 2..10 {
            store.store_event("a", &response(i)).await.unwrap();
        }
        assert!(store.state().bytes <= 200);
        assert!(store.replay_events_after(&first).await.is_err(), "an evicted id is refused");
        assert!(store.replay_events_after("nonsense").await.is_err());
    }
}
