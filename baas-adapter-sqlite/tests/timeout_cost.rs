//! What the statement timeout costs a read on SQLite: arming the progress
//! handler whenever a connection leaves the pool (a round trip to the
//! connection's worker thread, in place of sqlx's ping). A measurement,
//! not a check (`BENCHMARKS.md`, "The statement timeout on SQLite"):
//!
//! ```sh
//! cargo test --release -p baas-adapter-sqlite --test timeout_cost -- --ignored --nocapture
//! ```

use std::time::{Duration, Instant};

use baas_adapter_sqlite::{SqliteConfig, connect};
use baas_sql::{OutColumn, SqlBackend, Statement};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a measurement: run with --release --ignored --nocapture"]
async fn read_by_key_with_and_without_the_timeout() {
    let path = std::env::temp_dir().join(format!("baas-timeout-cost-{}.db", std::process::id()));
    let _ = std::fs::remove_file(&path);
    let url = format!("sqlite://{}", path.display());
    let db = connect(SqliteConfig::new(&url)).await.expect("sqlite");
    db.backend()
        .execute_script(
            "CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT);
             INSERT INTO t VALUES (1, 'a'), (2, 'b');",
        )
        .await
        .expect("table");
    let read = Statement {
        sql: "SELECT id, name FROM t WHERE id = 1".into(),
        params: vec![],
    };
    let columns = [OutColumn {
        key: "id".into(),
        ty: baas_core::FieldType::Int64,
    }];
    const N: u32 = 20_000;
    let mut per_read: [Vec<Duration>; 2] = [Vec::new(), Vec::new()];
    // Interleaved rounds, so that drift on a shared machine hits both.
    for _ in 0..7 {
        for (i, timeout) in [None, Some(Duration::from_secs(8))].into_iter().enumerate() {
            let mut cfg = SqliteConfig::new(&url);
            cfg.statement_timeout = timeout;
            let db = connect(cfg).await.expect("sqlite");
            for _ in 0..500 {
                db.backend().fetch(&read, &columns).await.expect("warm-up");
            }
            let start = Instant::now();
            for _ in 0..N {
                db.backend().fetch(&read, &columns).await.expect("read");
            }
            per_read[i].push(start.elapsed() / N);
            db.backend().pool().close().await;
        }
    }
    let median = |v: &mut Vec<Duration>| {
        v.sort();
        v[v.len() / 2]
    };
    let without = median(&mut per_read[0]);
    let with = median(&mut per_read[1]);
    println!(
        "read by key on SQLite, median of 7 rounds of {N}: without the timeout {without:?}, with it {with:?} ({:.2}x)",
        with.as_secs_f64() / without.as_secs_f64()
    );
    let _ = std::fs::remove_file(&path);
}
