//! Input-required results (MCP 2026-07-28, SEP-2322: multi round-trip requests). A client without a
//! session cannot be sent requests, so when a tool, a prompt or a resource asks the person (elicitation),
//! the client's model (sampling) or the client's roots, the request ends with an `InputRequiredResult`
//! naming what is needed; the client asks, then sends the same request again with the answers
//! (`inputResponses`) and the `requestState` it was given.
//!
//! The handler runs again from the start on each round: what it asked before is answered from the
//! answers so far, the first unanswered questions end the round (questions asked at the same time, e.g.
//! joined futures, end it together). The answers of earlier rounds travel in `requestState`, signed
//! (HMAC-SHA256, rmcp's `RequestStateCodec`) and bound to the principal, the method, the name and the
//! arguments: a changed or replayed state is refused with -32602.

use std::collections::BTreeMap;
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use mcp_tools::Principal;
use rmcp::ErrorData as McpError;
use rmcp::model::{
    ClientCapabilities, InputRequest, InputRequests, InputRequiredResult, RequestStateCodec, SealOptions,
};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tool_metadata::{ErrorKind, ToolError};

/// How long a `requestState` stays valid.
const STATE_TTL: Duration = Duration::from_secs(3600);

/// The codec of this process: its key comes from `PIPETTE_REQUEST_STATE_KEY` (at least 32 bytes; give
/// every replica behind one address the same key) or is drawn at start.
fn codec() -> Result<&'static RequestStateCodec, McpError> {
    static CODEC: OnceLock<Option<RequestStateCodec>> = OnceLock::new();
    CODEC
        .get_or_init(|| {
            if let Ok(key) = std::env::var("PIPETTE_REQUEST_STATE_KEY") {
                match RequestStateCodec::try_new(key.into_bytes()) {
                    Ok(codec) => return Some(codec),
                    Err(e) => {
                        tracing::warn!(error = %e, "PIPETTE_REQUEST_STATE_KEY is unusable; drawing a key")
                    }
                }
            }
            let key: Vec<u8> = (0..2).flat_map(|_| uuid::Uuid::new_v4().into_bytes()).collect();
            RequestStateCodec::try_new(key).ok()
        })
        .as_ref()
        .ok_or_else(|| McpError::internal_error("no key to sign requestState with", None))
}

/// Whether the request behind `context` speaks 2026-07-28 or later (its `_meta` says so, or its session
/// negotiated it): its client answers questions by retrying, and is never sent a request.
pub(crate) fn answers_by_retrying(context: &rmcp::service::RequestContext<rmcp::RoleServer>) -> bool {
    context.protocol_version().is_some_and(|v| v.as_str() >= "2026-07-28")
}

/// What a signed state holds.
#[derive(Debug, Default, Serialize, Deserialize)]
struct State {
    answers: BTreeMap<String, Value>,
}

/// One request's rounds: the answers so far and the questions this round asked.
#[derive(Debug)]
pub(crate) struct Rounds {
    binding: Vec<u8>,
    answers: BTreeMap<String, Value>,
    asked: Mutex<BTreeMap<String, Value>>,
    missing: Mutex<Option<ClientCapabilities>>,
}

impl Rounds {
    /// The rounds of `method` on `name` with `arguments` for `principal`: the state's answers (verified),
    /// then the request's own.
    pub(crate) fn open(
        principal: &Principal,
        method: &str,
        name: &str,
        arguments: &Value,
        responses: Option<&BTreeMap<String, Value>>,
        state: Option<&str>,
    ) -> Result<Rounds, McpError> {
        let binding = format!("{}\n{method}\n{name}\n{arguments}", principal.name()).into_bytes();
        let mut answers = match state {
            None => BTreeMap::new(),
            Some(sealed) => {
                let state: State = codec()?.open_json_with(sealed, &binding).map_err(|e| {
                    tracing::info!(method, name, error = %e, "refused a requestState");
                    McpError::invalid_params(
                        "`requestState` failed its integrity check (changed, expired, or from another request): \
                         send the request again without it",
                        None,
                    )
                })?;
                state.answers
            }
        };
        answers.extend(responses.into_iter().flatten().map(|(k, v)| (k.clone(), v.clone())));
        Ok(Rounds { binding, answers, asked: Mutex::default(), missing: Mutex::default() })
    }

    /// The answer to `key`, when the client gave one.
    pub(crate) fn answer(&self, key: &str) -> Option<&Value> {
        self.answers.get(key)
    }

    /// Notes the question `key` (`{method, params}`) for this round's result; the error ends the handler.
    pub(crate) fn ask(&self, key: &str, request: Value) -> ToolError {
        self.asked.lock().unwrap_or_else(|p| p.into_inner()).insert(key.to_owned(), request);
        ToolError::new(ErrorKind::Conflict, format!("waiting for the client's answer to `{key}`"))
    }

    /// Whether this round asked anything (it ends with the questions, whatever the handler does).
    pub(crate) fn asked_anything(&self) -> bool {
        !self.asked.lock().unwrap_or_else(|p| p.into_inner()).is_empty()
    }

    /// Notes that the handler needs a capability the request did not declare.
    pub(crate) fn need(&self, capabilities: ClientCapabilities) {
        *self.missing.lock().unwrap_or_else(|p| p.into_inner()) = Some(capabilities);
    }

    /// How the request ends when the handler asked for something: an `InputRequiredResult` for unanswered
    /// questions, -32021 for a capability the request did not declare; `None` when it needed nothing.
    pub(crate) fn outcome(&self) -> Option<Result<InputRequiredResult, McpError>> {
        if let Some(caps) = self.missing.lock().unwrap_or_else(|p| p.into_inner()).take() {
            return Some(Err(McpError::missing_required_client_capability(caps)));
        }
        let asked = std::mem::take(&mut *self.asked.lock().unwrap_or_else(|p| p.into_inner()));
        if asked.is_empty() {
            return None;
        }
        let mut requests = InputRequests::new();
        for (key, request) in asked {
            match serde_json::from_value::<InputRequest>(request) {
                Ok(r) => {
                    requests.insert(key, r);
                }
                Err(e) => {
                    return Some(Err(McpError::internal_error(
                        format!("an input request pipette built is invalid ({key}): {e}"),
                        None,
                    )));
                }
            }
        }
        let state = State { answers: self.answers.clone() };
        let options = SealOptions::new().associated_data(&self.binding).ttl(STATE_TTL);
        Some(
            codec()
                .and_then(|c| {
                    c.seal_json_with(&state, &options)
                        .map_err(|e| McpError::internal_error(format!("sealing requestState: {e}"), None))
                })
                .map(|sealed| InputRequiredResult::new(Some(requests), Some(sealed))),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn principal() -> Principal {
        Principal::named("alice".to_owned(), false)
    }

    fn first_round(args: &Value) -> InputRequiredResult {
        let rounds = Rounds::open(&principal(), "tools/call", "t", args, None, None).unwrap();
        let request = json!({ "method": "roots/list", "params": {} });
        let _ = rounds.ask("roots", request);
        rounds.outcome().unwrap().unwrap()
    }

    #[test]
    fn a_state_carries_the_answers_and_refuses_changes() {
        let args = json!({ "x": 1 });
        let first = first_round(&args);
        let state = first.request_state.clone().unwrap();
        let responses: BTreeMap<String, Value> = [("roots".to_owned(), json!({ "roots": [] }))].into();
        let second =
            Rounds::open(&principal(), "tools/call", "t", &args, Some(&responses), Some(&state)).unwrap();
        let _ = second.ask("more", json!({ "method": "roots/list", "params": {} }));
        let state2 = second.outcome().unwrap().unwrap().request_state.unwrap();
        let third = Rounds::open(&principal(), "tools/call", "t", &args, None, Some(&state2)).unwrap();
        assert_eq!(third.answer("roots"), Some(&json!({ "roots": [] })), "earlier answers ride in the state");

        let tampered = format!("{state}-TAMPERED");
        let err = Rounds::open(&principal(), "tools/call", "t", &args, None, Some(&tampered)).unwrap_err();
        assert_eq!(err.code, rmcp::model::ErrorCode::INVALID_PARAMS);
        // The same state for other arguments, another tool or another principal is refused too.
        assert!(
            Rounds::open(&principal(), "tools/call", "t", &json!({ "x": 2 }), None, Some(&state)).is_err()
        );
        assert!(Rounds::open(&principal(), "tools/call", "u", &args, None, Some(&state)).is_err());
        let bob = Principal::named("bob".to_owned(), false);
        assert!(Rounds::open(&bob, "tools/call", "t", &args, None, Some(&state)).is_err());
    }

    #[test]
    fn a_round_that_asked_nothing_has_no_outcome() {
        let rounds = Rounds::open(&principal(), "prompts/get", "p", &Value::Null, None, None).unwrap();
        assert!(rounds.outcome().is_none());
    }
}
