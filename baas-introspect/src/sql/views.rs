//! Views, typed from their projection: the tables in scope of the `FROM`,
//! outer-join nullability, and the fields the selected columns read.

use std::collections::HashMap;

use baas_core::{Entity, Field, FieldType, Generated};
use sqlparser::ast::{
    CreateView, Expr, JoinOperator, Query, Select, SelectItem, SelectItemQualifiedWildcardKind,
    SetExpr, TableFactor, TableWithJoins,
};

use crate::SqlFlavor;

use super::{Builder, Parsed, Table, ident_parts, last_part};

/// A table visible in a view's `FROM`.
struct ScopeTable {
    /// Names it can be qualified by (alias, or table name).
    names: Vec<String>,
    /// The table, when the dump defines it.
    table: Option<usize>,
    /// On the nullable side of an outer join.
    nullable: bool,
}

/// One output column of a view.
struct ViewColumn {
    name: String,
    /// The field it reads, when resolved; `None` falls back to text.
    field: Option<Field>,
}

impl Builder<'_> {
    pub(super) fn create_view(&mut self, cv: &CreateView, p: &Parsed) {
        let parts = ident_parts(&cv.name);
        let short = parts.last().cloned().unwrap_or_default();
        let names: Vec<String> = cv.columns.iter().map(|c| c.name.value.clone()).collect();
        let (fields, inferred_as_text) = self.view_fields(&cv.query, &names);
        let mut entity = Entity::new(short, fields);
        entity.read_only = true;
        entity.view = true;
        entity.description = cv.comment.clone();
        let table = Table {
            entity,
            schema: None,
            table: String::new(),
            written: String::new(),
            pos: p.pos,
            declared: HashMap::new(),
            without_rowid: false,
            inferred_as_text,
            autoindexes: 0,
        };
        self.register(&parts, p.pos, table);
    }

    fn add_factor(&self, f: &TableFactor, nullable: bool, out: &mut Vec<ScopeTable>, depth: usize) {
        match f {
            TableFactor::Table { name, alias, .. } => {
                let parts = ident_parts(name);
                let names = match alias {
                    Some(a) => vec![a.name.value.clone()],
                    None => vec![parts.last().cloned().unwrap_or_default(), parts.join(".")],
                };
                out.push(ScopeTable {
                    names,
                    table: self.find(&parts),
                    nullable,
                });
            }
            TableFactor::NestedJoin {
                table_with_joins, ..
            } if depth < 32 => self.add_joins(table_with_joins, nullable, out, depth + 1),
            TableFactor::Derived { alias, .. } => out.push(ScopeTable {
                names: alias.iter().map(|a| a.name.value.clone()).collect(),
                table: None,
                nullable,
            }),
            _ => {}
        }
    }

    fn add_joins(
        &self,
        twj: &TableWithJoins,
        nullable: bool,
        out: &mut Vec<ScopeTable>,
        depth: usize,
    ) {
        let first = out.len();
        self.add_factor(&twj.relation, nullable, out, depth);
        for j in &twj.joins {
            let before = out.len();
            let (left_null, right_null) = match &j.join_operator {
                JoinOperator::Left(_) | JoinOperator::LeftOuter(_) => (false, true),
                JoinOperator::Right(_) | JoinOperator::RightOuter(_) => (true, false),
                JoinOperator::FullOuter(_) => (true, true),
                _ => (false, false),
            };
            self.add_factor(&j.relation, nullable || right_null, out, depth);
            if left_null {
                for t in out.iter_mut().take(before).skip(first) {
                    t.nullable = true;
                }
            }
        }
    }

    /// The field a column reference in a view resolves to.
    fn lookup_column(
        &self,
        scope: &[ScopeTable],
        qualifier: Option<&str>,
        col: &str,
    ) -> Option<Field> {
        for st in scope {
            if let Some(q) = qualifier
                && !st.names.iter().any(|n| n == q || n.eq_ignore_ascii_case(q))
            {
                continue;
            }
            let Some(e) = st.table.and_then(|t| self.tables.get(t)).map(|t| &t.entity) else {
                continue;
            };
            let found = e
                .fields
                .iter()
                .find(|f| f.name == col)
                .or_else(|| e.fields.iter().find(|f| f.name.eq_ignore_ascii_case(col)));
            if let Some(f) = found {
                let mut f = f.clone();
                f.nullable |= st.nullable;
                return Some(f);
            }
        }
        None
    }

    fn expr_field(&self, e: &Expr, scope: &[ScopeTable]) -> Option<Field> {
        match e {
            Expr::Nested(inner) => self.expr_field(inner, scope),
            Expr::Identifier(i) => self.lookup_column(scope, None, &i.value),
            Expr::CompoundIdentifier(parts) => {
                let col = parts.last()?;
                let qualifier = parts.len().checked_sub(2).and_then(|i| parts.get(i));
                self.lookup_column(scope, qualifier.map(|q| q.value.as_str()), &col.value)
            }
            Expr::Cast { data_type, .. } => {
                let r = self.resolve_type(data_type, 0);
                let mut f = Field::new(String::new(), r.ty).nullable();
                f.max_length = r.max_length;
                Some(f)
            }
            _ => None,
        }
    }

    /// Output name of an unaliased projection expression.
    fn derived_name(&self, e: &Expr) -> String {
        match e {
            Expr::Identifier(i) => i.value.clone(),
            Expr::CompoundIdentifier(parts) => {
                parts.last().map(|i| i.value.clone()).unwrap_or_default()
            }
            Expr::Nested(inner) if self.flavor == SqlFlavor::Postgres => self.derived_name(inner),
            Expr::Cast { expr, .. } if self.flavor == SqlFlavor::Postgres => {
                self.derived_name(expr)
            }
            Expr::Function(f) if self.flavor == SqlFlavor::Postgres => last_part(&f.name),
            _ if self.flavor == SqlFlavor::Postgres => "?column?".to_string(),
            other => other.to_string(),
        }
    }

    fn select_columns(&self, s: &Select) -> Vec<ViewColumn> {
        let mut scope = Vec::new();
        for twj in &s.from {
            self.add_joins(twj, false, &mut scope, 0);
        }
        let mut out = Vec::new();
        let all_of = |st: &ScopeTable, out: &mut Vec<ViewColumn>| {
            if let Some(e) = st.table.and_then(|t| self.tables.get(t)).map(|t| &t.entity) {
                for f in &e.fields {
                    let mut f = f.clone();
                    f.nullable |= st.nullable;
                    out.push(ViewColumn {
                        name: f.name.clone(),
                        field: Some(f),
                    });
                }
            }
        };
        for item in &s.projection {
            match item {
                SelectItem::UnnamedExpr(e) => out.push(ViewColumn {
                    name: self.derived_name(e),
                    field: self.expr_field(e, &scope),
                }),
                SelectItem::ExprWithAlias { expr, alias } => out.push(ViewColumn {
                    name: alias.value.clone(),
                    field: self.expr_field(expr, &scope),
                }),
                SelectItem::ExprWithAliases { expr, aliases } => out.push(ViewColumn {
                    name: aliases
                        .first()
                        .map_or_else(|| self.derived_name(expr), |a| a.value.clone()),
                    field: self.expr_field(expr, &scope),
                }),
                SelectItem::Wildcard(_) => {
                    for st in &scope {
                        all_of(st, &mut out);
                    }
                }
                SelectItem::QualifiedWildcard(
                    SelectItemQualifiedWildcardKind::ObjectName(n),
                    _,
                ) => {
                    let q = last_part(n);
                    if let Some(st) = scope
                        .iter()
                        .find(|st| st.names.iter().any(|x| x.eq_ignore_ascii_case(&q)))
                    {
                        all_of(st, &mut out);
                    }
                }
                SelectItem::QualifiedWildcard(..) => {}
            }
        }
        out
    }

    fn set_expr_columns(&self, body: &SetExpr, depth: usize) -> Vec<ViewColumn> {
        match body {
            SetExpr::Select(s) => self.select_columns(s),
            SetExpr::Query(q) if depth < 32 => self.set_expr_columns(&q.body, depth + 1),
            SetExpr::SetOperation { left, .. } if depth < 32 => {
                self.set_expr_columns(left, depth + 1)
            }
            _ => Vec::new(),
        }
    }

    /// The fields of a view from its projection (renamed by `names` when the
    /// view lists its columns), and the names of those typed as text for
    /// want of a better guess.
    pub(super) fn view_fields(&self, query: &Query, names: &[String]) -> (Vec<Field>, Vec<String>) {
        let mut columns = self.set_expr_columns(&query.body, 0);
        for (c, name) in columns.iter_mut().zip(names) {
            c.name.clone_from(name);
        }
        let mut fields: Vec<Field> = Vec::new();
        let mut fell_back = Vec::new();
        for c in columns {
            let mut name = c.name;
            if fields.iter().any(|f| f.name == name) {
                let base = name.clone();
                name = (2..)
                    .map(|i| format!("{base}_{i}"))
                    .find(|n| !fields.iter().any(|f| &f.name == n))
                    .unwrap_or(base);
            }
            let field = match c.field {
                Some(src) => Field {
                    name: name.clone(),
                    column: None,
                    ty: src.ty,
                    // Catalogs report every view column as nullable (a view
                    // cannot enforce NOT NULL); so does the importer.
                    nullable: true,
                    default: None,
                    generated: Generated::None,
                    unique: false,
                    max_length: src.max_length,
                    range: src.range,
                    db_type: None,
                    description: None,
                    computed: None,
                },
                None => {
                    fell_back.push(name.clone());
                    Field::new(name, FieldType::Text).nullable()
                }
            };
            fields.push(field);
        }
        (fields, fell_back)
    }
}
