//! Writes: `INSERT` batches (with upserts), `UPDATE`, `DELETE`, their
//! `RETURNING` clause, and the key filter that re-reads written rows where
//! the dialect has no `RETURNING`.

use baas_core::ir::{Delete, Filter, Insert, OnConflict, Record, Update};
use baas_core::{Entity, Error, Field, Result, Target, TypedRecord, Value};
use sea_query::{DynIden, OnConflict as SqOnConflict, ReturningClause};

use super::{
    Lower, OutColumn, Statement, finish, out_columns, select_fields, table_ref, unqualified,
};
use crate::dialect::{AnyQuery, Dialect};

/// A filter matching exactly the rows whose key fields equal those of `rows`
/// (used to re-read written rows where `RETURNING` is missing). The key
/// values come from rows (JSON): each is converted to its field's type here.
pub fn key_filter(entity: &Entity, keys: &[String], rows: &[Record]) -> Result<Filter> {
    if keys.is_empty() {
        return Err(Error::validation(
            "",
            format!("entity `{}` has no key to identify rows by", entity.name),
        ));
    }
    let typed = |r: &Record, k: &str| -> Result<Value> {
        let f = entity.field(k)?;
        let v = r
            .get(k)
            .ok_or_else(|| Error::validation("", format!("row without key `{k}`")))?;
        Value::from_json(v)
            .coerce(&f.ty)
            .map_err(|m| Error::validation("", format!("`{k}`: {m}")))
    };
    if let [key] = keys {
        let vals = rows
            .iter()
            .map(|r| typed(r, key))
            .collect::<Result<Vec<_>>>()?;
        return Ok(Filter::In {
            field: key.clone(),
            values: vals,
        });
    }
    let mut any = Vec::with_capacity(rows.len());
    for r in rows {
        let mut all = Vec::with_capacity(keys.len());
        for k in keys {
            all.push(Filter::eq(k.clone(), typed(r, k)?));
        }
        any.push(Filter::and(all));
    }
    Ok(Filter::or(any))
}

fn returning_clause(e: &Entity, fields: &[&Field]) -> ReturningClause {
    // Read by position; a field without a type mapping comes back as text,
    // a computed field is its function of the written row.
    let scope = super::Scope::root(e, false);
    sea_query::Returning::new().exprs(fields.iter().map(|f| scope.col(f)))
}

/// Resolve a `returning` list: `Some(empty)` means every field.
fn returning_fields<'e>(e: &'e Entity, r: &Option<Vec<String>>) -> Result<Option<Vec<&'e Field>>> {
    r.as_ref().map(|names| select_fields(e, names)).transpose()
}

fn refuse_read_only(e: &Entity) -> Result<()> {
    if e.read_only {
        return Err(Error::Forbidden(format!(
            "entity `{}` is read-only",
            e.name
        )));
    }
    Ok(())
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
///
/// `rows` are `ins.rows` converted into their fields' types, one per row
/// (what [`baas_core::Checked::typed_rows`] holds): they are bound as given.
pub fn insert(
    d: Dialect,
    target: Target<'_>,
    ins: &Insert,
    rows: &[TypedRecord<'_>],
    max_params: usize,
) -> Result<(Vec<InsertBatch>, Option<Vec<OutColumn>>)> {
    let l = Lower::new(d, target);
    let sql = l.sql;
    let e = target.entity;
    refuse_read_only(e)?;
    let ret = returning_fields(e, &ins.returning)?;
    // Rows grouped by their written field set (entity field order for the
    // columns): (fields, [(input index, row)]).
    type Group<'r, 'a> = (Vec<&'r Field>, Vec<(usize, &'r TypedRecord<'a>)>);
    let mut groups: Vec<Group<'_, '_>> = Vec::new();
    if rows.len() != ins.rows.len() {
        return Err(Error::validation(
            "/rows",
            "every row needs its typed values (check the insert first)",
        ));
    }
    for (idx, r) in rows.iter().enumerate() {
        let cols: Vec<&Field> = e
            .fields
            .iter()
            .filter(|f| r.iter().any(|(g, _)| g.name == f.name))
            .collect();
        match groups.iter_mut().find(|(c, _)| *c == cols) {
            Some((_, rows)) => rows.push((idx, r)),
            None => groups.push((cols, vec![(idx, r)])),
        }
    }
    let mut stmts = Vec::new();
    for (cols, rows) in groups {
        let per_row = cols.len().max(1);
        // Rows that set nothing are one `DEFAULT VALUES` statement each.
        let chunk = if cols.is_empty() {
            1
        } else {
            (max_params / per_row).max(1)
        };
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
                if !sql.insert_default_values() || rows.len() > 1 {
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
                    .map(|f| {
                        let v = r
                            .iter()
                            .find(|(g, _)| g.name == f.name)
                            .map_or(&Value::Null, |(_, v)| v);
                        l.bind_write(f, v)
                    })
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
                // The row's fields, and those it resets to their defaults
                // (`EXCLUDED.col` of a column the insert omits is its
                // default), in the entity's order.
                let updatable: Vec<DynIden> = e
                    .fields
                    .iter()
                    .filter(|f| {
                        cols.iter().any(|c| c.name == f.name) || up.defaults.contains(&f.name)
                    })
                    .filter(|f| !target_fields.iter().any(|t| t.name == f.name))
                    // The existing row keeps its primary key.
                    .filter(|f| !e.primary_key.contains(&f.name))
                    .map(unqualified)
                    .collect();
                match (up.action, updatable.is_empty()) {
                    (OnConflict::Merge, false) => {
                        oc.update_columns(updatable);
                    }
                    // Nothing to merge: set the target to itself, a no-op
                    // update that keeps the row and, unlike `DO NOTHING`,
                    // returns it (as PostgREST does). Without `RETURNING`
                    // (MySQL) the written rows are re-read by key anyway,
                    // and its no-op (`k = k`) stays safe when another
                    // unique key is the one that conflicts.
                    (OnConflict::Merge, true) if sql.returning() => {
                        oc.update_columns(tcols);
                    }
                    // Ignore (or nothing to merge): keep the existing row.
                    _ => sql.on_conflict_keep(&mut oc, tcols),
                }
                st.on_conflict(oc);
            }
            if let (Some(r), true) = (&ret, sql.returning()) {
                st.returning(returning_clause(e, r));
            }
            stmts.push(InsertBatch {
                statement: finish(sql, AnyQuery::Insert(&st)),
                rows: indexes,
                sets_key,
            });
        }
    }
    Ok((stmts, ret.map(|r| out_columns(&r))))
}

/// `UPDATE … SET … WHERE filter [RETURNING …]` (no `RETURNING` on MySQL).
///
/// `set` is `upd.set` converted into the fields' types (what
/// [`baas_core::Checked::typed_set`] holds): bound as given.
pub fn update(
    d: Dialect,
    target: Target<'_>,
    upd: &Update,
    set: &[(&Field, Value)],
) -> Result<(Statement, Option<Vec<OutColumn>>)> {
    let l = Lower::new(d, target);
    let e = target.entity;
    refuse_read_only(e)?;
    if set.is_empty() {
        return Err(Error::validation("/set", "nothing to update"));
    }
    let mut st = sea_query::UpdateStatement::new();
    st.table(table_ref(e));
    for f in &e.fields {
        if let Some((_, v)) = set.iter().find(|(g, _)| g.name == f.name) {
            st.value(unqualified(f), l.bind_write(f, v)?);
        }
    }
    if let Some(c) = l.where_clause(Some(&upd.filter))? {
        st.cond_where(c);
    }
    let ret = returning_fields(e, &upd.returning)?;
    if let (Some(r), true) = (&ret, l.sql.returning()) {
        st.returning(returning_clause(e, r));
    }
    Ok((
        finish(l.sql, AnyQuery::Update(&st)),
        ret.map(|r| out_columns(&r)),
    ))
}

/// `DELETE … WHERE filter [RETURNING …]` (no `RETURNING` on MySQL).
pub fn delete(
    d: Dialect,
    target: Target<'_>,
    del: &Delete,
) -> Result<(Statement, Option<Vec<OutColumn>>)> {
    let l = Lower::new(d, target);
    let e = target.entity;
    refuse_read_only(e)?;
    let mut st = sea_query::DeleteStatement::new();
    st.from_table(table_ref(e));
    if let Some(c) = l.where_clause(Some(&del.filter))? {
        st.cond_where(c);
    }
    let ret = returning_fields(e, &del.returning)?;
    if let (Some(r), true) = (&ret, l.sql.returning()) {
        st.returning(returning_clause(e, r));
    }
    Ok((
        finish(l.sql, AnyQuery::Delete(&st)),
        ret.map(|r| out_columns(&r)),
    ))
}
