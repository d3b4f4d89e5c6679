//! Recognises answers that are not what was asked (an HTML page, a JSON error body with status 200) and
//! makes short, readable excerpts of error bodies.

use crate::error::ScrapeError;
use crate::http::Service;

/// What the caller expects in a successful body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Expect {
    /// Anything that is not an HTML page or a JSON error body (XML, JSON, text).
    Any,
    /// A JSON document.
    Json,
    /// A web page: HTML is the answer, not an error page.
    Html,
}

/// Largest JSON body inspected for a top-level `error` member (bigger ones are real data).
const ERROR_BODY_MAX: usize = 64 * 1024;
const EXCERPT_CHARS: usize = 300;

/// Checks a 2xx body against what was asked.
pub(crate) fn check(
    service: Service,
    content_type: Option<&str>,
    body: &[u8],
    expect: Expect,
) -> Result<(), ScrapeError> {
    let head = trimmed_start(body);
    if expect == Expect::Html {
        return Ok(());
    }
    if is_html_page(content_type, body) {
        let title = html_title(body).map(|t| format!(" titled {t:?}")).unwrap_or_default();
        return Err(ScrapeError::UnexpectedContent {
            service,
            detail: format!(
                "an HTML page{title} instead of {} (content type {})",
                if expect == Expect::Json { "JSON" } else { "data" },
                content_type.unwrap_or("unknown")
            ),
        });
    }
    if let Some(message) = json_error_message(body) {
        return Err(ScrapeError::UnexpectedContent {
            service,
            detail: format!("a JSON error body with a success status: {message:?}"),
        });
    }
    if expect == Expect::Json && !matches!(head.first(), Some(b'{' | b'[')) {
        return Err(ScrapeError::UnexpectedContent {
            service,
            detail: format!(
                "not JSON (content type {}): {:?}",
                content_type.unwrap_or("unknown"),
                excerpt(body)
            ),
        });
    }
    Ok(())
}

/// A short, single-line excerpt of an error body: the JSON error message when there is one, else the text.
pub(crate) fn excerpt(body: &[u8]) -> String {
    if let Some(message) = json_error_message(body) {
        return message;
    }
    if let Some(title) = html_title(body) {
        return title;
    }
    let text = String::from_utf8_lossy(&body[..body.len().min(4 * EXCERPT_CHARS)]);
    let mut out = String::new();
    for word in text.split_whitespace() {
        if out.chars().count() + word.chars().count() + 1 > EXCERPT_CHARS {
            out.push('…');
            break;
        }
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    out
}

/// Whether a body is an HTML page (by content type or by its first bytes): a proxy's error page, a
/// maintenance or block page. The HTTP layer retries these (they are transient) and never caches them.
pub(crate) fn is_html_page(content_type: Option<&str>, body: &[u8]) -> bool {
    content_type.is_some_and(|ct| ct.to_ascii_lowercase().contains("text/html"))
        || looks_like_html(trimmed_start(body))
}

fn trimmed_start(body: &[u8]) -> &[u8] {
    let body = body.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(body);
    let start = body.iter().position(|b| !b.is_ascii_whitespace()).unwrap_or(body.len());
    &body[start..]
}

fn looks_like_html(head: &[u8]) -> bool {
    let prefix: Vec<u8> = head.iter().take(15).map(u8::to_ascii_lowercase).collect();
    prefix.starts_with(b"<!doctype html") || prefix.starts_with(b"<html")
}

fn html_title(body: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(&body[..body.len().min(16 * 1024)]);
    let lower = text.to_ascii_lowercase();
    let start = lower.find("<title")?;
    let open_end = start + lower[start..].find('>')? + 1;
    let end = open_end + lower[open_end..].find("</title")?;
    let title = text[open_end..end].split_whitespace().collect::<Vec<_>>().join(" ");
    (!title.is_empty()).then_some(title)
}

/// The message of a JSON error body: a top-level `error` (string, or object with `message`),
/// `error_message` (ChEMBL) or `messages` (UniProt).
fn json_error_message(body: &[u8]) -> Option<String> {
    if body.len() > ERROR_BODY_MAX || trimmed_start(body).first() != Some(&b'{') {
        return None;
    }
    let value: serde_json::Value = serde_json::from_slice(body).ok()?;
    let object = value.as_object()?;
    let text = |v: &serde_json::Value| match v {
        serde_json::Value::String(s) => Some(s.clone()),
        serde_json::Value::Object(o) => o.get("message").and_then(|m| m.as_str()).map(str::to_owned),
        serde_json::Value::Array(items) => {
            let parts: Vec<&str> = items.iter().filter_map(|i| i.as_str()).collect();
            (!parts.is_empty()).then(|| parts.join("; "))
        }
        _ => None,
    };
    ["error", "ERROR", "error_message", "messages"].iter().find_map(|key| object.get(*key).and_then(text))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_pages_are_named() {
        let page = b"\n<!DOCTYPE html><html><head><title>503 Service\n Unavailable</title></head></html>";
        let err = check(Service::ClinicalTrials, Some("text/html"), page, Expect::Json).expect_err("html");
        let text = err.to_string();
        assert!(text.contains("HTML page titled \"503 Service Unavailable\""), "{text}");
        assert!(check(Service::UniProt, None, b"<HTML>", Expect::Any).is_err());
    }

    #[test]
    fn json_error_bodies_are_named() {
        let body = br#"{"error":"API rate limit exceeded","api-key":"1.2.3.4","count":"4","limit":"3"}"#;
        let err =
            check(Service::PubMed, Some("application/json"), body, Expect::Json).expect_err("error body");
        assert!(err.to_string().contains("API rate limit exceeded"), "{err}");
        assert_eq!(err.kind(), "unexpected_content");
    }

    #[test]
    fn real_data_passes() {
        assert!(
            check(Service::PubMed, Some("text/xml"), b"<?xml version=\"1.0\"?><a/>", Expect::Any).is_ok()
        );
        assert!(
            check(Service::Chembl, Some("application/json"), br#"{"mechanisms":[]}"#, Expect::Json).is_ok()
        );
        assert!(check(Service::Chembl, Some("text/plain"), b"plain", Expect::Json).is_err());
    }

    #[test]
    fn excerpts_are_short_and_single_line() {
        assert_eq!(excerpt(br#"{"error_message":"bad filter"}"#), "bad filter");
        assert_eq!(excerpt(br#"{"url":"x","messages":["Invalid query","more"]}"#), "Invalid query; more");
        let long = "word ".repeat(500);
        let e = excerpt(long.as_bytes());
        assert!(e.chars().count() <= EXCERPT_CHARS + 1 && !e.contains('\n') && e.ends_with('…'));
    }
}
