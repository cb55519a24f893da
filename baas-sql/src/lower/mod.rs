//! IR → SQL lowering, shared by every dialect.
//!
//! - [`values`]: binding a value of a field's type (coercion, typed nulls,
//!   the dialect's casts);
//! - [`filter`]: `WHERE` conditions (compare, `in`, `is`, `like`, full-text,
//!   arrays, JSON paths, `exists` subqueries);
//! - [`select`]: `SELECT` with order, offset or keyset page and per-parent
//!   partition, `COUNT(*)`, the `FOR UPDATE` re-read;
//! - [`write`]: `INSERT` batches with upserts, `UPDATE`, `DELETE`,
//!   `RETURNING`, the key filter that re-reads written rows;
//! - [`aggregate`]: grouped aggregates.
//!
//! Whatever differs between engines is asked of the dialect
//! ([`crate::dialect`]).

use baas_core::{Entity, Field, FieldType, Result, Target};
use sea_query::{
    Alias, ColumnName, ColumnRef, DynIden, Expr, SchemaName, SelectStatement, TableName, TableRef,
    Value as SqValue,
};

use crate::dialect::{AnyQuery, Dialect, SqlDialect};

mod aggregate;
mod filter;
mod select;
mod values;
mod write;

pub use aggregate::aggregate;
pub use select::{ProcedurePlan, count, matching, procedure_call, select, select_for_update};
pub use write::{InsertBatch, delete, insert, key_filter, update};

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
    /// Output columns, in select-list order: the row's own fields, then the
    /// columns of each joined embed.
    pub columns: Vec<OutColumn>,
    /// The embeds joined into the statement, in selection order: how to
    /// nest the columns after the row's own ([`SelectPlan::nest`]).
    pub joined: Vec<JoinedEmbed>,
}

/// A to-one embed joined into its parent's statement: in the decoded row,
/// one column telling whether a related row matched, then its fields, then
/// its own joined embeds, depth first.
#[derive(Debug, Clone, PartialEq)]
pub struct JoinedEmbed {
    /// Output key of the embed.
    pub key: String,
    /// Its output keys (fields' names, aliased casts' aliases), in
    /// column order.
    pub fields: Vec<String>,
    /// Its own joined embeds.
    pub embeds: Vec<JoinedEmbed>,
}

impl SelectPlan {
    /// A decoded row (keyed by [`OutColumn::key`], in column order) as the
    /// answer's row: the row's own fields as decoded, then each joined
    /// embed under its key, an object or `null` when no related row
    /// matched.
    pub fn nest(&self, row: crate::backend::Row) -> crate::backend::Row {
        if self.joined.is_empty() {
            return row;
        }
        let own = self.columns.len() - joined_width(&self.joined);
        let mut out = crate::backend::Row::with_capacity(own + self.joined.len());
        let mut cells = row.into_iter();
        for (k, v) in cells.by_ref().take(own) {
            out.insert(k, v);
        }
        for e in &self.joined {
            let v = nest_embed(&mut cells, e);
            out.insert(e.key.clone(), v);
        }
        out
    }
}

fn joined_width(embeds: &[JoinedEmbed]) -> usize {
    embeds
        .iter()
        .map(|e| 1 + e.fields.len() + joined_width(&e.embeds))
        .sum()
}

fn nest_embed(
    cells: &mut impl Iterator<Item = (String, serde_json::Value)>,
    e: &JoinedEmbed,
) -> serde_json::Value {
    let present = cells.next().is_some_and(|(_, v)| !v.is_null());
    let mut obj = crate::backend::Row::with_capacity(e.fields.len() + e.embeds.len());
    for name in &e.fields {
        let v = cells.next().map(|(_, v)| v).unwrap_or_default();
        if present {
            obj.insert(name.clone(), v);
        }
    }
    for sub in &e.embeds {
        let v = nest_embed(cells, sub);
        if present {
            obj.insert(sub.key.clone(), v);
        }
    }
    if present {
        serde_json::Value::Object(obj)
    } else {
        serde_json::Value::Null
    }
}

/// Render a statement for the dialect.
fn finish(sql: &dyn SqlDialect, stmt: AnyQuery<'_>) -> Statement {
    let (sql, values) = sql.build(stmt);
    Statement {
        sql,
        params: values.0,
    }
}

/// Whether a field of a type without a mapping ([`Field::db_type`]) is
/// compared and sorted in its own type (its operand cast to it): every such
/// type but arrays, PostGIS types and the types PostgreSQL has no ordering
/// of (`xml`, the geometric types), which compare as their text.
fn compares_natively(field: &Field) -> bool {
    const TEXT_ONLY: [&str; 10] = [
        "xml",
        "point",
        "line",
        "lseg",
        "box",
        "path",
        "polygon",
        "circle",
        "geography",
        "geometry",
    ];
    match field.db_type.as_deref() {
        Some(t) => {
            let base = t.rsplit('.').next().unwrap_or(t);
            !field.is_geometry()
                && !field.is_composite()
                && !t.ends_with("[]")
                && !TEXT_ONLY.contains(&base)
        }
        None => false,
    }
}

/// An identifier (owned, so sea-query escapes quote characters inside it).
pub(crate) fn iden(s: &str) -> DynIden {
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
    /// The column holding each row whole, where the rows are no table's
    /// nor a function's own: a computed relationship's lateral call
    /// ([`ROW_COLUMN`]), whose row also carries its owner's keys. A
    /// computed field of the rows is called with it.
    row: Option<&'static str>,
}

/// The column of a computed relationship's rows that holds each row
/// whole, in the type the function returns ([`Scope::row`]).
const ROW_COLUMN: &str = "__baas_row";

impl<'a> Scope<'a> {
    /// The statement's own table; columns are qualified only if `qualify`.
    fn root(entity: &'a Entity, qualify: bool) -> Self {
        Self {
            entity,
            alias: None,
            depth: 0,
            qualify,
            row: None,
        }
    }

    fn table_name(&self) -> TableName {
        match &self.alias {
            Some(a) => TableName(None, iden(a)),
            None => table_name(self.entity),
        }
    }

    /// The field's value: the column, or its text form for a field of a
    /// type without a mapping ([`Field::db_type`]).
    fn col(&self, field: &Field) -> Expr {
        let raw = self.raw_col(field);
        match field.db_type.as_deref() {
            // PostGIS's own cast: the GeoJSON geometry.
            Some(_) if field.is_geometry() => Expr::cust_with_expr("CAST($1 AS jsonb)", raw),
            // A composite's object (arrays of them: objects), as
            // PostgREST's JSON of the row writes it.
            Some(_) if field.is_composite() => Expr::cust_with_expr("to_json($1)", raw),
            // Each element's output, as PostgreSQL's JSON writes it (the
            // array's text, read again as text elements): the text cast
            // of an element can differ (`inet`'s adds the mask).
            Some(t) if t.ends_with("[]") => {
                Expr::cust_with_expr("CAST(CAST($1 AS text) AS text[])", raw)
            }
            // `inet`'s text cast always adds the mask (`10.0.0.2/32`);
            // its output, as PostgreSQL's JSON (so PostgREST) writes it,
            // leaves out a whole one: `abbrev`.
            Some("inet") => Expr::cust_with_expr("abbrev($1)", raw),
            Some(_) => Expr::cust_with_expr("CAST($1 AS text)", raw),
            None => raw,
        }
    }

    /// The field as compared and sorted: the column itself for a field of
    /// a type without a mapping that PostgreSQL compares in its own type
    /// ([`compares_natively`]: a range, `interval`, `inet`, `money`,
    /// `citext`…), so that equality and order are the type's; otherwise
    /// [`col`](Self::col).
    fn compared_col(&self, field: &Field) -> Expr {
        if compares_natively(field) {
            self.raw_col(field)
        } else {
            self.col(field)
        }
    }

    /// The column itself; for a computed field, its function called with
    /// the row: `"schema"."fn"("table".*)` (PostgreSQL, the only engine
    /// with [`Capabilities::computed_fields`](baas_core::Capabilities)).
    /// The column as a JSON document for a path into it: a JSON field's
    /// column, or an array field's as JSON (`to_jsonb`: arrays are
    /// PostgreSQL's only among the SQL engines), as PostgREST steps into
    /// arrays (`arr->0`).
    fn json_col(&self, field: &Field) -> Expr {
        match field.ty {
            baas_core::FieldType::Array { .. } => {
                Expr::cust_with_expr("to_jsonb($1)", self.col(field))
            }
            _ => self.col(field),
        }
    }

    fn raw_col(&self, field: &Field) -> Expr {
        if let Some(function) = &field.computed {
            return Expr::cust(self.row_call(function));
        }
        let table = self.qualify.then(|| self.table_name());
        Expr::col(ColumnRef::Column(ColumnName(table, iden(field.column()))))
    }

    /// A function called with this scope's row: `"schema"."fn"("table".*)`
    /// (computed fields and relationships, PostgreSQL).
    fn row_call(&self, function: &baas_core::metadata::Source) -> String {
        let (name, row) = self.row_call_parts(function);
        format!("{name}({row})")
    }

    /// The quoted function name (`"schema"."fn"`) and the row argument
    /// (`"table".*`, or the alias's) of [`row_call`](Self::row_call).
    fn row_call_parts(&self, function: &baas_core::metadata::Source) -> (String, String) {
        let quote = crate::dialect::postgres::quote;
        let mut name = String::new();
        if let Some(s) = &function.schema {
            name.push_str(&quote(s));
            name.push('.');
        }
        name.push_str(&quote(&function.table));
        let mut row = String::new();
        match &self.alias {
            Some(a) if self.row.is_some() => {
                row.push_str(&quote(a));
                row.push('.');
                row.push_str(&quote(self.row.unwrap_or_default()));
                return (name, row);
            }
            Some(a) => row.push_str(&quote(a)),
            None => {
                if let Some(s) = &self.entity.source.schema {
                    row.push_str(&quote(s));
                    row.push('.');
                }
                row.push_str(&quote(&self.entity.source.table));
            }
        }
        row.push_str(".*");
        (name, row)
    }
}

/// The entity's (schema-qualified) table name.
pub(crate) fn table_name(e: &Entity) -> TableName {
    TableName(
        e.source
            .schema
            .as_deref()
            .map(|s| SchemaName(None, iden(s))),
        iden(&e.source.table),
    )
}

/// The entity's table, for `FROM` / `INTO` / `ALTER TABLE`.
pub(crate) fn table_ref(e: &Entity) -> TableRef {
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
    sql: &'static dyn SqlDialect,
    target: Target<'a>,
}

impl<'a> Lower<'a> {
    fn new(d: Dialect, target: Target<'a>) -> Self {
        Self {
            sql: d.sql(),
            target,
        }
    }

    fn entity(&self) -> &'a Entity {
        self.target.entity
    }

    /// The scope of the statement's own rows: the table, or the alias of
    /// the function call they come from.
    fn root_scope(&self, qualify: bool) -> Scope<'a> {
        let mut scope = Scope::root(self.entity(), qualify);
        if let Some(call) = self.target.call {
            scope.alias = Some(self.entity().source.table.clone());
            scope.row = call.row_of.is_some().then_some(ROW_COLUMN);
        }
        scope
    }

    /// What the statement reads from: the entity's table, or
    /// `schema.fn(p1 => $1, …) AS fn` for a function call (arguments by
    /// name, each bound with its parameter's type). A `void` call reads
    /// `(SELECT CAST(NULL AS text) AS fn FROM schema.fn(…) AS _baas_call) AS fn`.
    fn root_source(&self) -> Result<TableRef> {
        let e = self.entity();
        let Some(call) = self.target.call else {
            return Ok(table_ref(e));
        };
        match self.sql.call_form() {
            None => return Err(self.sql.unsupported("functions (`/rpc`)")),
            Some(crate::dialect::CallForm::Positional) => return self.positional_call(call),
            Some(crate::dialect::CallForm::Named) => {}
        }
        // Arguments by name.
        let quote = crate::dialect::postgres::quote;
        let name = match &call.source.schema {
            Some(schema) => format!("{}.{}", quote(schema), quote(&call.source.table)),
            None => quote(&call.source.table),
        };
        if let Some(row) = &call.row_of {
            return self.lateral_call(&name, row);
        }
        let mut func = sea_query::Func::cust(iden(&name));
        for a in &call.args {
            if a.name.contains('$') {
                return Err(self
                    .sql
                    .unsupported("a function parameter whose name contains `$`"));
            }
            let mut value = self.bind(&a.ty, &a.value)?;
            match &a.db_type {
                // A table's row from a JSON object, as PostgREST's
                // `json_to_recordset` fills a row-typed column.
                Some(t) if a.row => {
                    if !baas_core::function::is_type_name(t) {
                        return Err(self.sql.unsupported("this function call"));
                    }
                    value = Expr::cust_with_expr(
                        format!("json_populate_record(CAST(NULL AS {t}), CAST($1 AS json))"),
                        value,
                    );
                }
                Some(t) => value = values::cast_to(value, t, &a.name)?,
                None => {}
            }
            // An unnamed parameter (the only one) by position.
            if a.name.is_empty() {
                func = func.arg(value);
                continue;
            }
            // `VARIADIC v => array`: the array is the variadic values.
            let variadic = if a.variadic { "VARIADIC " } else { "" };
            func = func.arg(Expr::cust_with_expr(
                format!("{variadic}{} => $1", quote(&a.name)),
                value,
            ));
        }
        let alias = iden(&e.source.table);
        if call.void {
            let mut inner = sea_query::SelectStatement::new();
            inner.expr_as(Expr::cust("CAST(NULL AS text)"), alias.clone());
            inner.from(TableRef::FunctionCall(func, iden("_baas_call")));
            return Ok(TableRef::SubQuery(Box::new(inner), alias));
        }
        Ok(TableRef::FunctionCall(func, alias))
    }

    /// A computed relationship's call: the function of every row of the
    /// owning table, each result row with the owner's key:
    /// `(SELECT _baas_p.k AS __baas_k0, _baas_r.*, _baas_r AS __baas_row
    /// FROM owner AS _baas_p, LATERAL "schema"."fn"(_baas_p.*) AS _baas_r)
    /// AS fn` (PostgreSQL), filtered by the keys outside, which PostgreSQL
    /// pushes down to `_baas_p`; the whole row is for computed fields of
    /// the rows ([`Scope::row`]). The aliases are unlikely column names:
    /// a bare alias names a column of that name first.
    fn lateral_call(&self, name: &str, row: &baas_core::function::RowOf) -> Result<TableRef> {
        let mut inner = sea_query::SelectStatement::new();
        for (field, out) in &row.keys {
            let f = row.entity.field(field)?;
            inner.expr_as(
                Expr::col(ColumnRef::Column(ColumnName(
                    Some(TableName(None, iden("_baas_p"))),
                    iden(f.column()),
                ))),
                iden(out),
            );
        }
        inner.expr(Expr::cust("\"_baas_r\".*"));
        inner.expr_as(Expr::cust("\"_baas_r\""), iden(ROW_COLUMN));
        inner.from(table_ref_as(&row.entity, "_baas_p"));
        let func = sea_query::Func::cust(iden(&format!("LATERAL {name}")))
            .arg(Expr::cust("\"_baas_p\".*"));
        // A function returning one row (not `SETOF`) answers a row of
        // nulls where it finds none: embedded as an object of nulls, as
        // PostgREST embeds it (a `SETOF` one answers no row: `null`).
        inner.from(TableRef::FunctionCall(func, iden("_baas_r")));
        Ok(TableRef::SubQuery(
            Box::new(inner),
            iden(&self.entity().source.table),
        ))
    }

    /// A stored function called by position (MySQL; scalar, no named
    /// arguments, no defaults): `(SELECT `fn`(?, …) AS `fn`) AS `fn``, the
    /// arguments bound in the parameters' order, converted by the server.
    fn positional_call(&self, call: &baas_core::function::Call) -> Result<TableRef> {
        if call.void {
            return Err(self.sql.unsupported("this function call"));
        }
        let mut func = self.positional_routine(call)?;
        for a in &call.args {
            func = func.arg(self.bind(&a.ty, &a.value)?);
        }
        let alias = iden(&self.entity().source.table);
        let mut inner = sea_query::SelectStatement::new();
        inner.expr_as(func, alias.clone());
        Ok(TableRef::SubQuery(Box::new(inner), alias))
    }

    /// `` `name`( `` of a routine of the current database called by
    /// position (MySQL/MariaDB stored functions and procedures), its
    /// arguments still to add; a routine of another schema is refused.
    fn positional_routine(
        &self,
        call: &baas_core::function::Call,
    ) -> Result<sea_query::FunctionCall> {
        if call.source.schema.is_some() {
            return Err(self.sql.unsupported("this function call"));
        }
        let name = format!("`{}`", call.source.table.replace('`', "``"));
        Ok(sea_query::Func::cust(iden(&name)))
    }
}

/// A plain (untyped-by-field) parameter.
fn param(v: impl Into<SqValue>) -> Expr {
    Expr::val(v.into())
}

/// The named fields of an entity (all when none are named).
fn select_fields<'e>(entity: &'e Entity, fields: &[String]) -> Result<Vec<&'e Field>> {
    if fields.is_empty() {
        Ok(entity.star_fields().collect())
    } else {
        fields.iter().map(|f| entity.field(f)).collect()
    }
}

/// Select `fields` read in `scope` into `sel`, returning their output
/// columns: each column, or its text form through the database's cast for
/// a field of `casts` without an alias
/// ([`Selection::casts`](baas_core::ir::Selection::casts)); then the casts
/// with one, each a column of its own under its alias. A cast's column is
/// named `_baas_c{i}` in SQL (PostgreSQL names `CAST(id AS …)` `id`, and
/// `ORDER BY id` must name the table's column).
fn field_columns(
    sql: &dyn SqlDialect,
    scope: &Scope<'_>,
    fields: &[&Field],
    casts: &[baas_core::ir::FieldCast],
    sel: &mut SelectStatement,
) -> Result<Vec<OutColumn>> {
    let mut out = Vec::with_capacity(fields.len() + casts.len());
    let cast = |c: &baas_core::ir::FieldCast, f: &Field| -> Result<Expr> {
        // The text at a path (`->>`'s) is what the path's cast reads.
        let of = if c.path.is_empty() {
            scope.raw_col(f)
        } else {
            sql.json_text_at(scope.json_col(f), &c.path)?
        };
        sql.cast_json(of, &c.to)
    };
    let json = |key: &str| OutColumn {
        key: key.to_string(),
        ty: FieldType::Json,
    };
    for f in fields {
        match casts
            .iter()
            .find(|c| c.alias.is_none() && c.field == f.name)
        {
            Some(c) => {
                sel.expr_as(cast(c, f)?, Alias::new(format!("_baas_c{}", out.len())));
                out.push(json(&f.name));
            }
            None => {
                sel.expr(scope.col(f));
                out.push(OutColumn {
                    key: f.name.clone(),
                    ty: f.ty.clone(),
                });
            }
        }
    }
    for c in casts {
        if let Some(alias) = &c.alias {
            let f = scope.entity.field(&c.field)?;
            sel.expr_as(cast(c, f)?, Alias::new(format!("_baas_c{}", out.len())));
            out.push(json(alias));
        }
    }
    Ok(out)
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
