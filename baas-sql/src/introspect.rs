//! Live introspection of PostgreSQL, MySQL/MariaDB and SQLite catalogs.
//!
//! Each engine reads its catalog with a handful of bulk queries (never one per
//! table, so thousands of tables stay fast) into a neutral catalog model, and one
//! function turns that into [`SchemaMetadata`]: types through
//! [`crate::types::field_type`], relations through
//! [`baas_core::relations::infer_relations`], so a live database and a dump of
//! it describe themselves the same way.
//!
//! Entity names: the table name for PostgreSQL's `public` schema, MySQL and
//! SQLite; `<schema>_<table>` for other PostgreSQL schemas.

use std::collections::HashMap;

use baas_core::relations::{ForeignKey, infer_relations};
use baas_core::{
    Entity, Error, Field, FieldType, Generated, Index, IntrospectOptions, Result, SchemaMetadata,
    Source,
};
use sea_query::Value as SqValue;
use serde_json::Value as J;

use crate::Dialect;
use crate::backend::{Row, SqlBackend};
use crate::lower::{OutColumn, Statement};
use crate::types::field_type;

/// PostgreSQL schemas that are never user data.
const PG_SYSTEM: &[&str] = &["pg_catalog", "information_schema", "pg_toast"];

/// A table or view as the catalog describes it.
#[derive(Debug, Default)]
struct Table {
    schema: Option<String>,
    name: String,
    view: bool,
    comment: Option<String>,
    columns: Vec<Column>,
    primary_key: Vec<String>,
    indexes: Vec<Index>,
}

#[derive(Debug, Default)]
struct Column {
    name: String,
    declared: String,
    nullable: bool,
    default: Option<String>,
    auto_increment: bool,
    computed: bool,
    comment: Option<String>,
    /// Enum type name and labels (PostgreSQL enum types).
    enum_type: Option<(String, Vec<String>)>,
    /// Stored as JSON text (MariaDB `JSON` = `LONGTEXT` + `json_valid` check).
    json: bool,
}

/// A foreign key between catalog tables; table keys are `schema.table` (or `table`).
#[derive(Debug)]
struct CatalogFk {
    from: String,
    columns: Vec<String>,
    to: String,
    ref_columns: Vec<String>,
    name: String,
}

/// Everything read from a catalog.
#[derive(Debug, Default)]
struct Catalog {
    tables: Vec<Table>,
    foreign_keys: Vec<CatalogFk>,
}

fn key(schema: Option<&str>, table: &str) -> String {
    match schema {
        Some(s) => format!("{s}.{table}"),
        None => table.to_string(),
    }
}

fn entity_name(dialect: Dialect, schema: Option<&str>, table: &str) -> String {
    match (dialect, schema) {
        (Dialect::Postgres, Some(s)) if s != "public" => format!("{s}_{table}"),
        _ => table.to_string(),
    }
}

fn col(key: &str, ty: FieldType) -> OutColumn {
    OutColumn {
        key: key.to_string(),
        ty,
    }
}

fn text_cols(keys: &[&str]) -> Vec<OutColumn> {
    keys.iter().map(|k| col(k, FieldType::Text)).collect()
}

fn s(r: &Row, k: &str) -> Option<String> {
    r.get(k).and_then(J::as_str).map(str::to_string)
}

fn req(r: &Row, k: &str) -> Result<String> {
    s(r, k).ok_or_else(|| Error::Backend {
        message: format!("catalog row without `{k}`"),
        source: None,
    })
}

fn flag(r: &Row, k: &str) -> bool {
    match r.get(k) {
        Some(J::Bool(b)) => *b,
        Some(J::Number(n)) => n.as_i64().is_some_and(|i| i != 0),
        Some(J::String(s)) => matches!(s.as_str(), "1" | "t" | "true" | "YES"),
        _ => false,
    }
}

fn i(r: &Row, k: &str) -> i64 {
    r.get(k).and_then(J::as_i64).unwrap_or_default()
}

fn strs(r: &Row, k: &str) -> Vec<String> {
    r.get(k)
        .and_then(J::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

fn stmt(sql: &str, params: Vec<SqValue>) -> Statement {
    Statement {
        sql: sql.to_string(),
        params,
    }
}

/// Read the live schema through `backend`.
pub async fn introspect<B: SqlBackend + ?Sized>(
    backend: &B,
    options: &IntrospectOptions,
) -> Result<SchemaMetadata> {
    let dialect = backend.dialect();
    let catalog = match dialect {
        Dialect::Postgres => postgres(backend, options).await?,
        Dialect::Mysql => mysql(backend).await?,
        Dialect::Sqlite => sqlite(backend).await?,
    };
    build(dialect, catalog, options)
}

fn build(
    dialect: Dialect,
    catalog: Catalog,
    options: &IntrospectOptions,
) -> Result<SchemaMetadata> {
    let mut names: HashMap<String, String> = HashMap::new();
    let mut entities = Vec::new();
    for t in catalog.tables {
        if t.view && options.skip_views {
            continue;
        }
        let name = entity_name(dialect, t.schema.as_deref(), &t.name);
        names.insert(key(t.schema.as_deref(), &t.name), name.clone());
        let fields = t
            .columns
            .into_iter()
            .map(|c| {
                let mapped = field_type(dialect, &c.declared);
                let ty = match (c.enum_type, c.json) {
                    (Some((name, values)), _) => {
                        if let FieldType::Array { .. } = mapped.ty {
                            FieldType::Array {
                                items: Box::new(FieldType::Enum {
                                    name: Some(name),
                                    values,
                                }),
                            }
                        } else {
                            FieldType::Enum {
                                name: Some(name),
                                values,
                            }
                        }
                    }
                    (None, true) => FieldType::Json,
                    (None, false) => mapped.ty,
                };
                let auto = c.auto_increment || mapped.serial;
                Field {
                    name: c.name,
                    column: None,
                    ty,
                    nullable: c.nullable,
                    // A generation expression is not a default.
                    default: if auto || c.computed { None } else { c.default },
                    generated: if c.computed {
                        Generated::Always
                    } else if auto {
                        Generated::AutoIncrement
                    } else {
                        Generated::None
                    },
                    unique: false,
                    max_length: mapped.max_length,
                    description: c.comment,
                }
            })
            .collect::<Vec<_>>();
        let mut e = Entity {
            name,
            source: Source {
                table: t.name,
                schema: t.schema,
            },
            primary_key: t.primary_key,
            fields,
            relations: Vec::new(),
            indexes: t.indexes,
            read_only: t.view,
            description: t.comment,
        };
        for ix in &e.indexes {
            if let ([only], true) = (ix.fields.as_slice(), ix.unique)
                && let Some(f) = e.fields.iter_mut().find(|f| &f.name == only)
            {
                f.unique = true;
            }
        }
        entities.push(e);
    }
    let mut schema = SchemaMetadata::new(entities);
    let fks: Vec<ForeignKey> = catalog
        .foreign_keys
        .into_iter()
        .filter_map(|fk| {
            Some(ForeignKey {
                from_entity: names.get(&fk.from)?.clone(),
                from_fields: fk.columns,
                to_entity: names.get(&fk.to)?.clone(),
                to_fields: fk.ref_columns,
                name: Some(fk.name),
            })
        })
        .collect();
    infer_relations(&mut schema, &fks);
    Ok(schema)
}

/// A PostgreSQL text-array literal of plain strings.
fn pg_text_array(items: &[String]) -> String {
    let quoted: Vec<String> = items
        .iter()
        .map(|s| format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\"")))
        .collect();
    format!("{{{}}}", quoted.join(","))
}

async fn postgres<B: SqlBackend + ?Sized>(b: &B, o: &IntrospectOptions) -> Result<Catalog> {
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
                           JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.num ORDER BY k.ord) AS cols, \
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

async fn mysql<B: SqlBackend + ?Sized>(b: &B) -> Result<Catalog> {
    let tables = b
        .fetch(
            &stmt(
                "SELECT TABLE_NAME AS name, TABLE_TYPE AS kind, TABLE_COMMENT AS comment \
                 FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() ORDER BY TABLE_NAME",
                vec![],
            ),
            &text_cols(&["name", "kind", "comment"]),
        )
        .await?;
    let columns = b
        .fetch(
            &stmt(
                "SELECT TABLE_NAME AS tbl, COLUMN_NAME AS name, COLUMN_TYPE AS declared, \
                 IS_NULLABLE AS nullable, COLUMN_DEFAULT AS dflt, EXTRA AS extra, \
                 COLUMN_COMMENT AS comment \
                 FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() \
                 ORDER BY TABLE_NAME, ORDINAL_POSITION",
                vec![],
            ),
            &text_cols(&[
                "tbl", "name", "declared", "nullable", "dflt", "extra", "comment",
            ]),
        )
        .await?;
    let keys = b
        .fetch(
            &stmt(
                "SELECT k.TABLE_NAME AS tbl, k.CONSTRAINT_NAME AS name, c.CONSTRAINT_TYPE AS kind, \
                 k.COLUMN_NAME AS col, k.REFERENCED_TABLE_NAME AS ref_tbl, \
                 k.REFERENCED_COLUMN_NAME AS ref_col \
                 FROM information_schema.KEY_COLUMN_USAGE k \
                 JOIN information_schema.TABLE_CONSTRAINTS c \
                   ON c.CONSTRAINT_SCHEMA = k.CONSTRAINT_SCHEMA AND c.TABLE_NAME = k.TABLE_NAME \
                  AND c.CONSTRAINT_NAME = k.CONSTRAINT_NAME \
                 WHERE k.TABLE_SCHEMA = DATABASE() AND c.CONSTRAINT_TYPE IN ('PRIMARY KEY', 'FOREIGN KEY') \
                 ORDER BY k.TABLE_NAME, k.CONSTRAINT_NAME, k.ORDINAL_POSITION",
                vec![],
            ),
            &text_cols(&["tbl", "name", "kind", "col", "ref_tbl", "ref_col"]),
        )
        .await?;
    let stats = b
        .fetch(
            &stmt(
                "SELECT TABLE_NAME AS tbl, INDEX_NAME AS name, NON_UNIQUE AS non_unique, \
                 COLUMN_NAME AS col \
                 FROM information_schema.STATISTICS \
                 WHERE TABLE_SCHEMA = DATABASE() AND INDEX_NAME <> 'PRIMARY' \
                 ORDER BY TABLE_NAME, INDEX_NAME, SEQ_IN_INDEX",
                vec![],
            ),
            &[
                col("tbl", FieldType::Text),
                col("name", FieldType::Text),
                col("non_unique", FieldType::Int64),
                col("col", FieldType::Text),
            ],
        )
        .await?;
    // MariaDB's JSON is LONGTEXT with a `json_valid` check; MySQL has no
    // TABLE_NAME here (it has a real JSON type), so a failure just means "none".
    let checks = b
        .fetch(
            &stmt(
                "SELECT TABLE_NAME AS tbl, CHECK_CLAUSE AS clause \
                 FROM information_schema.CHECK_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = DATABASE()",
                vec![],
            ),
            &text_cols(&["tbl", "clause"]),
        )
        .await
        .unwrap_or_default();
    let json_cols: Vec<(String, String)> = checks
        .iter()
        .filter_map(|r| {
            let clause = s(r, "clause")?;
            let inner = clause.strip_prefix("json_valid(`")?.strip_suffix("`)")?;
            Some((s(r, "tbl")?, inner.to_string()))
        })
        .collect();

    let mut cat = Catalog::default();
    let mut by_name: HashMap<String, usize> = HashMap::new();
    for r in &tables {
        let name = req(r, "name")?;
        by_name.insert(name.clone(), cat.tables.len());
        cat.tables.push(Table {
            schema: None,
            view: req(r, "kind")?.contains("VIEW"),
            comment: s(r, "comment").filter(|c| !c.is_empty() && c != "VIEW"),
            name,
            ..Table::default()
        });
    }
    for r in &columns {
        let Some(&t) = by_name.get(&req(r, "tbl")?) else {
            continue;
        };
        let name = req(r, "name")?;
        let extra = s(r, "extra").unwrap_or_default().to_ascii_lowercase();
        // MariaDB reports a NULL default as the text `NULL`.
        let default = s(r, "dflt").filter(|d| d != "NULL");
        let json = json_cols
            .iter()
            .any(|(tbl, c)| tbl == &cat.tables[t].name && c == &name);
        cat.tables[t].columns.push(Column {
            declared: req(r, "declared")?,
            nullable: s(r, "nullable").is_some_and(|n| n == "YES"),
            default,
            auto_increment: extra.contains("auto_increment"),
            computed: extra.contains("generated") && !extra.contains("default_generated"),
            comment: s(r, "comment").filter(|c| !c.is_empty()),
            enum_type: None,
            json,
            name,
        });
    }
    let mut fks: Vec<CatalogFk> = Vec::new();
    for r in &keys {
        let tbl = req(r, "tbl")?;
        let Some(&t) = by_name.get(&tbl) else {
            continue;
        };
        let column = req(r, "col")?;
        if req(r, "kind")? == "PRIMARY KEY" {
            cat.tables[t].primary_key.push(column);
            continue;
        }
        let name = req(r, "name")?;
        let ref_tbl = req(r, "ref_tbl")?;
        let ref_col = req(r, "ref_col")?;
        match fks.iter_mut().find(|f| f.from == tbl && f.name == name) {
            Some(f) => {
                f.columns.push(column);
                f.ref_columns.push(ref_col);
            }
            None => fks.push(CatalogFk {
                from: tbl,
                columns: vec![column],
                to: ref_tbl,
                ref_columns: vec![ref_col],
                name,
            }),
        }
    }
    cat.foreign_keys.extend(fks);
    for r in &stats {
        let Some(&t) = by_name.get(&req(r, "tbl")?) else {
            continue;
        };
        let name = req(r, "name")?;
        let Some(column) = s(r, "col") else {
            // Functional key part: not a plain-column index.
            continue;
        };
        let unique = i(r, "non_unique") == 0;
        let indexes = &mut cat.tables[t].indexes;
        match indexes.iter_mut().find(|ix| ix.name == name) {
            Some(ix) => ix.fields.push(column),
            None => indexes.push(Index {
                name,
                fields: vec![column],
                unique,
            }),
        }
    }
    Ok(cat)
}

async fn sqlite<B: SqlBackend + ?Sized>(b: &B) -> Result<Catalog> {
    let columns = b
        .fetch(
            &stmt(
                "SELECT m.name AS tbl, m.type AS kind, m.sql AS sql, p.cid AS cid, p.name AS name, \
                 p.type AS declared, p.\"notnull\" AS not_null, p.dflt_value AS dflt, p.pk AS pk, \
                 p.hidden AS hidden \
                 FROM sqlite_master m JOIN pragma_table_xinfo(m.name) p \
                 WHERE m.type IN ('table', 'view') AND m.name NOT LIKE 'sqlite\\_%' ESCAPE '\\' \
                 ORDER BY m.name, p.cid",
                vec![],
            ),
            &[
                col("tbl", FieldType::Text),
                col("kind", FieldType::Text),
                col("sql", FieldType::Text),
                col("cid", FieldType::Int64),
                col("name", FieldType::Text),
                col("declared", FieldType::Text),
                col("not_null", FieldType::Int64),
                col("dflt", FieldType::Text),
                col("pk", FieldType::Int64),
                col("hidden", FieldType::Int64),
            ],
        )
        .await?;
    let fks = b
        .fetch(
            &stmt(
                "SELECT m.name AS tbl, f.id AS id, f.\"table\" AS ref_tbl, f.\"from\" AS col, \
                 f.\"to\" AS ref_col \
                 FROM sqlite_master m JOIN pragma_foreign_key_list(m.name) f \
                 WHERE m.type = 'table' ORDER BY m.name, f.id, f.seq",
                vec![],
            ),
            &[
                col("tbl", FieldType::Text),
                col("id", FieldType::Int64),
                col("ref_tbl", FieldType::Text),
                col("col", FieldType::Text),
                col("ref_col", FieldType::Text),
            ],
        )
        .await?;
    let indexes = b
        .fetch(
            &stmt(
                "SELECT m.name AS tbl, il.name AS name, il.\"unique\" AS uniq, il.origin AS origin, \
                 il.partial AS partial, ii.name AS col \
                 FROM sqlite_master m JOIN pragma_index_list(m.name) il \
                 JOIN pragma_index_info(il.name) ii \
                 WHERE m.type = 'table' ORDER BY m.name, il.name, ii.seqno",
                vec![],
            ),
            &[
                col("tbl", FieldType::Text),
                col("name", FieldType::Text),
                col("uniq", FieldType::Int64),
                col("origin", FieldType::Text),
                col("partial", FieldType::Int64),
                col("col", FieldType::Text),
            ],
        )
        .await?;

    let mut cat = Catalog::default();
    let mut by_name: HashMap<String, usize> = HashMap::new();
    let mut pk_order: HashMap<usize, Vec<(i64, String)>> = HashMap::new();
    let mut table_sql: HashMap<usize, String> = HashMap::new();
    for r in &columns {
        let tbl = req(r, "tbl")?;
        let t = match by_name.get(&tbl) {
            Some(&t) => t,
            None => {
                by_name.insert(tbl.clone(), cat.tables.len());
                table_sql.insert(cat.tables.len(), s(r, "sql").unwrap_or_default());
                cat.tables.push(Table {
                    schema: None,
                    view: req(r, "kind")? == "view",
                    name: tbl,
                    ..Table::default()
                });
                cat.tables.len() - 1
            }
        };
        let name = req(r, "name")?;
        let pk = i(r, "pk");
        if pk > 0 {
            pk_order.entry(t).or_default().push((pk, name.clone()));
        }
        let hidden = i(r, "hidden");
        cat.tables[t].columns.push(Column {
            declared: s(r, "declared").unwrap_or_default(),
            // A primary-key column is NOT NULL in effect (rowid aliases always are).
            nullable: i(r, "not_null") == 0 && pk == 0,
            default: s(r, "dflt"),
            auto_increment: false,
            computed: hidden == 2 || hidden == 3,
            comment: None,
            enum_type: None,
            json: false,
            name,
        });
    }
    for (t, mut pk) in pk_order {
        pk.sort();
        let cols: Vec<String> = pk.into_iter().map(|(_, n)| n).collect();
        // `INTEGER PRIMARY KEY` aliases the rowid: the database assigns it.
        let without_rowid = table_sql
            .get(&t)
            .is_some_and(|sql| sql.to_ascii_uppercase().contains("WITHOUT ROWID"));
        if let [only] = cols.as_slice()
            && !without_rowid
            && let Some(c) = cat.tables[t].columns.iter_mut().find(|c| &c.name == only)
            && c.declared.eq_ignore_ascii_case("INTEGER")
        {
            c.auto_increment = true;
        }
        cat.tables[t].primary_key = cols;
    }
    // (table, constraint id) → columns and referenced columns (None = the target's key).
    let mut grouped: Vec<(String, i64, CatalogFk, Vec<Option<String>>)> = Vec::new();
    for r in &fks {
        let tbl = req(r, "tbl")?;
        let id = i(r, "id");
        let column = req(r, "col")?;
        let ref_col = s(r, "ref_col");
        match grouped.iter_mut().find(|g| g.0 == tbl && g.1 == id) {
            Some(g) => {
                g.2.columns.push(column);
                g.3.push(ref_col);
            }
            None => {
                let fk = CatalogFk {
                    from: tbl.clone(),
                    columns: vec![column],
                    to: req(r, "ref_tbl")?,
                    ref_columns: Vec::new(),
                    name: format!("{tbl}_fk{id}"),
                };
                grouped.push((tbl, id, fk, vec![ref_col]));
            }
        }
    }
    for (_, _, mut fk, ref_cols) in grouped {
        // SQLite matches table names case-insensitively; a missing target
        // column list means the target's primary key.
        let Some(target) = cat
            .tables
            .iter()
            .find(|t| t.name.eq_ignore_ascii_case(&fk.to))
        else {
            continue;
        };
        fk.ref_columns = if ref_cols.iter().all(Option::is_some) {
            ref_cols.into_iter().flatten().collect()
        } else {
            target.primary_key.clone()
        };
        fk.to = target.name.clone();
        cat.foreign_keys.push(fk);
    }
    for r in &indexes {
        let Some(&t) = by_name.get(&req(r, "tbl")?) else {
            continue;
        };
        if s(r, "origin").as_deref() == Some("pk") {
            continue;
        }
        let name = req(r, "name")?;
        let Some(column) = s(r, "col") else {
            continue;
        };
        let unique = i(r, "uniq") == 1 && i(r, "partial") == 0;
        let indexes = &mut cat.tables[t].indexes;
        match indexes.iter_mut().find(|ix| ix.name == name) {
            Some(ix) => ix.fields.push(column),
            None => indexes.push(Index {
                name,
                fields: vec![column],
                unique,
            }),
        }
    }
    Ok(cat)
}
