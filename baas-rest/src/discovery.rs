//! TEMPORARY placeholder (replaced by the real module on merge).
#![allow(missing_docs)]
use baas_core::{Capabilities, SchemaMetadata};
pub fn discovery_document(
    tenant: &str,
    schema: &SchemaMetadata,
    caps: &Capabilities,
) -> serde_json::Value {
    serde_json::json!({"tenant": tenant, "engine": caps.engine, "entities": schema.entities.iter().map(|e| e.name.clone()).collect::<Vec<_>>()})
}
