//! Quick start: an entity described as metadata, served by the generic SQLite
//! adapter — insert, filter, upsert, aggregate — printing the JSON and the SQL.
//!
//! ```text
//! cargo run -p mini-baas --example quickstart
//! ```

use mini_baas::ir::{
    Aggregate, AggregateExpr, AggregateFn, CompareOp, Filter, Insert, OnConflict, OrderBy, Query,
    Upsert,
};
use mini_baas::sqlite::{SqliteConfig, connect};
use mini_baas::{DatabaseAdapterExt, SchemaMetadata, Target};
use serde_json::json;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // 1. A database the backend has never seen before.
    let db = connect(SqliteConfig::memory()).await?;
    db.backend()
        .execute_script(
            "CREATE TABLE book (id INTEGER PRIMARY KEY AUTOINCREMENT, isbn TEXT NOT NULL UNIQUE,
             title TEXT NOT NULL, price NUMERIC(8,2), published DATE, in_stock BOOLEAN)",
        )
        .await?;

    // 2. The entity is metadata, not code.
    let schema: SchemaMetadata = serde_json::from_value(json!({
        "entities": [{
            "name": "books",
            "source": {"table": "book"},
            "primary_key": ["id"],
            "fields": [
                {"name": "id", "type": {"kind": "int64"}, "generated": "auto_increment"},
                {"name": "isbn", "type": {"kind": "text"}, "unique": true},
                {"name": "title", "type": {"kind": "text"}, "max_length": 200},
                {"name": "price", "type": {"kind": "decimal", "precision": 8, "scale": 2}, "nullable": true},
                {"name": "published", "type": {"kind": "date"}, "nullable": true},
                {"name": "in_stock", "type": {"kind": "boolean"}, "nullable": true}
            ]
        }]
    }))?;
    schema.check()?;
    let books = Target::new(&schema, "books")?;

    // 3. Writes: validated against the metadata, values always bound.
    let mut insert: Insert = serde_json::from_value(json!({
        "entity": "books",
        "rows": [
            {"isbn": "978-0", "title": "Dune", "price": 9.5, "published": "1965-08-01", "in_stock": true},
            {"isbn": "978-1", "title": "Solaris", "price": "12.00", "published": "1961-06-01", "in_stock": false},
            {"isbn": "978-2", "title": "Neuromancer", "price": "15.25", "published": "1984-07-01", "in_stock": true}
        ],
        "returning": []
    }))?;
    let written = db.insert(books, &insert).await?;
    println!("inserted: {}", serde_json::to_string_pretty(&written.rows)?);

    // 4. An upsert on the unique ISBN.
    insert.rows.truncate(1);
    insert.rows[0].insert("price".into(), json!("8.99"));
    insert.on_conflict = Some(Upsert {
        target: vec!["isbn".into()],
        action: OnConflict::Merge,
        defaults: vec![],
    });
    let merged = db.insert(books, &insert).await?;
    println!("upserted: {}", serde_json::to_string(&merged.rows)?);

    // 5. A read: filter, order, page.
    let q = Query::new("books")
        .fields(["title", "price", "published"])
        .filter(Filter::and(vec![
            Filter::is("in_stock", mini_baas::ir::IsValue::True),
            Filter::cmp("price", CompareOp::Lt, "20"),
        ]))
        .order_by(OrderBy::desc("published"))
        .limit(10);
    let plan = mini_baas::sql::select(mini_baas::sql::Dialect::Sqlite, books, &q)?;
    println!("SQL: {}", plan.statement.sql);
    println!(
        "rows: {}",
        serde_json::to_string_pretty(&db.find(books, &q).await?.rows)?
    );

    // 6. An aggregate.
    let a = Aggregate {
        entity: "books".into(),
        filter: None,
        group_by: vec!["in_stock".into()],
        group_by_values: Vec::new(),
        aggregates: vec![
            AggregateExpr {
                alias: "n".into(),
                func: AggregateFn::Count,
                input: None,
            },
            AggregateExpr {
                alias: "value".into(),
                func: AggregateFn::Sum {
                    field: "price".into(),
                },
                input: None,
            },
        ],
        having: vec![],
        order: vec![OrderBy::asc("in_stock")],
        limit: None,
        offset: None,
        via: Vec::new(),
        zone: None,
    };
    println!(
        "by stock: {}",
        serde_json::to_string(&db.aggregate(books, &a).await?)?
    );

    // 7. Bad input is an error value with a JSON pointer, never a panic.
    let bad = Query::new("books").filter(Filter::eq("price", "cheap"));
    if let Err(e) = db.find(books, &bad).await {
        println!("rejected: {e}");
    }
    Ok(())
}
