//! # baas-adapter-postgres
//!
//! The PostgreSQL adapter of mini-baas: an sqlx pool, binding of lowered
//! statements, decoding of rows into normalised JSON, error mapping.
//!
//! | PostgreSQL type | field type | JSON |
//! | --- | --- | --- |
//! | `int2` / `int4` / `int8` | `int16` / `int32` / `int64` | number |
//! | `float4` / `float8` | `float32` / `float64` | number |
//! | `numeric(p,s)` | `decimal` | string, exact (decoded from the binary format, no float) |
//! | `bool` | `boolean` | boolean |
//! | `text`, `varchar`, `char`, `name`, `citext` | `text` | string |
//! | enum types | `enum` | string |
//! | `date` / `time` / `timestamp` / `timestamptz` | same | RFC 3339 (`Z` for timestamptz) |
//! | `uuid` | `uuid` | string |
//! | `json` / `jsonb` | `json` | JSON |
//! | `bytea` | `binary` | base64 |
//! | arrays of the scalars above | `array` | JSON array |
//!
//! ```no_run
//! # async fn demo() -> baas_core::Result<()> {
//! use baas_adapter_postgres::{connect, PgConfig};
//! let adapter = connect(PgConfig::new("postgres://postgres@127.0.0.1/chinook")).await?;
//! # Ok(()) }
//! ```
#![warn(missing_docs)]

use std::time::Duration;

use baas_core::{Capabilities, Entity, Error, Result, Value};
use baas_sql::sea_query::Value as SqValue;
use baas_sql::{Dialect, OutColumn, Row, SqlAdapter, Statement, map_sqlx_error};
use sqlx::postgres::{PgArguments, PgPoolOptions, PgRow, PgValueFormat, PgValueRef};
use sqlx::{Arguments, AssertSqlSafe, Postgres, Row as _, TypeInfo, ValueRef};

/// Connection settings.
#[derive(Debug, Clone)]
pub struct PgConfig {
    /// `postgres://user:pass@host:port/db`.
    pub url: String,
    /// Pool size cap.
    pub max_connections: u32,
    /// How long to wait for a free connection before `Unavailable`.
    pub acquire_timeout: Duration,
}

impl PgConfig {
    /// Defaults: 10 connections, 5 s acquire timeout.
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            max_connections: 10,
            acquire_timeout: Duration::from_secs(5),
        }
    }
}

/// The PostgreSQL adapter.
pub type PgAdapter = SqlAdapter<PgBackend>;

/// The PostgreSQL [`SqlBackend`](baas_sql::SqlBackend): a pool plus PostgreSQL's binding and decoding.
#[derive(Debug, Clone)]
pub struct PgBackend {
    pool: sqlx::PgPool,
    caps: Capabilities,
}

/// Open a pool (one connection is made now to fail fast) and wrap it in the
/// generic SQL adapter.
pub async fn connect(cfg: PgConfig) -> Result<PgAdapter> {
    let pool = PgPoolOptions::new()
        .max_connections(cfg.max_connections)
        .acquire_timeout(cfg.acquire_timeout)
        .connect(&cfg.url)
        .await
        .map_err(|e| baas_sql::map_connect_error("postgres", &cfg.url, e))?;
    Ok(SqlAdapter::new(PgBackend::from_pool(pool)))
}

impl PgBackend {
    /// Use an existing pool.
    pub fn from_pool(pool: sqlx::PgPool) -> Self {
        let caps = Capabilities::all("postgres");
        Self { pool, caps }
    }

    /// The pool.
    pub fn pool(&self) -> &sqlx::PgPool {
        &self.pool
    }
}

fn err(e: sqlx::Error) -> Error {
    map_sqlx_error("postgres", e)
}

fn args(params: &[SqValue]) -> Result<PgArguments> {
    let mut a = PgArguments::default();
    for p in params {
        let r = match p.clone() {
            SqValue::Bool(v) => a.add(v),
            SqValue::TinyInt(v) => a.add(v.map(i16::from)),
            SqValue::SmallInt(v) => a.add(v),
            SqValue::Int(v) => a.add(v),
            SqValue::BigInt(v) => a.add(v),
            SqValue::TinyUnsigned(v) => a.add(v.map(i16::from)),
            SqValue::SmallUnsigned(v) => a.add(v.map(i32::from)),
            SqValue::Unsigned(v) => a.add(v.map(i64::from)),
            SqValue::BigUnsigned(v) => a.add(v.map(|u| i64::try_from(u).unwrap_or(i64::MAX))),
            SqValue::Float(v) => a.add(v),
            SqValue::Double(v) => a.add(v),
            SqValue::String(v) => a.add(v),
            SqValue::Char(v) => a.add(v.map(String::from)),
            SqValue::Bytes(v) => a.add(v),
            SqValue::Json(v) => a.add(v.map(|j| *j)),
            SqValue::ChronoDate(v) => a.add(v),
            SqValue::ChronoTime(v) => a.add(v),
            SqValue::ChronoDateTime(v) => a.add(v),
            SqValue::ChronoDateTimeUtc(v) => a.add(v),
            SqValue::Uuid(v) => a.add(v),
            other => return Err(Error::unsupported("postgres", format!("binding {other:?}"))),
        };
        r.map_err(|e| Error::Backend {
            message: format!("postgres: cannot bind a parameter: {e}"),
            source: None,
        })?;
    }
    Ok(a)
}

fn query(stmt: &Statement) -> Result<sqlx::query::Query<'static, Postgres, PgArguments>> {
    Ok(sqlx::query_with(
        AssertSqlSafe(stmt.sql.clone()),
        args(&stmt.params)?,
    ))
}

fn decode_row(row: &PgRow, columns: &[OutColumn]) -> Result<Row> {
    let mut out = Row::with_capacity(columns.len());
    for (i, c) in columns.iter().enumerate() {
        let raw = row.try_get_raw(i).map_err(err)?;
        let v = decode_cell(raw).map_err(|m| Error::Backend {
            message: format!("postgres: column `{}`: {m}", c.key),
            source: None,
        })?;
        let j = v.shape(&c.ty).map_err(|m| Error::Backend {
            message: format!("postgres: column `{}`: {m}", c.key),
            source: None,
        })?;
        out.insert(c.key.clone(), j);
    }
    Ok(out)
}

fn dec<'r, T: sqlx::Decode<'r, Postgres>>(v: PgValueRef<'r>) -> Result<T, String> {
    T::decode(v).map_err(|e| e.to_string())
}

/// Decode one cell by its PostgreSQL type into an engine-neutral [`Value`].
fn decode_cell(v: PgValueRef<'_>) -> Result<Value, String> {
    if v.is_null() {
        return Ok(Value::Null);
    }
    let ty = v.type_info().into_owned();
    // Built-in type names come upper case from sqlx; only user types
    // (`citext`, enums, domains) need an upper-cased copy. Copying every
    // time cost one allocation per decoded cell.
    let upper;
    let name = match ty.name() {
        n if n.bytes().any(|b| b.is_ascii_lowercase()) => {
            upper = n.to_ascii_uppercase();
            upper.as_str()
        }
        n => n,
    };
    Ok(match name {
        "BOOL" => Value::Bool(dec(v)?),
        "INT2" => Value::Int(i64::from(dec::<i16>(v)?)),
        "INT4" => Value::Int(i64::from(dec::<i32>(v)?)),
        "INT8" => Value::Int(dec(v)?),
        "OID" => Value::Int(i64::from(dec::<sqlx::postgres::types::Oid>(v)?.0)),
        "FLOAT4" => Value::Float(f64::from(dec::<f32>(v)?)),
        "FLOAT8" => Value::Float(dec(v)?),
        "NUMERIC" => Value::Decimal(numeric_text(v)?),
        "DATE" => Value::Date(dec(v)?),
        "TIME" => Value::Time(dec(v)?),
        "TIMESTAMP" => Value::Timestamp(dec(v)?),
        "TIMESTAMPTZ" => Value::TimestampTz(dec(v)?),
        "UUID" => Value::Uuid(dec(v)?),
        "JSON" | "JSONB" => Value::Json(dec(v)?),
        "BYTEA" => Value::Bytes(dec(v)?),
        "TEXT" | "VARCHAR" | "BPCHAR" | "NAME" | "CHAR" | "CITEXT" | "UNKNOWN" => {
            Value::Text(dec(v)?)
        }
        n if n.ends_with("[]") => decode_array(v, &n[..n.len() - 2])?,
        // Enums and other text-like user types: their binary form is the label.
        _ => match v.format() {
            PgValueFormat::Text => Value::Text(v.as_str().map_err(|e| e.to_string())?.into()),
            PgValueFormat::Binary => Value::Text(
                std::str::from_utf8(v.as_bytes().map_err(|e| e.to_string())?)
                    .map_err(|_| format!("cannot decode PostgreSQL type `{name}`"))?
                    .to_string(),
            ),
        },
    })
}

fn decode_array(v: PgValueRef<'_>, elem: &str) -> Result<Value, String> {
    fn arr<T>(items: Vec<Option<T>>, f: impl Fn(T) -> Value) -> Value {
        Value::Array(
            items
                .into_iter()
                .map(|o| o.map_or(Value::Null, &f))
                .collect(),
        )
    }
    Ok(match elem {
        "BOOL" => arr(dec::<Vec<Option<bool>>>(v)?, Value::Bool),
        "INT2" => arr(dec::<Vec<Option<i16>>>(v)?, |i| Value::Int(i64::from(i))),
        "INT4" => arr(dec::<Vec<Option<i32>>>(v)?, |i| Value::Int(i64::from(i))),
        "INT8" => arr(dec::<Vec<Option<i64>>>(v)?, Value::Int),
        "FLOAT4" => arr(dec::<Vec<Option<f32>>>(v)?, |f| Value::Float(f64::from(f))),
        "FLOAT8" => arr(dec::<Vec<Option<f64>>>(v)?, Value::Float),
        "TEXT" | "VARCHAR" | "BPCHAR" | "NAME" => arr(dec::<Vec<Option<String>>>(v)?, Value::Text),
        "UUID" => arr(dec::<Vec<Option<uuid::Uuid>>>(v)?, Value::Uuid),
        "DATE" => arr(dec::<Vec<Option<chrono::NaiveDate>>>(v)?, Value::Date),
        "TIMESTAMP" => arr(
            dec::<Vec<Option<chrono::NaiveDateTime>>>(v)?,
            Value::Timestamp,
        ),
        "TIMESTAMPTZ" => arr(
            dec::<Vec<Option<chrono::DateTime<chrono::Utc>>>>(v)?,
            Value::TimestampTz,
        ),
        "JSONB" | "JSON" => arr(dec::<Vec<Option<serde_json::Value>>>(v)?, Value::Json),
        other => return Err(format!("arrays of `{other}` are not supported yet")),
    })
}

/// Exact text of a binary-format NUMERIC: base-10000 digits, weight, sign, scale.
fn numeric_text(v: PgValueRef<'_>) -> Result<String, String> {
    if v.format() == PgValueFormat::Text {
        return Ok(v.as_str().map_err(|e| e.to_string())?.to_string());
    }
    let b = v.as_bytes().map_err(|e| e.to_string())?;
    if b.len() < 8 {
        return Err("short NUMERIC".into());
    }
    let rd = |i: usize| u16::from_be_bytes([b[i], b[i + 1]]);
    let ndigits = rd(0) as usize;
    let weight = rd(2) as i16 as i32;
    let sign = rd(4);
    let dscale = rd(6) as usize;
    match sign {
        0xC000 => return Ok("NaN".into()),
        0xD000 => return Ok("Infinity".into()),
        0xF000 => return Ok("-Infinity".into()),
        _ => {}
    }
    if b.len() < 8 + 2 * ndigits {
        return Err("short NUMERIC".into());
    }
    let digits: Vec<u16> = (0..ndigits).map(|i| rd(8 + 2 * i)).collect();
    let mut int_part = String::new();
    for w in 0..=weight.max(-1) {
        let d = digits.get(w as usize).copied().unwrap_or(0);
        if int_part.is_empty() {
            int_part = d.to_string();
        } else {
            int_part.push_str(&format!("{d:04}"));
        }
    }
    if int_part.is_empty() {
        int_part.push('0');
    }
    let mut frac = String::new();
    let mut w = weight + 1;
    while frac.len() < dscale {
        let d = if w < 0 {
            0
        } else {
            digits.get(w as usize).copied().unwrap_or(0)
        };
        frac.push_str(&format!("{d:04}"));
        w += 1;
    }
    frac.truncate(dscale);
    let sign = if sign == 0x4000 { "-" } else { "" };
    Ok(if frac.is_empty() {
        format!("{sign}{int_part}")
    } else {
        format!("{sign}{int_part}.{frac}")
    })
}

baas_sql::sqlx_backend! {
    backend: PgBackend,
    db: Postgres,
    dialect: Dialect::Postgres,
    transaction: PgTx,
    query: query,
    decode: decode_row,
    err: err,
    last_insert_id: |_result| None,
    extra: {
        async fn estimated_rows(&self, entity: &Entity) -> Result<Option<u64>> {
            let name = match &entity.source.schema {
                Some(s) => format!("{}.{}", quote(s), quote(&entity.source.table)),
                None => quote(&entity.source.table),
            };
            let est: Option<f32> =
                sqlx::query_scalar("SELECT reltuples FROM pg_class WHERE oid = to_regclass($1)")
                    .bind(name)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(err)?;
            // -1 means "never analysed": no estimate.
            Ok(est.filter(|n| *n >= 0.0).map(|n| n as u64))
        }
    }
}

fn quote(ident: &str) -> String {
    format!("\"{}\"", ident.replace('"', "\"\""))
}
