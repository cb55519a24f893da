//! Reads: `SELECT` with its order (primary key appended as tie-breaker),
//! offset or keyset page and per-parent partition; `COUNT(*)`; the locked
//! re-read that emulates `RETURNING`.

use baas_core::ir::{Direction, Embed, Filter, Nulls, OrderBy, Query};
use baas_core::{Error, FieldType, Result, Target, Value};
use sea_query::{Alias, Condition, Expr, ExprTrait, NullOrdering, Order, SelectStatement};

use super::filter::needs_qualification;
use super::{
    JoinedEmbed, Lower, OutColumn, Scope, SelectPlan, Statement, field_columns, finish,
    select_fields, table_ref_as,
};
use crate::dialect::{AnyQuery, Dialect, SqlDialect};

impl Lower<'_> {
    /// Order keys with the primary key appended as tie-breaker. A
    /// function's rows without an `order` come as the database answers
    /// them (the function's own order, `RETURN QUERY … ORDER BY`, as
    /// PostgREST answers them), except in pages per parent (`partition`:
    /// a window numbers them, which needs an order to be repeatable).
    fn effective_order(&self, order: &[OrderBy], partition: bool) -> Vec<OrderBy> {
        if order.is_empty() && self.target.call.is_some() && !partition {
            return Vec::new();
        }
        let mut out = order.to_vec();
        for k in &self.entity().primary_key {
            if !out
                .iter()
                .any(|o| &o.field == k && o.json.is_none() && o.related.is_none())
            {
                out.push(OrderBy::asc(k.clone()));
            }
        }
        out
    }

    /// Rows strictly after the cursor `after` in `order`.
    fn keyset(&self, order: &[OrderBy], after: &[Value], scope: &Scope<'_>) -> Result<Condition> {
        let mut any = Condition::any();
        for i in 0..order.len() {
            let mut all = Condition::all();
            for j in 0..i {
                let f = self.entity().field(&order[j].field)?;
                all = all.add(scope.compared_col(f).eq(self.bind_compared(f, &after[j])?));
            }
            let f = self.entity().field(&order[i].field)?;
            let v = self.bind_compared(f, &after[i])?;
            all = all.add(match order[i].direction {
                Direction::Asc => scope.compared_col(f).gt(v),
                Direction::Desc => scope.compared_col(f).lt(v),
            });
            any = any.add(all);
        }
        Ok(any)
    }
}

/// One expression a read sorts on.
struct SortKey<'e> {
    expr: Expr,
    ord: Order,
    nulls: NullOrdering,
    /// It can be NULL: its null placement is enforced.
    nullable: bool,
    /// The plain column it is, if so.
    column: Option<&'e str>,
}

impl SortKey<'_> {
    /// Order `target` by `expr` (this key, or its name in a subquery).
    fn order<T: sea_query::OrderedStatement>(&self, target: &mut T, expr: Expr) {
        if self.nullable {
            target.order_by_expr_with_nulls(expr, self.ord.clone(), self.nulls);
        } else {
            // No null placement to enforce; MySQL's `x IS NULL` emulation
            // would only stop an index from serving the order.
            target.order_by_expr(expr, self.ord.clone());
        }
    }
}

impl<'e> Lower<'e> {
    /// The expressions `order` (with the primary-key tie-breaker) sorts
    /// on: a field's column, the engine's keys for a value inside a JSON
    /// field ([`SqlDialect::json_order`]), or a column of a to-one related
    /// row (or a value inside it), `LEFT JOIN`ed into `sel` with its
    /// filter in the join condition (a row without a visible related row
    /// sorts as null). `partition`: the rows are paged per parent
    /// ([`effective_order`](Self::effective_order)).
    fn sort_keys(
        &self,
        order: &[OrderBy],
        partition: bool,
        scope: &Scope<'e>,
        sel: &mut SelectStatement,
    ) -> Result<Vec<SortKey<'e>>> {
        let mut keys = Vec::new();
        for (i, o) in self
            .effective_order(order, partition)
            .into_iter()
            .enumerate()
        {
            let (ord, nulls) = sq_order(&o);
            // The column sorted on: the row's field, or the to-one related
            // row's (null where none is visible).
            let (col, nullable, column) = if let Some(r) = &o.related {
                let rel = scope.entity.relation(&r.relation)?;
                if !rel.kind.is_to_one()
                    || (rel.function.is_none() && rel.from_fields.len() != rel.to_fields.len())
                {
                    return Err(self.sql.unsupported(&format!(
                        "ordering by the to-many relation `{}`",
                        r.relation
                    )));
                }
                let alias = self.fresh_alias(&format!("o{i}_"), scope.depth);
                let joined = self.left_join(sel, scope, rel, &alias, r.filter.as_deref())?;
                let f = joined.entity.field(&o.field)?;
                let col = if o.json.is_some() {
                    joined.json_col(f)
                } else {
                    joined.col(f)
                };
                (col, true, None)
            } else {
                let f = self.entity().field(&o.field)?;
                let col = if o.json.is_some() {
                    scope.json_col(f)
                } else {
                    scope.compared_col(f)
                };
                (col, f.nullable, Some(f.column()))
            };
            match &o.json {
                None => keys.push(SortKey {
                    expr: col,
                    ord,
                    nulls,
                    nullable,
                    column,
                }),
                // A value inside the JSON field (`data->a`, `rel(data->a)`).
                Some(j) => {
                    let exprs = self.sql.json_order(col, &j.path, j.text)?;
                    keys.extend(exprs.into_iter().map(|expr| SortKey {
                        expr,
                        ord: ord.clone(),
                        nulls,
                        nullable: true,
                        column: None,
                    }));
                }
            }
        }
        Ok(keys)
    }
}

impl<'a> Lower<'a> {
    /// `LEFT JOIN <target> AS alias ON <link to the parent> AND filter`
    /// for the to-one relation `rel` of `parent`: the scope of the joined
    /// row (its columns are null when no row matches).
    fn left_join(
        &self,
        sel: &mut SelectStatement,
        parent: &Scope<'a>,
        rel: &baas_core::Relation,
        alias: &str,
        filter: Option<&Filter>,
    ) -> Result<Scope<'a>> {
        let target = self.target.schema.entity(&rel.target)?;
        let joined = Scope {
            entity: target,
            alias: Some(alias.to_string()),
            depth: parent.depth,
            qualify: true,
            row: None,
        };
        if let Some(function) = &rel.function {
            // A to-one computed relationship: its function called with the
            // parent row, `LEFT JOIN LATERAL fn(parent.*) AS alias ON filter`.
            let (name, row) = parent.row_call_parts(function);
            let mut on = Condition::all().add(Expr::cust("TRUE"));
            if let Some(f) = filter {
                on = on.add(self.cond(f, &joined)?);
            }
            sel.left_join(
                sea_query::TableRef::FunctionCall(
                    sea_query::Func::cust(super::iden(&format!("LATERAL {name}")))
                        .arg(Expr::cust(row)),
                    super::iden(alias),
                ),
                on,
            );
            return Ok(joined);
        }
        let mut on = Condition::all();
        for (from, to) in rel.from_fields.iter().zip(&rel.to_fields) {
            on = on.add(
                joined
                    .col(target.field(to)?)
                    .eq(parent.col(parent.entity.field(from)?)),
            );
        }
        if let Some(f) = filter {
            on = on.add(self.cond(f, &joined)?);
        }
        sel.left_join(table_ref_as(target, alias), on);
        Ok(joined)
    }
}

/// sea-query's order and null placement of an order key.
pub(super) fn sq_order(o: &OrderBy) -> (Order, NullOrdering) {
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

impl<'a> Lower<'a> {
    /// `LEFT JOIN` a to-one embed (and its own to-one embeds) into `sel`:
    /// its related row must match the link and the embed's filter; its
    /// columns follow, first the link's first target column (never null
    /// when a row matched: it tells a missing row from a row of nulls), then
    /// its fields.
    fn join(
        &self,
        sel: &mut SelectStatement,
        parent: &Scope<'a>,
        embed: &Embed,
        columns: &mut Vec<OutColumn>,
        joins: &mut usize,
    ) -> Result<JoinedEmbed> {
        let rel = parent.entity.relation(&embed.relation)?;
        if !rel.kind.is_to_one() || rel.from_fields.len() != rel.to_fields.len() {
            return Err(self
                .sql
                .unsupported(&format!("joining the to-many embed `{}`", embed.relation)));
        }
        *joins += 1;
        let alias = self.fresh_alias("e", *joins);
        let scope = self.left_join(sel, parent, rel, &alias, embed.filter.as_ref())?;
        let target = scope.entity;
        let link = target.field(&rel.to_fields[0])?;
        sel.expr(scope.col(link));
        columns.push(OutColumn {
            key: joined_key(columns.len()),
            ty: link.ty.clone(),
        });
        let fields = select_fields(target, &embed.select.fields)?;
        let mut keys = Vec::with_capacity(fields.len());
        for c in field_columns(self.sql, &scope, &fields, &embed.select.casts, sel)? {
            keys.push(c.key);
            columns.push(OutColumn {
                key: joined_key(columns.len()),
                ty: c.ty,
            });
        }
        let mut embeds = Vec::with_capacity(embed.select.embeds.len());
        for e in &embed.select.embeds {
            embeds.push(self.join(sel, &scope, e, columns, joins)?);
        }
        Ok(JoinedEmbed {
            key: embed
                .alias
                .clone()
                .unwrap_or_else(|| embed.relation.clone()),
            fields: keys,
            embeds,
        })
    }
}

/// The internal key of a joined column (never a field name: they cannot
/// hold NUL), by its position.
fn joined_key(i: usize) -> String {
    format!("\u{0}{i}")
}

/// `SELECT` for a query: the selected fields (all when none are named),
/// the filter, the order (plus primary-key tie-breaker), offset or keyset
/// page. Embeds in the query are to-one embeds (with only to-one embeds
/// under them) and are joined into the same statement
/// ([`SelectPlan::joined`] says how to nest their columns); the read
/// orchestration ([`baas_core::read`]) sends only those, and batches every
/// other embed.
pub fn select(d: Dialect, target: Target<'_>, q: &Query) -> Result<SelectPlan> {
    let l = Lower::new(d, target);
    let e = target.entity;
    let joining = !q.select.embeds.is_empty();
    if joining && q.page.partition.is_some() {
        return Err(l.sql.unsupported("joined embeds in a per-parent page"));
    }
    let scope = l.root_scope(
        joining
            || needs_qualification(q.filter.as_ref())
            || q.order.iter().any(|o| o.related.is_some()),
    );
    let fields = select_fields(e, &q.select.fields)?;
    let mut sel = SelectStatement::new();
    let mut columns = Vec::with_capacity(fields.len());
    columns.extend(field_columns(
        l.sql,
        &scope,
        &fields,
        &q.select.casts,
        &mut sel,
    )?);
    sel.from(l.root_source()?);
    let mut joined = Vec::with_capacity(q.select.embeds.len());
    let mut joins = 0;
    for embed in &q.select.embeds {
        joined.push(l.join(&mut sel, &scope, embed, &mut columns, &mut joins)?);
    }
    if let Some(f) = &q.filter {
        sel.cond_where(l.cond(f, &scope)?);
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
        sel.cond_where(l.keyset(&q.order, after, &scope)?);
    }
    let keys = l.sort_keys(&q.order, q.page.partition.is_some(), &scope, &mut sel)?;
    for k in &keys {
        k.order(&mut sel, k.expr.clone());
    }
    if let Some(p) = &q.page.partition {
        // SELECT cols FROM (SELECT cols, ROW_NUMBER() OVER (PARTITION BY …
        // ORDER BY …) AS _baas_rn FROM … WHERE …) AS _baas_page
        // WHERE _baas_rn <= n ORDER BY …
        let mut window = sea_query::WindowStatement::new();
        for f in &p.fields {
            sea_query::OverStatement::add_partition_by(&mut window, scope.col(e.field(f)?));
        }
        for k in &keys {
            k.order(&mut window, k.expr.clone());
        }
        sel.clear_order_by();
        // The outer query orders by these: the inner one must carry them.
        let mut outer_keys = Vec::with_capacity(keys.len());
        for (i, k) in keys.iter().enumerate() {
            let name = match k.column {
                Some(c) if fields.iter().any(|x| x.column() == c) => c.to_string(),
                Some(c) => {
                    sel.expr(k.expr.clone());
                    c.to_string()
                }
                None => {
                    let a = format!("_baas_o{i}");
                    sel.expr_as(k.expr.clone(), Alias::new(a.clone()));
                    a
                }
            };
            outer_keys.push(name);
        }
        sel.expr_window_as(Expr::cust("ROW_NUMBER()"), window, Alias::new("_baas_rn"));
        let mut outer = SelectStatement::new();
        for f in &fields {
            outer.expr(Expr::col(Alias::new(f.column())));
        }
        outer.from_subquery(sel, Alias::new("_baas_page"));
        outer.and_where(Expr::col(Alias::new("_baas_rn")).lte(p.limit));
        for (k, name) in keys.iter().zip(outer_keys) {
            k.order(&mut outer, Expr::col(Alias::new(name)));
        }
        let mut statement = finish(l.sql, AnyQuery::Select(&outer));
        statement
            .sql
            .push_str(&page(l.sql, q.page.limit, q.page.offset));
        return Ok(SelectPlan {
            statement,
            columns,
            joined,
        });
    }
    let mut statement = finish(l.sql, AnyQuery::Select(&sel));
    statement
        .sql
        .push_str(&page(l.sql, q.page.limit, q.page.offset));
    Ok(SelectPlan {
        statement,
        columns,
        joined,
    })
}

/// The page as literal `LIMIT n OFFSET m` to append to the outermost
/// select (nothing follows it there). Literals, not parameters: PostgreSQL
/// plans a prepared statement whose limit is a parameter for an unknown
/// number of rows, so it keeps re-planning a joined page on every execution
/// (~0.3 ms); with the number in the text it reuses one plan. The numbers
/// are integers of the IR, never text from a request.
pub(super) fn page(sql: &dyn SqlDialect, limit: Option<u64>, offset: Option<u64>) -> String {
    match (limit, offset) {
        (Some(l), o) => match o.filter(|o| *o > 0) {
            Some(o) => format!(" LIMIT {l} OFFSET {o}"),
            None => format!(" LIMIT {l}"),
        },
        (None, Some(o)) if o > 0 => {
            if sql.offset_needs_limit() {
                format!(" LIMIT {} OFFSET {o}", i64::MAX)
            } else {
                format!(" OFFSET {o}")
            }
        }
        _ => String::new(),
    }
}

/// `SELECT {expr} FROM` the target's rows matching `filter`, rendered.
fn over_matching(
    d: Dialect,
    target: Target<'_>,
    filter: Option<&Filter>,
    expr: &'static str,
) -> Result<(Statement, &'static dyn SqlDialect)> {
    let l = Lower::new(d, target);
    let mut sel = SelectStatement::new();
    sel.expr(Expr::cust(expr));
    sel.from(l.root_source()?);
    if let Some(c) = l.where_clause(filter)? {
        sel.cond_where(c);
    }
    Ok((finish(l.sql, AnyQuery::Select(&sel)), l.sql))
}

/// `SELECT 1` of each row matching a filter, at most `cap` of them: what
/// [`count`] counts, and what a row estimate explains.
pub fn matching(
    d: Dialect,
    target: Target<'_>,
    filter: Option<&Filter>,
    cap: Option<u64>,
) -> Result<Statement> {
    let (mut statement, sql) = over_matching(d, target, filter, "1")?;
    statement.sql.push_str(&page(sql, cap, None));
    Ok(statement)
}

/// `SELECT COUNT(*)` over a filter, counting at most `cap` rows (the
/// matching rows' [`matching`] select, counted). The single output column
/// is `count` (int64).
pub fn count(
    d: Dialect,
    target: Target<'_>,
    filter: Option<&Filter>,
    cap: Option<u64>,
) -> Result<SelectPlan> {
    let statement = match cap {
        Some(_) => {
            let rows = matching(d, target, filter, cap)?;
            Statement {
                sql: format!("SELECT COUNT(*) FROM ({}) AS counted", rows.sql),
                params: rows.params,
            }
        }
        None => over_matching(d, target, filter, "COUNT(*)")?.0,
    };
    Ok(SelectPlan {
        statement,
        columns: vec![OutColumn {
            key: "count".into(),
            ty: FieldType::Int64,
        }],
        joined: Vec::new(),
    })
}

/// The statements of a procedure's call ([`procedure_call`]).
#[derive(Debug, Clone, PartialEq)]
pub struct ProcedurePlan {
    /// `SET @_baas_out0 = ?`, one per `INOUT` parameter: run first, on
    /// the call's connection.
    pub before: Vec<Statement>,
    /// `` CALL `proc`(?, @_baas_out0, …) ``.
    pub call: Statement,
    /// With `OUT` parameters: `SELECT @_baas_out0 AS b, …` (the variables
    /// the call set, on the same connection) and its columns, typed by the
    /// parameters' declared types.
    pub out: Option<(Statement, Vec<OutColumn>)>,
}

/// `` CALL `proc`(?, …) ``: the statement of a procedure's call
/// ([`Call::procedure`](baas_core::function::Call::procedure)), its
/// arguments bound by position and each `OUT` parameter a session
/// variable read right after, on an engine with procedures (MySQL and
/// MariaDB); its rows are a result set the backend reads as they come
/// ([`SqlBackend::call_procedure`](crate::SqlBackend::call_procedure)).
pub fn procedure_call(d: Dialect, target: Target<'_>) -> Result<ProcedurePlan> {
    let l = Lower::new(d, target);
    let (call, outs) = match target.call {
        Some(c) => match &c.procedure {
            Some(outs) => (c, outs),
            None => return Err(Error::validation("/", "not the call of a procedure")),
        },
        None => return Err(Error::validation("/", "not the call of a procedure")),
    };
    if l.sql.call_form() != Some(crate::dialect::CallForm::Positional) {
        return Err(l.sql.unsupported("procedures"));
    }
    let var = |i: usize| format!("@_baas_out{i}");
    let mut func = l.positional_routine(call)?;
    // A select list rendered as another statement (`CALL …`, `SET @v =
    // …`), its values bound as sea-query binds them.
    let rendered = |prefix: String, e: Expr| -> Result<Statement> {
        let mut sel = SelectStatement::new();
        sel.expr(e);
        let statement = finish(l.sql, AnyQuery::Select(&sel));
        let Some(list) = statement.sql.strip_prefix("SELECT ") else {
            return Err(l.sql.unsupported("procedures"));
        };
        Ok(Statement {
            sql: format!("{prefix}{list}"),
            params: statement.params,
        })
    };
    let mut args = call.args.iter();
    let mut next_arg = || {
        args.next().ok_or_else(|| {
            Error::validation("/", "the procedure's parameters and arguments disagree")
        })
    };
    let inouts = outs.iter().filter(|o| o.inout).count();
    let mut before = Vec::new();
    for position in 0..call.args.len() + outs.len() - inouts {
        match outs.iter().position(|o| o.position == position) {
            Some(i) => {
                if outs[i].inout {
                    let a = next_arg()?;
                    before.push(rendered(
                        format!("SET {} = ", var(i)),
                        l.bind(&a.ty, &a.value)?,
                    )?);
                }
                func = func.arg(Expr::cust(var(i)));
            }
            None => {
                let a = next_arg()?;
                func = func.arg(l.bind(&a.ty, &a.value)?);
            }
        }
    }
    let call = rendered("CALL ".into(), func.into())?;
    let out = if outs.is_empty() {
        None
    } else {
        let mut sel = SelectStatement::new();
        let mut columns = Vec::with_capacity(outs.len());
        for (i, o) in outs.iter().enumerate() {
            sel.expr_as(Expr::cust(var(i)), super::iden(&o.field.name));
            columns.push(OutColumn {
                key: o.field.name.clone(),
                ty: o.field.ty.clone(),
            });
        }
        Some((finish(l.sql, AnyQuery::Select(&sel)), columns))
    };
    Ok(ProcedurePlan { before, call, out })
}

/// `SELECT <fields> … WHERE filter FOR UPDATE` where the dialect emulates
/// `RETURNING` (MySQL), used to re-read rows inside a transaction. Other
/// dialects lock nothing.
pub fn select_for_update(
    d: Dialect,
    target: Target<'_>,
    fields: &[String],
    filter: &Filter,
    limit: Option<u64>,
) -> Result<SelectPlan> {
    let mut q = Query::new(target.entity.name.clone()).filter(filter.clone());
    q.select.fields = fields.to_vec();
    q.page.limit = limit;
    let mut plan = select(d, target, &q)?;
    if d.sql().lock_reread_rows() {
        plan.statement.sql.push_str(" FOR UPDATE");
    }
    Ok(plan)
}

#[cfg(test)]
mod tests {
    use baas_core::function::{Function, OutParam, Param, Returns, Volatility};
    use baas_core::metadata::Source;
    use baas_core::{Field, FieldType, SchemaMetadata, Target};

    use super::procedure_call;
    use crate::dialect::Dialect;

    fn proc(name: &str, returns: Returns) -> Function {
        Function {
            name: name.into(),
            source: Source {
                table: name.into(),
                schema: None,
            },
            params: vec![Param {
                name: "min_price".into(),
                ty: FieldType::Int32,
                db_type: None,
                optional: false,
                variadic: false,
                row: false,
            }],
            returns,
            volatility: Volatility::Stable,
            description: None,
        }
    }

    /// A database cast is a column named apart from the table's (so that
    /// `ORDER BY id` orders by the stored value), under its field's key or,
    /// aliased, beside the field.
    #[test]
    fn casts_are_columns_of_their_own() {
        use baas_core::Entity;
        use baas_core::ir::{FieldCast, OrderBy, Query};
        let schema = SchemaMetadata::new(vec![
            Entity::new(
                "note",
                vec![
                    Field::new("id", FieldType::Int32),
                    Field::new("body", FieldType::Json),
                ],
            )
            .with_primary_key(["id"]),
        ]);
        let cast = |alias: Option<&str>| FieldCast {
            field: "id".into(),
            to: "oid".into(),
            path: Vec::new(),
            alias: alias.map(Into::into),
        };
        let mut q = Query::new("note");
        q.select.fields = vec!["id".into()];
        q.select.casts = vec![cast(None), cast(Some("o"))];
        q.order = vec![OrderBy::desc("id")];
        let plan =
            super::select(Dialect::Postgres, Target::new(&schema, "note").unwrap(), &q).unwrap();
        assert_eq!(
            plan.statement.sql,
            r#"SELECT to_json(CAST("id" AS "oid")) AS "_baas_c0", to_json(CAST("id" AS "oid")) AS "_baas_c1" FROM "note" ORDER BY "id" DESC"#
        );
        let keys: Vec<&str> = plan.columns.iter().map(|c| c.key.as_str()).collect();
        assert_eq!(keys, ["id", "o"]);
    }

    #[test]
    fn a_procedure_is_called_with_its_arguments_bound_by_position() {
        let schema = SchemaMetadata::default();
        let args = serde_json::json!({"min_price": 20});
        let args = args.as_object().unwrap();
        let f = proc("books`over", Returns::Procedure { out: Vec::new() });
        let call = f
            .call(args, &baas_core::Capabilities::all("mysql"), None)
            .unwrap();
        let entity = f.result_entity(&schema).unwrap();
        let target = Target::call(&schema, &entity, &call);
        let s = procedure_call(Dialect::Mysql, target).unwrap();
        assert_eq!(s.call.sql, "CALL `books``over`(?)");
        assert_eq!(s.call.params.len(), 1);
        assert!(s.out.is_none());
        // OUT parameters: variables in their places, read after.
        let out = |name: &str, position| OutParam {
            field: Field::new(name, FieldType::Int64),
            position,
            inout: false,
        };
        let f = proc(
            "split",
            Returns::Procedure {
                out: vec![out("lo", 0), out("hi", 2)],
            },
        );
        let call = f
            .call(args, &baas_core::Capabilities::all("mysql"), None)
            .unwrap();
        let entity = f.result_entity(&schema).unwrap();
        let p = procedure_call(Dialect::Mysql, Target::call(&schema, &entity, &call)).unwrap();
        assert!(p.before.is_empty());
        assert_eq!(p.call.sql, "CALL `split`(@_baas_out0, ?, @_baas_out1)");
        let (read, columns) = p.out.unwrap();
        // INOUT: the variable holds the argument first.
        let f = proc(
            "twice",
            Returns::Procedure {
                out: vec![OutParam {
                    inout: true,
                    ..out("min_price", 0)
                }],
            },
        );
        let call = f
            .call(args, &baas_core::Capabilities::all("mysql"), None)
            .unwrap();
        let entity = f.result_entity(&schema).unwrap();
        let t = procedure_call(Dialect::Mysql, Target::call(&schema, &entity, &call)).unwrap();
        assert_eq!(t.before.len(), 1);
        assert_eq!(t.before[0].sql, "SET @_baas_out0 = ?");
        assert_eq!(t.call.sql, "CALL `twice`(@_baas_out0)");
        assert!(t.call.params.is_empty());
        assert_eq!(read.sql, "SELECT @_baas_out0 AS `lo`, @_baas_out1 AS `hi`");
        assert_eq!(columns.len(), 2);
        // No procedures on PostgreSQL or SQLite; a function is no procedure.
        for d in [Dialect::Postgres, Dialect::Sqlite] {
            assert!(matches!(
                procedure_call(d, target),
                Err(baas_core::Error::Unsupported { .. })
            ));
        }
        let f = proc("add", Returns::Void);
        let call = f
            .call(args, &baas_core::Capabilities::all("mysql"), None)
            .unwrap();
        let entity = f.result_entity(&schema).unwrap();
        assert!(procedure_call(Dialect::Mysql, Target::call(&schema, &entity, &call)).is_err());
    }
}
