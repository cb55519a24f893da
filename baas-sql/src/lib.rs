//! # baas-sql
//!
//! The SQL side of mini-baas for PostgreSQL, MySQL/MariaDB and SQLite: pure
//! lowering of the IR to SQL through [`sea_query`] (no I/O: every lowering
//! function takes validated IR plus metadata and returns SQL text with its
//! bound parameters), managed DDL, live introspection, and the one generic
//! adapter that runs them over an engine's pool.
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
//! ## Layout
//!
//! | file | holds |
//! | --- | --- |
//! | `lower/values.rs` | binding a value of a field's type: coercion, typed nulls, the dialect's representation and cast |
//! | `lower/filter.rs` | filters → `WHERE`: compare, `in`, `is`, `like`, full-text, arrays, JSON paths, `exists` subqueries |
//! | `lower/select.rs` | [`select`] (order + tie-breaker, offset / keyset page, per-parent partition), [`count`], [`select_for_update`] |
//! | `lower/write.rs` | [`insert`] batches and upserts, [`update`], [`delete`], `RETURNING`, [`key_filter`] |
//! | `lower/aggregate.rs` | [`aggregate`] |
//! | `ddl/` | [`ddl::schema_change`]: `default.rs` (default literals), `column.rs` (column types), `create.rs` (create table, keys, indexes), `add.rs` (add field); [`ddl::revert`], [`ddl::introspected`] |
//! | `dialect/{postgres,mysql,sqlite}.rs` | **every difference between engines**, behind one crate-private `SqlDialect` trait whose defaults are standard SQL: placeholder marks, how dates / instants / UUIDs / arrays are bound and cast, `LIKE` / `ILIKE` / `GLOB`, full-text search, JSON paths, `OFFSET` without `LIMIT`, `RETURNING`, the upsert no-op, DDL type names and decimal ranges, identifier limits, what the engine refuses, how declared types read back |
//! | [`types`] | declared SQL type → [`FieldType`](baas_core::FieldType) (live introspection and the DDL-dump importer) |
//! | [`introspect`] | live catalogs: the neutral model, then one reader per engine (`introspect/{postgres,mysql,sqlite}.rs`) |
//! | `backend.rs` | [`SqlBackend`] / [`SqlTransaction`]: what runs statements, used by the adapter and by introspection |
//! | `engine.rs` | [`SqlAdapter`], the one [`baas_core::DatabaseAdapter`] for every SQL engine |
//! | `sqlx_backend.rs`, `sqlx_error.rs` | (feature `sqlx`) the one sqlx `SqlxBackend<E>`: each engine crate supplies only an `SqlxEngine` (driver, binding one value, decoding one cell, rows affected / generated id, capabilities); driver errors → [`baas_core::Error`] |
//!
//! Where to edit:
//!
//! - **a filter operator**: the IR and its validation in `baas-core`, its
//!   `WHERE` form in `lower/filter.rs`; if engines spell it differently, a
//!   `SqlDialect` method (default = standard SQL) overridden in the
//!   `dialect/` files that differ; a case folder in `baas-testkit/cases`
//!   for the snapshots.
//! - **an SQL engine**: `dialect/<engine>.rs` implementing `SqlDialect`, its
//!   variant of [`Dialect`] (and its arm in `Dialect::sql`), its catalog
//!   reader in `introspect/<engine>.rs`, and an adapter crate with an
//!   `SqlxEngine` (binding, cell decoding, capabilities) and `connect`.
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
//!     r#"SELECT "artist_id", "name" FROM "artist" WHERE "name" = $1 ORDER BY "artist_id" ASC LIMIT 10"#
//! );
//! ```
#![warn(missing_docs)]

mod backend;
pub mod ddl;
mod dialect;
pub mod driver_message;
mod engine;
pub mod introspect;
#[cfg(feature = "sqlx")]
mod sqlx_backend;
#[cfg(feature = "sqlx")]
mod sqlx_error;

#[cfg(feature = "sqlx")]
pub use sqlx_backend::{SqlxBackend, SqlxEngine};
#[cfg(feature = "sqlx")]
pub use sqlx_error::{is_transaction_conflict, map_connect_error, map_sqlx_error};
mod lower;
pub mod types;

pub use backend::{ExecResult, Row, SqlBackend, SqlTransaction};
pub use engine::SqlAdapter;

pub use dialect::Dialect;

/// The collation SQLite sorts JSON values with (`order=data->a`): text
/// compared by `jsonb`'s rules ([`baas_core::jsonb_order::jsonb_text_cmp`]),
/// which the SQLite adapter registers on every connection.
pub const SQLITE_JSONB_COLLATION: &str = "baas_jsonb";
pub use lower::{
    InsertBatch, OutColumn, ProcedurePlan, SelectPlan, Statement, aggregate, count, delete, insert,
    key_filter, matching, procedure_call, select, select_for_update, update,
};
pub use sea_query;
