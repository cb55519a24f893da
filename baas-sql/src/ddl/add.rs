//! `AddField`: `ALTER TABLE … ADD COLUMN`, then its unique index.

use baas_core::{Field, Generated, Result};
use sea_query::Table;

use super::default::{Literal, parse_default};
use super::{At, Ddl, invalid, unique_index_name};
use crate::dialect::AnySchema;
use crate::lower::Statement;

impl Ddl<'_> {
    /// Lower `AddField`.
    pub(super) fn add(&self, f: &Field) -> Result<Vec<Statement>> {
        let e = self.entity;
        self.check_entity()?;
        let at = At("/field".into());
        if e.fields.iter().any(|o| o.name == f.name) {
            return Err(invalid(
                "/field/name",
                format!("`{}` already has a field `{}`", e.name, f.name),
            ));
        }
        if e.fields
            .iter()
            .any(|o| o.column().eq_ignore_ascii_case(f.column()))
        {
            return Err(invalid(
                "/field/column",
                format!("`{}` already has a column `{}`", e.name, f.column()),
            ));
        }
        if f.generated != Generated::None {
            return Err(invalid(
                "/field/generated",
                "a generated field cannot be added to an existing table",
            ));
        }
        self.check_enum_values(f, &at)?;
        // Checks the default first, so a bad default is reported as such.
        let col = self.column(f, &at, true)?;
        let has_default = f
            .default
            .as_deref()
            .and_then(parse_default)
            .is_some_and(|l| l != Literal::Null);
        if !f.nullable && !has_default {
            return Err(invalid(
                "/field/nullable",
                format!(
                    "`{}` is NOT NULL without a default: existing rows would have no value (make it nullable or give a default)",
                    f.name
                ),
            ));
        }
        let mut statements = self.sql.create_types(self, &[(f, at.clone())])?;
        let mut alter = Table::alter();
        alter.table(self.table_ref()).add_column(col);
        statements.push(self.build(AnySchema::AlterTable(&alter)));
        let key: Vec<&Field> = e.key_fields().collect();
        if f.unique && !self.unique_covered(f, &key) {
            if !self.sql.index_on_qualified_table() && e.source.schema.is_some() {
                return Err(self.unsupported(
                    "adding a unique field to a schema-qualified table (CREATE INDEX on db.table)",
                ));
            }
            let name = unique_index_name(&e.source.table, f.column());
            self.ident(&name, "/field/unique")?;
            if e.indexes
                .iter()
                .any(|ix| ix.name.eq_ignore_ascii_case(&name))
            {
                return Err(invalid(
                    "/field/unique",
                    format!("`{}` already has an index named `{name}`", e.name),
                ));
            }
            self.check_indexable(f, "/field/unique")?;
            statements.push(self.build(AnySchema::CreateIndex(&self.index(
                &name,
                &[f.column()],
                true,
            ))));
        }
        Ok(statements)
    }
}
