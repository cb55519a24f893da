//! PostgreSQL: `pg_catalog` (schemas, tables, enum labels, columns with
//! domains and identities, constraints, indexes), one query each.

use std::collections::HashMap;

use baas_core::{Error, FieldType, Index, IntrospectOptions, Result};
use sea_query::Value as SqValue;

use super::{
    Catalog, CatalogFk, CatalogFunction, CatalogParam, CatalogReturns, Column, Table, col, flag, i,
    key, req, s, stmt, strs, text_cols,
};
use crate::backend::{SqlBackend, SqlTransaction};

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
/// Whether statements on relation `c` may read request settings
/// ([`Entity::request_settings`](baas_core::Entity::request_settings)):
/// a trigger of its own (not a foreign key's), or of a table a write of
/// it cascades to (`ON DELETE`/`ON UPDATE` `CASCADE`, `SET NULL`, `SET
/// DEFAULT`; further steps of a cascade through the introspected schemas
/// are followed after this query); a column default, a `CHECK` constraint or a view's rule
/// that calls a function of the database's (a dependency on it, which
/// PostgreSQL records for every function but its built-in ones; an
/// extension's functions are left out) or `current_setting` (by its node
/// in the stored expression).
const SETTINGS_READER: &str = "(EXISTS (SELECT 1 FROM pg_trigger t WHERE t.tgrelid = c.oid AND NOT t.tgisinternal) \
     OR EXISTS (SELECT 1 FROM pg_constraint f JOIN pg_trigger t ON t.tgrelid = f.conrelid AND NOT t.tgisinternal \
       WHERE f.contype = 'f' AND f.confrelid = c.oid \
         AND (f.confdeltype IN ('c', 'n', 'd') OR f.confupdtype IN ('c', 'n', 'd'))) \
     OR EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conrelid = c.oid AND k.contype = 'c' AND ( \
       EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_constraint'::regclass AND d.objid = k.oid \
         AND d.refclassid = 'pg_proc'::regclass AND NOT EXISTS (SELECT 1 FROM pg_depend x \
           WHERE x.classid = 'pg_proc'::regclass AND x.objid = d.refobjid AND x.deptype = 'e')) \
       OR k.conbin::text ~ (':funcid (' || 'pg_catalog.current_setting(text)'::regprocedure::oid || '|' \
         || 'pg_catalog.current_setting(text, boolean)'::regprocedure::oid || ') '))) \
     OR EXISTS (SELECT 1 FROM pg_attrdef ad WHERE ad.adrelid = c.oid AND ( \
       EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_attrdef'::regclass AND d.objid = ad.oid \
         AND d.refclassid = 'pg_proc'::regclass AND NOT EXISTS (SELECT 1 FROM pg_depend x \
           WHERE x.classid = 'pg_proc'::regclass AND x.objid = d.refobjid AND x.deptype = 'e')) \
       OR ad.adbin::text ~ (':funcid (' || 'pg_catalog.current_setting(text)'::regprocedure::oid || '|' \
         || 'pg_catalog.current_setting(text, boolean)'::regprocedure::oid || ') '))) \
     OR EXISTS (SELECT 1 FROM pg_rewrite r WHERE r.ev_class = c.oid AND r.rulename = '_RETURN' AND ( \
       EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_rewrite'::regclass AND d.objid = r.oid \
         AND d.refclassid = 'pg_proc'::regclass AND NOT EXISTS (SELECT 1 FROM pg_depend x \
           WHERE x.classid = 'pg_proc'::regclass AND x.objid = d.refobjid AND x.deptype = 'e')) \
       OR r.ev_action::text ~ (':funcid (' || 'pg_catalog.current_setting(text)'::regprocedure::oid || '|' \
         || 'pg_catalog.current_setting(text, boolean)'::regprocedure::oid || ') '))))";

pub(super) async fn catalog<B: SqlBackend + ?Sized>(
    b: &B,
    o: &IntrospectOptions,
) -> Result<Catalog> {
    // One read-only transaction without JIT: the catalog queries' cost
    // estimates (the correlated subqueries of `SETTINGS_READER`, the
    // recursive walk of a view's bases) cross `jit_above_cost`, and
    // compiling them took 0.95 s of a 1 s query that runs in 27 ms
    // without (1,000 tables, PostgreSQL 15; `BENCHMARKS.md`).
    let mut tx = b.begin().await?;
    tx.execute(&stmt(
        "SELECT set_config('jit', 'off', true) \
         WHERE current_setting('server_version_num')::int >= 110000",
        vec![],
    ))
    .await?;
    let cat = read_catalog(tx.as_mut(), o).await?;
    tx.rollback().await?;
    Ok(cat)
}

async fn read_catalog(b: &mut dyn SqlTransaction, o: &IntrospectOptions) -> Result<Catalog> {
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

    // A view PostgreSQL writes through (auto-updatable, or with `INSTEAD
    // OF` triggers or `DO INSTEAD` rules: any of `UPDATE`, `INSERT`,
    // `DELETE`), whose writes read settings when a relation it is built
    // on or one of its rules writes, in any schema and however deep, does.
    // `CASE`, not `AND`: PostgreSQL does not promise to skip the call for
    // a table.
    let updatable = "(CASE WHEN c.relkind = 'v' THEN pg_relation_is_updatable(c.oid, true) & 28 <> 0 ELSE false END)";
    let base_reader = SETTINGS_READER.replace("c.oid", "bc.oid");
    let tables = b
        .fetch(
            &stmt(
                &format!(
                    "SELECT c.oid::int8 AS rel, n.nspname::text AS schema, c.relname::text AS name, \
                     c.relkind::text AS kind, obj_description(c.oid, 'pg_class') AS comment, \
                     {updatable} AS updatable, \
                     (CASE WHEN c.relkind = 'v' THEN pg_relation_is_updatable(c.oid, false) & 28 = 28 ELSE false END) AS auto_updatable, \
                     {SETTINGS_READER} AS settings, \
                     CASE WHEN {updatable} THEN EXISTS ( \
                       WITH RECURSIVE bases(oid) AS ( \
                         SELECT c.oid \
                         UNION SELECT d.refobjid FROM bases JOIN pg_rewrite r \
                           ON r.ev_class = bases.oid \
                         JOIN pg_depend d ON d.classid = 'pg_rewrite'::regclass AND d.objid = r.oid \
                           AND d.refclassid = 'pg_class'::regclass AND d.refobjid <> r.ev_class) \
                       SELECT 1 FROM bases JOIN pg_class bc ON bc.oid = bases.oid WHERE {base_reader}) \
                     ELSE false END AS write_settings \
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
                col("updatable", FieldType::Boolean),
                col("auto_updatable", FieldType::Boolean),
                col("settings", FieldType::Boolean),
                col("write_settings", FieldType::Boolean),
            ],
        )
        .await?;
    let enums = b
        .fetch(
            &stmt(
                "SELECT t.oid::text AS id, e.enumlabel::text AS label, \
                        CASE WHEN n.nspname = 'public' THEN t.typname::text \
                             ELSE n.nspname || '.' || t.typname END AS qualified \
                 FROM pg_enum e JOIN pg_type t ON t.oid = e.enumtypid \
                 JOIN pg_namespace n ON n.oid = t.typnamespace \
                 ORDER BY t.oid, e.enumsortorder",
                vec![],
            ),
            &text_cols(&["id", "label", "qualified"]),
        )
        .await?;
    // By type (oid): two schemas may each have an enum of the same name;
    // outside `public` the type is named with its schema
    // (`personal.mood`), so a value written to it is cast to that type.
    let mut labels: HashMap<String, Vec<String>> = HashMap::new();
    let mut qualified: HashMap<String, String> = HashMap::new();
    for r in &enums {
        let id = req(r, "id")?;
        qualified.insert(id.clone(), req(r, "qualified")?);
        labels.entry(id).or_default().push(req(r, "label")?);
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
                     CASE WHEN t.typtype = 'e' THEN t.oid::text \
                          WHEN et.typtype = 'e' THEN et.oid::text \
                          WHEN t.typtype = 'd' AND bt.typtype = 'e' THEN bt.oid::text END AS enum_id, \
                     NOT (a.attnotnull OR (t.typtype = 'd' AND t.typnotnull)) AS nullable, \
                     (t.typtype = 'c' OR et.typtype = 'c') AS composite, \
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
                col("enum_id", FieldType::Text),
                col("nullable", FieldType::Boolean),
                col("composite", FieldType::Boolean),
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
                           JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.num ORDER BY k.ord) AS ref_cols, \
                     (con.confdeltype IN ('c', 'n', 'd') OR con.confupdtype IN ('c', 'n', 'd')) AS cascades \
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
                col("cascades", FieldType::Boolean),
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
    // The base-table columns each view reads (its rewrite rule's
    // dependencies), to give views the foreign keys of their base tables.
    let view_usage = b
        .fetch(
            &stmt(
                "SELECT DISTINCT r.ev_class::int8 AS view, d.refobjid::int8 AS rel, a.attname::text AS col \
                 FROM pg_rewrite r \
                 JOIN pg_depend d ON d.objid = r.oid AND d.classid = 'pg_rewrite'::regclass \
                  AND d.refclassid = 'pg_class'::regclass AND d.refobjsubid > 0 \
                 JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid \
                 WHERE d.refobjid <> r.ev_class \
                 ORDER BY 1, 2, 3",
                vec![],
            ),
            &[
                col("view", FieldType::Int64),
                col("rel", FieldType::Int64),
                col("col", FieldType::Text),
            ],
        )
        .await?;

    // Where each view column comes from: the top-level target entries of
    // its rewrite rule carry `resorigtbl`/`resorigcol` (PostgREST reads the
    // same node text); a renamed column (`b.author_id AS writer`) keeps its
    // base column. Entries of subqueries match too: conflicting ones are
    // dropped when the foreign keys are inferred.
    let view_columns = b
        .fetch(
            &stmt(
                "SELECT r.ev_class::int8 AS view, m[1]::text AS vcol, m[2]::int8 AS rel, a.attname::text AS col \
                 FROM pg_rewrite r \
                 CROSS JOIN LATERAL regexp_matches(r.ev_action::text, \
                   ':resname (\\S+) :ressortgroupref \\d+ :resorigtbl (\\d+) :resorigcol (\\d+)', 'g') AS m \
                 JOIN pg_attribute a ON a.attrelid = m[2]::oid AND a.attnum = m[3]::int2 \
                 WHERE r.rulename = '_RETURN' AND m[2] <> '0' AND m[2]::oid <> r.ev_class \
                 ORDER BY 1, 2, 3, 4",
                vec![],
            ),
            &[
                col("view", FieldType::Int64),
                col("vcol", FieldType::Text),
                col("rel", FieldType::Int64),
                col("col", FieldType::Text),
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
            updatable: flag(r, "updatable"),
            auto_updatable: flag(r, "auto_updatable"),
            request_settings: flag(r, "settings"),
            write_settings: flag(r, "write_settings"),
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
            let id = s(r, "enum_id");
            let values = id
                .as_ref()
                .and_then(|id| labels.get(id).cloned())
                .unwrap_or_default();
            let name = id.and_then(|id| qualified.get(&id).cloned()).unwrap_or(n);
            (name, values)
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
            composite: flag(r, "composite"),
        });
    }
    // (referenced table, referencing table) of the foreign keys whose
    // actions write the referencing rows when the referenced ones change.
    let mut cascades: Vec<(usize, usize)> = Vec::new();
    for r in &constraints {
        let Some(&t) = by_rel.get(&i(r, "rel")) else {
            continue;
        };
        if flag(r, "cascades")
            && let Some(&parent) = by_rel.get(&i(r, "ref_rel"))
        {
            cascades.push((parent, t));
        }
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
    for r in &view_usage {
        if let (Some(view), Some(table)) = (keys.get(&i(r, "view")), keys.get(&i(r, "rel"))) {
            cat.view_usage
                .push((view.clone(), table.clone(), req(r, "col")?));
        }
    }
    // A write that cascades to a table whose writes read the settings
    // reads them too, however many tables the cascade goes through
    // (`SETTINGS_READER` follows one step, into any schema).
    loop {
        let readers: Vec<usize> = cascades
            .iter()
            .filter(|(parent, child)| {
                cat.tables[*child].request_settings && !cat.tables[*parent].request_settings
            })
            .map(|(parent, _)| *parent)
            .collect();
        if readers.is_empty() {
            break;
        }
        for n in readers {
            cat.tables[n].request_settings = true;
        }
    }
    // A view reading a view that reads settings reads them too.
    mark_views(
        &mut cat,
        |t| !t.request_settings,
        |b| b.view && b.request_settings,
        |t| t.request_settings = true,
    );
    // A view written through writes the relations it reads, so its
    // writes read the settings where theirs do: a table marked by a
    // cascade above, a view's own reads or writes (in the schemas
    // introspected; the tables query followed the others in any schema).
    mark_views(
        &mut cat,
        |t| t.updatable && !t.write_settings,
        |b| b.request_settings || b.write_settings,
        |t| t.write_settings = true,
    );
    for r in &view_columns {
        if let (Some(view), Some(table)) = (keys.get(&i(r, "view")), keys.get(&i(r, "rel"))) {
            cat.view_columns
                .push((view.clone(), req(r, "vcol")?, table.clone(), req(r, "col")?));
        }
    }
    cat.functions = functions(b, &arr(), &keys_by_name(&cat)).await?;
    Ok(cat)
}

/// Marks every view that `pending` selects and whose rule reads a
/// relation `reads` says reads the settings, until nothing changes (a
/// view over a marked view is marked in the next round).
fn mark_views(
    cat: &mut Catalog,
    pending: impl Fn(&Table) -> bool,
    reads: impl Fn(&Table) -> bool,
    mark: impl Fn(&mut Table),
) {
    let index: HashMap<String, usize> = cat
        .tables
        .iter()
        .enumerate()
        .map(|(n, t)| (key(t.schema.as_deref(), &t.name), n))
        .collect();
    // The relations each view reads.
    let mut bases: HashMap<usize, Vec<usize>> = HashMap::new();
    for (v, base, _) in &cat.view_usage {
        if let (Some(&v), Some(&b)) = (index.get(v), index.get(base)) {
            let list = bases.entry(v).or_default();
            if !list.contains(&b) {
                list.push(b);
            }
        }
    }
    loop {
        let marked: Vec<usize> = bases
            .iter()
            .filter(|(v, bs)| {
                let t = &cat.tables[**v];
                t.view && pending(t) && bs.iter().any(|b| reads(&cat.tables[*b]))
            })
            .map(|(v, _)| *v)
            .collect();
        if marked.is_empty() {
            break;
        }
        for n in marked {
            mark(&mut cat.tables[n]);
        }
    }
}

/// The types of a single unnamed parameter PostgREST serves (`json` and
/// `jsonb` take a call's whole body, the others the argument `""`).
const BODY_TYPES: [&str; 5] = ["json", "jsonb", "text", "xml", "bytea"];

/// `schema.table` keys of the catalog's tables (a function returning
/// `SETOF tbl` names its table by schema and name).
fn keys_by_name(cat: &Catalog) -> std::collections::HashSet<String> {
    cat.tables
        .iter()
        .map(|t| key(t.schema.as_deref(), &t.name))
        .collect()
}

/// The functions of the introspected schemas that a call by named
/// arguments reaches: plain functions (`prokind = 'f'`), not part of an
/// extension (overloads with the same parameter names too: a call of them
/// is PostgREST's ambiguous 300), every input parameter named (but a single one of a type of
/// [`BODY_TYPES`]), none polymorphic (a `VARIADIC` one is
/// its array, passed as `VARIADIC v => …`; a row of a served table is a
/// JSON object, and as the one argument, named or not, also makes a
/// computed field); returning `void`, a scalar, rows of a table
/// (`SETOF tbl`), declared columns (`RETURNS TABLE`, `OUT` parameters) or
/// the attributes of a composite type; a domain result is its base type.
/// Others are left out (triggers, `SETOF record` without a column list).
async fn functions(
    b: &mut dyn SqlTransaction,
    schemas: &[SqValue],
    tables: &std::collections::HashSet<String>,
) -> Result<Vec<CatalogFunction>> {
    let text_array = || FieldType::Array {
        items: Box::new(FieldType::Text),
    };
    let rows = b
        .fetch(
            &stmt(
                "SELECT n.nspname::text AS schema, p.proname::text AS name, \
                 p.provolatile::text AS volatility, p.proretset AS retset, \
                 p.pronargdefaults::int8 AS ndefaults, \
                 coalesce(p.proargnames, ARRAY[]::text[])::text[] AS argnames, \
                 coalesce(p.proargmodes::text[], ARRAY[]::text[]) AS argmodes, \
                 ARRAY(SELECT format_type(u.x, NULL) FROM unnest(coalesce(p.proallargtypes, p.proargtypes::oid[])) WITH ORDINALITY AS u(x, i) ORDER BY u.i)::text[] AS argtypes, \
                 ARRAY(SELECT t2.typtype::text FROM unnest(coalesce(p.proallargtypes, p.proargtypes::oid[])) WITH ORDINALITY AS u(x, i) JOIN pg_type t2 ON t2.oid = u.x ORDER BY u.i)::text[] AS argkinds, \
                 ARRAY(SELECT format_type(CASE WHEN t5.typtype = 'd' THEN t5.typbasetype ELSE u.x END, CASE WHEN t5.typtype = 'd' THEN t5.typtypmod END) FROM unnest(coalesce(p.proallargtypes, p.proargtypes::oid[])) WITH ORDINALITY AS u(x, i) JOIN pg_type t5 ON t5.oid = u.x ORDER BY u.i)::text[] AS argbases, \
                 ARRAY(SELECT coalesce(an.nspname || '.' || ac.relname, '') FROM unnest(coalesce(p.proallargtypes, p.proargtypes::oid[])) WITH ORDINALITY AS u(x, i) JOIN pg_type t4 ON t4.oid = u.x LEFT JOIN pg_class ac ON ac.oid = t4.typrelid LEFT JOIN pg_namespace an ON an.oid = ac.relnamespace ORDER BY u.i)::text[] AS argrels, \
                 format_type(p.prorettype, NULL) AS rettype, t.typtype::text AS retkind, \
                 format_type(t.typbasetype, NULL) AS retbase, \
                 rn.nspname::text AS ret_schema, rc.relname::text AS ret_table, \
                 rc.relkind::text AS ret_relkind, \
                 ARRAY(SELECT a.attname::text FROM pg_attribute a WHERE a.attrelid = rc.oid AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum)::text[] AS retcols, \
                 ARRAY(SELECT format_type(CASE WHEN ct.typtype = 'd' THEN ct.typbasetype ELSE a.atttypid END, CASE WHEN ct.typtype = 'd' THEN ct.typtypmod ELSE a.atttypmod END) FROM pg_attribute a JOIN pg_type ct ON ct.oid = a.atttypid WHERE a.attrelid = rc.oid AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum)::text[] AS retcoltypes, \
                 obj_description(p.oid, 'pg_proc') AS comment, \
                 (SELECT count(*) FROM pg_proc o WHERE o.pronamespace = p.pronamespace AND o.proname = p.proname)::int8 AS overloads, \
                 (p.proretset AND p.prorows = 1) AS one_row \
                 FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace \
                 JOIN pg_type t ON t.oid = p.prorettype \
                 LEFT JOIN pg_class rc ON rc.oid = t.typrelid AND t.typtype = 'c' \
                 LEFT JOIN pg_namespace rn ON rn.oid = rc.relnamespace \
                 WHERE n.nspname = ANY(CAST($1 AS text[])) AND p.prokind = 'f' \
                   AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass \
                                   AND d.objid = p.oid AND d.deptype = 'e') \
                 ORDER BY n.nspname, p.proname, p.oid",
                schemas.to_vec(),
            ),
            &[
                col("schema", FieldType::Text),
                col("name", FieldType::Text),
                col("volatility", FieldType::Text),
                col("retset", FieldType::Boolean),
                col("ndefaults", FieldType::Int64),
                col("argnames", text_array()),
                col("argmodes", text_array()),
                col("argtypes", text_array()),
                col("argkinds", text_array()),
                col("argbases", text_array()),
                col("argrels", text_array()),
                col("rettype", FieldType::Text),
                col("retkind", FieldType::Text),
                col("retbase", FieldType::Text),
                col("ret_schema", FieldType::Text),
                col("ret_table", FieldType::Text),
                col("ret_relkind", FieldType::Text),
                col("retcols", text_array()),
                col("retcoltypes", text_array()),
                col("comment", FieldType::Text),
                col("overloads", FieldType::Int64),
                col("one_row", FieldType::Boolean),
            ],
        )
        .await?;
    let mut out = Vec::new();
    'functions: for r in &rows {
        let (names, modes, types) = (
            strs(r, "argnames"),
            strs(r, "argmodes"),
            strs(r, "argtypes"),
        );
        let kinds = strs(r, "argkinds");
        // A result column of a domain answers as its base type's values.
        let bases = strs(r, "argbases");
        let rels = strs(r, "argrels");
        let mut params = Vec::new();
        let mut columns = Vec::new();
        let mut row_of = None;
        let mut callable = true;
        for (k, ty) in types.iter().enumerate() {
            let mode = modes.get(k).map_or("i", String::as_str);
            let name = names.get(k).cloned().unwrap_or_default();
            if ty.starts_with("any") || ty == "internal" {
                continue 'functions;
            }
            if matches!(mode, "i" | "b" | "v") {
                if kinds.get(k).is_some_and(|t| t == "c") {
                    // A row of a served table: an argument given as a JSON
                    // object (PostgREST's `{"user_row": {…}}`); as the
                    // first, also a computed field or relationship when it
                    // is the only one (PostgREST's).
                    let Some(rel) = rels.get(k).filter(|r| tables.contains(*r)) else {
                        continue 'functions;
                    };
                    if k == 0 {
                        row_of = Some(rel.clone());
                    }
                    // A call casts to the type by name: one it cannot
                    // write safely (`"my-table"`) leaves the function a
                    // computed field only.
                    if name.is_empty() || !baas_core::function::is_type_name(ty) {
                        callable = false;
                    }
                    params.push((name.clone(), ty.clone(), false, Some(rel.clone())));
                    continue;
                }
                // PostgREST's single unnamed parameter of these types takes
                // a `POST`'s whole body.
                let inputs = modes.is_empty() && types.len() == 1
                    || modes
                        .iter()
                        .filter(|m| matches!(m.as_str(), "i" | "b" | "v"))
                        .count()
                        == 1;
                if name.is_empty() && !(inputs && mode != "v" && BODY_TYPES.contains(&ty.as_str()))
                {
                    continue 'functions;
                }
                params.push((name.clone(), ty.clone(), mode == "v", None));
            }
            if matches!(mode, "o" | "b" | "t") {
                columns.push((name, bases.get(k).unwrap_or(ty).clone()));
            }
        }
        let defaults = usize::try_from(i(r, "ndefaults")).unwrap_or(0);
        let required = params.len().saturating_sub(defaults);
        let rettype = req(r, "rettype")?;
        let set = flag(r, "retset");
        let returns = match (req(r, "retkind")?.as_str(), rettype.as_str()) {
            // One `OUT` (or `TABLE`) parameter: rows of that column, as
            // PostgREST answers them (`{"num_plus_one": 6}`), not its value.
            _ if columns.len() == 1 && !columns[0].0.is_empty() => CatalogReturns::Columns(columns),
            ("p", "void") => CatalogReturns::Void,
            ("p", "record") if !columns.is_empty() => CatalogReturns::Columns(columns),
            ("p", _) => continue,
            ("c", _) => match (s(r, "ret_schema"), s(r, "ret_table")) {
                (Some(schema), Some(table)) if tables.contains(&key(Some(&schema), &table)) => {
                    CatalogReturns::Table(key(Some(&schema), &table))
                }
                // A composite type of its own (not a table or view left
                // unserved): rows of its attributes, as PostgREST answers.
                _ if s(r, "ret_relkind").as_deref() == Some("c") => {
                    let cols: Vec<(String, String)> = strs(r, "retcols")
                        .into_iter()
                        .zip(strs(r, "retcoltypes"))
                        .collect();
                    if cols.is_empty() {
                        continue;
                    }
                    CatalogReturns::Columns(cols)
                }
                _ => continue,
            },
            // A domain: its base type's values (its check held when the
            // function returned).
            ("d", _) => CatalogReturns::Scalar(req(r, "retbase")?),
            _ => CatalogReturns::Scalar(rettype),
        };
        // A computed field's row is its only argument.
        if params.len() > 1 {
            row_of = None;
        }
        if row_of.is_none() && !callable {
            continue;
        }
        out.push(CatalogFunction {
            row_of,
            callable,
            schema: req(r, "schema")?,
            name: req(r, "name")?,
            volatility: req(r, "volatility")?,
            set,
            one_row: flag(r, "one_row"),
            params: params
                .into_iter()
                .enumerate()
                .map(|(k, (name, ty, variadic, row))| CatalogParam {
                    name,
                    ty,
                    optional: k >= required,
                    variadic,
                    row,
                })
                .collect(),
            returns,
            comment: s(r, "comment"),
        });
    }
    out.retain(|f| f.callable || f.row_of.is_some());
    Ok(out)
}
