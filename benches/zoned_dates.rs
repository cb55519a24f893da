//! The cost of grouping by an instant's date in the caller's zone
//! (`select=d:at::date,count()` under `Prefer: timezone=America/New_York`)
//! on SQLite and MariaDB, which have no zone data of their own: the
//! statement picks New York's offset at each instant from a search tree
//! of `CASE`s (`Zone::offsets`, 363 spans). Compared, in the same run,
//! with the same grouping in UTC (`DATE(at)`, no zone) and, on MariaDB,
//! with `CONVERT_TZ(at, '+00:00', 'America/New_York')` through the
//! server's time zone tables (what mini-baas sent before, where the
//! server had them). 100 000 instants over ten years, about 3650 groups;
//! MariaDB is skipped when `BAAS_TEST_MYSQL_URL`'s server is not
//! reachable, its `CONVERT_TZ` line when the tables are not loaded.
//! Also printed: the first `Zone::offsets` of a few zones (found once
//! per zone in a process).
//!
//!   cargo bench -p baas-benches --bench zoned_dates

use std::time::Instant;

use baas_core::adapter::{DatabaseAdapterExt, Target};
use baas_core::ir::{Aggregate, AggregateExpr, AggregateFn, GroupValue};
use baas_core::metadata::{Entity, Field, FieldType, SchemaMetadata};
use baas_core::zone::Zone;
use criterion::{Criterion, criterion_group, criterion_main};

#[path = "sqlite_file.rs"]
mod sqlite_file;
use sqlite_file::sqlite_file;

const ROWS: i64 = 100_000;
const TABLE: &str = "bench_zoned_visit";

fn schema() -> SchemaMetadata {
    SchemaMetadata::new(vec![
        Entity::new(
            TABLE,
            vec![
                Field::new("id", FieldType::Int64),
                Field::new("at", FieldType::TimestampTz),
            ],
        )
        .with_primary_key(["id"]),
    ])
}

fn by_day(zone: Option<&str>) -> Aggregate {
    Aggregate {
        entity: TABLE.into(),
        filter: None,
        group_by: vec![],
        group_by_values: vec![GroupValue::Date {
            field: "at".into(),
            alias: Some("d".into()),
        }],
        aggregates: vec![AggregateExpr {
            alias: "count".into(),
            func: AggregateFn::Count,
            input: None,
        }],
        having: vec![],
        order: vec![],
        limit: None,
        offset: None,
        via: Vec::new(),
        zone: zone.map(Into::into),
    }
}

/// Instants from 2015 on, 3155 s apart modulo ten years.
const INSTANTS: &str = "1420070400 + (i * 3155) % 315360000";

fn zoned_dates(c: &mut Criterion) {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    for name in [
        "America/New_York",
        "Europe/Paris",
        "Australia/Lord_Howe",
        "Asia/Kolkata",
    ] {
        let zone = Zone::parse(name).expect("zone");
        let t = Instant::now();
        let n = zone.offsets().len();
        println!(
            "Zone::offsets({name}), first call: {:?} ({n} spans)",
            t.elapsed()
        );
    }
    let schema = schema();
    let target = Target::new(&schema, TABLE).expect("target");
    let (utc, ny) = (by_day(None), by_day(Some("America/New_York")));

    // SQLite, a file of its own.
    let (lite, path) = sqlite_file(
        &rt,
        "zoned",
        &format!(
            "CREATE TABLE {TABLE} (id INTEGER PRIMARY KEY, at TIMESTAMPTZ);
             WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {ROWS})
             INSERT INTO {TABLE} SELECT i, strftime('%Y-%m-%dT%H:%M:%S+00:00', {INSTANTS}, 'unixepoch') FROM n;"
        ),
    );
    let mut group = c.benchmark_group("sqlite_group_100k_by_day");
    group.sample_size(20);
    group.bench_function("utc", |b| {
        b.iter(|| rt.block_on(lite.aggregate(target, &utc)).expect("utc"))
    });
    group.bench_function("new_york_offsets", |b| {
        b.iter(|| rt.block_on(lite.aggregate(target, &ny)).expect("ny"))
    });
    group.finish();
    let _ = std::fs::remove_file(&path);

    // MariaDB.
    let url = std::env::var("BAAS_TEST_MYSQL_URL")
        .unwrap_or_else(|_| "mysql://baas:baas_pw@127.0.0.1:3306/Chinook".into());
    let Ok(my) = rt.block_on(baas_adapter_mysql::connect(
        baas_adapter_mysql::MySqlConfig::new(url),
    )) else {
        println!("MariaDB not reachable: skipped");
        return;
    };
    let pool = my.backend().pool().clone();
    let run = |sql: String| {
        let pool = pool.clone();
        async move {
            sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
                .execute(&pool)
                .await
                .expect("MariaDB")
        }
    };
    rt.block_on(async {
        run(format!("DROP TABLE IF EXISTS {TABLE}")).await;
        run(format!("CREATE TABLE {TABLE} (id BIGINT PRIMARY KEY, at TIMESTAMP(6) NULL)")).await;
        run(format!(
            "SET SESSION max_recursive_iterations = {ROWS}; INSERT INTO {TABLE} WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {ROWS}) \
             SELECT i, FROM_UNIXTIME({INSTANTS}) FROM n"
        ))
        .await;
    });
    let convert_tz = format!(
        "SELECT DATE(CONVERT_TZ(at, '+00:00', 'America/New_York')) AS d, COUNT(*) AS count \
         FROM {TABLE} GROUP BY DATE(CONVERT_TZ(at, '+00:00', 'America/New_York'))"
    );
    let tables: Option<i64> = rt
        .block_on(
            sqlx::query_scalar(
                "SELECT COUNT(CONVERT_TZ('2000-01-01 00:00:00', '+00:00', 'America/New_York'))",
            )
            .fetch_one(&pool),
        )
        .ok();
    let mut group = c.benchmark_group("mariadb_group_100k_by_day");
    group.sample_size(20);
    group.bench_function("utc", |b| {
        b.iter(|| rt.block_on(my.aggregate(target, &utc)).expect("utc"))
    });
    group.bench_function("new_york_offsets", |b| {
        b.iter(|| rt.block_on(my.aggregate(target, &ny)).expect("ny"))
    });
    if tables == Some(1) {
        group.bench_function("new_york_convert_tz", |b| {
            b.iter(|| {
                rt.block_on(sqlx::query(sqlx::AssertSqlSafe(convert_tz.clone())).fetch_all(&pool))
                    .expect("CONVERT_TZ")
            })
        });
    } else {
        println!("MariaDB has no time zone tables: CONVERT_TZ skipped");
    }
    group.finish();
    rt.block_on(run(format!("DROP TABLE {TABLE}")));
}

criterion_group!(benches, zoned_dates);
criterion_main!(benches);
