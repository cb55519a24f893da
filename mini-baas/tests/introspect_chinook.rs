//! Chinook introspected live on PostgreSQL, MariaDB and SQLite gives equivalent
//! metadata: same entities, fields, keys, relations and indexes, types
//! equivalent across engines. Names are compared case- and underscore-blind
//! (`album_id` in the PostgreSQL fixture is `AlbumId` in the others).
//!
//! The one difference, asserted below rather than ignored: SQLite's
//! `INTEGER PRIMARY KEY` aliases the rowid, so SQLite reports those keys as
//! auto-increment while the other fixtures declare plain `INT` keys.

use std::collections::BTreeSet;

use baas_testkit::{fixtures_dir, skip_or_fail};
use mini_baas::{FieldType, Generated, IntrospectOptions, RelationKind, SchemaMetadata};

fn norm(s: &str) -> String {
    s.to_ascii_lowercase().replace('_', "")
}

fn class(t: &FieldType) -> String {
    match t {
        FieldType::Int16 | FieldType::Int32 | FieldType::Int64 => "integer".into(),
        other => serde_json::to_string(other).unwrap_or_default(),
    }
}

/// Everything compared, as sorted text lines.
fn shape(s: &SchemaMetadata) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for e in &s.entities {
        let en = norm(&e.name);
        out.insert(format!(
            "entity {en} key={:?} read_only={}",
            e.primary_key.iter().map(|k| norm(k)).collect::<Vec<_>>(),
            e.read_only
        ));
        for f in &e.fields {
            out.insert(format!(
                "field {en}.{} {} nullable={} max_length={:?} unique={}",
                norm(&f.name),
                class(&f.ty),
                f.nullable,
                f.max_length,
                f.unique
            ));
        }
        for r in &e.relations {
            let kind = match &r.kind {
                RelationKind::ManyToMany { through } => {
                    format!("many_to_many via {}", norm(&through.entity))
                }
                k => format!("{k:?}"),
            };
            out.insert(format!(
                "relation {en}.{} {kind} -> {} {:?}->{:?}",
                norm(&r.name),
                norm(&r.target),
                r.from_fields.iter().map(|f| norm(f)).collect::<Vec<_>>(),
                r.to_fields.iter().map(|f| norm(f)).collect::<Vec<_>>()
            ));
        }
        for ix in &e.indexes {
            out.insert(format!(
                "index {en} {:?} unique={}",
                ix.fields.iter().map(|f| norm(f)).collect::<Vec<_>>(),
                ix.unique
            ));
        }
    }
    out
}

#[tokio::test]
async fn chinook_is_discovered_alike_on_every_engine() {
    let pg_url = std::env::var("BAAS_TEST_PG_URL")
        .unwrap_or_else(|_| "postgres://baas:baas_pw@127.0.0.1:5432/chinook".into());
    let my_url = std::env::var("BAAS_TEST_MYSQL_URL")
        .unwrap_or_else(|_| "mysql://baas:baas_pw@127.0.0.1:3306/Chinook".into());
    let Ok(pg) = mini_baas::connect(&pg_url)
        .await
        .map_err(|e| skip_or_fail("PostgreSQL", &e))
    else {
        return;
    };
    let Ok(my) = mini_baas::connect(&my_url)
        .await
        .map_err(|e| skip_or_fail("MariaDB", &e))
    else {
        return;
    };
    let lite = mini_baas::sqlite::connect(mini_baas::sqlite::SqliteConfig::memory())
        .await
        .unwrap();
    let sql = std::fs::read_to_string(fixtures_dir().join("chinook/Chinook_Sqlite.sql")).unwrap();
    lite.backend().execute_script(&sql).await.unwrap();

    let opts = IntrospectOptions {
        schemas: vec!["public".into()],
        ..IntrospectOptions::default()
    };
    let pg = pg.introspect(&opts).await.expect("postgres introspection");
    let my = my
        .introspect(&IntrospectOptions::default())
        .await
        .expect("mysql introspection");
    use mini_baas::DatabaseAdapter;
    let mut lite = lite
        .introspect(&IntrospectOptions::default())
        .await
        .expect("sqlite introspection");

    for s in [&pg, &my, &lite] {
        assert!(s.check().is_ok(), "{:?}", s.check());
        // The scratch tables other suites create are not part of Chinook.
        assert!(s.entities.len() >= 11, "{} entities", s.entities.len());
    }
    let chinook = |s: &SchemaMetadata| {
        let mut s = s.clone();
        s.entities
            .retain(|e| !["gadget", "pg_types", "my_types"].contains(&e.name.as_str()));
        s
    };
    let (pg, my) = (chinook(&pg), chinook(&my));
    lite = chinook(&lite);
    assert_eq!(pg.entities.len(), 11);

    // The explained difference: SQLite's rowid-alias keys.
    for e in &lite.entities {
        for f in &e.fields {
            let rowid = e.primary_key.len() == 1 && e.primary_key[0] == f.name;
            assert_eq!(
                f.generated == Generated::AutoIncrement,
                rowid,
                "{}.{}",
                e.name,
                f.name
            );
        }
    }
    for s in [&pg, &my] {
        assert!(
            s.entities
                .iter()
                .flat_map(|e| &e.fields)
                .all(|f| f.generated == Generated::None)
        );
    }

    let (a, b, c) = (shape(&pg), shape(&my), shape(&lite));
    assert_eq!(
        a.symmetric_difference(&b).collect::<Vec<_>>(),
        Vec::<&String>::new(),
        "postgres vs mysql"
    );
    assert_eq!(
        a.symmetric_difference(&c).collect::<Vec<_>>(),
        Vec::<&String>::new(),
        "postgres vs sqlite"
    );

    // Spot checks of what was discovered.
    let track = pg.entity("track").unwrap();
    assert_eq!(
        track.field("unit_price").unwrap().ty,
        FieldType::Decimal {
            precision: Some(10),
            scale: Some(2)
        }
    );
    assert_eq!(track.field("name").unwrap().max_length, Some(200));
    assert_eq!(
        track.relation("album").unwrap().kind,
        RelationKind::ManyToOne
    );
    let playlist = pg.entity("playlist").unwrap();
    assert!(
        matches!(&playlist.relation("track").unwrap().kind, RelationKind::ManyToMany { through } if through.entity == "playlist_track")
    );
    let employee = pg.entity("employee").unwrap();
    assert!(
        employee.relation("reports_to_employee").is_ok()
            && employee.relation("employee_by_reports_to").is_ok()
    );
    println!(
        "introspection: chinook equivalent on postgres, mysql and sqlite ({} shape lines)",
        a.len()
    );
}
