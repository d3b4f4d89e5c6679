//! Article web pages (the PMC page, a publisher's landing page) parsed with `scraper` into [`FullText`].
//!
//! Metadata comes from Highwire `citation_*` meta tags (title, authors with their institutions, journal,
//! DOI, PMID, dates, PDF URL, references); when a page has none, from Dublin Core `dc.*` / `DC.*` tags,
//! then Open Graph `og:*`, then `<title>` and `description`. The abstract is the page's abstract block
//! (`.abstract`, `#abstract`), else `citation_abstract`, `dc.description` or `og:description`. The body is
//! read from the article's container (`main article`, `article`, `main`, `body`) as a tree of sections cut
//! at its `h2`/`h3`/`h4` headings; navigation, front matter, figures (kept as captions) and the reference
//! list (kept as references, with the DOI/PubMed ids their links give) are not running text.

use std::collections::HashMap;
use std::sync::OnceLock;

use scraper::{ElementRef, Html, Node, Selector};

use crate::fulltext::jats::{collapse, normalize_doi, normalize_pmcid};
use crate::fulltext::model::{
    ArticleDate, ArticleIds, Caption, CaptionKind, FullText, FullTextAuthor, Reference, Section, Source,
};

fn selector(cell: &'static OnceLock<Selector>, css: &str) -> &'static Selector {
    cell.get_or_init(|| Selector::parse(css).unwrap_or_else(|e| panic!("bad built-in selector {css}: {e:?}")))
}

macro_rules! sel {
    ($css:expr) => {{
        static CELL: OnceLock<Selector> = OnceLock::new();
        selector(&CELL, $css)
    }};
}

/// The meta tags of a page, by lower-cased `name` / `property`, in document order.
struct Meta {
    order: Vec<(String, String)>,
    by_name: HashMap<String, Vec<String>>,
}

impl Meta {
    fn of(doc: &Html) -> Meta {
        let mut order = Vec::new();
        let mut by_name: HashMap<String, Vec<String>> = HashMap::new();
        for m in doc.select(sel!("meta")) {
            let e = m.value();
            let Some(name) = e.attr("name").or_else(|| e.attr("property")) else { continue };
            let Some(content) = e.attr("content") else { continue };
            let content = collapse(content);
            if content.is_empty() {
                continue;
            }
            let name = name.trim().to_ascii_lowercase();
            by_name.entry(name.clone()).or_default().push(content.clone());
            order.push((name, content));
        }
        Meta { order, by_name }
    }

    fn first(&self, names: &[&str]) -> Option<String> {
        names.iter().find_map(|n| self.by_name.get(*n).and_then(|v| v.first().cloned()))
    }

    fn all(&self, name: &str) -> &[String] {
        self.by_name.get(name).map_or(&[], Vec::as_slice)
    }
}

/// Parses an article page. `url` is the page's address when known (for relative PDF links).
pub fn parse_article_html(html: &str, source: Source, url: Option<&str>) -> FullText {
    let doc = Html::parse_document(html);
    let meta = Meta::of(&doc);
    let mut ft = FullText::new(source);
    ft.url = url.map(str::to_owned).or_else(|| meta.first(&["og:url", "citation_fulltext_html_url"]));

    let page_title = doc.select(sel!("title")).next().map(|t| text_of(t)).filter(|t| !t.is_empty());
    ft.title = meta
        .first(&["citation_title", "dc.title", "og:title", "twitter:title"])
        .or(page_title)
        .unwrap_or_default();

    // Authors: each citation_author with the institutions that follow it.
    let mut authors: Vec<FullTextAuthor> = Vec::new();
    for (name, content) in &meta.order {
        match name.as_str() {
            "citation_author" => authors.push(FullTextAuthor { name: content.clone(), ..Default::default() }),
            "citation_author_institution" | "citation_author_affiliation" => {
                if let Some(a) = authors.last_mut()
                    && !a.affiliations.contains(content)
                {
                    a.affiliations.push(content.clone());
                }
            }
            "citation_author_orcid" => {
                if let Some(a) = authors.last_mut() {
                    a.orcid = Some(content.trim_start_matches("https://orcid.org/").to_owned());
                }
            }
            _ => {}
        }
    }
    if authors.is_empty() {
        authors = ["dc.creator", "dc.contributor.author", "author", "article:author"]
            .iter()
            .flat_map(|n| meta.all(n).iter())
            .filter(|a| !a.starts_with("http"))
            .map(|a| FullTextAuthor { name: a.clone(), ..Default::default() })
            .collect();
    }
    ft.authors = authors;

    let mut ids = ArticleIds {
        doi: meta
            .first(&["citation_doi", "dc.identifier", "prism.doi", "bepress_citation_doi"])
            .and_then(|d| normalize_doi(&d))
            .or_else(|| meta.all("dc.identifier").iter().find_map(|d| normalize_doi(d))),
        pmid: meta
            .first(&["citation_pmid", "ncbi_uid"])
            .filter(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit())),
        pmcid: meta.first(&["citation_pmcid", "ncbi_pcid_pmc"]).and_then(|p| normalize_pmcid(&p)),
        pmc_version: None,
    };
    if ids.pmcid.is_none() && source == Source::PmcWebPage {
        ids.pmcid = ft.url.as_deref().and_then(pmcid_in_url);
    }
    ft.ids = ids;
    ft.journal =
        meta.first(&["citation_journal_title", "prism.publicationname", "dc.source", "og:site_name"]);
    ft.publisher = meta.first(&["citation_publisher", "dc.publisher"]);
    for (kind, names) in [
        (
            "published",
            &[
                "citation_publication_date",
                "citation_date",
                "dc.date",
                "prism.publicationdate",
                "article:published_time",
            ][..],
        ),
        ("online", &["citation_online_date"][..]),
    ] {
        if let Some(d) = meta.first(names) {
            ft.dates.push(ArticleDate { kind: kind.to_owned(), date: d });
        }
    }
    ft.volume = meta.first(&["citation_volume", "prism.volume"]);
    ft.issue = meta.first(&["citation_issue", "prism.number"]);
    ft.pages = match (meta.first(&["citation_firstpage"]), meta.first(&["citation_lastpage"])) {
        (Some(f), Some(l)) if f != l => Some(format!("{f}-{l}")),
        (f, _) => f,
    };
    ft.license = meta.first(&["dc.rights", "citation_license"]);
    ft.article_type = meta.first(&["citation_article_type", "dc.type"]);
    ft.keywords = meta
        .first(&["citation_keywords", "keywords"])
        .map(|k| k.split([',', ';']).map(str::trim).filter(|k| !k.is_empty()).map(str::to_owned).collect())
        .unwrap_or_default();
    ft.pdf_url = meta.first(&["citation_pdf_url"]).map(|u| absolute(&u, ft.url.as_deref()));

    // Body, abstract, captions and references from the article's container.
    let container = [sel!("main article"), sel!("article"), sel!("main"), sel!("[role=main]"), sel!("body")]
        .into_iter()
        .find_map(|s| doc.select(s).next());
    let mut walk = Walk::default();
    if let Some(c) = container {
        walk.children(c);
        walk.finish();
    }
    ft.abstract_text = walk
        .abstract_text
        .filter(|a| !a.is_empty())
        .or_else(|| meta.first(&["citation_abstract", "dc.description", "description", "og:description"]));
    ft.sections = walk.sections;
    ft.captions = walk.captions;
    ft.references = references_from_meta(&meta);
    if ft.references.is_empty() {
        ft.references = walk.references;
    }
    ft
}

fn pmcid_in_url(url: &str) -> Option<String> {
    let at = url.find("/PMC")?;
    let rest = &url[at + 1..];
    let end = rest.find(|c: char| !c.is_ascii_alphanumeric()).unwrap_or(rest.len());
    normalize_pmcid(&rest[..end])
}

fn absolute(href: &str, base: Option<&str>) -> String {
    match base.and_then(|b| url::Url::parse(b).ok()).and_then(|b| b.join(href).ok()) {
        Some(u) => u.to_string(),
        None => href.to_owned(),
    }
}

/// `citation_reference` tags: `citation_title=…; citation_author=…; citation_doi=…` or plain text.
fn references_from_meta(meta: &Meta) -> Vec<Reference> {
    meta.all("citation_reference")
        .iter()
        .map(|raw| {
            let mut r = Reference::default();
            let mut parts: Vec<String> = Vec::new();
            let mut authors: Vec<&str> = Vec::new();
            let mut structured = false;
            for field in raw.split(';') {
                let Some((k, v)) = field.split_once('=') else { continue };
                let (k, v) = (k.trim(), v.trim());
                if !k.starts_with("citation_") || v.is_empty() {
                    continue;
                }
                structured = true;
                match k {
                    "citation_title" => r.title = Some(v.to_owned()),
                    "citation_doi" => r.doi = normalize_doi(v),
                    "citation_pmid" => {
                        r.pmid = Some(v.to_owned()).filter(|p| p.bytes().all(|b| b.is_ascii_digit()))
                    }
                    // PLOS writes the volume here: not a label to trust.
                    "citation_number" => continue,
                    "citation_author" => {
                        authors.push(v);
                        continue;
                    }
                    _ => {}
                }
                parts.push(v.to_owned());
            }
            if !authors.is_empty() {
                parts.insert(0, authors.join(", "));
            }
            r.text = if structured { parts.join(". ") } else { raw.clone() };
            r
        })
        .collect()
}

fn text_of(e: ElementRef<'_>) -> String {
    let mut out = String::new();
    inline_text(e, &mut out);
    collapse(&out)
}

fn inline_text(e: ElementRef<'_>, out: &mut String) {
    for node in e.children() {
        match node.value() {
            Node::Text(t) => out.push_str(t),
            Node::Element(el) => {
                if matches!(el.name(), "script" | "style" | "noscript" | "button" | "svg" | "template") {
                    continue;
                }
                let block =
                    matches!(el.name(), "p" | "div" | "li" | "br" | "td" | "th" | "tr" | "h2" | "h3" | "h4");
                if block {
                    out.push(' ');
                }
                if let Some(child) = ElementRef::wrap(node) {
                    inline_text(child, out);
                }
                if block {
                    out.push(' ');
                }
            }
            _ => {}
        }
    }
}

/// Class or id words that mark what is not the article's running text.
const SKIP_MARKS: &[&str] = &[
    "front-matter",
    "pmc-layout__citation",
    "history",
    "sidenav",
    "usa-modal",
    "usa-banner",
    "usa-accordion",
    "pmc-resources",
    "in-page-nav",
    "fn-group",
    "associated-data",
    "articleinfo",
    "article-meta",
    "lightbox",
    "carousel",
    "share",
    "print-article",
    "tooltip",
    "author-list",
    "authors",
    "breadcrumb",
    "cookie",
    "related",
    "metrics",
    "citation-tools",
    "tabs",
    "nav-",
    "signposts",
    "date-doi",
];

fn marks(e: &scraper::node::Element) -> String {
    let mut m = e.attr("class").unwrap_or_default().to_ascii_lowercase();
    m.push(' ');
    m.push_str(&e.attr("id").unwrap_or_default().to_ascii_lowercase());
    m
}

#[derive(Default)]
struct Walk {
    /// The open sections: (heading level, section).
    open: Vec<(u8, Section)>,
    sections: Vec<Section>,
    loose: Section,
    abstract_text: Option<String>,
    captions: Vec<Caption>,
    references: Vec<Reference>,
    /// Inside a references heading's section: list items are references.
    in_refs: bool,
}

impl Walk {
    fn children(&mut self, e: ElementRef<'_>) {
        for child in e.children().filter_map(ElementRef::wrap) {
            self.element(child);
        }
    }

    fn element(&mut self, e: ElementRef<'_>) {
        let el = e.value();
        let name = el.name();
        if matches!(
            name,
            "script"
                | "style"
                | "noscript"
                | "nav"
                | "header"
                | "footer"
                | "aside"
                | "form"
                | "button"
                | "svg"
                | "template"
                | "dialog"
                | "h1"
        ) {
            return;
        }
        let marks = marks(el);
        if el.attr("hidden").is_some() || SKIP_MARKS.iter().any(|m| marks.contains(m)) {
            return;
        }
        if self.abstract_text.is_none()
            && (marks.split_whitespace().any(|w| w == "abstract" || w.starts_with("abstract")))
        {
            let paragraphs: Vec<String> =
                e.select(sel!("p")).map(text_of).filter(|p| !p.is_empty()).collect();
            self.abstract_text = Some(if paragraphs.is_empty() {
                text_of(e).trim_start_matches("Abstract").trim().to_owned()
            } else {
                paragraphs.join("\n\n")
            });
            return;
        }
        if marks.contains("ref-list")
            || marks.split_whitespace().any(|w| w == "references" || w == "bibliography")
        {
            self.reference_list(e);
            return;
        }
        if name == "figure"
            || name == "table"
            || marks.contains("fig ")
            || marks.starts_with("fig ")
            || marks.contains("tw xbox")
            || marks.split_whitespace().any(|w| w == "figure" || w == "table-wrap")
        {
            self.caption(e, name);
            return;
        }
        match name {
            "h2" | "h3" | "h4" | "h5" => {
                let level = name.as_bytes()[1] - b'0';
                let title = text_of(e);
                self.heading(level, title);
            }
            "p" => {
                let t = text_of(e);
                if !t.is_empty() && !self.in_refs {
                    self.current().paragraphs.push(t);
                }
            }
            "li" if self.in_refs => self.reference_item(e),
            "ul" | "ol" if !self.in_refs && e.select(sel!("p")).next().is_none() => {
                let items: Vec<String> =
                    e.child_elements().filter(|c| c.value().name() == "li").map(text_of).collect();
                let t = items.join("; ");
                if !t.is_empty() {
                    self.current().paragraphs.push(t);
                }
            }
            _ => self.children(e),
        }
    }

    fn current(&mut self) -> &mut Section {
        match self.open.last_mut() {
            Some((_, s)) => s,
            None => &mut self.loose,
        }
    }

    fn heading(&mut self, level: u8, title: String) {
        let lower = title.to_ascii_lowercase();
        if self.abstract_text.is_none() && lower == "abstract" {
            // An abstract given as a heading and paragraphs: kept as a section, taken as the abstract later.
        }
        while let Some((l, _)) = self.open.last() {
            if *l >= level {
                self.close_one();
            } else {
                break;
            }
        }
        self.in_refs = matches!(
            lower.as_str(),
            "references" | "bibliography" | "literature cited" | "references and notes"
        );
        if self.in_refs {
            return;
        }
        self.open.push((level, Section { title, ..Section::default() }));
    }

    fn close_one(&mut self) {
        if let Some((_, s)) = self.open.pop() {
            let empty = s.paragraphs.is_empty() && s.sections.is_empty();
            if empty {
                return;
            }
            match self.open.last_mut() {
                Some((_, parent)) => parent.sections.push(s),
                None => self.sections.push(s),
            }
        }
    }

    fn finish(&mut self) {
        while !self.open.is_empty() {
            self.close_one();
        }
        if !self.loose.paragraphs.is_empty() {
            self.sections.insert(0, std::mem::take(&mut self.loose));
        }
        // A body section titled "Abstract" is the abstract when no abstract block was found.
        if let Some(pos) = self.sections.iter().position(|s| s.title.eq_ignore_ascii_case("abstract")) {
            let s = self.sections.remove(pos);
            if self.abstract_text.is_none() {
                self.abstract_text = Some(s.all_paragraphs().join("\n\n"));
            }
        }
    }

    fn caption(&mut self, e: ElementRef<'_>, name: &str) {
        let kind = if name == "table"
            || e.value().attr("class").unwrap_or_default().contains("tw")
            || e.value().attr("data-doi").is_some_and(|d| d.contains(".t0"))
        {
            CaptionKind::Table
        } else {
            CaptionKind::Figure
        };
        let head = e
            .select(sel!("figcaption, .caption, .figcaption, caption, h3, h4, .obj_head, .label"))
            .map(text_of)
            .filter(|t| !t.is_empty())
            .collect::<Vec<_>>();
        let mut text = head.join(" ");
        if text.is_empty() {
            return;
        }
        // "Table 1. Cross validation …": the label is the part before the first full stop.
        let mut label = None;
        for prefix in ["Figure", "Fig.", "Fig", "Table", "Supplementary"] {
            if text.starts_with(prefix)
                && let Some(end) = text.find(['.', ':', '|']).filter(|&i| i < 24)
            {
                label = Some(text[..end].trim().to_owned());
                text = text[end + 1..].trim().to_owned();
                break;
            }
        }
        let kind = match label.as_deref() {
            Some(l) if l.starts_with("Table") => CaptionKind::Table,
            Some(l) if l.starts_with("Fig") => CaptionKind::Figure,
            _ => kind,
        };
        self.captions.push(Caption { kind, label, text });
    }

    fn reference_list(&mut self, e: ElementRef<'_>) {
        let items: Vec<ElementRef<'_>> = e.select(sel!("li")).collect();
        if items.is_empty() {
            for p in e.select(sel!("p, .ref")) {
                self.reference_item(p);
            }
        }
        for li in items {
            self.reference_item(li);
        }
    }

    fn reference_item(&mut self, li: ElementRef<'_>) {
        let label = li.select(sel!(".label")).next().map(text_of).filter(|l| !l.is_empty());
        let text = li.select(sel!("cite")).next().map(text_of).unwrap_or_else(|| text_of(li));
        if text.is_empty() {
            return;
        }
        let mut r = Reference { label, text, ..Reference::default() };
        for a in li.select(sel!("a[href]")) {
            let href = a.value().attr("href").unwrap_or_default();
            if r.doi.is_none() && href.contains("doi.org/") {
                r.doi = normalize_doi(href);
            } else if r.pmid.is_none() && href.contains("pubmed") {
                let digits: String = href
                    .trim_end_matches('/')
                    .rsplit(['/', '='])
                    .next()
                    .unwrap_or_default()
                    .chars()
                    .filter(char::is_ascii_digit)
                    .collect();
                r.pmid = Some(digits).filter(|d| !d.is_empty() && d.len() <= 9);
            } else if r.pmcid.is_none() && href.contains("/PMC") {
                r.pmcid = pmcid_in_url(href);
            }
        }
        self.references.push(r);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dublin_core_and_open_graph_when_no_citation_tags() {
        let html = r#"<html><head><title>Site | Paper</title>
            <meta name="DC.title" content="A paper on <i>things</i>">
            <meta name="DC.creator" content="Ada Lovelace"><meta name="DC.creator" content="Alan Turing">
            <meta name="DC.identifier" content="doi:10.1234/abc.5">
            <meta name="dc.date" content="2020-02-03">
            <meta property="og:description" content="What we found.">
            </head><body><main><h1>A paper</h1><h2>Introduction</h2><p>First.</p><h3>Aim</h3><p>Second.</p>
            <h2>Methods</h2><p>Third.</p><figure><figcaption>Figure 1. A plot.</figcaption></figure>
            <h2>References</h2><ol><li>Ref one <a href="https://doi.org/10.5/x">doi</a></li></ol></main></body></html>"#;
        let ft = parse_article_html(html, Source::PublisherPage, Some("https://example.org/a"));
        assert_eq!(ft.title, "A paper on <i>things</i>");
        assert_eq!(
            ft.authors.iter().map(|a| a.name.as_str()).collect::<Vec<_>>(),
            ["Ada Lovelace", "Alan Turing"]
        );
        assert_eq!(ft.ids.doi.as_deref(), Some("10.1234/abc.5"));
        assert_eq!(ft.abstract_text.as_deref(), Some("What we found."));
        assert_eq!(ft.sections.len(), 2);
        assert_eq!(ft.sections[0].title, "Introduction");
        assert_eq!(ft.sections[0].sections[0].paragraphs, ["Second."]);
        assert_eq!(ft.captions[0].label.as_deref(), Some("Figure 1"));
        assert_eq!(ft.references[0].doi.as_deref(), Some("10.5/x"));
        assert_eq!(ft.ids.pmid, None);
    }

    #[test]
    fn open_graph_only() {
        let html = r#"<html><head><meta property="og:title" content="OG title"><meta property="og:url" content="https://x.org/p"></head><body><p>x</p></body></html>"#;
        let ft = parse_article_html(html, Source::PublisherPage, None);
        assert_eq!(ft.title, "OG title");
        assert_eq!(ft.url.as_deref(), Some("https://x.org/p"));
    }
}
