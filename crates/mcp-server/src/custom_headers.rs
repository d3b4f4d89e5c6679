//! Custom request headers (SEP-2243): a tool parameter whose schema carries `x-mcp-header: NAME` is
//! mirrored by 2026-07-28 clients into the HTTP header `Mcp-Param-NAME`, for routing intermediaries. The
//! server checks that the header is there whenever the argument is, and that it says the same: literally,
//! or base64-encoded as `=?base64?…?=` (strict: standard alphabet, padded). Otherwise the request is refused
//! with HTTP 400 and -32020 (header mismatch) before it reaches the tool.

use std::collections::HashMap;
use std::sync::LazyLock;

use axum::http::HeaderMap;
use serde_json::Value;

/// The JSON-RPC error code of a header that does not match the body.
pub(crate) const HEADER_MISMATCH: i32 = -32020;

/// Each tool's mirrored parameters: `(parameter, header name)`.
static MIRRORED: LazyLock<HashMap<&'static str, Vec<(String, String)>>> = LazyLock::new(|| {
    tool_metadata::registered()
        .filter_map(|d| {
            let schema = (d.input_schema)();
            let params: Vec<(String, String)> = schema
                .get("properties")?
                .as_object()?
                .iter()
                .filter_map(|(name, prop)| {
                    Some((name.clone(), prop.get("x-mcp-header")?.as_str()?.to_owned()))
                })
                .collect();
            (!params.is_empty()).then_some((d.name, params))
        })
        .collect()
});

/// Why the custom headers of a `tools/call` of `tool` with `arguments` do not match; `None` when they do.
pub(crate) fn mismatch(headers: &HeaderMap, tool: &str, arguments: Option<&Value>) -> Option<String> {
    let params = MIRRORED.get(tool)?;
    for (param, header) in params {
        let Some(value) = arguments.and_then(|a| a.get(param)).filter(|v| !v.is_null()) else { continue };
        let expected = match value {
            Value::String(s) => s.clone(),
            Value::Bool(_) | Value::Number(_) => value.to_string(),
            _ => continue,
        };
        let name = format!("mcp-param-{}", header.to_ascii_lowercase());
        let Some(sent) = headers.get(&name) else {
            return Some(format!(
                "the header Mcp-Param-{header} is missing: it must mirror the argument `{param}`"
            ));
        };
        let Some(sent) = decode(sent.as_bytes()) else {
            return Some(format!("the header Mcp-Param-{header} is not valid (bad base64 in =?base64?…?=)"));
        };
        if sent != expected {
            return Some(format!("the header Mcp-Param-{header} does not match the argument `{param}`"));
        }
    }
    None
}

/// A header value: `=?base64?…?=` decoded (strictly), anything else taken literally; surrounding
/// whitespace is not part of the value (RFC 9110 §5.5).
fn decode(raw: &[u8]) -> Option<String> {
    let text = std::str::from_utf8(raw).ok()?.trim_matches([' ', '\t']);
    match text.strip_prefix("=?base64?").and_then(|t| t.strip_suffix("?=")) {
        Some(encoded) => String::from_utf8(base64(encoded)?).ok(),
        None => Some(text.to_owned()),
    }
}

/// Standard base64 with its padding; `None` for any other text.
fn base64(s: &str) -> Option<Vec<u8>> {
    let bytes = s.as_bytes();
    if bytes.is_empty() || !bytes.len().is_multiple_of(4) {
        return None;
    }
    let pad = bytes.iter().rev().take_while(|b| **b == b'=').count();
    if pad > 2 {
        return None;
    }
    let sextet = |b: u8| -> Option<u32> {
        Some(u32::from(match b {
            b'A'..=b'Z' => b - b'A',
            b'a'..=b'z' => b - b'a' + 26,
            b'0'..=b'9' => b - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        }))
    };
    let mut out = Vec::with_capacity(bytes.len() / 4 * 3);
    for (i, chunk) in bytes.chunks(4).enumerate() {
        let last = i == bytes.len() / 4 - 1;
        let mut n = 0u32;
        let mut used = 0;
        for &b in chunk {
            if b == b'=' {
                if !last {
                    return None;
                }
                n <<= 6;
            } else {
                if used < 4 - if last { pad } else { 0 } {
                    n = (n << 6) | sextet(b)?;
                } else {
                    return None;
                }
                used += 1;
            }
        }
        let take = if last { 3 - pad } else { 3 };
        out.extend_from_slice(&n.to_be_bytes()[1..1 + take]);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_values_decode_strictly() {
        for (raw, expected) in [
            ("=?base64?SGVsbG8=?=", Some("Hello")),
            ("  =?base64?SGVsbG8=?=\t", Some("Hello")),
            ("=?base64?SGVsbG8?=", None),
            ("=?base64?SGVs!!!bG8=?=", None),
            ("=?base64?SGVsbG8=", Some("=?base64?SGVsbG8=")),
            ("SGVsbG8=", Some("SGVsbG8=")),
            ("=?base64?Zm9vYmE=?=", Some("fooba")),
            ("=?base64?Zm9vYg==?=", Some("foob")),
            ("=?base64?Zm9v?=", Some("foo")),
            ("=?base64?Zm=9v?=", None),
        ] {
            assert_eq!(decode(raw.as_bytes()).as_deref(), expected, "{raw}");
        }
    }
}
