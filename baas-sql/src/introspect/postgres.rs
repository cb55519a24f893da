//! PostgreSQL: `pg_catalog` (schemas, tables, enum labels, columns with
//! domains and identities, constraints, indexes), one query each.

use std::collections::HashMap;

use baas_core::{Error, FieldType, Index, IntrospectOptions, Result};
use sea_query::Value as SqValue;

use super::{Catalog, CatalogFk, Column, Table, col, flag, i, key, req, s, stmt, strs, text_cols};
use crate::backend::SqlBackend;

/// PostgreSQL schemas that are never user data.
const PG_SYSTEM: &[&str] = &["pg_catalog", "information_schema", "pg_toast"];

/// A PostgreSQL text-array literal of plain strings.
fn pg_text_array(items: &[String]) -> String {
    let quoted: Vec<String> = items
        .iter()
        .map(|s| format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\"")))
        .collect();
    format!("{{{}}}", quoted.join(","))
}
pub(super) async fn catalog<B: SqlBackend + ?Sized>(
    b: &B,
    o: &IntrospectOptions,
) -> Result<Catalog> {
    let all = b
        .fetch(
            &stmt(
                "SELECT nspname::text AS name FROM pg_namespace \
                 WHERE nspname NOT LIKE 'pg\\_temp\\_%' AND nspname NOT LIKE 'pg\\_toast\\_temp\\_%' \
                 ORDER BY nspname",
                vec![],
            ),
            &text_cols(&["name"]),
        )
        .await?;
    let schemas: Vec<String> = all
        .iter()
        .filter_map(|r| s(r, "name"))
        .filter(|n| !PG_SYSTEM.contains(&n.as_str()))
        .filter(|n| o.schemas.is_empty() || o.schemas.contains(n))
        .filter(|n| !o.exclude_schemas.contains(n))
        .collect();
    for wanted in &o.schemas {
        if !schemas.contains(wanted) && !o.exclude_schemas.contains(wanted) {
            return Err(Error::NotFound {
                kind: baas_core::NotFoundKind::Entity,
                name: format!("schema {wanted}"),
            });
        }
    }
    let arr = || vec![SqValue::String(Some(pg_text_array(&schemas)))];
    let in_schemas = "n.nspname = ANY(CAST($1 AS text[])) AND NOT c.relispartition";

    let tables = b
        .fetch(
            &stmt(
                &format!(
                    "SELECT c.oid::int8 AS rel, n.nspname::text AS schema, c.relname::text AS name, \
                     c.relkind::text AS kind, obj_description(c.oid, 'pg_class') AS comment \
                     FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
                     WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f') AND {in_schemas} \
                     ORDER BY n.nspname, c.relname"
                ),
                arr(),
            ),
            &[
                col("rel", FieldType::Int64),
                col("schema", FieldType::Text),
                col("name", FieldType::Text),
                col("kind", FieldType::Text),
                col("comment", FieldType::Text),
            ],
        )
        .await?;
    let enums = b
        .fetch(
            &stmt(
                "SELECT t.typname::text AS name, e.enumlabel::text AS label \
                 FROM pg_enum e JOIN pg_type t ON t.oid = e.enumtypid \
                 ORDER BY t.typname, e.enumsortorder",
                vec![],
            ),
            &text_cols(&["name", "label"]),
        )
        .await?;
    let mut labels: HashMap<String, Vec<String>> = HashMap::new();
    for r in &enums {
        labels
            .entry(req(r, "name")?)
            .or_default()
            .push(req(r, "label")?);
    }
    let columns = b
        .fetch(
            &stmt(
                &format!(
                    "SELECT a.attrelid::int8 AS rel, a.attname::text AS name, \
                     CASE WHEN t.typtype = 'd' THEN format_type(t.typbasetype, t.typtypmod) \
                          ELSE format_type(a.atttypid, a.atttypmod) END AS declared, \
                     CASE WHEN t.typtype = 'e' THEN t.typname::text \
                          WHEN et.typtype = 'e' THEN et.typname::text \
                          WHEN t.typtype = 'd' AND bt.typtype = 'e' THEN bt.typname::text END AS enum_type, \
                     NOT (a.attnotnull OR (t.typtype = 'd' AND t.typnotnull)) AS nullable, \
                     pg_get_expr(d.adbin, d.adrelid) AS dflt, \
                     a.attidentity::text AS identity, a.attgenerated::text AS generated, \
                     col_description(a.attrelid, a.attnum) AS comment \
                     FROM pg_attribute a \
                     JOIN pg_class c ON c.oid = a.attrelid \
                     JOIN pg_namespace n ON n.oid = c.relnamespace \
                     JOIN pg_type t ON t.oid = a.atttypid \
                     LEFT JOIN pg_type bt ON bt.oid = t.typbasetype \
                     LEFT JOIN pg_type et ON et.oid = t.typelem AND t.typcategory = 'A' \
                     LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum \
                     WHERE a.attnum > 0 AND NOT a.attisdropped \
                       AND c.relkind IN ('r', 'p', 'v', 'm', 'f') AND {in_schemas} \
                     ORDER BY a.attrelid, a.attnum"
                ),
                arr(),
            ),
            &[
                col("rel", FieldType::Int64),
                col("name", FieldType::Text),
                col("declared", FieldType::Text),
                col("enum_type", FieldType::Text),
                col("nullable", FieldType::Boolean),
                col("dflt", FieldType::Text),
                col("identity", FieldType::Text),
                col("generated", FieldType::Text),
                col("comment", FieldType::Text),
            ],
        )
        .await?;
    let constraints = b
        .fetch(
            &stmt(
                &format!(
                    "SELECT con.conrelid::int8 AS rel, con.contype::text AS kind, con.conname::text AS name, \
                     ARRAY(SELECT a.attname::text FROM unnest(con.conkey) WITH ORDINALITY k(num, ord) \
                           JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.num ORDER BY k.ord) AS cols, \
                     con.confrelid::int8 AS ref_rel, \
                     ARRAY(SELECT a.attname::text FROM unnest(con.confkey) WITH ORDINALITY k(num, ord) \
                           JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.num ORDER BY k.ord) AS ref_cols \
                     FROM pg_constraint con \
                     JOIN pg_class c ON c.oid = con.conrelid \
                     JOIN pg_namespace n ON n.oid = c.relnamespace \
                     WHERE con.contype IN ('p', 'f') AND {in_schemas} \
                     ORDER BY con.conrelid, con.conname"
                ),
                arr(),
            ),
            &[
                col("rel", FieldType::Int64),
                col("kind", FieldType::Text),
                col("name", FieldType::Text),
                col("cols", FieldType::Array { items: Box::new(FieldType::Text) }),
                col("ref_rel", FieldType::Int64),
                col("ref_cols", FieldType::Array { items: Box::new(FieldType::Text) }),
            ],
        )
        .await?;
    let indexes = b
        .fetch(
            &stmt(
                &format!(
                    "SELECT i.indrelid::int8 AS rel, ic.relname::text AS name, \
                     (i.indisunique AND i.indpred IS NULL) AS uniq, \
                     ARRAY(SELECT a.attname::text FROM unnest(i.indkey::int2[]) WITH ORDINALITY k(num, ord) \
                           JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.num \
                           WHERE k.ord <= i.indnkeyatts ORDER BY k.ord) AS cols, \
                     (i.indexprs IS NOT NULL) AS expr \
                     FROM pg_index i \
                     JOIN pg_class ic ON ic.oid = i.indexrelid \
                     JOIN pg_class c ON c.oid = i.indrelid \
                     JOIN pg_namespace n ON n.oid = c.relnamespace \
                     WHERE NOT i.indisprimary AND {in_schemas} \
                     ORDER BY i.indrelid, ic.relname"
                ),
                arr(),
            ),
            &[
                col("rel", FieldType::Int64),
                col("name", FieldType::Text),
                col("uniq", FieldType::Boolean),
                col("cols", FieldType::Array { items: Box::new(FieldType::Text) }),
                col("expr", FieldType::Boolean),
            ],
        )
        .await?;

    let mut cat = Catalog::default();
    let mut by_rel: HashMap<i64, usize> = HashMap::new();
    let mut keys: HashMap<i64, String> = HashMap::new();
    for r in &tables {
        let schema = req(r, "schema")?;
        let name = req(r, "name")?;
        let kind = req(r, "kind")?;
        keys.insert(i(r, "rel"), key(Some(&schema), &name));
        by_rel.insert(i(r, "rel"), cat.tables.len());
        cat.tables.push(Table {
            schema: Some(schema),
            name,
            view: kind == "v" || kind == "m",
            comment: s(r, "comment"),
            ..Table::default()
        });
    }
    for r in &columns {
        let Some(&t) = by_rel.get(&i(r, "rel")) else {
            continue;
        };
        let default = s(r, "dflt");
        let identity = s(r, "identity").unwrap_or_default();
        let auto = !identity.is_empty()
            || default
                .as_deref()
                .is_some_and(|d| d.starts_with("nextval("));
        let enum_type = s(r, "enum_type").map(|n| {
            let values = labels.get(&n).cloned().unwrap_or_default();
            (n, values)
        });
        cat.tables[t].columns.push(Column {
            name: req(r, "name")?,
            declared: req(r, "declared")?,
            nullable: flag(r, "nullable"),
            default,
            auto_increment: auto,
            computed: s(r, "generated").is_some_and(|g| g == "s"),
            comment: s(r, "comment"),
            enum_type,
            json: false,
        });
    }
    for r in &constraints {
        let Some(&t) = by_rel.get(&i(r, "rel")) else {
            continue;
        };
        match req(r, "kind")?.as_str() {
            "p" => cat.tables[t].primary_key = strs(r, "cols"),
            "f" => {
                if let Some(to) = keys.get(&i(r, "ref_rel")) {
                    cat.foreign_keys.push(CatalogFk {
                        from: keys.get(&i(r, "rel")).cloned().unwrap_or_default(),
                        columns: strs(r, "cols"),
                        to: to.clone(),
                        ref_columns: strs(r, "ref_cols"),
                        name: req(r, "name")?,
                    });
                }
            }
            _ => {}
        }
    }
    for r in &indexes {
        let Some(&t) = by_rel.get(&i(r, "rel")) else {
            continue;
        };
        if flag(r, "expr") {
            continue;
        }
        cat.tables[t].indexes.push(Index {
            name: req(r, "name")?,
            fields: strs(r, "cols"),
            unique: flag(r, "uniq"),
        });
    }
    Ok(cat)
}
