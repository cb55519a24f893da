//! The shared conformance suite against a real MariaDB/MySQL loaded with
//! Chinook (`.ci/fixtures.sh`). Outside CI an unreachable server skips with a reason.

use baas_adapter_mysql::{MySqlConfig, connect};
use baas_testkit::{Naming, conformance_schema, run_conformance, skip_or_fail};

const GADGET: &str = r#"
DROP TABLE IF EXISTS gadget;
CREATE TABLE gadget (
    id BIGINT AUTO_INCREMENT PRIMARY KEY,
    sku VARCHAR(40) NOT NULL, name LONGTEXT, price DECIMAL(12,2), qty INT, big BIGINT, ratio DOUBLE, weight FLOAT,
    active TINYINT(1), born DATE, seen_at DATETIME(6), meta JSON, data LONGBLOB, uid CHAR(36),
    CONSTRAINT gadget_sku_key UNIQUE (sku),
    FULLTEXT KEY gadget_name_fts (name)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
"#;

fn url() -> String {
    std::env::var("BAAS_TEST_MYSQL_URL")
        .unwrap_or_else(|_| "mysql://baas:baas_pw@127.0.0.1:3306/Chinook".into())
}

#[tokio::test]
async fn conformance_mysql() {
    let adapter = match connect(MySqlConfig::new(url())).await {
        Ok(a) => a,
        Err(e) => {
            skip_or_fail("MariaDB/MySQL (BAAS_TEST_MYSQL_URL)", &e);
            return;
        }
    };
    let pool = adapter.backend().pool();
    if let Err(e) = sqlx::query("SELECT 1 FROM Artist LIMIT 1")
        .execute(pool)
        .await
    {
        skip_or_fail("the Chinook database in MariaDB (run .ci/fixtures.sh)", &e);
        return;
    }
    sqlx::raw_sql(GADGET)
        .execute(pool)
        .await
        .expect("create gadget");
    let schema = conformance_schema(Naming::PascalCase, false);
    run_conformance(&adapter, &schema)
        .await
        .assert_ok_except(&["array_filters"]);
}
