//! User input never becomes a raw BSON document: values that look like
//! operators, field paths, JavaScript or regular expressions stay data, and
//! names that are not in the metadata are validation errors. Pure lowering
//! tests (no server) plus a live check when a server is reachable.

use baas_adapter_mongo::{MongoConfig, connect, lower};
use baas_core::ir::{CompareOp, Filter, Query};
use baas_core::{
    DatabaseAdapterExt, Entity, Error, Field, FieldType, SchemaMetadata, Target, Value,
};
use baas_testkit::{Naming, chinook_metadata, skip_or_fail};
use bson::{Bson, Document};
use serde_json::json;

fn schema() -> SchemaMetadata {
    let mut s = chinook_metadata(Naming::PascalCase);
    s.entities.push(
        Entity::new(
            "doc",
            vec![
                Field::new("id", FieldType::Int64),
                Field::new("name", FieldType::Text).nullable(),
                Field::new("meta", FieldType::Json).nullable(),
            ],
        )
        .with_primary_key(["id"]),
    );
    s
}

/// Every key of every (nested) document of the lowered filter.
fn keys(b: &Bson, out: &mut Vec<String>) {
    match b {
        Bson::Document(d) => {
            for (k, v) in d {
                out.push(k.clone());
                keys(v, out);
            }
        }
        Bson::Array(a) => a.iter().for_each(|x| keys(x, out)),
        _ => {}
    }
}

fn lowered(entity: &str, f: Filter) -> Document {
    let s = schema();
    let t = Target::new(&s, entity).unwrap();
    let (lookups, m) = lower::filter(t, Some(&f)).unwrap();
    assert!(lookups.is_empty());
    m
}

const HOSTILE: &[&str] = &[
    "{\"$gt\": \"\"}",
    "$where",
    "this.Name == 'x' || true",
    "$ne",
    "a.b.c",
    "$$ROOT",
    "$Name",
    ".*",
    "^(a+)+$",
    "\\",
    "\u{0}",
];

#[test]
fn hostile_values_are_typed_scalars_behind_explicit_operators() {
    for v in HOSTILE {
        for f in [
            Filter::eq("name", *v),
            Filter::cmp("name", CompareOp::Gt, *v),
            Filter::cmp("name", CompareOp::Neq, *v),
            Filter::in_list("name", vec![*v]),
            Filter::not(Filter::eq("name", *v)),
        ] {
            let m = lowered("artist", f.clone());
            let mut ks = Vec::new();
            keys(&Bson::Document(m.clone()), &mut ks);
            // Only the metadata column and fixed operators appear as keys.
            for k in &ks {
                assert!(
                    k == "Name" || ["$eq", "$gt", "$nin", "$in", "$ne"].contains(&k.as_str()),
                    "{f:?} produced key `{k}` in {m}"
                );
            }
            assert!(!m.to_string().contains("$where\":"), "{m}");
            // The value is a plain string operand.
            let inner = m.get_document("Name").unwrap();
            let operand = inner.values().next().unwrap();
            match operand {
                Bson::String(s) => assert_eq!(s, v),
                Bson::Array(a) => assert!(a.contains(&Bson::String(v.to_string()))),
                other => panic!("{f:?}: operand {other:?}"),
            }
        }
    }
}

/// In an `$expr`, a string beginning with `$` is a field path and one
/// with `$$` a variable: a value compared there (the text after `->>`, a
/// rule's claim filled into it), and a `match` pattern at a path, must be
/// `$literal`s, or `meta->>owner=eq.$$jt` would compare the row's text
/// with itself (attack: a claim set to `$$jt` passes an ownership rule).
#[test]
fn values_inside_expressions_are_literals() {
    for v in HOSTILE {
        let text = Filter::JsonText {
            field: "meta".into(),
            path: vec!["owner".into()],
            op: CompareOp::Eq,
            value: v.to_string(),
        };
        let regex = Filter::Regex {
            field: "meta".into(),
            path: vec!["owner".into()],
            pattern: v.to_string(),
            case_insensitive: false,
        };
        let mut filters = vec![text.clone(), Filter::not(text)];
        // A pattern with a NUL is refused (a validation error).
        if !v.contains('\0') {
            filters.push(regex);
        }
        for f in filters {
            let m = lowered("doc", f.clone());
            let mut found = false;
            literals(&Bson::Document(m.clone()), v, &mut found);
            assert!(found, "{f:?}: `{v}` is no $literal in {m}");
            let mut bare = Vec::new();
            strings(&Bson::Document(m.clone()), &mut bare);
            assert!(!bare.contains(&v.to_string()), "{f:?}: `{v}` bare in {m}");
        }
    }
}

/// Whether `v` appears as `{"$literal": v}` (`$regexMatch`'s pattern: behind
/// the `(?s)` flags) somewhere in `b`.
fn literals(b: &Bson, v: &str, found: &mut bool) {
    match b {
        Bson::Document(d) => {
            for (k, x) in d {
                if k == "$literal"
                    && let Bson::String(s) = x
                    && (s == v || s.ends_with(v))
                {
                    *found = true;
                }
                literals(x, v, found);
            }
        }
        Bson::Array(a) => a.iter().for_each(|x| literals(x, v, found)),
        _ => {}
    }
}

/// Every string that is not behind a `$literal`.
fn strings(b: &Bson, out: &mut Vec<String>) {
    match b {
        Bson::Document(d) => {
            for (k, x) in d {
                if k != "$literal" {
                    strings(x, out);
                }
            }
        }
        Bson::Array(a) => a.iter().for_each(|x| strings(x, out)),
        Bson::String(s) => out.push(s.clone()),
        _ => {}
    }
}

#[test]
fn like_text_is_escaped_into_a_literal_regex() {
    let m = lowered(
        "artist",
        Filter::Like {
            field: "name".into(),
            pattern: "$where.*(a+)+[x]|y\\%".into(),
            case_insensitive: false,
        },
    );
    let re = m.get_document("Name").unwrap();
    assert_eq!(
        re.get_str("$regex").unwrap(),
        "^\\$where\\.\\*\\(a\\+\\)\\+\\[x\\]\\|y\\%(?!.)"
    );
    assert_eq!(re.get_str("$options").unwrap(), "s");
    // A NUL cannot be put into a BSON regex: validation error, not a panic.
    let s = schema();
    let t = Target::new(&s, "artist").unwrap();
    let r = lower::filter(
        t,
        Some(&Filter::Like {
            field: "name".into(),
            pattern: "a\u{0}b".into(),
            case_insensitive: true,
        }),
    );
    assert!(matches!(r, Err(Error::Validation { .. })), "{r:?}");
}

#[test]
fn json_path_keys_with_operators_or_dots_are_literals() {
    let m = lowered(
        "doc",
        Filter::JsonPath {
            field: "meta".into(),
            path: vec!["$where".into(), "a.b".into()],
            op: CompareOp::Eq,
            value: serde_json::json!("$gt"),
        },
    );
    let text = m.to_string();
    assert!(text.contains("\"$literal\": \"$where\""), "{text}");
    assert!(text.contains("\"$literal\": \"a.b\""), "{text}");
    assert!(text.contains("\"$literal\": \"$gt\""), "{text}");
    // Plain keys use dotted notation on the metadata column (for an
    // index), then the exact walk: a dotted path also looks into every
    // element of an array, and `2` is an object's key too there.
    let m = lowered(
        "doc",
        Filter::JsonPath {
            field: "meta".into(),
            path: vec!["a".into(), "2".into()],
            op: CompareOp::Eq,
            value: serde_json::json!(1),
        },
    );
    let all = m.get_array("$and").expect("$and");
    assert_eq!(
        all[0],
        bson::Bson::Document(bson::doc! {"meta.a.2": {"$eq": 1_i64}})
    );
    assert!(
        all[1]
            .as_document()
            .is_some_and(|d| d.contains_key("$expr")),
        "{m}"
    );
}

#[test]
fn metadata_names_mongo_would_interpret_are_refused() {
    for col in ["$where", "a.b", "$gt", "__baas_x0"] {
        let mut s = schema();
        let e = s.entities.iter_mut().find(|e| e.name == "doc").unwrap();
        e.fields[1].column = Some(col.into());
        let t = Target::new(&s, "doc").unwrap();
        let r = lower::filter(t, Some(&Filter::eq("name", "x")));
        assert!(matches!(r, Err(Error::Validation { .. })), "{col}: {r:?}");
        let r = lower::find(t, &Query::new("doc"));
        assert!(matches!(r, Err(Error::Validation { .. })), "{col}: {r:?}");
    }
    let mut s = schema();
    s.entities
        .iter_mut()
        .find(|e| e.name == "doc")
        .unwrap()
        .source
        .table = "$cmd".into();
    assert!(matches!(
        lower::collection_name(s.entity("doc").unwrap()),
        Err(Error::Validation { .. })
    ));
}

#[test]
fn written_values_stay_data() {
    let s = schema();
    let e = s.entity("doc").unwrap();
    let caps = baas_adapter_mongo::capabilities(false);
    let limits = baas_core::validate::Limits::default();
    let v = baas_core::validate::Validator::new(Target::new(&s, "doc").unwrap(), &caps, &limits);
    let row = json!({"id": 1, "name": "$set", "meta": {"$where": "sleep(1000)", "a.b": 1}});
    let insert = v
        .insert(baas_core::ir::Insert {
            entity: "doc".into(),
            rows: vec![row.as_object().unwrap().clone()],
            on_conflict: None,
            returning: None,
        })
        .unwrap();
    let d = lower::document(e, &insert.typed_rows()[0]).unwrap();
    assert_eq!(d.get_str("name").unwrap(), "$set");
    // json content is stored as a nested document under the metadata key only.
    assert!(d.get_document("meta").is_ok());
    let update = v
        .update(baas_core::ir::Update {
            entity: "doc".into(),
            filter: Filter::eq("id", 1),
            set: json!({"name": "$unset"}).as_object().unwrap().clone(),
            returning: None,
            max_rows: None,
        })
        .unwrap();
    let set = lower::update_set(e, &update.typed_set().to_vec()).unwrap();
    assert_eq!(set, bson::doc! {"$set": {"name": "$unset"}});
}

#[tokio::test]
async fn live_hostile_filters_match_nothing_or_are_rejected() {
    let url = std::env::var("BAAS_TEST_MONGO_URL")
        .unwrap_or_else(|_| "mongodb://127.0.0.1:27017/chinook?directConnection=true".into());
    let db = match connect(MongoConfig::new(url)).await {
        Ok(db) => db,
        Err(e) => {
            skip_or_fail("MongoDB (BAAS_TEST_MONGO_URL)", &e);
            return;
        }
    };
    let s = chinook_metadata(Naming::PascalCase);
    let t = Target::new(&s, "artist").unwrap();
    for v in HOSTILE {
        let n = db.count(t, Some(&Filter::eq("name", *v))).await.unwrap();
        assert_eq!(n, 0, "{v:?} matched");
        let n = db
            .count(t, Some(&Filter::cmp("name", CompareOp::Neq, *v)))
            .await
            .unwrap();
        assert_eq!(n, 275, "neq {v:?}");
    }
    // An object where a string is expected, or an unknown field named like an
    // operator: validation errors.
    let r = db
        .count(
            t,
            Some(&Filter::eq("name", Value::Json(json!({"$gt": ""})))),
        )
        .await;
    assert!(matches!(r, Err(Error::Validation { .. })), "{r:?}");
    let r = db.count(t, Some(&Filter::eq("$where", "true"))).await;
    assert!(matches!(r, Err(Error::Validation { .. })), "{r:?}");
    let r = db.count(t, Some(&Filter::eq("name.x", "AC/DC"))).await;
    assert!(matches!(r, Err(Error::Validation { .. })), "{r:?}");
    // Regex metacharacters in like are literal.
    let like = |p: &str| Filter::Like {
        field: "name".into(),
        pattern: p.into(),
        case_insensitive: false,
    };
    assert_eq!(db.count(t, Some(&like(".*"))).await.unwrap(), 0);
    assert_eq!(db.count(t, Some(&like("AC/DC"))).await.unwrap(), 1);
    assert_eq!(db.count(t, Some(&like("AC.DC"))).await.unwrap(), 0);
}

/// A long JSON path and a deep JSON operand lower to expressions that
/// grow linearly (attack test: each step and level is bound once by a
/// `$let`; copying the step's input doubled the expression per step, and
/// a 30-step path of 90 bytes built 10^9 nodes).
#[test]
fn json_expressions_grow_linearly() {
    let path: Vec<String> = (0..baas_core::ir::MAX_JSON_PATH_STEPS)
        .map(|i| if i % 2 == 0 { "a".into() } else { "0".into() })
        .collect();
    for f in [
        Filter::JsonPath {
            field: "meta".into(),
            path: path.clone(),
            op: CompareOp::Gt,
            value: serde_json::json!(1),
        },
        Filter::JsonIsNull {
            field: "meta".into(),
            path: path.clone(),
            missing_only: true,
        },
        Filter::JsonLike {
            field: "meta".into(),
            path: path.clone(),
            pattern: "x%".into(),
            case_insensitive: false,
        },
    ] {
        let bytes = lowered("doc", f.clone()).to_string().len();
        assert!(bytes < 200_000, "{bytes} bytes for {f:?}");
    }
    // An operand as deep and as large as validation lets through.
    let mut deep = serde_json::json!({"k": [1, "x", true, null]});
    for _ in 0..6 {
        deep = serde_json::json!({"a": deep, "b": [deep.clone()]});
    }
    let m = lowered(
        "doc",
        Filter::JsonEquals {
            field: "meta".into(),
            path: path[..4].to_vec(),
            value: deep,
        },
    );
    let bytes = m.to_string().len();
    assert!(bytes < 2_000_000, "{bytes} bytes");
}
