//! Tables and columns: lookup by written name, entity naming, column
//! fields (auto-increment in all its spellings, generated columns),
//! `CREATE TABLE` (inheritance, `LIKE`, `AS SELECT`), `ALTER TABLE` and
//! partitions.

use std::collections::HashMap;

use baas_core::{Entity, Field, Generated, Source};
use sqlparser::ast::{
    AlterColumnOperation, AlterTable, AlterTableOperation, ColumnDef, ColumnOption, CommentDef,
    CreateTable, CreateTableLikeKind, CreateTableOptions, Expr, ObjectName, SqlOption,
    SqliteTableOption, Statement, Value,
};

use crate::{ImportError, SqlFlavor};

use super::relations::RawFk;
use super::skips::R_DROP;
use super::{Builder, Parsed, Pos, Table, clip, ident_parts, last_part};

fn is_nextval(e: &Expr) -> bool {
    match e {
        Expr::Function(f) => last_part(&f.name).eq_ignore_ascii_case("nextval"),
        Expr::Nested(inner) => is_nextval(inner),
        _ => false,
    }
}

/// Whether an `ALTER TABLE` operation only removes something (a constraint,
/// a column, a default, …), as the drops at the top of a `pg_dump --clean`
/// file do.
fn is_drop(op: &AlterTableOperation) -> bool {
    matches!(
        op,
        AlterTableOperation::DropConstraint { .. }
            | AlterTableOperation::DropColumn { .. }
            | AlterTableOperation::DropPrimaryKey { .. }
            | AlterTableOperation::DropForeignKey { .. }
            | AlterTableOperation::DropIndex { .. }
            | AlterTableOperation::AlterColumn {
                op: AlterColumnOperation::DropDefault | AlterColumnOperation::DropNotNull,
                ..
            }
    )
}

/// Whether a single-column SQLite primary key of type `declared` is the
/// rowid itself (`INTEGER PRIMARY KEY`), which needs no index.
pub(super) fn is_rowid_alias(declared: &str, without_rowid: bool) -> bool {
    !without_rowid && declared.eq_ignore_ascii_case("INTEGER")
}

fn is_null(e: &Expr) -> bool {
    matches!(e, Expr::Value(v) if matches!(v.value, Value::Null))
}

impl Builder<'_> {
    /// Lookup key (schema, table) of a written name.
    fn key(&self, parts: &[String]) -> (Option<String>, String) {
        let table = parts.last().cloned().unwrap_or_default();
        match self.flavor {
            SqlFlavor::Postgres => {
                let schema = if parts.len() >= 2 {
                    parts.get(parts.len() - 2).cloned()
                } else {
                    None
                };
                (Some(schema.unwrap_or_else(|| "public".to_string())), table)
            }
            _ => (None, table),
        }
    }

    fn partition_key(&self, parts: &[String]) -> String {
        let (schema, table) = self.key(parts);
        format!("{}.{table}", schema.unwrap_or_default()).to_lowercase()
    }

    pub(super) fn is_partition(&self, parts: &[String]) -> bool {
        self.partitions.contains_key(&self.partition_key(parts))
    }

    /// Find a table or view by written name: exact, then ignoring case.
    pub(super) fn find(&self, parts: &[String]) -> Option<usize> {
        let (schema, table) = self.key(parts);
        self.tables
            .iter()
            .position(|t| t.schema == schema && t.table == table)
            .or_else(|| {
                self.tables.iter().position(|t| {
                    t.table.eq_ignore_ascii_case(&table)
                        && match (&t.schema, &schema) {
                            (Some(a), Some(b)) => a.eq_ignore_ascii_case(b),
                            (a, b) => a == b,
                        }
                })
            })
    }

    fn entity_name(&self, schema: Option<&str>, table: &str, replacing: Option<usize>) -> String {
        let base = match schema {
            Some(s) if s != "public" => format!("{s}_{table}"),
            _ => table.to_string(),
        };
        let taken = |n: &str| {
            self.tables
                .iter()
                .enumerate()
                .any(|(i, t)| Some(i) != replacing && t.entity.name == n)
        };
        if !taken(&base) {
            return base;
        }
        (2..)
            .map(|i| format!("{base}_{i}"))
            .find(|n| !taken(n))
            .unwrap_or(base)
    }

    /// Register a table or view, replacing an earlier definition of the same
    /// name in place (dumps drop and re-create).
    pub(super) fn register(&mut self, parts: &[String], pos: Pos, mut table: Table) -> usize {
        let (schema, name) = self.key(parts);
        let existing = self
            .tables
            .iter()
            .position(|t| t.schema == schema && t.table == name);
        table.entity.name = self.entity_name(schema.as_deref(), &name, existing);
        table.entity.source = Source {
            table: name.clone(),
            schema: schema.clone(),
        };
        table.schema = schema;
        table.table = name;
        table.written = parts.join(".");
        table.pos = pos;
        match existing {
            Some(i) => {
                self.fks.retain(|fk| fk.from != i);
                if let Some(slot) = self.tables.get_mut(i) {
                    *slot = table;
                }
                i
            }
            None => {
                self.tables.push(table);
                self.tables.len() - 1
            }
        }
    }

    /// A field from a column definition; also collects its inline primary
    /// key and foreign keys.
    fn column_field(
        &self,
        col: &ColumnDef,
        inline_pk: &mut Vec<String>,
        inline_fks: &mut Vec<(String, ObjectName, Vec<String>, Option<String>)>,
    ) -> (Field, String) {
        let resolved = self.resolve_type(&col.data_type, 0);
        let declared = col.data_type.to_string();
        let name = col.name.value.clone();
        let mut field = Field::new(name.clone(), resolved.ty);
        field.nullable = true;
        field.max_length = resolved.max_length;
        field.range = resolved.range;
        field.default = resolved.default;
        let mut auto = resolved.serial;
        let mut comment = None;
        for opt in &col.options {
            match &opt.option {
                ColumnOption::Null => field.nullable = true,
                ColumnOption::NotNull => field.nullable = false,
                ColumnOption::Default(e) if is_nextval(e) => auto = true,
                ColumnOption::Default(e) if is_null(e) => field.default = None,
                ColumnOption::Default(e) => field.default = Some(e.to_string()),
                ColumnOption::PrimaryKey(_) => {
                    field.nullable = false;
                    inline_pk.push(name.clone());
                }
                ColumnOption::Unique(_) => field.unique = true,
                ColumnOption::ForeignKey(fk) => inline_fks.push((
                    name.clone(),
                    fk.foreign_table.clone(),
                    fk.referred_columns
                        .iter()
                        .map(|i| i.value.clone())
                        .collect(),
                    fk.name
                        .as_ref()
                        .or(opt.name.as_ref())
                        .map(|i| i.value.clone()),
                )),
                ColumnOption::Comment(c) => comment = Some(c.clone()),
                ColumnOption::Generated {
                    generation_expr: Some(_),
                    ..
                }
                | ColumnOption::Materialized(_)
                | ColumnOption::Alias(_) => field.generated = Generated::Always,
                ColumnOption::Generated { .. } | ColumnOption::Identity(_) => auto = true,
                ColumnOption::DialectSpecific(tokens)
                    if tokens.iter().any(|t| {
                        let t = t.to_string();
                        t.eq_ignore_ascii_case("AUTO_INCREMENT")
                            || t.eq_ignore_ascii_case("AUTOINCREMENT")
                    }) =>
                {
                    auto = true;
                }
                _ => {}
            }
        }
        if auto && field.generated == Generated::None {
            field.generated = Generated::AutoIncrement;
            field.default = None;
            if resolved.serial {
                field.nullable = false;
            }
        }
        if col.options.iter().any(|o| {
            matches!(
                o.option,
                ColumnOption::Generated {
                    generation_expr: None,
                    ..
                }
            )
        }) {
            // Identity columns are NOT NULL.
            field.nullable = false;
        }
        field.description = comment.or(resolved.domain);
        (field, declared)
    }

    /// Resolve written column names against a table's fields (case-insensitive
    /// fallback); `None` when one is unknown.
    pub(super) fn field_names(&self, t: usize, cols: &[String]) -> Option<Vec<String>> {
        let e = &self.tables.get(t)?.entity;
        cols.iter()
            .map(|c| {
                e.fields
                    .iter()
                    .find(|f| &f.name == c)
                    .or_else(|| e.fields.iter().find(|f| f.name.eq_ignore_ascii_case(c)))
                    .map(|f| f.name.clone())
            })
            .collect()
    }

    fn table_comment(ct: &CreateTable) -> Option<String> {
        let from_options = |opts: &[SqlOption]| {
            opts.iter().find_map(|o| match o {
                SqlOption::Comment(CommentDef::WithEq(s) | CommentDef::WithoutEq(s)) => {
                    Some(s.clone())
                }
                _ => None,
            })
        };
        let options = match &ct.table_options {
            CreateTableOptions::With(o)
            | CreateTableOptions::Options(o)
            | CreateTableOptions::Plain(o)
            | CreateTableOptions::TableProperties(o) => from_options(o),
            CreateTableOptions::None => None,
        };
        options.or_else(|| match &ct.comment {
            Some(CommentDef::WithEq(s) | CommentDef::WithoutEq(s)) => Some(s.clone()),
            None => None,
        })
    }

    pub(super) fn create_table(&mut self, ct: &CreateTable, p: &Parsed) -> Result<(), ImportError> {
        let parts = ident_parts(&ct.name);
        let written = parts.join(".");
        let short = parts.last().cloned().unwrap_or_default();
        if let Some(parent) = self.partitions.get(&self.partition_key(&parts)) {
            let reason = format!("partition of {parent}; served through the parent");
            self.skips
                .one(p.pos, format!("CREATE TABLE {written}"), reason);
            return Ok(());
        }
        if self.flavor == SqlFlavor::Sqlite && short.to_ascii_lowercase().starts_with("sqlite_") {
            self.skips.one(
                p.pos,
                format!("CREATE TABLE {written}"),
                "SQLite internal table",
            );
            return Ok(());
        }
        let lower = short.to_ascii_lowercase();
        if let Some(vt) = self.virtual_tables.iter().find(|vt| {
            lower.strip_prefix(vt.as_str()).is_some_and(|rest| {
                matches!(
                    rest,
                    "_data"
                        | "_idx"
                        | "_content"
                        | "_docsize"
                        | "_config"
                        | "_segments"
                        | "_segdir"
                        | "_stat"
                        | "_node"
                        | "_parent"
                        | "_rowid"
                )
            })
        }) {
            let reason = format!("shadow table of virtual table {vt}");
            self.skips
                .one(p.pos, format!("CREATE TABLE {written}"), reason);
            return Ok(());
        }

        let mut fields: Vec<Field> = Vec::new();
        let mut declared: HashMap<String, String> = HashMap::new();
        // Inherited and copied columns come first.
        let mut sources: Vec<Vec<String>> = ct.inherits.iter().flatten().map(ident_parts).collect();
        if let Some(CreateTableLikeKind::Parenthesized(like) | CreateTableLikeKind::Plain(like)) =
            &ct.like
        {
            sources.insert(0, ident_parts(&like.name));
        }
        for source in &sources {
            let Some(t) = self.find(source).and_then(|i| self.tables.get(i)) else {
                return Err(self.error(
                    p.start,
                    format!(
                        "table {written} copies columns from {}, which is not defined before it",
                        source.join(".")
                    ),
                ));
            };
            for f in &t.entity.fields {
                if !fields.iter().any(|o| o.name == f.name) {
                    fields.push(f.clone());
                    if let Some(d) = t.declared.get(&f.name) {
                        declared.insert(f.name.clone(), d.clone());
                    }
                }
            }
        }

        let mut inline_pk = Vec::new();
        let mut inline_fks = Vec::new();
        for col in &ct.columns {
            let (field, decl) = self.column_field(col, &mut inline_pk, &mut inline_fks);
            if let Some(note) = baas_sql::types::spatial_note(self.dialect, &decl) {
                self.skips.one(
                    p.pos,
                    format!("column {}.{} {decl}", parts.join("."), field.name),
                    note,
                );
            }
            declared.insert(field.name.clone(), decl);
            match fields.iter_mut().find(|f| f.name == field.name) {
                Some(slot) => *slot = field,
                None => fields.push(field),
            }
        }
        let mut inferred_as_text = Vec::new();
        if let Some(q) = &ct.query
            && ct.columns.is_empty()
        {
            (fields, inferred_as_text) = self.view_fields(q, &[]);
        }
        let mut entity = Entity::new(short.clone(), fields);
        entity.description = Self::table_comment(ct);
        let table = Table {
            entity,
            schema: None,
            table: String::new(),
            written: String::new(),
            pos: p.pos,
            declared,
            without_rowid: ct
                .sqlite_table_options
                .options
                .iter()
                .any(|o| matches!(o, SqliteTableOption::WithoutRowid)),
            inferred_as_text,
            autoindexes: 0,
        };
        let t = self.register(&parts, p.pos, table);
        if let Some(table) = self.tables.get_mut(t) {
            // SQLite numbers the automatic indexes of column constraints first.
            table.autoindexes = ct
                .columns
                .iter()
                .flat_map(|c| c.options.iter().map(move |o| (c, &o.option)))
                .filter(|(c, o)| match o {
                    ColumnOption::Unique(_) => true,
                    ColumnOption::PrimaryKey(_) => {
                        !is_rowid_alias(&c.data_type.to_string(), table.without_rowid)
                    }
                    _ => false,
                })
                .count();
            if !inline_pk.is_empty() {
                table.entity.primary_key = inline_pk;
            }
        }
        for (col, target, target_columns, name) in inline_fks {
            self.fks.push(RawFk {
                from: t,
                columns: vec![col],
                target: ident_parts(&target),
                target_columns,
                name,
                pos: p.pos,
            });
        }
        for c in &ct.constraints {
            self.add_constraint(t, c, p.pos, false);
        }
        Ok(())
    }

    pub(super) fn alter_table(&mut self, at: &AlterTable, p: &Parsed) {
        let parts = ident_parts(&at.name);
        let Some(t) = self.find(&parts) else {
            if at.operations.iter().all(is_drop)
                && self.created.contains(&self.partition_key(&parts))
            {
                // `pg_dump --clean`: the dump drops what it creates below.
                self.skips.group("drop", p.pos, "DROP", R_DROP, 0);
            } else if !self.is_partition(&parts) {
                let written = parts.join(".");
                self.skips.one(
                    p.pos,
                    format!("ALTER TABLE {written}"),
                    format!("table {written} is not defined in the dump"),
                );
            }
            return;
        };
        let mut unhandled = Vec::new();
        for op in &at.operations {
            match op {
                AlterTableOperation::AddConstraint { constraint, .. } => {
                    self.add_constraint(t, constraint, p.pos, false);
                }
                AlterTableOperation::AddColumn { column_def, .. } => {
                    let mut pk = Vec::new();
                    let mut fks = Vec::new();
                    let (field, decl) = self.column_field(column_def, &mut pk, &mut fks);
                    if let Some(table) = self.tables.get_mut(t) {
                        table.declared.insert(field.name.clone(), decl);
                        if !table.entity.fields.iter().any(|f| f.name == field.name) {
                            table.entity.fields.push(field);
                        }
                        if !pk.is_empty() {
                            table.entity.primary_key = pk;
                        }
                    }
                    for (col, target, target_columns, name) in fks {
                        self.fks.push(RawFk {
                            from: t,
                            columns: vec![col],
                            target: ident_parts(&target),
                            target_columns,
                            name,
                            pos: p.pos,
                        });
                    }
                }
                AlterTableOperation::AlterColumn { column_name, op } => {
                    let Some(name) = self
                        .field_names(t, std::slice::from_ref(&column_name.value))
                        .and_then(|v| v.into_iter().next())
                    else {
                        unhandled.push(op.to_string());
                        continue;
                    };
                    let resolved = match op {
                        AlterColumnOperation::SetDataType { data_type, .. } => {
                            Some((self.resolve_type(data_type, 0), data_type.to_string()))
                        }
                        _ => None,
                    };
                    let Some(table) = self.tables.get_mut(t) else {
                        continue;
                    };
                    let Some(f) = table.entity.fields.iter_mut().find(|f| f.name == name) else {
                        continue;
                    };
                    match op {
                        AlterColumnOperation::SetDefault { value } if is_nextval(value) => {
                            f.generated = Generated::AutoIncrement;
                            f.default = None;
                        }
                        AlterColumnOperation::SetDefault { value } => {
                            f.default = Some(value.to_string());
                        }
                        AlterColumnOperation::DropDefault => f.default = None,
                        AlterColumnOperation::SetNotNull => f.nullable = false,
                        AlterColumnOperation::DropNotNull => f.nullable = true,
                        AlterColumnOperation::AddGenerated { .. } => {
                            f.generated = Generated::AutoIncrement;
                            f.default = None;
                            f.nullable = false;
                        }
                        AlterColumnOperation::SetDataType { .. } => {
                            if let Some((r, decl)) = resolved {
                                f.ty = r.ty;
                                f.max_length = r.max_length;
                                f.range = r.range;
                                table.declared.insert(name.clone(), decl);
                            }
                        }
                        other => unhandled.push(other.to_string()),
                    }
                }
                AlterTableOperation::AttachPartitionOf { .. }
                | AlterTableOperation::OwnerTo { .. } => {}
                other => unhandled.push(other.to_string()),
            }
        }
        if !unhandled.is_empty() {
            let written = parts.join(".");
            self.skips.one(
                p.pos,
                format!("ALTER TABLE {written} {}", clip(&unhandled.join(", "), 60)),
                "ALTER TABLE operation not modelled",
            );
        }
    }

    /// Note partitions (`PARTITION OF`, `ATTACH PARTITION`) before building,
    /// so that they and everything about them can be left out, and the tables
    /// the dump creates, so that statements before their `CREATE` can be told
    /// from statements about tables the dump lacks.
    pub(super) fn prescan(&mut self, parsed: &[Parsed]) {
        for stmt in parsed.iter().flat_map(|p| &p.statements) {
            match stmt {
                Statement::CreateTable(ct) => {
                    let key = self.partition_key(&ident_parts(&ct.name));
                    self.created.insert(key);
                    if let Some(parent) = &ct.partition_of {
                        let key = self.partition_key(&ident_parts(&ct.name));
                        self.partitions.insert(key, ident_parts(parent).join("."));
                    }
                }
                Statement::AlterTable(at) => {
                    for op in &at.operations {
                        if let AlterTableOperation::AttachPartitionOf { partition, .. } = op {
                            let key = self.partition_key(&ident_parts(partition));
                            self.partitions.insert(key, ident_parts(&at.name).join("."));
                        }
                    }
                }
                _ => {}
            }
        }
    }
}
