//! # baas-axum
//!
//! Mount mini-baas in an [axum](https://docs.rs/axum) application: every
//! request under the mount point is turned into a
//! [`baas_rest::RestRequest`], answered by the framework-free
//! [`baas_rest::Service`], and turned back into an axum response.
//!
//! ```no_run
//! # async fn run(service: baas_rest::Service) {
//! use axum::{Router, routing::get};
//!
//! let app = Router::new()
//!     .route("/health", get(|| async { "ok" }))        // the host's own routes
//!     .nest("/api", baas_axum::router(service));        // mini-baas under /api
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await.unwrap();
//! axum::serve(listener, app).await.unwrap();
//! # }
//! ```
//!
//! - **Path**: the path seen by the service is the one after the mount
//!   point (axum's `nest` strips it), so `/api/acme/artist` routes as
//!   `/acme/artist`.
//! - **Who is calling**: when a middleware of the host application put a
//!   [`Principal`] into the request extensions, the service acts on its
//!   behalf ([`baas_rest::Service::handle_as`]); otherwise the caller is
//!   anonymous.
//! - **Body size**: bodies larger than the service's
//!   [`max_body_bytes`](baas_rest::RestLimits::max_body_bytes) are refused
//!   with mini-baas's 413 JSON error while being read.
//! - **`Location`** headers (`Prefer: return=headers-only`) are made
//!   absolute: the mount point and tenant are prefixed.
#![warn(missing_docs)]

use axum::Router;
use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::Response;
use baas_engine::Principal;
use baas_rest::{RestError, RestRequest, RestResponse, Service};

/// A router that sends every request to `service`. Nest it under a prefix
/// (`Router::nest("/api", router(service))`) or use it as the whole app.
pub fn router(service: Service) -> Router {
    Router::new().fallback(handle).with_state(service)
}

/// The handler behind [`router`], for applications that route themselves
/// (`.route("/db/{*rest}", any(baas_axum::handle))` with a `Service` state).
pub async fn handle(State(service): State<Service>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let limit = service.limits().max_body_bytes;
    let body = match to_bytes(body, limit).await {
        Ok(b) => b.to_vec(),
        Err(_) => {
            return into_response(
                RestError::new(
                    413,
                    "payload_too_large",
                    format!("the body is larger than {limit} bytes"),
                )
                .to_response(),
            );
        }
    };
    let headers = parts
        .headers
        .iter()
        .filter_map(|(k, v)| Some((k.as_str().to_string(), v.to_str().ok()?.to_string())))
        .collect();
    let path = parts.uri.path().to_string();
    let mount = parts
        .extensions
        .get::<axum::extract::NestedPath>()
        .map(|n| n.as_str().trim_end_matches('/'))
        .unwrap_or_default();
    let rest_req = RestRequest {
        method: parts.method.as_str().to_string(),
        path,
        query: parts.uri.query().unwrap_or_default().to_string(),
        headers,
        body,
    };
    // Kept for the `Location` header only (rare: `return=headers-only`).
    let route_input = (
        rest_req.path.clone(),
        baas_rest::header(&rest_req.headers, baas_rest::route::TENANT_HEADER)
            .map(|t| vec![(baas_rest::route::TENANT_HEADER.to_string(), t.to_string())])
            .unwrap_or_default(),
    );
    let mut resp = match parts.extensions.get::<Principal>() {
        Some(p) => service.handle_as(rest_req, p).await,
        None => service.handle(rest_req).await,
    };
    if let Some((_, v)) = resp.headers.iter_mut().find(|(k, _)| k == "location") {
        let tenant_prefix = tenant_prefix(&route_input.0, &route_input.1);
        *v = format!("{mount}{tenant_prefix}{v}");
    }
    into_response(resp)
}

/// `/{tenant}` (percent-encoded) of the request, wherever the tenant came
/// from: a path that repeats the header's tenant routes the same, so the
/// `Location` works with or without the header.
fn tenant_prefix(path: &str, headers: &[(String, String)]) -> String {
    baas_rest::route(path, headers)
        .ok()
        .and_then(|r| r.tenant().map(|t| format!("/{}", encode_segment(t))))
        .unwrap_or_default()
}

fn encode_segment(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// Convert a [`RestResponse`] into an axum response.
pub fn into_response(r: RestResponse) -> Response {
    let mut resp = Response::new(Body::from(r.body));
    *resp.status_mut() =
        StatusCode::from_u16(r.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let headers = resp.headers_mut();
    for (k, v) in r.headers {
        if let (Ok(k), Ok(v)) = (
            HeaderName::from_bytes(k.as_bytes()),
            HeaderValue::from_str(&v),
        ) {
            headers.append(k, v);
        }
    }
    resp
}
