//! Trials as markdown for a model to read: one study (`Trial::markdown`) and a search
//! (`TrialSearchResult::markdown`), concise by default (identifiers, status, phase, the key criteria, the
//! nearest sites, and the call that gets the rest) or detailed (everything the result holds).

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::render::ResponseFormat;
use crate::trials::model::{Location, Trial, TrialSearchResult};

/// Characters of a title in a list line.
const TITLE_CHARS: usize = 120;
/// Characters of one criterion in concise text.
const CRITERION_CHARS: usize = 160;
/// Criteria shown in concise text: inclusion, exclusion, unlabelled.
const KEY_INCLUSION: usize = 5;
const KEY_EXCLUSION: usize = 3;
/// Sites shown per study in concise text.
const KEY_SITES: usize = 3;
/// Interventions shown in concise text.
const KEY_INTERVENTIONS: usize = 5;

/// `text` cut to `max` characters, with `…` when cut.
pub(crate) fn cut(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let mut out: String = text.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// `PHASE1/PHASE2`, or `no phase`.
pub(crate) fn phase_label(trial: &Trial) -> String {
    if trial.phases.is_empty() { "no phase".to_owned() } else { trial.phases.join("/") }
}

/// The overall status, or `status unknown`.
pub(crate) fn status_label(trial: &Trial) -> &str {
    trial.overall_status.as_deref().unwrap_or("status unknown")
}

/// `3 trials`, `1 trial`.
pub(crate) fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// `Facility, City, State, Country · STATUS · 4.7 km`.
pub(crate) fn site_line(site: &Location) -> String {
    let place: Vec<&str> = [&site.facility, &site.city, &site.state, &site.country]
        .into_iter()
        .flatten()
        .map(String::as_str)
        .collect();
    let mut line = if place.is_empty() { "(unnamed site)".to_owned() } else { place.join(", ") };
    if let Some(status) = &site.status {
        let _ = write!(line, " · {status}");
    }
    if let Some(km) = site.distance_km {
        let _ = write!(line, " · {km} km");
    }
    line
}

/// How many sites were left out of `locations` (by the place or the caps).
fn sites_omitted(trial: &Trial) -> u64 {
    trial.truncated.iter().filter(|t| t.field == "locations").map(|t| t.omitted).sum()
}

/// The sites near the asked place under a list entry: `   Near Boston: site; site (+2 more)`, or nothing
/// when no place was asked.
pub(crate) fn near_line(trial: &Trial, format: ResponseFormat, indent: &str) -> String {
    let Some(place) = &trial.locations_near else { return String::new() };
    if trial.locations.is_empty() {
        return format!("{indent}No site near {place} is listed.\n");
    }
    let shown = if format.is_detailed() { trial.locations.len() } else { KEY_SITES };
    let sites: Vec<String> = trial.locations.iter().take(shown).map(site_line).collect();
    let more = trial.locations.len().saturating_sub(shown);
    let more = if more > 0 { format!(" (+{more} more near)") } else { String::new() };
    format!("{indent}Near {place}: {}{more}\n", sites.join("; "))
}

/// `12 sites: United States 10, China 2` (sites anywhere).
fn sites_by_country(trial: &Trial) -> String {
    let mut by: BTreeMap<&str, usize> = BTreeMap::new();
    for site in &trial.locations {
        *by.entry(site.country.as_deref().unwrap_or("country unknown")).or_default() += 1;
    }
    let total = trial.locations.len() as u64 + sites_omitted(trial);
    let mut countries: Vec<(&str, usize)> = by.into_iter().collect();
    countries.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    let list: Vec<String> = countries.iter().take(5).map(|(c, n)| format!("{c} {n}")).collect();
    let shown = if sites_omitted(trial) > 0 { " (of those listed)" } else { "" };
    format!("{}: {}{shown}", plural(total as usize, "site", "sites"), list.join(", "))
}

fn list(out: &mut String, title: &str, items: &[String], max: Option<usize>, chars: Option<usize>) {
    if items.is_empty() {
        return;
    }
    let shown = max.unwrap_or(items.len()).min(items.len());
    let of = if shown < items.len() { format!(" ({shown} of {})", items.len()) } else { String::new() };
    let _ = writeln!(out, "{title}{of}:");
    for item in items.iter().take(shown) {
        let item = item.replace('\n', "\n  ");
        let item = chars.map_or(item.clone(), |c| cut(&item, c));
        let _ = writeln!(out, "- {item}");
    }
}

impl Trial {
    /// The study as markdown. Concise: NCT id, title, status, phase, conditions, interventions, sponsor,
    /// the first criteria, the nearest sites, and the call that gets the rest. Detailed: every part held.
    pub fn markdown(&self, format: ResponseFormat) -> String {
        let detailed = format.is_detailed();
        let mut out = String::new();
        let title = self.brief_title.as_deref().unwrap_or("(no title)");
        let _ = writeln!(out, "### {}: {title}", self.nct_id);
        if detailed && let Some(official) = &self.official_title {
            let _ = writeln!(out, "{official}");
        }
        let mut facts = vec![status_label(self).to_owned(), phase_label(self)];
        facts.extend(self.study_type.as_deref().map(str::to_lowercase));
        facts.extend(self.enrollment.map(|n| format!("{n} participants")));
        if let Some(sponsor) = &self.sponsor {
            facts.push(format!("sponsor {sponsor}"));
        }
        let _ = writeln!(out, "{}", facts.join(" · "));
        if detailed {
            let _ = writeln!(out, "{}", self.url);
            let dates: Vec<String> = [
                ("start", &self.start_date),
                ("primary completion", &self.primary_completion_date),
                ("completion", &self.completion_date),
                ("first posted", &self.first_posted),
                ("last update", &self.last_updated),
            ]
            .iter()
            .filter_map(|(label, d)| d.as_ref().map(|d| format!("{label} {d}")))
            .collect();
            if !dates.is_empty() {
                let _ = writeln!(out, "Dates: {}", dates.join(" · "));
            }
            if self.sponsor_class.is_some() || !self.collaborators.is_empty() {
                let mut line =
                    format!("Sponsor class: {}", self.sponsor_class.as_deref().unwrap_or("unknown"));
                if !self.collaborators.is_empty() {
                    let _ = write!(line, "; collaborators: {}", self.collaborators.join(", "));
                }
                let _ = writeln!(out, "{line}");
            }
        }
        if !self.conditions.is_empty() {
            let _ = writeln!(out, "Conditions: {}", self.conditions.join("; "));
        }
        if detailed && !self.keywords.is_empty() {
            let _ = writeln!(out, "Keywords: {}", self.keywords.join("; "));
        }
        let shown = if detailed { self.interventions.len() } else { KEY_INTERVENTIONS };
        let interventions: Vec<String> = self
            .interventions
            .iter()
            .take(shown)
            .map(|i| {
                let mut s = match &i.kind {
                    Some(kind) => format!("{kind}: {}", i.name),
                    None => i.name.clone(),
                };
                if detailed && !i.other_names.is_empty() {
                    let _ = write!(s, " ({})", i.other_names.join(", "));
                }
                s
            })
            .collect();
        if !interventions.is_empty() {
            let more = self.interventions.len() - interventions.len();
            let more = if more > 0 { format!(" (+{more} more)") } else { String::new() };
            let _ = writeln!(out, "Interventions: {}{more}", interventions.join("; "));
        }
        if detailed && let Some(summary) = &self.brief_summary {
            let _ = writeln!(out, "\n{summary}\n");
        }
        if detailed {
            let arms: Vec<String> = self
                .arms
                .iter()
                .map(|a| {
                    let mut s = a.label.clone();
                    if let Some(kind) = &a.kind {
                        let _ = write!(s, " [{kind}]");
                    }
                    if !a.interventions.is_empty() {
                        let _ = write!(s, ": {}", a.interventions.join(", "));
                    }
                    if let Some(d) = &a.description {
                        let _ = write!(s, ". {d}");
                    }
                    s
                })
                .collect();
            list(&mut out, "Arms", &arms, None, None);
        }
        let mut left: Vec<String> = Vec::new();
        if let Some(e) = &self.eligibility {
            let mut who: Vec<String> = Vec::new();
            who.extend(
                e.sex.as_deref().map(|s| if s == "ALL" { "all sexes".to_owned() } else { s.to_lowercase() }),
            );
            match (&e.minimum_age, &e.maximum_age) {
                (Some(min), Some(max)) => who.push(format!("{min} to {max}")),
                (Some(min), None) => who.push(format!("{min} and older")),
                (None, Some(max)) => who.push(format!("up to {max}")),
                (None, None) => {}
            }
            if e.healthy_volunteers == Some(true) {
                who.push("healthy volunteers accepted".to_owned());
            }
            if !who.is_empty() {
                let _ = writeln!(out, "Who: {}", who.join(", "));
            }
            let (inc, exc, other, chars) = if detailed {
                (None, None, None, None)
            } else {
                (Some(KEY_INCLUSION), Some(KEY_EXCLUSION), Some(KEY_EXCLUSION), Some(CRITERION_CHARS))
            };
            list(&mut out, "Inclusion", &e.inclusion, inc, chars);
            list(&mut out, "Exclusion", &e.exclusion, exc, chars);
            list(&mut out, "Criteria", &e.unlabelled, other, chars);
            if detailed
                && e.inclusion.is_empty()
                && e.exclusion.is_empty()
                && e.unlabelled.is_empty()
                && let Some(text) = &e.criteria
            {
                let _ = writeln!(out, "Criteria:\n{text}");
            }
            let more = |items: &Vec<String>, max: usize| items.len().saturating_sub(max);
            let hidden = more(&e.inclusion, KEY_INCLUSION)
                + more(&e.exclusion, KEY_EXCLUSION)
                + more(&e.unlabelled, KEY_EXCLUSION);
            if !detailed && hidden > 0 {
                left.push(plural(hidden, "more criterion", "more criteria"));
            }
        }
        if detailed {
            let outcomes: Vec<String> = self
                .outcomes
                .iter()
                .map(|o| {
                    let kind = match o.kind {
                        crate::trials::OutcomeKind::Primary => "primary",
                        crate::trials::OutcomeKind::Secondary => "secondary",
                        crate::trials::OutcomeKind::Other => "other",
                    };
                    match &o.time_frame {
                        Some(tf) => format!("[{kind}] {} ({tf})", o.measure),
                        None => format!("[{kind}] {}", o.measure),
                    }
                })
                .collect();
            list(&mut out, "Outcomes", &outcomes, None, None);
        }
        match &self.locations_near {
            Some(place) => {
                let shown = if detailed { self.locations.len() } else { KEY_SITES.min(self.locations.len()) };
                if self.locations.is_empty() {
                    let _ = writeln!(out, "No site near {place}.");
                } else {
                    let sites: Vec<String> = self.locations.iter().take(shown).map(site_line).collect();
                    let _ =
                        writeln!(out, "Sites near {place} ({} of {} listed):", shown, self.locations.len());
                    for s in sites {
                        let _ = writeln!(out, "- {s}");
                    }
                }
            }
            None if !self.locations.is_empty() => {
                if detailed {
                    let sites: Vec<String> = self.locations.iter().map(site_line).collect();
                    list(&mut out, "Sites", &sites, None, None);
                } else {
                    let _ = writeln!(out, "{}", sites_by_country(self));
                }
            }
            None => {}
        }
        if detailed {
            for t in &self.truncated {
                let _ = writeln!(out, "Note ({}): {}", t.field, t.hint);
            }
        } else {
            if self.brief_summary.is_some() {
                left.insert(0, "summary".to_owned());
            }
            for (name, present) in [
                ("arms", !self.arms.is_empty()),
                ("outcomes", !self.outcomes.is_empty()),
                ("dates", self.start_date.is_some()),
            ] {
                if present {
                    left.push(name.to_owned());
                }
            }
            let sites = match &self.locations_near {
                Some(_) => self.locations.len().saturating_sub(KEY_SITES),
                None => self.locations.len(),
            };
            if sites > 0 {
                left.push(plural(sites, "site", "sites"));
            }
            if !left.is_empty() {
                let _ = writeln!(
                    out,
                    "Not shown: {}. Call trial_get with nct_id \"{}\" and response_format \"detailed\".",
                    left.join(", "),
                    self.nct_id
                );
            }
            for t in self.truncated.iter().filter(|t| t.field == "locations") {
                let _ = writeln!(out, "Note: {}", t.hint);
            }
        }
        out.trim_end().to_owned()
    }
}

impl TrialSearchResult {
    /// The search as markdown: the count, one line per study (NCT id, title, phase, status, sponsor) with
    /// the sites near the place asked, and how to continue. Detailed adds conditions, interventions,
    /// enrollment, dates and summary.
    pub fn markdown(&self, format: ResponseFormat) -> String {
        let detailed = format.is_detailed();
        let mut out = String::new();
        let of = self.total_count.map(|t| format!(" of {t} found")).unwrap_or_default();
        let _ = writeln!(out, "### {}{of}\n", plural(self.trials.len(), "study", "studies"));
        for (i, t) in self.trials.iter().enumerate() {
            let title = t.brief_title.as_deref().unwrap_or("(no title)");
            let title = if detailed { title.to_owned() } else { cut(title, TITLE_CHARS) };
            let mut line =
                format!("{}. **{}** {title} ({} · {})", i + 1, t.nct_id, phase_label(t), status_label(t));
            if let Some(sponsor) = &t.sponsor {
                let _ = write!(line, " — {sponsor}");
            }
            let _ = writeln!(out, "{line}");
            if detailed {
                let mut facts: Vec<String> = Vec::new();
                if !t.conditions.is_empty() {
                    facts.push(format!("conditions: {}", t.conditions.join("; ")));
                }
                if !t.interventions.is_empty() {
                    let names: Vec<&str> = t.interventions.iter().map(|i| i.name.as_str()).collect();
                    facts.push(format!("interventions: {}", names.join("; ")));
                }
                facts.extend(t.enrollment.map(|n| format!("{n} participants")));
                facts.extend(t.start_date.as_ref().map(|d| format!("start {d}")));
                facts.extend(t.completion_date.as_ref().map(|d| format!("completion {d}")));
                if !facts.is_empty() {
                    let _ = writeln!(out, "   {}", facts.join(" · "));
                }
                if let Some(summary) = &t.brief_summary {
                    let _ = writeln!(out, "   {}", summary.replace('\n', " "));
                }
            }
            out.push_str(&near_line(t, format, "   "));
        }
        out.push('\n');
        if let Some(token) = &self.next_page_token {
            let _ = writeln!(
                out,
                "More: call trials_search again with the same arguments and page_token \"{token}\"."
            );
        }
        let _ = write!(out, "One study in full: trial_get with its nct_id.");
        if !detailed {
            let _ =
                write!(out, " Conditions, interventions and summaries here: response_format \"detailed\".");
        }
        out.trim_end().to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trials::model::{Eligibility, Intervention};

    fn trial() -> Trial {
        Trial {
            nct_id: "NCT00000001".into(),
            brief_title: Some("A study".into()),
            overall_status: Some("RECRUITING".into()),
            phases: vec!["PHASE1".into(), "PHASE2".into()],
            conditions: vec!["NSCLC".into()],
            interventions: vec![Intervention {
                kind: Some("DRUG".into()),
                name: "osimertinib".into(),
                ..Intervention::default()
            }],
            sponsor: Some("Acme".into()),
            eligibility: Some(Eligibility {
                inclusion: (1..=7).map(|i| format!("criterion {i}")).collect(),
                sex: Some("ALL".into()),
                minimum_age: Some("18 Years".into()),
                ..Eligibility::default()
            }),
            locations: vec![
                Location {
                    city: Some("Boston".into()),
                    country: Some("United States".into()),
                    ..Location::default()
                },
                Location { city: Some("Lyon".into()), country: Some("France".into()), ..Location::default() },
            ],
            url: "https://clinicaltrials.gov/study/NCT00000001".into(),
            ..Trial::default()
        }
    }

    #[test]
    fn concise_shows_the_key_facts_and_the_call_for_the_rest() {
        let md = trial().markdown(ResponseFormat::Concise);
        assert_eq!(
            md,
            "### NCT00000001: A study
RECRUITING · PHASE1/PHASE2 · sponsor Acme
Conditions: NSCLC
Interventions: DRUG: osimertinib
Who: all sexes, 18 Years and older
Inclusion (5 of 7):
- criterion 1
- criterion 2
- criterion 3
- criterion 4
- criterion 5
2 sites: France 1, United States 1
Not shown: 2 more criteria, 2 sites. Call trial_get with nct_id \"NCT00000001\" and response_format \"detailed\"."
        );
        let detailed = trial().markdown(ResponseFormat::Detailed);
        assert!(
            detailed.contains("- criterion 7") && detailed.contains("- Boston, United States"),
            "{detailed}"
        );
        assert!(!detailed.contains("Not shown"), "{detailed}");
    }
}
