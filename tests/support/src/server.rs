//! A local upstream on 127.0.0.1 (axum) that serves recorded fixtures by route and injects faults.
//!
//! Routes match on method and exact path; a route registered later is tried first, and a route with a query
//! matcher applies only when each of its pairs is present in the request (URL query, or a form-encoded POST
//! body) with exactly that value. Every request is recorded with its arrival time. An unmatched request gets
//! a 404 whose body names the request, so a test that forgot a route fails loudly.
//!
//! Faults: a hang (no answer), a stalled body (headers and part of the body, then silence), a truncated
//! body, a connection reset before any answer, and `Reply::mix` (a seeded pseudo-random choice per
//! request, for benchmarks). A hang or stall whose client gave up (closed the connection) is counted in
//! [`UpstreamServer::abandoned`].

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::Response;
use bytes::Bytes;
use futures::StreamExt;
use tokio::sync::watch;

use crate::fixtures::fixture;

/// One request the server received.
#[derive(Debug, Clone)]
pub struct Recorded {
    /// `GET`, `POST`, …
    pub method: String,
    /// The path, without the query.
    pub path: String,
    /// The decoded URL query pairs, in order.
    pub query: Vec<(String, String)>,
    /// The request body (lossy UTF-8).
    pub body: String,
    /// When the request arrived.
    pub at: Instant,
}

impl Recorded {
    /// The first value of a query parameter (URL query, then a form-encoded body).
    pub fn param(&self, name: &str) -> Option<String> {
        self.query
            .iter()
            .chain(form_pairs(self.body.as_bytes()).iter())
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    }
}

/// What the server answers to a matched request.
#[derive(Debug, Clone)]
pub struct Reply {
    kind: Kind,
    headers: Vec<(String, String)>,
    delay: Duration,
}

#[derive(Debug, Clone)]
enum Kind {
    Body { status: u16, content_type: String, body: Bytes },
    Hang,
    Truncated { content_type: String, body: Bytes, send: usize },
    Stall { content_type: String, body: Bytes, send: usize },
    Reset,
    Seq { next: Arc<AtomicUsize>, replies: Vec<Reply> },
    Mix { state: Arc<Mutex<u64>>, choices: Vec<(u32, Reply)> },
}

impl Reply {
    fn new(kind: Kind) -> Self {
        Self { kind, headers: Vec::new(), delay: Duration::ZERO }
    }

    /// A recorded response (status 200), its content type guessed from the extension.
    ///
    /// # Panics
    /// When the fixture cannot be read.
    pub fn fixture(rel: &str) -> Self {
        Self::new(Kind::Body {
            status: 200,
            content_type: content_type_for(rel).to_owned(),
            body: Bytes::from(fixture(rel)),
        })
    }

    /// A JSON body with the given status.
    pub fn json(status: u16, body: serde_json::Value) -> Self {
        Self::new(Kind::Body {
            status,
            content_type: "application/json".to_owned(),
            body: Bytes::from(body.to_string()),
        })
    }

    /// Any body with the given status and content type.
    pub fn text(status: u16, content_type: &str, body: impl AsRef<[u8]>) -> Self {
        Self::new(Kind::Body {
            status,
            content_type: content_type.to_owned(),
            body: Bytes::copy_from_slice(body.as_ref()),
        })
    }

    /// Never answers (until the server is dropped).
    pub fn hang() -> Self {
        Self::new(Kind::Hang)
    }

    /// Declares the fixture's full `Content-Length`, sends its first `bytes` bytes, then closes the connection.
    ///
    /// # Panics
    /// When the fixture cannot be read.
    pub fn truncated(fixture_rel: &str, bytes: usize) -> Self {
        let body = Bytes::from(fixture(fixture_rel));
        Self::new(Kind::Truncated {
            content_type: content_type_for(fixture_rel).to_owned(),
            send: bytes.min(body.len().saturating_sub(1)),
            body,
        })
    }

    /// Declares the fixture's full `Content-Length`, sends its first `bytes` bytes, then sends nothing more
    /// (until the client gives up or the server is dropped).
    ///
    /// # Panics
    /// When the fixture cannot be read.
    pub fn stall(fixture_rel: &str, bytes: usize) -> Self {
        let body = Bytes::from(fixture(fixture_rel));
        Self::new(Kind::Stall {
            content_type: content_type_for(fixture_rel).to_owned(),
            send: bytes.min(body.len().saturating_sub(1)),
            body,
        })
    }

    /// Closes the connection without answering (the client sees the connection end before a response).
    pub fn reset() -> Self {
        Self::new(Kind::Reset)
    }

    /// Per request, one of `choices` picked at random with its weight, from a generator seeded with
    /// `seed` (the same seed gives the same sequence of choices).
    ///
    /// # Panics
    /// When `choices` is empty or every weight is zero.
    pub fn mix(seed: u64, choices: Vec<(u32, Reply)>) -> Self {
        assert!(choices.iter().any(|(w, _)| *w > 0), "Reply::mix needs a choice with a weight");
        Self::new(Kind::Mix { state: Arc::new(Mutex::new(seed | 1)), choices })
    }

    /// One reply per request, in order; the last one repeats.
    ///
    /// # Panics
    /// When `replies` is empty.
    pub fn seq(replies: Vec<Reply>) -> Self {
        assert!(!replies.is_empty(), "Reply::seq needs at least one reply");
        Self::new(Kind::Seq { next: Arc::new(AtomicUsize::new(0)), replies })
    }

    /// Changes the status of a body reply (e.g. a recorded error body served with 429).
    pub fn status(mut self, status: u16) -> Self {
        if let Kind::Body { status: slot, .. } = &mut self.kind {
            *slot = status;
        }
        self
    }

    /// Adds a response header (applies to every reply of a sequence too).
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    /// Waits this long before answering (adds to the delays of a sequence's replies).
    pub fn delay(mut self, delay: Duration) -> Self {
        self.delay += delay;
        self
    }

    /// Resolves sequences into the one concrete reply for this request.
    fn resolve(&self) -> Reply {
        match &self.kind {
            Kind::Seq { next, replies } => {
                let index = next.fetch_add(1, Ordering::SeqCst).min(replies.len() - 1);
                let mut inner = replies[index].resolve();
                inner.delay += self.delay;
                let mut headers = self.headers.clone();
                headers.append(&mut inner.headers);
                inner.headers = headers;
                inner
            }
            Kind::Mix { state, choices } => {
                let total: u64 = choices.iter().map(|(w, _)| u64::from(*w)).sum();
                let mut roll = {
                    // xorshift64*: small, seeded, good enough to spread faults.
                    let mut x = lock(state);
                    *x ^= *x >> 12;
                    *x ^= *x << 25;
                    *x ^= *x >> 27;
                    x.wrapping_mul(0x2545_F491_4F6C_DD1D) % total
                };
                let mut chosen = &choices[choices.len() - 1].1;
                for (weight, reply) in choices {
                    if roll < u64::from(*weight) {
                        chosen = reply;
                        break;
                    }
                    roll -= u64::from(*weight);
                }
                let mut inner = chosen.resolve();
                inner.delay += self.delay;
                let mut headers = self.headers.clone();
                headers.append(&mut inner.headers);
                inner.headers = headers;
                inner
            }
            _ => self.clone(),
        }
    }
}

/// Counts a hang or stall whose client went away first (dropped before it was disarmed).
struct AbandonGuard {
    shared: Arc<Shared>,
    armed: bool,
}

impl Drop for AbandonGuard {
    fn drop(&mut self) {
        if self.armed && !*self.shared.shutdown.borrow() {
            self.shared.abandoned.fetch_add(1, Ordering::SeqCst);
        }
    }
}

fn content_type_for(rel: &str) -> &'static str {
    let ext = rel.rsplit('.').next().unwrap_or_default();
    match ext.to_ascii_lowercase().as_str() {
        "json" => "application/json",
        "xml" => "text/xml; charset=UTF-8",
        "html" | "htm" => "text/html; charset=UTF-8",
        "yaml" | "yml" => "application/yaml",
        "txt" => "text/plain; charset=UTF-8",
        _ => "application/octet-stream",
    }
}

struct Route {
    method: String,
    path: String,
    query: Option<Vec<(String, String)>>,
    reply: Reply,
}

struct Shared {
    routes: Mutex<Vec<Arc<Route>>>,
    requests: Mutex<Vec<Recorded>>,
    latency: Mutex<Duration>,
    abandoned: AtomicUsize,
    shutdown: watch::Receiver<bool>,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panicking test thread must not hide the recorded requests from the others.
    mutex.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// A local HTTP upstream on 127.0.0.1 with an ephemeral port. Dropping it stops it.
pub struct UpstreamServer {
    addr: SocketAddr,
    shared: Arc<Shared>,
    shutdown: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl std::fmt::Debug for UpstreamServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UpstreamServer").field("addr", &self.addr).finish_non_exhaustive()
    }
}

impl UpstreamServer {
    /// Binds 127.0.0.1 on a free port and starts serving (within the current tokio runtime).
    ///
    /// # Panics
    /// When no local port can be bound.
    pub async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .unwrap_or_else(|err| panic!("cannot bind 127.0.0.1: {err}"));
        let addr = listener.local_addr().unwrap_or_else(|err| panic!("no local address: {err}"));
        let (shutdown, shutdown_rx) = watch::channel(false);
        let shared = Arc::new(Shared {
            routes: Mutex::new(Vec::new()),
            requests: Mutex::new(Vec::new()),
            latency: Mutex::new(Duration::ZERO),
            abandoned: AtomicUsize::new(0),
            shutdown: shutdown_rx,
        });
        let app =
            Router::new().fallback(handle).layer(DefaultBodyLimit::disable()).with_state(Arc::clone(&shared));
        let task = tokio::spawn(async move {
            // Serving ends when the task is aborted on drop.
            let _ = axum::serve(listener, app).await;
        });
        Self { addr, shared, shutdown, task }
    }

    /// `http://127.0.0.1:PORT` (no trailing slash).
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Answers `method path` (exact path, any query) with `reply`.
    pub fn route(&self, method: &str, path: &str, reply: Reply) {
        self.push(method, path, None, reply);
    }

    /// Answers `method path` with `reply` only when each `(name, value)` pair is present in the request's
    /// decoded query (or form-encoded POST body) with exactly that value.
    pub fn route_query(&self, method: &str, path: &str, query: &[(&str, &str)], reply: Reply) {
        let query = query.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
        self.push(method, path, Some(query), reply);
    }

    fn push(&self, method: &str, path: &str, query: Option<Vec<(String, String)>>, reply: Reply) {
        lock(&self.shared.routes).push(Arc::new(Route {
            method: method.to_ascii_uppercase(),
            path: path.to_owned(),
            query,
            reply,
        }));
    }

    /// Adds this latency before every response of the server (for benchmarks); `Duration::ZERO` removes it.
    pub fn latency(&self, latency: Duration) {
        *lock(&self.shared.latency) = latency;
    }

    /// Every request received so far, in arrival order.
    pub fn requests(&self) -> Vec<Recorded> {
        lock(&self.shared.requests).clone()
    }

    /// How many hangs and stalled bodies were abandoned by their client (the connection closed before the
    /// server would have answered).
    pub fn abandoned(&self) -> usize {
        self.shared.abandoned.load(Ordering::SeqCst)
    }

    /// Forgets the recorded requests (routes stay).
    pub fn clear(&self) {
        lock(&self.shared.requests).clear();
    }
}

impl Drop for UpstreamServer {
    fn drop(&mut self) {
        let _ = self.shutdown.send(true);
        self.task.abort();
    }
}

fn query_pairs(uri: &Uri) -> Vec<(String, String)> {
    uri.query().map(|q| form_pairs(q.as_bytes())).unwrap_or_default()
}

fn form_pairs(raw: &[u8]) -> Vec<(String, String)> {
    url::form_urlencoded::parse(raw).into_owned().collect()
}

async fn handle(
    State(shared): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let recorded = Recorded {
        method: method.as_str().to_owned(),
        path: uri.path().to_owned(),
        query: query_pairs(&uri),
        body: String::from_utf8_lossy(&body).into_owned(),
        at: Instant::now(),
    };
    lock(&shared.requests).push(recorded.clone());

    let is_form = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    let mut params = recorded.query.clone();
    if is_form {
        params.extend(form_pairs(&body));
    }

    let route = lock(&shared.routes)
        .iter()
        .rev()
        .find(|route| {
            route.method == recorded.method
                && route.path == recorded.path
                && route
                    .query
                    .as_ref()
                    .is_none_or(|wanted| wanted.iter().all(|pair| params.iter().any(|have| have == pair)))
        })
        .cloned();

    let latency = *lock(&shared.latency);
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }

    let Some(route) = route else {
        let message = format!(
            "pipette-test-support: no route for {} {}{}{} (register one with UpstreamServer::route)",
            recorded.method,
            recorded.path,
            uri.query().map(|q| format!("?{q}")).unwrap_or_default(),
            if recorded.body.is_empty() { String::new() } else { format!(" body={:?}", recorded.body) },
        );
        return plain(StatusCode::NOT_FOUND, message);
    };

    let reply = route.reply.resolve();
    if !reply.delay.is_zero() {
        tokio::time::sleep(reply.delay).await;
    }
    let mut response = match reply.kind {
        Kind::Body { status, content_type, body } => {
            let mut response = Response::new(Body::from(body));
            *response.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
            set_header(&mut response, "content-type", &content_type);
            response
        }
        Kind::Hang => {
            let mut guard = AbandonGuard { shared: Arc::clone(&shared), armed: true };
            let mut shutdown = shared.shutdown.clone();
            // Resolves only when the server is dropped; the client is expected to give up first (hyper
            // then drops this future, and the guard counts it).
            let _ = shutdown.wait_for(|stop| *stop).await;
            guard.armed = false;
            return plain(StatusCode::SERVICE_UNAVAILABLE, "server stopped".to_owned());
        }
        Kind::Stall { content_type, body, send } => {
            let full = body.len();
            let part = body.slice(..send);
            let guard = AbandonGuard { shared: Arc::clone(&shared), armed: true };
            let mut shutdown = shared.shutdown.clone();
            let stream = futures::stream::iter([Ok::<Bytes, std::io::Error>(part)]).chain(
                futures::stream::once(async move {
                    let mut guard = guard;
                    let _ = shutdown.wait_for(|stop| *stop).await;
                    guard.armed = false;
                    Err(std::io::Error::new(std::io::ErrorKind::ConnectionAborted, "server stopped"))
                }),
            );
            let mut response = Response::new(Body::from_stream(stream));
            set_header(&mut response, "content-type", &content_type);
            set_header(&mut response, "content-length", &full.to_string());
            response
        }
        Kind::Reset => {
            // A body that fails before its first byte: hyper drops the connection with the response
            // head unsent (it is buffered until the body's first chunk).
            let stream = futures::stream::once(async {
                Err::<Bytes, std::io::Error>(std::io::Error::new(
                    std::io::ErrorKind::ConnectionReset,
                    "reset on purpose",
                ))
            });
            let mut response = Response::new(Body::from_stream(stream));
            set_header(&mut response, "content-type", "application/json");
            set_header(&mut response, "content-length", "1024");
            response
        }
        Kind::Truncated { content_type, body, send } => {
            let full = body.len();
            let part = body.slice(..send);
            // Send the part, let it reach the client, then fail the body: hyper closes the connection.
            let stream = futures::stream::iter([Ok::<Bytes, std::io::Error>(part)]).chain(
                futures::stream::once(async {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    Err(std::io::Error::new(std::io::ErrorKind::ConnectionAborted, "truncated on purpose"))
                }),
            );
            let mut response = Response::new(Body::from_stream(stream));
            set_header(&mut response, "content-type", &content_type);
            set_header(&mut response, "content-length", &full.to_string());
            response
        }
        Kind::Seq { .. } | Kind::Mix { .. } => {
            plain(StatusCode::INTERNAL_SERVER_ERROR, "pipette-test-support: unresolved sequence".to_owned())
        }
    };
    for (name, value) in &reply.headers {
        set_header(&mut response, name, value);
    }
    response
}

fn plain(status: StatusCode, message: String) -> Response {
    let mut response = Response::new(Body::from(message));
    *response.status_mut() = status;
    set_header(&mut response, "content-type", "text/plain; charset=UTF-8");
    response
}

fn set_header(response: &mut Response, name: &str, value: &str) {
    if let (Ok(name), Ok(value)) = (HeaderName::from_bytes(name.as_bytes()), HeaderValue::from_str(value)) {
        response.headers_mut().insert(name, value);
    }
}
