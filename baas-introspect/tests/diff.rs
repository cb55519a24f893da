//! Metadata diffs on real imports: Pagila and Chinook dumps, edited the way a
//! schema migration would edit them.

use baas_core::{FieldType, Generated, SchemaMetadata};
use baas_introspect::diff::{
    DiffOptions, EntityChange, FieldAttributeChange, FieldChange, IndexChange, MetadataDiff,
    RelationChange, diff, diff_with,
};
use baas_introspect::{SqlFlavor, sql};

fn fixture(path: &str) -> String {
    let full = format!(
        "{}/../../shared/fixtures/{path}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("{full}: {e}"))
}

fn import(text: &str, flavor: SqlFlavor) -> SchemaMetadata {
    sql::import(text, flavor)
        .unwrap_or_else(|e| panic!("{e}"))
        .schema
}

/// Import `text` after applying `(from, to)` replacements, each of which
/// must apply.
fn edited(text: &str, flavor: SqlFlavor, edits: &[(&str, &str)]) -> SchemaMetadata {
    let mut t = text.to_string();
    for (from, to) in edits {
        assert!(t.contains(from), "edit target not found: {from}");
        t = t.replacen(from, to, 1);
    }
    import(&t, flavor)
}

fn lines(d: &MetadataDiff) -> Vec<String> {
    d.to_string().lines().map(str::to_string).collect()
}

#[test]
fn identical_documents_have_no_changes() {
    let pagila = import(&fixture("pagila/pagila-schema.sql"), SqlFlavor::Postgres);
    let d = diff(&pagila, &pagila.clone());
    assert!(d.is_empty());
    assert_eq!(d.to_string(), "no changes\n");
    assert_eq!(
        serde_json::to_value(&d).unwrap(),
        serde_json::json!({"entities": []})
    );
}

#[test]
fn enum_column_turned_into_text() {
    let text = fixture("pagila/pagila-schema.sql");
    let old = import(&text, SqlFlavor::Postgres);
    let new = edited(
        &text,
        SqlFlavor::Postgres,
        &[(
            "rating public.mpaa_rating DEFAULT 'G'::public.mpaa_rating,",
            "rating text DEFAULT 'G' NOT NULL,",
        )],
    );
    let d = diff(&old, &new);
    assert_eq!(
        lines(&d),
        [
            "~ film.rating: type enum(mpaa_rating) -> text",
            "~ film.rating: nullable true -> false",
            // The default is 'G' on both sides: the cast is not a difference.
            // The views that project film.rating follow.
            "~ film_list.rating: type enum(mpaa_rating) -> text",
            "~ nicer_but_slower_film_list.rating: type enum(mpaa_rating) -> text",
        ]
    );
    let film = d.changed_entity("film").expect("film changed");
    match film.changed_field("rating") {
        Some(
            [
                FieldAttributeChange::Type { old, new },
                FieldAttributeChange::Nullable { .. },
            ],
        ) => {
            assert!(matches!(old, FieldType::Enum { name: Some(n), .. } if n == "mpaa_rating"));
            assert_eq!(new, &FieldType::Text);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn migration_on_pagila() {
    let text = fixture("pagila/pagila-schema.sql");
    let old = import(&text, SqlFlavor::Postgres);
    let new = edited(
        &text,
        SqlFlavor::Postgres,
        &[
            // A new column and a widened one.
            (
                "    last_name text NOT NULL,\n    last_update timestamp with time zone DEFAULT now() NOT NULL\n);\n\n\nALTER TABLE public.actor OWNER",
                "    last_name character varying(80) NOT NULL,\n    nickname text,\n    last_update timestamp with time zone DEFAULT now() NOT NULL\n);\n\n\nALTER TABLE public.actor OWNER",
            ),
            // A dropped table (its foreign keys and index go too).
            (
                "CREATE TABLE public.film_embedding (",
                "CREATE TABLE archive.film_embedding (",
            ),
            // A new index, a dropped one.
            (
                "CREATE INDEX idx_title ON public.film USING btree (title);",
                "CREATE UNIQUE INDEX idx_title ON public.film USING btree (title);",
            ),
            (
                "CREATE INDEX idx_actor_last_name ON public.actor USING btree (last_name);",
                "",
            ),
            // A dropped foreign key.
            (
                "ALTER TABLE ONLY public.film\n    ADD CONSTRAINT film_original_language_id_fkey FOREIGN KEY (original_language_id) REFERENCES public.language(language_id) ON UPDATE CASCADE ON DELETE RESTRICT;",
                "",
            ),
            // A view that becomes a table.
            (
                "CREATE VIEW public.staff_list AS",
                "CREATE TABLE public.staff_list AS",
            ),
        ],
    );
    let d = diff(&old, &new);
    insta::assert_snapshot!("migration_on_pagila", d.to_string());

    let added: Vec<&str> = d.added_entities().collect();
    let removed: Vec<&str> = d.removed_entities().collect();
    assert_eq!(added, ["archive_film_embedding"]);
    assert_eq!(removed, ["film_embedding"]);
    // Removed entities come last.
    assert!(
        matches!(d.entities.last(), Some(EntityChange::Removed { name }) if name == "film_embedding")
    );

    let actor = d.changed_entity("actor").expect("actor changed");
    assert!(matches!(&actor.fields[..], [
        FieldChange::Changed { name, .. },
        FieldChange::Added { field },
    ] if name == "last_name" && field.name == "nickname"));
    assert_eq!(
        actor.indexes,
        [IndexChange::Removed {
            index: baas_core::Index {
                name: "idx_actor_last_name".into(),
                fields: vec!["last_name".into()],
                unique: false
            }
        }]
    );
    let film = d.changed_entity("film").expect("film changed");
    assert!(film.relations.iter().any(
        |r| matches!(r, RelationChange::Removed { relation } if relation.name == "original_language")
    ));
    assert!(film.relations.iter().any(
        |r| matches!(r, RelationChange::Removed { relation } if relation.name == "film_embedding")
    ));
    assert_eq!(film.indexes.len(), 2, "{:?}", film.indexes);
    // Unique index on title makes title unique.
    assert_eq!(
        film.changed_field("title"),
        Some(
            &[FieldAttributeChange::Unique {
                old: false,
                new: true
            }][..]
        )
    );
    // The language side loses its reverse relation; film's other relation
    // to language changes its name on language.
    let language = d.changed_entity("language").expect("language changed");
    assert!(!language.relations.is_empty());
    let staff_list = d.changed_entity("staff_list").expect("staff_list changed");
    assert_eq!(
        staff_list.read_only.as_ref().map(|c| (c.old, c.new)),
        Some((true, false))
    );
}

#[test]
fn chinook_mysql_against_sqlite() {
    let my = import(&fixture("chinook/Chinook_MySql.sql"), SqlFlavor::Mysql);
    let lite = import(&fixture("chinook/Chinook_Sqlite.sql"), SqlFlavor::Sqlite);
    let d = diff(&my, &lite);
    // Same entities and relations; SQLite integers are 64-bit and an INTEGER
    // primary key is the rowid.
    assert!(d.added_entities().next().is_none());
    assert!(d.removed_entities().next().is_none());
    let album = d.changed_entity("Album").expect("Album changed");
    assert!(album.relations.is_empty());
    assert!(album.source.is_none());
    assert_eq!(
        album.changed_field("AlbumId"),
        Some(
            &[
                FieldAttributeChange::Type {
                    old: FieldType::Int32,
                    new: FieldType::Int64
                },
                FieldAttributeChange::Generated {
                    old: Generated::None,
                    new: Generated::AutoIncrement
                },
            ][..]
        )
    );
    let text = d.to_string();
    assert!(text.starts_with("~ Album.AlbumId: type int32 -> int64\n~ Album.AlbumId: generated none -> auto_increment\n~ Album.ArtistId: type int32 -> int64\n"), "{text}");
    // PlaylistTrack's composite key is not a rowid alias.
    let pt = d
        .changed_entity("PlaylistTrack")
        .expect("PlaylistTrack changed");
    assert!(
        pt.fields
            .iter()
            .all(|c| matches!(c, FieldChange::Changed { changes, .. } if changes.len() == 1))
    );
}

#[test]
fn source_primary_key_and_relation_changes() {
    let old = import(
        "CREATE TABLE artist (id int PRIMARY KEY, name text);
         CREATE TABLE album (id int PRIMARY KEY, artist_id int REFERENCES artist (id), code text);",
        SqlFlavor::Postgres,
    );
    let new = import(
        "CREATE SCHEMA music;
         CREATE TABLE artist (id int PRIMARY KEY, name text);
         CREATE TABLE album (id int, artist_id int UNIQUE REFERENCES artist (id), code text, PRIMARY KEY (id, code));",
        SqlFlavor::Postgres,
    );
    let d = diff(&old, &new);
    assert_eq!(
        lines(&d),
        [
            "~ relation artist.album: kind one_to_many -> one_to_one",
            "~ album: primary key (id) -> (id, code)",
            "~ album.artist_id: unique false -> true",
            "~ album.code: nullable true -> false",
        ]
    );
    let moved = import(
        "CREATE TABLE music.artist (id int PRIMARY KEY, name text);",
        SqlFlavor::Postgres,
    );
    let mut renamed = moved.clone();
    renamed.entities[0].name = "artist".into();
    let d = diff(&old, &renamed);
    assert_eq!(
        lines(&d)[0],
        "~ artist: source public.artist -> music.artist"
    );
    assert_eq!(
        lines(&d)[1],
        "- relation artist.album: one_to_many album (id=artist_id)"
    );
    assert_eq!(lines(&d)[2], "- entity album");
}

#[test]
fn diff_serialises_as_tagged_json() {
    let old = import("CREATE TABLE t (a int, b text);", SqlFlavor::Sqlite);
    let new = import(
        "CREATE TABLE t (a bigint NOT NULL, c text); CREATE TABLE u (x int);",
        SqlFlavor::Sqlite,
    );
    let d = diff(&old, &new);
    let json = serde_json::to_value(&d).unwrap();
    assert_eq!(
        json,
        serde_json::json!({
            "entities": [
                {
                    "change": "changed",
                    "name": "t",
                    "fields": [
                        {"change": "changed", "name": "a", "changes": [
                            {"attribute": "nullable", "old": true, "new": false}
                        ]},
                        {"change": "added", "field": {"name": "c", "type": {"kind": "text"}, "nullable": true}},
                        {"change": "removed", "field": {"name": "b", "type": {"kind": "text"}, "nullable": true}}
                    ]
                },
                {"change": "added", "name": "u"}
            ]
        })
    );
    assert_eq!(
        lines(&d),
        [
            "~ t.a: nullable true -> false",
            "+ t.c: text, nullable",
            "- t.b: text, nullable",
            "+ entity u",
        ]
    );
}

/// One entity `t` with a field `f` of type `ty` and default `default`.
fn one_default(ty: FieldType, default: Option<&str>) -> SchemaMetadata {
    let mut f = baas_core::Field::new("f", ty);
    f.default = default.map(str::to_string);
    SchemaMetadata::new(vec![baas_core::Entity::new("t", vec![f])])
}

#[test]
fn defaults_written_differently_are_the_same_default() {
    let same = [
        (FieldType::Json, Some("'{}'::JSONB"), Some("'{}'::jsonb")),
        (
            FieldType::Timestamp,
            Some("CURRENT_TIMESTAMP"),
            Some("current_timestamp()"),
        ),
        (
            FieldType::Timestamp,
            Some("now()"),
            Some("CURRENT_TIMESTAMP(3)"),
        ),
        (
            FieldType::Text,
            Some("'draft'::character varying"),
            Some("draft"),
        ),
        (FieldType::Int32, Some("'0'"), Some("0")),
        (FieldType::Boolean, Some("false"), Some("0")),
        (FieldType::Text, Some("NULL"), None),
    ];
    for (ty, a, b) in same {
        let d = diff(&one_default(ty.clone(), a), &one_default(ty, b));
        assert!(d.is_empty(), "{a:?} vs {b:?}: {d}");
    }
    // A real difference still shows, with both texts as written.
    let d = diff(
        &one_default(FieldType::Int32, Some("0")),
        &one_default(FieldType::Int32, Some("'1'")),
    );
    assert_eq!(lines(&d), ["~ t.f: default 0 -> '1'"]);
}

#[test]
fn strict_compares_defaults_as_written() {
    let strict = DiffOptions { strict: true };
    let a = one_default(FieldType::Timestamp, Some("now()"));
    let b = one_default(FieldType::Timestamp, Some("CURRENT_TIMESTAMP"));
    assert!(diff_with(&a, &b, DiffOptions::default()).is_empty());
    assert_eq!(
        lines(&diff_with(&a, &b, strict)),
        ["~ t.f: default now() -> CURRENT_TIMESTAMP"]
    );
}

#[test]
fn enum_values_that_differ_only_in_order_are_shown() {
    let mood = |values: &[&str]| FieldType::Enum {
        name: Some("mood".into()),
        values: values.iter().map(|v| v.to_string()).collect(),
    };
    let old = one_default(mood(&["sad", "ok"]), None);
    let new = one_default(mood(&["ok", "sad"]), None);
    assert_eq!(
        lines(&diff(&old, &new)),
        ["~ t.f: type enum(mood)[sad|ok] -> enum(mood)[ok|sad]"]
    );
    let old = one_default(
        FieldType::Array {
            items: Box::new(mood(&["sad"])),
        },
        None,
    );
    let new = one_default(
        FieldType::Array {
            items: Box::new(mood(&["sad", "ok"])),
        },
        None,
    );
    assert_eq!(
        lines(&diff(&old, &new)),
        ["~ t.f: type array(enum(mood)[sad]) -> array(enum(mood)[sad|ok])"]
    );
}

#[test]
fn an_unsigned_column_turned_signed_shows_its_range() {
    let int = |range| {
        let mut f = baas_core::Field::new("f", FieldType::Int64);
        f.range = range;
        SchemaMetadata::new(vec![baas_core::Entity::new("t", vec![f])])
    };
    let d = diff(&int(Some(baas_core::IntRange::unsigned(32))), &int(None));
    assert_eq!(lines(&d), ["~ t.f: range 0..=4294967295 -> none"]);
}
