//! sqlx error → [`baas_core::Error`], shared by the sqlx-based adapters.

use baas_core::redact::redact_in;

use crate::driver_message::{Clean, Problem, classify, data_exception};
use baas_core::{ConflictKind, Error, Raised, Violation, sqlstate};
use sqlx::error::ErrorKind;

/// Map a driver error into the semantic error enum.
///
/// Unique, foreign-key and exclusion violations → `Conflict` (of kind
/// `Unique`, `ForeignKey`, `Other`); not-null and check violations (with
/// SQLSTATE `23502` / `23514` on the violation, whatever the engine), and bad values (overflow, text too long, malformed input)
/// → `Validation` at the column the database names (`/price`). Their
/// messages are [`crate::driver_message`]'s clean sentences; the database's
/// own text is logged (`tracing`, info) and never sent to the client; connection, TLS, I/O problems and pool timeouts →
/// `Unavailable`; everything else → `Backend` with the driver error as source.
///
/// Errors the request caused are never `Backend` (a 5xx means the server or
/// the database failed):
///
/// | engine | error | becomes |
/// | --- | --- | --- |
/// | PostgreSQL, MySQL | SQLSTATE class `22` (data exception) | `Validation` |
/// | PostgreSQL | `42704` for a text search configuration (`fts(nope)`) | `Validation` |
/// | PostgreSQL | `42704` for a type (`col::nope`), `42846` (`id::interval`) | `Validation` with that code |
/// | PostgreSQL, MySQL | `P0001` (`RAISE EXCEPTION`), MySQL's `45000` (`SIGNAL`), `PTxyz`, `PGRST`: raised for the caller | `Raised` ([`Raised::from_database`]) |
/// | PostgreSQL | `42501` (a privilege the role lacks, a row-level security policy) | `Raised`, a 403 with that code and the database's message |
/// | SQLite | `object name reserved for internal use`, `may not be modified` (a system table) | `Validation` |
/// | PostgreSQL | `57014` for the `statement_timeout` (not a cancel request) | `Timeout` |
/// | MariaDB, MySQL | `max_statement_time` (MariaDB's 1969), `max_execution_time` (MySQL's 3024); not a `KILL` | `Timeout` |
/// | SQLite | `SQLITE_INTERRUPT` (the statement timeout's progress handler) | `Timeout` |
/// | SQLite | `integer overflow` (arithmetic past 2^63; `sum`s of 64-bit integers are split in two halves, joined after) | `Validation` with `22003` |
///
/// A transaction the database aborted because of a concurrent one
/// (SQLSTATE class `40`: deadlock, serialization failure) is `Unavailable`:
/// not the request's fault, and the whole write was rolled back, so it can
/// run again ([`is_transaction_conflict`]; the SQL adapter retries writes).
pub fn map_sqlx_error(engine: &str, e: sqlx::Error) -> Error {
    map_sqlx_error_with(engine, e, None, None)
}

/// [`map_sqlx_error`] with the driver's detail and hint lines of a
/// database error ([`SqlxEngine::error_detail`](crate::SqlxEngine::error_detail),
/// [`SqlxEngine::error_hint`](crate::SqlxEngine::error_hint)).
pub(crate) fn map_sqlx_error_with(
    engine: &str,
    e: sqlx::Error,
    detail: Option<&str>,
    hint: Option<&str>,
) -> Error {
    match e {
        sqlx::Error::Database(db) => {
            let message = db.message().to_string();
            let constraint = db.constraint().map(str::to_string);
            let code = db.code().map(|c| c.into_owned()).unwrap_or_default();
            if code.starts_with("40") {
                return Error::Unavailable {
                    message: format!(
                        "{engine}: the database aborted the transaction for a concurrent one ({message}); retry"
                    ),
                    source: Some(Box::new(sqlx::Error::Database(db))),
                };
            }
            // A statement the database cancelled at the tenant's statement
            // timeout: the request's, and nothing of it was kept.
            if is_timeout(engine, &code, &message) {
                tracing::info!(engine, code = %code, raw = %message, "statement timeout");
                return Error::Timeout {
                    message: format!("{engine}: the statement ran past the statement timeout"),
                };
            }
            // An error a function or trigger raised for the caller: as
            // raised (PostgREST's `P0001`, `PTxyz` and `PGRST` forms).
            if matches!(engine, "postgres" | "mysql")
                && let Some(raised) = Raised::from_database(&code, &message, detail, hint)
            {
                return Error::Raised(Box::new(raised));
            }
            // The client gets the column and a clean sentence; the raw text
            // (tables, schemas, sometimes the value) goes to the log only.
            let clean = |problem: Problem| {
                tracing::info!(engine, code = %code, raw = %message, "the database refused the statement");
                classify(engine, problem, &message, detail, constraint.as_deref())
            };
            // A violation at the column the database names, with its code.
            let at_column = |c: Clean, code: &str| Error::Validation {
                violations: vec![
                    Violation::new(
                        c.column.map(|c| format!("/{c}")).unwrap_or_default(),
                        c.message,
                    )
                    .with_code(code),
                ],
            };
            match db.kind() {
                ErrorKind::UniqueViolation
                | ErrorKind::ForeignKeyViolation
                | ErrorKind::ExclusionViolation => {
                    let (problem, kind) = match db.kind() {
                        ErrorKind::UniqueViolation => (Problem::Duplicate, ConflictKind::Unique),
                        ErrorKind::ExclusionViolation => (Problem::Exclusion, ConflictKind::Other),
                        _ if message.starts_with("Cannot delete or update a parent row")
                            || message.starts_with("update or delete on table") =>
                        {
                            (Problem::StillReferenced, ConflictKind::ForeignKey)
                        }
                        _ if engine == "sqlite" => (Problem::Reference, ConflictKind::ForeignKey),
                        _ => (Problem::MissingReference, ConflictKind::ForeignKey),
                    };
                    Error::Conflict {
                        kind,
                        message: clean(problem).message,
                        constraint,
                    }
                }
                ErrorKind::NotNullViolation => {
                    at_column(clean(Problem::NotNull), sqlstate::NOT_NULL_VIOLATION)
                }
                ErrorKind::CheckViolation => {
                    at_column(clean(Problem::Check), sqlstate::CHECK_VIOLATION)
                }
                // The database's own refusal of the caller (a role without
                // the privilege, a row-level security policy): PostgREST's
                // 403 with the SQLSTATE and the database's words.
                _ if engine == "postgres" && code == sqlstate::INSUFFICIENT_PRIVILEGE => {
                    Error::Raised(Box::new(Raised {
                        status: 403,
                        code,
                        message,
                        details: detail.map(str::to_string),
                        hint: hint.map(str::to_string),
                        headers: Vec::new(),
                    }))
                }
                // A write in a read-only transaction (a volatile function
                // called by `GET`): PostgREST's 405 with the SQLSTATE.
                _ if engine == "postgres" && code == "25006" => Error::Raised(Box::new(Raised {
                    status: 405,
                    code,
                    message,
                    details: detail.map(str::to_string),
                    hint: Some("call the function with POST: it writes".into()),
                    headers: Vec::new(),
                })),
                _ if already_exists(engine, &code, &message) => Error::Conflict {
                    kind: ConflictKind::Other,
                    message: format!("{engine}: {message}"),
                    constraint,
                },
                // Literals of PostgreSQL-only operators (`sl.[1,5)`, `cs.[1,5)`
                // on a range field): PostgREST's 400 with the SQLSTATE, as
                // no other engine answers these.
                _ if engine == "postgres" && message.starts_with("malformed range literal") => {
                    Error::Validation {
                        violations: vec![
                            Violation::new("", clean(data_exception(&code)).message)
                                .with_code(&code),
                        ],
                    }
                }
                // An `fts` phrase's distance past 16 384: PostgreSQL's
                // words (no value of the caller's is in them), as the
                // other engines answer it.
                _ if engine == "postgres"
                    && code == "22023"
                    && message.starts_with("distance in phrase operator") =>
                {
                    Error::Validation {
                        violations: vec![Violation::new("", message).with_code(&code)],
                    }
                }
                // A data exception keeps its SQLSTATE (PostgREST's 400
                // with the code: `22P02` a text that is no number…) and the
                // clean sentence.
                _ if is_bad_value(engine, &code) => at_column(clean(data_exception(&code)), &code),
                // A cast in `select` to no type (`::nope`, 42704) or one
                // PostgreSQL does not make (`id::interval`, 42846):
                // PostgREST's 400 with the code.
                _ if engine == "postgres"
                    && (code == "42846" || code == "42704" && message.starts_with("type ")) =>
                {
                    Error::Validation {
                        violations: vec![Violation::new("", message).with_code(&code)],
                    }
                }
                // An operator the operands' types do not have (comparing a
                // type without a mapping that has no ordering): the
                // request's, a 400 with the code.
                _ if engine == "postgres"
                    && code == "42883"
                    && message.starts_with("operator does not exist") =>
                {
                    Error::Validation {
                        violations: vec![Violation::new("", message).with_code(&code)],
                    }
                }
                // A call the database cannot resolve between overloads
                // that take the same arguments, their defaults aside
                // (`f()` beside `f(x int DEFAULT 1)`): the request's, a
                // 400 with the code (PostgREST resolves it first: 300
                // `PGRST203`).
                _ if engine == "postgres"
                    && code == "42725"
                    && message.starts_with("function ") =>
                {
                    Error::Validation {
                        violations: vec![Violation::new("", message).with_code(&code)],
                    }
                }
                // A malformed `fts` query is PostgREST's 400 with its code.
                _ if engine == "postgres" && code == "42601" && message.contains("tsquery") => {
                    Error::Validation {
                        violations: vec![Violation::new("", message).with_code(&code)],
                    }
                }
                // SQLite's integers stop at 2^63 (a `sum` past it), where
                // PostgreSQL's `numeric` sum goes on: out of range, 22003.
                _ if engine == "sqlite" && message == "integer overflow" => Error::Validation {
                    violations: vec![
                        Violation::new(
                            "",
                            "integer out of range: the result passes SQLite's 64-bit integers",
                        )
                        .with_code("22003"),
                    ],
                },
                _ if is_bad_input(engine, &code, &message) => Error::Validation {
                    violations: vec![Violation::new("", message)],
                },
                _ if engine == "mysql" && code == "HY000" && message.contains("FULLTEXT") => {
                    Error::unsupported(engine, "full-text search without a FULLTEXT index")
                }
                _ => Error::Backend {
                    message: format!("{engine}: {message}"),
                    source: Some(Box::new(sqlx::Error::Database(db))),
                },
            }
        }
        sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::WorkerCrashed => Error::Unavailable {
            message: format!("{engine}: {e}"),
            source: Some(Box::new(e)),
        },
        other => Error::Backend {
            message: format!("{engine}: {other}"),
            source: Some(Box::new(other)),
        },
    }
}

/// Whether `e` is a transaction the database aborted for a concurrent one
/// (SQLSTATE class `40`: a deadlock victim, a serialization failure): the
/// transaction was rolled back whole, so running it again is safe.
pub fn is_transaction_conflict(e: &Error) -> bool {
    let Error::Unavailable {
        source: Some(source),
        ..
    } = e
    else {
        return false;
    };
    matches!(
        source.downcast_ref::<sqlx::Error>(),
        Some(sqlx::Error::Database(db)) if db.code().is_some_and(|c| c.starts_with("40"))
    )
}

/// DDL on something that exists already (table, column, index, type).
fn already_exists(engine: &str, code: &str, message: &str) -> bool {
    match engine {
        // duplicate_table, duplicate_object, duplicate_column, duplicate_schema.
        "postgres" => matches!(code, "42P07" | "42710" | "42701" | "42P06"),
        // ER_TABLE_EXISTS_ERROR, ER_DUP_FIELDNAME; ER_DUP_KEYNAME has the generic 42000.
        "mysql" => {
            matches!(code, "42S01" | "42S21")
                || (code == "42000" && message.starts_with("Duplicate key name"))
        }
        // SQLite reports SQLITE_ERROR with a message only.
        "sqlite" => {
            message.ends_with("already exists") || message.starts_with("duplicate column name")
        }
        _ => false,
    }
}

/// Errors caused by a request's input outside SQLSTATE class 22.
fn is_bad_input(engine: &str, code: &str, message: &str) -> bool {
    match engine {
        // undefined_object: `fts(unknown_cfg)` casts the name to regconfig.
        // PostGIS reports a geometry it cannot read as internal_error
        // (XX000): malformed WKT, EWKB hex or GeoJSON.
        "postgres" => {
            (code == "42704" && message.starts_with("text search configuration"))
                || (code == "XX000"
                    && (message.starts_with("parse error - invalid geometry")
                        || message.starts_with("Invalid hex")
                        || message.to_ascii_lowercase().contains("geojson")))
        }
        "sqlite" => {
            message.starts_with("object name reserved for internal use")
                || message.ends_with("may not be modified")
        }
        // A `match` pattern the engine refuses: MariaDB's PCRE ("Regex
        // error '…'", 1139; "Got error '…' from regexp" before 10.5), MySQL
        // 8's ICU ("… in regular expression", 3685-3699, its time and
        // backtracking limits included).
        "mysql" => {
            message.starts_with("Regex error")
                || message.contains("from regexp")
                || message.contains("regular expression")
        }
        _ => false,
    }
}

/// Map an error met while *opening* a database from a URL (registering a
/// tenant): what the URL gets wrong — a database that does not exist,
/// credentials or rights the server refuses, a SQLite file that cannot be
/// opened, a URL that does not parse — is `Validation` at `/url` (the field
/// of the tenant configuration), with a message that never repeats the
/// URL's password or other secret parameters. An unreachable server stays
/// `Unavailable`; the rest goes through [`map_sqlx_error`].
pub fn map_connect_error(engine: &str, url: &str, e: sqlx::Error) -> Error {
    let bad_url = |what: String| Error::validation("/url", redact_in(&what, url));
    match &e {
        sqlx::Error::Configuration(c) => {
            bad_url(format!("{engine}: the database URL is invalid: {c}"))
        }
        sqlx::Error::Database(db) => {
            let code = db.code().map(|c| c.into_owned()).unwrap_or_default();
            let message = db.message().to_string();
            let refused = match engine {
                // invalid_catalog_name, invalid_authorization_specification,
                // invalid_password.
                "postgres" => matches!(code.as_str(), "3D000" | "28000" | "28P01"),
                // Unknown database (1049), access denied to a database (1044)
                // or for a user (1045).
                "mysql" => {
                    code == "28000"
                        || (code == "42000"
                            && (message.starts_with("Unknown database")
                                || message.starts_with("Access denied")))
                }
                // SQLITE_CANTOPEN: a missing directory, a file we may not open.
                "sqlite" => code == "14" || message.contains("unable to open database"),
                _ => false,
            };
            if refused {
                bad_url(format!("{engine}: {message}"))
            } else {
                map_sqlx_error(engine, e)
            }
        }
        _ => map_sqlx_error(engine, e),
    }
}

fn is_bad_value(engine: &str, code: &str) -> bool {
    // SQLSTATE class 22, data exception: invalid text representation, numeric
    // out of range, string too long, bad datetime… (PostgreSQL and MySQL).
    matches!(engine, "postgres" | "mysql") && code.starts_with("22")
}

/// Whether a database error is the cancellation of a statement at the
/// tenant's statement timeout, told from other cancellations (an
/// operator's cancel request or `KILL`, a shutdown) by the engine's words:
/// PostgreSQL's `57014` `canceling statement due to statement timeout`;
/// MariaDB's error 1969 (`… (max_statement_time exceeded)`) and MySQL's
/// 3024 (`… maximum statement execution time exceeded`); SQLite's
/// `SQLITE_INTERRUPT` (9), which only the statement timeout's progress
/// handler raises.
fn is_timeout(engine: &str, code: &str, message: &str) -> bool {
    match engine {
        "postgres" => {
            code == baas_core::sqlstate::QUERY_CANCELED && message.contains("statement timeout")
        }
        "mysql" => {
            message.contains("max_statement_time exceeded")
                || message.contains("maximum statement execution time exceeded")
        }
        "sqlite" => code == "9",
        _ => false,
    }
}
