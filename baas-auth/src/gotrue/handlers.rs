//! The handlers of [`AuthRoutes`].

use baas_rest::{FamilyRequest, RestResponse, header};
use serde_json::{Map, Value, json};

use super::AuthRoutes;
use super::error::{AuthError, json_response};
use super::password::{MAX_PASSWORD_BYTES, weakness};
use super::request::{
    MAX_EMAIL_LEN, check_metadata, client_ip, discard, json_body, normalize_email, object_field,
    query_param, string_field, user_agent,
};
use super::store::{Scope, SessionRow, UserRow};
use super::tokens::{
    MAX_REFRESH_TOKEN_LEN, access_claims, child_token, digest, new_refresh_token,
    new_session_secret, now, parse_stamp, session_json, stamp, user_json,
};
use crate::principal::AUTHENTICATED_ROLE;
use crate::ratelimit::RateLimiter;

/// How many exchanged tokens a refresh follows to find the session's
/// current one.
const MAX_CHAIN: usize = 16;
/// Exchanged refresh tokens are kept this long to detect their reuse.
const KEEP_EXCHANGED_SECS: i64 = 24 * 3600;
/// Longest phone number read.
const MAX_PHONE_LEN: usize = 32;

/// What a new session is started by (its `amr` method).
#[derive(Clone, Copy)]
pub(super) enum Method {
    Password,
    Anonymous,
    /// A sign-up confirmation link (`type=signup`).
    EmailSignup,
    /// A one-time e-mail token (`type=email`).
    Otp,
}

impl Method {
    fn name(self) -> &'static str {
        match self {
            Self::Password => "password",
            Self::Anonymous => "anonymous",
            Self::EmailSignup => "email/signup",
            Self::Otp => "otp",
        }
    }
}

/// A new session's tokens, before they are answered.
pub(super) struct Issued {
    pub user: UserRow,
    pub access: String,
    pub refresh: String,
    pub expires_at: i64,
}

pub(super) fn limit(limiter: &RateLimiter, tenant: &str, key: &str) -> Result<(), AuthError> {
    limiter
        .check(&format!("{tenant}\0{key}"))
        .map_err(AuthError::rate_limited)
}

pub(super) fn ip_key(req: &FamilyRequest) -> String {
    client_ip(&req.request.headers).unwrap_or_else(|| "-".into())
}

fn new_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

fn provider_metadata(provider: &str) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("provider".into(), provider.into());
    m.insert("providers".into(), json!([provider]));
    m
}

pub(super) fn health() -> RestResponse {
    json_response(
        200,
        &json!({
            "version": env!("CARGO_PKG_VERSION"),
            "name": "mini-baas auth",
            "description": "GoTrue-compatible users and sessions of mini-baas",
        }),
    )
}

impl AuthRoutes {
    // ---------- sessions ----------

    /// Start a session for `user` and answer it.
    pub(super) async fn start_session(
        &self,
        req: &FamilyRequest,
        user: UserRow,
        method: Method,
    ) -> Result<RestResponse, AuthError> {
        let i = self.issue_session(req, user, method).await?;
        let lifetime = self.settings.access_token_lifetime_secs;
        Ok(json_response(
            200,
            &session_json(i.access, i.refresh, i.expires_at, lifetime, &i.user),
        ))
    }

    /// Start a session for `user`: its tokens.
    pub(super) async fn issue_session(
        &self,
        req: &FamilyRequest,
        mut user: UserRow,
        method: Method,
    ) -> Result<Issued, AuthError> {
        let tenant = req.tenant.id();
        let at = now();
        let ts = stamp(at);
        let session = SessionRow {
            id: new_id(),
            user_id: user.id.clone(),
            aal: "aal1".into(),
            amr: json!([{"method": method.name(), "timestamp": at.timestamp()}]),
            secret: new_session_secret()?,
            created_at: ts.clone(),
            refreshed_at: None,
            user_agent: user_agent(&req.request.headers),
            ip: client_ip(&req.request.headers),
        };
        self.store.insert_session(tenant, &session).await?;
        let refresh = new_refresh_token()?;
        self.store
            .insert_token(tenant, &digest(&refresh), &session, None, &ts)
            .await?;
        self.store.signed_in(tenant, &user.id, &ts).await?;
        user.last_sign_in_at = Some(ts);
        let (access, expires_at) = self.access_token(tenant, &user, &session);
        Ok(Issued {
            user,
            access,
            refresh,
            expires_at,
        })
    }

    /// A new access token for `user` in `session`, and its `exp`.
    fn access_token(&self, tenant: &str, user: &UserRow, session: &SessionRow) -> (String, i64) {
        let lifetime = self.settings.access_token_lifetime_secs;
        let iat = chrono::Utc::now().timestamp();
        let claims = access_claims(user, session, iat, lifetime);
        let exp = claims.get("exp").and_then(Value::as_i64).unwrap_or(iat);
        (self.keys.tenant(tenant).sign_access_token(claims), exp)
    }

    /// A new access token for `user` in `session`, with `refresh`.
    fn session_response(
        &self,
        tenant: &str,
        user: &UserRow,
        session: &SessionRow,
        refresh: String,
    ) -> RestResponse {
        let lifetime = self.settings.access_token_lifetime_secs;
        let (access, exp) = self.access_token(tenant, user, session);
        json_response(200, &session_json(access, refresh, exp, lifetime, user))
    }

    // ---------- sign-up ----------

    pub(super) async fn signup(&self, req: &mut FamilyRequest) -> Result<RestResponse, AuthError> {
        let tenant = req.tenant.id().to_string();
        if let Err(e) = limit(&self.sign_in_per_ip, &tenant, &ip_key(req)) {
            discard(&mut req.request);
            return Err(e);
        }
        let body = json_body(&mut req.request).await?;
        let email = string_field(&body, "email", 4 * MAX_EMAIL_LEN)?;
        let phone = string_field(&body, "phone", MAX_PHONE_LEN)?;
        let password = string_field(&body, "password", MAX_PASSWORD_BYTES)?;
        let data = object_field(&body, "data")?.unwrap_or_default();
        check_metadata(&data)?;
        let s = &self.settings;
        let Some(email) = email else {
            if phone.is_some() {
                return Err(if s.disable_signup {
                    signup_disabled()
                } else {
                    AuthError::unprocessable(
                        "phone_provider_disabled",
                        "Phone signups are disabled",
                    )
                });
            }
            return self.anonymous(req, data).await;
        };
        if s.disable_signup {
            return Err(signup_disabled());
        }
        if phone.is_some() {
            return Err(AuthError::validation(
                "Only an email address or phone number should be provided on signup.",
            ));
        }
        let email = normalize_email(&email)?;
        let Some(password) = password else {
            return Err(AuthError::validation("Signup requires a valid password"));
        };
        if let Some(weak) = weakness(&password, s.password_min_length) {
            return Err(weak);
        }
        limit(&self.sign_in_per_account, &tenant, &email)?;
        // With confirmations: the mail's limits and a place in the outbox
        // before any work, the same whether or not the address is taken.
        let outgoing = if s.autoconfirm {
            None
        } else {
            Some(self.reserve_mail(req, &tenant, &email)?)
        };
        // Hash first, insert second: a taken e-mail costs the same time, and
        // the unique index decides between concurrent sign-ups.
        let hash = self.passwords.hash(password.into_bytes()).await?;
        let ts = stamp(now());
        let user = UserRow {
            id: new_id(),
            email: Some(email),
            phone: None,
            password_hash: Some(hash),
            aud: AUTHENTICATED_ROLE.into(),
            role: AUTHENTICATED_ROLE.into(),
            email_confirmed_at: s.autoconfirm.then(|| ts.clone()),
            last_sign_in_at: None,
            app_metadata: provider_metadata("email"),
            user_metadata: data,
            is_anonymous: false,
            created_at: ts.clone(),
            updated_at: ts,
        };
        if !self.store.insert_user(&tenant, &user).await? {
            let Some(outgoing) = outgoing else {
                return Err(AuthError::unprocessable(
                    "user_already_exists",
                    "User already registered",
                ));
            };
            // An account that is still unconfirmed gets a new link (its
            // password is not changed); a confirmed one gets nothing.
            if let Some(existing) = self.store.user_by_email(&tenant, &email_of(&user)).await?
                && existing.email_confirmed_at.is_none()
            {
                self.send_confirmation(req, &existing, outgoing).await?;
            }
            // GoTrue answers a look-alike of a new unconfirmed user (no
            // identities), so that sign-up does not tell who has an account.
            let fake = UserRow {
                id: new_id(),
                password_hash: None,
                ..user
            };
            let mut v = user_json(&fake);
            v["identities"] = json!([]);
            return Ok(json_response(200, &v));
        }
        match outgoing {
            None => self.start_session(req, user, Method::Password).await,
            Some(outgoing) => {
                self.send_confirmation(req, &user, outgoing).await?;
                Ok(json_response(200, &user_json(&user)))
            }
        }
    }

    async fn anonymous(
        &self,
        req: &FamilyRequest,
        data: Map<String, Value>,
    ) -> Result<RestResponse, AuthError> {
        if !self.settings.allow_anonymous_sign_ins {
            return Err(AuthError::unprocessable(
                "anonymous_provider_disabled",
                "Anonymous sign-ins are disabled",
            ));
        }
        if self.settings.disable_signup {
            return Err(signup_disabled());
        }
        let ts = stamp(now());
        let user = UserRow {
            id: new_id(),
            email: None,
            phone: None,
            password_hash: None,
            aud: AUTHENTICATED_ROLE.into(),
            role: AUTHENTICATED_ROLE.into(),
            email_confirmed_at: None,
            last_sign_in_at: None,
            app_metadata: provider_metadata("anonymous"),
            user_metadata: data,
            is_anonymous: true,
            created_at: ts.clone(),
            updated_at: ts,
        };
        if !self.store.insert_user(req.tenant.id(), &user).await? {
            return Err(AuthError::internal("a new anonymous user's id is taken"));
        }
        self.start_session(req, user, Method::Anonymous).await
    }

    // ---------- /token ----------

    pub(super) async fn token(&self, req: &mut FamilyRequest) -> Result<RestResponse, AuthError> {
        match query_param(&req.request.query, "grant_type").as_deref() {
            Some("password") => self.password_grant(req).await,
            Some("refresh_token") => self.refresh_grant(req).await,
            _ => {
                discard(&mut req.request);
                Err(AuthError::bad_request(
                    "validation_failed",
                    "unsupported_grant_type",
                ))
            }
        }
    }

    async fn password_grant(&self, req: &mut FamilyRequest) -> Result<RestResponse, AuthError> {
        let tenant = req.tenant.id().to_string();
        if let Err(e) = limit(&self.sign_in_per_ip, &tenant, &ip_key(req)) {
            discard(&mut req.request);
            return Err(e);
        }
        let body = json_body(&mut req.request).await?;
        let email = string_field(&body, "email", MAX_PASSWORD_BYTES)?;
        let phone = string_field(&body, "phone", MAX_PASSWORD_BYTES)?;
        let password = match body.get("password") {
            Some(Value::String(p)) => p.clone(),
            None | Some(Value::Null) => String::new(),
            Some(_) => {
                return Err(AuthError::bad_request(
                    "bad_json",
                    "`password` must be a string",
                ));
            }
        };
        // The account is named by its e-mail (or phone: no account has one
        // yet, so a phone never signs in). Lookup and limits use the same
        // normalised form whether or not the account exists.
        let account = match (&email, &phone) {
            (Some(e), _) => format!("e:{}", e.trim().to_lowercase()),
            (None, Some(p)) => format!("p:{}", p.trim()),
            (None, None) => {
                return Err(AuthError::bad_request(
                    "validation_failed",
                    "missing email or phone",
                ));
            }
        };
        limit(&self.sign_in_per_account, &tenant, &account)?;
        let user = match account.strip_prefix("e:") {
            Some(e) if e.len() <= MAX_EMAIL_LEN => self.store.user_by_email(&tenant, e).await?,
            _ => None,
        };
        // An over-long password is refused before hashing, for every account.
        let matches = password.len() <= MAX_PASSWORD_BYTES
            && self
                .passwords
                .verify(
                    password.into_bytes(),
                    user.as_ref().and_then(|u| u.password_hash.clone()),
                )
                .await?;
        let Some(user) = user.filter(|_| matches) else {
            return Err(AuthError::invalid_credentials());
        };
        if user.email_confirmed_at.is_none() {
            return Err(AuthError::bad_request(
                "email_not_confirmed",
                "Email not confirmed",
            ));
        }
        self.start_session(req, user, Method::Password).await
    }

    async fn refresh_grant(&self, req: &mut FamilyRequest) -> Result<RestResponse, AuthError> {
        let tenant = req.tenant.id().to_string();
        if let Err(e) = limit(&self.refresh_per_ip, &tenant, &ip_key(req)) {
            discard(&mut req.request);
            return Err(e);
        }
        let body = json_body(&mut req.request).await?;
        let token = match body.get("refresh_token") {
            Some(Value::String(t)) if !t.is_empty() => t.clone(),
            _ => {
                return Err(AuthError::bad_request(
                    "validation_failed",
                    "refresh_token required",
                ));
            }
        };
        if token.len() > MAX_REFRESH_TOKEN_LEN {
            return Err(AuthError::refresh_token_not_found());
        }
        let (user, session, next) = self.rotate(&tenant, token).await?;
        Ok(self.session_response(&tenant, &user, &session, next))
    }

    /// Exchange `token`: the user, its session and the session's next
    /// refresh token (see the module docs).
    async fn rotate(
        &self,
        tenant: &str,
        token: String,
    ) -> Result<(UserRow, SessionRow, String), AuthError> {
        let store = &self.store;
        let Some(row) = store.token(tenant, &digest(&token)).await? else {
            return Err(AuthError::refresh_token_not_found());
        };
        let Some(session) = store.session(tenant, &row.session_id).await? else {
            return Err(AuthError::refresh_token_not_found());
        };
        let Some(user) = store.user(tenant, &session.user_id).await? else {
            return Err(AuthError::refresh_token_not_found());
        };
        if session.user_id != row.user_id {
            return Err(AuthError::refresh_token_not_found());
        }
        let at = now();
        let ts = stamp(at);
        if !row.revoked {
            if store.revoke_if_active(tenant, &row.digest, &ts).await? {
                // This request exchanges the token.
                let child = child_token(&session.secret, &token);
                store
                    .insert_token(tenant, &digest(&child), &session, Some(&row.digest), &ts)
                    .await?;
                if !store.refreshed(tenant, &session.id, &ts).await? {
                    // Signed out meanwhile.
                    return Err(AuthError::refresh_token_not_found());
                }
                let before = stamp(at - chrono::Duration::seconds(KEEP_EXCHANGED_SECS));
                store.purge_exchanged(tenant, &session.id, &before).await?;
                return Ok((user, session, child));
            }
            // Another request exchanged it just now: within the interval.
        } else {
            let window = i64::try_from(self.settings.refresh_token_reuse_interval_secs)
                .unwrap_or(i64::MAX)
                .saturating_mul(1000);
            let revoked = row.revoked_at.as_deref().and_then(parse_stamp);
            let stale = revoked.is_none_or(|r| (at - r).num_milliseconds() > window);
            if stale {
                tracing::warn!(
                    tenant,
                    session = %session.id,
                    "auth: an exchanged refresh token was reused; the session is ended"
                );
                store
                    .end_sessions(
                        tenant,
                        Scope::Local {
                            session: &session.id,
                        },
                    )
                    .await?;
                return Err(AuthError::bad_request(
                    "refresh_token_already_used",
                    "Invalid Refresh Token: Already Used",
                ));
            }
        }
        // Follow the exchanges down to the session's current token.
        let mut current = token;
        for _ in 0..MAX_CHAIN {
            let child = child_token(&session.secret, &current);
            let d = digest(&child);
            match store.token(tenant, &d).await? {
                Some(r) if !r.revoked => return Ok((user, session, child)),
                Some(_) => current = child,
                None => {
                    // The exchanging request has not stored it yet.
                    store
                        .insert_token(tenant, &d, &session, Some(&digest(&current)), &ts)
                        .await?;
                    if store.session(tenant, &session.id).await?.is_none() {
                        // Signed out meanwhile.
                        return Err(AuthError::refresh_token_not_found());
                    }
                    return Ok((user, session, child));
                }
            }
        }
        Err(AuthError::bad_request(
            "refresh_token_already_used",
            "Invalid Refresh Token: Already Used",
        ))
    }

    // ---------- the caller ----------

    /// The user and session of the request's access token.
    async fn caller(&self, req: &FamilyRequest) -> Result<(UserRow, SessionRow), AuthError> {
        if header(&req.request.headers, "authorization").is_none() {
            return Err(AuthError::new(
                401,
                "no_authorization",
                "This endpoint requires a valid Bearer token",
            ));
        }
        let Some(sub) = req.principal.subject.as_deref() else {
            return Err(AuthError::new(
                403,
                "bad_jwt",
                "invalid claim: missing sub claim",
            ));
        };
        let tenant = req.tenant.id();
        let session_missing = || {
            AuthError::new(
                403,
                "session_not_found",
                "Session from session_id claim in JWT does not exist",
            )
        };
        let Some(session_id) = req
            .principal
            .claims
            .get("session_id")
            .and_then(Value::as_str)
            .filter(|s| s.len() <= 64)
        else {
            return Err(session_missing());
        };
        let session = self
            .store
            .session(tenant, session_id)
            .await?
            .filter(|s| s.user_id == sub)
            .ok_or_else(session_missing)?;
        let user = self.store.user(tenant, sub).await?.ok_or_else(|| {
            AuthError::new(
                403,
                "user_not_found",
                "User from sub claim in JWT does not exist",
            )
        })?;
        Ok((user, session))
    }

    // ---------- /user ----------

    pub(super) async fn get_user(&self, req: &FamilyRequest) -> Result<RestResponse, AuthError> {
        let (user, _) = self.caller(req).await?;
        Ok(json_response(200, &user_json(&user)))
    }

    pub(super) async fn put_user(
        &self,
        req: &mut FamilyRequest,
    ) -> Result<RestResponse, AuthError> {
        let (mut user, session) = match self.caller(req).await {
            Ok(c) => c,
            Err(e) => {
                discard(&mut req.request);
                return Err(e);
            }
        };
        let tenant = req.tenant.id().to_string();
        let body = json_body(&mut req.request).await?;
        let email = string_field(&body, "email", 4 * MAX_EMAIL_LEN)?;
        let phone = string_field(&body, "phone", MAX_PHONE_LEN)?;
        let password = string_field(&body, "password", MAX_PASSWORD_BYTES)?;
        let data = object_field(&body, "data")?;
        let s = &self.settings;

        if phone.is_some_and(|p| Some(p.trim()) != user.phone.as_deref()) {
            return Err(AuthError::unprocessable(
                "phone_provider_disabled",
                "Phone updates are not supported",
            ));
        }
        if let Some(email) = email {
            let email = normalize_email(&email)?;
            if Some(email.as_str()) != user.email.as_deref() {
                if !s.autoconfirm {
                    return Err(AuthError::validation(
                        "Changing the email address needs a confirmation of the new address, which this server does not support yet",
                    ));
                }
                user.email = Some(email);
                user.email_confirmed_at = Some(stamp(now()));
                if user.is_anonymous {
                    user.is_anonymous = false;
                    user.app_metadata = provider_metadata("email");
                } else {
                    add_provider(&mut user.app_metadata, "email");
                }
            }
        }
        let mut password_changed = false;
        if let Some(password) = password {
            if user.email.is_none() {
                return Err(AuthError::validation(
                    "Updating the password of an anonymous user needs an email address",
                ));
            }
            if let Some(weak) = weakness(&password, s.password_min_length) {
                return Err(weak);
            }
            limit(&self.sign_in_per_ip, &tenant, &ip_key(req))?;
            if user.password_hash.is_some()
                && self
                    .passwords
                    .verify(password.clone().into_bytes(), user.password_hash.clone())
                    .await?
            {
                return Err(AuthError::unprocessable(
                    "same_password",
                    "New password should be different from the old password.",
                ));
            }
            user.password_hash = Some(self.passwords.hash(password.into_bytes()).await?);
            password_changed = true;
        }
        if let Some(data) = data {
            for (k, v) in data {
                if v.is_null() {
                    user.user_metadata.remove(&k);
                } else {
                    user.user_metadata.insert(k, v);
                }
            }
            check_metadata(&user.user_metadata)?;
        }
        user.updated_at = stamp(now());
        if !self.store.save_user(&tenant, &user).await? {
            return Err(AuthError::unprocessable(
                "email_exists",
                "A user with this email address has already been registered",
            ));
        }
        if password_changed {
            self.store
                .end_sessions(
                    &tenant,
                    Scope::Others {
                        user: &user.id,
                        except: &session.id,
                    },
                )
                .await?;
        }
        Ok(json_response(200, &user_json(&user)))
    }

    // ---------- /logout ----------

    pub(super) async fn logout(&self, req: &mut FamilyRequest) -> Result<RestResponse, AuthError> {
        discard(&mut req.request);
        let scope = query_param(&req.request.query, "scope");
        let scope = scope.as_deref().unwrap_or("global");
        if !matches!(scope, "global" | "local" | "others") {
            return Err(AuthError::bad_request(
                "validation_failed",
                "Unsupported logout scope",
            ));
        }
        let (user, session) = self.caller(req).await?;
        let scope = match scope {
            "local" => Scope::Local {
                session: &session.id,
            },
            "others" => Scope::Others {
                user: &user.id,
                except: &session.id,
            },
            _ => Scope::Global { user: &user.id },
        };
        self.store.end_sessions(req.tenant.id(), scope).await?;
        Ok(RestResponse::new(204, Vec::new(), baas_rest::Body::empty()))
    }

    // ---------- documents ----------

    pub(super) fn settings_document(&self) -> RestResponse {
        let s = &self.settings;
        let mut external = Map::new();
        for p in [
            "apple",
            "azure",
            "bitbucket",
            "discord",
            "facebook",
            "figma",
            "fly",
            "github",
            "gitlab",
            "google",
            "keycloak",
            "kakao",
            "linkedin",
            "linkedin_oidc",
            "notion",
            "slack",
            "slack_oidc",
            "spotify",
            "twitch",
            "twitter",
            "workos",
            "zoom",
        ] {
            external.insert(p.into(), false.into());
        }
        external.insert("email".into(), true.into());
        external.insert("phone".into(), false.into());
        external.insert("anonymous_users".into(), s.allow_anonymous_sign_ins.into());
        json_response(
            200,
            &json!({
                "external": external,
                "disable_signup": s.disable_signup,
                "mailer_autoconfirm": s.autoconfirm,
                "phone_autoconfirm": false,
                "sms_provider": "",
                "saml_enabled": false,
            }),
        )
    }

    pub(super) fn jwks(&self, tenant: &str) -> RestResponse {
        let mut r = json_response(200, &self.keys.tenant(tenant).jwks());
        for (k, v) in &mut r.headers {
            if k == "cache-control" {
                *v = "public, max-age=600".into();
            }
        }
        r
    }
}

fn email_of(user: &UserRow) -> String {
    user.email.clone().unwrap_or_default()
}

fn signup_disabled() -> AuthError {
    AuthError::unprocessable("signup_disabled", "Signups not allowed for this instance")
}

fn add_provider(app: &mut Map<String, Value>, provider: &str) {
    if !app.contains_key("provider") {
        app.insert("provider".into(), provider.into());
    }
    match app.get_mut("providers") {
        Some(Value::Array(list)) => {
            if !list.iter().any(|p| p == provider) {
                list.push(provider.into());
            }
        }
        _ => {
            app.insert("providers".into(), json!([provider]));
        }
    }
}
