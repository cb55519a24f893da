//! A collection has no schema: a document may hold a value of another type
//! than its field's metadata says (an existing collection's string where
//! the sampled type is an integer). Such a value reads as it is held; it
//! was an error that made the whole collection unreadable.

use baas_adapter_mongo::{MongoConfig, connect};
use baas_core::ir::{OrderBy, Query};
use baas_core::{DatabaseAdapterExt, Entity, Field, FieldType, SchemaMetadata, Target};
use baas_testkit::skip_or_fail;
use serde_json::json;

#[tokio::test]
async fn values_of_another_type_read_as_they_are() {
    let url = std::env::var("BAAS_TEST_MONGO_URL")
        .unwrap_or_else(|_| "mongodb://127.0.0.1:27017/chinook?directConnection=true".into());
    let db = match connect(MongoConfig::new(url)).await {
        Ok(db) => db,
        Err(e) => {
            skip_or_fail("MongoDB (BAAS_TEST_MONGO_URL)", &e);
            return;
        }
    };
    let raw = db.database().collection::<bson::Document>("loose_cells");
    raw.drop().await.ok();
    raw.insert_many([
        bson::doc! {"_id": 1_i64, "n": "abc", "d": "yesterday", "ok": "maybe", "note": {"a": 1}},
        bson::doc! {"_id": 2_i64, "n": 5_i64, "d": bson::DateTime::from_millis(1_577_923_200_000), "ok": true, "note": "m"},
    ])
    .await
    .expect("fixture");
    let schema = SchemaMetadata::new(vec![
        Entity::new(
            "loose_cells",
            vec![
                Field::new("id", FieldType::Int64),
                Field::new("n", FieldType::Int64).nullable(),
                Field::new("d", FieldType::Date).nullable(),
                Field::new("ok", FieldType::Boolean).nullable(),
                Field::new("note", FieldType::Text).nullable(),
            ],
        )
        .with_primary_key(["id"]),
    ]);
    let t = Target::new(&schema, "loose_cells").unwrap();
    let mut q = Query::new("loose_cells");
    q.order = vec![OrderBy::asc("id")];
    let rows = db.find(t, &q).await.expect("read every document").rows;
    assert_eq!(
        serde_json::Value::Array(rows.into_iter().map(serde_json::Value::Object).collect()),
        json!([
            {"id": 1, "n": "abc", "d": "yesterday", "ok": "maybe", "note": {"a": 1}},
            {"id": 2, "n": 5, "d": "2020-01-02", "ok": true, "note": "m"}
        ])
    );
    // An exact average counts the numbers it sums: the string is in
    // neither (the average of 5 alone, PostgreSQL's digits).
    let avg = baas_core::ir::Aggregate {
        entity: "loose_cells".into(),
        filter: None,
        group_by: vec![],
        group_by_values: Vec::new(),
        aggregates: vec![baas_core::ir::AggregateExpr::new(
            "avg",
            baas_core::ir::AggregateFn::Avg { field: "n".into() },
        )],
        having: vec![],
        order: vec![],
        limit: None,
        offset: None,
        via: Vec::new(),
        zone: None,
    };
    let rows = db.aggregate(t, &avg).await.expect("average");
    assert_eq!(
        rows[0]["avg"],
        baas_core::value::decimal_json("5.0000000000000000")
    );
    raw.drop().await.expect("drop");
}
