//! mini-baas's own value type and the JSON normalisation rules.
//!
//! [`Value`] is what the IR carries (filter operands, inserted fields) after it
//! has been *typed* against metadata by [`Value::coerce`]. Records leave the
//! adapters as `serde_json` objects shaped by the same rules on every engine:
//!
//! | field type | JSON |
//! | --- | --- |
//! | `text`, `enum` | string |
//! | `int16/32/64` | number (integers) |
//! | `float32/64` | number |
//! | `decimal` | number written with its exact digits, padded to the scale when the scale is known (`0.99`, `1.00`, as PostgREST); a string for a tenant that keeps decimals as strings ([`AnswerFormat`]), and for `NaN` and the infinities |
//! | `boolean` | `true` / `false` (also MySQL `TINYINT(1)`, SQLite 0/1) |
//! | `date` | `"2009-01-01"` |
//! | `time` | `"13:45:00"`, `"13:45:00.5"` (a fraction only when non-zero, without the zeros that end it, as PostgreSQL writes it) |
//! | `timestamp` | `"2009-01-01T00:00:00"` (RFC 3339 without offset; the fraction as `time`'s) |
//! | `timestamptz` | `"2009-01-01T00:00:00+00:00"` (RFC 3339 in UTC, as PostgreSQL's JSON with the zone UTC, so PostgREST's; in a caller's zone, `-08:00`, with [`AnswerFormat::zone`]) |
//! | `uuid` | lowercase hyphenated string |
//! | `json` | the JSON itself |
//! | `binary` | `"\\x0aff"`: `\x` and two lowercase hex digits a byte, PostgreSQL's `bytea` text as PostgREST answers it; written as that (either case) or as base64 (standard alphabet, padded) ([`bytes_json`], [`parse_bytes`]) |
//! | `array` | JSON array of the element shape |
//! | `objectid` | 24 lowercase hex digits |

use base64::Engine as _;
use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, SecondsFormat, Utc};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::metadata::FieldType;

/// A typed value.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Value {
    /// SQL NULL / JSON null.
    Null,
    /// Boolean.
    Bool(bool),
    /// Integer (any width up to 64 bits).
    Int(i64),
    /// Floating point.
    Float(f64),
    /// Exact decimal as canonical text (`-12.50`).
    Decimal(String),
    /// Text.
    Text(String),
    /// Bytes.
    Bytes(Vec<u8>),
    /// Date.
    Date(NaiveDate),
    /// Time of day.
    Time(NaiveTime),
    /// Timestamp without zone.
    Timestamp(NaiveDateTime),
    /// Instant in UTC.
    TimestampTz(DateTime<Utc>),
    /// UUID.
    Uuid(uuid::Uuid),
    /// Arbitrary JSON.
    Json(serde_json::Value),
    /// Array of values.
    Array(Vec<Value>),
}

/// The JSON text of bytes: `\x` and two lowercase hex digits a byte,
/// as PostgreSQL writes a `bytea` (so PostgREST answers it).
pub fn bytes_json(b: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(2 + 2 * b.len());
    s.push_str("\\x");
    for &byte in b {
        s.push(HEX[usize::from(byte >> 4)] as char);
        s.push(HEX[usize::from(byte & 0xf)] as char);
    }
    s
}

/// Bytes from their JSON text: PostgreSQL's hex form (`\x0aFF`, as
/// [`bytes_json`] writes it and PostgREST clients send it), or base64
/// (standard alphabet, padded). PostgreSQL's escape form (any other text
/// as its own bytes) is not read: such a string is taken as base64.
pub fn parse_bytes(s: &str) -> Result<Vec<u8>, String> {
    if let Some(hex) = s.strip_prefix("\\x") {
        let digit = |c: u8| match c {
            b'0'..=b'9' => Some(c - b'0'),
            b'a'..=b'f' => Some(c - b'a' + 10),
            b'A'..=b'F' => Some(c - b'A' + 10),
            _ => None,
        };
        let bad = || "expected bytes as `\\x` and an even number of hex digits".to_string();
        if hex.len() % 2 != 0 {
            return Err(bad());
        }
        return hex
            .as_bytes()
            .chunks_exact(2)
            .map(|p| match (digit(p[0]), digit(p[1])) {
                (Some(high), Some(low)) => Ok(high << 4 | low),
                _ => Err(bad()),
            })
            .collect();
    }
    base64::engine::general_purpose::STANDARD
        .decode(s)
        .map_err(|_| "expected bytes as `\\x` and hex digits, or base64".to_string())
}

impl Value {
    /// Whether this is [`Value::Null`].
    pub fn is_null(&self) -> bool {
        matches!(self, Self::Null)
    }

    /// The JSON form of the value, by the normalisation rules.
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value as J;
        match self {
            Self::Null => J::Null,
            Self::Bool(b) => J::Bool(*b),
            Self::Int(i) => J::from(*i),
            Self::Float(f) => float_json(*f),
            Self::Decimal(d) => decimal_json(d),
            Self::Text(s) => J::String(s.clone()),
            Self::Bytes(b) => J::String(bytes_json(b)),
            Self::Date(d) => J::String(format_date(*d)),
            Self::Time(t) => J::String(format_time(*t)),
            Self::Timestamp(t) => J::String(format_timestamp(*t)),
            Self::TimestampTz(t) => J::String(format_timestamptz(*t)),
            Self::Uuid(u) => J::String(u.hyphenated().to_string()),
            Self::Json(j) => j.clone(),
            Self::Array(a) => J::Array(a.iter().map(Self::to_json).collect()),
        }
    }

    /// An untyped value from JSON (numbers become `Int` or `Float`, strings `Text`,
    /// objects `Json`, arrays `Array`). [`Value::coerce`] gives it its field type.
    ///
    /// A number with a fraction or an exponent and more significant digits
    /// than a double keeps (over 15) becomes `Decimal` with its exact text,
    /// so a decimal column stores every digit the client sent (a float
    /// column still takes it, rounded).
    pub fn from_json(j: &serde_json::Value) -> Self {
        use serde_json::Value as J;
        match j {
            J::Null => Self::Null,
            J::Bool(b) => Self::Bool(*b),
            J::Number(n) => match n.as_i64() {
                Some(i) => Self::Int(i),
                None => {
                    let text = n.to_string();
                    if exceeds_double(&text) {
                        Self::Decimal(text)
                    } else {
                        Self::Float(n.as_f64().unwrap_or(f64::NAN))
                    }
                }
            },
            J::String(s) => Self::Text(s.clone()),
            J::Array(a) => Self::Array(a.iter().map(Self::from_json).collect()),
            J::Object(_) => Self::Json(j.clone()),
        }
    }

    /// This value as a caller in `zone` means it for a field of type `ty`,
    /// where that differs from what it means in UTC: a `timestamptz` text
    /// without an offset (`2024-05-01T10:00`) is that zone's local time,
    /// as PostgreSQL reads it in the session's `TimeZone`
    /// ([`Zone::instant`](crate::zone::Zone::instant)); so each element of
    /// an array. `Ok(None)` when the value means the same in every zone (an
    /// offset given, another type): [`Value::coerce`] then reads it; an
    /// error for a local time with no instant (past chrono's range).
    pub fn in_zone(
        &self,
        ty: &FieldType,
        zone: crate::zone::Zone,
    ) -> Result<Option<Value>, String> {
        match (ty, self) {
            (FieldType::TimestampTz, Self::Text(s)) if parse_timestamptz(s).is_none() => {
                let Some(local) = parse_local_timestamp(s) else {
                    return Ok(None);
                };
                zone.instant(local)
                    .map(|t| Some(Self::TimestampTz(t)))
                    .ok_or_else(|| format!("`{s}` is out of range in {zone}"))
            }
            (FieldType::Array { items }, Self::Array(values)) => {
                let mut zoned = Vec::with_capacity(values.len());
                for v in values {
                    // An array of arrays: each inner array is of `ty` too.
                    let ty = if matches!(v, Self::Array(_)) {
                        ty
                    } else {
                        items
                    };
                    zoned.push(v.in_zone(ty, zone)?);
                }
                Ok(zoned.iter().any(Option::is_some).then(|| {
                    Self::Array(
                        zoned
                            .into_iter()
                            .zip(values)
                            .map(|(z, v)| z.unwrap_or_else(|| v.clone()))
                            .collect(),
                    )
                }))
            }
            _ => Ok(None),
        }
    }

    /// Give a value the type of a field, converting where the conversion is
    /// lossless and unambiguous (`"2009-01-01"` → date, `5` → decimal `"5"`,
    /// `"42"` is *not* an integer). Returns a message on failure; callers add the
    /// JSON pointer.
    pub fn coerce(&self, ty: &FieldType) -> Result<Value, String> {
        if self.is_null() {
            return Ok(Self::Null);
        }
        let mismatch = || format!("expected {}, got {}", ty.name(), self.kind_name());
        Ok(match (ty, self) {
            (FieldType::Text, Self::Text(s)) => Self::Text(s.clone()),
            (FieldType::Enum { values, .. }, Self::Text(s)) => {
                if values.is_empty() || values.contains(s) {
                    Self::Text(s.clone())
                } else {
                    return Err(format!("`{s}` is not one of {}", values.join(", ")));
                }
            }
            (FieldType::Int16, Self::Int(i)) => {
                i16::try_from(*i).map_err(|_| format!("{i} is out of range for int16"))?;
                Self::Int(*i)
            }
            (FieldType::Int32, Self::Int(i)) => {
                i32::try_from(*i).map_err(|_| format!("{i} is out of range for int32"))?;
                Self::Int(*i)
            }
            (FieldType::Int64, Self::Int(i)) => Self::Int(*i),
            (FieldType::Int16 | FieldType::Int32 | FieldType::Int64, Self::Float(f))
                if f.fract() == 0.0 && f.abs() < 9.0e15 =>
            {
                return Self::Int(*f as i64).coerce(ty);
            }
            (FieldType::Float32 | FieldType::Float64, Self::Int(i)) => Self::Float(*i as f64),
            (FieldType::Float32 | FieldType::Float64, Self::Float(f)) => Self::Float(*f),
            (FieldType::Float32 | FieldType::Float64, Self::Decimal(s)) => {
                Self::Float(s.parse::<f64>().map_err(|_| mismatch())?)
            }
            (FieldType::Decimal { scale, .. }, Self::Int(i)) => {
                Self::Decimal(normalize_decimal(&i.to_string(), *scale).ok_or_else(mismatch)?)
            }
            (FieldType::Decimal { scale, .. }, Self::Float(f)) => {
                Self::Decimal(normalize_decimal(&f.to_string(), *scale).ok_or_else(mismatch)?)
            }
            (FieldType::Decimal { scale, .. }, Self::Text(s) | Self::Decimal(s)) => Self::Decimal(
                normalize_decimal(s, *scale).ok_or_else(|| format!("`{s}` is not a decimal"))?,
            ),
            (FieldType::Boolean, Self::Bool(b)) => Self::Bool(*b),
            // A timestamp's text is its date as written (the offset
            // ignored), as PostgreSQL reads a date: JavaScript's
            // `toISOString()` into a date field.
            (FieldType::Date, Self::Text(s)) => Self::Date(
                NaiveDate::parse_from_str(s, "%Y-%m-%d")
                    .ok()
                    .or_else(|| basic_date(s))
                    .or_else(|| parse_local_timestamp(s).map(|t| t.date()))
                    .ok_or_else(|| format!("`{s}` is not a date (YYYY-MM-DD)"))?,
            ),
            (FieldType::Time, Self::Text(s)) => Self::Time(
                NaiveTime::parse_from_str(s, "%H:%M:%S%.f")
                    .or_else(|_| NaiveTime::parse_from_str(s, "%H:%M"))
                    .map_err(|_| format!("`{s}` is not a time (HH:MM:SS)"))?,
            ),
            (FieldType::Timestamp, Self::Text(s)) => Self::Timestamp(
                parse_timestamp(s).ok_or_else(|| format!("`{s}` is not an RFC 3339 timestamp"))?,
            ),
            // Without an offset: in UTC, every session's zone.
            (FieldType::TimestampTz, Self::Text(s)) => Self::TimestampTz(
                parse_timestamptz(s)
                    .or_else(|| parse_local_timestamp(s).map(|t| t.and_utc()))
                    .ok_or_else(|| format!("`{s}` is not an RFC 3339 timestamp"))?,
            ),
            (FieldType::Uuid, Self::Text(s)) => {
                Self::Uuid(uuid::Uuid::parse_str(s).map_err(|_| format!("`{s}` is not a UUID"))?)
            }
            (FieldType::ObjectId, Self::Text(s)) => {
                if s.len() == 24 && s.bytes().all(|b| b.is_ascii_hexdigit()) {
                    Self::Text(s.to_ascii_lowercase())
                } else {
                    return Err(format!("`{s}` is not a 24-hex-digit ObjectId"));
                }
            }
            (FieldType::Json, v) => Self::Json(v.to_json()),
            (FieldType::Binary, Self::Text(s)) => Self::Bytes(parse_bytes(s)?),
            (FieldType::Binary, Self::Bytes(b)) => Self::Bytes(b.clone()),
            (FieldType::Array { items }, Self::Array(a)) => Self::Array(
                a.iter()
                    .enumerate()
                    .map(|(i, v)| {
                        if v.is_sub_array(items) {
                            v.coerce(ty)
                        } else {
                            v.coerce(items)
                        }
                        .map_err(|e| format!("item {i}: {e}"))
                    })
                    .collect::<Result<_, _>>()?,
            ),
            // Already-typed values pass through when they match.
            (FieldType::Date, Self::Date(_))
            | (FieldType::Time, Self::Time(_))
            | (FieldType::Timestamp, Self::Timestamp(_))
            | (FieldType::TimestampTz, Self::TimestampTz(_))
            | (FieldType::Uuid, Self::Uuid(_)) => self.clone(),
            _ => return Err(mismatch()),
        })
    }

    /// A request body's value for a field of type `ty`, read as PostgreSQL
    /// reads a JSON value into a column (`json_populate_record`, which is
    /// how PostgREST writes a body): [`Value::coerce_write`], and where that
    /// refuses, the value's text read as the type's input, the same on
    /// every engine:
    ///
    /// - a string for an integer (`"42"`, `"-7"`) or a float (`"2.5"`,
    ///   `"1e3"`): its number, then the column's rules (range, finite);
    /// - a string for a boolean: PostgreSQL's forms, case-insensitively:
    ///   `t`/`true`/`y`/`yes`/`on`/`1` and `f`/`false`/`n`/`no`/`off`/`0`
    ///   (and a prefix of `true`, `false`, `yes`, `no`);
    /// - a number or a boolean for a text: its JSON text (`5` → `"5"`,
    ///   `true` → `"true"`).
    ///
    /// Spaces around a number's or a boolean's text (a decimal's too) are
    /// skipped, as PostgreSQL's input functions skip them (`" 5 "` is 5);
    /// a text of spaces only stays refused.
    ///
    /// Other mismatches keep [`Value::coerce_write`]'s refusal. The JSON
    /// Schema of a write ([`crate::json_schema`]) describes the canonical
    /// types only: what a client should send, not all the server reads.
    ///
    /// ```
    /// use baas_core::{FieldType, Value};
    /// assert_eq!(Value::from("42").coerce_body(&FieldType::Int32), Ok(Value::Int(42)));
    /// assert_eq!(Value::from("yes").coerce_body(&FieldType::Boolean), Ok(Value::Bool(true)));
    /// assert_eq!(Value::Int(5).coerce_body(&FieldType::Text), Ok(Value::from("5")));
    /// assert!(Value::from("4x").coerce_body(&FieldType::Int32).is_err());
    /// assert_eq!(Value::from(" 7\n").coerce_body(&FieldType::Int64), Ok(Value::Int(7)));
    /// ```
    pub fn coerce_body(&self, ty: &FieldType) -> Result<Value, String> {
        self.coerce_write(ty).or_else(|refused| {
            if let Some(v) = self.read_as_input(ty) {
                return v.coerce_write(ty);
            }
            // PostgreSQL's number and boolean inputs skip the spaces
            // around the text (`isspace`: also a tab, a line feed…).
            let spaces = |c: char| matches!(c, ' ' | '\t' | '\n' | '\r' | '\x0B' | '\x0C');
            match self {
                Self::Text(t) if ty.is_numeric() || *ty == FieldType::Boolean => {
                    let trimmed = t.trim_matches(spaces);
                    if trimmed.len() == t.len() || trimmed.is_empty() {
                        return Err(refused);
                    }
                    Self::Text(trimmed.to_string())
                        .coerce_body(ty)
                        .map_err(|_| refused)
                }
                _ => Err(refused),
            }
        })
    }

    /// This value read as the input of a column of type `ty`, where
    /// PostgreSQL reads it so and [`Value::coerce_write`] does not
    /// ([`Value::coerce_body`]).
    fn read_as_input(&self, ty: &FieldType) -> Option<Value> {
        // Spaces around the text are skipped by `coerce_body` first.
        match (ty, self) {
            (FieldType::Int16 | FieldType::Int32 | FieldType::Int64, Self::Text(t)) => {
                let digits = t.strip_prefix(['+', '-']).unwrap_or(t);
                if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                    return None;
                }
                t.parse::<i64>().ok().map(Self::Int)
            }
            (FieldType::Float32 | FieldType::Float64, Self::Text(t)) => {
                let unsigned = t.strip_prefix(['+', '-']).unwrap_or(t);
                // Digits, a point and an exponent only: not `inf`/`NaN`
                // (not finite) nor spaces.
                let number = unsigned.starts_with(|c: char| c.is_ascii_digit() || c == '.')
                    && unsigned.bytes().all(|b| {
                        b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'+' | b'-')
                    });
                if number {
                    t.parse::<f64>().ok().map(Self::Float)
                } else {
                    None
                }
            }
            (FieldType::Boolean, Self::Text(t)) => {
                let t = t.to_ascii_lowercase();
                let prefix_of = |word: &str| !t.is_empty() && word.starts_with(t.as_str());
                if t == "1" || t == "on" || prefix_of("true") || prefix_of("yes") {
                    Some(Self::Bool(true))
                } else if t == "0"
                    || t == "of"
                    || t == "off"
                    || prefix_of("false")
                    || prefix_of("no")
                {
                    Some(Self::Bool(false))
                } else {
                    None
                }
            }
            (FieldType::Text, Self::Decimal(d)) => Some(Self::Text(d.clone())),
            (FieldType::Text, Self::Int(_) | Self::Float(_) | Self::Bool(_)) => {
                Some(Self::Text(self.to_json().to_string()))
            }
            _ => None,
        }
    }

    /// Give a value the type of a field *for a write*: [`Value::coerce`],
    /// plus the rules of the column the value is stored in, the same on every
    /// engine (PostgreSQL's):
    ///
    /// - `decimal(p,s)`: exact text (no float round trip for strings), at
    ///   most `p − s` digits before the point, rounded half away from zero to
    ///   `s` fraction digits (`decimal(p)` is `decimal(p,0)`); exponents up to
    ///   ±1000; no spaces, signs only in front, no `NaN` / `Infinity`, no hex
    ///   or `_` separators ([`decimal_for_write`]);
    /// - `float32` / `float64`: finite only; `float32` refuses values that
    ///   overflow it or underflow to zero, and is rounded to the `f32` it
    ///   stores; `-0` is written as `0`;
    /// - integers: the range of the width.
    pub fn coerce_write(&self, ty: &FieldType) -> Result<Value, String> {
        match (ty, self) {
            (_, Self::Null) => Ok(Self::Null),
            // A JSON number with more digits than a double keeps, sent to
            // a float column: the float rules apply to its rounded value.
            (FieldType::Float32 | FieldType::Float64, Self::Decimal(_)) => {
                self.coerce(ty)?.coerce_write(ty)
            }
            (FieldType::Decimal { precision, scale }, Self::Int(i)) => {
                decimal_for_write(&i.to_string(), *precision, *scale).map(Self::Decimal)
            }
            (FieldType::Decimal { precision, scale }, Self::Float(f)) => {
                if !f.is_finite() {
                    return Err(NON_FINITE.into());
                }
                decimal_for_write(&f.to_string(), *precision, *scale).map(Self::Decimal)
            }
            (FieldType::Decimal { precision, scale }, Self::Text(s) | Self::Decimal(s)) => {
                decimal_for_write(s, *precision, *scale).map(Self::Decimal)
            }
            (FieldType::Float32 | FieldType::Float64, Self::Int(_) | Self::Float(_)) => {
                let f = match self {
                    Self::Int(i) => *i as f64,
                    Self::Float(f) => *f,
                    _ => 0.0,
                };
                if !f.is_finite() {
                    return Err(NON_FINITE.into());
                }
                if *ty == FieldType::Float64 {
                    return Ok(Self::Float(if f == 0.0 { 0.0 } else { f }));
                }
                let g = f as f32;
                if g.is_infinite() {
                    Err(format!("{f} is out of range for float32"))
                } else if g == 0.0 && f != 0.0 {
                    Err(format!("{f} is too small for float32 (it would become 0)"))
                } else {
                    Ok(Self::Float(if g == 0.0 { 0.0 } else { f64::from(g) }))
                }
            }
            (FieldType::Int16 | FieldType::Int32 | FieldType::Int64, Self::Float(f))
                if f.fract() != 0.0 || !f.is_finite() || f.abs() >= 9.0e15 =>
            {
                if f.is_finite() && f.fract() == 0.0 {
                    if f.abs() >= 9.2e18 {
                        Err(format!("{f} is out of range for {}", ty.name()))
                    } else {
                        Err(format!(
                            "{f} is not exact as a float: write integers beyond ±9·10¹⁵ without a fraction or exponent"
                        ))
                    }
                } else {
                    Err(format!(
                        "expected {}, got a number with a fraction",
                        ty.name()
                    ))
                }
            }
            (FieldType::Array { items }, Self::Array(a)) => {
                if a.iter().any(|v| v.is_sub_array(items)) {
                    array_dims(a, 1)?;
                }
                Ok(Self::Array(
                    a.iter()
                        .enumerate()
                        .map(|(i, v)| {
                            if v.is_sub_array(items) {
                                v.coerce_write(ty)
                            } else {
                                v.coerce_write(items)
                            }
                            .map_err(|e| format!("item {i}: {e}"))
                        })
                        .collect::<Result<_, _>>()?,
                ))
            }
            // Years 0000–9999 only, on every engine: MySQL stores no other,
            // and RFC 3339 (the `format: date` / `date-time` the OpenAPI
            // document promises for reads) writes no other.
            (FieldType::Date | FieldType::Timestamp | FieldType::TimestampTz, _) => {
                use chrono::Datelike;
                let v = self.coerce(ty)?;
                let year = match &v {
                    Self::Date(d) => d.year(),
                    Self::Timestamp(t) => t.year(),
                    Self::TimestampTz(t) => t.year(),
                    _ => 0,
                };
                if (0..=9999).contains(&year) {
                    Ok(v)
                } else {
                    Err(format!(
                        "the year {year} is outside 0000-9999, the years every engine stores and RFC 3339 writes"
                    ))
                }
            }
            _ => self.coerce(ty),
        }
    }

    /// A short name of the value's kind for error messages.
    pub fn kind_name(&self) -> &'static str {
        match self {
            Self::Null => "null",
            Self::Bool(_) => "boolean",
            Self::Int(_) => "integer",
            Self::Float(_) => "number",
            Self::Decimal(_) => "decimal",
            Self::Text(_) => "string",
            Self::Bytes(_) => "bytes",
            Self::Date(_) => "date",
            Self::Time(_) => "time",
            Self::Timestamp(_) => "timestamp",
            Self::TimestampTz(_) => "timestamptz",
            Self::Uuid(_) => "uuid",
            Self::Json(_) => "object",
            Self::Array(_) => "array",
        }
    }
}

/// The most dimensions a multi-dimensional array value has (PostgreSQL's
/// `MAXDIM`).
pub const MAX_ARRAY_DIMS: usize = 6;

/// The lengths of a multi-dimensional array value's levels, outermost
/// first (`[[1,2],[3,4],[5,6]]`: 3, 2), checked as PostgreSQL checks its
/// arrays: every sub-array of a level as long as the others, none empty,
/// no element beside a sub-array, at most [`MAX_ARRAY_DIMS`] levels.
/// `depth` is the level `a` is at (1 for a whole value).
pub fn array_dims(a: &[Value], depth: usize) -> Result<Vec<usize>, String> {
    if depth > MAX_ARRAY_DIMS {
        return Err(format!("an array has at most {MAX_ARRAY_DIMS} dimensions"));
    }
    let subs: Vec<&Vec<Value>> = a
        .iter()
        .filter_map(|v| match v {
            Value::Array(s) => Some(s),
            _ => None,
        })
        .collect();
    if subs.is_empty() {
        return Ok(vec![a.len()]);
    }
    if subs.len() != a.len() {
        return Err(
            "multidimensional arrays must have sub-arrays with matching dimensions \
             (an element beside a sub-array)"
                .into(),
        );
    }
    let mut inner: Option<Vec<usize>> = None;
    for s in subs {
        if s.is_empty() {
            return Err("a sub-array of a multidimensional array has no elements".into());
        }
        let d = array_dims(s, depth + 1)?;
        match &inner {
            None => inner = Some(d),
            Some(i) if *i == d => {}
            Some(_) => {
                return Err(
                    "multidimensional arrays must have sub-arrays with matching dimensions".into(),
                );
            }
        }
    }
    let mut out = vec![a.len()];
    out.extend(inner.unwrap_or_default());
    Ok(out)
}

impl Value {
    /// Whether this is a sub-array of a multi-dimensional value of an
    /// array of `items` (an array where an item is expected, the items
    /// being neither arrays nor JSON).
    pub fn is_sub_array(&self, items: &FieldType) -> bool {
        matches!(self, Self::Array(_))
            && !matches!(items, FieldType::Array { .. } | FieldType::Json)
    }

    /// [`Value::shape`] for a store whose values need not fit their
    /// field's type (SQLite's column affinities, MongoDB's schemaless
    /// documents): a value that does not shape as `ty` reads as the value
    /// it holds ([`Value::to_json`]) instead of failing the read. Text
    /// read as text (it always shapes) takes no copy.
    pub fn shape_loose(self, ty: &FieldType) -> serde_json::Value {
        match (ty, self) {
            (_, Value::Null) => serde_json::Value::Null,
            (FieldType::Text | FieldType::Enum { .. } | FieldType::ObjectId, Value::Text(s)) => {
                serde_json::Value::String(s)
            }
            (_, v) => {
                let held = v.clone();
                v.shape(ty).unwrap_or_else(|_| held.to_json())
            }
        }
    }

    /// Shape a value decoded from a database cell into the JSON of `ty`, by the
    /// normalisation rules of this module. Adapters decode cells by their
    /// engine type (SQLite text dates, MySQL `TINYINT(1)`, PostgreSQL numeric…)
    /// and call this, so the output is identical on every engine.
    pub fn shape(self, ty: &FieldType) -> Result<serde_json::Value, String> {
        use serde_json::Value as J;
        let bad = |v: &Value| format!("cannot read a {} as {}", v.kind_name(), ty.name());
        Ok(match (ty, self) {
            (_, Value::Null) => J::Null,
            (FieldType::Boolean, Value::Bool(b)) => J::Bool(b),
            (FieldType::Boolean, Value::Int(i)) => J::Bool(i != 0),
            (FieldType::Boolean, Value::Text(s)) => match s.as_str() {
                "1" | "true" | "t" => J::Bool(true),
                "0" | "false" | "f" => J::Bool(false),
                _ => return Err(format!("cannot read `{s}` as boolean")),
            },
            (FieldType::Int16 | FieldType::Int32 | FieldType::Int64, Value::Int(i)) => J::from(i),
            (FieldType::Int16 | FieldType::Int32 | FieldType::Int64, Value::Bool(b)) => {
                J::from(i64::from(b))
            }
            (
                FieldType::Int16 | FieldType::Int32 | FieldType::Int64,
                Value::Decimal(s) | Value::Text(s),
            ) => J::from(
                s.trim()
                    .parse::<i64>()
                    .map_err(|_| format!("cannot read `{s}` as integer"))?,
            ),
            (FieldType::Int16 | FieldType::Int32 | FieldType::Int64, Value::Float(f))
                if f.fract() == 0.0 =>
            {
                J::from(f as i64)
            }
            // A float4 read as f64 (PostgreSQL, MySQL) prints as
            // 0.10000000149011612; print it as the f32 it is, like SQLite's 0.1.
            (FieldType::Float32, Value::Float(f)) => {
                float_json((f as f32).to_string().parse::<f64>().unwrap_or(f))
            }
            (FieldType::Float64, Value::Float(f)) => float_json(f),
            (FieldType::Float32 | FieldType::Float64, Value::Int(i)) => float_json(i as f64),
            (FieldType::Float32 | FieldType::Float64, Value::Decimal(s) | Value::Text(s)) => {
                float_json(
                    s.trim()
                        .parse::<f64>()
                        .map_err(|_| format!("cannot read `{s}` as number"))?,
                )
            }
            (FieldType::Decimal { .. }, Value::Decimal(s) | Value::Text(s))
                if non_finite_text(&s).is_some() =>
            {
                J::String(non_finite_text(&s).unwrap_or("NaN").into())
            }
            (FieldType::Decimal { .. }, Value::Float(f)) if !f.is_finite() => float_json(f),
            (FieldType::Decimal { scale, .. }, Value::Decimal(s) | Value::Text(s)) => decimal_json(
                &normalize_decimal(&s, *scale)
                    .or_else(|| {
                        // More digits than the scale (SQLite text): round via
                        // the exact text, never via floats.
                        round_decimal_text(&s, scale.unwrap_or(0))
                    })
                    .ok_or_else(|| format!("cannot read `{s}` as decimal"))?,
            ),
            (FieldType::Decimal { scale, .. }, Value::Int(i)) => {
                decimal_json(&normalize_decimal(&i.to_string(), *scale).unwrap_or_default())
            }
            (FieldType::Decimal { scale, .. }, Value::Float(f)) => {
                // SQLite keeps NUMERIC as REAL: print at the column's scale.
                let s = match scale {
                    Some(sc) => format!("{f:.prec$}", prec = *sc as usize),
                    None => format!("{f}"),
                };
                decimal_json(
                    &normalize_decimal(&s, *scale).ok_or_else(|| format!("bad decimal {f}"))?,
                )
            }
            // PostgreSQL's infinite dates and timestamps and its end of
            // day, answered as its JSON writes them (no chrono value holds them).
            (FieldType::Date | FieldType::Timestamp | FieldType::TimestampTz, Value::Text(s))
                if s == "infinity" || s == "-infinity" =>
            {
                J::String(s)
            }
            (FieldType::Time, Value::Text(s)) if s == "24:00:00" || is_duration(&s) => J::String(s),
            // MySQL's zero-in-date (`2020-00-15`), and PostgreSQL's years past
            // chrono's ([`format_epoch_days`]), which no chrono value holds.
            (FieldType::Date | FieldType::Timestamp | FieldType::TimestampTz, Value::Text(s))
                if is_zero_in_date(&s) || is_far_date(&s) =>
            {
                J::String(s)
            }
            (FieldType::Date, Value::Date(d)) => J::String(format_date(d)),
            (FieldType::Date, Value::Timestamp(t)) => J::String(format_date(t.date())),
            (FieldType::Date, Value::Text(s)) => J::String(format_date(
                NaiveDate::parse_from_str(s.get(..10).unwrap_or(&s), "%Y-%m-%d")
                    .map_err(|_| format!("cannot read `{s}` as date"))?,
            )),
            (FieldType::Time, Value::Time(t)) => J::String(format_time(t)),
            (FieldType::Time, Value::Text(s)) => J::String(format_time(
                NaiveTime::parse_from_str(&s, "%H:%M:%S%.f")
                    .map_err(|_| format!("cannot read `{s}` as time"))?,
            )),
            (FieldType::Timestamp, Value::Timestamp(t)) => J::String(format_timestamp(t)),
            (FieldType::Timestamp, Value::TimestampTz(t)) => {
                J::String(format_timestamp(t.naive_utc()))
            }
            (FieldType::Timestamp, Value::Date(d)) => {
                J::String(format_timestamp(d.and_hms_opt(0, 0, 0).unwrap_or_default()))
            }
            (FieldType::Timestamp, Value::Text(s)) => J::String(format_timestamp(
                parse_timestamp(&s).ok_or_else(|| format!("cannot read `{s}` as timestamp"))?,
            )),
            (FieldType::TimestampTz, Value::TimestampTz(t)) => J::String(format_timestamptz(t)),
            (FieldType::TimestampTz, Value::Timestamp(t)) => {
                J::String(format_timestamptz(t.and_utc()))
            }
            (FieldType::TimestampTz, Value::Text(s)) => J::String(format_timestamptz(
                parse_timestamptz(&s)
                    .or_else(|| parse_timestamp(&s).map(|t| t.and_utc()))
                    .ok_or_else(|| format!("cannot read `{s}` as timestamptz"))?,
            )),
            (FieldType::Uuid, Value::Uuid(u)) => J::String(u.hyphenated().to_string()),
            (FieldType::Uuid, Value::Text(s)) => J::String(
                uuid::Uuid::parse_str(&s)
                    .map_err(|_| format!("cannot read `{s}` as uuid"))?
                    .hyphenated()
                    .to_string(),
            ),
            (FieldType::Uuid, Value::Bytes(b)) => J::String(
                uuid::Uuid::from_slice(&b)
                    .map_err(|_| "cannot read bytes as uuid".to_string())?
                    .hyphenated()
                    .to_string(),
            ),
            (FieldType::Json, Value::Json(j)) => j,
            (FieldType::Json, Value::Text(s)) => {
                serde_json::from_str(&s).map_err(|e| format!("invalid JSON in column: {e}"))?
            }
            (FieldType::Json, Value::Bytes(b)) => {
                serde_json::from_slice(&b).map_err(|e| format!("invalid JSON in column: {e}"))?
            }
            (FieldType::Binary, Value::Bytes(b)) => J::String(bytes_json(&b)),
            (FieldType::Binary, Value::Text(s)) => J::String(bytes_json(s.as_bytes())),
            (FieldType::Array { items }, Value::Array(a)) => J::Array(
                a.into_iter()
                    .map(|v| {
                        // A sub-array of a multi-dimensional array
                        // (PostgreSQL's `{{1,2},{3,4}}`): the same type. A
                        // JSON element is read as `Value::Json`.
                        if matches!(v, Value::Array(_))
                            && !matches!(**items, FieldType::Array { .. })
                        {
                            v.shape(ty)
                        } else {
                            v.shape(items)
                        }
                    })
                    .collect::<Result<_, _>>()?,
            ),
            (FieldType::Array { items }, Value::Text(s)) => {
                let j: serde_json::Value =
                    serde_json::from_str(&s).map_err(|e| format!("invalid JSON array: {e}"))?;
                return Value::from_json(&j).shape(&FieldType::Array {
                    items: items.clone(),
                });
            }
            (FieldType::Text | FieldType::Enum { .. } | FieldType::ObjectId, Value::Text(s)) => {
                J::String(s)
            }
            (FieldType::Text | FieldType::Enum { .. }, Value::Bytes(b)) => {
                J::String(String::from_utf8(b).map_err(|_| "text column is not UTF-8".to_string())?)
            }
            (FieldType::Text, Value::Int(i)) => J::String(i.to_string()),
            (FieldType::Text, Value::Float(f)) => J::String(f.to_string()),
            (FieldType::Text, Value::Decimal(d)) => J::String(d),
            (_, v) => return Err(bad(&v)),
        })
    }
}

/// A decimal's canonical text ([`normalize_decimal`]) as a JSON number
/// written with exactly those digits (`12.50` stays `12.50`, as PostgREST
/// writes `numeric`): serde_json's `arbitrary_precision` keeps the text.
/// `NaN` and the infinities, which JSON numbers cannot carry, stay strings,
/// and so does any text that is not a JSON number.
pub fn decimal_json(text: &str) -> serde_json::Value {
    match text.parse::<serde_json::Number>() {
        Ok(n) => serde_json::Value::Number(n),
        Err(_) => serde_json::Value::String(text.to_string()),
    }
}

/// How an answer writes some values beyond the JSON normalisation rules:
/// a tenant's decimals as strings, a caller's time zone for instants.
/// [`format_answer`] applies it to rows.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AnswerFormat {
    /// Decimals as JSON strings (`"0.99"`), for a tenant that keeps them
    /// so; numbers otherwise.
    pub decimals_as_strings: bool,
    /// The zone `timestamptz` values are written in (PostgREST's `Prefer:
    /// timezone`); UTC when `None`.
    pub zone: Option<crate::zone::Zone>,
}

impl AnswerFormat {
    /// Whether the format writes every value as the normalisation rules
    /// do (nothing to rewrite).
    pub fn is_plain(&self) -> bool {
        !self.decimals_as_strings && self.zone.is_none_or(|z| z.is_utc())
    }

    /// Whether values of type `ty` are written otherwise than by the
    /// normalisation rules.
    pub fn rewrites(&self, ty: &FieldType) -> bool {
        match ty {
            FieldType::Decimal { .. } => self.decimals_as_strings,
            FieldType::TimestampTz => self.zone.is_some_and(|z| !z.is_utc()),
            FieldType::Array { items } => self.rewrites(items),
            _ => false,
        }
    }

    /// Rewrite `value`, a value of type `ty` as the engines answer it:
    /// a decimal number as a string, an instant the engines wrote in UTC
    /// (`…T…+00:00`, [`format_timestamptz`]) in the zone
    /// ([`Zone::format`](crate::zone::Zone::format)), each element of an
    /// array (of arrays). Anything else is left as it is: `NaN`,
    /// `infinity`, and a database's own text of an instant (a cast's
    /// `2024-01-01 00:00:00+00`).
    pub fn rewrite(&self, ty: &FieldType, value: &mut serde_json::Value) {
        use serde_json::Value as J;
        match (ty, value) {
            (FieldType::Decimal { .. }, value @ J::Number(_)) if self.decimals_as_strings => {
                *value = J::String(value.to_string());
            }
            (FieldType::TimestampTz, J::String(text)) => {
                if let Some(zone) = self.zone.filter(|z| !z.is_utc())
                    && text.ends_with("+00:00")
                    && text.contains('T')
                    && let Some(t) = parse_timestamptz(text)
                {
                    *text = zone.format(t);
                }
            }
            (FieldType::Array { items }, J::Array(values)) => {
                for v in values {
                    let ty = if v.is_array() { ty } else { items };
                    self.rewrite(ty, v);
                }
            }
            _ => {}
        }
    }
}

/// `value`, given for a field of type `ty`, with its instants written in
/// UTC as the engines answer them ([`format_timestamptz`]): a
/// `timestamptz` text without an offset is read in `zone` (UTC when
/// `None`), one with an offset is moved to UTC; so each element of an
/// array. Anything else, and a text that is no instant (`infinity`, a
/// typo), is left for validation to judge. A write's rows are compared
/// as JSON before they are typed (a rule's check,
/// [`eval`](crate::eval::eval)): written so, their instants compare as
/// instants, whatever zone or offset the caller wrote them in.
pub fn instants_in_utc(
    ty: &FieldType,
    value: &mut serde_json::Value,
    zone: Option<crate::zone::Zone>,
) {
    use serde_json::Value as J;
    match (ty, value) {
        (FieldType::TimestampTz, J::String(text)) => {
            let t = parse_timestamptz(text)
                .or_else(|| crate::zone::instant_in(parse_local_timestamp(text)?, zone));
            if let Some(t) = t {
                *text = format_timestamptz(t);
            }
        }
        (FieldType::Array { items }, J::Array(values)) => {
            for v in values {
                let ty = if v.is_array() { ty } else { items };
                instants_in_utc(ty, v, zone);
            }
        }
        _ => {}
    }
}

/// Write the fields of `rows` (of `entity`, with `embeds` at any depth,
/// keyed as the engine answers: field names, embed aliases or relation
/// names) as `format` says: decimals as strings, instants in a zone. An
/// embedding that aggregates its rows (`lines(total:amount.sum())`) is
/// written by the types of its answer: its groups and its aggregates
/// ([`AggregateFn::result_type`](crate::ir::AggregateFn::result_type)).
pub fn format_answer(
    rows: &mut [serde_json::Map<String, serde_json::Value>],
    format: &AnswerFormat,
    schema: &crate::metadata::SchemaMetadata,
    entity: &crate::metadata::Entity,
    embeds: &[crate::ir::Embed],
) {
    if format.is_plain() {
        return;
    }
    let own: Vec<(&str, &FieldType)> = entity
        .fields
        .iter()
        .filter(|f| format.rewrites(&f.ty))
        .map(|f| (f.name.as_str(), &f.ty))
        .collect();
    format_answer_keys(rows, &own, format, schema, entity, embeds);
}

/// [`format_answer`] for rows whose own keys are not `entity`'s fields
/// (an aggregate's answer): the keys of `typed` are written by their
/// types, and the embeds of `embeds` (rows of `entity`'s relations) as
/// [`format_answer`] writes them.
pub fn format_answer_keys(
    rows: &mut [serde_json::Map<String, serde_json::Value>],
    typed: &[(&str, &FieldType)],
    format: &AnswerFormat,
    schema: &crate::metadata::SchemaMetadata,
    entity: &crate::metadata::Entity,
    embeds: &[crate::ir::Embed],
) {
    use serde_json::Value as J;
    if format.is_plain() {
        return;
    }
    for row in rows {
        for (key, value) in row.iter_mut() {
            if let Some((_, ty)) = typed.iter().find(|(k, _)| k == key) {
                format.rewrite(ty, value);
                continue;
            }
            let Some(embed) = embeds.iter().find(|e| e.key() == key) else {
                continue;
            };
            let Some(target) = entity
                .relation(&embed.relation)
                .ok()
                .and_then(|r| schema.entity(&r.target).ok())
            else {
                continue;
            };
            let types = selection_types(target, &embed.select);
            let keys: Vec<(&str, &FieldType)> = types
                .iter()
                .filter(|(_, ty)| format.rewrites(ty))
                .map(|(k, ty)| (*k, ty))
                .collect();
            let one_row = |one: &mut serde_json::Map<String, J>| {
                format_answer_keys(
                    std::slice::from_mut(one),
                    &keys,
                    format,
                    schema,
                    target,
                    &embed.select.embeds,
                );
            };
            match value {
                J::Object(one) => one_row(one),
                J::Array(many) => {
                    for item in many {
                        if let J::Object(one) = item {
                            one_row(one);
                        }
                    }
                }
                _ => {}
            }
        }
    }
}

/// The keys and types of the values in the answer of `select` over rows
/// of `entity`: its fields; beside aggregates, the values grouped by and
/// the aggregates' results.
fn selection_types<'s>(
    entity: &'s crate::metadata::Entity,
    select: &'s crate::ir::Selection,
) -> Vec<(&'s str, FieldType)> {
    let mut keys: Vec<(&str, FieldType)> = entity
        .fields
        .iter()
        .map(|f| (f.name.as_str(), f.ty.clone()))
        .collect();
    if select.aggregates.is_empty() {
        return keys;
    }
    // Beside aggregates, an aggregate's alias may be a field's name, and
    // a computed group's key too.
    keys.retain(|(k, _)| {
        select.aggregates.iter().all(|a| a.alias != *k)
            && select.group_by_values.iter().all(|g| g.key() != *k)
    });
    for g in &select.group_by_values {
        keys.push((g.key(), g.answer_type()));
    }
    for a in &select.aggregates {
        keys.push((&a.alias, a.result_type_over(entity)));
    }
    keys
}

/// Whether a JSON number's text (with a fraction or an exponent) holds
/// more than a double keeps: more significant digits (over 15), or an
/// exponent beyond its range (`1e309`, `1e-400`).
fn exceeds_double(text: &str) -> bool {
    if !text.contains(['.', 'e', 'E']) {
        return false;
    }
    let mantissa = text.split(['e', 'E']).next().unwrap_or_default();
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let significant = digits.trim_start_matches('0').trim_end_matches('0');
    let f = text.parse::<f64>().unwrap_or(f64::NAN);
    significant.len() > 15 || !f.is_finite() || (f == 0.0 && !significant.is_empty())
}

/// A float as JSON; NaN and the infinities, which JSON numbers cannot carry,
/// as the strings `"NaN"`, `"Infinity"` and `"-Infinity"` (PostgreSQL's
/// `to_json`, hence PostgREST's, representation), so a row that holds one
/// (written by another program) still reads.
pub fn float_json(f: f64) -> serde_json::Value {
    match serde_json::Number::from_f64(f) {
        Some(n) => serde_json::Value::Number(n),
        None if f.is_nan() => "NaN".into(),
        None if f > 0.0 => "Infinity".into(),
        None => "-Infinity".into(),
    }
}

/// The canonical spelling of a non-finite number's text (`NaN`, `inf`,
/// `-Infinity`… as PostgreSQL, MongoDB and SQLite print them), if it is one.
fn non_finite_text(s: &str) -> Option<&'static str> {
    let t = s.trim();
    let (neg, body) = match t.strip_prefix('-') {
        Some(b) => (true, b),
        None => (false, t.strip_prefix('+').unwrap_or(t)),
    };
    if body.eq_ignore_ascii_case("nan") || body.eq_ignore_ascii_case("snan") {
        Some("NaN")
    } else if body.eq_ignore_ascii_case("inf") || body.eq_ignore_ascii_case("infinity") {
        Some(if neg { "-Infinity" } else { "Infinity" })
    } else {
        None
    }
}

/// Why a non-finite number is refused.
const NON_FINITE: &str =
    "NaN and infinities are not accepted (JSON cannot carry them and not every engine stores them)";

/// Largest exponent a decimal write may carry (PostgreSQL's own limit).
pub const MAX_DECIMAL_EXPONENT: u32 = 1000;

/// Input quoted in an error message: at most 40 characters, escaped.
fn quoted(s: &str) -> String {
    let mut q: String = s.chars().take(40).collect();
    if q.len() < s.len() {
        q.push('…');
    }
    format!("{q:?}")
}

/// A decimal to write into `decimal(precision, scale)`, as canonical text,
/// by PostgreSQL's rules for `numeric(p,s)`: rounded half away from zero to
/// `scale` fraction digits (`precision` without a scale means scale 0), then
/// at most `precision − scale` digits before the point (else an error). With
/// neither, the value is kept exactly (trailing fraction zeros dropped).
///
/// The grammar is strict: an optional sign, digits with an optional point
/// (`5`, `5.`, `.5`), an optional exponent `e±n` with `|n| ≤ 1000`. Spaces,
/// control characters, `NaN`, `Infinity`, hex (`0x10`) and `_` separators
/// are refused. The work is linear in the input: a huge exponent is refused
/// before any digit is produced, and no float is involved.
///
/// ```
/// use baas_core::value::decimal_for_write;
/// assert_eq!(decimal_for_write("1.005", Some(8), Some(2)).unwrap(), "1.01");
/// assert_eq!(decimal_for_write("-0", Some(8), Some(2)).unwrap(), "0.00");
/// assert!(decimal_for_write("1e300", Some(8), Some(2)).is_err());
/// assert!(decimal_for_write("1e1000000000", None, None).is_err());
/// ```
pub fn decimal_for_write(
    s: &str,
    precision: Option<u32>,
    scale: Option<u32>,
) -> Result<String, String> {
    if non_finite_text(s).is_some() {
        return Err(NON_FINITE.into());
    }
    let not_decimal = || {
        format!(
            "{} is not a decimal number (digits with an optional sign, point and exponent; no spaces)",
            quoted(s)
        )
    };
    let (neg, body) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let (mantissa, exp_text) = match body.find(['e', 'E']) {
        Some(p) => (&body[..p], Some(&body[p + 1..])),
        None => (body, None),
    };
    let (int_part, frac_part) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let digits_only = |x: &str| x.bytes().all(|b| b.is_ascii_digit());
    if (int_part.is_empty() && frac_part.is_empty())
        || !digits_only(int_part)
        || !digits_only(frac_part)
    {
        return Err(not_decimal());
    }
    let exp: i64 = match exp_text {
        None => 0,
        Some(e) => {
            let (eneg, ed) = match e.as_bytes().first() {
                Some(b'-') => (true, &e[1..]),
                Some(b'+') => (false, &e[1..]),
                _ => (false, e),
            };
            if ed.is_empty() || !digits_only(ed) {
                return Err(not_decimal());
            }
            let ed = ed.trim_start_matches('0');
            let n: i64 = if ed.len() > 4 {
                i64::MAX
            } else {
                ed.parse().unwrap_or(0)
            };
            if n > i64::from(MAX_DECIMAL_EXPONENT) {
                return Err(format!(
                    "the exponent of {} is out of range (at most ±{MAX_DECIMAL_EXPONENT})",
                    quoted(s)
                ));
            }
            if eneg { -n } else { n }
        }
    };
    // value = digits × 10^e10, digits without leading or trailing zeros.
    let all = format!("{int_part}{frac_part}");
    let lead = all.trim_start_matches('0');
    let sig = lead.trim_end_matches('0');
    let mut e10 = exp - frac_part.len() as i64 + (lead.len() - sig.len()) as i64;
    let mut d: Vec<u8> = sig.as_bytes().to_vec();
    let scale = scale.or(precision.map(|_| 0));
    if let Some(sc) = scale {
        let sc = i64::from(sc);
        if !d.is_empty() && e10 < -sc {
            let drop = (-sc - e10) as u64;
            if drop > d.len() as u64 {
                d.clear();
            } else {
                let keep = d.len() - drop as usize;
                let up = d[keep] >= b'5';
                d.truncate(keep);
                if up {
                    increment_digits(&mut d);
                }
            }
            e10 = -sc;
        }
    }
    // Digits before the point (negative: leading fraction zeros).
    let magnitude = d.len() as i64 + e10;
    if let Some(p) = precision
        && d.iter().any(|&b| b != b'0')
        && magnitude > i64::from(p) - scale.map_or(0, i64::from)
    {
        let sc = scale.unwrap_or(0);
        let max = i64::from(p) - i64::from(sc);
        return Err(format!(
            "{} is out of range for decimal({p},{sc}): it must round to an absolute value below 10^{max}",
            quoted(s)
        ));
    }
    let zero = d.iter().all(|&b| b == b'0');
    let digits = String::from_utf8(d).map_err(|_| not_decimal())?;
    let (ip, mut fp) = if zero {
        ("0".to_string(), String::new())
    } else if e10 >= 0 {
        (
            format!("{digits}{}", "0".repeat(e10 as usize)),
            String::new(),
        )
    } else {
        let k = (-e10) as usize;
        if k >= digits.len() {
            (
                "0".to_string(),
                format!("{}{digits}", "0".repeat(k - digits.len())),
            )
        } else {
            let (a, b) = digits.split_at(digits.len() - k);
            (a.to_string(), b.to_string())
        }
    };
    if !zero {
        let t = fp.trim_end_matches('0').len();
        fp.truncate(t);
    }
    if let Some(sc) = scale {
        let sc = sc as usize;
        if fp.len() < sc {
            fp.push_str(&"0".repeat(sc - fp.len()));
        }
    }
    let sign = if neg && !zero { "-" } else { "" };
    Ok(if fp.is_empty() {
        format!("{sign}{ip}")
    } else {
        format!("{sign}{ip}.{fp}")
    })
}

/// Round exact decimal text half away from zero to `scale` digits.
fn round_decimal_text(s: &str, scale: u32) -> Option<String> {
    let canon = normalize_decimal(s, None)?;
    let (neg, body) = match canon.strip_prefix('-') {
        Some(b) => (true, b),
        None => (false, canon.as_str()),
    };
    let (i, f) = body.split_once('.').unwrap_or((body, ""));
    let scale = scale as usize;
    if f.len() <= scale {
        return normalize_decimal(&canon, Some(scale as u32));
    }
    let mut digits: Vec<u8> = format!("{i}{}", &f[..scale]).into_bytes();
    if f.as_bytes()[scale] >= b'5' {
        increment_digits(&mut digits);
    }
    let digits = String::from_utf8(digits).ok()?;
    let (ip, fp) = digits.split_at(digits.len() - scale);
    let text = if scale == 0 {
        ip.to_string()
    } else {
        format!("{ip}.{fp}")
    };
    normalize_decimal(
        &format!("{}{text}", if neg { "-" } else { "" }),
        Some(scale as u32),
    )
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Self::Text(s.to_string())
    }
}
impl From<String> for Value {
    fn from(s: String) -> Self {
        Self::Text(s)
    }
}
impl From<i64> for Value {
    fn from(i: i64) -> Self {
        Self::Int(i)
    }
}
impl From<i32> for Value {
    fn from(i: i32) -> Self {
        Self::Int(i64::from(i))
    }
}
impl From<bool> for Value {
    fn from(b: bool) -> Self {
        Self::Bool(b)
    }
}
impl From<f64> for Value {
    fn from(f: f64) -> Self {
        Self::Float(f)
    }
}
impl From<serde_json::Value> for Value {
    fn from(j: serde_json::Value) -> Self {
        Self::from_json(&j)
    }
}

impl Serialize for Value {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.to_json().serialize(s)
    }
}

impl<'de> Deserialize<'de> for Value {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        serde_json::Value::deserialize(d).map(|j| Self::from_json(&j))
    }
}

/// Add one at the last of ASCII decimal digits, carrying (`"199"` →
/// `"200"`, `"99"` → `"100"`, `""` → `"1"`): rounding up a digit string.
fn increment_digits(d: &mut Vec<u8>) {
    let mut k = d.len();
    loop {
        if k == 0 {
            d.insert(0, b'1');
            return;
        }
        k -= 1;
        if d[k] == b'9' {
            d[k] = b'0';
        } else {
            d[k] += 1;
            return;
        }
    }
}

/// Turn the sums and counts an engine answers for exact averages
/// ([`AggregateFn::exact_average`](crate::ir::AggregateFn::exact_average))
/// into the averages: each key ending in
/// [`AVERAGE_COUNT`](crate::ir::AVERAGE_COUNT) is removed, and the sum
/// under the key before it becomes [`numeric_avg`] of the two (null
/// without values). First, a sum answered in two halves (a key ending in
/// [`SUM_LOW`](crate::ir::SUM_LOW): the low 32 bits' sum, beside the high
/// bits' under the key before it) becomes the exact sum. One room for
/// every engine.
pub fn finish_averages(rows: &mut [serde_json::Map<String, serde_json::Value>]) {
    use serde_json::Value as J;
    let int = |v: Option<J>| match v {
        Some(J::Number(n)) => n.as_i64().or_else(|| n.to_string().parse().ok()),
        Some(J::String(s)) => s.parse().ok(),
        _ => None,
    };
    for row in rows.iter_mut() {
        let lows: Vec<String> = row
            .keys()
            .filter(|k| k.ends_with(crate::ir::SUM_LOW))
            .cloned()
            .collect();
        for lk in lows {
            let low = int(row.remove(&lk));
            let key = &lk[..lk.len() - crate::ir::SUM_LOW.len()];
            if let Some(sum) = row.get_mut(key) {
                *sum = match (int(Some(sum.take())), low) {
                    (Some(high), Some(low)) => {
                        let total = i128::from(high) * (1 << 32) + i128::from(low);
                        decimal_json(&total.to_string())
                    }
                    // No values: SQL's null sum.
                    _ => J::Null,
                };
            }
        }
    }
    for row in rows {
        let counts: Vec<String> = row
            .keys()
            .filter(|k| k.ends_with(crate::ir::AVERAGE_COUNT))
            .cloned()
            .collect();
        for ck in counts {
            let count = row.remove(&ck).and_then(|c| match c {
                J::Number(n) => n.as_u64(),
                J::String(s) => s.parse().ok(),
                _ => None,
            });
            let key = &ck[..ck.len() - crate::ir::AVERAGE_COUNT.len()];
            if let Some(sum) = row.get_mut(key) {
                let text = match &*sum {
                    J::Number(n) => Some(n.to_string()),
                    J::String(s) => Some(s.clone()),
                    _ => None,
                };
                *sum = match (text, count) {
                    (Some(t), Some(n)) => numeric_avg(&t, n).map_or(J::Null, |a| decimal_json(&a)),
                    _ => J::Null,
                };
            }
        }
    }
}

/// The average of `count` values summing to `sum` (decimal text, its
/// digits after the point its display scale), as PostgreSQL's `avg` of an
/// integer or `numeric` answers it: the exact quotient rounded half away
/// from zero to the scale PostgreSQL's `numeric` division picks (at least
/// 16 significant digits, never fewer decimals than the sum has), trailing
/// zeros kept (`avg(1, 2)` is `1.5000000000000000`). Every engine answers
/// this text, so averages are byte-identical across engines. `None` for no
/// values or a sum that is no plain decimal.
pub fn numeric_avg(sum: &str, count: u64) -> Option<String> {
    if count == 0 {
        return None;
    }
    // The sum's display scale is its digits after the point as written
    // (`12.000000000000000000` keeps 18: PostgreSQL's sum of a
    // `numeric(38,18)`), which the canonical form would trim.
    let written = sum.trim();
    let plain = written
        .trim_start_matches(['-', '+'])
        .chars()
        .all(|c| c.is_ascii_digit() || c == '.');
    let sum = if plain {
        written.trim_start_matches('+').to_string()
    } else {
        normalize_decimal(written, None)?
    };
    let (negative, digits) = match sum.strip_prefix('-') {
        Some(d) => (true, d),
        None => (false, sum.as_str()),
    };
    let (int, frac) = digits.split_once('.').unwrap_or((digits, ""));
    if frac.contains('.') || (int.is_empty() && frac.is_empty()) {
        return None;
    }
    let int = int.trim_start_matches('0');
    // PostgreSQL's `select_div_scale`: the weight (in base-10000 digit
    // groups) and first group of each operand.
    let group = |s: &str| s.parse::<u64>().unwrap_or(0);
    let (weight1, first1): (i64, u64) = if !int.is_empty() {
        let k = int.len();
        ((k as i64 - 1) / 4, group(&int[..(k - 1) % 4 + 1]))
    } else if let Some(p) = frac.find(|c| c != '0') {
        let g = p / 4;
        let mut four: String = frac.chars().skip(4 * g).take(4).collect();
        while four.len() < 4 {
            four.push('0');
        }
        (-(g as i64) - 1, group(&four))
    } else {
        (0, 0)
    };
    let n = count.to_string();
    let (weight2, first2) = ((n.len() as i64 - 1) / 4, group(&n[..(n.len() - 1) % 4 + 1]));
    let mut qweight = weight1 - weight2;
    if first1 <= first2 {
        qweight -= 1;
    }
    let dscale = frac.len() as i64;
    let rscale = (16 - 4 * qweight).max(dscale).clamp(0, 1000) as usize;
    // |sum| · 10^work / count by long division, `work` digits after the
    // point (the sum's own, when PostgreSQL's display cap of 1000 is
    // below them), then rounded half away from zero to `rscale`: up when
    // the first digit dropped (or the remainder, dropping none) is half
    // or more.
    let work = rscale.max(frac.len());
    let mut quotient = String::new();
    let mut rem: u128 = 0;
    let scaled = int
        .chars()
        .chain(frac.chars())
        .chain(std::iter::repeat_n('0', work - frac.len()));
    for c in scaled {
        rem = rem * 10 + u128::from(c.to_digit(10)?);
        let q = rem / u128::from(count);
        rem %= u128::from(count);
        if !(quotient.is_empty() && q == 0) {
            quotient.push(char::from(b'0' + q as u8));
        }
    }
    let dropped = work - rscale;
    let up = if dropped == 0 {
        2 * rem >= u128::from(count)
    } else {
        // The digit `dropped` places from the end (a zero when the
        // quotient is shorter).
        quotient
            .len()
            .checked_sub(dropped)
            .and_then(|i| quotient.as_bytes().get(i))
            .is_some_and(|d| *d >= b'5')
    };
    quotient.truncate(quotient.len().saturating_sub(dropped));
    if up {
        let mut bytes: Vec<u8> = quotient.into_bytes();
        increment_digits(&mut bytes);
        quotient = String::from_utf8(bytes).ok()?;
    }
    let mut quotient = quotient.trim_start_matches('0').to_string();
    let zero = quotient.is_empty();
    if quotient.len() <= rscale {
        quotient = format!("{}{quotient}", "0".repeat(rscale + 1 - quotient.len()));
    }
    let (whole, part) = quotient.split_at(quotient.len() - rscale);
    let sign = if negative && !zero { "-" } else { "" };
    Some(if rscale == 0 {
        format!("{sign}{whole}")
    } else {
        format!("{sign}{whole}.{part}")
    })
}

/// Canonical decimal text: optional `-`, digits, optional `.digits`; leading
/// zeros trimmed; padded or checked against `scale` when given. `None` when the
/// text is not a plain decimal (exponents are expanded).
pub fn normalize_decimal(s: &str, scale: Option<u32>) -> Option<String> {
    if is_canonical_decimal(s, scale) {
        return Some(s.to_string());
    }
    normalize_decimal_text(s, scale)
}

/// [`normalize_decimal`] the long way (any plain decimal text).
fn normalize_decimal_text(s: &str, scale: Option<u32>) -> Option<String> {
    let s = s.trim();
    let (neg, body) = match s.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    // Expand an exponent, if any, without going through floats.
    let (mantissa, exp) = match body.find(['e', 'E']) {
        Some(p) => (&body[..p], body[p + 1..].parse::<i32>().ok()?),
        None => (body, 0),
    };
    let (int_part, frac_part) = match mantissa.split_once('.') {
        Some((i, f)) => (i, f),
        None => (mantissa, ""),
    };
    if (int_part.is_empty() && frac_part.is_empty())
        || !int_part.bytes().all(|b| b.is_ascii_digit())
        || !frac_part.bytes().all(|b| b.is_ascii_digit())
        || exp.unsigned_abs() > 1000
    {
        return None;
    }
    let mut digits: String = format!("{int_part}{frac_part}");
    let mut point = int_part.len() as i64 + i64::from(exp);
    if point < 0 {
        digits = "0".repeat((-point) as usize) + &digits;
        point = 0;
    }
    let point = point as usize;
    if digits.len() < point {
        digits.push_str(&"0".repeat(point - digits.len()));
    }
    let (i, f) = digits.split_at(point);
    let i = i.trim_start_matches('0');
    let i = if i.is_empty() { "0" } else { i };
    let mut f = f.trim_end_matches('0').to_string();
    if let Some(scale) = scale {
        let scale = scale as usize;
        if f.len() > scale {
            // More digits than the column keeps: refuse rather than round silently.
            return None;
        }
        f.push_str(&"0".repeat(scale - f.len()));
    }
    let zero = i == "0" && f.bytes().all(|b| b == b'0');
    let sign = if neg && !zero { "-" } else { "" };
    Some(if f.is_empty() {
        format!("{sign}{i}")
    } else {
        format!("{sign}{i}.{f}")
    })
}

/// Whether `s` is already what [`normalize_decimal`] makes of it (what
/// engines print for a `numeric(p,s)` column): `-`? digits without a
/// leading zero (or one `0`), a fraction of exactly `scale` digits (of no
/// trailing zero without a scale), not a negative zero.
fn is_canonical_decimal(s: &str, scale: Option<u32>) -> bool {
    let body = s.strip_prefix('-').unwrap_or(s);
    let (int_part, frac) = match body.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (body, None),
    };
    let digits = |p: &str| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit());
    if !digits(int_part) || (int_part.len() > 1 && int_part.starts_with('0')) {
        return false;
    }
    let frac_ok = match (frac, scale) {
        (None, None) | (None, Some(0)) => true,
        (Some(f), Some(sc)) => digits(f) && f.len() == sc as usize,
        (Some(f), None) => digits(f) && !f.ends_with('0'),
        (None, Some(_)) => false,
    };
    let zero = body.bytes().all(|b| b == b'0' || b == b'.');
    frac_ok && !(zero && s.starts_with('-'))
}

/// `YYYY-MM-DD`.
pub fn format_date(d: NaiveDate) -> String {
    let mut out = String::with_capacity(10);
    if !push_date(&mut out, d) {
        return d.format("%Y-%m-%d").to_string();
    }
    out
}

/// Append `n` as exactly `width` decimal digits (`n` < 10^width).
fn push_digits(out: &mut String, n: u32, width: u32) {
    let mut div = 10u32.pow(width - 1);
    while div > 0 {
        out.push(char::from(b'0' + ((n / div) % 10) as u8));
        div /= 10;
    }
}

/// `YYYY-MM-DD` for years from 0000, with more year digits past 9999
/// (`20000-01-01`, as PostgreSQL writes it; chrono would write
/// `+20000`); `false` (nothing appended) for a year before 0, which the
/// callers format with chrono.
fn push_date(out: &mut String, d: NaiveDate) -> bool {
    use chrono::Datelike as _;
    let Ok(year) = u32::try_from(d.year()) else {
        return false;
    };
    if year > 9999 {
        out.push_str(&year.to_string());
    } else {
        push_digits(out, year, 4);
    }
    out.push('-');
    push_digits(out, d.month(), 2);
    out.push('-');
    push_digits(out, d.day(), 2);
    true
}

/// `HH:MM:SS` plus the fraction as PostgreSQL writes it (none when zero,
/// else its digits without the zeros that end it); `false` for a leap
/// second, which the callers format with chrono.
fn push_time(out: &mut String, t: NaiveTime) -> bool {
    push_time_as(out, t, false)
}

/// `HH:MM:SS` plus the fraction when non-zero: without the zeros that end
/// it, or (`grouped`) in 3, 6 or 9 digits; `false` for a leap second.
fn push_time_as(out: &mut String, t: NaiveTime, grouped: bool) -> bool {
    use chrono::Timelike as _;
    let nanos = t.nanosecond();
    if nanos >= 1_000_000_000 {
        return false;
    }
    push_digits(out, t.hour(), 2);
    out.push(':');
    push_digits(out, t.minute(), 2);
    out.push(':');
    push_digits(out, t.second(), 2);
    if nanos != 0 {
        let (mut n, mut width) = (nanos, 9);
        if grouped {
            while width > 3 && n % 1000 == 0 {
                n /= 1000;
                width -= 3;
            }
        } else {
            // As PostgreSQL writes it: `.5`, `.123456`.
            while n % 10 == 0 {
                n /= 10;
                width -= 1;
            }
        }
        out.push('.');
        push_digits(out, n, width);
    }
    true
}

/// A time's text as SQLite and MongoDB store it (they have no time type):
/// a fraction of 3, 6 or 9 digits, only when non-zero (`13:45:00.500`),
/// the form stored values already have, so equal times are equal texts
/// and text order is time order.
pub fn format_time_stored(t: NaiveTime) -> String {
    let mut out = String::with_capacity(18);
    if !push_time_as(&mut out, t, true) {
        return t.format("%H:%M:%S%.f").to_string();
    }
    out
}

/// `HH:MM:SS` with a fraction only when non-zero, without the zeros that
/// end it (`13:45:00.5`), as PostgreSQL writes a time.
pub fn format_time(t: NaiveTime) -> String {
    let mut out = String::with_capacity(18);
    if !push_time(&mut out, t) {
        return t.format("%H:%M:%S%.f").to_string();
    }
    out
}

/// A time of day past 24 hours or negative, as MySQL's `TIME` (a
/// duration) holds one: `-01:00:00`, `838:59:59.5` (the hours two
/// digits at least; the fraction as [`format_time`]'s). `None` when
/// minutes or seconds are out of range.
pub fn format_duration(
    negative: bool,
    hours: u32,
    minutes: u32,
    seconds: u32,
    micros: u32,
) -> Option<String> {
    let rest = format_time(NaiveTime::from_hms_micro_opt(0, minutes, seconds, micros)?);
    let sign = if negative { "-" } else { "" };
    Some(format!(
        "{sign}{hours:02}{}",
        rest.get(2..).unwrap_or_default()
    ))
}

/// A date, time or timestamp text that no calendar value holds but an
/// engine stores ([`Capabilities::temporal_texts`](crate::Capabilities::temporal_texts)):
/// such a value is read as that text, and written and compared as it
/// ([`TemporalText::of`]), on the engines that hold it; elsewhere it is
/// no value of its type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TemporalText {
    /// `infinity` / `-infinity` as a date or timestamp (PostgreSQL).
    Infinite,
    /// A date or timestamp with a year of five digits or more
    /// (`20000-01-01`, PostgreSQL's reach past chrono's:
    /// `294276-12-31T23:59:59`), written without a sign.
    FarYear,
    /// `24:00:00` as a time (PostgreSQL's end of day).
    EndOfDay,
    /// A date or timestamp with a zero month or day (MySQL's
    /// zero-in-date, `2020-00-15`).
    ZeroInDate,
    /// A time that is a duration: negative or past 24 hours (MySQL's
    /// `TIME`, `-838:59:59` to `838:59:59`).
    Duration,
}

impl TemporalText {
    /// Which such text `s` is, as a value of a field of type `ty` (a
    /// date, time or timestamp): `None` for any other text, and for a
    /// value of another type.
    pub fn of(ty: &FieldType, s: &str) -> Option<Self> {
        match ty {
            FieldType::Date | FieldType::Timestamp | FieldType::TimestampTz => {
                if s == "infinity" || s == "-infinity" {
                    Some(Self::Infinite)
                } else if is_zero_in_date(s) {
                    Some(Self::ZeroInDate)
                } else if !s.starts_with('-') && is_far_date(s) {
                    let dated = !s.contains('T');
                    match ty {
                        // A date is only a date; a timestamp has its time.
                        FieldType::Date => dated.then_some(Self::FarYear),
                        FieldType::Timestamp => {
                            (!dated && !s.ends_with('Z') && !s.ends_with("+00:00"))
                                .then_some(Self::FarYear)
                        }
                        _ => (!dated).then_some(Self::FarYear),
                    }
                } else {
                    None
                }
            }
            FieldType::Time if s == "24:00:00" => Some(Self::EndOfDay),
            FieldType::Time if is_duration(s) => Some(Self::Duration),
            _ => None,
        }
    }
}

/// Whether `s` is a date with a zero month or day (MySQL's
/// zero-in-date, `2020-00-15`), alone or before `T` and a time.
pub fn is_zero_in_date(s: &str) -> bool {
    let b = s.as_bytes();
    let digits =
        |r: std::ops::Range<usize>| b.get(r).is_some_and(|d| d.iter().all(u8::is_ascii_digit));
    digits(0..4)
        && b.get(4) == Some(&b'-')
        && digits(5..7)
        && b.get(7) == Some(&b'-')
        && digits(8..10)
        && (&b[5..7] == b"00" || &b[8..10] == b"00")
        && (b.len() == 10
            || (b[10] == b'T' && NaiveTime::parse_from_str(&s[11..], "%H:%M:%S%.f").is_ok()))
}

/// Whether `s` is a date (or timestamp) of [`format_epoch_days`]'s
/// (`format_epoch_micros`') with a year of five digits or more, which
/// chrono does not parse (`20000-01-01`), or holds (`5874897-12-31`,
/// `294276-12-31T23:59:59+00:00`, or with `Z`).
fn is_far_date(s: &str) -> bool {
    let body = s.strip_prefix('-').unwrap_or(s);
    let Some((year, rest)) = body.split_once('-') else {
        return false;
    };
    let b = rest.as_bytes();
    let digits =
        |r: std::ops::Range<usize>| b.get(r).is_some_and(|d| d.iter().all(u8::is_ascii_digit));
    let time = rest.get(5..).unwrap_or_default();
    year.len() >= 5
        && year.bytes().all(|c| c.is_ascii_digit())
        && digits(0..2)
        && b.get(2) == Some(&b'-')
        && digits(3..5)
        && (b.len() == 5
            || time.strip_prefix('T').is_some_and(|t| {
                let t = t
                    .strip_suffix('Z')
                    .or_else(|| t.strip_suffix("+00:00"))
                    .unwrap_or(t);
                NaiveTime::parse_from_str(t, "%H:%M:%S%.f").is_ok()
            }))
}

/// Whether `s` is a [`format_duration`] text that is no time of day.
fn is_duration(s: &str) -> bool {
    let body = s.strip_prefix('-').unwrap_or(s);
    let Some((hours, rest)) = body.split_once(':') else {
        return false;
    };
    hours.len() >= 2
        && hours.len() <= 4
        && hours.bytes().all(|b| b.is_ascii_digit())
        && (s.starts_with('-') || hours.parse::<u32>().is_ok_and(|h| h >= 24))
        && NaiveTime::parse_from_str(&format!("00:{rest}"), "%H:%M:%S%.f").is_ok()
}

/// The date `days` after 2000-01-01 (PostgreSQL's epoch) as
/// `YYYY-MM-DD`, for any count of days, also past chrono's range
/// (PostgreSQL's dates reach year 5874897): more year digits where
/// needed, a year before 1 as `-YYYY` (astronomical, as chrono writes
/// it). Proleptic Gregorian (the days-to-civil algorithm of H. Hinnant).
pub fn format_epoch_days(days: i64) -> String {
    // Days from 0000-03-01, in 400-year eras of 146097 days.
    let z = i128::from(days) + 10_957 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i128::from(month <= 2);
    let sign = if year < 0 { "-" } else { "" };
    format!("{sign}{:04}-{month:02}-{day:02}", year.abs())
}

/// The timestamp `micros` after 2000-01-01T00:00:00 (PostgreSQL's
/// epoch), as [`format_timestamp`] writes one (with `+00:00` in `utc`, as
/// [`format_timestamptz`]), for any count, also past chrono's range
/// (PostgreSQL's timestamps reach year 294276): the date as
/// [`format_epoch_days`] writes it.
pub fn format_epoch_micros(micros: i64, utc: bool) -> String {
    const PER_DAY: i64 = 86_400_000_000;
    let mut out = format_epoch_days(micros.div_euclid(PER_DAY));
    let of_day = micros.rem_euclid(PER_DAY);
    let secs = u32::try_from(of_day / 1_000_000).unwrap_or_default();
    let nanos = u32::try_from(of_day % 1_000_000).unwrap_or_default() * 1_000;
    out.push('T');
    let time = NaiveTime::from_num_seconds_from_midnight_opt(secs, nanos).unwrap_or_default();
    if !push_time(&mut out, time) {
        out.push_str(&format_time(time));
    }
    if utc {
        out.push_str("+00:00");
    }
    out
}

/// RFC 3339 without offset, the fraction as [`format_time`]'s.
pub fn format_timestamp(t: NaiveDateTime) -> String {
    let mut out = String::with_capacity(29);
    if !(push_date(&mut out, t.date()) && {
        out.push('T');
        push_time(&mut out, t.time())
    }) {
        return t.format("%Y-%m-%dT%H:%M:%S%.f").to_string();
    }
    out
}

/// RFC 3339 in UTC, as PostgreSQL writes a `timestamptz` in JSON with
/// the zone UTC (so PostgREST answers it): `+00:00`, the fraction only
/// when non-zero and without the zeros that end it.
pub fn format_timestamptz(t: DateTime<Utc>) -> String {
    let mut out = String::with_capacity(30);
    let n = t.naive_utc();
    if !(push_date(&mut out, n.date()) && {
        out.push('T');
        push_time(&mut out, n.time())
    }) {
        return t.to_rfc3339_opts(SecondsFormat::AutoSi, false);
    }
    out.push_str("+00:00");
    out
}

/// Parse a timestamp without zone: RFC 3339 (`T` or space separator), or a bare date.
pub fn parse_timestamp(s: &str) -> Option<NaiveDateTime> {
    parse_local_timestamp(s).or_else(|| {
        NaiveDate::parse_from_str(s, "%Y-%m-%d")
            .ok()
            .and_then(|d| d.and_hms_opt(0, 0, 0))
    })
}

/// A timestamp's date and time as written (never a bare date), without
/// its offset if it has one (PostgreSQL's `timestamp` input drops it).
fn parse_local_timestamp(s: &str) -> Option<NaiveDateTime> {
    NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f")
        .or_else(|_| NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S%.f"))
        .ok()
        .or_else(|| parse_with_offset(s).map(|t| t.naive_local()))
}

/// ISO 8601's basic form of a date, `YYYYMMDD` (`20190101`), which
/// PostgreSQL reads as a date.
fn basic_date(s: &str) -> Option<NaiveDate> {
    if s.len() != 8 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    NaiveDate::from_ymd_opt(
        s[..4].parse().ok()?,
        s[4..6].parse().ok()?,
        s[6..].parse().ok()?,
    )
}

/// RFC 3339 with `Z` or an offset (space separator allowed), the offset kept.
fn parse_with_offset(s: &str) -> Option<DateTime<chrono::FixedOffset>> {
    DateTime::parse_from_rfc3339(s)
        .or_else(|_| DateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S%.f%#z"))
        .ok()
}

/// Parse an instant: RFC 3339 with `Z` or an offset (space separator allowed).
pub fn parse_timestamptz(s: &str) -> Option<DateTime<Utc>> {
    parse_with_offset(s).map(|t| t.with_timezone(&Utc))
}

#[cfg(test)]
mod tests {
    /// A body's texts read as PostgreSQL's input functions read them
    /// (`int4in`, `float8in`, `boolin`), and scalars into text.
    #[test]
    fn body_values_read_as_postgresql_input() {
        use super::*;
        let ok = |v: Value, ty: FieldType, want: Value| {
            assert_eq!(v.coerce_body(&ty), Ok(want), "{v:?} as {}", ty.name());
        };
        ok("42".into(), FieldType::Int32, Value::Int(42));
        ok("-7".into(), FieldType::Int16, Value::Int(-7));
        ok(
            "+9000000000".into(),
            FieldType::Int64,
            Value::Int(9_000_000_000),
        );
        ok("2.5".into(), FieldType::Float64, Value::Float(2.5));
        ok("1e3".into(), FieldType::Float32, Value::Float(1000.0));
        ok(".5".into(), FieldType::Float64, Value::Float(0.5));
        ok(
            "0.50".into(),
            FieldType::Decimal {
                precision: Some(4),
                scale: Some(2),
            },
            Value::Decimal("0.50".into()),
        );
        for t in ["t", "TRUE", "yes", "y", "On", "1", "tr"] {
            ok(t.into(), FieldType::Boolean, Value::Bool(true));
        }
        for f in ["f", "False", "no", "n", "off", "of", "0", "fal"] {
            ok(f.into(), FieldType::Boolean, Value::Bool(false));
        }
        ok(Value::Int(5), FieldType::Text, "5".into());
        ok(Value::Float(2.5), FieldType::Text, "2.5".into());
        ok(
            Value::Decimal("1.50".into()),
            FieldType::Text,
            "1.50".into(),
        );
        ok(Value::Bool(true), FieldType::Text, "true".into());
        // Spaces around the text are skipped, as PostgreSQL's inputs do.
        ok(" 5".into(), FieldType::Int32, Value::Int(5));
        ok("5\t\n".into(), FieldType::Int32, Value::Int(5));
        ok("1.5 ".into(), FieldType::Float64, Value::Float(1.5));
        ok(" true".into(), FieldType::Boolean, Value::Bool(true));
        // What PostgreSQL refuses stays refused, with the column's rules.
        for (v, ty) in [
            ("4x", FieldType::Int32),
            ("1.5", FieldType::Int32),
            ("2e3", FieldType::Int64),
            ("", FieldType::Int32),
            ("+", FieldType::Int32),
            ("0x1F", FieldType::Int32),
            ("70000", FieldType::Int16),
            ("NaN", FieldType::Float64),
            ("Infinity", FieldType::Float64),
            ("1e400", FieldType::Float64),
            ("abc", FieldType::Float64),
            ("o", FieldType::Boolean),
            ("", FieldType::Boolean),
            ("2", FieldType::Boolean),
            ("yess", FieldType::Boolean),
            ("  ", FieldType::Int32),
            (" 5 x", FieldType::Int32),
            ("inf", FieldType::Float64),
            ("\u{0}true", FieldType::Boolean),
        ] {
            assert!(
                Value::from(v).coerce_body(&ty).is_err(),
                "{v:?} as {}",
                ty.name()
            );
        }
        assert!(
            Value::Json(serde_json::json!({"a": 1}))
                .coerce_body(&FieldType::Text)
                .is_err()
        );
        assert!(Value::Int(1).coerce_body(&FieldType::Boolean).is_err());
        assert_eq!(
            Value::from("4x").coerce_body(&FieldType::Int32),
            Value::from("4x").coerce_write(&FieldType::Int32),
            "the refusal is the strict one's"
        );
    }

    /// Days and microseconds from PostgreSQL's epoch read as chrono
    /// writes them wherever chrono holds the date, and past its years.
    #[test]
    fn epoch_dates_past_chrono() {
        use super::*;
        let epoch = NaiveDate::from_ymd_opt(2000, 1, 1).unwrap();
        for days in (-2_500_000_i64..2_500_000)
            .step_by(9_973)
            .chain([-1, 0, 1, 59, 60])
        {
            let d = epoch + chrono::Duration::days(days);
            assert_eq!(format_epoch_days(days), format_date(d), "{days}");
        }
        let t = NaiveDate::from_ymd_opt(1999, 12, 31)
            .unwrap()
            .and_hms_micro_opt(23, 59, 59, 250_000)
            .unwrap();
        assert_eq!(format_epoch_micros(-750_000, false), format_timestamp(t));
        assert_eq!(
            format_epoch_micros(-750_000, true),
            format_timestamptz(t.and_utc())
        );
        // PostgreSQL's last date and timestamp.
        assert_eq!(format_epoch_days(2_145_031_948), "5874897-12-31");
        assert_eq!(
            format_epoch_micros(106_751_983 * 86_400_000_000 - 1, false),
            "294276-12-31T23:59:59.999999"
        );
        assert_eq!(
            format_epoch_micros(-1, true),
            "1999-12-31T23:59:59.999999+00:00"
        );
        // Their texts read back as themselves; others do not pass so.
        for far in ["5874897-12-31", "294276-12-31T23:59:59.5Z", "-300000-01-01"] {
            assert!(is_far_date(far), "{far}");
        }
        for not in [
            "2020-01-01",
            "123456-1-01",
            "123456-01-01T25:00:00",
            "12345a-01-01",
        ] {
            assert!(!is_far_date(not), "{not}");
        }
    }

    /// A loose value that does not fit its field's type reads as it is
    /// held; one that fits reads as `shape` reads it.
    #[test]
    fn loose_values_read_as_held() {
        use super::{FieldType, Value};
        let money = FieldType::Decimal {
            precision: Some(10),
            scale: Some(2),
        };
        for (v, ty) in [
            (Value::Text("2021-01-02".into()), FieldType::Date),
            (Value::Float(1.5), money.clone()),
            (Value::Int(1), FieldType::Boolean),
            (Value::Text("x".into()), FieldType::Text),
            (Value::Null, FieldType::Int64),
        ] {
            assert_eq!(v.clone().shape_loose(&ty), v.shape(&ty).expect("fits"));
        }
        for (v, ty, held) in [
            (
                Value::Text("yesterday".into()),
                FieldType::Date,
                serde_json::json!("yesterday"),
            ),
            (
                Value::Text("abc".into()),
                FieldType::Int64,
                serde_json::json!("abc"),
            ),
            (Value::Float(7.5), FieldType::Int32, serde_json::json!(7.5)),
            (
                Value::Text("cheap".into()),
                money,
                serde_json::json!("cheap"),
            ),
        ] {
            assert!(v.clone().shape(&ty).is_err());
            assert_eq!(v.shape_loose(&ty), held);
        }
    }

    /// Durations past a day or negative (MySQL's `TIME`) and PostgreSQL's
    /// infinities read as their text; other text in such a field does not.
    #[test]
    fn durations_and_infinities_shape_as_text() {
        use super::{FieldType, Value, format_duration};
        assert_eq!(
            format_duration(true, 1, 0, 0, 0).as_deref(),
            Some("-01:00:00")
        );
        assert_eq!(
            format_duration(false, 838, 59, 59, 500_000).as_deref(),
            Some("838:59:59.5")
        );
        assert_eq!(format_duration(false, 1, 60, 0, 0), None);
        let shape = |ty: FieldType, s: &str| Value::Text(s.into()).shape(&ty);
        for ok in ["838:59:59", "-00:00:01.250", "24:00:00", "100:00:00"] {
            assert_eq!(shape(FieldType::Time, ok), Ok(ok.into()), "{ok}");
        }
        for bad in ["23:61:00", "99999:00:00", "-infinity", "x:00:00"] {
            assert!(shape(FieldType::Time, bad).is_err(), "{bad}");
        }
        for ty in [
            FieldType::Date,
            FieldType::Timestamp,
            FieldType::TimestampTz,
        ] {
            assert_eq!(shape(ty.clone(), "-infinity"), Ok("-infinity".into()));
            assert!(shape(ty.clone(), "Infinity!").is_err());
            // MySQL's zero-in-date, alone or with a time; nothing else.
            for ok in ["2020-00-15", "2020-01-00T10:00:00", "0000-00-00T00:00:00.5"] {
                assert_eq!(shape(ty.clone(), ok), Ok(ok.into()), "{ok}");
            }
            for bad in [
                "2020-00-1",
                "2020-00-15T25:00:00",
                "2020-00-15x",
                "20-00-0015",
            ] {
                assert!(shape(ty.clone(), bad).is_err(), "{bad}");
            }
        }
    }

    #[test]
    fn fast_formats_match_chrono() {
        use chrono::{Duration, NaiveDate};
        let mut d = NaiveDate::from_ymd_opt(0, 1, 1).unwrap();
        let end = NaiveDate::from_ymd_opt(9999, 12, 31).unwrap();
        let nanos = [
            0u32,
            1,
            999,
            1_000,
            120_000,
            1_000_000,
            26_490_000,
            999_999_999,
        ];
        let mut k = 0usize;
        while d <= end {
            assert_eq!(format_date(d), d.format("%Y-%m-%d").to_string());
            let t = chrono::NaiveTime::from_num_seconds_from_midnight_opt(
                (k as u32 * 7919) % 86_400,
                nanos[k % nanos.len()],
            )
            .unwrap();
            let ts = d.and_time(t);
            // chrono writes 3, 6 or 9 digits; PostgreSQL, and so we,
            // without the zeros that end the fraction.
            let trimmed = |s: String| -> String {
                let Some((whole, fraction)) = s.split_once('.') else {
                    return s;
                };
                let end = fraction
                    .find(|c: char| !c.is_ascii_digit())
                    .unwrap_or(fraction.len());
                let (digits, rest) = fraction.split_at(end);
                let digits = digits.trim_end_matches('0');
                if digits.is_empty() {
                    format!("{whole}{rest}")
                } else {
                    format!("{whole}.{digits}{rest}")
                }
            };
            assert_eq!(format_time(t), trimmed(t.format("%H:%M:%S%.f").to_string()));
            assert_eq!(format_time_stored(t), t.format("%H:%M:%S%.f").to_string());
            assert_eq!(
                format_timestamp(ts),
                trimmed(ts.format("%Y-%m-%dT%H:%M:%S%.f").to_string())
            );
            let tz = ts.and_utc();
            assert_eq!(
                format_timestamptz(tz),
                trimmed(tz.to_rfc3339_opts(SecondsFormat::AutoSi, false))
            );
            d += Duration::days(97);
            k += 1;
        }
    }

    #[test]
    fn canonical_decimals_take_the_short_way() {
        for (s, scale) in [
            ("0", None),
            ("0", Some(0)),
            ("0.00", Some(2)),
            ("-0.00", Some(2)),
            ("-0", None),
            ("12.30", Some(2)),
            ("12.3", Some(2)),
            ("12.30", None),
            ("012.30", Some(2)),
            ("-12.30", Some(2)),
            ("1e3", None),
            ("12.", None),
            (".5", None),
            ("+1", None),
            (" 1", None),
            ("123456789012345678901234567890.12", Some(2)),
            ("0.5", None),
            ("00", None),
        ] {
            let long = normalize_decimal_text(s, scale);
            if is_canonical_decimal(s, scale) {
                assert_eq!(long.as_deref(), Some(s), "{s} {scale:?}");
            }
            assert_eq!(normalize_decimal(s, scale), long, "{s} {scale:?}");
        }
    }

    use super::*;

    #[test]
    fn decimals_are_canonical_and_exact() {
        assert_eq!(normalize_decimal("0.99", Some(2)).unwrap(), "0.99");
        assert_eq!(normalize_decimal("1", Some(2)).unwrap(), "1.00");
        assert_eq!(normalize_decimal("-0.0", None).unwrap(), "0");
        assert_eq!(normalize_decimal("007.50", None).unwrap(), "7.5");
        assert_eq!(normalize_decimal("1.5e3", None).unwrap(), "1500");
        assert_eq!(normalize_decimal("1.5e-3", None).unwrap(), "0.0015");
        assert_eq!(
            normalize_decimal("123456789012345678901234567890.123456789", None).unwrap(),
            "123456789012345678901234567890.123456789"
        );
        assert_eq!(
            normalize_decimal("1.234", Some(2)),
            None,
            "no silent rounding"
        );
        assert_eq!(normalize_decimal("abc", None), None);
        assert_eq!(normalize_decimal("", None), None);
        assert_eq!(normalize_decimal("1e99999", None), None);
        assert_eq!(
            normalize_decimal("1e-2147483648", None),
            None,
            "no overflow"
        );
        assert_eq!(normalize_decimal("1e2147483647", None), None);
        assert_eq!(round_decimal_text("2.9699999999999998", 2).unwrap(), "2.97");
        assert_eq!(round_decimal_text("-9.995", 2).unwrap(), "-10.00");
    }

    /// PostgreSQL's `numeric(8,2)` (checked against PostgreSQL 15 by hand:
    /// `'0.125'::numeric(8,2)` is 0.13, `'-0.005'` is -0.01, `'999999.995'`
    /// overflows, `'1e-1000'` is 0.00, `'1e-100000'` and `'0x10'` are refused).
    #[test]
    fn decimal_writes_follow_postgresql() {
        let w = |s: &str| decimal_for_write(s, Some(8), Some(2));
        for (input, out) in [
            ("12.5", "12.50"),
            ("0.125", "0.13"),
            ("-0.005", "-0.01"),
            ("-0.004", "0.00"),
            ("1.005", "1.01"),
            ("999999.994", "999999.99"),
            ("-0", "0.00"),
            ("+5", "5.00"),
            (".5", "0.50"),
            ("5.", "5.00"),
            ("0.0000001", "0.00"),
            ("1e-1000", "0.00"),
            ("1.5e3", "1500.00"),
            ("15E-1", "1.50"),
            ("000123.4500", "123.45"),
            ("9.995", "10.00"),
            ("0.995", "1.00"),
            ("0.5e-2", "0.01"),
            ("0.4e-2", "0.00"),
        ] {
            assert_eq!(w(input).as_deref(), Ok(out), "{input}");
        }
        for bad in [
            "999999.995",
            "1000000",
            "1e300",
            "1e6",
            "-9e1017",
            "-1e400",
            "1e1000000000",
            "1e-1000000000",
            "1e99999999999999999999999",
            "NaN",
            "-Infinity",
            "inf",
            "1e309",
            " 1",
            "1 ",
            "1\u{0}",
            "\t1",
            "0x10",
            "1_000",
            "",
            ".",
            "-",
            "1e",
            "1.2.3",
            "--1",
            "+-1",
            "1,5",
            "١",
        ] {
            assert!(w(bad).is_err(), "{bad:?} must be refused");
        }
        // Unknown precision and scale: exact, no rounding.
        assert_eq!(
            decimal_for_write("123456789012345678901234567890.1234567890100", None, None)
                .as_deref(),
            Ok("123456789012345678901234567890.12345678901")
        );
        assert_eq!(decimal_for_write("2e3", None, None).as_deref(), Ok("2000"));
        assert_eq!(decimal_for_write("-0.0", None, None).as_deref(), Ok("0"));
        // `decimal(3)` is `decimal(3,0)`.
        assert_eq!(
            decimal_for_write("12.5", Some(3), None).as_deref(),
            Ok("13")
        );
        assert!(decimal_for_write("999.5", Some(3), None).is_err());
        // Scale above precision (PostgreSQL 15): below 10^(p-s).
        assert_eq!(
            decimal_for_write("0.012", Some(2), Some(3)).as_deref(),
            Ok("0.012")
        );
        assert!(decimal_for_write("0.12", Some(2), Some(3)).is_err());
        // A long input costs linear time and memory, and its echo is clipped.
        let long = "1".repeat(100_000);
        let e = decimal_for_write(&long, Some(8), Some(2)).unwrap_err();
        assert!(e.len() < 200, "{e}");
    }

    #[test]
    fn write_coercion_checks_the_column() {
        let dec = FieldType::Decimal {
            precision: Some(8),
            scale: Some(2),
        };
        assert_eq!(
            Value::Float(0.125).coerce_write(&dec),
            Ok(Value::Decimal("0.13".into()))
        );
        assert!(Value::Float(1e300).coerce_write(&dec).is_err());
        assert!(Value::Float(f64::NAN).coerce_write(&dec).is_err());
        assert_eq!(
            Value::Float(-0.0).coerce_write(&dec),
            Ok(Value::Decimal("0.00".into()))
        );
        assert!(
            Value::Float(f64::INFINITY)
                .coerce_write(&FieldType::Float64)
                .is_err()
        );
        assert!(
            Value::Float(f64::NAN)
                .coerce_write(&FieldType::Float32)
                .is_err()
        );
        assert!(
            Value::Float(1e39)
                .coerce_write(&FieldType::Float32)
                .is_err()
        );
        assert!(
            Value::Float(1e-46)
                .coerce_write(&FieldType::Float32)
                .is_err()
        );
        assert_eq!(
            Value::Float(0.1).coerce_write(&FieldType::Float32),
            Ok(Value::Float(f64::from(0.1f32)))
        );
        assert_eq!(
            Value::Float(-0.0).coerce_write(&FieldType::Float64),
            Ok(Value::Float(0.0))
        );
        assert!(
            Value::Float(-0.0)
                .coerce_write(&FieldType::Float64)
                .is_ok_and(|v| v == Value::Float(0.0)
                    && matches!(v, Value::Float(f) if f.is_sign_positive()))
        );
        assert!(Value::Int(40_000).coerce_write(&FieldType::Int16).is_err());
        assert!(Value::Int(1 << 40).coerce_write(&FieldType::Int32).is_err());
        assert!(Value::Float(1e19).coerce_write(&FieldType::Int64).is_err());
        assert!(Value::Float(1.5).coerce_write(&FieldType::Int64).is_err());
        assert_eq!(
            Value::Float(-0.0).coerce_write(&FieldType::Int16),
            Ok(Value::Int(0))
        );
        // Filters keep the plain coercion: no rounding of an operand.
        assert!(Value::from("1.005").coerce(&dec).is_err());
    }

    #[test]
    fn non_finite_cells_read_as_postgrest_strings() {
        let dec = FieldType::Decimal {
            precision: Some(8),
            scale: Some(2),
        };
        for (v, out) in [
            (Value::Float(f64::INFINITY), "Infinity"),
            (Value::Float(f64::NEG_INFINITY), "-Infinity"),
            (Value::Float(f64::NAN), "NaN"),
        ] {
            assert_eq!(v.clone().shape(&FieldType::Float64).unwrap(), out);
            assert_eq!(v.clone().shape(&FieldType::Float32).unwrap(), out);
            assert_eq!(v.shape(&dec).unwrap(), out);
        }
        for (text, out) in [
            ("NaN", "NaN"),
            ("Infinity", "Infinity"),
            ("-Infinity", "-Infinity"),
            ("-inf", "-Infinity"),
        ] {
            assert_eq!(Value::Decimal(text.into()).shape(&dec).unwrap(), out);
            assert_eq!(
                Value::Text(text.into()).shape(&FieldType::Float64).unwrap(),
                out
            );
        }
    }

    #[test]
    fn long_json_numbers_keep_their_digits() {
        let j: serde_json::Value =
            serde_json::from_str(r#"[0.5, 1.25, 12345678901234567890.123456789, 1e400, 7]"#)
                .unwrap();
        let vals: Vec<Value> = j.as_array().unwrap().iter().map(Value::from_json).collect();
        assert_eq!(vals[0], Value::Float(0.5));
        assert_eq!(vals[1], Value::Float(1.25));
        assert_eq!(
            vals[2],
            Value::Decimal("12345678901234567890.123456789".into())
        );
        assert_eq!(vals[4], Value::Int(7));
        let dec = FieldType::Decimal {
            precision: Some(40),
            scale: Some(9),
        };
        assert_eq!(
            vals[2].coerce_write(&dec),
            Ok(Value::Decimal("12345678901234567890.123456789".into()))
        );
        // A float column takes it, rounded; an integer column refuses it.
        assert_eq!(
            vals[2].coerce_write(&FieldType::Float64),
            Ok(Value::Float(12345678901234567890.123456789))
        );
        assert!(vals[2].coerce_write(&FieldType::Int64).is_err());
        assert!(vals[3].coerce_write(&FieldType::Float64).is_err());
    }

    #[test]
    fn dates_and_timestamps_are_read_as_postgresql_reads_them() {
        let w = |ty: FieldType, s: &str| Value::from(s).coerce_write(&ty);
        let d = |y, m, day| NaiveDate::from_ymd_opt(y, m, day).unwrap();
        // A timestamp's text into a date: its date as written.
        for s in [
            "2024-05-01T23:30:00.123Z",
            "2024-05-01T23:30:00-05:00",
            "2024-05-01 23:30:00",
        ] {
            assert_eq!(w(FieldType::Date, s), Ok(Value::Date(d(2024, 5, 1))), "{s}");
        }
        assert!(w(FieldType::Date, "2024-05-01Tnoon").is_err());
        // An offset on a timestamp without zone is dropped.
        let at = d(2024, 5, 1).and_hms_opt(10, 20, 30).unwrap();
        assert_eq!(
            w(FieldType::Timestamp, "2024-05-01T10:20:30+02:00"),
            Ok(Value::Timestamp(at))
        );
        // A timestamp with zone without an offset is UTC.
        assert_eq!(
            w(FieldType::TimestampTz, "2024-05-01T10:20:30"),
            Ok(Value::TimestampTz(at.and_utc()))
        );
        assert_eq!(
            w(FieldType::TimestampTz, "2024-05-01T12:20:30+02:00"),
            Ok(Value::TimestampTz(at.and_utc()))
        );
        assert!(w(FieldType::TimestampTz, "2024-05-01").is_err());
    }

    #[test]
    fn temporal_texts_are_told_apart() {
        use TemporalText as T;
        let of = |ty: FieldType, s: &str| TemporalText::of(&ty, s);
        for ty in [
            FieldType::Date,
            FieldType::Timestamp,
            FieldType::TimestampTz,
        ] {
            assert_eq!(of(ty.clone(), "infinity"), Some(T::Infinite));
            assert_eq!(of(ty.clone(), "-infinity"), Some(T::Infinite));
            assert_eq!(of(ty.clone(), "Infinity"), None);
            assert_eq!(of(ty.clone(), "2020-00-15"), Some(T::ZeroInDate));
            assert_eq!(of(ty.clone(), "2020-01-15"), None);
        }
        assert_eq!(of(FieldType::Date, "20000-01-01"), Some(T::FarYear));
        assert_eq!(of(FieldType::Date, "20000-01-01T00:00:00"), None);
        assert_eq!(of(FieldType::Date, "-300000-01-01"), None);
        assert_eq!(
            of(FieldType::Timestamp, "294276-12-31T23:59:59"),
            Some(T::FarYear)
        );
        assert_eq!(of(FieldType::Timestamp, "294276-12-31T23:59:59Z"), None);
        assert_eq!(of(FieldType::Timestamp, "294276-12-31"), None);
        assert_eq!(
            of(FieldType::TimestampTz, "294276-12-31T23:59:59Z"),
            Some(T::FarYear)
        );
        assert_eq!(of(FieldType::Time, "24:00:00"), Some(T::EndOfDay));
        assert_eq!(of(FieldType::Time, "100:00:00"), Some(T::Duration));
        assert_eq!(of(FieldType::Time, "-00:00:01"), Some(T::Duration));
        assert_eq!(of(FieldType::Time, "23:00:00"), None);
        assert_eq!(of(FieldType::Time, "infinity"), None);
        assert_eq!(of(FieldType::Text, "infinity"), None);
        // A year past 9999 that chrono holds is written as PostgreSQL
        // writes it, without chrono's `+`.
        let d = NaiveDate::from_ymd_opt(20000, 1, 2).unwrap();
        assert_eq!(format_date(d), "20000-01-02");
        assert_eq!(
            format_timestamp(d.and_hms_opt(3, 4, 5).unwrap()),
            "20000-01-02T03:04:05"
        );
    }

    #[test]
    fn decimals_as_strings_follows_embeds() {
        use crate::ir::Embed;
        use crate::metadata::{Entity, Field, Relation, SchemaMetadata};
        let dec = FieldType::Decimal {
            precision: Some(10),
            scale: Some(2),
        };
        let mut track = Entity::new(
            "track",
            vec![
                Field::new("id", FieldType::Int32),
                Field::new("price", dec.clone()),
                Field::new("album_id", FieldType::Int32),
            ],
        );
        track.relations.push(Relation::many_to_one(
            "album",
            "album",
            &["album_id"],
            &["id"],
        ));
        let album = Entity::new(
            "album",
            vec![Field::new("id", FieldType::Int32), Field::new("cost", dec)],
        );
        let schema = SchemaMetadata::new(vec![track.clone(), album]);
        let mut rows = vec![
            serde_json::json!({"id": 1, "price": 0.99, "a": {"id": 2, "cost": 1.5}})
                .as_object()
                .unwrap()
                .clone(),
        ];
        let mut embed = Embed::new("album");
        embed.alias = Some("a".into());
        format_answer(
            &mut rows,
            &AnswerFormat {
                decimals_as_strings: true,
                zone: None,
            },
            &schema,
            &track,
            &[embed],
        );
        assert_eq!(
            serde_json::Value::Object(rows.remove(0)),
            serde_json::json!({"id": 1, "price": "0.99", "a": {"id": 2, "cost": "1.5"}})
        );
    }

    #[test]
    fn shaping_is_engine_neutral() {
        let dec = FieldType::Decimal {
            precision: Some(10),
            scale: Some(2),
        };
        // Decimals are JSON numbers written with the column's digits.
        let text = |v: Value| v.shape(&dec).unwrap().to_string();
        assert_eq!(text(Value::Float(0.99)), "0.99");
        assert_eq!(text(Value::Float(2.9699999999999998)), "2.97");
        assert_eq!(text(Value::Int(1)), "1.00");
        assert_eq!(text(Value::Decimal("1.00".into())), "1.00");
        let wide = FieldType::Decimal {
            precision: Some(40),
            scale: Some(20),
        };
        assert_eq!(
            Value::Decimal("12345678901234567890.12345678901234567890".into())
                .shape(&wide)
                .unwrap()
                .to_string(),
            "12345678901234567890.12345678901234567890"
        );
        assert_eq!(Value::Int(1).shape(&FieldType::Boolean).unwrap(), true);
        assert_eq!(
            Value::Text("2009-01-01 00:00:00".into())
                .shape(&FieldType::Timestamp)
                .unwrap(),
            "2009-01-01T00:00:00"
        );
        assert_eq!(
            Value::Text("[1,2]".into())
                .shape(&FieldType::Array {
                    items: Box::new(FieldType::Int32)
                })
                .unwrap(),
            serde_json::json!([1, 2])
        );
        assert!(Value::Text("x".into()).shape(&FieldType::Int32).is_err());
    }

    #[test]
    fn temporal_formats() {
        let t = parse_timestamp("2009-01-01 00:00:00").unwrap();
        assert_eq!(format_timestamp(t), "2009-01-01T00:00:00");
        let t = parse_timestamp("2009-01-01T10:11:12.5").unwrap();
        assert_eq!(format_timestamp(t), "2009-01-01T10:11:12.5");
        let z = parse_timestamptz("2009-01-01T10:00:00+02:00").unwrap();
        assert_eq!(format_timestamptz(z), "2009-01-01T08:00:00+00:00");
        assert_eq!(
            format_time(NaiveTime::from_hms_opt(1, 2, 3).unwrap()),
            "01:02:03"
        );
    }

    #[test]
    fn coercion_is_strict() {
        assert!(Value::from("42").coerce(&FieldType::Int32).is_err());
        assert_eq!(
            Value::Int(5).coerce(&FieldType::Decimal {
                precision: None,
                scale: Some(2)
            }),
            Ok(Value::Decimal("5.00".into()))
        );
        assert!(Value::Int(1 << 40).coerce(&FieldType::Int32).is_err());
        assert!(Value::from("x").coerce(&FieldType::Boolean).is_err());
        let e = FieldType::Enum {
            name: None,
            values: vec!["a".into()],
        };
        assert!(Value::from("b").coerce(&e).is_err());
        assert!(Value::from("a").coerce(&e).is_ok());
    }

    /// PostgreSQL's own answers (`SELECT avg(x) FROM (VALUES …)`), from
    /// the sum and the count of the values.
    #[test]
    fn numeric_avg_is_postgresqls() {
        for (sum, count, avg) in [
            ("3", 2, "1.5000000000000000"),
            ("5", 3, "1.6666666666666667"),
            ("57.50", 2, "28.7500000000000000"),
            ("100000001", 2, "50000000.500000000000"),
            ("0", 2, "0.00000000000000000000"),
            ("-3", 2, "-1.5000000000000000"),
            ("0.005", 3, "0.00166666666666666667"),
            ("19998", 2, "9999.0000000000000000"),
            ("20000", 2, "10000.0000000000000000"),
            ("76205685", 12345, "6173.0000000000000000"),
            ("1.97", 2, "0.98500000000000000000"),
            ("1.123456789012345678901", 1, "1.123456789012345678901"),
            ("21", 3, "7.0000000000000000"),
            ("5", 1, "5.0000000000000000"),
            (
                "-0.00000000000000000001",
                3,
                "-0.0000000000000000000033333333333333333333",
            ),
            ("-2", 3, "-0.66666666666666666667"),
            // The sum's scale as written, trailing zeros included.
            ("12.000000000000000000", 2, "6.000000000000000000"),
            ("+7.50", 2, "3.7500000000000000"),
            ("9.99999999999999999999", 1, "9.99999999999999999999"),
        ] {
            assert_eq!(
                numeric_avg(sum, count).as_deref(),
                Some(avg),
                "{sum}/{count}"
            );
        }
        assert_eq!(numeric_avg("1", 0), None);
        assert_eq!(numeric_avg("x", 1), None);
        assert_eq!(numeric_avg("1.2.3", 1), None);
        // More decimals than PostgreSQL displays (1000): rounded to them.
        let long = format!("0.{}5", "0".repeat(1000));
        assert_eq!(
            numeric_avg(&long, 1),
            Some(format!("0.{}1", "0".repeat(999)))
        );
        let long = format!("1.{}4", "0".repeat(1000));
        assert_eq!(
            numeric_avg(&long, 1),
            Some(format!("1.{}", "0".repeat(1000)))
        );
    }
}
