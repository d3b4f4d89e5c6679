//! The one parsed model of an article's full text, whatever source answered (JATS or an HTML page).

use serde::{Deserialize, Serialize};

/// Where a full text came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// NCBI E-utilities `efetch db=pmc` (JATS in `<pmc-articleset>`).
    PmcEfetch,
    /// The PMC Article Datasets copy on AWS (a bare JATS `<article>`).
    PmcDatasets,
    /// Europe PMC `rest/{PMCID}/fullTextXML`.
    EuropePmc,
    /// PMC's OAI-PMH `GetRecord` (JATS in the default namespace).
    PmcOai,
    /// The PMC article web page (`/articles/PMC…/`), parsed as HTML.
    PmcWebPage,
    /// The publisher's landing page reached through the DOI, parsed as HTML.
    PublisherPage,
    /// No full text: the abstract from PubMed or Europe PMC.
    AbstractOnly,
}

impl Source {
    /// How the source is named to a reader.
    pub fn label(self) -> &'static str {
        match self {
            Source::PmcEfetch => "PMC (E-utilities efetch, JATS XML)",
            Source::PmcDatasets => "PMC Article Datasets (AWS, JATS XML)",
            Source::EuropePmc => "Europe PMC (fullTextXML)",
            Source::PmcOai => "PMC OAI-PMH (JATS XML)",
            Source::PmcWebPage => "the PMC article web page (HTML)",
            Source::PublisherPage => "the publisher's landing page (HTML, via the DOI)",
            Source::AbstractOnly => "abstract only",
        }
    }

    /// Whether this source is a JATS XML document.
    pub fn is_jats(self) -> bool {
        matches!(self, Source::PmcEfetch | Source::PmcDatasets | Source::EuropePmc | Source::PmcOai)
    }
}

/// An article's identifiers. A PMCID is always `PMC` + digits; a DOI is lower-case-insensitive text
/// without the `https://doi.org/` prefix.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ArticleIds {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pmid: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pmcid: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub doi: Option<String>,
    /// The PMC version (`PMC3040717.1` → 1) when the source gives it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pmc_version: Option<u32>,
}

impl ArticleIds {
    /// Fills what `self` lacks from `other` (never overwrites).
    pub fn merge(&mut self, other: &ArticleIds) {
        if self.pmid.is_none() {
            self.pmid.clone_from(&other.pmid);
        }
        if self.pmcid.is_none() {
            self.pmcid.clone_from(&other.pmcid);
        }
        if self.doi.is_none() {
            self.doi.clone_from(&other.doi);
        }
        if self.pmc_version.is_none() {
            self.pmc_version = other.pmc_version;
        }
    }

    /// Whether no identifier is known.
    pub fn is_empty(&self) -> bool {
        self.pmid.is_none() && self.pmcid.is_none() && self.doi.is_none()
    }
}

/// An author with affiliations.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct FullTextAuthor {
    pub name: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub affiliations: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub orcid: Option<String>,
}

/// One dated event of the article (`epub`, `ppub`, `collection`, `published`, …), as given.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ArticleDate {
    /// The kind of date (`epub`, `ppub`, `collection`, `pmc-release`, `published`, …).
    pub kind: String,
    /// `YYYY`, `YYYY-MM` or `YYYY-MM-DD`.
    pub date: String,
}

/// A section of the body: its title, its paragraphs and its subsections, in order.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Section {
    /// Empty for text outside any titled section.
    #[serde(default)]
    pub title: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub paragraphs: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sections: Vec<Section>,
}

impl Section {
    /// Characters of text in this section and below.
    pub fn text_len(&self) -> usize {
        self.title.len()
            + self.paragraphs.iter().map(String::len).sum::<usize>()
            + self.sections.iter().map(Section::text_len).sum::<usize>()
    }

    /// Every paragraph of this section and below, in order.
    pub fn all_paragraphs(&self) -> Vec<&str> {
        let mut out: Vec<&str> = self.paragraphs.iter().map(String::as_str).collect();
        for s in &self.sections {
            out.extend(s.all_paragraphs());
        }
        out
    }
}

/// What a caption belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum CaptionKind {
    Figure,
    Table,
}

/// A figure's or a table's caption.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Caption {
    pub kind: CaptionKind,
    /// `Figure 1`, `Table 2`, … when given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// The caption's title and text.
    pub text: String,
}

/// One cited reference, with the ids it gives (never the citing article's own).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Reference {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// The citation as text.
    pub text: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pmid: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pmcid: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub doi: Option<String>,
}

/// An article's full text in one model: metadata, abstract, sections as a tree, captions, references.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct FullText {
    /// Which source answered.
    pub source: Source,
    pub ids: ArticleIds,
    pub title: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub authors: Vec<FullTextAuthor>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub journal: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub publisher: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dates: Vec<ArticleDate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub volume: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issue: Option<String>,
    /// Pages (`4880-4890`) or the electronic location id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pages: Option<String>,
    /// The licence statement and/or URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub license: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub license_url: Option<String>,
    /// The article type (`research-article`, `correction`, …) when given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub article_type: Option<String>,
    #[serde(rename = "abstract", default, skip_serializing_if = "Option::is_none")]
    pub abstract_text: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub keywords: Vec<String>,
    /// The body, as a tree of sections.
    #[serde(default)]
    pub sections: Vec<Section>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub captions: Vec<Caption>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub references: Vec<Reference>,
    /// The PDF's URL, when the page names one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pdf_url: Option<String>,
    /// The page the text was read from, when it was a web page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

impl FullText {
    /// An empty document of `source`.
    pub fn new(source: Source) -> FullText {
        FullText {
            source,
            ids: ArticleIds::default(),
            title: String::new(),
            authors: Vec::new(),
            journal: None,
            publisher: None,
            dates: Vec::new(),
            volume: None,
            issue: None,
            pages: None,
            license: None,
            license_url: None,
            article_type: None,
            abstract_text: None,
            keywords: Vec::new(),
            sections: Vec::new(),
            captions: Vec::new(),
            references: Vec::new(),
            pdf_url: None,
            url: None,
        }
    }

    /// Whether the body has any text (not only the front matter).
    pub fn has_body(&self) -> bool {
        self.sections.iter().any(|s| !s.all_paragraphs().is_empty())
    }

    /// The body as plain text: section titles and paragraphs, blank lines between (for an index).
    pub fn body_text(&self) -> String {
        fn walk(s: &Section, out: &mut String) {
            if !s.title.is_empty() {
                out.push_str(&s.title);
                out.push_str("\n\n");
            }
            for p in &s.paragraphs {
                out.push_str(p);
                out.push_str("\n\n");
            }
            for sub in &s.sections {
                walk(sub, out);
            }
        }
        let mut out = String::new();
        for s in &self.sections {
            walk(s, &mut out);
        }
        for c in &self.captions {
            if let Some(label) = &c.label {
                out.push_str(label);
                out.push_str(". ");
            }
            out.push_str(&c.text);
            out.push_str("\n\n");
        }
        out.truncate(out.trim_end().len());
        out
    }

    /// The year of the first dated event, when any.
    pub fn year(&self) -> Option<i32> {
        self.dates.iter().find_map(|d| d.date.get(..4).and_then(|y| y.parse().ok()))
    }
}
