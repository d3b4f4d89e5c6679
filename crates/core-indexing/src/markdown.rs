//! How index results show themselves as markdown: the one rendering of a search, an ingest and the list of
//! indexes that every face prints (MCP text content, the CLI, the API's `text/markdown`).

use std::fmt::Write as _;

use serde_json::Value;

use crate::types::{AddResponse, ListResponse, SearchResponse};

/// The rejections an ingest lists; the rest are counted.
const LISTED_REJECTIONS: usize = 20;

/// `1 hit`, `2 hits`.
fn count(n: u64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// At most `max` characters of `text` on one line, cut at a word boundary with `…`.
fn short(text: &str, max: usize) -> String {
    let line = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if line.chars().count() <= max {
        return line;
    }
    // One character more: a word that ends right at `max` is kept whole.
    let head: String = line.chars().take(max + 1).collect();
    match head.rsplit_once(' ') {
        Some((words, _)) => format!("{words}…"),
        None => format!("{}…", head.chars().take(max).collect::<String>()),
    }
}

/// What names a hit: its `title`, else its first text value.
fn label(document: &Value) -> Option<String> {
    let map = document.as_object()?;
    let text = map.get("title").and_then(Value::as_str).or_else(|| map.values().find_map(Value::as_str))?;
    Some(short(text, 160))
}

fn mib(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / 1_048_576.0)
}

impl SearchResponse {
    /// The hits, each with its id, what names it, its rank and its snippets.
    pub fn markdown(&self) -> String {
        let mut md = format!(
            "**{}** in `{}` ({:.2} ms)",
            count(self.total_hits, "hit", "hits"),
            self.id,
            self.took_micros as f64 / 1000.0
        );
        if (self.hits.len() as u64) < self.total_hits {
            let _ = write!(md, "; {} shown (more with `offset` and `limit`)", self.hits.len());
        }
        md.push('\n');
        for (i, hit) in self.hits.iter().enumerate() {
            let rank = match (&hit.score, &hit.sort_value) {
                (Some(score), _) => format!("score {score:.3}"),
                (None, Some(value)) => format!("sorted by {value}"),
                (None, None) => String::new(),
            };
            let name = label(&hit.document).map(|l| format!(" {l}")).unwrap_or_default();
            let _ = writeln!(md, "{}. `{}`{name} ({rank})", i + 1, hit.doc_id);
            for s in &hit.snippets {
                let _ = writeln!(md, "   > **{}**: {}", s.field, short(&s.html, 300));
            }
        }
        md
    }
}

impl AddResponse {
    /// The counts, then the rejected documents with their reasons.
    pub fn markdown(&self) -> String {
        let mut md = format!(
            "`{}`: {} added, {} updated, {} rejected ({}, {:.2} s)\n",
            self.id,
            self.added,
            self.updated,
            self.rejected,
            count(self.commits, "commit", "commits"),
            self.took_micros as f64 / 1e6
        );
        for r in self.rejections.iter().take(LISTED_REJECTIONS) {
            let at = r.line.map_or_else(|| format!("document {}", r.position), |l| format!("line {l}"));
            let id = r.doc_id.as_deref().map(|d| format!(" (`{d}`)")).unwrap_or_default();
            let _ = writeln!(md, "- rejected {at}{id}: {}", r.reason);
        }
        if self.rejections.len() > LISTED_REJECTIONS {
            let _ = writeln!(md, "- … and {} more", self.rejections.len() - LISTED_REJECTIONS);
        }
        md
    }
}

impl ListResponse {
    /// One row per index.
    pub fn markdown(&self) -> String {
        if self.indexes.is_empty() {
            return format!("No indexes in `{}`.\n", self.data_dir);
        }
        let mut md = String::from(
            "| Index | Docs | Shards | Size | Schema | Loaded |\n|---|---:|---:|---:|---|---|\n",
        );
        for i in &self.indexes {
            let _ = writeln!(
                md,
                "| `{}` | {} | {} | {} | {} | {} |",
                i.id,
                i.docs,
                i.shards,
                mib(i.bytes_on_disk),
                i.builtin.map_or("custom", |b| b.name()),
                if i.loaded { "yes" } else { "no" }
            );
        }
        md
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::types::{RejectedDoc, SearchHit};

    #[test]
    fn results_read_as_sentences_and_lists() {
        let hit = |id: &str, title: &str| SearchHit {
            doc_id: id.into(),
            score: Some(1.5),
            sort_value: None,
            document: json!({ "pmid": id, "title": title }),
            snippets: Vec::new(),
        };
        let one = SearchResponse {
            id: "papers".into(),
            total_hits: 1,
            hits: vec![hit("1", "BRAF")],
            took_micros: 1500,
        };
        assert_eq!(one.markdown(), "**1 hit** in `papers` (1.50 ms)\n1. `1` BRAF (score 1.500)\n");
        let paged = SearchResponse { total_hits: 3, ..one.clone() };
        assert!(paged.markdown().starts_with("**3 hits** in `papers` (1.50 ms); 1 shown (more with"));
        assert_eq!(short("a long title that goes on", 12), "a long title…");
        assert_eq!(short("word", 12), "word");
        assert_eq!(short("a long titles list", 12), "a long…");
        assert_eq!(short("abcdefghijklmnop", 12), "abcdefghijkl…");

        let rejected = RejectedDoc { position: 0, line: None, doc_id: None, reason: "no `pmid`".into() };
        let add = AddResponse {
            id: "papers".into(),
            added: 0,
            updated: 0,
            rejected: 1,
            rejections: vec![rejected],
            commits: 1,
            took_micros: 20_000,
        };
        assert_eq!(
            add.markdown(),
            "`papers`: 0 added, 0 updated, 1 rejected (1 commit, 0.02 s)\n- rejected document 0: no `pmid`\n"
        );
        let none = ListResponse { data_dir: "/d".into(), indexes: Vec::new() };
        assert_eq!(none.markdown(), "No indexes in `/d`.\n");
    }
}
