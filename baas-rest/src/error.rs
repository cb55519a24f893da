//! REST errors: a status, a code and a PostgREST-shaped JSON body
//! (`code`, `message`, `details`, `hint`).
//!
//! Where PostgREST has a code for an error, the body carries it, with
//! PostgREST's wording, whatever the engine behind the tenant:
//!
//! | code | status | when |
//! | --- | --- | --- |
//! | `PGRST100` | 400 | the query string cannot be parsed: a filter, `select`, `order`, `limit`/`offset`, a logic tree or a cursor (`failed to parse …`, an unknown operator, a field selected twice) |
//! | `PGRST102` | 400 | the body is empty, not JSON, or not the JSON the route takes (an object, or an array of objects to insert several rows; an object of a function's arguments) |
//! | `PGRST101` | 405 | `/rpc/f` with another method than `GET`, `HEAD` or `POST`; `GET` of a function that may write (or of aggregates of its rows) on an engine without read-only transactions |
//! | `25006` | 405 | `GET`/`HEAD` of a PostgreSQL function that writes (it runs in a read-only transaction, nothing is written) |
//! | `PGRST103` | 416 | an offset past the matching rows (`details`: `An offset of n was requested, but there are only m rows.`), a malformed `Range`, or one whose end is before its start (PostgREST ignores a malformed one) |
//! | `PGRST105` | 405 | a `PUT` whose filters are not exactly one `eq` on each primary key field (`Filters must include all and only primary key columns with 'eq' operators`) |
//! | `PGRST107` | 406 | `Accept` names no media type we produce (`message`: `None of these media types are available: …`); also `application/vnd.pgrst.plan…` where no plan is served (another caller than the service role, an engine without plans: the message says which) |
//! | `PGRST108` | 400 | a filter, `order`, `limit` or `offset` names an embedding (`rel.col=eq.1`) that `select=` does not embed |
//! | `PGRST109` | 400 | a `PATCH`/`DELETE` with `limit` (or `offset`) and no `order` (a limited write needs one to say which rows) |
//! | `PGRST114` | 400 | a `PUT` with `limit` or `offset` |
//! | `PGRST115` | 400 | a `PUT` body whose primary key differs from the URL's (`Payload values do not match URL in primary key column(s)`) |
//! | `PGRST116` | 406 | a singular response (`Accept: application/vnd.pgrst.object+json`) found 0 or several rows (`details`: `The result contains n rows`) |
//! | `PGRST122` | 400 | `Prefer: handling=strict` beside a preference we do not understand or cannot apply (`Invalid preferences given with handling=strict`, `details`: `Invalid preferences: …`): an unknown token, a time zone PostgreSQL does not list |
//! | `PGRST123` | 400 | aggregates (`count()`, `col.sum()`…, in embeddings and spreads too) in a read of a tenant whose `aggregates` option is off (`Use of aggregate functions is not allowed`, as PostgREST without `db-aggregates-enabled`) |
//! | `PGRST124` | 400 | `Prefer: handling=strict, max-affected=n` and the `PATCH`/`DELETE` would touch more than `n` rows (nothing is written), or the `/rpc` call answered more than `n` rows (rolled back) |
//! | `PGRST127` | 400 | a spread with aggregates inside a to-many spread (`...albums(...tracks(count()))`): PostgREST's `Feature not implemented`, `details` `Aggregates are not implemented for one-to-many or many-to-many spreads.` |
//! | `PGRST200` | 400 | `select=` embeds a name that is neither a relation nor a related entity |
//! | `PGRST201` | 300 | an embedding names an entity reachable through several relations; `details` lists the candidates, add a `!hint` |
//! | `PGRST202` | 404 | `/rpc/f`: no such function, or none of its overloads takes the call's arguments (the signatures in `hint` for a caller who may call it) |
//! | `PGRST203` | 300 | `/rpc/f`: several overloads take the call's arguments (their signatures in `message` for a caller who may call it; overloads with the same parameter names, PostgREST's `hint`) |
//! | `PGRST205` | 404 | no such table (`Could not find the table 'x' in the schema cache`; the same answer when the tenant is missing) |
//! | `42712` | 400 | one relation embedded twice under one name (`select=author(name),author(id)`: give one an alias) |
//! | `42725` | 400 | PostgreSQL cannot choose between overloads it has and we do not serve (`f()` beside `f(int DEFAULT 1)`) |
//! | `23502` | 400 | a null or missing value for a field that cannot be null (the validator's or the database's) |
//! | `23503` | 409 | a reference to a missing row, or a referenced row deleted ([`baas_core::ConflictKind::ForeignKey`]) |
//! | `23505` | 409 | a duplicate key ([`baas_core::ConflictKind::Unique`]) |
//! | `42703` | 400 | a field the entity does not have (in `select`, a filter, `order`…) |
//! | `PGRST204` | 400 | a body's key that is no field of the entity (`Could not find the 'nope' column of 'artist' in the schema cache`); reported first, whatever else the body breaks |
//! | `23514` | 400 | a value a check constraint refuses (the database's check; the validator's own refusals stay `validation`) |
//! | `P0001` | 400 | a database function's `RAISE EXCEPTION` (MySQL: `SIGNAL SQLSTATE '45000'`): its message, `DETAIL` and `HINT` |
//! | `PTxyz` | `xyz` | a database function's `RAISE SQLSTATE 'PT402'` (MySQL: `SIGNAL`), `xyz` from 200 to 599: its message, `DETAIL` and `HINT`, as PostgREST answers it |
//! | any | any | a database function's `RAISE SQLSTATE 'PGRST'` with a JSON message (the body: `code`, `message`, `details`, `hint`) and a JSON `DETAIL` (its `status`, and its `headers`, an object of strings, on the answer); malformed JSON is a 500 `PGRST121` ([`baas_core::Raised::from_database`]) |
//! | `57014` | 504 | a statement ran past the tenant's `statement_timeout_ms` and was cancelled ([`baas_core::Error::Timeout`], on every engine; `canceling statement due to statement timeout`; PostgREST answers 500) |
//! | `22…` | 400 | a value the database itself refuses (SQLSTATE class 22 on PostgreSQL and MySQL/MariaDB: `22P02` a text that is no number, `22003` out of range, `22001` too long…), with a clean sentence naming the column; the validator's own refusals stay `validation` |
//!
//! The others keep our stable codes:
//!
//! | code | status | when |
//! | --- | --- | --- |
//! | `bad_request` | 400 | the path or a header cannot be parsed, or the request names something it cannot use (`columns` on a read, filters on a `POST`, an update of every row) |
//! | `forbidden` | 403 | [`baas_core::Error::Forbidden`] |
//! | `not_found` | 404 | no such route, relation or record ([`baas_core::Error::NotFound`]; a missing table or function is `PGRST205`/`PGRST202`); also a singular read by key (`/{entity}/{id}`) that finds no row |
//! | `method_not_allowed` | 405 | the method does not apply to the route (the service adds `Allow`) |
//! | `conflict` | 409 | any other [`baas_core::Error::Conflict`] (stale metadata, an object that exists, keys that cannot be generated) |
//! | `idempotency_key_in_use` | 409 | a request with the same `Idempotency-Key` still runs ([`crate::idempotency`]) |
//! | `idempotency_key_reused` | 422 | the `Idempotency-Key` was used for another request |
//! | `uri_too_long` | 414 | the query string exceeds [`crate::RestLimits::max_query_bytes`] |
//! | `payload_too_large` | 413 | the body exceeds [`crate::RestLimits::max_body_bytes`] |
//! | `unsupported_media_type` | 415 | a write body without a JSON (or, to insert, CSV) `Content-Type` |
//! | `validation` | 422 | any other [`baas_core::Error::Validation`] (a value of the wrong type, out of range, too long…, or violations of several kinds); `details` lists each violation |
//! | `limit_exceeded` | 400 | a read over the tenant's row or byte budget |
//! | `internal` | 500 | [`baas_core::Error::Backend`] (and any future variant); the body is generic: log the core error first ([`error_chain`]) |
//! | `unsupported` | 501 | a PostgREST feature this dialect does not implement, or [`baas_core::Error::Unsupported`] (the engine lacks it) |
//! | `unavailable` | 503 | [`baas_core::Error::Unavailable`]; the body is generic (the message may name hosts) |
//!
//! Every body from a validation error (`validation`, `23502`, `42703`)
//! also carries `violations`, each with its JSON pointer (and `code`).
//! Conflicts (`23503`, `23505`) have one message whatever the engine;
//! `details` is the engine's own message (with the constraint when the
//! engine names it), so it differs between engines.
//!
//! 501 was chosen for "unsupported" because the request is well-formed and
//! meaningful: it is the server that cannot carry it out.

use baas_core::{ConflictKind, Error, NotFoundKind, Violation};

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
    /// The rarer parts, boxed to keep the error small ([`violations`](Self::violations),
    /// [`headers`](Self::headers)).
    extra: Option<Box<Extra>>,
}

/// What few errors carry.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Extra {
    /// Validation violations with their JSON pointers.
    violations: Vec<Violation>,
    /// `details` holds JSON text, sent as JSON (PostgREST's candidate list
    /// of an ambiguous embedding).
    details_json: bool,
    /// Headers of the answer, as a database function asked.
    headers: Vec<(String, String)>,
}

/// PostgREST's error codes that this crate answers with.
pub mod codes {
    /// `Accept` names no media type the server produces (406).
    pub const MEDIA_TYPE: &str = "PGRST107";
    /// `Accept-Profile` / `Content-Profile` names a schema not served (406).
    pub const PROFILE: &str = "PGRST106";
    /// A range (or offset) no rows satisfy, or a malformed `Range` (416).
    pub const RANGE: &str = "PGRST103";
    /// A `PUT` whose filters are not the primary key's `eq`s (405).
    pub const PUT_FILTERS: &str = "PGRST105";
    /// A limited `PATCH`/`DELETE` without `order` (400).
    pub const LIMIT_NO_ORDER: &str = "PGRST109";
    /// A `PUT` with `limit` or `offset` (400).
    pub const PUT_LIMIT: &str = "PGRST114";
    /// A `PUT` body whose primary key differs from the URL's (400).
    pub const PUT_KEY_MISMATCH: &str = "PGRST115";
    /// A singular response found 0 or several rows (406).
    pub const SINGULAR: &str = "PGRST116";
    /// `Prefer: handling=strict` with a preference not understood (400).
    pub const INVALID_PREFERENCES: &str = "PGRST122";
    /// Aggregates in a read of a tenant that turns them off.
    pub const AGGREGATES_DISALLOWED: &str = "PGRST123";
    /// `Prefer: max-affected=n` with `handling=strict` exceeded (400).
    pub const MAX_AFFECTED: &str = "PGRST124";
    /// A feature PostgREST does not implement either, with its details (400).
    pub const NOT_IMPLEMENTED: &str = "PGRST127";
    /// No relation for an embedding (400).
    pub const NO_RELATION: &str = "PGRST200";
    /// Several relations for an embedding (300).
    pub const AMBIGUOUS_EMBED: &str = "PGRST201";
    /// No function takes the call (404).
    pub const NO_FUNCTION: &str = "PGRST202";
    /// Several overloads take the call (300).
    pub const AMBIGUOUS_FUNCTION: &str = "PGRST203";
    /// No such table (404).
    pub const NO_TABLE: &str = "PGRST205";
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
            extra: None,
        }
    }

    fn extra_mut(&mut self) -> &mut Extra {
        self.extra.get_or_insert_with(Box::default)
    }

    /// Validation violations with their JSON pointers (empty for other
    /// errors).
    pub fn violations(&self) -> &[Violation] {
        self.extra.as_ref().map_or(&[], |e| &e.violations)
    }

    /// Headers the answer carries besides its `Content-Type` (a database
    /// function's, from a `RAISE SQLSTATE 'PGRST'` error's `DETAIL`).
    pub fn headers(&self) -> &[(String, String)] {
        self.extra.as_ref().map_or(&[], |e| &e.headers)
    }

    /// Builder: headers the answer carries ([`headers`](Self::headers)).
    pub fn with_headers(mut self, headers: Vec<(String, String)>) -> Self {
        self.extra_mut().headers = headers;
        self
    }

    /// 400 `bad_request`.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(400, "bad_request", message)
    }

    /// 400 `PGRST100`: the query string cannot be parsed (PostgREST's
    /// "Parsing error in the query string parameter").
    pub fn query_syntax(message: impl Into<String>) -> Self {
        Self::new(400, "PGRST100", message)
    }

    /// 400 `PGRST102`: the body is empty, not JSON, or not the JSON the
    /// route takes (PostgREST's "Empty or invalid json").
    pub fn invalid_body(message: impl Into<String>) -> Self {
        Self::new(400, "PGRST102", message)
    }

    /// 404 `not_found`.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(404, "not_found", message)
    }

    /// 404 `PGRST202`: no function `call` (`f`, `f(a, b)`) takes the
    /// call, in PostgREST's words.
    pub fn no_function(call: &str) -> Self {
        Self::new(
            404,
            codes::NO_FUNCTION,
            format!("Could not find the function {call} in the schema cache"),
        )
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

    /// Builder: set the details to a JSON value (sent as JSON, not text).
    pub fn with_json_details(mut self, details: serde_json::Value) -> Self {
        self.details = Some(details.to_string());
        self.extra_mut().details_json = true;
        self
    }

    /// 406 `PGRST116`: a singular response, and `n` rows (PostgREST's wording).
    pub fn singular(n: u64) -> Self {
        Self::new(
            406,
            codes::SINGULAR,
            "JSON object requested, multiple (or no) rows returned",
        )
        .with_details(format!("The result contains {n} rows"))
    }

    /// 400 `PGRST127`: what PostgREST refuses as not implemented, with
    /// its wording (`message` `Feature not implemented`, `details` why).
    pub fn not_implemented(details: impl Into<String>) -> Self {
        Self::new(400, codes::NOT_IMPLEMENTED, "Feature not implemented").with_details(details)
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
        let details = match &self.details {
            Some(d) if self.extra.as_ref().is_some_and(|e| e.details_json) => {
                serde_json::from_str(d).unwrap_or_else(|_| serde_json::Value::String(clip(d)))
            }
            d => opt(d),
        };
        m.insert("details".into(), details);
        m.insert("hint".into(), opt(&self.hint));
        if !self.violations().is_empty() {
            let v = self
                .violations()
                .iter()
                .map(|v| {
                    let mut o = serde_json::json!({"pointer": v.pointer, "message": v.message});
                    if let Some(c) = &v.code {
                        o["code"] = c.clone().into();
                    }
                    o
                })
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
        .with_headers_asked(self.headers().to_vec())
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
                // One SQLSTATE shared by every violation (an unknown field,
                // a null in a non-null field): PostgREST's code, status and
                // message; anything else stays our 422.
                let shared = violations.first().and_then(|v| v.code.as_deref()).filter(|c| {
                    violations.iter().all(|v| v.code.as_deref() == Some(*c))
                });
                // A body's unknown column is what PostgREST reports first
                // (its schema cache is asked before any value is looked at).
                let unknown = violations.iter().find(|v| {
                    v.code.as_deref() == Some(baas_core::sqlstate::UNKNOWN_WRITTEN_COLUMN)
                });
                let mut r = match (shared, violations.first(), unknown) {
                    (_, _, Some(v)) => RestError::new(
                        400,
                        baas_core::sqlstate::UNKNOWN_WRITTEN_COLUMN,
                        v.message.clone(),
                    ),
                    (Some(code), Some(first), _) => {
                        RestError::new(400, code, first.message.clone())
                    }
                    _ => RestError::new(422, "validation", "the request failed validation"),
                };
                r.details = Some(
                    violations
                        .iter()
                        .map(ToString::to_string)
                        .collect::<Vec<_>>()
                        .join("; "),
                );
                r.extra_mut().violations = violations.clone();
                r
            }
            Error::Conflict {
                kind,
                message,
                constraint,
            } => {
                let constraint = constraint.as_ref().map(|c| format!("constraint `{c}`"));
                let (code, text) = match kind {
                    ConflictKind::Unique => (
                        baas_core::sqlstate::UNIQUE_VIOLATION,
                        "duplicate key value violates unique constraint",
                    ),
                    ConflictKind::ForeignKey => (
                        baas_core::sqlstate::FOREIGN_KEY_VIOLATION,
                        "insert, update or delete violates foreign key constraint",
                    ),
                    _ => {
                        let mut r = RestError::new(409, "conflict", message.clone());
                        r.details = constraint;
                        return r;
                    }
                };
                let mut r = RestError::new(409, code, text);
                r.details = Some(match (constraint, kind_name(e)) {
                    (Some(c), Some(name)) if !message.contains(name) => {
                        format!("{message} ({c})")
                    }
                    _ => message.clone(),
                });
                r
            }
            Error::Raised(raised) => {
                let mut r = RestError::new(raised.status, &raised.code, &raised.message);
                r.details = raised.details.clone();
                r.hint = raised.hint.clone();
                if !raised.headers.is_empty() {
                    r = r.with_headers(raised.headers.clone());
                }
                r
            }
            Error::Forbidden(m) => RestError::new(403, "forbidden", m.clone()),
            Error::Unsupported { .. } => RestError::unsupported(e.to_string()),
            // `Prefer: max-affected` exceeded by a write or a call
            // (PostgREST's wording).
            Error::LimitExceeded {
                limit: baas_core::error::MAX_AFFECTED,
                message,
                ..
            } => RestError::new(
                400,
                codes::MAX_AFFECTED,
                "Query result exceeds max-affected preference constraint",
            )
            .with_details(message.clone()),
            Error::LimitExceeded {
                limit,
                max,
                message,
            } => RestError::new(400, "limit_exceeded", message.clone())
                .with_details(format!("limit `{limit}` = {max}"))
                .with_hint(
                    "narrow the request: a smaller `limit`, a `limit` on each embedded list (`rel.limit=10`), fewer or shallower embeds, or filters",
                ),
            // PostgreSQL's words for its own `statement_timeout`, on every
            // engine. A 504: the database did not answer in the time the
            // tenant allows (PostgREST answers 500).
            Error::Timeout { .. } => RestError::new(
                504,
                baas_core::sqlstate::QUERY_CANCELED,
                "canceling statement due to statement timeout",
            )
            .with_hint(
                "each statement may run `statement_timeout_ms` (a tenant limit): narrow the request (filters on indexed fields, a smaller `limit`, fewer embeds)",
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

/// The constraint a conflict names, if any.
fn kind_name(e: &Error) -> Option<&str> {
    match e {
        Error::Conflict { constraint, .. } => constraint.as_deref(),
        _ => None,
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
