//! Managed-mode DDL against a real MySQL / MariaDB: the shared round trip
//! ([`baas_testkit::ddl::round_trip`]) over every field type MySQL
//! supports (no arrays, no named enum types). Tables are named `ddl_test_*`.

use baas_adapter_mysql::{MySqlConfig, connect};
use baas_sql::Dialect;
use baas_sql::ddl::introspected;
use baas_testkit::ddl::{self, Case};
use baas_testkit::skip_or_fail;

fn url() -> String {
    std::env::var("BAAS_TEST_MYSQL_URL")
        .unwrap_or_else(|_| "mysql://baas:baas_pw@127.0.0.1:3306/Chinook".into())
}

#[tokio::test]
async fn mysql_managed_ddl_round_trip() {
    let db = match connect(MySqlConfig::new(url())).await {
        Ok(db) => db,
        Err(e) => {
            skip_or_fail("MariaDB/MySQL (BAAS_TEST_MYSQL_URL)", &e);
            return;
        }
    };
    let pool = db.backend().pool();
    let raw_sql = async |sql: String| {
        let done = sqlx::raw_sql(sqlx::AssertSqlSafe(sql)).execute(pool).await;
        done.map(|_| ()).map_err(|e| e.to_string())
    };
    let introspected = |e: &_| introspected(Dialect::Mysql, e);
    ddl::round_trip(&db, Case::every_type(None), introspected, raw_sql).await;
}
