//! The same IR gives byte-identical JSON on PostgreSQL, MariaDB, SQLite and
//! MongoDB, each loaded with the Chinook fixtures. (Chinook keys are integers
//! on every engine, so not even the documented id representation differs:
//! an ObjectId key would read as its 24-hex string.)

use std::sync::Arc;

use baas_testkit::{
    Naming, chinook_metadata, fixtures_dir, identity_aggregates, identity_queries, skip_or_fail,
};
use mini_baas::{DatabaseAdapter, DatabaseAdapterExt, SchemaMetadata, Target};

struct Engine {
    name: &'static str,
    db: Arc<dyn DatabaseAdapter>,
    schema: SchemaMetadata,
}

async fn engines() -> Option<Vec<Engine>> {
    let pg_url = std::env::var("BAAS_TEST_PG_URL")
        .unwrap_or_else(|_| "postgres://baas:baas_pw@127.0.0.1:5432/chinook".into());
    let my_url = std::env::var("BAAS_TEST_MYSQL_URL")
        .unwrap_or_else(|_| "mysql://baas:baas_pw@127.0.0.1:3306/Chinook".into());
    let pg = match mini_baas::connect(&pg_url).await {
        Ok(db) => db,
        Err(e) => {
            skip_or_fail("PostgreSQL (BAAS_TEST_PG_URL)", &e);
            return None;
        }
    };
    let my = match mini_baas::connect(&my_url).await {
        Ok(db) => db,
        Err(e) => {
            skip_or_fail("MariaDB (BAAS_TEST_MYSQL_URL)", &e);
            return None;
        }
    };
    let mongo_url = std::env::var("BAAS_TEST_MONGO_URL")
        .unwrap_or_else(|_| "mongodb://127.0.0.1:27017/chinook?directConnection=true".into());
    let mongo = match mini_baas::connect(&mongo_url).await {
        Ok(db) => db,
        Err(e) => {
            skip_or_fail("MongoDB (BAAS_TEST_MONGO_URL)", &e);
            return None;
        }
    };
    let script = fixtures_dir().join("chinook/Chinook_Sqlite.sql");
    let sql = std::fs::read_to_string(&script).expect("read the SQLite Chinook script");
    let lite = mini_baas::sqlite::connect(mini_baas::sqlite::SqliteConfig::memory())
        .await
        .expect("in-memory sqlite");
    lite.backend()
        .execute_script(&sql)
        .await
        .expect("load Chinook into SQLite");
    Some(vec![
        Engine {
            name: "postgres",
            db: pg,
            schema: chinook_metadata(Naming::SnakeCase),
        },
        Engine {
            name: "mysql",
            db: my,
            schema: chinook_metadata(Naming::PascalCase),
        },
        Engine {
            name: "sqlite",
            db: Arc::new(lite),
            schema: chinook_metadata(Naming::PascalCase),
        },
        Engine {
            name: "mongodb",
            db: mongo,
            schema: chinook_metadata(Naming::PascalCase),
        },
    ])
}

#[tokio::test]
async fn same_ir_same_json_on_every_engine() {
    let Some(engines) = engines().await else {
        return;
    };
    let mut compared = 0;
    for (name, q) in identity_queries() {
        let mut outputs = Vec::new();
        for e in &engines {
            let t = Target::new(&e.schema, &q.entity).expect("entity");
            let rows =
                e.db.find(t, &q)
                    .await
                    .unwrap_or_else(|err| panic!("{name} on {}: {err}", e.name));
            outputs.push((e.name, serde_json::to_string(&rows).expect("json")));
        }
        let (first, reference) = &outputs[0];
        assert!(
            reference.len() > 20,
            "{name}: suspiciously empty result {reference}"
        );
        for (engine, out) in &outputs[1..] {
            assert_eq!(out, reference, "{name}: {engine} differs from {first}");
        }
        compared += 1;
    }
    for (name, a) in identity_aggregates() {
        let mut outputs = Vec::new();
        for e in &engines {
            let t = Target::new(&e.schema, &a.entity).expect("entity");
            let rows =
                e.db.aggregate(t, &a)
                    .await
                    .unwrap_or_else(|err| panic!("{name} on {}: {err}", e.name));
            outputs.push((e.name, serde_json::to_string(&rows).expect("json")));
        }
        for (engine, out) in &outputs[1..] {
            assert_eq!(
                out, &outputs[0].1,
                "{name}: {engine} differs from {}",
                outputs[0].0
            );
        }
        compared += 1;
    }
    println!(
        "cross-engine identity: {compared} requests gave identical JSON on postgres, mysql, sqlite and mongodb"
    );
}
