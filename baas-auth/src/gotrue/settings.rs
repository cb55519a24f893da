//! [`AuthSettings`]: what the auth routes allow, how long tokens live,
//! where confirmation mails go and link to, and the rate limits. One set
//! for every tenant of the server.

use serde::{Deserialize, Serialize};

use crate::mail::SmtpSettings;
use crate::ratelimit::Rate;

/// The settings of the auth routes. Every field has a default
/// (`#[serde(default)]`), so a configuration file names only what it
/// changes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuthSettings {
    /// Seconds an access token stays valid (`exp - iat`, the session's
    /// `expires_in`). Default 3600.
    pub access_token_lifetime_secs: u64,
    /// Seconds during which a refresh token that was already exchanged may
    /// be presented again and still answer the session's current refresh
    /// token (two tabs refreshing at once must not log the user out).
    /// Presented later, it revokes the whole session. Default 10.
    pub refresh_token_reuse_interval_secs: u64,
    /// Whether `POST /signup` without e-mail or phone creates an anonymous
    /// user (`signInAnonymously()`). Default true.
    pub allow_anonymous_sign_ins: bool,
    /// Refuse every sign-up (existing users still sign in). Default false.
    pub disable_signup: bool,
    /// Confirm e-mail addresses at sign-up without a confirmation e-mail.
    /// Default true. When false, sign-up answers the user without a session,
    /// mails a confirmation link (through [`smtp`](Self::smtp) or the mailer
    /// given to the routes; the routes refuse to open without one), and
    /// password sign-in answers "Email not confirmed" until the link (or
    /// `POST /verify`) confirms the address.
    pub autoconfirm: bool,
    /// The shortest password accepted (characters). Default 6, as GoTrue.
    pub password_min_length: usize,
    /// The application's URL (GoTrue's `SITE_URL`): where a confirmation
    /// link lands when the sign-up named no allowed `redirect_to`, and
    /// always an allowed redirect itself (with the paths under it).
    /// Default `http://localhost:3000`.
    pub site_url: String,
    /// The public base URL of this server as browsers reach it (GoTrue's
    /// `API_EXTERNAL_URL`): confirmation links point at
    /// `{api_external_url}/{tenant}/auth/v1/verify`. Default: `site_url`.
    pub api_external_url: Option<String>,
    /// Where else a confirmation link may redirect (`redirect_to`, from
    /// auth-js's `emailRedirectTo`): absolute `http(s)` URLs, each allowing
    /// its scheme, host and port and the paths under its path
    /// (`https://app.example.com` allows every page of that origin,
    /// `https://app.example.com/auth` only `/auth` and below); a host
    /// `*.example.com` allows its subdomains. Anything else falls back to
    /// `site_url`. Default empty.
    pub redirect_allow_list: Vec<String>,
    /// Seconds a confirmation link stays valid. Default 86 400 (24 h).
    pub confirmation_token_lifetime_secs: u64,
    /// The SMTP server confirmation mails are sent through (`[auth.smtp]`).
    /// Default none: then the routes need a mailer given in code, or
    /// `autoconfirm` on.
    pub smtp: Option<SmtpSettings>,
    /// Request rate limits.
    pub rate_limits: AuthRateLimits,
}

impl Default for AuthSettings {
    fn default() -> Self {
        Self {
            access_token_lifetime_secs: 3600,
            refresh_token_reuse_interval_secs: 10,
            allow_anonymous_sign_ins: true,
            disable_signup: false,
            autoconfirm: true,
            password_min_length: 6,
            site_url: "http://localhost:3000".into(),
            api_external_url: None,
            redirect_allow_list: Vec::new(),
            confirmation_token_lifetime_secs: 24 * 3600,
            smtp: None,
            rate_limits: AuthRateLimits::default(),
        }
    }
}

/// Rate limits of the auth routes, kept in memory per server (a cluster of
/// N servers allows up to N times as much). Each is per tenant; the client
/// IP is the `x-real-ip` header set by the server's edge (requests without
/// it share one bucket). A refused request answers 429
/// `over_request_rate_limit`, checked before any password is hashed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuthRateLimits {
    /// Sign-ups (e-mail and anonymous), password sign-ins and password
    /// changes per client IP. Default 150 per 5 minutes.
    pub sign_in_per_ip: Rate,
    /// Sign-ups and password sign-ins per e-mail address (whoever sends
    /// them): slows password guessing on one account from many IPs.
    /// Default 30 per 5 minutes.
    pub sign_in_per_account: Rate,
    /// Refresh-token exchanges per client IP. Default 150 per 5 minutes
    /// (GoTrue's).
    pub refresh_per_ip: Rate,
    /// `POST` / `GET /verify` per client IP. Default 30 per 5 minutes
    /// (GoTrue's).
    pub verify_per_ip: Rate,
    /// Confirmation mails (sign-ups with `autoconfirm` off, `POST /resend`)
    /// per client IP. Default 30 per hour.
    pub mail_per_ip: Rate,
    /// Confirmation mails per e-mail address, counted whether or not an
    /// account has that address (so the answer tells nothing). A refused
    /// request answers 429 `over_email_send_rate_limit`. Default 1 per 60 s
    /// (GoTrue's `SMTP_MAX_FREQUENCY`).
    pub mail_per_address: Rate,
    /// Keys (IPs, accounts) each limiter tracks at most; see
    /// [`crate::ratelimit`]. Default 10 000.
    pub max_tracked_keys: usize,
}

impl Default for AuthRateLimits {
    fn default() -> Self {
        Self {
            sign_in_per_ip: Rate::new(150, 300),
            sign_in_per_account: Rate::new(30, 300),
            refresh_per_ip: Rate::new(150, 300),
            verify_per_ip: Rate::new(30, 300),
            mail_per_ip: Rate::new(30, 3600),
            mail_per_address: Rate::new(1, 60),
            max_tracked_keys: 10_000,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partial_settings_take_defaults() {
        let s: AuthSettings = serde_json::from_value(serde_json::json!({
            "autoconfirm": false,
            "rate_limits": {"sign_in_per_ip": {"requests": 5, "period_secs": 60}}
        }))
        .unwrap();
        assert!(!s.autoconfirm);
        assert_eq!(s.access_token_lifetime_secs, 3600);
        assert_eq!(s.rate_limits.sign_in_per_ip, Rate::new(5, 60));
        assert_eq!(s.rate_limits.max_tracked_keys, 10_000);
        assert_eq!(s.confirmation_token_lifetime_secs, 86_400);
        assert_eq!(s.smtp, None);
        let s: AuthSettings = serde_json::from_value(serde_json::json!({
            "site_url": "https://app.example.com",
            "smtp": {"host": "127.0.0.1", "port": 2525, "tls": "none", "from": "a@example.com"}
        }))
        .unwrap();
        let smtp = s.smtp.unwrap();
        assert_eq!(
            (smtp.port, smtp.tls),
            (Some(2525), crate::mail::SmtpTls::None)
        );
        assert!(serde_json::from_value::<AuthSettings>(serde_json::json!({"nope": 1})).is_err());
    }
}
