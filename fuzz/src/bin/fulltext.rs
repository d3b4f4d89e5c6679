//! libFuzzer entry point for the full-text parsers (JATS, article HTML, elink, Europe PMC, the ID converter);
//! built and run by `cargo xtask fuzz`.

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| pipette_fuzz::fulltext(data));
