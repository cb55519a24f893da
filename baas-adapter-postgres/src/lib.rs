//! # baas-adapter-postgres
//!
//! The PostgreSQL adapter of mini-baas: an sqlx pool in baas-sql's generic
//! [`SqlxBackend`], plus what only PostgreSQL's driver does its own way
//! ([`PgEngine`]): binding parameters, decoding cells (exact `numeric`,
//! arrays, enum labels).
//!
//! | PostgreSQL type | field type | JSON |
//! | --- | --- | --- |
//! | `int2` / `int4` / `int8` | `int16` / `int32` / `int64` | number |
//! | `float4` / `float8` | `float32` / `float64` | number |
//! | `numeric(p,s)` | `decimal` | string, exact (decoded from the binary format, no float) |
//! | `bool` | `boolean` | boolean |
//! | `text`, `varchar`, `char`, `name`, `citext` | `text` | string |
//! | enum types | `enum` | string |
//! | `date` / `time` / `timestamp` / `timestamptz` | same | RFC 3339 (`+00:00` for timestamptz, as PostgreSQL's JSON) |
//! | `uuid` | `uuid` | string |
//! | `json` / `jsonb` | `json` | JSON |
//! | `bytea` | `binary` | `\x` and hex digits |
//! | arrays of the scalars above | `array` | JSON array |
//! | composite types, arrays of them | `json` (its `db_type` the type) | the object of its attributes in their order (an array of objects), as PostgREST answers it; written from one (`jsonb_populate_record`); `->`/`->>` step into it |
//!
//! ```no_run
//! # async fn demo() -> baas_core::Result<()> {
//! use baas_adapter_postgres::{connect, PgConfig};
//! let adapter = connect(PgConfig::new("postgres://postgres@127.0.0.1/chinook")).await?;
//! # Ok(()) }
//! ```
#![warn(missing_docs)]

use std::time::Duration;

use baas_core::{Capabilities, Result, Value};
use baas_sql::sea_query::Value as SqValue;
use baas_sql::{Dialect, ExecResult, SqlAdapter, SqlxBackend, SqlxEngine};
use sqlx::error::BoxDynError;
use sqlx::postgres::{PgArguments, PgPoolOptions, PgQueryResult, PgValueFormat, PgValueRef};
use sqlx::{Arguments, Postgres};

/// Connection settings.
#[derive(Debug, Clone)]
pub struct PgConfig {
    /// `postgres://user:pass@host:port/db`.
    pub url: String,
    /// Pool size cap.
    pub max_connections: u32,
    /// How long to wait for a free connection before `Unavailable`.
    pub acquire_timeout: Duration,
    /// The longest one statement may run before PostgreSQL cancels it
    /// (`statement_timeout`, set on each connection when it opens, by a
    /// `SET` rather than a startup parameter, which poolers such as
    /// PgBouncer refuse by default; the request then fails with
    /// [`baas_core::Error::Timeout`]). `None`: the database's own setting.
    pub statement_timeout: Option<Duration>,
}

impl PgConfig {
    /// Defaults: 10 connections, 5 s acquire timeout, the database's own
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

/// The PostgreSQL adapter.
pub type PgAdapter = SqlAdapter<PgBackend>;

/// The PostgreSQL [`SqlBackend`](baas_sql::SqlBackend): a pool plus
/// PostgreSQL's binding and decoding ([`PgEngine`]).
pub type PgBackend = SqlxBackend<PgEngine>;

/// Open a pool (one connection is made now to fail fast) and wrap it in the
/// generic SQL adapter.
pub async fn connect(cfg: PgConfig) -> Result<PgAdapter> {
    let mut pool = PgPoolOptions::new();
    if let Some(t) = cfg.statement_timeout {
        // Once per connection, never per request. A number only.
        let set = format!("SET statement_timeout = {}", t.as_millis().max(1));
        pool = pool.after_connect(move |conn, _| {
            let set = set.clone();
            Box::pin(async move {
                sqlx::raw_sql(sqlx::AssertSqlSafe(set))
                    .execute(&mut *conn)
                    .await
                    .map(|_| ())
            })
        });
    }
    let pool = pool
        .max_connections(cfg.max_connections)
        .acquire_timeout(cfg.acquire_timeout)
        .connect(&cfg.url)
        .await
        .map_err(|e| baas_sql::map_connect_error("postgres", &cfg.url, e))?;
    Ok(SqlAdapter::new(PgBackend::from_pool(pool)))
}

/// What PostgreSQL's driver does its own way: binding, cell decoding.
#[derive(Debug, Clone, Copy)]
pub struct PgEngine;

impl SqlxEngine for PgEngine {
    type Db = Postgres;

    const DIALECT: Dialect = Dialect::Postgres;

    fn capabilities() -> Capabilities {
        use baas_core::value::TemporalText as T;
        let mut caps = Capabilities::all("postgres");
        // MySQL's zero-in-dates and durations are no PostgreSQL values.
        caps.temporal_texts = vec![T::Infinite, T::FarYear, T::EndOfDay];
        caps
    }

    fn error_detail(db: &(dyn sqlx::error::DatabaseError + 'static)) -> Option<String> {
        db.try_downcast_ref::<sqlx::postgres::PgDatabaseError>()
            .and_then(|e| e.detail())
            .map(str::to_string)
    }

    fn error_hint(db: &(dyn sqlx::error::DatabaseError + 'static)) -> Option<String> {
        db.try_downcast_ref::<sqlx::postgres::PgDatabaseError>()
            .and_then(|e| e.hint())
            .map(str::to_string)
    }

    fn bind(
        args: &mut PgArguments,
        value: SqValue,
    ) -> Option<std::result::Result<(), BoxDynError>> {
        let a = args;
        Some(match value {
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
            _ => return None,
        })
    }

    /// Built-in type names come upper case from sqlx; user types (`citext`,
    /// enums, domains) are upper-cased here, only them (copying every name
    /// cost one allocation per decoded cell).
    fn decode(v: PgValueRef<'_>, name: &str) -> std::result::Result<Value, String> {
        let upper;
        let name = if name.bytes().any(|b| b.is_ascii_lowercase()) {
            upper = name.to_ascii_uppercase();
            upper.as_str()
        } else {
            name
        };
        Ok(match name {
            "BOOL" => Value::Bool(Self::dec(v)?),
            "INT2" => Value::Int(i64::from(Self::dec::<i16>(v)?)),
            "INT4" => Value::Int(i64::from(Self::dec::<i32>(v)?)),
            "INT8" => Value::Int(Self::dec(v)?),
            "OID" => Value::Int(i64::from(Self::dec::<sqlx::postgres::types::Oid>(v)?.0)),
            "FLOAT4" => Value::Float(f64::from(Self::dec::<f32>(v)?)),
            "FLOAT8" => Value::Float(Self::dec(v)?),
            "NUMERIC" => Value::Decimal(numeric_text(v)?),
            // Decoded here, not by sqlx: its decoding panics on
            // `infinity` and wraps `24:00:00` to midnight.
            "DATE" | "TIME" | "TIMESTAMP" | "TIMESTAMPTZ"
                if v.format() == PgValueFormat::Binary =>
            {
                array_element(v.as_bytes().map_err(|e| e.to_string())?, name)?
            }
            "DATE" => Value::Date(Self::dec(v)?),
            "TIME" => Value::Time(Self::dec(v)?),
            "TIMESTAMP" => Value::Timestamp(Self::dec(v)?),
            "TIMESTAMPTZ" => Value::TimestampTz(Self::dec(v)?),
            "UUID" => Value::Uuid(Self::dec(v)?),
            "JSON" | "JSONB" => Value::Json(Self::dec(v)?),
            "BYTEA" => Value::Bytes(Self::dec(v)?),
            "TEXT" | "VARCHAR" | "BPCHAR" | "NAME" | "CHAR" | "CITEXT" | "UNKNOWN" => {
                Value::Text(Self::dec(v)?)
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

    fn exec_result(result: &PgQueryResult) -> ExecResult {
        ExecResult {
            affected: result.rows_affected(),
            last_insert_id: None,
        }
    }
}

/// Decode a PostgreSQL array of `elem` (a type name, upper case) from its
/// binary form, at any number of dimensions: a multi-dimensional array
/// (`{{1,2},{3,4}}`, which an `int[]` column may hold) is nested JSON
/// arrays, as PostgREST answers it. The elements are decoded as the
/// scalars of [`PgEngine::decode`] are; an element type with no binary
/// decoding here (an enum) is its text.
fn decode_array(v: PgValueRef<'_>, elem: &str) -> std::result::Result<Value, String> {
    if v.format() != PgValueFormat::Binary {
        return Err(format!("an array of `{elem}` in text form"));
    }
    let mut r = Reader(v.as_bytes().map_err(|e| e.to_string())?);
    let ndim = r.i32()?;
    let _has_nulls = r.i32()?;
    let _oid = r.i32()?;
    // At most PostgreSQL's MAXDIM dimensions.
    if !usize::try_from(ndim).is_ok_and(|n| n <= baas_core::value::MAX_ARRAY_DIMS) {
        return Err(format!("an array of {ndim} dimensions"));
    }
    let mut dims = Vec::new();
    for _ in 0..ndim {
        let len = usize::try_from(r.i32()?).map_err(|_| "a negative array length")?;
        let _lower = r.i32()?;
        dims.push(len);
    }
    if dims.is_empty() {
        return Ok(Value::Array(Vec::new()));
    }
    let value = array_level(&mut r, &dims, elem)?;
    if !r.0.is_empty() {
        return Err("trailing bytes after an array".into());
    }
    Ok(value)
}

/// The elements of one level of an array of `dims` (outermost first).
fn array_level(
    r: &mut Reader<'_>,
    dims: &[usize],
    elem: &str,
) -> std::result::Result<Value, String> {
    let Some((&len, inner)) = dims.split_first() else {
        return Err("an array without dimensions".into());
    };
    // Each element takes at least its 4-byte length: a length the bytes
    // cannot hold is malformed (and no allocation trusts it).
    if len > r.0.len() / 4 + 1 {
        return Err("an array longer than its bytes".into());
    }
    let mut items = Vec::with_capacity(len);
    for _ in 0..len {
        items.push(if inner.is_empty() {
            let n = r.i32()?;
            if n < 0 {
                Value::Null
            } else {
                array_element(r.take(usize::try_from(n).unwrap_or(0))?, elem)?
            }
        } else {
            array_level(r, inner, elem)?
        });
    }
    Ok(Value::Array(items))
}

/// One element of an array of `elem`, from its binary form.
fn array_element(b: &[u8], elem: &str) -> std::result::Result<Value, String> {
    fn fixed<const N: usize>(b: &[u8]) -> std::result::Result<[u8; N], String> {
        b.try_into()
            .map_err(|_| format!("an element of {} bytes, not {N}", b.len()))
    }
    let text = |b: &[u8]| {
        std::str::from_utf8(b)
            .map(str::to_string)
            .map_err(|_| "an element that is not UTF-8".to_string())
    };
    // PostgreSQL's epoch for dates and timestamps.
    let epoch = chrono::NaiveDate::from_ymd_opt(2000, 1, 1).unwrap_or_default();
    let micros = |us: i64| chrono::Duration::microseconds(us);
    // `infinity` and `-infinity` (the extreme values) answer their text,
    // as PostgreSQL's JSON writes them.
    let timestamp = |b: &[u8]| -> std::result::Result<Value, String> {
        let us = i64::from_be_bytes(fixed(b)?);
        if let Some(text) = infinite(us == i64::MAX, us == i64::MIN) {
            return Ok(text);
        }
        let tz = elem == "TIMESTAMPTZ";
        // Past chrono's years (PostgreSQL's reach 294276): its text.
        let Some(t) = epoch
            .and_hms_opt(0, 0, 0)
            .unwrap_or_default()
            .checked_add_signed(micros(us))
        else {
            return Ok(Value::Text(baas_core::value::format_epoch_micros(us, tz)));
        };
        Ok(if tz {
            Value::TimestampTz(t.and_utc())
        } else {
            Value::Timestamp(t)
        })
    };
    Ok(match elem {
        "BOOL" => Value::Bool(fixed::<1>(b)?[0] != 0),
        "INT2" => Value::Int(i64::from(i16::from_be_bytes(fixed(b)?))),
        "INT4" => Value::Int(i64::from(i32::from_be_bytes(fixed(b)?))),
        "INT8" => Value::Int(i64::from_be_bytes(fixed(b)?)),
        "OID" => Value::Int(i64::from(u32::from_be_bytes(fixed(b)?))),
        "FLOAT4" => Value::Float(f64::from(f32::from_be_bytes(fixed(b)?))),
        "FLOAT8" => Value::Float(f64::from_be_bytes(fixed(b)?)),
        "NUMERIC" => Value::Decimal(numeric_bytes(b)?),
        "UUID" => Value::Uuid(uuid::Uuid::from_bytes(fixed(b)?)),
        "DATE" => {
            let days = i32::from_be_bytes(fixed(b)?);
            match infinite(days == i32::MAX, days == i32::MIN) {
                Some(text) => text,
                // Past chrono's years (PostgreSQL's reach 5874897): its text.
                None => epoch
                    .checked_add_signed(chrono::Duration::days(i64::from(days)))
                    .map_or_else(
                        || Value::Text(baas_core::value::format_epoch_days(i64::from(days))),
                        Value::Date,
                    ),
            }
        }
        "TIME" => match i64::from_be_bytes(fixed(b)?) {
            // PostgreSQL's end of day, which no `NaiveTime` holds.
            MICROS_PER_DAY => Value::Text("24:00:00".into()),
            us => Value::Time(
                chrono::NaiveTime::MIN
                    .overflowing_add_signed(micros(us.rem_euclid(MICROS_PER_DAY)))
                    .0,
            ),
        },
        "TIMESTAMP" | "TIMESTAMPTZ" => timestamp(b)?,
        "JSON" => Value::Json(serde_json::from_str(&text(b)?).map_err(|e| e.to_string())?),
        // JSONB: a version byte (1), then the text.
        "JSONB" => match b.split_first() {
            Some((1, rest)) => {
                Value::Json(serde_json::from_str(&text(rest)?).map_err(|e| e.to_string())?)
            }
            _ => return Err("a jsonb element of an unknown version".into()),
        },
        "BYTEA" => Value::Bytes(b.to_vec()),
        // Text types, and enums: their binary form is the text.
        _ => Value::Text(text(b)?),
    })
}

/// Microseconds in a day: PostgreSQL's `time` holds `24:00:00`, this many.
const MICROS_PER_DAY: i64 = 86_400_000_000;

/// The text of an infinite date or timestamp, if the value is one.
fn infinite(positive: bool, negative: bool) -> Option<Value> {
    match (positive, negative) {
        (true, _) => Some(Value::Text("infinity".into())),
        (_, true) => Some(Value::Text("-infinity".into())),
        _ => None,
    }
}

/// A cursor over the bytes of a binary value.
struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> std::result::Result<&'a [u8], String> {
        if self.0.len() < n {
            return Err("a value shorter than its header says".into());
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Ok(head)
    }

    fn i32(&mut self) -> std::result::Result<i32, String> {
        let b = self.take(4)?;
        Ok(i32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }
}

/// Exact text of a NUMERIC value.
fn numeric_text(v: PgValueRef<'_>) -> std::result::Result<String, String> {
    if v.format() == PgValueFormat::Text {
        return Ok(v.as_str().map_err(|e| e.to_string())?.to_string());
    }
    numeric_bytes(v.as_bytes().map_err(|e| e.to_string())?)
}

/// Exact text of a binary-format NUMERIC: base-10000 digits, weight, sign, scale.
fn numeric_bytes(b: &[u8]) -> std::result::Result<String, String> {
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
