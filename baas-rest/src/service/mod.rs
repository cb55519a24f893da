//! The service: a plain [`RestRequest`] in, a plain [`RestResponse`] out,
//! with the engine ([`Baas`]) in between. Integration crates (axum, actix)
//! only convert their request and response types (bodies stay streams,
//! [`crate::body`]), tell the service their mount prefix
//! ([`RestRequest::mount`]) and call [`Service::handle`].
//!
//! ## Route families
//!
//! The service resolves the path ([`resolve`](crate::resolve())) and
//! dispatches by family, each in its own module:
//!
//! | family | paths | module | body |
//! | --- | --- | --- | --- |
//! | entities | `/{tenant}/{entity}…`, `/{tenant}/rest/v1/{entity}…` | `service/entities.rs` | read whole, under `max_body_bytes` |
//! | documents | `/{tenant}/discovery`, `/{tenant}/openapi.json`, `/{tenant}/rest/v1/` | `service/documents.rs` | read whole, under `max_body_bytes` |
//! | admin | `/_admin/…` | `service/admin.rs` | read whole, under `max_body_bytes` |
//! | registered ([`Service::with_family`]) | `/{tenant}/{name}/v1/…` | another crate's [`RouteFamily`] | a stream, as it comes |
//! | reserved, not registered (`auth`, `storage`, `realtime`, `functions`) | `/{tenant}/{name}/v1/…` | — | not read: the uniform 404 |
//!
//! The body of the first three is read into memory here, once
//! ([`Body::collect`]): a declared `Content-Length` over the limit is
//! refused before reading, a body that grows past it while being read is
//! refused at that point; the 413 ([`payload_too_large`]) closes the
//! connection. `Location` headers are made absolute here, with the mount
//! prefix, the percent-encoded tenant and the family prefix the request
//! used ([`family_root`]): a row created through `/rest/v1/` is located
//! under `/rest/v1/`.
//!
//! ## Routes
//!
//! Every entity route below is also served under `/{tenant}/rest/v1/`
//! with the same answer, byte for byte, but for `Location`.
//!
//! | method and path | what |
//! | --- | --- |
//! | `GET` / `HEAD /{tenant}/{entity}` | rows (filters, `select`, `order`, paging, `Prefer: count`) |
//! | `POST /{tenant}/{entity}` | insert one object or an array (upsert with `Prefer: resolution=…`) |
//! | `PATCH` / `DELETE /{tenant}/{entity}?filters` | update / delete matching rows (a filter is required) |
//! | `GET` / `PATCH` / `PUT` / `DELETE /{tenant}/{entity}/{id}` | one row by primary key (404 when absent) |
//! | `GET /{tenant}/discovery` | entities, fields, types, relations, operations ([`crate::discovery`]) |
//! | `GET /{tenant}/openapi.json`, `GET /{tenant}/rest/v1/` | OpenAPI 3.1 of the tenant ([`crate::openapi`]; under `/rest/v1/` its server URL names that prefix) |
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
//! A missing tenant and a missing entity get the same 404, so tenant ids
//! cannot be probed: PostgREST's `PGRST205` naming the table of the route
//! (`PGRST202` naming the function of an `/rpc` route; `not_found`, `no
//! such resource`, for other routes and an unserved family); a request
//! with the admin key gets the detail. Every 405 carries `Allow` (see
//! [`allowed_methods`]). Writes honour
//! `Prefer: tx=rollback` ([`Baas::write_rolled_back`]) and
//! `Idempotency-Key` ([`crate::idempotency`]; on by default with a
//! [`MemoryIdempotencyStore`], see [`Service::with_idempotency`]).
//!
//! A singular write (`Accept: application/vnd.pgrst.object+json`) on a
//! filtered `PATCH`/`DELETE` counts the matching rows first and writes
//! nothing unless exactly one matches (406 otherwise); the count and the
//! write are two statements, so a concurrent insert between them can still
//! make the write touch two rows. `Prefer: handling=strict, max-affected=n`
//! on `PATCH`/`DELETE` counts the same way and writes nothing when more than
//! `n` rows match (400 `PGRST124`), with the same caveat.

use std::collections::BTreeMap;
use std::sync::Arc;

use baas_core::{Error, NotFoundKind};
use baas_engine::{Baas, Principal, Tenant};

use crate::body::{Body, payload_too_large};
use crate::error::error_chain;
use crate::family::{FamilyRequest, RouteFamily};
use crate::http::header;
use crate::idempotency::{IdempotencyStore, MemoryIdempotencyStore};
use crate::route::{
    DATA_FAMILY, RESERVED_FAMILIES, Route, Target, allowed_methods, family_root, resolve,
    tenant_header,
};
use crate::{ParseLimits, RestError, RestLimits, RestRequest, RestResponse};

mod admin;
mod documents;
mod entities;
mod rpc;

/// The REST service over one engine.
#[derive(Clone)]
pub struct Service {
    baas: Arc<Baas>,
    /// The HTTP limits with the engine's request limits, for the parser.
    limits: ParseLimits,
    admin_key: Option<Arc<str>>,
    auth: Option<Arc<dyn crate::Authenticate>>,
    idempotency: Option<Arc<dyn IdempotencyStore>>,
    families: Arc<BTreeMap<String, Arc<dyn RouteFamily>>>,
}

impl std::fmt::Debug for Service {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Service")
            .field("limits", &self.limits)
            .field("admin", &self.admin_key.is_some())
            .field("auth", &self.auth.is_some())
            .field("idempotency", &self.idempotency.is_some())
            .field("families", &self.families.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

fn json_response(status: u16, v: &serde_json::Value) -> RestResponse {
    RestResponse::new(
        status,
        vec![(
            "content-type".into(),
            "application/json; charset=utf-8".into(),
        )],
        v.to_string(),
    )
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

/// A family a request goes to, its tenant found: what
/// [`Service::prepare`] returns.
#[derive(Debug)]
pub struct Prepared {
    /// The family's name.
    pub family: String,
    /// The request, for the family.
    pub request: FamilyRequest,
}

impl Service {
    /// A service with default limits, the admin routes off,
    /// `Idempotency-Key` served by a [`MemoryIdempotencyStore`] with
    /// default bounds, and no route family besides entities, documents and
    /// admin.
    pub fn new(baas: Arc<Baas>) -> Self {
        let limits = ParseLimits::new(RestLimits::default(), baas.config().limits.clone());
        Self {
            baas,
            limits,
            admin_key: None,
            auth: None,
            idempotency: Some(Arc::new(MemoryIdempotencyStore::default())),
            families: Arc::default(),
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

    /// Replace the HTTP limits (the engine's request limits come from its
    /// configuration, `EngineConfig::limits`).
    pub fn with_limits(mut self, limits: RestLimits) -> Self {
        self.limits.http = limits;
        self
    }

    /// Serve `/{tenant}/{name}/v1/…` with `family` (see [`crate::family`]).
    /// The name is one path segment of `a-z 0-9 _ -`; `rest` (the data
    /// family) cannot be replaced. Registering a name again replaces the
    /// family.
    pub fn with_family(
        mut self,
        name: impl Into<String>,
        family: Arc<dyn RouteFamily>,
    ) -> Result<Self, Error> {
        let name = name.into();
        let valid = !name.is_empty()
            && name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-');
        if !valid || name == DATA_FAMILY {
            return Err(Error::validation(
                "/family",
                format!(
                    "`{name}` cannot name a route family: use a-z, 0-9, `_` and `-`, not `{DATA_FAMILY}`"
                ),
            ));
        }
        Arc::make_mut(&mut self.families).insert(name, family);
        Ok(self)
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

    /// The HTTP limits.
    pub fn limits(&self) -> &RestLimits {
        &self.limits.http
    }

    /// Authenticate every request with `auth` (its `apikey` /
    /// `Authorization` headers become the [`Principal`] the engine's policy
    /// sees). Without one, [`handle`](Self::handle) serves every request
    /// as an anonymous caller and the admin routes check the admin key
    /// themselves.
    pub fn with_authenticator(mut self, auth: Arc<dyn crate::Authenticate>) -> Self {
        self.auth = Some(auth);
        self
    }

    /// The caller of `req`: the authenticator's answer, or anonymous
    /// without one.
    pub async fn principal(&self, req: &RestRequest) -> Result<Principal, RestError> {
        let target = self.target(req)?;
        self.principal_of(&target, req).await
    }

    /// The caller of `req`, routed to `target`.
    async fn principal_of(
        &self,
        target: &Target,
        req: &RestRequest,
    ) -> Result<Principal, RestError> {
        match &self.auth {
            None => Ok(Principal::anonymous()),
            Some(auth) => auth.principal(target.tenant(), &req.headers).await,
        }
    }

    /// Handle a request: its caller from the authenticator (or anonymous
    /// without one), then as [`handle_as`](Self::handle_as) does.
    pub async fn handle(&self, req: RestRequest) -> RestResponse {
        // Routed once: the caller and the dispatch use the same target.
        let target = match self.target(&req) {
            Ok(t) => t,
            Err(e) => return e.to_response(),
        };
        match self.principal_of(&target, &req).await {
            // Boxed: the dispatch's futures, tens of kilobytes, stay off
            // the caller's stack (a caller awaiting many requests in one
            // function overflowed a debug build's thread stack).
            Ok(p) => Box::pin(self.serve(target, req, &p)).await,
            Err(e) => error_response(&e, None),
        }
    }

    /// Handle a request on behalf of `principal` (who the host application
    /// authenticated).
    pub async fn handle_as(&self, req: RestRequest, principal: &Principal) -> RestResponse {
        let target = match self.target(&req) {
            Ok(t) => t,
            Err(e) => return e.to_response(),
        };
        // Boxed, as in `handle`.
        Box::pin(self.serve(target, req, principal)).await
    }

    /// Dispatch a routed request and make its `Location` absolute.
    async fn serve(&self, target: Target, req: RestRequest, principal: &Principal) -> RestResponse {
        let root = target
            .tenant()
            .map(|t| family_root(&req.mount, t, target.family()));
        let mut allow = None;
        let mut resp = match self.dispatch(target, req, principal, &mut allow).await {
            Ok(r) => r,
            // The database refusing an anonymous caller (its role lacks
            // the privilege) asks for credentials: PostgREST's 401.
            Err(mut e)
                if e.status == 403 && e.code == baas_core::sqlstate::INSUFFICIENT_PRIVILEGE =>
            {
                if principal.subject.is_none()
                    && principal.database_role().is_ok_and(|r| r == "anon")
                {
                    e.status = 401;
                }
                error_response(&e, allow)
            }
            Err(e) => error_response(&e, allow),
        };
        if let Some(root) = root {
            for (name, value) in &mut resp.headers {
                // Relative to the family root: `/{entity}/{key}`.
                if name.eq_ignore_ascii_case("location")
                    && value.starts_with('/')
                    && !value.starts_with("//")
                {
                    *value = format!("{root}{value}");
                }
            }
        }
        resp
    }

    /// Route a request to a registered family and find its tenant, as
    /// [`Service::handle_as`] does before calling the family: for an
    /// integration that serves a family itself (the WebSocket upgrade of
    /// [`crate::family`]). `Err` holds the answer to send instead (a 404
    /// for a missing tenant, an unserved family or a path that is not a
    /// family's, a 400 for a malformed path).
    pub async fn prepare(
        &self,
        req: RestRequest,
        principal: &Principal,
    ) -> Result<Prepared, RestResponse> {
        let prepared = match self.target(&req) {
            Ok(Target::Family { tenant, name, path }) => {
                self.family_request(tenant, name, path, req, principal)
                    .await
            }
            Ok(_) => Err(RestError::not_found(NOT_FOUND)),
            Err(e) => Err(e),
        };
        prepared.map_err(|e| error_response(&e, None))
    }

    fn target(&self, req: &RestRequest) -> Result<Target, RestError> {
        let families = &self.families;
        resolve(&req.path, tenant_header(&req.headers)?, &|name| {
            families.contains_key(name)
        })
    }

    /// `allow` is set to the methods of the route as soon as it is known
    /// (for the `Allow` header of a 405).
    async fn dispatch(
        &self,
        target: Target,
        req: RestRequest,
        principal: &Principal,
        allow: &mut Option<&'static str>,
    ) -> Result<RestResponse, RestError> {
        match target {
            Target::Admin(rest) => {
                let req = self.buffered(req).await?;
                self.admin(&rest, &req, principal, allow).await
            }
            Target::Data { mut route, alias } => {
                let req = self.buffered(req).await?;
                let tenant = self
                    .baas
                    .tenant(route.tenant().unwrap_or_default())
                    .await
                    .map_err(|e| self.hide_not_found(&req, e, Some(&route)))?;
                if !crate::route::apply_profile(
                    &mut route,
                    tenant.schema(),
                    &req.method,
                    &req.headers,
                )? {
                    let (kind, name) = match &route {
                        Route::Rpc { function, .. } => (NotFoundKind::Function, function.clone()),
                        Route::Collection { entity, .. } | Route::Item { entity, .. } => {
                            (NotFoundKind::Entity, entity.clone())
                        }
                        _ => (NotFoundKind::Entity, String::new()),
                    };
                    return Err(self.hide_not_found(
                        &req,
                        Error::NotFound { kind, name },
                        Some(&route),
                    ));
                }
                // What the database's functions, defaults and triggers may
                // read of the request (PostgREST's `request.*` settings),
                // and the zone the caller reads and writes instants in
                // (`Prefer: timezone`; a malformed `Prefer` is refused
                // where the request is parsed).
                let settings = tenant.capabilities().request_settings;
                let timezone = crate::headers::parse_prefer(&req.headers)
                    .ok()
                    .and_then(|p| p.timezone);
                let session;
                let principal = if settings || timezone.is_some() {
                    let mut p = principal.clone().in_zone(timezone);
                    if settings {
                        p = p.with_request(request_info(&req, &route, principal));
                    }
                    session = p;
                    &session
                } else {
                    principal
                };
                match &route {
                    Route::Discovery { .. } | Route::OpenApi { .. } => {
                        *allow = Some(allowed_methods(&route, true));
                        self.document(&tenant, &route, alias, &req, principal).await
                    }
                    Route::Collection { entity, .. } | Route::Item { entity, .. } => {
                        let e = tenant
                            .schema()
                            .entity(entity)
                            .map_err(|e| self.hide_not_found(&req, e, Some(&route)))?;
                        *allow = Some(allowed_methods(&route, e.read_only));
                        let r = self.entity(&tenant, &route, &req, principal).await;
                        Ok(with_profile(r?, &req))
                    }
                    Route::Rpc { function, .. } => {
                        tenant
                            .schema()
                            .function(function)
                            .map_err(|e| self.hide_not_found(&req, e, Some(&route)))?;
                        *allow = Some(allowed_methods(&route, false));
                        let r = self.rpc(&tenant, function, &req, principal).await;
                        Ok(with_profile(r?, &req))
                    }
                    Route::Admin(_) => Err(RestError::not_found(NOT_FOUND)),
                }
            }
            Target::Family { tenant, name, path } => {
                let prepared = self
                    .family_request(tenant, name, path, req, principal)
                    .await?;
                let family = self.families.get(&prepared.family).cloned();
                match family {
                    Some(f) => f.handle(prepared.request).await,
                    None => Err(RestError::not_found(NOT_FOUND)),
                }
            }
        }
    }

    /// The request of a family route, its tenant found; an unserved family
    /// is the uniform 404, before anything else is looked at.
    async fn family_request(
        &self,
        tenant: String,
        name: String,
        path: String,
        req: RestRequest,
        principal: &Principal,
    ) -> Result<Prepared, RestError> {
        if !self.families.contains_key(&name) {
            debug_assert!(RESERVED_FAMILIES.contains(&name.as_str()));
            return Err(if self.check_admin(&req).is_ok() {
                RestError::not_found(format!("no route family `{name}` is served here"))
            } else {
                RestError::not_found(NOT_FOUND)
            });
        }
        let found = self.find_tenant(&tenant, &req).await?;
        Ok(Prepared {
            request: FamilyRequest {
                baas: self.baas.clone(),
                root: family_root(&req.mount, &tenant, Some(&name)),
                tenant: found,
                principal: principal.clone(),
                path,
                request: req,
            },
            family: name,
        })
    }

    /// The request with its body read into memory under
    /// [`RestLimits::max_body_bytes`]: the one place a body is buffered.
    async fn buffered(&self, mut req: RestRequest) -> Result<RestRequest, RestError> {
        let limit = self.limits.http.max_body_bytes;
        let declared =
            header(&req.headers, "content-length").and_then(|v| v.trim().parse::<u64>().ok());
        if declared.is_some_and(|n| n > limit as u64) {
            return Err(payload_too_large(limit));
        }
        if req.body.is_stream() {
            let body = std::mem::take(&mut req.body);
            req.body = Body::Full(body.collect(limit).await?);
        } else if req.body.bytes().len() > limit {
            return Err(payload_too_large(limit));
        }
        Ok(req)
    }

    async fn find_tenant(&self, id: &str, req: &RestRequest) -> Result<Arc<Tenant>, RestError> {
        self.baas
            .tenant(id)
            .await
            .map_err(|e| self.hide_not_found(req, e, None))
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

    /// A tenant, entity or function that does not exist gets one answer,
    /// whichever it was, so tenant ids cannot be enumerated: for a table's
    /// route (`/{tenant}/{entity}`) PostgREST's 404 `PGRST205` naming the
    /// route's table, for a function's PostgREST's 404 `PGRST202` naming
    /// the route's function (neither with PostgREST's hint of close names,
    /// which would list the schema), otherwise `not_found`. A caller with
    /// the admin key gets the detail.
    fn hide_not_found(&self, req: &RestRequest, e: Error, route: Option<&Route>) -> RestError {
        let missing = matches!(
            &e,
            Error::NotFound {
                kind: NotFoundKind::Tenant | NotFoundKind::Entity | NotFoundKind::Function,
                ..
            }
        );
        if !missing {
            return core_error(e);
        }
        let admin = self.check_admin(req).is_ok();
        let found = match route {
            Some(Route::Rpc { function, .. }) => RestError::no_function(function),
            Some(Route::Collection { entity, .. } | Route::Item { entity, .. }) => RestError::new(
                404,
                crate::error::codes::NO_TABLE,
                format!("Could not find the table '{entity}' in the schema cache"),
            ),
            _ if admin => return core_error(e),
            _ => return RestError::not_found(NOT_FOUND),
        };
        if admin {
            found.with_details(e.to_string())
        } else {
            found
        }
    }
}

/// The answer as the database's functions asked for it while it was
/// read or written (PostgREST's `response.status` and
/// `response.headers`): their status in place of ours, their headers
/// ([`RestResponse::with_headers_asked`]). An error answer of ours is
/// left as it is.
pub(crate) fn as_functions_asked(
    mut resp: RestResponse,
    asked: Option<baas_core::ir::ResponseSettings>,
) -> RestResponse {
    // An error of ours (a singular read of no row…) stays as it is.
    let Some(asked) = asked.filter(|_| resp.status < 400) else {
        return resp;
    };
    if let Some(status) = asked.status {
        resp.status = status;
    }
    resp.with_headers_asked(asked.headers)
}

/// What the database sees of a data request (PostgREST's `request.*`
/// settings): its method, headers, and its path below the tenant's REST
/// root as the client sent it (`/memo`, `/memo/5`, `/rpc/f`: the last
/// segments of the path, whatever prefix routed it).
fn request_info(
    req: &RestRequest,
    route: &Route,
    principal: &Principal,
) -> baas_engine::RequestInfo {
    let tail = match route {
        Route::Collection { .. } => 1,
        Route::Item { .. } | Route::Rpc { .. } => 2,
        _ => 0,
    };
    let segments: Vec<&str> = req
        .path
        .trim_end_matches('/')
        .rsplit('/')
        .take(tail)
        .collect();
    let path = segments.iter().rev().fold(String::new(), |mut p, s| {
        p.push('/');
        p.push_str(s);
        p
    });
    // The platform's admin key opens every tenant: it never reaches a
    // tenant's database (a caller's own token does, as in PostgREST).
    let admin = principal.has_role(crate::ADMIN_ROLE);
    let headers = req
        .headers
        .iter()
        .filter(|(k, _)| !(admin && k.eq_ignore_ascii_case("authorization")))
        .cloned()
        .collect();
    baas_engine::RequestInfo {
        method: req.method.to_ascii_uppercase(),
        path,
        headers,
    }
}

/// The answer to an error: every 405 says what the route does allow, a 413
/// closes the connection (the rest of the body is not read).
fn error_response(e: &RestError, allow: Option<&'static str>) -> RestResponse {
    let mut r = e.to_response();
    if e.status == 405
        && let Some(a) = allow
    {
        r.headers.push(("allow".into(), a.into()));
    }
    if e.status == 413 {
        r.headers.push(("connection".into(), "close".into()));
    }
    r
}

impl Service {
    /// Make an answer's shaping ready for this caller and tenant: the
    /// `...rel(*)` spreads get the fields `*` reads of their entities for
    /// the caller
    /// ([`FieldAliases::fill_star_spreads`](crate::params::FieldAliases::fill_star_spreads)),
    /// so that a missing related row adds each of them (`null`, or `[]`
    /// to-many) as PostgREST answers it; the joins of to-many spreads
    /// are bounded by the tenant's row and response budgets
    /// ([`FieldAliases::limit_joins`](crate::params::FieldAliases::limit_joins)).
    /// Called before the engine runs the request, so that nothing is
    /// refused after it ran.
    async fn prepare_answer(
        &self,
        principal: &Principal,
        tenant: &Tenant,
        aliases: &mut Option<crate::params::FieldAliases>,
    ) -> Result<(), RestError> {
        let Some(aliases) = aliases else {
            return Ok(());
        };
        let limits = &tenant.config().limits;
        aliases.limit_joins(limits.max_rows, limits.max_response_bytes);
        let mut entities = Vec::new();
        aliases.star_spread_entities(&mut entities);
        let mut fields = Vec::with_capacity(entities.len());
        for e in entities {
            let star = self
                .baas
                .star_fields(principal, tenant, &e)
                .await
                .map_err(core_error)?;
            fields.push((e, star));
        }
        aliases.fill_star_spreads(&fields);
        Ok(())
    }
}

/// Map an engine error, logging the whole chain of server-side failures
/// (their bodies stay generic).
fn core_error(e: Error) -> RestError {
    let r = RestError::from(&e);
    if matches!(e, Error::Timeout { .. }) {
        // The request's own weight (or a loaded database): a warning, so
        // that callers cannot fill the error log at will.
        tracing::warn!(error = %error_chain(&e), "statement timeout");
    } else if r.status >= 500 {
        tracing::error!(error = %error_chain(&e), code = e.code(), "request failed");
    }
    r
}

/// The schema a request's profile header named (`Accept-Profile` on
/// `GET`/`HEAD`, `Content-Profile` otherwise), answered back as
/// `Content-Profile`, as PostgREST answers it.
fn with_profile(mut r: RestResponse, req: &RestRequest) -> RestResponse {
    let which = if matches!(req.method.as_str(), "GET" | "HEAD") {
        "accept-profile"
    } else {
        "content-profile"
    };
    if let Some(profile) = header(&req.headers, which).map(str::trim)
        && !profile.is_empty()
    {
        r.headers
            .push(("content-profile".into(), profile.to_string()));
    }
    r
}
