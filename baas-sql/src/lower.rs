//! IR → SQL lowering.

use baas_core::ir::{
    Aggregate, AggregateFn, ArrayOp, CompareOp, Delete, Direction, Filter, Insert, IsValue, Nulls,
    OnConflict, OrderBy, Query, Record, Update,
};
use baas_core::{Entity, Error, Field, FieldType, RelationKind, Result, Target, Value};
use sea_query::{
    Alias, ColumnName, ColumnRef, Condition, DynIden, Expr, ExprTrait, MysqlQueryBuilder,
    NullOrdering, OnConflict as SqOnConflict, Order, PostgresQueryBuilder, ReturningClause,
    SchemaName, SelectStatement, SqliteQueryBuilder, TableName, TableRef, Value as SqValue,
};

/// The SQL dialect to lower to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Dialect {
    /// PostgreSQL ≥ 12.
    Postgres,
    /// MySQL ≥ 8 and MariaDB ≥ 10.5.
    Mysql,
    /// SQLite ≥ 3.35.
    Sqlite,
}

impl Dialect {
    /// Engine name as used in capabilities and errors.
    pub fn name(self) -> &'static str {
        match self {
            Self::Postgres => "postgres",
            Self::Mysql => "mysql",
            Self::Sqlite => "sqlite",
        }
    }

    fn unsupported(self, feature: &str) -> Error {
        Error::unsupported(self.name(), feature)
    }

    /// Placeholder for the `i`-th (0-based) argument of a custom expression.
    fn mark(self, i: usize) -> String {
        match self {
            Self::Postgres => format!("${}", i + 1),
            _ => "?".to_string(),
        }
    }
}

/// SQL text and its bound parameters, in order.
#[derive(Debug, Clone, PartialEq)]
pub struct Statement {
    /// The SQL, with `$n` (PostgreSQL) or `?` placeholders.
    pub sql: String,
    /// The parameters.
    pub params: Vec<SqValue>,
}

/// One output column of a select: the JSON key and how to decode it.
#[derive(Debug, Clone, PartialEq)]
pub struct OutColumn {
    /// Key in the output object.
    pub key: String,
    /// The type to decode the column as.
    pub ty: FieldType,
}

/// A select statement and the shape of its rows.
#[derive(Debug, Clone, PartialEq)]
pub struct SelectPlan {
    /// The statement.
    pub statement: Statement,
    /// Output columns, in select-list order.
    pub columns: Vec<OutColumn>,
}

trait Build {
    fn build_pg(&self) -> (String, sea_query::Values);
    fn build_my(&self) -> (String, sea_query::Values);
    fn build_lite(&self) -> (String, sea_query::Values);
}

macro_rules! impl_build {
    ($($t:ty),*) => {$(
        impl Build for $t {
            fn build_pg(&self) -> (String, sea_query::Values) { self.build(PostgresQueryBuilder) }
            fn build_my(&self) -> (String, sea_query::Values) { self.build(MysqlQueryBuilder) }
            fn build_lite(&self) -> (String, sea_query::Values) { self.build(SqliteQueryBuilder) }
        }
    )*};
}
impl_build!(
    sea_query::SelectStatement,
    sea_query::InsertStatement,
    sea_query::UpdateStatement,
    sea_query::DeleteStatement
);

fn finish(d: Dialect, stmt: &impl Build) -> Statement {
    let (sql, values) = match d {
        Dialect::Postgres => stmt.build_pg(),
        Dialect::Mysql => stmt.build_my(),
        Dialect::Sqlite => stmt.build_lite(),
    };
    Statement {
        sql,
        params: values.0,
    }
}

fn iden(s: &str) -> DynIden {
    DynIden::from(s.to_string())
}

/// How columns of one entity are qualified in an expression.
#[derive(Clone)]
struct Scope<'a> {
    entity: &'a Entity,
    /// `Some(alias)` inside subqueries; `None` = the (schema-qualified) table name.
    alias: Option<String>,
    depth: usize,
    /// Qualify column names (needed only when subqueries reference the outer row).
    qualify: bool,
}

impl<'a> Scope<'a> {
    /// The statement's own table; columns are qualified only if `qualify`.
    fn root(entity: &'a Entity, qualify: bool) -> Self {
        Self {
            entity,
            alias: None,
            depth: 0,
            qualify,
        }
    }

    fn table_name(&self) -> TableName {
        match &self.alias {
            Some(a) => TableName(None, iden(a)),
            None => table_name(self.entity),
        }
    }

    fn col(&self, field: &Field) -> Expr {
        let table = self.qualify.then(|| self.table_name());
        Expr::col(ColumnRef::Column(ColumnName(table, iden(field.column()))))
    }
}

fn table_name(e: &Entity) -> TableName {
    TableName(
        e.source
            .schema
            .as_deref()
            .map(|s| SchemaName(None, iden(s))),
        iden(&e.source.table),
    )
}

fn table_ref(e: &Entity) -> TableRef {
    TableRef::Table(table_name(e), None)
}

fn table_ref_as(e: &Entity, alias: &str) -> TableRef {
    TableRef::Table(table_name(e), Some(iden(alias)))
}

fn unqualified(field: &Field) -> DynIden {
    iden(field.column())
}

/// Lowers IR for one dialect.
#[derive(Clone, Copy)]
struct Lower<'a> {
    d: Dialect,
    target: Target<'a>,
}

fn coerce(field: &Field, v: &Value) -> Result<Value> {
    v.coerce(&field.ty)
        .map_err(|m| Error::validation("", format!("`{}`: {m}", field.name)))
}

fn typed_null(ty: &FieldType) -> SqValue {
    match ty {
        FieldType::Int16 => SqValue::SmallInt(None),
        FieldType::Int32 => SqValue::Int(None),
        FieldType::Int64 => SqValue::BigInt(None),
        FieldType::Float32 => SqValue::Float(None),
        FieldType::Float64 => SqValue::Double(None),
        FieldType::Boolean => SqValue::Bool(None),
        FieldType::Binary => SqValue::Bytes(None),
        _ => SqValue::String(None),
    }
}

/// PostgreSQL type name for casts of bound text (`None` = no cast needed).
fn pg_cast(ty: &FieldType) -> Option<String> {
    Some(match ty {
        FieldType::Decimal { .. } => "numeric".into(),
        FieldType::Date => "date".into(),
        FieldType::Time => "time".into(),
        FieldType::Timestamp => "timestamp".into(),
        FieldType::TimestampTz => "timestamptz".into(),
        FieldType::Uuid => "uuid".into(),
        FieldType::Json => "jsonb".into(),
        // Braces would collide with the custom-expression markers; such a
        // type name is refused by metadata validation anyway.
        FieldType::Enum { name: Some(n), .. } if !n.contains(['{', '}']) => quote_pg_type(n),
        FieldType::Array { items } => format!("{}[]", pg_elem_type(items)?),
        _ => return None,
    })
}

fn pg_elem_type(ty: &FieldType) -> Option<String> {
    Some(match ty {
        FieldType::Text | FieldType::ObjectId | FieldType::Enum { name: None, .. } => "text".into(),
        FieldType::Int16 => "int2".into(),
        FieldType::Int32 => "int4".into(),
        FieldType::Int64 => "int8".into(),
        FieldType::Float32 => "float4".into(),
        FieldType::Float64 => "float8".into(),
        FieldType::Boolean => "bool".into(),
        FieldType::Binary => "bytea".into(),
        FieldType::Array { .. } => return None,
        other => pg_cast(other)?,
    })
}

/// Quote a (possibly schema-qualified, `schema.name`) PostgreSQL type name.
fn quote_pg_type(n: &str) -> String {
    n.split('.')
        .map(|p| format!("\"{}\"", p.replace('"', "\"\"")))
        .collect::<Vec<_>>()
        .join(".")
}

impl<'a> Lower<'a> {
    fn entity(&self) -> &'a Entity {
        self.target.entity
    }

    /// A custom expression; `{}` in `template` marks the arguments in order.
    fn custom(&self, template: &str, args: Vec<Expr>) -> Expr {
        let mut out = String::with_capacity(template.len() + 8);
        let mut parts = template.split("{}");
        if let Some(first) = parts.next() {
            out.push_str(first);
        }
        for (i, p) in parts.enumerate() {
            out.push_str(&self.d.mark(i));
            out.push_str(p);
        }
        Expr::cust_with_exprs(out, args)
    }

    /// A plain (untyped-by-field) parameter.
    fn param(&self, v: impl Into<SqValue>) -> Expr {
        Expr::val(v.into())
    }

    /// Bind a value of a field's type, with the casts the dialect needs.
    fn bind(&self, ty: &FieldType, v: &Value) -> Result<Expr> {
        let d = self.d;
        let raw: SqValue = match v {
            Value::Null => typed_null(ty),
            Value::Bool(b) => SqValue::Bool(Some(*b)),
            Value::Int(i) => match ty {
                FieldType::Int16 => SqValue::SmallInt(Some(
                    i16::try_from(*i).map_err(|_| Error::validation("", "int16 out of range"))?,
                )),
                FieldType::Int32 => SqValue::Int(Some(
                    i32::try_from(*i).map_err(|_| Error::validation("", "int32 out of range"))?,
                )),
                _ => SqValue::BigInt(Some(*i)),
            },
            Value::Float(f) => match ty {
                FieldType::Float32 => SqValue::Float(Some(*f as f32)),
                _ => SqValue::Double(Some(*f)),
            },
            Value::Decimal(s) | Value::Text(s) => SqValue::String(Some(s.clone())),
            Value::Bytes(b) => SqValue::Bytes(Some(b.clone())),
            Value::Date(x) => match d {
                Dialect::Sqlite => SqValue::String(Some(baas_core::value::format_date(*x))),
                _ => SqValue::ChronoDate(Some(*x)),
            },
            Value::Time(x) => match d {
                Dialect::Sqlite => SqValue::String(Some(baas_core::value::format_time(*x))),
                _ => SqValue::ChronoTime(Some(*x)),
            },
            Value::Timestamp(x) => match d {
                Dialect::Sqlite => {
                    SqValue::String(Some(x.format("%Y-%m-%d %H:%M:%S%.f").to_string()))
                }
                _ => SqValue::ChronoDateTime(Some(*x)),
            },
            Value::TimestampTz(x) => match d {
                Dialect::Postgres => SqValue::ChronoDateTimeUtc(Some(*x)),
                Dialect::Mysql => SqValue::ChronoDateTime(Some(x.naive_utc())),
                // Fixed-width fraction so that text order is time order.
                Dialect::Sqlite => {
                    SqValue::String(Some(x.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()))
                }
            },
            Value::Uuid(u) => match d {
                Dialect::Postgres => SqValue::Uuid(Some(*u)),
                _ => SqValue::String(Some(u.hyphenated().to_string())),
            },
            Value::Json(j) => match d {
                Dialect::Postgres => SqValue::String(Some(j.to_string())),
                _ => SqValue::String(Some(j.to_string())),
            },
            Value::Array(items) => {
                let FieldType::Array { items: item_ty } = ty else {
                    return Err(Error::validation("", "an array value needs an array field"));
                };
                if d != Dialect::Postgres {
                    return Err(d.unsupported("array fields"));
                }
                // One text parameter in array-literal syntax, cast to the array
                // type: `CAST($1 AS text[])` with `{"a","b"}`.
                let cast = pg_cast(ty).ok_or_else(|| d.unsupported("arrays of this type"))?;
                let literal = pg_array_literal(items, item_ty)?;
                return Ok(self.custom(
                    &format!("CAST({{}} AS {cast})"),
                    vec![Expr::val(SqValue::String(Some(literal)))],
                ));
            }
            _ => return Err(Error::validation("", "unsupported value")),
        };
        Ok(match d {
            Dialect::Postgres => match pg_cast(ty) {
                Some(cast) if !matches!(raw, SqValue::Uuid(_)) && !is_chrono(&raw) => {
                    self.custom(&format!("CAST({{}} AS {cast})"), vec![Expr::val(raw)])
                }
                _ => Expr::val(raw),
            },
            // Compared with a string MySQL converts both sides to double; the
            // widest DECIMAL keeps exactness without clamping to the column's
            // precision (an out-of-range write then fails in strict mode
            // instead of being silently capped).
            Dialect::Mysql => match ty {
                FieldType::Decimal { .. } if !raw_is_null(&raw) => {
                    self.custom("CAST({} AS DECIMAL(65,30))", vec![Expr::val(raw)])
                }
                _ => Expr::val(raw),
            },
            Dialect::Sqlite => Expr::val(raw),
        })
    }

    fn bind_field(&self, field: &Field, v: &Value) -> Result<Expr> {
        let v = coerce(field, v)?;
        self.bind(&field.ty, &v)
    }

    /// Bind a value written into a field: the column's rules apply
    /// ([`Value::coerce_write`]: decimals rounded to the scale, precision and
    /// float ranges checked).
    fn bind_write(&self, field: &Field, v: &Value) -> Result<Expr> {
        let v = v
            .coerce_write(&field.ty)
            .map_err(|m| Error::validation("", format!("`{}`: {m}", field.name)))?;
        self.bind(&field.ty, &v)
    }

    // ---------------------------------------------------------------- filters

    fn cond(&self, f: &Filter, scope: &Scope<'a>) -> Result<Condition> {
        let e = scope.entity;
        Ok(match f {
            Filter::And { filters } if filters.is_empty() => always(true),
            Filter::Or { filters } if filters.is_empty() => always(false),
            Filter::And { filters } => {
                let mut c = Condition::all();
                for g in filters {
                    c = c.add(self.cond(g, scope)?);
                }
                c
            }
            Filter::Or { filters } => {
                let mut c = Condition::any();
                for g in filters {
                    c = c.add(self.cond(g, scope)?);
                }
                c
            }
            Filter::Not { filter } => Condition::all().add(self.cond(filter, scope)?).not(),
            Filter::Compare { field, op, value } => {
                let fd = e.field(field)?;
                if value.is_null() {
                    return Err(Error::validation(
                        "",
                        "comparing with null never matches; use `is null`",
                    ));
                }
                let col = scope.col(fd);
                let v = self.bind_field(fd, value)?;
                Condition::all().add(compare(col, *op, v))
            }
            Filter::In { field, values } => {
                let fd = e.field(field)?;
                let vals = values
                    .iter()
                    .filter(|v| !v.is_null())
                    .map(|v| self.bind_field(fd, v))
                    .collect::<Result<Vec<_>>>()?;
                if vals.is_empty() {
                    always(false)
                } else {
                    Condition::all().add(scope.col(fd).is_in(vals))
                }
            }
            Filter::Is { field, value } => {
                let fd = e.field(field)?;
                let col = scope.col(fd);
                Condition::all().add(match value {
                    IsValue::Null => col.is_null(),
                    IsValue::NotNull => col.is_not_null(),
                    IsValue::True => self.custom("{} IS TRUE", vec![col]),
                    IsValue::False => self.custom("{} IS FALSE", vec![col]),
                })
            }
            Filter::Like {
                field,
                pattern,
                case_insensitive,
            } => {
                let fd = e.field(field)?;
                Condition::all().add(self.like(self.as_text(scope, fd), pattern, *case_insensitive))
            }
            Filter::TextSearch {
                field,
                query,
                language,
            } => {
                let fd = e.field(field)?;
                Condition::all().add(self.text_search(
                    self.as_text(scope, fd),
                    query,
                    language.as_deref(),
                )?)
            }
            Filter::Array { field, op, values } => {
                let fd = e.field(field)?;
                if self.d != Dialect::Postgres {
                    return Err(self.d.unsupported("array operators"));
                }
                let arr = self.bind_field(fd, &Value::Array(values.clone()))?;
                let tpl = match op {
                    ArrayOp::Contains => "{} @> {}",
                    ArrayOp::ContainedBy => "{} <@ {}",
                    ArrayOp::Overlaps => "{} && {}",
                };
                Condition::all().add(self.custom(tpl, vec![scope.col(fd), arr]))
            }
            Filter::JsonPath {
                field,
                path,
                op,
                value,
            } => {
                let fd = e.field(field)?;
                Condition::all().add(self.json_path(scope.col(fd), path, *op, value)?)
            }
            Filter::Exists { relation, filter } => Condition::all().add(Expr::exists(
                self.exists(scope, relation, filter.as_deref())?,
            )),
            other => {
                return Err(self.d.unsupported(&format!("filter {other:?}")));
            }
        })
    }

    /// The column as text: PostgreSQL enum types have no text operators.
    fn as_text(&self, scope: &Scope<'_>, fd: &Field) -> Expr {
        match (&fd.ty, self.d) {
            (FieldType::Enum { name: Some(_), .. }, Dialect::Postgres) => {
                self.custom("CAST({} AS text)", vec![scope.col(fd)])
            }
            _ => scope.col(fd),
        }
    }

    fn like(&self, col: Expr, pattern: &str, ci: bool) -> Expr {
        let p = self.param(pattern.to_string());
        match (self.d, ci) {
            (Dialect::Postgres, false) => self.custom("{} LIKE {} ESCAPE '\\'", vec![col, p]),
            (Dialect::Postgres, true) => self.custom("{} ILIKE {} ESCAPE '\\'", vec![col, p]),
            // MySQL: string literals treat `\` as an escape, hence `'\\'`.
            (Dialect::Mysql, false) => self.custom("{} LIKE BINARY {} ESCAPE '\\\\'", vec![col, p]),
            (Dialect::Mysql, true) => {
                self.custom("LOWER({}) LIKE LOWER({}) ESCAPE '\\\\'", vec![col, p])
            }
            // SQLite's LIKE ignores ASCII case; GLOB is the case-sensitive form.
            (Dialect::Sqlite, false) => {
                let g = self.param(like_to_glob(pattern));
                self.custom("{} GLOB {}", vec![col, g])
            }
            (Dialect::Sqlite, true) => {
                self.custom("LOWER({}) LIKE LOWER({}) ESCAPE '\\'", vec![col, p])
            }
        }
    }

    fn text_search(&self, col: Expr, query: &str, language: Option<&str>) -> Result<Expr> {
        match self.d {
            Dialect::Postgres => {
                let lang = language.unwrap_or("simple").to_string();
                Ok(self.custom(
                    "to_tsvector(CAST({} AS regconfig), {}) @@ plainto_tsquery(CAST({} AS regconfig), {})",
                    vec![
                        self.param(lang.clone()),
                        col,
                        self.param(lang),
                        self.param(query.to_string()),
                    ],
                ))
            }
            Dialect::Mysql => {
                if language.is_some() {
                    return Err(self.d.unsupported(
                        "a full-text search language (MySQL uses the index's parser)",
                    ));
                }
                // Every word required; boolean-mode operators stripped from user text.
                let words: Vec<String> = query
                    .split(|c: char| !c.is_alphanumeric())
                    .filter(|w| !w.is_empty())
                    .map(|w| format!("+{w}"))
                    .collect();
                if words.is_empty() {
                    return Err(Error::validation("/query", "the search query has no words"));
                }
                Ok(self.custom(
                    "MATCH ({}) AGAINST ({} IN BOOLEAN MODE)",
                    vec![col, self.param(words.join(" "))],
                ))
            }
            Dialect::Sqlite => Err(self.d.unsupported("full-text search")),
        }
    }

    fn json_path(&self, col: Expr, path: &[String], op: CompareOp, value: &Value) -> Result<Expr> {
        let d = self.d;
        let (kind, operand) = match value {
            Value::Int(i) => ("number", i.to_string()),
            Value::Float(f) => ("number", f.to_string()),
            Value::Text(s) => ("string", s.clone()),
            Value::Bool(b) => {
                if !matches!(op, CompareOp::Eq | CompareOp::Neq) {
                    return Err(Error::validation(
                        "/op",
                        "booleans in JSON only support eq and neq",
                    ));
                }
                ("boolean", b.to_string())
            }
            other => {
                return Err(Error::validation(
                    "/value",
                    format!("cannot compare a JSON value with {}", other.kind_name()),
                ));
            }
        };
        let operand = self.param(operand);
        let opsym = op_symbol(op);
        match d {
            Dialect::Postgres => {
                let keys: Vec<Expr> = path.iter().map(|k| self.param(k.clone())).collect();
                let marks = vec!["{}"; keys.len()].join(", ");
                let mut args = vec![col.clone()];
                args.extend(keys.iter().cloned());
                args.push(col);
                args.extend(keys);
                args.push(operand);
                let (ty, extract, rhs) = match kind {
                    "number" => (
                        "number",
                        "CAST(jsonb_extract_path_text(CAST({} AS jsonb), KEYS) AS numeric)",
                        "CAST({} AS numeric)",
                    ),
                    "string" => (
                        "string",
                        "jsonb_extract_path_text(CAST({} AS jsonb), KEYS)",
                        "{}",
                    ),
                    _ => (
                        "boolean",
                        "jsonb_extract_path_text(CAST({} AS jsonb), KEYS)",
                        "{}",
                    ),
                };
                let tpl = format!(
                    "CASE WHEN jsonb_typeof(jsonb_extract_path(CAST({{}} AS jsonb), KEYS)) = '{ty}' THEN {extract} END {opsym} {rhs}"
                )
                .replace("KEYS", &marks);
                Ok(self.custom(&tpl, args))
            }
            Dialect::Mysql | Dialect::Sqlite => {
                if d == Dialect::Sqlite && path.iter().any(|k| k.contains(['"', '\\'])) {
                    return Err(d.unsupported("JSON path keys containing a quote or backslash"));
                }
                let jp = json_path_text(path);
                let p = || self.param(jp.clone());
                let (tpl, args) = match (d, kind) {
                    (Dialect::Mysql, "number") => (
                        format!(
                            "CASE WHEN JSON_TYPE(JSON_EXTRACT({{}}, {{}})) IN ('INTEGER', 'UNSIGNED INTEGER', 'DOUBLE', 'DECIMAL') THEN CAST(JSON_UNQUOTE(JSON_EXTRACT({{}}, {{}})) AS DECIMAL(65,30)) END {opsym} CAST({{}} AS DECIMAL(65,30))"
                        ),
                        vec![col.clone(), p(), col, p(), operand],
                    ),
                    (Dialect::Mysql, "string") => (
                        format!(
                            "CASE WHEN JSON_TYPE(JSON_EXTRACT({{}}, {{}})) = 'STRING' THEN JSON_UNQUOTE(JSON_EXTRACT({{}}, {{}})) END {opsym} {{}}"
                        ),
                        vec![col.clone(), p(), col, p(), operand],
                    ),
                    (Dialect::Mysql, _) => (
                        format!(
                            "CASE WHEN JSON_TYPE(JSON_EXTRACT({{}}, {{}})) = 'BOOLEAN' THEN JSON_UNQUOTE(JSON_EXTRACT({{}}, {{}})) END {opsym} {{}}"
                        ),
                        vec![col.clone(), p(), col, p(), operand],
                    ),
                    (_, "number") => (
                        format!(
                            "CASE WHEN json_type({{}}, {{}}) IN ('integer', 'real') THEN json_extract({{}}, {{}}) END {opsym} CAST({{}} AS REAL)"
                        ),
                        vec![col.clone(), p(), col, p(), operand],
                    ),
                    (_, "string") => (
                        format!(
                            "CASE WHEN json_type({{}}, {{}}) = 'text' THEN json_extract({{}}, {{}}) END {opsym} {{}}"
                        ),
                        vec![col.clone(), p(), col, p(), operand],
                    ),
                    _ => (
                        format!(
                            "CASE WHEN json_type({{}}, {{}}) IN ('true', 'false') THEN json_type({{}}, {{}}) END {opsym} {{}}"
                        ),
                        vec![col.clone(), p(), col, p(), operand],
                    ),
                };
                Ok(self.custom(&tpl, args))
            }
        }
    }

    fn exists(
        &self,
        scope: &Scope<'a>,
        relation: &str,
        filter: Option<&Filter>,
    ) -> Result<SelectStatement> {
        let rel = scope.entity.relation(relation)?;
        let target = self.target.schema.entity(&rel.target)?;
        let lengths_ok = rel.from_fields.len() == rel.to_fields.len()
            && match &rel.kind {
                RelationKind::ManyToMany { through } => {
                    through.source_fields.len() == rel.from_fields.len()
                        && through.target_fields.len() == rel.to_fields.len()
                }
                _ => true,
            };
        if !lengths_ok || rel.from_fields.is_empty() {
            return Err(Error::validation(
                "",
                format!("relation `{relation}` has mismatched field lists"),
            ));
        }
        let depth = scope.depth + 1;
        let alias = self.fresh_alias("r", depth);
        let inner = Scope {
            entity: target,
            alias: Some(alias.clone()),
            depth,
            qualify: true,
        };
        let mut sel = SelectStatement::new();
        sel.expr(Expr::cust("1"));
        match &rel.kind {
            RelationKind::ManyToMany { through } => {
                let junction = self.target.schema.entity(&through.entity)?;
                let jalias = self.fresh_alias("j", depth);
                let jscope = Scope {
                    entity: junction,
                    alias: Some(jalias.clone()),
                    depth,
                    qualify: true,
                };
                let mut on = Condition::all();
                for (jf, tf) in through.target_fields.iter().zip(&rel.to_fields) {
                    on = on.add(
                        jscope
                            .col(junction.field(jf)?)
                            .eq(col_ref(&inner, target.field(tf)?)),
                    );
                }
                sel.from(table_ref_as(junction, &jalias));
                sel.inner_join(table_ref_as(target, &alias), on);
                for (jf, sf) in through.source_fields.iter().zip(&rel.from_fields) {
                    sel.and_where(
                        jscope
                            .col(junction.field(jf)?)
                            .eq(col_ref(scope, scope.entity.field(sf)?)),
                    );
                }
            }
            _ => {
                sel.from(table_ref_as(target, &alias));
                for (from, to) in rel.from_fields.iter().zip(&rel.to_fields) {
                    sel.and_where(
                        inner
                            .col(target.field(to)?)
                            .eq(col_ref(scope, scope.entity.field(from)?)),
                    );
                }
            }
        }
        if let Some(f) = filter {
            sel.cond_where(self.cond(f, &inner)?);
        }
        Ok(sel)
    }

    /// An alias that cannot collide with a table name of the schema.
    fn fresh_alias(&self, prefix: &str, depth: usize) -> String {
        let mut a = format!("_{prefix}{depth}");
        while self
            .target
            .schema
            .entities
            .iter()
            .any(|e| e.source.table == a)
        {
            a.push('_');
        }
        a
    }

    fn where_clause(&self, filter: Option<&Filter>) -> Result<Option<Condition>> {
        filter
            .map(|f| self.cond(f, &Scope::root(self.entity(), needs_qualification(Some(f)))))
            .transpose()
    }

    /// Order keys with the primary key appended as tie-breaker.
    fn effective_order(&self, order: &[OrderBy]) -> Vec<OrderBy> {
        let mut out = order.to_vec();
        for k in &self.entity().primary_key {
            if !out.iter().any(|o| &o.field == k) {
                out.push(OrderBy::asc(k.clone()));
            }
        }
        out
    }

    fn keyset(&self, order: &[OrderBy], after: &[Value]) -> Result<Condition> {
        let scope = Scope::root(self.entity(), false);
        let mut any = Condition::any();
        for i in 0..order.len() {
            let mut all = Condition::all();
            for j in 0..i {
                let f = self.entity().field(&order[j].field)?;
                all = all.add(scope.col(f).eq(self.bind_field(f, &after[j])?));
            }
            let f = self.entity().field(&order[i].field)?;
            let v = self.bind_field(f, &after[i])?;
            all = all.add(match order[i].direction {
                Direction::Asc => scope.col(f).gt(v),
                Direction::Desc => scope.col(f).lt(v),
            });
            any = any.add(all);
        }
        Ok(any)
    }
}

/// A PostgreSQL array literal (`{"a","b",NULL}`) of already-typed items.
fn pg_array_literal(items: &[Value], item_ty: &FieldType) -> Result<String> {
    let mut out = String::from("{");
    for (i, v) in items.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        let v = v
            .coerce(item_ty)
            .map_err(|m| Error::validation("", format!("array item {i}: {m}")))?;
        let text = match &v {
            Value::Null => {
                out.push_str("NULL");
                continue;
            }
            Value::Bytes(b) => {
                let mut h = String::from("\\x");
                for byte in b {
                    h.push_str(&format!("{byte:02x}"));
                }
                h
            }
            other => match other.to_json() {
                serde_json::Value::String(s) => s,
                j => j.to_string(),
            },
        };
        out.push('"');
        for c in text.chars() {
            if c == '"' || c == '\\' {
                out.push('\\');
            }
            out.push(c);
        }
        out.push('"');
    }
    out.push('}');
    Ok(out)
}

/// Whether a filter has subqueries (`exists`) that reference the outer row.
fn needs_qualification(f: Option<&Filter>) -> bool {
    match f {
        None => false,
        Some(Filter::Exists { .. }) => true,
        Some(Filter::And { filters } | Filter::Or { filters }) => {
            filters.iter().any(|g| needs_qualification(Some(g)))
        }
        Some(Filter::Not { filter }) => needs_qualification(Some(filter)),
        Some(_) => false,
    }
}

fn col_ref(scope: &Scope<'_>, field: &Field) -> Expr {
    scope.col(field)
}

fn raw_is_null(v: &SqValue) -> bool {
    matches!(v, SqValue::String(None))
}

fn is_chrono(v: &SqValue) -> bool {
    matches!(
        v,
        SqValue::ChronoDate(_)
            | SqValue::ChronoTime(_)
            | SqValue::ChronoDateTime(_)
            | SqValue::ChronoDateTimeUtc(_)
    )
}

fn always(b: bool) -> Condition {
    Condition::all().add(Expr::cust(if b { "1 = 1" } else { "1 = 0" }))
}

fn op_symbol(op: CompareOp) -> &'static str {
    match op {
        CompareOp::Eq => "=",
        CompareOp::Neq => "<>",
        CompareOp::Gt => ">",
        CompareOp::Gte => ">=",
        CompareOp::Lt => "<",
        CompareOp::Lte => "<=",
    }
}

fn compare(col: Expr, op: CompareOp, v: Expr) -> Expr {
    match op {
        CompareOp::Eq => col.eq(v),
        CompareOp::Neq => col.ne(v),
        CompareOp::Gt => col.gt(v),
        CompareOp::Gte => col.gte(v),
        CompareOp::Lt => col.lt(v),
        CompareOp::Lte => col.lte(v),
    }
}

/// `$."a"."b"[0]` — keys quoted, digits as array indexes.
fn json_path_text(path: &[String]) -> String {
    let mut s = String::from("$");
    for k in path {
        if !k.is_empty() && k.len() < 10 && k.bytes().all(|b| b.is_ascii_digit()) {
            s.push('[');
            s.push_str(k);
            s.push(']');
        } else {
            s.push_str(".\"");
            for c in k.chars() {
                if c == '"' || c == '\\' {
                    s.push('\\');
                }
                s.push(c);
            }
            s.push('"');
        }
    }
    s
}

/// Translate a LIKE pattern (`%`, `_`, `\` escapes) to an equivalent GLOB pattern.
fn like_to_glob(p: &str) -> String {
    let mut out = String::with_capacity(p.len() + 4);
    let mut chars = p.chars();
    while let Some(c) = chars.next() {
        match c {
            '%' => out.push('*'),
            '_' => out.push('?'),
            '\\' => match chars.next() {
                Some(n) => push_glob_literal(&mut out, n),
                None => push_glob_literal(&mut out, '\\'),
            },
            other => push_glob_literal(&mut out, other),
        }
    }
    out
}

fn push_glob_literal(out: &mut String, c: char) {
    match c {
        '*' | '?' | '[' => {
            out.push('[');
            out.push(c);
            out.push(']');
        }
        other => out.push(other),
    }
}

fn sq_order(o: &OrderBy) -> (Order, NullOrdering) {
    (
        match o.direction {
            Direction::Asc => Order::Asc,
            Direction::Desc => Order::Desc,
        },
        match o.effective_nulls() {
            Nulls::First => NullOrdering::First,
            Nulls::Last => NullOrdering::Last,
        },
    )
}

fn select_fields<'e>(entity: &'e Entity, fields: &[String]) -> Result<Vec<&'e Field>> {
    if fields.is_empty() {
        Ok(entity.fields.iter().collect())
    } else {
        fields.iter().map(|f| entity.field(f)).collect()
    }
}

fn out_columns(fields: &[&Field]) -> Vec<OutColumn> {
    fields
        .iter()
        .map(|f| OutColumn {
            key: f.name.clone(),
            ty: f.ty.clone(),
        })
        .collect()
}

/// `SELECT` for a (flat) query: the selected fields (all when none are named),
/// the filter, the order (plus primary-key tie-breaker), offset or keyset page.
/// Embeds are not lowered here: [`baas_core::embed`] resolves them with
/// further batched selects (the generic adapter calls it before lowering).
pub fn select(d: Dialect, target: Target<'_>, q: &Query) -> Result<SelectPlan> {
    let l = Lower { d, target };
    let e = target.entity;
    let scope = Scope::root(e, needs_qualification(q.filter.as_ref()));
    let fields = select_fields(e, &q.select.fields)?;
    let mut sel = SelectStatement::new();
    for f in &fields {
        sel.expr(scope.col(f));
    }
    sel.from(table_ref(e));
    if let Some(c) = l.where_clause(q.filter.as_ref())? {
        sel.cond_where(c);
    }
    if let Some(after) = &q.page.after {
        if after.len() != q.order.len() {
            return Err(Error::validation(
                "/page/after",
                "the cursor must have one value per order key",
            ));
        }
        let pk = &e.primary_key;
        if pk.is_empty() || !pk.iter().all(|k| q.order.iter().any(|o| &o.field == k)) {
            return Err(Error::validation(
                "/order",
                "keyset pagination needs the order to include the primary key",
            ));
        }
        sel.cond_where(l.keyset(&q.order, after)?);
    }
    for o in l.effective_order(&q.order) {
        let f = e.field(&o.field)?;
        let (ord, nulls) = sq_order(&o);
        if f.nullable {
            sel.order_by_expr_with_nulls(scope.col(f), ord, nulls);
        } else {
            // No null placement to enforce; MySQL's `x IS NULL` emulation
            // would only stop an index from serving the order.
            sel.order_by_expr(scope.col(f), ord);
        }
    }
    if let Some(p) = &q.page.partition {
        // SELECT cols FROM (SELECT cols, ROW_NUMBER() OVER (PARTITION BY …
        // ORDER BY …) AS _baas_rn FROM … WHERE …) AS _baas_page
        // WHERE _baas_rn <= n ORDER BY …
        let mut window = sea_query::WindowStatement::new();
        for f in &p.fields {
            sea_query::OverStatement::add_partition_by(&mut window, scope.col(e.field(f)?));
        }
        for o in l.effective_order(&q.order) {
            let f = e.field(&o.field)?;
            let (ord, nulls) = sq_order(&o);
            if f.nullable {
                window.order_by_expr_with_nulls(scope.col(f), ord, nulls);
            } else {
                window.order_by_expr(scope.col(f), ord);
            }
        }
        sel.clear_order_by();
        // The outer query orders by these: the inner one must carry them.
        for o in l.effective_order(&q.order) {
            let f = e.field(&o.field)?;
            if !fields.iter().any(|x| x.name == f.name) {
                sel.expr(scope.col(f));
            }
        }
        sel.expr_window_as(Expr::cust("ROW_NUMBER()"), window, Alias::new("_baas_rn"));
        let mut outer = SelectStatement::new();
        for f in &fields {
            outer.expr(Expr::col(Alias::new(f.column())));
        }
        outer.from_subquery(sel, Alias::new("_baas_page"));
        outer.and_where(Expr::col(Alias::new("_baas_rn")).lte(p.limit));
        for o in l.effective_order(&q.order) {
            let f = e.field(&o.field)?;
            let (ord, nulls) = sq_order(&o);
            let col = Expr::col(Alias::new(f.column()));
            if f.nullable {
                outer.order_by_expr_with_nulls(col, ord, nulls);
            } else {
                outer.order_by_expr(col, ord);
            }
        }
        page(d, &mut outer, q.page.limit, q.page.offset);
        return Ok(SelectPlan {
            statement: finish(d, &outer),
            columns: out_columns(&fields),
        });
    }
    page(d, &mut sel, q.page.limit, q.page.offset);
    Ok(SelectPlan {
        statement: finish(d, &sel),
        columns: out_columns(&fields),
    })
}

fn page(d: Dialect, sel: &mut SelectStatement, limit: Option<u64>, offset: Option<u64>) {
    match (limit, offset) {
        (Some(l), o) => {
            sel.limit(l);
            if let Some(o) = o.filter(|o| *o > 0) {
                sel.offset(o);
            }
        }
        (None, Some(o)) if o > 0 => {
            // MySQL and SQLite accept OFFSET only after a LIMIT.
            if d != Dialect::Postgres {
                sel.limit(i64::MAX as u64);
            }
            sel.offset(o);
        }
        _ => {}
    }
}

/// `SELECT COUNT(*)` over a filter. The single output column is `count` (int64).
pub fn count(d: Dialect, target: Target<'_>, filter: Option<&Filter>) -> Result<SelectPlan> {
    let l = Lower { d, target };
    let mut sel = SelectStatement::new();
    sel.expr(Expr::cust("COUNT(*)"));
    sel.from(table_ref(target.entity));
    if let Some(c) = l.where_clause(filter)? {
        sel.cond_where(c);
    }
    Ok(SelectPlan {
        statement: finish(d, &sel),
        columns: vec![OutColumn {
            key: "count".into(),
            ty: FieldType::Int64,
        }],
    })
}

/// A filter matching exactly the rows whose key fields equal those of `rows`
/// (used to re-read written rows where `RETURNING` is missing).
pub fn key_filter(entity: &Entity, keys: &[String], rows: &[Record]) -> Result<Filter> {
    if keys.is_empty() {
        return Err(Error::validation(
            "",
            format!("entity `{}` has no key to identify rows by", entity.name),
        ));
    }
    if keys.len() == 1 {
        let vals = rows
            .iter()
            .map(|r| {
                r.get(&keys[0])
                    .map(Value::from_json)
                    .ok_or_else(|| Error::validation("", format!("row without key `{}`", keys[0])))
            })
            .collect::<Result<Vec<_>>>()?;
        return Ok(Filter::In {
            field: keys[0].clone(),
            values: vals,
        });
    }
    let mut any = Vec::with_capacity(rows.len());
    for r in rows {
        let mut all = Vec::with_capacity(keys.len());
        for k in keys {
            let v = r
                .get(k)
                .map(Value::from_json)
                .ok_or_else(|| Error::validation("", format!("row without key `{k}`")))?;
            all.push(Filter::eq(k.clone(), v));
        }
        any.push(Filter::and(all));
    }
    Ok(Filter::or(any))
}

fn returning_clause(fields: &[&Field]) -> ReturningClause {
    sea_query::Returning::new().columns(fields.iter().map(|f| unqualified(f)))
}

/// Resolve a `returning` list: `Some(empty)` means every field.
fn returning_fields<'e>(e: &'e Entity, r: &Option<Vec<String>>) -> Result<Option<Vec<&'e Field>>> {
    r.as_ref().map(|names| select_fields(e, names)).transpose()
}

/// One `INSERT` statement and the input rows it writes.
#[derive(Debug, Clone, PartialEq)]
pub struct InsertBatch {
    /// The statement.
    pub statement: Statement,
    /// Indexes into `Insert::rows`, in `VALUES` order.
    pub rows: Vec<usize>,
    /// Whether the statement writes every primary-key field (otherwise the
    /// database generates the key).
    pub sets_key: bool,
}

/// `INSERT` statements for the rows (one per distinct set of written fields, in
/// order of first appearance, so no dialect needs `DEFAULT` in `VALUES`; each
/// batch says which input rows it carries so results can be put back in input
/// order). With `returning` set, PostgreSQL and SQLite get a `RETURNING`
/// clause; MySQL gets none (the adapter re-reads the rows in the same
/// transaction), and the returned columns describe the rows to decode either way.
pub fn insert(
    d: Dialect,
    target: Target<'_>,
    ins: &Insert,
    max_params: usize,
) -> Result<(Vec<InsertBatch>, Option<Vec<OutColumn>>)> {
    let l = Lower { d, target };
    let e = target.entity;
    if e.read_only {
        return Err(Error::Forbidden(format!(
            "entity `{}` is read-only",
            e.name
        )));
    }
    let ret = returning_fields(e, &ins.returning)?;
    // Group rows by their field set, keeping entity field order for columns.
    // Rows grouped by their written field set: (fields, [(input index, row)]).
    type Group<'r> = (Vec<&'r Field>, Vec<(usize, &'r Record)>);
    let mut groups: Vec<Group<'_>> = Vec::new();
    for (idx, r) in ins.rows.iter().enumerate() {
        for k in r.keys() {
            e.field(k)?;
        }
        let cols: Vec<&Field> = e
            .fields
            .iter()
            .filter(|f| r.contains_key(&f.name))
            .collect();
        match groups.iter_mut().find(|(c, _)| *c == cols) {
            Some((_, rows)) => rows.push((idx, r)),
            None => groups.push((cols, vec![(idx, r)])),
        }
    }
    let mut stmts = Vec::new();
    for (cols, rows) in groups {
        let per_row = cols.len().max(1);
        let chunk = (max_params / per_row).max(1);
        let sets_key = !e.primary_key.is_empty()
            && e.primary_key
                .iter()
                .all(|k| cols.iter().any(|f| &f.name == k));
        for rows in rows.chunks(chunk) {
            let indexes: Vec<usize> = rows.iter().map(|(i, _)| *i).collect();
            let mut st = sea_query::InsertStatement::new();
            st.into_table(table_ref(e));
            st.columns(cols.iter().map(|f| unqualified(f)));
            if cols.is_empty() {
                if d == Dialect::Mysql || rows.len() > 1 {
                    return Err(Error::validation(
                        "/rows",
                        "a row must set at least one field",
                    ));
                }
                st.or_default_values();
            }
            for (_, r) in rows {
                let vals = cols
                    .iter()
                    .map(|f| l.bind_write(f, &Value::from_json(&r[&f.name])))
                    .collect::<Result<Vec<_>>>()?;
                if !cols.is_empty() {
                    st.values(vals)
                        .map_err(|e| Error::validation("/rows", e.to_string()))?;
                }
            }
            if let Some(up) = &ins.on_conflict {
                let target_fields: Vec<&Field> = if up.target.is_empty() {
                    e.key_fields().collect()
                } else {
                    up.target
                        .iter()
                        .map(|f| e.field(f))
                        .collect::<Result<_>>()?
                };
                if target_fields.is_empty() {
                    return Err(Error::validation(
                        "/on_conflict/target",
                        "the entity has no primary key to upsert on",
                    ));
                }
                let tcols: Vec<DynIden> = target_fields.iter().map(|f| unqualified(f)).collect();
                let mut oc = SqOnConflict::columns(tcols.clone());
                let updatable: Vec<DynIden> = cols
                    .iter()
                    .filter(|f| !target_fields.iter().any(|t| t.name == f.name))
                    // The existing row keeps its primary key.
                    .filter(|f| !e.primary_key.contains(&f.name))
                    .map(|f| unqualified(f))
                    .collect();
                match (up.action, updatable.is_empty()) {
                    (OnConflict::Merge, false) => {
                        oc.update_columns(updatable);
                    }
                    // Nothing to merge, or ignore: keep the existing row.
                    _ => match d {
                        // `ON DUPLICATE KEY UPDATE k = k` is MySQL's no-op upsert
                        // (sea-query's `do_nothing` renders invalid SQL there).
                        Dialect::Mysql => {
                            oc.do_nothing_on(tcols);
                        }
                        _ => {
                            oc.do_nothing();
                        }
                    },
                }
                st.on_conflict(oc);
            }
            if let (Some(r), true) = (&ret, d != Dialect::Mysql) {
                st.returning(returning_clause(r));
            }
            stmts.push(InsertBatch {
                statement: finish(d, &st),
                rows: indexes,
                sets_key,
            });
        }
    }
    Ok((stmts, ret.map(|r| out_columns(&r))))
}

/// `UPDATE … SET … WHERE filter [RETURNING …]` (no `RETURNING` on MySQL).
pub fn update(
    d: Dialect,
    target: Target<'_>,
    upd: &Update,
) -> Result<(Statement, Option<Vec<OutColumn>>)> {
    let l = Lower { d, target };
    let e = target.entity;
    if e.read_only {
        return Err(Error::Forbidden(format!(
            "entity `{}` is read-only",
            e.name
        )));
    }
    if upd.set.is_empty() {
        return Err(Error::validation("/set", "nothing to update"));
    }
    let mut st = sea_query::UpdateStatement::new();
    st.table(table_ref(e));
    for f in &e.fields {
        if let Some(v) = upd.set.get(&f.name) {
            st.value(unqualified(f), l.bind_write(f, &Value::from_json(v))?);
        }
    }
    for k in upd.set.keys() {
        e.field(k)?;
    }
    if let Some(c) = l.where_clause(Some(&upd.filter))? {
        st.cond_where(c);
    }
    let ret = returning_fields(e, &upd.returning)?;
    if let (Some(r), true) = (&ret, d != Dialect::Mysql) {
        st.returning(returning_clause(r));
    }
    Ok((finish(d, &st), ret.map(|r| out_columns(&r))))
}

/// `DELETE … WHERE filter [RETURNING …]` (no `RETURNING` on MySQL).
pub fn delete(
    d: Dialect,
    target: Target<'_>,
    del: &Delete,
) -> Result<(Statement, Option<Vec<OutColumn>>)> {
    let l = Lower { d, target };
    let e = target.entity;
    if e.read_only {
        return Err(Error::Forbidden(format!(
            "entity `{}` is read-only",
            e.name
        )));
    }
    let mut st = sea_query::DeleteStatement::new();
    st.from_table(table_ref(e));
    if let Some(c) = l.where_clause(Some(&del.filter))? {
        st.cond_where(c);
    }
    let ret = returning_fields(e, &del.returning)?;
    if let (Some(r), true) = (&ret, d != Dialect::Mysql) {
        st.returning(returning_clause(r));
    }
    Ok((finish(d, &st), ret.map(|r| out_columns(&r))))
}

/// `SELECT <fields> … WHERE filter FOR UPDATE` on MySQL, used to emulate
/// `RETURNING` inside a transaction. Other dialects lock nothing.
pub fn select_for_update(
    d: Dialect,
    target: Target<'_>,
    fields: &[String],
    filter: &Filter,
) -> Result<SelectPlan> {
    let mut q = Query::new(target.entity.name.clone()).filter(filter.clone());
    q.select.fields = fields.to_vec();
    let mut plan = select(d, target, &q)?;
    if d == Dialect::Mysql {
        plan.statement.sql.push_str(" FOR UPDATE");
    }
    Ok(plan)
}

/// Result type of an aggregate over a field.
fn aggregate_type(func: &AggregateFn, field: Option<&Field>) -> FieldType {
    match (func, field) {
        (AggregateFn::Count | AggregateFn::CountDistinct { .. }, _) => FieldType::Int64,
        (AggregateFn::Avg { .. }, _) => FieldType::Float64,
        (AggregateFn::Sum { .. }, Some(f)) => match &f.ty {
            FieldType::Int16 | FieldType::Int32 | FieldType::Int64 => FieldType::Int64,
            FieldType::Float32 | FieldType::Float64 => FieldType::Float64,
            other => other.clone(),
        },
        (_, Some(f)) => f.ty.clone(),
        (_, None) => FieldType::Int64,
    }
}

/// Grouped aggregates: `SELECT g…, agg… FROM … WHERE … GROUP BY g… HAVING …`.
pub fn aggregate(d: Dialect, target: Target<'_>, a: &Aggregate) -> Result<SelectPlan> {
    let l = Lower { d, target };
    let e = target.entity;
    let scope = Scope::root(e, needs_qualification(a.filter.as_ref()));
    let mut sel = SelectStatement::new();
    let mut columns = Vec::new();
    let mut group_exprs = Vec::new();
    for g in &a.group_by {
        let f = e.field(g)?;
        sel.expr(scope.col(f));
        group_exprs.push(scope.col(f));
        columns.push(OutColumn {
            key: f.name.clone(),
            ty: f.ty.clone(),
        });
    }
    let mut agg_exprs = Vec::new();
    for (i, ag) in a.aggregates.iter().enumerate() {
        let field = ag.func.field().map(|f| e.field(f)).transpose()?;
        let col = field.map(|f| scope.col(f));
        let ex = match (&ag.func, col) {
            (AggregateFn::Count, _) => Expr::cust("COUNT(*)"),
            (AggregateFn::CountDistinct { .. }, Some(c)) => l.custom("COUNT(DISTINCT {})", vec![c]),
            (AggregateFn::Sum { .. }, Some(c)) => l.custom("SUM({})", vec![c]),
            (AggregateFn::Avg { .. }, Some(c)) => match d {
                Dialect::Postgres => l.custom("CAST(AVG({}) AS double precision)", vec![c]),
                Dialect::Mysql => l.custom("CAST(AVG({}) AS DOUBLE)", vec![c]),
                Dialect::Sqlite => l.custom("AVG({})", vec![c]),
            },
            (AggregateFn::Min { .. }, Some(c)) => l.custom("MIN({})", vec![c]),
            (AggregateFn::Max { .. }, Some(c)) => l.custom("MAX({})", vec![c]),
            _ => {
                return Err(Error::validation(
                    "/aggregates",
                    "aggregate without a field",
                ));
            }
        };
        // The user's alias never reaches SQL: columns are read by position.
        sel.expr_as(ex.clone(), Alias::new(format!("a{i}")));
        columns.push(OutColumn {
            key: ag.alias.clone(),
            ty: aggregate_type(&ag.func, field),
        });
        agg_exprs.push((ag.alias.clone(), ex, field));
    }
    sel.from(table_ref(e));
    if let Some(c) = l.where_clause(a.filter.as_ref())? {
        sel.cond_where(c);
    }
    for g in group_exprs {
        sel.add_group_by([g]);
    }
    for h in &a.having {
        let (_, ex, field) = agg_exprs
            .iter()
            .find(|(alias, _, _)| alias == &h.alias)
            .ok_or_else(|| {
                Error::validation("/having", format!("unknown aggregate `{}`", h.alias))
            })?;
        let ag = a
            .aggregates
            .iter()
            .find(|ag| ag.alias == h.alias)
            .map(|ag| &ag.func);
        let ty = ag
            .map(|f| aggregate_type(f, *field))
            .unwrap_or(FieldType::Int64);
        let v = h
            .value
            .coerce(&ty)
            .map_err(|m| Error::validation("/having", m))?;
        sel.and_having(compare(ex.clone(), h.op, l.bind(&ty, &v)?));
    }
    for o in &a.order {
        let (ord, nulls) = sq_order(o);
        let ex = if let Some((_, ex, _)) = agg_exprs.iter().find(|(alias, _, _)| alias == &o.field)
        {
            ex.clone()
        } else {
            scope.col(e.field(&o.field)?)
        };
        sel.order_by_expr_with_nulls(ex, ord, nulls);
    }
    if let Some(limit) = a.limit {
        sel.limit(limit);
    }
    Ok(SelectPlan {
        statement: finish(d, &sel),
        columns,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn glob_translation_escapes_metacharacters() {
        assert_eq!(like_to_glob("A%"), "A*");
        assert_eq!(like_to_glob("a_c"), "a?c");
        assert_eq!(like_to_glob("100\\%"), "100%");
        assert_eq!(like_to_glob("what?*[x"), "what[?][*][[]x");
    }

    #[test]
    fn pg_array_literals_quote_items() {
        let t = FieldType::Text;
        let items = vec![Value::from("a\"b"), Value::Null, Value::from("c\\d,{}")];
        assert_eq!(
            pg_array_literal(&items, &t).unwrap(),
            r#"{"a\"b",NULL,"c\\d,{}"}"#
        );
        assert_eq!(pg_array_literal(&[], &t).unwrap(), "{}");
    }

    #[test]
    fn json_paths_quote_keys() {
        assert_eq!(json_path_text(&["a".into(), "0".into()]), "$.\"a\"[0]");
        assert_eq!(json_path_text(&["we\"ird".into()]), "$.\"we\\\"ird\"");
    }
}
