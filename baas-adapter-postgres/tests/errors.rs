//! What PostgreSQL refuses reaches the client as the column and a clean
//! sentence: the column of a unique violation comes from the error's detail
//! (`Key (code)=(…) already exists.`), which the message leaves out.

use baas_adapter_postgres::{PgConfig, connect};
use baas_core::ir::Insert;
use baas_core::{DatabaseAdapterExt, Entity, Error, Field, FieldType, SchemaMetadata, Target};
use baas_testkit::{pg_url, skip_or_fail};
use serde_json::json;

#[tokio::test]
async fn a_duplicate_names_its_column_without_driver_text() {
    let admin = match connect(PgConfig::new(pg_url("chinook"))).await {
        Ok(db) => db,
        Err(e) => {
            skip_or_fail("PostgreSQL (BAAS_TEST_PG_URL)", &e);
            return;
        }
    };
    // A scratch database (baas has CREATEDB), not the shared fixtures.
    if let Err(e) = sqlx::raw_sql("CREATE DATABASE disc_pg_errors")
        .execute(admin.backend().pool())
        .await
        && !e.to_string().contains("already exists")
    {
        panic!("create disc_pg_errors: {e}");
    }
    let db = connect(PgConfig::new(pg_url("disc_pg_errors")))
        .await
        .expect("connect");
    sqlx::raw_sql(
        "DROP TABLE IF EXISTS disc_gauge; CREATE TABLE disc_gauge (id int PRIMARY KEY, code text UNIQUE);",
    )
    .execute(db.backend().pool())
    .await
    .expect("ddl");
    let schema = SchemaMetadata::new(vec![
        Entity::new(
            "disc_gauge",
            vec![
                Field::new("id", FieldType::Int32),
                Field::new("code", FieldType::Text).nullable(),
            ],
        )
        .with_primary_key(["id"]),
    ]);
    let t = Target::new(&schema, "disc_gauge").unwrap();
    let insert = |id: i64| Insert {
        entity: "disc_gauge".into(),
        rows: vec![json!({"id": id, "code": "a"}).as_object().unwrap().clone()],
        on_conflict: None,
        returning: None,
    };
    db.insert(t, &insert(1)).await.expect("first row");
    let e = db.insert(t, &insert(2)).await.unwrap_err();
    match &e {
        Error::Conflict {
            message,
            constraint,
            ..
        } => {
            assert_eq!(
                message,
                "`code`: a row with this value already exists (constraint `disc_gauge_code_key`)"
            );
            assert_eq!(constraint.as_deref(), Some("disc_gauge_code_key"));
        }
        other => panic!("{other:?}"),
    }
}
