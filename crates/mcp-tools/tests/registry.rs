//! The registry: sorted, with stats, and a duplicate name is a start-up error naming both definitions.

use mcp_tools::{Registry, RegistryError, ToolError};
use tool_metadata::tool_metadata;

#[derive(serde::Deserialize, schemars::JsonSchema)]
struct P {}

#[derive(serde::Serialize, schemars::JsonSchema)]
struct O {}

/// One tool called `dup`.
#[tool_metadata(name = "dup", category = fixture, runtime = Async, timeout_seconds = 1)]
async fn first(_p: P) -> Result<O, ToolError> {
    Ok(O {})
}

/// Another tool called `dup`.
#[tool_metadata(name = "dup", category = fixture, runtime = Blocking, timeout_seconds = 1)]
async fn second(_p: P) -> Result<O, ToolError> {
    Ok(O {})
}

#[test]
fn a_duplicate_name_is_refused_naming_both_definitions() {
    let err = Registry::from_inventory().unwrap_err();
    let RegistryError::Duplicate { name, first, second } = &err else { panic!("{err}") };
    assert_eq!(name, "dup");
    assert!(first.contains("tests/registry.rs") && second.contains("tests/registry.rs"), "{err}");
    assert_ne!(first, second);
    assert!(err.to_string().contains("rename one"));
}

#[test]
fn the_production_tools_are_registered_sorted_with_stats() {
    let production: Vec<_> =
        tool_metadata::registered().filter(|d| d.category != tool_metadata::Category::Fixture).collect();
    let registry = Registry::from_descriptors(production).expect("no duplicates among production tools");
    registry.check_schemas().expect("every input schema compiles");
    let names = registry.names();
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(names, sorted);
    for must in
        ["health", "job_status", "job_list", "job_cancel", "job_prune", "metrics", "metrics_prometheus"]
    {
        assert!(names.contains(&must), "{must} is registered (inventory works in this binary)");
    }
    let stats = registry.stats();
    assert_eq!(stats.tools, names.len());
    assert_eq!(stats.by_runtime.values().sum::<usize>(), names.len());
    assert_eq!(stats.by_category.values().sum::<usize>(), names.len());
    assert!(registry.get("health").is_some() && registry.get("nope").is_none());
    assert_eq!(registry.suggest("job_stats"), vec!["job_status"]);
}

#[test]
fn every_production_tool_is_in_a_toolset_and_the_table_names_real_tools() {
    let production: Vec<_> =
        tool_metadata::registered().filter(|d| d.category != tool_metadata::Category::Fixture).collect();
    let registry = Registry::from_descriptors(production).expect("no duplicates among production tools");
    assert_eq!(mcp_tools::toolsets::unknown_extra_tools(&registry), Vec::<&str>::new());
    let members = mcp_tools::toolsets::members(&registry);
    for name in registry.names() {
        assert!(members.iter().any(|(_, tools)| tools.contains(&name)), "{name} is in no toolset");
    }
}

#[test]
fn the_tools_that_take_index_declare_it_in_their_metadata() {
    for d in tool_metadata::registered().filter(|d| d.category != tool_metadata::Category::Fixture) {
        let schema = (d.input_schema)();
        let takes_index = schema.pointer("/properties/index").is_some();
        assert_eq!(takes_index, d.indexes_results, "{}: `index` argument vs `indexes_results`", d.name);
    }
}
