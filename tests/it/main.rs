//! End-to-end tests: the router in-process, the real binaries over stdio and HTTP with rmcp's client, the CLI.

mod alerts;
mod api;
mod cli;
mod deploy;
mod http;
mod index;
mod legacy_tasks;
mod mcp;
mod protocol;
mod protocol_2026;
mod queue;
mod reliability;
mod research;
mod resources;
mod results;
mod router;
mod scaleout;
mod security;
mod security_http;
mod status;
mod support;
mod tasks;
mod testing;
mod toolsets;
mod warm;
mod workflow;
