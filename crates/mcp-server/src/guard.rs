//! The request guard: every incoming JSON-RPC message, over stdio and HTTP, is checked here before rmcp sees
//! it, so that every request with an id gets an answer with that id — also when it is not JSON (invalid
//! UTF-8, a lone surrogate, trailing bytes, a cut line), nests deeper than serde's limit, is too large, says
//! `"jsonrpc":"1.0"`, or carries parameters of the wrong shape (`"arguments":"x"` is -32602, not rmcp's
//! -32601). rmcp drops what it cannot parse and answers some shapes without an id; here those get a
//! JSON-RPC error carrying the id found in the raw bytes (`null` only when there is none to find).
//! Error messages quote at most [`QUOTE_MAX`] bytes of any value.

use std::future::Future;
use std::sync::Arc;

use axum::Json;
use axum::body::Body;
use axum::extract::Request;
use axum::http::{Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse as _, Response};
use futures::StreamExt as _;

use rmcp::RoleServer;
use rmcp::model::{ClientJsonRpcMessage, ClientRequest, JsonRpcMessage, ServerJsonRpcMessage};
use rmcp::transport::Transport;
use serde_json::{Map, Value, json};
use tokio::io::{AsyncBufReadExt as _, AsyncRead, AsyncWrite, AsyncWriteExt as _, BufReader};
use tokio::sync::{Mutex, mpsc};

/// The largest message taken over stdio or HTTP (rmcp's own limits: 16 MiB a line, 4 MiB a body; one
/// number for both faces).
pub(crate) const MAX_MESSAGE_BYTES: usize = 4 << 20;
/// How much of an oversized message is kept to find its id.
const HEAD_BYTES: usize = 64 << 10;
/// The most bytes of a value an error message quotes.
pub(crate) const QUOTE_MAX: usize = 100;
/// The longest error message sent back.
const MESSAGE_MAX: usize = 1000;

/// JSON-RPC error codes.
pub(crate) const PARSE_ERROR: i32 = -32700;
pub(crate) const INVALID_REQUEST: i32 = -32600;
pub(crate) const INVALID_PARAMS: i32 = -32602;

/// An error answer the guard sends itself.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Refusal {
    /// The request's id as sent (a string or a number), or `null` when none could be found.
    pub(crate) id: Value,
    pub(crate) code: i32,
    pub(crate) message: String,
}

impl Refusal {
    fn new(id: Value, code: i32, message: impl Into<String>) -> Refusal {
        Refusal { id, code, message: bounded(&message.into()) }
    }

    /// The JSON-RPC error response.
    pub(crate) fn to_json(&self) -> Value {
        json!({ "jsonrpc": "2.0", "id": self.id, "error": { "code": self.code, "message": self.message } })
    }
}

/// What to do with one incoming message.
#[derive(Debug)]
pub(crate) enum Checked {
    /// A well-formed message for rmcp.
    Message(Box<ClientJsonRpcMessage>),
    /// Answer these errors (one, or one per request of a batch) and hand nothing to rmcp.
    Refused(Vec<Refusal>),
    /// Nothing to hand on and nothing to answer: an empty line, a notification or a response that cannot
    /// be used (JSON-RPC never answers those).
    Ignore,
}

/// Checks one message (a stdio line without its newline, or an HTTP body).
pub(crate) fn check(bytes: &[u8]) -> Checked {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF".as_slice()).unwrap_or(bytes);
    let bytes = bytes.trim_ascii();
    if bytes.is_empty() {
        return Checked::Ignore;
    }
    if bytes.len() > MAX_MESSAGE_BYTES {
        return Checked::Refused(vec![too_large(bytes, bytes.len())]);
    }
    let value: Value = match serde_json::from_slice(bytes) {
        Ok(v) => v,
        Err(e) => {
            let id = salvage_id(bytes).unwrap_or(Value::Null);
            let refusal = if e.to_string().starts_with("recursion limit exceeded") {
                Refusal::new(
                    id,
                    INVALID_REQUEST,
                    "the message nests deeper than 128 levels; send flatter arguments",
                )
            } else {
                Refusal::new(id, PARSE_ERROR, format!("parse error: not valid JSON ({e})"))
            };
            return Checked::Refused(vec![refusal]);
        }
    };
    match value {
        Value::Object(obj) => check_object(obj),
        Value::Array(items) => {
            if items.is_empty() {
                return refused(
                    Value::Null,
                    INVALID_REQUEST,
                    "an empty batch: send one JSON-RPC object per message",
                );
            }
            let refusals: Vec<Refusal> = items
                .iter()
                .filter_map(|item| {
                    let obj = item.as_object()?;
                    if !obj.contains_key("method") {
                        return None;
                    }
                    let id = obj.get("id").filter(|id| !id.is_null())?;
                    Some(Refusal::new(
                        usable_id(id)?,
                        INVALID_REQUEST,
                        "batches are not supported (MCP 2025-06-18 removed JSON-RPC batching): send one \
                         message at a time",
                    ))
                })
                .collect();
            if refusals.is_empty() { Checked::Ignore } else { Checked::Refused(refusals) }
        }
        other => refused(
            Value::Null,
            INVALID_REQUEST,
            format!("a JSON-RPC message is an object, not {}", kind_of(&other)),
        ),
    }
}

/// The answer to a message larger than [`MAX_MESSAGE_BYTES`] of which `head` is the start.
pub(crate) fn too_large(head: &[u8], len: usize) -> Refusal {
    let head = &head[..head.len().min(HEAD_BYTES)];
    Refusal::new(
        salvage_id(head).unwrap_or(Value::Null),
        INVALID_REQUEST,
        format!("the message is {len} bytes or more; at most {MAX_MESSAGE_BYTES} bytes are taken"),
    )
}

fn refused(id: Value, code: i32, message: impl Into<String>) -> Checked {
    Checked::Refused(vec![Refusal::new(id, code, message)])
}

fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// A JSON-RPC id as an answer may carry it: a string or a number.
fn usable_id(id: &Value) -> Option<Value> {
    matches!(id, Value::String(_) | Value::Number(_)).then(|| id.clone())
}

fn check_object(obj: Map<String, Value>) -> Checked {
    let id = match obj.get("id") {
        None | Some(Value::Null) => None,
        Some(id) => match usable_id(id) {
            Some(id) => Some(id),
            None => {
                return refused(
                    Value::Null,
                    INVALID_REQUEST,
                    format!("`id` must be a string or a number, not {}", kind_of(id)),
                );
            }
        },
    };
    let method = obj.get("method");
    let is_response = method.is_none() && (obj.contains_key("result") || obj.contains_key("error"));
    let version = obj.get("jsonrpc");
    if version.and_then(Value::as_str) != Some("2.0") {
        let Some(id) = id.filter(|_| !is_response) else {
            tracing::warn!("ignored a notification or response whose `jsonrpc` is not \"2.0\"");
            return Checked::Ignore;
        };
        let got = match version {
            None => "it is missing".to_owned(),
            Some(v) => format!("got {}", quote(&v.to_string())),
        };
        return refused(id, INVALID_REQUEST, format!("`jsonrpc` must be \"2.0\"; {got}"));
    }
    if is_response {
        // A client's answer to a server request (sampling, elicitation, roots): rmcp matches it by id.
        return match serde_json::from_value::<ClientJsonRpcMessage>(Value::Object(obj)) {
            Ok(m) => Checked::Message(Box::new(m)),
            Err(e) => {
                tracing::warn!("ignored a response that does not parse: {}", bounded(&e.to_string()));
                Checked::Ignore
            }
        };
    }
    let Some(method) = method else {
        return match id {
            Some(id) => refused(id, INVALID_REQUEST, "a request needs a `method`"),
            None => {
                refused(Value::Null, INVALID_REQUEST, "a message needs a `method`, a `result` or an `error`")
            }
        };
    };
    let Some(method) = method.as_str().map(str::to_owned) else {
        return match id {
            Some(id) => {
                refused(id, INVALID_REQUEST, format!("`method` must be a string, not {}", kind_of(method)))
            }
            None => Checked::Ignore,
        };
    };
    let Some(id) = id else {
        // A notification: never answered; one rmcp cannot read (or a non-standard one) is dropped.
        return match serde_json::from_value::<ClientJsonRpcMessage>(Value::Object(obj)) {
            Ok(m) => Checked::Message(Box::new(m)),
            Err(e) => {
                tracing::debug!(method = %quote(&method), "ignored a notification: {}", bounded(&e.to_string()));
                Checked::Ignore
            }
        };
    };
    if let Some(reason) = params_shape(&method, obj.get("params")) {
        return refused(id, INVALID_PARAMS, reason);
    }
    let mut obj = obj;
    if method == "tools/call" && task_augmented(obj.get("params")) {
        obj.insert("method".into(), TASK_AUGMENTED_CALL.into());
    }
    let raw = obj.clone();
    match serde_json::from_value::<ClientJsonRpcMessage>(Value::Object(obj)) {
        Ok(JsonRpcMessage::Request(r)) if is_custom_standard(&r.request) => {
            // rmcp reads a standard method whose params do not fit as a custom request, and then answers
            // "method not found": it is the params that are wrong.
            let reason = typed_params_error(&method, &raw)
                .unwrap_or_else(|| "the params do not fit the method".to_owned());
            refused(id, INVALID_PARAMS, format!("invalid params for `{method}`: {reason}"))
        }
        Ok(m) => Checked::Message(Box::new(m)),
        Err(e) => refused(id, INVALID_REQUEST, format!("not a valid request: {e}")),
    }
}

/// The method a 2025-11-25 task-augmented `tools/call` is handed to the handler as: rmcp's typed
/// `tools/call` would drop its `task` parameter.
pub(crate) const TASK_AUGMENTED_CALL: &str = "pipette/taskAugmentedToolsCall";

/// A `tools/call` of the 2025-11-25 era asking to run as a task (`params.task` an object). A 2026-07-28
/// request (by its `_meta`) never is: there the server alone decides, and a leftover `task` is ignored.
fn task_augmented(params: Option<&Value>) -> bool {
    let Some(params) = params else { return false };
    let modern = params
        .pointer("/_meta/io.modelcontextprotocol~1protocolVersion")
        .and_then(Value::as_str)
        .is_some_and(|v| v >= "2026-07-28");
    params.get("task").is_some_and(Value::is_object) && !modern
}

/// What is wrong with the shape of a request's params, before rmcp reads them.
fn params_shape(method: &str, params: Option<&Value>) -> Option<String> {
    let params = match params {
        None | Some(Value::Null) => return None,
        Some(Value::Object(p)) => p,
        Some(other) => return Some(format!("`params` must be an object, not {}", kind_of(other))),
    };
    if method == "tools/call" {
        match params.get("name") {
            Some(Value::String(_)) => {}
            None => return Some("`name` is missing: the tool to call (tools/list names them)".to_owned()),
            Some(other) => {
                return Some(format!("`name` must be a string (a tool's name), not {}", kind_of(other)));
            }
        }
        match params.get("arguments") {
            None | Some(Value::Null | Value::Object(_)) => {}
            Some(other) => {
                return Some(format!(
                    "`arguments` must be an object of the tool's named arguments, not {}",
                    kind_of(other)
                ));
            }
        }
    }
    None
}

/// The standard methods rmcp reads into typed requests; one of these arriving as a custom request means its
/// params did not fit.
const STANDARD_METHODS: [&str; 18] = [
    "initialize",
    "ping",
    "server/discover",
    "completion/complete",
    "logging/setLevel",
    "prompts/get",
    "prompts/list",
    "resources/list",
    "resources/templates/list",
    "resources/read",
    "resources/subscribe",
    "resources/unsubscribe",
    "tools/call",
    "tools/list",
    "tasks/get",
    "tasks/update",
    "tasks/cancel",
    "subscriptions/listen",
];

fn is_custom_standard(request: &ClientRequest) -> bool {
    matches!(request, ClientRequest::CustomRequest(c) if STANDARD_METHODS.contains(&c.method.as_str()))
}

/// serde's own words about why the params of `method` do not fit its type.
#[allow(deprecated)] // logging and resources/subscribe are legacy, and still served to 2025-11-25 peers
fn typed_params_error(method: &str, request: &Map<String, Value>) -> Option<String> {
    use rmcp::model as m;
    let mut body = Map::new();
    body.insert("method".into(), method.into());
    if let Some(p) = request.get("params") {
        body.insert("params".into(), p.clone());
    }
    let body = Value::Object(body);
    macro_rules! try_as {
        ($($name:literal => $ty:ty),* $(,)?) => {
            match method {
                $($name => serde_json::from_value::<$ty>(body).err().map(|e| e.to_string()),)*
                _ => None,
            }
        };
    }
    try_as!(
        "initialize" => m::InitializeRequest,
        "server/discover" => m::DiscoverRequest,
        "completion/complete" => m::CompleteRequest,
        "logging/setLevel" => m::SetLevelRequest,
        "prompts/get" => m::GetPromptRequest,
        "prompts/list" => m::ListPromptsRequest,
        "resources/list" => m::ListResourcesRequest,
        "resources/templates/list" => m::ListResourceTemplatesRequest,
        "resources/read" => m::ReadResourceRequest,
        "resources/subscribe" => m::SubscribeRequest,
        "resources/unsubscribe" => m::UnsubscribeRequest,
        "tools/call" => m::CallToolRequest,
        "tools/list" => m::ListToolsRequest,
        "tasks/get" => m::GetTaskRequest,
        "tasks/update" => m::UpdateTaskRequest,
        "tasks/cancel" => m::CancelTaskRequest,
        "subscriptions/listen" => m::SubscriptionsListenRequest,
    )
}

/// `s` cut to [`QUOTE_MAX`] bytes, saying how long it was.
pub(crate) fn quote(s: &str) -> String {
    if s.len() <= QUOTE_MAX {
        return s.to_owned();
    }
    let end = (0..=QUOTE_MAX).rev().find(|&i| s.is_char_boundary(i)).unwrap_or(0);
    format!("{}… ({} bytes in all)", &s[..end], s.len())
}

/// An error message with every backquoted or double-quoted value longer than [`QUOTE_MAX`] bytes cut
/// (serde quotes a bad value whole: "unknown variant `…`"), and the whole at most [`MESSAGE_MAX`] bytes.
pub(crate) fn bounded(message: &str) -> String {
    let mut out = String::with_capacity(message.len().min(MESSAGE_MAX + 64));
    let mut rest = message;
    while let Some(open) = rest.find(['`', '"']) {
        let q = &rest[open..=open];
        out.push_str(&rest[..=open]);
        rest = &rest[open + 1..];
        match rest.find(q) {
            Some(close) => {
                out.push_str(&quote(&rest[..close]));
                out.push_str(q);
                rest = &rest[close + 1..];
            }
            None => {
                out.push_str(&quote(rest));
                rest = "";
            }
        }
        if out.len() > MESSAGE_MAX {
            break;
        }
    }
    out.push_str(rest);
    if out.len() > MESSAGE_MAX {
        let end = (0..=MESSAGE_MAX).rev().find(|&i| out.is_char_boundary(i)).unwrap_or(0);
        out.truncate(end);
        out.push('…');
    }
    out
}

/// The `id` member of the top-level object in `bytes`, found by scanning rather than parsing, so it works
/// on text that is not JSON (cut short, invalid UTF-8, trailing bytes, nested past any limit). `None` when
/// there is no top-level object, no `id` in it before the text ends, or an id that is neither a string nor
/// a number.
pub(crate) fn salvage_id(bytes: &[u8]) -> Option<Value> {
    let mut i = skip_ws(bytes, 0);
    if bytes.get(i) != Some(&b'{') {
        return None;
    }
    i += 1;
    loop {
        i = skip_ws(bytes, i);
        match bytes.get(i)? {
            b'}' => return None,
            b',' => {
                i += 1;
                continue;
            }
            b'"' => {}
            _ => return None,
        }
        let key_end = skip_string(bytes, i)?;
        let key = &bytes[i + 1..key_end - 1];
        i = skip_ws(bytes, key_end);
        if bytes.get(i) != Some(&b':') {
            return None;
        }
        i = skip_ws(bytes, i + 1);
        let value_end = skip_value(bytes, i)?;
        if key == b"id" {
            let id: Value = serde_json::from_slice(&bytes[i..value_end]).ok()?;
            return usable_id(&id);
        }
        i = value_end;
    }
}

fn skip_ws(bytes: &[u8], mut i: usize) -> usize {
    while bytes.get(i).is_some_and(u8::is_ascii_whitespace) {
        i += 1;
    }
    i
}

/// The index just past the string that opens at `i`.
fn skip_string(bytes: &[u8], mut i: usize) -> Option<usize> {
    i += 1;
    loop {
        match bytes.get(i)? {
            b'\\' => i += 2,
            b'"' => return Some(i + 1),
            _ => i += 1,
        }
    }
}

/// The index just past the value that starts at `i` (strings, and brackets at any depth, without
/// recursion; scalars up to the next delimiter).
fn skip_value(bytes: &[u8], i: usize) -> Option<usize> {
    match bytes.get(i)? {
        b'"' => skip_string(bytes, i),
        b'{' | b'[' => {
            let mut depth = 0usize;
            let mut j = i;
            loop {
                match bytes.get(j)? {
                    b'"' => {
                        j = skip_string(bytes, j)?;
                        continue;
                    }
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        depth -= 1;
                        if depth == 0 {
                            return Some(j + 1);
                        }
                    }
                    _ => {}
                }
                j += 1;
            }
        }
        _ => {
            let mut j = i;
            while bytes.get(j).is_some_and(|b| !matches!(b, b',' | b'}' | b']') && !b.is_ascii_whitespace()) {
                j += 1;
            }
            // A scalar that runs to the end of the text may have been cut short: not guessed at.
            (j > i && j < bytes.len()).then_some(j)
        }
    }
}

/// stdio through the guard: a task reads stdin line by line (each bounded), hands well-formed messages to
/// rmcp and writes the guard's own answers; rmcp's answers go out through the same writer, a line each.
pub(crate) struct GuardedStdio<W> {
    incoming: mpsc::Receiver<ClientJsonRpcMessage>,
    out: Arc<Mutex<Option<W>>>,
    reader: tokio::task::JoinHandle<()>,
}

impl<W: AsyncWrite + Send + Unpin + 'static> GuardedStdio<W> {
    pub(crate) fn new<R: AsyncRead + Send + Unpin + 'static>(read: R, write: W) -> GuardedStdio<W> {
        let out = Arc::new(Mutex::new(Some(write)));
        let (tx, incoming) = mpsc::channel(64);
        let reader = tokio::spawn(read_loop(BufReader::new(read), tx, out.clone()));
        GuardedStdio { incoming, out, reader }
    }
}

/// Writes one JSON message and a newline, whole, under the lock.
async fn write_line<W: AsyncWrite + Unpin>(
    out: &Mutex<Option<W>>,
    json: serde_json::Result<Vec<u8>>,
) -> std::io::Result<()> {
    let mut bytes = json.map_err(std::io::Error::other)?;
    bytes.push(b'\n');
    let mut guard = out.lock().await;
    let w = guard
        .as_mut()
        .ok_or_else(|| std::io::Error::new(std::io::ErrorKind::NotConnected, "stdout is closed"))?;
    w.write_all(&bytes).await?;
    w.flush().await
}

async fn read_loop<R: AsyncRead + Unpin, W: AsyncWrite + Unpin>(
    mut read: BufReader<R>,
    tx: mpsc::Sender<ClientJsonRpcMessage>,
    out: Arc<Mutex<Option<W>>>,
) {
    let mut line = Vec::new();
    loop {
        line.clear();
        let (complete, len) = match read_bounded_line(&mut read, &mut line).await {
            Ok(Some(r)) => r,
            Ok(None) => return, // EOF: dropping `tx` ends rmcp's service.
            Err(e) => {
                tracing::error!("reading stdin: {e}");
                return;
            }
        };
        let checked = if complete { check(&line) } else { Checked::Refused(vec![too_large(&line, len)]) };
        match checked {
            Checked::Message(m) => {
                if tx.send(*m).await.is_err() {
                    return;
                }
            }
            Checked::Refused(refusals) => {
                for r in refusals {
                    tracing::warn!(id = %r.id, code = r.code, "refused a message: {}", r.message);
                    if write_line(&out, serde_json::to_vec(&r.to_json())).await.is_err() {
                        return;
                    }
                }
            }
            Checked::Ignore => {}
        }
    }
}

/// Reads one line into `line` (without its newline). Past [`MAX_MESSAGE_BYTES`] only the first
/// [`HEAD_BYTES`] are kept and the rest is read and dropped. `(complete, length)`; `None` at the end of input
/// with nothing read.
async fn read_bounded_line<R: AsyncRead + Unpin>(
    read: &mut BufReader<R>,
    line: &mut Vec<u8>,
) -> std::io::Result<Option<(bool, usize)>> {
    let mut len = 0usize;
    let mut oversized = false;
    loop {
        let available = read.fill_buf().await?;
        if available.is_empty() {
            return Ok((len > 0).then_some((!oversized, len)));
        }
        let newline = available.iter().position(|b| *b == b'\n');
        let take = newline.unwrap_or(available.len());
        len = len.saturating_add(take);
        if !oversized && len > MAX_MESSAGE_BYTES {
            oversized = true;
            line.truncate(HEAD_BYTES);
        }
        if !oversized {
            line.extend_from_slice(&available[..take]);
        } else if line.len() < HEAD_BYTES {
            let room = HEAD_BYTES - line.len();
            line.extend_from_slice(&available[..take.min(room)]);
        }
        let consumed = newline.map_or(take, |n| n + 1);
        read.consume(consumed);
        if newline.is_some() {
            return Ok(Some((!oversized, len)));
        }
    }
}

impl<W: AsyncWrite + Send + Unpin + 'static> Transport<RoleServer> for GuardedStdio<W> {
    type Error = std::io::Error;

    fn send(
        &mut self,
        item: ServerJsonRpcMessage,
    ) -> impl Future<Output = Result<(), Self::Error>> + Send + 'static {
        let out = self.out.clone();
        async move {
            let item = match item {
                JsonRpcMessage::Error(mut e) => {
                    e.error.message = bounded(&e.error.message).into();
                    JsonRpcMessage::Error(e)
                }
                other => other,
            };
            write_line(&out, serde_json::to_vec(&item)).await
        }
    }

    async fn receive(&mut self) -> Option<ClientJsonRpcMessage> {
        self.incoming.recv().await
    }

    async fn close(&mut self) -> Result<(), Self::Error> {
        self.reader.abort();
        self.out.lock().await.take();
        Ok(())
    }
}

/// `/mcp` over HTTP: a POSTed JSON body goes through [`check`] before rmcp reads it. Malformed JSON gets 400
/// (rmcp answers 415), with the JSON-RPC error carrying the request's id; a body over
/// [`MAX_MESSAGE_BYTES`] gets 413. Other methods and other content types pass untouched (rmcp answers those).
pub(crate) async fn http(req: Request, next: Next) -> Response {
    let json_body = req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|v| {
        v.split(';').next().unwrap_or_default().trim().eq_ignore_ascii_case("application/json")
    });
    if req.method() != Method::POST || !json_body {
        return next.run(req).await;
    }
    let (parts, body) = req.into_parts();
    let mut bytes = Vec::new();
    let mut stream = body.into_data_stream();
    while let Some(chunk) = stream.next().await {
        let chunk = match chunk {
            Ok(c) => c,
            Err(e) => {
                return (StatusCode::BAD_REQUEST, format!("could not read the request body: {e}"))
                    .into_response();
            }
        };
        if bytes.len() + chunk.len() > MAX_MESSAGE_BYTES {
            let room = HEAD_BYTES.saturating_sub(bytes.len());
            bytes.extend_from_slice(&chunk[..chunk.len().min(room)]);
            let refusal = too_large(&bytes, MAX_MESSAGE_BYTES + 1);
            return (StatusCode::PAYLOAD_TOO_LARGE, Json(refusal.to_json())).into_response();
        }
        bytes.extend_from_slice(&chunk);
    }
    if let Some(refused) = removed_in_2026(&parts.headers, &bytes) {
        return refused;
    }
    match check(&bytes) {
        // A task-augmented call goes on as the guard rewrote it.
        Checked::Message(m)
            if matches!(&*m, JsonRpcMessage::Request(r)
            if matches!(&r.request, ClientRequest::CustomRequest(c) if c.method == TASK_AUGMENTED_CALL)) =>
        {
            let bytes = serde_json::to_vec(&*m).unwrap_or(bytes);
            next.run(Request::from_parts(parts, Body::from(bytes))).await
        }
        Checked::Message(_) => next.run(Request::from_parts(parts, Body::from(bytes))).await,
        Checked::Refused(refusals) => {
            for r in &refusals {
                tracing::warn!(id = %r.id, code = r.code, "refused an HTTP message: {}", r.message);
            }
            let body = match refusals.as_slice() {
                [one] => one.to_json(),
                many => Value::Array(many.iter().map(Refusal::to_json).collect()),
            };
            (StatusCode::BAD_REQUEST, Json(body)).into_response()
        }
        Checked::Ignore if bytes.trim_ascii().is_empty() => {
            let refusal = Refusal::new(Value::Null, PARSE_ERROR, "parse error: the body is empty");
            (StatusCode::BAD_REQUEST, Json(refusal.to_json())).into_response()
        }
        // A notification or response that cannot be used: accepted and dropped, as JSON-RPC wants.
        Checked::Ignore => StatusCode::ACCEPTED.into_response(),
    }
}

/// Methods a 2026-07-28 request may not use (its lifecycle has no `initialize`, logging levels ride in
/// `_meta`, subscriptions go through `subscriptions/listen`, and SEP-2663 dropped the two task methods).
const REMOVED_IN_2026: [&str; 6] = [
    "initialize",
    "logging/setLevel",
    "resources/subscribe",
    "resources/unsubscribe",
    "tasks/result",
    "tasks/list",
];

/// 404 with -32601 for a 2026-07-28 request (by its `MCP-Protocol-Version` header) to a removed method,
/// before its parameters are checked against the method's old shape. (Its standard and custom headers,
/// `Mcp-Method`, `Mcp-Name` and `Mcp-Param-*` of `x-mcp-header` parameters, are rmcp's to check.)
fn removed_in_2026(headers: &axum::http::HeaderMap, bytes: &[u8]) -> Option<Response> {
    let version = headers.get("mcp-protocol-version")?.to_str().ok()?.trim();
    if version < "2026-07-28" {
        return None;
    }
    let Ok(Value::Object(message)) = serde_json::from_slice::<Value>(bytes) else { return None };
    let method = message.get("method")?.as_str()?;
    if REMOVED_IN_2026.contains(&method) {
        let id = message.get("id").and_then(usable_id).unwrap_or(Value::Null);
        let refusal = Refusal::new(
            id,
            rmcp::model::ErrorCode::METHOD_NOT_FOUND.0,
            format!("`{method}` is not part of MCP {version}"),
        );
        return Some((StatusCode::NOT_FOUND, Json(refusal.to_json())).into_response());
    }
    None
}

#[cfg(test)]
mod tests;
