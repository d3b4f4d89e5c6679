//! The markdown of a mutation's trials: counts by phase and status, the matches with NCT id, title, phase,
//! status, evidence sentence and the sites near the place asked, then the excluded ones. No LLM involved.
//! Concise (default): the top matches and one evidence sentence each; detailed: every match and sentence.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::mutation::matching::{MutationTrials, TrialMatch};
use crate::render::ResponseFormat;
use crate::trials::render::{cut, near_line, phase_label, plural, status_label};

const TOP_MATCHES: usize = 10;
const TOP_EXCLUDED: usize = 5;
const TITLE_CHARS: usize = 100;
const SENTENCE_CHARS: usize = 220;

/// `2 PHASE2, 1 PHASE1/PHASE2; 1 trial has no phase`: numbers first, so that no count reads as a phase.
fn by_phase(matches: &[TrialMatch]) -> String {
    let mut map: BTreeMap<String, usize> = BTreeMap::new();
    let mut none = 0;
    for m in matches {
        if m.trial.phases.is_empty() {
            none += 1;
        } else {
            *map.entry(phase_label(&m.trial)).or_default() += 1;
        }
    }
    let mut parts: Vec<String> = map.into_iter().map(|(k, n)| format!("{n} {k}")).collect();
    if none > 0 {
        parts.push(format!(
            "{} no phase",
            if none == 1 { "1 trial has".to_owned() } else { format!("{none} trials have") }
        ));
    }
    parts.join(", ")
}

/// `1 RECRUITING, 1 ACTIVE_NOT_RECRUITING`.
fn by_status(matches: &[TrialMatch]) -> String {
    let mut map: BTreeMap<&str, usize> = BTreeMap::new();
    for m in matches {
        *map.entry(status_label(&m.trial)).or_default() += 1;
    }
    map.into_iter().map(|(k, n)| format!("{n} {k}")).collect::<Vec<_>>().join(", ")
}

fn line(m: &TrialMatch, format: ResponseFormat) -> String {
    let title = m.trial.brief_title.as_deref().unwrap_or("(no title)");
    let title = if format.is_detailed() { title.to_owned() } else { cut(title, TITLE_CHARS) };
    let mut out =
        format!("**{}** {title} ({} · {})", m.trial.nct_id, phase_label(&m.trial), status_label(&m.trial));
    let shown = if format.is_detailed() { m.evidence.len() } else { 1 };
    for e in m.evidence.iter().take(shown) {
        let sentence =
            if format.is_detailed() { e.sentence.clone() } else { cut(&e.sentence, SENTENCE_CHARS) };
        let _ = write!(out, " — {}: “{sentence}”", e.section.as_str());
    }
    if format.is_detailed() {
        let mut facts: Vec<String> = Vec::new();
        if !m.trial.conditions.is_empty() {
            facts.push(format!("conditions: {}", m.trial.conditions.join("; ")));
        }
        facts.extend(m.trial.sponsor.as_ref().map(|s| format!("sponsor: {s}")));
        facts.push(format!("score {}", m.score));
        let _ = write!(out, "\n   {}", facts.join(" · "));
    }
    out.push('\n');
    out.push_str(&near_line(&m.trial, format, "   "));
    out
}

/// The markdown of one mutation's result.
pub(crate) fn markdown(r: &MutationTrials, format: ResponseFormat) -> String {
    let detailed = format.is_detailed();
    let (top_matches, top_excluded) =
        if detailed { (usize::MAX, usize::MAX) } else { (TOP_MATCHES, TOP_EXCLUDED) };
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
        let _ =
            writeln!(out, "\nBy phase: {}. By status: {}.\n", by_phase(&r.matches), by_status(&r.matches));
        for (i, m) in r.matches.iter().take(top_matches).enumerate() {
            let _ = write!(out, "{}. {}", i + 1, line(m, format));
        }
        if r.matches.len() > top_matches {
            let _ = writeln!(out, "… and {} more in `matches`.", r.matches.len() - top_matches);
        }
    }
    if !r.excluded.is_empty() {
        let _ = writeln!(out, "\nExcluded (they name it only to keep its carriers out):\n");
        for m in r.excluded.iter().take(top_excluded) {
            let _ = write!(out, "- {}", line(m, format));
        }
        if r.excluded.len() > top_excluded {
            let _ = writeln!(out, "- … and {} more in `excluded`.", r.excluded.len() - top_excluded);
        }
    }
    for t in &r.truncated {
        let _ = writeln!(out, "\nNote ({}): {}", t.field, t.hint);
    }
    if detailed {
        if !r.unconfirmed.is_empty() {
            let _ = writeln!(out, "\nCandidates whose text does not name it: {}.", r.unconfirmed.join(", "));
        }
        for w in &r.warnings {
            let _ = writeln!(out, "\nWarning: {w}");
        }
        let _ = writeln!(out, "\nQuery: `{}`", r.query);
    } else if !r.warnings.is_empty() {
        let _ = writeln!(
            out,
            "\n{} judged on their search summary only (see `warnings`).",
            plural(r.warnings.len(), "candidate was", "candidates were")
        );
    }
    let _ = write!(out, "\nOne trial in full: trial_get with its nct_id.");
    if !detailed {
        let _ = write!(out, " Every match and evidence sentence: response_format \"detailed\".");
    }
    out.trim_end().to_owned()
}
