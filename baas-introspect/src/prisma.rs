//! Prisma schema (`schema.prisma`) importer.
//!
//! - `model` → an entity named as written, its table from `@@map`; `view` → a
//!   read-only entity; `type` (MongoDB composite types) → `json` fields where
//!   used; `enum` → [`FieldType::Enum`] named after the enum (or its `@@map`)
//!   with the database values (`@map` on a value wins);
//! - the `datasource`'s provider decides the column types, as Prisma's
//!   migrations create them: `Int` → `int32`, `BigInt` → `int64`, `Float` →
//!   `float64`, `String` → `text` (`varchar(191)` on MySQL, `nvarchar(1000)`
//!   on SQL Server), `Boolean`, `DateTime` → `timestamp` (`timestamp(3)` /
//!   `datetime(3)`: no time zone; `timestamptz` on MongoDB and without a
//!   datasource), `Decimal` → `decimal(65,30)` (`decimal(32,16)` on SQL
//!   Server, unbounded on SQLite), `Json` → `json`, `Bytes` → `binary`, lists
//!   → `array`; native types override them (`@db.VarChar(n)` / `@db.Text` →
//!   `max_length`, `@db.Uuid` → `uuid`, `@db.Decimal(p, s)`, `@db.SmallInt` →
//!   `int16`, `@db.UnsignedInt` → `int64`, `@db.Date` → `date`,
//!   `@db.Timestamptz` → `timestamptz`, `@db.ObjectId` → `objectid`, …);
//! - entities live in the datasource's database schema: `@@schema("x")`, else
//!   the `schema=` of a literal URL, else `public` on PostgreSQL (none on
//!   other engines: the connection's database);
//! - scalar fields keep their names, `@map` gives the column; `?` is nullable;
//! - `@id` / `@@id([…])` → primary key; without them, the first required
//!   `@unique` field (or all-required `@@unique`) is the identity, as in
//!   Prisma; `@unique` → unique field,
//!   `@@unique` / `@@index` → indexes (named by `map:` or Prisma's default
//!   constraint names), `@default(autoincrement())` → auto-increment, other
//!   defaults as text (`now()`, `uuid()`, `"draft"` → `draft`);
//! - `@relation(fields: […], references: […])` → a foreign key handed to
//!   [`infer_relations`]; the relations are then named by the relation
//!   fields written in the schema (`author` on the child, `posts` on the
//!   parent); relation fields themselves are not fields; an implicit
//!   many-to-many (list fields on both sides, no `fields`) becomes Prisma's
//!   junction table `_AToB` (or `_RelationName`) with columns `A` and `B`;
//! - `///` and `/** … */` comments → descriptions (`//` and `/* … */` are
//!   comments); `datasource`, `generator`, `@@ignore`,
//!   `@ignore`, `Unsupported(…)` fields and unknown attributes are reported in
//!   [`Import::skipped`].

mod parse;

use std::collections::HashMap;

use baas_core::relations::{ForeignKey, infer_relations};
use baas_core::{Entity, Field, FieldType, Generated, Index, RelationKind, SchemaMetadata, Source};

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

/// The database a schema is written for (`datasource { provider = … }`):
/// Prisma's migrations create different column types on each.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Provider {
    Postgres,
    Cockroach,
    Mysql,
    Sqlite,
    SqlServer,
    Mongo,
    /// No datasource, or one not recognised: engine-neutral types.
    Unknown,
}

impl Provider {
    fn parse(name: &str) -> Self {
        match name {
            "postgresql" | "postgres" => Self::Postgres,
            "cockroachdb" => Self::Cockroach,
            "mysql" => Self::Mysql,
            "sqlite" => Self::Sqlite,
            "sqlserver" => Self::SqlServer,
            "mongodb" => Self::Mongo,
            _ => Self::Unknown,
        }
    }

    /// The database schema tables live in when the schema names none: the
    /// `schema` parameter of a literal `url`, else `public` on PostgreSQL and
    /// CockroachDB (what live introspection reports); `None` elsewhere (the
    /// connection's database).
    fn default_schema(self, url: Option<&str>) -> Option<String> {
        if !matches!(self, Self::Postgres | Self::Cockroach) {
            return None;
        }
        let from_url = url
            .and_then(|u| u.split_once('?'))
            .and_then(|(_, q)| q.split('&').find_map(|kv| kv.strip_prefix("schema=")))
            .filter(|s| !s.is_empty());
        Some(from_url.unwrap_or("public").to_string())
    }
}

/// The type (and string length) a Prisma scalar gets in the database
/// Prisma's migrations create for `provider`: `DateTime` is `timestamp(3)` on
/// PostgreSQL and `datetime(3)` on MySQL (no time zone), `Decimal` is
/// `decimal(65,30)` there and `decimal(32,16)` on SQL Server, `String` is
/// `varchar(191)` on MySQL and `nvarchar(1000)` on SQL Server.
fn scalar(name: &str, provider: Provider) -> Option<(FieldType, Option<u32>)> {
    use Provider as P;
    let decimal = |p, s| FieldType::Decimal {
        precision: Some(p),
        scale: Some(s),
    };
    Some(match name {
        "String" => match provider {
            P::Mysql => (FieldType::Text, Some(191)),
            P::SqlServer => (FieldType::Text, Some(1000)),
            _ => (FieldType::Text, None),
        },
        "Boolean" => (FieldType::Boolean, None),
        "Int" => (FieldType::Int32, None),
        "BigInt" => (FieldType::Int64, None),
        "Float" => (FieldType::Float64, None),
        "Decimal" => match provider {
            P::Postgres | P::Cockroach | P::Mysql => (decimal(65, 30), None),
            P::SqlServer => (decimal(32, 16), None),
            _ => (
                FieldType::Decimal {
                    precision: None,
                    scale: None,
                },
                None,
            ),
        },
        "DateTime" => match provider {
            P::Postgres | P::Cockroach | P::Mysql | P::Sqlite | P::SqlServer => {
                (FieldType::Timestamp, None)
            }
            P::Mongo | P::Unknown => (FieldType::TimestampTz, None),
        },
        "Json" => (FieldType::Json, None),
        "Bytes" => (FieldType::Binary, None),
        _ => return None,
    })
}

/// Refine the type of Prisma scalar `scalar` (already mapped to `base` and
/// `len`) with a native type attribute (`@db.X`): the column type it names
/// replaces the provider's default.
fn native(
    scalar: &str,
    base: FieldType,
    len: Option<u32>,
    attr: &Attr,
) -> (FieldType, Option<u32>) {
    let ty = attr.name.strip_prefix("db.").unwrap_or(&attr.name);
    match (scalar, ty) {
        ("String", "VarChar" | "Char" | "NVarChar" | "NChar" | "Bit" | "VarBit") => {
            (FieldType::Text, u32_arg(attr, 0))
        }
        (
            "String",
            "Text" | "TinyText" | "MediumText" | "LongText" | "NText" | "Citext" | "Xml" | "Inet",
        ) => (FieldType::Text, None),
        ("String", "Uuid" | "UniqueIdentifier") => (FieldType::Uuid, None),
        ("String", "ObjectId") => (FieldType::ObjectId, None),
        ("Decimal", "Decimal" | "Numeric") => (
            FieldType::Decimal {
                precision: u32_arg(attr, 0),
                scale: u32_arg(attr, 1),
            },
            None,
        ),
        ("Decimal", "Money") => (
            FieldType::Decimal {
                precision: Some(19),
                scale: Some(4),
            },
            None,
        ),
        ("Int", "SmallInt" | "TinyInt" | "UnsignedTinyInt" | "Int2") => (FieldType::Int16, None),
        ("Int", "UnsignedInt" | "Oid") => (FieldType::Int64, None),
        (
            "Int",
            "Integer" | "Int" | "Int4" | "MediumInt" | "UnsignedSmallInt" | "UnsignedMediumInt"
            | "Year",
        ) => (FieldType::Int32, None),
        ("DateTime", "Date") => (FieldType::Date, None),
        ("DateTime", "Time" | "Timetz") => (FieldType::Time, None),
        ("DateTime", "Timestamptz" | "DateTimeOffset") => (FieldType::TimestampTz, None),
        ("DateTime", "Timestamp" | "DateTime" | "DateTime2" | "SmallDateTime") => {
            (FieldType::Timestamp, None)
        }
        ("Float", "Real" | "Float" | "Float4") => (FieldType::Float32, None),
        ("Float", "DoublePrecision" | "Double" | "Float8") => (FieldType::Float64, None),
        ("Json", "Json" | "JsonB") => (FieldType::Json, None),
        _ => (base, len),
    }
}

/// The identity of a model without `@id`/`@@id`, as Prisma picks it: the
/// first required `@unique` field, else the first `@@unique` whose fields are
/// all required; empty when there is none (views may have no identity).
fn unique_identity(fields: &[Field], indexes: &[Index]) -> Vec<String> {
    if let Some(f) = fields.iter().find(|f| f.unique && !f.nullable) {
        return vec![f.name.clone()];
    }
    indexes
        .iter()
        .find(|i| {
            i.unique
                && i.fields
                    .iter()
                    .all(|n| fields.iter().any(|f| &f.name == n && !f.nullable))
        })
        .map(|i| i.fields.clone())
        .unwrap_or_default()
}

/// The relation field on the other side of `r` (same relation name, between
/// the same two models), if the schema declares one.
fn opposite<'r, 'a>(rels: &'r [RelField<'a>], r: &RelField<'a>) -> Option<&'r RelField<'a>> {
    rels.iter().find(|o| {
        !std::ptr::eq(o.decl, r.decl)
            && o.model == r.target
            && o.target == r.model
            && o.name == r.name
    })
}

/// Name relations after the relation fields written in the schema (`author`,
/// `posts`, `followers`…) rather than the names [`infer_relations`] derives
/// from columns and entities; relations no field names (the shortcuts through
/// an explicit junction model) keep derived names, made unique against the
/// schema's.
fn name_relations(schema: &mut SchemaMetadata, rels: &[RelField<'_>]) {
    // (entity, index of the relation, name) to apply.
    let mut names: Vec<(String, usize, String)> = Vec::new();
    for r in rels {
        let back = opposite(rels, r);
        if let Some(fields) = r.relation.and_then(|a| a.arg("fields", None)) {
            // The owning side: a many-to-one here, its reverse on the target.
            let from = fields.names();
            claim(schema, &mut names, r.model, &r.decl.name, &|rel| {
                rel.kind == RelationKind::ManyToOne
                    && rel.target == r.target
                    && rel.from_fields == from
            });
            if let Some(back) = back {
                claim(schema, &mut names, r.target, &back.decl.name, &|rel| {
                    matches!(rel.kind, RelationKind::OneToMany | RelationKind::OneToOne)
                        && rel.target == r.model
                        && rel.to_fields == from
                });
            }
        } else if r.decl.ty.list && back.is_some_and(|b| b.decl.ty.list) {
            // Implicit many-to-many: column `A` holds the model whose name
            // sorts first. In a self-relation, the values of the field whose
            // name sorts first are in `A` (Prisma's docs: `a_eats` lists the
            // prey, kept in `A`), so that field reads from `B`.
            let side = match back {
                Some(b) if r.model == r.target => {
                    if r.decl.name <= b.decl.name {
                        "B"
                    } else {
                        "A"
                    }
                }
                _ if r.model <= r.target => "A",
                _ => "B",
            };
            claim(schema, &mut names, r.model, &r.decl.name, &|rel| {
                matches!(&rel.kind, RelationKind::ManyToMany { through }
                    if through.entity.starts_with('_') && through.source_fields == [side])
                    && rel.target == r.target
            });
        }
    }
    for (model, i, name) in &names {
        if let Some(rel) = schema
            .entities
            .iter_mut()
            .find(|e| &e.name == model)
            .and_then(|e| e.relations.get_mut(*i))
        {
            rel.name = name.clone();
        }
    }
    // Derived names must not shadow the schema's.
    for e in &mut schema.entities {
        let named: Vec<usize> = names
            .iter()
            .filter(|(m, _, _)| m == &e.name)
            .map(|(_, i, _)| *i)
            .collect();
        for i in 0..e.relations.len() {
            if named.contains(&i) {
                continue;
            }
            let taken = |n: &str, e: &Entity| {
                e.fields.iter().any(|f| f.name == n)
                    || e.relations
                        .iter()
                        .enumerate()
                        .any(|(j, r)| j != i && r.name == n)
            };
            if taken(&e.relations[i].name, e) {
                let base = e.relations[i].name.clone();
                let fresh = (2..)
                    .map(|k| format!("{base}_{k}"))
                    .find(|n| !taken(n, e))
                    .unwrap_or(base);
                e.relations[i].name = fresh;
            }
        }
    }
}

/// Give `name` to the first relation of `model` that `matches` and has no
/// name from the schema yet.
fn claim(
    schema: &SchemaMetadata,
    names: &mut Vec<(String, usize, String)>,
    model: &str,
    name: &str,
    matches: &dyn Fn(&baas_core::Relation) -> bool,
) {
    let Ok(e) = schema.entity(model) else { return };
    let free = |i: usize| !names.iter().any(|(m, j, _)| m == model && *j == i);
    if let Some((i, _)) = e
        .relations
        .iter()
        .enumerate()
        .find(|(i, rel)| matches(rel) && free(*i))
    {
        names.push((model.to_string(), i, name.to_string()));
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
    /// The datasource's provider.
    provider: Provider,
    /// The database schema of a model without `@@schema`.
    default_schema: Option<String>,
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
            if scalar(&b.name, Provider::Unknown).is_some() {
                return Err(b
                    .name_pos
                    .error(format!("`{}` is a built-in scalar type name", b.name)));
            }
            by_name.insert(&b.name, b);
        }
        let datasource = blocks.iter().find(|b| b.kind == BlockKind::Datasource);
        let setting = |name: &str| match datasource.and_then(|d| d.setting(name)) {
            Some(Expr::Str(s)) => Some(s.as_str()),
            _ => None,
        };
        let provider = setting("provider").map_or(Provider::Unknown, Provider::parse);
        let default_schema = provider.default_schema(setting("url"));
        Ok(Self {
            blocks,
            by_name,
            skipped: Vec::new(),
            provider,
            default_schema,
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
        name_relations(&mut schema, &rels);
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
        let mut schema = self.default_schema.clone();
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
                "schema" => match string_arg(attr, "name") {
                    Some(name) => schema = Some(name),
                    None => {
                        return Err(attr
                            .pos
                            .error(format!("@@schema on `{}` needs a schema name", b.name)));
                    }
                },
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
        if primary_key.is_empty() {
            primary_key = unique_identity(&fields, &indexes);
        }
        for f in &mut fields {
            if primary_key.contains(&f.name) {
                f.nullable = false;
            }
        }
        Ok(Entity {
            name: b.name.clone(),
            source: Source { table, schema },
            primary_key,
            fields,
            relations: Vec::new(),
            indexes,
            read_only: b.kind == BlockKind::View,
            view: b.kind == BlockKind::View,
            request_settings: false,
            write_settings: false,
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
        let base = if let Some((t, len)) = scalar(&decl.ty.name, self.provider) {
            let (t, len) = match decl.attrs.iter().find(|a| a.name.starts_with("db.")) {
                Some(attr) => native(&decl.ty.name, t, len, attr),
                None => (t, len),
            };
            max_length = len;
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
        let composite = base == FieldType::Json && scalar(&decl.ty.name, self.provider).is_none();
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
            let mut junction =
                Entity::new(name.clone(), vec![Field::new("A", ta), Field::new("B", tb)])
                    .with_primary_key(["A", "B"]);
            // Prisma creates the junction in the schema of model A.
            junction.source.schema = entities
                .iter()
                .find(|e| e.name == a)
                .and_then(|e| e.source.schema.clone());
            junctions.push(junction);
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
