//! The shared conformance suite against a real MongoDB-wire server loaded
//! with Chinook (`.ci/mongo.sh`, `.ci/mongo_fixtures.sh`). Outside CI an
//! unreachable server skips with a reason.

use baas_adapter_mongo::{MongoConfig, connect};
use baas_core::{DatabaseAdapter, SchemaChange};
use baas_testkit::{Naming, conformance_schema, run_conformance, skip_or_fail};

fn url() -> String {
    std::env::var("BAAS_TEST_MONGO_URL")
        .unwrap_or_else(|_| "mongodb://127.0.0.1:27017/chinook?directConnection=true".into())
}

#[tokio::test]
async fn conformance_mongo() {
    let adapter = match connect(MongoConfig::new(url())).await {
        Ok(a) => a,
        Err(e) => {
            skip_or_fail("MongoDB (BAAS_TEST_MONGO_URL)", &e);
            return;
        }
    };
    let db = adapter.database();
    match db
        .collection::<bson::Document>("Artist")
        .estimated_document_count()
        .await
    {
        Ok(n) if n > 0 => {}
        other => {
            skip_or_fail(
                "the Chinook database in MongoDB (run .ci/mongo_fixtures.sh)",
                &format!("{other:?}"),
            );
            return;
        }
    }
    // The scratch collection, managed: validator and unique index from metadata.
    let schema = conformance_schema(Naming::PascalCase, true);
    let gadget = schema.entity("gadget").expect("gadget").clone();
    db.collection::<bson::Document>("gadget")
        .drop()
        .await
        .expect("drop gadget");
    adapter
        .apply_ddl(&SchemaChange::CreateEntity {
            entity: gadget,
            references: Vec::new(),
        })
        .await
        .expect("create gadget");
    println!("transactions: {}", adapter.capabilities().transactions);
    run_conformance(&adapter, &schema)
        .await
        .assert_ok_except(&["text_search"]);
}
