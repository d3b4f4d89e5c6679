//! A circuit breaker per upstream: closed → open after N consecutive failed *calls* → half-open after the
//! cool-down (one probe call at a time) → closed on a successful probe, open again on a failed one.
//!
//! The breaker counts calls, not attempts: a call takes one permit before its first attempt and records
//! one outcome after its retries are spent (`http::Upstream`). A call that succeeded on its third attempt
//! is a success, so an upstream that fails half of its answers but recovers within the retries never opens
//! the circuit; only calls that failed after every retry count. (Until issue 17, single attempts counted,
//! and a 50 % failure rate opened the circuit in a few calls although every call succeeded.) While open,
//! every attempt checks the circuit first, so a call opened on by others ends at its next attempt.
//!
//! Only upstream failures count: a 5xx answer, a timeout, a connection failure (a body cut short
//! included) or an answer of the wrong shape (an HTML page, a JSON error body). Other 4xx answers and
//! not-found count as success (the upstream is alive and answering). What is the request's own fault
//! counts as nothing: invalid arguments, a request the client cannot build, a body over the cap, a parse
//! failure — one client's bad input must never open a circuit that every session shares. A 429 counts as
//! neither: rate limiting is handled by the limiter and the retry policy, and must not hide a healthy
//! upstream behind an open circuit.

use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime};

use crate::error::ScrapeError;
use crate::http::Service;

/// The state of one circuit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum CircuitState {
    /// Requests flow.
    Closed,
    /// Requests fail fast with `CircuitOpen` until the cool-down ends.
    Open,
    /// The cool-down has ended: the next request is a probe.
    HalfOpen,
}

/// A snapshot of one upstream's circuit, for `health` and `circuit_status`.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct CircuitStatus {
    pub service: Service,
    pub state: CircuitState,
    /// Calls in a row that failed after their retries.
    pub consecutive_failures: u32,
    /// When the circuit last opened (RFC 3339), while it is not closed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub opened_at: Option<String>,
    /// Milliseconds until a probe is let through, while it is open.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_in_ms: Option<u64>,
}

/// What happened to one call, from the breaker's point of view.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    Success,
    Failure,
    Neutral,
}

impl Outcome {
    /// The outcome of a call that ended with `error` (`None` = success); see the module documentation.
    pub(crate) fn of(error: Option<&ScrapeError>) -> Outcome {
        match error {
            None => Outcome::Success,
            Some(ScrapeError::Upstream { status, .. }) if *status < 500 => Outcome::Success,
            Some(ScrapeError::NotFound { .. }) => Outcome::Success,
            Some(
                ScrapeError::Upstream { .. }
                | ScrapeError::Timeout { .. }
                | ScrapeError::Connect { .. }
                | ScrapeError::UnexpectedContent { .. },
            ) => Outcome::Failure,
            Some(
                ScrapeError::RateLimited { .. }
                | ScrapeError::CircuitOpen { .. }
                | ScrapeError::InvalidArgument { .. }
                | ScrapeError::InvalidRequest { .. }
                | ScrapeError::BodyTooLarge { .. }
                | ScrapeError::Parse { .. },
            ) => Outcome::Neutral,
        }
    }
}

struct Inner {
    state: CircuitState,
    consecutive_failures: u32,
    opened: Option<(Instant, SystemTime)>,
    probe_in_flight: bool,
}

pub(crate) struct Breaker {
    service: Service,
    threshold: u32,
    cooldown: Duration,
    inner: Mutex<Inner>,
}

/// Permission to make one call (all its attempts). Dropping it unresolved (a cancelled call) frees the
/// probe slot.
pub(crate) struct Permit<'a> {
    breaker: &'a Breaker,
    probe: bool,
    resolved: bool,
}

impl Breaker {
    pub(crate) fn new(service: Service, threshold: u32, cooldown: Duration) -> Self {
        Self {
            service,
            threshold: threshold.max(1),
            cooldown,
            inner: Mutex::new(Inner {
                state: CircuitState::Closed,
                consecutive_failures: 0,
                opened: None,
                probe_in_flight: false,
            }),
        }
    }

    /// Sets the `pipette_upstream_circuit_state` gauge to the current state, so the series exists from the
    /// start rather than from the first change (the binaries call it once their metrics recorder is built).
    pub(crate) fn report(&self) {
        let state = self.lock().state;
        self.gauge(state);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The error to fail fast with while the circuit is open and cooling down (takes no probe slot).
    pub(crate) fn fail_fast(&self) -> Option<ScrapeError> {
        let inner = self.lock();
        if inner.state != CircuitState::Open {
            return None;
        }
        let elapsed = inner.opened.map(|(at, _)| at.elapsed()).unwrap_or(self.cooldown);
        (elapsed < self.cooldown)
            .then(|| ScrapeError::CircuitOpen { service: self.service, retry_in: self.cooldown - elapsed })
    }

    /// Lets a call through, or fails fast while open.
    pub(crate) fn acquire(&self) -> Result<Permit<'_>, ScrapeError> {
        let mut inner = self.lock();
        match inner.state {
            CircuitState::Closed => Ok(Permit { breaker: self, probe: false, resolved: false }),
            CircuitState::Open => {
                let elapsed = inner.opened.map(|(at, _)| at.elapsed()).unwrap_or(self.cooldown);
                if elapsed >= self.cooldown {
                    inner.state = CircuitState::HalfOpen;
                    inner.probe_in_flight = true;
                    self.gauge(CircuitState::HalfOpen);
                    tracing::info!(service = self.service.as_str(), "circuit half-open: sending a probe");
                    Ok(Permit { breaker: self, probe: true, resolved: false })
                } else {
                    Err(ScrapeError::CircuitOpen { service: self.service, retry_in: self.cooldown - elapsed })
                }
            }
            CircuitState::HalfOpen => {
                if inner.probe_in_flight {
                    Err(ScrapeError::CircuitOpen {
                        service: self.service,
                        retry_in: self.cooldown.min(Duration::from_secs(1)),
                    })
                } else {
                    inner.probe_in_flight = true;
                    Ok(Permit { breaker: self, probe: true, resolved: false })
                }
            }
        }
    }

    /// Opens the circuit because another process opened it (shared breakers): for `retry_in`, the time
    /// left of that process's cool-down. Nothing happens unless the circuit is closed here.
    pub(crate) fn open_from_peer(&self, retry_in: Duration) {
        let mut inner = self.lock();
        if inner.state != CircuitState::Closed {
            return;
        }
        let elapsed = self.cooldown.saturating_sub(retry_in);
        let now = Instant::now();
        inner.state = CircuitState::Open;
        inner.opened =
            Some((now.checked_sub(elapsed).unwrap_or(now), SystemTime::now() - elapsed.min(self.cooldown)));
        self.gauge(CircuitState::Open);
        tracing::warn!(
            service = self.service.as_str(),
            retry_in_ms = retry_in.as_millis() as u64,
            "circuit opened by another process"
        );
    }

    /// How long the circuit stays open before a probe.
    pub(crate) fn cooldown(&self) -> Duration {
        self.cooldown
    }

    /// Records one call's outcome; answers whether this opened the circuit.
    fn record(&self, probe: bool, outcome: Outcome) -> bool {
        let mut inner = self.lock();
        if probe {
            inner.probe_in_flight = false;
        }
        let mut opened = false;
        match outcome {
            Outcome::Success => {
                if inner.state != CircuitState::Closed {
                    tracing::info!(service = self.service.as_str(), "circuit closed");
                }
                inner.state = CircuitState::Closed;
                inner.consecutive_failures = 0;
                inner.opened = None;
                self.gauge(CircuitState::Closed);
            }
            Outcome::Failure => {
                inner.consecutive_failures = inner.consecutive_failures.saturating_add(1);
                // A failed probe reopens; a call admitted while closed that ends during a probe only counts.
                let reopen = probe && inner.state == CircuitState::HalfOpen;
                let trip =
                    inner.state == CircuitState::Closed && inner.consecutive_failures >= self.threshold;
                if reopen || trip {
                    opened = true;
                    inner.state = CircuitState::Open;
                    inner.opened = Some((Instant::now(), SystemTime::now()));
                    self.gauge(CircuitState::Open);
                    metrics::counter!("pipette_upstream_circuit_opened_total", "service" => self.service.as_str())
                        .increment(1);
                    tracing::warn!(
                        service = self.service.as_str(),
                        failures = inner.consecutive_failures,
                        cooldown_ms = self.cooldown.as_millis() as u64,
                        "circuit opened"
                    );
                }
            }
            Outcome::Neutral => {}
        }
        opened
    }

    /// `pipette_upstream_circuit_state`: 0 closed, 1 half-open, 2 open (the README documents these values).
    fn gauge(&self, state: CircuitState) {
        let value = match state {
            CircuitState::Closed => 0.0,
            CircuitState::HalfOpen => 1.0,
            CircuitState::Open => 2.0,
        };
        metrics::gauge!("pipette_upstream_circuit_state", "service" => self.service.as_str()).set(value);
    }

    pub(crate) fn status(&self) -> CircuitStatus {
        let inner = self.lock();
        let mut state = inner.state;
        let mut retry_in_ms = None;
        if state == CircuitState::Open {
            let elapsed = inner.opened.map(|(at, _)| at.elapsed()).unwrap_or(self.cooldown);
            if elapsed >= self.cooldown {
                state = CircuitState::HalfOpen;
            } else {
                retry_in_ms = Some((self.cooldown - elapsed).as_millis() as u64);
            }
        }
        CircuitStatus {
            service: self.service,
            state,
            consecutive_failures: inner.consecutive_failures,
            opened_at: inner.opened.map(|(_, wall)| chrono::DateTime::<chrono::Utc>::from(wall).to_rfc3339()),
            retry_in_ms,
        }
    }
}

impl Permit<'_> {
    /// Records the call's outcome; answers whether this opened the circuit.
    pub(crate) fn record(mut self, outcome: Outcome) -> bool {
        self.resolved = true;
        self.breaker.record(self.probe, outcome)
    }
}

impl Drop for Permit<'_> {
    fn drop(&mut self) {
        if !self.resolved && self.probe {
            self.breaker.lock().probe_in_flight = false;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fail() -> ScrapeError {
        ScrapeError::Upstream { service: Service::UniProt, status: 503, excerpt: String::new() }
    }

    #[test]
    fn opens_after_threshold_then_probes_after_cooldown() {
        let b = Breaker::new(Service::UniProt, 2, Duration::from_millis(30));
        for _ in 0..2 {
            b.acquire().expect("closed").record(Outcome::of(Some(&fail())));
        }
        assert_eq!(b.status().state, CircuitState::Open);
        assert!(matches!(b.acquire(), Err(ScrapeError::CircuitOpen { .. })));
        std::thread::sleep(Duration::from_millis(40));
        assert_eq!(b.status().state, CircuitState::HalfOpen);
        let probe = b.acquire().expect("probe");
        assert!(matches!(b.acquire(), Err(ScrapeError::CircuitOpen { .. })), "one probe at a time");
        probe.record(Outcome::Failure);
        assert_eq!(b.status().state, CircuitState::Open);
        std::thread::sleep(Duration::from_millis(40));
        b.acquire().expect("probe").record(Outcome::Success);
        let status = b.status();
        assert_eq!((status.state, status.consecutive_failures), (CircuitState::Closed, 0));
    }

    #[test]
    fn a_dropped_probe_frees_its_slot() {
        let b = Breaker::new(Service::Chembl, 1, Duration::ZERO);
        b.acquire().expect("closed").record(Outcome::Failure);
        drop(b.acquire().expect("probe"));
        assert!(b.acquire().is_ok(), "the slot is free again");
    }

    #[test]
    fn client_errors_and_rate_limits_do_not_trip() {
        let b = Breaker::new(Service::PubMed, 1, Duration::from_secs(60));
        let pubmed = Service::PubMed;
        let harmless = [
            ScrapeError::Upstream { service: pubmed, status: 400, excerpt: String::new() },
            ScrapeError::RateLimited { service: pubmed, retry_after: None },
            ScrapeError::invalid("query", "too long"),
            ScrapeError::InvalidRequest { service: pubmed, detail: "URL refused".into() },
            ScrapeError::BodyTooLarge { service: pubmed, limit: 10 },
            ScrapeError::parse(pubmed, "x"),
            ScrapeError::NotFound { service: pubmed, what: "x".into() },
        ];
        for err in &harmless {
            b.acquire().expect("closed").record(Outcome::of(Some(err)));
            assert_eq!(b.status().state, CircuitState::Closed, "{err:?}");
        }
    }

    #[test]
    fn the_request_s_own_faults_leave_the_count_alone() {
        let b = Breaker::new(Service::PubMed, 2, Duration::from_secs(60));
        b.acquire().expect("closed").record(Outcome::of(Some(&fail())));
        let invalid = ScrapeError::invalid("query", "too long");
        b.acquire().expect("closed").record(Outcome::of(Some(&invalid)));
        assert_eq!(b.status().consecutive_failures, 1, "neither reset nor counted");
        b.acquire().expect("closed").record(Outcome::of(Some(&fail())));
        assert_eq!(b.status().state, CircuitState::Open);
    }
}
