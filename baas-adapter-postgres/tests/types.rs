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

/// The test server (`BAAS_TEST_PG_URL`); `None` when it cannot be reached
/// outside CI (under CI=true, a failure).
async fn database() -> Option<baas_adapter_postgres::PgAdapter> {
    let url = std::env::var("BAAS_TEST_PG_URL")
        .unwrap_or_else(|_| "postgres://baas:baas_pw@127.0.0.1:5432/chinook".into());
    match connect(PgConfig::new(url)).await {
        Ok(db) => Some(db),
        Err(e) => {
            skip_or_fail("PostgreSQL (BAAS_TEST_PG_URL)", &e);
            None
        }
    }
}

#[tokio::test]
async fn postgres_specific_types_round_trip() {
    let Some(db) = database().await else { return };
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
        "at": "2024-05-06T07:08:09.123+00:00",
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

/// Arrays of every element type the adapter maps, at one dimension and at
/// two (an `int[]` column may hold `{{1,2},{3,4}}`: PostgreSQL's array
/// types have no fixed number of dimensions), read as nested JSON arrays
/// as PostgREST answers them; `NULL` elements are `null`.
#[tokio::test]
async fn arrays_of_every_type_and_dimension() {
    let Some(db) = database().await else { return };
    let columns: [(&str, &str, FieldType, &str, serde_json::Value); 14] = [
        (
            "b",
            "bool",
            FieldType::Boolean,
            "{{t,f},{NULL,t}}",
            json!([[true, false], [null, true]]),
        ),
        (
            "i2",
            "int2",
            FieldType::Int16,
            "{{-32768},{7}}",
            json!([[-32768], [7]]),
        ),
        (
            "i8",
            "int8",
            FieldType::Int64,
            "{{9007199254740993}}",
            json!([[9007199254740993_i64]]),
        ),
        (
            "f4",
            "float4",
            FieldType::Float32,
            "{{0.5,-2}}",
            json!([[0.5, -2.0]]),
        ),
        (
            "f8",
            "float8",
            FieldType::Float64,
            "{{1e300},{NULL}}",
            json!([[1e300], [null]]),
        ),
        (
            "n",
            "numeric",
            FieldType::Decimal {
                precision: None,
                scale: None,
            },
            "{{1.50,-0.000001},{123456789012345678901234567890,NaN}}",
            json!([
                [
                    baas_core::value::decimal_json("1.5"),
                    baas_core::value::decimal_json("-0.000001")
                ],
                [
                    baas_core::value::decimal_json("123456789012345678901234567890"),
                    baas_core::value::decimal_json("NaN")
                ]
            ]),
        ),
        (
            "u",
            "uuid",
            FieldType::Uuid,
            "{{6ba7b810-9dad-11d1-80b4-00c04fd430c8}}",
            json!([["6ba7b810-9dad-11d1-80b4-00c04fd430c8"]]),
        ),
        (
            "d",
            "date",
            FieldType::Date,
            "{{1999-12-31,2000-01-02}}",
            json!([["1999-12-31", "2000-01-02"]]),
        ),
        (
            "t",
            "time",
            FieldType::Time,
            "{{10:00,23:59:59.5}}",
            json!([["10:00:00", "23:59:59.5"]]),
        ),
        (
            "ts",
            "timestamp",
            FieldType::Timestamp,
            "{{1970-01-01 00:00:01},{2024-05-06 07:08:09.123}}",
            json!([["1970-01-01T00:00:01"], ["2024-05-06T07:08:09.123"]]),
        ),
        (
            "tz",
            "timestamptz",
            FieldType::TimestampTz,
            "{{2024-05-06 07:08:09+02}}",
            json!([["2024-05-06T05:08:09+00:00"]]),
        ),
        (
            "j",
            "jsonb",
            FieldType::Json,
            r#"{{"{\"a\":[1]}",null}}"#,
            json!([[{"a": [1]}, null]]),
        ),
        (
            "js",
            "json",
            FieldType::Json,
            r#"{{"\"x\"","2"}}"#,
            json!([["x", 2]]),
        ),
        (
            "by",
            "bytea",
            FieldType::Binary,
            r#"{{"\\x0102"}}"#,
            json!([["\\x0102"]]),
        ),
    ];
    let mut ddl =
        String::from("DROP TABLE IF EXISTS pg_arrays; CREATE TABLE pg_arrays (id int PRIMARY KEY");
    let mut one = String::from("INSERT INTO pg_arrays VALUES (1");
    let mut two = String::from("INSERT INTO pg_arrays VALUES (2");
    let mut fields = vec![Field::new("id", FieldType::Int32)];
    for (name, ty, ft, lit, _) in &columns {
        ddl.push_str(&format!(", {name} {ty}[]"));
        two.push_str(&format!(", '{lit}'"));
        // The same elements in one dimension: `{{a,b},{c,d}}` → `{a,b,c,d}`.
        let flat = format!(
            "{{{}}}",
            lit.replace("},{", ",")
                .trim_start_matches("{{")
                .trim_end_matches("}}")
        );
        one.push_str(&format!(", '{flat}'"));
        fields.push(
            Field::new(
                *name,
                FieldType::Array {
                    items: Box::new(ft.clone()),
                },
            )
            .nullable(),
        );
    }
    // The test's own literals, none from outside.
    for sql in [format!("{ddl})"), format!("{one})"), format!("{two})")] {
        sqlx::raw_sql(sqlx::AssertSqlSafe(sql.clone()))
            .execute(db.backend().pool())
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
    }
    let schema = SchemaMetadata::new(vec![
        Entity::new("pg_arrays", fields).with_primary_key(["id"]),
    ]);
    let t = Target::new(&schema, "pg_arrays").unwrap();
    let mut q = Query::new("pg_arrays");
    q.order = vec![baas_core::ir::OrderBy::asc("id")];
    let rows = db.find(t, &q).await.expect("read arrays").rows;
    assert_eq!(rows.len(), 2);
    for (name, _, _, _, want) in &columns {
        let flat: Vec<serde_json::Value> = want
            .as_array()
            .into_iter()
            .flatten()
            .flat_map(|row| row.as_array().cloned().unwrap_or_default())
            .collect();
        assert_eq!(rows[0][*name], json!(flat), "{name}, one dimension");
        assert_eq!(rows[1][*name], *want, "{name}, two dimensions");
    }
    sqlx::raw_sql("DROP TABLE pg_arrays")
        .execute(db.backend().pool())
        .await
        .expect("drop");
}

/// `infinity`, `-infinity` and `24:00:00` read as PostgreSQL's JSON writes
/// them, dates past chrono's years as their text, in a field and inside an
/// array (sqlx's own decoding panicked on
/// an infinite timestamp, dropping the connection, and turned `24:00:00`
/// into midnight); ordinary values beside them are unchanged.
#[tokio::test]
async fn infinite_dates_and_the_end_of_day() {
    let Some(db) = database().await else { return };
    sqlx::raw_sql(
        "DROP TABLE IF EXISTS pg_infinity;
         CREATE TABLE pg_infinity (id int PRIMARY KEY, d date, t time, ts timestamp,
             tz timestamptz, ds date[], tss timestamp[], ts_ok timestamp);
         INSERT INTO pg_infinity VALUES
           (1, 'infinity', '24:00:00', '-infinity', 'infinity', '{-infinity,2000-01-01}',
            '{infinity,NULL,1999-12-31 23:59:59}', '2024-05-06 07:08:09'),
           (2, '-infinity', '00:00:00', 'infinity', '-infinity', '{}', '{-infinity}', NULL),
           (3, '5874897-12-31', '23:59:59.5', '294276-12-31 23:59:59.5',
            '294276-12-31 23:59:59+00', '{300000-01-01,4713-01-01 BC}',
            '{294276-01-01 00:00:00}', NULL);",
    )
    .execute(db.backend().pool())
    .await
    .expect("fixture");
    let array = |items: FieldType| FieldType::Array {
        items: Box::new(items),
    };
    let schema = SchemaMetadata::new(vec![
        Entity::new(
            "pg_infinity",
            vec![
                Field::new("id", FieldType::Int32),
                Field::new("d", FieldType::Date).nullable(),
                Field::new("t", FieldType::Time).nullable(),
                Field::new("ts", FieldType::Timestamp).nullable(),
                Field::new("tz", FieldType::TimestampTz).nullable(),
                Field::new("ds", array(FieldType::Date)).nullable(),
                Field::new("tss", array(FieldType::Timestamp)).nullable(),
                Field::new("ts_ok", FieldType::Timestamp).nullable(),
            ],
        )
        .with_primary_key(["id"]),
    ]);
    let t = Target::new(&schema, "pg_infinity").unwrap();
    let mut q = Query::new("pg_infinity");
    q.order = vec![baas_core::ir::OrderBy::asc("id")];
    let rows = db.find(t, &q).await.expect("read infinities").rows;
    assert_eq!(
        serde_json::Value::Array(rows.into_iter().map(serde_json::Value::Object).collect()),
        json!([
            {"id": 1, "d": "infinity", "t": "24:00:00", "ts": "-infinity", "tz": "infinity",
             "ds": ["-infinity", "2000-01-01"], "tss": ["infinity", null, "1999-12-31T23:59:59"],
             "ts_ok": "2024-05-06T07:08:09"},
            {"id": 2, "d": "-infinity", "t": "00:00:00", "ts": "infinity", "tz": "-infinity",
             "ds": [], "tss": ["-infinity"], "ts_ok": null},
            // Past chrono's years (was a decoding error, a 500): the text,
            // in our format; a year before 1 as chrono writes it.
            {"id": 3, "d": "5874897-12-31", "t": "23:59:59.5",
             "ts": "294276-12-31T23:59:59.5", "tz": "294276-12-31T23:59:59+00:00",
             "ds": ["300000-01-01", "-4712-01-01"], "tss": ["294276-01-01T00:00:00"],
             "ts_ok": null}
        ])
    );
    // A filter on the field still reads every row (the connection survives).
    let mut q = Query::new("pg_infinity");
    q.filter = Some(Filter::eq("id", 2));
    let rows = db.find(t, &q).await.expect("read again").rows;
    assert_eq!(rows[0]["ts"], json!("infinity"));
    sqlx::raw_sql("DROP TABLE pg_infinity")
        .execute(db.backend().pool())
        .await
        .expect("drop");
}
