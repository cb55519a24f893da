//! sqlx error → [`baas_core::Error`], shared by the sqlx-based adapters.

use baas_core::{Error, Violation};
use sqlx::error::ErrorKind;

/// Map a driver error into the semantic error enum.
///
/// Unique, foreign-key and exclusion violations → `Conflict`; not-null and
/// check violations and bad values (overflow, text too long, malformed input)
/// → `Validation`; connection, TLS, I/O problems and pool timeouts →
/// `Unavailable`; everything else → `Backend` with the driver error as source.
pub fn map_sqlx_error(engine: &str, e: sqlx::Error) -> Error {
    match e {
        sqlx::Error::Database(db) => {
            let message = db.message().to_string();
            let constraint = db.constraint().map(str::to_string);
            let code = db.code().map(|c| c.into_owned()).unwrap_or_default();
            match db.kind() {
                ErrorKind::UniqueViolation
                | ErrorKind::ForeignKeyViolation
                | ErrorKind::ExclusionViolation => Error::Conflict {
                    message,
                    constraint,
                },
                ErrorKind::NotNullViolation | ErrorKind::CheckViolation => Error::Validation {
                    violations: vec![Violation::new("", message)],
                },
                _ if already_exists(engine, &code, &message) => Error::Conflict {
                    message: format!("{engine}: {message}"),
                    constraint,
                },
                _ if is_bad_value(engine, &code) => Error::Validation {
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

fn is_bad_value(engine: &str, code: &str) -> bool {
    // SQLSTATE class 22, data exception: invalid text representation, numeric
    // out of range, string too long, bad datetime… (PostgreSQL and MySQL).
    matches!(engine, "postgres" | "mysql") && code.starts_with("22")
}
