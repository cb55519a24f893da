//! The lean baseline of the HTTP load benchmark (`benches/http/run.sh`): the
//! four benchmarked requests on axum + tokio-postgres, with **PostgreSQL
//! building the JSON** — PostgREST's strategy. Every request is one prepared
//! statement (prepared once per connection, when the connection opens) whose
//! single row carries the finished response body as text, plus the row count
//! for `Content-Range`; the server copies that text into the response and
//! decodes no row. Request bodies are not parsed in Rust either: the create
//! passes the body text to PostgreSQL, which reads it with
//! `json_populate_record`, as PostgREST does.
//!
//! It answers the same URLs as `baas serve --tenant bench` and `raw-server`
//! with **the same bytes**: `row_to_json` and `array_to_json(array_agg(…))`
//! write compact JSON with the keys in column order, `date` as `YYYY-MM-DD`
//! (JSON output always uses ISO dates), and `numeric` is selected as
//! `price::text`, so it is a string at the column's scale as in mini-baas.
//! (PostgREST itself aggregates with `json_agg`, which writes `", \n "`
//! between elements, and leaves `numeric` a JSON number; both would change
//! the bytes and not the work.)
//!
//! | request | the one statement |
//! | --- | --- |
//! | `GET /bench/book/{id}` | `SELECT row_to_json(t)::text FROM (SELECT … FROM book WHERE id = $1) t` |
//! | `GET /bench/book?author_id=eq.N&order=published.desc,id&limit=20` | `SELECT coalesce(array_to_json(array_agg(t)), '[]')::text, count(*) FROM (SELECT … WHERE author_id = $1 ORDER BY published DESC, id LIMIT 20) t` (the limit literal, as PostgREST writes it) |
//! | `GET /bench/book?select=id,title,author(name)&id=gt.N&order=id&limit=20` | the same aggregate over the page `LEFT JOIN LATERAL (SELECT name FROM author WHERE author.id = book.author_id)`, the author as `row_to_json` (PostgREST's to-one embed) |
//! | `POST /bench/book` (JSON object) | `WITH ins AS (INSERT … SELECT … FROM json_populate_record(null::book, $1::text::json) RETURNING …) SELECT …aggregate… FROM ins` → 201 `[row]` |
//!
//! Differences from the other two servers that the benchmark does not
//! exercise: a create ignores unknown keys and a missing key inserts `NULL`
//! (`json_populate_record`), where mini-baas and `raw-server` refuse unknown
//! keys; a body PostgreSQL cannot read is a 400 with PostgreSQL's message.
//!
//! The pool is a fixed set of connections (`--max-connections`, each with its
//! four prepared statements) behind a semaphore; a request holds one
//! connection for its one statement. A connection found closed is reopened
//! when it is next taken.
//!
//! Usage: `pg-json-server --db postgres://… [--listen 127.0.0.1:8092] [--max-connections 8]`.

use std::sync::{Arc, Mutex, PoisonError};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use axum::routing::get;
use tokio::sync::{Semaphore, SemaphorePermit};
use tokio_postgres::error::SqlState;
use tokio_postgres::{Client, NoTls, Statement};

#[path = "../../common.rs"]
mod common;
use common::{List, ListParams};

/// The columns of a `book` row as mini-baas answers them.
macro_rules! book_columns {
    () => {
        "id, title, author_id, published, price::text AS price, pages"
    };
}

/// The response body of an array answer, and its length.
macro_rules! array_of {
    ($from:expr) => {
        concat!(
            "SELECT coalesce(array_to_json(array_agg(t)), '[]')::text, count(*) FROM (",
            $from,
            ") t"
        )
    };
}

const BY_ID: &str = concat!(
    "SELECT row_to_json(t)::text FROM (SELECT ",
    book_columns!(),
    " FROM book WHERE id = $1) t"
);

const BY_AUTHOR: &str = array_of!(concat!(
    "SELECT ",
    book_columns!(),
    " FROM book WHERE author_id = $1 ORDER BY published DESC, id LIMIT $2"
));

const WITH_AUTHORS: &str = array_of!(
    "SELECT book.id, book.title, row_to_json(book_author) AS author FROM book \
     LEFT JOIN LATERAL (SELECT author.name FROM author WHERE author.id = book.author_id) \
     AS book_author ON true \
     WHERE book.id > $1 ORDER BY book.id LIMIT $2"
);

const CREATE: &str = concat!(
    "WITH t AS (INSERT INTO book (title, author_id, published, price, pages) \
     SELECT title, author_id, published, price, pages \
     FROM json_populate_record(null::book, $1::text::json) RETURNING ",
    book_columns!(),
    ") SELECT coalesce(array_to_json(array_agg(t)), '[]')::text, count(*) FROM t"
);

/// The page size the benchmark asks for (prepared once per connection).
const PAGE: i64 = 20;

/// `sql` with its `LIMIT $2` written as the number.
fn with_limit(sql: &str, limit: i64) -> String {
    sql.replace("LIMIT $2", &format!("LIMIT {limit}"))
}

/// One connection and its prepared statements.
struct Conn {
    client: Client,
    by_id: Statement,
    by_author: Statement,
    with_authors: Statement,
    create: Statement,
}

impl Conn {
    async fn open(url: &str) -> Result<Conn, tokio_postgres::Error> {
        let (client, connection) = tokio_postgres::connect(url, NoTls).await?;
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                eprintln!("connection closed: {e}");
            }
        });
        Ok(Conn {
            by_id: client.prepare(BY_ID).await?,
            by_author: client.prepare(&with_limit(BY_AUTHOR, PAGE)).await?,
            with_authors: client.prepare(&with_limit(WITH_AUTHORS, PAGE)).await?,
            create: client.prepare(CREATE).await?,
            client,
        })
    }
}

/// A fixed pool: `slots` holds as many entries as `permits` has permits, so
/// a request holding a permit always finds a slot. `None` is a connection to
/// (re)open.
struct Pool {
    url: String,
    slots: Mutex<Vec<Option<Conn>>>,
    permits: Semaphore,
}

/// A connection taken from the pool; it goes back when dropped, before the
/// permit is released.
struct Lease<'a> {
    pool: &'a Pool,
    conn: Option<Conn>,
    _permit: SemaphorePermit<'a>,
}

impl Drop for Lease<'_> {
    fn drop(&mut self) {
        let conn = self.conn.take();
        self.pool
            .slots
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(conn);
    }
}

impl std::ops::Deref for Lease<'_> {
    type Target = Conn;
    fn deref(&self) -> &Conn {
        self.conn
            .as_ref()
            .expect("a lease holds a connection until dropped")
    }
}

impl Pool {
    async fn new(url: String, size: u32) -> Result<Pool, tokio_postgres::Error> {
        let mut slots = Vec::with_capacity(size as usize);
        for _ in 0..size {
            slots.push(Some(Conn::open(&url).await?));
        }
        Ok(Pool {
            url,
            slots: Mutex::new(slots),
            permits: Semaphore::new(size as usize),
        })
    }

    async fn get(&self) -> Result<Lease<'_>, Response> {
        let permit = self
            .permits
            .acquire()
            .await
            .map_err(|e| common::internal(&e))?;
        let slot = self
            .slots
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop()
            .flatten();
        let mut lease = Lease {
            pool: self,
            conn: None,
            _permit: permit,
        };
        lease.conn = match slot {
            Some(c) if !c.client.is_closed() => Some(c),
            // On failure the lease goes back empty: the next request retries.
            _ => Some(Conn::open(&self.url).await.map_err(|e| db_error(&e))?),
        };
        Ok(lease)
    }
}

fn db_error(e: &tokio_postgres::Error) -> Response {
    let message = e.as_db_error().map_or("", |d| d.message());
    match e.code() {
        Some(c) if *c == SqlState::FOREIGN_KEY_VIOLATION || *c == SqlState::UNIQUE_VIOLATION => {
            common::conflict(message)
        }
        Some(c)
            if c.code().starts_with("22")
                || *c == SqlState::NOT_NULL_VIOLATION
                || *c == SqlState::CHECK_VIOLATION =>
        {
            common::bad_request(&format!("the body is not a book: {message}"))
        }
        _ => common::internal(e),
    }
}

/// The body text and the row count of an array statement's one row.
fn array(row: &tokio_postgres::Row) -> Result<(String, usize), tokio_postgres::Error> {
    let body: String = row.try_get(0)?;
    let n: i64 = row.try_get(1)?;
    Ok((body, usize::try_from(n).unwrap_or(0)))
}

async fn get_book(State(pool): State<Arc<Pool>>, Path(id): Path<String>) -> Response {
    let id = match common::book_id(&id) {
        Ok(id) => id,
        Err(resp) => return *resp,
    };
    let conn = match pool.get().await {
        Ok(c) => c,
        Err(resp) => return resp,
    };
    match conn.client.query_opt(&conn.by_id, &[&id]).await {
        Ok(Some(row)) => match row.try_get::<_, String>(0) {
            Ok(body) => common::object(body),
            Err(e) => db_error(&e),
        },
        Ok(None) => common::not_found(),
        Err(e) => db_error(&e),
    }
}

async fn list_books(State(pool): State<Arc<Pool>>, Query(p): Query<ListParams>) -> Response {
    let route = match p.route() {
        Ok(r) => r,
        Err(resp) => return *resp,
    };
    let conn = match pool.get().await {
        Ok(c) => c,
        Err(resp) => return resp,
    };
    // The limit is literal in the SQL (as PostgREST writes it): with a
    // parameter PostgreSQL re-plans the joined page on every execution.
    // The benchmark's page size is prepared; another one is sent as text.
    let row = match route {
        List::ByAuthor { author, limit } if limit == PAGE => {
            conn.client.query_one(&conn.by_author, &[&author]).await
        }
        List::ByAuthor { author, limit } => {
            conn.client
                .query_one(with_limit(BY_AUTHOR, limit).as_str(), &[&author])
                .await
        }
        List::WithAuthors { after, limit } if limit == PAGE => {
            conn.client.query_one(&conn.with_authors, &[&after]).await
        }
        List::WithAuthors { after, limit } => {
            conn.client
                .query_one(with_limit(WITH_AUTHORS, limit).as_str(), &[&after])
                .await
        }
    };
    match row.and_then(|r| array(&r)) {
        Ok((body, n)) => common::page(n, body),
        Err(e) => db_error(&e),
    }
}

async fn create_book(State(pool): State<Arc<Pool>>, body: Bytes) -> Response {
    let Ok(body) = std::str::from_utf8(&body) else {
        return common::bad_request("the body is not UTF-8");
    };
    let conn = match pool.get().await {
        Ok(c) => c,
        Err(resp) => return resp,
    };
    match conn
        .client
        .query_one(&conn.create, &[&body])
        .await
        .and_then(|r| array(&r))
    {
        Ok((body, n)) => common::created(n, body),
        Err(e) => db_error(&e),
    }
}

/// The same allocator as `baas`, so the comparison measures code, not malloc.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> Result<(), String> {
    let a = common::args(8092)?;
    let pool = Pool::new(a.db, a.max_connections.max(1))
        .await
        .map_err(|e| format!("cannot connect: {e}"))?;
    let app = Router::new()
        .route("/bench/book", get(list_books).post(create_book))
        .route("/bench/book/{id}", get(get_book))
        .with_state(Arc::new(pool));
    common::serve("pg-json-server", a.listen, app).await
}
