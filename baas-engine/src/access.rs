//! The extension points every operation passes through: who is calling
//! ([`Principal`]), what they may see ([`Policy`]), code around writes
//! ([`WriteHook`]) and what changed ([`ChangeEvent`]).
//!
//! Today mini-baas ships [`AllowAll`] and no hooks; authentication, row-level
//! rules, sandboxed hooks and realtime fan-out plug in here without
//! touching the request path.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

pub use baas_core::access::{Action, Grant};
use baas_core::error::Result;
use baas_core::ir::{Delete, Insert, Update, WriteResult};
use baas_core::metadata::Entity;

type Row = serde_json::Map<String, serde_json::Value>;

/// Who is calling. The web layer builds it (from a verified token, an API
/// key, or nothing) and the engine hands it to every [`Policy`] and
/// [`WriteHook`] call.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Principal {
    /// Stable subject id (`sub` of a token), `None` when anonymous.
    pub subject: Option<String>,
    /// Roles granted.
    pub roles: Vec<String>,
    /// Other verified claims, for policies.
    pub claims: serde_json::Map<String, serde_json::Value>,
    /// The HTTP request the caller made, where the web layer knows it:
    /// what the database sees of it in PostgREST's request settings
    /// ([`request_settings`](Self::request_settings)). Not serialized.
    #[serde(skip)]
    pub request: Option<std::sync::Arc<RequestInfo>>,
    /// The time zone the caller reads and writes instants in (PostgREST's
    /// `Prefer: timezone`, its session's `TimeZone`): a `timestamptz`
    /// written without an offset is a local time there, and answers write
    /// instants there ([`Zone`](baas_core::zone::Zone)). UTC when `None`.
    /// Not serialized.
    #[serde(skip)]
    pub timezone: Option<baas_core::zone::Zone>,
}

/// The role of the platform's administrator (the admin key): every admin
/// route, and everything on every tenant.
pub const ADMIN_ROLE: &str = "baas_admin";

/// The database roles a caller's statements may take where the tenant
/// switches roles ([`TenantConfig::database_roles`](crate::TenantConfig::database_roles)):
/// Supabase's API roles. Any other role (an external issuer's claim
/// naming the tenant's own database user, which owns the tables and
/// escapes their policies) is refused.
pub const DATABASE_ROLES: [&str; 3] = ["anon", "authenticated", "service_role"];

/// The HTTP request behind a [`Principal`], as PostgREST shows it to the
/// database: `request.method`, `request.path`, `request.headers` and
/// `request.cookies`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RequestInfo {
    /// The method, upper case (`GET`, `POST`…).
    pub method: String,
    /// The path below the tenant's REST root (`/memo`, `/rpc/f`), as
    /// PostgREST's own root shows it.
    pub path: String,
    /// The headers, as sent (names are lowered in the settings).
    pub headers: Vec<(String, String)>,
}

impl RequestInfo {
    /// The settings of this request: `request.method`, `request.path`,
    /// `request.headers` (a JSON object, names in lower case, a repeated
    /// header's values joined by `, `) and `request.cookies` (a JSON
    /// object of the `Cookie` headers' pairs).
    fn settings(&self) -> [(String, String); 4] {
        let mut headers = serde_json::Map::new();
        let mut cookies = serde_json::Map::new();
        for (name, value) in &self.headers {
            let name = name.to_ascii_lowercase();
            if name == "cookie" {
                for pair in value.split(';') {
                    if let Some((k, v)) = pair.split_once('=') {
                        cookies.insert(k.trim().to_string(), v.trim().into());
                    }
                }
            }
            match headers.get_mut(&name) {
                Some(serde_json::Value::String(joined)) => {
                    joined.push_str(", ");
                    joined.push_str(value);
                }
                _ => {
                    headers.insert(name, value.clone().into());
                }
            }
        }
        [
            ("request.method".into(), self.method.to_ascii_uppercase()),
            ("request.path".into(), self.path.clone()),
            (
                "request.headers".into(),
                serde_json::Value::Object(headers).to_string(),
            ),
            (
                "request.cookies".into(),
                serde_json::Value::Object(cookies).to_string(),
            ),
        ]
    }
}

impl Principal {
    /// Nobody in particular.
    pub fn anonymous() -> Self {
        Self::default()
    }

    /// A subject with roles.
    pub fn new(subject: impl Into<String>, roles: impl IntoIterator<Item = String>) -> Self {
        Self {
            subject: Some(subject.into()),
            roles: roles.into_iter().collect(),
            claims: serde_json::Map::new(),
            request: None,
            timezone: None,
        }
    }

    /// PostgREST's request settings for the statements run on this
    /// principal's behalf (a function call, a write, a read calling a
    /// function): `request.jwt.claims`, the verified claims as JSON with
    /// `sub` (the subject) and `role` (the `role` claim, or the first
    /// role; `anon` without one), which Supabase's `auth.uid()` and
    /// `auth.jwt()` read ([`DatabaseAdapter::find_call`]), then, with the
    /// [`request`](Self::request) known, `request.method`,
    /// `request.path`, `request.headers` and `request.cookies`.
    ///
    /// ```
    /// use baas_engine::Principal;
    /// let p = Principal::new("u1", vec!["authenticated".into()]);
    /// let s = p.request_settings();
    /// assert_eq!(s[0].0, "request.jwt.claims");
    /// let claims: serde_json::Value = serde_json::from_str(&s[0].1).unwrap();
    /// assert_eq!((claims["sub"].as_str(), claims["role"].as_str()), (Some("u1"), Some("authenticated")));
    /// ```
    ///
    /// [`DatabaseAdapter::find_call`]: baas_core::DatabaseAdapter::find_call
    pub fn request_settings(&self) -> Vec<(String, String)> {
        let mut claims = self.claims.clone();
        if let Some(sub) = &self.subject {
            claims.insert("sub".into(), sub.clone().into());
        }
        if !claims.get("role").is_some_and(serde_json::Value::is_string) {
            let role = self.roles.first().map_or("anon", String::as_str);
            claims.insert("role".into(), role.into());
        }
        let mut settings = vec![(
            "request.jwt.claims".into(),
            serde_json::Value::Object(claims).to_string(),
        )];
        if let Some(request) = &self.request {
            settings.extend(request.settings());
        }
        settings
    }

    /// The database role this principal's statements run as where the
    /// tenant switches roles
    /// ([`TenantConfig::database_roles`](crate::TenantConfig::database_roles)):
    /// its first role (`anon` without one; the platform's administrator is
    /// `service_role`), which must be one of [`DATABASE_ROLES`], else a
    /// [`Forbidden`](baas_core::Error::Forbidden).
    pub fn database_role(&self) -> Result<&'static str, baas_core::Error> {
        let role = self.roles.first().map_or("anon", String::as_str);
        // The platform's administrator acts as the tenant's service role.
        let role = if role == ADMIN_ROLE {
            "service_role"
        } else {
            role
        };
        DATABASE_ROLES
            .into_iter()
            .find(|r| *r == role)
            .ok_or_else(|| {
                baas_core::Error::Forbidden(format!(
                    "the role `{}` runs no statement here: this tenant's requests run as the database roles {}",
                    role.chars().take(64).collect::<String>(),
                    DATABASE_ROLES.join(", ")
                ))
            })
    }

    /// This principal making `request` ([`Principal::request`]).
    pub fn with_request(mut self, request: RequestInfo) -> Self {
        self.request = Some(std::sync::Arc::new(request));
        self
    }

    /// This principal in time zone `zone` ([`Principal::timezone`]).
    pub fn in_zone(mut self, zone: Option<baas_core::zone::Zone>) -> Self {
        self.timezone = zone;
        self
    }

    /// Whether the principal holds `role`.
    pub fn has_role(&self, role: &str) -> bool {
        self.roles.iter().any(|r| r == role)
    }

    /// Whether the principal may see execution plans (PostgREST's
    /// `Accept: application/vnd.pgrst.plan`): they show the schema,
    /// indexes and row estimates, so only the service role (or the admin).
    pub fn sees_plans(&self) -> bool {
        self.has_role("service_role") || self.has_role("baas_admin")
    }
}

/// What a policy is asked about. An entity today; storage buckets and
/// realtime channels join it when those route families land (the enum is
/// `#[non_exhaustive]`, so a policy matches with a fallback arm).
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub enum Resource<'a> {
    /// An entity (table / collection) of the tenant's metadata.
    Entity(&'a Entity),
    /// A function of the tenant's metadata (`/rpc/{name}`), for
    /// [`Action::Execute`].
    Function(&'a baas_core::function::Function),
}

/// The question a [`Policy`] answers.
#[derive(Debug, Clone, Copy)]
pub struct AccessRequest<'a> {
    /// Who is calling.
    pub principal: &'a Principal,
    /// Which tenant.
    pub tenant: &'a str,
    /// What is accessed.
    pub resource: Resource<'a>,
    /// What they want to do with it.
    pub action: Action,
    /// The tenant's metadata the request runs against.
    pub schema: &'a baas_core::metadata::SchemaMetadata,
    /// Its version (1, 2, …): a policy that compiles rules caches them by
    /// it.
    pub version: u64,
}

/// Decides what a caller may do: for a resource and an action, a [`Grant`]
/// (the rows, the fields that may be read, the fields that may be
/// written), or a refusal.
///
/// The engine asks for every entity a request touches — the root, every
/// embed target and many-to-many junction at every depth, every `exists`
/// target — and applies the grants there (see [`baas_core::access`]):
/// row filters are `and`-ed with the caller's own filters, `select=*`
/// narrows to the readable fields, and naming a hidden field anywhere is
/// refused. Embeds, `exists`, counts, aggregates and `returning` are
/// [`Action::Read`]; an update or delete also gets the read grant's rows
/// (what the caller cannot see, it cannot change); an upsert that merges
/// into existing rows needs the update grant too.
///
/// # Contract
/// - `Err(Error::Forbidden)` refuses the whole request;
/// - `Ok(Grant::all())` allows as asked;
/// - a grant's row filter for [`Action::Insert`] (or [`Action::Update`] on
///   a merging upsert) cannot apply to new rows: the engine refuses such
///   writes instead (row checks on new rows come with rules);
/// - a grant's filter is trusted: it is checked against the metadata (a
///   filter that does not fit is a server error), not against the grant's
///   own field lists.
#[async_trait]
pub trait Policy: Send + Sync + 'static {
    /// The caller's grant for `request`.
    async fn grant(&self, request: &AccessRequest<'_>) -> Result<Grant>;

    /// Check metadata about to be stored (its rules, for a policy that
    /// compiles them): an error refuses the change. Default: accept.
    fn check_schema(&self, schema: &baas_core::metadata::SchemaMetadata) -> Result<()> {
        let _ = schema;
        Ok(())
    }
}

/// The policy that allows everything (the default; no authentication yet).
#[derive(Debug, Clone, Copy, Default)]
pub struct AllowAll;

#[async_trait]
impl Policy for AllowAll {
    async fn grant(&self, _request: &AccessRequest<'_>) -> Result<Grant> {
        Ok(Grant::all())
    }
}

/// A write about to run (or that ran), as IR.
#[derive(Debug, Clone, PartialEq)]
pub enum WriteOp {
    /// Insert / upsert.
    Insert(Insert),
    /// Update by filter.
    Update(Update),
    /// Delete by filter.
    Delete(Delete),
}

impl WriteOp {
    /// The entity written.
    pub fn entity(&self) -> &str {
        match self {
            Self::Insert(i) => &i.entity,
            Self::Update(u) => &u.entity,
            Self::Delete(d) => &d.entity,
        }
    }

    /// Whether it writes nothing: an insert of no row, an update that
    /// sets no field.
    pub fn is_empty(&self) -> bool {
        match self {
            Self::Insert(i) => i.rows.is_empty(),
            Self::Update(u) => u.set.is_empty(),
            Self::Delete(_) => false,
        }
    }

    /// The action, for policies and events.
    pub fn action(&self) -> Action {
        match self {
            Self::Insert(_) => Action::Insert,
            Self::Update(_) => Action::Update,
            Self::Delete(_) => Action::Delete,
        }
    }
}

/// Context given to hooks.
#[derive(Debug, Clone, Copy)]
pub struct HookContext<'a> {
    /// Who is calling.
    pub principal: &'a Principal,
    /// Which tenant.
    pub tenant: &'a str,
    /// Which entity.
    pub entity: &'a Entity,
}

/// Code run around every write. `before` may change the write (e.g. stamp
/// an owner field) or refuse it; its changes are validated again before the
/// write runs. `after` sees the committed result and cannot undo it. The
/// plan of a write (`Accept: application/vnd.pgrst.plan`) runs no hook: it
/// has no side effects, so it shows the write as the caller sent it (a
/// write a `before` hook completes, a required field it stamps, may then
/// fail validation).
#[async_trait]
pub trait WriteHook: Send + Sync + 'static {
    /// Before the write; an error aborts it with nothing written.
    async fn before(&self, ctx: &HookContext<'_>, op: &mut WriteOp) -> Result<()> {
        let _ = (ctx, op);
        Ok(())
    }

    /// After the write committed.
    async fn after(&self, ctx: &HookContext<'_>, op: &WriteOp, result: &WriteResult) {
        let _ = (ctx, op, result);
    }
}

/// What a committed write changed, published to the subscribers of
/// [`Baas::subscribe`](crate::Baas::subscribe).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChangeEvent {
    /// Tenant id.
    pub tenant: String,
    /// Entity name.
    pub entity: String,
    /// Insert, update or delete.
    pub action: Action,
    /// Rows affected.
    pub affected: u64,
    /// The written rows when the write returned them (`returning`), else
    /// empty: the event never costs an extra query.
    pub rows: Vec<Row>,
    /// Metadata version the write ran against.
    pub schema_version: u64,
}
