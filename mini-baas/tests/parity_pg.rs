//! PostgREST parity on engine-specific ground (issue 13), over HTTP, on a
//! database introspected live (the `baas_parity` fixtures,
//! `.ci/sql/parity_pg.sql`, and `.ci/sql/parity_mysql.sql` for MariaDB's
//! stored functions): function calls `/{tenant}/rpc/{function}`
//! (item 9) with rules on functions, and the 501 of the engines without
//! functions; columns of types without a mapping (ranges, `tsvector`),
//! read, compared and written through their text form (item 10).

use std::sync::Arc;

use baas_testkit::skip_or_fail;
use mini_baas::engine::{Baas, MemoryStore, Principal, TenantConfig, TenantMode};
use mini_baas::rest::{RestRequest, RestResponse, Service};
use mini_baas::{SchemaMetadata, UrlConnector};
use serde_json::{Value as J, json};

const PG: &str = "postgres://baas:baas_pw@127.0.0.1:5432/baas_parity";

fn pg_url() -> String {
    std::env::var("BAAS_TEST_PARITY_PG_URL").unwrap_or_else(|_| PG.into())
}

async fn baas_with(
    id: &str,
    url: &str,
    schema: Option<SchemaMetadata>,
) -> Result<Arc<Baas>, String> {
    let baas =
        Arc::new(Baas::builder(Arc::new(MemoryStore::new()), Arc::new(UrlConnector)).build());
    baas.register_tenant(TenantConfig::new(id, url, TenantMode::Introspected), schema)
        .await
        .map_err(|e| e.to_string())?;
    Ok(baas)
}

async fn service() -> Option<Service> {
    match baas_with("p", &pg_url(), None).await {
        Ok(b) => Some(Service::new(b)),
        Err(e) => {
            skip_or_fail("BAAS_TEST_PARITY_PG_URL", &e);
            None
        }
    }
}

async fn call(
    s: &Service,
    method: &str,
    path: &str,
    query: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> RestResponse {
    let mut req = RestRequest::new(method, format!("/p{path}"), query);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    if !body.is_empty() {
        req = req
            .header("Content-Type", "application/json")
            .body(body.to_string());
    }
    s.handle(req).await
}

/// Call and check the status (the message and the body are shown when it
/// differs); the response, for more checks.
async fn status_is(
    s: &Service,
    method: &str,
    path: &str,
    query: &str,
    body: &str,
    want: u16,
    what: &str,
) -> RestResponse {
    let r = call(s, method, path, query, &[], body).await;
    assert_eq!(
        r.status,
        want,
        "{method} {path}?{query}: {}",
        what.replace("{}", &r.text())
    );
    r
}

/// The titles of the books `filter` selects, in id order.
async fn book_titles(s: &Service, filter: &str) -> Vec<String> {
    ok(
        s,
        "GET",
        "/book",
        &format!("select=title&{filter}&order=id"),
        "",
    )
    .await
    .as_array()
    .map(|a| {
        a.iter()
            .filter_map(|r| r["title"].as_str().map(str::to_string))
            .collect()
    })
    .unwrap_or_default()
}

/// Entity `name` of a discovery document.
fn discovered(doc: &J, name: &str) -> J {
    doc["entities"]
        .as_array()
        .and_then(|a| a.iter().find(|e| e["name"] == name))
        .cloned()
        .unwrap_or_else(|| panic!("{name} not in discovery"))
}

/// A JSON number written with exactly these digits.
fn num(text: &str) -> J {
    serde_json::from_str(text).expect("a number")
}

async fn ok(s: &Service, method: &str, path: &str, query: &str, body: &str) -> J {
    let r = call(s, method, path, query, &[], body).await;
    assert_eq!(r.status, 200, "{method} {path}?{query}: {}", r.text());
    r.json()
}

/// Functions are introspected with their parameters, result and
/// volatility (overloads too, those with the same parameter names
/// included: `overloaded_functions`); those taking a table row are
/// computed fields (`computed_fields`).
#[tokio::test]
async fn functions_are_introspected() {
    let Some(s) = service().await else { return };
    let doc = ok(&s, "GET", "/discovery", "", "").await;
    let text = doc.to_string();
    for f in [
        "add_them",
        "greet",
        "series",
        "books_longer_than",
        "first_book",
        "author_stats",
        "bump",
        "reset_counter",
        "echo_json",
    ] {
        assert!(
            text.contains(&format!("\"{f}\"")),
            "discovery lists {f}: {text}"
        );
    }
    assert!(
        text.contains("\"twice\""),
        "overloads with the same parameter names are listed: {text}"
    );
    // A function of a row is a computed field of its table, not `/rpc`.
    status_is(&s, "GET", "/rpc/full_label", "", "", 404, "{}").await;
    let openapi = ok(&s, "GET", "/openapi.json", "", "").await;
    let paths = openapi["paths"].as_object().expect("paths");
    assert!(
        paths.contains_key("/rpc/add_them"),
        "{:?}",
        paths.keys().collect::<Vec<_>>()
    );
    assert!(
        paths["/rpc/add_them"].get("get").is_some(),
        "immutable: GET"
    );
    assert!(
        paths["/rpc/bump"].get("get").is_none(),
        "volatile: POST only"
    );
    assert!(paths["/rpc/bump"].get("post").is_some());
}

/// Scalars, sets, rows, one row, void; arguments in the query string and
/// in the body; defaults.
#[tokio::test]
async fn results_of_every_shape() {
    let Some(s) = service().await else { return };
    assert_eq!(
        ok(&s, "GET", "/rpc/add_them", "a=1&b=2", "").await,
        json!(3)
    );
    assert_eq!(
        ok(&s, "GET", "/rpc/add_them", "a=1", "").await,
        json!(11),
        "default b"
    );
    assert_eq!(
        ok(&s, "POST", "/rpc/add_them", "", r#"{"a": 5, "b": 6}"#).await,
        json!(11)
    );
    assert_eq!(
        ok(&s, "GET", "/rpc/greet", "name=Ada+L", "").await,
        json!("hello Ada L")
    );
    assert_eq!(
        ok(&s, "GET", "/rpc/series", "n=4", "").await,
        json!([1, 2, 3, 4])
    );
    // Through the PostgREST prefix, as supabase-js calls it.
    assert_eq!(
        ok(&s, "GET", "/rest/v1/rpc/series", "n=2", "").await,
        json!([1, 2])
    );
    let books = ok(
        &s,
        "GET",
        "/rpc/books_longer_than",
        "min_pages=100&select=title,pages&order=pages.desc",
        "",
    )
    .await;
    assert_eq!(
        books,
        json!([{"title": "Compilers", "pages": 300}, {"title": "Structured", "pages": 220}, {"title": "Notes", "pages": 120}])
    );
    assert_eq!(
        ok(&s, "GET", "/rpc/first_book", "select=id,title", "").await,
        json!({"id": 1, "title": "Notes"}),
        "one row, not SETOF: an object"
    );
    assert_eq!(
        ok(&s, "GET", "/rpc/author_stats", "order=author_id", "").await,
        json!([
            {"author_id": 1, "books": 1, "pages": 120},
            {"author_id": 2, "books": 1, "pages": 300},
            {"author_id": 3, "books": 2, "pages": 310}
        ])
    );
    let r = call(
        &s,
        "POST",
        "/rpc/reset_counter",
        "",
        &[],
        r#"{"counter_name": "hits"}"#,
    )
    .await;
    assert_eq!(r.status, 204, "void: {}", r.text());
    assert!(r.text().is_empty());
    assert_eq!(
        ok(&s, "POST", "/rpc/bump", "", r#"{"counter_name": "hits"}"#).await,
        json!(1)
    );
    assert_eq!(
        ok(
            &s,
            "POST",
            "/rpc/bump",
            "",
            r#"{"counter_name": "hits", "step": 5}"#
        )
        .await,
        json!(6)
    );
    // params=single-object: the body is the one argument.
    let r = call(
        &s,
        "POST",
        "/rpc/echo_json",
        "",
        &[("Prefer", "params=single-object")],
        r#"{"x": [1, {"y": null}]}"#,
    )
    .await;
    assert_eq!(
        (r.status, r.json()),
        (200, json!({"x": [1, {"y": null}]})),
        "{}",
        r.text()
    );
    // HEAD: the status and headers of GET, no body.
    let r = call(&s, "HEAD", "/rpc/series", "n=3", &[], "").await;
    assert_eq!(r.status, 200);
    assert!(r.text().is_empty());
}

/// Filters, order, limit, offset, select, embeds and counts apply to a set
/// result as to an entity.
#[tokio::test]
async fn set_results_read_like_rows() {
    let Some(s) = service().await else { return };
    assert_eq!(
        ok(
            &s,
            "GET",
            "/rpc/books_longer_than",
            "min_pages=0&select=title,author(name)&author_id=eq.3&order=title",
            ""
        )
        .await,
        json!([
            {"title": "Shortest", "author": {"name": "Edsger"}},
            {"title": "Structured", "author": {"name": "Edsger"}}
        ])
    );
    assert_eq!(
        ok(
            &s,
            "GET",
            "/rpc/books_longer_than",
            "min_pages=0&select=id&order=id&limit=2&offset=1",
            ""
        )
        .await,
        json!([{"id": 2}, {"id": 3}])
    );
    let r = call(
        &s,
        "GET",
        "/rpc/books_longer_than",
        "min_pages=0&select=id&limit=1&order=id",
        &[("Prefer", "count=exact")],
        "",
    )
    .await;
    assert_eq!(r.status, 206, "{}", r.text());
    assert_eq!(r.header("content-range"), Some("0-0/4"));
    // Aggregates of the rows, as PostgREST answers them (its
    // AggregateFunctionsSpec: "aggregates on RPC functions that return
    // table values"): grouped by the other listed fields, after the
    // filters, beside spreads and embeddings of to-one relations.
    for (query, want) in [
        ("min_pages=0&select=pages.max()", json!([{"max": 300}])),
        (
            "min_pages=0&pages=gt.100&select=n:count(),price.sum()::text",
            json!([{"n": 3, "sum": "87.60"}]),
        ),
        (
            "min_pages=0&select=author_id,count(),pages.sum()&order=author_id.desc",
            json!([
                {"author_id": 3, "count": 2, "sum": 310},
                {"author_id": 2, "count": 1, "sum": 300},
                {"author_id": 1, "count": 1, "sum": 120}
            ]),
        ),
        (
            "min_pages=0&select=...author(name),pages.min()&order=author(name)",
            json!([
                {"name": "Ada", "min": 120},
                {"name": "Edsger", "min": 90},
                {"name": "Grace", "min": 300}
            ]),
        ),
        (
            "min_pages=100&select=count(),author(mentor:mentor_id)&order=author(mentor)",
            json!([
                {"count": 1, "author": {"mentor": 1}},
                {"count": 1, "author": {"mentor": 2}},
                {"count": 1, "author": {"mentor": null}}
            ]),
        ),
        (
            "min_pages=0&author_id=eq.3&select=count(),author(*)",
            json!([{"count": 2, "author": {"id": 3, "name": "Edsger", "mentor_id": 2, "born": "1930-05-11"}}]),
        ),
    ] {
        let r = call(&s, "GET", "/rpc/books_longer_than", query, &[], "").await;
        assert_eq!((r.status, r.json()), (200, want), "{query}: {}", r.text());
    }
    // POST takes the arguments in the body, the aggregate in the query;
    // a function of one row (not SETOF) answers one object.
    assert_eq!(
        ok(
            &s,
            "POST",
            "/rpc/books_longer_than",
            "select=title.count()",
            r#"{"min_pages": 200}"#
        )
        .await,
        json!([{"count": 2}])
    );
    assert_eq!(
        ok(&s, "GET", "/rpc/first_book", "select=pages.sum()", "").await,
        json!({"sum": 120})
    );
    assert_eq!(
        ok(
            &s,
            "GET",
            "/rpc/author_stats",
            "select=books.sum(),pages.max()",
            ""
        )
        .await,
        json!([{"sum": 4, "max": 310}]),
        "a function returning TABLE (...)"
    );
    // HEAD: the status of GET, no body.
    let r = call(
        &s,
        "HEAD",
        "/rpc/books_longer_than",
        "min_pages=0&select=count()",
        &[],
        "",
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(r.text().is_empty());
    // What is no row cannot be aggregated: a 501 naming the function.
    let r = call(&s, "GET", "/rpc/series", "n=3&select=series.sum()", &[], "").await;
    assert_eq!(r.status, 501, "{}", r.text());
    assert!(r.text().contains("series"), "{}", r.text());
    assert_eq!(
        ok(
            &s,
            "POST",
            "/rpc/books_longer_than",
            "select=title&pages=lt.150&order=id",
            r#"{"min_pages": 50}"#
        )
        .await,
        json!([{"title": "Notes"}, {"title": "Shortest"}]),
        "POST takes filters in the query string"
    );
    let r = call(
        &s,
        "GET",
        "/rpc/books_longer_than",
        "min_pages=0&select=id&id=eq.1",
        &[("Accept", "application/vnd.pgrst.object+json")],
        "",
    )
    .await;
    assert_eq!(
        (r.status, r.json()),
        (200, json!({"id": 1})),
        "{}",
        r.text()
    );
}

/// Bad calls are the caller's errors, with the database's own error kept
/// for what the function raises.
#[tokio::test]
async fn bad_calls_are_clear_errors() {
    let Some(s) = service().await else { return };
    // A function that may write runs by `GET` in a read-only transaction
    // (PostgREST's): one that writes is refused there, 405 with the
    // database's 25006, nothing written; one that only reads answers.
    let before = ok(&s, "GET", "/counter", "select=n&name=eq.hits", "").await;
    let r = status_is(
        &s,
        "GET",
        "/rpc/bump",
        "counter_name=hits",
        "",
        405,
        "a volatile function that writes, by GET: {}",
    )
    .await;
    assert_eq!(r.header("allow"), Some("GET, HEAD, POST"));
    assert_eq!(r.json()["code"], "25006", "{}", r.text());
    assert_eq!(
        ok(&s, "GET", "/counter", "select=n&name=eq.hits", "").await,
        before
    );
    let n = ok(&s, "GET", "/rpc/book_count", "", "").await;
    assert!(n.as_i64().is_some_and(|n| n >= 4), "{n}");
    let r = call(&s, "HEAD", "/rpc/book_count", "", &[], "").await;
    assert_eq!(r.status, 200);
    // Aggregates of its rows too, in a read-only transaction: a function
    // that writes is refused, nothing written; one that reads answers.
    let r = call(&s, "GET", "/rpc/bump_all", "step=1&select=n.sum()", &[], "").await;
    assert_eq!(
        (r.status, r.json()["code"].clone()),
        (405, json!("25006")),
        "{}",
        r.text()
    );
    assert_eq!(
        ok(&s, "GET", "/counter", "select=n&name=eq.hits", "").await,
        before
    );
    let r = call(&s, "GET", "/rpc/counters_read", "select=count()", &[], "").await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(
        r.json()[0]["count"].as_i64().is_some_and(|n| n >= 1),
        "{}",
        r.text()
    );
    // Arguments the function does not take (a required one missing, an
    // unknown one): PostgREST's 404 `PGRST202`, the signature as hint.
    let r = status_is(
        &s,
        "GET",
        "/rpc/add_them",
        "",
        "",
        404,
        "a missing argument: {}",
    )
    .await;
    assert_eq!(
        (&r.json()["code"], &r.json()["message"], &r.json()["hint"]),
        (
            &json!("PGRST202"),
            &json!("Could not find the function add_them() in the schema cache"),
            &json!("its signature: public.add_them(a => integer, b => integer)")
        )
    );
    // A query parameter naming no operator is an argument (PostgREST's
    // rule); one naming an operator is a filter of the result.
    let r = call(
        &s,
        "GET",
        "/rpc/add_them",
        "zzz=2&a=1&select=add_them",
        &[],
        "",
    )
    .await;
    assert_eq!(
        (r.status, &r.json()["message"]),
        (
            404,
            &json!("Could not find the function add_them(a, zzz) in the schema cache")
        ),
        "an unknown argument: {}",
        r.text()
    );
    let r = call(&s, "GET", "/rpc/add_them", "a=1&zzz=eq.2", &[], "").await;
    assert_eq!(
        (r.status, &r.json()["code"]),
        (400, &json!("42703")),
        "a filter on an unknown column: {}",
        r.text()
    );
    let r = call(
        &s,
        "POST",
        "/rpc/add_them",
        "",
        &[],
        r#"{"a": 1, "zzz": 2}"#,
    )
    .await;
    assert_eq!(
        (r.status, &r.json()["code"]),
        (404, &json!("PGRST202")),
        "an unknown argument: {}",
        r.text()
    );
    // A number's text, as PostgreSQL reads a JSON argument.
    assert_eq!(
        ok(&s, "POST", "/rpc/add_them", "", r#"{"a": "5"}"#).await,
        json!(15)
    );
    let r = call(
        &s,
        "GET",
        "/rpc/books_longer_than",
        "min_pages=100&title=Dune",
        &[],
        "",
    )
    .await;
    assert_eq!(r.status, 404, "an argument, not a filter: {}", r.text());
    // A value naming an operator is a filter, also under a parameter's
    // name (`.rpc(f, {author_id: 3}, {get: true}).gt('author_id', 2)`).
    assert_eq!(
        ok(
            &s,
            "GET",
            "/rpc/books_by",
            "author_id=3&author_id=gt.2&select=id",
            ""
        )
        .await,
        json!([{"id": 3}, {"id": 4}])
    );
    assert_eq!(
        ok(
            &s,
            "GET",
            "/rpc/books_by",
            "author_id=3&author_id=neq.3&select=id",
            ""
        )
        .await,
        json!([])
    );
    // POST: `columns=` lists the arguments taken from the body; an array
    // body gives its first object, as PostgREST takes them.
    assert_eq!(
        ok(
            &s,
            "POST",
            "/rpc/add_them",
            "columns=a",
            r#"{"a": 1, "b": 2, "smth": "here"}"#
        )
        .await,
        json!(11)
    );
    assert_eq!(
        ok(
            &s,
            "POST",
            "/rpc/add_them",
            "",
            r#"[{"a": 1, "b": 2}, {"a": 4, "b": 6}]"#
        )
        .await,
        json!(3)
    );
    let r = call(
        &s,
        "POST",
        "/rpc/add_them",
        "",
        &[("Prefer", "params=single-object")],
        r#"{"a": 1}"#,
    )
    .await;
    assert_eq!(
        (r.status, &r.json()["code"]),
        (404, &json!("PGRST202")),
        "{}",
        r.text()
    );
    // A keyset cursor is no argument either.
    let r = call(
        &s,
        "GET",
        "/rpc/books_longer_than",
        "min_pages=0&select=id&order=id&after=[2]",
        &[],
        "",
    )
    .await;
    assert_eq!(
        (r.status, r.json()),
        (200, json!([{"id": 3}, {"id": 4}])),
        "rows after the cursor: {}",
        r.text()
    );
    status_is(
        &s,
        "GET",
        "/rpc/add_them",
        "a=abc",
        "",
        422,
        "a value of the wrong type: {}",
    )
    .await;
    status_is(&s, "POST", "/rpc/add_them", "", "[1, 2]", 400, "{}").await;
    status_is(&s, "POST", "/rpc/add_them", "", "{nope", 400, "{}").await;
    status_is(&s, "GET", "/rpc/no_such_function", "", "", 404, "{}").await;
    let r = status_is(&s, "PATCH", "/rpc/add_them", "", "{}", 405, "{}").await;
    assert_eq!(r.json()["code"], "PGRST101");
    let r = status_is(&s, "DELETE", "/rpc/add_them", "", "", 405, "{}").await;
    assert_eq!(r.json()["code"], "PGRST101");
    // Hostile argument text stays a bound value.
    assert_eq!(
        ok(&s, "GET", "/rpc/greet", "name=x');DROP TABLE book;--", "").await,
        json!("hello x');DROP TABLE book;--")
    );
    assert_eq!(ok(&s, "GET", "/rpc/series", "n=1", "").await, json!([1]));
    let r = call(&s, "GET", "/rpc/fail_with", "msg=boom", &[], "").await;
    assert!(
        r.status >= 400 && r.status < 500,
        "a raised exception is the caller's: {} {}",
        r.status,
        r.text()
    );
    assert!(r.text().contains("boom"), "{}", r.text());
}

/// Rules: a function is closed until a rule lets a role execute it, and
/// rows of an entity it returns are narrowed by the entity's read rule.
#[tokio::test]
async fn rules_apply_to_functions_and_their_rows() {
    let baas = match baas_with("p", &pg_url(), None).await {
        Ok(b) => b,
        Err(e) => {
            skip_or_fail("BAAS_TEST_PARITY_PG_URL", &e);
            return;
        }
    };
    let tenant = baas.tenant("p").await.expect("tenant");
    let mut schema = SchemaMetadata::clone(tenant.schema());
    schema.rules = serde_json::from_value(json!([
        {"entity": "books_longer_than", "action": ["execute"], "role": ["anon"]},
        {"entity": "book", "action": ["read"], "role": ["anon"], "filter": "author_id=eq.3", "read": ["id", "title", "author_id"]},
        {"entity": "author", "action": ["read"], "role": ["anon"], "read": ["id", "name", "books_of"]}
    ]))
    .expect("rules");
    let baas = {
        let b = Arc::new(
            Baas::builder(Arc::new(MemoryStore::new()), Arc::new(UrlConnector))
                .policy(Arc::new(mini_baas::auth::RulesPolicy::closed()))
                .build(),
        );
        b.register_tenant(
            TenantConfig::new("p", pg_url(), TenantMode::Introspected),
            Some(schema),
        )
        .await
        .expect("tenant with rules");
        b
    };
    let s = Service::new(baas);
    let r = call(
        &s,
        "GET",
        "/rpc/books_longer_than",
        "min_pages=0&select=title&order=id",
        &[],
        "",
    )
    .await;
    assert_eq!(
        (r.status, r.json()),
        (200, json!([{"title": "Structured"}, {"title": "Shortest"}])),
        "the read rule of `book` narrows the function's rows: {}",
        r.text()
    );
    let r = call(
        &s,
        "GET",
        "/rpc/books_longer_than",
        "min_pages=0&select=pages",
        &[],
        "",
    )
    .await;
    assert!(
        r.status == 400 || r.status == 403 || r.status == 422,
        "a hidden field stays hidden: {} {}",
        r.status,
        r.text()
    );
    let r = call(&s, "GET", "/rpc/add_them", "a=1", &[], "").await;
    assert!(
        r.status == 401 || r.status == 403,
        "no rule: closed: {} {}",
        r.status,
        r.text()
    );
    // Arguments that fit no function: its signature is the hint only for
    // a caller who may call it.
    let r = call(&s, "GET", "/rpc/add_them", "nope=1", &[], "").await;
    assert_eq!(
        (r.status, &r.json()["code"], &r.json()["hint"]),
        (404, &json!("PGRST202"), &J::Null),
        "{}",
        r.text()
    );
    let r = call(&s, "GET", "/rpc/books_longer_than", "nope=1", &[], "").await;
    assert_eq!(
        (r.status, &r.json()["hint"]),
        (
            404,
            &json!("its signature: public.books_longer_than(min_pages => integer)")
        ),
        "{}",
        r.text()
    );
    let doc = call(&s, "GET", "/discovery", "", &[], "").await.text();
    assert!(
        doc.contains("books_longer_than") && !doc.contains("add_them"),
        "discovery shows only callable functions"
    );
    // Functions of a row see the whole row: under a read rule that lists
    // fields, a computed field or relationship is read only when listed;
    // a computed relationship's rows obey the returned table's rule.
    let r = call(
        &s,
        "GET",
        "/author",
        "select=name,books_of(title)&order=id&books_of.order=title",
        &[],
        "",
    )
    .await;
    assert_eq!(
        (r.status, r.json()),
        (
            200,
            json!([
                {"name": "Ada", "books_of": []},
                {"name": "Grace", "books_of": []},
                {"name": "Edsger", "books_of": [{"title": "Shortest"}, {"title": "Structured"}]}
            ])
        ),
        "{}",
        r.text()
    );
    for query in [
        "select=name,full_label",
        "select=name,longest_book(title)",
        "select=name,longest_book!inner(title)",
        "select=name,longest_book()&longest_book=not.is.null",
        "select=name&order=longest_book(title)",
    ] {
        let r = call(&s, "GET", "/author", query, &[], "").await;
        assert!(
            r.status == 401 || r.status == 403,
            "{query}: not listed, not readable: {} {}",
            r.status,
            r.text()
        );
    }
    // Its aggregates count only the rows the returned table's rule shows.
    let r = call(
        &s,
        "GET",
        "/author",
        "select=name,books_of(count)&order=id",
        &[],
        "",
    )
    .await;
    assert_eq!(
        (r.status, r.json()),
        (
            200,
            json!([
                {"name": "Ada", "books_of": [{"count": 0}]},
                {"name": "Grace", "books_of": [{"count": 0}]},
                {"name": "Edsger", "books_of": [{"count": 2}]}
            ])
        ),
        "{}",
        r.text()
    );
    // Aggregates of a function's rows count only the rows the returned
    // table's rule shows, and only its readable fields.
    let r = call(
        &s,
        "GET",
        "/rpc/books_longer_than",
        "min_pages=0&select=count(),id.max()",
        &[],
        "",
    )
    .await;
    assert_eq!(
        (r.status, r.json()),
        (200, json!([{"count": 2, "max": 4}])),
        "{}",
        r.text()
    );
    let r = call(
        &s,
        "GET",
        "/rpc/books_longer_than",
        "min_pages=0&select=pages.sum()",
        &[],
        "",
    )
    .await;
    assert!(
        r.status == 400 || r.status == 403 || r.status == 422,
        "a hidden field is not aggregated: {} {}",
        r.status,
        r.text()
    );
    // As a filter, a computed relationship sees only the rows the returned
    // table's rule shows: hidden books make no parent match.
    let r = call(
        &s,
        "GET",
        "/author",
        "select=name,books_of!inner(title)&order=id&books_of.order=title",
        &[],
        "",
    )
    .await;
    assert_eq!(
        (r.status, r.json()),
        (
            200,
            json!([{"name": "Edsger", "books_of": [{"title": "Shortest"}, {"title": "Structured"}]}])
        ),
        "{}",
        r.text()
    );
}

/// Engines without functions answer 501 naming the engine.
#[tokio::test]
async fn engines_without_functions_answer_501() {
    let path = std::env::temp_dir().join(format!("baas-rpc-{}.db", std::process::id()));
    let _ = std::fs::remove_file(&path);
    let url = format!("sqlite://{}", path.display());
    let mut schema = SchemaMetadata::new(vec![
        mini_baas::Entity::new(
            "thing",
            vec![mini_baas::Field::new("id", mini_baas::FieldType::Int64)],
        )
        .with_primary_key(["id"]),
    ]);
    schema.functions = serde_json::from_value(json!([
        {"name": "answer", "source": {"table": "answer"}, "returns": {"kind": "scalar", "ty": {"kind": "int32"}}, "volatility": "immutable"}
    ]))
    .expect("function metadata");
    let baas =
        Arc::new(Baas::builder(Arc::new(MemoryStore::new()), Arc::new(UrlConnector)).build());
    baas.register_tenant(
        TenantConfig::new("p", &url, TenantMode::Managed),
        Some(schema),
    )
    .await
    .expect("sqlite tenant");
    let s = Service::new(baas);
    let r = status_is(&s, "GET", "/rpc/answer", "", "", 501, "{}").await;
    assert!(r.text().contains("sqlite"), "{}", r.text());
    let _ = std::fs::remove_file(&path);
}

/// Item 10: a column of a type without a mapping (`int4range`,
/// `tsvector`) reads as its text form, compares as text, is written
/// through a cast, and `fts` searches a `tsvector` column as it is.
#[tokio::test]
async fn unmapped_types_read_and_write_as_text() {
    let Some(s) = service().await else { return };
    let r = ok(&s, "GET", "/book", "select=id,printed,summary&id=eq.2", "").await;
    assert_eq!(
        r,
        json!([{"id": 2, "printed": "[1952,1960)", "summary": "'bug':6 'compil':3 'first':2"}])
    );
    // select=* reads every column, whatever its type.
    let all = ok(&s, "GET", "/book", "order=id", "").await;
    assert_eq!(all.as_array().map(Vec::len), Some(4), "{all}");
    assert_eq!(
        ok(&s, "GET", "/book", "select=id&printed=eq.[1843,1844)", "").await,
        json!([{"id": 1}]),
        "eq compares the text form"
    );
    assert_eq!(
        ok(
            &s,
            "GET",
            "/book",
            "select=id&summary=fts(english).compilers&order=id",
            ""
        )
        .await,
        json!([{"id": 2}]),
        "fts on a tsvector column searches it as it is"
    );
    // Written through a cast; a malformed value is the caller's error.
    call(&s, "DELETE", "/shelf", "id=eq.900", &[], "").await;
    let created = call(
        &s,
        "POST",
        "/shelf",
        "select=years,words,spans",
        &[("Prefer", "return=representation")],
        r#"{"id": 900, "years": "[2000,2002)", "words": "fresh words", "spans": ["[1,3)", "(4,6]"]}"#,
    )
    .await;
    assert_eq!(created.status, 201, "{}", created.text());
    assert_eq!(
        created.json(),
        json!([{"years": "[2000,2002)", "words": "'fresh' 'words'", "spans": ["[1,3)", "[5,7)"]}])
    );
    // An array of a type without a mapping: an array of its text forms.
    assert_eq!(
        ok(&s, "GET", "/shelf", "select=spans&spans=cs.{\"[1,3)\"}", "").await,
        json!([{"spans": ["[1,3)", "[5,7)"]}])
    );
    // A multi-dimensional literal: its elements, as PostgreSQL's `@>`,
    // `&&` and `= ANY` ignore dimensions; a ragged one is its 400.
    for q in [
        "select=id&spans=cs.{{\"[1,3)\"},{\"[5,7)\"}}",
        "select=id&spans=ov.{{\"[8,9)\",\"[5,7)\"}}",
        "select=id&id=eq(any).{{900,901},{902,903}}",
    ] {
        assert_eq!(
            ok(&s, "GET", "/shelf", q, "").await,
            json!([{"id": 900}]),
            "{q}"
        );
    }
    let r = call(&s, "GET", "/shelf", "spans=cs.{{\"[1,3)\"},{}}", &[], "").await;
    assert_eq!(r.status, 400, "{}", r.text());
    // A multi-dimensional array is written and read as nested JSON arrays,
    // and its elements are what `cs` reads; a ragged one is a 400.
    let r = call(
        &s,
        "PATCH",
        "/shelf",
        "id=eq.900&select=grid",
        &[("Prefer", "return=representation")],
        r#"{"grid": [[1, 2], [3, null]]}"#,
    )
    .await;
    assert_eq!(
        (r.status, r.json()),
        (200, json!([{"grid": [[1, 2], [3, null]]}])),
        "{}",
        r.text()
    );
    assert_eq!(
        ok(&s, "GET", "/shelf", "select=grid&grid=cs.{{1},{3}}", "").await,
        json!([{"grid": [[1, 2], [3, null]]}])
    );
    // `->` and `->>` step into an array in `select`, as PostgREST's
    // (an index past the end is null, a negative one counts from it).
    assert_eq!(
        ok(
            &s,
            "GET",
            "/shelf",
            "select=row:grid->1,cell:grid->0->>1,last:grid->-1->0,none:grid->5&id=eq.900",
            ""
        )
        .await,
        json!([{"row": [3, null], "cell": "2", "last": 3, "none": null}])
    );
    // In filters and `order` too (PostgreSQL reads the array as JSON).
    for (q, want) in [
        ("select=id&id=eq.900&grid->0->0=eq.1", json!([{"id": 900}])),
        ("select=id&id=eq.900&grid->0->>1=eq.2", json!([{"id": 900}])),
        ("select=id&id=eq.900&grid->0->0=eq.2", json!([])),
        (
            "select=id&id=eq.900&grid->1->1=is.null",
            json!([{"id": 900}]),
        ),
        ("select=id&id=eq.900&grid->-1->0=gt.2", json!([{"id": 900}])),
        (
            "select=id&id=eq.900&order=grid->1->0.desc",
            json!([{"id": 900}]),
        ),
    ] {
        assert_eq!(ok(&s, "GET", "/shelf", q, "").await, want, "{q}");
    }
    // `eq` compares the whole array, dimensions included (NULL elements
    // equal), as PostgreSQL's `=`.
    for (q, want) in [
        ("select=id&grid=eq.{{1,2},{3,NULL}}", json!([{"id": 900}])),
        ("select=id&grid=eq.{{1,2},{3,4}}", json!([])),
        ("select=id&grid=eq.{1,2,3,NULL}", json!([])),
        ("select=id&grid=neq.{1,2,3,NULL}", json!([{"id": 900}])),
        (
            "select=id&spans=eq.{\"[1,3)\",\"[5,7)\"}",
            json!([{"id": 900}]),
        ),
    ] {
        assert_eq!(ok(&s, "GET", "/shelf", q, "").await, want, "{q}");
    }
    for body in [
        r#"{"grid": [[1], [2, 3]]}"#,
        r#"{"grid": [[1], 2]}"#,
        r#"{"grid": [[]]}"#,
        r#"{"grid": [[[[[[[1]]]]]]]}"#,
    ] {
        let r = call(&s, "PATCH", "/shelf", "id=eq.900", &[], body).await;
        assert_eq!(r.status / 100, 4, "{body}: {}", r.text());
    }
    let bad = call(
        &s,
        "PATCH",
        "/shelf",
        "id=eq.900",
        &[],
        r#"{"years": "not a range"}"#,
    )
    .await;
    assert!(
        bad.status >= 400 && bad.status < 500,
        "{} {}",
        bad.status,
        bad.text()
    );
    let r = call(&s, "DELETE", "/shelf", "id=eq.900", &[], "").await;
    assert!(r.status < 300, "{}", r.text());
    // Discovery says what the database type is.
    let doc = ok(&s, "GET", "/discovery", "", "").await.to_string();
    assert!(doc.contains("int4range"), "{doc}");
}

/// Item 16 (part): an enum with the same name in two schemas stays two
/// enums, each with its own values.
#[tokio::test]
async fn same_named_enums_in_two_schemas_stay_apart() {
    let Some(s) = service().await else { return };
    let doc = ok(&s, "GET", "/discovery", "", "").await;
    let values = |entity: &str| -> J {
        let e = discovered(&doc, entity);
        let f = e["fields"]
            .as_array()
            .and_then(|a| a.iter().find(|f| f["name"] == "feel"))
            .unwrap_or_else(|| panic!("no field feel in {entity}"));
        f["enum_values"].clone()
    };
    assert_eq!(values("book"), json!(["sad", "ok", "happy"]));
    assert_eq!(values("personal_book"), json!(["calm", "busy"]));
}

/// Embedding names and hints as PostgREST resolves them (item 11): a
/// foreign-key constraint name as a hint or as the name, the foreign-key
/// column as the name, and a self-reference (`author.mentor_id`) by the
/// table's name (one-to-many), the column (many-to-one) or the column as
/// the one-to-many's hint.
#[tokio::test]
async fn embeds_resolve_by_constraint_column_and_self_reference() {
    let Some(s) = service().await else { return };
    // `author` reaches `review` by two foreign keys: ambiguous.
    let r = status_is(
        &s,
        "GET",
        "/author",
        "select=name,review(id)",
        "",
        300,
        "{}",
    )
    .await;
    assert_eq!(r.json()["code"], "PGRST201");
    assert_eq!(r.json()["details"].as_array().map(Vec::len), Some(2));
    // Each candidate named by its foreign key's constraint, as PostgREST.
    let named: Vec<String> = r.json()["details"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|d| d["relationship"].as_str())
        .map(|r| r.split(' ').next().unwrap_or_default().to_string())
        .collect();
    assert!(
        named.iter().all(|n| n.ends_with("_fkey")),
        "{named:?}: {}",
        r.text()
    );
    for (query, want) in [
        (
            "select=name,review!review_reviewer_fkey(id)&id=eq.2",
            json!([{"name": "Grace", "review": [{"id": 1}]}]),
        ),
        (
            "select=name,review!subject_id(id)&id=eq.2",
            json!([{"name": "Grace", "review": [{"id": 2}]}]),
        ),
        (
            "select=name,author(name)&id=eq.1",
            json!([{"name": "Ada", "author": [{"name": "Grace"}]}]),
        ),
        (
            "select=name,mentor_id(name)&id=eq.3",
            json!([{"name": "Edsger", "mentor_id": {"name": "Grace"}}]),
        ),
        (
            "select=name,mentees:author!mentor_id(name)&id=eq.2",
            json!([{"name": "Grace", "mentees": [{"name": "Edsger"}]}]),
        ),
    ] {
        assert_eq!(ok(&s, "GET", "/author", query, "").await, want, "{query}");
    }
    for (query, want) in [
        (
            "select=id,review_subject_fkey(name)&id=eq.1",
            json!([{"id": 1, "review_subject_fkey": {"name": "Ada"}}]),
        ),
        (
            "select=id,reviewer_id(name),subject_id&id=eq.1",
            json!([{"id": 1, "reviewer_id": {"name": "Grace"}, "subject_id": 1}]),
        ),
    ] {
        assert_eq!(ok(&s, "GET", "/review", query, "").await, want, "{query}");
    }
    // A constraint (or a column) names the table's relation, not those
    // the views over `book` inherit (PostgREST's EmbedDisambiguationSpec).
    assert_eq!(
        ok(
            &s,
            "GET",
            "/author",
            "select=id,book_author_id_fkey(title)&id=eq.1",
            ""
        )
        .await,
        json!([{"id": 1, "book_author_id_fkey": [{"title": "Notes"}]}])
    );
    let r = call(&s, "GET", "/author", "select=name,review!nope(id)", &[], "").await;
    assert_eq!(
        (r.status, r.json()["code"].as_str()),
        (400, Some("PGRST200"))
    );
}

/// Decimals are JSON numbers written with the column's exact digits (item
/// 3), wider than a double both ways; a tenant may keep them as strings.
#[tokio::test]
async fn decimals_are_exact_numbers() {
    let Some(s) = service().await else { return };
    let r = status_is(
        &s,
        "GET",
        "/review",
        "select=id,score&order=id",
        "",
        200,
        "{}",
    )
    .await;
    assert_eq!(
        r.text(),
        r#"[{"id":1,"score":12345678901234567890.0123456789},{"id":2,"score":-0.5000000000}]"#
    );
    // Written from a JSON number with every digit kept.
    let body = r#"{"id": 90, "reviewer_id": 1, "subject_id": 2, "score": 98765432109876543210.9876543210}"#;
    let r = call(
        &s,
        "POST",
        "/review",
        "select=score",
        // Rolled back: never seen by the tests that read `review` meanwhile.
        &[("Prefer", "return=representation,tx=rollback")],
        body,
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(r.text(), r#"[{"score":98765432109876543210.9876543210}]"#);

    // The per-tenant option: strings, in embeds and writes too.
    let mut config = TenantConfig::new("p", pg_url(), TenantMode::Introspected);
    config.decimals = mini_baas::engine::DecimalFormat::String;
    let baas =
        Arc::new(Baas::builder(Arc::new(MemoryStore::new()), Arc::new(UrlConnector)).build());
    baas.register_tenant(config, None).await.expect("tenant");
    let s = Service::new(baas);
    assert_eq!(
        ok(
            &s,
            "GET",
            "/author",
            "select=name,review!reviewer_id(score)&id=eq.2",
            ""
        )
        .await,
        json!([{"name": "Grace", "review": [{"score": "12345678901234567890.0123456789"}]}])
    );
    let r = call(
        &s,
        "POST",
        "/review",
        "select=score",
        // Rolled back: never seen by the tests that read `review` meanwhile.
        &[("Prefer", "return=representation,tx=rollback")],
        r#"{"id": 91, "reviewer_id": 1, "subject_id": 2, "score": "1.5"}"#,
    )
    .await;
    assert_eq!(r.text(), r#"[{"score":"1.5000000000"}]"#);
}

/// Schema profiles (item 16): `Accept-Profile` / `Content-Profile` serve
/// `personal.book` at `/book`, next to its `personal_book` name; `public`
/// (what supabase-js sends by default) is the plain names; a schema not
/// served is a 406 `PGRST106`.
#[tokio::test]
async fn profiles_select_the_schema() {
    let Some(s) = service().await else { return };
    let personal = [("Accept-Profile", "personal")];
    let r = call(&s, "GET", "/book", "select=title,feel", &personal, "").await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json(), json!([{"title": "Diary", "feel": "calm"}]));
    // The schema is answered back, as PostgREST answers it.
    assert_eq!(r.header("content-profile"), Some("personal"));
    assert_eq!(
        ok(&s, "GET", "/personal_book", "select=title", "").await,
        json!([{"title": "Diary"}])
    );
    let public = [("Accept-Profile", "public")];
    let r = call(&s, "GET", "/book", "select=title&id=eq.1", &public, "").await;
    assert_eq!(r.json(), json!([{"title": "Notes"}]));
    // Writes name their schema with Content-Profile.
    let r = call(
        &s,
        "POST",
        "/book",
        "select=title,feel",
        &[
            ("Content-Profile", "personal"),
            ("Prefer", "return=representation"),
        ],
        r#"{"title": "Letters", "feel": "busy"}"#,
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(r.json(), json!([{"title": "Letters", "feel": "busy"}]));
    let r = call(
        &s,
        "DELETE",
        "/book",
        "title=eq.Letters",
        &[("Content-Profile", "personal")],
        "",
    )
    .await;
    assert_eq!(r.status, 204, "{}", r.text());
    // A table the schema does not have, and a schema not served.
    let r = call(&s, "GET", "/counter", "", &personal, "").await;
    assert_eq!(r.status, 404, "{}", r.text());
    let r = call(&s, "GET", "/book", "", &[("Accept-Profile", "nope")], "").await;
    assert_eq!(
        (r.status, r.json()["code"].as_str()),
        (406, Some("PGRST106"))
    );
    assert!(
        r.json()["message"]
            .as_str()
            .is_some_and(|m| m.contains("personal")),
        "{}",
        r.text()
    );
}

/// Input casts of aggregates, PostgREST's `jsonb_col->>key::integer.sum()`
/// and `s:jsonb_col->>key::integer.sum()::text` (its
/// AggregateFunctionsSpec): the value at a path, cast by the database,
/// aggregated; beside groups, inside embeddings and spreads.
#[tokio::test]
async fn aggregates_of_cast_inputs() {
    let Some(s) = service().await else { return };
    for (path, query, want) in [
        (
            "/note",
            "select=body->meta->>n::integer.sum()",
            json!([{"sum": 6}]),
        ),
        (
            "/note",
            "select=s:body->meta->>n::integer.sum()::text",
            json!([{"s": "6"}]),
        ),
        (
            "/note",
            "select=author_id,m:body->meta->n::int.max(),body->>title.min()&order=author_id",
            json!([
                {"author_id": 1, "m": 3, "min": "first"},
                {"author_id": 2, "m": null, "min": null}
            ]),
        ),
        (
            "/author",
            "select=name,note(body->meta->>n::int.avg())&order=id",
            json!([
                // PostgreSQL's `numeric` average of integers.
                {"name": "Ada", "note": [{"avg": num("2.0000000000000000")}]},
                {"name": "Grace", "note": [{"avg": null}]},
                {"name": "Edsger", "note": [{"avg": null}]}
            ]),
        ),
        (
            "/note",
            "select=...author(name),t:body->meta->>n::int.sum()&order=author(name)",
            json!([{"name": "Ada", "t": 6}, {"name": "Grace", "t": null}]),
        ),
        (
            "/book",
            "select=price::int.sum(),feel::text.max(),printed::text.min()",
            json!([{"sum": 88, "max": "sad", "min": "[1843,1844)"}]),
        ),
    ] {
        assert_eq!(ok(&s, "GET", path, query, "").await, want, "{path}?{query}");
    }
    // `->>` without a cast is text: no sum of it.
    let r = call(&s, "GET", "/note", "select=body->meta->>n.sum()", &[], "").await;
    assert_eq!(r.status, 422, "{}", r.text());
}

/// Aggregates grouped by a JSON path (item 12 with item 14), as PostgREST
/// groups: by the value at the path (`->`, JSON null and a missing path
/// one group) or its text (`->>`), ordered by it; the value shown once per
/// group. The engines compute the same groups (baas-testkit's
/// `aggregate_group_by_values`).
#[tokio::test]
async fn aggregates_grouped_by_json_paths() {
    let Some(s) = service().await else { return };
    assert_eq!(
        ok(
            &s,
            "GET",
            "/note",
            "select=ok:body->meta->ok,count()&order=body",
            ""
        )
        .await,
        json!([
            {"ok": false, "count": 1},
            {"ok": true, "count": 1},
            {"ok": null, "count": 2}
        ])
    );
    assert_eq!(
        ok(
            &s,
            "GET",
            "/note",
            "select=first:body->tags->>0,author_id,n:count()&order=body.desc,author_id",
            ""
        )
        .await,
        json!([
            {"first": null, "author_id": 1, "n": 2},
            {"first": null, "author_id": 2, "n": 1},
            {"first": "a", "author_id": 1, "n": 1}
        ])
    );
    // A cast to one of PostgreSQL's own types groups by its text.
    assert_eq!(
        ok(
            &s,
            "GET",
            "/note",
            "select=wait:body->meta->>n::interval,count()&order=body",
            ""
        )
        .await,
        json!([
            {"wait": "00:00:01", "count": 1},
            {"wait": "00:00:02", "count": 1},
            {"wait": "00:00:03", "count": 1},
            {"wait": null, "count": 1}
        ])
    );
    // `::text` after the path groups by the text, another cast by
    // PostgreSQL's cast of the text.
    assert_eq!(
        ok(
            &s,
            "GET",
            "/note",
            "select=n:body->meta->n::text,count()&order=body&body->meta->n=gte.2",
            ""
        )
        .await,
        json!([{"n": "2", "count": 1}, {"n": "3", "count": 1}])
    );
    assert_eq!(
        ok(
            &s,
            "GET",
            "/note",
            "select=body->meta->>n::int,count()&order=body.desc",
            ""
        )
        .await,
        json!([
            {"n": null, "count": 1},
            {"n": 3, "count": 1},
            {"n": 2, "count": 1},
            {"n": 1, "count": 1}
        ])
    );
}

/// JSON paths and casts in `select` (item 14): `->` keeps the JSON value,
/// `->>` gives its text, array indexes (negative from the end), aliases,
/// missing steps are null, `::text` on any field (other casts: parity.rs); shaped after the engine
/// answers, so the same on every engine.
#[tokio::test]
async fn json_paths_and_casts_in_select() {
    let Some(s) = service().await else { return };
    assert_eq!(
        ok(
            &s,
            "GET",
            "/note",
            "select=id,body->title,n:body->meta->n,ok:body->meta->>ok,first:body->tags->0,last:body->tags->>-1,body->nope->x&order=id",
            ""
        )
        .await,
        json!([
            {"id": 1, "title": "first", "n": 3, "ok": "true", "first": "a", "last": "b", "x": null},
            {"id": 2, "title": "second", "n": 1, "ok": "false", "first": null, "last": null, "x": null},
            {"id": 3, "title": "third", "n": 2, "ok": null, "first": null, "last": null, "x": null},
            {"id": 4, "title": null, "n": null, "ok": null, "first": null, "last": null, "x": null}
        ])
    );
    // Without an alias, a path ending in array indexes is named after its
    // last key (`tags`), or its field when it has none (`body`).
    assert_eq!(
        ok(&s, "GET", "/note", "select=body->tags->-1&id=eq.1", "").await,
        json!([{"tags": "b"}])
    );
    // `->>` on an object gives its JSON text; `::text` on a number;
    // `::json` changes nothing.
    assert_eq!(
        ok(
            &s,
            "GET",
            "/note",
            "select=id::text,m:body->>meta,j:body->meta::json&id=eq.2",
            ""
        )
        .await,
        json!([{"id": "2", "m": "{\"n\":1,\"ok\":false}", "j": {"n": 1, "ok": false}}])
    );
    // PostgreSQL's other types: cast by PostgreSQL, answered as their
    // text (PostgREST's `col::interval`), in an embedding too.
    assert_eq!(
        ok(
            &s,
            "GET",
            "/book",
            "select=id,t:title::xml,author(n:name::bpchar,id)&id=eq.1",
            ""
        )
        .await,
        ok(
            &s,
            "GET",
            "/book",
            "select=id,t:title,author(n:name,id)&id=eq.1",
            ""
        )
        .await
    );
    let r = call(
        &s,
        "GET",
        "/book",
        "select=p:pages::interval&id=eq.1",
        &[],
        "",
    )
    .await;
    assert_eq!(r.status, 400, "{}", r.text());
    // The text at a JSON path, cast by PostgreSQL (its text answered).
    assert_eq!(
        ok(
            &s,
            "GET",
            "/note",
            "select=id,wait:body->meta->>n::interval&id=in.(1,4)&order=id",
            ""
        )
        .await,
        json!([{"id": 1, "wait": "00:00:03"}, {"id": 4, "wait": null}])
    );
    // Beside the stored value (listed, or through `*`), or cast twice: each
    // cast is a column of its own, and a key the field has is kept.
    assert_eq!(
        ok(
            &s,
            "GET",
            "/note",
            "select=id::oid,x:id,w:body->meta->>n::interval,v:body->meta->>n::int8&id=eq.1",
            ""
        )
        .await,
        json!([{"id": "1", "x": 1, "w": "00:00:03", "v": 3}])
    );
    assert_eq!(
        ok(
            &s,
            "GET",
            "/note",
            "select=*,o:id::oid,b:body->>title::bpchar&id=eq.1",
            ""
        )
        .await,
        json!([{
            "id": 1,
            "body": {"title": "first", "tags": ["a", "b"], "meta": {"n": 3, "ok": true}},
            "author_id": 1,
            "o": "1",
            "b": "first"
        }])
    );
    assert_eq!(
        ok(
            &s,
            "GET",
            "/book",
            "select=id,a:id::oid,b:id::regclass,author(*,n:name::bpchar)&id=eq.1",
            ""
        )
        .await,
        json!([{
            "id": 1,
            "a": "1",
            "b": "1",
            "author": {"id": 1, "name": "Ada", "mentor_id": null, "born": "1815-12-10", "n": "Ada"}
        }])
    );
    for (query, status) in [
        ("select=id->a", 400),
        ("select=id::date", 400),
        // No such type; a cast PostgreSQL does not make (integer to
        // interval): the caller's errors.
        ("select=id::nope", 400),
        ("select=id::interval", 400),
        // Text that is no interval: PostgreSQL's error.
        ("select=body->title::interval", 400),
        ("select=id::in-val", 400),
        // PostgreSQL has no cast from an integer to `inet`.
        ("select=*,x:id::inet", 400),
        ("select=body->a,x:body->b,body->a", 400),
        ("select=body->>a->b", 400),
    ] {
        status_is(&s, "GET", "/note", query, "", status, "{}").await;
    }
    // A write's representation: the written rows are read again by key
    // with the casts, inside the write's transaction, so a refusal writes
    // nothing; without a representation, `select` does not apply.
    let rep = [("Prefer", "return=representation")];
    let r = call(
        &s,
        "PATCH",
        "/note",
        "id=eq.1&select=id,w:body->meta->>n::interval,o:id::oid,t:id::text",
        &rep,
        r#"{"author_id": 2}"#,
    )
    .await;
    assert_eq!(
        (r.status, r.json()),
        (200, json!([{"id": 1, "w": "00:00:03", "o": "1", "t": "1"}])),
        "{}",
        r.text()
    );
    let r = call(
        &s,
        "PATCH",
        "/note",
        "id=eq.1&select=id::inet",
        &rep,
        r#"{"author_id": 3}"#,
    )
    .await;
    assert_eq!(
        (r.status, &r.json()["code"]),
        (400, &json!("42846")),
        "{}",
        r.text()
    );
    assert_eq!(
        ok(&s, "GET", "/note", "select=author_id&id=eq.1", "").await,
        json!([{"author_id": 2}]),
        "the refused write wrote nothing"
    );
    let r = call(&s, "PATCH", "/note", "id=eq.1", &[], r#"{"author_id": 1}"#).await;
    assert_eq!(r.status, 204, "{}", r.text());
    status_is(
        &s,
        "PATCH",
        "/note",
        "id=eq.1&select=id::inet",
        r#"{"id": 1}"#,
        204,
        "{}",
    )
    .await;
}

/// `order` on a value inside a JSON field (item 14): `->` sorts JSON
/// values as `jsonb` does, `->>` their text; a missing path is NULL; in an
/// embedding too (per parent).
#[tokio::test]
async fn order_by_json_path() {
    let Some(s) = service().await else { return };
    let ids = |v: J| -> Vec<i64> {
        v.as_array()
            .expect("rows")
            .iter()
            .map(|r| r["id"].as_i64().expect("id"))
            .collect()
    };
    for (query, want) in [
        ("select=id&order=body->meta->n", vec![2, 3, 1, 4]),
        (
            "select=id&order=body->meta->n.desc.nullslast",
            vec![1, 3, 2, 4],
        ),
        ("select=id&order=body->>title.desc", vec![4, 3, 2, 1]),
        (
            "select=id&order=body->tags->0.nullsfirst,id.desc",
            vec![4, 3, 2, 1],
        ),
    ] {
        assert_eq!(
            ids(ok(&s, "GET", "/note", query, "").await),
            want,
            "{query}"
        );
    }
    assert_eq!(
        ok(
            &s,
            "GET",
            "/author",
            "select=id,note(id)&id=eq.1&note.order=body->meta->>n.desc&note.limit=2",
            ""
        )
        .await,
        json!([{"id": 1, "note": [{"id": 1}, {"id": 3}]}])
    );
    for (query, status) in [
        ("order=id->a", 422),
        ("order=body->>a->b", 400),
        ("order=body->a&after=[1]", 422),
    ] {
        status_is(&s, "GET", "/note", query, "", status, "{}").await;
    }
}

/// `cs`/`cd` on a JSON column with a JSON operand (item 14), what
/// postgrest-js's `.contains(col, {…})` sends.
#[tokio::test]
async fn json_containment() {
    let Some(s) = service().await else { return };
    for (query, want) in [
        (r#"body=cs.{"meta":{"ok":true}}"#, json!([{"id": 1}])),
        (r#"body=cs.{"tags":["b"]}"#, json!([{"id": 1}])),
        (r#"body=cs.{"tags":[]}"#, json!([{"id": 1}, {"id": 2}])),
        (
            r#"body=cd.{"title":"third","meta":{"n":2,"ok":true},"x":1}"#,
            json!([{"id": 3}]),
        ),
        (
            r#"body=not.cs.{"meta":{"n":3}}"#,
            json!([{"id": 2}, {"id": 3}]),
        ),
    ] {
        assert_eq!(
            ok(
                &s,
                "GET",
                "/note",
                &format!("select=id&order=id&{query}"),
                ""
            )
            .await,
            want,
            "{query}"
        );
    }
    for (query, status) in [
        ("body=cs.{a}", 400),
        ("body=ov.[1]", 422),
        ("id=cs.{\"a\":1}", 400),
    ] {
        status_is(&s, "GET", "/note", query, "", status, "{}").await;
    }
}

/// Computed relationships (item 9): a function of a row returning rows
/// of a table embeds like a relation (`SETOF`: an array, paged and ordered
/// per parent; one row: an object), its rows nest further, and it
/// filters its parent (`!inner`, `is.null`); aggregates in it are tested
/// in `computed_relationships`.
/// Functions of a named table row (PostgREST's `get_user_profile(user_row
/// users)`): called through `/rpc` with the row as a JSON object, and as
/// computed relationships overloaded by the row's table; `*` of their
/// rows reads only the returned table's fields, a computed field of those
/// rows is the function's of each; without `order`, rows keep the
/// function's order; an ambiguity only PostgreSQL sees is the request's.
#[tokio::test]
async fn row_argument_functions() {
    let Some(s) = service().await else { return };
    let titles = |v: &J| -> Vec<String> {
        v.as_array()
            .map(|a| {
                a.iter()
                    .map(|b| b["title"].as_str().unwrap_or("?").to_string())
                    .collect()
            })
            .unwrap_or_default()
    };
    // By POST, the row an object of the author's fields (others ignored,
    // missing ones null); the function's `ORDER BY pages DESC` kept.
    let r = ok(
        &s,
        "POST",
        "/rpc/works_of",
        "select=title",
        r#"{"a": {"id": 3, "nope": 1}}"#,
    )
    .await;
    assert_eq!(titles(&r), ["Structured", "Shortest"]);
    // The other overload, chosen by its argument's name.
    let r = ok(
        &s,
        "POST",
        "/rpc/works_of",
        "select=title",
        r#"{"b": {"id": 3, "author_id": 3}}"#,
    )
    .await;
    assert_eq!(titles(&r), ["Shortest"]);
    // Beside another argument; filters apply to the rows.
    let r = ok(
        &s,
        "POST",
        "/rpc/works_longer",
        "select=title&title=like.S*",
        r#"{"a": {"id": 3}, "min_pages": 50}"#,
    )
    .await;
    let mut found = titles(&r);
    found.sort();
    assert_eq!(found, ["Shortest", "Structured"], "{r}");
    // A null row: the function's argument is null.
    let r = ok(
        &s,
        "POST",
        "/rpc/works_of",
        "select=title",
        r#"{"a": null}"#,
    )
    .await;
    assert_eq!(r, json!([]));
    // A page per parent is repeatable (primary-key order in its window).
    for _ in 0..3 {
        assert_eq!(
            ok(
                &s,
                "GET",
                "/author",
                "select=name,works_of(title)&id=eq.3&works_of.limit=1",
                ""
            )
            .await,
            json!([{"name": "Edsger", "works_of": [{"title": "Structured"}]}])
        );
    }
    // By GET, the object in the query string.
    let r = ok(
        &s,
        "GET",
        "/rpc/works_of",
        "a=%7B%22id%22%3A1%7D&select=title",
        "",
    )
    .await;
    assert_eq!(titles(&r), ["Notes"]);
    // A row is an object.
    let r = call(&s, "POST", "/rpc/works_of", "", &[], r#"{"a": 3}"#).await;
    assert_eq!(r.status, 422, "{}", r.text());
    // Computed relationships of both tables, their `*` without the key
    // the engine joins by, and a computed field of their rows.
    let r = ok(&s, "GET", "/author", "select=name,works_of(*)&id=eq.1", "").await;
    let keys: Vec<&String> = r[0]["works_of"][0]
        .as_object()
        .map(|o| o.keys().collect())
        .unwrap_or_default();
    assert_eq!(
        keys,
        [
            "id",
            "title",
            "author_id",
            "pages",
            "price",
            "printed",
            "summary",
            "feel"
        ],
        "{r}"
    );
    assert_eq!(
        ok(
            &s,
            "GET",
            "/author",
            "select=name,works_of(title,shout)&id=eq.3",
            ""
        )
        .await,
        json!([{"name": "Edsger", "works_of": [
            {"title": "Structured", "shout": "STRUCTURED"},
            {"title": "Shortest", "shout": "SHORTEST"}
        ]}])
    );
    assert_eq!(
        ok(
            &s,
            "GET",
            "/book",
            "select=title,works_of(title)&title=eq.Structured",
            ""
        )
        .await,
        json!([{"title": "Structured", "works_of": [{"title": "Shortest"}]}])
    );
    // A computed relationship is no candidate of an embedding named by
    // its target (PostgREST's `findRel`).
    assert_eq!(
        ok(
            &s,
            "GET",
            "/project",
            "select=name,client(name),other_clients(name)",
            ""
        )
        .await,
        json!([{"name": "Rocket", "client": {"name": "Acme"}, "other_clients": [{"name": "Globex"}]}])
    );
    // A relation named like its target beside another relation to it:
    // the embedding names the entity, both are candidates (PostgREST's
    // 300); a hint chooses.
    let r = call(&s, "GET", "/gig", "select=venue(name)", &[], "").await;
    assert_eq!(
        (r.status, r.json()["code"].clone()),
        (300, json!("PGRST201")),
        "{}",
        r.text()
    );
    assert_eq!(
        r.json()["details"].as_array().map(Vec::len),
        Some(2),
        "{}",
        r.text()
    );
    assert_eq!(
        ok(
            &s,
            "GET",
            "/gig",
            "select=venue!venue_id(name),backup:venue!backup_venue(name)",
            ""
        )
        .await,
        json!([{"venue": {"name": "Hall"}, "backup": {"name": "Club"}}])
    );
    // PostgreSQL's own ambiguity (an overload we do not serve): a 400.
    let r = call(&s, "POST", "/rpc/hum", "", &[], "{}").await;
    assert_eq!(
        (r.status, r.json()["code"].clone()),
        (400, json!("42725")),
        "{}",
        r.text()
    );
}

/// Views over the tables of another schema: the tables' foreign key holds
/// between the views (PostgREST rewrites it onto every view over each
/// side), both ways, under the view's own column names.
#[tokio::test]
async fn relations_between_views() {
    let Some(s) = service().await else { return };
    assert_eq!(
        ok(
            &s,
            "GET",
            "/works",
            "select=title,writers(name)&order=id",
            ""
        )
        .await,
        json!([
            {"title": "Earthsea", "writers": {"name": "Ursula"}},
            {"title": "Invisible Cities", "writers": {"name": "Italo"}},
            {"title": "The Dispossessed", "writers": {"name": "Ursula"}}
        ])
    );
    assert_eq!(
        ok(
            &s,
            "GET",
            "/writers",
            "select=name,works(title)&order=id&works.order=id",
            ""
        )
        .await,
        json!([
            {"name": "Ursula", "works": [{"title": "Earthsea"}, {"title": "The Dispossessed"}]},
            {"name": "Italo", "works": [{"title": "Invisible Cities"}]}
        ])
    );
    // One-to-one between the tables: an object between the views too.
    assert_eq!(
        ok(
            &s,
            "GET",
            "/works",
            "select=title,work_notes(note)&id=lt.3&order=id",
            ""
        )
        .await,
        json!([
            {"title": "Earthsea", "work_notes": {"note": "wizards"}},
            {"title": "Invisible Cities", "work_notes": null}
        ])
    );
}

/// A view PostgreSQL writes through is written like a table: keyed by
/// its table's key under the view's name for it (PostgREST's view keys),
/// inserted, updated, upserted, put and deleted, by filter and by key,
/// with the writer's claims set for the table's trigger. A view the
/// database cannot write (a join) stays read-only.
#[tokio::test]
async fn writes_through_updatable_views() {
    let Some(s) = service().await else { return };
    let doc = ok(&s, "GET", "/discovery", "", "").await;
    let entity = |name: &str| discovered(&doc, name);
    let pens = entity("pens");
    assert_eq!(
        (pens["primary_key"].clone(), pens["read_only"].clone()),
        (json!(["pen_id"]), json!(false))
    );
    let joined = entity("book_with_author");
    assert_eq!(
        (joined["primary_key"].clone(), joined["read_only"].clone()),
        (json!(["id"]), json!(true))
    );
    // Rows of an earlier run, if any.
    call(&s, "DELETE", "/pens", "pen_id=gt.2", &[], "").await;
    // Keyed: rows come in key order without `order`, and by key.
    assert_eq!(
        ok(&s, "GET", "/pens", "select=pen_id,name", "").await,
        json!([{"pen_id": 1, "name": "quill"}, {"pen_id": 2, "name": "fountain"}])
    );
    assert_eq!(
        ok(&s, "GET", "/pens/2", "select=name", "").await,
        json!({"name": "fountain"})
    );
    let alice = Principal::new("alice-1", vec!["authenticated".to_string()]);
    let bob = Principal::new("bob-2", vec!["authenticated".to_string()]);
    let write = |method: &str, query: &str, prefer: &str, body: &str| {
        RestRequest::new(method, "/p/pens", query)
            .header("Content-Type", "application/json")
            .header("Prefer", prefer)
            .body(body.to_string())
    };
    let r = s
        .handle_as(
            write(
                "POST",
                "select=name,stamped",
                "return=representation",
                r#"{"pen_id": 20, "name": "brush"}"#,
            ),
            &alice,
        )
        .await;
    assert_eq!(
        (r.status, r.json()),
        (201, json!([{"name": "brush", "stamped": "alice-1"}])),
        "{}",
        r.text()
    );
    let r = s
        .handle_as(
            write(
                "PATCH",
                "name=eq.brush&select=pen_id,stamped",
                "return=representation",
                r#"{"name": "fine brush"}"#,
            ),
            &bob,
        )
        .await;
    assert_eq!(
        (r.status, r.json()),
        (200, json!([{"pen_id": 20, "stamped": "bob-2"}])),
        "{}",
        r.text()
    );
    // Upsert on the view's key.
    let r = s
        .handle_as(
            write(
                "POST",
                "on_conflict=pen_id&select=pen_id,name",
                "return=representation,resolution=merge-duplicates",
                r#"[{"pen_id": 20, "name": "brush"}, {"pen_id": 21, "name": "nib"}]"#,
            ),
            &alice,
        )
        .await;
    assert_eq!(
        (r.status, r.json()),
        (
            201,
            json!([{"pen_id": 20, "name": "brush"}, {"pen_id": 21, "name": "nib"}])
        ),
        "{}",
        r.text()
    );
    // PostgREST's PUT by the key's filters: inserts (201), then replaces,
    // the trigger stamping each writer.
    for (name, status, who) in [("stylus", 201, &alice), ("stylo", 200, &bob)] {
        let r = s
            .handle_as(
                write(
                    "PUT",
                    "pen_id=eq.22&select=pen_id,name,stamped",
                    "return=representation",
                    &format!(r#"[{{"pen_id": 22, "name": "{name}"}}]"#),
                ),
                who,
            )
            .await;
        assert_eq!(
            (r.status, r.json()),
            (
                status,
                json!([{"pen_id": 22, "name": name, "stamped": who.subject.clone()}])
            ),
            "{}",
            r.text()
        );
    }
    // By key in the path.
    let r = s
        .handle_as(
            RestRequest::new("PATCH", "/p/pens/22", "select=name")
                .header("Content-Type", "application/json")
                .header("Prefer", "return=representation")
                .body(r#"{"name": "quill pen"}"#),
            &alice,
        )
        .await;
    assert_eq!(
        (r.status, r.json()),
        (200, json!([{"name": "quill pen"}])),
        "{}",
        r.text()
    );
    let r = s
        .handle_as(RestRequest::new("DELETE", "/p/pens/22", ""), &alice)
        .await;
    assert_eq!(r.status, 204, "{}", r.text());
    let r = s
        .handle_as(
            write(
                "DELETE",
                "pen_id=gt.2&select=pen_id",
                "return=representation",
                "",
            ),
            &alice,
        )
        .await;
    assert_eq!(
        (r.status, r.json()),
        (200, json!([{"pen_id": 20}, {"pen_id": 21}])),
        "{}",
        r.text()
    );
    // A join view is refused before the database is asked.
    let r = call(
        &s,
        "POST",
        "/book_with_author",
        "",
        &[],
        r#"{"title": "x"}"#,
    )
    .await;
    assert_eq!(r.status, 403, "{}", r.text());
    assert_eq!(
        ok(&s, "GET", "/pens", "select=pen_id", "").await,
        json!([{"pen_id": 1}, {"pen_id": 2}])
    );
}

/// A view over a view takes its table's key and foreign keys through
/// both views (PostgreSQL names the inner view as a column's origin; it
/// is followed to the table, as PostgREST follows it).
#[tokio::test]
async fn views_over_views() {
    let Some(s) = service().await else { return };
    let doc = ok(&s, "GET", "/discovery", "", "").await;
    let again = discovered(&doc, "pens_again");
    assert_eq!(
        (again["primary_key"].clone(), again["read_only"].clone()),
        (json!(["id"]), json!(false))
    );
    assert_eq!(
        ok(
            &s,
            "GET",
            "/pens_again",
            "select=name,caps(color)&id=lt.3&caps.order=id",
            ""
        )
        .await,
        json!([
            {"name": "quill", "caps": [{"color": "black"}, {"color": "red"}]},
            {"name": "fountain", "caps": [{"color": "blue"}]}
        ])
    );
    assert_eq!(
        ok(
            &s,
            "GET",
            "/caps",
            "select=color,pens_again(name)&order=id",
            ""
        )
        .await,
        json!([
            {"color": "black", "pens_again": {"name": "quill"}},
            {"color": "red", "pens_again": {"name": "quill"}},
            {"color": "blue", "pens_again": {"name": "fountain"}}
        ])
    );
}

/// PostgREST's `PUT /{entity}?key=eq.v`: the filters must be the primary
/// key's `eq`s and nothing else (405 `PGRST105`), without `limit` or
/// `offset` (400 `PGRST114`), and the body's key must match them (400
/// `PGRST115`). Nothing is written by a refused `PUT`.
#[tokio::test]
async fn put_by_key_filters() {
    let Some(s) = service().await else { return };
    let body = r#"{"pen_id": 1, "name": "feather"}"#;
    for (query, status, code) in [
        ("name=eq.quill", 405, "PGRST105"),
        ("pen_id=in.(1)", 405, "PGRST105"),
        ("pen_id=not.eq.1", 405, "PGRST105"),
        ("pen_id=eq.1&name=eq.quill", 405, "PGRST105"),
        ("or=(pen_id.eq.1)", 405, "PGRST105"),
        ("", 405, "PGRST105"),
        ("pen_id=eq.1&limit=1", 400, "PGRST114"),
        ("pen_id=eq.1&offset=1", 400, "PGRST114"),
        ("pen_id=eq.2", 400, "PGRST115"),
    ] {
        let r = call(&s, "PUT", "/pens", query, &[], body).await;
        assert_eq!(
            (r.status, r.json()["code"].clone()),
            (status, json!(code)),
            "{query}: {}",
            r.text()
        );
    }
    // On an entity without a primary key too.
    let r = call(&s, "PUT", "/tally", "label=eq.x", &[], r#"{"label": "x"}"#).await;
    assert_eq!(
        (r.status, r.json()["code"].clone()),
        (405, json!("PGRST105")),
        "{}",
        r.text()
    );
    assert_eq!(
        ok(&s, "GET", "/pens", "select=name&pen_id=lt.3", "").await,
        json!([{"name": "quill"}, {"name": "fountain"}])
    );
}

/// A JSON path compared with an object or array literal compares
/// documents (PostgREST's `jsonb` equality): each contains the other.
#[tokio::test]
async fn json_path_equals_a_document() {
    let Some(s) = service().await else { return };
    let ids = |v: J| -> Vec<i64> {
        v.as_array()
            .map(|a| a.iter().filter_map(|r| r["id"].as_i64()).collect())
            .unwrap_or_default()
    };
    for (query, want) in [
        (r#"body->meta=eq.{"n": 3, "ok": true}"#, vec![1]),
        (r#"body->meta=eq.{"ok": true, "n": 3}"#, vec![1]),
        (r#"body->meta=eq.{"n": 3}"#, vec![]),
        (r#"body->tags=eq.["a","b"]"#, vec![1]),
        (r#"body->tags=eq.[]"#, vec![2]),
        (r#"body->tags=neq.[]"#, vec![1]),
        (r#"body->meta=in.({"n":2},[1])"#, vec![3]),
    ] {
        let q = format!("select=id&order=id&{}", query.replace(' ', "%20"));
        assert_eq!(ids(ok(&s, "GET", "/note", &q, "").await), want, "{query}");
    }
    // `->>…::json` reads the text as JSON (PostgreSQL's cast).
    assert_eq!(
        ok(
            &s,
            "GET",
            "/note",
            "select=m:body->>meta::json,t:body->>tags::jsonb&id=in.(1,4)&order=id",
            ""
        )
        .await,
        json!([{"m": {"n": 3, "ok": true}, "t": ["a", "b"]}, {"m": null, "t": null}])
    );
    let r = call(
        &s,
        "GET",
        "/note",
        "select=t:body->>title::json&id=eq.1",
        &[],
        "",
    )
    .await;
    assert_eq!(
        (r.status, r.json()["code"].clone()),
        (400, json!("22P02")),
        "{}",
        r.text()
    );
}

/// PostgREST's single unnamed parameter: a `json`/`jsonb` one takes a
/// `POST`'s whole body, whatever its keys; one of another type is the
/// argument `""`, chosen among overloads by it as a named one is.
#[tokio::test]
async fn unnamed_parameters() {
    let Some(s) = service().await else { return };
    for body in [r#"{"a": [1, 2], "b": null}"#, "[1, 2]", "7", "{}"] {
        let r = ok(&s, "POST", "/rpc/echo_body", "", body).await;
        assert_eq!(r, serde_json::from_str::<J>(body).unwrap_or_default());
    }
    // An overload that takes the keys wins.
    assert_eq!(
        ok(&s, "POST", "/rpc/echo_body", "", r#"{"a": 2}"#).await,
        json!(20)
    );
    assert_eq!(
        ok(&s, "POST", "/rpc/hail", "", r#"{"": "Ann"}"#).await,
        json!("hello Ann")
    );
    // `{}` fits `hail()` and `hail(text DEFAULT …)`: PostgREST's 300.
    let r = call(&s, "POST", "/rpc/hail", "", &[], "{}").await;
    assert_eq!(r.status, 300, "{}", r.text());
    assert_eq!(
        r.json()["message"],
        "Could not choose the best candidate function between: public.hail(), public.hail( => text)"
    );
    // Their parameters are named apart: naming the argument chooses
    // (PostgREST's renaming hint is for overloads named alike).
    assert_eq!(
        r.json()["hint"],
        "name the arguments of one overload only",
        "{}",
        r.text()
    );
    // Not by GET: no body.
    let r = call(&s, "GET", "/rpc/echo_body", "", &[], "").await;
    assert_eq!(
        (r.status, r.json()["code"].clone()),
        (404, json!("PGRST202")),
        "{}",
        r.text()
    );
}

#[tokio::test]
async fn computed_relationships() {
    let Some(s) = service().await else { return };
    // On a function's rows too (ComputedRelsSpec "works with rpc").
    assert_eq!(
        ok(
            &s,
            "GET",
            "/rpc/authors_named",
            "prefix=E&select=name,books_of(title),first:first_book_of(title)&books_of.order=title",
            ""
        )
        .await,
        json!([{
            "name": "Edsger",
            "books_of": [{"title": "Shortest"}, {"title": "Structured"}],
            "first": {"title": "Structured"}
        }])
    );
    // A computed relationship named like a foreign key's relation
    // overrides it: `designer.game` is the function's rows.
    assert_eq!(
        ok(
            &s,
            "GET",
            "/designer",
            "select=name,game(name)&order=id",
            ""
        )
        .await,
        json!([
            {"name": "Sid Meier", "game": [{"name": "Civilization II"}]},
            {"name": "Hideo Kojima", "game": []}
        ])
    );
    // `SETOF … ROWS 1`: to-one, an object (PostgREST's ComputedRelsSpec).
    assert_eq!(
        ok(
            &s,
            "GET",
            "/author",
            "select=name,first:first_book_of(title)&order=id",
            ""
        )
        .await,
        json!([
            {"name": "Ada", "first": {"title": "Notes"}},
            {"name": "Grace", "first": {"title": "Compilers"}},
            {"name": "Edsger", "first": {"title": "Structured"}}
        ])
    );
    assert_eq!(
        ok(
            &s,
            "GET",
            "/author",
            "select=name,books_of(title,author(name))&order=id&books_of.order=title.desc&books_of.limit=1",
            ""
        )
        .await,
        json!([
            {"name": "Ada", "books_of": [{"title": "Notes", "author": {"name": "Ada"}}]},
            {"name": "Grace", "books_of": [{"title": "Compilers", "author": {"name": "Grace"}}]},
            {"name": "Edsger", "books_of": [{"title": "Structured", "author": {"name": "Edsger"}}]}
        ])
    );
    assert_eq!(
        ok(
            &s,
            "GET",
            "/author",
            "select=name,longest_book(title,pages),books_of(title)&id=eq.3&books_of.pages=lt.100",
            ""
        )
        .await,
        json!([{
            "name": "Edsger",
            "longest_book": {"title": "Structured", "pages": 220},
            "books_of": [{"title": "Shortest"}]
        }])
    );
    // As a filter of its parent: `!inner`, `is.null` / `not.is.null`
    // (an `exists` over the function called with the row).
    assert_eq!(
        ok(
            &s,
            "GET",
            "/author",
            "select=name,books_of!inner(title)&books_of.pages=lt.100",
            ""
        )
        .await,
        json!([{"name": "Edsger", "books_of": [{"title": "Shortest"}]}])
    );
    assert_eq!(
        ok(
            &s,
            "GET",
            "/author",
            "select=name,books_of()&books_of.pages=gt.200&books_of=not.is.null&order=id",
            ""
        )
        .await,
        json!([{"name": "Grace"}, {"name": "Edsger"}])
    );
    assert_eq!(
        ok(
            &s,
            "GET",
            "/author",
            "select=name,longest_book()&longest_book.pages=gt.250&longest_book=is.null&order=id",
            ""
        )
        .await,
        json!([{"name": "Ada"}, {"name": "Edsger"}])
    );
    // Aggregates over its rows, per parent, with the embedding's filter.
    assert_eq!(
        ok(
            &s,
            "GET",
            "/author",
            "select=name,books_of(count(),pages.sum()),long:books_of(count())&long.pages=gt.100&order=id",
            ""
        )
        .await,
        json!([
            {"name": "Ada", "books_of": [{"count": 1, "sum": 120}], "long": [{"count": 1}]},
            {"name": "Grace", "books_of": [{"count": 1, "sum": 300}], "long": [{"count": 1}]},
            {"name": "Edsger", "books_of": [{"count": 2, "sum": 310}], "long": [{"count": 1}]}
        ])
    );
    // Ordered by a field of a to-one computed relationship (a LATERAL
    // join of the call); a to-many one cannot order.
    assert_eq!(
        ok(
            &s,
            "GET",
            "/author",
            "select=name&order=longest_book(pages).desc",
            ""
        )
        .await,
        json!([{"name": "Grace"}, {"name": "Edsger"}, {"name": "Ada"}])
    );
    status_is(&s, "GET", "/author", "order=books_of(title)", "", 422, "{}").await;
    // A function returning one row (not `SETOF`) that finds none answers
    // PostgreSQL's row of nulls: an object of nulls, as PostgREST embeds
    // it (an app reading `main_gig.id` gets `null`, not an error).
    assert_eq!(
        ok(
            &s,
            "GET",
            "/venue",
            "select=name,main_gig(id,venue_id)&order=id",
            ""
        )
        .await,
        json!([
            {"name": "Hall", "main_gig": {"id": 1, "venue_id": 1}},
            {"name": "Club", "main_gig": {"id": null, "venue_id": null}}
        ])
    );
}

/// Overloaded functions (item 9): the names of the call's arguments
/// choose the overload, as in PostgREST; none fitting is 404 `PGRST202`,
/// several 300 `PGRST203`, overloads with the same parameter names and
/// other types too (no call can choose between them).
#[tokio::test]
async fn overloaded_functions() {
    let Some(s) = service().await else { return };
    assert_eq!(ok(&s, "GET", "/rpc/area", "w=2&h=3", "").await, json!(6));
    assert_eq!(ok(&s, "GET", "/rpc/area", "side=4", "").await, json!(16));
    assert_eq!(
        ok(&s, "POST", "/rpc/area", "", r#"{"side": 5}"#).await,
        json!(25)
    );
    // `Prefer: params=single-object`: the overload taking one parameter.
    let r = call(
        &s,
        "POST",
        "/rpc/area",
        "",
        &[("Prefer", "params=single-object")],
        "6",
    )
    .await;
    assert_eq!((r.status, r.json()), (200, json!(36)), "{}", r.text());
    assert_eq!(
        ok(&s, "POST", "/rpc/pick", "", r#"{"a": 2, "b": 5}"#).await,
        json!(7)
    );
    for (method, query, body, status, code) in [
        ("GET", "w=2", "", 404, "PGRST202"),
        ("POST", "", r#"{"side": 1, "w": 2}"#, 404, "PGRST202"),
        ("GET", "a=1", "", 300, "PGRST203"),
    ] {
        let path = if query.starts_with('a') {
            "/rpc/pick"
        } else {
            "/rpc/area"
        };
        let r = call(&s, method, path, query, &[], body).await;
        assert_eq!(
            (r.status, r.json()["code"].clone()),
            (status, json!(code)),
            "{}",
            r.text()
        );
    }
    // PostgREST's answer, for a caller who may call them (the service
    // role), and without the signatures for another.
    let service_role = mini_baas::engine::Principal::new("svc", ["service_role".to_string()]);
    for (method, query, body) in [("GET", "x=2", ""), ("POST", "", r#"{"x": 2}"#)] {
        let mut req = RestRequest::new(method, "/p/rpc/twice", query);
        if !body.is_empty() {
            req = req
                .header("Content-Type", "application/json")
                .body(body.to_string());
        }
        let r = s.handle_as(req, &service_role).await;
        assert_eq!(r.status, 300, "{}", r.text());
        assert_eq!(
            r.json(),
            json!({
                "code": "PGRST203",
                "message": "Could not choose the best candidate function between: public.twice(x => integer), public.twice(x => text)",
                "details": null,
                "hint": "Try renaming the parameters or the function itself in the database so function overloading can be resolved"
            }),
            "{}",
            r.text()
        );
    }
    let r = call(&s, "GET", "/rpc/twice", "y=2", &[], "").await;
    assert_eq!(r.status, 404, "{}", r.text());
}

/// Computed fields (item 9): `full_label(author)` is a field of `author`,
/// read when named (not by `*`), filtered and ordered like a column, inside
/// embeddings too, in a write's representation; never written; refused on
/// engines without them.
#[tokio::test]
async fn computed_fields() {
    let Some(s) = service().await else { return };
    assert_eq!(
        ok(
            &s,
            "GET",
            "/author",
            "select=id,full_label&id=lte.2&order=id",
            ""
        )
        .await,
        json!([{"id": 1, "full_label": "Ada (1)"}, {"id": 2, "full_label": "Grace (2)"}])
    );
    // `*` leaves it out; `*,full_label` adds it after the columns.
    let star = ok(&s, "GET", "/author", "id=eq.1", "").await;
    assert!(star[0].get("full_label").is_none(), "{star}");
    let both = ok(
        &s,
        "GET",
        "/author",
        "select=*,label:full_label&id=eq.1",
        "",
    )
    .await;
    assert_eq!(both[0]["label"], "Ada (1)", "{both}");
    assert_eq!(both[0]["name"], "Ada", "{both}");
    // Filters and order, and inside an embedding.
    assert_eq!(
        ok(
            &s,
            "GET",
            "/author",
            "select=id&full_label=like.*r*&order=full_label.desc",
            ""
        )
        .await,
        json!([{"id": 2}, {"id": 3}])
    );
    assert_eq!(
        ok(
            &s,
            "GET",
            "/book",
            "select=title,author(full_label)&id=eq.1",
            ""
        )
        .await,
        json!([{"title": "Notes", "author": {"full_label": "Ada (1)"}}])
    );
    // Not writable; a write's representation computes it.
    let r = call(
        &s,
        "PATCH",
        "/author",
        "id=eq.1",
        &[("Content-Type", "application/json")],
        r#"{"full_label": "x"}"#,
    )
    .await;
    assert_eq!(r.status, 422, "{}", r.text());
    let r = call(
        &s,
        "PATCH",
        "/author",
        "id=eq.1&select=id,full_label",
        &[
            ("Content-Type", "application/json"),
            ("Prefer", "return=representation,tx=rollback"),
        ],
        r#"{"name": "Lovelace"}"#,
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json(), json!([{"id": 1, "full_label": "Lovelace (1)"}]));
}

/// Embedding through views (item 11): a view showing a base table's
/// foreign-key column, under its own name or another, has that foreign
/// key, both ways.
#[tokio::test]
async fn embeds_through_views() {
    let Some(s) = service().await else { return };
    assert_eq!(
        ok(
            &s,
            "GET",
            "/book_with_author",
            "select=title,author(name)&id=eq.1",
            ""
        )
        .await,
        json!([{"title": "Notes", "author": {"name": "Ada"}}])
    );
    assert_eq!(
        ok(
            &s,
            "GET",
            "/author",
            "select=name,book_with_author(title)&id=eq.3&book_with_author.order=title",
            ""
        )
        .await,
        json!([{"name": "Edsger", "book_with_author": [{"title": "Shortest"}, {"title": "Structured"}]}])
    );
    // Renamed columns (`b.author_id AS writer`, `b.id AS book_id`): the
    // view's rule says where they come from.
    assert_eq!(
        ok(
            &s,
            "GET",
            "/book_by",
            "select=title,author(name)&book_id=eq.2",
            ""
        )
        .await,
        json!([{"title": "Compilers", "author": {"name": "Grace"}}])
    );
    assert_eq!(
        ok(
            &s,
            "GET",
            "/author",
            "select=name,book_by(book_id)&id=eq.3&book_by.order=book_id",
            ""
        )
        .await,
        json!([{"name": "Edsger", "book_by": [{"book_id": 3}, {"book_id": 4}]}])
    );
}

const MYSQL: &str = "mysql://baas:baas_pw@127.0.0.1:3306/baas_parity";

/// The service over the MariaDB/MySQL parity database; `None` (skipped,
/// outside CI) when it is missing.
async fn mysql_service() -> Option<Service> {
    let url = std::env::var("BAAS_TEST_PARITY_MYSQL_URL").unwrap_or_else(|_| MYSQL.into());
    match baas_with("p", &url, None).await {
        Ok(b) => Some(Service::new(b)),
        Err(e) => {
            skip_or_fail("BAAS_TEST_PARITY_MYSQL_URL", &e);
            None
        }
    }
}

/// MySQL's updatable views are written like tables, keyed and related
/// as PostgreSQL's are: where a view column comes from is read from the
/// server's text of the view (`p.id AS pen_id` shows `pen.id`), so the
/// view has its table's key (rows read again by it for a
/// representation, a generated key by `LAST_INSERT_ID()`) and foreign
/// keys.
#[tokio::test]
async fn mysql_writes_through_updatable_views() {
    let Some(s) = mysql_service().await else {
        return;
    };
    call(&s, "DELETE", "/pens", "pen_id=gt.2", &[], "").await;
    let r = call(
        &s,
        "POST",
        "/pens",
        "select=name",
        &[("Prefer", "return=representation")],
        r#"{"name": "brush"}"#,
    )
    .await;
    assert_eq!(
        (r.status, r.json()),
        (201, json!([{"name": "brush"}])),
        "{}",
        r.text()
    );
    let r = call(
        &s,
        "PATCH",
        "/pens",
        "name=eq.brush&select=name",
        &[("Prefer", "return=representation")],
        r#"{"name": "nib"}"#,
    )
    .await;
    assert_eq!(
        (r.status, r.json()),
        (200, json!([{"name": "nib"}])),
        "{}",
        r.text()
    );
    assert_eq!(
        ok(
            &s,
            "GET",
            "/pens",
            "select=name,caps(color)&caps.order=id",
            ""
        )
        .await,
        json!([
            {"name": "quill", "caps": [{"color": "black"}, {"color": "red"}]},
            {"name": "fountain", "caps": [{"color": "blue"}]},
            {"name": "nib", "caps": []}
        ])
    );
    assert_eq!(
        ok(
            &s,
            "GET",
            "/caps",
            "select=color,pens(name)&order=id&limit=1",
            ""
        )
        .await,
        json!([{"color": "black", "pens": {"name": "quill"}}])
    );
    let r = call(
        &s,
        "DELETE",
        "/pens",
        "name=eq.nib&select=name",
        &[("Prefer", "return=representation")],
        "",
    )
    .await;
    assert_eq!(
        (r.status, r.json()),
        (200, json!([{"name": "nib"}])),
        "{}",
        r.text()
    );
    assert_eq!(
        ok(&s, "GET", "/pens", "select=pen_id", "").await,
        json!([{"pen_id": 1}, {"pen_id": 2}])
    );
    // A join it writes through, whose rows repeat a pen, has no key; a
    // grouped view is read-only.
    let doc = ok(&s, "GET", "/discovery", "", "").await;
    let entity = |name: &str| discovered(&doc, name);
    assert_eq!(entity("capped_pens")["primary_key"], json!([]));
    assert_eq!(entity("capped_pens")["read_only"], json!(false));
    assert_eq!(entity("cap_counts")["read_only"], json!(true));
    let r = call(&s, "POST", "/cap_counts", "", &[], r#"{"pen_id": 1}"#).await;
    assert_eq!(r.status, 403, "{}", r.text());
}

/// MariaDB/MySQL stored functions at `/rpc` (item 9): scalar results by
/// position, GET only for deterministic ones without SQL or reading it,
/// the database's error for a SIGNAL; procedures answer their first
/// result set (nothing else of a query applies to them) or their `OUT`
/// and `INOUT` parameters' values.
#[tokio::test]
async fn mysql_stored_functions() {
    let Some(s) = mysql_service().await else {
        return;
    };
    assert_eq!(
        ok(&s, "GET", "/rpc/add_them", "a=1&b=2", "").await,
        json!(3)
    );
    assert_eq!(
        ok(&s, "POST", "/rpc/greet", "", r#"{"who": "Ada"}"#).await,
        json!("hello Ada")
    );
    assert_eq!(
        ok(&s, "GET", "/rpc/total_price", "", "").await,
        baas_testkit::dec("57.50")
    );
    let before = ok(&s, "POST", "/rpc/bump", "", r#"{"step": 2}"#).await;
    let after = ok(&s, "POST", "/rpc/bump", "", r#"{"step": 3}"#).await;
    assert_eq!(after.as_i64(), before.as_i64().map(|n| n + 3));
    status_is(
        &s,
        "GET",
        "/rpc/bump",
        "step=1",
        "",
        405,
        "volatile: POST only: {}",
    )
    .await;
    // Every parameter is required (MySQL has no defaults): without one the
    // call fits no function (404 `PGRST202`); a bad argument is a 422
    // before anything runs.
    status_is(&s, "GET", "/rpc/add_them", "a=1", "", 404, "{}").await;
    status_is(&s, "GET", "/rpc/add_them", "a=x&b=1", "", 422, "{}").await;
    let r = call(&s, "GET", "/rpc/fail_with", "msg=nope", &[], "").await;
    assert!(
        (400..500).contains(&r.status) && r.text().contains("nope"),
        "{} {}",
        r.status,
        r.text()
    );
    // Procedures: the rows of the first result set, typed as the server
    // types its columns; arguments bound by position.
    assert_eq!(
        ok(&s, "GET", "/rpc/list_books", "", "").await,
        json!([
            {"id": 1, "title": "Notes", "price": baas_testkit::dec("12.50")},
            {"id": 2, "title": "Compilers", "price": baas_testkit::dec("45.00")}
        ])
    );
    assert_eq!(
        ok(&s, "POST", "/rpc/books_over", "", r#"{"min_price": 20}"#).await,
        json!([{"id": 2, "title": "Compilers", "price": baas_testkit::dec("45.00"), "dear": 1, "note": null}])
    );
    assert_eq!(
        ok(&s, "GET", "/rpc/books_over", "min_price=100", "").await,
        json!([])
    );
    // `limit` stops the reading; a value that is no decimal is a 422
    // before anything runs (never spliced into the CALL).
    assert_eq!(
        ok(&s, "GET", "/rpc/list_books", "limit=1", "").await,
        json!([{"id": 1, "title": "Notes", "price": baas_testkit::dec("12.50")}])
    );
    status_is(
        &s,
        "GET",
        "/rpc/books_over",
        "min_price=1);DROP%20TABLE%20book;--",
        "",
        422,
        "{}",
    )
    .await;
    // Filters, order, `select`, offset, limit and counts apply to the rows
    // of the result set, read in memory (numbers by value, texts by bytes).
    let notes = json!({"id": 1, "title": "Notes", "price": baas_testkit::dec("12.50")});
    let compilers = json!({"id": 2, "title": "Compilers", "price": baas_testkit::dec("45.00")});
    for (qs, want) in [
        ("id=eq.1", json!([notes])),
        ("order=id.desc", json!([compilers, notes])),
        ("offset=1", json!([compilers])),
        ("price=gt.20", json!([compilers])),
        ("price=lte.12.5", json!([notes])),
        ("title=ilike.n*", json!([notes])),
        (
            "or=(id.eq.2,title.eq.Notes)&order=title",
            json!([compilers, notes]),
        ),
        (
            "title=in.(Notes,x)&select=title",
            json!([{"title": "Notes"}]),
        ),
        (
            "select=title,price&order=price.desc&limit=1",
            json!([{"title": "Compilers", "price": baas_testkit::dec("45.00")}]),
        ),
        ("id=gt.5", json!([])),
    ] {
        assert_eq!(ok(&s, "GET", "/rpc/list_books", qs, "").await, want, "{qs}");
    }
    assert_eq!(
        ok(
            &s,
            "POST",
            "/rpc/books_over",
            "select=id,dear&note=is.null&dear=is.true",
            r#"{"min_price": 0}"#
        )
        .await,
        json!([{"id": 2, "dear": 1}])
    );
    // A count is of the rows the filter keeps.
    let r = call(
        &s,
        "GET",
        "/rpc/list_books",
        "price=gt.1&limit=1",
        &[("Prefer", "count=exact")],
        "",
    )
    .await;
    assert_eq!(r.status, 206, "{}", r.text());
    assert_eq!(r.header("content-range"), Some("0-0/2"));
    // A column the rows lack is PostgreSQL's 42703; what memory cannot
    // decide (full-text search, embeddings) a 501 naming the engine.
    let r = call(&s, "GET", "/rpc/list_books", "nope=eq.1", &[], "").await;
    assert_eq!(
        (r.status, r.json()["code"].clone()),
        (400, json!("42703")),
        "{}",
        r.text()
    );
    assert_eq!(
        ok(&s, "GET", "/rpc/list_books", "select=id::text&order=id", "").await,
        json!([{"id": "1"}, {"id": "2"}])
    );
    // Refused whatever the rows: no row is read for `id=eq.999`, and the
    // answer still is the 501.
    for qs in [
        "title=fts.notes",
        "title=match.^N",
        "and=(id.eq.999,title.fts.x)",
    ] {
        let r = call(&s, "GET", "/rpc/list_books", qs, &[], "").await;
        assert_eq!(r.status, 501, "{qs}: {}", r.text());
        assert!(r.text().contains("mysql"), "{qs}: {}", r.text());
    }
    // No result set: []; volatile: POST only; the write is done.
    status_is(&s, "GET", "/rpc/set_hits", "to_n=7", "", 405, "{}").await;
    assert_eq!(
        ok(&s, "POST", "/rpc/set_hits", "", r#"{"to_n": 7}"#).await,
        json!([])
    );
    assert_eq!(
        ok(&s, "POST", "/rpc/bump", "", r#"{"step": 1}"#).await,
        json!(8)
    );
    // A procedure that fails half-way writes nothing (one transaction).
    let r = call(&s, "POST", "/rpc/bump_then_fail", "", &[], "{}").await;
    assert!(
        (400..500).contains(&r.status) && r.text().contains("changed my mind"),
        "{} {}",
        r.status,
        r.text()
    );
    assert_eq!(
        ok(&s, "POST", "/rpc/bump", "", r#"{"step": 1}"#).await,
        json!(9)
    );
    // `Prefer: tx=rollback`: the procedure runs and answers, and what it
    // wrote is rolled back (the counter stays at 9).
    let r = call(
        &s,
        "POST",
        "/rpc/set_hits",
        "",
        &[("Prefer", "tx=rollback")],
        r#"{"to_n": 500}"#,
    )
    .await;
    assert_eq!((r.status, r.json()), (200, json!([])), "{}", r.text());
    assert_eq!(r.header("preference-applied"), Some("tx=rollback"));
    assert_eq!(
        ok(&s, "POST", "/rpc/bump", "", r#"{"step": 1}"#).await,
        json!(10)
    );
    // `max-affected` bounds the rows a call answers: more is PostgREST's
    // 400 `PGRST124` (the call rolled back); as many is the answer.
    let strict = |n: &'static str| [("Prefer", n)];
    let r = call(
        &s,
        "GET",
        "/rpc/list_books",
        "",
        &strict("handling=strict,max-affected=1"),
        "",
    )
    .await;
    assert_eq!(
        (r.status, r.json()["code"].clone()),
        (400, json!("PGRST124")),
        "{}",
        r.text()
    );
    let r = call(
        &s,
        "GET",
        "/rpc/list_books",
        "",
        &strict("handling=strict,max-affected=2"),
        "",
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json().as_array().map(Vec::len), Some(2), "{}", r.text());
    // A procedure that writes, then answers more rows than allowed:
    // nothing it wrote is kept (the counter goes on from 10, not 1010).
    let r = call(
        &s,
        "POST",
        "/rpc/bump_and_list",
        "",
        &strict("handling=strict,max-affected=1"),
        "{}",
    )
    .await;
    assert_eq!(r.status, 400, "{}", r.text());
    assert_eq!(
        ok(&s, "POST", "/rpc/bump", "", r#"{"step": 1}"#).await,
        json!(11)
    );
    // Under `tx=rollback`, `limit` still stops the reading.
    let r = call(
        &s,
        "GET",
        "/rpc/list_books",
        "limit=1",
        &[("Prefer", "tx=rollback")],
        "",
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json().as_array().map(Vec::len), Some(1), "{}", r.text());
    // The first of two result sets, and the connection serves the next
    // call (the rest was discarded).
    assert_eq!(
        ok(&s, "GET", "/rpc/two_sets", "", "").await,
        json!([{"a": 1}])
    );
    for _ in 0..3 {
        assert_eq!(
            ok(&s, "GET", "/rpc/add_them", "a=2&b=2", "").await,
            json!(4)
        );
        assert_eq!(
            ok(&s, "GET", "/rpc/two_sets", "", "").await,
            json!([{"a": 1}])
        );
    }
    // OUT parameters: one object of their values, typed as declared, the
    // arguments in their places between them.
    assert_eq!(
        ok(&s, "GET", "/rpc/plus_one", "a=1", "").await,
        json!({"b": 2})
    );
    assert_eq!(
        ok(&s, "GET", "/rpc/price_range", "above=10", "").await,
        json!({"lo": baas_testkit::dec("12.50"), "hi": baas_testkit::dec("45.00")})
    );
    assert_eq!(
        ok(&s, "GET", "/rpc/price_range", "above=100", "").await,
        json!({"lo": null, "hi": null})
    );
    status_is(&s, "GET", "/rpc/plus_one", "", "", 404, "{}").await;
    // HEAD: the status and headers of GET, no body.
    let r = call(&s, "HEAD", "/rpc/list_books", "", &[], "").await;
    assert_eq!((r.status, r.text().is_empty()), (200, true), "{}", r.text());
    // OpenAPI: a result set of objects, an OUT object with its typed
    // fields, GET only for the non-volatile ones.
    let openapi = ok(&s, "GET", "/openapi.json", "", "").await;
    let paths = &openapi["paths"];
    let answer = |p: &str, m: &str| {
        paths[p][m]["responses"]["200"]["content"]["application/json"]["schema"].clone()
    };
    assert_eq!(
        answer("/rpc/list_books", "get")["type"],
        "array",
        "{openapi}"
    );
    assert_eq!(
        answer("/rpc/plus_one", "get")["type"],
        "object",
        "{openapi}"
    );
    assert!(
        answer("/rpc/plus_one", "get")["properties"]
            .get("b")
            .is_some(),
        "{openapi}"
    );
    assert!(paths["/rpc/set_hits"].get("get").is_none(), "{openapi}");
    assert!(paths["/rpc/set_hits"].get("post").is_some(), "{openapi}");
    // INOUT: an argument, and a value of the answer.
    assert_eq!(
        ok(&s, "GET", "/rpc/twice", "x=21", "").await,
        json!({"x": 42})
    );
    status_is(&s, "GET", "/rpc/twice", "x=a", "", 422, "{}").await;
    let doc = ok(&s, "GET", "/discovery", "", "").await.to_string();
    assert!(
        doc.contains("\"add_them\"")
            && doc.contains("\"list_books\"")
            && doc.contains("\"plus_one\"")
            && doc.contains("\"twice\""),
        "{doc}"
    );
}

/// Full-text search in PostgREST's four syntaxes (item 10): `fts` is
/// `to_tsquery` (`&`, `|`, `!`, quotes, `<->`), `plfts`, `phfts`, `wfts`;
/// on a tsvector column and on text; a malformed query is a 400.
#[tokio::test]
async fn full_text_search_syntaxes() {
    let Some(s) = service().await else { return };
    for (filter, want) in [
        (
            "summary=fts(english).compiler%20%26%20bug",
            vec!["Compilers"],
        ),
        (
            "summary=fts(english).'compiler'%20%26%20'bug'",
            vec!["Compilers"],
        ),
        (
            "summary=fts(english).graphs|bug",
            vec!["Compilers", "Shortest"],
        ),
        (
            "summary=fts(english).program:*%20%26%20!bug",
            vec!["Structured"],
        ),
        ("summary=phfts(english).shortest%20paths", vec!["Shortest"]),
        ("summary=phfts(english).paths%20shortest", vec![]),
        (
            "summary=wfts(english).%22first%20compiler%22%20or%20goto",
            vec!["Compilers", "Structured"],
        ),
        ("summary=plfts(english).engine%20notes", vec!["Notes"]),
        ("title=fts.shortest|notes", vec!["Notes", "Shortest"]),
        // Without a language, the database's default configuration
        // (`english` here, as the fixture sets it): stemmed, stop words
        // dropped, as PostgREST searches.
        ("title=fts.compil", vec!["Compilers"]),
        ("summary=plfts.the%20compilers", vec!["Compilers"]),
    ] {
        assert_eq!(book_titles(&s, filter).await, want, "{filter}");
    }
    status_is(
        &s,
        "GET",
        "/book",
        "summary=fts(english).a%20%26",
        "",
        400,
        "{}",
    )
    .await;
    // A whole JSON document: its string values are searched (keys and
    // numbers are not), as PostgreSQL's `to_tsvector` of `jsonb`.
    for (filter, want) in [
        ("body=fts(english).second", json!([{"id": 2}])),
        ("body=fts.first|third", json!([{"id": 1}, {"id": 3}])),
        ("body=plfts.title", json!([])),
        ("body=wfts(simple).b", json!([{"id": 1}])),
    ] {
        let got = ok(
            &s,
            "GET",
            "/note",
            &format!("select=id&order=id&{filter}"),
            "",
        )
        .await;
        assert_eq!(got, want, "{filter}");
    }
}

/// Range operators on a range column (item 10): `sl sr nxr nxl adj` and
/// `cs cd ov` with a range literal, the literal read as the column's type.
#[tokio::test]
async fn range_operators() {
    let Some(s) = service().await else { return };
    for (filter, want) in [
        ("printed=sl.[1950,1951)", vec!["Notes"]),
        ("printed=sr.[1960,1970)", vec!["Structured"]),
        (
            "printed=adj.[1960,1972)",
            vec!["Compilers", "Structured", "Shortest"],
        ),
        ("printed=ov.[1955,1959]", vec!["Compilers", "Shortest"]),
        ("printed=cs.[1953,1955)", vec!["Compilers"]),
        (
            "printed=cd.[1900,2000)",
            vec!["Compilers", "Structured", "Shortest"],
        ),
        (
            "printed=nxr.[1900,1960)",
            vec!["Notes", "Compilers", "Shortest"],
        ),
        ("printed=nxl.[1955,1960)", vec!["Structured", "Shortest"]),
        (
            "printed=not.sl.[1950,1951)",
            vec!["Compilers", "Structured", "Shortest"],
        ),
        // In a logic tree, a literal with `,` or `)` is quoted, as in PostgREST.
        (
            "or=(printed.sl.\"[1850,1851)\",printed.sr.\"[1970,1971)\")",
            vec!["Notes", "Structured"],
        ),
    ] {
        assert_eq!(book_titles(&s, filter).await, want, "{filter}");
    }
    status_is(
        &s,
        "GET",
        "/book",
        "title=sl.[1,2)",
        "",
        422,
        "not a range field: {}",
    )
    .await;
    status_is(
        &s,
        "GET",
        "/book",
        "printed=sl.[oops",
        "",
        400,
        "a malformed literal: {}",
    )
    .await;
}

/// Item 17, `application/geo+json`, on a PostGIS database (`baas_geo`,
/// `.ci/sql/geo_pg.sql`): a `geometry` column reads as its GeoJSON in JSON
/// (PostGIS's cast, as PostgREST answers it), is written from GeoJSON or
/// WKT, and `Accept: application/geo+json` answers a `FeatureCollection`
/// whose features take the first selected geometry (of a read or of a
/// write's representation); an entity without one answers 406.
#[tokio::test]
async fn postgis_geometry_and_geojson() {
    let url = std::env::var("BAAS_TEST_GEO_PG_URL")
        .unwrap_or_else(|_| "postgres://baas:baas_pw@127.0.0.1:5432/baas_geo".into());
    let s = match baas_with("p", &url, None).await {
        Ok(b) => Service::new(b),
        Err(e) => {
            skip_or_fail("BAAS_TEST_GEO_PG_URL", &e);
            return;
        }
    };
    let crs = json!({"type": "name", "properties": {"name": "EPSG:4326"}});
    // JSON: the geometry's GeoJSON (with the SRID's `crs`), the
    // geography's text form.
    assert_eq!(
        ok(
            &s,
            "GET",
            "/place",
            "select=id,loc,outline,area&id=eq.1",
            ""
        )
        .await,
        json!([{"id": 1,
                "loc": {"type": "Point", "crs": crs, "coordinates": [1.5, 2.25]},
                "outline": {"type": "Polygon", "coordinates": [[[0, 0], [4, 0], [4, 4], [0, 4], [0, 0]]]},
                "area": "0101000020E610000000000000000008400000000000001040"}])
    );
    assert_eq!(
        ok(&s, "GET", "/place", "select=id&loc=is.null", "").await,
        json!([{"id": 3}])
    );
    let geo = [("Accept", "application/geo+json")];
    let r = call(
        &s,
        "GET",
        "/place",
        "select=id,name,loc,region(name)&order=id",
        &geo,
        "",
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(
        r.header("content-type"),
        Some("application/geo+json; charset=utf-8")
    );
    let feature = |g: J, p: J| json!({"type": "Feature", "geometry": g, "properties": p});
    assert_eq!(
        r.json(),
        json!({"type": "FeatureCollection", "features": [
            feature(json!({"type": "Point", "coordinates": [1.5, 2.25]}),
                    json!({"id": 1, "name": "Harbour", "region": {"name": "North"}})),
            feature(json!({"type": "Point", "coordinates": [-0.125, 51.5]}),
                    json!({"id": 2, "name": "Tower", "region": {"name": "North"}})),
            feature(J::Null, json!({"id": 3, "name": "Nowhere", "region": {"name": "South"}})),
        ]})
    );
    // `*`: the first geometry column; an alias names the property; no
    // geometry selected: features without one.
    let r = call(&s, "GET", "/place", "id=eq.1", &geo, "").await;
    let f = &r.json()["features"][0];
    assert_eq!(f["geometry"]["type"], "Point", "{}", r.text());
    assert_eq!(f["properties"]["outline"]["type"], "Polygon");
    let r = call(
        &s,
        "GET",
        "/place",
        "select=id,shape:outline&id=eq.1",
        &geo,
        "",
    )
    .await;
    assert_eq!(
        r.json()["features"][0]["geometry"]["type"],
        "Polygon",
        "{}",
        r.text()
    );
    assert_eq!(r.json()["features"][0]["properties"], json!({"id": 1}));
    let r = call(&s, "GET", "/place", "select=id&id=eq.2", &geo, "").await;
    assert_eq!(
        r.json()["features"],
        json!([feature(J::Null, json!({"id": 2}))]),
        "{}",
        r.text()
    );
    // A function's rows: features too.
    let r = call(
        &s,
        "GET",
        "/rpc/places_of",
        "region=1&select=id,loc&order=id",
        &geo,
        "",
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(
        r.json()["features"],
        json!([
            feature(
                json!({"type": "Point", "coordinates": [1.5, 2.25]}),
                json!({"id": 1})
            ),
            feature(
                json!({"type": "Point", "coordinates": [-0.125, 51.5]}),
                json!({"id": 2})
            )
        ]),
        "{}",
        r.text()
    );
    // No geometry field: 406, for reads and writes alike.
    let r = call(&s, "GET", "/visit", "", &geo, "").await;
    assert_eq!(r.status, 406, "{}", r.text());
    assert_eq!(r.json()["code"], "PGRST107");
    let r = call(
        &s,
        "PATCH",
        "/visit",
        "id=eq.1",
        &[geo[0], ("Prefer", "return=representation")],
        r#"{"id": 1}"#,
    )
    .await;
    assert_eq!(r.status, 406, "{}", r.text());
    // A write's representation as features (nothing else written first).
    call(&s, "DELETE", "/pin", "id=gte.0", &[], "").await;
    let r = call(
        &s,
        "POST",
        "/pin",
        "select=id,at",
        &[geo[0], ("Prefer", "return=representation")],
        r#"{"id": 9, "at": "SRID=4326;POINT(1 2)"}"#,
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(
        r.header("content-type"),
        Some("application/geo+json; charset=utf-8")
    );
    assert_eq!(
        r.json(),
        json!({"type": "FeatureCollection", "features": [
            feature(json!({"type": "Point", "coordinates": [1, 2]}), json!({"id": 9}))
        ]})
    );
    // Written from GeoJSON (SRID 4326 by default) and from EWKT; a
    // malformed geometry is the caller's error.
    call(&s, "DELETE", "/pin", "id=gte.0", &[], "").await;
    let rep = [("Prefer", "return=representation")];
    let r = call(
        &s,
        "POST",
        "/pin",
        "select=id,at",
        &rep,
        r#"[{"id": 1, "at": {"type": "Point", "coordinates": [5, 6]}}, {"id": 2, "at": "SRID=4326;POINT(7 8)"}, {"id": 3, "at": null}]"#,
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(
        r.json(),
        json!([{"id": 1, "at": {"type": "Point", "crs": crs, "coordinates": [5, 6]}},
               {"id": 2, "at": {"type": "Point", "crs": crs, "coordinates": [7, 8]}},
               {"id": 3, "at": null}])
    );
    let r = call(
        &s,
        "PATCH",
        "/pin",
        "id=eq.3",
        &[],
        r#"{"at": "POINT(oops)"}"#,
    )
    .await;
    assert!(
        (400..500).contains(&r.status),
        "a malformed geometry: {} {}",
        r.status,
        r.text()
    );
    call(&s, "DELETE", "/pin", "id=gte.0", &[], "").await;
}

/// The ids of the `/moment` rows a filter selects, in id order, checking
/// the answer is a 200.
async fn moment_ids(s: &Service, filter: &str) -> Vec<i64> {
    let rows = ok(
        s,
        "GET",
        "/moment",
        &format!("select=id&{filter}&order=id"),
        "",
    )
    .await;
    rows.as_array()
        .into_iter()
        .flatten()
        .filter_map(|r| r["id"].as_i64())
        .collect()
}

/// `Prefer: timezone` on PostgreSQL's own values: a function's argument
/// without an offset is a local time of the zone and its answer is
/// written there; the infinities stay as they are.
#[tokio::test]
async fn time_zones_on_functions_and_infinities() {
    let Some(s) = service().await else { return };
    let la = [("Prefer", "timezone=America/Los_Angeles")];
    let r = call(
        &s,
        "GET",
        "/rpc/hour_after",
        "t=2024-01-15T10:00:00",
        &la,
        "",
    )
    .await;
    assert_eq!(
        (r.status, r.json()),
        (200, json!("2024-01-15T11:00:00-08:00"))
    );
    let r = call(
        &s,
        "GET",
        "/rpc/hour_after",
        "t=2024-01-15T10:00:00",
        &[],
        "",
    )
    .await;
    assert_eq!(
        (r.status, r.json()),
        (200, json!("2024-01-15T11:00:00+00:00"))
    );
    let r = call(
        &s,
        "POST",
        "/rpc/hour_after",
        "",
        &la,
        r#"{"t": "2024-07-15T10:00:00Z"}"#,
    )
    .await;
    assert_eq!(
        (r.status, r.json()),
        (200, json!("2024-07-15T04:00:00-07:00"))
    );
    let r = call(
        &s,
        "GET",
        "/moment",
        "select=id,tz&id=lt.3&order=id",
        &la,
        "",
    )
    .await;
    assert_eq!(
        (r.status, r.json()),
        (
            200,
            json!([{"id": 1, "tz": "infinity"}, {"id": 2, "tz": "2020-05-06T03:00:00-07:00"}])
        )
    );
    let r = call(
        &s,
        "GET",
        "/moment",
        "select=id&tz=eq.2020-05-06T03:00:00",
        &la,
        "",
    )
    .await;
    assert_eq!((r.status, r.json()), (200, json!([{"id": 2}])));
    // What PostgreSQL computes is in the zone too (PostgREST's `SET LOCAL
    // timezone`): groups by an instant's date; without the preference,
    // UTC's.
    let groups = "select=day:at::date,count()";
    let r = call(&s, "GET", "/visit", groups, &la, "").await;
    let mut days = r.json();
    if let Some(rows) = days.as_array_mut() {
        rows.sort_by_key(|r| r["day"].as_str().map(str::to_string));
    }
    assert_eq!(
        (r.status, days),
        (
            200,
            json!([{"day": "2024-01-14", "count": 1}, {"day": "2024-01-15", "count": 1}])
        ),
        "{}",
        r.text()
    );
    let r = call(&s, "GET", "/visit", groups, &[], "").await;
    assert_eq!(
        r.json(),
        json!([{"day": "2024-01-15", "count": 2}]),
        "{}",
        r.text()
    );
    // So do an embedding's groups, a to-one spread's beside them, and an
    // aggregate of the date (PostgREST's input cast).
    for (path, query, want) in [
        (
            "/room",
            "select=name,visit(day:at::date,count())",
            json!([{"name": "hall", "visit": [
                {"day": "2024-01-14", "count": 1},
                {"day": "2024-01-15", "count": 1}
            ]}]),
        ),
        (
            "/visit",
            "select=day:at::date,count(),...room(name)",
            json!([
                {"day": "2024-01-14", "count": 1, "name": "hall"},
                {"day": "2024-01-15", "count": 1, "name": "hall"}
            ]),
        ),
        (
            "/visit",
            "select=first:at::date.min(),last:at::date.max()",
            json!([{"first": "2024-01-14", "last": "2024-01-15"}]),
        ),
    ] {
        let r = call(&s, "GET", path, query, &la, "").await;
        let mut got = r.json();
        if let Some(rows) = got.as_array_mut() {
            rows.sort_by_key(|r| r["day"].as_str().map(str::to_string));
        }
        assert_eq!((r.status, got), (200, want), "{query}: {}", r.text());
    }
    // So is what a view computes (the request's session zone): its day
    // and its clock.
    let r = call(&s, "GET", "/visit_local", "select=id,day,clock", &la, "").await;
    assert_eq!(
        (r.status, r.json()),
        (
            200,
            json!([
                {"id": 1, "day": "2024-01-14", "clock": "18:00"},
                {"id": 2, "day": "2024-01-15", "clock": "02:00"}
            ])
        ),
        "{}",
        r.text()
    );
    let utc = [("Prefer", "timezone=UTC")];
    let r = call(&s, "GET", "/visit_local", "select=id,day,clock", &utc, "").await;
    assert_eq!(
        r.json(),
        json!([
            {"id": 1, "day": "2024-01-15", "clock": "02:00"},
            {"id": 2, "day": "2024-01-15", "clock": "10:00"}
        ]),
        "{}",
        r.text()
    );
    // A cast's date computed by mini-baas is the zone's too (a write's
    // representation, rolled back).
    let late = r#"{"id": 9, "tz": "2020-05-06T02:00:00Z"}"#;
    let rep = "select=id,day:tz::date,tz";
    let prefer = |zone: &str| format!("return=representation,tx=rollback{zone}");
    let r = call(
        &s,
        "POST",
        "/moment",
        rep,
        &[("Prefer", &prefer(",timezone=America/Los_Angeles"))],
        late,
    )
    .await;
    assert_eq!(
        (r.status, r.json()),
        (
            201,
            json!([{"id": 9, "day": "2020-05-05", "tz": "2020-05-05T19:00:00-07:00"}])
        ),
        "{}",
        r.text()
    );
    let r = call(&s, "POST", "/moment", rep, &[("Prefer", &prefer(""))], late).await;
    assert_eq!(
        r.json(),
        json!([{"id": 9, "day": "2020-05-06", "tz": "2020-05-06T02:00:00+00:00"}]),
        "{}",
        r.text()
    );
}

/// A write of `/moment` that is rolled back, with its representation.
async fn moment_write(s: &Service, method: &str, query: &str, body: &str) -> RestResponse {
    let prefer = [("Prefer", "return=representation,tx=rollback")];
    call(s, method, "/moment", query, &prefer, body).await
}

/// Item 10 on PostgreSQL: the dates and times no calendar value holds
/// (`infinity`, `-infinity`, years past chrono's, `24:00:00`) read as its
/// JSON writes them, and are written and compared as that text; MySQL's
/// zero-in-dates and durations are no PostgreSQL values (400).
#[tokio::test]
async fn infinite_and_far_dates_read_write_and_filter() {
    let Some(s) = service().await else { return };
    assert_eq!(
        ok(&s, "GET", "/moment", "order=id", "").await,
        json!([
            {"id": 1, "d": "infinity", "t": "24:00:00", "ts": "-infinity", "tz": "infinity"},
            {"id": 2, "d": "2020-05-06", "t": "10:00:00", "ts": "2020-05-06T10:00:00",
             "tz": "2020-05-06T10:00:00+00:00"},
            {"id": 3, "d": "294276-12-31", "t": "00:00:00", "ts": "294276-12-31T23:59:59",
             "tz": "294276-12-31T23:59:59+00:00"}
        ])
    );
    for (filter, want) in [
        ("d=eq.infinity", vec![1]),
        ("ts=eq.-infinity", vec![1]),
        ("d=lt.infinity", vec![2, 3]),
        ("ts=gt.-infinity", vec![2, 3]),
        ("tz=gt.2021-01-01T00:00:00Z", vec![1, 3]),
        ("t=eq.24:00:00", vec![1]),
        ("t=lt.24:00:00", vec![2, 3]),
        ("d=eq.294276-12-31", vec![3]),
        ("d=gte.20000-01-01", vec![1, 3]),
        ("ts=eq.294276-12-31T23:59:59", vec![3]),
        ("tz=eq.294276-12-31T23:59:59Z", vec![3]),
        ("ts=in.(-infinity,2020-05-06T10:00:00)", vec![1, 2]),
        ("or=(d.eq.-infinity,tz.eq.infinity)", vec![1]),
    ] {
        assert_eq!(moment_ids(&s, filter).await, want, "{filter}");
    }
    let r = moment_write(
        &s,
        "POST",
        "",
        r#"{"id": 9, "d": "-infinity", "t": "24:00:00", "ts": "infinity", "tz": "-infinity"}"#,
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(
        r.json(),
        json!([{"id": 9, "d": "-infinity", "t": "24:00:00", "ts": "infinity", "tz": "-infinity"}])
    );
    let r = moment_write(
        &s,
        "PATCH",
        "id=eq.2&select=d,ts,tz",
        r#"{"d": "100000-01-01", "ts": "100000-01-01T10:00:00", "tz": "100000-01-01T10:00:00+00:00"}"#,
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(
        r.json(),
        json!([{"d": "100000-01-01", "ts": "100000-01-01T10:00:00", "tz": "100000-01-01T10:00:00+00:00"}])
    );
    // MySQL's forms, a year before 1 PostgreSQL does not read so, and a
    // timestamp's text in a date: refused before the database.
    for body in [
        r#"{"d": "2020-00-15"}"#,
        r#"{"t": "100:00:00"}"#,
        r#"{"t": "-01:00:00"}"#,
        r#"{"d": "-300000-01-01"}"#,
        r#"{"d": "100000-01-01T10:00:00"}"#,
        r#"{"ts": "100000-01-01"}"#,
        r#"{"ts": "Infinity"}"#,
    ] {
        let r = moment_write(&s, "PATCH", "id=eq.2", body).await;
        assert_eq!(r.status, 422, "{body}: {}", r.text());
    }
    let r = call(&s, "GET", "/moment", "t=eq.100:00:00", &[], "").await;
    assert_eq!(r.status, 422, "{}", r.text());
    // Written as PostgreSQL reads them: a timestamp's text into a date
    // (JavaScript's `toISOString()`), an offset on a timestamp dropped, a
    // timestamp with zone without one in UTC.
    let r = moment_write(
        &s,
        "PATCH",
        "id=eq.2&select=d,ts,tz",
        r#"{"d": "2024-05-01T23:30:00.123+00:00", "ts": "2024-05-01T10:20:30+02:00", "tz": "2024-05-01T10:20:30"}"#,
    )
    .await;
    assert_eq!(
        (r.status, r.json()),
        (
            200,
            json!([{"d": "2024-05-01", "ts": "2024-05-01T10:20:30", "tz": "2024-05-01T10:20:30+00:00"}])
        ),
        "{}",
        r.text()
    );
    // A function's argument too.
    for (d, want) in [("infinity", true), ("20000-01-01", false)] {
        let r = call(&s, "GET", "/rpc/is_forever", &format!("d={d}"), &[], "").await;
        assert_eq!(
            (r.status, r.json()),
            (200, json!(want)),
            "{d}: {}",
            r.text()
        );
    }
    let r = call(&s, "GET", "/rpc/is_forever", "d=2020-00-15", &[], "").await;
    assert_eq!(r.status, 422, "{}", r.text());
    // Nothing was kept.
    assert_eq!(moment_ids(&s, "id=eq.9").await, Vec::<i64>::new());
    assert_eq!(moment_ids(&s, "d=eq.2020-05-06").await, vec![2]);
}

/// On MariaDB/MySQL, whatever time zone tables the server has (the
/// statement holds the zone's offsets): a grouping by an instant's date
/// under `Prefer: timezone` takes the zone's dates, in an embedding of a
/// write's representation and as an aggregate's input too; UTC's
/// otherwise. (baas-server's `values.rs` compares four engines with
/// PostgreSQL's own dates.)
#[tokio::test]
async fn mysql_groups_by_a_zones_date() {
    let Some(s) = mysql_service().await else {
        return;
    };
    let la = [("Prefer", "timezone=America/Los_Angeles")];
    let r = call(&s, "GET", "/visit", "select=id,at&order=id", &la, "").await;
    assert_eq!(
        (r.status, r.json()),
        (
            200,
            json!([
                {"id": 1, "at": "2024-01-14T18:00:00-08:00"},
                {"id": 2, "at": "2024-01-15T02:00:00-08:00"}
            ])
        ),
        "{}",
        r.text()
    );
    let groups = "select=day:at::date,count()&order=day";
    let r = call(&s, "GET", "/visit", groups, &la, "").await;
    assert_eq!(
        (r.status, r.json()),
        (
            200,
            json!([{"day": "2024-01-14", "count": 1}, {"day": "2024-01-15", "count": 1}])
        ),
        "{}",
        r.text()
    );
    // Fourteen hours ahead: the second visit is on the next day there.
    let kiritimati = [("Prefer", "timezone=Pacific/Kiritimati")];
    let r = call(&s, "GET", "/visit", groups, &kiritimati, "").await;
    assert_eq!(
        (r.status, r.json()),
        (
            200,
            json!([{"day": "2024-01-15", "count": 1}, {"day": "2024-01-16", "count": 1}])
        ),
        "{}",
        r.text()
    );
    // Aggregates that compute no date are not bothered by the zone.
    let r = call(&s, "GET", "/visit", "select=count()", &la, "").await;
    assert_eq!(
        (r.status, r.json()),
        (200, json!([{"count": 2}])),
        "{}",
        r.text()
    );
    for utc in [&[][..], &[("Prefer", "timezone=Etc/UTC")][..]] {
        let r = call(&s, "GET", "/visit", groups, utc, "").await;
        assert_eq!(
            (r.status, r.json()),
            (200, json!([{"day": "2024-01-15", "count": 2}])),
            "{}",
            r.text()
        );
    }
    // In an embedding's groups, and as an aggregate's input.
    let r = call(
        &s,
        "GET",
        "/pen",
        "select=id,visit(day:at::date,count())&id=eq.1",
        &la,
        "",
    )
    .await;
    assert_eq!(
        (r.status, r.json()),
        (
            200,
            json!([{"id": 1, "visit": [{"day": "2024-01-14", "count": 1}, {"day": "2024-01-15", "count": 1}]}])
        ),
        "{}",
        r.text()
    );
    let r = call(&s, "GET", "/visit", "select=at::date.min()", &la, "").await;
    assert_eq!(
        (r.status, r.json()),
        (200, json!([{"min": "2024-01-14"}])),
        "{}",
        r.text()
    );
    // In a write's representation (read inside its transaction).
    let r = call(
        &s,
        "PATCH",
        "/pen",
        "id=eq.1&select=id,visit(day:at::date,count())",
        &[(
            "Prefer",
            "return=representation,timezone=America/Los_Angeles",
        )],
        r#"{"name": "quill"}"#,
    )
    .await;
    assert_eq!(
        (r.status, r.json()),
        (
            200,
            json!([{"id": 1, "visit": [{"day": "2024-01-14", "count": 1}, {"day": "2024-01-15", "count": 1}]}])
        ),
        "{}",
        r.text()
    );
}

/// Item 17 on MariaDB: `ANALYZE` of a write runs it, in a transaction
/// that is rolled back, so only where that undoes everything it does: an
/// InnoDB table without triggers (parity.rs plans Chinook's writes). A
/// MyISAM table, or an InnoDB one whose trigger writes to one, is the
/// request's 406 naming why, and nothing is written; the plan without
/// `analyze` runs nothing and is answered.
#[tokio::test]
async fn mariadb_analyzes_only_writes_it_can_undo() {
    let Some(s) = mysql_service().await else {
        return;
    };
    let service_role = mini_baas::engine::Principal::new("svc", ["service_role".to_string()]);
    let plan = |path: &str, accept: &str| {
        RestRequest::new("PATCH", format!("/p{path}"), "id=eq.1")
            .header("Accept", accept)
            .header("Content-Type", "application/json")
            .body(r#"{"body": "changed"}"#.to_string())
    };
    let analyzed = "application/vnd.pgrst.plan+json; options=analyze";
    for (path, why) in [("/jotting", "not InnoDB"), ("/audited", "triggers")] {
        let r = s.handle_as(plan(path, analyzed), &service_role).await;
        assert_eq!(r.status, 406, "{path}: {}", r.text());
        assert_eq!(r.json()["code"], "PGRST107", "{path}");
        assert!(r.text().contains(why), "{path}: {}", r.text());
        let r = s
            .handle_as(plan(path, "application/vnd.pgrst.plan+json"), &service_role)
            .await;
        assert_eq!(r.status, 200, "{path}: {}", r.text());
        assert!(r.json()["query_block"].is_object(), "{path}: {}", r.text());
    }
    let r = call(&s, "GET", "/jotting", "select=id,body&order=id", &[], "").await;
    assert_eq!(r.json(), json!([{"id": 1, "body": "kept"}]), "{}", r.text());
    let r = call(&s, "GET", "/audited", "select=id,body", &[], "").await;
    assert_eq!(r.json(), json!([{"id": 1, "body": "kept"}]), "{}", r.text());
}

/// Item 10 on MariaDB/MySQL: a zero-in-date and `TIME` durations read as
/// their text, and are written and compared as it; PostgreSQL's
/// infinities are no MySQL values (422).
#[tokio::test]
async fn mysql_zero_dates_and_durations_read_write_and_filter() {
    let Some(s) = mysql_service().await else {
        return;
    };
    assert_eq!(
        ok(&s, "GET", "/moment", "order=id", "").await,
        json!([
            {"id": 1, "d": "2020-00-15", "t": "100:00:00", "ts": "2020-01-00T10:00:00"},
            {"id": 2, "d": "2020-05-06", "t": "-01:30:00", "ts": "2020-05-06T10:00:00"}
        ])
    );
    for (filter, want) in [
        ("d=eq.2020-00-15", vec![1]),
        ("d=lt.2020-01-01", vec![1]),
        ("ts=eq.2020-01-00T10:00:00", vec![1]),
        ("t=gt.24:00:00", vec![1]),
        ("t=lt.00:00:00", vec![2]),
        ("t=in.(100:00:00,-01:30:00)", vec![1, 2]),
    ] {
        assert_eq!(moment_ids(&s, filter).await, want, "{filter}");
    }
    let r = moment_write(
        &s,
        "POST",
        "",
        r#"{"id": 9, "d": "2021-00-00", "t": "-838:59:59", "ts": "2021-02-00T00:00:00"}"#,
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(
        r.json(),
        json!([{"id": 9, "d": "2021-00-00", "t": "-838:59:59", "ts": "2021-02-00T00:00:00"}])
    );
    for body in [
        r#"{"d": "infinity"}"#,
        r#"{"t": "24:00:00x"}"#,
        r#"{"ts": "-infinity"}"#,
        r#"{"d": "100000-01-01"}"#,
    ] {
        let r = moment_write(&s, "PATCH", "id=eq.2", body).await;
        assert_eq!(r.status, 422, "{body}: {}", r.text());
    }
    assert_eq!(moment_ids(&s, "id=eq.9").await, Vec::<i64>::new());
}

/// `/rpc` plans (item 17): the service role gets the plan of the
/// statement that reads a function's rows (its aggregates' too), and
/// nothing is called (with `analyze`, it is called and rolled back);
/// another caller, and a MySQL procedure's `CALL`, get a 406.
#[tokio::test]
async fn rpc_execution_plans() {
    let Some(s) = service().await else { return };
    let service_role = mini_baas::engine::Principal::new("svc", ["service_role".to_string()]);
    let plan = |method: &str, path: &str, query: &str, body: &str| {
        let mut req = RestRequest::new(method, format!("/p{path}"), query)
            .header("Accept", "application/vnd.pgrst.plan");
        if !body.is_empty() {
            req = req
                .header("Content-Type", "application/json")
                .body(body.to_string());
        }
        req
    };
    for (method, path, query, body, node) in [
        // An SQL function inlined by the planner: `generate_series`.
        ("GET", "/rpc/series", "n=3", "", "ProjectSet"),
        (
            "GET",
            "/rpc/books_longer_than",
            "min_pages=100&select=pages.sum()",
            "",
            "Aggregate",
        ),
        (
            "POST",
            "/rpc/bump",
            "",
            r#"{"counter_name": "hits", "step": 1000}"#,
            "Function Scan on bump",
        ),
    ] {
        let r = s
            .handle_as(plan(method, path, query, body), &service_role)
            .await;
        assert_eq!(r.status, 200, "{path}?{query}: {}", r.text());
        assert!(r.text().contains(node), "{path}?{query}: {}", r.text());
        let r = s.handle(plan(method, path, query, body)).await;
        assert_eq!(r.status, 406, "{path}, anonymous: {}", r.text());
    }
    // The volatile function was planned, not called.
    let n = ok(&s, "GET", "/counter", "select=n&name=eq.hits", "").await;
    assert!(n[0]["n"].as_i64().is_some_and(|n| n < 1000), "{n}");

    // With `analyze` it runs (the plan shows what it did), inside a
    // transaction that is rolled back: nothing it wrote is kept.
    let r = s
        .handle_as(
            RestRequest::new("POST", "/p/rpc/bump", "")
                .header(
                    "Accept",
                    "application/vnd.pgrst.plan+json; for=\"application/json\"; options=analyze|verbose;",
                )
                .header("Content-Type", "application/json")
                .body(r#"{"counter_name": "hits", "step": 1000}"#),
            &service_role,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let plan = &r.json()[0];
    assert_eq!(plan["Plan"]["Actual Rows"], 1, "{plan}");
    assert!(r.text().contains("bump"), "{plan}");
    let after = ok(&s, "GET", "/counter", "select=n&name=eq.hits", "").await;
    assert_eq!(after, n, "the analyzed call wrote nothing");
    // By `GET`, the analyzed call runs read-only, as PostgREST's `GET`
    // calls a volatile function: one that writes is the 405 `25006`.
    let r = s
        .handle_as(
            RestRequest::new("GET", "/p/rpc/bump", "counter_name=hits&step=1000")
                .header("Accept", "application/vnd.pgrst.plan+json; options=analyze"),
            &service_role,
        )
        .await;
    assert_eq!(r.status, 405, "{}", r.text());
    assert_eq!(r.json()["code"], "25006", "{}", r.text());

    let Some(my) = mysql_service().await else {
        return;
    };
    let json_plan = |path: &str, query: &str| {
        RestRequest::new("GET", format!("/p{path}"), query)
            .header("Accept", "application/vnd.pgrst.plan+json")
    };
    let r = my
        .handle_as(json_plan("/rpc/add_them", "a=1&b=2"), &service_role)
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(r.json()["query_block"].is_object(), "{}", r.text());
    let r = my
        .handle_as(json_plan("/rpc/list_books", ""), &service_role)
        .await;
    assert_eq!(r.status, 406, "{}", r.text());
    assert!(r.text().contains("procedure"), "{}", r.text());
}

/// Variadic functions (PostgREST's): the repeated query argument, or the
/// body's array, is the variadic values (one value: an array of one),
/// passed as `VARIADIC v => …`; discovery lists them.
#[tokio::test]
async fn variadic_functions() {
    let Some(s) = service().await else { return };
    for (method, path, query, body, want) in [
        ("GET", "/rpc/plus", "v=1&v=2&v=3", "", json!(6)),
        ("GET", "/rpc/plus", "v=5", "", json!(5)),
        // PostgreSQL's array literal, as postgrest-js writes an array.
        ("GET", "/rpc/plus", "v=%7B1,2,3%7D", "", json!(6)),
        (
            "GET",
            "/rpc/tagged",
            "label=a&tags={x,\"y,z\"}",
            "",
            json!("a:x,y,z"),
        ),
        ("POST", "/rpc/plus", "", r#"{"v": [1, 2]}"#, json!(3)),
        ("POST", "/rpc/plus", "", r#"{"v": 4}"#, json!(4)),
        ("POST", "/rpc/plus", "", r#"{"v": []}"#, json!(0)),
        (
            "GET",
            "/rpc/tagged",
            "label=a&tags=x&tags=y",
            "",
            json!("a:x,y"),
        ),
        (
            "POST",
            "/rpc/tagged",
            "",
            r#"{"label": "b", "tags": "z"}"#,
            json!("b:z"),
        ),
    ] {
        assert_eq!(
            ok(&s, method, path, query, body).await,
            want,
            "{path}?{query} {body}"
        );
    }
    // A value that is none of the element type; a missing argument (the
    // variadic one has no default: the call fits no function).
    status_is(&s, "GET", "/rpc/plus", "v=1&v=x", "", 422, "{}").await;
    status_is(&s, "GET", "/rpc/plus", "v={1,x}", "", 422, "{}").await;
    status_is(&s, "GET", "/rpc/plus", "v={1,2", "", 400, "{}").await;
    status_is(&s, "GET", "/rpc/plus", "v={1}&v=2", "", 400, "{}").await;
    status_is(
        &s,
        "POST",
        "/rpc/tagged",
        "",
        r#"{"label": "c"}"#,
        404,
        "{}",
    )
    .await;
    let doc = ok(&s, "GET", "/discovery", "", "").await.to_string();
    assert!(
        doc.contains("\"plus\"") && doc.contains("\"tagged\""),
        "{doc}"
    );
}

/// `columns=` on an insert (postgrest-js lists every key of a bulk
/// insert's rows so): a listed field a row lacks is written `null`, as
/// PostgREST writes it (here a `NOT NULL` one: its 23502), or with
/// `Prefer: missing=default` takes its default; unlisted keys are left out.
#[tokio::test]
async fn insert_columns_null_or_default() {
    let Some(s) = service().await else { return };
    let body = r#"[{"name": "c1", "n": 5, "extra": 1}, {"name": "c2"}]"#;
    let r = call(
        &s,
        "POST",
        "/counter",
        "columns=name,n",
        &[("Prefer", "return=representation,tx=rollback")],
        body,
    )
    .await;
    assert_eq!(
        (r.status, r.json()["code"].as_str()),
        (400, Some("23502")),
        "{}",
        r.text()
    );
    let r = call(
        &s,
        "POST",
        "/counter",
        "columns=name,n&order=name",
        &[(
            "Prefer",
            "return=representation,tx=rollback,missing=default",
        )],
        body,
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(
        r.json(),
        json!([{"name": "c1", "n": 5}, {"name": "c2", "n": 0}])
    );
}

/// A merging upsert with `Prefer: missing=default` resets a listed field
/// a row omits to its database default in the existing row (`n DEFAULT
/// 0`), as PostgREST's `SET n = EXCLUDED.n`; without `missing=default`
/// the listed field is written `null` (`n` is `NOT NULL`: its 23502).
#[tokio::test]
async fn upsert_missing_default_writes_the_default() {
    let Some(s) = service().await else { return };
    let merge = "resolution=merge-duplicates,return=representation,tx=rollback";
    let body = r#"[{"name": "hits"}, {"name": "fresh", "n": 3}]"#;
    let r = call(
        &s,
        "POST",
        "/counter",
        "columns=name,n",
        &[("Prefer", &format!("{merge},missing=default"))],
        body,
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(
        r.json(),
        json!([{"name": "hits", "n": 0}, {"name": "fresh", "n": 3}])
    );
    let r = call(
        &s,
        "POST",
        "/counter",
        "columns=name,n",
        &[("Prefer", merge)],
        body,
    )
    .await;
    assert_eq!(
        (r.status, r.json()["code"].as_str()),
        (400, Some("23502")),
        "{}",
        r.text()
    );
}

/// Times as PostgREST answers them (PostgreSQL's JSON with the zone UTC:
/// `select json_build_object('t', '10:00:00.5'::time, 'ts',
/// '2020-05-06T10:00:00.250'::timestamp, 'tz',
/// '2020-05-06T10:00:00.123456Z'::timestamptz)`): fractions without the
/// zeros that end them, `+00:00` for an instant.
#[tokio::test]
async fn times_are_postgresql_json_text() {
    let Some(s) = service().await else { return };
    let r = call(
        &s,
        "POST",
        "/moment",
        "select=t,ts,tz",
        &[("Prefer", "return=representation,tx=rollback")],
        r#"{"id": 90, "t": "10:00:00.500", "ts": "2020-05-06T10:00:00.250", "tz": "2020-05-06T12:00:00.123456+02:00"}"#,
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(
        r.text(),
        r#"[{"t":"10:00:00.5","ts":"2020-05-06T10:00:00.25","tz":"2020-05-06T10:00:00.123456+00:00"}]"#
    );
}

/// `bytea` as PostgREST answers it (PostgreSQL's JSON of a `bytea`, here
/// `select json_agg(b order by id) from blob b`): `\x` and lowercase hex
/// digits; written as that (either case) or as base64; filtered by it.
#[tokio::test]
async fn bytea_is_postgresql_hex_text() {
    let Some(s) = service().await else { return };
    let r = call(&s, "GET", "/blob", "order=id", &[], "").await;
    assert_eq!(
        r.text(),
        r#"[{"id":1,"bytes":"\\x48656c6c6f"},{"id":2,"bytes":null},{"id":3,"bytes":"\\x"}]"#
    );
    let r = call(
        &s,
        "GET",
        "/blob",
        r"bytes=eq.\x48656C6C6F&select=id",
        &[],
        "",
    )
    .await;
    assert_eq!(r.json(), json!([{"id": 1}]), "{}", r.text());
    let r = call(&s, "GET", "/blob", "bytes=eq.SGVsbG8=&select=id", &[], "").await;
    assert_eq!(r.json(), json!([{"id": 1}]), "{}", r.text());
    let r = call(
        &s,
        "POST",
        "/blob",
        "",
        &[("Prefer", "return=representation,tx=rollback")],
        r#"[{"id": 10, "bytes": "\\x00FF"}, {"id": 11, "bytes": "AP8="}]"#,
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(
        r.json(),
        json!([{"id": 10, "bytes": "\\x00ff"}, {"id": 11, "bytes": "\\x00ff"}])
    );
    for bad in [r"\\x0", r"\\x0g", "not base64!"] {
        let r = call(
            &s,
            "POST",
            "/blob",
            "",
            &[("Prefer", "tx=rollback")],
            &format!(r#"{{"id": 12, "bytes": "{bad}"}}"#),
        )
        .await;
        assert_eq!(r.status, 422, "{bad}: {}", r.text());
    }
}

/// `/rpc` answers of values as PostgREST's: `Content-Range` (counted with
/// `Prefer: count=exact`, a 206 for a part), one value asked for with
/// `Accept: …object+json`; a call that may write asked to roll back is
/// refused (it would be committed), and no preference a call does not
/// apply is reported applied.
#[tokio::test]
async fn rpc_values_ranges_and_preferences() {
    let Some(s) = service().await else { return };
    let exact = [("Prefer", "count=exact")];
    let r = call(&s, "GET", "/rpc/series", "n=5&limit=2", &exact, "").await;
    assert_eq!(
        (r.status, r.header("content-range"), r.json()),
        (206, Some("0-1/5"), json!([1, 2])),
        "{}",
        r.text()
    );
    let r = call(&s, "GET", "/rpc/add_them", "a=3&b=4", &exact, "").await;
    assert_eq!(
        (r.status, r.header("content-range"), r.json()),
        (200, Some("0-0/1"), json!(7))
    );
    let r = call(&s, "GET", "/rpc/add_them", "a=3&b=4", &[], "").await;
    assert_eq!(r.header("content-range"), Some("0-0/*"));
    let one = [("Accept", "application/vnd.pgrst.object+json")];
    let r = call(&s, "POST", "/rpc/series", "", &one, r#"{"n": 3}"#).await;
    assert_eq!(
        (r.status, r.json()["code"].as_str()),
        (406, Some("PGRST116"))
    );
    let r = call(&s, "POST", "/rpc/series", "", &one, r#"{"n": 1}"#).await;
    assert_eq!((r.status, r.json()), (200, json!(1)));
    // `tx=rollback`: the call answers what it did, and keeps nothing
    // (other tests bump `hits` by a few meanwhile, never by 1000).
    let rollback = [("Prefer", "tx=rollback")];
    let r = call(
        &s,
        "POST",
        "/rpc/bump",
        "",
        &rollback,
        r#"{"counter_name": "hits", "step": 1000}"#,
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(r.json().as_i64().is_some_and(|n| n >= 1000), "{}", r.text());
    assert_eq!(r.header("preference-applied"), Some("tx=rollback"));
    let r = call(
        &s,
        "POST",
        "/rpc/bump_all",
        "select=name,n&n=gte.1000",
        &rollback,
        r#"{"step": 1000}"#,
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()[0]["name"], "hits", "{}", r.text());
    // Aggregates of a call that writes: the grouping statement (which
    // calls it) is rolled back too.
    let r = call(
        &s,
        "POST",
        "/rpc/bump_all",
        "select=n.sum(),count()",
        &rollback,
        r#"{"step": 1000}"#,
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(
        r.json()[0]["sum"].as_i64().is_some_and(|n| n >= 1000),
        "{}",
        r.text()
    );
    assert_eq!(r.header("preference-applied"), Some("tx=rollback"));
    let n = ok(&s, "GET", "/counter", "select=n&name=eq.hits", "").await;
    assert!(n[0]["n"].as_i64().is_some_and(|n| n < 1000), "{n}");
    // Without the preference, the call is committed.
    let r = call(&s, "POST", "/rpc/bump_all", "", &[], r#"{"step": 0}"#).await;
    assert_eq!(r.status, 200, "{}", r.text());
    // `max-affected` bounds the rows a call answers (PostgREST 13): more
    // is its 400 `PGRST124`, the call rolled back.
    let r = call(
        &s,
        "GET",
        "/rpc/books_longer_than",
        "min_pages=100",
        &[("Prefer", "tx=rollback,handling=strict,max-affected=1")],
        "",
    )
    .await;
    assert_eq!(r.status, 400, "{}", r.text());
    assert_eq!(r.json()["code"], "PGRST124", "{}", r.text());
    let r = call(
        &s,
        "GET",
        "/rpc/books_longer_than",
        "min_pages=100",
        &[("Prefer", "tx=rollback,handling=strict,max-affected=100")],
        "",
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let applied = r.header("preference-applied").unwrap_or_default();
    assert!(
        applied.contains("tx=rollback") && applied.contains("max-affected=100"),
        "{applied}"
    );
    // A call that writes more rows than allowed keeps nothing.
    let before = ok(&s, "GET", "/counter", "select=name,n&order=name", "").await;
    let r = call(
        &s,
        "POST",
        "/rpc/bump_all",
        "",
        &[("Prefer", "handling=strict,max-affected=0")],
        r#"{"step": 1}"#,
    )
    .await;
    assert_eq!(r.status, 400, "{}", r.text());
    assert_eq!(r.json()["code"], "PGRST124", "{}", r.text());
    let after = ok(&s, "GET", "/counter", "select=name,n&order=name", "").await;
    assert!(before.as_array().is_some_and(|a| !a.is_empty()), "{before}");
    assert_eq!(before, after);
}

/// Errors a database function raises for its caller answer as raised, in
/// PostgREST's forms: `RAISE EXCEPTION` with its detail and hint (400
/// `P0001`), `RAISE SQLSTATE 'PT402'` (its status), `RAISE SQLSTATE
/// 'PGRST'` (the body and status as JSON, its headers not sent; JSON that
/// does not parse is a 500 `PGRST121`);
/// a check constraint's refusal is 400 `23514`. MariaDB's `SIGNAL` takes
/// the same forms.
#[tokio::test]
async fn raised_errors_answer_as_raised() {
    let Some(s) = service().await else { return };
    // A `PT` code naming no status, a failed `ASSERT`: 500s with their
    // code and message, as PostgREST's RpcSpec answers them.
    for (function, code, message) in [
        ("raise_bad_pt", "PT40A", "Wrong"),
        ("assert_fails", "P0004", "the assertion failed"),
    ] {
        let r = call(&s, "POST", &format!("/rpc/{function}"), "", &[], "").await;
        assert_eq!(
            (r.status, &r.json()["code"], &r.json()["message"]),
            (500, &json!(code), &json!(message)),
            "{}",
            r.text()
        );
    }
    let r = call(&s, "GET", "/rpc/refuse", "msg=not%20today", &[], "").await;
    assert_eq!(
        (r.status, r.json()),
        (
            400,
            json!({"code": "P0001", "message": "not today", "details": "det", "hint": "hnt"})
        )
    );
    let r = call(&s, "GET", "/rpc/pay", "", &[], "").await;
    assert_eq!(
        (r.status, r.json()),
        (
            402,
            json!({"code": "PT402", "message": "Payment Required",
                   "details": "Quota exceeded", "hint": "Upgrade your plan"})
        )
    );
    let r = call(&s, "GET", "/rpc/teapot", "", &[], "").await;
    assert_eq!(
        (r.status, r.json()),
        (
            418,
            json!({"code": "T418", "message": "I am a teapot",
                   "details": "short and stout", "hint": "try coffee"})
        )
    );
    // The detail's headers are the answer's, but the framing ones.
    assert_eq!(r.header("x-brew"), Some("tea"));
    assert_eq!(r.header("content-length"), None);
    assert_eq!(
        r.header("content-type"),
        Some("application/json; charset=utf-8")
    );
    let r = call(&s, "GET", "/rpc/garbled", "", &[], "").await;
    assert_eq!(
        (r.status, r.json()["code"].as_str()),
        (500, Some("PGRST121"))
    );
    let my = mysql_service().await;
    // A check constraint's refusal, on both engines.
    for service in std::iter::once(&s).chain(my.as_ref()) {
        let r = call(
            service,
            "PATCH",
            "/counter",
            "name=eq.hits",
            &[],
            r#"{"n": -2000000}"#,
        )
        .await;
        assert_eq!(
            (r.status, r.json()["code"].as_str()),
            (400, Some("23514")),
            "{}",
            r.text()
        );
    }
    let Some(my) = my else {
        return;
    };
    let r = call(&my, "GET", "/rpc/pay", "", &[], "").await;
    assert_eq!(
        (r.status, r.json()),
        (
            402,
            json!({"code": "PT402", "message": "Payment Required", "details": null, "hint": null})
        )
    );
    let r = call(&my, "GET", "/rpc/fail_with", "msg=nope", &[], "").await;
    assert_eq!(
        (
            r.status,
            r.json()["code"].as_str(),
            r.json()["message"].as_str()
        ),
        (400, Some("P0001"), Some("nope"))
    );
}

/// Types without a mapping compare and sort in their own type, as in
/// PostgreSQL (and so PostgREST): an interval, a numeric range, an address
/// and money, not their text (`'1 day' < '10:00:00'` as text); `money` and
/// `timetz` read as PostgreSQL writes them; a function returning a range
/// answers its text.
#[tokio::test]
async fn unmapped_types_compare_in_their_own_type() {
    let Some(s) = service().await else { return };
    let ids = |v: J| -> Vec<i64> {
        v.as_array()
            .into_iter()
            .flatten()
            .filter_map(|r| r["id"].as_i64())
            .collect()
    };
    for (query, want) in [
        ("order=took", vec![3, 1, 2]),
        ("order=band", vec![1, 2, 3]),
        ("order=host", vec![3, 1, 2]),
        ("order=amount.desc", vec![2, 3, 1]),
        ("amount=gt.50&order=id", vec![2, 3]),
        ("took=lt.1%20day&order=id", vec![1, 3]),
        ("band=eq.[1,3]", vec![1]),
        ("band=lt.[1,10]", vec![1]),
        ("host=in.(9.1.1.1,10.0.0.10)&order=id", vec![2, 3]),
    ] {
        let rows = ok(&s, "GET", "/ledger", &format!("select=id&{query}"), "").await;
        assert_eq!(ids(rows), want, "{query}");
    }
    // An int4range equal to the stored one once canonical.
    let rows = ok(&s, "GET", "/book", "select=id&printed=eq.[1843,1843]", "").await;
    assert_eq!(ids(rows), vec![1]);
    assert_eq!(
        ok(&s, "GET", "/ledger", "select=amount,at,host&id=eq.2", "").await,
        json!([{"amount": "$24,000.00", "at": "09:00:00+00", "host": "10.0.0.10"}])
    );
    // An array of a type without a mapping: each element as PostgreSQL's
    // JSON writes it (an `inet` without its whole mask).
    assert_eq!(
        ok(&s, "GET", "/ledger", "select=id,peers&order=id", "").await,
        json!([
            {"id": 1, "peers": ["10.0.0.3", "10.1.0.0/16"]},
            {"id": 2, "peers": null},
            {"id": 3, "peers": []}
        ])
    );
    // A value the type does not take is the database's 400.
    let r = call(&s, "GET", "/ledger", "amount=gt.abc", &[], "").await;
    assert_eq!((r.status, r.json()["code"].as_str()), (400, Some("22P02")));
    assert_eq!(
        ok(&s, "GET", "/rpc/span", "lo=1&hi=5", "").await,
        json!("[1,5)")
    );
    // One `OUT` parameter: an object of it, as PostgREST answers.
    assert_eq!(
        ok(&s, "GET", "/rpc/plus_one", "num=5", "").await,
        json!({"num_plus_one": 6})
    );
}

/// Smaller PostgREST semantics: an upsert on a table without a primary key
/// is a plain insert (the preference not applied); rows that set nothing
/// are inserted with their defaults; `POST /rpc` ignores `Range` (it is
/// paged by `limit`/`offset`); a hint that names nothing is a 400
/// `PGRST200` even on a relation's own name; `order` on a to-one embedding
/// is taken (one row: nothing to order).
#[tokio::test]
async fn smaller_postgrest_semantics() {
    let Some(s) = service().await else { return };
    let rolled = [(
        "Prefer",
        "return=representation,tx=rollback,resolution=merge-duplicates",
    )];
    let r = call(
        &s,
        "POST",
        "/tally",
        "",
        &rolled,
        r#"[{"label": "a", "n": 1}]"#,
    )
    .await;
    assert_eq!(
        (r.status, r.json()),
        (201, json!([{"label": "a", "n": 1}])),
        "{}",
        r.text()
    );
    let applied = r.header("preference-applied").unwrap_or_default();
    assert!(!applied.contains("resolution"), "{applied}");
    let rolled = [("Prefer", "return=representation,tx=rollback")];
    let r = call(&s, "POST", "/tally", "", &rolled, "[{}, {}]").await;
    assert_eq!(
        (r.status, r.json()),
        (
            201,
            json!([{"label": null, "n": 0}, {"label": null, "n": 0}])
        ),
        "{}",
        r.text()
    );
    assert_eq!(ok(&s, "GET", "/tally", "", "").await, json!([]));
    let r = call(
        &s,
        "POST",
        "/rpc/series",
        "",
        &[("Range", "0-0")],
        r#"{"n": 3}"#,
    )
    .await;
    assert_eq!(
        (r.status, r.json()),
        (200, json!([1, 2, 3])),
        "{}",
        r.text()
    );
    let r = call(
        &s,
        "POST",
        "/rpc/series",
        "offset=1&limit=1",
        &[],
        r#"{"n": 3}"#,
    )
    .await;
    assert_eq!(r.json(), json!([2]));
    let r = call(&s, "GET", "/book", "select=id,author!nope(name)", &[], "").await;
    assert_eq!(
        (r.status, r.json()["code"].as_str()),
        (400, Some("PGRST200"))
    );
    assert_eq!(
        ok(
            &s,
            "GET",
            "/book",
            "select=id,author(name)&author.order=name.desc&id=eq.1",
            ""
        )
        .await,
        json!([{"id": 1, "author": {"name": "Ada"}}])
    );
}

/// A function returning a composite type that is no table answers rows of
/// its attributes (typed, filtered, ordered, selected like a table's), one
/// returning a domain its base type's value, as PostgREST answers them.
#[tokio::test]
async fn composite_and_domain_results() {
    let Some(s) = service().await else { return };
    assert_eq!(
        ok(&s, "GET", "/rpc/summaries", "min_pages=200", "").await,
        json!([
            {"title": "Compilers", "pages": 300, "price": baas_testkit::dec("45.00")},
            {"title": "Structured", "pages": 220, "price": baas_testkit::dec("30.10")}
        ])
    );
    assert_eq!(
        ok(
            &s,
            "GET",
            "/rpc/summaries",
            "min_pages=0&select=title&pages=lt.150&order=pages.desc",
            ""
        )
        .await,
        json!([{"title": "Notes"}, {"title": "Shortest"}])
    );
    assert_eq!(
        ok(&s, "POST", "/rpc/summary_of", "", r#"{"book_id": 4}"#).await,
        json!({"title": "Shortest", "pages": 90, "price": null})
    );
    assert_eq!(
        ok(
            &s,
            "GET",
            "/rpc/summaries",
            "min_pages=0&select=pages.sum()",
            ""
        )
        .await,
        json!([{"sum": 730}])
    );
    assert_eq!(ok(&s, "GET", "/rpc/doubled", "n=21", "").await, json!(42));
    // Columns of a domain type answer as their base type.
    assert_eq!(
        ok(&s, "GET", "/rpc/sizes", "n=3", "").await,
        json!([{"label": "n", "size": 3}])
    );
    assert_eq!(
        ok(&s, "GET", "/rpc/sized_of", "n=4", "").await,
        json!({"label": "n", "size": 4})
    );
    // The domain's check still holds.
    let r = call(&s, "GET", "/rpc/doubled", "n=-1", &[], "").await;
    assert_eq!(
        (r.status, &r.json()["code"]),
        (400, &json!("23514")),
        "{}",
        r.text()
    );
    let openapi = ok(&s, "GET", "/openapi.json", "", "").await;
    assert!(
        openapi["paths"]["/rpc/summaries"]["get"].is_object(),
        "{}",
        openapi["paths"]["/rpc/summaries"]
    );
}

/// A date in ISO 8601's basic form (`20190101`), as PostgreSQL reads it:
/// in a filter, an argument and a written value (RpcSpec "accepts a
/// variety of arguments").
#[tokio::test]
async fn basic_iso_dates() {
    let Some(s) = service().await else { return };
    assert_eq!(
        ok(&s, "GET", "/author", "select=name&born=eq.18151210", "").await,
        json!([{"name": "Ada"}])
    );
    assert_eq!(
        ok(&s, "POST", "/rpc/is_forever", "", r#"{"d": "20190101"}"#).await,
        json!(false)
    );
    let r = call(
        &s,
        "PATCH",
        "/author",
        "id=eq.1&select=born",
        &[("Prefer", "return=representation, tx=rollback")],
        r#"{"born": "18151211"}"#,
    )
    .await;
    assert_eq!(
        (r.status, r.json()),
        (200, json!([{"born": "1815-12-11"}])),
        "{}",
        r.text()
    );
    let r = call(&s, "GET", "/author", "born=eq.18151310", &[], "").await;
    assert_eq!(r.status, 422, "{}", r.text());
}

/// `char(n)` and `bit(n)` parameters take their arguments whole, as
/// PostgreSQL ignores a parameter's length (PostgREST's RpcSpec "a proc
/// with bit and char parameters"); they were cut to one character.
#[tokio::test]
async fn char_and_bit_arguments_are_not_cut() {
    let Some(s) = service().await else { return };
    let want = json!([{"c_out": "abcdefg", "cs_out": ["abc", "abcdefg"], "b_out": "101"}]);
    assert_eq!(
        ok(
            &s,
            "GET",
            "/rpc/char_param",
            "c=abcdefg&cs={abc,abcdefg}&b=101",
            ""
        )
        .await,
        want
    );
    assert_eq!(
        ok(
            &s,
            "POST",
            "/rpc/char_param",
            "",
            r#"{"c": "abcdefg", "cs": ["abc", "abcdefg"], "b": "101"}"#
        )
        .await,
        want
    );
}

/// A function sees the caller as PostgREST shows it: the verified claims
/// in `request.jwt.claims` (with `sub` and `role`), which Supabase's
/// `auth.uid()` and `auth.jwt()` read, set for the call's transaction only
/// (PostgREST's RpcSpec "HTTP request env vars").
#[tokio::test]
async fn functions_see_the_callers_claims() {
    let Some(s) = service().await else { return };
    let mut alice = Principal::new("alice-1", vec!["authenticated".to_string()]);
    alice
        .claims
        .insert("email".into(), json!("alice@example.com"));
    let r = s
        .handle_as(RestRequest::new("GET", "/p/rpc/my_claims", ""), &alice)
        .await;
    assert_eq!(
        (r.status, r.json()),
        (
            200,
            json!({"sub": "alice-1", "role": "authenticated", "email": "alice@example.com"})
        ),
        "{}",
        r.text()
    );
    let bob = Principal::new("bob-2", vec!["authenticated".to_string()]);
    let post = |p: &Principal, prefer: &str| {
        let req = RestRequest::new("POST", "/p/rpc/bump_for", "")
            .header("Content-Type", "application/json")
            .header("Prefer", prefer)
            .body("{}");
        let p = p.clone();
        let s = &s;
        async move { s.handle_as(req, &p).await }
    };
    // Committed and rolled back alike; nothing leaks to the next call.
    for prefer in ["tx=rollback", "tx=commit"] {
        let r = post(&bob, prefer).await;
        assert_eq!(
            (r.status, r.json()),
            (200, json!("bob-2")),
            "{prefer}: {}",
            r.text()
        );
    }
    let r = s
        .handle_as(
            RestRequest::new("GET", "/p/rpc/my_claims", ""),
            &Principal::anonymous(),
        )
        .await;
    assert_eq!(
        (r.status, r.json()),
        (200, json!({"role": "anon"})),
        "{}",
        r.text()
    );
}

/// A table write and a read that calls a function see the caller's claims
/// as PostgREST sets them for every request: a column default reading
/// `request.jwt.claims` (Supabase's `DEFAULT auth.uid()`), a trigger
/// stamping the role, a computed field comparing the row's owner with the
/// caller; and none of it outlives the request.
#[tokio::test]
async fn writes_and_computed_reads_see_the_callers_claims() {
    let Some(s) = service().await else { return };
    let alice = Principal::new("alice-1", vec!["authenticated".to_string()]);
    let bob = Principal::new("bob-2", vec!["service_role".to_string()]);
    let r = s
        .handle_as(
            RestRequest::new("POST", "/p/memo", "select=body,owner,written_as")
                .header("Content-Type", "application/json")
                .header("Prefer", "return=representation")
                .body(r#"{"body": "alice's"}"#),
            &alice,
        )
        .await;
    assert_eq!(
        (r.status, r.json()),
        (
            201,
            json!([{"body": "alice's", "owner": "alice-1", "written_as": "authenticated"}])
        ),
        "{}",
        r.text()
    );
    // An update runs the trigger with the updater's claims.
    let r = s
        .handle_as(
            RestRequest::new(
                "PATCH",
                "/p/memo",
                "owner=eq.alice-1&select=owner,written_as",
            )
            .header("Content-Type", "application/json")
            .header("Prefer", "return=representation")
            .body(r#"{"body": "edited"}"#),
            &bob,
        )
        .await;
    assert_eq!(
        (r.status, r.json()),
        (
            200,
            json!([{"owner": "alice-1", "written_as": "service_role"}])
        ),
        "{}",
        r.text()
    );
    // A trigger sets the answer's status and headers; a malformed status
    // is PostgREST's 500 PGRST112 and the write is taken back.
    let brew = |body: &'static str| {
        RestRequest::new("POST", "/p/memo", "")
            .header("Content-Type", "application/json")
            .body(format!(r#"{{"body": "{body}"}}"#))
    };
    let r = s.handle_as(brew("brewed"), &alice).await;
    assert_eq!(
        (r.status, r.header("x-memo")),
        (202, Some("brewed")),
        "{}",
        r.text()
    );
    let r = s.handle_as(brew("bad status"), &alice).await;
    assert_eq!(
        (r.status, r.json()["code"].clone()),
        (500, json!("PGRST112"))
    );
    let r = s
        .handle_as(
            RestRequest::new("GET", "/p/memo", "select=body&body=in.(brewed,bad status)"),
            &alice,
        )
        .await;
    assert_eq!(r.json(), json!([{"body": "brewed"}]), "{}", r.text());
    let r = s
        .handle_as(
            RestRequest::new("DELETE", "/p/memo", "body=eq.brewed"),
            &alice,
        )
        .await;
    assert_eq!(r.status, 204, "{}", r.text());
    // A computed field reads them too, on each caller's read.
    for (who, mine) in [(&alice, true), (&bob, false)] {
        let r = s
            .handle_as(
                RestRequest::new("GET", "/p/memo", "select=body,mine&owner=eq.alice-1"),
                who,
            )
            .await;
        assert_eq!(
            (r.status, r.json()),
            (200, json!([{"body": "edited", "mine": mine}])),
            "{}",
            r.text()
        );
    }
    // So does a view that reads them, and a view over it.
    for (who, rows) in [(&alice, json!([{"body": "edited"}])), (&bob, json!([]))] {
        for view in ["my_memo", "my_memo_body"] {
            let r = s
                .handle_as(
                    RestRequest::new("GET", format!("/p/{view}"), "select=body"),
                    who,
                )
                .await;
            assert_eq!(
                (r.status, r.json()),
                (200, rows.clone()),
                "{view}: {}",
                r.text()
            );
        }
    }
    // A rolled-back insert sees them as well; an anonymous write after it
    // gets no owner, the claims of the request before it gone.
    let r = s
        .handle_as(
            RestRequest::new("POST", "/p/memo", "select=owner")
                .header("Content-Type", "application/json")
                .header("Prefer", "return=representation,tx=rollback")
                .body(r#"{"body": "never"}"#),
            &alice,
        )
        .await;
    assert_eq!(
        (r.status, r.json()),
        (201, json!([{"owner": "alice-1"}])),
        "{}",
        r.text()
    );
    let r = s
        .handle_as(
            RestRequest::new("POST", "/p/memo", "select=owner,written_as")
                .header("Content-Type", "application/json")
                .header("Prefer", "return=representation")
                .body(r#"{"body": "anonymous"}"#),
            &Principal::anonymous(),
        )
        .await;
    assert_eq!(
        (r.status, r.json()),
        (201, json!([{"owner": null, "written_as": "anon"}])),
        "{}",
        r.text()
    );
    let r = s
        .handle_as(RestRequest::new("DELETE", "/p/memo", "id=gt.0"), &bob)
        .await;
    assert_eq!(r.status, 204, "{}", r.text());
}

/// The rest of PostgREST's request settings: the method, the path below
/// the REST root (also through `/rest/v1`), the headers and the cookies.
#[tokio::test]
async fn functions_see_the_request() {
    let Some(s) = service().await else { return };
    let who = Principal::new("u", vec!["authenticated".to_string()]);
    for path in ["/p/rpc/my_request", "/p/rest/v1/rpc/my_request"] {
        for method in ["GET", "POST"] {
            let mut req = RestRequest::new(method, path, "")
                .header("X-Custom", "custom value")
                .header("Cookie", "theme=dark; session=abc123");
            if method == "POST" {
                req = req.header("Content-Type", "application/json").body("{}");
            }
            let r = s.handle_as(req, &who).await;
            assert_eq!(
                (r.status, r.json()),
                (
                    200,
                    json!({"method": method, "path": "/rpc/my_request", "custom": "custom value", "session": "abc123"})
                ),
                "{method} {path}: {}",
                r.text()
            );
        }
    }
}

/// A function answers with the status and headers it sets
/// (`response.status`, `response.headers`), as in PostgREST; malformed
/// ones are PostgREST's 500s, and none outlives its call.
#[tokio::test]
async fn functions_set_the_status_and_headers() {
    let Some(s) = service().await else { return };
    let who = Principal::new("u", vec!["authenticated".to_string()]);
    let get = |path: &'static str| {
        let s = &s;
        let who = who.clone();
        async move { s.handle_as(RestRequest::new("GET", path, ""), &who).await }
    };
    let r = get("/p/rpc/brew").await;
    assert_eq!(
        (
            r.status,
            r.json(),
            r.header("x-brew"),
            r.header("cache-control")
        ),
        (
            418,
            json!("short and stout"),
            Some("earl grey"),
            Some("no-store")
        ),
        "{}",
        r.text()
    );
    let r = get("/p/rpc/bad_status").await;
    assert_eq!(
        (r.status, r.json()["code"].clone()),
        (500, json!("PGRST112")),
        "{}",
        r.text()
    );
    let r = get("/p/rpc/bad_headers").await;
    assert_eq!(
        (r.status, r.json()["code"].clone()),
        (500, json!("PGRST111")),
        "{}",
        r.text()
    );
    // The next call on any connection answers its own status.
    for _ in 0..4 {
        let r = get("/p/rpc/my_request").await;
        assert_eq!((r.status, r.header("x-brew")), (200, None), "{}", r.text());
    }
}

/// A tenant that switches to the caller's database role
/// (`database_roles`, PostgREST's `SET LOCAL role`): the database's grants
/// and row-level security apply to every statement of a request (reads,
/// counts, aggregates, writes and their defaults), the rules' AllowAll
/// notwithstanding; a tenant without it reads as its database user.
#[tokio::test]
async fn database_roles_apply_grants_and_row_level_security() {
    let baas =
        Arc::new(Baas::builder(Arc::new(MemoryStore::new()), Arc::new(UrlConnector)).build());
    let mut config = TenantConfig::new("r", pg_url(), TenantMode::Introspected);
    config.database_roles = true;
    if let Err(e) = baas.register_tenant(config, None).await {
        skip_or_fail("BAAS_TEST_PARITY_PG_URL", &e.to_string());
        return;
    }
    let s = Service::new(baas);
    let alice = Principal::new("alice-1", vec!["authenticated".to_string()]);
    let bob = Principal::new("bob-2", vec!["authenticated".to_string()]);
    let svc = Principal::new("svc", vec!["service_role".to_string()]);
    let read = |q: &str| RestRequest::new("GET", "/r/diary", q.to_string());
    let entries = "select=entry&order=entry";
    for (who, want) in [
        (&alice, json!([{"entry": "a1"}, {"entry": "a2"}])),
        (&bob, json!([{"entry": "b1"}])),
        (
            &svc,
            json!([{"entry": "a1"}, {"entry": "a2"}, {"entry": "b1"}]),
        ),
    ] {
        let r = s.handle_as(read(entries), who).await;
        assert_eq!((r.status, r.json()), (200, want), "{}", r.text());
    }
    // anon has no grant on the table: the database's refusal, PostgREST's
    // 401 for a caller without credentials.
    let r = s.handle_as(read(entries), &Principal::anonymous()).await;
    assert_eq!(
        (r.status, r.json()["code"].clone()),
        (401, json!("42501")),
        "{}",
        r.text()
    );
    // Counts and aggregates are the caller's rows only.
    let r = s
        .handle_as(read("select=id").header("Prefer", "count=exact"), &alice)
        .await;
    assert_eq!(r.header("content-range"), Some("0-1/2"), "{}", r.text());
    let r = s.handle_as(read("select=count()"), &bob).await;
    assert_eq!(r.json(), json!([{"count": 1}]), "{}", r.text());
    // A write the policy refuses is the database's 403 and keeps nothing;
    // one it takes gets its owner from the claims.
    let write = |body: &str| {
        RestRequest::new("POST", "/r/diary", "select=owner,entry")
            .header("Content-Type", "application/json")
            .header("Prefer", "return=representation")
            .body(body.to_string())
    };
    let r = s
        .handle_as(write(r#"{"owner": "bob-2", "entry": "forged"}"#), &alice)
        .await;
    assert_eq!(
        (r.status, r.json()["code"].clone()),
        (403, json!("42501")),
        "{}",
        r.text()
    );
    let r = s.handle_as(write(r#"{"entry": "a3"}"#), &alice).await;
    assert_eq!(
        (r.status, r.json()),
        (201, json!([{"owner": "alice-1", "entry": "a3"}])),
        "{}",
        r.text()
    );
    // The engine's own counts run as the caller too: alice's rows are
    // none of bob's to count against `max-affected`.
    let r = s
        .handle_as(
            RestRequest::new("PATCH", "/r/diary", "entry=like.a*")
                .header("Content-Type", "application/json")
                .header("Prefer", "handling=strict, max-affected=0")
                .body(r#"{"entry": "x"}"#),
            &bob,
        )
        .await;
    assert_eq!(r.status, 204, "{}", r.text());
    // bob's update and delete do not reach alice's rows.
    let r = s
        .handle_as(
            RestRequest::new("PATCH", "/r/diary", "entry=eq.a3")
                .header("Content-Type", "application/json")
                .header("Prefer", "return=representation")
                .body(r#"{"entry": "stolen"}"#),
            &bob,
        )
        .await;
    assert_eq!((r.status, r.json()), (200, json!([])), "{}", r.text());
    let r = s
        .handle_as(RestRequest::new("DELETE", "/r/diary", "entry=eq.a3"), &bob)
        .await;
    assert_eq!(r.status, 204, "{}", r.text());
    let r = s.handle_as(read("select=entry&entry=eq.a3"), &alice).await;
    assert_eq!(r.json(), json!([{"entry": "a3"}]), "{}", r.text());
    // An analyzed write's plan runs in the caller's role: `service_role`
    // may only read the diary, so its analyzed insert is the database's
    // refusal (a 403, not a 406); the planner alone runs on the pool.
    let plan = |accept: &str| {
        RestRequest::new("POST", "/r/diary", "")
            .header("Content-Type", "application/json")
            .header("Accept", accept)
            .body(r#"{"owner": "alice-1", "entry": "planned"}"#)
    };
    let r = s
        .handle_as(
            plan("application/vnd.pgrst.plan+json; options=analyze"),
            &svc,
        )
        .await;
    assert_eq!(
        (r.status, r.json()["code"].clone()),
        (403, json!("42501")),
        "{}",
        r.text()
    );
    let r = s
        .handle_as(plan("application/vnd.pgrst.plan+json"), &svc)
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()[0]["Plan"]["Operation"], "Insert", "{}", r.text());
    let r = s
        .handle_as(read("select=entry&entry=eq.planned"), &svc)
        .await;
    assert_eq!(r.json(), json!([]), "{}", r.text());
    let r = s
        .handle_as(
            RestRequest::new("DELETE", "/r/diary", "entry=eq.a3"),
            &alice,
        )
        .await;
    assert_eq!(r.status, 204, "{}", r.text());
    // Only Supabase's API roles are taken (an issuer's claim naming the
    // tenant's own user would escape the policies); the platform's admin
    // acts as the service role.
    for role in ["no_such_role", "baas", "postgres"] {
        let who = Principal::new("g", vec![role.to_string()]);
        let r = s.handle_as(read(entries), &who).await;
        assert_eq!(r.status, 403, "{role}: {}", r.text());
    }
    let admin = Principal::new("admin", vec![mini_baas::engine::ADMIN_ROLE.to_string()]);
    let r = s.handle_as(read(entries), &admin).await;
    assert_eq!(
        (r.status, r.json()),
        (
            200,
            json!([{"entry": "a1"}, {"entry": "a2"}, {"entry": "b1"}])
        ),
        "{}",
        r.text()
    );
    // Without database roles the tenant's user reads every row.
    let Some(plain) = service().await else { return };
    let r = plain
        .handle_as(RestRequest::new("GET", "/p/diary", entries), &alice)
        .await;
    assert_eq!(
        r.json(),
        json!([{"entry": "a1"}, {"entry": "a2"}, {"entry": "b1"}]),
        "{}",
        r.text()
    );
}

/// The claims reach a `CHECK` constraint that reads them, and the trigger
/// of a table a delete cascades to, one step away or two: introspection
/// marks `signed`, `crate` and `shipment` (their writes run with the
/// request settings), not the others.
#[tokio::test]
async fn checks_and_cascades_see_the_callers_claims() {
    let Some(s) = service().await else { return };
    let alice = Principal::new("alice-1", vec!["authenticated".to_string()]);
    let anon = Principal::anonymous();
    let post = |path: &str, body: &str| {
        RestRequest::new("POST", format!("/p/{path}"), "")
            .header("Content-Type", "application/json")
            .body(body.to_string())
    };
    let r = s
        .handle_as(post("signed", r#"{"who": "alice-1"}"#), &alice)
        .await;
    assert_eq!(r.status, 201, "{}", r.text());
    let r = s
        .handle_as(post("signed", r#"{"who": "alice-1"}"#), &anon)
        .await;
    assert_eq!(
        (r.status, r.json()["code"].clone()),
        (400, json!("23514")),
        "{}",
        r.text()
    );
    let r = s
        .handle_as(
            RestRequest::new("DELETE", "/p/signed", "who=eq.alice-1"),
            &alice,
        )
        .await;
    assert_eq!(r.status, 204, "{}", r.text());
    // A crate of our own, with an item the delete cascades to.
    let r = s
        .handle_as(RestRequest::new("DELETE", "/p/crate", "id=eq.77"), &alice)
        .await;
    assert_eq!(r.status, 204, "{}", r.text());
    let r = s.handle_as(post("crate", r#"{"id": 77}"#), &alice).await;
    assert_eq!(r.status, 201, "{}", r.text());
    let r = s
        .handle_as(post("crate_item", r#"{"crate_id": 77}"#), &alice)
        .await;
    assert_eq!(r.status, 201, "{}", r.text());
    let delete = || RestRequest::new("DELETE", "/p/crate", "id=eq.77");
    let r = s.handle_as(delete(), &anon).await;
    assert_eq!(
        (r.status, r.json()["message"].clone()),
        (400, json!("who is deleting?")),
        "{}",
        r.text()
    );
    let r = s.handle_as(delete(), &alice).await;
    assert_eq!(r.status, 204, "{}", r.text());
    let r = s
        .handle_as(
            RestRequest::new("GET", "/p/crate_item", "crate_id=eq.77"),
            &alice,
        )
        .await;
    assert_eq!(r.json(), json!([]), "{}", r.text());
    // Two steps: a shipment's delete cascades through its crates (no
    // trigger of their own) to their items'.
    let delete = || RestRequest::new("DELETE", "/p/shipment", "id=eq.78");
    let r = s.handle_as(delete(), &alice).await;
    assert_eq!(r.status, 204, "{}", r.text());
    for (path, body) in [
        ("shipment", r#"{"id": 78}"#),
        ("crate", r#"{"id": 78, "shipment_id": 78}"#),
        ("crate_item", r#"{"crate_id": 78}"#),
    ] {
        let r = s.handle_as(post(path, body), &alice).await;
        assert_eq!(r.status, 201, "{path}: {}", r.text());
    }
    let r = s.handle_as(delete(), &anon).await;
    assert_eq!(
        (r.status, r.json()["message"].clone()),
        (400, json!("who is deleting?")),
        "{}",
        r.text()
    );
    let r = s.handle_as(delete(), &alice).await;
    assert_eq!(r.status, 204, "{}", r.text());
    let r = s
        .handle_as(RestRequest::new("GET", "/p/crate", "id=eq.78"), &alice)
        .await;
    assert_eq!(r.json(), json!([]), "{}", r.text());
}

/// Composite columns (issue 13, item 14, PostgREST's "Composite / Array
/// Columns"): a composite is its JSON object in attribute order (an array
/// of them, an array of objects; one inside another, a nested object), as
/// PostgREST's JSON of the row writes it; `->`/`->>` step into it in
/// `select`, filters and `order`, `cs` compares objects; a body's object
/// (array of objects) is written back into the type.
#[tokio::test]
async fn composite_columns() {
    let Some(s) = service().await else { return };
    // A row an interrupted run left.
    let _ = call(&s, "DELETE", "/trip", "id=eq.90", &[], "").await;
    let rows = ok(
        &s,
        "GET",
        "/trip",
        "select=id,origin,stops,sight&order=id&id=lt.90",
        "",
    )
    .await;
    assert_eq!(
        rows.to_string(),
        json!([
            {"id": 1,
             "origin": {"city": "Oslo", "lat": 59.9139, "lng": 10.7522},
             "stops": [{"city": "Bergen", "lat": 60.3913, "lng": 5.3221},
                       {"city": "Tromso", "lat": 69.6492, "lng": 18.9553}],
             "sight": {"label": "Fjord", "at": {"city": "Geiranger", "lat": 62.1008, "lng": 7.2059}}},
            {"id": 2, "origin": {"city": "Rome", "lat": 41.9028, "lng": 12.4964}, "stops": [], "sight": null},
            {"id": 3, "origin": null, "stops": null, "sight": null}
        ])
        .to_string()
    );
    for (query, want) in [
        // Paths in select, with aliases, into nested composites and arrays.
        (
            "select=id,city:origin->>city,lat:origin->lat,seen:sight->at->>city,first:stops->0->>city&order=id&id=lt.3",
            json!([
                {"id": 1, "city": "Oslo", "lat": 59.9139, "seen": "Geiranger", "first": "Bergen"},
                {"id": 2, "city": "Rome", "lat": 41.9028, "seen": null, "first": null}
            ]),
        ),
        // Filters at a path: text and numbers.
        ("select=id&origin->>city=eq.Rome", json!([{"id": 2}])),
        ("select=id&origin->lat=gt.50&order=id", json!([{"id": 1}])),
        ("select=id&sight->at->>city=like.Geir*", json!([{"id": 1}])),
        ("select=id&origin->>city=is.null", json!([{"id": 3}])),
        // Containment of objects, and order at a path.
        (r#"select=id&origin=cs.{"city":"Oslo"}"#, json!([{"id": 1}])),
        (
            "select=id&order=origin->lat.desc.nullslast",
            json!([{"id": 1}, {"id": 2}, {"id": 3}]),
        ),
        // PostgreSQL's own cast to an array type: its JSON array, as
        // PostgREST's JSON of the row writes it (not the `{…}` text); the
        // text of a composite is its record text.
        (
            "select=id,s:stops::_text,t:origin::text&id=eq.1",
            json!([{"id": 1, "s": ["(Bergen,60.3913,5.3221)", "(Tromso,69.6492,18.9553)"],
                    "t": "(Oslo,59.9139,10.7522)"}]),
        ),
        // A cast of the text at a path.
        (
            "select=id,lat:origin->>lat::numeric&id=eq.2",
            json!([{"id": 2, "lat": 41.9028}]),
        ),
    ] {
        let got = ok(&s, "GET", "/trip", query, "").await;
        assert_eq!(got, want, "{query}");
    }

    // Written from objects, read back the same; a missing attribute is
    // null, as PostgreSQL fills a row from JSON; null stays null.
    let body = r#"{"id": 90, "name": "west",
        "origin": {"city": "Lima", "lat": -12.0464, "lng": -77.0428},
        "stops": [{"city": "Cusco", "lat": -13.532}],
        "sight": {"label": "Peak", "at": {"city": "Machu Picchu", "lat": -13.1631, "lng": -72.545}}}"#;
    let _ = call(&s, "DELETE", "/trip", "id=eq.90", &[], "").await;
    let r = call(
        &s,
        "POST",
        "/trip",
        "select=id,origin,stops,sight",
        &[("Prefer", "return=representation")],
        body,
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text());
    // The numbers as the type stores them (`numeric(8, 4)`: four decimals).
    assert_eq!(
        r.text(),
        r#"[{"id":90,"origin":{"city":"Lima","lat":-12.0464,"lng":-77.0428},"stops":[{"city":"Cusco","lat":-13.5320,"lng":null}],"sight":{"label":"Peak","at":{"city":"Machu Picchu","lat":-13.1631,"lng":-72.5450}}}]"#
    );
    let r = call(
        &s,
        "PATCH",
        "/trip",
        "id=eq.90&select=origin,stops",
        &[("Prefer", "return=representation")],
        r#"{"origin": null, "stops": [null, {"city": "Ulm"}]}"#,
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(
        r.json(),
        json!([{"origin": null, "stops": [null, {"city": "Ulm", "lat": null, "lng": null}]}])
    );
    // An attribute's value the type refuses, or no object: PostgreSQL's 400.
    for bad in [
        r#"{"origin": {"city": "x", "lat": "north"}}"#,
        r#"{"origin": "Oslo"}"#,
    ] {
        let r = call(&s, "PATCH", "/trip", "id=eq.90", &[], bad).await;
        assert_eq!(r.status, 400, "{bad}: {}", r.text());
    }
    let r = call(&s, "DELETE", "/trip", "id=eq.90", &[], "").await;
    assert!(r.status < 300, "{}", r.text());
}

/// Beside aggregates, `order` names a shown value by its own key, as it
/// names an aggregate's alias: a grouping's alias (also beside a to-one
/// spread, and of two forms of one field), a renamed field's.
#[tokio::test]
async fn aggregates_order_by_their_groups_aliases() {
    let Some(s) = service().await else { return };
    let cases = [
        (
            "select=day:at::date,n:count(),...room(name)&order=day",
            json!([{"day": "2024-01-15", "n": 2, "name": "hall"}]),
        ),
        (
            "select=day:at::date,h:at::time,count(),...room(name)&order=h.desc",
            json!([
                {"day": "2024-01-15", "h": "10:00:00", "count": 1, "name": "hall"},
                {"day": "2024-01-15", "h": "02:00:00", "count": 1, "name": "hall"}
            ]),
        ),
        (
            "select=d:at,count()&order=d.desc",
            json!([
                {"d": "2024-01-15T10:00:00+00:00", "count": 1},
                {"d": "2024-01-15T02:00:00+00:00", "count": 1}
            ]),
        ),
    ];
    for (q, want) in cases {
        let r = call(&s, "GET", "/visit", q, &[], "").await;
        assert_eq!((r.status, r.json()), (200, want), "{q}");
    }
    let r = call(
        &s,
        "GET",
        "/visit",
        "select=day:at::date,count()&order=nope",
        &[],
        "",
    )
    .await;
    assert_eq!(r.status, 422);
    assert!(r.json()["details"].as_str().unwrap().contains("`nope`"));
}
