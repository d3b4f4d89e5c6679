//! libFuzzer entry point for the ClinicalTrials.gov parsers (search and study JSON); built and run by `cargo xtask fuzz`.

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| pipette_fuzz::ctgov(data));
