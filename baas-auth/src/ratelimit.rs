//! In-memory rate limiting with bounded memory: token buckets keyed by a
//! string (an IP address, an e-mail), at most a fixed number of keys.
//!
//! Each key has a bucket of [`Rate::requests`] tokens refilled evenly over
//! [`Rate::period_secs`]: a client may burst up to `requests` at once, then
//! gets one request per `period / requests`. A request that finds the bucket
//! empty is refused with the time until the next token.
//!
//! **Memory.** Keys are stored as 64-bit keyed hashes (the key's length does
//! not matter; the hasher is seeded per limiter, so collisions cannot be
//! aimed at), in shards of at most `max_keys / shards` entries. When a shard
//! is full, a new key first evicts every bucket that has refilled completely
//! (such a bucket is the same as no bucket), then, if the shard is still
//! full, the bucket touched least recently. So a flood of distinct keys costs
//! a bounded amount of memory; the price is that a flood large enough to
//! cycle a whole shard within one period can make the limiter forget a key
//! it was throttling. Limit per IP *and* per account so that such a flood is
//! itself throttled.

use std::collections::HashMap;
use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

/// A rate: `requests` per `period_secs` seconds (bursts up to `requests`).
/// `requests: 0` turns the limit off.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rate {
    /// Requests allowed per period (the burst size); 0 = unlimited.
    pub requests: u32,
    /// The period, in seconds (at least 1).
    pub period_secs: u64,
}

impl Rate {
    /// `requests` per `period_secs` seconds.
    pub const fn new(requests: u32, period_secs: u64) -> Self {
        Self {
            requests,
            period_secs,
        }
    }

    /// No limit.
    pub const fn unlimited() -> Self {
        Self::new(0, 1)
    }

    /// Whether the rate limits anything.
    pub fn is_limited(&self) -> bool {
        self.requests > 0
    }

    /// Tokens refilled per second.
    fn per_sec(&self) -> f64 {
        f64::from(self.requests) / self.period_secs.max(1) as f64
    }
}

/// Shards of a limiter (fewer when `max_keys` is small).
const SHARDS: usize = 16;

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    last: Instant,
}

/// A rate limiter over string keys, holding at most a fixed number of keys
/// (see the [module docs](self)).
#[derive(Debug)]
pub struct RateLimiter {
    rate: Rate,
    per_shard: usize,
    hasher: RandomState,
    shards: Box<[Mutex<HashMap<u64, Bucket>>]>,
}

impl RateLimiter {
    /// A limiter allowing `rate` per key, tracking at most `max_keys` keys
    /// (at least one per shard).
    pub fn new(rate: Rate, max_keys: usize) -> Self {
        let shards = SHARDS.min(max_keys.max(1));
        let per_shard = max_keys.max(1).div_ceil(shards);
        Self {
            rate,
            per_shard,
            hasher: RandomState::new(),
            shards: (0..shards).map(|_| Mutex::new(HashMap::new())).collect(),
        }
    }

    /// The rate per key.
    pub fn rate(&self) -> Rate {
        self.rate
    }

    /// The most keys this limiter holds at once.
    pub fn max_keys(&self) -> usize {
        self.per_shard * self.shards.len()
    }

    /// Take one request for `key`: `Ok` when allowed, otherwise the time
    /// until the key's next request is allowed.
    pub fn check(&self, key: &str) -> Result<(), Duration> {
        self.check_at(key, Instant::now())
    }

    /// [`check`](Self::check) at a given instant (for tests).
    pub fn check_at(&self, key: &str, now: Instant) -> Result<(), Duration> {
        if !self.rate.is_limited() {
            return Ok(());
        }
        let h = self.hasher.hash_one(key);
        let shard = &self.shards[(h as usize) % self.shards.len()];
        let mut map = shard.lock().unwrap_or_else(|e| e.into_inner());
        let full = f64::from(self.rate.requests);
        let per_sec = self.rate.per_sec();
        if !map.contains_key(&h) && map.len() >= self.per_shard {
            map.retain(|_, b| refill(b, now, per_sec, full) < full);
            if map.len() >= self.per_shard
                && let Some(oldest) = map.iter().min_by_key(|(_, b)| b.last).map(|(k, _)| *k)
            {
                map.remove(&oldest);
            }
        }
        let bucket = map.entry(h).or_insert(Bucket {
            tokens: full,
            last: now,
        });
        let tokens = refill(bucket, now, per_sec, full);
        bucket.tokens = tokens;
        bucket.last = now;
        if tokens >= 1.0 {
            bucket.tokens = tokens - 1.0;
            Ok(())
        } else {
            Err(Duration::from_secs_f64((1.0 - tokens) / per_sec))
        }
    }

    /// Keys currently tracked.
    pub fn len(&self) -> usize {
        self.shards
            .iter()
            .map(|s| s.lock().unwrap_or_else(|e| e.into_inner()).len())
            .sum()
    }

    /// Whether no key is tracked.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The bucket's tokens at `now` (not stored).
fn refill(b: &Bucket, now: Instant, per_sec: f64, full: f64) -> f64 {
    let elapsed = now.saturating_duration_since(b.last).as_secs_f64();
    (b.tokens + elapsed * per_sec).min(full)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bursts_then_refills() {
        let l = RateLimiter::new(Rate::new(3, 3), 100);
        let t0 = Instant::now();
        for _ in 0..3 {
            assert!(l.check_at("a", t0).is_ok());
        }
        let wait = l.check_at("a", t0).unwrap_err();
        assert!(wait <= Duration::from_secs(1) && wait > Duration::from_millis(900));
        // Another key has its own bucket.
        assert!(l.check_at("b", t0).is_ok());
        // One token per second comes back.
        assert!(l.check_at("a", t0 + Duration::from_millis(1001)).is_ok());
        assert!(l.check_at("a", t0 + Duration::from_millis(1002)).is_err());
    }

    #[test]
    fn unlimited_tracks_nothing() {
        let l = RateLimiter::new(Rate::unlimited(), 10);
        for i in 0..1000 {
            assert!(l.check(&format!("k{i}")).is_ok());
        }
        assert!(l.is_empty());
    }

    #[test]
    fn memory_stays_bounded_under_a_flood_of_keys() {
        let l = RateLimiter::new(Rate::new(5, 60), 64);
        let t0 = Instant::now();
        for i in 0..100_000 {
            let _ = l.check_at(&format!("10.0.{}.{}", i / 256, i % 256), t0);
            assert!(l.len() <= l.max_keys());
        }
        assert!(l.max_keys() <= 64 + SHARDS);
        // A throttled key that keeps coming is the most recent: not evicted
        // by keys that came before it.
        for _ in 0..5 {
            let _ = l.check_at("victim", t0);
        }
        assert!(l.check_at("victim", t0).is_err());
    }

    #[test]
    fn idle_buckets_are_evicted_first() {
        let l = RateLimiter::new(Rate::new(2, 1), 1);
        let t0 = Instant::now();
        assert!(l.check_at("a", t0).is_ok());
        assert!(l.check_at("a", t0).is_ok());
        assert!(l.check_at("a", t0).is_err());
        // Once refilled, `a` is forgotten to make room for `b`.
        assert!(l.check_at("b", t0 + Duration::from_secs(2)).is_ok());
        assert_eq!(l.len(), 1);
    }
}
