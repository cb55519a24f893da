//! Request headers of the dialect: `Prefer`, `Range` / `Range-Unit`, `Accept`.

use baas_core::ir::{Count, OnConflict};

use crate::RestError;
use crate::http::{header, headers_all};

/// What a write returns (`Prefer: return=…`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ReturnMode {
    /// Nothing (PostgREST's default).
    #[default]
    Minimal,
    /// The written rows.
    Representation,
    /// Nothing but headers (`Location` for a one-row insert).
    HeadersOnly,
}

/// The parsed `Prefer` header(s).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Prefer {
    /// `return=minimal|representation|headers-only`.
    pub return_mode: Option<ReturnMode>,
    /// `count=exact|planned|estimated` (planned maps to estimated).
    pub count: Option<Count>,
    /// `resolution=merge-duplicates|ignore-duplicates`.
    pub resolution: Option<OnConflict>,
    /// `missing=default` (accepted; missing keys always take the database default).
    pub missing_default: bool,
    /// `handling=strict`: unknown or unsupported preferences are errors.
    pub strict: bool,
    /// The preferences that were understood, for `Preference-Applied`.
    pub applied: Vec<String>,
}

/// Parse every `Prefer` header. Unknown tokens are ignored (as PostgREST
/// does) unless `handling=strict` is among them. `tx=…`, `timezone=…` and
/// `max-affected=…` are ignored too.
pub fn parse_prefer(headers: &[(String, String)]) -> Result<Prefer, RestError> {
    let mut p = Prefer::default();
    let mut unknown = Vec::new();
    for value in headers_all(headers, "prefer") {
        for token in value.split([',', ';']) {
            let token = token.trim();
            if token.is_empty() {
                continue;
            }
            let (k, v) = token.split_once('=').unwrap_or((token, ""));
            let (k, v) = (k.trim(), v.trim().trim_matches('"'));
            let apply = |p: &mut Prefer| p.applied.push(format!("{k}={v}"));
            match (k, v) {
                ("return", "minimal") => {
                    p.return_mode = Some(ReturnMode::Minimal);
                    apply(&mut p);
                }
                ("return", "representation") => {
                    p.return_mode = Some(ReturnMode::Representation);
                    apply(&mut p);
                }
                ("return", "headers-only") => {
                    p.return_mode = Some(ReturnMode::HeadersOnly);
                    apply(&mut p);
                }
                ("count", "exact") => {
                    p.count = Some(Count::Exact);
                    apply(&mut p);
                }
                ("count", "planned" | "estimated") => {
                    p.count = Some(Count::Estimated);
                    apply(&mut p);
                }
                ("resolution", "merge-duplicates") => {
                    p.resolution = Some(OnConflict::Merge);
                    apply(&mut p);
                }
                ("resolution", "ignore-duplicates") => {
                    p.resolution = Some(OnConflict::Ignore);
                    apply(&mut p);
                }
                ("missing", "default") => {
                    p.missing_default = true;
                    apply(&mut p);
                }
                ("handling", "strict") => {
                    p.strict = true;
                    apply(&mut p);
                }
                ("handling", "lenient") => {
                    p.strict = false;
                    apply(&mut p);
                }
                _ => unknown.push(token.to_string()),
            }
        }
    }
    if p.strict && !unknown.is_empty() {
        return Err(RestError::bad_request(format!(
            "invalid or unsupported preferences: {}",
            unknown.join(", ")
        ))
        .with_hint("remove handling=strict to ignore them"));
    }
    Ok(p)
}

/// A requested range of rows: first row and, when bounded, last row (inclusive).
pub type RowRange = (u64, Option<u64>);

/// Parse `Range: first-last` (or `first-`, optionally `items=first-last`)
/// with `Range-Unit: items` (other units, and malformed ranges, are
/// ignored as PostgREST does). A last row before the first is a 416.
pub fn parse_range(headers: &[(String, String)]) -> Result<Option<RowRange>, RestError> {
    if let Some(unit) = header(headers, "range-unit")
        && !unit.trim().eq_ignore_ascii_case("items")
    {
        return Ok(None);
    }
    let Some(raw) = header(headers, "range") else {
        return Ok(None);
    };
    let raw = raw.trim();
    let raw = raw.strip_prefix("items=").unwrap_or(raw);
    let Some((a, b)) = raw.split_once('-') else {
        return Ok(None);
    };
    let Ok(first) = a.trim().parse::<u64>() else {
        return Ok(None);
    };
    let b = b.trim();
    if b.is_empty() {
        return Ok(Some((first, None)));
    }
    let Ok(last) = b.parse::<u64>() else {
        return Ok(None);
    };
    if last < first {
        return Err(RestError::new(
            416,
            "range_not_satisfiable",
            format!("the range {first}-{last} ends before it starts"),
        ));
    }
    Ok(Some((first, Some(last))))
}

/// Media type of the singular object response.
pub const OBJECT_MEDIA_TYPE: &str = "application/vnd.pgrst.object+json";

/// Whether `Accept` asks for a single object (`application/vnd.pgrst.object+json`)
/// rather than an array; 406 when it accepts nothing we produce.
pub fn parse_accept(headers: &[(String, String)]) -> Result<bool, RestError> {
    let Some(raw) = header(headers, "accept") else {
        return Ok(false);
    };
    if raw.trim().is_empty() {
        return Ok(false);
    }
    for part in raw.split(',') {
        let media = part
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        match media.as_str() {
            "application/vnd.pgrst.object+json" | "application/vnd.pgrst.object" => {
                return Ok(true);
            }
            "application/json" | "application/*" | "*/*" | "application/vnd.pgrst.array+json" => {
                return Ok(false);
            }
            _ => {}
        }
    }
    Err(RestError::not_acceptable(format!(
        "none of the accepted media types (`{raw}`) can be produced"
    ))
    .with_hint("accept application/json or application/vnd.pgrst.object+json"))
}
