//! # baas-adapter-sqlite
//!
//! The SQLite adapter of mini-baas (SQLite is bundled: no system library).
//! SQLite stores few types, so decoding reads each cell's storage class and the
//! field type decides the JSON shape:
//!
//! | storage | field type | JSON |
//! | --- | --- | --- |
//! | `INTEGER` | `int*` / `boolean` (0/1) | number / boolean |
//! | `REAL` | `float*` / `decimal` | number / string at the column's scale |
//! | `TEXT` | `text`, `enum`, `uuid`, `date`/`time`/`timestamp(tz)` (ISO text), `json`, `decimal` | string / RFC 3339 / JSON |
//! | `BLOB` | `binary` | base64 |
//!
//! Written values are stored the same way: timestamps as `YYYY-MM-DD HH:MM:SS`,
//! instants as RFC 3339 with `Z`, JSON as text, booleans as 0/1.
//! Full-text search and array operators are not available (`Error::Unsupported`).
//!
//! ```
//! # tokio_test_block(async {
//! use baas_adapter_sqlite::{connect, SqliteConfig};
//! let adapter = connect(SqliteConfig::memory()).await.unwrap();
//! use baas_core::DatabaseAdapter;
//! adapter.health().await.unwrap();
//! # });
//! # fn tokio_test_block(f: impl std::future::Future<Output = ()>) {
//! #     tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(f)
//! # }
//! ```
#![warn(missing_docs)]

use std::str::FromStr;
use std::time::Duration;

use baas_core::{Capabilities, Error, Result, Value};
use baas_sql::sea_query::Value as SqValue;
use baas_sql::{Dialect, OutColumn, Row, SqlAdapter, Statement, map_sqlx_error};
use sqlx::sqlite::{
    Sqlite, SqliteArguments, SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteRow,
    SqliteValueRef,
};
use sqlx::{Arguments, AssertSqlSafe, Row as _, TypeInfo, ValueRef};

/// Connection settings.
#[derive(Debug, Clone)]
pub struct SqliteConfig {
    /// `sqlite://path/to/file.db` or `sqlite::memory:`.
    pub url: String,
    /// Create the file when missing.
    pub create_if_missing: bool,
    /// Pool size cap (forced to 1 for in-memory databases, which are per connection).
    pub max_connections: u32,
    /// How long to wait for a free connection before `Unavailable`.
    pub acquire_timeout: Duration,
}

impl SqliteConfig {
    /// A file database (created when missing), 4 connections, WAL journal.
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            create_if_missing: true,
            max_connections: 4,
            acquire_timeout: Duration::from_secs(5),
        }
    }

    /// A private in-memory database.
    pub fn memory() -> Self {
        Self::new("sqlite::memory:")
    }
}

/// The SQLite adapter.
pub type SqliteAdapter = SqlAdapter<SqliteBackend>;

/// The SQLite [`SqlBackend`](baas_sql::SqlBackend).
#[derive(Debug, Clone)]
pub struct SqliteBackend {
    pool: sqlx::SqlitePool,
    caps: Capabilities,
}

/// Open a pool and wrap it in the generic SQL adapter. Foreign keys are
/// enforced; file databases use WAL and a 5 s busy timeout.
pub async fn connect(cfg: SqliteConfig) -> Result<SqliteAdapter> {
    let memory = cfg.url.contains(":memory:") || cfg.url.contains("mode=memory");
    let connect_err = |e| baas_sql::map_connect_error("sqlite", &cfg.url, e);
    let mut opts = SqliteConnectOptions::from_str(&cfg.url)
        .map_err(connect_err)?
        .create_if_missing(cfg.create_if_missing)
        .foreign_keys(true)
        .busy_timeout(Duration::from_secs(5));
    if !memory {
        opts = opts.journal_mode(SqliteJournalMode::Wal);
    }
    let pool = SqlitePoolOptions::new()
        .max_connections(if memory { 1 } else { cfg.max_connections })
        .acquire_timeout(cfg.acquire_timeout)
        // An in-memory database lives as long as its connection.
        .idle_timeout(if memory {
            None
        } else {
            Some(Duration::from_secs(600))
        })
        .max_lifetime(if memory {
            None
        } else {
            Some(Duration::from_secs(1800))
        })
        .connect_with(opts)
        .await
        .map_err(connect_err)?;
    Ok(SqlAdapter::new(SqliteBackend::from_pool(pool)))
}

impl SqliteBackend {
    /// Use an existing pool.
    pub fn from_pool(pool: sqlx::SqlitePool) -> Self {
        let mut caps = Capabilities::all("sqlite");
        caps.full_text_search = false;
        caps.arrays = false;
        caps.estimated_count = false;
        caps.max_parameters = 32_766;
        Self { pool, caps }
    }

    /// The pool.
    pub fn pool(&self) -> &sqlx::SqlitePool {
        &self.pool
    }

    /// Run a trusted SQL script (several statements), e.g. a schema or
    /// fixture file. Never pass user input here: it is not parameterised.
    pub async fn execute_script(&self, sql: &str) -> Result<()> {
        sqlx::raw_sql(AssertSqlSafe(sql.to_string()))
            .execute(&self.pool)
            .await
            .map(|_| ())
            .map_err(err)
    }
}

fn err(e: sqlx::Error) -> Error {
    map_sqlx_error("sqlite", e)
}

fn args(params: &[SqValue]) -> Result<SqliteArguments> {
    let mut a = SqliteArguments::default();
    for p in params {
        let r = match p.clone() {
            SqValue::Bool(v) => a.add(v),
            SqValue::TinyInt(v) => a.add(v.map(i64::from)),
            SqValue::SmallInt(v) => a.add(v.map(i64::from)),
            SqValue::Int(v) => a.add(v.map(i64::from)),
            SqValue::BigInt(v) => a.add(v),
            SqValue::TinyUnsigned(v) => a.add(v.map(i64::from)),
            SqValue::SmallUnsigned(v) => a.add(v.map(i64::from)),
            SqValue::Unsigned(v) => a.add(v.map(i64::from)),
            SqValue::BigUnsigned(v) => a.add(v.map(|u| i64::try_from(u).unwrap_or(i64::MAX))),
            SqValue::Float(v) => a.add(v.map(f64::from)),
            SqValue::Double(v) => a.add(v),
            SqValue::String(v) => a.add(v),
            SqValue::Char(v) => a.add(v.map(String::from)),
            SqValue::Bytes(v) => a.add(v),
            SqValue::Json(v) => a.add(v.map(|j| j.to_string())),
            SqValue::Uuid(v) => a.add(v.map(|u| u.hyphenated().to_string())),
            other => return Err(Error::unsupported("sqlite", format!("binding {other:?}"))),
        };
        r.map_err(|e| Error::Backend {
            message: format!("sqlite: cannot bind a parameter: {e}"),
            source: None,
        })?;
    }
    Ok(a)
}

fn query(stmt: &Statement) -> Result<sqlx::query::Query<'static, Sqlite, SqliteArguments>> {
    Ok(sqlx::query_with(
        AssertSqlSafe(stmt.sql.clone()),
        args(&stmt.params)?,
    ))
}

fn decode_row(row: &SqliteRow, columns: &[OutColumn]) -> Result<Row> {
    let mut out = Row::with_capacity(columns.len());
    for (i, c) in columns.iter().enumerate() {
        let raw = row.try_get_raw(i).map_err(err)?;
        let j = decode_cell(raw)
            .and_then(|v| v.shape(&c.ty))
            .map_err(|m| Error::Backend {
                message: format!("sqlite: column `{}`: {m}", c.key),
                source: None,
            })?;
        out.insert(c.key.clone(), j);
    }
    Ok(out)
}

fn dec<'r, T: sqlx::Decode<'r, Sqlite>>(v: SqliteValueRef<'r>) -> Result<T, String> {
    T::decode(v).map_err(|e| e.to_string())
}

/// Decode one cell by its storage class.
fn decode_cell(v: SqliteValueRef<'_>) -> Result<Value, String> {
    if v.is_null() {
        return Ok(Value::Null);
    }
    let name = v.type_info().name().to_string();
    Ok(match name.as_str() {
        "INTEGER" => Value::Int(dec(v)?),
        "REAL" => Value::Float(dec(v)?),
        "BLOB" => Value::Bytes(dec(v)?),
        _ => Value::Text(dec(v)?),
    })
}

baas_sql::sqlx_backend! {
    backend: SqliteBackend,
    db: Sqlite,
    dialect: Dialect::Sqlite,
    transaction: LiteTx,
    query: query,
    decode: decode_row,
    err: err,
    last_insert_id: |result| u64::try_from(result.last_insert_rowid()).ok(),
}
