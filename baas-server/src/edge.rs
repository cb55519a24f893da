//! The HTTP edge of the ready server: its own accept loop on hyper (HTTP/1.1)
//! instead of `axum::serve`, so that a client cannot hold a connection or a
//! request forever, plus the per-request checks that need the peer address.
//!
//! Per connection:
//! - **header timeout**: from the first byte of a request head to its last
//!   (for a connection's first request: from the connect); a head still
//!   incomplete after it (slowloris) closes the connection;
//! - **idle timeout**: a keep-alive connection with no request in flight
//!   and no byte received closes after it, and so does one whose client
//!   stops reading its response (no write progress for that long);
//! - **connection limit**: at most `max_connections` are served at once;
//!   beyond it a new connection is accepted and closed at once (no response,
//!   nothing queued), so excess clients fail fast instead of filling the
//!   kernel's backlog or the file-descriptor table.
//!
//! Per request:
//! - **body timeout**: the whole body must arrive within it, counted from
//!   the end of the head. The body is not read here: it is passed on as a
//!   stream (an upload reaches its route family chunk by chunk, and the
//!   size limit of entity bodies, with its 413, is the REST service's); a
//!   stream still unfinished at the deadline fails, the answer is then a
//!   408 JSON error and the connection closes;
//! - **forwarded headers** (`Forwarded`, `X-Forwarded-*`, `X-Real-IP`) are
//!   removed unless the peer is a trusted proxy;
//! - **CORS** (off unless origins are configured): preflights answered 204,
//!   allowed origins get the `Access-Control-*` headers.
//!
//! Shutdown: on the signal the listener closes, idle connections close,
//! busy ones finish their request; whatever is left after the shutdown
//! deadline is dropped.

use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::pin::{Pin, pin};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, Method, Request, Response, StatusCode, header};
use http_body_util::BodyExt;
use hyper::body::{Bytes, Frame, Incoming, SizeHint};
use hyper_util::rt::TokioIo;
use mini_baas::rest::RestError;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::{Notify, Semaphore, watch};
use tokio::time::Instant;
use tower::ServiceExt;

/// The edge settings (resolved from flags, environment and file).
#[derive(Debug, Clone)]
pub struct EdgeConfig {
    /// Longest time to receive a request head, from its first byte (`None`: no limit).
    pub header_timeout: Option<Duration>,
    /// Longest time to receive a whole request body (`None`: no limit).
    pub body_timeout: Option<Duration>,
    /// Longest time a keep-alive connection may stay without a request (`None`: no limit).
    pub idle_timeout: Option<Duration>,
    /// Most connections served at once.
    pub max_connections: usize,
    /// Longest wait for in-flight requests after the shutdown signal.
    pub shutdown_timeout: Duration,
    /// Peers whose forwarded headers are believed.
    pub trusted_proxies: Vec<IpNet>,
    /// CORS, when enabled.
    pub cors: Option<Cors>,
}

// ------------------------------------------------------------ trusted proxies

/// An address or a CIDR block (`10.0.0.0/8`, `::1`, `fd00::/8`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IpNet {
    addr: IpAddr,
    prefix: u8,
}

impl IpNet {
    /// Parse `a.b.c.d`, `a.b.c.d/n`, an IPv6 address or `addr/n`.
    pub fn parse(s: &str) -> Result<Self, String> {
        let s = s.trim();
        let (addr, prefix) = match s.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s, None),
        };
        let addr: IpAddr = addr
            .parse()
            .map_err(|_| format!("`{s}` is not an IP address or CIDR block"))?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            Some(p) => p
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= max)
                .ok_or_else(|| format!("`{s}`: the prefix length must be 0-{max}"))?,
            None => max,
        };
        Ok(Self { addr, prefix })
    }

    /// Whether `ip` is in the block (an IPv4-mapped IPv6 address counts as
    /// its IPv4 address).
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
            v4 => v4,
        };
        let (a, b, bits) = match (self.addr, ip) {
            (IpAddr::V4(a), IpAddr::V4(b)) => (
                u128::from(u32::from(a)) << 96,
                u128::from(u32::from(b)) << 96,
                self.prefix,
            ),
            (IpAddr::V6(a), IpAddr::V6(b)) => (u128::from(a), u128::from(b), self.prefix),
            _ => return false,
        };
        if bits == 0 {
            return true;
        }
        let mask = u128::MAX << (128 - u32::from(bits));
        a & mask == b & mask
    }
}

/// Parse a comma-separated list of addresses / CIDR blocks.
pub fn parse_proxies(list: &str) -> Result<Vec<IpNet>, String> {
    list.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(IpNet::parse)
        .collect()
}

fn strip_forwarded(headers: &mut HeaderMap) {
    let names: Vec<_> = headers
        .keys()
        .filter(|k| {
            let k = k.as_str();
            k == "forwarded" || k == "x-real-ip" || k.starts_with("x-forwarded-")
        })
        .cloned()
        .collect();
    for n in names {
        headers.remove(n);
    }
}

// ---------------------------------------------------------------------- CORS

/// CORS settings (enabled when at least one origin is configured).
#[derive(Debug, Clone)]
pub struct Cors {
    /// Allowed origins; `None`: any (`*`).
    pub origins: Option<Vec<String>>,
    /// `Access-Control-Allow-Methods`.
    pub methods: String,
    /// `Access-Control-Allow-Headers`.
    pub headers: String,
    /// `Access-Control-Expose-Headers`.
    pub expose_headers: String,
    /// Whether `Access-Control-Allow-Credentials: true` is sent.
    pub credentials: bool,
    /// `Access-Control-Max-Age` of preflights, in seconds.
    pub max_age_secs: u64,
}

impl Cors {
    /// The value of `Access-Control-Allow-Origin` for `origin`, if allowed.
    fn allow_origin(&self, origin: &str) -> Option<String> {
        match &self.origins {
            // (`*` with credentials is refused when the settings are read.)
            None => Some("*".to_string()),
            Some(list) => list
                .iter()
                .any(|o| o.eq_ignore_ascii_case(origin))
                .then(|| origin.to_string()),
        }
    }

    fn decorate(&self, allow: &str, h: &mut HeaderMap, preflight: bool) {
        let mut put = |name: &'static str, v: &str| {
            if let Ok(v) = HeaderValue::from_str(v) {
                h.insert(name, v);
            }
        };
        put("access-control-allow-origin", allow);
        if self.credentials {
            put("access-control-allow-credentials", "true");
        }
        if preflight {
            put("access-control-allow-methods", &self.methods);
            put("access-control-allow-headers", &self.headers);
            put("access-control-max-age", &self.max_age_secs.to_string());
        } else if !self.expose_headers.is_empty() {
            put("access-control-expose-headers", &self.expose_headers);
        }
        if allow != "*" {
            // The answer depends on the Origin: caches must key on it.
            h.append(header::VARY, HeaderValue::from_static("origin"));
        }
    }
}

// ------------------------------------------------------------ connections

/// What a connection is doing, for its timers.
#[derive(Debug, Clone, Copy)]
enum Phase {
    /// A new connection, nothing received yet: its first request head must
    /// arrive within the header timeout (a socket opened only to hold a
    /// slot is closed as fast as a slowloris).
    New(Instant),
    /// No request in flight and no byte received since this instant.
    Idle(Instant),
    /// A request head started arriving at this instant.
    Head(Instant),
    /// This many requests in flight (their body timeout applies).
    Busy(usize),
}

#[derive(Debug)]
struct ConnState {
    phase: Mutex<Phase>,
    /// Since when the socket has refused to take more bytes (the client
    /// does not read its responses), if it does.
    write_blocked: Mutex<Option<Instant>>,
    changed: Notify,
}

impl ConnState {
    fn new() -> Self {
        Self {
            phase: Mutex::new(Phase::New(Instant::now())),
            write_blocked: Mutex::new(None),
            changed: Notify::new(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Phase> {
        self.phase
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Bytes were read from the socket.
    fn on_read(&self) {
        let mut p = self.lock();
        if let Phase::Idle(_) = *p {
            *p = Phase::Head(Instant::now());
            drop(p);
            self.changed.notify_one();
        } else if let Phase::New(since) = *p {
            // The head timer started at connect.
            *p = Phase::Head(since);
            drop(p);
            self.changed.notify_one();
        }
    }

    /// A request head was parsed: the request is in flight until its
    /// response body is dropped (written or abandoned).
    fn begin(self: &Arc<Self>) -> InFlight {
        let mut p = self.lock();
        *p = match *p {
            Phase::Busy(n) => Phase::Busy(n + 1),
            _ => Phase::Busy(1),
        };
        InFlight(self.clone())
    }

    /// A write to the socket made progress (`true`) or could not (`false`).
    fn on_write(&self, progressed: bool) {
        let mut w = self
            .write_blocked
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        match (progressed, w.is_some()) {
            (true, true) => *w = None,
            (false, false) => {
                *w = Some(Instant::now());
                drop(w);
                self.changed.notify_one();
            }
            _ => {}
        }
    }

    /// When the connection must close if nothing changes.
    fn deadline(&self, cfg: &EdgeConfig) -> Option<Instant> {
        // A client that stops reading its response (slow read) is cut off
        // after the idle timeout without progress.
        let blocked = *self
            .write_blocked
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let (Some(since), Some(t)) = (blocked, cfg.idle_timeout) {
            return Some(since + t);
        }
        match *self.lock() {
            Phase::New(since) => cfg.header_timeout.or(cfg.idle_timeout).map(|t| since + t),
            Phase::Idle(since) => cfg.idle_timeout.map(|t| since + t),
            Phase::Head(since) => cfg.header_timeout.map(|t| since + t),
            Phase::Busy(_) => None,
        }
    }
}

/// Held while a request is in flight.
struct InFlight(Arc<ConnState>);

impl Drop for InFlight {
    fn drop(&mut self) {
        let mut p = self.0.lock();
        *p = match *p {
            Phase::Busy(n) if n > 1 => Phase::Busy(n - 1),
            _ => Phase::Idle(Instant::now()),
        };
        drop(p);
        self.0.changed.notify_one();
    }
}

/// The socket, reporting reads to the connection's timers.
struct Tracked<S> {
    inner: S,
    state: Arc<ConnState>,
}

impl<S: AsyncRead + Unpin> AsyncRead for Tracked<S> {
    fn poll_read(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let r = std::pin::Pin::new(&mut self.inner).poll_read(cx, buf);
        if buf.filled().len() > before {
            self.state.on_read();
        }
        r
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Tracked<S> {
    fn poll_write(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        let r = std::pin::Pin::new(&mut self.inner).poll_write(cx, buf);
        self.state.on_write(r.is_ready());
        r
    }

    fn poll_flush(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> std::task::Poll<std::io::Result<usize>> {
        let r = std::pin::Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        self.state.on_write(r.is_ready());
        r
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}

/// Serve `router` on `listener` until `shutdown` completes, then drain for
/// at most the shutdown deadline.
pub async fn run(
    listener: tokio::net::TcpListener,
    router: Router,
    cfg: EdgeConfig,
    shutdown: impl Future<Output = ()>,
) {
    let cfg = Arc::new(cfg);
    let slots = Arc::new(Semaphore::new(cfg.max_connections));
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut shutdown = pin!(shutdown);
    let mut refused: u64 = 0;
    loop {
        let (stream, peer) = tokio::select! {
            () = &mut shutdown => break,
            r = listener.accept() => match r {
                Ok(c) => c,
                Err(e) => {
                    // Out of file descriptors and the like: back off a little
                    // instead of spinning.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let Ok(slot) = slots.clone().try_acquire_owned() else {
            refused += 1;
            if refused.is_power_of_two() {
                tracing::warn!(
                    %peer,
                    refused,
                    limit = cfg.max_connections,
                    "connection limit reached: closing new connections"
                );
            }
            drop(stream);
            continue;
        };
        let _ = stream.set_nodelay(true);
        let (router, cfg, stop) = (router.clone(), cfg.clone(), stop_rx.clone());
        tokio::spawn(async move {
            serve_connection(stream, peer, router, cfg, stop).await;
            drop(slot);
        });
    }
    drop(listener);
    let _ = stop_tx.send(true);
    let open = cfg.max_connections - slots.available_permits();
    if open > 0 {
        tracing::info!(
            open,
            deadline_secs = cfg.shutdown_timeout.as_secs_f64(),
            "waiting for open connections"
        );
    }
    let all = u32::try_from(cfg.max_connections).unwrap_or(u32::MAX);
    match tokio::time::timeout(cfg.shutdown_timeout, slots.acquire_many(all)).await {
        Ok(_) => tracing::info!("all connections closed"),
        Err(_) => tracing::warn!(
            dropped = cfg.max_connections - slots.available_permits(),
            "shutdown deadline passed: dropping the connections still open"
        ),
    }
}

async fn serve_connection(
    stream: tokio::net::TcpStream,
    peer: SocketAddr,
    router: Router,
    cfg: Arc<EdgeConfig>,
    mut stop: watch::Receiver<bool>,
) {
    let state = Arc::new(ConnState::new());
    let io = TokioIo::new(Tracked {
        inner: stream,
        state: state.clone(),
    });
    let trusted = cfg.trusted_proxies.iter().any(|n| n.contains(peer.ip()));
    let svc = {
        let (state, cfg) = (state.clone(), cfg.clone());
        hyper::service::service_fn(move |req: Request<Incoming>| {
            let in_flight = state.begin();
            let (router, cfg) = (router.clone(), cfg.clone());
            async move {
                let resp = handle(req, router, &cfg, trusted, peer).await;
                // The request stays in flight until its response is written.
                let resp = resp.map(|b| {
                    Body::new(b.map_frame(move |f| {
                        let _ = &in_flight;
                        f
                    }))
                });
                Ok::<_, std::convert::Infallible>(resp)
            }
        })
    };
    let conn = hyper::server::conn::http1::Builder::new()
        // The head timer is ours (it must not run while a keep-alive
        // connection waits for its next request: that is the idle timer).
        .header_read_timeout(None)
        .serve_connection(io, svc);
    let mut conn = pin!(conn);
    let mut stopping = *stop.borrow();
    if stopping {
        conn.as_mut().graceful_shutdown();
    }
    loop {
        let deadline = state.deadline(&cfg);
        let expired = async {
            match deadline {
                Some(d) => tokio::time::sleep_until(d).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            r = conn.as_mut() => {
                if let Err(e) = r {
                    tracing::debug!(%peer, error = %e, "connection ended with an error");
                }
                return;
            }
            () = expired => {
                if state.deadline(&cfg).is_some_and(|d| d <= Instant::now()) {
                    tracing::debug!(%peer, "connection timed out (idle, incomplete request head or unread response)");
                    return; // dropping the connection closes the socket
                }
            }
            () = state.changed.notified() => {}
            r = stop.changed(), if !stopping => {
                stopping = true;
                if r.is_ok() {
                    // Idle connections close now, busy ones after their request.
                    conn.as_mut().graceful_shutdown();
                }
            }
        }
    }
}

fn error_response(status: u16, code: &str, message: String) -> Response<Body> {
    baas_axum::into_response(RestError::new(status, code, message).to_response())
}

/// One request through the edge checks, then the router.
async fn handle(
    req: Request<Incoming>,
    router: Router,
    cfg: &EdgeConfig,
    trusted: bool,
    peer: SocketAddr,
) -> Response<Body> {
    let (mut parts, body) = req.into_parts();
    if !trusted {
        strip_forwarded(&mut parts.headers);
    }
    // The client's address for per-IP limits (sign-in attempts): the
    // peer's, unless a trusted proxy said whose request it forwards.
    if !parts.headers.contains_key("x-real-ip")
        && let Ok(v) = header::HeaderValue::from_str(&peer.ip().to_string())
    {
        parts.headers.insert("x-real-ip", v);
    }
    let cors = cfg.cors.as_ref().and_then(|c| {
        let origin = parts.headers.get(header::ORIGIN)?.to_str().ok()?;
        Some((c, c.allow_origin(origin)))
    });
    if let Some((c, allow)) = &cors
        && parts.method == Method::OPTIONS
        && parts
            .headers
            .contains_key(header::ACCESS_CONTROL_REQUEST_METHOD)
    {
        // A preflight: answered here, never by the API. A refused origin
        // gets no Access-Control-* header, which the browser enforces.
        let mut resp = Response::new(Body::empty());
        *resp.status_mut() = StatusCode::NO_CONTENT;
        if let Some(allow) = allow {
            c.decorate(allow, resp.headers_mut(), true);
        }
        return resp;
    }
    let (body, timed_out) = timed_body(body, cfg.body_timeout);
    let req = Request::from_parts(parts, body);
    let resp = match router.oneshot(req).await {
        Ok(r) => r,
        Err(never) => match never {},
    };
    if let (Some(flag), Some(t)) = (timed_out, cfg.body_timeout)
        && flag.load(Ordering::Relaxed)
    {
        // The body stream failed at its deadline before the answer was
        // made: whatever the route made of the failure, the answer is 408.
        let mut resp = error_response(
            408,
            "request_timeout",
            format!(
                "the request body did not arrive within {} s",
                t.as_secs_f64()
            ),
        );
        // The rest of the body will not be read: the connection closes.
        resp.headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
        return decorate(resp, cors);
    }
    decorate(resp, cors)
}

fn decorate(mut resp: Response<Body>, cors: Option<(&Cors, Option<String>)>) -> Response<Body> {
    if let Some((c, Some(allow))) = cors {
        c.decorate(&allow, resp.headers_mut(), false);
    }
    resp
}

/// The request body as a stream, unread, failing when it is still
/// unfinished `timeout` after the head (the flag then says so). An empty
/// body stays empty, with no timer.
fn timed_body(body: Incoming, timeout: Option<Duration>) -> (Body, Option<Arc<AtomicBool>>) {
    use hyper::body::Body as _;
    if body.is_end_stream() {
        return (Body::empty(), None);
    }
    let Some(t) = timeout else {
        return (Body::new(body), None);
    };
    let flag = Arc::new(AtomicBool::new(false));
    let timed = Timed {
        inner: body,
        deadline: Box::pin(tokio::time::sleep(t)),
        timeout: t,
        fired: flag.clone(),
    };
    (Body::new(timed), Some(flag))
}

/// A body that must end before its deadline.
struct Timed {
    inner: Incoming,
    deadline: Pin<Box<tokio::time::Sleep>>,
    timeout: Duration,
    fired: Arc<AtomicBool>,
}

impl hyper::body::Body for Timed {
    type Data = Bytes;
    type Error = Box<dyn std::error::Error + Send + Sync>;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        if self.fired.load(Ordering::Relaxed) {
            return Poll::Ready(None);
        }
        // What already arrived is handed over even past the deadline (a
        // slow reader is not the client's fault); waiting for more is not.
        match Pin::new(&mut self.inner).poll_frame(cx) {
            Poll::Ready(f) => Poll::Ready(f.map(|r| r.map_err(Into::into))),
            Poll::Pending => match self.deadline.as_mut().poll(cx) {
                Poll::Ready(()) => {
                    self.fired.store(true, Ordering::Relaxed);
                    let secs = self.timeout.as_secs_f64();
                    Poll::Ready(Some(Err(format!(
                        "the request body did not arrive within {secs} s"
                    )
                    .into())))
                }
                Poll::Pending => Poll::Pending,
            },
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cidr_blocks() {
        let n = IpNet::parse("10.0.0.0/8").unwrap();
        assert!(n.contains("10.1.2.3".parse().unwrap()));
        assert!(!n.contains("11.0.0.1".parse().unwrap()));
        assert!(n.contains("::ffff:10.9.9.9".parse().unwrap()));
        let one = IpNet::parse("127.0.0.1").unwrap();
        assert!(one.contains("127.0.0.1".parse().unwrap()));
        assert!(!one.contains("127.0.0.2".parse().unwrap()));
        let v6 = IpNet::parse("fd00::/8").unwrap();
        assert!(v6.contains("fd12::1".parse().unwrap()));
        assert!(!v6.contains("10.0.0.1".parse().unwrap()));
        assert!(
            IpNet::parse("0.0.0.0/0")
                .unwrap()
                .contains("8.8.8.8".parse().unwrap())
        );
        for bad in ["10.0.0.0/33", "nope", "1.2.3.4/x"] {
            assert!(IpNet::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(parse_proxies(" 127.0.0.1, 10.0.0.0/8 ,").unwrap().len(), 2);
    }

    #[test]
    fn forwarded_headers_are_stripped() {
        let mut h = HeaderMap::new();
        for n in [
            "x-forwarded-prefix",
            "x-forwarded-for",
            "forwarded",
            "x-real-ip",
            "accept",
        ] {
            h.insert(
                axum::http::HeaderName::from_static(n),
                HeaderValue::from_static("v"),
            );
        }
        strip_forwarded(&mut h);
        assert_eq!(h.len(), 1);
        assert!(h.contains_key("accept"));
    }

    /// The edge in front of a service with the streaming probe family, on
    /// a real socket; `body_timeout` as given.
    mod through_the_socket {
        use std::io::{Read, Write};
        use std::net::TcpStream;
        use std::time::Instant;

        use baas_testkit::edge::SseEcho;
        use mini_baas::engine::{Baas, MemoryStore, TenantConfig, TenantMode};
        use mini_baas::rest::{RestLimits, Service};

        use super::*;

        const LIMIT: usize = 1000;

        async fn serve(tag: &str, body_timeout: Duration) -> (SocketAddr, Arc<SseEcho>) {
            let path =
                std::env::temp_dir().join(format!("baas-edge-{tag}-{}.db", std::process::id()));
            let _ = std::fs::remove_file(&path);
            let url = format!("sqlite://{}", path.display());
            let db = mini_baas::sqlite::connect(mini_baas::sqlite::SqliteConfig::new(&url))
                .await
                .unwrap();
            db.backend()
                .execute_script("CREATE TABLE note (id INTEGER PRIMARY KEY, body TEXT);")
                .await
                .unwrap();
            let baas = Arc::new(
                Baas::builder(
                    Arc::new(MemoryStore::new()),
                    Arc::new(mini_baas::UrlConnector),
                )
                .build(),
            );
            baas.register_tenant(TenantConfig::new("t", url, TenantMode::Introspected), None)
                .await
                .unwrap();
            let echo = Arc::new(SseEcho::new());
            let service = Service::new(baas)
                .with_limits(RestLimits {
                    max_body_bytes: LIMIT,
                    ..RestLimits::default()
                })
                .with_family("probe", echo.clone())
                .unwrap();
            let cfg = EdgeConfig {
                header_timeout: Some(Duration::from_secs(5)),
                body_timeout: Some(body_timeout),
                idle_timeout: Some(Duration::from_secs(5)),
                max_connections: 16,
                shutdown_timeout: Duration::from_secs(1),
                trusted_proxies: Vec::new(),
                cors: None,
            };
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            tokio::spawn(run(
                listener,
                baas_axum::router(service),
                cfg,
                std::future::pending(),
            ));
            (addr, echo)
        }

        /// Read from `s` into `got` until `text` is in what was received;
        /// `false` when the connection ends or 10 s pass first.
        fn read_until(s: &mut TcpStream, got: &mut Vec<u8>, text: &str) -> bool {
            read_until_with(s, got, |t| t.contains(text))
        }

        /// Whether an event says the family has seen `total` bytes (the
        /// edge hands chunks over as they are read from the socket, so one
        /// chunk sent may be several events).
        fn seen(text: &str, total: usize) -> bool {
            baas_testkit::edge::sse_data(text)
                .iter()
                .any(|d| d.rsplit(' ').next() == Some(total.to_string().as_str()))
        }

        fn read_until_with(
            s: &mut TcpStream,
            got: &mut Vec<u8>,
            done: impl Fn(&str) -> bool,
        ) -> bool {
            let t0 = Instant::now();
            let mut buf = [0u8; 8192];
            while t0.elapsed() < Duration::from_secs(10) {
                if done(&String::from_utf8_lossy(got)) {
                    return true;
                }
                match s.read(&mut buf) {
                    Ok(0) => return false,
                    Ok(n) => got.extend_from_slice(&buf[..n]),
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                    Err(e) if e.kind() == std::io::ErrorKind::TimedOut => {}
                    Err(_) => return false,
                }
            }
            done(&String::from_utf8_lossy(got))
        }

        /// Send one chunk of a chunked body (`false`: the server closed).
        fn chunk(s: &mut TcpStream, data: &[u8]) -> bool {
            let mut framed = format!("{:x}\r\n", data.len()).into_bytes();
            framed.extend_from_slice(data);
            framed.extend_from_slice(b"\r\n");
            s.write_all(&framed).is_ok()
        }

        fn connect(addr: SocketAddr) -> TcpStream {
            let s = TcpStream::connect(addr).unwrap();
            s.set_read_timeout(Some(Duration::from_millis(200)))
                .unwrap();
            s
        }

        const UPLOAD_HEAD: &[u8] =
            b"POST /t/probe/v1/up HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n";

        /// An upload 16,000 times `max_body_bytes`, chunk by chunk: the
        /// event of each chunk is back before the next chunk is sent, and
        /// the answer streams event by event, all through the edge.
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn a_family_streams_both_ways_through_the_edge() {
            let (addr, echo) = serve("stream", Duration::from_secs(30)).await;
            let done = tokio::task::spawn_blocking(move || {
                let mut s = connect(addr);
                s.write_all(UPLOAD_HEAD).unwrap();
                let mut got = Vec::new();
                assert!(read_until(&mut s, &mut got, "data: t /up /t/probe/v1"));
                const CHUNK: usize = 64 * 1024;
                let data = vec![b'x'; CHUNK];
                let mut total = 0;
                for _ in 0..250 {
                    assert!(chunk(&mut s, &data));
                    total += CHUNK;
                    // The family has this chunk before the next one is sent.
                    assert!(
                        read_until_with(&mut s, &mut got, |t| seen(t, total)),
                        "{total}"
                    );
                }
                s.write_all(b"0\r\n\r\n").unwrap();
                assert!(read_until(&mut s, &mut got, &format!("data: {total}\n\n")));
                let text = String::from_utf8_lossy(&got);
                assert!(text.starts_with("HTTP/1.1 200"), "{}", &text[..80]);
                assert!(text.contains("content-type: text/event-stream"));
                total
            })
            .await
            .unwrap();
            assert!(done > 16_000 * LIMIT);
            assert!(echo.largest_chunk() <= 64 * 1024);
        }

        /// A stream route is bounded by the body timeout too: a body that
        /// stalls fails at the deadline and the connection closes, the
        /// answer unfinished.
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn a_stalled_upload_is_cut_at_the_body_timeout() {
            let (addr, _) = serve("stall", Duration::from_secs(1)).await;
            tokio::task::spawn_blocking(move || {
                let mut s = connect(addr);
                let t0 = Instant::now();
                s.write_all(UPLOAD_HEAD).unwrap();
                assert!(chunk(&mut s, b"first"));
                let mut got = Vec::new();
                assert!(read_until(&mut s, &mut got, "data: 1 5 5"));
                // Nothing more is sent: the connection closes at the deadline.
                assert!(!read_until(&mut s, &mut got, "event: end"));
                let took = t0.elapsed();
                assert!(
                    took >= Duration::from_millis(900) && took < Duration::from_secs(5),
                    "closed after {took:?}"
                );
            })
            .await
            .unwrap();
        }

        /// The 413 through the edge is the service's, byte for byte (the
        /// same as through axum and actix), and closes the connection.
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn the_413_is_the_services() {
            let (addr, _) = serve("limit", Duration::from_secs(5)).await;
            let expected = mini_baas::rest::payload_too_large(LIMIT).body().to_string();
            tokio::task::spawn_blocking(move || {
                for head in [
                    format!("POST /t/note HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n", 4 * LIMIT),
                    "POST /t/rest/v1/note HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n".to_string(),
                ] {
                    let mut s = connect(addr);
                    s.write_all(head.as_bytes()).unwrap();
                    if head.contains("chunked") {
                        // The server answers and closes once past the limit:
                        // later chunks may find the socket closed.
                        for _ in 0..4 {
                            if !chunk(&mut s, &[b' '; LIMIT / 2]) {
                                break;
                            }
                        }
                    }
                    let mut got = Vec::new();
                    assert!(read_until(&mut s, &mut got, &expected), "{head}");
                    let text = String::from_utf8_lossy(&got).to_lowercase();
                    assert!(text.starts_with("http/1.1 413"), "{text}");
                    assert!(text.contains("connection: close"), "{text}");
                }
            })
            .await
            .unwrap();
        }
    }
}
