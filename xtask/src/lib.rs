//! cargo xtask: ci, tidy, docs and benchmarks.
