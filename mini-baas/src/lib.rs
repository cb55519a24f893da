//! # mini-baas
//!
//! A self-adapting, database-agnostic backend library: entities are metadata
//! ([`SchemaMetadata`]), requests are a dynamic IR ([`ir`]), and one generic
//! [`DatabaseAdapter`] per engine executes them with identical JSON results on
//! PostgreSQL, MySQL/MariaDB and SQLite.
//!
//! Engines are additive features: `sqlite` (default), `postgres`, `mysql`,
//! `mongodb`. [`connect`] picks the adapter from the URL scheme. The `axum`
//! and `actix` features add `mini_baas::axum` / `mini_baas::actix`, to mount
//! the REST service in an axum or actix-web app.
//!
//! ```
//! # #[cfg(feature = "sqlite")]
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
//! use mini_baas::ir::{Filter, Insert, Query};
//! use mini_baas::sqlite::{SqliteConfig, connect};
//! use mini_baas::{DatabaseAdapter, DatabaseAdapterExt, Entity, Field, FieldType, SchemaMetadata, Target};
//!
//! // Any engine by URL, as a trait object:
//! let any = mini_baas::connect("sqlite::memory:").await.unwrap();
//! any.health().await.unwrap();
//!
//! // An existing table, described by metadata:
//! let db = connect(SqliteConfig::memory()).await.unwrap();
//! db.backend().execute_script("CREATE TABLE note (id INTEGER PRIMARY KEY, body TEXT)").await.unwrap();
//! let schema = SchemaMetadata::new(vec![Entity::new(
//!     "note",
//!     vec![Field::new("id", FieldType::Int64), Field::new("body", FieldType::Text).nullable()],
//! )
//! .with_primary_key(["id"])]);
//! let note = Target::new(&schema, "note").unwrap();
//! let row = serde_json::json!({"id": 1, "body": "hello"});
//! let insert = Insert {
//!     entity: "note".into(),
//!     rows: vec![row.as_object().unwrap().clone()],
//!     on_conflict: None,
//!     returning: None,
//! };
//! db.insert(note, &insert).await.unwrap();
//! let found = db.find(note, &Query::new("note").filter(Filter::eq("id", 1))).await.unwrap();
//! assert_eq!(found.rows[0]["body"], "hello");
//! # });
//! ```
#![warn(missing_docs)]

use std::sync::Arc;

/// Auth: API keys and tokens per tenant, the caller's principal,
/// permission rules, GoTrue-compatible user routes.
pub use baas_auth as auth;
pub use baas_core::{
    Capabilities, Checked, DatabaseAdapter, DatabaseAdapterExt, Entity, Error, Explain, Field,
    FieldType, Generated, Grant, Index, IntrospectOptions, PlanFormat, PlanOptions, Relation,
    RelationKind, Result, SchemaMetadata, Source, Target, Through, Value, access, ir, read,
    validate,
};
/// The engine: tenants, metadata store, adapter cache, permissions, hooks,
/// change events.
pub use baas_engine as engine;
/// The REST dialect and the framework-free [`Service`](rest::Service).
pub use baas_rest as rest;
/// The SQL lowering layer (for inspecting the SQL a request becomes).
pub use baas_sql as sql;

/// The MongoDB adapter.
#[cfg(feature = "mongodb")]
pub use baas_adapter_mongo as mongodb;
/// The MySQL / MariaDB adapter.
#[cfg(feature = "mysql")]
pub use baas_adapter_mysql as mysql;
/// The PostgreSQL adapter.
#[cfg(feature = "postgres")]
pub use baas_adapter_postgres as postgres;
/// The SQLite adapter.
#[cfg(feature = "sqlite")]
pub use baas_adapter_sqlite as sqlite;
/// The axum integration: mount the REST service in an axum app.
#[cfg(feature = "axum")]
pub use baas_axum as axum;

/// Mount mini-baas in an actix-web application.
#[cfg(feature = "actix")]
pub use baas_actix as actix;

/// Connect to a database by URL with default pool settings, choosing the
/// adapter from the scheme: `postgres://` / `postgresql://`, `mysql://` /
/// `mariadb://`, `sqlite:`, `mongodb://` / `mongodb+srv://` (the path names
/// the database). An engine whose feature is compiled out gives an
/// `Unsupported` error naming the feature to enable.
pub async fn connect(url: &str) -> Result<Arc<dyn DatabaseAdapter>> {
    connect_with(url, None).await
}

/// [`connect`] with a cap on the pool size (`None`: the adapter's default).
pub async fn connect_with(
    url: &str,
    max_connections: Option<u32>,
) -> Result<Arc<dyn DatabaseAdapter>> {
    connect_with_options(
        url,
        ConnectOptions {
            max_connections,
            ..ConnectOptions::default()
        },
    )
    .await
}

/// How [`connect_with_options`] sets up a database's pool.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ConnectOptions {
    /// Cap on the pool size (`None`: the adapter's default).
    pub max_connections: Option<u32>,
    /// The longest one statement may run before the database cancels it
    /// (each adapter's `statement_timeout`: PostgreSQL's
    /// `statement_timeout`, MariaDB's `max_statement_time`, SQLite's
    /// progress handler, MongoDB's `maxTimeMS`); `None`: the database's own
    /// setting.
    pub statement_timeout: Option<std::time::Duration>,
}

/// [`connect`] with [`ConnectOptions`].
pub async fn connect_with_options(
    url: &str,
    options: ConnectOptions,
) -> Result<Arc<dyn DatabaseAdapter>> {
    // Unused when every engine is compiled out.
    let ConnectOptions {
        max_connections,
        statement_timeout,
    } = options;
    let _ = (max_connections, statement_timeout);
    let scheme = url
        .split(':')
        .next()
        .unwrap_or_default()
        .to_ascii_lowercase();
    match scheme.as_str() {
        "postgres" | "postgresql" => {
            #[cfg(feature = "postgres")]
            {
                let mut cfg = postgres::PgConfig::new(url);
                cfg.statement_timeout = statement_timeout;
                if let Some(n) = max_connections {
                    cfg.max_connections = n;
                }
                let a = postgres::connect(cfg).await?;
                Ok(Arc::new(a))
            }
            #[cfg(not(feature = "postgres"))]
            Err(Error::unsupported(
                "postgres",
                "this build (enable the `postgres` feature)",
            ))
        }
        "mysql" | "mariadb" => {
            #[cfg(feature = "mysql")]
            {
                let url = url.replacen("mariadb://", "mysql://", 1);
                let mut cfg = mysql::MySqlConfig::new(url);
                cfg.statement_timeout = statement_timeout;
                if let Some(n) = max_connections {
                    cfg.max_connections = n;
                }
                let a = mysql::connect(cfg).await?;
                Ok(Arc::new(a))
            }
            #[cfg(not(feature = "mysql"))]
            Err(Error::unsupported(
                "mysql",
                "this build (enable the `mysql` feature)",
            ))
        }
        "sqlite" => {
            #[cfg(feature = "sqlite")]
            {
                let mut cfg = sqlite::SqliteConfig::new(url);
                cfg.statement_timeout = statement_timeout;
                if let Some(n) = max_connections {
                    cfg.max_connections = n;
                }
                let a = sqlite::connect(cfg).await?;
                Ok(Arc::new(a))
            }
            #[cfg(not(feature = "sqlite"))]
            Err(Error::unsupported(
                "sqlite",
                "this build (enable the `sqlite` feature)",
            ))
        }
        "mongodb" | "mongodb+srv" => {
            #[cfg(feature = "mongodb")]
            {
                let mut cfg = mongodb::MongoConfig::new(url);
                cfg.max_pool_size = max_connections;
                cfg.statement_timeout = statement_timeout;
                let a = mongodb::connect(cfg).await?;
                Ok(Arc::new(a))
            }
            #[cfg(not(feature = "mongodb"))]
            Err(Error::unsupported(
                "mongodb",
                "this build (enable the `mongodb` feature)",
            ))
        }
        other => Err(Error::validation(
            "/url",
            format!(
                "unknown database URL scheme `{other}` (expected postgres, mysql, sqlite or mongodb)"
            ),
        )),
    }
}

/// The [`Connector`](engine::Connector) the engine uses by default: the
/// adapter chosen by [`connect_with_options`] from the tenant's URL scheme,
/// its pool capped at the tenant's `max_connections`, each statement bounded
/// by its `statement_timeout_ms`.
#[derive(Debug, Clone, Copy, Default)]
pub struct UrlConnector;

#[async_trait::async_trait]
impl engine::Connector for UrlConnector {
    async fn connect(&self, tenant: &engine::TenantConfig) -> Result<Arc<dyn DatabaseAdapter>> {
        connect_with_options(
            &tenant.url,
            ConnectOptions {
                max_connections: Some(tenant.limits.max_connections),
                statement_timeout: tenant.limits.statement_timeout(),
            },
        )
        .await
    }
}
