//! The README's quick start, as written: `baas` with no arguments serves the
//! embedded demo, prints its URL and three curl commands that work, stops
//! gracefully on SIGTERM, and keeps its data across restarts.

mod common;

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};

use common::{get, request};
use serde_json::json;

struct Server {
    child: Child,
    addr: SocketAddr,
    banner: Vec<String>,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start(data_dir: &std::path::Path) -> Server {
    let mut child = Command::new(env!("CARGO_BIN_EXE_baas"))
        .current_dir(data_dir)
        // Port 0: the OS picks a free port; the banner tells which.
        .env("BAAS_LISTEN", "127.0.0.1:0")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start baas");
    let mut out = BufReader::new(child.stdout.take().expect("stdout"));
    let mut banner = Vec::new();
    loop {
        let mut line = String::new();
        if out.read_line(&mut line).expect("read banner") == 0 {
            panic!("baas exited early; printed {banner:?}");
        }
        let done = line.starts_with("Stop with");
        banner.push(line.trim_end().to_string());
        if done {
            break;
        }
    }
    let url = banner[0]
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .expect("URL in the banner");
    let addr = url
        .trim_start_matches("http://")
        .split('/')
        .next()
        .and_then(|a| a.parse().ok())
        .expect("address");
    Server {
        child,
        addr,
        banner,
    }
}

/// The path and query of the n-th `curl '…'` line of the banner.
fn curl_target(banner: &[String], n: usize) -> String {
    let line = banner
        .iter()
        .filter(|l| l.trim_start().starts_with("curl"))
        .nth(n)
        .expect("curl line");
    let url = line.split('\'').nth(1).expect("quoted URL");
    let after_scheme = url.trim_start_matches("http://");
    after_scheme[after_scheme.find('/').expect("path")..].to_string()
}

fn sigterm(server: &mut Server) -> std::process::ExitStatus {
    let pid = server.child.id().to_string();
    let ok = Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .expect("kill");
    assert!(ok.success());
    server.child.wait().expect("wait")
}

#[tokio::test]
async fn quick_start_as_written() {
    let dir = std::env::temp_dir().join(format!("baas-quickstart-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();

    let mut server = start(&dir);
    assert_eq!(
        server
            .banner
            .iter()
            .filter(|l| l.trim_start().starts_with("curl"))
            .count(),
        3,
        "{:#?}",
        server.banner
    );
    let addr = server.addr;
    // 1: a filtered, ordered page with the author embedded.
    let r = get(addr, &curl_target(&server.banner, 0)).await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(
        r.json(),
        json!([
            {"title": "Parable of the Sower", "year": 1993, "author": {"name": "Octavia E. Butler"}},
            {"title": "Kindred", "year": 1979, "author": {"name": "Octavia E. Butler"}},
            {"title": "The Dispossessed", "year": 1974, "author": {"name": "Ursula K. Le Guin"}}
        ])
    );
    // The keys are printed; writes are for signed-in users.
    let anon = server
        .banner
        .iter()
        .find_map(|l| l.trim_start().strip_prefix("anon"))
        .map(str::trim)
        .expect("anon key in the banner")
        .to_string();
    let r = request(
        addr,
        "POST",
        "/demo/author",
        &[("Content-Type", "application/json"), ("apikey", &anon)],
        br#"{"name":"Ted Chiang","country":"US"}"#,
    )
    .await;
    assert_eq!(r.status, 403, "anon may not write: {}", r.text());
    // 2: sign up, as printed.
    let r = request(
        addr,
        "POST",
        &curl_target(&server.banner, 1),
        &[("Content-Type", "application/json")],
        br#"{"email":"me@example.com","password":"a long password"}"#,
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let token = format!(
        "Bearer {}",
        r.json()["access_token"].as_str().expect("token")
    );
    let r = request(
        addr,
        "POST",
        "/demo/author",
        &[
            ("Content-Type", "application/json"),
            ("Prefer", "return=representation"),
            ("apikey", &anon),
            ("Authorization", &token),
        ],
        br#"{"name":"Ted Chiang","country":"US"}"#,
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(
        r.json(),
        json!([{"id": 5, "name": "Ted Chiang", "country": "US"}])
    );
    // 3: the OpenAPI document.
    let r = get(addr, &curl_target(&server.banner, 2)).await;
    assert_eq!(r.status, 200);
    let doc = r.json();
    assert_eq!(doc["openapi"], "3.1.0");
    assert!(doc["paths"].get("/book").is_some(), "{doc}");
    // The reverse relation was added when `book` was created.
    let r = get(addr, "/demo/author?select=name,book(title)&id=eq.2").await;
    assert_eq!(
        r.json(),
        json!([{"name": "Stanisław Lem", "book": [{"title": "Solaris"}, {"title": "The Cyberiad"}]}])
    );

    // Graceful stop, then a restart keeps the data (no re-seeding).
    let status = sigterm(&mut server);
    assert!(status.success(), "exit status {status:?}");
    drop(server);
    let server = start(&dir);
    let r = get(
        server.addr,
        "/demo/author?select=name&order=id.desc&limit=1",
    )
    .await;
    assert_eq!(r.json(), json!([{"name": "Ted Chiang"}]));
    let r = get(server.addr, "/demo/author?select=id").await;
    assert_eq!(r.json().as_array().map(Vec::len), Some(5));
    drop(server);
    let _ = std::fs::remove_dir_all(&dir);
}
