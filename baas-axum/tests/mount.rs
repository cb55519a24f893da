//! mini-baas nested under `/api` in an axum app, next to the app's own
//! routes, driven in-process with `tower::ServiceExt::oneshot`.

use std::sync::Arc;

use axum::Router;
use axum::body::{Body, to_bytes};
use axum::http::{Request, StatusCode};
use axum::routing::get;
use mini_baas::engine::{
    AccessRequest, Action, Baas, Grant, MemoryStore, Policy, Principal, TenantConfig, TenantMode,
};
use mini_baas::rest::{RestLimits, Service};
use mini_baas::{Error, Result, UrlConnector};
use tower::ServiceExt;

/// Anonymous callers may read; writes need a principal.
struct SignedInWrites;

#[async_trait::async_trait]
impl Policy for SignedInWrites {
    async fn grant(&self, r: &AccessRequest<'_>) -> Result<Grant> {
        if r.action != Action::Read && r.principal.subject.is_none() {
            return Err(Error::Forbidden("sign in to write".into()));
        }
        Ok(Grant::all())
    }
}

async fn app() -> Router {
    let path = std::env::temp_dir().join(format!("baas-axum-{}.db", std::process::id()));
    let _ = std::fs::remove_file(&path);
    let url = format!("sqlite://{}", path.display());
    let db = mini_baas::sqlite::connect(mini_baas::sqlite::SqliteConfig::new(&url))
        .await
        .unwrap();
    db.backend()
        .execute_script(
            "CREATE TABLE note (id INTEGER PRIMARY KEY, body TEXT NOT NULL);
             INSERT INTO note (body) VALUES ('one'), ('two');",
        )
        .await
        .unwrap();
    let baas = Arc::new(
        Baas::builder(Arc::new(MemoryStore::new()), Arc::new(UrlConnector))
            .policy(Arc::new(SignedInWrites))
            .build(),
    );
    baas.register_tenant(
        TenantConfig::new("acme", url, TenantMode::Introspected),
        None,
    )
    .await
    .unwrap();
    let service = Service::new(baas).with_limits(RestLimits {
        max_body_bytes: 1000,
        ..RestLimits::default()
    });
    Router::new()
        .route("/health", get(|| async { "ok" }))
        .nest("/api", baas_axum::router(service))
}

async fn send(app: &Router, req: Request<Body>) -> (StatusCode, Vec<(String, String)>, String) {
    let resp = app.clone().oneshot(req).await.unwrap();
    let status = resp.status();
    let headers = resp
        .headers()
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or_default().to_string()))
        .collect();
    let body = to_bytes(resp.into_body(), usize::MAX).await.unwrap();
    (status, headers, String::from_utf8_lossy(&body).into_owned())
}

fn header<'a>(h: &'a [(String, String)], name: &str) -> Option<&'a str> {
    h.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

#[tokio::test]
async fn mounted_under_a_prefix() {
    let app = app().await;
    let (s, _, b) = send(&app, Request::get("/health").body(Body::empty()).unwrap()).await;
    assert_eq!((s, b.as_str()), (StatusCode::OK, "ok"));

    let (s, h, b) = send(
        &app,
        Request::get("/api/acme/note?order=id.desc&limit=1")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(b, r#"[{"id":2,"body":"two"}]"#);
    assert_eq!(header(&h, "content-range"), Some("0-0/*"));

    let (s, _, b) = send(
        &app,
        Request::get("/api/acme/note/9")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND, "{b}");

    // Anonymous write refused by the policy …
    let post = || {
        Request::post("/api/acme/note")
            .header("content-type", "application/json")
            .header("prefer", "return=headers-only")
    };
    let (s, _, b) = send(
        &app,
        post().body(Body::from(r#"{"body":"three"}"#)).unwrap(),
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{b}");
    // … allowed for the principal a host middleware put in the extensions.
    let mut req = post().body(Body::from(r#"{"body":"three"}"#)).unwrap();
    req.extensions_mut().insert(Principal::new("ann", []));
    let (s, h, b) = send(&app, req).await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    assert_eq!(header(&h, "location"), Some("/api/acme/note/3"));

    // Bodies over the limit are refused while being read.
    let (s, _, b) = send(&app, post().body(Body::from(vec![b' '; 5000])).unwrap()).await;
    assert_eq!(s, StatusCode::PAYLOAD_TOO_LARGE, "{b}");
    assert!(b.contains("payload_too_large"));
}
