//! Bodies through axum, both ways, without buffering: a registered route
//! family reads an upload far over `max_body_bytes` chunk by chunk (the
//! event of a chunk comes back before the next one is sent) and streams
//! its answer; the process's resident memory stays far below the upload's
//! size (its peak, from `/proc/self/status`). Also the service's 413 and
//! `Location` as axum sends them.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::http::Request;
use futures::StreamExt;
use mini_baas::UrlConnector;
use mini_baas::engine::{Baas, MemoryStore, TenantConfig, TenantMode};
use mini_baas::rest::{RestLimits, Service};
use tower::ServiceExt;

/// This process's resident memory and its peak since the last reset, in
/// bytes (Linux: `VmRSS`, `VmHWM`; writing 5 to `clear_refs` resets the
/// peak).
fn rss() -> (usize, usize) {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    let kb = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<usize>().ok())
            .expect(name)
            * 1024
    };
    (kb("VmRSS:"), kb("VmHWM:"))
}

fn reset_peak() {
    std::fs::write("/proc/self/clear_refs", "5").expect("reset the peak RSS");
}

const LIMIT: usize = 1000;
const CHUNK: usize = 256 * 1024;
/// 64 MiB in all: 64,000 times `max_body_bytes`.
const CHUNKS: usize = 256;

/// A fresh SQLite database with an empty `note` table: its URL.
async fn note_db(tag: &str) -> String {
    let path = std::env::temp_dir().join(format!("baas-axum-{tag}-{}.db", std::process::id()));
    let _ = std::fs::remove_file(&path);
    let url = format!("sqlite://{}", path.display());
    let db = mini_baas::sqlite::connect(mini_baas::sqlite::SqliteConfig::new(&url))
        .await
        .unwrap();
    db.backend()
        .execute_script("CREATE TABLE note (id INTEGER PRIMARY KEY, body TEXT NOT NULL);")
        .await
        .unwrap();
    url
}

async fn app(tag: &str) -> (Router, Arc<baas_testkit::edge::SseEcho>) {
    let url = note_db(tag).await;
    let baas =
        Arc::new(Baas::builder(Arc::new(MemoryStore::new()), Arc::new(UrlConnector)).build());
    baas.register_tenant(
        TenantConfig::new("acme", url, TenantMode::Introspected),
        None,
    )
    .await
    .unwrap();
    let echo = Arc::new(baas_testkit::edge::SseEcho::new());
    let service = Service::new(baas)
        .with_limits(RestLimits {
            max_body_bytes: LIMIT,
            ..RestLimits::default()
        })
        .with_family("probe", echo.clone())
        .unwrap();
    (Router::new().nest("/api", baas_axum::router(service)), echo)
}

#[tokio::test]
async fn an_upload_and_an_event_stream_pass_through_axum_unbuffered() {
    let (app, echo) = app("stream").await;
    let (tx, rx) = futures::channel::mpsc::channel::<Result<Bytes, std::io::Error>>(0);
    let mut tx = tx;
    let req = Request::post("/api/acme/probe/v1/upload")
        .body(Body::from_stream(rx))
        .unwrap();
    let resp = app.oneshot(req).await.unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["content-type"], "text/event-stream");
    let mut events = resp.into_body().into_data_stream();
    let mut next = async || {
        let chunk = tokio::time::timeout(Duration::from_secs(10), events.next())
            .await
            .expect("the next event in time")
            .expect("an event")
            .expect("not an error");
        String::from_utf8(chunk.to_vec()).unwrap()
    };
    assert_eq!(
        next().await,
        "event: start\ndata: acme /upload /api/acme/probe/v1\n\n"
    );
    reset_peak();
    let (base, _) = rss();
    let mut total = 0;
    for n in 1..=CHUNKS {
        // The channel holds one chunk; the family answered the previous
        // one, so there is room, and this chunk exists only now.
        // A fresh allocation each time: a stack that kept chunks would
        // keep them resident.
        tx.try_send(Ok(Bytes::from(vec![b'x'; CHUNK])))
            .expect("send");
        total += CHUNK;
        assert_eq!(next().await, format!("data: {n} {CHUNK} {total}\n\n"));
    }
    drop(tx);
    assert_eq!(next().await, format!("event: end\ndata: {total}\n\n"));
    let (_, peak) = rss();
    let grew = peak.saturating_sub(base);
    println!("{total} bytes uploaded; the resident memory grew by at most {grew} bytes");
    assert!(
        grew < total / 8,
        "the resident memory grew by {grew} bytes for a {total}-byte upload"
    );
    assert_eq!(echo.largest_chunk(), CHUNK);
}

/// The service's 413 as axum sends it (the same bytes through actix and
/// the server: `baas_rest::payload_too_large`), and `Location` through the
/// plain routes and the alias under the mount.
#[tokio::test]
async fn the_413_and_location_are_the_services() {
    let (app, _) = app("limits").await;
    let expected = mini_baas::rest::payload_too_large(LIMIT).body().to_string();
    for declared in [true, false] {
        let big = vec![b' '; 4 * LIMIT];
        let mut req = Request::post("/api/acme/note").header("content-type", "application/json");
        if declared {
            req = req.header("content-length", big.len());
        }
        let body = if declared {
            Body::from(big)
        } else {
            Body::from_stream(futures::stream::iter(
                big.chunks(100)
                    .map(|c| Ok::<_, std::io::Error>(Bytes::copy_from_slice(c)))
                    .collect::<Vec<_>>(),
            ))
        };
        let resp = app.clone().oneshot(req.body(body).unwrap()).await.unwrap();
        assert_eq!(resp.status(), 413);
        assert_eq!(resp.headers()["connection"], "close");
        assert_eq!(
            resp.headers()["content-type"],
            "application/json; charset=utf-8"
        );
        let body = axum::body::to_bytes(resp.into_body(), usize::MAX)
            .await
            .unwrap();
        assert_eq!(String::from_utf8_lossy(&body), expected);
    }
    for (path, location) in [
        ("/api/acme/note", "/api/acme/note/1"),
        ("/api/acme/rest/v1/note", "/api/acme/rest/v1/note/2"),
    ] {
        let req = Request::post(path)
            .header("content-type", "application/json")
            .header("prefer", "return=headers-only")
            .body(Body::from(r#"{"body":"x"}"#))
            .unwrap();
        let resp = app.clone().oneshot(req).await.unwrap();
        assert_eq!(resp.status(), 201);
        assert_eq!(resp.headers()["location"], location);
    }
}

/// The URL of the `café x` tenant (an id the engine's stores refuse, which
/// another store may hold) over a fresh SQLite `note` table, in
/// [`AnyIdStore`](baas_testkit::edge::AnyIdStore); the same in the actix
/// test, whose `Location` must be the same.
async fn odd_tenant_app() -> Router {
    use mini_baas::engine::MetadataStore;
    let url = note_db("odd").await;
    let store = Arc::new(baas_testkit::edge::AnyIdStore::default());
    store
        .put_tenant(&TenantConfig::new("café x", url, TenantMode::Introspected))
        .await
        .unwrap();
    let baas = Arc::new(Baas::builder(store, Arc::new(UrlConnector)).build());
    Router::new().nest("/api", baas_axum::router(Service::new(baas)))
}

/// A tenant id that needs percent-encoding is encoded in `Location`
/// (`/api/caf%C3%A9%20x/note/1`), as through actix.
#[tokio::test]
async fn a_tenant_id_is_percent_encoded_in_location() {
    let app = odd_tenant_app().await;
    for (path, location) in [
        ("/api/caf%C3%A9%20x/note", "/api/caf%C3%A9%20x/note/1"),
        (
            "/api/caf%C3%A9%20x/rest/v1/note",
            "/api/caf%C3%A9%20x/rest/v1/note/2",
        ),
    ] {
        let req = Request::post(path)
            .header("content-type", "application/json")
            .header("prefer", "return=headers-only")
            .body(Body::from(r#"{"body":"x"}"#))
            .unwrap();
        let resp = app.clone().oneshot(req).await.unwrap();
        assert_eq!(resp.status(), 201, "{path}");
        assert_eq!(resp.headers()["location"], location);
        // The location is a working URL.
        let resp = app
            .clone()
            .oneshot(Request::get(location).body(Body::empty()).unwrap())
            .await
            .unwrap();
        assert_eq!(resp.status(), 200, "{location}");
    }
}
