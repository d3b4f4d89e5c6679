//! Fuzz targets for the parsers that read the outside world: PubMed XML and JSON, full text (JATS, article HTML,
//! citations, Europe PMC), ClinicalTrials.gov JSON, the test tools' outputs, and what a client sends (JSON-RPC
//! lines through the request guard, tool arguments).
//! Each target takes any bytes and must neither panic nor break the invariants it checks. libFuzzer drives them
//! through `src/bin` (`cargo xtask fuzz`); the tests run every seed and every saved crash through them.

use std::path::{Path, PathBuf};

/// The targets: name, entry point, and where their seeds live (`fixtures:` = under the recorded fixtures,
/// read in place; otherwise relative to the workspace root).
pub const TARGETS: [Target; 5] = [
    Target { name: "pubmed", run: pubmed, seeds: &["fixtures:pubmed"] },
    Target {
        name: "fulltext",
        run: fulltext,
        seeds: &[
            "fixtures:fulltext/jats",
            "fixtures:fulltext/html",
            "fixtures:fulltext/citations",
            "fixtures:fulltext/europepmc_search",
            "fixtures:fulltext/related",
        ],
    },
    Target { name: "ctgov", run: ctgov, seeds: &["fixtures:clinicaltrials"] },
    Target { name: "test_outputs", run: test_outputs, seeds: &["crates/core-testing/testdata"] },
    Target { name: "tool_args", run: tool_args, seeds: &["fuzz/seeds/tool_args"] },
];

/// One fuzz target.
#[derive(Clone, Copy)]
pub struct Target {
    /// Its name; the libFuzzer binary is `fuzz-<name with dashes>`.
    pub name: &'static str,
    /// The entry point.
    pub run: fn(&[u8]),
    /// Seed folders.
    pub seeds: &'static [&'static str],
}

impl Target {
    /// The libFuzzer binary's name.
    pub fn bin(&self) -> String {
        format!("fuzz-{}", self.name.replace('_', "-"))
    }

    /// The seed folders, given the workspace root and the recorded fixtures' folder.
    pub fn seed_dirs(&self, root: &Path, fixtures: &Path) -> Vec<PathBuf> {
        self.seeds
            .iter()
            .map(|s| match s.strip_prefix("fixtures:") {
                Some(rel) => fixtures.join(rel),
                None => root.join(s),
            })
            .collect()
    }

    /// Where the crashes found for this target are kept as regression inputs.
    pub fn regressions(&self, root: &Path) -> PathBuf {
        root.join("fuzz").join("regressions").join(self.name)
    }
}

/// PubMed: efetch XML and esearch JSON.
pub fn pubmed(data: &[u8]) {
    let _ = core_scrapers::pubmed::parse_efetch(data);
    let _ = core_scrapers::pubmed::parse_esearch(data);
}

/// Full text: JATS in every dialect, article HTML pages, elink citations, Europe PMC search, the ID converter;
/// what parses is rendered both ways (the markdown bounds and sentence cuts must hold on any text).
pub fn fulltext(data: &[u8]) {
    use core_scrapers::ResponseFormat;
    use core_scrapers::fulltext as ft;
    let render = |article: ft::FullText| {
        let result = ft::FullTextResult {
            full_text: true,
            open_access: None,
            notice: None,
            attempts: Vec::new(),
            links: Vec::new(),
            all_sections: Vec::new(),
            notes: Vec::new(),
            article,
        };
        let _ = result.markdown(ResponseFormat::Concise);
        let _ = result.markdown(ResponseFormat::Detailed);
    };
    if let Ok(ft::JatsAnswer::Article(article)) = ft::parse_jats(data, ft::Source::PmcEfetch) {
        render(*article);
    }
    render(ft::parse_article_html(&String::from_utf8_lossy(data), ft::Source::PublisherPage, None));
    let _ = ft::parse_elink(data, "pubmed_pubmed_citedin");
    if let Ok(search) = ft::parse_europepmc_search(data, "q") {
        let _ = search.markdown(ResponseFormat::Concise);
    }
    let _ = ft::parse_idconv(data);
}

/// ClinicalTrials.gov: a search page and one study.
pub fn ctgov(data: &[u8]) {
    let _ = core_scrapers::trials::parse_search(data);
    let _ = core_scrapers::trials::parse_study(data);
}

/// The test tools' outputs, whole and line by line.
pub fn test_outputs(data: &[u8]) {
    use core_testing::parse as p;
    let _ = p::parse_junit(data);
    let _ = p::parse_libtest(data);
    let _ = p::parse_cargo_messages(data);
    let _ = p::parse_nextest_list(data);
    let _ = p::parse_coverage_json(data);
    let _ = p::parse_mypy(data);
    let _ = p::parse_ruff(data);
    let _ = p::parse_flake8(data);
    let _ = p::parse_unittest(data);
    for line in String::from_utf8_lossy(data).lines().take(1000) {
        let _ = p::parse_pytest_line(line);
        let _ = p::pytest_collected(line);
        let _ = p::parse_nextest_line(line);
        let _ = p::parse_mypy_line(line);
        let _ = p::parse_flake8_line(line);
    }
}

/// What a client sends: the bytes as one JSON-RPC message through the request guard (its answers are
/// well-formed, carry a usable id, and quote little), as a mutation or an NCT id, and as the arguments of
/// the research tools.
pub fn tool_args(data: &[u8]) {
    if let Some(answers) = mcp_server::guard_answers(data) {
        assert!(!answers.is_empty(), "a refusal answers something");
        for a in &answers {
            assert_eq!(a["jsonrpc"], "2.0", "{a}");
            assert!(
                matches!(
                    a["id"],
                    serde_json::Value::Null | serde_json::Value::String(_) | serde_json::Value::Number(_)
                ),
                "{a}"
            );
            let message = a["error"]["message"].as_str().unwrap_or_default();
            assert!(a["error"]["code"].is_i64() && !message.is_empty() && message.len() <= 1100, "{a}");
        }
    }
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = core_scrapers::mutation::parse_mutation(text);
        let _ = core_scrapers::trials::normalize_nct(text);
    }
    if let Ok(args) = serde_json::from_slice::<serde_json::Value>(data) {
        use tool_metadata::__private::parse_params;
        let _ = parse_params::<core_scrapers::trials::TrialSearchParams>(args.clone());
        let _ = parse_params::<core_scrapers::trials::TrialGetParams>(args.clone());
        let _ = parse_params::<core_scrapers::pubmed::SearchRequest>(args);
    }
}

#[cfg(test)]
mod tests;
