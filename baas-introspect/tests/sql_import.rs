//! SQL DDL importer on realistic dumps — Pagila (`pg_dump`), the three
//! Chinook scripts, a `mysqldump` and a SQLite `.schema` — with golden
//! snapshots, assertions on the facts that matter, malformed inputs with their
//! locations, and no panics on garbage.

use std::collections::BTreeSet;

use baas_core::{Entity, Field, FieldType, Generated, RelationKind, SchemaMetadata};
use baas_introspect::{Import, ImportError, Location, SqlFlavor, sql};

fn fixture(path: &str) -> String {
    let full = format!(
        "{}/../../shared/fixtures/{path}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("{full}: {e}"))
}

fn input(path: &str) -> String {
    let full = format!("{}/tests/inputs/sql/{path}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("{full}: {e}"))
}

/// Import; it must succeed and be internally consistent.
fn load(text: &str, flavor: SqlFlavor) -> Import {
    let imported = sql::import(text, flavor).unwrap_or_else(|e| panic!("{e}"));
    if let Err(e) = imported.schema.check() {
        panic!("inconsistent metadata: {e:?}");
    }
    imported
}

fn pagila() -> Import {
    load(&fixture("pagila/pagila-schema.sql"), SqlFlavor::Postgres)
}

fn chinook(flavor: SqlFlavor) -> Import {
    let file = match flavor {
        SqlFlavor::Postgres => "chinook/Chinook_PostgreSql.sql",
        SqlFlavor::Mysql => "chinook/Chinook_MySql.sql",
        SqlFlavor::Sqlite => "chinook/Chinook_Sqlite.sql",
    };
    load(&fixture(file), flavor)
}

fn shop() -> Import {
    load(&input("shop_mysqldump.sql"), SqlFlavor::Mysql)
}

fn tasks() -> Import {
    load(&input("tasks_sqlite_schema.sql"), SqlFlavor::Sqlite)
}

fn entity<'a>(s: &'a SchemaMetadata, name: &str) -> &'a Entity {
    s.entity(name)
        .unwrap_or_else(|_| panic!("no entity `{name}`"))
}

fn field<'a>(s: &'a SchemaMetadata, e: &str, f: &str) -> &'a Field {
    entity(s, e)
        .field(f)
        .unwrap_or_else(|_| panic!("no field `{e}.{f}`"))
}

fn err(text: &str, flavor: SqlFlavor) -> ImportError {
    match sql::import(text, flavor) {
        Ok(i) => panic!("expected an error, got {:#?}", i.skipped),
        Err(e) => e,
    }
}

fn line_of(e: &ImportError) -> usize {
    match e.location {
        Location::LineCol { line, .. } => line,
        ref other => panic!("expected a line/column, got {other:?} ({e})"),
    }
}

fn skipped_at(i: &Import, line: usize) -> Vec<String> {
    i.skipped
        .iter()
        .filter(|s| matches!(s.location, Location::LineCol { line: l, .. } if l == line))
        .map(|s| format!("{} | {}", s.what, s.reason))
        .collect()
}

// ---------------------------------------------------------------------------
// Golden snapshots
// ---------------------------------------------------------------------------

#[test]
fn snapshot_pagila() {
    insta::assert_json_snapshot!("pagila", pagila());
}

#[test]
fn snapshot_chinook_postgres() {
    insta::assert_json_snapshot!("chinook_postgres", chinook(SqlFlavor::Postgres));
}

#[test]
fn snapshot_chinook_mysql() {
    insta::assert_json_snapshot!("chinook_mysql", chinook(SqlFlavor::Mysql));
}

#[test]
fn snapshot_chinook_sqlite() {
    insta::assert_json_snapshot!("chinook_sqlite", chinook(SqlFlavor::Sqlite));
}

#[test]
fn snapshot_shop_mysqldump() {
    insta::assert_json_snapshot!("shop_mysqldump", shop());
}

#[test]
fn snapshot_tasks_sqlite_schema() {
    insta::assert_json_snapshot!("tasks_sqlite_schema", tasks());
}

// ---------------------------------------------------------------------------
// Pagila facts
// ---------------------------------------------------------------------------

#[test]
fn pagila_enum_domain_and_generated_columns() {
    let p = pagila();
    let s = &p.schema;
    match &field(s, "film", "rating").ty {
        FieldType::Enum { name, values } => {
            assert_eq!(name.as_deref(), Some("mpaa_rating"));
            assert_eq!(values, &["G", "PG", "PG-13", "R", "NC-17"]);
        }
        other => panic!("film.rating: {other:?}"),
    }
    let year = field(s, "film", "release_year");
    assert_eq!(year.ty, FieldType::Int32);
    assert_eq!(year.description.as_deref(), Some("year"));
    assert!(year.nullable);
    assert_eq!(
        field(s, "film", "special_features").ty,
        FieldType::Array {
            items: Box::new(FieldType::Text)
        }
    );
    // PostgreSQL 18 `GENERATED ALWAYS AS (…) VIRTUAL`.
    assert_eq!(
        field(s, "film", "length_hours").generated,
        Generated::Always
    );
    assert_eq!(
        field(s, "film", "rental_rate").ty,
        FieldType::Decimal {
            precision: Some(4),
            scale: Some(2)
        }
    );
    assert_eq!(
        field(s, "film", "rental_duration").default.as_deref(),
        Some("3")
    );
}

#[test]
fn pagila_auto_increment_keys_and_defaults() {
    let p = pagila();
    let s = &p.schema;
    let id = field(s, "customer", "customer_id");
    assert_eq!(id.generated, Generated::AutoIncrement);
    assert_eq!(id.default, None);
    assert!(!id.nullable);
    assert_eq!(entity(s, "customer").primary_key, ["customer_id"]);
    assert_eq!(
        field(s, "customer", "create_date").default.as_deref(),
        Some("CURRENT_DATE")
    );
    // `CREATE UNIQUE INDEX customer_uuid_key ON customer (uuid)`.
    assert!(field(s, "customer", "uuid").unique);
    assert_eq!(entity(s, "film_actor").primary_key, ["actor_id", "film_id"]);
    for e in &s.entities {
        assert_eq!(e.source.schema.as_deref(), Some("public"), "{}", e.name);
        assert_eq!(e.source.table, e.name);
    }
}

#[test]
fn pagila_relations() {
    let p = pagila();
    let s = &p.schema;
    let actor_film = entity(s, "actor").relation("film").expect("actor.film");
    match &actor_film.kind {
        RelationKind::ManyToMany { through } => {
            assert_eq!(through.entity, "film_actor");
            assert_eq!(through.source_fields, ["actor_id"]);
            assert_eq!(through.target_fields, ["film_id"]);
        }
        other => panic!("actor.film: {other:?}"),
    }
    assert_eq!(actor_film.target, "film");
    let lang = entity(s, "film")
        .relation("original_language")
        .expect("film.original_language");
    assert_eq!(lang.kind, RelationKind::ManyToOne);
    assert_eq!(lang.target, "language");
    // One-to-one: film_embedding's key is its foreign key.
    assert_eq!(
        entity(s, "film")
            .relation("film_embedding")
            .map(|r| r.kind.clone())
            .ok(),
        Some(RelationKind::OneToOne)
    );
}

#[test]
fn pagila_partitions_are_skipped_and_views_read_only() {
    let p = pagila();
    let s = &p.schema;
    let payment = entity(s, "payment");
    assert_eq!(payment.primary_key, ["payment_date", "payment_id"]);
    assert!(!payment.read_only);
    assert!(s.entities.iter().all(|e| !e.name.starts_with("payment_p")));
    let partitions: Vec<_> = p
        .skipped
        .iter()
        .filter(|k| k.reason == "partition of public.payment; served through the parent")
        .collect();
    assert_eq!(partitions.len(), 55);
    assert_eq!(partitions[0].what, "CREATE TABLE public.payment_p2022_01");
    assert_eq!(
        partitions[0].location,
        Location::LineCol {
            line: 785,
            column: 1
        }
    );

    for view in [
        "actor_info",
        "customer_list",
        "film_list",
        "nicer_but_slower_film_list",
        "rental_by_category",
        "sales_by_film_category",
        "sales_by_store",
        "staff_list",
    ] {
        let v = entity(s, view);
        assert!(v.read_only, "{view}");
        assert!(v.primary_key.is_empty(), "{view}");
    }
    let info = entity(s, "actor_info");
    let names: Vec<&str> = info.fields.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(names, ["actor_id", "first_name", "last_name", "film_info"]);
    assert_eq!(field(s, "actor_info", "actor_id").ty, FieldType::Int32);
    assert_eq!(field(s, "actor_info", "film_info").ty, FieldType::Text);
    assert!(field(s, "actor_info", "film_info").nullable);
    // Aliased column through a LEFT JOIN keeps its type, becomes nullable.
    let rating = field(s, "film_list", "rating");
    assert!(matches!(&rating.ty, FieldType::Enum { name: Some(n), .. } if n == "mpaa_rating"));
    assert!(rating.nullable);
    assert_eq!(field(s, "film_list", "fid").ty, FieldType::Int32);
    assert_eq!(field(s, "customer_list", "zip code").ty, FieldType::Text);
    // View columns are nullable, as every catalog reports them.
    assert!(field(s, "customer_list", "id").nullable);
    // A unique index on a materialized view.
    assert!(field(s, "rental_by_category", "category").unique);
    assert_eq!(
        skipped_at(&p, 516),
        [
            "CREATE VIEW public.actor_info | view column types inferred from the projection; typed as text: film_info"
        ]
    );
}

#[test]
fn pagila_entities_in_order_of_appearance() {
    let p = pagila();
    let names: Vec<&str> = p.schema.entities.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "customer",
            "actor",
            "category",
            "film",
            "film_actor",
            "film_category",
            "film_embedding",
            "actor_info",
            "address",
            "city",
            "country",
            "customer_list",
            "film_list",
            "inventory",
            "language",
            "nicer_but_slower_film_list",
            "payment",
            "rental",
            "rental_by_category",
            "sales_by_film_category",
            "staff",
            "store",
            "sales_by_store",
            "staff_list",
        ]
    );
}

#[test]
fn pagila_skipped_statements_by_reason() {
    let p = pagila();
    let mut by_reason: std::collections::BTreeMap<String, usize> = Default::default();
    for s in &p.skipped {
        let reason = if s.reason.starts_with("view column types") {
            "view column types inferred from the projection".to_string()
        } else {
            s.reason.clone()
        };
        *by_reason.entry(reason).or_default() += 1;
    }
    let get = |r: &str| by_reason.get(r).copied().unwrap_or(0);
    assert_eq!(
        get("partition of public.payment; served through the parent"),
        55
    );
    assert_eq!(
        get(
            "server-side code (functions, procedures, triggers, aggregates, rules) is not modelled"
        ),
        9 + 1 + 16
    );
    assert_eq!(
        get("sequences are not modelled; columns defaulting to nextval() are auto-increment"),
        13
    );
    assert_eq!(get("view column types inferred from the projection"), 8);
    assert_eq!(get("ownership is not modelled"), 1);
    assert_eq!(get("session setting; not part of the schema"), 1);
    let owner = p
        .skipped
        .iter()
        .find(|s| s.reason == "ownership is not modelled");
    assert_eq!(
        owner.map(|s| s.what.as_str()),
        Some("ALTER … OWNER TO (106 statements)")
    );
    // Nothing fell through to the parser's complaints.
    assert!(
        p.skipped
            .iter()
            .all(|s| !s.reason.starts_with("not understood")),
        "{:#?}",
        p.skipped
    );
}

// ---------------------------------------------------------------------------
// Chinook facts
// ---------------------------------------------------------------------------

/// Entity names without case or underscores: `invoice_line` ≡ `InvoiceLine`.
fn normalised_names(i: &Import) -> BTreeSet<String> {
    i.schema
        .entities
        .iter()
        .map(|e| e.name.to_lowercase().replace('_', ""))
        .collect()
}

#[test]
fn chinook_three_dumps_agree() {
    let pg = chinook(SqlFlavor::Postgres);
    let my = chinook(SqlFlavor::Mysql);
    let lite = chinook(SqlFlavor::Sqlite);
    for i in [&pg, &my, &lite] {
        assert_eq!(i.schema.entities.len(), 11);
    }
    assert_eq!(normalised_names(&pg), normalised_names(&my));
    assert_eq!(normalised_names(&pg), normalised_names(&lite));
    // Same relation count on every entity.
    for (a, b, c) in pg
        .schema
        .entities
        .iter()
        .zip(&my.schema.entities)
        .zip(&lite.schema.entities)
        .map(|((a, b), c)| (a, b, c))
    {
        assert_eq!(a.relations.len(), b.relations.len(), "{}", a.name);
        assert_eq!(a.relations.len(), c.relations.len(), "{}", a.name);
        assert_eq!(a.fields.len(), b.fields.len(), "{}", a.name);
        assert_eq!(a.fields.len(), c.fields.len(), "{}", a.name);
    }
}

#[test]
fn chinook_postgres_relations() {
    let i = chinook(SqlFlavor::Postgres);
    let s = &i.schema;
    let album_artist = entity(s, "album").relation("artist").expect("album.artist");
    assert_eq!(album_artist.kind, RelationKind::ManyToOne);
    assert_eq!(album_artist.target, "artist");
    assert_eq!(album_artist.from_fields, ["artist_id"]);
    match &entity(s, "playlist")
        .relation("track")
        .expect("playlist.track")
        .kind
    {
        RelationKind::ManyToMany { through } => assert_eq!(through.entity, "playlist_track"),
        other => panic!("{other:?}"),
    }
    assert_eq!(field(s, "track", "name").max_length, Some(200));
    assert_eq!(field(s, "album", "album_id").generated, Generated::None);
    // The data is summarised per table, not one entry per statement.
    let track = i
        .skipped
        .iter()
        .find(|k| k.what.starts_with("INSERT INTO track"))
        .expect("track inserts");
    assert_eq!(track.what, "INSERT INTO track (3503 rows)");
    assert!(i.skipped.len() < 20, "{:#?}", i.skipped);
    assert_eq!(skipped_at(&i, 28), ["\\c | client command"]);
}

#[test]
fn chinook_mysql_and_sqlite_specifics() {
    let my = chinook(SqlFlavor::Mysql);
    let s = &my.schema;
    assert_eq!(
        entity(s, "Album")
            .relation("Artist")
            .map(|r| r.kind.clone())
            .ok(),
        Some(RelationKind::ManyToOne)
    );
    assert!(matches!(
        &entity(s, "Playlist").relation("Track").expect("Playlist.Track").kind,
        RelationKind::ManyToMany { through } if through.entity == "PlaylistTrack"
    ));
    assert_eq!(entity(s, "Album").source.schema, None);
    assert_eq!(field(s, "Invoice", "InvoiceDate").ty, FieldType::Timestamp);

    let lite = chinook(SqlFlavor::Sqlite);
    let s = &lite.schema;
    // `[AlbumId] INTEGER NOT NULL, … PRIMARY KEY ([AlbumId])` aliases the rowid.
    let id = field(s, "Album", "AlbumId");
    assert_eq!(id.generated, Generated::AutoIncrement);
    assert_eq!(id.ty, FieldType::Int64);
    assert_eq!(
        field(s, "PlaylistTrack", "TrackId").generated,
        Generated::None
    );
    assert_eq!(
        entity(s, "Track")
            .relation("Album")
            .map(|r| r.target.clone())
            .ok()
            .as_deref(),
        Some("Album")
    );
}

// ---------------------------------------------------------------------------
// mysqldump and SQLite .schema facts
// ---------------------------------------------------------------------------

#[test]
fn mysqldump_facts() {
    let i = shop();
    let s = &i.schema;
    let names: Vec<&str> = s.entities.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "categories",
            "customers",
            "addresses",
            "products",
            "product_categories",
            "orders",
            "order_items",
            "shipments",
            "order_totals",
        ]
    );
    let id = field(s, "customers", "id");
    assert_eq!(
        (id.ty.clone(), id.generated),
        (FieldType::Int64, Generated::AutoIncrement)
    );
    assert_eq!(field(s, "customers", "is_active").ty, FieldType::Boolean);
    assert_eq!(
        field(s, "customers", "tier").ty,
        FieldType::Enum {
            name: None,
            values: vec!["free".into(), "pro".into(), "enterprise".into()]
        }
    );
    assert_eq!(field(s, "customers", "newsletters").ty, FieldType::Text);
    assert_eq!(field(s, "customers", "preferences").ty, FieldType::Json);
    assert_eq!(
        field(s, "customers", "created_at").ty,
        FieldType::TimestampTz
    );
    assert!(field(s, "customers", "email").unique);
    assert_eq!(field(s, "customers", "email").max_length, Some(191));
    assert_eq!(
        field(s, "customers", "display_name").description.as_deref(),
        Some("Shown in the storefront")
    );
    assert_eq!(
        entity(s, "customers").description.as_deref(),
        Some("Registered customers")
    );
    assert_eq!(
        field(s, "products", "price_with_vat").generated,
        Generated::Always
    );
    assert_eq!(field(s, "products", "published").ty, FieldType::Boolean);
    // SMALLINT UNSIGNED needs 32 bits.
    assert_eq!(field(s, "order_items", "line_no").ty, FieldType::Int32);
    assert_eq!(entity(s, "addresses").primary_key, ["customer_id", "kind"]);
    // Self reference, junction, one-to-one through a unique key.
    assert_eq!(
        entity(s, "categories")
            .relation("parent")
            .map(|r| r.target.clone())
            .ok()
            .as_deref(),
        Some("categories")
    );
    assert!(matches!(
        &entity(s, "products").relation("categories").expect("products.categories").kind,
        RelationKind::ManyToMany { through } if through.entity == "product_categories"
    ));
    assert_eq!(
        entity(s, "orders")
            .relation("shipments")
            .map(|r| r.kind.clone())
            .ok(),
        Some(RelationKind::OneToOne)
    );
    let idx = &entity(s, "shipments").indexes;
    assert!(
        idx.iter()
            .any(|i| i.name == "shipments_carrier_tracking_unique"
                && i.unique
                && i.fields == ["carrier", "tracking_number"])
    );
    // The view: the temporary stand-in is replaced by the real definition.
    let v = entity(s, "order_totals");
    assert!(v.read_only);
    assert_eq!(field(s, "order_totals", "order_id").ty, FieldType::Int64);
    assert_eq!(field(s, "order_totals", "amount").ty, FieldType::Text);
    let inserts = i
        .skipped
        .iter()
        .find(|k| k.what.starts_with("INSERT INTO customers"));
    assert_eq!(
        inserts.map(|k| k.what.as_str()),
        Some("INSERT INTO customers (3 rows)")
    );
    assert!(
        i.skipped
            .iter()
            .any(|k| k.what == "CREATE PROCEDURE restock")
    );
}

#[test]
fn sqlite_schema_facts() {
    let i = tasks();
    let s = &i.schema;
    let names: Vec<&str> = s.entities.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "users",
            "projects",
            "tags",
            "tasks",
            "task_tags",
            "task attachments",
            "time_entries",
            "open_tasks",
        ]
    );
    assert_eq!(field(s, "users", "id").generated, Generated::AutoIncrement);
    assert_eq!(
        field(s, "projects", "id").generated,
        Generated::AutoIncrement
    );
    // WITHOUT ROWID: no rowid alias.
    assert_eq!(field(s, "tags", "name").generated, Generated::None);
    assert_eq!(
        field(s, "tasks", "title_lower").generated,
        Generated::Always
    );
    assert!(field(s, "users", "email").unique);
    assert_eq!(field(s, "users", "is_admin").ty, FieldType::Boolean);
    assert_eq!(
        entity(s, "task attachments").primary_key,
        ["task_id", "seq"]
    );
    assert_eq!(field(s, "task attachments", "fileName").ty, FieldType::Text);
    // `REFERENCES tasks` without columns points at tasks' primary key.
    let rel = entity(s, "task_tags")
        .relation("task")
        .expect("task_tags.task");
    assert_eq!(rel.to_fields, ["id"]);
    assert!(matches!(
        &entity(s, "tasks").relation("tags").expect("tasks.tags").kind,
        RelationKind::ManyToMany { through } if through.entity == "task_tags"
    ));
    // A partial unique index is not a uniqueness guarantee.
    let open = entity(s, "tasks")
        .indexes
        .iter()
        .find(|i| i.name == "tasks_open");
    assert_eq!(open.map(|i| i.unique), Some(false));
    assert_eq!(field(s, "open_tasks", "project").max_length, Some(80));
    let skipped: Vec<&str> = i.skipped.iter().map(|k| k.what.as_str()).collect();
    for what in [
        "CREATE TABLE sqlite_sequence",
        "CREATE UNIQUE INDEX users_email_lower",
        "CREATE TRIGGER tasks_touch_project",
        "CREATE VIRTUAL TABLE tasks_fts",
        "CREATE TABLE tasks_fts_data",
        "CREATE TABLE sqlite_stat1",
    ] {
        assert!(skipped.contains(&what), "{what} in {skipped:#?}");
    }
}

// ---------------------------------------------------------------------------
// Constructs, one at a time
// ---------------------------------------------------------------------------

#[test]
fn postgres_identity_comments_and_schemas() {
    let dump = r#"
CREATE SCHEMA sales;
CREATE TYPE sales.status AS ENUM ('new', 'paid');
CREATE DOMAIN public.email AS character varying(320) CHECK (VALUE ~ '@');
CREATE TABLE sales.orders (
    id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    status sales.status[] NOT NULL,
    contact public.email,
    "Note" text DEFAULT E'it\'s; fine',
    total numeric(10,2) GENERATED ALWAYS AS (1 + 1) STORED
);
CREATE TABLE items (
    order_id bigint NOT NULL REFERENCES sales.orders (id),
    line int NOT NULL,
    sku text UNIQUE,
    PRIMARY KEY (order_id, line)
);
ALTER TABLE items ALTER COLUMN line ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME items_line_seq START WITH 1
);
COMMENT ON TABLE sales.orders IS 'Orders; one per checkout';
COMMENT ON COLUMN sales.orders.contact IS 'Who to write to';
COMMENT ON COLUMN items.sku IS NULL;
CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; SELECT 2; END;
CREATE TABLE after_function (id serial PRIMARY KEY);
"#;
    let i = load(dump, SqlFlavor::Postgres);
    let s = &i.schema;
    let orders = entity(s, "sales_orders");
    assert_eq!(orders.source.schema.as_deref(), Some("sales"));
    assert_eq!(orders.source.table, "orders");
    assert_eq!(
        orders.description.as_deref(),
        Some("Orders; one per checkout")
    );
    let id = field(s, "sales_orders", "id");
    assert_eq!(
        (id.generated, id.nullable),
        (Generated::AutoIncrement, false)
    );
    assert_eq!(
        field(s, "sales_orders", "status").ty,
        FieldType::Array {
            items: Box::new(FieldType::Enum {
                name: Some("status".into()),
                values: vec!["new".into(), "paid".into()]
            })
        }
    );
    let contact = field(s, "sales_orders", "contact");
    assert_eq!(contact.max_length, Some(320));
    assert_eq!(contact.description.as_deref(), Some("Who to write to"));
    assert!(field(s, "sales_orders", "Note").default.is_some());
    assert_eq!(
        field(s, "sales_orders", "total").generated,
        Generated::Always
    );
    assert_eq!(
        field(s, "items", "line").generated,
        Generated::AutoIncrement
    );
    assert!(field(s, "items", "sku").unique);
    assert_eq!(
        entity(s, "items")
            .relation("order")
            .map(|r| r.target.clone())
            .ok()
            .as_deref(),
        Some("sales_orders")
    );
    assert_eq!(
        field(s, "after_function", "id").generated,
        Generated::AutoIncrement
    );
    assert!(i.skipped.iter().any(|k| k.what == "CREATE FUNCTION f"));
}

#[test]
fn postgres_partition_of_and_copy_data() {
    let dump = "\
CREATE TABLE measurement (city_id int NOT NULL, logdate date NOT NULL, PRIMARY KEY (city_id, logdate))
    PARTITION BY RANGE (logdate);
CREATE TABLE measurement_y2024 PARTITION OF measurement FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
CREATE INDEX ON measurement_y2024 (logdate);
COPY public.measurement (city_id, logdate) FROM stdin;
1\t2024-01-01
2\t2024-01-02; not a statement
\\.
COPY public.measurement (city_id, logdate) FROM stdin;
3\t2024-02-01
\\.
SELECT pg_catalog.setval('public.x_seq', 3, true);
";
    let i = load(dump, SqlFlavor::Postgres);
    assert_eq!(i.schema.entities.len(), 1);
    let whats: Vec<String> = i
        .skipped
        .iter()
        .map(|k| format!("{} | {}", k.what, k.reason))
        .collect();
    assert_eq!(
        whats,
        [
            "CREATE TABLE measurement_y2024 | partition of measurement; served through the parent",
            "COPY public.measurement (3 rows) | data, not schema",
            "SELECT setval(…) | sequences are not modelled; columns defaulting to nextval() are auto-increment",
        ]
    );
}

#[test]
fn splitter_respects_quotes_comments_and_dollar_quotes() {
    let dump = r#"
-- a comment with a ; semicolon
/* block ; comment /* nested ; */ still comment */
CREATE FUNCTION g() RETURNS text AS $body$ SELECT 'a;b'; $$ nested $$ $body$ LANGUAGE sql;
CREATE TABLE "Weird;Name" ("col;1" text DEFAULT 'x;y', "it""s" int);
\connect other
CREATE TABLE plain (id int PRIMARY KEY, t text DEFAULT $$dollar;default$$)
"#;
    let i = load(dump, SqlFlavor::Postgres);
    let s = &i.schema;
    assert_eq!(
        field(s, "Weird;Name", "col;1").default.as_deref(),
        Some("'x;y'")
    );
    assert!(entity(s, "Weird;Name").field("it\"s").is_ok());
    // The last statement has no semicolon and still counts.
    assert_eq!(entity(s, "plain").primary_key, ["id"]);
    let whats: Vec<&str> = i.skipped.iter().map(|k| k.what.as_str()).collect();
    assert_eq!(whats, ["CREATE FUNCTION g", "\\connect"]);
    assert_eq!(skipped_at(&i, 6), ["\\connect | client command"]);
}

#[test]
fn mysql_delimiters_escapes_and_executable_comments() {
    let dump = r"
CREATE TABLE `t` (
  `id` int NOT NULL AUTO_INCREMENT,
  `s` varchar(20) DEFAULT 'a\';b' COMMENT 'has \'quotes\'; and a semicolon',
  PRIMARY KEY (`id`)
) ENGINE=InnoDB;
# hash comment ; with semicolon
INSERT INTO `t` VALUES (1,'x;y'),(2,'(z)');
DELIMITER ;;
/*!50003 CREATE*/ /*!50017 DEFINER=`root`@`localhost`*/ /*!50003 TRIGGER `t_bi` BEFORE INSERT ON `t` FOR EACH ROW BEGIN
  SET NEW.s = 'x'; SET NEW.s = 'y';
END */;;
DELIMITER ;
/*!40101 CREATE TABLE `u` (`id` int PRIMARY KEY) */;
";
    let i = load(dump, SqlFlavor::Mysql);
    let s = &i.schema;
    assert_eq!(
        field(s, "t", "s").description.as_deref(),
        Some("has 'quotes'; and a semicolon")
    );
    assert_eq!(field(s, "t", "id").generated, Generated::AutoIncrement);
    assert_eq!(entity(s, "u").primary_key, ["id"]);
    let whats: Vec<&str> = i.skipped.iter().map(|k| k.what.as_str()).collect();
    assert_eq!(
        whats,
        [
            "INSERT INTO t (2 rows)",
            "DELIMITER (2 statements)",
            "CREATE TRIGGER t_bi"
        ]
    );
}

#[test]
fn sqlite_trigger_bodies_keep_their_semicolons() {
    let dump = "
CREATE TABLE a (id INTEGER PRIMARY KEY, n INT);
CREATE TRIGGER a_ins AFTER INSERT ON a BEGIN
  UPDATE a SET n = CASE WHEN n > 1 THEN 1 ELSE 0 END WHERE id = NEW.id;
  DELETE FROM a WHERE id < 0;
END;
CREATE TABLE b (a_id INT REFERENCES a, PRIMARY KEY (a_id)) WITHOUT ROWID;
";
    let i = load(dump, SqlFlavor::Sqlite);
    assert_eq!(i.schema.entities.len(), 2);
    assert_eq!(i.skipped.len(), 1);
    assert_eq!(i.skipped[0].what, "CREATE TRIGGER a_ins");
    assert_eq!(
        entity(&i.schema, "a")
            .relation("b")
            .map(|r| r.kind.clone())
            .ok(),
        Some(RelationKind::OneToOne)
    );
}

#[test]
fn unknown_references_are_reported_not_fatal() {
    let dump = "
CREATE TABLE child (id int PRIMARY KEY, parent_id int REFERENCES missing (id));
ALTER TABLE nowhere ADD CONSTRAINT x PRIMARY KEY (id);
CREATE INDEX i ON nowhere (id);
CREATE INDEX j ON child (no_such_column);
";
    let i = load(dump, SqlFlavor::Postgres);
    assert!(entity(&i.schema, "child").relations.is_empty());
    let whats: Vec<String> = i
        .skipped
        .iter()
        .map(|k| format!("{} | {}", k.what, k.reason))
        .collect();
    assert_eq!(
        whats,
        [
            "FOREIGN KEY child(parent_id) REFERENCES missing | references missing, which the dump does not define",
            "ALTER TABLE nowhere | table nowhere is not defined in the dump",
            "CREATE INDEX i | index on nowhere, which the dump does not define",
            "CREATE INDEX j | names a column the table does not have",
        ]
    );
}

// ---------------------------------------------------------------------------
// Malformed input
// ---------------------------------------------------------------------------

#[test]
fn empty_and_comment_only_inputs_are_empty_schemas() {
    for text in ["", "   \n\n", "-- nothing\n/* at all */\n;;\n"] {
        for flavor in [SqlFlavor::Postgres, SqlFlavor::Mysql, SqlFlavor::Sqlite] {
            let i = load(text, flavor);
            assert!(i.schema.entities.is_empty());
            assert!(i.skipped.is_empty());
        }
    }
}

#[test]
fn unterminated_quotes_are_errors_at_the_quote() {
    let e = err(
        "CREATE TABLE a (id int);\nINSERT INTO a VALUES ('oops);\n",
        SqlFlavor::Postgres,
    );
    assert_eq!(
        e.location,
        Location::LineCol {
            line: 2,
            column: 23
        }
    );
    assert!(e.message.contains("unterminated string"), "{e}");

    let e = err(
        "CREATE TABLE a (id int);\n\nCREATE FUNCTION f() RETURNS int AS $fn$\nBEGIN RETURN 1; END;\n",
        SqlFlavor::Postgres,
    );
    assert_eq!(
        e.location,
        Location::LineCol {
            line: 3,
            column: 36
        }
    );
    assert!(e.message.contains("$fn$"), "{e}");

    let e = err("SELECT 1;\n/* never closed", SqlFlavor::Sqlite);
    assert_eq!(line_of(&e), 2);

    let e = err("CREATE TABLE `a (id int);", SqlFlavor::Mysql);
    assert_eq!(
        e.location,
        Location::LineCol {
            line: 1,
            column: 14
        }
    );
}

#[test]
fn broken_table_definitions_are_errors_at_the_right_line() {
    let dump = "CREATE TABLE ok (id int);\n\nCREATE TABLE broken (\n    id int,\n    name text NOT NULL NOT,\n    x int\n);\n";
    let e = err(dump, SqlFlavor::Postgres);
    assert_eq!(line_of(&e), 5, "{e}");
    assert!(e.message.contains("table definition"), "{e}");

    let e = err("CREATE TABLE t (\n  a int,\n  b int", SqlFlavor::Sqlite);
    assert!(e.message.contains("unterminated table definition"), "{e}");
    assert_eq!(line_of(&e), 3, "{e}");

    let e = err("CREATE TABLE t (a int,, b int);", SqlFlavor::Mysql);
    assert_eq!(
        e.location,
        Location::LineCol {
            line: 1,
            column: 23
        }
    );
}

#[test]
fn text_that_is_not_sql_is_an_error() {
    let e = err(
        "Hello, this is a letter.\nNot SQL at all.\n",
        SqlFlavor::Postgres,
    );
    assert_eq!(e.location, Location::LineCol { line: 1, column: 1 });
    assert!(e.message.contains("not an SQL statement"), "{e}");

    let e = err(
        "CREATE TABLE a (id int);\n\n  {\"json\": true}\n",
        SqlFlavor::Sqlite,
    );
    assert_eq!(e.location, Location::LineCol { line: 3, column: 3 });

    let e = err("model User {\n  id Int @id\n}\n", SqlFlavor::Mysql);
    assert_eq!(line_of(&e), 1);
}

/// A small xorshift generator: deterministic, no dependency.
fn noise(len: usize, mut seed: u64) -> Vec<u8> {
    let mut out = Vec::with_capacity(len);
    while out.len() < len {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        out.extend_from_slice(&seed.to_le_bytes());
    }
    out.truncate(len);
    out
}

#[test]
fn ten_megabytes_of_noise_do_not_panic() {
    let text =
        String::from_utf8_lossy(&noise(10 * 1024 * 1024, 0x9E37_79B9_7F4A_7C15)).into_owned();
    for flavor in [SqlFlavor::Postgres, SqlFlavor::Mysql, SqlFlavor::Sqlite] {
        let _ = sql::import(&text, flavor);
    }
}

#[test]
fn sql_shaped_noise_and_truncations_do_not_panic() {
    let pagila = fixture("pagila/pagila-schema.sql");
    let shop = input("shop_mysqldump.sql");
    let tasks = input("tasks_sqlite_schema.sql");
    for (text, flavor) in [
        (&pagila, SqlFlavor::Postgres),
        (&shop, SqlFlavor::Mysql),
        (&tasks, SqlFlavor::Sqlite),
    ] {
        // Every truncation point on a character boundary, in steps.
        let bounds: Vec<usize> = text.char_indices().map(|(i, _)| i).step_by(97).collect();
        for cut in bounds {
            let _ = sql::import(&text[..cut], flavor);
            let _ = sql::import(&text[cut..], flavor);
        }
    }
    // SQL tokens in random order.
    const TOKENS: &[&str] = &[
        "CREATE",
        "TABLE",
        "VIEW",
        "INDEX",
        "ALTER",
        "ADD",
        "CONSTRAINT",
        "PRIMARY",
        "KEY",
        "REFERENCES",
        "(",
        ")",
        ",",
        ";",
        "'",
        "\"",
        "`",
        "$$",
        "$a$",
        "--",
        "/*",
        "*/",
        "\\",
        "\n",
        "t",
        "u",
        "id",
        "int",
        "text",
        "serial",
        "AS",
        "SELECT",
        "FROM",
        "JOIN",
        "ON",
        "*",
        ".",
        "COPY",
        "FROM stdin",
        "\\.",
        "DELIMITER",
        "BEGIN",
        "END",
        "CASE",
        "TRIGGER",
        "/*!40101",
        "E'",
        "[",
        "]",
        "#",
        "UNIQUE",
        "DEFAULT",
        "nextval('s')",
        "GENERATED",
    ];
    let bytes = noise(200_000, 7);
    for (n, chunk) in bytes.chunks(40).enumerate() {
        let text: Vec<&str> = chunk
            .iter()
            .map(|b| TOKENS[*b as usize % TOKENS.len()])
            .collect();
        let text = text.join(" ");
        let flavor = [SqlFlavor::Postgres, SqlFlavor::Mysql, SqlFlavor::Sqlite][n % 3];
        let _ = sql::import(&text, flavor);
    }
}

#[test]
fn deep_nesting_is_an_error_not_a_stack_overflow() {
    let deep = format!(
        "CREATE TABLE t (a int DEFAULT {}1{});",
        "(".repeat(5000),
        ")".repeat(5000)
    );
    let e = err(&deep, SqlFlavor::Postgres);
    assert_eq!(line_of(&e), 1);
    let view = format!(
        "CREATE VIEW v AS SELECT {}1{} AS x;",
        "(".repeat(5000),
        ")".repeat(5000)
    );
    let i = sql::import(&view, SqlFlavor::Postgres);
    assert!(i.is_ok());
}

#[test]
fn clean_dump_drops_of_tables_it_creates_are_not_findings() {
    // `pg_dump --clean`: drops of everything, then the definitions.
    let text = "\
ALTER TABLE IF EXISTS ONLY public.post DROP CONSTRAINT IF EXISTS post_author_fkey;
ALTER TABLE IF EXISTS ONLY public.author DROP CONSTRAINT IF EXISTS author_pkey;
ALTER TABLE public.post ALTER COLUMN id DROP DEFAULT;
DROP TABLE IF EXISTS public.post;
DROP TABLE IF EXISTS public.author;
CREATE TABLE public.author (id integer NOT NULL);
CREATE TABLE public.post (id integer NOT NULL, author_id integer);
ALTER TABLE ONLY public.author ADD CONSTRAINT author_pkey PRIMARY KEY (id);
ALTER TABLE ONLY public.post ADD CONSTRAINT post_author_fkey FOREIGN KEY (author_id) REFERENCES public.author(id);
ALTER TABLE IF EXISTS ONLY public.ghost DROP CONSTRAINT IF EXISTS ghost_pkey;
";
    let i = load(text, SqlFlavor::Postgres);
    let lines: Vec<String> = i
        .skipped
        .iter()
        .map(|s| format!("{}: {}", s.what, s.reason))
        .collect();
    assert_eq!(
        lines,
        [
            "DROP (5 statements): drops are ignored; the objects the dump creates are imported",
            // A table the dump never creates is still reported.
            "ALTER TABLE public.ghost: table public.ghost is not defined in the dump",
        ]
    );
    assert_eq!(entity(&i.schema, "author").primary_key, ["id"]);
    assert_eq!(entity(&i.schema, "post").relations.len(), 1);
}

#[test]
fn spatial_columns_have_a_type_and_are_reported() {
    let i = load(
        "CREATE TABLE place (id int PRIMARY KEY, at POINT NOT NULL SRID 4326, area GEOMETRY, SPATIAL INDEX (at));",
        SqlFlavor::Mysql,
    );
    assert_eq!(field(&i.schema, "place", "at").ty, FieldType::Binary);
    assert_eq!(field(&i.schema, "place", "area").ty, FieldType::Binary);
    let notes: Vec<&str> = i.skipped.iter().map(|s| s.what.as_str()).collect();
    assert_eq!(
        notes,
        ["column place.at POINT", "column place.area GEOMETRY"]
    );
    assert!(
        i.skipped[0].reason.contains("binary"),
        "{}",
        i.skipped[0].reason
    );

    let i = load(
        "CREATE TABLE public.place (id int PRIMARY KEY, at point, g public.geometry(Point,4326));",
        SqlFlavor::Postgres,
    );
    assert_eq!(field(&i.schema, "place", "g").ty, FieldType::Text);
    let notes: Vec<&str> = i.skipped.iter().map(|s| s.what.as_str()).collect();
    assert_eq!(
        notes,
        [
            "column public.place.at point",
            "column public.place.g public.geometry(Point, 4326)"
        ]
    );
}
