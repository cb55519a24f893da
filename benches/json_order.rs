//! The cost of sorting JSON values as `jsonb` does on SQLite
//! (`order=meta->k`): scalars by the three keys SQLite sorted by before
//! (type rank, number, text), arrays and objects by the `baas_jsonb`
//! collation, which parses both JSON texts of every comparison
//! (`baas_core::jsonb_order::jsonb_text_cmp`). Measured,
//! in the same run, the statement alone (`raw_…`, sqlx rows, nothing
//! decoded) with the collation on every value, against the three keys
//! SQLite sorted by before (type rank, number, text: no parsing, arrays
//! and objects by their text), and the
//! whole read through the adapter (rows decoded) with the collation and
//! with no order, over 10 000 rows whose values mix numbers, strings,
//! arrays and objects; every row is read.
//!
//!   cargo bench -p baas-benches --bench json_order

use baas_core::adapter::{DatabaseAdapterExt, Target};
use baas_core::ir::{OrderBy, Query};
use baas_core::metadata::{Entity, Field, FieldType, SchemaMetadata};
use criterion::{Criterion, criterion_group, criterion_main};

#[path = "sqlite_file.rs"]
mod sqlite_file;
use sqlite_file::sqlite_file;

const TABLE: &str = "bench_json_order";
const ROWS: i64 = 10_000;

fn json_order(c: &mut Criterion) {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let schema = SchemaMetadata::new(vec![
        Entity::new(
            TABLE,
            vec![
                Field::new("id", FieldType::Int64),
                Field::new("meta", FieldType::Json),
            ],
        )
        .with_primary_key(["id"]),
    ]);
    let target = Target::new(&schema, TABLE).expect("target");
    // A number, a string, an array of two numbers or an object, by turns.
    let (db, path) = sqlite_file(
        &rt,
        "json-order",
        &format!(
            "CREATE TABLE {TABLE} (id INTEGER PRIMARY KEY, meta TEXT);
             WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {ROWS})
             INSERT INTO {TABLE} SELECT i, CASE i % 4
               WHEN 0 THEN json_object('k', (i * 7919) % 1000)
               WHEN 1 THEN json_object('k', 'v' || ((i * 7919) % 1000))
               WHEN 2 THEN json_object('k', json_array((i * 7919) % 100, i % 7))
               ELSE json_object('k', json_object('a', i % 13)) END FROM n;"
        ),
    );
    let query = |order: Option<OrderBy>| {
        let mut q = Query::new(TABLE).limit(ROWS as u64);
        q.order = order.into_iter().collect();
        q
    };
    let jsonb = query(Some(OrderBy::asc("meta").at_path(vec!["k".into()], false)));
    let none = query(None);
    let three_keys = format!(
        "SELECT id, meta FROM {TABLE} ORDER BY \
         CASE json_type(meta, '$.k') WHEN 'null' THEN 0 WHEN 'text' THEN 1 WHEN 'integer' THEN 2 \
         WHEN 'real' THEN 2 WHEN 'true' THEN 3 WHEN 'false' THEN 3 WHEN 'array' THEN 4 WHEN 'object' THEN 5 END, \
         CASE WHEN json_type(meta, '$.k') IN ('integer', 'real') THEN json_extract(meta, '$.k') END, \
         CASE json_type(meta, '$.k') WHEN 'text' THEN json_extract(meta, '$.k') \
         WHEN 'array' THEN json_extract(meta, '$.k') WHEN 'object' THEN json_extract(meta, '$.k') END"
    );
    // Every value through the collation (the first version of this change).
    let collated =
        format!("SELECT id, meta FROM {TABLE} ORDER BY (meta -> '$.k') COLLATE baas_jsonb");
    let pool = db.backend().pool().clone();
    let raw = |sql: &str| {
        rt.block_on(sqlx::query(sqlx::AssertSqlSafe(sql.to_string())).fetch_all(&pool))
            .expect("raw")
    };
    let mut group = c.benchmark_group("sqlite_order_10k_by_json_path");
    group.sample_size(20);
    group.bench_function("jsonb_collation", |b| {
        b.iter(|| rt.block_on(db.find(target, &jsonb)).expect("jsonb"))
    });
    group.bench_function("raw_collation_of_every_value", |b| {
        b.iter(|| raw(&collated))
    });
    group.bench_function("raw_three_keys_before", |b| b.iter(|| raw(&three_keys)));
    group.bench_function("no_order", |b| {
        b.iter(|| rt.block_on(db.find(target, &none)).expect("none"))
    });
    group.finish();
    let _ = std::fs::remove_file(&path);
}

criterion_group!(benches, json_order);
criterion_main!(benches);
