//! What the HTTP edge tests of every integration (the service, axum,
//! actix, the server's own accept loop) share:
//!
//! - [`SseEcho`], a route family that reads the request body chunk by chunk
//!   and answers one server-sent event per chunk as soon as the chunk
//!   arrived, so a client can see that the body reaches the family
//!   incrementally (it waits for the event of its first chunk before it
//!   sends the rest) and that the answer streams;
//! - [`AnyIdStore`], an in-memory metadata store that takes tenant ids the
//!   engine's own stores refuse (`café x`), as a store shared with another
//!   system might hold them: the URL-building code must encode them.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use baas_core::{Result, SchemaMetadata};
use baas_engine::{MetadataStore, TenantConfig, Versioned};

use baas_rest::{Body, FamilyRequest, RestError, RestResponse, RouteFamily};
use bytes::Bytes;
use futures::StreamExt;

/// `POST /{tenant}/{name}/v1/…` → `text/event-stream`:
///
/// ```text
/// event: start
/// data: {tenant} {path} {root}
///
/// data: {n} {chunk bytes} {bytes so far}     (one per body chunk, n from 1)
///
/// event: end
/// data: {total bytes}
/// ```
///
/// A body that fails mid-way (a timeout at the edge) ends the answer with
/// that error. Other methods: 405 with `Allow: POST`. It holds one chunk
/// at a time; [`SseEcho::largest_chunk`] is the largest it saw.
#[derive(Debug, Default, Clone)]
pub struct SseEcho {
    largest: Arc<AtomicUsize>,
}

impl SseEcho {
    /// A new family (share it with `Arc` to read [`SseEcho::largest_chunk`]).
    pub fn new() -> Self {
        Self::default()
    }

    /// The largest body chunk seen so far, in bytes.
    pub fn largest_chunk(&self) -> usize {
        self.largest.load(Ordering::Relaxed)
    }
}

#[async_trait::async_trait]
impl RouteFamily for SseEcho {
    async fn handle(&self, req: FamilyRequest) -> Result<RestResponse, RestError> {
        if !req.request.method.eq_ignore_ascii_case("POST") {
            let mut r = RestError::method_not_allowed(&req.request.method).to_response();
            r.headers.push(("allow".into(), "POST".into()));
            return Ok(r);
        }
        let start = format!(
            "event: start\ndata: {} {} {}\n\n",
            req.tenant.id(),
            req.path,
            req.root
        );
        let largest = self.largest.clone();
        let state = (req.request.body.into_stream(), 0usize, 0usize, false);
        let events = futures::stream::unfold(state, move |(mut body, n, total, ended)| {
            let largest = largest.clone();
            async move {
                if ended {
                    return None;
                }
                match body.next().await {
                    Some(Ok(chunk)) => {
                        largest.fetch_max(chunk.len(), Ordering::Relaxed);
                        let (n, total) = (n + 1, total + chunk.len());
                        let event = format!("data: {n} {} {total}\n\n", chunk.len());
                        Some((Ok(Bytes::from(event)), (body, n, total, false)))
                    }
                    Some(Err(e)) => Some((Err(e), (body, n, total, true))),
                    None => {
                        let event = format!("event: end\ndata: {total}\n\n");
                        Some((Ok(Bytes::from(event)), (body, n, total, true)))
                    }
                }
            }
        });
        let stream = futures::stream::once(async move { Ok(Bytes::from(start)) }).chain(events);
        Ok(RestResponse::new(
            200,
            vec![
                ("content-type".into(), "text/event-stream".into()),
                ("cache-control".into(), "no-cache".into()),
            ],
            Body::from_stream(stream),
        ))
    }
}

/// The `data:` lines of the events in `text` received so far, in order.
pub fn sse_data(text: &str) -> Vec<String> {
    text.lines()
        .filter_map(|l| l.strip_prefix("data: "))
        .map(str::to_string)
        .collect()
}

/// Tenants and metadata in memory, any tenant id accepted (no
/// [`TenantConfig::check`]); versions as in the engine's stores.
#[derive(Debug, Default)]
pub struct AnyIdStore {
    tenants: Mutex<HashMap<String, TenantConfig>>,
    schemas: Mutex<HashMap<String, Versioned<SchemaMetadata>>>,
}

#[async_trait::async_trait]
impl MetadataStore for AnyIdStore {
    async fn tenants(&self) -> Result<Vec<TenantConfig>> {
        Ok(lock(&self.tenants).values().cloned().collect())
    }

    async fn tenant(&self, id: &str) -> Result<Option<TenantConfig>> {
        Ok(lock(&self.tenants).get(id).cloned())
    }

    async fn put_tenant(&self, tenant: &TenantConfig) -> Result<()> {
        lock(&self.tenants).insert(tenant.id.clone(), tenant.clone());
        Ok(())
    }

    async fn schema(&self, tenant: &str) -> Result<Option<Versioned<SchemaMetadata>>> {
        Ok(lock(&self.schemas).get(tenant).cloned())
    }

    async fn put_schema(
        &self,
        tenant: &str,
        schema: &SchemaMetadata,
        base: Option<u64>,
    ) -> Result<u64> {
        let mut schemas = lock(&self.schemas);
        let latest = schemas.get(tenant).map(|v| v.version);
        if latest != base {
            return Err(baas_core::Error::Conflict {
                kind: baas_core::ConflictKind::Other,
                message: format!("the metadata of tenant `{tenant}` changed concurrently"),
                constraint: None,
            });
        }
        let version = latest.unwrap_or(0) + 1;
        schemas.insert(
            tenant.to_string(),
            Versioned {
                version,
                value: schema.clone(),
            },
        );
        Ok(version)
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}
