//! The registry: every registered tool, built once at start-up from inventory, sorted by name.

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;
use tool_metadata::{Runtime, ToolDescriptor};

use crate::schema;

/// Why the registry could not be built.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RegistryError {
    /// Two tools share a name.
    #[error(
        "two tools are named `{name}`: one declared at {first}, one at {second}; rename one (`name = \"..\"`)"
    )]
    Duplicate {
        /// The shared name.
        name: String,
        /// Where the first is declared.
        first: String,
        /// Where the second is declared.
        second: String,
    },
    /// A tool's input schema is not a valid JSON schema.
    #[error("the input schema of `{name}` is invalid: {reason}")]
    BadSchema {
        /// The tool.
        name: String,
        /// What the validator said.
        reason: String,
    },
}

/// One tool as the registry serves it: its descriptor and its schemas, prepared on first use (start-up builds
/// none: tools/list prepares only the listed tools', a call only its tool's).
pub struct ToolInfo {
    /// The descriptor registered by `#[tool_metadata]`.
    pub descriptor: &'static ToolDescriptor,
    schemas: std::sync::OnceLock<Schemas>,
    /// Validates arguments against the declared input schema; compiled on the tool's first call, so start-up
    /// does not wait for every tool's (`Registry::check_schemas` compiles them all, for tests).
    validator: std::sync::OnceLock<Option<jsonschema::Validator>>,
}

/// A tool's schemas, generated from its types and prepared for clients.
struct Schemas {
    /// The input schema as clients see it (compact, see `schema.rs`).
    input: serde_json::Value,
    /// The output schema, as the tool declares it.
    output: serde_json::Value,
    /// The output schema as MCP clients see it (lean).
    mcp_output: serde_json::Value,
    /// The argument names the tool accepts (`None`: any name).
    accepted: Option<Vec<String>>,
    /// The declared input schema (which also admits the `null`s serde admits), for the validator.
    raw_input: serde_json::Value,
}

impl Schemas {
    fn of(d: &'static ToolDescriptor) -> Schemas {
        let raw_input = (d.input_schema)();
        let output = (d.output_schema)();
        // Fixture tools (tests, the conformance suite) show their schemas exactly as declared: the suite
        // checks that `$schema`, `$defs` and `additionalProperties` reach the client untouched.
        let input = if d.category == tool_metadata::Category::Fixture {
            raw_input.clone()
        } else {
            schema::compact_input(&raw_input)
        };
        Schemas {
            input,
            accepted: schema::accepted_arguments(&raw_input),
            mcp_output: schema::lean_output(&output),
            output,
            raw_input,
        }
    }
}

impl ToolInfo {
    fn new(descriptor: &'static ToolDescriptor) -> ToolInfo {
        ToolInfo { descriptor, schemas: std::sync::OnceLock::new(), validator: std::sync::OnceLock::new() }
    }

    fn schemas(&self) -> &Schemas {
        self.schemas.get_or_init(|| Schemas::of(self.descriptor))
    }

    /// The input schema as clients see it (compact, see `schema.rs`); `async_mode` is accepted besides.
    pub fn input_schema(&self) -> &serde_json::Value {
        &self.schemas().input
    }

    /// The output schema, as the tool declares it.
    pub fn output_schema(&self) -> &serde_json::Value {
        &self.schemas().output
    }

    /// The output schema as MCP clients see it (lean, see `schema.rs`): the result's shape, or the job
    /// ticket a long call answers instead.
    pub fn mcp_output_schema(&self) -> &serde_json::Value {
        &self.schemas().mcp_output
    }

    /// The argument names the tool accepts (`None`: any name); others are refused.
    pub(crate) fn accepted(&self) -> Option<&Vec<String>> {
        self.schemas().accepted.as_ref()
    }

    /// The argument names the tool accepts besides `async_mode` (`None`: any name); the router refuses others.
    pub fn accepted_arguments(&self) -> Option<&[String]> {
        self.accepted().map(Vec::as_slice)
    }

    /// The argument validator (`None` if the declared schema does not compile, which `check_schemas`
    /// reports and tests refuse).
    pub(crate) fn validator(&self) -> Option<&jsonschema::Validator> {
        self.validator
            .get_or_init(|| match jsonschema::validator_for(&self.schemas().raw_input) {
                Ok(v) => Some(v),
                Err(e) => {
                    tracing::error!(tool = self.descriptor.name, error = %e, "a tool's input schema does not compile");
                    None
                }
            })
            .as_ref()
    }
}

impl std::fmt::Debug for ToolInfo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ToolInfo").field("name", &self.descriptor.name).finish()
    }
}

/// Counts of tools by runtime and by category.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct RegistryStats {
    /// All tools.
    pub tools: usize,
    /// By runtime (`Async`, `Blocking`, `Process`).
    pub by_runtime: BTreeMap<String, usize>,
    /// By category.
    pub by_category: BTreeMap<String, usize>,
}

/// Every tool of this binary, sorted by name.
#[derive(Debug)]
pub struct Registry {
    tools: Vec<ToolInfo>,
    index: HashMap<&'static str, usize>,
}

/// The router's own parameter, accepted by every tool. It is said once (the server instructions, TOOLS.md)
/// rather than in every listed schema.
pub(crate) const ASYNC_MODE: &str = "async_mode";

impl Registry {
    /// Every tool registered through inventory in this binary.
    pub fn from_inventory() -> Result<Registry, RegistryError> {
        Registry::from_descriptors(tool_metadata::registered().collect())
    }

    /// A registry of exactly these descriptors (sorted; duplicate names refused).
    pub fn from_descriptors(
        mut descriptors: Vec<&'static ToolDescriptor>,
    ) -> Result<Registry, RegistryError> {
        descriptors.sort_by(|a, b| a.name.cmp(b.name).then(a.source.cmp(b.source)));
        if let Some(w) = descriptors.windows(2).find(|w| w[0].name == w[1].name) {
            return Err(RegistryError::Duplicate {
                name: w[0].name.to_owned(),
                first: w[0].source.to_owned(),
                second: w[1].source.to_owned(),
            });
        }
        let tools: Vec<ToolInfo> = descriptors.into_iter().map(ToolInfo::new).collect();
        let index = tools.iter().enumerate().map(|(i, t)| (t.descriptor.name, i)).collect();
        Ok(Registry { tools, index })
    }

    /// The tool called `name`.
    pub fn get(&self, name: &str) -> Option<&ToolInfo> {
        self.index.get(name).map(|&i| &self.tools[i])
    }

    /// Compiles every tool's input schema (start-up compiles each on its first call); the first that does
    /// not compile is an error.
    pub fn check_schemas(&self) -> Result<(), RegistryError> {
        for t in &self.tools {
            jsonschema::validator_for(&t.schemas().raw_input).map_err(|e| RegistryError::BadSchema {
                name: t.descriptor.name.to_owned(),
                reason: e.to_string(),
            })?;
        }
        Ok(())
    }

    /// Every tool, sorted by name.
    pub fn tools(&self) -> &[ToolInfo] {
        &self.tools
    }

    /// The names, sorted.
    pub fn names(&self) -> Vec<&'static str> {
        self.tools.iter().map(|t| t.descriptor.name).collect()
    }

    /// Up to three names close to `name`, for "did you mean".
    pub fn suggest(&self, name: &str) -> Vec<&'static str> {
        let mut scored: Vec<(usize, &'static str)> = self
            .tools
            .iter()
            .map(|t| (edit_distance(name, t.descriptor.name), t.descriptor.name))
            .filter(|(d, n)| *d <= 3 || n.contains(name) || name.contains(n))
            .collect();
        scored.sort();
        scored.into_iter().take(3).map(|(_, n)| n).collect()
    }

    /// Counts by runtime and category.
    pub fn stats(&self) -> RegistryStats {
        let mut by_runtime: BTreeMap<String, usize> =
            Runtime::ALL.iter().map(|r| (r.as_str().to_owned(), 0)).collect();
        let mut by_category = BTreeMap::new();
        for t in &self.tools {
            *by_runtime.entry(t.descriptor.runtime.as_str().to_owned()).or_default() += 1;
            *by_category.entry(t.descriptor.category.as_str().to_owned()).or_default() += 1;
        }
        RegistryStats { tools: self.tools.len(), by_runtime, by_category }
    }
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            cur[j + 1] = (prev[j] + usize::from(ca != *cb)).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}
