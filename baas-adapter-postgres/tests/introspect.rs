//! Live introspection of constructs the shared suites do not cover, on a
//! scratch database `disc_pg_introspect` (created when missing).

use baas_adapter_postgres::{PgAdapter, PgConfig, connect};
use baas_core::{DatabaseAdapter, IntrospectOptions, SchemaMetadata};
use baas_testkit::skip_or_fail;

const DB: &str = "disc_pg_introspect";

use baas_testkit::pg_url as url;

/// The scratch database, created if needed; `None` (test skipped) without a server.
async fn scratch() -> Option<PgAdapter> {
    let admin = match connect(PgConfig::new(url("chinook"))).await {
        Ok(db) => db,
        Err(e) => {
            skip_or_fail("PostgreSQL (BAAS_TEST_PG_URL)", &e);
            return None;
        }
    };
    if let Err(e) = sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {DB}")))
        .execute(admin.backend().pool())
        .await
        && !e.to_string().contains("already exists")
    {
        panic!("create {DB}: {e}");
    }
    Some(
        connect(PgConfig::new(url(DB)))
            .await
            .expect("connect to the scratch database"),
    )
}

/// Run `ddl` in its own schema `schema` (dropped first) and introspect that schema.
async fn introspect(db: &PgAdapter, schema: &str, ddl: &str) -> SchemaMetadata {
    let setup = format!(
        "DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema}; SET search_path = {schema}; {ddl}"
    );
    // Test-owned constants only.
    sqlx::raw_sql(sqlx::AssertSqlSafe(setup))
        .execute(db.backend().pool())
        .await
        .expect("ddl");
    db.introspect(&IntrospectOptions {
        schemas: vec![schema.to_string()],
        ..IntrospectOptions::default()
    })
    .await
    .expect("introspect")
}

#[tokio::test]
async fn index_include_columns_are_not_key_fields() {
    let Some(db) = scratch().await else { return };
    let s = introspect(
        &db,
        "include_cols",
        "CREATE TABLE account (id int PRIMARY KEY, email text NOT NULL, name text, plan text);
         CREATE UNIQUE INDEX account_email_key ON account (email) INCLUDE (name, plan);
         CREATE INDEX account_plan_idx ON account (plan) INCLUDE (email);",
    )
    .await;
    let e = s
        .entities
        .iter()
        .find(|e| e.source.table == "account")
        .expect("account");
    let index = |name: &str| {
        e.indexes
            .iter()
            .find(|i| i.name == name)
            .unwrap_or_else(|| panic!("no index {name}: {:?}", e.indexes))
    };
    // The conflict target of an upsert is the key (email), not email + payload.
    assert_eq!(index("account_email_key").fields, ["email"]);
    assert!(index("account_email_key").unique);
    assert_eq!(index("account_plan_idx").fields, ["plan"]);
}
