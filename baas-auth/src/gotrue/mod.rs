//! Users and sessions at `/{tenant}/auth/v1/…`, spoken as GoTrue (Supabase
//! Auth) speaks it, so that an unmodified supabase-js signs up, signs in,
//! refreshes and signs out against any engine.
//!
//! [`AuthRoutes`] is a [`RouteFamily`]: register it on the service under
//! the name `auth`. The service has already turned the `apikey` /
//! `Authorization` headers into the request's principal (and refused
//! tokens that do not verify with 401) when a request gets here.
//!
//! | route | answer |
//! | --- | --- |
//! | `POST /signup?redirect_to=…` `{email, password, data}` | a session (autoconfirm on), or the user (off: a confirmation link is mailed, see below); 422 `user_already_exists` for a taken e-mail (autoconfirm on; off: a look-alike user, as GoTrue, so that sign-up does not tell who has an account, and a new link if that account is still unconfirmed), 422 `weak_password` |
//! | `POST /signup` `{data}` (no e-mail, no phone) | an anonymous user's session, if [`AuthSettings::allow_anonymous_sign_ins`] |
//! | `POST /token?grant_type=password` `{email, password}` | a session; 400 `invalid_credentials` alike (same answer, same time) for a wrong password and an unknown e-mail; 400 `email_not_confirmed` |
//! | `POST /token?grant_type=refresh_token` `{refresh_token}` | a new access token and the session's next refresh token (see below) |
//! | `GET /user`, `PUT /user` `{email, password, data}` | the caller's user; PUT changes e-mail (autoconfirm on), password (ends the user's other sessions) and merges `data` into `user_metadata` (`null` removes a key) |
//! | `POST /logout?scope=global\|local\|others` | 204; ends the sessions (default `global`) and deletes their refresh tokens |
//! | `POST /verify` `{type: "signup"\|"email", token_hash}` | confirms the address of the link's token and answers a session (auth-js `verifyOtp({token_hash, type})`); 403 `otp_expired` alike for an unknown, used, expired or altered token |
//! | `GET /verify?token=…&type=signup&redirect_to=…` | the link in the mail: confirms, then 303 to `redirect_to` if [allowed](AuthSettings::redirect_allow_list), else to [`AuthSettings::site_url`], with `#access_token=…&expires_at=…&expires_in=…&refresh_token=…&token_type=bearer&type=signup` (or `#error=access_denied&error_code=otp_expired&error_description=…`) |
//! | `POST /resend?redirect_to=…` `{type: "signup", email}` | mails a new link to an unconfirmed account; `{}` for every address (known, unknown, confirmed) |
//! | `GET /settings` | GoTrue's settings document |
//! | `GET /.well-known/jwks.json` | the tenant's public ES256 keys |
//! | `GET /health` | name and version |
//!
//! Other paths answer 404, other methods 405 with `Allow`. Phone sign-ups,
//! numeric one-time codes (`verifyOtp({email, token})`), magic links,
//! password recovery, confirming a changed e-mail, OAuth providers, MFA,
//! PKCE and the admin API are not served (422 / 400 / 404 as GoTrue
//! answers a disabled feature).
//!
//! **Confirmation mails**: with [`AuthSettings::autoconfirm`] off, sign-up
//! stores a single-use token (256 random bits; only its SHA-256 digest is
//! kept; valid [`AuthSettings::confirmation_token_lifetime_secs`]; a new
//! one replaces the user's previous one) and mails its link through the
//! routes' [`Mailer`] (SMTP from [`AuthSettings::smtp`], or one given in
//! code). Routes with autoconfirm off and no mailer refuse to open: a
//! server never accepts sign-ups it cannot confirm. Mails are handed to the
//! mailer on a task of their own, so that no answer (nor its duration)
//! depends on whether a mail went out; failures are logged. They are rate
//! limited per client IP and per address, counted whether or not an
//! account exists (429 `over_email_send_rate_limit`, also for a repeated
//! sign-up within the period, as GoTrue). `HEAD /verify` is refused (405)
//! so that a mail scanner probing the link does not use it.
//!
//! **Refresh tokens** are rotated on every exchange; only SHA-256 digests
//! are stored. A token exchanged less than
//! [`AuthSettings::refresh_token_reuse_interval_secs`] ago answers the
//! session's current refresh token (the same one for every such request:
//! refresh tokens are derived from their parent, see [`tokens`]) with a
//! fresh access token, so concurrent refreshes never log a user out.
//! Presented later, it ends the session (400 `refresh_token_already_used`).
//! Which of several concurrent requests exchanges a token is decided by a
//! conditional update in the store (`revoked = false` → `true`): exactly
//! one affects the row.
//!
//! **`/user`** needs a user's access token whose session still exists:
//! without `Authorization` 401 `no_authorization`; an API key (no `sub`)
//! 403 `bad_jwt`; an ended session 403 `session_not_found`.
//!
//! **Errors** follow GoTrue's two formats: with `X-Supabase-Api-Version:
//! 2024-01-01` (auth-js sends it) `{"code": "<error_code>", "message"}`
//! and the header echoed, otherwise `{"code": <status>, "error_code",
//! "msg"}`; 4xx for every client mistake, 5xx only when the store fails.
//!
//! **Protection**: passwords are hashed with argon2id on threads of their
//! own (at most 4 at once, so their memory is bounded too); sign-ups,
//! sign-ins and password changes are rate limited per client IP
//! (`x-real-ip`) and per e-mail, refreshes and verifications per IP, in
//! memory with bounded maps ([`crate::ratelimit`]), checked before any
//! hashing; bodies are read under 64 KiB; every field is bounded.
//!
//! Users, sessions, refresh tokens and confirmation tokens live in the
//! system store ([`store`]), through the IR, on any engine.

mod confirm;
mod error;
mod handlers;
mod password;
mod redirect;
mod request;
pub mod settings;
pub mod store;
pub mod tokens;

use std::sync::Arc;

use baas_core::adapter::DatabaseAdapter;
use baas_rest::{FamilyRequest, RestError, RestResponse, RouteFamily};

use crate::principal::KeyRing;
use crate::ratelimit::RateLimiter;

pub use settings::{AuthRateLimits, AuthSettings};
pub use store::{
    ONE_TIME_TOKEN_TABLE, REFRESH_TOKEN_TABLE, SESSION_TABLE, USER_TABLE, auth_schema,
};

use error::AuthError;
use password::Passwords;
use redirect::Redirects;
use store::Store;

use crate::mail::{Mailer, SmtpMailer};

/// The GoTrue-compatible routes (see the [module docs](self)).
pub struct AuthRoutes {
    store: Store,
    keys: Arc<KeyRing>,
    settings: AuthSettings,
    passwords: Passwords,
    mailer: Option<Arc<dyn Mailer>>,
    redirects: Redirects,
    /// Where confirmation links point (no trailing `/`).
    api_url: String,
    /// Places for mails waiting for the mailer.
    outbox: Arc<tokio::sync::Semaphore>,
    sign_in_per_ip: RateLimiter,
    sign_in_per_account: RateLimiter,
    refresh_per_ip: RateLimiter,
    verify_per_ip: RateLimiter,
    mail_per_ip: RateLimiter,
    mail_per_address: RateLimiter,
}

impl std::fmt::Debug for AuthRoutes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthRoutes")
            .field("store", &self.store)
            .field("settings", &self.settings)
            .field("mailer", &self.mailer.as_ref().map(|_| "configured"))
            .finish_non_exhaustive()
    }
}

/// A configuration error of the routes.
fn config_error(message: impl std::fmt::Display) -> baas_core::Error {
    baas_core::Error::Backend {
        message: format!("auth: {message}"),
        source: None,
    }
}

/// Threads hashing passwords at most.
const MAX_HASH_THREADS: usize = 4;

impl AuthRoutes {
    /// Serve users and sessions kept in `system` (the system store's
    /// database: its four tables are created when missing), signing access
    /// tokens with `keys`, sending confirmation mails through an
    /// [`SmtpMailer`] built from [`AuthSettings::smtp`] if it is set.
    ///
    /// Refused (an error naming the setting) when the settings are unusable:
    /// `autoconfirm` off without `smtp` (sign-ups could never be
    /// confirmed), a bad `site_url`, `api_external_url` or
    /// `redirect_allow_list` entry, unreadable SMTP settings.
    pub async fn open(
        system: Arc<dyn DatabaseAdapter>,
        keys: Arc<KeyRing>,
        settings: AuthSettings,
    ) -> baas_core::error::Result<Self> {
        let mailer: Option<Arc<dyn Mailer>> = match &settings.smtp {
            Some(smtp) => Some(Arc::new(
                SmtpMailer::from_settings(smtp).map_err(|e| config_error(format!("smtp: {e}")))?,
            )),
            None => None,
        };
        Self::open_inner(system, keys, settings, mailer).await
    }

    /// As [`open`](Self::open), sending confirmation mails through `mailer`
    /// (whatever [`AuthSettings::smtp`] says).
    pub async fn open_with_mailer(
        system: Arc<dyn DatabaseAdapter>,
        keys: Arc<KeyRing>,
        settings: AuthSettings,
        mailer: Arc<dyn Mailer>,
    ) -> baas_core::error::Result<Self> {
        Self::open_inner(system, keys, settings, Some(mailer)).await
    }

    /// Send confirmation mails through `mailer` from now on (replacing the
    /// mailer the routes were opened with).
    #[must_use]
    pub fn with_mailer(mut self, mailer: Arc<dyn Mailer>) -> Self {
        self.mailer = Some(mailer);
        self
    }

    async fn open_inner(
        system: Arc<dyn DatabaseAdapter>,
        keys: Arc<KeyRing>,
        settings: AuthSettings,
        mailer: Option<Arc<dyn Mailer>>,
    ) -> baas_core::error::Result<Self> {
        if !settings.autoconfirm && mailer.is_none() {
            return Err(config_error(
                "autoconfirm is off but no mailer is configured (set [auth.smtp], or turn \
                 autoconfirm on): sign-ups could never be confirmed",
            ));
        }
        let redirects = Redirects::new(&settings.site_url, &settings.redirect_allow_list)
            .map_err(config_error)?;
        let api_url = settings
            .api_external_url
            .clone()
            .unwrap_or_else(|| settings.site_url.clone());
        if redirect::Url::parse(&api_url, false).is_none() || api_url.contains('?') {
            return Err(config_error(format!(
                "api_external_url {api_url:?} is not an absolute http(s) URL without query or fragment"
            )));
        }
        let api_url = api_url.trim_end_matches('/').to_string();
        if settings.confirmation_token_lifetime_secs == 0 {
            return Err(config_error(
                "confirmation_token_lifetime_secs must be at least 1",
            ));
        }
        let store = Store::open(system).await?;
        let threads = std::thread::available_parallelism()
            .map_or(2, |n| n.get())
            .min(MAX_HASH_THREADS);
        let passwords = Passwords::start(threads)
            .await
            .map_err(|e| baas_core::Error::Backend {
                message: format!("auth: cannot start password hashing: {}", e.message),
                source: None,
            })?;
        let limits = &settings.rate_limits;
        let limiter = |rate| RateLimiter::new(rate, limits.max_tracked_keys);
        Ok(Self {
            store,
            keys,
            sign_in_per_ip: limiter(limits.sign_in_per_ip),
            sign_in_per_account: limiter(limits.sign_in_per_account),
            refresh_per_ip: limiter(limits.refresh_per_ip),
            verify_per_ip: limiter(limits.verify_per_ip),
            mail_per_ip: limiter(limits.mail_per_ip),
            mail_per_address: limiter(limits.mail_per_address),
            passwords,
            mailer,
            redirects,
            api_url,
            outbox: Arc::new(tokio::sync::Semaphore::new(confirm::MAX_PENDING_MAILS)),
            settings,
        })
    }

    /// The settings.
    pub fn settings(&self) -> &AuthSettings {
        &self.settings
    }

    /// Keys (IPs, e-mails) the rate limiters track right now, all limiters
    /// together; never more than [`max_tracked_keys`](Self::max_tracked_keys).
    pub fn tracked_keys(&self) -> usize {
        self.limiters().map(RateLimiter::len).sum()
    }

    /// The most keys the rate limiters track, all together.
    pub fn max_tracked_keys(&self) -> usize {
        self.limiters().map(RateLimiter::max_keys).sum()
    }

    fn limiters(&self) -> impl Iterator<Item = &RateLimiter> {
        [
            &self.sign_in_per_ip,
            &self.sign_in_per_account,
            &self.refresh_per_ip,
            &self.verify_per_ip,
            &self.mail_per_ip,
            &self.mail_per_address,
        ]
        .into_iter()
    }
}

/// The routes and their methods.
fn allowed(path: &str) -> Option<&'static str> {
    Some(match path {
        "/signup" | "/token" | "/logout" | "/resend" => "POST",
        "/verify" => "GET, POST",
        "/user" => "GET, HEAD, PUT",
        "/settings" | "/.well-known/jwks.json" | "/health" => "GET, HEAD",
        _ => return None,
    })
}

#[async_trait::async_trait]
impl RouteFamily for AuthRoutes {
    async fn handle(&self, mut req: FamilyRequest) -> Result<RestResponse, RestError> {
        let dated = error::dated_api(&req.request.headers);
        let method = req.request.method.to_ascii_uppercase();
        let path = match req.path.strip_suffix('/') {
            Some(p) if !p.is_empty() => p.to_string(),
            _ => req.path.clone(),
        };
        let Some(allow) = allowed(&path) else {
            request::discard(&mut req.request);
            return Ok(AuthError::new(404, "not_found", "Not Found").response(dated));
        };
        // HEAD of a link must not use it (mail scanners probe links).
        let verb = if method == "HEAD" && path != "/verify" {
            "GET"
        } else {
            method.as_str()
        };
        if !allow.split(", ").any(|m| m == verb) {
            request::discard(&mut req.request);
            let mut e = AuthError::new(405, "method_not_allowed", "Method Not Allowed");
            e.allow = Some(allow);
            return Ok(e.response(dated));
        }
        let answer = match (verb, path.as_str()) {
            ("POST", "/signup") => self.signup(&mut req).await,
            ("POST", "/token") => self.token(&mut req).await,
            ("GET", "/user") => self.get_user(&req).await,
            ("PUT", "/user") => self.put_user(&mut req).await,
            ("POST", "/logout") => self.logout(&mut req).await,
            ("POST", "/verify") => self.verify_post(&mut req).await,
            ("GET", "/verify") => self.verify_get(&mut req).await,
            ("POST", "/resend") => self.resend(&mut req).await,
            ("GET", "/settings") => Ok(self.settings_document()),
            ("GET", "/.well-known/jwks.json") => Ok(self.jwks(req.tenant.id())),
            _ => Ok(handlers::health()),
        };
        let mut resp = match answer {
            Ok(r) => r,
            Err(e) => e.response(dated),
        };
        if method == "HEAD" {
            resp.body = baas_rest::Body::empty();
        }
        Ok(resp)
    }
}
