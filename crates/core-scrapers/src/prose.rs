//! Small text helpers for the markdown renderings: sentences, clipped lists, identifiers found in prose.

use std::sync::LazyLock;

/// The first `n` sentences of `text` (whitespace collapsed) and how many sentences it holds.
///
/// A sentence ends at `.`, `?` or `!` (after a closing bracket or quote too) followed by a space and an
/// upper-case letter, a digit or an opening bracket; decimals (`0.45`) and lower-case abbreviations
/// (`e.g. the`) do not end one.
pub(crate) fn sentences(text: &str, n: usize) -> (String, usize) {
    let flat: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let bytes = flat.as_bytes();
    let mut ends = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if matches!(bytes[i], b'.' | b'?' | b'!') {
            let mut j = i + 1;
            while j < bytes.len() && matches!(bytes[j], b')' | b']' | b'"' | b'\'') {
                j += 1;
            }
            let next = bytes.get(j + 1).copied();
            if bytes.get(j) == Some(&b' ')
                && next
                    .is_some_and(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == b'(' || c == b'[')
            {
                ends.push(j);
                i = j;
            }
        }
        i += 1;
    }
    let total = ends.len() + usize::from(!flat.is_empty());
    match ends.get(n.saturating_sub(1)) {
        Some(&end) if n > 0 && n < total => (flat[..end].to_owned(), total),
        _ if n == 0 => (String::new(), total),
        _ => (flat, total),
    }
}

/// `items` joined with ", ", at most `keep` of them, then "et al." when there were more.
pub(crate) fn clipped(items: &[&str], keep: usize) -> String {
    let mut out = items.iter().take(keep).copied().collect::<Vec<_>>().join(", ");
    if items.len() > keep {
        out.push_str(", et al.");
    }
    out
}

/// The ClinicalTrials.gov NCT ids mentioned in `text`, in order, each once.
pub(crate) fn nct_ids(text: &str) -> Vec<String> {
    static NCT: LazyLock<regex::Regex> =
        LazyLock::new(|| regex::Regex::new(r"\bNCT\d{8}\b").expect("a valid pattern"));
    let mut out: Vec<String> = Vec::new();
    for m in NCT.find_iter(text) {
        if !out.iter().any(|s| s == m.as_str()) {
            out.push(m.as_str().to_owned());
        }
    }
    out
}

/// A JSON value written inline for a call the reader can copy (`["1","2"]`).
pub(crate) fn json(value: &serde_json::Value) -> String {
    value.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sentences_end_at_full_stops_not_decimals_or_abbreviations() {
        let text = "Median PFS was 4.8 months (HR, 0.45; P<0.001). At 6 months, e.g. the rate was 81%. \
                    Rash was common! [Funded by X.]";
        let (two, total) = sentences(text, 2);
        assert_eq!(total, 4);
        assert_eq!(two, "Median PFS was 4.8 months (HR, 0.45; P<0.001). At 6 months, e.g. the rate was 81%.");
        assert_eq!(sentences(text, 9).0.len(), text.split_whitespace().collect::<Vec<_>>().join(" ").len());
        assert_eq!(sentences("", 2), (String::new(), 0));
        assert_eq!(sentences("One only", 1), ("One only".to_owned(), 1));
    }

    #[test]
    fn lists_are_clipped_and_nct_ids_found_once() {
        assert_eq!(clipped(&["A", "B", "C", "D"], 3), "A, B, C, et al.");
        assert_eq!(clipped(&["A"], 3), "A");
        assert_eq!(nct_ids("(NCT01245062; NCT01245062, nct1, NCT123456789)"), ["NCT01245062"]);
    }
}
