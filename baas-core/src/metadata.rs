//! The metadata model: what mini-baas knows about a tenant's data.
//!
//! An entity is data, not code: it is written by hand, discovered from a live
//! database, or imported from a schema file, and the generic engine serves it.
//! Every type here derives `schemars::JsonSchema`; the schema of the format is
//! published as `docs/metadata.schema.json`.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::error::{Error, NotFoundKind, Result};

/// Everything known about one tenant's data model.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SchemaMetadata {
    /// Format version of this document; bumped on incompatible changes.
    #[serde(default = "default_version")]
    pub version: u32,
    /// The entities, in a stable order.
    #[serde(default)]
    pub entities: Vec<Entity>,
    /// Permission rules ([`Rule`](crate::access::Rule)), versioned with
    /// the entities; applied by the policy the engine runs with.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rules: Vec<crate::access::Rule>,
    /// Database functions served at `/{tenant}/rpc/{name}`
    /// ([`Function`](crate::function::Function)).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub functions: Vec<crate::function::Function>,
}

fn default_version() -> u32 {
    1
}

impl SchemaMetadata {
    /// Metadata with the given entities.
    pub fn new(entities: Vec<Entity>) -> Self {
        Self {
            version: default_version(),
            entities,
            rules: Vec::new(),
            functions: Vec::new(),
        }
    }

    /// The functions a call of `name` with arguments named `keys` may
    /// reach: every function of that name when there is one (its own
    /// checks then say what is wrong with the arguments); among overloads
    /// (one name, several parameter lists, as PostgreSQL allows), those
    /// whose parameters include every key and whose required parameters
    /// are all given. Empty: no function of that name, or no overload
    /// takes these arguments; several: the call is ambiguous.
    pub fn overloads_for<'s>(
        &'s self,
        name: &str,
        keys: &[&str],
    ) -> Vec<&'s crate::function::Function> {
        let named: Vec<_> = self.functions.iter().filter(|f| f.name == name).collect();
        if named.len() < 2 {
            return named;
        }
        named.into_iter().filter(|f| f.takes(keys)).collect()
    }

    /// The function a call of `name` with arguments named `keys` reaches
    /// ([`SchemaMetadata::overloads_for`]): not found, or a validation
    /// error when no overload or several take these arguments.
    pub fn function_for(&self, name: &str, keys: &[&str]) -> Result<&crate::function::Function> {
        let found = self.overloads_for(name, keys);
        match found.as_slice() {
            [f] => Ok(f),
            [] if self.functions.iter().any(|f| f.name == name) => Err(Error::validation(
                "/args",
                format!(
                    "no overload of `{name}` takes the arguments ({})",
                    keys.join(", ")
                ),
            )),
            [] => self.function(name),
            _ => Err(Error::validation(
                "/args",
                format!(
                    "the call is ambiguous: {} overloads of `{name}` take the arguments ({})",
                    found.len(),
                    keys.join(", ")
                ),
            )),
        }
    }

    /// Look a function up by its API name (the first of overloads).
    pub fn function(&self, name: &str) -> Result<&crate::function::Function> {
        self.functions
            .iter()
            .find(|f| f.name == name)
            .ok_or_else(|| Error::NotFound {
                kind: NotFoundKind::Function,
                name: name.to_string(),
            })
    }

    /// Look an entity up by its API name.
    pub fn entity(&self, name: &str) -> Result<&Entity> {
        self.entities
            .iter()
            .find(|e| e.name == name)
            .ok_or_else(|| Error::entity_not_found(name))
    }

    /// Check internal consistency: unique names, primary keys and relation
    /// endpoints that exist. Returns every problem found at once.
    pub fn check(&self) -> Result<()> {
        let mut v = Vec::new();
        for (i, e) in self.entities.iter().enumerate() {
            let at = format!("/entities/{i}");
            if self.entities[..i].iter().any(|o| o.name == e.name) {
                v.push(crate::Violation::new(
                    format!("{at}/name"),
                    format!("duplicate entity name `{}`", e.name),
                ));
            }
            if e.source.is_system() {
                v.push(crate::Violation::new(
                    format!("{at}/source"),
                    format!(
                        "`{}` is a system table or catalog of the database engine: entities cannot be served from it",
                        e.source
                    ),
                ));
            }
            for (j, f) in e.fields.iter().enumerate() {
                if let FieldType::Enum { name: Some(n), .. } = &f.ty
                    && n.contains(['{', '}', '"'])
                {
                    v.push(crate::Violation::new(
                        format!("{at}/fields/{j}/type/name"),
                        format!("enum type name `{n}` contains a brace or quote"),
                    ));
                }
                if e.fields[..j].iter().any(|o| o.name == f.name) {
                    v.push(crate::Violation::new(
                        format!("{at}/fields/{j}/name"),
                        format!("duplicate field name `{}`", f.name),
                    ));
                }
            }
            for (j, k) in e.primary_key.iter().enumerate() {
                if e.field(k).is_err() {
                    v.push(crate::Violation::new(
                        format!("{at}/primary_key/{j}"),
                        format!("primary key field `{k}` is not a field of `{}`", e.name),
                    ));
                }
            }
            for (j, r) in e.relations.iter().enumerate() {
                let rat = format!("{at}/relations/{j}");
                let Ok(target) = self.entity(&r.target) else {
                    v.push(crate::Violation::new(
                        format!("{rat}/target"),
                        format!("relation target `{}` is not an entity", r.target),
                    ));
                    continue;
                };
                if r.function.is_some() {
                    // A computed relationship: attached by the row's key.
                    if r.from_fields.is_empty()
                        || !r.to_fields.is_empty()
                        || matches!(
                            r.kind,
                            RelationKind::ManyToMany { .. } | RelationKind::OneToOne
                        )
                    {
                        v.push(crate::Violation::new(
                            rat.clone(),
                            "a computed relationship is one_to_many or many_to_one, from_fields the entity's key, to_fields empty",
                        ));
                    }
                } else if r.from_fields.len() != r.to_fields.len() || r.from_fields.is_empty() {
                    v.push(crate::Violation::new(
                        rat.clone(),
                        "from_fields and to_fields must be non-empty and of equal length",
                    ));
                }
                match &r.kind {
                    RelationKind::ManyToMany { through } => {
                        if through.source_fields.len() != r.from_fields.len()
                            || through.target_fields.len() != r.to_fields.len()
                        {
                            v.push(crate::Violation::new(
                                format!("{rat}/kind/through"),
                                "source_fields / target_fields must match from_fields / to_fields in length",
                            ));
                        }
                        match self.entity(&through.entity) {
                            Err(_) => v.push(crate::Violation::new(
                                format!("{rat}/kind/through/entity"),
                                format!("junction `{}` is not an entity", through.entity),
                            )),
                            Ok(j) => {
                                for f in through.source_fields.iter().chain(&through.target_fields)
                                {
                                    if j.field(f).is_err() {
                                        v.push(crate::Violation::new(
                                            format!("{rat}/kind/through"),
                                            format!("`{f}` is not a field of `{}`", j.name),
                                        ));
                                    }
                                }
                            }
                        }
                        for f in &r.from_fields {
                            if e.field(f).is_err() {
                                v.push(crate::Violation::new(
                                    format!("{rat}/from_fields"),
                                    format!("`{f}` is not a field of `{}`", e.name),
                                ));
                            }
                        }
                        for f in &r.to_fields {
                            if target.field(f).is_err() {
                                v.push(crate::Violation::new(
                                    format!("{rat}/to_fields"),
                                    format!("`{f}` is not a field of `{}`", target.name),
                                ));
                            }
                        }
                    }
                    _ => {
                        for f in &r.from_fields {
                            if e.field(f).is_err() {
                                v.push(crate::Violation::new(
                                    format!("{rat}/from_fields"),
                                    format!("`{f}` is not a field of `{}`", e.name),
                                ));
                            }
                        }
                        for f in &r.to_fields {
                            if target.field(f).is_err() {
                                v.push(crate::Violation::new(
                                    format!("{rat}/to_fields"),
                                    format!("`{f}` is not a field of `{}`", target.name),
                                ));
                            }
                        }
                    }
                }
            }
        }
        for (i, f) in self.functions.iter().enumerate() {
            let at = format!("/functions/{i}");
            // Overloads share a name. Two with the same parameter names
            // and types are one function twice; with the same names and
            // other types (PostgreSQL's `f(x int)`, `f(x text)`) a call
            // cannot choose between them: it is PostgREST's 300, as there.
            if self.functions[..i]
                .iter()
                .any(|o| o.name == f.name && o.signature() == f.signature())
            {
                v.push(crate::Violation::new(
                    format!("{at}/name"),
                    format!(
                        "duplicate function `{}`: an overload with the same parameters exists",
                        f.name
                    ),
                ));
            }
            v.extend(f.problems(self, &at));
        }
        for (i, r) in self.rules.iter().enumerate() {
            let at = format!("/rules/{i}");
            let executes = r.action.contains(&crate::access::Action::Execute);
            if let Ok(f) = self.function(&r.entity) {
                let only_execute = r
                    .action
                    .iter()
                    .all(|a| *a == crate::access::Action::Execute);
                let extra = r.filter.is_some()
                    || r.check.is_some()
                    || r.read.is_some()
                    || r.write.is_some()
                    || !r.preset.is_empty();
                if !only_execute || !executes || extra {
                    v.push(crate::Violation::new(
                        format!("{at}/action"),
                        format!(
                            "a rule on the function `{}` has the one action `execute` and no filter, check, fields or presets (the rules of the entity it returns apply to its rows)",
                            f.name
                        ),
                    ));
                }
                if r.role.is_empty() || r.role.iter().any(|x| x.is_empty()) {
                    v.push(crate::Violation::new(
                        format!("{at}/role"),
                        "a rule needs at least one non-empty role",
                    ));
                }
                continue;
            }
            if executes {
                v.push(crate::Violation::new(
                    format!("{at}/action"),
                    format!(
                        "`execute` is an action on functions; `{}` is not one",
                        r.entity
                    ),
                ));
            }
            let Ok(e) = self.entity(&r.entity) else {
                v.push(crate::Violation::new(
                    format!("{at}/entity"),
                    format!("rule entity `{}` is not an entity", r.entity),
                ));
                continue;
            };
            if r.action.is_empty() {
                v.push(crate::Violation::new(
                    format!("{at}/action"),
                    "a rule needs at least one action",
                ));
            }
            if r.role.is_empty() || r.role.iter().any(|x| x.is_empty()) {
                v.push(crate::Violation::new(
                    format!("{at}/role"),
                    "a rule needs at least one non-empty role",
                ));
            }
            let lists = [
                ("read", r.read.iter().flatten().collect::<Vec<_>>()),
                ("write", r.write.iter().flatten().collect()),
                ("preset", r.preset.keys().collect()),
            ];
            // A read list may also name a computed relationship (a function
            // of the row, readable only when listed).
            let computed = |f: &str| {
                e.relations
                    .iter()
                    .any(|r| r.name == f && r.function.is_some())
            };
            for (what, names) in lists {
                for f in names {
                    if e.field(f).is_err() && !(what == "read" && computed(f)) {
                        v.push(crate::Violation::new(
                            format!("{at}/{what}"),
                            format!("`{f}` is not a field of `{}`", e.name),
                        ));
                    }
                }
            }
        }
        if v.is_empty() {
            Ok(())
        } else {
            Err(Error::Validation { violations: v })
        }
    }
}

/// Where an entity's rows live.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Source {
    /// Table, view or collection name in the database.
    pub table: String,
    /// Database schema (PostgreSQL schema / MySQL database); `None` = the connection default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<String>,
}

impl Source {
    /// Whether the source is an engine's own catalog rather than user data:
    /// a table named `sqlite_*` (reserved by SQLite), anything in the
    /// `pg_catalog`, `information_schema`, `pg_toast`, `mysql`,
    /// `performance_schema` or `sys` schemas, or a MongoDB `system.*`
    /// collection. [`SchemaMetadata::check`] refuses such entities on every
    /// engine, so managed metadata stays portable.
    pub fn is_system(&self) -> bool {
        let t = self.table.to_ascii_lowercase();
        t.starts_with("sqlite_")
            || t.starts_with("system.")
            || self.schema.as_deref().is_some_and(|s| {
                matches!(
                    s.to_ascii_lowercase().as_str(),
                    "pg_catalog"
                        | "information_schema"
                        | "pg_toast"
                        | "mysql"
                        | "performance_schema"
                        | "sys"
                )
            })
    }
}

impl std::fmt::Display for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.schema {
            Some(s) => write!(f, "{s}.{}", self.table),
            None => f.write_str(&self.table),
        }
    }
}

/// One entity: a table, a view or a collection, served under `name`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Entity {
    /// API name (URL segment, JSON key in embeddings).
    pub name: String,
    /// Where the rows live.
    pub source: Source,
    /// Field names forming the primary key (may be composite; empty for keyless views).
    #[serde(default)]
    pub primary_key: Vec<String>,
    /// The fields, in column order.
    pub fields: Vec<Field>,
    /// Relations to other entities.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub relations: Vec<Relation>,
    /// Indexes (unique ones also act as upsert conflict targets).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub indexes: Vec<Index>,
    /// True for anything that refuses writes: a view the database cannot
    /// write through (PostgreSQL's auto-updatable views and views with
    /// `INSTEAD OF` triggers, MySQL's updatable views, are written like
    /// tables), a function's rows, a document store's view.
    #[serde(default, skip_serializing_if = "is_false")]
    pub read_only: bool,
    /// A view (or materialized view): rows read through a query of other
    /// tables. Managed DDL never creates it, and an embedding named by a
    /// foreign key prefers a table to a view ([`Entity::is_view`]).
    #[serde(default, skip_serializing_if = "is_false")]
    pub view: bool,
    /// Its statements may read PostgREST's request settings
    /// (`request.jwt.claims`…, Supabase's `auth.uid()`): for a table, its
    /// writes (a trigger of its own or of a table a write cascades to,
    /// or a column default or `CHECK` constraint calling a function of
    /// the database's own or `current_setting`), which then run in a
    /// transaction that sets the caller's settings first; for a view
    /// ([`is_view`](Self::is_view)), its reads (a function or
    /// `current_setting` it calls, or such a view it reads), as do the
    /// reads that embed it, and the writes through it (its `WHERE` applies
    /// to them). Other statements run alone on the pool. Set by
    /// PostgreSQL's introspection (by hand for other metadata; engines
    /// without [`Capabilities::request_settings`](crate::Capabilities::request_settings)
    /// ignore it). See [`Entity::writes_settings`].
    #[serde(default, skip_serializing_if = "is_false")]
    pub request_settings: bool,
    /// A view written through: the writes through it may read the request
    /// settings beneath it (a trigger or cascade of a table it writes, a
    /// rule writing elsewhere), though its reads do not. Kept apart from
    /// [`request_settings`](Self::request_settings) so that reading such a
    /// view stays one statement on the pool. Set by PostgreSQL's
    /// introspection.
    #[serde(default, skip_serializing_if = "is_false")]
    pub write_settings: bool,
    /// Human-readable description (table comment).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

fn is_false(b: &bool) -> bool {
    !*b
}

impl Entity {
    /// The fields `*` (an empty selection) reads: every field but the
    /// computed ones ([`Field::computed`]), which are read when named, in
    /// the entity's order.
    pub fn star_fields(&self) -> impl Iterator<Item = &Field> {
        self.fields.iter().filter(|f| !f.is_computed())
    }

    /// A new entity whose table is named like the entity.
    pub fn new(name: impl Into<String>, fields: Vec<Field>) -> Self {
        let name = name.into();
        Self {
            source: Source {
                table: name.clone(),
                schema: None,
            },
            name,
            primary_key: Vec::new(),
            fields,
            relations: Vec::new(),
            indexes: Vec::new(),
            read_only: false,
            view: false,
            request_settings: false,
            write_settings: false,
            description: None,
        }
    }

    /// Whether its writes run with the request settings: a table's when
    /// [`request_settings`](Self::request_settings), a view's when its own
    /// rule reads them or [`write_settings`](Self::write_settings).
    pub fn writes_settings(&self) -> bool {
        self.request_settings || self.write_settings
    }

    /// Whether the entity is a view: [`view`](Self::view), or
    /// [`read_only`](Self::read_only) in metadata written before the
    /// `view` flag, where a view was only read-only.
    pub fn is_view(&self) -> bool {
        self.view || self.read_only
    }

    /// Builder: set the primary key.
    pub fn with_primary_key<I, S>(mut self, key: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.primary_key = key.into_iter().map(Into::into).collect();
        self
    }

    /// Builder: set the source table.
    pub fn with_table(mut self, table: impl Into<String>) -> Self {
        self.source.table = table.into();
        self
    }

    /// Builder: add a relation.
    pub fn with_relation(mut self, relation: Relation) -> Self {
        self.relations.push(relation);
        self
    }

    /// Look a field up by its API name.
    pub fn field(&self, name: &str) -> Result<&Field> {
        self.fields
            .iter()
            .find(|f| f.name == name)
            .ok_or_else(|| Error::NotFound {
                kind: NotFoundKind::Field,
                name: format!("{}.{name}", self.name),
            })
    }

    /// Look a relation up by name.
    pub fn relation(&self, name: &str) -> Result<&Relation> {
        self.relations
            .iter()
            .find(|r| r.name == name)
            .ok_or_else(|| Error::NotFound {
                kind: NotFoundKind::Relation,
                name: format!("{}.{name}", self.name),
            })
    }

    /// The primary key fields, in key order.
    pub fn key_fields(&self) -> impl Iterator<Item = &Field> {
        self.primary_key.iter().filter_map(|k| self.field(k).ok())
    }
}

/// One field (column / document property).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Field {
    /// API name.
    pub name: String,
    /// Column name in the database when it differs from `name`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub column: Option<String>,
    /// The value type.
    #[serde(rename = "type")]
    pub ty: FieldType,
    /// Whether null is allowed.
    #[serde(default)]
    pub nullable: bool,
    /// The database default, as SQL text or a literal (informational; the database applies it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<String>,
    /// How the database generates the value, if it does.
    #[serde(default, skip_serializing_if = "Generated::is_none")]
    pub generated: Generated,
    /// Whether the value is unique on its own.
    #[serde(default, skip_serializing_if = "is_false")]
    pub unique: bool,
    /// Maximum length in characters for strings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_length: Option<u32>,
    /// Bounds of an integer narrower than its type (an unsigned column:
    /// `TINYINT UNSIGNED` is `0..=255` in an `int16`); writes outside are
    /// refused, and the OpenAPI schema says so.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub range: Option<IntRange>,
    /// The database's type, when mini-baas has no mapping for it and the
    /// field is its text form (`type` is `text`): PostgreSQL ranges,
    /// `tsvector`, `inet`, PostGIS `geography`… The SQL engines read the
    /// column as text (`CAST(col AS text)`), compare and sort it in its own
    /// type (the operand `CAST($1 AS db_type)`; as text where PostgreSQL
    /// has no ordering of it: `xml`, the geometric types), write it
    /// with `CAST($1 AS db_type)`, and `fts` searches a `tsvector` column
    /// as it is. A PostGIS `geometry` is its GeoJSON instead (`type` is
    /// `json`, [`Field::is_geometry`]), and a composite type (or an array
    /// of one) its JSON object (array), as PostgREST answers it (`type` is
    /// `json`, [`Field::is_composite`]). Set by introspection; a type name
    /// only ([`is_type_name`](crate::function::is_type_name)).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub db_type: Option<String>,
    /// Human-readable description (column comment).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// A computed field (PostgREST's): the value of this database function
    /// called with the row (`schema.fn(table.*)`), not a column. Read only
    /// (give it [`Generated::Always`]), left out of `*`: it is read when
    /// named (`select=*,full_name`), and filters and orders like a column.
    /// Set by introspection from a PostgreSQL function whose one required
    /// argument is a row of the table; engines without
    /// [`Capabilities::computed_fields`](crate::Capabilities::computed_fields)
    /// refuse it. The function sees the whole row: under a read grant that
    /// lists readable fields it is readable only when listed itself.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub computed: Option<Box<Source>>,
}

/// Inclusive bounds of an integer field's values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct IntRange {
    /// The smallest value allowed.
    pub min: i64,
    /// The largest value allowed.
    pub max: i64,
}

impl IntRange {
    /// The values of an unsigned integer column `bits` wide, as far as an
    /// `int64` holds them (`BIGINT UNSIGNED` above `i64::MAX` is out of reach).
    pub fn unsigned(bits: u32) -> Self {
        let max = if bits >= 63 {
            i64::MAX
        } else {
            (1i64 << bits) - 1
        };
        Self { min: 0, max }
    }

    /// Whether `v` is within the bounds.
    pub fn contains(&self, v: i64) -> bool {
        (self.min..=self.max).contains(&v)
    }
}

impl std::fmt::Display for IntRange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}..={}", self.min, self.max)
    }
}

impl Field {
    /// A non-nullable field whose column is named like the field.
    pub fn new(name: impl Into<String>, ty: FieldType) -> Self {
        Self {
            name: name.into(),
            column: None,
            ty,
            nullable: false,
            default: None,
            generated: Generated::None,
            unique: false,
            max_length: None,
            range: None,
            db_type: None,
            description: None,
            computed: None,
        }
    }

    /// Builder: a computed field, the value of `function` called with the
    /// row (read only).
    pub fn computed(mut self, function: Source) -> Self {
        self.computed = Some(Box::new(function));
        self.generated = Generated::Always;
        self
    }

    /// Whether the field is a PostGIS `geometry` (its [`db_type`](Field::db_type),
    /// possibly schema-qualified): its value is the GeoJSON geometry
    /// (`type` [`FieldType::Json`]), written from GeoJSON, WKT or EWKB text.
    pub fn is_geometry(&self) -> bool {
        self.db_type
            .as_deref()
            .is_some_and(|t| t == "geometry" || t.ends_with(".geometry"))
    }

    /// Whether the field is a PostgreSQL composite type, or an array of
    /// one ([`db_type`](Field::db_type) with `type` [`FieldType::Json`], not
    /// a geometry): its value is the JSON object (array of objects) of its
    /// attributes in their order (`to_json`), written from one
    /// (`jsonb_populate_record`),
    /// so `->`/`->>` step into it as into a JSON field.
    pub fn is_composite(&self) -> bool {
        self.ty == FieldType::Json
            && self
                .db_type
                .as_deref()
                .is_some_and(|t| !matches!(t, "json" | "jsonb"))
            && !self.is_geometry()
    }

    /// Whether the field is computed by a function ([`Field::computed`]).
    pub fn is_computed(&self) -> bool {
        self.computed.is_some()
    }

    /// Builder: allow null.
    pub fn nullable(mut self) -> Self {
        self.nullable = true;
        self
    }

    /// Builder: map to a differently named column.
    pub fn with_column(mut self, column: impl Into<String>) -> Self {
        self.column = Some(column.into());
        self
    }

    /// Builder: mark as generated by the database.
    pub fn generated(mut self, g: Generated) -> Self {
        self.generated = g;
        self
    }

    /// The database column name.
    pub fn column(&self) -> &str {
        self.column.as_deref().unwrap_or(&self.name)
    }
}

/// How the database produces a field's value.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Generated {
    /// Written by the client.
    #[default]
    None,
    /// Auto-increment / serial / identity: may be omitted on insert.
    AutoIncrement,
    /// Computed column: never written by the client.
    Always,
}

impl Generated {
    fn is_none(&self) -> bool {
        matches!(self, Self::None)
    }
}

/// The type of a field. JSON shapes for each type are fixed by
/// [`crate::value`] and identical on every engine.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
#[non_exhaustive]
pub enum FieldType {
    /// Text of any length (`varchar`, `text`, `char`).
    Text,
    /// 16-bit integer.
    Int16,
    /// 32-bit integer.
    Int32,
    /// 64-bit integer (JSON number; values beyond ±2^53 keep full precision in the JSON text).
    Int64,
    /// 32-bit float.
    Float32,
    /// 64-bit float.
    Float64,
    /// Exact decimal; a JSON number written with its exact digits (no
    /// float round trip), or a string for a tenant that keeps decimals as
    /// strings ([`crate::value::AnswerFormat`]).
    Decimal {
        /// Total digits, if bounded.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        precision: Option<u32>,
        /// Digits after the point, if fixed.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        scale: Option<u32>,
    },
    /// Boolean (also MySQL `TINYINT(1)` and SQLite 0/1).
    Boolean,
    /// Calendar date, `YYYY-MM-DD`.
    Date,
    /// Time of day, `HH:MM:SS[.fff]`.
    Time,
    /// Date and time without zone, RFC 3339 without offset.
    Timestamp,
    /// Instant in time, RFC 3339 in UTC (`+00:00` in JSON, as PostgreSQL writes it).
    #[serde(rename = "timestamptz")]
    TimestampTz,
    /// UUID, lowercase hyphenated string.
    Uuid,
    /// Arbitrary JSON (`json`, `jsonb`, nested documents).
    Json,
    /// Bytes: `\x` and two lowercase hex digits a byte in JSON, as PostgreSQL writes a `bytea` (base64 is read too).
    Binary,
    /// Array of a scalar type (PostgreSQL arrays, Mongo arrays).
    Array {
        /// The element type.
        items: Box<FieldType>,
    },
    /// One of a fixed set of strings.
    Enum {
        /// The database type name (PostgreSQL enum type), if any.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        name: Option<String>,
        /// Allowed values.
        values: Vec<String>,
    },
    /// MongoDB ObjectId, a 24-hex-digit string.
    #[serde(rename = "objectid")]
    ObjectId,
}

impl FieldType {
    /// PostgreSQL's name of the type of this type's values, as its errors
    /// write it (`integer`, `double precision`, `timestamp with time
    /// zone`; `text` for a type without one of its own).
    pub fn postgres_name(&self) -> &'static str {
        match self {
            Self::Int16 => "smallint",
            Self::Int32 => "integer",
            Self::Int64 => "bigint",
            Self::Decimal { .. } => "numeric",
            Self::Float32 => "real",
            Self::Float64 => "double precision",
            Self::Boolean => "boolean",
            Self::Date => "date",
            Self::Time => "time without time zone",
            Self::Timestamp => "timestamp without time zone",
            Self::TimestampTz => "timestamp with time zone",
            Self::Uuid => "uuid",
            Self::Json => "jsonb",
            _ => "text",
        }
    }

    /// Numeric types (ordered, summable).
    pub fn is_numeric(&self) -> bool {
        matches!(
            self,
            Self::Int16
                | Self::Int32
                | Self::Int64
                | Self::Float32
                | Self::Float64
                | Self::Decimal { .. }
        )
    }

    /// Types with a total order that comparisons `gt/gte/lt/lte` make sense on.
    pub fn is_ordered(&self) -> bool {
        self.is_numeric()
            || matches!(
                self,
                Self::Text
                    | Self::Date
                    | Self::Time
                    | Self::Timestamp
                    | Self::TimestampTz
                    | Self::Uuid
                    | Self::Enum { .. }
                    | Self::ObjectId
            )
    }

    /// Text-like types that `like` / `ilike` / full-text apply to.
    pub fn is_textual(&self) -> bool {
        matches!(self, Self::Text | Self::Enum { .. })
    }

    /// Whether a JSON path (`->`, `->>`) steps into values of this type:
    /// a JSON document, or an array (PostgREST's `arr->0`).
    pub fn has_paths(&self) -> bool {
        matches!(self, Self::Json | Self::Array { .. })
    }

    /// A short name for error messages.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Text => "text",
            Self::Int16 => "int16",
            Self::Int32 => "int32",
            Self::Int64 => "int64",
            Self::Float32 => "float32",
            Self::Float64 => "float64",
            Self::Decimal { .. } => "decimal",
            Self::Boolean => "boolean",
            Self::Date => "date",
            Self::Time => "time",
            Self::Timestamp => "timestamp",
            Self::TimestampTz => "timestamptz",
            Self::Uuid => "uuid",
            Self::Json => "json",
            Self::Binary => "binary",
            Self::Array { .. } => "array",
            Self::Enum { .. } => "enum",
            Self::ObjectId => "objectid",
        }
    }
}

/// How two entities are related.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Relation {
    /// Name used in `select=` embeddings and `exists` filters.
    pub name: String,
    /// Cardinality (and the junction for many-to-many).
    pub kind: RelationKind,
    /// The related entity.
    pub target: String,
    /// Fields of this entity that hold the link.
    pub from_fields: Vec<String>,
    /// Fields of the target they match (for many-to-many: the target's side of the junction).
    pub to_fields: Vec<String>,
    /// Name of the foreign-key constraint the relation comes from, when
    /// known (introspection): an embedding may name it as a hint
    /// (`users!best_friends_first_user_fkey(*)`), as in PostgREST.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub constraint: Option<String>,
    /// A computed relationship (PostgREST's): the related rows are those
    /// this database function returns for the row (`schema.fn(table.*)`),
    /// not the rows a key links. `from_fields` are then the row's key (to
    /// attach the rows to it) and `to_fields` are empty; the kind is
    /// `OneToMany` for a set (`RETURNS SETOF tbl`), `ManyToOne` for one row.
    /// Embedding only (no `exists` filter); set by introspection from a
    /// PostgreSQL function whose one argument is a row of the table;
    /// engines without [`Capabilities::computed_fields`](crate::Capabilities::computed_fields)
    /// refuse it. The function sees the whole row: under a read grant that
    /// lists readable fields, the relationship is embeddable only when its
    /// name is listed; its rows are narrowed by the returned table's read
    /// grant.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub function: Option<Box<Source>>,
}

/// Relation cardinality.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum RelationKind {
    /// This row points to at most one target row (foreign key here).
    ManyToOne,
    /// Many target rows point to this row (foreign key on the target).
    OneToMany,
    /// At most one target row points to this one (unique foreign key on the target).
    OneToOne,
    /// Rows are linked through a junction entity.
    ManyToMany {
        /// The junction.
        through: Through,
    },
}

impl RelationKind {
    /// Whether embedding yields a single object (or null) rather than an array.
    pub fn is_to_one(&self) -> bool {
        matches!(self, Self::ManyToOne | Self::OneToOne)
    }
}

/// The junction of a many-to-many relation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Through {
    /// The junction entity.
    pub entity: String,
    /// Junction fields that match this entity's `from_fields`.
    pub source_fields: Vec<String>,
    /// Junction fields that match the target's `to_fields`.
    pub target_fields: Vec<String>,
}

impl Relation {
    /// A many-to-one relation (`from_fields` here reference `to_fields` on `target`).
    pub fn many_to_one(
        name: impl Into<String>,
        target: impl Into<String>,
        from: &[&str],
        to: &[&str],
    ) -> Self {
        Self::simple(RelationKind::ManyToOne, name, target, from, to)
    }

    /// A one-to-many relation (`to_fields` on `target` reference `from_fields` here).
    pub fn one_to_many(
        name: impl Into<String>,
        target: impl Into<String>,
        from: &[&str],
        to: &[&str],
    ) -> Self {
        Self::simple(RelationKind::OneToMany, name, target, from, to)
    }

    fn simple(
        kind: RelationKind,
        name: impl Into<String>,
        target: impl Into<String>,
        from: &[&str],
        to: &[&str],
    ) -> Self {
        Self {
            name: name.into(),
            kind,
            target: target.into(),
            from_fields: from.iter().map(|s| s.to_string()).collect(),
            to_fields: to.iter().map(|s| s.to_string()).collect(),
            constraint: None,
            function: None,
        }
    }
}

/// An index on an entity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Index {
    /// Index name in the database.
    pub name: String,
    /// Indexed fields, in order.
    pub fields: Vec<String>,
    /// Whether it enforces uniqueness.
    #[serde(default)]
    pub unique: bool,
}

/// The JSON Schema of the metadata format itself (what `docs/metadata.schema.json` holds).
pub fn metadata_json_schema() -> serde_json::Value {
    serde_json::to_value(schemars::schema_for!(SchemaMetadata)).unwrap_or(serde_json::Value::Null)
}
