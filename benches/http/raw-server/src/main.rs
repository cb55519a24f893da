//! The baseline of the HTTP load benchmark (`benches/http/run.sh`): the four
//! benchmarked requests written by hand on axum + sqlx, as an application
//! that knows its schema at compile time would — fixed SQL with bound
//! parameters, typed rows, serde structs serialised with serde_json.
//!
//! It answers the same URLs as `baas serve --tenant bench` with the same JSON
//! bodies (byte for byte for a row: same keys in the same order, `numeric` as
//! a string at the column's scale, `date` as `YYYY-MM-DD`), the same status
//! codes and the same `Content-Type` / `Content-Range` headers:
//!
//! | request | SQL |
//! | --- | --- |
//! | `GET /bench/book/{id}` | `SELECT … FROM book WHERE id = $1` |
//! | `GET /bench/book?author_id=eq.N&order=published.desc,id&limit=20` | `SELECT … WHERE author_id = $1 ORDER BY published DESC, id LIMIT 20` (limit literal) |
//! | `GET /bench/book?select=id,title,author(name)&id=gt.N&order=id&limit=20` | the page, then `SELECT id, name FROM author WHERE id = ANY($1) ORDER BY id` (one batched query, like mini-baas's embedding) |
//! | `POST /bench/book` (JSON object) | `INSERT … RETURNING …` → 201 `[row]` |
//!
//! Usage: `raw-server --db postgres://… [--listen 127.0.0.1:8091] [--max-connections 8]`.

use std::collections::HashMap;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use axum::routing::get;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use sqlx::Row as _;
use sqlx::postgres::{PgPool, PgPoolOptions, PgRow};

#[path = "../../common.rs"]
mod common;
use common::{List, ListParams, bad_request};

/// A `book` row, in column order.
#[derive(Serialize)]
struct Book {
    id: i32,
    title: String,
    author_id: i32,
    published: Option<NaiveDate>,
    price: Option<String>,
    pages: Option<i32>,
}

fn book(r: &PgRow) -> Result<Book, sqlx::Error> {
    Ok(Book {
        id: r.try_get(0)?,
        title: r.try_get(1)?,
        author_id: r.try_get(2)?,
        published: r.try_get(3)?,
        price: r.try_get(4)?,
        pages: r.try_get(5)?,
    })
}

/// `select=id,title,author(name)`.
#[derive(Serialize)]
struct BookWithAuthor {
    id: i32,
    title: String,
    author: Option<AuthorName>,
}

#[derive(Serialize, Clone)]
struct AuthorName {
    name: String,
}

/// The body of `POST /bench/book`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewBook {
    title: String,
    author_id: i32,
    #[serde(default)]
    published: Option<NaiveDate>,
    #[serde(default)]
    price: Option<String>,
    #[serde(default)]
    pages: Option<i32>,
}

fn db_error(e: sqlx::Error) -> Response {
    if let sqlx::Error::Database(d) = &e
        && d.is_foreign_key_violation()
    {
        return common::conflict(d.message());
    }
    common::internal(&e)
}

fn json<T: Serialize>(v: &T) -> Vec<u8> {
    serde_json::to_vec(v).unwrap_or_default()
}

async fn get_book(State(pool): State<PgPool>, Path(id): Path<String>) -> Response {
    let id = match common::book_id(&id) {
        Ok(id) => id,
        Err(resp) => return *resp,
    };
    let row = sqlx::query(
        "SELECT id, title, author_id, published, price::text, pages FROM book WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(&pool)
    .await;
    match row {
        Ok(Some(r)) => match book(&r) {
            Ok(b) => common::object(json(&b)),
            Err(e) => db_error(e),
        },
        Ok(None) => common::not_found(),
        Err(e) => db_error(e),
    }
}

async fn list_books(State(pool): State<PgPool>, Query(p): Query<ListParams>) -> Response {
    match p.route() {
        Ok(List::ByAuthor { author, limit }) => books_by_author(&pool, author, limit).await,
        Ok(List::WithAuthors { after, limit }) => books_with_authors(&pool, after, limit).await,
        Err(resp) => *resp,
    }
}

async fn books_by_author(pool: &PgPool, author: i32, limit: i64) -> Response {
    // The limit literal, as baas and PostgREST write it (a parameter makes
    // PostgreSQL re-plan on every execution); sqlx prepares each text once.
    let sql = format!(
        "SELECT id, title, author_id, published, price::text, pages FROM book \
         WHERE author_id = $1 ORDER BY published DESC, id LIMIT {limit}"
    );
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(author)
        .fetch_all(pool)
        .await;
    let books: Result<Vec<Book>, _> = match rows {
        Ok(rows) => rows.iter().map(book).collect(),
        Err(e) => return db_error(e),
    };
    match books {
        Ok(b) => common::page(b.len(), json(&b)),
        Err(e) => db_error(e),
    }
}

async fn books_with_authors(pool: &PgPool, after: i32, limit: i64) -> Response {
    let sql =
        format!("SELECT id, title, author_id FROM book WHERE id > $1 ORDER BY id LIMIT {limit}");
    let page = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(after)
        .fetch_all(pool)
        .await;
    let page: Result<Vec<(i32, String, i32)>, sqlx::Error> = page.and_then(|rows| {
        rows.iter()
            .map(|r| Ok((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?)))
            .collect()
    });
    let page = match page {
        Ok(p) => p,
        Err(e) => return db_error(e),
    };
    let mut ids: Vec<i32> = page.iter().map(|(_, _, a)| *a).collect();
    ids.sort_unstable();
    ids.dedup();
    let mut authors: HashMap<i32, AuthorName> = HashMap::with_capacity(ids.len());
    if !ids.is_empty() {
        let rows = sqlx::query("SELECT id, name FROM author WHERE id = ANY($1) ORDER BY id")
            .bind(&ids)
            .fetch_all(pool)
            .await;
        match rows {
            Ok(rows) => {
                for r in &rows {
                    match (r.try_get::<i32, _>(0), r.try_get::<String, _>(1)) {
                        (Ok(id), Ok(name)) => {
                            authors.insert(id, AuthorName { name });
                        }
                        (Err(e), _) | (_, Err(e)) => return db_error(e),
                    }
                }
            }
            Err(e) => return db_error(e),
        }
    }
    let out: Vec<BookWithAuthor> = page
        .into_iter()
        .map(|(id, title, a)| BookWithAuthor {
            id,
            title,
            author: authors.get(&a).cloned(),
        })
        .collect();
    common::page(out.len(), json(&out))
}

async fn create_book(State(pool): State<PgPool>, body: Bytes) -> Response {
    let new: NewBook = match serde_json::from_slice(&body) {
        Ok(b) => b,
        Err(e) => return bad_request(&format!("the body is not a book: {e}")),
    };
    let row = sqlx::query(
        "INSERT INTO book (title, author_id, published, price, pages) \
         VALUES ($1, $2, $3, $4::numeric, $5) \
         RETURNING id, title, author_id, published, price::text, pages",
    )
    .bind(new.title)
    .bind(new.author_id)
    .bind(new.published)
    .bind(new.price)
    .bind(new.pages)
    .fetch_one(&pool)
    .await;
    match row.and_then(|r| book(&r)) {
        Ok(b) => common::created(1, json(&[b])),
        Err(e) => db_error(e),
    }
}

/// The same allocator as `baas`, so the comparison measures code, not malloc.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> Result<(), String> {
    let a = common::args(8091)?;
    let pool = PgPoolOptions::new()
        .max_connections(a.max_connections)
        .connect(&a.db)
        .await
        .map_err(|e| format!("cannot connect: {e}"))?;
    let app = Router::new()
        .route("/bench/book", get(list_books).post(create_book))
        .route("/bench/book/{id}", get(get_book))
        .with_state(pool);
    common::serve("raw-server", a.listen, app).await
}
