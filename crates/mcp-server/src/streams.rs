//! The HTTP sessions: rmcp's [`LocalSessionManager`] with the event store, bounded: at most `max_sessions`
//! live sessions (a new one evicts the one idle longest), a closed session's own events dropped at once, and
//! answered requests' channels released after a second (the event store serves late resumes). One
//! addition — each request learns which SSE stream carries its answer ([`StreamControl`] in the request's
//! extensions), so a tool can close that stream mid-call and let the client poll for the result (SEP-1699).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::Stream;
use rmcp::RoleServer;
use rmcp::model::{ClientJsonRpcMessage, GetExtensions as _, ServerJsonRpcMessage};
use rmcp::transport::WorkerTransport;
use rmcp::transport::streamable_http_server::session::local::{
    LocalSessionHandle, LocalSessionManager, LocalSessionManagerError, LocalSessionWorker,
};
use rmcp::transport::streamable_http_server::session::{EventStore, ServerSseMessage, SessionId};

use crate::events::MemoryEventStore;
use rmcp::transport::streamable_http_server::{RestoreOutcome, SessionManager};

/// The SSE stream a request's answer travels on: its session and rmcp's id for the HTTP request.
#[derive(Clone)]
pub(crate) struct StreamControl {
    handle: LocalSessionHandle,
    http_request_id: Option<u64>,
}

impl StreamControl {
    /// Closes the stream after a priming event carrying `retry`; the client reconnects with
    /// `Last-Event-ID` and the event store replays the rest, the answer included.
    pub(crate) async fn close(&self, retry: Duration) -> bool {
        let Some(id) = self.http_request_id else { return false };
        match self.handle.close_sse_stream(id, Some(retry)).await {
            Ok(()) => true,
            Err(e) => {
                tracing::debug!(error = %e, "closing the SSE stream failed");
                false
            }
        }
    }
}

/// [`LocalSessionManager`] plus [`StreamControl`] on each request, and the session cap.
#[derive(Debug)]
pub(crate) struct Sessions {
    inner: LocalSessionManager,
    events: MemoryEventStore,
    max_sessions: usize,
    /// When each live session was last used.
    seen: Mutex<HashMap<SessionId, Instant>>,
}

impl Sessions {
    pub(crate) fn new(events: MemoryEventStore, sse_retry: Duration, max_sessions: usize) -> Sessions {
        let mut inner = LocalSessionManager::default().with_event_store(Arc::new(events.clone()));
        inner.session_config.sse_retry = Some(sse_retry);
        // Resumes are served by the event store: rmcp's own copy of each answered request is released soon.
        inner.session_config.completed_cache_ttl = Duration::from_secs(1);
        Sessions { inner, events, max_sessions: max_sessions.max(1), seen: Mutex::new(HashMap::new()) }
    }

    fn seen(&self) -> std::sync::MutexGuard<'_, HashMap<SessionId, Instant>> {
        self.seen.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn touch(&self, id: &SessionId) {
        if let Some(t) = self.seen().get_mut(id) {
            *t = Instant::now();
        }
    }

    /// Makes room for one more session: forgets sessions rmcp already ended (idle expiry), then closes the
    /// one idle longest while the cap is reached.
    async fn make_room(&self) {
        let live: Vec<SessionId> = self.inner.sessions.read().await.keys().cloned().collect();
        let ended: Vec<SessionId> = {
            let mut seen = self.seen();
            let ended = seen.keys().filter(|id| !live.contains(id)).cloned().collect::<Vec<_>>();
            for id in &ended {
                seen.remove(id);
            }
            ended
        };
        for id in ended {
            self.events.forget(&format!("{id}:common"));
        }
        loop {
            let oldest = {
                let seen = self.seen();
                if seen.len() < self.max_sessions {
                    return;
                }
                seen.iter().min_by_key(|(_, t)| **t).map(|(id, _)| id.clone())
            };
            let Some(oldest) = oldest else { return };
            tracing::warn!(session = %oldest, max = self.max_sessions, "session cap reached: closing the session idle longest");
            metrics::counter!("pipette_http_sessions_evicted_total").increment(1);
            let _ = self.close_session(&oldest).await;
        }
    }
}

fn receiver_stream(
    mut rx: tokio::sync::mpsc::Receiver<ServerSseMessage>,
) -> impl Stream<Item = ServerSseMessage> + Send + Sync + 'static {
    futures::stream::poll_fn(move |cx| rx.poll_recv(cx))
}

impl SessionManager for Sessions {
    type Error = LocalSessionManagerError;
    type Transport = WorkerTransport<LocalSessionWorker>;

    async fn create_session(&self) -> Result<(SessionId, Self::Transport), Self::Error> {
        self.make_room().await;
        let (id, transport) = self.inner.create_session().await?;
        self.seen().insert(id.clone(), Instant::now());
        metrics::gauge!("pipette_http_sessions").set(self.seen().len() as f64);
        Ok((id, transport))
    }

    async fn initialize_session(
        &self,
        id: &SessionId,
        message: ClientJsonRpcMessage,
    ) -> Result<ServerJsonRpcMessage, Self::Error> {
        self.inner.initialize_session(id, message).await
    }

    async fn has_session(&self, id: &SessionId) -> Result<bool, Self::Error> {
        self.touch(id);
        self.inner.has_session(id).await
    }

    async fn close_session(&self, id: &SessionId) -> Result<(), Self::Error> {
        self.seen().remove(id);
        self.events.forget(&format!("{id}:common"));
        metrics::gauge!("pipette_http_sessions").set(self.seen().len() as f64);
        self.inner.close_session(id).await
    }

    /// As [`LocalSessionManager::create_stream`], with the stream's identity put in the request.
    async fn create_stream(
        &self,
        id: &SessionId,
        mut message: ClientJsonRpcMessage,
    ) -> Result<impl Stream<Item = ServerSseMessage> + Send + Sync + 'static, Self::Error> {
        self.touch(id);
        let handle = self
            .inner
            .sessions
            .read()
            .await
            .get(id)
            .cloned()
            .ok_or_else(|| LocalSessionManagerError::SessionNotFound(id.clone()))?;
        let receiver = handle.establish_request_wise_channel().await?;
        if let ClientJsonRpcMessage::Request(request) = &mut message {
            let control = StreamControl { handle: handle.clone(), http_request_id: receiver.http_request_id };
            request.request.extensions_mut().insert(control);
        }
        handle.push_message(message, receiver.http_request_id).await?;
        Ok(receiver_stream(receiver.inner))
    }

    async fn accept_message(&self, id: &SessionId, message: ClientJsonRpcMessage) -> Result<(), Self::Error> {
        self.touch(id);
        self.inner.accept_message(id, message).await
    }

    async fn create_standalone_stream(
        &self,
        id: &SessionId,
    ) -> Result<impl Stream<Item = ServerSseMessage> + Send + Sync + 'static, Self::Error> {
        self.inner.create_standalone_stream(id).await
    }

    async fn resume(
        &self,
        id: &SessionId,
        last_event_id: String,
    ) -> Result<impl Stream<Item = ServerSseMessage> + Send + Sync + 'static, Self::Error> {
        self.inner.resume(id, last_event_id).await
    }

    async fn restore_session(&self, id: SessionId) -> Result<RestoreOutcome<Self::Transport>, Self::Error> {
        self.inner.restore_session(id).await
    }

    fn event_store(&self) -> Option<Arc<dyn EventStore>> {
        self.inner.event_store()
    }
}

/// The stream of the request behind `context`, when it came over streamable HTTP.
pub(crate) fn control_of(context: &rmcp::service::RequestContext<RoleServer>) -> Option<StreamControl> {
    context.extensions.get::<StreamControl>().cloned()
}
