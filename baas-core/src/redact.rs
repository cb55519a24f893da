//! Secrets out of sight: URLs and error messages with every credential a
//! database URL may carry replaced by `***`, for logs, responses and
//! errors. One place for it, used by the engine (stored tenant URLs, admin
//! responses) and by every adapter (connection errors that echo the URL).

use crate::error::Error;

/// A URL with every credential it may carry replaced by `***`, for logs
/// and responses:
///
/// - userinfo: `scheme://user:secret@host` → `scheme://user:***@host`; a
///   user part that looks like a token (at least 20 characters with letters
///   and digits, or 32 of anything) is redacted too, with or without a
///   password (`https://ghp_…@host` → `https://***@host`);
/// - query parameters whose name (case-insensitive, percent-decoded, `-` and
///   `_` ignored) names a secret: anything containing `password`, `passwd`,
///   `secret`, `token`, `apikey`, `credential`, `privatekey` or `signature`,
///   `authMechanismProperties` (MongoDB's, which may carry an AWS session
///   token), and `pass`, `pwd`, `pw`, `key`, `auth`, `sig`, `accesskey`;
///   other parameters (`sslmode`, `authSource`, …) are kept;
/// - a `#fragment` (never needed to connect) as a whole.
pub fn redact_url(url: &str) -> String {
    let (body, fragment) = match url.split_once('#') {
        Some((b, f)) => (b, Some(f)),
        None => (url, None),
    };
    let (head, query) = match body.split_once('?') {
        Some((h, q)) => (h, Some(q)),
        None => (body, None),
    };
    let mut out = redact_userinfo(head);
    if let Some(q) = query {
        out.push('?');
        out.push_str(
            &q.split('&')
                .map(|pair| match pair.split_once('=') {
                    Some((k, v)) if !v.is_empty() && is_secret_param(k) => format!("{k}=***"),
                    _ => pair.to_string(),
                })
                .collect::<Vec<_>>()
                .join("&"),
        );
    }
    if let Some(f) = fragment {
        out.push('#');
        if !f.is_empty() {
            out.push_str("***");
        }
    }
    out
}

/// Where the userinfo of `head` (a URL without query and fragment) is:
/// `(scheme, user, password, host_and_path)`. The userinfo ends at the last
/// `@` (a password may hold unencoded `@` or `/`); a user part with a `/`
/// means the `@` is in a path, not userinfo.
fn userinfo(head: &str) -> Option<(&str, &str, Option<&str>, &str)> {
    let (scheme, rest) = head.split_once("://")?;
    let at = rest.rfind('@')?;
    let (info, host) = (&rest[..at], &rest[at + 1..]);
    let (user, password) = match info.split_once(':') {
        Some((u, p)) => (u, Some(p)),
        None => (info, None),
    };
    (!user.contains('/')).then_some((scheme, user, password, host))
}

fn redact_userinfo(head: &str) -> String {
    match userinfo(head) {
        Some((scheme, user, password, host)) => {
            let user = if looks_like_token(user) { "***" } else { user };
            match password {
                Some(_) => format!("{scheme}://{user}:***@{host}"),
                None => format!("{scheme}://{user}@{host}"),
            }
        }
        None => head.to_string(),
    }
}

fn looks_like_token(s: &str) -> bool {
    let decoded = decode(s);
    let n = decoded.chars().count();
    n >= 32
        || (n >= 20
            && decoded.chars().any(|c| c.is_ascii_digit())
            && decoded.chars().any(|c| c.is_ascii_alphabetic()))
}

fn is_secret_param(key: &str) -> bool {
    let k: String = decode(key)
        .chars()
        .filter(|c| *c != '-' && *c != '_')
        .flat_map(char::to_lowercase)
        .collect();
    const CONTAINS: [&str; 8] = [
        "password",
        "passwd",
        "secret",
        "token",
        "apikey",
        "credential",
        "privatekey",
        "signature",
    ];
    const EXACT: [&str; 8] = [
        "pass",
        "pwd",
        "pw",
        "key",
        "auth",
        "sig",
        "accesskey",
        "authmechanismproperties",
    ];
    CONTAINS.iter().any(|c| k.contains(c)) || EXACT.contains(&k.as_str())
}

/// Percent-decoding (and `+` as space, as in query strings), lossy.
fn decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => {
                let hex = |b: u8| (b as char).to_digit(16);
                match (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                    (Some(h), Some(l)) => {
                        out.push((h * 16 + l) as u8);
                        i += 3;
                        continue;
                    }
                    _ => out.push(b'%'),
                }
            }
            b'+' => out.push(b' '),
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The secrets `url` carries (password, token-like user, secret query
/// values, fragment), as written and percent-decoded; short ones (under 3
/// characters) are left out, replacing them in text would garble it.
fn secrets_of(url: &str) -> Vec<String> {
    let mut found = Vec::new();
    let (body, fragment) = match url.split_once('#') {
        Some((b, f)) => (b, Some(f)),
        None => (url, None),
    };
    let (head, query) = match body.split_once('?') {
        Some((h, q)) => (h, Some(q)),
        None => (body, None),
    };
    if let Some((_, user, password, _)) = userinfo(head) {
        if let Some(p) = password {
            found.push(p.to_string());
        }
        if looks_like_token(user) {
            found.push(user.to_string());
        }
    }
    for pair in query.unwrap_or_default().split('&') {
        if let Some((k, v)) = pair.split_once('=')
            && is_secret_param(k)
        {
            found.push(v.to_string());
        }
    }
    found.extend(fragment.map(str::to_string));
    let decoded: Vec<String> = found.iter().map(|s| decode(s)).collect();
    found.extend(decoded);
    found.retain(|s| s.chars().count() >= 3);
    // Longest first: a secret that contains another is replaced whole.
    found.sort_by_key(|s| std::cmp::Reverse(s.len()));
    found.dedup();
    found
}

/// `text` (an error message, a log line) with `url` and every secret it
/// carries replaced: the URL by its [`redact_url`] form, each secret by
/// `***`. For messages from drivers, which may echo the URL they were
/// given.
pub fn redact_in(text: &str, url: &str) -> String {
    let mut out = if url.is_empty() {
        text.to_string()
    } else {
        text.replace(url, &redact_url(url))
    };
    for secret in secrets_of(url) {
        out = out.replace(&secret, "***");
    }
    out
}

/// A lower layer's error chain, flattened to text with the secrets removed.
#[derive(Debug)]
struct RedactedSource(String);

impl std::fmt::Display for RedactedSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for RedactedSource {}

fn redact_source(
    source: Option<crate::error::BoxError>,
    url: &str,
) -> Option<crate::error::BoxError> {
    let source = source?;
    let mut chain = source.to_string();
    let mut next = source.source();
    while let Some(e) = next {
        chain.push_str(": ");
        chain.push_str(&e.to_string());
        next = e.source();
    }
    Some(Box::new(RedactedSource(redact_in(&chain, url))))
}

/// `e` with `url`'s secrets removed from every message and from its source
/// chain (flattened to text): connection errors of some drivers repeat the
/// URL they were given.
pub fn redact_error(e: Error, url: &str) -> Error {
    let r = |s: String| redact_in(&s, url);
    match e {
        Error::NotFound { kind, name } => Error::NotFound {
            kind,
            name: r(name),
        },
        Error::Validation { violations } => Error::Validation {
            violations: violations
                .into_iter()
                .map(|v| crate::error::Violation {
                    pointer: v.pointer,
                    message: r(v.message),
                    code: v.code,
                })
                .collect(),
        },
        Error::Conflict {
            kind,
            message,
            constraint,
        } => Error::Conflict {
            kind,
            message: r(message),
            constraint,
        },
        Error::Forbidden(m) => Error::Forbidden(r(m)),
        Error::LimitExceeded {
            limit,
            max,
            message,
        } => Error::LimitExceeded {
            limit,
            max,
            message: r(message),
        },
        Error::Unsupported { engine, feature } => Error::Unsupported {
            engine,
            feature: r(feature),
        },
        Error::Unavailable { message, source } => Error::Unavailable {
            message: r(message),
            source: redact_source(source, url),
        },
        Error::Backend { message, source } => Error::Backend {
            message: r(message),
            source: redact_source(source, url),
        },
        Error::Raised(raised) => Error::Raised(raised),
        Error::Timeout { message } => Error::Timeout {
            message: r(message),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redaction() {
        assert_eq!(
            redact_url("postgres://u:pw@h:5432/db?sslmode=require"),
            "postgres://u:***@h:5432/db?sslmode=require"
        );
        assert_eq!(redact_url("postgres://u@h/db"), "postgres://u@h/db");
        assert_eq!(redact_url("sqlite:data/x.db"), "sqlite:data/x.db");
        assert_eq!(redact_url("mysql://u:p@ss@h/db"), "mysql://u:***@h/db");
        // A password holding an unencoded `/` or `?`-free path characters.
        assert_eq!(redact_url("postgres://u:p/w@h/db"), "postgres://u:***@h/db");
        // An `@` in a path is not userinfo.
        assert_eq!(
            redact_url("sqlite:///tmp/a@b/x.db"),
            "sqlite:///tmp/a@b/x.db"
        );
    }

    #[test]
    fn query_parameters_holding_secrets_are_redacted() {
        for (name, value) in [
            ("password", "hunter22"),
            ("PASSWORD", "hunter22"),
            ("sslpassword", "hunter22"),
            ("sslPassword", "hunter22"),
            ("pass", "hunter22"),
            ("pwd", "hunter22"),
            ("Pwd", "hunter22"),
            ("secret", "hunter22"),
            ("client_secret", "hunter22"),
            ("token", "hunter22"),
            ("access_token", "hunter22"),
            ("apikey", "hunter22"),
            ("api_key", "hunter22"),
            ("api-key", "hunter22"),
            ("tlsCertificateKeyFilePassword", "hunter22"),
            ("authMechanismProperties", "AWS_SESSION_TOKEN:hunter22"),
            ("pass%77ord", "hunter22"),
        ] {
            let url = format!("mongodb://h/db?authSource=admin&{name}={value}&sslmode=require");
            let shown = redact_url(&url);
            assert_eq!(
                shown,
                format!("mongodb://h/db?authSource=admin&{name}=***&sslmode=require"),
                "{name}"
            );
            assert!(!shown.contains("hunter22"), "{shown}");
        }
        // Both userinfo and query at once, and a fragment.
        assert_eq!(
            redact_url("postgres://u:pw@h/db?password=x&application_name=app#tok"),
            "postgres://u:***@h/db?password=***&application_name=app#***"
        );
        // Parameters without a value, and plain ones, stay.
        assert_eq!(
            redact_url("postgres://h/db?password&sslmode=disable"),
            "postgres://h/db?password&sslmode=disable"
        );
    }

    #[test]
    fn token_userinfo_is_redacted_even_without_a_password() {
        assert_eq!(
            redact_url("https://ghp_16C7e42F292c6912E7710c838347Ae178B4a@example.com/x"),
            "https://***@example.com/x"
        );
        assert_eq!(
            redact_url("mongodb://AKIAIOSFODNN7EXAMPLE:wJalrXUtnFEMI@h/db"),
            "mongodb://***:***@h/db"
        );
        // Ordinary user names are kept.
        assert_eq!(
            redact_url("postgres://baas_readonly_service@h/db"),
            "postgres://baas_readonly_service@h/db"
        );
    }

    #[test]
    fn secrets_are_removed_from_driver_messages() {
        let url = "postgres://u:s%40cret@h/db?sslpassword=keypass";
        let text = format!("cannot connect to {url}: bad password s@cret; key keypass");
        let clean = redact_in(&text, url);
        assert!(
            !clean.contains("cret") && !clean.contains("keypass"),
            "{clean}"
        );
        assert!(
            clean.contains("postgres://u:***@h/db?sslpassword=***"),
            "{clean}"
        );
        let e = redact_error(
            Error::Unavailable {
                message: format!("refused for {url}"),
                source: Some(Box::new(std::io::Error::other(format!("at {url}")))),
            },
            url,
        );
        let chain = format!(
            "{e} / {}",
            std::error::Error::source(&e)
                .map(ToString::to_string)
                .unwrap_or_default()
        );
        assert!(
            !chain.contains("cret") && !chain.contains("keypass"),
            "{chain}"
        );
    }
}
