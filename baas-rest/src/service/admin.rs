//! The admin family: `/_admin/…` (tenants, introspection, managed
//! entities and fields), behind the admin key.

use baas_core::{Entity, Field, SchemaMetadata};
use baas_engine::{Tenant, TenantConfig};
use percent_encoding::percent_decode_str;

use super::{Service, core_error, json_response};
use crate::{RestError, RestRequest, RestResponse};

impl Service {
    pub(super) async fn admin(
        &self,
        rest: &str,
        req: &RestRequest,
        principal: &baas_engine::Principal,
        allow: &mut Option<&'static str>,
    ) -> Result<RestResponse, RestError> {
        // The admin key, as the authenticator recognised it (a platform
        // role), or checked here when the service has no authenticator.
        if !principal.has_role(crate::ADMIN_ROLE) {
            self.check_admin(req)?;
        }
        let segs: Vec<String> = rest
            .split('/')
            .filter(|s| !s.is_empty())
            .map(|s| {
                percent_decode_str(s)
                    .decode_utf8()
                    .map(|c| c.into_owned())
                    .map_err(|_| RestError::bad_request("the path is not valid UTF-8"))
            })
            .collect::<Result<_, _>>()?;
        let segs: Vec<&str> = segs.iter().map(String::as_str).collect();
        let method = req.method.to_ascii_uppercase();
        let baas = &self.baas;
        match (method.as_str(), segs.as_slice()) {
            ("GET", ["tenants"]) => {
                let list = baas.tenants().await.map_err(core_error)?;
                Ok(json_response(
                    200,
                    &serde_json::to_value(list).unwrap_or_default(),
                ))
            }
            ("POST", ["tenants"]) => {
                let body = admin_body(req)?;
                let mut obj = match body {
                    serde_json::Value::Object(o) => o,
                    _ => return Err(RestError::bad_request("the body must be a JSON object")),
                };
                let schema: Option<SchemaMetadata> = obj
                    .remove("schema")
                    .map(|s| serde_json::from_value(s).map_err(|e| bad_json("/schema", &e)))
                    .transpose()?;
                let config: TenantConfig = serde_json::from_value(serde_json::Value::Object(obj))
                    .map_err(|e| bad_json("", &e))?;
                let t = baas
                    .register_tenant(config, schema)
                    .await
                    .map_err(core_error)?;
                Ok(json_response(201, &tenant_summary(&t)))
            }
            ("GET", ["tenants", id]) => {
                let t = baas.tenant(id).await.map_err(core_error)?;
                let mut v = tenant_summary(&t);
                v["schema"] = serde_json::to_value(t.schema().as_ref()).unwrap_or_default();
                Ok(json_response(200, &v))
            }
            ("POST", ["tenants", id, "introspect"]) => {
                let t = baas.reintrospect(id).await.map_err(core_error)?;
                Ok(json_response(200, &tenant_summary(&t)))
            }
            ("POST", ["tenants", id, "entities"]) => {
                let mut body = admin_body(req)?;
                // The table defaults to the entity's name.
                if let Some(o) = body.as_object_mut()
                    && !o.contains_key("source")
                    && let Some(name) = o.get("name").cloned()
                {
                    o.insert("source".into(), serde_json::json!({ "table": name }));
                }
                let entity: Entity = serde_json::from_value(body).map_err(|e| bad_json("", &e))?;
                let t = baas.create_entity(id, entity).await.map_err(core_error)?;
                Ok(json_response(201, &tenant_summary(&t)))
            }
            ("POST", ["tenants", id, "entities", entity, "fields"]) => {
                let field: Field =
                    serde_json::from_value(admin_body(req)?).map_err(|e| bad_json("", &e))?;
                let t = baas
                    .add_field(id, entity, field)
                    .await
                    .map_err(core_error)?;
                Ok(json_response(201, &tenant_summary(&t)))
            }
            ("GET", ["tenants", id, "rules"]) => {
                let t = baas.tenant(id).await.map_err(core_error)?;
                Ok(json_response(
                    200,
                    &serde_json::to_value(&t.schema().rules).unwrap_or_default(),
                ))
            }
            ("PUT", ["tenants", id, "rules"]) => {
                let rules: Vec<baas_core::access::Rule> =
                    serde_json::from_value(admin_body(req)?).map_err(|e| bad_json("", &e))?;
                let t = baas.set_rules(id, rules).await.map_err(core_error)?;
                Ok(json_response(200, &tenant_summary(&t)))
            }
            (_, ["tenants", _, "rules"]) => {
                *allow = Some("GET, PUT");
                Err(RestError::method_not_allowed(&method))
            }
            (_, ["tenants"]) => {
                *allow = Some("GET, POST");
                Err(RestError::method_not_allowed(&method))
            }
            (_, ["tenants", _]) => {
                *allow = Some("GET");
                Err(RestError::method_not_allowed(&method))
            }
            (_, ["tenants", _, "introspect" | "entities"])
            | (_, ["tenants", _, "entities", _, "fields"]) => {
                *allow = Some("POST");
                Err(RestError::method_not_allowed(&method))
            }
            _ => Err(RestError::not_found(format!("no admin route `{rest}`"))),
        }
    }
}

fn tenant_summary(t: &Tenant) -> serde_json::Value {
    serde_json::json!({
        "tenant": t.config().redacted(),
        "engine": t.capabilities().engine,
        "version": t.version(),
        "entities": t.schema().entities.iter().map(|e| e.name.as_str()).collect::<Vec<_>>(),
    })
}

fn admin_body(req: &RestRequest) -> Result<serde_json::Value, RestError> {
    serde_json::from_slice(req.body.bytes()).map_err(|e| bad_json("", &e))
}

fn bad_json(pointer: &str, e: &serde_json::Error) -> RestError {
    let mut r = RestError::bad_request(format!("the body is not valid here: {e}"));
    if !pointer.is_empty() {
        r.details = Some(format!("at {pointer}"));
    }
    r
}
