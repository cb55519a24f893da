//! A route family for the HTTP edge tests of every integration (the
//! service, axum, actix, the server's own accept loop): [`SseEcho`] reads
//! the request body chunk by chunk and answers one server-sent event per
//! chunk as soon as the chunk arrived, so a client can see that the body
//! reaches the family incrementally (it waits for the event of its first
//! chunk before it sends the rest) and that the answer streams.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

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
