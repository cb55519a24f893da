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
//! - **Mount**: the mount point (axum's [`NestedPath`])
//!   is handed to the service ([`RestRequest::mount`]), which makes
//!   `Location` headers absolute with it (the mount point, the tenant, the
//!   family prefix the request used).
//! - **Bodies** are passed on as streams, both ways: the request body goes
//!   to the service unread (the service reads entity and admin bodies under
//!   its [`max_body_bytes`](baas_rest::RestLimits::max_body_bytes) and
//!   answers its own 413; a [route family](baas_rest::RouteFamily) reads
//!   its uploads chunk by chunk), and a streamed response (server-sent
//!   events, a download) is sent as it comes.
//! - **WebSocket**: not served yet; an upgrade will be one more branch of
//!   [`handle`] that does axum's handshake and calls the shared session
//!   loop (see [`baas_rest::family`]).
#![warn(missing_docs)]

use axum::Router;
use axum::body::{Body, HttpBody};
use axum::extract::{NestedPath, Request, State};
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::Response;
use baas_engine::Principal;
use baas_rest::{RestRequest, RestResponse, Service};

/// A router that sends every request to `service`. Nest it under a prefix
/// (`Router::nest("/api", router(service))`) or use it as the whole app.
pub fn router(service: Service) -> Router {
    Router::new().fallback(handle).with_state(service)
}

/// The handler behind [`router`], for applications that route themselves
/// (`.route("/db/{*rest}", any(baas_axum::handle))` with a `Service` state).
pub async fn handle(State(service): State<Service>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let rest_req = RestRequest {
        method: parts.method.as_str().to_string(),
        path: parts.uri.path().to_string(),
        mount: parts
            .extensions
            .get::<NestedPath>()
            .map(|n| n.as_str().trim_end_matches('/').to_string())
            .unwrap_or_default(),
        query: parts.uri.query().unwrap_or_default().to_string(),
        headers: parts
            .headers
            .iter()
            .filter_map(|(k, v)| Some((k.as_str().to_string(), v.to_str().ok()?.to_string())))
            .collect(),
        body: into_rest_body(body),
    };
    let resp = match parts.extensions.get::<Principal>() {
        Some(p) => service.handle_as(rest_req, p).await,
        None => service.handle(rest_req).await,
    };
    into_response(resp)
}

/// An axum body as a [`baas_rest::Body`]: a stream read as it arrives (an
/// empty body stays empty, with nothing to read).
pub fn into_rest_body(body: Body) -> baas_rest::Body {
    if body.is_end_stream() {
        baas_rest::Body::empty()
    } else {
        baas_rest::Body::from_stream(body.into_data_stream())
    }
}

/// Convert a [`RestResponse`] into an axum response; a streamed body is
/// sent as it comes, never buffered.
pub fn into_response(r: RestResponse) -> Response {
    let body = match r.body {
        baas_rest::Body::Full(b) => Body::from(b),
        s @ baas_rest::Body::Stream(_) => Body::from_stream(s.into_stream()),
    };
    let mut resp = Response::new(body);
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
