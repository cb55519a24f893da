//! Bring-your-own auth: tokens of an external identity provider (Auth0,
//! Clerk, Firebase, Keycloak, another Supabase project…) that a tenant
//! trusts ([`ExternalIssuer`] in its configuration).
//!
//! A bearer token that is not one of the tenant's own is looked at here:
//! its (unverified) `iss` picks the configured issuer, whose JWKS is
//! fetched and cached; the token must then verify with the key its `kid`
//! names, with that key's asymmetric algorithm (never HMAC: a public key
//! is no secret), and carry the issuer's `iss`, one of its audiences, and a
//! valid `exp` / `nbf`. The principal's subject and role are read from the
//! claims the issuer's configuration names; an external token can never
//! stand for the service role or the admin.
//!
//! JWKS documents are cached for [`JWKS_TTL`]; a `kid` not in the cached
//! set refetches it at most every [`JWKS_MIN_REFETCH`] (a key rotation at
//! the provider is picked up without letting unknown kids hammer it).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::jwk::{AlgorithmParameters, JwkSet};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::Value;

use baas_engine::{ExternalIssuer, Principal};

use crate::keys::{Claims, LEEWAY_SECS, TokenError};

/// How long a fetched JWKS is used.
pub const JWKS_TTL: Duration = Duration::from_secs(600);
/// The shortest time between two fetches of one JWKS.
pub const JWKS_MIN_REFETCH: Duration = Duration::from_secs(30);
/// The largest JWKS document read.
const MAX_JWKS_BYTES: usize = 256 * 1024;
/// Issuers' JWKS kept at once.
const MAX_CACHED_SETS: usize = 1024;

fn refuse(msg: impl Into<String>) -> TokenError {
    TokenError(msg.into())
}

/// The claims of a JWT, not verified: only to pick the issuer.
pub fn unverified_claims(token: &str) -> Option<Claims> {
    let payload = token.split('.').nth(1)?;
    let bytes = URL_SAFE_NO_PAD.decode(payload.trim_end_matches('=')).ok()?;
    serde_json::from_slice(&bytes).ok()
}

struct Cached {
    set: JwkSet,
    fetched: Instant,
}

/// Fetches and caches external issuers' JWKS, and verifies their tokens.
pub struct ExternalVerifier {
    http: reqwest::Client,
    sets: Mutex<HashMap<String, Cached>>,
}

impl std::fmt::Debug for ExternalVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ExternalVerifier").finish_non_exhaustive()
    }
}

impl Default for ExternalVerifier {
    fn default() -> Self {
        Self::new()
    }
}

impl ExternalVerifier {
    /// A verifier with its own HTTP client (5 s timeouts, no redirects).
    pub fn new() -> Self {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(5))
            .connect_timeout(Duration::from_secs(5))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap_or_else(|_| reqwest::Client::new());
        Self {
            http,
            sets: Mutex::new(HashMap::new()),
        }
    }

    async fn fetch(&self, url: &str) -> Result<JwkSet, TokenError> {
        let unavailable = |e: &dyn std::fmt::Display| {
            tracing::warn!(jwks = %url, error = %e, "cannot fetch an external issuer's JWKS");
            refuse("the token's issuer cannot be reached to check its keys")
        };
        let mut resp = self
            .http
            .get(url)
            .send()
            .await
            .map_err(|e| unavailable(&e))?;
        if !resp.status().is_success() {
            return Err(unavailable(&format!("status {}", resp.status())));
        }
        let mut body = Vec::new();
        while let Some(chunk) = resp.chunk().await.map_err(|e| unavailable(&e))? {
            if body.len() + chunk.len() > MAX_JWKS_BYTES {
                return Err(unavailable(&"the JWKS document is too large"));
            }
            body.extend_from_slice(&chunk);
        }
        serde_json::from_slice(&body).map_err(|e| unavailable(&e))
    }

    /// The key `kid` of the JWKS at `url`, from the cache when fresh.
    async fn key(&self, url: &str, kid: &str) -> Result<jsonwebtoken::jwk::Jwk, TokenError> {
        let stale = {
            let sets = self.sets.lock().unwrap_or_else(|e| e.into_inner());
            match sets.get(url) {
                Some(c) if c.fetched.elapsed() < JWKS_TTL => {
                    if let Some(k) = c.set.find(kid) {
                        return Ok(k.clone());
                    }
                    // Unknown kid: refetch, unless fetched just now.
                    c.fetched.elapsed() >= JWKS_MIN_REFETCH
                }
                _ => true,
            }
        };
        if !stale {
            return Err(refuse("the token's key id is unknown to its issuer"));
        }
        let set = self.fetch(url).await?;
        let found = set.find(kid).cloned();
        let mut sets = self.sets.lock().unwrap_or_else(|e| e.into_inner());
        if sets.len() >= MAX_CACHED_SETS {
            sets.clear();
        }
        sets.insert(
            url.to_string(),
            Cached {
                set,
                fetched: Instant::now(),
            },
        );
        found.ok_or_else(|| refuse("the token's key id is unknown to its issuer"))
    }

    /// Verify `token` as one of `issuers`' (picked by its `iss`); `None`
    /// when no configured issuer claims it.
    pub async fn verify(
        &self,
        issuers: &[ExternalIssuer],
        token: &str,
    ) -> Option<Result<Principal, TokenError>> {
        let claims = unverified_claims(token)?;
        let iss = claims.get("iss")?.as_str()?;
        let issuer = issuers.iter().find(|i| i.issuer == iss)?;
        Some(self.verify_with(issuer, token).await)
    }

    async fn verify_with(
        &self,
        issuer: &ExternalIssuer,
        token: &str,
    ) -> Result<Principal, TokenError> {
        let header = jsonwebtoken::decode_header(token)
            .map_err(|_| refuse("the token is not a well-formed JWT"))?;
        let kid = header
            .kid
            .as_deref()
            .ok_or_else(|| refuse("an external token must name its key (kid)"))?;
        let jwk = self.key(&issuer.jwks_url, kid).await?;
        // The algorithm is the key's: RSA or EC, never HMAC.
        let alg = match (&jwk.algorithm, header.alg) {
            (
                AlgorithmParameters::RSA(_),
                a @ (Algorithm::RS256
                | Algorithm::RS384
                | Algorithm::RS512
                | Algorithm::PS256
                | Algorithm::PS384
                | Algorithm::PS512),
            )
            | (AlgorithmParameters::EllipticCurve(_), a @ (Algorithm::ES256 | Algorithm::ES384))
            | (AlgorithmParameters::OctetKeyPair(_), a @ Algorithm::EdDSA) => a,
            _ => {
                return Err(refuse(
                    "the token's algorithm does not match its issuer's key (HMAC is never accepted from an external issuer)",
                ));
            }
        };
        if let Some(declared) = jwk.common.key_algorithm
            && Algorithm::try_from(declared).ok() != Some(alg)
        {
            return Err(refuse("the token's algorithm is not its key's"));
        }
        let key =
            DecodingKey::from_jwk(&jwk).map_err(|_| refuse("the issuer's key is not usable"))?;
        let mut v = Validation::new(alg);
        v.leeway = LEEWAY_SECS;
        v.validate_nbf = true;
        v.set_required_spec_claims(&["exp", "iss"]);
        v.set_issuer(&[issuer.issuer.as_str()]);
        if issuer.audience.is_empty() {
            v.validate_aud = false;
        } else {
            v.set_audience(&issuer.audience);
        }
        let data = jsonwebtoken::decode::<Claims>(token, &key, &v).map_err(|e| {
            use jsonwebtoken::errors::ErrorKind as K;
            match e.kind() {
                K::ExpiredSignature => refuse("the token has expired"),
                K::ImmatureSignature => refuse("the token is not valid yet"),
                K::InvalidAudience => refuse("the token's audience is not accepted"),
                K::InvalidIssuer => refuse("the token's issuer is not accepted"),
                _ => refuse("the token's signature does not verify"),
            }
        })?;
        principal_of_external(issuer, data.claims)
    }
}

/// The principal of an external token's verified claims.
fn principal_of_external(issuer: &ExternalIssuer, claims: Claims) -> Result<Principal, TokenError> {
    let root = Value::Object(claims);
    let subject = match root.pointer(&issuer.subject_claim) {
        Some(Value::String(s)) if !s.is_empty() => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => return Err(refuse("the token has no subject")),
    };
    let role = match issuer.role_claim.as_deref().and_then(|p| root.pointer(p)) {
        Some(Value::String(r)) if !r.is_empty() => r.clone(),
        None | Some(Value::Null) => issuer.default_role.clone(),
        Some(_) => return Err(refuse("the token's role claim is not a string")),
    };
    if ["service_role", "baas_admin"].contains(&role.as_str()) {
        return Err(refuse(
            "an external token cannot stand for the service role",
        ));
    }
    let Value::Object(mut claims) = root else {
        unreachable!("built from an object")
    };
    // Rules read `auth.uid()` and `auth.role()` from these.
    claims.insert("sub".into(), Value::String(subject.clone()));
    claims.insert("role".into(), Value::String(role.clone()));
    Ok(Principal {
        subject: Some(subject),
        roles: vec![role],
        claims,
        request: None,
        timezone: None,
    })
}
