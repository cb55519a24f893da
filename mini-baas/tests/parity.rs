//! PostgREST parity over HTTP (issue 13) on the four engines: each request
//! goes through the REST service to PostgreSQL, MariaDB, SQLite and MongoDB
//! (tenants `pg`, `my`, `lite`, `mongo`, each loaded with Chinook) and must
//! answer the same status and byte-identical JSON on all of them.

use std::sync::Arc;

use baas_testkit::{Naming, chinook_metadata, fixtures_dir, skip_or_fail};
use mini_baas::engine::{Baas, MemoryStore, TenantConfig, TenantMode};
use mini_baas::rest::{RestRequest, RestResponse, Service};
use mini_baas::{SchemaMetadata, UrlConnector};
use serde_json::{Value as J, json};

const TENANTS: [&str; 4] = ["pg", "my", "lite", "mongo"];

fn env_or(name: &str, default: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| default.into())
}

async fn register(baas: &Baas, id: &str, url: &str, schema: SchemaMetadata) -> Result<(), String> {
    baas.register_tenant(
        TenantConfig::new(id, url, TenantMode::Introspected),
        Some(schema),
    )
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
        if let Err(e) = register(&baas, id, &env_or(var, default), chinook_metadata(naming)).await {
            skip_or_fail(var, &e);
            return None;
        }
    }
    let lite = sqlite_chinook(tag).await;
    register(&baas, "lite", &lite, chinook_metadata(Naming::PascalCase))
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
            req = req
                .header("Content-Type", "application/json")
                .body(body.to_string());
        }
        let r = s.handle(req).await;
        match &first {
            None => first = Some(r),
            Some(f) => {
                assert_eq!(
                    (r.status, r.text()),
                    (f.status, f.text()),
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
    // PGRST200 / PGRST201: no relation, several relations.
    let r = same(&s, "GET", "/album", "select=producer(*)", &[], "").await;
    assert_eq!(
        (r.status, r.json()["code"].as_str()),
        (400, Some("PGRST200"))
    );
    let r = same(&s, "GET", "/employee", "select=employee(*)", &[], "").await;
    assert_eq!(
        (r.status, r.json()["code"].as_str()),
        (300, Some("PGRST201"))
    );
    assert_eq!(r.json()["details"].as_array().map(Vec::len), Some(2));
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
