//! Where confirmation links may send a browser: `site_url` and the paths
//! under it, plus [`AuthSettings::redirect_allow_list`]; anything else
//! falls back to `site_url` (an attacker's `redirect_to` never receives
//! a user's tokens). Also the small URL pieces the links need.
//!
//! URLs are parsed strictly rather than fully: absolute `http` / `https`,
//! ASCII only (IDNs in punycode), no user info, no backslash, no control
//! character or space, no fragment, no `.` / `..` path segment (also
//! percent-encoded). Such a URL's origin and path mean the same to every
//! browser, so comparing them is safe.
//!
//! [`AuthSettings::redirect_allow_list`]: super::AuthSettings::redirect_allow_list

/// A URL as the allow list compares it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Url {
    scheme: String,
    /// Lower-cased; may start with `*.` in an allow-list entry.
    host: String,
    port: u16,
    /// Starts with `/`.
    path: String,
}

impl Url {
    /// Parse `raw` (see the module docs); `None` when it is not such a URL.
    pub(crate) fn parse(raw: &str, wildcard: bool) -> Option<Self> {
        if raw.len() > 2048
            || !raw.is_ascii()
            || raw
                .bytes()
                .any(|b| b <= b' ' || b == 0x7f || b == b'\\' || b == b'#')
        {
            return None;
        }
        let (scheme, rest) = raw.split_once("://")?;
        let scheme = scheme.to_ascii_lowercase();
        let default_port = match scheme.as_str() {
            "http" => 80,
            "https" => 443,
            _ => return None,
        };
        let end = rest.find(['/', '?']).unwrap_or(rest.len());
        let (authority, tail) = rest.split_at(end);
        if authority.contains('@') || authority.is_empty() {
            return None;
        }
        let (host, port) = match authority.rsplit_once(':') {
            Some((h, p)) if !h.ends_with(':') && (!h.starts_with('[') || h.ends_with(']')) => {
                (h, p.parse::<u16>().ok()?)
            }
            _ => (authority, default_port),
        };
        let host = host.to_ascii_lowercase();
        let body = host
            .strip_prefix("*.")
            .filter(|_| wildcard)
            .unwrap_or(&host);
        let host_ok = if let Some(v6) = body.strip_prefix('[') {
            v6.strip_suffix(']')
                .is_some_and(|a| a.parse::<std::net::Ipv6Addr>().is_ok())
        } else {
            !body.is_empty()
                && body.split('.').all(|l| {
                    !l.is_empty() && l.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'-')
                })
        };
        if !host_ok {
            return None;
        }
        let path = tail.split('?').next().unwrap_or("");
        let path = if path.is_empty() { "/" } else { path };
        let dot = |seg: &str| {
            let s = seg.to_ascii_lowercase().replace("%2e", ".");
            s == "." || s == ".."
        };
        if path.split('/').any(dot) || path.to_ascii_lowercase().contains("%2f") {
            return None;
        }
        Some(Self {
            scheme,
            host,
            port,
            path: path.to_string(),
        })
    }

    /// Whether `self` (an allow-list entry) allows `url`.
    fn allows(&self, url: &Url) -> bool {
        let host_ok = match self.host.strip_prefix("*.") {
            Some(parent) => url
                .host
                .strip_suffix(parent)
                .is_some_and(|sub| sub.len() > 1 && sub.ends_with('.')),
            None => self.host == url.host,
        };
        let path_ok = self.path == "/"
            || url.path == self.path
            || url
                .path
                .starts_with(&format!("{}/", self.path.trim_end_matches('/')));
        self.scheme == url.scheme && host_ok && self.port == url.port && path_ok
    }
}

/// `site_url` and the allow list, checked once.
#[derive(Debug, Clone)]
pub(crate) struct Redirects {
    site_url: String,
    allowed: Vec<Url>,
}

impl Redirects {
    /// Check `site_url` and every entry; the error names the bad one.
    pub(crate) fn new(site_url: &str, allow_list: &[String]) -> Result<Self, String> {
        let site = Url::parse(site_url, false).ok_or_else(|| {
            format!("site_url {site_url:?} is not an absolute http(s) URL without fragment")
        })?;
        let mut allowed = vec![site];
        for entry in allow_list {
            allowed.push(Url::parse(entry, true).ok_or_else(|| {
                format!("redirect_allow_list entry {entry:?} is not an absolute http(s) URL without fragment")
            })?);
        }
        Ok(Self {
            site_url: site_url.to_string(),
            allowed,
        })
    }

    /// `requested` if it is allowed, else `site_url`.
    pub(crate) fn target(&self, requested: Option<&str>) -> String {
        match requested {
            Some(r)
                if Url::parse(r, false)
                    .is_some_and(|u| self.allowed.iter().any(|a| a.allows(&u))) =>
            {
                r.to_string()
            }
            _ => self.site_url.clone(),
        }
    }
}

/// `s` percent-encoded for a query value or fragment parameter (everything
/// but RFC 3986's unreserved characters).
pub(crate) fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `s` escaped for HTML text and attribute values.
pub(crate) fn html_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allow_list() {
        let r = Redirects::new(
            "https://app.example.com",
            &[
                "http://localhost:5173/auth".into(),
                "https://*.preview.example.com".into(),
            ],
        )
        .unwrap();
        let site = "https://app.example.com";
        for ok in [
            "https://app.example.com/welcome?x=1",
            "https://APP.example.com:443/",
            "http://localhost:5173/auth",
            "http://localhost:5173/auth/callback",
            "https://pr-1.preview.example.com/x",
        ] {
            assert_eq!(r.target(Some(ok)), ok, "{ok}");
        }
        for bad in [
            "https://evil.example/",
            "https://app.example.com.evil.example/",
            "https://app.example.com@evil.example/",
            "https://evil.example\\@app.example.com/",
            "//evil.example/",
            "javascript:alert(1)",
            "https://app.example.com:8443/",
            "http://app.example.com/",
            "http://localhost:5173/authx",
            "http://localhost:5173/auth/../admin",
            "http://localhost:5173/auth/%2e%2e/admin",
            "http://localhost:5173/",
            "https://preview.example.com/",
            "https://x.evilpreview.example.com/",
            "https://app.example.com/#frag",
            "https://app.example.com/ x",
            "https://äpp.example.com/",
        ] {
            assert_eq!(r.target(Some(bad)), site, "{bad}");
        }
        assert_eq!(r.target(None), site);
        assert!(Redirects::new("not a url", &[]).is_err());
        assert!(Redirects::new("https://a.example", &["ftp://x".into()]).is_err());
        assert!(Url::parse("http://[::1]:8080/x", false).is_some());
    }

    #[test]
    fn escaping() {
        assert_eq!(encode("a b&c=/é"), "a%20b%26c%3D%2F%C3%A9");
        assert_eq!(
            html_escape("<a href=\"x\">&'"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"
        );
    }
}
