//! Parses `Retry-After` (delay-seconds or an HTTP-date) into a duration from now.

use std::time::{Duration, SystemTime};

/// The wait a `Retry-After` value asks for; a date in the past is zero; garbage is `None`.
pub(crate) fn parse(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let when = httpdate::parse_http_date(value).ok()?;
    Some(when.duration_since(now).unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seconds_dates_and_garbage() {
        let now = httpdate::parse_http_date("Wed, 21 Oct 2026 07:28:00 GMT").expect("date");
        let cases = [
            ("3", Some(Duration::from_secs(3))),
            (" 0 ", Some(Duration::ZERO)),
            ("Wed, 21 Oct 2026 07:28:05 GMT", Some(Duration::from_secs(5))),
            ("Wed, 21 Oct 2026 07:27:00 GMT", Some(Duration::ZERO)),
            ("soon", None),
            ("-1", None),
        ];
        for (input, expected) in cases {
            assert_eq!(parse(input, now), expected, "{input:?}");
        }
    }
}
