//! End-to-end tests: the router in-process, the real binaries over stdio and HTTP with rmcp's client, the CLI.

mod api;
mod cli;
mod fulltext;
mod http;
mod index;
mod mcp;
mod protocol;
mod queue;
mod reliability;
mod research;
mod resources;
mod results;
mod router;
mod scaleout;
mod security;
mod security_http;
mod support;
mod tasks;
mod testing;
mod toolsets;
mod warm;
mod workflow;
