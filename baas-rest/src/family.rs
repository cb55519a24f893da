//! Route families: the seam through which other crates (auth, storage,
//! realtime, functions) serve `/{tenant}/{name}/v1/…` without editing the
//! router.
//!
//! A family implements [`RouteFamily`] and is registered on the service
//! under its name ([`Service::with_family`](crate::Service::with_family)).
//! The service routes (the `x-tenant-id` header counts as for every route),
//! finds the tenant (a missing tenant gets the same uniform 404 as a
//! missing entity, before the family runs), and hands the family a
//! [`FamilyRequest`]: the engine, the tenant runtime, the caller, the path
//! after the family prefix and the request with its body **still
//! streaming**. The family reads the body chunk by chunk (an upload never
//! sits whole in memory; bound it with limits of its own) and answers a
//! [`RestResponse`] whose body may itself be a stream (a download, an SSE
//! feed); the integration crates send it as it comes.
//!
//! What the service still does for a family's answer: an error becomes its
//! JSON body, a 405 gets no automatic `Allow` (the family sets it), a 413
//! closes the connection, and a `Location` starting with `/` is taken as
//! relative to the family root and made absolute
//! ([`family_root`](crate::route::family_root)).
//!
//! A family name reserved in [`RESERVED_FAMILIES`](crate::route::RESERVED_FAMILIES)
//! and not registered answers the uniform 404.
//!
//! ## WebSocket (where it plugs in)
//!
//! A WebSocket upgrade (`GET /{tenant}/realtime/v1/websocket` with
//! `Upgrade: websocket`) cannot be answered as a [`RestResponse`]: it takes
//! the connection over. It is not implemented yet; its seam is this one. The
//! realtime crate provides one shared session loop, generic over the
//! framework (an `async fn session(FamilyRequest, incoming: impl
//! Stream<Item = Message>, outgoing: impl Sink<Message>)`), and each
//! integration crate does only what is framework-specific: it resolves the
//! request with [`Service::prepare`](crate::Service::prepare) (same routing,
//! same uniform 404, same tenant), performs its framework's handshake
//! (axum's `WebSocketUpgrade`, actix's `actix-ws`), adapts the socket to
//! the two message streams and calls the shared loop. Frames, limits,
//! heartbeats and authorization then live once, in the loop.

use std::sync::Arc;

use baas_engine::{Baas, Principal, Tenant};

use crate::{RestError, RestRequest, RestResponse};

/// A request for a route family.
#[derive(Debug, Clone)]
pub struct FamilyRequest {
    /// The engine.
    pub baas: Arc<Baas>,
    /// The tenant the path (or `x-tenant-id`) named; it exists.
    pub tenant: Arc<Tenant>,
    /// Who is calling (as the integration authenticated them).
    pub principal: Principal,
    /// The path after `/{tenant}/{name}/v1`, still percent-encoded: empty
    /// or starting with `/` (e.g. `/object/avatars/a.png`).
    pub path: String,
    /// The public URL path of the family root, `{mount}/{tenant}/{name}/v1`
    /// (for links the family builds itself).
    pub root: String,
    /// The request: method, query, headers, and the body as a stream
    /// (`request.path` is the whole path as received).
    pub request: RestRequest,
}

/// A family of routes under `/{tenant}/{name}/v1`, served by another crate.
///
/// # Contract
///
/// - Answer every method and path under the prefix, including the 404 and
///   405 (with `Allow`) of paths the family does not serve.
/// - Read the request body as a stream, within a size limit of the
///   family's own; answer without reading it when it is not needed.
/// - Errors are [`RestError`]s: a 5xx only when the server or the database
///   fails.
///
/// # Implementing
///
/// ```
/// use baas_rest::{FamilyRequest, RestError, RestResponse, RouteFamily};
///
/// /// `GET /{tenant}/hello/v1/` → `{"tenant": …}`.
/// struct Hello;
///
/// #[async_trait::async_trait]
/// impl RouteFamily for Hello {
///     async fn handle(&self, req: FamilyRequest) -> Result<RestResponse, RestError> {
///         match (req.request.method.as_str(), req.path.as_str()) {
///             ("GET", "" | "/") => Ok(RestResponse::new(
///                 200,
///                 vec![("content-type".into(), "application/json".into())],
///                 serde_json::json!({"tenant": req.tenant.id()}).to_string(),
///             )),
///             _ => Err(RestError::not_found("no such route")),
///         }
///     }
/// }
/// ```
#[async_trait::async_trait]
pub trait RouteFamily: Send + Sync {
    /// Answer one request.
    async fn handle(&self, req: FamilyRequest) -> Result<RestResponse, RestError>;
}
