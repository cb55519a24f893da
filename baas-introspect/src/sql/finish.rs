//! Assembling the schema: comments, SQLite rowid aliases, unique columns
//! from unique indexes, foreign keys, relations and the consistency check.

use std::collections::HashSet;

use baas_core::relations::infer_relations;
use baas_core::{Generated, SchemaMetadata};
use sqlparser::ast::CommentObject;

use crate::{Import, ImportError, Location, SqlFlavor};

use super::{Builder, Pos};

/// A `COMMENT ON`, applied once every object is defined.
pub(super) struct PendingComment {
    pub(super) object: CommentObject,
    pub(super) name: Vec<String>,
    pub(super) text: Option<String>,
    pub(super) pos: Pos,
}

impl Builder<'_> {
    fn apply_comments(&mut self) {
        for c in std::mem::take(&mut self.comments) {
            let written = c.name.join(".");
            match c.object {
                CommentObject::Table
                | CommentObject::View
                | CommentObject::MaterializedView
                | CommentObject::ForeignTable => {
                    let partition = self.is_partition(&c.name);
                    let found = self.find(&c.name);
                    match found.and_then(|t| self.tables.get_mut(t)) {
                        Some(t) => t.entity.description = c.text,
                        None if partition => {}
                        None => self.skips.one(
                            c.pos,
                            format!("COMMENT ON {} {written}", c.object),
                            "comment on an object the dump does not define",
                        ),
                    }
                }
                CommentObject::Column => {
                    let (table, column) = c.name.split_at(c.name.len().saturating_sub(1));
                    let column = column.first().cloned().unwrap_or_default();
                    let field = self.find(table).and_then(|t| {
                        let name = self.field_names(t, std::slice::from_ref(&column))?;
                        Some((t, name.into_iter().next()?))
                    });
                    match field {
                        Some((t, name)) => {
                            if let Some(f) = self
                                .tables
                                .get_mut(t)
                                .and_then(|t| t.entity.fields.iter_mut().find(|f| f.name == name))
                            {
                                f.description = c.text;
                            }
                        }
                        None if self.is_partition(table) => {}
                        None => self.skips.one(
                            c.pos,
                            format!("COMMENT ON COLUMN {written}"),
                            "comment on a column the dump does not define",
                        ),
                    }
                }
                other => self.skips.one(
                    c.pos,
                    format!("COMMENT ON {other} {written}"),
                    "comment on an object that is not modelled",
                ),
            }
        }
    }

    pub(super) fn finish(mut self) -> Result<Import, ImportError> {
        // SQLite: an INTEGER PRIMARY KEY aliases the rowid.
        if self.flavor == SqlFlavor::Sqlite {
            for t in &mut self.tables {
                if t.without_rowid || t.entity.is_view() {
                    continue;
                }
                if let [only] = t.entity.primary_key.as_slice()
                    && t.declared
                        .get(only)
                        .is_some_and(|d| d.eq_ignore_ascii_case("INTEGER"))
                    && let Some(f) = t.entity.fields.iter_mut().find(|f| &f.name == only)
                    && f.generated == Generated::None
                {
                    f.generated = Generated::AutoIncrement;
                    f.default = None;
                }
            }
        }
        // Views (and CREATE TABLE … AS SELECT) with columns typed as text.
        for t in &self.tables {
            if !t.inferred_as_text.is_empty() {
                let kind = if t.entity.is_view() { "VIEW" } else { "TABLE" };
                let reason = format!(
                    "view column types inferred from the projection; typed as text: {}",
                    t.inferred_as_text.join(", ")
                );
                self.skips
                    .one(t.pos, format!("CREATE {kind} {}", t.written), reason);
            }
        }
        self.apply_comments();
        // A unique index on one column makes that column unique.
        for t in &mut self.tables {
            let singles: HashSet<String> = t
                .entity
                .indexes
                .iter()
                .filter(|i| i.unique)
                .filter_map(|i| match i.fields.as_slice() {
                    [only] => Some(only.clone()),
                    _ => None,
                })
                .collect();
            for f in &mut t.entity.fields {
                if singles.contains(&f.name) {
                    f.unique = true;
                }
            }
        }
        let fks = self.resolve_fks();
        let positions: Vec<Pos> = self.tables.iter().map(|t| t.pos).collect();
        let mut schema = SchemaMetadata::new(self.tables.into_iter().map(|t| t.entity).collect());
        infer_relations(&mut schema, &fks);
        if let Err(e) = schema.check() {
            let (location, message) = match &e {
                baas_core::Error::Validation { violations } => {
                    let first = violations.first();
                    let entity = first
                        .and_then(|v| v.pointer.strip_prefix("/entities/"))
                        .and_then(|p| p.split('/').next())
                        .and_then(|i| i.parse::<usize>().ok())
                        .and_then(|i| positions.get(i));
                    let message = violations
                        .iter()
                        .map(|v| format!("{}: {}", v.pointer, v.message))
                        .collect::<Vec<_>>()
                        .join("; ");
                    (
                        entity.map_or(Location::Document, |&(line, column)| Location::LineCol {
                            line,
                            column,
                        }),
                        message,
                    )
                }
                other => (Location::Document, other.to_string()),
            };
            return Err(ImportError {
                location,
                message: format!("the imported schema is inconsistent: {message}"),
            });
        }
        let mut import = Import::new(schema);
        import.skipped = self.skips.finish();
        Ok(import)
    }
}
