//! End-to-end test support: the test-only fixture tools that `pipette-mcp-test` adds to the real server.
//!
//! These tools (slow, failing, progress-reporting) exist only in this crate, so they never appear in
//! the production binaries' tool lists.

pub mod bench;
pub mod fixture_prompts;
pub mod fixture_tools;

/// Referenced by the test binary so the linker keeps this crate's tool registrations.
pub fn link() {
    fixture_prompts::link();
    fixture_tools::link();
}
