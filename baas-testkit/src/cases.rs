//! The request-case files shared by the snapshot tests of every lowering
//! (`baas-testkit/cases/<behaviour>/request.json`, resolved against
//! `baas-testkit/cases/schema.json`): reading them once, here, keeps the
//! SQL and BSON snapshots on exactly the same requests.
//!
//! A case file:
//!
//! ```json
//! { "kind": "select" | "count" | "insert" | "update" | "delete" | "aggregate",
//!   "request": <the IR value>,
//!   "max_params": 65535 }
//! ```
//!
//! (`max_params` is optional and only applies to inserts.)

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use baas_core::Checked;
use baas_core::ir::{Aggregate, Delete, Insert, Query, Update};
use baas_core::metadata::SchemaMetadata;
use baas_core::validate::Validator;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Kind {
    Select,
    Count,
    Insert,
    Update,
    Delete,
    Aggregate,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CaseFile {
    kind: Kind,
    request: serde_json::Value,
    #[serde(default)]
    max_params: Option<usize>,
}

/// One parsed case.
#[derive(Debug, Clone, PartialEq)]
pub enum Request {
    /// `find`.
    Select(Query),
    /// `count` with the query's filter.
    Count(Query),
    /// An insert, with the case's bound-parameter budget if it sets one.
    Insert(Insert, Option<usize>),
    /// An update.
    Update(Update),
    /// A delete.
    Delete(Delete),
    /// An aggregate.
    Aggregate(Aggregate),
}

impl Request {
    /// The entity addressed.
    pub fn entity(&self) -> &str {
        match self {
            Self::Select(q) | Self::Count(q) => &q.entity,
            Self::Insert(i, _) => &i.entity,
            Self::Update(u) => &u.entity,
            Self::Delete(d) => &d.entity,
            Self::Aggregate(a) => &a.entity,
        }
    }

    /// Check the request with `v`: what an adapter receives.
    pub fn check<'a>(&self, v: &Validator<'a>) -> baas_core::Result<CheckedRequest<'a>> {
        Ok(match self {
            Self::Select(q) => CheckedRequest::Select(v.query(q.clone())?),
            Self::Count(q) => CheckedRequest::Count(v.query(q.clone())?),
            Self::Insert(i, max) => CheckedRequest::Insert(v.insert(i.clone())?, *max),
            Self::Update(u) => CheckedRequest::Update(v.update(u.clone())?),
            Self::Delete(d) => CheckedRequest::Delete(v.delete(d.clone())?),
            Self::Aggregate(a) => CheckedRequest::Aggregate(v.aggregate(a.clone())?),
        })
    }
}

/// A case checked by the validator (values converted into their fields'
/// types): what the lowerings are given.
#[derive(Debug)]
pub enum CheckedRequest<'a> {
    /// `find`.
    Select(Checked<'a, Query>),
    /// `count` with the query's filter.
    Count(Checked<'a, Query>),
    /// An insert, with the case's bound-parameter budget if it sets one.
    Insert(Checked<'a, Insert>, Option<usize>),
    /// An update.
    Update(Checked<'a, Update>),
    /// A delete.
    Delete(Checked<'a, Delete>),
    /// An aggregate.
    Aggregate(Checked<'a, Aggregate>),
}

/// The shared case folder, `baas-testkit/cases`.
pub fn cases_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("cases")
}

/// `schema.json` of the case folder, parsed and checked (panics otherwise).
pub fn load_schema(cases: &Path) -> SchemaMetadata {
    let path = cases.join("schema.json");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let schema: SchemaMetadata = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("{} does not parse: {e}", path.display()));
    schema
        .check()
        .unwrap_or_else(|e| panic!("{} is inconsistent: {e}", path.display()));
    schema
}

/// Every case folder, `(behaviour, path)`, sorted by name.
pub fn case_dirs(cases: &Path) -> Vec<(String, PathBuf)> {
    let mut out: Vec<(String, PathBuf)> = std::fs::read_dir(cases)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", cases.display()))
        .map(|entry| entry.expect("readable directory entry").path())
        .filter(|p| p.is_dir())
        .map(|p| {
            let name = p
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or_else(|| panic!("non UTF-8 case folder {}", p.display()))
                .to_string();
            (name, p)
        })
        .collect();
    out.sort();
    out
}

fn parse<T: serde::de::DeserializeOwned>(v: serde_json::Value) -> Result<T, String> {
    serde_json::from_value(v).map_err(|e| format!("`request` does not parse: {e}"))
}

/// Read `request.json` of one case folder.
pub fn load_case(dir: &Path) -> Result<Request, String> {
    let path = dir.join("request.json");
    let text =
        std::fs::read_to_string(&path).map_err(|e| format!("cannot read request.json: {e}"))?;
    let case: CaseFile =
        serde_json::from_str(&text).map_err(|e| format!("request.json does not parse: {e}"))?;
    if case.max_params.is_some() && !matches!(case.kind, Kind::Insert) {
        return Err("`max_params` only applies to inserts".into());
    }
    Ok(match case.kind {
        Kind::Select => Request::Select(parse(case.request)?),
        Kind::Count => Request::Count(parse(case.request)?),
        Kind::Insert => Request::Insert(parse(case.request)?, case.max_params),
        Kind::Update => Request::Update(parse(case.request)?),
        Kind::Delete => Request::Delete(parse(case.request)?),
        Kind::Aggregate => Request::Aggregate(parse(case.request)?),
    })
}

/// Snapshot files in `snap_dir` named `{prefix}*.snap` that are not in
/// `expected`: snapshots of cases that no longer exist.
pub fn orphan_snapshots(snap_dir: &Path, prefix: &str, expected: &BTreeSet<String>) -> Vec<String> {
    std::fs::read_dir(snap_dir)
        .map(|rd| {
            rd.filter_map(|e| e.ok()?.file_name().into_string().ok())
                .filter(|n| n.starts_with(prefix) && n.ends_with(".snap"))
                .filter(|n| !expected.contains(n))
                .collect()
        })
        .unwrap_or_default()
}
