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

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::ir::Filter;

/// What an operation does to an entity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
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
}

impl Action {
    /// The action's name (`read`, `insert`, `update`, `delete`).
    pub fn name(self) -> &'static str {
        match self {
            Self::Read => "read",
            Self::Insert => "insert",
            Self::Update => "update",
            Self::Delete => "delete",
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

    /// Whether the grant restricts nothing.
    pub fn is_all(&self) -> bool {
        self.filter.is_none() && self.read.is_all() && self.write.is_all()
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
