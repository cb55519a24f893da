//! limit / offset / Range, keyset `after`, Prefer and Accept on reads.

use baas_core::Value;
use baas_core::ir::{Count, Filter};
use baas_rest::{ParseLimits, parse_accept, parse_prefer, parse_range, parse_read};

use crate::common::{by_key, err, hdrs, q, read, read_h, schema, validate};

#[test]
fn default_limit_is_max_limit() {
    let r = read("track", "").expect("read");
    assert_eq!(r.query.page.limit, Some(1000));
    assert_eq!(r.query.page.offset, None);
    assert!(r.limit_capped);
}

#[test]
fn limit_and_offset() {
    let r = read("track", "limit=25&offset=50").expect("read");
    assert_eq!(r.query.page.limit, Some(25));
    assert_eq!(r.query.page.offset, Some(50));
    assert!(!r.limit_capped);
    assert_eq!(q("track", "limit=0").page.limit, Some(0));
    assert_eq!(q("track", "offset=0").page.offset, None);
    // Larger than the cap: cut to it.
    let r = read("track", "limit=5000").expect("read");
    assert_eq!(r.query.page.limit, Some(1000));
    assert!(r.limit_capped);
    assert_eq!(q("track", "limit=%2010%20").page.limit, Some(10));
}

#[test]
fn limit_errors() {
    for qs in [
        "limit=abc",
        "limit=",
        "offset=1.5",
        "limit=99999999999999999999999",
        "limit=1&limit=2",
        "offset=1&offset=1",
    ] {
        let e = err("track", qs);
        assert_eq!(e.status, 400, "{qs}");
    }
    // PostgREST's answers (RangeSpec): a negative limit is its 416
    // `PGRST103`, a negative offset skips nothing.
    let e = err("track", "limit=-1");
    assert_eq!((e.status, e.code.as_str()), (416, "PGRST103"));
    assert_eq!(q("track", "offset=-4").page.offset.unwrap_or(0), 0);
}

#[test]
fn range_header() {
    let r = read_h("track", "", &[("Range", "0-24")]).expect("read");
    assert_eq!((r.query.page.offset, r.query.page.limit), (None, Some(25)));
    let r = read_h("track", "", &[("range", "10-19"), ("Range-Unit", "items")]).expect("read");
    assert_eq!(
        (r.query.page.offset, r.query.page.limit),
        (Some(10), Some(10))
    );
    // Open-ended: capped.
    let r = read_h("track", "", &[("Range", "100-")]).expect("read");
    assert_eq!(
        (r.query.page.offset, r.query.page.limit),
        (Some(100), Some(1000))
    );
    assert!(r.limit_capped);
    // items= prefix.
    let r = read_h("track", "", &[("Range", "items=5-5")]).expect("read");
    assert_eq!(
        (r.query.page.offset, r.query.page.limit),
        (Some(5), Some(1))
    );
    // Malformed ranges are a 416 and other units a 400, never ignored.
    for v in [
        "bytes",
        "a-b",
        "5",
        "-5",
        "bytes=0-9",
        "0-4,6-9",
        "1.5-3",
        "+1-3",
        "",
    ] {
        let e = read_h("track", "", &[("Range", v)]).expect_err(v);
        assert_eq!((e.status, e.code.as_str()), (416, "PGRST103"), "{v}");
    }
    for unit in ["bytes", "", "item"] {
        let e = read_h("track", "", &[("Range", "0-9"), ("Range-Unit", unit)]).expect_err(unit);
        assert_eq!(e.status, 400, "{unit}");
    }
    let r = read_h(
        "track",
        "",
        &[("Range", "ITEMS=2-3"), ("Range-Unit", "Items")],
    )
    .expect("read");
    assert_eq!(
        (r.query.page.offset, r.query.page.limit),
        (Some(2), Some(2))
    );
    // End before start: 416.
    let e = read_h("track", "", &[("Range", "9-1")]).expect_err("416");
    assert_eq!(e.status, 416);
    assert_eq!(e.code, "PGRST103");
}

#[test]
fn range_intersects_limit_and_offset() {
    // Range 0-99, offset 10, limit 20 → rows 10..29.
    let r = read_h("track", "offset=10&limit=20", &[("Range", "0-99")]).expect("read");
    assert_eq!(
        (r.query.page.offset, r.query.page.limit),
        (Some(10), Some(20))
    );
    // Range 50-59 inside offset 10 limit 100 → rows 50..59.
    let r = read_h("track", "offset=10&limit=100", &[("Range", "50-59")]).expect("read");
    assert_eq!(
        (r.query.page.offset, r.query.page.limit),
        (Some(50), Some(10))
    );
    // Disjoint → empty page.
    let r = read_h("track", "limit=5", &[("Range", "10-20")]).expect("read");
    assert_eq!(
        (r.query.page.offset, r.query.page.limit),
        (Some(10), Some(0))
    );
    // Huge values saturate instead of overflowing.
    let r = read_h(
        "track",
        "offset=18446744073709551615&limit=18446744073709551615",
        &[("Range", "18446744073709551615-")],
    )
    .expect("read");
    assert_eq!(r.query.page.offset, Some(u64::MAX));
}

#[test]
fn custom_max_limit() {
    let s = schema();
    let mut limits = ParseLimits::default();
    limits.http.max_limit = 10;
    let r = parse_read(&s, s.entity("track").expect("e"), "limit=50", &[], &limits).expect("read");
    assert_eq!(r.query.page.limit, Some(10));
}

#[test]
fn keyset_after() {
    let query = q("track", "order=name,track_id&after=[%22Zoo%22,42]");
    assert_eq!(
        query.page.after,
        Some(vec![Value::Text("Zoo".into()), Value::Int(42)])
    );
    assert!(validate(&query).is_ok());
    // `after=` that is not a JSON array is a filter on a column named `after`.
    assert_eq!(
        q("track", "after=eq.1").filter,
        Some(Filter::eq("after", "1"))
    );
    assert_eq!(err("track", "after=[1,").status, 400);
    assert_eq!(err("track", "after=[1]&after=[2]").status, 400);
    // Cursor without order: validation says so.
    let e = baas_rest::RestError::from(validate(&q("track", "after=[1]")).expect_err("order"));
    assert_eq!(e.violations()[0].pointer, "/page/after");
}

#[test]
fn prefer_count() {
    for (h, c) in [
        ("count=exact", Count::Exact),
        ("count=planned", Count::Planned),
        ("count=estimated", Count::Estimated),
        ("return=minimal", Count::None),
    ] {
        let r = read_h("track", "", &[("Prefer", h)]).expect("read");
        assert_eq!(r.query.count, c, "{h}");
    }
    assert_eq!(q("track", "").count, Count::None);
}

#[test]
fn prefer_parsing() {
    let p = parse_prefer(&hdrs(&[
        ("Prefer", "return=representation, count=exact"),
        (
            "prefer",
            "resolution=merge-duplicates;missing=default, tx=rollback, foo=bar, timezone=UTC",
        ),
    ]))
    .expect("prefer");
    assert_eq!(p.return_mode, Some(baas_rest::ReturnMode::Representation));
    assert_eq!(p.count, Some(Count::Exact));
    assert_eq!(p.resolution, Some(baas_core::ir::OnConflict::Merge));
    assert!(p.missing_default);
    assert_eq!(
        p.applied,
        [
            "return=representation",
            "count=exact",
            "resolution=merge-duplicates",
            "missing=default",
            "tx=rollback",
            "timezone=UTC"
        ]
    );
    assert!(p.rollback);
    // A zone PostgreSQL lists is applied, in any case; UTC under any of
    // its names is no zone to apply; another name is unknown, refused
    // under `handling=strict` (PostgREST's PGRST122).
    let p = parse_prefer(&hdrs(&[("Prefer", "handling=strict, timezone=Etc/UTC")]))
        .expect("UTC is applied");
    assert_eq!(p.applied, ["handling=strict", "timezone=Etc/UTC"]);
    assert_eq!(p.timezone, None);
    let p = parse_prefer(&hdrs(&[(
        "Prefer",
        "handling=strict, timezone=america/new_york",
    )]))
    .expect("a zone");
    assert_eq!(p.applied, ["handling=strict", "timezone=america/new_york"]);
    assert_eq!(p.timezone.map(|z| z.name()), Some("America/New_York"));
    for bad in ["Mars/Olympus", "PST", "UTC+3", ""] {
        let e = parse_prefer(&hdrs(&[(
            "Prefer",
            &format!("handling=strict, timezone={bad}"),
        )]))
        .expect_err(bad);
        assert_eq!((e.status, e.code.as_str()), (400, "PGRST122"), "{bad}");
        assert_eq!(
            e.details.as_deref(),
            Some(format!("Invalid preferences: timezone={bad}").as_str())
        );
        let p = parse_prefer(&hdrs(&[("Prefer", &format!("timezone={bad}"))])).expect("ignored");
        assert!(p.applied.is_empty() && p.timezone.is_none(), "{bad}");
    }
    let p = parse_prefer(&hdrs(&[("Prefer", "tx=rollback, tx=commit")])).expect("prefer");
    assert!(!p.rollback);
    let p = parse_prefer(&hdrs(&[(
        "Prefer",
        "return=headers-only,resolution=ignore-duplicates",
    )]))
    .expect("prefer");
    assert_eq!(p.return_mode, Some(baas_rest::ReturnMode::HeadersOnly));
    assert_eq!(p.resolution, Some(baas_core::ir::OnConflict::Ignore));
    // Strict handling rejects what it does not know.
    let e = parse_prefer(&hdrs(&[("Prefer", "handling=strict, foo=bar")])).expect_err("strict");
    assert_eq!(e.status, 400);
    assert_eq!(e.details.as_deref(), Some("Invalid preferences: foo=bar"));
    assert!(parse_prefer(&hdrs(&[("Prefer", "handling=strict, count=exact")])).is_ok());
    // `max-affected` applies with strict handling only, in any order.
    let p = parse_prefer(&hdrs(&[("Prefer", "max-affected=3, handling=strict")])).expect("strict");
    assert_eq!(p.max_affected, Some(3));
    assert_eq!(p.applied, ["handling=strict", "max-affected=3"]);
    let p = parse_prefer(&hdrs(&[("Prefer", "max-affected=3")])).expect("lenient");
    assert_eq!((p.max_affected, p.applied.len()), (None, 0));
    let e = parse_prefer(&hdrs(&[("Prefer", "handling=strict, max-affected=x")]))
        .expect_err("not a number");
    assert_eq!(
        e.details.as_deref(),
        Some("Invalid preferences: max-affected=x")
    );
    assert_eq!(
        parse_prefer(&[]).expect("empty"),
        baas_rest::Prefer::default()
    );
}

#[test]
fn accept_header() {
    let a = |v: &str| parse_accept(&hdrs(&[("Accept", v)]));
    assert_eq!(a("application/json").ok(), Some(false));
    assert_eq!(a("*/*").ok(), Some(false));
    assert_eq!(a("").ok(), Some(false));
    assert_eq!(a("application/vnd.pgrst.object+json").ok(), Some(true));
    assert_eq!(
        a("application/vnd.pgrst.object+json;nulls=stripped").ok(),
        Some(true)
    );
    assert_eq!(
        a("text/html, application/vnd.pgrst.object").ok(),
        Some(true)
    );
    assert_eq!(
        a("application/json, application/vnd.pgrst.object+json").ok(),
        Some(false)
    );
    assert_eq!(a("text/csv").ok(), Some(false));
    let e = a("text/xml").expect_err("406");
    assert_eq!(e.status, 406);
    assert_eq!(e.code, "PGRST107");
    assert!(
        e.message
            .starts_with("None of these media types are available: text/xml"),
        "{e:?}"
    );
    assert_eq!(parse_accept(&[]).ok(), Some(false));
    let r = read_h(
        "track",
        "",
        &[("Accept", "application/vnd.pgrst.object+json")],
    )
    .expect("read");
    assert!(r.singular && !r.by_key);
    assert_eq!(
        read_h("track", "", &[("Accept", "text/xml")])
            .expect_err("406")
            .status,
        406
    );
}

#[test]
fn range_parsing() {
    assert_eq!(
        parse_range(&hdrs(&[("Range", " 0 - 9 ")])).ok(),
        Some(Some((0, Some(9))))
    );
    assert_eq!(parse_range(&[]).ok(), Some(None));
}

#[test]
fn read_by_key() {
    let r = by_key("track", &["42"], "select=name").expect("by key");
    assert!(r.singular && r.by_key);
    assert_eq!(r.query.filter, Some(Filter::eq("track_id", 42i64)));
    assert_eq!(r.query.page.limit, None);
    let r = by_key("playlist_track", &["1", "3402"], "").expect("composite");
    assert_eq!(
        r.query.filter,
        Some(Filter::and(vec![
            Filter::eq("playlist_id", 1i64),
            Filter::eq("track_id", 3402i64)
        ]))
    );
    // Combined with other filters.
    let r = by_key("track", &["42"], "composer=is.null").expect("by key");
    assert_eq!(
        r.query.filter,
        Some(Filter::and(vec![
            Filter::eq("track_id", 42i64),
            Filter::is("composer", baas_core::ir::IsValue::Null)
        ]))
    );
    // Wrong arity, keyless entity.
    let e = by_key("playlist_track", &["1"], "").expect_err("arity");
    assert_eq!(e.status, 400);
    assert!(e.message.contains("playlist_id, track_id"), "{e:?}");
    let e = by_key("top_tracks", &["1"], "").expect_err("keyless");
    assert_eq!(e.status, 400);
    // A bad key value fails validation with a pointer.
    let r = by_key("track", &["abc"], "").expect("parses");
    let e = baas_rest::RestError::from(validate(&r.query).expect_err("type"));
    assert_eq!(e.violations()[0].pointer, "/filter/value");
}

#[test]
fn write_params_on_reads() {
    assert_eq!(err("track", "columns=name").status, 400);
    assert_eq!(err("track", "on_conflict=name").status, 400);
}
