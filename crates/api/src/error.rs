//! Errors as HTTP answers, in one place: each [`ErrorKind`] has its status, the body is the tool error as
//! JSON (`{"error": {kind, message, param?, service?, retry_after_seconds?, retryable}}`), and an upstream
//! that said how long to wait gives `Retry-After`.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use tool_metadata::{ErrorKind, ToolError};

/// The HTTP status of a tool error of `kind`. Bad arguments are the caller's (422); an unknown tool or
/// thing is 404; a busy or cancelled thing 409; an upstream that failed or sent what cannot be read 502,
/// one that is rate limiting or whose circuit is open 503, one too slow 504; a local resource that failed
/// 503; only a bug in pipette is 500, and it too says what happened.
pub(crate) fn status_of(kind: ErrorKind) -> StatusCode {
    match kind {
        ErrorKind::InvalidArgument => StatusCode::UNPROCESSABLE_ENTITY,
        ErrorKind::UnknownTool | ErrorKind::NotFound => StatusCode::NOT_FOUND,
        ErrorKind::Cancelled | ErrorKind::Conflict => StatusCode::CONFLICT,
        ErrorKind::Upstream | ErrorKind::Parse => StatusCode::BAD_GATEWAY,
        ErrorKind::RateLimited | ErrorKind::CircuitOpen | ErrorKind::Io => StatusCode::SERVICE_UNAVAILABLE,
        ErrorKind::Timeout => StatusCode::GATEWAY_TIMEOUT,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// A tool error on its way out as an HTTP answer.
#[derive(Debug)]
pub(crate) struct ApiError {
    error: ToolError,
    status: StatusCode,
}

impl From<ToolError> for ApiError {
    fn from(error: ToolError) -> Self {
        ApiError { status: status_of(error.kind), error }
    }
}

impl ApiError {
    /// The request cannot be read at all (a body that is not JSON): 400 naming what was expected.
    pub(crate) fn bad_request(param: &str, reason: impl std::fmt::Display) -> ApiError {
        ApiError { error: ToolError::invalid_argument(param, reason), status: StatusCode::BAD_REQUEST }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let ApiError { error: e, status } = self;
        if status.is_server_error() {
            tracing::warn!(kind = e.kind.as_str(), service = ?e.service, error = %e.message, "API call failed");
        }
        let retry_after = e.retry_after_seconds;
        let mut response = (status, axum::Json(serde_json::json!({ "error": e }))).into_response();
        if let Some(secs) = retry_after {
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        response
    }
}

/// Any path under the API that names nothing: 404 saying where to look.
pub(crate) async fn no_route(axum::extract::OriginalUri(uri): axum::extract::OriginalUri) -> ApiError {
    ApiError::from(ToolError::not_found(format!(
        "no API endpoint at {}; GET {}/openapi.json describes them all",
        uri.path(),
        crate::PREFIX
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_has_a_status_and_only_bugs_are_500() {
        let kinds = [
            (ErrorKind::InvalidArgument, 422),
            (ErrorKind::UnknownTool, 404),
            (ErrorKind::NotFound, 404),
            (ErrorKind::Upstream, 502),
            (ErrorKind::RateLimited, 503),
            (ErrorKind::Timeout, 504),
            (ErrorKind::CircuitOpen, 503),
            (ErrorKind::Parse, 502),
            (ErrorKind::Cancelled, 409),
            (ErrorKind::Conflict, 409),
            (ErrorKind::Io, 503),
            (ErrorKind::Internal, 500),
        ];
        for (kind, code) in kinds {
            assert_eq!(status_of(kind).as_u16(), code, "{kind:?}");
        }
    }

    #[test]
    fn a_known_wait_becomes_retry_after() {
        let e = ToolError::new(ErrorKind::RateLimited, "PubMed is rate limiting pipette")
            .with_service("pubmed")
            .with_retry_after(std::time::Duration::from_millis(2500));
        let r = ApiError::from(e).into_response();
        assert_eq!(r.status(), 503);
        assert_eq!(r.headers()[header::RETRY_AFTER], "3");
    }
}
