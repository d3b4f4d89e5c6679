//! `Upstream`: one pooled client per upstream with its cache, rate limiter, circuit breaker and retry policy.
//!
//! A call goes: request check (a GET URL over [`MAX_GET_URL_BYTES`] is an `InvalidArgument`, nothing is
//! sent) → cache → single flight (identical concurrent calls share one fetch) → breaker permit (one per
//! call) → attempts (below) → the call's one outcome to the breaker → cache on success.
//!
//! The attempts of one call run under the call's overall deadline (`RetryConfig::deadline`), at most
//! `RetryConfig::attempts` of them, and more than one may be in flight:
//! - **Budgets.** Each attempt has the upstream's time-to-headers budget (connect included) and then its
//!   body budget (`UpstreamConfig::first_byte`, `body`); past either it is a `Timeout` and is retried, so
//!   a hung connection costs one budget at most, never the client's 30 s read timeout.
//! - **Hedging.** Every request here is an idempotent read (GET, or a form POST such as efetch), so when the
//!   newest attempt has not answered within the hedge delay (see `hedge.rs`: the recent p95 of this
//!   upstream, above a floor) a second attempt is sent beside it; the first good answer wins and the
//!   others are dropped (abandoned: their connections are closed). Hedges are counted in
//!   `pipette_upstream_hedges_total`.
//! - **Retries.** A transient failure (429, 5xx, connection failure, timeout, an HTML page) schedules the
//!   next attempt: after the upstream's `Retry-After` when it gives one (a wait past the cap or past the
//!   deadline ends the call as `RateLimited`), else after a short jittered backoff (`hedge::backoff`).
//!   Any other answer (4xx, not found, a JSON error body, a body over the cap) ends the call at once.
//! - **Rate.** Every attempt, hedges and retries included, first passes the breaker check and the rate
//!   limiter (governor, burst 1, shared by every concurrent call: a call after a quiet interval goes out at
//!   once, back-to-back calls are spaced), then the breaker check again.
//!
//! One HTTP exchange streams its body under the cap, then checks the content (HTML pages and JSON error
//! bodies are errors, never cached). A request the HTTP client cannot build is `InvalidRequest`: never
//! retried, never counted by the breaker. Every step is cancel-safe by drop.

use std::collections::HashMap;
use std::future::Future;
use std::num::NonZeroU32;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant, SystemTime};

use bytes::{Bytes, BytesMut};
use futures::future::{Shared, WeakShared};
use futures::stream::FuturesUnordered;
use futures::{FutureExt, StreamExt};
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};

use crate::config::{RetryConfig, ScrapersConfig};
use crate::error::ScrapeError;
use crate::http::circuit::{Breaker, CircuitStatus, Outcome};
use crate::http::content::{self, Expect};
use crate::http::hedge::{self, Latencies};
use crate::http::shared::{Coordination, SharedLimits};
use crate::http::{Service, retry_after};

/// The limiter spaces requests this much wider than the nominal rate, so that network jitter never makes
/// the upstream count more than the rate in any one-second window.
const RATE_SAFETY_MARGIN: f64 = 1.1;

/// How much of an error body is read for its excerpt.
const ERROR_BODY_READ: usize = 16 * 1024;

/// The longest GET URL pipette sends (base, path and query, encoded). Common servers and proxies refuse
/// request lines past 8 KiB (Apache's `LimitRequestLine` 8190, nginx's 8 KiB header buffers), and the
/// HTTP client cannot even represent one past 64 KiB. Callers with long inputs check them first, naming
/// their own parameter, or POST (E-utilities); this is the last line, naming the longest parameter.
pub(crate) const MAX_GET_URL_BYTES: usize = 8 * 1024;

type SharedFetch = Shared<Pin<Box<dyn Future<Output = Result<Bytes, ScrapeError>> + Send>>>;
type WeakFetch = WeakShared<Pin<Box<dyn Future<Output = Result<Bytes, ScrapeError>> + Send>>>;

/// One upstream service: a pooled client with cache, rate limiter, circuit breaker and retries.
/// Cheap to clone; clones share everything.
#[derive(Clone)]
pub struct Upstream {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Upstream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Upstream")
            .field("service", &self.inner.service)
            .field("base_url", &self.inner.base_url)
            .finish_non_exhaustive()
    }
}

/// The one HTTP client every upstream shares, built on first use: building it loads the TLS roots (about
/// 5 ms each time, 21 ms for four clients), which a server answering `initialize` need not wait for.
#[derive(Clone)]
struct LazyClient {
    user_agent: reqwest::header::HeaderValue,
    timeouts: crate::config::Timeouts,
    cell: Arc<OnceLock<Result<reqwest::Client, String>>>,
}

impl LazyClient {
    fn new(config: &ScrapersConfig) -> Result<LazyClient, ScrapeError> {
        let user_agent = reqwest::header::HeaderValue::from_str(&config.user_agent).map_err(|err| {
            ScrapeError::invalid("PIPETTE_USER_AGENT", format!("not a valid header value: {err}"))
        })?;
        Ok(LazyClient { user_agent, timeouts: config.timeouts.clone(), cell: Arc::new(OnceLock::new()) })
    }

    fn get(&self, service: Service) -> Result<&reqwest::Client, ScrapeError> {
        let built = self.cell.get_or_init(|| {
            reqwest::Client::builder()
                .user_agent(self.user_agent.clone())
                .gzip(true)
                .connect_timeout(self.timeouts.connect)
                .read_timeout(self.timeouts.read)
                .timeout(self.timeouts.total)
                .pool_idle_timeout(Duration::from_secs(90))
                .pool_max_idle_per_host(16)
                .build()
                .map_err(|err| format!("cannot build the HTTP client: {err}"))
        });
        built.as_ref().map_err(|detail| ScrapeError::Connect { service, detail: detail.clone() })
    }
}

struct Inner {
    service: Service,
    base_url: String,
    client: LazyClient,
    cache: core_cache::Cache,
    cache_ttl: Duration,
    /// Shared by the upstreams of one rate (the NCBI ones: E-utilities and PMC).
    limiter: Option<Arc<DefaultDirectRateLimiter>>,
    /// The spacing of the rate limit (shared through Redis when `shared` is set).
    interval: Option<Duration>,
    /// The service whose rate limit the attempts draw on (its own, or `PubMed` for the NCBI ones).
    rate_service: Service,
    /// Shared by the upstreams of one service (PMC's pages, OAI-PMH and OA service).
    breaker: Arc<Breaker>,
    /// The rate limits and breakers shared by every process on one Redis (`REDIS_URL`).
    shared: Option<Arc<SharedLimits>>,
    retry: RetryConfig,
    /// One attempt's budget to the response headers, then to the end of the body.
    first_byte: Duration,
    body: Duration,
    /// Recent answer times: the hedge delay.
    latencies: Latencies,
    max_body: u64,
    /// Parameters added to every request and kept out of cache keys (NCBI `api_key`, `tool`, `email`).
    extra: Vec<(&'static str, String)>,
    in_flight: Mutex<HashMap<String, WeakFetch>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Method {
    Get,
    PostForm,
}

struct Request {
    method: Method,
    path: String,
    params: Vec<(String, String)>,
    key: String,
    expect: Expect,
}

/// One failed attempt, with the wait the upstream asked for (429 or 503 `Retry-After`).
struct AttemptError {
    error: ScrapeError,
    retry_after: Option<Duration>,
    /// The answer was an HTML page (a proxy's error page, a maintenance page): transient.
    html: bool,
}

impl AttemptError {
    fn transient(&self) -> bool {
        match &self.error {
            // Nothing else: a request that cannot be built, an invalid argument, a body over the cap or a
            // JSON error body would fail the same way again.
            ScrapeError::RateLimited { .. } | ScrapeError::Timeout { .. } | ScrapeError::Connect { .. } => {
                true
            }
            ScrapeError::Upstream { status, .. } => *status >= 500,
            ScrapeError::UnexpectedContent { .. } => self.html,
            _ => false,
        }
    }
}

impl From<ScrapeError> for AttemptError {
    fn from(error: ScrapeError) -> Self {
        Self { error, retry_after: None, html: false }
    }
}

/// Why an attempt was started.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Start {
    First,
    Hedge,
    Retry,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// What an upstream shares with the others of its rate and service (see [`Upstream::sibling`]).
struct Family {
    limiter: Option<Arc<DefaultDirectRateLimiter>>,
    interval: Option<Duration>,
    rate_service: Service,
}

impl Upstream {
    /// Builds the upstream `service` from `config`.
    fn new(
        service: Service,
        config: &ScrapersConfig,
        cache: core_cache::Cache,
        client: LazyClient,
        shared: Option<Arc<SharedLimits>>,
    ) -> Result<Self, ScrapeError> {
        let upstream = config.upstream(service);
        let interval = (upstream.rate_per_second > 0.0)
            .then(|| Duration::from_secs_f64(RATE_SAFETY_MARGIN / upstream.rate_per_second));
        let limiter = interval
            .and_then(Quota::with_period)
            .map(|quota| Arc::new(RateLimiter::direct(quota.allow_burst(NonZeroU32::MIN))));
        let family = Family { limiter, interval, rate_service: service };
        let breaker = Arc::new(Breaker::new(service, config.breaker.threshold, config.breaker.cooldown));
        Self::build(service, config, upstream.base_url.as_str(), cache, client, shared, family, breaker)
    }

    /// Another upstream of the same organisation: its own base URL and service (errors, metrics, cache
    /// scope), drawing on this one's rate limit (NCBI counts every request to its hosts together).
    fn sibling(
        &self,
        service: Service,
        base_url: &str,
        config: &ScrapersConfig,
        breaker: Arc<Breaker>,
    ) -> Result<Self, ScrapeError> {
        let family = Family {
            limiter: self.inner.limiter.clone(),
            interval: self.inner.interval,
            rate_service: self.inner.rate_service,
        };
        Self::build(
            service,
            config,
            base_url,
            self.inner.cache.clone(),
            self.inner.client.clone(),
            self.inner.shared.clone(),
            family,
            breaker,
        )
    }

    #[allow(clippy::too_many_arguments)]
    fn build(
        service: Service,
        config: &ScrapersConfig,
        base_url: &str,
        cache: core_cache::Cache,
        client: LazyClient,
        shared: Option<Arc<SharedLimits>>,
        family: Family,
        breaker: Arc<Breaker>,
    ) -> Result<Self, ScrapeError> {
        let upstream = config.upstream(service);
        let mut extra = Vec::new();
        if service == Service::PubMed {
            if let Some(key) = &config.ncbi_api_key {
                extra.push(("api_key", key.expose().to_owned()));
            }
            extra.push(("tool", config.ncbi_tool.clone()));
            if let Some(email) = &config.ncbi_email {
                extra.push(("email", email.clone()));
            }
        }
        Ok(Self {
            inner: Arc::new(Inner {
                service,
                base_url: base_url.trim_end_matches('/').to_owned(),
                client,
                cache,
                cache_ttl: upstream.cache_ttl,
                limiter: family.limiter,
                interval: family.interval,
                rate_service: family.rate_service,
                breaker,
                shared,
                retry: config.retry.clone(),
                first_byte: upstream.first_byte,
                body: upstream.body,
                latencies: Latencies::new(upstream.hedge_floor, upstream.first_byte),
                max_body: config.max_body_bytes,
                extra,
                in_flight: Mutex::new(HashMap::new()),
            }),
        })
    }

    /// Which service this is.
    pub fn service(&self) -> Service {
        self.inner.service
    }

    /// The base URL, without a trailing slash.
    pub fn base_url(&self) -> &str {
        &self.inner.base_url
    }

    /// GET `base_url + path` with `query`; cached under scope = service name, key = the full URL.
    /// A URL longer than [`MAX_GET_URL_BYTES`] is `InvalidArgument` naming the longest parameter.
    pub async fn get(&self, path: &str, query: &[(&str, String)]) -> Result<Bytes, ScrapeError> {
        self.fetch(self.request(Method::Get, path, query, Expect::Any)?).await
    }

    /// GET and deserialize JSON; an HTML page, a JSON error body or a non-JSON answer is `UnexpectedContent`,
    /// a JSON document of the wrong shape is `Parse` (with the path of the offending field).
    pub async fn get_json<T: serde::de::DeserializeOwned>(
        &self,
        path: &str,
        query: &[(&str, String)],
    ) -> Result<T, ScrapeError> {
        let bytes = self.fetch(self.request(Method::Get, path, query, Expect::Json)?).await?;
        let mut de = serde_json::Deserializer::from_slice(&bytes);
        serde_path_to_error::deserialize(&mut de).map_err(|err| {
            ScrapeError::parse(self.inner.service, format!("{path}: at `{}`: {}", err.path(), err.inner()))
        })
    }

    /// GET a web page (HTML is the answer here, not an error page); redirects are followed, so a DOI
    /// resolver leads to the landing page. Cached like any GET.
    pub async fn get_page(&self, path: &str) -> Result<Bytes, ScrapeError> {
        self.fetch(self.request(Method::Get, path, &[], Expect::Html)?).await
    }

    /// POST a form (for requests that are idempotent by nature, such as efetch with a long id list);
    /// retried and cached like a GET.
    pub async fn post_form(&self, path: &str, form: &[(&str, String)]) -> Result<Bytes, ScrapeError> {
        self.fetch(self.request(Method::PostForm, path, form, Expect::Any)?).await
    }

    /// The state of this upstream's circuit breaker.
    pub fn circuit(&self) -> CircuitStatus {
        self.inner.breaker.status()
    }

    fn request(
        &self,
        method: Method,
        path: &str,
        params: &[(&str, String)],
        expect: Expect,
    ) -> Result<Request, ScrapeError> {
        let path =
            if path.starts_with('/') || path.is_empty() { path.to_owned() } else { format!("/{path}") };
        let params: Vec<(String, String)> =
            params.iter().map(|(k, v)| ((*k).to_owned(), v.clone())).collect();
        let encoded = url::form_urlencoded::Serializer::new(String::new()).extend_pairs(&params).finish();
        let url = format!("{}{path}", self.inner.base_url);
        let key = match (method, encoded.is_empty()) {
            (Method::Get, true) => url,
            (Method::Get, false) => format!("{url}?{encoded}"),
            (Method::PostForm, _) => format!("POST {url} {encoded}"),
        };
        if method == Method::Get {
            let extra: usize =
                self.inner.extra.iter().map(|(k, v)| k.len() + 2 + encoded_len(v)).sum::<usize>();
            let length = key.len() + extra;
            if length > MAX_GET_URL_BYTES {
                let (name, value) = params
                    .iter()
                    .max_by_key(|(_, v)| encoded_len(v))
                    .map_or(("path", path.as_str()), |(k, v)| (k.as_str(), v.as_str()));
                return Err(ScrapeError::invalid(
                    name,
                    format!(
                        "{} bytes once URL-encoded make a {length}-byte request to {}, over the \
                         {MAX_GET_URL_BYTES} bytes pipette sends in one URL: shorten it",
                        encoded_len(value),
                        self.inner.service
                    ),
                ));
            }
        }
        Ok(Request { method, path, params, key, expect })
    }

    async fn fetch(&self, request: Request) -> Result<Bytes, ScrapeError> {
        let inner = &self.inner;
        let service = inner.service.as_str();
        if !inner.cache_ttl.is_zero() {
            if let Some(hit) = inner.cache.get(service, &request.key).await {
                metrics::counter!("pipette_upstream_cache_hits_total", "service" => service).increment(1);
                return Ok(hit);
            }
            metrics::counter!("pipette_upstream_cache_misses_total", "service" => service).increment(1);
        }
        self.single_flight(request).await
    }

    /// Identical concurrent requests share one fetch. The map holds weak handles: when every caller has
    /// dropped its future, the fetch is dropped too (cancellation), and the next caller starts afresh.
    async fn single_flight(&self, request: Request) -> Result<Bytes, ScrapeError> {
        let shared: SharedFetch = {
            let mut map = lock(&self.inner.in_flight);
            match map.get(&request.key).and_then(WeakShared::upgrade) {
                Some(existing) => existing,
                None => {
                    let key = request.key.clone();
                    let inner = Arc::clone(&self.inner);
                    let fut: Pin<Box<dyn Future<Output = Result<Bytes, ScrapeError>> + Send>> =
                        Box::pin(inner.fetch_and_store(request));
                    let shared = fut.shared();
                    if let Some(weak) = shared.downgrade() {
                        map.insert(key, weak);
                    }
                    shared
                }
            }
        };
        shared.await
    }
}

impl Inner {
    /// The body of a single-flight fetch: fetch, cache on success, then leave the in-flight map.
    async fn fetch_and_store(self: Arc<Self>, request: Request) -> Result<Bytes, ScrapeError> {
        let result = self.fetch_with_retry(&request).await;
        if let Ok(bytes) = &result
            && !self.cache_ttl.is_zero()
        {
            self.cache.set(self.service.as_str(), &request.key, bytes.clone(), self.cache_ttl).await;
        }
        lock(&self.in_flight).remove(&request.key);
        result
    }

    /// One call: a breaker permit, the attempts, then the call's one outcome to the breaker.
    async fn fetch_with_retry(&self, request: &Request) -> Result<Bytes, ScrapeError> {
        // A circuit another process opened is open here too, for the rest of its cool-down.
        if let Some(shared) = &self.shared
            && self.breaker.fail_fast().is_none()
            && let Some(retry_in) = shared.circuit_open_for(self.service).await
        {
            self.breaker.open_from_peer(retry_in);
        }
        let permit = self.breaker.acquire()?;
        let result = self.retry_attempts(request).await;
        if permit.record(Outcome::of(result.as_ref().err()))
            && let Some(shared) = &self.shared
        {
            shared.open_circuit(self.service, self.breaker.cooldown()).await;
        }
        result
    }

    /// The attempts of one call: budgets, hedges and retries under the call's deadline (module docs).
    async fn retry_attempts(&self, request: &Request) -> Result<Bytes, ScrapeError> {
        let started = Instant::now();
        let deadline = started + self.retry.deadline;
        let service = self.service.as_str();
        let max_attempts = self.retry.attempts.max(1);
        // Attempts report when they leave the rate limiter: the hedge delay counts from there.
        let (sent_tx, mut sent_rx) = tokio::sync::mpsc::unbounded_channel::<u32>();
        let launch = |number: u32| {
            let sent = sent_tx.clone();
            async move { (number, self.attempt(request, number, sent).await) }
        };
        let mut running = FuturesUnordered::new();
        let mut launched = 0u32;
        let mut failures = 0u32;
        let mut next: Option<(Instant, Start)> = Some((started, Start::First));
        let mut last: Option<AttemptError> = None;
        loop {
            if let Some((at, why)) = next
                && at <= Instant::now()
            {
                next = None;
                launched += 1;
                match why {
                    Start::First => {}
                    Start::Hedge => {
                        metrics::counter!("pipette_upstream_hedges_total", "service" => service).increment(1);
                        tracing::debug!(service, attempt = launched, "no answer yet: hedging");
                    }
                    Start::Retry => {
                        metrics::counter!("pipette_upstream_retries_total", "service" => service)
                            .increment(1);
                    }
                }
                running.push(launch(launched));
                continue;
            }
            if running.is_empty() && next.is_none() {
                return Err(finish(last.unwrap_or_else(|| {
                    ScrapeError::Timeout { service: self.service, after: started.elapsed() }.into()
                })));
            }
            let wake = next.map_or(deadline, |(at, _)| at.min(deadline));
            tokio::select! {
                Some((number, result)) = running.next() => match result {
                    Ok(body) => {
                        self.abandon(running.len());
                        return Ok(body);
                    }
                    Err(err) if !err.transient() => {
                        self.abandon(running.len());
                        return Err(finish(err));
                    }
                    Err(err) => {
                        failures += 1;
                        tracing::debug!(service, attempt = number, error = %err.error, "attempt failed");
                        next = self.after_failure(&err, failures, launched, deadline);
                        last = Some(err);
                    }
                },
                Some(number) = sent_rx.recv() => {
                    // The newest attempt is on the wire: hedge it if it stays silent too long.
                    if number == launched && launched < max_attempts && next.is_none()
                        && let Some(delay) = self.latencies.hedge_delay()
                    {
                        next = Some((Instant::now() + delay, Start::Hedge));
                    }
                }
                () = tokio::time::sleep_until(wake.into()) => {
                    if Instant::now() >= deadline {
                        self.abandon(running.len());
                        let err = match last {
                            Some(err) if running.is_empty() => err,
                            _ => ScrapeError::Timeout { service: self.service, after: started.elapsed() }.into(),
                        };
                        tracing::debug!(service, deadline_ms = self.retry.deadline.as_millis() as u64, "call deadline");
                        return Err(finish(err));
                    }
                }
            }
        }
    }

    /// When (if ever) to start the next attempt after a transient failure.
    fn after_failure(
        &self,
        err: &AttemptError,
        failures: u32,
        launched: u32,
        deadline: Instant,
    ) -> Option<(Instant, Start)> {
        let service = self.service.as_str();
        if launched >= self.retry.attempts {
            return None;
        }
        let wait = match err.retry_after {
            Some(asked) if asked > self.retry.retry_after_cap => {
                tracing::warn!(service, asked_ms = asked.as_millis() as u64, "Retry-After beyond the cap");
                return None;
            }
            Some(asked) => asked,
            None => hedge::backoff(self.retry.base_delay, self.retry.max_delay, failures),
        };
        let at = Instant::now() + wait;
        if at >= deadline {
            tracing::debug!(service, wait_ms = wait.as_millis() as u64, "no time left for a retry");
            return None;
        }
        tracing::debug!(service, error = %err.error, wait_ms = wait.as_millis() as u64, "retrying");
        Some((at, Start::Retry))
    }

    /// Counts the attempts still running when the call ends (they are dropped: connections closed).
    fn abandon(&self, running: usize) {
        if running > 0 {
            metrics::counter!("pipette_upstream_abandoned_attempts_total", "service" => self.service.as_str())
                .increment(running as u64);
        }
    }

    async fn attempt(
        &self,
        request: &Request,
        number: u32,
        sent: tokio::sync::mpsc::UnboundedSender<u32>,
    ) -> Result<Bytes, AttemptError> {
        let service = self.service.as_str();
        // Fail fast while open (other calls may have opened it since this one began), before queueing
        // behind the limiter and again after it.
        if let Some(err) = self.breaker.fail_fast() {
            return Err(err.into());
        }
        if let Some(limiter) = &self.limiter {
            let waited = Instant::now();
            // The shared schedule when Redis answers.
            let slot = match (&self.shared, self.interval) {
                (Some(shared), Some(interval)) => shared.reserve(self.rate_service, interval).await,
                _ => None,
            };
            // A free slot means no sleep at all (a zero sleep still waits for the timer's next tick, ~1 ms).
            if let Some(wait) = slot.filter(|w| !w.is_zero()) {
                tokio::time::sleep(wait).await;
            }
            // This process's own limiter too: a no-op after a shared slot (the shared schedule spaced the
            // requests already), it makes a fallback start from this process's last request.
            limiter.until_ready().await;
            metrics::histogram!("pipette_upstream_rate_limit_wait_seconds", "service" => service)
                .record(waited.elapsed().as_secs_f64());
            if let Some(err) = self.breaker.fail_fast() {
                return Err(err.into());
            }
        }
        let started = Instant::now();
        // The receiver lives as long as the call; after it, nobody needs to know.
        let _ = sent.send(number);
        let result = self.exchange(request, started).await;
        let elapsed = started.elapsed();
        if result.is_ok() {
            self.latencies.record(elapsed);
        }
        let status_label = match &result {
            Ok((status, _)) => status.to_string(),
            Err(err) => match &err.error {
                ScrapeError::RateLimited { .. } => "429".to_owned(),
                ScrapeError::Upstream { status, .. } => status.to_string(),
                ScrapeError::NotFound { .. } => "404".to_owned(),
                other => other.kind().to_owned(),
            },
        };
        metrics::counter!("pipette_upstream_requests_total", "service" => service, "status" => status_label)
            .increment(1);
        metrics::histogram!("pipette_upstream_request_duration_seconds", "service" => service)
            .record(elapsed.as_secs_f64());
        result.map(|(_, body)| body)
    }

    /// One HTTP exchange: send, check the status, stream the body under the cap, check the content.
    async fn exchange(&self, request: &Request, started: Instant) -> Result<(u16, Bytes), AttemptError> {
        let url = format!("{}{}", self.base_url, request.path);
        let mut params: Vec<(&str, &str)> =
            request.params.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        params.extend(self.extra.iter().map(|(k, v)| (*k, v.as_str())));
        let client = self.client.get(self.service)?;
        let builder = match request.method {
            Method::Get => client.get(&url).query(&params),
            Method::PostForm => client.post(&url).form(&params),
        };
        let mut response = match tokio::time::timeout(self.first_byte, builder.send()).await {
            Ok(sent) => sent.map_err(|err| self.transport_error(err, started))?,
            Err(_) => {
                tracing::debug!(
                    service = self.service.as_str(),
                    budget_ms = self.first_byte.as_millis() as u64,
                    "no response headers within the budget: attempt abandoned"
                );
                return Err(ScrapeError::Timeout { service: self.service, after: started.elapsed() }.into());
            }
        };
        let status = response.status().as_u16();
        let retry_after = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| retry_after::parse(v, SystemTime::now()));

        if !(200..300).contains(&status) {
            let body =
                self.read_body(&mut response, started, Some(ERROR_BODY_READ)).await.unwrap_or_default();
            let error = match status {
                429 => ScrapeError::RateLimited { service: self.service, retry_after },
                404 => ScrapeError::NotFound {
                    service: self.service,
                    what: format!("resource at {}", request.path),
                },
                _ => {
                    ScrapeError::Upstream { service: self.service, status, excerpt: content::excerpt(&body) }
                }
            };
            return Err(AttemptError { error, retry_after, html: false });
        }

        let content_type = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let body = match tokio::time::timeout(self.body, self.read_body(&mut response, started, None)).await {
            Ok(body) => body?,
            Err(_) => {
                tracing::debug!(
                    service = self.service.as_str(),
                    budget_ms = self.body.as_millis() as u64,
                    "body not complete within the budget: attempt abandoned"
                );
                return Err(ScrapeError::Timeout { service: self.service, after: started.elapsed() }.into());
            }
        };
        if let Err(error) = content::check(self.service, content_type.as_deref(), &body, request.expect) {
            let html = content::is_html_page(content_type.as_deref(), &body);
            return Err(AttemptError { error, retry_after: None, html });
        }
        Ok((status, body))
    }

    /// Streams the body, failing past the cap (or stopping quietly at `partial` bytes for error excerpts).
    async fn read_body(
        &self,
        response: &mut reqwest::Response,
        started: Instant,
        partial: Option<usize>,
    ) -> Result<Bytes, AttemptError> {
        let declared = response.content_length();
        if partial.is_none() && declared.is_some_and(|len| len > self.max_body) {
            return Err(ScrapeError::BodyTooLarge { service: self.service, limit: self.max_body }.into());
        }
        let mut buf = BytesMut::with_capacity(declared.unwrap_or(0).min(self.max_body) as usize);
        loop {
            let chunk = match response.chunk().await {
                Ok(Some(chunk)) => chunk,
                Ok(None) => break,
                Err(err) if err.is_timeout() => {
                    return Err(
                        ScrapeError::Timeout { service: self.service, after: started.elapsed() }.into()
                    );
                }
                Err(err) => {
                    let of = declared.map(|len| format!(" of {len}")).unwrap_or_default();
                    return Err(ScrapeError::Connect {
                        service: self.service,
                        detail: format!(
                            "the body was cut short after {} bytes{of} ({})",
                            buf.len(),
                            error_chain(&err.without_url())
                        ),
                    }
                    .into());
                }
            };
            if let Some(limit) = partial {
                let room = limit.saturating_sub(buf.len());
                buf.extend_from_slice(&chunk[..chunk.len().min(room)]);
                if buf.len() >= limit {
                    break;
                }
                continue;
            }
            if (buf.len() + chunk.len()) as u64 > self.max_body {
                return Err(ScrapeError::BodyTooLarge { service: self.service, limit: self.max_body }.into());
            }
            buf.extend_from_slice(&chunk);
        }
        Ok(buf.freeze())
    }

    fn transport_error(&self, err: reqwest::Error, started: Instant) -> AttemptError {
        let error = if err.is_builder() {
            // Nothing was sent: the input made a request the client refuses (not the upstream's fault).
            ScrapeError::InvalidRequest { service: self.service, detail: error_chain(&err.without_url()) }
        } else if err.is_timeout() {
            ScrapeError::Timeout { service: self.service, after: started.elapsed() }
        } else {
            ScrapeError::Connect { service: self.service, detail: error_chain(&err.without_url()) }
        };
        error.into()
    }
}

/// The error a call ends with: a 429's `Retry-After` carried into `RateLimited`.
fn finish(err: AttemptError) -> ScrapeError {
    match err.error {
        ScrapeError::RateLimited { service, retry_after } => {
            ScrapeError::RateLimited { service, retry_after: retry_after.or(err.retry_after) }
        }
        other => other,
    }
}

/// The length of `value` once form-URL-encoded, without building it.
fn encoded_len(value: &str) -> usize {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'*' | b'-' | b'.' | b'_' | b' ' => 1,
            _ => 3,
        })
        .sum()
}

/// An error and its sources on one line (reqwest's own Display hides the useful part in the sources).
fn error_chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(inner) = source {
        let part = inner.to_string();
        if !text.contains(&part) {
            text.push_str(": ");
            text.push_str(&part);
        }
        source = inner.source();
    }
    text
}

/// The upstreams pipette talks to, built once and shared.
#[derive(Clone, Debug)]
pub struct Upstreams {
    pub pubmed: Upstream,
    pub ctgov: Upstream,
    pub uniprot: Upstream,
    pub chembl: Upstream,
    /// Europe PMC REST.
    pub europepmc: Upstream,
    /// PMC web pages and the ID converter (NCBI rate, shared with `pubmed`).
    pub pmc: Upstream,
    /// PMC OAI-PMH (NCBI rate; the breaker of `pmc`).
    pub pmc_oai: Upstream,
    /// PMC OA web service (NCBI rate; the breaker of `pmc`).
    pub pmc_oa: Upstream,
    /// PMC Article Datasets bucket.
    pub pmc_s3: Upstream,
    /// DOI resolver → landing pages.
    pub doi: Upstream,
}

impl Upstreams {
    /// Builds every upstream from `config`, all caching in `cache`.
    pub fn new(config: &ScrapersConfig, cache: core_cache::Cache) -> Result<Self, ScrapeError> {
        config.validate()?;
        let client = LazyClient::new(config)?;
        let shared = match &config.redis_url {
            Some(url) => Some(Arc::new(SharedLimits::new(url.expose(), &config.namespace)?)),
            None => None,
        };
        let build = |service, cache, client| Upstream::new(service, config, cache, client, shared.clone());
        let pubmed = build(Service::PubMed, cache.clone(), client.clone())?;
        let pmc_breaker =
            Arc::new(Breaker::new(Service::Pmc, config.breaker.threshold, config.breaker.cooldown));
        let pmc = pubmed.sibling(Service::Pmc, &config.pmc.base_url, config, pmc_breaker.clone())?;
        let pmc_oai = pubmed.sibling(Service::Pmc, &config.pmc_oai_base, config, pmc_breaker.clone())?;
        let pmc_oa = pubmed.sibling(Service::Pmc, &config.pmc_oa_base, config, pmc_breaker)?;
        Ok(Self {
            pubmed,
            ctgov: build(Service::ClinicalTrials, cache.clone(), client.clone())?,
            uniprot: build(Service::UniProt, cache.clone(), client.clone())?,
            chembl: build(Service::Chembl, cache.clone(), client.clone())?,
            europepmc: build(Service::EuropePmc, cache.clone(), client.clone())?,
            pmc,
            pmc_oai,
            pmc_oa,
            pmc_s3: build(Service::PmcDatasets, cache.clone(), client.clone())?,
            doi: build(Service::Doi, cache, client)?,
        })
    }

    /// How the rate limits and circuit breakers are kept: local (no `REDIS_URL`), shared through Redis,
    /// or fallen back to local ones while Redis is unreachable (a degraded state, for `health`).
    pub fn coordination(&self) -> Coordination {
        self.pubmed.inner.shared.as_ref().map_or(Coordination::Local, |shared| shared.coordination())
    }

    /// Records every circuit's state in the `pipette_upstream_circuit_state` gauge (0 closed, 1 half-open, 2
    /// open); later changes record themselves.
    pub fn report_circuits(&self) {
        for u in self.one_per_service() {
            u.inner.breaker.report();
        }
    }

    /// Every circuit, one per service, in the order of [`Service::ALL`].
    pub fn circuits(&self) -> Vec<CircuitStatus> {
        self.one_per_service().iter().map(|u| u.circuit()).collect()
    }

    fn one_per_service(&self) -> [&Upstream; 8] {
        [
            &self.pubmed,
            &self.ctgov,
            &self.uniprot,
            &self.chembl,
            &self.europepmc,
            &self.pmc,
            &self.pmc_s3,
            &self.doi,
        ]
    }
}
