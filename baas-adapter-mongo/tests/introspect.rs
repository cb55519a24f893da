//! Live introspection by sampling, and managed collections, on the
//! Mongo-wire server loaded with Chinook (`.ci/mongo_fixtures.sh`).

use baas_adapter_mongo::{MongoConfig, connect};
use baas_core::{
    DatabaseAdapter, DatabaseAdapterExt, Entity, Error, Field, FieldType, IntrospectOptions,
    RelationKind, SchemaChange, Target,
};
use baas_testkit::skip_or_fail;
use serde_json::json;

fn url() -> String {
    std::env::var("BAAS_TEST_MONGO_URL")
        .unwrap_or_else(|_| "mongodb://127.0.0.1:27017/chinook?directConnection=true".into())
}

#[tokio::test]
async fn sampling_describes_chinook_and_managed_collections_validate() {
    let db = match connect(MongoConfig::new(url())).await {
        Ok(db) => db,
        Err(e) => {
            skip_or_fail("MongoDB (BAAS_TEST_MONGO_URL)", &e);
            return;
        }
    };
    // A managed collection first, so introspection also reads a validator.
    let mut note = Entity::new(
        "managed_note",
        vec![
            Field::new("id", FieldType::Int64).generated(baas_core::Generated::AutoIncrement),
            {
                let mut f = Field::new("title", FieldType::Text);
                f.max_length = Some(20);
                f.unique = true;
                f
            },
            Field::new(
                "price",
                FieldType::Decimal {
                    precision: Some(8),
                    scale: Some(2),
                },
            )
            .nullable(),
        ],
    )
    .with_primary_key(["id"]);
    note.source.table = "managed_note".into();
    db.database()
        .collection::<bson::Document>("managed_note")
        .drop()
        .await
        .expect("drop");
    db.apply_ddl(&SchemaChange::CreateEntity {
        entity: note.clone(),
        references: Vec::new(),
    })
    .await
    .expect("create");
    let tags = Field::new(
        "tags",
        FieldType::Array {
            items: Box::new(FieldType::Text),
        },
    )
    .nullable();
    db.apply_ddl(&SchemaChange::AddField {
        entity: note.clone(),
        field: tags.clone(),
    })
    .await
    .expect("add field");
    note.fields.push(tags);
    let schema = baas_core::SchemaMetadata::new(vec![note.clone()]);
    let t = Target::new(&schema, "managed_note").unwrap();
    let ok = baas_core::ir::Insert {
        entity: "managed_note".into(),
        rows: vec![
            json!({"title": "a", "price": "1.5", "tags": ["x"]})
                .as_object()
                .unwrap()
                .clone(),
        ],
        on_conflict: None,
        returning: Some(vec![]),
    };
    let w = db.insert(t, &ok).await.expect("insert");
    assert_eq!(w.rows[0]["price"], baas_core::value::decimal_json("1.50"));
    // A generated integer key (the counter survives dropping the collection,
    // like a sequence).
    assert!(
        w.rows[0]["id"].as_i64().is_some_and(|i| i >= 1),
        "{:?}",
        w.rows[0]
    );
    // The server enforces the generated validator and unique index too.
    let raw = db.database().collection::<bson::Document>("managed_note");
    let r = raw.insert_one(bson::doc! {"_id": 99_i64, "title": 5}).await;
    assert!(r.is_err(), "validator accepted a number title");
    let r = db.insert(t, &ok).await;
    assert!(matches!(r, Err(Error::Conflict { .. })), "{r:?}");

    let sampled = db
        .introspect(&IntrospectOptions::default())
        .await
        .expect("introspect");
    let names: Vec<&str> = sampled.entities.iter().map(|e| e.name.as_str()).collect();
    for n in [
        "Album",
        "Artist",
        "Track",
        "PlaylistTrack",
        "Invoice",
        "managed_note",
    ] {
        assert!(names.contains(&n), "{n} missing from {names:?}");
    }
    assert!(!names.contains(&"__baas_counters"));
    let track = sampled.entity("Track").unwrap();
    assert_eq!(track.primary_key, vec!["id".to_string()]);
    let id = track.field("id").unwrap();
    assert_eq!((id.column(), &id.ty), ("_id", &FieldType::Int32));
    assert!(matches!(
        track.field("UnitPrice").unwrap().ty,
        FieldType::Decimal { .. }
    ));
    assert_eq!(track.field("Milliseconds").unwrap().ty, FieldType::Int32);
    assert!(track.field("Composer").unwrap().nullable, "null composers");
    assert!(!track.field("Name").unwrap().nullable);
    let inv = sampled.entity("Invoice").unwrap();
    assert_eq!(inv.field("InvoiceDate").unwrap().ty, FieldType::TimestampTz);
    let album = sampled.entity("Album").unwrap();
    let rel = album
        .relations
        .iter()
        .find(|r| r.target == "Artist")
        .expect("Album.ArtistId proposed as a relation");
    assert_eq!(rel.kind, RelationKind::ManyToOne);
    assert_eq!(rel.from_fields, vec!["ArtistId".to_string()]);
    let pt = sampled.entity("PlaylistTrack").unwrap();
    assert!(
        pt.indexes
            .iter()
            .any(|i| i.unique && i.fields == ["PlaylistId", "TrackId"]),
        "{:?}",
        pt.indexes
    );
    // The validator wins over sampling: declared types, nullability, limits.
    let managed = sampled.entity("managed_note").unwrap();
    let title = managed.field("title").unwrap();
    assert_eq!(title.ty, FieldType::Text);
    assert!(!title.nullable && title.unique);
    assert_eq!(title.max_length, Some(20));
    assert!(managed.field("price").unwrap().nullable);
    assert_eq!(
        managed.field("tags").unwrap().ty,
        FieldType::Array {
            items: Box::new(FieldType::Text)
        }
    );
    // The introspected metadata serves the collection directly.
    sampled.check().expect("consistent metadata");
    let t = Target::new(&sampled, "Album").unwrap();
    let q = baas_core::ir::Query::new("Album")
        .filter(baas_core::ir::Filter::eq("id", 1))
        .fields(["Title"]);
    let rows = db.find(t, &q).await.expect("find").rows;
    assert_eq!(
        rows[0]["Title"],
        json!("For Those About To Rock We Salute You")
    );
}
