//! The accept loop of the HTTP face (HTTP/1.1 and h2c): a cap on open connections, a deadline for each
//! request's header, an idle timeout between requests, TCP_NODELAY, and a graceful stop.
//!
//! A connection is *busy* while a request is being answered: from its parsed header until its response body
//! (an SSE stream included) has been sent or dropped. A connection that is not busy is closed when the client
//! has not completed a request header within the header timeout of connecting or of sending the header's first
//! byte, or when it sent nothing for the idle timeout. Busy connections are never cut, except by shutdown.

use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::http::{Request, Response};
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, watch};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// How long a stop waits for busy connections to finish before it closes them.
const DRAIN: Duration = Duration::from_secs(10);

/// The three numbers of `PIPETTE_HTTP_HEADER_TIMEOUT_MS`, `PIPETTE_HTTP_IDLE_TIMEOUT_MS` and
/// `PIPETTE_HTTP_MAX_CONNECTIONS`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    pub(crate) header_timeout: Duration,
    pub(crate) idle_timeout: Duration,
    pub(crate) max_connections: usize,
}

/// Serves `app` on `listener` until `shutdown` is cancelled, then lets busy connections finish (up to 10 s).
///
/// At the cap, the loop stops accepting: new connections wait in the kernel's backlog until one closes.
pub(crate) async fn serve(
    listener: TcpListener,
    app: axum::Router,
    limits: Limits,
    shutdown: CancellationToken,
) {
    let permits = Arc::new(Semaphore::new(limits.max_connections));
    let tracker = TaskTracker::new();
    let mut builder = auto::Builder::new(TokioExecutor::new());
    // The header timeout is ours: hyper's would also close kept-alive connections between requests.
    builder.http1().header_read_timeout(None);
    let builder = Arc::new(builder);
    let mut full = false;
    loop {
        if permits.available_permits() == 0 && !full {
            tracing::warn!(
                max = limits.max_connections,
                "HTTP connection cap reached (PIPETTE_HTTP_MAX_CONNECTIONS); new connections wait"
            );
        }
        full = permits.available_permits() == 0;
        let permit = tokio::select! {
            p = permits.clone().acquire_owned() => match p {
                Ok(p) => p,
                Err(_) => break, // never closed
            },
            () = shutdown.cancelled() => break,
        };
        let (tcp, peer) = tokio::select! {
            r = listener.accept() => match r {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of file descriptors and the like: wait a little rather than spin.
                    tracing::warn!(error = %e, "accepting an HTTP connection failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = shutdown.cancelled() => break,
        };
        // Small request/response exchanges: do not let Nagle's algorithm hold replies back.
        if let Err(e) = tcp.set_nodelay(true) {
            tracing::debug!(error = %e, "TCP_NODELAY not set");
        }
        let (app, builder, shutdown) = (app.clone(), builder.clone(), shutdown.clone());
        tracker.spawn(async move {
            connection(tcp, app, &builder, limits, shutdown).await;
            tracing::trace!(%peer, "HTTP connection closed");
            drop(permit);
        });
    }
    tracker.close();
    if tokio::time::timeout(DRAIN, tracker.wait()).await.is_err() {
        tracing::warn!(open = tracker.len(), "HTTP connections still busy after 10 s; closing them");
    }
}

/// What the watchdog of one connection knows.
#[derive(Debug)]
struct ConnState {
    /// Requests being answered.
    busy: usize,
    /// Since when the client has been sending a request header that is not complete yet (or, before the first
    /// request, since it connected).
    header_since: Option<Instant>,
    /// Since when nothing has been in flight.
    idle_since: Instant,
}

type Shared = Arc<watch::Sender<ConnState>>;

enum Cut {
    /// No complete request header in time: close now.
    Header,
    /// Nothing asked for a while: close gracefully.
    Idle,
}

impl ConnState {
    fn deadline(&self, limits: &Limits) -> Option<(Instant, Cut)> {
        if self.busy > 0 {
            None
        } else if let Some(since) = self.header_since {
            Some((since + limits.header_timeout, Cut::Header))
        } else {
            Some((self.idle_since + limits.idle_timeout, Cut::Idle))
        }
    }
}

async fn connection(
    tcp: TcpStream,
    app: axum::Router,
    builder: &auto::Builder<TokioExecutor>,
    limits: Limits,
    shutdown: CancellationToken,
) {
    let now = Instant::now();
    let state: Shared =
        Arc::new(watch::Sender::new(ConnState { busy: 0, header_since: Some(now), idle_since: now }));
    let mut changes = state.subscribe();
    let io = TokioIo::new(Watched { tcp, state: state.clone() });
    let service = Tracked { app: TowerToHyperService::new(app), state };
    let conn = builder.serve_connection(io, service);
    tokio::pin!(conn);
    // Once closing (idle or shutdown), a connection with nothing in flight gets one header timeout to go.
    let mut closing: Option<Instant> = None;
    loop {
        let deadline = {
            let s = changes.borrow_and_update();
            match closing {
                Some(at) if s.busy == 0 => Some((at + limits.header_timeout, Cut::Header)),
                Some(_) => None,
                None => s.deadline(&limits),
            }
        };
        let (at, cut) = match deadline {
            Some((at, cut)) => (Some(at), Some(cut)),
            None => (None, None),
        };
        tokio::select! {
            r = conn.as_mut() => {
                if let Err(e) = r {
                    tracing::debug!(error = %e, "HTTP connection ended with an error");
                }
                return;
            }
            changed = changes.changed() => {
                if changed.is_err() {
                    return;
                }
            }
            () = sleep_until(at) => match cut {
                Some(Cut::Header) => {
                    tracing::debug!(
                        "closing an HTTP connection: no complete request header within the header timeout \
                         (PIPETTE_HTTP_HEADER_TIMEOUT_MS)"
                    );
                    return;
                }
                Some(Cut::Idle) | None => {
                    tracing::trace!("closing an idle HTTP connection (PIPETTE_HTTP_IDLE_TIMEOUT_MS)");
                    conn.as_mut().graceful_shutdown();
                    closing = Some(Instant::now());
                }
            },
            () = shutdown.cancelled(), if closing.is_none() => {
                conn.as_mut().graceful_shutdown();
                closing = Some(Instant::now());
            }
        }
    }
}

async fn sleep_until(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

/// The socket, noting when a request header starts to arrive on a connection with nothing in flight.
struct Watched {
    tcp: TcpStream,
    state: Shared,
}

impl AsyncRead for Watched {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let polled = Pin::new(&mut this.tcp).poll_read(cx, buf);
        if matches!(polled, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            this.state.send_if_modified(|s| {
                let starts = s.busy == 0 && s.header_since.is_none();
                if starts {
                    s.header_since = Some(Instant::now());
                }
                starts
            });
        }
        polled
    }
}

impl AsyncWrite for Watched {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().tcp).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().tcp).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.tcp.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().tcp).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().tcp).poll_shutdown(cx)
    }
}

/// A request in flight; dropped with the response body.
struct Busy(Shared);

impl Busy {
    fn begin(state: &Shared) -> Busy {
        state.send_modify(|s| {
            s.busy += 1;
            s.header_since = None;
        });
        Busy(state.clone())
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        self.0.send_modify(|s| {
            s.busy = s.busy.saturating_sub(1);
            if s.busy == 0 {
                s.idle_since = Instant::now();
            }
        });
    }
}

/// The app, marking the connection busy from a request's header to the end of its response body.
#[derive(Clone)]
struct Tracked {
    app: TowerToHyperService<axum::Router>,
    state: Shared,
}

impl hyper::service::Service<Request<Incoming>> for Tracked {
    type Response = Response<TrackedBody>;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Infallible>> + Send>>;

    fn call(&self, req: Request<Incoming>) -> Self::Future {
        let busy = Busy::begin(&self.state);
        let answer = self.app.call(req);
        Box::pin(async move {
            let resp = answer.await?;
            Ok(resp.map(|body| TrackedBody { body, _busy: busy }))
        })
    }
}

struct TrackedBody {
    body: Body,
    _busy: Busy,
}

impl http_body::Body for TrackedBody {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, axum::Error>>> {
        Pin::new(&mut self.get_mut().body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.body.size_hint()
    }
}
