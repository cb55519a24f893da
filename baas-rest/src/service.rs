//! The service: a plain [`RestRequest`] in, a plain [`RestResponse`] out,
//! with the engine ([`Baas`]) in between. Integration crates (axum, actix)
//! only convert their request and response types and call
//! [`Service::handle`].
//!
//! ## Routes
//!
//! | method and path | what |
//! | --- | --- |
//! | `GET` / `HEAD /{tenant}/{entity}` | rows (filters, `select`, `order`, paging, `Prefer: count`) |
//! | `POST /{tenant}/{entity}` | insert one object or an array (upsert with `Prefer: resolution=…`) |
//! | `PATCH` / `DELETE /{tenant}/{entity}?filters` | update / delete matching rows (a filter is required) |
//! | `GET` / `PATCH` / `PUT` / `DELETE /{tenant}/{entity}/{id}` | one row by primary key (404 when absent) |
//! | `GET /{tenant}/discovery` | entities, fields, types, relations, operations ([`crate::discovery`]) |
//! | `GET /{tenant}/openapi.json` | OpenAPI 3.1 of the tenant ([`crate::openapi`]) |
//! | `GET /_admin/tenants` | registered tenants (URLs redacted) |
//! | `POST /_admin/tenants` | register a tenant: `{"id","url","mode":"managed"\|"introspected", "limits"?, "introspect"?, "schema"?}` → 201 |
//! | `GET /_admin/tenants/{id}` | the tenant, its metadata version and metadata |
//! | `POST /_admin/tenants/{id}/introspect` | re-run introspection (introspected tenants) |
//! | `POST /_admin/tenants/{id}/entities` | create an entity (managed tenants; body: an `Entity` as in `docs/metadata.schema.json`, `source` defaulting to a table named like the entity) → 201 |
//! | `POST /_admin/tenants/{id}/entities/{entity}/fields` | add a field (managed tenants; body: a `Field`) → 201 |
//!
//! The tenant may also come from the `x-tenant-id` header (see
//! [`route`](crate::route())). Admin routes need `Authorization: Bearer
//! <admin key>` (or `x-admin-key`); without a configured key they are off
//! (403).
//!
//! A singular write (`Accept: application/vnd.pgrst.object+json`) on a
//! filtered `PATCH`/`DELETE` counts the matching rows first and writes
//! nothing unless exactly one matches (406 otherwise); the count and the
//! write are two statements, so a concurrent insert between them can still
//! make the write touch two rows.

use std::sync::Arc;

use baas_core::engine::{Baas, Principal, Tenant, TenantConfig};
use baas_core::ir::{Insert, Query, WriteResult};
use baas_core::{Entity, Error, Field, SchemaMetadata};
use percent_encoding::percent_decode_str;

use crate::error::error_chain;
use crate::http::header;
use crate::route::{Route, route};
use crate::write::Write;
use crate::{Operation, RestError, RestLimits, RestRequest, RestResponse, parse_request};

/// The REST service over one engine.
#[derive(Clone)]
pub struct Service {
    baas: Arc<Baas>,
    limits: RestLimits,
    admin_key: Option<Arc<str>>,
}

impl std::fmt::Debug for Service {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Service")
            .field("limits", &self.limits)
            .field("admin", &self.admin_key.is_some())
            .finish_non_exhaustive()
    }
}

fn json_response(status: u16, v: &serde_json::Value) -> RestResponse {
    RestResponse {
        status,
        headers: vec![(
            "content-type".into(),
            "application/json; charset=utf-8".into(),
        )],
        body: v.to_string().into_bytes(),
    }
}

/// Constant-time comparison, so the admin key cannot be guessed byte by
/// byte from response times.
fn same_secret(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

impl Service {
    /// A service with default limits and the admin routes off.
    pub fn new(baas: Arc<Baas>) -> Self {
        Self {
            baas,
            limits: RestLimits::default(),
            admin_key: None,
        }
    }

    /// Replace the request limits.
    pub fn with_limits(mut self, limits: RestLimits) -> Self {
        self.limits = limits;
        self
    }

    /// Turn the admin routes on, protected by `key` (at least 16 bytes;
    /// shorter keys are refused with a panic-free `Err`).
    pub fn with_admin_key(mut self, key: impl Into<String>) -> Result<Self, Error> {
        let key = key.into();
        if key.len() < 16 {
            return Err(Error::validation(
                "/admin_key",
                "the admin key must be at least 16 bytes long",
            ));
        }
        self.admin_key = Some(key.into());
        Ok(self)
    }

    /// The engine.
    pub fn baas(&self) -> &Arc<Baas> {
        &self.baas
    }

    /// The request limits.
    pub fn limits(&self) -> &RestLimits {
        &self.limits
    }

    /// Handle a request as an anonymous caller.
    pub async fn handle(&self, req: RestRequest) -> RestResponse {
        self.handle_as(req, &Principal::anonymous()).await
    }

    /// Handle a request on behalf of `principal` (who the host application
    /// authenticated).
    pub async fn handle_as(&self, req: RestRequest, principal: &Principal) -> RestResponse {
        match self.dispatch(&req, principal).await {
            Ok(r) => r,
            Err(e) => e.to_response(),
        }
    }

    async fn dispatch(
        &self,
        req: &RestRequest,
        principal: &Principal,
    ) -> Result<RestResponse, RestError> {
        if req.body.len() > self.limits.max_body_bytes {
            return Err(RestError::new(
                413,
                "payload_too_large",
                format!(
                    "the body has {} bytes; the limit is {}",
                    req.body.len(),
                    self.limits.max_body_bytes
                ),
            ));
        }
        let r = route(&req.path, &req.headers)?;
        let tenant_id = match &r {
            Route::Admin(rest) => return self.admin(rest, req).await,
            other => other.tenant().unwrap_or_default().to_string(),
        };
        let tenant = self.baas.tenant(&tenant_id).await.map_err(core_error)?;
        let method = req.method.to_ascii_uppercase();
        match &r {
            Route::Discovery { .. } | Route::OpenApi { .. } => {
                if method != "GET" && method != "HEAD" {
                    return Err(RestError::method_not_allowed(&method));
                }
                let doc = if matches!(r, Route::Discovery { .. }) {
                    crate::discovery::discovery_document_with_limits(
                        tenant.id(),
                        tenant.schema(),
                        tenant.capabilities(),
                        &self.limits,
                    )
                } else {
                    crate::openapi::openapi_document(
                        tenant.id(),
                        tenant.schema(),
                        tenant.capabilities(),
                        // `..` resolves against the document's own URL
                        // (`…/{tenant}/openapi.json`), so the server entry is
                        // right under any mount prefix.
                        Some(header(&req.headers, "x-forwarded-prefix").unwrap_or("..")),
                    )
                };
                let mut doc = doc;
                if let Some(info) = doc.get_mut("info").and_then(|i| i.as_object_mut()) {
                    // The API changes with the metadata: its version is the metadata version.
                    info.insert("version".into(), tenant.version().to_string().into());
                }
                let mut resp = json_response(200, &doc);
                if method == "HEAD" {
                    resp.body.clear();
                }
                Ok(resp)
            }
            _ => self.entity(&tenant, &r, req, principal).await,
        }
    }

    async fn entity(
        &self,
        tenant: &Tenant,
        r: &Route,
        req: &RestRequest,
        principal: &Principal,
    ) -> Result<RestResponse, RestError> {
        match parse_request(tenant.schema(), r, req, &self.limits)? {
            Operation::Read(mut read) => {
                // The query moves into the engine; the response only needs
                // its entity and page.
                let shell = Query {
                    page: read.query.page.clone(),
                    ..Query::new(read.query.entity.clone())
                };
                let query = std::mem::replace(&mut read.query, shell);
                let rows = self
                    .baas
                    .find(principal, tenant, query)
                    .await
                    .map_err(core_error)?;
                Ok(crate::read_response_within(
                    &read,
                    rows,
                    tenant.config().limits.max_response_bytes,
                ))
            }
            Operation::Write(mut w) => {
                if w.singular && w.key.is_none() {
                    let filter = match &w.write {
                        Write::Update(u) => Some(u.filter.clone()),
                        Write::Delete(d) => Some(d.filter.clone()),
                        Write::Insert(_) => None,
                    };
                    if let Some(f) = filter {
                        let n = self
                            .baas
                            .count(principal, tenant, w.write.entity(), Some(f))
                            .await
                            .map_err(core_error)?;
                        if n != 1 {
                            return Ok(crate::write_response(
                                &w,
                                WriteResult {
                                    affected: n,
                                    rows: Vec::new(),
                                },
                            ));
                        }
                    }
                }
                // The write moves into the engine; the response only needs
                // its kind, entity and `returning`, not the inserted rows.
                let shell = match &w.write {
                    Write::Insert(i) => Write::Insert(Insert {
                        entity: i.entity.clone(),
                        rows: Vec::new(),
                        on_conflict: i.on_conflict.clone(),
                        returning: i.returning.clone(),
                    }),
                    other => other.clone(),
                };
                let op = std::mem::replace(&mut w.write, shell);
                let is_put = matches!(w.write, Write::Insert(_));
                let result = self
                    .baas
                    .write(principal, tenant, op)
                    .await
                    .map_err(core_error)?;
                if w.key.is_some() && !is_put && result.affected == 0 {
                    return Err(RestError::not_found(format!(
                        "no `{}` row has this key",
                        w.write.entity()
                    )));
                }
                Ok(crate::write_response(&w, result))
            }
        }
    }

    fn check_admin(&self, req: &RestRequest) -> Result<(), RestError> {
        let Some(key) = &self.admin_key else {
            return Err(RestError::new(403, "forbidden", "the admin routes are off")
                .with_hint("start the server with an admin key to use them"));
        };
        let given = header(&req.headers, "x-admin-key").or_else(|| {
            header(&req.headers, "authorization").and_then(|a| {
                a.strip_prefix("Bearer ")
                    .or_else(|| a.strip_prefix("bearer "))
            })
        });
        match given {
            None => Err(
                RestError::new(401, "unauthorized", "an admin key is required")
                    .with_hint("send `Authorization: Bearer <admin key>`"),
            ),
            Some(g) if same_secret(g.trim().as_bytes(), key.as_bytes()) => Ok(()),
            Some(_) => Err(RestError::new(403, "forbidden", "wrong admin key")),
        }
    }

    async fn admin(&self, rest: &str, req: &RestRequest) -> Result<RestResponse, RestError> {
        self.check_admin(req)?;
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
            (_, ["tenants"] | ["tenants", _] | ["tenants", _, "introspect" | "entities"])
            | (_, ["tenants", _, "entities", _, "fields"]) => {
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
    serde_json::from_slice(&req.body).map_err(|e| bad_json("", &e))
}

fn bad_json(pointer: &str, e: &serde_json::Error) -> RestError {
    let mut r = RestError::bad_request(format!("the body is not valid here: {e}"));
    if !pointer.is_empty() {
        r.details = Some(format!("at {pointer}"));
    }
    r
}

/// Map an engine error, logging the whole chain of server-side failures
/// (their bodies stay generic).
fn core_error(e: Error) -> RestError {
    let r = RestError::from(&e);
    if r.status >= 500 {
        tracing::error!(error = %error_chain(&e), code = e.code(), "request failed");
    }
    r
}
