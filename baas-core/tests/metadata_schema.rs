//! `docs/metadata.schema.json` is the published JSON Schema of the metadata
//! format; this test fails when the Rust types and the file disagree.
//! Regenerate with `UPDATE_SCHEMA=1 cargo test -p baas-core --test metadata_schema`.

use baas_core::metadata::metadata_json_schema;

#[test]
fn published_metadata_schema_is_current() {
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/metadata.schema.json");
    let generated = serde_json::to_string_pretty(&metadata_json_schema()).expect("schema") + "\n";
    if std::env::var_os("UPDATE_SCHEMA").is_some() {
        std::fs::write(&path, &generated).expect("write schema");
    }
    let published = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        published == generated,
        "docs/metadata.schema.json is stale: run UPDATE_SCHEMA=1 cargo test -p baas-core --test metadata_schema"
    );
}

#[test]
fn metadata_round_trips_through_json() {
    use baas_core::{Entity, Field, FieldType, Relation, SchemaMetadata};
    let schema = SchemaMetadata::new(vec![
        Entity::new(
            "artist",
            vec![
                Field::new("id", FieldType::Int32),
                Field::new("name", FieldType::Text).nullable(),
            ],
        )
        .with_primary_key(["id"])
        .with_relation(Relation::one_to_many(
            "albums",
            "album",
            &["id"],
            &["artist_id"],
        )),
        Entity::new(
            "album",
            vec![
                Field::new("id", FieldType::Int32),
                Field::new("artist_id", FieldType::Int32).with_column("ArtistId"),
                Field::new(
                    "price",
                    FieldType::Decimal {
                        precision: Some(10),
                        scale: Some(2),
                    },
                ),
                Field::new(
                    "tags",
                    FieldType::Array {
                        items: Box::new(FieldType::Text),
                    },
                )
                .nullable(),
            ],
        )
        .with_table("Album")
        .with_primary_key(["id"])
        .with_relation(Relation::many_to_one(
            "artist",
            "artist",
            &["artist_id"],
            &["id"],
        )),
    ]);
    let text = serde_json::to_string(&schema).expect("serialize");
    let back: baas_core::SchemaMetadata = serde_json::from_str(&text).expect("deserialize");
    assert_eq!(back, schema);
    assert!(back.check().is_ok());
}

#[test]
fn inconsistent_metadata_is_reported_with_pointers() {
    let bad: baas_core::SchemaMetadata = serde_json::from_value(serde_json::json!({
        "entities": [{
            "name": "a", "source": {"table": "a"}, "primary_key": ["nope"],
            "fields": [{"name": "x", "type": {"kind": "int32"}}, {"name": "x", "type": {"kind": "text"}}],
            "relations": [{"name": "r", "kind": {"type": "many_to_one"}, "target": "ghost",
                           "from_fields": ["x"], "to_fields": ["id"]}]
        }]
    }))
    .expect("parse");
    let baas_core::Error::Validation { violations } = bad.check().unwrap_err() else {
        panic!("expected validation error")
    };
    let pointers: Vec<&str> = violations.iter().map(|v| v.pointer.as_str()).collect();
    assert_eq!(
        pointers,
        [
            "/entities/0/fields/1/name",
            "/entities/0/primary_key/0",
            "/entities/0/relations/0/target"
        ]
    );
    let unknown =
        serde_json::from_str::<baas_core::SchemaMetadata>(r#"{"entities": [], "extra": 1}"#);
    assert!(unknown.is_err(), "unknown keys are rejected");
}
