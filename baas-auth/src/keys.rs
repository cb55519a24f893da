//! Per-tenant signing keys, derived from the server's secret key: nothing to
//! store, nothing shown.
//!
//! For a tenant `t`, the server's 32-byte secret key `K` (the one that seals
//! database URLs in the system store, kept outside it) gives, by
//! HMAC-SHA256 with distinct labels:
//!
//! - an **HS256 secret**: signs the tenant's `anon` and `service_role` API
//!   keys (JWTs, as Supabase issues them) and verifies them;
//! - an **ES256 key pair**: signs users' access tokens; its public half is
//!   served at `/{t}/auth/v1/.well-known/jwks.json` (kid = a digest of the
//!   public key);
//! - the **opaque keys** `sb_publishable_…` (anon) and `sb_secret_…`
//!   (service role), compared in constant time.
//!
//! Tenant A's keys never verify on tenant B (different derived keys, and the
//! `ref` claim names the tenant). **Rotation**: start the server with the
//! new secret key and the old one as previous key; tokens of both verify
//! (the JWKS lists both public keys), new ones are signed with the new key;
//! drop the previous key to retire it.
//!
//! Verification never trusts the token's header: the algorithm is the one
//! of the key it names (`HS256` for the tenant's secret, `ES256` for a kid
//! of the JWKS); `alg: none`, other algorithms, unknown kids, an HS256
//! token signed with the public key, an expired or not-yet-valid token, a
//! wrong issuer, audience or tenant are all refused.

use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use p256::pkcs8::EncodePrivateKey;
use serde_json::{Map, Value, json};

use baas_engine::SecretKey;

/// Claims of a verified token.
pub type Claims = Map<String, Value>;

/// Why a token was refused. The message is safe to show (it never repeats
/// the token).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenError(pub String);

impl std::fmt::Display for TokenError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for TokenError {}

fn refuse(msg: impl Into<String>) -> TokenError {
    TokenError(msg.into())
}

/// Seconds an API key (anon, service_role JWT) stays valid: ten years, as
/// Supabase's.
pub const API_KEY_LIFETIME_SECS: i64 = 10 * 365 * 24 * 3600;

/// Leeway for `exp` / `nbf`, in seconds (clock skew between nodes).
pub const LEEWAY_SECS: u64 = 30;

/// The issuer of a tenant's tokens.
pub fn issuer(tenant: &str) -> String {
    format!("mini-baas/{tenant}")
}

fn derive(master: &SecretKey, label: &str, tenant: &str) -> [u8; 32] {
    let mut context = b"mini-baas auth v1\0".to_vec();
    context.extend_from_slice(label.as_bytes());
    context.push(0);
    context.extend_from_slice(tenant.as_bytes());
    master.derive(&context)
}

/// One generation of a tenant's keys (from one server secret key).
struct Generation {
    hs_encoding: EncodingKey,
    hs_decoding: DecodingKey,
    hs_kid: String,
    es_encoding: EncodingKey,
    es_decoding: DecodingKey,
    es_kid: String,
    es_x: String,
    es_y: String,
    publishable: String,
    secret: String,
}

impl Generation {
    fn new(master: &SecretKey, tenant: &str) -> Self {
        let hs_secret = derive(master, "hs256", tenant);
        let hs_kid = short_digest(&derive(master, "hs256-kid", tenant));
        // A derived scalar is a valid P-256 key unless it is zero or above
        // the order (probability ~2^-32): try the next counter then.
        let mut counter = 0u32;
        let sk = loop {
            let bytes = derive(master, &format!("es256/{counter}"), tenant);
            if let Ok(sk) = p256::SecretKey::from_slice(&bytes) {
                break sk;
            }
            counter += 1;
        };
        let der = sk
            .to_pkcs8_der()
            .unwrap_or_else(|_| unreachable!("a P-256 key always encodes as PKCS#8"));
        let point = sk.public_key().to_sec1_bytes();
        let es_x = URL_SAFE_NO_PAD.encode(&point[1..33]);
        let es_y = URL_SAFE_NO_PAD.encode(&point[33..65]);
        let es_decoding = DecodingKey::from_ec_components(&es_x, &es_y)
            .unwrap_or_else(|_| unreachable!("coordinates of a valid point"));
        let publishable = format!(
            "sb_publishable_{}",
            URL_SAFE_NO_PAD.encode(&derive(master, "publishable", tenant)[..24])
        );
        let secret = format!(
            "sb_secret_{}",
            URL_SAFE_NO_PAD.encode(&derive(master, "secret", tenant)[..24])
        );
        Self {
            hs_encoding: EncodingKey::from_secret(&hs_secret)
                .unwrap_or_else(|_| unreachable!("a 32-byte HMAC secret")),
            hs_decoding: DecodingKey::from_secret(&hs_secret)
                .unwrap_or_else(|_| unreachable!("a 32-byte HMAC secret")),
            hs_kid,
            es_encoding: EncodingKey::from_ec_der(der.as_bytes()),
            es_decoding,
            es_kid: short_digest(&point),
            es_x,
            es_y,
            publishable,
            secret,
        }
    }
}

fn short_digest(bytes: &[u8]) -> String {
    let d = ring::digest::digest(&ring::digest::SHA256, bytes);
    URL_SAFE_NO_PAD.encode(&d.as_ref()[..12])
}

/// Equality whose time does not depend on where the strings differ.
pub(crate) fn ct_eq(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// The role an API key stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyRole {
    /// Public: what anyone may do (the rules for `anon`).
    Anon,
    /// Everything on the tenant (bypasses rules).
    ServiceRole,
}

impl KeyRole {
    /// The role's name in tokens and rules.
    pub fn name(self) -> &'static str {
        match self {
            Self::Anon => "anon",
            Self::ServiceRole => "service_role",
        }
    }
}

/// A tenant's keys: the current generation and, while a rotation is under
/// way, the previous one (verification only).
pub struct TenantKeys {
    tenant: String,
    current: Generation,
    previous: Option<Generation>,
}

impl std::fmt::Debug for TenantKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TenantKeys")
            .field("tenant", &self.tenant)
            .field("rotating", &self.previous.is_some())
            .finish_non_exhaustive()
    }
}

impl TenantKeys {
    /// Derive `tenant`'s keys from the server's secret key (and the
    /// previous one during a rotation).
    pub fn derive(master: &SecretKey, previous: Option<&SecretKey>, tenant: &str) -> Arc<Self> {
        Arc::new(Self {
            tenant: tenant.to_string(),
            current: Generation::new(master, tenant),
            previous: previous.map(|p| Generation::new(p, tenant)),
        })
    }

    /// The tenant.
    pub fn tenant(&self) -> &str {
        &self.tenant
    }

    fn generations(&self) -> impl Iterator<Item = &Generation> {
        std::iter::once(&self.current).chain(&self.previous)
    }

    /// The tenant's API key for `role`: an HS256 JWT `{iss, ref, role, iat,
    /// exp}`, the same string every time for the same secret key.
    pub fn api_key(&self, role: KeyRole) -> String {
        // A fixed `iat` keeps the key stable across restarts.
        let iat = 1_764_547_200_i64; // 2025-12-01T00:00:00Z
        let claims = json!({
            "iss": issuer(&self.tenant),
            "ref": self.tenant,
            "role": role.name(),
            "iat": iat,
            "exp": iat + API_KEY_LIFETIME_SECS,
        });
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some(self.current.hs_kid.clone());
        jsonwebtoken::encode(&header, &claims, &self.current.hs_encoding)
            .unwrap_or_else(|_| unreachable!("HS256 over JSON claims cannot fail"))
    }

    /// The opaque key for `role` (`sb_publishable_…` / `sb_secret_…`).
    pub fn opaque_key(&self, role: KeyRole) -> String {
        match role {
            KeyRole::Anon => self.current.publishable.clone(),
            KeyRole::ServiceRole => self.current.secret.clone(),
        }
    }

    /// The role of an opaque key, if it is one of this tenant's (current or
    /// previous generation; compared in constant time).
    pub fn opaque_role(&self, key: &str) -> Option<KeyRole> {
        self.generations().find_map(|g| {
            if ct_eq(key, &g.publishable) {
                Some(KeyRole::Anon)
            } else if ct_eq(key, &g.secret) {
                Some(KeyRole::ServiceRole)
            } else {
                None
            }
        })
    }

    /// Sign a user's access token with the current ES256 key; `iss` and
    /// `ref` are set here.
    pub fn sign_access_token(&self, mut claims: Claims) -> String {
        claims.insert("iss".into(), Value::String(issuer(&self.tenant)));
        claims.insert("ref".into(), Value::String(self.tenant.clone()));
        let mut header = Header::new(Algorithm::ES256);
        header.kid = Some(self.current.es_kid.clone());
        jsonwebtoken::encode(&header, &claims, &self.current.es_encoding)
            .unwrap_or_else(|_| unreachable!("ES256 with a valid key cannot fail"))
    }

    /// The public keys, as a JWKS document (`{"keys": [...]}`).
    pub fn jwks(&self) -> Value {
        let keys: Vec<Value> = self
            .generations()
            .map(|g| {
                json!({
                    "kty": "EC",
                    "crv": "P-256",
                    "alg": "ES256",
                    "use": "sig",
                    "key_ops": ["verify"],
                    "kid": g.es_kid,
                    "x": g.es_x,
                    "y": g.es_y,
                })
            })
            .collect();
        json!({ "keys": keys })
    }

    /// Verify a token of this tenant: signature by one of its keys (the
    /// algorithm is the key's, never the header's choice), `exp` (required),
    /// `nbf` and `iat` (not in the future), issuer and `ref` (this tenant),
    /// audience (`authenticated` when present), a string `role`.
    pub fn verify(&self, token: &str) -> Result<Claims, TokenError> {
        if token.len() > 16 * 1024 {
            return Err(refuse("the token is too long"));
        }
        let header = jsonwebtoken::decode_header(token)
            .map_err(|_| refuse("the token is not a well-formed JWT"))?;
        let mut last = refuse("the token's signature does not verify");
        for g in self.generations() {
            let (alg, key) = match header.alg {
                Algorithm::HS256 => (Algorithm::HS256, &g.hs_decoding),
                Algorithm::ES256 => {
                    match header.kid.as_deref() {
                        Some(kid) if kid == g.es_kid => {}
                        Some(_) => {
                            last = refuse("the token's key id is unknown");
                            continue;
                        }
                        None => {
                            last = refuse("an ES256 token must name its key (kid)");
                            continue;
                        }
                    }
                    (Algorithm::ES256, &g.es_decoding)
                }
                other => {
                    return Err(refuse(format!(
                        "tokens signed with {other:?} are not accepted (HS256 or ES256)"
                    )));
                }
            };
            let mut v = Validation::new(alg);
            v.leeway = LEEWAY_SECS;
            v.validate_nbf = true;
            v.validate_aud = false;
            v.set_required_spec_claims(&["exp"]);
            v.set_issuer(&[issuer(&self.tenant)]);
            match jsonwebtoken::decode::<Claims>(token, key, &v) {
                Ok(data) => return check_claims(&self.tenant, data.claims),
                Err(e) => {
                    use jsonwebtoken::errors::ErrorKind as K;
                    last = match e.kind() {
                        K::InvalidSignature => refuse("the token's signature does not verify"),
                        K::ExpiredSignature => return Err(refuse("the token has expired")),
                        K::ImmatureSignature => return Err(refuse("the token is not valid yet")),
                        K::InvalidIssuer => {
                            return Err(refuse("the token's issuer is not this tenant"));
                        }
                        K::MissingRequiredClaim(c) => {
                            return Err(refuse(format!("the token has no `{c}` claim")));
                        }
                        _ => refuse("the token is not valid"),
                    };
                }
            }
        }
        Err(last)
    }
}

fn check_claims(tenant: &str, claims: Claims) -> Result<Claims, TokenError> {
    match claims.get("ref") {
        Some(Value::String(r)) if r == tenant => {}
        _ => return Err(refuse("the token belongs to another tenant")),
    }
    match claims.get("aud") {
        None => {}
        Some(Value::String(a)) if a == "authenticated" => {}
        Some(Value::Array(a)) if a.iter().any(|x| x == "authenticated") => {}
        Some(_) => return Err(refuse("the token's audience is not `authenticated`")),
    }
    match claims.get("role") {
        Some(Value::String(r)) if !r.is_empty() => {}
        _ => return Err(refuse("the token has no role")),
    }
    if let Some(iat) = claims.get("iat") {
        let now = chrono::Utc::now().timestamp();
        match iat.as_i64() {
            Some(t) if t <= now + LEEWAY_SECS as i64 => {}
            _ => return Err(refuse("the token was issued in the future")),
        }
    }
    for (claim, want) in [
        ("app_metadata", "an object"),
        ("user_metadata", "an object"),
    ] {
        if let Some(v) = claims.get(claim)
            && !v.is_object()
        {
            return Err(refuse(format!("the token's `{claim}` must be {want}")));
        }
    }
    Ok(claims)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(b: u8) -> SecretKey {
        SecretKey::from_bytes([b; 32])
    }

    fn now() -> i64 {
        chrono::Utc::now().timestamp()
    }

    #[test]
    fn api_keys_verify_and_are_stable() {
        let k = TenantKeys::derive(&key(1), None, "acme");
        let anon = k.api_key(KeyRole::Anon);
        assert_eq!(
            anon,
            TenantKeys::derive(&key(1), None, "acme").api_key(KeyRole::Anon)
        );
        let c = k.verify(&anon).unwrap();
        assert_eq!(c["role"], "anon");
        let s = k.verify(&k.api_key(KeyRole::ServiceRole)).unwrap();
        assert_eq!(s["role"], "service_role");
        assert_eq!(
            k.opaque_role(&k.opaque_key(KeyRole::Anon)),
            Some(KeyRole::Anon)
        );
        assert_eq!(
            k.opaque_role(&k.opaque_key(KeyRole::ServiceRole)),
            Some(KeyRole::ServiceRole)
        );
        assert_eq!(k.opaque_role("sb_secret_nope"), None);
    }

    #[test]
    fn access_tokens_verify_with_the_jwks_key() {
        let k = TenantKeys::derive(&key(1), None, "acme");
        let mut c = Claims::new();
        c.insert("sub".into(), json!("u1"));
        c.insert("role".into(), json!("authenticated"));
        c.insert("aud".into(), json!("authenticated"));
        c.insert("exp".into(), json!(now() + 60));
        c.insert("iat".into(), json!(now()));
        let t = k.sign_access_token(c);
        assert_eq!(k.verify(&t).unwrap()["sub"], "u1");
        assert_eq!(k.jwks()["keys"].as_array().unwrap().len(), 1);
    }

    #[test]
    fn other_tenants_and_rotations() {
        let a = TenantKeys::derive(&key(1), None, "a");
        let b = TenantKeys::derive(&key(1), None, "b");
        assert!(b.verify(&a.api_key(KeyRole::ServiceRole)).is_err());
        // Rotation: the old key's tokens verify while it is the previous one.
        let rotated = TenantKeys::derive(&key(2), Some(&key(1)), "a");
        assert!(rotated.verify(&a.api_key(KeyRole::Anon)).is_ok());
        assert_eq!(rotated.jwks()["keys"].as_array().unwrap().len(), 2);
        let retired = TenantKeys::derive(&key(2), None, "a");
        assert!(retired.verify(&a.api_key(KeyRole::Anon)).is_err());
        assert!(rotated.opaque_role(&a.opaque_key(KeyRole::Anon)).is_some());
        assert!(retired.opaque_role(&a.opaque_key(KeyRole::Anon)).is_none());
    }

    fn forge(header: Value, claims: Value, sig: &str) -> String {
        format!(
            "{}.{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string()),
            sig
        )
    }

    #[test]
    fn attacks_are_refused() {
        let k = TenantKeys::derive(&key(1), None, "acme");
        let claims = json!({"iss": issuer("acme"), "ref": "acme", "role": "service_role", "exp": now() + 60});
        // alg none
        assert!(
            k.verify(&forge(
                json!({"alg": "none", "typ": "JWT"}),
                claims.clone(),
                ""
            ))
            .is_err()
        );
        // HS256 signed with the public key (the JWKS x coordinate as secret)
        let x = k.jwks()["keys"][0]["x"].as_str().unwrap().to_string();
        let t = jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &claims,
            &EncodingKey::from_secret(x.as_bytes()).unwrap(),
        )
        .unwrap();
        assert!(k.verify(&t).is_err());
        // a tampered payload (anon key with role changed)
        let anon = k.api_key(KeyRole::Anon);
        let parts: Vec<&str> = anon.split('.').collect();
        let mut payload: Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
        payload["role"] = json!("service_role");
        let tampered = format!(
            "{}.{}.{}",
            parts[0],
            URL_SAFE_NO_PAD.encode(payload.to_string()),
            parts[2]
        );
        assert!(k.verify(&tampered).is_err());
        // expired, not yet valid, wrong issuer, wrong audience, unknown kid
        let sign = |c: Value| {
            let mut h = Header::new(Algorithm::ES256);
            h.kid = Some(k.current.es_kid.clone());
            jsonwebtoken::encode(&h, &c, &k.current.es_encoding).unwrap()
        };
        let base = |extra: Value| {
            let mut c = claims.clone();
            for (key, v) in extra.as_object().unwrap() {
                c[key] = v.clone();
            }
            c
        };
        assert_eq!(
            k.verify(&sign(base(json!({"exp": now() - 3600}))))
                .unwrap_err()
                .0,
            "the token has expired"
        );
        assert!(k.verify(&sign(base(json!({"nbf": now() + 3600})))).is_err());
        assert!(
            k.verify(&sign(base(json!({"iss": "someone-else"}))))
                .is_err()
        );
        assert!(k.verify(&sign(base(json!({"aud": "other"})))).is_err());
        assert!(k.verify(&sign(base(json!({"ref": "other"})))).is_err());
        let mut h = Header::new(Algorithm::ES256);
        h.kid = Some("nope".into());
        let unknown = jsonwebtoken::encode(&h, &claims, &k.current.es_encoding).unwrap();
        assert!(k.verify(&unknown).is_err());
        // no exp
        let mut c = claims.clone();
        c.as_object_mut().unwrap().remove("exp");
        assert!(k.verify(&sign(c)).is_err());
        // garbage
        assert!(k.verify("a.b.c").is_err());
        assert!(k.verify("").is_err());
    }
}
