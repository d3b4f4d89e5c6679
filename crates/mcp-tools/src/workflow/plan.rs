//! Validating a definition into a plan: known tools, literal arguments checked against each tool's input
//! schema, references to steps that exist, no cycle (named in order), and the waves of steps that can run
//! together. Every problem names its step and field; all are reported at once.

use std::collections::{HashMap, HashSet};

use serde::Serialize;

use super::refs::{self, ITEM};
use super::{Definition, StepDef};
use crate::Registry;

/// Tool calls at once unless the definition says otherwise.
const DEFAULT_PARALLEL: usize = 4;
const MAX_PARALLEL: usize = 64;
const MAX_STEPS: usize = 10_000;
const MAX_TIMEOUT: u64 = 86_400;
const MAX_RETRIES: u32 = 10;

/// One problem with a definition.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub(crate) struct PlanIssue {
    /// The step it concerns (none: the workflow as a whole).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) step: Option<String>,
    /// The field, e.g. `tool`, `args.pmids`, `depends_on`.
    pub(crate) field: String,
    /// What is wrong and what was expected.
    pub(crate) message: String,
}

/// What `workflow_validate` answers.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub(crate) struct Validation {
    /// Whether the workflow can run.
    pub(crate) valid: bool,
    /// The workflow's name.
    pub(crate) name: String,
    /// Steps in all.
    pub(crate) steps: usize,
    /// Tool calls at once.
    pub(crate) max_parallel: usize,
    /// Step ids that can run together, wave by wave (empty when invalid).
    pub(crate) waves: Vec<Vec<String>>,
    /// The problems, each naming its step and field.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) errors: Vec<PlanIssue>,
}

/// A valid workflow, ready to run.
#[derive(Debug, Clone)]
pub(crate) struct Plan {
    pub(crate) def: Definition,
    /// For each step (by position), the positions of the steps it needs.
    pub(crate) deps: Vec<Vec<usize>>,
    pub(crate) waves: Vec<Vec<usize>>,
    pub(crate) max_parallel: usize,
}

impl Plan {
    /// The one-line summary of the first problems, for an error naming the definition.
    pub(crate) fn issues_message(issues: &[PlanIssue]) -> String {
        let mut parts: Vec<String> = issues
            .iter()
            .take(5)
            .map(|i| match &i.step {
                Some(s) => format!("step `{s}` {}: {}", i.field, i.message),
                None => format!("{}: {}", i.field, i.message),
            })
            .collect();
        if issues.len() > 5 {
            parts.push(format!("and {} more (workflow_validate lists them all)", issues.len() - 5));
        }
        parts.join("; ")
    }
}

struct Issues(Vec<PlanIssue>);

impl Issues {
    fn add(&mut self, step: Option<&str>, field: impl Into<String>, message: impl Into<String>) {
        self.0.push(PlanIssue {
            step: step.map(str::to_owned),
            field: field.into(),
            message: message.into(),
        });
    }
}

fn valid_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 64
        && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        && !id.starts_with('$')
}

/// Validates `def` against the tools of `registry`: the answer for `workflow_validate`, and the plan when
/// it is valid.
pub(crate) fn validate(def: &Definition, registry: &Registry) -> (Validation, Option<Plan>) {
    let mut issues = Issues(Vec::new());
    if def.name.trim().is_empty() {
        issues.add(None, "name", "give the workflow a name");
    }
    if def.steps.is_empty() {
        issues.add(None, "steps", "expected at least one step");
    }
    if def.steps.len() > MAX_STEPS {
        issues.add(None, "steps", format!("{} steps; at most {MAX_STEPS}", def.steps.len()));
    }
    let max_parallel = def.max_parallel.unwrap_or(DEFAULT_PARALLEL);
    if !(1..=MAX_PARALLEL).contains(&max_parallel) {
        issues.add(None, "max_parallel", format!("{max_parallel}; expected 1 to {MAX_PARALLEL}"));
    }
    let mut index: HashMap<&str, usize> = HashMap::with_capacity(def.steps.len());
    for (i, s) in def.steps.iter().enumerate() {
        if !valid_id(&s.id) {
            issues.add(Some(&s.id), "id", "expected 1–64 letters, digits, `_` or `-`");
        } else if index.insert(s.id.as_str(), i).is_some() {
            issues.add(Some(&s.id), "id", "another step has this id; ids must be unique");
        }
    }
    let mut deps: Vec<Vec<usize>> = vec![Vec::new(); def.steps.len()];
    for (i, s) in def.steps.iter().enumerate() {
        check_step(s, registry, &index, &mut deps[i], &mut issues);
        deps[i].sort_unstable();
        deps[i].dedup();
    }
    let waves = if issues.0.is_empty() { waves_or_cycle(def, &deps, &mut issues) } else { Vec::new() };
    let valid = issues.0.is_empty();
    let validation = Validation {
        valid,
        name: def.name.clone(),
        steps: def.steps.len(),
        max_parallel,
        waves: waves.iter().map(|w| w.iter().map(|&i| def.steps[i].id.clone()).collect()).collect(),
        errors: issues.0,
    };
    let plan = valid.then(|| Plan { def: def.clone(), deps, waves, max_parallel });
    (validation, plan)
}

fn check_step(
    s: &StepDef,
    registry: &Registry,
    index: &HashMap<&str, usize>,
    deps: &mut Vec<usize>,
    issues: &mut Issues,
) {
    let id = Some(s.id.as_str());
    for d in &s.depends_on {
        match index.get(d.as_str()) {
            Some(_) if *d == s.id => issues.add(id, "depends_on", "a step cannot depend on itself"),
            Some(&j) => deps.push(j),
            None => issues.add(id, "depends_on", format!("no step `{d}` in this workflow")),
        }
    }
    if let Some(t) = s.timeout_seconds
        && !(1..=MAX_TIMEOUT).contains(&t)
    {
        issues.add(id, "timeout_seconds", format!("{t}; expected 1 to {MAX_TIMEOUT}"));
    }
    if let Some(r) = s.retry
        && r.retries > MAX_RETRIES
    {
        issues.add(id, "retry.retries", format!("{}; expected 0 to {MAX_RETRIES}", r.retries));
    }
    let mut found = Vec::new();
    if let Some(each) = &s.for_each {
        if !refs::is_ref(each) {
            issues.add(
                id,
                "for_each",
                "expected a reference: {\"$ref\": \"<step id>\", \"path\": \"<JSONPath>\"}",
            );
        } else {
            refs::collect(each, "for_each", &mut found);
        }
    }
    refs::collect(&s.args, "args", &mut found);
    for f in found {
        match f.parsed {
            Err(why) => issues.add(id, f.at, why),
            Ok(r) if r.step == ITEM && s.for_each.is_some() && f.at != "for_each" => {}
            Ok(r) if r.step == ITEM => issues.add(
                id,
                f.at,
                "`$item` refers to the current item of a `for_each` step; this one has none",
            ),
            Ok(r) if r.step == s.id => issues.add(id, f.at, "a step cannot refer to its own result"),
            Ok(r) => match index.get(r.step.as_str()) {
                Some(&j) => deps.push(j),
                None => issues.add(
                    id,
                    f.at,
                    format!("refers to step `{}`, which is not in this workflow", r.step),
                ),
            },
        }
    }
    check_tool(s, registry, issues);
}

/// The tool exists, and the literal arguments hold against its input schema (arguments that are or hold
/// references are checked when the step runs, once resolved).
fn check_tool(s: &StepDef, registry: &Registry, issues: &mut Issues) {
    let id = Some(s.id.as_str());
    let Some(info) = registry.get(&s.tool) else {
        let hint = match registry.suggest(&s.tool).as_slice() {
            [] => String::new(),
            names => format!("; did you mean {}?", names.join(", ")),
        };
        issues.add(id, "tool", format!("unknown tool `{}`{hint}", s.tool));
        return;
    };
    if s.tool == super::RUN_TOOL {
        issues.add(id, "tool", "a workflow cannot run a workflow as a step");
        return;
    }
    let Some(args) = s.args.as_object() else {
        issues.add(id, "args", format!("expected an object of `{}`'s parameters", s.tool));
        return;
    };
    if args.contains_key("async_mode") {
        issues.add(id, "args.async_mode", "steps run inside the workflow's job; leave `async_mode` out");
        return;
    }
    if let Some(accepted) = info.accepted()
        && let Some(k) = args.keys().find(|k| !accepted.contains(k))
    {
        issues.add(
            id,
            format!("args.{k}"),
            format!("`{}` takes no `{k}`; it accepts {}", s.tool, accepted.join(", ")),
        );
        return;
    }
    let deferred: HashSet<&str> =
        args.iter().filter(|(_, v)| holds_ref(v)).map(|(k, _)| k.as_str()).collect();
    let literal: serde_json::Map<String, serde_json::Value> = args
        .iter()
        .filter(|(k, _)| !deferred.contains(k.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let literal = serde_json::Value::Object(literal);
    let Some(validator) = info.validator() else { return };
    for e in validator.iter_errors(&literal) {
        let path = e.instance_path().to_string();
        let top = path.trim_start_matches('/').split('/').next().unwrap_or_default().to_owned();
        let message = e.to_string();
        let name =
            if top.is_empty() { message.split('"').nth(1).unwrap_or_default().to_owned() } else { top };
        if deferred.contains(name.as_str()) {
            continue; // a required argument given by reference
        }
        let field = if path.is_empty() || path == "/" {
            format!("args.{name}")
        } else {
            format!("args{}", path.replace('/', "."))
        };
        let mut message = message;
        if message.len() > 200 {
            let end = (0..=200).rev().find(|&i| message.is_char_boundary(i)).unwrap_or(0);
            message.truncate(end);
            message.push('…');
        }
        issues.add(id, field, format!("{message} (`{}`'s input schema)", s.tool));
        return;
    }
}

fn holds_ref(v: &serde_json::Value) -> bool {
    match v {
        serde_json::Value::Object(o) => o.contains_key("$ref") || o.values().any(holds_ref),
        serde_json::Value::Array(a) => a.iter().any(holds_ref),
        _ => false,
    }
}

/// The waves (Kahn's algorithm, level by level, each wave in definition order), or the cycle named in
/// order when some steps can never start.
fn waves_or_cycle(def: &Definition, deps: &[Vec<usize>], issues: &mut Issues) -> Vec<Vec<usize>> {
    let n = deps.len();
    let mut waiting: Vec<usize> = deps.iter().map(Vec::len).collect();
    let mut dependants: Vec<Vec<usize>> = vec![Vec::new(); n];
    for (i, ds) in deps.iter().enumerate() {
        for &d in ds {
            dependants[d].push(i);
        }
    }
    let mut wave: Vec<usize> = (0..n).filter(|&i| waiting[i] == 0).collect();
    let mut waves = Vec::new();
    let mut placed = 0;
    while !wave.is_empty() {
        placed += wave.len();
        let mut next = Vec::new();
        for &i in &wave {
            for &j in &dependants[i] {
                waiting[j] -= 1;
                if waiting[j] == 0 {
                    next.push(j);
                }
            }
        }
        next.sort_unstable();
        waves.push(std::mem::replace(&mut wave, next));
    }
    if placed == n {
        return waves;
    }
    // Every step left waits on another step left: walk "needs" edges from the first until one repeats.
    let left: Vec<bool> = waiting.iter().map(|&w| w > 0).collect();
    let start = (0..n).find(|&i| left[i]).unwrap_or(0);
    let mut seen: HashMap<usize, usize> = HashMap::new();
    let mut walk = Vec::new();
    let mut at = start;
    while let std::collections::hash_map::Entry::Vacant(e) = seen.entry(at) {
        e.insert(walk.len());
        walk.push(at);
        at = deps[at].iter().copied().find(|&d| left[d]).unwrap_or(start);
    }
    let mut cycle: Vec<usize> = walk[seen[&at]..].to_vec();
    cycle.reverse(); // "needs" order → the order results flow in
    let first = cycle.iter().enumerate().min_by_key(|&(_, s)| *s).map_or(0, |(i, _)| i);
    cycle.rotate_left(first);
    let mut names: Vec<String> = cycle.iter().map(|&i| format!("`{}`", def.steps[i].id)).collect();
    names.push(names[0].clone());
    let stuck = left.iter().filter(|&&l| l).count();
    issues.add(
        Some(&def.steps[cycle[0]].id),
        "depends_on",
        format!(
            "the steps form a cycle: {} (each needs the one before it); {stuck} step(s) could never start",
            names.join(" → ")
        ),
    );
    Vec::new()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn registry() -> Registry {
        Registry::from_inventory().unwrap()
    }

    /// The waves, or the problems as (step, field, part of the message).
    type Expected<'a> = Result<&'a [&'a [&'a str]], &'a [(&'a str, &'a str, &'a str)]>;

    fn check(def: serde_json::Value, expected: Expected<'_>) {
        let def: Definition = serde_json::from_value(def).unwrap();
        let (v, plan) = validate(&def, &registry());
        match expected {
            Ok(waves) => {
                assert!(v.valid, "{:?}", v.errors);
                assert!(plan.is_some());
                let want: Vec<Vec<String>> =
                    waves.iter().map(|w| w.iter().map(|s| s.to_string()).collect()).collect();
                assert_eq!(v.waves, want);
            }
            Err(errors) => {
                assert!(!v.valid && plan.is_none());
                let got: Vec<(String, String, String)> = v
                    .errors
                    .iter()
                    .map(|e| (e.step.clone().unwrap_or_default(), e.field.clone(), e.message.clone()))
                    .collect();
                assert_eq!(got.len(), errors.len(), "{got:?}");
                for ((s, f, m), (es, ef, em)) in got.iter().zip(errors) {
                    assert_eq!((s.as_str(), f.as_str()), (*es, *ef), "{got:?}");
                    assert!(m.contains(em), "{m} lacks {em}");
                }
            }
        }
    }

    fn step(id: &str, needs: &[&str]) -> serde_json::Value {
        json!({"id": id, "tool": "index_list", "depends_on": needs})
    }

    #[test]
    fn waves_follow_dependencies_and_references() {
        check(
            json!({"name": "w", "steps": [
                step("c", &["a", "b"]), step("a", &[]), step("b", &["a"]),
                {"id": "d", "tool": "job_status", "args": {"job_id": {"$ref": "c", "path": "$.indexes[0].id"}}},
                step("e", &[]),
            ]}),
            Ok(&[&["a", "e"], &["b"], &["c"], &["d"]]),
        );
    }

    #[test]
    fn a_cycle_is_named_in_order() {
        check(
            json!({"name": "w", "steps": [step("x", &[]), step("a", &["c"]), step("b", &["a", "x"]), step("c", &["b"])]}),
            Err(&[("a", "depends_on", "cycle: `a` → `b` → `c` → `a`")]),
        );
        check(json!({"name": "w", "steps": [step("a", &["a"])]}), Err(&[("a", "depends_on", "itself")]));
    }

    #[test]
    fn problems_name_the_step_and_field() {
        check(
            json!({"name": "w", "max_parallel": 0, "steps": [
                {"id": "s", "tool": "pubmed_serch", "args": {}},
                {"id": "f", "tool": "job_status", "args": {"job_id": 7}},
                {"id": "g", "tool": "job_status", "args": {"job_id": {"$ref": "nope"}}},
                {"id": "h", "tool": "job_status", "args": {"job_id": {"$ref": "f", "path": "job_id"}}},
                {"id": "i", "tool": "job_status", "args": {"jobid": "x"}},
                {"id": "j", "tool": "job_status", "args": {"job_id": {"$ref": "$item"}}},
                {"id": "k", "tool": "job_status", "args": {}},
                {"id": "s", "tool": "index_list"},
            ]}),
            Err(&[
                ("", "max_parallel", "expected 1 to 64"),
                ("s", "id", "unique"),
                ("s", "tool", "did you mean pubmed_search"),
                ("f", "args.job_id", "not of type \"string\""),
                ("g", "args.job_id", "step `nope`, which is not in this workflow"),
                ("h", "args.job_id", "`job_id` is not a JSONPath"),
                ("i", "args.jobid", "takes no `jobid`"),
                ("j", "args.job_id", "has none"),
                ("k", "args.job_id", "required"),
            ]),
        );
    }

    #[test]
    fn for_each_items_are_references_in_the_step() {
        check(
            json!({"name": "w", "steps": [
                step("l", &[]),
                {"id": "each", "tool": "job_status", "for_each": {"$ref": "l", "path": "$.indexes[*]"},
                 "args": {"job_id": {"$ref": "$item", "path": "$.id"}}},
            ]}),
            Ok(&[&["l"], &["each"]]),
        );
    }
}
