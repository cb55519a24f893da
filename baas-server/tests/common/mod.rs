//! A minimal HTTP/1.1 client over a real TCP socket (one request per
//! connection), so the end-to-end tests need no HTTP client dependency.

#![allow(dead_code)]

use std::net::SocketAddr;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// A response as received.
#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Resp {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "status {}: body is not JSON ({e}): {}",
                self.status,
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Send one request; `target` is path + query, already percent-encoded.
pub async fn request(
    addr: SocketAddr,
    method: &str,
    target: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Resp {
    let mut s = TcpStream::connect(addr).await.expect("connect");
    let mut head = format!(
        "{method} {target} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    s.write_all(head.as_bytes()).await.expect("write head");
    s.write_all(body).await.expect("write body");
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).await.expect("read");
    parse(&raw)
}

/// A JSON request to the admin API with the admin key `key`.
#[allow(dead_code)]
pub async fn admin_json(
    addr: SocketAddr,
    key: &str,
    method: &str,
    path: &str,
    body: &serde_json::Value,
) -> Resp {
    let auth = format!("Bearer {key}");
    request(
        addr,
        method,
        path,
        &[
            ("authorization", auth.as_str()),
            ("content-type", "application/json"),
        ],
        body.to_string().as_bytes(),
    )
    .await
}

pub async fn get(addr: SocketAddr, target: &str) -> Resp {
    request(addr, "GET", target, &[], b"").await
}

fn parse(raw: &[u8]) -> Resp {
    let end = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("end of headers");
    let head = String::from_utf8_lossy(&raw[..end]);
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|s| s.parse().ok())
        .expect("status line");
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let mut body = raw[end + 4..].to_vec();
    if headers
        .iter()
        .any(|(k, v)| k == "transfer-encoding" && v.eq_ignore_ascii_case("chunked"))
    {
        body = dechunk(&body);
    }
    Resp {
        status,
        headers,
        body,
    }
}

fn dechunk(mut b: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let Some(nl) = b.windows(2).position(|w| w == b"\r\n") else {
            return out;
        };
        let size = usize::from_str_radix(String::from_utf8_lossy(&b[..nl]).trim(), 16).unwrap_or(0);
        if size == 0 {
            return out;
        }
        out.extend_from_slice(&b[nl + 2..nl + 2 + size]);
        b = &b[nl + 2 + size + 2..];
    }
}

/// Serve `router` on an ephemeral loopback port; returns its address.
pub async fn spawn(router: axum::Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(listener, router).await.unwrap();
    });
    addr
}

/// PostgreSQL Chinook (`BAAS_TEST_PG_URL`).
pub fn pg_url() -> String {
    std::env::var("BAAS_TEST_PG_URL")
        .unwrap_or_else(|_| "postgres://baas:baas_pw@127.0.0.1:5432/chinook".into())
}

/// MariaDB Chinook (`BAAS_TEST_MYSQL_URL`).
pub fn my_url() -> String {
    std::env::var("BAAS_TEST_MYSQL_URL")
        .unwrap_or_else(|_| "mysql://baas:baas_pw@127.0.0.1:3306/Chinook".into())
}

/// MongoDB Chinook (`BAAS_TEST_MONGO_URL`).
pub fn mongo_url() -> String {
    std::env::var("BAAS_TEST_MONGO_URL")
        .unwrap_or_else(|_| "mongodb://127.0.0.1:27017/chinook?directConnection=true".into())
}

/// A fresh SQLite file at `path` loaded with Chinook; its URL.
pub async fn sqlite_chinook_at(path: &std::path::Path) -> String {
    let _ = std::fs::remove_file(path);
    let url = format!("sqlite://{}", path.display());
    let script = baas_testkit::fixtures_dir().join("chinook/Chinook_Sqlite.sql");
    let sql = std::fs::read_to_string(&script).expect("read the SQLite Chinook script");
    let db = mini_baas::sqlite::connect(mini_baas::sqlite::SqliteConfig::new(&url))
        .await
        .expect("sqlite");
    db.backend()
        .execute_script(&sql)
        .await
        .expect("load Chinook");
    db.backend().pool().close().await;
    url
}

/// A tenant's API keys as `baas keys TENANT` prints them, run in `dir` (the
/// server's working directory, so the same `./baas-data/secret.key`) with
/// `args` (e.g. `--data-dir …`): `(anon, service_role)`.
#[allow(dead_code)]
pub fn keys(dir: &std::path::Path, tenant: &str, args: &[&str]) -> (String, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_baas"))
        .current_dir(dir)
        .arg("keys")
        .arg(tenant)
        .args(args)
        .env_remove("BAAS_SECRET_KEY")
        .output()
        .expect("run baas keys");
    assert!(
        out.status.success(),
        "baas keys: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("keys JSON");
    (
        v["anon"].as_str().expect("anon").to_string(),
        v["service_role"]
            .as_str()
            .expect("service_role")
            .to_string(),
    )
}
