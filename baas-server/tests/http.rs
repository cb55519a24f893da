//! End to end over a real socket: the REST service on axum, with Chinook on
//! PostgreSQL, MariaDB, SQLite and MongoDB served as four tenants. The same
//! requests must return identical status, `Content-Range` and JSON on all four;
//! managed mode creates and alters tables over HTTP without a restart; bad
//! input of every kind gives a documented 4xx, never a 500.

mod common;

use std::net::SocketAddr;
use std::sync::Arc;

use baas_testkit::{Naming, chinook_metadata, skip_or_fail};
use common::{Resp, get, mongo_url, my_url, pg_url, request, spawn};
use mini_baas::engine::{Baas, MemoryStore, TenantConfig, TenantMode};
use mini_baas::rest::Service;
use mini_baas::{SchemaMetadata, UrlConnector};
use serde_json::json;

const ADMIN: &str = "test-admin-key-0123456789";

/// A fresh SQLite file loaded with Chinook.
async fn sqlite_chinook(tag: &str) -> String {
    static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let path = std::env::temp_dir().join(format!("baas-http-{tag}-{}-{n}.db", std::process::id()));
    common::sqlite_chinook_at(&path).await
}

async fn service() -> (Arc<Baas>, Service) {
    let baas =
        Arc::new(Baas::builder(Arc::new(MemoryStore::new()), Arc::new(UrlConnector)).build());
    let service = Service::new(baas.clone())
        .with_admin_key(ADMIN)
        .expect("admin key");
    (baas, service)
}

async fn register(baas: &Baas, id: &str, url: &str, schema: SchemaMetadata) -> Result<(), String> {
    baas.register_tenant(
        TenantConfig::new(id, url, TenantMode::Introspected),
        Some(schema),
    )
    .await
    .map(|_| ())
    .map_err(|e| e.to_string())
}

/// The four engines as tenants `pg`, `my`, `lite`, `mongo` of one server;
/// `None` (skipped, outside CI) when a server is missing.
async fn four_engines() -> Option<SocketAddr> {
    let (baas, service) = service().await;
    if let Err(e) = register(&baas, "pg", &pg_url(), chinook_metadata(Naming::SnakeCase)).await {
        skip_or_fail("PostgreSQL (BAAS_TEST_PG_URL)", &e);
        return None;
    }
    if let Err(e) = register(&baas, "my", &my_url(), chinook_metadata(Naming::PascalCase)).await {
        skip_or_fail("MariaDB (BAAS_TEST_MYSQL_URL)", &e);
        return None;
    }
    if let Err(e) = register(
        &baas,
        "mongo",
        &mongo_url(),
        chinook_metadata(Naming::PascalCase),
    )
    .await
    {
        skip_or_fail("MongoDB (BAAS_TEST_MONGO_URL)", &e);
        return None;
    }
    let lite = sqlite_chinook("identity").await;
    register(&baas, "lite", &lite, chinook_metadata(Naming::PascalCase))
        .await
        .expect("sqlite tenant");
    Some(spawn(baas_axum::router(service)).await)
}

/// Requests (after `/{tenant}`) compared across engines, with headers.
fn identity_requests() -> Vec<(&'static str, Vec<(&'static str, &'static str)>)> {
    vec![
        ("/artist?artist_id=lt.6&order=artist_id", vec![]),
        ("/artist/1", vec![]),
        ("/artist/999999", vec![]),
        (
            "/album?select=title,artist(name)&album_id=lte.5&order=album_id",
            vec![],
        ),
        (
            "/artist?select=name,albums(title)&artist_id=in.(1,2,3)&order=artist_id&albums.order=title.desc",
            vec![],
        ),
        (
            "/track?select=name,unit_price,milliseconds&genre_id=eq.1&unit_price=gt.0.5&order=milliseconds.desc,track_id&limit=5&offset=2",
            vec![("Prefer", "count=exact")],
        ),
        (
            "/customer?or=(country.eq.Brazil,country.eq.Canada)&select=first_name,last_name,country&order=last_name,first_name",
            vec![],
        ),
        (
            "/invoice?select=invoice_id,total,invoice_date,customer_id&total=gte.18&order=total.desc,invoice_id",
            vec![],
        ),
        (
            "/employee?select=first_name,last_name,manager(first_name)&order=employee_id",
            vec![],
        ),
        ("/employee?select=first_name&reports_to=is.null", vec![]),
        (
            "/playlist?select=name,tracks(name)&playlist_id=eq.18&tracks.order=name&tracks.limit=3",
            vec![],
        ),
        ("/artist?name=ilike.*black*&order=artist_id", vec![]),
        ("/genre?name=like.R*&order=genre_id", vec![]),
        (
            "/album?select=album_id,title&artist_id=eq.22&not.title=like.*Live*&order=album_id",
            vec![],
        ),
        (
            "/track?select=track_id,name&album_id=eq.1&order=track_id",
            vec![("Range", "2-4")],
        ),
        (
            "/artist?select=name&artist_id=eq.1",
            vec![("Accept", "application/vnd.pgrst.object+json")],
        ),
        (
            "/album?select=title,tracks(name,genre(name))&album_id=eq.3&tracks.order=track_id",
            vec![],
        ),
        (
            "/artist?select=name&albums=not.is.null&order=artist_id&limit=4",
            vec![],
        ),
        ("/artist?nope=eq.1", vec![]),
        ("/nowhere", vec![]),
        ("/track?milliseconds=gt.notanumber", vec![]),
    ]
}

#[tokio::test]
async fn same_requests_same_json_on_four_engines() {
    let Some(addr) = four_engines().await else {
        return;
    };
    let mut compared = 0;
    for (path, headers) in identity_requests() {
        let mut outs: Vec<(&str, Resp)> = Vec::new();
        for t in ["pg", "my", "lite", "mongo"] {
            let r = request(addr, "GET", &format!("/{t}{path}"), &headers, b"").await;
            assert!(r.status < 500, "{t}{path}: {} {}", r.status, r.text());
            outs.push((t, r));
        }
        let (_, reference) = &outs[0];
        for (t, r) in &outs[1..] {
            assert_eq!(
                (r.status, r.header("content-range"), r.text()),
                (
                    reference.status,
                    reference.header("content-range"),
                    reference.text()
                ),
                "{path}: {t} differs from pg"
            );
        }
        compared += 1;
    }
    // Spot-check the shared answers (not just that they agree).
    let r = get(addr, "/lite/artist?artist_id=lt.3&order=artist_id").await;
    assert_eq!(
        r.json(),
        json!([{"artist_id": 1, "name": "AC/DC"}, {"artist_id": 2, "name": "Accept"}])
    );
    let r = get(addr, "/pg/album?select=title,artist(name)&album_id=eq.1").await;
    assert_eq!(
        r.json(),
        json!([{"title": "For Those About To Rock We Salute You", "artist": {"name": "AC/DC"}}])
    );
    let r = request(
        addr,
        "GET",
        "/my/track?select=track_id&album_id=eq.1&order=track_id",
        &[("Range", "2-4"), ("Prefer", "count=exact")],
        b"",
    )
    .await;
    assert_eq!(r.status, 206);
    assert_eq!(r.header("content-range"), Some("2-4/10"));
    assert_eq!(get(addr, "/pg/artist/999999").await.status, 404);
    println!(
        "http identity: {compared} requests gave identical status, Content-Range and JSON on postgres, mariadb, sqlite and mongodb"
    );
}

/// Writes through HTTP on each engine, rolled back by deleting what was made.
#[tokio::test]
async fn writes_round_trip_on_four_engines() {
    let Some(addr) = four_engines().await else {
        return;
    };
    let mut bodies = Vec::new();
    for t in ["pg", "my", "lite", "mongo"] {
        let base = format!("/{t}/genre");
        // Clean leftovers of an interrupted run.
        request(
            addr,
            "DELETE",
            &format!("{base}?genre_id=gte.9000"),
            &[],
            b"",
        )
        .await;
        let r = request(
            addr,
            "POST",
            &base,
            &[
                ("Content-Type", "application/json"),
                ("Prefer", "return=representation"),
            ],
            br#"[{"genre_id": 9001, "name": "Zeuhl"}, {"genre_id": 9002, "name": "Krautrock"}]"#,
        )
        .await;
        assert_eq!(r.status, 201, "{t}: {}", r.text());
        let created = r.json();
        let r = request(
            addr,
            "PATCH",
            &format!("{base}/9001"),
            &[
                ("Content-Type", "application/json"),
                ("Prefer", "return=representation"),
            ],
            br#"{"name": "Zeuhl (French)"}"#,
        )
        .await;
        assert_eq!(r.status, 200, "{t}: {}", r.text());
        let patched = r.json();
        let r = request(
            addr,
            "POST",
            &base,
            &[("Content-Type", "application/json")],
            br#"{"genre_id": 9001, "name": "dup"}"#,
        )
        .await;
        assert_eq!(r.status, 409, "{t}: {}", r.text());
        let dup = r.json()["code"].clone();
        let r = request(
            addr,
            "PUT",
            &format!("{base}/9003"),
            &[
                ("Content-Type", "application/json"),
                ("Prefer", "return=representation"),
            ],
            br#"{"name": "Canterbury"}"#,
        )
        .await;
        // A PUT that creates the row answers 201, as in PostgREST.
        assert_eq!(r.status, 201, "{t}: {}", r.text());
        let put = r.json();
        let r = request(
            addr,
            "DELETE",
            &format!("{base}?genre_id=gte.9000"),
            &[("Prefer", "return=representation, count=exact")],
            b"",
        )
        .await;
        assert_eq!(r.status, 200, "{t}: {}", r.text());
        let deleted = r.json().as_array().map(Vec::len);
        assert_eq!(
            request(addr, "DELETE", &format!("{base}/9001"), &[], b"")
                .await
                .status,
            404
        );
        bodies.push((t, json!([created, patched, dup, put, deleted])));
    }
    assert_eq!(
        bodies[0].1,
        json!([
            [{"genre_id": 9001, "name": "Zeuhl"}, {"genre_id": 9002, "name": "Krautrock"}],
            [{"genre_id": 9001, "name": "Zeuhl (French)"}],
            "23505",
            [{"genre_id": 9003, "name": "Canterbury"}],
            3
        ])
    );
    for (t, b) in &bodies[1..] {
        assert_eq!(b, &bodies[0].1, "{t} differs from pg");
    }
}

/// Managed mode on each engine (MongoDB: a collection with a `$jsonSchema`
/// validator): create an entity over HTTP, insert, query,
/// add a field, query again — no restart.
#[tokio::test]
async fn managed_entities_over_http() {
    let (baas, service) = service().await;
    let lite_path = std::env::temp_dir().join(format!("baas-managed-{}.db", std::process::id()));
    let _ = std::fs::remove_file(&lite_path);
    let mut targets = vec![("lite", format!("sqlite://{}", lite_path.display()))];
    for (id, url, what) in [
        ("pg", pg_url(), "PostgreSQL (BAAS_TEST_PG_URL)"),
        ("my", my_url(), "MariaDB (BAAS_TEST_MYSQL_URL)"),
        (
            "mongo",
            // A database of its own (the in-memory CI server forgets it).
            mongo_url().replacen(
                "/chinook",
                &format!("/baas_managed_{}", std::process::id()),
                1,
            ),
            "MongoDB (BAAS_TEST_MONGO_URL)",
        ),
    ] {
        match mini_baas::connect(&url).await {
            Ok(_) => targets.push((id, url)),
            Err(e) => {
                skip_or_fail(what, &e);
            }
        }
    }
    let addr = spawn(baas_axum::router(service)).await;
    let entity = format!("managed_note_{}", std::process::id());
    for (id, _) in &targets {
        drop_table(id, &entity).await;
    }
    let auth = format!("Bearer {ADMIN}");
    let json_hdr = ("Content-Type", "application/json");
    for (id, url) in &targets {
        let tenant = format!("m{id}");
        let body = json!({"id": tenant, "url": url, "mode": "managed"}).to_string();
        let r = request(
            addr,
            "POST",
            "/_admin/tenants",
            &[("Authorization", &auth), json_hdr],
            body.as_bytes(),
        )
        .await;
        assert_eq!(r.status, 201, "{id}: {}", r.text());
        let def = json!({
            "name": entity,
            "primary_key": ["id"],
            "fields": [
                {"name": "id", "type": {"kind": "int64"}, "generated": "auto_increment"},
                {"name": "title", "type": {"kind": "text"}, "max_length": 100},
                {"name": "done", "type": {"kind": "boolean"}, "nullable": true}
            ]
        });
        let r = request(
            addr,
            "POST",
            &format!("/_admin/tenants/{tenant}/entities"),
            &[("Authorization", &auth), json_hdr],
            def.to_string().as_bytes(),
        )
        .await;
        assert_eq!(r.status, 201, "{id}: {}", r.text());
        let coll = format!("/{tenant}/{entity}");
        let r = request(
            addr,
            "POST",
            &coll,
            &[json_hdr, ("Prefer", "return=representation")],
            br#"{"title": "write tests", "done": false}"#,
        )
        .await;
        assert_eq!(r.status, 201, "{id}: {}", r.text());
        assert_eq!(
            r.json(),
            json!([{"id": 1, "title": "write tests", "done": false}])
        );
        // Type and length checks come from the new metadata at once.
        let r = request(addr, "POST", &coll, &[json_hdr], br#"{"title": [5]}"#).await;
        assert_eq!(r.status, 422, "{id}: {}", r.text());
        let field = json!({"name": "priority", "type": {"kind": "int32"}, "nullable": true});
        let r = request(
            addr,
            "POST",
            &format!("/_admin/tenants/{tenant}/entities/{entity}/fields"),
            &[("Authorization", &auth), json_hdr],
            field.to_string().as_bytes(),
        )
        .await;
        assert_eq!(r.status, 201, "{id}: {}", r.text());
        let r = request(
            addr,
            "PATCH",
            &format!("{coll}/1"),
            &[json_hdr],
            br#"{"priority": 2}"#,
        )
        .await;
        assert_eq!(r.status, 204, "{id}: {}", r.text());
        let r = get(addr, &format!("{coll}?select=title,priority&priority=eq.2")).await;
        assert_eq!(
            r.json(),
            json!([{"title": "write tests", "priority": 2}]),
            "{id}"
        );
        let r = get(addr, &format!("/{tenant}/discovery")).await;
        assert_eq!(r.status, 200);
        assert!(
            r.text().contains("priority"),
            "{id}: discovery lists the new field"
        );
        // Clean up the tables made in the shared test databases.
        drop_table(id, &entity).await;
    }
    drop(baas);
    let _ = std::fs::remove_file(&lite_path);
}

async fn drop_table(engine: &str, table: &str) {
    // Raw SQL is not part of the adapter trait: drop through the pools.
    match engine {
        "pg" => {
            let a = mini_baas::postgres::connect(mini_baas::postgres::PgConfig::new(pg_url()))
                .await
                .unwrap();
            let sql = format!("DROP TABLE IF EXISTS \"{table}\"");
            sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
                .execute(a.backend().pool())
                .await
                .unwrap();
        }
        "my" => {
            let a = mini_baas::mysql::connect(mini_baas::mysql::MySqlConfig::new(my_url()))
                .await
                .unwrap();
            let sql = format!("DROP TABLE IF EXISTS `{table}`");
            sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
                .execute(a.backend().pool())
                .await
                .unwrap();
        }
        _ => {}
    }
}

/// Bad input of every kind: the documented 4xx with an error body, never a
/// 500, and the server keeps answering.
#[tokio::test]
async fn bad_input_gets_4xx() {
    let (baas, service) = service().await;
    let lite = sqlite_chinook("bad").await;
    register(&baas, "lite", &lite, chinook_metadata(Naming::PascalCase))
        .await
        .unwrap();
    let addr = spawn(baas_axum::router(service.with_limits(
        mini_baas::rest::RestLimits {
            max_body_bytes: 4096,
            ..Default::default()
        },
    )))
    .await;
    let deep = format!(
        "/lite/artist?or=({}artist_id.eq.1{})",
        "and(".repeat(40),
        ")".repeat(40)
    );
    let long_in = format!(
        "/lite/artist?artist_id=in.({})",
        (0..2000)
            .map(|i| i.to_string())
            .collect::<Vec<_>>()
            .join(",")
    );
    let big = vec![b'x'; 10_000];
    /// Method, target, headers, body, expected status.
    type Case<'a> = (&'a str, String, Vec<(&'a str, &'a str)>, Vec<u8>, u16);
    let cases: Vec<Case<'_>> = vec![
        ("GET", "/lite/nowhere".into(), vec![], vec![], 404),
        ("GET", "/ghost/artist".into(), vec![], vec![], 404),
        // An unknown column: PostgREST's 400 `42703`.
        ("GET", "/lite/artist?nope=eq.1".into(), vec![], vec![], 400),
        (
            "GET",
            "/lite/artist?artist_id=zz.1".into(),
            vec![],
            vec![],
            400,
        ),
        (
            "GET",
            "/lite/artist?artist_id=eq.abc".into(),
            vec![],
            vec![],
            422,
        ),
        (
            "GET",
            "/lite/artist?or=(artist_id.eq.1".into(),
            vec![],
            vec![],
            400,
        ),
        ("GET", deep, vec![], vec![], 400),
        ("GET", long_in, vec![], vec![], 400),
        // PostgREST's 416 `PGRST103` (RangeSpec).
        ("GET", "/lite/artist?limit=-1".into(), vec![], vec![], 416),
        (
            "GET",
            "/lite/artist?limit=99999999999999999999999".into(),
            vec![],
            vec![],
            400,
        ),
        (
            "GET",
            "/lite/artist?select=name,nope(x)".into(),
            vec![],
            vec![],
            400,
        ),
        (
            "GET",
            "/lite/artist?order=nope.desc".into(),
            vec![],
            vec![],
            400,
        ),
        (
            "GET",
            "/lite/artist?select=a(b(c(d(e(f)))))".into(),
            vec![],
            vec![],
            400,
        ),
        (
            "GET",
            "/lite/artist".into(),
            vec![("Range", "9-2")],
            vec![],
            416,
        ),
        (
            "POST",
            "/lite/artist".into(),
            vec![("Content-Type", "application/json")],
            b"{not json".to_vec(),
            400,
        ),
        (
            "POST",
            "/lite/artist".into(),
            vec![("Content-Type", "application/json")],
            b"42".to_vec(),
            400,
        ),
        (
            "POST",
            "/lite/artist".into(),
            vec![("Content-Type", "application/json")],
            br#"{"artist_id": "x", "name": 7}"#.to_vec(),
            422,
        ),
        (
            "POST",
            "/lite/artist".into(),
            vec![("Content-Type", "application/json")],
            br#"{"artist_id": 1, "name": "dup"}"#.to_vec(),
            409,
        ),
        (
            "POST",
            "/lite/artist".into(),
            vec![("Content-Type", "application/json")],
            br#"{"artist_id": 5000, "nope": 1}"#.to_vec(),
            // A body's unknown column: PostgREST's 400 `PGRST204`.
            400,
        ),
        (
            "POST",
            "/lite/artist".into(),
            vec![("Content-Type", "application/json")],
            big,
            413,
        ),
        (
            "PATCH",
            "/lite/artist".into(),
            vec![("Content-Type", "application/json")],
            br#"{"name": "all"}"#.to_vec(),
            400,
        ),
        ("DELETE", "/lite/artist".into(), vec![], vec![], 400),
        ("PUT", "/lite/artist".into(), vec![], vec![], 405),
        (
            "GET",
            "/lite/artist/1".into(),
            vec![("x-tenant-id", "other")],
            vec![],
            400,
        ),
        ("GET", "/_admin/tenants".into(), vec![], vec![], 401),
        (
            "GET",
            "/_admin/tenants".into(),
            vec![("Authorization", "Bearer wrong-key-wrong-key")],
            vec![],
            403,
        ),
        (
            "GET",
            "/lite/artist?select=name".into(),
            vec![("Accept", "application/vnd.pgrst.object+json")],
            vec![],
            406,
        ),
    ];
    for (method, target, headers, body, status) in cases {
        let r = request(addr, method, &target, &headers, &body).await;
        let shown: String = target.chars().take(80).collect();
        assert_eq!(r.status, status, "{method} {shown}: {}", r.text());
        let b = r.json();
        assert!(
            b["code"].is_string() && b["message"].is_string(),
            "{method} {shown}: {b}"
        );
    }
    // Still serving.
    assert_eq!(get(addr, "/lite/artist/1").await.json()["name"], "AC/DC");
}

/// The admin routes: key checks, listing with redacted URLs, one tenant with
/// its metadata, re-introspection, refusals on introspected tenants, and
/// method / route errors; plus HEAD and the documents' content types.
#[tokio::test]
async fn admin_routes_and_documents() {
    let (baas, service) = service().await;
    let lite = sqlite_chinook("admin").await;
    let addr = spawn(baas_axum::router(service)).await;
    let auth = format!("Bearer {ADMIN}");
    let json_hdr = ("Content-Type", "application/json");
    let admin = |m: &'static str, path: String, body: Vec<u8>| {
        let auth = auth.clone();
        async move { request(addr, m, &path, &[("Authorization", &auth), json_hdr], &body).await }
    };
    // Register with a password in the URL: it never comes back.
    let url_with_pw = format!("{lite}?mode=rwc");
    let reg = json!({"id": "shop", "url": url_with_pw, "mode": "introspected"});
    let r = admin(
        "POST",
        "/_admin/tenants".into(),
        reg.to_string().into_bytes(),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(r.json()["engine"], "sqlite");
    assert_eq!(r.json()["version"], 1);
    let secret = json!({"id": "remote", "url": "postgres://u:hunter2@127.0.0.1:1/x", "mode": "introspected"});
    let r = admin(
        "POST",
        "/_admin/tenants".into(),
        secret.to_string().into_bytes(),
    )
    .await;
    assert_eq!(
        r.status,
        503,
        "an unreachable database is refused at registration: {}",
        r.text()
    );
    let r = admin("GET", "/_admin/tenants".into(), vec![]).await;
    assert_eq!(r.status, 200);
    let list = r.json();
    assert_eq!(list.as_array().map(Vec::len), Some(1), "{list}");
    assert_eq!(list[0]["id"], "shop");
    assert!(!r.text().contains("hunter2"));

    let r = admin("GET", "/_admin/tenants/shop".into(), vec![]).await;
    assert_eq!(r.status, 200);
    assert!(
        r.json()["schema"]["entities"]
            .as_array()
            .is_some_and(|e| e.len() == 11),
        "{}",
        r.text()
    );
    let r = admin("POST", "/_admin/tenants/shop/introspect".into(), vec![]).await;
    assert_eq!((r.status, r.json()["version"].clone()), (200, json!(2)));
    let def = json!({"name": "x", "primary_key": ["id"], "fields": [{"name": "id", "type": {"kind": "int64"}}]});
    let r = admin(
        "POST",
        "/_admin/tenants/shop/entities".into(),
        def.to_string().into_bytes(),
    )
    .await;
    assert_eq!(
        r.status,
        403,
        "introspected tenants are not altered: {}",
        r.text()
    );
    let r = admin(
        "POST",
        "/_admin/tenants/shop/entities".into(),
        b"{".to_vec(),
    )
    .await;
    assert_eq!(r.status, 400);
    let r = admin("DELETE", "/_admin/tenants/shop".into(), vec![]).await;
    assert_eq!(r.status, 405);
    let r = admin("GET", "/_admin/nothing".into(), vec![]).await;
    assert_eq!(r.status, 404);
    let r = admin("GET", "/_admin/tenants/ghost".into(), vec![]).await;
    assert_eq!(r.status, 404);
    let bad = json!({"id": "_bad", "url": lite, "mode": "managed"});
    let r = admin(
        "POST",
        "/_admin/tenants".into(),
        bad.to_string().into_bytes(),
    )
    .await;
    assert_eq!(r.status, 422, "{}", r.text());

    // Introspected names (SQLite Chinook is PascalCase).
    let r = request(addr, "HEAD", "/shop/Artist?ArtistId=lt.3", &[], b"").await;
    assert_eq!((r.status, r.body.len()), (200, 0));
    assert_eq!(r.header("content-range"), Some("0-1/*"));
    let r = get(addr, "/shop/discovery").await;
    assert_eq!(r.status, 200);
    assert!(
        r.header("content-type")
            .is_some_and(|c| c.starts_with("application/json"))
    );
    let r = get(addr, "/shop/openapi.json").await;
    assert_eq!(r.json()["info"]["version"], "2", "the metadata version");
    assert_eq!(r.json()["servers"][0]["url"], "../shop");
    let r = request(addr, "POST", "/shop/openapi.json", &[], b"").await;
    assert_eq!(r.status, 405);
    // With the tenant in a header.
    let r = request(addr, "GET", "/Artist/1", &[("x-tenant-id", "shop")], b"").await;
    assert_eq!(r.json()["Name"], "AC/DC");
    drop(baas);
}
