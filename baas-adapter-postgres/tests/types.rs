//! PostgreSQL-specific types beyond the shared suite: enum types, `json` (not
//! `jsonb`), integer and text arrays, `timestamptz`, `time`, `int2`, `float4`,
//! wide `numeric`, `char(n)`.

use baas_adapter_postgres::{PgConfig, connect};
use baas_core::ir::{Filter, Insert, Query};
use baas_core::{DatabaseAdapterExt, Entity, Field, FieldType, Generated, SchemaMetadata, Target};
use baas_testkit::skip_or_fail;
use serde_json::json;

const DDL: &str = r#"
DROP TABLE IF EXISTS pg_types;
DROP TYPE IF EXISTS mood;
CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
CREATE TABLE pg_types (
    id SERIAL PRIMARY KEY, feeling mood, doc JSON, nums INT4[], words TEXT[],
    at TIMESTAMPTZ, clock TIME, small INT2, approx FLOAT4, wide NUMERIC(40,10), code CHAR(3)
);
"#;

fn schema() -> SchemaMetadata {
    let opt = |n: &str, t: FieldType| Field::new(n, t).nullable();
    SchemaMetadata::new(vec![
        Entity::new(
            "pg_types",
            vec![
                Field::new("id", FieldType::Int32).generated(Generated::AutoIncrement),
                opt(
                    "feeling",
                    FieldType::Enum {
                        name: Some("mood".into()),
                        values: vec!["sad".into(), "ok".into(), "happy".into()],
                    },
                ),
                opt("doc", FieldType::Json),
                opt(
                    "nums",
                    FieldType::Array {
                        items: Box::new(FieldType::Int32),
                    },
                ),
                opt(
                    "words",
                    FieldType::Array {
                        items: Box::new(FieldType::Text),
                    },
                ),
                opt("at", FieldType::TimestampTz),
                opt("clock", FieldType::Time),
                opt("small", FieldType::Int16),
                opt("approx", FieldType::Float32),
                opt(
                    "wide",
                    FieldType::Decimal {
                        precision: Some(40),
                        scale: Some(10),
                    },
                ),
                opt("code", FieldType::Text),
            ],
        )
        .with_primary_key(["id"]),
    ])
}

#[tokio::test]
async fn postgres_specific_types_round_trip() {
    let url = std::env::var("BAAS_TEST_PG_URL")
        .unwrap_or_else(|_| "postgres://baas:baas_pw@127.0.0.1:5432/chinook".into());
    let db = match connect(PgConfig::new(url)).await {
        Ok(db) => db,
        Err(e) => {
            skip_or_fail("PostgreSQL (BAAS_TEST_PG_URL)", &e);
            return;
        }
    };
    sqlx::raw_sql(DDL)
        .execute(db.backend().pool())
        .await
        .expect("ddl");
    let schema = schema();
    let t = Target::new(&schema, "pg_types").unwrap();
    let row = json!({
        "feeling": "happy",
        "doc": {"k": [1, "two", null]},
        "nums": [3, 1, 2],
        "words": ["a \"quoted\" word", "back\\slash", "{braces}", "comma,here", "NULL"],
        "at": "2024-05-06T07:08:09.123Z",
        "clock": "23:59:58",
        "small": -32768,
        "approx": 0.5,
        "wide": baas_core::value::decimal_json("123456789012345678901234567890.0123456789"),
        "code": "abc"
    });
    let ins = Insert {
        entity: "pg_types".into(),
        rows: vec![row.as_object().unwrap().clone()],
        on_conflict: None,
        returning: Some(vec![]),
    };
    let written = db.insert(t, &ins).await.expect("insert");
    let back = db
        .find(
            t,
            &Query::new("pg_types").filter(Filter::eq("feeling", "happy")),
        )
        .await
        .expect("find by enum");
    for got in [&written.rows[0], &back.rows[0]] {
        for (k, v) in row.as_object().unwrap() {
            assert_eq!(got.get(k), Some(v), "{k}");
        }
        assert!(got["id"].as_i64().is_some());
    }
    let wrong = db
        .find(
            t,
            &Query::new("pg_types").filter(Filter::eq("feeling", "angry")),
        )
        .await;
    assert!(
        matches!(wrong, Err(baas_core::Error::Validation { .. })),
        "{wrong:?}"
    );
}
