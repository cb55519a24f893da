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

/// Updates and deletes by filter alone go as `update` and `delete`
/// commands carrying `maxTimeMS` (the driver's helpers send none): a
/// filter that scans the whole collection past the bound is a timeout too.
/// The pattern matches no track, so nothing is written either way.
#[tokio::test]
async fn a_write_by_filter_past_max_time_is_a_timeout() {
    use baas_core::ir::{Delete, Update};
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
    let target = Target::new(&schema, "track").expect("track");
    let filter = Filter::Regex {
        field: "name".into(),
        path: Vec::new(),
        pattern: "^.*(a|e).*(i|o).*(u|y).*never-a-title$".into(),
        case_insensitive: true,
    };
    let mut set = baas_core::ir::Record::new();
    set.insert("composer".into(), serde_json::json!("nobody"));
    let update = Update {
        entity: "track".into(),
        filter: filter.clone(),
        set,
        returning: None,
        max_rows: None,
    };
    let delete = Delete {
        entity: "track".into(),
        filter,
        returning: None,
        max_rows: None,
    };
    for adapter in [&tight, &open] {
        let v = Validator::new(target, adapter.capabilities(), &limits);
        let updated = adapter
            .update_rows(&v.update(update.clone()).expect("valid"))
            .await;
        let deleted = adapter
            .delete_rows(&v.delete(delete.clone()).expect("valid"))
            .await;
        if std::ptr::eq(adapter, &tight) {
            for r in [updated, deleted] {
                match r {
                    Err(Error::Timeout { message }) => {
                        assert!(message.contains("maxTimeMS"), "{message}")
                    }
                    other => panic!("expected a timeout, got {other:?}"),
                }
            }
        } else {
            assert_eq!(updated.expect("update").affected, 0);
            assert_eq!(deleted.expect("delete").affected, 0);
        }
    }
}
