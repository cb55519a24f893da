//! Managed-mode DDL against SQLite (bundled, always runs): create a table
//! with every field type SQLite supports (no arrays), read it back through live introspection,
//! write and read a row, add fields. Tables are named `ddl_test_*`.

use baas_adapter_sqlite::{SqliteConfig, connect};
use baas_core::ir::{Insert, OrderBy, Query};
use baas_core::{
    DatabaseAdapter, Entity, Error, Field, FieldType, Generated, Index, IntrospectOptions,
    SchemaChange, SchemaMetadata, Target,
};
use baas_sql::Dialect;
use baas_sql::ddl::introspected;
use serde_json::{Value, json};

const DIALECT: Dialect = Dialect::Sqlite;
const TABLE: &str = "ddl_test_every_type";

fn entity() -> Entity {
    let opt = |n: &str, t: FieldType| Field::new(n, t).nullable();
    let mut title = Field::new("title", FieldType::Text);
    title.max_length = Some(80);
    title.unique = true;
    let mut active = Field::new("active", FieldType::Boolean);
    active.default = Some("true".into());
    let mut e = Entity::new(
        TABLE,
        vec![
            Field::new("id", FieldType::Int64).generated(Generated::AutoIncrement),
            title,
            opt("body", FieldType::Text),
            opt("small", FieldType::Int16),
            opt("medium", FieldType::Int32),
            opt("ratio", FieldType::Float32),
            opt("weight", FieldType::Float64),
            opt(
                "price",
                FieldType::Decimal {
                    precision: Some(12),
                    scale: Some(2),
                },
            ),
            active,
            opt("born", FieldType::Date),
            opt("clock", FieldType::Time),
            opt("seen_at", FieldType::Timestamp),
            opt("happened_at", FieldType::TimestampTz),
            opt("uid", FieldType::Uuid),
            opt("meta", FieldType::Json),
            opt("data", FieldType::Binary),
            opt(
                "mood",
                FieldType::Enum {
                    name: None,
                    values: vec!["sad".into(), "ok".into(), "it's".into()],
                },
            ),
            opt(
                "level",
                FieldType::Enum {
                    name: None,
                    values: vec!["low".into(), "high".into()],
                },
            ),
        ],
    )
    .with_primary_key(["id"]);
    e.indexes = vec![
        Index {
            name: format!("{TABLE}_born_clock"),
            fields: vec!["born".into(), "clock".into()],
            unique: false,
        },
        Index {
            name: format!("{TABLE}_uid"),
            fields: vec!["uid".into()],
            unique: true,
        },
    ];
    e
}

/// The properties introspection must give back unchanged.
fn shape(e: &Entity) -> Value {
    json!({
        "table": e.source.table,
        "primary_key": e.primary_key,
        "fields": e.fields.iter().map(|f| json!({
            "name": f.name, "type": f.ty, "nullable": f.nullable, "generated": f.generated,
            "unique": f.unique, "max_length": f.max_length,
        })).collect::<Vec<_>>(),
        "indexes": e.indexes,
    })
}

async fn introspect_entity(db: &dyn DatabaseAdapter, table: &str) -> Entity {
    let schema = db
        .introspect(&IntrospectOptions::default())
        .await
        .expect("introspect");
    schema
        .entities
        .into_iter()
        .find(|e| e.source.table == table)
        .unwrap_or_else(|| panic!("`{table}` not introspected"))
}

#[tokio::test]
async fn sqlite_managed_ddl_round_trip() {
    let path = std::env::temp_dir().join(format!("baas-ddl-{}.db", std::process::id()));
    let _ = std::fs::remove_file(&path);
    let db = connect(SqliteConfig::new(format!("sqlite://{}", path.display())))
        .await
        .expect("open sqlite");
    let pool = db.backend().pool();
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("DROP TABLE IF EXISTS {TABLE}")))
        .execute(pool)
        .await
        .expect("clean up");

    let mut e = entity();
    let create = SchemaChange::CreateEntity { entity: e.clone() };
    db.apply_ddl(&create).await.expect("create");
    let again = db.apply_ddl(&create).await;
    assert!(matches!(again, Err(Error::Conflict { .. })), "{again:?}");

    // Introspection describes the table as it was asked for.
    let got = introspect_entity(&db, TABLE).await;
    assert_eq!(shape(&got), shape(&introspected(DIALECT, &e)));
    // Enums are TEXT with a CHECK; the rowid key is generated.
    assert_eq!(got.fields[16].ty, FieldType::Text);
    assert_eq!(got.fields[0].generated, Generated::AutoIncrement);

    // A row goes in and comes back through `find`.
    let row = json!({
        "title": "first", "body": "x", "small": -32768, "medium": 2147483647,
        "ratio": 0.5, "weight": 1.25, "price": "12.50", "born": "2024-02-29",
        "clock": "23:59:58", "seen_at": "2024-05-06T07:08:09.250",
        "happened_at": "2024-05-06T07:08:09Z", "uid": "6f1c2a43-3f73-4d5c-9d4a-1b2c3d4e5f60",
        "meta": {"k": [1, "two", null]}, "data": "AAEC/w==", "mood": "it's", "level": "high"

    });
    let schema = SchemaMetadata::new(vec![e.clone()]);
    let t = Target::new(&schema, TABLE).unwrap();
    db.insert(
        t,
        &Insert {
            entity: TABLE.into(),
            rows: vec![row.as_object().unwrap().clone()],
            on_conflict: None,
            returning: None,
        },
    )
    .await
    .expect("insert");
    let back = db.find(t, &Query::new(TABLE)).await.expect("find");
    assert_eq!(back.rows.len(), 1);
    for (k, v) in row.as_object().unwrap() {
        assert_eq!(back.rows[0].get(k), Some(v), "{k}");
    }
    assert_eq!(back.rows[0]["active"], json!(true), "default applied");
    assert!(back.rows[0]["id"].as_i64().is_some());

    // The unique field and the CHECK of the unnamed enum are enforced.
    let dup = db
        .insert(
            t,
            &Insert {
                entity: TABLE.into(),
                rows: vec![json!({"title": "first"}).as_object().unwrap().clone()],
                on_conflict: None,
                returning: None,
            },
        )
        .await;
    assert!(matches!(dup, Err(Error::Conflict { .. })), "{dup:?}");
    let bad = sqlx::query(sqlx::AssertSqlSafe(format!(
        "INSERT INTO {TABLE} (title, level) VALUES ('x', 'medium')"
    )))
    .execute(pool)
    .await;
    assert!(bad.is_err(), "enum CHECK constraint");

    // Adding fields: a nullable one and one with a default.
    let mut note = Field::new("note", FieldType::Text).nullable();
    note.max_length = Some(200);
    let mut rating = Field::new("rating", FieldType::Int16);
    rating.default = Some("3".into());
    for f in [note, rating] {
        db.apply_ddl(&SchemaChange::AddField {
            entity: e.clone(),
            field: f.clone(),
        })
        .await
        .unwrap_or_else(|err| panic!("add {}: {err}", f.name));
        e.fields.push(f);
    }
    let refused = db
        .apply_ddl(&SchemaChange::AddField {
            entity: e.clone(),
            field: Field::new("year", FieldType::Int16),
        })
        .await;
    match refused {
        Err(Error::Validation { violations }) => {
            assert_eq!(violations[0].pointer, "/field/nullable")
        }
        other => panic!("{other:?}"),
    }
    let got = introspect_entity(&db, TABLE).await;
    assert_eq!(shape(&got), shape(&introspected(DIALECT, &e)));
    let schema = SchemaMetadata::new(vec![e.clone()]);
    let t = Target::new(&schema, TABLE).unwrap();
    let mut q = Query::new(TABLE);
    q.select.fields = vec!["title".into(), "note".into(), "rating".into()];
    q.order = vec![OrderBy::asc("id")];
    let back = db.find(t, &q).await.expect("find after add");
    assert_eq!(
        back.rows[0],
        *json!({"title": "first", "note": null, "rating": 3})
            .as_object()
            .unwrap()
    );

    // A change that fails half-way leaves nothing behind: two rows, then a
    // unique field whose default makes them collide (on MySQL the added
    // column is dropped again; elsewhere the transaction rolls back).
    db.insert(
        t,
        &Insert {
            entity: TABLE.into(),
            rows: vec![json!({"title": "second"}).as_object().unwrap().clone()],
            on_conflict: None,
            returning: None,
        },
    )
    .await
    .expect("second row");
    let mut slug = Field::new("slug", FieldType::Text);
    slug.max_length = Some(20);
    slug.default = Some("'same'".into());
    slug.unique = true;
    let failed = db
        .apply_ddl(&SchemaChange::AddField {
            entity: e.clone(),
            field: slug,
        })
        .await;
    assert!(matches!(failed, Err(Error::Conflict { .. })), "{failed:?}");
    let got = introspect_entity(&db, TABLE).await;
    assert_eq!(shape(&got), shape(&introspected(DIALECT, &e)));

    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("DROP TABLE {TABLE}")))
        .execute(pool)
        .await
        .expect("drop");
    db.backend().pool().close().await;
    let _ = std::fs::remove_file(&path);
}
