//! `Idempotency-Key` on writes: a retried write returns the first answer
//! instead of writing again.
//!
//! | request | answer |
//! | --- | --- |
//! | a write (`POST` / `PATCH` / `PUT` / `DELETE` on an entity) with a new key | runs; a 2xx or 4xx answer is stored with the key |
//! | the same key, same request, after it finished | the stored answer (status, headers, body) plus `Idempotent-Replayed: true`; nothing runs |
//! | the same key, same request, while the first still runs | 409 `idempotency_key_in_use` (retry later) |
//! | the same key, a different request | 422 `idempotency_key_reused` |
//! | a key longer than [`MAX_KEY_LEN`] bytes, empty, or not visible ASCII | 400 |
//!
//! A key belongs to one tenant and one caller ([`Principal::subject`]; every
//! anonymous caller shares one scope, so keys must be unguessable: send a
//! random UUID). "The same request" is the same method, path, query string,
//! `Prefer`, `Accept` and `Content-Type` headers and body (their SHA-256).
//!
//! Answers are kept [`IdempotencyConfig::ttl`] after the write finished
//! (24 h by default), at most [`IdempotencyConfig::max_entries`] of them
//! and [`IdempotencyConfig::max_bytes`] in all; beyond, the least recently
//! used go first, and an answer larger than the whole byte budget is not
//! kept. A 5xx (or a request dropped before it answered) is not stored and
//! frees the key: the outcome is unknown, so the client may retry.
//!
//! **The window where the outcome is unknown.** If the database commits and
//! then the connection dies before the commit is acknowledged (or the
//! server dies before it answers), the write happened but the answer is a
//! 503 (or nothing), which is not stored. A retry with the same key then
//! runs the write again. Idempotency keys close the window of a lost
//! *answer*, not of a lost *commit acknowledgement*; writes that must be
//! exactly-once also need a natural key (a unique column, an upsert with
//! `Prefer: resolution=ignore-duplicates`).
//!
//! [`MemoryIdempotencyStore`] (the default) lives in the process: keys are
//! not shared between replicas and do not survive a restart. A shared store
//! implements [`IdempotencyStore`].
//!
//! [`Principal::subject`]: baas_engine::Principal::subject

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

use crate::http::headers_all;
use crate::{RestError, RestRequest, RestResponse};

/// The request header.
pub const IDEMPOTENCY_KEY: &str = "idempotency-key";

/// The response header on a replayed answer.
pub const REPLAYED: &str = "idempotent-replayed";

/// Longest key accepted, in bytes.
pub const MAX_KEY_LEN: usize = 255;

/// Whose key: tenant, caller and the key itself.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct IdempotencyScope {
    /// Tenant id.
    pub tenant: String,
    /// The caller's subject (empty when anonymous).
    pub caller: String,
    /// The `Idempotency-Key` value.
    pub key: String,
}

/// SHA-256 of what makes two requests "the same".
pub type Fingerprint = [u8; 32];

/// What [`IdempotencyStore::claim`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// The key is new (or expired): it is now in flight; run the request,
    /// then [`complete`](IdempotencyStore::complete) or
    /// [`release`](IdempotencyStore::release) it.
    Run,
    /// Finished before with this answer: send it again.
    Replay(RestResponse),
    /// The first request with this key still runs.
    InFlight,
    /// The key was used for another request.
    Mismatch,
}

/// Where keys and their answers live. [`MemoryIdempotencyStore`] keeps
/// them in the process; a store shared by several server processes
/// implements the same three calls.
pub trait IdempotencyStore: Send + Sync + 'static {
    /// Look the key up and, when it is free, mark it in flight for
    /// `fingerprint`.
    fn claim(&self, scope: &IdempotencyScope, fingerprint: &Fingerprint) -> Claim;
    /// Store the answer of the in-flight key (only 2xx and 4xx answers are
    /// passed here).
    fn complete(&self, scope: &IdempotencyScope, response: &RestResponse);
    /// Free the in-flight key without an answer (5xx, or the request was
    /// dropped): the next request with it runs.
    fn release(&self, scope: &IdempotencyScope);
}

/// Bounds of the [`MemoryIdempotencyStore`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyConfig {
    /// How long an answer is kept after the write finished (also the
    /// longest a key stays in flight).
    pub ttl: Duration,
    /// Most keys kept.
    pub max_entries: usize,
    /// Most bytes of stored answers (bodies, headers and keys).
    pub max_bytes: usize,
}

impl Default for IdempotencyConfig {
    /// 24 hours, 10,000 keys, 64 MiB.
    fn default() -> Self {
        Self {
            ttl: Duration::from_secs(24 * 3600),
            max_entries: 10_000,
            max_bytes: 64 * 1024 * 1024,
        }
    }
}

enum State {
    InFlight,
    Done(RestResponse),
}

struct Entry {
    fingerprint: Fingerprint,
    state: State,
    expires: Instant,
    last_used: u64,
    bytes: usize,
}

struct Inner {
    map: HashMap<IdempotencyScope, Entry>,
    bytes: usize,
    clock: u64,
    last_sweep: Instant,
}

/// The in-process store: a map bounded by count, bytes and age (least
/// recently used first; keys in flight are never evicted).
pub struct MemoryIdempotencyStore {
    config: IdempotencyConfig,
    inner: Mutex<Inner>,
}

impl std::fmt::Debug for MemoryIdempotencyStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryIdempotencyStore")
            .field("config", &self.config)
            .field("keys", &self.len())
            .finish()
    }
}

fn scope_bytes(s: &IdempotencyScope) -> usize {
    s.tenant.len() + s.caller.len() + s.key.len() + 128
}

fn response_bytes(r: &RestResponse) -> usize {
    r.body.bytes().len()
        + r.headers
            .iter()
            .map(|(k, v)| k.len() + v.len() + 16)
            .sum::<usize>()
}

impl MemoryIdempotencyStore {
    /// A store with these bounds.
    pub fn new(config: IdempotencyConfig) -> Self {
        Self {
            config,
            inner: Mutex::new(Inner {
                map: HashMap::new(),
                bytes: 0,
                clock: 0,
                last_sweep: Instant::now(),
            }),
        }
    }

    /// Keys held now (in flight or answered, not yet swept).
    pub fn len(&self) -> usize {
        self.lock().map.len()
    }

    /// Whether no key is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // Every critical section leaves the map consistent.
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn remove(inner: &mut Inner, scope: &IdempotencyScope) {
        if let Some(e) = inner.map.remove(scope) {
            inner.bytes = inner.bytes.saturating_sub(e.bytes);
        }
    }

    /// Drop expired keys (at most once a second), then the least recently
    /// used answers while over a bound.
    fn sweep(&self, inner: &mut Inner, now: Instant) {
        if now.duration_since(inner.last_sweep) >= Duration::from_secs(1) {
            inner.last_sweep = now;
            let mut freed = 0;
            inner.map.retain(|_, e| {
                let keep = e.expires > now;
                if !keep {
                    freed += e.bytes;
                }
                keep
            });
            inner.bytes = inner.bytes.saturating_sub(freed);
        }
        while inner.map.len() > self.config.max_entries || inner.bytes > self.config.max_bytes {
            let victim = inner
                .map
                .iter()
                .filter(|(_, e)| matches!(e.state, State::Done(_)))
                .min_by_key(|(_, e)| e.last_used)
                .map(|(k, _)| k.clone());
            match victim {
                Some(k) => Self::remove(inner, &k),
                None => break,
            }
        }
    }
}

impl Default for MemoryIdempotencyStore {
    fn default() -> Self {
        Self::new(IdempotencyConfig::default())
    }
}

impl IdempotencyStore for MemoryIdempotencyStore {
    fn claim(&self, scope: &IdempotencyScope, fingerprint: &Fingerprint) -> Claim {
        let now = Instant::now();
        let mut inner = self.lock();
        inner.clock += 1;
        let clock = inner.clock;
        if let Some(e) = inner.map.get_mut(scope)
            && e.expires > now
        {
            e.last_used = clock;
            if &e.fingerprint != fingerprint {
                return Claim::Mismatch;
            }
            return match &e.state {
                State::InFlight => Claim::InFlight,
                State::Done(r) => Claim::Replay(r.clone()),
            };
        }
        Self::remove(&mut inner, scope);
        let bytes = scope_bytes(scope);
        inner.bytes += bytes;
        inner.map.insert(
            scope.clone(),
            Entry {
                fingerprint: *fingerprint,
                state: State::InFlight,
                expires: now + self.config.ttl,
                last_used: clock,
                bytes,
            },
        );
        self.sweep(&mut inner, now);
        Claim::Run
    }

    fn complete(&self, scope: &IdempotencyScope, response: &RestResponse) {
        let now = Instant::now();
        let mut inner = self.lock();
        let size = scope_bytes(scope) + response_bytes(response);
        if size > self.config.max_bytes {
            // Too large to keep: free the key (a retry runs again).
            Self::remove(&mut inner, scope);
            return;
        }
        inner.clock += 1;
        let clock = inner.clock;
        let Some(e) = inner.map.get_mut(scope) else {
            return;
        };
        let old = e.bytes;
        e.state = State::Done(response.clone());
        e.expires = now + self.config.ttl;
        e.last_used = clock;
        e.bytes = size;
        inner.bytes = inner.bytes.saturating_sub(old) + size;
        self.sweep(&mut inner, now);
    }

    fn release(&self, scope: &IdempotencyScope) {
        let mut inner = self.lock();
        if inner
            .map
            .get(scope)
            .is_some_and(|e| matches!(e.state, State::InFlight))
        {
            Self::remove(&mut inner, scope);
        }
    }
}

/// The request's `Idempotency-Key`: `None` without one; 400 when it is
/// empty, longer than [`MAX_KEY_LEN`] bytes, not visible ASCII, or sent
/// twice.
pub fn idempotency_key(req: &RestRequest) -> Result<Option<String>, RestError> {
    let mut values = headers_all(&req.headers, IDEMPOTENCY_KEY);
    let Some(raw) = values.next() else {
        return Ok(None);
    };
    if values.next().is_some() {
        return Err(RestError::bad_request(
            "send one `Idempotency-Key` header, not several",
        ));
    }
    let key = raw.trim();
    if key.is_empty() {
        return Err(
            RestError::bad_request("the `Idempotency-Key` header is empty")
                .with_hint("send a random UUID per logical write"),
        );
    }
    if key.len() > MAX_KEY_LEN {
        return Err(RestError::bad_request(format!(
            "the `Idempotency-Key` has {} bytes; the limit is {MAX_KEY_LEN}",
            key.len()
        ))
        .with_hint("send a random UUID per logical write"));
    }
    if !key.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(RestError::bad_request(
            "the `Idempotency-Key` must be visible ASCII (e.g. a UUID)",
        ));
    }
    Ok(Some(key.to_string()))
}

/// What makes two requests "the same" for a key: method, path, query,
/// `Prefer`, `Accept`, `Content-Type` and body.
pub fn fingerprint(req: &RestRequest) -> Fingerprint {
    let mut h = Sha256::new();
    let mut part = |b: &[u8]| {
        h.update((b.len() as u64).to_be_bytes());
        h.update(b);
    };
    part(req.method.to_ascii_uppercase().as_bytes());
    part(req.path.as_bytes());
    part(req.query.as_bytes());
    for name in ["prefer", "accept", "content-type"] {
        let joined: Vec<&str> = headers_all(&req.headers, name).collect();
        part(joined.join("\n").as_bytes());
    }
    part(req.body.bytes());
    h.finalize().into()
}

/// Frees an in-flight key unless the answer was stored: a request dropped
/// mid-way (client gone) must not leave its key in flight until it expires.
pub(crate) struct InFlightGuard<'a> {
    pub(crate) store: &'a dyn IdempotencyStore,
    pub(crate) scope: IdempotencyScope,
    pub(crate) done: bool,
}

impl InFlightGuard<'_> {
    /// Store a 2xx / 4xx answer; free the key on anything else.
    pub(crate) fn finish(mut self, response: &RestResponse) {
        if response.status < 500 {
            self.store.complete(&self.scope, response);
        } else {
            self.store.release(&self.scope);
        }
        self.done = true;
    }
}

impl Drop for InFlightGuard<'_> {
    fn drop(&mut self) {
        if !self.done {
            self.store.release(&self.scope);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scope(k: &str) -> IdempotencyScope {
        IdempotencyScope {
            tenant: "t".into(),
            caller: String::new(),
            key: k.into(),
        }
    }

    fn resp(n: usize) -> RestResponse {
        RestResponse {
            status: 201,
            headers: Vec::new(),
            body: vec![b'x'; n].into(),
        }
    }

    #[test]
    fn lifecycle() {
        let s = MemoryIdempotencyStore::default();
        let (a, b) = ([1u8; 32], [2u8; 32]);
        assert_eq!(s.claim(&scope("k"), &a), Claim::Run);
        assert_eq!(s.claim(&scope("k"), &a), Claim::InFlight);
        assert_eq!(s.claim(&scope("k"), &b), Claim::Mismatch);
        s.complete(&scope("k"), &resp(3));
        assert_eq!(s.claim(&scope("k"), &a), Claim::Replay(resp(3)));
        assert_eq!(s.claim(&scope("k"), &b), Claim::Mismatch);
        // A released key runs again.
        assert_eq!(s.claim(&scope("j"), &a), Claim::Run);
        s.release(&scope("j"));
        assert_eq!(s.claim(&scope("j"), &b), Claim::Run);
        // Release never drops a stored answer.
        s.release(&scope("k"));
        assert_eq!(s.claim(&scope("k"), &a), Claim::Replay(resp(3)));
    }

    #[test]
    fn bounded() {
        let s = MemoryIdempotencyStore::new(IdempotencyConfig {
            ttl: Duration::from_secs(60),
            max_entries: 3,
            max_bytes: 10_000,
        });
        let f = [0u8; 32];
        for k in ["a", "b", "c", "d"] {
            assert_eq!(s.claim(&scope(k), &f), Claim::Run);
            s.complete(&scope(k), &resp(10));
        }
        assert_eq!(s.len(), 3);
        // `a` was the least recently used.
        assert_eq!(s.claim(&scope("a"), &f), Claim::Run);
        // Bytes: a 9,000-byte answer pushes the others out.
        s.complete(&scope("a"), &resp(9_000));
        assert!(s.lock().bytes <= 10_000);
        assert_eq!(s.claim(&scope("a"), &f), Claim::Replay(resp(9_000)));
        // Larger than the whole budget: not kept, the key is free.
        assert_eq!(s.claim(&scope("z"), &f), Claim::Run);
        s.complete(&scope("z"), &resp(20_000));
        assert_eq!(s.claim(&scope("z"), &f), Claim::Run);
    }

    #[test]
    fn expiry() {
        let s = MemoryIdempotencyStore::new(IdempotencyConfig {
            ttl: Duration::from_millis(30),
            ..IdempotencyConfig::default()
        });
        let f = [0u8; 32];
        assert_eq!(s.claim(&scope("k"), &f), Claim::Run);
        s.complete(&scope("k"), &resp(1));
        assert_eq!(s.claim(&scope("k"), &f), Claim::Replay(resp(1)));
        std::thread::sleep(Duration::from_millis(60));
        assert_eq!(s.claim(&scope("k"), &[9u8; 32]), Claim::Run);
    }

    #[test]
    fn keys() {
        let req = |v: &str| RestRequest::new("POST", "/t/e", "").header("Idempotency-Key", v);
        assert_eq!(
            idempotency_key(&req(" abc ")).ok().flatten().as_deref(),
            Some("abc")
        );
        assert_eq!(
            idempotency_key(&RestRequest::new("POST", "/", "")).ok(),
            Some(None)
        );
        for bad in [String::new(), "a b".into(), "é".into(), "k".repeat(256)] {
            assert_eq!(idempotency_key(&req(&bad)).map_err(|e| e.status), Err(400));
        }
        assert!(idempotency_key(&req(&"k".repeat(255))).is_ok());
        let a = fingerprint(&req("k").body("{}"));
        assert_eq!(a, fingerprint(&req("other key").body("{}")));
        assert_ne!(a, fingerprint(&req("k").body("{ }")));
        assert_ne!(
            a,
            fingerprint(&req("k").body("{}").header("Prefer", "tx=rollback"))
        );
    }
}
