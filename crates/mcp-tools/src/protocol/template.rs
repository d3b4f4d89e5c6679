//! RFC 6570 level-1 URI templates (`scheme://{a}/x/{b}`), matched against concrete URIs.

use std::collections::BTreeMap;

/// A URI template: literal text and `{variable}`s, each matching one non-empty path segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UriTemplate<'a> {
    template: &'a str,
}

/// The variables and the query parameters of a match.
pub type Matched = (BTreeMap<String, String>, BTreeMap<String, String>);

impl<'a> UriTemplate<'a> {
    /// A template over `template`.
    pub fn new(template: &'a str) -> UriTemplate<'a> {
        UriTemplate { template }
    }

    /// The variable names, in order.
    pub fn variables(&self) -> Vec<&'a str> {
        self.template
            .split('{')
            .skip(1)
            .filter_map(|part| part.split_once('}').map(|(name, _)| name))
            .collect()
    }

    /// The variables of `uri` when it matches (the query string, if any, is parsed apart).
    pub fn matches(&self, uri: &str) -> Option<Matched> {
        let (path, query) = match uri.split_once('?') {
            Some((p, q)) => (p, parse_query(q)),
            None => (uri, BTreeMap::new()),
        };
        let mut params = BTreeMap::new();
        let mut rest = path;
        let mut tpl = self.template;
        loop {
            match tpl.find('{') {
                None => return (rest == tpl).then_some((params, query)),
                Some(open) => {
                    let literal = &tpl[..open];
                    rest = rest.strip_prefix(literal)?;
                    let close = tpl[open..].find('}')? + open;
                    let name = &tpl[open + 1..close];
                    tpl = &tpl[close + 1..];
                    // A variable runs to the next literal character of the template (or the end).
                    let end = match tpl.chars().next() {
                        Some(c) => rest.find(c).unwrap_or(rest.len()),
                        None => rest.len(),
                    };
                    let value = &rest[..end];
                    if value.is_empty() || value.contains('/') {
                        return None;
                    }
                    params.insert(name.to_owned(), percent_decode(value));
                    rest = &rest[end..];
                }
            }
        }
    }

    /// The URI with `values` substituted (percent-encoding what needs it).
    pub fn expand(&self, values: &BTreeMap<&str, &str>) -> String {
        let mut out = String::new();
        let mut tpl = self.template;
        while let Some(open) = tpl.find('{') {
            out.push_str(&tpl[..open]);
            let Some(close) = tpl[open..].find('}').map(|c| c + open) else { break };
            let name = &tpl[open + 1..close];
            out.push_str(&percent_encode(values.get(name).copied().unwrap_or_default()));
            tpl = &tpl[close + 1..];
        }
        out.push_str(tpl);
        out
    }
}

fn parse_query(q: &str) -> BTreeMap<String, String> {
    q.split('&')
        .filter(|kv| !kv.is_empty())
        .map(|kv| match kv.split_once('=') {
            Some((k, v)) => (percent_decode(k), percent_decode(&v.replace('+', " "))),
            None => (percent_decode(kv), String::new()),
        })
        .collect()
}

/// Decodes `%XX` escapes (invalid ones stay as they are).
pub(crate) fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let Ok(b) = u8::from_str_radix(std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("zz"), 16)
        {
            out.push(b);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_variables_and_query() {
        let t = UriTemplate::new("trial://{nct_id}");
        let (p, q) = t.matches("trial://NCT01234567?sections=eligibility,locations").unwrap();
        assert_eq!(p["nct_id"], "NCT01234567");
        assert_eq!(q["sections"], "eligibility,locations");
        let t = UriTemplate::new("index://{id}/doc/{doc_id}");
        let (p, _) = t.matches("index://papers/doc/pmid%3A42").unwrap();
        assert_eq!((p["id"].as_str(), p["doc_id"].as_str()), ("papers", "pmid:42"));
        assert!(t.matches("index://papers/status").is_none());
        assert!(UriTemplate::new("index://{id}/status").matches("index://papers/status").is_some());
        assert!(UriTemplate::new("test://static-text").matches("test://static-text").is_some());
        assert!(UriTemplate::new("test://static-text").matches("test://static-textx").is_none());
        assert!(UriTemplate::new("pubmed://{pmid}").matches("pubmed://").is_none());
        assert_eq!(t.variables(), vec!["id", "doc_id"]);
    }

    #[test]
    fn expands() {
        let t = UriTemplate::new("index://{id}/doc/{doc_id}");
        let v = BTreeMap::from([("id", "a b"), ("doc_id", "x/y")]);
        let uri = t.expand(&v);
        assert_eq!(uri, "index://a%20b/doc/x%2Fy");
        let (p, _) = t.matches(&uri).unwrap();
        assert_eq!(p["doc_id"], "x/y");
    }
}
