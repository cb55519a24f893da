//! `CreateEntity`: the table with its columns, primary key and foreign keys,
//! then its indexes (inside the `CREATE TABLE` where DDL is not
//! transactional), after any type the columns need.

use baas_core::{Entity, Field, FieldType, Generated, RelationKind, Result};
use sea_query::{ForeignKey, IndexCreateStatement, Table};

use super::{At, Ddl, invalid, unique_index_name};
use crate::dialect::AnySchema;
use crate::lower::{Statement, iden};

/// Whether `fields` (as a set) are `e`'s primary key, a unique field or a
/// unique index: what a foreign key may reference.
fn is_unique_key(e: &Entity, fields: &[String]) -> bool {
    let same = |a: &[String]| a.len() == fields.len() && a.iter().all(|f| fields.contains(f));
    same(&e.primary_key)
        || matches!(fields, [f] if e.fields.iter().any(|x| &x.name == f && x.unique))
        || e.indexes.iter().any(|ix| ix.unique && same(&ix.fields))
}

/// The name of the foreign key created for a many-to-one relation
/// (PostgreSQL's own naming convention).
fn foreign_key_name(table: &str, columns: &[&str]) -> String {
    format!("{table}_{}_fkey", columns.join("_"))
}

impl Ddl<'_> {
    pub(super) fn index(&self, name: &str, columns: &[&str], unique: bool) -> IndexCreateStatement {
        let mut ix = sea_query::Index::create();
        ix.name(name).table(self.table_ref());
        for c in columns {
            ix.col(iden(c));
        }
        if unique {
            ix.unique();
        }
        ix
    }

    /// Refuse an index on `f` where the engine needs bounded keys and `f`
    /// is unbounded text, binary or JSON.
    pub(super) fn check_indexable(&self, f: &Field, pointer: &str) -> Result<()> {
        if !self.sql.bounded_index_keys() {
            return Ok(());
        }
        let unbounded = match f.ty {
            FieldType::Text => f.max_length.is_none(),
            FieldType::Binary | FieldType::Json => true,
            _ => false,
        };
        if unbounded {
            return Err(invalid(
                pointer,
                format!(
                    "{} cannot index the unbounded {} field `{}` (give text a max_length)",
                    self.d.name(),
                    f.ty.name(),
                    f.name
                ),
            ));
        }
        Ok(())
    }

    /// Lower `CreateEntity`.
    pub(super) fn create(&self, references: &[Entity]) -> Result<Vec<Statement>> {
        let e = self.entity;
        self.check_entity()?;
        if e.fields.is_empty() {
            return Err(invalid(
                "/entity/fields",
                "an entity needs at least one field",
            ));
        }
        if e.primary_key.is_empty() {
            return Err(invalid(
                "/entity/primary_key",
                format!("`{}` has no primary key; managed tables need one", e.name),
            ));
        }
        // A computed field is a function of the row, not a column.
        let fields: Vec<(&Field, At)> = e
            .fields
            .iter()
            .enumerate()
            .filter(|(_, f)| !f.is_computed())
            .map(|(i, f)| (f, At(format!("/entity/fields/{i}"))))
            .collect();
        for (i, (f, at)) in fields.iter().enumerate() {
            if fields[..i].iter().any(|(o, _)| o.name == f.name) {
                return Err(invalid(
                    at.at("name"),
                    format!("duplicate field `{}`", f.name),
                ));
            }
            if fields[..i]
                .iter()
                .any(|(o, _)| o.column().eq_ignore_ascii_case(f.column()))
            {
                return Err(invalid(
                    at.at("column"),
                    format!("duplicate column `{}`", f.column()),
                ));
            }
            self.check_enum_values(f, at)?;
        }
        let mut key: Vec<&Field> = Vec::new();
        for (j, k) in e.primary_key.iter().enumerate() {
            let pointer = format!("/entity/primary_key/{j}");
            let f = self.entity_field(k, &pointer)?;
            if key.iter().any(|o| o.name == f.name) {
                return Err(invalid(pointer, format!("`{k}` appears twice in the key")));
            }
            let i = e.fields.iter().position(|o| o.name == f.name).unwrap_or(0);
            if f.nullable {
                return Err(invalid(
                    format!("/entity/fields/{i}/nullable"),
                    format!("primary key field `{k}` cannot be nullable"),
                ));
            }
            self.check_indexable(f, &format!("/entity/fields/{i}/max_length"))?;
            key.push(f);
        }
        let auto_fields: Vec<&Field> = e
            .fields
            .iter()
            .filter(|f| f.generated == Generated::AutoIncrement)
            .collect();
        // SQLite: only `INTEGER PRIMARY KEY` (a rowid alias) is generated.
        let rowid_only = self.sql.rowid_auto_increment();
        let rowid_key =
            rowid_only && matches!(key.as_slice(), [k] if k.generated == Generated::AutoIncrement);
        if rowid_only && !auto_fields.is_empty() && !rowid_key {
            return Err(self.unsupported(
                "auto-increment on anything but a single-column integer primary key",
            ));
        }

        let mut statements = self.sql.create_types(self, &fields)?;
        let mut table = Table::create();
        table.table(self.table_ref());
        for (f, at) in &fields {
            let mut col = self.column(f, at, false)?;
            if rowid_key && key[0].name == f.name {
                col.primary_key();
            }
            table.col(col);
        }
        if !rowid_key {
            let mut pk = sea_query::Index::create();
            for k in &key {
                pk.col(iden(k.column()));
            }
            table.primary_key(&mut pk);
        }
        // Many-to-one relations become foreign keys when their target's
        // table is known: the entity itself, or one of `references` (tables
        // that exist), and the target fields are its primary key or a unique
        // key (what a foreign key may reference).
        for (j, r) in e.relations.iter().enumerate() {
            // A computed relationship is a function, not a foreign key.
            if r.kind != RelationKind::ManyToOne || r.function.is_some() {
                continue;
            }
            let target = if r.target == e.name {
                e
            } else {
                match references.iter().find(|t| t.name == r.target) {
                    Some(t) if !t.is_view() && is_unique_key(t, &r.to_fields) => t,
                    _ => continue,
                }
            };
            let rat = format!("/entity/relations/{j}");
            if r.from_fields.is_empty() || r.from_fields.len() != r.to_fields.len() {
                return Err(invalid(
                    rat,
                    "from_fields and to_fields must be non-empty and of equal length",
                ));
            }
            let from: Vec<&str> = r
                .from_fields
                .iter()
                .map(|n| {
                    self.entity_field(n, &format!("{rat}/from_fields"))
                        .map(Field::column)
                })
                .collect::<Result<_>>()?;
            let to: Vec<&str> = r
                .to_fields
                .iter()
                .map(|n| {
                    target
                        .fields
                        .iter()
                        .find(|f| &f.name == n)
                        .map(Field::column)
                        .ok_or_else(|| {
                            invalid(
                                format!("{rat}/to_fields"),
                                format!("`{n}` is not a field of `{}`", target.name),
                            )
                        })
                })
                .collect::<Result<_>>()?;
            let name = foreign_key_name(&e.source.table, &from);
            self.ident(&name, format!("{rat}/name"))?;
            let mut fk = ForeignKey::create();
            fk.name(name)
                .from_tbl(self.table_ref())
                .to_tbl(crate::lower::table_ref(target));
            for c in &from {
                fk.from_col(iden(c));
            }
            for c in &to {
                fk.to_col(iden(c));
            }
            table.foreign_key(&mut fk);
        }

        let indexes = self.indexes(&fields, &key)?;
        if self.sql.transactional_ddl() {
            statements.push(self.build(AnySchema::CreateTable(&table)));
            statements.extend(
                indexes
                    .iter()
                    .map(|ix| self.build(AnySchema::CreateIndex(ix))),
            );
        } else {
            // One statement: each DDL statement commits on its own, so
            // indexes go inside CREATE TABLE and nothing can be half made.
            for mut ix in indexes {
                table.index(&mut ix);
            }
            statements.push(self.build(AnySchema::CreateTable(&table)));
        }
        Ok(statements)
    }

    /// Declared indexes plus one unique index per unique field not already
    /// covered (by the key or a declared single-column unique index).
    fn indexes(
        &self,
        fields: &[(&Field, At)],
        key: &[&Field],
    ) -> Result<Vec<IndexCreateStatement>> {
        let e = self.entity;
        let mut out = Vec::new();
        let mut names: Vec<String> = Vec::new();
        let mut claim = |name: &str, pointer: &str| -> Result<()> {
            if names.iter().any(|n| n.eq_ignore_ascii_case(name)) {
                return Err(invalid(pointer, format!("duplicate index name `{name}`")));
            }
            names.push(name.to_string());
            Ok(())
        };
        for (j, ix) in e.indexes.iter().enumerate() {
            let at = format!("/entity/indexes/{j}");
            self.ident(&ix.name, format!("{at}/name"))?;
            claim(&ix.name, &format!("{at}/name"))?;
            if ix.fields.is_empty() {
                return Err(invalid(format!("{at}/fields"), "an index needs fields"));
            }
            let mut cols = Vec::new();
            for (k, n) in ix.fields.iter().enumerate() {
                let pointer = format!("{at}/fields/{k}");
                let f = self.entity_field(n, &pointer)?;
                self.check_indexable(f, &pointer)?;
                cols.push(f.column());
            }
            out.push(self.index(&ix.name, &cols, ix.unique));
        }
        for (f, at) in fields {
            if !f.unique || self.unique_covered(f, key) {
                continue;
            }
            let name = unique_index_name(&e.source.table, f.column());
            self.ident(&name, at.at("unique"))?;
            claim(&name, &at.at("unique"))?;
            self.check_indexable(f, &at.at("unique"))?;
            out.push(self.index(&name, &[f.column()], true));
        }
        Ok(out)
    }

    /// Whether `f`'s uniqueness is already enforced by the key or a declared
    /// single-column unique index.
    pub(super) fn unique_covered(&self, f: &Field, key: &[&Field]) -> bool {
        matches!(key, [k] if k.name == f.name)
            || self
                .entity
                .indexes
                .iter()
                .any(|ix| ix.unique && ix.fields.as_slice() == std::slice::from_ref(&f.name))
    }
}
