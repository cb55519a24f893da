//! What the two hand-written baselines of the HTTP load benchmark
//! (`raw-server`: axum + sqlx; `pg-json-server`: axum + tokio-postgres with
//! the JSON built by PostgreSQL) share: the command line, the routing of the
//! benchmarked list requests, and the response framing that makes their
//! answers byte-identical to `baas serve --tenant bench` (status codes,
//! `Content-Type`, `Content-Range`, error bodies).
//!
//! Each baseline includes this file with `#[path = "../../common.rs"] mod
//! common;`: they are separate binaries with no library crate between them,
//! and only their database access differs.

use std::net::SocketAddr;

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use serde::Deserialize;

/// `Content-Type` of an array answer.
pub const JSON: &str = "application/json; charset=utf-8";
/// `Content-Type` of a single-object answer (`GET /bench/book/{id}`).
pub const OBJECT: &str = "application/vnd.pgrst.object+json";

/// A response with a body, a `Content-Type` and, if given, a `Content-Range`.
pub fn respond(
    status: StatusCode,
    ctype: &'static str,
    range: Option<String>,
    body: impl Into<Body>,
) -> Response {
    let mut resp = Response::new(body.into());
    *resp.status_mut() = status;
    let h = resp.headers_mut();
    if let Some(r) = range
        && let Ok(v) = HeaderValue::from_str(&r)
    {
        h.insert(header::CONTENT_RANGE, v);
    }
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(ctype));
    resp
}

/// An error in mini-baas's shape: `{"code", "message", "details", "hint"}`.
pub fn error(status: StatusCode, code: &str, message: &str) -> Response {
    let body = serde_json::json!({"code": code, "message": message, "details": null, "hint": null});
    respond(status, JSON, None, body.to_string())
}

/// 400 with a message.
pub fn bad_request(message: &str) -> Response {
    error(StatusCode::BAD_REQUEST, "bad_request", message)
}

/// 404 for a `book` key that matches no row (with `Content-Range: */*`, as
/// mini-baas answers an empty object read).
pub fn not_found() -> Response {
    let mut resp = error(
        StatusCode::NOT_FOUND,
        "not_found",
        "no `book` row has this key",
    );
    resp.headers_mut()
        .insert(header::CONTENT_RANGE, HeaderValue::from_static("*/*"));
    resp
}

/// 409 for a constraint the database refused (e.g. an unknown `author_id`).
pub fn conflict(message: &str) -> Response {
    error(StatusCode::CONFLICT, "conflict", message)
}

/// 500 with a generic body; the real error goes to standard error.
pub fn internal(e: &dyn std::fmt::Display) -> Response {
    eprintln!("database error: {e}");
    error(
        StatusCode::INTERNAL_SERVER_ERROR,
        "internal",
        "the database request failed",
    )
}

/// `Content-Range` of a page of `n` rows from offset 0, total not counted.
pub fn content_range(n: usize) -> String {
    if n == 0 {
        "*/*".to_string()
    } else {
        format!("0-{}/*", n - 1)
    }
}

/// 200 with one `book` object (`GET /bench/book/{id}`).
pub fn object(body: impl Into<Body>) -> Response {
    respond(StatusCode::OK, OBJECT, Some(content_range(1)), body)
}

/// 200 with a JSON array of `n` rows.
pub fn page(n: usize, body: impl Into<Body>) -> Response {
    respond(StatusCode::OK, JSON, Some(content_range(n)), body)
}

/// 201 with the created rows (`Prefer: return=representation`).
pub fn created(n: usize, body: impl Into<Body>) -> Response {
    let mut resp = respond(StatusCode::CREATED, JSON, Some(content_range(n)), body);
    resp.headers_mut().insert(
        "preference-applied",
        HeaderValue::from_static("return=representation"),
    );
    resp
}

/// The key of `GET /bench/book/{id}`, or the 400 to answer.
pub fn book_id(id: &str) -> Result<i32, Box<Response>> {
    id.parse()
        .map_err(|_| Box::new(bad_request("the key is not an integer")))
}

/// The query parameters the two list routes understand.
#[derive(Deserialize)]
pub struct ListParams {
    select: Option<String>,
    author_id: Option<String>,
    id: Option<String>,
    order: Option<String>,
    limit: Option<i64>,
}

/// The two benchmarked list requests; anything else is refused with 400.
pub enum List {
    /// `?author_id=eq.N&order=published.desc,id&limit=L`.
    ByAuthor {
        /// `N`.
        author: i32,
        /// `L`, at most 1,000.
        limit: i64,
    },
    /// `?select=id,title,author(name)&id=gt.N&order=id&limit=L`.
    WithAuthors {
        /// `N`.
        after: i32,
        /// `L`, at most 1,000.
        limit: i64,
    },
}

fn operand<T: std::str::FromStr>(v: &str, op: &str) -> Option<T> {
    v.strip_prefix(op)?.strip_prefix('.')?.parse().ok()
}

impl ListParams {
    /// Which benchmarked request this is, or the 400 to answer.
    pub fn route(&self) -> Result<List, Box<Response>> {
        let limit = self.limit.unwrap_or(1000).clamp(0, 1000);
        match (
            &self.select,
            &self.author_id,
            &self.id,
            self.order.as_deref(),
        ) {
            (None, Some(a), None, Some("published.desc,id")) => {
                let author = operand(a, "eq")
                    .ok_or_else(|| Box::new(bad_request("author_id must be eq.<integer>")))?;
                Ok(List::ByAuthor { author, limit })
            }
            (Some(s), None, Some(after), Some("id")) if s == "id,title,author(name)" => {
                let after = operand(after, "gt")
                    .ok_or_else(|| Box::new(bad_request("id must be gt.<integer>")))?;
                Ok(List::WithAuthors { after, limit })
            }
            _ => Err(Box::new(bad_request(
                "this baseline serves only the benchmarked queries",
            ))),
        }
    }
}

/// The command line: `--db postgres://… [--listen ADDR] [--max-connections N]`.
pub struct Args {
    /// The database URL.
    pub db: String,
    /// Where to listen.
    pub listen: SocketAddr,
    /// The size of the connection pool.
    pub max_connections: u32,
}

/// Reads the command line; `port` is the default listening port.
pub fn args(port: u16) -> Result<Args, String> {
    let mut db = None;
    let mut listen = SocketAddr::from(([127, 0, 0, 1], port));
    let mut max_connections = 8;
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        let mut value = || it.next().ok_or_else(|| format!("{a} needs a value"));
        match a.as_str() {
            "--db" => db = Some(value()?),
            "--listen" => listen = value()?.parse().map_err(|e| format!("--listen: {e}"))?,
            "--max-connections" => {
                max_connections = value()?
                    .parse()
                    .map_err(|e| format!("--max-connections: {e}"))?;
            }
            other => return Err(format!("unknown argument `{other}`")),
        }
    }
    Ok(Args {
        db: db.ok_or("--db postgres://… is required")?,
        listen,
        max_connections,
    })
}

/// Serves `app` on `listen` until the process is killed.
pub async fn serve(name: &str, listen: SocketAddr, app: Router) -> Result<(), String> {
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .map_err(|e| format!("cannot listen on {listen}: {e}"))?;
    println!("{name} listening on http://{listen}");
    axum::serve(listener, app).await.map_err(|e| e.to_string())
}
