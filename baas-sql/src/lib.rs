//! # baas-sql
//!
//! Pure lowering of the mini-baas IR to SQL for PostgreSQL, MySQL/MariaDB and
//! SQLite, through [`sea_query`]. No I/O: every function takes validated IR
//! plus metadata and returns SQL text with its bound parameters.
//!
//! - Identifiers come only from metadata and are quoted by sea-query.
//! - Every value is a bound parameter, typed by its field (a typed NULL too),
//!   with the casts each dialect needs (`CAST($1 AS numeric)` on PostgreSQL…).
//! - What a dialect cannot do returns [`baas_core::Error::Unsupported`]; nothing is
//!   silently dropped.
//! - Null ordering is explicit for nullable fields, so every engine sorts
//!   nulls like PostgreSQL (last ascending, first descending) unless asked
//!   otherwise, and the primary key is appended as a tie-breaker so pages are
//!   stable.
//!
//! ## Managed-mode DDL
//!
//! [`ddl::schema_change`] lowers a [`baas_core::SchemaChange`] the same pure
//! way, and [`SqlAdapter`] runs it in `apply_ddl`:
//!
//! - **PostgreSQL**: `CREATE TYPE … AS ENUM` for named enums, `CREATE TABLE`
//!   (identity keys, `varchar(n)`, `numeric(p,s)`, `jsonb`, one-level arrays,
//!   `CHECK` for unnamed enums, schema-qualified tables), then
//!   `CREATE [UNIQUE] INDEX`; all in one transaction.
//! - **MySQL / MariaDB**: one `CREATE TABLE` with its indexes inline
//!   (`AUTO_INCREMENT`, `enum(…)`, `datetime(6)` / `timestamp(6)`), since MySQL
//!   commits every DDL statement; an `AddField` whose unique index fails has
//!   its column dropped again. No arrays; decimals need a precision; indexed
//!   text needs a `max_length`.
//! - **SQLite**: `CREATE TABLE` (`INTEGER PRIMARY KEY AUTOINCREMENT` for an
//!   auto-increment single key, `CHECK` for enums) and indexes, in one
//!   transaction. No arrays, no schema-qualified tables, no added column with
//!   a `CURRENT_TIMESTAMP` default.
//!
//! Refused everywhere (`Validation`, with a JSON pointer into the change):
//! read-only entities, entities without a primary key, nullable key fields,
//! computed fields, defaults that are not plain literals, identifiers longer
//! than the engine keeps or containing quotes, and `AddField` of a generated
//! field or a NOT NULL field without default. A table, column, index or type
//! that exists already is `Conflict`. Many-to-one relations become foreign keys
//! when they point to the entity itself or to an existing entity the change
//! lists in `references`, through its primary key or a unique key. [`ddl::introspected`] states what live
//! introspection reads back.
//!
//! ```
//! use baas_core::{Entity, Field, FieldType, SchemaMetadata, Target};
//! use baas_core::ir::{Filter, OrderBy, Query};
//! use baas_sql::{Dialect, select};
//!
//! let schema = SchemaMetadata::new(vec![Entity::new(
//!     "artist",
//!     vec![Field::new("artist_id", FieldType::Int32), Field::new("name", FieldType::Text).nullable()],
//! ).with_primary_key(["artist_id"])]);
//! let target = Target::new(&schema, "artist").unwrap();
//! let q = Query::new("artist").filter(Filter::eq("name", "AC/DC")).limit(10);
//! let plan = select(Dialect::Postgres, target, &q).unwrap();
//! assert_eq!(
//!     plan.statement.sql,
//!     r#"SELECT "artist_id", "name" FROM "artist" WHERE "name" = $1 ORDER BY "artist_id" ASC LIMIT $2"#
//! );
//! ```
#![warn(missing_docs)]

mod backend;
pub mod ddl;
mod dialect;
mod engine;
pub mod introspect;
#[cfg(feature = "sqlx")]
mod sqlx_backend;
#[cfg(feature = "sqlx")]
mod sqlx_error;

#[cfg(feature = "sqlx")]
pub use sqlx_backend::{SqlxBackend, SqlxEngine};
#[cfg(feature = "sqlx")]
pub use sqlx_error::{map_connect_error, map_sqlx_error};
mod lower;
pub mod types;

pub use backend::{ExecResult, Row, SqlBackend, SqlTransaction};
pub use engine::SqlAdapter;

pub use dialect::Dialect;
pub use lower::{
    InsertBatch, OutColumn, SelectPlan, Statement, aggregate, count, delete, insert, key_filter,
    select, select_for_update, update,
};
pub use sea_query;
