//! PostgREST parity over HTTP (issue 13) on the four engines: each request
//! goes through the REST service to PostgreSQL, MariaDB, SQLite and MongoDB
//! (tenants `pg`, `my`, `lite`, `mongo`, each loaded with Chinook) and must
//! answer the same status, `Content-Type` and byte-identical body on all of
//! them.

use std::sync::Arc;

use baas_testkit::{Naming, chinook_metadata, fixtures_dir, skip_or_fail};
use mini_baas::engine::{Baas, DecimalFormat, MemoryStore, TenantConfig, TenantMode};
use mini_baas::rest::{RestRequest, RestResponse, Service};
use mini_baas::{SchemaMetadata, UrlConnector};
use serde_json::{Value as J, json};

const TENANTS: [&str; 4] = ["pg", "my", "lite", "mongo"];

fn env_or(name: &str, default: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| default.into())
}

async fn register(
    baas: &Baas,
    id: &str,
    url: &str,
    schema: SchemaMetadata,
    configure: fn(&mut TenantConfig),
) -> Result<(), String> {
    let mut config = TenantConfig::new(id, url, TenantMode::Introspected);
    if url.starts_with("mongodb") {
        // The CI's MongoDB-wire server (SecantusDB, in Python) takes
        // seconds over some `$lookup` pipelines that `mongod` runs in
        // milliseconds: past the default statement timeout (8 s) under a
        // loaded machine. The bound itself is tested in
        // baas-server/tests/timeouts.rs.
        config.limits.statement_timeout_ms = 120_000;
    }
    configure(&mut config);
    baas.register_tenant(config, Some(schema))
        .await
        .map(|_| ())
        .map_err(|e| e.to_string())
}

/// A fresh SQLite file loaded with Chinook (one per test: they run in
/// parallel and some write).
async fn sqlite_chinook(tag: &str) -> String {
    let path = std::env::temp_dir().join(format!("baas-parity-{tag}-{}.db", std::process::id()));
    let _ = std::fs::remove_file(&path);
    let url = format!("sqlite://{}", path.display());
    let script = fixtures_dir().join("chinook/Chinook_Sqlite.sql");
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

/// The service over the four engines; `None` (skipped, outside CI) when a
/// server is missing.
async fn service(tag: &str) -> Option<Service> {
    service_with(tag, |_| {}).await
}

/// [`service`] with tenants configured by `configure` too.
async fn service_with(tag: &str, configure: fn(&mut TenantConfig)) -> Option<Service> {
    let baas =
        Arc::new(Baas::builder(Arc::new(MemoryStore::new()), Arc::new(UrlConnector)).build());
    for (id, var, default, naming) in [
        (
            "pg",
            "BAAS_TEST_PG_URL",
            "postgres://baas:baas_pw@127.0.0.1:5432/chinook",
            Naming::SnakeCase,
        ),
        (
            "my",
            "BAAS_TEST_MYSQL_URL",
            "mysql://baas:baas_pw@127.0.0.1:3306/Chinook",
            Naming::PascalCase,
        ),
        (
            "mongo",
            "BAAS_TEST_MONGO_URL",
            "mongodb://127.0.0.1:27017/chinook?directConnection=true",
            Naming::PascalCase,
        ),
    ] {
        let url = env_or(var, default);
        if let Err(e) = register(&baas, id, &url, chinook_metadata(naming), configure).await {
            skip_or_fail(var, &e);
            return None;
        }
    }
    let lite = sqlite_chinook(tag).await;
    let schema = chinook_metadata(Naming::PascalCase);
    register(&baas, "lite", &lite, schema, configure)
        .await
        .expect("sqlite tenant");
    Some(Service::new(baas))
}

/// One request on every engine: the same status and body everywhere
/// (asserted); returns the PostgreSQL answer.
async fn same(
    s: &Service,
    method: &str,
    path: &str,
    query: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> RestResponse {
    let mut first: Option<RestResponse> = None;
    for t in TENANTS {
        let mut req = RestRequest::new(method, format!("/{t}{path}"), query);
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        if !body.is_empty() {
            if !headers
                .iter()
                .any(|(k, _)| k.eq_ignore_ascii_case("content-type"))
            {
                req = req.header("Content-Type", "application/json");
            }
            req = req.body(body.to_string());
        }
        let r = s.handle(req).await;
        match &first {
            None => first = Some(r),
            Some(f) => {
                assert_eq!(
                    (r.status, r.header("content-type"), r.text()),
                    (f.status, f.header("content-type"), f.text()),
                    "{method} {path}?{query}: {t} differs from pg"
                );
            }
        }
    }
    first.expect("four engines")
}

async fn get_json(s: &Service, path: &str, query: &str) -> J {
    let r = same(s, "GET", path, query, &[], "").await;
    assert_eq!(r.status, 200, "GET {path}?{query}: {}", r.text());
    r.json()
}

/// A request every engine refuses alike with a 400 and the SQLSTATE `code`.
async fn refused(
    s: &Service,
    method: &str,
    path: &str,
    query: &str,
    headers: &[(&str, &str)],
    body: &str,
    code: &str,
) {
    let r = same(s, method, path, query, headers, body).await;
    assert_eq!(
        (r.status, &r.json()["code"]),
        (400, &json!(code)),
        "{method} {path}?{query}: {}",
        r.text()
    );
}

/// A `GET` PostgreSQL answers with `want` and the other engines with a 501
/// naming themselves (a PostgreSQL-only cast).
async fn on_postgres_only(s: &Service, path: &str, query: &str, want: J) {
    for t in TENANTS {
        let r = s
            .handle(RestRequest::new("GET", format!("/{t}{path}"), query))
            .await;
        if t == "pg" {
            assert_eq!(r.json(), want, "{path}?{query}: {}", r.text());
        } else {
            assert_eq!(r.status, 501, "{t} {path}?{query}: {}", r.text());
            let engine = match t {
                "my" => "mysql",
                "lite" => "sqlite",
                _ => "mongodb",
            };
            assert!(r.text().contains(engine), "{t}: {}", r.text());
        }
    }
}

/// Item 1: `select=rel(*)` answers the embed only, at the root and nested,
/// joined (to-one) or batched (to-many, many-to-many).
#[tokio::test]
async fn embed_only_select() {
    let Some(s) = service("embed-only").await else {
        return;
    };
    assert_eq!(
        get_json(
            &s,
            "/album",
            "select=artist(name)&album_id=gte.1&album_id=lte.3&order=album_id"
        )
        .await,
        json!([
            {"artist": {"name": "AC/DC"}},
            {"artist": {"name": "Accept"}},
            {"artist": {"name": "Accept"}}
        ])
    );
    assert_eq!(
        get_json(
            &s,
            "/track",
            "select=track_id,album(artist(*))&track_id=eq.1"
        )
        .await,
        json!([{"track_id": 1, "album": {"artist": {"artist_id": 1, "name": "AC/DC"}}}])
    );
    assert_eq!(
        get_json(
            &s,
            "/artist",
            "select=albums(tracks(track_id))&artist_id=eq.1&albums.order=album_id&albums.tracks.order=track_id&albums.tracks.limit=2"
        )
        .await,
        json!([{"albums": [
            {"tracks": [{"track_id": 1}, {"track_id": 6}]},
            {"tracks": [{"track_id": 15}, {"track_id": 16}]}
        ]}])
    );
    assert_eq!(
        get_json(
            &s,
            "/track",
            "select=playlists(playlist_id)&track_id=eq.1&playlists.order=playlist_id&playlists.limit=2"
        )
        .await,
        json!([{"playlists": [{"playlist_id": 1}, {"playlist_id": 8}]}])
    );
    // An embedding that lists only empty embeddings is empty too
    // (PostgREST's): it filters through `!inner`, it is not shown; beside
    // aggregates too.
    for (path, query, want) in [
        (
            "/track",
            "select=track_id,album!inner(artist!inner())&album.artist.name=eq.Accept&order=track_id&limit=2",
            json!([{"track_id": 2}, {"track_id": 3}]),
        ),
        (
            "/track",
            "select=track_id,album(artist())&track_id=eq.1",
            json!([{"track_id": 1}]),
        ),
        (
            "/track",
            "select=album_id,count(),album!inner(artist!inner())&album.artist.name=eq.Accept&order=album_id",
            json!([{"album_id": 2, "count": 1}, {"album_id": 3, "count": 3}]),
        ),
    ] {
        assert_eq!(get_json(&s, path, query).await, want, "{query}");
    }
}

/// Item 2: `like`/`ilike` take `%` as a wildcard like `*`, `_` as one
/// character, and `\` escapes, as PostgREST does.
#[tokio::test]
async fn like_wildcards_and_escapes() {
    let Some(s) = service("like").await else {
        return;
    };
    let ids = |v: J| -> Vec<i64> {
        v.as_array()
            .map(|a| a.iter().filter_map(|r| r["genre_id"].as_i64()).collect())
            .unwrap_or_default()
    };
    let ours = "genre_id=gte.9300&genre_id=lt.9400";
    same(&s, "DELETE", "/genre", ours, &[], "").await;
    let r = same(
        &s,
        "POST",
        "/genre",
        "",
        &[],
        r#"[{"genre_id": 9301, "name": "100%_off"}, {"genre_id": 9302, "name": "100xyOFF"}, {"genre_id": 9303, "name": "a*b\\c"}]"#,
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text());
    let q = |f: &str| format!("select=genre_id&{ours}&order=genre_id&{f}");
    assert_eq!(
        ids(get_json(&s, "/genre", &q("name=like.100%25_off")).await),
        vec![9301]
    );
    assert_eq!(
        ids(get_json(&s, "/genre", &q("name=ilike.100%25_off")).await),
        vec![9301, 9302]
    );
    assert_eq!(
        ids(get_json(&s, "/genre", &q("name=ilike.100*")).await),
        vec![9301, 9302]
    );
    // Escaped: `\%` and `\_` match themselves only.
    assert_eq!(
        ids(get_json(&s, "/genre", &q("name=ilike.100\\%25\\_*")).await),
        vec![9301]
    );
    // `\*` is a literal star, `\\` a literal backslash.
    assert_eq!(
        ids(get_json(&s, "/genre", &q("name=like.a\\*b\\\\c")).await),
        vec![9303]
    );
    assert_eq!(
        ids(get_json(&s, "/genre", &q("name=like.a\\*b%25")).await),
        vec![9303]
    );
    assert_eq!(
        ids(get_json(&s, "/genre", &q("name=like.a\\*x*")).await),
        Vec::<i64>::new()
    );
    let r = same(&s, "DELETE", "/genre", ours, &[], "").await;
    assert_eq!(r.status, 204, "{}", r.text());
}

/// Item 7: an unknown field beside `*` is the error an unknown field
/// beside a named one is.
#[tokio::test]
async fn unknown_field_beside_star() {
    let Some(s) = service("star").await else {
        return;
    };
    let named = same(&s, "GET", "/artist", "select=artist_id,nope", &[], "").await;
    let starred = same(&s, "GET", "/artist", "select=*,name,nope", &[], "").await;
    assert_eq!(
        (named.status, named.json()["code"].as_str()),
        (400, Some("42703")),
        "{}",
        named.text()
    );
    assert_eq!(
        (starred.status, starred.json()),
        (named.status, named.json())
    );
}

/// Item 8: a merging upsert returns the rows that carry only their key
/// (nothing to update) with the others.
#[tokio::test]
async fn upsert_returns_key_only_rows() {
    let Some(s) = service("upsert").await else {
        return;
    };
    let ours = "genre_id=gte.9400&genre_id=lt.9500";
    same(&s, "DELETE", "/genre", ours, &[], "").await;
    let r = same(
        &s,
        "POST",
        "/genre",
        "",
        &[],
        r#"{"genre_id": 9401, "name": "Kept"}"#,
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text());
    let r = same(
        &s,
        "POST",
        "/genre",
        "",
        &[(
            "Prefer",
            "resolution=merge-duplicates, return=representation",
        )],
        r#"[{"genre_id": 9402}, {"genre_id": 9401}]"#,
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(
        r.json(),
        json!([{"genre_id": 9402, "name": null}, {"genre_id": 9401, "name": "Kept"}])
    );
    let r = same(&s, "DELETE", "/genre", ours, &[], "").await;
    assert_eq!(r.status, 204, "{}", r.text());
}

/// Two to-many relations side by side inside a to-many spread multiply
/// its rows (PostgREST's joins): the tenant's row budget bounds what the
/// joins add, past the rows the database answered, on every engine; one
/// relation alone adds no more than its own rows.
#[tokio::test]
async fn spread_joins_stay_within_the_row_budget() {
    let Some(s) = service_with("spread-joins", |c| c.limits.max_rows = 60).await else {
        return;
    };
    let q = "artist_id=eq.1&albums.order=album_id&albums.tracks.order=track_id";
    let one = get_json(
        &s,
        "/artist",
        &format!("select=...albums(album_id,...tracks(track_id))&{q}"),
    )
    .await;
    assert_eq!(one[0]["track_id"].as_array().map(Vec::len), Some(18));
    let r = same(
        &s,
        "GET",
        "/artist",
        &format!("select=...albums(album_id,...tracks(track_id),again:tracks(track_id))&{q}"),
        &[],
        "",
    )
    .await;
    assert_eq!(
        (r.status, r.json()["code"].as_str()),
        (400, Some("limit_exceeded")),
        "{}",
        r.text()
    );
    assert!(
        r.text().contains("max_rows") && r.text().contains("join"),
        "{}",
        r.text()
    );
}

/// A merging upsert with `Prefer: missing=default` and `columns=`
/// (postgrest-js's `upsert(rows, { defaultToNull: false })`): a listed
/// field a row omits takes its default in an existing row too, as
/// PostgREST's `SET col = EXCLUDED.col` (`name`'s default is null); rows
/// the body does not name keep theirs, and without `columns=` a merge sets
/// only the fields a row gives.
#[tokio::test]
async fn upsert_missing_default_resets_listed_fields() {
    let Some(s) = service("upsert-default").await else {
        return;
    };
    let ours = "genre_id=gte.9860&genre_id=lt.9870";
    same(&s, "DELETE", "/genre", ours, &[], "").await;
    let r = same(
        &s,
        "POST",
        "/genre",
        "",
        &[],
        r#"[{"genre_id": 9861, "name": "Kept"}, {"genre_id": 9862, "name": "Other"}]"#,
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text());
    let merge = [(
        "Prefer",
        "resolution=merge-duplicates, missing=default, return=representation",
    )];
    // Without `columns=`: nothing listed, nothing reset.
    let r = same(&s, "POST", "/genre", "", &merge, r#"{"genre_id": 9861}"#).await;
    assert_eq!(
        (r.status, r.json()),
        (200, json!([{"genre_id": 9861, "name": "Kept"}])),
        "{}",
        r.text()
    );
    let r = same(
        &s,
        "POST",
        "/genre",
        "columns=genre_id,name",
        &merge,
        r#"[{"genre_id": 9861}, {"genre_id": 9863, "name": "New"}]"#,
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(
        r.json(),
        json!([{"genre_id": 9861, "name": null}, {"genre_id": 9863, "name": "New"}])
    );
    let kept = get_json(&s, "/genre", &format!("{ours}&order=genre_id")).await;
    assert_eq!(
        kept,
        json!([
            {"genre_id": 9861, "name": null},
            {"genre_id": 9862, "name": "Other"},
            {"genre_id": 9863, "name": "New"}
        ])
    );
    same(&s, "DELETE", "/genre", ours, &[], "").await;
}

/// PostgREST's bulk insert from CSV (`Content-Type: text/csv`): the same
/// rows, typed by their fields, on every engine; `NULL` is null.
#[tokio::test]
async fn csv_bulk_insert() {
    let Some(s) = service("csv-insert").await else {
        return;
    };
    let ours = "genre_id=gte.9870&genre_id=lt.9880";
    same(&s, "DELETE", "/genre", ours, &[], "").await;
    let r = same(
        &s,
        "POST",
        "/genre",
        "",
        &[
            ("Content-Type", "text/csv"),
            ("Prefer", "return=representation"),
        ],
        "genre_id,name\r\n9871,\"Polka, \"\"fast\"\"\"\r\n9872,NULL\r\n",
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(
        r.json(),
        json!([{"genre_id": 9871, "name": "Polka, \"fast\""}, {"genre_id": 9872, "name": null}])
    );
    // A row of another length writes nothing.
    let r = same(
        &s,
        "POST",
        "/genre",
        "",
        &[("Content-Type", "text/csv")],
        "genre_id,name\n9873,A\n9874\n",
    )
    .await;
    assert_eq!(r.status, 400, "{}", r.text());
    assert_eq!(r.json()["code"], "PGRST102");
    let kept = get_json(
        &s,
        "/genre",
        &format!("{ours}&select=genre_id&order=genre_id"),
    )
    .await;
    assert_eq!(kept, json!([{"genre_id": 9871}, {"genre_id": 9872}]));
    same(&s, "DELETE", "/genre", ours, &[], "").await;
}

/// One request on every engine whose answer may differ only in `details`
/// (a conflict: each engine names its constraint its own way): the same
/// status, `code`, `message` and `hint` everywhere; returns the PostgreSQL
/// body.
async fn same_error(s: &Service, method: &str, path: &str, query: &str, body: &str) -> (u16, J) {
    let mut first: Option<(u16, J)> = None;
    for t in TENANTS {
        let mut req = RestRequest::new(method, format!("/{t}{path}"), query);
        if !body.is_empty() {
            req = req
                .header("Content-Type", "application/json")
                .body(body.to_string());
        }
        let r = s.handle(req).await;
        let b = r.json();
        let key = (
            r.status,
            b["code"].clone(),
            b["message"].clone(),
            b["hint"].clone(),
        );
        match &first {
            None => first = Some((r.status, b)),
            Some((st, f)) => assert_eq!(
                key,
                (
                    *st,
                    f["code"].clone(),
                    f["message"].clone(),
                    f["hint"].clone()
                ),
                "{method} {path}?{query}: {t} differs from pg: {b}"
            ),
        }
    }
    first.expect("four engines")
}

/// Item 4: PostgREST's error codes, the same from every engine.
#[tokio::test]
async fn postgrest_error_codes() {
    let Some(s) = service("errors").await else {
        return;
    };
    let object = [("Accept", "application/vnd.pgrst.object+json")];
    // PGRST205: no such table (PostgREST 13's code, without its hint).
    let r = same(&s, "GET", "/nope", "", &[], "").await;
    assert_eq!(
        (r.status, r.json()),
        (
            404,
            json!({"code": "PGRST205", "message": "Could not find the table 'nope' in the schema cache", "details": null, "hint": null})
        )
    );
    // 42712: one relation embedded twice under one name (PostgreSQL's
    // duplicate alias in PostgREST's statement).
    let r = same(
        &s,
        "GET",
        "/album",
        "select=artist(name),artist(artist_id)",
        &[],
        "",
    )
    .await;
    assert_eq!((r.status, r.json()["code"].as_str()), (400, Some("42712")));
    // 42804: `is.unknown` of a column that is no boolean (PostgreSQL's
    // `IS UNKNOWN` in PostgREST's statement), in PostgreSQL's words.
    for (filter, ty) in [("name", "text"), ("artist_id", "integer")] {
        let r = same(
            &s,
            "GET",
            "/artist",
            &format!("{filter}=is.unknown"),
            &[],
            "",
        )
        .await;
        assert_eq!(
            (
                r.status,
                r.json()["code"].as_str(),
                r.json()["message"].as_str()
            ),
            (
                400,
                Some("42804"),
                Some(
                    format!("argument of IS UNKNOWN must be type boolean, not type {ty}").as_str()
                )
            ),
            "{}",
            r.text()
        );
    }
    // PGRST116: a singular read or write that finds 0 or several rows.
    let r = same(&s, "GET", "/artist", "artist_id=eq.-42", &object, "").await;
    assert_eq!(
        (r.status, r.json()),
        (
            406,
            json!({"code": "PGRST116", "message": "JSON object requested, multiple (or no) rows returned", "details": "The result contains 0 rows", "hint": null})
        )
    );
    let r = same(&s, "GET", "/artist", "artist_id=in.(1,2)", &object, "").await;
    assert_eq!(r.json()["details"], "The result contains 2 rows");
    let r = same(&s, "DELETE", "/genre", "genre_id=eq.-42", &object, "").await;
    assert_eq!(
        (r.status, r.json()["code"].as_str()),
        (406, Some("PGRST116"))
    );
    // A singular insert of several rows (`.insert([a, b]).select().single()`)
    // is refused and writes nothing, as PostgREST's rolled-back statement.
    for prefer in ["return=representation", "return=minimal"] {
        let r = same(
            &s,
            "POST",
            "/genre",
            "",
            &[object[0], ("Prefer", prefer)],
            r#"[{"genre_id": 9701, "name": "a"}, {"genre_id": 9702, "name": "b"}]"#,
        )
        .await;
        assert_eq!(
            (r.status, &r.json()["details"]),
            (406, &json!("The result contains 2 rows")),
            "{prefer}: {}",
            r.text()
        );
    }
    assert_eq!(
        get_json(&s, "/genre", "select=genre_id&genre_id=in.(9701,9702)").await,
        json!([])
    );
    // PGRST200 / PGRST201: no relation, several relations.
    let r = same(&s, "GET", "/album", "select=producer(*)", &[], "").await;
    assert_eq!(
        (r.status, r.json()["code"].as_str()),
        (400, Some("PGRST200"))
    );
    // A self-reference resolves the PostgREST way (the ambiguous case,
    // two foreign keys to one table, is in baas-rest's select tests):
    // the table's name is the one-to-many, the foreign-key column the
    // many-to-one, the referencing column the one-to-many's hint.
    let r = same(
        &s,
        "GET",
        "/employee",
        "select=employee_id,employee(employee_id),reports_to(employee_id)&employee_id=eq.2",
        &[],
        "",
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(
        r.json(),
        json!([{"employee_id": 2, "employee": [{"employee_id": 3}, {"employee_id": 4}, {"employee_id": 5}], "reports_to": {"employee_id": 1}}])
    );
    let r = same(
        &s,
        "GET",
        "/employee",
        "select=employee_id,staff:employee!reports_to(employee_id)&employee_id=eq.6",
        &[],
        "",
    )
    .await;
    assert_eq!(
        r.json(),
        json!([{"employee_id": 6, "staff": [{"employee_id": 7}, {"employee_id": 8}]}])
    );
    // 42703: an unknown column, wherever it is named.
    for q in ["nope=eq.1", "select=nope", "order=nope"] {
        let r = same(&s, "GET", "/artist", q, &[], "").await;
        assert_eq!(
            (
                r.status,
                r.json()["code"].as_str(),
                r.json()["message"].as_str()
            ),
            (
                400,
                Some("42703"),
                Some("column artist.nope does not exist")
            ),
            "{q}"
        );
    }
    // PGRST204: a body's unknown column, reported before anything else
    // the body breaks (here a missing title), on POST and PATCH.
    for (method, query, body) in [
        (
            "POST",
            "",
            r#"{"album_id": 9502, "artist_id": 1, "nope": 1}"#,
        ),
        ("PATCH", "album_id=eq.1", r#"{"nope": 1}"#),
        // `columns=` naming no column, as PostgREST answers it.
        ("PATCH", "album_id=eq.1&columns=nope", r#"{"title": "x"}"#),
        ("POST", "columns=title,nope", r#"{"title": "x"}"#),
    ] {
        let r = same(&s, method, "/album", query, &[], body).await;
        assert_eq!(
            (
                r.status,
                r.json()["code"].as_str(),
                r.json()["message"].as_str()
            ),
            (
                400,
                Some("PGRST204"),
                Some("Could not find the 'nope' column of 'album' in the schema cache")
            ),
            "{method}"
        );
    }
    // 23502: a missing or null value for a non-null field.
    let r = same(
        &s,
        "POST",
        "/album",
        "",
        &[],
        r#"{"album_id": 9501, "artist_id": 1}"#,
    )
    .await;
    assert_eq!(
        (
            r.status,
            r.json()["code"].as_str(),
            r.json()["message"].as_str()
        ),
        (
            400,
            Some("23502"),
            Some(
                "null value in column \"title\" of relation \"album\" violates not-null constraint"
            )
        )
    );
    // 23505: a duplicate key; 23503: a missing referenced row.
    let (status, b) = same_error(
        &s,
        "POST",
        "/genre",
        "",
        r#"{"genre_id": 1, "name": "Again"}"#,
    )
    .await;
    assert_eq!((status, b["code"].as_str()), (409, Some("23505")), "{b}");
    let (status, b) = same_error(
        &s,
        "POST",
        "/album",
        "",
        r#"{"album_id": 9502, "title": "Orphan", "artist_id": 999999}"#,
    )
    .await;
    assert_eq!((status, b["code"].as_str()), (409, Some("23503")), "{b}");
    let r = same(&s, "GET", "/album", "album_id=in.(9501,9502)", &[], "").await;
    assert_eq!(r.json(), json!([]));
}

/// Item 6: `Prefer: handling=strict, max-affected=n` refuses a
/// `PATCH`/`DELETE` touching more than `n` rows, and writes nothing.
#[tokio::test]
async fn max_affected_with_strict_handling() {
    let Some(s) = service("max-affected").await else {
        return;
    };
    let ours = "genre_id=gte.9600&genre_id=lt.9700";
    same(&s, "DELETE", "/genre", ours, &[], "").await;
    let r = same(
        &s,
        "POST",
        "/genre",
        "",
        &[],
        r#"[{"genre_id": 9601, "name": "a"}, {"genre_id": 9602, "name": "b"}, {"genre_id": 9603, "name": "c"}]"#,
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text());
    let strict2 = [("Prefer", "handling=strict, max-affected=2")];
    for method in ["PATCH", "DELETE"] {
        let body = if method == "PATCH" {
            r#"{"name": "z"}"#
        } else {
            ""
        };
        let r = same(&s, method, "/genre", ours, &strict2, body).await;
        assert_eq!(
            (r.status, r.json()),
            (
                400,
                json!({"code": "PGRST124", "message": "Query result exceeds max-affected preference constraint", "details": "The query affects 3 rows", "hint": null})
            ),
            "{method}"
        );
    }
    let names = get_json(&s, "/genre", &format!("select=name&{ours}&order=genre_id")).await;
    assert_eq!(names, json!([{"name": "a"}, {"name": "b"}, {"name": "c"}]));
    // Within the bound, or without strict handling, the write runs.
    let r = same(
        &s,
        "PATCH",
        "/genre",
        &format!("{ours}&genre_id=lte.9602"),
        &[(
            "Prefer",
            "handling=strict, max-affected=2, return=representation",
        )],
        r#"{"name": "z"}"#,
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json().as_array().map(Vec::len), Some(2));
    assert!(
        r.headers
            .iter()
            .any(|(k, v)| k == "preference-applied" && v.contains("max-affected=2")),
        "{:?}",
        r.headers
    );
    let r = same(
        &s,
        "DELETE",
        "/genre",
        ours,
        &[("Prefer", "max-affected=1")],
        "",
    )
    .await;
    assert_eq!(r.status, 204, "{}", r.text());
}

/// `avg()` of integers and decimals is PostgreSQL's `numeric` average on
/// every engine, digit for digit (`avg(1, 2)` is `1.5000000000000000`):
/// the engines answer the sum and the count, and the division is ours,
/// with PostgreSQL's scale; at the top, grouped, inside an embedding, and
/// null over no rows.
#[tokio::test]
async fn averages_are_postgresqls() {
    let Some(s) = service("averages").await else {
        return;
    };
    let n = |text: &str| -> J { serde_json::from_str(text).expect("a number") };
    for (path, query, want) in [
        (
            "/invoice",
            "select=total.avg()",
            json!([{"avg": n("5.6519417475728155")}]),
        ),
        (
            "/track",
            "select=album_id,milliseconds.avg()&album_id=lt.3&order=album_id",
            json!([
                {"album_id": 1, "avg": n("240041.500000000000")},
                {"album_id": 2, "avg": n("342562.000000000000")}
            ]),
        ),
        (
            "/album",
            "select=album_id,tracks(ms:milliseconds.avg())&album_id=lt.3&order=album_id",
            json!([
                {"album_id": 1, "tracks": [{"ms": n("240041.500000000000")}]},
                {"album_id": 2, "tracks": [{"ms": n("342562.000000000000")}]}
            ]),
        ),
        (
            "/invoice",
            "select=total.avg(),count()&customer_id=eq.0",
            json!([{"avg": null, "count": 0}]),
        ),
    ] {
        assert_eq!(get_json(&s, path, query).await, want, "{path}?{query}");
    }
}

/// Seven embedding levels below the root answer alike on every engine
/// (PostgREST has no depth limit; ours bounds statements, the row budget
/// the rows of all levels together); an eighth is refused while parsing.
#[tokio::test]
async fn deep_embeddings() {
    let Some(s) = service("deep_embeddings").await else {
        return;
    };
    let body = get_json(
        &s,
        "/invoice_line",
        "select=invoice_line_id,track(name,album(title,artist(name,albums(title,tracks(name,genre(name,tracks(track_id)))))))\
         &invoice_line_id=eq.1&track.album.artist.albums.order=album_id&track.album.artist.albums.limit=1\
         &track.album.artist.albums.tracks.order=track_id&track.album.artist.albums.tracks.limit=1\
         &track.album.artist.albums.tracks.genre.tracks.order=track_id&track.album.artist.albums.tracks.genre.tracks.limit=2",
    )
    .await;
    assert_eq!(
        body,
        json!([{"invoice_line_id": 1, "track": {
            "name": "Balls to the Wall",
            "album": {"title": "Balls to the Wall", "artist": {"name": "Accept", "albums": [
                {"title": "Balls to the Wall", "tracks": [
                    {"name": "Balls to the Wall", "genre": {"name": "Rock", "tracks": [
                        {"track_id": 1}, {"track_id": 2}
                    ]}}
                ]}
            ]}}
        }}])
    );
    let r = same(
        &s,
        "GET",
        "/artist",
        "select=albums(tracks(album(tracks(album(tracks(album(tracks(*))))))))",
        &[],
        "",
    )
    .await;
    assert_eq!(r.status, 400, "{}", r.text());
}

/// Item 15 (part): `rel.offset` pages each parent's embedded rows.
#[tokio::test]
async fn embed_offset() {
    let Some(s) = service("embed-offset").await else {
        return;
    };
    assert_eq!(
        get_json(
            &s,
            "/album",
            "select=album_id,tracks(track_id)&album_id=in.(1,4)&order=album_id&tracks.order=track_id&tracks.offset=2&tracks.limit=2"
        )
        .await,
        json!([
            {"album_id": 1, "tracks": [{"track_id": 7}, {"track_id": 8}]},
            {"album_id": 4, "tracks": [{"track_id": 17}, {"track_id": 18}]}
        ])
    );
    assert_eq!(
        get_json(
            &s,
            "/track",
            "select=track_id,playlists(playlist_id)&track_id=eq.1&playlists.order=playlist_id&playlists.offset=1"
        )
        .await,
        json!([{"track_id": 1, "playlists": [{"playlist_id": 8}, {"playlist_id": 17}]}])
    );
    // An aliased embedding's filters, order and page may name it as
    // written (PostgREST's `album.order` of `albums:album(…)`).
    assert_eq!(
        get_json(
            &s,
            "/artist",
            "select=artist_id,discs:albums(album_id)&artist_id=eq.1&albums.order=album_id.desc&albums.limit=1"
        )
        .await,
        json!([{"artist_id": 1, "discs": [{"album_id": 4}]}])
    );
    // A many-to-many embedding ordered and paged over more targets than
    // one statement's key list (playlist 1 links 3290 tracks): the order
    // holds across all of them.
    assert_eq!(
        get_json(
            &s,
            "/playlist",
            "select=playlist_id,tracks(track_id)&playlist_id=in.(1,5)&order=playlist_id&tracks.order=track_id.desc&tracks.limit=2&tracks.offset=1"
        )
        .await,
        json!([
            {"playlist_id": 1, "tracks": [{"track_id": 3502}, {"track_id": 3501}]},
            {"playlist_id": 5, "tracks": [{"track_id": 3499}, {"track_id": 3498}]}
        ])
    );
}

/// Item 14 (part): field aliases `alias:col`, at the root, in embeds and
/// in a write's representation.
#[tokio::test]
async fn field_aliases() {
    let Some(s) = service("aliases").await else {
        return;
    };
    assert_eq!(
        get_json(
            &s,
            "/album",
            "select=id:album_id,name:title,band:artist(called:name)&album_id=eq.1"
        )
        .await,
        json!([{"id": 1, "name": "For Those About To Rock We Salute You", "band": {"called": "AC/DC"}}])
    );
    let ours = "genre_id=gte.9700&genre_id=lt.9800";
    same(&s, "DELETE", "/genre", ours, &[], "").await;
    let r = same(
        &s,
        "POST",
        "/genre",
        "select=id:genre_id,label:name",
        &[("Prefer", "return=representation")],
        r#"{"genre_id": 9701, "name": "Aliased"}"#,
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(r.json(), json!([{"id": 9701, "label": "Aliased"}]));
    let r = same(&s, "DELETE", "/genre", ours, &[], "").await;
    assert_eq!(r.status, 204, "{}", r.text());
}

/// Item 14: casts in `select` beyond `::text` and `::json`, applied to the
/// engine's answer (so identical everywhere); a value the type cannot take
/// is PostgreSQL's 400, another type is PostgreSQL's own cast (501 on the
/// other engines), and a write refuses a cast that could fail after it has
/// written.
#[tokio::test]
async fn casts_in_select() {
    let Some(s) = service("casts").await else {
        return;
    };
    assert_eq!(
        get_json(
            &s,
            "/track",
            "select=track_id,p:unit_price::int,f:unit_price::float8,t:unit_price::text,ms:milliseconds::varchar,b:track_id::bool,n:milliseconds::numeric&track_id=eq.1"
        )
        .await,
        json!([{"track_id": 1, "p": 1, "f": 0.99, "t": "0.99", "ms": "343719", "b": true, "n": 343719}])
    );
    // Dates and times, from a timestamp and from text.
    assert_eq!(
        get_json(
            &s,
            "/invoice",
            "select=d:invoice_date::date,tz:invoice_date::timestamptz,h:invoice_date::time,ts:invoice_date::timestamp&invoice_id=eq.2"
        )
        .await,
        json!([{"d": "2021-01-02", "tz": "2021-01-02T00:00:00+00:00", "h": "00:00:00", "ts": "2021-01-02T00:00:00"}])
    );
    for (query, status, code) in [
        ("select=name::date&track_id=eq.1", 400, "22007"),
        ("select=name::uuid&track_id=eq.1", 400, "22P02"),
        ("select=milliseconds::date&track_id=eq.1", 400, "42846"),
        ("select=name::int&track_id=eq.1", 400, "22P02"),
        ("select=name::bool&track_id=eq.1", 400, "22P02"),
        ("select=milliseconds::int2&track_id=eq.1", 400, "22003"),
    ] {
        let (got, body) = same_error(&s, "GET", "/track", query, "").await;
        assert_eq!(got, status, "{query}: {body}");
        if !code.is_empty() {
            assert_eq!(body["code"], code, "{query}: {body}");
        }
    }
    // Other types are PostgreSQL's own: it casts (the value's text), the
    // other engines answer 501 naming themselves.
    for t in TENANTS {
        let r = s
            .handle(RestRequest::new(
                "GET",
                format!("/{t}/track"),
                "select=track_id,n:name::xml&track_id=eq.1",
            ))
            .await;
        if t == "pg" {
            assert_eq!(r.status, 200, "{}", r.text());
            assert_eq!(
                r.json(),
                json!([{"track_id": 1, "n": "For Those About To Rock (We Salute You)"}])
            );
        } else {
            assert_eq!(r.status, 501, "{t}: {}", r.text());
            let engine = if t == "my" {
                "mysql"
            } else if t == "lite" {
                "sqlite"
            } else {
                "mongodb"
            };
            assert!(r.text().contains(engine), "{t}: {}", r.text());
        }
    }
    // A write's representation with a cast that could refuse a value: the
    // cast is applied inside the write's transaction, so a refusal is the
    // cast's error and nothing is written (PostgREST's one statement
    // fails), on every engine.
    let rep = [("Prefer", "return=representation")];
    same(
        &s,
        "DELETE",
        "/genre",
        "genre_id=gte.9801&genre_id=lte.9803",
        &[],
        "",
    )
    .await;
    refused(
        &s,
        "POST",
        "/genre",
        "select=name::int",
        &rep,
        r#"{"genre_id": 9801, "name": "Cast"}"#,
        "22P02",
    )
    .await;
    let r = same(&s, "GET", "/genre", "genre_id=eq.9801", &[], "").await;
    assert_eq!(r.json(), json!([]), "nothing was written");
    let r = same(
        &s,
        "POST",
        "/genre",
        "select=genre_id,n:name::int",
        &rep,
        r#"[{"genre_id": 9801, "name": "12"}, {"genre_id": 9803, "name": " -7 "}]"#,
    )
    .await;
    assert_eq!(
        (r.status, r.json()),
        (
            201,
            json!([{"genre_id": 9801, "n": 12}, {"genre_id": 9803, "n": -7}])
        ),
        "{}",
        r.text()
    );
    // An update one of whose rows the cast refuses changes no row.
    refused(
        &s,
        "PATCH",
        "/genre",
        "genre_id=in.(9801,9803)&select=n:name::int2",
        &rep,
        r#"{"name": "40000"}"#,
        "22003",
    )
    .await;
    assert_eq!(
        get_json(&s, "/genre", "select=name&genre_id=gte.9801&order=genre_id").await,
        json!([{"name": "12"}, {"name": " -7 "}])
    );
    // Rolled back on request, a refusal is still the answer.
    refused(
        &s,
        "DELETE",
        "/genre",
        "genre_id=eq.9801&select=d:name::date",
        &[("Prefer", "return=representation, tx=rollback")],
        "",
        "22007",
    )
    .await;
    let r = same(
        &s,
        "DELETE",
        "/genre",
        "genre_id=gte.9801&select=n:name::int&order=genre_id",
        &rep,
        "",
    )
    .await;
    assert_eq!(
        (r.status, r.json()),
        (200, json!([{"n": 12}, {"n": -7}])),
        "{}",
        r.text()
    );
    // Inside an embedding too: the embeddings are read, and the casts
    // applied, before the write commits.
    same(&s, "DELETE", "/album", "album_id=eq.9701", &[], "").await;
    let r = same(
        &s,
        "POST",
        "/album",
        "",
        &[],
        r#"{"album_id": 9701, "title": "T", "artist_id": 1}"#,
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text());
    refused(
        &s,
        "PATCH",
        "/album",
        "album_id=eq.9701&select=album_id,artist(n:name::int)",
        &rep,
        r#"{"title": "U"}"#,
        "22P02",
    )
    .await;
    assert_eq!(
        get_json(&s, "/album", "select=title&album_id=eq.9701").await,
        json!([{"title": "T"}]),
        "nothing was written"
    );
    let r = same(
        &s,
        "PATCH",
        "/album",
        "album_id=eq.9701&select=album_id,t:title::text,artist(a:artist_id::int2)",
        &rep,
        r#"{"title": "V"}"#,
    )
    .await;
    assert_eq!(
        (r.status, r.json()),
        (
            200,
            json!([{"album_id": 9701, "t": "V", "artist": {"a": 1}}])
        ),
        "{}",
        r.text()
    );
    // A database cast inside an embedding: PostgreSQL's, in the
    // transaction; elsewhere a 501 before writing.
    for t in TENANTS {
        let r = s
            .handle(
                RestRequest::new(
                    "PATCH",
                    format!("/{t}/album"),
                    "album_id=eq.9701&select=album_id,artist(n:name::xml)",
                )
                .header("Prefer", "return=representation")
                .header("Content-Type", "application/json")
                .body(r#"{"title": "W"}"#.to_string()),
            )
            .await;
        let want = if t == "pg" { 200 } else { 501 };
        assert_eq!(r.status, want, "{t}: {}", r.text());
        if t == "pg" {
            assert_eq!(
                r.json(),
                json!([{"album_id": 9701, "artist": {"n": "AC/DC"}}])
            );
            let back = RestRequest::new("PATCH", "/pg/album", "album_id=eq.9701")
                .header("Content-Type", "application/json")
                .body(r#"{"title": "V"}"#.to_string());
            assert_eq!(s.handle(back).await.status, 204);
        }
    }
    assert_eq!(
        get_json(&s, "/album", "select=title&album_id=eq.9701").await,
        json!([{"title": "V"}]),
        "PostgreSQL wrote (and was set back): the others wrote nothing"
    );
    same(&s, "DELETE", "/album", "album_id=eq.9701", &[], "").await;
    // A cast the field's type always takes is applied to the
    // representation.
    let r = same(
        &s,
        "POST",
        "/genre",
        "select=g:genre_id::int8,b:genre_id::bool,name::text",
        &[("Prefer", "return=representation")],
        r#"{"genre_id": 9802, "name": "Cast"}"#,
    )
    .await;
    assert_eq!(
        (r.status, r.json()),
        (201, json!([{"g": 9802, "b": true, "name": "Cast"}])),
        "{}",
        r.text()
    );
    let r = same(&s, "DELETE", "/genre", "genre_id=eq.9802", &[], "").await;
    assert_eq!(r.status, 204, "{}", r.text());
}

/// `order=rel(col)`: rows ordered by a field of their to-one related row
/// (PostgREST's ordering by an embedded resource), with or without the
/// embedding, at the top and inside an embedding; to-many is refused.
#[tokio::test]
async fn order_by_related_field() {
    let Some(s) = service("related_order").await else {
        return;
    };
    let ids = |v: J| -> Vec<i64> {
        v.as_array()
            .expect("rows")
            .iter()
            .map(|r| r["track_id"].as_i64().expect("id"))
            .collect()
    };
    let q = "select=track_id&album_id=lte.3&order=album(title).desc,track_id&limit=5";
    assert_eq!(ids(get_json(&s, "/track", q).await), [3, 4, 5, 1, 6]);
    assert_eq!(
        get_json(
            &s,
            "/track",
            "select=track_id,album(title)&album_id=lte.2&order=album(title),track_id.desc&limit=2"
        )
        .await,
        json!([
            {"track_id": 2, "album": {"title": "Balls to the Wall"}},
            {"track_id": 14, "album": {"title": "For Those About To Rock We Salute You"}}
        ])
    );
    assert_eq!(
        get_json(
            &s,
            "/genre",
            "select=genre_id,tracks(track_id)&genre_id=eq.1&tracks.album_id=in.(1,4,5)&tracks.order=album(title).desc,track_id&tracks.limit=2"
        )
        .await,
        json!([{"genre_id": 1, "tracks": [{"track_id": 15}, {"track_id": 16}]}])
    );
    let (status, body) = same_error(&s, "GET", "/album", "order=tracks(name)", "").await;
    assert_eq!(status, 422, "{body}");
    let (status, body) = same_error(&s, "GET", "/track", "order=album(nope)", "").await;
    assert_eq!((status, &body["code"]), (400, &json!("42703")), "{body}");
}

/// `HEAD` answers `GET`'s status and `Content-Range` without reading the
/// embeddings (an `!inner` one still filters the parents).
#[tokio::test]
async fn head_skips_embeddings() {
    let Some(s) = service("head").await else {
        return;
    };
    for query in [
        "select=*,tracks(*,genre(*))&album_id=lte.5",
        "select=title,tracks!inner(name)&tracks.name=like.*Rock*&limit=2",
    ] {
        let prefer = [("Prefer", "count=exact")];
        let get = same(&s, "GET", "/album", query, &prefer, "").await;
        let head = same(&s, "HEAD", "/album", query, &prefer, "").await;
        assert_eq!(
            (head.status, head.header("content-range")),
            (get.status, get.header("content-range")),
            "{query}"
        );
        assert!(head.text().is_empty(), "{query}: {}", head.text());
    }
}

// Items 5, 15 and 17: statuses and Content-Range, match/imatch, media types.

fn names(v: &J) -> Vec<&str> {
    v.as_array()
        .expect("an array")
        .iter()
        .map(|r| r["name"].as_str().expect("a name"))
        .collect()
}

/// Item 15: `match` / `imatch` are unanchored POSIX-style regular
/// expressions, case-sensitive or not whatever the column's collation,
/// bound as values, with `not.`, `(any)` and `or=(…)`, on every engine.
#[tokio::test]
async fn regex_match_and_imatch() {
    let Some(s) = service("regex").await else {
        return;
    };
    let few = "select=name&artist_id=lte.10&order=artist_id";
    let q = |f: &str| format!("{few}&{f}");
    assert_eq!(
        names(&get_json(&s, "/artist", &q("name=match.^A[a-z]")).await),
        [
            "Accept",
            "Aerosmith",
            "Alanis Morissette",
            "Alice In Chains",
            "Antônio Carlos Jobim",
            "Apocalyptica",
            "Audioslave"
        ]
    );
    // Case-sensitive even where the collation is not (MariaDB).
    assert!(
        names(&get_json(&s, "/artist", &q("name=match.^ac")).await).is_empty(),
        "match is case-sensitive"
    );
    assert_eq!(
        names(&get_json(&s, "/artist", &q("name=imatch.^ac")).await),
        ["AC/DC", "Accept"]
    );
    assert_eq!(
        names(&get_json(&s, "/artist", &q("name=not.match.A")).await),
        ["BackBeat", "Billy Cobham"]
    );
    assert_eq!(
        names(&get_json(&s, "/artist", &q("name=imatch(any).{^bil,dc$}")).await),
        ["AC/DC", "Billy Cobham"]
    );
    assert_eq!(
        names(
            &get_json(
                &s,
                "/artist",
                &q(r#"or=(name.match.^Back,name.imatch."c/d|ô")"#)
            )
            .await
        ),
        ["AC/DC", "Antônio Carlos Jobim", "BackBeat"]
    );
    // Metacharacters are the pattern's, not SQL's: `%` and `_` are literal.
    assert!(
        names(&get_json(&s, "/artist", &q("name=match.A%25")).await).is_empty(),
        "% is not a wildcard"
    );
    // A null never matches, negated or not (track 63 has no composer).
    let r = get_json(
        &s,
        "/track",
        "select=track_id&track_id=in.(1,62,63)&composer=not.imatch.angus&order=track_id",
    )
    .await;
    assert_eq!(r, json!([{"track_id": 62}]));
    // Text fields only; the pattern is bounded.
    let r = same(&s, "GET", "/artist", "artist_id=match.1", &[], "").await;
    assert_eq!(r.status, 422, "{}", r.text());
    // A malformed pattern is the engine's error: a 4xx, never a 500.
    for t in TENANTS {
        let r = s
            .handle(RestRequest::new(
                "GET",
                format!("/{t}/artist"),
                "name=match.(a",
            ))
            .await;
        assert!(
            (400..500).contains(&r.status),
            "{t}: {} {}",
            r.status,
            r.text()
        );
    }
    let long = "a".repeat(1025);
    let r = same(&s, "GET", "/artist", &format!("name=match.{long}"), &[], "").await;
    assert_eq!(r.status, 422, "{}", r.text());
}

/// Item 17: `Accept: text/csv` (a header line, RFC 4180 quoting, null as
/// nothing, an embed as its JSON), on reads and on a write's
/// representation.
#[tokio::test]
async fn csv_responses() {
    let Some(s) = service("csv").await else {
        return;
    };
    let csv = [("Accept", "text/csv")];
    let r = same(
        &s,
        "GET",
        "/track",
        "select=track_id,name,composer&track_id=in.(1,3,63)&order=track_id",
        &csv,
        "",
    )
    .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("text/csv; charset=utf-8"));
    assert_eq!(
        r.text(),
        "track_id,name,composer\n\
         1,For Those About To Rock (We Salute You),\"Angus Young, Malcolm Young, Brian Johnson\"\n\
         3,Fast As a Shark,\"F. Baltes, S. Kaufman, U. Dirkscneider & W. Hoffman\"\n\
         63,Desafinado,"
    );
    // An embed is its JSON text, quoted; aliases name the columns.
    let r = same(
        &s,
        "GET",
        "/album",
        "select=t:title,artist(name)&album_id=eq.1",
        &csv,
        "",
    )
    .await;
    assert_eq!(
        r.text(),
        "t,artist\nFor Those About To Rock We Salute You,\"{\"\"name\"\":\"\"AC/DC\"\"}\""
    );
    // No rows: PostgREST's empty header line. Counted pages keep 206.
    let r = same(&s, "GET", "/artist", "artist_id=eq.0", &csv, "").await;
    assert_eq!((r.status, r.text()), (200, "\n".to_string()));
    let r = same(
        &s,
        "GET",
        "/artist",
        "select=artist_id&order=artist_id&limit=2",
        &[("Accept", "text/csv"), ("Prefer", "count=exact")],
        "",
    )
    .await;
    assert_eq!((r.status, r.text()), (206, "artist_id\n1\n2".to_string()));
    assert_eq!(r.header("content-range"), Some("0-1/275"));
    // A write's representation in CSV (rolled back).
    let r = same(
        &s,
        "PATCH",
        "/artist",
        "artist_id=eq.1&select=artist_id,name",
        &[
            ("Accept", "text/csv"),
            ("Prefer", "return=representation, tx=rollback"),
        ],
        r#"{"name": "Say \"hi\", then\nleave"}"#,
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(
        r.text(),
        "artist_id,name\n1,\"Say \"\"hi\"\", then\nleave\""
    );
}

/// A MongoDB `explain` answer: its query planner's, at the top or in the
/// pipeline's first stage; never the server's address.
fn mongo_plan(plan: &serde_json::Value) -> bool {
    let planner = plan["queryPlanner"].is_object()
        || plan["stages"][0]["$cursor"]["queryPlanner"].is_object();
    planner && plan.get("serverInfo").is_none() && plan.get("$clusterTime").is_none()
}

/// Item 17: `nulls=stripped` leaves null-valued keys out, embeds included,
/// for arrays and for the singular object; an Accept we cannot produce is
/// PostgREST's 406 `PGRST107`; plans are a 406 naming the engine.
#[tokio::test]
async fn stripped_nulls_and_unavailable_media() {
    let Some(s) = service("nulls").await else {
        return;
    };
    let stripped = [("Accept", "application/vnd.pgrst.array+json;nulls=stripped")];
    let r = same(
        &s,
        "GET",
        "/track",
        "select=track_id,composer&track_id=in.(1,63)&order=track_id",
        &stripped,
        "",
    )
    .await;
    assert_eq!(r.status, 200);
    assert_eq!(
        r.header("content-type"),
        Some("application/vnd.pgrst.array+json;nulls=stripped; charset=utf-8")
    );
    assert_eq!(
        r.json(),
        json!([
            {"track_id": 1, "composer": "Angus Young, Malcolm Young, Brian Johnson"},
            {"track_id": 63}
        ])
    );
    let r = same(
        &s,
        "GET",
        "/album",
        "select=title,tracks(track_id,composer)&album_id=eq.8&tracks.track_id=eq.63",
        &stripped,
        "",
    )
    .await;
    assert_eq!(
        r.json(),
        json!([{"title": "Warner 25 Anos", "tracks": [{"track_id": 63}]}])
    );
    let r = same(
        &s,
        "GET",
        "/track",
        "select=track_id,composer&track_id=eq.63",
        &[("Accept", "application/vnd.pgrst.object+json;nulls=stripped")],
        "",
    )
    .await;
    assert_eq!(r.json(), json!({"track_id": 63}));
    assert_eq!(
        r.header("content-type"),
        Some("application/vnd.pgrst.object+json;nulls=stripped; charset=utf-8")
    );
    // The preferred acceptable type wins; q=0 refuses one.
    let r = same(
        &s,
        "GET",
        "/artist",
        "select=artist_id&artist_id=eq.1",
        &[("Accept", "text/csv;q=0.5, application/json")],
        "",
    )
    .await;
    assert_eq!(r.text(), r#"[{"artist_id":1}]"#);
    for accept in ["text/xml", "text/csv;q=0", "application/geo+json"] {
        let r = same(
            &s,
            "GET",
            "/artist",
            "artist_id=eq.1",
            &[("Accept", accept)],
            "",
        )
        .await;
        assert_eq!(r.status, 406, "{accept}: {}", r.text());
        assert_eq!(r.json()["code"], "PGRST107", "{accept}");
    }
    // Execution plans (item 17): the service role gets PostgreSQL's and
    // MySQL's JSON plan of the read's statement, SQLite's `EXPLAIN QUERY
    // PLAN` as a tree, MongoDB's `explain` of its pipeline; any other
    // caller a 406.
    let service_role = mini_baas::engine::Principal::new("svc", ["service_role".to_string()]);
    // The genre the plans delete, left by a run that failed half-way.
    let _ = same(&s, "DELETE", "/genre", "genre_id=eq.9998", &[], "").await;
    for t in TENANTS {
        let plan = |accept: &str| {
            RestRequest::new("GET", format!("/{t}/artist"), "artist_id=eq.1")
                .header("Accept", accept)
        };
        let r = s.handle(plan("application/vnd.pgrst.plan+json")).await;
        assert_eq!(r.status, 406, "{t}, anonymous: {}", r.text());
        assert_eq!(r.json()["code"], "PGRST107");
        let r = s
            .handle_as(plan("application/vnd.pgrst.plan+json"), &service_role)
            .await;
        match t {
            "pg" | "my" => {
                assert_eq!(r.status, 200, "{t}: {}", r.text());
                assert!(
                    r.header("content-type")
                        .is_some_and(|c| c.starts_with("application/vnd.pgrst.plan+json")),
                    "{t}: {:?}",
                    r.header("content-type")
                );
                let plan = r.json();
                let shape = if t == "pg" {
                    plan[0]["Plan"]["Node Type"].is_string()
                } else {
                    plan["query_block"].is_object()
                };
                assert!(shape, "{t}: {plan}");
            }
            "lite" => {
                assert_eq!(r.status, 200, "{t}: {}", r.text());
                // The key's lookup, SQLite's words.
                let plan = r.json();
                let detail = plan["query_plan"][0]["detail"].as_str().unwrap_or_default();
                assert!(detail.starts_with("SEARCH"), "{plan}");
            }
            _ => {
                assert_eq!(r.status, 200, "{t}: {}", r.text());
                assert!(mongo_plan(&r.json()), "{t}: {}", r.text());
            }
        }
        // As text (postgrest-js's `explain()` default): PostgreSQL's and
        // SQLite's own text, MySQL's and MongoDB's JSON plan indented.
        let r = s
            .handle_as(plan("application/vnd.pgrst.plan"), &service_role)
            .await;
        assert_eq!(r.status, 200, "{t}: {}", r.text());
        assert!(
            r.header("content-type")
                .is_some_and(|c| c.starts_with("application/vnd.pgrst.plan+text")),
            "{t}: {:?}",
            r.header("content-type")
        );
        let scan = match t {
            "pg" => "Scan",
            "lite" => "QUERY PLAN\n`--SEARCH",
            "my" => "\"query_block\": {\n",
            _ => "\"queryPlanner\": {\n",
        };
        assert!(r.text().contains(scan), "{t}: {}", r.text());
        if t == "lite" {
            // SQLite runs nothing for a plan: no option applies.
            let r = s
                .handle_as(
                    plan("application/vnd.pgrst.plan+json; options=analyze"),
                    &service_role,
                )
                .await;
            assert_eq!(r.status, 406, "{}", r.text());
            assert!(r.text().contains("sqlite"), "{}", r.text());
        }
        // The grouping statement of aggregates, a joined to-one spread's
        // included.
        for query in [
            "select=album_id,count()&album_id=lt.3",
            "select=...album(title),milliseconds.sum()&album_id=lt.3",
            "select=count(),album(title)&album_id=lt.3",
        ] {
            let r = s
                .handle_as(
                    RestRequest::new("GET", format!("/{t}/track"), query)
                        .header("Accept", "application/vnd.pgrst.plan+json"),
                    &service_role,
                )
                .await;
            match t {
                "pg" => {
                    assert_eq!(r.status, 200, "{t} {query}: {}", r.text());
                    assert!(r.text().contains("Aggregate"), "{t} {query}: {}", r.text());
                }
                "my" => {
                    assert_eq!(r.status, 200, "{t} {query}: {}", r.text());
                    assert!(r.json()["query_block"].is_object(), "{t}: {}", r.text());
                }
                "lite" => {
                    assert_eq!(r.status, 200, "{t} {query}: {}", r.text());
                    let plan = r.json();
                    let nodes = plan["query_plan"].as_array().map_or(0, Vec::len);
                    assert!(nodes > 0, "{t} {query}: {plan}");
                }
                _ => {
                    assert_eq!(r.status, 200, "{t} {query}: {}", r.text());
                    assert!(mongo_plan(&r.json()), "{t} {query}: {}", r.text());
                }
            }
        }
        // A write's plan is its statement's (PostgREST plans the write's
        // statement too): planned only, or run with `analyze` in a
        // transaction that is rolled back.
        let write = |method: &str, query: &str, body: &str, accept: &str| {
            RestRequest::new(method, format!("/{t}/genre"), query)
                .header("Accept", accept)
                .header("Content-Type", "application/json")
                .body(body.to_string())
        };
        let json = "application/vnd.pgrst.plan+json";
        let analyzed = "application/vnd.pgrst.plan+json; options=analyze";
        // A genre without tracks, for an analyzed delete of a real row.
        let r = s
            .handle_as(
                write(
                    "POST",
                    "",
                    r#"{"genre_id": 9998, "name": "Planned"}"#,
                    "application/json",
                ),
                &service_role,
            )
            .await;
        assert_eq!(r.status, 201, "{t}: {}", r.text());
        let writes = [
            ("POST", "", r#"{"genre_id": 9999, "name": "x"}"#, "Insert"),
            ("PATCH", "genre_id=eq.1", r#"{"name": "x"}"#, "Update"),
            ("DELETE", "genre_id=eq.9998", "", "Delete"),
            // A limited write: its keys read first, as it would run.
            (
                "PATCH",
                "order=genre_id.desc&limit=1&genre_id=lt.9000",
                r#"{"name": "x"}"#,
                "Update",
            ),
        ];
        for (method, query, body, operation) in writes {
            for accept in [json, analyzed] {
                let r = s
                    .handle_as(write(method, query, body, accept), &service_role)
                    .await;
                match t {
                    "pg" => {
                        assert_eq!(r.status, 200, "{t} {method} {accept}: {}", r.text());
                        let plan = &r.json()[0]["Plan"];
                        assert_eq!(plan["Node Type"], "ModifyTable", "{plan}");
                        assert_eq!(plan["Operation"], operation, "{plan}");
                        assert_eq!(
                            plan["Actual Rows"].is_number(),
                            accept == analyzed,
                            "{plan}"
                        );
                    }
                    // MariaDB's `ANALYZE` of a write runs it, in a
                    // transaction rolled back (an InnoDB table without
                    // triggers): the plan shows the rows it read.
                    "my" => {
                        assert_eq!(r.status, 200, "{t} {method} {accept}: {}", r.text());
                        let plan = r.json();
                        let table = &plan["query_block"]["table"];
                        assert!(table.is_object(), "{plan}");
                        if method != "POST" {
                            assert_eq!(
                                table["r_rows"].is_number(),
                                accept == analyzed,
                                "{t} {method}: {plan}"
                            );
                        }
                    }
                    "lite" if accept == analyzed => {
                        assert_eq!(r.status, 406, "{t} {method}: {}", r.text());
                        assert!(r.text().contains("analyze"), "{}", r.text());
                    }
                    // An insert of values scans nothing: an empty plan.
                    "lite" => {
                        assert_eq!(r.status, 200, "{t} {method} {accept}: {}", r.text());
                        assert!(r.json()["query_plan"].is_array(), "{}", r.text());
                    }
                    // MongoDB explains no insert.
                    _ if method == "POST" => {
                        assert_eq!(r.status, 406, "{t} {method}: {}", r.text());
                        assert_eq!(r.json()["code"], "PGRST107", "{t}");
                    }
                    // Its explain never writes: `analyze` too.
                    _ => {
                        assert_eq!(r.status, 200, "{t} {method} {accept}: {}", r.text());
                        let plan = r.json();
                        assert!(mongo_plan(&plan), "{t} {method}: {plan}");
                        assert_eq!(
                            plan["executionStats"].is_object(),
                            accept == analyzed,
                            "{t} {method}: {plan}"
                        );
                    }
                }
                // Another caller: refused before anything runs.
                let r = s.handle(write(method, query, body, accept)).await;
                assert_eq!(r.status, 406, "{t} {method}: {}", r.text());
            }
        }
        // An upsert's plan; a write of nothing has none.
        let r = s
            .handle_as(
                write("POST", "", r#"[{"genre_id": 1, "name": "x"}]"#, analyzed)
                    .header("Prefer", "resolution=merge-duplicates"),
                &service_role,
            )
            .await;
        assert_eq!(
            r.status,
            if matches!(t, "pg" | "my") { 200 } else { 406 },
            "{t}: {}",
            r.text()
        );
        let r = s
            .handle_as(write("POST", "", "[]", json), &service_role)
            .await;
        assert_eq!(r.status, 406, "{t}: {}", r.text());
    }
    // Nothing the analyzed writes ran was kept.
    let genres = same(
        &s,
        "GET",
        "/genre",
        "genre_id=in.(1,25,9998,9999)&order=genre_id",
        &[],
        "",
    )
    .await;
    assert_eq!(
        genres.json(),
        json!([
            {"genre_id": 1, "name": "Rock"},
            {"genre_id": 25, "name": "Opera"},
            {"genre_id": 9998, "name": "Planned"}
        ])
    );
    let _ = same(&s, "DELETE", "/genre", "genre_id=eq.9998", &[], "").await;
    let anonymous = same(
        &s,
        "GET",
        "/track",
        "select=count()",
        &[("Accept", "application/vnd.pgrst.plan+json")],
        "",
    )
    .await;
    assert_eq!(anonymous.status, 406, "{}", anonymous.text());
    // Nothing was written by the refused plan.
    assert_eq!(get_json(&s, "/genre", "genre_id=eq.9999").await, json!([]));

    // PostgREST's options, as postgrest-js's `explain()` writes them
    // (`for` the media type the rows were asked in, a trailing `;`):
    // PostgreSQL takes all five, MariaDB `analyze` (its `ANALYZE
    // FORMAT=JSON`, which runs the statement); both name them again in
    // the `Content-Type`.
    let explain = |t: &str, accept: &str| {
        RestRequest::new("GET", format!("/{t}/track"), "album_id=eq.1&select=name")
            .header("Accept", accept)
    };
    let all = "application/vnd.pgrst.plan+json; for=\"application/json\"; options=analyze|verbose|settings|buffers|wal;";
    let analyze = "application/vnd.pgrst.plan+json; for=\"text/csv\"; options=analyze;";
    for t in TENANTS {
        let r = s.handle_as(explain(t, all), &service_role).await;
        match t {
            "pg" => {
                assert_eq!(r.status, 200, "{t}: {}", r.text());
                assert_eq!(
                    r.header("content-type"),
                    Some(
                        "application/vnd.pgrst.plan+json; for=\"application/json\"; options=analyze|verbose|settings|buffers|wal; charset=utf-8"
                    )
                );
                let plan = &r.json()[0];
                // Run (actual rows), verbose (output columns), buffers.
                assert!(plan["Plan"]["Actual Rows"].is_number(), "{plan}");
                assert!(plan["Plan"]["Output"].is_array(), "{plan}");
                assert!(plan["Planning"]["Shared Hit Blocks"].is_number(), "{plan}");
                assert!(plan["Execution Time"].is_number(), "{plan}");
            }
            _ => {
                assert_eq!(r.status, 406, "{t}: {}", r.text());
                assert_eq!(r.json()["code"], "PGRST107", "{t}");
            }
        }
        let r = s.handle_as(explain(t, analyze), &service_role).await;
        match t {
            "pg" | "my" => {
                assert_eq!(r.status, 200, "{t}: {}", r.text());
                assert_eq!(
                    r.header("content-type"),
                    Some(
                        "application/vnd.pgrst.plan+json; for=\"text/csv\"; options=analyze; charset=utf-8"
                    ),
                    "{t}"
                );
                let plan = r.json();
                if t == "pg" {
                    assert!(plan[0]["Plan"]["Actual Rows"].is_number(), "{plan}");
                } else {
                    assert!(plan["query_block"]["r_loops"].is_number(), "{plan}");
                }
            }
            // MongoDB's `executionStats`: the pipeline ran.
            "mongo" => {
                assert_eq!(r.status, 200, "{t}: {}", r.text());
                let plan = r.json();
                assert!(mongo_plan(&plan), "{plan}");
                assert!(plan["executionStats"]["nReturned"].is_number(), "{plan}");
            }
            _ => assert_eq!(r.status, 406, "{t}: {}", r.text()),
        }
        // A plan for rows in a media type we do not produce.
        let r = s
            .handle_as(
                explain(t, "application/vnd.pgrst.plan+json; for=\"text/xml\""),
                &service_role,
            )
            .await;
        assert_eq!(r.status, 406, "{t}: {}", r.text());
    }
    // `wal` without `analyze`: PostgreSQL's refusal, the request's.
    let r = s
        .handle_as(
            explain("pg", "application/vnd.pgrst.plan+json; options=wal"),
            &service_role,
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.text());
    assert!(r.text().contains("WAL"), "{}", r.text());
}

/// Item 5: statuses and `Content-Range` as PostgREST answers them: `HEAD`
/// has the status and headers of `GET`; a counted (or estimated) page
/// smaller than the total is a 206; a write's range is `*/n` (insert,
/// delete) or `0-(n-1)/n` (update, returned or not).
#[tokio::test]
async fn statuses_and_ranges() {
    let Some(s) = service("status").await else {
        return;
    };
    // Chinook's 25 genres: other tests of this file write genres above
    // 9000 meanwhile.
    for (method, count) in [("GET", "count=exact"), ("HEAD", "count=exact")] {
        let r = same(
            &s,
            method,
            "/genre",
            "select=genre_id&order=genre_id&limit=2&genre_id=lt.9000",
            &[("Prefer", count)],
            "",
        )
        .await;
        assert_eq!(r.status, 206, "{method}");
        assert_eq!(r.header("content-range"), Some("0-1/25"), "{method}");
        assert_eq!(r.text().is_empty(), method == "HEAD");
    }
    // One object of counted rows: PostgREST's 206 and range; its 406 for
    // two rows is an error, without a range.
    let r = same(
        &s,
        "GET",
        "/genre",
        "select=genre_id&order=genre_id&limit=1&genre_id=lt.9000",
        &[
            ("Prefer", "count=exact"),
            ("Accept", "application/vnd.pgrst.object+json"),
        ],
        "",
    )
    .await;
    assert_eq!(
        (r.status, r.header("content-range"), r.json()),
        (206, Some("0-0/25"), json!({"genre_id": 1}))
    );
    let r = same(
        &s,
        "GET",
        "/genre",
        "select=genre_id&order=genre_id&limit=2&genre_id=lt.9000",
        &[("Accept", "application/vnd.pgrst.object+json")],
        "",
    )
    .await;
    assert_eq!((r.status, r.header("content-range")), (406, None));
    // HEAD by key: the status of GET (200, or 404 when absent).
    assert_eq!(same(&s, "HEAD", "/genre/1", "", &[], "").await.status, 200);
    assert_eq!(same(&s, "HEAD", "/genre/0", "", &[], "").await.status, 404);
    // An estimate larger than the page is a 206 too (each engine's own
    // estimate: only the status is compared).
    for t in TENANTS {
        let r = s
            .handle(
                RestRequest::new("GET", format!("/{t}/track"), "select=track_id&limit=2")
                    .header("Prefer", "count=planned"),
            )
            .await;
        assert_eq!(r.status, 206, "{t}: {:?}", r.header("content-range"));
    }
    let ours = "genre_id=gte.9500&genre_id=lt.9600";
    same(&s, "DELETE", "/genre", ours, &[], "").await;
    let r = same(
        &s,
        "POST",
        "/genre",
        "",
        &[("Prefer", "return=representation, count=exact")],
        r#"[{"genre_id": 9501, "name": "a"}, {"genre_id": 9502, "name": "b"}]"#,
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(r.header("content-range"), Some("*/2"));
    let r = same(
        &s,
        "PATCH",
        "/genre",
        ours,
        &[("Prefer", "count=exact")],
        r#"{"name": "c"}"#,
    )
    .await;
    assert_eq!(r.status, 204, "{}", r.text());
    assert_eq!(r.header("content-range"), Some("0-1/2"));
    let r = same(&s, "PATCH", "/genre", ours, &[], r#"{"name": "d"}"#).await;
    assert_eq!(r.header("content-range"), Some("0-1/*"));
    let r = same(&s, "PUT", "/genre/9501", "", &[], r#"{"name": "e"}"#).await;
    assert_eq!((r.status, r.header("content-range")), (204, None));
    // Upserts as PostgREST (v12+) answers them: a `PUT` with a
    // representation is 201 when it inserted, 200 when it updated; a merge
    // `POST` is 200 when it inserted nothing, 201 otherwise.
    let rep = [("Prefer", "return=representation")];
    let r = same(&s, "PUT", "/genre/9501", "", &rep, r#"{"name": "f"}"#).await;
    assert_eq!(r.status, 200, "{}", r.text());
    let r = same(&s, "PUT", "/genre/9503", "", &rep, r#"{"name": "g"}"#).await;
    assert_eq!(r.status, 201, "{}", r.text());
    // A `PUT` writes the body's fields; an existing row keeps the others,
    // as PostgREST's `INSERT … ON CONFLICT DO UPDATE` of the body's
    // columns. The row it would insert is checked first, as PostgreSQL
    // checks it: a non-null field left out is a 23502, row or no row.
    let _ = same(&s, "DELETE", "/track", "track_id=eq.9501", &[], "").await;
    let track = r#""track_id": 9501, "media_type_id": 1, "milliseconds": 1, "unit_price": 0.99"#;
    let put = |body: String| {
        let s = &s;
        let rep = &rep;
        async move {
            same(
                s,
                "PUT",
                "/track",
                "track_id=eq.9501&select=track_id,name,composer",
                rep,
                &body,
            )
            .await
        }
    };
    let r = put(format!(r#"{{{track}, "name": "Put", "composer": "C"}}"#)).await;
    assert_eq!(r.status, 201, "{}", r.text());
    let r = put(format!(r#"{{{track}, "name": "Put again"}}"#)).await;
    assert_eq!(
        (r.status, r.json()),
        (
            200,
            json!([{"track_id": 9501, "name": "Put again", "composer": "C"}])
        )
    );
    let r = put(r#"{"track_id": 9501, "name": "No price"}"#.to_string()).await;
    assert_eq!((r.status, r.json()["code"].clone()), (400, json!("23502")));
    let r = same(&s, "DELETE", "/track", "track_id=eq.9501", &[], "").await;
    assert_eq!(r.status, 204, "{}", r.text());
    let merge = [("Prefer", "resolution=merge-duplicates")];
    let body = r#"[{"genre_id": 9501, "name": "h"}, {"genre_id": 9503, "name": "i"}]"#;
    let r = same(&s, "POST", "/genre", "", &merge, body).await;
    assert_eq!(r.status, 200, "{}", r.text());
    let body = r#"[{"genre_id": 9501, "name": "j"}, {"genre_id": 9504, "name": "k"}]"#;
    let r = same(&s, "POST", "/genre", "", &merge, body).await;
    assert_eq!(r.status, 201, "{}", r.text());
    let r = same(
        &s,
        "DELETE",
        "/genre",
        "genre_id=gte.9503&genre_id=lte.9504",
        &[],
        "",
    )
    .await;
    assert_eq!(r.status, 204, "{}", r.text());
    let r = same(
        &s,
        "DELETE",
        "/genre",
        ours,
        &[("Prefer", "count=exact")],
        "",
    )
    .await;
    assert_eq!(r.status, 204, "{}", r.text());
    assert_eq!(r.header("content-range"), Some("*/2"));
}

/// The rows the engine's own `EXPLAIN` of `sql` expects (PostgreSQL's
/// `Plan Rows`, MariaDB's `rows` × `filtered` of its one table), asked on a
/// connection of the test's own.
async fn explained_rows(tenant: &str, sql: &str) -> u64 {
    use mini_baas::sql::{OutColumn, SqlBackend, Statement};
    let column = [OutColumn {
        key: "plan".into(),
        ty: mini_baas::FieldType::Json,
    }];
    let plan = if tenant == "pg" {
        let url = env_or(
            "BAAS_TEST_PG_URL",
            "postgres://baas:baas_pw@127.0.0.1:5432/chinook",
        );
        let db = mini_baas::postgres::connect(mini_baas::postgres::PgConfig::new(url))
            .await
            .expect("postgres");
        let stmt = Statement {
            sql: format!("EXPLAIN (FORMAT JSON) {sql}"),
            params: Vec::new(),
        };
        let rows = db.backend().fetch(&stmt, &column).await.expect("explain");
        rows[0]["plan"][0]["Plan"]["Plan Rows"]
            .as_f64()
            .expect("Plan Rows")
    } else {
        let url = env_or(
            "BAAS_TEST_MYSQL_URL",
            "mysql://baas:baas_pw@127.0.0.1:3306/Chinook",
        );
        let db = mini_baas::mysql::connect(mini_baas::mysql::MySqlConfig::new(url))
            .await
            .expect("mysql");
        let stmt = Statement {
            sql: format!("EXPLAIN FORMAT=JSON {sql}"),
            params: Vec::new(),
        };
        let rows = db.backend().fetch(&stmt, &column).await.expect("explain");
        let plan = &rows[0]["plan"]["query_block"];
        let table = plan
            .get("table")
            .unwrap_or(&plan["nested_loop"][0]["table"]);
        match table.get("rows_produced_per_join") {
            Some(n) => n.as_f64().expect("rows"),
            None => {
                table["rows"].as_f64().expect("rows") * table["filtered"].as_f64().unwrap_or(100.0)
                    / 100.0
            }
        }
    };
    plan.round() as u64
}

/// Item 5: `Prefer: count=planned` answers the planner's estimate of the
/// matching rows, the number the engine's own `EXPLAIN` gives (counted
/// exactly on SQLite, and on MongoDB with a filter); `count=estimated` is
/// exact within the tenant's row budget, and beyond it the larger of the
/// rows counted up to the budget and the estimate.
#[tokio::test]
async fn planned_and_estimated_counts() {
    let Some(s) = service("counts").await else {
        return;
    };
    let long = "select=track_id&limit=1&milliseconds=gt.300000";
    let total = |r: &RestResponse| -> u64 {
        let range = r.header("content-range").expect("content-range");
        range.rsplit('/').next().unwrap().parse().expect(range)
    };
    // Within the budget: exact, and the same on every engine.
    let r = same(
        &s,
        "GET",
        "/track",
        long,
        &[("Prefer", "count=estimated")],
        "",
    )
    .await;
    assert_eq!(
        (r.status, r.header("content-range")),
        (206, Some("0-0/1069"))
    );
    let oracle = [
        ("pg", "SELECT 1 FROM track WHERE milliseconds > 300000"),
        ("my", "SELECT 1 FROM Track WHERE Milliseconds > 300000"),
    ];
    for t in TENANTS {
        let ask = |prefer: &'static str| {
            RestRequest::new("GET", format!("/{t}/track"), long).header("Prefer", prefer)
        };
        let r = s.handle(ask("count=planned")).await;
        assert_eq!(r.status, 206, "{t}: {}", r.text());
        match oracle.iter().find(|(o, _)| *o == t) {
            Some((_, sql)) => {
                // Statistics may be refreshed meanwhile: either side of
                // the request.
                let before = explained_rows(t, sql).await;
                let r = s.handle(ask("count=planned")).await;
                let after = explained_rows(t, sql).await;
                let n = total(&r);
                assert!(
                    n == before || n == after,
                    "{t}: {n}, EXPLAIN {before}/{after}"
                );
            }
            None => assert_eq!(total(&r), 1069, "{t}"),
        }
    }
    // Beyond a budget of 100 rows: the estimate where there is one (at
    // least the 101 rows counted), exact elsewhere.
    let Some(s) = service_with("counts_budget", |c| c.limits.max_rows = 100).await else {
        return;
    };
    for t in TENANTS {
        let req = RestRequest::new("GET", format!("/{t}/track"), long)
            .header("Prefer", "count=estimated");
        match oracle.iter().find(|(o, _)| *o == t) {
            Some((_, sql)) => {
                let before = explained_rows(t, sql).await.max(101);
                let n = total(&s.handle(req).await);
                let after = explained_rows(t, sql).await.max(101);
                assert!(
                    n == before || n == after,
                    "{t}: {n}, EXPLAIN {before}/{after}"
                );
            }
            None => assert_eq!(total(&s.handle(req).await), 1069, "{t}"),
        }
        // Within it, exact.
        let r = s
            .handle(
                RestRequest::new(
                    "GET",
                    format!("/{t}/genre"),
                    "select=genre_id&limit=1&genre_id=lt.9000",
                )
                .header("Prefer", "count=estimated"),
            )
            .await;
        assert_eq!(r.header("content-range"), Some("0-0/25"), "{t}");
    }
}

/// Item 13: spreads. `...rel(cols)` puts a to-one embed's fields in its
/// parent, and a to-many embed's fields as arrays of values (PostgREST 12).
#[tokio::test]
async fn spreads() {
    let Some(s) = service("spreads").await else {
        return;
    };
    assert_eq!(
        get_json(
            &s,
            "/track",
            "select=track_id,...album(title)&track_id=eq.1"
        )
        .await,
        json!([{"track_id": 1, "title": "For Those About To Rock We Salute You"}])
    );
    assert_eq!(
        get_json(
            &s,
            "/track",
            "select=track_id,...album(title,...artist(artist_name:name))&track_id=eq.1"
        )
        .await,
        json!([{"track_id": 1, "title": "For Those About To Rock We Salute You", "artist_name": "AC/DC"}]),
        "nested spreads, with an alias inside"
    );
    assert_eq!(
        get_json(
            &s,
            "/album",
            "select=album_id,...tracks(track_id)&album_id=eq.1&tracks.order=track_id&tracks.limit=2"
        )
        .await,
        json!([{"album_id": 1, "track_id": [1, 6]}])
    );
    // The to-many relations inside a to-many spread are joined to its
    // rows, as PostgREST 13 joins them: one value per combination, the
    // outer value repeated, `null` where a row has none (a left join); an
    // embedding inside gives its rows one by one too.
    let nested = |select: &str, tracks: &str| {
        format!(
            "select={select}&artist_id=eq.2&albums.order=album_id&albums.tracks.order=track_id{tracks}"
        )
    };
    assert_eq!(
        get_json(
            &s,
            "/artist",
            &nested("...albums(album_id,...tracks(track_id))", "")
        )
        .await,
        json!([{"album_id": [2, 3, 3, 3], "track_id": [2, 3, 4, 5]}])
    );
    assert_eq!(
        get_json(
            &s,
            "/artist",
            &nested(
                "...albums(album_id,...tracks(track_id))",
                "&albums.tracks.track_id=gt.3"
            )
        )
        .await,
        json!([{"album_id": [2, 3, 3], "track_id": [null, 4, 5]}])
    );
    assert_eq!(
        get_json(
            &s,
            "/artist",
            &nested(
                "...albums(album_id,tracks(track_id))",
                "&albums.tracks.track_id=gt.3"
            )
        )
        .await,
        json!([{"album_id": [2, 3, 3], "tracks": [null, {"track_id": 4}, {"track_id": 5}]}])
    );
    // A `*` spread inside a to-many spread: every readable field joined.
    let starred = get_json(&s, "/artist", &nested("...albums(title,...tracks(*))", "")).await;
    assert_eq!(starred[0]["track_id"], json!([2, 3, 4, 5]), "{starred}");
    assert_eq!(
        starred[0]["title"],
        json!([
            "Balls to the Wall",
            "Restless and Wild",
            "Restless and Wild",
            "Restless and Wild"
        ])
    );
    assert_eq!(starred[0]["unit_price"].as_array().map(Vec::len), Some(4));
    // Without related rows, every key of the spread, nested ones too.
    assert_eq!(
        get_json(
            &s,
            "/artist",
            "select=...albums(album_id,...tracks(track_id),genre:tracks(genre_id))&artist_id=eq.25"
        )
        .await,
        json!([{"album_id": [], "track_id": [], "genre": []}])
    );
    // `...rel(*)` without a related row: every field `*` reads, `[]`
    // (to-many) or `null` (to-one), as PostgREST answers.
    assert_eq!(
        get_json(
            &s,
            "/artist",
            "select=...albums(*)&artist_id=in.(1,25)&order=artist_id&albums.order=album_id"
        )
        .await,
        json!([
            {"album_id": [1, 4], "title": ["For Those About To Rock We Salute You", "Let There Be Rock"], "artist_id": [1, 1]},
            {"album_id": [], "title": [], "artist_id": []}
        ])
    );
    let managed = get_json(
        &s,
        "/employee",
        "select=...manager(*)&employee_id=in.(1,2)&order=employee_id",
    )
    .await;
    let (top, second) = (
        managed[0].as_object().unwrap(),
        managed[1].as_object().unwrap(),
    );
    assert!(top.len() > 10, "{managed}");
    assert!(
        top.keys().eq(second.keys()) && top.values().all(J::is_null),
        "{managed}"
    );
    assert_eq!(second["last_name"], "Adams");
    // Aggregates in a to-many spread (PostgREST 13): over every related
    // row of the parent, joining it as values (`count` 0 and `sum` null
    // without related rows); its fields, arrays of every row's value; one
    // to-many and many-to-many.
    assert_eq!(
        get_json(
            &s,
            "/customer",
            "select=customer_id,...invoices(count(),spent:total.sum())&customer_id=in.(1,2)&order=customer_id"
        )
        .await,
        json!([
            {"customer_id": 1, "count": 7, "spent": 39.62},
            {"customer_id": 2, "count": 7, "spent": 37.62}
        ])
    );
    assert_eq!(
        get_json(
            &s,
            "/customer",
            "select=customer_id,...invoices(invoice_id,n:count())&customer_id=eq.2&invoices.order=invoice_id"
        )
        .await,
        json!([{"customer_id": 2, "invoice_id": [1, 12, 67, 196, 219, 241, 293], "n": 7}])
    );
    assert_eq!(
        get_json(
            &s,
            "/artist",
            "select=artist_id,...albums(title,count(),first:title.min())&artist_id=in.(1,25)&order=artist_id&albums.order=title"
        )
        .await,
        json!([
            {"artist_id": 1, "title": ["For Those About To Rock We Salute You", "Let There Be Rock"], "count": 2, "first": "For Those About To Rock We Salute You"},
            {"artist_id": 25, "title": [], "count": 0, "first": null}
        ])
    );
    assert_eq!(
        get_json(
            &s,
            "/playlist",
            "select=playlist_id,...tracks(count())&playlist_id=in.(2,3)&order=playlist_id"
        )
        .await,
        json!([{"playlist_id": 2, "count": 0}, {"playlist_id": 3, "count": 213}])
    );
    // Under a to-one spread, a to-many spread's aggregates reach the root.
    assert_eq!(
        get_json(
            &s,
            "/track",
            "select=track_id,...album(title,...tracks(album_tracks:count()))&track_id=eq.1"
        )
        .await,
        json!([{"track_id": 1, "title": "For Those About To Rock We Salute You", "album_tracks": 10}])
    );
    // A to-one spread's `count()` counts its parent's rows, grouped by the
    // spread's fields (here, as PostgREST, by its related row); alone, it
    // groups nothing.
    assert_eq!(
        get_json(
            &s,
            "/track",
            "select=...album(title,n:count())&album_id=lte.2&order=album(title).desc"
        )
        .await,
        json!([
            {"n": 10, "title": "For Those About To Rock We Salute You"},
            {"n": 1, "title": "Balls to the Wall"}
        ])
    );
    assert_eq!(
        get_json(&s, "/track", "select=...album(count())&album_id=lte.2").await,
        json!([{"count": 11}])
    );
    // Aggregates of a to-one spread's own fields are over the parent's
    // rows too, the related row joined to each (PostgREST's
    // `...category(budget.sum())`): album 1 has 10 tracks, album 2 one.
    assert_eq!(
        get_json(
            &s,
            "/track",
            "select=...album(title,ids:album_id.sum(),top:album_id.max()),n:count()&album_id=lte.2&order=title"
        )
        .await,
        json!([
            {"title": "Balls to the Wall", "ids": 2, "top": 2, "n": 1},
            {"title": "For Those About To Rock We Salute You", "ids": 10, "top": 1, "n": 10}
        ])
    );
    // Ordered through the spread (PostgREST's `order=rel(col)` of a
    // spread's field, or of its alias): by the joined row's group.
    assert_eq!(
        get_json(
            &s,
            "/track",
            "select=...genre(name),n:count()&order=genre(name)&limit=3"
        )
        .await,
        json!([
            {"name": "Alternative", "n": 40},
            {"name": "Alternative & Punk", "n": 332},
            {"name": "Blues", "n": 81}
        ])
    );
    assert_eq!(
        get_json(
            &s,
            "/track",
            "select=...album(cost_sum:album_id.sum()),...genre(category:name)&order=genre(category).desc&limit=2"
        )
        .await,
        json!([
            {"cost_sum": 4194, "category": "World"},
            {"cost_sum": 22220, "category": "TV Shows"}
        ])
    );
    assert_eq!(
        get_json(
            &s,
            "/invoice_line",
            "select=...invoice(id:invoice_id,n:count())&order=invoice(id)&limit=3"
        )
        .await,
        json!([{"id": 1, "n": 2}, {"id": 2, "n": 4}, {"id": 3, "n": 6}])
    );
    assert_eq!(
        get_json(
            &s,
            "/track",
            "select=...album(album_id.max(),n:count())&album_id=lte.2"
        )
        .await,
        json!([{"max": 2, "n": 11}])
    );
    // A left join, as PostgREST's: the employee without a manager is a
    // group of its own, its manager's fields null. Grouped by the
    // manager's name (Adams manages 2 and 6, Edwards 3-5, Mitchell 7-8),
    // beside a to-one embedding and the parent's own groups.
    assert_eq!(
        get_json(
            &s,
            "/employee",
            "select=...reports_to(last_name,ids:employee_id.sum()),n:count()&order=last_name.nullsfirst"
        )
        .await,
        json!([
            {"last_name": null, "ids": null, "n": 1},
            {"last_name": "Adams", "ids": 2, "n": 2},
            {"last_name": "Edwards", "ids": 6, "n": 3},
            {"last_name": "Mitchell", "ids": 12, "n": 2}
        ])
    );
    assert_eq!(
        get_json(
            &s,
            "/employee",
            "select=title,...reports_to(boss:last_name,n:employee_id.count())&employee_id=in.(2,3,4)&order=title"
        )
        .await,
        json!([
            {"title": "Sales Manager", "boss": "Adams", "n": 1},
            {"title": "Sales Support Agent", "boss": "Edwards", "n": 2}
        ])
    );
    // Beside the parent's own aggregates, each over its entity's fields.
    assert_eq!(
        get_json(
            &s,
            "/track",
            "select=ms:milliseconds.sum(),...album(title,ids:album_id.sum()),price:unit_price.sum()&album_id=lte.2&order=ms.desc"
        )
        .await,
        json!([
            {"ms": 2400415, "title": "For Those About To Rock We Salute You", "ids": 10, "price": serde_json::from_str::<J>("9.90").unwrap()},
            {"ms": 342562, "title": "Balls to the Wall", "ids": 2, "price": 0.99}
        ])
    );
    // Inside a one-to-many embedding, a to-one spread's aggregates are
    // over the embedding's rows, per parent, its related row joined to
    // each: the tracks of each album by genre, with their count.
    assert_eq!(
        get_json(
            &s,
            "/album",
            "select=title,track(...genre(name,n:genre_id.count()))&album_id=lt.3&order=album_id"
        )
        .await,
        json!([
            {"title": "For Those About To Rock We Salute You", "track": [{"name": "Rock", "n": 10}]},
            {"title": "Balls to the Wall", "track": [{"name": "Rock", "n": 1}]}
        ])
    );
    // Ungrouped, with the spread's raised `count()`: one answer per
    // parent, also for a parent without related rows.
    assert_eq!(
        get_json(
            &s,
            "/artist",
            "select=name,album(...artist(s:artist_id.sum(),n:count()))&artist_id=in.(1,2,25)&order=artist_id&album.album_id=lt.9000"
        )
        .await,
        json!([
            {"name": "AC/DC", "album": [{"s": 2, "n": 2}]},
            {"name": "Accept", "album": [{"s": 4, "n": 2}]},
            {"name": "Milton Nascimento & Bebeto", "album": [{"s": null, "n": 0}]}
        ])
    );
    // Beside the embedding's own aggregates and a to-one embedding.
    assert_eq!(
        get_json(
            &s,
            "/album",
            "select=title,track(ms:milliseconds.sum(),...genre(g:name,x:genre_id.max()),media_type(name))&album_id=in.(2,3)&order=album_id"
        )
        .await,
        json!([
            {"title": "Balls to the Wall", "track": [
                {"ms": 342562, "g": "Rock", "x": 1, "media_type": {"name": "Protected AAC audio file"}}
            ]},
            {"title": "Restless and Wild", "track": [
                {"ms": 858088, "g": "Rock", "x": 1, "media_type": {"name": "Protected AAC audio file"}}
            ]}
        ])
    );
    // Two to-one spreads with aggregates: each related row joined, the
    // groups by both, each spread's aggregates over its own fields, keys
    // in `select=` order (aliases included).
    assert_eq!(
        get_json(
            &s,
            "/track",
            "select=...album(title,ids:album_id.sum()),...genre(genre:name,g:genre_id.max()),n:count()&album_id=lte.2&order=title"
        )
        .await,
        json!([
            {"title": "Balls to the Wall", "ids": 2, "genre": "Rock", "g": 1, "n": 1},
            {"title": "For Those About To Rock We Salute You", "ids": 10, "genre": "Rock", "g": 1, "n": 10}
        ])
    );
    assert_eq!(
        get_json(
            &s,
            "/track",
            "select=ms:milliseconds.max(),...media_type(kind:name,m:media_type_id.min()),...album(a:album_id.count())&album_id=in.(2,3)&order=ms"
        )
        .await,
        json!([
            {"ms": 375418, "kind": "Protected AAC audio file", "m": 2, "a": 4}
        ])
    );
    // One name in both joined rows: each is answered apart, aliased as
    // listed, ordered through its spread.
    assert_eq!(
        get_json(
            &s,
            "/track",
            "select=...media_type(kind:name,m:media_type_id.min()),...genre(g_name:name,g:genre_id.max())&order=media_type(kind),genre(g_name).desc&limit=3"
        )
        .await,
        json!([
            {"kind": "AAC audio file", "m": 5, "g_name": "World", "g": 16},
            {"kind": "AAC audio file", "m": 5, "g_name": "Rock", "g": 1},
            {"kind": "AAC audio file", "m": 5, "g_name": "Latin", "g": 7}
        ])
    );
    // Not aliased, the later spread's value is the one the row shows (as
    // a client reads PostgREST's object with the key twice); both group.
    let r = same(
        &s,
        "GET",
        "/track",
        "select=...media_type(name),...genre(name),n:count()&order=genre(name),media_type(name)&limit=1",
        &[],
        "",
    )
    .await;
    assert_eq!(r.text(), r#"[{"name":"Alternative","n":38}]"#);
    // Spreads inside a spread, their aggregates over the root's rows
    // (PostgREST's nested to-one spreads): invoice lines by their track's
    // media type, summing the albums' ids; grouped by a nested embedding.
    assert_eq!(
        get_json(
            &s,
            "/invoice_line",
            "select=...track(media_type_id,...album(album_id.sum()))&order=track(media_type_id).desc&limit=2"
        )
        .await,
        json!([{"media_type_id": 5, "sum": 794}, {"media_type_id": 4, "sum": 1272}])
    );
    assert_eq!(
        get_json(
            &s,
            "/invoice_line",
            "select=...track(kind:media_type(media_type_id),...album(s:album_id.sum()),...genre(g:name))&invoice_id=eq.1&order=track(g)"
        )
        .await,
        json!([{"kind": {"media_type_id": 2}, "s": 5, "g": "Rock"}])
    );
    assert_eq!(
        get_json(
            &s,
            "/invoice_line",
            "select=invoice_id,...track(mt:media_type_id,tc:count(),...album(ac:album_id.count()))&invoice_id=lt.3&order=invoice_id"
        )
        .await,
        json!([
            {"invoice_id": 1, "mt": 2, "tc": 2, "ac": 2},
            {"invoice_id": 2, "mt": 1, "tc": 4, "ac": 4}
        ])
    );
    // Inside an embedding, the same: each invoice's lines so grouped.
    assert_eq!(
        get_json(
            &s,
            "/invoice",
            "select=invoice_id,lines(...track(...album(album_id.sum()),...genre(name)))&invoice_id=lt.3&order=invoice_id"
        )
        .await,
        json!([
            {"invoice_id": 1, "lines": [{"sum": 5, "name": "Rock"}]},
            {"invoice_id": 2, "lines": [{"sum": 4, "name": "Rock"}]}
        ])
    );
    // No row: no group, as the other groupings (none at all: one answer
    // over no row).
    assert_eq!(
        get_json(
            &s,
            "/track",
            "select=...album(title,album_id.sum())&track_id=eq.-1"
        )
        .await,
        json!([])
    );
    assert_eq!(
        get_json(
            &s,
            "/track",
            "select=...album(album_id.sum()),n:count()&track_id=eq.-1"
        )
        .await,
        json!([{"sum": null, "n": 0}])
    );
    // Their grouping and aggregates apply the related entity's rules: an
    // unknown field, a sum of text.
    for (path, q, status) in [
        ("/track", "select=...album(nope.sum())", 4),
        ("/track", "select=...album(title.sum())", 4),
    ] {
        let r = same(&s, "GET", path, q, &[], "").await;
        assert_eq!(r.status / 100, status, "{q}: {} {}", r.status, r.text());
        if status == 5 {
            assert_eq!(r.status, 501, "{q}: {}", r.text());
        }
    }
    // Two joined rows answering one key, inside an embedding: both group;
    // the later spread's value shows.
    assert_eq!(
        same(
            &s,
            "GET",
            "/album",
            "select=track(...genre(name,genre_id.max()),...media_type(name,media_type_id.min()))&album_id=eq.1",
            &[],
            "",
        )
        .await
        .text(),
        r#"[{"track":[{"name":"MPEG audio file","max":1,"min":1}]}]"#
    );
    // Inside a to-many spread, a spread's aggregates: PostgREST's 400
    // PGRST127 (it refuses aggregates in any to-many spread).
    let r = same(
        &s,
        "GET",
        "/artist",
        "select=name,...albums(...tracks(count()))&artist_id=eq.1",
        &[],
        "",
    )
    .await;
    assert_eq!(r.status, 400, "{}", r.text());
    assert_eq!(r.json()["code"], "PGRST127", "{}", r.text());
    let r = same(
        &s,
        "GET",
        "/track",
        "select=track_id,...album&track_id=eq.1",
        &[],
        "",
    )
    .await;
    assert_eq!(r.status, 400, "{}", r.text());
    let r = same(
        &s,
        "GET",
        "/track",
        "select=track_id,...x:album(title)&track_id=eq.1",
        &[],
        "",
    )
    .await;
    assert_eq!(r.status, 400, "{}", r.text());
}

/// Item 12: aggregates in `select`, grouped by the other listed fields,
/// with the read's filters, order and limit; the same JSON on every engine.
#[tokio::test]
async fn aggregates_in_select() {
    let Some(s) = service("aggregates").await else {
        return;
    };
    // A cast of the result (PostgREST's `count()::text`,
    // `total.sum()::text`): at the top, beside groups, in an embedding and
    // in a to-one spread (its raised count too).
    let r = same(
        &s,
        "GET",
        "/invoice",
        "select=count()::text,s:total.sum()::text,billing_country&order=billing_country&limit=2",
        &[],
        "",
    )
    .await;
    assert_eq!(
        r.text(),
        r#"[{"count":"7","s":"37.62","billing_country":"Argentina"},{"count":"7","s":"37.62","billing_country":"Australia"}]"#
    );
    assert_eq!(
        same(&s, "GET", "/invoice", "select=n:count()::text", &[], "")
            .await
            .text(),
        r#"[{"n":"412"}]"#
    );
    // `select=count`, as PostgREST keeps it for compatibility (the entity
    // has no `count` field).
    assert_eq!(
        get_json(&s, "/invoice", "select=count").await,
        json!([{"count": 412}])
    );
    assert_eq!(
        get_json(
            &s,
            "/invoice",
            "select=billing_country,n:count&billing_country=in.(Norway,Poland)&order=billing_country"
        )
        .await,
        json!([{"billing_country": "Norway", "n": 7}, {"billing_country": "Poland", "n": 7}])
    );
    // Casts PostgreSQL has none of (a count is a `bigint`; a sum of
    // decimals `numeric`): its 400, on every engine; an `integer`'s max
    // casts to a boolean.
    for query in [
        "select=count()::bool",
        "select=total.sum()::boolean",
        "select=total.avg()::bool",
        "select=count()::date",
    ] {
        refused(&s, "GET", "/invoice", query, &[], "", "42846").await;
    }
    assert_eq!(
        get_json(
            &s,
            "/invoice",
            "select=invoice_id.max()::bool,n:count()::int4"
        )
        .await,
        json!([{"max": true, "n": 412}])
    );
    assert_eq!(
        get_json(
            &s,
            "/track",
            "select=...album(title,n:count()::text,s:album_id.sum()::text)&album_id=lt.3&order=album(title)"
        )
        .await,
        json!([
            {"title": "Balls to the Wall", "n": "1", "s": "2"},
            {"title": "For Those About To Rock We Salute You", "n": "10", "s": "10"}
        ])
    );
    assert_eq!(
        get_json(
            &s,
            "/customer",
            "select=customer_id,invoices(total.sum()::text)&customer_id=lt.3&order=customer_id"
        )
        .await,
        json!([
            {"customer_id": 1, "invoices": [{"sum": "39.62"}]},
            {"customer_id": 2, "invoices": [{"sum": "37.62"}]}
        ])
    );
    assert_eq!(
        get_json(
            &s,
            "/track",
            "select=album_id,count(),track_id.min(),last:track_id.max()&album_id=lte.2&order=album_id"
        )
        .await,
        json!([
            {"album_id": 1, "count": 10, "min": 1, "last": 14},
            {"album_id": 2, "count": 1, "min": 2, "last": 2}
        ])
    );
    let ms = get_json(&s, "/track", "select=milliseconds&album_id=eq.2").await;
    assert_eq!(
        get_json(&s, "/track", "select=milliseconds.sum()&album_id=eq.2").await,
        json!([{"sum": ms[0]["milliseconds"]}])
    );
    assert_eq!(
        get_json(&s, "/track", "select=count()&album_id=eq.1").await,
        json!([{"count": 10}])
    );
    // `col.count()` counts the rows whose field is not null, at the top
    // level and inside an embedding.
    assert_eq!(
        get_json(
            &s,
            "/track",
            "select=album_id,composers:composer.count(),count()&album_id=in.(7,8)&order=album_id"
        )
        .await,
        json!([
            {"album_id": 7, "composers": 12, "count": 12},
            {"album_id": 8, "composers": 0, "count": 14}
        ])
    );
    assert_eq!(
        get_json(
            &s,
            "/album",
            "select=album_id,tracks(composer.count())&album_id=in.(7,8)&order=album_id"
        )
        .await,
        json!([
            {"album_id": 7, "tracks": [{"count": 12}]},
            {"album_id": 8, "tracks": [{"count": 0}]}
        ])
    );
    for (qs, status) in [("select=*,count()", 400), ("select=name.sum()", 422)] {
        let r = same(&s, "GET", "/track", qs, &[], "").await;
        assert_eq!(r.status, status, "{qs}: {}", r.text());
    }
    // A page of groups: `offset` and `limit` (the `Range` header too).
    assert_eq!(
        get_json(
            &s,
            "/track",
            "select=album_id,count()&album_id=lte.5&order=album_id&offset=2&limit=2"
        )
        .await,
        json!([{"album_id": 3, "count": 3}, {"album_id": 4, "count": 8}])
    );
    let r = same(
        &s,
        "GET",
        "/track",
        "select=album_id,count()&album_id=lte.5&order=album_id",
        &[("Range", "3-10")],
        "",
    )
    .await;
    assert_eq!(
        r.json(),
        json!([{"album_id": 4, "count": 8}, {"album_id": 5, "count": 15}])
    );
    // Without grouping fields there is one group: an offset skips it.
    assert_eq!(
        get_json(&s, "/track", "select=count()&album_id=eq.1&offset=1").await,
        json!([])
    );
    // To-one embeddings beside aggregates: grouped by the related row's
    // listed fields, as PostgREST groups (its filter applies, as in a
    // read); ordered through it. A root field they do not group is no
    // order (422, where PostgreSQL refuses PostgREST's statement).
    assert_eq!(
        get_json(
            &s,
            "/album",
            "select=artist(name),count()&artist_id=lte.3&order=artist(name)"
        )
        .await,
        json!([
            {"artist": {"name": "AC/DC"}, "count": 2},
            {"artist": {"name": "Accept"}, "count": 2},
            {"artist": {"name": "Aerosmith"}, "count": 1}
        ])
    );
    let (status, body) = same_error(
        &s,
        "GET",
        "/album",
        "select=artist(name),count()&order=artist_id",
        "",
    )
    .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(
        get_json(
            &s,
            "/track",
            "select=media_type_id,n:count(),album(title),g:genre(name)&album_id=in.(1,2)&order=media_type_id,album(title)&g.name=eq.Rock"
        )
        .await,
        json!([
            {"media_type_id": 1, "n": 10, "album": {"title": "For Those About To Rock We Salute You"}, "g": {"name": "Rock"}},
            {"media_type_id": 2, "n": 1, "album": {"title": "Balls to the Wall"}, "g": {"name": "Rock"}}
        ])
    );
    // To-many embeddings beside aggregates: 501 (the message names the engine).
    for t in TENANTS {
        let r = s
            .handle(RestRequest::new(
                "GET",
                format!("/{t}/album"),
                "select=tracks(name),count()",
            ))
            .await;
        assert_eq!(r.status, 501, "{t}: {}", r.text());
    }
    // Grouped by a cast that merges stored values, as PostgREST groups:
    // by the cast value (totals 1.98 and 1.99 are one group `2`), ordered
    // by it, with the page after the grouping; identical on four engines.
    let r = same(
        &s,
        "GET",
        "/invoice",
        "select=n:total::int,count(),total.min(),total.max()&order=total&limit=4",
        &[],
        "",
    )
    .await;
    assert_eq!(
        r.json(),
        json!([
            {"n": 1, "count": 55, "min": 0.99, "max": 0.99},
            {"n": 2, "count": 115, "min": 1.98, "max": 1.99},
            {"n": 3, "count": 1, "min": 2.98, "max": 2.98},
            {"n": 4, "count": 62, "min": 3.96, "max": 3.98}
        ]),
        "{}",
        r.text()
    );
    let r = same(
        &s,
        "GET",
        "/invoice",
        "select=total::int2,count()&order=total.desc&offset=1&limit=2&total=gt.20",
        &[],
        "",
    )
    .await;
    assert_eq!(
        r.json(),
        json!([{"total": 24, "count": 1}, {"total": 22, "count": 2}]),
        "{}",
        r.text()
    );
    // The date of a timestamp: one group per day, the date shown.
    let r = same(
        &s,
        "GET",
        "/invoice",
        "select=day:invoice_date::date,count(),total.sum()&invoice_date=lt.2021-01-12&order=invoice_date.desc",
        &[],
        "",
    )
    .await;
    assert_eq!(
        r.json(),
        json!([
            {"day": "2021-01-11", "count": 1, "sum": 13.86},
            {"day": "2021-01-06", "count": 1, "sum": 8.91},
            {"day": "2021-01-03", "count": 1, "sum": 5.94},
            {"day": "2021-01-02", "count": 1, "sum": 3.96},
            {"day": "2021-01-01", "count": 1, "sum": 1.98}
        ]),
        "{}",
        r.text()
    );
    // Whether an integer is not zero (a null stays its own group).
    let r = same(
        &s,
        "GET",
        "/employee",
        "select=boss:reports_to::bool,count()&order=reports_to",
        &[],
        "",
    )
    .await;
    assert_eq!(
        r.json(),
        json!([{"boss": true, "count": 7}, {"boss": null, "count": 1}]),
        "{}",
        r.text()
    );
    // Other merging casts are PostgreSQL's own (a 501 naming the engine
    // elsewhere): the time of a timestamp, a float4, a text's integer.
    on_postgres_only(
        &s,
        "/track",
        "select=p:unit_price::float4,n:count()&order=unit_price",
        json!([{"p": 0.99, "n": 3290}, {"p": 1.99, "n": 213}]),
    )
    .await;
    let r = s
        .handle(RestRequest::new(
            "GET",
            "/pg/invoice",
            "select=at:invoice_date::time,count()",
        ))
        .await;
    assert_eq!(
        r.json(),
        json!([{"at": "00:00:00", "count": 412}]),
        "{}",
        r.text()
    );
    // A text that is no integer: PostgreSQL's error, a 400.
    let r = s
        .handle(RestRequest::new(
            "GET",
            "/pg/track",
            "select=name::int,count()",
        ))
        .await;
    assert_eq!(
        (r.status, r.json()["code"].as_str()),
        (400, Some("22P02")),
        "{}",
        r.text()
    );
    // Beside the field itself: grouped by the stored value, which decides
    // the cast (as PostgREST's grouping by both).
    let r = same(
        &s,
        "GET",
        "/invoice",
        "select=n:total::int,total,count()&total=lt.2&order=total",
        &[],
        "",
    )
    .await;
    assert_eq!(
        r.json(),
        json!([
            {"n": 1, "total": 0.99, "count": 55},
            {"n": 2, "total": 1.98, "count": 111},
            {"n": 2, "total": 1.99, "count": 4}
        ]),
        "{}",
        r.text()
    );
    // Two different merging forms of one field: each groups, answered
    // under its key and ordered by it (the time is PostgreSQL's cast: a
    // 501 naming the engine elsewhere; two forms every engine computes:
    // the conformance case `aggregate_group_by_values`).
    on_postgres_only(
        &s,
        "/invoice",
        "select=d:invoice_date::date,t:invoice_date::time,count()&invoice_id=lt.4&order=d.desc,t",
        json!([
            {"d": "2021-01-03", "t": "00:00:00", "count": 1},
            {"d": "2021-01-02", "t": "00:00:00", "count": 1},
            {"d": "2021-01-01", "t": "00:00:00", "count": 1}
        ]),
    )
    .await;
    let r = same(
        &s,
        "GET",
        "/invoice",
        "select=total::text,count()&total=lt.1&order=total",
        &[],
        "",
    )
    .await;
    assert_eq!(r.json(), json!([{"total": "0.99", "count": 55}]));
}

/// Input casts of aggregates (item 12; PostgREST's `jsonb_col->>key::integer.sum()`):
/// the aggregate of a value computed from the field, on four engines
/// where every engine computes it alike (a rounded number, a date, an
/// integer's truth), at the top, beside groups, inside an embedding and a
/// spread; the database's own casts on PostgreSQL (a 501 naming the
/// engine elsewhere).
#[tokio::test]
async fn aggregate_input_casts() {
    let Some(s) = service("aggcast").await else {
        return;
    };
    for (path, query, want) in [
        (
            "/invoice",
            "select=r:total::int.sum(),s:total.sum()&invoice_id=lt.6",
            json!([{"r": 35, "s": 34.65}]),
        ),
        (
            "/invoice",
            "select=customer_id,last:invoice_date::date.max(),first:invoice_date::date.min()&customer_id=lt.3&order=customer_id",
            json!([
                {"customer_id": 1, "last": "2025-08-07", "first": "2022-03-11"},
                {"customer_id": 2, "last": "2024-07-13", "first": "2021-01-01"}
            ]),
        ),
        (
            "/employee",
            "select=n:reports_to::bool.count()",
            json!([{"n": 7}]),
        ),
        (
            "/customer",
            "select=customer_id,invoice(total::int.sum())&customer_id=lt.3&order=customer_id",
            json!([
                {"customer_id": 1, "invoice": [{"sum": 40}]},
                {"customer_id": 2, "invoice": [{"sum": 38}]}
            ]),
        ),
        (
            "/invoice_line",
            "select=...invoice(m:total::int.max()),count()&invoice_id=lt.3",
            json!([{"m": 4, "count": 6}]),
        ),
        (
            "/track",
            "select=t:name::text.max(),n:milliseconds::numeric.max()&track_id=lt.3",
            json!([{"t": "For Those About To Rock (We Salute You)", "n": 343719}]),
        ),
    ] {
        assert_eq!(get_json(&s, path, query).await, want, "{path}?{query}");
    }
    // The database's own cast (the text of a number orders as text).
    on_postgres_only(
        &s,
        "/track",
        "select=m:milliseconds::text.max()",
        json!([{"m": "99369"}]),
    )
    .await;
    // A value the aggregate does not apply to, every engine alike: a 422.
    for (path, query) in [
        ("/invoice", "select=invoice_date::date.sum()"),
        // PostgreSQL has no `max` of booleans.
        ("/employee", "select=reports_to::bool.max()"),
    ] {
        let r = same(&s, "GET", path, query, &[], "").await;
        assert_eq!(r.status, 422, "{query}: {}", r.text());
    }
    let r = same(&s, "GET", "/track", "select=name->a.max()", &[], "").await;
    assert_eq!(r.status, 400, "{}", r.text());
    assert!(r.text().contains("not a JSON field"), "{}", r.text());
    // A text that is no integer: PostgreSQL's error, a 400.
    let r = s
        .handle(RestRequest::new(
            "GET",
            "/pg/track",
            "select=name::int.sum()",
        ))
        .await;
    assert_eq!(
        (r.status, r.json()["code"].as_str()),
        (400, Some("22P02")),
        "{}",
        r.text()
    );
}

/// Aggregates inside a one-to-many embedding (item 12): `rel(count)` and
/// `rel(count())`, grouped by the embedding's listed fields, with the
/// embedding's filter; a parent without related rows still gets its
/// count; identical on four engines.
#[tokio::test]
async fn aggregates_in_embeddings() {
    let Some(s) = service("embedded_aggregates").await else {
        return;
    };
    // Inside a to-one embedding, as PostgREST's grouped related row: over
    // its one related row (`{"count": 0}` without one; `null` when grouped
    // and there is none), a spread inside it too.
    for (path, query, want) in [
        (
            "/album",
            "select=album_id,artist(count())&album_id=lte.2&order=album_id",
            json!([{"album_id": 1, "artist": {"count": 1}}, {"album_id": 2, "artist": {"count": 1}}]),
        ),
        (
            "/album",
            "select=album_id,artist(name,n:count(),artist_id.sum())&album_id=eq.2",
            json!([{"album_id": 2, "artist": {"name": "Accept", "n": 1, "sum": 2}}]),
        ),
        (
            "/employee",
            "select=employee_id,boss:reports_to(count(),employee_id.max())&employee_id=lte.2&order=employee_id",
            json!([
                {"employee_id": 1, "boss": {"count": 0, "max": null}},
                {"employee_id": 2, "boss": {"count": 1, "max": 1}}
            ]),
        ),
        (
            "/employee",
            "select=employee_id,boss:reports_to(title,count())&employee_id=lte.2&order=employee_id",
            json!([
                {"employee_id": 1, "boss": null},
                {"employee_id": 2, "boss": {"title": "General Manager", "count": 1}}
            ]),
        ),
        (
            "/track",
            "select=name,album(title,...artist(artist_id.sum()))&track_id=eq.1",
            json!([{"name": "For Those About To Rock (We Salute You)",
                    "album": {"title": "For Those About To Rock We Salute You", "sum": 1}}]),
        ),
        // Inside a to-many embedding too: per track, not over the album's
        // tracks (a to-one spread's are: its parent's rows grouped).
        (
            "/album",
            "select=album_id,tracks(genre(count(),genre_id.sum()))&album_id=eq.2",
            json!([{"album_id": 2, "tracks": [{"genre": {"count": 1, "sum": 1}}]}]),
        ),
        (
            "/album",
            "select=album_id,tracks(media_type(n:count()))&album_id=eq.1&tracks.limit=2&tracks.order=track_id",
            json!([{"album_id": 1, "tracks": [{"media_type": {"n": 1}}, {"media_type": {"n": 1}}]}]),
        ),
        (
            "/album",
            "select=album_id,tracks(...media_type(n:count()))&album_id=eq.1",
            json!([{"album_id": 1, "tracks": [{"n": 10}]}]),
        ),
        // Beside top-level aggregates: over each group's related row.
        (
            "/track",
            "select=n:count(),album(count())&album_id=eq.1",
            json!([{"n": 10, "album": {"count": 1}}]),
        ),
    ] {
        assert_eq!(get_json(&s, path, query).await, want, "{query}");
    }
    for qs in [
        "select=album_id,tracks(count)&album_id=lte.2&order=album_id",
        "select=album_id,tracks(count())&album_id=lte.2&order=album_id",
    ] {
        assert_eq!(
            get_json(&s, "/album", qs).await,
            json!([
                {"album_id": 1, "tracks": [{"count": 10}]},
                {"album_id": 2, "tracks": [{"count": 1}]}
            ]),
            "{qs}"
        );
    }
    // Grouped by the listed field, with the sum and an alias.
    assert_eq!(
        get_json(
            &s,
            "/album",
            "select=album_id,tracks(media_type_id,n:count(),milliseconds.sum())&album_id=in.(1,2)&order=album_id"
        )
        .await,
        json!([
            {"album_id": 1, "tracks": [{"media_type_id": 1, "n": 10, "sum": 2400415}]},
            {"album_id": 2, "tracks": [{"media_type_id": 2, "n": 1, "sum": 342562}]}
        ])
    );
    // The embedding's filter applies; no related row: count 0 (and [] when
    // grouped).
    assert_eq!(
        get_json(
            &s,
            "/album",
            "select=album_id,long:tracks(count)&long.milliseconds=gt.300000&album_id=eq.1"
        )
        .await,
        json!([{"album_id": 1, "long": [{"count": 1}]}])
    );
    assert_eq!(
        get_json(
            &s,
            "/artist",
            "select=artist_id,albums(count),by:albums(artist_id,count())&artist_id=in.(25,26)&order=artist_id"
        )
        .await,
        json!([
            {"artist_id": 25, "albums": [{"count": 0}], "by": []},
            {"artist_id": 26, "albums": [{"count": 0}], "by": []}
        ])
    );
    // A renamed grouping field.
    assert_eq!(
        get_json(
            &s,
            "/album",
            "select=album_id,tracks(kind:media_type_id,n:count())&album_id=in.(1,2)&order=album_id"
        )
        .await,
        json!([
            {"album_id": 1, "tracks": [{"kind": 1, "n": 10}]},
            {"album_id": 2, "tracks": [{"kind": 2, "n": 1}]}
        ])
    );
    // Groups that embed a to-one relation: grouped by it; a parent
    // without related rows has no group.
    assert_eq!(
        get_json(
            &s,
            "/album",
            "select=album_id,tracks(genre(name),n:count())&album_id=in.(73,102)&order=album_id"
        )
        .await,
        json!([
            {"album_id": 73, "tracks": [
                {"genre": {"name": "Blues"}, "n": 14},
                {"genre": {"name": "Latin"}, "n": 16}
            ]},
            {"album_id": 102, "tracks": [
                {"genre": {"name": "Heavy Metal"}, "n": 7},
                {"genre": {"name": "Metal"}, "n": 11}
            ]}
        ])
    );
    assert_eq!(
        get_json(
            &s,
            "/artist",
            "select=artist_id,albums(artist(name),count())&artist_id=in.(1,25)&order=artist_id"
        )
        .await,
        json!([
            {"artist_id": 1, "albums": [{"count": 2, "artist": {"name": "AC/DC"}}]},
            {"artist_id": 25, "albums": []}
        ])
    );
    // Many-to-many: `count()` of the linked rows (the junction's), with the
    // embedding's filter on the targets.
    assert_eq!(
        get_json(
            &s,
            "/playlist",
            "select=playlist_id,tracks(count),rock:tracks(count)&rock.genre_id=eq.1&playlist_id=in.(1,2,3,5)&order=playlist_id"
        )
        .await,
        json!([
            {"playlist_id": 1, "tracks": [{"count": 3290}], "rock": [{"count": 1297}]},
            {"playlist_id": 2, "tracks": [{"count": 0}], "rock": [{"count": 0}]},
            {"playlist_id": 3, "tracks": [{"count": 213}], "rock": [{"count": 0}]},
            {"playlist_id": 5, "tracks": [{"count": 1477}], "rock": [{"count": 621}]}
        ])
    );
    assert_eq!(
        get_json(
            &s,
            "/track",
            "select=track_id,n:playlists(count)&track_id=eq.1"
        )
        .await,
        json!([{"track_id": 1, "n": [{"count": 3}]}])
    );
    // Other aggregates and grouping fields in a many-to-many embedding:
    // over the targets of the junction's rows, grouped by target fields
    // (two playlists are called `Music`), with the embedding's filter.
    assert_eq!(
        get_json(
            &s,
            "/track",
            "select=track_id,playlists(name,count())&track_id=eq.1"
        )
        .await,
        json!([{"track_id": 1, "playlists": [
            {"name": "Heavy Metal Classic", "count": 1},
            {"name": "Music", "count": 2}
        ]}])
    );
    assert_eq!(
        get_json(
            &s,
            "/playlist",
            "select=playlist_id,tracks(milliseconds.sum(),unit_price.max(),price:unit_price.sum(),count())&playlist_id=in.(1,2,3,5)&order=playlist_id"
        )
        .await,
        // Decimals keep their digits (`3257.10`).
        serde_json::from_str::<serde_json::Value>(
            r#"[
            {"playlist_id": 1, "tracks": [{"sum": 877683083, "max": 0.99, "price": 3257.10, "count": 3290}]},
            {"playlist_id": 2, "tracks": [{"sum": null, "max": null, "price": null, "count": 0}]},
            {"playlist_id": 3, "tracks": [{"sum": 501094957, "max": 1.99, "price": 423.87, "count": 213}]},
            {"playlist_id": 5, "tracks": [{"sum": 398705153, "max": 0.99, "price": 1462.23, "count": 1477}]}
        ]"#
        )
        .unwrap()
    );
    assert_eq!(
        get_json(
            &s,
            "/playlist",
            "select=playlist_id,some:tracks(kind:media_type_id,n:count(),price:unit_price.sum())&some.genre_id=in.(1,19)&playlist_id=in.(3,5)&order=playlist_id"
        )
        .await,
        json!([
            {"playlist_id": 3, "some": [{"kind": 3, "n": 93, "price": 185.07}]},
            {"playlist_id": 5, "some": [
                {"kind": 1, "n": 579, "price": 573.21},
                {"kind": 2, "n": 42, "price": 41.58}
            ]}
        ])
    );
    // Its groups embed to-one relations of the targets (grouped by them).
    assert_eq!(
        get_json(
            &s,
            "/playlist",
            "select=playlist_id,tracks(genre(name),count())&playlist_id=in.(3,18)&order=playlist_id"
        )
        .await,
        json!([
            {"playlist_id": 3, "tracks": [
                {"count": 13, "genre": {"name": "Science Fiction"}},
                {"count": 93, "genre": {"name": "TV Shows"}},
                {"count": 26, "genre": {"name": "Sci Fi & Fantasy"}},
                {"count": 64, "genre": {"name": "Drama"}},
                {"count": 17, "genre": {"name": "Comedy"}}
            ]},
            {"playlist_id": 18, "tracks": [{"count": 1, "genre": {"name": "Jazz"}}]}
        ])
    );
    // Grouped by a merging cast inside a one-to-many embedding, as at the
    // top level: by the shown value (totals 3.96 and 3.98 are one group
    // `4`), ordered by it.
    assert_eq!(
        get_json(
            &s,
            "/customer",
            "select=customer_id,invoices(n:total::int,count(),total.sum())&customer_id=eq.1"
        )
        .await,
        json!([{"customer_id": 1, "invoices": [
            {"n": 1, "count": 1, "sum": 0.99},
            {"n": 2, "count": 1, "sum": 1.98},
            {"n": 4, "count": 2, "sum": 7.94},
            {"n": 6, "count": 1, "sum": 5.94},
            {"n": 9, "count": 1, "sum": 8.91},
            {"n": 14, "count": 1, "sum": 13.86}
        ]}])
    );
    // A parent without related rows has no group; a value of the link to
    // the parent is one per parent (the stored link groups, the cast shows).
    assert_eq!(
        get_json(
            &s,
            "/employee",
            "select=employee_id,customers(customer_id::bool,count())&employee_id=in.(1,3)&order=employee_id"
        )
        .await,
        json!([
            {"employee_id": 1, "customers": []},
            {"employee_id": 3, "customers": [{"customer_id": true, "count": 21}]}
        ])
    );
    assert_eq!(
        get_json(
            &s,
            "/customer",
            "select=invoices(customer_id::bool,count())&customer_id=eq.1"
        )
        .await,
        json!([{"invoices": [{"customer_id": true, "count": 7}]}])
    );
    // One field grouped by two values inside the embedding, each under
    // its key; of the link to the parent, each form of its stored value
    // (`::float4` of an integer and `::time` are PostgreSQL's casts: 501
    // naming the engine elsewhere).
    for (qs, want) in [
        (
            "select=customer_id,invoices(d:invoice_date::date,t:invoice_date::time,count())&customer_id=eq.1&invoices.invoice_date=lt.2023-01-01",
            json!([{"customer_id": 1, "invoices": [
                {"d": "2022-03-11", "t": "00:00:00", "count": 1},
                {"d": "2022-06-13", "t": "00:00:00", "count": 1},
                {"d": "2022-09-15", "t": "00:00:00", "count": 1}
            ]}]),
        ),
        (
            "select=customer_id,invoices(a:customer_id::bool,b:customer_id::float4,count())&customer_id=eq.1",
            json!([{"customer_id": 1, "invoices": [{"a": true, "b": 1, "count": 7}]}]),
        ),
    ] {
        on_postgres_only(&s, "/customer", qs, want).await;
    }
    // Inside a many-to-many embedding: over the targets' values.
    assert_eq!(
        get_json(
            &s,
            "/playlist",
            "select=playlist_id,tracks(p:unit_price::int,count())&playlist_id=in.(3,9)&order=playlist_id"
        )
        .await,
        json!([
            {"playlist_id": 3, "tracks": [{"p": 2, "count": 213}]},
            {"playlist_id": 9, "tracks": [{"p": 1, "count": 1}]}
        ])
    );
    // To-many embeddings inside the groups: 501 (the message names each
    // engine).
    for (path, qs) in [("/artist", "select=albums(tracks(name),count())")] {
        for t in TENANTS {
            let r = s
                .handle(RestRequest::new("GET", format!("/{t}{path}"), qs))
                .await;
            assert_eq!(r.status, 501, "{t} {path}?{qs}: {}", r.text());
        }
    }
    assert_eq!(
        get_json(&s, "/track", "select=album(count)&track_id=eq.1").await,
        json!([{"album": {"count": 1}}])
    );
    // A page of an embedding with aggregates pages its groups: one here.
    assert_eq!(
        get_json(
            &s,
            "/album",
            "select=tracks(count)&tracks.limit=2&album_id=eq.1"
        )
        .await,
        json!([{"tracks": [{"count": 10}]}])
    );
    for (path, qs, status) in [("/album", "select=tracks(count,name.sum())", 422)] {
        let r = same(&s, "GET", path, qs, &[], "").await;
        assert_eq!(r.status, status, "{path}?{qs}: {}", r.text());
    }
}

/// A write's representation with embeddings (`POST …?select=*,artist(*)`,
/// postgrest-js's `.insert(…).select('*, artist(*)')`): to-one, to-many,
/// many-to-many, aggregates, aliases, spreads and the embed-only select on
/// `POST`, `PATCH`, `DELETE`, with `tx=rollback`; a refused embedding writes
/// nothing.
#[tokio::test]
async fn write_representation_embeds() {
    let Some(s) = service("write_embeds").await else {
        return;
    };
    let ours = "album_id=gte.9560&album_id=lt.9570";
    same(&s, "DELETE", "/album", ours, &[], "").await;
    let rep = [("Prefer", "return=representation")];
    let r = same(
        &s,
        "POST",
        "/album",
        "select=*,artist(name),tracks(name),n:tracks(count)",
        &rep,
        r#"{"album_id": 9561, "title": "Rep", "artist_id": 1}"#,
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(
        r.json(),
        json!([{"album_id": 9561, "title": "Rep", "artist_id": 1,
                "artist": {"name": "AC/DC"}, "tracks": [], "n": [{"count": 0}]}])
    );
    // The embed only; a renamed embed and a spread.
    let r = same(
        &s,
        "PATCH",
        "/album",
        "album_id=eq.9561&select=artist(name)",
        &rep,
        r#"{"artist_id": 2}"#,
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json(), json!([{"artist": {"name": "Accept"}}]));
    let r = same(
        &s,
        "PATCH",
        "/album",
        "album_id=eq.9561&select=id:album_id,by:artist(artist_id,name),...artist(who:name)",
        &rep,
        r#"{"title": "Rep 2"}"#,
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(
        r.json(),
        json!([{"id": 9561, "by": {"artist_id": 2, "name": "Accept"}, "who": "Accept"}])
    );
    // Singular, by key.
    let r = same(
        &s,
        "PATCH",
        "/album/9561",
        "select=title,artist(name)",
        &[
            ("Prefer", "return=representation"),
            ("Accept", "application/vnd.pgrst.object+json"),
        ],
        r#"{"title": "Rep 3"}"#,
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(
        r.json(),
        json!({"title": "Rep 3", "artist": {"name": "Accept"}})
    );
    // Rolled back: the representation is answered, nothing is kept.
    let r = same(
        &s,
        "POST",
        "/album",
        "select=album_id,artist(name)",
        &[("Prefer", "return=representation, tx=rollback")],
        r#"[{"album_id": 9562, "title": "Gone", "artist_id": 3}, {"album_id": 9563, "title": "Gone", "artist_id": 1}]"#,
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(
        r.json(),
        json!([{"album_id": 9562, "artist": {"name": "Aerosmith"}},
               {"album_id": 9563, "artist": {"name": "AC/DC"}}])
    );
    assert_eq!(
        get_json(&s, "/album", "album_id=in.(9562,9563)").await,
        json!([])
    );
    // Many-to-many and one-to-many of an existing row, with their own
    // order and limit: what a read of the row answers after the update.
    let select = "select=track_id,album(title),playlists(playlist_id),invoice_lines(invoice_line_id)&playlists.order=playlist_id.desc&playlists.limit=2&invoice_lines.order=invoice_line_id";
    let r = same(
        &s,
        "PATCH",
        "/track",
        &format!("track_id=eq.1&{select}"),
        &[("Prefer", "return=representation, tx=rollback")],
        r#"{"name": "For Those About To Rock (We Salute You)"}"#,
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let read = get_json(&s, "/track", &format!("track_id=eq.1&{select}")).await;
    assert_eq!(r.json(), read);
    assert_eq!(read[0]["playlists"].as_array().map(Vec::len), Some(2));
    // The deleted row, with what it pointed at.
    let r = same(
        &s,
        "DELETE",
        "/album",
        "album_id=eq.9561&select=album_id,artist(name)",
        &rep,
        "",
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(
        r.json(),
        json!([{"album_id": 9561, "artist": {"name": "Accept"}}])
    );
    // `!inner` filters the representation, not the write (PostgREST):
    // both rows are written, the one whose artist the embedding's filter
    // drops is not answered; an empty `rel!inner()` filters unseen.
    let r = same(
        &s,
        "POST",
        "/album",
        "select=album_id,artist!inner(name)&artist.artist_id=eq.1",
        &rep,
        r#"[{"album_id": 9566, "title": "In", "artist_id": 1}, {"album_id": 9567, "title": "Out", "artist_id": 2}]"#,
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(
        r.json(),
        json!([{"album_id": 9566, "artist": {"name": "AC/DC"}}])
    );
    assert_eq!(
        get_json(
            &s,
            "/album",
            "album_id=in.(9566,9567)&select=album_id&order=album_id"
        )
        .await,
        json!([{"album_id": 9566}, {"album_id": 9567}])
    );
    let r = same(
        &s,
        "PATCH",
        "/album",
        "album_id=in.(9566,9567)&select=album_id,title,artist!inner()&artist.artist_id=eq.2",
        &rep,
        r#"{"title": "Both"}"#,
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json(), json!([{"album_id": 9567, "title": "Both"}]));
    assert_eq!(
        get_json(
            &s,
            "/album",
            "album_id=in.(9566,9567)&title=eq.Both&select=album_id"
        )
        .await
        .as_array()
        .map(Vec::len),
        Some(2)
    );
    // To-many: an album without tracks is written, not answered.
    let r = same(
        &s,
        "DELETE",
        "/album",
        "album_id=in.(9566,9567)&select=album_id,tracks!inner(name)",
        &rep,
        "",
    )
    .await;
    assert_eq!((r.status, r.json()), (200, json!([])), "{}", r.text());
    assert_eq!(
        get_json(&s, "/album", "album_id=in.(9566,9567)").await,
        json!([])
    );
    // Refused before writing: an unknown embedding, a budget smaller than
    // the rows inserted.
    for (qs, status) in [("select=*,nope(*)", 400), ("select=*,artist(nope)", 400)] {
        let r = same(
            &s,
            "POST",
            "/album",
            qs,
            &rep,
            r#"{"album_id": 9564, "title": "No", "artist_id": 1}"#,
        )
        .await;
        assert_eq!(r.status, status, "{qs}: {}", r.text());
        assert_eq!(get_json(&s, "/album", "album_id=eq.9564").await, json!([]));
    }
    // Without return=representation the embedding is not read.
    let r = same(
        &s,
        "POST",
        "/album",
        "select=*,artist(name)",
        &[],
        r#"{"album_id": 9565, "title": "Quiet", "artist_id": 1}"#,
    )
    .await;
    assert_eq!((r.status, r.text()), (201, String::new()));
    same(&s, "DELETE", "/album", ours, &[], "").await;
}

/// PostgREST's limited update/delete: `PATCH`/`DELETE` with `order` and
/// `limit` (and `offset`) write only those rows; `limit` without `order`
/// is a 400 `PGRST109` and writes nothing.
#[tokio::test]
async fn limited_updates_and_deletes() {
    let Some(s) = service("limited").await else {
        return;
    };
    let ours = "genre_id=gte.9850&genre_id=lt.9860";
    same(&s, "DELETE", "/genre", ours, &[], "").await;
    let r = same(
        &s,
        "POST",
        "/genre",
        "",
        &[],
        r#"[{"genre_id": 9851, "name": "c"}, {"genre_id": 9852, "name": "a"}, {"genre_id": 9853, "name": "b"}, {"genre_id": 9854, "name": "a"}, {"genre_id": 9855, "name": "e"}]"#,
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text());
    let rep = [("Prefer", "return=representation")];
    let r = same(
        &s,
        "PATCH",
        "/genre",
        &format!("{ours}&order=genre_id.desc&limit=2&select=genre_id"),
        &rep,
        r#"{"name": "z"}"#,
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let mut ids: Vec<i64> = r
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["genre_id"].as_i64().unwrap())
        .collect();
    ids.sort_unstable();
    assert_eq!(ids, vec![9854, 9855]);
    // Without a filter, a limited write is bounded all the same (as
    // PostgREST's): the first row in the order. Rolled back.
    let r = same(
        &s,
        "PATCH",
        "/genre",
        "order=genre_id&limit=1&select=genre_id,name",
        &[("Prefer", "return=representation,tx=rollback")],
        r#"{"name": "Rock!"}"#,
    )
    .await;
    assert_eq!(
        (r.status, r.json()),
        (200, json!([{"genre_id": 1, "name": "Rock!"}])),
        "{}",
        r.text()
    );
    let r = same(&s, "DELETE", "/genre", "order=genre_id", &[], "").await;
    assert_eq!(r.status, 400, "{}", r.text());
    // By name, after one: `b` (9853). Ties are broken by the key: of the
    // two `z`, 9854 goes first.
    for qs in ["order=name&limit=1&offset=1", "order=name.desc&limit=1"] {
        let r = same(&s, "DELETE", "/genre", &format!("{ours}&{qs}"), &[], "").await;
        assert_eq!(r.status, 204, "{qs}: {}", r.text());
    }
    assert_eq!(
        get_json(
            &s,
            "/genre",
            &format!("{ours}&order=genre_id&select=genre_id,name")
        )
        .await,
        json!([
            {"genre_id": 9851, "name": "c"},
            {"genre_id": 9852, "name": "a"},
            {"genre_id": 9855, "name": "z"}
        ])
    );
    // No order: refused, nothing written. `order` alone, and `limit` on
    // POST, say nothing of the rows written: ignored, as PostgREST does.
    let r = same(
        &s,
        "PATCH",
        "/genre",
        &format!("{ours}&limit=1"),
        &[],
        r#"{"name": "q"}"#,
    )
    .await;
    assert_eq!(r.status, 400, "{}", r.text());
    assert_eq!(r.json()["code"], "PGRST109");
    let r = same(
        &s,
        "DELETE",
        "/genre",
        &format!("{ours}&order=genre_id"),
        &[],
        "",
    )
    .await;
    assert_eq!(r.status, 204, "order alone: {}", r.text());
    assert_eq!(get_json(&s, "/genre", ours).await, json!([]));
    let r = same(
        &s,
        "POST",
        "/genre",
        "limit=1&offset=1&order=genre_id.desc&select=genre_id",
        &[("Prefer", "return=representation")],
        r#"[{"genre_id": 9858, "name": "q"}, {"genre_id": 9859, "name": "q"}]"#,
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(r.json(), json!([{"genre_id": 9858}, {"genre_id": 9859}]));
    same(&s, "DELETE", "/genre", ours, &[], "").await;
}

/// Item 3's per-tenant option on the four engines: decimals answered as
/// strings wherever a decimal is answered (rows, embeds, the groups and
/// aggregates of a decimal, at the top, inside embeddings and through
/// spreads, and averages, which are decimals), and nothing else (counts,
/// integer sums).
#[tokio::test]
async fn decimals_as_strings_everywhere() {
    let Some(s) = service_with("decimal_strings", |c| c.decimals = DecimalFormat::String).await
    else {
        return;
    };
    for (path, query, want) in [
        (
            "/track",
            "select=track_id,unit_price,album(album_id)&track_id=eq.1",
            json!([{"track_id": 1, "unit_price": "0.99", "album": {"album_id": 1}}]),
        ),
        (
            "/invoice",
            "select=total.sum(),total.max(),n:count(),ids:customer_id.sum()&customer_id=eq.2",
            json!([{"sum": "37.62", "max": "13.86", "n": 7, "ids": 14}]),
        ),
        (
            "/invoice",
            "select=total.avg(),c:customer_id.avg()&customer_id=eq.2",
            json!([{"avg": "5.3742857142857143", "c": "2.0000000000000000"}]),
        ),
        (
            "/track",
            "select=unit_price,count()&album_id=lte.3&order=unit_price",
            json!([{"unit_price": "0.99", "count": 14}]),
        ),
        (
            "/invoice",
            "select=total,count()&customer_id=eq.2&total=gt.5&order=total",
            json!([
                {"total": "5.94", "count": 1},
                {"total": "8.91", "count": 1},
                {"total": "13.86", "count": 1}
            ]),
        ),
        (
            "/customer",
            "select=customer_id,invoices(total.sum(),count())&customer_id=lt.3&order=customer_id",
            json!([
                {"customer_id": 1, "invoices": [{"sum": "39.62", "count": 7}]},
                {"customer_id": 2, "invoices": [{"sum": "37.62", "count": 7}]}
            ]),
        ),
        (
            "/invoice_line",
            "select=...track(unit_price,n:count()),quantity.sum()&invoice_id=eq.1",
            json!([{"unit_price": "0.99", "n": 2, "sum": 2}]),
        ),
        (
            "/invoice_line",
            "select=unit_price.sum(),track(name)&invoice_id=eq.1&order=track(name)",
            json!([
                {"sum": "0.99", "track": {"name": "Balls to the Wall"}},
                {"sum": "0.99", "track": {"name": "Restless and Wild"}}
            ]),
        ),
    ] {
        assert_eq!(get_json(&s, path, query).await, want, "{path}?{query}");
    }
}

/// A tenant may turn aggregates off (PostgREST's default): every read
/// that aggregates, at the top, in an embedding or a spread, and its plan,
/// is PostgREST's 400 `PGRST123`; other reads are served.
#[tokio::test]
async fn aggregates_can_be_turned_off() {
    let Some(s) = service_with("no_aggregates", |c| c.aggregates = false).await else {
        return;
    };
    for query in [
        "select=count()",
        "select=album_id,milliseconds.sum()",
        "select=track_id,album(title,count())",
        "select=...album(title,count())",
        "select=track_id,playlists(count)",
    ] {
        let r = same(&s, "GET", "/track", query, &[], "").await;
        assert_eq!(
            (r.status, r.json()),
            (
                400,
                json!({"code": "PGRST123", "message": "Use of aggregate functions is not allowed", "details": null, "hint": null})
            ),
            "{query}"
        );
    }
    assert_eq!(
        get_json(
            &s,
            "/album",
            "select=album_id,tracks(track_id)&album_id=eq.2"
        )
        .await,
        json!([{"album_id": 2, "tracks": [{"track_id": 2}]}])
    );
}

/// Writes of nothing, as PostgREST answers them: an insert of `[]` is a
/// 201 `[]` (a merge upsert's a 200), a `PATCH` of `{}` a 204 (200 `[]`
/// with a representation); nothing is written (the engine still asks the
/// policy first: a caller who may not write is refused).
#[tokio::test]
async fn empty_writes() {
    let Some(s) = service("empty-writes").await else {
        return;
    };
    for (method, path, prefer, status, body) in [
        ("POST", "/genre", "return=representation", 201, "[]"),
        ("POST", "/genre", "return=minimal", 201, ""),
        (
            "POST",
            "/genre",
            "return=representation,resolution=merge-duplicates",
            200,
            "[]",
        ),
        ("PATCH", "/genre?genre_id=eq.1", "return=minimal", 204, ""),
        (
            "PATCH",
            "/genre?genre_id=eq.1",
            "return=representation",
            200,
            "[]",
        ),
    ] {
        let (path, query) = path.split_once('?').unwrap_or((path, ""));
        let payload = if method == "POST" { "[]" } else { "{}" };
        let r = same(&s, method, path, query, &[("Prefer", prefer)], payload).await;
        assert_eq!(
            (r.status, r.text()),
            (status, body.to_string()),
            "{method} {prefer}"
        );
    }
    // A patch that sets nothing needs no filter: it touches no row
    // (PostgREST's UpdateSpec, "when patching with an empty body").
    for payload in ["{}", "[]", "[{}]"] {
        let r = same(&s, "PATCH", "/genre", "", &[], payload).await;
        assert_eq!(
            (r.status, r.header("content-range")),
            (204, Some("*/*")),
            "{payload}: {}",
            r.text()
        );
        let rep = [("Prefer", "return=representation")];
        let r = same(&s, "PATCH", "/genre", "select=genre_id", &rep, payload).await;
        assert_eq!((r.status, r.text()), (200, "[]".to_string()), "{payload}");
    }
    let r = same(&s, "PATCH", "/genre", "", &[], r#"{"name": "x"}"#).await;
    assert_eq!(r.status, 400, "a patch of every row: {}", r.text());
    assert_eq!(
        get_json(&s, "/genre", "select=name&genre_id=eq.1").await,
        json!([{"name": "Rock"}])
    );
}

/// `and`/`or` trees with spaces anywhere, as PostgREST's AndOrParamsSpec
/// ("allows whitespace"), on every engine.
#[tokio::test]
async fn logic_trees_with_spaces() {
    let Some(s) = service("logic-spaces").await else {
        return;
    };
    assert_eq!(
        get_json(
            &s,
            "/artist",
            "select=artist_id&and=(%20and%20(%20artist_id.in.(%201,%202,%203%20)%20,%20artist_id.eq.3%20)%20,%20or%20(%20artist_id.eq.2%20,%20artist_id.eq.3%20)%20)"
        )
        .await,
        json!([{"artist_id": 3}])
    );
}

/// A body's numbers may come as strings, and numbers or booleans for a
/// text, as PostgreSQL reads a JSON value into a column (PostgREST writes
/// through `json_populate_record`; a form's fields are strings), spaces
/// around a number's text skipped as PostgreSQL skips them: the same row
/// on every engine. A text PostgreSQL refuses as a number stays a 422.
#[tokio::test]
async fn body_values_read_as_postgresql_reads_them() {
    let Some(s) = service("body-texts").await else {
        return;
    };
    let r = same(
        &s,
        "POST",
        "/track",
        "select=track_id,name,composer,milliseconds,bytes,unit_price",
        &[("Prefer", "return=representation, tx=rollback")],
        r#"{"track_id": "9001", "name": 12, "composer": true, "media_type_id": " 1 ",
            "milliseconds": "+1000", "bytes": "-5\n", "unit_price": " 0.99"}"#,
    )
    .await;
    assert_eq!(
        (r.status, r.json()),
        (
            201,
            json!([{"track_id": 9001, "name": "12", "composer": "true",
                    "milliseconds": 1000, "bytes": -5, "unit_price": 0.99}])
        ),
        "{}",
        r.text()
    );
    for bad in [
        r#""12.5""#,
        r#""2e3""#,
        r#""abc""#,
        r#""""#,
        r#""99999999999""#,
        r#""  ""#,
        r#"" 5 x""#,
    ] {
        let body = format!(
            r#"{{"track_id": 9002, "name": "x", "media_type_id": 1, "milliseconds": {bad}}}"#
        );
        let r = same(
            &s,
            "POST",
            "/track",
            "",
            &[("Prefer", "tx=rollback")],
            &body,
        )
        .await;
        assert_eq!(r.status, 422, "{bad}: {}", r.text());
        assert!(r.text().contains("milliseconds"), "{bad}: {}", r.text());
    }
    assert_eq!(
        get_json(&s, "/track", "select=track_id&track_id=gte.9001").await,
        json!([])
    );
}

/// An embedding's null check inside a logic tree
/// (`or=(albums.not.is.null,…)`, PostgREST's RelatedQueriesSpec "can do an
/// or across embeds"): whether the parent has a related row the
/// embedding's own filters keep, wherever those filters stand in the query.
#[tokio::test]
async fn null_checks_of_embeddings_in_logic_trees() {
    let Some(s) = service("embed-or").await else {
        return;
    };
    for query in [
        "select=artist_id,albums()&albums.title=like.*Rock*&or=(albums.not.is.null,artist_id.eq.3)&artist_id=lt.30&order=artist_id",
        "or=(albums.not.is.null,artist_id.eq.3)&select=artist_id,albums()&artist_id=lt.30&albums.title=like.*Rock*&order=artist_id",
    ] {
        assert_eq!(
            get_json(&s, "/artist", query).await,
            json!([{"artist_id": 1}, {"artist_id": 3}]),
            "{query}"
        );
    }
    assert_eq!(
        get_json(
            &s,
            "/artist",
            "select=artist_id,albums(title)&or=(albums.is.null,artist_id.eq.1)&artist_id=lt.30&order=artist_id&albums.order=title&albums.limit=1"
        )
        .await,
        json!([
            {"artist_id": 1, "albums": [{"title": "For Those About To Rock We Salute You"}]},
            {"artist_id": 25, "albums": []},
            {"artist_id": 26, "albums": []},
            {"artist_id": 28, "albums": []},
            {"artist_id": 29, "albums": []}
        ])
    );
    // Only the null checks apply to an embedding.
    refused(
        &s,
        "GET",
        "/artist",
        "select=artist_id,albums()&or=(albums.eq.1,artist_id.eq.3)",
        &[],
        "",
        "PGRST100",
    )
    .await;
}

/// The groups of an embedding with aggregates are ordered (by a group
/// field, its alias, or an aggregate's alias) and paged per parent
/// (`rel.order`, `rel.limit`, `rel.offset`), one-to-many and many-to-many,
/// the same on every engine and as the top-level aggregate of each
/// parent's rows answers them.
#[tokio::test]
async fn embedded_aggregates_are_ordered_and_paged() {
    let Some(s) = service("embedded_groups").await else {
        return;
    };
    let per_genre = |g: i64, page: &str| {
        let s = &s;
        let q = format!(
            "select=media_type_id,n:count()&genre_id=eq.{g}&order=n.desc,media_type_id{page}"
        );
        async move { get_json(s, "/track", &q).await }
    };
    let r = get_json(
        &s,
        "/genre",
        "select=genre_id,tracks(media_type_id,n:count())&genre_id=in.(1,2,7)&order=genre_id&tracks.order=n.desc,media_type_id&tracks.limit=2",
    )
    .await;
    let mut want = Vec::new();
    for g in [1, 2, 7] {
        want.push(json!({"genre_id": g, "tracks": per_genre(g, "&limit=2").await}));
    }
    assert_eq!(r, J::Array(want));
    assert!(
        r[0]["tracks"].as_array().is_some_and(|t| t.len() == 2),
        "Rock has tracks of several media types: {r}"
    );
    let r = get_json(
        &s,
        "/genre",
        "select=genre_id,tracks(m:media_type_id,n:count())&genre_id=eq.1&tracks.order=m.desc&tracks.offset=1",
    )
    .await;
    let mut all = get_json(
        &s,
        "/track",
        "select=m:media_type_id,n:count()&genre_id=eq.1&order=media_type_id.desc",
    )
    .await;
    let rest: Vec<J> = all.as_array_mut().unwrap().drain(1..).collect();
    assert_eq!(r, json!([{"genre_id": 1, "tracks": rest}]));
    // Through a junction: the targets' groups, ordered.
    let r = get_json(
        &s,
        "/track",
        "select=track_id,playlists(name,count())&track_id=eq.1&playlists.order=name.desc&playlists.limit=1",
    )
    .await;
    assert_eq!(
        r,
        json!([{"track_id": 1, "playlists": [{"name": "Music", "count": 2}]}])
    );
    // By an aggregate's alias, through a junction.
    let r = get_json(
        &s,
        "/track",
        "select=track_id,playlists(name,n:count())&track_id=eq.1&playlists.order=n.asc,name.desc&playlists.limit=1",
    )
    .await;
    assert_eq!(
        r,
        json!([{"track_id": 1, "playlists": [{"name": "Heavy Metal Classic", "n": 1}]}])
    );
    // A page past a parent's one group of an empty set: none.
    let r = get_json(
        &s,
        "/artist",
        "select=artist_id,albums(count())&artist_id=eq.25&albums.offset=1",
    )
    .await;
    assert_eq!(r, json!([{"artist_id": 25, "albums": []}]));
    // An order by what groups nothing: 422.
    let r = same(
        &s,
        "GET",
        "/album",
        "select=album_id,tracks(genre_id,count())&album_id=eq.1&tracks.order=name",
        &[],
        "",
    )
    .await;
    assert_eq!(r.status, 422, "{}", r.text());
    assert!(r.text().contains("`name`"), "{}", r.text());
}

/// Aggregates of a to-one row's fields inside a many-to-many embedding
/// (`playlist?select=tracks(...genre(name,genre_id.count()))`): the
/// junction's targets join their related row, grouped by its fields per
/// parent, as a one-to-many embedding's do; the same groups and counts as
/// the targets' groups by the related row, on every engine.
#[tokio::test]
async fn aggregates_of_to_one_rows_inside_many_to_many() {
    let Some(s) = service("m2m_joined").await else {
        return;
    };
    let spread = get_json(
        &s,
        "/playlist",
        "select=playlist_id,tracks(...genre(name,n:genre_id.count()))&playlist_id=in.(3,9)&order=playlist_id",
    )
    .await;
    let by_embed = get_json(
        &s,
        "/playlist",
        "select=playlist_id,tracks(genre(name),n:count())&playlist_id=in.(3,9)&order=playlist_id",
    )
    .await;
    let groups = |v: &J, spread: bool| -> Vec<Vec<(String, i64)>> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|p| {
                let mut g: Vec<(String, i64)> = p["tracks"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|t| {
                        let name = if spread {
                            &t["name"]
                        } else {
                            &t["genre"]["name"]
                        };
                        (name.as_str().unwrap().to_string(), t["n"].as_i64().unwrap())
                    })
                    .collect();
                g.sort();
                g
            })
            .collect()
    };
    assert_eq!(groups(&spread, true), groups(&by_embed, false));
    assert_eq!(groups(&spread, true)[0].len(), 5, "{spread}");
    assert_eq!(
        spread[1],
        json!({"playlist_id": 9, "tracks": [{"name": "Alternative", "n": 1}]})
    );
    // Beside a group field of the targets, and aliased.
    let r = get_json(
        &s,
        "/playlist",
        "select=playlist_id,tracks(media_type_id,...genre(g:name,n:genre_id.count()))&playlist_id=eq.9",
    )
    .await;
    assert_eq!(
        r,
        json!([{"playlist_id": 9, "tracks": [{"media_type_id": 3, "g": "Alternative", "n": 1}]}])
    );
    // A spread inside a spread (the inner one joined to the outer's row),
    // beside the junction's targets' own aggregate.
    let r = get_json(
        &s,
        "/playlist",
        "select=playlist_id,tracks(ms:milliseconds.max(),...album(title,...artist(name,a:artist_id.count())))&playlist_id=eq.9",
    )
    .await;
    assert_eq!(
        r[0]["tracks"][0]
            .as_object()
            .map(|o| o.keys().cloned().collect::<Vec<_>>()),
        Some(vec!["ms".into(), "title".into(), "name".into(), "a".into()]),
        "{r}"
    );
    assert_eq!(r[0]["tracks"][0]["title"], "Revelations", "{r}");
    assert_eq!(r[0]["tracks"][0]["name"], "Audioslave", "{r}");
    assert_eq!(r[0]["tracks"][0]["a"], 1, "{r}");
}
