//! Attacks on auth through the real `baas` binary serving its demo: forged
//! and foreign tokens, escalation through reads, filters, orders, counts,
//! embeds and writes, and a flood of failed sign-ins. Each must be refused
//! with 401/403 (or see nothing), with nothing leaked or written.
//!
//! Tokens with chosen claims are signed with the demo's own keys, derived
//! here from the server's secret key file, so that each test isolates one
//! property (an expired token that is otherwise perfect, …).

mod common;
mod server;

use std::net::SocketAddr;
use std::path::Path;
use std::time::{Duration, Instant};

use baas_auth::{KeyRing, KeyRole, TenantKeys};
use baas_engine::SecretKey;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use common::{Resp, get, request};
use serde_json::{Value, json};

const ADMIN: &str = "auth-attack-admin-key-0123456789";
const JSON_CT: (&str, &str) = ("Content-Type", "application/json");

struct Demo {
    _srv: server::Server,
    addr: SocketAddr,
    keys: std::sync::Arc<TenantKeys>,
    anon: String,
    service: String,
}

fn demo(name: &str) -> (Demo, std::path::PathBuf) {
    let dir = server::temp_dir(name);
    let srv = server::start(&dir, &[], &[("BAAS_ADMIN_KEY", ADMIN)]);
    let addr = srv.addr;
    let key = std::fs::read_to_string(dir.join("baas-data/secret.key")).expect("secret key");
    let ring = KeyRing::new(SecretKey::parse(&key).expect("key"), None);
    let keys = ring.tenant("demo");
    let (anon, service) = common::keys(&dir, "demo", &[]);
    assert_eq!(
        anon,
        keys.api_key(KeyRole::Anon),
        "baas keys = derived keys"
    );
    (
        Demo {
            _srv: srv,
            addr,
            keys,
            anon,
            service,
        },
        dir,
    )
}

impl Demo {
    async fn call(&self, method: &str, target: &str, token: Option<&str>, body: &[u8]) -> Resp {
        let bearer = token.map(|t| format!("Bearer {t}"));
        let mut h = vec![
            ("apikey", self.anon.as_str()),
            JSON_CT,
            ("Prefer", "return=representation"),
        ];
        if let Some(b) = &bearer {
            h.push(("Authorization", b.as_str()));
        }
        request(self.addr, method, target, &h, body).await
    }

    /// Sign up a user: (user id, access token, refresh token).
    async fn user(&self, email: &str) -> (String, String, String) {
        let body = json!({"email": email, "password": "correct horse battery"}).to_string();
        let r = self
            .call("POST", "/demo/auth/v1/signup", None, body.as_bytes())
            .await;
        assert_eq!(r.status, 200, "signup: {}", r.text());
        let s = r.json();
        (
            s["user"]["id"].as_str().expect("user id").to_string(),
            s["access_token"]
                .as_str()
                .expect("access token")
                .to_string(),
            s["refresh_token"]
                .as_str()
                .expect("refresh token")
                .to_string(),
        )
    }

    fn sign(&self, claims: Value) -> String {
        self.keys
            .sign_access_token(claims.as_object().expect("claims").clone())
    }
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

fn b64(v: &Value) -> String {
    URL_SAFE_NO_PAD.encode(v.to_string())
}

fn user_claims(sub: &str) -> Value {
    json!({"sub": sub, "role": "authenticated", "aud": "authenticated", "iat": now(), "exp": now() + 600})
}

fn cleanup(dir: &Path) {
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forged_and_foreign_tokens_are_refused() {
    let (d, dir) = demo("auth-tokens");
    let (alice, alice_token, _) = d.user("alice@example.com").await;
    let r = d
        .call(
            "POST",
            "/demo/note",
            Some(&alice_token),
            br#"{"body": "alice's"}"#,
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text());
    // The control: the same request with a good token sees the note.
    let ok = d
        .call("GET", "/demo/note?select=body", Some(&alice_token), b"")
        .await;
    assert_eq!(ok.json(), json!([{"body": "alice's"}]));

    let parts: Vec<&str> = d.anon.split('.').collect();
    let mut anon_payload: Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
    anon_payload["role"] = json!("service_role");
    let forged_role = format!("{}.{}.{}", parts[0], b64(&anon_payload), parts[2]);

    let none = format!(
        "{}.{}.",
        b64(&json!({"alg": "none", "typ": "JWT"})),
        b64(
            &json!({"iss": "mini-baas/demo", "ref": "demo", "role": "service_role", "exp": now() + 600})
        )
    );
    // HS256 signed with the public key of the JWKS.
    let jwks = get(d.addr, "/demo/auth/v1/.well-known/jwks.json")
        .await
        .json();
    let x = jwks["keys"][0]["x"].as_str().expect("jwks x").to_string();
    let hs_public = jsonwebtoken_like_hs256(
        &json!({"alg": "HS256", "typ": "JWT"}),
        &json!({"iss": "mini-baas/demo", "ref": "demo", "role": "service_role", "sub": alice, "exp": now() + 600}),
        x.as_bytes(),
    );
    let tampered = {
        let p: Vec<&str> = alice_token.split('.').collect();
        let mut claims: Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(p[1]).unwrap()).unwrap();
        claims["role"] = json!("service_role");
        format!("{}.{}.{}", p[0], b64(&claims), p[2])
    };
    let other_tenant = common::keys(&dir, "other", &[]).1;
    let mut expired = user_claims(&alice);
    expired["exp"] = json!(now() - 3600);
    expired["iat"] = json!(now() - 7200);
    let mut early = user_claims(&alice);
    early["nbf"] = json!(now() + 3600);
    let mut wrong_aud = user_claims(&alice);
    wrong_aud["aud"] = json!("someone-else");
    let unknown_kid = {
        let t = d.sign(user_claims(&alice));
        let p: Vec<&str> = t.split('.').collect();
        let mut h: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(p[0]).unwrap()).unwrap();
        h["kid"] = json!("not-a-key");
        format!("{}.{}.{}", b64(&h), p[1], p[2])
    };
    let cases = [
        ("alg none", none),
        ("anon key with its role changed", forged_role),
        ("HS256 signed with the public key", hs_public),
        ("user token with its role changed", tampered),
        ("another tenant's service key", other_tenant),
        ("expired", d.sign(expired)),
        ("not valid yet", d.sign(early)),
        ("wrong audience", d.sign(wrong_aud)),
        ("unknown kid", unknown_kid),
        ("garbage", "a.b.c".to_string()),
    ];
    for (what, token) in &cases {
        let r = d.call("GET", "/demo/note", Some(token), b"").await;
        assert_eq!(r.status, 401, "{what}: {}", r.text());
        assert!(!r.text().contains("alice's"), "{what} leaked");
        let w = d
            .call(
                "POST",
                "/demo/book",
                Some(token),
                br#"{"title": "x", "author_id": 1}"#,
            )
            .await;
        assert_eq!(w.status, 401, "{what} (write): {}", w.text());
        // As apikey too.
        let r = request(
            d.addr,
            "GET",
            "/demo/note",
            &[("apikey", token.as_str())],
            b"",
        )
        .await;
        assert_eq!(r.status, 401, "{what} as apikey: {}", r.text());
    }
    // Nothing was written by any of them.
    let books = request(
        d.addr,
        "GET",
        "/demo/book?title=eq.x",
        &[("apikey", d.service.as_str())],
        b"",
    )
    .await;
    assert_eq!(books.json(), json!([]));
    cleanup(&dir);
}

/// HS256 by hand (the attacker's tool), so the test does not depend on a
/// JWT library accepting to sign with a public key.
fn jsonwebtoken_like_hs256(header: &Value, claims: &Value, secret: &[u8]) -> String {
    let signing_input = format!("{}.{}", b64(header), b64(claims));
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, secret);
    let sig = ring::hmac::sign(&key, signing_input.as_bytes());
    format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(sig.as_ref()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rules_cannot_be_escalated() {
    let (d, dir) = demo("auth-escalation");
    let (alice, a, _) = d.user("alice@example.com").await;
    let (bob, b, _) = d.user("bob@example.com").await;
    let r = d
        .call(
            "POST",
            "/demo/note?select=id,owner_id",
            Some(&a),
            br#"{"body": "secret plan"}"#,
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text());
    let note = r.json()[0]["id"].as_i64().expect("id");
    assert_eq!(r.json()[0]["owner_id"], json!(alice));

    // Reads, filters, counts: Bob sees nothing of Alice's.
    for target in [
        "/demo/note".to_string(),
        format!("/demo/note?owner_id=eq.{alice}"),
        "/demo/note?body=like.*plan*".to_string(),
        format!("/demo/note?id=eq.{note}"),
        "/demo/note?order=body.desc".to_string(),
    ] {
        let r = d.call("GET", &target, Some(&b), b"").await;
        assert_eq!(r.status, 200, "{target}: {}", r.text());
        assert_eq!(r.json(), json!([]), "{target}");
    }
    let r = request(
        d.addr,
        "GET",
        "/demo/note",
        &[
            ("apikey", d.anon.as_str()),
            ("Authorization", &format!("Bearer {b}")),
            ("Prefer", "count=exact"),
        ],
        b"",
    )
    .await;
    assert_eq!(
        r.header("content-range"),
        Some("*/0"),
        "count of hidden rows"
    );
    let r = d
        .call("GET", &format!("/demo/note/{note}"), Some(&b), b"")
        .await;
    assert_eq!(r.status, 404, "a hidden row by key: {}", r.text());
    // Anonymous: nothing, and no insert.
    let r = d.call("GET", "/demo/note", None, b"").await;
    assert_eq!(r.json(), json!([]));
    let r = d
        .call("POST", "/demo/note", None, br#"{"body": "anon"}"#)
        .await;
    assert!(matches!(r.status, 401 | 403), "anon insert: {}", r.text());
    let r = d
        .call(
            "POST",
            "/demo/book",
            None,
            br#"{"title": "anon book", "author_id": 1}"#,
        )
        .await;
    assert!(
        matches!(r.status, 401 | 403),
        "anon book insert: {}",
        r.text()
    );

    // Writes: Bob cannot change or delete Alice's note, nor give his own
    // to her, nor overwrite hers by upsert.
    let r = d
        .call(
            "PATCH",
            &format!("/demo/note?id=eq.{note}&select=id"),
            Some(&b),
            br#"{"body": "pwned"}"#,
        )
        .await;
    assert_eq!(r.json(), json!([]), "update of a hidden row: {}", r.text());
    let r = d
        .call(
            "DELETE",
            &format!("/demo/note?id=eq.{note}&select=id"),
            Some(&b),
            b"",
        )
        .await;
    assert_eq!(r.json(), json!([]), "delete of a hidden row: {}", r.text());
    let r = d
        .call(
            "POST",
            "/demo/note?select=owner_id",
            Some(&b),
            format!(r#"{{"body": "forged", "owner_id": "{alice}"}}"#).as_bytes(),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(r.json(), json!([{"owner_id": bob}]), "the preset wins");
    let r = request(
        d.addr,
        "POST",
        "/demo/note?on_conflict=id",
        &[
            ("apikey", d.anon.as_str()),
            ("Authorization", &format!("Bearer {b}")),
            JSON_CT,
            (
                "Prefer",
                "resolution=merge-duplicates,return=representation",
            ),
        ],
        format!(r#"{{"id": {note}, "body": "overwritten"}}"#).as_bytes(),
    )
    .await;
    assert!(
        r.status >= 400 || !r.text().contains("secret plan"),
        "upsert over another user's row: {} {}",
        r.status,
        r.text()
    );
    let r = d
        .call(
            "PATCH",
            &format!("/demo/note?owner_id=eq.{bob}&select=owner_id"),
            Some(&b),
            format!(r#"{{"owner_id": "{alice}"}}"#).as_bytes(),
        )
        .await;
    assert!(
        r.status == 403 || r.json() == json!([{"owner_id": bob}]),
        "moving one's note to another user: {}",
        r.text()
    );
    // Alice's note is intact.
    let r = request(
        d.addr,
        "GET",
        &format!("/demo/note?id=eq.{note}&select=body,owner_id"),
        &[("apikey", d.service.as_str())],
        b"",
    )
    .await;
    assert_eq!(
        r.json(),
        json!([{"body": "secret plan", "owner_id": alice}])
    );

    // Hidden fields: give anon only `id, name` of authors, then try to
    // read `country` through select, filters, orders and embeds.
    let mut rules: Value = request(
        d.addr,
        "GET",
        "/_admin/tenants/demo/rules",
        &[("Authorization", &format!("Bearer {ADMIN}"))],
        b"",
    )
    .await
    .json();
    for r in rules.as_array_mut().unwrap() {
        if r["entity"] == "author" && r["action"] == json!(["read"]) {
            r["read"] = json!(["id", "name"]);
        }
    }
    let r = request(
        d.addr,
        "PUT",
        "/_admin/tenants/demo/rules",
        &[("Authorization", &format!("Bearer {ADMIN}")), JSON_CT],
        rules.to_string().as_bytes(),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let r = d
        .call("GET", "/demo/author?select=*&id=eq.2", None, b"")
        .await;
    assert_eq!(r.json(), json!([{"id": 2, "name": "Stanisław Lem"}]));
    for target in [
        "/demo/author?select=country",
        "/demo/author?country=eq.PL",
        "/demo/author?order=country",
        "/demo/book?select=title,author(country)",
        "/demo/book?select=title,author!inner(name)&author.country=eq.PL",
    ] {
        let r = d.call("GET", target, None, b"").await;
        assert_eq!(r.status, 403, "{target}: {}", r.text());
        assert!(!r.text().contains("\"PL\""), "{target} leaked");
    }
    // A bad rule is refused with a pointer, and nothing changes.
    let r = request(
        d.addr,
        "PUT",
        "/_admin/tenants/demo/rules",
        &[("Authorization", &format!("Bearer {ADMIN}")), JSON_CT],
        br#"[{"entity": "note", "action": ["read"], "role": ["anon"], "filter": "nope=eq.1"}]"#,
    )
    .await;
    assert!(r.status == 400 || r.status == 422, "{}", r.text());
    assert!(r.text().contains("/rules/0/filter"), "{}", r.text());
    let r = d.call("GET", "/demo/note", None, b"").await;
    assert_eq!(r.json(), json!([]));
    cleanup(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn documents_show_each_caller_only_what_it_may_use() {
    let (d, dir) = demo("auth-documents");
    let (_, user, _) = d.user("dora@example.com").await;
    let paths = |doc: Value| -> Vec<String> {
        let mut p: Vec<String> = doc["paths"]
            .as_object()
            .map(|m| m.keys().cloned().collect())
            .unwrap_or_default();
        p.sort();
        p
    };
    let anon = paths(d.call("GET", "/demo/openapi.json", None, b"").await.json());
    assert!(anon.contains(&"/book".to_string()), "{anon:?}");
    assert!(
        !anon.iter().any(|p| p.starts_with("/note")),
        "anon sees note: {anon:?}"
    );
    let signed_in = paths(
        d.call("GET", "/demo/openapi.json", Some(&user), b"")
            .await
            .json(),
    );
    assert!(
        signed_in.iter().any(|p| p.starts_with("/note")),
        "{signed_in:?}"
    );
    let r = request(
        d.addr,
        "GET",
        "/demo/discovery",
        &[("apikey", d.anon.as_str())],
        b"",
    )
    .await;
    assert!(
        !r.text().contains("\"note\""),
        "discovery shows note to anon"
    );
    let r = request(
        d.addr,
        "GET",
        "/demo/discovery",
        &[("apikey", d.service.as_str())],
        b"",
    )
    .await;
    assert!(
        r.text().contains("\"note\""),
        "the service role sees everything"
    );
    cleanup(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_of_failed_sign_ins_is_limited_and_the_server_stays_responsive() {
    let (d, dir) = demo("auth-flood");
    d.user("carol@example.com").await;
    let t0 = Instant::now();
    let mut limited = 0;
    let mut wrong = 0;
    let mut tasks = tokio::task::JoinSet::new();
    let addr = d.addr;
    let anon = d.anon.clone();
    for i in 0..10_000 {
        let anon = anon.clone();
        tasks.spawn(async move {
            let body = json!({"email": if i % 2 == 0 { "carol@example.com".to_string() } else { format!("nobody{i}@example.com") }, "password": "wrong"}).to_string();
            request(
                addr,
                "POST",
                "/demo/auth/v1/token?grant_type=password",
                &[("apikey", anon.as_str()), JSON_CT],
                body.as_bytes(),
            )
            .await
            .status
        });
        // Bounded concurrency: 32 at a time.
        while tasks.len() >= 32 {
            match tasks.join_next().await.expect("task").expect("join") {
                429 => limited += 1,
                400 => wrong += 1,
                s => panic!("failed sign-in answered {s}"),
            }
        }
    }
    while let Some(s) = tasks.join_next().await {
        match s.expect("join") {
            429 => limited += 1,
            400 => wrong += 1,
            s => panic!("failed sign-in answered {s}"),
        }
    }
    let elapsed = t0.elapsed();
    println!(
        "auth flood: 10000 failed sign-ins in {elapsed:?}: {wrong} checked (400), {limited} limited (429)"
    );
    assert!(
        limited > 9_000,
        "the flood was not limited: {wrong} checked"
    );
    // Still responsive, for reads and for the right password of another
    // address' account... (same address here: limited too, by design).
    let t = Instant::now();
    let r = d
        .call("GET", "/demo/book?select=title&limit=1", None, b"")
        .await;
    assert_eq!(r.status, 200);
    assert!(
        t.elapsed() < Duration::from_secs(2),
        "a read took {:?}",
        t.elapsed()
    );
    cleanup(&dir);
}

/// An external identity provider: an ES256 key, and its JWKS served over
/// HTTP by the test itself.
struct Idp {
    kid: String,
    key: jsonwebtoken::EncodingKey,
    jwks_url: String,
}

fn es256(seed: u8) -> (jsonwebtoken::EncodingKey, Value) {
    use p256::pkcs8::EncodePrivateKey;
    let sk = p256::SecretKey::from_slice(&[seed; 32]).expect("key");
    let der = sk.to_pkcs8_der().expect("pkcs8");
    let point = sk.public_key().to_sec1_bytes();
    let jwk = json!({
        "kty": "EC", "crv": "P-256", "alg": "ES256", "use": "sig",
        "x": URL_SAFE_NO_PAD.encode(&point[1..33]),
        "y": URL_SAFE_NO_PAD.encode(&point[33..65]),
    });
    (jsonwebtoken::EncodingKey::from_ec_der(der.as_bytes()), jwk)
}

async fn idp() -> Idp {
    let (key, mut jwk) = es256(7);
    jwk["kid"] = json!("idp-key-1");
    let body = json!({"keys": [jwk]}).to_string();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        loop {
            let Ok((mut s, _)) = listener.accept().await else {
                return;
            };
            let body = body.clone();
            tokio::spawn(async move {
                let mut buf = [0u8; 4096];
                let _ = s.read(&mut buf).await;
                let resp = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = s.write_all(resp.as_bytes()).await;
            });
        }
    });
    Idp {
        kid: "idp-key-1".into(),
        key,
        jwks_url: format!("http://127.0.0.1:{port}/.well-known/jwks.json"),
    }
}

const IDP_ISSUER: &str = "https://idp.example.test/";

impl Idp {
    fn token(&self, claims: Value) -> String {
        let mut h = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::ES256);
        h.kid = Some(self.kid.clone());
        jsonwebtoken::encode(&h, &claims, &self.key).expect("sign")
    }

    fn claims(&self, sub: &str) -> Value {
        json!({"iss": IDP_ISSUER, "aud": "my-app", "sub": sub, "exp": now() + 600, "iat": now(),
               "app_role": "member"})
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_external_issuer_is_trusted_only_for_what_it_signs() {
    let (d, dir) = demo("auth-external");
    let idp = idp().await;
    // A managed tenant whose callers sign in at the external provider.
    let db = format!("sqlite://{}?mode=rwc", dir.join("byo.db").display());
    let tenant = json!({
        "id": "byo", "url": db, "mode": "managed",
        "auth": {"external": [{"issuer": IDP_ISSUER, "jwks_url": idp.jwks_url, "audience": ["my-app"],
                               "role_claim": "/app_role"}]},
        "schema": {
            "entities": [{"name": "note", "source": {"table": "note"}, "primary_key": ["id"], "fields": [
                {"name": "id", "type": {"kind": "int64"}, "generated": "auto_increment"},
                {"name": "owner_id", "type": {"kind": "text"}},
                {"name": "body", "type": {"kind": "text"}}]}],
            "rules": [{"entity": "note", "action": ["read", "insert", "update", "delete"], "role": ["member"],
                       "filter": "owner_id=eq.auth.uid()", "preset": {"owner_id": "auth.uid()"}}]
        }
    });
    let admin = format!("Bearer {ADMIN}");
    let r = request(
        d.addr,
        "POST",
        "/_admin/tenants",
        &[("Authorization", &admin), JSON_CT],
        tenant.to_string().as_bytes(),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text());
    let (byo_anon, _) = common::keys(&dir, "byo", &[]);
    let call = |token: String, method: &'static str, target: &'static str, body: &'static [u8]| {
        let anon = byo_anon.clone();
        async move {
            let bearer = format!("Bearer {token}");
            request(
                d.addr,
                method,
                target,
                &[
                    ("apikey", anon.as_str()),
                    ("Authorization", bearer.as_str()),
                    JSON_CT,
                    ("Prefer", "return=representation"),
                ],
                body,
            )
            .await
        }
    };
    let good = idp.token(idp.claims("ext-user-1"));
    let r = call(
        good.clone(),
        "POST",
        "/byo/note?select=owner_id,body",
        br#"{"body": "from the idp"}"#,
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(
        r.json(),
        json!([{"owner_id": "ext-user-1", "body": "from the idp"}])
    );
    let other = idp.token(idp.claims("ext-user-2"));
    let r = call(other, "GET", "/byo/note", b"").await;
    assert_eq!(r.json(), json!([]), "another external user sees nothing");

    // Refused: another key under the same kid, HMAC with the public key,
    // wrong audience, expired, a claimed service role, an unknown kid.
    let (forger, _) = es256(9);
    let mut h = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::ES256);
    h.kid = Some(idp.kid.clone());
    let wrong_key = jsonwebtoken::encode(&h, &idp.claims("ext-user-1"), &forger).unwrap();
    let jwks = reqwest_free_get(&idp.jwks_url).await;
    let x = jwks["keys"][0]["x"].as_str().unwrap().to_string();
    let hmac = {
        let header = json!({"alg": "HS256", "typ": "JWT", "kid": idp.kid});
        jsonwebtoken_like_hs256(&header, &idp.claims("ext-user-1"), x.as_bytes())
    };
    let mut aud = idp.claims("ext-user-1");
    aud["aud"] = json!("someone-else");
    let mut expired = idp.claims("ext-user-1");
    expired["exp"] = json!(now() - 3600);
    let mut service = idp.claims("ext-user-1");
    service["app_role"] = json!("service_role");
    let mut unknown = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::ES256);
    unknown.kid = Some("nope".into());
    let unknown_kid = jsonwebtoken::encode(&unknown, &idp.claims("ext-user-1"), &idp.key).unwrap();
    for (what, token) in [
        ("another key under the same kid", wrong_key),
        ("HS256 with the public key", hmac),
        ("wrong audience", idp.token(aud)),
        ("expired", idp.token(expired)),
        ("a claimed service role", idp.token(service)),
        ("an unknown kid", unknown_kid),
    ] {
        let r = call(token, "GET", "/byo/note", b"").await;
        assert_eq!(r.status, 401, "{what}: {}", r.text());
    }
    // The provider is trusted by `byo` only.
    let r = d.call("GET", "/demo/note", Some(&good), b"").await;
    assert_eq!(
        r.status, 401,
        "an external token on a tenant that does not trust it"
    );
    cleanup(&dir);
}

/// GET a JSON document over plain HTTP/1.1 (the test's own JWKS server).
async fn reqwest_free_get(url: &str) -> Value {
    let rest = url.strip_prefix("http://").unwrap();
    let (host, path) = rest.split_once('/').unwrap();
    let r = request(host.parse().unwrap(), "GET", &format!("/{path}"), &[], b"").await;
    r.json()
}
