//! The extension points every operation passes through: who is calling
//! ([`Principal`]), what they may see ([`Policy`]), code around writes
//! ([`WriteHook`]) and what changed ([`ChangeEvent`]).
//!
//! Today mini-baas ships [`AllowAll`] and no hooks; authentication, row-level
//! policies, sandboxed hooks and realtime fan-out plug in here without
//! touching the request path.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use baas_core::error::Result;
use baas_core::ir::{Delete, Filter, Insert, Update, WriteResult};
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
        }
    }

    /// Whether the principal holds `role`.
    pub fn has_role(&self, role: &str) -> bool {
        self.roles.iter().any(|r| r == role)
    }
}

/// What an operation does to an entity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Read rows (also counts and aggregates).
    Read,
    /// Insert or upsert rows.
    Insert,
    /// Update rows.
    Update,
    /// Delete rows.
    Delete,
}

/// The question a [`Policy`] answers.
#[derive(Debug, Clone, Copy)]
pub struct AccessRequest<'a> {
    /// Who is calling.
    pub principal: &'a Principal,
    /// Which tenant.
    pub tenant: &'a str,
    /// Which entity.
    pub entity: &'a Entity,
    /// What they want to do.
    pub action: Action,
}

/// Decides whether an operation may run, and may narrow it to some rows.
#[async_trait]
pub trait Policy: Send + Sync + 'static {
    /// `Err(Error::Forbidden)` to refuse; `Ok(Some(filter))` to restrict
    /// reads, updates and deletes to rows matching `filter` (it is `and`-ed
    /// with the caller's own filter, so the caller cannot widen it);
    /// `Ok(None)` to allow as asked. A filter returned for an insert is not
    /// applicable and is an error: refuse instead.
    async fn authorize(&self, request: &AccessRequest<'_>) -> Result<Option<Filter>>;
}

/// The policy that allows everything (the default; no authentication yet).
#[derive(Debug, Clone, Copy, Default)]
pub struct AllowAll;

#[async_trait]
impl Policy for AllowAll {
    async fn authorize(&self, _request: &AccessRequest<'_>) -> Result<Option<Filter>> {
        Ok(None)
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
/// write runs. `after` sees the committed result and cannot undo it.
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
