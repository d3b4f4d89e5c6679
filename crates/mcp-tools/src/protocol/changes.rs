//! Server-wide list changes: whoever changes the tools every client sees announces it here, and the MCP
//! server tells the clients listening for it (2026-07-28 `subscriptions/listen` streams that asked for
//! `toolsListChanged`). A session's own toolsets (`toolset_enable`) are that session's business, not this.

use std::sync::LazyLock;

use tokio::sync::broadcast;

static TOOLS: LazyLock<broadcast::Sender<()>> = LazyLock::new(|| broadcast::channel(16).0);

/// Announces that the server-wide tool list changed.
pub fn announce_tools_changed() {
    // No listener: nobody to tell.
    let _ = TOOLS.send(());
}

/// Hears every later [`announce_tools_changed`].
pub fn tools_changes() -> broadcast::Receiver<()> {
    TOOLS.subscribe()
}
