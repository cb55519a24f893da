//! Plain HTTP request and response types, independent of any web framework.

use crate::body::Body;

/// An HTTP request as the integration crate hands it over.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RestRequest {
    /// Method, e.g. `GET` (compared case-insensitively).
    pub method: String,
    /// Path, already stripped of any mount prefix, still percent-encoded
    /// (e.g. `/acme/artist/42`).
    pub path: String,
    /// The mount prefix the integration stripped from the URL path (e.g.
    /// `/api`; empty at the root), as the client sent it. The service
    /// prefixes it to the `Location` it answers, so that the client gets a
    /// path it can follow.
    pub mount: String,
    /// Raw query string without the `?`, percent-encoded.
    pub query: String,
    /// Headers; names are compared case-insensitively.
    pub headers: Vec<(String, String)>,
    /// The body: whole, or a stream the integration passes on untouched
    /// (see [`crate::body`]).
    pub body: Body,
}

impl RestRequest {
    /// A request with no headers and no body.
    pub fn new(
        method: impl Into<String>,
        path: impl Into<String>,
        query: impl Into<String>,
    ) -> Self {
        Self {
            method: method.into(),
            path: path.into(),
            query: query.into(),
            mount: String::new(),
            headers: Vec::new(),
            body: Body::empty(),
        }
    }

    /// Builder: add a header.
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Builder: set the body.
    pub fn body(mut self, body: impl Into<Body>) -> Self {
        self.body = body.into();
        self
    }

    /// Builder: set the mount prefix (see [`RestRequest::mount`]).
    pub fn mounted_at(mut self, mount: impl Into<String>) -> Self {
        self.mount = mount.into();
        self
    }
}

/// An HTTP response for the integration crate to send.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RestResponse {
    /// Status code.
    pub status: u16,
    /// Headers (lower-case names).
    pub headers: Vec<(String, String)>,
    /// The body: whole bytes (empty for none) or a stream (server-sent
    /// events, a download) that the integration sends as it comes.
    pub body: Body,
}

impl RestResponse {
    /// The first header named `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        header(&self.headers, name)
    }

    /// This response with `headers` a database function asked for
    /// (PostgREST's `response.headers`, a `PGRST` error's `headers`): each
    /// replaces ours of the same name (several of one name all kept), but
    /// never the framing and hop-by-hop headers (`Content-Length`,
    /// `Transfer-Encoding`, `Connection`, `Keep-Alive`, `Upgrade`, `TE`,
    /// `Trailer`, `Proxy-*`), which the server writes, nor CORS's
    /// `Access-Control-*`, which the server's CORS settings decide for
    /// every tenant.
    pub fn with_headers_asked(mut self, headers: Vec<(String, String)>) -> Self {
        let headers: Vec<(String, String)> = headers
            .into_iter()
            .map(|(k, v)| (k.to_ascii_lowercase(), v))
            .filter(|(k, _)| {
                !(matches!(
                    k.as_str(),
                    "content-length"
                        | "transfer-encoding"
                        | "connection"
                        | "keep-alive"
                        | "upgrade"
                        | "te"
                        | "trailer"
                ) || k.starts_with("proxy-")
                    || k.starts_with("access-control-"))
            })
            .collect();
        self.headers
            .retain(|(n, _)| !headers.iter().any(|(k, _)| n.eq_ignore_ascii_case(k)));
        self.headers.extend(headers);
        self
    }

    /// A response with a whole body.
    pub fn new(status: u16, headers: Vec<(String, String)>, body: impl Into<Body>) -> Self {
        Self {
            status,
            headers,
            body: body.into(),
        }
    }

    /// The body parsed as JSON (`Null` when empty, not JSON or a stream).
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(self.body.bytes()).unwrap_or(serde_json::Value::Null)
    }

    /// The body as text (lossy UTF-8; empty for a stream).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(self.body.bytes()).into_owned()
    }
}

/// The first header named `name` (case-insensitive).
pub fn header<'h>(headers: &'h [(String, String)], name: &str) -> Option<&'h str> {
    headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// Every value of the headers named `name` (case-insensitive), in order.
pub fn headers_all<'h>(
    headers: &'h [(String, String)],
    name: &'h str,
) -> impl Iterator<Item = &'h str> + 'h {
    headers
        .iter()
        .filter(move |(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}
