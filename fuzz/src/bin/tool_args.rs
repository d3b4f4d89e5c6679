//! libFuzzer entry point for the request guard and the tool-argument parsers; built and run by `cargo xtask fuzz`.

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| pipette_fuzz::tool_args(data));
