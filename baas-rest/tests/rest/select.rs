//! `select=`, embeddings and their filters, order and limit.

use baas_core::ir::{CompareOp, Direction, Embed, Filter, IsValue, Nulls, OrderBy, Selection};

use baas_core::metadata::Relation;
use baas_rest::parse_read;
use serde_json::json;

use crate::common::{err, filt, q, read, validate};

fn embed(relation: &str, alias: Option<&str>, select: Selection) -> Embed {
    Embed {
        relation: relation.into(),
        alias: alias.map(Into::into),
        select,
        filter: None,
        order: vec![],
        limit: None,
        offset: None,
        through: None,
        spread: false,
    }
}

fn fields(f: &[&str]) -> Selection {
    Selection {
        fields: f.iter().map(|s| s.to_string()).collect(),
        omit_fields: false,
        star: false,
        embeds: vec![],
        aggregates: Vec::new(),
        group_by_values: Vec::new(),
        casts: Vec::new(),
    }
}

fn all() -> Selection {
    Selection::default()
}

#[test]
fn plain_fields_and_star() {
    assert_eq!(
        q("track", "select=name,composer").select,
        fields(&["name", "composer"])
    );
    assert_eq!(q("track", "select=*").select, all());
    assert_eq!(q("track", "select=name,*").select, all());
    assert_eq!(q("track", "").select, all());
    assert_eq!(q("track", "select=").select, all());
    assert_eq!(
        q("track", "select=%20name%20,%20composer").select,
        fields(&["name", "composer"])
    );
    assert_eq!(q("track", "select=name,name").select, fields(&["name"]));
    assert_eq!(q("track", "select=%22name%22").select, fields(&["name"]));
    // Same-name alias is harmless.
    assert_eq!(q("track", "select=name:name").select, fields(&["name"]));
}

#[test]
fn field_aliases_rename_the_output() {
    let row = |v: serde_json::Value| match v {
        serde_json::Value::Object(o) => o,
        _ => unreachable!(),
    };
    let r = read(
        "album",
        "select=id:album_id,label:title,title,artist(who:name),tracks(n:name)",
    )
    .expect("parses");
    // The IR names the fields; the response renames them.
    assert_eq!(r.query.select.fields, ["album_id", "title"]);
    let mut got = row(json!({
        "album_id": 1, "title": "T",
        "artist": {"name": "A"},
        "tracks": [{"name": "x"}, {"name": "y"}]
    }));
    r.aliases
        .as_ref()
        .expect("aliases")
        .apply(&mut got)
        .expect("applies");
    assert_eq!(
        serde_json::to_string(&got).expect("json"),
        r#"{"id":1,"label":"T","title":"T","artist":{"who":"A"},"tracks":[{"n":"x"},{"n":"y"}]}"#
    );
    // With `*`: every field, then the aliased copy.
    let r = read("artist", "select=*,who:name").expect("parses");
    let mut got = row(json!({"artist_id": 1, "name": "A"}));
    r.aliases
        .as_ref()
        .expect("aliases")
        .apply(&mut got)
        .expect("applies");
    assert_eq!(
        serde_json::to_string(&got).expect("json"),
        r#"{"artist_id":1,"name":"A","who":"A"}"#
    );
    // No alias, nothing to do.
    assert!(
        read("album", "select=title,artist(name)")
            .expect("parses")
            .aliases
            .is_none()
    );
}

/// The answer's keys follow `select=`, as PostgREST's: an embedding
/// before a field, an aggregate before its groups, a to-one spread's
/// `count()` after its fields (the engine answers fields, groups and
/// embeddings in an order of its own).
#[test]
fn keys_follow_the_select_order() {
    let arranged = |entity: &str, qs: &str, engine: serde_json::Value| {
        let r = read(entity, qs).expect("parses");
        let serde_json::Value::Object(mut row) = engine else {
            unreachable!()
        };
        r.aliases
            .as_ref()
            .expect("aliases")
            .apply(&mut row)
            .expect("applies");
        serde_json::to_string(&row).expect("json")
    };
    assert_eq!(
        arranged(
            "album",
            "select=tracks(name),title",
            json!({"title": "T", "tracks": [{"name": "x"}]})
        ),
        r#"{"tracks":[{"name":"x"}],"title":"T"}"#
    );
    assert_eq!(
        arranged(
            "track",
            "select=n:count(),genre_id,ms:milliseconds.sum()",
            json!({"genre_id": 1, "n": 2, "ms": 3})
        ),
        r#"{"n":2,"genre_id":1,"ms":3}"#
    );
    assert_eq!(
        arranged(
            "track",
            "select=...album(n:count(),title),x:milliseconds.max()",
            json!({"n": 2, "x": 5, "album": {"title": "T"}})
        ),
        r#"{"n":2,"title":"T","x":5}"#
    );
    // The raised count where the spread lists it; aliases and an
    // embedding inside the spread keep their places.
    assert_eq!(
        arranged(
            "track",
            "select=x:milliseconds.max(),...album(t:title,n:count(),artist(name))",
            json!({"x": 5, "n": 2, "album": {"artist": {"name": "A"}, "title": "T"}})
        ),
        r#"{"x":5,"t":"T","n":2,"artist":{"name":"A"}}"#
    );
    // With `*`, after its fields.
    assert_eq!(
        arranged(
            "track",
            "select=...album(n:count(),*)",
            json!({"n": 2, "album": {"album_id": 1, "title": "T", "artist_id": 1}})
        ),
        r#"{"album_id":1,"title":"T","artist_id":1,"n":2}"#
    );
    // Fields then embeddings: the engine's order already.
    assert!(
        read("album", "select=title,artist(name)")
            .expect("parses")
            .aliases
            .is_none()
    );
}

#[test]
fn embeds() {
    assert_eq!(
        q("album", "select=title,artist(name)").select,
        Selection {
            fields: vec!["title".into()],
            omit_fields: false,
            star: false,
            embeds: vec![embed("artist", None, fields(&["name"]))],
            aggregates: Vec::new(),
            group_by_values: Vec::new(),
            casts: Vec::new(),
        }
    );
    assert_eq!(
        q(
            "album",
            "select=*,singer:artist(*),tracks(name,genre(name))"
        )
        .select,
        Selection {
            fields: vec![],
            omit_fields: false,
            star: false,
            embeds: vec![
                embed("artist", Some("singer"), all()),
                embed(
                    "tracks",
                    None,
                    Selection {
                        fields: vec!["name".into()],
                        omit_fields: false,
                        star: false,
                        embeds: vec![embed("genre", None, fields(&["name"]))],
                        aggregates: Vec::new(),
                        group_by_values: Vec::new(),
                        casts: Vec::new(),
                    }
                )
            ],
            aggregates: Vec::new(),
            group_by_values: Vec::new(),
            casts: Vec::new(),
        }
    );
    assert!(
        validate(&q(
            "album",
            "select=*,singer:artist(*),tracks(name,genre(name))"
        ))
        .is_ok()
    );
}

#[test]
fn embed_only_select_omits_own_fields() {
    // PostgREST: `select=rel(*)` answers with the embed only.
    assert_eq!(
        q("album", "select=artist(*)").select,
        Selection::embeds_only(vec![embed("artist", None, all())])
    );
    // Nested: the album in the middle returns only its artist.
    assert_eq!(
        q("track", "select=name,album(artist(name))").select,
        Selection {
            fields: vec!["name".into()],
            omit_fields: false,
            star: false,
            embeds: vec![embed(
                "album",
                None,
                Selection::embeds_only(vec![embed("artist", None, fields(&["name"]))])
            )],
            aggregates: Vec::new(),
            group_by_values: Vec::new(),
            casts: Vec::new(),
        }
    );
    // `*` or a field keeps the own fields.
    assert!(!q("album", "select=*,artist(*)").select.omit_fields);
    assert!(!q("album", "select=title,artist(*)").select.omit_fields);
    // An embed used only to filter (`rel()`) leaves no own field either.
    assert!(q("album", "select=artist()").select.omit_fields);
    assert!(validate(&q("track", "select=album(artist(name))")).is_ok());
}

#[test]
fn embed_by_target_entity_name() {
    // PostgREST embeds by table name: `playlist` resolves to the `playlists`
    // relation and keeps `playlist` as the output key.
    assert_eq!(
        q("track", "select=name,playlist(name)").select.embeds,
        vec![embed("playlists", Some("playlist"), fields(&["name"]))]
    );
    assert_eq!(
        q("artist", "select=album(title)").select.embeds,
        vec![embed("albums", Some("album"), fields(&["title"]))]
    );
    // An explicit alias wins.
    assert_eq!(
        q("artist", "select=records:album(title)").select.embeds,
        vec![embed("albums", Some("records"), fields(&["title"]))]
    );
}

#[test]
fn ambiguous_embedding_needs_a_hint() {
    // `customer` reaches `employee` twice (two foreign keys).
    let mut s = crate::common::schema();
    let customer = s
        .entities
        .iter_mut()
        .find(|e| e.name == "customer")
        .expect("customer");
    let mut second = Relation::many_to_one(
        "account_manager",
        "employee",
        &["support_rep_id"],
        &["employee_id"],
    );
    second.constraint = Some("customer_account_manager_fkey".into());
    customer.relations.push(second);
    let parse = |qs: &str| {
        let e = s.entity("customer").expect("customer");
        parse_read(&s, e, qs, &[], &crate::common::limits())
    };
    let e = parse("select=employee(*)").expect_err("ambiguous");
    assert_eq!(e.status, 300);
    // PostgREST's code, wording and candidate list (a relation is named by
    // its foreign key's constraint where it has one, as PostgREST names it).
    assert_eq!(
        e.body(),
        json!({
            "code": "PGRST201",
            "message": "Could not embed because more than one relationship was found for 'customer' and 'employee'",
            "details": [
                {
                    "cardinality": "many-to-one",
                    "embedding": "customer with employee",
                    "relationship": "support_rep using customer(support_rep_id) and employee(employee_id)"
                },
                {
                    "cardinality": "many-to-one",
                    "embedding": "customer with employee",
                    "relationship": "customer_account_manager_fkey using customer(support_rep_id) and employee(employee_id)"
                }
            ],
            "hint": "Try changing 'employee' to one of the following: 'employee!support_rep', 'employee!customer_account_manager_fkey'. Find the desired relationship in the 'details' key."
        })
    );
    // A hint by relation name or by foreign-key constraint name picks one;
    // so does the constraint name as the embedding's name.
    let picked = |qs: &str| parse(qs).expect(qs).query.select.embeds[0].relation.clone();
    assert_eq!(picked("select=employee!support_rep(*)"), "support_rep");
    assert_eq!(
        picked("select=employee!customer_account_manager_fkey(*)"),
        "account_manager"
    );
    assert_eq!(
        picked("select=customer_account_manager_fkey(*)"),
        "account_manager"
    );
    // Both use the same column: a column hint stays ambiguous.
    assert_eq!(
        parse("select=employee!support_rep_id(*)")
            .expect_err("ambiguous")
            .status,
        300
    );
    // From customer, `employee` is reached once in the plain schema.
    assert_eq!(
        q("customer", "select=rep:employee(last_name)")
            .select
            .embeds[0]
            .relation,
        "support_rep"
    );
    // ...and through its foreign-key column, as PostgREST allows.
    assert_eq!(
        q("customer", "select=support_rep_id(last_name)")
            .select
            .embeds[0]
            .relation,
        "support_rep"
    );
    let e = err("employee", "select=employee!nope(*)");
    assert_eq!(e.status, 400);
    // A hint that names nothing of the relation is PostgREST's 400
    // `PGRST200`, even when the name is a relation's; one that names its
    // link field is taken.
    let e = err("employee", "select=manager!whatever(*)");
    assert_eq!((e.status, e.code.as_str()), (400, "PGRST200"));
    assert_eq!(
        q("employee", "select=manager!reports_to(*)").select.embeds,
        vec![embed("manager", None, all())]
    );
}

/// A self-referencing entity (one foreign key, two relations), the
/// PostgREST way: the entity's name is the one-to-many, the foreign-key
/// column the many-to-one, and the one-to-many's hint is the referencing
/// column.
#[test]
fn self_reference_resolves_as_postgrest() {
    let rel = |qs: &str| q("employee", qs).select.embeds[0].relation.clone();
    assert_eq!(rel("select=employee(*)"), "reports");
    assert_eq!(rel("select=reports_to(last_name)"), "manager");
    assert_eq!(rel("select=subordinates:employee!reports_to(*)"), "reports");
    assert_eq!(rel("select=boss:employee!manager(*)"), "manager");
    // The referenced column is not a hint of the one-to-many.
    assert_eq!(
        err("employee", "select=employee!employee_id(*)").status,
        400
    );
}

#[test]
fn unknown_embedding() {
    let e = err("track", "select=name,producer(*)");
    assert_eq!((e.status, e.code.as_str()), (400, "PGRST200"));
    assert_eq!(
        e.message,
        "Could not find a relationship between 'track' and 'producer' in the schema cache"
    );
    assert!(
        e.hint.as_deref().is_some_and(|h| h.contains("album")),
        "{e:?}"
    );
    assert_eq!(
        err("media_type", "select=x(*)").hint.as_deref(),
        Some("`media_type` has no relations")
    );
}

#[test]
fn embed_twice_needs_alias() {
    assert_eq!(err("album", "select=artist(*),artist(name)").status, 400);
    assert_eq!(
        q("album", "select=artist(*),a2:artist(name)")
            .select
            .embeds
            .len(),
        2
    );
}

#[test]
fn filters_order_limit_on_embeds() {
    let query = q(
        "artist",
        "select=name,albums(title,tracks(name))&albums.title=like.*Live*&albums.order=title.desc&albums.limit=3&albums.tracks.milliseconds=gt.100000&albums.tracks.order=name&albums.offset=0",
    );
    let albums = &query.select.embeds[0];
    assert_eq!(
        albums.filter,
        Some(Filter::Like {
            field: "title".into(),
            pattern: "%Live%".into(),
            case_insensitive: false
        })
    );
    assert_eq!(albums.order, vec![OrderBy::desc("title")]);
    assert_eq!(albums.limit, Some(3));
    let tracks = &albums.select.embeds[0];
    assert_eq!(
        tracks.filter,
        Some(Filter::cmp("milliseconds", CompareOp::Gt, 100000i64))
    );
    assert_eq!(tracks.order, vec![OrderBy::asc("name")]);
    // Embed filters do not filter the parents.
    assert_eq!(query.filter, None);
    assert!(validate(&query).is_ok());
}

#[test]
fn embed_filters_are_typed_by_the_target() {
    let query = q(
        "album",
        "select=tracks(*)&tracks.explicit=eq.true&tracks.or=(genre_id.eq.1,genre_id.is.null)",
    );
    assert_eq!(
        query.select.embeds[0].filter,
        Some(Filter::and(vec![
            Filter::eq("explicit", true),
            Filter::or(vec![
                Filter::eq("genre_id", 1i64),
                Filter::is("genre_id", IsValue::Null)
            ])
        ]))
    );
    assert_eq!(
        q("album", "select=tracks(*)&tracks.not.or=(genre_id.eq.1)")
            .select
            .embeds[0]
            .filter,
        Some(Filter::not(Filter::or(vec![Filter::eq("genre_id", 1i64)])))
    );
}

#[test]
fn embed_filters_use_the_alias() {
    let query = q("artist", "select=live:albums(title)&live.title=like.*Live*");
    assert!(query.select.embeds[0].filter.is_some());
    // Its name as written too, as PostgREST 12/13 match it, when one
    // embedding alone has that name.
    let query = q("artist", "select=live:albums(title)&albums.title=eq.x");
    assert!(query.select.embeds[0].filter.is_some());
    assert_eq!(
        err(
            "artist",
            "select=live:albums(title),old:albums(title)&albums.title=eq.x"
        )
        .status,
        400
    );
}

#[test]
fn embed_offset_pages_each_parent() {
    let query = q(
        "artist",
        "select=albums(*)&albums.offset=5&albums.limit=2&albums.order=title",
    );
    let albums = &query.select.embeds[0];
    assert_eq!((albums.offset, albums.limit), (Some(5), Some(2)));
    assert!(validate(&query).is_ok());
    // `offset=0` is no offset; a to-one embed takes none.
    assert_eq!(
        q("artist", "select=albums(*)&albums.offset=0")
            .select
            .embeds[0]
            .offset,
        None
    );
    assert!(validate(&q("album", "select=artist(*)&artist.offset=1")).is_err());
}

#[test]
fn inner_join_becomes_exists() {
    let query = q(
        "artist",
        "select=name,albums!inner(title)&albums.title=eq.Facelift",
    );
    let cond = Filter::eq("title", "Facelift");
    assert_eq!(query.select.embeds[0].filter, Some(cond.clone()));
    assert_eq!(
        query.filter,
        Some(Filter::Exists {
            relation: "albums".into(),
            filter: Some(Box::new(cond)),
            through: None,
        })
    );
    // Without an embed filter: parents with at least one child.
    assert_eq!(
        filt("artist", "select=albums!inner(*)"),
        Filter::Exists {
            relation: "albums".into(),
            filter: None,
            through: None,
        }
    );
    assert!(validate(&query).is_ok());
}

#[test]
fn nested_inner_joins() {
    let query = q(
        "artist",
        "select=albums!inner(tracks!inner(name))&albums.tracks.name=eq.X&name=like.A*",
    );
    let track_cond = Filter::eq("name", "X");
    let album_cond = Filter::Exists {
        relation: "tracks".into(),
        filter: Some(Box::new(track_cond.clone())),
        through: None,
    };
    assert_eq!(query.select.embeds[0].filter, Some(album_cond.clone()));
    assert_eq!(
        query.select.embeds[0].select.embeds[0].filter,
        Some(track_cond)
    );
    assert_eq!(
        query.filter,
        Some(Filter::and(vec![
            Filter::Like {
                field: "name".into(),
                pattern: "A%".into(),
                case_insensitive: false
            },
            Filter::Exists {
                relation: "albums".into(),
                filter: Some(Box::new(album_cond)),
                through: None,
            }
        ]))
    );
    assert!(validate(&query).is_ok());
}

#[test]
fn null_filter_on_embedding() {
    let query = q(
        "artist",
        "select=name,albums(title)&albums=not.is.null&albums.title=eq.X",
    );
    assert_eq!(
        query.filter,
        Some(Filter::Exists {
            relation: "albums".into(),
            filter: Some(Box::new(Filter::eq("title", "X"))),
            through: None,
        })
    );
    assert_eq!(
        filt("artist", "select=albums(*)&albums=is.null"),
        Filter::not(Filter::Exists {
            relation: "albums".into(),
            filter: None,
            through: None,
        })
    );
    assert_eq!(
        filt("artist", "select=albums(*)&albums=is.not_null"),
        Filter::Exists {
            relation: "albums".into(),
            filter: None,
            through: None,
        }
    );
    let e = err("artist", "select=albums(*)&albums=eq.1");
    assert_eq!(e.status, 400);
    assert_eq!(
        err("artist", "select=albums(*)&albums=is.null&albums=is.null").status,
        400
    );
}

#[test]
fn empty_embed_filters_without_output() {
    let query = q("artist", "select=name,albums!inner()&albums.title=eq.X");
    assert_eq!(query.select, fields(&["name"]));
    assert_eq!(
        query.filter,
        Some(Filter::Exists {
            relation: "albums".into(),
            filter: Some(Box::new(Filter::eq("title", "X"))),
            through: None,
        })
    );
    // `rel()` without !inner or a null filter does nothing.
    assert_eq!(q("artist", "select=name,albums()").filter, None);
    assert_eq!(
        q("artist", "select=name,albums()").select,
        fields(&["name"])
    );
}

#[test]
fn many_to_many_and_to_one_embeds_validate() {
    assert!(
        validate(&q(
            "playlist",
            "select=name,tracks(name,album(title,artist(name)))&tracks.limit=5"
        ))
        .is_ok()
    );
    // Order/limit on a to-one embed: validation reports it.
    let query = q("track", "select=album(*)&album.limit=1");
    let e = baas_rest::RestError::from(validate(&query).expect_err("to-one"));
    assert_eq!(e.violations()[0].pointer, "/select/embeds/0");
}

#[test]
fn unknown_select_fields_fail_validation_with_pointers() {
    let query = q("album", "select=title,nope,tracks(name,zip)");
    let e = baas_rest::RestError::from(validate(&query).expect_err("unknown"));
    let pointers: Vec<&str> = e.violations().iter().map(|v| v.pointer.as_str()).collect();
    assert_eq!(
        pointers,
        ["/select/fields/1", "/select/embeds/0/select/fields/1"]
    );
}

#[test]
fn unknown_field_beside_star_is_the_same_error() {
    let named = baas_rest::RestError::from(
        validate(&q("album", "select=title,nope,tracks(name,zip)")).expect_err("unknown"),
    );
    let starred = err("album", "select=*,title,nope,tracks(*,name,zip)");
    assert_eq!(starred, named);
    assert_eq!((starred.status, starred.code.as_str()), (400, "42703"));
    // Known names beside `*` are fine (and change nothing).
    assert_eq!(q("album", "select=*,title").select, all());
}

#[test]
fn select_depth_limit() {
    // Seven levels below the root (PostgREST has no depth limit; the row
    // budget bounds every level's rows together), not eight.
    assert!(
        read(
            "artist",
            "select=albums(tracks(album(tracks(album(tracks(album(*)))))))"
        )
        .is_ok()
    );
    let e = err(
        "artist",
        "select=albums(tracks(album(tracks(album(tracks(album(tracks(*))))))))",
    );
    assert_eq!(e.status, 400);
    assert!(e.message.contains("nested deeper"), "{e:?}");
}

#[test]
fn select_unsupported_constructs() {
    // A cast to a type of the database's own goes to it; a path into a
    // field that is not JSON and a name that is no type name are 400s.
    let cast = q("track", "select=name::XML");
    assert_eq!(
        cast.select.casts,
        vec![baas_core::ir::FieldCast {
            field: "name".into(),
            to: "xml".into(),
            path: Vec::new(),
            alias: None,
        }]
    );
    assert_eq!(cast.select.fields, vec!["name".to_string()]);
    // Of the text at a JSON path: the database casts that text.
    let at = q("track", "select=d:meta->a->>b::interval");
    assert_eq!(
        at.select.casts,
        vec![baas_core::ir::FieldCast {
            field: "meta".into(),
            to: "interval".into(),
            path: vec!["a".into(), "b".into()],
            alias: None,
        }]
    );
    // Beside the stored value (listed, or through `*`), or cast twice: each
    // cast is a column of its own, under a key no field has.
    let aliased = |field: &str, to: &str, alias: &str| baas_core::ir::FieldCast {
        field: field.into(),
        to: to.into(),
        path: Vec::new(),
        alias: Some(alias.into()),
    };
    for (qs, fields, casts) in [
        (
            "select=name::xml,n:name",
            vec!["name"],
            vec![aliased("name", "xml", "name_2")],
        ),
        (
            "select=*,x:name::xml",
            vec![],
            vec![aliased("name", "xml", "x")],
        ),
        (
            "select=a:name::xml,b:name::inet",
            vec!["name"],
            vec![aliased("name", "xml", "a"), aliased("name", "inet", "b")],
        ),
        (
            "select=a:name::xml,b:name::xml",
            vec!["name"],
            vec![baas_core::ir::FieldCast {
                alias: None,
                ..aliased("name", "xml", "")
            }],
        ),
    ] {
        let got = q("track", qs);
        assert_eq!(got.select.fields, fields, "{qs}");
        assert_eq!(got.select.casts, casts, "{qs}");
    }
    for (qs, status) in [("select=name->a::xml", 400), ("select=name::x%2Dy", 400)] {
        let e = err("track", qs);
        assert_eq!(e.status, status, "{qs}: {e:?}");
    }
    // A many-to-many embedding takes grouping fields and aggregates of
    // its targets' fields; a to-many embedding inside an embedding with
    // aggregates is refused (501).
    assert!(validate(&q("track", "select=track_id,playlists(count)")).is_ok());
    assert!(validate(&q("track", "select=track_id,playlists(name,count())")).is_ok());
    assert!(matches!(
        validate(&q("artist", "select=albums(tracks(name),count())")),
        Err(baas_core::Error::Unsupported { .. })
    ));
    // Aggregates in a one-to-many embedding parse into its selection (a
    // to-one one fails validation).
    let album = q(
        "album",
        "select=album_id,tracks(genre_id,count,total:milliseconds.sum())",
    );
    let inner = &album.select.embeds[0].select;
    assert_eq!(inner.fields, vec!["genre_id".to_string()]);
    assert_eq!(
        inner
            .aggregates
            .iter()
            .map(|a| a.alias.as_str())
            .collect::<Vec<_>>(),
        ["count", "total"]
    );
    assert!(validate(&album).is_ok());
    // Inside a to-one embedding too: over its one related row, or none.
    assert!(validate(&q("track", "select=album_id,album(count())")).is_ok());
}

#[test]
fn aggregates_in_select_group_by_the_listed_fields() {
    let r = read(
        "track",
        "select=album_id,n:count(),milliseconds.sum()&order=album_id",
    )
    .expect("parses");
    let a = r.aggregate.expect("an aggregate");
    assert_eq!(a.group_by, vec!["album_id".to_string()]);
    assert_eq!(
        a.aggregates
            .iter()
            .map(|x| x.alias.as_str())
            .collect::<Vec<_>>(),
        ["n", "sum"]
    );
    assert_eq!(err("track", "select=*,count()").status, 400);
    assert_eq!(err("track", "select=count(),count()").status, 400);
    // `order` names a shown value by its key: a renamed group field, a
    // grouping's alias (the engine answers it under its field's name).
    let order = |qs: &str| -> Vec<String> {
        let a = read("track", qs)
            .expect(qs)
            .aggregate
            .expect("an aggregate");
        a.order.into_iter().map(|o| o.field).collect()
    };
    assert_eq!(order("select=a:album_id,count()&order=a"), ["album_id"]);
    assert_eq!(
        order("select=v:meta->>a,n:count()&order=v,n"),
        ["meta", "n"]
    );
    assert_eq!(order("select=album_id,count()&order=nope"), ["nope"]);
    // An embedding beside aggregates rides with the read's selection
    // (the engine groups by the related row).
    let r = read("track", "select=count(),album(title)").expect("an embedding beside count()");
    assert!(r.aggregate.is_some());
    assert_eq!(r.query.select.embeds[0].relation, "album");
    // A shown form that could merge two stored values groups by the value
    // the engine computes (a JSON path, its text, the date of a
    // timestamp, a number rounded to an integer), as PostgREST groups by
    // the shown value; the shape keeps only its cast.
    let grouped = |qs: &str| -> (Vec<String>, Vec<baas_core::ir::GroupValue>) {
        let a = read("track", qs)
            .expect(qs)
            .aggregate
            .expect("an aggregate");
        (a.group_by, a.group_by_values)
    };
    use baas_core::ir::GroupValue as G;
    let json = |path: &[&str], text: bool| G::Json {
        field: "meta".into(),
        path: path.iter().map(|p| p.to_string()).collect(),
        text,
        alias: None,
    };
    assert_eq!(
        grouped("select=genre_id,x:meta->a->b,count()"),
        (vec!["genre_id".to_string()], vec![json(&["a", "b"], false)])
    );
    assert_eq!(grouped("select=meta->>a,count()").1, [json(&["a"], true)]);
    assert_eq!(
        grouped("select=meta->a::text,count()").1,
        [json(&["a"], true)]
    );
    assert_eq!(
        grouped("select=unit_price::int,count()").1,
        [G::Integer {
            field: "unit_price".into(),
            alias: None,
        }]
    );
    assert_eq!(
        grouped("select=rating::int2,count()").1,
        [G::Integer {
            field: "rating".into(),
            alias: None,
        }]
    );
    assert_eq!(
        grouped("select=milliseconds::bool,count()").1,
        [G::NonZero {
            field: "milliseconds".into(),
            alias: None,
        }]
    );
    // Other merging casts: the database's own cast (PostgreSQL only: the
    // engine's validation refuses it elsewhere).
    let cast = |field: &str, path: &[&str], to: &str| G::Cast {
        field: field.into(),
        path: path.iter().map(|p| p.to_string()).collect(),
        to: to.into(),
        alias: None,
    };
    for (qs, want) in [
        ("select=name::int,count()", cast("name", &[], "int4")),
        (
            "select=milliseconds::float4,count()",
            cast("milliseconds", &[], "float4"),
        ),
        ("select=name::uuid,count()", cast("name", &[], "uuid")),
        (
            "select=meta->>a::int8,count()",
            cast("meta", &["a"], "int8"),
        ),
        (
            "select=meta->a->b::date,count()",
            cast("meta", &["a", "b"], "date"),
        ),
        ("select=name::xml,count()", cast("name", &[], "xml")),
    ] {
        assert_eq!(grouped(qs).1, [want], "{qs}");
    }
    // Beside the field itself, or a form that keeps values apart: grouped
    // by the stored value (it decides every form); two equal forms: one
    // computed group.
    assert_eq!(
        grouped("select=r:rating::int,rating,count()"),
        (vec!["rating".to_string()], vec![])
    );
    assert_eq!(
        grouped("select=r:rating::int,t:rating::text,count()"),
        (vec!["rating".to_string()], vec![])
    );
    assert_eq!(
        grouped("select=a:rating::int,b:rating::int,count()").1,
        [G::Integer {
            field: "rating".into(),
            alias: None,
        }]
    );
    // Inside an embedding: the embed's selection carries them.
    let embedded = q(
        "album",
        "select=album_id,tracks(genre_id,p:unit_price::int,count())",
    );
    let tracks = &embedded.select.embeds[0].select;
    assert_eq!(tracks.fields, ["genre_id"]);
    assert_eq!(
        tracks.group_by_values,
        [G::Integer {
            field: "unit_price".into(),
            alias: None,
        }]
    );
    // Two different merging forms of one field: each groups, under its
    // output key (`rating_2`: `rating` is a field's name).
    assert_eq!(
        grouped("select=a:rating::int,b:rating::float4,count()"),
        (
            vec![],
            vec![
                G::Integer {
                    field: "rating".into(),
                    alias: Some("a".into()),
                },
                cast("rating", &[], "float4").aliased("b"),
            ]
        )
    );
    assert_eq!(
        grouped("select=rating::int,b:rating::float4,count()").1,
        [
            G::Integer {
                field: "rating".into(),
                alias: Some("rating_2".into()),
            },
            cast("rating", &[], "float4").aliased("b"),
        ]
    );
    // A database cast beside the stored value: both group.
    assert_eq!(
        grouped("select=rating,x:rating::inet,count()"),
        (
            vec!["rating".to_string()],
            vec![cast("rating", &[], "inet").aliased("x")]
        )
    );
    for qs in [
        "select=meta::text,count()",
        "select=unit_price::text,count()",
        "select=genre_id::int8,count()",
        "select=g:genre_id::numeric,count()",
        "select=explicit::int,count()",
        "select=rating::float8,count()",
        "select=meta->a",
        "select=unit_price::int",
    ] {
        assert!(read("track", qs).is_ok(), "{qs}");
    }
}

#[test]
fn spreads_with_aggregates_read_rows_and_aggregates_apart() {
    // `...albums(title,count())`: its rows, and its one group of
    // aggregates under a key of its own, which no other answer takes.
    let q = q(
        "artist",
        "select=albums_aggregates:name::xml,name,...albums(title,count())",
    );
    let embeds: Vec<(&str, Option<&str>, usize)> = q
        .select
        .embeds
        .iter()
        .map(|e| {
            (
                e.relation.as_str(),
                e.alias.as_deref(),
                e.select.aggregates.len(),
            )
        })
        .collect();
    assert_eq!(
        embeds,
        [
            ("albums", None, 0),
            ("albums", Some("albums_aggregates"), 1)
        ]
    );
    assert_eq!(q.select.embeds[0].select.fields, ["title"]);
    assert!(q.select.embeds[1].select.fields.is_empty());
    assert_eq!(
        q.select.casts[0].alias.as_deref(),
        Some("albums_aggregates_2")
    );
    // Aggregates alone: one embedding; a to-one spread's `count()` counts
    // its parent's rows; its aggregates of its fields stay in its
    // embedding, which the engine joins to the parent's aggregated rows;
    // a spread's aggregates inside a to-many spread: 400 PGRST127.
    let alone = read("artist", "select=name,...albums(count())").unwrap();
    assert_eq!(alone.query.select.embeds.len(), 1);
    let raised = read("track", "select=...album(title,count())").unwrap();
    assert!(raised.aggregate.is_some());
    let joined = read("track", "select=...album(title,album_id.max()),count()").unwrap();
    let a = joined.aggregate.expect("an aggregate");
    assert_eq!(a.aggregates.len(), 1, "{a:?}");
    assert!(a.group_by.is_empty(), "{a:?}");
    let embed = &joined.query.select.embeds[0];
    assert_eq!(embed.select.fields, ["title"]);
    assert_eq!(embed.select.aggregates.len(), 1);
    // Inside an embedding, the spread's embedding keeps its aggregates
    // (the reader joins its row to the embedding's grouped rows).
    let inside = read(
        "album",
        "select=title,tracks(...genre(name,genre_id.max()))",
    )
    .unwrap();
    let tracks = &inside.query.select.embeds[0];
    assert!(tracks.select.aggregates.is_empty(), "{tracks:?}");
    assert_eq!(tracks.select.embeds[0].select.fields, ["name"]);
    assert_eq!(tracks.select.embeds[0].select.aggregates.len(), 1);
    // PostgREST's own refusal, word for word.
    let e = err("artist", "select=name,...albums(...tracks(count()))");
    assert_eq!((e.status, e.code.as_str()), (400, "PGRST127"));
    assert_eq!(e.message, "Feature not implemented");
    assert_eq!(
        e.details.as_deref(),
        Some("Aggregates are not implemented for one-to-many or many-to-many spreads.")
    );
}

#[test]
fn spreads_are_embeds_whose_fields_join_the_parent() {
    let q = q("track", "select=track_id,...album(title)");
    assert_eq!(q.select.embeds.len(), 1);
    assert_eq!(q.select.embeds[0].relation, "album");
    for qs in [
        "select=...album",
        "select=...x:album(title)",
        "select=...album()",
        "select=..album(title)",
        "select=...name",
    ] {
        assert_eq!(err("track", qs).status, 400, "{qs}");
    }
}

#[test]
fn select_syntax_errors() {
    for qs in [
        "select=name,",
        "select=,name",
        "select=album(",
        "select=album(*",
        "select=album(*))",
        "select=album)",
        "select=name!inner",
        "select=album!(*)",
        "select=*x",
        "select=a b c d(",
        "select=album(*)x",
        "select=name.x",
        "select=%22unterminated",
        "select=a:",
        "select=album!h1!h2(*)",
        "select=name&select=name",
    ] {
        let e = err("track", qs);
        assert_eq!(e.status, 400, "{qs}: {e:?}");
    }
}

#[test]
fn order_parsing() {
    let ob = |f: &str, d, n| OrderBy {
        field: f.into(),
        direction: d,
        nulls: n,
        json: None,
        related: None,
    };
    assert_eq!(
        q("track", "order=composer.desc.nullslast,name").order,
        vec![
            ob("composer", Direction::Desc, Some(Nulls::Last)),
            ob("name", Direction::Asc, None)
        ]
    );
    assert_eq!(
        q(
            "track",
            "order=composer.nullsfirst,name.asc,%22bytes%22.desc"
        )
        .order,
        vec![
            ob("composer", Direction::Asc, Some(Nulls::First)),
            ob("name", Direction::Asc, None),
            ob("bytes", Direction::Desc, None)
        ]
    );
    for qs in [
        "order=",
        "order=name.",
        "order=name.up",
        "order=name.desc.asc",
        "order=name.nullslast.desc",
        "order=name.nullsfirst.nullslast",
        "order=name,",
        "order=name&order=composer",
    ] {
        assert_eq!(err("track", qs).status, 400, "{qs}");
    }
    // A value inside a JSON field: `->` sorts the JSON value, `->>` its text.
    assert_eq!(
        q("track", "order=meta->a->0.desc.nullslast,meta->>b").order,
        vec![
            OrderBy {
                nulls: Some(Nulls::Last),
                ..OrderBy::desc("meta").at_path(vec!["a".into(), "0".into()], false)
            },
            OrderBy::asc("meta").at_path(vec!["b".into()], true),
        ]
    );
    // A field of the to-one related row: `rel(col)`.
    let o = &q("track", "order=album(title).desc.nullsfirst,name").order;
    assert_eq!(
        o[0],
        OrderBy {
            nulls: Some(Nulls::First),
            ..OrderBy::desc("title").through("album")
        }
    );
    assert_eq!(o[1], OrderBy::asc("name"));
    assert_eq!(err("track", "order=album(title").status, 400);
    // A JSON path goes inside the parentheses, as in PostgREST.
    assert_eq!(err("track", "order=album(title)->a").status, 400);
    assert_eq!(
        q("track", "order=album(title->a)").order[0],
        OrderBy::asc("title")
            .at_path(vec!["a".into()], false)
            .through("album")
    );
    assert_eq!(err("track", "order=meta->>a->b").status, 400);
    assert_eq!(err("track", "order=meta->").status, 400);
    let e = baas_rest::RestError::from(validate(&q("track", "order=name->a")).expect_err("text"));
    assert_eq!(e.violations()[0].pointer, "/order/0/field");
    // Unsortable fields are a validation error.
    let e = baas_rest::RestError::from(validate(&q("track", "order=meta")).expect_err("json"));
    assert_eq!(e.violations()[0].pointer, "/order/0/field");
}

#[test]
fn aggregate_results_take_a_cast() {
    // `count()::text` is the aggregate (no embedding is cast); the cast
    // applies to the answer, so the IR carries the plain aggregate.
    let r = read(
        "invoice",
        "select=count()::text,s:total.sum()::text,billing_country",
    )
    .unwrap();
    let a = r.aggregate.expect("an aggregate");
    assert_eq!(a.aggregates.len(), 2, "{a:?}");
    assert_eq!(a.group_by, ["billing_country"]);
    // Casts the answer cannot make, and a missing type.
    assert_eq!(err("invoice", "select=total.sum()::interval").status, 501);
    assert_eq!(err("invoice", "select=count()::").status, 400);
    assert_eq!(err("invoice", "select=total.sum()::").status, 400);
}
