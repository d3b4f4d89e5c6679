//! The compact markdown summary of a mutation's trials: counts by phase and status, the top matches with
//! NCT id, title, phase, status and evidence sentence, then the excluded ones. No LLM involved.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::mutation::matching::{MutationTrials, TrialMatch};

const TOP_MATCHES: usize = 10;
const TOP_EXCLUDED: usize = 5;
const TITLE_CHARS: usize = 100;
const SENTENCE_CHARS: usize = 220;

fn cut(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let mut out: String = text.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

fn phase_label(m: &TrialMatch) -> String {
    if m.trial.phases.is_empty() { "no phase".to_owned() } else { m.trial.phases.join("/") }
}

fn status_label(m: &TrialMatch) -> String {
    m.trial.overall_status.clone().unwrap_or_else(|| "status unknown".to_owned())
}

fn counts(matches: &[TrialMatch], key: impl Fn(&TrialMatch) -> String) -> String {
    let mut map: BTreeMap<String, usize> = BTreeMap::new();
    for m in matches {
        *map.entry(key(m)).or_default() += 1;
    }
    map.into_iter().map(|(k, n)| format!("{k} {n}")).collect::<Vec<_>>().join(", ")
}

fn line(m: &TrialMatch) -> String {
    let title = m.trial.brief_title.as_deref().unwrap_or("(no title)");
    let mut out = format!(
        "**{}** {} ({} · {})",
        m.trial.nct_id,
        cut(title, TITLE_CHARS),
        phase_label(m),
        status_label(m)
    );
    if let Some(e) = m.evidence.first() {
        let _ = write!(out, " — {}: “{}”", e.section.as_str(), cut(&e.sentence, SENTENCE_CHARS));
    }
    out
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// The summary of one mutation's result.
pub(crate) fn markdown(r: &MutationTrials) -> String {
    let mut out = String::new();
    let of = r
        .total_available
        .filter(|t| *t > u64::from(r.total_candidates))
        .map(|t| format!(" of {t} found"))
        .unwrap_or_default();
    let _ = writeln!(
        out,
        "### {}: {}, {} excluded ({} examined{of})",
        r.mutation.label,
        plural(r.matches.len(), "matching trial", "matching trials"),
        r.excluded.len(),
        plural(r.total_candidates as usize, "candidate", "candidates"),
    );
    if r.matches.is_empty() {
        let _ = writeln!(out, "\nNo candidate names {} as eligible.", r.mutation.label);
    } else {
        let _ = writeln!(
            out,
            "\nBy phase: {}. By status: {}.\n",
            counts(&r.matches, phase_label),
            counts(&r.matches, status_label)
        );
        for (i, m) in r.matches.iter().take(TOP_MATCHES).enumerate() {
            let _ = writeln!(out, "{}. {}", i + 1, line(m));
        }
        if r.matches.len() > TOP_MATCHES {
            let _ = writeln!(out, "… and {} more in `matches`.", r.matches.len() - TOP_MATCHES);
        }
    }
    if !r.excluded.is_empty() {
        let _ = writeln!(out, "\nExcluded (they name it only to keep its carriers out):\n");
        for m in r.excluded.iter().take(TOP_EXCLUDED) {
            let _ = writeln!(out, "- {}", line(m));
        }
        if r.excluded.len() > TOP_EXCLUDED {
            let _ = writeln!(out, "- … and {} more in `excluded`.", r.excluded.len() - TOP_EXCLUDED);
        }
    }
    for t in &r.truncated {
        let _ = writeln!(out, "\nNote ({}): {}", t.field, t.hint);
    }
    if !r.warnings.is_empty() {
        let _ = writeln!(
            out,
            "\n{} judged on their search summary only (see `warnings`).",
            plural(r.warnings.len(), "candidate was", "candidates were")
        );
    }
    out.trim_end().to_owned()
}
