//! libFuzzer entry point for the test-tool output parsers (JUnit, libtest, cargo JSON, nextest, coverage, mypy, ruff, flake8, unittest); built and run by `cargo xtask fuzz`.

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| pipette_fuzz::test_outputs(data));
