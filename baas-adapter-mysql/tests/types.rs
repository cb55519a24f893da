//! MySQL-specific types beyond the shared suite: `ENUM`, unsigned integers,
//! `TIMESTAMP` (UTC session), `TIME`, `TINYINT(1)` booleans, `FLOAT`, wide `DECIMAL`.

use baas_adapter_mysql::{MySqlConfig, connect};
use baas_core::ir::{Filter, Insert, IsValue, Query};
use baas_core::{DatabaseAdapterExt, Entity, Field, FieldType, Generated, SchemaMetadata, Target};
use baas_testkit::skip_or_fail;
use serde_json::json;

const DDL: &str = r#"
DROP TABLE IF EXISTS my_types;
CREATE TABLE my_types (
    id INT UNSIGNED AUTO_INCREMENT PRIMARY KEY, feeling ENUM('sad','ok','happy'),
    counter BIGINT UNSIGNED, at TIMESTAMP(3) NULL, clock TIME, flag TINYINT(1),
    approx FLOAT, wide DECIMAL(40,10)
) DEFAULT CHARSET=utf8mb4;
"#;

/// The test server (`BAAS_TEST_MYSQL_URL`); `None` when it cannot be
/// reached outside CI (under CI=true, a failure).
async fn database() -> Option<baas_adapter_mysql::MySqlAdapter> {
    let url = std::env::var("BAAS_TEST_MYSQL_URL")
        .unwrap_or_else(|_| "mysql://baas:baas_pw@127.0.0.1:3306/Chinook".into());
    match connect(MySqlConfig::new(url)).await {
        Ok(db) => Some(db),
        Err(e) => {
            skip_or_fail("MariaDB/MySQL (BAAS_TEST_MYSQL_URL)", &e);
            None
        }
    }
}

#[tokio::test]
async fn mysql_specific_types_round_trip() {
    let Some(db) = database().await else { return };
    sqlx::raw_sql(DDL)
        .execute(db.backend().pool())
        .await
        .expect("ddl");
    let opt = |n: &str, t: FieldType| Field::new(n, t).nullable();
    let schema = SchemaMetadata::new(vec![
        Entity::new(
            "my_types",
            vec![
                Field::new("id", FieldType::Int64).generated(Generated::AutoIncrement),
                opt(
                    "feeling",
                    FieldType::Enum {
                        name: None,
                        values: vec!["sad".into(), "ok".into(), "happy".into()],
                    },
                ),
                opt("counter", FieldType::Int64),
                opt("at", FieldType::TimestampTz),
                opt("clock", FieldType::Time),
                opt("flag", FieldType::Boolean),
                opt("approx", FieldType::Float32),
                opt(
                    "wide",
                    FieldType::Decimal {
                        precision: Some(40),
                        scale: Some(10),
                    },
                ),
            ],
        )
        .with_primary_key(["id"]),
    ]);
    let t = Target::new(&schema, "my_types").unwrap();
    let row = json!({
        "feeling": "ok",
        "counter": 9_007_199_254_740_993_i64,
        "at": "2024-05-06T07:08:09.123+00:00",
        "clock": "23:59:58",
        "flag": false,
        "approx": 0.5,
        "wide": baas_core::value::decimal_json("123456789012345678901234567890.0123456789")
    });
    let ins = Insert {
        entity: "my_types".into(),
        rows: vec![
            row.as_object().unwrap().clone(),
            row.as_object().unwrap().clone(),
        ],
        on_conflict: None,
        returning: Some(vec![]),
    };
    let written = db.insert(t, &ins).await.expect("insert");
    assert_eq!(written.rows.len(), 2);
    let ids: Vec<i64> = written
        .rows
        .iter()
        .map(|r| r["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids[1], ids[0] + 1, "generated keys come back in order");
    let back = db
        .find(
            t,
            &Query::new("my_types").filter(Filter::and(vec![
                Filter::eq("feeling", "ok"),
                Filter::is("flag", IsValue::False),
                Filter::eq("wide", "123456789012345678901234567890.0123456789"),
            ])),
        )
        .await
        .expect("find");
    assert_eq!(back.rows.len(), 2);
    for got in written.rows.iter().chain(&back.rows) {
        for (k, v) in row.as_object().unwrap() {
            assert_eq!(got.get(k), Some(v), "{k}");
        }
    }
}

/// A `TIME` is a duration in MySQL (-838:59:59 to 838:59:59): one that is
/// no time of day reads as MySQL's text of it (it was a 500), a time of
/// day as before.
#[tokio::test]
async fn time_durations_read_as_text() {
    let Some(db) = database().await else { return };
    sqlx::raw_sql(
        "DROP TABLE IF EXISTS my_durations;
         CREATE TABLE my_durations (id INT PRIMARY KEY, span TIME(3));
         INSERT INTO my_durations VALUES (1, '838:59:59'), (2, '-01:00:00'),
           (3, '-00:00:01.250'), (4, '23:59:59.500'), (5, '100:00:00'), (6, NULL);",
    )
    .execute(db.backend().pool())
    .await
    .expect("ddl");
    let schema = SchemaMetadata::new(vec![
        Entity::new(
            "my_durations",
            vec![
                Field::new("id", FieldType::Int32),
                Field::new("span", FieldType::Time).nullable(),
            ],
        )
        .with_primary_key(["id"]),
    ]);
    let t = Target::new(&schema, "my_durations").unwrap();
    let mut q = Query::new("my_durations");
    q.order = vec![baas_core::ir::OrderBy::asc("id")];
    let spans: Vec<serde_json::Value> = db
        .find(t, &q)
        .await
        .expect("read durations")
        .rows
        .into_iter()
        .map(|r| r["span"].clone())
        .collect();
    assert_eq!(
        spans,
        vec![
            json!("838:59:59"),
            json!("-01:00:00"),
            json!("-00:00:01.25"),
            json!("23:59:59.5"),
            json!("100:00:00"),
            json!(null)
        ]
    );
    sqlx::raw_sql("DROP TABLE my_durations")
        .execute(db.backend().pool())
        .await
        .expect("drop");
}

/// A date or datetime with a zero month or day (`2020-00-15`, which
/// MariaDB stores unless `NO_ZERO_IN_DATE`) reads as its text (it was a
/// 500); the all-zero date reads as null, as the driver gives it.
#[tokio::test]
async fn zero_in_dates_read_as_text() {
    let Some(db) = database().await else { return };
    // The session's mode allows them only for the insert, then is restored.
    sqlx::raw_sql(
        "DROP TABLE IF EXISTS my_zero_dates;
         CREATE TABLE my_zero_dates (id INT PRIMARY KEY, d DATE, t DATETIME(6));
         SET @baas_mode = @@SESSION.sql_mode;
         SET SESSION sql_mode = '';
         INSERT INTO my_zero_dates VALUES (1, '2020-00-15', '2020-05-00 01:02:03.25'),
           (2, '0000-00-00', '2021-00-00 00:00:00'), (3, '2024-02-29', '2024-02-29 23:59:59');
         SET SESSION sql_mode = @baas_mode;",
    )
    .execute(db.backend().pool())
    .await
    .expect("ddl");
    let schema = SchemaMetadata::new(vec![
        Entity::new(
            "my_zero_dates",
            vec![
                Field::new("id", FieldType::Int32),
                Field::new("d", FieldType::Date).nullable(),
                Field::new("t", FieldType::Timestamp).nullable(),
            ],
        )
        .with_primary_key(["id"]),
    ]);
    let t = Target::new(&schema, "my_zero_dates").unwrap();
    let mut q = Query::new("my_zero_dates");
    q.order = vec![baas_core::ir::OrderBy::asc("id")];
    let rows = db.find(t, &q).await.expect("read zero dates").rows;
    assert_eq!(
        serde_json::Value::Array(rows.into_iter().map(serde_json::Value::Object).collect()),
        json!([
            {"id": 1, "d": "2020-00-15", "t": "2020-05-00T01:02:03.25"},
            {"id": 2, "d": null, "t": "2021-00-00T00:00:00"},
            {"id": 3, "d": "2024-02-29", "t": "2024-02-29T23:59:59"}
        ])
    );
    sqlx::raw_sql("DROP TABLE my_zero_dates")
        .execute(db.backend().pool())
        .await
        .expect("drop");
}
