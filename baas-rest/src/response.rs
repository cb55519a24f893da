//! Responses: JSON bodies, `Content-Range`, 200/206/416 and singular 406.

use baas_core::ir::{Count, OnConflict, Rows, WriteResult};

use crate::headers::{Media, Prefer, ReturnMode};
use crate::read::ReadRequest;
use crate::route::encode_segment;
use crate::write::{Write, WriteRequest};
use crate::{RestError, RestResponse};

/// `Content-Range` for `returned` rows starting at `offset`, out of `total`
/// when known: `0-24/3573`, `0-24/*`, `*/0` (or `*/*`) when empty.
pub fn content_range(offset: u64, returned: usize, total: Option<u64>) -> String {
    let total = total.map_or_else(|| "*".to_string(), |t| t.to_string());
    if returned == 0 {
        format!("*/{total}")
    } else {
        let last = offset.saturating_add(returned as u64 - 1);
        format!("{offset}-{last}/{total}")
    }
}

/// `Preference-Applied` with the preferences `p` applied, if any.
pub(crate) fn preference_applied(p: &Prefer, headers: &mut Vec<(String, String)>) {
    if !p.applied.is_empty() {
        // PostgREST's order, whatever the request's.
        const ORDER: [&str; 9] = [
            "resolution=",
            "missing=",
            "return=",
            "params=",
            "count=",
            "tx=",
            "handling=",
            "timezone=",
            "max-affected=",
        ];
        let mut applied: Vec<&str> = p.applied.iter().map(String::as_str).collect();
        applied.sort_by_key(|a| {
            ORDER
                .iter()
                .position(|o| a.starts_with(o))
                .unwrap_or(ORDER.len())
        });
        headers.push(("preference-applied".into(), applied.join(", ")));
    }
}

/// Leave out null-valued keys of every object in `v`, at any depth
/// (PostgreSQL's `json_strip_nulls`, which PostgREST applies for
/// `nulls=stripped`): embedded rows and values of JSON fields included;
/// null elements of arrays stay.
pub(crate) fn strip_nulls(v: &mut serde_json::Value) {
    match v {
        serde_json::Value::Object(o) => strip_object_nulls(o),
        serde_json::Value::Array(items) => items.iter_mut().for_each(strip_nulls),
        _ => {}
    }
}

fn strip_object_nulls(o: &mut serde_json::Map<String, serde_json::Value>) {
    o.retain(|_, v| !v.is_null());
    o.values_mut().for_each(strip_nulls);
}

/// Rows as a GeoJSON `FeatureCollection` (`application/geo+json`), as
/// PostgREST answers it with PostGIS's `ST_AsGeoJSON(row)`: one `Feature`
/// per row, its `geometry` the value under `geometry` (without the `crs`
/// member the JSON form of an SRID-carrying geometry has: RFC 7946
/// removed it; `null` when no geometry is selected), its `properties` the
/// row's other keys.
fn geojson_body_within(
    rows: Vec<serde_json::Map<String, serde_json::Value>>,
    geometry: Option<&str>,
    max: u64,
) -> Result<Vec<u8>, RestError> {
    use serde_json::{Value as J, json};
    let n = rows.len();
    let features: Vec<J> = rows
        .into_iter()
        .map(|mut row| {
            let mut g = geometry
                .and_then(|k| row.shift_remove(k))
                .unwrap_or(J::Null);
            if let J::Object(o) = &mut g {
                o.shift_remove("crs");
            }
            let mut f = serde_json::Map::new();
            f.insert("type".into(), J::from("Feature"));
            f.insert("geometry".into(), g);
            f.insert("properties".into(), J::Object(row));
            J::Object(f)
        })
        .collect();
    json_body_within(
        &json!({"type": "FeatureCollection", "features": features}),
        n,
        max,
    )
}

/// The `Content-Type` of rows in `media`, one object when `singular`.
fn rows_content_type(media: Media, singular: bool) -> std::borrow::Cow<'static, str> {
    if singular && !matches!(media, Media::Csv | Media::GeoJson) {
        Media::Object {
            strip_nulls: media.strips_nulls(),
        }
        .content_type()
    } else {
        media.content_type()
    }
}

/// The body of `rows` in `media`: one object when `singular` (exactly one
/// row, checked by the caller), else an array or CSV; nulls stripped when
/// the media type says so.
fn rows_body_within(
    media: Media,
    singular: bool,
    mut rows: Vec<serde_json::Map<String, serde_json::Value>>,
    csv: Option<&crate::csv::CsvColumns>,
    max: u64,
) -> Result<Vec<u8>, RestError> {
    if media == Media::Csv {
        return crate::csv::body_within(&rows, csv, max);
    }
    if media.strips_nulls() {
        rows.iter_mut().for_each(strip_object_nulls);
    }
    if singular {
        let obj = rows.into_iter().next().unwrap_or_default();
        json_body_within(&obj, 1, max)
    } else {
        let n = rows.len();
        json_body_within(&rows, n, max)
    }
}

/// The response to a read, given the rows the engine returned.
///
/// - array body (`Content-Type: application/json`), or one object when
///   singular (0 rows by key → 404, otherwise not exactly one row → 406);
/// - `Content-Range: first-last/total` (`*` when not counted);
/// - 206 when the total is known and larger than what was returned, 416
///   when the offset is past the total;
/// - no body for `HEAD`.
pub fn read_response(req: &ReadRequest, rows: Rows) -> RestResponse {
    read_response_within(req, rows, u64::MAX)
}

/// A writer that refuses to grow past `max` bytes.
struct Bounded {
    buf: Vec<u8>,
    max: u64,
}

impl std::io::Write for Bounded {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        if (self.buf.len() + b.len()) as u64 > self.max {
            return Err(std::io::Error::other("the response is over its size limit"));
        }
        self.buf.extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Serialise `v` into at most `max` bytes: a 400 `limit_exceeded` naming
/// the limit beyond it, found while writing (the whole body is never built).
pub(crate) fn json_body_within(
    v: &impl serde::Serialize,
    rows: usize,
    max: u64,
) -> Result<Vec<u8>, RestError> {
    // Room for typical rows up front: growing by doubling copies the body
    // again and again.
    let guess = (64 + 256 * rows as u64).min(max).min(1 << 20) as usize;
    let mut w = Bounded {
        buf: Vec::with_capacity(guess),
        max,
    };
    match serde_json::to_writer(&mut w, v) {
        Ok(()) => Ok(w.buf),
        Err(_) => Err(RestError::new(
            400,
            "limit_exceeded",
            format!("the response would be larger than {max} bytes"),
        )
        .with_details(format!("limit `max_response_bytes` = {max}"))
        .with_hint(
            "narrow the request: fewer rows, fewer fields, or a `limit` on each embedded list",
        )),
    }
}

/// [`read_response`] with a bound on the body: a body over `max_bytes`
/// bytes is refused with a 400 `limit_exceeded` (detected while it is being
/// written, so it is never built whole). `HEAD` builds no body at all.
pub fn read_response_within(req: &ReadRequest, mut rows: Rows, max_bytes: u64) -> RestResponse {
    if let Some(a) = &req.aliases {
        let mut budget = a.join_budget();
        for r in &mut rows.rows {
            if let Err(e) = a.apply_within(r, &mut budget, req.prefer.timezone) {
                return e.to_response();
            }
        }
    }
    let offset = req.query.page.offset.unwrap_or(0);
    let n = rows.rows.len();
    let mut headers = Vec::new();
    preference_applied(&req.prefer, &mut headers);
    if let Some(t) = rows.total
        && offset > t
    {
        let mut r = RestError::new(
            416,
            crate::error::codes::RANGE,
            "Requested range not satisfiable",
        )
        .with_details(format!(
            "An offset of {offset} was requested, but there are only {t} rows."
        ))
        .to_response();
        r.headers.push(("content-range".into(), format!("*/{t}")));
        return r;
    }
    if req.singular && n != 1 {
        // An error, as PostgREST raises it: no `Content-Range`.
        let e = if n == 0 && req.by_key {
            RestError::not_found(format!("no `{}` row has this key", req.query.entity))
        } else {
            RestError::singular(n as u64)
        };
        let mut r = e.to_response();
        r.headers.extend(headers);
        return r;
    }
    headers.push(("content-range".into(), content_range(offset, n, rows.total)));
    // A part of the counted rows, one object included (PostgREST's
    // singular response ranges as its arrays do).
    let status = match rows.total {
        Some(t) if (n as u64) < t => 206,
        _ => 200,
    };
    // `HEAD`: the status and headers of `GET`, no body (none is built).
    let body = if req.head {
        Vec::new()
    } else if req.media == Media::GeoJson {
        match geojson_body_within(rows.rows, req.geometry.as_deref(), max_bytes) {
            Ok(b) => b,
            Err(e) => return e.to_response(),
        }
    } else {
        match rows_body_within(
            req.media,
            req.singular,
            rows.rows,
            req.csv.as_ref(),
            max_bytes,
        ) {
            Ok(b) => b,
            Err(e) => return e.to_response(),
        }
    };
    headers.push((
        "content-type".into(),
        rows_content_type(req.media, req.singular).into_owned(),
    ));
    RestResponse {
        status,
        headers,
        body: body.into(),
    }
}

fn key_text(v: &serde_json::Value) -> Option<String> {
    match v {
        serde_json::Value::String(s) => Some(s.clone()),
        serde_json::Value::Number(n) => Some(n.to_string()),
        serde_json::Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// The response to a write, given what the engine did.
///
/// - insert: 201 (a merge upsert known to insert nothing: 200); `PUT` by
///   key: 200 with a representation (201 when known to insert), else 204;
///   update/delete: 200 with a representation, else 204;
/// - `return=representation`: the rows (one object when singular);
///   `return=headers-only` on a one-row insert: `Location: /{entity}/{key}`
///   relative to the family root (the [`Service`](crate::Service) makes it
///   absolute with the mount, tenant and family prefix);
/// - singular and not exactly one row affected: 406.
pub fn write_response(req: &WriteRequest, mut result: WriteResult) -> RestResponse {
    if let Some(a) = req
        .aliases
        .as_ref()
        .filter(|_| req.return_mode == ReturnMode::Representation)
    {
        let mut budget = a.join_budget();
        for r in &mut result.rows {
            // Casts that can fail are refused before a write (`parse`).
            if let Err(e) = a.apply_within(r, &mut budget, req.prefer.timezone) {
                return e.to_response();
            }
        }
    }
    let mut headers = Vec::new();
    preference_applied(&req.prefer, &mut headers);
    if req.singular && result.affected != 1 {
        let mut r = RestError::singular(result.affected).to_response();
        r.headers.extend(headers);
        return r;
    }
    let total = (req.prefer.count == Some(Count::Exact)).then_some(result.affected);
    let is_insert = matches!(req.write, Write::Insert(_)) && req.key.is_none();
    let is_put = matches!(req.write, Write::Insert(_)) && req.key.is_some();
    let representation = req.return_mode == ReturnMode::Representation;
    let merge = matches!(
        &req.write,
        Write::Insert(i) if i.on_conflict.as_ref().is_some_and(|u| u.action == OnConflict::Merge)
    );
    let status = match (is_insert, representation) {
        // A merge upsert that inserted nothing updated rows: 200.
        (true, _) if merge && req.inserts == Some(false) => 200,
        (true, _) => 201,
        // `PUT` that inserted its row: 201.
        (false, true) if is_put && req.inserts == Some(true) => 201,
        (false, true) => 200,
        (false, false) => 204,
    };
    // PostgREST's `Content-Range` on writes: `*/total` for inserts and
    // deletes, `0-(n-1)/total` for updates (n rows updated, whether or not
    // they are returned), none for `PUT`.
    match &req.write {
        Write::Update(_) => headers.push((
            "content-range".into(),
            content_range(
                0,
                usize::try_from(result.affected).unwrap_or(usize::MAX),
                total,
            ),
        )),
        _ if is_put => {}
        _ => headers.push(("content-range".into(), content_range(0, 0, total))),
    }
    if req.return_mode == ReturnMode::HeadersOnly
        && is_insert
        && let [row] = result.rows.as_slice()
        && let Write::Insert(ins) = &req.write
        && let Some(pk) = ins.returning.as_ref().filter(|k| !k.is_empty())
    {
        let parts: Option<Vec<String>> = pk
            .iter()
            .map(|k| row.get(k).and_then(key_text))
            .map(|t| t.map(|t| encode_segment(&t)))
            .collect();
        if let Some(parts) = parts {
            let entity = encode_segment(&ins.entity);
            headers.push(("location".into(), format!("/{entity}/{}", parts.join(","))));
        }
    }
    if !representation {
        return RestResponse {
            status,
            headers,
            body: crate::Body::empty(),
        };
    }
    let body = if req.media == Media::GeoJson {
        geojson_body_within(result.rows, req.geometry.as_deref(), u64::MAX)
    } else {
        rows_body_within(
            req.media,
            req.singular,
            result.rows,
            req.csv.as_ref(),
            u64::MAX,
        )
    };
    let body = match body {
        Ok(b) => b,
        Err(e) => return e.to_response(),
    };
    headers.push((
        "content-type".into(),
        rows_content_type(req.media, req.singular).into_owned(),
    ));
    RestResponse {
        status,
        headers,
        body: body.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::{content_range, preference_applied, strip_nulls};
    use serde_json::json;

    /// `Preference-Applied` lists what was applied in PostgREST's order.
    #[test]
    fn preferences_applied_in_postgrest_order() {
        let headers = vec![(
            "Prefer".to_string(),
            "tx=rollback, count=exact, return=representation, missing=default, resolution=merge-duplicates"
                .to_string(),
        )];
        let p = crate::headers::parse_prefer(&headers).expect("prefer");
        let mut out = Vec::new();
        preference_applied(&p, &mut out);
        assert_eq!(
            out,
            vec![(
                "preference-applied".to_string(),
                "resolution=merge-duplicates, missing=default, return=representation, count=exact, tx=rollback"
                    .to_string()
            )]
        );
    }

    #[test]
    fn nulls_are_stripped_at_every_depth_but_not_in_arrays() {
        let mut v = json!({"a": null, "b": {"c": null, "d": 1}, "e": [null, {"f": null}]});
        strip_nulls(&mut v);
        assert_eq!(v, json!({"b": {"d": 1}, "e": [null, {}]}));
    }

    #[test]
    fn ranges() {
        assert_eq!(content_range(0, 25, None), "0-24/*");
        assert_eq!(content_range(0, 25, Some(3573)), "0-24/3573");
        assert_eq!(content_range(10, 0, Some(0)), "*/0");
        assert_eq!(content_range(0, 0, None), "*/*");
        assert_eq!(
            content_range(u64::MAX, 2, None),
            format!("{}-{}/*", u64::MAX, u64::MAX)
        );
    }
}
