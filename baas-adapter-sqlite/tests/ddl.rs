//! Managed-mode DDL against SQLite (bundled, always runs): the shared round
//! trip ([`baas_testkit::ddl::round_trip`]) over every field type SQLite
//! supports (no arrays; enums are TEXT with a CHECK). Tables are named
//! `ddl_test_*`.

use baas_adapter_sqlite::{SqliteConfig, connect};
use baas_sql::Dialect;
use baas_sql::ddl::introspected;
use baas_testkit::ddl::{self, Case};

#[tokio::test]
async fn sqlite_managed_ddl_round_trip() {
    let path = std::env::temp_dir().join(format!("baas-ddl-{}.db", std::process::id()));
    let _ = std::fs::remove_file(&path);
    let db = connect(SqliteConfig::new(format!("sqlite://{}", path.display())))
        .await
        .expect("open sqlite");
    let pool = db.backend().pool();
    let raw_sql = async |sql: String| {
        let done = sqlx::raw_sql(sqlx::AssertSqlSafe(sql)).execute(pool).await;
        done.map(|_| ()).map_err(|e| e.to_string())
    };
    let mut case = Case::every_type(None);
    case.enums_as_text = true;
    let introspected = |e: &_| introspected(Dialect::Sqlite, e);
    ddl::round_trip(&db, case, introspected, raw_sql).await;

    pool.close().await;
    let _ = std::fs::remove_file(&path);
}
