//! The schemas as tools/list serves them: compact input schemas (what a model needs, nothing twice, only
//! standard JSON Schema), lean output schemas (the shape a validating client checks, without prose), and
//! the argument names a tool accepts (unknown ones are refused).
//!
//! Every byte of tools/list is paid in every conversation. The raw schemars output stays the validator's
//! (it also accepts the `null`s serde accepts); these are what clients see.

use serde_json::{Map, Value, json};

/// The one job-ticket alternative every tool's output may be (a call that outlived its inline budget).
pub(crate) fn job_ticket_shape() -> Value {
    json!({"required": ["job_id", "status"]})
}

/// Integer formats schemars emits and the bounds they stand for (JSON Schema knows no such formats).
fn format_bounds(format: &str) -> Option<(Option<i64>, Option<i64>)> {
    Some(match format {
        "uint8" => (Some(0), Some(u8::MAX.into())),
        "uint16" => (Some(0), Some(u16::MAX.into())),
        // Wider bounds are no limit anyone meets: stating them is noise.
        "uint32" | "uint64" | "uint128" | "uint" => (Some(0), None),
        "int8" => (Some(i8::MIN.into()), Some(i8::MAX.into())),
        "int16" => (Some(i16::MIN.into()), Some(i16::MAX.into())),
        "int32" | "int64" | "int128" | "int" | "float" | "double" => (None, None),
        _ => return None,
    })
}

/// The formats of JSON Schema 2020-12; any other is dropped (or turned into bounds).
const STANDARD_FORMATS: &[&str] = &[
    "date-time",
    "date",
    "time",
    "duration",
    "email",
    "idn-email",
    "hostname",
    "idn-hostname",
    "ipv4",
    "ipv6",
    "uri",
    "uri-reference",
    "iri",
    "iri-reference",
    "uuid",
    "uri-template",
    "json-pointer",
    "relative-json-pointer",
    "regex",
];

/// Where a node sits: only the root's own properties keep their descriptions.
#[derive(Clone, Copy, PartialEq)]
enum Place {
    Root,
    RootProperty,
    Nested,
}

/// The input schema a model reads: descriptions only on the top-level parameters, enums of constants as
/// `enum`, optional values without their `null` alternative, definitions used once inlined, no titles, no
/// `$schema` (2020-12 is MCP's default dialect, SEP-1613), only standard formats (integer formats become
/// `minimum`/`maximum`), no `additionalProperties: false` (the router refuses unknown arguments itself).
pub(crate) fn compact_input(raw: &Value) -> Value {
    let mut out = compact(raw, Place::Root);
    inline_single_use(&mut out);
    if let Some(o) = out.as_object_mut() {
        o.insert("type".into(), "object".into());
    }
    out
}

/// Inlines each definition referenced once (and not by itself); drops `$defs` when none is left.
fn inline_single_use(schema: &mut Value) {
    loop {
        let Some(Value::Object(defs)) = schema.get("$defs") else { return };
        let mut counts = std::collections::BTreeMap::new();
        count_refs(schema, &mut counts);
        let single = defs.iter().find(|(name, def)| {
            let mut own = std::collections::BTreeMap::new();
            count_refs(def, &mut own);
            counts.get(name.as_str()) == Some(&1) && !own.contains_key(name.as_str())
        });
        let Some((name, def)) = single.map(|(n, d)| (n.clone(), d.clone())) else { break };
        if let Some(Value::Object(defs)) = schema.get_mut("$defs") {
            defs.remove(&name);
        }
        replace_ref(schema, &format!("#/$defs/{name}"), &def);
    }
    if schema.get("$defs").and_then(Value::as_object).is_some_and(Map::is_empty)
        && let Some(o) = schema.as_object_mut()
    {
        o.remove("$defs");
    }
}

fn count_refs(node: &Value, counts: &mut std::collections::BTreeMap<String, usize>) {
    match node {
        Value::Object(o) => {
            if let Some(name) = o.get("$ref").and_then(Value::as_str).and_then(|r| r.strip_prefix("#/$defs/"))
            {
                *counts.entry(name.to_owned()).or_default() += 1;
            }
            o.values().for_each(|v| count_refs(v, counts));
        }
        Value::Array(a) => a.iter().for_each(|v| count_refs(v, counts)),
        _ => {}
    }
}

fn replace_ref(node: &mut Value, target: &str, def: &Value) {
    match node {
        Value::Object(o) => {
            if o.get("$ref").and_then(Value::as_str) == Some(target) {
                o.remove("$ref");
                if let Value::Object(d) = def {
                    for (k, v) in d {
                        o.entry(k.clone()).or_insert_with(|| v.clone());
                    }
                }
                return;
            }
            o.values_mut().for_each(|v| replace_ref(v, target, def));
        }
        Value::Array(a) => a.iter_mut().for_each(|v| replace_ref(v, target, def)),
        _ => {}
    }
}

fn compact(node: &Value, place: Place) -> Value {
    let Value::Object(obj) = node else { return node.clone() };
    let obj = simplify(obj);
    let mut out = Map::new();
    for (k, v) in &obj {
        match k.as_str() {
            "$schema" | "title" | "examples" => {}
            "description" if place != Place::RootProperty => {}
            "default" if v.is_null() || v == &Value::Bool(false) || v == &json!([]) => {}
            "additionalProperties" if v == &Value::Bool(false) => {}
            "format" => {
                let f = v.as_str().unwrap_or_default();
                if STANDARD_FORMATS.contains(&f) {
                    out.insert(k.clone(), v.clone());
                } else if let Some((min, max)) = format_bounds(f) {
                    if let Some(min) = min {
                        out.entry("minimum").or_insert(min.into());
                    }
                    if let Some(max) = max {
                        out.entry("maximum").or_insert(max.into());
                    }
                }
            }
            "type" => {
                out.insert(k.clone(), without_null_type(v));
            }
            "properties" => {
                let inner = if place == Place::Root { Place::RootProperty } else { Place::Nested };
                out.insert(k.clone(), map_values(v, |p| compact(p, inner)));
            }
            "$defs" | "patternProperties" | "dependentSchemas" => {
                out.insert(k.clone(), map_values(v, |p| compact(p, Place::Nested)));
            }
            _ => {
                out.insert(k.clone(), compact_any(v));
            }
        }
    }
    // A `minimum`/`maximum` already present wins over a format's bounds (it is the tool's own limit).
    for key in ["minimum", "maximum"] {
        if let Some(v) = obj.get(key) {
            out.insert(key.into(), v.clone());
        }
    }
    Value::Object(out)
}

/// Nested schemas in any other keyword (`items`, `anyOf`, `additionalProperties`...).
fn compact_any(v: &Value) -> Value {
    match v {
        Value::Object(_) => compact(v, Place::Nested),
        Value::Array(a) => Value::Array(a.iter().map(compact_any).collect()),
        other => other.clone(),
    }
}

fn map_values(v: &Value, f: impl Fn(&Value) -> Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(m.iter().map(|(k, v)| (k.clone(), f(v))).collect()),
        other => other.clone(),
    }
}

fn without_null_type(v: &Value) -> Value {
    match v {
        Value::Array(a) => {
            let rest: Vec<Value> = a.iter().filter(|t| t.as_str() != Some("null")).cloned().collect();
            match rest.as_slice() {
                [one] => one.clone(),
                [] => Value::Array(a.clone()),
                _ => Value::Array(rest),
            }
        }
        other => other.clone(),
    }
}

/// `oneOf`/`anyOf` of constants → `enum`; `anyOf [X, null]` → X (absent already means none).
fn simplify(obj: &Map<String, Value>) -> Map<String, Value> {
    let mut obj = obj.clone();
    for key in ["oneOf", "anyOf"] {
        let Some(Value::Array(alts)) = obj.get(key) else { continue };
        let consts: Option<Vec<Value>> = alts.iter().map(|a| a.get("const").cloned()).collect();
        if let Some(values) = consts {
            obj.remove(key);
            obj.insert("enum".into(), Value::Array(values));
            continue;
        }
        let non_null: Vec<&Value> = alts.iter().filter(|a| a.get("type") != Some(&json!("null"))).collect();
        if let [only] = non_null.as_slice()
            && alts.len() == 2
            && let Some(inner) = only.as_object()
        {
            let inner = inner.clone();
            obj.remove(key);
            for (k, v) in inner {
                obj.entry(k).or_insert(v);
            }
        }
    }
    if let Some(Value::Array(values)) = obj.get_mut("enum") {
        values.retain(|v| !v.is_null());
    }
    obj
}

/// The output schema a validating client checks: the fields a result always has, or the job ticket. No
/// prose, no types or bounds (a model never reads them; TOOLS.md and the declared schema keep them): it never
/// rejects a real result and says what a program can rely on.
pub(crate) fn lean_output(raw: &Value) -> Value {
    let defs = raw.get("$defs").cloned().unwrap_or(Value::Null);
    let mut alternatives = shapes(raw, &defs);
    alternatives.dedup();
    alternatives.push(job_ticket_shape());
    json!({"type": "object", "anyOf": alternatives})
}

fn resolve<'a>(mut node: &'a Value, defs: &'a Value) -> &'a Value {
    for _ in 0..16 {
        let Some(r) = node.get("$ref").and_then(Value::as_str) else { break };
        match r.strip_prefix("#/$defs/").and_then(|name| defs.get(name)) {
            Some(target) => node = target,
            None => break,
        }
    }
    node
}

/// The result's top-level shapes (one per alternative of an enum result).
fn shapes(root: &Value, defs: &Value) -> Vec<Value> {
    let root = resolve(root, defs);
    if root.get("properties").is_none() {
        for key in ["oneOf", "anyOf"] {
            if let Some(Value::Array(alts)) = root.get(key) {
                return alts.iter().flat_map(|a| shapes(a, defs)).collect();
            }
        }
    }
    let mut shape = Map::new();
    if let Some(Value::Array(required)) = root.get("required") {
        shape.insert("required".into(), Value::Array(required.clone()));
    }
    vec![Value::Object(shape)]
}

/// The argument names a tool accepts (its top-level properties, with those of flattened alternatives),
/// or `None` when its parameters admit any name (a flattened map).
pub(crate) fn accepted_arguments(raw: &Value) -> Option<Vec<String>> {
    let defs = raw.get("$defs").cloned().unwrap_or(Value::Null);
    let mut names = Vec::new();
    collect_names(raw, &defs, &mut names, 0)?;
    // A schema that says nothing of objects (`true`, `{}`) admits any name; an object without properties
    // (a tool of no parameters) admits none.
    if names.is_empty() && raw.get("properties").is_none() && raw.get("type") != Some(&json!("object")) {
        return None;
    }
    names.sort();
    names.dedup();
    Some(names)
}

fn collect_names(node: &Value, defs: &Value, names: &mut Vec<String>, depth: u8) -> Option<()> {
    let node = resolve(node, defs);
    if depth > 8 || matches!(node, Value::Bool(true)) {
        return None;
    }
    if node.get("additionalProperties").is_some_and(|a| a != &Value::Bool(false)) {
        return None;
    }
    if let Some(Value::Object(props)) = node.get("properties") {
        names.extend(props.keys().cloned());
    }
    for key in ["oneOf", "anyOf", "allOf"] {
        if let Some(Value::Array(alts)) = node.get(key) {
            for a in alts {
                collect_names(a, defs, names, depth + 1)?;
            }
        }
    }
    Some(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn input_is_compact_and_standard() {
        let raw = json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "title": "P", "description": "Parameters.", "type": "object",
            "$defs": {"Sort": {"description": "Order.", "oneOf": [
                {"const": "asc", "type": "string", "description": "Up."},
                {"const": "desc", "type": "string", "description": "Down."}]}},
            "properties": {
                "n": {"type": "integer", "format": "uint32", "minimum": 1, "maximum": 50, "description": "How many."},
                "k": {"type": ["integer", "null"], "format": "uint64", "minimum": 0, "default": null},
                "s": {"anyOf": [{"$ref": "#/$defs/Sort"}, {"type": "null"}], "description": "Sort."},
                "u": {"type": "integer", "format": "uint8"}
            },
            "required": ["n"]
        });
        let c = compact_input(&raw);
        assert_eq!(
            c,
            json!({
                "type": "object",
                "properties": {
                    "n": {"type": "integer", "minimum": 1, "maximum": 50, "description": "How many."},
                    "k": {"type": "integer", "minimum": 0},
                    "s": {"enum": ["asc", "desc"], "description": "Sort."},
                    "u": {"type": "integer", "minimum": 0, "maximum": 255}
                },
                "required": ["n"]
            })
        );
    }

    #[test]
    fn output_keeps_the_required_shape_and_the_ticket() {
        let raw = json!({
            "type": "object",
            "$defs": {"Item": {"type": "object", "properties": {"x": {"type": "string"}}}},
            "properties": {
                "items": {"type": "array", "items": {"$ref": "#/$defs/Item"}, "description": "The items."},
                "total": {"type": "integer", "format": "uint64", "minimum": 0},
                "status": {"oneOf": [{"const": "ok"}, {"const": "degraded"}]},
                "note": {"type": ["string", "null"]}
            },
            "required": ["items", "total", "status"]
        });
        assert_eq!(
            lean_output(&raw),
            json!({"type": "object", "anyOf": [
                {"required": ["items", "total", "status"]},
                {"required": ["job_id", "status"]}
            ]})
        );
    }

    #[test]
    fn accepted_names_include_flattened_alternatives() {
        let raw = json!({
            "type": "object",
            "properties": {"a": {}, "b": {}},
            "oneOf": [{"properties": {"c": {}}}, {"$ref": "#/$defs/D"}],
            "$defs": {"D": {"properties": {"d": {}}}}
        });
        assert_eq!(accepted_arguments(&raw), Some(vec!["a".into(), "b".into(), "c".into(), "d".into()]));
        let map = json!({"type": "object", "additionalProperties": {"type": "string"}});
        assert_eq!(accepted_arguments(&map), None);
        assert_eq!(accepted_arguments(&json!({"type": "object", "title": "NoParams"})), Some(vec![]));
    }
}
