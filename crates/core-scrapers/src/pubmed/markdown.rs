//! PubMed results as markdown for a model or a person: concise (every identifier, a short abstract, a line
//! saying how to get the rest) or detailed (the whole record).

use std::fmt::Write as _;

use crate::ResponseFormat;
use crate::prose::{clipped, json, nct_ids, sentences};
use crate::pubmed::model::Article;
use crate::pubmed::search::{FetchResult, SearchResult};

/// Sentences of an abstract kept by the concise rendering.
const CONCISE_SENTENCES: usize = 2;
/// Authors named by the concise rendering before "et al.".
const CONCISE_AUTHORS: usize = 3;

impl Article {
    /// The article as markdown: a heading, the identifiers line, authors, and the abstract (its conclusion's
    /// first sentences when concise; every section, MeSH, types and keywords when detailed).
    pub fn markdown(&self, format: ResponseFormat) -> String {
        let mut out = format!("### {}\n", self.title.trim());
        let mut ids = vec![format!("PMID {}", self.pmid)];
        ids.extend(self.doi.as_ref().map(|d| format!("DOI {d}")));
        ids.push(self.pmcid.as_ref().map_or_else(|| "no PMCID".to_owned(), |p| format!("PMCID {p}")));
        let _ = writeln!(out, "{}", ids.join(" · "));
        if let Some(cite) = self.citation(format) {
            let _ = writeln!(out, "{cite}");
        }
        let names: Vec<&str> = self.authors.iter().map(|a| a.name.as_str()).collect();
        match format {
            ResponseFormat::Concise => {
                if !names.is_empty() {
                    let count = if names.len() > CONCISE_AUTHORS {
                        format!(" ({} authors)", names.len())
                    } else {
                        String::new()
                    };
                    let _ = writeln!(out, "Authors: {}{count}", clipped(&names, CONCISE_AUTHORS));
                }
                if !self.publication_types.is_empty() {
                    let types: Vec<&str> = self.publication_types.iter().map(String::as_str).collect();
                    let _ = writeln!(out, "Type: {}", clipped(&types, 2));
                }
                self.concise_abstract(&mut out);
            }
            ResponseFormat::Detailed => self.detailed_body(&mut out),
        }
        let trials = nct_ids(self.abstract_text.as_deref().unwrap_or_default());
        if !trials.is_empty() {
            let _ = writeln!(out, "Trials named: {}", trials.join(", "));
        }
        out
    }

    /// Journal, date, volume and issue on one line.
    fn citation(&self, format: ResponseFormat) -> Option<String> {
        let journal = self.journal.as_ref();
        let name = journal.and_then(|j| match format {
            ResponseFormat::Concise => j.iso_abbreviation.as_deref().or(j.title.as_deref()),
            ResponseFormat::Detailed => j.title.as_deref().or(j.iso_abbreviation.as_deref()),
        });
        let date = self.pub_date.as_ref().map(|d| d.text.as_str()).filter(|d| !d.is_empty());
        let mut cite: Vec<String> = [name, date].into_iter().flatten().map(str::to_owned).collect();
        if let Some(j) = journal {
            match (&j.volume, &j.issue) {
                (Some(v), Some(i)) => cite.push(format!("{v}({i})")),
                (Some(v), None) => cite.push(v.clone()),
                _ => {}
            }
        }
        (!cite.is_empty()).then(|| cite.join(", "))
    }

    /// The conclusion (or the abstract's start) cut to a few sentences, saying how much was left out.
    fn concise_abstract(&self, out: &mut String) {
        let conclusion = self.abstract_sections.iter().rev().find(|s| {
            s.label.as_deref().is_some_and(|l| {
                let l = l.to_ascii_uppercase();
                l.starts_with("CONCLUSION") || l == "INTERPRETATION" || l == "FINDINGS"
            })
        });
        let (label, text) = match conclusion {
            Some(s) => (s.label.clone().unwrap_or_default(), s.text.as_str()),
            None => match self.abstract_text.as_deref().filter(|t| !t.trim().is_empty()) {
                Some(t) => ("Abstract".to_owned(), t),
                None => return,
            },
        };
        let (short, total) = sentences(text, CONCISE_SENTENCES);
        let cut = if total > CONCISE_SENTENCES || conclusion.is_some() && self.abstract_sections.len() > 1 {
            " […]"
        } else {
            ""
        };
        let _ = writeln!(out, "{}: {short}{cut}", title_case(&label));
    }

    fn detailed_body(&self, out: &mut String) {
        if !self.authors.is_empty() {
            let _ = writeln!(out, "Authors ({}):", self.authors.len());
            for a in &self.authors {
                let orcid = a.orcid.as_ref().map(|o| format!(" (ORCID {o})")).unwrap_or_default();
                let group = if a.collective { " (group)" } else { "" };
                let place = a.affiliation.as_ref().map(|x| format!(" — {x}")).unwrap_or_default();
                let _ = writeln!(out, "- {}{group}{orcid}{place}", a.name);
            }
        }
        if !self.abstract_sections.is_empty() {
            out.push('\n');
            for s in &self.abstract_sections {
                match &s.label {
                    Some(l) => {
                        let _ = writeln!(out, "**{}**: {}\n", title_case(l), s.text.trim());
                    }
                    None => {
                        let _ = writeln!(out, "{}\n", s.text.trim());
                    }
                }
            }
        } else if let Some(t) = self.abstract_text.as_deref().filter(|t| !t.trim().is_empty()) {
            let _ = writeln!(out, "\n{}\n", t.trim());
        }
        if !self.publication_types.is_empty() {
            let _ = writeln!(out, "Publication types: {}", self.publication_types.join("; "));
        }
        if !self.mesh.is_empty() {
            let mesh: Vec<String> = self
                .mesh
                .iter()
                .map(|m| {
                    let star = if m.major_topic { "*" } else { "" };
                    if m.qualifiers.is_empty() {
                        format!("{}{star}", m.descriptor)
                    } else {
                        format!("{}{star} ({})", m.descriptor, m.qualifiers.join(", "))
                    }
                })
                .collect();
            let _ = writeln!(out, "MeSH (* major): {}", mesh.join("; "));
        }
        if !self.keywords.is_empty() {
            let _ = writeln!(out, "Keywords: {}", self.keywords.join("; "));
        }
        let _ = writeln!(out, "{}", self.url());
    }
}

/// `BACKGROUND` → `Background`; labels already in mixed case stay as they are.
fn title_case(label: &str) -> String {
    if label.chars().any(|c| c.is_lowercase()) {
        return label.to_owned();
    }
    let lower = label.to_lowercase();
    let mut chars = lower.chars();
    chars.next().map(|c| c.to_uppercase().chain(chars).collect()).unwrap_or_default()
}

/// Each article, then the concise rendering's line saying what was left out and the call that gets it.
fn articles(out: &mut String, articles: &[Article], format: ResponseFormat) {
    for a in articles {
        out.push('\n');
        out.push_str(&a.markdown(format));
    }
    if format == ResponseFormat::Concise && !articles.is_empty() {
        let pmids: Vec<serde_json::Value> = articles.iter().map(|a| a.pmid.as_str().into()).collect();
        let _ = writeln!(
            out,
            "\n_Concise: abstracts cut to their conclusion's first {CONCISE_SENTENCES} sentences, {CONCISE_AUTHORS} \
             authors each, no affiliations or MeSH. The full records: `pubmed_fetch {{\"pmids\": {}, \
             \"response_format\": \"detailed\"}}`_",
            json(&serde_json::Value::Array(pmids))
        );
    }
}

/// PMIDs that were asked for (or listed by esearch) but came back without a record.
fn missing(out: &mut String, what: &str, pmids: &[String]) {
    if !pmids.is_empty() {
        let list: Vec<serde_json::Value> = pmids.iter().map(|p| p.as_str().into()).collect();
        let _ = writeln!(
            out,
            "\n**{} PMID{} {what}**: {}. Try again later with `pubmed_fetch {{\"pmids\": {}}}`; a PMID that \
             stays missing was withdrawn or is not (yet) in PubMed.",
            pmids.len(),
            if pmids.len() == 1 { "" } else { "s" },
            pmids.join(", "),
            json(&serde_json::Value::Array(list))
        );
    }
}

impl SearchResult {
    /// The search as markdown: counts, how PubMed read the query (phrases it ignored, said plainly), the
    /// articles, the PMIDs whose records did not come back, and the call for the next page.
    pub fn markdown(&self, format: ResponseFormat) -> String {
        let mut out = format!(
            "## PubMed: {} of {} articles for `{}` (from offset {})\n",
            self.articles.len(),
            self.total,
            self.term,
            self.offset
        );
        for phrase in &self.phrases_not_found {
            let _ = writeln!(
                out,
                "\n**PubMed found nothing for `{phrase}` and searched without it**: these results match the rest \
                 of the query only (rephrase it, e.g. the gene and protein change in words, to search for it)."
            );
        }
        if !self.warnings.is_empty() {
            let _ = writeln!(out, "\nPubMed's notes: {}", self.warnings.join("; "));
        }
        if format == ResponseFormat::Detailed
            && let Some(t) = &self.query_translation
        {
            let _ = writeln!(out, "\nPubMed read the query as: `{t}`");
        }
        articles(&mut out, &self.articles, format);
        missing(&mut out, "listed by the search came back without a record", &self.not_fetched);
        if let Some(next) = self.next_offset {
            let _ = writeln!(
                out,
                "\nMore results: the same `pubmed_search` call with `\"offset\": {next}` ({} left).",
                self.total.saturating_sub(next)
            );
        }
        out
    }
}

impl FetchResult {
    /// The fetched articles as markdown, and the PMIDs PubMed has no record for.
    pub fn markdown(&self, format: ResponseFormat) -> String {
        let mut out = format!("## PubMed: {} article{}\n", self.articles.len(), plural(self.articles.len()));
        articles(&mut out, &self.articles, format);
        missing(&mut out, "without a record in PubMed", &self.not_found);
        out
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pubmed::model::{AbstractSection, Author, Journal, PubDate};

    fn article() -> Article {
        Article {
            pmid: "42".into(),
            title: "BRAF V600E in melanoma".into(),
            abstract_text: Some(
                "BACKGROUND: Why. It matters.\n\nCONCLUSIONS: It works. Really well. See NCT01245062.".into(),
            ),
            abstract_sections: vec![
                AbstractSection { label: Some("BACKGROUND".into()), text: "Why. It matters.".into() },
                AbstractSection {
                    label: Some("CONCLUSIONS".into()),
                    text: "It works. Really well. See NCT01245062.".into(),
                },
            ],
            authors: ["Smith J", "Doe A", "Roe B", "Poe C"]
                .map(|n| Author { name: n.into(), ..Default::default() })
                .to_vec(),
            journal: Some(Journal { iso_abbreviation: Some("N Engl J Med".into()), ..Default::default() }),
            pub_date: Some(PubDate { year: Some(2011), text: "2011 Jun".into(), ..Default::default() }),
            doi: Some("10.1/x".into()),
            pmcid: Some("PMC123".into()),
            ..Default::default()
        }
    }

    #[test]
    fn concise_keeps_identifiers_and_cuts_the_conclusion() {
        let md = article().markdown(ResponseFormat::Concise);
        assert_eq!(
            md,
            "### BRAF V600E in melanoma\nPMID 42 · DOI 10.1/x · PMCID PMC123\nN Engl J Med, 2011 Jun\n\
             Authors: Smith J, Doe A, Roe B, et al. (4 authors)\nConclusions: It works. Really well. […]\n\
             Trials named: NCT01245062\n"
        );
        let detailed = article().markdown(ResponseFormat::Detailed);
        assert!(detailed.contains("- Poe C\n") && detailed.contains("**Background**: Why. It matters."));
    }
}
