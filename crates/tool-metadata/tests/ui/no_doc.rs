use tool_metadata::{ToolError, tool_metadata};

#[derive(serde::Deserialize, schemars::JsonSchema)]
struct P {}

#[tool_metadata(category = ops, runtime = Async, timeout_seconds = 1)]
async fn t(_p: P) -> Result<String, ToolError> {
    Ok(String::new())
}

fn main() {}
