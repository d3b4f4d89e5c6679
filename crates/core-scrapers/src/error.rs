//! The typed errors of every upstream call, each naming the service and what to do.
//!
//! `retryable()` answers one question for the caller: "may the very same call succeed if I try again
//! later, unchanged?" It is true for rate limiting, timeouts, connection failures (including a body cut
//! short), 5xx and 408 answers, an open circuit (after `retry_in`) and an answer of the wrong shape (an
//! HTML page or a JSON error body with status 200: block, maintenance and rate-limit pages are
//! transient and never cached). It is false for what will not change by waiting: invalid arguments,
//! a request that cannot be built, 4xx answers, not found, a body over the size cap, a parse failure of a
//! well-formed answer.
//!
//! The HTTP layer retries by itself only on 429, 5xx, connection failures, timeouts and HTML pages (see
//! `http::Upstream`), and hedges slow attempts; by the time a caller sees a retryable error those
//! retries are spent. Messages quote
//! at most [`QUOTE_MAX`] bytes of a caller's value (see `quote`), never a whole oversized argument.

use std::time::Duration;

use crate::http::Service;

/// An error of a core-scrapers call.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ScrapeError {
    /// The upstream answered 429 (retries spent, or its `Retry-After` was longer than the cap).
    #[error(
        "{service} is rate limiting pipette (HTTP 429){}: wait before retrying{}",
        retry_after_text(*.retry_after),
        rate_hint(*.service)
    )]
    RateLimited { service: Service, retry_after: Option<Duration> },

    /// The upstream answered with an error status.
    #[error("{service} answered HTTP {status}: {excerpt:?}; {}", status_hint(*.status))]
    Upstream { service: Service, status: u16, excerpt: String },

    /// No complete answer within the time allowed.
    #[error(
        "{service} did not answer within {}: it may be slow or down; try again later or raise its budgets (PIPETTE_<SERVICE>_FIRST_BYTE_MS, _BODY_MS, PIPETTE_HTTP_RETRY_DEADLINE_MS)",
        millis(*.after)
    )]
    Timeout { service: Service, after: Duration },

    /// The circuit breaker is open after repeated failures: no request was sent.
    #[error(
        "{service} failed repeatedly and its circuit is open: no request was sent; try again in {}",
        millis(*.retry_in)
    )]
    CircuitOpen { service: Service, retry_in: Duration },

    /// The connection failed or dropped (refused, reset, DNS, TLS, a body cut short).
    #[error("could not talk to {service}: {detail}; check the network or the base URL, then try again")]
    Connect { service: Service, detail: String },

    /// The answer is larger than the body cap.
    #[error(
        "{service} sent more than {limit} bytes (the body cap): ask for fewer results, or raise PIPETTE_HTTP_MAX_BODY_BYTES"
    )]
    BodyTooLarge { service: Service, limit: u64 },

    /// The answer is not what was asked: an HTML page instead of JSON, a JSON error body with status 200.
    #[error(
        "{service} sent an unexpected answer: {detail}; this is usually a temporary block, maintenance or rate-limit page: try again later"
    )]
    UnexpectedContent { service: Service, detail: String },

    /// The answer could not be parsed into the expected shape.
    #[error(
        "could not parse the answer of {service}: {detail}; the upstream format may have changed (please report it)"
    )]
    Parse { service: Service, detail: String },

    /// The requested record does not exist upstream.
    #[error("{service} has no {what}: check the identifier")]
    NotFound { service: Service, what: String },

    /// An argument of the call is invalid; nothing was sent.
    #[error("invalid argument `{name}`: {reason}")]
    InvalidArgument { name: String, reason: String },

    /// The HTTP client could not build a request from the call's input (a URL it refuses, for example);
    /// nothing was sent. The cores check their arguments first, so this names a gap in those checks.
    #[error("could not build a valid request to {service}: {detail}; nothing was sent: change the arguments")]
    InvalidRequest { service: Service, detail: String },
}

/// The most bytes of a caller's value an error message quotes.
pub(crate) const QUOTE_MAX: usize = 100;

/// `value` quoted for an error message: whole when it is short, else its first [`QUOTE_MAX`] bytes (cut at a
/// character boundary) followed by its full length.
pub(crate) fn quote(value: &str) -> String {
    if value.len() <= QUOTE_MAX {
        return format!("{value:?}");
    }
    let mut end = QUOTE_MAX;
    while !value.is_char_boundary(end) {
        end -= 1;
    }
    format!("{:?}… ({} bytes in all)", &value[..end], value.len())
}

impl ScrapeError {
    /// A short snake_case kind: `rate_limited`, `upstream`, `timeout`, `circuit_open`, `connect`,
    /// `too_large`, `unexpected_content`, `parse`, `not_found`, `invalid_argument`, `invalid_request`.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::RateLimited { .. } => "rate_limited",
            Self::Upstream { .. } => "upstream",
            Self::Timeout { .. } => "timeout",
            Self::CircuitOpen { .. } => "circuit_open",
            Self::Connect { .. } => "connect",
            Self::BodyTooLarge { .. } => "too_large",
            Self::UnexpectedContent { .. } => "unexpected_content",
            Self::Parse { .. } => "parse",
            Self::NotFound { .. } => "not_found",
            Self::InvalidArgument { .. } => "invalid_argument",
            Self::InvalidRequest { .. } => "invalid_request",
        }
    }

    /// Whether the same call may succeed later, unchanged (see the module documentation).
    pub fn retryable(&self) -> bool {
        match self {
            Self::RateLimited { .. }
            | Self::Timeout { .. }
            | Self::CircuitOpen { .. }
            | Self::Connect { .. }
            | Self::UnexpectedContent { .. } => true,
            Self::Upstream { status, .. } => *status >= 500 || *status == 408,
            Self::BodyTooLarge { .. }
            | Self::Parse { .. }
            | Self::NotFound { .. }
            | Self::InvalidArgument { .. }
            | Self::InvalidRequest { .. } => false,
        }
    }

    /// The upstream service concerned, when there is one.
    pub fn service(&self) -> Option<Service> {
        match self {
            Self::RateLimited { service, .. }
            | Self::Upstream { service, .. }
            | Self::Timeout { service, .. }
            | Self::CircuitOpen { service, .. }
            | Self::Connect { service, .. }
            | Self::BodyTooLarge { service, .. }
            | Self::UnexpectedContent { service, .. }
            | Self::Parse { service, .. }
            | Self::NotFound { service, .. }
            | Self::InvalidRequest { service, .. } => Some(*service),
            Self::InvalidArgument { .. } => None,
        }
    }

    /// How long to wait before trying again, when the upstream or the breaker said so.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::RateLimited { retry_after, .. } => *retry_after,
            Self::CircuitOpen { retry_in, .. } => Some(*retry_in),
            _ => None,
        }
    }

    /// Shorthand for [`ScrapeError::InvalidArgument`].
    pub fn invalid(name: impl Into<String>, reason: impl Into<String>) -> Self {
        Self::InvalidArgument { name: name.into(), reason: reason.into() }
    }

    /// Shorthand for [`ScrapeError::Parse`].
    pub fn parse(service: Service, detail: impl Into<String>) -> Self {
        Self::Parse { service, detail: detail.into() }
    }
}

fn millis(d: Duration) -> String {
    if d.as_millis() < 10_000 { format!("{} ms", d.as_millis()) } else { format!("{} s", d.as_secs()) }
}

fn retry_after_text(retry_after: Option<Duration>) -> String {
    match retry_after {
        Some(d) => format!(", it asks to retry after {}", millis(d)),
        None => String::new(),
    }
}

fn rate_hint(service: Service) -> &'static str {
    match service {
        Service::PubMed => {
            " (set NCBI_API_KEY to raise the NCBI limit from 3 to 10 requests/s, or lower PIPETTE_PUBMED_RATE)"
        }
        _ => " (or lower this upstream's PIPETTE_*_RATE)",
    }
}

fn status_hint(status: u16) -> &'static str {
    match status {
        400 | 422 => "the request was rejected: check the arguments",
        401 | 403 => "access was refused: check the API key or whether this client is blocked",
        408 => "the upstream timed out: try again later",
        404 | 410 => "the resource does not exist: check the identifier",
        s if s >= 500 => "the upstream failed: try again later",
        _ => "check the request",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_and_retryability() {
        let cases = [
            (ScrapeError::RateLimited { service: Service::PubMed, retry_after: None }, "rate_limited", true),
            (
                ScrapeError::Upstream { service: Service::Chembl, status: 503, excerpt: String::new() },
                "upstream",
                true,
            ),
            (
                ScrapeError::Upstream { service: Service::Chembl, status: 400, excerpt: String::new() },
                "upstream",
                false,
            ),
            (ScrapeError::invalid("date_from", "empty"), "invalid_argument", false),
            (ScrapeError::parse(Service::UniProt, "x"), "parse", false),
            (
                ScrapeError::InvalidRequest { service: Service::PubMed, detail: "bad URL".into() },
                "invalid_request",
                false,
            ),
        ];
        for (err, kind, retryable) in cases {
            assert_eq!(err.kind(), kind, "{err}");
            assert_eq!(err.retryable(), retryable, "{err}");
        }
    }

    #[test]
    fn messages_name_the_service_and_the_remedy() {
        let err =
            ScrapeError::RateLimited { service: Service::PubMed, retry_after: Some(Duration::from_secs(2)) };
        let text = err.to_string();
        assert!(text.contains("PubMed"), "{text}");
        assert!(text.contains("2000 ms"), "{text}");
        assert!(text.contains("NCBI_API_KEY"), "{text}");
        let text = ScrapeError::Timeout { service: Service::ClinicalTrials, after: Duration::from_secs(30) }
            .to_string();
        assert!(text.contains("ClinicalTrials.gov") && text.contains("30 s"), "{text}");
    }

    #[test]
    fn quotes_are_bounded() {
        assert_eq!(quote("braf"), "\"braf\"");
        let long = "é".repeat(100_000);
        let quoted = quote(&long);
        assert!(quoted.len() < 2 * QUOTE_MAX, "{quoted}");
        assert!(quoted.ends_with("… (200000 bytes in all)"), "{quoted}");
    }
}
