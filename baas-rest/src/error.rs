//! REST errors: a status, a stable code and a PostgREST-shaped JSON body.
//!
//! | code | status | when |
//! | --- | --- | --- |
//! | `bad_request` | 400 | the URL grammar, a header or the body cannot be parsed, or names something the request cannot use |
//! | `ambiguous` | 300 | an embedding names an entity reachable through several relations; add a `!hint` |
//! | `forbidden` | 403 | [`baas_core::Error::Forbidden`] |
//! | `not_found` | 404 | no such route, entity, relation or record ([`baas_core::Error::NotFound`]) |
//! | `method_not_allowed` | 405 | the method does not apply to the route (the service adds `Allow`) |
//! | `not_acceptable` | 406 | `Accept` asks for a format we do not produce, or a singular response found 0 or several rows |
//! | `conflict` | 409 | [`baas_core::Error::Conflict`] |
//! | `idempotency_key_in_use` | 409 | a request with the same `Idempotency-Key` still runs ([`crate::idempotency`]) |
//! | `idempotency_key_reused` | 422 | the `Idempotency-Key` was used for another request |
//! | `uri_too_long` | 414 | the query string exceeds [`crate::RestLimits::max_query_bytes`] |
//! | `payload_too_large` | 413 | the body exceeds [`crate::RestLimits::max_body_bytes`] |
//! | `unsupported_media_type` | 415 | a write body without a JSON `Content-Type` |
//! | `range_not_satisfiable` | 416 | a malformed `Range`, one whose end is before its start, or an offset past the total |
//! | `validation` | 422 | [`baas_core::Error::Validation`]; `details` lists each violation and the body carries `violations` with JSON pointers |
//! | `internal` | 500 | [`baas_core::Error::Backend`] (and any future variant); the body is generic: log the core error first ([`error_chain`]) |
//! | `unsupported` | 501 | a PostgREST feature this dialect does not implement, or [`baas_core::Error::Unsupported`] (the engine lacks it) |
//! | `unavailable` | 503 | [`baas_core::Error::Unavailable`]; the body is generic (the message may name hosts) |
//!
//! 501 was chosen for "unsupported" because the request is well-formed and
//! meaningful: it is the server that cannot carry it out.

use baas_core::{Error, NotFoundKind, Violation};

use crate::RestResponse;

/// An error ready to be sent as an HTTP response.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{status} {code}: {message}")]
pub struct RestError {
    /// HTTP status.
    pub status: u16,
    /// Stable machine-readable code (see the module docs).
    pub code: String,
    /// One-sentence human-readable message.
    pub message: String,
    /// More detail (for validation errors: every violation as `pointer: message`).
    pub details: Option<String>,
    /// What the client could do about it.
    pub hint: Option<String>,
    /// Validation violations with their JSON pointers (empty for other errors).
    pub violations: Box<[Violation]>,
}

impl RestError {
    /// An error with a status, code and message.
    pub fn new(status: u16, code: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            status,
            code: code.into(),
            message: message.into(),
            details: None,
            hint: None,
            violations: Box::default(),
        }
    }

    /// 400 `bad_request`.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(400, "bad_request", message)
    }

    /// 404 `not_found`.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(404, "not_found", message)
    }

    /// 501 `unsupported`.
    pub fn unsupported(message: impl Into<String>) -> Self {
        Self::new(501, "unsupported", message)
    }

    /// 406 `not_acceptable`.
    pub fn not_acceptable(message: impl Into<String>) -> Self {
        Self::new(406, "not_acceptable", message)
    }

    /// 405 `method_not_allowed`.
    pub fn method_not_allowed(method: &str) -> Self {
        Self::new(
            405,
            "method_not_allowed",
            format!("method `{method}` is not allowed here"),
        )
    }

    /// Builder: set the details.
    pub fn with_details(mut self, details: impl Into<String>) -> Self {
        self.details = Some(details.into());
        self
    }

    /// Builder: set the hint.
    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// The JSON body: `{"code","message","details","hint"}`, plus
    /// `"violations": [{"pointer","message"}]` for validation errors.
    pub fn body(&self) -> serde_json::Value {
        let mut m = serde_json::Map::new();
        m.insert("code".into(), self.code.clone().into());
        m.insert("message".into(), clip(&self.message).into());
        m.insert("details".into(), opt(&self.details));
        m.insert("hint".into(), opt(&self.hint));
        if !self.violations.is_empty() {
            let v = self
                .violations
                .iter()
                .map(|v| serde_json::json!({"pointer": v.pointer, "message": v.message}))
                .collect();
            m.insert("violations".into(), serde_json::Value::Array(v));
        }
        serde_json::Value::Object(m)
    }

    /// The HTTP response for this error.
    pub fn to_response(&self) -> RestResponse {
        RestResponse {
            status: self.status,
            headers: vec![(
                "content-type".into(),
                "application/json; charset=utf-8".into(),
            )],
            body: self.body().to_string().into(),
        }
    }
}

/// Longest text echoed in an error body (messages quote user input).
const MAX_TEXT: usize = 2048;

fn clip(s: &str) -> String {
    crate::lex::clip(s, MAX_TEXT)
}

fn opt(s: &Option<String>) -> serde_json::Value {
    s.as_deref().map_or(serde_json::Value::Null, |s| {
        serde_json::Value::String(clip(s))
    })
}

/// An error and its whole `source` chain as one line, for logs. 5xx bodies
/// are generic: log `error_chain(&core_error)` before converting it.
pub fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        s.push_str(": ");
        s.push_str(&c.to_string());
        cur = c.source();
    }
    s
}

impl From<Error> for RestError {
    fn from(e: Error) -> Self {
        Self::from(&e)
    }
}

impl From<&Error> for RestError {
    fn from(e: &Error) -> Self {
        match e {
            Error::NotFound { kind, name } => {
                let mut r = RestError::not_found(e.to_string());
                if *kind == NotFoundKind::Field || *kind == NotFoundKind::Relation {
                    r.hint = Some(format!("check the spelling of `{name}`"));
                }
                r
            }
            Error::Validation { violations } => {
                let mut r = RestError::new(422, "validation", "the request failed validation");
                r.details = Some(
                    violations
                        .iter()
                        .map(ToString::to_string)
                        .collect::<Vec<_>>()
                        .join("; "),
                );
                r.violations = violations.clone().into_boxed_slice();
                r
            }
            Error::Conflict {
                message,
                constraint,
            } => {
                let mut r = RestError::new(409, "conflict", message.clone());
                r.details = constraint.as_ref().map(|c| format!("constraint `{c}`"));
                r
            }
            Error::Forbidden(m) => RestError::new(403, "forbidden", m.clone()),
            Error::Unsupported { .. } => RestError::unsupported(e.to_string()),
            Error::LimitExceeded {
                limit,
                max,
                message,
            } => RestError::new(400, "limit_exceeded", message.clone())
                .with_details(format!("limit `{limit}` = {max}"))
                .with_hint(
                    "narrow the request: a smaller `limit`, a `limit` on each embedded list (`rel.limit=10`), fewer or shallower embeds, or filters",
                ),
            Error::Unavailable { .. } => RestError::new(
                503,
                "unavailable",
                "the database is unavailable; retry later",
            ),
            _ => RestError::new(500, "internal", "internal error"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn body_shape() {
        let e = RestError::bad_request("x").with_hint("y");
        assert_eq!(
            e.body(),
            serde_json::json!({"code": "bad_request", "message": "x", "details": null, "hint": "y"})
        );
    }

    #[test]
    fn small_enough_for_result() {
        // Under clippy's `result_large_err` threshold, so users returning
        // `Result<_, RestError>` need no allow.
        assert!(std::mem::size_of::<RestError>() < 128);
    }

    #[test]
    fn long_texts_are_clipped() {
        let e = RestError::bad_request("x".repeat(10_000)).with_details("y".repeat(10_000));
        let body = e.body();
        assert!(
            body["message"]
                .as_str()
                .is_some_and(|m| m.chars().count() == MAX_TEXT + 1)
        );
        assert!(body["details"].as_str().is_some_and(|m| m.ends_with('…')));
    }

    #[test]
    fn backend_is_generic() {
        let io = std::io::Error::other("password=secret");
        let e = RestError::from(Error::backend("query failed on host db1", io));
        assert_eq!(e.status, 500);
        assert_eq!(e.code, "internal");
        let body = e.body().to_string();
        assert!(!body.contains("secret") && !body.contains("db1"), "{body}");
        let io = std::io::Error::other("password=secret");
        let core = Error::backend("query failed on host db1", io);
        assert_eq!(
            error_chain(&core),
            "backend error: query failed on host db1: password=secret"
        );
    }
}
