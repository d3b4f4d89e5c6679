//! How research results show themselves to a model: the `response_format` argument (concise by default,
//! detailed on request) and the result wrapper that carries the markdown rendering as the call's text.

use core_scrapers::ResponseFormat;
use serde::{Deserialize, Serialize};

/// A research tool's parameters plus how much of the result its text shows.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub(crate) struct Formatted<T> {
    #[serde(flatten)]
    pub(crate) request: T,
    /// Text: `concise` or `detailed`.
    #[serde(default)]
    pub(crate) response_format: ResponseFormat,
}

/// A result plus its markdown rendering, which becomes the call's text content. The markdown is not part of
/// the declared output schema and is taken out of the structured content (`text::MARKDOWN_KEY`).
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub(crate) struct Shown<T> {
    #[serde(flatten)]
    pub(crate) result: T,
    /// The text a model reads.
    #[schemars(skip)]
    pub(crate) markdown: String,
}

/// A result that carries its own markdown (a match's or a batch's summary, a test report): the one
/// rendering of it that MCP text content, the CLI and the API's `text/markdown` show. Such a tool returns
/// `Shown<T>` built with `.into()`, never a key the faces look up.
pub(crate) trait CarriesMarkdown {
    /// The result as markdown.
    fn markdown(&self) -> String;
}

impl<T: CarriesMarkdown> From<T> for Shown<T> {
    fn from(result: T) -> Shown<T> {
        Shown { markdown: result.markdown(), result }
    }
}

impl CarriesMarkdown for core_scrapers::mutation::MutationTrials {
    fn markdown(&self) -> String {
        self.summary_markdown.clone()
    }
}

impl CarriesMarkdown for core_scrapers::mutation::MatchBatch {
    fn markdown(&self) -> String {
        self.summary_markdown.clone()
    }
}

impl CarriesMarkdown for core_scrapers::warm::WarmReport {
    fn markdown(&self) -> String {
        self.summary_markdown.clone()
    }
}

impl<T: CarriesMarkdown> CarriesMarkdown for crate::research_index::Indexed<T> {
    fn markdown(&self) -> String {
        crate::research_index::with_index_note(self.indexed.as_ref(), self.result.markdown())
    }
}

/// The summary asked for with `summarize` is the text, in place of the result's own.
impl<T: CarriesMarkdown> CarriesMarkdown for crate::assist::Summarized<T> {
    fn markdown(&self) -> String {
        self.summary.as_ref().map_or_else(|| self.result.markdown(), |s| s.text.clone())
    }
}

impl CarriesMarkdown for core_indexing::SearchResponse {
    fn markdown(&self) -> String {
        self.markdown()
    }
}

impl CarriesMarkdown for core_indexing::AddResponse {
    fn markdown(&self) -> String {
        self.markdown()
    }
}

impl CarriesMarkdown for core_indexing::ListResponse {
    fn markdown(&self) -> String {
        self.markdown()
    }
}
