//! Responses: JSON bodies, `Content-Range`, 200/206/416 and singular 406.

use baas_core::ir::{Count, Rows, WriteResult};

use crate::headers::{OBJECT_MEDIA_TYPE, Prefer, ReturnMode};
use crate::read::ReadRequest;
use crate::route::encode_segment;
use crate::write::{Write, WriteRequest};
use crate::{RestError, RestResponse};

const JSON: &str = "application/json; charset=utf-8";

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

fn preference_applied(p: &Prefer, headers: &mut Vec<(String, String)>) {
    if !p.applied.is_empty() {
        headers.push(("preference-applied".into(), p.applied.join(", ")));
    }
}

fn json_body(v: &serde_json::Value) -> crate::Body {
    v.to_string().into()
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
        for r in &mut rows.rows {
            a.apply(r);
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
            "range_not_satisfiable",
            format!("the offset {offset} is past the {t} matching rows"),
        )
        .to_response();
        r.headers.push(("content-range".into(), format!("*/{t}")));
        return r;
    }
    headers.push(("content-range".into(), content_range(offset, n, rows.total)));
    let (status, body, ctype) = if req.singular {
        if n != 1 {
            let e = if n == 0 && req.by_key {
                RestError::not_found(format!("no `{}` row has this key", req.query.entity))
            } else {
                RestError::singular(n as u64)
            };
            let mut r = e.to_response();
            r.headers.extend(headers);
            return r;
        }
        let body = if req.head {
            Ok(Vec::new())
        } else {
            json_body_within(&rows.rows[0], 1, max_bytes)
        };
        (200, body, OBJECT_MEDIA_TYPE)
    } else {
        let status = match rows.total {
            Some(t) if (n as u64) < t => 206,
            _ => 200,
        };
        let body = if req.head {
            Ok(Vec::new())
        } else {
            json_body_within(&rows.rows, n, max_bytes)
        };
        (status, body, JSON)
    };
    let body = match body {
        Ok(b) => b,
        Err(e) => return e.to_response(),
    };
    headers.push(("content-type".into(), ctype.into()));
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
/// - insert: 201; `PUT` by key: 200 with a representation, else 204;
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
        for r in &mut result.rows {
            a.apply(r);
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
    let representation = req.return_mode == ReturnMode::Representation;
    let status = match (is_insert, representation) {
        (true, _) => 201,
        (false, true) => 200,
        (false, false) => 204,
    };
    let n = if representation { result.rows.len() } else { 0 };
    headers.push(("content-range".into(), content_range(0, n, total)));
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
    let (body, ctype) = if req.singular {
        let obj = result
            .rows
            .into_iter()
            .next()
            .map_or(serde_json::Value::Null, serde_json::Value::Object);
        (json_body(&obj), OBJECT_MEDIA_TYPE)
    } else {
        let arr = serde_json::Value::Array(
            result
                .rows
                .into_iter()
                .map(serde_json::Value::Object)
                .collect(),
        );
        (json_body(&arr), JSON)
    };
    headers.push(("content-type".into(), ctype.into()));
    RestResponse {
        status,
        headers,
        body,
    }
}

#[cfg(test)]
mod tests {
    use super::content_range;

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
