//! How full texts, citations and Europe PMC results show themselves to a model: concise (section titles
//! with their first sentences, every caption) or detailed (everything, bounded, with the call that gets
//! the rest).

use crate::fulltext::citations::{Citations, Direction};
use crate::fulltext::europepmc::EuropePmcSearch;
use crate::fulltext::model::{FullText, Section};
use crate::fulltext::sources::FullTextResult;
use crate::render::ResponseFormat;

/// The most characters of body text a detailed rendering shows before it stops at a section boundary.
pub const DETAILED_MAX_CHARS: usize = 60_000;
const CONCISE_SENTENCES: usize = 2;
const CAPTION_CHARS: usize = 300;
/// The most characters of the abstract a concise rendering shows (whole sentences; most abstracts fit).
const CONCISE_ABSTRACT_CHARS: usize = 3_000;

/// As many whole sentences of `text` as fit in `max` bytes (at least the first), with ` …` when some are left.
pub(crate) fn sentences_within(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_owned();
    }
    let mut kept = first_sentences(text, 1);
    for n in 2.. {
        let more = first_sentences(text, n);
        if more.len() > max || more.len() == kept.len() {
            break;
        }
        kept = more;
    }
    if kept.len() < text.len() { format!("{kept} …") } else { kept }
}

/// The first `n` sentences of `text` (a sentence ends at `. `, `? ` or `! ` followed by a capital).
pub(crate) fn first_sentences(text: &str, n: usize) -> String {
    let mut count = 0;
    let bytes = text.as_bytes();
    for (i, ch) in text.char_indices() {
        if matches!(ch, '.' | '?' | '!')
            && bytes.get(i + 1) == Some(&b' ')
            && text[i + 2..].chars().next().is_some_and(|c| c.is_uppercase() || c.is_ascii_digit())
        {
            // "et al. Smith", "Fig. 2": not sentence ends.
            let before = &text[..i];
            if before.ends_with(" al")
                || before.ends_with("Fig")
                || before.ends_with(" e.g")
                || before.ends_with(" i.e")
                || before.ends_with(" vs")
            {
                continue;
            }
            count += 1;
            if count == n {
                return text[..=i].to_owned();
            }
        }
    }
    text.to_owned()
}

fn clip(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let cut: String = text.chars().take(max).collect();
    format!("{}…", cut.trim_end())
}

fn id_line(a: &FullText) -> String {
    let mut parts = Vec::new();
    if let Some(p) = &a.ids.pmid {
        parts.push(format!("PMID {p}"));
    }
    if let Some(p) = &a.ids.pmcid {
        parts.push(p.clone());
    }
    if let Some(d) = &a.ids.doi {
        parts.push(format!("DOI {d}"));
    }
    let mut venue = a.journal.clone().unwrap_or_default();
    if let Some(y) = a.year() {
        venue = format!("{venue} {y}").trim().to_owned();
    }
    if !venue.is_empty() {
        parts.push(venue);
    }
    parts.join(" · ")
}

/// The call that reads the given sections of this article in full.
fn call_for(a: &FullText, sections: &[String]) -> String {
    let id = match (&a.ids.pmcid, &a.ids.pmid, &a.ids.doi) {
        (Some(p), _, _) => format!("\"pmcid\": \"{p}\""),
        (_, Some(p), _) => format!("\"pmid\": \"{p}\""),
        (_, _, Some(d)) => format!("\"doi\": \"{d}\""),
        _ => String::new(),
    };
    let list = sections.iter().map(|s| format!("{s:?}")).collect::<Vec<_>>().join(", ");
    format!("article_fulltext {{{id}, \"sections\": [{list}], \"response_format\": \"detailed\"}}")
}

fn section_concise(s: &Section, depth: usize, out: &mut String) {
    let indent = "  ".repeat(depth);
    let first = s.paragraphs.first().map(|p| first_sentences(p, CONCISE_SENTENCES)).unwrap_or_default();
    let title = if s.title.is_empty() { "(untitled)" } else { s.title.as_str() };
    let more =
        if s.paragraphs.len() > 1 { format!(" ({} paragraphs)", s.paragraphs.len()) } else { String::new() };
    if first.is_empty() {
        out.push_str(&format!("{indent}- **{title}**{more}\n"));
    } else {
        out.push_str(&format!("{indent}- **{title}**{more}: {first}\n"));
    }
    for sub in &s.sections {
        section_concise(sub, depth + 1, out);
    }
}

fn section_detailed(s: &Section, level: usize, out: &mut String) {
    if !s.title.is_empty() {
        out.push_str(&format!("{} {}\n\n", "#".repeat(level.min(6)), s.title));
    }
    for p in &s.paragraphs {
        out.push_str(p);
        out.push_str("\n\n");
    }
    for sub in &s.sections {
        section_detailed(sub, level + 1, out);
    }
}

impl FullTextResult {
    /// The result as markdown.
    pub fn markdown(&self, format: ResponseFormat) -> String {
        let a = &self.article;
        let mut out =
            format!("# {}\n\n{}\n", if a.title.is_empty() { "(untitled)" } else { &a.title }, id_line(a));
        out.push_str(&format!("Source: {}", a.source.label()));
        if let Some(l) = a.license_url.as_ref().or(a.license.as_ref()) {
            out.push_str(&format!(" · Licence: {}", clip(l, 160)));
        }
        out.push('\n');
        if !a.authors.is_empty() {
            let names: Vec<&str> = a.authors.iter().map(|x| x.name.as_str()).collect();
            let shown = if format.is_detailed() || names.len() <= 6 {
                names.join(", ")
            } else {
                format!("{}, … (+{} more)", names[..5].join(", "), names.len() - 5)
            };
            out.push_str(&format!("Authors: {shown}\n"));
        }
        if let Some(n) = &self.notice {
            out.push_str(&format!("\n**{n}**\n"));
        }
        if let Some(ab) = &a.abstract_text {
            // The abstract is the article's own summary (its results and conclusion come last): concise keeps it
            // whole unless it is unusually long.
            let text = if format.is_detailed() || !self.full_text {
                ab.clone()
            } else {
                sentences_within(ab, CONCISE_ABSTRACT_CHARS)
            };
            out.push_str(&format!("\n## Abstract\n\n{text}\n"));
        }
        if !self.all_sections.is_empty() {
            out.push_str(&format!(
                "\nSections kept by `sections`: {} of {} ({}).\n",
                a.sections.len(),
                self.all_sections.len(),
                self.all_sections.join(" | ")
            ));
        }
        let mut cut: Vec<String> = Vec::new();
        if !a.sections.is_empty() {
            if format.is_detailed() {
                out.push('\n');
                let mut used = 0;
                for s in &a.sections {
                    let len = s.text_len();
                    if used > 0 && used + len > DETAILED_MAX_CHARS {
                        cut.push(s.title.clone());
                        continue;
                    }
                    used += len;
                    section_detailed(s, 2, &mut out);
                }
            } else {
                out.push_str("\n## Sections\n\n");
                for s in &a.sections {
                    section_concise(s, 0, &mut out);
                }
            }
        }
        if !a.captions.is_empty() {
            out.push_str("\n## Figures and tables\n\n");
            for c in &a.captions {
                let text = if format.is_detailed() { c.text.clone() } else { clip(&c.text, CAPTION_CHARS) };
                match &c.label {
                    Some(l) => out.push_str(&format!("- **{l}**: {text}\n")),
                    None => out.push_str(&format!("- {text}\n")),
                }
            }
        }
        if !a.references.is_empty() {
            if format.is_detailed() {
                out.push_str("\n## References\n\n");
                for (i, r) in a.references.iter().enumerate() {
                    let label = r.label.clone().unwrap_or_else(|| format!("{}.", i + 1));
                    let mut ids = Vec::new();
                    if let Some(p) = &r.pmid {
                        ids.push(format!("PMID {p}"));
                    }
                    if let Some(p) = &r.pmcid {
                        ids.push(p.clone());
                    }
                    if let Some(d) = &r.doi {
                        ids.push(format!("DOI {d}"));
                    }
                    let ids = if ids.is_empty() { String::new() } else { format!(" [{}]", ids.join(", ")) };
                    out.push_str(&format!("{label} {}{ids}\n", clip(&r.text, 400)));
                }
            } else {
                let with_pmid = a.references.iter().filter(|r| r.pmid.is_some()).count();
                out.push_str(&format!(
                    "\n{} references ({with_pmid} with a PMID): response_format `detailed` lists them.\n",
                    a.references.len()
                ));
            }
        }
        if !self.links.is_empty() {
            out.push_str(&format!("\nLinks: {}\n", self.links.join(" · ")));
        }
        let tried: Vec<String> =
            self.attempts.iter().map(|t| format!("{}: {}", t.source.label(), t.outcome)).collect();
        if !tried.is_empty() && (!self.full_text || format.is_detailed()) {
            out.push_str(&format!("\nSources tried: {}\n", tried.join("; ")));
        }
        if !cut.is_empty() {
            out.push_str(&format!(
                "\nCut at {DETAILED_MAX_CHARS} characters; left out: {}. Get them with {}\n",
                cut.join(" | "),
                call_for(a, &cut)
            ));
        } else if !format.is_detailed() && !a.sections.is_empty() {
            let first: Vec<String> = a.sections.iter().take(2).map(|s| s.title.clone()).collect();
            out.push_str(&format!("\nFull sections: {}\n", call_for(a, &first)));
        }
        out
    }
}

impl Citations {
    /// The result as markdown.
    pub fn markdown(&self, _format: ResponseFormat) -> String {
        let what = match self.direction {
            Direction::CitedBy => "cite",
            Direction::References => "are cited by",
        };
        let mut out = format!("{} PubMed articles {what} PMID {}", self.count, self.pmid);
        if self.articles.len() < self.count {
            out.push_str(&format!(" (first {} shown; raise `limit` for more)", self.articles.len()));
        }
        out.push_str(".\n\n");
        for a in &self.articles {
            let mut line = format!("- PMID {}", a.pmid);
            if let Some(t) = &a.title {
                line.push_str(&format!(": {t}"));
            }
            let venue: Vec<String> =
                [a.journal.clone(), a.year.map(|y| y.to_string())].into_iter().flatten().collect();
            if !venue.is_empty() {
                line.push_str(&format!(" ({})", venue.join(" ")));
            }
            out.push_str(&line);
            out.push('\n');
        }
        if let Some(n) = &self.note {
            out.push_str(&format!("\nNote: {n}\n"));
        }
        out
    }
}

impl EuropePmcSearch {
    /// The result as markdown.
    pub fn markdown(&self, format: ResponseFormat) -> String {
        let mut out = format!(
            "{} Europe PMC results for `{}`; {} shown.\n\n",
            self.total,
            self.query,
            self.articles.len()
        );
        for a in &self.articles {
            let mut ids = Vec::new();
            if let Some(p) = &a.pmid {
                ids.push(format!("PMID {p}"));
            }
            if let Some(p) = &a.pmcid {
                ids.push(p.clone());
            }
            if let Some(d) = &a.doi {
                ids.push(format!("DOI {d}"));
            }
            if ids.is_empty() {
                ids.push(format!("{}:{}", a.source, a.id));
            }
            let venue: Vec<String> = [a.journal.clone(), a.year.clone()].into_iter().flatten().collect();
            out.push_str(&format!("- **{}** — {}", a.title, ids.join(" · ")));
            if !venue.is_empty() {
                out.push_str(&format!(" · {}", venue.join(" ")));
            }
            if a.open_access {
                out.push_str(" · open access");
            }
            if let Some(c) = a.cited_by_count {
                out.push_str(&format!(" · cited by {c}"));
            }
            out.push('\n');
            if let Some(ab) = &a.abstract_text {
                let text = if format.is_detailed() { ab.clone() } else { first_sentences(ab, 2) };
                out.push_str(&format!("  {text}\n"));
            }
        }
        if let Some(c) = &self.next_cursor {
            out.push_str(&format!("\nMore: europepmc_search with \"cursor\": \"{c}\".\n"));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sentences() {
        assert_eq!(first_sentences("One. Two et al. Three. Four.", 2), "One. Two et al. Three.");
        assert_eq!(first_sentences("No end", 2), "No end");
        assert_eq!(sentences_within("One. Two. Three.", 100), "One. Two. Three.");
        assert_eq!(sentences_within("One. Two. Three.", 10), "One. Two. …");
        assert_eq!(sentences_within("A very long first sentence. Two.", 5), "A very long first sentence. …");
    }
}
