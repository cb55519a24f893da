//! # baas-adapter-mysql
//!
//! The MySQL / MariaDB adapter of mini-baas: an sqlx pool, binding of lowered
//! statements, decoding of rows into normalised JSON, error mapping.
//! MySQL has no `RETURNING`: the generic adapter re-reads written rows by key
//! inside the same transaction (`SELECT … FOR UPDATE` before updates and deletes).
//!
//! | MySQL type | field type | JSON |
//! | --- | --- | --- |
//! | `TINYINT(1)` / `BOOLEAN` | `boolean` | boolean |
//! | `TINYINT` … `BIGINT` (signed or unsigned) | `int16` / `int32` / `int64` | number |
//! | `FLOAT` / `DOUBLE` | `float32` / `float64` | number |
//! | `DECIMAL(p,s)` | `decimal` | string, exact (MySQL sends decimals as text) |
//! | `CHAR`, `VARCHAR`, `TEXT`…, `ENUM`, `SET` | `text` / `enum` | string |
//! | `DATE` / `TIME` / `DATETIME` | `date` / `time` / `timestamp` | RFC 3339 |
//! | `TIMESTAMP` | `timestamptz` | RFC 3339 UTC (the session runs in `+00:00`) |
//! | `JSON` (MariaDB: `LONGTEXT` + check) | `json` | JSON |
//! | `BINARY`, `VARBINARY`, `BLOB`… | `binary` | base64 |
//! | `CHAR(36)` holding UUIDs | `uuid` | string |
//!
//! ```no_run
//! # async fn demo() -> baas_core::Result<()> {
//! use baas_adapter_mysql::{connect, MySqlConfig};
//! let adapter = connect(MySqlConfig::new("mysql://root@127.0.0.1/Chinook")).await?;
//! # Ok(()) }
//! ```
#![warn(missing_docs)]

use std::time::Duration;

use baas_core::{Capabilities, Error, Result, Value};
use baas_sql::sea_query::Value as SqValue;
use baas_sql::{Dialect, OutColumn, Row, SqlAdapter, Statement, map_sqlx_error};
use sqlx::mysql::{MySql, MySqlArguments, MySqlPoolOptions, MySqlRow, MySqlValueRef};
use sqlx::{Arguments, AssertSqlSafe, Row as _, TypeInfo, ValueRef};

/// Connection settings.
#[derive(Debug, Clone)]
pub struct MySqlConfig {
    /// `mysql://user:pass@host:port/db`.
    pub url: String,
    /// Pool size cap.
    pub max_connections: u32,
    /// How long to wait for a free connection before `Unavailable`.
    pub acquire_timeout: Duration,
}

impl MySqlConfig {
    /// Defaults: 10 connections, 5 s acquire timeout.
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            max_connections: 10,
            acquire_timeout: Duration::from_secs(5),
        }
    }
}

/// The MySQL adapter.
pub type MySqlAdapter = SqlAdapter<MySqlBackend>;

/// The MySQL [`SqlBackend`](baas_sql::SqlBackend).
#[derive(Debug, Clone)]
pub struct MySqlBackend {
    pool: sqlx::MySqlPool,
    caps: Capabilities,
}

/// Open a pool (one connection is made now to fail fast) and wrap it in the
/// generic SQL adapter.
pub async fn connect(cfg: MySqlConfig) -> Result<MySqlAdapter> {
    let pool = MySqlPoolOptions::new()
        .max_connections(cfg.max_connections)
        .acquire_timeout(cfg.acquire_timeout)
        .connect(&cfg.url)
        .await
        .map_err(|e| baas_sql::map_connect_error("mysql", &cfg.url, e))?;
    Ok(SqlAdapter::new(MySqlBackend::from_pool(pool)))
}

impl MySqlBackend {
    /// Use an existing pool.
    pub fn from_pool(pool: sqlx::MySqlPool) -> Self {
        // Full-text search (MATCH … AGAINST) needs a FULLTEXT index on the column.
        let mut caps = Capabilities::all("mysql");
        caps.arrays = false;
        // Emulated: written rows are re-read by key in the same transaction.
        caps.returning = false;
        // ON DUPLICATE KEY UPDATE applies to every unique key.
        caps.upsert_conflict_target = false;
        caps.estimated_count = false;
        Self { pool, caps }
    }

    /// The pool.
    pub fn pool(&self) -> &sqlx::MySqlPool {
        &self.pool
    }
}

fn err(e: sqlx::Error) -> Error {
    map_sqlx_error("mysql", e)
}

fn args(params: &[SqValue]) -> Result<MySqlArguments> {
    let mut a = MySqlArguments::default();
    for p in params {
        let r = match p.clone() {
            SqValue::Bool(v) => a.add(v),
            SqValue::TinyInt(v) => a.add(v),
            SqValue::SmallInt(v) => a.add(v),
            SqValue::Int(v) => a.add(v),
            SqValue::BigInt(v) => a.add(v),
            SqValue::TinyUnsigned(v) => a.add(v),
            SqValue::SmallUnsigned(v) => a.add(v),
            SqValue::Unsigned(v) => a.add(v),
            SqValue::BigUnsigned(v) => a.add(v),
            SqValue::Float(v) => a.add(v),
            SqValue::Double(v) => a.add(v),
            SqValue::String(v) => a.add(v),
            SqValue::Char(v) => a.add(v.map(String::from)),
            SqValue::Bytes(v) => a.add(v),
            SqValue::Json(v) => a.add(v.map(|j| j.to_string())),
            SqValue::ChronoDate(v) => a.add(v),
            SqValue::ChronoTime(v) => a.add(v),
            SqValue::ChronoDateTime(v) => a.add(v),
            SqValue::ChronoDateTimeUtc(v) => a.add(v.map(|t| t.naive_utc())),
            SqValue::Uuid(v) => a.add(v.map(|u| u.hyphenated().to_string())),
            other => return Err(Error::unsupported("mysql", format!("binding {other:?}"))),
        };
        r.map_err(|e| Error::Backend {
            message: format!("mysql: cannot bind a parameter: {e}"),
            source: None,
        })?;
    }
    Ok(a)
}

fn query(stmt: &Statement) -> Result<sqlx::query::Query<'static, MySql, MySqlArguments>> {
    Ok(sqlx::query_with(
        AssertSqlSafe(stmt.sql.clone()),
        args(&stmt.params)?,
    ))
}

fn decode_row(row: &MySqlRow, columns: &[OutColumn]) -> Result<Row> {
    let mut out = Row::with_capacity(columns.len());
    for (i, c) in columns.iter().enumerate() {
        let raw = row.try_get_raw(i).map_err(err)?;
        let j = decode_cell(raw)
            .and_then(|v| v.shape(&c.ty))
            .map_err(|m| Error::Backend {
                message: format!("mysql: column `{}`: {m}", c.key),
                source: None,
            })?;
        out.insert(c.key.clone(), j);
    }
    Ok(out)
}

fn dec<'r, T: sqlx::Decode<'r, MySql>>(v: MySqlValueRef<'r>) -> Result<T, String> {
    T::decode(v).map_err(|e| e.to_string())
}

/// Decode one cell by its MySQL column type into an engine-neutral [`Value`].
fn decode_cell(v: MySqlValueRef<'_>) -> Result<Value, String> {
    if v.is_null() {
        return Ok(Value::Null);
    }
    let name = v.type_info().name().to_string();
    Ok(match name.as_str() {
        "BOOLEAN" => Value::Bool(dec(v)?),
        "TINYINT" => Value::Int(i64::from(dec::<i8>(v)?)),
        "SMALLINT" => Value::Int(i64::from(dec::<i16>(v)?)),
        "INT" | "MEDIUMINT" => Value::Int(i64::from(dec::<i32>(v)?)),
        "BIGINT" => Value::Int(dec(v)?),
        "TINYINT UNSIGNED" => Value::Int(i64::from(dec::<u8>(v)?)),
        "SMALLINT UNSIGNED" | "YEAR" => Value::Int(i64::from(dec::<u16>(v)?)),
        "INT UNSIGNED" | "MEDIUMINT UNSIGNED" => Value::Int(i64::from(dec::<u32>(v)?)),
        "BIGINT UNSIGNED" => {
            let u: u64 = dec(v)?;
            i64::try_from(u).map_or_else(|_| Value::Decimal(u.to_string()), Value::Int)
        }
        "FLOAT" => Value::Float(f64::from(dec::<f32>(v)?)),
        "DOUBLE" => Value::Float(dec(v)?),
        "DECIMAL" => Value::Decimal(dec(v)?),
        "DATE" => Value::Date(dec(v)?),
        "TIME" => Value::Time(dec(v)?),
        "DATETIME" | "TIMESTAMP" => Value::Timestamp(dec(v)?),
        "BINARY" | "VARBINARY" | "TINYBLOB" | "BLOB" | "MEDIUMBLOB" | "LONGBLOB" | "BIT"
        | "GEOMETRY" => Value::Bytes(dec(v)?),
        "NULL" => Value::Null,
        // CHAR, VARCHAR, TEXT…, ENUM, SET, JSON: text.
        _ => Value::Text(dec(v)?),
    })
}

baas_sql::sqlx_backend! {
    backend: MySqlBackend,
    db: MySql,
    dialect: Dialect::Mysql,
    transaction: MyTx,
    query: query,
    decode: decode_row,
    err: err,
    last_insert_id: |result| Some(result.last_insert_id()).filter(|id| *id != 0),
}
