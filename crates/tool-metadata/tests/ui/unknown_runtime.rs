use tool_metadata::{ToolError, tool_metadata};

#[derive(serde::Deserialize, schemars::JsonSchema)]
struct P {}

/// A tool.
#[tool_metadata(category = ops, runtime = Threaded, timeout_seconds = 1)]
async fn t(_p: P) -> Result<String, ToolError> {
    Ok(String::new())
}

fn main() {}
