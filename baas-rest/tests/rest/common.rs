//! A Chinook-like schema and parsing helpers shared by the test modules.

use baas_core::ir::{Filter, Query};
use baas_core::validate::{Limits, Validator};
use baas_core::{
    Capabilities, Entity, Field, FieldType, Generated, Index, Relation, RelationKind,
    SchemaMetadata, Target, Through,
};
use baas_rest::{
    ParseLimits, ReadRequest, RestError, WriteRequest, parse_read, parse_read_by_key, parse_write,
    parse_write_by_key,
};

fn f(name: &str, ty: FieldType) -> Field {
    Field::new(name, ty)
}

fn opt(name: &str, ty: FieldType) -> Field {
    Field::new(name, ty).nullable()
}

fn money() -> FieldType {
    FieldType::Decimal {
        precision: Some(10),
        scale: Some(2),
    }
}

fn m2m(name: &str, target: &str, junction: &str, from: &str, to: &str) -> Relation {
    Relation {
        name: name.into(),
        kind: RelationKind::ManyToMany {
            through: Through {
                entity: junction.into(),
                source_fields: vec![from.into()],
                target_fields: vec![to.into()],
            },
        },
        target: target.into(),
        from_fields: vec![from.into()],
        to_fields: vec![to.into()],
        constraint: None,
        function: None,
    }
}

/// artist / album / track / genre / media_type / playlist (many-to-many
/// through playlist_track) / employee (self relations) / customer / invoice
/// (decimal, timestamptz, boolean) / invoice_line.
pub fn schema() -> SchemaMetadata {
    use FieldType::{Boolean, Int32, Int64, Json, Text, TimestampTz};
    let id = |n: &str| f(n, Int32).generated(Generated::AutoIncrement);
    let s = SchemaMetadata::new(vec![
        Entity::new("artist", vec![id("artist_id"), opt("name", Text)])
            .with_primary_key(["artist_id"])
            .with_relation(Relation::one_to_many(
                "albums",
                "album",
                &["artist_id"],
                &["artist_id"],
            )),
        Entity::new(
            "album",
            vec![id("album_id"), f("title", Text), f("artist_id", Int32)],
        )
        .with_primary_key(["album_id"])
        .with_relation(Relation::many_to_one(
            "artist",
            "artist",
            &["artist_id"],
            &["artist_id"],
        ))
        .with_relation(Relation::one_to_many(
            "tracks",
            "track",
            &["album_id"],
            &["album_id"],
        )),
        Entity::new("genre", vec![id("genre_id"), opt("name", Text)])
            .with_primary_key(["genre_id"])
            .with_relation(Relation::one_to_many(
                "tracks",
                "track",
                &["genre_id"],
                &["genre_id"],
            )),
        Entity::new("media_type", vec![id("media_type_id"), opt("name", Text)])
            .with_primary_key(["media_type_id"]),
        Entity::new(
            "track",
            vec![
                id("track_id"),
                f("name", Text),
                opt("album_id", Int32),
                f("media_type_id", Int32),
                opt("genre_id", Int32),
                opt("composer", Text),
                f("milliseconds", Int32),
                opt("bytes", Int64),
                f("unit_price", money()),
                opt("explicit", Boolean),
                opt("rating", FieldType::Float64),
                opt(
                    "tags",
                    FieldType::Array {
                        items: Box::new(Text),
                    },
                ),
                opt(
                    "chart_positions",
                    FieldType::Array {
                        items: Box::new(Int32),
                    },
                ),
                opt("meta", Json),
                opt(
                    "mood",
                    FieldType::Enum {
                        name: None,
                        values: vec!["happy".into(), "sad".into()],
                    },
                ),
            ],
        )
        .with_primary_key(["track_id"])
        .with_relation(Relation::many_to_one(
            "album",
            "album",
            &["album_id"],
            &["album_id"],
        ))
        .with_relation(Relation::many_to_one(
            "genre",
            "genre",
            &["genre_id"],
            &["genre_id"],
        ))
        .with_relation(Relation::many_to_one(
            "media_type",
            "media_type",
            &["media_type_id"],
            &["media_type_id"],
        ))
        .with_relation(Relation::one_to_many(
            "invoice_lines",
            "invoice_line",
            &["track_id"],
            &["track_id"],
        ))
        .with_relation(m2m(
            "playlists",
            "playlist",
            "playlist_track",
            "track_id",
            "playlist_id",
        )),
        Entity::new("playlist", vec![id("playlist_id"), opt("name", Text)])
            .with_primary_key(["playlist_id"])
            .with_relation(m2m(
                "tracks",
                "track",
                "playlist_track",
                "playlist_id",
                "track_id",
            )),
        Entity::new(
            "playlist_track",
            vec![f("playlist_id", Int32), f("track_id", Int32)],
        )
        .with_primary_key(["playlist_id", "track_id"])
        .with_relation(Relation::many_to_one(
            "playlist",
            "playlist",
            &["playlist_id"],
            &["playlist_id"],
        ))
        .with_relation(Relation::many_to_one(
            "track",
            "track",
            &["track_id"],
            &["track_id"],
        )),
        Entity::new(
            "employee",
            vec![
                id("employee_id"),
                f("last_name", Text),
                f("first_name", Text),
                opt("reports_to", Int32),
                opt("hire_date", FieldType::Timestamp),
                opt("email", Text),
            ],
        )
        .with_primary_key(["employee_id"])
        .with_relation(Relation::many_to_one(
            "manager",
            "employee",
            &["reports_to"],
            &["employee_id"],
        ))
        .with_relation(Relation::one_to_many(
            "reports",
            "employee",
            &["employee_id"],
            &["reports_to"],
        ))
        .with_relation(Relation::one_to_many(
            "customers",
            "customer",
            &["employee_id"],
            &["support_rep_id"],
        )),
        {
            let mut email = f("email", Text);
            email.unique = true;
            Entity::new(
                "customer",
                vec![
                    id("customer_id"),
                    f("first_name", Text),
                    f("last_name", Text),
                    opt("company", Text),
                    opt("country", Text),
                    email,
                    opt("support_rep_id", Int32),
                ],
            )
            .with_primary_key(["customer_id"])
            .with_relation(Relation::many_to_one(
                "support_rep",
                "employee",
                &["support_rep_id"],
                &["employee_id"],
            ))
            .with_relation(Relation::one_to_many(
                "invoices",
                "invoice",
                &["customer_id"],
                &["customer_id"],
            ))
        },
        Entity::new(
            "invoice",
            vec![
                id("invoice_id"),
                f("customer_id", Int32),
                f("invoice_date", TimestampTz),
                opt("billing_country", Text),
                f("total", money()),
                opt("paid", Boolean),
                opt("uid", FieldType::Uuid),
            ],
        )
        .with_primary_key(["invoice_id"])
        .with_relation(Relation::many_to_one(
            "customer",
            "customer",
            &["customer_id"],
            &["customer_id"],
        ))
        .with_relation(Relation::one_to_many(
            "lines",
            "invoice_line",
            &["invoice_id"],
            &["invoice_id"],
        )),
        Entity::new(
            "invoice_line",
            vec![
                id("invoice_line_id"),
                f("invoice_id", Int32),
                f("track_id", Int32),
                f("unit_price", money()),
                f("quantity", Int32),
            ],
        )
        .with_primary_key(["invoice_line_id"])
        .with_relation(Relation::many_to_one(
            "invoice",
            "invoice",
            &["invoice_id"],
            &["invoice_id"],
        ))
        .with_relation(Relation::many_to_one(
            "track",
            "track",
            &["track_id"],
            &["track_id"],
        )),
        {
            let mut e = Entity::new("top_tracks", vec![f("track_id", Int32), f("plays", Int64)]);
            e.read_only = true;
            e.indexes.push(Index {
                name: "top_tracks_track".into(),
                fields: vec!["track_id".into()],
                unique: true,
            });
            e
        },
    ]);
    s.check().expect("the test schema is consistent");
    s
}

pub fn limits() -> ParseLimits {
    ParseLimits::default()
}

pub fn hdrs(h: &[(&str, &str)]) -> Vec<(String, String)> {
    h.iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

pub fn read_h(entity: &str, qs: &str, h: &[(&str, &str)]) -> Result<ReadRequest, RestError> {
    let s = schema();
    let e = s.entity(entity).expect("entity");
    parse_read(&s, e, qs, &hdrs(h), &limits())
}

pub fn read(entity: &str, qs: &str) -> Result<ReadRequest, RestError> {
    read_h(entity, qs, &[])
}

/// The query of a read that must parse.
pub fn q(entity: &str, qs: &str) -> Query {
    match read(entity, qs) {
        Ok(r) => r.query,
        Err(e) => panic!("`{qs}` failed: {e:?}"),
    }
}

/// The filter of a read that must parse and have one.
pub fn filt(entity: &str, qs: &str) -> Filter {
    q(entity, qs)
        .filter
        .unwrap_or_else(|| panic!("`{qs}` has no filter"))
}

/// The error of a read that must fail.
pub fn err(entity: &str, qs: &str) -> RestError {
    match read(entity, qs) {
        Ok(r) => panic!("`{qs}` parsed: {:?}", r.query),
        Err(e) => e,
    }
}

pub fn by_key(entity: &str, key: &[&str], qs: &str) -> Result<ReadRequest, RestError> {
    let s = schema();
    let e = s.entity(entity).expect("entity");
    let key: Vec<String> = key.iter().map(|k| k.to_string()).collect();
    parse_read_by_key(&s, e, &key, qs, &[], &limits())
}

pub fn write_h(
    entity: &str,
    method: &str,
    qs: &str,
    h: &[(&str, &str)],
    body: &str,
) -> Result<WriteRequest, RestError> {
    let s = schema();
    let e = s.entity(entity).expect("entity");
    parse_write(
        &s,
        e,
        method,
        qs,
        &json_typed(h),
        body.as_bytes(),
        &limits(),
    )
}

/// `h`, plus `Content-Type: application/json` unless it names a type.
fn json_typed(h: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut out = hdrs(h);
    if !h
        .iter()
        .any(|(k, _)| k.eq_ignore_ascii_case("content-type"))
    {
        out.push(("Content-Type".into(), "application/json".into()));
    }
    out
}

pub fn write(entity: &str, method: &str, qs: &str, body: &str) -> Result<WriteRequest, RestError> {
    write_h(entity, method, qs, &[], body)
}

pub fn write_key(
    entity: &str,
    method: &str,
    key: &[&str],
    qs: &str,
    h: &[(&str, &str)],
    body: &str,
) -> Result<WriteRequest, RestError> {
    let s = schema();
    let e = s.entity(entity).expect("entity");
    let key: Vec<String> = key.iter().map(|k| k.to_string()).collect();
    parse_write_by_key(
        &s,
        e,
        method,
        &key,
        qs,
        &json_typed(h),
        body.as_bytes(),
        &limits(),
    )
}

/// Capabilities of a PostgreSQL-like engine (everything on).
pub fn caps() -> Capabilities {
    let mut c = Capabilities::minimal("postgres");
    c.full_text_search = true;
    c.arrays = true;
    c.json_path = true;
    c.returning = true;
    c.upsert_conflict_target = true;
    c.estimated_count = true;
    c.transactions = true;
    c
}

/// Validate a query with baas-core, as the engine would.
pub fn validate(query: &Query) -> Result<(), baas_core::Error> {
    let s = schema();
    let t = Target::new(&s, &query.entity)?;
    let c = caps();
    let l = Limits::default();
    Validator::new(t, &c, &l).query(query.clone()).map(|_| ())
}
