//! Live PostgreSQL introspection of the Pagila schema (views, enums, domains,
//! partitions, identity and generated columns) and of a generated schema of
//! 1,000 tables (timing).

use std::time::Instant;

use baas_testkit::skip_or_fail;
use mini_baas::{
    DatabaseAdapter, FieldType, Generated, IntrospectOptions, RelationKind, SchemaMetadata,
};

use baas_testkit::pg_url as url;

async fn connect(db: &str) -> Option<std::sync::Arc<dyn DatabaseAdapter>> {
    match mini_baas::connect(&url(db)).await {
        Ok(a) => Some(a),
        Err(e) => {
            skip_or_fail(&format!("PostgreSQL database `{db}` (.ci/fixtures.sh)"), &e);
            None
        }
    }
}

#[tokio::test]
async fn pagila_is_discovered_from_the_catalog() {
    let Some(db) = connect("pagila").await else {
        return;
    };
    let s = db
        .introspect(&IntrospectOptions::default())
        .await
        .expect("introspect");
    s.check().expect("consistent metadata");

    let film = s.entity("film").unwrap();
    assert_eq!(
        film.field("rating").unwrap().ty,
        FieldType::Enum {
            name: Some("mpaa_rating".into()),
            values: ["G", "PG", "PG-13", "R", "NC-17"]
                .map(String::from)
                .to_vec()
        }
    );
    // Domain `year` over integer.
    assert_eq!(film.field("release_year").unwrap().ty, FieldType::Int32);
    assert_eq!(
        film.field("film_id").unwrap().generated,
        Generated::AutoIncrement
    );
    assert_eq!(
        film.field("length_hours").unwrap().generated,
        Generated::Always
    );

    // Junction film_actor → many-to-many both ways.
    let actor = s.entity("actor").unwrap();
    assert!(actor.relations.iter().any(|r| r.target == "film"
        && matches!(&r.kind, RelationKind::ManyToMany { through } if through.entity == "film_actor")));

    // Partitioned `payment` is served through its parent; partitions are not entities.
    assert!(s.entity("payment").is_ok());
    assert!(
        s.entities.iter().all(|e| !e.name.starts_with("payment_p")),
        "partitions leaked"
    );

    // A view PostgreSQL cannot write through (a join with `GROUP BY`) is
    // read-only; it is keyed by the table key it shows, as PostgREST keys it.
    let view = s.entity("actor_info").unwrap();
    assert!(view.view && view.read_only);
    assert_eq!(view.primary_key, ["actor_id"]);
    // A view showing no whole table key stays keyless.
    let sales = s.entity("sales_by_store").unwrap();
    assert!(sales.view && sales.primary_key.is_empty());

    // Two foreign keys from one table to the same target get distinct names.
    for e in &s.entities {
        let mut names: Vec<&str> = e.relations.iter().map(|r| r.name.as_str()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(
            names.len(),
            e.relations.len(),
            "duplicate relation names on {}",
            e.name
        );
    }
    println!(
        "pagila live: {} entities ({} read-only), {} relations",
        s.entities.len(),
        s.entities.iter().filter(|e| e.read_only).count(),
        s.entities.iter().map(|e| e.relations.len()).sum::<usize>()
    );
}

/// A view written through over a table whose trigger reads the request
/// settings runs its writes with them (`write_settings`) but its reads on
/// the pool; a view whose own `WHERE` reads them needs them for both; a
/// view no one writes through and whose rule reads nothing needs neither
/// (the parity fixture, `.ci/sql/parity_pg.sql`).
#[tokio::test]
async fn request_settings_of_views_reads_and_writes_apart() {
    let Some(db) = connect("baas_parity").await else {
        return;
    };
    let s = db
        .introspect(&IntrospectOptions::default())
        .await
        .expect("introspect");
    let flags = |name: &str| {
        let e = s.entity(name).unwrap();
        (e.request_settings, e.write_settings, e.writes_settings())
    };
    // Over priv.pen, whose trigger stamps the writer's claims.
    assert_eq!(flags("pens"), (false, true, true));
    // A view over that view writes through both.
    assert_eq!(flags("pens_again"), (false, true, true));
    // `WHERE owner = …current_setting(…)`, over memo whose trigger reads them.
    assert_eq!(flags("my_memo"), (true, true, true));
    // A join: not written through, reads nothing.
    assert_eq!(flags("book_with_author"), (false, false, false));
    // The table itself: its writes.
    assert!(flags("priv_pen").0);
    // Keys of views written through: PostgreSQL writes `capped_pens`
    // itself, so its rows are its one table's though its `WHERE` reads
    // another; `pens_again` over `pens` over `priv.pen` too.
    for view in ["capped_pens", "pens_again"] {
        let e = s.entity(view).unwrap();
        assert!(!e.read_only, "{view}");
        assert_eq!(e.primary_key.len(), 1, "{view}");
    }
}

/// The metadata and the best time of three introspections, the pool
/// warmed first (connection set-up is not introspection).
async fn timed_introspection<D: DatabaseAdapter + ?Sized>(db: &D) -> (SchemaMetadata, f64) {
    db.health().await.unwrap();
    let mut best = f64::MAX;
    let mut s = None;
    for _ in 0..3 {
        let t = Instant::now();
        s = Some(
            db.introspect(&IntrospectOptions::default())
                .await
                .expect("introspect"),
        );
        best = best.min(t.elapsed().as_secs_f64());
    }
    (s.expect("three runs"), best)
}

#[tokio::test]
async fn a_thousand_tables_introspect_in_under_two_seconds() {
    let Some(db) = connect("baas_many").await else {
        return;
    };
    let (s, best) = timed_introspection(db.as_ref()).await;
    assert_eq!(s.entities.len(), 1000);
    let t500 = s.entity("t500").unwrap();
    assert_eq!(
        t500.relations
            .iter()
            .filter(|r| r.kind == RelationKind::ManyToOne)
            .count(),
        2
    );
    assert!(t500.field("name").unwrap().unique);
    println!("introspection: 1000 tables in {:.3} s (best of 3)", best);
    assert!(best < 2.0, "1000 tables took {best:.3} s");
}

/// Views' keys and relations are inferred from each view's own lineage
/// (400 tables in a chain of foreign keys, a view over each): the
/// inference once scanned every view's entries for every view and key,
/// 12 s for this schema (`BENCHMARKS.md`).
#[tokio::test]
async fn four_hundred_views_introspect_in_under_three_seconds() {
    let Some(db) = connect("baas_views").await else {
        return;
    };
    let (s, best) = timed_introspection(db.as_ref()).await;
    assert_eq!(s.entities.len(), 800);
    let v200 = s.entity("v200").unwrap();
    assert_eq!(v200.primary_key, ["vid"]);
    assert!(v200.view && !v200.read_only);
    // To its table's parent (table and view), from its table's child
    // (table and view).
    let mut targets: Vec<&str> = v200.relations.iter().map(|r| r.target.as_str()).collect();
    targets.sort_unstable();
    assert_eq!(
        targets,
        ["t199", "t201", "v199", "v201"],
        "{:?}",
        v200.relations
    );
    println!(
        "introspection: 400 tables and 400 views in {:.3} s (best of 3)",
        best
    );
    assert!(best < 3.0, "400 tables and 400 views took {best:.3} s");
}
