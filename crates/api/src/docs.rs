//! `GET /docs`: a small HTML page of the API's operations, made from the registry, with no script.

use std::fmt::Write as _;

use axum::extract::State;
use axum::response::Html;

use crate::Api;

fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// The page: how to call, then one row per tool.
pub(crate) async fn page(State(api): State<Api>) -> Html<String> {
    let p = crate::PREFIX;
    let mut rows = String::new();
    for info in api.router.registry().tools() {
        let d = info.descriptor;
        let _ = writeln!(
            rows,
            "<tr><td><code>POST {p}/tools/{name}</code></td><td>{cat}</td><td>{desc}</td></tr>",
            name = escape(d.name),
            cat = d.category.as_str(),
            desc = escape(d.description),
        );
    }
    Html(format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>pipette API</title>\n\
         <style>body{{font-family:sans-serif;max-width:70em;margin:2em auto}}td{{vertical-align:top;padding:.3em}}\
         code{{white-space:nowrap}}</style></head><body>\n\
         <h1>pipette HTTP API</h1>\n\
         <p>Send a tool's arguments as the JSON body of <code>POST {p}/tools/NAME</code>: 200 with its result \
         (<code>Accept: text/markdown</code> for its markdown), or 202 with <code>Location: {p}/jobs/ID</code> \
         for a call that continues as a job (<code>GET</code> it, <code>DELETE</code> it to cancel, or follow \
         <code>{p}/jobs/ID/events</code>). Errors are <code>{{\"error\": {{kind, message, param, service}}}}</code> \
         with 422 for bad arguments, 404 for an unknown tool, 502/503/504 for an upstream. The schemas: \
         <a href=\"{p}/openapi.json\">openapi.json</a> (OpenAPI 3.1) and <code>GET {p}/tools</code>.</p>\n\
         <table><thead><tr><th>operation</th><th>category</th><th>what it does</th></tr></thead><tbody>\n\
         {rows}</tbody></table></body></html>\n"
    ))
}
