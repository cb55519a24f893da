//! Writes: method, query string, headers and JSON body → an IR mutation.

use baas_core::ir::{CompareOp, Delete, Filter, Insert, OnConflict, Record, Update, Upsert};
use baas_core::{Entity, FieldType, SchemaMetadata, Value};

use crate::filter::typed;
use crate::headers::{Media, Prefer, ReturnMode, parse_media, parse_prefer};
use crate::http::header;
use crate::params::{Params, parse_params};
use crate::read::{and_filters, key_filter};
use crate::{ParseLimits, RestError};

/// An IR mutation: the engine's [`WriteOp`](baas_engine::WriteOp) —
/// `Insert` for `POST` (and `PUT /{entity}/{id}` as a one-row merge upsert),
/// `Update` for `PATCH`, `Delete` for `DELETE`.
pub use baas_engine::WriteOp as Write;

/// A parsed write.
#[derive(Debug, Clone, PartialEq)]
pub struct WriteRequest {
    /// The IR mutation (not yet validated against metadata).
    pub write: Write,
    /// What the response carries.
    pub return_mode: ReturnMode,
    /// `Accept: application/vnd.pgrst.object+json`: exactly one row must be
    /// affected. The engine should check this before committing; the
    /// response helper answers 406 otherwise.
    pub singular: bool,
    /// The representation `Accept` asked for (of the rows of
    /// `return=representation`).
    pub media: Media,
    /// Addressed by primary key (`/{entity}/{id}`): the key values.
    pub key: Option<Vec<String>>,
    /// The `Prefer` header.
    pub prefer: Prefer,
    /// Output names of renamed fields (`select=alias:col`) in the
    /// representation; `None` when nothing is renamed.
    pub aliases: Option<crate::params::FieldAliases>,
    /// The representation could refuse a value the write returns (a shape
    /// such as `select=code::int` of a text, or a database cast inside an
    /// embedding): the [`Service`](crate::Service) makes it inside the
    /// write's transaction
    /// ([`Baas::write_checked`](baas_engine::Baas::write_checked)), so a
    /// refusal writes nothing, as PostgREST's one statement fails.
    pub check: bool,
    /// `PATCH`/`DELETE` with `order` and `limit` (PostgREST's limited
    /// update/delete): only the first `limit` matching rows in that order
    /// (after `offset`) are written; the [`Service`](crate::Service) reads
    /// their keys, then narrows the write's filter to them.
    pub limited: Option<Limited>,
    /// A representation that embeds related rows (`select=*,author(*)`),
    /// or casts to a type of the database's own (`select=id::inet`, read
    /// again by key): its selection, run by
    /// [`Baas::write_representing`](baas_engine::Baas::write_representing).
    /// `None` otherwise (the write's `returning` says it all).
    pub representation: Option<baas_core::ir::Selection>,
    /// The representation's `!inner` embeddings, as (key the engine
    /// answers them under, shown): PostgREST filters a write's
    /// representation with them, not the write. Only the rows where each
    /// is present (not `null`, not an empty array) are answered
    /// ([`WriteRequest::keep_inner`]); one not shown (`rel!inner()`) is
    /// then dropped from the rows.
    pub inner: Vec<(String, bool)>,
    /// `Accept: application/geo+json`: the output key of the features'
    /// geometry in the representation (as [`ReadRequest::geometry`](crate::ReadRequest::geometry)).
    pub geometry: Option<String>,
    /// `Accept: text/csv`: how each key of the representation is written
    /// (as [`ReadRequest::csv`](crate::ReadRequest::csv)).
    pub csv: Option<crate::csv::CsvColumns>,
    /// For a merge upsert (`Prefer: resolution=merge-duplicates`, `PUT`):
    /// whether it inserts at least one row, when known (the
    /// [`Service`](crate::Service) finds out before writing). PostgREST's
    /// statuses depend on it: a merge `POST` that inserts nothing is a 200,
    /// a `PUT` with a representation that inserts is a 201. `None` (the
    /// parser's value): 201 and 200, as for a plain insert and update.
    pub inserts: Option<bool>,
}

impl WriteRequest {
    /// Keep the representation's rows where every `!inner` embedding
    /// ([`WriteRequest::inner`]) is present — not `null`, not an empty
    /// array — and drop the ones read only to filter. The rows are the
    /// engine's, before [`FieldAliases`](crate::params::FieldAliases)
    /// rename or spread them.
    pub fn keep_inner(&self, rows: &mut Vec<Record>) {
        if self.inner.is_empty() {
            return;
        }
        rows.retain(|r| {
            self.inner.iter().all(|(key, _)| match r.get(key) {
                None | Some(serde_json::Value::Null) => false,
                Some(serde_json::Value::Array(a)) => !a.is_empty(),
                Some(_) => true,
            })
        });
        for (key, shown) in &self.inner {
            if !shown {
                for r in rows.iter_mut() {
                    r.shift_remove(key);
                }
            }
        }
    }
}

/// Which rows a limited `PATCH`/`DELETE` writes ([`WriteRequest::limited`]).
#[derive(Debug, Clone, PartialEq)]
pub struct Limited {
    /// The order the rows are taken in (the primary key breaks ties).
    pub order: Vec<baas_core::ir::OrderBy>,
    /// How many rows at most.
    pub limit: u64,
    /// How many rows are skipped first.
    pub offset: Option<u64>,
}

/// What a write body is, by its `Content-Type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum BodyType {
    /// `application/json` or `application/…+json`.
    Json,
    /// `text/csv`: a header line of column names, then one row per line
    /// (PostgREST's bulk insert, [`csv_rows`]).
    Csv,
}

/// A write body must say what it is: JSON (`Content-Type:
/// application/json` or any `application/…+json` type, such as
/// `application/vnd.pgrst.object+json`) or CSV (`text/csv`), with an
/// optional `charset=utf-8`. A missing or other type is a 415, so a
/// browser form (`text/plain`, `application/x-www-form-urlencoded`,
/// `multipart/form-data`: sent cross-origin without a preflight) never
/// writes; `text/csv` is no such type (a cross-origin page must ask
/// first). An empty body without a type gets the 400 of an empty body.
fn check_content_type(ct: Option<&str>, body: &[u8]) -> Result<BodyType, RestError> {
    let unsupported = |what: String| {
        RestError::new(415, "unsupported_media_type", what)
            .with_hint("send Content-Type: application/json (or text/csv to insert rows)")
    };
    let Some(ct) = ct else {
        if body.iter().all(u8::is_ascii_whitespace) {
            return Ok(BodyType::Json);
        }
        return Err(unsupported(
            "the body has no Content-Type; it must be application/json".into(),
        ));
    };
    let mut parts = ct.split(';');
    let media = parts.next().unwrap_or("").trim().to_ascii_lowercase();
    let kind = if media == "application/json"
        || (media.starts_with("application/") && media.ends_with("+json"))
    {
        BodyType::Json
    } else if media == "text/csv" {
        BodyType::Csv
    } else {
        return Err(unsupported(format!(
            "the body must be JSON or CSV, not `{}`",
            crate::lex::clip(&media, 80)
        )));
    };
    for param in parts {
        let (k, v) = param.split_once('=').unwrap_or((param, ""));
        if k.trim().eq_ignore_ascii_case("charset")
            && !matches!(
                v.trim().trim_matches('"').to_ascii_lowercase().as_str(),
                "utf-8" | "utf8"
            )
        {
            return Err(unsupported(format!(
                "a write body is UTF-8, not `{}`",
                crate::lex::clip(v.trim(), 40)
            )));
        }
    }
    Ok(kind)
}

/// The body as JSON; a CSV body only for an insert into `csv_into`
/// (PostgREST's bulk insert), a 415 elsewhere.
fn parse_body(
    headers: &[(String, String)],
    body: &[u8],
    limits: &ParseLimits,
    csv_into: Option<&Entity>,
) -> Result<serde_json::Value, RestError> {
    if body.len() > limits.http.max_body_bytes {
        return Err(crate::body::payload_too_large(limits.http.max_body_bytes));
    }
    let kind = check_content_type(header(headers, "content-type"), body)?;
    if kind == BodyType::Csv && csv_into.is_none() {
        return Err(RestError::new(
            415,
            "unsupported_media_type",
            "a CSV body inserts rows (POST); this write takes JSON",
        )
        .with_hint("send Content-Type: application/json"));
    }
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(
            RestError::invalid_body("the request body is empty").with_hint(match kind {
                BodyType::Csv => "send a header line of column names, then one line per row",
                BodyType::Json => {
                    "send a JSON object, or an array of objects to insert several rows"
                }
            }),
        );
    }
    if let (BodyType::Csv, Some(entity)) = (kind, csv_into) {
        return csv_rows(body, entity);
    }
    // Numbers keep their text (serde_json's `arbitrary_precision`): one
    // beyond the double range (`1e309`) reaches the field's type, which
    // stores it (a wide decimal) or refuses it with its pointer.
    serde_json::from_slice(body).map_err(|e| {
        RestError::invalid_body(format!(
            "malformed JSON body at line {}, column {}",
            e.line(),
            e.column()
        ))
        .with_details(e.to_string())
    })
}

/// A CSV body as the JSON rows it inserts, as PostgREST reads one: the
/// first line names the columns, each further line is a row of as many
/// fields, each a string (the field's type converts it, as it converts a
/// form's strings), but `NULL`, which is null; an empty field is the
/// empty string. RFC 4180: fields separated by `,`, lines by LF or CRLF
/// (the last one may end without), a field in double quotes may hold
/// `,`, quotes (doubled) and line breaks. Anything else (a stray quote,
/// a row of another length, a header naming a column twice, text that is
/// not UTF-8) is a 400 `PGRST102` saying where.
fn csv_rows(body: &[u8], entity: &Entity) -> Result<serde_json::Value, RestError> {
    let text = std::str::from_utf8(body)
        .map_err(|e| RestError::invalid_body(format!("the CSV body is not UTF-8: {e}")))?;
    // A byte order mark is no part of the first column's name.
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let records = csv_records(text)?;
    let mut records = records.into_iter();
    let Some((_, header)) = records.next() else {
        return Err(RestError::invalid_body("the CSV body has no header line"));
    };
    // Each name a field, once: the rows then hold no more keys than the
    // entity has fields, whatever the header's length.
    let mut seen = std::collections::HashSet::new();
    for (i, name) in header.iter().enumerate() {
        if name.is_empty() || !seen.insert(name.as_str()) {
            return Err(RestError::invalid_body(format!(
                "column {} of the CSV header is {}",
                i + 1,
                if name.is_empty() {
                    "empty"
                } else {
                    "named twice"
                }
            ))
            .with_details(format!("`{}`", crate::lex::clip(name, 80))));
        }
        if entity.field(name).is_err() {
            return Err(baas_core::Error::Validation {
                violations: vec![baas_core::Violation::unknown_written_field(
                    format!("/0/{name}"),
                    &entity.name,
                    name,
                )],
            }
            .into());
        }
    }
    let rows = records
        .map(|(line, fields)| {
            if fields.len() != header.len() {
                return Err(RestError::invalid_body(format!(
                    "the CSV row at line {line} has {} fields, the header {}",
                    fields.len(),
                    header.len()
                )));
            }
            Ok(serde_json::Value::Object(
                header
                    .iter()
                    .zip(fields)
                    .map(|(k, v)| {
                        let v = if v == "NULL" {
                            serde_json::Value::Null
                        } else {
                            v.into()
                        };
                        (k.clone(), v)
                    })
                    .collect(),
            ))
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(serde_json::Value::Array(rows))
}

/// The records of a CSV text (RFC 4180), each with the line it starts on.
fn csv_records(text: &str) -> Result<Vec<(usize, Vec<String>)>, RestError> {
    let mut records = Vec::new();
    let mut chars = text.chars().peekable();
    let mut line = 1;
    while chars.peek().is_some() {
        let start = line;
        let mut fields = Vec::new();
        let mut quoted;
        loop {
            let mut field = String::new();
            quoted = chars.peek() == Some(&'"');
            if quoted {
                chars.next();
                loop {
                    match chars.next() {
                        None => {
                            return Err(RestError::invalid_body(format!(
                                "the quoted CSV field at line {line} has no closing quote"
                            )));
                        }
                        Some('"') if chars.peek() == Some(&'"') => {
                            chars.next();
                            field.push('"');
                        }
                        Some('"') => break,
                        Some(c) => {
                            if c == '\n' {
                                line += 1;
                            }
                            field.push(c);
                        }
                    }
                }
                if !matches!(chars.peek(), None | Some(',' | '\r' | '\n')) {
                    return Err(RestError::invalid_body(format!(
                        "text after a quoted CSV field at line {line}"
                    )));
                }
            } else {
                while let Some(&c) = chars.peek() {
                    if matches!(c, ',' | '\r' | '\n') {
                        break;
                    }
                    if c == '"' {
                        return Err(RestError::invalid_body(format!(
                            "a quote inside an unquoted CSV field at line {line}"
                        ))
                        .with_hint("quote the field and double its quotes: \"a \"\"b\"\"\""));
                    }
                    field.push(c);
                    chars.next();
                }
            }
            fields.push(field);
            match chars.next() {
                Some(',') => {}
                Some('\r') if chars.peek() == Some(&'\n') => {
                    chars.next();
                    break;
                }
                Some('\n') | None => break,
                Some(_) => {
                    return Err(RestError::invalid_body(format!(
                        "a carriage return without a line feed at line {line}"
                    )));
                }
            }
        }
        line += 1;
        // A blank line (a doubled line break at the end) is no row: an
        // empty value alone on its line is written `""`.
        if !quoted && fields.len() == 1 && fields[0].is_empty() {
            continue;
        }
        records.push((start, fields));
    }
    Ok(records)
}

fn not_object(at: &str, v: &serde_json::Value) -> RestError {
    let kind = match v {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "an array",
        serde_json::Value::Object(_) => "an object",
    };
    RestError::invalid_body(format!("the body must be a JSON object, got {kind}"))
        .with_details(format!("at `{at}`"))
}

/// Keep only the keys listed in `columns=` (after checking they are
/// fields). With `nulls` (an insert without `Prefer: missing=default`), a
/// listed field a row lacks is written `null`, as PostgREST writes it
/// (postgrest-js lists every key of a bulk insert's rows so); without,
/// it takes its default.
fn restrict(
    entity: &Entity,
    columns: Option<&Vec<String>>,
    rows: &mut [Record],
    nulls: bool,
) -> Result<(), RestError> {
    let Some(cols) = columns else { return Ok(()) };
    if let Some(bad) = cols.iter().find(|c| entity.field(c).is_err()) {
        // PostgREST's answer to a body key that is no column.
        return Err(baas_core::Error::Validation {
            violations: vec![baas_core::Violation::unknown_written_field(
                "/columns",
                &entity.name,
                bad,
            )],
        }
        .into());
    }
    for r in rows {
        r.retain(|k, _| cols.contains(k));
        if nulls {
            for c in cols {
                if !r.contains_key(c) {
                    r.insert(c.clone(), serde_json::Value::Null);
                }
            }
        }
    }
    Ok(())
}

fn returning(entity: &Entity, p: &Params<'_>, mode: ReturnMode) -> Option<Vec<String>> {
    match mode {
        ReturnMode::Minimal => None,
        ReturnMode::HeadersOnly => Some(entity.primary_key.clone()),
        ReturnMode::Representation => Some(if p.root.star {
            Vec::new()
        } else {
            p.root.fields.clone()
        }),
    }
}

/// Whether a body value equals a path key value for a field of type `ty`.
fn same_key(ty: Option<&FieldType>, body: &serde_json::Value, raw: &str) -> bool {
    if let Some(ty) = ty
        && let (Ok(a), Ok(b)) = (
            Value::from_json(body).coerce(ty),
            typed(Some(ty), raw).coerce(ty),
        )
    {
        return a == b;
    }
    match body {
        serde_json::Value::String(s) => s == raw,
        other => serde_json::to_string(other).is_ok_and(|s| s == raw),
    }
}

/// The primary key a `PUT /{entity}?filters` names: its filters must be
/// one `eq` on each key field and nothing else (PostgREST's 405
/// `PGRST105` otherwise, also for an entity without a primary key). The
/// values come back as text, as a path's would.
fn key_of_filters(entity: &Entity, filter: Option<Filter>) -> Result<Vec<String>, RestError> {
    let refused = || {
        RestError::new(
            405,
            crate::error::codes::PUT_FILTERS,
            "Filters must include all and only primary key columns with 'eq' operators",
        )
    };
    let parts = match filter {
        Some(Filter::And { filters }) => filters,
        Some(f) => vec![f],
        None => Vec::new(),
    };
    let mut key: Vec<Option<String>> = vec![None; entity.primary_key.len()];
    for f in parts {
        let Filter::Compare {
            field,
            op: CompareOp::Eq,
            value,
        } = f
        else {
            return Err(refused());
        };
        let Some(i) = entity.primary_key.iter().position(|k| *k == field) else {
            return Err(refused());
        };
        if key[i].is_some() {
            return Err(refused());
        }
        key[i] = Some(match value.to_json() {
            serde_json::Value::String(s) => s,
            other => other.to_string(),
        });
    }
    key.into_iter()
        .collect::<Option<Vec<String>>>()
        .filter(|k| !k.is_empty())
        .ok_or_else(refused)
}

fn reject_read_params(p: &Params<'_>, method: &str) -> Result<(), RestError> {
    let limited =
        matches!(method, "PATCH" | "DELETE") && (p.root.limit.is_some() || p.root.offset.is_some());
    if limited && p.root.order.is_none() {
        return Err(RestError::new(
            400,
            crate::error::codes::LIMIT_NO_ORDER,
            "A 'limit' was applied without an explicit 'order'",
        )
        .with_hint("Apply an 'order' using unique column(s)"));
    }
    // Otherwise `order`, `limit` and `offset` do not apply to the rows
    // written, and are ignored as PostgREST ignores them (`POST`; `order`
    // alone on `PATCH`/`DELETE`): see `parse_write`.
    if p.after.is_some() {
        return Err(RestError::bad_request(format!(
            "`after` does not apply to {method}"
        )));
    }
    Ok(())
}

/// Parse a write of `entity`: `POST` (insert / upsert), `PATCH` (update by
/// filter), `DELETE` (delete by filter). `PATCH` and `DELETE` need at least
/// one filter; `PUT` needs a key (see [`parse_write_by_key`]).
///
/// `order` with `limit`/`offset` on `PATCH`/`DELETE` is a limited write
/// ([`WriteRequest::limited`]); `limit` or `offset` without `order` there
/// is PostgREST's 400 `PGRST109`. Otherwise `order`, `limit` and `offset`
/// say nothing about the rows written and are ignored, as PostgREST
/// ignores them on writes: `POST ?limit=1` inserts every row of the body,
/// the representation answers them in the order written.
pub fn parse_write(
    schema: &SchemaMetadata,
    entity: &Entity,
    method: &str,
    query: &str,
    headers: &[(String, String)],
    body: &[u8],
    limits: &ParseLimits,
) -> Result<WriteRequest, RestError> {
    write(schema, entity, method, None, query, headers, body, limits)
}

/// Parse a write of one row by primary key: `PATCH` / `DELETE` filter by the
/// key (and any other filter), `PUT` upserts the row (merge; the body's key
/// fields, when present, must equal the path's, and are filled in from the
/// path when absent).
#[allow(clippy::too_many_arguments)]
pub fn parse_write_by_key(
    schema: &SchemaMetadata,
    entity: &Entity,
    method: &str,
    key: &[String],
    query: &str,
    headers: &[(String, String)],
    body: &[u8],
    limits: &ParseLimits,
) -> Result<WriteRequest, RestError> {
    write(
        schema,
        entity,
        method,
        Some(key),
        query,
        headers,
        body,
        limits,
    )
}

#[allow(clippy::too_many_arguments)]
fn write(
    schema: &SchemaMetadata,
    entity: &Entity,
    method: &str,
    key: Option<&[String]>,
    query: &str,
    headers: &[(String, String)],
    body: &[u8],
    limits: &ParseLimits,
) -> Result<WriteRequest, RestError> {
    let method_uc = method.to_ascii_uppercase();
    let mut prefer = parse_prefer(headers)?;
    let media = parse_media(headers)?;
    let singular = media.is_singular();
    let mut p = parse_params(schema, entity, query, limits)?;
    // `application/geo+json`: the representation as features, as a read
    // answers them (406 for an entity without a geometry field).
    let geometry = match media {
        Media::GeoJson => crate::read::geometry_key(entity, &p.root)?,
        _ => None,
    };
    let csv = (media == Media::Csv).then(|| crate::csv::CsvColumns::of(&p.root));
    let m = method_uc.as_str();
    reject_read_params(&p, m)?;
    let return_mode = prefer.return_mode.unwrap_or_default();
    let ret = returning(entity, &p, return_mode);
    // `!inner` embeddings filter the representation, not the write.
    let mut filter = p.root.write_condition();
    // PostgREST's `PUT /{entity}?pk=eq.v`: the filters give the key, as
    // the path does on `PUT /{entity}/{id}`.
    let put_key;
    let key = match (m, key) {
        ("PUT", None) => {
            if p.root.limit.is_some() || p.root.offset.is_some() {
                return Err(RestError::new(
                    400,
                    crate::error::codes::PUT_LIMIT,
                    "limit/offset querystring parameters are not allowed for PUT",
                ));
            }
            put_key = key_of_filters(entity, filter.take())?;
            Some(put_key.as_slice())
        }
        (_, key) => key,
    };
    let write = match (m, key) {
        ("POST", None) => {
            if filter.is_some() {
                return Err(RestError::bad_request("filters do not apply to POST")
                    .with_hint("use PATCH to update matching rows"));
            }
            let mut rows = match parse_body(headers, body, limits, Some(entity))? {
                serde_json::Value::Object(o) => vec![o],
                serde_json::Value::Array(items) => items
                    .into_iter()
                    .enumerate()
                    .map(|(i, v)| match v {
                        serde_json::Value::Object(o) => Ok(o),
                        other => Err(not_object(&format!("/{i}"), &other)),
                    })
                    .collect::<Result<Vec<_>, _>>()?,
                other => {
                    return Err(RestError::bad_request(format!(
                        "the body must be a JSON object or an array of objects, got {}",
                        match other {
                            serde_json::Value::Null => "null",
                            serde_json::Value::Bool(_) => "a boolean",
                            serde_json::Value::Number(_) => "a number",
                            _ => "a string",
                        }
                    )));
                }
            };
            restrict(
                entity,
                p.columns.as_ref(),
                &mut rows,
                !prefer.missing_default,
            )?;
            let on_conflict = match (prefer.resolution, p.on_conflict.clone()) {
                // Nothing to conflict on: a plain insert, the preference
                // not applied (as PostgREST answers on a table without a
                // primary key).
                (Some(_), None) if entity.primary_key.is_empty() => {
                    prefer.resolution = None;
                    prefer.applied.retain(|a| !a.starts_with("resolution="));
                    None
                }
                (Some(action), target) => Some(Upsert {
                    target: target.unwrap_or_default(),
                    action,
                    // PostgREST merges every listed column (`SET col =
                    // EXCLUDED.col`): one a row omits takes its default.
                    defaults: match (&p.columns, action, prefer.missing_default) {
                        (Some(cols), OnConflict::Merge, true) => cols.clone(),
                        _ => Vec::new(),
                    },
                }),
                (None, Some(_)) => {
                    return Err(RestError::bad_request(
                        "`on_conflict` needs `Prefer: resolution=merge-duplicates` or `resolution=ignore-duplicates`",
                    ));
                }
                (None, None) => None,
            };
            Write::Insert(Insert {
                entity: entity.name.clone(),
                rows,
                on_conflict,
                returning: ret,
            })
        }
        ("PUT", Some(key)) => {
            if filter.is_some() {
                return Err(RestError::bad_request("filters do not apply to PUT"));
            }
            if p.on_conflict.is_some() || prefer.resolution.is_some() {
                return Err(RestError::bad_request(
                    "PUT always merges on the primary key: drop `on_conflict` / `resolution`",
                ));
            }
            // Check the key shape (count, primary key present).
            key_filter(entity, key)?;
            // PostgREST writes the first row of an array.
            let mut row = match parse_body(headers, body, limits, None)? {
                serde_json::Value::Object(o) => o,
                serde_json::Value::Array(a) if a.first().is_some_and(|v| v.is_object()) => {
                    match a.into_iter().next() {
                        Some(serde_json::Value::Object(o)) => o,
                        _ => serde_json::Map::new(),
                    }
                }
                other => return Err(not_object("", &other)),
            };
            let mut rows = vec![row.clone()];
            restrict(entity, p.columns.as_ref(), &mut rows, false)?;
            if let Some(r) = rows.pop() {
                row = r;
            }
            for (f, raw) in entity.primary_key.iter().zip(key) {
                let ty = entity.field(f).ok().map(|fd| &fd.ty);
                match row.get(f) {
                    Some(v) if !same_key(ty, v, raw) => {
                        return Err(RestError::new(
                            400,
                            crate::error::codes::PUT_KEY_MISMATCH,
                            "Payload values do not match URL in primary key column(s)",
                        )
                        .with_details(format!(
                            "the body sets `{f}` to {v} but the URL says `{raw}`"
                        )));
                    }
                    Some(_) => {}
                    None => {
                        row.insert(f.clone(), typed(ty, raw).to_json());
                    }
                }
            }
            Write::Insert(Insert {
                entity: entity.name.clone(),
                rows: vec![row],
                on_conflict: Some(Upsert {
                    target: entity.primary_key.clone(),
                    action: OnConflict::Merge,
                    defaults: Vec::new(),
                }),
                returning: ret,
            })
        }
        ("PATCH", _) => {
            if p.on_conflict.is_some() {
                return Err(RestError::bad_request("`on_conflict` applies to POST only"));
            }
            let filter = match key {
                Some(k) => and_filters(Some(key_filter(entity, k)?), filter),
                None => filter,
            };
            // A limited write (`order` and `limit`) is bounded without a
            // filter, as PostgREST's: every row is a candidate.
            let bounded = p.root.order.is_some() && p.root.limit.is_some();
            let filter = match filter {
                None if bounded => Some(Filter::and(Vec::new())),
                f => f,
            };
            let set = match parse_body(headers, body, limits, None)? {
                serde_json::Value::Object(o) => o,
                // PostgREST's empty patches: `[]`, `[{}]`.
                serde_json::Value::Array(a)
                    if a.len() < 2
                        && a.iter()
                            .all(|v| v.as_object().is_some_and(|o| o.is_empty())) =>
                {
                    serde_json::Map::new()
                }
                other => return Err(not_object("", &other)),
            };
            let mut rows = vec![set];
            restrict(entity, p.columns.as_ref(), &mut rows, false)?;
            // A patch that sets nothing writes nothing: no filter needed
            // (PostgREST answers it, touching no row).
            let filter = match filter {
                None if rows.iter().all(|r| r.is_empty()) => Some(Filter::and(Vec::new())),
                f => f,
            };
            let Some(filter) = filter else {
                return Err(
                    RestError::bad_request("refusing to update every row; add a filter")
                        .with_hint("e.g. PATCH /{entity}?id=eq.1"),
                );
            };
            Write::Update(Update {
                entity: entity.name.clone(),
                filter,
                set: rows.pop().unwrap_or_default(),
                returning: ret.filter(|_| return_mode == ReturnMode::Representation),
                max_rows: None,
            })
        }
        ("DELETE", _) => {
            if p.on_conflict.is_some() || p.columns.is_some() {
                return Err(RestError::bad_request(
                    "`on_conflict` and `columns` do not apply to DELETE",
                ));
            }
            if body.len() > limits.http.max_body_bytes {
                return Err(crate::body::payload_too_large(limits.http.max_body_bytes));
            }
            let filter = match key {
                Some(k) => and_filters(Some(key_filter(entity, k)?), filter),
                None => filter,
            };
            // A limited write (`order` and `limit`) is bounded without a
            // filter, as PostgREST's: every row is a candidate.
            let bounded = p.root.order.is_some() && p.root.limit.is_some();
            let filter = match filter {
                None if bounded => Some(Filter::and(Vec::new())),
                f => f,
            };
            let Some(filter) = filter else {
                return Err(
                    RestError::bad_request("refusing to delete every row; add a filter")
                        .with_hint("e.g. DELETE /{entity}?id=eq.1"),
                );
            };
            Write::Delete(Delete {
                entity: entity.name.clone(),
                filter,
                returning: ret.filter(|_| return_mode == ReturnMode::Representation),
                max_rows: None,
            })
        }
        _ => {
            let allowed = if key.is_some() {
                crate::route::ITEM_METHODS
            } else {
                crate::route::COLLECTION_METHODS
            };
            return Err(
                RestError::method_not_allowed(method).with_hint(format!("allowed here: {allowed}"))
            );
        }
    };
    let aliases = p.root.aliases();
    let representation_mode = return_mode == ReturnMode::Representation;
    // A shape that could refuse a value the write returns, or a database
    // cast (the written rows' own read again by key, or an embedding's),
    // is applied inside the write's transaction ([`WriteRequest::check`]).
    let check = representation_mode && (p.root.casts_may_fail() || p.root.has_sql_casts());
    let limited = match (&write, p.root.order.clone()) {
        (Write::Update(_) | Write::Delete(_), Some(order))
            if p.root.limit.is_some() || p.root.offset.is_some() =>
        {
            let limit = p.root.limit.unwrap_or(limits.http.max_limit);
            if limit > limits.http.max_limit {
                return Err(RestError::bad_request(format!(
                    "a limited {m} writes at most {} rows",
                    limits.http.max_limit
                )));
            }
            Some(Limited {
                order,
                limit,
                offset: p.root.offset,
            })
        }
        _ => None,
    };
    // An empty `!inner` embedding (`rel!inner()`, to filter only) is read
    // for the representation, then dropped: `!inner` keeps the rows where
    // it is present.
    let mut inner = Vec::new();
    if representation_mode {
        for c in p.root.children.iter_mut().filter(|c| c.inner) {
            inner.push((c.engine_key().to_string(), c.output));
            c.output = true;
        }
    }
    let representation = representation_mode
        .then(|| p.root.selection())
        .filter(|s| !s.embeds.is_empty() || !s.casts.is_empty());
    Ok(WriteRequest {
        write,
        return_mode,
        singular,
        media,
        key: key.map(<[String]>::to_vec),
        prefer,
        aliases,
        check,
        inserts: None,
        limited,
        representation,
        inner,
        geometry,
        csv,
    })
}
