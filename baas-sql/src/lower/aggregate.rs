//! Grouped aggregates: `SELECT g…, agg… FROM … WHERE … GROUP BY g… HAVING …`.

use baas_core::ir::{Aggregate, AggregateFn};
use baas_core::{Error, Field, FieldType, Result, Target};
use sea_query::{Alias, Expr, SelectStatement};

use super::filter::{compare, needs_qualification};
use super::select::sq_order;
use super::{Lower, OutColumn, SelectPlan, finish};
use crate::dialect::{AnyQuery, Dialect};

/// Result type of an aggregate over a field.
fn aggregate_type(func: &AggregateFn, field: Option<&Field>) -> FieldType {
    match (func, field) {
        (
            AggregateFn::Count
            | AggregateFn::CountValues { .. }
            | AggregateFn::CountDistinct { .. },
            _,
        ) => FieldType::Int64,
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

/// Grouped aggregates: `SELECT g…, agg… FROM … WHERE … GROUP BY g… HAVING …`;
/// with [`Aggregate::via`], `FROM entity LEFT JOIN related ON link`, the
/// aggregates and the via's groups over the related row's columns.
pub fn aggregate(d: Dialect, target: Target<'_>, a: &Aggregate) -> Result<SelectPlan> {
    let l = Lower::new(d, target);
    let sql = l.sql;
    let e = target.entity;
    let scope = l.root_scope(needs_qualification(a.filter.as_ref()) || a.via.is_some());
    let mut sel = SelectStatement::new();
    sel.from(l.root_source()?);
    // The scope the aggregated fields come from: the related row's.
    let related = match &a.via {
        Some(via) => {
            let rel = e.relation(&via.relation)?;
            if !rel.kind.is_to_one() || rel.function.is_some() {
                return Err(Error::validation(
                    "/via/relation",
                    format!("`{}` is not a to-one relation", via.relation),
                ));
            }
            let alias = l.fresh_alias("v", 1);
            Some(l.left_join(&mut sel, &scope, rel, &alias, None)?)
        }
        None => None,
    };
    let of = related.as_ref().unwrap_or(&scope);
    let mut columns = Vec::new();
    let mut group_exprs = Vec::new();
    let related_groups = a.via.iter().flat_map(|v| &v.group_by);
    let groups = a
        .group_by
        .iter()
        .map(|g| (&scope, g))
        .chain(related_groups.map(|g| (of, g)));
    for (s, g) in groups {
        let f = s.entity.field(g)?;
        if columns.iter().any(|c: &OutColumn| c.key == f.name) {
            return Err(Error::validation(
                "/via/group_by",
                format!("`{g}` is grouped twice"),
            ));
        }
        sel.expr(s.col(f));
        group_exprs.push((f.name.clone(), s.col(f)));
        columns.push(OutColumn {
            key: f.name.clone(),
            ty: f.ty.clone(),
        });
    }
    let mut agg_exprs = Vec::new();
    for (i, ag) in a.aggregates.iter().enumerate() {
        let field = ag.func.field().map(|f| of.entity.field(f)).transpose()?;
        let col = field.map(|f| of.col(f));
        let ex = match (&ag.func, col) {
            (AggregateFn::Count, _) => Expr::cust("COUNT(*)"),
            (AggregateFn::CountValues { .. }, Some(c)) => sql.custom("COUNT({})", vec![c]),
            (AggregateFn::CountDistinct { .. }, Some(c)) => {
                sql.custom("COUNT(DISTINCT {})", vec![c])
            }
            (AggregateFn::Sum { .. }, Some(c)) => sql.custom("SUM({})", vec![c]),
            (AggregateFn::Avg { .. }, Some(c)) => sql.custom(sql.avg(), vec![c]),
            (AggregateFn::Min { .. }, Some(c)) => sql.custom("MIN({})", vec![c]),
            (AggregateFn::Max { .. }, Some(c)) => sql.custom("MAX({})", vec![c]),
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
    // With a join, every column is qualified (`scope` says so).
    if let Some(f) = &a.filter {
        sel.cond_where(l.cond(f, &scope)?);
    }
    for (_, g) in &group_exprs {
        sel.add_group_by([g.clone()]);
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
        } else if let Some((_, ex)) = group_exprs.iter().find(|(name, _)| name == &o.field) {
            ex.clone()
        } else {
            scope.col(e.field(&o.field)?)
        };
        sel.order_by_expr_with_nulls(ex, ord, nulls);
    }
    let mut statement = finish(sql, AnyQuery::Select(&sel));
    // Literals, as a select's page.
    statement
        .sql
        .push_str(&super::select::page(sql, a.limit, a.offset));
    Ok(SelectPlan {
        statement,
        columns,
        joined: Vec::new(),
    })
}
