//! End-to-end tests that drive the real pipette binaries.
