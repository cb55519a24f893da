//! E-mail confirmation through the service, with a real SQLite system
//! store: sign-up with `autoconfirm` off mails a link; `/verify` (POST with
//! the token hash, GET from the link) confirms and starts a session; tokens
//! are single use, expire and resist tampering; `GET /verify` redirects
//! only to allowed URLs; `/resend` works, is rate limited and answers alike
//! for every address; routes that could not confirm refuse to open.
//!
//! `smtp_sink_receives_the_link` sends over real SMTP to the sink
//! `.ci/smtp.sh` starts (aiosmtpd storing each message in a Maildir):
//! `BAAS_TEST_SMTP` (default `127.0.0.1:2525`) and `BAAS_TEST_MAILDIR`
//! (default `/var/tmp/baas-maildir`). Under `CI=true` an unreachable sink
//! fails the test; elsewhere it is skipped with the reason printed. The
//! other tests record mails in memory.

use std::net::{TcpStream, ToSocketAddrs};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use baas_adapter_sqlite::{SqliteConfig, connect};
use baas_auth::ratelimit::Rate;
use baas_auth::{
    AuthRoutes, AuthSettings, Authenticator, KeyRing, KeyRole, Mail, MailError, Mailer, Secret,
    SmtpMailer, SmtpSettings, SmtpTls,
};
use baas_core::DatabaseAdapter;
use baas_engine::{AdapterStore, Baas, Connector, SecretKey, TenantConfig, TenantMode};
use baas_rest::{RestRequest, RestResponse, Service};
use base64::Engine;
use serde_json::{Value, json};

const PASSWORD: &str = "Correct-Horse-9";
const API: &str = "2024-01-01";
const SITE: &str = "https://app.example.com";
const APP: &str = "http://localhost:5173";
const API_URL: &str = "http://127.0.0.1:8080";

struct Lite;

#[async_trait]
impl Connector for Lite {
    async fn connect(&self, t: &TenantConfig) -> baas_core::Result<Arc<dyn DatabaseAdapter>> {
        Ok(Arc::new(connect(SqliteConfig::new(&t.url)).await?))
    }
}

/// A mailer keeping every mail.
#[derive(Default)]
struct Recorder(Mutex<Vec<Mail>>);

#[async_trait]
impl Mailer for Recorder {
    async fn send(&self, mail: Mail) -> Result<(), MailError> {
        self.0.lock().unwrap().push(mail);
        Ok(())
    }
}

impl Recorder {
    /// The `n`th mail (1-based) once it was sent (mails go out on a task).
    async fn nth(&self, n: usize) -> Mail {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(m) = self.0.lock().unwrap().get(n - 1) {
                return m.clone();
            }
            assert!(Instant::now() < deadline, "mail #{n} never sent");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    fn count(&self) -> usize {
        self.0.lock().unwrap().len()
    }
}

struct TempDir(PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

struct Env {
    service: Service,
    anon: String,
    _dir: TempDir,
}

/// The settings of these tests: confirmations on, the app on `SITE`,
/// `APP` allowed too, links to `API_URL`.
fn settings() -> AuthSettings {
    let mut s = AuthSettings {
        autoconfirm: false,
        site_url: SITE.into(),
        api_external_url: Some(format!("{API_URL}/")),
        redirect_allow_list: vec![APP.into()],
        ..Default::default()
    };
    s.rate_limits.mail_per_address = Rate::new(5, 3600);
    s
}

async fn system(tag: &str) -> (Arc<dyn DatabaseAdapter>, TempDir, Arc<Baas>) {
    let dir = std::env::temp_dir().join(format!("baas-auth-mail-{tag}-{}", std::process::id()));
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
    baas.register_tenant(
        TenantConfig::new("t", url("t.db"), TenantMode::Managed),
        None,
    )
    .await
    .expect("tenant");
    (system, TempDir(dir), baas)
}

fn ring() -> Arc<KeyRing> {
    Arc::new(KeyRing::new(SecretKey::from_bytes([7; 32]), None))
}

/// Tenant `t` and the auth family sending through `mailer`.
async fn env(tag: &str, settings: AuthSettings, mailer: Arc<dyn Mailer>) -> Env {
    let (system, dir, baas) = system(tag).await;
    let ring = ring();
    let routes = AuthRoutes::open_with_mailer(system, ring.clone(), settings, mailer)
        .await
        .expect("auth routes");
    let service = Service::new(baas)
        .with_family("auth", Arc::new(routes))
        .expect("family")
        .with_authenticator(Arc::new(Authenticator::new(ring.clone(), None)));
    Env {
        service,
        anon: ring.tenant("t").api_key(KeyRole::Anon),
        _dir: dir,
    }
}

impl Env {
    fn request(&self, method: &str, path: &str, body: Option<Value>) -> RestRequest {
        let (path, query) = path.split_once('?').unwrap_or((path, ""));
        let mut r = RestRequest::new(method, format!("/t/auth/v1{path}"), query)
            .header("apikey", self.anon.clone())
            .header("X-Supabase-Api-Version", API);
        if let Some(b) = body {
            r = r
                .header("Content-Type", "application/json;charset=UTF-8")
                .body(b.to_string());
        }
        r
    }

    async fn post(&self, path: &str, body: Value) -> RestResponse {
        self.service
            .handle(self.request("POST", path, Some(body)))
            .await
    }

    async fn get(&self, path: &str) -> RestResponse {
        self.service.handle(self.request("GET", path, None)).await
    }

    /// Sign up `email` (confirmations on): the user, without a session.
    async fn signup(&self, email: &str, redirect_to: Option<&str>) -> Value {
        let path = match redirect_to {
            Some(r) => format!("/signup?redirect_to={}", enc(r)),
            None => "/signup".into(),
        };
        let r = self
            .post(&path, json!({"email": email, "password": PASSWORD}))
            .await;
        assert_eq!(r.status, 200, "{}", r.text());
        let u = r.json();
        assert!(u.get("access_token").is_none(), "{u}");
        assert_eq!(u["email"], email);
        assert!(u.get("email_confirmed_at").is_none(), "{u}");
        u
    }

    async fn sign_in(&self, email: &str) -> RestResponse {
        self.post(
            "/token?grant_type=password",
            json!({"email": email, "password": PASSWORD}),
        )
        .await
    }

    async fn verify(&self, token: &str) -> RestResponse {
        self.post("/verify", json!({"type": "signup", "token_hash": token}))
            .await
    }
}

fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

fn error_of(r: &RestResponse) -> (u16, String) {
    (
        r.status,
        r.json()["code"].as_str().unwrap_or_default().to_string(),
    )
}

/// The confirmation link of a mail's text.
fn link_of(text: &str) -> String {
    text.split_whitespace()
        .find(|w| w.contains("/verify?token="))
        .unwrap_or_else(|| panic!("no link in {text}"))
        .to_string()
}

/// The `token` parameter of a link.
fn token_of(link: &str) -> String {
    let q = link.split_once('?').expect("query").1;
    q.split('&')
        .find_map(|p| p.strip_prefix("token="))
        .expect("token")
        .to_string()
}

/// The path and query of a link, as the service sees them.
fn path_of(link: &str) -> String {
    link.strip_prefix(&format!("{API_URL}/t/auth/v1"))
        .unwrap_or_else(|| panic!("link not under the API URL: {link}"))
        .to_string()
}

fn fragment_params(location: &str) -> Vec<(String, String)> {
    let frag = location.split_once('#').expect("fragment").1;
    frag.split('&')
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (k.to_string(), v.to_string())
        })
        .collect()
}

fn param<'a>(params: &'a [(String, String)], key: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_up_mails_a_link_that_confirms_once() {
    let mails = Arc::new(Recorder::default());
    let env = env("once", settings(), mails.clone()).await;

    let u = env.signup("ann@example.com", None).await;
    assert_eq!(u["identities"].as_array().map(Vec::len), Some(1));
    assert_eq!(
        error_of(&env.sign_in("ann@example.com").await),
        (400, "email_not_confirmed".into())
    );

    let mail = mails.nth(1).await;
    assert_eq!(mail.to, "ann@example.com");
    assert_eq!(mail.subject, "Confirm your signup");
    let link = link_of(&mail.text);
    assert!(
        link.starts_with(&format!("{API_URL}/t/auth/v1/verify?token=")),
        "{link}"
    );
    assert!(link.contains("&type=signup&redirect_to="), "{link}");
    // No redirect_to at sign-up: the site.
    assert!(
        link.ends_with(&format!("redirect_to={}", enc(SITE))),
        "{link}"
    );
    let html = mail.html.expect("html");
    assert!(html.contains(&link.replace('&', "&amp;")), "{html}");
    let token = token_of(&link);
    assert!(token.len() >= 22, "at least 128 bits: {token}");

    // A tampered token: refused, and the real one still works after.
    let mut tampered = token.clone().into_bytes();
    tampered[5] = if tampered[5] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(tampered).unwrap();
    assert_eq!(
        error_of(&env.verify(&tampered).await),
        (403, "otp_expired".into())
    );
    assert_eq!(
        error_of(&env.verify(&format!("{token}x")).await),
        (403, "otp_expired".into())
    );

    // POST /verify with the token hash: a session of the confirmed user.
    let r = env.verify(&token).await;
    assert_eq!(r.status, 200, "{}", r.text());
    let s = r.json();
    assert!(s["access_token"].as_str().is_some_and(|t| !t.is_empty()));
    assert!(s["refresh_token"].as_str().is_some_and(|t| !t.is_empty()));
    assert_eq!(s["expires_in"], 3600);
    assert_eq!(s["user"]["id"], u["id"]);
    assert!(s["user"]["email_confirmed_at"].is_string(), "{s}");
    let access = s["access_token"].as_str().unwrap();
    let payload: Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(access.split('.').nth(1).unwrap())
            .unwrap(),
    )
    .unwrap();
    assert_eq!(payload["amr"][0]["method"], "email/signup");

    // Single use.
    assert_eq!(
        error_of(&env.verify(&token).await),
        (403, "otp_expired".into())
    );
    // Confirmed: password sign-in works now.
    assert_eq!(env.sign_in("ann@example.com").await.status, 200);

    // What auth-js may send otherwise.
    let r = env
        .post(
            "/verify",
            json!({"type": "signup", "email": "ann@example.com", "token": "123456"}),
        )
        .await;
    assert_eq!(error_of(&r), (422, "validation_failed".into()));
    let r = env
        .post("/verify", json!({"type": "recovery", "token_hash": token}))
        .await;
    assert_eq!(error_of(&r), (422, "validation_failed".into()));
    let r = env.post("/verify", json!({"token_hash": token})).await;
    assert_eq!(error_of(&r), (422, "validation_failed".into()));

    // A repeated sign-up of an unconfirmed account: a look-alike, and a
    // new link that replaces the first (the password is not changed).
    let n = mails.count() + 1;
    let eve = env.signup("eve@example.com", None).await;
    let first = token_of(&link_of(&mails.nth(n).await.text));
    let r = env
        .post(
            "/signup",
            json!({"email": "eve@example.com", "password": "Another-Pass-7"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["identities"], json!([]));
    assert_ne!(r.json()["id"], eve["id"]);
    let again = mails.nth(n + 1).await;
    assert_eq!(again.to, "eve@example.com");
    let second = token_of(&link_of(&again.text));
    assert_eq!(
        error_of(&env.verify(&first).await),
        (403, "otp_expired".into())
    );
    assert_eq!(env.verify(&second).await.status, 200);
    assert_eq!(env.sign_in("eve@example.com").await.status, 200);

    // A repeated sign-up of a confirmed account: a look-alike, no mail.
    let before = mails.count();
    let r = env
        .post(
            "/signup",
            json!({"email": "ann@example.com", "password": PASSWORD}),
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["identities"], json!([]));
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(mails.count(), before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expired_tokens_fail() {
    let mails = Arc::new(Recorder::default());
    let mut s = settings();
    s.confirmation_token_lifetime_secs = 1;
    let env = env("expired", s, mails.clone()).await;
    env.signup("old@example.com", None).await;
    let mail = mails.nth(1).await;
    assert!(mail.text.contains("valid for 1 minute"), "{}", mail.text);
    let token = token_of(&link_of(&mail.text));
    tokio::time::sleep(Duration::from_millis(1300)).await;
    assert_eq!(
        error_of(&env.verify(&token).await),
        (403, "otp_expired".into())
    );
    assert_eq!(
        error_of(&env.sign_in("old@example.com").await),
        (400, "email_not_confirmed".into())
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_verify_redirects_only_to_allowed_urls() {
    let mails = Arc::new(Recorder::default());
    let env = env("redirect", settings(), mails.clone()).await;

    // The link as mailed, with an allowed redirect_to: there, with the
    // session in the fragment.
    env.signup("bo@example.com", Some(&format!("{APP}/welcome")))
        .await;
    let link = link_of(&mails.nth(1).await.text);
    assert!(
        link.ends_with(&format!("redirect_to={}", enc(&format!("{APP}/welcome")))),
        "{link}"
    );
    let r = env.get(&path_of(&link)).await;
    assert_eq!(r.status, 303, "{}", r.text());
    assert_eq!(r.header("cache-control"), Some("no-store"));
    let location = r.header("location").expect("location").to_string();
    assert!(
        location.starts_with(&format!("{APP}/welcome#access_token=")),
        "{location}"
    );
    let p = fragment_params(&location);
    assert_eq!(param(&p, "token_type"), Some("bearer"));
    assert_eq!(param(&p, "type"), Some("signup"));
    assert_eq!(param(&p, "expires_in"), Some("3600"));
    assert!(param(&p, "expires_at").is_some_and(|v| v.parse::<i64>().is_ok()));
    assert!(param(&p, "refresh_token").is_some_and(|v| !v.is_empty()));
    let access = param(&p, "access_token").unwrap();
    let me = env
        .service
        .handle(
            env.request("GET", "/user", None)
                .header("Authorization", format!("Bearer {access}")),
        )
        .await;
    assert_eq!(me.status, 200, "{}", me.text());
    assert!(me.json()["email_confirmed_at"].is_string());

    // The same link again: used; an error fragment, still at the app.
    let r = env.get(&path_of(&link)).await;
    assert_eq!(r.status, 303);
    let location = r.header("location").unwrap();
    assert!(
        location.starts_with(&format!("{APP}/welcome#error=access_denied")),
        "{location}"
    );
    assert!(location.contains("error_code=otp_expired"), "{location}");

    // A sign-up asking for an attacker's redirect_to: the link holds the
    // site instead.
    env.signup("cy@example.com", Some("https://evil.example/steal"))
        .await;
    let link = link_of(&mails.nth(2).await.text);
    assert!(!link.contains("evil"), "{link}");
    assert!(
        link.ends_with(&format!("redirect_to={}", enc(SITE))),
        "{link}"
    );
    // An edited link naming the attacker: the tokens go to the site.
    let token = token_of(&link);
    for evil in [
        "https://evil.example/steal",
        "https://app.example.com.evil.example/",
        "https://app.example.com@evil.example/",
        "//evil.example/",
    ] {
        let r = env
            .get(&format!(
                "/verify?token=bad{token}&type=signup&redirect_to={}",
                enc(evil)
            ))
            .await;
        assert_eq!(r.status, 303);
        let location = r.header("location").unwrap();
        assert!(
            location.starts_with(&format!("{SITE}#error=")),
            "{evil}: {location}"
        );
    }
    let r = env
        .get(&format!(
            "/verify?token={token}&type=signup&redirect_to={}",
            enc("https://evil.example/steal")
        ))
        .await;
    assert_eq!(r.status, 303);
    let location = r.header("location").unwrap();
    assert!(
        location.starts_with(&format!("{SITE}#access_token=")),
        "{location}"
    );

    // HEAD (a mail scanner probing the link) never uses a token.
    let r = env
        .service
        .handle(env.request("HEAD", "/verify?token=x&type=signup", None))
        .await;
    assert_eq!(r.status, 405);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resend_is_rate_limited_and_tells_nothing() {
    let mails = Arc::new(Recorder::default());
    let mut s = settings();
    s.rate_limits.mail_per_address = Rate::new(2, 3600);
    let env = env("resend", s, mails.clone()).await;

    env.signup("di@example.com", None).await;
    let first = token_of(&link_of(&mails.nth(1).await.text));
    let r = env
        .post(
            "/resend",
            json!({"type": "signup", "email": "DI@example.com"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json(), json!({}));
    let second = token_of(&link_of(&mails.nth(2).await.text));
    assert_ne!(first, second);
    // The new link replaces the old one.
    assert_eq!(
        error_of(&env.verify(&first).await),
        (403, "otp_expired".into())
    );
    // Third mail to the address within the period: refused.
    let r = env
        .post(
            "/resend",
            json!({"type": "signup", "email": "di@example.com"}),
        )
        .await;
    assert_eq!(error_of(&r), (429, "over_email_send_rate_limit".into()));
    assert!(r.header("retry-after").is_some());

    // An unknown address: the same answers, and no mail.
    let before = mails.count();
    for _ in 0..2 {
        let r = env
            .post(
                "/resend",
                json!({"type": "signup", "email": "nobody@example.com"}),
            )
            .await;
        assert_eq!((r.status, r.json()), (200, json!({})));
    }
    let r = env
        .post(
            "/resend",
            json!({"type": "signup", "email": "nobody@example.com"}),
        )
        .await;
    assert_eq!(error_of(&r), (429, "over_email_send_rate_limit".into()));
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(mails.count(), before);

    // The second link still confirms; a confirmed account gets no mail.
    assert_eq!(env.verify(&second).await.status, 200);
    let r = env
        .post(
            "/resend",
            json!({"type": "signup", "email": "di2@example.com"}),
        )
        .await;
    assert_eq!((r.status, r.json()), (200, json!({})));

    // Other types, bad addresses.
    let r = env
        .post("/resend", json!({"type": "sms", "phone": "+15550100"}))
        .await;
    assert_eq!(error_of(&r), (422, "validation_failed".into()));
    let r = env
        .post(
            "/resend",
            json!({"type": "signup", "email": "not-an-address"}),
        )
        .await;
    assert_eq!(error_of(&r), (400, "email_address_invalid".into()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn routes_refuse_to_open_without_a_way_to_confirm() {
    let (system, _dir, _) = system("refuse").await;
    let mut s = settings();
    // No mailer, no smtp: refused, naming why.
    let e = AuthRoutes::open(system.clone(), ring(), s.clone())
        .await
        .expect_err("no mailer");
    assert!(e.to_string().contains("no mailer"), "{e}");
    // Bad URLs.
    for bad in [
        AuthSettings {
            site_url: "app.example.com".into(),
            ..s.clone()
        },
        AuthSettings {
            redirect_allow_list: vec!["javascript:alert(1)".into()],
            ..s.clone()
        },
        AuthSettings {
            api_external_url: Some("http://x.example/?a=1".into()),
            ..s.clone()
        },
    ] {
        let r = AuthRoutes::open_with_mailer(
            system.clone(),
            ring(),
            bad,
            Arc::new(Recorder::default()),
        )
        .await;
        assert!(r.is_err());
    }
    // SMTP settings: built at open (no connection yet).
    let mut smtp = SmtpSettings::new("127.0.0.1", "not an address");
    smtp.tls = SmtpTls::None;
    s.smtp = Some(smtp.clone());
    let e = AuthRoutes::open(system.clone(), ring(), s.clone())
        .await
        .expect_err("bad sender");
    assert!(e.to_string().contains("sender"), "{e}");
    smtp.from = "mini-baas <no-reply@example.com>".into();
    smtp.password_file = Some("/nonexistent/smtp-password".into());
    smtp.user = Some("u".into());
    s.smtp = Some(smtp.clone());
    assert!(
        AuthRoutes::open(system.clone(), ring(), s.clone())
            .await
            .is_err()
    );
    smtp.password_file = None;
    smtp.user = None;
    s.smtp = Some(smtp);
    AuthRoutes::open(system, ring(), s)
        .await
        .expect("smtp settings");
}

#[test]
fn smtp_mailer_debug_hides_the_password() {
    let mut s = SmtpSettings::new("smtp.example.com", "no-reply@example.com");
    s.user = Some("mailer".into());
    let m = SmtpMailer::new(&s, Some(Secret::new("s3cr3t-passw0rd"))).expect("mailer");
    let d = format!("{m:?}");
    assert!(!d.contains("s3cr3t"), "{d}");
    assert!(d.contains("[redacted]"), "{d}");
}

// ---------- real SMTP ----------

/// The sink's address, if it listens; `None` (after printing why) when the
/// test is to be skipped. Under CI the sink must be there.
fn smtp_sink() -> Option<(String, u16, PathBuf)> {
    let addr = std::env::var("BAAS_TEST_SMTP").unwrap_or_else(|_| "127.0.0.1:2525".into());
    let maildir = PathBuf::from(
        std::env::var("BAAS_TEST_MAILDIR").unwrap_or_else(|_| "/var/tmp/baas-maildir".into()),
    );
    let (host, port) = addr.rsplit_once(':').expect("BAAS_TEST_SMTP is host:port");
    let port: u16 = port.parse().expect("BAAS_TEST_SMTP port");
    let reachable = (host, port)
        .to_socket_addrs()
        .ok()
        .and_then(|mut a| a.next())
        .is_some_and(|a| TcpStream::connect_timeout(&a, Duration::from_secs(2)).is_ok());
    if !reachable {
        let why = format!("no SMTP sink on {addr} (start it with .ci/smtp.sh)");
        assert!(std::env::var("CI").as_deref() != Ok("true"), "{why}");
        println!("skipped smtp_sink_receives_the_link: {why}");
        return None;
    }
    Some((host.to_string(), port, maildir))
}

/// Quoted-printable decoded.
fn unquote(qp: &str) -> String {
    let joined = qp.replace("=\r\n", "").replace("=\n", "");
    let b = joined.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'='
            && i + 2 < b.len() + 1
            && let Some(v) = joined
                .get(i + 1..i + 3)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            out.push(v);
            i += 3;
            continue;
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The decoded parts of a stored message: (content type, body).
fn parts(raw: &str) -> Vec<(String, String)> {
    let raw = raw.replace("\r\n", "\n");
    let mut out = Vec::new();
    // Every header block followed by a body: the message's and each part's.
    for chunk in raw.split("\n--") {
        let chunk = chunk.split_once('\n').map_or("", |(_, rest)| rest);
        let Some((head, body)) = chunk.split_once("\n\n").or_else(|| raw.split_once("\n\n")) else {
            continue;
        };
        let header = |name: &str| {
            head.lines()
                .find(|l| l.to_ascii_lowercase().starts_with(&format!("{name}:")))
                .map(|l| l.split_once(':').unwrap().1.trim().to_ascii_lowercase())
        };
        let Some(ct) = header("content-type") else {
            continue;
        };
        let body = match header("content-transfer-encoding").as_deref() {
            Some("quoted-printable") => unquote(body),
            Some("base64") => String::from_utf8_lossy(
                &base64::engine::general_purpose::STANDARD
                    .decode(body.split_whitespace().collect::<String>())
                    .unwrap_or_default(),
            )
            .into_owned(),
            _ => body.to_string(),
        };
        out.push((ct, body));
    }
    out
}

/// The message to `to` in the Maildir, once it arrived.
async fn stored_mail(maildir: &std::path::Path, to: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        for dir in ["new", "cur"] {
            if let Ok(entries) = std::fs::read_dir(maildir.join(dir)) {
                for e in entries.flatten() {
                    let text = std::fs::read_to_string(e.path()).unwrap_or_default();
                    if text.contains(&format!("X-RcptTo: {to}")) {
                        // Read once: the Maildir outlives runs.
                        let _ = std::fs::remove_file(e.path());
                        return text;
                    }
                }
            }
        }
        assert!(
            Instant::now() < deadline,
            "no mail to {to} in {}",
            maildir.display()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn smtp_sink_receives_the_link() {
    let Some((host, port, maildir)) = smtp_sink() else {
        return;
    };
    let mut smtp = SmtpSettings::new(host, "mini-baas <no-reply@example.com>");
    smtp.port = Some(port);
    smtp.tls = SmtpTls::None;
    smtp.timeout_secs = 10;
    let mut s = settings();
    s.smtp = Some(smtp);
    // The mailer from the settings, as a server builds it.
    let (system, dir, baas) = self::system("smtp").await;
    let ring = ring();
    let routes = AuthRoutes::open(system, ring.clone(), s)
        .await
        .expect("auth routes with smtp");
    let env = Env {
        service: Service::new(baas)
            .with_family("auth", Arc::new(routes))
            .expect("family")
            .with_authenticator(Arc::new(Authenticator::new(ring.clone(), None))),
        anon: ring.tenant("t").api_key(KeyRole::Anon),
        _dir: dir,
    };

    // A fresh address per run: the Maildir outlives runs.
    let stamp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let email = format!("smtp-{}-{stamp}@example.com", std::process::id());
    env.signup(&email, Some(&format!("{APP}/done"))).await;
    assert_eq!(
        error_of(&env.sign_in(&email).await),
        (400, "email_not_confirmed".into())
    );

    let raw = stored_mail(&maildir, &email).await;
    assert!(raw.contains("Subject: Confirm your signup"), "{raw}");
    assert!(
        raw.contains("From: mini-baas <no-reply@example.com>"),
        "{raw}"
    );
    let parts = parts(&raw);
    let text = parts
        .iter()
        .find(|(ct, _)| ct.starts_with("text/plain"))
        .map(|(_, b)| b.clone())
        .unwrap_or_else(|| panic!("no text part in {raw}"));
    let html = parts
        .iter()
        .find(|(ct, _)| ct.starts_with("text/html"))
        .map(|(_, b)| b.clone())
        .unwrap_or_else(|| panic!("no html part in {raw}"));
    let link = link_of(&text);
    assert!(
        link.starts_with(&format!("{API_URL}/t/auth/v1/verify?token=")),
        "{link}"
    );
    assert!(
        link.ends_with(&format!(
            "&type=signup&redirect_to={}",
            enc(&format!("{APP}/done"))
        )),
        "{link}"
    );
    assert!(html.contains(&link.replace('&', "&amp;")), "{html}");

    // The link, followed: confirmed, redirected with a session.
    let r = env.get(&path_of(&link)).await;
    assert_eq!(r.status, 303, "{}", r.text());
    let location = r.header("location").unwrap();
    assert!(
        location.starts_with(&format!("{APP}/done#access_token=")),
        "{location}"
    );
    assert_eq!(env.sign_in(&email).await.status, 200);
    // Once only.
    assert_eq!(
        error_of(&env.verify(&token_of(&link)).await),
        (403, "otp_expired".into())
    );
}
