//! `MongoConfig::statement_timeout`: the server stops an aggregation past
//! it (`maxTimeMS`, error 50) and the read fails with `Error::Timeout`,
//! while the same read without the bound answers. Against the Mongo-wire
//! server loaded with Chinook (`.ci/mongo_fixtures.sh`), at the adapter,
//! below the engine's own bound on a whole read (which would cut the read
//! first over HTTP).

use std::time::Duration;

use baas_adapter_mongo::{MongoConfig, connect};
use baas_core::ir::{Filter, OrderBy, Query};
use baas_core::validate::{Limits, Validator};
use baas_core::{DatabaseAdapter, Error, Target};
use baas_testkit::{Naming, chinook_metadata, skip_or_fail};

#[tokio::test]
async fn an_aggregation_past_max_time_is_a_timeout() {
    let url = std::env::var("BAAS_TEST_MONGO_URL")
        .unwrap_or_else(|_| "mongodb://127.0.0.1:27017/chinook?directConnection=true".into());
    let mut tight = MongoConfig::new(&url);
    tight.statement_timeout = Some(Duration::from_millis(1));
    let (tight, open) = match (connect(tight).await, connect(MongoConfig::new(&url)).await) {
        (Ok(t), Ok(o)) => (t, o),
        (Err(e), _) | (_, Err(e)) => {
            skip_or_fail("MongoDB (BAAS_TEST_MONGO_URL)", &e);
            return;
        }
    };
    let schema = chinook_metadata(Naming::PascalCase);
    let limits = Limits::default();
    // Every track matched by a pattern and sorted: the whole collection.
    let q = Query::new("track")
        .fields(["name"])
        .filter(Filter::Regex {
            field: "name".into(),
            path: Vec::new(),
            pattern: "^.*(a|e).*(i|o).*$".into(),
            case_insensitive: true,
        })
        .order_by(OrderBy::desc("name"))
        .limit(5);
    let target = Target::new(&schema, "track").expect("track");
    let checked = Validator::new(target, tight.capabilities(), &limits)
        .query(q.clone())
        .expect("valid");
    match baas_core::read::find(&tight, &checked).await {
        Err(Error::Timeout { message }) => assert!(message.contains("maxTimeMS"), "{message}"),
        other => panic!("expected a timeout, got {other:?}"),
    }
    let checked = Validator::new(target, open.capabilities(), &limits)
        .query(q)
        .expect("valid");
    let rows = baas_core::read::find(&open, &checked).await.expect("read");
    assert_eq!(rows.rows.len(), 5);
}
