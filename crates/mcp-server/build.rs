//! Links `pipette-mcp` with packed relative relocations (RELR) on GNU/Linux: the binary stays
//! position-independent (ASLR), but the loader no longer reads 1.4 MB of relocation records at every start,
//! which is ~2 MB of idle RSS and part of the start-up time (see `cargo xtask bench interface`). A linker
//! without the option ignores it with a warning; glibc ≥ 2.36 is needed to run the result, which the linker
//! checks when it links.

fn main() {
    let os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    let env = std::env::var("CARGO_CFG_TARGET_ENV").unwrap_or_default();
    if os == "linux" && env == "gnu" {
        println!("cargo:rustc-link-arg-bins=-Wl,-z,pack-relative-relocs");
    }
    println!("cargo:rerun-if-changed=build.rs");
}
