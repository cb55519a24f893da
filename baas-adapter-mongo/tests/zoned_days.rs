//! An instant's day, grouped in the caller's time zone (PostgREST's
//! `Prefer: timezone`, [`Aggregate::zone`]): 02:00 UTC on January 15th is
//! still January 14th in Los Angeles; 20:00 UTC is already the 16th in
//! Tokyo.

use baas_adapter_mongo::{MongoConfig, connect};
use baas_core::ir::{Aggregate, AggregateExpr, AggregateFn, GroupValue, OrderBy};
use baas_core::validate::Validator;
use baas_core::zone::Zone;
use baas_core::{DatabaseAdapter, Entity, Field, FieldType, SchemaMetadata, Target};
use baas_testkit::skip_or_fail;
use serde_json::{Value as J, json};

#[tokio::test]
async fn an_instants_day_is_the_zones() {
    let url = std::env::var("BAAS_TEST_MONGO_URL")
        .unwrap_or_else(|_| "mongodb://127.0.0.1:27017/chinook?directConnection=true".into());
    let db = match connect(MongoConfig::new(url)).await {
        Ok(db) => db,
        Err(e) => {
            skip_or_fail("MongoDB (BAAS_TEST_MONGO_URL)", &e);
            return;
        }
    };
    let raw = db.database().collection::<bson::Document>("zoned_visits");
    raw.drop().await.ok();
    let at = |s: &str| bson::DateTime::parse_rfc3339_str(s).unwrap();
    raw.insert_many([
        bson::doc! {"_id": 1_i64, "at": at("2024-01-15T02:00:00Z"), "local": at("2024-01-15T02:00:00Z")},
        bson::doc! {"_id": 2_i64, "at": at("2024-01-15T10:00:00Z"), "local": at("2024-01-15T10:00:00Z")},
        bson::doc! {"_id": 3_i64, "at": at("2024-01-15T20:00:00Z"), "local": at("2024-01-15T20:00:00Z")},
    ])
    .await
    .expect("fixture");
    let schema = SchemaMetadata::new(vec![
        Entity::new(
            "zoned_visits",
            vec![
                Field::new("id", FieldType::Int64),
                Field::new("at", FieldType::TimestampTz),
                // A timestamp without a zone is a local time: no zone
                // moves its day.
                Field::new("local", FieldType::Timestamp),
            ],
        )
        .with_primary_key(["id"]),
    ]);
    let t = Target::new(&schema, "zoned_visits").unwrap();
    let by_day = |field: &str, zone: Option<&str>| Aggregate {
        entity: "zoned_visits".into(),
        filter: None,
        group_by: vec![],
        group_by_values: vec![GroupValue::Date {
            field: field.into(),
            alias: Some("day".into()),
        }],
        aggregates: vec![AggregateExpr::new("n", AggregateFn::Count)],
        having: vec![],
        order: vec![OrderBy::asc("day")],
        limit: None,
        offset: None,
        via: Vec::new(),
        zone: zone.map(str::to_string),
    };
    let days = |rows: Vec<serde_json::Map<String, J>>| -> Vec<J> {
        rows.into_iter()
            .map(|r| json!([r["day"], r["n"]]))
            .collect()
    };
    let limits = baas_core::validate::Limits::default();
    let caps = db.capabilities();
    // The zone is the caller's (validation sets it, replacing any other).
    let in_zone = |field: &str, zone: Option<&str>| {
        let zone = zone.map(|z| Zone::parse(z).expect("a zone"));
        let checked = Validator::new(t, caps, &limits)
            .in_zone(zone)
            .aggregate(by_day(field, Some("Europe/Paris")))
            .expect("checked");
        (checked.zone.clone(), checked)
    };
    for (field, zone, want) in [
        ("at", None, json!([["2024-01-15", 3]])),
        ("at", Some("UTC"), json!([["2024-01-15", 3]])),
        (
            "at",
            Some("America/Los_Angeles"),
            json!([["2024-01-14", 1], ["2024-01-15", 2]]),
        ),
        (
            "at",
            Some("Asia/Tokyo"),
            json!([["2024-01-15", 2], ["2024-01-16", 1]]),
        ),
        ("local", Some("Asia/Tokyo"), json!([["2024-01-15", 3]])),
    ] {
        let (set, checked) = in_zone(field, zone);
        assert_eq!(set.as_deref(), zone.filter(|z| *z != "UTC"));
        let rows = db.aggregate_rows(&checked).await.expect("groups");
        assert_eq!(J::Array(days(rows)), want, "{field} in {zone:?}");
    }
    // A name that is no zone is refused, never read as UTC.
    match baas_adapter_mongo::lower::aggregate(t, &by_day("at", Some("Mars/Olympus"))) {
        Err(err) => assert!(err.to_string().contains("no time zone"), "{err}"),
        Ok(_) => panic!("a name that is no zone was lowered"),
    }
    raw.drop().await.expect("drop");
}
