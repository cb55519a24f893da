//! The HTTP edge at the service: dispatch by route family, the
//! `/{tenant}/rest/v1` alias answering like the plain routes, names that
//! are both entities and family prefixes, a registered family that gets
//! its body as a stream (far over `max_body_bytes`, chunk by chunk) and
//! streams its answer, and the one 413 of buffered routes.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use baas_core::{Entity, Field, FieldType, Generated, Relation};
use baas_engine::{Baas, MemoryStore, Principal, TenantConfig, TenantMode};
use baas_rest::{Body, BoxError, RestLimits, RestRequest, RestResponse, Service};
use baas_testkit::edge::{SseEcho, sse_data};
use bytes::Bytes;
use futures::StreamExt;
use futures::channel::mpsc;
use serde_json::json;

const ADMIN: &str = "families-test-admin-key-0123";
const LIMIT: usize = 4096;

mod support;

use support::{Lite, fresh_sqlite};

/// A managed SQLite tenant `t`: `author`, `book` (book → author), and
/// entities named like family prefixes and documents: `rest`, `auth` (a
/// text key) and `discovery`.
async fn baas(tag: &str) -> Arc<Baas> {
    let url = fresh_sqlite(&format!("families-{tag}"));
    let baas = Arc::new(Baas::builder(Arc::new(MemoryStore::new()), Arc::new(Lite)).build());
    baas.register_tenant(TenantConfig::new("t", url, TenantMode::Managed), None)
        .await
        .expect("tenant");
    let id = || Field::new("id", FieldType::Int64).generated(Generated::AutoIncrement);
    let name = || Field::new("name", FieldType::Text);
    let entities = [
        Entity::new("author", vec![id(), name()]).with_primary_key(["id"]),
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
        Entity::new("rest", vec![id(), name()]).with_primary_key(["id"]),
        Entity::new("auth", vec![name()]).with_primary_key(["name"]),
        Entity::new("discovery", vec![id(), name()]).with_primary_key(["id"]),
    ];
    for e in entities {
        baas.create_entity("t", e).await.expect("entity");
    }
    baas
}

async fn service(tag: &str) -> Service {
    Service::new(baas(tag).await)
        .with_limits(RestLimits {
            max_body_bytes: LIMIT,
            ..RestLimits::default()
        })
        .with_admin_key(ADMIN)
        .expect("admin key")
}

fn json_req(method: &str, path: &str, query: &str, body: &str) -> RestRequest {
    RestRequest::new(method, path, query)
        .header("Content-Type", "application/json")
        .body(body)
}

/// One request of the alias comparison: method, path after the tenant
/// root, query, headers, body.
type Case = (
    &'static str,
    &'static str,
    &'static str,
    Vec<(&'static str, &'static str)>,
    String,
);

fn cases() -> Vec<Case> {
    let rep = || {
        vec![
            ("Content-Type", "application/json"),
            ("Prefer", "return=representation"),
        ]
    };
    let json = || vec![("Content-Type", "application/json")];
    vec![
        ("POST", "/author", "", rep(), r#"{"name":"Le Guin"}"#.into()),
        (
            "POST",
            "/author",
            "",
            rep(),
            r#"[{"name":"Lem"},{"name":"Butler"}]"#.into(),
        ),
        (
            "POST",
            "/author",
            "",
            vec![
                ("Content-Type", "application/json"),
                ("Prefer", "return=headers-only"),
            ],
            r#"{"name":"Calvino"}"#.into(),
        ),
        (
            "POST",
            "/book",
            "",
            rep(),
            r#"{"title":"Solaris","author_id":2}"#.into(),
        ),
        (
            "GET",
            "/author",
            "order=id.desc&limit=2",
            vec![],
            String::new(),
        ),
        (
            "GET",
            "/author",
            "",
            vec![("Prefer", "count=exact"), ("Range", "0-1")],
            String::new(),
        ),
        (
            "GET",
            "/book",
            "select=title,author(name)",
            vec![],
            String::new(),
        ),
        ("HEAD", "/author", "id=gt.1", vec![], String::new()),
        ("GET", "/author/1", "select=name", vec![], String::new()),
        (
            "GET",
            "/author",
            "id=eq.1",
            vec![("Accept", "application/vnd.pgrst.object+json")],
            String::new(),
        ),
        (
            "PATCH",
            "/author/1",
            "",
            rep(),
            r#"{"name":"Ursula K. Le Guin"}"#.into(),
        ),
        ("PUT", "/author/9", "", rep(), r#"{"name":"Chiang"}"#.into()),
        ("DELETE", "/author", "id=eq.3", rep(), String::new()),
        (
            "PATCH",
            "/author",
            "name=like.*Chiang*",
            json(),
            r#"{"name":"Ted Chiang"}"#.into(),
        ),
        // Errors.
        ("GET", "/nope", "", vec![], String::new()),
        ("GET", "/author/999", "", vec![], String::new()),
        ("GET", "/author", "id=zz.1", vec![], String::new()),
        ("PUT", "/author", "", json(), "{}".into()),
        ("POST", "/author", "", vec![], r#"{"name":"x"}"#.into()),
        (
            "POST",
            "/author",
            "",
            json(),
            r#"{"name":5,"nope":1}"#.into(),
        ),
        (
            "POST",
            "/author",
            "",
            json(),
            format!(r#"{{"name":"{}"}}"#, "x".repeat(LIMIT)),
        ),
        ("DELETE", "/author", "", json(), String::new()),
        (
            "POST",
            "/book",
            "",
            json(),
            r#"{"title":"Orphan","author_id":77}"#.into(),
        ),
    ]
}

fn request(
    method: &str,
    path: String,
    query: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> RestRequest {
    let mut r = RestRequest::new(method, path, query).body(body);
    for (k, v) in headers {
        r = r.header(*k, *v);
    }
    r
}

/// Every entity route answers the same through `/{tenant}/rest/v1`:
/// status, headers and body byte for byte, `Location` pointing at the
/// prefix the request used; the same with the tenant in `x-tenant-id`.
#[tokio::test]
async fn the_rest_v1_alias_answers_like_the_plain_routes() {
    let (plain, alias) = (service("plain").await, service("alias").await);
    let header_plain = service("header-plain").await;
    let header_alias = service("header-alias").await;
    let mut locations = 0;
    for (method, suffix, query, headers, body) in cases() {
        let a = plain
            .handle(request(
                method,
                format!("/t{suffix}"),
                query,
                &headers,
                &body,
            ))
            .await;
        let b = alias
            .handle(request(
                method,
                format!("/t/rest/v1{suffix}"),
                query,
                &headers,
                &body,
            ))
            .await;
        let mut th = headers.clone();
        th.push(("x-tenant-id", "t"));
        let c = header_plain
            .handle(request(method, suffix.to_string(), query, &th, &body))
            .await;
        let d = header_alias
            .handle(request(
                method,
                format!("/rest/v1{suffix}"),
                query,
                &th,
                &body,
            ))
            .await;
        let what = format!("{method} {suffix}?{query}");
        assert!(a.status < 500, "{what}: {} {}", a.status, a.text());
        if let Some(l) = a.header("location") {
            locations += 1;
            let rel = l.strip_prefix("/t").expect("the tenant root");
            assert_eq!(
                b.header("location"),
                Some(format!("/t/rest/v1{rel}").as_str()),
                "{what}"
            );
            assert_eq!(c.header("location"), Some(l), "{what}");
            assert_eq!(d.header("location"), b.header("location"), "{what}");
        }
        let strip = |r: &RestResponse| {
            let mut r = r.clone();
            r.headers.retain(|(k, _)| k != "location");
            r
        };
        assert_eq!(strip(&a), strip(&b), "{what}");
        assert_eq!(strip(&a), strip(&c), "{what}");
        assert_eq!(strip(&a), strip(&d), "{what}");
    }
    assert_eq!(locations, 1, "the headers-only insert is located");
}

/// A family name is a prefix only before `/v1`; under `/rest/v1/` every
/// name is an entity; the alias root is the OpenAPI document.
#[tokio::test]
async fn family_names_and_documents_stay_reachable_as_entities() {
    let s = service("names").await;
    for (path, body) in [
        ("/t/rest", r#"{"name":"r"}"#),
        ("/t/auth", r#"{"name":"v1"}"#),
        // `/t/discovery` is the document (a POST there is a 405).
        ("/t/rest/v1/discovery", r#"{"name":"d"}"#),
    ] {
        let r = s.handle(json_req("POST", path, "", body)).await;
        assert_eq!(r.status, 201, "{path}: {}", r.text());
    }
    let r = s
        .handle(json_req("POST", "/t/discovery", "", r#"{"name":"x"}"#))
        .await;
    assert_eq!((r.status, r.header("allow")), (405, Some("GET, HEAD")));
    let get = |path: &str| s.handle(RestRequest::new("GET", path, ""));
    assert_eq!(get("/t/rest").await.json(), json!([{"id": 1, "name": "r"}]));
    assert_eq!(get("/t/rest/1").await.json(), json!({"id": 1, "name": "r"}));
    assert_eq!(
        get("/t/rest/v1/rest").await.json(),
        json!([{"id": 1, "name": "r"}])
    );
    assert_eq!(get("/t/auth").await.json(), json!([{"name": "v1"}]));
    // `/t/auth/v1` is the (unserved) auth family, answered as a missing
    // tenant's route that names no table; the row is under the alias.
    let missing = get("/nope/discovery").await;
    assert_eq!(missing.status, 404);
    assert_eq!(get("/t/auth/v1").await, missing);
    assert_eq!(
        get("/t/rest/v1/auth/v1").await.json(),
        json!({"name": "v1"})
    );
    // `/t/discovery` is the document, `/t/rest/v1/discovery` the entity.
    assert!(get("/t/discovery").await.json()["entities"].is_array());
    assert_eq!(
        get("/t/rest/v1/discovery").await.json(),
        json!([{"id": 1, "name": "d"}])
    );
    // The alias root is the OpenAPI document, its server the alias.
    for path in ["/t/rest/v1", "/t/rest/v1/"] {
        let r = get(path).await;
        assert_eq!(r.status, 200, "{path}");
        assert_eq!(r.json()["servers"][0]["url"], "/t/rest/v1", "{path}");
        assert!(r.json()["paths"]["/author"].is_object(), "{path}");
    }
    let mounted = s
        .handle(RestRequest::new("GET", "/t/rest/v1/", "").mounted_at("/api"))
        .await;
    assert_eq!(mounted.json()["servers"][0]["url"], "/api/t/rest/v1");
    // The plain document keeps its relative server URL.
    assert_eq!(
        get("/t/openapi.json").await.json()["servers"][0]["url"],
        "../t"
    );
    // Too deep under the alias: no route.
    assert_eq!(get("/t/rest/v1/author/1/x").await.status, 404);
    assert_eq!(get("/t/rest/v1//author").await.status, 404);
}

/// A stream that records whether anyone read it.
fn watched(polled: Arc<AtomicBool>) -> Body {
    Body::from_stream(futures::stream::once(async move {
        polled.store(true, Ordering::SeqCst);
        Ok::<_, BoxError>(Bytes::from_static(b"{}"))
    }))
}

/// Registered families get their requests (tenant found, path after the
/// prefix, public root, caller); unserved and reserved ones, and missing
/// tenants, get the uniform 404 without their body being read.
#[tokio::test]
async fn requests_are_dispatched_by_family() {
    let echo = Arc::new(SseEcho::new());
    let s = service("dispatch")
        .await
        .with_family("probe", echo.clone())
        .expect("family");
    assert!(s.clone().with_family("rest", echo.clone()).is_err());
    assert!(s.clone().with_family("Bad/Name", echo.clone()).is_err());
    assert!(s.clone().with_family("", echo.clone()).is_err());

    let start = |r: &RestResponse| sse_data(&String::from_utf8_lossy(r.body.bytes()));
    let post = |path: &str| RestRequest::new("POST", path, "").body("abc");
    let r = collect(s.handle(post("/t/probe/v1/a/b%20c")).await).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("text/event-stream"));
    assert_eq!(start(&r), ["t /a/b%20c /t/probe/v1", "1 3 3", "3"]);
    let r = collect(s.handle(post("/t/probe/v1").mounted_at("/api")).await).await;
    assert_eq!(start(&r)[0], "t  /api/t/probe/v1");
    let r = collect(
        s.handle(post("/probe/v1/x").header("x-tenant-id", "t"))
            .await,
    )
    .await;
    assert_eq!(start(&r)[0], "t /x /t/probe/v1");
    let r = collect(
        s.handle(post("/t/probe/v1/x").header("x-tenant-id", "t"))
            .await,
    )
    .await;
    assert_eq!(start(&r)[0], "t /x /t/probe/v1");
    // Another tenant in the path than in the header: 400.
    let r = s
        .handle(post("/u/probe/v1/x").header("x-tenant-id", "t"))
        .await;
    assert_eq!(r.status, 400, "{}", r.text());
    // The family answers its own 405.
    let r = s.handle(RestRequest::new("GET", "/t/probe/v1/x", "")).await;
    assert_eq!((r.status, r.header("allow")), (405, Some("POST")));
    // `/t/probe` without `/v1` is an entity route (no such entity).
    let missing = s.handle(RestRequest::new("GET", "/nope/probe", "")).await;
    assert_eq!(
        s.handle(RestRequest::new("GET", "/t/probe", "")).await,
        missing
    );

    // The uniform 404, the body never read: a missing tenant, a reserved
    // family not served, a path under no family (no table named).
    let missing = s
        .handle(RestRequest::new("GET", "/nope/discovery", ""))
        .await;
    for path in [
        "/nope/probe/v1/x",
        "/t/storage/v1/object/a",
        "/t/realtime/v1/websocket",
    ] {
        let polled = Arc::new(AtomicBool::new(false));
        let req = RestRequest::new("POST", path, "").body(watched(polled.clone()));
        let r = s.handle(req).await;
        assert_eq!(r, missing, "{path}");
        assert!(!polled.load(Ordering::SeqCst), "{path}: the body was read");
        // The admin key gets the detail.
        let r = s
            .handle(RestRequest::new("POST", path, "").header("x-admin-key", ADMIN))
            .await;
        assert_eq!(r.status, 404);
        assert_ne!(r.json()["message"], missing.json()["message"], "{path}");
    }
    assert_eq!(
        echo.largest_chunk(),
        3,
        "only the served requests reached the family"
    );

    // `prepare`: the family request, or the answer to send instead.
    let p = s
        .prepare(
            RestRequest::new("GET", "/t/probe/v1/ws", ""),
            &Principal::new("ann", []),
        )
        .await
        .expect("prepared");
    assert_eq!(
        (p.family.as_str(), p.request.path.as_str()),
        ("probe", "/ws")
    );
    assert_eq!(p.request.principal.subject.as_deref(), Some("ann"));
    for path in ["/t/author", "/nope/probe/v1/ws", "/t/auth/v1/x"] {
        let r = s
            .prepare(RestRequest::new("GET", path, ""), &Principal::anonymous())
            .await
            .expect_err(path);
        assert_eq!(r, missing, "{path}");
    }
}

/// Read a streamed answer to its end.
async fn collect(mut r: RestResponse) -> RestResponse {
    let body = std::mem::take(&mut r.body);
    let mut all = Vec::new();
    let mut s = body.into_stream();
    while let Some(chunk) = s.next().await {
        all.extend_from_slice(&chunk.expect("chunk"));
    }
    r.body = all.into();
    r
}

/// A registered family reads a body far over `max_body_bytes` chunk by
/// chunk: the event of the first chunk comes back before the second chunk
/// is sent; the answer streams event by event.
#[tokio::test]
async fn a_family_reads_its_body_as_it_comes_and_streams_its_answer() {
    let echo = Arc::new(SseEcho::new());
    let s = service("stream")
        .await
        .with_family("probe", echo.clone())
        .expect("family");
    let (mut tx, rx) = mpsc::channel::<Result<Bytes, BoxError>>(0);
    let req = RestRequest::new("POST", "/t/probe/v1/upload", "").body(Body::from_stream(rx));
    let r = s.handle(req).await;
    assert_eq!(r.status, 200);
    assert!(r.body.is_stream());
    let mut events = r.body.into_stream();
    let mut next = async || {
        let chunk = tokio::time::timeout(std::time::Duration::from_secs(5), events.next())
            .await
            .expect("the next event in time")
            .expect("an event")
            .expect("not an error");
        String::from_utf8(chunk.to_vec()).expect("text")
    };
    assert!(next().await.starts_with("event: start"));
    const CHUNK: usize = 64 * 1024;
    const CHUNKS: usize = 64; // 4 MiB, 1024 × max_body_bytes
    let mut total = 0;
    for n in 1..=CHUNKS {
        // `try_send`: the channel holds one chunk, and it is empty since
        // the family answered the previous one.
        tx.try_send(Ok(Bytes::from(vec![b'x'; CHUNK])))
            .expect("send");
        total += CHUNK;
        // The family answered this chunk before the next one exists.
        assert_eq!(next().await, format!("data: {n} {CHUNK} {total}\n\n"));
    }
    drop(tx);
    assert_eq!(next().await, format!("event: end\ndata: {total}\n\n"));
    assert!(events.next().await.is_none());
    assert_eq!(echo.largest_chunk(), CHUNK);
    assert!(total > 1000 * LIMIT);
}

/// Entity and admin bodies are read whole, once, under the limit: over it
/// (declared or read), the one 413, with `Connection: close`; the exact
/// limit passes.
#[tokio::test]
async fn buffered_routes_have_one_413() {
    let s = service("limit").await;
    let expected = {
        let mut r = baas_rest::payload_too_large(LIMIT).to_response();
        r.headers.push(("connection".into(), "close".into()));
        r
    };
    // Declared too large: refused before the body is read.
    let polled = Arc::new(AtomicBool::new(false));
    let r = s
        .handle(
            RestRequest::new("POST", "/t/author", "")
                .header("content-type", "application/json")
                .header("content-length", (LIMIT + 1).to_string())
                .body(watched(polled.clone())),
        )
        .await;
    assert_eq!(r, expected);
    assert!(!polled.load(Ordering::SeqCst));
    // Streamed without a length, growing past the limit.
    let chunks: Vec<Result<Bytes, BoxError>> = (0..10)
        .map(|_| Ok(Bytes::from(vec![b' '; LIMIT / 4])))
        .collect();
    for path in ["/t/author", "/t/rest/v1/author", "/_admin/tenants"] {
        let body = Body::from_stream(futures::stream::iter(
            chunks
                .iter()
                .map(|c| Ok::<_, BoxError>(c.as_ref().expect("ok").clone()))
                .collect::<Vec<_>>(),
        ));
        let r = s
            .handle(
                RestRequest::new("POST", path, "")
                    .header("content-type", "application/json")
                    .body(body),
            )
            .await;
        assert_eq!(r, expected, "{path}");
    }
    // Exactly at the limit: read and parsed.
    let name = "y".repeat(LIMIT - r#"{"name":""}"#.len());
    let body = format!(r#"{{"name":"{name}"}}"#);
    assert_eq!(body.len(), LIMIT);
    let half = Bytes::from(body.clone().into_bytes());
    let parts = vec![
        Ok::<_, BoxError>(half.slice(..LIMIT / 2)),
        Ok(half.slice(LIMIT / 2..)),
    ];
    let r = s
        .handle(
            RestRequest::new("POST", "/t/author", "")
                .header("content-type", "application/json")
                .header("prefer", "return=representation")
                .body(Body::from_stream(futures::stream::iter(parts))),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(r.json()[0]["name"], name);
    // A body that fails while being read is a 400.
    let failing = Body::from_stream(futures::stream::iter(vec![
        Ok(Bytes::from_static(b"{")),
        Err(BoxError::from("connection reset")),
    ]));
    let r = s
        .handle(
            RestRequest::new("POST", "/t/author", "")
                .header("content-type", "application/json")
                .body(failing),
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.text());
}
