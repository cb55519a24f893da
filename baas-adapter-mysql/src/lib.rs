//! # baas-adapter-mysql
//!
//! The MySQL / MariaDB adapter of mini-baas: an sqlx pool in baas-sql's
//! generic [`SqlxBackend`], plus what only MySQL's driver does its own way
//! ([`MySqlEngine`]): binding parameters, decoding cells, generated ids.
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
//! | `BINARY`, `VARBINARY`, `BLOB`… | `binary` | `\x` and hex digits |
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

use baas_core::{Capabilities, Result, Value};
use baas_sql::sea_query::Value as SqValue;
use baas_sql::{Dialect, ExecResult, SqlAdapter, SqlxBackend, SqlxEngine};
use sqlx::Arguments;
use sqlx::error::BoxDynError;
use sqlx::mysql::{MySql, MySqlArguments, MySqlPoolOptions, MySqlQueryResult, MySqlValueRef};

/// Connection settings.
#[derive(Debug, Clone)]
pub struct MySqlConfig {
    /// `mysql://user:pass@host:port/db`.
    pub url: String,
    /// Pool size cap.
    pub max_connections: u32,
    /// How long to wait for a free connection before `Unavailable`.
    pub acquire_timeout: Duration,
    /// The longest one statement may run before the server cancels it
    /// (set on each connection when it opens: MariaDB's
    /// `max_statement_time`, every statement; MySQL's `max_execution_time`,
    /// which bounds reads only); the request then fails with
    /// [`baas_core::Error::Timeout`]. `None`: the server's own setting.
    pub statement_timeout: Option<Duration>,
}

impl MySqlConfig {
    /// Defaults: 10 connections, 5 s acquire timeout, the server's own
    /// statement timeout.
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            max_connections: 10,
            acquire_timeout: Duration::from_secs(5),
            statement_timeout: None,
        }
    }
}

/// The MySQL adapter.
pub type MySqlAdapter = SqlAdapter<MySqlBackend>;

/// The MySQL [`SqlBackend`](baas_sql::SqlBackend): a pool plus MySQL's
/// binding and decoding ([`MySqlEngine`]).
pub type MySqlBackend = SqlxBackend<MySqlEngine>;

/// Open a pool (one connection is made now to fail fast) and wrap it in the
/// generic SQL adapter.
pub async fn connect(cfg: MySqlConfig) -> Result<MySqlAdapter> {
    let statement_timeout = cfg.statement_timeout;
    let pool = MySqlPoolOptions::new()
        .max_connections(cfg.max_connections)
        .acquire_timeout(cfg.acquire_timeout)
        // READ COMMITTED, as PostgreSQL's default: InnoDB's REPEATABLE READ
        // locks the gaps between the index entries a write scans, so
        // concurrent writes to disjoint rows (an UPDATE of some keys, an
        // INSERT of others) deadlock; the same request then behaves alike
        // on every engine.
        .after_connect(move |conn, _meta| {
            Box::pin(async move {
                sqlx::Executor::execute(
                    &mut *conn,
                    "SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED",
                )
                .await?;
                // Instants are read, written and compared in UTC (a
                // `TIMESTAMP` reads in the session's zone, and dates in a
                // caller's zone shift from UTC): whatever `?timezone=` the
                // tenant's URL gives the driver.
                sqlx::Executor::execute(&mut *conn, "SET time_zone = '+00:00'").await?;
                if let Some(t) = statement_timeout {
                    set_statement_timeout(conn, t).await?;
                }
                Ok(())
            })
        })
        .connect(&cfg.url)
        .await
        .map_err(|e| baas_sql::map_connect_error("mysql", &cfg.url, e))?;
    let backend = MySqlBackend::from_pool(pool);
    Ok(SqlAdapter::new(backend))
}

/// Bound each statement of a new connection: MariaDB's
/// `max_statement_time` (seconds, every statement), else, on MySQL, which
/// does not know that variable, `max_execution_time` (milliseconds, reads
/// only).
async fn set_statement_timeout(
    conn: &mut sqlx::MySqlConnection,
    t: Duration,
) -> std::result::Result<(), sqlx::Error> {
    let mariadb = format!(
        "SET SESSION max_statement_time = {}",
        t.as_secs_f64().max(0.001)
    );
    // Numbers only: no value of the caller's reaches these texts.
    match sqlx::raw_sql(sqlx::AssertSqlSafe(mariadb))
        .execute(&mut *conn)
        .await
    {
        Ok(_) => Ok(()),
        // 1193: unknown system variable (MySQL).
        Err(sqlx::Error::Database(e))
            if e.try_downcast_ref::<sqlx::mysql::MySqlDatabaseError>()
                .is_some_and(|e| e.number() == 1193) =>
        {
            let mysql = format!("SET SESSION max_execution_time = {}", t.as_millis().max(1));
            sqlx::raw_sql(sqlx::AssertSqlSafe(mysql))
                .execute(&mut *conn)
                .await
                .map(|_| ())
        }
        Err(e) => Err(e),
    }
}

/// What MySQL's driver does its own way: binding, cell decoding, generated ids.
#[derive(Debug, Clone, Copy)]
pub struct MySqlEngine;

impl SqlxEngine for MySqlEngine {
    type Db = MySql;

    const DIALECT: Dialect = Dialect::Mysql;

    fn capabilities() -> Capabilities {
        // Full-text search (MATCH … AGAINST) needs a FULLTEXT index on the column.
        let mut caps = Capabilities::all("mysql");
        caps.arrays = false;
        caps.multidimensional_arrays = false;
        caps.computed_fields = false;
        caps.sql_casts = false;
        // Emulated: written rows are re-read by key in the same transaction.
        caps.returning = false;
        // ON DUPLICATE KEY UPDATE applies to every unique key.
        caps.upsert_conflict_target = false;
        // No settings a statement could read (`current_setting`).
        caps.request_settings = false;
        // A `TIME` is a duration; a zero month or day is a date (unless
        // the server's `sql_mode` refuses it: its error, a 400).
        caps.temporal_texts = vec![
            baas_core::value::TemporalText::ZeroInDate,
            baas_core::value::TemporalText::Duration,
            baas_core::value::TemporalText::EndOfDay,
        ];
        // Stored functions (scalar): `FROM (SELECT fn(?, …) AS fn) AS fn`,
        // arguments by position; procedures are not served.
        caps
    }

    fn bind(
        args: &mut MySqlArguments,
        value: SqValue,
    ) -> Option<std::result::Result<(), BoxDynError>> {
        let a = args;
        Some(match value {
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
            _ => return None,
        })
    }

    /// By the column's MySQL type.
    fn decode(v: MySqlValueRef<'_>, name: &str) -> std::result::Result<Value, String> {
        Ok(match name {
            "BOOLEAN" => Value::Bool(Self::dec(v)?),
            "TINYINT" => Value::Int(i64::from(Self::dec::<i8>(v)?)),
            "SMALLINT" => Value::Int(i64::from(Self::dec::<i16>(v)?)),
            "INT" | "MEDIUMINT" => Value::Int(i64::from(Self::dec::<i32>(v)?)),
            "BIGINT" => Value::Int(Self::dec(v)?),
            "TINYINT UNSIGNED" => Value::Int(i64::from(Self::dec::<u8>(v)?)),
            "SMALLINT UNSIGNED" | "YEAR" => Value::Int(i64::from(Self::dec::<u16>(v)?)),
            "INT UNSIGNED" | "MEDIUMINT UNSIGNED" => Value::Int(i64::from(Self::dec::<u32>(v)?)),
            "BIGINT UNSIGNED" => {
                let u: u64 = Self::dec(v)?;
                i64::try_from(u).map_or_else(|_| Value::Decimal(u.to_string()), Value::Int)
            }
            "FLOAT" => Value::Float(f64::from(Self::dec::<f32>(v)?)),
            "DOUBLE" => Value::Float(Self::dec(v)?),
            "DECIMAL" => Value::Decimal(Self::dec(v)?),
            // A zero month or day (`2020-00-15`, which MariaDB stores
            // unless `NO_ZERO_IN_DATE`) is no date chrono holds: its text.
            "DATE" => match Self::dec(v.clone()) {
                Ok(d) => Value::Date(d),
                Err(e) => Value::Text(zero_in_date(v, false).ok_or(e)?),
            },
            // A duration (-838:59:59 to 838:59:59): a time of day when it
            // is one, else its text (chrono has no such time).
            "TIME" => {
                let t: sqlx::mysql::types::MySqlTime = Self::dec(v)?;
                match sqlx::types::chrono::NaiveTime::try_from(t) {
                    Ok(time) if t.is_valid_time_of_day() => Value::Time(time),
                    _ => Value::Text(
                        baas_core::value::format_duration(
                            t.sign() == sqlx::mysql::types::MySqlTimeSign::Negative,
                            t.hours(),
                            u32::from(t.minutes()),
                            u32::from(t.seconds()),
                            t.microseconds(),
                        )
                        .ok_or("a TIME out of range")?,
                    ),
                }
            }
            "DATETIME" | "TIMESTAMP" => match Self::dec(v.clone()) {
                Ok(t) => Value::Timestamp(t),
                Err(e) => Value::Text(zero_in_date(v, true).ok_or(e)?),
            },
            "BINARY" | "VARBINARY" | "TINYBLOB" | "BLOB" | "MEDIUMBLOB" | "LONGBLOB" | "BIT"
            | "GEOMETRY" => Value::Bytes(Self::dec(v)?),
            "NULL" => Value::Null,
            // CHAR, VARCHAR, TEXT…, ENUM, SET, JSON: text.
            _ => Value::Text(Self::dec(v)?),
        })
    }

    /// The first id a multi-row INSERT generated (0: none).
    fn exec_result(result: &MySqlQueryResult) -> ExecResult {
        ExecResult {
            affected: result.rows_affected(),
            last_insert_id: Some(result.last_insert_id()).filter(|id| *id != 0),
        }
    }
}

/// The text of a MySQL date (or, `datetime`, datetime) with a zero month or day
/// (`2020-00-15`, `2020-01-00T10:00:00`, as [`baas_core::value`] writes
/// dates and timestamps), from its binary form (a length, then the year,
/// month, day, hour, minute, second and microseconds) or its text;
/// `None` for any other value.
fn zero_in_date(v: MySqlValueRef<'_>, datetime: bool) -> Option<String> {
    let b: &[u8] = MySqlEngine::dec(v).ok()?;
    // The text protocol's form starts with a digit; the binary one's
    // length byte is 0, 4, 7 or 11.
    if b.first().is_some_and(u8::is_ascii_digit) {
        let mut t = std::str::from_utf8(b).ok()?.replacen(' ', "T", 1);
        // The fraction as the binary form's is written: without the zeros
        // that end it.
        if t.contains('.') {
            t.truncate(t.trim_end_matches('0').trim_end_matches('.').len());
        }
        return baas_core::value::is_zero_in_date(&t).then_some(t);
    }
    let (&len, rest) = b.split_first()?;
    let rest = rest.get(..usize::from(len))?;
    let [y0, y1, month, day, time @ ..] = rest else {
        return None;
    };
    if *month != 0 && *day != 0 {
        return None;
    }
    let year = u16::from_le_bytes([*y0, *y1]);
    let mut text = format!("{year:04}-{month:02}-{day:02}");
    if let ([], true) = (time, datetime) {
        // Midnight: the binary form sends the date alone.
        text.push_str("T00:00:00");
    } else if let [h, m, s, micros @ ..] = time {
        let us = match micros {
            [a, b, c, d] => u32::from_le_bytes([*a, *b, *c, *d]),
            _ => 0,
        };
        let t = sqlx::types::chrono::NaiveTime::from_hms_micro_opt(
            u32::from(*h),
            u32::from(*m),
            u32::from(*s),
            us,
        )?;
        text.push('T');
        text.push_str(&baas_core::value::format_time(t));
    }
    Some(text)
}
