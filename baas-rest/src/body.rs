//! Request and response bodies: whole bytes, or a stream of chunks.
//!
//! A [`Body`] is either [`Body::Full`] (the bytes are in memory) or a
//! stream of [`Bytes`] chunks that is read as it arrives. Integration crates
//! hand the service their framework's body as a stream, untouched; what
//! happens to it depends on the route family:
//!
//! - the entity, document and admin routes read it into memory with
//!   [`Body::collect`] under [`RestLimits::max_body_bytes`](crate::RestLimits::max_body_bytes),
//!   in one place, the [`Service`](crate::Service); beyond the limit the
//!   answer is [`payload_too_large`], the only place a 413 is built;
//! - a [`RouteFamily`](crate::RouteFamily) (uploads, an SSE feed) gets the
//!   stream as it is and reads it chunk by chunk, with limits of its own.
//!
//! A response body is also either whole bytes or a stream (server-sent
//! events, a download): the integration crates pass a stream on to their
//! framework without buffering it.
//!
//! A stream is read once. Cloning a [`Body::Stream`] shares the one stream:
//! the copy that is read first takes it, the others read an error.

use std::pin::Pin;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use futures::{Stream, StreamExt};

use crate::RestError;

/// The error a body stream yields (a broken connection, a timeout).
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// A boxed stream of body chunks.
pub type ByteStream = Pin<Box<dyn Stream<Item = Result<Bytes, BoxError>> + Send>>;

/// A request or response body.
#[derive(Clone)]
pub enum Body {
    /// Bytes already in memory (empty for no body).
    Full(Bytes),
    /// Chunks read as they come (see [`Body::from_stream`]).
    Stream(SharedStream),
}

/// A stream behind a shared handle, so that a [`Body`] can be cloned: the
/// first reader takes the stream.
#[derive(Clone)]
pub struct SharedStream(Arc<Mutex<Option<ByteStream>>>);

impl SharedStream {
    fn take(&self) -> Option<ByteStream> {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take()
    }
}

impl Default for Body {
    fn default() -> Self {
        Self::Full(Bytes::new())
    }
}

impl std::fmt::Debug for Body {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Full(b) => f.debug_tuple("Full").field(b).finish(),
            Self::Stream(_) => f.write_str("Stream"),
        }
    }
}

impl PartialEq for Body {
    /// Whole bodies compare their bytes; streams are equal only to a clone
    /// of themselves (they cannot be read to compare).
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Self::Full(a), Self::Full(b)) => a == b,
            (Self::Stream(a), Self::Stream(b)) => Arc::ptr_eq(&a.0, &b.0),
            _ => false,
        }
    }
}

impl Eq for Body {}

impl Body {
    /// No body.
    pub fn empty() -> Self {
        Self::default()
    }

    /// A body read from `stream` as it yields chunks.
    pub fn from_stream<S, E>(stream: S) -> Self
    where
        S: Stream<Item = Result<Bytes, E>> + Send + 'static,
        E: Into<BoxError>,
    {
        let stream: ByteStream = Box::pin(stream.map(|r| r.map_err(Into::into)));
        Self::Stream(SharedStream(Arc::new(Mutex::new(Some(stream)))))
    }

    /// The bytes of a whole body (`None` for a stream).
    pub fn as_bytes(&self) -> Option<&Bytes> {
        match self {
            Self::Full(b) => Some(b),
            Self::Stream(_) => None,
        }
    }

    /// The bytes of a whole body; a stream gives an empty slice (read it
    /// with [`Body::collect`] first).
    pub fn bytes(&self) -> &[u8] {
        self.as_bytes().map_or(&[], |b| b.as_ref())
    }

    /// Whether this is a whole body with no bytes (a stream is not known
    /// to be empty until it is read).
    pub fn is_empty(&self) -> bool {
        self.as_bytes().is_some_and(Bytes::is_empty)
    }

    /// Whether the body is a stream.
    pub fn is_stream(&self) -> bool {
        matches!(self, Self::Stream(_))
    }

    /// The body as a stream of chunks (a whole body is one chunk; an empty
    /// one none). A stream already taken by a clone yields one error.
    pub fn into_stream(self) -> ByteStream {
        match self {
            Self::Full(b) if b.is_empty() => Box::pin(futures::stream::empty()),
            Self::Full(b) => Box::pin(futures::stream::once(async move { Ok(b) })),
            Self::Stream(s) => s.take().unwrap_or_else(|| {
                Box::pin(futures::stream::once(async {
                    Err::<Bytes, BoxError>("the body stream was already read".into())
                }))
            }),
        }
    }

    /// Read the whole body into memory, refusing it as soon as it has more
    /// than `limit` bytes ([`payload_too_large`]); a stream that fails (a
    /// broken connection, a timeout at the edge) is a 400. At most `limit`
    /// bytes (plus the chunk that crossed it) are ever held.
    pub async fn collect(self, limit: usize) -> Result<Bytes, RestError> {
        let mut stream = match self {
            Self::Full(b) if b.len() > limit => return Err(payload_too_large(limit)),
            Self::Full(b) => return Ok(b),
            s @ Self::Stream(_) => s.into_stream(),
        };
        let mut first: Option<Bytes> = None;
        let mut buf: Vec<u8> = Vec::new();
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(|e| {
                RestError::bad_request(format!("the request body could not be read: {e}"))
            })?;
            let held = first.as_ref().map_or(0, Bytes::len) + buf.len();
            if held + chunk.len() > limit {
                return Err(payload_too_large(limit));
            }
            // One chunk is kept as it is (no copy); several are joined.
            match first.take() {
                None if buf.is_empty() => first = Some(chunk),
                None => buf.extend_from_slice(&chunk),
                Some(f) => {
                    buf.reserve(f.len() + chunk.len());
                    buf.extend_from_slice(&f);
                    buf.extend_from_slice(&chunk);
                }
            }
        }
        Ok(first.unwrap_or_else(|| Bytes::from(buf)))
    }
}

impl From<Bytes> for Body {
    fn from(b: Bytes) -> Self {
        Self::Full(b)
    }
}

impl From<Vec<u8>> for Body {
    fn from(b: Vec<u8>) -> Self {
        Self::Full(b.into())
    }
}

impl From<String> for Body {
    fn from(s: String) -> Self {
        Self::Full(s.into())
    }
}

impl From<&str> for Body {
    fn from(s: &str) -> Self {
        Self::Full(Bytes::copy_from_slice(s.as_bytes()))
    }
}

impl From<&[u8]> for Body {
    fn from(b: &[u8]) -> Self {
        Self::Full(Bytes::copy_from_slice(b))
    }
}

impl<const N: usize> From<&[u8; N]> for Body {
    fn from(b: &[u8; N]) -> Self {
        Self::Full(Bytes::copy_from_slice(b))
    }
}

/// The 413 error: a body over `limit` bytes. Built here only (the service
/// adds `Connection: close` to its answer: the rest of the body is not
/// read).
pub fn payload_too_large(limit: usize) -> RestError {
    RestError::new(
        413,
        "payload_too_large",
        format!("the body is larger than the limit of {limit} bytes"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chunks(parts: &[&'static str]) -> Body {
        let items: Vec<Result<Bytes, BoxError>> = parts
            .iter()
            .map(|p| Ok(Bytes::from_static(p.as_bytes())))
            .collect();
        Body::from_stream(futures::stream::iter(items))
    }

    #[tokio::test]
    async fn collect_joins_and_bounds() {
        assert_eq!(
            chunks(&["ab", "cd", "e"]).collect(5).await.ok(),
            Some(Bytes::from_static(b"abcde"))
        );
        assert_eq!(
            chunks(&["abc"]).collect(3).await.ok(),
            Some(Bytes::from_static(b"abc"))
        );
        let e = chunks(&["ab", "cd", "ef"])
            .collect(5)
            .await
            .expect_err("413");
        assert_eq!((e.status, e.code.as_str()), (413, "payload_too_large"));
        let e = Body::from("123456").collect(5).await.expect_err("413");
        assert_eq!(e, payload_too_large(5));
        assert_eq!(chunks(&[]).collect(0).await.ok(), Some(Bytes::new()));
        let failing = Body::from_stream(futures::stream::iter(vec![
            Ok(Bytes::from_static(b"a")),
            Err(BoxError::from("connection reset")),
        ]));
        let e = failing.collect(10).await.expect_err("400");
        assert_eq!(e.status, 400);
        assert!(e.message.contains("connection reset"), "{e:?}");
    }

    #[tokio::test]
    async fn a_stream_is_read_once() {
        let a = chunks(&["x"]);
        let b = a.clone();
        assert_eq!(a, b);
        assert_ne!(a, chunks(&["x"]));
        assert_eq!(a.collect(10).await.ok(), Some(Bytes::from_static(b"x")));
        assert_eq!(b.collect(10).await.map_err(|e| e.status), Err(400));
        assert!(Body::empty().is_empty() && !chunks(&[]).is_empty());
    }
}
