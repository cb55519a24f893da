//! SQLite's declared column types are affinities: a cell may hold a value
//! of another type (an existing database's `'yesterday'` in a `DATE`
//! column). Such a cell reads as the value it holds; it was an error that
//! made the whole table unreadable.

use baas_adapter_sqlite::{SqliteConfig, connect};
use baas_core::ir::{Filter, OrderBy, Query};
use baas_core::{DatabaseAdapterExt, Entity, Field, FieldType, SchemaMetadata, Target};
use serde_json::json;

#[tokio::test]
async fn cells_of_another_type_read_as_they_are() {
    let path = std::env::temp_dir().join(format!("baas-loose-{}.db", std::process::id()));
    let _ = std::fs::remove_file(&path);
    let db = connect(SqliteConfig::new(format!("sqlite://{}", path.display())))
        .await
        .expect("open sqlite");
    let pool = db.backend().pool();
    sqlx::raw_sql(
        "CREATE TABLE odd (id INTEGER PRIMARY KEY, d DATE, n INTEGER, f REAL, b BOOLEAN,
             price NUMERIC, note TEXT);
         INSERT INTO odd VALUES (1, 'yesterday', 'abc', 'x', 'maybe', 'cheap', 'n'),
           (2, '2020-01-02', 5, 1.5, 1, 2.5, 'm'), (3, 20200102, 7.5, 2, 0, NULL, 42);",
    )
    .execute(pool)
    .await
    .expect("fixture");
    let schema = SchemaMetadata::new(vec![
        Entity::new(
            "odd",
            vec![
                Field::new("id", FieldType::Int64),
                Field::new("d", FieldType::Date).nullable(),
                Field::new("n", FieldType::Int64).nullable(),
                Field::new("f", FieldType::Float64).nullable(),
                Field::new("b", FieldType::Boolean).nullable(),
                Field::new(
                    "price",
                    FieldType::Decimal {
                        precision: Some(10),
                        scale: Some(2),
                    },
                )
                .nullable(),
                Field::new("note", FieldType::Text).nullable(),
            ],
        )
        .with_primary_key(["id"]),
    ]);
    let t = Target::new(&schema, "odd").unwrap();
    let mut q = Query::new("odd");
    q.order = vec![OrderBy::asc("id")];
    let rows = db.find(t, &q).await.expect("read every row").rows;
    assert_eq!(
        serde_json::Value::Array(rows.into_iter().map(serde_json::Value::Object).collect()),
        json!([
            // Held as they are.
            {"id": 1, "d": "yesterday", "n": "abc", "f": "x", "b": "maybe", "price": "cheap", "note": "n"},
            // Values of their types, shaped as on every engine.
            {"id": 2, "d": "2020-01-02", "n": 5, "f": 1.5, "b": true,
             "price": baas_core::value::decimal_json("2.50"), "note": "m"},
            // A number in a date column, a fraction in an integer one.
            {"id": 3, "d": 20200102, "n": 7.5, "f": 2.0, "b": false, "price": null, "note": "42"}
        ])
    );
    // Filters still compare the stored values.
    let q = Query::new("odd").filter(Filter::eq("n", 5));
    assert_eq!(db.find(t, &q).await.expect("filter").rows.len(), 1);
    pool.close().await;
    let _ = std::fs::remove_file(&path);
}
