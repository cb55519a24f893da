//! Prisma schema (`schema.prisma`) importer.
//!
//! - `model` → an entity named as written, its table from `@@map`; `view` → a
//!   read-only entity; `type` (MongoDB composite types) → `json` fields where
//!   used; `enum` → [`FieldType::Enum`] named after the enum (or its `@@map`)
//!   with the database values (`@map` on a value wins);
//! - scalar fields keep their names, `@map` gives the column; `?` is nullable;
//!   `Int` → `int32`, `BigInt` → `int64`, `Float` → `float64`, `Decimal` →
//!   `decimal`, `String` → `text`, `Boolean`, `DateTime` → `timestamptz`,
//!   `Json` → `json`, `Bytes` → `binary`, lists → `array`; native types refine
//!   them (`@db.VarChar(n)` → `max_length`, `@db.Uuid` → `uuid`,
//!   `@db.Decimal(p, s)`, `@db.SmallInt` → `int16`, `@db.Date` → `date`,
//!   `@db.Timestamp` → `timestamp`, `@db.ObjectId` → `objectid`, …);
//! - `@id` / `@@id([…])` → primary key, `@unique` → unique field,
//!   `@@unique` / `@@index` → indexes (named by `map:` or Prisma's default
//!   constraint names), `@default(autoincrement())` → auto-increment, other
//!   defaults as text (`now()`, `uuid()`, `"draft"` → `draft`);
//! - `@relation(fields: […], references: […])` → a foreign key handed to
//!   [`infer_relations`], so relations are named as for SQL and live
//!   introspection; relation fields themselves are not fields; an implicit
//!   many-to-many (list fields on both sides, no `fields`) becomes Prisma's
//!   junction table `_AToB` (or `_RelationName`) with columns `A` and `B`;
//! - `///` comments → descriptions; `datasource`, `generator`, `@@ignore`,
//!   `@ignore`, `Unsupported(…)` fields and unknown attributes are reported in
//!   [`Import::skipped`].

mod parse;

use std::collections::HashMap;

use baas_core::relations::{ForeignKey, infer_relations};
use baas_core::{Entity, Field, FieldType, Generated, Index, SchemaMetadata, Source};

use crate::{Import, ImportError, Location, Skipped};
use parse::{Attr, Block, BlockKind, Expr, FieldDecl, Pos};

/// Import a Prisma schema.
///
/// Syntax errors and references to unknown types or fields are errors with a
/// line and column.
pub fn import(text: &str) -> Result<Import, ImportError> {
    let blocks = parse::parse(text)?;
    Importer::new(&blocks)?.run()
}

const FIELD_ATTRS: &[&str] = &[
    "id",
    "unique",
    "default",
    "map",
    "relation",
    "updatedAt",
    "ignore",
];

fn loc(pos: Pos) -> Location {
    Location::LineCol {
        line: pos.line,
        column: pos.col,
    }
}

fn string_arg(attr: &Attr, name: &str) -> Option<String> {
    match attr.arg(name, Some(0)) {
        Some(Expr::Str(s)) => Some(s.clone()),
        _ => None,
    }
}

fn u32_arg(attr: &Attr, index: usize) -> Option<u32> {
    match attr.args.get(index).map(|a| &a.value) {
        Some(Expr::Num(n)) => n.parse().ok(),
        _ => None,
    }
}

fn scalar(name: &str) -> Option<FieldType> {
    Some(match name {
        "String" => FieldType::Text,
        "Boolean" => FieldType::Boolean,
        "Int" => FieldType::Int32,
        "BigInt" => FieldType::Int64,
        "Float" => FieldType::Float64,
        "Decimal" => FieldType::Decimal {
            precision: None,
            scale: None,
        },
        "DateTime" => FieldType::TimestampTz,
        "Json" => FieldType::Json,
        "Bytes" => FieldType::Binary,
        _ => return None,
    })
}

/// Refine a scalar type with a native type attribute (`@db.X`).
fn native(base: FieldType, attr: &Attr) -> (FieldType, Option<u32>) {
    let ty = attr.name.strip_prefix("db.").unwrap_or(&attr.name);
    match (&base, ty) {
        (FieldType::Text, "VarChar" | "Char" | "NVarChar" | "NChar" | "Bit" | "VarBit") => {
            (base, u32_arg(attr, 0))
        }
        (FieldType::Text, "Uuid" | "UniqueIdentifier") => (FieldType::Uuid, None),
        (FieldType::Text, "ObjectId") => (FieldType::ObjectId, None),
        (FieldType::Decimal { .. }, "Decimal" | "Numeric") => (
            FieldType::Decimal {
                precision: u32_arg(attr, 0),
                scale: u32_arg(attr, 1),
            },
            None,
        ),
        (FieldType::Decimal { .. }, "Money") => (
            FieldType::Decimal {
                precision: Some(19),
                scale: Some(4),
            },
            None,
        ),
        (FieldType::Int32, "SmallInt" | "TinyInt" | "UnsignedTinyInt") => (FieldType::Int16, None),
        (FieldType::Int32, "UnsignedInt") => (FieldType::Int64, None),
        (FieldType::TimestampTz, "Date") => (FieldType::Date, None),
        (FieldType::TimestampTz, "Time" | "Timetz") => (FieldType::Time, None),
        (FieldType::TimestampTz, "Timestamp" | "DateTime" | "DateTime2" | "SmallDateTime") => {
            (FieldType::Timestamp, None)
        }
        (FieldType::Float64, "Real" | "Float") => (FieldType::Float32, None),
        _ => (base, None),
    }
}

/// A model field whose type is another model.
struct RelField<'a> {
    model: &'a str,
    decl: &'a FieldDecl,
    target: &'a str,
    relation: Option<&'a Attr>,
    /// The relation name (`@relation("name")`).
    name: Option<String>,
}

impl RelField<'_> {
    fn has_fields(&self) -> bool {
        self.relation
            .is_some_and(|a| a.arg("fields", None).is_some())
    }
}

struct Importer<'a> {
    blocks: &'a [Block],
    by_name: HashMap<&'a str, &'a Block>,
    skipped: Vec<Skipped>,
}

impl<'a> Importer<'a> {
    fn new(blocks: &'a [Block]) -> Result<Self, ImportError> {
        let mut by_name: HashMap<&str, &Block> = HashMap::new();
        for b in blocks {
            if matches!(b.kind, BlockKind::Datasource | BlockKind::Generator) {
                continue;
            }
            if let Some(first) = by_name.get(b.name.as_str()) {
                return Err(b.name_pos.error(format!(
                    "`{}` is already defined (line {})",
                    b.name, first.name_pos.line
                )));
            }
            if scalar(&b.name).is_some() {
                return Err(b
                    .name_pos
                    .error(format!("`{}` is a built-in scalar type name", b.name)));
            }
            by_name.insert(&b.name, b);
        }
        Ok(Self {
            blocks,
            by_name,
            skipped: Vec::new(),
        })
    }

    fn skip(&mut self, pos: Pos, what: impl Into<String>, reason: impl Into<String>) {
        self.skipped.push(Skipped {
            location: loc(pos),
            what: what.into(),
            reason: reason.into(),
        });
    }

    fn is_model(&self, name: &str) -> bool {
        self.by_name
            .get(name)
            .is_some_and(|b| matches!(b.kind, BlockKind::Model | BlockKind::View))
    }

    fn ignored(b: &Block) -> bool {
        b.attr("ignore").is_some()
    }

    /// The table of a model (its `@@map` or its name).
    fn table(b: &Block) -> String {
        b.attr("map")
            .and_then(|a| string_arg(a, "name"))
            .unwrap_or_else(|| b.name.clone())
    }

    /// Database value of each enum value.
    fn enum_type(b: &Block) -> FieldType {
        FieldType::Enum {
            name: Some(Self::table(b)),
            values: b
                .values
                .iter()
                .map(|v| {
                    v.attrs
                        .iter()
                        .find(|a| a.name == "map")
                        .and_then(|a| string_arg(a, "name"))
                        .unwrap_or_else(|| v.name.clone())
                })
                .collect(),
        }
    }

    fn run(mut self) -> Result<Import, ImportError> {
        let mut entities = Vec::new();
        let mut rels: Vec<RelField<'a>> = Vec::new();
        for b in self.blocks {
            match b.kind {
                BlockKind::Datasource | BlockKind::Generator => self.skip(
                    b.pos,
                    format!("{} {}", b.kind.keyword(), b.name),
                    "connection and client settings are not part of the schema",
                ),
                BlockKind::Enum | BlockKind::Type => {}
                BlockKind::Model | BlockKind::View => {
                    if Self::ignored(b) {
                        self.skip(
                            b.pos,
                            format!("{} {}", b.kind.keyword(), b.name),
                            "marked @@ignore",
                        );
                        continue;
                    }
                    entities.push(self.entity(b, &mut rels)?);
                }
            }
        }
        let mut fks = self.foreign_keys(&rels, &entities)?;
        let junctions = self.implicit_many_to_many(&rels, &entities, &mut fks);
        entities.extend(junctions);
        let mut schema = SchemaMetadata::new(entities);
        infer_relations(&mut schema, &fks);
        Ok(Import {
            schema,
            skipped: self.skipped,
            api_paths: Vec::new(),
        })
    }

    fn entity(
        &mut self,
        b: &'a Block,
        rels: &mut Vec<RelField<'a>>,
    ) -> Result<Entity, ImportError> {
        let mut fields = Vec::new();
        let mut primary_key = Vec::new();
        for decl in &b.fields {
            if decl.attr("ignore").is_some() {
                self.skip(
                    decl.pos,
                    format!("{}.{}", b.name, decl.name),
                    "marked @ignore",
                );
                continue;
            }
            if fields.iter().any(|f: &Field| f.name == decl.name)
                || rels
                    .iter()
                    .any(|r| r.model == b.name && r.decl.name == decl.name)
            {
                return Err(decl.pos.error(format!(
                    "field `{}` is defined twice in `{}`",
                    decl.name, b.name
                )));
            }
            if self.is_model(&decl.ty.name) {
                let relation = decl.attr("relation");
                rels.push(RelField {
                    model: &b.name,
                    decl,
                    target: &decl.ty.name,
                    relation,
                    name: relation.and_then(|a| string_arg(a, "name")),
                });
                continue;
            }
            let Some(field) = self.field(b, decl)? else {
                continue;
            };
            if decl.attr("id").is_some() {
                if !primary_key.is_empty() {
                    return Err(decl
                        .pos
                        .error(format!("`{}` has more than one @id field", b.name)));
                }
                primary_key.push(decl.name.clone());
            }
            fields.push(field);
        }
        let table = Self::table(b);
        let mut indexes = Vec::new();
        for attr in &b.attrs {
            match attr.name.as_str() {
                "id" => {
                    if !primary_key.is_empty() {
                        return Err(attr
                            .pos
                            .error(format!("`{}` has both @id and @@id", b.name)));
                    }
                    primary_key = self.field_list(b, &fields, attr)?;
                }
                "unique" | "index" => {
                    let names = self.field_list(b, &fields, attr)?;
                    let unique = attr.name == "unique";
                    let name = match attr.arg("map", None) {
                        Some(Expr::Str(s)) => s.clone(),
                        _ => {
                            let cols: Vec<&str> = names
                                .iter()
                                .filter_map(|n| fields.iter().find(|f| &f.name == n))
                                .map(Field::column)
                                .collect();
                            format!(
                                "{table}_{}_{}",
                                cols.join("_"),
                                if unique { "key" } else { "idx" }
                            )
                        }
                    };
                    indexes.push(Index {
                        name,
                        fields: names,
                        unique,
                    });
                }
                "map" | "ignore" => {}
                "schema" => self.skip(
                    attr.pos,
                    format!("@@schema on {}", b.name),
                    "the entity uses the connection's default schema",
                ),
                "fulltext" => self.skip(
                    attr.pos,
                    format!("@@fulltext on {}", b.name),
                    "full-text indexes are not modelled",
                ),
                other => self.skip(
                    attr.pos,
                    format!("@@{other} on {}", b.name),
                    "unknown block attribute",
                ),
            }
        }
        for f in &mut fields {
            if primary_key.contains(&f.name) {
                f.nullable = false;
            }
        }
        Ok(Entity {
            name: b.name.clone(),
            source: Source {
                table,
                schema: None,
            },
            primary_key,
            fields,
            relations: Vec::new(),
            indexes,
            read_only: b.kind == BlockKind::View,
            description: b.doc.clone(),
        })
    }

    /// The field names of `@@id([…])`, `@@unique([…])`, `@@index(fields: […])`.
    fn field_list(
        &self,
        b: &Block,
        fields: &[Field],
        attr: &Attr,
    ) -> Result<Vec<String>, ImportError> {
        let Some(list) = attr.arg("fields", Some(0)) else {
            return Err(attr
                .pos
                .error(format!("@@{} needs a list of fields", attr.name)));
        };
        let names = list.names();
        if names.is_empty() {
            return Err(attr
                .pos
                .error(format!("@@{} needs a list of fields", attr.name)));
        }
        for n in &names {
            if !fields.iter().any(|f| &f.name == n) {
                return Err(attr.pos.error(format!(
                    "@@{}: `{n}` is not a scalar field of `{}`",
                    attr.name, b.name
                )));
            }
        }
        Ok(names)
    }

    fn field(&mut self, b: &Block, decl: &FieldDecl) -> Result<Option<Field>, ImportError> {
        let what = format!("{}.{}", b.name, decl.name);
        if let Some(u) = &decl.ty.unsupported {
            self.skip(
                decl.pos,
                what,
                format!("Unsupported(\"{u}\") fields are not readable through Prisma"),
            );
            return Ok(None);
        }
        let mut max_length = None;
        let mut enum_block = None;
        let base = if let Some(t) = scalar(&decl.ty.name) {
            let mut t = t;
            if let Some(attr) = decl.attrs.iter().find(|a| a.name.starts_with("db.")) {
                let (refined, len) = native(t, attr);
                t = refined;
                max_length = len;
            }
            t
        } else {
            match self.by_name.get(decl.ty.name.as_str()) {
                Some(e) if e.kind == BlockKind::Enum => {
                    enum_block = Some(*e);
                    Self::enum_type(e)
                }
                Some(t) if t.kind == BlockKind::Type => FieldType::Json,
                _ => {
                    return Err(decl.ty.pos.error(format!(
                        "unknown type `{}` (not a scalar, enum, model or composite type)",
                        decl.ty.name
                    )));
                }
            }
        };
        let composite = base == FieldType::Json && scalar(&decl.ty.name).is_none();
        let ty = if decl.ty.list && !composite {
            FieldType::Array {
                items: Box::new(base),
            }
        } else {
            base
        };
        let mut field = Field::new(decl.name.clone(), ty);
        field.nullable = decl.ty.optional;
        field.max_length = max_length;
        field.description = decl.doc.clone();
        field.unique = decl.attr("unique").is_some();
        if let Some(col) = decl.attr("map").and_then(|a| string_arg(a, "name"))
            && col != decl.name
        {
            field.column = Some(col);
        }
        if let Some(d) = decl.attr("default").and_then(|a| a.arg("value", Some(0))) {
            match d {
                Expr::Call { name, .. } if name == "autoincrement" || name == "sequence" => {
                    field.generated = Generated::AutoIncrement;
                }
                Expr::Call { name, args } if name == "dbgenerated" => {
                    field.default = args.first().map(|a| a.value.text());
                }
                Expr::Ident(v) => {
                    // An enum default is stored as the value's database name.
                    let mapped = enum_block.and_then(|e| {
                        e.values.iter().find(|ev| &ev.name == v).and_then(|ev| {
                            ev.attrs
                                .iter()
                                .find(|a| a.name == "map")
                                .and_then(|a| string_arg(a, "name"))
                        })
                    });
                    field.default = Some(mapped.unwrap_or_else(|| v.clone()));
                }
                other => field.default = Some(other.text()),
            }
        }
        for attr in &decl.attrs {
            if !FIELD_ATTRS.contains(&attr.name.as_str()) && !attr.name.starts_with("db.") {
                self.skip(
                    attr.pos,
                    format!("@{} on {what}", attr.name),
                    "unknown field attribute",
                );
            }
        }
        Ok(Some(field))
    }

    /// Foreign keys from `@relation(fields: […], references: […])`.
    fn foreign_keys(
        &mut self,
        rels: &[RelField<'_>],
        entities: &[Entity],
    ) -> Result<Vec<ForeignKey>, ImportError> {
        let mut fks = Vec::new();
        for r in rels {
            let Some(attr) = r.relation else { continue };
            let Some(fields) = attr.arg("fields", None) else {
                continue;
            };
            let from = fields.names();
            let to = attr
                .arg("references", None)
                .map(Expr::names)
                .unwrap_or_default();
            if from.is_empty() || from.len() != to.len() {
                return Err(attr.pos.error(format!(
                    "@relation on `{}.{}` needs `fields` and `references` of the same non-zero length",
                    r.model, r.decl.name
                )));
            }
            let own = entities.iter().find(|e| e.name == r.model);
            for f in &from {
                if own.is_some_and(|e| e.field(f).is_err()) {
                    return Err(attr.pos.error(format!(
                        "@relation: `{f}` is not a scalar field of `{}`",
                        r.model
                    )));
                }
            }
            let Some(target) = self.by_name.get(r.target) else {
                continue;
            };
            if Self::ignored(target) {
                continue;
            }
            for f in &to {
                let known = target.fields.iter().any(|d| {
                    &d.name == f && !self.is_model(&d.ty.name) && d.ty.unsupported.is_none()
                });
                if !known {
                    return Err(attr.pos.error(format!(
                        "@relation: `{f}` is not a scalar field of `{}`",
                        r.target
                    )));
                }
            }
            fks.push(ForeignKey {
                from_entity: r.model.to_string(),
                from_fields: from,
                to_entity: r.target.to_string(),
                to_fields: to,
                name: match attr.arg("map", None) {
                    Some(Expr::Str(s)) => Some(s.clone()),
                    _ => r.name.clone(),
                },
            });
        }
        Ok(fks)
    }

    /// Junction entities for list-to-list relations without `fields`.
    fn implicit_many_to_many(
        &mut self,
        rels: &[RelField<'_>],
        entities: &[Entity],
        fks: &mut Vec<ForeignKey>,
    ) -> Vec<Entity> {
        let mut junctions: Vec<Entity> = Vec::new();
        let mut used = vec![false; rels.len()];
        for (i, r) in rels.iter().enumerate() {
            if !r.decl.ty.list || r.has_fields() || used.get(i).copied().unwrap_or(true) {
                continue;
            }
            if let Some(u) = used.get_mut(i) {
                *u = true;
            }
            let partner = rels
                .iter()
                .enumerate()
                .find(|(j, o)| {
                    *j != i
                        && !used.get(*j).copied().unwrap_or(true)
                        && o.decl.ty.list
                        && !o.has_fields()
                        && o.model == r.target
                        && o.target == r.model
                        && o.name == r.name
                })
                .map(|(j, _)| j);
            let Some(j) = partner else {
                let back = rels.iter().any(|o| {
                    o.model == r.target && o.target == r.model && o.name == r.name && o.has_fields()
                });
                if !back {
                    self.skip(
                        r.decl.pos,
                        format!("{}.{}", r.model, r.decl.name),
                        format!(
                            "no opposite relation field on `{}` (and no `fields`/`references`)",
                            r.target
                        ),
                    );
                }
                continue;
            };
            if let Some(u) = used.get_mut(j) {
                *u = true;
            }
            let (a, b) = if r.model <= r.target {
                (r.model, r.target)
            } else {
                (r.target, r.model)
            };
            let name = match &r.name {
                Some(n) => format!("_{n}"),
                None => format!("_{a}To{b}"),
            };
            let key = |model: &str| {
                entities.iter().find(|e| e.name == model).and_then(|e| {
                    match e.primary_key.as_slice() {
                        [k] => e.field(k).ok().map(|f| (k.clone(), f.ty.clone())),
                        _ => None,
                    }
                })
            };
            let (Some((ka, ta)), Some((kb, tb))) = (key(a), key(b)) else {
                self.skip(
                    r.decl.pos,
                    format!("{}.{}", r.model, r.decl.name),
                    "an implicit many-to-many needs a single-field @id on both models",
                );
                continue;
            };
            if junctions.iter().any(|e| e.name == name) || entities.iter().any(|e| e.name == name) {
                self.skip(
                    r.decl.pos,
                    format!("{}.{}", r.model, r.decl.name),
                    format!("junction `{name}` would clash with another entity"),
                );
                continue;
            }
            junctions.push(
                Entity::new(name.clone(), vec![Field::new("A", ta), Field::new("B", tb)])
                    .with_primary_key(["A", "B"]),
            );
            for (col, model, k) in [("A", a, ka), ("B", b, kb)] {
                fks.push(ForeignKey {
                    from_entity: name.clone(),
                    from_fields: vec![col.to_string()],
                    to_entity: model.to_string(),
                    to_fields: vec![k],
                    name: None,
                });
            }
        }
        junctions
    }
}
