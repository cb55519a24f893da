//! The actix integration driven through a real actix app (`actix_web::test`)
//! over real SQLite databases: the host's routes, mini-baas under `/api`,
//! a host middleware that authenticates callers into a `Principal`.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use actix_web::body::MessageBody;
use actix_web::dev::{Service as _, ServiceResponse};
use actix_web::http::header::CONTENT_LENGTH;
use actix_web::{App, HttpMessage, test, web};
use async_trait::async_trait;
use baas_actix::{RestLimits, Service};
use mini_baas::engine::{
    AccessRequest, Action, Baas, Grant, MemoryStore, Policy, Principal, Resource, TenantConfig,
    TenantMode,
};
use mini_baas::{Error, UrlConnector};
use serde_json::{Value, json};

static N: AtomicUsize = AtomicUsize::new(0);

/// A fresh SQLite file, removed (with its WAL files) when dropped.
struct TempDb {
    path: PathBuf,
    url: String,
}

impl Drop for TempDb {
    fn drop(&mut self) {
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", self.path.display()));
        }
    }
}

/// `note` (three rows) and `tag` (a text key, one with a comma).
async fn database() -> TempDb {
    let n = N.fetch_add(1, Ordering::Relaxed);
    let path: PathBuf =
        std::env::temp_dir().join(format!("baas-actix-{}-{n}.db", std::process::id()));
    let db = TempDb {
        url: format!("sqlite://{}", path.display()),
        path,
    };
    let conn = mini_baas::sqlite::connect(mini_baas::sqlite::SqliteConfig::new(&db.url))
        .await
        .unwrap();
    conn.backend()
        .execute_script(
            "CREATE TABLE note (id INTEGER PRIMARY KEY, owner TEXT NOT NULL, body TEXT NOT NULL, stars INTEGER);
             INSERT INTO note (owner, body, stars) VALUES ('ann', 'hello', 1), ('bob', 'world', 2), ('ann', 'again', 3);
             CREATE TABLE tag (name TEXT PRIMARY KEY, color TEXT);
             INSERT INTO tag (name, color) VALUES ('a,b', 'red'), ('plain', 'blue');",
        )
        .await
        .unwrap();
    db
}

/// Writes need an authenticated caller; reads are open.
struct WritesNeedSubject;

#[async_trait]
impl Policy for WritesNeedSubject {
    async fn grant(&self, r: &AccessRequest<'_>) -> mini_baas::Result<Grant> {
        let Resource::Entity(e) = r.resource else {
            return Ok(Grant::all());
        };
        if r.action != Action::Read && r.principal.subject.is_none() {
            return Err(Error::Forbidden(format!(
                "anonymous callers cannot write `{}`",
                e.name
            )));
        }
        Ok(Grant::all())
    }
}

/// The engine with tenant `acme` (introspected) wrapped in a service; keep
/// the `TempDb` alive as long as the service is used.
async fn service(policy: Option<Arc<dyn Policy>>, limits: RestLimits) -> (Service, TempDb) {
    let mut builder = Baas::builder(Arc::new(MemoryStore::new()), Arc::new(UrlConnector));
    if let Some(p) = policy {
        builder = builder.policy(p);
    }
    let baas = builder.build();
    let db = database().await;
    baas.register_tenant(
        TenantConfig::new("acme", &db.url, TenantMode::Introspected),
        None,
    )
    .await
    .unwrap();
    (Service::new(Arc::new(baas)).with_limits(limits), db)
}

/// The host application: its own routes, an authentication middleware
/// turning `x-user` into a `Principal`, and mini-baas under `/api`.
macro_rules! host_app {
    ($svc:expr) => {
        App::new()
            .wrap_fn(|req, srv| {
                if let Some(user) = req.headers().get("x-user").and_then(|v| v.to_str().ok()) {
                    let principal = Principal::new(user, ["user".to_string()]);
                    req.extensions_mut().insert(principal);
                }
                srv.call(req)
            })
            .route("/health", web::get().to(|| async { "ok" }))
            .route("/hello", web::get().to(|| async { "hello from the host" }))
            .service(baas_actix::scope("/api", $svc))
    };
}

struct Resp {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Resp {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {:?}", String::from_utf8_lossy(&self.body)))
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

async fn send<S, R, B>(app: &S, req: R) -> Resp
where
    S: actix_web::dev::Service<R, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    let resp = test::call_service(app, req).await;
    let status = resp.status().as_u16();
    let headers = resp
        .headers()
        .iter()
        .map(|(k, v)| (k.as_str().to_string(), v.to_str().unwrap().to_string()))
        .collect();
    let body = test::read_body(resp).await.to_vec();
    Resp {
        status,
        headers,
        body,
    }
}

fn get(uri: &str) -> test::TestRequest {
    test::TestRequest::get().uri(uri)
}

fn json_req(method: &str, uri: &str, body: &Value) -> test::TestRequest {
    test::TestRequest::default()
        .method(method.parse().unwrap())
        .uri(uri)
        .insert_header(("content-type", "application/json"))
        .set_payload(body.to_string())
}

#[actix_web::test]
async fn reads_through_the_prefix() {
    let (svc, _db) = service(None, RestLimits::default()).await;
    let app = test::init_service(host_app!(svc)).await;

    let r = send(
        &app,
        get("/api/acme/note?owner=eq.ann&order=stars.desc&limit=1&select=id,body").to_request(),
    )
    .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json(), json!([{"id": 3, "body": "again"}]));
    assert_eq!(r.header("content-range"), Some("0-0/*"));
    assert_eq!(
        r.header("content-type"),
        Some("application/json; charset=utf-8")
    );

    let r = send(
        &app,
        get("/api/acme/note?stars=gte.2&order=id.desc").to_request(),
    )
    .await;
    assert_eq!(r.status, 200);
    assert_eq!(
        r.json(),
        json!([
            {"id": 3, "owner": "ann", "body": "again", "stars": 3},
            {"id": 2, "owner": "bob", "body": "world", "stars": 2}
        ])
    );

    // By primary key: one object, or a 404.
    let r = send(&app, get("/api/acme/note/2").to_request()).await;
    assert_eq!(r.status, 200);
    assert_eq!(
        r.json(),
        json!({"id": 2, "owner": "bob", "body": "world", "stars": 2})
    );
    let r = send(&app, get("/api/acme/note/99").to_request()).await;
    assert_eq!(r.status, 404);
    assert_eq!(
        r.json(),
        json!({"code": "not_found", "message": "no `note` row has this key", "details": null, "hint": null})
    );

    // The path reaches the service still percent-encoded: `%2C` is a comma
    // inside one key, not the separator of a composite key.
    let r = send(&app, get("/api/acme/tag/a%2Cb").to_request()).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json(), json!({"name": "a,b", "color": "red"}));

    // Filters with encoded values in the raw query string.
    let r = send(
        &app,
        get("/api/acme/tag?name=in.(%22a%2Cb%22,plain)&order=name&select=name").to_request(),
    )
    .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json(), json!([{"name": "a,b"}, {"name": "plain"}]));
}

#[actix_web::test]
async fn writes_through_the_prefix() {
    let (svc, _db) = service(None, RestLimits::default()).await;
    let app = test::init_service(host_app!(svc)).await;

    // POST 201 with the representation.
    let r = send(
        &app,
        json_req(
            "POST",
            "/api/acme/note",
            &json!({"owner": "cat", "body": "new", "stars": 5}),
        )
        .insert_header(("prefer", "return=representation"))
        .to_request(),
    )
    .await;
    assert_eq!(r.status, 201);
    assert_eq!(
        r.json(),
        json!([{"id": 4, "owner": "cat", "body": "new", "stars": 5}])
    );

    // PATCH by filter, with and without the representation.
    let r = send(
        &app,
        json_req("PATCH", "/api/acme/note?owner=eq.ann", &json!({"stars": 9}))
            .insert_header(("prefer", "return=representation"))
            .to_request(),
    )
    .await;
    assert_eq!(r.status, 200);
    assert_eq!(
        r.json(),
        json!([
            {"id": 1, "owner": "ann", "body": "hello", "stars": 9},
            {"id": 3, "owner": "ann", "body": "again", "stars": 9}
        ])
    );
    let r = send(
        &app,
        json_req("PATCH", "/api/acme/note/4", &json!({"body": "edited"})).to_request(),
    )
    .await;
    assert_eq!(r.status, 204);
    assert!(r.body.is_empty());
    let r = send(&app, get("/api/acme/note/4").to_request()).await;
    assert_eq!(
        r.json(),
        json!({"id": 4, "owner": "cat", "body": "edited", "stars": 5})
    );

    // DELETE by key; the row is gone, a second DELETE is a 404.
    let del = || {
        test::TestRequest::delete()
            .uri("/api/acme/note/2")
            .to_request()
    };
    let r = send(&app, del()).await;
    assert_eq!(r.status, 204);
    assert_eq!(
        send(&app, get("/api/acme/note/2").to_request())
            .await
            .status,
        404
    );
    let r = send(&app, del()).await;
    assert_eq!(r.status, 404);
    assert_eq!(
        r.json(),
        json!({"code": "not_found", "message": "no `note` row has this key", "details": null, "hint": null})
    );

    let r = send(&app, get("/api/acme/note?select=id&order=id").to_request()).await;
    assert_eq!(r.json(), json!([{"id": 1}, {"id": 3}, {"id": 4}]));
}

#[actix_web::test]
async fn location_is_absolute_for_the_client() {
    let (svc, _db) = service(None, RestLimits::default()).await;
    let app = test::init_service(host_app!(svc)).await;

    // Tenant in the path.
    let r = send(
        &app,
        json_req(
            "POST",
            "/api/acme/note",
            &json!({"owner": "dan", "body": "x"}),
        )
        .insert_header(("prefer", "return=headers-only"))
        .to_request(),
    )
    .await;
    assert_eq!(r.status, 201);
    assert_eq!(r.header("location"), Some("/api/acme/note/4"));
    assert!(r.body.is_empty());

    // Tenant in the header: the location still names it, and works as is.
    let r = send(
        &app,
        json_req(
            "POST",
            "/api/tag",
            &json!({"name": "x/y,z", "color": "green"}),
        )
        .insert_header(("prefer", "return=headers-only"))
        .insert_header(("x-tenant-id", "acme"))
        .to_request(),
    )
    .await;
    assert_eq!(r.status, 201);
    assert_eq!(r.header("location"), Some("/api/acme/tag/x%2Fy%2Cz"));
    let r = send(&app, get("/api/acme/tag/x%2Fy%2Cz").to_request()).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json(), json!({"name": "x/y,z", "color": "green"}));
    let r = send(
        &app,
        get("/api/acme/tag/x%2Fy%2Cz")
            .insert_header(("x-tenant-id", "acme"))
            .to_request(),
    )
    .await;
    assert_eq!(r.status, 200);

    // Nested in the host's own scope: the whole mount is prefixed.
    let (svc, _db2) = service(None, RestLimits::default()).await;
    let nested = test::init_service(
        App::new().service(web::scope("/v1").service(baas_actix::scope("/api", svc))),
    )
    .await;
    let r = send(
        &nested,
        json_req(
            "POST",
            "/v1/api/acme/note",
            &json!({"owner": "eve", "body": "y"}),
        )
        .insert_header(("prefer", "return=headers-only"))
        .to_request(),
    )
    .await;
    assert_eq!(r.status, 201);
    assert_eq!(r.header("location"), Some("/v1/api/acme/note/4"));
    let r = send(
        &nested,
        get("/v1/api/acme/note/4?select=owner").to_request(),
    )
    .await;
    assert_eq!(r.json(), json!({"owner": "eve"}));
}

#[actix_web::test]
async fn body_limit_is_the_services_own() {
    let limits = RestLimits {
        max_body_bytes: 64,
        ..RestLimits::default()
    };
    let (svc, _db) = service(None, limits).await;
    let app = test::init_service(host_app!(svc)).await;
    let expected = json!({
        "code": "payload_too_large",
        "message": "the body is larger than the limit of 64 bytes",
        "details": null,
        "hint": null
    });

    let big = json!({"owner": "ann", "body": "x".repeat(60)});
    // Refused on its Content-Length…
    let r = send(&app, json_req("POST", "/api/acme/note", &big).to_request()).await;
    assert_eq!(r.status, 413);
    assert_eq!(r.json(), expected);
    // …and while reading a body that declares no length.
    let mut req = json_req("POST", "/api/acme/note", &big).to_request();
    req.headers_mut().remove(CONTENT_LENGTH);
    let r = send(&app, req).await;
    assert_eq!(r.status, 413);
    assert_eq!(r.json(), expected);

    // Within the limit: written.
    let small = json!({"owner": "ann", "body": "short"});
    assert!(small.to_string().len() <= 64);
    let r = send(
        &app,
        json_req("POST", "/api/acme/note", &small).to_request(),
    )
    .await;
    assert_eq!(r.status, 201);

    // With the default limit (1 MiB), a body larger than actix's default
    // 256 KiB payload limit goes through.
    let (svc, _db) = service(None, RestLimits::default()).await;
    let app = test::init_service(host_app!(svc)).await;
    let long = "y".repeat(300 * 1024);
    let r = send(
        &app,
        json_req(
            "POST",
            "/api/acme/note",
            &json!({"owner": "ann", "body": long}),
        )
        .insert_header(("prefer", "return=representation"))
        .to_request(),
    )
    .await;
    assert_eq!(r.status, 201);
    assert_eq!(r.json()[0]["body"].as_str().map(str::len), Some(300 * 1024));
}

#[actix_web::test]
async fn bad_grammar_is_a_400() {
    let (svc, _db) = service(None, RestLimits::default()).await;
    let app = test::init_service(host_app!(svc)).await;
    let r = send(&app, get("/api/acme/note?stars=foo.1").to_request()).await;
    assert_eq!(r.status, 400);
    assert_eq!(
        r.json(),
        json!({
            "code": "PGRST100",
            "message": "unknown operator `foo`",
            "details": null,
            "hint": "operators: eq, neq, gt, gte, lt, lte, like, ilike, match, imatch, isdistinct, in, is, fts, plfts, phfts, wfts, cs, cd, ov"
        })
    );

    let r = send(&app, get("/api/acme/note?or=(stars.eq.1").to_request()).await;
    assert_eq!(r.status, 400);
    let body = r.json();
    assert_eq!(body["code"], "PGRST100");
    assert_eq!(
        body["message"],
        "failed to parse logic tree (`(stars.eq.1`)"
    );
}

#[actix_web::test]
async fn host_routes_still_answer() {
    let (svc, _db) = service(None, RestLimits::default()).await;
    let app = test::init_service(host_app!(svc)).await;
    let r = send(&app, get("/health").to_request()).await;
    assert_eq!((r.status, r.body.as_slice()), (200, b"ok".as_slice()));
    let r = send(&app, get("/hello").to_request()).await;
    assert_eq!(
        (r.status, r.body.as_slice()),
        (200, b"hello from the host".as_slice())
    );
    // Outside the mount (`/apix` is not `/api`): actix's own 404, empty.
    let r = send(&app, get("/apix/acme/note").to_request()).await;
    assert_eq!(r.status, 404);
    assert!(r.body.is_empty());
    // The mount itself: mini-baas's 404, for the path `/`.
    let r = send(&app, get("/api").to_request()).await;
    assert_eq!(r.status, 404);
    let body = r.json();
    assert_eq!(body["code"], "not_found");
    assert_eq!(body["message"], "no route for `/`");
}

#[actix_web::test]
async fn principal_from_extensions_reaches_the_policy() {
    let policy: Arc<dyn Policy> = Arc::new(WritesNeedSubject);
    let (svc, _db) = service(Some(policy), RestLimits::default()).await;
    let app = test::init_service(host_app!(svc)).await;
    let row = json!({"owner": "ann", "body": "mine"});

    // Anonymous: reads pass, writes are refused by the policy.
    let r = send(&app, get("/api/acme/note?select=id&id=eq.1").to_request()).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json(), json!([{"id": 1}]));
    let r = send(&app, json_req("POST", "/api/acme/note", &row).to_request()).await;
    assert_eq!(r.status, 403);
    assert_eq!(
        r.json(),
        json!({
            "code": "forbidden",
            "message": "anonymous callers cannot write `note`",
            "details": null,
            "hint": null
        })
    );

    // Authenticated by the host's middleware: written.
    let r = send(
        &app,
        json_req("POST", "/api/acme/note", &row)
            .insert_header(("x-user", "ann"))
            .insert_header(("prefer", "return=representation"))
            .to_request(),
    )
    .await;
    assert_eq!(r.status, 201);
    assert_eq!(
        r.json(),
        json!([{"id": 4, "owner": "ann", "body": "mine", "stars": null}])
    );
}

/// A registered route family reads an upload far over `max_body_bytes`
/// chunk by chunk through actix (the event of a chunk comes back before
/// the next one is sent) and its server-sent events stream out.
#[actix_web::test]
async fn an_upload_and_an_event_stream_pass_through_actix_unbuffered() {
    use actix_web::dev::Payload;
    use actix_web::error::PayloadError;
    use actix_web::web::Bytes;

    let limits = RestLimits {
        max_body_bytes: 64,
        ..RestLimits::default()
    };
    let (svc, _db) = service(None, limits).await;
    let echo = Arc::new(baas_testkit::edge::SseEcho::new());
    let svc = svc.with_family("probe", echo.clone()).unwrap();
    let app = test::init_service(host_app!(svc)).await;
    let (mut tx, rx) = futures::channel::mpsc::channel::<Result<Bytes, PayloadError>>(0);
    let stream: std::pin::Pin<Box<dyn futures::Stream<Item = Result<Bytes, PayloadError>>>> =
        Box::pin(rx);
    let (req, _) = test::TestRequest::post()
        .uri("/api/acme/probe/v1/upload")
        .to_request()
        .replace_payload(Payload::Stream { payload: stream });
    let resp = app.call(req).await.unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    assert_eq!(
        resp.headers().get("content-type").unwrap(),
        "text/event-stream"
    );
    let mut body = std::pin::pin!(resp.into_body());
    let mut next = async || {
        let chunk = futures::future::poll_fn(|cx| body.as_mut().poll_next(cx));
        let chunk = tokio::time::timeout(std::time::Duration::from_secs(10), chunk)
            .await
            .expect("the next event in time")
            .expect("an event")
            .expect("not an error");
        String::from_utf8(chunk.to_vec()).unwrap()
    };
    assert_eq!(
        next().await,
        "event: start\ndata: acme /upload /api/acme/probe/v1\n\n"
    );
    const CHUNK: usize = 64 * 1024;
    let mut total = 0;
    for n in 1..=64 {
        // Room in the channel: the family answered the previous chunk.
        tx.try_send(Ok(Bytes::from(vec![b'x'; CHUNK])))
            .expect("send");
        total += CHUNK;
        assert_eq!(next().await, format!("data: {n} {CHUNK} {total}\n\n"));
    }
    drop(tx);
    assert_eq!(next().await, format!("event: end\ndata: {total}\n\n"));
    assert_eq!(echo.largest_chunk(), CHUNK);
}

/// Through the `/rest/v1` alias the answer is the plain route's, and
/// `Location` keeps the prefix the request used.
#[actix_web::test]
async fn the_rest_v1_alias() {
    let (svc, _db) = service(None, RestLimits::default()).await;
    let app = test::init_service(host_app!(svc)).await;
    let plain = send(
        &app,
        get("/api/acme/note?order=id&select=owner").to_request(),
    )
    .await;
    let alias = send(
        &app,
        get("/api/acme/rest/v1/note?order=id&select=owner").to_request(),
    )
    .await;
    assert_eq!(
        (plain.status, &plain.headers, &plain.body),
        (alias.status, &alias.headers, &alias.body)
    );
    let req = json_req(
        "POST",
        "/api/acme/rest/v1/note",
        &json!({"owner": "eve", "body": "x"}),
    )
    .insert_header(("prefer", "return=headers-only"))
    .to_request();
    req.extensions_mut()
        .insert(Principal::new("eve", ["user".to_string()]));
    let r = send(&app, req).await;
    assert_eq!(r.status, 201);
    assert_eq!(r.header("location"), Some("/api/acme/rest/v1/note/4"));
}

/// A tenant id that needs percent-encoding (`café x`, which another
/// metadata store may hold) gets the same `Location` as through axum:
/// `/api/caf%C3%A9%20x/note/1`, and it is a working URL.
#[actix_web::test]
async fn a_tenant_id_is_percent_encoded_in_location() {
    use mini_baas::engine::MetadataStore;
    let db = database().await;
    let store = Arc::new(baas_testkit::edge::AnyIdStore::default());
    store
        .put_tenant(&TenantConfig::new(
            "café x",
            &db.url,
            TenantMode::Introspected,
        ))
        .await
        .unwrap();
    let baas = Arc::new(Baas::builder(store, Arc::new(UrlConnector)).build());
    let app = test::init_service(host_app!(Service::new(baas))).await;
    for (path, location) in [
        ("/api/caf%C3%A9%20x/note", "/api/caf%C3%A9%20x/note/4"),
        (
            "/api/caf%C3%A9%20x/rest/v1/note",
            "/api/caf%C3%A9%20x/rest/v1/note/5",
        ),
    ] {
        let req = json_req("POST", path, &json!({"owner": "eve", "body": "x"}))
            .insert_header(("prefer", "return=headers-only"))
            .to_request();
        req.extensions_mut()
            .insert(Principal::new("eve", ["user".to_string()]));
        let r = send(&app, req).await;
        assert_eq!(r.status, 201, "{path}");
        assert_eq!(r.header("location"), Some(location));
        let r = send(&app, get(location).to_request()).await;
        assert_eq!(r.status, 200, "{location}");
    }
}
