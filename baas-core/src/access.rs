//! What a caller may do with an entity, as data: a [`Grant`] per entity and
//! [`Action`], and the [`Access`] a validator applies to every entity a
//! request touches.
//!
//! A grant holds a row filter (the rows the caller may see or change), the
//! fields that may be read, and the fields that may be written. Who decides
//! it (a policy, rules from metadata, the host application) is not this
//! module's concern: the engine asks its policy for the grants of every
//! entity a request touches, then hands them to
//! [`Validator::with_access`](crate::validate::Validator::with_access),
//! which applies them while it checks the request, in the same walk:
//!
//! - **rows**: the root's filter, the filter of every embed at every depth,
//!   the condition of every `exists` (including `rel!inner` and
//!   `rel=not.is.null`), the junction rows of many-to-many relations, counts,
//!   aggregates, and the rows an update or delete touches all get the
//!   grant's filter `and`-ed in, so the caller cannot widen it;
//! - **fields**: `select=*` becomes the readable fields; naming a field that
//!   may not be read (in `select`, a filter, an order, a cursor, a group or
//!   an aggregate, or `returning`) is refused, so hidden values cannot be
//!   inferred by filtering on them; writing a field that may not be written
//!   is refused.
//!
//! A grant's own filter is trusted: it may test fields the caller cannot
//! read (`owner_id = <caller>` with `owner_id` hidden), and its `exists`
//! conditions are not narrowed again by the grants of the entities they
//! reach.

use std::collections::{BTreeMap, HashMap};

use schemars::JsonSchema;

use serde::{Deserialize, Serialize};

use crate::ir::Filter;

/// What an operation does to an entity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Read rows (also counts, aggregates, embeds, `exists`, `returning`).
    Read,
    /// Insert or upsert rows.
    Insert,
    /// Update rows.
    Update,
    /// Delete rows.
    Delete,
    /// Call a function (`/rpc/{name}`); rules name the function.
    Execute,
}

impl Action {
    /// The action's name (`read`, `insert`, `update`, `delete`).
    pub fn name(self) -> &'static str {
        match self {
            Self::Read => "read",
            Self::Insert => "insert",
            Self::Update => "update",
            Self::Delete => "delete",
            Self::Execute => "execute",
        }
    }
}

/// A set of fields: all of an entity's, or only those named.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FieldSet {
    /// Every field.
    #[default]
    All,
    /// Only these fields (by API name).
    Only(Vec<String>),
}

impl FieldSet {
    /// Whether `field` is in the set.
    pub fn contains(&self, field: &str) -> bool {
        match self {
            Self::All => true,
            Self::Only(names) => names.iter().any(|n| n == field),
        }
    }

    /// Whether the set is every field.
    pub fn is_all(&self) -> bool {
        matches!(self, Self::All)
    }
}

/// What a caller may do with one entity for one [`Action`].
///
/// The default grant is everything: no row filter, every field readable and
/// writable.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Grant {
    /// Only rows matching this filter (`None`: every row).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filter: Option<Filter>,
    /// The fields that may be read.
    #[serde(default)]
    pub read: FieldSet,
    /// The fields that may be written.
    #[serde(default)]
    pub write: FieldSet,
    /// For inserts and updates: what every written row must satisfy
    /// afterwards (SQL's `WITH CHECK`). The engine evaluates it on the rows
    /// an insert writes (after `presets`) and refuses the write with
    /// [`Error::Forbidden`](crate::error::Error::Forbidden) when one fails;
    /// on an update, it evaluates what the new values decide and narrows
    /// the update to the rows that satisfy the rest.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub check: Option<Filter>,
    /// For inserts and updates: values the engine sets on every written
    /// row, overriding the caller's (e.g. `owner_id` = the caller). Preset
    /// fields need not be in `write`.
    #[serde(default, skip_serializing_if = "serde_json::Map::is_empty")]
    pub presets: serde_json::Map<String, serde_json::Value>,
    /// The name of the rule the grant came from, for error messages.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
}

impl Grant {
    /// Everything: every row, every field.
    pub fn all() -> Self {
        Self::default()
    }

    /// Builder: only rows matching `filter` (`and`-ed with an earlier one).
    pub fn rows(mut self, filter: Filter) -> Self {
        self.filter = Some(match self.filter.take() {
            None => filter,
            Some(f) => Filter::and(vec![f, filter]),
        });
        self
    }

    /// Builder: only these fields may be read.
    pub fn read_fields<S: Into<String>>(mut self, fields: impl IntoIterator<Item = S>) -> Self {
        self.read = FieldSet::Only(fields.into_iter().map(Into::into).collect());
        self
    }

    /// Builder: only these fields may be written.
    pub fn write_fields<S: Into<String>>(mut self, fields: impl IntoIterator<Item = S>) -> Self {
        self.write = FieldSet::Only(fields.into_iter().map(Into::into).collect());
        self
    }

    /// Builder: written rows must satisfy `check` (`and`-ed with an
    /// earlier one).
    pub fn check(mut self, check: Filter) -> Self {
        self.check = Some(match self.check.take() {
            None => check,
            Some(f) => Filter::and(vec![f, check]),
        });
        self
    }

    /// Builder: set `field` to `value` on every written row.
    pub fn preset(mut self, field: impl Into<String>, value: serde_json::Value) -> Self {
        self.presets.insert(field.into(), value);
        self
    }

    /// Builder: name the rule this grant came from (used in refusals).
    pub fn named(mut self, rule: impl Into<String>) -> Self {
        self.rule = Some(rule.into());
        self
    }

    /// Whether the grant restricts nothing.
    pub fn is_all(&self) -> bool {
        self.filter.is_none()
            && self.read.is_all()
            && self.write.is_all()
            && self.check.is_none()
            && self.presets.is_empty()
    }
}

/// The grants a validator applies, looked up by entity and action.
///
/// # Contract
/// `grant` is called for every entity the request touches (the root, every
/// embed target and junction, every `exists` target and junction) with
/// [`Action::Read`], and for the root of a write with its action; `None`
/// means unrestricted. An implementation answers from memory: the engine
/// asks its (asynchronous) policy first, for
/// [`touched_entities`](crate::validate::touched_entities), and keeps the
/// answers in [`Grants`].
pub trait Access: Send + Sync {
    /// The grant for `action` on `entity`, if restricted.
    fn grant(&self, entity: &str, action: Action) -> Option<&Grant>;
}

/// Grants collected ahead of validation: one per (entity, action) that is
/// restricted; anything missing is unrestricted.
#[derive(Debug, Clone, Default)]
pub struct Grants {
    map: HashMap<(String, Action), Grant>,
}

impl Grants {
    /// No grant: everything unrestricted.
    pub fn new() -> Self {
        Self::default()
    }

    /// Record the grant for `action` on `entity` (a grant that restricts
    /// nothing is not stored).
    pub fn insert(&mut self, entity: impl Into<String>, action: Action, grant: Grant) {
        let key = (entity.into(), action);
        if grant.is_all() {
            self.map.remove(&key);
        } else {
            self.map.insert(key, grant);
        }
    }

    /// Whether every grant is unrestricted.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }
}

impl Access for Grants {
    fn grant(&self, entity: &str, action: Action) -> Option<&Grant> {
        // Keys are (String, Action): look up without allocating when empty.
        if self.map.is_empty() {
            return None;
        }
        self.map.get(&(entity.to_string(), action))
    }
}

/// A permission rule, as metadata (`SchemaMetadata::rules`): for one
/// entity, the actions and roles it covers, and what it grants them.
///
/// Filters are written in the URL filter grammar (`owner_id=eq.auth.uid()`,
/// `or=(public.is.true,owner_id=eq.auth.uid())`, several conditions joined
/// by `&`); `auth.uid()`, `auth.role()` and `auth.jwt()->>claim` stand for
/// the caller's values and are bound as parameters when a request runs.
/// What compiles and applies rules is the policy the engine is built with
/// (`baas-auth`'s rules policy); this type is only their stored form.
///
/// A caller whose role no rule of an entity names gets nothing on it
/// (closed by default); several rules for the same caller and action are
/// alternatives (their filters `or`-ed, their field lists joined).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    /// The entity (API name).
    pub entity: String,
    /// A name for messages (`"own notes"`); default: `entity:action`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The actions it covers.
    pub action: Vec<Action>,
    /// The roles it covers (`anon`, `authenticated`, or a role claim).
    pub role: Vec<String>,
    /// Rows it covers (SQL's `USING`); absent: every row.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filter: Option<String>,
    /// What written rows must satisfy (SQL's `WITH CHECK`); insert and
    /// update only; absent: nothing more.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub check: Option<String>,
    /// The readable fields; absent: all.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub read: Option<Vec<String>>,
    /// The writable fields; absent: all.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub write: Option<Vec<String>>,
    /// Values set on written rows (`{"owner_id": "auth.uid()"}`): a
    /// caller reference or a JSON value.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub preset: BTreeMap<String, serde_json::Value>,
}

impl Rule {
    /// The rule's name for messages.
    pub fn display_name(&self) -> String {
        self.name.clone().unwrap_or_else(|| {
            let actions: Vec<&str> = self.action.iter().map(|a| a.name()).collect();
            format!("{}:{}", self.entity, actions.join(","))
        })
    }
}
