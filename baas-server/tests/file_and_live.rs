//! The same DDL imported from a file and introspected from the live engine
//! must agree: constructs whose names or types the engine decides.
//! MySQL runs on a scratch database `disc_file_and_live` (the `baas` user has
//! all privileges on `disc\_%`, `.ci/services.sh`); SQLite on a temp file.

use baas_introspect::{SqlFlavor, sql};
use baas_testkit::skip_or_fail;
use mini_baas::{IntrospectOptions, SchemaMetadata};

use baas_testkit::mysql_url;

/// Run `ddl` on a fresh MySQL scratch database `db` and introspect it;
/// `None` (skipped) without a server.
async fn mysql_live(db: &str, ddl: &str) -> Option<SchemaMetadata> {
    use sqlx::Connection;
    let mut conn = match sqlx::MySqlConnection::connect(&mysql_url("Chinook")).await {
        Ok(c) => c,
        Err(e) => {
            skip_or_fail("MariaDB/MySQL (BAAS_TEST_MYSQL_URL)", &e);
            return None;
        }
    };
    // Test-owned constants only.
    let setup = format!("DROP DATABASE IF EXISTS {db}; CREATE DATABASE {db}; USE {db}; {ddl}");
    sqlx::raw_sql(sqlx::AssertSqlSafe(setup))
        .execute(&mut conn)
        .await
        .unwrap_or_else(|e| {
            panic!("{db}: {e} (GRANT ALL ON `disc\\_%`.* TO baas: .ci/services.sh)")
        });
    let live = mini_baas::connect(&mysql_url(db)).await.expect("connect");
    Some(
        live.introspect(&IntrospectOptions::default())
            .await
            .expect("introspect"),
    )
}

/// Run `ddl` on a new SQLite file and introspect it.
async fn sqlite_live(name: &str, ddl: &str) -> SchemaMetadata {
    use sqlx::Connection;
    let path = std::env::temp_dir().join(format!("{name}-{}.db", std::process::id()));
    let _ = std::fs::remove_file(&path);
    let url = format!("sqlite://{}?mode=rwc", path.display());
    let mut conn = sqlx::SqliteConnection::connect(&url).await.expect("sqlite");
    sqlx::raw_sql(sqlx::AssertSqlSafe(ddl.to_string()))
        .execute(&mut conn)
        .await
        .expect("ddl");
    conn.close().await.expect("close");
    let live = mini_baas::connect(&format!("sqlite://{}", path.display()))
        .await
        .expect("connect");
    let s = live
        .introspect(&IntrospectOptions::default())
        .await
        .expect("introspect");
    let _ = std::fs::remove_file(&path);
    s
}

fn file(ddl: &str, flavor: SqlFlavor) -> SchemaMetadata {
    sql::import(ddl, flavor).expect("import").schema
}

/// `(name, fields, unique)` of every multi-column index of `table`, sorted.
fn multi_column_indexes(s: &SchemaMetadata, table: &str) -> Vec<(String, Vec<String>, bool)> {
    let e = s
        .entities
        .iter()
        .find(|e| e.source.table == table)
        .unwrap_or_else(|| panic!("no table {table}"));
    let mut v: Vec<_> = e
        .indexes
        .iter()
        .filter(|i| i.fields.len() > 1)
        .map(|i| (i.name.clone(), i.fields.clone(), i.unique))
        .collect();
    v.sort();
    v
}

#[tokio::test]
async fn unnamed_unique_keys_are_named_as_mysql_names_them() {
    let ddl = "CREATE TABLE seat (id int PRIMARY KEY, hall int NOT NULL, seat_row int NOT NULL, \
               num int NOT NULL, UNIQUE KEY (hall, seat_row, num), KEY (hall, num), \
               UNIQUE KEY (hall, num));";
    let Some(live) = mysql_live("disc_file_and_live", ddl).await else {
        return;
    };
    let from_file = file(ddl, SqlFlavor::Mysql);
    let expected = vec![
        (
            "hall".to_string(),
            vec!["hall".into(), "seat_row".into(), "num".into()],
            true,
        ),
        (
            "hall_2".to_string(),
            vec!["hall".into(), "num".into()],
            false,
        ),
        (
            "hall_3".to_string(),
            vec!["hall".into(), "num".into()],
            true,
        ),
    ];
    assert_eq!(multi_column_indexes(&live, "seat"), expected, "live");
    assert_eq!(multi_column_indexes(&from_file, "seat"), expected, "file");
}

#[tokio::test]
async fn unnamed_unique_constraints_are_named_as_sqlite_names_them() {
    let ddl = "CREATE TABLE seat (id INTEGER PRIMARY KEY, code TEXT UNIQUE, hall INTEGER NOT NULL, \
               num INTEGER NOT NULL, UNIQUE (hall, num));\n\
               CREATE TABLE pair (a TEXT, b TEXT, c TEXT, PRIMARY KEY (a, b), UNIQUE (b, c));";
    let live = sqlite_live("disc-unique-names", ddl).await;
    let from_file = file(ddl, SqlFlavor::Sqlite);
    for (table, name) in [
        // The column's UNIQUE is autoindex 1; INTEGER PRIMARY KEY is the rowid.
        ("seat", "sqlite_autoindex_seat_2"),
        // The composite primary key is autoindex 1.
        ("pair", "sqlite_autoindex_pair_2"),
    ] {
        let got = multi_column_indexes(&live, table);
        assert_eq!(got.len(), 1, "{table} live: {got:?}");
        assert_eq!(got[0].0, name, "{table} live");
        assert_eq!(multi_column_indexes(&from_file, table), got, "{table} file");
    }
}

/// A field's name, type name and integer range.
type TypeAndRange = (String, &'static str, Option<(i64, i64)>);

#[tokio::test]
async fn unsigned_integers_carry_their_range() {
    let ddl = "CREATE TABLE meter (id int UNSIGNED PRIMARY KEY, tiny tinyint UNSIGNED, \
               small smallint UNSIGNED, mid mediumint UNSIGNED, big bigint UNSIGNED, plain int);";
    let Some(live) = mysql_live("disc_unsigned", ddl).await else {
        return;
    };
    let from_file = file(ddl, SqlFlavor::Mysql);
    let ranges = |s: &SchemaMetadata| -> Vec<TypeAndRange> {
        let e = s
            .entities
            .iter()
            .find(|e| e.name == "meter")
            .expect("meter");
        e.fields
            .iter()
            .map(|f| (f.name.clone(), f.ty.name(), f.range.map(|r| (r.min, r.max))))
            .collect()
    };
    let expected: Vec<TypeAndRange> = vec![
        ("id".into(), "int64", Some((0, 4_294_967_295))),
        ("tiny".into(), "int32", Some((0, 255))),
        ("small".into(), "int32", Some((0, 65_535))),
        ("mid".into(), "int64", Some((0, 16_777_215))),
        ("big".into(), "int64", Some((0, i64::MAX))),
        ("plain".into(), "int32", None),
    ];
    assert_eq!(ranges(&live), expected, "live");
    assert_eq!(ranges(&from_file), expected, "file");
}

#[tokio::test]
async fn spatial_columns_are_binary_on_mysql() {
    let ddl = "CREATE TABLE place (id int PRIMARY KEY, at POINT NOT NULL, area GEOMETRY, \
               route LINESTRING, zone MULTIPOLYGON);";
    let Some(live) = mysql_live("disc_spatial", ddl).await else {
        return;
    };
    let from_file = file(ddl, SqlFlavor::Mysql);
    for s in [&live, &from_file] {
        let e = s
            .entities
            .iter()
            .find(|e| e.name == "place")
            .expect("place");
        let types: Vec<&str> = e.fields.iter().map(|f| f.ty.name()).collect();
        assert_eq!(types, ["int32", "binary", "binary", "binary", "binary"]);
    }
}
