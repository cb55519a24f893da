//! Logic trees: `or=(…)`, `and=(…)`, `not.`, nesting and quoting.

use baas_core::ir::{ArrayOp, CompareOp, Filter, IsValue};

use crate::common::{err, filt, q, validate};

fn eq(f: &str, v: impl Into<baas_core::Value>) -> Filter {
    Filter::eq(f, v)
}

#[test]
fn or_and_not() {
    assert_eq!(
        filt("track", "or=(milliseconds.lt.1000,milliseconds.gt.9000)"),
        Filter::or(vec![
            Filter::cmp("milliseconds", CompareOp::Lt, 1000i64),
            Filter::cmp("milliseconds", CompareOp::Gt, 9000i64)
        ])
    );
    assert_eq!(
        filt("track", "and=(name.eq.a,composer.is.null)"),
        Filter::and(vec![eq("name", "a"), Filter::is("composer", IsValue::Null)])
    );
    assert_eq!(
        filt("track", "not.or=(name.eq.a,name.eq.b)"),
        Filter::not(Filter::or(vec![eq("name", "a"), eq("name", "b")]))
    );
    assert_eq!(
        filt("track", "not.and=(name.eq.a,name.eq.b)"),
        Filter::not(Filter::and(vec![eq("name", "a"), eq("name", "b")]))
    );
}

#[test]
fn nested_trees() {
    assert_eq!(
        filt(
            "track",
            "or=(genre_id.eq.1,and(milliseconds.gt.2,milliseconds.lt.3),not.or(name.eq.x,name.not.eq.y))"
        ),
        Filter::or(vec![
            eq("genre_id", 1i64),
            Filter::and(vec![
                Filter::cmp("milliseconds", CompareOp::Gt, 2i64),
                Filter::cmp("milliseconds", CompareOp::Lt, 3i64)
            ]),
            Filter::not(Filter::or(vec![
                eq("name", "x"),
                Filter::not(eq("name", "y"))
            ])),
        ])
    );
    // Spaces around items and separators are ignored.
    assert_eq!(
        filt("track", "or=( name.eq.a,  and( name.eq.b) )"),
        Filter::or(vec![eq("name", "a"), Filter::and(vec![eq("name", "b")])])
    );
    // A column called `and` is a filter, not a group.
    assert_eq!(
        filt("track", "or=(and.eq.1)"),
        Filter::or(vec![eq("and", "1")])
    );
}

#[test]
fn quoting_in_trees() {
    assert_eq!(
        filt(
            "track",
            r#"or=(name.eq."a,b",name.eq."(c)",name.eq."d\"e",name.eq."f.g")"#
        ),
        Filter::or(vec![
            eq("name", "a,b"),
            eq("name", "(c)"),
            eq("name", "d\"e"),
            eq("name", "f.g")
        ])
    );
    // Percent-encoded quotes and commas.
    assert_eq!(
        filt("track", "or=(name.eq.%22a%2Cb%22,name.eq.plain%20text)"),
        Filter::or(vec![eq("name", "a,b"), eq("name", "plain text")])
    );
    // Unquoted values run to the next `,` or `)`; dots are fine.
    assert_eq!(
        filt("track", "or=(name.eq.Mr. Jones,name.like.*x*)"),
        Filter::or(vec![
            eq("name", "Mr. Jones"),
            Filter::Like {
                field: "name".into(),
                pattern: "%x%".into(),
                case_insensitive: false
            }
        ])
    );
    // Empty value.
    assert_eq!(
        filt("track", "or=(name.eq.,name.eq.\"\")"),
        Filter::or(vec![eq("name", ""), eq("name", "")])
    );
    // Unicode.
    assert_eq!(
        filt(
            "artist",
            "or=(name.eq.Motörhead,name.eq.\"Sigur Rós, live\")"
        ),
        Filter::or(vec![eq("name", "Motörhead"), eq("name", "Sigur Rós, live")])
    );
}

#[test]
fn every_operator_inside_trees() {
    assert_eq!(
        filt(
            "track",
            "or=(genre_id.in.(1,\"2\"),tags.cs.{a,b},name.fts(english).love,meta->>k.eq.1,explicit.is.true,genre_id.not.in.(3))"
        ),
        Filter::or(vec![
            Filter::in_list("genre_id", vec![1i64, 2]),
            Filter::Array {
                field: "tags".into(),
                op: ArrayOp::Contains,
                values: vec!["a".into(), "b".into()]
            },
            Filter::TextSearch {
                field: "name".into(),
                path: Vec::new(),
                query: "love".into(),
                language: Some("english".into()),
                syntax: baas_core::ir::TextSyntax::TsQuery,
            },
            // `->>` compares text: the text `1`.
            Filter::JsonText {
                field: "meta".into(),
                path: vec!["k".into()],
                op: CompareOp::Eq,
                value: "1".into(),
            },
            Filter::is("explicit", IsValue::True),
            Filter::not(Filter::in_list("genre_id", vec![3i64])),
        ])
    );
    assert_eq!(
        filt("track", "or=(milliseconds.eq(any).{1,2},name.eq.x)"),
        Filter::or(vec![
            Filter::or(vec![eq("milliseconds", 1i64), eq("milliseconds", 2i64)]),
            eq("name", "x")
        ])
    );
    assert!(validate(&q("track", "or=(genre_id.in.(1,2),name.fts.love)")).is_ok());
}

#[test]
fn combined_with_other_filters() {
    assert_eq!(
        filt("track", "genre_id=eq.1&or=(name.eq.a,name.eq.b)"),
        Filter::and(vec![
            eq("genre_id", 1i64),
            Filter::or(vec![eq("name", "a"), eq("name", "b")])
        ])
    );
}

#[test]
fn malformed_trees() {
    for qs in [
        "or=()",
        "or=(",
        "or=name.eq.a",
        "or=(name.eq.a",
        "or=(name.eq.a))",
        "or=(name.eq.a)x",
        "or=(name.eq.a,)",
        "or=(name)",
        "or=(name.zz.1)",
        "or=(and(name.eq.1)",
        "or=(xor(name.eq.1))",
        "or=(name.in.(1,2)",
        "or=(name.eq.a b c(d))",
        "or=(.eq.1)",
    ] {
        let e = err("track", qs);
        assert_eq!(e.status, 400, "{qs}: {e:?}");
        assert_eq!(e.code, "PGRST100", "{qs}");
        assert!(
            e.message.contains("parse") || e.message.contains("operator"),
            "{qs}: {e:?}"
        );
    }
}

#[test]
fn parse_errors_say_where() {
    let e = err("track", "or=(name.eq.a;name.eq.b)x");
    assert!(
        e.details
            .as_deref()
            .is_some_and(|d| d.contains("character")),
        "{e:?}"
    );
}

#[test]
fn depth_limit() {
    let mut deep = String::from("name.eq.1");
    for _ in 0..16 {
        deep = format!("and({deep})");
    }
    let e = err("track", &format!("or=({deep})"));
    assert_eq!(e.status, 400);
    assert!(e.message.contains("nested deeper"), "{e:?}");
    let mut ok = String::from("name.eq.1");
    for _ in 0..14 {
        ok = format!("and({ok})");
    }
    assert!(filt("track", &format!("or=({ok})")).depth() == 16);
    // Very deep input is refused without exhausting the stack.
    let bomb = format!("or={}", "(or".repeat(20_000));
    let e = crate::common::read("track", &bomb).expect_err("bomb");
    assert_eq!(e.status, 400);
    let huge = format!("or={}", "(or".repeat(100_000));
    let e = crate::common::read("track", &huge).expect_err("huge");
    assert_eq!(e.status, 414);
    // An unterminated quote is a 400 (PostgREST takes it as raw text).
    let e = crate::common::read("track", "and=(name.eq.\"a)").expect_err("unterminated");
    assert_eq!(e.status, 400);
}

#[test]
fn pathological_inputs_stay_fast() {
    let start = std::time::Instant::now();
    // Many values opening an array literal that never closes.
    let q = format!("or=({}name.eq.x)", "name.eq.{,".repeat(6000));
    let _ = crate::common::read("track", &q);
    // Many unterminated quotes.
    let q = format!("or=({}name.eq.x)", "name.eq.\"a,".repeat(6000));
    let _ = crate::common::read("track", &q);
    // A long in-list of quoted values.
    let q = format!("name=in.({}x)", "\"a\",".repeat(900));
    assert!(crate::common::read("track", &q).is_ok());
    assert!(
        start.elapsed() < std::time::Duration::from_secs(5),
        "{:?}",
        start.elapsed()
    );
}
