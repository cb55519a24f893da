//! Column types resolved against the dump's enum types and domains.

use baas_core::FieldType;
use baas_sql::types::field_type;
use sqlparser::ast::{ArrayElemTypeDef, DataType};

use super::{Builder, last_part};

/// A `CREATE DOMAIN`: the base type and default of its columns.
pub(super) struct DomainDef {
    pub(super) data_type: DataType,
    pub(super) default: Option<String>,
}

/// A column type resolved against the enums and domains of the dump.
pub(super) struct Resolved {
    pub(super) ty: FieldType,
    pub(super) max_length: Option<u32>,
    pub(super) serial: bool,
    pub(super) range: Option<baas_core::IntRange>,
    pub(super) domain: Option<String>,
    pub(super) default: Option<String>,
}

impl Builder<'_> {
    fn lookup_enum(&self, name: &str) -> Option<&Vec<String>> {
        self.enums.get(name).or_else(|| {
            self.enums
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                .map(|(_, v)| v)
        })
    }

    fn lookup_domain(&self, name: &str) -> Option<&DomainDef> {
        self.domains.get(name).or_else(|| {
            self.domains
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                .map(|(_, v)| v)
        })
    }

    fn plain(&self, declared: &str) -> Resolved {
        let t = field_type(self.dialect, declared);
        Resolved {
            ty: t.ty,
            max_length: t.max_length,
            serial: t.serial,
            range: t.range,
            domain: None,
            default: None,
        }
    }

    pub(super) fn resolve_type(&self, dt: &DataType, depth: usize) -> Resolved {
        match dt {
            DataType::Custom(name, modifiers) if depth < 8 => {
                let last = last_part(name);
                if let Some(values) = self.lookup_enum(&last) {
                    let name = (!last.contains(['{', '}', '"'])).then(|| last.clone());
                    return Resolved {
                        ty: FieldType::Enum {
                            name,
                            values: values.clone(),
                        },
                        max_length: None,
                        serial: false,
                        range: None,
                        domain: None,
                        default: None,
                    };
                }
                if let Some(d) = self.lookup_domain(&last) {
                    let mut r = self.resolve_type(&d.data_type, depth + 1);
                    r.domain = Some(last);
                    r.default = r.default.or_else(|| d.default.clone());
                    return r;
                }
                if modifiers.is_empty() {
                    self.plain(&last)
                } else {
                    let mods: Vec<String> = modifiers.iter().map(ToString::to_string).collect();
                    self.plain(&format!("{last}({})", mods.join(",")))
                }
            }
            DataType::Array(
                ArrayElemTypeDef::SquareBracket(inner, _)
                | ArrayElemTypeDef::AngleBracket(inner)
                | ArrayElemTypeDef::Parenthesis(inner)
                | ArrayElemTypeDef::ParenthesisNotNull(inner)
                | ArrayElemTypeDef::Qualified(inner, _),
            ) if depth < 8 => {
                let r = self.resolve_type(inner, depth + 1);
                Resolved {
                    ty: FieldType::Array {
                        items: Box::new(r.ty),
                    },
                    max_length: None,
                    serial: false,
                    range: None,
                    domain: None,
                    default: None,
                }
            }
            other => self.plain(&other.to_string()),
        }
    }
}
