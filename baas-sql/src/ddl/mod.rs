//! Managed-mode DDL: a [`SchemaChange`] lowered, purely, to the statements
//! that apply it on one [`Dialect`].
//!
//! Everything is built with sea-query (`Table::create`, `Table::alter`,
//! `Index::create`, PostgreSQL's `Type::create`): identifiers come only from
//! metadata and are quoted by sea-query, literals (defaults, enum labels) are
//! rendered by sea-query's escaping. Metadata text is never pasted into the
//! SQL: a default must parse as one of the literals listed in
//! [`schema_change`], and identifiers containing a quote character or a
//! control character are refused (sea-query writes index and constraint
//! names unescaped).
//!
//! Column types are chosen so that [`crate::types::field_type`] — what live
//! introspection uses — maps them back to the same [`FieldType`](baas_core::FieldType); where an
//! engine cannot store a type exactly, [`introspected`] says what
//! introspection will report instead.
//!
//! Layout: default literals (`default`), column definitions and types
//! (`column`), `CreateEntity` (`create`: table, keys, foreign keys, indexes),
//! `AddField` (`add`), [`revert`], [`introspected`]. Type names and what an
//! engine refuses come from its dialect (`src/dialect/<engine>.rs`).

use baas_core::{Entity, Error, Field, Result, SchemaChange};
use sea_query::{Table, TableRef};

use crate::dialect::{AnySchema, Dialect, SqlDialect};
use crate::lower::{Statement, iden};

mod add;
mod column;
mod create;
mod default;
mod introspected;

pub use introspected::introspected;
pub(crate) use introspected::introspected_type;

/// A statement without parameters.
pub(crate) fn statement(sql: String) -> Statement {
    Statement {
        sql,
        params: Vec::new(),
    }
}

/// The name of the unique index created for a field with `unique: true`
/// (PostgreSQL's own naming convention for unique constraints).
pub fn unique_index_name(table: &str, column: &str) -> String {
    format!("{table}_{column}_key")
}

/// Checks and lowering for one change.
pub(crate) struct Ddl<'a> {
    d: Dialect,
    sql: &'static dyn SqlDialect,
    entity: &'a Entity,
}

/// Where a field sits in the change document, for JSON pointers.
#[derive(Clone)]
pub(crate) struct At(pub(crate) String);

impl At {
    /// The pointer to `rest` under this one.
    pub(crate) fn at(&self, rest: &str) -> String {
        format!("{}/{rest}", self.0)
    }
}

/// `Validation` at `pointer`.
pub(crate) fn invalid(pointer: impl Into<String>, message: impl Into<String>) -> Error {
    Error::validation(pointer, message)
}

impl<'a> Ddl<'a> {
    fn new(d: Dialect, entity: &'a Entity) -> Self {
        Self {
            d,
            sql: d.sql(),
            entity,
        }
    }

    fn unsupported(&self, feature: impl Into<String>) -> Error {
        Error::unsupported(self.d.name(), feature)
    }

    /// Refuse names the engine would truncate or reject, and names sea-query
    /// would not escape.
    pub(crate) fn ident(&self, name: &str, pointer: impl Into<String>) -> Result<()> {
        let pointer = pointer.into();
        if name.is_empty() {
            return Err(invalid(pointer, "identifier is empty"));
        }
        if name.chars().any(|c| c.is_control() || c == '"' || c == '`') {
            return Err(invalid(
                pointer,
                format!("identifier `{name}` contains a quote or control character"),
            ));
        }
        if let Some((len, max, unit)) = self.sql.identifier_length(name)
            && len > max
        {
            return Err(invalid(
                pointer,
                format!(
                    "identifier `{name}` is {len} {unit} long; {} allows at most {max}",
                    self.d.name()
                ),
            ));
        }
        Ok(())
    }

    fn table_ref(&self) -> TableRef {
        crate::lower::table_ref(self.entity)
    }

    /// Render a DDL statement for the dialect.
    fn build(&self, s: AnySchema<'_>) -> Statement {
        statement(self.sql.build_schema(s))
    }

    /// Checks on the entity itself (both changes).
    fn check_entity(&self) -> Result<()> {
        let e = self.entity;
        if e.is_view() {
            return Err(invalid(
                if e.view {
                    "/entity/view"
                } else {
                    "/entity/read_only"
                },
                format!(
                    "`{}` is a view (or read-only): managed DDL only creates tables",
                    e.name
                ),
            ));
        }
        self.ident(&e.source.table, "/entity/source/table")?;
        if let Some(s) = &e.source.schema {
            if !self.sql.schemas() {
                return Err(self.unsupported("schema-qualified tables in managed DDL"));
            }
            self.ident(s, "/entity/source/schema")?;
        }
        Ok(())
    }

    /// The field at `field` (API name) of the entity, with its pointer.
    fn entity_field(&self, name: &str, pointer: &str) -> Result<&'a Field> {
        self.entity
            .fields
            .iter()
            .find(|f| f.name == name)
            .ok_or_else(|| {
                invalid(
                    pointer,
                    format!("`{name}` is not a field of `{}`", self.entity.name),
                )
            })
    }
}

/// Lower a schema change to the statements that apply it, in order.
///
/// | | PostgreSQL | MySQL / MariaDB | SQLite |
/// | --- | --- | --- | --- |
/// | `text` | `text`, `varchar(n)` with `max_length` | `longtext`, `varchar(n)` | `TEXT`, `VARCHAR(n)` |
/// | `int16` / `int32` / `int64` | `smallint` / `integer` / `bigint` | `smallint` / `int` / `bigint` | `SMALLINT` / `INT` / `BIGINT` |
/// | auto-increment | `GENERATED BY DEFAULT AS IDENTITY` | `AUTO_INCREMENT` | `INTEGER PRIMARY KEY AUTOINCREMENT` (single-column key only) |
/// | `float32` / `float64` | `real` / `double precision` | `float` / `double` | `FLOAT4` / `REAL` |
/// | `decimal` | `numeric(p,s)` or `numeric` | `decimal(p,s)` (precision required) | `NUMERIC(p,s)` or `NUMERIC` |
/// | `boolean` | `boolean` | `tinyint(1)` | `BOOLEAN` |
/// | `date` / `time` | `date` / `time` | `date` / `time(6)` | `DATE` / `TIME` |
/// | `timestamp` / `timestamptz` | `timestamp` / `timestamptz` | `datetime(6)` / `timestamp(6)` | `DATETIME` / `TIMESTAMPTZ` |
/// | `uuid` | `uuid` | `char(36)` | `UUID` |
/// | `json` / `binary` | `jsonb` / `bytea` | `json` / `longblob` | `JSON` / `BLOB` |
/// | `array` | `<item>[]` (one level) | refused | refused |
/// | `enum` | named: `CREATE TYPE … AS ENUM`; unnamed: `text` + `CHECK (… IN …)` | `enum('a',…)` | `TEXT` + `CHECK (… IN …)` |
///
/// Primary keys (composite too) are table constraints; `unique` fields get a
/// unique index named [`unique_index_name`] unless the key or a declared
/// single-column unique index already covers them; `indexes` become
/// `CREATE [UNIQUE] INDEX` (inside `CREATE TABLE` on MySQL, so the change is
/// one statement there); a many-to-one relation becomes a foreign key named
/// `<table>_<columns>_fkey` when it points to the entity itself or to one of
/// the change's `references` (existing tables) through that entity's primary
/// key or a unique key; other relations get none.
///
/// Defaults must be literals, as introspection prints them: numbers,
/// `'quoted strings'` (a trailing PostgreSQL `::type` cast is dropped),
/// `true` / `false`, `NULL`, and `CURRENT_TIMESTAMP` / `now()` on timestamp
/// fields. The literal is parsed, checked against the field type (enum
/// defaults must be one of the values) and written back by sea-query.
///
/// # Errors
/// `Validation` (with a JSON pointer into the change) for: a read-only
/// entity, no primary key, a nullable key field, unknown key / index /
/// relation fields, duplicate fields, columns or index names, an identifier
/// longer than the engine keeps (63 bytes on PostgreSQL, 64 characters on
/// MySQL) or containing a quote or control character, a default that is not
/// such a literal or does not fit the type, `max_length` on a non-text
/// field, a bad decimal precision / scale, an empty enum, auto-increment on a
/// non-integer or nullable field, a computed (`generated: always`) field,
/// MySQL indexes on unbounded text / binary / JSON, and for `AddField` a
/// field that already exists, is generated, or is NOT NULL without a
/// default. `Unsupported` for ObjectId fields, arrays outside PostgreSQL,
/// nested arrays, schema-qualified tables on SQLite, SQLite auto-increment
/// on anything but a single-column key, adding a `CURRENT_TIMESTAMP`
/// default column on SQLite, and change kinds this version does not know.
pub fn schema_change(dialect: Dialect, change: &SchemaChange) -> Result<Vec<Statement>> {
    match change {
        SchemaChange::CreateEntity { entity, references } => {
            Ddl::new(dialect, entity).create(references)
        }
        SchemaChange::AddField { entity, field } => Ddl::new(dialect, entity).add(field),
        _ => Err(Error::unsupported(dialect.name(), "this schema change")),
    }
}

/// Statements that undo `change` once its first statement has succeeded:
/// `DROP TABLE` for `CreateEntity`, `ALTER TABLE … DROP COLUMN` for
/// `AddField`. Only needed where DDL is not transactional (MySQL commits
/// each DDL statement); PostgreSQL enum types created along are dropped too.
pub fn revert(dialect: Dialect, change: &SchemaChange) -> Result<Vec<Statement>> {
    let (entity, field) = match change {
        SchemaChange::CreateEntity { entity, .. } => (entity, None),
        SchemaChange::AddField { entity, field } => (entity, Some(field)),
        _ => return Err(Error::unsupported(dialect.name(), "this schema change")),
    };
    let ddl = Ddl::new(dialect, entity);
    let statement = match field {
        None => {
            let mut drop = Table::drop();
            drop.table(ddl.table_ref());
            ddl.build(AnySchema::DropTable(&drop))
        }
        Some(f) => {
            let mut alter = Table::alter();
            alter.table(ddl.table_ref()).drop_column(iden(f.column()));
            ddl.build(AnySchema::AlterTable(&alter))
        }
    };
    Ok(vec![statement])
}

#[cfg(test)]
mod tests;
