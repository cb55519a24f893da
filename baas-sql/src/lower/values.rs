//! Values as bound parameters: typed even when null, in the representation
//! and with the cast the dialect needs. Values arrive already of their
//! field's type (the validator converted them once: `baas_core::Checked`),
//! so binding converts nothing again.

use baas_core::{Error, Field, FieldType, Result, Value};
use sea_query::{Expr, Value as SqValue};

use super::Lower;

/// A NULL parameter of the field type's driver type.
fn typed_null(ty: &FieldType) -> SqValue {
    match ty {
        FieldType::Int16 => SqValue::SmallInt(None),
        FieldType::Int32 => SqValue::Int(None),
        FieldType::Int64 => SqValue::BigInt(None),
        FieldType::Float32 => SqValue::Float(None),
        FieldType::Float64 => SqValue::Double(None),
        FieldType::Boolean => SqValue::Bool(None),
        FieldType::Binary => SqValue::Bytes(None),
        _ => SqValue::String(None),
    }
}

impl Lower<'_> {
    /// Bind a value of a field's type, with the casts the dialect needs.
    pub(super) fn bind(&self, ty: &FieldType, v: &Value) -> Result<Expr> {
        let sql = self.sql;
        let raw: SqValue = match v {
            Value::Null => typed_null(ty),
            Value::Bool(b) => SqValue::Bool(Some(*b)),
            Value::Int(i) => match ty {
                FieldType::Int16 => SqValue::SmallInt(Some(
                    i16::try_from(*i).map_err(|_| Error::validation("", "int16 out of range"))?,
                )),
                FieldType::Int32 => SqValue::Int(Some(
                    i32::try_from(*i).map_err(|_| Error::validation("", "int32 out of range"))?,
                )),
                _ => SqValue::BigInt(Some(*i)),
            },
            Value::Float(f) => match ty {
                FieldType::Float32 => SqValue::Float(Some(*f as f32)),
                _ => SqValue::Double(Some(*f)),
            },
            Value::Decimal(s) | Value::Text(s) => SqValue::String(Some(s.clone())),
            Value::Bytes(b) => SqValue::Bytes(Some(b.clone())),
            Value::Date(x) => sql.date(*x),
            Value::Time(x) => sql.time(*x),
            Value::Timestamp(x) => sql.timestamp(*x),
            Value::TimestampTz(x) => sql.timestamp_tz(*x),
            Value::Uuid(u) => sql.uuid(*u),
            Value::Json(j) => SqValue::String(Some(j.to_string())),
            Value::Array(items) => {
                let FieldType::Array { items: item_ty } = ty else {
                    return Err(Error::validation("", "an array value needs an array field"));
                };
                return sql.bind_array(ty, item_ty, items);
            }
            _ => return Err(Error::validation("", "unsupported value")),
        };
        Ok(sql.cast(ty, raw))
    }

    /// Bind a value compared with a field (as text for a field of a type
    /// without a mapping: [`Field::db_type`]).
    pub(super) fn bind_field(&self, field: &Field, v: &Value) -> Result<Expr> {
        self.bind(&field.ty, v)
    }

    /// Bind a value compared with a field as
    /// [`Scope::compared_col`](super::Scope) reads it: cast to the
    /// field's database type where it compares in its own type.
    pub(super) fn bind_compared(&self, field: &Field, v: &Value) -> Result<Expr> {
        let bound = self.bind(&field.ty, v)?;
        match &field.db_type {
            Some(t) if super::compares_natively(field) => cast_to(bound, t, &field.name),
            _ => Ok(bound),
        }
    }

    /// Bind a value written into a field: cast to its database type when
    /// the field is the text form of a type without a mapping.
    pub(super) fn bind_write(&self, field: &Field, v: &Value) -> Result<Expr> {
        if field.is_geometry() {
            // A geometry is written from its text: GeoJSON (an object),
            // or WKT / EWKB (a string), as PostGIS's input reads them.
            let text = match v {
                Value::Json(serde_json::Value::String(s)) | Value::Text(s) => {
                    Value::Text(s.clone())
                }
                Value::Json(serde_json::Value::Null) | Value::Null => Value::Null,
                Value::Json(other) => Value::Text(other.to_string()),
                _ => {
                    return Err(Error::validation(
                        format!("/{}", field.name),
                        "a geometry is GeoJSON, WKT or EWKB",
                    ));
                }
            };
            let bound = self.bind(&FieldType::Text, &text)?;
            return cast_to(
                bound,
                field.db_type.as_deref().unwrap_or("geometry"),
                &field.name,
            );
        }
        let bound = self.bind(&field.ty, v)?;
        match &field.db_type {
            None => Ok(bound),
            // A composite's object (an array of them), filled as
            // PostgreSQL fills a row from JSON: attributes by name, nested
            // composites from nested objects, missing ones null.
            Some(t)
                if field.is_composite()
                    && !matches!(v, Value::Null | Value::Json(serde_json::Value::Null)) =>
            {
                if !baas_core::function::is_type_name(t) {
                    return cast_to(bound, t, &field.name);
                }
                Ok(match t.strip_suffix("[]") {
                    // A JSON `null` element is a NULL one.
                    Some(item) => Expr::cust_with_expr(
                        format!(
                            "ARRAY(SELECT CASE WHEN jsonb_typeof(e) = 'null' THEN NULL \
                             ELSE jsonb_populate_record(NULL::{item}, e) END \
                             FROM jsonb_array_elements(CAST($1 AS jsonb)) WITH ORDINALITY AS a(e, n) ORDER BY n)"
                        ),
                        bound,
                    ),
                    None => Expr::cust_with_expr(
                        format!("jsonb_populate_record(NULL::{t}, CAST($1 AS jsonb))"),
                        bound,
                    ),
                })
            }
            // A composite's null: a null of its type (from text, which
            // casts to any type; `jsonb` does not).
            Some(t) if field.is_composite() => {
                cast_to(self.bind(&FieldType::Text, &Value::Null)?, t, &field.name)
            }
            Some(t) => cast_to(bound, t, &field.name),
        }
    }
}

/// `CAST(expr AS db_type)` for a database type name from metadata (checked
/// with [`is_type_name`](baas_core::function::is_type_name): it is written
/// into the SQL); `name` (a field or parameter) points the error.
pub(super) fn cast_to(expr: Expr, db_type: &str, name: &str) -> Result<Expr> {
    if baas_core::function::is_type_name(db_type) {
        Ok(Expr::cust_with_expr(format!("CAST($1 AS {db_type})"), expr))
    } else {
        Err(Error::validation(
            format!("/{name}"),
            format!("`{db_type}` is not a type name"),
        ))
    }
}
