//! The tenant's statement timeout (`limits.statement_timeout_ms`) on the
//! four engines, through the real `baas` binary: a statement slower than
//! it is cancelled by the database (PostgreSQL's `statement_timeout`,
//! MariaDB's `max_statement_time`, SQLite's progress handler, MongoDB's
//! `maxTimeMS`) and answered 504 `57014`, well before it would have ended;
//! a cancelled write leaves nothing; the connection it ran on serves the
//! next request; a read whose statements are each within the bound but
//! together past it is cancelled too; a tenant without the bound still
//! answers the same read.
//!
//! A slow read meets two bounds at once (the database's, the engine's on
//! the whole read): the writes, which only the database bounds, show the
//! database's cancellation here.
//!
//! The slow statements are the `baas_slow` fixture's (`.ci/sql/slow_pg.sql`,
//! `.ci/sql/slow_mysql.sql`: a view and an insert trigger that sleep 20 s),
//! an SQLite file made here (a recursive count that takes about a minute),
//! and, on MongoDB, a pattern match over every track under a 1 ms bound.

mod common;
mod server;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use baas_testkit::{Naming, chinook_metadata, skip_or_fail, with_database};
use common::{Resp, get, mongo_url, my_url, pg_url, request};
use serde_json::{Value, json};

const ADMIN: &str = "timeouts-admin-key-0123456789";
/// The statement timeout of the SQL tenants.
const BOUND_MS: u64 = 300;
/// Longest a cancelled request may take (the bound, the round trips, a
/// busy CI machine); the statements themselves take 20 s or more.
const ANSWERED_WITHIN: Duration = Duration::from_secs(5);

async fn admin(addr: SocketAddr, method: &str, path: &str, body: &Value) -> Resp {
    common::admin_json(addr, ADMIN, method, path, body).await
}

async fn insert(addr: SocketAddr, path: &str, body: &Value) -> Resp {
    request(
        addr,
        "POST",
        path,
        &[("content-type", "application/json")],
        body.to_string().as_bytes(),
    )
    .await
}

/// A fresh SQLite file with the same shape as the `baas_slow` fixture: a
/// fast table, a slow view (a recursive count: SQLite has no sleep) and a
/// table whose insert trigger reads the view.
async fn sqlite_slow_at(path: &std::path::Path) -> String {
    let _ = std::fs::remove_file(path);
    let url = format!("sqlite://{}", path.display());
    let db = mini_baas::sqlite::connect(mini_baas::sqlite::SqliteConfig::new(&url))
        .await
        .expect("sqlite");
    db.backend()
        .execute_script(
            "CREATE TABLE fast (id INTEGER PRIMARY KEY, name TEXT NOT NULL);
             INSERT INTO fast VALUES (1, 'one'), (2, 'two');
             CREATE VIEW slow AS WITH RECURSIVE c(n) AS
               (SELECT 1 UNION ALL SELECT n + 1 FROM c WHERE n < 300000000)
               SELECT count(*) AS n FROM c;
             CREATE TABLE slow_write (id INTEGER PRIMARY KEY, name TEXT NOT NULL);
             CREATE TRIGGER slow_write_spin BEFORE INSERT ON slow_write
               BEGIN SELECT n FROM slow; END;",
        )
        .await
        .expect("the slow SQLite fixture");
    db.backend().pool().close().await;
    url
}

/// The answer of a cancelled statement, and how soon it came.
fn assert_cancelled(what: &str, r: &Resp, took: Duration) {
    assert_eq!(r.status, 504, "{what}: {}", r.text());
    let v = r.json();
    assert_eq!(v["code"], "57014", "{what}: {v}");
    assert_eq!(
        v["message"], "canceling statement due to statement timeout",
        "{what}: {v}"
    );
    assert!(
        v["hint"]
            .as_str()
            .is_some_and(|h| h.contains("statement_timeout_ms")),
        "{what}: {v}"
    );
    assert!(
        took < ANSWERED_WITHIN,
        "{what}: answered after {took:?}, the statement was not cancelled"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_statements_are_cancelled_on_four_engines() {
    let dir = server::temp_dir("timeouts");
    let lite = sqlite_slow_at(&dir.join("slow.db")).await;
    let data = dir.join("data");
    let srv = server::start(
        &dir,
        &["--db", &lite, "--tenant", "boot", "--open"],
        &[
            ("BAAS_ADMIN_KEY", ADMIN),
            ("BAAS_DATA_DIR", data.to_str().unwrap()),
        ],
    );
    let addr = srv.addr;

    // A bound the tenant configuration refuses: more than an hour.
    let r = admin(
        addr,
        "POST",
        "/_admin/tenants",
        &json!({"id": "nope", "url": lite, "mode": "introspected",
                "limits": {"statement_timeout_ms": 3_600_001}}),
    )
    .await;
    assert_eq!(r.status, 422, "{}", r.text());
    assert!(
        r.text().contains("/limits/statement_timeout_ms"),
        "{}",
        r.text()
    );

    let limits = json!({"statement_timeout_ms": BOUND_MS});
    let sql = [
        ("pg", with_database(&pg_url(), "baas_slow")),
        ("my", with_database(&my_url(), "baas_slow")),
        ("lite", lite.clone()),
    ];
    let mut served = Vec::new();
    for (id, url) in &sql {
        let body = json!({"id": id, "url": url, "mode": "introspected", "limits": limits});
        let r = admin(addr, "POST", "/_admin/tenants", &body).await;
        if r.status == 201 {
            served.push(*id);
        } else if !skip_or_fail(&format!("the {id} tenant of baas_slow"), &r.text()) {
            unreachable!();
        }
    }
    assert!(served.contains(&"lite"), "the SQLite tenant always runs");

    for id in &served {
        // The connection pool is warm and the fast table answers.
        let r = get(addr, &format!("/{id}/fast?order=id")).await;
        assert_eq!(r.status, 200, "{id}: {}", r.text());
        assert_eq!(
            r.json(),
            json!([{"id": 1, "name": "one"}, {"id": 2, "name": "two"}])
        );

        let t = Instant::now();
        let r = get(addr, &format!("/{id}/slow")).await;
        assert_cancelled(&format!("{id}: a slow read"), &r, t.elapsed());
        println!("timeout {id:<4} read cancelled after {:?}", t.elapsed());

        let t = Instant::now();
        let r = insert(
            addr,
            &format!("/{id}/slow_write"),
            &json!({"id": 7, "name": "x"}),
        )
        .await;
        assert_cancelled(&format!("{id}: a slow write"), &r, t.elapsed());
        println!("timeout {id:<4} write cancelled after {:?}", t.elapsed());

        // The same write returning its row runs in a transaction: SQLite
        // rolls the transaction back itself when it interrupts the write.
        let t = Instant::now();
        let r = request(
            addr,
            "POST",
            &format!("/{id}/slow_write"),
            &[
                ("content-type", "application/json"),
                ("prefer", "return=representation"),
            ],
            json!({"id": 8, "name": "y"}).to_string().as_bytes(),
        )
        .await;
        assert_cancelled(
            &format!("{id}: a slow write in a transaction"),
            &r,
            t.elapsed(),
        );

        // Nothing of the cancelled writes was kept, and the connections
        // they and the read ran on serve the next requests (SQLite's
        // progress handler is armed again for each): writes on them are
        // committed, as many as the pool has connections and more.
        // A rolled-back write first (`tx=rollback`): on a connection whose
        // transaction SQLite ended while the driver still counted it, that
        // rollback would leave a transaction open, and the writes after it
        // uncommitted.
        for n in 3..11 {
            let row = json!({"id": n, "name": "new"}).to_string();
            let r = request(
                addr,
                "POST",
                &format!("/{id}/fast"),
                &[
                    ("content-type", "application/json"),
                    ("prefer", "tx=rollback"),
                ],
                row.as_bytes(),
            )
            .await;
            assert_eq!(r.status, 201, "{id}: {}", r.text());
            let r = insert(
                addr,
                &format!("/{id}/fast"),
                &json!({"id": n, "name": "new"}),
            )
            .await;
            assert_eq!(r.status, 201, "{id}: {}", r.text());
            let r = get(addr, &format!("/{id}/slow_write?select=id")).await;
            assert_eq!((r.status, r.json()), (200, json!([])), "{id}: {}", r.text());
        }
        let r = get(addr, &format!("/{id}/fast?select=id&id=gt.2&order=id")).await;
        let ids: Vec<Value> = (3..11).map(|n| json!({"id": n})).collect();
        assert_eq!(
            (r.status, r.json()),
            (200, json!(ids)),
            "{id}: {}",
            r.text()
        );
        let r = request(addr, "DELETE", &format!("/{id}/fast?id=gt.2"), &[], b"").await;
        assert_eq!(r.status, 204, "{id}: {}", r.text());
    }

    // A read's statements together: each within the bound (200 ms), the
    // count and the rows of `Prefer: count=exact` past it (400 ms).
    for id in served.iter().filter(|id| **id != "lite") {
        let r = get(addr, &format!("/{id}/nap")).await;
        assert_eq!((r.status, r.json()), (200, json!([{"n": 1}])), "{id}");
        let t = Instant::now();
        let r = request(
            addr,
            "GET",
            &format!("/{id}/nap"),
            &[("prefer", "count=exact")],
            b"",
        )
        .await;
        assert_cancelled(
            &format!("{id}: two statements past the bound together"),
            &r,
            t.elapsed(),
        );
        println!(
            "timeout {id:<4} counted read cancelled after {:?}",
            t.elapsed()
        );
    }

    // MongoDB: a regular-expression scan of every track under a 1 ms
    // bound, beside the same read without one. Over HTTP the engine's
    // bound on the whole read cuts it first; `maxTimeMS` alone is checked
    // at the adapter (baas-adapter-mongo/tests/max_time.rs).
    let mongo = [("mongo_tight", 1u64), ("mongo", 8_000)];
    let mut mongo_served = 0;
    for (id, ms) in mongo {
        let body = json!({
            "id": id, "url": mongo_url(), "mode": "introspected",
            "limits": {"statement_timeout_ms": ms},
            "schema": chinook_metadata(Naming::PascalCase),
        });
        let r = admin(addr, "POST", "/_admin/tenants", &body).await;
        if r.status == 201 {
            mongo_served += 1;
        } else if !skip_or_fail(&format!("the {id} tenant"), &r.text()) {
            unreachable!();
        }
    }
    if mongo_served == 2 {
        // Every track is matched and sorted: the whole collection is read.
        let read =
            "/track?name=imatch.%5E.*(a%7Ce).*(i%7Co).*%24&select=name&order=name.desc&limit=5";
        let t = Instant::now();
        let r = get(addr, &format!("/mongo_tight{read}")).await;
        assert_cancelled("mongo: a scan past the bound", &r, t.elapsed());
        let r = get(addr, &format!("/mongo{read}")).await;
        assert_eq!(r.status, 200, "{}", r.text());
        assert_eq!(r.json().as_array().map(Vec::len), Some(5), "{}", r.text());
    }
}
