//! The shared conformance suite against a real PostgreSQL loaded with Chinook
//! (`.ci/fixtures.sh`). Outside CI an unreachable server skips with a reason.

use baas_adapter_postgres::{PgConfig, connect};
use baas_testkit::{Naming, conformance_schema, run_conformance, skip_or_fail};

const GADGET: &str = r#"
DROP TABLE IF EXISTS gadget;
CREATE TABLE gadget (
    id BIGSERIAL PRIMARY KEY,
    sku VARCHAR(40) NOT NULL CONSTRAINT gadget_sku_key UNIQUE,
    name TEXT, price NUMERIC(12,2), qty INTEGER, big BIGINT, ratio DOUBLE PRECISION,
    weight REAL, active BOOLEAN, born DATE, seen_at TIMESTAMP, meta JSONB, data BYTEA, uid UUID, tags TEXT[]
);
"#;

fn url() -> String {
    std::env::var("BAAS_TEST_PG_URL")
        .unwrap_or_else(|_| "postgres://baas:baas_pw@127.0.0.1:5432/chinook".into())
}

#[tokio::test]
async fn conformance_postgres() {
    let adapter = match connect(PgConfig::new(url())).await {
        Ok(a) => a,
        Err(e) => {
            skip_or_fail("PostgreSQL (BAAS_TEST_PG_URL)", &e);
            return;
        }
    };
    let pool = adapter.backend().pool();
    if let Err(e) = sqlx::query("SELECT 1 FROM artist LIMIT 1")
        .execute(pool)
        .await
    {
        skip_or_fail(
            "the Chinook database in PostgreSQL (run .ci/fixtures.sh)",
            &e,
        );
        return;
    }
    sqlx::raw_sql(GADGET)
        .execute(pool)
        .await
        .expect("create gadget");
    let schema = conformance_schema(Naming::SnakeCase, true);
    run_conformance(&adapter, &schema)
        .await
        .assert_ok_except(&[]);
}
