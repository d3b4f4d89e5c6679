use tool_metadata::{ToolError, tool_metadata};

#[derive(serde::Deserialize, schemars::JsonSchema)]
struct P {}

/// A tool.
#[tool_metadata(category = ops, runtime = Async, timeout_seconds = 1, retry = linear(2, 5))]
async fn t(_p: P) -> Result<String, ToolError> {
    Ok(String::new())
}

fn main() {}
