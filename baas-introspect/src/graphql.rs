//! GraphQL SDL importer.
//!
//! - Object types → entities named as written (root operation types — those
//!   of `schema { … }`, else `Query`, `Mutation`, `Subscription` — are
//!   reported in [`Import::skipped`], as are interfaces, unions, input types
//!   and directive definitions); `extend type` merges fields into the type.
//! - Key: the field with `@id`, else the `id: ID` field, else the first field
//!   of type `ID`, else a scalar field named `id`. `!` makes a field
//!   non-nullable.
//! - Scalars: `Int` → `int32`, `Float` → `float64`, `String` and `ID` →
//!   `text`, `Boolean`; well-known custom scalars (`DateTime`, `Date`, `Time`,
//!   `UUID`, `JSON`, `BigInt`, `Decimal`, `Bytes`, …) map to their types,
//!   others to `text` with a note; enums → [`FieldType::Enum`] named after the
//!   enum; lists of scalars and enums → `array`.
//! - A field `f: T` of object type `T` → a foreign key field `fId` (typed like
//!   T's key; an existing `fId` field is used instead) handed to
//!   [`infer_relations`]. A list `[T]` whose element type has a field of this
//!   type pointing back is the reverse side and is not a field; otherwise it
//!   becomes a junction entity `<Type>_<field>` with two foreign-key columns
//!   and a composite key (a list on each side shares one junction), so
//!   relations are many-to-many. When two types point at each other with
//!   single fields (one-to-one), one side holds the key: the one with an
//!   existing `…Id` field, else the non-null one, else the later type.
//! - A single field of object type that takes arguments
//!   (`repository(name: String!): Repository`) is a lookup the server
//!   computes, not a stored reference: no foreign key, reported in
//!   [`Import::skipped`].
//! - Relay connections: a field of a `…Connection` type (`edges { node: X }`
//!   or `nodes: [X]`) is a list `[X]`, whatever its arguments (`first`,
//!   `after`…); the connection, edge and page-info types are not entities.
//! - Descriptions (`"…"`, `"""…"""`) → descriptions; `@unique` → unique
//!   field; `@default(value: …)` → default.
//!
//! Syntax errors are at a line and column; a field defined twice is an
//! error at the second definition that names the first.

mod parse;

use std::collections::{HashMap, HashSet};

use baas_core::relations::{ForeignKey, infer_relations};
use baas_core::{Entity, Field, FieldType, SchemaMetadata};

use crate::{Import, ImportError, Location, Skipped};
use parse::{Def, DefKind, FieldDef, Pos, TypeRef};

/// Import a GraphQL SDL document.
pub fn import(text: &str) -> Result<Import, ImportError> {
    let defs = parse::parse(text)?;
    Importer::default().run(defs)
}

fn loc(pos: Pos) -> Location {
    Location::LineCol {
        line: pos.line,
        column: pos.col,
    }
}

fn builtin(name: &str) -> Option<FieldType> {
    Some(match name {
        "Int" => FieldType::Int32,
        "Float" => FieldType::Float64,
        "String" | "ID" => FieldType::Text,
        "Boolean" => FieldType::Boolean,
        _ => return None,
    })
}

/// Well-known custom scalars (graphql-scalars, Hasura, Prisma, AWS AppSync…).
fn custom_scalar(name: &str) -> Option<FieldType> {
    Some(match name {
        "DateTime" | "Timestamp" | "Timestamptz" | "DateTimeISO" | "Instant" | "AWSDateTime"
        | "timestamptz" => FieldType::TimestampTz,
        "LocalDateTime" | "NaiveDateTime" | "timestamp" => FieldType::Timestamp,
        "Date" | "LocalDate" | "AWSDate" | "date" => FieldType::Date,
        "Time" | "LocalTime" | "AWSTime" | "time" => FieldType::Time,
        "UUID" | "Uuid" | "GUID" | "uuid" => FieldType::Uuid,
        "JSON" | "Json" | "JSONObject" | "JSONB" | "AWSJSON" | "jsonb" | "json" => FieldType::Json,
        "BigInt" | "Long" | "Int64" | "bigint" => FieldType::Int64,
        "Short" | "Int16" | "smallint" => FieldType::Int16,
        "Decimal" | "BigDecimal" | "Numeric" | "numeric" | "Money" => FieldType::Decimal {
            precision: None,
            scale: None,
        },
        "Bytes" | "Byte" | "Base64" | "Binary" | "bytea" => FieldType::Binary,
        "ObjectId" | "ObjectID" => FieldType::ObjectId,
        "EmailAddress" | "Email" | "AWSEmail" | "URL" | "URI" | "Url" | "AWSURL"
        | "PhoneNumber" | "AWSPhone" | "HexColorCode" | "IPv4" | "IPv6" | "AWSIPAddress"
        | "Slug" | "Locale" | "CountryCode" | "Currency" => FieldType::Text,
        _ => return None,
    })
}

fn lower_first(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_lowercase().chain(c).collect(),
        None => String::new(),
    }
}

/// A field defined a second time: an error at the second definition that
/// names the first.
fn duplicate_field(second: &FieldDef, first: &FieldDef, type_name: &str) -> ImportError {
    second.pos.error(format!(
        "field `{}` is already defined on `{type_name}` (line {}, column {})",
        second.name, first.pos.line, first.pos.col
    ))
}

/// A definition after extensions are merged.
struct TypeDef {
    kind: DefKind,
    name: String,
    pos: Pos,
    description: Option<String>,
    fields: Vec<FieldDef>,
    values: Vec<String>,
    /// Whether a non-extension definition was seen.
    defined: bool,
}

/// What a field's named type is.
enum Target {
    Scalar(FieldType),
    /// The entity at this index.
    Entity(usize),
    /// Not storable (interface, union, input, root type).
    Other(DefKind),
    /// A field of object type that takes arguments (`repository(name:)`):
    /// a lookup the server computes, not a stored reference.
    Lookup,
}

#[derive(Default)]
struct Importer {
    types: Vec<TypeDef>,
    index: HashMap<String, usize>,
    skipped: Vec<Skipped>,
    noted_scalars: HashSet<String>,
}

/// One planned relation field of an entity.
#[derive(Clone)]
struct Link {
    /// Entity index.
    entity: usize,
    /// Field index in the type.
    field: usize,
    target: usize,
    list: bool,
    non_null: bool,
}

impl Importer {
    fn skip(&mut self, pos: Pos, what: impl Into<String>, reason: impl Into<String>) {
        self.skipped.push(Skipped {
            location: loc(pos),
            what: what.into(),
            reason: reason.into(),
        });
    }

    fn merge(&mut self, defs: Vec<Def>) -> Result<Vec<String>, ImportError> {
        let mut schema_ops: Option<Vec<(String, String)>> = None;
        for def in defs {
            match def.kind {
                DefKind::Schema => {
                    if !def.extend && schema_ops.is_some() {
                        return Err(def.pos.error("the schema is defined twice"));
                    }
                    schema_ops
                        .get_or_insert_with(Vec::new)
                        .extend(def.operations);
                }
                DefKind::Directive => self.skip(
                    def.pos,
                    format!("directive @{}", def.name),
                    "directive definitions are not data",
                ),
                _ => {
                    if let Some(&i) = self.index.get(&def.name) {
                        let Some(t) = self.types.get_mut(i) else {
                            continue;
                        };
                        if t.kind != def.kind {
                            return Err(def.name_pos.error(format!(
                                "`{}` is already defined as {} `{}` (line {})",
                                def.name,
                                t.kind.keyword(),
                                t.name,
                                t.pos.line
                            )));
                        }
                        if !def.extend {
                            if t.defined {
                                return Err(def.name_pos.error(format!(
                                    "`{}` is already defined (line {})",
                                    def.name, t.pos.line
                                )));
                            }
                            t.defined = true;
                            t.pos = def.pos;
                            t.description = def.description;
                        }
                        for f in def.fields {
                            if let Some(first) = t.fields.iter().find(|g| g.name == f.name) {
                                return Err(duplicate_field(&f, first, &t.name));
                            }
                            t.fields.push(f);
                        }
                        t.values.extend(def.values.into_iter().map(|(v, _)| v));
                    } else {
                        self.index.insert(def.name.clone(), self.types.len());
                        let mut fields: Vec<FieldDef> = Vec::new();
                        for f in def.fields {
                            if let Some(first) = fields.iter().find(|g| g.name == f.name) {
                                return Err(duplicate_field(&f, first, &def.name));
                            }
                            fields.push(f);
                        }
                        self.types.push(TypeDef {
                            kind: def.kind,
                            name: def.name,
                            pos: def.pos,
                            description: def.description,
                            fields,
                            values: def.values.into_iter().map(|(v, _)| v).collect(),
                            defined: !def.extend,
                        });
                    }
                }
            }
        }
        Ok(match schema_ops {
            Some(ops) => ops.into_iter().map(|(_, t)| t).collect(),
            None => ["Query", "Mutation", "Subscription"]
                .iter()
                .filter(|n| {
                    self.index
                        .get(**n)
                        .and_then(|&i| self.types.get(i))
                        .is_some_and(|t| t.kind == DefKind::Object)
                })
                .map(|n| n.to_string())
                .collect(),
        })
    }

    fn run(mut self, defs: Vec<Def>) -> Result<Import, ImportError> {
        let roots = self.merge(defs)?;
        let (connections, wrappers) = self.relay_connections();
        // Entity index by type index.
        let mut entity_of: HashMap<usize, usize> = HashMap::new();
        let mut order: Vec<usize> = Vec::new();
        let mut notes = Vec::new();
        for (i, t) in self.types.iter().enumerate() {
            match t.kind {
                DefKind::Object if roots.contains(&t.name) => notes.push((
                    t.pos,
                    format!("type {}", t.name),
                    "root operation type: its fields are operations, not data",
                )),
                DefKind::Object if connections.contains_key(&i) => notes.push((
                    t.pos,
                    format!("type {}", t.name),
                    "Relay connection: a field of this type is a to-many list of its nodes",
                )),
                DefKind::Object if wrappers.contains(&i) => notes.push((
                    t.pos,
                    format!("type {}", t.name),
                    "part of a Relay connection (edge or page info), not data",
                )),
                DefKind::Object => {
                    entity_of.insert(i, order.len());
                    order.push(i);
                }
                DefKind::Interface => notes.push((
                    t.pos,
                    format!("interface {}", t.name),
                    "interfaces are abstract; their implementing types are entities",
                )),
                DefKind::Union => notes.push((
                    t.pos,
                    format!("union {}", t.name),
                    "unions are not storable",
                )),
                DefKind::Input => notes.push((
                    t.pos,
                    format!("input {}", t.name),
                    "input types describe arguments, not data",
                )),
                DefKind::Scalar
                    if builtin(&t.name).is_none() && custom_scalar(&t.name).is_none() =>
                {
                    notes.push((
                        t.pos,
                        format!("scalar {}", t.name),
                        "unknown custom scalar: read as text",
                    ));
                }
                _ => {}
            }
        }
        for (pos, what, why) in notes {
            self.skip(pos, what, why);
        }

        // Keys: (field name, type) per entity.
        let keys: Vec<Option<(String, FieldType)>> =
            order.iter().map(|&ti| self.key_of(ti)).collect();

        // Classify every field.
        let mut links: Vec<Link> = Vec::new();
        let mut classes: Vec<Vec<Option<Target>>> = Vec::new();
        for (e, &ti) in order.iter().enumerate() {
            let mut row = Vec::new();
            let fields: Vec<(String, Pos, bool, bool, bool)> = self
                .types
                .get(ti)
                .map(|t| {
                    t.fields
                        .iter()
                        .map(|f| {
                            let (n, p) = f.ty.base();
                            // A connection field is a list of its nodes.
                            match self.index.get(n).and_then(|c| connections.get(c)) {
                                Some(node) => (node.clone(), p, true, f.ty.non_null(), false),
                                None => (
                                    n.to_string(),
                                    p,
                                    f.ty.is_list(),
                                    f.ty.non_null(),
                                    !f.args.is_empty(),
                                ),
                            }
                        })
                        .collect()
                })
                .unwrap_or_default();
            for (fi, (base, pos, list, non_null, args)) in fields.into_iter().enumerate() {
                let target = self.target(&base, pos, &entity_of, &roots);
                if matches!(target, Target::Entity(_)) && args && !list {
                    row.push(Some(Target::Lookup));
                    continue;
                }
                if let Target::Entity(t) = target {
                    links.push(Link {
                        entity: e,
                        field: fi,
                        target: t,
                        list,
                        non_null,
                    });
                }
                row.push(Some(target));
            }
            classes.push(row);
        }

        // Decide what each relation field becomes.
        let field_name = |s: &Self, l: &Link| -> String {
            order
                .get(l.entity)
                .and_then(|&ti| s.types.get(ti))
                .and_then(|t| t.fields.get(l.field))
                .map(|f| f.name.clone())
                .unwrap_or_default()
        };
        let has_field = |s: &Self, e: usize, name: &str| -> bool {
            order
                .get(e)
                .and_then(|&ti| s.types.get(ti))
                .is_some_and(|t| t.fields.iter().any(|f| f.name == name))
        };
        let singles = |e: usize, t: usize| -> Vec<&Link> {
            links
                .iter()
                .filter(|l| l.entity == e && l.target == t && !l.list)
                .collect()
        };
        // Exactly one single field each way and no list between the two.
        let one_to_one = |e: usize, t: usize| -> bool {
            e != t
                && singles(e, t).len() == 1
                && singles(t, e).len() == 1
                && !links.iter().any(|l| {
                    l.list && ((l.entity == e && l.target == t) || (l.entity == t && l.target == e))
                })
        };
        // Per link: Some(true) = holds a foreign key, Some(false) = reverse
        // side (no field), None = list handled by a junction.
        let mut role: Vec<Option<bool>> = vec![None; links.len()];
        let mut junction_pairs: Vec<(usize, Option<usize>)> = Vec::new();
        let mut paired: HashSet<usize> = HashSet::new();
        for (li, l) in links.iter().enumerate() {
            if !l.list {
                let theirs = singles(l.target, l.entity);
                let holds = match theirs.first() {
                    Some(other) if one_to_one(l.entity, l.target) => {
                        let my_id =
                            has_field(&self, l.entity, &format!("{}Id", field_name(&self, l)));
                        let their_id = has_field(
                            &self,
                            other.entity,
                            &format!("{}Id", field_name(&self, other)),
                        );
                        if my_id != their_id {
                            my_id
                        } else if l.non_null != other.non_null {
                            l.non_null
                        } else {
                            order.get(l.entity) > order.get(other.entity)
                        }
                    }
                    _ => true,
                };
                if let Some(r) = role.get_mut(li) {
                    *r = Some(holds);
                }
                continue;
            }
            if singles(l.target, l.entity).is_empty() {
                // No single field points back: a junction, shared with a
                // list on the other side when there is one.
                if paired.contains(&li) {
                    continue;
                }
                paired.insert(li);
                // The other side qualifies only if it is not itself the
                // reverse of a single field.
                let partner = if singles(l.entity, l.target).is_empty() {
                    links
                        .iter()
                        .enumerate()
                        .find(|(lj, o)| {
                            *lj != li
                                && o.list
                                && o.entity == l.target
                                && o.target == l.entity
                                && !paired.contains(lj)
                        })
                        .map(|(lj, _)| lj)
                } else {
                    None
                };
                if let Some(p) = partner {
                    paired.insert(p);
                }
                junction_pairs.push((li, partner));
            } else if let Some(r) = role.get_mut(li) {
                *r = Some(false);
            }
        }

        // Build entities.
        let mut entities = Vec::new();
        let mut fks = Vec::new();
        let mut extra_notes: Vec<(Pos, String, String)> = Vec::new();
        for (e, &ti) in order.iter().enumerate() {
            let Some(t) = self.types.get(ti) else {
                continue;
            };
            let mut fields: Vec<Field> = Vec::new();
            for (fi, f) in t.fields.iter().enumerate() {
                let what = format!("{}.{}", t.name, f.name);
                match classes.get(e).and_then(|r| r.get(fi)) {
                    Some(Some(Target::Scalar(ty))) => {
                        let mut field = Field::new(f.name.clone(), wrap(&f.ty, ty.clone()));
                        field.nullable = !f.ty.non_null();
                        field.description = f.description.clone();
                        field.unique = f.has_directive("unique");
                        field.default = f.directive_arg("default", "value").map(parse::Value::text);
                        fields.push(field);
                    }
                    Some(Some(Target::Other(kind))) => extra_notes.push((
                        f.pos,
                        what,
                        match kind {
                            DefKind::Schema => {
                                "a field of a root operation type is not storable".into()
                            }
                            k => format!("a field of {} type is not storable", k.keyword()),
                        },
                    )),
                    Some(Some(Target::Lookup)) => extra_notes.push((
                        f.pos,
                        what,
                        "a field with arguments is a lookup, not a stored reference".into(),
                    )),
                    Some(Some(Target::Entity(target))) => {
                        let li = links.iter().position(|l| l.entity == e && l.field == fi);
                        let role = li.and_then(|li| role.get(li).copied().flatten());
                        if role != Some(true) {
                            continue;
                        }
                        let Some((key, key_ty)) = keys.get(*target).cloned().flatten() else {
                            extra_notes.push((
                                f.pos,
                                what,
                                "the referenced type has no ID field".into(),
                            ));
                            continue;
                        };
                        let fk_field = format!("{}Id", f.name);
                        let Some(target_name) = order
                            .get(*target)
                            .and_then(|&tj| self.types.get(tj))
                            .map(|t| t.name.clone())
                        else {
                            continue;
                        };
                        fks.push(ForeignKey {
                            from_entity: t.name.clone(),
                            from_fields: vec![fk_field.clone()],
                            to_entity: target_name.clone(),
                            to_fields: vec![key],
                            name: None,
                        });
                        let one_to_one = one_to_one(e, *target);
                        if let Some(existing) = fields.iter_mut().find(|g| g.name == fk_field) {
                            existing.unique |= one_to_one;
                            continue;
                        }
                        if t.fields.iter().any(|g| g.name == fk_field) {
                            // Declared later in the type: made unique below.
                            continue;
                        }
                        let mut field = Field::new(fk_field, key_ty);
                        field.nullable = !f.ty.non_null();
                        field.unique = one_to_one;
                        field.description = f.description.clone();
                        fields.push(field);
                    }
                    _ => {}
                }
            }
            // Existing `…Id` fields declared after their relation field.
            for fk in fks.iter().filter(|fk| fk.from_entity == t.name) {
                if let (Some(col), Some(target)) = (
                    fk.from_fields.first(),
                    self.index
                        .get(&fk.to_entity)
                        .and_then(|ti| entity_of.get(ti)),
                ) && one_to_one(e, *target)
                    && let Some(f) = fields.iter_mut().find(|f| &f.name == col)
                {
                    f.unique = true;
                }
            }
            let key = keys.get(e).cloned().flatten();
            for f in &mut fields {
                if key.as_ref().is_some_and(|(k, _)| k == &f.name) {
                    f.nullable = false;
                }
            }
            let mut entity = Entity::new(t.name.clone(), fields);
            entity.primary_key = key.map(|(k, _)| vec![k]).unwrap_or_default();
            entity.description = t.description.clone();
            entities.push(entity);
        }

        // Junctions.
        for (li, partner) in junction_pairs {
            let Some(l) = links.get(li) else { continue };
            let (Some(a), Some(b)) = (
                order.get(l.entity).and_then(|&ti| self.types.get(ti)),
                order.get(l.target).and_then(|&ti| self.types.get(ti)),
            ) else {
                continue;
            };
            let Some(f) = a.fields.get(l.field) else {
                continue;
            };
            let what = format!("{}.{}", a.name, f.name);
            let (Some((ka, ta)), Some((kb, tb))) = (
                keys.get(l.entity).cloned().flatten(),
                keys.get(l.target).cloned().flatten(),
            ) else {
                extra_notes.push((
                    f.pos,
                    what,
                    "a many-to-many list needs an ID field on both types".into(),
                ));
                continue;
            };
            let name = format!("{}_{}", a.name, f.name);
            if entities.iter().any(|e| e.name == name) || self.index.contains_key(&name) {
                extra_notes.push((
                    f.pos,
                    what,
                    format!("the junction name `{name}` is already taken"),
                ));
                continue;
            }
            let col_a = format!("{}Id", lower_first(&a.name));
            let mut col_b = format!("{}Id", lower_first(&b.name));
            if col_b == col_a {
                let other = partner
                    .and_then(|p| links.get(p))
                    .and_then(|p| b.fields.get(p.field))
                    .map(|g| g.name.clone());
                col_b = format!("{}Id", other.unwrap_or_else(|| f.name.clone()));
                if col_b == col_a {
                    col_b = format!("{}Id", f.name);
                }
            }
            let mut junction = Entity::new(
                name.clone(),
                vec![Field::new(col_a.clone(), ta), Field::new(col_b.clone(), tb)],
            )
            .with_primary_key([col_a.clone(), col_b.clone()]);
            junction.description = Some(format!(
                "Junction of `{}.{}` (many-to-many with `{}`).",
                a.name, f.name, b.name
            ));
            fks.push(ForeignKey {
                from_entity: name.clone(),
                from_fields: vec![col_a],
                to_entity: a.name.clone(),
                to_fields: vec![ka],
                name: None,
            });
            fks.push(ForeignKey {
                from_entity: name,
                from_fields: vec![col_b],
                to_entity: b.name.clone(),
                to_fields: vec![kb],
                name: None,
            });
            entities.push(junction);
        }
        for (pos, what, why) in extra_notes {
            self.skip(pos, what, why);
        }
        let mut schema = SchemaMetadata::new(entities);
        infer_relations(&mut schema, &fks);
        Ok(Import {
            schema,
            skipped: self.skipped,
            api_paths: Vec::new(),
        })
    }

    /// Relay-style connections: each object type named `…Connection` with
    /// `edges: [E]` where `E` has `node: X`, or with `nodes: [X]`, mapped to
    /// `X`'s name; and the types that only serve connections (their edge
    /// types and `pageInfo` types), which are not data.
    fn relay_connections(&self) -> (HashMap<usize, String>, HashSet<usize>) {
        let object = |name: &str| {
            self.index
                .get(name)
                .filter(|&&i| self.types.get(i).is_some_and(|t| t.kind == DefKind::Object))
                .copied()
        };
        let field = |t: &TypeDef, name: &str| t.fields.iter().find(|f| f.name == name).cloned();
        let mut connections = HashMap::new();
        let mut parts: HashSet<usize> = HashSet::new();
        for (i, t) in self.types.iter().enumerate() {
            if t.kind != DefKind::Object || !t.name.ends_with("Connection") {
                continue;
            }
            let via_edges = field(t, "edges")
                .filter(|f| f.ty.is_list())
                .and_then(|f| object(f.ty.base().0))
                .and_then(|e| {
                    let node = self.types.get(e).and_then(|et| field(et, "node"))?;
                    (!node.ty.is_list()).then(|| (Some(e), node.ty.base().0.to_string()))
                });
            let via_nodes = || {
                field(t, "nodes")
                    .filter(|f| f.ty.is_list())
                    .map(|f| (None, f.ty.base().0.to_string()))
            };
            let Some((edge, node)) = via_edges.or_else(via_nodes) else {
                continue;
            };
            connections.insert(i, node);
            parts.extend(edge);
            parts.extend(field(t, "pageInfo").and_then(|f| object(f.ty.base().0)));
        }
        // A part is not data only if nothing but connections and their parts
        // uses it.
        let wrappers = parts
            .iter()
            .copied()
            .filter(|&p| {
                let name = self
                    .types
                    .get(p)
                    .map(|t| t.name.as_str())
                    .unwrap_or_default();
                self.types.iter().enumerate().all(|(i, t)| {
                    connections.contains_key(&i)
                        || parts.contains(&i)
                        || t.fields.iter().all(|f| f.ty.base().0 != name)
                })
            })
            .collect();
        (connections, wrappers)
    }

    /// The key field of an object type and its type.
    fn key_of(&self, ti: usize) -> Option<(String, FieldType)> {
        let t = self.types.get(ti)?;
        let is_id = |f: &&FieldDef| !f.ty.is_list() && f.ty.base().0 == "ID";
        let f = t
            .fields
            .iter()
            .find(|f| f.has_directive("id"))
            .or_else(|| t.fields.iter().filter(is_id).find(|f| f.name == "id"))
            .or_else(|| t.fields.iter().find(is_id))
            .or_else(|| t.fields.iter().find(|f| f.name == "id" && !f.ty.is_list()))?;
        if f.ty.is_list() {
            return None;
        }
        let base = f.ty.base().0;
        let ty = builtin(base).or_else(|| {
            let d = self.index.get(base).and_then(|&i| self.types.get(i))?;
            match d.kind {
                DefKind::Scalar => Some(custom_scalar(base).unwrap_or(FieldType::Text)),
                DefKind::Enum => Some(FieldType::Enum {
                    name: Some(d.name.clone()),
                    values: d.values.clone(),
                }),
                _ => None,
            }
        });
        let ty = match ty {
            Some(t) => t,
            None if !self.index.contains_key(base) => {
                custom_scalar(base).unwrap_or(FieldType::Text)
            }
            None => return None,
        };
        Some((f.name.clone(), ty))
    }

    fn target(
        &mut self,
        base: &str,
        pos: Pos,
        entity_of: &HashMap<usize, usize>,
        roots: &[String],
    ) -> Target {
        if let Some(t) = builtin(base) {
            return Target::Scalar(t);
        }
        let Some(&ti) = self.index.get(base) else {
            let known = custom_scalar(base);
            if known.is_none() && self.noted_scalars.insert(base.to_string()) {
                self.skip(
                    pos,
                    format!("type {base}"),
                    "not declared in this document: read as text",
                );
            }
            return Target::Scalar(known.unwrap_or(FieldType::Text));
        };
        let Some(t) = self.types.get(ti) else {
            return Target::Scalar(FieldType::Text);
        };
        match t.kind {
            DefKind::Scalar => Target::Scalar(custom_scalar(base).unwrap_or(FieldType::Text)),
            DefKind::Enum => Target::Scalar(FieldType::Enum {
                name: Some(t.name.clone()),
                values: t.values.clone(),
            }),
            DefKind::Object if roots.iter().any(|r| r == base) => Target::Other(DefKind::Schema),
            DefKind::Object => entity_of
                .get(&ti)
                .map_or(Target::Other(DefKind::Object), |&e| Target::Entity(e)),
            other => Target::Other(other),
        }
    }
}

/// Wrap a scalar type in `array`s as the field's list nesting says.
fn wrap(ty: &TypeRef, scalar: FieldType) -> FieldType {
    match ty {
        TypeRef::Named(..) => scalar,
        TypeRef::NonNull(inner) => wrap(inner, scalar),
        TypeRef::List(inner) => FieldType::Array {
            items: Box::new(wrap(inner, scalar)),
        },
    }
}
