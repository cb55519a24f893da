//! Supabase mode: a Supabase project is a PostgreSQL database with internal
//! schemas (auth, storage, realtime, …) that are not the application's data.
//!
//! [`connection_url`] turns what a developer has at hand — the project URL
//! (`https://<ref>.supabase.co`), the bare project reference, the database host
//! (`db.<ref>.supabase.co`) or a full connection string — plus the database
//! password into a PostgreSQL URL (TLS required), and [`INTERNAL_SCHEMAS`]
//! lists what introspection leaves out by default.

use crate::ImportError;

/// Schemas Supabase creates for its own services.
pub const INTERNAL_SCHEMAS: &[&str] = &[
    "auth",
    "storage",
    "realtime",
    "_realtime",
    "graphql",
    "graphql_public",
    "extensions",
    "vault",
    "pgsodium",
    "pgsodium_masks",
    "supabase_functions",
    "supabase_migrations",
    "net",
    "pgbouncer",
    "cron",
    "_analytics",
    "pgtle",
];

/// Whether `source` names a Supabase project (URL, host or `supabase:<ref>`).
pub fn is_supabase(source: &str) -> bool {
    let s = source.trim().to_ascii_lowercase();
    s.starts_with("supabase:") || host_of(&s).is_some_and(|h| h.ends_with(".supabase.co"))
}

fn host_of(s: &str) -> Option<&str> {
    let rest = s.split_once("://").map_or(s, |(_, r)| r);
    let rest = rest.rsplit_once('@').map_or(rest, |(_, r)| r);
    let host = rest.split(['/', ':', '?']).next()?;
    (!host.is_empty()).then_some(host)
}

/// The project reference in a Supabase URL, host, `supabase:<ref>` or bare ref.
pub fn project_ref(source: &str) -> Result<String, ImportError> {
    let s = source.trim().to_ascii_lowercase();
    let candidate = if let Some(r) = s.strip_prefix("supabase:") {
        r.trim_start_matches('/').to_string()
    } else if let Some(host) = host_of(&s).filter(|h| h.ends_with(".supabase.co")) {
        let first = host.trim_end_matches(".supabase.co");
        // db.<ref>.supabase.co, <ref>.supabase.co, aws-0-…pooler.supabase.com is not a project host.
        first.strip_prefix("db.").unwrap_or(first).to_string()
    } else {
        s.clone()
    };
    let valid = (10..=40).contains(&candidate.len())
        && candidate
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
    if valid {
        Ok(candidate)
    } else {
        Err(ImportError {
            location: crate::Location::Document,
            message: format!(
                "`{source}` is not a Supabase project URL or reference (expected https://<ref>.supabase.co or a 20-character reference)"
            ),
        })
    }
}

/// Percent-encode a URL userinfo component.
fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A PostgreSQL connection URL for a Supabase project.
///
/// A `postgres://` / `postgresql://` connection string is returned as is
/// (`password` then must be empty or already in it); anything else is read as
/// a project URL / host / reference and combined with `password` for the
/// project's direct database connection, with `sslmode=require`.
///
/// ```
/// use baas_introspect::supabase::connection_url;
/// assert_eq!(
///     connection_url("https://abcdefghijklmnopqrst.supabase.co", "p@ss word").unwrap(),
///     "postgres://postgres:p%40ss%20word@db.abcdefghijklmnopqrst.supabase.co:5432/postgres?sslmode=require"
/// );
/// ```
pub fn connection_url(source: &str, password: &str) -> Result<String, ImportError> {
    let trimmed = source.trim();
    let lower = trimmed.to_ascii_lowercase();
    if lower.starts_with("postgres://") || lower.starts_with("postgresql://") {
        return Ok(trimmed.to_string());
    }
    let r = project_ref(trimmed)?;
    if password.is_empty() {
        return Err(ImportError {
            location: crate::Location::Document,
            message:
                "the Supabase database password is required (--password or SUPABASE_DB_PASSWORD)"
                    .into(),
        });
    }
    Ok(format!(
        "postgres://postgres:{}@db.{r}.supabase.co:5432/postgres?sslmode=require",
        encode(password)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    const REF: &str = "abcdefghijklmnopqrst";

    #[test]
    fn every_way_of_naming_a_project() {
        for s in [
            "https://abcdefghijklmnopqrst.supabase.co",
            "https://abcdefghijklmnopqrst.supabase.co/",
            "abcdefghijklmnopqrst.supabase.co",
            "db.abcdefghijklmnopqrst.supabase.co",
            "supabase:abcdefghijklmnopqrst",
            "ABCDEFGHIJKLMNOPQRST",
            "abcdefghijklmnopqrst",
        ] {
            assert_eq!(project_ref(s).unwrap(), REF, "{s}");
        }
        assert!(is_supabase("https://abcdefghijklmnopqrst.supabase.co"));
        assert!(is_supabase("supabase:abc"));
        assert!(!is_supabase("postgres://localhost/db"));
    }

    #[test]
    fn urls_and_errors() {
        let url = connection_url(REF, "s3cr3t/:@?").unwrap();
        assert_eq!(
            url,
            "postgres://postgres:s3cr3t%2F%3A%40%3F@db.abcdefghijklmnopqrst.supabase.co:5432/postgres?sslmode=require"
        );
        let direct = "postgresql://postgres.x:pw@aws-0-eu.pooler.supabase.com:6543/postgres";
        assert_eq!(connection_url(direct, "").unwrap(), direct);
        assert!(connection_url(REF, "").is_err(), "password required");
        assert!(connection_url("https://example.com", "pw").is_err());
        assert!(connection_url("not a ref!", "pw").is_err());
        assert!(connection_url("", "pw").is_err());
    }
}
