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

/// A result's text: the markdown the tool's result carries (`format::Shown`, see `format::CarriesMarkdown`),
/// else [`json_markdown`] of the value.
pub fn render_text(value: &Value) -> String {
    match value.get(MARKDOWN_KEY).and_then(Value::as_str) {
        Some(s) => s.to_owned(),
        None => json_markdown(value),
    }
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
    // Room for the note: its fixed words plus as many PMIDs as fit (200 at most).
    let reserve = (max / 2).min(3_000);
    let budget = max - reserve;
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
    let mut room = reserve.saturating_sub(700);
    let listed = pmids
        .iter()
        .take(200)
        .take_while(|p| {
            let fits = p.len() + 3 <= room;
            room = room.saturating_sub(p.len() + 3);
            fits
        })
        .count();
    if listed > 0 {
        let list = Value::from(pmids[..listed].iter().map(|p| Value::from(p.as_str())).collect::<Vec<_>>());
        let _ = write!(
            out,
            " The {} articles left out (PMIDs {}): `pubmed_fetch {{\"pmids\": {list}}}`{}.",
            pmids.len(),
            pmids.iter().take(10).cloned().collect::<Vec<_>>().join(", ")
                + if pmids.len() > 10 { ", …" } else { "" },
            if pmids.len() > listed {
                format!(" (the first {listed}; then the next)")
            } else {
                String::new()
            },
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
            for (k, v) in ordered(map) {
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

/// Keys that say what a thing is and where it stands come first; the rest keep their order.
const FIRST_KEYS: [&str; 6] = ["status", "id", "job_id", "name", "tool", "service"];

fn ordered(map: &serde_json::Map<String, Value>) -> Vec<(&String, &Value)> {
    let mut fields: Vec<(&String, &Value)> = map.iter().collect();
    fields.sort_by_key(|(k, _)| FIRST_KEYS.iter().position(|f| f == k).unwrap_or(FIRST_KEYS.len()));
    fields
}

/// Left out of the view: nulls, empty strings and empty objects (an empty list is shown as `none`).
fn is_empty(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::String(s) => s.is_empty(),
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
        Value::Number(n) => match n.as_f64() {
            Some(f) if n.is_f64() => short_float(f),
            _ => n.to_string(),
        },
        other => other.to_string(),
    }
}

/// A float with four significant digits at most (`0.00003098`, `12.35`, `3`).
fn short_float(f: f64) -> String {
    if !f.is_finite() || f == 0.0 {
        return f.to_string();
    }
    if f.fract() == 0.0 && f.abs() < 1e15 {
        return format!("{f:.0}");
    }
    let decimals = (3 - f.abs().log10().floor() as i32).clamp(0, 12) as usize;
    let text = format!("{f:.decimals$}");
    if text.contains('.') { text.trim_end_matches('0').trim_end_matches('.').to_owned() } else { text }
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
            for (k, v) in ordered(map) {
                field(out, indent + 2, k, v);
            }
        }
        Value::Array(items) if items.is_empty() => {
            let _ = writeln!(out, "{pad}- **{key}**: none");
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

/// A list: a table when every item is an object of scalars (or scalar lists, or objects of those one level
/// down, as `outer.inner` columns) with few columns, else items.
fn list(out: &mut String, indent: usize, items: &[Value]) {
    let pad = " ".repeat(indent);
    if let Some(rows) = table_rows(items) {
        let mut columns: Vec<&str> = Vec::new();
        for row in &rows {
            for (k, _) in row {
                if !columns.contains(&k.as_str()) {
                    columns.push(k);
                }
            }
        }
        columns.sort_by_key(|k| FIRST_KEYS.iter().position(|f| f == k).unwrap_or(FIRST_KEYS.len()));
        let _ = writeln!(out, "{pad}| {} |", columns.join(" | "));
        let _ = writeln!(out, "{pad}|{}", "---|".repeat(columns.len()));
        for row in &rows {
            let cells: Vec<String> = columns
                .iter()
                .map(|c| row.iter().find(|(k, _)| k == c).map(|(_, v)| v.clone()).unwrap_or_default())
                .map(|c| c.replace('|', "\\|").replace('\n', " "))
                .collect();
            let _ = writeln!(out, "{pad}| {} |", cells.join(" | "));
        }
        return;
    }
    for (i, item) in items.iter().enumerate() {
        match item {
            Value::Object(map) => {
                let _ = writeln!(out, "{pad}- {}.", i + 1);
                for (k, v) in ordered(map) {
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

/// One cell text per column of each item, when the items suit a table: objects whose values are scalars,
/// scalar lists or objects of scalars (`outer.inner`), at most 8 columns in all.
fn table_rows(items: &[Value]) -> Option<Vec<Vec<(String, String)>>> {
    let cell = |v: &Value| -> Option<String> {
        match v {
            Value::Array(a) if a.iter().all(is_scalar) => {
                Some(a.iter().map(scalar_text).collect::<Vec<_>>().join(", "))
            }
            Value::Array(_) | Value::Object(_) => None,
            Value::Null => Some(String::new()),
            scalar => Some(scalar_text(scalar)),
        }
    };
    let mut rows = Vec::with_capacity(items.len());
    let mut columns: Vec<String> = Vec::new();
    for item in items {
        let mut row = Vec::new();
        for (k, v) in item.as_object()? {
            match v {
                Value::Object(inner) => {
                    for (ik, iv) in inner {
                        row.push((format!("{k}.{ik}"), cell(iv)?));
                    }
                }
                other => row.push((k.clone(), cell(other)?)),
            }
        }
        row.retain(|(_, c)| !c.is_empty());
        for (k, _) in &row {
            if !columns.contains(k) {
                columns.push(k.clone());
            }
        }
        rows.push(row);
    }
    (!items.is_empty() && !columns.is_empty() && columns.len() <= 8).then_some(rows)
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
            "nested": { "a": 1.25, "b": null, "text": "two\nlines" },
            "series": [{ "labels": { "tool": "t" }, "value": 0.000030987654 }],
            "jobs": [{ "job_id": "j1", "status": "completed" }, { "job_id": "j|2", "tags": ["x", "y"] }],
            "deep": [{ "inner": { "k": true } }],
        });
        assert_eq!(
            json_markdown(&v),
            "- **status**: ok\n- **deep** (1):\n  | inner.k |\n  |---|\n  | true |\n- **empty**: none\n\
             - **jobs** (2):\n  | status | job_id | tags |\n  |---|---|---|\n  | completed | j1 |  |\n  |  | j\\|2 | x, y |\n\
             - **nested**:\n  - **a**: 1.25\n  - **text**: two\n    lines\n- **series** (1):\n  | labels.tool | value |\n\
             \x20 |---|---|\n  | t | 0.00003099 |\n"
        );
        assert_eq!(json_markdown(&json!({})), "(empty result)\n");
        assert_eq!(json_markdown(&json!([1, "a"])), "- 1\n- a\n");
    }

    #[test]
    fn the_result_markdown_wins_over_the_generic_view() {
        assert_eq!(render_text(&json!({ "markdown": "# md", "x": 1 })), "# md");
        assert_eq!(
            render_text(&json!({ "summary_markdown": "R" })),
            "- **summary_markdown**: R\n",
            "no key but one"
        );
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
        assert!(out.contains("PMID 1000") && out.contains("(the first "), "{out}");
        let plain = bound("line\n".repeat(2_000), 1_000, "job_list", &json!({ "limit": 50 }));
        assert!(plain.contains("`job_list {\"limit\":50}`") && plain.len() < 1_500, "{plain}");
        assert_eq!(bound("short".into(), 1_000, "t", &Value::Null), "short");
    }
}
