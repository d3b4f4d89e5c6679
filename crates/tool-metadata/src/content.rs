//! Protocol-neutral content: what a tool, a resource or a prompt hands back besides plain JSON.
//!
//! The shapes serialize exactly as MCP's content blocks do (`{"type": "text", "text": ...}`), so the
//! server converts them without knowing each one, and the CLI can print them as they are.

use serde::{Deserialize, Serialize};

/// The body of one resource: text or base64 bytes, with its URI and MIME type.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ResourceBody {
    /// The resource's URI.
    pub uri: String,
    /// Its MIME type.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mime_type: Option<String>,
    /// Its text, for text resources.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// Its bytes in base64, for binary resources.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub blob: Option<String>,
}

impl ResourceBody {
    /// A text resource.
    pub fn text(uri: impl Into<String>, mime_type: &str, text: impl Into<String>) -> ResourceBody {
        ResourceBody {
            uri: uri.into(),
            mime_type: Some(mime_type.to_owned()),
            text: Some(text.into()),
            blob: None,
        }
    }

    /// A binary resource (`blob` is base64).
    pub fn blob(uri: impl Into<String>, mime_type: &str, blob: impl Into<String>) -> ResourceBody {
        ResourceBody {
            uri: uri.into(),
            mime_type: Some(mime_type.to_owned()),
            text: None,
            blob: Some(blob.into()),
        }
    }

    /// A JSON resource: `value` pretty-printed, `application/json`.
    pub fn json(uri: impl Into<String>, value: &serde_json::Value) -> ResourceBody {
        let text = serde_json::to_string_pretty(value).unwrap_or_else(|_| value.to_string());
        ResourceBody::text(uri, "application/json", text)
    }
}

/// One content block, as MCP has them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Content {
    /// Text (markdown welcome).
    Text {
        /// The text.
        text: String,
    },
    /// An image, base64.
    Image {
        /// Base64 bytes.
        data: String,
        /// e.g. `image/png`.
        #[serde(rename = "mimeType")]
        mime_type: String,
    },
    /// Audio, base64.
    Audio {
        /// Base64 bytes.
        data: String,
        /// e.g. `audio/wav`.
        #[serde(rename = "mimeType")]
        mime_type: String,
    },
    /// An embedded resource.
    Resource {
        /// The resource.
        resource: ResourceBody,
    },
}

impl Content {
    /// A text block.
    pub fn text(text: impl Into<String>) -> Content {
        Content::Text { text: text.into() }
    }
}

/// A tool result made of content blocks (images, audio, embedded resources) rather than plain JSON.
///
/// It serializes as `{"content": [...]}`; the MCP server recognises that shape (an object whose only
/// key is `content`, an array of typed blocks) and sends the blocks as the call's content.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct RichOutput {
    /// The blocks, in order.
    pub content: Vec<Content>,
}

impl RichOutput {
    /// The blocks of a JSON result, when it has the shape [`RichOutput`] serializes to.
    pub fn from_value(value: &serde_json::Value) -> Option<Vec<Content>> {
        let obj = value.as_object()?;
        if obj.len() != 1 {
            return None;
        }
        serde_json::from_value(obj.get("content")?.clone()).ok()
    }
}
