//! Grouped aggregates: `SELECT g…, agg… FROM … WHERE … GROUP BY g… HAVING …`.

use baas_core::ir::{AVERAGE_COUNT, Aggregate, AggregateFn, GroupValue, SUM_LOW};
use baas_core::{Error, Result, Target};
use sea_query::{Alias, Expr, ExprTrait, SelectStatement};

use super::filter::{compare, needs_qualification};
use super::select::sq_order;
use super::{Lower, OutColumn, SelectPlan, finish};
use crate::dialect::{AnyQuery, Dialect};

/// Grouped aggregates: `SELECT g…, agg… FROM … WHERE … GROUP BY g… HAVING …`;
/// with [`Aggregate::via`], `FROM entity JOIN related ON link AND filter`
/// for each via (`LEFT JOIN` when
/// [`AggregateVia::outer`](baas_core::ir::AggregateVia::outer)), the
/// via's groups and aggregates over its related row's columns.
pub fn aggregate(d: Dialect, target: Target<'_>, a: &Aggregate) -> Result<SelectPlan> {
    let l = Lower::new(d, target);
    let sql = l.sql;
    let e = target.entity;
    let scope = l.root_scope(needs_qualification(a.filter.as_ref()) || !a.via.is_empty());
    let mut sel = SelectStatement::new();
    sel.from(l.root_source()?);
    // The scopes the vias' fields come from: each related row's, joined
    // under an alias of its own.
    let mut related = Vec::with_capacity(a.via.len());
    for (i, (via, entity)) in a.via_entities(target)?.into_iter().enumerate() {
        let joined = super::Scope {
            entity,
            alias: Some(l.fresh_alias("v", i + 1)),
            depth: 1,
            qualify: true,
            row: None,
        };
        // Linked to the aggregated row, or to an earlier via's row.
        let parent = via.parent.and_then(|p| related.get(p)).unwrap_or(&scope);
        let mut on = sea_query::Condition::all();
        for (from, to) in via.from_fields.iter().zip(&via.to_fields) {
            on = on.add(
                joined
                    .col(entity.field(to)?)
                    .eq(parent.col(parent.entity.field(from)?)),
            );
        }
        if let Some(f) = &via.filter {
            on = on.add(l.cond(f, &joined)?);
        }
        let alias = joined.alias.clone().unwrap_or_default();
        if via.outer {
            sel.left_join(super::table_ref_as(entity, &alias), on);
        } else {
            sel.inner_join(super::table_ref_as(entity, &alias), on);
        }
        related.push(joined);
    }
    let mut columns = Vec::new();
    let mut group_exprs = Vec::new();
    let mut value_groups = Vec::new();
    let scope_of = |via: Option<usize>| via.and_then(|i| related.get(i)).unwrap_or(&scope);
    for (r, g) in a.stored_groups() {
        let s = scope_of(r);
        let f = s.entity.field(g)?;
        let key = Aggregate::answer_key(r, &f.name);
        sel.expr(s.col(f));
        group_exprs.push((key.clone(), s.col(f)));
        columns.push(OutColumn {
            key,
            ty: f.ty.clone(),
        });
    }
    // A value at a JSON path binds its path keys, so a repeated expression
    // would be another one: GROUP BY names it by position, ORDER BY by its
    // output name (an output name first, on every engine). The others are
    // repeated (PostgreSQL plans a grouping by position and an order by
    // name 10-15% slower: `benches/computed-groups`).
    let position = group_exprs.len();
    let zone = a.time_zone()?;
    for (i, (r, g)) in a.computed_groups().enumerate() {
        let s = scope_of(r);
        let key = Aggregate::answer_key(r, g.key());
        let f = s.entity.field(g.field())?;
        let alias = format!("_baas_g{i}");
        let value = sql.group_value(s.col(f), g, &f.ty, zone)?;
        sel.expr_as(value.clone(), Alias::new(&alias));
        let named = Expr::col(Alias::new(&alias));
        let (group, order) = if g.path().is_empty() {
            (value.clone(), vec![value])
        } else {
            let order = match g {
                GroupValue::Json { text: false, .. } => sql.json_group_order(named)?,
                _ => vec![named],
            };
            (Expr::cust((position + i + 1).to_string()), order)
        };
        value_groups.push((key.clone(), group, order));
        columns.push(OutColumn {
            key,
            ty: g.answer_type(),
        });
    }
    let mut agg_exprs = Vec::new();
    // Sums answered in two halves, ordered by two keys.
    let mut split_orders: Vec<(String, Vec<Expr>)> = Vec::new();
    for (i, (r, ag)) in a.all_aggregates().enumerate() {
        let s = scope_of(r);
        let key = Aggregate::answer_key(r, &ag.alias);
        let field = ag.func.field().map(|f| s.entity.field(f)).transpose()?;
        // The stored value, or the value computed from it (an input cast).
        let col = match (field, &ag.input) {
            (Some(f), Some(g)) => Some(sql.group_value(s.col(f), g, &f.ty, zone)?),
            (f, _) => f.map(|f| s.col(f)),
        };
        let input = field.map(|f| ag.input_type(&f.ty));
        let ty = ag.func.result_type(input.as_ref());
        // A sum of 64-bit integers where the engine's sums stop at 2^63:
        // the high bits' sum under the key, the low 32 bits' beside it,
        // joined exactly (`finish_averages`). The low half's sum stops
        // past about 2^31 values in one group (SQLite's 400 `22003`,
        // never a wrong total).
        let split = sql.splits_integer_sums()
            && input == Some(baas_core::FieldType::Int64)
            && matches!(ag.func, AggregateFn::Sum { .. } | AggregateFn::Avg { .. });
        let sum_of = |c: &Expr, i: usize, sel: &mut sea_query::SelectStatement| {
            if split {
                sel.expr_as(
                    sql.custom("SUM(({}) >> 32)", vec![c.clone()]),
                    Alias::new(format!("a{i}")),
                );
                sel.expr_as(
                    sql.custom("SUM(({}) & 4294967295)", vec![c.clone()]),
                    Alias::new(format!("a{i}l")),
                );
            } else {
                sel.expr_as(
                    sql.custom("SUM({})", vec![c.clone()]),
                    Alias::new(format!("a{i}")),
                );
            }
        };
        let low = |key: &str| OutColumn {
            key: format!("{key}{SUM_LOW}"),
            ty: baas_core::FieldType::Int64,
        };
        // An exact average is answered as its sum and its count
        // (`finish_averages`); the engine's own average still orders.
        if let (true, Some(c)) = (ag.func.exact_average(input.as_ref()), &col) {
            let sum_ty = AggregateFn::average_sum_type(input.as_ref());
            sum_of(c, i, &mut sel);
            columns.push(OutColumn {
                key: key.clone(),
                ty: if split {
                    baas_core::FieldType::Int64
                } else {
                    sum_ty
                },
            });
            if split {
                columns.push(low(&key));
            }
            sel.expr_as(
                sql.custom("COUNT({})", vec![c.clone()]),
                Alias::new(format!("a{i}n")),
            );
            columns.push(OutColumn {
                key: format!("{key}{AVERAGE_COUNT}"),
                ty: baas_core::FieldType::Int64,
            });
            let ex = sql.custom(sql.avg(), vec![c.clone()]);
            agg_exprs.push((key, ex, baas_core::FieldType::Float64));
            continue;
        }
        if let (true, AggregateFn::Sum { .. }, Some(c)) = (split, &ag.func, &col) {
            sum_of(c, i, &mut sel);
            columns.push(OutColumn {
                key: key.clone(),
                ty: baas_core::FieldType::Int64,
            });
            columns.push(low(&key));
            // `ORDER BY` the sum exactly: the high half carrying the low
            // half's overflow, then the low 32 bits (null without values).
            split_orders.push((
                key.clone(),
                vec![
                    sql.custom(
                        "SUM(({}) >> 32) + (SUM(({}) & 4294967295) >> 32)",
                        vec![c.clone(), c.clone()],
                    ),
                    sql.custom("SUM(({}) & 4294967295) & 4294967295", vec![c.clone()]),
                ],
            ));
            // `HAVING` compares it as a float (`TOTAL` does not stop at
            // 2^63; exact to 2^53), null without values as `SUM`.
            agg_exprs.push((
                key,
                sql.custom(
                    "CASE WHEN COUNT({}) > 0 THEN TOTAL({}) END",
                    vec![c.clone(), c.clone()],
                ),
                baas_core::FieldType::Float64,
            ));
            continue;
        }
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
            key: key.clone(),
            ty: ty.clone(),
        });
        agg_exprs.push((key, ex, ty));
    }
    // With a join, every column is qualified (`scope` says so).
    if let Some(f) = &a.filter {
        sel.cond_where(l.cond(f, &scope)?);
    }
    for (_, g) in &group_exprs {
        sel.add_group_by([g.clone()]);
    }
    for (_, at, _) in &value_groups {
        sel.add_group_by([at.clone()]);
    }
    for h in &a.having {
        let (_, ex, ty) = agg_exprs
            .iter()
            .find(|(alias, _, _)| alias == &h.alias)
            .ok_or_else(|| {
                Error::validation("/having", format!("unknown aggregate `{}`", h.alias))
            })?;
        let v = h
            .value
            .coerce(ty)
            .map_err(|m| Error::validation("/having", m))?;
        let operand = sql.aggregate_operand(ty, l.bind(ty, &v)?);
        sel.and_having(compare(ex.clone(), h.op, operand));
    }
    for o in &a.order {
        let (ord, nulls) = sq_order(o);
        if let Some((_, _, keys)) = value_groups.iter().find(|(name, _, _)| name == &o.field) {
            for k in keys {
                sel.order_by_expr_with_nulls(k.clone(), ord.clone(), nulls);
            }
            continue;
        }
        if let Some((_, keys)) = split_orders.iter().find(|(name, _)| name == &o.field) {
            for k in keys {
                sel.order_by_expr_with_nulls(k.clone(), ord.clone(), nulls);
            }
            continue;
        }
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

#[cfg(test)]
mod tests {
    use baas_core::ir::{AggregateExpr, AggregateVia, Filter};
    use baas_core::metadata::{Entity, Field, Relation};
    use baas_core::{FieldType, SchemaMetadata};

    use super::*;

    /// A junction aggregated over its targets: `INNER JOIN` of the target
    /// under a fresh alias with the via's filter, every column qualified
    /// (both tables have `track_id`), the via's groups and the aggregates
    /// on the target's.
    #[test]
    fn via_joins_the_related_entity_and_qualifies_every_column() {
        let schema = SchemaMetadata::new(vec![
            Entity::new(
                "track",
                vec![
                    Field::new("track_id", FieldType::Int32),
                    Field::new("genre_id", FieldType::Int32),
                    Field::new("ms", FieldType::Int64),
                ],
            )
            .with_primary_key(["track_id"]),
            Entity::new(
                "playlist_track",
                vec![
                    Field::new("playlist_id", FieldType::Int32),
                    Field::new("track_id", FieldType::Int32),
                ],
            )
            .with_relation(Relation::many_to_one(
                "track",
                "track",
                &["track_id"],
                &["track_id"],
            )),
        ]);
        let a = Aggregate {
            entity: "playlist_track".into(),
            filter: Some(Filter::in_list("playlist_id", vec![1i64, 2])),
            group_by: vec!["playlist_id".into()],
            group_by_values: Vec::new(),
            aggregates: Vec::new(),
            having: Vec::new(),
            order: vec![
                baas_core::ir::OrderBy::asc("playlist_id"),
                baas_core::ir::OrderBy::asc(Aggregate::answer_key(Some(0), "genre_id")),
            ],
            limit: None,
            offset: None,
            via: vec![AggregateVia {
                presence: None,
                parent: None,
                entity: "track".into(),
                from_fields: vec!["track_id".into()],
                to_fields: vec!["track_id".into()],
                group_by: vec!["genre_id".into()],
                group_by_values: Vec::new(),
                filter: Some(Filter::eq("genre_id", 1i64)),
                outer: false,
                aggregates: vec![AggregateExpr {
                    alias: "total".into(),
                    func: AggregateFn::Sum { field: "ms".into() },
                    input: None,
                }],
            }],
            zone: None,
        };
        let target = Target::new(&schema, "playlist_track").unwrap();
        let plan = aggregate(Dialect::Postgres, target, &a).unwrap();
        assert_eq!(
            plan.statement.sql,
            r#"SELECT "playlist_track"."playlist_id", "_v1"."genre_id", SUM("_v1"."ms") AS "a0" FROM "playlist_track" INNER JOIN "track" AS "_v1" ON "_v1"."track_id" = "playlist_track"."track_id" AND "_v1"."genre_id" = $1 WHERE "playlist_track"."playlist_id" IN ($2, $3) GROUP BY "playlist_track"."playlist_id", "_v1"."genre_id" ORDER BY "playlist_track"."playlist_id" ASC NULLS LAST, "_v1"."genre_id" ASC NULLS LAST"#
        );
        let keys: Vec<&str> = plan.columns.iter().map(|c| c.key.as_str()).collect();
        assert_eq!(keys, ["playlist_id", "_baas_v0_genre_id", "_baas_v0_total"]);
        // A name grouped on both sides: each under its own key.
        let mut twice = a.clone();
        twice.group_by = vec!["track_id".into()];
        twice.via[0].group_by = vec!["track_id".into()];
        twice.order.clear();
        let keys: Vec<String> = aggregate(Dialect::Postgres, target, &twice)
            .unwrap()
            .columns
            .into_iter()
            .map(|c| c.key)
            .collect();
        assert_eq!(keys, ["track_id", "_baas_v0_track_id", "_baas_v0_total"]);
        // A via inside a via joins on its parent's row; a parent that is
        // not an earlier via is refused.
        let mut nested = a.clone();
        nested.order.clear();
        nested.via.push(AggregateVia {
            presence: None,
            parent: Some(0),
            entity: "track".into(),
            from_fields: vec!["track_id".into()],
            to_fields: vec!["track_id".into()],
            group_by: vec!["ms".into()],
            group_by_values: Vec::new(),
            filter: None,
            outer: true,
            aggregates: Vec::new(),
        });
        let sql = aggregate(Dialect::Postgres, target, &nested)
            .unwrap()
            .statement
            .sql;
        assert!(
            sql.contains(r#"LEFT JOIN "track" AS "_v2" ON "_v2"."track_id" = "_v1"."track_id""#),
            "{sql}"
        );
        nested.via[1].parent = Some(1);
        assert!(aggregate(Dialect::Postgres, target, &nested).is_err());
        // Outer (a to-one spread's aggregates): a left join, the rest alike.
        let mut outer = a.clone();
        outer.via[0].outer = true;
        let sql = aggregate(Dialect::Postgres, target, &outer)
            .unwrap()
            .statement
            .sql;
        assert_eq!(
            sql,
            plan.statement
                .sql
                .replace("INNER JOIN \"track\"", "LEFT JOIN \"track\"")
        );
    }

    /// A computed group is selected under a name of its own; at a JSON
    /// path it is grouped by its position (its path keys are bound: a
    /// repeated expression would be another one) and ordered by its name,
    /// otherwise grouped and ordered by the expression itself.
    #[test]
    fn computed_groups_are_grouped_by_position_or_expression() {
        use baas_core::ir::{GroupValue, OrderBy};
        let schema = SchemaMetadata::new(vec![
            Entity::new(
                "doc",
                vec![
                    Field::new("id", FieldType::Int32),
                    Field::new("kind", FieldType::Text),
                    Field::new("body", FieldType::Json),
                    Field::new("at", FieldType::TimestampTz),
                ],
            )
            .with_primary_key(["id"]),
        ]);
        let a = Aggregate {
            entity: "doc".into(),
            filter: None,
            group_by: vec!["kind".into()],
            group_by_values: vec![
                GroupValue::Json {
                    field: "body".into(),
                    path: vec!["a".into()],
                    text: false,
                    alias: None,
                },
                GroupValue::Date {
                    field: "at".into(),
                    alias: None,
                },
            ],
            aggregates: vec![AggregateExpr {
                alias: "n".into(),
                func: AggregateFn::Count,
                input: None,
            }],
            having: Vec::new(),
            order: vec![OrderBy::desc("at"), OrderBy::asc("body")],
            limit: None,
            offset: None,
            via: Vec::new(),
            zone: None,
        };
        let target = Target::new(&schema, "doc").unwrap();
        let plan = aggregate(Dialect::Postgres, target, &a).unwrap();
        assert_eq!(
            plan.statement.sql,
            r#"SELECT "kind", NULLIF(jsonb_extract_path(CAST("body" AS jsonb), $1), CAST('null' AS jsonb)) AS "_baas_g0", CAST(("at" AT TIME ZONE 'UTC') AS date) AS "_baas_g1", COUNT(*) AS "a0" FROM "doc" GROUP BY "kind", 2, CAST(("at" AT TIME ZONE 'UTC') AS date) ORDER BY CAST(("at" AT TIME ZONE 'UTC') AS date) DESC NULLS FIRST, "_baas_g0" ASC NULLS LAST"#
        );
        let keys: Vec<(&str, &FieldType)> = plan
            .columns
            .iter()
            .map(|c| (c.key.as_str(), &c.ty))
            .collect();
        assert_eq!(
            keys,
            [
                ("kind", &FieldType::Text),
                ("body", &FieldType::Json),
                ("at", &FieldType::Date),
                ("n", &FieldType::Int64)
            ]
        );
        // PostgreSQL's own cast (of the text at a path): other engines
        // refuse it.
        let mut cast = a.clone();
        cast.group_by_values = vec![GroupValue::Cast {
            field: "body".into(),
            path: vec!["n".into()],
            to: "int4".into(),
            alias: None,
        }];
        cast.order.clear();
        let sql = aggregate(Dialect::Postgres, target, &cast)
            .unwrap()
            .statement
            .sql;
        assert!(
            sql.contains(
                r#"CAST(jsonb_extract_path_text(CAST("body" AS jsonb), $1) AS int4) AS "_baas_g0""#
            ),
            "{sql}"
        );
        cast.group_by_values = vec![GroupValue::Cast {
            field: "at".into(),
            path: Vec::new(),
            to: "time".into(),
            alias: None,
        }];
        let sql = aggregate(Dialect::Postgres, target, &cast)
            .unwrap()
            .statement
            .sql;
        assert!(
            sql.contains(r#"CAST(("at" AT TIME ZONE 'UTC') AS time)"#),
            "{sql}"
        );
        assert!(aggregate(Dialect::Sqlite, target, &cast).is_err());
        // One field grouped by two values: each answered, and ordered,
        // under its alias.
        let mut two = cast.clone();
        two.group_by_values = vec![
            GroupValue::Date {
                field: "at".into(),
                alias: None,
            }
            .aliased("day"),
            cast.group_by_values[0].clone().aliased("t"),
        ];
        two.order = vec![OrderBy::desc("t")];
        let plan = aggregate(Dialect::Postgres, target, &two).unwrap();
        assert!(
            plan.statement
                .sql
                .ends_with(r#"ORDER BY CAST(("at" AT TIME ZONE 'UTC') AS time) DESC NULLS FIRST"#),
            "{}",
            plan.statement.sql
        );
        let keys: Vec<&str> = plan.columns.iter().map(|c| c.key.as_str()).collect();
        assert_eq!(keys, ["kind", "day", "t", "n"]);
        cast.group_by_values = vec![GroupValue::Cast {
            field: "at".into(),
            path: Vec::new(),
            to: "text); DROP TABLE doc; --".into(),
            alias: None,
        }];
        assert!(aggregate(Dialect::Postgres, target, &cast).is_err());
        // MySQL and SQLite order a JSON value by its type, then its value.
        let my = aggregate(Dialect::Mysql, target, &a).unwrap().statement.sql;
        assert!(my.contains("GROUP BY `kind`, 2, DATE(`at`)"), "{my}");
        assert!(my.contains("ORDER BY DATE(`at`) IS NULL DESC"), "{my}");
        assert!(
            my.contains("CASE JSON_TYPE(JSON_EXTRACT(`_baas_g0`, ?))"),
            "{my}"
        );
        // In the caller's zone (`Prefer: timezone`): the zone database's
        // name written in the statement, so the expression repeats as
        // itself in GROUP BY and ORDER BY; UTC under another name is
        // UTC's. An engine without a zone database of its own refuses it.
        let mut zoned = a.clone();
        zoned.zone = Some("america/los_angeles".into());
        let sql = aggregate(Dialect::Postgres, target, &zoned)
            .unwrap()
            .statement
            .sql;
        let day = r#"CAST(("at" AT TIME ZONE 'America/Los_Angeles') AS date)"#;
        assert!(sql.contains(&format!(r#"{day} AS "_baas_g1""#)), "{sql}");
        assert!(
            sql.contains(&format!("GROUP BY \"kind\", 2, {day}")),
            "{sql}"
        );
        assert!(sql.contains(&format!("ORDER BY {day} DESC")), "{sql}");
        let mut time = two.clone();
        time.zone = zoned.zone.clone();
        let sql = aggregate(Dialect::Postgres, target, &time)
            .unwrap()
            .statement
            .sql;
        assert!(
            sql.contains(
                r#"CAST(("at" AT TIME ZONE 'America/Los_Angeles') AS time) AS "_baas_g1""#
            ),
            "{sql}"
        );
        // MySQL/MariaDB and SQLite: the zone's offsets, picked by the
        // instant (Los Angeles: -07:52:58 until 1883-11-18 20:00:00 UTC).
        let my = aggregate(Dialect::Mysql, target, &zoned)
            .unwrap()
            .statement
            .sql;
        let day = "DATE(DATE_ADD(`at`, INTERVAL (CASE WHEN `at` < ";
        assert!(my.contains(&format!("GROUP BY `kind`, 2, {day}")), "{my}");
        assert!(
            my.contains("WHEN `at` < '1883-11-18 20:00:00' THEN -28378 ELSE"),
            "{my}"
        );
        let lite = aggregate(Dialect::Sqlite, target, &zoned)
            .unwrap()
            .statement
            .sql;
        assert!(
            lite.contains(r#"date(unixepoch("at") + (CASE WHEN unixepoch("at") < "#),
            "{lite}"
        );
        assert!(
            lite.contains(r#"WHEN unixepoch("at") < -2717640000 THEN -28378 ELSE"#),
            "{lite}"
        );
        zoned.zone = Some("Etc/UTC".into());
        let my = aggregate(Dialect::Mysql, target, &zoned)
            .unwrap()
            .statement
            .sql;
        assert!(my.contains("GROUP BY `kind`, 2, DATE(`at`)"), "{my}");
        // A name no zone has is refused, never read as UTC, nor written
        // into the statement.
        zoned.zone = Some("UTC') AS date); DROP TABLE doc; --".into());
        let err = aggregate(Dialect::Postgres, target, &zoned).unwrap_err();
        assert!(matches!(err, Error::Validation { .. }), "{err}");
    }
}
