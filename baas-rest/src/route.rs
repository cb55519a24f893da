//! Routing: which route family, which tenant, which entity, which row.
//!
//! | path | route |
//! | --- | --- |
//! | `/{tenant}/{entity}` | [`Route::Collection`] |
//! | `/{tenant}/{entity}/{id}` | [`Route::Item`]; a composite key is `v1,v2` in key order, each part percent-decoded after the split (so `%2C` is a literal comma) |
//! | `/{tenant}/rpc/{function}` (also under `/{tenant}/rest/v1/`) | [`Route::Rpc`] |
//! | `/{tenant}/discovery` | [`Route::Discovery`] |
//! | `/{tenant}/openapi.json` | [`Route::OpenApi`] |
//! | `/{tenant}/rest/v1/{entity}`, `/{tenant}/rest/v1/{entity}/{id}` | the same [`Route::Collection`] / [`Route::Item`] through the data family's prefix (PostgREST's and Supabase's layout: supabase-js appends `/rest/v1` to its project URL) |
//! | `/{tenant}/rest/v1/` (or without the `/`) | [`Route::OpenApi`], where PostgREST serves it |
//! | `/{tenant}/{family}/v1/…` | a route family ([`Target::Family`]): `auth`, `storage`, `realtime`, `functions`, or any family registered on the [`Service`](crate::Service) |
//! | `/_admin/...` | [`Route::Admin`] with the rest of the path |
//!
//! **Family prefixes and entity names.** A family name takes precedence
//! only when the next segment is `v1`: `/{tenant}/rest`, `/{tenant}/auth`
//! and `/{tenant}/storage/7` are entity routes as always, while
//! `/{tenant}/rest/v1` and `/{tenant}/auth/v1/…` are family routes. Under
//! `/rest/v1/` every name is an entity, as in PostgREST, so an entity named
//! `rest`, `auth`, `storage`, `realtime`, `functions`, `discovery` or
//! `openapi.json`, and the row `v1` of any of them, stays reachable there:
//! `/{tenant}/rest/v1/rest`, `/{tenant}/rest/v1/discovery`,
//! `/{tenant}/rest/v1/auth/v1`. (The discovery document has no alias.)
//!
//! With an `x-tenant-id` header the tenant segment is dropped: `/{entity}`,
//! `/{entity}/{id}`, `/discovery`, `/openapi.json`, `/rest/v1/…`,
//! `/{family}/v1/…`. A path that still starts with the header's tenant is
//! accepted; a path that names another tenant is a 400
//! (`/{other}/{entity}/{id}`, `/{other}/discovery`, `/{other}/openapi.json`,
//! `/{other}/{family}/v1/…`). Two segments `/{a}/{b}` with a header naming
//! another tenant are read as `/{entity}/{id}` (unless `{b}` is `v1` and
//! `{a}` a family); hence, with a header, an entity cannot be called
//! `discovery` or `openapi.json` outside `/rest/v1/`.
//!
//! The public URL of a tenant's routes is built in one place,
//! [`family_root`]: the mount prefix, the percent-encoded tenant, the family
//! prefix. The service makes `Location` headers absolute with it.

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};

use crate::RestError;
use crate::http::header;

/// The header that may carry the tenant.
pub const TENANT_HEADER: &str = "x-tenant-id";

/// The version segment that follows a family name (`/{tenant}/auth/v1/…`).
pub const FAMILY_VERSION: &str = "v1";

/// The data family: `/{tenant}/rest/v1/…` is an alias of `/{tenant}/…`.
pub const DATA_FAMILY: &str = "rest";

/// Family names reserved under every tenant (when followed by `/v1`), served
/// or not: an unserved one answers the uniform 404. A family registered
/// on the [`Service`](crate::Service) under another name is reserved too.
pub const RESERVED_FAMILIES: &[&str] = &[DATA_FAMILY, "auth", "storage", "realtime", "functions"];

/// Where a request goes: the admin space, a data route (entities and
/// documents, plain or through `/rest/v1`), or another route family.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// `/_admin/…`: the path after `/_admin`, still percent-encoded.
    Admin(String),
    /// An entity or document route.
    Data {
        /// The route.
        route: Route,
        /// Whether it came through the `/rest/v1` prefix (answers then point
        /// at the same prefix).
        alias: bool,
    },
    /// `/{tenant}/{name}/v1/…` of a family other than the data one.
    Family {
        /// Tenant id.
        tenant: String,
        /// Family name (`auth`, `storage`, …).
        name: String,
        /// The path after `/{name}/v1`, still percent-encoded: empty or
        /// starting with `/`.
        path: String,
    },
}

impl Target {
    /// The tenant, if the target has one.
    pub fn tenant(&self) -> Option<&str> {
        match self {
            Self::Admin(_) => None,
            Self::Data { route, .. } => route.tenant(),
            Self::Family { tenant, .. } => Some(tenant),
        }
    }

    /// The family prefix after the tenant: `None` for a plain data route,
    /// `Some("rest")` through the alias, the family's name otherwise.
    pub fn family(&self) -> Option<&str> {
        match self {
            Self::Admin(_) | Self::Data { alias: false, .. } => None,
            Self::Data { alias: true, .. } => Some(DATA_FAMILY),
            Self::Family { name, .. } => Some(name),
        }
    }
}

/// Characters kept as they are in a path segment (RFC 3986 unreserved).
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// Percent-encode one path segment (everything but `A-Z a-z 0-9 - . _ ~`).
pub fn encode_segment(s: &str) -> String {
    utf8_percent_encode(s, SEGMENT).to_string()
}

/// The public root of a tenant's routes: `{mount}/{tenant}` (the tenant
/// percent-encoded), followed by `/{family}/v1` for a family. Paths a
/// family answers relative to its root (`Location: /{entity}/{key}`) are
/// made absolute with it. The one place the tenant prefix is built.
pub fn family_root(mount: &str, tenant: &str, family: Option<&str>) -> String {
    let mount = mount.trim_end_matches('/');
    let tenant = encode_segment(tenant);
    match family {
        None => format!("{mount}/{tenant}"),
        Some(f) => format!("{mount}/{tenant}/{}/{FAMILY_VERSION}", encode_segment(f)),
    }
}

/// Where a request goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    /// Rows of an entity.
    Collection {
        /// Tenant id.
        tenant: String,
        /// Entity name.
        entity: String,
    },
    /// One row of an entity, by primary key.
    Item {
        /// Tenant id.
        tenant: String,
        /// Entity name.
        entity: String,
        /// Primary key values as text, in key order.
        key: Vec<String>,
    },
    /// A function call: `/{tenant}/rpc/{function}` (so the row of an
    /// entity named `rpc` is read with a filter, `/{tenant}/rpc?id=eq.…`,
    /// as in PostgREST, where `rpc/` is reserved too).
    Rpc {
        /// Tenant id.
        tenant: String,
        /// Function name.
        function: String,
    },
    /// The tenant's discovery document.
    Discovery {
        /// Tenant id.
        tenant: String,
    },
    /// The tenant's OpenAPI document.
    OpenApi {
        /// Tenant id.
        tenant: String,
    },
    /// Reserved administration space: the path after `/_admin` (starting with
    /// `/`, or empty), still percent-encoded.
    Admin(String),
}

impl Route {
    /// The tenant, if the route has one.
    pub fn tenant(&self) -> Option<&str> {
        match self {
            Self::Collection { tenant, .. }
            | Self::Item { tenant, .. }
            | Self::Rpc { tenant, .. }
            | Self::Discovery { tenant }
            | Self::OpenApi { tenant } => Some(tenant),
            Self::Admin(_) => None,
        }
    }
}

/// The methods of a writable entity's collection, `/{entity}`.
pub(crate) const COLLECTION_METHODS: &str = "GET, HEAD, POST, PUT, PATCH, DELETE";
/// The methods of a writable entity's row by key, `/{entity}/{id}`.
pub(crate) const ITEM_METHODS: &str = "GET, HEAD, PUT, PATCH, DELETE";

/// The methods a route answers, for the `Allow` header of a 405:
/// collections `GET, HEAD, POST, PUT, PATCH, DELETE` (`PUT` with the
/// primary key's `eq` filters), rows by key
/// `GET, HEAD, PUT, PATCH, DELETE` (`GET, HEAD` on a read-only entity),
/// the discovery and OpenAPI documents `GET, HEAD`. Admin routes list
/// theirs in the service.
pub fn allowed_methods(route: &Route, read_only: bool) -> &'static str {
    match route {
        Route::Collection { .. } | Route::Item { .. } if read_only => "GET, HEAD",
        Route::Collection { .. } => COLLECTION_METHODS,
        Route::Item { .. } => ITEM_METHODS,
        Route::Rpc { .. } => "GET, HEAD, POST",
        Route::Discovery { .. } | Route::OpenApi { .. } => "GET, HEAD",
        Route::Admin(_) => "GET, POST",
    }
}

fn decode(seg: &str) -> Result<String, RestError> {
    percent_decode_str(seg)
        .decode_utf8()
        .map(|s| s.into_owned())
        .map_err(|_| RestError::bad_request("the path is not valid UTF-8 after percent-decoding"))
}

fn no_route(path: &str) -> RestError {
    RestError::not_found(format!("no route for `{path}`"))
        .with_hint("use /{tenant}/{entity}, /{tenant}/{entity}/{id} (or the same under /{tenant}/rest/v1/), /{tenant}/discovery or /{tenant}/openapi.json")
}

fn conflict(path_tenant: &str, header_tenant: &str) -> RestError {
    RestError::bad_request(format!(
        "the path names tenant `{path_tenant}` but the `x-tenant-id` header names `{header_tenant}`"
    ))
    .with_hint("send the tenant once, in the path or in the header")
}

/// Split a key segment into its parts (composite keys are comma-separated).
pub fn split_key(seg: &str) -> Result<Vec<String>, RestError> {
    seg.split(',').map(decode).collect()
}

/// The `x-tenant-id` header, trimmed (a 400 when it is blank).
pub fn tenant_header(headers: &[(String, String)]) -> Result<Option<&str>, RestError> {
    match header(headers, TENANT_HEADER) {
        Some(t) if t.trim().is_empty() => {
            Err(RestError::bad_request("the `x-tenant-id` header is empty"))
        }
        Some(t) => Ok(Some(t.trim())),
        None => Ok(None),
    }
}

/// Route a path to an entity, document or admin route, taking the tenant
/// from the path or from the `x-tenant-id` header (never from two
/// disagreeing sources). `/{tenant}/rest/v1/…` routes like `/{tenant}/…`;
/// the paths of other families are a 404 here (see [`resolve`]).
pub fn route(path: &str, headers: &[(String, String)]) -> Result<Route, RestError> {
    match resolve(path, tenant_header(headers)?, &|_| false)? {
        Target::Admin(rest) => Ok(Route::Admin(rest)),
        Target::Data { route, .. } => Ok(route),
        Target::Family { .. } => Err(no_route(path)),
    }
}

/// Where `path` goes: the admin space, a data route, or a route family.
/// `/{tenant}/{name}/v1/…` is a family when `name` is one of
/// [`RESERVED_FAMILIES`] or `is_family(name)` holds (a registered one);
/// `tenant_header` is the trimmed `x-tenant-id` ([`tenant_header`]).
pub fn resolve(
    path: &str,
    tenant_header: Option<&str>,
    is_family: &dyn Fn(&str) -> bool,
) -> Result<Target, RestError> {
    let plain = || {
        route_with(path, tenant_header).map(|route| match route {
            Route::Admin(rest) => Target::Admin(rest),
            route => Target::Data {
                route,
                alias: false,
            },
        })
    };
    let trimmed = path.strip_prefix('/').unwrap_or(path);
    if trimmed == "_admin" || trimmed.starts_with("_admin/") {
        return plain();
    }
    let raw: Vec<&str> = trimmed.split('/').collect();
    let name_at = |i: usize| raw.get(i).and_then(|s| decode(s).ok());
    // A family prefix `{name}/v1` at segment `i`.
    let family_at = |i: usize| -> Option<String> {
        let name = name_at(i)?;
        let known = RESERVED_FAMILIES.contains(&name.as_str()) || is_family(&name);
        (known && name_at(i + 1).as_deref() == Some(FAMILY_VERSION)).then_some(name)
    };
    let first = name_at(0);
    let found = match tenant_header {
        None => match (&first, family_at(1)) {
            (Some(t), Some(f)) if !t.is_empty() && t != "_admin" => Some((t.clone(), f, 1)),
            _ => None,
        },
        Some(h) => {
            if first.as_deref() == Some(h)
                && let Some(f) = family_at(1)
            {
                Some((h.to_string(), f, 1))
            } else if let Some(f) = family_at(0) {
                Some((h.to_string(), f, 0))
            } else if let (Some(other), Some(_)) = (&first, family_at(1)) {
                return Err(conflict(other, h));
            } else {
                None
            }
        }
    };
    let Some((tenant, name, at)) = found else {
        return plain();
    };
    let tail = raw.get(at + 2..).unwrap_or_default();
    if name == DATA_FAMILY {
        return alias_route(path, tenant, tail);
    }
    Ok(Target::Family {
        tenant,
        name,
        path: tail.iter().map(|s| format!("/{s}")).collect(),
    })
}

/// A data route under `/{tenant}/rest/v1`: every name is an entity; the
/// root is the OpenAPI document.
fn alias_route(path: &str, tenant: String, tail: &[&str]) -> Result<Target, RestError> {
    let tail = match tail {
        [rest @ .., ""] => rest,
        t => t,
    };
    if tail.iter().any(|s| s.is_empty()) {
        return Err(no_route(path));
    }
    let route = match tail {
        [] => Route::OpenApi { tenant },
        ["rpc", f] => Route::Rpc {
            tenant,
            function: decode(f)?,
        },
        [e] => Route::Collection {
            tenant,
            entity: decode(e)?,
        },
        [e, id] => Route::Item {
            tenant,
            entity: decode(e)?,
            key: split_key(id)?,
        },
        _ => return Err(no_route(path)),
    };
    Ok(Target::Data { route, alias: true })
}

/// The plain routes (no family prefix), with the header's tenant already
/// extracted.
pub fn route_with(path: &str, tenant_header: Option<&str>) -> Result<Route, RestError> {
    let trimmed = path.strip_prefix('/').unwrap_or(path);
    if trimmed == "_admin" {
        return Ok(Route::Admin(String::new()));
    }
    if let Some(rest) = trimmed.strip_prefix("_admin/") {
        return Ok(Route::Admin(format!("/{rest}")));
    }
    let trimmed = trimmed.strip_suffix('/').unwrap_or(trimmed);
    let raw: Vec<&str> = if trimmed.is_empty() {
        Vec::new()
    } else {
        trimmed.split('/').collect()
    };
    if raw.iter().any(|s| s.is_empty()) {
        return Err(no_route(path));
    }
    // Decode every segment but the key (split on commas first).
    let seg = |i: usize| -> Result<String, RestError> {
        raw.get(i)
            .map_or_else(|| Err(no_route(path)), |s| decode(s))
    };
    let with_tenant = |tenant: String, rest: &[&str]| -> Result<Route, RestError> {
        if tenant.is_empty() || tenant == "_admin" {
            return Err(no_route(path));
        }
        match rest {
            [] => Err(no_route(path)),
            ["discovery"] => Ok(Route::Discovery { tenant }),
            ["openapi.json"] => Ok(Route::OpenApi { tenant }),
            ["rpc", f] => Ok(Route::Rpc {
                tenant,
                function: decode(f)?,
            }),
            [e] => Ok(Route::Collection {
                tenant,
                entity: decode(e)?,
            }),
            [e, id] => Ok(Route::Item {
                tenant,
                entity: decode(e)?,
                key: split_key(id)?,
            }),
            _ => Err(no_route(path)),
        }
    };
    match tenant_header {
        None => {
            let tenant = seg(0)?;
            with_tenant(tenant, raw.get(1..).unwrap_or_default())
        }
        Some(h) => {
            let first = seg(0).ok();
            let rest = raw.get(1..).unwrap_or_default();
            match (first.as_deref(), rest) {
                (Some(f), _) if f == h && !rest.is_empty() => with_tenant(h.to_string(), rest),
                (Some(f), ["discovery" | "openapi.json"]) => Err(conflict(f, h)),
                (Some(f), [_, _]) => Err(conflict(f, h)),
                _ => with_tenant(h.to_string(), &raw),
            }
        }
    }
}

/// The profile default of every tenant: what supabase-js sends
/// (`Accept-Profile: public`) unless told another schema.
pub const DEFAULT_PROFILE: &str = "public";

/// Apply PostgREST's schema profiles to an entity or function route:
/// `Accept-Profile` (GET, HEAD) or `Content-Profile` (other methods) names
/// a database schema, and the route's name is then a table (or function)
/// of that schema: `/book` under `Accept-Profile: personal` is the entity
/// whose source is `personal.book` (named `personal_book` without a
/// profile). No header, or `public` (the default supabase-js sends) when
/// `public` has no such table, leaves the name as it is. `Ok(false)`: the
/// profile's schema has no table (or function) of that name (a 404). A
/// schema no entity or function comes from is a 406 `PGRST106` listing
/// the schemas served.
pub fn apply_profile(
    route: &mut Route,
    schema: &baas_core::metadata::SchemaMetadata,
    method: &str,
    headers: &[(String, String)],
) -> Result<bool, RestError> {
    let name = match route {
        Route::Collection { entity, .. } | Route::Item { entity, .. } => entity,
        Route::Rpc { function, .. } => function,
        _ => return Ok(true),
    };
    let which = if matches!(method, "GET" | "HEAD") {
        "accept-profile"
    } else {
        "content-profile"
    };
    let Some(profile) = header(headers, which).map(str::trim) else {
        return Ok(true);
    };
    let sources = schema
        .entities
        .iter()
        .map(|e| (&e.source, &e.name))
        .chain(schema.functions.iter().map(|f| (&f.source, &f.name)));
    let mut served: Vec<&str> = vec![DEFAULT_PROFILE];
    let mut found = None;
    for (source, api) in sources {
        if let Some(s) = source.schema.as_deref() {
            if !served.contains(&s) {
                served.push(s);
            }
            if s == profile && source.table == *name {
                found = Some(api.clone());
            }
        }
    }
    if !served.contains(&profile) {
        return Err(RestError::new(
            406,
            crate::error::codes::PROFILE,
            format!(
                "The schema must be one of the following: {}",
                served.join(", ")
            ),
        ));
    }
    match found {
        Some(api) => {
            *name = api;
            Ok(true)
        }
        None => Ok(profile == DEFAULT_PROFILE),
    }
}
