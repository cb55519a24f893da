//! The report of skipped statements: the reasons, and repeated statements
//! (`INSERT`, `COPY`, `SET`…) summarised as one entry.

use std::collections::HashMap;

use crate::{Location, Skipped};

use super::Pos;

pub(super) const R_SESSION: &str = "session setting; not part of the schema";
pub(super) const R_DATA: &str = "data, not schema";
pub(super) const R_OWNER: &str = "ownership is not modelled";
pub(super) const R_PRIVILEGES: &str = "privileges and roles are not modelled";
pub(super) const R_CODE: &str =
    "server-side code (functions, procedures, triggers, aggregates, rules) is not modelled";
pub(super) const R_SEQUENCE: &str =
    "sequences are not modelled; columns defaulting to nextval() are auto-increment";
pub(super) const R_DROP: &str = "drops are ignored; the objects the dump creates are imported";
pub(super) const R_DATABASE: &str = "databases, schemas and extensions are not modelled";
pub(super) const R_CLIENT: &str = "client command";
pub(super) const R_TRANSACTION: &str = "transaction control";
pub(super) const R_NOT_MODELLED: &str = "statement not modelled";
pub(super) const R_EXPR_INDEX: &str =
    "expression index; only indexes on plain columns are modelled";

struct SkipItem {
    pos: Pos,
    what: String,
    reason: String,
    statements: usize,
    rows: usize,
}

#[derive(Default)]
pub(super) struct Skips {
    items: Vec<SkipItem>,
    groups: HashMap<String, usize>,
}

impl Skips {
    pub(super) fn one(&mut self, pos: Pos, what: impl Into<String>, reason: impl Into<String>) {
        self.items.push(SkipItem {
            pos,
            what: what.into(),
            reason: reason.into(),
            statements: 1,
            rows: 0,
        });
    }

    /// Count one more statement (and `rows` rows) under `key`, reported once
    /// at its first position.
    pub(super) fn group(&mut self, key: &str, pos: Pos, what: &str, reason: &str, rows: usize) {
        if let Some(item) = self.groups.get(key).and_then(|&i| self.items.get_mut(i)) {
            item.statements += 1;
            item.rows += rows;
            return;
        }
        self.groups.insert(key.to_string(), self.items.len());
        self.items.push(SkipItem {
            pos,
            what: what.to_string(),
            reason: reason.to_string(),
            statements: 1,
            rows,
        });
    }

    pub(super) fn finish(self) -> Vec<Skipped> {
        let mut items = self.items;
        items.sort_by_key(|i| i.pos);
        items
            .into_iter()
            .map(|i| {
                let what = if i.rows > 0 {
                    let unit = if i.rows == 1 { "row" } else { "rows" };
                    format!("{} ({} {unit})", i.what, i.rows)
                } else if i.statements > 1 {
                    format!("{} ({} statements)", i.what, i.statements)
                } else {
                    i.what
                };
                Skipped {
                    location: Location::LineCol {
                        line: i.pos.0,
                        column: i.pos.1,
                    },
                    what,
                    reason: i.reason,
                }
            })
            .collect()
    }
}
