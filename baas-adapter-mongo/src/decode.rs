//! BSON → mini-baas JSON: each stored value becomes a [`Value`] by its BSON
//! type and is shaped by the field type ([`Value::shape`]), so the rules of
//! `baas_core::value` hold here as on the SQL engines. Also the driver error
//! mapping.

use baas_core::{Error, FieldType, Value};
use bson::Bson;
use serde_json::Value as J;

/// A stored value as a [`Value`], read for `ty`.
pub fn value(b: Bson, ty: &FieldType) -> Value {
    if *ty == FieldType::Json {
        // A JSON field holds any JSON value: a string is a JSON string,
        // not JSON text to parse.
        return match b {
            Bson::Null | Bson::Undefined => Value::Null,
            other => Value::Json(json(other)),
        };
    }
    match b {
        Bson::Null | Bson::Undefined => Value::Null,
        Bson::Boolean(x) => Value::Bool(x),
        Bson::Int32(i) => Value::Int(i64::from(i)),
        Bson::Int64(i) => Value::Int(i),
        Bson::Double(f) => Value::Float(f),
        Bson::Decimal128(d) => Value::Decimal(d.to_string()),
        Bson::String(s) => Value::Text(s),
        Bson::ObjectId(o) => Value::Text(o.to_hex()),
        Bson::DateTime(d) => {
            let t = d.to_chrono();
            match ty {
                FieldType::Date => Value::Date(t.date_naive()),
                FieldType::Timestamp => Value::Timestamp(t.naive_utc()),
                FieldType::Text => Value::Text(baas_core::value::format_timestamptz(t)),
                _ => Value::TimestampTz(t),
            }
        }
        Bson::Binary(bin) => match (ty, bin.subtype) {
            (FieldType::Uuid, _) => uuid::Uuid::from_slice(&bin.bytes)
                .map(Value::Uuid)
                .unwrap_or(Value::Bytes(bin.bytes)),
            _ => Value::Bytes(bin.bytes),
        },
        Bson::Array(a) => match ty {
            FieldType::Array { items } => {
                Value::Array(a.into_iter().map(|x| value(x, items)).collect())
            }
            _ => Value::Json(json(Bson::Array(a))),
        },
        other @ Bson::Document(_) => Value::Json(json(other)),
        other => Value::Json(json(other)),
    }
}

/// Any BSON as plain JSON (for `json` fields): ObjectId as hex, dates as RFC
/// 3339, Decimal128 as its exact text, binary as `\x` and hex digits.
pub fn json(b: Bson) -> J {
    match b {
        Bson::Null | Bson::Undefined => J::Null,
        Bson::Boolean(x) => J::Bool(x),
        Bson::Int32(i) => J::from(i),
        Bson::Int64(i) => J::from(i),
        Bson::Double(f) => serde_json::Number::from_f64(f).map_or(J::Null, J::Number),
        Bson::Decimal128(d) => J::String(d.to_string()),
        Bson::String(s) => J::String(s),
        Bson::ObjectId(o) => J::String(o.to_hex()),
        Bson::DateTime(d) => J::String(baas_core::value::format_timestamptz(d.to_chrono())),
        Bson::Binary(bin) => J::String(baas_core::value::bytes_json(&bin.bytes)),
        Bson::Array(a) => J::Array(a.into_iter().map(json).collect()),
        Bson::Document(d) => J::Object(d.into_iter().map(|(k, v)| (k, json(v))).collect()),
        other => J::String(other.to_string()),
    }
}

/// Shape a stored value as the JSON of `ty`. A collection has no schema:
/// a document may hold a value of another type than its field's (a string
/// where the metadata says integer); it reads as the value it holds
/// ([`Value::shape_loose`]), as SQLite's cells do, rather than failing
/// the whole read.
pub fn shape(b: Option<Bson>, ty: &FieldType) -> J {
    let v = match b {
        None => Value::Null,
        Some(b) => value(b, ty),
    };
    v.shape_loose(ty)
}

/// Map a driver error into the semantic error: duplicate key → `Conflict`,
/// document validation → `Validation`, unreachable server → `Unavailable`.
pub fn error(e: mongodb::error::Error) -> Error {
    use mongodb::error::{ErrorKind, WriteFailure};
    let codes: Vec<i32> = match e.kind.as_ref() {
        ErrorKind::Write(WriteFailure::WriteError(w)) => vec![w.code],
        ErrorKind::InsertMany(im) => im.write_errors.iter().flatten().map(|w| w.code).collect(),
        ErrorKind::Command(c) => vec![c.code],
        _ => Vec::new(),
    };
    let message = e.to_string();
    if codes.contains(&11000) {
        return Error::Conflict {
            kind: baas_core::ConflictKind::Unique,
            message: format!("duplicate key: {}", short(&message)),
            constraint: index_name(&message),
        };
    }
    // 50 `MaxTimeMSExpired`: the aggregation ran past its `maxTimeMS`
    // (the tenant's statement timeout).
    if codes.contains(&50) {
        return Error::Timeout {
            message: "mongodb: the operation ran past the statement timeout (maxTimeMS)".into(),
        };
    }
    if codes.contains(&121) {
        return Error::validation(
            "",
            format!("document failed validation: {}", short(&message)),
        );
    }
    // A `match` pattern the server refuses (51091 "Regular expression is
    // invalid", or the `BadValue` of older servers): the request's input.
    let lower = message.to_ascii_lowercase();
    if matches!(e.kind.as_ref(), ErrorKind::Command(_))
        && (codes.contains(&51091)
            || lower.contains("regular expression")
            || lower.contains("regex"))
    {
        return Error::validation(
            "/pattern",
            format!("invalid regular expression: {}", short(&message)),
        );
    }
    // Two transactions wrote the same document: the server asks to retry
    // (the write is retried by the adapter; past its attempts, a 503).
    if codes.contains(&112) || e.contains_label("TransientTransactionError") {
        return Error::Unavailable {
            message: format!("{TRANSIENT}: {}", short(&message)),
            source: Some(Box::new(e)),
        };
    }
    let unavailable = matches!(
        e.kind.as_ref(),
        ErrorKind::ServerSelection { .. }
            | ErrorKind::Io(_)
            | ErrorKind::ConnectionPoolCleared { .. }
            | ErrorKind::DnsResolve { .. }
            | ErrorKind::Shutdown
    );
    if unavailable {
        return Error::Unavailable {
            message: short(&message),
            source: Some(Box::new(e)),
        };
    }
    Error::Backend {
        message: short(&message),
        source: Some(Box::new(e)),
    }
}

/// How a transient write conflict's message starts.
const TRANSIENT: &str = "write conflict with a concurrent transaction";

/// Whether `e` is a transient write conflict (worth retrying the write).
pub fn is_transient(e: &Error) -> bool {
    matches!(e, Error::Unavailable { message, .. } if message.starts_with(TRANSIENT))
}

fn short(s: &str) -> String {
    s.chars().take(400).collect()
}

/// `… index: gadget_sku_key dup key …` → `gadget_sku_key`.
fn index_name(msg: &str) -> Option<String> {
    let rest = msg.split("index: ").nth(1)?;
    rest.split_whitespace().next().map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes_follow_the_core_rules() {
        let dec = FieldType::Decimal {
            precision: Some(10),
            scale: Some(2),
        };
        let d: bson::Decimal128 = "0.99".parse().unwrap();
        // Decimals are JSON numbers with the column's digits.
        assert_eq!(shape(Some(Bson::Decimal128(d)), &dec).to_string(), "0.99");
        let d: bson::Decimal128 = "523.06".parse().unwrap();
        assert_eq!(shape(Some(Bson::Decimal128(d)), &dec).to_string(), "523.06");
        let oid = bson::oid::ObjectId::parse_str("65a1b2c3d4e5f60718293a4b").unwrap();
        assert_eq!(
            shape(Some(Bson::ObjectId(oid)), &FieldType::ObjectId),
            "65a1b2c3d4e5f60718293a4b"
        );
        let t = bson::DateTime::from_millis(1_609_459_200_000);
        assert_eq!(
            shape(Some(Bson::DateTime(t)), &FieldType::Timestamp),
            "2021-01-01T00:00:00"
        );
        assert_eq!(
            shape(Some(Bson::DateTime(t)), &FieldType::TimestampTz),
            "2021-01-01T00:00:00+00:00"
        );
        assert_eq!(
            shape(Some(Bson::DateTime(t)), &FieldType::Date),
            "2021-01-01"
        );
        let bin = Bson::Binary(bson::Binary {
            subtype: bson::spec::BinarySubtype::Generic,
            bytes: vec![0, 1, 2, 3, 4, 255],
        });
        assert_eq!(shape(Some(bin), &FieldType::Binary), "\\x0001020304ff");
        assert_eq!(shape(None, &FieldType::Text), J::Null);
    }

    #[test]
    fn index_names_are_read_from_messages() {
        assert_eq!(
            index_name(
                "E11000 duplicate key error collection: c.gadget index: gadget_sku_key dup key: { sku: 1 }"
            ),
            Some("gadget_sku_key".into())
        );
    }
}
