//! The conformance suite on every engine: one test per case and engine,
//! `<engine>::<case>` (`cargo test -p baas-testkit upsert_merge` runs one
//! case on the four engines, `cargo test -p baas-testkit postgres::` one
//! engine). PostgreSQL, MariaDB/MySQL and MongoDB are real servers loaded with
//! Chinook (`.ci/fixtures.sh`, `.ci/mongo_fixtures.sh`); outside CI an
//! unreachable one skips with a printed reason, under `CI=true` it fails.
//! SQLite is bundled and always runs.
//!
//! Each engine is prepared once per test binary (the server checked, the
//! `gadget` scratch table created empty) by whichever of its tests comes
//! first; the others wait for that, then connect their own adapter (each
//! `#[tokio::test]` has its own runtime, and a pool lives in the runtime that
//! made it). The cases then run concurrently against the one database: each
//! writes only `gadget` rows under its own `sku` prefix.

use std::future::Future;

use baas_testkit::skip_or_fail;
use tokio::sync::OnceCell;

/// Why an engine cannot run: what is missing, and the error.
type Missing = (&'static str, String);

/// Whether an engine is ready. `prepare` runs once per binary, in the first
/// test to get here (the others wait for it); its verdict is kept, so a
/// missing server costs one connection attempt and every test then skips
/// (outside CI) or fails (under `CI=true`) at once with the same reason.
async fn ready<F>(cell: &OnceCell<Result<(), Missing>>, prepare: impl FnOnce() -> F) -> bool
where
    F: Future<Output = Result<(), Missing>>,
{
    match cell.get_or_init(prepare).await {
        Ok(()) => true,
        Err((what, why)) => {
            skip_or_fail(what, why);
            false
        }
    }
}

mod postgres {
    use baas_adapter_postgres::{PgAdapter, PgConfig, connect};
    use baas_core::metadata::SchemaMetadata;
    use baas_testkit::{Naming, conformance_schema};
    use tokio::sync::OnceCell;

    use super::Missing;

    const GADGET: &str = r#"
DROP TABLE IF EXISTS gadget;
CREATE TABLE gadget (
    id BIGSERIAL PRIMARY KEY,
    sku VARCHAR(40) NOT NULL CONSTRAINT gadget_sku_key UNIQUE,
    name TEXT, price NUMERIC(12,2), qty INTEGER, big BIGINT, ratio DOUBLE PRECISION,
    weight REAL, active BOOLEAN, born DATE, seen_at TIMESTAMP, meta JSONB, data BYTEA, uid UUID, tags TEXT[]
);
"#;

    fn config() -> PgConfig {
        PgConfig::new(
            std::env::var("BAAS_TEST_PG_URL")
                .unwrap_or_else(|_| "postgres://baas:baas_pw@127.0.0.1:5432/chinook".into()),
        )
    }

    /// Once per binary: check the server, create `gadget`.
    async fn prepare() -> Result<(), Missing> {
        let adapter = connect(config())
            .await
            .map_err(|e| ("PostgreSQL (BAAS_TEST_PG_URL)", e.to_string()))?;
        let pool = adapter.backend().pool();
        sqlx::query("SELECT 1 FROM artist LIMIT 1")
            .execute(pool)
            .await
            .map_err(|e| {
                (
                    "the Chinook database in PostgreSQL (run .ci/fixtures.sh)",
                    e.to_string(),
                )
            })?;
        sqlx::raw_sql(GADGET)
            .execute(pool)
            .await
            .expect("create gadget");
        Ok(())
    }

    async fn setup() -> Option<(PgAdapter, SchemaMetadata)> {
        static READY: OnceCell<Result<(), Missing>> = OnceCell::const_new();
        if !super::ready(&READY, prepare).await {
            return None;
        }
        let adapter = connect(config()).await.expect("connect to PostgreSQL");
        Some((adapter, conformance_schema(Naming::SnakeCase, true)))
    }

    baas_testkit::conformance_tests!(setup, not_applicable: []);
}

mod mysql {
    use baas_adapter_mysql::{MySqlAdapter, MySqlConfig, connect};
    use baas_core::metadata::SchemaMetadata;
    use baas_testkit::{Naming, conformance_schema};
    use tokio::sync::OnceCell;

    use super::Missing;

    const GADGET: &str = r#"
DROP TABLE IF EXISTS gadget;
CREATE TABLE gadget (
    id BIGINT AUTO_INCREMENT PRIMARY KEY,
    sku VARCHAR(40) NOT NULL, name LONGTEXT, price DECIMAL(12,2), qty INT, big BIGINT, ratio DOUBLE, weight FLOAT,
    active TINYINT(1), born DATE, seen_at DATETIME(6), meta JSON, data LONGBLOB, uid CHAR(36),
    CONSTRAINT gadget_sku_key UNIQUE (sku),
    FULLTEXT KEY gadget_name_fts (name)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
"#;

    fn config() -> MySqlConfig {
        MySqlConfig::new(
            std::env::var("BAAS_TEST_MYSQL_URL")
                .unwrap_or_else(|_| "mysql://baas:baas_pw@127.0.0.1:3306/Chinook".into()),
        )
    }

    /// Once per binary: check the server, create `gadget`.
    async fn prepare() -> Result<(), Missing> {
        let adapter = connect(config())
            .await
            .map_err(|e| ("MariaDB/MySQL (BAAS_TEST_MYSQL_URL)", e.to_string()))?;
        let pool = adapter.backend().pool();
        sqlx::query("SELECT 1 FROM Artist LIMIT 1")
            .execute(pool)
            .await
            .map_err(|e| {
                (
                    "the Chinook database in MariaDB (run .ci/fixtures.sh)",
                    e.to_string(),
                )
            })?;
        sqlx::raw_sql(GADGET)
            .execute(pool)
            .await
            .expect("create gadget");
        Ok(())
    }

    async fn setup() -> Option<(MySqlAdapter, SchemaMetadata)> {
        static READY: OnceCell<Result<(), Missing>> = OnceCell::const_new();
        if !super::ready(&READY, prepare).await {
            return None;
        }
        let adapter = connect(config()).await.expect("connect to MariaDB/MySQL");
        Some((adapter, conformance_schema(Naming::PascalCase, false)))
    }

    baas_testkit::conformance_tests!(
        setup,
        not_applicable: [array_filters, json_path_into_arrays],
    );
}

mod sqlite {
    //! A database file loaded from `shared/fixtures/chinook/Chinook_Sqlite.sql`,
    //! in cargo's scratch directory for this crate's tests. The file is
    //! rebuilt by each run and reused by the next; a run holds an exclusive
    //! lock on `conformance-sqlite.lock` until it exits, so two runs in the
    //! same target directory take turns instead of rebuilding each other's
    //! file.

    use std::fs::File;
    use std::path::PathBuf;
    use std::sync::OnceLock;

    use baas_adapter_sqlite::{SqliteAdapter, SqliteConfig, connect};
    use baas_core::metadata::SchemaMetadata;
    use baas_testkit::{Naming, conformance_schema, fixtures_dir};
    use tokio::sync::OnceCell;

    use super::Missing;

    const GADGET: &str = r#"
DROP TABLE IF EXISTS gadget;
CREATE TABLE gadget (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    sku TEXT NOT NULL CONSTRAINT gadget_sku_key UNIQUE,
    name TEXT, price NUMERIC(12,2), qty INTEGER, big INTEGER, ratio REAL, weight REAL,
    active BOOLEAN, born DATE, seen_at DATETIME, meta TEXT, data BLOB, uid TEXT
);
"#;

    fn path() -> PathBuf {
        PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("conformance-sqlite.db")
    }

    fn config() -> SqliteConfig {
        SqliteConfig::new(format!("sqlite://{}", path().display()))
    }

    /// Once per binary: take the file, rebuild it (SQLite is never missing).
    async fn prepare() -> Result<(), Missing> {
        static LOCK: OnceLock<File> = OnceLock::new();
        let db = path();
        let lock_path = db.with_extension("lock");
        let lock = File::create(&lock_path)
            .unwrap_or_else(|e| panic!("cannot create {}: {e}", lock_path.display()));
        if lock.try_lock().is_err() {
            eprintln!(
                "waiting for another test run that holds {}",
                lock_path.display()
            );
            lock.lock()
                .unwrap_or_else(|e| panic!("cannot lock {}: {e}", lock_path.display()));
        }
        // Held until the process exits (statics are never dropped).
        let _ = LOCK.set(lock);
        for suffix in ["", "-wal", "-shm"] {
            let mut p = db.clone().into_os_string();
            p.push(suffix);
            let _ = std::fs::remove_file(p);
        }
        let script = fixtures_dir().join("chinook/Chinook_Sqlite.sql");
        let sql = std::fs::read_to_string(&script)
            .unwrap_or_else(|e| panic!("cannot read {}: {e}", script.display()));
        let adapter = connect(config()).await.expect("open sqlite");
        let backend = adapter.backend();
        backend.execute_script(&sql).await.expect("load Chinook");
        backend.execute_script(GADGET).await.expect("create gadget");
        backend.pool().close().await;
        Ok(())
    }

    async fn setup() -> Option<(SqliteAdapter, SchemaMetadata)> {
        static READY: OnceCell<Result<(), Missing>> = OnceCell::const_new();
        if !super::ready(&READY, prepare).await {
            return None;
        }
        let adapter = connect(config()).await.expect("open sqlite");
        Some((adapter, conformance_schema(Naming::PascalCase, false)))
    }

    baas_testkit::conformance_tests!(setup, not_applicable: [array_filters, json_path_into_arrays]);
}

mod mongodb {
    use baas_adapter_mongo::{MongoAdapter, MongoConfig, connect};
    use baas_core::metadata::SchemaMetadata;
    use baas_core::{DatabaseAdapter, SchemaChange};
    use baas_testkit::{Naming, conformance_schema};
    use tokio::sync::OnceCell;

    use super::Missing;

    fn config() -> MongoConfig {
        MongoConfig::new(
            std::env::var("BAAS_TEST_MONGO_URL").unwrap_or_else(|_| {
                "mongodb://127.0.0.1:27017/chinook?directConnection=true".into()
            }),
        )
    }

    fn schema() -> SchemaMetadata {
        conformance_schema(Naming::PascalCase, true)
    }

    /// Once per binary: check the server, create `gadget`.
    async fn prepare() -> Result<(), Missing> {
        let adapter = connect(config())
            .await
            .map_err(|e| ("MongoDB (BAAS_TEST_MONGO_URL)", e.to_string()))?;
        let db = adapter.database();
        match db
            .collection::<bson::Document>("Artist")
            .estimated_document_count()
            .await
        {
            Ok(n) if n > 0 => {}
            other => {
                return Err((
                    "the Chinook database in MongoDB (run .ci/mongo_fixtures.sh)",
                    format!("{other:?}"),
                ));
            }
        }
        // The scratch collection, managed: validator and unique index from metadata.
        let gadget = schema().entity("gadget").expect("gadget").clone();
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
        println!(
            "mongodb transactions: {}",
            adapter.capabilities().transactions
        );
        Ok(())
    }

    async fn setup() -> Option<(MongoAdapter, SchemaMetadata)> {
        static READY: OnceCell<Result<(), Missing>> = OnceCell::const_new();
        if !super::ready(&READY, prepare).await {
            return None;
        }
        let adapter = connect(config()).await.expect("connect to MongoDB");
        Some((adapter, schema()))
    }

    baas_testkit::conformance_tests!(setup, not_applicable: []);
}
