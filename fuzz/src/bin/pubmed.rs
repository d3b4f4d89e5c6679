//! libFuzzer entry point for the PubMed parsers (efetch XML, esearch JSON); built and run by `cargo xtask fuzz`.

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| pipette_fuzz::pubmed(data));
