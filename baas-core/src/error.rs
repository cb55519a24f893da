//! The one semantic error type of mini-baas.
//!
//! Adapters keep their own private error types and convert into [`Error`] at the
//! trait boundary; the web layer maps the variants to HTTP statuses. Nothing in
//! here knows about sqlx or BSON, nor about HTTP but for [`Raised`]: the
//! status a database function chose for its own error.

use std::fmt;

/// A boxed error from a lower layer, kept as the `source` of [`Error::Backend`].
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Result alias used across mini-baas.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// One problem found while validating input, located by a JSON pointer
/// (RFC 6901) into the document that was checked (a request body, a filter, a
/// metadata file).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Violation {
    /// JSON pointer to the offending value, e.g. `/filter/and/0/field`.
    pub pointer: String,
    /// What is wrong there, in one sentence.
    pub message: String,
    /// The SQLSTATE a database would report for it, when there is one
    /// ([`sqlstate::UNDEFINED_COLUMN`], [`sqlstate::NOT_NULL_VIOLATION`]), so
    /// every engine reports the violation with the same code, whether the
    /// validator or the database found it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
}

/// The SQLSTATE codes a violation or conflict can carry (PostgreSQL's, as
/// PostgREST reports them).
pub mod sqlstate {
    /// `23502`: a null (or missing) value for a field that cannot be null.
    pub const NOT_NULL_VIOLATION: &str = "23502";
    /// `23503`: a reference to a row that does not exist, or a row still referenced.
    pub const FOREIGN_KEY_VIOLATION: &str = "23503";
    /// `23505`: a duplicate value of a unique key.
    pub const UNIQUE_VIOLATION: &str = "23505";
    /// `23514`: a value a check constraint refuses.
    pub const CHECK_VIOLATION: &str = "23514";
    /// `42703`: a field the entity does not have.
    pub const UNDEFINED_COLUMN: &str = "42703";
    /// `42501`: the database refuses the statement to its role (a
    /// privilege it lacks, a row-level security policy).
    pub const INSUFFICIENT_PRIVILEGE: &str = "42501";
    /// `PGRST204`: a written field the entity does not have (PostgREST's
    /// code for a body's unknown column, where a read's is `42703`).
    pub const UNKNOWN_WRITTEN_COLUMN: &str = "PGRST204";
    /// `P0001`: an exception a function raised on purpose (`RAISE
    /// EXCEPTION '…'`): its message is written for the caller.
    pub const RAISE_EXCEPTION: &str = "P0001";
    /// `57014`: a statement cancelled, here past the tenant's statement
    /// timeout ([`Error::Timeout`](super::Error::Timeout)).
    pub const QUERY_CANCELED: &str = "57014";
}

impl Violation {
    /// A violation at `pointer`.
    pub fn new(pointer: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            pointer: pointer.into(),
            message: message.into(),
            code: None,
        }
    }

    /// Builder: the SQLSTATE of the violation.
    pub fn with_code(mut self, code: impl Into<String>) -> Self {
        self.code = Some(code.into());
        self
    }

    /// `field` is not a field of `entity` ([`sqlstate::UNDEFINED_COLUMN`]),
    /// worded as PostgreSQL words it.
    pub fn unknown_field(pointer: impl Into<String>, entity: &str, field: &str) -> Self {
        Self::new(pointer, format!("column {entity}.{field} does not exist"))
            .with_code(sqlstate::UNDEFINED_COLUMN)
    }

    /// A written `field` (a body's key) that `entity` does not have
    /// ([`sqlstate::UNKNOWN_WRITTEN_COLUMN`]), worded as PostgREST words it.
    pub fn unknown_written_field(pointer: impl Into<String>, entity: &str, field: &str) -> Self {
        Self::new(
            pointer,
            format!("Could not find the '{field}' column of '{entity}' in the schema cache"),
        )
        .with_code(sqlstate::UNKNOWN_WRITTEN_COLUMN)
    }

    /// `field` of `entity` cannot be null, and is null or missing
    /// ([`sqlstate::NOT_NULL_VIOLATION`]), worded as PostgreSQL words it.
    pub fn not_null(pointer: impl Into<String>, entity: &str, field: &str) -> Self {
        Self::new(
            pointer,
            format!(
                "null value in column \"{field}\" of relation \"{entity}\" violates not-null constraint"
            ),
        )
        .with_code(sqlstate::NOT_NULL_VIOLATION)
    }
}

/// What kind of constraint a [`Error::Conflict`] broke.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConflictKind {
    /// A duplicate value of a primary or unique key ([`sqlstate::UNIQUE_VIOLATION`]).
    Unique,
    /// A reference to a missing row, or a referenced row removed
    /// ([`sqlstate::FOREIGN_KEY_VIOLATION`]).
    ForeignKey,
    /// Anything else: an object that exists already, stale metadata, keys
    /// that cannot be generated.
    Other,
}

impl ConflictKind {
    /// The SQLSTATE of the kind, if it has one.
    pub fn sqlstate(self) -> Option<&'static str> {
        match self {
            Self::Unique => Some(sqlstate::UNIQUE_VIOLATION),
            Self::ForeignKey => Some(sqlstate::FOREIGN_KEY_VIOLATION),
            Self::Other => None,
        }
    }
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.pointer.is_empty() {
            f.write_str(&self.message)
        } else {
            write!(f, "{}: {}", self.pointer, self.message)
        }
    }
}

/// Which kind of thing was not found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum NotFoundKind {
    /// An entity name unknown to the metadata.
    Entity,
    /// A field name unknown to its entity.
    Field,
    /// A relation name unknown to its entity.
    Relation,
    /// A row / document that does not exist.
    Record,
    /// A tenant that is not registered.
    Tenant,
    /// A function name unknown to the metadata.
    Function,
}

impl fmt::Display for NotFoundKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Entity => "entity",
            Self::Field => "field",
            Self::Relation => "relation",
            Self::Record => "record",
            Self::Tenant => "tenant",
            Self::Function => "function",
        })
    }
}

/// An error a database function or trigger raised on purpose, for the
/// caller: its status, code and texts are the function author's, and reach
/// the client as they are (PostgREST's contract for `RAISE`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Raised {
    /// HTTP status.
    pub status: u16,
    /// The error's code (`P0001`, `PT402`, or the one a `PGRST` error
    /// names).
    pub code: String,
    /// Its message.
    pub message: String,
    /// Its details (PostgreSQL's `DETAIL`).
    pub details: Option<String>,
    /// Its hint (PostgreSQL's `HINT`).
    pub hint: Option<String>,
    /// Headers of the answer (a `PGRST` error's `DETAIL` names them).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub headers: Vec<(String, String)>,
}

impl fmt::Display for Raised {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}: {}", self.status, self.code, self.message)
    }
}

impl Raised {
    /// The error a database reported with SQLSTATE `code`, when a function
    /// raised it for the caller, as PostgREST reads it:
    ///
    /// | SQLSTATE | answer |
    /// | --- | --- |
    /// | `P0001` (`RAISE EXCEPTION`; MySQL's `SIGNAL SQLSTATE '45000'`) | 400, code `P0001`, the message, `DETAIL` and `HINT` |
    /// | `PTxyz`, `xyz` a status from 200 to 599 | status `xyz`, code `PTxyz`, the message, `DETAIL` and `HINT` |
    /// | another `PT…` (`PT40A`), `P0002`–`P0004` (PL/pgSQL's `STRICT` and `ASSERT` failures) | 500 with that code, the message, `DETAIL` and `HINT` |
    /// | `PGRST` | the message is the JSON body (`code`, `message`, `details`, `hint`), `DETAIL` JSON of its `status` (400 without) and `headers` (an object of strings: `{"WWW-Authenticate": "Bearer"}`); JSON that does not parse, a status outside 200–599, or headers that are no object of header names and single-line strings, is PostgREST's 500 `PGRST121` |
    ///
    /// `None` for every other code.
    pub fn from_database(
        code: &str,
        message: &str,
        detail: Option<&str>,
        hint: Option<&str>,
    ) -> Option<Self> {
        let plain = |status: u16, code: &str| Self {
            status,
            code: code.to_string(),
            message: message.to_string(),
            details: detail.map(str::to_string),
            hint: hint.map(str::to_string),
            headers: Vec::new(),
        };
        if code == sqlstate::RAISE_EXCEPTION || code == "45000" {
            return Some(plain(400, sqlstate::RAISE_EXCEPTION));
        }
        if let Some(status) = code.strip_prefix("PT") {
            // A code that names no status (`PT40A`): PostgREST's 500, the
            // error as raised.
            let status = status
                .parse::<u16>()
                .ok()
                .filter(|s| status.len() == 3 && (200..=599).contains(s))
                .unwrap_or(500);
            return Some(plain(status, code));
        }
        // PL/pgSQL's other errors (`ASSERT`'s `P0004`, `STRICT`'s
        // `P0002`/`P0003`): the function failed, a 500 as in PostgREST,
        // with its code and message.
        if code.starts_with("P0") && code.len() == 5 {
            return Some(plain(500, code));
        }
        if code != "PGRST" {
            return None;
        }
        Some(
            Self::custom(message, detail).unwrap_or_else(|problem| Self {
                status: 500,
                code: "PGRST121".into(),
                message: "could not parse the JSON of the RAISE SQLSTATE 'PGRST' error".into(),
                details: Some(problem),
                hint: None,
                headers: Vec::new(),
            }),
        )
    }

    /// A `PGRST` error: the body from `message`, the status from `detail`;
    /// what is wrong with them otherwise.
    fn custom(message: &str, detail: Option<&str>) -> std::result::Result<Self, String> {
        use serde_json::Value as J;
        let text = |v: &J, key: &str| -> std::result::Result<Option<String>, String> {
            match v.get(key) {
                None | Some(J::Null) => Ok(None),
                Some(J::String(s)) => Ok(Some(s.clone())),
                Some(_) => Err(format!("`{key}` of the message is not a string")),
            }
        };
        let body: J =
            serde_json::from_str(message).map_err(|e| format!("the message is not JSON: {e}"))?;
        if !body.is_object() {
            return Err("the message is not a JSON object".into());
        }
        let (status, headers) = match detail {
            None => (400, Vec::new()),
            Some(d) => {
                let d: J =
                    serde_json::from_str(d).map_err(|e| format!("the detail is not JSON: {e}"))?;
                let status = match d.get("status") {
                    None | Some(J::Null) => 400,
                    Some(s) => s
                        .as_u64()
                        .and_then(|s| u16::try_from(s).ok())
                        .filter(|s| (200..=599).contains(s))
                        .ok_or("`status` of the detail is not a status from 200 to 599")?,
                };
                let headers = match d.get("headers") {
                    None | Some(J::Null) => Vec::new(),
                    Some(J::Object(h)) => h
                        .iter()
                        .map(|(k, v)| match v {
                            J::String(v)
                                if crate::ir::is_header_name(k) && crate::ir::is_header_value(v) =>
                            {
                                Ok((k.clone(), v.clone()))
                            }
                            _ => Err(format!(
                                "header `{}` of the detail is not a header name with a one-line string",
                                k.chars().take(80).collect::<String>()
                            )),
                        })
                        .collect::<std::result::Result<_, _>>()?,
                    Some(_) => return Err("`headers` of the detail is not an object".into()),
                };
                (status, headers)
            }
        };
        Ok(Self {
            status,
            code: text(&body, "code")?.unwrap_or_default(),
            message: text(&body, "message")?.unwrap_or_default(),
            details: text(&body, "details")?,
            hint: text(&body, "hint")?,
            headers,
        })
    }
}

/// The semantic error enum shared by every crate of mini-baas.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Something named in the request does not exist.
    #[error("{kind} `{name}` not found")]
    NotFound {
        /// What kind of thing.
        kind: NotFoundKind,
        /// Its name (or the key of a record).
        name: String,
    },
    /// The input is well-formed but breaks the metadata's rules.
    #[error("validation failed: {}", join_violations(.violations))]
    Validation {
        /// Every problem found, each with a JSON pointer.
        violations: Vec<Violation>,
    },
    /// A uniqueness or foreign-key constraint was violated.
    #[error("conflict: {message}")]
    Conflict {
        /// What kind of constraint.
        kind: ConflictKind,
        /// Human-readable description (constraint name where known).
        message: String,
        /// The constraint that was violated, if the engine reports it.
        constraint: Option<String>,
    },
    /// The caller may not do this.
    #[error("forbidden: {0}")]
    Forbidden(String),
    /// The engine (or this adapter) cannot do what was asked.
    #[error("unsupported: {feature} is not supported by {engine}")]
    Unsupported {
        /// The engine name (`postgres`, `mysql`, `sqlite`, ...).
        engine: String,
        /// The feature that is missing, e.g. `full-text search`.
        feature: String,
    },
    /// The database cannot be reached right now (connection refused, pool timeout).
    #[error("database unavailable: {message}")]
    Unavailable {
        /// What happened.
        message: String,
        /// The underlying error.
        #[source]
        source: Option<BoxError>,
    },
    /// The request is well-formed but would do more work than a limit of
    /// the tenant allows (rows across embed levels, response bytes). Not a
    /// server failure: the caller can narrow the request.
    #[error("limit exceeded: {message}")]
    LimitExceeded {
        /// The limit's name, as configured (`max_rows`, `max_response_bytes`).
        limit: &'static str,
        /// Its value.
        max: u64,
        /// What went over it, and how to narrow the request.
        message: String,
    },
    /// A statement ran past the tenant's statement timeout and the database
    /// (or the adapter) cancelled it: PostgreSQL's `statement_timeout`,
    /// MariaDB's `max_statement_time`, MySQL's `max_execution_time`,
    /// SQLite's progress handler, MongoDB's `maxTimeMS`. Nothing it would
    /// have written is kept (the statement, or its transaction, is rolled
    /// back). The request can be narrowed; the database did not fail.
    #[error("statement timeout: {message}")]
    Timeout {
        /// What was cancelled (the engine's words, without values).
        message: String,
    },
    /// An error a database function or trigger raised for its caller
    /// (PostgreSQL's `RAISE`, MySQL's `SIGNAL`): answered as raised
    /// ([`Raised::from_database`]).
    #[error("raised by the database: {0}")]
    Raised(Box<Raised>),
    /// Any other failure of the database or driver.
    #[error("backend error: {message}")]
    Backend {
        /// What happened.
        message: String,
        /// The underlying error.
        #[source]
        source: Option<BoxError>,
    },
}

fn join_violations(v: &[Violation]) -> String {
    v.iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

/// The limit of [`Error::max_affected`]: the caller's own bound on the
/// rows a call may answer (PostgREST's `Prefer: max-affected`).
pub const MAX_AFFECTED: &str = "max-affected";

impl Error {
    /// A validation error with a single violation.
    pub fn validation(pointer: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Validation {
            violations: vec![Violation::new(pointer, message)],
        }
    }

    /// `entity {name} not found`.
    pub fn entity_not_found(name: impl Into<String>) -> Self {
        Self::NotFound {
            kind: NotFoundKind::Entity,
            name: name.into(),
        }
    }

    /// A call that answered `n` rows where the caller allowed at most
    /// `max` ([`LimitExceeded`](Self::LimitExceeded) of the limit
    /// [`MAX_AFFECTED`]; its transaction rolled back).
    pub fn max_affected(max: u64, n: u64) -> Self {
        Self::LimitExceeded {
            limit: MAX_AFFECTED,
            max,
            message: format!("The query affects {n} rows"),
        }
    }

    /// A write whose representation (`returning`) would answer more
    /// rows than the tenant's row budget `max` ([`LimitExceeded`](Self::LimitExceeded)
    /// of `max_rows`): refused before it writes, or rolled back.
    pub fn representation_too_large(max: u64) -> Self {
        Self::LimitExceeded {
            limit: "max_rows",
            max,
            message: format!(
                "this write's representation would answer with more than {max} rows; nothing was written (narrow the filter, or ask for return=minimal)"
            ),
        }
    }

    /// An unsupported feature on an engine.
    pub fn unsupported(engine: impl Into<String>, feature: impl Into<String>) -> Self {
        Self::Unsupported {
            engine: engine.into(),
            feature: feature.into(),
        }
    }

    /// A backend error with a source.
    pub fn backend(
        message: impl Into<String>,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        Self::Backend {
            message: message.into(),
            source: Some(Box::new(source)),
        }
    }

    /// A short stable code for the variant (used in error bodies and logs).
    pub fn code(&self) -> &'static str {
        match self {
            Self::NotFound { .. } => "not_found",
            Self::Validation { .. } => "validation",
            Self::Conflict { .. } => "conflict",
            Self::Forbidden(_) => "forbidden",
            Self::Unsupported { .. } => "unsupported",
            Self::Unavailable { .. } => "unavailable",
            Self::LimitExceeded { .. } => "limit_exceeded",
            Self::Raised(_) => "raised",
            Self::Timeout { .. } => "timeout",
            Self::Backend { .. } => "backend",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Raised;

    #[test]
    fn raised_forms() {
        let r = Raised::from_database("P0001", "no", Some("d"), Some("h")).unwrap();
        assert_eq!(
            (r.status, r.code.as_str(), r.details.as_deref()),
            (400, "P0001", Some("d"))
        );
        // MySQL's `SIGNAL SQLSTATE '45000'` is PostgreSQL's `RAISE EXCEPTION`.
        assert_eq!(
            Raised::from_database("45000", "no", None, None)
                .unwrap()
                .code,
            "P0001"
        );
        assert_eq!(
            Raised::from_database("PT404", "gone", None, None)
                .unwrap()
                .status,
            404
        );
        // A `PT` code naming no status an error may take, PL/pgSQL's other
        // failures: 500, the error as raised.
        for code in ["PT4040", "PTabc", "PT199", "PT600", "PT", "P0002", "P0004"] {
            let r = Raised::from_database(code, "m", None, None);
            assert_eq!(
                r.map(|r| (r.status, r.code, r.message)),
                Some((500, code.to_string(), "m".to_string())),
                "{code}"
            );
        }
        // Not raised for the caller: the database's own error.
        for code in ["23505", "P0", "42P01"] {
            assert_eq!(Raised::from_database(code, "m", None, None), None, "{code}");
        }
    }

    #[test]
    fn pgrst_errors_are_checked() {
        let body = r#"{"code":"X1","message":"m","details":"d","hint":"h"}"#;
        let r = Raised::from_database("PGRST", body, None, None).unwrap();
        assert_eq!(
            (r.status, r.code.as_str(), r.hint.as_deref()),
            (400, "X1", Some("h"))
        );
        let detail = r#"{"status":409,"headers":{"X-Ok":"1"}}"#;
        let r = Raised::from_database("PGRST", body, Some(detail), None).unwrap();
        assert_eq!(
            (r.status, r.message.as_str(), r.headers),
            (409, "m", vec![("X-Ok".to_string(), "1".to_string())])
        );
        // Malformed: PostgREST's 500 `PGRST121`.
        for (message, detail) in [
            ("not json", None),
            ("[1]", None),
            (r#"{"code": 1}"#, None),
            (body, Some("nope")),
            (body, Some(r#"{"status": 99}"#)),
            (body, Some(r#"{"status": 700}"#)),
            (body, Some(r#"{"status": "402"}"#)),
            (body, Some(r#"{"headers": ["X-A"]}"#)),
            (body, Some(r#"{"headers": {"X-A": 1}}"#)),
            (body, Some(r#"{"headers": {"X A": "b"}}"#)),
            (
                body,
                Some(r#"{"headers": {"X-A": "b\r\nSet-Cookie: x=1"}}"#),
            ),
        ] {
            let r = Raised::from_database("PGRST", message, detail, None).unwrap();
            assert_eq!(
                (r.status, r.code.as_str()),
                (500, "PGRST121"),
                "{message} {detail:?}"
            );
        }
    }
}
