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
//! introspection uses — maps them back to the same [`FieldType`]; where an
//! engine cannot store a type exactly, [`introspected`] says what
//! introspection will report instead.

use baas_core::{
    Entity, Error, Field, FieldType, Generated, Index, RelationKind, Result, SchemaChange,
};
use sea_query::{
    ColumnDef, ColumnName, ColumnRef, ColumnType, DynIden, Expr, ExprTrait, ForeignKey,
    IndexCreateStatement, Keyword, MysqlQueryBuilder, PostgresQueryBuilder, QueryBuilder,
    SchemaName, SqliteQueryBuilder, Table, TableName, TableRef, TypeRef, Value as SqValue,
    extension::postgres::Type,
};

use crate::lower::{Dialect, Statement};

/// Longest identifier PostgreSQL keeps (bytes; longer names are truncated).
const PG_MAX_IDENT: usize = 63;
/// Longest identifier MySQL / MariaDB accept (characters).
const MYSQL_MAX_IDENT: usize = 64;

fn iden(s: &str) -> DynIden {
    // Owned, so sea-query escapes quote characters inside it.
    DynIden::from(s.to_string())
}

fn sql(sql: String) -> Statement {
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

/// Whether `fields` (as a set) are `e`'s primary key, a unique field or a
/// unique index: what a foreign key may reference.
fn is_unique_key(e: &Entity, fields: &[String]) -> bool {
    let same = |a: &[String]| a.len() == fields.len() && a.iter().all(|f| fields.contains(f));
    same(&e.primary_key)
        || matches!(fields, [f] if e.fields.iter().any(|x| &x.name == f && x.unique))
        || e.indexes.iter().any(|ix| ix.unique && same(&ix.fields))
}

/// The name of the foreign key created for a many-to-one relation
/// (PostgreSQL's own naming convention).
fn foreign_key_name(table: &str, columns: &[&str]) -> String {
    format!("{table}_{}_fkey", columns.join("_"))
}

/// A default value this module can write: parsed, never pasted.
#[derive(Debug, Clone, PartialEq)]
enum Literal {
    /// `NULL` (the same as no default).
    Null,
    /// A number, as validated text (`-12`, `3.25`, `1e-3`).
    Number(String),
    /// A quoted string, unquoted.
    Str(String),
    /// `true` / `false`.
    Bool(bool),
    /// `CURRENT_TIMESTAMP`, `now()`, `current_timestamp()`.
    CurrentTimestamp,
}

fn is_number(s: &str) -> bool {
    let s = s.strip_prefix(['-', '+']).unwrap_or(s);
    let (mantissa, exponent) = match s.find(['e', 'E']) {
        Some(i) => (&s[..i], Some(&s[i + 1..])),
        None => (s, None),
    };
    let (int, frac) = match mantissa.split_once('.') {
        Some((a, b)) => (a, Some(b)),
        None => (mantissa, None),
    };
    let digits = |t: &str| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit());
    let int_ok = digits(int) || (int.is_empty() && frac.is_some_and(digits));
    let frac_ok = frac.is_none_or(|f| f.is_empty() && !int.is_empty() || digits(f));
    let exp_ok = exponent.is_none_or(|e| digits(e.strip_prefix(['-', '+']).unwrap_or(e)));
    int_ok && frac_ok && exp_ok
}

fn is_integer(s: &str) -> bool {
    let t = s.strip_prefix(['-', '+']).unwrap_or(s);
    !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit())
}

/// Parse a default as introspection reports it. `None`: not a literal this
/// module accepts.
fn parse_default(text: &str) -> Option<Literal> {
    let mut t = text.trim();
    // Redundant parentheses: `(0)`, `('x')` (SQLite and MariaDB print them).
    while let Some(inner) = t.strip_prefix('(').and_then(|r| r.strip_suffix(')')) {
        t = inner.trim();
    }
    if let Some(body) = t.strip_prefix('\'') {
        let mut out = String::new();
        let mut chars = body.char_indices().peekable();
        let mut end = None;
        while let Some((i, c)) = chars.next() {
            match c {
                '\'' if chars.peek().is_some_and(|(_, n)| *n == '\'') => {
                    out.push('\'');
                    chars.next();
                }
                '\'' => {
                    end = Some(i + 1);
                    break;
                }
                c => out.push(c),
            }
        }
        let rest = body[end?..].trim();
        // A PostgreSQL cast (`'a'::text`, `'x'::character varying`): the
        // column type already says it, so the cast is dropped, never copied.
        if !rest.is_empty() {
            let cast = rest.strip_prefix("::")?;
            if cast.is_empty()
                || !cast
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || " _\".,()[]".contains(c))
            {
                return None;
            }
        }
        return Some(Literal::Str(out));
    }
    if is_number(t) {
        return Some(Literal::Number(t.to_string()));
    }
    let lower = t.to_ascii_lowercase();
    match lower.as_str() {
        "null" => Some(Literal::Null),
        "true" => Some(Literal::Bool(true)),
        "false" => Some(Literal::Bool(false)),
        "current_timestamp" | "current_timestamp()" | "now()" | "localtimestamp" => {
            Some(Literal::CurrentTimestamp)
        }
        _ => {
            // MariaDB prints `current_timestamp(6)` for fractional columns.
            let p = lower
                .strip_prefix("current_timestamp(")?
                .strip_suffix(')')?;
            p.bytes()
                .all(|b| b.is_ascii_digit())
                .then_some(Literal::CurrentTimestamp)
        }
    }
}

/// Checks and lowering for one change.
struct Ddl<'a> {
    d: Dialect,
    entity: &'a Entity,
}

/// Where a field sits in the change document, for JSON pointers.
#[derive(Clone)]
struct At(String);

impl At {
    fn at(&self, rest: &str) -> String {
        format!("{}/{rest}", self.0)
    }
}

fn invalid(pointer: impl Into<String>, message: impl Into<String>) -> Error {
    Error::validation(pointer, message)
}

impl<'a> Ddl<'a> {
    fn unsupported(&self, feature: impl Into<String>) -> Error {
        Error::unsupported(self.d.name(), feature)
    }

    /// Refuse names the engine would truncate or reject, and names sea-query
    /// would not escape.
    fn ident(&self, name: &str, pointer: impl Into<String>) -> Result<()> {
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
        let (max, len, unit) = match self.d {
            Dialect::Postgres => (PG_MAX_IDENT, name.len(), "bytes"),
            Dialect::Mysql => (MYSQL_MAX_IDENT, name.chars().count(), "characters"),
            Dialect::Sqlite => return Ok(()),
        };
        if len > max {
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

    fn table_name(&self) -> TableName {
        TableName(
            self.entity
                .source
                .schema
                .as_deref()
                .map(|s| SchemaName(None, iden(s))),
            iden(&self.entity.source.table),
        )
    }

    fn table_ref(&self) -> TableRef {
        TableRef::Table(self.table_name(), None)
    }

    /// Checks on the entity itself (both changes).
    fn check_entity(&self) -> Result<()> {
        let e = self.entity;
        if e.read_only {
            return Err(invalid(
                "/entity/read_only",
                format!(
                    "`{}` is read-only (a view?): managed DDL only creates tables",
                    e.name
                ),
            ));
        }
        self.ident(&e.source.table, "/entity/source/table")?;
        if let Some(s) = &e.source.schema {
            if self.d == Dialect::Sqlite {
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

    fn column_type(&self, f: &Field, at: &At) -> Result<ColumnType> {
        let custom = |s: String| ColumnType::custom(s);
        let auto = f.generated == Generated::AutoIncrement;
        if f.max_length.is_some() && f.ty != FieldType::Text {
            return Err(invalid(
                at.at("max_length"),
                format!("max_length applies to text fields, not {}", f.ty.name()),
            ));
        }
        if f.max_length == Some(0) {
            return Err(invalid(
                at.at("max_length"),
                "max_length must be at least 1",
            ));
        }
        if auto && !matches!(f.ty, FieldType::Int16 | FieldType::Int32 | FieldType::Int64) {
            return Err(invalid(
                at.at("generated"),
                format!("auto-increment needs an integer field, not {}", f.ty.name()),
            ));
        }
        if self.d == Dialect::Postgres && auto {
            // sea-query writes `… GENERATED BY DEFAULT AS IDENTITY` for these.
            return Ok(match f.ty {
                FieldType::Int16 => ColumnType::SmallInteger,
                FieldType::Int32 => ColumnType::Integer,
                _ => ColumnType::BigInteger,
            });
        }
        Ok(custom(self.type_name(&f.ty, f.max_length, auto, at)?))
    }

    /// The declared type of a column (what [`crate::types::field_type`] reads back).
    fn type_name(
        &self,
        ty: &FieldType,
        max_length: Option<u32>,
        auto: bool,
        at: &At,
    ) -> Result<String> {
        let d = self.d;
        let ty_at = at.at("type");
        Ok(match (d, ty) {
            (_, FieldType::ObjectId) => {
                return Err(self.unsupported("objectid columns (MongoDB only)"));
            }
            (Dialect::Postgres, FieldType::Text) | (Dialect::Mysql, FieldType::Text) => {
                match (max_length, d) {
                    (Some(n), _) => format!("varchar({n})"),
                    (None, Dialect::Mysql) => "longtext".into(),
                    (None, _) => "text".into(),
                }
            }
            (Dialect::Sqlite, FieldType::Text) => match max_length {
                Some(n) => format!("VARCHAR({n})"),
                None => "TEXT".into(),
            },
            (Dialect::Postgres, FieldType::Int16) | (Dialect::Mysql, FieldType::Int16) => {
                "smallint".into()
            }
            (Dialect::Postgres, FieldType::Int32) => "integer".into(),
            (Dialect::Mysql, FieldType::Int32) => "int".into(),
            (Dialect::Postgres | Dialect::Mysql, FieldType::Int64) => "bigint".into(),
            // Exactly `INTEGER` makes a single-column primary key the rowid
            // (auto-assigned); any other integer spelling keeps it a plain key.
            (Dialect::Sqlite, FieldType::Int16 | FieldType::Int32 | FieldType::Int64) if auto => {
                "INTEGER".into()
            }
            (Dialect::Sqlite, FieldType::Int16) => "SMALLINT".into(),
            (Dialect::Sqlite, FieldType::Int32) => "INT".into(),
            (Dialect::Sqlite, FieldType::Int64) => "BIGINT".into(),
            (Dialect::Postgres, FieldType::Float32) => "real".into(),
            (Dialect::Mysql, FieldType::Float32) => "float".into(),
            (Dialect::Sqlite, FieldType::Float32) => "FLOAT4".into(),
            (Dialect::Postgres, FieldType::Float64) => "double precision".into(),
            (Dialect::Mysql, FieldType::Float64) => "double".into(),
            (Dialect::Sqlite, FieldType::Float64) => "REAL".into(),
            (_, FieldType::Decimal { precision, scale }) => {
                let (max_p, max_s) = match d {
                    Dialect::Postgres => (1000, 1000),
                    Dialect::Mysql => (65, 30),
                    Dialect::Sqlite => (u32::MAX, u32::MAX),
                };
                let base = if d == Dialect::Sqlite {
                    "NUMERIC"
                } else if d == Dialect::Mysql {
                    "decimal"
                } else {
                    "numeric"
                };
                match (precision, scale) {
                    (None, None) if d == Dialect::Mysql => {
                        return Err(invalid(
                            format!("{ty_at}/precision"),
                            "mysql has no unbounded decimal: give a precision",
                        ));
                    }
                    (None, None) => base.into(),
                    (None, Some(_)) => {
                        return Err(invalid(
                            format!("{ty_at}/scale"),
                            "a decimal scale needs a precision",
                        ));
                    }
                    (Some(p), s) => {
                        let s = s.unwrap_or(0);
                        if *p == 0 || *p > max_p || s > *p || s > max_s {
                            return Err(invalid(
                                ty_at,
                                format!(
                                    "decimal({p},{s}) is out of range on {} (precision 1..={max_p}, scale 0..=min(precision, {max_s}))",
                                    d.name()
                                ),
                            ));
                        }
                        format!("{base}({p},{s})")
                    }
                }
            }
            (Dialect::Postgres, FieldType::Boolean) => "boolean".into(),
            (Dialect::Mysql, FieldType::Boolean) => "tinyint(1)".into(),
            (Dialect::Sqlite, FieldType::Boolean) => "BOOLEAN".into(),
            (Dialect::Postgres | Dialect::Mysql, FieldType::Date) => "date".into(),
            (Dialect::Sqlite, FieldType::Date) => "DATE".into(),
            (Dialect::Postgres, FieldType::Time) => "time".into(),
            (Dialect::Mysql, FieldType::Time) => "time(6)".into(),
            (Dialect::Sqlite, FieldType::Time) => "TIME".into(),
            (Dialect::Postgres, FieldType::Timestamp) => "timestamp".into(),
            (Dialect::Mysql, FieldType::Timestamp) => "datetime(6)".into(),
            (Dialect::Sqlite, FieldType::Timestamp) => "DATETIME".into(),
            (Dialect::Postgres, FieldType::TimestampTz) => "timestamptz".into(),
            (Dialect::Mysql, FieldType::TimestampTz) => "timestamp(6)".into(),
            (Dialect::Sqlite, FieldType::TimestampTz) => "TIMESTAMPTZ".into(),
            (Dialect::Postgres, FieldType::Uuid) => "uuid".into(),
            // What the MySQL adapter reads as a UUID on MySQL and MariaDB alike.
            (Dialect::Mysql, FieldType::Uuid) => "char(36)".into(),
            (Dialect::Sqlite, FieldType::Uuid) => "UUID".into(),
            (Dialect::Postgres, FieldType::Json) => "jsonb".into(),
            (Dialect::Mysql, FieldType::Json) => "json".into(),
            (Dialect::Sqlite, FieldType::Json) => "JSON".into(),
            (Dialect::Postgres, FieldType::Binary) => "bytea".into(),
            (Dialect::Mysql, FieldType::Binary) => "longblob".into(),
            (Dialect::Sqlite, FieldType::Binary) => "BLOB".into(),
            (Dialect::Postgres, FieldType::Array { items }) => {
                let item_at = At(format!("{ty_at}/items"));
                match items.as_ref() {
                    FieldType::Array { .. } => {
                        return Err(self.unsupported("nested arrays"));
                    }
                    FieldType::Enum { name: None, .. } => {
                        return Err(invalid(
                            format!("{ty_at}/items/name"),
                            "an array of enums needs a named (PostgreSQL) enum type",
                        ));
                    }
                    other => format!("{}[]", self.type_name(other, None, false, &item_at)?),
                }
            }
            (_, FieldType::Array { .. }) => return Err(self.unsupported("array columns")),
            (Dialect::Postgres, FieldType::Enum { name: Some(n), .. }) => {
                let (schema, name) = self.pg_type_name(n, &format!("{ty_at}/name"))?;
                match schema {
                    Some(s) => format!("\"{s}\".\"{name}\""),
                    None => format!("\"{name}\""),
                }
            }
            // Unnamed: text with a CHECK constraint (see `enum_check`).
            (Dialect::Postgres, FieldType::Enum { name: None, .. }) => "text".into(),
            (Dialect::Sqlite, FieldType::Enum { .. }) => "TEXT".into(),
            (Dialect::Mysql, FieldType::Enum { values, .. }) => {
                let labels: Vec<String> = values
                    .iter()
                    .map(|v| MysqlQueryBuilder.value_to_string(&SqValue::String(Some(v.clone()))))
                    .collect();
                format!("enum({})", labels.join(","))
            }
            (_, other) => {
                return Err(self.unsupported(format!("{} columns", other.name())));
            }
        })
    }

    /// `schema.name` or `name` of a PostgreSQL enum type, checked.
    fn pg_type_name<'n>(&self, n: &'n str, pointer: &str) -> Result<(Option<&'n str>, &'n str)> {
        let (schema, name) = match n.split_once('.') {
            Some((s, t)) => (Some(s), t),
            None => (None, n),
        };
        if let Some(s) = schema {
            self.ident(s, pointer)?;
        }
        self.ident(name, pointer)?;
        if name.contains('.') {
            return Err(invalid(
                pointer,
                format!("type name `{n}` has too many dots"),
            ));
        }
        Ok((schema, name))
    }

    /// The default of `f`, parsed and checked against its type.
    fn default_expr(&self, f: &Field, at: &At, adding: bool) -> Result<Option<Expr>> {
        let Some(text) = &f.default else {
            return Ok(None);
        };
        let pointer = at.at("default");
        let lit = parse_default(text).ok_or_else(|| {
            invalid(
                &pointer,
                format!(
                    "default `{text}` is not a literal managed DDL can write (a number, a quoted string, true/false, NULL or CURRENT_TIMESTAMP)"
                ),
            )
        })?;
        let mismatch = || {
            invalid(
                &pointer,
                format!("default `{text}` does not fit a {} field", f.ty.name()),
            )
        };
        if f.generated != Generated::None && lit != Literal::Null {
            return Err(invalid(&pointer, "a generated field cannot have a default"));
        }
        let numeric = f.ty.is_numeric();
        let expr = match (lit, &f.ty) {
            (Literal::Null, _) => return Ok(None),
            (Literal::Number(n), FieldType::Boolean) => match n.as_str() {
                "0" => Expr::val(false),
                "1" => Expr::val(true),
                _ => return Err(mismatch()),
            },
            (Literal::Number(n), FieldType::Int16 | FieldType::Int32 | FieldType::Int64) => {
                if !is_integer(&n) {
                    return Err(mismatch());
                }
                Expr::Keyword(Keyword::Custom(iden(&n)))
            }
            // Validated digits only: written as they are (no float rounding).
            (Literal::Number(n), _) if numeric => Expr::Keyword(Keyword::Custom(iden(&n))),
            (Literal::Number(_), _) => return Err(mismatch()),
            (Literal::Str(s), _) if numeric => {
                // PostgreSQL prints negative numbers as `'-1'::integer`.
                let ok = match f.ty {
                    FieldType::Int16 | FieldType::Int32 | FieldType::Int64 => is_integer(&s),
                    _ => is_number(&s),
                };
                if !ok {
                    return Err(mismatch());
                }
                Expr::Keyword(Keyword::Custom(iden(&s)))
            }
            (Literal::Str(s), FieldType::Enum { values, .. }) => {
                if !values.contains(&s) {
                    return Err(invalid(
                        &pointer,
                        format!("default `{s}` is not one of the enum values"),
                    ));
                }
                Expr::val(s)
            }
            (Literal::Str(s), FieldType::Boolean) => match s.as_str() {
                "t" | "true" | "1" => Expr::val(true),
                "f" | "false" | "0" => Expr::val(false),
                _ => return Err(mismatch()),
            },
            (Literal::Str(_), FieldType::Binary | FieldType::Array { .. }) => {
                return Err(mismatch());
            }
            (Literal::Str(s), _) => Expr::val(s),
            (Literal::Bool(b), FieldType::Boolean) => Expr::val(b),
            (Literal::Bool(_), _) => return Err(mismatch()),
            (Literal::CurrentTimestamp, FieldType::Timestamp | FieldType::TimestampTz) => {
                if adding && self.d == Dialect::Sqlite {
                    return Err(self.unsupported(
                        "adding a column whose default is CURRENT_TIMESTAMP (not a constant)",
                    ));
                }
                match self.d {
                    // The default's precision must match the column's.
                    Dialect::Mysql => Expr::Keyword(Keyword::Custom(iden("CURRENT_TIMESTAMP(6)"))),
                    _ => Expr::current_timestamp(),
                }
            }
            (Literal::CurrentTimestamp, _) => return Err(mismatch()),
        };
        Ok(Some(expr))
    }

    /// The column definition of `f` (no key or unique constraint: those are
    /// table constraints and indexes).
    fn column(&self, f: &Field, at: &At, adding: bool) -> Result<ColumnDef> {
        self.ident(
            f.column(),
            if f.column.is_some() {
                at.at("column")
            } else {
                at.at("name")
            },
        )?;
        if f.generated == Generated::Always {
            return Err(invalid(
                at.at("generated"),
                "computed columns need an expression, which metadata does not carry",
            ));
        }
        if f.generated == Generated::AutoIncrement && f.nullable {
            return Err(invalid(
                at.at("nullable"),
                "an auto-increment field cannot be nullable",
            ));
        }
        let mut col = ColumnDef::new_with_type(iden(f.column()), self.column_type(f, at)?);
        if f.nullable {
            col.null();
        } else {
            col.not_null();
        }
        if let Some(expr) = self.default_expr(f, at, adding)? {
            col.default(expr);
        }
        if let Some(check) = self.enum_check(f) {
            col.check(check);
        }
        if f.generated == Generated::AutoIncrement {
            col.auto_increment();
        }
        Ok(col)
    }

    /// `CHECK (col IN (…))` for enums stored as text (unnamed on PostgreSQL,
    /// all on SQLite).
    fn enum_check(&self, f: &Field) -> Option<Expr> {
        let FieldType::Enum { name, values } = &f.ty else {
            return None;
        };
        let as_text = match self.d {
            Dialect::Postgres => name.is_none(),
            Dialect::Sqlite => true,
            Dialect::Mysql => false,
        };
        as_text.then(|| {
            Expr::col(ColumnRef::Column(ColumnName(None, iden(f.column()))))
                .is_in(values.iter().map(|v| Expr::val(v.clone())))
        })
    }

    fn check_enum_values(&self, f: &Field, at: &At) -> Result<()> {
        let values = match &f.ty {
            FieldType::Enum { values, .. } => values,
            FieldType::Array { items } => match items.as_ref() {
                FieldType::Enum { values, .. } => values,
                _ => return Ok(()),
            },
            _ => return Ok(()),
        };
        if values.is_empty() {
            return Err(invalid(
                at.at("type/values"),
                "an enum needs at least one value",
            ));
        }
        for (i, v) in values.iter().enumerate() {
            if values[..i].contains(v) {
                return Err(invalid(
                    at.at(&format!("type/values/{i}")),
                    format!("duplicate enum value `{v}`"),
                ));
            }
        }
        Ok(())
    }

    /// `CREATE TYPE … AS ENUM` for the named PostgreSQL enums `fields` use,
    /// once per type.
    fn create_types(&self, fields: &[(&Field, At)]) -> Result<Vec<Statement>> {
        if self.d != Dialect::Postgres {
            return Ok(Vec::new());
        }
        let mut seen: Vec<(&str, &[String])> = Vec::new();
        let mut out = Vec::new();
        for (f, at) in fields {
            let ty = match &f.ty {
                FieldType::Array { items } => items.as_ref(),
                t => t,
            };
            let FieldType::Enum {
                name: Some(n),
                values,
            } = ty
            else {
                continue;
            };
            if let Some((_, v)) = seen.iter().find(|(s, _)| s == n) {
                if *v != values.as_slice() {
                    return Err(invalid(
                        at.at("type/values"),
                        format!("enum type `{n}` is used with two different value lists"),
                    ));
                }
                continue;
            }
            seen.push((n, values));
            let (schema, name) = self.pg_type_name(n, &at.at("type/name"))?;
            let type_ref = TypeRef(schema.map(|s| SchemaName(None, iden(s))), iden(name));
            let stmt = Type::create()
                .as_enum(type_ref)
                .values(values.iter().map(|v| iden(v)))
                .to_owned();
            out.push(sql(stmt.to_string(PostgresQueryBuilder)));
        }
        Ok(out)
    }

    fn index(&self, name: &str, columns: &[&str], unique: bool) -> IndexCreateStatement {
        let mut ix = sea_query::Index::create();
        ix.name(name).table(self.table_ref());
        for c in columns {
            ix.col(iden(c));
        }
        if unique {
            ix.unique();
        }
        ix
    }

    fn build_index(&self, ix: &IndexCreateStatement) -> Statement {
        sql(match self.d {
            Dialect::Postgres => ix.to_string(PostgresQueryBuilder),
            Dialect::Mysql => ix.to_string(MysqlQueryBuilder),
            Dialect::Sqlite => ix.to_string(SqliteQueryBuilder),
        })
    }

    /// MySQL cannot index `TEXT` / `BLOB` / `JSON` without a key length.
    fn check_indexable(&self, f: &Field, pointer: &str) -> Result<()> {
        if self.d != Dialect::Mysql {
            return Ok(());
        }
        let unbounded = match f.ty {
            FieldType::Text => f.max_length.is_none(),
            FieldType::Binary | FieldType::Json => true,
            _ => false,
        };
        if unbounded {
            return Err(invalid(
                pointer,
                format!(
                    "mysql cannot index the unbounded {} field `{}` (give text a max_length)",
                    f.ty.name(),
                    f.name
                ),
            ));
        }
        Ok(())
    }

    /// Lower `CreateEntity`.
    fn create(&self, references: &[Entity]) -> Result<Vec<Statement>> {
        let e = self.entity;
        self.check_entity()?;
        if e.fields.is_empty() {
            return Err(invalid(
                "/entity/fields",
                "an entity needs at least one field",
            ));
        }
        if e.primary_key.is_empty() {
            return Err(invalid(
                "/entity/primary_key",
                format!("`{}` has no primary key; managed tables need one", e.name),
            ));
        }
        let fields: Vec<(&Field, At)> = e
            .fields
            .iter()
            .enumerate()
            .map(|(i, f)| (f, At(format!("/entity/fields/{i}"))))
            .collect();
        for (i, (f, at)) in fields.iter().enumerate() {
            if fields[..i].iter().any(|(o, _)| o.name == f.name) {
                return Err(invalid(
                    at.at("name"),
                    format!("duplicate field `{}`", f.name),
                ));
            }
            if fields[..i]
                .iter()
                .any(|(o, _)| o.column().eq_ignore_ascii_case(f.column()))
            {
                return Err(invalid(
                    at.at("column"),
                    format!("duplicate column `{}`", f.column()),
                ));
            }
            self.check_enum_values(f, at)?;
        }
        let mut key: Vec<&Field> = Vec::new();
        for (j, k) in e.primary_key.iter().enumerate() {
            let pointer = format!("/entity/primary_key/{j}");
            let f = self.entity_field(k, &pointer)?;
            if key.iter().any(|o| o.name == f.name) {
                return Err(invalid(pointer, format!("`{k}` appears twice in the key")));
            }
            let i = e.fields.iter().position(|o| o.name == f.name).unwrap_or(0);
            if f.nullable {
                return Err(invalid(
                    format!("/entity/fields/{i}/nullable"),
                    format!("primary key field `{k}` cannot be nullable"),
                ));
            }
            self.check_indexable(f, &format!("/entity/fields/{i}/max_length"))?;
            key.push(f);
        }
        let auto_fields: Vec<&Field> = e
            .fields
            .iter()
            .filter(|f| f.generated == Generated::AutoIncrement)
            .collect();
        // SQLite: only `INTEGER PRIMARY KEY` (a rowid alias) is generated.
        let sqlite_rowid = self.d == Dialect::Sqlite
            && matches!(key.as_slice(), [k] if k.generated == Generated::AutoIncrement);
        if self.d == Dialect::Sqlite && !auto_fields.is_empty() && !sqlite_rowid {
            return Err(self.unsupported(
                "auto-increment on anything but a single-column integer primary key",
            ));
        }

        let mut statements = self.create_types(&fields)?;
        let mut table = Table::create();
        table.table(self.table_ref());
        for (f, at) in &fields {
            let mut col = self.column(f, at, false)?;
            if sqlite_rowid && key[0].name == f.name {
                col.primary_key();
            }
            table.col(col);
        }
        if !sqlite_rowid {
            let mut pk = sea_query::Index::create();
            for k in &key {
                pk.col(iden(k.column()));
            }
            table.primary_key(&mut pk);
        }
        // Many-to-one relations become foreign keys when their target's
        // table is known: the entity itself, or one of `references` (tables
        // that exist), and the target fields are its primary key or a unique
        // key (what a foreign key may reference).
        for (j, r) in e.relations.iter().enumerate() {
            if r.kind != RelationKind::ManyToOne {
                continue;
            }
            let target = if r.target == e.name {
                e
            } else {
                match references.iter().find(|t| t.name == r.target) {
                    Some(t) if !t.read_only && is_unique_key(t, &r.to_fields) => t,
                    _ => continue,
                }
            };
            let rat = format!("/entity/relations/{j}");
            if r.from_fields.is_empty() || r.from_fields.len() != r.to_fields.len() {
                return Err(invalid(
                    rat,
                    "from_fields and to_fields must be non-empty and of equal length",
                ));
            }
            let from: Vec<&str> = r
                .from_fields
                .iter()
                .map(|n| {
                    self.entity_field(n, &format!("{rat}/from_fields"))
                        .map(Field::column)
                })
                .collect::<Result<_>>()?;
            let to: Vec<&str> = r
                .to_fields
                .iter()
                .map(|n| {
                    target
                        .fields
                        .iter()
                        .find(|f| &f.name == n)
                        .map(Field::column)
                        .ok_or_else(|| {
                            invalid(
                                format!("{rat}/to_fields"),
                                format!("`{n}` is not a field of `{}`", target.name),
                            )
                        })
                })
                .collect::<Result<_>>()?;
            let name = foreign_key_name(&e.source.table, &from);
            self.ident(&name, format!("{rat}/name"))?;
            let to_table = Ddl {
                d: self.d,
                entity: target,
            }
            .table_ref();
            let mut fk = ForeignKey::create();
            fk.name(name).from_tbl(self.table_ref()).to_tbl(to_table);
            for c in &from {
                fk.from_col(iden(c));
            }
            for c in &to {
                fk.to_col(iden(c));
            }
            table.foreign_key(&mut fk);
        }

        let indexes = self.indexes(&fields, &key)?;
        match self.d {
            // One statement: MySQL commits each DDL statement on its own, so
            // indexes go inside CREATE TABLE and nothing can be half made.
            Dialect::Mysql => {
                for mut ix in indexes {
                    table.index(&mut ix);
                }
                statements.push(sql(table.to_string(MysqlQueryBuilder)));
            }
            Dialect::Postgres => {
                statements.push(sql(table.to_string(PostgresQueryBuilder)));
                statements.extend(indexes.iter().map(|ix| self.build_index(ix)));
            }
            Dialect::Sqlite => {
                statements.push(sql(table.to_string(SqliteQueryBuilder)));
                statements.extend(indexes.iter().map(|ix| self.build_index(ix)));
            }
        }
        Ok(statements)
    }

    /// Declared indexes plus one unique index per unique field not already
    /// covered (by the key or a declared single-column unique index).
    fn indexes(
        &self,
        fields: &[(&Field, At)],
        key: &[&Field],
    ) -> Result<Vec<IndexCreateStatement>> {
        let e = self.entity;
        let mut out = Vec::new();
        let mut names: Vec<String> = Vec::new();
        let mut claim = |name: &str, pointer: &str| -> Result<()> {
            if names.iter().any(|n| n.eq_ignore_ascii_case(name)) {
                return Err(invalid(pointer, format!("duplicate index name `{name}`")));
            }
            names.push(name.to_string());
            Ok(())
        };
        for (j, ix) in e.indexes.iter().enumerate() {
            let at = format!("/entity/indexes/{j}");
            self.ident(&ix.name, format!("{at}/name"))?;
            claim(&ix.name, &format!("{at}/name"))?;
            if ix.fields.is_empty() {
                return Err(invalid(format!("{at}/fields"), "an index needs fields"));
            }
            let mut cols = Vec::new();
            for (k, n) in ix.fields.iter().enumerate() {
                let pointer = format!("{at}/fields/{k}");
                let f = self.entity_field(n, &pointer)?;
                self.check_indexable(f, &pointer)?;
                cols.push(f.column());
            }
            out.push(self.index(&ix.name, &cols, ix.unique));
        }
        for (f, at) in fields {
            if !f.unique || self.unique_covered(f, key) {
                continue;
            }
            let name = unique_index_name(&e.source.table, f.column());
            self.ident(&name, at.at("unique"))?;
            claim(&name, &at.at("unique"))?;
            self.check_indexable(f, &at.at("unique"))?;
            out.push(self.index(&name, &[f.column()], true));
        }
        Ok(out)
    }

    /// Whether `f`'s uniqueness is already enforced by the key or a declared
    /// single-column unique index.
    fn unique_covered(&self, f: &Field, key: &[&Field]) -> bool {
        matches!(key, [k] if k.name == f.name)
            || self
                .entity
                .indexes
                .iter()
                .any(|ix| ix.unique && ix.fields.as_slice() == std::slice::from_ref(&f.name))
    }

    /// Lower `AddField`.
    fn add(&self, f: &Field) -> Result<Vec<Statement>> {
        let e = self.entity;
        self.check_entity()?;
        let at = At("/field".into());
        if e.fields.iter().any(|o| o.name == f.name) {
            return Err(invalid(
                "/field/name",
                format!("`{}` already has a field `{}`", e.name, f.name),
            ));
        }
        if e.fields
            .iter()
            .any(|o| o.column().eq_ignore_ascii_case(f.column()))
        {
            return Err(invalid(
                "/field/column",
                format!("`{}` already has a column `{}`", e.name, f.column()),
            ));
        }
        if f.generated != Generated::None {
            return Err(invalid(
                "/field/generated",
                "a generated field cannot be added to an existing table",
            ));
        }
        self.check_enum_values(f, &at)?;
        // Checks the default first, so a bad default is reported as such.
        let col = self.column(f, &at, true)?;
        let has_default = f
            .default
            .as_deref()
            .and_then(parse_default)
            .is_some_and(|l| l != Literal::Null);
        if !f.nullable && !has_default {
            return Err(invalid(
                "/field/nullable",
                format!(
                    "`{}` is NOT NULL without a default: existing rows would have no value (make it nullable or give a default)",
                    f.name
                ),
            ));
        }
        let mut statements = self.create_types(&[(f, at.clone())])?;
        let mut alter = Table::alter();
        alter.table(self.table_ref()).add_column(col);
        statements.push(sql(match self.d {
            Dialect::Postgres => alter.to_string(PostgresQueryBuilder),
            Dialect::Mysql => alter.to_string(MysqlQueryBuilder),
            Dialect::Sqlite => alter.to_string(SqliteQueryBuilder),
        }));
        let key: Vec<&Field> = e.key_fields().collect();
        if f.unique && !self.unique_covered(f, &key) {
            if self.d == Dialect::Mysql && e.source.schema.is_some() {
                return Err(self.unsupported(
                    "adding a unique field to a schema-qualified table (CREATE INDEX on db.table)",
                ));
            }
            let name = unique_index_name(&e.source.table, f.column());
            self.ident(&name, "/field/unique")?;
            if e.indexes
                .iter()
                .any(|ix| ix.name.eq_ignore_ascii_case(&name))
            {
                return Err(invalid(
                    "/field/unique",
                    format!("`{}` already has an index named `{name}`", e.name),
                ));
            }
            self.check_indexable(f, "/field/unique")?;
            statements.push(self.build_index(&self.index(&name, &[f.column()], true)));
        }
        Ok(statements)
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
            Ddl { d: dialect, entity }.create(references)
        }
        SchemaChange::AddField { entity, field } => Ddl { d: dialect, entity }.add(field),
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
    let ddl = Ddl { d: dialect, entity };
    let statement = match field {
        None => {
            let mut drop = Table::drop();
            drop.table(ddl.table_ref());
            match dialect {
                Dialect::Postgres => drop.to_string(PostgresQueryBuilder),
                Dialect::Mysql => drop.to_string(MysqlQueryBuilder),
                Dialect::Sqlite => drop.to_string(SqliteQueryBuilder),
            }
        }
        Some(f) => {
            let mut alter = Table::alter();
            alter.table(ddl.table_ref()).drop_column(iden(f.column()));
            match dialect {
                Dialect::Postgres => alter.to_string(PostgresQueryBuilder),
                Dialect::Mysql => alter.to_string(MysqlQueryBuilder),
                Dialect::Sqlite => alter.to_string(SqliteQueryBuilder),
            }
        }
    };
    Ok(vec![sql(statement)])
}

/// The entity as live introspection describes it after `CreateEntity` on
/// `dialect` (ignoring defaults, descriptions and relations, which
/// introspection prints or names its own way):
///
/// - field names are column names (`column` is folded into `name`), key and
///   index fields too; indexes are sorted by name and include the unique
///   index of each `unique` field; a field covered by a single-column unique
///   index is `unique`; a sole key field is not reported `unique`;
/// - `decimal(p)` reads back as `decimal(p,0)`;
/// - PostgreSQL: unnamed enums read back as `text`; a named enum loses its
///   schema prefix;
/// - MySQL: enums lose their type name; `uuid` reads back as `text` with
///   `max_length` 36 (it is stored as `char(36)`);
/// - SQLite: `int32` and auto-increment keys read back as `int64` (SQLite
///   integers are 64-bit; the rowid is declared `INTEGER`) and enums as
///   `text`.
pub fn introspected(dialect: Dialect, entity: &Entity) -> Entity {
    fn ty(d: Dialect, t: &FieldType, max_length: &mut Option<u32>) -> FieldType {
        match (d, t) {
            (
                _,
                FieldType::Decimal {
                    precision: Some(p),
                    scale: None,
                },
            ) => FieldType::Decimal {
                precision: Some(*p),
                scale: Some(0),
            },
            (Dialect::Postgres, FieldType::Enum { name: None, .. }) => FieldType::Text,
            (
                Dialect::Postgres,
                FieldType::Enum {
                    name: Some(n),
                    values,
                },
            ) => FieldType::Enum {
                name: Some(n.rsplit('.').next().unwrap_or(n).to_string()),
                values: values.clone(),
            },
            (Dialect::Postgres, FieldType::Array { items }) => FieldType::Array {
                items: Box::new(ty(d, items, &mut None)),
            },
            (Dialect::Mysql, FieldType::Enum { values, .. }) => FieldType::Enum {
                name: None,
                values: values.clone(),
            },
            (Dialect::Mysql, FieldType::Uuid) => {
                *max_length = Some(36);
                FieldType::Text
            }
            (Dialect::Sqlite, FieldType::Int32) => FieldType::Int64,
            (Dialect::Sqlite, FieldType::Enum { .. }) => FieldType::Text,
            (_, other) => other.clone(),
        }
    }
    let column_of = |name: &String| -> String {
        entity
            .fields
            .iter()
            .find(|f| &f.name == name)
            .map_or_else(|| name.clone(), |f| f.column().to_string())
    };
    let key: Vec<&Field> = entity.key_fields().collect();
    let ddl = Ddl { d: dialect, entity };
    let mut indexes: Vec<Index> = entity
        .indexes
        .iter()
        .map(|ix| Index {
            name: ix.name.clone(),
            fields: ix.fields.iter().map(column_of).collect(),
            unique: ix.unique,
        })
        .collect();
    for f in &entity.fields {
        if f.unique && !ddl.unique_covered(f, &key) {
            indexes.push(Index {
                name: unique_index_name(&entity.source.table, f.column()),
                fields: vec![f.column().to_string()],
                unique: true,
            });
        }
    }
    indexes.sort_by(|a, b| a.name.cmp(&b.name));
    let fields = entity
        .fields
        .iter()
        .map(|f| {
            let mut max_length = f.max_length;
            let mut ty = ty(dialect, &f.ty, &mut max_length);
            if dialect == Dialect::Sqlite && f.generated == Generated::AutoIncrement {
                // Declared `INTEGER` to be the rowid.
                ty = FieldType::Int64;
            }
            let column = f.column().to_string();
            let unique = indexes
                .iter()
                .any(|ix| ix.unique && ix.fields.as_slice() == std::slice::from_ref(&column));
            Field {
                name: column,
                column: None,
                ty,
                nullable: f.nullable,
                default: None,
                generated: f.generated,
                unique,
                max_length,
                description: None,
            }
        })
        .collect();
    Entity {
        name: entity.name.clone(),
        source: entity.source.clone(),
        primary_key: entity.primary_key.iter().map(column_of).collect(),
        fields,
        relations: Vec::new(),
        indexes,
        read_only: false,
        description: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::field_type;

    fn every_type() -> Vec<FieldType> {
        let scalars = vec![
            FieldType::Text,
            FieldType::Int16,
            FieldType::Int32,
            FieldType::Int64,
            FieldType::Float32,
            FieldType::Float64,
            FieldType::Decimal {
                precision: Some(12),
                scale: Some(3),
            },
            FieldType::Decimal {
                precision: Some(7),
                scale: None,
            },
            FieldType::Decimal {
                precision: None,
                scale: None,
            },
            FieldType::Boolean,
            FieldType::Date,
            FieldType::Time,
            FieldType::Timestamp,
            FieldType::TimestampTz,
            FieldType::Uuid,
            FieldType::Json,
            FieldType::Binary,
            FieldType::Enum {
                name: None,
                values: vec!["a".into(), "b'c".into()],
            },
            FieldType::Enum {
                name: Some("mood".into()),
                values: vec!["sad".into(), "ok".into()],
            },
        ];
        let mut all = scalars.clone();
        for s in scalars {
            if !matches!(s, FieldType::Enum { name: None, .. }) {
                all.push(FieldType::Array { items: Box::new(s) });
            }
        }
        all.push(FieldType::ObjectId);
        all
    }

    /// The main property: the column type written for a field reads back,
    /// through the mapping live introspection uses, as the type (and
    /// max_length) [`introspected`] promises. Enums are special-cased the way
    /// the catalogs report them: PostgreSQL enum types by name from
    /// `pg_enum`, MySQL by their `enum(…)` declaration.
    #[test]
    fn declared_types_read_back_as_introspected() {
        let mut checked = 0;
        for d in [Dialect::Postgres, Dialect::Mysql, Dialect::Sqlite] {
            for ty in every_type() {
                for (max_length, auto) in [(None, false), (Some(40), false), (None, true)] {
                    if max_length.is_some() && ty != FieldType::Text {
                        continue;
                    }
                    let is_int =
                        matches!(ty, FieldType::Int16 | FieldType::Int32 | FieldType::Int64);
                    if auto && !is_int {
                        continue;
                    }
                    let mut f = Field::new("c", ty.clone());
                    f.max_length = max_length;
                    if auto {
                        f.generated = Generated::AutoIncrement;
                    }
                    let e = Entity::new("t", vec![f.clone()]).with_primary_key(["c"]);
                    let ddl = Ddl { d, entity: &e };
                    let at = At("/entity/fields/0".into());
                    let declared = match ddl.type_name(&ty, max_length, auto, &at) {
                        Ok(t) => t,
                        Err(err) => {
                            // Refused types are refused by the whole change too.
                            let change = SchemaChange::CreateEntity {
                                entity: e.clone(),
                                references: Vec::new(),
                            };
                            assert!(schema_change(d, &change).is_err(), "{d:?} {ty:?}");
                            assert!(
                                matches!(err, Error::Unsupported { .. } | Error::Validation { .. }),
                                "{err}"
                            );
                            continue;
                        }
                    };
                    let want = introspected(d, &e).fields.remove(0);
                    let got = field_type(d, &declared);
                    let got_ty = match (&ty, got.ty) {
                        // The catalog supplies the enum's name and labels.
                        (FieldType::Enum { name: Some(_), .. }, _) if d == Dialect::Postgres => {
                            want.ty.clone()
                        }
                        (FieldType::Array { items }, FieldType::Array { .. })
                            if matches!(items.as_ref(), FieldType::Enum { .. }) =>
                        {
                            want.ty.clone()
                        }
                        (_, t) => t,
                    };
                    assert_eq!(got_ty, want.ty, "{d:?}: {ty:?} declared as `{declared}`");
                    assert_eq!(
                        got.max_length, want.max_length,
                        "{d:?}: {ty:?} declared as `{declared}`"
                    );
                    // SQLite marks exactly `INTEGER` single keys as generated.
                    if d == Dialect::Sqlite && is_int {
                        assert_eq!(declared == "INTEGER", auto, "{declared}");
                    }
                    checked += 1;
                }
            }
        }
        assert!(checked > 60, "only {checked} combinations checked");
    }

    #[test]
    fn defaults_parse_only_literals() {
        assert_eq!(parse_default("42"), Some(Literal::Number("42".into())));
        assert_eq!(
            parse_default("-1.5e3"),
            Some(Literal::Number("-1.5e3".into()))
        );
        assert_eq!(parse_default("(0)"), Some(Literal::Number("0".into())));
        assert_eq!(parse_default("'it''s'"), Some(Literal::Str("it's".into())));
        assert_eq!(
            parse_default("'x'::character varying"),
            Some(Literal::Str("x".into()))
        );
        assert_eq!(parse_default("TRUE"), Some(Literal::Bool(true)));
        assert_eq!(parse_default("now()"), Some(Literal::CurrentTimestamp));
        assert_eq!(
            parse_default("current_timestamp(6)"),
            Some(Literal::CurrentTimestamp)
        );
        assert_eq!(parse_default("NULL"), Some(Literal::Null));
        for bad in [
            "nextval('s'::regclass)",
            "'a' || 'b'",
            "'a'; DROP TABLE x",
            "'a'::text; DROP TABLE x",
            "1; DROP TABLE x",
            "gen_random_uuid()",
            "'unterminated",
            "1.2.3",
            "-",
            "e5",
            "",
        ] {
            assert_eq!(parse_default(bad), None, "{bad}");
        }
    }

    /// A many-to-one relation to an existing entity (listed in
    /// `references`) through its key becomes a foreign key; without the
    /// reference, or through a non-unique field, it does not.
    #[test]
    fn foreign_keys_to_other_entities() {
        use baas_core::Relation;
        let author = Entity::new(
            "author",
            vec![
                Field::new("id", FieldType::Int64).generated(Generated::AutoIncrement),
                Field::new("name", FieldType::Text),
            ],
        )
        .with_primary_key(["id"]);
        let book = |to: &str| {
            Entity::new(
                "book",
                vec![
                    Field::new("id", FieldType::Int64).generated(Generated::AutoIncrement),
                    Field::new("author_id", FieldType::Int64),
                ],
            )
            .with_primary_key(["id"])
            .with_relation(Relation::many_to_one(
                "author",
                "author",
                &["author_id"],
                &[to],
            ))
        };
        let create = |e: Entity, refs: Vec<Entity>| {
            schema_change(
                Dialect::Sqlite,
                &SchemaChange::CreateEntity {
                    entity: e,
                    references: refs,
                },
            )
            .map(|st| {
                st.iter()
                    .map(|s| s.sql.clone())
                    .collect::<Vec<_>>()
                    .join(";")
            })
            .unwrap_or_else(|e| e.to_string())
        };
        let sql = create(book("id"), vec![author.clone()]);
        assert!(
            sql.contains(r#"FOREIGN KEY ("author_id") REFERENCES "author" ("id")"#),
            "{sql}"
        );
        for d in [Dialect::Postgres, Dialect::Mysql] {
            let st = schema_change(
                d,
                &SchemaChange::CreateEntity {
                    entity: book("id"),
                    references: vec![author.clone()],
                },
            )
            .map(|st| {
                st.iter()
                    .map(|s| s.sql.clone())
                    .collect::<Vec<_>>()
                    .join(";")
            })
            .unwrap_or_default();
            assert!(
                st.contains("FOREIGN KEY") && st.contains("book_author_id_fkey"),
                "{d:?}: {st}"
            );
        }
        assert!(!create(book("id"), vec![]).contains("FOREIGN KEY"));
        assert!(!create(book("name"), vec![author]).contains("FOREIGN KEY"));
    }
}
