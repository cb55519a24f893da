//! To-one embeds joined by `$lookup` (`MongoConfig::lookup_to_one`) against
//! the batched path (one `$in` query per relation level), on the
//! Mongo-wire server loaded with Chinook (`.ci/mongo_fixtures.sh`): the same
//! JSON bytes for every read, and (an ignored test, run by hand) the wall
//! time of each path.

use std::time::{Duration, Instant};

use baas_adapter_mongo::{MongoAdapter, MongoConfig, connect};
use baas_core::ir::{Embed, Filter, OrderBy, Query, Rows, Selection};
use baas_core::validate::{Limits, Validator};
use baas_core::{DatabaseAdapter, Relation, SchemaMetadata, Target};
use baas_testkit::{Naming, chinook_metadata, skip_or_fail};

fn url() -> String {
    std::env::var("BAAS_TEST_MONGO_URL")
        .unwrap_or_else(|_| "mongodb://127.0.0.1:27017/chinook?directConnection=true".into())
}

/// The same server twice: to-one embeds by `$lookup`, and batched.
async fn adapters() -> Option<(MongoAdapter, MongoAdapter)> {
    let mut joined = MongoConfig::new(url());
    joined.lookup_to_one = true;
    let mut batched = MongoConfig::new(url());
    batched.lookup_to_one = false;
    match (connect(joined).await, connect(batched).await) {
        (Ok(j), Ok(b)) => {
            assert!(j.capabilities().embed_to_one);
            assert!(!b.capabilities().embed_to_one);
            Some((j, b))
        }
        (Err(e), _) | (_, Err(e)) => {
            skip_or_fail("MongoDB (BAAS_TEST_MONGO_URL)", &e);
            None
        }
    }
}

/// Chinook, plus a composite many-to-one link (an invoice line to the
/// playlist entry whose playlist id is the line's invoice id), so that the
/// `let`/`$expr` form of the join runs too.
fn schema() -> SchemaMetadata {
    let mut s = chinook_metadata(Naming::PascalCase);
    let line = s
        .entities
        .iter_mut()
        .find(|e| e.name == "invoice_line")
        .expect("invoice_line");
    line.relations.push(Relation::many_to_one(
        "listed",
        "playlist_track",
        &["invoice_id", "track_id"],
        &["playlist_id", "track_id"],
    ));
    s
}

fn embed(relation: &str, fields: &[&str]) -> Embed {
    let mut e = Embed::new(relation);
    e.select.fields = fields.iter().map(|f| f.to_string()).collect();
    e
}

/// `track?select=*,album(title,artist(name))&limit=n`
fn tracks_with_album_and_artist(n: u64) -> Query {
    let mut album = embed("album", &["title"]);
    album.select.embeds.push(embed("artist", &["name"]));
    let mut q = Query::new("track").limit(n);
    q.select.embeds.push(album);
    q
}

/// `album?select=*,artist(*)&limit=20`
fn albums_with_artist() -> Query {
    let mut q = Query::new("album").limit(20);
    q.select.embeds.push(Embed::new("artist"));
    q
}

/// `invoice_line?select=*,track(name,album(title))`
fn lines_with_track_and_album() -> Query {
    let mut track = embed("track", &["name"]);
    track.select.embeds.push(embed("album", &["title"]));
    let mut q = Query::new("invoice_line");
    q.select.embeds.push(track);
    q
}

/// Reads whose to-one embeds are joined when the engine can: nested,
/// filtered (a related row the filter hides is `null`), aliased,
/// self-relations, missing links, a composite link, an `exists` inside an
/// embed's filter, and joined embeds selected after batched ones.
fn identity_queries() -> Vec<(&'static str, Query)> {
    let mut v = vec![
        ("tracks_album_artist_20", tracks_with_album_and_artist(20)),
        ("albums_artist_all_fields", albums_with_artist()),
    ];

    let mut album = embed("album", &["title"]);
    album.filter = Some(Filter::cmp("artist_id", baas_core::ir::CompareOp::Lte, 100));
    album.select.embeds.push(embed("artist", &["name"]));
    let mut kind = embed("genre", &["name"]);
    kind.alias = Some("kind".into());
    let q = Query::new("track")
        .fields(["track_id", "name"])
        .filter(Filter::cmp(
            "milliseconds",
            baas_core::ir::CompareOp::Gt,
            300_000,
        ))
        .order_by(OrderBy::desc("name"))
        .offset(10)
        .limit(40);
    let mut q = q;
    q.select.embeds.push(album);
    q.select.embeds.push(kind);
    v.push(("tracks_filtered_album_and_aliased_genre", q));

    let mut manager = embed("manager", &["last_name"]);
    let mut boss = embed("manager", &["last_name", "reports_to"]);
    boss.alias = Some("boss".into());
    manager.select.embeds.push(boss);
    let mut q = Query::new("employee").fields(["employee_id", "last_name"]);
    q.select.embeds.push(manager);
    v.push(("employees_manager_and_boss", q));

    // The batched to-many embed first: keys go back in selection order.
    let mut q = Query::new("album").fields(["album_id"]).limit(10);
    q.select.embeds.push(embed("tracks", &["name"]));
    q.select.embeds.push(embed("artist", &["name"]));
    v.push(("albums_tracks_then_artist", q));

    // The link field left out of the selection.
    let mut q = Query::new("track").fields(["name"]).limit(15);
    q.select.embeds.push(embed("media_type", &[]));
    v.push(("tracks_media_type_without_link_field", q));

    let mut album = embed("album", &["title"]);
    album.filter = Some(Filter::exists("tracks", Some(Filter::eq("genre_id", 1))));
    let mut q = Query::new("track").fields(["track_id"]).limit(60);
    q.select.embeds.push(album);
    v.push(("tracks_album_with_rock_tracks", q));

    // Invoice 1's lines are listed in playlist 1, invoice 2's in no
    // playlist 2 (it is empty). Kept short: the server scans the junction
    // for each composite key, on both paths.
    let mut q = Query::new("invoice_line")
        .fields(["invoice_line_id"])
        .order_by(OrderBy::asc("invoice_line_id"))
        .limit(6);
    q.select.embeds.push(embed("listed", &[]));
    v.push(("lines_composite_link", q));

    // `select=album(artist(name))`: no own fields, at the root and in the
    // joined album (read to join, dropped from the answer).
    let mut album = Embed::new("album");
    album.select = Selection::embeds_only(vec![embed("artist", &["name"])]);
    let mut q = Query::new("track").limit(25);
    q.select = Selection::embeds_only(vec![album]);
    v.push(("tracks_embed_only", q));
    v
}

async fn read(db: &MongoAdapter, schema: &SchemaMetadata, q: &Query) -> baas_core::Result<Rows> {
    let limits = Limits::default();
    let target = Target::new(schema, &q.entity)?;
    let checked = Validator::new(target, db.capabilities(), &limits).query(q.clone())?;
    baas_core::read::find(db, &checked).await
}

#[tokio::test]
async fn lookup_and_batched_embeds_give_the_same_json() {
    let Some((joined, batched)) = adapters().await else {
        return;
    };
    let schema = schema();
    for (name, q) in identity_queries() {
        let a = read(&joined, &schema, &q)
            .await
            .unwrap_or_else(|e| panic!("{name} by $lookup: {e}"));
        let b = read(&batched, &schema, &q)
            .await
            .unwrap_or_else(|e| panic!("{name} batched: {e}"));
        let (a, b) = (
            serde_json::to_string(&a).expect("json"),
            serde_json::to_string(&b).expect("json"),
        );
        assert!(a.len() > 40, "{name}: suspiciously empty {a}");
        assert_eq!(a, b, "{name}: $lookup differs from the batched path");
    }
    // The cases above cover both kinds of value, not only objects.
    let mut q = Query::new("employee").fields(["employee_id"]);
    q.select.embeds.push(embed("manager", &["employee_id"]));
    let rows = read(&joined, &schema, &q).await.expect("employees").rows;
    assert!(rows.iter().any(|r| r["manager"].is_null()));
    assert!(rows.iter().any(|r| r["manager"].is_object()));
    let q = identity_queries()
        .into_iter()
        .find(|(n, _)| *n == "lines_composite_link")
        .expect("case")
        .1;
    let rows = read(&joined, &schema, &q).await.expect("lines").rows;
    assert!(rows.iter().any(|r| r["listed"].is_null()));
    assert!(rows.iter().any(|r| r["listed"].is_object()));
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn ms(d: Duration) -> String {
    format!("{:.1}", d.as_secs_f64() * 1000.0)
}

/// Wall time of each read through both paths (run by hand:
/// `cargo test -p baas-adapter-mongo --test lookup -- --ignored --nocapture`,
/// `LOOKUP_BENCH_REPS` repetitions each, default 30, after 3 warm-ups);
/// the two paths alternate so that load on the machine hits both alike.
#[tokio::test]
#[ignore = "timing, run by hand against a MongoDB-wire server"]
async fn lookup_vs_batched_wall_time() {
    let Some((joined, batched)) = adapters().await else {
        return;
    };
    let schema = schema();
    let reps: usize = std::env::var("LOOKUP_BENCH_REPS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(30);
    let reads = [
        (
            "track?select=*,album(title,artist(name))&limit=20",
            tracks_with_album_and_artist(20),
        ),
        (
            "track?select=*,album(title,artist(name))&limit=200",
            tracks_with_album_and_artist(200),
        ),
        ("album?select=*,artist(*)&limit=20", albums_with_artist()),
        (
            "invoice_line?select=*,track(name,album(title))",
            lines_with_track_and_album(),
        ),
    ];
    println!("{reps} reads each, wall time in ms");
    println!("| read | rows | batched median | batched p90 | $lookup median | $lookup p90 |");
    println!("|---|---:|---:|---:|---:|---:|");
    for (name, q) in &reads {
        let rows = read(&joined, &schema, q).await.expect("read").rows.len();
        for _ in 0..3 {
            read(&joined, &schema, q).await.expect("warm-up");
            read(&batched, &schema, q).await.expect("warm-up");
        }
        let (mut tj, mut tb) = (Vec::with_capacity(reps), Vec::with_capacity(reps));
        for i in 0..reps {
            let order: [(&MongoAdapter, &mut Vec<Duration>); 2] = if i % 2 == 0 {
                [(&joined, &mut tj), (&batched, &mut tb)]
            } else {
                [(&batched, &mut tb), (&joined, &mut tj)]
            };
            for (db, times) in order {
                let t = Instant::now();
                read(db, &schema, q).await.expect("read");
                times.push(t.elapsed());
            }
        }
        tj.sort();
        tb.sort();
        println!(
            "| `{name}` | {rows} | {} | {} | {} | {} |",
            ms(percentile(&tb, 0.5)),
            ms(percentile(&tb, 0.9)),
            ms(percentile(&tj, 0.5)),
            ms(percentile(&tj, 0.9)),
        );
    }
}
