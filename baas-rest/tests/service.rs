//! The service over a real database (SQLite, managed): `Idempotency-Key`,
//! `Prefer: tx=rollback`, 415 / 416, `Allow` on 405, foreign keys of managed
//! entities, and one 404 for missing tenants and entities.

use std::sync::Arc;
use std::time::Duration;

use baas_core::{Entity, Field, FieldType, Generated, Relation};
use baas_engine::{Baas, MemoryStore, Principal, TenantConfig, TenantMode};
use baas_rest::idempotency::{IdempotencyConfig, MemoryIdempotencyStore};
use baas_rest::{RestRequest, RestResponse, Service};
use serde_json::{Value as J, json};

const ADMIN: &str = "service-test-admin-key-0123";

mod support;

use support::{Lite, fresh_sqlite};

/// A managed SQLite tenant `t` with `author` and `book` (book → author).
async fn baas(tag: &str) -> Arc<Baas> {
    let url = fresh_sqlite(&format!("service-{tag}"));
    let baas = Arc::new(Baas::builder(Arc::new(MemoryStore::new()), Arc::new(Lite)).build());
    baas.register_tenant(TenantConfig::new("t", url, TenantMode::Managed), None)
        .await
        .expect("tenant");
    let id = || Field::new("id", FieldType::Int64).generated(Generated::AutoIncrement);
    baas.create_entity(
        "t",
        Entity::new("author", vec![id(), Field::new("name", FieldType::Text)])
            .with_primary_key(["id"]),
    )
    .await
    .expect("author");
    baas.create_entity(
        "t",
        Entity::new(
            "book",
            vec![
                id(),
                Field::new("title", FieldType::Text),
                Field::new("author_id", FieldType::Int64),
            ],
        )
        .with_primary_key(["id"])
        .with_relation(Relation::many_to_one(
            "author",
            "author",
            &["author_id"],
            &["id"],
        )),
    )
    .await
    .expect("book");
    baas
}

async fn service(tag: &str) -> Service {
    Service::new(baas(tag).await)
        .with_admin_key(ADMIN)
        .expect("admin key")
}

fn post(path: &str, body: &str) -> RestRequest {
    RestRequest::new("POST", path, "")
        .header("Content-Type", "application/json")
        .header("Prefer", "return=representation")
        .body(body)
}

async fn count(s: &Service, entity: &str, query: &str) -> usize {
    let r = s
        .handle(RestRequest::new("GET", format!("/t/{entity}"), query))
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    r.json().as_array().map_or(0, Vec::len)
}

fn without_replay(r: &RestResponse) -> RestResponse {
    let mut r = r.clone();
    r.headers.retain(|(k, _)| k != "idempotent-replayed");
    r
}

#[tokio::test]
async fn a_retry_with_the_same_key_returns_the_first_answer() {
    let s = service("retry").await;
    let req = post("/t/author", r#"{"name":"Le Guin"}"#).header("Idempotency-Key", "k-1");
    let first = s.handle(req.clone()).await;
    assert_eq!(first.status, 201, "{:?}", first.json());
    assert_eq!(first.header("idempotent-replayed"), None);
    for _ in 0..3 {
        let again = s.handle(req.clone()).await;
        assert_eq!(again.header("idempotent-replayed"), Some("true"));
        assert_eq!(without_replay(&again), first, "status, headers and body");
    }
    assert_eq!(count(&s, "author", "name=eq.Le Guin").await, 1);

    // Without a key, a retry writes again.
    let plain = post("/t/author", r#"{"name":"Lem"}"#);
    s.handle(plain.clone()).await;
    s.handle(plain).await;
    assert_eq!(count(&s, "author", "name=eq.Lem").await, 2);

    // Another caller's key of the same name is another key.
    let alice = Principal::new("alice", Vec::new());
    let theirs = s.handle_as(req.clone(), &alice).await;
    assert_eq!(theirs.status, 201);
    assert_eq!(theirs.header("idempotent-replayed"), None);
    assert_eq!(count(&s, "author", "name=eq.Le Guin").await, 2);

    // PATCH and DELETE too; a 4xx answer is stored, and replayed.
    let patch = RestRequest::new("PATCH", "/t/author", "name=eq.Lem")
        .header("Content-Type", "application/json")
        .header("Idempotency-Key", "k-2")
        .body(r#"{"name": [5]}"#);
    let bad = s.handle(patch.clone()).await;
    assert_eq!(bad.status, 422);
    let again = s.handle(patch).await;
    assert_eq!(again.header("idempotent-replayed"), Some("true"));
    assert_eq!(without_replay(&again), bad);
    let del = RestRequest::new("DELETE", "/t/author", "name=eq.Lem")
        .header("Prefer", "return=representation")
        .header("Idempotency-Key", "k-3");
    let gone = s.handle(del.clone()).await;
    assert_eq!(gone.json().as_array().map(Vec::len), Some(2));
    assert_eq!(without_replay(&s.handle(del).await), gone);
}

#[tokio::test]
async fn the_same_key_for_another_request_is_a_422() {
    let s = service("mismatch").await;
    let key = ("Idempotency-Key", "k-1");
    let first = s
        .handle(post("/t/author", r#"{"name":"A"}"#).header(key.0, key.1))
        .await;
    assert_eq!(first.status, 201);
    for other in [
        post("/t/author", r#"{"name":"B"}"#),
        post("/t/author", r#"{"name":"A"}"#).header("Prefer", "tx=rollback"),
        post("/t/book", r#"{"name":"A"}"#),
        RestRequest::new("DELETE", "/t/author", "name=eq.A"),
    ] {
        let r = s.handle(other.header(key.0, key.1)).await;
        assert_eq!(r.status, 422, "{:?}", r.json());
        assert_eq!(r.json()["code"], "idempotency_key_reused");
    }
    assert_eq!(count(&s, "author", "").await, 1);
    // Keys longer than 255 bytes, empty, or not visible ASCII: 400.
    for bad in ["k".repeat(256), String::new(), "a key".into()] {
        let r = s
            .handle(post("/t/author", r#"{"name":"C"}"#).header("Idempotency-Key", bad))
            .await;
        assert_eq!(r.status, 400, "{:?}", r.json());
    }
    let ok = s
        .handle(post("/t/author", r#"{"name":"C"}"#).header("Idempotency-Key", "k".repeat(255)))
        .await;
    assert_eq!(ok.status, 201);
    assert_eq!(count(&s, "author", "").await, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_duplicates_write_once() {
    let s = service("concurrent").await;
    let req = post("/t/author", r#"{"name":"Once"}"#).header("Idempotency-Key", "k-c");
    let tasks: Vec<_> = (0..16)
        .map(|_| {
            let (s, req) = (s.clone(), req.clone());
            tokio::spawn(async move { s.handle(req).await })
        })
        .collect();
    let mut answers = Vec::new();
    for t in tasks {
        answers.push(t.await.expect("task"));
    }
    let created: Vec<&RestResponse> = answers.iter().filter(|r| r.status == 201).collect();
    assert!(!created.is_empty());
    let first = without_replay(created[0]);
    for r in &answers {
        match r.status {
            201 => assert_eq!(without_replay(r), first),
            409 => assert_eq!(r.json()["code"], "idempotency_key_in_use"),
            other => panic!("{other}: {:?}", r.json()),
        }
    }
    assert_eq!(
        answers
            .iter()
            .filter(|r| r.status == 201 && r.header("idempotent-replayed").is_none())
            .count(),
        1,
        "one of them ran"
    );
    assert_eq!(count(&s, "author", "name=eq.Once").await, 1);
}

#[tokio::test]
async fn keys_expire() {
    let s = Service::new(baas("expiry").await).with_idempotency(Arc::new(
        MemoryIdempotencyStore::new(IdempotencyConfig {
            ttl: Duration::from_millis(200),
            ..IdempotencyConfig::default()
        }),
    ));
    let req = post("/t/author", r#"{"name":"Twice"}"#).header("Idempotency-Key", "k-e");
    assert_eq!(s.handle(req.clone()).await.status, 201);
    let replay = s.handle(req.clone()).await;
    assert_eq!(replay.header("idempotent-replayed"), Some("true"));
    tokio::time::sleep(Duration::from_millis(400)).await;
    let after = s.handle(req).await;
    assert_eq!(after.status, 201);
    assert_eq!(after.header("idempotent-replayed"), None);
    assert_eq!(count(&s, "author", "name=eq.Twice").await, 2);
}

#[tokio::test]
async fn tx_rollback_answers_and_keeps_nothing() {
    let s = service("rollback").await;
    let r = s
        .handle(
            post("/t/author", r#"[{"name":"Ghost"},{"name":"Spirit"}]"#)
                .header("Prefer", "tx=rollback"),
        )
        .await;
    assert_eq!(r.status, 201, "{:?}", r.json());
    assert_eq!(r.json()[1]["name"], "Spirit");
    assert!(
        r.header("preference-applied")
            .is_some_and(|p| p.contains("tx=rollback")),
        "{:?}",
        r.headers
    );
    assert_eq!(count(&s, "author", "").await, 0);
    // Commit, then roll back an update and a delete.
    assert_eq!(
        s.handle(post("/t/author", r#"{"name":"Real"}"#))
            .await
            .status,
        201
    );
    let patch = s
        .handle(
            RestRequest::new("PATCH", "/t/author", "name=eq.Real")
                .header("Content-Type", "application/json")
                .header("Prefer", "return=representation, tx=rollback")
                .body(r#"{"name":"Changed"}"#),
        )
        .await;
    assert_eq!(patch.json(), json!([{"id": 1, "name": "Changed"}]));
    let del = s
        .handle(
            RestRequest::new("DELETE", "/t/author/1", "")
                .header("Prefer", "return=representation,tx=rollback"),
        )
        .await;
    assert_eq!(del.status, 200);
    assert_eq!(count(&s, "author", "name=eq.Real").await, 1);
    // `tx=commit` (the default) commits.
    let r = s
        .handle(post("/t/author", r#"{"name":"Kept"}"#).header("Prefer", "tx=commit"))
        .await;
    assert_eq!(r.status, 201);
    assert_eq!(count(&s, "author", "name=eq.Kept").await, 1);
}

#[tokio::test]
async fn a_missing_reference_is_a_409() {
    let s = service("fk").await;
    let r = s
        .handle(post("/t/book", r#"{"title":"Orphan","author_id":999}"#))
        .await;
    assert_eq!(r.status, 409, "{:?}", r.json());
    assert_eq!(r.json()["code"], "23503");
    assert_eq!(count(&s, "book", "").await, 0);
    assert_eq!(
        s.handle(post("/t/author", r#"{"name":"A"}"#)).await.status,
        201
    );
    let r = s
        .handle(post("/t/book", r#"{"title":"Child","author_id":1}"#))
        .await;
    assert_eq!(r.status, 201);
    // The referenced row cannot go while it is referenced.
    let r = s
        .handle(RestRequest::new("DELETE", "/t/author/1", ""))
        .await;
    assert_eq!(r.status, 409, "{:?}", r.json());
    assert_eq!(r.json()["code"], "23503");
}

#[tokio::test]
async fn missing_tenants_and_entities_look_the_same() {
    let s = service("notfound").await;
    // Each group answers one body and headers, the tenant missing or not:
    // PostgREST's `PGRST205` naming the route's table, `PGRST202` its
    // function, `not_found` for other routes.
    let groups: [(&[(&str, &str)], J); 3] = [
        (
            &[
                ("GET", "/nobody/nothing"),
                ("GET", "/t/nothing"),
                ("GET", "/nobody/nothing/1"),
                ("GET", "/t/nothing/1"),
                ("POST", "/nobody/nothing"),
                ("DELETE", "/t/nothing"),
            ],
            json!({"code": "PGRST205", "message": "Could not find the table 'nothing' in the schema cache", "details": null, "hint": null}),
        ),
        (
            &[("POST", "/nobody/rpc/nothing"), ("POST", "/t/rpc/nothing")],
            json!({"code": "PGRST202", "message": "Could not find the function nothing in the schema cache", "details": null, "hint": null}),
        ),
        (
            &[
                ("GET", "/nobody/openapi.json"),
                ("GET", "/nobody/discovery"),
            ],
            json!({"code": "not_found", "message": "no such resource", "details": null, "hint": null}),
        ),
    ];
    for (reqs, want) in groups {
        let anon = futures_lite(&s, reqs, false).await;
        for r in &anon {
            assert_eq!((r.status, &r.body), (anon[0].status, &anon[0].body));
            assert_eq!(r.headers, anon[0].headers);
        }
        assert_eq!(anon[0].status, 404);
        assert_eq!(anon[0].json(), want);
    }
    // With the admin key, the detail.
    let admin = futures_lite(
        &s,
        &[
            ("GET", "/nobody/author"),
            ("GET", "/t/nothing"),
            ("GET", "/nobody/discovery"),
        ],
        true,
    )
    .await;
    assert_eq!(admin[0].json()["details"], "tenant `nobody` not found");
    assert_eq!(admin[1].json()["details"], "entity `nothing` not found");
    assert_eq!(admin[2].json()["message"], "tenant `nobody` not found");
}

async fn futures_lite(s: &Service, reqs: &[(&str, &str)], admin: bool) -> Vec<RestResponse> {
    let mut out = Vec::new();
    for (m, p) in reqs {
        let mut req = RestRequest::new(*m, *p, "")
            .header("Content-Type", "application/json")
            .body("{}");
        if admin {
            req = req.header("Authorization", format!("Bearer {ADMIN}"));
        }
        out.push(s.handle(req).await);
    }
    out
}

#[tokio::test]
async fn every_405_says_allow() {
    let s = service("allow").await;
    let admin = format!("Bearer {ADMIN}");
    for (method, path, allow) in [
        ("PUT", "/t/author", "GET, HEAD, POST, PUT, PATCH, DELETE"),
        (
            "OPTIONS",
            "/t/author",
            "GET, HEAD, POST, PUT, PATCH, DELETE",
        ),
        ("POST", "/t/author/1", "GET, HEAD, PUT, PATCH, DELETE"),
        ("TRACE", "/t/author/1", "GET, HEAD, PUT, PATCH, DELETE"),
        ("POST", "/t/openapi.json", "GET, HEAD"),
        ("DELETE", "/t/discovery", "GET, HEAD"),
        ("DELETE", "/_admin/tenants", "GET, POST"),
        ("PUT", "/_admin/tenants/t", "GET"),
        ("GET", "/_admin/tenants/t/introspect", "POST"),
        ("GET", "/_admin/tenants/t/entities", "POST"),
        ("DELETE", "/_admin/tenants/t/entities/book/fields", "POST"),
    ] {
        let r = s
            .handle(
                RestRequest::new(method, path, "")
                    .header("Authorization", admin.as_str())
                    .header("Content-Type", "application/json")
                    .body("{}"),
            )
            .await;
        assert_eq!(r.status, 405, "{method} {path}: {:?}", r.json());
        assert_eq!(r.header("allow"), Some(allow), "{method} {path}");
    }
}

#[tokio::test]
async fn bodies_ranges_and_created_answers() {
    let s = service("http").await;
    // No Content-Type, or not JSON: 415 with the JSON error body.
    for ct in [
        None,
        Some("text/plain"),
        Some("application/x-www-form-urlencoded"),
    ] {
        let mut req = RestRequest::new("POST", "/t/author", "").body(r#"{"name":"x"}"#);
        if let Some(ct) = ct {
            req = req.header("Content-Type", ct);
        }
        let r = s.handle(req).await;
        assert_eq!(r.status, 415, "{ct:?}");
        assert_eq!(r.json()["code"], "unsupported_media_type");
    }
    assert_eq!(count(&s, "author", "").await, 0);
    // A malformed Range is a 416, an unknown unit a 400.
    for (range, unit, status) in [
        ("a-b", None, 416),
        ("-5", None, 416),
        ("bytes=0-9", None, 416),
        ("0-9", Some("bytes"), 400),
        ("0-9", Some("items"), 200),
    ] {
        let mut req = RestRequest::new("GET", "/t/author", "").header("Range", range);
        if let Some(u) = unit {
            req = req.header("Range-Unit", u);
        }
        assert_eq!(s.handle(req).await.status, status, "{range} {unit:?}");
    }
    // `return=minimal` (the default): 201 with no body and no Content-Type,
    // as the OpenAPI document declares (no `content` on the 201).
    let r = s
        .handle(
            RestRequest::new("POST", "/t/author", "")
                .header("Content-Type", "application/json")
                .body(r#"{"name":"x"}"#),
        )
        .await;
    assert_eq!(r.status, 201);
    assert!(r.body.is_empty());
    assert_eq!(r.header("content-type"), None);
    let doc = s
        .handle(RestRequest::new("GET", "/t/openapi.json", ""))
        .await
        .json();
    let created = &doc["paths"]["/author"]["post"]["responses"]["201"];
    assert!(
        created.is_object() && created.get("content").is_none(),
        "{created}"
    );
}

/// A client may give an auto-increment key explicitly; given the largest
/// value of its type, no key can be generated afterwards. The next insert
/// is a 409 naming the cause (SQLite says "database or disk is full"), not
/// a 500, and inserts with explicit keys still work.
#[tokio::test]
async fn an_exhausted_auto_increment_key_is_a_409() {
    let s = service("autoinc").await;
    let r = s
        .handle(post(
            "/t/author",
            r#"{"id":9223372036854775807,"name":"Last"}"#,
        ))
        .await;
    assert_eq!(r.status, 201, "{:?}", r.json());
    let r = s.handle(post("/t/author", r#"{"name":"Next"}"#)).await;
    assert_eq!(r.status, 409, "{:?}", r.json());
    let v = r.json();
    assert_eq!(v["code"], "conflict");
    assert!(
        v["message"]
            .as_str()
            .unwrap()
            .contains("no new key can be generated"),
        "{v}"
    );
    let r = s
        .handle(post("/t/author", r#"{"id":7,"name":"Seven"}"#))
        .await;
    assert_eq!(r.status, 201, "{:?}", r.json());
    assert_eq!(count(&s, "author", "").await, 2);
}

/// The same within one insert: a row with the largest key, then a row
/// asking for a generated one. Nothing is written, and the answer is a 409.
#[tokio::test]
async fn one_insert_exhausting_the_key_is_a_409() {
    let s = service("autoinc-batch").await;
    let r = s
        .handle(post(
            "/t/author",
            r#"[{"id":9223372036854775807,"name":"Last"},{"name":"Next"}]"#,
        ))
        .await;
    assert_eq!(r.status, 409, "{:?}", r.json());
    assert_eq!(r.json()["code"], "conflict");
    assert_eq!(count(&s, "author", "").await, 0);
    // One below the largest, then two generated: the second overflows.
    let r = s
        .handle(post(
            "/t/author",
            r#"[{"id":9223372036854775806,"name":"Almost"},{"name":"A"},{"name":"B"}]"#,
        ))
        .await;
    assert_eq!(r.status, 409, "{:?}", r.json());
    assert_eq!(count(&s, "author", "").await, 0);
}

/// What a caller holds per awaited request stays small: `Service::handle`
/// and `handle_as` box their dispatch (held whole, it made a function
/// awaiting many requests overflow a debug build's thread stack).
#[tokio::test]
async fn a_request_future_is_small() {
    let s = service("future-size").await;
    let anonymous = Principal::anonymous();
    let handle = std::mem::size_of_val(&s.handle(RestRequest::new("GET", "/t/book", "")));
    let handle_as =
        std::mem::size_of_val(&s.handle_as(RestRequest::new("GET", "/t/book", ""), &anonymous));
    println!("future sizes: handle {handle} B, handle_as {handle_as} B");
    assert!(handle <= 4096, "handle: {handle} bytes");
    assert!(handle_as <= 4096, "handle_as: {handle_as} bytes");
}
