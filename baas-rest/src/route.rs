//! Routing: which tenant, which entity, which row.
//!
//! | path | route |
//! | --- | --- |
//! | `/{tenant}/{entity}` | [`Route::Collection`] |
//! | `/{tenant}/{entity}/{id}` | [`Route::Item`]; a composite key is `v1,v2` in key order, each part percent-decoded after the split (so `%2C` is a literal comma) |
//! | `/{tenant}/discovery` | [`Route::Discovery`] |
//! | `/{tenant}/openapi.json` | [`Route::OpenApi`] |
//! | `/_admin/...` | [`Route::Admin`] with the rest of the path |
//!
//! With an `x-tenant-id` header the tenant segment is dropped: `/{entity}`,
//! `/{entity}/{id}`, `/discovery`, `/openapi.json`. A path that still starts
//! with the header's tenant is accepted; a path that names another tenant is
//! a 400 (`/{other}/{entity}/{id}`, `/{other}/discovery`,
//! `/{other}/openapi.json`). Two segments `/{a}/{b}` with a header naming
//! another tenant are read as `/{entity}/{id}`; hence, with a header, an
//! entity cannot be called `discovery` or `openapi.json`.

use percent_encoding::percent_decode_str;

use crate::RestError;
use crate::http::header;

/// The header that may carry the tenant.
pub const TENANT_HEADER: &str = "x-tenant-id";

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
            | Self::Discovery { tenant }
            | Self::OpenApi { tenant } => Some(tenant),
            Self::Admin(_) => None,
        }
    }
}

/// The methods a route answers, for the `Allow` header of a 405:
/// collections `GET, HEAD, POST, PATCH, DELETE`, rows by key
/// `GET, HEAD, PUT, PATCH, DELETE` (`GET, HEAD` on a read-only entity),
/// the discovery and OpenAPI documents `GET, HEAD`. Admin routes list
/// theirs in the service.
pub fn allowed_methods(route: &Route, read_only: bool) -> &'static str {
    match route {
        Route::Collection { .. } | Route::Item { .. } if read_only => "GET, HEAD",
        Route::Collection { .. } => "GET, HEAD, POST, PATCH, DELETE",
        Route::Item { .. } => "GET, HEAD, PUT, PATCH, DELETE",
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
        .with_hint("use /{tenant}/{entity}, /{tenant}/{entity}/{id}, /{tenant}/discovery or /{tenant}/openapi.json")
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

/// Route a path, taking the tenant from the path or from the `x-tenant-id`
/// header (never from two disagreeing sources).
pub fn route(path: &str, headers: &[(String, String)]) -> Result<Route, RestError> {
    let tenant_header = match header(headers, TENANT_HEADER) {
        Some(t) if t.trim().is_empty() => {
            return Err(RestError::bad_request("the `x-tenant-id` header is empty"));
        }
        Some(t) => Some(t.trim()),
        None => None,
    };
    route_with(path, tenant_header)
}

/// [`route`] with the header's tenant already extracted.
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
