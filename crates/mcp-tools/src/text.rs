//! The text a model reads of any tool result: the result's own markdown (or its summary), else a compact
//! markdown view of its JSON — never raw JSON — cut at a boundary when over the result bound, saying what
//! was left out and the call that gets it.

use std::fmt::Write as _;
use std::sync::OnceLock;

use serde_json::Value;

/// The default bound on a result's text: about 25k tokens.
pub const DEFAULT_MAX_RESULT_BYTES: usize = 100_000;
/// The smallest bound `PIPETTE_MAX_RESULT_BYTES` may set (room for a heading and the note).
const MIN_MAX_RESULT_BYTES: usize = 1_000;
/// The key under which a result carries its own markdown (see `format::Shown`); never part of the
/// structured content sent to clients.
pub const MARKDOWN_KEY: &str = "markdown";

/// The bound on a result's text in bytes: `PIPETTE_MAX_RESULT_BYTES` (read once; at least 1,000), else
/// [`DEFAULT_MAX_RESULT_BYTES`].
pub fn max_result_bytes() -> usize {
    static MAX: OnceLock<usize> = OnceLock::new();
    *MAX.get_or_init(|| {
        std::env::var("PIPETTE_MAX_RESULT_BYTES")
            .ok()
            .and_then(|v| v.trim().parse::<usize>().ok())
            .map_or(DEFAULT_MAX_RESULT_BYTES, |v| v.max(MIN_MAX_RESULT_BYTES))
    })
}

/// A result's text: the summary asked for with `summarize`, else the markdown the result carries
/// (`markdown`, `summary_markdown`, `report_markdown`), else [`json_markdown`] of the value.
pub fn render_text(value: &Value) -> String {
    if let Some(s) = value.pointer("/summary/text").and_then(Value::as_str) {
        return s.to_owned();
    }
    for key in [MARKDOWN_KEY, "summary_markdown", "report_markdown"] {
        if let Some(s) = value.get(key).and_then(Value::as_str) {
            return s.to_owned();
        }
    }
    json_markdown(value)
}

/// [`render_text`] of `tool`'s result, bounded by `max` bytes (see [`bound`]).
pub fn result_text(tool: &str, args: &Value, value: &Value, max: usize) -> String {
    bound(render_text(value), max, tool, args)
}

/// `text` when it fits in `max` bytes; else its start, cut at the last section, paragraph or line boundary
/// that fits, then a line saying how much was left out (and which PMIDs) and the call that gets it.
pub fn bound(text: String, max: usize, tool: &str, args: &Value) -> String {
    if text.len() <= max {
        return text;
    }
    // Room for the note: its fixed words plus up to 200 PMIDs.
    let budget = max.saturating_sub((max / 2).min(3_000));
    let cut = cut_point(&text, budget);
    let (kept, rest) = text.split_at(cut);
    let left_lines = rest.lines().filter(|l| !l.trim().is_empty()).count();
    let mut out = kept.trim_end().to_owned();
    let _ = write!(
        out,
        "\n\n---\n**Cut here to stay under {} KB** (`PIPETTE_MAX_RESULT_BYTES`): {} KB and {left_lines} lines left \
         out of this text; the whole result is in this call's structured content.",
        max / 1000,
        rest.len().div_ceil(1000),
    );
    let pmids = left_out_pmids(rest);
    if !pmids.is_empty() {
        let list = Value::from(pmids.iter().take(200).map(|p| Value::from(p.as_str())).collect::<Vec<_>>());
        let _ = write!(
            out,
            " The {} articles left out (PMIDs {}): `pubmed_fetch {{\"pmids\": {list}}}`{}.",
            pmids.len(),
            pmids.iter().take(10).cloned().collect::<Vec<_>>().join(", ")
                + if pmids.len() > 10 { ", …" } else { "" },
            if pmids.len() > 200 { " (the first 200; then the next)" } else { "" },
        );
    } else {
        let args = compact_args(args);
        let _ = write!(
            out,
            " To read the rest as text, call `{tool}` again asking for less (a smaller `max_results` or `limit`, a \
             later `offset`), e.g. `{tool} {args}` with those changed."
        );
    }
    out.push('\n');
    out
}

/// Where to cut `text` to keep at most `budget` bytes: the last section heading, else blank line, else
/// line end before it (in the second half of the budget), else the last character boundary.
fn cut_point(text: &str, budget: usize) -> usize {
    let mut end = budget.min(text.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let head = &text[..end];
    let floor = end / 2;
    for sep in ["\n## ", "\n### ", "\n\n", "\n"] {
        if let Some(at) = head.rfind(sep).filter(|&at| at >= floor) {
            return at + 1;
        }
    }
    end
}

/// The PMIDs a cut-off part of a text names (`PMID 123`), in order, each once.
fn left_out_pmids(rest: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for (i, _) in rest.match_indices("PMID ") {
        let digits: String = rest[i + 5..].chars().take_while(char::is_ascii_digit).collect();
        if !digits.is_empty() && !out.contains(&digits) {
            out.push(digits);
        }
    }
    out
}

/// The arguments as a short inline JSON object for a hint (long values elided).
fn compact_args(args: &Value) -> String {
    let text = match args {
        Value::Null => "{}".to_owned(),
        other => other.to_string(),
    };
    if text.len() <= 300 {
        return text;
    }
    let mut end = 300;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &text[..end])
}

/// Any JSON value as compact markdown: fields as `**key**: value` list items (nested by indentation),
/// arrays of flat objects as tables, arrays of scalars inline; nulls and empty values left out.
pub fn json_markdown(value: &Value) -> String {
    let mut out = String::new();
    match value {
        Value::Object(map) if map.is_empty() => out.push_str("(empty result)\n"),
        Value::Object(map) => {
            for (k, v) in map {
                field(&mut out, 0, k, v);
            }
        }
        Value::Array(items) => list(&mut out, 0, items),
        scalar => {
            let _ = writeln!(out, "{}", scalar_text(scalar));
        }
    }
    out
}

fn is_empty(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::String(s) => s.is_empty(),
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => o.is_empty(),
        _ => false,
    }
}

fn is_scalar(v: &Value) -> bool {
    !matches!(v, Value::Array(_) | Value::Object(_))
}

fn scalar_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => "none".to_owned(),
        other => other.to_string(),
    }
}

/// One text value on a list line: continuation lines indented under it.
fn inline(v: &Value, indent: usize) -> String {
    scalar_text(v).replace('\n', &format!("\n{}", " ".repeat(indent + 2)))
}

fn field(out: &mut String, indent: usize, key: &str, v: &Value) {
    if is_empty(v) {
        return;
    }
    let pad = " ".repeat(indent);
    match v {
        Value::Object(map) => {
            let _ = writeln!(out, "{pad}- **{key}**:");
            for (k, v) in map {
                field(out, indent + 2, k, v);
            }
        }
        Value::Array(items) if items.iter().all(is_scalar) => {
            let joined: Vec<String> = items.iter().map(scalar_text).collect();
            let _ = writeln!(out, "{pad}- **{key}**: {}", joined.join(", "));
        }
        Value::Array(items) => {
            let _ = writeln!(out, "{pad}- **{key}** ({}):", items.len());
            list(out, indent + 2, items);
        }
        scalar => {
            let _ = writeln!(out, "{pad}- **{key}**: {}", inline(scalar, indent));
        }
    }
}

/// A list: a table when every item is an object of scalars (or scalar lists) with few columns, else items.
fn list(out: &mut String, indent: usize, items: &[Value]) {
    if let Some(columns) = table_columns(items) {
        let pad = " ".repeat(indent);
        let _ = writeln!(out, "{pad}| {} |", columns.join(" | "));
        let _ = writeln!(out, "{pad}|{}", "---|".repeat(columns.len()));
        for item in items {
            let cells: Vec<String> = columns
                .iter()
                .map(|c| match item.get(c.as_str()) {
                    None | Some(Value::Null) => String::new(),
                    Some(Value::Array(a)) => a.iter().map(scalar_text).collect::<Vec<_>>().join(", "),
                    Some(v) => scalar_text(v),
                })
                .map(|c| c.replace('|', "\\|").replace('\n', " "))
                .collect();
            let _ = writeln!(out, "{pad}| {} |", cells.join(" | "));
        }
        return;
    }
    let pad = " ".repeat(indent);
    for (i, item) in items.iter().enumerate() {
        match item {
            Value::Object(map) => {
                let _ = writeln!(out, "{pad}- {}.", i + 1);
                for (k, v) in map {
                    field(out, indent + 2, k, v);
                }
            }
            Value::Array(inner) => {
                let _ = writeln!(out, "{pad}- {}.", i + 1);
                list(out, indent + 2, inner);
            }
            scalar => {
                let _ = writeln!(out, "{pad}- {}", inline(scalar, indent));
            }
        }
    }
}

/// The columns of a table for `items`, when they suit one: objects whose values are scalars or scalar
/// lists, at most 8 distinct keys.
fn table_columns(items: &[Value]) -> Option<Vec<String>> {
    let mut columns: Vec<String> = Vec::new();
    for item in items {
        let map = item.as_object()?;
        for (k, v) in map {
            let flat = match v {
                Value::Array(a) => a.iter().all(is_scalar),
                Value::Object(_) => false,
                _ => true,
            };
            if !flat {
                return None;
            }
            if !is_empty(v) && !columns.contains(k) {
                columns.push(k.clone());
            }
        }
    }
    (!items.is_empty() && !columns.is_empty() && columns.len() <= 8).then_some(columns)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn any_value_is_markdown_never_json() {
        let v = json!({
            "status": "ok",
            "empty": [],
            "nested": { "a": 1, "b": null, "text": "two\nlines" },
            "jobs": [{ "job_id": "j1", "status": "completed" }, { "job_id": "j|2", "tags": ["x", "y"] }],
            "deep": [{ "inner": { "k": true } }],
        });
        assert_eq!(
            json_markdown(&v),
            "- **status**: ok\n- **nested**:\n  - **a**: 1\n  - **text**: two\n    lines\n- **jobs** (2):\n  \
             | job_id | status | tags |\n  |---|---|---|\n  | j1 | completed |  |\n  | j\\|2 |  | x, y |\n\
             - **deep** (1):\n  - 1.\n    - **inner**:\n      - **k**: true\n"
        );
        assert_eq!(json_markdown(&json!({})), "(empty result)\n");
        assert_eq!(json_markdown(&json!([1, "a"])), "- 1\n- a\n");
    }

    #[test]
    fn the_result_markdown_wins_over_the_generic_view() {
        assert_eq!(render_text(&json!({ "markdown": "# md", "x": 1 })), "# md");
        assert_eq!(render_text(&json!({ "summary": { "text": "S" }, "markdown": "# md" })), "S");
        assert_eq!(render_text(&json!({ "report_markdown": "R" })), "R");
    }

    #[test]
    fn long_texts_are_cut_at_a_section_with_the_call_that_gets_the_rest() {
        let text: String =
            (0..400).map(|i| format!("### Article {i}\nPMID {}\n\nSome text.\n", 1000 + i)).collect();
        let out = bound(text.clone(), 4_000, "pubmed_search", &json!({ "query": "x" }));
        assert!(out.len() <= 4_000 + 200, "{}", out.len());
        let kept = out.split("\n\n---\n").next().unwrap();
        assert!(kept.ends_with("Some text."), "cut at a boundary: {kept:?}");
        assert!(out.contains("**Cut here to stay under 4 KB**"), "{out}");
        assert!(out.contains("`pubmed_fetch {\"pmids\": [\""), "{out}");
        assert!(out.contains("PMID 1000") && out.contains("1399"), "{out}");
        let plain = bound("line\n".repeat(2_000), 1_000, "job_list", &json!({ "limit": 50 }));
        assert!(plain.contains("`job_list {\"limit\":50}`") && plain.len() < 1_500, "{plain}");
        assert_eq!(bound("short".into(), 1_000, "t", &Value::Null), "short");
    }
}
