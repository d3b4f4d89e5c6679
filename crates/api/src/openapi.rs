//! `GET /openapi.json`: an OpenAPI 3.1 document generated from the registry, one operation per tool (its
//! operationId is the tool's name), the jobs endpoints, and every error answer. Each tool's schemas are
//! already JSON Schema 2020-12; their `$defs` move to `components/schemas` as `<tool>.<name>` so that every
//! `$ref` resolves within the document.

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use mcp_tools::{JobRecord, JobTicket, ProgressJson, Registry, ToolError};
use serde_json::{Map, Value, json};

use crate::Api;

/// `GET /openapi.json` (built on first request, then served from memory).
pub(crate) async fn serve(State(api): State<Api>) -> Response {
    let bytes = api
        .openapi
        .get_or_init(|| serde_json::to_vec(&document(api.router.registry())).unwrap_or_default().into())
        .clone();
    ([(header::CONTENT_TYPE, "application/json")], bytes).into_response()
}

/// A component name: what OpenAPI allows (`^[a-zA-Z0-9._-]+$`), anything else as `_`.
fn component_name(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') { c } else { '_' })
        .collect()
}

/// Points every `#/$defs/NAME…` reference inside `v` at `#/components/schemas/PREFIX.NAME…`.
fn rewrite_refs(v: &mut Value, prefix: &str) {
    match v {
        Value::Object(map) => {
            if let Some(Value::String(r)) = map.get_mut("$ref")
                && let Some(rest) = r.strip_prefix("#/$defs/")
            {
                let (name, tail) = rest.split_once('/').map_or((rest, ""), |(n, t)| (n, t));
                let tail = if tail.is_empty() { String::new() } else { format!("/{tail}") };
                *r = format!("#/components/schemas/{}{tail}", component_name(&format!("{prefix}.{name}")));
            }
            map.values_mut().for_each(|v| rewrite_refs(v, prefix));
        }
        Value::Array(items) => items.iter_mut().for_each(|v| rewrite_refs(v, prefix)),
        _ => {}
    }
}

/// `schema` made a schema of this document: its `$defs` moved into `components` under `prefix`, its
/// references rewritten, its `$schema` dropped (the document says the dialect once).
fn adopt(mut schema: Value, prefix: &str, components: &mut Map<String, Value>) -> Value {
    if let Some(obj) = schema.as_object_mut() {
        obj.remove("$schema");
        if let Some(Value::Object(defs)) = obj.remove("$defs") {
            for (name, mut def) in defs {
                rewrite_refs(&mut def, prefix);
                components.insert(component_name(&format!("{prefix}.{name}")), def);
            }
        }
    }
    rewrite_refs(&mut schema, prefix);
    schema
}

fn schema_of<T: schemars::JsonSchema>() -> Value {
    let generator = schemars::generate::SchemaSettings::draft2020_12().into_generator();
    serde_json::to_value(generator.into_root_schema_for::<T>()).unwrap_or_else(|_| json!({}))
}

/// A tool's request body schema: its input schema, plus the router's `async_mode`; closed to other names
/// when the tool's top-level properties are all it accepts (the router refuses the rest).
fn request_schema(info: &mcp_tools::ToolInfo) -> Value {
    let mut schema = info.input_schema().clone();
    let Some(obj) = schema.as_object_mut() else { return schema };
    let Some(props) = obj.entry("properties").or_insert_with(|| json!({})).as_object_mut() else {
        return schema;
    };
    let closed = info.accepted_arguments().is_some_and(|names| names.iter().all(|n| props.contains_key(n)));
    props.insert(
        "async_mode".into(),
        json!({"type": "boolean", "description": "Start the call as a job at once (202)."}),
    );
    if closed {
        obj.insert("additionalProperties".into(), Value::Bool(false));
    }
    schema
}

fn error_ref(name: &str) -> Value {
    json!({ "$ref": format!("#/components/responses/{name}") })
}

/// The answers any tool call may give besides its result.
fn error_responses() -> Value {
    json!({
        "400": error_ref("BadRequest"),
        "401": error_ref("Unauthorized"),
        "403": error_ref("Forbidden"),
        "404": error_ref("Error"),
        "409": error_ref("Error"),
        "413": error_ref("TooLarge"),
        "422": error_ref("Error"),
        "500": error_ref("Error"),
        "502": error_ref("Error"),
        "503": error_ref("Unavailable"),
        "504": error_ref("Error"),
    })
}

fn json_content(schema: Value) -> Value {
    json!({ "application/json": { "schema": schema } })
}

fn first_sentence(s: &str) -> &str {
    s.split_inclusive(". ").next().unwrap_or(s).trim()
}

fn tool_operation(info: &mcp_tools::ToolInfo, components: &mut Map<String, Value>) -> Value {
    let d = info.descriptor;
    let name = d.name;
    let input = adopt(request_schema(info), name, components);
    let output = adopt(info.output_schema().clone(), name, components);
    components.insert(format!("{name}.input"), input);
    components.insert(format!("{name}.output"), output);
    let mut responses = error_responses();
    responses["200"] = json!({
        "description": "The tool's result (`Accept: text/markdown`: its markdown).",
        "content": {
            "application/json": { "schema": { "$ref": format!("#/components/schemas/{name}.output") } },
            "text/markdown": { "schema": { "type": "string" } },
        },
    });
    responses["202"] = error_ref("Accepted");
    let mut op = json!({
        "operationId": name,
        "summary": first_sentence(d.description),
        "description": d.description,
        "tags": [d.category.as_str()],
        "requestBody": {
            "required": true,
            "content": json_content(json!({ "$ref": format!("#/components/schemas/{name}.input") })),
        },
        "responses": responses,
        "x-pipette-runtime": d.runtime.as_str(),
        "x-pipette-toolset": crate::tools::toolset_of(info).map(|t| t.as_str()),
        "x-pipette-destructive": !d.annotations.read_only && d.annotations.destructive,
    });
    if d.deprecated.is_some() {
        op["deprecated"] = Value::Bool(true);
    }
    op
}

fn not_found_or(ok: Value) -> Value {
    let mut r = json!({
        "400": error_ref("BadRequest"),
        "401": error_ref("Unauthorized"),
        "403": error_ref("Forbidden"),
        "404": error_ref("Error"),
        "503": error_ref("Unavailable"),
    });
    r["200"] = ok;
    r
}

fn job_id_param() -> Value {
    json!([{ "name": "id", "in": "path", "required": true, "schema": { "type": "string" },
             "description": "The job's id (from a 202's `Location`)." }])
}

/// The whole document for `registry`.
pub(crate) fn document(registry: &Registry) -> Value {
    let mut components = Map::new();
    let error = adopt(schema_of::<ToolError>(), "ToolError", &mut components);
    components.insert("ToolError".into(), error);
    components.insert(
        "Error".into(),
        json!({"type": "object", "required": ["error"], "properties": {"error": {"$ref": "#/components/schemas/ToolError"}}}),
    );
    for (name, schema) in [
        ("JobTicket", schema_of::<JobTicket>()),
        ("JobRecord", schema_of::<JobRecord>()),
        ("ProgressJson", schema_of::<ProgressJson>()),
    ] {
        let adopted = adopt(schema, name, &mut components);
        components.insert(name.into(), adopted);
    }
    let mut paths = Map::new();
    paths.insert(
        format!("{}/tools", crate::PREFIX),
        json!({"get": {
            "operationId": "list_tools",
            "summary": "Every tool, with its category, toolset, runtime and JSON Schemas.",
            "tags": ["api"],
            "responses": not_found_or(json!({"description": "The tools, sorted by name.",
                "content": json_content(json!({"type": "object", "required": ["tools"], "properties": {
                    "tools": {"type": "array", "items": {"type": "object", "required": ["name", "description", "category", "runtime", "input_schema", "output_schema"]}}}}))})),
        }}),
    );
    for info in registry.tools() {
        let op = tool_operation(info, &mut components);
        paths.insert(format!("{}/tools/{}", crate::PREFIX, info.descriptor.name), json!({ "post": op }));
    }
    let statuses: Vec<&str> = mcp_tools::JobStatus::ALL.iter().map(|s| s.as_str()).collect();
    let record = json!({"$ref": "#/components/schemas/JobRecord"});
    paths.insert(
        format!("{}/jobs", crate::PREFIX),
        json!({"get": {
            "operationId": "list_jobs",
            "summary": "The caller's jobs, newest first (a caller without a token has none to list).",
            "tags": ["jobs"],
            "parameters": [
                {"name": "status", "in": "query", "schema": {"type": "string", "enum": statuses}},
                {"name": "tool", "in": "query", "schema": {"type": "string"}},
                {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 500}},
            ],
            "responses": {
                "200": {"description": "The jobs.", "content": json_content(json!({"type": "object", "required": ["jobs"],
                    "properties": {"jobs": {"type": "array", "items": record}}}))},
                "400": error_ref("BadRequest"),
                "401": error_ref("Unauthorized"),
                "403": error_ref("Forbidden"),
                "422": error_ref("Error"),
                "503": error_ref("Unavailable"),
            },
        }}),
    );
    paths.insert(
        format!("{}/jobs/{{id}}", crate::PREFIX),
        json!({
            "parameters": job_id_param(),
            "get": {
                "operationId": "get_job",
                "summary": "One job: where it stands, its progress, its result or error, its output.",
                "tags": ["jobs"],
                "responses": not_found_or(json!({"description": "The job.", "content": {
                    "application/json": {"schema": {"allOf": [record, {"type": "object", "properties": {"output": {"type": "string"}}}]}},
                    "text/markdown": {"schema": {"type": "string"}},
                }})),
            },
            "delete": {
                "operationId": "cancel_job",
                "summary": "Cancels a job; answers its record once it has stopped.",
                "tags": ["jobs"],
                "responses": not_found_or(json!({"description": "The job, cancelled (or as it ended).", "content": json_content(record.clone())})),
            },
        }),
    );
    paths.insert(
        format!("{}/jobs/{{id}}/events", crate::PREFIX),
        json!({
            "parameters": job_id_param(),
            "get": {
                "operationId": "job_events",
                "summary": "Server-sent events: `progress` ({status, progress}) as it changes, then `result` or `error`.",
                "tags": ["jobs"],
                "responses": not_found_or(json!({"description": "The event stream; it ends with the job.",
                    "content": {"text/event-stream": {"schema": {
                        "description": "One event: `progress` (data: {status, progress}), then `result` (data: \
                            the result) or `error` (data: the tool error), as JSON text.",
                        "type": "object",
                        "required": ["event", "data"],
                        "properties": {
                            "event": {"type": "string", "enum": ["progress", "result", "error"]},
                            "data": {"type": "string", "contentMediaType": "application/json"},
                        },
                    }}}})),
            },
        }),
    );
    paths.insert(
        format!("{}/openapi.json", crate::PREFIX),
        json!({"get": {"operationId": "openapi", "summary": "This document.", "tags": ["api"],
            "responses": not_found_or(json!({"description": "OpenAPI 3.1.", "content": json_content(json!({"type": "object"}))}))}}),
    );
    paths.insert(
        format!("{}/docs", crate::PREFIX),
        json!({"get": {"operationId": "docs", "summary": "A page listing the operations (no script).", "tags": ["api"],
            "responses": not_found_or(json!({"description": "HTML.", "content": {"text/html": {"schema": {"type": "string"}}}}))}}),
    );
    let error_body = json_content(json!({"$ref": "#/components/schemas/Error"}));
    let plain = json!({"text/plain": {"schema": {"type": "string"}}});
    json!({
        "openapi": "3.1.0",
        "jsonSchemaDialect": "https://json-schema.org/draft/2020-12/schema",
        "info": {
            "title": "pipette",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Every pipette tool as `POST /api/v1/tools/{name}` with its arguments as the JSON body, \
                through the same router as MCP and the CLI. A call that outlives its inline budget (or sends \
                `async_mode: true`) answers 202 with `Location: /api/v1/jobs/{id}`.",
        },
        "security": [{}, {"bearer": []}],
        "tags": [{"name": "api"}, {"name": "jobs"}],
        "paths": paths,
        "components": {
            "schemas": components,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer",
                "description": "PIPETTE_TOKEN, PIPETTE_TOKEN_FILE or a name of PIPETTE_TOKENS_FILE (when the server has one)."}},
            "responses": {
                "Error": {"description": "The call failed: `error.kind` says how, `error.message` what to do.", "content": error_body},
                "BadRequest": {"description": "The body is not JSON (or the Host header is malformed).",
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}, "text/plain": plain["text/plain"]}},
                "Unauthorized": {"description": "A bearer token is needed (or was wrong).", "content": plain},
                "Forbidden": {"description": "The Host or Origin is not allowed.", "content": plain},
                "TooLarge": {"description": "The body is over the size limit.", "content": plain},
                "Unavailable": {"description": "An upstream is rate limiting or its circuit is open, or a local backend failed.",
                    "headers": {"Retry-After": {"description": "Seconds to wait, when known.", "schema": {"type": "integer"}}},
                    "content": error_body},
                "Accepted": {"description": "The call continues as a job: follow `Location`.",
                    "headers": {"Location": {"required": true, "description": "/api/v1/jobs/{id}", "schema": {"type": "string"}}},
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/JobTicket"}},
                        "text/markdown": {"schema": {"type": "string"}}}},
            },
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defs_move_to_components_and_refs_follow() {
        let mut components = Map::new();
        let schema = json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "type": "object",
            "properties": {"a": {"$ref": "#/$defs/A"}, "b": {"$ref": "#/$defs/B<x>/properties/c"}},
            "$defs": {"A": {"type": "object", "properties": {"b": {"$ref": "#/$defs/B<x>"}}}, "B<x>": {"type": "object"}},
        });
        let out = adopt(schema, "tool", &mut components);
        assert_eq!(out["properties"]["a"]["$ref"], "#/components/schemas/tool.A");
        assert_eq!(out["properties"]["b"]["$ref"], "#/components/schemas/tool.B_x_/properties/c");
        assert!(out.get("$defs").is_none() && out.get("$schema").is_none());
        assert_eq!(components["tool.A"]["properties"]["b"]["$ref"], "#/components/schemas/tool.B_x_");
        assert!(components.contains_key("tool.B_x_"));
    }
}
