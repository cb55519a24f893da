//! criterion benches of the IR → SQL lowering.
//!
//! - `lower_list_query/mini_baas/<dialect>`: a typical list query (8-field
//!   entity, AND of 5 predicates, 2 order keys, limit 20) lowered by
//!   [`baas_sql::select`].
//! - `lower_list_query/sea_query_direct/<dialect>`: the same statement built
//!   by hand with sea-query's builder, as an application without mini-baas
//!   would; the baseline for the cost of the dynamic layer. Before timing,
//!   both are checked to produce identical SQL and parameters.
//! - `validate_list_query`: [`baas_core::validate::Validator::query`] on the
//!   same IR (a clone of it: the validator takes the query by value).
//!
//! Run: `cargo bench -p baas-benches -- --warm-up-time 1 --measurement-time 3`.

use std::hint::black_box;

use baas_core::ir::{CompareOp, Filter, IsValue, OrderBy, Query};
use baas_core::validate::{Limits, Validator};
use baas_core::{Capabilities, Entity, Field, FieldType, SchemaMetadata, Target, Value};
use baas_sql::Dialect;
use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use sea_query::{
    Condition, Expr, ExprTrait, MysqlQueryBuilder, Order, PostgresQueryBuilder, SelectStatement,
    SqliteQueryBuilder,
};

const DIALECTS: [Dialect; 3] = [Dialect::Postgres, Dialect::Mysql, Dialect::Sqlite];

/// The Chinook `track` table: 8 fields.
fn schema() -> SchemaMetadata {
    SchemaMetadata::new(vec![
        Entity::new(
            "track",
            vec![
                Field::new("track_id", FieldType::Int32),
                Field::new("name", FieldType::Text),
                Field::new("album_id", FieldType::Int32).nullable(),
                Field::new("genre_id", FieldType::Int32).nullable(),
                Field::new("composer", FieldType::Text).nullable(),
                Field::new("milliseconds", FieldType::Int32),
                Field::new("bytes", FieldType::Int32).nullable(),
                Field::new(
                    "unit_price",
                    FieldType::Decimal {
                        precision: Some(10),
                        scale: Some(2),
                    },
                ),
            ],
        )
        .with_primary_key(["track_id"]),
    ])
}

/// `name = 'Balls to the Wall' AND unit_price > 0.99 AND genre_id IN (1, 2, 3)
/// AND composer LIKE '%Angus%' AND album_id IS NOT NULL
/// ORDER BY milliseconds DESC, name ASC LIMIT 20`.
fn list_query() -> Query {
    Query::new("track")
        .filter(Filter::and(vec![
            Filter::eq("name", "Balls to the Wall"),
            Filter::cmp("unit_price", CompareOp::Gt, Value::Text("0.99".into())),
            Filter::in_list("genre_id", vec![1i64, 2, 3]),
            Filter::Like {
                field: "composer".into(),
                pattern: "%Angus%".into(),
                case_insensitive: false,
            },
            Filter::is("album_id", IsValue::NotNull),
        ]))
        .order_by(OrderBy::desc("milliseconds"))
        .order_by(OrderBy::asc("name"))
        .limit(20)
}

/// The operands of the query, as a hand-written application would hold them.
struct Inputs {
    name: &'static str,
    min_price: &'static str,
    genres: [i32; 3],
    composer_like: &'static str,
    composer_glob: &'static str,
    limit: u64,
}

const INPUTS: Inputs = Inputs {
    name: "Balls to the Wall",
    min_price: "0.99",
    genres: [1, 2, 3],
    composer_like: "%Angus%",
    composer_glob: "*Angus*",
    limit: 20,
};

/// The same statement, built directly with sea-query (the casts, `LIKE`
/// forms, null ordering and primary-key tie-breaker mini-baas emits included).
fn sea_query_direct(d: Dialect, i: &Inputs) -> (String, sea_query::Values) {
    let (price, like) = match d {
        Dialect::Postgres => (
            Expr::cust_with_exprs("CAST($1 AS numeric)", [Expr::val(i.min_price)]),
            Expr::cust_with_exprs(
                "$1 LIKE $2 ESCAPE '\\'",
                [Expr::col("composer"), Expr::val(i.composer_like)],
            ),
        ),
        Dialect::Mysql => (
            Expr::cust_with_exprs("CAST(? AS DECIMAL(65,30))", [Expr::val(i.min_price)]),
            Expr::cust_with_exprs(
                "? LIKE BINARY ? ESCAPE '\\\\'",
                [Expr::col("composer"), Expr::val(i.composer_like)],
            ),
        ),
        Dialect::Sqlite => (
            Expr::val(i.min_price),
            Expr::cust_with_exprs(
                "? GLOB ?",
                [Expr::col("composer"), Expr::val(i.composer_glob)],
            ),
        ),
    };
    let mut sel = SelectStatement::new();
    sel.columns([
        "track_id",
        "name",
        "album_id",
        "genre_id",
        "composer",
        "milliseconds",
        "bytes",
        "unit_price",
    ])
    .from("track")
    .cond_where(
        Condition::all()
            .add(Expr::col("name").eq(i.name))
            .add(Expr::col("unit_price").gt(price))
            .add(Expr::col("genre_id").is_in(i.genres))
            .add(like)
            .add(Expr::col("album_id").is_not_null()),
    )
    // Every order key is NOT NULL: no null placement clause.
    .order_by_expr(Expr::col("milliseconds"), Order::Desc)
    .order_by_expr(Expr::col("name"), Order::Asc)
    .order_by_expr(Expr::col("track_id"), Order::Asc)
    .limit(i.limit);
    match d {
        Dialect::Postgres => sel.build(PostgresQueryBuilder),
        Dialect::Mysql => sel.build(MysqlQueryBuilder),
        Dialect::Sqlite => sel.build(SqliteQueryBuilder),
    }
}

fn lower_list_query(c: &mut Criterion) {
    let schema = schema();
    let target = Target::new(&schema, "track").expect("entity `track`");
    // Lowering is given checked queries (operands already of their fields'
    // types): check once, outside the timing.
    let caps = Capabilities::minimal("postgres");
    let limits = Limits::default();
    let q = Validator::new(target, &caps, &limits)
        .query(list_query())
        .expect("the list query is valid")
        .into_inner();

    // Both sides must build the same SQL with the same parameters.
    for d in DIALECTS {
        let ours = baas_sql::select(d, target, &q).expect("lowering succeeds");
        let (sql, values) = sea_query_direct(d, &INPUTS);
        assert_eq!(ours.statement.sql, sql, "SQL differs on {}", d.name());
        assert_eq!(
            ours.statement.params,
            values.0,
            "params differ on {}",
            d.name()
        );
    }

    let mut group = c.benchmark_group("lower_list_query");
    for d in DIALECTS {
        group.bench_function(BenchmarkId::new("mini_baas", d.name()), |b| {
            b.iter(|| baas_sql::select(black_box(d), black_box(target), black_box(&q)))
        });
        group.bench_function(BenchmarkId::new("sea_query_direct", d.name()), |b| {
            b.iter(|| sea_query_direct(black_box(d), black_box(&INPUTS)))
        });
    }
    group.finish();
}

fn validate_list_query(c: &mut Criterion) {
    let schema = schema();
    let target = Target::new(&schema, "track").expect("entity `track`");
    let q = list_query();
    let caps = Capabilities::minimal("postgres");
    let limits = Limits::default();
    let v = Validator::new(target, &caps, &limits);
    v.query(q.clone()).expect("the list query is valid");
    // The validator takes the query by value (it converts operands in
    // place): the clone is part of every iteration.
    c.bench_function("validate_list_query", |b| {
        b.iter(|| black_box(&v).query(black_box(&q).clone()))
    });
}

criterion_group!(benches, lower_list_query, validate_list_query);
criterion_main!(benches);
