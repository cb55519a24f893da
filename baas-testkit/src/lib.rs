//! # baas-testkit
//!
//! The adapter conformance suite.
//!
//! Every engine runs each case against a **real server** loaded with the
//! Chinook fixtures (`shared/fixtures/chinook`) plus the `gadget` scratch
//! table ([`gadget_entity`]) created empty once per test run. Cases check
//! behaviour through the [`DatabaseAdapter`] trait only, so the same
//! expectations hold on every engine. [`conformance_tests!`] turns the one
//! list of cases into one test per case and engine (this crate's
//! `tests/conformance.rs`: `cargo test -p baas-testkit upsert_merge` runs a
//! case on every engine, `cargo test -p baas-testkit postgres::` one engine);
//! [`check_case`] runs one case and holds it to the engine's exact
//! not-applicable list. Cases run concurrently against one database: each
//! writes only `gadget` rows under its own `sku` prefix.
//! [`identity_queries`] lists the requests whose JSON must be
//! byte-identical across engines. [`ddl`] holds the managed-mode DDL round
//! trip the SQL adapters run. [`edge`] holds what the HTTP edge tests of
//! every integration share: a streaming route family and a metadata store
//! that takes any tenant id.

pub mod cases;
pub mod ddl;
pub mod edge;

use std::future::Future;
use std::pin::Pin;

use serde_json::{Map, Value as J, json};

use baas_core::adapter::{DatabaseAdapter, DatabaseAdapterExt, Target};
use baas_core::error::Error;
use baas_core::ir::{
    Aggregate, AggregateExpr, AggregateFn, ArrayOp, CompareOp, Count, Delete, Direction, Embed,
    Filter, Having, Insert, IsValue, Nulls, OnConflict, OrderBy, Query, Record, Selection,
    TextSyntax, Update, Upsert,
};
use baas_core::metadata::{
    Entity, Field, FieldType, Generated, Index, Relation, RelationKind, SchemaMetadata, Through,
};
use baas_core::value::Value;

/// How the Chinook fixture of an engine names its tables and columns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Naming {
    /// `album`, `album_id` (the PostgreSQL fixture).
    SnakeCase,
    /// `Album`, `AlbumId` (the MySQL and SQLite fixtures).
    PascalCase,
}

fn pascal(s: &str) -> String {
    s.split('_')
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
                .unwrap_or_default()
        })
        .collect()
}

/// The directory holding the shared fixtures: `$BAAS_FIXTURES`, or
/// `shared/fixtures` beside the repository.
pub fn fixtures_dir() -> std::path::PathBuf {
    std::env::var_os("BAAS_FIXTURES")
        .map(Into::into)
        .unwrap_or_else(|| {
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/fixtures")
        })
}

/// Whether this run is CI (`CI=true`): real-server tests must then fail, not skip.
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

/// Report an unreachable server: panic in CI, print a skip reason otherwise.
/// Returns `true` when the caller should skip.
pub fn skip_or_fail(what: &str, err: &dyn std::fmt::Display) -> bool {
    if in_ci() {
        panic!("{what} is required in CI but unavailable: {err}");
    }
    eprintln!("SKIPPED: {what} unavailable ({err}); set CI=true to make this a failure");
    true
}

/// `url` with its database name (the last path segment) replaced by `db`:
/// another database on the same test server.
pub fn with_database(url: &str, db: &str) -> String {
    match url.rsplit_once('/') {
        Some((server, _)) => format!("{server}/{db}"),
        None => url.to_string(),
    }
}

/// Database `db` on the PostgreSQL test server (`BAAS_TEST_PG_URL`, by
/// default the CI server's `chinook`).
pub fn pg_url(db: &str) -> String {
    let base = std::env::var("BAAS_TEST_PG_URL")
        .unwrap_or_else(|_| "postgres://baas:baas_pw@127.0.0.1:5432/chinook".into());
    with_database(&base, db)
}

/// Database `db` on the MariaDB/MySQL test server (`BAAS_TEST_MYSQL_URL`,
/// by default the CI server's `Chinook`).
pub fn mysql_url(db: &str) -> String {
    let base = std::env::var("BAAS_TEST_MYSQL_URL")
        .unwrap_or_else(|_| "mysql://baas:baas_pw@127.0.0.1:3306/Chinook".into());
    with_database(&base, db)
}

/// Chinook metadata, written by hand (introspection arrives separately),
/// with API field names in snake_case on every engine.
pub fn chinook_metadata(naming: Naming) -> SchemaMetadata {
    let n = |s: &str| match naming {
        Naming::SnakeCase => s.to_string(),
        Naming::PascalCase => pascal(s),
    };
    let f = |name: &str, ty: FieldType, nullable: bool| {
        let mut fd = Field::new(name, ty);
        fd.nullable = nullable;
        if naming == Naming::PascalCase {
            fd.column = Some(pascal(name));
        }
        fd
    };
    let text = |name: &str, len: u32, nullable: bool| {
        let mut fd = f(name, FieldType::Text, nullable);
        fd.max_length = Some(len);
        fd
    };
    let money = || FieldType::Decimal {
        precision: Some(10),
        scale: Some(2),
    };
    let ent = |name: &str, fields: Vec<Field>, pk: &[&str], rels: Vec<Relation>| {
        let mut e = Entity::new(name, fields)
            .with_table(n(name))
            .with_primary_key(pk.iter().copied());
        e.relations = rels;
        e
    };
    use FieldType::{Int32, Timestamp};
    SchemaMetadata::new(vec![
        ent(
            "artist",
            vec![f("artist_id", Int32, false), text("name", 120, true)],
            &["artist_id"],
            vec![Relation::one_to_many(
                "albums",
                "album",
                &["artist_id"],
                &["artist_id"],
            )],
        ),
        ent(
            "album",
            vec![
                f("album_id", Int32, false),
                text("title", 160, false),
                f("artist_id", Int32, false),
            ],
            &["album_id"],
            vec![
                Relation::many_to_one("artist", "artist", &["artist_id"], &["artist_id"]),
                Relation::one_to_many("tracks", "track", &["album_id"], &["album_id"]),
            ],
        ),
        ent(
            "genre",
            vec![f("genre_id", Int32, false), text("name", 120, true)],
            &["genre_id"],
            vec![Relation::one_to_many(
                "tracks",
                "track",
                &["genre_id"],
                &["genre_id"],
            )],
        ),
        ent(
            "media_type",
            vec![f("media_type_id", Int32, false), text("name", 120, true)],
            &["media_type_id"],
            vec![],
        ),
        ent(
            "track",
            vec![
                f("track_id", Int32, false),
                text("name", 200, false),
                f("album_id", Int32, true),
                f("media_type_id", Int32, false),
                f("genre_id", Int32, true),
                text("composer", 220, true),
                f("milliseconds", Int32, false),
                f("bytes", Int32, true),
                f("unit_price", money(), false),
            ],
            &["track_id"],
            vec![
                Relation::many_to_one("album", "album", &["album_id"], &["album_id"]),
                Relation::many_to_one("genre", "genre", &["genre_id"], &["genre_id"]),
                Relation::many_to_one(
                    "media_type",
                    "media_type",
                    &["media_type_id"],
                    &["media_type_id"],
                ),
                Relation::one_to_many(
                    "invoice_lines",
                    "invoice_line",
                    &["track_id"],
                    &["track_id"],
                ),
                Relation {
                    name: "playlists".into(),
                    kind: RelationKind::ManyToMany {
                        through: Through {
                            entity: "playlist_track".into(),
                            source_fields: vec!["track_id".into()],
                            target_fields: vec!["playlist_id".into()],
                        },
                    },
                    target: "playlist".into(),
                    from_fields: vec!["track_id".into()],
                    to_fields: vec!["playlist_id".into()],
                    constraint: None,
                    function: None,
                },
            ],
        ),
        ent(
            "playlist",
            vec![f("playlist_id", Int32, false), text("name", 120, true)],
            &["playlist_id"],
            vec![Relation {
                name: "tracks".into(),
                kind: RelationKind::ManyToMany {
                    through: Through {
                        entity: "playlist_track".into(),
                        source_fields: vec!["playlist_id".into()],
                        target_fields: vec!["track_id".into()],
                    },
                },
                target: "track".into(),
                from_fields: vec!["playlist_id".into()],
                to_fields: vec!["track_id".into()],
                constraint: None,
                function: None,
            }],
        ),
        ent(
            "playlist_track",
            vec![f("playlist_id", Int32, false), f("track_id", Int32, false)],
            &["playlist_id", "track_id"],
            vec![],
        ),
        ent(
            "employee",
            vec![
                f("employee_id", Int32, false),
                text("last_name", 20, false),
                text("first_name", 20, false),
                text("title", 30, true),
                f("reports_to", Int32, true),
                f("birth_date", Timestamp, true),
                f("hire_date", Timestamp, true),
                text("address", 70, true),
                text("city", 40, true),
                text("state", 40, true),
                text("country", 40, true),
                text("postal_code", 10, true),
                text("phone", 24, true),
                text("fax", 24, true),
                text("email", 60, true),
            ],
            &["employee_id"],
            vec![
                Relation::many_to_one("manager", "employee", &["reports_to"], &["employee_id"]),
                Relation::one_to_many("reports", "employee", &["employee_id"], &["reports_to"]),
                Relation::one_to_many(
                    "customers",
                    "customer",
                    &["employee_id"],
                    &["support_rep_id"],
                ),
            ],
        ),
        ent(
            "customer",
            vec![
                f("customer_id", Int32, false),
                text("first_name", 40, false),
                text("last_name", 20, false),
                text("company", 80, true),
                text("address", 70, true),
                text("city", 40, true),
                text("state", 40, true),
                text("country", 40, true),
                text("postal_code", 10, true),
                text("phone", 24, true),
                text("fax", 24, true),
                text("email", 60, false),
                f("support_rep_id", Int32, true),
            ],
            &["customer_id"],
            vec![
                Relation::many_to_one(
                    "support_rep",
                    "employee",
                    &["support_rep_id"],
                    &["employee_id"],
                ),
                Relation::one_to_many("invoices", "invoice", &["customer_id"], &["customer_id"]),
            ],
        ),
        ent(
            "invoice",
            vec![
                f("invoice_id", Int32, false),
                f("customer_id", Int32, false),
                f("invoice_date", Timestamp, false),
                text("billing_address", 70, true),
                text("billing_city", 40, true),
                text("billing_state", 40, true),
                text("billing_country", 40, true),
                text("billing_postal_code", 10, true),
                f("total", money(), false),
            ],
            &["invoice_id"],
            vec![
                Relation::many_to_one("customer", "customer", &["customer_id"], &["customer_id"]),
                Relation::one_to_many("lines", "invoice_line", &["invoice_id"], &["invoice_id"]),
            ],
        ),
        ent(
            "invoice_line",
            vec![
                f("invoice_line_id", Int32, false),
                f("invoice_id", Int32, false),
                f("track_id", Int32, false),
                f("unit_price", money(), false),
                f("quantity", Int32, false),
            ],
            &["invoice_line_id"],
            vec![
                Relation::many_to_one("invoice", "invoice", &["invoice_id"], &["invoice_id"]),
                Relation::many_to_one("track", "track", &["track_id"], &["track_id"]),
            ],
        ),
    ])
}

/// The scratch entity every type round-trips through. Its table is created
/// empty once per run of the conformance tests (DDL per engine, in
/// `tests/conformance.rs`); `with_tags` adds a text array column for engines
/// with arrays.
pub fn gadget_entity(with_tags: bool) -> Entity {
    let opt = |name: &str, ty: FieldType| Field::new(name, ty).nullable();
    let mut sku = Field::new("sku", FieldType::Text);
    sku.unique = true;
    sku.max_length = Some(40);
    let mut fields = vec![
        Field::new("id", FieldType::Int64).generated(Generated::AutoIncrement),
        sku,
        opt("name", FieldType::Text),
        opt(
            "price",
            FieldType::Decimal {
                precision: Some(12),
                scale: Some(2),
            },
        ),
        opt("qty", FieldType::Int32),
        opt("big", FieldType::Int64),
        opt("ratio", FieldType::Float64),
        opt("weight", FieldType::Float32),
        opt("active", FieldType::Boolean),
        opt("born", FieldType::Date),
        opt("seen_at", FieldType::Timestamp),
        opt("meta", FieldType::Json),
        opt("data", FieldType::Binary),
        opt("uid", FieldType::Uuid),
    ];
    if with_tags {
        fields.push(opt(
            "tags",
            FieldType::Array {
                items: Box::new(FieldType::Text),
            },
        ));
    }
    let mut e = Entity::new("gadget", fields).with_primary_key(["id"]);
    e.indexes.push(Index {
        name: "gadget_sku_key".into(),
        fields: vec!["sku".into()],
        unique: true,
    });
    e
}

/// Chinook plus `gadget`, as one schema.
pub fn conformance_schema(naming: Naming, with_tags: bool) -> SchemaMetadata {
    let mut s = chinook_metadata(naming);
    s.entities.push(gadget_entity(with_tags));
    s
}

type CaseResult = Result<Outcome, String>;
type CaseFn = for<'a> fn(&'a Ctx<'a>) -> Pin<Box<dyn Future<Output = CaseResult> + Send + 'a>>;

/// What a case concluded.
enum Outcome {
    Pass,
    NotApplicable(String),
}

/// What a case gets.
struct Ctx<'a> {
    db: &'a dyn DatabaseAdapter,
    schema: &'a SchemaMetadata,
}

macro_rules! ensure {
    ($cond:expr, $($msg:tt)+) => {
        let ok: bool = $cond;
        if !ok {
            return Err(format!($($msg)+));
        }
    };
}

fn s<E: std::fmt::Display>(e: E) -> String {
    e.to_string()
}

impl Ctx<'_> {
    fn t(&self, entity: &str) -> Result<Target<'_>, String> {
        Target::new(self.schema, entity).map_err(s)
    }

    async fn rows(&self, q: Query) -> Result<Vec<Map<String, J>>, String> {
        let t = self.t(&q.entity)?;
        Ok(self.db.find(t, &q).await.map_err(s)?.rows)
    }

    async fn count(&self, entity: &str, f: Option<Filter>) -> Result<u64, String> {
        let t = self.t(entity)?;
        self.db.count(t, f.as_ref()).await.map_err(s)
    }

    async fn insert(&self, ins: Insert) -> Result<baas_core::ir::WriteResult, Error> {
        let t = Target::new(self.schema, &ins.entity)?;
        self.db.insert(t, &ins).await
    }

    async fn clear(&self, prefix: &str) -> Result<(), String> {
        let t = self.t("gadget")?;
        self.db
            .delete(
                t,
                &Delete {
                    entity: "gadget".into(),
                    filter: like("sku", &format!("{prefix}%")),
                    returning: None,
                    max_rows: None,
                },
            )
            .await
            .map_err(s)?;
        Ok(())
    }
}

fn like(field: &str, pattern: &str) -> Filter {
    Filter::Like {
        field: field.into(),
        pattern: pattern.into(),
        case_insensitive: false,
    }
}

fn ilike(field: &str, pattern: &str) -> Filter {
    Filter::Like {
        field: field.into(),
        pattern: pattern.into(),
        case_insensitive: true,
    }
}

fn rec(v: J) -> Record {
    match v {
        J::Object(m) => m,
        _ => Record::new(),
    }
}

fn ins(rows: Vec<J>) -> Insert {
    Insert {
        entity: "gadget".into(),
        rows: rows.into_iter().map(rec).collect(),
        on_conflict: None,
        returning: Some(vec![]),
    }
}

fn col(rows: &[Map<String, J>], key: &str) -> Vec<J> {
    rows.iter()
        .map(|r| r.get(key).cloned().unwrap_or(J::Null))
        .collect()
}

/// The suite's one list of cases: calls the macro named in parentheses with
/// its arguments followed by `[case, case, …]`. [`conformance_tests!`] (one
/// test per case and engine) and the crate's case table both come from it,
/// so no engine can miss a case.
#[doc(hidden)]
#[macro_export]
macro_rules! __with_conformance_cases {
    (($($callback:tt)*) $($args:tt)*) => {
        $($callback)*! {
            $($args)*
            [
            count_every_chinook_table,
            find_by_primary_key,
            select_subset_of_fields,
            compare_operators_partition_rows,
            decimal_comparison_is_exact,
            timestamp_comparison,
            in_list_ignores_null_and_empty_matches_nothing,
            empty_and_is_true_empty_or_is_false,
            not_of_or_is_complement,
            nested_and_or_not,
            null_semantics,
            like_is_case_sensitive_ilike_is_not,
            like_escapes_metacharacters,
            order_nulls_default_and_explicit,
            offset_pages_are_stable,
            keyset_pages_match_offset_pages,
            exact_count_ignores_page,
            exists_one_to_many,
            exists_many_to_many_with_filter,
            exists_nested,
            aggregate_group_by_having_order,
            aggregate_min_max_avg_count_distinct,
            aggregate_group_by_values,
            aggregate_of_computed_values,
            insert_one_round_trips_every_type,
            insert_generates_key_and_returns_it,
            insert_mixed_explicit_and_generated_keys_keeps_input_order,
            float32_prints_as_float32,
            unicode_long_text_and_large_numbers,
            bulk_insert_is_atomic,
            unique_violation_is_conflict,
            foreign_key_violation_is_conflict,
            validation_errors_point_at_fields,
            upsert_merge,
            upsert_ignore,
            upsert_merge_key_only_rows_are_returned,
            update_by_filter_with_returning,
            update_without_match_affects_nothing,
            delete_by_filter_with_returning,
            writes_past_their_max_rows_write_nothing,
            read_only_entity_refuses_writes,
            text_search,
            json_path_filters,
            json_path_order,
            json_containment,
            json_path_like_and_null,
            array_filters,
            json_path_into_arrays,
            embed_many_to_one_and_null,
            embed_one_to_many_order_limit_filter,
            embed_many_to_many,
            embed_nested,
            embed_only_selection,
            embed_offset_per_parent,
            ]
        }
    };
}

macro_rules! case_table {
    ([$($name:ident),* $(,)?]) => {
        const CASES: &[(&str, CaseFn)] = &[$((stringify!($name), |c| Box::pin($name(c)))),*];
    };
}

__with_conformance_cases!((case_table));

/// Whether `name` names a conformance case (usable in constants: the
/// not-applicable list of [`conformance_tests!`] is checked at compile time).
pub const fn is_case(name: &str) -> bool {
    let mut i = 0;
    while i < CASES.len() {
        if str_eq(CASES[i].0, name) {
            return true;
        }
        i += 1;
    }
    false
}

const fn str_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

/// Run the case `name` on one engine and hold it to the engine's exact list
/// of not-applicable cases: a case in `not_applicable` must come back not
/// applicable (passing there is a failure too: the list is stale), any
/// other case must pass. Prints one summary line,
/// `conformance <engine> <case>: pass | n/a (why) | FAIL (why)`, and panics
/// on a failure. A panic inside the case is caught and reported the same way.
pub async fn check_case(
    db: &dyn DatabaseAdapter,
    schema: &SchemaMetadata,
    name: &str,
    not_applicable: &[&str],
) {
    use futures::FutureExt as _;
    let Some((_, case)) = CASES.iter().find(|(n, _)| *n == name) else {
        panic!("{name} is not a conformance case");
    };
    let engine = db.capabilities().engine.clone();
    let ctx = Ctx { db, schema };
    let outcome = std::panic::AssertUnwindSafe(case(&ctx))
        .catch_unwind()
        .await
        .unwrap_or_else(|p| {
            let msg = p
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            Err(format!("panicked: {msg}"))
        });
    let listed = not_applicable.contains(&name);
    let failure = match (outcome, listed) {
        (Ok(Outcome::Pass), false) => {
            println!("conformance {engine} {name}: pass");
            return;
        }
        (Ok(Outcome::NotApplicable(why)), true) => {
            println!("conformance {engine} {name}: n/a ({})", one_line(&why));
            return;
        }
        (Ok(Outcome::Pass), true) => {
            format!("passes, but {engine} lists it as not applicable: remove it from the list")
        }
        (Ok(Outcome::NotApplicable(why)), false) => format!("not applicable: {why}"),
        (Err(why), _) => why,
    };
    println!("conformance {engine} {name}: FAIL ({})", one_line(&failure));
    panic!("conformance case {name} on {engine}: {failure}");
}

/// One `#[tokio::test]` per conformance case, named after the case, for
/// the engine of the module it is invoked in:
///
/// ```text
/// mod sqlite {
///     async fn setup() -> Option<(SqliteAdapter, SchemaMetadata)> {
///         // connect, once per binary prepare the database; None to skip
///     }
///     baas_testkit::conformance_tests!(setup, not_applicable: [text_search, array_filters]);
/// }
/// ```
///
/// `setup` is called by every test, in that test's runtime: it returns an
/// adapter connected there and the schema the cases run against, or `None`
/// when the test is skipped (it reports why itself, see [`skip_or_fail`]).
/// Each test runs its case through [`check_case`] with the engine's exact
/// not-applicable list. Every name in the list must be a case (checked at
/// compile time). Cases run concurrently against one database. The
/// calling crate needs `tokio` (macros, a runtime).
#[macro_export]
macro_rules! conformance_tests {
    (
        $setup:path,
        not_applicable: [$($na:ident),* $(,)?]
        $(,)?
    ) => {
        $crate::__with_conformance_cases!(
            ($crate::__conformance_tests) ($setup) [$($na),*]
        );
    };
}

/// The body of [`conformance_tests!`], called with the case list.
#[doc(hidden)]
#[macro_export]
macro_rules! __conformance_tests {
    (($setup:path) [$($na:ident),*] [$($case:ident),* $(,)?]) => {
        /// The cases this engine answers as not applicable, exactly.
        const NOT_APPLICABLE: &[&str] = &[$(stringify!($na)),*];
        const _: () = {
            $(assert!(
                $crate::is_case(stringify!($na)),
                concat!("not a conformance case: ", stringify!($na))
            );)*
        };
        $(
            #[tokio::test]
            async fn $case() {
                if let Some((adapter, schema)) = $setup().await {
                    $crate::check_case(&adapter, &schema, stringify!($case), NOT_APPLICABLE).await;
                }
            }
        )*
    };
}

/// A reason on one line, so the summary stays one line per case.
fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

async fn count_every_chinook_table(c: &Ctx<'_>) -> CaseResult {
    let expected = [
        ("artist", 275),
        ("album", 347),
        ("track", 3503),
        ("genre", 25),
        ("media_type", 5),
        ("playlist", 18),
        ("playlist_track", 8715),
        ("employee", 8),
        ("customer", 59),
        ("invoice", 412),
        ("invoice_line", 2240),
    ];
    for (e, n) in expected {
        let got = c.count(e, None).await?;
        ensure!(got == n, "{e}: expected {n} rows, got {got}");
    }
    Ok(Outcome::Pass)
}

async fn find_by_primary_key(c: &Ctx<'_>) -> CaseResult {
    let rows = c
        .rows(Query::new("artist").filter(Filter::eq("artist_id", 1)))
        .await?;
    ensure!(
        rows.len() == 1 && rows[0] == rec(json!({"artist_id": 1, "name": "AC/DC"})),
        "artist 1: {rows:?}"
    );
    let rows = c
        .rows(Query::new("track").filter(Filter::eq("track_id", 1)))
        .await?;
    ensure!(rows.len() == 1, "track 1 missing");
    ensure!(
        rows[0]["unit_price"] == dec("0.99"),
        "decimal shape: {}",
        rows[0]["unit_price"]
    );
    ensure!(
        rows[0]["composer"] == json!("Angus Young, Malcolm Young, Brian Johnson"),
        "composer: {}",
        rows[0]["composer"]
    );
    let rows = c
        .rows(Query::new("invoice").filter(Filter::eq("invoice_id", 1)))
        .await?;
    ensure!(
        rows[0]["invoice_date"] == json!("2021-01-01T00:00:00"),
        "timestamp shape: {}",
        rows[0]["invoice_date"]
    );
    ensure!(
        rows[0]["total"] == dec("1.98"),
        "total: {}",
        rows[0]["total"]
    );
    Ok(Outcome::Pass)
}

async fn select_subset_of_fields(c: &Ctx<'_>) -> CaseResult {
    let rows = c
        .rows(
            Query::new("album")
                .fields(["title"])
                .filter(Filter::eq("album_id", 1)),
        )
        .await?;
    ensure!(
        rows == vec![rec(
            json!({"title": "For Those About To Rock We Salute You"})
        )],
        "got {rows:?}"
    );
    Ok(Outcome::Pass)
}

async fn compare_operators_partition_rows(c: &Ctx<'_>) -> CaseResult {
    let total = c.count("track", None).await?;
    let n = |op| Filter::cmp("milliseconds", op, 300_000);
    let lt = c.count("track", Some(n(CompareOp::Lt))).await?;
    let eq = c.count("track", Some(n(CompareOp::Eq))).await?;
    let gt = c.count("track", Some(n(CompareOp::Gt))).await?;
    let lte = c.count("track", Some(n(CompareOp::Lte))).await?;
    let gte = c.count("track", Some(n(CompareOp::Gte))).await?;
    let neq = c.count("track", Some(n(CompareOp::Neq))).await?;
    ensure!(
        lt + eq + gt == total,
        "lt {lt} + eq {eq} + gt {gt} != {total}"
    );
    ensure!(lte == lt + eq && gte == gt + eq, "lte {lte} gte {gte}");
    ensure!(neq == total - eq, "neq {neq}");
    ensure!(lt > 0 && gt > 0, "degenerate split");
    Ok(Outcome::Pass)
}

async fn decimal_comparison_is_exact(c: &Ctx<'_>) -> CaseResult {
    let total = c.count("track", None).await?;
    let cheap = c
        .count("track", Some(Filter::eq("unit_price", "0.99")))
        .await?;
    let dear = c
        .count("track", Some(Filter::eq("unit_price", "1.99")))
        .await?;
    ensure!(
        cheap + dear == total,
        "0.99: {cheap} + 1.99: {dear} != {total}"
    );
    let gt = c
        .count(
            "track",
            Some(Filter::cmp("unit_price", CompareOp::Gt, "0.99")),
        )
        .await?;
    ensure!(gt == dear, "gt 0.99 = {gt}, expected {dear}");
    // A JSON number works too.
    let num = c
        .count("track", Some(Filter::eq("unit_price", 1.99)))
        .await?;
    ensure!(num == dear, "numeric operand: {num}");
    Ok(Outcome::Pass)
}

async fn timestamp_comparison(c: &Ctx<'_>) -> CaseResult {
    let first = c
        .rows(
            Query::new("invoice")
                .fields(["invoice_date"])
                .order_by(OrderBy::asc("invoice_date"))
                .limit(1),
        )
        .await?;
    let d = first[0]["invoice_date"]
        .as_str()
        .ok_or("no date")?
        .to_string();
    let eq = c
        .count("invoice", Some(Filter::eq("invoice_date", d.as_str())))
        .await?;
    let lt = c
        .count(
            "invoice",
            Some(Filter::cmp("invoice_date", CompareOp::Lt, d.as_str())),
        )
        .await?;
    ensure!(eq >= 1 && lt == 0, "eq {eq} lt {lt} for {d}");
    Ok(Outcome::Pass)
}

async fn in_list_ignores_null_and_empty_matches_nothing(c: &Ctx<'_>) -> CaseResult {
    let f = Filter::In {
        field: "artist_id".into(),
        values: vec![Value::Int(1), Value::Int(2), Value::Null],
    };
    ensure!(c.count("artist", Some(f)).await? == 2, "in [1,2,null]");
    let f = Filter::In {
        field: "artist_id".into(),
        values: vec![],
    };
    ensure!(c.count("artist", Some(f)).await? == 0, "in []");
    Ok(Outcome::Pass)
}

async fn empty_and_is_true_empty_or_is_false(c: &Ctx<'_>) -> CaseResult {
    ensure!(
        c.count("artist", Some(Filter::and(vec![]))).await? == 275,
        "and []"
    );
    ensure!(
        c.count("artist", Some(Filter::or(vec![]))).await? == 0,
        "or []"
    );
    ensure!(
        c.count("artist", Some(Filter::not(Filter::or(vec![]))))
            .await?
            == 275,
        "not(or [])"
    );
    Ok(Outcome::Pass)
}

async fn not_of_or_is_complement(c: &Ctx<'_>) -> CaseResult {
    let a = Filter::cmp("genre_id", CompareOp::Lte, 3);
    let b = Filter::eq("media_type_id", 2);
    let total = c.count("track", None).await?;
    let nulls = c
        .count("track", Some(Filter::is("genre_id", IsValue::Null)))
        .await?;
    let either = c
        .count("track", Some(Filter::or(vec![a.clone(), b.clone()])))
        .await?;
    let neither = c
        .count(
            "track",
            Some(Filter::not(Filter::or(vec![a.clone(), b.clone()]))),
        )
        .await?;
    // De Morgan must agree with NOT(OR).
    let de_morgan = c
        .count(
            "track",
            Some(Filter::and(vec![Filter::not(a), Filter::not(b)])),
        )
        .await?;
    ensure!(
        neither == de_morgan,
        "not(or) {neither} != and(not,not) {de_morgan}"
    );
    ensure!(
        either + neither <= total && either + neither + nulls >= total,
        "either {either} neither {neither}"
    );
    Ok(Outcome::Pass)
}

async fn nested_and_or_not(c: &Ctx<'_>) -> CaseResult {
    // (genre = 1 AND (media = 1 OR NOT media = 2)) over tracks, checked by parts.
    let f = Filter::and(vec![
        Filter::eq("genre_id", 1),
        Filter::or(vec![
            Filter::eq("media_type_id", 1),
            Filter::not(Filter::eq("media_type_id", 2)),
        ]),
    ]);
    let got = c.count("track", Some(f)).await?;
    let expect = c
        .count(
            "track",
            Some(Filter::and(vec![
                Filter::eq("genre_id", 1),
                Filter::cmp("media_type_id", CompareOp::Neq, 2),
            ])),
        )
        .await?;
    ensure!(got == expect && got > 0, "nested {got} vs flat {expect}");
    Ok(Outcome::Pass)
}

async fn null_semantics(c: &Ctx<'_>) -> CaseResult {
    let total = c.count("customer", None).await?;
    let null = c
        .count("customer", Some(Filter::is("company", IsValue::Null)))
        .await?;
    let not_null = c
        .count("customer", Some(Filter::is("company", IsValue::NotNull)))
        .await?;
    ensure!(
        null + not_null == total && null > 0,
        "null {null} + not null {not_null}"
    );
    let eq = c
        .count("customer", Some(Filter::eq("company", "Apple Inc.")))
        .await?;
    let neq = c
        .count(
            "customer",
            Some(Filter::cmp("company", CompareOp::Neq, "Apple Inc.")),
        )
        .await?;
    ensure!(eq == 1, "eq {eq}");
    ensure!(neq == not_null - eq, "neq excludes nulls: {neq}");
    // NOT(eq) does not match nulls either (three-valued logic).
    let not_eq = c
        .count(
            "customer",
            Some(Filter::not(Filter::eq("company", "Apple Inc."))),
        )
        .await?;
    ensure!(not_eq == neq, "not(eq) {not_eq} != neq {neq}");
    Ok(Outcome::Pass)
}

async fn like_is_case_sensitive_ilike_is_not(c: &Ctx<'_>) -> CaseResult {
    let upper = c.count("artist", Some(like("name", "A%"))).await?;
    let lower = c.count("artist", Some(like("name", "a%"))).await?;
    let any = c.count("artist", Some(ilike("name", "a%"))).await?;
    ensure!(upper > 0, "no artist starts with A");
    ensure!(
        any == upper + lower,
        "ilike {any} != like A {upper} + like a {lower}"
    );
    let one = c.count("artist", Some(like("name", "AC_DC"))).await?;
    ensure!(one == 1, "underscore wildcard: {one}");
    Ok(Outcome::Pass)
}

async fn like_escapes_metacharacters(c: &Ctx<'_>) -> CaseResult {
    c.clear("esc-").await?;
    c.insert(ins(vec![
        json!({"sku": "esc-1", "name": "100% cotton"}),
        json!({"sku": "esc-2", "name": "1000 cotton"}),
        json!({"sku": "esc-3", "name": "a_b"}),
        json!({"sku": "esc-4", "name": "axb"}),
        json!({"sku": "esc-5", "name": "what? [*]"}),
    ]))
    .await
    .map_err(s)?;
    let scoped = |f: Filter| Some(Filter::and(vec![like("sku", "esc-%"), f]));
    ensure!(
        c.count("gadget", scoped(like("name", "100\\%%"))).await? == 1,
        "escaped %"
    );
    ensure!(
        c.count("gadget", scoped(like("name", "100%"))).await? == 2,
        "wildcard %"
    );
    ensure!(
        c.count("gadget", scoped(like("name", "a\\_b"))).await? == 1,
        "escaped _"
    );
    ensure!(
        c.count("gadget", scoped(like("name", "what? [*]"))).await? == 1,
        "glob chars are literal"
    );
    ensure!(
        c.count("gadget", scoped(ilike("name", "WHAT? [*]")))
            .await?
            == 1,
        "ilike literal"
    );
    c.clear("esc-").await?;
    Ok(Outcome::Pass)
}

async fn order_nulls_default_and_explicit(c: &Ctx<'_>) -> CaseResult {
    let q = |o: OrderBy| {
        Query::new("customer")
            .fields(["customer_id", "company"])
            .order_by(o)
    };
    let asc = c.rows(q(OrderBy::asc("company"))).await?;
    ensure!(
        asc.last().is_some_and(|r| r["company"].is_null()),
        "asc: nulls last by default"
    );
    ensure!(!asc[0]["company"].is_null(), "asc: first is not null");
    let desc = c.rows(q(OrderBy::desc("company"))).await?;
    ensure!(desc[0]["company"].is_null(), "desc: nulls first by default");
    let mut o = OrderBy::asc("company");
    o.nulls = Some(Nulls::First);
    let first = c.rows(q(o)).await?;
    ensure!(first[0]["company"].is_null(), "asc nulls first");
    let mut o = OrderBy::desc("company");
    o.nulls = Some(Nulls::Last);
    let last = c.rows(q(o)).await?;
    ensure!(
        last.last().is_some_and(|r| r["company"].is_null()),
        "desc nulls last"
    );
    // Ties among nulls are broken by the primary key.
    let nulls: Vec<J> = first
        .iter()
        .take_while(|r| r["company"].is_null())
        .map(|r| r["customer_id"].clone())
        .collect();
    let mut sorted = nulls.clone();
    sorted.sort_by_key(|v| v.as_i64());
    ensure!(nulls == sorted, "null ties not ordered by key");
    Ok(Outcome::Pass)
}

async fn offset_pages_are_stable(c: &Ctx<'_>) -> CaseResult {
    let base = || {
        Query::new("track")
            .fields(["track_id"])
            .filter(Filter::eq("genre_id", 1))
            .order_by(OrderBy::asc("unit_price"))
    };
    let all = col(&c.rows(base()).await?, "track_id");
    let mut paged = Vec::new();
    let mut offset = 0;
    loop {
        let page = c.rows(base().limit(97).offset(offset)).await?;
        if page.is_empty() {
            break;
        }
        paged.extend(col(&page, "track_id"));
        offset += 97;
    }
    ensure!(
        paged == all,
        "paged ({}) != unpaged ({})",
        paged.len(),
        all.len()
    );
    Ok(Outcome::Pass)
}

async fn keyset_pages_match_offset_pages(c: &Ctx<'_>) -> CaseResult {
    let base = || {
        Query::new("track")
            .fields(["track_id", "milliseconds"])
            .filter(Filter::eq("album_id", 141))
            .order_by(OrderBy::desc("milliseconds"))
            .order_by(OrderBy::asc("track_id"))
    };
    let all = c.rows(base()).await?;
    ensure!(all.len() > 5, "album 141 too small: {}", all.len());
    let mut seen = Vec::new();
    let mut after: Option<Vec<Value>> = None;
    loop {
        let mut q = base().limit(4);
        q.page.after = after.clone();
        let page = c.rows(q).await?;
        if page.is_empty() {
            break;
        }
        let last = page.last().ok_or("empty")?;
        after = Some(vec![
            Value::from_json(&last["milliseconds"]),
            Value::from_json(&last["track_id"]),
        ]);
        seen.extend(page);
    }
    ensure!(seen == all, "keyset pages differ from the full list");
    Ok(Outcome::Pass)
}

async fn exact_count_ignores_page(c: &Ctx<'_>) -> CaseResult {
    let mut q = Query::new("album")
        .filter(Filter::eq("artist_id", 90))
        .limit(2);
    q.count = Count::Exact;
    let t = c.t("album")?;
    let r = c.db.find(t, &q).await.map_err(s)?;
    let n = c.count("album", Some(Filter::eq("artist_id", 90))).await?;
    ensure!(
        r.rows.len() == 2 && r.total == Some(n) && n > 2,
        "rows {} total {:?} n {n}",
        r.rows.len(),
        r.total
    );
    let mut q = Query::new("artist").limit(1);
    q.count = Count::Estimated;
    let r = c.db.find(c.t("artist")?, &q).await.map_err(s)?;
    ensure!(r.total.is_some(), "estimated count missing");
    Ok(Outcome::Pass)
}

async fn exists_one_to_many(c: &Ctx<'_>) -> CaseResult {
    let with = c
        .count(
            "artist",
            Some(Filter::Exists {
                relation: "albums".into(),
                filter: None,
                through: None,
            }),
        )
        .await?;
    let distinct =
        c.db.aggregate(
            c.t("album")?,
            &Aggregate {
                entity: "album".into(),
                filter: None,
                group_by: vec![],
                group_by_values: Vec::new(),
                aggregates: vec![AggregateExpr {
                    alias: "n".into(),
                    func: AggregateFn::CountDistinct {
                        field: "artist_id".into(),
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
        .await
        .map_err(s)?;
    ensure!(
        json!(with) == distinct[0]["n"],
        "exists {with} vs distinct {}",
        distinct[0]["n"]
    );
    let without = c
        .count(
            "artist",
            Some(Filter::not(Filter::Exists {
                relation: "albums".into(),
                filter: None,
                through: None,
            })),
        )
        .await?;
    ensure!(with + without == 275, "with {with} + without {without}");
    Ok(Outcome::Pass)
}

async fn exists_many_to_many_with_filter(c: &Ctx<'_>) -> CaseResult {
    // Playlists containing a track of genre 1, two ways.
    let via_m2m = c
        .count(
            "playlist",
            Some(Filter::Exists {
                relation: "tracks".into(),
                filter: Some(Box::new(Filter::eq("genre_id", 1))),
                through: None,
            }),
        )
        .await?;
    let any = c
        .count(
            "playlist",
            Some(Filter::Exists {
                relation: "tracks".into(),
                filter: None,
                through: None,
            }),
        )
        .await?;
    ensure!(
        via_m2m > 0 && via_m2m <= any && any < 18,
        "m2m {via_m2m} any {any}"
    );
    let track1 = c
        .count(
            "track",
            Some(Filter::and(vec![
                Filter::eq("track_id", 1),
                Filter::Exists {
                    relation: "playlists".into(),
                    filter: Some(Box::new(Filter::eq("name", "Music"))),
                    through: None,
                },
            ])),
        )
        .await?;
    ensure!(track1 == 1, "track 1 in playlist Music: {track1}");
    Ok(Outcome::Pass)
}

async fn exists_nested(c: &Ctx<'_>) -> CaseResult {
    // Artists with an album that has a track longer than 20 minutes.
    let f = Filter::Exists {
        relation: "albums".into(),
        filter: Some(Box::new(Filter::Exists {
            relation: "tracks".into(),
            filter: Some(Box::new(Filter::cmp(
                "milliseconds",
                CompareOp::Gt,
                1_200_000,
            ))),
            through: None,
        })),
        through: None,
    };
    let n = c.count("artist", Some(f)).await?;
    let long = c
        .count(
            "track",
            Some(Filter::cmp("milliseconds", CompareOp::Gt, 1_200_000)),
        )
        .await?;
    ensure!(n > 0 && n <= long, "nested exists {n}, long tracks {long}");
    Ok(Outcome::Pass)
}

fn agg(alias: &str, func: AggregateFn) -> AggregateExpr {
    AggregateExpr::new(alias, func)
}

async fn aggregate_group_by_having_order(c: &Ctx<'_>) -> CaseResult {
    let a = Aggregate {
        entity: "invoice".into(),
        filter: None,
        group_by: vec!["billing_country".into()],
        group_by_values: Vec::new(),
        aggregates: vec![
            agg("n", AggregateFn::Count),
            agg(
                "revenue",
                AggregateFn::Sum {
                    field: "total".into(),
                },
            ),
        ],
        having: vec![Having {
            alias: "n".into(),
            op: CompareOp::Gte,
            value: Value::Int(20),
        }],
        order: vec![
            OrderBy {
                field: "n".into(),
                direction: Direction::Desc,
                nulls: None,
                json: None,
                related: None,
            },
            OrderBy::asc("billing_country"),
        ],
        limit: None,
        offset: None,
        via: Vec::new(),
        zone: None,
    };
    let rows = c.db.aggregate(c.t("invoice")?, &a).await.map_err(s)?;
    ensure!(!rows.is_empty(), "no group");
    ensure!(
        rows[0]["billing_country"] == json!("USA"),
        "top country {:?}",
        rows[0]
    );
    ensure!(rows[0]["n"] == json!(91), "USA invoices {}", rows[0]["n"]);
    ensure!(
        rows[0]["revenue"] == dec("523.06"),
        "USA revenue {}",
        rows[0]["revenue"]
    );
    ensure!(
        rows.iter().all(|r| r["n"].as_i64() >= Some(20)),
        "having ignored"
    );
    let mut all = a.clone();
    all.having.clear();
    all.group_by.clear();
    all.order.clear();
    let total = c.db.aggregate(c.t("invoice")?, &all).await.map_err(s)?;
    ensure!(
        total[0]["n"] == json!(412) && total[0]["revenue"] == dec("2328.60"),
        "totals {:?}",
        total[0]
    );
    Ok(Outcome::Pass)
}

/// Groups by computed values ([`GroupValue`]): the JSON value at a path
/// (`"1"` and `1` apart, JSON null and a missing path one group), its
/// text (`"1"` and `1` one group), the date of a timestamp, a decimal and
/// a double rounded half away from zero, an integer's `<> 0`; ordered by
/// them, nulls placed as
/// PostgreSQL places them.
/// The `gadget` rows the computed-value cases group and aggregate, their
/// skus `{prefix}1`…`{prefix}6` (earlier ones of that prefix cleared
/// first): numbers to round half away from zero, timestamps to take the
/// date of, integers to test against zero, a JSON key holding a string,
/// a number, a numeric string, null, and missing.
async fn insert_computed_value_rows(c: &Ctx<'_>, prefix: &str) -> Result<(), String> {
    c.clear(prefix).await?;
    let rows = [
        json!({"qty": 0, "meta": {"k": "a"}, "price": dec("1.49"), "ratio": 2.5, "seen_at": "2024-03-01T00:00:00"}),
        json!({"qty": 2, "meta": {"k": "a"}, "price": dec("1.50"), "ratio": -2.5, "seen_at": "2024-03-01T23:59:59.5"}),
        json!({"qty": -1, "meta": {"k": 1}, "price": dec("2.49"), "ratio": 0.4, "seen_at": "2024-03-02T00:00:00"}),
        json!({"qty": 0, "meta": {"k": "1"}, "price": dec("-1.50"), "ratio": -0.4, "seen_at": "2024-03-02T12:00:00"}),
        json!({"meta": {"k": null}, "price": dec("-0.50"), "seen_at": "2024-02-29T23:00:00"}),
        json!({"meta": {"other": true}, "ratio": 1.5}),
    ];
    let rows = rows
        .into_iter()
        .enumerate()
        .map(|(i, mut r)| {
            r["sku"] = json!(format!("{prefix}{}", i + 1));
            r
        })
        .collect();
    c.insert(ins(rows)).await.map_err(s)?;
    Ok(())
}

async fn aggregate_group_by_values(c: &Ctx<'_>) -> CaseResult {
    use baas_core::ir::GroupValue;
    if !c.db.capabilities().json_path {
        return Ok(Outcome::NotApplicable("no JSON paths".into()));
    }
    insert_computed_value_rows(c, "gv-").await?;
    let by = |g: GroupValue, desc: bool| {
        let field = g.key().to_string();
        Aggregate {
            entity: "gadget".into(),
            filter: Some(like("sku", "gv-%")),
            group_by: vec![],
            group_by_values: vec![g],
            aggregates: vec![
                agg("n", AggregateFn::Count),
                agg(
                    "skus",
                    AggregateFn::Min {
                        field: "sku".into(),
                    },
                ),
            ],
            having: vec![],
            order: vec![if desc {
                OrderBy::desc(field)
            } else {
                OrderBy::asc(field)
            }],
            limit: None,
            offset: None,
            via: Vec::new(),
            zone: None,
        }
    };
    let groups = |rows: Vec<Map<String, J>>, key: &str| -> Vec<J> {
        rows.iter()
            .map(|r| json!([r.get(key).cloned().unwrap_or(J::Null), r["n"], r["skus"]]))
            .collect()
    };
    let t = c.t("gadget")?;
    let json = |text: bool| GroupValue::Json {
        field: "meta".into(),
        path: vec!["k".to_string()],
        text,
        alias: None,
    };
    let int = |field: &str| GroupValue::Integer {
        field: field.into(),
        alias: None,
    };
    let cases = [
        // JSON values: strings before numbers (jsonb's order), null last.
        (
            "meta->k",
            json(false),
            false,
            vec![
                json!(["1", 1, "gv-4"]),
                json!(["a", 2, "gv-1"]),
                json!([1, 1, "gv-3"]),
                json!([null, 2, "gv-5"]),
            ],
        ),
        (
            "meta->>k, descending",
            json(true),
            true,
            vec![
                json!([null, 2, "gv-5"]),
                json!(["a", 2, "gv-1"]),
                json!(["1", 2, "gv-3"]),
            ],
        ),
        (
            "seen_at::date",
            GroupValue::Date {
                field: "seen_at".into(),
                alias: None,
            },
            false,
            vec![
                json!(["2024-02-29", 1, "gv-5"]),
                json!(["2024-03-01", 2, "gv-1"]),
                json!(["2024-03-02", 2, "gv-3"]),
                json!([null, 1, "gv-6"]),
            ],
        ),
        (
            "price::int",
            int("price"),
            false,
            vec![
                json!([-2, 1, "gv-4"]),
                json!([-1, 1, "gv-5"]),
                json!([1, 1, "gv-1"]),
                json!([2, 2, "gv-2"]),
                json!([null, 1, "gv-6"]),
            ],
        ),
        (
            "ratio::int, descending",
            int("ratio"),
            true,
            vec![
                json!([null, 1, "gv-5"]),
                json!([3, 1, "gv-1"]),
                json!([2, 1, "gv-6"]),
                json!([0, 2, "gv-3"]),
                json!([-3, 1, "gv-2"]),
            ],
        ),
        (
            "qty::bool",
            GroupValue::NonZero {
                field: "qty".into(),
                alias: None,
            },
            false,
            vec![
                json!([false, 2, "gv-1"]),
                json!([true, 2, "gv-2"]),
                json!([null, 2, "gv-5"]),
            ],
        ),
    ];
    for (label, g, desc, want) in cases {
        let key = g.field().to_string();
        let got = groups(c.db.aggregate(t, &by(g, desc)).await.map_err(s)?, &key);
        ensure!(got == want, "grouped by {label}: {got:?}");
    }
    // One field grouped by two values, each under its own key: the JSON
    // value and its text (`"1"` and `1` are two groups of the one, one of
    // the other), ordered by the text, then the value descending.
    let mut two = by(json(true).aliased("t"), false);
    two.group_by_values.push(json(false).aliased("v"));
    two.order.push(OrderBy::desc("v"));
    let rows = c.db.aggregate(t, &two).await.map_err(s)?;
    let got: Vec<J> = rows
        .iter()
        .map(|r| json!([r["t"], r["v"], r["n"], r["skus"]]))
        .collect();
    let want = vec![
        json!(["1", 1, 1, "gv-3"]),
        json!(["1", "1", 1, "gv-4"]),
        json!(["a", "a", 2, "gv-1"]),
        json!([null, null, 2, "gv-5"]),
    ];
    ensure!(got == want, "grouped by meta->>k and meta->k: {got:?}");
    ensure!(
        rows.iter().all(|r| !r.contains_key("meta")),
        "the field answered beside its values: {rows:?}"
    );
    c.clear("gv-").await?;
    Ok(Outcome::Pass)
}

/// Aggregates of values computed from a field (PostgREST's input cast,
/// `price::int.sum()`, `seen_at::date.max()`, `meta->>k.max()`), as a
/// grouping computes them: a number rounded half away from zero, a
/// timestamp's date, whether an integer is not zero, the text at a JSON
/// path; with a `HAVING` on one.
async fn aggregate_of_computed_values(c: &Ctx<'_>) -> CaseResult {
    use baas_core::ir::GroupValue;
    if !c.db.capabilities().json_path {
        return Ok(Outcome::NotApplicable("no JSON paths".into()));
    }
    insert_computed_value_rows(c, "ai-").await?;
    let int = |field: &str| GroupValue::Integer {
        field: field.into(),
        alias: None,
    };
    let date = GroupValue::Date {
        field: "seen_at".into(),
        alias: None,
    };
    let field = |f: &str| f.to_string();
    let a = Aggregate {
        entity: "gadget".into(),
        filter: Some(like("sku", "ai-%")),
        group_by: vec![],
        group_by_values: vec![],
        aggregates: vec![
            agg(
                "p",
                AggregateFn::Sum {
                    field: field("price"),
                },
            )
            .of(int("price")),
            agg(
                "hi",
                AggregateFn::Max {
                    field: field("ratio"),
                },
            )
            .of(int("ratio")),
            agg(
                "lo",
                AggregateFn::Min {
                    field: field("ratio"),
                },
            )
            .of(int("ratio")),
            agg(
                "avg",
                AggregateFn::Avg {
                    field: field("ratio"),
                },
            )
            .of(int("ratio")),
            agg(
                "last",
                AggregateFn::Max {
                    field: field("seen_at"),
                },
            )
            .of(date.clone()),
            agg(
                "first",
                AggregateFn::Min {
                    field: field("seen_at"),
                },
            )
            .of(date),
            agg(
                "nz",
                AggregateFn::CountValues {
                    field: field("qty"),
                },
            )
            .of(GroupValue::NonZero {
                field: "qty".into(),
                alias: None,
            }),
            agg(
                "k",
                AggregateFn::Max {
                    field: field("meta"),
                },
            )
            .of(GroupValue::Json {
                field: "meta".into(),
                path: vec!["k".into()],
                text: true,
                alias: None,
            }),
        ],
        having: vec![Having {
            alias: "p".into(),
            op: baas_core::ir::CompareOp::Gt,
            value: baas_core::Value::Int(1),
        }],
        order: vec![],
        limit: None,
        offset: None,
        via: Vec::new(),
        zone: None,
    };
    let t = c.t("gadget")?;
    let rows = c.db.aggregate(t, &a).await.map_err(s)?;
    let got: Vec<J> = rows.into_iter().map(J::Object).collect();
    // The average of integers is PostgreSQL's `numeric` one, on every
    // engine.
    let want = vec![json!({
        "p": 2, "hi": 3, "lo": -3, "avg": dec("0.40000000000000000000"), "last": "2024-03-02",
        "first": "2024-02-29", "nz": 4, "k": "a"
    })];
    ensure!(got == want, "aggregates of computed values: {got:?}");
    // The `HAVING` compares the aggregate of the computed value (2).
    let mut none = a;
    none.having[0].value = baas_core::Value::Int(2);
    let rows = c.db.aggregate(t, &none).await.map_err(s)?;
    ensure!(rows.is_empty(), "having p > 2: {rows:?}");
    c.clear("ai-").await?;
    Ok(Outcome::Pass)
}

async fn aggregate_min_max_avg_count_distinct(c: &Ctx<'_>) -> CaseResult {
    let a = Aggregate {
        entity: "track".into(),
        filter: Some(Filter::eq("album_id", 1)),
        group_by: vec![],
        group_by_values: Vec::new(),
        aggregates: vec![
            agg(
                "min_ms",
                AggregateFn::Min {
                    field: "milliseconds".into(),
                },
            ),
            agg(
                "max_price",
                AggregateFn::Max {
                    field: "unit_price".into(),
                },
            ),
            agg(
                "avg_ms",
                AggregateFn::Avg {
                    field: "milliseconds".into(),
                },
            ),
            agg(
                "composers",
                AggregateFn::CountDistinct {
                    field: "composer".into(),
                },
            ),
            agg(
                "sum_ms",
                AggregateFn::Sum {
                    field: "milliseconds".into(),
                },
            ),
        ],
        having: vec![],
        order: vec![],
        limit: None,
        offset: None,
        via: Vec::new(),
        zone: None,
    };
    let r = &c.db.aggregate(c.t("track")?, &a).await.map_err(s)?[0];
    ensure!(r["max_price"] == dec("0.99"), "max {}", r["max_price"]);
    let sum = r["sum_ms"].as_i64().ok_or("sum not an integer")?;
    let avg = r["avg_ms"].as_f64().ok_or("avg not a number")?;
    ensure!(
        (avg - sum as f64 / 10.0).abs() < 1e-6,
        "avg {avg} vs sum {sum}/10"
    );
    ensure!(
        r["min_ms"].as_i64().is_some() && r["composers"].as_i64() == Some(1),
        "{r:?}"
    );
    Ok(Outcome::Pass)
}

/// A decimal as the engine answers it: a JSON number with exactly these
/// digits ([`baas_core::value::decimal_json`]).
pub fn dec(text: &str) -> J {
    baas_core::value::decimal_json(text)
}

fn full_gadget(sku: &str) -> J {
    json!({
        "sku": sku,
        "name": "Widget",
        "price": dec("1234.50"),
        "qty": -7,
        "big": 9_007_199_254_740_993_i64,
        "ratio": 0.25,
        "active": true,
        "born": "1999-12-31",
        "seen_at": "2024-02-29T23:59:58",
        "meta": {"a": {"b": [1, 2, {"c": "d"}]}, "n": 10, "ok": true, "s": "x"},
        "data": "\\x0001020304ff",
        "uid": "6f1c8a2e-0c3b-4b6a-9d8e-0a1b2c3d4e5f"
    })
}

async fn insert_one_round_trips_every_type(c: &Ctx<'_>) -> CaseResult {
    c.clear("rt-").await?;
    let sent = full_gadget("rt-1");
    let w = c.insert(ins(vec![sent.clone()])).await.map_err(s)?;
    ensure!(
        w.affected == 1 && w.rows.len() == 1,
        "affected {} rows {}",
        w.affected,
        w.rows.len()
    );
    let back = c
        .rows(Query::new("gadget").filter(Filter::eq("sku", "rt-1")))
        .await?;
    for row in [&w.rows[0], &back[0]] {
        for (k, v) in rec(sent.clone()) {
            ensure!(
                row.get(&k) == Some(&v),
                "{k}: sent {v}, got {:?}",
                row.get(&k)
            );
        }
    }
    // Filters on typed values find the row.
    for f in [
        Filter::eq("price", "1234.5"),
        Filter::eq("born", "1999-12-31"),
        Filter::eq("seen_at", "2024-02-29T23:59:58"),
        Filter::eq("uid", "6F1C8A2E-0C3B-4B6A-9D8E-0A1B2C3D4E5F"),
        Filter::is("active", IsValue::True),
        Filter::eq("big", 9_007_199_254_740_993_i64),
        // Bytes as PostgreSQL's hex text of either case, or as base64.
        Filter::eq("data", "\\x0001020304FF"),
        Filter::eq("data", "AAECAwT/"),
    ] {
        let n = c
            .count(
                "gadget",
                Some(Filter::and(vec![Filter::eq("sku", "rt-1"), f.clone()])),
            )
            .await?;
        ensure!(n == 1, "filter {f:?} found {n}");
    }
    c.clear("rt-").await?;
    Ok(Outcome::Pass)
}

async fn insert_generates_key_and_returns_it(c: &Ctx<'_>) -> CaseResult {
    c.clear("key-").await?;
    let w = c
        .insert(ins(vec![
            json!({"sku": "key-1", "qty": 1}),
            json!({"sku": "key-2", "qty": 2}),
            json!({"sku": "key-3"}),
        ]))
        .await
        .map_err(s)?;
    ensure!(w.rows.len() == 3, "returned {}", w.rows.len());
    let skus = col(&w.rows, "sku");
    ensure!(
        skus == vec![json!("key-1"), json!("key-2"), json!("key-3")],
        "order {skus:?}"
    );
    for r in &w.rows {
        let id = r["id"].as_i64().ok_or("no generated id")?;
        let back = c
            .rows(Query::new("gadget").filter(Filter::eq("id", id)))
            .await?;
        ensure!(
            back.len() == 1 && back[0]["sku"] == r["sku"],
            "id {id} does not read back"
        );
    }
    ensure!(w.rows[2]["qty"].is_null(), "missing field not null");
    c.clear("key-").await?;
    Ok(Outcome::Pass)
}

async fn insert_mixed_explicit_and_generated_keys_keeps_input_order(c: &Ctx<'_>) -> CaseResult {
    c.clear("mix-").await?;
    let w = c
        .insert(ins(vec![
            json!({"sku": "mix-1"}),
            json!({"sku": "mix-2", "id": 7_000_001, "qty": 2}),
            json!({"sku": "mix-3", "qty": 3}),
            json!({"sku": "mix-4"}),
        ]))
        .await
        .map_err(s)?;
    ensure!(
        col(&w.rows, "sku")
            == vec![
                json!("mix-1"),
                json!("mix-2"),
                json!("mix-3"),
                json!("mix-4")
            ],
        "rows not in input order: {:?}",
        col(&w.rows, "sku")
    );
    ensure!(
        w.rows[1]["id"] == json!(7_000_001),
        "explicit key lost: {:?}",
        w.rows[1]
    );
    let mut ids = std::collections::HashSet::new();
    for r in &w.rows {
        let id = r["id"].as_i64().ok_or("no id")?;
        ensure!(ids.insert(id), "duplicate id {id}");
        let back = c
            .rows(Query::new("gadget").filter(Filter::eq("id", id)))
            .await?;
        ensure!(
            back.len() == 1 && back[0]["sku"] == r["sku"],
            "id {id} reads back {back:?}"
        );
    }
    c.clear("mix-").await?;
    Ok(Outcome::Pass)
}

async fn float32_prints_as_float32(c: &Ctx<'_>) -> CaseResult {
    c.clear("f32-").await?;
    let w = c
        .insert(ins(vec![
            json!({"sku": "f32-1", "weight": 0.1, "ratio": 0.1}),
        ]))
        .await
        .map_err(s)?;
    let back = c
        .rows(
            Query::new("gadget")
                .fields(["weight", "ratio"])
                .filter(Filter::eq("sku", "f32-1")),
        )
        .await?;
    for r in [&w.rows[0], &back[0]] {
        ensure!(
            r["weight"] == json!(0.1) && r["ratio"] == json!(0.1),
            "{r:?}"
        );
    }
    c.clear("f32-").await?;
    Ok(Outcome::Pass)
}

async fn unicode_long_text_and_large_numbers(c: &Ctx<'_>) -> CaseResult {
    c.clear("uni-").await?;
    let long: String = "ab€𝄞".repeat(25_000);
    let rows = vec![
        json!({"sku": "uni-1", "name": "Ünïcødé 漢字 🎸 e\u{301} \"quoted\" 'single' \\ back"}),
        json!({"sku": "uni-2", "name": long}),
        json!({"sku": "uni-3", "big": i64::MAX, "qty": i32::MIN, "price": dec("9999999999.99")}),
        json!({"sku": "uni-4", "big": -i64::MAX, "price": dec("-0.01"), "ratio": 1.0e300}),
    ];
    c.insert(ins(rows.clone())).await.map_err(s)?;
    let back = c
        .rows(
            Query::new("gadget")
                .filter(like("sku", "uni-%"))
                .order_by(OrderBy::asc("sku")),
        )
        .await?;
    ensure!(back.len() == 4, "got {} rows", back.len());
    for (sent, got) in rows.iter().zip(&back) {
        for (k, v) in rec(sent.clone()) {
            ensure!(
                got.get(&k) == Some(&v),
                "{k}: sent {}, got {}",
                short(&v),
                short(got.get(&k).unwrap_or(&J::Null))
            );
        }
    }
    let n = c
        .count(
            "gadget",
            Some(Filter::eq(
                "name",
                rows[0]["name"].as_str().unwrap_or_default(),
            )),
        )
        .await?;
    ensure!(n == 1, "unicode equality: {n}");
    c.clear("uni-").await?;
    Ok(Outcome::Pass)
}

fn short(v: &J) -> String {
    let s = v.to_string();
    if s.len() > 80 {
        format!(
            "{}… ({} chars)",
            &s[..s.char_indices().nth(60).map_or(s.len(), |(i, _)| i)],
            s.len()
        )
    } else {
        s
    }
}

async fn bulk_insert_is_atomic(c: &Ctx<'_>) -> CaseResult {
    c.clear("atom-").await?;
    c.insert(ins(vec![json!({"sku": "atom-0"})]))
        .await
        .map_err(s)?;
    let r = c
        .insert(ins(vec![
            json!({"sku": "atom-1"}),
            json!({"sku": "atom-2", "qty": 5}),
            json!({"sku": "atom-0"}),
        ]))
        .await;
    ensure!(
        matches!(r, Err(Error::Conflict { .. })),
        "expected conflict, got {r:?}"
    );
    let n = c.count("gadget", Some(like("sku", "atom-%"))).await?;
    ensure!(n == 1, "partial write: {n} rows");
    c.clear("atom-").await?;
    Ok(Outcome::Pass)
}

async fn unique_violation_is_conflict(c: &Ctx<'_>) -> CaseResult {
    c.clear("uq-").await?;
    c.insert(ins(vec![json!({"sku": "uq-1"})]))
        .await
        .map_err(s)?;
    let r = c.insert(ins(vec![json!({"sku": "uq-1"})])).await;
    ensure!(matches!(r, Err(Error::Conflict { .. })), "got {r:?}");
    // An update by filter onto a taken key, with and without its rows
    // returned (MongoDB: the `update` command's write error).
    c.insert(ins(vec![json!({"sku": "uq-2"})]))
        .await
        .map_err(s)?;
    for returning in [None, Some(vec!["sku".to_string()])] {
        let u = Update {
            entity: "gadget".into(),
            filter: Filter::eq("sku", "uq-2"),
            set: rec(json!({"sku": "uq-1"})),
            returning,
            max_rows: None,
        };
        let r = c.db.update(c.t("gadget")?, &u).await;
        ensure!(
            matches!(r, Err(Error::Conflict { .. })),
            "update: got {r:?}"
        );
    }
    let n = c.count("gadget", Some(like("sku", "uq-%"))).await?;
    ensure!(n == 2, "{n} rows");
    c.clear("uq-").await?;
    Ok(Outcome::Pass)
}

async fn foreign_key_violation_is_conflict(c: &Ctx<'_>) -> CaseResult {
    let i = Insert {
        entity: "album".into(),
        rows: vec![rec(
            json!({"album_id": 900_001, "title": "Orphan", "artist_id": 900_001}),
        )],
        on_conflict: None,
        returning: None,
    };
    let r = c.insert(i).await;
    ensure!(
        matches!(r, Err(Error::Conflict { .. })),
        "expected conflict, got {r:?}"
    );
    let n = c
        .count("album", Some(Filter::eq("album_id", 900_001)))
        .await?;
    ensure!(n == 0, "orphan written");
    Ok(Outcome::Pass)
}

async fn validation_errors_point_at_fields(c: &Ctx<'_>) -> CaseResult {
    let r = c
        .insert(ins(vec![
            json!({"sku": "v-1", "nope": 1, "qty": "many", "born": "yesterday"}),
        ]))
        .await;
    let Err(Error::Validation { violations }) = r else {
        return Err(format!("expected validation error, got {r:?}"));
    };
    let ptrs: Vec<&str> = violations.iter().map(|v| v.pointer.as_str()).collect();
    for p in ["/rows/0/nope", "/rows/0/qty", "/rows/0/born"] {
        ensure!(ptrs.contains(&p), "missing {p} in {ptrs:?}");
    }
    let r = c.insert(ins(vec![json!({"qty": 1})])).await;
    ensure!(
        matches!(r, Err(Error::Validation { .. })),
        "missing required sku: {r:?}"
    );
    let r = c.insert(ins(vec![json!({"sku": null})])).await;
    ensure!(
        matches!(r, Err(Error::Validation { .. })),
        "null sku: {r:?}"
    );
    let q = Query::new("gadget").filter(Filter::eq("qty", "x"));
    let r = c.db.find(c.t("gadget")?, &q).await;
    ensure!(
        matches!(r, Err(Error::Validation { .. })),
        "filter type: {r:?}"
    );
    let mut q = Query::new("gadget").order_by(OrderBy::asc("id")).limit(1);
    q.page.after = Some(vec![Value::Null]);
    let r = c.db.find(c.t("gadget")?, &q).await;
    ensure!(
        matches!(r, Err(Error::Validation { .. })),
        "null cursor: {r:?}"
    );
    let q = Query::new("gadget").filter(Filter::eq("ghost", 1));
    let r = c.db.find(c.t("gadget")?, &q).await;
    ensure!(
        matches!(&r, Err(Error::Validation { violations }) if violations[0].pointer == "/filter/field"),
        "unknown field: {r:?}"
    );
    Ok(Outcome::Pass)
}

fn upsert(rows: Vec<J>, action: OnConflict) -> Insert {
    let mut i = ins(rows);
    i.on_conflict = Some(Upsert {
        target: vec!["sku".into()],
        action,
        defaults: vec![],
    });
    i
}

async fn upsert_merge(c: &Ctx<'_>) -> CaseResult {
    c.clear("up-").await?;
    c.insert(ins(vec![json!({"sku": "up-1", "qty": 1, "name": "old"})]))
        .await
        .map_err(s)?;
    let w = c
        .insert(upsert(
            vec![
                json!({"sku": "up-1", "qty": 2}),
                json!({"sku": "up-2", "qty": 3}),
            ],
            OnConflict::Merge,
        ))
        .await;
    let w = match w {
        Ok(w) => w,
        Err(e @ Error::Unsupported { .. }) => return Ok(Outcome::NotApplicable(e.to_string())),
        Err(e) => return Err(e.to_string()),
    };
    ensure!(
        w.affected == 2 && w.rows.len() == 2,
        "affected {} rows {}",
        w.affected,
        w.rows.len()
    );
    ensure!(
        w.rows[0]["qty"] == json!(2) && w.rows[0]["name"] == json!("old"),
        "merged row {:?}",
        w.rows[0]
    );
    let n = c.count("gadget", Some(like("sku", "up-%"))).await?;
    ensure!(n == 2, "rows {n}");
    c.clear("up-").await?;
    Ok(Outcome::Pass)
}

/// A merging upsert whose rows carry only the conflict target has nothing
/// to update: the existing row is kept and, as in PostgREST, still
/// returned with the inserted ones, in input order.
async fn upsert_merge_key_only_rows_are_returned(c: &Ctx<'_>) -> CaseResult {
    c.clear("ko-").await?;
    c.insert(ins(vec![json!({"sku": "ko-1", "qty": 1, "name": "kept"})]))
        .await
        .map_err(s)?;
    let w = c
        .insert(upsert(
            vec![json!({"sku": "ko-2"}), json!({"sku": "ko-1"})],
            OnConflict::Merge,
        ))
        .await;
    let w = match w {
        Ok(w) => w,
        Err(e @ Error::Unsupported { .. }) => return Ok(Outcome::NotApplicable(e.to_string())),
        Err(e) => return Err(e.to_string()),
    };
    ensure!(
        col(&w.rows, "sku") == vec![json!("ko-2"), json!("ko-1")],
        "rows {:?}",
        w.rows
    );
    ensure!(w.affected == 2, "affected {}", w.affected);
    ensure!(
        w.rows[1]["qty"] == json!(1) && w.rows[1]["name"] == json!("kept"),
        "existing row changed: {:?}",
        w.rows[1]
    );
    let n = c.count("gadget", Some(like("sku", "ko-%"))).await?;
    ensure!(n == 2, "rows {n}");
    c.clear("ko-").await?;
    Ok(Outcome::Pass)
}

async fn upsert_ignore(c: &Ctx<'_>) -> CaseResult {
    c.clear("ig-").await?;
    c.insert(ins(vec![json!({"sku": "ig-1", "qty": 1})]))
        .await
        .map_err(s)?;
    let w = c
        .insert(upsert(
            vec![
                json!({"sku": "ig-1", "qty": 9}),
                json!({"sku": "ig-2", "qty": 2}),
            ],
            OnConflict::Ignore,
        ))
        .await
        .map_err(s)?;
    ensure!(w.affected == 1, "affected {}", w.affected);
    ensure!(
        col(&w.rows, "sku") == vec![json!("ig-2")],
        "only inserted rows return: {:?}",
        w.rows
    );
    let kept = c
        .rows(Query::new("gadget").filter(Filter::eq("sku", "ig-1")))
        .await?;
    ensure!(
        kept[0]["qty"] == json!(1),
        "existing row changed: {:?}",
        kept[0]
    );
    c.clear("ig-").await?;
    Ok(Outcome::Pass)
}

async fn update_by_filter_with_returning(c: &Ctx<'_>) -> CaseResult {
    c.clear("upd-").await?;
    c.insert(ins(vec![
        json!({"sku": "upd-1", "qty": 1}),
        json!({"sku": "upd-2", "qty": 2}),
        json!({"sku": "upd-3", "qty": 30}),
    ]))
    .await
    .map_err(s)?;
    let u = Update {
        entity: "gadget".into(),
        filter: Filter::and(vec![
            like("sku", "upd-%"),
            Filter::cmp("qty", CompareOp::Lt, 10),
        ]),
        set: rec(json!({"qty": 10, "price": "2.5"})),
        returning: Some(vec!["sku".into(), "qty".into(), "price".into()]),
        max_rows: None,
    };
    let w = c.db.update(c.t("gadget")?, &u).await.map_err(s)?;
    ensure!(w.affected == 2, "affected {}", w.affected);
    let mut rows = w.rows.clone();
    rows.sort_by_key(|r| r["sku"].as_str().map(str::to_string));
    ensure!(
        rows == vec![
            rec(json!({"sku": "upd-1", "qty": 10, "price": dec("2.50")})),
            rec(json!({"sku": "upd-2", "qty": 10, "price": dec("2.50")}))
        ],
        "returned {rows:?}"
    );
    let n = c
        .count(
            "gadget",
            Some(Filter::and(vec![
                like("sku", "upd-%"),
                Filter::eq("qty", 10),
            ])),
        )
        .await?;
    ensure!(n == 2, "persisted {n}");
    c.clear("upd-").await?;
    Ok(Outcome::Pass)
}

async fn update_without_match_affects_nothing(c: &Ctx<'_>) -> CaseResult {
    let u = Update {
        entity: "gadget".into(),
        filter: Filter::eq("sku", "no-such-sku"),
        set: rec(json!({"qty": 1})),
        returning: Some(vec![]),
        max_rows: None,
    };
    let w = c.db.update(c.t("gadget")?, &u).await.map_err(s)?;
    ensure!(w.affected == 0 && w.rows.is_empty(), "{w:?}");
    Ok(Outcome::Pass)
}

async fn delete_by_filter_with_returning(c: &Ctx<'_>) -> CaseResult {
    c.clear("del-").await?;
    c.insert(ins(vec![
        json!({"sku": "del-1", "active": true}),
        json!({"sku": "del-2", "active": false}),
        json!({"sku": "del-3", "active": true}),
    ]))
    .await
    .map_err(s)?;
    let d = Delete {
        entity: "gadget".into(),
        filter: Filter::and(vec![
            like("sku", "del-%"),
            Filter::is("active", IsValue::True),
        ]),
        returning: Some(vec!["sku".into()]),
        max_rows: None,
    };
    let w = c.db.delete(c.t("gadget")?, &d).await.map_err(s)?;
    let mut skus = col(&w.rows, "sku");
    skus.sort_by_key(|v| v.as_str().map(str::to_string));
    ensure!(
        w.affected == 2 && skus == vec![json!("del-1"), json!("del-3")],
        "{w:?}"
    );
    let left = c.count("gadget", Some(like("sku", "del-%"))).await?;
    ensure!(left == 1, "left {left}");
    c.clear("del-").await?;
    Ok(Outcome::Pass)
}

/// An update or delete whose returned rows would pass its `max_rows`
/// (the tenant's row budget) fails with `LimitExceeded` and writes
/// nothing; one within it (the bound inclusive) goes through.
async fn writes_past_their_max_rows_write_nothing(c: &Ctx<'_>) -> CaseResult {
    c.clear("cap-").await?;
    c.insert(ins(vec![
        json!({"sku": "cap-1", "qty": 1}),
        json!({"sku": "cap-2", "qty": 1}),
        json!({"sku": "cap-3", "qty": 1}),
    ]))
    .await
    .map_err(s)?;
    let update = |max: u64| Update {
        entity: "gadget".into(),
        filter: like("sku", "cap-%"),
        set: rec(json!({"qty": 7})),
        returning: Some(vec!["sku".into()]),
        max_rows: Some(max),
    };
    let r = c.db.update(c.t("gadget")?, &update(2)).await;
    ensure!(
        matches!(
            r,
            Err(Error::LimitExceeded {
                limit: "max_rows",
                max: 2,
                ..
            })
        ),
        "update past max_rows: {r:?}"
    );
    let changed = c
        .count(
            "gadget",
            Some(Filter::and(vec![
                like("sku", "cap-%"),
                Filter::eq("qty", 7),
            ])),
        )
        .await?;
    ensure!(changed == 0, "the refused update changed {changed} rows");
    let delete = |max: u64| Delete {
        entity: "gadget".into(),
        filter: like("sku", "cap-%"),
        returning: Some(vec!["sku".into()]),
        max_rows: Some(max),
    };
    let r = c.db.delete(c.t("gadget")?, &delete(2)).await;
    ensure!(
        matches!(
            r,
            Err(Error::LimitExceeded {
                limit: "max_rows",
                ..
            })
        ),
        "delete past max_rows: {r:?}"
    );
    let left = c.count("gadget", Some(like("sku", "cap-%"))).await?;
    ensure!(left == 3, "the refused delete left {left} of 3 rows");
    let w = c.db.update(c.t("gadget")?, &update(3)).await.map_err(s)?;
    ensure!(w.affected == 3 && w.rows.len() == 3, "update within: {w:?}");
    let w = c.db.delete(c.t("gadget")?, &delete(3)).await.map_err(s)?;
    ensure!(w.affected == 3 && w.rows.len() == 3, "delete within: {w:?}");
    Ok(Outcome::Pass)
}

async fn read_only_entity_refuses_writes(c: &Ctx<'_>) -> CaseResult {
    let mut schema = c.schema.clone();
    for e in &mut schema.entities {
        if e.name == "gadget" {
            e.read_only = true;
        }
    }
    let t = Target::new(&schema, "gadget").map_err(s)?;
    let r = c.db.insert(t, &ins(vec![json!({"sku": "ro-1"})])).await;
    ensure!(matches!(r, Err(Error::Forbidden(_))), "insert: {r:?}");
    let d = Delete {
        entity: "gadget".into(),
        filter: Filter::and(vec![]),
        returning: None,
        max_rows: None,
    };
    let r = c.db.delete(t, &d).await;
    ensure!(matches!(r, Err(Error::Forbidden(_))), "delete: {r:?}");
    Ok(Outcome::Pass)
}

async fn text_search(c: &Ctx<'_>) -> CaseResult {
    let f = Filter::TextSearch {
        field: "name".into(),
        path: Vec::new(),
        query: "quick fox".into(),
        language: None,
        syntax: Default::default(),
    };
    if !c.db.capabilities().full_text_search {
        let r = c.db.count(c.t("gadget")?, Some(&f)).await;
        return match r {
            Err(e @ Error::Unsupported { .. }) => Ok(Outcome::NotApplicable(e.to_string())),
            other => Err(format!("expected Unsupported, got {other:?}")),
        };
    }
    c.clear("fts-").await?;
    c.insert(ins(vec![
        json!({"sku": "fts-1", "name": "the quick brown fox"}),
        json!({"sku": "fts-2", "name": "a quick dog"}),
        json!({"sku": "fts-3", "name": "fox tales"}),
        json!({"sku": "fts-4"}),
    ]))
    .await
    .map_err(s)?;
    let search = |syntax: TextSyntax, q: &str| Filter::TextSearch {
        field: "name".into(),
        path: Vec::new(),
        query: q.into(),
        language: None,
        syntax,
    };
    let simple = |q: &str| Filter::TextSearch {
        field: "name".into(),
        path: Vec::new(),
        query: q.into(),
        language: Some("simple".into()),
        syntax: TextSyntax::TsQuery,
    };
    // Each syntax's operators, as PostgreSQL reads them (MySQL's `MATCH`
    // in boolean mode, SQLite and MongoDB by word-bounded expressions); a
    // NULL text matches neither a query nor its negation.
    let cases = [
        (f, vec!["fts-1"]),
        (search(TextSyntax::TsQuery, "quick & !dog"), vec!["fts-1"]),
        (
            search(TextSyntax::TsQuery, "fox | dog"),
            vec!["fts-1", "fts-2", "fts-3"],
        ),
        (
            search(TextSyntax::TsQuery, "quick <-> brown"),
            vec!["fts-1"],
        ),
        (search(TextSyntax::TsQuery, "brown <-> quick"), vec![]),
        (search(TextSyntax::TsQuery, "'quick brown'"), vec!["fts-1"]),
        // Distances hold places (MySQL: its words by `MATCH`, their places
        // by a regular expression); weights without `D` match no text.
        (search(TextSyntax::TsQuery, "quick <2> fox"), vec!["fts-1"]),
        (
            search(TextSyntax::TsQuery, "quick <-> - <-> fox"),
            vec!["fts-1"],
        ),
        (search(TextSyntax::TsQuery, "quick <3> fox"), vec![]),
        // A stop word and a word under the index's shortest: no `MATCH`
        // (PostgreSQL's `simple` configuration keeps them).
        (simple("a <2> dog"), vec!["fts-2"]),
        (simple("the <3> fox"), vec!["fts-1"]),
        (search(TextSyntax::TsQuery, "quick:A"), vec![]),
        (search(TextSyntax::TsQuery, "quick:*D & fox"), vec!["fts-1"]),
        (
            Filter::not(search(TextSyntax::TsQuery, "quick:A")),
            vec!["fts-1", "fts-2", "fts-3"],
        ),
        (search(TextSyntax::TsQuery, "tal:*"), vec!["fts-3"]),
        (
            search(TextSyntax::TsQuery, "(fox | dog) & !(tal:* | brown)"),
            vec!["fts-2"],
        ),
        (
            search(TextSyntax::Web, "\"quick brown\" or tales -dog"),
            vec!["fts-1", "fts-3"],
        ),
        (search(TextSyntax::Web, "quick -dog"), vec!["fts-1"]),
        (search(TextSyntax::Phrase, "Quick dog"), vec!["fts-2"]),
        (search(TextSyntax::Plain, "Quick, fox!"), vec!["fts-1"]),
        (
            Filter::not(search(TextSyntax::TsQuery, "fox")),
            vec!["fts-2"],
        ),
        (
            Filter::not(search(TextSyntax::TsQuery, "quick & !dog")),
            vec!["fts-2", "fts-3"],
        ),
    ];
    for (f, want) in cases {
        let rows = c
            .rows(
                Query::new("gadget")
                    .fields(["sku"])
                    .filter(Filter::and(vec![like("sku", "fts-%"), f.clone()]))
                    .order_by(OrderBy::asc("sku")),
            )
            .await
            .map_err(|e| format!("{f:?}: {e}"))?;
        let want: Vec<J> = want.iter().map(|w| json!(w)).collect();
        ensure!(col(&rows, "sku") == want, "{f:?} matched {rows:?}");
    }
    // A malformed `tsquery` is PostgreSQL's 400 `42601` everywhere.
    let bad = c
        .rows(
            Query::new("gadget")
                .fields(["sku"])
                .filter(search(TextSyntax::TsQuery, "quick fox")),
        )
        .await;
    ensure!(
        matches!(&bad, Err(s) if s.contains("42601") || s.contains("syntax error")),
        "a malformed tsquery: {bad:?}"
    );
    c.clear("fts-").await?;
    Ok(Outcome::Pass)
}

async fn json_path_filters(c: &Ctx<'_>) -> CaseResult {
    let jp = |path: &[&str], op, v: Value| Filter::JsonPath {
        field: "meta".into(),
        path: path.iter().map(|p| p.to_string()).collect(),
        op,
        value: v.to_json(),
    };
    if !c.db.capabilities().json_path {
        let r =
            c.db.count(
                c.t("gadget")?,
                Some(&jp(&["n"], CompareOp::Eq, Value::Int(1))),
            )
            .await;
        return match r {
            Err(e @ Error::Unsupported { .. }) => Ok(Outcome::NotApplicable(e.to_string())),
            other => Err(format!("expected Unsupported, got {other:?}")),
        };
    }
    c.clear("jp-").await?;
    c.insert(ins(vec![
        full_gadget("jp-1"),
        json!({"sku": "jp-2", "meta": {"n": "10", "ok": false, "s": "y"}}),
        json!({"sku": "jp-3", "meta": {"n": 3}}),
    ]))
    .await
    .map_err(s)?;
    let scoped = |f| Some(Filter::and(vec![like("sku", "jp-%"), f]));
    let checks = [
        (
            jp(&["n"], CompareOp::Eq, Value::Int(10)),
            1,
            "number eq (string \"10\" excluded)",
        ),
        (jp(&["n"], CompareOp::Gt, Value::Int(5)), 1, "number gt"),
        (
            jp(&["n"], CompareOp::Lte, Value::Float(3.5)),
            2,
            "number lte float (and the string \"10\": strings sort below numbers, as in jsonb)",
        ),
        (
            jp(&["s"], CompareOp::Eq, Value::Text("x".into())),
            1,
            "string eq",
        ),
        (jp(&["ok"], CompareOp::Eq, Value::Bool(true)), 1, "bool eq"),
        (
            jp(&["ok"], CompareOp::Eq, Value::Bool(false)),
            1,
            "bool eq false",
        ),
        (
            jp(
                &["a", "b", "2", "c"],
                CompareOp::Eq,
                Value::Text("d".into()),
            ),
            1,
            "nested path with index",
        ),
        (
            jp(&["missing"], CompareOp::Eq, Value::Int(1)),
            0,
            "missing key",
        ),
        (
            jp(&["$.n') OR 1=1 --"], CompareOp::Eq, Value::Int(10)),
            0,
            "hostile key is data",
        ),
    ];
    for (f, want, what) in checks {
        let n = c.count("gadget", scoped(f)).await?;
        ensure!(n == want, "{what}: {n} != {want}");
    }
    // A number past a decimal's range compares too, in a read and as a
    // write's filter (MySQL: never a failing cast, whichever row holds it).
    c.insert(ins(vec![json!({"sku": "jp-4", "meta": {"n": 1e300}})]))
        .await
        .map_err(s)?;
    let n = c
        .count("gadget", scoped(jp(&["n"], CompareOp::Gt, Value::Int(5))))
        .await?;
    ensure!(n == 2, "number gt beside 1e300: {n} != 2");
    let u = Update {
        entity: "gadget".into(),
        filter: Filter::and(vec![
            like("sku", "jp-%"),
            jp(&["n"], CompareOp::Gt, Value::Int(5)),
        ]),
        set: rec(json!({"qty": 5})),
        returning: None,
        max_rows: None,
    };
    let w = c.db.update(c.t("gadget")?, &u).await.map_err(s)?;
    ensure!(
        w.affected == 2,
        "an update filtered by a path's number: {w:?}"
    );
    // An operand past a decimal's range, in a read and a write's filter.
    let huge = || jp(&["n"], CompareOp::Gt, Value::Float(1e40));
    let n = c.count("gadget", scoped(huge())).await?;
    ensure!(n == 1, "number gt 1e40: {n} != 1");
    let u = Update {
        entity: "gadget".into(),
        filter: Filter::and(vec![like("sku", "jp-%"), huge()]),
        set: rec(json!({"qty": 4})),
        returning: None,
        max_rows: None,
    };
    let w = c.db.update(c.t("gadget")?, &u).await.map_err(s)?;
    ensure!(w.affected == 1, "an update filtered by gt 1e40: {w:?}");
    // A key holding a newline and a tab, as the stored document spells
    // it (escaped).
    c.insert(ins(vec![json!({"sku": "jp-8", "meta": {"a\nb\tc": 5}})]))
        .await
        .map_err(s)?;
    let n = c
        .count(
            "gadget",
            scoped(jp(&["a\nb\tc"], CompareOp::Eq, Value::Int(5))),
        )
        .await?;
    ensure!(n == 1, "a key holding control characters: {n} != 1");
    // Array indexes from the end (`->-1`), row by row (MariaDB resolves
    // its own `[last]` once per statement: jp-5 would read jp-1's third
    // element), never into an object (MariaDB's `[0]` reads jp-6's).
    c.insert(ins(vec![
        json!({"sku": "jp-5", "meta": {"a": {"b": [0, {"c": "d"}]}}}),
        json!({"sku": "jp-6", "meta": {"a": {"b": {"c": "d"}}}}),
    ]))
    .await
    .map_err(s)?;
    let from_end = [
        (
            jp(
                &["a", "b", "-1", "c"],
                CompareOp::Eq,
                Value::Text("d".into()),
            ),
            2,
            "nested path with an index from the end",
        ),
        (
            jp(&["a", "b", "-3"], CompareOp::Eq, Value::Int(1)),
            1,
            "the third element from the end",
        ),
        (
            jp(&["a", "b", "-4"], CompareOp::Eq, Value::Int(1)),
            0,
            "before the first element",
        ),
    ];
    for (f, want, what) in from_end {
        let n =
            c.db.count(c.t("gadget")?, scoped(f).as_ref())
                .await
                .map_err(|e| format!("{what}: {e}"))?;
        ensure!(n == want, "{what}: {n} != {want}");
    }
    // In a write's filter too (a strict server refuses a malformed path).
    let u = Update {
        entity: "gadget".into(),
        filter: Filter::and(vec![
            like("sku", "jp-%"),
            jp(&["a", "b", "-3"], CompareOp::Eq, Value::Int(1)),
        ]),
        set: rec(json!({"qty": 6})),
        returning: None,
        max_rows: None,
    };
    let w = c.db.update(c.t("gadget")?, &u).await.map_err(s)?;
    ensure!(w.affected == 1, "an update filtered from the end: {w:?}");
    c.clear("jp-").await?;
    Ok(Outcome::Pass)
}

/// `like` / `ilike` / `match` / `imatch` on the string at a JSON path,
/// and "missing or null" at a JSON path (PostgREST's `meta->>s=ilike.*x*`,
/// `meta->>s=match.^H`, `meta->>s=is.null`), with their negations: a
/// number, an object or a missing key is no string. Full-text search at a
/// path where the engine has it on expressions (PostgreSQL).
async fn json_path_like_and_null(c: &Ctx<'_>) -> CaseResult {
    let path = |p: &[&str]| p.iter().map(|k| k.to_string()).collect::<Vec<_>>();
    let jr = |p: &[&str], pattern: &str, ci: bool| Filter::Regex {
        field: "meta".into(),
        path: path(p),
        pattern: pattern.into(),
        case_insensitive: ci,
    };
    let jl = |p: &[&str], pattern: &str, ci: bool| Filter::JsonLike {
        field: "meta".into(),
        path: path(p),
        pattern: pattern.into(),
        case_insensitive: ci,
    };
    let jn = |p: &[&str]| Filter::JsonIsNull {
        field: "meta".into(),
        path: path(p),
        missing_only: false,
    };
    // PostgreSQL's `->` keeps a JSON null: only a missing value is NULL.
    let jm = |p: &[&str]| Filter::JsonIsNull {
        field: "meta".into(),
        path: path(p),
        missing_only: true,
    };
    if !c.db.capabilities().json_path {
        return match c.db.count(c.t("gadget")?, Some(&jn(&["s"]))).await {
            Err(e @ Error::Unsupported { .. }) => Ok(Outcome::NotApplicable(e.to_string())),
            other => Err(format!("expected Unsupported, got {other:?}")),
        };
    }
    c.clear("jl-").await?;
    c.insert(ins(vec![
        json!({"sku": "jl-1", "meta": {"s": "Hello World", "n": 10, "o": {"s": "x"}, "arr": ["alpha", "beta"]}}),
        json!({"sku": "jl-2", "meta": {"s": "hello there", "n": "10%", "z": null, "arr": []}}),
        json!({"sku": "jl-3", "meta": {"s": null, "n": 1010}}),
        json!({"sku": "jl-4", "meta": {"o": {"s": "Hello"}}}),
        json!({"sku": "jl-5"}),
    ]))
    .await
    .map_err(s)?;
    let checks = [
        (
            jl(&["s"], "Hello%", false),
            vec!["jl-1"],
            "like is case-sensitive",
        ),
        (jl(&["s"], "hello%", true), vec!["jl-1", "jl-2"], "ilike"),
        (
            jl(&["s"], "%o_t%", false),
            vec!["jl-2"],
            "_ is one character",
        ),
        (
            jl(&["n"], "10%", false),
            vec!["jl-1", "jl-2", "jl-3"],
            "a number's text, as `->>`'s",
        ),
        (jl(&["o"], "%", false), vec![], "objects are no strings"),
        (jl(&["o", "s"], "hel%", true), vec!["jl-4"], "nested"),
        (
            Filter::not(jl(&["s"], "hello%", true)),
            vec![],
            "not ilike: both strings match",
        ),
        (
            Filter::not(jl(&["s"], "%World", false)),
            vec!["jl-2"],
            "not like",
        ),
        (jn(&["s"]), vec!["jl-3", "jl-4", "jl-5"], "missing or null"),
        (
            jn(&["z"]),
            vec!["jl-1", "jl-2", "jl-3", "jl-4", "jl-5"],
            "null value",
        ),
        (
            Filter::not(jn(&["s"])),
            vec!["jl-1", "jl-2"],
            "not null: a value is there",
        ),
        (jn(&["o", "s"]), vec!["jl-2", "jl-3", "jl-5"], "nested null"),
        (
            jm(&["s"]),
            vec!["jl-4", "jl-5"],
            "missing (->): JSON null is a value",
        ),
        (
            jm(&["z"]),
            vec!["jl-1", "jl-3", "jl-4", "jl-5"],
            "missing (->), a null value kept",
        ),
        (
            Filter::not(jm(&["s"])),
            vec!["jl-1", "jl-2", "jl-3"],
            "not missing (->): JSON null is there",
        ),
        (
            jm(&["o", "s"]),
            vec!["jl-2", "jl-3", "jl-5"],
            "nested missing (->)",
        ),
        (
            jl(&["s') OR 1=1 --"], "%", false),
            vec![],
            "hostile key is data",
        ),
        (
            jl(&["s"], "%'; DROP TABLE gadget; --", false),
            vec![],
            "hostile pattern is data",
        ),
        (jr(&["s"], "^H.*d$", false), vec!["jl-1"], "match"),
        (jr(&["s"], "^h", true), vec!["jl-1", "jl-2"], "imatch"),
        (
            jr(&["n"], "10", false),
            vec!["jl-1", "jl-2", "jl-3"],
            "match: a number's text",
        ),
        (jr(&["o", "s"], "^hel", true), vec!["jl-4"], "match, nested"),
        (
            jr(&["arr", "0"], "ph", false),
            vec!["jl-1"],
            "match an element",
        ),
        (
            Filter::not(jr(&["s"], "there", false)),
            vec!["jl-1"],
            "not match: a missing or null text matches neither",
        ),
    ];
    for (f, want, what) in checks {
        let rows = c
            .rows(
                Query::new("gadget")
                    .fields(["sku"])
                    .filter(Filter::and(vec![like("sku", "jl-%"), f]))
                    .order_by(OrderBy::asc("sku")),
            )
            .await?;
        let got = col(&rows, "sku");
        let want: Vec<J> = want.iter().map(|w| json!(w)).collect();
        ensure!(got == want, "{what}: {got:?} != {want:?}");
    }
    // Array indexes from the end (`->-1`).
    let from_end = [
        (
            jl(&["arr", "-1"], "b%", false),
            vec!["jl-1"],
            "the last element",
        ),
        (jl(&["arr", "-2"], "b%", false), vec![], "the one before"),
        (
            Filter::not(jl(&["arr", "-2"], "b%", false)),
            vec!["jl-1"],
            "not like, from the end",
        ),
        (
            jn(&["arr", "-1"]),
            vec!["jl-2", "jl-3", "jl-4", "jl-5"],
            "no last element",
        ),
        (
            Filter::not(jn(&["arr", "-2"])),
            vec!["jl-1"],
            "an element before the last",
        ),
        // `->` (missing only) from the end, where a row has no `meta` or
        // no `arr`.
        (
            jm(&["arr", "-1"]),
            vec!["jl-2", "jl-3", "jl-4", "jl-5"],
            "no last element (->)",
        ),
        (
            Filter::not(jm(&["arr", "-1"])),
            vec!["jl-1"],
            "a last element (->)",
        ),
        // A key below an array of strings: nothing there.
        (
            jm(&["arr", "x"]),
            vec!["jl-1", "jl-2", "jl-3", "jl-4", "jl-5"],
            "a key below an array (->)",
        ),
    ];
    // Full-text search on the string at a path: PostgreSQL; MySQL's MATCH
    // takes indexed columns only, SQLite and MongoDB have none.
    let fts = Filter::TextSearch {
        field: "meta".into(),
        path: path(&["s"]),
        query: "hello & world".into(),
        language: Some("english".into()),
        syntax: baas_core::ir::TextSyntax::TsQuery,
    };
    let q = Query::new("gadget")
        .fields(["sku"])
        .filter(Filter::and(vec![like("sku", "jl-%"), fts]));
    match c.db.find(c.t("gadget")?, &q).await {
        Ok(rows) => {
            ensure!(
                col(&rows.rows, "sku") == vec![json!("jl-1")],
                "fts at a path: {:?}",
                rows.rows
            );
        }
        Err(Error::Unsupported { .. }) if c.db.capabilities().engine != "postgres" => {}
        other => return Err(format!("fts at a path: {other:?}")),
    }
    for (f, want, what) in from_end {
        let q = Query::new("gadget")
            .fields(["sku"])
            .filter(Filter::and(vec![like("sku", "jl-%"), f]))
            .order_by(OrderBy::asc("sku"));
        let rows =
            c.db.find(c.t("gadget")?, &q)
                .await
                .map_err(|e| format!("{what}: {e}"))?;
        let got = col(&rows.rows, "sku");
        let want: Vec<J> = want.iter().map(|w| json!(w)).collect();
        ensure!(got == want, "{what}: {got:?} != {want:?}");
    }
    c.clear("jl-").await?;
    Ok(Outcome::Pass)
}

/// Ordering by a value inside a JSON field ([`baas_core::ir::JsonKey`]):
/// by type then value, or by the value's text; a missing key is NULL.
async fn json_path_order(c: &Ctx<'_>) -> CaseResult {
    let by = |o: OrderBy, only: &[&str]| {
        let mut f = vec![like("sku", "jo-%")];
        if !only.is_empty() {
            f.push(Filter::In {
                field: "sku".into(),
                values: only.iter().map(|s| Value::Text(s.to_string())).collect(),
            });
        }
        Query::new("gadget")
            .fields(["sku"])
            .filter(Filter::and(f))
            .order_by(o)
    };
    let k = || vec!["k".to_string()];
    if !c.db.capabilities().json_path {
        return match c
            .db
            .find(
                c.t("gadget")?,
                &by(OrderBy::asc("meta").at_path(k(), false), &[]),
            )
            .await
        {
            Err(e @ Error::Unsupported { .. }) => Ok(Outcome::NotApplicable(e.to_string())),
            other => Err(format!("expected Unsupported, got {other:?}")),
        };
    }
    c.clear("jo-").await?;
    let values = [
        json!(null),
        json!("b"),
        json!("a"),
        json!(10),
        json!(9),
        json!(2.5),
        json!(true),
        json!(false),
        json!([1, 2]),
        json!({"x": 1}),
    ];
    let mut rows: Vec<J> = values
        .iter()
        .enumerate()
        .map(|(i, v)| json!({"sku": format!("jo-{:02}", i + 1), "meta": {"k": v}}))
        .collect();
    rows.push(json!({"sku": "jo-11", "meta": {"other": 1}}));
    c.insert(ins(rows)).await.map_err(s)?;
    let skus = |rows: Vec<Map<String, J>>| -> Vec<String> {
        rows.iter()
            .map(|r| r["sku"].as_str().unwrap_or_default().to_string())
            .collect()
    };
    let want =
        |order: &[u8]| -> Vec<String> { order.iter().map(|i| format!("jo-{i:02}")).collect() };
    let asc = skus(
        c.rows(by(OrderBy::asc("meta").at_path(k(), false), &[]))
            .await?,
    );
    ensure!(
        asc == want(&[1, 3, 2, 6, 5, 4, 8, 7, 9, 10, 11]),
        "JSON order ascending: {asc:?}"
    );
    let desc = skus(
        c.rows(by(OrderBy::desc("meta").at_path(k(), false), &[]))
            .await?,
    );
    ensure!(
        desc == want(&[11, 10, 9, 7, 8, 4, 5, 6, 2, 3, 1]),
        "JSON order descending (missing first): {desc:?}"
    );
    let scalars = [
        "jo-01", "jo-02", "jo-03", "jo-04", "jo-05", "jo-06", "jo-07", "jo-08", "jo-11",
    ];
    let text = skus(
        c.rows(by(OrderBy::asc("meta").at_path(k(), true), &scalars))
            .await?,
    );
    ensure!(
        text == want(&[4, 6, 5, 3, 2, 8, 7, 1, 11]),
        "text order (JSON null and missing last, by key): {text:?}"
    );
    // Through a to-one relation (PostgREST's `order=rel(meta->k)`): each
    // row related to itself sorts exactly as by its own value.
    let mut schema = c.schema.clone();
    if let Some(g) = schema.entities.iter_mut().find(|e| e.name == "gadget") {
        g.relations
            .push(Relation::many_to_one("itself", "gadget", &["id"], &["id"]));
    }
    let itself = Target::new(&schema, "gadget").map_err(s)?;
    for (o, own, what) in [
        (OrderBy::asc("meta").at_path(k(), false), &asc, "ascending"),
        (
            OrderBy::desc("meta").at_path(k(), false),
            &desc,
            "descending",
        ),
    ] {
        let through =
            c.db.find(itself, &by(o.through("itself"), &[]))
                .await
                .map_err(s)?;
        let got = skus(through.rows);
        ensure!(
            &got == own,
            "JSON order through a relation, {what}: {got:?}"
        );
    }
    let through =
        c.db.find(
            itself,
            &by(
                OrderBy::asc("meta").at_path(k(), true).through("itself"),
                &scalars,
            ),
        )
        .await
        .map_err(s)?;
    let got = skus(through.rows);
    ensure!(got == text, "text order through a relation: {got:?}");
    // By an array's last element, row by row (arrays of other lengths).
    c.insert(ins(vec![
        json!({"sku": "jo-12", "meta": {"k": [5]}}),
        json!({"sku": "jo-13", "meta": {"k": [3, 0, 1]}}),
    ]))
    .await
    .map_err(s)?;
    let last = || vec!["k".to_string(), "-1".to_string()];
    let by_last = skus(
        c.rows(by(
            OrderBy::asc("meta").at_path(last(), false),
            &["jo-09", "jo-10", "jo-12", "jo-13"],
        ))
        .await?,
    );
    ensure!(
        by_last == want(&[13, 9, 12, 10]),
        "order by the last element (an object has none: last): {by_last:?}"
    );
    // Arrays and objects as `jsonb` sorts them: fewer elements or pairs
    // first, then element by element (numbers by value), keys in
    // `jsonb`'s storage order (shorter first); an empty array before
    // `null`. PostgreSQL, and SQLite through its collation; MongoDB sorts
    // them its own way (the README's differences).
    let containers = [
        json!([10]),
        json!({"a": 1, "bb": 0}),
        json!([]),
        json!({"b": 1}),
        json!([1, 2]),
        json!(null),
        json!({"aa": 0}),
        json!([9]),
    ];
    c.insert(ins(containers
        .iter()
        .enumerate()
        .map(|(i, v)| json!({"sku": format!("jo-{}", 20 + i), "meta": {"k": v}}))
        .collect()))
        .await
        .map_err(s)?;
    // MySQL/MariaDB: the empty array first and lengths first too, then
    // the JSON text (`[10]` before `[9]`).
    let engine = c.db.capabilities().engine.clone();
    let want: Option<[u8; 8]> = match engine.as_str() {
        "postgres" | "sqlite" => Some([22, 25, 27, 20, 24, 26, 23, 21]),
        "mysql" => Some([22, 25, 20, 27, 24, 26, 23, 21]),
        _ => None,
    };
    if let Some(want) = want {
        let only: Vec<String> = (20..28).map(|i| format!("jo-{i}")).collect();
        let only: Vec<&str> = only.iter().map(String::as_str).collect();
        let got = skus(
            c.rows(by(OrderBy::asc("meta").at_path(k(), false), &only))
                .await?,
        );
        let want: Vec<String> = want.iter().map(|i| format!("jo-{i}")).collect();
        ensure!(got == want, "jsonb order of arrays and objects: {got:?}");
    }
    c.clear("jo-").await?;
    Ok(Outcome::Pass)
}

/// JSON containment (`cs`/`cd` with a JSON operand), as `jsonb`'s `@>`
/// and `<@`: objects by key, arrays by element, the top-level scalar
/// exception, NULL matching neither a filter nor its negation.
async fn json_containment(c: &Ctx<'_>) -> CaseResult {
    let jc = |op, v: J| Filter::JsonContains {
        field: "meta".into(),
        path: Vec::new(),
        op,
        value: v,
    };
    let at = |path: &[&str], op, v: J| Filter::JsonContains {
        field: "meta".into(),
        path: path.iter().map(|k| k.to_string()).collect(),
        op,
        value: v,
    };
    let skus = |f: Filter| {
        Query::new("gadget")
            .fields(["sku"])
            .filter(Filter::and(vec![like("sku", "jc-%"), f]))
            .order_by(OrderBy::asc("sku"))
    };
    if !c.db.capabilities().json_path {
        return match c
            .db
            .find(c.t("gadget")?, &skus(jc(ArrayOp::Contains, json!({}))))
            .await
        {
            Err(e @ Error::Unsupported { .. }) => Ok(Outcome::NotApplicable(e.to_string())),
            other => Err(format!("expected Unsupported, got {other:?}")),
        };
    }
    c.clear("jc-").await?;
    c.insert(ins(vec![
        json!({"sku": "jc-1", "meta": {"a": 1, "tags": ["x", "y"], "o": {"p": [1, 2]}}}),
        json!({"sku": "jc-2", "meta": {"a": 2, "tags": ["y"]}}),
        json!({"sku": "jc-3", "meta": ["x", "z"]}),
        json!({"sku": "jc-4", "meta": "x"}),
        json!({"sku": "jc-5"}),
        json!({"sku": "jc-6", "meta": {}}),
    ]))
    .await
    .map_err(s)?;
    let (cs, cd) = (ArrayOp::Contains, ArrayOp::ContainedBy);
    let checks = [
        (jc(cs, json!({"a": 1})), vec![1], "object key"),
        (
            jc(cs, json!({"tags": ["y"]})),
            vec![1, 2],
            "array inside an object",
        ),
        (jc(cs, json!({"o": {"p": [2]}})), vec![1], "nested"),
        (jc(cs, json!(["x"])), vec![3], "array element"),
        (jc(cs, json!("x")), vec![3, 4], "top-level scalar"),
        (jc(cs, json!({})), vec![1, 2, 6], "every object contains {}"),
        (
            Filter::not(jc(cs, json!({"a": 1}))),
            vec![2, 3, 4, 6],
            "negated (NULL matches neither)",
        ),
        (
            jc(cd, json!({"a": 2, "tags": ["y", "q"], "b": 0})),
            vec![2, 6],
            "contained by an object",
        ),
        (
            jc(cd, json!(["x", "z", "w"])),
            vec![3, 4],
            "contained by an array",
        ),
        // Hostile operands are data: keys that read as SQL, a JSON path or
        // a MongoDB operator, and an operator-shaped value, match nothing.
        (
            jc(cs, json!({"a') OR 1=1 --": 1, "a.b": 1})),
            vec![],
            "hostile keys",
        ),
        (jc(cs, json!({"$where": "1"})), vec![], "operator key"),
        (jc(cs, json!({"a": {"$gt": 0}})), vec![], "operator value"),
        (
            jc(cd, json!({"$ne": null})),
            vec![6],
            "operator key, contained by",
        ),
        // At a path inside the field (`meta->tags=cs.["y"]`).
        (at(&["tags"], cs, json!(["y"])), vec![1, 2], "at a path"),
        (at(&["o", "p"], cs, json!([2])), vec![1], "at a nested path"),
        (
            at(&["tags"], cd, json!(["y", "q"])),
            vec![2],
            "contained by, at a path",
        ),
        (at(&["missing"], cs, json!([])), vec![], "a missing path"),
        (
            Filter::not(at(&["tags"], cs, json!(["x"]))),
            vec![2],
            "not, at a path (a missing path matches neither)",
        ),
    ];
    for (f, want, what) in checks {
        jc_skus(c, skus(f), &want, what).await?;
    }
    // `jsonb`'s rules where engines' own JSON containment differs (MySQL's
    // `JSON_CONTAINS`): an array holds a scalar directly, at the top level
    // only; an object is never contained by an array; nested arrays
    // contain each element in some element; numbers compare as numbers,
    // strings as bytes.
    c.insert(ins(vec![
        json!({"sku": "jc-7", "meta": [1, [2], {"k": "A"}, null, true]}),
        json!({"sku": "jc-8", "meta": {"n": 1.0, "s": "A"}}),
        json!({"sku": "jc-9", "meta": {"n": 1e300, "s": 1}}),
        json!({"sku": "jc-10", "meta": {"n": "1", "s": null}}),
    ]))
    .await
    .map_err(s)?;
    let jsonb = [
        (jc(cs, json!(2)), vec![], "a scalar below the top level"),
        (jc(cs, json!({"k": "A"})), vec![], "an object in an array"),
        (jc(cs, json!([{"k": "A"}])), vec![7], "an object element"),
        (jc(cs, json!([[2]])), vec![7], "a nested array"),
        (jc(cs, json!([2])), vec![], "a scalar inside a nested array"),
        (jc(cs, json!({"n": 1})), vec![8], "1 is 1.0, not \"1\""),
        (
            jc(cs, json!({"n": 1e300})),
            vec![9],
            "a number past decimals",
        ),
        (
            jc(cs, json!([null, true])),
            vec![7],
            "null and true elements",
        ),
        (jc(cs, json!([false])), vec![], "false is not true"),
        (jc(cs, json!({"s": "a"})), vec![], "strings by their bytes"),
        (
            jc(cs, json!([{"k": "a"}])),
            vec![],
            "an element's string by its bytes",
        ),
        (
            jc(cd, json!([1, [2, 3], {"k": "A", "z": 0}, null, true])),
            vec![7],
            "contained by, nested",
        ),
        (
            jc(cd, json!({"n": 1, "s": "A", "t": true})),
            vec![6, 8],
            "contained by an object, 1.0 in 1",
        ),
    ];
    for (f, want, what) in jsonb {
        jc_skus(c, skus(f), &want, what).await?;
    }
    // As a write's filter, over every kind of value at the path (a cast
    // of a text, or out of range, would fail a strict MySQL write).
    let u = Update {
        entity: "gadget".into(),
        filter: Filter::and(vec![like("sku", "jc-%"), jc(cs, json!({"n": 1}))]),
        set: rec(json!({"qty": 5})),
        returning: None,
        max_rows: None,
    };
    let w = c.db.update(c.t("gadget")?, &u).await.map_err(s)?;
    ensure!(w.affected == 1, "an update filtered by cs: {w:?}");
    // An index from the end (`->-1`).
    let rows =
        c.db.find(c.t("gadget")?, &skus(at(&["tags", "-1"], cs, json!("y"))))
            .await
            .map_err(|e| format!("the last element: {e}"))?;
    let got = col(&rows.rows, "sku");
    ensure!(
        got == vec![json!("jc-1"), json!("jc-2")],
        "the last element: {got:?}"
    );
    // Operand keys holding a quote or a backslash (escaped in MySQL's path
    // text; SQLite's path text has no escapes: a 501 where its key rows
    // cannot compare them).
    c.insert(ins(vec![
        json!({"sku": "jc-11", "meta": {"q\"k": 1, "b\\s": {"t": [1, 2]}}}),
    ]))
    .await
    .map_err(s)?;
    let sqlite = c.db.capabilities().engine == "sqlite";
    for (f, want, what) in [
        (jc(cs, json!({"q\"k": 1})), vec![11], "a key with a quote"),
        (
            jc(cs, json!({"b\\s": {"t": [2]}})),
            vec![11],
            "a key with a backslash, nested",
        ),
        (
            jc(cs, json!({"q\"k": 2})),
            vec![],
            "a key with a quote, unequal",
        ),
    ] {
        match c.db.find(c.t("gadget")?, &skus(f)).await {
            Err(Error::Unsupported { .. }) if sqlite => {}
            Ok(rows) => {
                let got = col(&rows.rows, "sku");
                let want: Vec<J> = want.iter().map(|i| json!(format!("jc-{i}"))).collect();
                ensure!(got == want, "{what}: {got:?} != {want:?}");
            }
            other => return Err(format!("{what}: {other:?}")),
        }
    }
    c.clear("jc-").await?;
    Ok(Outcome::Pass)
}

/// The `jc-` rows `query` reads are `jc-{want}`, in order.
async fn jc_skus(c: &Ctx<'_>, query: Query, want: &[i32], what: &str) -> Result<(), String> {
    let got: Vec<String> = c
        .rows(query)
        .await?
        .iter()
        .map(|r| r["sku"].as_str().unwrap_or_default().to_string())
        .collect();
    let want: Vec<String> = want.iter().map(|i| format!("jc-{i}")).collect();
    ensure!(got == want, "{what}: {got:?} != {want:?}");
    Ok(())
}

/// `->`/`->>` into an array field (PostgREST's `tags->0`), where the
/// engine has arrays: compared, tested for null (an index past the end)
/// and ordered at the path, an index from the end too.
async fn json_path_into_arrays(c: &Ctx<'_>) -> CaseResult {
    let at = |path: &[&str], v: &str| Filter::JsonPath {
        field: "tags".into(),
        path: path.iter().map(|p| p.to_string()).collect(),
        op: CompareOp::Eq,
        value: J::from(v),
    };
    let has_tags = c
        .schema
        .entity("gadget")
        .is_ok_and(|e| e.field("tags").is_ok());
    if !c.db.capabilities().arrays || !c.db.capabilities().json_path || !has_tags {
        return Ok(Outcome::NotApplicable("no array fields".into()));
    }
    c.clear("ja-").await?;
    c.insert(ins(vec![
        json!({"sku": "ja-1", "tags": ["x", "y"]}),
        json!({"sku": "ja-2", "tags": ["y"]}),
        json!({"sku": "ja-3", "tags": []}),
        json!({"sku": "ja-4"}),
    ]))
    .await
    .map_err(s)?;
    let q = |f: Option<Filter>, order: OrderBy| {
        let mut all = vec![like("sku", "ja-%")];
        all.extend(f);
        Query::new("gadget")
            .fields(["sku"])
            .filter(Filter::and(all))
            .order_by(order)
            .order_by(OrderBy::asc("sku"))
    };
    let skus = |rows: Vec<Map<String, J>>| -> Vec<J> { col(&rows, "sku") };
    let by_sku = || OrderBy::asc("sku");
    let checks: [(Option<Filter>, OrderBy, Vec<J>, &str); 5] = [
        (
            Some(at(&["0"], "y")),
            by_sku(),
            vec![json!("ja-2")],
            "first element",
        ),
        (
            Some(at(&["1"], "y")),
            by_sku(),
            vec![json!("ja-1")],
            "second element",
        ),
        (
            Some(at(&["-1"], "y")),
            by_sku(),
            vec![json!("ja-1"), json!("ja-2")],
            "last element",
        ),
        (
            Some(Filter::JsonIsNull {
                field: "tags".into(),
                path: vec!["0".into()],
                missing_only: false,
            }),
            by_sku(),
            vec![json!("ja-3"), json!("ja-4")],
            "no first element",
        ),
        (
            None,
            OrderBy::desc("tags").at_path(vec!["0".into()], true),
            vec![json!("ja-3"), json!("ja-4"), json!("ja-2"), json!("ja-1")],
            "ordered by the first element's text, nulls first",
        ),
    ];
    for (f, order, want, what) in checks {
        let got = skus(c.rows(q(f, order)).await?);
        ensure!(got == want, "{what}: {got:?}");
    }
    c.clear("ja-").await?;
    Ok(Outcome::Pass)
}

async fn array_filters(c: &Ctx<'_>) -> CaseResult {
    let af = |op, vals: &[&str]| Filter::Array {
        field: "tags".into(),
        op,
        values: vals.iter().map(|v| Value::Text(v.to_string())).collect(),
    };
    let has_tags = c
        .schema
        .entity("gadget")
        .is_ok_and(|e| e.field("tags").is_ok());
    if !c.db.capabilities().arrays || !has_tags {
        let r =
            c.db.count(c.t("gadget")?, Some(&af(ArrayOp::Contains, &["a"])))
                .await;
        return match r {
            Err(e @ (Error::Unsupported { .. } | Error::Validation { .. })) => {
                Ok(Outcome::NotApplicable(e.to_string()))
            }
            other => Err(format!("expected Unsupported, got {other:?}")),
        };
    }
    c.clear("arr-").await?;
    c.insert(ins(vec![
        json!({"sku": "arr-1", "tags": ["a", "b"]}),
        json!({"sku": "arr-2", "tags": ["b", "c"]}),
        json!({"sku": "arr-3", "tags": []}),
    ]))
    .await
    .map_err(s)?;
    let scoped = |f| Some(Filter::and(vec![like("sku", "arr-%"), f]));
    let n = c
        .count("gadget", scoped(af(ArrayOp::Contains, &["b"])))
        .await?;
    ensure!(n == 2, "contains b: {n}");
    ensure!(
        c.count("gadget", scoped(af(ArrayOp::Contains, &["a", "b"])))
            .await?
            == 1,
        "contains a,b"
    );
    ensure!(
        c.count("gadget", scoped(af(ArrayOp::ContainedBy, &["a", "b"])))
            .await?
            == 2,
        "contained by a,b (incl. empty)"
    );
    ensure!(
        c.count("gadget", scoped(af(ArrayOp::Overlaps, &["c", "z"])))
            .await?
            == 1,
        "overlaps"
    );
    let back = c
        .rows(
            Query::new("gadget")
                .fields(["tags"])
                .filter(Filter::eq("sku", "arr-1")),
        )
        .await?;
    ensure!(
        back[0]["tags"] == json!(["a", "b"]),
        "round trip {:?}",
        back[0]
    );
    // `eq` / `neq` compare a whole array (order and length count).
    let whole = |op, items: &[&str]| Filter::Compare {
        field: "tags".into(),
        op,
        value: Value::Array(items.iter().map(|t| Value::Text(t.to_string())).collect()),
    };
    for (f, want, what) in [
        (whole(CompareOp::Eq, &["a", "b"]), 1, "eq {a,b}"),
        (whole(CompareOp::Eq, &["b", "a"]), 0, "eq {b,a}"),
        (whole(CompareOp::Eq, &[]), 1, "eq {}"),
        (whole(CompareOp::Neq, &["a", "b"]), 2, "neq {a,b}"),
    ] {
        let n = c.count("gadget", scoped(f)).await?;
        ensure!(n == want, "{what}: {n}");
    }
    // A multi-dimensional value: PostgreSQL's array types take one (its
    // operators read the elements, ignoring dimensions); another engine
    // answers Unsupported. A ragged one is invalid everywhere.
    let grid = json!([["a", "d"], ["e", "f"]]);
    let written = c
        .insert(ins(vec![json!({"sku": "arr-4", "tags": grid})]))
        .await;
    if c.db.capabilities().multidimensional_arrays {
        written.map_err(s)?;
        let back = c
            .rows(
                Query::new("gadget")
                    .fields(["tags"])
                    .filter(Filter::eq("sku", "arr-4")),
            )
            .await?;
        ensure!(back[0]["tags"] == grid, "grid round trip {:?}", back[0]);
        let n = c
            .count("gadget", scoped(af(ArrayOp::Contains, &["d", "f"])))
            .await?;
        ensure!(n == 1, "a grid contains its elements: {n}");
    } else {
        ensure!(
            matches!(written, Err(Error::Unsupported { .. })),
            "a grid without multi-dimensional arrays: {written:?}"
        );
    }
    let ragged = c
        .insert(ins(vec![
            json!({"sku": "arr-5", "tags": [["a"], ["b", "c"]]}),
        ]))
        .await;
    ensure!(
        matches!(ragged, Err(Error::Validation { .. })),
        "a ragged grid: {ragged:?}"
    );
    c.clear("arr-").await?;
    Ok(Outcome::Pass)
}

/// Read requests whose normalised JSON must be identical on every engine
/// (ordered by numbers, dates or keys: text ordering follows each column's
/// collation and is deliberately not part of the identity).
pub fn identity_queries() -> Vec<(&'static str, Query)> {
    let mut v = vec![
        (
            "tracks_of_album_by_price_and_length",
            Query::new("track")
                .filter(Filter::eq("album_id", 1))
                .order_by(OrderBy::desc("unit_price"))
                .order_by(OrderBy::asc("milliseconds")),
        ),
        (
            "expensive_long_tracks_page_2",
            Query::new("track")
                .filter(Filter::and(vec![
                    Filter::cmp("unit_price", CompareOp::Gt, "1"),
                    Filter::cmp("milliseconds", CompareOp::Gte, 2_500_000),
                ]))
                .order_by(OrderBy::desc("milliseconds"))
                .limit(10)
                .offset(10),
        ),
        (
            "employees_with_nullable_manager",
            Query::new("employee").order_by(OrderBy::asc("reports_to")),
        ),
        (
            "customers_without_company_or_state",
            Query::new("customer")
                .filter(Filter::or(vec![
                    Filter::is("company", IsValue::Null),
                    Filter::is("state", IsValue::Null),
                ]))
                .fields(["customer_id", "company", "state", "support_rep_id"]),
        ),
        (
            "invoices_in_2022_q1",
            Query::new("invoice")
                .filter(Filter::and(vec![
                    Filter::cmp("invoice_date", CompareOp::Gte, "2022-01-01T00:00:00"),
                    Filter::cmp("invoice_date", CompareOp::Lt, "2022-04-01T00:00:00"),
                ]))
                .order_by(OrderBy::desc("total")),
        ),
        (
            "artists_with_a_long_track",
            Query::new("artist").filter(Filter::Exists {
                relation: "albums".into(),
                filter: Some(Box::new(Filter::Exists {
                    relation: "tracks".into(),
                    filter: Some(Box::new(Filter::cmp(
                        "milliseconds",
                        CompareOp::Gt,
                        1_000_000,
                    ))),
                    through: None,
                })),
                through: None,
            }),
        ),
        (
            "playlists_with_genre_1",
            Query::new("playlist").filter(Filter::Exists {
                relation: "tracks".into(),
                filter: Some(Box::new(Filter::eq("genre_id", 1))),
                through: None,
            }),
        ),
        (
            "artist_names_like",
            Query::new("artist").filter(Filter::or(vec![
                like("name", "The %"),
                ilike("name", "%metal%"),
            ])),
        ),
    ];
    let mut embedded = Query::new("album")
        .fields(["album_id", "title"])
        .filter(Filter::cmp("album_id", CompareOp::Lte, 5));
    let mut tracks = embed("tracks", &["track_id", "unit_price", "milliseconds"]);
    tracks.order = vec![OrderBy::desc("milliseconds")];
    tracks.limit = Some(3);
    tracks.select.embeds.push(embed("genre", &["genre_id"]));
    tracks
        .select
        .embeds
        .push(embed("playlists", &["playlist_id"]));
    embedded
        .select
        .embeds
        .push(embed("artist", &["artist_id", "name"]));
    embedded.select.embeds.push(tracks);
    v.push(("albums_with_artist_and_nested_tracks", embedded));
    // `select=artist(name),tracks(track_id)`: the embeds only.
    let mut only = Query::new("album")
        .filter(Filter::cmp("album_id", CompareOp::Lte, 5))
        .order_by(OrderBy::asc("album_id"));
    let mut tracks = embed("tracks", &["track_id"]);
    tracks.order = vec![OrderBy::asc("track_id")];
    only.select = Selection::embeds_only(vec![embed("artist", &["name"]), tracks]);
    v.push(("albums_embeds_only", only));
    let mut counted = Query::new("album").filter(Filter::In {
        field: "artist_id".into(),
        values: vec![Value::Int(22), Value::Int(90), Value::Null],
    });
    counted.count = Count::Exact;
    counted.page.limit = Some(5);
    v.push(("albums_in_list_counted", counted));
    v
}

/// Aggregates whose JSON must be identical on every engine.
pub fn identity_aggregates() -> Vec<(&'static str, Aggregate)> {
    vec![(
        "revenue_by_country",
        Aggregate {
            entity: "invoice".into(),
            filter: Some(Filter::cmp("total", CompareOp::Gt, "1")),
            group_by: vec!["billing_country".into()],
            group_by_values: Vec::new(),
            aggregates: vec![
                agg("n", AggregateFn::Count),
                agg(
                    "revenue",
                    AggregateFn::Sum {
                        field: "total".into(),
                    },
                ),
                agg(
                    "biggest",
                    AggregateFn::Max {
                        field: "total".into(),
                    },
                ),
                agg(
                    "first",
                    AggregateFn::Min {
                        field: "invoice_date".into(),
                    },
                ),
                agg(
                    "customers",
                    AggregateFn::CountDistinct {
                        field: "customer_id".into(),
                    },
                ),
            ],
            having: vec![Having {
                alias: "n".into(),
                op: CompareOp::Gt,
                value: Value::Int(5),
            }],
            order: vec![OrderBy::desc("revenue"), OrderBy::asc("n")],
            limit: Some(10),
            offset: None,
            via: Vec::new(),
            zone: None,
        },
    )]
}

fn embed(relation: &str, fields: &[&str]) -> Embed {
    Embed {
        relation: relation.into(),
        alias: None,
        select: Selection {
            fields: fields.iter().map(|f| f.to_string()).collect(),
            omit_fields: false,
            star: false,
            embeds: vec![],
            aggregates: Vec::new(),
            group_by_values: Vec::new(),
            casts: Vec::new(),
        },
        filter: None,
        order: vec![],
        limit: None,
        offset: None,
        through: None,
        spread: false,
    }
}

async fn embed_many_to_one_and_null(c: &Ctx<'_>) -> CaseResult {
    let mut q = Query::new("album")
        .fields(["title"])
        .filter(Filter::in_list("album_id", vec![1, 2]));
    q.select.embeds.push(embed("artist", &["name"]));
    let rows = c.rows(q).await?;
    ensure!(
        rows == vec![
            rec(
                json!({"title": "For Those About To Rock We Salute You", "artist": {"name": "AC/DC"}})
            ),
            rec(json!({"title": "Balls to the Wall", "artist": {"name": "Accept"}})),
        ],
        "got {rows:?}"
    );
    let mut q = Query::new("employee")
        .fields(["employee_id"])
        .filter(Filter::eq("employee_id", 1));
    let mut m = embed("manager", &["employee_id"]);
    m.alias = Some("boss".into());
    q.select.embeds.push(m);
    let rows = c.rows(q).await?;
    ensure!(
        rows == vec![rec(json!({"employee_id": 1, "boss": null}))],
        "null to-one: {rows:?}"
    );
    Ok(Outcome::Pass)
}

async fn embed_one_to_many_order_limit_filter(c: &Ctx<'_>) -> CaseResult {
    let mut q = Query::new("artist")
        .fields(["artist_id"])
        .filter(Filter::in_list("artist_id", vec![1, 22, 25]));
    let mut e = embed("albums", &["album_id"]);
    e.order = vec![OrderBy::desc("album_id")];
    e.limit = Some(2);
    q.select.embeds.push(e);
    let rows = c.rows(q).await?;
    ensure!(rows.len() == 3, "{rows:?}");
    ensure!(
        rows[0]["albums"] == json!([{"album_id": 4}, {"album_id": 1}]),
        "artist 1: {}",
        rows[0]["albums"]
    );
    ensure!(
        rows[1]["albums"].as_array().is_some_and(|a| a.len() == 2),
        "artist 22 limit: {}",
        rows[1]["albums"]
    );
    ensure!(
        rows[2]["albums"] == json!([]),
        "artist 25 has no album: {}",
        rows[2]["albums"]
    );
    let mut q = Query::new("artist")
        .fields(["artist_id"])
        .filter(Filter::eq("artist_id", 1));
    let mut e = embed("albums", &["title"]);
    e.filter = Some(like("title", "Let%"));
    q.select.embeds.push(e);
    let rows = c.rows(q).await?;
    ensure!(
        rows[0]["albums"] == json!([{"title": "Let There Be Rock"}]),
        "filtered: {}",
        rows[0]["albums"]
    );
    Ok(Outcome::Pass)
}

async fn embed_many_to_many(c: &Ctx<'_>) -> CaseResult {
    let mut q = Query::new("track")
        .fields(["track_id"])
        .filter(Filter::eq("track_id", 1));
    let mut e = embed("playlists", &["playlist_id", "name"]);
    e.order = vec![OrderBy::asc("playlist_id")];
    q.select.embeds.push(e);
    let rows = c.rows(q).await?;
    let lists = rows[0]["playlists"]
        .as_array()
        .ok_or("no playlists array")?;
    let ids: Vec<i64> = lists
        .iter()
        .filter_map(|p| p["playlist_id"].as_i64())
        .collect();
    let mut sorted = ids.clone();
    sorted.sort_unstable();
    ensure!(
        !ids.is_empty() && ids == sorted,
        "playlists of track 1: {ids:?}"
    );
    let direct = c
        .count("playlist_track", Some(Filter::eq("track_id", 1)))
        .await?;
    ensure!(
        ids.len() as u64 == direct,
        "{} playlists embedded, {direct} links",
        ids.len()
    );
    Ok(Outcome::Pass)
}

async fn embed_nested(c: &Ctx<'_>) -> CaseResult {
    let mut tracks = embed("tracks", &["name"]);
    tracks.order = vec![OrderBy::asc("track_id")];
    tracks.limit = Some(2);
    tracks.select.embeds.push(embed("genre", &["name"]));
    let mut q = Query::new("album")
        .fields(["album_id"])
        .filter(Filter::eq("album_id", 1));
    q.select.embeds.push(tracks);
    let rows = c.rows(q).await?;
    ensure!(
        rows == vec![rec(json!({"album_id": 1, "tracks": [
            {"name": "For Those About To Rock (We Salute You)", "genre": {"name": "Rock"}},
            {"name": "Put The Finger On You", "genre": {"name": "Rock"}}
        ]}))],
        "got {rows:?}"
    );
    Ok(Outcome::Pass)
}

/// `select=rel(*)`: a selection that omits its own fields returns only its
/// embeds, joined or batched, at the root and nested, with the key fields
/// the joins need read but not returned.
async fn embed_only_selection(c: &Ctx<'_>) -> CaseResult {
    let only = |embeds: Vec<Embed>| Selection::embeds_only(embeds);
    // Root omitted, to-one embed (joined where the engine joins).
    let mut q = Query::new("album").filter(Filter::in_list("album_id", vec![1, 4]));
    q.select = only(vec![embed("artist", &["name"])]);
    let rows = c.rows(q).await?;
    ensure!(
        rows == vec![
            rec(json!({"artist": {"name": "AC/DC"}})),
            rec(json!({"artist": {"name": "AC/DC"}})),
        ],
        "to-one: {rows:?}"
    );
    // Root omitted, to-many embed (batched), and a null to-one.
    let mut q = Query::new("employee").filter(Filter::in_list("employee_id", vec![1, 2]));
    let mut reports = embed("reports", &["employee_id"]);
    reports.order = vec![OrderBy::asc("employee_id")];
    q.select = only(vec![embed("manager", &["employee_id"]), reports]);
    let rows = c.rows(q).await?;
    ensure!(
        rows == vec![
            rec(json!({"manager": null, "reports": [{"employee_id": 2}, {"employee_id": 6}]})),
            rec(json!({"manager": {"employee_id": 1}, "reports": [
                {"employee_id": 3}, {"employee_id": 4}, {"employee_id": 5}
            ]})),
        ],
        "to-many: {rows:?}"
    );
    // Omitted inside a joined embed: track → album (omitted) → artist.
    let mut q = Query::new("track")
        .fields(["track_id"])
        .filter(Filter::eq("track_id", 1));
    let mut album = embed("album", &[]);
    album.select = only(vec![embed("artist", &["name"])]);
    q.select.embeds.push(album);
    let rows = c.rows(q).await?;
    ensure!(
        rows == vec![rec(
            json!({"track_id": 1, "album": {"artist": {"name": "AC/DC"}}})
        )],
        "nested to-one: {rows:?}"
    );
    // Omitted inside a batched embed, and everything omitted but the leaf:
    // artist → albums (omitted) → tracks; many-to-many below an omitted row.
    let mut q = Query::new("artist").filter(Filter::eq("artist_id", 1));
    let mut tracks = embed("tracks", &["track_id"]);
    tracks.order = vec![OrderBy::asc("track_id")];
    tracks.limit = Some(1);
    let mut albums = embed("albums", &[]);
    albums.order = vec![OrderBy::asc("album_id")];
    albums.select = only(vec![tracks]);
    q.select = only(vec![albums]);
    let rows = c.rows(q).await?;
    ensure!(
        rows == vec![rec(json!({"albums": [
            {"tracks": [{"track_id": 1}]},
            {"tracks": [{"track_id": 15}]}
        ]}))],
        "nested to-many: {rows:?}"
    );
    let mut q = Query::new("track").filter(Filter::eq("track_id", 1));
    let mut lists = embed("playlists", &[]);
    lists.order = vec![OrderBy::asc("playlist_id")];
    lists.limit = Some(2);
    lists.select = only(vec![]);
    q.select = only(vec![lists]);
    let rows = c.rows(q).await?;
    ensure!(
        rows == vec![rec(json!({"playlists": [{}, {}]}))],
        "many-to-many: {rows:?}"
    );
    Ok(Outcome::Pass)
}

/// `rel.offset`: each parent's related rows are paged after their order,
/// for one-to-many (windowed in the database) and many-to-many relations
/// (with and without an order).
async fn embed_offset_per_parent(c: &Ctx<'_>) -> CaseResult {
    let lists = |rows: &[Map<String, J>], key: &str| -> Vec<J> { col(rows, key) };
    let read = |offset: Option<u64>, limit: Option<u64>| {
        let mut q = Query::new("artist")
            .fields(["artist_id"])
            .filter(Filter::in_list("artist_id", vec![1, 22]))
            .order_by(OrderBy::asc("artist_id"));
        let mut albums = embed("albums", &["album_id"]);
        albums.order = vec![OrderBy::desc("album_id")];
        albums.offset = offset;
        albums.limit = limit;
        q.select.embeds.push(albums);
        q
    };
    let all = lists(&c.rows(read(None, None)).await?, "albums");
    let slice = |v: &J, from: usize, n: usize| -> J {
        J::Array(
            v.as_array()
                .map(|a| a.iter().skip(from).take(n).cloned().collect())
                .unwrap_or_default(),
        )
    };
    ensure!(
        all.len() == 2 && all[1].as_array().is_some_and(|a| a.len() > 3),
        "full lists {all:?}"
    );
    let paged = lists(&c.rows(read(Some(1), Some(2))).await?, "albums");
    let expected: Vec<J> = all.iter().map(|v| slice(v, 1, 2)).collect();
    ensure!(
        paged == expected,
        "offset 1 limit 2: {paged:?}, expected {expected:?}"
    );
    let rest = lists(&c.rows(read(Some(1), None)).await?, "albums");
    let expected: Vec<J> = all.iter().map(|v| slice(v, 1, usize::MAX)).collect();
    ensure!(
        rest == expected,
        "offset 1: {rest:?}, expected {expected:?}"
    );
    for ordered in [false, true] {
        let read = |offset: Option<u64>, limit: Option<u64>| {
            let mut q = Query::new("track")
                .fields(["track_id"])
                .filter(Filter::eq("track_id", 1));
            let mut lists = embed("playlists", &["playlist_id"]);
            if ordered {
                lists.order = vec![OrderBy::desc("playlist_id")];
            }
            lists.offset = offset;
            lists.limit = limit;
            q.select.embeds.push(lists);
            q
        };
        let all = lists(&c.rows(read(None, None)).await?, "playlists");
        let paged = lists(&c.rows(read(Some(1), Some(1))).await?, "playlists");
        let expected: Vec<J> = all.iter().map(|v| slice(v, 1, 1)).collect();
        ensure!(
            paged == expected && all[0].as_array().is_some_and(|a| a.len() > 2),
            "many-to-many (ordered: {ordered}): {paged:?} of {all:?}"
        );
    }
    Ok(Outcome::Pass)
}
