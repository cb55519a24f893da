//! The cost of answering keys in `select=` order (`FieldAliases::arrange`)
//! beside aggregates: 1000 groups of `select=n:count(),genre_id,ms:milliseconds.sum()`
//! put in that order then serialised, against serialising them in the
//! engine's order (what the answer cost before the layout).
//!
//!   cargo bench -p baas-benches --bench arrange

use baas_core::{Entity, Field, FieldType, SchemaMetadata};
use baas_rest::{ParseLimits, parse_read};
use criterion::{Criterion, criterion_group, criterion_main};
use serde_json::{Map, Value, json};

fn rows() -> Vec<Map<String, Value>> {
    (0..1000)
        // The engine's order: groups, then aggregates.
        .map(
            |i| match json!({"genre_id": i, "n": i * 3, "ms": i * 1000}) {
                Value::Object(o) => o,
                _ => Map::new(),
            },
        )
        .collect()
}

fn arrange(c: &mut Criterion) {
    let schema = SchemaMetadata::new(vec![
        Entity::new(
            "track",
            vec![
                Field::new("track_id", FieldType::Int32),
                Field::new("genre_id", FieldType::Int32),
                Field::new("milliseconds", FieldType::Int64),
            ],
        )
        .with_primary_key(["track_id"]),
    ]);
    let entity = schema.entity("track").expect("track");
    let read = parse_read(
        &schema,
        entity,
        "select=n:count(),genre_id,ms:milliseconds.sum()",
        &[],
        &ParseLimits::default(),
    )
    .expect("parses");
    let aliases = read.aliases.expect("a layout");
    let ordered = parse_read(
        &schema,
        entity,
        "select=genre_id,n:count(),ms:milliseconds.sum()",
        &[],
        &ParseLimits::default(),
    )
    .expect("parses")
    .aliases
    .expect("a layout");
    let rows = rows();
    let mut group = c.benchmark_group("answer_1000_groups");
    group.bench_function("engine_order", |b| {
        b.iter(|| serde_json::to_vec(&rows).expect("json"))
    });
    group.bench_function("select_order", |b| {
        b.iter(|| {
            let mut rows = rows.clone();
            for r in &mut rows {
                aliases.apply(r).expect("applies");
            }
            serde_json::to_vec(&rows).expect("json")
        })
    });
    group.bench_function("select_order_already", |b| {
        b.iter(|| {
            let mut rows = rows.clone();
            for r in &mut rows {
                ordered.apply(r).expect("applies");
            }
            serde_json::to_vec(&rows).expect("json")
        })
    });
    group.bench_function("clone_only", |b| {
        b.iter(|| {
            let rows = rows.clone();
            serde_json::to_vec(&rows).expect("json")
        })
    });
    group.finish();
}

criterion_group!(benches, arrange);
criterion_main!(benches);
