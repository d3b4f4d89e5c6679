//! Tool descriptors, the tool error, the call context and the inventory registration behind #[tool_metadata].
