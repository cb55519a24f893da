//! Foreign keys, resolved against the tables of the dump once it is read.

use baas_core::relations::ForeignKey;

use super::{Builder, Pos};

/// A foreign key as written, resolved against the tables once the whole
/// dump is read.
pub(super) struct RawFk {
    pub(super) from: usize,
    pub(super) columns: Vec<String>,
    pub(super) target: Vec<String>,
    pub(super) target_columns: Vec<String>,
    pub(super) name: Option<String>,
    pub(super) pos: Pos,
}

impl Builder<'_> {
    pub(super) fn resolve_fks(&mut self) -> Vec<ForeignKey> {
        let mut out = Vec::new();
        for fk in std::mem::take(&mut self.fks) {
            let Some(from) = self.tables.get(fk.from) else {
                continue;
            };
            let from_name = from.entity.name.clone();
            let what = format!(
                "FOREIGN KEY {}({}) REFERENCES {}",
                from.table,
                fk.columns.join(", "),
                fk.target.join(".")
            );
            let Some(to) = self.find(&fk.target) else {
                let reason = format!(
                    "references {}, which the dump does not define",
                    fk.target.join(".")
                );
                self.skips.one(fk.pos, what, reason);
                continue;
            };
            let target_columns = if fk.target_columns.is_empty() {
                self.tables
                    .get(to)
                    .map(|t| t.entity.primary_key.clone())
                    .unwrap_or_default()
            } else {
                fk.target_columns.clone()
            };
            let (Some(from_fields), Some(to_fields)) = (
                self.field_names(fk.from, &fk.columns),
                self.field_names(to, &target_columns),
            ) else {
                self.skips
                    .one(fk.pos, what, "names columns the tables do not have");
                continue;
            };
            if from_fields.is_empty() || from_fields.len() != to_fields.len() {
                self.skips
                    .one(fk.pos, what, "its columns do not match the referenced key");
                continue;
            }
            let to_name = self
                .tables
                .get(to)
                .map(|t| t.entity.name.clone())
                .unwrap_or_default();
            out.push(ForeignKey {
                from_entity: from_name,
                from_fields,
                to_entity: to_name,
                to_fields,
                name: fk.name,
            });
        }
        out
    }
}
