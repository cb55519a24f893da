//! An update or delete whose filter needs `$lookup`s (an `exists` filter,
//! PostgREST's `owner!inner(name)=eq.a` on a write) and answers no rows
//! writes a page of `_id`s at a time (`write_in_pages`): more documents
//! than a page, `_id`s of two BSON types (a page ends at an integer,
//! strings sort after numbers), each written once.

use baas_adapter_mongo::{MongoConfig, connect};
use baas_core::ir::{Delete, Filter, Update};
use baas_core::{DatabaseAdapterExt, Entity, Field, FieldType, Relation, SchemaMetadata, Target};
use baas_testkit::skip_or_fail;
use bson::doc;

#[tokio::test]
async fn lookup_filtered_writes_go_page_by_page() {
    let url = std::env::var("BAAS_TEST_MONGO_URL")
        .unwrap_or_else(|_| "mongodb://127.0.0.1:27017/chinook?directConnection=true".into())
        .replacen(
            "/chinook",
            &format!("/baas_paged_{}", std::process::id()),
            1,
        );
    let db = match connect(MongoConfig::new(url)).await {
        Ok(db) => db,
        Err(e) => {
            skip_or_fail("MongoDB (BAAS_TEST_MONGO_URL)", &e);
            return;
        }
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
    // 2100 items of owner a (2050 integer keys, 50 string keys), 400 of b.
    let mut docs: Vec<bson::Document> = (1..=2450_i64)
        .map(|i| doc! {"_id": i, "owner_id": if i <= 2050 { 1_i64 } else { 2 }, "n": 0_i64})
        .collect();
    docs.extend((0..50).map(|i| doc! {"_id": format!("s-{i:02}"), "owner_id": 1_i64, "n": 0_i64}));
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
