//! The HTTP sessions: rmcp's [`LocalSessionManager`] with the event store, and one addition — each
//! request learns which SSE stream carries its answer ([`StreamControl`] in the request's extensions), so
//! a tool can close that stream mid-call and let the client poll for the result (SEP-1699).

use std::sync::Arc;
use std::time::Duration;

use futures::Stream;
use rmcp::RoleServer;
use rmcp::model::{ClientJsonRpcMessage, GetExtensions as _, ServerJsonRpcMessage};
use rmcp::transport::WorkerTransport;
use rmcp::transport::streamable_http_server::session::local::{
    LocalSessionHandle, LocalSessionManager, LocalSessionManagerError, LocalSessionWorker,
};
use rmcp::transport::streamable_http_server::session::{EventStore, ServerSseMessage, SessionId};
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

/// [`LocalSessionManager`] plus [`StreamControl`] on each request.
#[derive(Debug)]
pub(crate) struct Sessions {
    inner: LocalSessionManager,
}

impl Sessions {
    pub(crate) fn new(event_store: Arc<dyn EventStore>, sse_retry: Duration) -> Sessions {
        let mut inner = LocalSessionManager::default().with_event_store(event_store);
        inner.session_config.sse_retry = Some(sse_retry);
        Sessions { inner }
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
        self.inner.create_session().await
    }

    async fn initialize_session(
        &self,
        id: &SessionId,
        message: ClientJsonRpcMessage,
    ) -> Result<ServerJsonRpcMessage, Self::Error> {
        self.inner.initialize_session(id, message).await
    }

    async fn has_session(&self, id: &SessionId) -> Result<bool, Self::Error> {
        self.inner.has_session(id).await
    }

    async fn close_session(&self, id: &SessionId) -> Result<(), Self::Error> {
        self.inner.close_session(id).await
    }

    /// As [`LocalSessionManager::create_stream`], with the stream's identity put in the request.
    async fn create_stream(
        &self,
        id: &SessionId,
        mut message: ClientJsonRpcMessage,
    ) -> Result<impl Stream<Item = ServerSseMessage> + Send + Sync + 'static, Self::Error> {
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
