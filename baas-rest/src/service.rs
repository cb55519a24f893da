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
//! A missing tenant and a missing entity get the same 404 (`no such
//! resource`), so tenant ids cannot be probed; a request with the admin key
//! gets the detail. Every 405 carries `Allow` (see
//! [`allowed_methods`]). Writes honour
//! `Prefer: tx=rollback` ([`Baas::write_rolled_back`]) and
//! `Idempotency-Key` ([`crate::idempotency`]; on by default with a
//! [`MemoryIdempotencyStore`], see [`Service::with_idempotency`]).
//!
//! A singular write (`Accept: application/vnd.pgrst.object+json`) on a
//! filtered `PATCH`/`DELETE` counts the matching rows first and writes
//! nothing unless exactly one matches (406 otherwise); the count and the
//! write are two statements, so a concurrent insert between them can still
//! make the write touch two rows.

use std::sync::Arc;

use baas_core::ir::{Insert, Query, WriteResult};
use baas_core::{Entity, Error, Field, NotFoundKind, SchemaMetadata};
use baas_engine::{Baas, Principal, Tenant, TenantConfig};
use percent_encoding::percent_decode_str;

use crate::error::error_chain;
use crate::http::header;
use crate::idempotency::{
    Claim, IdempotencyScope, IdempotencyStore, InFlightGuard, MemoryIdempotencyStore, REPLAYED,
    fingerprint,
};
use crate::route::{Route, allowed_methods, route};
use crate::write::Write;
use crate::{Operation, RestError, RestLimits, RestRequest, RestResponse, parse_request};

/// The REST service over one engine.
#[derive(Clone)]
pub struct Service {
    baas: Arc<Baas>,
    limits: RestLimits,
    admin_key: Option<Arc<str>>,
    idempotency: Option<Arc<dyn IdempotencyStore>>,
}

impl std::fmt::Debug for Service {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Service")
            .field("limits", &self.limits)
            .field("admin", &self.admin_key.is_some())
            .field("idempotency", &self.idempotency.is_some())
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

/// The message of a missing tenant or entity, the same for both.
const NOT_FOUND: &str = "no such resource";

/// Constant-time comparison, so the admin key cannot be guessed byte by
/// byte from response times.
fn same_secret(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

impl Service {
    /// A service with default limits, the admin routes off and
    /// `Idempotency-Key` served by a [`MemoryIdempotencyStore`] with
    /// default bounds.
    pub fn new(baas: Arc<Baas>) -> Self {
        Self {
            baas,
            limits: RestLimits::default(),
            admin_key: None,
            idempotency: Some(Arc::new(MemoryIdempotencyStore::default())),
        }
    }

    /// Keep `Idempotency-Key` answers in `store` (e.g. a
    /// [`MemoryIdempotencyStore`] with other bounds, or a shared store).
    pub fn with_idempotency(mut self, store: Arc<dyn IdempotencyStore>) -> Self {
        self.idempotency = Some(store);
        self
    }

    /// Ignore `Idempotency-Key` headers (every retry writes again).
    pub fn without_idempotency(mut self) -> Self {
        self.idempotency = None;
        self
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
        let mut allow = None;
        match self.dispatch(&req, principal, &mut allow).await {
            Ok(r) => r,
            Err(e) => {
                let mut r = e.to_response();
                // Every 405 says what the route does allow.
                if e.status == 405
                    && let Some(a) = allow
                {
                    r.headers.push(("allow".into(), a.into()));
                }
                r
            }
        }
    }

    /// `allow` is set to the methods of the route as soon as it is known
    /// (for the `Allow` header of a 405).
    async fn dispatch(
        &self,
        req: &RestRequest,
        principal: &Principal,
        allow: &mut Option<&'static str>,
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
            Route::Admin(rest) => return self.admin(rest, req, allow).await,
            other => other.tenant().unwrap_or_default().to_string(),
        };
        let tenant = self
            .baas
            .tenant(&tenant_id)
            .await
            .map_err(|e| self.hide_not_found(req, e))?;
        if let Route::Collection { entity, .. } | Route::Item { entity, .. } = &r {
            let e = tenant
                .schema()
                .entity(entity)
                .map_err(|e| self.hide_not_found(req, e))?;
            *allow = Some(allowed_methods(&r, e.read_only));
        } else {
            *allow = Some(allowed_methods(&r, true));
        }
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
            Operation::Write(w) => {
                let Some(store) = self.idempotency.as_deref() else {
                    return self.write(tenant, w, principal).await;
                };
                let Some(key) = crate::idempotency::idempotency_key(req)? else {
                    return self.write(tenant, w, principal).await;
                };
                let scope = IdempotencyScope {
                    tenant: tenant.id().to_string(),
                    caller: principal.subject.clone().unwrap_or_default(),
                    key,
                };
                match store.claim(&scope, &fingerprint(req)) {
                    Claim::Run => {}
                    Claim::Replay(mut r) => {
                        r.headers.push((REPLAYED.into(), "true".into()));
                        return Ok(r);
                    }
                    Claim::InFlight => {
                        return Err(RestError::new(
                            409,
                            "idempotency_key_in_use",
                            "a request with this Idempotency-Key is still running",
                        )
                        .with_hint("retry after it finished to get its answer"));
                    }
                    Claim::Mismatch => {
                        return Err(RestError::new(
                            422,
                            "idempotency_key_reused",
                            "this Idempotency-Key was used for a different request",
                        )
                        .with_hint("send a new key for a new write"));
                    }
                }
                let guard = InFlightGuard {
                    store,
                    scope,
                    done: false,
                };
                let resp = match self.write(tenant, w, principal).await {
                    Ok(r) => r,
                    Err(e) => e.to_response(),
                };
                guard.finish(&resp);
                Ok(resp)
            }
        }
    }

    /// Run a parsed write (the singular pre-count, `tx=rollback`, 404 by key).
    async fn write(
        &self,
        tenant: &Tenant,
        mut w: crate::WriteRequest,
        principal: &Principal,
    ) -> Result<RestResponse, RestError> {
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
        let result = if w.prefer.rollback {
            self.baas.write_rolled_back(principal, tenant, op).await
        } else {
            self.baas.write(principal, tenant, op).await
        }
        .map_err(core_error)?;
        if w.key.is_some() && !is_put && result.affected == 0 {
            return Err(RestError::not_found(format!(
                "no `{}` row has this key",
                w.write.entity()
            )));
        }
        Ok(crate::write_response(&w, result))
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

    /// A tenant or entity that does not exist gets one answer, whichever it
    /// was, so tenant ids cannot be enumerated; a caller with the admin key
    /// gets the detail.
    fn hide_not_found(&self, req: &RestRequest, e: Error) -> RestError {
        let hide = matches!(
            &e,
            Error::NotFound {
                kind: NotFoundKind::Tenant | NotFoundKind::Entity,
                ..
            }
        ) && self.check_admin(req).is_err();
        if hide {
            RestError::not_found(NOT_FOUND)
        } else {
            core_error(e)
        }
    }

    async fn admin(
        &self,
        rest: &str,
        req: &RestRequest,
        allow: &mut Option<&'static str>,
    ) -> Result<RestResponse, RestError> {
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
