//! JSON Schemas (draft 2020-12) of an entity's records, derived from metadata.
//!
//! [`entity_json_schema`] describes a record as it appears in JSON, in one of
//! three [`SchemaMode`]s:
//!
//! - [`SchemaMode::Read`]: what the API returns ([`Value::shape`]). No field
//!   is `required` (`select=` may leave any out) and other keys are allowed
//!   (embedded relations appear under their name or alias). Generated-always
//!   fields are `readOnly`.
//! - [`SchemaMode::Insert`]: one row of a `POST` body ([`Value::coerce`]).
//!   `required` lists the fields that are not nullable, have no default and
//!   are not generated; unknown keys are rejected
//!   (`additionalProperties: false`).
//! - [`SchemaMode::Update`]: a `PATCH` body: like insert, nothing required.
//!
//! Generated-always (computed) fields are *left out* of the insert and update
//! schemas: with `additionalProperties: false` a body that sets one is
//! rejected, as the validator does, and code generators see no property they
//! cannot write (a `false` subschema would say the same but confuses them).
//!
//! | field type | read | insert / update |
//! | --- | --- | --- |
//! | `text` | `string` | `string` |
//! | `int16` `int32` `int64` | `integer` with `minimum`/`maximum` of the width | same (`1.0` is an integer too) |
//! | `float32` `float64` | `number` (`float32`: within ±3.4·10³⁸) | same |
//! | `decimal(p,s)` | `string`, pattern `-?digits[.s digits]` (exactly `s` digits when the scale is known) | `number` or numeric `string` (sign, point, exponent up to ±1000, no spaces; without an exponent at most `p − s` digits before the point — see below) |
//! | `boolean` | `boolean` | `boolean` |
//! | `date` | `string`, `format: date` | `string`, pattern (`2009-01-01`; one-digit month/day and a signed year are accepted too) |
//! | `time` | `string`, pattern `HH:MM:SS[.f]` (no `format: time`: RFC 3339 times carry an offset) | `string`, pattern `HH:MM[:SS[.f]]` |
//! | `timestamp` | `string`, pattern `YYYY-MM-DDTHH:MM:SS[.f]` (no `format: date-time`: there is no offset) | `string`, pattern: a date, optionally `T` or space and a time with seconds, optionally an offset (converted to UTC) |
//! | `timestamptz` | `string`, `format: date-time`, always `+00:00` | `string`, pattern: date, `T` or space, time with seconds, and an offset (`Z`, `+02`, `+0200`, `+02:00`) |
//! | `uuid` | `string`, `format: uuid`, lowercase | `string`, pattern: hyphenated, 32 hex digits, `{…}` or `urn:uuid:…`, any case |
//! | `json` | any | any but `null` (unless nullable) |
//! | `binary` | `string`, pattern `\x` and lowercase hex digits (PostgreSQL's `bytea` text, as PostgREST answers it) | `string`: `\x` and hex digits of either case, or canonical padded base64 |
//! | `array` | `array`, `items` the element's schema (elements may be null) | same |
//! | `enum` | `string`, `enum` of the values (any string when the list is empty) | same |
//! | `objectid` | `string`, pattern 24 lowercase hex digits | `string`, 24 hex digits, any case |
//!
//! A nullable field also accepts `null` (`"type": [..., "null"]`, and `null`
//! in an `enum`). `max_length` becomes `maxLength` (counted in characters,
//! like the validator); a field's `range` replaces its integer type's
//! `minimum`/`maximum`. Descriptions come from the metadata.
//!
//! Where the schema and the server differ (the server decides):
//!
//! - dates and times: calendar validity (`2009-02-30`) is not expressed, and
//!   the server's parser also tolerates leading spaces;
//! - `timestamp`/`timestamptz` writes: the patterns accept `t`/`z` and short
//!   offsets with either separator; the server takes `+02`/`+0200` only after
//!   a space, and a lowercase `t` only with an offset;
//! - decimals: the server rounds to the scale, then refuses more than
//!   `precision − scale` digits before the point
//!   ([`crate::value::decimal_for_write`]); the schema does not bound JSON
//!   numbers, counts digits before rounding (`"99999999.995"` fits the
//!   pattern of `decimal(10,2)` but rounds past it), and does not bound the
//!   magnitude of a numeric string with an exponent (`"2e1000"`);
//! - `float32` writes: values that underflow to zero (`1e-46`) are refused
//!   by the server only;
//! - integers written as floats beyond ±9·10¹⁵ (`1e16`) are refused by the
//!   server although within `int64`;
//! - reads: a float or decimal column holding NaN or an infinity (written by
//!   another program) reads as the string `"NaN"`, `"Infinity"` or
//!   `"-Infinity"`, as PostgreSQL's `to_json` (and so PostgREST) prints it.
//!
//! ```
//! use baas_core::json_schema::{SchemaMode, entity_json_schema};
//! use baas_core::{Entity, Field, FieldType};
//!
//! let artist = Entity::new(
//!     "artist",
//!     vec![Field::new("artist_id", FieldType::Int32), Field::new("name", FieldType::Text).nullable()],
//! );
//! let s = entity_json_schema(&artist, SchemaMode::Insert);
//! assert_eq!(s["required"], serde_json::json!(["artist_id"]));
//! assert_eq!(s["properties"]["name"]["type"], serde_json::json!(["string", "null"]));
//! assert_eq!(s["additionalProperties"], false);
//! ```
//!
//! [`Value::shape`]: crate::Value::shape
//! [`Value::coerce`]: crate::Value::coerce

use serde_json::{Map, Value as J, json};

use crate::metadata::{Entity, Field, FieldType, Generated};

/// The JSON Schema dialect of every schema produced here (draft 2020-12).
pub const DIALECT: &str = "https://json-schema.org/draft/2020-12/schema";

/// Which view of a record a schema describes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SchemaMode {
    /// A record as the API returns it.
    Read,
    /// One row of an insert (`POST`) body.
    Insert,
    /// An update (`PATCH`) body.
    Update,
}

impl SchemaMode {
    fn is_write(self) -> bool {
        !matches!(self, Self::Read)
    }
}

/// Whether an insert must set the field: not nullable, no default, not
/// generated (the validator's rule).
pub fn insert_requires(field: &Field) -> bool {
    !field.nullable && field.default.is_none() && field.generated == Generated::None
}

/// The JSON Schema (draft 2020-12) of a record of `entity` in `mode`; see the
/// module docs for the rules. The object carries `$schema`, `title`,
/// `description`, `type`, `properties` and, for writes, `required` and
/// `additionalProperties: false`.
pub fn entity_json_schema(entity: &Entity, mode: SchemaMode) -> J {
    let mut props = Map::new();
    let mut required = Vec::new();
    for f in &entity.fields {
        if mode.is_write() && f.generated == Generated::Always {
            continue;
        }
        props.insert(f.name.clone(), field_json_schema(f, mode));
        if mode == SchemaMode::Insert && insert_requires(f) {
            required.push(J::String(f.name.clone()));
        }
    }
    let (title, what) = match mode {
        SchemaMode::Read => (
            entity.name.clone(),
            format!(
                "A `{}` record as the API returns it; `select=` may leave fields out and embedded relations appear under their name.",
                entity.name
            ),
        ),
        SchemaMode::Insert => (
            format!("{} (insert)", entity.name),
            format!("One `{}` row to insert.", entity.name),
        ),
        SchemaMode::Update => (
            format!("{} (update)", entity.name),
            format!("The fields to change on matching `{}` rows.", entity.name),
        ),
    };
    let description = match &entity.description {
        Some(d) => format!("{d}\n\n{what}"),
        None => what,
    };
    let mut s = Map::new();
    s.insert("$schema".into(), DIALECT.into());
    s.insert("title".into(), title.into());
    s.insert("description".into(), description.into());
    s.insert("type".into(), "object".into());
    s.insert("properties".into(), J::Object(props));
    if !required.is_empty() {
        s.insert("required".into(), J::Array(required));
    }
    if mode.is_write() {
        s.insert("additionalProperties".into(), false.into());
    }
    J::Object(s)
}

/// The JSON Schema of one field's value in `mode`: its type's schema, plus
/// `null` when nullable, `maxLength`, `description`, and `readOnly` for
/// generated-always fields.
pub fn field_json_schema(field: &Field, mode: SchemaMode) -> J {
    let mut s = type_json_schema(&field.ty, mode);
    if let Some(max) = field.max_length {
        s.insert("maxLength".into(), max.into());
    }
    if let Some(r) = field.range {
        s.insert("minimum".into(), r.min.into());
        s.insert("maximum".into(), r.max.into());
    }
    if field.nullable {
        allow_null(&mut s);
    } else if mode.is_write() && field.ty == FieldType::Json {
        // Any JSON but null.
        s.insert(
            "type".into(),
            json!(["object", "array", "string", "number", "boolean"]),
        );
    }
    if let Some(d) = &field.description {
        s.insert("description".into(), d.clone().into());
    }
    if field.generated == Generated::Always {
        s.insert("readOnly".into(), true.into());
    }
    J::Object(s)
}

/// Add `null` to the accepted values of a schema.
fn allow_null(s: &mut Map<String, J>) {
    if let Some(J::Array(values)) = s.get_mut("enum")
        && !values.contains(&J::Null)
    {
        values.push(J::Null);
    }
    match s.get_mut("type") {
        Some(J::String(t)) => {
            let t = std::mem::take(t);
            s.insert("type".into(), json!([t, "null"]));
        }
        Some(J::Array(ts)) if !ts.contains(&J::from("null")) => ts.push("null".into()),
        // No `type`: any value, null included.
        _ => {}
    }
}

const DATE_W: &str = r"\+?\d{1,4}-(0?[1-9]|1[0-2])-(0?[1-9]|[12]\d|3[01])";
const DATE_BASIC_W: &str = r"\d{4}(0[1-9]|1[0-2])(0[1-9]|[12]\d|3[01])";
const TIME_SECONDS_W: &str = r"([01]?\d|2[0-3]):[0-5]?\d:([0-5]?\d|60)(\.\d+)?";
const OFFSET_W: &str = r"\s*([Zz]|[+-]\d{2}(:?\d{2})?)";
/// `f32::MAX` as JSON prints it (shortest round-trip text), read as a double.
const F32_MAX_PRINTED: f64 = 3.4028235e38;
const DATE_R: &str = r"[+-]?\d{4,}-\d{2}-\d{2}";
const TIME_R: &str = r"\d{2}:\d{2}:\d{2}(\.\d+)?";
const HEX8_4_4_4_12: &str =
    r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}";
/// Canonical padded base64 (the standard alphabet; unused bits zero).
const BASE64: &str =
    r"([A-Za-z0-9+/]{4})*([A-Za-z0-9+/][AQgw]==|[A-Za-z0-9+/]{2}[AEIMQUYcgkosw048]=)?";

fn string_pattern(pattern: String) -> Map<String, J> {
    let mut s = Map::new();
    s.insert("type".into(), "string".into());
    s.insert("pattern".into(), pattern.into());
    s
}

fn obj(v: J) -> Map<String, J> {
    match v {
        J::Object(m) => m,
        _ => Map::new(),
    }
}

/// The JSON Schema of a value of `ty` in `mode`, without nullability (see
/// the module docs for the table).
pub fn type_json_schema(ty: &FieldType, mode: SchemaMode) -> Map<String, J> {
    let write = mode.is_write();
    let int = |format: Option<&str>, min: i64, max: i64| {
        let mut s = obj(json!({"type": "integer", "minimum": min, "maximum": max}));
        if let Some(f) = format {
            s.insert("format".into(), f.into());
        }
        s
    };
    match ty {
        FieldType::Text => obj(json!({"type": "string"})),
        FieldType::Int16 => int(None, i16::MIN.into(), i16::MAX.into()),
        FieldType::Int32 => int(Some("int32"), i32::MIN.into(), i32::MAX.into()),
        FieldType::Int64 => int(Some("int64"), i64::MIN, i64::MAX),
        FieldType::Float32 => obj(
            // ±f32::MAX as reads print it (the shortest text that reads back
            // as that float32, `3.4028235e38`), which as a double is a
            // little above `f32::MAX as f64`.
            json!({"type": "number", "format": "float", "minimum": -F32_MAX_PRINTED, "maximum": F32_MAX_PRINTED}),
        ),
        FieldType::Float64 => obj(json!({"type": "number", "format": "double"})),
        FieldType::Decimal { precision, scale } => {
            if write {
                let mut s = obj(json!({"type": ["number", "string"]}));
                s.insert(
                    "pattern".into(),
                    decimal_write_pattern(*precision, *scale).into(),
                );
                s
            } else {
                // A number with the column's digits, or (a tenant that
                // keeps decimals as strings) their text: the pattern
                // checks strings only.
                let mut s = string_pattern(match scale {
                    Some(0) => r"^-?\d+$".to_string(),
                    Some(n) => format!(r"^-?\d+\.\d{{{n}}}$"),
                    None => r"^-?\d+(\.\d+)?$".to_string(),
                });
                s.insert("type".into(), json!(["number", "string"]));
                s
            }
        }
        FieldType::Boolean => obj(json!({"type": "boolean"})),
        FieldType::Date => {
            if write {
                // A timestamp's text too: its date as written; and the
                // basic form (`20190101`).
                string_pattern(format!(
                    "^({DATE_W}([Tt ]{TIME_SECONDS_W}({OFFSET_W})?)?|{DATE_BASIC_W})$"
                ))
            } else {
                let mut s = string_pattern(format!("^{DATE_R}$"));
                s.insert("format".into(), "date".into());
                s
            }
        }
        FieldType::Time => {
            if write {
                string_pattern(r"^([01]?\d|2[0-3]):[0-5]?\d(:([0-5]?\d|60)(\.\d+)?)?$".into())
            } else {
                string_pattern(format!("^{TIME_R}$"))
            }
        }
        FieldType::Timestamp => {
            if write {
                string_pattern(format!("^{DATE_W}([Tt ]{TIME_SECONDS_W}({OFFSET_W})?)?$"))
            } else {
                string_pattern(format!("^{DATE_R}T{TIME_R}$"))
            }
        }
        FieldType::TimestampTz => {
            if write {
                // Without an offset: UTC.
                string_pattern(format!("^{DATE_W}[Tt ]{TIME_SECONDS_W}({OFFSET_W})?$"))
            } else {
                let mut s = string_pattern(format!("^{DATE_R}T{TIME_R}\\+00:00$"));
                s.insert("format".into(), "date-time".into());
                s
            }
        }
        FieldType::Uuid => {
            if write {
                string_pattern(format!(
                    r"^({HEX8_4_4_4_12}|[0-9a-fA-F]{{32}}|\{{{HEX8_4_4_4_12}\}}|[uU][rR][nN]:[uU][uU][iI][dD]:{HEX8_4_4_4_12})$"
                ))
            } else {
                let mut s = string_pattern(
                    "^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$".into(),
                );
                s.insert("format".into(), "uuid".into());
                s
            }
        }
        FieldType::Json => Map::new(),
        FieldType::Binary => {
            if write {
                string_pattern(format!(r"^(\\x([0-9a-fA-F]{{2}})*|{BASE64})$"))
            } else {
                string_pattern(r"^\\x([0-9a-f]{2})*$".into())
            }
        }
        FieldType::Array { items } => {
            let mut item = type_json_schema(items, mode);
            allow_null(&mut item);
            obj(json!({"type": "array", "items": item}))
        }
        FieldType::Enum { values, .. } => {
            let mut s = obj(json!({"type": "string"}));
            if !values.is_empty() {
                s.insert("enum".into(), json!(values));
            }
            s
        }
        FieldType::ObjectId => string_pattern(if write {
            "^[0-9a-fA-F]{24}$".into()
        } else {
            "^[0-9a-f]{24}$".into()
        }),
    }
}

/// Numeric strings a decimal write accepts ([`crate::value::decimal_for_write`]):
/// sign, digits, point, an exponent up to ±1000; without an exponent and
/// with a precision, at most `precision − scale` digits before the point
/// (leading zeros aside). Fraction digits beyond the scale are rounded by
/// the server, so any number of them is accepted. The body validator runs
/// this pattern: it must accept every string the server does, but for
/// spaces around it (the server skips them, as PostgreSQL does; the
/// schema describes the canonical form).
fn decimal_write_pattern(precision: Option<u32>, scale: Option<u32>) -> String {
    const WITH_EXP: &str = r"(\d+\.?\d*|\.\d+)[eE][+-]?0*(\d{1,3}|1000)";
    let scale = scale.unwrap_or(0);
    let plain = match precision {
        None => r"\d+\.?\d*|\.\d+".to_string(),
        Some(p) if p <= scale => r"0+(\.\d*)?|0*\.\d+".to_string(),
        Some(p) => format!(r"0*\d{{1,{}}}(\.\d*)?|\.\d+", p - scale),
    };
    format!("^[+-]?({plain}|{WITH_EXP})$")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Value;
    use serde_json::json;

    fn ty_field(ty: FieldType) -> Field {
        Field::new("v", ty)
    }

    fn validator(s: &J) -> jsonschema::Validator {
        jsonschema::draft202012::new(s).unwrap_or_else(|e| panic!("{e}: {s:#}"))
    }

    /// The field's insert schema accepts `v` exactly when the validator's
    /// coercion does.
    fn write_agrees(ty: &FieldType, samples: &[J]) {
        let e = Entity::new("t", vec![ty_field(ty.clone())]);
        let v = validator(&entity_json_schema(&e, SchemaMode::Insert));
        for s in samples {
            let schema_ok = v.is_valid(&json!({ "v": s }));
            // Null is a matter of nullability (these fields are not nullable).
            let coerce_ok = !s.is_null() && Value::from_json(s).coerce_write(ty).is_ok();
            assert_eq!(
                schema_ok,
                coerce_ok,
                "{}: {s} (schema {schema_ok}, coerce {coerce_ok})",
                ty.name()
            );
        }
    }

    /// The field's read schema accepts what `shape` produces from `cells`.
    fn read_accepts(ty: &FieldType, cells: Vec<Value>) {
        let e = Entity::new("t", vec![ty_field(ty.clone())]);
        let v = validator(&entity_json_schema(&e, SchemaMode::Read));
        for c in cells {
            let shaped = c.clone().shape(ty).unwrap();
            assert!(
                v.is_valid(&json!({ "v": shaped })),
                "{}: {c:?} → {shaped}",
                ty.name()
            );
        }
    }

    fn read_rejects(ty: &FieldType, samples: &[J]) {
        let e = Entity::new("t", vec![ty_field(ty.clone())]);
        let v = validator(&entity_json_schema(&e, SchemaMode::Read));
        for s in samples {
            assert!(!v.is_valid(&json!({ "v": s })), "{}: {s}", ty.name());
        }
    }

    fn prop(ty: FieldType, mode: SchemaMode) -> J {
        field_json_schema(&ty_field(ty), mode)
    }

    #[test]
    fn integers() {
        assert_eq!(
            prop(FieldType::Int16, SchemaMode::Read),
            json!({"type": "integer", "minimum": -32768, "maximum": 32767})
        );
        assert_eq!(
            prop(FieldType::Int32, SchemaMode::Insert),
            json!({"type": "integer", "minimum": -2147483648i64, "maximum": 2147483647, "format": "int32"})
        );
        assert_eq!(
            prop(FieldType::Int64, SchemaMode::Read)["maximum"],
            json!(i64::MAX)
        );
        for ty in [FieldType::Int16, FieldType::Int32, FieldType::Int64] {
            write_agrees(
                &ty,
                &[
                    json!(0),
                    json!(-32768),
                    json!(32767),
                    json!(32768),
                    json!(-32769),
                    json!(2147483647),
                    json!(2147483648i64),
                    json!(-2147483649i64),
                    json!(i64::MAX),
                    json!(i64::MIN),
                    json!(u64::MAX),
                    json!(5.0),
                    json!(5.5),
                    json!("42"),
                    json!(true),
                    json!(null),
                    json!([1]),
                ],
            );
            read_accepts(
                &ty,
                vec![Value::Int(7), Value::Bool(true), Value::Text("12".into())],
            );
            read_rejects(&ty, &[json!("1"), json!(1.5), json!(null)]);
        }
    }

    #[test]
    fn floats() {
        assert_eq!(
            prop(FieldType::Float64, SchemaMode::Read),
            json!({"type": "number", "format": "double"})
        );
        for ty in [FieldType::Float32, FieldType::Float64] {
            write_agrees(
                &ty,
                &[
                    json!(1),
                    json!(1.5),
                    json!(-1e300),
                    json!("1.5"),
                    json!(false),
                ],
            );
            read_accepts(&ty, vec![Value::Float(0.1), Value::Int(3)]);
            read_rejects(&ty, &[json!("0.1")]);
        }
    }

    #[test]
    fn decimals() {
        let d2 = FieldType::Decimal {
            precision: Some(10),
            scale: Some(2),
        };
        let d0 = FieldType::Decimal {
            precision: None,
            scale: Some(0),
        };
        let dn = FieldType::Decimal {
            precision: None,
            scale: None,
        };
        assert_eq!(
            prop(d2.clone(), SchemaMode::Read),
            json!({"type": ["number", "string"], "pattern": r"^-?\d+\.\d{2}$"})
        );
        assert_eq!(
            prop(dn.clone(), SchemaMode::Insert)["type"],
            json!(["number", "string"])
        );
        let strings = [
            "0.99",
            "1",
            "-1.5",
            "+1.5",
            "1.",
            ".5",
            "007.50",
            " 1.5 ",
            "1.5e3",
            "1.5E+3",
            "2e1000",
            "2e1001",
            "1.234",
            "1.2300",
            "abc",
            "",
            ".",
            "-",
            "1e",
            "1.2.3",
            "--1",
            "-+1",
            "1 000",
            "0.0",
            ".0",
            "1.50e2",
            "NaN",
            "Infinity",
            "-inf",
            "0x10",
            "1_000",
            "\u{0}1",
            "1\n",
            "123456789",
            "12345678.999",
            "-12345678",
        ];
        let mut samples: Vec<J> = strings.iter().map(|s| json!(s)).collect();
        samples.extend([json!(5), json!(-7), json!(true), json!([1]), json!(null)]);
        write_agrees(&dn, &samples);
        write_agrees(&d0, &samples);
        // With a known precision, the magnitude of a string with an
        // exponent is not described: what the server accepts, the schema
        // accepts; the rest agrees exactly.
        let (exp, plain): (Vec<J>, Vec<J>) = samples
            .into_iter()
            .partition(|s| s.as_str().is_some_and(|s| s.contains(['e', 'E'])));
        for ty in [&d2] {
            write_agrees(ty, &plain);
            let v = validator(&entity_json_schema(
                &Entity::new("t", vec![ty_field(ty.clone())]),
                SchemaMode::Insert,
            ));
            for s in &exp {
                if Value::from_json(s).coerce_write(ty).is_ok() {
                    assert!(v.is_valid(&json!({ "v": s })), "{s}");
                }
            }
        }
        let d2_strings = validator(&entity_json_schema(
            &Entity::new("t", vec![ty_field(d2.clone())]),
            SchemaMode::Insert,
        ));
        assert!(
            d2_strings.is_valid(&json!({"v": "2e1000"}))
                && Value::from("2e1000").coerce_write(&d2).is_err(),
            "documented: the magnitude of an exponent is checked by the server only"
        );
        assert!(
            d2_strings.is_valid(&json!({"v": "99999999.995"}))
                && Value::from("99999999.995").coerce_write(&d2).is_err(),
            "documented: rounding up past the precision is refused by the server only"
        );
        // Numbers: any for an unknown scale; within the scale otherwise.
        write_agrees(&dn, &[json!(0.125)]);
        let d2_schema = validator(&entity_json_schema(
            &Entity::new("t", vec![ty_field(d2.clone())]),
            SchemaMode::Insert,
        ));
        assert!(d2_schema.is_valid(&json!({"v": 0.5})));
        read_accepts(
            &d2,
            vec![
                Value::Float(0.99),
                Value::Int(1),
                Value::Decimal("-12.5".into()),
                Value::Text("2.9699999999999998".into()),
            ],
        );
        read_accepts(&dn, vec![Value::Decimal("1.5".into()), Value::Int(3)]);
        read_accepts(&d0, vec![Value::Int(3), Value::Float(2.0)]);
        read_rejects(&d2, &[json!("1.5"), json!("1.500"), json!(true)]);
        read_rejects(&dn, &[json!("1."), json!("+1"), json!([1])]);
    }

    #[test]
    fn booleans_and_text() {
        assert_eq!(
            prop(FieldType::Boolean, SchemaMode::Read),
            json!({"type": "boolean"})
        );
        write_agrees(&FieldType::Boolean, &[json!(true), json!(0), json!("true")]);
        read_accepts(
            &FieldType::Boolean,
            vec![Value::Int(1), Value::Text("f".into()), Value::Bool(true)],
        );
        write_agrees(
            &FieldType::Text,
            &[json!("x"), json!(""), json!(1), json!(null)],
        );
        read_accepts(
            &FieldType::Text,
            vec![Value::Text("x".into()), Value::Int(1)],
        );
        // An unsigned column's range replaces its type's bounds.
        let mut f = ty_field(FieldType::Int32);
        f.range = Some(crate::metadata::IntRange::unsigned(16));
        assert_eq!(
            field_json_schema(&f, SchemaMode::Insert),
            json!({"type": "integer", "format": "int32", "minimum": 0, "maximum": 65535})
        );
        let mut f = ty_field(FieldType::Text);
        f.max_length = Some(3);
        f.description = Some("Short name".into());
        assert_eq!(
            field_json_schema(&f, SchemaMode::Insert),
            json!({"type": "string", "maxLength": 3, "description": "Short name"})
        );
        let v = validator(&entity_json_schema(
            &Entity::new("t", vec![f]),
            SchemaMode::Update,
        ));
        assert!(v.is_valid(&json!({"v": "äöü"})), "characters, not bytes");
        assert!(!v.is_valid(&json!({"v": "abcd"})));
    }

    #[test]
    fn temporal() {
        assert_eq!(
            prop(FieldType::Date, SchemaMode::Read)["format"],
            json!("date")
        );
        assert_eq!(
            prop(FieldType::TimestampTz, SchemaMode::Read)["format"],
            json!("date-time")
        );
        for ty in [FieldType::Time, FieldType::Timestamp] {
            assert!(prop(ty.clone(), SchemaMode::Read).get("format").is_none());
        }
        for ty in [
            FieldType::Date,
            FieldType::Time,
            FieldType::Timestamp,
            FieldType::TimestampTz,
        ] {
            assert!(prop(ty.clone(), SchemaMode::Insert).get("format").is_none());
        }
        write_agrees(
            &FieldType::Date,
            &[
                json!("2009-01-01"),
                json!("2009-1-1"),
                json!("+2009-01-01"),
                json!("-0001-01-01"),
                json!("12345-01-01"),
                json!("2009-13-01"),
                json!("2009-01-32"),
                json!("2009-01-01T00:00:00"),
                json!("2009/01/01"),
                json!(20090101),
                json!("20090101"),
                json!("20091301"),
                json!("200901011"),
            ],
        );
        write_agrees(
            &FieldType::Time,
            &[
                json!("13:45:00"),
                json!("13:45"),
                json!("1:2:3"),
                json!("13:45:00.5"),
                json!("13:45:60"),
                json!("13:45:00."),
                json!("13:45:00Z"),
                json!("24:00:00"),
                json!("13:60:00"),
                json!("13:45:00,5"),
                json!("13"),
            ],
        );
        write_agrees(
            &FieldType::Timestamp,
            &[
                json!("2009-01-01"),
                json!("2009-01-01T00:00:00"),
                json!("2009-01-01 00:00:00"),
                json!("2009-01-01T00:00:00.5"),
                json!("2009-01-01T00:00:00Z"),
                json!("2009-01-01T00:00:00+02:00"),
                json!("2009-01-01 00:00:00+02"),
                json!("2009-01-01T00:00"),
                json!("2009-01-01T25:00:00"),
                json!("2009-01-01_00:00:00"),
                json!("yesterday"),
            ],
        );
        write_agrees(
            &FieldType::TimestampTz,
            &[
                json!("2009-01-01T00:00:00Z"),
                json!("2009-01-01t00:00:00z"),
                json!("2009-01-01T00:00:00.5Z"),
                json!("2009-01-01 00:00:00+02"),
                json!("2009-01-01 00:00:00+0200"),
                json!("2009-01-01 00:00:00 +02:00"),
                json!("2009-01-01T00:00:00+02:00"),
                json!("2009-01-01T00:00:00"),
                json!("2009-01-01"),
                json!("2009-01-01T00:00Z"),
                json!("2009-01-01_00:00:00Z"),
            ],
        );
        // Documented differences: the schema is looser on offsets.
        let tz = validator(&entity_json_schema(
            &Entity::new("t", vec![ty_field(FieldType::TimestampTz)]),
            SchemaMode::Insert,
        ));
        assert!(tz.is_valid(&json!({"v": "2009-01-01T00:00:00+02"})));
        assert!(
            Value::from("2009-01-01T00:00:00+02")
                .coerce(&FieldType::TimestampTz)
                .is_err()
        );
        let d = |s: &str| Value::Date(chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap());
        read_accepts(
            &FieldType::Date,
            vec![
                d("2009-01-01"),
                d("0009-01-01"),
                Value::Text("2009-01-01 10:00:00".into()),
            ],
        );
        read_accepts(
            &FieldType::Time,
            vec![
                Value::Text("13:45:00".into()),
                Value::Text("13:45:00.25".into()),
            ],
        );
        read_accepts(
            &FieldType::Timestamp,
            vec![
                Value::Text("2009-01-01 00:00:00".into()),
                Value::Text("2009-01-01T10:11:12.5".into()),
                d("2009-01-01"),
            ],
        );
        read_accepts(
            &FieldType::TimestampTz,
            vec![
                Value::Text("2009-01-01T10:00:00+02:00".into()),
                Value::Text("2009-01-01 10:00:00".into()),
            ],
        );
        read_rejects(&FieldType::Time, &[json!("13:45")]);
        read_rejects(
            &FieldType::Timestamp,
            &[json!("2009-01-01 00:00:00"), json!("2009-01-01T00:00:00Z")],
        );
        read_rejects(
            &FieldType::TimestampTz,
            &[json!("2009-01-01T00:00:00+02:00")],
        );
    }

    #[test]
    fn uuids_objectids_binary() {
        assert_eq!(
            prop(FieldType::Uuid, SchemaMode::Read)["format"],
            json!("uuid")
        );
        write_agrees(
            &FieldType::Uuid,
            &[
                json!("67e55044-10b1-426f-9247-bb680e5fe0c8"),
                json!("67E55044-10B1-426F-9247-BB680E5FE0C8"),
                json!("67e5504410b1426f9247bb680e5fe0c8"),
                json!("{67e55044-10b1-426f-9247-bb680e5fe0c8}"),
                json!("urn:uuid:67e55044-10b1-426f-9247-bb680e5fe0c8"),
                json!("67e55044-10b1426f-9247-bb680e5fe0c8"),
                json!("67e55044-10b1-426f-9247-bb680e5fe0c"),
                json!("x7e55044-10b1-426f-9247-bb680e5fe0c8"),
            ],
        );
        read_accepts(
            &FieldType::Uuid,
            vec![Value::Text("67E55044-10B1-426F-9247-BB680E5FE0C8".into())],
        );
        read_rejects(
            &FieldType::Uuid,
            &[json!("67E55044-10B1-426F-9247-BB680E5FE0C8")],
        );
        write_agrees(
            &FieldType::ObjectId,
            &[
                json!("507f1f77bcf86cd799439011"),
                json!("507F1F77BCF86CD799439011"),
                json!("507f1f77bcf86cd79943901"),
                json!("507f1f77bcf86cd79943901g"),
            ],
        );
        read_accepts(
            &FieldType::ObjectId,
            vec![Value::Text("507f1f77bcf86cd799439011".into())],
        );
        assert_eq!(
            prop(FieldType::Binary, SchemaMode::Read)["pattern"],
            json!(r"^\\x([0-9a-f]{2})*$")
        );
        write_agrees(
            &FieldType::Binary,
            &[
                json!(r"\x"),
                json!(r"\x00ff0A"),
                json!(r"\x0"),
                json!(r"\x0g"),
                json!(r"\X00"),
                json!(r"\x 00"),
                json!(""),
                json!("QQ=="),
                json!("QR=="),
                json!("QUI="),
                json!("QUJ="),
                json!("QUJD"),
                json!("QQ"),
                json!("QQ="),
                json!("Q==="),
                json!("QU JD"),
                json!("-_8="),
                json!(1),
            ],
        );
        read_accepts(
            &FieldType::Binary,
            vec![
                Value::Bytes(vec![0, 1, 2, 255]),
                Value::Text("héllo".into()),
            ],
        );
    }

    #[test]
    fn json_enum_array() {
        assert_eq!(prop(FieldType::Json, SchemaMode::Read), json!({}));
        write_agrees(
            &FieldType::Json,
            &[
                json!({"a": 1}),
                json!([1]),
                json!("s"),
                json!(1),
                json!(false),
                json!(null),
            ],
        );
        let mut nullable_json = ty_field(FieldType::Json).nullable();
        assert_eq!(
            field_json_schema(&nullable_json, SchemaMode::Insert),
            json!({})
        );
        nullable_json.description = Some("free-form".into());
        assert_eq!(
            field_json_schema(&nullable_json, SchemaMode::Read),
            json!({"description": "free-form"})
        );

        let e = FieldType::Enum {
            name: Some("mood".into()),
            values: vec!["sad".into(), "happy".into()],
        };
        assert_eq!(
            prop(e.clone(), SchemaMode::Read),
            json!({"type": "string", "enum": ["sad", "happy"]})
        );
        assert_eq!(
            field_json_schema(&ty_field(e.clone()).nullable(), SchemaMode::Insert),
            json!({"type": ["string", "null"], "enum": ["sad", "happy", null]})
        );
        write_agrees(&e, &[json!("sad"), json!("ok"), json!(1)]);
        let open = FieldType::Enum {
            name: None,
            values: vec![],
        };
        write_agrees(&open, &[json!("anything"), json!(1)]);

        let arr = FieldType::Array {
            items: Box::new(FieldType::Int16),
        };
        assert_eq!(
            prop(arr.clone(), SchemaMode::Read),
            json!({"type": "array", "items": {"type": ["integer", "null"], "minimum": -32768, "maximum": 32767}})
        );
        write_agrees(
            &arr,
            &[
                json!([]),
                json!([1, null, 3]),
                json!([1.5]),
                json!([40000]),
                json!(1),
                json!(["1"]),
            ],
        );
        let nested = FieldType::Array {
            items: Box::new(FieldType::Array {
                items: Box::new(FieldType::Uuid),
            }),
        };
        write_agrees(
            &nested,
            &[
                json!([["67e55044-10b1-426f-9247-bb680e5fe0c8"], null]),
                json!([["nope"]]),
            ],
        );
        read_accepts(
            &arr,
            vec![
                Value::Array(vec![Value::Int(1), Value::Null]),
                Value::Text("[1,2]".into()),
            ],
        );
    }

    fn album() -> Entity {
        let mut id = Field::new("album_id", FieldType::Int32).generated(Generated::AutoIncrement);
        id.description = Some("Key".into());
        let mut created = Field::new("created", FieldType::TimestampTz);
        created.default = Some("now()".into());
        let mut upper = Field::new("title_upper", FieldType::Text).generated(Generated::Always);
        upper.description = Some("Computed".into());
        let mut e = Entity::new(
            "album",
            vec![
                id,
                Field::new("title", FieldType::Text),
                Field::new("artist_id", FieldType::Int32),
                Field::new("note", FieldType::Text).nullable(),
                created,
                upper,
            ],
        )
        .with_primary_key(["album_id"]);
        e.description = Some("Records".into());
        e
    }

    #[test]
    fn insert_required_and_generated() {
        let s = entity_json_schema(&album(), SchemaMode::Insert);
        assert_eq!(s["$schema"], json!(DIALECT));
        assert_eq!(s["title"], json!("album (insert)"));
        assert_eq!(
            s["description"],
            json!("Records\n\nOne `album` row to insert.")
        );
        assert_eq!(s["required"], json!(["title", "artist_id"]));
        assert_eq!(s["additionalProperties"], json!(false));
        let keys: Vec<&String> = s["properties"].as_object().unwrap().keys().collect();
        assert_eq!(keys, ["album_id", "title", "artist_id", "note", "created"]);
        assert_eq!(s["properties"]["album_id"]["description"], json!("Key"));

        let v = validator(&s);
        assert!(v.is_valid(&json!({"title": "T", "artist_id": 1})));
        assert!(v.is_valid(&json!({"album_id": 9, "title": "T", "artist_id": 1, "note": null, "created": "2009-01-01T00:00:00Z"})));
        assert!(!v.is_valid(&json!({"title": "T"})), "artist_id is required");
        assert!(
            !v.is_valid(&json!({"title": null, "artist_id": 1})),
            "not nullable"
        );
        assert!(
            !v.is_valid(&json!({"title": "T", "artist_id": 1, "title_upper": "T"})),
            "generated"
        );
        assert!(
            !v.is_valid(&json!({"title": "T", "artist_id": 1, "other": 1})),
            "unknown field"
        );
    }

    #[test]
    fn update_and_read() {
        let u = entity_json_schema(&album(), SchemaMode::Update);
        assert_eq!(u["title"], json!("album (update)"));
        assert!(u.get("required").is_none());
        let v = validator(&u);
        assert!(v.is_valid(&json!({})));
        assert!(v.is_valid(&json!({"note": null})));
        assert!(!v.is_valid(&json!({"title": null})));
        assert!(!v.is_valid(&json!({"title_upper": "X"})));
        assert!(!v.is_valid(&json!({"bogus": 1})));

        let r = entity_json_schema(&album(), SchemaMode::Read);
        assert_eq!(r["title"], json!("album"));
        assert!(r.get("required").is_none());
        assert!(
            r.get("additionalProperties").is_none(),
            "embeddings add keys"
        );
        assert_eq!(
            r["properties"]["title_upper"],
            json!({"type": "string", "description": "Computed", "readOnly": true})
        );
        let v = validator(&r);
        assert!(
            v.is_valid(&json!({"album_id": 1, "title_upper": "T", "artist": {"name": "AC/DC"}}))
        );
        assert!(v.is_valid(&json!({"title": "only selected"})));
        assert!(!v.is_valid(&json!({"album_id": "1"})));
    }

    #[test]
    fn write_schemas_agree_with_the_validator() {
        use crate::ir::Insert;
        use crate::validate::{Limits, Validator};
        use crate::{Capabilities, SchemaMetadata, Target};
        let schema = SchemaMetadata::new(vec![album()]);
        let caps = Capabilities::minimal("test");
        let limits = Limits::default();
        let v = Validator::new(Target::new(&schema, "album").unwrap(), &caps, &limits);
        let js = validator(&entity_json_schema(&album(), SchemaMode::Insert));
        let rows = [
            json!({"title": "T", "artist_id": 1}),
            json!({"title": "T", "artist_id": 1, "created": "2009-01-01 00:00:00+02"}),
            json!({"title": "T"}),
            json!({"title": "T", "artist_id": 1, "title_upper": "x"}),
            json!({"title": "T", "artist_id": 1.5}),
            json!({"title": "T", "artist_id": 1, "zzz": 0}),
            json!({"title": "T", "artist_id": 1, "note": null, "album_id": 4}),
        ];
        for row in rows {
            let ins = Insert {
                entity: "album".into(),
                rows: vec![row.as_object().unwrap().clone()],
                on_conflict: None,
                returning: None,
            };
            assert_eq!(js.is_valid(&row), v.insert(ins.clone()).is_ok(), "{row}");
        }
        // The schema describes the canonical types; the server also reads
        // a number's text as PostgreSQL does (`Value::coerce_body`).
        let lenient = json!({"title": "T", "artist_id": "1"});
        assert!(!js.is_valid(&lenient));
        let ins = Insert {
            entity: "album".into(),
            rows: vec![lenient.as_object().unwrap().clone()],
            on_conflict: None,
            returning: None,
        };
        assert!(v.insert(ins).is_ok());
    }
}
