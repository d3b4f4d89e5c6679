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
