//! Responses and error mapping, end to end through `parse_request`.

use baas_core::ir::{Rows, WriteResult};
use baas_core::{ConflictKind, Error, NotFoundKind, Violation};
use baas_rest::{
    Operation, ReadRequest, RestError, RestRequest, RestResponse, WriteRequest, parse_request,
    read_response, route, write_response,
};
use serde_json::{Map, Value as J, json};

use crate::common::schema;

fn rows(n: usize) -> Vec<Map<String, J>> {
    (0..n)
        .map(
            |i| match json!({"artist_id": i + 1, "name": format!("a{i}")}) {
                J::Object(o) => o,
                _ => Map::new(),
            },
        )
        .collect()
}

fn op(req: &RestRequest) -> Result<Operation, RestError> {
    let s = schema();
    let r = route(&req.path, &req.headers)?;
    parse_request(&s, &r, req, &baas_rest::ParseLimits::default())
}

fn read_req(req: &RestRequest) -> ReadRequest {
    match op(req) {
        Ok(Operation::Read(r)) => r,
        other => panic!("{other:?}"),
    }
}

fn write_req(req: &RestRequest) -> WriteRequest {
    match op(req) {
        Ok(Operation::Write(w)) => w,
        other => panic!("{other:?}"),
    }
}

fn read(req: &RestRequest, n: usize, total: Option<u64>) -> RestResponse {
    read_response(
        &read_req(req),
        Rows {
            rows: rows(n),
            total,
            response: None,
        },
    )
}

#[test]
fn list_response() {
    let r = read(&RestRequest::new("GET", "/t/artist", "limit=25"), 25, None);
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-range"), Some("0-24/*"));
    assert_eq!(
        r.header("Content-Type"),
        Some("application/json; charset=utf-8")
    );
    assert_eq!(r.json().as_array().map(Vec::len), Some(25));
}

#[test]
fn partial_content_when_counted() {
    let req =
        RestRequest::new("GET", "/t/artist", "limit=25&offset=25").header("Prefer", "count=exact");
    let r = read(&req, 25, Some(3573));
    assert_eq!(r.status, 206);
    assert_eq!(r.header("content-range"), Some("25-49/3573"));
    assert_eq!(r.header("preference-applied"), Some("count=exact"));
    // Everything returned: 200.
    let r = read(
        &RestRequest::new("GET", "/t/artist", "").header("Prefer", "count=exact"),
        3,
        Some(3),
    );
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-range"), Some("0-2/3"));
    // Empty.
    let r = read(
        &RestRequest::new("GET", "/t/artist", "").header("Prefer", "count=exact"),
        0,
        Some(0),
    );
    assert_eq!((r.status, r.header("content-range")), (200, Some("*/0")));
    let r = read(&RestRequest::new("GET", "/t/artist", ""), 0, None);
    assert_eq!(r.header("content-range"), Some("*/*"));
    assert_eq!(r.json(), json!([]));
    // Offset past the total: 416.
    let r = read(
        &RestRequest::new("GET", "/t/artist", "offset=10").header("Prefer", "count=exact"),
        0,
        Some(3),
    );
    assert_eq!(r.status, 416);
    assert_eq!(r.header("content-range"), Some("*/3"));
    assert_eq!(r.json()["code"], "PGRST103");
    assert_eq!(
        r.json()["details"],
        "An offset of 10 was requested, but there are only 3 rows."
    );
}

#[test]
fn range_header_end_to_end() {
    let req = RestRequest::new("GET", "/t/artist", "")
        .header("Range-Unit", "items")
        .header("Range", "0-24")
        .header("Prefer", "count=exact");
    let rr = read_req(&req);
    assert_eq!(rr.query.page.limit, Some(25));
    let r = read_response(
        &rr,
        Rows {
            rows: rows(25),
            total: Some(100),
            response: None,
        },
    );
    assert_eq!(
        (r.status, r.header("content-range")),
        (206, Some("0-24/100"))
    );
}

#[test]
fn singular_responses() {
    let obj = RestRequest::new("GET", "/t/artist", "artist_id=eq.1")
        .header("Accept", "application/vnd.pgrst.object+json");
    let r = read(&obj, 1, None);
    assert_eq!(r.status, 200);
    assert_eq!(r.json(), json!({"artist_id": 1, "name": "a0"}));
    assert_eq!(
        r.header("content-type"),
        Some("application/vnd.pgrst.object+json; charset=utf-8")
    );
    for n in [0, 2] {
        let r = read(&obj, n, None);
        assert_eq!(r.status, 406, "{n}");
        // PostgREST's code and wording (postgrest-js `maybeSingle` looks
        // for "0 rows" in `details`).
        assert_eq!(r.json()["code"], "PGRST116");
        assert_eq!(
            r.json()["message"],
            "JSON object requested, multiple (or no) rows returned"
        );
        assert_eq!(r.json()["details"], format!("The result contains {n} rows"));
    }
    // By key: 0 rows is a 404.
    let by_key = RestRequest::new("GET", "/t/artist/1", "");
    assert_eq!(read(&by_key, 1, None).json()["name"], "a0");
    let r = read(&by_key, 0, None);
    assert_eq!(r.status, 404);
    assert_eq!(r.json()["code"], "not_found");
}

#[test]
fn head_has_no_body() {
    let rr = read_req(&RestRequest::new("HEAD", "/t/artist", ""));
    assert!(rr.head);
    let r = read_response(
        &rr,
        Rows {
            rows: rows(2),
            total: None,
            response: None,
        },
    );
    assert_eq!(r.status, 200);
    assert!(r.body.is_empty());
    assert_eq!(r.header("content-range"), Some("0-1/*"));
}

#[test]
fn insert_responses() {
    let req = RestRequest::new("POST", "/t/artist", "")
        .header("content-type", "application/json")
        .body(r#"{"name":"x"}"#);
    let w = write_req(&req);
    let r = write_response(
        &w,
        WriteResult {
            response: None,
            affected: 1,
            rows: vec![],
        },
    );
    assert_eq!(r.status, 201);
    assert!(r.body.is_empty());
    let req = req.header("Prefer", "return=representation");
    let w = write_req(&req);
    let r = write_response(
        &w,
        WriteResult {
            response: None,
            affected: 1,
            rows: rows(1),
        },
    );
    assert_eq!(r.status, 201);
    assert_eq!(r.json(), json!([{"artist_id": 1, "name": "a0"}]));
    assert_eq!(
        r.header("preference-applied"),
        Some("return=representation")
    );
    // PostgREST: an insert's range is always `*` (`*/total` with a count).
    assert_eq!(r.header("content-range"), Some("*/*"));
    // headers-only: Location with the percent-encoded key.
    let req = RestRequest::new("POST", "/t/customer", "")
        .header("Prefer", "return=headers-only")
        .header("content-type", "application/json")
        .body("{}");
    let w = write_req(&req);
    let row = match json!({"customer_id": 5}) {
        J::Object(o) => o,
        _ => Map::new(),
    };
    let r = write_response(
        &w,
        WriteResult {
            response: None,
            affected: 1,
            rows: vec![row],
        },
    );
    assert_eq!(r.status, 201);
    assert_eq!(r.header("location"), Some("/customer/5"));
    assert!(r.body.is_empty());
    let w = write_req(
        &RestRequest::new("POST", "/t/playlist_track", "")
            .header("Prefer", "return=headers-only")
            .header("content-type", "application/json")
            .body("{}"),
    );
    let mut row = Map::new();
    row.insert("playlist_id".into(), json!("a b,c"));
    row.insert("track_id".into(), json!(2));
    let r = write_response(
        &w,
        WriteResult {
            response: None,
            affected: 1,
            rows: vec![row],
        },
    );
    assert_eq!(r.header("location"), Some("/playlist_track/a%20b%2Cc,2"));
}

#[test]
fn update_and_delete_responses() {
    let w = write_req(
        &RestRequest::new("PATCH", "/t/artist", "artist_id=lt.3")
            .header("content-type", "application/json")
            .body(r#"{"name":"x"}"#),
    );
    let r = write_response(
        &w,
        WriteResult {
            response: None,
            affected: 2,
            rows: vec![],
        },
    );
    assert_eq!(r.status, 204);
    let w = write_req(
        &RestRequest::new("DELETE", "/t/artist/1", "")
            .header("Prefer", "return=representation,count=exact"),
    );
    let r = write_response(
        &w,
        WriteResult {
            response: None,
            affected: 1,
            rows: rows(1),
        },
    );
    assert_eq!(r.status, 200);
    // PostgREST: a delete's range is `*/total`.
    assert_eq!(r.header("content-range"), Some("*/1"));
    assert_eq!(r.json().as_array().map(Vec::len), Some(1));
    // Singular writes must touch exactly one row.
    let w = write_req(
        &RestRequest::new("PATCH", "/t/artist", "name=eq.x")
            .header("Accept", "application/vnd.pgrst.object+json")
            .header("Prefer", "return=representation")
            .header("content-type", "application/json")
            .body("{\"name\":\"y\"}"),
    );
    assert!(w.singular);
    assert_eq!(
        write_response(
            &w,
            WriteResult {
                response: None,
                affected: 3,
                rows: rows(3)
            }
        )
        .status,
        406
    );
    let r = write_response(
        &w,
        WriteResult {
            response: None,
            affected: 1,
            rows: rows(1),
        },
    );
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["artist_id"], 1);
}

#[test]
fn parse_request_dispatch_and_errors() {
    let e = op(&RestRequest::new("GET", "/t/nope", "")).expect_err("unknown entity");
    assert_eq!(e.status, 404);
    assert_eq!(e.body()["message"], "entity `nope` not found");
    let e = op(&RestRequest::new("GET", "/t/discovery", "")).expect_err("not an entity");
    assert_eq!(e.status, 404);
    let e = op(&RestRequest::new("TRACE", "/t/artist", "")).expect_err("method");
    assert_eq!(e.status, 405);
    assert_eq!(e.code, "method_not_allowed");
    let e = op(&RestRequest::new("GET", "/other/artist", "").header("x-tenant-id", "t"))
        .expect_err("artist is not an entity of the header's tenant... path read as entity/id");
    assert_eq!(e.status, 404);
}

#[test]
fn core_errors_map_to_statuses() {
    let cases: Vec<(Error, u16, &str)> = vec![
        (
            Error::NotFound {
                kind: NotFoundKind::Record,
                name: "artist/9".into(),
            },
            404,
            "not_found",
        ),
        (
            Error::Validation {
                violations: vec![Violation::new("/rows/0/name", "`name` cannot be null")],
            },
            422,
            "validation",
        ),
        (
            Error::Conflict {
                kind: ConflictKind::Unique,
                message: "duplicate key".into(),
                constraint: Some("artist_pkey".into()),
            },
            409,
            "23505",
        ),
        (
            Error::Conflict {
                kind: ConflictKind::ForeignKey,
                message: "no such artist".into(),
                constraint: None,
            },
            409,
            "23503",
        ),
        (
            Error::Conflict {
                kind: ConflictKind::Other,
                message: "stale metadata".into(),
                constraint: None,
            },
            409,
            "conflict",
        ),
        (
            Error::Validation {
                violations: vec![Violation::not_null("/rows/0/name", "artist", "name")],
            },
            400,
            "23502",
        ),
        (
            Error::Validation {
                violations: vec![
                    Violation::unknown_field("/select/fields/0", "artist", "nme"),
                    Violation::unknown_field("/filter/field", "artist", "x"),
                ],
            },
            400,
            "42703",
        ),
        (
            // Violations of several kinds stay our 422.
            Error::Validation {
                violations: vec![
                    Violation::unknown_field("/select/fields/0", "artist", "nme"),
                    Violation::new("/filter/value", "not an integer"),
                ],
            },
            422,
            "validation",
        ),
        (Error::Forbidden("read-only".into()), 403, "forbidden"),
        (
            Error::unsupported("sqlite", "full-text search"),
            501,
            "unsupported",
        ),
        (
            Error::Unavailable {
                message: "connection refused to 10.0.0.5:5432".into(),
                source: None,
            },
            503,
            "unavailable",
        ),
        (
            Error::Backend {
                message: "syntax error near SELECT".into(),
                source: None,
            },
            500,
            "internal",
        ),
    ];
    for (e, status, code) in cases {
        let shown = e.to_string();
        let r = RestError::from(e);
        assert_eq!((r.status, r.code.as_str()), (status, code), "{shown}");
        let resp = r.to_response();
        assert_eq!(resp.status, status);
        let body = resp.json();
        for k in ["code", "message", "details", "hint"] {
            assert!(body.get(k).is_some(), "{k} missing in {body}");
        }
        if status >= 500 && status != 501 {
            let text = body.to_string();
            assert!(
                !text.contains("10.0.0.5") && !text.contains("SELECT"),
                "{text}"
            );
        }
    }
    let r = RestError::from(Error::validation("/rows/0/name", "`name` cannot be null"));
    assert_eq!(
        r.body(),
        json!({
            "code": "validation",
            "message": "the request failed validation",
            "details": "/rows/0/name: `name` cannot be null",
            "hint": null,
            "violations": [{"pointer": "/rows/0/name", "message": "`name` cannot be null"}]
        })
    );
    let r = RestError::from(Error::Conflict {
        kind: ConflictKind::Unique,
        message: "duplicate key".into(),
        constraint: Some("artist_pkey".into()),
    });
    assert_eq!(
        r.body(),
        json!({
            "code": "23505",
            "message": "duplicate key value violates unique constraint",
            "details": "duplicate key (constraint `artist_pkey`)",
            "hint": null
        })
    );
    let r = RestError::from(Error::Validation {
        violations: vec![Violation::not_null("/rows/0/name", "artist", "name")],
    });
    assert_eq!(
        r.body(),
        json!({
            "code": "23502",
            "message": "null value in column \"name\" of relation \"artist\" violates not-null constraint",
            "details": "/rows/0/name: null value in column \"name\" of relation \"artist\" violates not-null constraint",
            "hint": null,
            "violations": [{
                "pointer": "/rows/0/name",
                "message": "null value in column \"name\" of relation \"artist\" violates not-null constraint",
                "code": "23502"
            }]
        })
    );
    let r = RestError::from(Error::NotFound {
        kind: NotFoundKind::Field,
        name: "artist.nme".into(),
    });
    assert!(r.hint.is_some());
}

#[test]
fn grammar_errors_render_as_json() {
    let e = op(&RestRequest::new("GET", "/t/artist", "name=zz.1")).expect_err("grammar");
    let resp = e.to_response();
    assert_eq!(resp.status, 400);
    assert_eq!(
        resp.header("content-type"),
        Some("application/json; charset=utf-8")
    );
    let body = resp.json();
    assert_eq!(body["code"], "PGRST100");
    assert!(body["message"].as_str().is_some_and(|m| m.contains("zz")));
    assert!(body.get("violations").is_none());
}

#[test]
fn preference_applied_on_reads_and_head_by_key() {
    let rr = read_req(
        &RestRequest::new("HEAD", "/t/artist/1", "").header("Prefer", "count=planned, foo=bar"),
    );
    assert!(rr.head && rr.by_key && rr.singular);
    let r = read_response(
        &rr,
        Rows {
            rows: rows(1),
            total: Some(1),
            response: None,
        },
    );
    assert_eq!(r.status, 200);
    assert!(r.body.is_empty());
    assert_eq!(r.header("preference-applied"), Some("count=planned"));
}

#[test]
fn singular_write_with_no_row_is_406() {
    let w = write_req(
        &RestRequest::new("DELETE", "/t/artist/9", "")
            .header("Accept", "application/vnd.pgrst.object+json"),
    );
    let r = write_response(
        &w,
        WriteResult {
            response: None,
            affected: 0,
            rows: vec![],
        },
    );
    assert_eq!(r.status, 406);
    assert_eq!(r.json()["code"], "PGRST116");
    assert_eq!(r.json()["details"], "The result contains 0 rows");
}

#[test]
fn tenant_header_end_to_end() {
    let req = RestRequest::new("GET", "/artist/3", "select=name").header("X-Tenant-ID", "acme");
    let r = route(&req.path, &req.headers).expect("route");
    assert_eq!(r.tenant(), Some("acme"));
    let rr = read_req(&req);
    assert_eq!(
        rr.query.filter,
        Some(baas_core::ir::Filter::eq("artist_id", 3i64))
    );
    let e = op(&RestRequest::new("GET", "/other/artist/3", "").header("x-tenant-id", "acme"))
        .expect_err("conflict");
    assert_eq!(e.status, 400);
}
