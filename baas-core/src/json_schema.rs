//! TEMPORARY placeholder (replaced by the real module on merge).
#![allow(missing_docs)]
use crate::metadata::{Entity, FieldType};
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SchemaMode {
    Read,
    Insert,
    Update,
}
pub fn entity_json_schema(entity: &Entity, mode: SchemaMode) -> serde_json::Value {
    let mut props = serde_json::Map::new();
    let mut required = Vec::new();
    for f in &entity.fields {
        let t = match f.ty {
            FieldType::Int16 | FieldType::Int32 | FieldType::Int64 => {
                serde_json::json!({"type": ["integer", "string"]})
            }
            FieldType::Boolean => serde_json::json!({"type": "boolean"}),
            _ => serde_json::json!({}),
        };
        props.insert(f.name.clone(), t);
        if mode == SchemaMode::Insert
            && !f.nullable
            && f.default.is_none()
            && f.generated == crate::metadata::Generated::None
        {
            required.push(f.name.clone());
        }
    }
    serde_json::json!({"type": "object", "properties": props, "required": required, "additionalProperties": false})
}
