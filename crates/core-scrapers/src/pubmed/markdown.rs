//! A compact markdown rendering of PubMed results: what a person (or a model asked to summarize) reads.

use std::fmt::Write as _;

use crate::pubmed::model::Article;
use crate::pubmed::search::SearchResult;

/// The longest abstract excerpt per article, in characters.
const EXCERPT: usize = 400;

/// One line per article (title, first author, journal, year, PMID) and an abstract excerpt.
pub fn articles_markdown(articles: &[Article]) -> String {
    let mut out = String::new();
    for (i, a) in articles.iter().enumerate() {
        let more = if a.authors.len() > 1 { " et al." } else { "" };
        let first = a.authors.first().map(|au| format!("{}{more}", au.name)).unwrap_or_default();
        let journal = a.journal.as_ref().and_then(|j| j.iso_abbreviation.as_deref().or(j.title.as_deref()));
        let year = a.pub_date.as_ref().and_then(|d| d.year).map(|y| y.to_string()).unwrap_or_default();
        let _ = write!(out, "{}. **{}**", i + 1, a.title.trim());
        let cite: Vec<&str> = [first.as_str(), journal.unwrap_or(""), year.as_str()]
            .into_iter()
            .filter(|s| !s.is_empty())
            .collect();
        if !cite.is_empty() {
            let _ = write!(out, " — {}", cite.join(", "));
        }
        let _ = writeln!(out, " (PMID {})", a.pmid);
        if let Some(text) = a.abstract_text.as_deref().filter(|t| !t.is_empty()) {
            let excerpt: String = text.chars().take(EXCERPT).collect();
            let ellipsis = if text.chars().count() > EXCERPT { "…" } else { "" };
            let _ = writeln!(out, "   {}{ellipsis}", excerpt.replace('\n', " "));
        }
    }
    out
}

/// The search's header (query, counts) and its articles.
pub fn search_markdown(result: &SearchResult) -> String {
    let mut out = format!(
        "PubMed: {} of {} articles for `{}` (from offset {})\n\n",
        result.articles.len(),
        result.total,
        result.term,
        result.offset
    );
    out.push_str(&articles_markdown(&result.articles));
    for w in &result.warnings {
        let _ = writeln!(out, "\n> {w}");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pubmed::model::{Author, Journal, PubDate};

    #[test]
    fn renders_an_article_line_and_excerpt() {
        let a = Article {
            pmid: "42".into(),
            title: "BRAF V600E in melanoma".into(),
            abstract_text: Some("x".repeat(500)),
            authors: vec![Author { name: "Smith J".into(), ..Default::default() }, Author::default()],
            journal: Some(Journal { iso_abbreviation: Some("N Engl J Med".into()), ..Default::default() }),
            pub_date: Some(PubDate { year: Some(2011), text: "2011".into(), ..Default::default() }),
            ..Default::default()
        };
        let md = articles_markdown(&[a]);
        assert!(
            md.starts_with("1. **BRAF V600E in melanoma** — Smith J et al., N Engl J Med, 2011 (PMID 42)\n"),
            "{md}"
        );
        assert!(md.contains(&format!("{}…", "x".repeat(400))));
    }
}
