//! Horizontal filters: every operator, value typing and quoting.

use baas_core::Value;
use baas_core::ir::{ArrayOp, CompareOp, Filter, IsValue};

use crate::common::{err, filt, q, validate};

fn cmp(field: &str, op: CompareOp, v: impl Into<Value>) -> Filter {
    Filter::cmp(field, op, v)
}

#[test]
fn comparison_operators() {
    for (op, ir) in [
        ("eq", CompareOp::Eq),
        ("neq", CompareOp::Neq),
        ("gt", CompareOp::Gt),
        ("gte", CompareOp::Gte),
        ("lt", CompareOp::Lt),
        ("lte", CompareOp::Lte),
    ] {
        assert_eq!(
            filt("track", &format!("milliseconds={op}.1000")),
            cmp("milliseconds", ir, 1000i64),
            "{op}"
        );
        assert_eq!(
            filt("track", &format!("name={op}.Balls"),),
            cmp("name", ir, "Balls"),
            "{op}"
        );
    }
}

#[test]
fn values_are_typed_by_field() {
    // Integers become Int, floats Float, booleans Bool.
    assert_eq!(
        filt("track", "bytes=gt.-5"),
        cmp("bytes", CompareOp::Gt, -5i64)
    );
    assert_eq!(
        filt("track", "rating=gte.4.5"),
        cmp("rating", CompareOp::Gte, 4.5)
    );
    assert_eq!(
        filt("track", "rating=gte.4"),
        cmp("rating", CompareOp::Gte, 4.0)
    );
    assert_eq!(
        filt("track", "explicit=eq.true"),
        cmp("explicit", CompareOp::Eq, true)
    );
    assert_eq!(
        filt("track", "explicit=eq.FALSE"),
        cmp("explicit", CompareOp::Eq, false)
    );
    // Decimals, timestamps, uuids stay text for validation to coerce.
    assert_eq!(
        filt("track", "unit_price=eq.0.99"),
        cmp("unit_price", CompareOp::Eq, "0.99")
    );
    assert_eq!(
        filt("invoice", "invoice_date=gte.2021-01-01T00:00:00Z"),
        cmp("invoice_date", CompareOp::Gte, "2021-01-01T00:00:00Z")
    );
    // Text that looks like a number stays text on a text field.
    assert_eq!(
        filt("track", "name=eq.42"),
        cmp("name", CompareOp::Eq, "42")
    );
    // Unknown fields: text, validation reports them.
    assert_eq!(filt("track", "nope=eq.1"), cmp("nope", CompareOp::Eq, "1"));
}

#[test]
fn mistyped_values_stay_text_and_fail_validation_with_a_pointer() {
    for (qs, pointer) in [
        ("milliseconds=eq.abc", "/filter/value"),
        ("milliseconds=eq.inf", "/filter/value"),
        ("milliseconds=eq.NaN", "/filter/value"),
        ("explicit=eq.yes", "/filter/value"),
        ("unit_price=eq.cheap", "/filter/value"),
        ("milliseconds=eq.1.5", "/filter/value"),
    ] {
        let query = q("track", qs);
        let e = validate(&query).expect_err(qs);
        let r = baas_rest::RestError::from(e);
        assert_eq!(r.status, 422, "{qs}");
        assert_eq!(r.violations()[0].pointer, pointer, "{qs}");
    }
    let query = q("invoice", "invoice_date=gt.yesterday&total=gt.1");
    let r = baas_rest::RestError::from(validate(&query).expect_err("date"));
    assert_eq!(r.violations()[0].pointer, "/filter/filters/0/value");
    // An unknown field is PostgreSQL's `42703`, as PostgREST reports it.
    let query = q("track", "nope=eq.1");
    let r = baas_rest::RestError::from(validate(&query).expect_err("unknown"));
    assert_eq!((r.status, r.code.as_str()), (400, "42703"));
    assert_eq!(r.message, "column track.nope does not exist");
    assert_eq!(r.violations()[0].pointer, "/filter/field");
}

#[test]
fn int_out_of_range_is_a_validation_error() {
    let query = q("track", "milliseconds=eq.99999999999");
    assert_eq!(
        query.filter,
        Some(cmp("milliseconds", CompareOp::Eq, 99999999999i64))
    );
    assert!(validate(&query).is_err());
    // Beyond i64 it stays a float and still fails validation.
    let query = q("track", "bytes=eq.99999999999999999999999");
    assert!(validate(&query).is_err());
}

#[test]
fn like_takes_percent_and_underscore_as_postgrest_does() {
    let pattern = |raw: &str| match filt("track", &format!("name=like.{raw}")) {
        Filter::Like { pattern, .. } => pattern,
        other => panic!("{other:?}"),
    };
    // `%` is a wildcard like `*`, `_` matches one character (PostgREST
    // hands the pattern to `LIKE` with `*` replaced).
    assert_eq!(pattern("100%25_off*"), "100%_off%");
    // `\` escapes: `\%`, `\_`, `\\` stay escaped, `\*` is a literal star.
    assert_eq!(pattern("100\\%25\\_off\\*"), "100\\%\\_off*");
    assert_eq!(pattern("a\\\\b"), "a\\\\b");
    // A trailing lone backslash matches a backslash; `\x` is `x`.
    assert_eq!(pattern("a\\"), "a\\\\");
    assert_eq!(pattern("\\a"), "a");
}

#[test]
fn like_translates_wildcards_and_escapes_literals() {
    assert_eq!(
        filt("track", "name=like.*Love*"),
        Filter::Like {
            field: "name".into(),
            pattern: "%Love%".into(),
            case_insensitive: false
        }
    );
    assert_eq!(
        filt("track", "name=ilike.100%25_off\\*"),
        Filter::Like {
            field: "name".into(),
            pattern: "100%_off*".into(),
            case_insensitive: true
        }
    );
    assert_eq!(
        filt("track", "composer=not.ilike.*bach*"),
        Filter::not(Filter::Like {
            field: "composer".into(),
            pattern: "%bach%".into(),
            case_insensitive: true
        })
    );
}

#[test]
fn in_lists_and_quoting() {
    assert_eq!(
        filt("track", "genre_id=in.(1,2,3)"),
        Filter::in_list("genre_id", vec![1i64, 2, 3])
    );
    assert_eq!(
        filt("track", "genre_id=in.(1, 2)"),
        Filter::in_list("genre_id", vec![1i64, 2])
    );
    assert_eq!(
        filt(
            "customer",
            "last_name=in.(%22Hebdon,John%22,%22Williams,Mary%22,plain)"
        ),
        Filter::in_list("last_name", vec!["Hebdon,John", "Williams,Mary", "plain"])
    );
    // Quotes and backslashes inside quotes, parentheses inside quotes.
    assert_eq!(
        filt("customer", r#"company=in.("say \"hi\"","a\\b","(x)")"#),
        Filter::in_list("company", vec!["say \"hi\"", "a\\b", "(x)"])
    );
    // A quote not followed by , or ) is taken raw, as PostgREST does.
    assert_eq!(
        filt("customer", r#"company=in.("a"b,c)"#),
        Filter::in_list("company", vec!["\"a\"b", "c"])
    );
    // Empty list matches nothing.
    assert_eq!(
        filt("track", "genre_id=in.()"),
        Filter::In {
            field: "genre_id".into(),
            values: vec![]
        }
    );
    // Empty element, unicode.
    assert_eq!(
        filt("artist", "name=in.(,Motörhead,%E6%97%A5%E6%9C%AC)"),
        Filter::in_list("name", vec!["", "Motörhead", "日本"])
    );
    assert_eq!(
        filt("track", "genre_id=not.in.(1,2)"),
        Filter::not(Filter::in_list("genre_id", vec![1i64, 2]))
    );
}

#[test]
fn in_list_errors() {
    for qs in [
        "genre_id=in.1,2",
        "genre_id=in.(1,2",
        "genre_id=in.(1,2))",
        "genre_id=in.(1,2)x",
        "genre_id=in.(\"1\"",
    ] {
        let e = err("track", qs);
        assert_eq!(e.status, 400, "{qs}: {e:?}");
        assert_eq!(e.code, "PGRST100");
    }
}

#[test]
fn is_operands() {
    assert_eq!(
        filt("track", "composer=is.null"),
        Filter::is("composer", IsValue::Null)
    );
    assert_eq!(
        filt("track", "composer=is.not_null"),
        Filter::is("composer", IsValue::NotNull)
    );
    assert_eq!(
        filt("track", "composer=not.is.null"),
        Filter::not(Filter::is("composer", IsValue::Null))
    );
    assert_eq!(
        filt("track", "explicit=is.true"),
        Filter::is("explicit", IsValue::True)
    );
    assert_eq!(
        filt("track", "explicit=is.FALSE"),
        Filter::is("explicit", IsValue::False)
    );
    // A boolean's null; of another type, validation's 400 `42804`
    // (after the field's read grant).
    assert_eq!(
        filt("track", "explicit=is.unknown"),
        Filter::is("explicit", IsValue::Unknown)
    );
    let e = err("track", "explicit=is.maybe");
    assert_eq!(e.status, 400);
    assert!(e.hint.as_deref().is_some_and(|h| h.contains("is.null")));
    assert_eq!(err("track", "explicit=is.nullx").status, 400);
}

#[test]
fn isdistinct() {
    assert_eq!(
        filt("track", "composer=isdistinct.Bach"),
        Filter::or(vec![
            cmp("composer", CompareOp::Neq, "Bach"),
            Filter::is("composer", IsValue::Null)
        ])
    );
}

#[test]
fn full_text_search() {
    use baas_core::ir::TextSyntax;
    let ts = |q: &str, lang: Option<&str>, syntax| Filter::TextSearch {
        field: "name".into(),
        path: Vec::new(),
        query: q.into(),
        language: lang.map(Into::into),
        syntax,
    };
    // The query goes as written, in the operator's syntax (PostgreSQL runs
    // it with to_tsquery & co; other engines take its words when that is
    // all it says).
    assert_eq!(
        filt("track", "name=fts.love"),
        ts("love", None, TextSyntax::TsQuery)
    );
    assert_eq!(
        filt("track", "name=fts(english).love%20%26%20song"),
        ts("love & song", Some("english"), TextSyntax::TsQuery)
    );
    assert_eq!(
        filt("track", "name=fts.'eggs'+%26+'ham'"),
        ts("'eggs' & 'ham'", None, TextSyntax::TsQuery)
    );
    assert_eq!(
        filt("track", "name=fts.love|hate"),
        ts("love|hate", None, TextSyntax::TsQuery)
    );
    assert_eq!(
        filt("track", "name=plfts.love+song"),
        ts("love song", None, TextSyntax::Plain)
    );
    assert_eq!(
        filt("track", "name=phfts(french).la+vie"),
        ts("la vie", Some("french"), TextSyntax::Phrase)
    );
    assert_eq!(
        filt("track", "name=wfts.%22the+cat%22+-hat"),
        ts("\"the cat\" -hat", None, TextSyntax::Web)
    );
    assert_eq!(
        filt("track", "name=not.plfts.love"),
        Filter::not(ts("love", None, TextSyntax::Plain))
    );
    assert_eq!(err("track", "name=fts(en-gb).x").status, 400);
    assert_eq!(err("track", "name=fts(english.x").status, 400);
    // Validates on a text field.
    assert!(validate(&q("track", "name=fts(english).love")).is_ok());
}

#[test]
fn array_operators() {
    let arr = |op, vals: Vec<Value>| Filter::Array {
        field: "tags".into(),
        op,
        values: vals,
    };
    assert_eq!(
        filt("track", "tags=cs.{rock,live}"),
        arr(ArrayOp::Contains, vec!["rock".into(), "live".into()])
    );
    assert_eq!(
        filt("track", "tags=cd.%7B%22a,b%22,%22c%5C%22d%22%7D"),
        arr(ArrayOp::ContainedBy, vec!["a,b".into(), "c\"d".into()])
    );
    assert_eq!(filt("track", "tags=ov.{}"), arr(ArrayOp::Overlaps, vec![]));
    assert_eq!(
        filt("track", "tags=not.ov.{x}"),
        Filter::not(arr(ArrayOp::Overlaps, vec!["x".into()]))
    );
    // Elements are typed by the array's item type.
    assert_eq!(
        filt("track", "chart_positions=cs.{1,2}"),
        Filter::Array {
            field: "chart_positions".into(),
            op: ArrayOp::Contains,
            values: vec![1i64.into(), 2i64.into()]
        }
    );
    // NULL → Null (validation rejects it with a pointer).
    let query = q("track", "tags=cs.{a,NULL}");
    let e = baas_rest::RestError::from(validate(&query).expect_err("null"));
    assert_eq!(e.violations()[0].pointer, "/filter/values/1");
    for qs in ["tags=cs.rock", "tags=cs.{a", "tags=cs.{a,}"] {
        assert_eq!(err("track", qs).status, 400, "{qs}");
    }
    // `(…)` and `[…]` are range literals: on an array field, a validation
    // error (range operators apply to range fields).
    assert!(validate(&q("track", "tags=cs.(a,b)")).is_err());
    // A multi-dimensional literal gives its elements: PostgreSQL's `@>`,
    // `<@` and `&&` ignore dimensions. A ragged one is PostgreSQL's 400.
    assert_eq!(
        filt("track", "tags=cs.{{a,b},{c,d}}"),
        arr(
            ArrayOp::Contains,
            ["a", "b", "c", "d"].map(Value::from).to_vec()
        )
    );
    assert_eq!(err("track", "tags=cs.{{a},{b,c}}").status, 400);
    // `eq` / `neq` compare a whole array, its dimensions kept.
    assert_eq!(
        filt("track", "chart_positions=eq.{{1,2},{3,NULL}}"),
        Filter::eq(
            "chart_positions",
            Value::Array(vec![
                Value::Array(vec![1i64.into(), 2i64.into()]),
                Value::Array(vec![3i64.into(), Value::Null]),
            ])
        )
    );
    assert_eq!(
        filt("track", "tags=neq.{}"),
        Filter::Compare {
            field: "tags".into(),
            op: baas_core::ir::CompareOp::Neq,
            value: Value::Array(vec![])
        }
    );
    // Ordered comparisons, or a value that is no array: refused.
    assert!(validate(&q("track", "tags=gt.{a}")).is_err());
    assert!(validate(&q("track", "tags=eq.a")).is_err());
}

#[test]
fn any_all_modifiers() {
    assert_eq!(
        filt("track", "name=like(any).{*Love*,*Heart*}"),
        Filter::or(vec![
            Filter::Like {
                field: "name".into(),
                pattern: "%Love%".into(),
                case_insensitive: false
            },
            Filter::Like {
                field: "name".into(),
                pattern: "%Heart%".into(),
                case_insensitive: false
            },
        ])
    );
    assert_eq!(
        filt("track", "milliseconds=gt(all).{100,200}"),
        Filter::and(vec![
            cmp("milliseconds", CompareOp::Gt, 100i64),
            cmp("milliseconds", CompareOp::Gt, 200i64)
        ])
    );
    assert_eq!(filt("track", "milliseconds=eq(any).{}"), Filter::or(vec![]));
    assert_eq!(err("track", "milliseconds=eq(any).{1,NULL}").status, 400);
    assert_eq!(err("track", "milliseconds=eq(some).{1}").status, 400);
    assert_eq!(err("track", "milliseconds=eq(any).1").status, 400);
    assert_eq!(err("track", "genre_id=in(any).(1)").status, 400);
    assert_eq!(err("track", "name=isdistinct(any).{a}").status, 400);
}

/// `cs`/`cd` on a JSON field take a JSON operand (postgrest-js's
/// `.contains(col, {…})`), where an array field takes an array literal.
#[test]
fn json_containment_filters() {
    let jc = |op, value: serde_json::Value| Filter::JsonContains {
        field: "meta".into(),
        path: Vec::new(),
        op,
        value,
    };
    assert_eq!(
        filt("track", r#"meta=cs.{"a":{"b":[1,2]}}"#),
        jc(ArrayOp::Contains, serde_json::json!({"a": {"b": [1, 2]}}))
    );
    assert_eq!(
        filt("track", r#"meta=cd.["x",1]"#),
        jc(ArrayOp::ContainedBy, serde_json::json!(["x", 1]))
    );
    assert_eq!(
        filt("track", "meta=not.cs.{}"),
        Filter::not(jc(ArrayOp::Contains, serde_json::json!({})))
    );
    assert_eq!(
        filt("track", "meta=cs.%7B%22x%22%3A1%7D"),
        jc(ArrayOp::Contains, serde_json::json!({"x": 1}))
    );
    assert_eq!(err("track", "meta=cs.{a,b}").status, 400);
    assert_eq!(err("track", "meta=cs.[1,5)").status, 400);
    // Deeper than the bound: a validation error.
    let deep = format!("meta=cs.{}1{}", "[".repeat(10), "]".repeat(10));
    let e = baas_rest::RestError::from(validate(&q("track", &deep)).expect_err("too deep"));
    assert_eq!(e.violations()[0].pointer, "/filter/value");
}

#[test]
fn json_path_filters() {
    let jp = |path: &[&str], op, value: serde_json::Value| Filter::JsonPath {
        field: "meta".into(),
        path: path.iter().map(|s| s.to_string()).collect(),
        op,
        value,
    };
    use serde_json::json;
    // `->>` is text: every comparison compares the text (`%`, `_` and
    // `\` as themselves), `gt.120` too (`'99' > '120'`, as PostgreSQL).
    let text = |path: &[&str], op, value: &str| Filter::JsonText {
        field: "meta".into(),
        path: path.iter().map(|s| s.to_string()).collect(),
        op,
        value: value.into(),
    };
    assert_eq!(
        filt("track", "meta->a->>b=eq.x"),
        text(&["a", "b"], CompareOp::Eq, "x")
    );
    assert_eq!(
        filt("track", "meta->>b=neq.1%_*"),
        text(&["b"], CompareOp::Neq, "1%_*")
    );
    assert_eq!(
        filt("track", "meta->a->b=eq.%22x%22"),
        jp(&["a", "b"], CompareOp::Eq, json!("x"))
    );
    // After `->` the operand is JSON (PostgreSQL's `jsonb` input): a bare
    // word is its 400 `22P02`, in every comparison.
    for bad in [
        "meta->a=eq.x",
        "meta->a=gt.x",
        "meta->a=in.(x,1)",
        "meta->a=lt(any).{1,x}",
    ] {
        let e = err("track", bad);
        assert_eq!((e.status, e.code.as_str()), (400, "22P02"), "{bad}");
    }
    assert_eq!(
        filt("track", "meta->>bpm=gt.120"),
        text(&["bpm"], CompareOp::Gt, "120")
    );
    assert_eq!(
        filt("track", "meta->>ratio=lte. 0.5"),
        text(&["ratio"], CompareOp::Lte, " 0.5")
    );
    assert_eq!(
        filt("track", "meta->bpm=gt.120"),
        jp(&["bpm"], CompareOp::Gt, json!(120))
    );
    assert_eq!(
        filt("track", "meta->ratio=lt.0.5"),
        jp(&["ratio"], CompareOp::Lt, json!(0.5))
    );
    assert_eq!(
        filt("track", "meta->live=eq.true"),
        jp(&["live"], CompareOp::Eq, json!(true))
    );
    assert_eq!(
        filt("track", "meta->tags->0=eq.%22rock%22"),
        jp(&["tags", "0"], CompareOp::Eq, json!("rock"))
    );
    assert_eq!(
        filt("track", "meta->%22a.b%22=neq.1"),
        jp(&["a.b"], CompareOp::Neq, json!(1))
    );
    assert_eq!(
        filt("track", "meta->>k=not.eq.v"),
        Filter::not(text(&["k"], CompareOp::Eq, "v"))
    );
    assert_eq!(
        filt("track", "meta->>k=in.(a,1)"),
        Filter::or(vec![
            text(&["k"], CompareOp::Eq, "a"),
            text(&["k"], CompareOp::Eq, "1")
        ])
    );
    assert_eq!(
        filt("track", "meta->>k=gte(any).{b,10}"),
        Filter::or(vec![
            text(&["k"], CompareOp::Gte, "b"),
            text(&["k"], CompareOp::Gte, "10")
        ])
    );
    assert_eq!(
        filt("track", "meta->k=in.(null,1)"),
        Filter::or(vec![
            jp(&["k"], CompareOp::Eq, json!(null)),
            jp(&["k"], CompareOp::Eq, json!(1))
        ])
    );
    // Ordered across types, a document's order too.
    assert_eq!(
        filt("track", "meta->k=gte.false"),
        jp(&["k"], CompareOp::Gte, json!(false))
    );
    assert_eq!(
        filt("track", "meta->k=lt.[1,2]"),
        jp(&["k"], CompareOp::Lt, json!([1, 2]))
    );
    assert!(validate(&q("track", "meta->a->>b=eq.x")).is_ok());
    // like / ilike on the string at the path, is.null / not_null.
    let like = |pattern: &str, ci| Filter::JsonLike {
        field: "meta".into(),
        path: vec!["a".into(), "b".into()],
        pattern: pattern.into(),
        case_insensitive: ci,
    };
    // `->>` (its text): missing or JSON null; `->` (the value): missing,
    // as PostgreSQL's operators answer SQL NULL.
    let null = |missing_only| Filter::JsonIsNull {
        field: "meta".into(),
        path: vec!["a".into()],
        missing_only,
    };
    assert_eq!(filt("track", "meta->a->>b=like.x*"), like("x%", false));
    assert_eq!(
        filt("track", "meta->a->>b=not.ilike.*X"),
        Filter::not(like("%X", true))
    );
    assert_eq!(
        filt("track", "meta->a->>b=ilike(any).{a*,b*}"),
        Filter::or(vec![like("a%", true), like("b%", true)])
    );
    assert_eq!(filt("track", "meta->a=is.null"), null(true));
    assert_eq!(filt("track", "meta->>a=is.null"), null(false));
    assert_eq!(
        filt("track", "meta->>a=is.not_null"),
        Filter::not(null(false))
    );
    assert_eq!(
        filt("track", "meta->a=not.is.null"),
        Filter::not(null(true))
    );
    assert_eq!(
        filt("track", "or=(meta->a.is.null,meta->>a.is.null)"),
        Filter::or(vec![null(true), null(false)])
    );
    assert!(validate(&q("track", "meta->a->>b=ilike.*x*&meta->c=is.null")).is_ok());
    // An array index from the end.
    assert_eq!(
        filt("track", "meta->tags->-1=eq.%22x%22"),
        jp(&["tags", "-1"], CompareOp::Eq, json!("x"))
    );
    // `-0` is the index 0 (PostgREST reads an integer).
    assert_eq!(
        filt("track", "meta->tags->-0=eq.%22x%22"),
        jp(&["tags", "0"], CompareOp::Eq, json!("x"))
    );
    assert_eq!(
        filt("track", "meta->tags->-00=eq.%22x%22"),
        jp(&["tags", "0"], CompareOp::Eq, json!("x"))
    );
    // cs / cd with a JSON operand at a path.
    assert_eq!(
        filt("track", r#"meta->tags=cs.["a"]"#),
        Filter::JsonContains {
            field: "meta".into(),
            path: vec!["tags".into()],
            op: ArrayOp::Contains,
            value: serde_json::json!(["a"]),
        }
    );
    assert_eq!(err("track", "meta->tags=cd.[1").status, 400);
    // eq / neq with a document: `jsonb`'s `=`, of a whole field too.
    let je = |path: &[&str], value: serde_json::Value| Filter::JsonEquals {
        field: "meta".into(),
        path: path.iter().map(|p| p.to_string()).collect(),
        value,
    };
    assert_eq!(
        filt("track", r#"meta->tags=eq.["a",1]"#),
        je(&["tags"], serde_json::json!(["a", 1]))
    );
    assert_eq!(
        filt("track", r#"meta=eq.{"a":1}"#),
        je(&[], serde_json::json!({"a": 1}))
    );
    assert_eq!(
        filt("track", "meta=neq.5"),
        Filter::not(je(&[], serde_json::json!(5)))
    );
    let e = err("track", "meta=eq.abc");
    assert_eq!((e.status, e.code.as_str()), (400, "22P02"));
    // At most 16 steps in a path (each is work in every statement).
    let steps = |n: usize| "->a".repeat(n);
    assert!(matches!(
        filt("track", &format!("meta{}=eq.1", steps(16))),
        Filter::JsonPath { .. }
    ));
    assert_eq!(err("track", &format!("meta{}=eq.1", steps(17))).status, 400);
    assert_eq!(
        err("track", &format!("select=id,meta{}", steps(17))).status,
        400
    );
    // match / imatch / fts on the string at the path; is.true as
    // PostgreSQL refuses it (a JSON value is not a boolean).
    assert_eq!(
        filt("track", "meta->>a=imatch.^x"),
        Filter::Regex {
            field: "meta".into(),
            path: vec!["a".into()],
            pattern: "^x".into(),
            case_insensitive: true,
        }
    );
    assert_eq!(
        filt("track", "meta->a->>b=not.fts(english).fox"),
        Filter::not(Filter::TextSearch {
            field: "meta".into(),
            path: vec!["a".into(), "b".into()],
            query: "fox".into(),
            language: Some("english".into()),
            syntax: baas_core::ir::TextSyntax::TsQuery,
        })
    );
    assert!(validate(&q("track", "meta->>a=match.x&meta->>b=fts.y")).is_ok());
    let e = err("track", "meta->a=is.true");
    assert_eq!((e.status, e.code.as_str()), (400, "42804"));
    assert_eq!(err("track", "meta->a=sl.[1,2)").status, 501);
    for qs in [
        "meta->=eq.1",
        "meta->a.b=eq.1",
        "meta->a->=eq.1",
        "meta->a=cs.{1}",
    ] {
        assert_eq!(err("track", qs).status, 400, "{qs}");
    }
}

#[test]
fn several_parameters_are_anded() {
    assert_eq!(
        filt(
            "track",
            "milliseconds=gt.1&milliseconds=lt.9&composer=is.null"
        ),
        Filter::and(vec![
            cmp("milliseconds", CompareOp::Gt, 1i64),
            cmp("milliseconds", CompareOp::Lt, 9i64),
            Filter::is("composer", IsValue::Null)
        ])
    );
}

#[test]
fn top_level_values_are_taken_literally() {
    // Outside logic trees the value is everything after the operator:
    // commas, parentheses, quotes and dots included.
    assert_eq!(
        filt("track", "name=eq.a,b(c).d%22e%22"),
        cmp("name", CompareOp::Eq, "a,b(c).d\"e\"")
    );
    assert_eq!(filt("track", "name=eq."), cmp("name", CompareOp::Eq, ""));
    assert_eq!(
        filt("track", "name=eq.%20x%20"),
        cmp("name", CompareOp::Eq, " x ")
    );
    assert_eq!(
        filt("track", "name=eq.a+b"),
        cmp("name", CompareOp::Eq, "a b")
    );
    assert_eq!(
        filt("track", "name=eq.a%2Bb"),
        cmp("name", CompareOp::Eq, "a+b")
    );
    assert_eq!(
        filt("track", "name=eq.null"),
        cmp("name", CompareOp::Eq, "null")
    );
    assert_eq!(
        filt("track", "name=eq.%F0%9F%8E%B8%20%C3%A9t%C3%A9"),
        cmp("name", CompareOp::Eq, "🎸 été")
    );
}

#[test]
fn quoted_and_odd_column_names() {
    assert_eq!(
        filt("track", "%22name%22=eq.x"),
        cmp("name", CompareOp::Eq, "x")
    );
    assert_eq!(
        filt("track", "Unit%20Price=lt.200"),
        cmp("Unit Price", CompareOp::Lt, "200")
    );
}

#[test]
fn operator_errors() {
    for (qs, status) in [
        ("name=zz.1", 400),
        ("name=eq", 400),
        ("name=1", 400),
        ("name=", 400),
        ("name=not.", 400),
        ("name=not.not.eq.1", 400),
        ("name=EQ.1", 400),
        ("name=eq1", 400),
        ("name=sl(any).(1,2)", 400),
        ("name=eq(any.{a}", 400),
    ] {
        let e = err("track", qs);
        assert_eq!(e.status, status, "{qs}: {e:?}");
    }
    // Range operators parse; on a field that is not a range, validation
    // refuses them.
    for qs in ["name=sl.(1,2)", "name=adj.[1,2)", "name=ov.empty"] {
        assert!(validate(&q("track", qs)).is_err(), "{qs}");
    }
    let e = err("track", "name=zz.1");
    assert!(e.message.contains("zz"), "{e:?}");
    assert!(e.hint.as_deref().is_some_and(|h| h.contains("eq")));
}

#[test]
fn bare_parameters_are_ignored() {
    assert_eq!(q("track", "name&&").filter, None);
}

#[test]
fn filters_on_unknown_embeddings_are_refused() {
    let e = err("track", "album.title=eq.x");
    assert_eq!(e.status, 400);
    assert!(e.message.contains("album"), "{e:?}");
    assert!(e.hint.as_deref().is_some_and(|h| h.contains("select")));
}

#[test]
fn percent_encoding_edge_cases() {
    // A lone or invalid `%` escape is kept literally (as browsers send it).
    assert_eq!(
        filt("track", "name=eq.100%"),
        cmp("name", CompareOp::Eq, "100%")
    );
    assert_eq!(
        filt("track", "name=eq.%ZZ"),
        cmp("name", CompareOp::Eq, "%ZZ")
    );
    // Encoded `&`, `=` and `#` stay inside the value.
    assert_eq!(
        filt("track", "name=eq.a%26b%3Dc%23"),
        cmp("name", CompareOp::Eq, "a&b=c#")
    );
    // A raw `=` after the first one is part of the value.
    assert_eq!(
        filt("track", "name=eq.a=b"),
        cmp("name", CompareOp::Eq, "a=b")
    );
    // Encoded keys.
    assert_eq!(
        filt("track", "na%6De=eq.x"),
        cmp("name", CompareOp::Eq, "x")
    );
    // Invalid UTF-8 after decoding is a 400.
    let e = err("track", "name=eq.%C3%28");
    assert_eq!(e.status, 400);
    assert!(e.message.contains("UTF-8"));
    assert_eq!(err("track", "%FF=eq.1").status, 400);
}

#[test]
fn in_list_limit() {
    let s = crate::common::schema();
    let mut limits = baas_rest::ParseLimits::default();
    limits.ir.max_in_list = 3;
    let e = |qs: &str| baas_rest::parse_read(&s, s.entity("track").expect("e"), qs, &[], &limits);
    assert!(e("genre_id=in.(1,2,3)").is_ok());
    for qs in [
        "genre_id=in.(1,2,3,4)",
        "tags=cs.{a,b,c,d}",
        "genre_id=eq(any).{1,2,3,4}",
        "or=(genre_id.in.(1,2,3,4))",
    ] {
        let r = e(qs).expect_err(qs);
        assert_eq!(r.status, 400, "{qs}");
        assert!(r.message.contains("more than 3"), "{qs}: {r:?}");
    }
}

#[test]
fn enum_and_uuid_values_stay_text() {
    assert_eq!(
        filt("track", "mood=eq.happy"),
        cmp("mood", CompareOp::Eq, "happy")
    );
    assert!(validate(&q("track", "mood=eq.happy")).is_ok());
    assert!(validate(&q("track", "mood=eq.angry")).is_err());
    assert!(validate(&q("invoice", "uid=eq.67e55044-10b1-426f-9247-bb680e5fe0c8")).is_ok());
    assert!(validate(&q("invoice", "uid=eq.nope")).is_err());
    assert!(
        validate(&q(
            "invoice",
            "total=gte.10.5&invoice_date=lt.2022-01-01T00:00:00%2B02:00"
        ))
        .is_ok()
    );
}

#[test]
fn match_and_imatch_are_bound_regex_filters() {
    let re = |pattern: &str, ci| Filter::Regex {
        field: "name".into(),
        path: Vec::new(),
        pattern: pattern.into(),
        case_insensitive: ci,
    };
    assert_eq!(
        filt("track", "name=match.^A.*(b|c)$"),
        re("^A.*(b|c)$", false)
    );
    assert_eq!(filt("track", "name=imatch.%5Ea"), re("^a", true));
    assert_eq!(
        filt("track", "name=not.match.x"),
        Filter::not(re("x", false))
    );
    // (any) / (all), and inside `or=(…)` with a quoted pattern.
    assert_eq!(
        filt("track", "name=match(any).{a,b}"),
        Filter::or(vec![re("a", false), re("b", false)])
    );
    assert_eq!(
        filt("track", r#"or=(name.imatch."a,b",name.match.c)"#),
        Filter::or(vec![re("a,b", true), re("c", false)])
    );
    // Text fields only, and the pattern is bounded.
    let r = baas_rest::RestError::from(
        validate(&q("track", "milliseconds=match.1")).expect_err("not text"),
    );
    assert_eq!(r.violations()[0].pointer, "/filter/field");
    let long = "a".repeat(baas_core::ir::MAX_REGEX_BYTES + 1);
    let r = baas_rest::RestError::from(
        validate(&q("track", &format!("name=match.{long}"))).expect_err("too long"),
    );
    assert_eq!(r.violations()[0].pointer, "/filter/pattern");
}
