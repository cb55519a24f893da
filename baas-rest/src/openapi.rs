//! TEMPORARY placeholder (replaced by the real module on merge).
#![allow(missing_docs)]
use baas_core::{Capabilities, SchemaMetadata};
pub fn openapi_document(
    tenant: &str,
    schema: &SchemaMetadata,
    caps: &Capabilities,
    server_url: Option<&str>,
) -> serde_json::Value {
    let _ = (schema, caps);
    serde_json::json!({"openapi": "3.1.0", "info": {"title": tenant, "version": "1"}, "servers": [{"url": server_url.unwrap_or("/")}]})
}
