//! The HTTP edge of the real `baas` binary: slow and hostile clients are cut
//! off (header, body and idle timeouts, the connection limit), SIGTERM
//! does not wait forever on a request, forwarded headers count only from
//! trusted proxies, and CORS.

mod common;
mod server;

use std::io::Write;
use std::process::Command;
use std::time::Duration;

use common::request;
use server::{sigterm, start, temp_dir};

/// The timeouts the slow-client script is run with (seconds).
const TIMEOUT: &str = "2";
const MAX_CONNECTIONS: &str = "4";

/// Idle connections, slowloris, a body promised but never sent, a client
/// that never reads its answers, and the connection limit, by
/// `tests/slow_clients.py` (bounded: about 20 s).
#[test]
fn slow_clients_are_cut_off() {
    let dir = temp_dir("edge-slow");
    let server = start(
        &dir,
        &[
            "--header-timeout-secs",
            TIMEOUT,
            "--body-timeout-secs",
            TIMEOUT,
            "--idle-timeout-secs",
            TIMEOUT,
            "--max-http-connections",
            MAX_CONNECTIONS,
        ],
        &[],
    );
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/slow_clients.py");
    let out = Command::new("python3")
        .args([
            script,
            "127.0.0.1",
            &server.addr.port().to_string(),
            TIMEOUT,
            MAX_CONNECTIONS,
        ])
        .output()
        .expect("python3 (installed with the CI services)");
    let text = String::from_utf8_lossy(&out.stdout);
    println!("{text}{}", String::from_utf8_lossy(&out.stderr));
    assert!(
        out.status.success(),
        "slow-client scenarios failed:\n{text}"
    );
    for name in [
        "idle_connection_closed",
        "keep_alive_idle_closed",
        "slowloris_closed",
        "body_never_sent_408",
        "slow_reader_closed",
        "max_connections_respected",
    ] {
        assert!(
            text.lines().any(|l| l.starts_with(&format!("ok {name} "))),
            "{name} did not pass:\n{text}"
        );
    }
    drop(server);
    let _ = std::fs::remove_dir_all(&dir);
}

/// A request that never finishes (its body never comes, and the body
/// timeout is longer than the shutdown deadline) does not hold SIGTERM
/// past the deadline; a request in flight is waited for until then.
#[test]
fn sigterm_has_a_deadline() {
    let dir = temp_dir("edge-sigterm");
    let mut server = start(
        &dir,
        &["--body-timeout-secs", "60", "--shutdown-timeout-secs", "2"],
        &[],
    );
    let mut hanging = std::net::TcpStream::connect(server.addr).unwrap();
    hanging
        .write_all(
            b"POST /demo/author HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{",
        )
        .unwrap();
    std::thread::sleep(Duration::from_millis(300));
    let (status, took) = sigterm(&mut server, Duration::from_secs(10));
    let status = status.expect("baas still running 10 s after SIGTERM");
    assert!(status.success(), "{status:?}");
    assert!(
        took >= Duration::from_millis(1500) && took <= Duration::from_millis(4500),
        "exited {took:?} after SIGTERM; the deadline is 2 s"
    );
    drop(hanging);

    // Nothing in flight: the exit is immediate.
    let mut server = start(&dir, &["--shutdown-timeout-secs", "30"], &[]);
    let idle = std::net::TcpStream::connect(server.addr).unwrap();
    std::thread::sleep(Duration::from_millis(200));
    let (status, took) = sigterm(&mut server, Duration::from_secs(10));
    assert!(status.expect("exited").success());
    assert!(took < Duration::from_secs(2), "{took:?}");
    drop(idle);
    let _ = std::fs::remove_dir_all(&dir);
}

/// `X-Forwarded-Prefix` reaches the OpenAPI `servers` URL only from a
/// trusted proxy.
#[tokio::test]
async fn forwarded_headers_need_a_trusted_proxy() {
    let dir = temp_dir("edge-proxy");
    let forged = [("X-Forwarded-Prefix", "/evil")];
    let server = start(&dir, &[], &[]);
    let r = request(server.addr, "GET", "/demo/openapi.json", &forged, b"").await;
    assert_eq!(r.status, 200, "{}", r.text());
    let url = r.json()["servers"][0]["url"].clone();
    assert!(!url.to_string().contains("evil"), "{url}");
    drop(server);

    let server = start(&dir, &["--trusted-proxies", "10.0.0.0/8,127.0.0.1"], &[]);
    let r = request(server.addr, "GET", "/demo/openapi.json", &forged, b"").await;
    let url = r.json()["servers"][0]["url"].clone();
    assert!(url.to_string().contains("/evil"), "{url}");
    drop(server);
    let _ = std::fs::remove_dir_all(&dir);
}

/// CORS: off by default; with origins configured, preflights are answered
/// 204 with the allowed methods and headers, allowed origins get
/// `Access-Control-Allow-Origin`, others nothing.
#[tokio::test]
async fn cors() {
    let dir = temp_dir("edge-cors");
    let preflight = |origin: &'static str| {
        [
            ("Origin", origin),
            ("Access-Control-Request-Method", "POST"),
            ("Access-Control-Request-Headers", "content-type,prefer"),
        ]
    };
    let server = start(&dir, &[], &[]);
    let r = request(
        server.addr,
        "OPTIONS",
        "/demo/book",
        &preflight("https://a.example"),
        b"",
    )
    .await;
    assert!(
        r.header("access-control-allow-origin").is_none(),
        "off by default"
    );
    let r = request(
        server.addr,
        "GET",
        "/demo/book?limit=1",
        &[("Origin", "https://a.example")],
        b"",
    )
    .await;
    assert_eq!(r.status, 200);
    assert!(r.header("access-control-allow-origin").is_none());
    drop(server);

    let server = start(
        &dir,
        &[
            "--cors-origins",
            "https://a.example,https://b.example",
            "--cors-credentials",
            "--cors-max-age-secs",
            "120",
        ],
        &[],
    );
    let r = request(
        server.addr,
        "OPTIONS",
        "/demo/book",
        &preflight("https://a.example"),
        b"",
    )
    .await;
    assert_eq!(r.status, 204, "{}", r.text());
    assert_eq!(
        r.header("access-control-allow-origin"),
        Some("https://a.example")
    );
    assert!(
        r.header("access-control-allow-methods")
            .is_some_and(|m| m.contains("POST") && m.contains("PATCH"))
    );
    assert!(
        r.header("access-control-allow-headers")
            .is_some_and(|h| h.contains("content-type") && h.contains("prefer"))
    );
    assert_eq!(r.header("access-control-max-age"), Some("120"));
    assert_eq!(r.header("access-control-allow-credentials"), Some("true"));
    assert_eq!(r.header("vary"), Some("origin"));

    // A simple request from the other allowed origin.
    let r = request(
        server.addr,
        "GET",
        "/demo/book?limit=1",
        &[("Origin", "https://b.example")],
        b"",
    )
    .await;
    assert_eq!(r.status, 200);
    assert_eq!(
        r.header("access-control-allow-origin"),
        Some("https://b.example")
    );
    assert!(
        r.header("access-control-expose-headers")
            .is_some_and(|h| h.contains("content-range"))
    );
    // Errors carry the headers too, so a browser can read them.
    let r = request(
        server.addr,
        "GET",
        "/demo/nope",
        &[("Origin", "https://b.example")],
        b"",
    )
    .await;
    assert_eq!(r.status, 404);
    assert_eq!(
        r.header("access-control-allow-origin"),
        Some("https://b.example")
    );

    // A disallowed origin: no Access-Control-* header at all.
    for method in ["GET", "OPTIONS"] {
        let headers: &[(&str, &str)] = if method == "GET" {
            &[("Origin", "https://evil.example")]
        } else {
            &preflight("https://evil.example")
        };
        let r = request(server.addr, method, "/demo/book?limit=1", headers, b"").await;
        assert!(
            r.headers
                .iter()
                .all(|(k, _)| !k.starts_with("access-control-")),
            "{method}: {:?}",
            r.headers
        );
    }
    drop(server);

    // `*`: any origin, no credentials.
    let server = start(&dir, &["--cors-origins", "*"], &[]);
    let r = request(
        server.addr,
        "GET",
        "/demo/book?limit=1",
        &[("Origin", "https://any.example")],
        b"",
    )
    .await;
    assert_eq!(r.header("access-control-allow-origin"), Some("*"));
    drop(server);
    let _ = std::fs::remove_dir_all(&dir);
}
