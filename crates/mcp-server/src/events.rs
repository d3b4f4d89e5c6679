//! Resumable SSE streams: a bounded in-memory [`EventStore`] for the streamable HTTP sessions.
//!
//! Every event sent on a stream (a request's POST stream or a session's GET stream) is kept here under a
//! globally unique id, so a client that lost its connection reconnects with `Last-Event-ID` and receives
//! what it missed, then what follows: the replay keeps following a request's stream until its response,
//! even when the response was sent while nobody was connected (rmcp's own per-session cache drops a
//! request's stream once answered). Events are kept serialized, so the budget counts the bytes really held;
//! one stream holds at most [`STREAM_BUDGET`] of them, a closed session's stream is dropped at once, and
//! answered streams expire.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rmcp::model::ServerJsonRpcMessage;
use rmcp::transport::streamable_http_server::session::{
    EventId, EventStore, EventStoreError, EventStream, ServerSseMessage,
};
use tokio::sync::{mpsc, watch};

/// How long an answered stream stays replayable.
const FINISHED_TTL: Duration = Duration::from_secs(30);
/// How long a stream without new events stays replayable (and a replay waits for more).
const IDLE_TTL: Duration = Duration::from_secs(600);

/// The most bytes one stream keeps (its oldest events go first).
const STREAM_BUDGET: usize = 1 << 20;

/// An event as kept: its JSON-RPC message serialized (none for a priming event) and its retry hint.
struct Kept {
    message: Option<Box<[u8]>>,
    retry: Option<Duration>,
}

impl Kept {
    fn new(event: &ServerSseMessage) -> Kept {
        let message = event.message.as_ref().and_then(|m| serde_json::to_vec(m.as_ref()).ok());
        Kept { message: message.map(Vec::into_boxed_slice), retry: event.retry }
    }

    /// The bytes it holds, with its bookkeeping.
    fn size(&self) -> usize {
        std::mem::size_of::<Kept>() + 64 + self.message.as_ref().map_or(0, |m| m.len())
    }

    fn event(&self, seq: u64) -> Option<ServerSseMessage> {
        let mut event = match &self.message {
            Some(bytes) => ServerSseMessage::new(seq.to_string(), serde_json::from_slice(bytes).ok()?),
            None => ServerSseMessage::priming(seq.to_string(), self.retry.unwrap_or_default()),
        };
        event.retry = self.retry;
        Some(event)
    }
}

struct Stream {
    events: VecDeque<(u64, Kept, usize)>,
    bytes: usize,
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
            s.bytes -= size;
            if s.events.is_empty() {
                self.streams.remove(&stream_id);
            }
        }
    }

    fn remove_stream(&mut self, stream_id: &str) {
        if let Some(s) = self.streams.remove(stream_id) {
            self.bytes -= s.bytes;
            for (seq, _, _) in s.events {
                self.owners.remove(&seq);
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
                s.events
                    .iter()
                    .filter(|(seq, _, _)| *seq > after)
                    .filter_map(|(q, e, _)| Some((*q, e.event(*q)?)))
                    .collect(),
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

    /// Drops a stream's events at once (a closed session's own stream).
    pub(crate) fn forget(&self, stream_id: &str) {
        self.state().remove_stream(stream_id);
    }

    /// The bytes of events kept now.
    #[cfg(test)]
    fn bytes(&self) -> usize {
        self.state().bytes
    }

    fn store(&self, stream_id: &str, event: &ServerSseMessage) -> u64 {
        let kept = Kept::new(event);
        let size = kept.size();
        let now = Instant::now();
        let seq = {
            let mut st = self.state();
            st.sweep(now);
            st.next += 1;
            let seq = st.next;
            let s = st.streams.entry(stream_id.to_owned()).or_insert_with(|| Stream {
                events: VecDeque::new(),
                bytes: 0,
                finished: None,
                touched: now,
            });
            s.touched = now;
            if ends_stream(event) {
                s.finished = Some(now);
            }
            s.events.push_back((seq, kept, size));
            s.bytes += size;
            // One stream never holds more than its share: its own oldest events go first.
            let mut dropped = Vec::new();
            while s.bytes > STREAM_BUDGET && s.events.len() > 1 {
                if let Some((old, _, old_size)) = s.events.pop_front() {
                    s.bytes -= old_size;
                    dropped.push((old, old_size));
                }
            }
            for (old, old_size) in dropped {
                st.owners.remove(&old);
                st.bytes -= old_size;
            }
            st.owners.insert(seq, stream_id.to_owned());
            st.bytes += size;
            while st.bytes > self.inner.budget && st.owners.len() > 1 {
                st.evict_oldest();
            }
            metrics::gauge!("pipette_http_event_buffer_bytes").set(st.bytes as f64);
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

    #[tokio::test]
    async fn one_stream_keeps_its_share_and_a_forgotten_stream_frees_its_bytes() {
        let store = MemoryEventStore::new(64 << 20);
        let big = serde_json::json!({"text": "x".repeat(100_000)});
        let msg = ServerJsonRpcMessage::response(
            ServerResult::CustomResult(rmcp::model::CustomResult::new(big)),
            rmcp::model::NumberOrString::Number(1),
        );
        for _ in 0..30 {
            store.store_event("s", &ServerSseMessage::from_message(msg.clone())).await.unwrap();
        }
        let held = store.bytes();
        assert!(held <= STREAM_BUDGET, "{held}");
        assert!(held > STREAM_BUDGET / 2, "{held}");
        let kept = store.store_event("t", &response(2)).await.unwrap();
        store.forget("s");
        assert!(store.bytes() < 1000, "{}", store.bytes());
        // What is kept replays as it was sent.
        let mut replay = store.replay_events_after(&(kept.parse::<u64>().unwrap() - 1).to_string()).await;
        assert!(replay.is_err() || replay.as_mut().unwrap().next().await.is_some());
    }
}
