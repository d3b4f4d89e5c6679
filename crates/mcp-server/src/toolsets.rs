//! Toolsets on the MCP face: each selection's tools/list (built once, shared by every session), the
//! selection of one session, the gate on `tools/call`, and the dynamic tools `toolsets_list` and
//! `toolset_enable` (a set enabled for this session; `notifications/tools/list_changed` follows).
//!
//! Resources and prompts are not gated: they are read-only views the client asks for by name.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock, RwLock};

use mcp_tools::toolsets::{self, dynamic};
use mcp_tools::{Router, ToolError, Toolset, Toolsets};
use rmcp::model::{CallToolRequestParams, CallToolResponse, Tool, ToolAnnotations};
use rmcp::service::RequestContext;
use rmcp::{ErrorData as McpError, RoleServer};

use crate::handler::{done_result, error_result, to_tool};

/// Every tool converted once, when first listed or looked up (a tool's schemas are generated then, not at
/// start-up), and the list of each selection asked for so far.
pub(crate) struct ToolLists {
    router: Router,
    /// By the registry's order.
    tools: Vec<OnceLock<Tool>>,
    dynamic: [Tool; 2],
    by_selection: Mutex<HashMap<Toolsets, Arc<Vec<Tool>>>>,
}

fn object(v: serde_json::Value) -> Arc<rmcp::model::JsonObject> {
    match v {
        serde_json::Value::Object(o) => Arc::new(o),
        _ => Arc::default(),
    }
}

impl ToolLists {
    pub(crate) fn new(router: &Router) -> ToolLists {
        let mut read_only = ToolAnnotations::default();
        read_only.read_only_hint = Some(true);
        read_only.open_world_hint = Some(false);
        let mut enable = ToolAnnotations::default();
        enable.destructive_hint = Some(false);
        enable.idempotent_hint = Some(true);
        enable.open_world_hint = Some(false);
        ToolLists {
            router: router.clone(),
            tools: router.registry().tools().iter().map(|_| OnceLock::new()).collect(),
            dynamic: [
                Tool::new(dynamic::LIST, dynamic::LIST_DESCRIPTION, object(dynamic::list_input()))
                    .with_annotations(read_only),
                Tool::new(dynamic::ENABLE, dynamic::ENABLE_DESCRIPTION, object(dynamic::enable_input()))
                    .with_annotations(enable),
            ],
            by_selection: Mutex::new(HashMap::new()),
        }
    }

    /// What a session with `sets` lists: the two dynamic tools, then its tools (sorted).
    pub(crate) fn listed(&self, sets: Toolsets) -> Arc<Vec<Tool>> {
        let mut cache = self.by_selection.lock().unwrap_or_else(|p| p.into_inner());
        cache
            .entry(sets)
            .or_insert_with(|| {
                let registry = self.router.registry();
                let enabled = registry
                    .tools()
                    .iter()
                    .enumerate()
                    .filter(|(_, i)| sets.enables(i.descriptor.name, i.descriptor.category))
                    .map(|(n, _)| self.tool(n).clone());
                Arc::new(self.dynamic.iter().cloned().chain(enabled).collect())
            })
            .clone()
    }

    /// Any tool by name, enabled or not (rmcp checks HTTP `Mcp-Param-*` headers against it).
    pub(crate) fn get(&self, name: &str) -> Option<Tool> {
        if let Some(t) = self.dynamic.iter().find(|t| t.name == name) {
            return Some(t.clone());
        }
        let n = self.router.registry().tools().iter().position(|i| i.descriptor.name == name)?;
        Some(self.tool(n).clone())
    }

    /// The `n`th tool of the registry as clients see it.
    fn tool(&self, n: usize) -> &Tool {
        self.tools[n].get_or_init(|| to_tool(&self.router.registry().tools()[n]))
    }

    /// How many tools the registry has.
    pub(crate) fn len(&self) -> usize {
        self.tools.len()
    }
}

/// One session's selection.
pub(crate) type Selection = Arc<RwLock<Toolsets>>;

pub(crate) fn current(selection: &Selection) -> Toolsets {
    *selection.read().unwrap_or_else(|p| p.into_inner())
}

/// Answers a `tools/call` of a dynamic tool, or refuses one of a tool outside the session's selection;
/// `None`: the call goes to the router.
pub(crate) async fn intercept(
    router: &Router,
    selection: &Selection,
    request: &CallToolRequestParams,
    context: &RequestContext<RoleServer>,
) -> Option<Result<CallToolResponse, McpError>> {
    let name = request.name.as_ref();
    let args = request.arguments.clone().unwrap_or_default();
    if name == dynamic::LIST {
        if let Some(err) = refuse_extra(name, &args, &[]) {
            return Some(Ok(error_result(&err).into()));
        }
        let value = toolsets::listing(router.registry(), current(selection));
        return Some(Ok(done_result(name, &serde_json::Value::Null, value).into()));
    }
    if name == dynamic::ENABLE {
        return Some(Ok(enable(router, selection, &args, context).await));
    }
    let info = router.registry().get(name)?;
    let sets = current(selection);
    let category = info.descriptor.category;
    (!sets.enables(name, category)).then(|| Ok(error_result(&sets.disabled_error(name, category)).into()))
}

fn refuse_extra(tool: &str, args: &rmcp::model::JsonObject, accepted: &[&str]) -> Option<ToolError> {
    let unknown: Vec<String> =
        args.keys().filter(|k| !accepted.contains(&k.as_str())).map(|k| format!("`{k}`")).collect();
    let first = args.keys().find(|k| !accepted.contains(&k.as_str()))?;
    let accepts = if accepted.is_empty() {
        "no arguments".to_owned()
    } else {
        accepted.iter().map(|a| format!("`{a}`")).collect::<Vec<_>>().join(", ")
    };
    Some(
        ToolError::new(
            mcp_tools::ErrorKind::InvalidArgument,
            format!("unknown argument {} for `{tool}`; it accepts {accepts}", unknown.join(", ")),
        )
        .with_param(first.clone()),
    )
}

async fn enable(
    router: &Router,
    selection: &Selection,
    args: &rmcp::model::JsonObject,
    context: &RequestContext<RoleServer>,
) -> CallToolResponse {
    if let Some(err) = refuse_extra(dynamic::ENABLE, args, &["toolset"]) {
        return error_result(&err).into();
    }
    let set = match args.get("toolset").and_then(|v| v.as_str()).map(str::parse::<Toolset>) {
        Some(Ok(set)) => set,
        Some(Err(why)) => return error_result(&ToolError::invalid_argument("toolset", why)).into(),
        None => {
            let names: Vec<&str> = Toolset::ALL.iter().map(|t| t.as_str()).collect();
            let why = format!("expected one of {}", names.join(", "));
            return error_result(&ToolError::invalid_argument("toolset", why)).into();
        }
    };
    let newly = {
        let mut sets = selection.write().unwrap_or_else(|p| p.into_inner());
        let newly = !sets.has(set);
        *sets = sets.with(set);
        newly
    };
    if newly && let Err(e) = context.peer.notify_tool_list_changed().await {
        tracing::debug!(error = %e, "tools/list_changed not delivered");
    }
    let members = toolsets::members(router.registry());
    let tools = members.iter().find(|(s, _)| *s == set).map(|(_, t)| t.clone()).unwrap_or_default();
    let markdown = format!(
        "{} `{set}`: {} (now listed and callable in this session).",
        if newly { "Enabled" } else { "Already enabled:" },
        tools.join(", ")
    );
    done_result(
        dynamic::ENABLE,
        &serde_json::Value::Null,
        serde_json::json!({
            "toolset": set.as_str(),
            "newly_enabled": newly,
            "tools": tools,
            "enabled": current(selection).to_string(),
            "markdown": markdown,
        }),
    )
    .into()
}
