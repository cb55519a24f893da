//! Column definitions: the declared type (the dialect's name for each field
//! type; decimals checked against the engine's range), nullability, default,
//! enum checks and auto-increment.

use baas_core::{Field, FieldType, Generated, Result};
use sea_query::{ColumnDef, ColumnName, ColumnRef, ColumnType, Expr, ExprTrait};

use super::{At, Ddl, invalid};
use crate::lower::iden;

impl Ddl<'_> {
    fn column_type(&self, f: &Field, at: &At) -> Result<ColumnType> {
        let auto = f.generated == Generated::AutoIncrement;
        if f.max_length.is_some() && f.ty != FieldType::Text {
            return Err(invalid(
                at.at("max_length"),
                format!("max_length applies to text fields, not {}", f.ty.name()),
            ));
        }
        if f.max_length == Some(0) {
            return Err(invalid(
                at.at("max_length"),
                "max_length must be at least 1",
            ));
        }
        if auto && !matches!(f.ty, FieldType::Int16 | FieldType::Int32 | FieldType::Int64) {
            return Err(invalid(
                at.at("generated"),
                format!("auto-increment needs an integer field, not {}", f.ty.name()),
            ));
        }
        if auto && let Some(identity) = self.sql.identity_column(&f.ty) {
            return Ok(identity);
        }
        Ok(ColumnType::custom(self.type_name(
            &f.ty,
            f.max_length,
            auto,
            at,
        )?))
    }

    /// The declared type of a column (what [`crate::types::field_type`] reads back).
    pub(crate) fn type_name(
        &self,
        ty: &FieldType,
        max_length: Option<u32>,
        auto: bool,
        at: &At,
    ) -> Result<String> {
        let ty_at = at.at("type");
        match ty {
            FieldType::ObjectId => Err(self.unsupported("objectid columns (MongoDB only)")),
            FieldType::Decimal { precision, scale } => {
                let rule = self.sql.decimal();
                match (precision, scale) {
                    (None, None) if !rule.unbounded => Err(invalid(
                        format!("{ty_at}/precision"),
                        format!(
                            "{} has no unbounded decimal: give a precision",
                            self.d.name()
                        ),
                    )),
                    (None, None) => Ok(rule.name.into()),
                    (None, Some(_)) => Err(invalid(
                        format!("{ty_at}/scale"),
                        "a decimal scale needs a precision",
                    )),
                    (Some(p), s) => {
                        let s = s.unwrap_or(0);
                        let (max_p, max_s) = (rule.max_precision, rule.max_scale);
                        if *p == 0 || *p > max_p || s > *p || s > max_s {
                            return Err(invalid(
                                ty_at,
                                format!(
                                    "decimal({p},{s}) is out of range on {} (precision 1..={max_p}, scale 0..=min(precision, {max_s}))",
                                    self.d.name()
                                ),
                            ));
                        }
                        Ok(format!("{}({p},{s})", rule.name))
                    }
                }
            }
            _ => match self.sql.column_type_name(self, ty, max_length, auto, at)? {
                Some(name) => Ok(name),
                None => Err(match ty {
                    FieldType::Array { .. } => self.unsupported("array columns"),
                    other => self.unsupported(format!("{} columns", other.name())),
                }),
            },
        }
    }

    /// The column definition of `f` (no key or unique constraint: those are
    /// table constraints and indexes).
    pub(super) fn column(&self, f: &Field, at: &At, adding: bool) -> Result<ColumnDef> {
        self.ident(
            f.column(),
            if f.column.is_some() {
                at.at("column")
            } else {
                at.at("name")
            },
        )?;
        if f.generated == Generated::Always {
            return Err(invalid(
                at.at("generated"),
                "computed columns need an expression, which metadata does not carry",
            ));
        }
        if f.generated == Generated::AutoIncrement && f.nullable {
            return Err(invalid(
                at.at("nullable"),
                "an auto-increment field cannot be nullable",
            ));
        }
        let mut col = ColumnDef::new_with_type(iden(f.column()), self.column_type(f, at)?);
        if f.nullable {
            col.null();
        } else {
            col.not_null();
        }
        if let Some(expr) = self.default_expr(f, at, adding)? {
            col.default(expr);
        }
        if let Some(check) = self.enum_check(f) {
            col.check(check);
        }
        if f.generated == Generated::AutoIncrement {
            col.auto_increment();
        }
        Ok(col)
    }

    /// `CHECK (col IN (…))` for enums the dialect stores as text.
    fn enum_check(&self, f: &Field) -> Option<Expr> {
        let FieldType::Enum { name, values } = &f.ty else {
            return None;
        };
        self.sql.enum_as_checked_text(name.is_some()).then(|| {
            Expr::col(ColumnRef::Column(ColumnName(None, iden(f.column()))))
                .is_in(values.iter().map(|v| Expr::val(v.clone())))
        })
    }

    /// Enum values: at least one, no duplicates.
    pub(super) fn check_enum_values(&self, f: &Field, at: &At) -> Result<()> {
        let values = match &f.ty {
            FieldType::Enum { values, .. } => values,
            FieldType::Array { items } => match items.as_ref() {
                FieldType::Enum { values, .. } => values,
                _ => return Ok(()),
            },
            _ => return Ok(()),
        };
        if values.is_empty() {
            return Err(invalid(
                at.at("type/values"),
                "an enum needs at least one value",
            ));
        }
        for (i, v) in values.iter().enumerate() {
            if values[..i].contains(v) {
                return Err(invalid(
                    at.at(&format!("type/values/{i}")),
                    format!("duplicate enum value `{v}`"),
                ));
            }
        }
        Ok(())
    }
}
