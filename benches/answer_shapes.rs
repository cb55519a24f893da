//! Two shapes of an answer this session changed, each against the
//! strongest baseline in the same run:
//!
//! - `times`: 10 000 `timestamptz` values with fractions written as
//!   PostgreSQL's JSON writes them (`format_timestamptz`: `+00:00`, the
//!   fraction without its ending zeros), against chrono's own RFC 3339
//!   writer (`to_rfc3339_opts`, the fraction in groups of 3/6/9 digits);
//!   and in a caller's zone (`Prefer: timezone`): `Zone::format` of the
//!   instant, and the whole rewrite of an answer's UTC text
//!   (`AnswerFormat::rewrite`: read back, written in the zone);
//! - `nested_spread`: 100 artists, 10 albums each, 10 tracks an album,
//!   answered as `select=...albums(album_id,...tracks(track_id))`
//!   (`FieldAliases::apply`: the tracks joined to their albums, as
//!   PostgREST 13 answers), against the same rows answered with the
//!   spreads not joined (`select=albums(album_id,tracks(track_id))`:
//!   embeddings, only serialised).
//!
//!   cargo bench -p baas-benches --bench answer_shapes -- --warm-up-time 2 --measurement-time 5

use baas_core::value::format_timestamptz;
use baas_core::{Entity, Field, FieldType, Relation, SchemaMetadata};
use baas_rest::{ParseLimits, parse_read};
use criterion::{Criterion, criterion_group, criterion_main};
use serde_json::{Map, Value, json};

fn times(c: &mut Criterion) {
    let base = chrono::DateTime::parse_from_rfc3339("2024-05-06T07:08:09Z")
        .expect("a time")
        .to_utc();
    let values: Vec<_> = (0..10_000i64)
        .map(|i| base + chrono::Duration::microseconds(i * 250_001))
        .collect();
    let mut group = c.benchmark_group("times_10000");
    group.bench_function("chrono_rfc3339", |b| {
        b.iter(|| {
            values
                .iter()
                .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true).len())
                .sum::<usize>()
        })
    });
    group.bench_function("postgresql_json", |b| {
        b.iter(|| {
            values
                .iter()
                .map(|t| format_timestamptz(*t).len())
                .sum::<usize>()
        })
    });
    let zone = baas_core::zone::Zone::parse("America/Los_Angeles").expect("a zone");
    group.bench_function("postgresql_json_in_zone", |b| {
        b.iter(|| values.iter().map(|t| zone.format(*t).len()).sum::<usize>())
    });
    let texts: Vec<Value> = values
        .iter()
        .map(|t| Value::String(format_timestamptz(*t)))
        .collect();
    let format = baas_core::value::AnswerFormat {
        zone: Some(zone),
        ..Default::default()
    };
    group.bench_function("answer_rewritten_in_zone", |b| {
        b.iter_batched_ref(
            || texts.clone(),
            |texts| {
                for t in texts.iter_mut() {
                    format.rewrite(&FieldType::TimestampTz, t);
                }
            },
            criterion::BatchSize::SmallInput,
        )
    });
    group.finish();
}

fn schema() -> SchemaMetadata {
    SchemaMetadata::new(vec![
        Entity::new("artist", vec![Field::new("artist_id", FieldType::Int32)])
            .with_primary_key(["artist_id"])
            .with_relation(Relation::one_to_many(
                "albums",
                "album",
                &["artist_id"],
                &["artist_id"],
            )),
        Entity::new(
            "album",
            vec![
                Field::new("album_id", FieldType::Int32),
                Field::new("artist_id", FieldType::Int32),
            ],
        )
        .with_primary_key(["album_id"])
        .with_relation(Relation::one_to_many(
            "tracks",
            "track",
            &["album_id"],
            &["album_id"],
        )),
        Entity::new(
            "track",
            vec![
                Field::new("track_id", FieldType::Int32),
                Field::new("album_id", FieldType::Int32),
            ],
        )
        .with_primary_key(["track_id"]),
    ])
}

/// The engine's answer to the embeddings: each artist's albums, each
/// album's tracks.
fn rows() -> Vec<Map<String, Value>> {
    (0..100)
        .map(|a| {
            let albums: Vec<Value> = (0..10)
                .map(|l| {
                    let album = a * 10 + l;
                    let tracks: Vec<Value> = (0..10)
                        .map(|t| json!({"track_id": album * 10 + t}))
                        .collect();
                    json!({"album_id": album, "tracks": tracks})
                })
                .collect();
            match json!({"albums": albums}) {
                Value::Object(o) => o,
                _ => Map::new(),
            }
        })
        .collect()
}

fn nested_spread(c: &mut Criterion) {
    let schema = schema();
    let artist = schema.entity("artist").expect("artist");
    let spread = parse_read(
        &schema,
        artist,
        "select=...albums(album_id,...tracks(track_id))",
        &[],
        &ParseLimits::default(),
    )
    .expect("parses")
    .aliases
    .expect("spreads");
    let rows = rows();
    let mut group = c.benchmark_group("answer_100_artists_10000_tracks");
    // Both clone the rows (the answer owns them; apply changes them).
    group.bench_function("embedded_not_joined", |b| {
        b.iter(|| {
            let rows = rows.clone();
            serde_json::to_vec(&rows).expect("json").len()
        })
    });
    group.bench_function("spread_joined", |b| {
        b.iter(|| {
            let mut rows = rows.clone();
            for r in &mut rows {
                spread.apply(r).expect("applies");
            }
            serde_json::to_vec(&rows).expect("json").len()
        })
    });
    group.finish();
}

criterion_group!(benches, times, nested_spread);
criterion_main!(benches);
