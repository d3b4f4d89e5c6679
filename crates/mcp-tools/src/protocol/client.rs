//! The client behind a protocol request that is not a tool call (`prompts/get`, `resources/read`): the MCP
//! server puts its [`ClientBridge`] here for the request's duration, so a prompt or a resource can ask the
//! person or the client's model as a tool does through its `ToolContext`.

use std::future::Future;
use std::sync::Arc;

use tool_metadata::ClientBridge;

tokio::task_local! {
    static CLIENT: Arc<dyn ClientBridge>;
}

/// Runs `f` with `client` as the client behind it.
pub async fn with_client<T>(client: Arc<dyn ClientBridge>, f: impl Future<Output = T>) -> T {
    CLIENT.scope(client, f).await
}

/// The client behind the prompt or resource being served; `None` outside [`with_client`] (the CLI, the API).
pub fn client() -> Option<Arc<dyn ClientBridge>> {
    CLIENT.try_with(Arc::clone).ok()
}
