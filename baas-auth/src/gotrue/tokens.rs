//! Refresh tokens, access-token claims, and the user and session JSON of
//! GoTrue.
//!
//! **Refresh tokens** are 256 random bits (base64url, 43 characters) for a
//! new session. Exchanging one gives its *child*, `HMAC-SHA256(session
//! secret, parent)`: derived, not drawn, so that every request exchanging
//! the same token (two tabs, a retry after a lost answer) gets the same
//! child — the session keeps exactly one live refresh token, as GoTrue's
//! "return the currently active child" does, without storing any token.
//! The session secret is random per session and never leaves the store; a
//! thief holding an exchanged token cannot compute its child. Only SHA-256
//! digests of tokens are stored.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, SecondsFormat, SubsecRound, Utc};
use ring::rand::{SecureRandom, SystemRandom};
use serde_json::{Value, json};

use super::error::AuthError;
use super::store::{SessionRow, UserRow};
use crate::keys::Claims;

/// Longest refresh token accepted (ours are 43 characters).
pub(crate) const MAX_REFRESH_TOKEN_LEN: usize = 256;

/// `n` random bytes from the system's generator.
pub(crate) fn random<const N: usize>() -> Result<[u8; N], AuthError> {
    let mut buf = [0u8; N];
    SystemRandom::new()
        .fill(&mut buf)
        .map_err(|_| AuthError::internal("the system random generator failed"))?;
    Ok(buf)
}

/// A new session's first refresh token.
pub(crate) fn new_refresh_token() -> Result<String, AuthError> {
    Ok(URL_SAFE_NO_PAD.encode(random::<32>()?))
}

/// A new session secret (base64url of 32 random bytes).
pub(crate) fn new_session_secret() -> Result<String, AuthError> {
    Ok(URL_SAFE_NO_PAD.encode(random::<32>()?))
}

/// The stored form of a refresh token: its SHA-256, hex.
pub(crate) fn digest(token: &str) -> String {
    let d = ring::digest::digest(&ring::digest::SHA256, token.as_bytes());
    d.as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

/// The token a refresh token is exchanged for.
pub(crate) fn child_token(session_secret: &str, parent: &str) -> String {
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, session_secret.as_bytes());
    let mut ctx = ring::hmac::Context::with_key(&key);
    ctx.update(b"mini-baas refresh token v1\0");
    ctx.update(parent.as_bytes());
    URL_SAFE_NO_PAD.encode(ctx.sign().as_ref())
}

/// Now, to the microsecond (what every engine keeps).
pub(crate) fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(6)
}

/// A timestamp as the store answers it (RFC 3339, UTC, `Z`).
pub(crate) fn stamp(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

/// A stored timestamp, read back.
pub(crate) fn parse_stamp(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// A stable identity id for a user (GoTrue keeps identities in a table of
/// their own; here the e-mail identity is implied by the user).
fn identity_id(user: &str) -> String {
    let d = ring::digest::digest(&ring::digest::SHA256, format!("identity:{user}").as_bytes());
    let mut b = [0u8; 16];
    b.copy_from_slice(&d.as_ref()[..16]);
    uuid::Builder::from_random_bytes(b).into_uuid().to_string()
}

/// GoTrue's user JSON.
pub(crate) fn user_json(u: &UserRow) -> Value {
    let mut m = serde_json::Map::new();
    m.insert("id".into(), u.id.clone().into());
    m.insert("aud".into(), u.aud.clone().into());
    m.insert("role".into(), u.role.clone().into());
    m.insert("email".into(), u.email.clone().unwrap_or_default().into());
    if let Some(t) = &u.email_confirmed_at {
        m.insert("email_confirmed_at".into(), t.clone().into());
    }
    m.insert("phone".into(), u.phone.clone().unwrap_or_default().into());
    if let Some(t) = &u.email_confirmed_at {
        m.insert("confirmed_at".into(), t.clone().into());
    }
    if let Some(t) = &u.last_sign_in_at {
        m.insert("last_sign_in_at".into(), t.clone().into());
    }
    m.insert("app_metadata".into(), Value::Object(u.app_metadata.clone()));
    m.insert(
        "user_metadata".into(),
        Value::Object(u.user_metadata.clone()),
    );
    let identities = match &u.email {
        Some(email) => vec![json!({
            "identity_id": identity_id(&u.id),
            "id": u.id,
            "user_id": u.id,
            "identity_data": {
                "email": email,
                "email_verified": u.email_confirmed_at.is_some(),
                "phone_verified": false,
                "sub": u.id,
            },
            "provider": "email",
            "last_sign_in_at": u.last_sign_in_at.clone().unwrap_or_else(|| u.created_at.clone()),
            "created_at": u.created_at,
            "updated_at": u.updated_at,
            "email": email,
        })],
        None => Vec::new(),
    };
    m.insert("identities".into(), Value::Array(identities));
    m.insert("created_at".into(), u.created_at.clone().into());
    m.insert("updated_at".into(), u.updated_at.clone().into());
    m.insert("is_anonymous".into(), u.is_anonymous.into());
    Value::Object(m)
}

/// The claims of an access token for `user` in `session`, issued at `iat`.
pub(crate) fn access_claims(
    user: &UserRow,
    session: &SessionRow,
    iat: i64,
    lifetime_secs: u64,
) -> Claims {
    let exp = iat.saturating_add(i64::try_from(lifetime_secs).unwrap_or(i64::MAX));
    let mut c = Claims::new();
    c.insert("sub".into(), user.id.clone().into());
    c.insert("aud".into(), "authenticated".into());
    c.insert("exp".into(), exp.into());
    c.insert("iat".into(), iat.into());
    c.insert(
        "email".into(),
        user.email.clone().unwrap_or_default().into(),
    );
    c.insert(
        "phone".into(),
        user.phone.clone().unwrap_or_default().into(),
    );
    c.insert(
        "app_metadata".into(),
        Value::Object(user.app_metadata.clone()),
    );
    c.insert(
        "user_metadata".into(),
        Value::Object(user.user_metadata.clone()),
    );
    c.insert("role".into(), user.role.clone().into());
    c.insert("aal".into(), session.aal.clone().into());
    c.insert("amr".into(), session.amr.clone());
    c.insert("session_id".into(), session.id.clone().into());
    c.insert("is_anonymous".into(), user.is_anonymous.into());
    c
}

/// GoTrue's session JSON (what `/token` and `/signup` answer).
pub(crate) fn session_json(
    access_token: String,
    refresh_token: String,
    expires_at: i64,
    lifetime_secs: u64,
    user: &UserRow,
) -> Value {
    json!({
        "access_token": access_token,
        "token_type": "bearer",
        "expires_in": lifetime_secs,
        "expires_at": expires_at,
        "refresh_token": refresh_token,
        "user": user_json(user),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_and_digests() {
        let a = new_refresh_token().unwrap();
        assert_eq!(a.len(), 43);
        assert_ne!(a, new_refresh_token().unwrap());
        assert_eq!(digest(&a).len(), 64);
        assert_eq!(digest(&a), digest(&a));
        let s = new_session_secret().unwrap();
        let c = child_token(&s, &a);
        assert_eq!(c, child_token(&s, &a));
        assert_eq!(c.len(), 43);
        assert_ne!(c, child_token(&new_session_secret().unwrap(), &a));
        assert_ne!(child_token(&s, &c), c);
    }

    #[test]
    fn stamps_round_trip() {
        let t = now();
        assert_eq!(parse_stamp(&stamp(t)), Some(t));
        assert!(stamp(t).ends_with('Z'));
        assert_eq!(identity_id("u1"), identity_id("u1"));
        assert_ne!(identity_id("u1"), identity_id("u2"));
    }
}
