//! Toolsets: the named groups of tools an MCP session lists and may call (`--toolsets`,
//! `PIPETTE_TOOLSETS`, or `toolset_enable` at run time). One declared table (toolset → categories + extra
//! tools); membership is derived from it and each tool's `category` once, when the registry is built.
//! The CLI always sees every tool.

use std::fmt;
use std::str::FromStr;

use tool_metadata::{Category, ErrorKind, ToolError};

use crate::Registry;

/// A named group of tools.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Toolset {
    /// PubMed, ClinicalTrials.gov, mutation matching, biomolecules — plus following jobs and reading the
    /// local index the research tools fill.
    Research,
    /// The local full-text indexes.
    Index,
    /// Test suites and linters.
    Testing,
    /// Background jobs.
    Jobs,
    /// The cache.
    Cache,
    /// Health and metrics.
    Ops,
    /// Workflows: durable DAGs of tool calls (not in the default set).
    Workflows,
    /// Full text, citations and Europe PMC search (not in the default set).
    Fulltext,
}

/// The research tools of the `fulltext` toolset, kept out of `research` (the default tools/list stays small).
const FULLTEXT_TOOLS: &[&str] = &["article_citations", "article_fulltext", "europepmc_search"];

/// What a toolset holds: whole categories plus single tools of other categories.
struct Spec {
    description: &'static str,
    categories: &'static [Category],
    extra_tools: &'static [&'static str],
    /// Tools of those categories that belong to another set instead.
    except_tools: &'static [&'static str],
}

impl Toolset {
    /// Every toolset, in order.
    pub const ALL: [Toolset; 8] = [
        Toolset::Research,
        Toolset::Index,
        Toolset::Testing,
        Toolset::Jobs,
        Toolset::Cache,
        Toolset::Ops,
        Toolset::Workflows,
        Toolset::Fulltext,
    ];

    /// What a session serves unless told otherwise: a researcher's tools.
    pub const DEFAULT: &'static [Toolset] = &[Toolset::Research];

    /// The table. A research session follows its long calls (`job_status`) and searches what the research
    /// tools' `index` argument stored (`index_search`, whose hits carry the stored fields); the rest of
    /// `jobs` and `index` is administration.
    fn spec(self) -> Spec {
        match self {
            Toolset::Research => Spec {
                description: "PubMed, ClinicalTrials.gov, mutation→trial matching, biomolecules; following jobs and searching the results kept in a local index",
                categories: &[Category::Research],
                extra_tools: &["job_status", "index_search"],
                except_tools: FULLTEXT_TOOLS,
            },
            Toolset::Index => Spec {
                description: "local full-text indexes: create, ingest, search, maintain",
                categories: &[Category::Indexing],
                extra_tools: &[],
                except_tools: &[],
            },
            Toolset::Testing => Spec {
                description: "run a project's tests and linters, detect them, rerun failures",
                categories: &[Category::Testing],
                extra_tools: &["job_status"],
                except_tools: &[],
            },
            Toolset::Jobs => Spec {
                description: "background jobs: status, list, cancel, resume, prune",
                categories: &[Category::Jobs],
                extra_tools: &[],
                except_tools: &[],
            },
            Toolset::Cache => Spec {
                description: "the result cache: analytics, warm, invalidate",
                categories: &[Category::Cache],
                extra_tools: &[],
                except_tools: &[],
            },
            Toolset::Ops => Spec {
                description: "health, metrics, circuit breakers",
                categories: &[Category::Ops],
                extra_tools: &[],
                except_tools: &[],
            },
            Toolset::Workflows => Spec {
                description: "workflows: durable DAGs of tool calls submitted once (validate, run, status, cancel, list)",
                categories: &[Category::Workflows],
                extra_tools: &[],
                except_tools: &[],
            },
            Toolset::Fulltext => Spec {
                description: "articles' full text (PMC, Europe PMC, publisher pages), citations both ways, Europe PMC search",
                categories: &[],
                extra_tools: FULLTEXT_TOOLS,
                except_tools: &[],
            },
        }
    }

    /// The name used by `--toolsets` and `toolset_enable`.
    pub fn as_str(self) -> &'static str {
        match self {
            Toolset::Research => "research",
            Toolset::Index => "index",
            Toolset::Testing => "testing",
            Toolset::Jobs => "jobs",
            Toolset::Cache => "cache",
            Toolset::Ops => "ops",
            Toolset::Workflows => "workflows",
            Toolset::Fulltext => "fulltext",
        }
    }

    /// One line saying what it holds.
    pub fn description(self) -> &'static str {
        self.spec().description
    }

    fn bit(self) -> u16 {
        1 << (self as u8)
    }

    /// Whether a tool of `category` named `name` belongs to this set.
    pub fn contains(self, name: &str, category: Category) -> bool {
        let spec = self.spec();
        (spec.categories.contains(&category) && !spec.except_tools.contains(&name))
            || spec.extra_tools.contains(&name)
    }
}

impl fmt::Display for Toolset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Toolset {
    type Err = String;

    fn from_str(s: &str) -> Result<Toolset, String> {
        Toolset::ALL.into_iter().find(|t| t.as_str() == s.trim()).ok_or_else(|| {
            format!("unknown toolset `{}`; expected {}, `all` or `default`", s.trim(), names(&Toolset::ALL))
        })
    }
}

fn names(sets: &[Toolset]) -> String {
    sets.iter().map(|t| format!("`{t}`")).collect::<Vec<_>>().join(", ")
}

/// A selection of toolsets (a small bit set): what one session lists and may call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Toolsets(u16);

impl Default for Toolsets {
    fn default() -> Toolsets {
        Toolsets::of(Toolset::DEFAULT)
    }
}

impl Toolsets {
    /// Every toolset.
    pub const fn all() -> Toolsets {
        Toolsets((1 << Toolset::ALL.len()) - 1)
    }

    /// Exactly these sets.
    pub fn of(sets: &[Toolset]) -> Toolsets {
        Toolsets(sets.iter().fold(0, |acc, t| acc | t.bit()))
    }

    /// Whether `set` is selected.
    pub fn has(self, set: Toolset) -> bool {
        self.0 & set.bit() != 0
    }

    /// The selection with `set` added.
    pub fn with(self, set: Toolset) -> Toolsets {
        Toolsets(self.0 | set.bit())
    }

    /// The selected sets, in order.
    pub fn sets(self) -> impl Iterator<Item = Toolset> {
        Toolset::ALL.into_iter().filter(move |t| self.has(*t))
    }

    /// Whether a session with this selection lists and may call the tool. Fixture tools (test and
    /// conformance builds only) belong to no set and are always on.
    pub fn enables(self, name: &str, category: Category) -> bool {
        category == Category::Fixture || self.sets().any(|t| t.contains(name, category))
    }

    /// The error a call to a tool of no selected set gets: which sets hold it and how to enable one.
    pub fn disabled_error(self, name: &str, category: Category) -> ToolError {
        let holders: Vec<Toolset> = Toolset::ALL.into_iter().filter(|t| t.contains(name, category)).collect();
        let first = holders.first().copied().unwrap_or(Toolset::Research);
        let current: Vec<&str> = self.sets().map(Toolset::as_str).collect();
        let with = self.with(first).sets().map(Toolset::as_str).collect::<Vec<_>>().join(",");
        ToolError::new(
            ErrorKind::InvalidArgument,
            format!(
                "`{name}` is in the {} toolset, which this session has not enabled (enabled: {}); call \
                 toolset_enable {{\"toolset\": \"{first}\"}}, or start pipette-mcp with --toolsets {with} \
                 (or PIPETTE_TOOLSETS={with}; `all` enables every set)",
                names(&holders),
                if current.is_empty() { "none".to_owned() } else { current.join(", ") },
            ),
        )
    }
}

impl FromStr for Toolsets {
    type Err = String;

    /// `research,index`, `all`, `default`, or a mix (`default,testing`).
    fn from_str(s: &str) -> Result<Toolsets, String> {
        let mut out = Toolsets(0);
        for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            out = match part {
                "all" => Toolsets::all(),
                "default" => Toolsets(out.0 | Toolsets::default().0),
                name => out.with(name.parse()?),
            };
        }
        Ok(out)
    }
}

impl fmt::Display for Toolsets {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.sets().map(Toolset::as_str).collect::<Vec<_>>().join(","))
    }
}

/// Each toolset's tools in `registry`, sorted by name.
pub fn members(registry: &Registry) -> Vec<(Toolset, Vec<&'static str>)> {
    Toolset::ALL
        .into_iter()
        .map(|set| {
            let tools = registry
                .tools()
                .iter()
                .map(|t| t.descriptor)
                .filter(|d| set.contains(d.name, d.category))
                .map(|d| d.name)
                .collect();
            (set, tools)
        })
        .collect()
}

/// Extra tools named in the table that `registry` does not have (a renamed tool); empty when all is well.
pub fn unknown_extra_tools(registry: &Registry) -> Vec<&'static str> {
    Toolset::ALL
        .into_iter()
        .flat_map(|t| t.spec().extra_tools.iter().copied())
        .filter(|name| registry.get(name).is_none())
        .collect()
}

/// The toolset of each tool's own category (its home set), for documentation.
pub fn home(category: Category) -> Option<Toolset> {
    Toolset::ALL.into_iter().find(|t| t.spec().categories.contains(&category))
}

/// The two tools of dynamic toolset discovery, served by the MCP face (per session) and always listed.
pub mod dynamic {
    /// Lists the toolsets, their tools and whether this session has them.
    pub const LIST: &str = "toolsets_list";
    /// Enables a toolset for this session.
    pub const ENABLE: &str = "toolset_enable";
    /// `toolsets_list`'s description.
    pub const LIST_DESCRIPTION: &str = "Toolsets, their tools, and which are enabled here.";
    /// `toolset_enable`'s description.
    pub const ENABLE_DESCRIPTION: &str = "Enable a toolset here.";

    /// `toolsets_list`'s input schema.
    pub fn list_input() -> serde_json::Value {
        serde_json::json!({"type": "object", "properties": {}})
    }

    /// `toolset_enable`'s input schema.
    pub fn enable_input() -> serde_json::Value {
        let names: Vec<&str> = super::Toolset::ALL.iter().map(|t| t.as_str()).collect();
        serde_json::json!({
            "type": "object",
            "properties": {"toolset": {"enum": names}},
            "required": ["toolset"]
        })
    }
}

/// `toolsets_list`'s answer for a session with `enabled`.
pub fn listing(registry: &Registry, enabled: Toolsets) -> serde_json::Value {
    let sets: Vec<serde_json::Value> = members(registry)
        .into_iter()
        .map(|(set, tools)| {
            serde_json::json!({
                "toolset": set.as_str(),
                "enabled": enabled.has(set),
                "description": set.description(),
                "tools": tools,
            })
        })
        .collect();
    let markdown = sets
        .iter()
        .map(|s| {
            format!(
                "- **{}**{}: {}. Tools: {}",
                s["toolset"].as_str().unwrap_or_default(),
                if s["enabled"] == true { " (enabled)" } else { "" },
                s["description"].as_str().unwrap_or_default(),
                s["tools"]
                    .as_array()
                    .map(|t| t.iter().filter_map(|v| v.as_str()).collect::<Vec<_>>().join(", "))
                    .unwrap_or_default(),
            )
        })
        .collect::<Vec<_>>()
        .join("\n");
    serde_json::json!({
        "toolsets": sets,
        "markdown": format!("{markdown}\n\nEnable one with toolset_enable {{\"toolset\": \"…\"}}."),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selections_parse() {
        assert_eq!(
            "research, index".parse::<Toolsets>(),
            Ok(Toolsets::of(&[Toolset::Research, Toolset::Index]))
        );
        assert_eq!("all".parse::<Toolsets>(), Ok(Toolsets::all()));
        assert_eq!(
            "default,testing".parse::<Toolsets>().map(|t| t.to_string()),
            Ok("research,testing".into())
        );
        assert!("reserch".parse::<Toolsets>().unwrap_err().contains("unknown toolset `reserch`"));
    }

    #[test]
    fn membership_follows_the_table() {
        let research = Toolsets::default();
        assert!(research.enables("pubmed_search", Category::Research));
        assert!(research.enables("job_status", Category::Jobs));
        assert!(!research.enables("job_prune", Category::Jobs));
        assert!(research.enables("fixture_slow", Category::Fixture));
        let err = research.disabled_error("index_create", Category::Indexing);
        assert!(err.message.contains("`index` toolset"), "{}", err.message);
        assert!(err.message.contains("--toolsets research,index"), "{}", err.message);
    }
}
