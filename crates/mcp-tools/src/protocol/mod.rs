//! Resources and prompts: declared once each (like tools, through `inventory`), served through the router.
//!
//! A resource is a read-only view, usually over a tool: `pubmed://{pmid}` reads through `pubmed_fetch`,
//! so limits, timeouts, caching and metrics apply to it as to the tool. A prompt is a message template
//! whose arguments are a serde struct, validated like tool parameters.

mod changes;
mod client;
mod complete;
mod tasks;
pub(crate) mod template;

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;

use serde::{Deserialize, Serialize};
use tool_metadata::{Content, ResourceBody, ToolError};

use crate::Router;

pub use changes::{announce_tools_changed, tools_changes};
pub use client::{client, with_client};
pub use complete::{Completion, CompletionRef, MAX_COMPLETIONS, complete};
pub use tasks::{TaskSupport, TaskSupportDecl, task_support};
pub use template::{Matched, UriTemplate};

/// A boxed future of a protocol handler.
pub type ProtocolFuture<T> = Pin<Box<dyn Future<Output = Result<T, ToolError>> + Send>>;

/// One `resources/read`, matched against a descriptor's URI template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceRequest {
    /// The URI as the client sent it.
    pub uri: String,
    /// The template's variables (`{pmid}` → `"12345"`), percent-decoded.
    pub params: BTreeMap<String, String>,
    /// The query string's parameters (`?sections=a,b`), percent-decoded.
    pub query: BTreeMap<String, String>,
}

impl ResourceRequest {
    /// The template variable `name`; an invalid-argument error naming it when absent or empty.
    pub fn param(&self, name: &str) -> Result<&str, ToolError> {
        match self.params.get(name).map(String::as_str) {
            Some(v) if !v.is_empty() => Ok(v),
            _ => Err(ToolError::invalid_argument(name, format!("the URI {} has no {name}", self.uri))),
        }
    }
}

/// A listed resource instance (for `resources/list`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ListedResource {
    /// Its URI.
    pub uri: String,
    /// A short name.
    pub name: String,
    /// What it is.
    pub description: Option<String>,
    /// Its MIME type.
    pub mime_type: Option<String>,
}

/// Reads one resource.
pub type ReadFn = fn(Router, ResourceRequest) -> ProtocolFuture<Vec<ResourceBody>>;
/// Lists the concrete resources of a descriptor (jobs that exist, indexes that exist...).
pub type ListFn = fn(Router) -> ProtocolFuture<Vec<ListedResource>>;

/// A resource or a resource template, declared once with `inventory::submit!`.
#[derive(Debug)]
pub struct ResourceDescriptor {
    /// A fixed URI (`test://static-text`) or an RFC 6570 level-1 template (`pubmed://{pmid}`).
    pub uri: &'static str,
    /// A short, unique name.
    pub name: &'static str,
    /// A title for people.
    pub title: &'static str,
    /// What it holds and when to read it.
    pub description: &'static str,
    /// The MIME type of what `read` returns.
    pub mime_type: &'static str,
    /// Reads one resource.
    pub read: ReadFn,
    /// The concrete resources to show in `resources/list` (templates only; fixed URIs list themselves).
    pub list: Option<ListFn>,
    /// Whether `notifications/resources/updated` is sent for it after `resources/subscribe`.
    pub subscribable: bool,
}

impl ResourceDescriptor {
    /// Whether the URI is a template (has `{variables}`).
    pub fn is_template(&self) -> bool {
        self.uri.contains('{')
    }
}

inventory::collect!(ResourceDescriptor);

/// Every declared resource, sorted by URI.
pub fn resources() -> Vec<&'static ResourceDescriptor> {
    let mut all: Vec<_> = inventory::iter::<ResourceDescriptor>.into_iter().collect();
    all.sort_by_key(|d| d.uri);
    all
}

/// The descriptor whose URI (or template) matches `uri`, with the request it makes.
pub fn match_resource(uri: &str) -> Option<(&'static ResourceDescriptor, ResourceRequest)> {
    resources().into_iter().find_map(|d| {
        let (params, query) = UriTemplate::new(d.uri).matches(uri)?;
        Some((d, ResourceRequest { uri: uri.to_owned(), params, query }))
    })
}

/// Who speaks a prompt message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// The person.
    User,
    /// The model.
    Assistant,
}

/// One message of a prompt.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PromptMessage {
    /// Who speaks.
    pub role: Role,
    /// What is said.
    pub content: Content,
}

impl PromptMessage {
    /// A user message of text.
    pub fn user(text: impl Into<String>) -> PromptMessage {
        PromptMessage { role: Role::User, content: Content::text(text) }
    }
}

/// What `prompts/get` returns.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PromptOutput {
    /// A description of this rendering.
    pub description: Option<String>,
    /// The messages.
    pub messages: Vec<PromptMessage>,
}

/// Renders a prompt from its arguments (a JSON object of strings).
pub type PromptFn = fn(Router, serde_json::Value) -> ProtocolFuture<PromptOutput>;

/// A prompt, declared once with `inventory::submit!`.
#[derive(Debug)]
pub struct PromptDescriptor {
    /// Its unique name.
    pub name: &'static str,
    /// A title for people.
    pub title: &'static str,
    /// What it is for.
    pub description: &'static str,
    /// The JSON schema of its arguments (a serde struct's); `prompts/list` derives the argument list
    /// (name, description, required) from it.
    pub arguments: fn() -> serde_json::Value,
    /// Renders it.
    pub get: PromptFn,
}

inventory::collect!(PromptDescriptor);

/// Every declared prompt, sorted by name.
pub fn prompts() -> Vec<&'static PromptDescriptor> {
    let mut all: Vec<_> = inventory::iter::<PromptDescriptor>.into_iter().collect();
    all.sort_by_key(|d| d.name);
    all
}

/// The prompt called `name`.
pub fn prompt(name: &str) -> Option<&'static PromptDescriptor> {
    inventory::iter::<PromptDescriptor>.into_iter().find(|d| d.name == name)
}

/// One argument of a prompt, as `prompts/list` shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PromptArgument {
    /// Its name.
    pub name: String,
    /// What it is.
    pub description: Option<String>,
    /// Whether it must be given.
    pub required: bool,
}

impl PromptDescriptor {
    /// The arguments, from the schema's properties (sorted by name) and `required`.
    pub fn argument_list(&self) -> Vec<PromptArgument> {
        let schema = (self.arguments)();
        let required: Vec<&str> = schema["required"]
            .as_array()
            .map(|r| r.iter().filter_map(|v| v.as_str()).collect())
            .unwrap_or_default();
        let Some(props) = schema["properties"].as_object() else { return Vec::new() };
        props
            .iter()
            .map(|(name, p)| PromptArgument {
                name: name.clone(),
                description: p["description"].as_str().map(str::to_owned),
                required: required.contains(&name.as_str()),
            })
            .collect()
    }
}
