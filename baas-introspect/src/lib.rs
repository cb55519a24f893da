//! # baas-introspect
//!
//! Schema discovery from documents: every importer turns a document into the
//! same [`SchemaMetadata`] that live introspection produces, so a developer can
//! point mini-baas at what they already have.
//!
//! | format | module | entry point |
//! | --- | --- | --- |
//! | SQL DDL dump (PostgreSQL, MySQL, SQLite) | [`sql`] | [`sql::import`] |
//! | Prisma schema | [`prisma`] | [`prisma::import`] |
//! | JSON Schema (draft-07, 2020-12) | [`json_schema`] | [`json_schema::import`] |
//! | OpenAPI 3.0 / 3.1 | [`openapi`] | [`openapi::import`] |
//! | GraphQL SDL | [`graphql`] | [`graphql::import`] |
//!
//! [`import`] picks the importer from a [`Format`] (or a file extension).
//! [`diff::diff`] compares two metadata documents. Malformed input of any kind
//! is an [`ImportError`] with a line/column or a JSON pointer — never a panic.
#![warn(missing_docs)]

use std::fmt;

use baas_core::SchemaMetadata;
use serde::Serialize;

pub mod diff;
mod document;
pub mod graphql;
pub mod json_schema;
pub mod openapi;
pub mod prisma;
pub mod sql;
pub mod supabase;

/// Where in the input a problem is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum Location {
    /// 1-based line and column in a text document.
    LineCol {
        /// Line, from 1.
        line: usize,
        /// Column, from 1.
        column: usize,
    },
    /// JSON pointer (RFC 6901) into a JSON/YAML document.
    Pointer(String),
    /// Nowhere in particular (e.g. the whole document).
    Document,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::LineCol { line, column } => write!(f, "line {line}, column {column}"),
            Self::Pointer(p) if p.is_empty() => f.write_str("document root"),
            Self::Pointer(p) => write!(f, "{p}"),
            Self::Document => f.write_str("document"),
        }
    }
}

/// A 1-based line/column position, as the hand-written parsers track it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Pos {
    pub line: usize,
    pub col: usize,
}

impl Pos {
    /// An import error at this position.
    pub fn error(self, message: impl Into<String>) -> ImportError {
        ImportError::at(self.line, self.col, message)
    }
}

/// An input the importer cannot turn into metadata.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{location}: {message}")]
pub struct ImportError {
    /// Where.
    pub location: Location,
    /// What is wrong.
    pub message: String,
}

impl ImportError {
    /// An error at a line and column.
    pub fn at(line: usize, column: usize, message: impl Into<String>) -> Self {
        Self {
            location: Location::LineCol { line, column },
            message: message.into(),
        }
    }

    /// An error at a JSON pointer.
    pub fn at_pointer(pointer: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            location: Location::Pointer(pointer.into()),
            message: message.into(),
        }
    }
}

impl From<ImportError> for baas_core::Error {
    fn from(e: ImportError) -> Self {
        baas_core::Error::validation(e.location.to_string(), e.message)
    }
}

/// A part of the input that was understood but not modelled (a function, a
/// trigger, a grant…), reported rather than fatal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Skipped {
    /// Where it is.
    pub location: Location,
    /// What it is (`CREATE FUNCTION last_updated`).
    pub what: String,
    /// Why it was skipped.
    pub reason: String,
}

/// An HTTP operation found in an OpenAPI document, kept so that a later
/// adapter can serve an existing REST API as a data source.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ApiPath {
    /// `GET`, `POST`, …
    pub method: String,
    /// The path template, e.g. `/pets/{petId}`.
    pub path: String,
    /// `operationId`, if any.
    pub operation_id: Option<String>,
    /// The entity its request or response body is, if one was recognised.
    pub entity: Option<String>,
}

/// The outcome of an import.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Import {
    /// The discovered metadata.
    pub schema: SchemaMetadata,
    /// What was skipped, with reasons.
    pub skipped: Vec<Skipped>,
    /// OpenAPI operations (empty for other formats).
    pub api_paths: Vec<ApiPath>,
}

impl Import {
    /// An import of `schema` with nothing skipped.
    pub fn new(schema: SchemaMetadata) -> Self {
        Self {
            schema,
            skipped: Vec::new(),
            api_paths: Vec::new(),
        }
    }
}

/// SQL dialect of a DDL dump.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SqlFlavor {
    /// PostgreSQL (`pg_dump` output and hand-written DDL).
    Postgres,
    /// MySQL / MariaDB (`mysqldump`).
    Mysql,
    /// SQLite (`.schema`).
    Sqlite,
}

/// Document formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// SQL DDL in a flavor.
    Sql(SqlFlavor),
    /// Prisma schema.
    Prisma,
    /// JSON Schema.
    JsonSchema,
    /// OpenAPI 3.x (JSON or YAML).
    OpenApi,
    /// GraphQL SDL.
    Graphql,
}

impl Format {
    /// Guess from a file name: `.sql` (PostgreSQL unless the name mentions
    /// mysql/mariadb/sqlite), `.prisma`, `.graphql`/`.gql`, `.json`/`.yaml`/`.yml`
    /// (OpenAPI when named `openapi`/`swagger`, else JSON Schema).
    pub fn from_path(path: &str) -> Option<Self> {
        let lower = path.to_ascii_lowercase();
        let ext = lower.rsplit('.').next().unwrap_or_default();
        Some(match ext {
            "sql" | "ddl" => Self::Sql(if lower.contains("mysql") || lower.contains("mariadb") {
                SqlFlavor::Mysql
            } else if lower.contains("sqlite") {
                SqlFlavor::Sqlite
            } else {
                SqlFlavor::Postgres
            }),
            "prisma" => Self::Prisma,
            "graphql" | "gql" | "graphqls" => Self::Graphql,
            "json" | "yaml" | "yml" => {
                if lower.contains("openapi") || lower.contains("swagger") {
                    Self::OpenApi
                } else {
                    Self::JsonSchema
                }
            }
            _ => return None,
        })
    }

    /// Parse a `--format` value: `sql`, `sql:mysql`, `sql:sqlite`, `prisma`,
    /// `jsonschema`, `openapi`, `graphql`.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s.to_ascii_lowercase().as_str() {
            "sql" | "sql:postgres" | "postgres" => Self::Sql(SqlFlavor::Postgres),
            "sql:mysql" | "mysql" | "mariadb" => Self::Sql(SqlFlavor::Mysql),
            "sql:sqlite" | "sqlite" => Self::Sql(SqlFlavor::Sqlite),
            "prisma" => Self::Prisma,
            "jsonschema" | "json-schema" => Self::JsonSchema,
            "openapi" | "swagger" => Self::OpenApi,
            "graphql" | "gql" | "sdl" => Self::Graphql,
            _ => return None,
        })
    }
}

/// Import a document in `format`.
pub fn import(text: &str, format: Format) -> Result<Import, ImportError> {
    match format {
        Format::Sql(flavor) => sql::import(text, flavor),
        Format::Prisma => prisma::import(text),
        Format::JsonSchema => json_schema::import(text),
        Format::OpenApi => openapi::import(text),
        Format::Graphql => graphql::import(text),
    }
}
