use tool_metadata::tool_metadata;

#[derive(serde::Deserialize, schemars::JsonSchema)]
struct P {}

/// A tool.
#[tool_metadata(category = ops, runtime = Async, timeout_seconds = 1)]
async fn t(_p: P) -> String {
    String::new()
}

fn main() {}
