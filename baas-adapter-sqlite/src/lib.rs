//! # baas-adapter-sqlite
//!
//! The SQLite adapter of mini-baas (SQLite is bundled: no system library):
//! an sqlx pool in baas-sql's generic [`SqlxBackend`], plus what only
//! SQLite's driver does its own way ([`SqliteEngine`]).
//! SQLite stores few types, so decoding reads each cell's storage class and the
//! field type decides the JSON shape:
//!
//! | storage | field type | JSON |
//! | --- | --- | --- |
//! | `INTEGER` | `int*` / `boolean` (0/1) | number / boolean |
//! | `REAL` | `float*` / `decimal` | number / string at the column's scale |
//! | `TEXT` | `text`, `enum`, `uuid`, `date`/`time`/`timestamp(tz)` (ISO text), `json`, `decimal` | string / RFC 3339 / JSON |
//! | `BLOB` | `binary` | `\x` and hex digits |
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

use baas_core::{Capabilities, Result, Value};
use baas_sql::sea_query::Value as SqValue;
use baas_sql::{Dialect, ExecResult, SqlAdapter, SqlxBackend, SqlxEngine};
use sqlx::Arguments;
use sqlx::error::BoxDynError;
use sqlx::sqlite::{
    Sqlite, SqliteArguments, SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions,
    SqliteQueryResult, SqliteValueRef,
};

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
    /// The longest one use of a connection may last (a statement, or a
    /// transaction's statements together), counted from when it leaves
    /// the pool, waits for another writer's lock included: past it, SQLite
    /// interrupts the statement at its next look at the clock (a progress
    /// handler) and the request fails with [`baas_core::Error::Timeout`].
    /// `None`: no bound.
    pub statement_timeout: Option<Duration>,
}

impl SqliteConfig {
    /// A file database (created when missing), 4 connections, WAL journal,
    /// no statement timeout.
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            create_if_missing: true,
            max_connections: 4,
            acquire_timeout: Duration::from_secs(5),
            statement_timeout: None,
        }
    }

    /// A private in-memory database.
    pub fn memory() -> Self {
        Self::new("sqlite::memory:")
    }
}

/// The SQLite adapter.
pub type SqliteAdapter = SqlAdapter<SqliteBackend>;

/// The SQLite [`SqlBackend`](baas_sql::SqlBackend): a pool plus SQLite's
/// binding and decoding ([`SqliteEngine`]). Trusted scripts run through
/// [`execute_script`](SqlxBackend::execute_script).
pub type SqliteBackend = SqlxBackend<SqliteEngine>;

/// Open a pool and wrap it in the generic SQL adapter. Foreign keys are
/// enforced; file databases use WAL and a 5 s busy timeout.
pub async fn connect(cfg: SqliteConfig) -> Result<SqliteAdapter> {
    let memory = cfg.url.contains(":memory:") || cfg.url.contains("mode=memory");
    let connect_err = |e| baas_sql::map_connect_error("sqlite", &cfg.url, e);
    let mut opts = SqliteConnectOptions::from_str(&cfg.url)
        .map_err(connect_err)?
        .create_if_missing(cfg.create_if_missing)
        .foreign_keys(true)
        .busy_timeout(Duration::from_secs(5))
        // `REGEXP` for `match` / `imatch` (Rust's `regex` crate: linear
        // time; the dialect compiles each pattern first within a size limit).
        .with_regexp()
        // `order=data->a`: JSON values sorted as `jsonb` sorts them.
        .collation(
            baas_sql::SQLITE_JSONB_COLLATION,
            baas_core::jsonb_order::jsonb_text_cmp,
        );
    if !memory {
        opts = opts.journal_mode(SqliteJournalMode::Wal);
    }
    let timeout = cfg.statement_timeout;
    let mut pool = SqlitePoolOptions::new().before_acquire(move |conn, _| {
        Box::pin(async move {
            // A transaction SQLite ended by itself (an interrupted write
            // rolls its whole transaction back) while sqlx still counts it:
            // the ROLLBACK that followed failed, and the next `BEGIN` would
            // be a savepoint that commits nothing. Closed, never reused.
            if sqlx::Connection::is_in_transaction(&*conn) {
                return Ok(false);
            }
            if let Some(t) = timeout {
                arm(conn, t).await?;
            }
            Ok(true)
        })
    });
    if let Some(t) = timeout {
        // Armed whenever a connection is handed out. Arming reaches the
        // connection's worker thread as sqlx's ping before each use does,
        // and fails as it would on a dead worker: it replaces the ping.
        pool = pool
            .test_before_acquire(false)
            .after_connect(move |conn, _| Box::pin(arm(conn, t)));
    }
    let pool = pool
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

/// Virtual machine instructions SQLite runs between two looks at the
/// clock of the statement timeout (a look costs tens of nanoseconds; ten
/// thousand instructions take tens of microseconds or more).
const OPS_PER_CLOCK_CHECK: i32 = 10_000;

/// Arm the statement timeout on a connection about to be used: SQLite
/// interrupts (`SQLITE_INTERRUPT`) whatever it computes past `t` from now.
/// A short statement (`BEGIN`, `COMMIT`) runs fewer instructions than
/// [`OPS_PER_CLOCK_CHECK`] and never looks, so an old deadline left on an
/// idle connection harms nothing before the next arming.
async fn arm(
    conn: &mut sqlx::SqliteConnection,
    t: Duration,
) -> std::result::Result<(), sqlx::Error> {
    let deadline = std::time::Instant::now() + t;
    conn.lock_handle()
        .await?
        .set_progress_handler(OPS_PER_CLOCK_CHECK, move || {
            std::time::Instant::now() < deadline
        });
    Ok(())
}

/// What SQLite's driver does its own way: binding, cell decoding, rowids.
#[derive(Debug, Clone, Copy)]
pub struct SqliteEngine;

impl SqlxEngine for SqliteEngine {
    type Db = Sqlite;

    const DIALECT: Dialect = Dialect::Sqlite;

    // Declared types are affinities: a cell may hold any value.
    const LOOSE_CELLS: bool = true;

    fn capabilities() -> Capabilities {
        let mut caps = Capabilities::all("sqlite");
        caps.arrays = false;
        caps.multidimensional_arrays = false;
        caps.computed_fields = false;
        caps.sql_casts = false;
        caps.estimated_count = false;
        caps.max_parameters = 32_766;
        // SQLite has no stored functions.
        caps.functions = false;
        // Dates are ISO text: one no calendar holds is no date.
        caps.temporal_texts = Vec::new();
        // No settings a statement could read.
        caps.request_settings = false;
        caps
    }

    fn bind(
        args: &mut SqliteArguments,
        value: SqValue,
    ) -> Option<std::result::Result<(), BoxDynError>> {
        let a = args;
        Some(match value {
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
            _ => return None,
        })
    }

    /// By the cell's storage class.
    fn decode(v: SqliteValueRef<'_>, name: &str) -> std::result::Result<Value, String> {
        Ok(match name {
            "INTEGER" => Value::Int(Self::dec(v)?),
            "REAL" => Value::Float(Self::dec(v)?),
            "BLOB" => Value::Bytes(Self::dec(v)?),
            _ => Value::Text(Self::dec(v)?),
        })
    }

    fn exec_result(result: &SqliteQueryResult) -> ExecResult {
        ExecResult {
            affected: result.rows_affected(),
            last_insert_id: u64::try_from(result.last_insert_rowid()).ok(),
        }
    }
}
