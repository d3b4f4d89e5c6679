//! coverage.py's JSON report (`pytest --cov --cov-report=json:<path>`) into total and per-file percent.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::{Coverage, FileCoverage, TestingError};

#[derive(Deserialize)]
struct Report {
    #[serde(default)]
    files: BTreeMap<String, FileEntry>,
    totals: Summary,
}

#[derive(Deserialize)]
struct FileEntry {
    summary: Summary,
    #[serde(default)]
    missing_lines: Vec<u64>,
}

#[derive(Deserialize)]
struct Summary {
    covered_lines: u64,
    num_statements: u64,
    percent_covered: f64,
}

/// Parses coverage.py's JSON report. Files come lowest coverage first.
pub fn parse_coverage_json(json: &[u8]) -> Result<Coverage, TestingError> {
    let report: Report = serde_json::from_slice(json)
        .map_err(|e| TestingError::parse("coverage JSON report", e.to_string()))?;
    let mut files: Vec<FileCoverage> = report
        .files
        .into_iter()
        .map(|(file, entry)| FileCoverage {
            file,
            percent: round2(entry.summary.percent_covered),
            covered_lines: entry.summary.covered_lines,
            num_statements: entry.summary.num_statements,
            missing_lines: entry.missing_lines,
        })
        .collect();
    files.sort_by(|a, b| a.percent.total_cmp(&b.percent).then_with(|| a.file.cmp(&b.file)));
    Ok(Coverage {
        total_percent: round2(report.totals.percent_covered),
        covered_lines: report.totals.covered_lines,
        num_statements: report.totals.num_statements,
        files,
    })
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_totals_and_files_from_a_real_report() {
        let c = parse_coverage_json(include_bytes!("../../testdata/coverage.json")).expect("parse");
        let raw: serde_json::Value =
            serde_json::from_slice(include_bytes!("../../testdata/coverage.json")).expect("json");
        assert_eq!(c.num_statements, raw["totals"]["num_statements"].as_u64().expect("n"));
        assert_eq!(c.covered_lines, raw["totals"]["covered_lines"].as_u64().expect("n"));
        let pct = raw["totals"]["percent_covered"].as_f64().expect("pct");
        assert!((c.total_percent - pct).abs() < 0.01);
        assert_eq!(c.files.len(), raw["files"].as_object().expect("files").len());
        let calc = c.files.iter().find(|f| f.file == "calc/__init__.py").expect("calc");
        assert!(calc.percent < 100.0);
        assert!(!calc.missing_lines.is_empty());
        assert!(c.files.windows(2).all(|w| w[0].percent <= w[1].percent));
    }

    #[test]
    fn refuses_garbage() {
        assert!(parse_coverage_json(b"{}").is_err());
    }
}
