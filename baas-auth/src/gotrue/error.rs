//! GoTrue's error responses.
//!
//! A request carrying `X-Supabase-Api-Version: 2024-01-01` (or any later
//! date; auth-js always sends it) gets `{"code": "<error_code>", "message"}`
//! and the header echoed as `2024-01-01`; any other request gets the legacy
//! `{"code": <status>, "error_code", "msg"}`. A weak password adds
//! `"weak_password": {"reasons": [...]}`. 5xx bodies are generic; the
//! cause goes to the log.

use std::borrow::Cow;

use baas_rest::{RestResponse, header};
use serde_json::{Value, json};

/// The header auth-js sends and GoTrue echoes.
pub(crate) const API_VERSION_HEADER: &str = "x-supabase-api-version";
/// The one dated API version.
pub(crate) const API_VERSION_2024: &str = "2024-01-01";

/// An error answer of the auth routes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct AuthError {
    pub status: u16,
    pub code: &'static str,
    pub message: Cow<'static, str>,
    /// `weak_password.reasons`.
    pub reasons: Vec<&'static str>,
    /// Seconds for `Retry-After` (429).
    pub retry_after: Option<u64>,
    /// `Allow` (405).
    pub allow: Option<&'static str>,
}

impl AuthError {
    pub fn new(status: u16, code: &'static str, message: impl Into<Cow<'static, str>>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            reasons: Vec::new(),
            retry_after: None,
            allow: None,
        }
    }

    /// 400 with `code`.
    pub fn bad_request(code: &'static str, message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(400, code, message)
    }

    /// 422 with `code`.
    pub fn unprocessable(code: &'static str, message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(422, code, message)
    }

    /// 422 `validation_failed`.
    pub fn validation(message: impl Into<Cow<'static, str>>) -> Self {
        Self::unprocessable("validation_failed", message)
    }

    /// 400 `invalid_credentials`, the same for every failed sign-in.
    pub fn invalid_credentials() -> Self {
        Self::bad_request("invalid_credentials", "Invalid login credentials")
    }

    /// 400 `refresh_token_not_found`.
    pub fn refresh_token_not_found() -> Self {
        Self::bad_request(
            "refresh_token_not_found",
            "Invalid Refresh Token: Refresh Token Not Found",
        )
    }

    /// 429 `over_request_rate_limit`.
    pub fn rate_limited(retry_after: std::time::Duration) -> Self {
        Self {
            retry_after: Some(retry_after.as_secs_f64().ceil().max(1.0) as u64),
            ..Self::new(429, "over_request_rate_limit", "Request rate limit reached")
        }
    }

    /// 500 `unexpected_failure`, logging `cause`.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        tracing::error!(error = %cause, "auth: internal error");
        Self::new(
            500,
            "unexpected_failure",
            "Unexpected failure, please check server logs for more information",
        )
    }

    /// The response, in the format the request asked for.
    pub fn response(&self, dated_api: bool) -> RestResponse {
        let mut body = if dated_api {
            json!({"code": self.code, "message": self.message})
        } else {
            json!({"code": self.status, "error_code": self.code, "msg": self.message})
        };
        if !self.reasons.is_empty() {
            body["weak_password"] = json!({"reasons": self.reasons});
        }
        let mut headers = vec![(
            "content-type".to_string(),
            "application/json; charset=utf-8".to_string(),
        )];
        if dated_api {
            headers.push((API_VERSION_HEADER.into(), API_VERSION_2024.into()));
        }
        if let Some(s) = self.retry_after {
            headers.push(("retry-after".into(), s.to_string()));
        }
        if let Some(a) = self.allow {
            headers.push(("allow".into(), a.into()));
        }
        RestResponse::new(self.status, headers, body.to_string())
    }
}

impl From<baas_core::Error> for AuthError {
    fn from(e: baas_core::Error) -> Self {
        let chain = baas_rest::error_chain(&e);
        match e {
            baas_core::Error::Unavailable { .. } => {
                tracing::error!(error = %chain, "auth: the store is unavailable");
                Self::new(
                    503,
                    "unexpected_failure",
                    "The auth store is unavailable, please retry",
                )
            }
            baas_core::Error::Timeout { .. } => {
                tracing::warn!(error = %chain, "auth: statement timeout");
                Self::new(
                    504,
                    "request_timeout",
                    "Processing this request timed out, please retry after a moment.",
                )
            }
            _ => Self::internal(chain),
        }
    }
}

/// Whether the request asked for the dated API (`X-Supabase-Api-Version`
/// a valid `YYYY-MM-DD` on or after 2024-01-01), as GoTrue decides it.
pub(crate) fn dated_api(headers: &[(String, String)]) -> bool {
    let Some(v) = header(headers, API_VERSION_HEADER) else {
        return false;
    };
    let v = v.trim();
    v.len() == 10
        && chrono::NaiveDate::parse_from_str(v, "%Y-%m-%d").is_ok()
        && v >= API_VERSION_2024
}

/// A JSON response with `status`.
pub(crate) fn json_response(status: u16, body: &Value) -> RestResponse {
    RestResponse::new(
        status,
        vec![
            (
                "content-type".into(),
                "application/json; charset=utf-8".into(),
            ),
            ("cache-control".into(), "no-store".into()),
        ],
        body.to_string(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(v: &str) -> Vec<(String, String)> {
        vec![("X-Supabase-Api-Version".into(), v.into())]
    }

    #[test]
    fn both_formats() {
        assert!(dated_api(&h("2024-01-01")) && dated_api(&h("2025-06-30")));
        assert!(!dated_api(&h("2023-12-31")) && !dated_api(&h("garbage")) && !dated_api(&[]));
        let mut e =
            AuthError::unprocessable("weak_password", "Password should be at least 6 characters.");
        e.reasons = vec!["length"];
        let new = e.response(true);
        assert_eq!(new.status, 422);
        assert_eq!(new.header(API_VERSION_HEADER), Some("2024-01-01"));
        assert_eq!(
            new.json(),
            json!({"code": "weak_password", "message": "Password should be at least 6 characters.", "weak_password": {"reasons": ["length"]}})
        );
        let old = AuthError::invalid_credentials().response(false);
        assert_eq!(old.header(API_VERSION_HEADER), None);
        assert_eq!(
            old.json(),
            json!({"code": 400, "error_code": "invalid_credentials", "msg": "Invalid login credentials"})
        );
    }
}
