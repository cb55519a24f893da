//! Writes: POST / PATCH / DELETE / PUT, Prefer, columns, body errors.

use baas_core::Target;
use baas_core::ir::{Filter, Insert, OnConflict, Upsert};
use baas_core::validate::{Limits, Validator};
use baas_rest::{ParseLimits, ReturnMode, Write, parse_write};
use serde_json::json;

use crate::common::{caps, schema, write, write_h, write_key};

fn insert(w: &Write) -> &Insert {
    match w {
        Write::Insert(i) => i,
        other => panic!("not an insert: {other:?}"),
    }
}

fn obj(v: serde_json::Value) -> serde_json::Map<String, serde_json::Value> {
    match v {
        serde_json::Value::Object(o) => o,
        _ => panic!("not an object"),
    }
}

fn validate_write(w: &Write) -> Result<(), baas_core::Error> {
    let s = schema();
    let t = Target::new(&s, w.entity())?;
    let c = caps();
    let l = Limits::default();
    let v = Validator::new(t, &c, &l);
    match w {
        Write::Insert(i) => v.insert(i.clone()).map(|_| ()),
        Write::Update(u) => v.update(u.clone()).map(|_| ()),
        Write::Delete(d) => v.delete(d.clone()).map(|_| ()),
    }
}

#[test]
fn post_one_and_many() {
    let w = write("artist", "POST", "", r#"{"name":"Ghost"}"#).expect("post");
    assert_eq!(w.return_mode, ReturnMode::Minimal);
    let ins = insert(&w.write);
    assert_eq!(ins.entity, "artist");
    assert_eq!(ins.rows, vec![obj(json!({"name": "Ghost"}))]);
    assert_eq!(ins.on_conflict, None);
    assert_eq!(ins.returning, None);
    assert!(validate_write(&w.write).is_ok());

    let w = write("artist", "post", "", r#"[{"name":"A"},{"name":"B"}]"#).expect("bulk");
    assert_eq!(insert(&w.write).rows.len(), 2);
    // An empty array parses; validation says there is nothing to insert.
    let w = write("artist", "POST", "", "[]").expect("empty");
    let e = baas_rest::RestError::from(validate_write(&w.write).expect_err("empty"));
    assert_eq!(e.violations()[0].pointer, "/rows");
}

#[test]
fn post_representation_and_select() {
    let w = write_h(
        "artist",
        "POST",
        "select=artist_id,name",
        &[("Prefer", "return=representation")],
        r#"{"name":"X"}"#,
    )
    .expect("post");
    assert_eq!(w.return_mode, ReturnMode::Representation);
    assert_eq!(
        insert(&w.write).returning,
        Some(vec!["artist_id".to_string(), "name".to_string()])
    );
    let w = write_h(
        "artist",
        "POST",
        "",
        &[("Prefer", "return=representation")],
        "{}",
    )
    .expect("post");
    assert_eq!(insert(&w.write).returning, Some(vec![]));
    let w = write_h(
        "artist",
        "POST",
        "",
        &[("Prefer", "return=headers-only")],
        "{}",
    )
    .expect("post");
    assert_eq!(
        insert(&w.write).returning,
        Some(vec!["artist_id".to_string()])
    );
}

/// `!inner` in a write's `select` filters the representation only: the
/// write's filter does not carry it, and `keep_inner` drops the rows
/// without the embedding (and the embedding read only to filter).
#[test]
fn inner_embeddings_filter_the_representation() {
    let rep = [("Prefer", "return=representation")];
    let w = write_h(
        "artist",
        "PATCH",
        "artist_id=eq.1&select=name,albums!inner(title),x:albums!inner()&albums.title=eq.T",
        &rep,
        r#"{"name":"X"}"#,
    )
    .expect("patch");
    match &w.write {
        Write::Update(u) => assert_eq!(u.filter, Filter::eq("artist_id", 1i64)),
        other => panic!("not an update: {other:?}"),
    }
    assert_eq!(
        w.inner,
        vec![("albums".to_string(), true), ("x".to_string(), false)]
    );
    let embeds = &w.representation.as_ref().expect("embeds").embeds;
    assert_eq!(embeds.len(), 2);
    assert!(embeds[0].filter.is_some());
    let mut rows: Vec<_> = [
        json!({"name": "a", "albums": [{"title": "T"}], "x": [{}]}),
        json!({"name": "b", "albums": [], "x": [{}]}),
        json!({"name": "c", "albums": [{"title": "T"}], "x": []}),
    ]
    .into_iter()
    .map(obj)
    .collect();
    w.keep_inner(&mut rows);
    assert_eq!(
        rows,
        vec![obj(json!({"name": "a", "albums": [{"title": "T"}]}))]
    );
    // A POST takes it too (no filter of its own); without a
    // representation nothing is read, nothing filtered.
    let w = write_h(
        "artist",
        "POST",
        "select=name,albums!inner(title)",
        &rep,
        r#"{"name":"X"}"#,
    )
    .expect("post");
    assert_eq!(w.inner, vec![("albums".to_string(), true)]);
    let w = write(
        "artist",
        "POST",
        "select=name,albums!inner(title)",
        r#"{"name":"X"}"#,
    )
    .expect("post");
    assert!(w.inner.is_empty() && w.representation.is_none());
}

#[test]
fn upserts() {
    let w = write_h(
        "customer",
        "POST",
        "on_conflict=email",
        &[("Prefer", "resolution=merge-duplicates")],
        r#"{"first_name":"a","last_name":"b","email":"x@y"}"#,
    )
    .expect("upsert");
    assert_eq!(
        insert(&w.write).on_conflict,
        Some(Upsert {
            target: vec!["email".into()],
            action: OnConflict::Merge,
            defaults: vec![],
        })
    );
    assert!(validate_write(&w.write).is_ok());
    let w = write_h(
        "playlist_track",
        "POST",
        "on_conflict=playlist_id,%20track_id",
        &[("Prefer", "resolution=ignore-duplicates")],
        r#"[{"playlist_id":1,"track_id":2}]"#,
    )
    .expect("upsert");
    assert_eq!(
        insert(&w.write).on_conflict,
        Some(Upsert {
            target: vec!["playlist_id".into(), "track_id".into()],
            action: OnConflict::Ignore,
            defaults: vec![],
        })
    );
    // Resolution alone: primary key.
    let w = write_h(
        "artist",
        "POST",
        "",
        &[("Prefer", "resolution=merge-duplicates")],
        r#"{"artist_id":1,"name":"x"}"#,
    )
    .expect("upsert");
    assert_eq!(
        insert(&w.write).on_conflict,
        Some(Upsert {
            target: vec![],
            action: OnConflict::Merge,
            defaults: vec![],
        })
    );
    // on_conflict without resolution is refused (not silently ignored).
    let e = write("artist", "POST", "on_conflict=artist_id", "{}").expect_err("no resolution");
    assert_eq!(e.status, 400);
    assert!(e.message.contains("resolution"));
    // A non-unique conflict target fails validation.
    let w = write_h(
        "customer",
        "POST",
        "on_conflict=country",
        &[("Prefer", "resolution=merge-duplicates")],
        r#"{"first_name":"a","last_name":"b","email":"x@y"}"#,
    )
    .expect("parses");
    let e = baas_rest::RestError::from(validate_write(&w.write).expect_err("not unique"));
    assert_eq!(e.violations()[0].pointer, "/on_conflict/target");
    assert_eq!(
        write("artist", "POST", "on_conflict=", "{}")
            .expect_err("empty")
            .status,
        400
    );
    assert_eq!(
        write("artist", "POST", "on_conflict=a,", "{}")
            .expect_err("trailing")
            .status,
        400
    );
}

#[test]
fn columns_restrict_body_keys() {
    let w = write(
        "artist",
        "POST",
        "columns=name",
        r#"[{"name":"a","artist_id":9,"junk":1}]"#,
    )
    .expect("columns");
    assert_eq!(insert(&w.write).rows, vec![obj(json!({"name": "a"}))]);
    let e = write("artist", "POST", "columns=name,nope", "{}").expect_err("unknown");
    assert_eq!(e.status, 400);
    assert!(e.message.contains("nope"));
    let w = write(
        "artist",
        "PATCH",
        "columns=name&artist_id=eq.1",
        r#"{"name":"a","artist_id":2}"#,
    )
    .expect("patch");
    match &w.write {
        Write::Update(u) => assert_eq!(u.set, obj(json!({"name": "a"}))),
        other => panic!("{other:?}"),
    }
}

#[test]
fn body_errors() {
    let e = write("artist", "POST", "", r#"{"name": }"#).expect_err("malformed");
    assert_eq!(e.status, 400);
    assert!(e.message.contains("line 1, column 10"), "{e:?}");
    let e = write("artist", "POST", "", "{\n\"a\":1,\n}").expect_err("malformed");
    assert!(e.message.contains("line 3"), "{e:?}");
    for body in ["1", "\"x\"", "null", "true"] {
        let e = write("artist", "POST", "", body).expect_err(body);
        assert_eq!(e.status, 400, "{body}");
        assert!(e.message.contains("JSON object"), "{e:?}");
    }
    let e = write("artist", "POST", "", r#"[{"name":"a"}, 3]"#).expect_err("array item");
    assert_eq!(e.status, 400);
    assert_eq!(e.details.as_deref(), Some("at `/1`"));
    for body in ["", "   \n"] {
        let e = write("artist", "POST", "", body).expect_err("empty");
        assert_eq!(e.status, 400);
        assert!(e.message.contains("empty"));
    }
    // PostgREST's empty patches (`[]`, `[{}]`) set nothing; other arrays
    // are no patch.
    let w = write("artist", "PATCH", "artist_id=eq.1", "[{}]").expect("empty patch");
    assert!(matches!(&w.write, Write::Update(u) if u.set.is_empty()));
    let e =
        write("artist", "PATCH", "artist_id=eq.1", r#"[{"name":"a"}]"#).expect_err("array patch");
    assert_eq!(e.status, 400);
    let e = write_h(
        "artist",
        "POST",
        "",
        &[("Content-Type", "text/xml")],
        "<a>1</a>",
    )
    .expect_err("xml");
    assert_eq!(e.status, 415);
    assert_eq!(e.code, "unsupported_media_type");
    assert!(
        write_h(
            "artist",
            "POST",
            "",
            &[("Content-Type", "application/json; charset=utf-8")],
            "{}"
        )
        .is_ok()
    );
    let e = write("artist", "POST", "", "\u{feff}{}").expect_err("bom");
    assert_eq!(e.status, 400);
    let e = write("artist", "POST", "", "[[[[").expect_err("unterminated");
    assert_eq!(e.status, 400);
    // Deep nesting is refused by the JSON parser, not the stack.
    let deep = "[".repeat(100_000);
    assert_eq!(
        write("artist", "POST", "", &deep).expect_err("deep").status,
        400
    );
}

#[test]
fn body_size_limit() {
    let s = schema();
    let mut limits = ParseLimits::default();
    limits.http.max_body_bytes = 16;
    let e = parse_write(
        &s,
        s.entity("artist").expect("e"),
        "POST",
        "",
        &[],
        br#"{"name":"a very long name"}"#,
        &limits,
    )
    .expect_err("413");
    assert_eq!(e.status, 413);
    assert_eq!(e.code, "payload_too_large");
    let big = vec![b' '; 2 * 1024 * 1024];
    let e = parse_write(
        &s,
        s.entity("artist").expect("e"),
        "POST",
        "",
        &[],
        &big,
        &ParseLimits::default(),
    )
    .expect_err("413");
    assert_eq!(e.status, 413);
}

#[test]
fn patch_needs_a_filter() {
    let e = write("artist", "PATCH", "", r#"{"name":"x"}"#).expect_err("unfiltered");
    assert_eq!(e.status, 400);
    assert!(e.message.contains("refusing to update every row"), "{e:?}");
    let w = write_h(
        "track",
        "PATCH",
        "genre_id=eq.1&or=(composer.is.null,composer.eq.)",
        &[("Prefer", "return=representation")],
        r#"{"composer":"Unknown"}"#,
    )
    .expect("patch");
    match &w.write {
        Write::Update(u) => {
            assert_eq!(u.set, obj(json!({"composer": "Unknown"})));
            assert_eq!(
                u.filter,
                Filter::and(vec![
                    Filter::eq("genre_id", 1i64),
                    Filter::or(vec![
                        Filter::is("composer", baas_core::ir::IsValue::Null),
                        Filter::eq("composer", "")
                    ])
                ])
            );
            assert_eq!(u.returning, Some(vec![]));
        }
        other => panic!("{other:?}"),
    }
    assert!(validate_write(&w.write).is_ok());
}

#[test]
fn delete_needs_a_filter() {
    let e = write("artist", "DELETE", "", "").expect_err("unfiltered");
    assert_eq!(e.status, 400);
    assert!(e.message.contains("refusing to delete every row"));
    let w = write("invoice", "DELETE", "total=lt.1.00&paid=is.false", "").expect("delete");
    match &w.write {
        Write::Delete(d) => {
            assert_eq!(d.returning, None);
            assert_eq!(
                d.filter,
                Filter::and(vec![
                    Filter::cmp("total", baas_core::ir::CompareOp::Lt, "1.00"),
                    Filter::is("paid", baas_core::ir::IsValue::False)
                ])
            );
        }
        other => panic!("{other:?}"),
    }
    assert!(validate_write(&w.write).is_ok());
    // An `!inner` embedding filters the representation, not the write
    // (PostgREST): alone it is no filter.
    let e = write("artist", "DELETE", "select=albums!inner()", "").expect_err("no filter");
    assert_eq!(e.status, 400);
    // `rel=not.is.null` is one.
    let w = write(
        "artist",
        "DELETE",
        "select=*,albums()&albums=not.is.null",
        "",
    )
    .expect("exists");
    assert!(matches!(&w.write, Write::Delete(d) if matches!(d.filter, Filter::Exists { .. })));
}

#[test]
fn by_key_writes() {
    let w = write_key("artist", "PATCH", &["7"], "", &[], r#"{"name":"x"}"#).expect("patch");
    match &w.write {
        Write::Update(u) => assert_eq!(u.filter, Filter::eq("artist_id", 7i64)),
        other => panic!("{other:?}"),
    }
    assert_eq!(w.key, Some(vec!["7".to_string()]));
    let w = write_key("playlist_track", "DELETE", &["1", "2"], "", &[], "").expect("delete");
    match &w.write {
        Write::Delete(d) => assert_eq!(
            d.filter,
            Filter::and(vec![
                Filter::eq("playlist_id", 1i64),
                Filter::eq("track_id", 2i64)
            ])
        ),
        other => panic!("{other:?}"),
    }
    assert_eq!(
        write_key("artist", "POST", &["7"], "", &[], "{}")
            .expect_err("post")
            .status,
        405
    );
    assert_eq!(
        write("artist", "PUT", "", "{}").expect_err("put").status,
        405
    );
    assert_eq!(
        write("artist", "OPTIONS", "", "")
            .expect_err("options")
            .status,
        405
    );
    assert_eq!(
        write_key("playlist_track", "PATCH", &["1"], "", &[], "{}")
            .expect_err("arity")
            .status,
        400
    );
}

#[test]
fn put_upserts_one_row() {
    let w = write_key("artist", "PUT", &["7"], "", &[], r#"{"name":"x"}"#).expect("put");
    let ins = insert(&w.write);
    assert_eq!(ins.rows, vec![obj(json!({"name": "x", "artist_id": 7}))]);
    assert_eq!(
        ins.on_conflict,
        Some(Upsert {
            target: vec!["artist_id".into()],
            action: OnConflict::Merge,
            defaults: vec![],
        })
    );
    // Matching key in the body (number or string form).
    assert!(
        write_key(
            "artist",
            "PUT",
            &["7"],
            "",
            &[],
            r#"{"artist_id":7,"name":"x"}"#
        )
        .is_ok()
    );
    assert!(write_key("artist", "PUT", &["7"], "", &[], r#"{"artist_id":7.0}"#).is_ok());
    assert!(write_key("customer", "PUT", &["7"], "", &[], r#"{"customer_id":7}"#).is_ok());
    // Mismatch.
    let e =
        write_key("artist", "PUT", &["7"], "", &[], r#"{"artist_id":8}"#).expect_err("mismatch");
    assert_eq!((e.status, e.code.as_str()), (400, "PGRST115"));
    assert!(
        e.details
            .as_deref()
            .is_some_and(|d| d.contains("artist_id")),
        "{e:?}"
    );
    // A string key equal to the path parses; validation reads it as a
    // number, as PostgreSQL does, and refuses what is none.
    let w = write_key("artist", "PUT", &["7"], "", &[], r#"{"artist_id":"7"}"#).expect("string");
    assert!(validate_write(&w.write).is_ok());
    let w = write_key("artist", "PUT", &["x"], "", &[], r#"{"artist_id":"x"}"#).expect("text");
    let e = baas_rest::RestError::from(validate_write(&w.write).expect_err("type"));
    assert_eq!(e.violations()[0].pointer, "/rows/0/artist_id");
    // Composite, text keys and unknown-typed values.
    let w = write_key("playlist_track", "PUT", &["1", "2"], "", &[], "{}").expect("composite");
    assert_eq!(
        insert(&w.write).rows,
        vec![obj(json!({"playlist_id": 1, "track_id": 2}))]
    );
    assert_eq!(
        write_key("artist", "PUT", &["7"], "", &[], "[]")
            .expect_err("array")
            .status,
        400
    );
    assert_eq!(
        write_key(
            "artist",
            "PUT",
            &["7"],
            "on_conflict=name",
            &[("Prefer", "resolution=merge-duplicates")],
            "{}"
        )
        .expect_err("on_conflict")
        .status,
        400
    );
    assert_eq!(
        write_key("artist", "PUT", &["7"], "name=eq.x", &[], "{}")
            .expect_err("filter")
            .status,
        400
    );
    assert_eq!(
        write_key("top_tracks", "PUT", &["7"], "", &[], "{}")
            .expect_err("keyless")
            .status,
        400
    );
    // The response of a PUT is not a 201.
    let w = write_key(
        "artist",
        "PUT",
        &["7"],
        "",
        &[("Prefer", "return=representation")],
        "{}",
    )
    .expect("put");
    let r = baas_rest::write_response(
        &w,
        baas_core::ir::WriteResult {
            response: None,
            affected: 1,
            rows: vec![obj(json!({"artist_id": 7, "name": null}))],
        },
    );
    assert_eq!(r.status, 200);
}

#[test]
fn read_params_on_writes() {
    // `order` alone, and any of them on POST, are ignored (PostgREST).
    for (m, qs) in [
        ("DELETE", "artist_id=eq.1&order=name"),
        ("POST", "offset=1&limit=1&order=name"),
    ] {
        let w = write("artist", m, qs, r#"{"name":"x"}"#).expect(qs);
        assert_eq!(w.limited, None, "{m} {qs}");
    }
    // A limited write needs its order (PostgREST's PGRST109).
    let e = write(
        "artist",
        "PATCH",
        "artist_id=eq.1&limit=1",
        r#"{"name":"x"}"#,
    )
    .expect_err("limit without order");
    assert_eq!((e.status, e.code.as_str()), (400, "PGRST109"));
    let w = write(
        "artist",
        "DELETE",
        "artist_id=gt.1&order=name.desc&limit=2&offset=1",
        "",
    )
    .expect("a limited delete");
    let l = w.limited.expect("limited");
    assert_eq!((l.limit, l.offset, l.order.len()), (2, Some(1), 1));
    // An embedding in the representation is parsed (the engine reads it).
    let w = write(
        "artist",
        "PATCH",
        "select=name,albums(title)&artist_id=eq.1",
        r#"{"name":"x"}"#,
    )
    .expect("an embedding in a write's select");
    assert_eq!(w.representation, None, "without return=representation");
    let w = write_h(
        "artist",
        "PATCH",
        "select=name,albums(title)&artist_id=eq.1",
        &[("Prefer", "return=representation")],
        r#"{"name":"x"}"#,
    )
    .expect("an embedding in a write's representation");
    let rep = w.representation.expect("the representation's selection");
    assert_eq!(
        (rep.fields, rep.embeds.len(), &rep.embeds[0].relation),
        (vec!["name".to_string()], 1, &"albums".to_string())
    );
    assert_eq!(
        write("artist", "POST", "name=eq.x", "{}")
            .expect_err("filter")
            .status,
        400
    );
    assert_eq!(
        write("artist", "PATCH", "artist_id=eq.1&after=[1]", "{}")
            .expect_err("after")
            .status,
        400
    );
    assert_eq!(
        write("artist", "DELETE", "artist_id=eq.1&columns=name", "")
            .expect_err("columns")
            .status,
        400
    );
    assert_eq!(
        write("artist", "PATCH", "artist_id=eq.1&on_conflict=name", "{}")
            .expect_err("oc")
            .status,
        400
    );
}

#[test]
fn writes_to_read_only_entities_are_forbidden_by_validation() {
    let w = write("top_tracks", "POST", "", r#"{"track_id":1,"plays":2}"#).expect("parses");
    let e = baas_rest::RestError::from(validate_write(&w.write).expect_err("read-only"));
    assert_eq!(e.status, 403);
}

#[test]
fn row_violations_keep_their_pointers() {
    let w = write("invoice", "POST", "", r#"[{"customer_id":1,"invoice_date":"2021-01-01T00:00:00Z","total":"1.00"},{"customer_id":"x","total":"abc"}]"#)
        .expect("parses");
    let e = baas_rest::RestError::from(validate_write(&w.write).expect_err("invalid"));
    assert_eq!(e.status, 422);
    let pointers: Vec<&str> = e.violations().iter().map(|v| v.pointer.as_str()).collect();
    assert!(pointers.contains(&"/rows/1/customer_id"), "{pointers:?}");
    assert!(pointers.contains(&"/rows/1/total"), "{pointers:?}");
    assert!(pointers.contains(&"/rows/1"), "{pointers:?}");
    let body = e.body();
    assert_eq!(body["code"], "validation");
    assert!(
        body["details"]
            .as_str()
            .is_some_and(|d| d.contains("/rows/1/total"))
    );
    assert!(
        body["violations"]
            .as_array()
            .is_some_and(|v| v.len() == e.violations().len())
    );
}

/// A body must declare JSON: no `Content-Type`, or a type a browser form can
/// send cross-origin without a preflight, is a 415 on POST, PATCH and PUT.
#[test]
fn bodies_need_a_json_content_type() {
    let s = schema();
    let e = s.entity("artist").expect("entity");
    let limits = ParseLimits::default();
    let key = vec!["1".to_string()];
    let run = |method: &str, h: &[(&str, &str)]| {
        let h: Vec<(String, String)> = h
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let body = br#"{"name":"x"}"#;
        let r = match method {
            "PUT" => baas_rest::parse_write_by_key(&s, e, "PUT", &key, "", &h, body, &limits),
            "PATCH" => parse_write(&s, e, "PATCH", "artist_id=eq.1", &h, body, &limits),
            _ => parse_write(&s, e, method, "", &h, body, &limits),
        };
        r.map(|_| ()).map_err(|e| (e.status, e.code))
    };
    for method in ["POST", "PATCH", "PUT"] {
        for ct in [
            None,
            Some("text/plain"),
            Some("text/plain; charset=utf-8"),
            Some("application/x-www-form-urlencoded"),
            Some("multipart/form-data; boundary=x"),
            Some(""),
            Some("json"),
            Some("application/json; charset=latin1"),
        ] {
            let h: Vec<(&str, &str)> = ct.map(|c| ("Content-Type", c)).into_iter().collect();
            assert_eq!(
                run(method, &h),
                Err((415, "unsupported_media_type".to_string())),
                "{method} {ct:?}"
            );
        }
        for ct in [
            "application/json",
            "Application/JSON; charset=UTF-8",
            "application/vnd.pgrst.object+json",
            "application/json;charset=\"utf-8\"",
        ] {
            assert_eq!(
                run(method, &[("content-type", ct)]),
                Ok(()),
                "{method} {ct}"
            );
        }
    }
    // No body and no type: the empty-body 400, not a 415.
    let e = parse_write(&s, e, "POST", "", &[], b"", &limits).expect_err("empty");
    assert_eq!(e.status, 400);
}

/// A write's `select` applies a cast after the write: one that could
/// refuse a value of the field's type is a 501 before anything is written;
/// one the type always takes applies.
#[test]
fn write_casts_must_not_refuse_after_the_write() {
    let body = r#"{"name": "x", "album_id": 1, "milliseconds": 1, "unit_price": 1}"#;
    let rep = [("Prefer", "return=representation")];
    let w =
        |entity: &str, method: &str, qs: &str, body: &str| write_h(entity, method, qs, &rep, body);
    // Casts the value always takes: applied to the answer as on a read.
    for qs in [
        "select=m:milliseconds::int8,b:milliseconds::bool,n:milliseconds::numeric,name::text",
        "select=p:unit_price::numeric,f:unit_price::float8,meta->a::text",
    ] {
        assert!(!w("track", "POST", qs, body).expect(qs).check, "{qs}");
    }
    // Casts that could refuse a value: checked inside the write's
    // transaction (the service), where a refusal writes nothing.
    for qs in [
        "select=milliseconds::int2",
        "select=unit_price::int",
        "select=name::int",
        "select=meta->a::int",
        "select=name::uuid",
    ] {
        assert!(w("track", "POST", qs, body).expect(qs).check, "{qs}");
        // Without a representation the shapes never apply.
        assert!(!write("track", "POST", qs, body).expect(qs).check, "{qs}");
    }
    // Inside an embedding, a cast that could refuse a value, and the
    // database's own (also grouping aggregates): checked in the
    // transaction too.
    for qs in [
        "album_id=eq.1&select=album_id,tracks(name::xml,count())",
        "album_id=eq.1&select=album_id,tracks(name::int)",
        "album_id=eq.1&select=album_id,tracks(n:name::xml)",
    ] {
        assert!(
            w("album", "PATCH", qs, r#"{"title": "x"}"#)
                .expect(qs)
                .check,
            "{qs}"
        );
    }
    // The database's casts of the written rows themselves: read again by
    // key in the transaction (the representation carries them).
    let qs = "track_id=eq.1&select=name::xml";
    let got = w("track", "PATCH", qs, r#"{"name": "x"}"#).expect(qs);
    assert!(got.check, "{qs}");
    assert_eq!(got.representation.expect("a representation").casts.len(), 1);
}

/// PostgREST's bulk insert from CSV: a header of columns, rows of strings
/// (the field's type converts them), `NULL` null, an empty field the
/// empty string; RFC 4180 quotes, LF or CRLF.
#[test]
fn csv_bodies_insert_rows() {
    let csv = [("Content-Type", "text/csv; charset=utf-8")];
    let w = write_h(
        "track",
        "POST",
        "",
        &csv,
        "name,composer,milliseconds\r\n\"Say \"\"hi\"\", \nthen go\",NULL,300\r\nQuiet,,1",
    )
    .expect("csv");
    assert_eq!(
        insert(&w.write).rows,
        vec![
            obj(json!({"name": "Say \"hi\", \nthen go", "composer": null, "milliseconds": "300"})),
            obj(json!({"name": "Quiet", "composer": "", "milliseconds": "1"})),
        ]
    );
    // A header alone inserts no row; a trailing line break ends the last row.
    let w = write_h("artist", "POST", "", &csv, "name\n").expect("header only");
    assert!(insert(&w.write).rows.is_empty());
    let w = write_h("artist", "POST", "", &csv, "name\nA\n").expect("one row");
    assert_eq!(insert(&w.write).rows, vec![obj(json!({"name": "A"}))]);
    // Malformed CSV: PGRST102, saying where.
    for (body, says) in [
        ("name,name\nA,B", "named twice"),
        ("name,\nA,B", "empty"),
        ("name\nA,B", "line 2 has 2 fields, the header 1"),
        ("name\n\"A", "no closing quote"),
        ("name\n\"A\"x", "text after a quoted CSV field at line 2"),
        (
            "name\nA\"B",
            "a quote inside an unquoted CSV field at line 2",
        ),
        ("name\nA\rB", "carriage return"),
    ] {
        let e = write_h("artist", "POST", "", &csv, body).expect_err(body);
        assert_eq!((e.status, e.code.as_str()), (400, "PGRST102"), "{body}");
        assert!(e.message.contains(says), "{body}: {}", e.message);
    }
    let s = schema();
    let e = s.entity("artist").expect("entity");
    let h = vec![("Content-Type".to_string(), "text/csv".to_string())];
    let bad = parse_write(
        &s,
        e,
        "POST",
        "",
        &h,
        b"name\n\xff",
        &ParseLimits::default(),
    )
    .expect_err("not UTF-8");
    assert_eq!((bad.status, bad.code.as_str()), (400, "PGRST102"));
    // A header naming no field is PostgREST's PGRST204, before any row is
    // built.
    let e = write_h("artist", "POST", "", &csv, "nope\nx").expect_err("unknown");
    assert_eq!((e.status, e.code.as_str()), (400, "PGRST204"));
    // A byte order mark and blank lines are no part of the rows; an empty
    // value alone on its line is quoted.
    let w = write_h("artist", "POST", "", &csv, "\u{feff}name\n\nA\n\"\"\n\n").expect("bom");
    assert_eq!(
        insert(&w.write).rows,
        vec![obj(json!({"name": "A"})), obj(json!({"name": ""}))]
    );
    // CSV inserts: PATCH and PUT take JSON.
    let e = write_h("artist", "PATCH", "artist_id=eq.1", &csv, "name\nB").expect_err("patch");
    assert_eq!(e.status, 415);
}
