//! Tenants: who is served, from which database, in which mode.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use baas_core::adapter::IntrospectOptions;
use baas_core::error::{Error, Result};
use baas_core::redact::redact_url;

/// Longest tenant id accepted.
pub const MAX_TENANT_ID_LEN: usize = 64;

/// Who owns the schema of a tenant's database.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum TenantMode {
    /// mini-baas owns the schema: entities are created and altered through
    /// the engine, which applies the DDL.
    Managed,
    /// An existing database: metadata comes from live introspection and the
    /// engine never changes the schema (re-run introspection after a
    /// migration).
    Introspected,
}

/// Per-tenant resource limits.
///
/// `max_rows`, `embed_limit` and `max_response_bytes` bound the *total*
/// work of one read, whatever its shape: the root page and every embedded
/// row at every depth together.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct TenantLimits {
    /// Most connections the tenant's pool may open.
    pub max_connections: u32,
    /// Most rows one read may fetch from the database, and most rows its
    /// answer may hold, counting the root page and every embedded row at
    /// every depth (a row embedded under two parents counts twice in the
    /// answer). Beyond it the read is refused with `limit_exceeded` (400)
    /// before the rows are materialised. It also bounds the rows a write
    /// answers (`returning`: [`Update::max_rows`](baas_core::ir::Update::max_rows)):
    /// such a write past it writes nothing.
    pub max_rows: u64,
    /// Rows per parent of a to-many embed that gives no `limit` of its own
    /// (an embedded list is a page too; a larger explicit limit is kept,
    /// `max_rows` still bounds the total).
    pub embed_limit: u64,
    /// Largest response body of a read, in bytes (`limit_exceeded`, 400,
    /// beyond it).
    pub max_response_bytes: u64,
    /// The longest one statement of a request may run on the tenant's
    /// database, in milliseconds, before the database cancels it (504
    /// `57014`; a write in a transaction is rolled back): PostgreSQL's `statement_timeout`,
    /// MariaDB's `max_statement_time` (MySQL's `max_execution_time`, reads
    /// only), SQLite's progress handler (a statement, or a transaction's
    /// statements together, lock waits included), MongoDB's `maxTimeMS`
    /// (aggregations: reads, counts, the keys a write with a representation
    /// matches; upserts; updates and deletes).
    /// Introspection and schema changes run under it too. A read's
    /// statements together (a count, one per embedding level) are bounded
    /// by it as well ([`Baas::find`](crate::Baas::find)). `0`: the
    /// database's own setting, and no bound on a read. At most one hour.
    pub statement_timeout_ms: u64,
}

impl TenantLimits {
    /// [`statement_timeout_ms`](Self::statement_timeout_ms) as a duration
    /// (`None` when `0`: the database's own setting).
    pub fn statement_timeout(&self) -> Option<std::time::Duration> {
        (self.statement_timeout_ms > 0)
            .then(|| std::time::Duration::from_millis(self.statement_timeout_ms))
    }
}

impl Default for TenantLimits {
    fn default() -> Self {
        Self {
            max_connections: 8,
            max_rows: 10_000,
            embed_limit: 1_000,
            max_response_bytes: 16 * 1024 * 1024,
            statement_timeout_ms: 8_000,
        }
    }
}

/// A registered tenant.
///
/// The `url` may hold a password: it is kept in the metadata store and never
/// returned by the REST layer ([`TenantConfig::redacted`]); its `Debug`
/// output shows it redacted.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TenantConfig {
    /// Tenant id: 1–64 characters of `[A-Za-z0-9_-]`, not starting with `_`
    /// (the first path segment of every request).
    pub id: String,
    /// Database URL (`postgres://…`, `mysql://…`, `sqlite:…`, `mongodb://…`).
    pub url: String,
    /// Who owns the schema.
    pub mode: TenantMode,
    /// Resource limits.
    #[serde(default)]
    pub limits: TenantLimits,
    /// What introspection reads (introspected tenants).
    #[serde(default)]
    pub introspect: IntrospectOptions,
    /// Who else may sign this tenant's callers in.
    #[serde(default, skip_serializing_if = "TenantAuth::is_empty")]
    pub auth: TenantAuth,
    /// How decimal (`numeric`) values are written in JSON answers:
    /// `number` (the default: exact digits, as PostgREST), or `string` (for
    /// clients that parse JSON numbers into doubles and must not lose
    /// digits).
    #[serde(default, skip_serializing_if = "DecimalFormat::is_default")]
    pub decimals: DecimalFormat,
    /// Whether reads may aggregate (`count()`, `col.sum()`…, at the top,
    /// inside embeddings and spreads, of `/rpc` rows too): on by default,
    /// bounded like any read (the row budget, the statement timeout);
    /// `false` answers them 400 `PGRST123`, as PostgREST does without
    /// `db-aggregates-enabled`.
    #[serde(default = "aggregates_on", skip_serializing_if = "is_on")]
    pub aggregates: bool,
    /// PostgreSQL: every statement of a caller's request runs as the
    /// caller's database role (PostgREST's `SET LOCAL role`, here
    /// `set_config('role', …, true)` in a transaction that also sets the
    /// request settings), so the database's own `GRANT`s and row-level
    /// security policies (`USING (owner = auth.uid())`) apply to it,
    /// besides the tenant's rules. The role is the caller's first role
    /// (`anon`, `authenticated`, `service_role`…, as the tenant's keys and
    /// tokens give it); the tenant's database user must be a member of
    /// each (`GRANT authenticated TO …`). Off by default: statements run
    /// as the tenant's database user, one each on the pool. Refused on
    /// other engines.
    #[serde(default, skip_serializing_if = "is_off")]
    pub database_roles: bool,
}

#[allow(clippy::trivially_copy_pass_by_ref)] // serde's `skip_serializing_if` passes a reference
fn is_off(b: &bool) -> bool {
    !*b
}

fn aggregates_on() -> bool {
    true
}

#[allow(clippy::trivially_copy_pass_by_ref)] // serde's `skip_serializing_if` passes a reference
fn is_on(b: &bool) -> bool {
    *b
}

/// How a tenant's answers write decimal values ([`TenantConfig::decimals`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum DecimalFormat {
    /// A JSON number with the column's exact digits (`12.50`).
    #[default]
    Number,
    /// A JSON string (`"12.50"`).
    String,
}

impl DecimalFormat {
    fn is_default(&self) -> bool {
        *self == Self::default()
    }
}

/// A tenant's authentication settings beyond its own keys and users.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TenantAuth {
    /// External identity providers whose tokens this tenant trusts
    /// (bring-your-own auth: Auth0, Clerk, Firebase, Keycloak, another
    /// Supabase project…).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub external: Vec<ExternalIssuer>,
}

impl TenantAuth {
    /// Whether nothing is configured.
    pub fn is_empty(&self) -> bool {
        self.external.is_empty()
    }
}

/// An external issuer of access tokens: tokens whose `iss` is `issuer`,
/// signed by a key of the JWKS at `jwks_url` (asymmetric algorithms only),
/// with one of `audience` (when given), are callers of the tenant, with
/// the subject and role read from the claims named here.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ExternalIssuer {
    /// The exact `iss` of its tokens.
    pub issuer: String,
    /// Where its public keys are (`https://`; `http://` only for a loopback
    /// host).
    pub jwks_url: String,
    /// Accepted `aud` values; empty: any (not recommended).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub audience: Vec<String>,
    /// JSON pointer to the subject claim [default: `/sub`].
    #[serde(default = "default_subject_claim")]
    pub subject_claim: String,
    /// JSON pointer to the role claim (e.g. `/role`, `/app_metadata/role`,
    /// `/https:~1~1hasura.io~1jwt~1claims/x-hasura-default-role`); absent
    /// or missing in a token: `default_role`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role_claim: Option<String>,
    /// The role of its callers when the token names none [default:
    /// `authenticated`]. An external token can never be `service_role`.
    #[serde(default = "default_external_role")]
    pub default_role: String,
}

fn default_subject_claim() -> String {
    "/sub".into()
}

fn default_external_role() -> String {
    "authenticated".into()
}

impl ExternalIssuer {
    fn check(&self, at: &str) -> Result<()> {
        if self.issuer.trim().is_empty() {
            return Err(Error::validation(
                format!("{at}/issuer"),
                "the issuer is empty",
            ));
        }
        let url = self.jwks_url.to_ascii_lowercase();
        let loopback = ["http://127.0.0.1", "http://localhost", "http://[::1]"]
            .iter()
            .any(|p| {
                url.strip_prefix(p)
                    .is_some_and(|rest| rest.is_empty() || rest.starts_with([':', '/']))
            });
        if !url.starts_with("https://") && !loopback {
            return Err(Error::validation(
                format!("{at}/jwks_url"),
                "the JWKS URL must be https:// (http:// only on a loopback host)",
            ));
        }
        for (what, p) in [
            ("subject_claim", Some(&self.subject_claim)),
            ("role_claim", self.role_claim.as_ref()),
        ] {
            if let Some(p) = p
                && !p.starts_with('/')
            {
                return Err(Error::validation(
                    format!("{at}/{what}"),
                    "a claim is named by a JSON pointer (`/sub`, `/app_metadata/role`)",
                ));
            }
        }
        if ["service_role", "baas_admin"].contains(&self.default_role.as_str())
            || self.default_role.is_empty()
        {
            return Err(Error::validation(
                format!("{at}/default_role"),
                "an external token cannot stand for the service role or the admin",
            ));
        }
        Ok(())
    }
}

impl std::fmt::Debug for TenantConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TenantConfig")
            .field("id", &self.id)
            .field("url", &self.redacted_url())
            .field("mode", &self.mode)
            .field("limits", &self.limits)
            .field("introspect", &self.introspect)
            .field("auth", &self.auth)
            .field("decimals", &self.decimals)
            .field("aggregates", &self.aggregates)
            .field("database_roles", &self.database_roles)
            .finish()
    }
}

impl TenantConfig {
    /// A tenant with default limits and introspection options.
    pub fn new(id: impl Into<String>, url: impl Into<String>, mode: TenantMode) -> Self {
        Self {
            id: id.into(),
            url: url.into(),
            mode,
            limits: TenantLimits::default(),
            introspect: IntrospectOptions::default(),
            auth: TenantAuth::default(),
            decimals: DecimalFormat::default(),
            aggregates: true,
            database_roles: false,
        }
    }

    /// Check the id and limits.
    pub fn check(&self) -> Result<()> {
        check_tenant_id(&self.id)?;
        if self.url.trim().is_empty() {
            return Err(Error::validation("/url", "the database URL is empty"));
        }
        if self.limits.max_connections == 0 || self.limits.max_connections > 1000 {
            return Err(Error::validation(
                "/limits/max_connections",
                "max_connections must be between 1 and 1000",
            ));
        }
        if self.limits.statement_timeout_ms > 3_600_000 {
            return Err(Error::validation(
                "/limits/statement_timeout_ms",
                "statement_timeout_ms must be at most 3600000 (one hour); 0 keeps the database's own setting",
            ));
        }
        for (at, v) in [
            ("/limits/max_rows", self.limits.max_rows),
            ("/limits/embed_limit", self.limits.embed_limit),
            ("/limits/max_response_bytes", self.limits.max_response_bytes),
        ] {
            if v == 0 {
                return Err(Error::validation(at, "the limit must be at least 1"));
            }
        }
        for (i, e) in self.auth.external.iter().enumerate() {
            e.check(&format!("/auth/external/{i}"))?;
        }
        let scheme = self.url.split(':').next().unwrap_or("");
        if self.database_roles && !matches!(scheme, "postgres" | "postgresql") {
            return Err(Error::validation(
                "/database_roles",
                "database roles are PostgreSQL's: the database URL must be postgres://…",
            ));
        }
        Ok(())
    }

    /// The URL with any password replaced by `***`, for logs and responses.
    pub fn redacted_url(&self) -> String {
        redact_url(&self.url)
    }

    /// A copy safe to show: the URL redacted.
    pub fn redacted(&self) -> Self {
        Self {
            url: self.redacted_url(),
            ..self.clone()
        }
    }
}

/// Check a tenant id: 1–64 characters of `[A-Za-z0-9_-]`, not starting with `_`.
pub fn check_tenant_id(id: &str) -> Result<()> {
    let ok = !id.is_empty()
        && id.len() <= MAX_TENANT_ID_LEN
        && !id.starts_with('_')
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if ok {
        Ok(())
    } else {
        Err(Error::validation(
            "/id",
            format!(
                "tenant ids are 1-{MAX_TENANT_ID_LEN} characters of A-Z, a-z, 0-9, `_` and `-`, not starting with `_`"
            ),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids() {
        for ok in ["acme", "a", "Acme_2-x", &"a".repeat(64)] {
            assert!(check_tenant_id(ok).is_ok(), "{ok}");
        }
        for bad in ["", "_admin", "a/b", "a b", "é", &"a".repeat(65), "a.b"] {
            assert!(check_tenant_id(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn debug_output_is_redacted() {
        let t = TenantConfig::new("a", "postgres://u:hunter2@h/db", TenantMode::Managed);
        let shown = format!("{t:?}");
        assert!(
            !shown.contains("hunter2") && shown.contains("u:***@h"),
            "{shown}"
        );
    }
}
