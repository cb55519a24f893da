//! Snapshot tests of the SQL generated for every request case.
//!
//! Each folder `tests/cases/<behaviour>/` holds a `request.json` (format and
//! reader in `baas_testkit::cases`, shared with the BSON snapshots). The request is
//! resolved against `tests/cases/schema.json` and lowered for every dialect;
//! the statement(s) and their parameters, or the lowering error, are
//! snapshotted as `snapshots/snapshots_sql__<behaviour>__<dialect>.snap`.
//!
//! Regenerate with `INSTA_UPDATE=always cargo test -p baas-sql --test snapshots_sql`
//! and review the diff.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;

use baas_core::validate::{Limits, Validator};
use baas_core::{Capabilities, SchemaMetadata, Target};
use baas_sql::{Dialect, Statement};
use baas_testkit::cases::{
    CheckedRequest, Request, case_dirs, cases_dir, load_case, load_schema, orphan_snapshots,
};

const DIALECTS: [Dialect; 3] = [Dialect::Postgres, Dialect::Mysql, Dialect::Sqlite];

/// Default bound-parameter budget for inserts (PostgreSQL's limit).
const DEFAULT_MAX_PARAMS: usize = 65535;

/// Capabilities with every optional feature on, so the validator only reports
/// problems of the request itself (dialect limits show up as lowering errors).
fn all_capabilities(d: Dialect) -> Capabilities {
    let mut caps = Capabilities::all(d.name());
    caps.max_parameters = DEFAULT_MAX_PARAMS;
    caps
}

/// The rows a count stops at: `count=estimated` counts one row past the
/// read's row budget (`baas_core::read::find`).
fn estimate_cap(q: &baas_core::ir::Query) -> Option<u64> {
    (q.count == baas_core::ir::Count::Estimated)
        .then_some(q.max_rows?.checked_add(1))
        .flatten()
}

/// Lower a checked request (what the adapter is given).
fn lower(
    d: Dialect,
    target: Target<'_>,
    req: &CheckedRequest<'_>,
) -> baas_core::Result<Vec<Statement>> {
    Ok(match req {
        CheckedRequest::Select(q) => vec![baas_sql::select(d, target, q)?.statement],
        CheckedRequest::Count(q) => {
            vec![baas_sql::count(d, target, q.filter.as_ref(), estimate_cap(q))?.statement]
        }
        CheckedRequest::Insert(i, max_params) => baas_sql::insert(
            d,
            target,
            i,
            i.typed_rows(),
            max_params.unwrap_or(DEFAULT_MAX_PARAMS),
        )?
        .0
        .into_iter()
        .map(|b| b.statement)
        .collect(),
        CheckedRequest::Update(u) => vec![baas_sql::update(d, target, u, u.typed_set())?.0],
        CheckedRequest::Delete(del) => vec![baas_sql::delete(d, target, del)?.0],
        CheckedRequest::Aggregate(a) => vec![baas_sql::aggregate(d, target, a)?.statement],
    })
}

fn render_statement(out: &mut String, st: &Statement) {
    out.push_str("-- sql\n");
    out.push_str(&st.sql);
    out.push('\n');
    if st.params.is_empty() {
        out.push_str("-- params: none\n");
    } else {
        out.push_str("-- params\n");
        for (i, p) in st.params.iter().enumerate() {
            let _ = writeln!(out, "{}: {p:?}", i + 1);
        }
    }
}

/// The snapshot text of one case on one dialect.
fn render(d: Dialect, schema: &SchemaMetadata, req: &Request) -> String {
    let mut out = String::new();
    let target = match Target::new(schema, req.entity()) {
        Ok(t) => t,
        Err(e) => return format!("-- error (target)\n{e}\n"),
    };
    let caps = all_capabilities(d);
    let limits = Limits::default();
    // Adapters only ever lower checked requests: a rejected one stops here.
    let checked = match req.check(&Validator::new(target, &caps, &limits)) {
        Ok(c) => c,
        Err(e) => {
            let _ = writeln!(
                out,
                "-- validator (all capabilities) rejects this request\n{e}"
            );
            return out;
        }
    };
    match lower(d, target, &checked) {
        Err(e) => {
            let _ = writeln!(out, "-- error ({})\n{e}", e.code());
        }
        Ok(stmts) if stmts.len() == 1 => render_statement(&mut out, &stmts[0]),
        Ok(stmts) => {
            for (i, st) in stmts.iter().enumerate() {
                let _ = writeln!(out, "-- statement {}/{}", i + 1, stmts.len());
                render_statement(&mut out, st);
            }
        }
    }
    out
}

#[test]
fn generated_sql_matches_snapshots() {
    let cases = cases_dir();
    let schema = load_schema(&cases);
    let dirs = case_dirs(&cases);
    assert!(
        !dirs.is_empty(),
        "no case folders under {}",
        cases.display()
    );

    let mut broken = Vec::new();
    let mut failed = Vec::new();
    let mut expected = BTreeSet::new();
    for (behaviour, dir) in &dirs {
        let req = match load_case(dir) {
            Ok(r) => r,
            Err(e) => {
                broken.push(format!("{behaviour}: {e}"));
                continue;
            }
        };
        for d in DIALECTS {
            let name = format!("{behaviour}__{}", d.name());
            let text = render(d, &schema, &req);
            let mut settings = insta::Settings::clone_current();
            settings.set_input_file(dir.join("request.json"));
            settings.set_description(format!("{behaviour} on {}", d.name()));
            settings.set_omit_expression(true);
            let outcome = catch_unwind(AssertUnwindSafe(|| {
                settings.bind(|| insta::assert_snapshot!(name.clone(), text));
            }));
            if outcome.is_err() {
                failed.push(name.clone());
            }
            expected.insert(format!("snapshots_sql__{name}.snap"));
        }
    }

    // Snapshots of cases that no longer exist.
    let snap_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/snapshots");
    let orphans = orphan_snapshots(&snap_dir, "snapshots_sql__", &expected);

    let mut problems = String::new();
    if !broken.is_empty() {
        let _ = writeln!(problems, "broken case folders:\n  {}", broken.join("\n  "));
    }
    if !failed.is_empty() {
        let _ = writeln!(problems, "snapshot mismatches:\n  {}", failed.join("\n  "));
    }
    if !orphans.is_empty() {
        let _ = writeln!(
            problems,
            "snapshots without a case (delete them):\n  {}",
            orphans.join("\n  ")
        );
    }
    assert!(problems.is_empty(), "{problems}");
}
