//! Snapshot tests of the BSON generated for every request case the SQL
//! dialects use (`baas-testkit/cases/<behaviour>/request.json`, resolved
//! against `baas-testkit/cases/schema.json`): the same IR, lowered for
//! MongoDB, as relaxed extended JSON, or the lowering error.
//!
//! Regenerate with `INSTA_UPDATE=always cargo test -p baas-adapter-mongo --test snapshots_bson`
//! and review the diff.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::Path;

use baas_adapter_mongo::lower;
use baas_core::validate::{Limits, Validator};
use baas_core::{Capabilities, SchemaMetadata, Target};
use baas_testkit::cases::{
    CheckedRequest, Request, case_dirs, cases_dir, load_case, load_schema, orphan_snapshots,
};
use bson::{Bson, Document};

/// The rows a count stops at: `count=estimated` counts one row past the
/// read's row budget (`baas_core::read::find`).
fn estimate_cap(q: &baas_core::ir::Query) -> Option<u64> {
    (q.count == baas_core::ir::Count::Estimated)
        .then_some(q.max_rows?.checked_add(1))
        .flatten()
}

fn check<'a>(
    target: Target<'a>,
    caps: &'a Capabilities,
    limits: &'a Limits,
    req: &Request,
) -> baas_core::Result<CheckedRequest<'a>> {
    req.check(&Validator::new(target, caps, limits))
}

fn ext(docs: Vec<Document>) -> String {
    let arr = Bson::Array(docs.into_iter().map(Bson::Document).collect());
    serde_json::to_string_pretty(&arr.into_relaxed_extjson()).expect("json")
}

fn lower_case(target: Target<'_>, req: &CheckedRequest<'_>) -> baas_core::Result<String> {
    let e = target.entity;
    Ok(match req {
        CheckedRequest::Select(q) => {
            let plan = lower::find(target, q)?;
            format!(
                "-- fields: {}\n-- pipeline\n{}",
                plan.fields.join(", "),
                ext(plan.pipeline)
            )
        }
        CheckedRequest::Count(q) => format!(
            "-- pipeline\n{}",
            ext(lower::count(target, q.filter.as_ref(), estimate_cap(q))?)
        ),
        CheckedRequest::Insert(i, _) => {
            let docs = i
                .typed_rows()
                .iter()
                .map(|r| lower::document(e, r))
                .collect::<baas_core::Result<Vec<_>>>()?;
            let mut out = format!(
                "-- documents (keys generated at run time are absent)\n{}",
                ext(docs)
            );
            if let Some(up) = &i.on_conflict {
                let key = if up.target.is_empty() {
                    e.primary_key.clone()
                } else {
                    up.target.clone()
                };
                let filters = i
                    .typed_rows()
                    .iter()
                    .map(|r| lower::key_match(e, &key, r))
                    .collect::<baas_core::Result<Vec<_>>>()?;
                let _ = write!(
                    out,
                    "\n-- upsert ({:?}) matching\n{}",
                    up.action,
                    ext(filters)
                );
            }
            out
        }
        CheckedRequest::Update(u) => {
            let (lookups, m) = lower::filter(target, Some(&u.filter))?;
            let set = lower::update_set(e, &u.typed_set().to_vec())?;
            let mut out = String::new();
            if !lookups.is_empty() {
                let _ = write!(
                    out,
                    "-- ids by pipeline\n{}\n",
                    ext(lower::ids(target, &u.filter)?)
                );
            } else {
                let _ = write!(out, "-- filter\n{}\n", ext(vec![m]));
            }
            let _ = write!(out, "-- update\n{}", ext(vec![set]));
            out
        }
        CheckedRequest::Delete(d) => {
            let (lookups, m) = lower::filter(target, Some(&d.filter))?;
            if lookups.is_empty() {
                format!("-- filter\n{}", ext(vec![m]))
            } else {
                format!(
                    "-- ids by pipeline\n{}",
                    ext(lower::ids(target, &d.filter)?)
                )
            }
        }
        CheckedRequest::Aggregate(a) => {
            let plan = lower::aggregate(target, a)?;
            let cols: Vec<String> = plan
                .columns
                .iter()
                .map(|c| format!("{} <- {}", c.key, c.internal))
                .collect();
            format!(
                "-- columns: {}\n-- pipeline\n{}",
                cols.join(", "),
                ext(plan.pipeline)
            )
        }
    })
}

fn render(schema: &SchemaMetadata, req: &Request) -> String {
    let mut out = String::new();
    let target = match Target::new(schema, req.entity()) {
        Ok(t) => t,
        Err(e) => return format!("-- error (target)\n{e}\n"),
    };
    let caps: Capabilities = baas_adapter_mongo::capabilities(true);
    let limits = Limits::default();
    // Adapters only ever lower checked requests: a rejected one stops here.
    let checked = match check(target, &caps, &limits, req) {
        Ok(c) => c,
        Err(e) => {
            let _ = writeln!(
                out,
                "-- validator (mongodb capabilities) rejects this request\n{e}"
            );
            return out;
        }
    };
    match lower_case(target, &checked) {
        Ok(s) => {
            out.push_str(&s);
            out.push('\n');
        }
        Err(e) => {
            let _ = writeln!(out, "-- error ({})\n{e}", e.code());
        }
    }
    out
}

#[test]
fn generated_bson_matches_snapshots() {
    let cases = cases_dir();
    let schema = load_schema(&cases);
    let mut failed = Vec::new();
    let mut expected = BTreeSet::new();
    for (behaviour, dir) in case_dirs(&cases) {
        let req = load_case(&dir).unwrap_or_else(|e| panic!("{behaviour}: {e}"));
        let name = format!("{behaviour}__mongodb");
        let text = render(&schema, &req);
        let mut settings = insta::Settings::clone_current();
        settings.set_description(format!("{behaviour} on mongodb"));
        settings.set_omit_expression(true);
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            settings.bind(|| insta::assert_snapshot!(name.clone(), text));
        }));
        if outcome.is_err() {
            failed.push(name.clone());
        }
        expected.insert(format!("snapshots_bson__{name}.snap"));
    }
    let snap_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/snapshots");
    let orphans = orphan_snapshots(&snap_dir, "snapshots_bson__", &expected);
    assert!(
        failed.is_empty(),
        "snapshot mismatches:\n  {}",
        failed.join("\n  ")
    );
    assert!(
        orphans.is_empty(),
        "snapshots without a case:\n  {}",
        orphans.join("\n  ")
    );
}
