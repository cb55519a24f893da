//! E-mail confirmation: the link mailed at sign-up (and by `POST
//! /resend`), and `/verify`, which uses it.
//!
//! A confirmation token is 256 random bits (base64url); only its SHA-256
//! digest is stored, with the address it confirms and its expiry. It is
//! used at most once (a conditional delete decides between concurrent
//! uses), and a new one replaces the user's previous one. The link is
//! `{api_external_url}/{tenant}/auth/v1/verify?token=…&type=signup&redirect_to=…`;
//! the same token is what auth-js's `verifyOtp({token_hash, type})` sends.
//!
//! Mails are handed to the mailer on a task of their own, so that a
//! request's answer and duration do not depend on whether a mail went out
//! (`POST /resend` answers alike for every address); failures are logged.
//! At most [`MAX_PENDING_MAILS`] wait at once; beyond, 429.

use std::sync::Arc;

use baas_rest::{FamilyRequest, RestResponse};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::json;
use tokio::sync::OwnedSemaphorePermit;

use super::AuthRoutes;
use super::error::{AuthError, json_response};
use super::handlers::{Method, ip_key, limit};
use super::redirect::{encode, html_escape};
use super::request::{
    MAX_EMAIL_LEN, discard, json_body, normalize_email, query_param, string_field,
};
use super::store::{CONFIRMATION, OneTimeTokenRow, UserRow};
use super::tokens::{digest, now, parse_stamp, random, stamp};
use crate::mail::{Mail, Mailer};

/// Mails waiting for the mailer at most.
pub(crate) const MAX_PENDING_MAILS: usize = 256;
/// Longest token read (ours are 43 characters).
const MAX_TOKEN_LEN: usize = 256;

/// A place in the outbox, taken before the work that sends a mail.
pub(super) struct Outgoing {
    _permit: OwnedSemaphorePermit,
}

/// The verification types GoTrue knows.
const KNOWN_TYPES: [&str; 8] = [
    "signup",
    "invite",
    "magiclink",
    "recovery",
    "email_change",
    "email",
    "sms",
    "phone_change",
];

fn invalid_token() -> AuthError {
    AuthError::new(403, "otp_expired", "Token has expired or is invalid")
}

impl AuthRoutes {
    /// The per-IP and per-address mail limits, and a place in the outbox.
    pub(super) fn reserve_mail(
        &self,
        req: &FamilyRequest,
        tenant: &str,
        email: &str,
    ) -> Result<Outgoing, AuthError> {
        let over = |e: AuthError| AuthError {
            code: "over_email_send_rate_limit",
            message: "Email rate limit exceeded".into(),
            ..e
        };
        limit(&self.mail_per_ip, tenant, &ip_key(req)).map_err(over)?;
        limit(&self.mail_per_address, tenant, email).map_err(over)?;
        self.outbox
            .clone()
            .try_acquire_owned()
            .map(|p| Outgoing { _permit: p })
            .map_err(|_| {
                tracing::warn!("auth: {MAX_PENDING_MAILS} mails are waiting; refusing more");
                over(AuthError::rate_limited(std::time::Duration::from_secs(5)))
            })
    }

    /// Store a new confirmation token for `user` and mail its link.
    pub(super) async fn send_confirmation(
        &self,
        req: &FamilyRequest,
        user: &UserRow,
        outgoing: Outgoing,
    ) -> Result<(), AuthError> {
        let Some(mailer) = self.mailer.clone() else {
            return Err(AuthError::internal("a confirmation mail without a mailer"));
        };
        let Some(email) = user.email.clone() else {
            return Err(AuthError::internal(
                "a confirmation for a user without e-mail",
            ));
        };
        let tenant = req.tenant.id();
        let token = URL_SAFE_NO_PAD.encode(random::<32>()?);
        let at = now();
        let lifetime = i64::try_from(self.settings.confirmation_token_lifetime_secs)
            .unwrap_or(i64::MAX / 2_000)
            .min(10 * 365 * 24 * 3600);
        let row = OneTimeTokenRow {
            digest: digest(&token),
            user_id: user.id.clone(),
            kind: CONFIRMATION.into(),
            email: email.clone(),
            created_at: stamp(at),
            expires_at: stamp(at + chrono::Duration::seconds(lifetime)),
        };
        self.store.replace_one_time_token(tenant, &row).await?;
        let redirect = self
            .redirects
            .target(query_param(&req.request.query, "redirect_to").as_deref());
        let link = format!(
            "{}/{}/auth/v1/verify?token={}&type=signup&redirect_to={}",
            self.api_url,
            encode(tenant),
            token,
            encode(&redirect)
        );
        let mail = confirmation_mail(email, &link, lifetime);
        let (tenant, user_id) = (tenant.to_string(), user.id.clone());
        tokio::spawn(deliver(mailer, mail, tenant, user_id, outgoing));
        Ok(())
    }

    // ---------- /verify ----------

    /// Use the confirmation token `token`: the confirmed user.
    async fn confirm(&self, tenant: &str, token: &str) -> Result<UserRow, AuthError> {
        if token.len() > MAX_TOKEN_LEN {
            return Err(invalid_token());
        }
        let d = digest(token);
        let store = &self.store;
        let Some(row) = store.one_time_token(tenant, &d).await? else {
            return Err(invalid_token());
        };
        if row.kind != CONFIRMATION {
            return Err(invalid_token());
        }
        let at = now();
        let expired = parse_stamp(&row.expires_at).is_none_or(|e| e <= at);
        // Used (or expired): gone either way; one request wins a race.
        if !store.consume_one_time_token(tenant, &d).await? || expired {
            return Err(invalid_token());
        }
        let Some(mut user) = store.user(tenant, &row.user_id).await? else {
            return Err(invalid_token());
        };
        if user.email.as_deref() != Some(row.email.as_str()) {
            return Err(invalid_token());
        }
        if user.email_confirmed_at.is_none() {
            let ts = stamp(at);
            if !store
                .confirm_email(tenant, &user.id, &row.email, &ts)
                .await?
            {
                return Err(invalid_token());
            }
            user.email_confirmed_at = Some(ts.clone());
            user.updated_at = ts;
        }
        Ok(user)
    }

    /// `POST /verify {type, token_hash}`: a session.
    pub(super) async fn verify_post(
        &self,
        req: &mut FamilyRequest,
    ) -> Result<RestResponse, AuthError> {
        let tenant = req.tenant.id().to_string();
        if let Err(e) = limit(&self.verify_per_ip, &tenant, &ip_key(req)) {
            discard(&mut req.request);
            return Err(e);
        }
        let body = json_body(&mut req.request).await?;
        let kind = string_field(&body, "type", 32)?;
        let method = verify_method(kind.as_deref())?;
        let Some(token) = string_field(&body, "token_hash", MAX_TOKEN_LEN)? else {
            return Err(if body.get("token").is_some_and(|t| !t.is_null()) {
                AuthError::validation(
                    "Verifying a one-time code is not supported: send the token_hash of the confirmation link",
                )
            } else {
                AuthError::validation("Verify requires a token_hash")
            });
        };
        let user = self.confirm(&tenant, &token).await?;
        self.start_session(req, user, method).await
    }

    /// `GET /verify?token&type&redirect_to`: a 303 to `redirect_to` (if
    /// allowed, else the site URL) with the session, or the error, in the
    /// fragment.
    pub(super) async fn verify_get(
        &self,
        req: &mut FamilyRequest,
    ) -> Result<RestResponse, AuthError> {
        discard(&mut req.request);
        let tenant = req.tenant.id().to_string();
        limit(&self.verify_per_ip, &tenant, &ip_key(req))?;
        let q = &req.request.query;
        let target = self
            .redirects
            .target(query_param(q, "redirect_to").as_deref());
        let kind = query_param(q, "type").filter(|k| !k.is_empty());
        let method = verify_method(kind.as_deref())?;
        let token = query_param(q, "token").unwrap_or_default();
        let fragment = match self.confirm(&tenant, &token).await {
            Ok(user) => {
                let i = self.issue_session(req, user, method).await?;
                format!(
                    "access_token={}&expires_at={}&expires_in={}&refresh_token={}&token_type=bearer&type={}",
                    encode(&i.access),
                    i.expires_at,
                    self.settings.access_token_lifetime_secs,
                    encode(&i.refresh),
                    encode(kind.as_deref().unwrap_or("signup")),
                )
            }
            Err(e) if e.status < 500 => format!(
                "error=access_denied&error_code={}&error_description={}",
                e.code,
                encode("Email link is invalid or has expired")
            ),
            Err(e) => return Err(e),
        };
        Ok(RestResponse::new(
            303,
            vec![
                ("location".into(), format!("{target}#{fragment}")),
                ("cache-control".into(), "no-store".into()),
                ("referrer-policy".into(), "no-referrer".into()),
            ],
            baas_rest::Body::empty(),
        ))
    }

    // ---------- /resend ----------

    /// `POST /resend {type: "signup", email}`: `{}` for every address.
    pub(super) async fn resend(&self, req: &mut FamilyRequest) -> Result<RestResponse, AuthError> {
        let tenant = req.tenant.id().to_string();
        let body = json_body(&mut req.request).await?;
        match string_field(&body, "type", 32)?.as_deref() {
            Some("signup") => {}
            Some("email_change" | "sms" | "phone_change") => {
                return Err(AuthError::validation(
                    "Only signup confirmations can be resent",
                ));
            }
            _ => {
                return Err(AuthError::validation(
                    "Missing one of these types: signup, email_change, sms, phone_change",
                ));
            }
        }
        let Some(email) = string_field(&body, "email", 4 * MAX_EMAIL_LEN)? else {
            return Err(AuthError::validation("Resend requires an email"));
        };
        let email = normalize_email(&email)?;
        if self.settings.autoconfirm {
            // Nothing waits for a confirmation.
            return Ok(json_response(200, &json!({})));
        }
        let outgoing = self.reserve_mail(req, &tenant, &email)?;
        if let Some(user) = self.store.user_by_email(&tenant, &email).await?
            && user.email_confirmed_at.is_none()
        {
            self.send_confirmation(req, &user, outgoing).await?;
        }
        Ok(json_response(200, &json!({})))
    }
}

/// The session method of a verification `type`.
fn verify_method(kind: Option<&str>) -> Result<Method, AuthError> {
    match kind {
        Some("signup") => Ok(Method::EmailSignup),
        Some("email") => Ok(Method::Otp),
        Some(k) if KNOWN_TYPES.contains(&k) => Err(AuthError::validation(format!(
            "Verification of type {k} is not supported"
        ))),
        _ => Err(AuthError::validation("Verify requires a verification type")),
    }
}

/// The confirmation mail: plain text and HTML, nothing unescaped.
fn confirmation_mail(to: String, link: &str, lifetime_secs: i64) -> Mail {
    let valid = if lifetime_secs >= 3600 && lifetime_secs % 3600 == 0 {
        let h = lifetime_secs / 3600;
        format!("{h} hour{}", if h == 1 { "" } else { "s" })
    } else {
        let m = (lifetime_secs / 60).max(1);
        format!("{m} minute{}", if m == 1 { "" } else { "s" })
    };
    let text = format!(
        "Confirm your signup\n\n\
         Follow this link to confirm your e-mail address:\n\n{link}\n\n\
         The link is valid for {valid} and can be used once. \
         If you did not sign up, ignore this e-mail.\n"
    );
    let href = html_escape(link);
    let html = format!(
        "<!DOCTYPE html>\n<html><body>\n<h2>Confirm your signup</h2>\n\
         <p>Follow this link to confirm your e-mail address:</p>\n\
         <p><a href=\"{href}\">Confirm your e-mail address</a></p>\n\
         <p>The link is valid for {valid} and can be used once. \
         If you did not sign up, ignore this e-mail.</p>\n</body></html>\n"
    );
    Mail {
        to,
        subject: "Confirm your signup".into(),
        text,
        html: Some(html),
    }
}

/// Hand `mail` to the mailer, logging the outcome (never the link).
async fn deliver(
    mailer: Arc<dyn Mailer>,
    mail: Mail,
    tenant: String,
    user: String,
    outgoing: Outgoing,
) {
    match mailer.send(mail).await {
        Ok(()) => tracing::debug!(tenant, user, "auth: confirmation mail sent"),
        Err(e) => {
            tracing::error!(tenant, user, error = %e, "auth: the confirmation mail was not sent")
        }
    }
    drop(outgoing);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mails_escape_the_link() {
        let m = confirmation_mail(
            "a@example.com".into(),
            "https://x.example/v?token=a&redirect_to=%3C",
            86_400,
        );
        assert!(
            m.text
                .contains("https://x.example/v?token=a&redirect_to=%3C")
        );
        assert!(m.text.contains("24 hours"));
        let html = m.html.unwrap();
        assert!(html.contains("href=\"https://x.example/v?token=a&amp;redirect_to=%3C\""));
        assert!(!html.contains("&redirect_to"));
        assert!(
            confirmation_mail("a@b.c".into(), "l", 90)
                .text
                .contains("1 minute ")
        );
    }

    #[test]
    fn verify_types() {
        assert!(matches!(
            verify_method(Some("signup")),
            Ok(Method::EmailSignup)
        ));
        assert!(matches!(verify_method(Some("email")), Ok(Method::Otp)));
        assert_eq!(verify_method(Some("recovery")).err().unwrap().status, 422);
        assert_eq!(verify_method(None).err().unwrap().code, "validation_failed");
    }
}
