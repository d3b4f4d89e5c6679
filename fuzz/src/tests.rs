//! Every seed and every saved crash, through its target: a crash the fuzzer found stays fixed.

use std::path::Path;

use super::TARGETS;

fn files(dir: &Path) -> Vec<std::path::PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else { return Vec::new() };
    let mut files: Vec<_> =
        entries.filter_map(Result::ok).map(|e| e.path()).filter(|p| p.is_file()).collect();
    files.sort();
    files
}

#[test]
fn seeds_and_saved_crashes_run_clean() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf();
    let fixtures = pipette_test_support::fixtures_dir();
    for target in TARGETS {
        let mut ran = 0;
        for dir in target.seed_dirs(&root, &fixtures) {
            let seeds = files(&dir);
            assert!(!seeds.is_empty(), "{}: no seeds in {}", target.name, dir.display());
            for file in seeds {
                (target.run)(&std::fs::read(&file).unwrap());
                ran += 1;
            }
        }
        for file in files(&target.regressions(&root)) {
            let bytes = std::fs::read(&file).unwrap();
            let outcome = std::panic::catch_unwind(|| (target.run)(&bytes));
            assert!(outcome.is_ok(), "{}: the saved crash {} panics again", target.name, file.display());
            ran += 1;
        }
        assert!(ran > 0, "{}", target.name);
    }
}

#[test]
fn the_protocol_edges_are_refused_with_their_id() {
    let cases: [&[u8]; 3] = [
        br#"{"jsonrpc":"1.0","id":5,"method":"ping"}"#,
        br#"{"jsonrpc":"2.0","id":5,"method":"ping"} trailing"#,
        br#"{"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"x","arguments":"x"}}"#,
    ];
    for case in cases {
        let answers = mcp_server::guard_answers(case).expect("refused");
        assert_eq!(answers[0]["id"], 5);
        super::tool_args(case);
    }
}
