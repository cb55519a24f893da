//! Plain HTTP request and response types, independent of any web framework.

/// An HTTP request as the integration crate hands it over.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RestRequest {
    /// Method, e.g. `GET` (compared case-insensitively).
    pub method: String,
    /// Path, already stripped of any mount prefix, still percent-encoded
    /// (e.g. `/acme/artist/42`).
    pub path: String,
    /// Raw query string without the `?`, percent-encoded.
    pub query: String,
    /// Headers; names are compared case-insensitively.
    pub headers: Vec<(String, String)>,
    /// Raw body.
    pub body: Vec<u8>,
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
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    /// Builder: add a header.
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Builder: set the body.
    pub fn body(mut self, body: impl Into<Vec<u8>>) -> Self {
        self.body = body.into();
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
    /// Body bytes (empty for none).
    pub body: Vec<u8>,
}

impl RestResponse {
    /// The first header named `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        header(&self.headers, name)
    }

    /// The body parsed as JSON (`Null` when empty or not JSON).
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or(serde_json::Value::Null)
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
