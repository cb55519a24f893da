//! The managed-mode DDL round trip every SQL adapter runs against a real
//! server.
//!
//! [`round_trip`] creates [`TABLE`] through [`DatabaseAdapter::apply_ddl`],
//! reads it back through live introspection, writes and reads rows and adds
//! fields, checking the same things on every engine. An adapter's
//! `tests/ddl.rs` passes in only what differs: the connection, the entity
//! (the field types the engine supports, see [`Case::every_type`]), what its
//! introspection reports for a created entity (`baas_sql::ddl::introspected`,
//! as a closure: baas-core does not depend on baas-sql) and a way to run raw
//! SQL (the clean-up, the final drop and a statement that must be refused).

use serde_json::{Map, Value as J, json};

use baas_core::adapter::{
    DatabaseAdapter, DatabaseAdapterExt, IntrospectOptions, SchemaChange, Target,
};
use baas_core::error::Error;
use baas_core::ir::{Insert, OrderBy, Query};
use baas_core::metadata::{Entity, Field, FieldType, Generated, Index, SchemaMetadata};

/// The table [`round_trip`] creates (and drops).
pub const TABLE: &str = "ddl_test_every_type";

/// What one engine's round trip creates and expects.
#[derive(Debug, Clone)]
pub struct Case {
    /// The entity created as [`TABLE`]; its fields must include the ones of
    /// [`Case::every_type`] (`id`, `title`, `active`, `level`, `mood` …).
    pub entity: Entity,
    /// The first row inserted: a value for every field but `id` and `active`,
    /// each read back unchanged by `find`.
    pub row: Map<String, J>,
    /// How to introspect so that [`TABLE`] is found.
    pub introspect: IntrospectOptions,
    /// Enums are stored as TEXT with a CHECK (SQLite): introspection reports
    /// `mood` as [`FieldType::Text`] instead of the enum it was created as.
    pub enums_as_text: bool,
    /// Raw SQL run first, removing what an earlier run left behind.
    pub clean_up: String,
    /// Raw SQL run last, removing what the round trip created.
    pub drop: String,
}

impl Case {
    /// The case for every scalar field type, a unique field, a default, two
    /// enums (`mood`, whose type is named `mood_type` on engines with named
    /// enum types, and the unnamed `level`) and two indexes; no arrays.
    pub fn every_type(mood_type: Option<&str>) -> Self {
        let opt = |n: &str, t: FieldType| Field::new(n, t).nullable();
        let mut title = Field::new("title", FieldType::Text);
        title.max_length = Some(80);
        title.unique = true;
        let mut active = Field::new("active", FieldType::Boolean);
        active.default = Some("true".into());
        let mut entity = Entity::new(
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
                        name: mood_type.map(Into::into),
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
        entity.indexes = vec![
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
        let row = json!({
            "title": "first", "body": "x", "small": -32768, "medium": 2147483647,
            "ratio": 0.5, "weight": 1.25, "price": crate::dec("12.50"), "born": "2024-02-29",
            "clock": "23:59:58", "seen_at": "2024-05-06T07:08:09.25",
            "happened_at": "2024-05-06T07:08:09+00:00", "uid": "6f1c2a43-3f73-4d5c-9d4a-1b2c3d4e5f60",
            "meta": {"k": [1, "two", null]}, "data": "\\x000102ff", "mood": "it's", "level": "high"
        });
        Self {
            entity,
            row: object(row),
            introspect: IntrospectOptions::default(),
            enums_as_text: false,
            clean_up: format!("DROP TABLE IF EXISTS {TABLE}"),
            drop: format!("DROP TABLE {TABLE}"),
        }
    }
}

fn object(v: J) -> Map<String, J> {
    match v {
        J::Object(m) => m,
        other => panic!("not an object: {other}"),
    }
}

/// The properties introspection must give back unchanged.
fn shape(e: &Entity) -> J {
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

async fn introspect_entity(db: &dyn DatabaseAdapter, options: &IntrospectOptions) -> Entity {
    let schema = db.introspect(options).await.expect("introspect");
    schema
        .entities
        .into_iter()
        .find(|e| e.source.table == TABLE)
        .unwrap_or_else(|| panic!("`{TABLE}` not introspected"))
}

fn insert(row: Map<String, J>) -> Insert {
    Insert {
        entity: TABLE.into(),
        rows: vec![row],
        on_conflict: None,
        returning: None,
    }
}

/// Run the managed-mode DDL round trip of `case` on `db`, panicking on the
/// first failed check: create [`TABLE`] (a second create is a conflict),
/// introspect it and compare with `introspected(&entity)`, insert `case.row`
/// and read it back, check the unique field and the unnamed enum's CHECK,
/// add a nullable field and one with a default, see a NOT NULL field without
/// default refused, and see a unique field whose default collides fail
/// without leaving anything behind.
///
/// `introspected` says what the engine's introspection reports for an entity
/// it created (`baas_sql::ddl::introspected` with the engine's dialect);
/// `raw_sql` runs one or more SQL statements directly on the engine.
pub async fn round_trip(
    db: &dyn DatabaseAdapter,
    case: Case,
    introspected: impl Fn(&Entity) -> Entity,
    raw_sql: impl AsyncFn(String) -> Result<(), String>,
) {
    let Case {
        entity: mut e,
        row,
        introspect,
        enums_as_text,
        clean_up,
        drop: drop_sql,
    } = case;
    raw_sql(clean_up).await.expect("clean up");

    let create = SchemaChange::CreateEntity {
        entity: e.clone(),
        references: Vec::new(),
    };
    db.apply_ddl(&create).await.expect("create");
    let again = db.apply_ddl(&create).await;
    assert!(matches!(again, Err(Error::Conflict { .. })), "{again:?}");

    // Introspection describes the table as it was asked for.
    let got = introspect_entity(db, &introspect).await;
    assert_eq!(shape(&got), shape(&introspected(&e)));
    // Enums come back with their labels (and their type's name where named),
    // or as TEXT where that is how they are stored; the key as auto-increment.
    let mood = &got.field("mood").expect("mood introspected").ty;
    if enums_as_text {
        assert_eq!(*mood, FieldType::Text);
    } else {
        assert_eq!(*mood, e.field("mood").expect("mood").ty);
    }
    assert_eq!(got.fields[0].name, "id");
    assert_eq!(got.fields[0].generated, Generated::AutoIncrement);

    // A row goes in and comes back through `find`.
    let schema = SchemaMetadata::new(vec![e.clone()]);
    let t = Target::new(&schema, TABLE).unwrap();
    db.insert(t, &insert(row.clone())).await.expect("insert");
    let back = db.find(t, &Query::new(TABLE)).await.expect("find");
    assert_eq!(back.rows.len(), 1);
    for (k, v) in &row {
        assert_eq!(back.rows[0].get(k), Some(v), "{k}");
    }
    assert_eq!(back.rows[0]["active"], json!(true), "default applied");
    assert!(back.rows[0]["id"].as_i64().is_some());

    // The unique field and the CHECK of the unnamed enum are enforced.
    let dup = db
        .insert(t, &insert(object(json!({"title": "first"}))))
        .await;
    assert!(matches!(dup, Err(Error::Conflict { .. })), "{dup:?}");
    let bad = raw_sql(format!(
        "INSERT INTO {TABLE} (title, level) VALUES ('x', 'medium')"
    ))
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
    let got = introspect_entity(db, &introspect).await;
    assert_eq!(shape(&got), shape(&introspected(&e)));
    let schema = SchemaMetadata::new(vec![e.clone()]);
    let t = Target::new(&schema, TABLE).unwrap();
    let mut q = Query::new(TABLE);
    q.select.fields = vec!["title".into(), "note".into(), "rating".into()];
    q.order = vec![OrderBy::asc("id")];
    let back = db.find(t, &q).await.expect("find after add");
    assert_eq!(
        back.rows[0],
        object(json!({"title": "first", "note": null, "rating": 3}))
    );

    // A change that fails half-way leaves nothing behind: two rows, then a
    // unique field whose default makes them collide (on MySQL the added
    // column is dropped again; elsewhere the transaction rolls back).
    db.insert(t, &insert(object(json!({"title": "second"}))))
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
    let got = introspect_entity(db, &introspect).await;
    assert_eq!(shape(&got), shape(&introspected(&e)));

    raw_sql(drop_sql).await.expect("drop");
}
