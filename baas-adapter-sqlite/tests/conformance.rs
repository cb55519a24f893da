//! The shared conformance suite against SQLite (bundled, so it always runs):
//! a fresh database file loaded from `shared/fixtures/chinook/Chinook_Sqlite.sql`.

use baas_adapter_sqlite::{SqliteConfig, connect};
use baas_testkit::{Naming, conformance_schema, fixtures_dir, run_conformance};

const GADGET: &str = r#"
DROP TABLE IF EXISTS gadget;
CREATE TABLE gadget (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    sku TEXT NOT NULL CONSTRAINT gadget_sku_key UNIQUE,
    name TEXT, price NUMERIC(12,2), qty INTEGER, big INTEGER, ratio REAL, weight REAL,
    active BOOLEAN, born DATE, seen_at DATETIME, meta TEXT, data BLOB, uid TEXT
);
"#;

#[tokio::test]
async fn conformance_sqlite() {
    let script = fixtures_dir().join("chinook/Chinook_Sqlite.sql");
    let sql = std::fs::read_to_string(&script)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", script.display()));
    let path = std::env::temp_dir().join(format!("baas-conformance-{}.db", std::process::id()));
    let _ = std::fs::remove_file(&path);
    let adapter = connect(SqliteConfig::new(format!("sqlite://{}", path.display())))
        .await
        .expect("open sqlite");
    let backend = adapter.backend();
    backend.execute_script(&sql).await.expect("load Chinook");
    backend.execute_script(GADGET).await.expect("create gadget");
    let schema = conformance_schema(Naming::PascalCase, false);
    let report = run_conformance(&adapter, &schema).await;
    backend.pool().close().await;
    let _ = std::fs::remove_file(&path);
    report.assert_ok_except(&["text_search", "array_filters"]);
}
