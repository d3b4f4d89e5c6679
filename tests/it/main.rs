//! End-to-end tests: the router in-process, the real binaries over stdio and HTTP with rmcp's client, the CLI.

mod cli;
mod index;
mod mcp;
mod research;
mod resources;
mod router;
mod support;
mod testing;
