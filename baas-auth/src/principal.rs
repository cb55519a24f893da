//! The caller of a request, from its `apikey` and `Authorization` headers.
//!
//! | credential | principal |
//! | --- | --- |
//! | none | role `anon`, no subject |
//! | `apikey` (JWT or opaque key of the tenant) | its role (`anon` / `service_role`) |
//! | `Authorization: Bearer <token>` | the token's claims (a user's `sub` and `role`), else as `apikey` |
//! | `Authorization: Bearer <admin key>` | the platform role [`ADMIN_ROLE`] |
//!
//! When both headers are sent (as supabase-js does), the bearer token is
//! the caller and the `apikey` must be valid too. A credential that does not
//! verify answers 401: a client learns its token expired instead of being
//! silently served as anonymous.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use serde_json::Value;

use baas_engine::{Baas, Principal, SecretKey};
use baas_rest::{ADMIN_ROLE, Authenticate, RestError};

use crate::external::ExternalVerifier;
use crate::keys::{Claims, TenantKeys};

/// The role of a caller without credentials (and of the anon key).
pub const ANON_ROLE: &str = "anon";
/// The role of the service key: everything on its tenant.
pub const SERVICE_ROLE: &str = "service_role";
/// The role of a signed-in user.
pub const AUTHENTICATED_ROLE: &str = "authenticated";

/// Tenants whose derived keys are kept at once (each derivation costs an
/// EC scalar multiplication; beyond this the cache starts over).
const MAX_CACHED_TENANTS: usize = 4096;

/// Every tenant's keys, derived on first use from the server's secret key
/// (and the previous one during a rotation).
pub struct KeyRing {
    master: SecretKey,
    previous: Option<SecretKey>,
    cache: Mutex<HashMap<String, Arc<TenantKeys>>>,
}

impl std::fmt::Debug for KeyRing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyRing")
            .field("rotating", &self.previous.is_some())
            .finish_non_exhaustive()
    }
}

impl KeyRing {
    /// Keys derived from `master` (and `previous`, still accepted).
    pub fn new(master: SecretKey, previous: Option<SecretKey>) -> Self {
        Self {
            master,
            previous,
            cache: Mutex::new(HashMap::new()),
        }
    }

    /// `tenant`'s keys.
    pub fn tenant(&self, tenant: &str) -> Arc<TenantKeys> {
        let mut cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(k) = cache.get(tenant) {
            return k.clone();
        }
        if cache.len() >= MAX_CACHED_TENANTS {
            cache.clear();
        }
        let k = TenantKeys::derive(&self.master, self.previous.as_ref(), tenant);
        cache.insert(tenant.to_string(), k.clone());
        k
    }
}

/// Verified tokens remembered at once (beyond this the cache starts over).
const MAX_CACHED_TOKENS: usize = 16_384;

/// Tokens already verified, by the SHA-256 of tenant and token: an ES256
/// verification costs ~180 µs, a lookup ~1 µs. An entry is used only
/// until the token's `exp`, so the cache never extends a token's life.
#[derive(Default)]
struct Verified {
    map: HashMap<[u8; 32], (Principal, i64)>,
}

fn token_digest(tenant: &str, token: &str) -> [u8; 32] {
    let mut ctx = ring::digest::Context::new(&ring::digest::SHA256);
    ctx.update(tenant.as_bytes());
    ctx.update(b"\0");
    ctx.update(token.as_bytes());
    let mut out = [0u8; 32];
    out.copy_from_slice(ctx.finish().as_ref());
    out
}

/// The [`Authenticate`] of mini-baas: API keys and tokens of the tenant's
/// [`KeyRing`] keys, and the admin key.
pub struct Authenticator {
    keys: Arc<KeyRing>,
    admin_key: Option<Arc<str>>,
    verified: Mutex<Verified>,
    engine: Option<Arc<Baas>>,
    external: ExternalVerifier,
}

impl std::fmt::Debug for Authenticator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Authenticator")
            .field("admin", &self.admin_key.is_some())
            .finish_non_exhaustive()
    }
}

/// A header's value, trimmed.
fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    baas_rest::header(headers, name).map(str::trim)
}

fn unauthorized(message: impl Into<String>) -> RestError {
    RestError::new(401, "invalid_token", message).with_hint(
        "send the tenant's API key as `apikey` and a user's access token as `Authorization: Bearer <token>`",
    )
}

/// The principal of verified claims.
pub fn principal_of(claims: Claims) -> Principal {
    let role = claims
        .get("role")
        .and_then(Value::as_str)
        .unwrap_or(ANON_ROLE)
        .to_string();
    let subject = claims
        .get("sub")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_string);
    Principal {
        subject,
        roles: vec![role],
        claims,
        request: None,
        timezone: None,
    }
}

fn role_principal(role: &str) -> Principal {
    let mut claims = Claims::new();
    claims.insert("role".into(), Value::String(role.to_string()));
    Principal {
        subject: None,
        roles: vec![role.to_string()],
        claims,
        request: None,
        timezone: None,
    }
}

impl Authenticator {
    /// Authenticate with `keys`; `admin_key` (if any) is the platform
    /// administrator's credential.
    pub fn new(keys: Arc<KeyRing>, admin_key: Option<String>) -> Self {
        Self {
            keys,
            admin_key: admin_key.map(Into::into),
            verified: Mutex::new(Verified::default()),
            engine: None,
            external: ExternalVerifier::new(),
        }
    }

    /// Also accept tokens of the external issuers a tenant's configuration
    /// trusts ([`TenantConfig::auth`](baas_engine::TenantConfig::auth)),
    /// read from `engine`.
    pub fn with_engine(mut self, engine: Arc<Baas>) -> Self {
        self.engine = Some(engine);
        self
    }

    /// The key ring.
    pub fn keys(&self) -> &Arc<KeyRing> {
        &self.keys
    }

    fn is_admin(&self, credential: &str) -> bool {
        self.admin_key
            .as_deref()
            .is_some_and(|k| crate::keys::ct_eq(k, credential))
    }

    /// One credential of `tenant`: an opaque key or a JWT of its own, or
    /// (as a bearer) a token of an external issuer it trusts.
    async fn verify(
        &self,
        keys: &TenantKeys,
        credential: &str,
        bearer: bool,
    ) -> Result<Principal, RestError> {
        if credential.starts_with("sb_") {
            return keys
                .opaque_role(credential)
                .map(|r| role_principal(r.name()))
                .ok_or_else(|| unauthorized("the API key is not valid for this tenant"));
        }
        let digest = token_digest(keys.tenant(), credential);
        let now = chrono::Utc::now().timestamp();
        if let Some((principal, exp)) = self
            .verified
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .map
            .get(&digest)
            && now < *exp
        {
            return Ok(principal.clone());
        }
        // How long a verified token may be remembered: until its `exp`; an
        // external issuer's for at most a minute, so that removing the issuer
        // from the tenant's configuration takes effect soon.
        let mut remember_until = i64::MAX;
        let principal = match keys.verify(credential) {
            Ok(claims) => principal_of(claims),
            Err(own) => {
                remember_until = now + 60;
                let external = match (&self.engine, bearer) {
                    (Some(engine), true) => self.external(engine, keys.tenant(), credential).await,
                    _ => None,
                };
                match external {
                    Some(Ok(p)) => p,
                    Some(Err(e)) => return Err(unauthorized(format!("invalid token: {e}"))),
                    None => return Err(unauthorized(format!("invalid token: {own}"))),
                }
            }
        };
        // `exp` is required by verification; the leeway is not extended.
        if let Some(exp) = principal.claims.get("exp").and_then(Value::as_i64) {
            let mut cache = self.verified.lock().unwrap_or_else(|e| e.into_inner());
            if cache.map.len() >= MAX_CACHED_TOKENS {
                cache.map.clear();
            }
            cache
                .map
                .insert(digest, (principal.clone(), exp.min(remember_until)));
        }
        Ok(principal)
    }

    /// A token of one of the tenant's external issuers, if it names one.
    async fn external(
        &self,
        engine: &Baas,
        tenant: &str,
        token: &str,
    ) -> Option<Result<Principal, crate::keys::TokenError>> {
        let t = engine.tenant(tenant).await.ok()?;
        let issuers = &t.config().auth.external;
        if issuers.is_empty() {
            return None;
        }
        self.external.verify(issuers, token).await
    }
}

#[async_trait::async_trait]
impl Authenticate for Authenticator {
    async fn principal(
        &self,
        tenant: Option<&str>,
        headers: &[(String, String)],
    ) -> Result<Principal, RestError> {
        let bearer = match header(headers, "authorization") {
            None => None,
            Some(a) => {
                let (scheme, rest) = a.split_once(' ').unwrap_or((a, ""));
                if !scheme.eq_ignore_ascii_case("bearer") || rest.trim().is_empty() {
                    return Err(unauthorized(
                        "the Authorization header must be `Bearer <token>`",
                    ));
                }
                Some(rest.trim())
            }
        };
        let apikey = header(headers, "apikey").filter(|k| !k.is_empty());
        if let Some(b) = bearer
            && self.is_admin(b)
        {
            return Ok(role_principal(ADMIN_ROLE));
        }
        let Some(tenant) = tenant else {
            // Outside a tenant only the admin key means something.
            return Ok(Principal::anonymous());
        };
        let keys = self.keys.tenant(tenant);
        let from_key = match apikey {
            Some(k) => Some(self.verify(&keys, k, false).await?),
            None => None,
        };
        match bearer {
            Some(b) if Some(b) != apikey => self.verify(&keys, b, true).await,
            _ => Ok(from_key.unwrap_or_else(|| role_principal(ANON_ROLE))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::KeyRole;

    fn h(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[tokio::test]
    async fn credentials_become_principals() {
        let ring = Arc::new(KeyRing::new(SecretKey::from_bytes([3; 32]), None));
        let auth = Authenticator::new(ring.clone(), Some("admin-key-0123456789".into()));
        let keys = ring.tenant("t");
        let anon = keys.api_key(KeyRole::Anon);
        let service = keys.api_key(KeyRole::ServiceRole);
        let p = auth.principal(Some("t"), &[]).await.unwrap();
        assert_eq!(p.roles, ["anon"]);
        let p = auth
            .principal(Some("t"), &h(&[("apikey", &anon)]))
            .await
            .unwrap();
        assert_eq!(p.roles, ["anon"]);
        let bearer = format!("Bearer {service}");
        let p = auth
            .principal(
                Some("t"),
                &h(&[("apikey", &anon), ("authorization", &bearer)]),
            )
            .await
            .unwrap();
        assert_eq!(p.roles, ["service_role"]);
        let opaque = keys.opaque_key(KeyRole::ServiceRole);
        let p = auth
            .principal(Some("t"), &h(&[("apikey", &opaque)]))
            .await
            .unwrap();
        assert_eq!(p.roles, ["service_role"]);
        // Tenant A's key on tenant B, a bad key, a bad scheme: 401.
        let e = auth
            .principal(Some("other"), &h(&[("apikey", &service)]))
            .await
            .unwrap_err();
        assert_eq!(e.status, 401);
        let e = auth
            .principal(Some("t"), &h(&[("apikey", "sb_secret_nope")]))
            .await
            .unwrap_err();
        assert_eq!(e.status, 401);
        let e = auth
            .principal(Some("t"), &h(&[("authorization", "Basic abc")]))
            .await
            .unwrap_err();
        assert_eq!(e.status, 401);
        // A valid bearer with an invalid apikey is refused too.
        let e = auth
            .principal(
                Some("t"),
                &h(&[("apikey", "garbage"), ("authorization", &bearer)]),
            )
            .await
            .unwrap_err();
        assert_eq!(e.status, 401);
        let p = auth
            .principal(
                None,
                &h(&[("authorization", "Bearer admin-key-0123456789")]),
            )
            .await
            .unwrap();
        assert!(p.has_role(ADMIN_ROLE));
    }
}
