//! Write semantics end to end: `Prefer: tx=rollback` on the four engines
//! (the answer carries the rows, nothing is kept, no change event), and the
//! demo's foreign key (a book with a missing author is a 409).

mod common;

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;

use baas_testkit::{Naming, chinook_metadata, skip_or_fail};
use common::{get, request, spawn};
use mini_baas::engine::{Baas, MemoryStore, TenantConfig, TenantMode};
use mini_baas::rest::Service;
use mini_baas::{SchemaMetadata, UrlConnector};
use serde_json::json;

fn env_or(name: &str, default: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| default.into())
}

/// A fresh SQLite file loaded with Chinook.
async fn sqlite_chinook() -> String {
    let path = std::env::temp_dir().join(format!("baas-write-semantics-{}.db", std::process::id()));
    common::sqlite_chinook_at(&path).await
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

/// The four engines as tenants `pg`, `my`, `lite`, `mongo`; `None` (skipped,
/// outside CI) when a server is missing.
async fn four_engines() -> Option<(Arc<Baas>, SocketAddr)> {
    let baas =
        Arc::new(Baas::builder(Arc::new(MemoryStore::new()), Arc::new(UrlConnector)).build());
    for (id, var, default, naming) in [
        (
            "pg",
            "BAAS_TEST_PG_URL",
            "postgres://baas:baas_pw@127.0.0.1:5432/chinook",
            Naming::SnakeCase,
        ),
        (
            "my",
            "BAAS_TEST_MYSQL_URL",
            "mysql://baas:baas_pw@127.0.0.1:3306/Chinook",
            Naming::PascalCase,
        ),
        (
            "mongo",
            "BAAS_TEST_MONGO_URL",
            "mongodb://127.0.0.1:27017/chinook?directConnection=true",
            Naming::PascalCase,
        ),
    ] {
        if let Err(e) = register(&baas, id, &env_or(var, default), chinook_metadata(naming)).await {
            skip_or_fail(var, &e);
            return None;
        }
    }
    let lite = sqlite_chinook().await;
    register(&baas, "lite", &lite, chinook_metadata(Naming::PascalCase))
        .await
        .expect("sqlite tenant");
    let service = Service::new(baas.clone());
    Some((baas, spawn(baas_axum::router(service)).await))
}

const JSON: (&str, &str) = ("Content-Type", "application/json");

#[tokio::test]
async fn tx_rollback_on_four_engines() {
    let Some((baas, addr)) = four_engines().await else {
        return;
    };
    let mut events = baas.subscribe();
    let ours = "genre_id=gte.9200&genre_id=lt.9300";
    let range = &format!("{ours}&order=genre_id");
    for t in ["pg", "my", "lite", "mongo"] {
        let base = format!("/{t}/genre");
        let rows = |q: &str| {
            let target = format!("{base}?{q}");
            async move {
                let r = get(addr, &target).await;
                assert_eq!(r.status, 200, "{t}: {}", r.text());
                r.json()
            }
        };
        // Leftovers of an interrupted run.
        request(addr, "DELETE", &format!("{base}?{ours}"), &[], b"").await;

        let rollback = ("Prefer", "return=representation, tx=rollback");
        let r = request(
            addr,
            "POST",
            &base,
            &[JSON, rollback],
            br#"[{"genre_id": 9201, "name": "Ghost"}, {"genre_id": 9202, "name": "Spirit"}]"#,
        )
        .await;
        if t == "mongo" && r.status == 501 {
            // A server without transactions cannot undo: it refuses, and
            // writes nothing.
            assert!(r.text().contains("transactions"), "{}", r.text());
            eprintln!("mongo: no transactions on this server, tx=rollback is a 501");
            assert_eq!(rows(range).await, json!([]), "{t}");
            continue;
        }
        assert_eq!(r.status, 201, "{t}: {}", r.text());
        assert_eq!(
            r.json(),
            json!([{"genre_id": 9201, "name": "Ghost"}, {"genre_id": 9202, "name": "Spirit"}]),
            "{t}"
        );
        let applied = r.header("preference-applied").unwrap_or_default();
        assert!(applied.contains("tx=rollback"), "{t}: {applied}");
        assert_eq!(rows(range).await, json!([]), "{t}: the insert was kept");

        // A committed row, then an update, an upsert and a delete rolled back.
        let r = request(
            addr,
            "POST",
            &base,
            &[JSON],
            br#"{"genre_id": 9211, "name": "Kept"}"#,
        )
        .await;
        assert_eq!(r.status, 201, "{t}: {}", r.text());
        let r = request(
            addr,
            "PATCH",
            &format!("{base}/9211"),
            &[JSON, rollback],
            br#"{"name": "Changed"}"#,
        )
        .await;
        assert_eq!(r.status, 200, "{t}: {}", r.text());
        assert_eq!(
            r.json(),
            json!([{"genre_id": 9211, "name": "Changed"}]),
            "{t}"
        );
        let r = request(
            addr,
            "PUT",
            &format!("{base}/9212"),
            &[JSON, rollback],
            br#"{"name": "Put"}"#,
        )
        .await;
        // A PUT that creates the row answers 201, as in PostgREST.
        assert_eq!(r.status, 201, "{t}: {}", r.text());
        assert_eq!(r.json(), json!([{"genre_id": 9212, "name": "Put"}]), "{t}");
        let r = request(
            addr,
            "DELETE",
            &format!("{base}?genre_id=eq.9211"),
            &[rollback],
            b"",
        )
        .await;
        assert_eq!(r.status, 200, "{t}: {}", r.text());
        assert_eq!(r.json(), json!([{"genre_id": 9211, "name": "Kept"}]), "{t}");
        assert_eq!(
            rows(range).await,
            json!([{"genre_id": 9211, "name": "Kept"}]),
            "{t}: a rolled-back write was kept"
        );
        let r = request(addr, "DELETE", &format!("{base}?{ours}"), &[], b"").await;
        assert_eq!(r.status, 204, "{t}: {}", r.text());
        assert_eq!(rows(range).await, json!([]), "{t}");
    }
    // Only the committed writes (all `return=minimal`, so without rows)
    // were published; the rolled-back ones (with rows) were not.
    let mut published = 0;
    while let Ok(e) = events.try_recv() {
        assert!(
            e.rows.is_empty(),
            "a rolled-back write was published: {e:?}"
        );
        published += 1;
    }
    assert!(published >= 2, "{published}");
}

struct Server {
    child: Child,
    addr: SocketAddr,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `baas` with no arguments in `dir`: the embedded demo.
fn start_demo(dir: &std::path::Path) -> Server {
    let mut child = Command::new(env!("CARGO_BIN_EXE_baas"))
        .current_dir(dir)
        .env("BAAS_LISTEN", "127.0.0.1:0")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start baas");
    let mut out = BufReader::new(child.stdout.take().expect("stdout"));
    let mut line = String::new();
    let addr = loop {
        line.clear();
        if out.read_line(&mut line).expect("read banner") == 0 {
            panic!("baas exited before printing its URL");
        }
        if let Some(a) = line
            .split_whitespace()
            .find_map(|w| w.strip_prefix("http://"))
            .and_then(|u| u.split('/').next())
            .and_then(|a| a.parse().ok())
        {
            break a;
        }
    };
    // Keep draining the banner so the server never blocks on a full pipe.
    std::thread::spawn(move || {
        let mut sink = String::new();
        while out.read_line(&mut sink).unwrap_or(0) > 0 {
            sink.clear();
        }
    });
    Server { child, addr }
}

#[tokio::test]
async fn the_demo_book_needs_an_existing_author() {
    let dir = std::env::temp_dir().join(format!("baas-demo-fk-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("data dir");
    let server = start_demo(&dir);
    let addr = server.addr;
    // Closed by default: writes need a signed-in user or the service role.
    let (_, service) = common::keys(&dir, "demo", &[]);
    let key = ("apikey", service.as_str());
    let r = request(
        addr,
        "POST",
        "/demo/book",
        &[JSON, key],
        br#"{"title": "Orphan", "year": 2000, "author_id": 999}"#,
    )
    .await;
    assert_eq!(r.status, 409, "{}", r.text());
    assert_eq!(r.json()["code"], "23503");
    let r = get(addr, "/demo/book?title=eq.Orphan").await;
    assert_eq!(r.json(), json!([]));
    // An author that exists is fine; one that is referenced cannot go.
    let r = request(
        addr,
        "POST",
        "/demo/book",
        &[JSON, key],
        br#"{"title": "Exhalation", "year": 2019, "author_id": 1}"#,
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text());
    let r = request(addr, "DELETE", "/demo/author/1", &[key], b"").await;
    assert_eq!(r.status, 409, "{}", r.text());
    drop(server);
    let _ = std::fs::remove_dir_all(&dir);
}

async fn drop_tables(engine: &str, url: &str, tables: &[&str]) {
    // Raw SQL is not part of the adapter trait: drop through the pools.
    for t in tables {
        let result = match engine {
            "pg" => {
                let a = mini_baas::postgres::connect(mini_baas::postgres::PgConfig::new(url))
                    .await
                    .expect("pg");
                sqlx::raw_sql(sqlx::AssertSqlSafe(format!("DROP TABLE IF EXISTS \"{t}\"")))
                    .execute(a.backend().pool())
                    .await
                    .map(|_| ())
            }
            "my" => {
                let a = mini_baas::mysql::connect(mini_baas::mysql::MySqlConfig::new(url))
                    .await
                    .expect("mysql");
                sqlx::raw_sql(sqlx::AssertSqlSafe(format!("DROP TABLE IF EXISTS `{t}`")))
                    .execute(a.backend().pool())
                    .await
                    .map(|_| ())
            }
            _ => Ok(()),
        };
        result.expect("drop table");
    }
}

/// Managed mode on every engine: a many-to-one relation to an existing
/// entity is enforced (SQL: a foreign key; MongoDB: the adapter's check), so
/// a child whose parent is missing is a 409 and no row is written.
#[tokio::test]
async fn managed_references_are_enforced_on_four_engines() {
    use mini_baas::{Entity, Field, FieldType, Generated, Relation};
    let pid = std::process::id();
    let lite = std::env::temp_dir().join(format!("baas-managed-fk-{pid}.db"));
    let _ = std::fs::remove_file(&lite);
    let mut targets = vec![("lite", format!("sqlite://{}", lite.display()))];
    for (id, var, default) in [
        (
            "pg",
            "BAAS_TEST_PG_URL",
            "postgres://baas:baas_pw@127.0.0.1:5432/chinook",
        ),
        (
            "my",
            "BAAS_TEST_MYSQL_URL",
            "mysql://baas:baas_pw@127.0.0.1:3306/Chinook",
        ),
        (
            "mongo",
            "BAAS_TEST_MONGO_URL",
            "mongodb://127.0.0.1:27017/chinook?directConnection=true",
        ),
    ] {
        let mut url = env_or(var, default);
        if id == "mongo" {
            url = url.replacen("/chinook", &format!("/baas_fk_{pid}"), 1);
        }
        match mini_baas::connect(&url).await {
            Ok(_) => targets.push((id, url)),
            Err(e) => {
                skip_or_fail(var, &e);
                return;
            }
        }
    }
    let baas =
        Arc::new(Baas::builder(Arc::new(MemoryStore::new()), Arc::new(UrlConnector)).build());
    let addr = spawn(baas_axum::router(Service::new(baas.clone()))).await;
    let (parent, child) = (format!("fk_parent_{pid}"), format!("fk_child_{pid}"));
    let id = || Field::new("id", FieldType::Int64).generated(Generated::AutoIncrement);
    for (engine, url) in &targets {
        drop_tables(engine, url, &[&child, &parent]).await;
        let tenant = format!("fk{engine}");
        baas.register_tenant(TenantConfig::new(&tenant, url, TenantMode::Managed), None)
            .await
            .expect("tenant");
        baas.create_entity(
            &tenant,
            Entity::new(&parent, vec![id(), Field::new("name", FieldType::Text)])
                .with_primary_key(["id"]),
        )
        .await
        .expect("parent");
        baas.create_entity(
            &tenant,
            Entity::new(
                &child,
                vec![id(), Field::new("parent_id", FieldType::Int64)],
            )
            .with_primary_key(["id"])
            .with_relation(Relation::many_to_one(
                "parent",
                &parent,
                &["parent_id"],
                &["id"],
            )),
        )
        .await
        .unwrap_or_else(|e| panic!("{engine}: child: {e}"));
        let r = request(
            addr,
            "POST",
            &format!("/{tenant}/{child}"),
            &[JSON],
            br#"{"parent_id": 999}"#,
        )
        .await;
        assert_eq!(r.status, 409, "{engine}: {}", r.text());
        assert_eq!(
            get(addr, &format!("/{tenant}/{child}")).await.json(),
            json!([]),
            "{engine}"
        );
        let r = request(
            addr,
            "POST",
            &format!("/{tenant}/{parent}"),
            &[JSON],
            br#"{"name": "p"}"#,
        )
        .await;
        assert_eq!(r.status, 201, "{engine}: {}", r.text());
        let r = request(
            addr,
            "POST",
            &format!("/{tenant}/{child}"),
            &[JSON],
            br#"{"parent_id": 1}"#,
        )
        .await;
        assert_eq!(r.status, 201, "{engine}: {}", r.text());
        if *engine != "mongo" {
            // A referenced parent cannot go (MongoDB checks only the child side).
            let r = request(addr, "DELETE", &format!("/{tenant}/{parent}/1"), &[], b"").await;
            assert_eq!(r.status, 409, "{engine}: {}", r.text());
        }
        drop_tables(engine, url, &[&child, &parent]).await;
    }
    let _ = std::fs::remove_file(&lite);
}
