//! Keys, unique constraints and indexes (table constraints, `CREATE INDEX`).

use baas_core::Index;
use sqlparser::ast::{CreateIndex, Expr, IndexColumn, TableConstraint};

use crate::SqlFlavor;

use super::relations::RawFk;
use super::skips::R_EXPR_INDEX;
use super::tables::is_rowid_alias;
use super::{Builder, Parsed, Pos, ident_parts, last_part};

/// The plain column an index or key part names, if it is one.
fn index_column(c: &IndexColumn, flavor: SqlFlavor) -> Option<String> {
    match &c.column.expr {
        Expr::Identifier(i) => Some(i.value.clone()),
        Expr::CompoundIdentifier(parts) => parts.last().map(|i| i.value.clone()),
        // MySQL prefix indexes: `name`(20).
        Expr::Function(f) if flavor == SqlFlavor::Mysql && f.name.0.len() == 1 => {
            Some(last_part(&f.name))
        }
        _ => None,
    }
}

impl Builder<'_> {
    /// A non-unique index on plain columns, named after its first column
    /// when the constraint has no name.
    fn add_plain_index(
        &mut self,
        t: usize,
        name: Option<&sqlparser::ast::Ident>,
        columns: Option<Vec<String>>,
    ) {
        let Some(cols) = columns.and_then(|c| self.field_names(t, &c)) else {
            return;
        };
        let name = match name {
            Some(i) => i.value.clone(),
            None => self.first_column_name(t, &cols),
        };
        self.add_index(
            t,
            Index {
                name,
                fields: cols,
                unique: false,
            },
        );
    }

    /// MySQL's name for an unnamed index or key: its first column, with
    /// `_2`, `_3`… when the table already has an index of that name.
    fn first_column_name(&self, t: usize, cols: &[String]) -> String {
        let first = cols.first().cloned().unwrap_or_default();
        let taken = |n: &str| {
            self.tables
                .get(t)
                .is_some_and(|x| x.entity.indexes.iter().any(|i| i.name == n))
        };
        if !taken(&first) {
            return first;
        }
        (2..)
            .map(|k| format!("{first}_{k}"))
            .find(|n| !taken(n))
            .unwrap_or(first)
    }

    /// The name the engine gives an unnamed UNIQUE constraint on `cols`:
    /// `<table>_<cols>_key` on PostgreSQL, the first column on MySQL,
    /// `sqlite_autoindex_<table>_<n>` on SQLite (`n` counting the table's
    /// automatic indexes, this one included).
    fn unnamed_unique_name(&self, t: usize, table: &str, cols: &[String]) -> String {
        match self.flavor {
            SqlFlavor::Postgres => format!("{table}_{}_key", cols.join("_")),
            SqlFlavor::Mysql => self.first_column_name(t, cols),
            SqlFlavor::Sqlite => {
                let n = self.tables.get(t).map_or(1, |x| x.autoindexes);
                format!("sqlite_autoindex_{table}_{n}")
            }
        }
    }

    fn add_index(&mut self, t: usize, index: Index) {
        if let Some(table) = self.tables.get_mut(t) {
            let indexes = &mut table.entity.indexes;
            match indexes.iter_mut().find(|i| i.name == index.name) {
                Some(slot) => *slot = index,
                None => indexes.push(index),
            }
        }
    }

    pub(super) fn add_constraint(&mut self, t: usize, c: &TableConstraint, pos: Pos, inline: bool) {
        let Some(table_name) = self.tables.get(t).map(|x| x.table.clone()) else {
            return;
        };
        let cols_of = |cols: &[IndexColumn]| -> Option<Vec<String>> {
            cols.iter().map(|c| index_column(c, self.flavor)).collect()
        };
        match c {
            TableConstraint::PrimaryKey(pk) => {
                let Some(cols) = cols_of(&pk.columns).and_then(|c| self.field_names(t, &c)) else {
                    self.skips.one(
                        pos,
                        format!("PRIMARY KEY of {table_name}"),
                        "names a column the table does not have",
                    );
                    return;
                };
                if let Some(table) = self.tables.get_mut(t) {
                    for f in &mut table.entity.fields {
                        if cols.contains(&f.name) {
                            f.nullable = false;
                        }
                    }
                    let rowid = match cols.as_slice() {
                        [only] => table
                            .declared
                            .get(only)
                            .is_some_and(|d| is_rowid_alias(d, table.without_rowid)),
                        _ => false,
                    };
                    if !rowid {
                        table.autoindexes += 1;
                    }
                    table.entity.primary_key = cols;
                }
            }
            TableConstraint::Unique(u) => {
                let Some(cols) = cols_of(&u.columns).and_then(|c| self.field_names(t, &c)) else {
                    self.skips.one(
                        pos,
                        format!("UNIQUE constraint of {table_name}"),
                        "not on plain columns of the table",
                    );
                    return;
                };
                let name = u
                    .name
                    .as_ref()
                    .or(u.index_name.as_ref())
                    .map(|i| i.value.clone());
                if let Some(table) = self.tables.get_mut(t) {
                    table.autoindexes += 1;
                }
                if let ([only], Some(table)) = (cols.as_slice(), self.tables.get_mut(t))
                    && let Some(f) = table.entity.fields.iter_mut().find(|f| &f.name == only)
                {
                    f.unique = true;
                }
                if cols.len() > 1 || (name.is_some() && !inline) {
                    let name =
                        name.unwrap_or_else(|| self.unnamed_unique_name(t, &table_name, &cols));
                    self.add_index(
                        t,
                        Index {
                            name,
                            fields: cols,
                            unique: true,
                        },
                    );
                }
            }
            TableConstraint::ForeignKey(fk) => {
                self.fks.push(RawFk {
                    from: t,
                    columns: fk.columns.iter().map(|i| i.value.clone()).collect(),
                    target: ident_parts(&fk.foreign_table),
                    target_columns: fk
                        .referred_columns
                        .iter()
                        .map(|i| i.value.clone())
                        .collect(),
                    name: fk.name.as_ref().map(|i| i.value.clone()),
                    pos,
                });
            }
            TableConstraint::Index(ix) => {
                self.add_plain_index(t, ix.name.as_ref(), cols_of(&ix.columns));
            }
            TableConstraint::FulltextOrSpatial(ix) => {
                self.add_plain_index(t, ix.opt_index_name.as_ref(), cols_of(&ix.columns));
            }
            _ => {}
        }
    }

    pub(super) fn create_index(&mut self, ci: &CreateIndex, p: &Parsed) {
        let parts = ident_parts(&ci.table_name);
        let index_name = ci.name.as_ref().map(last_part);
        let what = format!(
            "CREATE {}INDEX {}",
            if ci.unique { "UNIQUE " } else { "" },
            index_name.clone().unwrap_or_default()
        );
        let Some(t) = self.find(&parts) else {
            if !self.is_partition(&parts) {
                let reason = format!(
                    "index on {}, which the dump does not define",
                    parts.join(".")
                );
                self.skips.one(p.pos, what.trim_end(), reason);
            }
            return;
        };
        let cols: Option<Vec<String>> = ci
            .columns
            .iter()
            .map(|c| index_column(c, self.flavor))
            .collect();
        let Some(cols) = cols else {
            self.skips.one(p.pos, what.trim_end(), R_EXPR_INDEX);
            return;
        };
        let Some(cols) = self.field_names(t, &cols) else {
            self.skips.one(
                p.pos,
                what.trim_end(),
                "names a column the table does not have",
            );
            return;
        };
        let table = self
            .tables
            .get(t)
            .map(|x| x.table.clone())
            .unwrap_or_default();
        let name = index_name.unwrap_or_else(|| format!("{table}_{}_idx", cols.join("_")));
        self.add_index(
            t,
            Index {
                name,
                fields: cols,
                unique: ci.unique && ci.predicate.is_none(),
            },
        );
    }
}
