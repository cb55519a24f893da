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
//!
//! One file per engine holds its catalog queries (`postgres`, `mysql`,
//! `sqlite`); this module holds the neutral model and its mapping.

use std::collections::HashMap;

use baas_core::function::{Function, Param, Returns, Volatility};
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

mod mysql;
mod mysql_views;
mod postgres;
mod sqlite;

/// A table or view as the catalog describes it.
#[derive(Debug, Default)]
struct Table {
    schema: Option<String>,
    name: String,
    view: bool,
    /// A view the database writes through (PostgreSQL's auto-updatable
    /// views and views with `INSTEAD OF` triggers, MySQL's updatable ones).
    updatable: bool,
    /// PostgreSQL writes through it by itself (not by triggers): its
    /// `FROM` has exactly one relation, whose rows are the view's.
    auto_updatable: bool,
    /// Statements on it may read request settings ([`Entity::request_settings`]).
    request_settings: bool,
    /// Writes through it may read them ([`Entity::write_settings`]).
    write_settings: bool,
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
    /// Of a PostgreSQL composite type, or an array of one: answered as
    /// its JSON object(s), as PostgREST answers it.
    composite: bool,
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

/// What a catalog function returns.
#[derive(Debug, Clone)]
enum CatalogReturns {
    Void,
    /// A type, as the catalog formats it.
    Scalar(String),
    /// Rows of a catalog table (its key).
    Table(String),
    /// Declared columns: name and type.
    Columns(Vec<(String, String)>),
    /// A procedure (MySQL/MariaDB): its first result set, columns known
    /// when it runs, or its `OUT` parameters (position among all its
    /// parameters, name, type, `INOUT`).
    Procedure(Vec<(usize, String, String, bool)>),
}

/// A function as the catalog describes it (PostgreSQL).
#[derive(Debug, Clone)]
struct CatalogFunction {
    /// Its one argument is a row of this catalog table (key): a computed
    /// field or relationship of that table.
    row_of: Option<String>,
    /// A call by named arguments reaches it (`/rpc`): every parameter
    /// named, no overload with the same names.
    callable: bool,
    schema: String,
    name: String,
    /// `i`, `s` or `v`.
    volatility: String,
    set: bool,
    /// `SETOF … ROWS 1`: declared to return at most one row (a computed
    /// relationship of it is to-one, as in PostgREST).
    one_row: bool,
    /// Input parameters.
    params: Vec<CatalogParam>,
    returns: CatalogReturns,
    comment: Option<String>,
}

/// An input parameter of a catalog function.
#[derive(Debug, Clone)]
struct CatalogParam {
    /// A row of this catalog table (key), given as a JSON object.
    row: Option<String>,
    name: String,
    /// The database's name of its type.
    ty: String,
    /// It has a default.
    optional: bool,
    /// PostgreSQL's `VARIADIC` parameter.
    variadic: bool,
}

/// Everything read from a catalog.
#[derive(Debug, Default)]
struct Catalog {
    tables: Vec<Table>,
    foreign_keys: Vec<CatalogFk>,
    functions: Vec<CatalogFunction>,
    /// (view, base table, column): the base-table columns a view reads
    /// (PostgreSQL).
    view_usage: Vec<(String, String, String)>,
    /// (view, view column, base table, base column): where a view's
    /// columns come from, renamed or not (PostgreSQL's rewrite rules,
    /// MySQL's view definitions).
    view_columns: Vec<(String, String, String, String)>,
}

/// The catalog's view lineage indexed by view (key), and its tables by
/// key, so that inferring views' keys and relations costs in proportion
/// to each view's own entries (a schema of 400 tables and 400 views took
/// 12 s scanning every entry for every view and key).
struct Lineage<'c> {
    /// (view column, base table, base column) of each view.
    columns: HashMap<&'c str, Vec<(&'c str, &'c str, &'c str)>>,
    /// (base table, base column) each view reads.
    usage: HashMap<&'c str, Vec<(&'c str, &'c str)>>,
    /// Catalog tables by key.
    tables: HashMap<String, usize>,
}

impl<'c> Lineage<'c> {
    fn new(catalog: &'c Catalog) -> Self {
        let mut columns: HashMap<&str, Vec<_>> = HashMap::new();
        for (v, vc, t, c) in &catalog.view_columns {
            columns
                .entry(v.as_str())
                .or_default()
                .push((vc.as_str(), t.as_str(), c.as_str()));
        }
        let mut usage: HashMap<&str, Vec<_>> = HashMap::new();
        for (v, t, c) in &catalog.view_usage {
            usage
                .entry(v.as_str())
                .or_default()
                .push((t.as_str(), c.as_str()));
        }
        let tables = catalog
            .tables
            .iter()
            .enumerate()
            .map(|(n, t)| (key(t.schema.as_deref(), &t.name), n))
            .collect();
        Self {
            columns,
            usage,
            tables,
        }
    }

    /// Where the columns of view `view` come from.
    fn columns_of(&self, view: &str) -> &[(&'c str, &'c str, &'c str)] {
        self.columns
            .get(view)
            .map(Vec::as_slice)
            .unwrap_or_default()
    }

    /// The base columns view `view` reads.
    fn usage_of(&self, view: &str) -> &[(&'c str, &'c str)] {
        self.usage.get(view).map(Vec::as_slice).unwrap_or_default()
    }

    /// The tables view `view` reads, in the order its columns show them,
    /// then the others its rule reads.
    fn bases(&self, v: &Table, view: &str) -> Vec<&'c str> {
        let mut bases: Vec<&str> = Vec::new();
        let entries = self.columns_of(view);
        for c in &v.columns {
            for (_, t, _) in entries.iter().filter(|(vc, _, _)| *vc == c.name) {
                if !bases.contains(t) {
                    bases.push(t);
                }
            }
        }
        for (t, _) in self.usage_of(view) {
            if !bases.contains(t) {
                bases.push(t);
            }
        }
        bases
    }
}

/// The foreign keys of views, inferred from their base tables as PostgREST
/// embeds through views: a foreign key of a base table whose columns the
/// view shows, under any name, holds for the view too, on the referencing
/// side (`view.writer → author` for `b.author_id AS writer`) and on the
/// referenced side (`book.author_id → view.book_id`). Where a view column
/// comes from is its rewrite rule's target entry; a column whose entries
/// disagree (a subquery's column of the same name) comes from nowhere.
/// Without target entries (another engine, or a rule they cannot be read
/// from), a view column is a base column when the view reads a column of
/// that name from that one base table only (the rule's dependencies). A
/// foreign key between two tables holds between views over each too.
/// Each comes with whether its referencing columns are unique in their
/// table, which makes the reverse relation one-to-one.
fn view_foreign_keys(catalog: &Catalog) -> Vec<(CatalogFk, bool)> {
    let lineage = Lineage::new(catalog);
    // Whether `cols` are unique in `table` (its primary key or a unique
    // index): a view showing them keeps a one-to-one relation one-to-one.
    let unique = |table: &str, cols: &[String]| {
        let same = |a: &[String]| a.len() == cols.len() && a.iter().all(|c| cols.contains(c));
        lineage
            .tables
            .get(table)
            .map(|&n| &catalog.tables[n])
            .is_some_and(|t| {
                same(&t.primary_key) || t.indexes.iter().any(|i| i.unique && same(&i.fields))
            })
    };
    // The views over each table.
    let mut over: HashMap<&str, Vec<(&Table, String)>> = HashMap::new();
    for v in catalog.tables.iter().filter(|t| t.view) {
        let view = key(v.schema.as_deref(), &v.name);
        for base in lineage.bases(v, &view) {
            if base != view {
                over.entry(base).or_default().push((v, view.clone()));
            }
        }
    }
    let mut out = Vec::new();
    for fk in &catalog.foreign_keys {
        // Every view showing `cols` of `table`, with its names for them.
        let showing = |table: &str, cols: &[String]| -> Vec<(&String, Vec<String>)> {
            over.get(table)
                .map(Vec::as_slice)
                .unwrap_or_default()
                .iter()
                .filter_map(|(v, view)| Some((view, shown_in(&lineage, v, view, table, cols)?)))
                .collect()
        };
        let from = showing(&fk.from, &fk.columns);
        let to = showing(&fk.to, &fk.ref_columns);
        let one = unique(&fk.from, &fk.columns);
        let mut edge =
            |from: &String, columns: &[String], to: &String, ref_columns: &[String], one| {
                out.push((
                    CatalogFk {
                        from: from.clone(),
                        columns: columns.to_vec(),
                        to: to.clone(),
                        ref_columns: ref_columns.to_vec(),
                        name: fk.name.clone(),
                    },
                    one,
                ));
            };
        // A view of the referencing table → the referenced table.
        for (view, columns) in &from {
            edge(view, columns, &fk.to, &fk.ref_columns, one);
        }
        // The referencing table → a view of the referenced one (not for a
        // table's reference to itself, which its views take through the
        // referencing side).
        if fk.from != fk.to {
            for (view, ref_columns) in &to {
                edge(&fk.from, &fk.columns, view, ref_columns, false);
            }
        }
        // Views on both sides (`books` over `private.books`, `authors`
        // over `private.authors`), as PostgREST rewrites a foreign key onto
        // every view over each of its tables; a table's reference to
        // itself holds between its views too (`job.parent_id`).
        for (va, columns) in &from {
            for (vb, ref_columns) in &to {
                edge(va, columns, vb, ref_columns, one);
            }
        }
    }
    out
}

/// Follows a view column that shows another view's column to where that
/// one comes from (PostgreSQL records a rule's target entry against the
/// relation it names, the inner view), however many views deep, so that a
/// view over a view takes its table's keys and foreign keys, as PostgREST
/// follows them. An inner view column that comes from nowhere (an
/// expression) leaves the entry as it is.
fn follow_views(catalog: &mut Catalog) {
    let views: std::collections::HashSet<String> = catalog
        .tables
        .iter()
        .filter(|t| t.view)
        .map(|t| key(t.schema.as_deref(), &t.name))
        .collect();
    // A chain of views longer than this keeps its deeper entries
    // unresolved.
    for _ in 0..16 {
        let mut origins: HashMap<(&str, &str), Vec<(&String, &String)>> = HashMap::new();
        for (v, vc, t, c) in &catalog.view_columns {
            origins.entry((v, vc)).or_default().push((t, c));
        }
        let mut changed = false;
        let mut out: Vec<(String, String, String, String)> = Vec::new();
        for (v, vc, t, c) in &catalog.view_columns {
            let inner = match origins.get(&(t.as_str(), c.as_str())) {
                Some(inner) if views.contains(t) && t != v => inner,
                _ => {
                    out.push((v.clone(), vc.clone(), t.clone(), c.clone()));
                    continue;
                }
            };
            changed = true;
            for (it, ic) in inner {
                out.push((v.clone(), vc.clone(), (*it).clone(), (*ic).clone()));
            }
        }
        out.sort();
        out.dedup();
        catalog.view_columns = out;
        if !changed {
            break;
        }
    }
}

/// A column of a view the database writes through that shows an
/// auto-increment column as it is generates its values too: a row written
/// through the view without it gets the table's next value (MySQL then
/// reads it back by `LAST_INSERT_ID()`).
fn view_generated(catalog: &mut Catalog) {
    let lineage = Lineage::new(catalog);
    let mut generated: Vec<(usize, usize)> = Vec::new();
    for (n, v) in catalog
        .tables
        .iter()
        .enumerate()
        .filter(|(_, t)| t.view && t.updatable)
    {
        let view = key(v.schema.as_deref(), &v.name);
        let entries = lineage.columns_of(&view);
        for (k, c) in v.columns.iter().enumerate() {
            let mut origins = entries.iter().filter(|(vc, _, _)| *vc == c.name);
            let (Some((_, t, bc)), None) = (origins.next(), origins.next()) else {
                continue;
            };
            let auto = lineage.tables.get(*t).is_some_and(|&b| {
                let b = &catalog.tables[b];
                !b.view && b.columns.iter().any(|x| x.name == *bc && x.auto_increment)
            });
            if auto {
                generated.push((n, k));
            }
        }
    }
    drop(lineage);
    for (n, k) in generated {
        catalog.tables[n].columns[k].auto_increment = true;
    }
}

/// Gives each view without a primary key the one PostgREST infers: the
/// view's columns showing the whole primary key of a table it reads
/// ([`shown_in`]), for each such table in the order the view shows them
/// (a join view showing both keys is keyed by both). A view over a view
/// takes the key the inner view was given. A view showing no whole key
/// stays keyless, and so does a view written through whose rows are not
/// one table's.
fn view_primary_keys(catalog: &mut Catalog) {
    // Views over views take keys inferred in an earlier round.
    for _ in 0..catalog.tables.len() {
        let lineage = Lineage::new(catalog);
        let mut found = Vec::new();
        for (n, v) in catalog.tables.iter().enumerate() {
            if !v.view || !v.primary_key.is_empty() {
                continue;
            }
            let view = key(v.schema.as_deref(), &v.name);
            let bases = lineage.bases(v, &view);
            // A view written through is keyed only when its rows are one
            // table's: it reads no other table (views between followed),
            // and shows each key column once. A join (MySQL writes
            // through some) or a self-join could repeat a key, and a write
            // by key must touch one row.
            if v.updatable {
                // An auto-updatable view's rows are its one `FROM`
                // relation's (a `WHERE` may read other tables): the tables
                // its columns show. Otherwise every table it reads.
                let shown: Vec<&str>;
                let read = if v.auto_updatable {
                    shown = lineage
                        .columns_of(&view)
                        .iter()
                        .map(|(_, t, _)| *t)
                        .collect();
                    &shown
                } else {
                    &bases
                };
                let mut tables: Vec<&str> = read
                    .iter()
                    .copied()
                    .filter(|b| {
                        lineage
                            .tables
                            .get(*b)
                            .is_some_and(|&t| !catalog.tables[t].view)
                    })
                    .collect();
                tables.dedup();
                let entries = lineage.columns_of(&view);
                let once = |table: &str| {
                    lineage.tables.get(table).is_some_and(|&t| {
                        catalog.tables[t].primary_key.iter().all(|k| {
                            entries
                                .iter()
                                .filter(|(_, bt, bc)| *bt == table && bc == k)
                                .count()
                                == 1
                        })
                    })
                };
                if !matches!(tables.as_slice(), [one] if once(one)) {
                    continue;
                }
            }
            let mut pk: Vec<String> = Vec::new();
            for base in bases {
                let Some(&b) = lineage.tables.get(base) else {
                    continue;
                };
                let b = &catalog.tables[b];
                if b.primary_key.is_empty() || base == view {
                    continue;
                }
                if let Some(cols) = shown_in(&lineage, v, &view, base, &b.primary_key) {
                    for c in cols {
                        if !pk.contains(&c) {
                            pk.push(c);
                        }
                    }
                }
            }
            if !pk.is_empty() {
                found.push((n, pk));
            }
        }
        drop(lineage);
        if found.is_empty() {
            break;
        }
        for (n, pk) in found {
            catalog.tables[n].primary_key = pk;
        }
    }
}

/// The columns of view `v` (key `view`) showing `cols` of `table`, in
/// their order, if it shows them all ([`view_foreign_keys`]).
fn shown_in(
    lineage: &Lineage<'_>,
    v: &Table,
    view: &str,
    table: &str,
    cols: &[String],
) -> Option<Vec<String>> {
    let entries: Vec<&(&str, &str, &str)> = lineage
        .columns_of(view)
        .iter()
        .filter(|(vc, _, _)| v.columns.iter().any(|c| c.name == *vc))
        .collect();
    let usage = lineage.usage_of(view);
    // The view column showing `table.col`, if one does.
    let shown_as = |col: &str| -> Option<String> {
        if entries.is_empty() {
            let only_there = usage
                .iter()
                .filter(|(_, c)| *c == col)
                .all(|(t, _)| *t == table);
            let read = usage.iter().any(|(t, c)| *t == table && *c == col);
            let named = v.columns.iter().any(|c| c.name == col);
            return (only_there && read && named).then(|| col.to_string());
        }
        let from_here = |vc: &str| {
            entries
                .iter()
                .filter(|(c, _, _)| *c == vc)
                .all(|(_, t, bc)| *t == table && *bc == col)
        };
        let candidates: Vec<&str> = entries
            .iter()
            .filter(|(vc, t, bc)| *t == table && *bc == col && from_here(vc))
            .map(|(vc, _, _)| *vc)
            .collect();
        candidates
            .iter()
            .find(|vc| **vc == col)
            .or(candidates.first())
            .map(|vc| vc.to_string())
    };
    cols.iter().map(|c| shown_as(c)).collect()
}

fn key(schema: Option<&str>, table: &str) -> String {
    match schema {
        Some(s) => format!("{s}.{table}"),
        None => table.to_string(),
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
        Dialect::Postgres => postgres::catalog(backend, options).await?,
        Dialect::Mysql => mysql::catalog(backend).await?,
        Dialect::Sqlite => sqlite::catalog(backend).await?,
    };
    build(dialect, catalog, options)
}

fn build(
    dialect: Dialect,
    mut catalog: Catalog,
    options: &IntrospectOptions,
) -> Result<SchemaMetadata> {
    let mut names: HashMap<String, String> = HashMap::new();
    let mut entities = Vec::new();
    follow_views(&mut catalog);
    view_generated(&mut catalog);
    let view_fks = view_foreign_keys(&catalog);
    view_primary_keys(&mut catalog);
    for t in catalog.tables {
        if t.view && options.skip_views {
            continue;
        }
        let name = dialect.sql().entity_name(t.schema.as_deref(), &t.name);
        names.insert(key(t.schema.as_deref(), &t.name), name.clone());
        let fields = t
            .columns
            .into_iter()
            .map(|c| {
                let mapped = field_type(dialect, &c.declared);
                let geometry = postgis_geometry(dialect, &c.declared);
                // A composite's type name, as its object is written back.
                let composite = (c.composite && baas_core::function::is_type_name(&c.declared))
                    .then(|| c.declared.clone());
                // A geometry is its GeoJSON, a composite its object: JSON
                // fields.
                let json = c.json || geometry.is_some() || composite.is_some();
                let db_type = if geometry.is_some() {
                    geometry
                } else if composite.is_some() {
                    composite
                } else if c.enum_type.is_none() && !c.json {
                    unmapped_type(dialect, &mapped, &c.declared)
                } else {
                    None
                };
                let ty = match (c.enum_type, json) {
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
                    range: mapped.range,
                    db_type,
                    description: c.comment,
                    computed: None,
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
            read_only: t.view && !t.updatable,
            view: t.view,
            request_settings: t.request_settings,
            write_settings: t.write_settings,
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
    // A foreign key between served entities.
    let serve = |fk: CatalogFk| -> Option<ForeignKey> {
        Some(ForeignKey {
            from_entity: names.get(&fk.from)?.clone(),
            from_fields: fk.columns,
            to_entity: names.get(&fk.to)?.clone(),
            to_fields: fk.ref_columns,
            name: Some(fk.name),
        })
    };
    // The tables' foreign keys first (junctions are found among them),
    // then the ones views take from them, which add relations but never
    // make a table stop being a junction.
    let table_fks: Vec<ForeignKey> = catalog.foreign_keys.into_iter().filter_map(serve).collect();
    infer_relations(&mut schema, &table_fks);
    let (view_fks, unique): (Vec<ForeignKey>, Vec<bool>) = view_fks
        .into_iter()
        .filter_map(|(fk, one)| Some((serve(fk)?, one)))
        .unzip();
    infer_relations(&mut schema, &view_fks);
    // A view's columns unique in its table (`students_info_view` showing
    // `students_info`'s key): the reverse relation is one-to-one, as on
    // the table.
    for (fk, one) in view_fks.iter().zip(unique) {
        if !one {
            continue;
        }
        if let Some(parent) = schema.entities.iter_mut().find(|e| e.name == fk.to_entity) {
            for r in parent.relations.iter_mut().filter(|r| {
                r.target == fk.from_entity
                    && r.from_fields == fk.to_fields
                    && r.to_fields == fk.from_fields
                    && r.kind == baas_core::RelationKind::OneToMany
            }) {
                r.kind = baas_core::RelationKind::OneToOne;
            }
        }
    }
    let computed: Vec<CatalogFunction> = catalog
        .functions
        .iter()
        .filter(|f| f.row_of.is_some())
        .cloned()
        .collect();
    let called: Vec<CatalogFunction> = catalog
        .functions
        .into_iter()
        .filter(|f| f.callable)
        .collect();
    computed_fields(dialect, computed, &names, &mut schema);
    schema.functions = functions(dialect, called, &names, &schema);
    Ok(schema)
}

/// Functions taking a row of a table (`STABLE` or `IMMUTABLE`: they are
/// read inside a `SELECT`) become, as in PostgREST, computed fields of its
/// entity when they return one value, and computed relationships when
/// they return rows of a served table (`SETOF tbl`: to-many, `tbl`:
/// to-one); under the function's name, unless the entity has a field or
/// relation of that name.
fn computed_fields(
    dialect: Dialect,
    found: Vec<CatalogFunction>,
    names: &HashMap<String, String>,
    schema: &mut SchemaMetadata,
) {
    for f in found {
        let (Some(table), "s" | "i") = (f.row_of.as_ref(), f.volatility.as_str()) else {
            continue;
        };
        let related = match &f.returns {
            CatalogReturns::Table(key) => match names.get(key) {
                Some(target) => Some(target.clone()),
                None => continue,
            },
            CatalogReturns::Scalar(_) if !f.set => None,
            _ => continue,
        };
        let Some(entity) = names
            .get(table)
            .and_then(|n| schema.entities.iter_mut().find(|e| &e.name == n))
        else {
            continue;
        };
        if entity.fields.iter().any(|x| x.name == f.name)
            || (related.is_none() && entity.relations.iter().any(|r| r.name == f.name))
        {
            continue;
        }
        let function = Source {
            table: f.name.clone(),
            schema: Some(f.schema.clone()),
        };
        if let Some(target) = related {
            if entity.primary_key.is_empty() {
                continue;
            }
            // A computed relationship named like a foreign key's relation
            // overrides it, as in PostgREST.
            entity.relations.retain(|r| r.name != f.name);
            entity.relations.push(baas_core::Relation {
                name: f.name,
                kind: if f.set && !f.one_row {
                    baas_core::RelationKind::OneToMany
                } else {
                    baas_core::RelationKind::ManyToOne
                },
                target,
                from_fields: entity.primary_key.clone(),
                to_fields: Vec::new(),
                constraint: None,
                function: Some(Box::new(function)),
            });
            continue;
        }
        let CatalogReturns::Scalar(rettype) = &f.returns else {
            continue;
        };
        let mapped = field_type(dialect, rettype);
        let mut field = Field::new(f.name.clone(), mapped.ty.clone())
            .nullable()
            .computed(function);
        field.db_type = unmapped_type(dialect, &mapped, rettype);
        field.description = f.comment;
        entity.fields.push(field);
    }
}

/// The database type of a PostgreSQL column without a mapping (read and
/// written through its text form), without modifiers
/// (`geometry(Point,4326)` → `geometry`).
fn unmapped_type(
    dialect: Dialect,
    mapped: &crate::types::SqlType,
    declared: &str,
) -> Option<String> {
    let text = FieldType::Text;
    let array = matches!(&mapped.ty, FieldType::Array { items } if **items == text);
    if dialect != Dialect::Postgres || !mapped.unmapped || (mapped.ty != text && !array) {
        return None;
    }
    let base = declared.split('(').next().unwrap_or(declared).trim();
    // `_int4range` (the array type's own name) is `int4range[]`.
    let base = match (array, base.strip_prefix('_')) {
        (true, Some(item)) if !base.ends_with("[]") => format!("{item}[]"),
        _ => base.to_string(),
    };
    baas_core::function::is_type_name(&base).then_some(base)
}

/// A PostGIS `geometry` column's type name (`geometry`, or schema-qualified
/// where PostGIS lives outside the search path: `extensions.geometry`),
/// whatever its modifiers (`geometry(Point,4326)`): read as its GeoJSON
/// (PostGIS's `geometry` → `jsonb` cast, what PostgREST answers), written
/// from GeoJSON, WKT or EWKB text ([`Field::is_geometry`](baas_core::Field::is_geometry)).
/// `geography` stays a type without a mapping (PostgreSQL has no JSON cast
/// for it: its text form, as PostgREST shows it).
fn postgis_geometry(dialect: Dialect, declared: &str) -> Option<String> {
    let base = declared.split('(').next().unwrap_or(declared).trim();
    let unquoted = base.replace('"', "");
    (dialect == Dialect::Postgres
        && (unquoted == "geometry" || unquoted.ends_with(".geometry"))
        && baas_core::function::is_type_name(&unquoted))
    .then_some(unquoted)
}

/// A parameter's type to cast an argument to: the catalog names a
/// parameter's type without its modifier, and `character` and `bit`
/// without one are one character and one bit long, which would cut the
/// argument (a `char(5)` parameter takes `abcdefg` whole, as PostgreSQL
/// ignores a parameter's length): the types without a length instead.
fn uncut_type(declared: &str) -> String {
    let (base, array) = match declared.strip_suffix("[]") {
        Some(b) => (b, "[]"),
        None => (declared, ""),
    };
    match base {
        "character" => format!("bpchar{array}"),
        "bit" => format!("varbit{array}"),
        _ => declared.to_string(),
    }
}

/// The catalog's functions as metadata; one whose API name is already an
/// entity's, or whose result table is not served, is left out.
fn functions(
    dialect: Dialect,
    found: Vec<CatalogFunction>,
    names: &HashMap<String, String>,
    schema: &SchemaMetadata,
) -> Vec<Function> {
    let ty = |declared: &str| field_type(dialect, declared).ty;
    let mut out: Vec<Function> = Vec::new();
    for f in found {
        let name = dialect.sql().entity_name(Some(&f.schema), &f.name);
        if schema.entity(&name).is_ok() {
            continue;
        }
        let returns = match f.returns {
            CatalogReturns::Void => Returns::Void,
            CatalogReturns::Scalar(t) => Returns::Scalar {
                ty: ty(&t),
                set: f.set,
                db_type: unmapped_type(dialect, &field_type(dialect, &t), &t),
            },
            CatalogReturns::Table(key) => match names.get(&key) {
                Some(entity) => Returns::Entity {
                    entity: entity.clone(),
                    set: f.set,
                },
                None => continue,
            },
            CatalogReturns::Procedure(out) => Returns::Procedure {
                out: out
                    .into_iter()
                    .map(|(position, n, t, inout)| baas_core::function::OutParam {
                        field: Field::new(n, ty(&t)).nullable(),
                        position,
                        inout,
                    })
                    .collect(),
            },
            CatalogReturns::Columns(cols) => Returns::Rows {
                fields: cols
                    .into_iter()
                    .map(|(n, t)| {
                        let mut field = Field::new(n, ty(&t)).nullable();
                        field.db_type = unmapped_type(dialect, &field_type(dialect, &t), &t);
                        field
                    })
                    .collect(),
                set: f.set,
            },
        };
        // PostgreSQL calls `schema.fn(p => CAST($1 AS type))`; MySQL calls
        // `fn(?, ?)` in the current database, its values converted by the
        // server (its CAST takes few type names).
        let postgres = dialect == Dialect::Postgres;
        let function = Function {
            name,
            source: Source {
                table: f.name,
                schema: postgres.then_some(f.schema),
            },
            params: f
                .params
                .into_iter()
                .map(|p| {
                    // A `bit` parameter is any length: not a boolean.
                    let declared = if postgres { uncut_type(&p.ty) } else { p.ty };
                    Param {
                        name: p.name,
                        // A table's row: a JSON object of its fields.
                        ty: match p.row {
                            Some(_) => FieldType::Json,
                            None => ty(&declared),
                        },
                        db_type: postgres.then_some(declared),
                        optional: p.optional,
                        variadic: p.variadic,
                        row: p.row.is_some(),
                    }
                })
                .collect(),
            returns,
            volatility: match f.volatility.as_str() {
                "i" => Volatility::Immutable,
                "s" => Volatility::Stable,
                _ => Volatility::Volatile,
            },
            description: f.comment,
        };
        // Overloads keep one name; one function per signature (two
        // schemas' functions named alike keep the first).
        if !out
            .iter()
            .any(|o| o.name == function.name && o.signature() == function.signature())
        {
            out.push(function);
        }
    }
    out
}
