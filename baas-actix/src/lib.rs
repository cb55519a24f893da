//! # baas-actix
//!
//! Mount mini-baas in an [actix-web](https://docs.rs/actix-web) application.
//! [`scope`] returns an [`actix_web::Scope`] whose every method and sub-path
//! goes to one handler: the actix request becomes a
//! [`baas_rest::RestRequest`], the framework-free [`baas_rest::Service`]
//! answers it, and the [`baas_rest::RestResponse`] becomes an
//! [`HttpResponse`]. The host application keeps its own routes and
//! middleware next to it.
//!
//! ```no_run
//! use std::sync::Arc;
//!
//! use actix_web::{App, HttpServer, web};
//! use baas_engine::{Baas, MemoryStore, TenantConfig, TenantMode};
//! use baas_rest::Service;
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let baas = Baas::builder(Arc::new(MemoryStore::new()), Arc::new(mini_baas::UrlConnector)).build();
//! baas.register_tenant(
//!     TenantConfig::new("acme", "sqlite://app.db", TenantMode::Introspected),
//!     None,
//! )
//! .await?;
//! let service = Service::new(Arc::new(baas));
//!
//! HttpServer::new(move || {
//!     App::new()
//!         .route("/health", web::get().to(|| async { "ok" })) // the host's own routes
//!         .service(baas_actix::scope("/api", service.clone())) // GET /api/acme/{table}?…
//! })
//! .bind(("127.0.0.1", 8080))?
//! .run()
//! .await?;
//! # Ok(())
//! # }
//! ```
//!
//! What the handler does:
//!
//! - **Path**: the service sees the path after the mount point, exactly as
//!   the client sent it (still percent-encoded), so `/api/acme/tag/a%2Cb`
//!   is `/acme/tag/a%2Cb` — one key containing a comma. (actix's own
//!   [`match_info`](HttpRequest::match_info) path has `%2C` already decoded,
//!   which would split it into a composite key; it is not used.) The query
//!   string is passed raw.
//! - **Body**: the raw [`web::Payload`] is handed to the service as a
//!   stream, unread (actix's payload lives on its worker thread, so a local
//!   task forwards its chunks through a one-chunk channel: the service sees
//!   each chunk as it arrives, and at most one waits in between). The
//!   service reads entity and admin bodies under its own
//!   [`RestLimits::max_body_bytes`](baas_rest::RestLimits::max_body_bytes)
//!   (1 MiB by default) and answers its JSON 413
//!   (`{"code":"payload_too_large",…}`, the connection closed); a
//!   [route family](baas_rest::RouteFamily) reads its uploads chunk by
//!   chunk. actix's `PayloadConfig` / `JsonConfig` limits do not apply. A
//!   `Content-Encoding` body is passed on undecoded (this crate builds
//!   actix-web without its compression features).
//! - **Responses**: a streamed body (server-sent events, a download) is
//!   sent as it comes ([`HttpResponseBuilder::streaming`](actix_web::HttpResponseBuilder::streaming)).
//! - **Who is calling**: when the host application put a
//!   [`Principal`] into the request extensions (typically from its own
//!   authentication middleware, `req.extensions_mut().insert(principal)`),
//!   the service acts on its behalf ([`Service::handle_as`]); otherwise the
//!   caller is anonymous ([`Service::handle`]).
//! - **Mount**: the part of the raw path the enclosing scopes matched is
//!   handed to the service ([`RestRequest::mount`]), which makes `Location`
//!   (on `POST` with `Prefer: return=headers-only`) absolute with it, so the
//!   client receives `/api/acme/note/3` (or `/api/acme/rest/v1/note/3`
//!   through the alias). The tenant segment is there even when the tenant
//!   came from the `x-tenant-id` header: such a path is accepted with or
//!   without the header.
//! - **WebSocket**: not served yet; an upgrade will be one more branch of
//!   [`handle`] that does actix's handshake and calls the shared session
//!   loop (see [`baas_rest::family`]).
//!
//! [`actix_web`] itself is re-exported, so an application can use the
//! version this crate was built against.
#![warn(missing_docs)]

use actix_web::http::StatusCode;
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::{HttpMessage, HttpRequest, HttpResponse, web};
use baas_engine::Principal;
use baas_rest::{BoxError, RestRequest, RestResponse};
use futures::{FutureExt, StreamExt};

/// The actix-web this crate is built against (4.x, default features off:
/// no compression codecs, cookies or HTTP/2 unless the application enables
/// them on its own `actix-web` dependency).
pub use actix_web;
/// The service [`scope`] mounts, and its limits (re-exported so that an
/// application depending on `mini-baas` alone can build one).
pub use baas_rest::{RestLimits, Service};

/// A scope mounted at `path` (e.g. `"/api"`) that sends every method and
/// every sub-path to `service` through [`handle`]. Register it with
/// [`App::service`](actix_web::App::service); like any scope it can be
/// wrapped in middleware or nested in another scope.
pub fn scope(path: &str, service: Service) -> actix_web::Scope {
    web::scope(path)
        .app_data(web::Data::new(service))
        .default_service(web::to(handle))
}

/// The handler behind [`scope`]: convert, call the service, convert back.
///
/// For applications that build the scope themselves: use it as the
/// [`default_service`](actix_web::Scope::default_service) of a scope that
/// has a `web::Data<Service>` in its app data. The path handed to the
/// service is what follows the part of the URL the enclosing scopes
/// matched; a `Data<Service>` missing from the app data is actix's 500.
pub async fn handle(
    req: HttpRequest,
    payload: web::Payload,
    service: web::Data<Service>,
) -> HttpResponse {
    let (mount, path) = split_path(&req);
    let rest = RestRequest {
        method: req.method().as_str().to_string(),
        path: if path.starts_with('/') {
            path.to_string()
        } else {
            format!("/{path}")
        },
        mount: mount.to_string(),
        query: req.query_string().to_string(),
        headers: req
            .headers()
            .iter()
            .filter_map(|(k, v)| {
                let v = std::str::from_utf8(v.as_bytes()).ok()?;
                Some((k.as_str().to_string(), v.to_string()))
            })
            .collect(),
        body: into_rest_body(payload),
    };
    let principal = req.extensions().get::<Principal>().cloned();
    let resp = match principal {
        Some(p) => service.handle_as(rest, &p).await,
        None => service.handle(rest).await,
    };
    into_response(resp)
}

/// The request body as a [`baas_rest::Body`] stream. actix's payload is
/// tied to its worker thread (not `Send`): a local task forwards its
/// chunks through a channel of one, so a chunk is read from the socket
/// only when the previous one was taken. The task stops when the body ends
/// or the reader drops it. A payload that is already at its end (no body)
/// is empty, with no task.
pub fn into_rest_body(payload: web::Payload) -> baas_rest::Body {
    let mut payload = payload;
    let first = match payload.next().now_or_never() {
        Some(None) => return baas_rest::Body::empty(),
        Some(Some(chunk)) => Some(chunk),
        None => None,
    };
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<web::Bytes, BoxError>>(1);
    actix_web::rt::spawn(async move {
        let chunks = futures::stream::iter(first).chain(payload);
        futures::pin_mut!(chunks);
        while let Some(chunk) = chunks.next().await {
            let chunk = chunk.map_err(|e| BoxError::from(e.to_string()));
            let failed = chunk.is_err();
            if tx.send(chunk).await.is_err() || failed {
                break;
            }
        }
    });
    baas_rest::Body::from_stream(futures::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|chunk| (chunk, rx))
    }))
}

/// Convert a [`RestResponse`] into an actix [`HttpResponse`] (status,
/// headers, body; a streamed body is sent as it comes). An out-of-range
/// status becomes 500; a header whose name or value is not valid HTTP is
/// dropped; `Connection: close` closes the connection after the answer.
pub fn into_response(r: RestResponse) -> HttpResponse {
    let status = StatusCode::from_u16(r.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut builder = HttpResponse::build(status);
    for (name, value) in r.headers {
        if name.eq_ignore_ascii_case("connection") {
            // actix writes this header itself, from the connection type.
            if value.eq_ignore_ascii_case("close") {
                builder.force_close();
            }
            continue;
        }
        if let (Ok(n), Ok(v)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(&value),
        ) {
            builder.append_header((n, v));
        }
    }
    match r.body {
        baas_rest::Body::Full(b) => builder.body(b),
        s @ baas_rest::Body::Stream(_) => builder.streaming(
            s.into_stream()
                .map(|chunk| chunk.map_err(|e| -> Box<dyn std::error::Error> { e })),
        ),
    }
}

/// Split the raw (percent-encoded) request path into the part the enclosing
/// scopes matched (without a trailing `/`) and the rest (made to start with
/// `/` by the caller).
fn split_path(req: &HttpRequest) -> (&str, &str) {
    let info = req.match_info();
    let at = raw_split(req.path(), info.as_str(), info.unprocessed());
    let (mount, rest) = req.path().split_at(at);
    (mount.strip_suffix('/').unwrap_or(mount), rest)
}

/// Where, in the raw path, the unprocessed part starts. actix matches on a
/// partially decoded copy of the path (`requoted`) in which `%2F` stays
/// encoded, so both paths have the same `/` separators: count the slashes
/// the scopes consumed and find the same point in the raw path.
fn raw_split(raw: &str, requoted: &str, unprocessed: &str) -> usize {
    let consumed = &requoted[..requoted.len().saturating_sub(unprocessed.len())];
    let slashes = consumed.matches('/').count();
    let mut positions = raw.match_indices('/').map(|(i, _)| i);
    if consumed.ends_with('/') {
        // The scope consumed a trailing slash ("/api/"): the rest starts after it.
        slashes
            .checked_sub(1)
            .and_then(|n| positions.nth(n))
            .map_or(0, |i| i + 1)
    } else {
        // The rest starts at the next slash, or is empty.
        positions.nth(slashes).unwrap_or(raw.len())
    }
}

#[cfg(test)]
mod tests {
    use super::raw_split;

    fn rest<'a>(raw: &'a str, requoted: &str, unprocessed: &str) -> &'a str {
        &raw[raw_split(raw, requoted, unprocessed)..]
    }

    #[test]
    fn split_keeps_the_raw_encoding() {
        // %2C was decoded by actix in its copy, not in ours.
        assert_eq!(
            rest("/api/acme/tag/a%2Cb", "/api/acme/tag/a,b", "/acme/tag/a,b"),
            "/acme/tag/a%2Cb"
        );
        // Encoded characters inside the mount itself.
        assert_eq!(
            rest("/v%31/api/acme/x", "/v1/api/acme/x", "/acme/x"),
            "/acme/x"
        );
        // %2F is never decoded, so it never counts as a separator.
        assert_eq!(rest("/api/a%2Fb/x", "/api/a%2Fb/x", "/a%2Fb/x"), "/a%2Fb/x");
        // The mount itself, with or without a trailing slash.
        assert_eq!(rest("/api", "/api", ""), "");
        assert_eq!(rest("/api/", "/api/", "/"), "/");
        // A scope declared with a trailing slash consumes it.
        assert_eq!(rest("/api/acme/x", "/api/acme/x", "acme/x"), "acme/x");
        // Mounted at the root.
        assert_eq!(rest("/acme/x", "/acme/x", "/acme/x"), "/acme/x");
    }
}
