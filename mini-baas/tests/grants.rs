//! Grants apply to every entity a request touches, identically on
//! PostgreSQL, MariaDB, SQLite and MongoDB (each loaded with Chinook).
//!
//! The policy under test hides rows and fields of *embedded* entities:
//! - `track`: only Rock tracks (`genre_id = 1`) are readable, and only
//!   `track_id, name, album_id, media_type_id, genre_id` (the price,
//!   composer, length and size are hidden); only `name` may be updated;
//! - `album`: only albums of the first 100 artists are readable;
//! - `playlist_track` (the junction of `playlist.tracks`): only the links of
//!   playlists 16 and above are readable.
//!
//! Every restricted answer is compared with the unrestricted answer of the
//! same engine, filtered and projected by the test itself, so the test
//! states what the grants must do rather than what the code does; and the
//! restricted answers must be byte-identical across the four engines.

use std::sync::Arc;

use async_trait::async_trait;
use baas_testkit::{Naming, chinook_metadata, fixtures_dir, skip_or_fail};
use mini_baas::engine::{
    AccessRequest, Action, Baas, Connector, Grant, MemoryStore, Policy, Principal, Resource,
    TenantConfig, TenantMode, WriteOp,
};
use mini_baas::ir::{
    Aggregate, AggregateExpr, AggregateFn, CompareOp, Embed, Filter, OrderBy, Query, Selection,
    Update,
};
use mini_baas::{DatabaseAdapter, Error, Result, SchemaMetadata};
use serde_json::{Map, Value as J, json};

/// The readable fields of `track`, in the entity's field order (the order `*` takes).
const TRACK_FIELDS: [&str; 5] = ["track_id", "name", "album_id", "media_type_id", "genre_id"];

/// The policy under test; a principal with the role `admin` is unrestricted.
struct HideSome;

#[async_trait]
impl Policy for HideSome {
    async fn grant(&self, r: &AccessRequest<'_>) -> Result<Grant> {
        if r.principal.has_role("admin") {
            return Ok(Grant::all());
        }
        let Resource::Entity(e) = r.resource else {
            return Ok(Grant::all());
        };
        Ok(match (e.name.as_str(), r.action) {
            ("track", Action::Read) => Grant::all()
                .rows(Filter::eq("genre_id", 1))
                .read_fields(TRACK_FIELDS),
            ("track", Action::Update) => Grant::all()
                .rows(Filter::eq("genre_id", 1))
                .write_fields(["name"]),
            ("album", Action::Read) => {
                Grant::all().rows(Filter::cmp("artist_id", CompareOp::Lte, 100))
            }
            ("playlist_track", Action::Read) => {
                Grant::all().rows(Filter::cmp("playlist_id", CompareOp::Gte, 16))
            }
            _ => Grant::all(),
        })
    }
}

/// Hands out one already connected adapter.
struct Fixed(Arc<dyn DatabaseAdapter>);

#[async_trait]
impl Connector for Fixed {
    async fn connect(&self, _t: &TenantConfig) -> Result<Arc<dyn DatabaseAdapter>> {
        Ok(self.0.clone())
    }
}

struct Engine {
    name: &'static str,
    baas: Baas,
}

/// The policy under test: [`HideSome`] written in Rust, or the same
/// restrictions written as rules in the metadata and compiled by
/// `baas-auth`'s [`RulesPolicy`](mini_baas::auth::RulesPolicy).
#[derive(Clone, Copy, PartialEq)]
enum Under {
    Code,
    Rules,
}

/// [`HideSome`] as metadata rules: closed by default, so every other
/// entity gets a rule that opens it to the caller's role.
fn hide_some_rules(schema: &SchemaMetadata) -> Vec<mini_baas::access::Rule> {
    let mut rules: Vec<mini_baas::access::Rule> = serde_json::from_value(json!([
        {"entity": "track", "name": "rock only", "action": ["read"], "role": ["reader"],
         "filter": "genre_id=eq.auth.jwt()->>'genre'", "read": TRACK_FIELDS},
        {"entity": "track", "name": "rename rock", "action": ["update"], "role": ["reader"],
         "filter": "genre_id=eq.auth.jwt()->>'genre'", "write": ["name"]},
        {"entity": "track", "action": ["insert", "delete"], "role": ["reader"]},
        {"entity": "album", "name": "first artists", "action": ["read"], "role": ["reader"], "filter": "artist_id=lte.100"},
        {"entity": "album", "action": ["insert", "update", "delete"], "role": ["reader"]},
        {"entity": "playlist_track", "action": ["read"], "role": ["reader"], "filter": "playlist_id=gte.16"},
        {"entity": "playlist_track", "action": ["insert", "update", "delete"], "role": ["reader"]}
    ]))
    .unwrap();
    for e in &schema.entities {
        if !["track", "album", "playlist_track"].contains(&e.name.as_str()) {
            rules.push(
                serde_json::from_value(json!({"entity": e.name, "action": ["read", "insert", "update", "delete"], "role": ["reader"]}))
                    .unwrap(),
            );
        }
    }
    rules
}

async fn engine(
    name: &'static str,
    db: Arc<dyn DatabaseAdapter>,
    mut schema: SchemaMetadata,
    under: Under,
) -> Engine {
    let policy: Arc<dyn Policy> = match under {
        Under::Code => Arc::new(HideSome),
        Under::Rules => {
            schema.rules = hide_some_rules(&schema);
            Arc::new(mini_baas::auth::RulesPolicy::closed())
        }
    };
    let baas = Baas::builder(Arc::new(MemoryStore::new()), Arc::new(Fixed(db)))
        .policy(policy)
        .build();
    baas.register_tenant(
        TenantConfig::new("chinook", "fixed://", TenantMode::Introspected),
        Some(schema),
    )
    .await
    .expect("register");
    Engine { name, baas }
}

async fn engines(under: Under) -> Option<Vec<Engine>> {
    let url = |var: &str, default: &str| std::env::var(var).unwrap_or_else(|_| default.into());
    let mut out = Vec::new();
    for (name, var, default, naming) in [
        (
            "postgres",
            "BAAS_TEST_PG_URL",
            "postgres://baas:baas_pw@127.0.0.1:5432/chinook",
            Naming::SnakeCase,
        ),
        (
            "mysql",
            "BAAS_TEST_MYSQL_URL",
            "mysql://baas:baas_pw@127.0.0.1:3306/Chinook",
            Naming::PascalCase,
        ),
        (
            "mongodb",
            "BAAS_TEST_MONGO_URL",
            "mongodb://127.0.0.1:27017/chinook?directConnection=true",
            Naming::PascalCase,
        ),
    ] {
        match mini_baas::connect(&url(var, default)).await {
            Ok(db) => out.push(engine(name, db, chinook_metadata(naming), under).await),
            Err(e) => {
                skip_or_fail(&format!("{name} ({var})"), &e);
                return None;
            }
        }
    }
    let sql = std::fs::read_to_string(fixtures_dir().join("chinook/Chinook_Sqlite.sql"))
        .expect("read the SQLite Chinook script");
    let lite = mini_baas::sqlite::connect(mini_baas::sqlite::SqliteConfig::memory())
        .await
        .expect("in-memory sqlite");
    lite.backend()
        .execute_script(&sql)
        .await
        .expect("load Chinook into SQLite");
    out.push(
        engine(
            "sqlite",
            Arc::new(lite),
            chinook_metadata(Naming::PascalCase),
            under,
        )
        .await,
    );
    Some(out)
}

/// A restricted caller: role `reader`, and the claim the rules read.
fn caller() -> Principal {
    let mut p = Principal::new("u1", ["reader".to_string()]);
    p.claims.insert("genre".into(), json!(1));
    p
}

/// Unrestricted under both policies.
fn admin() -> Principal {
    Principal::new("root", ["admin".to_string(), "service_role".to_string()])
}

fn embed(relation: &str, fields: &[&str]) -> Embed {
    let mut e = Embed::new(relation);
    e.select = Selection {
        fields: fields.iter().map(|f| f.to_string()).collect(),
        omit_fields: false,
        star: false,
        embeds: Vec::new(),
        aggregates: Vec::new(),
        group_by_values: Vec::new(),
        casts: Vec::new(),
    };
    e
}

type Row = Map<String, J>;

impl Engine {
    async fn find(&self, who: &Principal, q: Query) -> Result<Vec<Row>> {
        let t = self.baas.tenant("chinook").await?;
        Ok(self.baas.find(who, &t, q).await?.rows)
    }

    async fn count(&self, who: &Principal, entity: &str, f: Option<Filter>) -> Result<u64> {
        let t = self.baas.tenant("chinook").await?;
        self.baas.count(who, &t, entity, f).await
    }
}

fn project(r: &Row, fields: &[&str]) -> Row {
    fields
        .iter()
        .filter_map(|f| r.get(*f).map(|v| (f.to_string(), v.clone())))
        .collect()
}

fn is_rock(t: &J) -> bool {
    t["genre_id"] == json!(1)
}

fn forbidden(r: Result<impl std::fmt::Debug>, what: &str) {
    match r {
        Err(Error::Forbidden(m)) => assert!(!m.is_empty(), "{what}"),
        other => panic!("{what}: expected Forbidden, got {other:?}"),
    }
}

/// One restricted read per engine, checked against `expect(unrestricted)`,
/// and the same JSON on every engine. The grants must have changed the
/// answer, and left something in it (a test that compares empty answers
/// proves nothing).
async fn same_everywhere(
    engines: &[Engine],
    what: &str,
    q: Query,
    expect: impl Fn(Vec<Row>) -> Vec<Row>,
) {
    let mut outputs = Vec::new();
    for e in engines {
        let got = e
            .find(&caller(), q.clone())
            .await
            .unwrap_or_else(|err| panic!("{what} on {}: {err}", e.name));
        let all = e
            .find(&admin(), q.clone())
            .await
            .unwrap_or_else(|err| panic!("{what} (unrestricted) on {}: {err}", e.name));
        let unrestricted = serde_json::to_string(&all).unwrap();
        let want = expect(all);
        assert!(!got.is_empty(), "{what} on {}: nothing visible", e.name);
        assert_ne!(
            serde_json::to_string(&got).unwrap(),
            unrestricted,
            "{what} on {}: the grants changed nothing",
            e.name
        );
        assert_eq!(
            serde_json::to_string(&got).unwrap(),
            serde_json::to_string(&want).unwrap(),
            "{what} on {}: the grants did not apply as stated",
            e.name
        );
        outputs.push((e.name, serde_json::to_string(&got).unwrap()));
    }
    for (name, out) in &outputs[1..] {
        assert_eq!(
            out, &outputs[0].1,
            "{what}: {name} differs from {}",
            outputs[0].0
        );
    }
}

#[tokio::test]
async fn grants_hide_rows_and_fields_of_embedded_entities_on_every_engine() {
    suite(Under::Code).await;
}

/// The same suite, with the restrictions written as rules in the metadata:
/// the rules hold identically on the four engines.
#[tokio::test]
async fn rules_hide_rows_and_fields_of_embedded_entities_on_every_engine() {
    suite(Under::Rules).await;
}

/// The two suites write (and roll back) the same rows: one at a time.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

async fn suite(under: Under) {
    let _turn = ONE_AT_A_TIME.lock().await;
    let Some(engines) = engines(under).await else {
        return;
    };
    let first_albums = Filter::cmp("album_id", CompareOp::Lte, 12);

    // 1. A to-many embed: only Rock tracks, only the readable fields.
    let mut q = Query::new("album")
        .fields(["album_id", "title"])
        .filter(first_albums.clone())
        .order_by(OrderBy::asc("album_id"));
    q.select.embeds.push(embed("tracks", &[]));
    same_everywhere(&engines, "album with tracks(*)", q, |rows| {
        rows.into_iter()
            .map(|mut r| {
                let tracks: Vec<J> = r["tracks"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .filter(|t| is_rock(t))
                    .map(|t| J::Object(project(t.as_object().unwrap(), &TRACK_FIELDS)))
                    .collect();
                r.insert("tracks".into(), J::Array(tracks));
                r
            })
            .collect()
    })
    .await;

    // 1a. What `*` gives a caller (the keys a `...tracks(*)` spread
    //     without rows answers): the readable fields only.
    for e in &engines {
        let t = e.baas.tenant("chinook").await.unwrap();
        let star = e.baas.star_fields(&caller(), &t, "track").await.unwrap();
        assert_eq!(star, TRACK_FIELDS, "{}", e.name);
        let all = e.baas.star_fields(&admin(), &t, "track").await.unwrap();
        assert!(all.len() > TRACK_FIELDS.len(), "{}: {all:?}", e.name);
    }

    // 1b. Aggregates inside the embed (`tracks(count)`) count only the
    //     rows the caller may read, and a hidden field cannot be summed.
    for e in &engines {
        let listed = {
            let mut q = Query::new("album")
                .fields(["album_id"])
                .filter(first_albums.clone())
                .order_by(OrderBy::asc("album_id"));
            q.select.embeds.push(embed("tracks", &["track_id"]));
            q
        };
        let counted = |aggregate: AggregateExpr| {
            let mut q = listed.clone();
            q.select.embeds[0].select = Selection {
                aggregates: vec![aggregate],
                ..Selection::default()
            };
            q
        };
        let count = AggregateExpr {
            alias: "count".into(),
            func: AggregateFn::Count,
            input: None,
        };
        let rows = e.find(&caller(), listed.clone()).await.expect("listed");
        let counts = e
            .find(&caller(), counted(count.clone()))
            .await
            .expect("counted");
        let all_counts = e.find(&admin(), counted(count)).await.expect("all");
        assert_eq!(rows.len(), counts.len(), "{}", e.name);
        for (r, c) in rows.iter().zip(&counts) {
            let n = r["tracks"].as_array().map_or(0, Vec::len);
            assert_eq!(
                c["tracks"],
                json!([{"count": n}]),
                "{}: album {}",
                e.name,
                r["album_id"]
            );
        }
        assert_ne!(
            counts, all_counts,
            "{}: the grants changed no count",
            e.name
        );
        forbidden(
            e.find(
                &caller(),
                counted(AggregateExpr {
                    alias: "s".into(),
                    func: AggregateFn::Sum {
                        field: "unit_price".into(),
                    },
                    input: None,
                }),
            )
            .await,
            "the sum of a hidden field in an embed",
        );
    }

    // 1c. Ordering by a field of a related row obeys the related
    //     entity's grants: a hidden field is refused, and a hidden row
    //     sorts as null (last), never by its hidden value.
    for e in &engines {
        forbidden(
            e.find(
                &caller(),
                Query::new("invoice_line")
                    .fields(["invoice_line_id"])
                    .order_by(OrderBy::asc("unit_price").through("track")),
            )
            .await,
            "ordering by a hidden field of the related row",
        );
        let q = Query::new("track")
            .fields(["track_id", "album_id"])
            .filter(Filter::In {
                field: "album_id".into(),
                values: [1, 4, 170, 180].map(mini_baas::Value::Int).to_vec(),
            })
            .order_by(OrderBy::desc("title").through("album").nulls_last())
            .order_by(OrderBy::asc("track_id"));
        let albums = |rows: &[Row]| -> Vec<i64> {
            let mut out: Vec<i64> = rows
                .iter()
                .map(|r| r["album_id"].as_i64().unwrap())
                .collect();
            out.dedup();
            out
        };
        let mine = e.find(&caller(), q.clone()).await.expect("ordered");
        let all = e.find(&admin(), q).await.expect("ordered (unrestricted)");
        // Titles descending: Riot Act (180), Let There Be Rock (4), For
        // Those About To Rock (1), Bark at the Moon (170); albums of artists
        // above 100 are hidden from the caller: their tracks come last.
        assert_eq!(albums(&all), [180, 4, 1, 170], "{}", e.name);
        assert_eq!(albums(&mine), [4, 1, 170, 180], "{}", e.name);
    }

    // 2. A to-one embed whose rows are hidden: the album is null for
    //    tracks of albums the caller cannot read; the root keeps only Rock
    //    tracks.
    let mut q = Query::new("track")
        .fields(["track_id", "name", "genre_id"])
        .filter(Filter::In {
            field: "track_id".into(),
            values: (1..=3503).step_by(37).map(mini_baas::Value::Int).collect(),
        })
        .order_by(OrderBy::asc("track_id"));
    let mut album = embed("album", &["title", "artist_id"]);
    album.select.embeds.push(embed("artist", &["name"]));
    q.select.embeds.push(album);
    same_everywhere(
        &engines,
        "track with album(title, artist(name))",
        q,
        |rows| {
            rows.into_iter()
                .filter(|r| is_rock(&J::Object(r.clone())))
                .map(|mut r| {
                    let hidden = r["album"]["artist_id"].as_i64().is_some_and(|a| a > 100);
                    if hidden {
                        r.insert("album".into(), J::Null);
                    }
                    r
                })
                .collect()
        },
    )
    .await;

    // 3. `exists` (`tracks!inner`, `tracks=not.is.null`) sees only the
    //    related rows the caller may read.
    let q = Query::new("album")
        .fields(["album_id", "title"])
        .filter(Filter::and(vec![
            Filter::cmp("album_id", CompareOp::Lte, 40),
            Filter::exists("tracks", None),
        ]))
        .order_by(OrderBy::asc("album_id"));
    let mut with_tracks = q.clone();
    with_tracks.filter = Some(Filter::cmp("album_id", CompareOp::Lte, 40));
    with_tracks
        .select
        .embeds
        .push(embed("tracks", &["genre_id"]));
    let admin_view = {
        let mut m = std::collections::HashMap::new();
        for e in &engines {
            let rows = e
                .find(&admin(), with_tracks.clone())
                .await
                .expect("admin read");
            let ids: Vec<J> = rows
                .iter()
                .filter(|r| r["tracks"].as_array().unwrap().iter().any(is_rock))
                .map(|r| r["album_id"].clone())
                .collect();
            m.insert(e.name, ids);
        }
        m
    };
    for e in &engines {
        let got: Vec<J> = e
            .find(&caller(), q.clone())
            .await
            .unwrap()
            .iter()
            .map(|r| r["album_id"].clone())
            .collect();
        assert!(!got.is_empty(), "exists on {}: no album at all", e.name);
        assert_eq!(got, admin_view[e.name], "exists on {}", e.name);
    }

    // 4. Many-to-many: the junction's hidden links and the targets' hidden
    //    rows both apply, embedded and in `exists`. (Playlists small enough
    //    for their whole track lists, 213 tracks at most; 16 and 17 hold
    //    Rock tracks, 3 and 11 none.)
    let mut q = Query::new("playlist")
        .fields(["playlist_id", "name"])
        .filter(Filter::in_list(
            "playlist_id",
            vec![3i64, 9, 11, 13, 16, 17, 18],
        ))
        .order_by(OrderBy::asc("playlist_id"));
    let mut tracks = embed("tracks", &["track_id", "genre_id"]);
    tracks.order = vec![OrderBy::asc("track_id")];
    q.select.embeds.push(tracks);
    same_everywhere(&engines, "playlist with tracks (many-to-many)", q, |rows| {
        rows.into_iter()
            .map(|mut r| {
                let visible_link = r["playlist_id"].as_i64().is_some_and(|p| p >= 16);
                let tracks: Vec<J> = if visible_link {
                    r["tracks"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .filter(|t| is_rock(t))
                        .cloned()
                        .collect()
                } else {
                    Vec::new()
                };
                r.insert("tracks".into(), J::Array(tracks));
                r
            })
            .collect()
    })
    .await;
    let q = Query::new("playlist")
        .fields(["playlist_id"])
        .filter(Filter::exists("tracks", None))
        .order_by(OrderBy::asc("playlist_id"));
    for e in &engines {
        let ids: Vec<J> = e
            .find(&caller(), q.clone())
            .await
            .unwrap()
            .iter()
            .map(|r| r["playlist_id"].clone())
            .collect();
        // Playlists 1, 5 and 8 hold Rock tracks too, through hidden links.
        assert_eq!(
            ids,
            vec![json!(16), json!(17)],
            "many-to-many exists on {}",
            e.name
        );
    }

    // 5. Counts and the root: only Rock tracks, only readable fields.
    for e in &engines {
        let rock = e
            .count(&admin(), "track", Some(Filter::eq("genre_id", 1)))
            .await
            .unwrap();
        assert_eq!(
            e.count(&caller(), "track", None).await.unwrap(),
            rock,
            "count on {}",
            e.name
        );
        let mut q = Query::new("track")
            .limit(3)
            .order_by(OrderBy::asc("track_id"));
        q.count = mini_baas::ir::Count::Exact;
        let t = e.baas.tenant("chinook").await.unwrap();
        let rows = e.baas.find(&caller(), &t, q).await.unwrap();
        assert_eq!(rows.total, Some(rock), "exact count on {}", e.name);
        for r in &rows.rows {
            let keys: Vec<&str> = r.keys().map(String::as_str).collect();
            assert_eq!(keys, TRACK_FIELDS, "select=* on {}", e.name);
            assert!(is_rock(&J::Object(r.clone())));
        }
    }

    // 6. Naming a hidden field anywhere is refused: select, filter, order,
    //    embedded filter and order, exists, aggregates, returning, writes.
    for e in &engines {
        let t = e.baas.tenant("chinook").await.unwrap();
        let who = caller();
        let find = |q: Query| {
            let t = t.clone();
            let who = who.clone();
            async move { e.baas.find(&who, &t, q).await }
        };
        forbidden(
            find(Query::new("track").fields(["unit_price"])).await,
            "select hidden",
        );
        forbidden(
            find(Query::new("track").filter(Filter::is("composer", mini_baas::ir::IsValue::Null)))
                .await,
            "filter on hidden",
        );
        forbidden(
            find(Query::new("track").order_by(OrderBy::desc("milliseconds"))).await,
            "order by hidden",
        );
        let mut q = Query::new("album");
        let mut tr = embed("tracks", &["name"]);
        tr.filter = Some(Filter::cmp("unit_price", CompareOp::Gt, 1));
        q.select.embeds.push(tr);
        forbidden(find(q).await, "embedded filter on hidden");
        let mut q = Query::new("album");
        let mut tr = embed("tracks", &["name"]);
        tr.order = vec![OrderBy::asc("bytes")];
        q.select.embeds.push(tr);
        forbidden(find(q).await, "embedded order by hidden");
        let mut q = Query::new("album");
        q.select.embeds.push(embed("tracks", &["composer"]));
        forbidden(find(q).await, "embedded select of hidden");
        forbidden(
            find(Query::new("album").filter(Filter::exists(
                "tracks",
                Some(Filter::cmp("milliseconds", CompareOp::Gt, 1)),
            )))
            .await,
            "exists on hidden",
        );
        forbidden(
            e.baas
                .aggregate(
                    &who,
                    &t,
                    Aggregate {
                        entity: "track".into(),
                        filter: None,
                        group_by: vec![],
                        group_by_values: Vec::new(),
                        aggregates: vec![AggregateExpr {
                            alias: "total".into(),
                            func: AggregateFn::Sum {
                                field: "unit_price".into(),
                            },
                            input: None,
                        }],
                        having: vec![],
                        order: vec![],
                        limit: None,
                        offset: None,
                        via: Vec::new(),
                        zone: None,
                    },
                )
                .await,
            "aggregate of hidden",
        );
        forbidden(
            e.baas
                .count(&who, &t, "track", Some(Filter::eq("composer", "x")))
                .await,
            "count filtered on hidden",
        );
        // Aggregates see only the readable rows.
        let groups = e
            .baas
            .aggregate(
                &who,
                &t,
                Aggregate {
                    entity: "track".into(),
                    filter: None,
                    group_by: vec!["genre_id".into()],
                    group_by_values: Vec::new(),
                    aggregates: vec![AggregateExpr {
                        alias: "n".into(),
                        func: AggregateFn::Count,
                        input: None,
                    }],
                    having: vec![],
                    order: vec![],
                    limit: None,
                    offset: None,
                    via: Vec::new(),
                    zone: None,
                },
            )
            .await
            .unwrap();
        assert_eq!(
            groups.len(),
            1,
            "aggregate groups on {}: {groups:?}",
            e.name
        );
        assert_eq!(groups[0]["genre_id"], json!(1));
        // A joined related row (a to-one spread's aggregates) applies its
        // entity's grant: a hidden field is refused, a hidden row joins
        // as none (its fields null), at the top level and inside an
        // embedding alike.
        let joined = |aggregate: AggregateFn| {
            let mut tr = embed("track", &["genre_id"]);
            tr.select.aggregates = vec![AggregateExpr {
                alias: "x".into(),
                func: aggregate,
                input: None,
            }];
            // A spread: `...track(genre_id,x:…)`, over the grouped lines.
            tr.spread = true;
            tr
        };
        let lines = Aggregate {
            entity: "invoice_line".into(),
            filter: None,
            group_by: vec![],
            group_by_values: Vec::new(),
            aggregates: vec![AggregateExpr {
                alias: "n".into(),
                func: AggregateFn::Count,
                input: None,
            }],
            having: vec![],
            order: vec![],
            limit: None,
            offset: None,
            via: Vec::new(),
            zone: None,
        };
        let hidden = AggregateFn::Sum {
            field: "milliseconds".into(),
        };
        let shown = AggregateFn::CountValues {
            field: "track_id".into(),
        };
        forbidden(
            e.baas
                .aggregate_joining(&who, &t, lines.clone(), vec![joined(hidden.clone())])
                .await,
            "joined aggregate of hidden",
        );
        // A row joined inside a joined row (a spread inside a spread)
        // applies its entity's grant too: an album of an artist above 100
        // joins as none (its group's album `null`), and a track outside
        // the caller's rows hides the album joined through it.
        let mut nested = embed("track", &["genre_id"]);
        let mut album = embed("album", &["artist_id"]);
        album.select.aggregates = vec![AggregateExpr {
            alias: "m".into(),
            func: AggregateFn::Max {
                field: "album_id".into(),
            },
            input: None,
        }];
        // Spreads (`...track(genre_id,...album(m:album_id.max()))`): the
        // album's aggregate is over the grouped lines.
        album.spread = true;
        nested.spread = true;
        nested.select.embeds.push(album);
        let groups = e
            .baas
            .aggregate_joining(&who, &t, lines.clone(), vec![nested])
            .await
            .unwrap();
        let albums: Vec<&J> = groups
            .iter()
            .filter(|g| !g["track"].is_null())
            .map(|g| &g["track"]["album"])
            .collect();
        assert!(
            albums
                .iter()
                .all(|a| a.is_null() || a["artist_id"].as_i64().is_some_and(|id| id <= 100))
                && albums.iter().any(|a| a.is_null())
                && albums.iter().any(|a| !a.is_null())
                && groups.iter().filter(|g| g["track"].is_null()).count() == 1,
            "nested joined groups on {}: {groups:?}",
            e.name
        );
        let groups = e
            .baas
            .aggregate_joining(&who, &t, lines, vec![joined(shown.clone())])
            .await
            .unwrap();
        let genres: Vec<&J> = groups.iter().map(|g| &g["track"]["genre_id"]).collect();
        assert!(
            genres.iter().all(|g| **g == json!(1) || g.is_null()) && genres.len() == 2,
            "joined groups on {}: {groups:?}",
            e.name
        );
        let in_lines = |aggregate: AggregateFn| {
            let mut lines = embed("lines", &[]);
            lines.select.embeds.push(joined(aggregate));
            // Invoice 4 has Rock tracks and others.
            let mut q = Query::new("invoice").filter(Filter::eq("invoice_id", 4));
            q.select.embeds.push(lines);
            q
        };
        forbidden(
            find(in_lines(hidden)).await,
            "embedded joined aggregate of hidden",
        );
        let rows = find(in_lines(shown)).await.unwrap().rows;
        let genres: Vec<&J> = rows[0]["lines"]
            .as_array()
            .unwrap()
            .iter()
            .map(|g| &g["track"]["genre_id"])
            .collect();
        assert_eq!(
            genres,
            [&json!(1), &J::Null],
            "lines of invoice 4 on {}",
            e.name
        );

        // Writes: hidden rows are not touched, unwritable fields refused,
        // returning shows only readable fields. Rolled back: the fixtures
        // stay as they are.
        let upd = |set: J, returning: Option<Vec<String>>| {
            WriteOp::Update(Update {
                entity: "track".into(),
                // Track 1 is Rock, track 63 is Jazz.
                filter: Filter::in_list("track_id", vec![1i64, 63]),
                set: set.as_object().unwrap().clone(),
                returning,
                max_rows: None,
            })
        };
        forbidden(
            e.baas
                .write_rolled_back(&who, &t, upd(json!({"unit_price": "9.99"}), None))
                .await,
            "update of an unwritable field",
        );
        forbidden(
            e.baas
                .write_rolled_back(
                    &who,
                    &t,
                    upd(json!({"name": "x"}), Some(vec!["bytes".into()])),
                )
                .await,
            "returning a hidden field",
        );
        let r = e
            .baas
            .write_rolled_back(&who, &t, upd(json!({"name": "Renamed"}), Some(vec![])))
            .await
            .unwrap_or_else(|err| panic!("update on {}: {err}", e.name));
        assert_eq!(r.affected, 1, "update touched a hidden row on {}", e.name);
        let keys: Vec<&str> = r.rows[0].keys().map(String::as_str).collect();
        assert_eq!(keys, TRACK_FIELDS, "returning on {}", e.name);
        assert_eq!(r.rows[0]["name"], json!("Renamed"));
        // A merging upsert needs the update grant, whose rows cannot apply
        // to new rows: refused.
        forbidden(
            e.baas
                .write_rolled_back(
                    &who,
                    &t,
                    WriteOp::Insert(mini_baas::ir::Insert {
                        entity: "track".into(),
                        rows: vec![
                            json!({"track_id": 1, "name": "x", "media_type_id": 1, "milliseconds": 1, "unit_price": "1"})
                                .as_object()
                                .unwrap()
                                .clone(),
                        ],
                        on_conflict: Some(mini_baas::ir::Upsert {
                            target: vec![],
                            action: mini_baas::ir::OnConflict::Merge,
                            defaults: vec![],
                        }),
                        returning: None,
                    }),
                )
                .await,
            "merging upsert under a row-filtered update grant",
        );
        // Writing nothing still asks the policy first: without the insert
        // grant (the rules give a role without rules none), an insert of
        // no row is refused, not answered empty.
        if under == Under::Rules {
            let nobody = Principal::new("nobody", ["nobody".to_string()]);
            forbidden(
                e.baas
                    .write_rolled_back(
                        &nobody,
                        &t,
                        WriteOp::Insert(mini_baas::ir::Insert {
                            entity: "track".into(),
                            rows: vec![],
                            on_conflict: None,
                            returning: None,
                        }),
                    )
                    .await,
                "an empty insert without the insert grant",
            );
        }
        // A many-to-many `count()` counts what the caller may see: the
        // junction rows its grant shows, whose targets its grant shows.
        let playlists = Filter::and(vec![
            Filter::cmp("playlist_id", CompareOp::Gte, 14),
            Filter::cmp("playlist_id", CompareOp::Lte, 18),
        ]);
        let mut counted = Query::new("playlist")
            .fields(["playlist_id"])
            .filter(playlists.clone())
            .order_by(OrderBy::asc("playlist_id"));
        let mut tracks = embed("tracks", &[]);
        tracks.select.aggregates = vec![AggregateExpr {
            alias: "count".into(),
            func: AggregateFn::Count,
            input: None,
        }];
        counted.select.embeds.push(tracks);
        let mut listed = Query::new("playlist")
            .fields(["playlist_id"])
            .filter(playlists)
            .order_by(OrderBy::asc("playlist_id"));
        let mut tracks = embed("tracks", &["track_id"]);
        tracks.limit = Some(1000);
        listed.select.embeds.push(tracks);
        let counts = |rows: Vec<Row>| -> Vec<J> {
            rows.iter()
                .map(|r| r["tracks"][0]["count"].clone())
                .collect()
        };
        let mine = counts(find(counted.clone()).await.unwrap().rows);
        let seen: Vec<J> = find(listed)
            .await
            .unwrap()
            .rows
            .iter()
            .map(|r| json!(r["tracks"].as_array().unwrap().len()))
            .collect();
        assert_eq!(mine, seen, "many-to-many count on {}", e.name);
        let all = counts(e.find(&admin(), counted.clone()).await.unwrap());
        assert_ne!(mine, all, "the grants changed no count on {}", e.name);
        assert!(
            mine.iter().any(|c| c != &json!(0)),
            "nothing counted on {}",
            e.name
        );
        // Grouped by a target field, over the targets: the groups are the
        // readable targets' and add up to the count; a hidden field cannot
        // be aggregated.
        let mut grouped = counted.clone();
        grouped.select.embeds[0].select.fields = vec!["genre_id".into()];
        let got = find(grouped).await.unwrap().rows;
        let sums: Vec<J> = got
            .iter()
            .map(|r| {
                let groups = r["tracks"].as_array().unwrap();
                assert!(
                    groups.iter().all(|g| g["genre_id"] == json!(1)),
                    "a hidden genre grouped on {}: {groups:?}",
                    e.name
                );
                json!(
                    groups
                        .iter()
                        .map(|g| g["count"].as_u64().unwrap())
                        .sum::<u64>()
                )
            })
            .collect();
        assert_eq!(sums, mine, "grouped many-to-many counts on {}", e.name);
        let mut hidden = counted.clone();
        hidden.select.embeds[0].select.aggregates = vec![AggregateExpr {
            alias: "ms".into(),
            func: AggregateFn::Sum {
                field: "milliseconds".into(),
            },
            input: None,
        }];
        forbidden(find(hidden).await, "a many-to-many sum of a hidden field");
        // Groups that embed a to-one relation count only the readable
        // rows and embed only readable related rows.
        let mut by_album = Query::new("genre")
            .fields(["genre_id"])
            .filter(Filter::in_list("genre_id", vec![1i64, 2]))
            .order_by(OrderBy::asc("genre_id"));
        let mut tracks = embed("tracks", &[]);
        tracks.select.aggregates = vec![AggregateExpr {
            alias: "n".into(),
            func: AggregateFn::Count,
            input: None,
        }];
        tracks
            .select
            .embeds
            .push(embed("album", &["title", "artist_id"]));
        by_album.select.embeds.push(tracks);
        let got = find(by_album).await.unwrap().rows;
        let total = |r: &Row| -> u64 {
            r["tracks"]
                .as_array()
                .unwrap()
                .iter()
                .map(|g| g["n"].as_u64().unwrap())
                .sum()
        };
        let readable = e
            .count(&who, "track", Some(Filter::eq("genre_id", 1)))
            .await
            .unwrap();
        assert_eq!(
            (total(&got[0]), total(&got[1])),
            (readable, 0),
            "grouped counts on {}",
            e.name
        );
        assert!(
            got[0]["tracks"].as_array().unwrap().iter().all(|g| {
                g["album"].is_null() || g["album"]["artist_id"].as_i64().unwrap() <= 100
            }),
            "a hidden album embedded in a group on {}",
            e.name
        );
        // A write's representation embeds what a read of the same rows
        // embeds: the related rows and fields the caller may read. Naming
        // a hidden field in it is refused.
        let albums = |who: &Principal, embeds: Vec<Embed>| {
            let (t, who, filter) = (t.clone(), who.clone(), first_albums.clone());
            async move {
                let op = WriteOp::Update(Update {
                    entity: "album".into(),
                    filter,
                    set: json!({"title": "x"}).as_object().unwrap().clone(),
                    returning: Some(vec!["album_id".into()]),
                    max_rows: None,
                });
                let select = Selection {
                    fields: vec!["album_id".into()],
                    embeds,
                    ..Selection::default()
                };
                e.baas
                    .write_representing(&who, &t, op, select, true)
                    .await
                    .map(|r| r.rows)
            }
        };
        let rep = albums(&who, vec![embed("tracks", &[])])
            .await
            .unwrap_or_else(|err| panic!("representation on {}: {err}", e.name));
        let mut q = Query::new("album")
            .fields(["album_id"])
            .filter(first_albums.clone());
        q.select.embeds.push(embed("tracks", &[]));
        assert_eq!(
            serde_json::to_string(&rep).unwrap(),
            serde_json::to_string(&find(q).await.unwrap().rows).unwrap(),
            "a write's representation is not the read's on {}",
            e.name
        );
        let all = albums(&admin(), vec![embed("tracks", &[])]).await.unwrap();
        assert_ne!(rep, all, "the grants changed nothing on {}", e.name);
        assert!(
            rep.iter()
                .flat_map(|a| a["tracks"].as_array().unwrap())
                .all(|t| is_rock(t) && t.as_object().unwrap().len() == TRACK_FIELDS.len()),
            "hidden tracks or fields in a representation on {}",
            e.name
        );
        forbidden(
            albums(&who, vec![embed("tracks", &["composer"])]).await,
            "a write's representation embedding a hidden field",
        );
    }
}
