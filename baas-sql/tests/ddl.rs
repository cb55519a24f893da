//! Snapshot tests of managed-mode DDL (`baas_sql::ddl`).
//!
//! Each `tests/ddl_cases/<behaviour>.json` holds one [`SchemaChange`]; it is
//! lowered for every dialect and the statements (or the error), followed by
//! the statements that revert it, are snapshotted as
//! `snapshots/ddl__<behaviour>__<dialect>.snap`.
//!
//! Regenerate with `INSTA_UPDATE=always cargo test -p baas-sql --test ddl`
//! and review the diff.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

use baas_core::SchemaChange;
use baas_sql::Dialect;
use baas_sql::ddl::{revert, schema_change};

const DIALECTS: [Dialect; 3] = [Dialect::Postgres, Dialect::Mysql, Dialect::Sqlite];

fn cases_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/ddl_cases")
}

fn render(d: Dialect, change: &SchemaChange) -> String {
    let mut out = String::new();
    match schema_change(d, change) {
        Err(e) => {
            let _ = writeln!(out, "-- error ({})\n{e}", e.code());
        }
        Ok(stmts) => {
            for st in &stmts {
                assert!(st.params.is_empty(), "DDL binds no parameters");
                let _ = writeln!(out, "{};", st.sql);
            }
            let _ = writeln!(out, "-- revert");
            match revert(d, change) {
                Ok(stmts) => {
                    for st in stmts {
                        let _ = writeln!(out, "{};", st.sql);
                    }
                }
                Err(e) => {
                    let _ = writeln!(out, "-- error ({})\n{e}", e.code());
                }
            }
        }
    }
    out
}

#[test]
fn ddl_matches_snapshots() {
    let mut cases: Vec<PathBuf> = std::fs::read_dir(cases_dir())
        .expect("tests/ddl_cases")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    cases.sort();
    assert!(!cases.is_empty(), "no DDL cases");
    let mut failed = Vec::new();
    let mut expected = BTreeSet::new();
    for path in &cases {
        let behaviour = path
            .file_stem()
            .and_then(|s| s.to_str())
            .expect("UTF-8 case name")
            .to_string();
        let text = std::fs::read_to_string(path).expect("readable case");
        let change: SchemaChange = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("{} does not parse: {e}", path.display()));
        for d in DIALECTS {
            let name = format!("{behaviour}__{}", d.name());
            let text = render(d, &change);
            let mut settings = insta::Settings::clone_current();
            settings.set_input_file(path);
            settings.set_description(format!("{behaviour} on {}", d.name()));
            settings.set_omit_expression(true);
            let outcome = catch_unwind(AssertUnwindSafe(|| {
                settings.bind(|| insta::assert_snapshot!(name.clone(), text));
            }));
            if outcome.is_err() {
                failed.push(name.clone());
            }
            expected.insert(format!("ddl__{name}.snap"));
        }
    }
    let snap_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/snapshots");
    let orphans: Vec<String> = std::fs::read_dir(&snap_dir)
        .map(|rd| {
            rd.filter_map(|e| e.ok()?.file_name().into_string().ok())
                .filter(|n| n.starts_with("ddl__") && n.ends_with(".snap"))
                .filter(|n| !expected.contains(n))
                .collect()
        })
        .unwrap_or_default();
    assert!(
        failed.is_empty() && orphans.is_empty(),
        "snapshot mismatches: {failed:?}; snapshots without a case: {orphans:?}"
    );
}
