//! The GoTrue-compatible routes through the service, with a real SQLite
//! system store: sign-up, sign-in, the user, refresh (rotation, reuse,
//! 100 concurrent refreshes), sign-out scopes, anonymous users, errors in
//! both formats, rate limits and the bounds of their memory.

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use baas_adapter_sqlite::{SqliteConfig, connect};
use baas_auth::ratelimit::Rate;
use baas_auth::{
    AuthRoutes, AuthSettings, Authenticator, KeyRing, KeyRole, Mail, MailError, Mailer,
};
use baas_core::DatabaseAdapter;
use baas_engine::{AdapterStore, Baas, Connector, SecretKey, TenantConfig, TenantMode};
use baas_rest::{RestRequest, RestResponse, Service};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};

const PASSWORD: &str = "Correct-Horse-9";
const API: &str = "2024-01-01";

struct Lite;

#[async_trait]
impl Connector for Lite {
    async fn connect(&self, t: &TenantConfig) -> baas_core::Result<Arc<dyn DatabaseAdapter>> {
        Ok(Arc::new(connect(SqliteConfig::new(&t.url)).await?))
    }
}

struct Env {
    service: Arc<Service>,
    routes: Arc<AuthRoutes>,
    ring: Arc<KeyRing>,
    system: Arc<dyn DatabaseAdapter>,
    anon: String,
    _dir: TempDir,
}

/// A mailer that drops every mail.
struct Dropped;

#[async_trait]
impl Mailer for Dropped {
    async fn send(&self, _: Mail) -> Result<(), MailError> {
        Ok(())
    }
}

struct TempDir(PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Tenants `t` and `u` (managed SQLite) and the auth family, its users in
/// the SQLite system store.
async fn env(tag: &str, settings: AuthSettings) -> Env {
    let dir = std::env::temp_dir().join(format!("baas-auth-gotrue-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    let url = |name: &str| format!("sqlite://{}", dir.join(name).display());
    let system: Arc<dyn DatabaseAdapter> = Arc::new(
        connect(SqliteConfig::new(url("system.db")))
            .await
            .expect("system store"),
    );
    let store = AdapterStore::open(system.clone()).await.expect("store");
    let baas = Arc::new(Baas::builder(Arc::new(store), Arc::new(Lite)).build());
    for t in ["t", "u"] {
        baas.register_tenant(
            TenantConfig::new(t, url(&format!("{t}.db")), TenantMode::Managed),
            None,
        )
        .await
        .expect("tenant");
    }
    let ring = Arc::new(KeyRing::new(SecretKey::from_bytes([7; 32]), None));
    // Without autoconfirm the routes need a mailer (tests/mail.rs reads
    // the mails; here they are dropped).
    let routes = if settings.autoconfirm {
        AuthRoutes::open(system.clone(), ring.clone(), settings).await
    } else {
        AuthRoutes::open_with_mailer(system.clone(), ring.clone(), settings, Arc::new(Dropped))
            .await
    };
    let routes = Arc::new(routes.expect("auth routes"));
    let service = Service::new(baas)
        .with_family("auth", routes.clone())
        .expect("family")
        .with_authenticator(Arc::new(Authenticator::new(ring.clone(), None)));
    Env {
        service: Arc::new(service),
        routes,
        anon: ring.tenant("t").api_key(KeyRole::Anon),
        ring,
        system,
        _dir: TempDir(dir),
    }
}

/// A request to `/t/auth/v1{path}` as auth-js sends it (`apikey`, the API
/// version header), plus `headers`.
fn request(env: &Env, method: &str, path: &str, body: Option<Value>) -> RestRequest {
    let (path, query) = path.split_once('?').unwrap_or((path, ""));
    let mut r = RestRequest::new(method, format!("/t/auth/v1{path}"), query)
        .header("apikey", env.anon.clone())
        .header("X-Supabase-Api-Version", API);
    if let Some(b) = body {
        r = r
            .header("Content-Type", "application/json;charset=UTF-8")
            .body(b.to_string());
    }
    r
}

fn bearer(r: RestRequest, token: &str) -> RestRequest {
    r.header("Authorization", format!("Bearer {token}"))
}

impl Env {
    async fn send(&self, r: RestRequest) -> RestResponse {
        self.service.handle(r).await
    }

    async fn post(&self, path: &str, body: Value) -> RestResponse {
        self.send(request(self, "POST", path, Some(body))).await
    }

    async fn signup(&self, email: &str) -> Value {
        let r = self
            .post("/signup", json!({"email": email, "password": PASSWORD}))
            .await;
        assert_eq!(r.status, 200, "{}", r.text());
        r.json()
    }

    async fn sign_in(&self, email: &str) -> Value {
        let r = self
            .post(
                "/token?grant_type=password",
                json!({"email": email, "password": PASSWORD}),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.text());
        r.json()
    }

    async fn refresh(&self, token: &str) -> RestResponse {
        self.post(
            "/token?grant_type=refresh_token",
            json!({"refresh_token": token}),
        )
        .await
    }

    async fn user(&self, access: &str) -> RestResponse {
        self.send(bearer(request(self, "GET", "/user", None), access))
            .await
    }
}

fn claims(token: &str) -> (Value, Value) {
    let parts: Vec<&str> = token.split('.').collect();
    assert_eq!(parts.len(), 3, "{token}");
    let part =
        |p: &str| serde_json::from_slice(&URL_SAFE_NO_PAD.decode(p).expect("b64")).expect("json");
    (part(parts[0]), part(parts[1]))
}

fn keys_of(v: &Value) -> Vec<String> {
    let mut k: Vec<String> = v.as_object().expect("object").keys().cloned().collect();
    k.sort();
    k
}

fn error_of(r: &RestResponse) -> (u16, String, String) {
    let v = r.json();
    (
        r.status,
        v["code"].as_str().unwrap_or_default().to_string(),
        v["message"].as_str().unwrap_or_default().to_string(),
    )
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

fn settings() -> AuthSettings {
    AuthSettings::default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signup_sign_in_user_refresh_logout() {
    let env = env("flow", settings()).await;

    // Sign-up: GoTrue's session, field by field.
    let s = env
        .post(
            "/signup",
            json!({"email": "  Ann@Example.COM ", "password": PASSWORD, "data": {"nick": "ann"}}),
        )
        .await;
    assert_eq!(s.status, 200, "{}", s.text());
    assert_eq!(s.header("cache-control"), Some("no-store"));
    let s = s.json();
    assert_eq!(
        keys_of(&s),
        [
            "access_token",
            "expires_at",
            "expires_in",
            "refresh_token",
            "token_type",
            "user"
        ]
    );
    assert_eq!(s["token_type"], "bearer");
    assert_eq!(s["expires_in"], 3600);
    let expires_at = s["expires_at"].as_i64().expect("expires_at");
    assert!((expires_at - (now() + 3600)).abs() <= 5);
    let refresh0 = s["refresh_token"].as_str().expect("refresh").to_string();
    assert!(refresh0.len() >= 22, "at least 128 bits: {refresh0}");
    let u = &s["user"];
    assert_eq!(
        keys_of(u),
        [
            "app_metadata",
            "aud",
            "confirmed_at",
            "created_at",
            "email",
            "email_confirmed_at",
            "id",
            "identities",
            "is_anonymous",
            "last_sign_in_at",
            "phone",
            "role",
            "updated_at",
            "user_metadata",
        ]
    );
    let id = u["id"].as_str().expect("id").to_string();
    assert!(uuid::Uuid::parse_str(&id).is_ok());
    assert_eq!(u["aud"], "authenticated");
    assert_eq!(u["role"], "authenticated");
    assert_eq!(u["email"], "ann@example.com");
    assert_eq!(u["phone"], "");
    assert_eq!(
        u["app_metadata"],
        json!({"provider": "email", "providers": ["email"]})
    );
    assert_eq!(u["user_metadata"], json!({"nick": "ann"}));
    assert_eq!(u["is_anonymous"], false);
    for t in [
        "created_at",
        "updated_at",
        "confirmed_at",
        "email_confirmed_at",
        "last_sign_in_at",
    ] {
        let v = u[t].as_str().unwrap_or_else(|| panic!("{t}: {u}"));
        assert!(
            chrono::DateTime::parse_from_rfc3339(v).is_ok() && v.ends_with('Z'),
            "{t}: {v}"
        );
    }
    let identity = &u["identities"][0];
    assert_eq!(identity["provider"], "email");
    assert_eq!(identity["user_id"], id.as_str());
    assert_eq!(identity["identity_data"]["email"], "ann@example.com");
    assert_eq!(identity["identity_data"]["sub"], id.as_str());
    assert!(identity["identity_id"].is_string());

    // The access token: ES256 with a kid of the JWKS, GoTrue's claims.
    let access0 = s["access_token"].as_str().expect("access").to_string();
    let (header, c) = claims(&access0);
    assert_eq!(header["alg"], "ES256");
    let jwks = env
        .send(request(&env, "GET", "/.well-known/jwks.json", None))
        .await;
    assert_eq!(jwks.status, 200);
    assert!(
        jwks.json()["keys"]
            .as_array()
            .expect("keys")
            .iter()
            .any(|k| k["kid"] == header["kid"])
    );
    assert_eq!(c["sub"], id.as_str());
    assert_eq!(c["aud"], "authenticated");
    assert_eq!(c["role"], "authenticated");
    assert_eq!(c["email"], "ann@example.com");
    assert_eq!(c["phone"], "");
    assert_eq!(c["aal"], "aal1");
    assert_eq!(c["amr"][0]["method"], "password");
    assert!(c["amr"][0]["timestamp"].is_i64());
    assert_eq!(c["is_anonymous"], false);
    assert_eq!(c["app_metadata"]["provider"], "email");
    assert_eq!(c["user_metadata"]["nick"], "ann");
    assert_eq!(
        c["exp"].as_i64().unwrap() - c["iat"].as_i64().unwrap(),
        3600
    );
    assert_eq!(c["exp"].as_i64(), Some(expires_at));
    assert_eq!(c["ref"], "t");
    let session0 = c["session_id"].as_str().expect("session_id").to_string();
    // It verifies with the tenant's keys.
    assert!(env.ring.tenant("t").verify(&access0).is_ok());

    // GET /user.
    let g = env.user(&access0).await;
    assert_eq!(g.status, 200, "{}", g.text());
    let g = g.json();
    assert_eq!(g["id"], id.as_str());
    assert_eq!(g["email"], "ann@example.com");
    assert_eq!(g["user_metadata"], json!({"nick": "ann"}));

    // Password sign-in: another session.
    let signed = env.sign_in("ANN@example.com").await;
    assert_eq!(signed["user"]["id"], id.as_str());
    let access1 = signed["access_token"].as_str().unwrap().to_string();
    let session1 = claims(&access1).1["session_id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_ne!(session1, session0);
    let refresh1 = signed["refresh_token"].as_str().unwrap().to_string();

    // Refresh: a new pair for the same session.
    let r = env.refresh(&refresh0).await;
    assert_eq!(r.status, 200, "{}", r.text());
    let r = r.json();
    assert_eq!(keys_of(&r), keys_of(&s));
    let refresh0b = r["refresh_token"].as_str().unwrap().to_string();
    assert_ne!(refresh0b, refresh0);
    let access0b = r["access_token"].as_str().unwrap().to_string();
    assert_eq!(claims(&access0b).1["session_id"], session0.as_str());
    assert_eq!(r["user"]["id"], id.as_str());
    assert_eq!(env.user(&access0b).await.status, 200);

    // Logout (global by default): 204; every session of the user ends.
    let out = env
        .send(bearer(request(&env, "POST", "/logout", None), &access0b))
        .await;
    assert_eq!(out.status, 204, "{}", out.text());
    assert!(out.body.is_empty());
    for t in [&refresh0b, &refresh1, &refresh0] {
        let e = env.refresh(t).await;
        assert_eq!(
            error_of(&e),
            (
                400,
                "refresh_token_not_found".into(),
                "Invalid Refresh Token: Refresh Token Not Found".into()
            )
        );
        assert_eq!(e.header("x-supabase-api-version"), Some(API));
    }
    let gone = env.user(&access1).await;
    assert_eq!(error_of(&gone).0, 403);
    assert_eq!(error_of(&gone).1, "session_not_found");
    // The legacy format, without the API version header.
    let mut legacy = bearer(request(&env, "GET", "/user", None), &access0b);
    legacy
        .headers
        .retain(|(k, _)| k != "X-Supabase-Api-Version");
    let legacy = env.send(legacy).await;
    assert_eq!(legacy.status, 403);
    assert_eq!(legacy.header("x-supabase-api-version"), None);
    assert_eq!(
        legacy.json(),
        json!({"code": 403, "error_code": "session_not_found", "msg": "Session from session_id claim in JWT does not exist"})
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_account_and_wrong_password_answer_alike() {
    let env = env("alike", settings()).await;
    env.signup("bob@example.com").await;
    let attempt = |email: &'static str| {
        let env = &env;
        async move {
            let started = Instant::now();
            let mut r = env
                .send(
                    request(
                        env,
                        "POST",
                        "/token?grant_type=password",
                        Some(json!({"email": email, "password": "not-the-password"})),
                    )
                    .header("x-real-ip", format!("198.51.100.{}", email.len())),
                )
                .await;
            let took = started.elapsed();
            r.headers.sort();
            (r, took)
        }
    };
    let mut wrong = Vec::new();
    let mut unknown = Vec::new();
    for i in 0..7 {
        // Alternate which goes first, so neither always meets a busy machine.
        let ((a, ta), (b, tb)) = if i % 2 == 0 {
            let a = attempt("bob@example.com").await;
            (a, attempt("nobody@example.com").await)
        } else {
            let b = attempt("nobody@example.com").await;
            (attempt("bob@example.com").await, b)
        };
        assert_eq!(
            (a.status, &a.headers, a.text()),
            (b.status, &b.headers, b.text())
        );
        assert_eq!(
            error_of(&a),
            (
                400,
                "invalid_credentials".into(),
                "Invalid login credentials".into()
            )
        );
        wrong.push(ta);
        unknown.push(tb);
    }
    // Both verify one argon2id hash: their fastest attempts (the least
    // disturbed by other work on a shared machine, which only adds time)
    // are of the same order; an unknown account that skipped hashing
    // would be hundreds of times faster.
    let (w, u) = (
        *wrong.iter().min().expect("attempts"),
        *unknown.iter().min().expect("attempts"),
    );
    assert!(
        u * 3 > w && w * 3 > u,
        "wrong password {w:?}, unknown account {u:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_limits_refuse_before_hashing_and_stay_bounded() {
    let mut s = settings();
    s.rate_limits.sign_in_per_ip = Rate::new(5, 300);
    s.rate_limits.sign_in_per_account = Rate::new(3, 300);
    s.rate_limits.max_tracked_keys = 64;
    let env = env("limits", s).await;
    let sign_in = |ip: String, email: String, password: String| {
        let env = &env;
        async move {
            env.send(
                request(
                    env,
                    "POST",
                    "/token?grant_type=password",
                    Some(json!({"email": email, "password": password})),
                )
                .header("x-real-ip", ip),
            )
            .await
        }
    };
    // Per IP: 5 attempts (distinct accounts), then 429.
    for i in 0..5 {
        let r = sign_in(
            "203.0.113.1".into(),
            format!("p{i}@example.com"),
            "x".into(),
        )
        .await;
        assert_eq!(r.status, 400, "{}", r.text());
    }
    let r = sign_in("203.0.113.1".into(), "p9@example.com".into(), "x".into()).await;
    assert_eq!(
        error_of(&r),
        (
            429,
            "over_request_rate_limit".into(),
            "Request rate limit reached".into()
        )
    );
    assert!(r.header("retry-after").is_some());
    // Sign-ups from that IP are refused too.
    let r = env
        .send(
            request(
                &env,
                "POST",
                "/signup",
                Some(json!({"email": "new@example.com", "password": PASSWORD})),
            )
            .header("x-real-ip", "203.0.113.1"),
        )
        .await;
    assert_eq!(r.status, 429);
    // Per account: 3 attempts from distinct IPs, then 429.
    for i in 0..3 {
        let r = sign_in(
            format!("192.0.2.{i}"),
            "victim@example.com".into(),
            "x".into(),
        )
        .await;
        assert_eq!(r.status, 400);
    }
    let r = sign_in(
        "192.0.2.200".into(),
        " Victim@Example.com".into(),
        "x".into(),
    )
    .await;
    assert_eq!(r.status, 429);

    // 1000 refused attempts stay cheap: no hashing.
    let started = Instant::now();
    for _ in 0..1000 {
        let r = sign_in("203.0.113.1".into(), "p1@example.com".into(), "x".into()).await;
        assert_eq!(r.status, 429);
    }
    let took = started.elapsed();
    assert!(
        took < Duration::from_secs(20),
        "1000 refused sign-ins took {took:?}"
    );

    // A flood of distinct IPs and accounts: the limiters' memory is bounded.
    // (Over-long passwords are refused after the limiters, without hashing.)
    let long = "x".repeat(2000);
    for i in 0..3000 {
        let r = sign_in(
            format!("10.{}.{}.{}", i / 65536, (i / 256) % 256, i % 256),
            format!("f{i}@example.com"),
            long.clone(),
        )
        .await;
        assert!(r.status == 400 || r.status == 429, "{}", r.text());
        assert!(env.routes.tracked_keys() <= env.routes.max_tracked_keys());
    }
    assert!(env.routes.max_tracked_keys() <= 6 * (64 + 16));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hundred_concurrent_refreshes_of_one_token_all_succeed() {
    let env = Arc::new(env("concurrent", settings()).await);
    let s = env.signup("carol@example.com").await;
    let token = s["refresh_token"].as_str().unwrap().to_string();
    let session = claims(s["access_token"].as_str().unwrap()).1["session_id"].clone();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..100 {
        let env = env.clone();
        let token = token.clone();
        tasks.spawn(async move { env.refresh(&token).await });
    }
    let mut next = HashSet::new();
    let mut accesses = Vec::new();
    let mut failures = Vec::new();
    while let Some(r) = tasks.join_next().await {
        let r = r.expect("task");
        if r.status != 200 {
            failures.push(r.text());
            continue;
        }
        let v = r.json();
        next.insert(v["refresh_token"].as_str().unwrap().to_string());
        let access = v["access_token"].as_str().unwrap().to_string();
        assert_eq!(claims(&access).1["session_id"], session);
        accesses.push(access);
    }
    assert!(
        failures.is_empty(),
        "{} failures: {:?}",
        failures.len(),
        failures.first()
    );
    // Everyone got the session's one next refresh token.
    assert_eq!(next.len(), 1, "{next:?}");
    let next = next.into_iter().next().unwrap();
    assert_ne!(next, token);
    assert_eq!(env.user(&accesses[0]).await.status, 200);
    assert_eq!(env.user(&accesses[99]).await.status, 200);
    let again = env.refresh(&next).await;
    assert_eq!(again.status, 200, "{}", again.text());
    assert_ne!(again.json()["refresh_token"], next.as_str());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reuse_within_the_window_answers_the_current_token() {
    let env = env("window", settings()).await;
    let s = env.signup("dan@example.com").await;
    let r0 = s["refresh_token"].as_str().unwrap().to_string();
    let r1 = env.refresh(&r0).await.json()["refresh_token"]
        .as_str()
        .unwrap()
        .to_string();
    // The same parent again: the same child.
    let again = env.refresh(&r0).await;
    assert_eq!(again.status, 200);
    assert_eq!(again.json()["refresh_token"], r1.as_str());
    // The child exchanged in turn: the first token now leads to the grandchild.
    let r2 = env.refresh(&r1).await.json()["refresh_token"]
        .as_str()
        .unwrap()
        .to_string();
    assert_ne!(r2, r1);
    assert_eq!(env.refresh(&r0).await.json()["refresh_token"], r2.as_str());
    assert_eq!(env.refresh(&r1).await.json()["refresh_token"], r2.as_str());
    // Unknown and garbage tokens.
    for t in ["nope", &"x".repeat(5000)] {
        assert_eq!(error_of(&env.refresh(t).await).1, "refresh_token_not_found");
    }
    let missing = env.post("/token?grant_type=refresh_token", json!({})).await;
    assert_eq!(error_of(&missing).0, 400);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reuse_outside_the_window_ends_the_session() {
    let mut s = settings();
    s.refresh_token_reuse_interval_secs = 0;
    let env = env("reuse", s).await;
    let s = env.signup("erin@example.com").await;
    let other = env.sign_in("erin@example.com").await;
    let r0 = s["refresh_token"].as_str().unwrap().to_string();
    let next = env.refresh(&r0).await.json();
    let r1 = next["refresh_token"].as_str().unwrap().to_string();
    let access1 = next["access_token"].as_str().unwrap().to_string();
    tokio::time::sleep(Duration::from_millis(20)).await;
    let reused = env.refresh(&r0).await;
    assert_eq!(
        error_of(&reused),
        (
            400,
            "refresh_token_already_used".into(),
            "Invalid Refresh Token: Already Used".into()
        )
    );
    // The whole session is gone: its current token, its access tokens.
    assert_eq!(
        error_of(&env.refresh(&r1).await).1,
        "refresh_token_not_found"
    );
    assert_eq!(error_of(&env.user(&access1).await).1, "session_not_found");
    // The user's other session is untouched.
    let other_refresh = other["refresh_token"].as_str().unwrap();
    assert_eq!(env.refresh(other_refresh).await.status, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_credentials_on_user() {
    let env = env("tokens", settings()).await;
    let s = env.signup("fay@example.com").await;
    let access = s["access_token"].as_str().unwrap().to_string();
    let (_, c) = claims(&access);

    // Tampered payload: the service refuses it with 401 before the family.
    let parts: Vec<&str> = access.split('.').collect();
    let mut forged = c.clone();
    forged["sub"] = json!(uuid::Uuid::new_v4().to_string());
    let tampered = format!(
        "{}.{}.{}",
        parts[0],
        URL_SAFE_NO_PAD.encode(forged.to_string()),
        parts[2]
    );
    assert_eq!(env.user(&tampered).await.status, 401);
    // Expired, signed with the tenant's own key.
    let mut old = c.as_object().unwrap().clone();
    old.insert("iat".into(), json!(now() - 7200));
    old.insert("exp".into(), json!(now() - 3600));
    let expired = env.ring.tenant("t").sign_access_token(old.clone());
    assert_eq!(env.user(&expired).await.status, 401);
    // Another tenant's token (valid there).
    let other = env.ring.tenant("u").sign_access_token({
        let mut o = old;
        o.insert("iat".into(), json!(now()));
        o.insert("exp".into(), json!(now() + 600));
        o
    });
    assert!(env.ring.tenant("u").verify(&other).is_ok());
    assert_eq!(env.user(&other).await.status, 401);
    // No bearer: 401 no_authorization; an API key as bearer: 403 bad_jwt.
    let none = env.send(request(&env, "GET", "/user", None)).await;
    assert_eq!(
        error_of(&none),
        (
            401,
            "no_authorization".into(),
            "This endpoint requires a valid Bearer token".into()
        )
    );
    let anon = env.user(&env.anon.clone()).await;
    assert_eq!(error_of(&anon).0, 403);
    assert_eq!(error_of(&anon).1, "bad_jwt");
    let service = env.ring.tenant("t").api_key(KeyRole::ServiceRole);
    assert_eq!(error_of(&env.user(&service).await).1, "bad_jwt");
    // Still fine with the real token.
    assert_eq!(env.user(&access).await.status, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logout_scopes() {
    let env = env("scopes", settings()).await;
    let email = "gil@example.com";
    let s1 = env.signup(email).await;
    let s2 = env.sign_in(email).await;
    let s3 = env.sign_in(email).await;
    let at = |s: &Value| s["access_token"].as_str().unwrap().to_string();
    let rt = |s: &Value| s["refresh_token"].as_str().unwrap().to_string();
    let logout = |scope: &str, access: String| {
        let env = &env;
        let path = format!("/logout?scope={scope}");
        async move {
            env.send(bearer(request(env, "POST", &path, None), &access))
                .await
        }
    };
    let bad = logout("everything", at(&s1)).await;
    assert_eq!(error_of(&bad).1, "validation_failed");

    // others: s2 and s3 end, s1 stays.
    assert_eq!(logout("others", at(&s1)).await.status, 204);
    for s in [&s2, &s3] {
        assert_eq!(
            error_of(&env.refresh(&rt(s)).await).1,
            "refresh_token_not_found"
        );
        assert_eq!(env.user(&at(s)).await.status, 403);
    }
    assert_eq!(env.user(&at(&s1)).await.status, 200);

    // local: only that session.
    let s4 = env.sign_in(email).await;
    assert_eq!(logout("local", at(&s4)).await.status, 204);
    assert_eq!(env.user(&at(&s4)).await.status, 403);
    assert_eq!(env.user(&at(&s1)).await.status, 200);
    let s1b = env.refresh(&rt(&s1)).await;
    assert_eq!(s1b.status, 200);

    // global: everything, including the refreshed token.
    let s5 = env.sign_in(email).await;
    assert_eq!(logout("global", at(&s1)).await.status, 204);
    assert_eq!(env.refresh(&rt(&s1b.json())).await.status, 400);
    assert_eq!(env.refresh(&rt(&s5)).await.status, 400);
    // Signing out again: the session is gone (auth-js ignores 403 there).
    assert_eq!(logout("global", at(&s1)).await.status, 403);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn anonymous_users() {
    let env = env("anon", settings()).await;
    let r = env
        .post(
            "/signup",
            json!({"data": {"theme": "dark"}, "gotrue_meta_security": {}}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let s = r.json();
    let u = &s["user"];
    assert_eq!(u["is_anonymous"], true);
    assert_eq!(u["email"], "");
    assert_eq!(u["identities"], json!([]));
    assert_eq!(
        u["app_metadata"],
        json!({"provider": "anonymous", "providers": ["anonymous"]})
    );
    assert_eq!(u["user_metadata"], json!({"theme": "dark"}));
    assert!(u.get("email_confirmed_at").is_none());
    let access = s["access_token"].as_str().unwrap().to_string();
    let (_, c) = claims(&access);
    assert_eq!(c["is_anonymous"], true);
    assert_eq!(c["amr"][0]["method"], "anonymous");
    assert_eq!(c["role"], "authenticated");

    // A password without an e-mail is refused; with one the user becomes
    // permanent and signs in.
    let put = |body: Value| {
        let env = &env;
        let access = access.clone();
        async move {
            env.send(bearer(request(env, "PUT", "/user", Some(body)), &access))
                .await
        }
    };
    assert_eq!(put(json!({"password": PASSWORD})).await.status, 422);
    let up = put(json!({"email": "hal@example.com", "password": PASSWORD, "data": {"theme": null, "lang": "fr"}})).await;
    assert_eq!(up.status, 200, "{}", up.text());
    let up = up.json();
    assert_eq!(up["is_anonymous"], false);
    assert_eq!(up["email"], "hal@example.com");
    assert_eq!(up["app_metadata"]["provider"], "email");
    assert_eq!(up["user_metadata"], json!({"lang": "fr"}));
    assert_eq!(up["identities"][0]["provider"], "email");
    let signed = env.sign_in("hal@example.com").await;
    assert_eq!(signed["user"]["id"], u["id"]);
    // The same password again is refused.
    let same = put(json!({"password": PASSWORD})).await;
    assert_eq!(error_of(&same).1, "same_password");

    // Disabled anonymous sign-ins.
    let mut off = settings();
    off.allow_anonymous_sign_ins = false;
    let env2 = self::env("anon-off", off).await;
    let r = env2.post("/signup", json!({})).await;
    assert_eq!(
        error_of(&r),
        (
            422,
            "anonymous_provider_disabled".into(),
            "Anonymous sign-ins are disabled".into()
        )
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn put_user_and_password_change() {
    let env = env("put", settings()).await;
    let s1 = env.signup("ivy@example.com").await;
    env.signup("taken@example.com").await;
    let s2 = env.sign_in("ivy@example.com").await;
    let a1 = s1["access_token"].as_str().unwrap().to_string();
    let put = |body: Value| {
        let env = &env;
        let a1 = a1.clone();
        async move {
            env.send(bearer(request(env, "PUT", "/user", Some(body)), &a1))
                .await
        }
    };
    let r = put(json!({"data": {"a": 1, "b": {"c": true}}})).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["user_metadata"], json!({"a": 1, "b": {"c": true}}));
    assert_eq!(
        env.user(&a1).await.json()["user_metadata"],
        json!({"a": 1, "b": {"c": true}})
    );
    let taken = put(json!({"email": "Taken@example.com"})).await;
    assert_eq!(error_of(&taken).0, 422);
    assert_eq!(error_of(&taken).1, "email_exists");
    let weak = put(json!({"password": "123"})).await;
    assert_eq!(error_of(&weak).1, "weak_password");
    assert_eq!(weak.json()["weak_password"]["reasons"], json!(["length"]));
    let big = put(json!({"data": {"blob": "x".repeat(20_000)}})).await;
    assert_eq!(error_of(&big).0, 422);
    // A new password ends the other sessions, not this one.
    let r = put(json!({"password": "another-Password-2"})).await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(env.user(&a1).await.status, 200);
    assert_eq!(
        env.user(s2["access_token"].as_str().unwrap()).await.status,
        403
    );
    let old = env
        .post(
            "/token?grant_type=password",
            json!({"email": "ivy@example.com", "password": PASSWORD}),
        )
        .await;
    assert_eq!(error_of(&old).1, "invalid_credentials");
    let new = env
        .post(
            "/token?grant_type=password",
            json!({"email": "ivy@example.com", "password": "another-Password-2"}),
        )
        .await;
    assert_eq!(new.status, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signup_errors_settings_and_routes() {
    let env = env("errors", settings()).await;
    env.signup("jo@example.com").await;
    let again = env
        .post(
            "/signup",
            json!({"email": "JO@example.com", "password": PASSWORD}),
        )
        .await;
    assert_eq!(
        error_of(&again),
        (
            422,
            "user_already_exists".into(),
            "User already registered".into()
        )
    );
    let weak = env
        .post(
            "/signup",
            json!({"email": "k@example.com", "password": "12345"}),
        )
        .await;
    assert_eq!(
        weak.json(),
        json!({"code": "weak_password", "message": "Password should be at least 6 characters.", "weak_password": {"reasons": ["length"]}})
    );
    let bad = env
        .post(
            "/signup",
            json!({"email": "not an email", "password": PASSWORD}),
        )
        .await;
    assert_eq!(error_of(&bad).0, 400);
    assert_eq!(error_of(&bad).1, "email_address_invalid");
    let nopw = env.post("/signup", json!({"email": "l@example.com"})).await;
    assert_eq!(error_of(&nopw).1, "validation_failed");
    let notjson = env
        .send(request(&env, "POST", "/signup", None).body("{nope"))
        .await;
    assert_eq!(error_of(&notjson).1, "bad_json");
    let huge = env
        .send(request(&env, "POST", "/signup", None).body("x".repeat(100_000)))
        .await;
    assert_eq!(huge.status, 413);
    let grant = env.post("/token", json!({})).await;
    assert_eq!(error_of(&grant).0, 400);

    // Settings, health, 404, 405.
    let st = env.send(request(&env, "GET", "/settings", None)).await;
    assert_eq!(st.status, 200);
    let st = st.json();
    assert_eq!(st["external"]["email"], true);
    assert_eq!(st["external"]["anonymous_users"], true);
    assert_eq!(st["disable_signup"], false);
    assert_eq!(st["mailer_autoconfirm"], true);
    assert_eq!(st["phone_autoconfirm"], false);
    assert_eq!(st["saml_enabled"], false);
    assert_eq!(
        env.send(request(&env, "GET", "/health", None)).await.status,
        200
    );
    let missing = env.send(request(&env, "GET", "/nope", None)).await;
    assert_eq!(error_of(&missing).0, 404);
    let wrong = env.send(request(&env, "DELETE", "/user", None)).await;
    assert_eq!(wrong.status, 405);
    assert_eq!(wrong.header("allow"), Some("GET, HEAD, PUT"));
    let wrong = env.send(request(&env, "GET", "/signup", None)).await;
    assert_eq!(wrong.header("allow"), Some("POST"));

    // Without autoconfirm: the user without a session, then "Email not
    // confirmed"; a repeated sign-up answers a look-alike user.
    let mut s = settings();
    s.autoconfirm = false;
    // (a repeated sign-up mails a new link: allow two mails)
    s.rate_limits.mail_per_address = Rate::new(2, 60);
    let env2 = self::env("noconfirm", s).await;
    let r = env2
        .post(
            "/signup",
            json!({"email": "m@example.com", "password": PASSWORD}),
        )
        .await;
    assert_eq!(r.status, 200);
    let u = r.json();
    assert!(u.get("access_token").is_none());
    assert_eq!(u["email"], "m@example.com");
    assert!(u.get("email_confirmed_at").is_none());
    assert_eq!(u["identities"].as_array().map(Vec::len), Some(1));
    let r = env2
        .post(
            "/token?grant_type=password",
            json!({"email": "m@example.com", "password": PASSWORD}),
        )
        .await;
    assert_eq!(
        error_of(&r),
        (
            400,
            "email_not_confirmed".into(),
            "Email not confirmed".into()
        )
    );
    let wrong = env2
        .post(
            "/token?grant_type=password",
            json!({"email": "m@example.com", "password": "nope-nope"}),
        )
        .await;
    assert_eq!(error_of(&wrong).1, "invalid_credentials");
    let twice = env2
        .post(
            "/signup",
            json!({"email": "m@example.com", "password": PASSWORD}),
        )
        .await;
    assert_eq!(twice.status, 200);
    let fake = twice.json();
    assert_eq!(fake["identities"], json!([]));
    assert_ne!(fake["id"], u["id"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reopening_the_store_keeps_users_and_sessions() {
    let env = env("reopen", settings()).await;
    let s = env.signup("kim@example.com").await;
    // A restart: the tables exist, the routes open on them again.
    let again = Arc::new(
        AuthRoutes::open(env.system.clone(), env.ring.clone(), settings())
            .await
            .expect("reopen"),
    );
    let service = Service::new(env.service.baas().clone())
        .with_family("auth", again)
        .expect("family")
        .with_authenticator(Arc::new(Authenticator::new(env.ring.clone(), None)));
    let token = s["refresh_token"].as_str().unwrap();
    let r = service
        .handle(request(
            &env,
            "POST",
            "/token?grant_type=refresh_token",
            Some(json!({"refresh_token": token})),
        ))
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let r = service
        .handle(request(
            &env,
            "POST",
            "/token?grant_type=password",
            Some(json!({"email": "kim@example.com", "password": PASSWORD})),
        ))
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
}
