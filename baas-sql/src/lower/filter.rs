//! Filters → `WHERE` conditions: `and` / `or` / `not`, comparisons, `in`,
//! `is`, `like`, full-text search, array operators, JSON paths and `exists`
//! subqueries over relations.

use baas_core::ir::{ArrayOp, CompareOp, Filter, IsValue};
use baas_core::{Error, Field, RelationKind, Result, Value};
use sea_query::{Condition, Expr, ExprTrait, SelectStatement};

use super::{Lower, Scope, param, table_ref_as, values};
use crate::dialect::op_symbol;

impl<'a> Lower<'a> {
    pub(super) fn cond(&self, f: &Filter, scope: &Scope<'a>) -> Result<Condition> {
        let e = scope.entity;
        let sql = self.sql;
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
                let col = scope.compared_col(fd);
                let v = self.bind_compared(fd, value)?;
                Condition::all().add(compare(col, *op, v))
            }
            Filter::In { field, values } => {
                let fd = e.field(field)?;
                let vals = values
                    .iter()
                    .filter(|v| !v.is_null())
                    .map(|v| self.bind_compared(fd, v))
                    .collect::<Result<Vec<_>>>()?;
                if vals.is_empty() {
                    always(false)
                } else {
                    Condition::all().add(scope.compared_col(fd).is_in(vals))
                }
            }
            Filter::Is { field, value } => {
                let fd = e.field(field)?;
                let col = scope.col(fd);
                Condition::all().add(match value {
                    IsValue::Null | IsValue::Unknown => col.is_null(),
                    IsValue::NotNull => col.is_not_null(),
                    IsValue::True => sql.custom("{} IS TRUE", vec![col]),
                    IsValue::False => sql.custom("{} IS FALSE", vec![col]),
                })
            }
            Filter::Like {
                field,
                pattern,
                case_insensitive,
            } => {
                let fd = e.field(field)?;
                Condition::all().add(sql.like(self.as_text(scope, fd), pattern, *case_insensitive))
            }
            Filter::Regex {
                field,
                path,
                pattern,
                case_insensitive,
            } => {
                let fd = e.field(field)?;
                let text = if path.is_empty() {
                    self.as_text(scope, fd)
                } else {
                    sql.json_scalar_text_at(scope.json_col(fd), path)?
                };
                Condition::all().add(sql.regex(text, pattern, *case_insensitive)?)
            }
            Filter::TextSearch {
                field,
                path,
                query,
                language,
                syntax,
            } => {
                let fd = e.field(field)?;
                Condition::all().add(if !path.is_empty() {
                    sql.text_search_at(
                        sql.json_scalar_text_at(scope.json_col(fd), path)?,
                        query,
                        language.as_deref(),
                        *syntax,
                    )?
                } else if fd.ty == baas_core::FieldType::Json {
                    sql.text_search_document(
                        self.as_text(scope, fd),
                        query,
                        language.as_deref(),
                        *syntax,
                    )?
                } else if fd.db_type.as_deref() == Some("tsvector") {
                    sql.text_search_vector(scope.raw_col(fd), query, language.as_deref(), *syntax)?
                } else {
                    sql.text_search(self.as_text(scope, fd), query, language.as_deref(), *syntax)?
                })
            }
            Filter::Range { field, op, value } => {
                let fd = e.field(field)?;
                let tpl = sql
                    .range_operator(*op)
                    .ok_or_else(|| sql.unsupported("range operators"))?;
                let ty = fd.db_type.as_deref().ok_or_else(|| {
                    sql.unsupported("range operators on a field without a range type")
                })?;
                let literal = values::cast_to(Expr::val(value.clone()), ty, field)?;
                Condition::all().add(sql.custom(tpl, vec![scope.raw_col(fd), literal]))
            }
            Filter::Array { field, op, values } => {
                let fd = e.field(field)?;
                let tpl = sql
                    .array_operator(*op)
                    .ok_or_else(|| sql.unsupported("array operators"))?;
                let arr = self.bind_field(fd, &Value::Array(values.clone()))?;
                Condition::all().add(sql.custom(tpl, vec![scope.col(fd), arr]))
            }
            Filter::JsonPath {
                field,
                path,
                op,
                value,
            } => {
                let fd = e.field(field)?;
                let col = scope.json_col(fd);
                if (value.is_array() || value.is_object())
                    && matches!(op, CompareOp::Eq | CompareOp::Neq)
                {
                    // A document's equality is `JsonEquals`'s.
                    let equal = sql.json_equals(sql.json_at(col, path)?, value)?;
                    return Ok(if *op == CompareOp::Eq {
                        Condition::all().add(equal)
                    } else {
                        Condition::all().add(equal).not()
                    });
                }
                Condition::all().add(sql.json_path_compare(col, path, *op, value)?)
            }
            Filter::JsonLike {
                field,
                path,
                pattern,
                case_insensitive,
            } => {
                let fd = e.field(field)?;
                let text = sql.json_scalar_text_at(scope.json_col(fd), path)?;
                Condition::all().add(sql.like(text, pattern, *case_insensitive))
            }
            Filter::JsonText {
                field,
                path,
                op,
                value,
            } => {
                let fd = e.field(field)?;
                let text = sql.json_scalar_text_at(scope.json_col(fd), path)?;
                Condition::all().add(sql.json_text_compare(
                    text,
                    op_symbol(*op),
                    param(value.clone()),
                ))
            }
            Filter::JsonIsNull {
                field,
                path,
                missing_only,
            } => {
                let fd = e.field(field)?;
                Condition::all().add(sql.json_null_at(scope.json_col(fd), path, *missing_only)?)
            }
            Filter::JsonContains {
                field,
                path,
                op,
                value,
            } => {
                let fd = e.field(field)?;
                let col = if path.is_empty() {
                    scope.col(fd)
                } else {
                    sql.json_at(scope.json_col(fd), path)?
                };
                Condition::all().add(sql.json_contains(col, value, *op == ArrayOp::ContainedBy)?)
            }
            Filter::JsonEquals { field, path, value } => {
                let fd = e.field(field)?;
                let col = if path.is_empty() {
                    scope.col(fd)
                } else {
                    sql.json_at(scope.json_col(fd), path)?
                };
                Condition::all().add(sql.json_equals(col, value)?)
            }
            Filter::Exists {
                relation,
                filter,
                through,
            } => Condition::all().add(Expr::exists(self.exists(
                scope,
                relation,
                filter.as_deref(),
                through.as_deref(),
            )?)),
            other => {
                return Err(sql.unsupported(&format!("filter {other:?}")));
            }
        })
    }

    /// The column as text (for `LIKE` and full-text search).
    fn as_text(&self, scope: &Scope<'_>, fd: &Field) -> Expr {
        self.sql.as_text(scope.col(fd), &fd.ty)
    }

    /// `SELECT 1 FROM <related> WHERE <link to the outer row> AND filter`;
    /// through the junction (its rows matching `through`) for a
    /// many-to-many relation.
    fn exists(
        &self,
        scope: &Scope<'a>,
        relation: &str,
        filter: Option<&Filter>,
        through_filter: Option<&Filter>,
    ) -> Result<SelectStatement> {
        Ok(self.related(scope, relation, filter, through_filter)?.0)
    }

    /// `SELECT 1 FROM <related> WHERE <link to the outer row> AND filter`
    /// and the scope of the related rows in it.
    fn related(
        &self,
        scope: &Scope<'a>,
        relation: &str,
        filter: Option<&Filter>,
        through_filter: Option<&Filter>,
    ) -> Result<(SelectStatement, Scope<'a>)> {
        let rel = scope.entity.relation(relation)?;
        let target = self.target.schema.entity(&rel.target)?;
        let depth = scope.depth + 1;
        let alias = self.fresh_alias("r", depth);
        let inner = Scope {
            entity: target,
            alias: Some(alias.clone()),
            depth,
            qualify: true,
            row: None,
        };
        let mut sel = SelectStatement::new();
        sel.expr(Expr::cust("1"));
        if let Some(function) = &rel.function {
            // A computed relationship: its function called with the outer
            // row, `SELECT 1 FROM fn(outer.*) AS _rN WHERE filter`.
            let (name, row) = scope.row_call_parts(function);
            sel.from(sea_query::TableRef::FunctionCall(
                sea_query::Func::cust(super::iden(&name)).arg(Expr::cust(row)),
                super::iden(&alias),
            ));
            // A function returning one row answers a row of nulls for none.
            sel.and_where(Expr::cust(format!(
                "NOT ({} IS NULL)",
                crate::dialect::postgres::quote(&alias)
            )));
        } else {
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
            match &rel.kind {
                RelationKind::ManyToMany { through } => {
                    let junction = self.target.schema.entity(&through.entity)?;
                    let jalias = self.fresh_alias("j", depth);
                    let jscope = Scope {
                        entity: junction,
                        alias: Some(jalias.clone()),
                        depth,
                        qualify: true,
                        row: None,
                    };
                    let mut on = Condition::all();
                    for (jf, tf) in through.target_fields.iter().zip(&rel.to_fields) {
                        on = on.add(
                            jscope
                                .col(junction.field(jf)?)
                                .eq(inner.col(target.field(tf)?)),
                        );
                    }
                    sel.from(table_ref_as(junction, &jalias));
                    sel.inner_join(table_ref_as(target, &alias), on);
                    for (jf, sf) in through.source_fields.iter().zip(&rel.from_fields) {
                        sel.and_where(
                            jscope
                                .col(junction.field(jf)?)
                                .eq(scope.col(scope.entity.field(sf)?)),
                        );
                    }
                    if let Some(f) = through_filter {
                        sel.cond_where(self.cond(f, &jscope)?);
                    }
                }
                _ => {
                    sel.from(table_ref_as(target, &alias));
                    for (from, to) in rel.from_fields.iter().zip(&rel.to_fields) {
                        sel.and_where(
                            inner
                                .col(target.field(to)?)
                                .eq(scope.col(scope.entity.field(from)?)),
                        );
                    }
                }
            }
        }
        if let Some(f) = filter {
            sel.cond_where(self.cond(f, &inner)?);
        }
        Ok((sel, inner))
    }

    /// An alias that cannot collide with a table name of the schema.
    pub(super) fn fresh_alias(&self, prefix: &str, depth: usize) -> String {
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

    /// The condition of a statement's own `WHERE`.
    pub(super) fn where_clause(&self, filter: Option<&Filter>) -> Result<Option<Condition>> {
        filter
            .map(|f| self.cond(f, &self.root_scope(needs_qualification(Some(f)))))
            .transpose()
    }
}

/// Whether a filter has subqueries (`exists`) that reference the outer row.
pub(super) fn needs_qualification(f: Option<&Filter>) -> bool {
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

fn always(b: bool) -> Condition {
    Condition::all().add(Expr::cust(if b { "1 = 1" } else { "1 = 0" }))
}

/// `col <op> v`.
pub(super) fn compare(col: Expr, op: CompareOp, v: Expr) -> Expr {
    match op {
        CompareOp::Eq => col.eq(v),
        CompareOp::Neq => col.ne(v),
        CompareOp::Gt => col.gt(v),
        CompareOp::Gte => col.gte(v),
        CompareOp::Lt => col.lt(v),
        CompareOp::Lte => col.lte(v),
    }
}
