//! Managed-mode DDL against a real PostgreSQL: the shared round trip
//! ([`baas_testkit::ddl::round_trip`]) over every field type PostgreSQL
//! supports, with a named enum type and arrays. Tables are named `ddl_test_*`.

use baas_adapter_postgres::{PgConfig, connect};
use baas_core::{Field, FieldType};
use baas_sql::Dialect;
use baas_sql::ddl::introspected;
use baas_testkit::ddl::{self, Case, TABLE};
use baas_testkit::skip_or_fail;
use serde_json::json;

const MOOD: &str = "ddl_test_mood";

fn url() -> String {
    std::env::var("BAAS_TEST_PG_URL")
        .unwrap_or_else(|_| "postgres://baas:baas_pw@127.0.0.1:5432/chinook".into())
}

fn case() -> Case {
    let array = |items| FieldType::Array {
        items: Box::new(items),
    };
    let mut case = Case::every_type(Some(MOOD));
    case.entity.fields.extend([
        Field::new("tags", array(FieldType::Text)).nullable(),
        Field::new("scores", array(FieldType::Int32)).nullable(),
    ]);
    case.row.insert("tags".into(), json!(["a", "b,c"]));
    case.row.insert("scores".into(), json!([3, 1]));
    case.introspect.schemas = vec!["public".into()];
    case.clean_up = format!("DROP TABLE IF EXISTS {TABLE}; DROP TYPE IF EXISTS {MOOD};");
    case.drop = format!("DROP TABLE {TABLE}; DROP TYPE {MOOD};");
    case
}

#[tokio::test]
async fn postgres_managed_ddl_round_trip() {
    let db = match connect(PgConfig::new(url())).await {
        Ok(db) => db,
        Err(e) => {
            skip_or_fail("PostgreSQL (BAAS_TEST_PG_URL)", &e);
            return;
        }
    };
    let pool = db.backend().pool();
    let raw_sql = async |sql: String| {
        let done = sqlx::raw_sql(sqlx::AssertSqlSafe(sql)).execute(pool).await;
        done.map(|_| ()).map_err(|e| e.to_string())
    };
    let introspected = |e: &_| introspected(Dialect::Postgres, e);
    ddl::round_trip(&db, case(), introspected, raw_sql).await;
}
