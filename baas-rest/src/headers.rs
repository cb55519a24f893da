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
    /// `count=exact|planned|estimated`.
    pub count: Option<Count>,
    /// `resolution=merge-duplicates|ignore-duplicates`.
    pub resolution: Option<OnConflict>,
    /// `missing=default`: a field `columns=` lists that a row lacks takes
    /// its default (without: `null`, as PostgREST); a key missing without
    /// `columns=` always takes its default.
    pub missing_default: bool,
    /// `handling=strict`: unknown or unsupported preferences are errors.
    pub strict: bool,
    /// `tx=rollback`: run the write, answer as usual, then roll it back
    /// (`tx=commit`, the default, sets it back to `false`).
    pub rollback: bool,
    /// `max-affected=n`, with `handling=strict` (ignored otherwise, as in
    /// PostgREST): a `PATCH`/`DELETE` that would touch more than `n` rows
    /// is refused (400 `PGRST124`) and writes nothing.
    pub max_affected: Option<u64>,
    /// `params=single-object`: a function call passes the whole JSON body
    /// as its one parameter.
    pub single_object: bool,
    /// `timezone=…`: the zone the caller reads and writes instants in
    /// (`None`: UTC, also for `timezone=UTC`).
    pub timezone: Option<baas_core::zone::Zone>,
    /// The preferences that were understood, for `Preference-Applied`.
    pub applied: Vec<String>,
}

/// Parse every `Prefer` header. Unknown tokens are ignored (as PostgREST
/// does) unless `handling=strict` is among them. `tx=rollback` /
/// `tx=commit` are honoured on writes; `max-affected=n` only with
/// `handling=strict` (as PostgREST); `timezone=…` takes the names of
/// PostgreSQL's `pg_timezone_names` ([`Zone::parse`](baas_core::zone::Zone::parse)),
/// another is unknown (ignored, or refused under `handling=strict`).
pub fn parse_prefer(headers: &[(String, String)]) -> Result<Prefer, RestError> {
    let mut p = Prefer::default();
    let mut unknown = Vec::new();
    let mut max_affected = None;
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
                ("params", "single-object") => {
                    p.single_object = true;
                    apply(&mut p);
                }
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
                ("count", "planned") => {
                    p.count = Some(Count::Planned);
                    apply(&mut p);
                }
                ("count", "estimated") => {
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
                ("tx", "rollback") => {
                    p.rollback = true;
                    apply(&mut p);
                }
                ("tx", "commit") => {
                    p.rollback = false;
                    apply(&mut p);
                }
                ("timezone", name) => match baas_core::zone::Zone::parse(name) {
                    Some(zone) => {
                        p.timezone = Some(zone).filter(|z| !z.is_utc());
                        apply(&mut p);
                    }
                    None => unknown.push(token.to_string()),
                },
                ("max-affected", n) if n.parse::<u64>().is_ok() => {
                    max_affected = n.parse::<u64>().ok();
                }
                _ => unknown.push(token.to_string()),
            }
        }
    }
    if p.strict
        && let Some(n) = max_affected
    {
        p.max_affected = Some(n);
        p.applied.push(format!("max-affected={n}"));
    }
    if p.strict && !unknown.is_empty() {
        return Err(RestError::new(
            400,
            crate::error::codes::INVALID_PREFERENCES,
            "Invalid preferences given with handling=strict",
        )
        .with_details(format!("Invalid preferences: {}", unknown.join(", ")))
        .with_hint("remove handling=strict to ignore them"));
    }
    Ok(p)
}

/// A requested range of rows: first row and, when bounded, last row (inclusive).
pub type RowRange = (u64, Option<u64>);

/// Parse `Range: first-last` (or `first-`, optionally `items=first-last`)
/// with `Range-Unit: items`.
///
/// - a `Range-Unit` other than `items` is a 400 (it is never ignored);
/// - a `Range` that is not `first-last` / `first-` of non-negative integers
///   (`bytes=0-9`, `-5`, `a-b`, several ranges) is a 416, as is a last row
///   before the first.
pub fn parse_range(headers: &[(String, String)]) -> Result<Option<RowRange>, RestError> {
    if let Some(unit) = header(headers, "range-unit")
        && !unit.trim().eq_ignore_ascii_case("items")
    {
        return Err(RestError::bad_request(format!(
            "`Range-Unit: {}` is not supported",
            crate::lex::clip(unit.trim(), 60)
        ))
        .with_hint("the only range unit is `items`"));
    }
    let Some(raw) = header(headers, "range") else {
        return Ok(None);
    };
    let malformed = || {
        RestError::new(
            416,
            crate::error::codes::RANGE,
            format!(
                "the range `{}` is malformed",
                crate::lex::clip(raw.trim(), 60)
            ),
        )
        .with_hint("send `Range: first-last` or `Range: first-` (rows, counted from 0)")
    };
    let raw = raw.trim();
    let raw = match raw.get(..6) {
        Some(p) if p.eq_ignore_ascii_case("items=") => raw.get(6..).unwrap_or(""),
        _ => raw,
    };
    let number = |t: &str| -> Option<u64> {
        let t = t.trim();
        if t.is_empty() || !t.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        t.parse().ok()
    };
    let (a, b) = raw.split_once('-').ok_or_else(malformed)?;
    let first = number(a).ok_or_else(malformed)?;
    if b.trim().is_empty() {
        return Ok(Some((first, None)));
    }
    let last = number(b).ok_or_else(malformed)?;
    if last < first {
        return Err(RestError::new(
            416,
            crate::error::codes::RANGE,
            format!("the range {first}-{last} ends before it starts"),
        ));
    }
    Ok(Some((first, Some(last))))
}

/// Media type of the singular object response.
pub const OBJECT_MEDIA_TYPE: &str = "application/vnd.pgrst.object+json";

/// The representation a response is asked for (`Accept`), as PostgREST
/// negotiates it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Media {
    /// `application/json`, `application/vnd.pgrst.array+json`, `*/*`,
    /// `application/*` or no `Accept`: a JSON array.
    #[default]
    Json,
    /// `application/vnd.pgrst.array+json;nulls=stripped`: a JSON array whose
    /// objects omit null-valued keys, at every depth (PostgreSQL's
    /// `json_strip_nulls`, which PostgREST applies: embeds and JSON values
    /// included; null array elements stay).
    JsonStripped,
    /// `application/vnd.pgrst.object+json` (optionally `;nulls=stripped`):
    /// exactly one object.
    Object {
        /// `nulls=stripped`.
        strip_nulls: bool,
    },
    /// `text/csv`: a header line of the keys, one line per row.
    Csv,
    /// `application/geo+json`: a GeoJSON `FeatureCollection`, one
    /// `Feature` per row — its geometry the row's first selected PostGIS
    /// geometry field, its `properties` the other keys (PostgREST's
    /// `ST_AsGeoJSON(row)`). Reads of an entity with a geometry field only
    /// (the parser answers 406 elsewhere).
    GeoJson,
    /// `application/vnd.pgrst.plan` (`+json`, `+text`): the engine's
    /// execution plan of a read instead of its rows (PostgreSQL: JSON and
    /// text, MySQL: JSON; the service role only); elsewhere a 406 naming
    /// the engine.
    Plan {
        /// `+text` (and the bare `application/vnd.pgrst.plan`).
        text: bool,
        /// The media type of the rows the plan is for (`for="text/csv"`;
        /// `application/json` without it): one we produce, named again in
        /// the answer's `Content-Type`. The statement planned is the same
        /// for each.
        of: &'static str,
        /// `options=analyze|verbose|settings|buffers|wal` (unknown names
        /// are ignored, as PostgREST ignores them).
        options: baas_core::PlanOptions,
    },
}

impl Media {
    /// Whether the response must be one object.
    pub fn is_singular(self) -> bool {
        matches!(self, Self::Object { .. })
    }

    /// Whether null-valued keys are left out (`nulls=stripped`).
    pub fn strips_nulls(self) -> bool {
        matches!(
            self,
            Self::JsonStripped | Self::Object { strip_nulls: true }
        )
    }

    /// The media type, without parameters other than `nulls=stripped`, as
    /// PostgREST names it (in a plan's `for="…"`).
    fn mime(self) -> &'static str {
        match self {
            Self::Json => "application/json",
            Self::JsonStripped => "application/vnd.pgrst.array+json;nulls=stripped",
            Self::Object { strip_nulls: false } => OBJECT_MEDIA_TYPE,
            Self::Object { strip_nulls: true } => {
                "application/vnd.pgrst.object+json;nulls=stripped"
            }
            Self::Csv => "text/csv",
            Self::GeoJson => "application/geo+json",
            Self::Plan { text: false, .. } => "application/vnd.pgrst.plan+json",
            Self::Plan { text: true, .. } => "application/vnd.pgrst.plan+text",
        }
    }

    /// The `Content-Type` of a response in this representation (a plan's
    /// names what it is for and its options, as PostgREST's does).
    pub fn content_type(self) -> std::borrow::Cow<'static, str> {
        use std::borrow::Cow;
        Cow::Borrowed(match self {
            Self::Json => "application/json; charset=utf-8",
            Self::Plan { of, options, .. } => {
                let options = options.names().collect::<Vec<_>>();
                let options = if options.is_empty() {
                    String::new()
                } else {
                    format!("; options={}", options.join("|"))
                };
                return Cow::Owned(format!(
                    "{}; for=\"{of}\"{options}; charset=utf-8",
                    self.mime()
                ));
            }
            Self::JsonStripped => "application/vnd.pgrst.array+json;nulls=stripped; charset=utf-8",
            Self::Object { strip_nulls: false } => {
                "application/vnd.pgrst.object+json; charset=utf-8"
            }
            Self::Object { strip_nulls: true } => {
                "application/vnd.pgrst.object+json;nulls=stripped; charset=utf-8"
            }
            Self::Csv => "text/csv; charset=utf-8",
            Self::GeoJson => "application/geo+json; charset=utf-8",
        })
    }
}

/// The most media ranges of one `Accept` header considered (the rest are
/// ignored): a bound on the work a header can ask for.
const MAX_ACCEPT_RANGES: usize = 32;

/// A media range's parts between `;`, a `;` inside a quoted value
/// (`for="application/vnd.pgrst.object+json;nulls=stripped"`) kept in it.
fn parameters(range: &str) -> impl Iterator<Item = &str> {
    let mut quoted = false;
    range.split(move |c| {
        if c == '"' {
            quoted = !quoted;
        }
        c == ';' && !quoted
    })
}

/// One media range of `Accept`: what it asks for, or `None` when we do
/// not produce it.
fn media_of(range: &str) -> Option<Media> {
    let media = range
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    let param = |name: &str| {
        parameters(range).skip(1).find_map(|p| {
            p.split_once('=')
                .filter(|(k, _)| k.trim().eq_ignore_ascii_case(name))
                .map(|(_, v)| v.trim())
        })
    };
    let stripped = param("nulls").is_some_and(|v| v.eq_ignore_ascii_case("stripped"));
    // A plan's: the rows' media type it is for (not itself a plan), and
    // its options.
    let plan = |text: bool| {
        let of = match param("for") {
            None => Media::Json,
            Some(v) => match media_of(v.trim_matches('"')) {
                Some(Media::Plan { .. }) | None => return None,
                Some(m) => m,
            },
        };
        let mut options = baas_core::PlanOptions::default();
        for name in param("options").unwrap_or("").trim_matches('"').split('|') {
            match name.trim().to_ascii_lowercase().as_str() {
                "analyze" => options.analyze = true,
                "verbose" => options.verbose = true,
                "settings" => options.settings = true,
                "buffers" => options.buffers = true,
                "wal" => options.wal = true,
                _ => {}
            }
        }
        Some(Media::Plan {
            text,
            of: of.mime(),
            options,
        })
    };
    Some(match media.as_str() {
        "application/json" | "application/*" | "*/*" => Media::Json,
        "application/vnd.pgrst.array+json" | "application/vnd.pgrst.array" => {
            if stripped {
                Media::JsonStripped
            } else {
                Media::Json
            }
        }
        "application/vnd.pgrst.object+json" | "application/vnd.pgrst.object" => Media::Object {
            strip_nulls: stripped,
        },
        "text/csv" => Media::Csv,
        "application/geo+json" => Media::GeoJson,
        "application/vnd.pgrst.plan+json" => return plan(false),
        "application/vnd.pgrst.plan" | "application/vnd.pgrst.plan+text" => return plan(true),
        _ => return None,
    })
}

/// The `q` weight of a media range (1 when absent or malformed).
fn quality(range: &str) -> f32 {
    range
        .split(';')
        .skip(1)
        .filter_map(|p| p.split_once('='))
        .find(|(k, _)| k.trim().eq_ignore_ascii_case("q"))
        .and_then(|(_, v)| v.trim().parse::<f32>().ok())
        .filter(|q| (0.0..=1.0).contains(q))
        .unwrap_or(1.0)
}

/// Negotiate the response's representation from `Accept`: the acceptable
/// range with the highest `q` (the first among equals) that we produce;
/// ranges with `q=0` are refused ones. None we produce is a 406
/// `PGRST107`, as in PostgREST.
pub fn parse_media(headers: &[(String, String)]) -> Result<Media, RestError> {
    let Some(raw) = header(headers, "accept") else {
        return Ok(Media::Json);
    };
    if raw.trim().is_empty() {
        return Ok(Media::Json);
    }
    let mut best: Option<(f32, Media)> = None;
    for range in raw.split(',').take(MAX_ACCEPT_RANGES) {
        let q = quality(range);
        if q <= 0.0 {
            continue;
        }
        if let Some(m) = media_of(range)
            && best.is_none_or(|(bq, _)| q > bq)
        {
            best = Some((q, m));
        }
    }
    best.map(|(_, m)| m).ok_or_else(|| {
        RestError::new(
            406,
            crate::error::codes::MEDIA_TYPE,
            format!(
                "None of these media types are available: {}",
                crate::lex::clip(raw.trim(), 200)
            ),
        )
        .with_hint(
            "accept application/json, application/vnd.pgrst.object+json, \
             application/vnd.pgrst.array+json;nulls=stripped or text/csv",
        )
    })
}

/// Whether `Accept` asks for a single object (`application/vnd.pgrst.object+json`)
/// rather than an array; 406 when it accepts nothing we produce
/// ([`parse_media`] tells the whole representation).
pub fn parse_accept(headers: &[(String, String)]) -> Result<bool, RestError> {
    parse_media(headers).map(Media::is_singular)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn media(accept: &str) -> Result<Media, RestError> {
        parse_media(&[("accept".to_string(), accept.to_string())])
    }

    #[test]
    fn plans_as_postgrest_js_asks_for_them() {
        // postgrest-js's `explain({ analyze: true, verbose: true })`.
        let m = media(
            "application/vnd.pgrst.plan+text; for=\"application/vnd.pgrst.object+json\"; options=analyze|verbose;",
        )
        .unwrap();
        let Media::Plan { text, of, options } = m else {
            panic!("{m:?}")
        };
        assert!(text);
        assert_eq!(of, OBJECT_MEDIA_TYPE);
        assert!(options.analyze && options.verbose);
        assert!(!(options.settings || options.buffers || options.wal));
        assert_eq!(
            m.content_type(),
            "application/vnd.pgrst.plan+text; for=\"application/vnd.pgrst.object+json\"; options=analyze|verbose; charset=utf-8"
        );
        // No `for`: JSON rows; no options, none named; unknown ones ignored
        // (as PostgREST ignores them).
        let m = media("application/vnd.pgrst.plan+json; options=nope|wal").unwrap();
        assert_eq!(
            m.content_type(),
            "application/vnd.pgrst.plan+json; for=\"application/json\"; options=wal; charset=utf-8"
        );
        // A quoted `;` stays in its value; quoted options are read too.
        let m = media(
            "application/vnd.pgrst.plan+json; for=\"application/vnd.pgrst.object+json;nulls=stripped\"; options=\"analyze\"",
        )
        .unwrap();
        assert_eq!(
            m.content_type(),
            "application/vnd.pgrst.plan+json; for=\"application/vnd.pgrst.object+json;nulls=stripped\"; options=analyze; charset=utf-8"
        );
        let m = media("application/vnd.pgrst.plan").unwrap();
        assert_eq!(
            m.content_type(),
            "application/vnd.pgrst.plan+text; for=\"application/json\"; charset=utf-8"
        );
        // Rows in a type we do not produce, or a plan of a plan: 406.
        for accept in [
            "application/vnd.pgrst.plan+json; for=\"text/xml\"",
            "application/vnd.pgrst.plan+json; for=\"application/vnd.pgrst.plan+json\"",
        ] {
            assert_eq!(media(accept).map_err(|e| e.status), Err(406), "{accept}");
        }
    }
}
