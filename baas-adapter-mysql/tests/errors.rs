//! What the database refuses reaches the client as the column and a clean
//! sentence, never the driver's text. Runs on a scratch database
//! `disc_errors` (`.ci/services.sh` grants `baas` all on `disc\_%`).

use baas_adapter_mysql::{MySqlConfig, connect};
use baas_core::ir::Insert;
use baas_core::{
    DatabaseAdapterExt, Entity, Error, Field, FieldType, SchemaMetadata, Target, Violation,
};
use baas_testkit::skip_or_fail;
use serde_json::json;

const DDL: &str =
    "DROP DATABASE IF EXISTS disc_errors; CREATE DATABASE disc_errors; USE disc_errors;
CREATE TABLE gauge (id INT PRIMARY KEY, level TINYINT UNSIGNED, code VARCHAR(20) UNIQUE);";

/// The metadata a hand-written config could have: no range on `level`, so
/// the database is the one to refuse 300.
fn schema() -> SchemaMetadata {
    SchemaMetadata::new(vec![
        Entity::new(
            "gauge",
            vec![
                Field::new("id", FieldType::Int32),
                Field::new("level", FieldType::Int32).nullable(),
                Field::new("code", FieldType::Text).nullable(),
            ],
        )
        .with_primary_key(["id"]),
    ])
}

#[tokio::test]
async fn range_and_duplicate_errors_name_the_column_without_driver_text() {
    let base = std::env::var("BAAS_TEST_MYSQL_URL")
        .unwrap_or_else(|_| "mysql://baas:baas_pw@127.0.0.1:3306/Chinook".into());
    let admin = match connect(MySqlConfig::new(base.clone())).await {
        Ok(db) => db,
        Err(e) => {
            skip_or_fail("MariaDB/MySQL (BAAS_TEST_MYSQL_URL)", &e);
            return;
        }
    };
    sqlx::raw_sql(DDL)
        .execute(admin.backend().pool())
        .await
        .expect("ddl (GRANT ALL ON `disc\\_%`.* TO baas: .ci/services.sh)");
    let url = format!(
        "{}/disc_errors",
        base.rsplit_once('/').map_or(base.as_str(), |(s, _)| s)
    );
    let db = connect(MySqlConfig::new(url)).await.expect("connect");
    let schema = schema();
    let t = Target::new(&schema, "gauge").unwrap();
    let insert = |row: serde_json::Value| Insert {
        entity: "gauge".into(),
        rows: vec![row.as_object().unwrap().clone()],
        on_conflict: None,
        returning: None,
    };

    let e = db
        .insert(t, &insert(json!({"id": 1, "level": 300})))
        .await
        .unwrap_err();
    match &e {
        Error::Validation { violations } => assert_eq!(
            violations,
            &[
                Violation::new("/level", "`level`: the value is out of the column's range")
                    .with_code("22003")
            ]
        ),
        other => panic!("{other:?}"),
    }

    db.insert(t, &insert(json!({"id": 1, "code": "a"})))
        .await
        .expect("first row");
    let e = db
        .insert(t, &insert(json!({"id": 2, "code": "a"})))
        .await
        .unwrap_err();
    match &e {
        Error::Conflict { message, .. } => {
            assert_eq!(
                message,
                "a row with this value already exists (constraint `code`)"
            );
        }
        other => panic!("{other:?}"),
    }
    let text = e.to_string();
    assert!(!text.contains("Duplicate entry"), "{text}");
}
