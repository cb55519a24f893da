//! Properties of managed DDL across dialects.

use baas_core::{FieldType, Generated};

use super::*;
use crate::types::field_type;

fn every_type() -> Vec<FieldType> {
    let scalars = vec![
        FieldType::Text,
        FieldType::Int16,
        FieldType::Int32,
        FieldType::Int64,
        FieldType::Float32,
        FieldType::Float64,
        FieldType::Decimal {
            precision: Some(12),
            scale: Some(3),
        },
        FieldType::Decimal {
            precision: Some(7),
            scale: None,
        },
        FieldType::Decimal {
            precision: None,
            scale: None,
        },
        FieldType::Boolean,
        FieldType::Date,
        FieldType::Time,
        FieldType::Timestamp,
        FieldType::TimestampTz,
        FieldType::Uuid,
        FieldType::Json,
        FieldType::Binary,
        FieldType::Enum {
            name: None,
            values: vec!["a".into(), "b'c".into()],
        },
        FieldType::Enum {
            name: Some("mood".into()),
            values: vec!["sad".into(), "ok".into()],
        },
    ];
    let mut all = scalars.clone();
    for s in scalars {
        if !matches!(s, FieldType::Enum { name: None, .. }) {
            all.push(FieldType::Array { items: Box::new(s) });
        }
    }
    all.push(FieldType::ObjectId);
    all
}

/// The main property: the column type written for a field reads back,
/// through the mapping live introspection uses, as the type (and
/// max_length) [`introspected`] promises. Enums are special-cased the way
/// the catalogs report them: PostgreSQL enum types by name from
/// `pg_enum`, MySQL by their `enum(…)` declaration.
#[test]
fn declared_types_read_back_as_introspected() {
    let mut checked = 0;
    for d in [Dialect::Postgres, Dialect::Mysql, Dialect::Sqlite] {
        for ty in every_type() {
            for (max_length, auto) in [(None, false), (Some(40), false), (None, true)] {
                if max_length.is_some() && ty != FieldType::Text {
                    continue;
                }
                let is_int = matches!(ty, FieldType::Int16 | FieldType::Int32 | FieldType::Int64);
                if auto && !is_int {
                    continue;
                }
                let mut f = Field::new("c", ty.clone());
                f.max_length = max_length;
                if auto {
                    f.generated = Generated::AutoIncrement;
                }
                let e = Entity::new("t", vec![f.clone()]).with_primary_key(["c"]);
                let ddl = Ddl::new(d, &e);
                let at = At("/entity/fields/0".into());
                let declared = match ddl.type_name(&ty, max_length, auto, &at) {
                    Ok(t) => t,
                    Err(err) => {
                        // Refused types are refused by the whole change too.
                        let change = SchemaChange::CreateEntity {
                            entity: e.clone(),
                            references: Vec::new(),
                        };
                        assert!(schema_change(d, &change).is_err(), "{d:?} {ty:?}");
                        assert!(
                            matches!(err, Error::Unsupported { .. } | Error::Validation { .. }),
                            "{err}"
                        );
                        continue;
                    }
                };
                let want = introspected(d, &e).fields.remove(0);
                let got = field_type(d, &declared);
                let got_ty = match (&ty, got.ty) {
                    // The catalog supplies the enum's name and labels.
                    (FieldType::Enum { name: Some(_), .. }, _) if d == Dialect::Postgres => {
                        want.ty.clone()
                    }
                    (FieldType::Array { items }, FieldType::Array { .. })
                        if matches!(items.as_ref(), FieldType::Enum { .. }) =>
                    {
                        want.ty.clone()
                    }
                    (_, t) => t,
                };
                assert_eq!(got_ty, want.ty, "{d:?}: {ty:?} declared as `{declared}`");
                assert_eq!(
                    got.max_length, want.max_length,
                    "{d:?}: {ty:?} declared as `{declared}`"
                );
                // SQLite marks exactly `INTEGER` single keys as generated.
                if d == Dialect::Sqlite && is_int {
                    assert_eq!(declared == "INTEGER", auto, "{declared}");
                }
                checked += 1;
            }
        }
    }
    assert!(checked > 60, "only {checked} combinations checked");
}

/// A many-to-one relation to an existing entity (listed in
/// `references`) through its key becomes a foreign key; without the
/// reference, or through a non-unique field, it does not.
#[test]
fn foreign_keys_to_other_entities() {
    use baas_core::Relation;
    let author = Entity::new(
        "author",
        vec![
            Field::new("id", FieldType::Int64).generated(Generated::AutoIncrement),
            Field::new("name", FieldType::Text),
        ],
    )
    .with_primary_key(["id"]);
    let book = |to: &str| {
        Entity::new(
            "book",
            vec![
                Field::new("id", FieldType::Int64).generated(Generated::AutoIncrement),
                Field::new("author_id", FieldType::Int64),
            ],
        )
        .with_primary_key(["id"])
        .with_relation(Relation::many_to_one(
            "author",
            "author",
            &["author_id"],
            &[to],
        ))
    };
    let create = |e: Entity, refs: Vec<Entity>| {
        schema_change(
            Dialect::Sqlite,
            &SchemaChange::CreateEntity {
                entity: e,
                references: refs,
            },
        )
        .map(|st| {
            st.iter()
                .map(|s| s.sql.clone())
                .collect::<Vec<_>>()
                .join(";")
        })
        .unwrap_or_else(|e| e.to_string())
    };
    let sql = create(book("id"), vec![author.clone()]);
    assert!(
        sql.contains(r#"FOREIGN KEY ("author_id") REFERENCES "author" ("id")"#),
        "{sql}"
    );
    for d in [Dialect::Postgres, Dialect::Mysql] {
        let st = schema_change(
            d,
            &SchemaChange::CreateEntity {
                entity: book("id"),
                references: vec![author.clone()],
            },
        )
        .map(|st| {
            st.iter()
                .map(|s| s.sql.clone())
                .collect::<Vec<_>>()
                .join(";")
        })
        .unwrap_or_default();
        assert!(
            st.contains("FOREIGN KEY") && st.contains("book_author_id_fkey"),
            "{d:?}: {st}"
        );
    }
    assert!(!create(book("id"), vec![]).contains("FOREIGN KEY"));
    assert!(!create(book("name"), vec![author]).contains("FOREIGN KEY"));
}
