//! Differences between two metadata documents — what changed between two
//! imports or introspections of the same data model.
//!
//! Entities, fields and relations are matched by name (a rename shows as a
//! removal and an addition); indexes are compared whole. The order is
//! deterministic: entities in the order of the new document, then the removed
//! ones in the order of the old; the same for fields and relations inside an
//! entity. Descriptions are not compared.
//!
//! Defaults are compared by meaning: `'{}'::JSONB` and `'{}'::jsonb`,
//! `CURRENT_TIMESTAMP`, `current_timestamp()` and `now()`, `'0'` and `0` on a
//! number are the same default. [`DiffOptions::strict`] compares their text
//! instead.
//!
//! ```
//! use baas_core::{Entity, Field, FieldType, SchemaMetadata};
//! use baas_introspect::diff::diff;
//!
//! let old = SchemaMetadata::new(vec![Entity::new("film", vec![Field::new("rating", FieldType::Int16)])]);
//! let new = SchemaMetadata::new(vec![Entity::new("film", vec![Field::new("rating", FieldType::Text)])]);
//! let d = diff(&old, &new);
//! assert_eq!(d.to_string(), "~ film.rating: type int16 -> text\n");
//! ```

use std::fmt;

use baas_core::{
    Entity, Field, FieldType, Generated, Index, IntRange, Relation, RelationKind, SchemaMetadata,
    Source,
};
use serde::Serialize;

mod default;

/// How to compare.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DiffOptions {
    /// Compare defaults as written (`now()` differs from
    /// `CURRENT_TIMESTAMP`) rather than by meaning.
    pub strict: bool,
}

/// Every difference between two metadata documents.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MetadataDiff {
    /// Per-entity changes: those of the new document in its order, then the
    /// removed ones.
    pub entities: Vec<EntityChange>,
}

impl MetadataDiff {
    /// True when the two documents describe the same data model.
    pub fn is_empty(&self) -> bool {
        self.entities.is_empty()
    }

    /// Names of the entities only in the new document.
    pub fn added_entities(&self) -> impl Iterator<Item = &str> {
        self.entities.iter().filter_map(|c| match c {
            EntityChange::Added { name } => Some(name.as_str()),
            _ => None,
        })
    }

    /// Names of the entities only in the old document.
    pub fn removed_entities(&self) -> impl Iterator<Item = &str> {
        self.entities.iter().filter_map(|c| match c {
            EntityChange::Removed { name } => Some(name.as_str()),
            _ => None,
        })
    }

    /// The changes of an entity present in both documents, if it changed.
    pub fn changed_entity(&self, name: &str) -> Option<&EntityDiff> {
        self.entities.iter().find_map(|c| match c {
            EntityChange::Changed(d) if d.name == name => Some(d.as_ref()),
            _ => None,
        })
    }
}

/// What happened to one entity.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "change", rename_all = "snake_case")]
pub enum EntityChange {
    /// Only in the new document.
    Added {
        /// Entity name.
        name: String,
    },
    /// Only in the old document.
    Removed {
        /// Entity name.
        name: String,
    },
    /// In both, with differences.
    Changed(Box<EntityDiff>),
}

/// An old and a new value.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Change<T> {
    /// Before.
    pub old: T,
    /// After.
    pub new: T,
}

impl<T: PartialEq + Clone> Change<T> {
    fn of(old: &T, new: &T) -> Option<Self> {
        (old != new).then(|| Self {
            old: old.clone(),
            new: new.clone(),
        })
    }
}

/// The differences inside one entity present in both documents.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EntityDiff {
    /// Entity name.
    pub name: String,
    /// Where its rows live, if that changed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<Change<Source>>,
    /// Primary key, if it changed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub primary_key: Option<Change<Vec<String>>>,
    /// Read-only flag, if it changed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub read_only: Option<Change<bool>>,
    /// View flag ([`Entity::view`](baas_core::Entity::view)), if it changed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub view: Option<Change<bool>>,
    /// Request-settings flag ([`Entity::request_settings`](baas_core::Entity::request_settings)), if it changed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_settings: Option<Change<bool>>,
    /// Write-settings flag ([`Entity::write_settings`](baas_core::Entity::write_settings)), if it changed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub write_settings: Option<Change<bool>>,
    /// Field changes: new order, then removed fields.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<FieldChange>,
    /// Relation changes: new order, then removed relations.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub relations: Vec<RelationChange>,
    /// Index changes: added (new order), then removed (old order).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub indexes: Vec<IndexChange>,
}

impl EntityDiff {
    /// True when nothing differs.
    pub fn is_empty(&self) -> bool {
        self.source.is_none()
            && self.primary_key.is_none()
            && self.read_only.is_none()
            && self.view.is_none()
            && self.request_settings.is_none()
            && self.write_settings.is_none()
            && self.fields.is_empty()
            && self.relations.is_empty()
            && self.indexes.is_empty()
    }

    /// The attribute changes of field `name`, if it is in both documents and changed.
    pub fn changed_field(&self, name: &str) -> Option<&[FieldAttributeChange]> {
        self.fields.iter().find_map(|c| match c {
            FieldChange::Changed { name: n, changes } if n == name => Some(changes.as_slice()),
            _ => None,
        })
    }
}

/// What happened to one field.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "change", rename_all = "snake_case")]
pub enum FieldChange {
    /// Only in the new document.
    Added {
        /// The new field.
        field: Field,
    },
    /// Only in the old document.
    Removed {
        /// The old field.
        field: Field,
    },
    /// In both, with these attribute changes.
    Changed {
        /// Field name.
        name: String,
        /// Each attribute that differs.
        changes: Vec<FieldAttributeChange>,
    },
}

/// One attribute of a field that differs, with its old and new value.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "attribute", rename_all = "snake_case")]
pub enum FieldAttributeChange {
    /// The value type.
    Type {
        /// Before.
        old: FieldType,
        /// After.
        new: FieldType,
    },
    /// Whether null is allowed.
    Nullable {
        /// Before.
        old: bool,
        /// After.
        new: bool,
    },
    /// How the database generates the value.
    Generated {
        /// Before.
        old: Generated,
        /// After.
        new: Generated,
    },
    /// Whether the value is unique on its own.
    Unique {
        /// Before.
        old: bool,
        /// After.
        new: bool,
    },
    /// Maximum length of a string.
    MaxLength {
        /// Before.
        old: Option<u32>,
        /// After.
        new: Option<u32>,
    },
    /// The bounds of an integer narrower than its type (unsigned columns).
    Range {
        /// Before.
        old: Option<IntRange>,
        /// After.
        new: Option<IntRange>,
    },
    /// The database default.
    Default {
        /// Before.
        old: Option<String>,
        /// After.
        new: Option<String>,
    },
    /// The column name when it differs from the field name.
    Column {
        /// Before.
        old: Option<String>,
        /// After.
        new: Option<String>,
    },
}

/// What happened to one relation.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "change", rename_all = "snake_case")]
pub enum RelationChange {
    /// Only in the new document.
    Added {
        /// The new relation.
        relation: Relation,
    },
    /// Only in the old document.
    Removed {
        /// The old relation.
        relation: Relation,
    },
    /// Same name, different kind, target or fields.
    Changed {
        /// Before.
        old: Relation,
        /// After.
        new: Relation,
    },
}

/// An index only in one of the documents (an index whose definition changed
/// is removed and added).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "change", rename_all = "snake_case")]
pub enum IndexChange {
    /// Only in the new document.
    Added {
        /// The index.
        index: Index,
    },
    /// Only in the old document.
    Removed {
        /// The index.
        index: Index,
    },
}

/// Compare `old` with `new`, defaults by meaning.
pub fn diff(old: &SchemaMetadata, new: &SchemaMetadata) -> MetadataDiff {
    diff_with(old, new, DiffOptions::default())
}

/// Compare `old` with `new` as `options` say.
pub fn diff_with(old: &SchemaMetadata, new: &SchemaMetadata, options: DiffOptions) -> MetadataDiff {
    let mut entities = Vec::new();
    for n in &new.entities {
        match old.entities.iter().find(|o| o.name == n.name) {
            None => entities.push(EntityChange::Added {
                name: n.name.clone(),
            }),
            Some(o) => {
                let d = diff_entity(o, n, options);
                if !d.is_empty() {
                    entities.push(EntityChange::Changed(Box::new(d)));
                }
            }
        }
    }
    for o in &old.entities {
        if !new.entities.iter().any(|n| n.name == o.name) {
            entities.push(EntityChange::Removed {
                name: o.name.clone(),
            });
        }
    }
    MetadataDiff { entities }
}

fn diff_entity(old: &Entity, new: &Entity, options: DiffOptions) -> EntityDiff {
    let mut fields = Vec::new();
    for n in &new.fields {
        match old.fields.iter().find(|o| o.name == n.name) {
            None => fields.push(FieldChange::Added { field: n.clone() }),
            Some(o) => {
                let changes = diff_field(o, n, options);
                if !changes.is_empty() {
                    fields.push(FieldChange::Changed {
                        name: n.name.clone(),
                        changes,
                    });
                }
            }
        }
    }
    for o in &old.fields {
        if !new.fields.iter().any(|n| n.name == o.name) {
            fields.push(FieldChange::Removed { field: o.clone() });
        }
    }

    let mut relations = Vec::new();
    for n in &new.relations {
        match old.relations.iter().find(|o| o.name == n.name) {
            None => relations.push(RelationChange::Added {
                relation: n.clone(),
            }),
            // The constraint's name is not part of the link (engines and
            // dumps name the same foreign key differently).
            Some(o)
                if Relation {
                    constraint: n.constraint.clone(),
                    ..o.clone()
                } != *n =>
            {
                relations.push(RelationChange::Changed {
                    old: o.clone(),
                    new: n.clone(),
                })
            }
            Some(_) => {}
        }
    }
    for o in &old.relations {
        if !new.relations.iter().any(|n| n.name == o.name) {
            relations.push(RelationChange::Removed {
                relation: o.clone(),
            });
        }
    }

    let mut indexes: Vec<IndexChange> = new
        .indexes
        .iter()
        .filter(|n| !old.indexes.contains(n))
        .map(|n| IndexChange::Added { index: n.clone() })
        .collect();
    indexes.extend(
        old.indexes
            .iter()
            .filter(|o| !new.indexes.contains(o))
            .map(|o| IndexChange::Removed { index: o.clone() }),
    );

    EntityDiff {
        name: new.name.clone(),
        source: Change::of(&old.source, &new.source),
        primary_key: Change::of(&old.primary_key, &new.primary_key),
        read_only: Change::of(&old.read_only, &new.read_only),
        view: Change::of(&old.view, &new.view),
        request_settings: Change::of(&old.request_settings, &new.request_settings),
        write_settings: Change::of(&old.write_settings, &new.write_settings),
        fields,
        relations,
        indexes,
    }
}

/// Whether two defaults differ: by text when `strict`, else by meaning.
fn defaults_differ(old: &Field, new: &Field, strict: bool) -> bool {
    if strict {
        return old.default != new.default;
    }
    let canonical = |f: &Field| {
        f.default
            .as_deref()
            .and_then(|d| default::canonical(d, &f.ty))
    };
    canonical(old) != canonical(new)
}

fn diff_field(old: &Field, new: &Field, options: DiffOptions) -> Vec<FieldAttributeChange> {
    use FieldAttributeChange as A;
    let mut out = Vec::new();
    if old.ty != new.ty {
        out.push(A::Type {
            old: old.ty.clone(),
            new: new.ty.clone(),
        });
    }
    if old.nullable != new.nullable {
        out.push(A::Nullable {
            old: old.nullable,
            new: new.nullable,
        });
    }
    if old.generated != new.generated {
        out.push(A::Generated {
            old: old.generated,
            new: new.generated,
        });
    }
    if old.unique != new.unique {
        out.push(A::Unique {
            old: old.unique,
            new: new.unique,
        });
    }
    if old.max_length != new.max_length {
        out.push(A::MaxLength {
            old: old.max_length,
            new: new.max_length,
        });
    }
    if old.range != new.range {
        out.push(A::Range {
            old: old.range,
            new: new.range,
        });
    }
    if defaults_differ(old, new, options.strict) {
        out.push(A::Default {
            old: old.default.clone(),
            new: new.default.clone(),
        });
    }
    if old.column != new.column {
        out.push(A::Column {
            old: old.column.clone(),
            new: new.column.clone(),
        });
    }
    out
}

// ---------------------------------------------------------------------------
// Display
// ---------------------------------------------------------------------------

/// A short rendering of a field type: `int32`, `decimal(10,2)`,
/// `enum(mpaa_rating)`, `enum[a|b]`, `array(text)`.
fn type_name(t: &FieldType) -> String {
    match t {
        FieldType::Decimal {
            precision: Some(p),
            scale: Some(s),
        } => format!("decimal({p},{s})"),
        FieldType::Decimal {
            precision: Some(p),
            scale: None,
        } => format!("decimal({p})"),
        FieldType::Array { items } => format!("array({})", type_name(items)),
        FieldType::Enum { name: Some(n), .. } => format!("enum({n})"),
        FieldType::Enum { name: None, values } => format!("enum[{}]", values.join("|")),
        other => other.name().to_string(),
    }
}

/// [`type_name`] with the values of enums, also inside arrays:
/// `enum(mood)[sad|ok|happy]`. Used when the short names of two types are the
/// same, so that a change of values (or of their order) shows.
fn type_name_with_values(t: &FieldType) -> String {
    match t {
        FieldType::Enum {
            name: Some(n),
            values,
        } => format!("enum({n})[{}]", values.join("|")),
        FieldType::Array { items } => format!("array({})", type_name_with_values(items)),
        other => type_name(other),
    }
}

fn generated_name(g: Generated) -> &'static str {
    match g {
        Generated::None => "none",
        Generated::AutoIncrement => "auto_increment",
        Generated::Always => "always",
    }
}

fn opt<T: fmt::Display>(v: Option<&T>) -> String {
    v.map_or_else(|| "none".to_string(), ToString::to_string)
}

fn kind_name(k: &RelationKind) -> String {
    match k {
        RelationKind::ManyToOne => "many_to_one".to_string(),
        RelationKind::OneToMany => "one_to_many".to_string(),
        RelationKind::OneToOne => "one_to_one".to_string(),
        RelationKind::ManyToMany { through } => format!("many_to_many via {}", through.entity),
    }
}

fn source_name(s: &Source) -> String {
    match &s.schema {
        Some(schema) => format!("{schema}.{}", s.table),
        None => s.table.clone(),
    }
}

fn field_summary(f: &Field) -> String {
    let mut s = type_name(&f.ty);
    if f.nullable {
        s.push_str(", nullable");
    }
    if f.generated != Generated::None {
        s.push_str(", ");
        s.push_str(generated_name(f.generated));
    }
    if f.unique {
        s.push_str(", unique");
    }
    s
}

/// `a=x, b=y`: each field of this entity with the target field it matches.
fn pairs(r: &Relation) -> String {
    r.from_fields
        .iter()
        .zip(&r.to_fields)
        .map(|(a, b)| format!("{a}={b}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn relation_summary(r: &Relation) -> String {
    format!("{} {} ({})", kind_name(&r.kind), r.target, pairs(r))
}

fn index_summary(i: &Index) -> String {
    format!(
        "{} ({}){}",
        i.name,
        i.fields.join(", "),
        if i.unique { " unique" } else { "" }
    )
}

impl fmt::Display for FieldAttributeChange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Type { old, new } => {
                let (mut o, mut n) = (type_name(old), type_name(new));
                if o == n {
                    (o, n) = (type_name_with_values(old), type_name_with_values(new));
                }
                write!(f, "type {o} -> {n}")
            }
            Self::Nullable { old, new } => write!(f, "nullable {old} -> {new}"),
            Self::Generated { old, new } => write!(
                f,
                "generated {} -> {}",
                generated_name(*old),
                generated_name(*new)
            ),
            Self::Unique { old, new } => write!(f, "unique {old} -> {new}"),
            Self::MaxLength { old, new } => {
                write!(
                    f,
                    "max_length {} -> {}",
                    opt(old.as_ref()),
                    opt(new.as_ref())
                )
            }
            Self::Range { old, new } => {
                write!(f, "range {} -> {}", opt(old.as_ref()), opt(new.as_ref()))
            }
            Self::Default { old, new } => {
                write!(f, "default {} -> {}", opt(old.as_ref()), opt(new.as_ref()))
            }
            Self::Column { old, new } => {
                write!(f, "column {} -> {}", opt(old.as_ref()), opt(new.as_ref()))
            }
        }
    }
}

impl fmt::Display for EntityDiff {
    /// One line per change, each ending in a newline.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let e = &self.name;
        if let Some(c) = &self.source {
            writeln!(
                f,
                "~ {e}: source {} -> {}",
                source_name(&c.old),
                source_name(&c.new)
            )?;
        }
        if let Some(c) = &self.read_only {
            writeln!(f, "~ {e}: read_only {} -> {}", c.old, c.new)?;
        }
        if let Some(c) = &self.view {
            writeln!(f, "~ {e}: view {} -> {}", c.old, c.new)?;
        }
        if let Some(c) = &self.request_settings {
            writeln!(f, "~ {e}: request_settings {} -> {}", c.old, c.new)?;
        }
        if let Some(c) = &self.write_settings {
            writeln!(f, "~ {e}: write_settings {} -> {}", c.old, c.new)?;
        }
        if let Some(c) = &self.primary_key {
            writeln!(
                f,
                "~ {e}: primary key ({}) -> ({})",
                c.old.join(", "),
                c.new.join(", ")
            )?;
        }
        for c in &self.fields {
            match c {
                FieldChange::Added { field } => {
                    writeln!(f, "+ {e}.{}: {}", field.name, field_summary(field))?;
                }
                FieldChange::Removed { field } => {
                    writeln!(f, "- {e}.{}: {}", field.name, field_summary(field))?;
                }
                FieldChange::Changed { name, changes } => {
                    for change in changes {
                        writeln!(f, "~ {e}.{name}: {change}")?;
                    }
                }
            }
        }
        for c in &self.relations {
            match c {
                RelationChange::Added { relation } => writeln!(
                    f,
                    "+ relation {e}.{}: {}",
                    relation.name,
                    relation_summary(relation)
                )?,
                RelationChange::Removed { relation } => writeln!(
                    f,
                    "- relation {e}.{}: {}",
                    relation.name,
                    relation_summary(relation)
                )?,
                RelationChange::Changed { old, new } => {
                    let n = &new.name;
                    if old.kind != new.kind {
                        writeln!(
                            f,
                            "~ relation {e}.{n}: kind {} -> {}",
                            kind_name(&old.kind),
                            kind_name(&new.kind)
                        )?;
                    }
                    if old.target != new.target {
                        writeln!(
                            f,
                            "~ relation {e}.{n}: target {} -> {}",
                            old.target, new.target
                        )?;
                    }
                    if old.from_fields != new.from_fields || old.to_fields != new.to_fields {
                        writeln!(
                            f,
                            "~ relation {e}.{n}: fields ({}) -> ({})",
                            pairs(old),
                            pairs(new)
                        )?;
                    }
                }
            }
        }
        for c in &self.indexes {
            match c {
                IndexChange::Added { index } => {
                    writeln!(f, "+ index {e}.{}", index_summary(index))?;
                }
                IndexChange::Removed { index } => {
                    writeln!(f, "- index {e}.{}", index_summary(index))?;
                }
            }
        }
        Ok(())
    }
}

impl fmt::Display for MetadataDiff {
    /// A readable summary, one line per change (`+` added, `-` removed,
    /// `~` changed), each ending in a newline; `no changes` when empty.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_empty() {
            return writeln!(f, "no changes");
        }
        for c in &self.entities {
            match c {
                EntityChange::Added { name } => writeln!(f, "+ entity {name}")?,
                EntityChange::Removed { name } => writeln!(f, "- entity {name}")?,
                EntityChange::Changed(d) => write!(f, "{d}")?,
            }
        }
        Ok(())
    }
}
