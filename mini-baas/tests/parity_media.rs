//! PostgREST parity over HTTP (issue 13, items 5, 15 and 17) on the four
//! engines, in the style of `parity.rs`: media types (`text/csv`,
//! `nulls=stripped`, `PGRST107`), statuses and `Content-Range` as PostgREST
//! answers them, and the `match` / `imatch` regex operators. Each request
//! goes to PostgreSQL, MariaDB, SQLite and MongoDB (tenants `pg`, `my`,
//! `lite`, `mongo`) and must answer the same status, `Content-Type` and
//! bytes on all of them.

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
    let path =
        std::env::temp_dir().join(format!("baas-parity-media-{tag}-{}.db", std::process::id()));
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
    for t in TENANTS {
        let r = s
            .handle(
                RestRequest::new("GET", format!("/{t}/artist"), "")
                    .header("Accept", "application/vnd.pgrst.plan+json"),
            )
            .await;
        assert_eq!(r.status, 406, "{t}: {}", r.text());
        assert_eq!(r.json()["code"], "PGRST107");
        let engine = match t {
            "pg" => "postgres",
            "my" => "mysql",
            "lite" => "sqlite",
            _ => "mongodb",
        };
        let msg = r.json()["message"].as_str().unwrap_or_default().to_string();
        assert!(msg.contains(engine), "{t}: {msg}");
    }
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
    for (method, count) in [("GET", "count=exact"), ("HEAD", "count=exact")] {
        let r = same(
            &s,
            method,
            "/genre",
            "select=genre_id&order=genre_id&limit=2",
            &[("Prefer", count)],
            "",
        )
        .await;
        assert_eq!(r.status, 206, "{method}");
        assert_eq!(r.header("content-range"), Some("0-1/25"), "{method}");
        assert_eq!(r.text().is_empty(), method == "HEAD");
    }
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
