//! An update or delete whose filter needs `$lookup`s (an `exists` filter,
//! PostgREST's `owner!inner(name)=eq.a` on a write) and answers no rows
//! writes a page of `_id`s at a time (`write_in_pages`): more documents
//! than a page, `_id`s of two BSON types (strings sort after numbers; a
//! page ends at one that starts with `$`), each written once;
//! a filter that reads the collection it writes sees it as it was before
//! the write, as PostgreSQL's statement does.

use baas_adapter_mongo::{MongoAdapter, MongoConfig, connect};
use baas_core::ir::{Delete, Filter, Update};
use baas_core::{DatabaseAdapterExt, Entity, Field, FieldType, Relation, SchemaMetadata, Target};
use baas_testkit::skip_or_fail;
use bson::doc;

/// One of these tests at a time: the CI's MongoDB-wire server answers a
/// write conflict between two transactions (of two databases: its storage
/// is shared) as an `InternalError` at commit, with no
/// `TransientTransactionError` label a driver would retry on, where
/// MongoDB answers a retryable `WriteConflict`.
static ONE_AT_A_TIME: std::sync::LazyLock<tokio::sync::Mutex<()>> =
    std::sync::LazyLock::new(|| tokio::sync::Mutex::new(()));

/// The test server, in a database of this test's own (`{prefix}{pid}`,
/// dropped at the end); `None` where it is unreachable outside CI.
async fn fresh_database(prefix: &str) -> Option<MongoAdapter> {
    let url = std::env::var("BAAS_TEST_MONGO_URL")
        .unwrap_or_else(|_| "mongodb://127.0.0.1:27017/chinook?directConnection=true".into())
        .replacen("/chinook", &format!("/{prefix}{}", std::process::id()), 1);
    match connect(MongoConfig::new(url)).await {
        Ok(db) => Some(db),
        Err(e) => {
            skip_or_fail("MongoDB (BAAS_TEST_MONGO_URL)", &e);
            None
        }
    }
}

#[tokio::test]
async fn lookup_filtered_writes_go_page_by_page() {
    let _one = ONE_AT_A_TIME.lock().await;
    let Some(db) = fresh_database("baas_paged_").await else {
        return;
    };
    let owners = db.database().collection::<bson::Document>("owner");
    let items = db.database().collection::<bson::Document>("item");
    owners
        .insert_many([
            doc! {"_id": 1_i64, "name": "a"},
            doc! {"_id": 2_i64, "name": "b"},
        ])
        .await
        .expect("owners");
    // 2100 items of owner a: integer keys 1..=1999, then the text keys
    // `$x` (which `$expr` would read as a field path, were it not a
    // literal: it ends the second page, numbers sorting before strings
    // and `$` before letters) and s-00..s-99; 400 of owner b, integer
    // keys 2000..=2399 (read between a's, matched by no page).
    let mut docs: Vec<bson::Document> = (1..=2399_i64)
        .map(|i| doc! {"_id": i, "owner_id": if i <= 1999 { 1_i64 } else { 2 }, "n": 0_i64})
        .collect();
    docs.push(doc! {"_id": "$x", "owner_id": 1_i64, "n": 0_i64});
    docs.extend((0..100).map(|i| doc! {"_id": format!("s-{i:02}"), "owner_id": 1_i64, "n": 0_i64}));
    items.insert_many(docs).await.expect("items");
    let schema = SchemaMetadata::new(vec![
        Entity::new(
            "owner",
            vec![
                Field::new("id", FieldType::Int64),
                Field::new("name", FieldType::Text),
            ],
        )
        .with_primary_key(["id"]),
        Entity::new(
            "item",
            vec![
                Field::new("id", FieldType::Int64),
                Field::new("owner_id", FieldType::Int64),
                Field::new("n", FieldType::Int64),
            ],
        )
        .with_primary_key(["id"])
        .with_relation(Relation::many_to_one(
            "owner",
            "owner",
            &["owner_id"],
            &["id"],
        )),
    ]);
    let t = Target::new(&schema, "item").unwrap();
    let of_a = || Filter::exists("owner", Some(Filter::eq("name", "a")));
    let update = Update {
        entity: "item".into(),
        filter: of_a(),
        set: [("n".to_string(), serde_json::json!(1))]
            .into_iter()
            .collect(),
        returning: None,
        max_rows: None,
    };
    let w = db.update(t, &update).await.expect("update");
    assert_eq!(w.affected, 2100);
    // Each written once: n is 1 on every item of a, 0 on b's.
    assert_eq!(
        items.count_documents(doc! {"n": 1_i64}).await.unwrap(),
        2100
    );
    assert_eq!(
        items
            .count_documents(doc! {"n": 1_i64, "owner_id": 2_i64})
            .await
            .unwrap(),
        0
    );
    let delete = Delete {
        entity: "item".into(),
        filter: of_a(),
        returning: None,
        max_rows: None,
    };
    let w = db.delete(t, &delete).await.expect("delete");
    assert_eq!(w.affected, 2100);
    assert_eq!(db.count(t, None).await.expect("count"), 400);
    db.database().drop().await.expect("drop the test database");
}

/// `DELETE /emp?subordinates=not.is.null`-like: the leaves (employees
/// nobody reports to) are deleted, and only they, though deleting a page
/// of them makes their managers leaves for the next page.
#[tokio::test]
async fn a_filter_that_reads_its_own_collection_sees_it_as_before() {
    let _one = ONE_AT_A_TIME.lock().await;
    let Some(db) = fresh_database("baas_paged_self_").await else {
        return;
    };
    let emps = db.database().collection::<bson::Document>("emp");
    // 1001 leaves (ids 1..=1001), each reporting to its own manager (ids
    // 3001..=4001), who reports to nobody.
    let docs: Vec<bson::Document> = (1..=1001_i64)
        .flat_map(|i| {
            [
                doc! {"_id": i, "manager_id": 3000 + i},
                doc! {"_id": 3000 + i, "manager_id": bson::Bson::Null},
            ]
        })
        .collect();
    emps.insert_many(docs).await.expect("employees");
    let schema = SchemaMetadata::new(vec![
        Entity::new(
            "emp",
            vec![
                Field::new("id", FieldType::Int64),
                Field::new("manager_id", FieldType::Int64).nullable(),
            ],
        )
        .with_primary_key(["id"])
        .with_relation(Relation::one_to_many(
            "subordinates",
            "emp",
            &["id"],
            &["manager_id"],
        )),
    ]);
    let t = Target::new(&schema, "emp").unwrap();
    let leaves = Delete {
        entity: "emp".into(),
        filter: Filter::not(Filter::exists("subordinates", None)),
        returning: None,
        max_rows: None,
    };
    let w = db.delete(t, &leaves).await.expect("delete");
    assert_eq!(w.affected, 1001);
    assert_eq!(
        emps.count_documents(doc! {"_id": {"$gt": 3000_i64}})
            .await
            .unwrap(),
        1001,
        "the managers stay"
    );
    db.database().drop().await.expect("drop the test database");
}
