//! Reading a request: its JSON body (bounded), query parameters, the
//! client's IP and user agent, and e-mail addresses.

use baas_rest::{Body, RestRequest, header};
use serde_json::{Map, Value};

use super::error::AuthError;

/// Largest request body, in bytes.
pub(crate) const MAX_BODY_BYTES: usize = 64 * 1024;
/// Longest e-mail address (GoTrue's).
pub(crate) const MAX_EMAIL_LEN: usize = 255;
/// Largest `user_metadata`, serialised, in bytes (it rides in every access
/// token, which must stay well under the verifier's 16 KiB).
pub(crate) const MAX_METADATA_BYTES: usize = 8 * 1024;
/// Longest client IP kept.
const MAX_IP_LEN: usize = 64;
/// Longest user agent kept (longer ones are cut).
const MAX_USER_AGENT_LEN: usize = 512;

/// The body as a JSON object (an empty body is `{}`), read under
/// [`MAX_BODY_BYTES`].
pub(crate) async fn json_body(req: &mut RestRequest) -> Result<Map<String, Value>, AuthError> {
    let declared =
        header(&req.headers, "content-length").and_then(|v| v.trim().parse::<u64>().ok());
    if declared.is_some_and(|n| n > MAX_BODY_BYTES as u64) {
        return Err(too_large());
    }
    let body = std::mem::take(&mut req.body);
    let bytes = body.collect(MAX_BODY_BYTES).await.map_err(|e| {
        if e.status == 413 {
            too_large()
        } else {
            AuthError::bad_request("bad_json", "Could not read the request body")
        }
    })?;
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(Map::new());
    }
    match serde_json::from_slice::<Value>(&bytes) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(_) => Err(AuthError::bad_request(
            "bad_json",
            "The request body must be a JSON object",
        )),
        Err(e) => Err(AuthError::bad_request(
            "bad_json",
            format!("Could not parse request body as JSON: {e}"),
        )),
    }
}

fn too_large() -> AuthError {
    AuthError::new(
        413,
        "request_too_large",
        format!("The request body is larger than {MAX_BODY_BYTES} bytes"),
    )
}

/// Drop a body that is not read (a stream is dropped unread).
pub(crate) fn discard(req: &mut RestRequest) {
    req.body = Body::empty();
}

/// A string field of the body: absent, `null` and `""` are `None`; another
/// type, or more than `max` bytes, is an error naming the field.
pub(crate) fn string_field(
    body: &Map<String, Value>,
    key: &'static str,
    max: usize,
) -> Result<Option<String>, AuthError> {
    match body.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.is_empty() => Ok(None),
        Some(Value::String(s)) if s.len() <= max => Ok(Some(s.clone())),
        Some(Value::String(_)) => Err(AuthError::validation(format!(
            "`{key}` is longer than {max} bytes"
        ))),
        Some(_) => Err(AuthError::bad_request(
            "bad_json",
            format!("`{key}` must be a string"),
        )),
    }
}

/// The `data` / metadata object of the body: absent and `null` are `None`.
pub(crate) fn object_field(
    body: &Map<String, Value>,
    key: &'static str,
) -> Result<Option<Map<String, Value>>, AuthError> {
    match body.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(m)) => Ok(Some(m.clone())),
        Some(_) => Err(AuthError::bad_request(
            "bad_json",
            format!("`{key}` must be a JSON object"),
        )),
    }
}

/// Refuse metadata over [`MAX_METADATA_BYTES`].
pub(crate) fn check_metadata(m: &Map<String, Value>) -> Result<(), AuthError> {
    let n = serde_json::to_vec(m).map_or(usize::MAX, |v| v.len());
    if n > MAX_METADATA_BYTES {
        return Err(AuthError::validation(format!(
            "user_metadata is larger than {MAX_METADATA_BYTES} bytes"
        )));
    }
    Ok(())
}

/// The first value of query parameter `name`, percent-decoded.
pub(crate) fn query_param(query: &str, name: &str) -> Option<String> {
    query.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        (decode(k) == name).then(|| decode(v))
    })
}

fn decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < b.len() => {
                match std::str::from_utf8(&b[i + 1..i + 3])
                    .ok()
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
                {
                    Some(v) => {
                        out.push(v);
                        i += 2;
                    }
                    None => out.push(b'%'),
                }
            }
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The client's IP (`x-real-ip`, set by the server's edge), if sent and
/// plausible.
pub(crate) fn client_ip(headers: &[(String, String)]) -> Option<String> {
    header(headers, "x-real-ip")
        .map(str::trim)
        .filter(|v| !v.is_empty() && v.len() <= MAX_IP_LEN)
        .filter(|v| {
            v.bytes()
                .all(|c| c.is_ascii_alphanumeric() || b".:[]%-_".contains(&c))
        })
        .map(str::to_string)
}

/// The user agent, cut to [`MAX_USER_AGENT_LEN`] bytes.
pub(crate) fn user_agent(headers: &[(String, String)]) -> Option<String> {
    header(headers, "user-agent").map(|ua| {
        let mut end = ua.len().min(MAX_USER_AGENT_LEN);
        while !ua.is_char_boundary(end) {
            end -= 1;
        }
        ua[..end].to_string()
    })
}

/// An e-mail address trimmed and lower-cased, or GoTrue's 400
/// `email_address_invalid`.
pub(crate) fn normalize_email(raw: &str) -> Result<String, AuthError> {
    let email = raw.trim().to_lowercase();
    if valid_email(&email) {
        Ok(email)
    } else {
        Err(AuthError::bad_request(
            "email_address_invalid",
            "Unable to validate email address: invalid format",
        ))
    }
}

fn valid_email(e: &str) -> bool {
    if e.len() > MAX_EMAIL_LEN {
        return false;
    }
    let Some((local, domain)) = e.rsplit_once('@') else {
        return false;
    };
    let local_ok = !local.is_empty()
        && local.len() <= 64
        && !local.starts_with('.')
        && !local.ends_with('.')
        && !local.contains("..")
        && local
            .chars()
            .all(|c| c.is_alphanumeric() || "!#$%&'*+-/=?^_`{|}~.".contains(c));
    let labels: Vec<&str> = domain.split('.').collect();
    let domain_ok = labels.len() >= 2
        && labels.iter().all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.chars().all(|c| c.is_alphanumeric() || c == '-')
        });
    local_ok && domain_ok
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails() {
        assert_eq!(
            normalize_email("  Ann@Example.COM ").unwrap(),
            "ann@example.com"
        );
        assert!(normalize_email("a.b+tag@sub.example.org").is_ok());
        for bad in [
            "", "a", "a@b", "@b.c", "a@.c", "a b@c.d", "a@b..c", ".a@b.c", "a@-b.c", "a@b@c.d",
        ] {
            assert!(normalize_email(bad).is_err(), "{bad:?}");
        }
        assert!(normalize_email(&format!("{}@b.co", "a".repeat(65))).is_err());
        assert_eq!(normalize_email("a@b.c\n").unwrap(), "a@b.c");
    }

    #[test]
    fn query() {
        assert_eq!(
            query_param("grant_type=password", "grant_type").as_deref(),
            Some("password")
        );
        assert_eq!(
            query_param("a=1&scope=lo%63al", "scope").as_deref(),
            Some("local")
        );
        assert_eq!(query_param("a=1", "scope"), None);
        assert_eq!(query_param("x=%", "x").as_deref(), Some("%"));
        assert_eq!(query_param("x=%4", "x").as_deref(), Some("%4"));
    }

    #[test]
    fn ips() {
        let h = |v: &str| vec![("X-Real-IP".to_string(), v.to_string())];
        assert_eq!(client_ip(&h("203.0.113.9")).as_deref(), Some("203.0.113.9"));
        assert_eq!(client_ip(&h("2001:db8::1")).as_deref(), Some("2001:db8::1"));
        assert_eq!(client_ip(&h("a b")), None);
        assert_eq!(client_ip(&[]), None);
    }
}
