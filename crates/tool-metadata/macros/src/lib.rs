//! The #[tool_metadata] attribute: declares a tool once, with its metadata, and registers it.
