//! Python linters and type checkers: mypy (`-O json` lines, or its line format), ruff
//! (`--output-format json`) and flake8 (default format).

use std::sync::LazyLock;

use regex::Regex;
use serde::Deserialize;

use super::lines_of;
use crate::{Diagnostic, Severity, TestingError};

#[derive(Deserialize)]
struct MypyJson {
    file: String,
    line: i64,
    column: i64,
    message: String,
    #[serde(default)]
    hint: Option<String>,
    #[serde(default)]
    code: Option<String>,
    severity: String,
}

static MYPY_LINE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"^(?P<file>[^:\n]+):(?P<line>\d+)(?::(?P<col>\d+))?(?::\d+:\d+)?: (?P<sev>error|warning|note): (?P<msg>.*?)(?:  \[(?P<code>[a-z0-9-]+)\])?$",
    )
    .expect("static regex")
});

/// Parses mypy's output in either form: JSON lines (`-O json`, columns 0-based) or the line
/// format (`file:line:col: severity: message  [code]`). Other lines (the summary) are skipped.
pub fn parse_mypy(output: &[u8]) -> Result<Vec<Diagnostic>, TestingError> {
    Ok(lines_of(output).filter_map(|l| parse_mypy_line(&l)).collect())
}

/// One line of mypy output, in either form.
pub fn parse_mypy_line(line: &str) -> Option<Diagnostic> {
    if line.starts_with('{') {
        let m: MypyJson = serde_json::from_str(line).ok()?;
        return Some(Diagnostic {
            severity: severity_word(&m.severity),
            code: m.code,
            message: m.message,
            file: Some(m.file),
            line: u32::try_from(m.line).ok().filter(|l| *l > 0),
            // mypy's JSON columns are 0-based; its text columns are 1-based.
            column: u32::try_from(m.column + 1).ok().filter(|c| *c > 0),
            hint: m.hint,
        });
    }
    let caps = MYPY_LINE.captures(line)?;
    Some(Diagnostic {
        severity: severity_word(&caps["sev"]),
        code: caps.name("code").map(|c| c.as_str().to_string()),
        message: caps["msg"].to_string(),
        file: Some(caps["file"].to_string()),
        line: caps["line"].parse().ok(),
        column: caps.name("col").and_then(|c| c.as_str().parse().ok()),
        hint: None,
    })
}

fn severity_word(word: &str) -> Severity {
    match word {
        "error" | "fatal" => Severity::Error,
        "warning" => Severity::Warning,
        _ => Severity::Note,
    }
}

#[derive(Deserialize)]
struct RuffJson {
    #[serde(default)]
    code: Option<String>,
    message: String,
    filename: String,
    #[serde(default)]
    location: Option<RuffLocation>,
    #[serde(default)]
    url: Option<String>,
    #[serde(default)]
    severity: Option<String>,
}

#[derive(Deserialize)]
struct RuffLocation {
    row: u32,
    column: u32,
}

/// Parses `ruff check --output-format json` (a JSON array). File names are as ruff wrote them
/// (absolute); a violation without a code is a syntax error.
pub fn parse_ruff(output: &[u8]) -> Result<Vec<Diagnostic>, TestingError> {
    let text = String::from_utf8_lossy(output);
    let text = text.trim();
    if text.is_empty() {
        return Ok(Vec::new());
    }
    let items: Vec<RuffJson> =
        serde_json::from_str(text).map_err(|e| TestingError::parse("ruff JSON output", e.to_string()))?;
    Ok(items
        .into_iter()
        .map(|r| {
            let severity = match (r.severity.as_deref(), r.code.is_some()) {
                (Some(word), _) => severity_word(word),
                (None, false) => Severity::Error,
                (None, true) => Severity::Warning,
            };
            Diagnostic {
                severity,
                code: r.code,
                message: r.message,
                file: Some(r.filename),
                line: r.location.as_ref().map(|l| l.row),
                column: r.location.as_ref().map(|l| l.column),
                hint: r.url,
            }
        })
        .collect())
}

static FLAKE8_LINE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(?P<file>.+?):(?P<line>\d+):(?P<col>\d+): (?P<code>[A-Z]+[0-9]+) (?P<msg>.*)$")
        .expect("static regex")
});

/// Parses flake8's default format (`path:row:col: CODE message`).
pub fn parse_flake8(output: &[u8]) -> Result<Vec<Diagnostic>, TestingError> {
    Ok(lines_of(output).filter_map(|l| parse_flake8_line(&l)).collect())
}

/// One line of flake8 output. Syntax errors and undefined names (E9, F63, F7, F82) are errors;
/// the rest are warnings.
pub fn parse_flake8_line(line: &str) -> Option<Diagnostic> {
    let caps = FLAKE8_LINE.captures(line)?;
    let code = caps["code"].to_string();
    let severity = if ["E9", "F63", "F7", "F82"].iter().any(|p| code.starts_with(p)) {
        Severity::Error
    } else {
        Severity::Warning
    };
    let file = caps["file"].trim_start_matches("./").to_string();
    Some(Diagnostic {
        severity,
        code: Some(code),
        message: caps["msg"].to_string(),
        file: Some(file),
        line: caps["line"].parse().ok(),
        column: caps["col"].parse().ok(),
        hint: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mypy_json_and_text_agree() {
        let json = parse_mypy(include_bytes!("../../testdata/mypy.json")).expect("json");
        let text = parse_mypy(include_bytes!("../../testdata/mypy.txt")).expect("text");
        assert_eq!(json.len(), 2);
        assert_eq!(json, text);
        assert_eq!(json[0].code.as_deref(), Some("return-value"));
        assert_eq!(
            (json[0].file.as_deref(), json[0].line, json[0].column),
            (Some("calc/__init__.py"), Some(15), Some(12))
        );
        assert_eq!(json[0].severity, Severity::Error);
    }

    #[test]
    fn mypy_notes_without_columns() {
        let d = parse_mypy_line("pkg/a.py:3: note: See https://mypy.rtfd.io").expect("line");
        assert_eq!(d.severity, Severity::Note);
        assert_eq!(d.column, None);
        assert_eq!(d.code, None);
    }

    #[test]
    fn ruff_json() {
        let d = parse_ruff(include_bytes!("../../testdata/ruff.json")).expect("parse");
        let codes: Vec<_> = d.iter().filter_map(|d| d.code.as_deref()).collect();
        assert_eq!(codes, ["F401", "E711"]);
        assert!(d[0].file.as_deref().is_some_and(|f| f.ends_with("calc/__init__.py")));
        assert_eq!((d[0].line, d[0].column), (Some(2), Some(8)));
        assert!(parse_ruff(b"[]").expect("empty").is_empty());
        assert!(parse_ruff(b"not json").is_err());
    }

    #[test]
    fn flake8_default_format() {
        let d = parse_flake8(include_bytes!("../../testdata/flake8.txt")).expect("parse");
        let codes: Vec<_> = d.iter().filter_map(|d| d.code.as_deref()).collect();
        assert_eq!(codes, ["F401", "E711", "E302"]);
        assert_eq!(d[0].file.as_deref(), Some("calc/__init__.py"));
        assert!(d.iter().all(|d| d.severity == Severity::Warning));
        let syntax = parse_flake8_line("x.py:1:2: E999 SyntaxError: invalid syntax").expect("line");
        assert_eq!(syntax.severity, Severity::Error);
    }
}
