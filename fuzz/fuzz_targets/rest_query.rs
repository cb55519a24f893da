//! Fuzz the REST dialect: any path + query string must give `Ok` or `Err`
//! from routing and parsing, never a panic, a stack overflow or a hang.
//!
//! Input: UTF-8 text; the first line is the path, the second the query
//! string, the rest the body.
#![no_main]

use baas_core::{Entity, Field, FieldType, Relation, SchemaMetadata};
use baas_rest::{Operation, RestLimits, RestRequest, parse_request, route};
use libfuzzer_sys::fuzz_target;

fn schema() -> SchemaMetadata {
    SchemaMetadata::new(vec![
        Entity::new(
            "artist",
            vec![
                Field::new("artist_id", FieldType::Int32),
                Field::new("name", FieldType::Text).nullable(),
            ],
        )
        .with_primary_key(["artist_id"])
        .with_relation(Relation::one_to_many(
            "albums",
            "album",
            &["artist_id"],
            &["artist_id"],
        )),
        Entity::new(
            "album",
            vec![
                Field::new("album_id", FieldType::Int32),
                Field::new("title", FieldType::Text),
                Field::new("artist_id", FieldType::Int32),
                Field::new("meta", FieldType::Json).nullable(),
                Field::new(
                    "tags",
                    FieldType::Array {
                        items: Box::new(FieldType::Text),
                    },
                )
                .nullable(),
            ],
        )
        .with_primary_key(["album_id"])
        .with_relation(Relation::many_to_one(
            "artist",
            "artist",
            &["artist_id"],
            &["artist_id"],
        )),
    ])
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let mut lines = text.splitn(3, '\n');
    let path = lines.next().unwrap_or("");
    let query = lines.next().unwrap_or("");
    let body = lines.next().unwrap_or("");
    let schema = schema();
    let limits = RestLimits::default();
    for (method, path) in [
        ("GET", "/t/artist"),
        ("PATCH", "/t/album/1"),
        ("POST", "/t/album"),
        ("GET", path),
    ] {
        let req = RestRequest::new(method, path, query)
            .header("Prefer", "return=representation")
            .body(body);
        if let Ok(r) = route(&req.path, &req.headers)
            && let Ok(Operation::Read(read)) = parse_request(&schema, &r, &req, &limits)
        {
            let _ = baas_rest::read_response(&read, baas_core::ir::Rows::default());
        }
    }
});
