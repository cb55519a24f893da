//! JSON Schema (draft-07 and 2020-12) importer, also used by [`crate::openapi`]
//! for `components.schemas`.
//!
//! - The root object schema is one entity (named from `title`, else `root`);
//!   every object schema under `$defs` / `definitions` is one entity named by
//!   its key. Non-object definitions (enums, formatted strings) are types that
//!   `$ref`s resolve to. `allOf` parts of an entity are merged (inheritance).
//! - `properties` → fields (`required` ones not nullable; `type: [T, "null"]`,
//!   `nullable: true` (OpenAPI 3.0) and `oneOf/anyOf [T, null]` nullable);
//!   `string` → `text` (`maxLength` → `max_length`; `format` `date`, `time`,
//!   `date-time` (→ `timestamptz`), `uuid`, `byte`/`binary`, `decimal` refine it;
//!   `enum` → an unnamed [`FieldType::Enum`]), `integer` → `int64` (`int32`
//!   with `format: int32`), `number` → `float64` (`float32` with
//!   `format: float`), `boolean`, arrays of scalars → `array`, nested objects
//!   and arrays of objects → `json`.
//! - A `$ref` property `p` to an entity `X` becomes a field `p_id` typed like
//!   X's key (or the existing property `p_id`) and a foreign key to X handed to
//!   [`infer_relations`]; an array of `$ref` to X is the reverse side of such a
//!   foreign key when X has a property pointing back, else a `json` field.
//! - Primary key: the property `id`, a property with `x-primary-key: true`, or
//!   the first `…Id` / `…_id` property named after the entity; else none.
//! - `oneOf` / `anyOf` of string constants (`{const: a}`, with or without
//!   titles) → an unnamed [`FieldType::Enum`] of those values.
//! - An object schema without properties is no entity; it is reported in
//!   [`Import::skipped`] (a property of that type is `json`).
//! - `oneOf` / `anyOf` mixing types, external `$ref`s and structural keywords
//!   that have no equivalent (`if`, `not`, `patternProperties`, …) are reported
//!   in [`Import::skipped`]. Malformed schemas are errors at a JSON pointer;
//!   syntax errors are at a line and column.

use std::collections::{HashMap, HashSet};

use baas_core::relations::{ForeignKey, infer_relations};
use baas_core::{Entity, Field, FieldType, SchemaMetadata, Source};
use serde_json::{Map, Value};

use crate::document::parse_document;
use crate::{Import, ImportError, Location, Skipped};

/// How deep `$ref` chains and nested schemas are followed.
const MAX_DEPTH: usize = 32;

/// Import a JSON Schema document (JSON, or YAML).
pub fn import(text: &str) -> Result<Import, ImportError> {
    let (root, notes) = parse_document(text)?;
    let Some(obj) = root.as_object() else {
        return Err(ImportError::at_pointer(
            "",
            "a JSON Schema document must be an object",
        ));
    };
    let mut candidates = Vec::new();
    for key in ["$defs", "definitions"] {
        let Some(defs) = obj.get(key) else { continue };
        let ptr = format!("/{}", escape(key));
        let Some(defs) = defs.as_object() else {
            return Err(ImportError::at_pointer(
                ptr,
                format!("`{key}` must be an object"),
            ));
        };
        for (name, schema) in defs {
            candidates.push(Candidate {
                name: name.clone(),
                pointer: format!("{ptr}/{}", escape(name)),
                schema,
            });
        }
    }
    let root_is_entity = obj.contains_key("properties")
        || (obj.get("type").and_then(Value::as_str) == Some("object") && obj.contains_key("allOf"));
    if root_is_entity {
        let name = obj
            .get("title")
            .and_then(Value::as_str)
            .filter(|t| !t.trim().is_empty())
            .unwrap_or("root")
            .to_string();
        candidates.insert(
            0,
            Candidate {
                name,
                pointer: String::new(),
                schema: &root,
            },
        );
    }
    let mut conv = Converter::new(&root);
    conv.skipped = notes;
    let schema = conv.convert(&candidates)?;
    Ok(Import {
        schema,
        skipped: conv.skipped,
        api_paths: Vec::new(),
    })
}

/// Escape a JSON pointer reference token (RFC 6901).
pub(crate) fn escape(token: &str) -> String {
    token.replace('~', "~0").replace('/', "~1")
}

/// A schema that may define an entity.
pub(crate) struct Candidate<'a> {
    /// Entity name.
    pub name: String,
    /// JSON pointer of the schema.
    pub pointer: String,
    /// The schema.
    pub schema: &'a Value,
}

/// The properties of an object schema (with `allOf` parts merged).
struct Shape<'a> {
    props: Vec<Prop<'a>>,
    required: HashSet<String>,
}

struct Prop<'a> {
    name: String,
    pointer: String,
    schema: &'a Value,
}

/// What a property schema turns into.
#[derive(Debug, Clone, PartialEq)]
enum Kind {
    Type(FieldType),
    /// A `$ref` to the entity at this index.
    Ref(usize),
    /// An array of `$ref`s to the entity at this index.
    RefList(usize),
}

#[derive(Debug, Clone)]
struct Typed {
    kind: Kind,
    nullable: bool,
    max_length: Option<u32>,
}

impl Typed {
    fn ty(ty: FieldType) -> Self {
        Self {
            kind: Kind::Type(ty),
            nullable: false,
            max_length: None,
        }
    }
}

struct EntityInfo<'a> {
    name: String,
    pointer: String,
    schema: &'a Value,
    shape: Shape<'a>,
    /// Classification of each property, in order.
    kinds: Vec<Typed>,
    key: Option<String>,
}

/// Turns object schemas into entities (shared by JSON Schema and OpenAPI).
pub(crate) struct Converter<'a> {
    root: &'a Value,
    entities: Vec<EntityInfo<'a>>,
    by_pointer: HashMap<String, usize>,
    /// What was skipped.
    pub skipped: Vec<Skipped>,
}

impl<'a> Converter<'a> {
    /// A converter resolving local `$ref`s against `root`.
    pub fn new(root: &'a Value) -> Self {
        Self {
            root,
            entities: Vec::new(),
            by_pointer: HashMap::new(),
            skipped: Vec::new(),
        }
    }

    fn skip(&mut self, pointer: &str, what: impl Into<String>, reason: impl Into<String>) {
        self.skipped.push(Skipped {
            location: Location::Pointer(pointer.to_string()),
            what: what.into(),
            reason: reason.into(),
        });
    }

    /// Resolve a local `$ref` (`#`, `#/json/pointer`) to its pointer and value.
    fn resolve(&self, reference: &str) -> Option<(String, &'a Value)> {
        let fragment = percent_decode(reference.strip_prefix('#')?);
        if fragment.is_empty() {
            return Some((String::new(), self.root));
        }
        if !fragment.starts_with('/') {
            return None;
        }
        self.root.pointer(&fragment).map(|v| (fragment, v))
    }

    /// Convert the candidates that are object schemas into entities.
    pub fn convert(&mut self, candidates: &[Candidate<'a>]) -> Result<SchemaMetadata, ImportError> {
        for c in candidates {
            let shape = self.shape(c.schema, &c.pointer, 0)?;
            if shape.as_ref().is_none_or(|s| s.props.is_empty()) {
                // A type used by reference (an enum, a formatted string) is
                // not dropped; an object without properties is.
                let object = c.schema.get("type").and_then(Value::as_str) == Some("object")
                    || shape.is_some();
                if object {
                    self.skip(
                        &c.pointer,
                        format!("object schema {}", c.name),
                        "no properties: not an entity (a property of this type is json)",
                    );
                }
                continue;
            }
            let Some(shape) = shape else { continue };
            if self.entities.iter().any(|e| e.name == c.name) {
                return Err(ImportError::at_pointer(
                    c.pointer.clone(),
                    format!("entity `{}` is defined twice", c.name),
                ));
            }
            self.by_pointer
                .insert(c.pointer.clone(), self.entities.len());
            self.entities.push(EntityInfo {
                name: c.name.clone(),
                pointer: c.pointer.clone(),
                schema: c.schema,
                shape,
                kinds: Vec::new(),
                key: None,
            });
        }
        // Classify every property first: foreign keys need the key type of
        // their target, and arrays need to know about back-references.
        for i in 0..self.entities.len() {
            let props: Vec<(String, &'a Value)> = self
                .entities
                .get(i)
                .map(|e| {
                    e.shape
                        .props
                        .iter()
                        .map(|p| (p.pointer.clone(), p.schema))
                        .collect()
                })
                .unwrap_or_default();
            let mut kinds = Vec::new();
            for (ptr, schema) in props {
                kinds.push(self.classify(schema, &ptr, 0)?);
            }
            let report = self
                .entities
                .get(i)
                .map(|e| unsupported_keywords(e.schema, &e.pointer))
                .unwrap_or_default();
            for (ptr, what) in report {
                self.skip(&ptr, what, "no equivalent in the metadata model; ignored");
            }
            if let Some(e) = self.entities.get_mut(i) {
                e.key = primary_key(e, &kinds);
                e.kinds = kinds;
            }
        }
        let mut entities = Vec::new();
        let mut fks = Vec::new();
        for i in 0..self.entities.len() {
            entities.push(self.entity(i, &mut fks));
        }
        let mut schema = SchemaMetadata::new(entities);
        infer_relations(&mut schema, &fks);
        Ok(schema)
    }

    /// The entity a request/response body schema is: a `$ref` to an entity,
    /// or an array of them (also through aliases and one-part `allOf`s).
    pub fn entity_of(&self, schema: &Value) -> Option<String> {
        self.entity_of_at(schema, 0)
    }

    fn entity_of_at(&self, schema: &Value, depth: usize) -> Option<String> {
        if depth > MAX_DEPTH {
            return None;
        }
        let obj = schema.as_object()?;
        if let Some(r) = obj.get("$ref").and_then(Value::as_str) {
            let (ptr, target) = self.resolve(r)?;
            if let Some(e) = self
                .by_pointer
                .get(&ptr)
                .and_then(|&i| self.entities.get(i))
            {
                return Some(e.name.clone());
            }
            return self.entity_of_at(target, depth + 1);
        }
        if let Some(items) = obj.get("items") {
            return self.entity_of_at(items, depth + 1);
        }
        for key in ["allOf", "oneOf", "anyOf"] {
            if let Some(parts) = obj.get(key).and_then(Value::as_array) {
                let found: Vec<String> = parts
                    .iter()
                    .filter_map(|p| self.entity_of_at(p, depth + 1))
                    .collect();
                if let [one] = found.as_slice() {
                    return Some(one.clone());
                }
            }
        }
        None
    }

    /// The merged properties of an object schema, or `None` if it is not one.
    fn shape(
        &self,
        schema: &'a Value,
        ptr: &str,
        depth: usize,
    ) -> Result<Option<Shape<'a>>, ImportError> {
        let Some(obj) = schema.as_object() else {
            return Ok(None);
        };
        if depth > MAX_DEPTH {
            return Ok(None);
        }
        let mut shape = Shape {
            props: Vec::new(),
            required: HashSet::new(),
        };
        let mut is_object = false;
        if depth > 0
            && let Some(r) = obj.get("$ref")
        {
            let r = r.as_str().ok_or_else(|| {
                ImportError::at_pointer(format!("{ptr}/$ref"), "`$ref` must be a string")
            })?;
            if let Some((tptr, target)) = self.resolve(r) {
                return self.shape(target, &tptr, depth + 1);
            }
            return Ok(None);
        }
        if let Some(all) = obj.get("allOf") {
            let Some(parts) = all.as_array() else {
                return Err(ImportError::at_pointer(
                    format!("{ptr}/allOf"),
                    "`allOf` must be an array",
                ));
            };
            for (i, part) in parts.iter().enumerate() {
                if let Some(s) = self.shape(part, &format!("{ptr}/allOf/{i}"), depth + 1)? {
                    is_object = true;
                    for p in s.props {
                        if !shape.props.iter().any(|q| q.name == p.name) {
                            shape.props.push(p);
                        }
                    }
                    shape.required.extend(s.required);
                }
            }
        }
        if let Some(props) = obj.get("properties") {
            let Some(props) = props.as_object() else {
                return Err(ImportError::at_pointer(
                    format!("{ptr}/properties"),
                    "`properties` must be an object",
                ));
            };
            is_object = true;
            for (name, s) in props {
                let p = Prop {
                    name: name.clone(),
                    pointer: format!("{ptr}/properties/{}", escape(name)),
                    schema: s,
                };
                if let Some(q) = shape.props.iter_mut().find(|q| q.name == *name) {
                    *q = p;
                } else {
                    shape.props.push(p);
                }
            }
        }
        if let Some(req) = obj.get("required") {
            let names = req.as_array().and_then(|a| {
                a.iter()
                    .map(|v| v.as_str().map(str::to_string))
                    .collect::<Option<Vec<_>>>()
            });
            let Some(names) = names else {
                return Err(ImportError::at_pointer(
                    format!("{ptr}/required"),
                    "`required` must be an array of property names",
                ));
            };
            shape.required.extend(names);
        }
        Ok(is_object.then_some(shape))
    }

    /// What a property schema is.
    fn classify(
        &mut self,
        schema: &'a Value,
        ptr: &str,
        depth: usize,
    ) -> Result<Typed, ImportError> {
        if depth > MAX_DEPTH {
            self.skip(ptr, "deeply nested schema", "kept as json");
            return Ok(Typed::ty(FieldType::Json));
        }
        let obj = match schema {
            Value::Object(o) => o,
            Value::Bool(_) => return Ok(Typed::ty(FieldType::Json)),
            _ => {
                return Err(ImportError::at_pointer(
                    ptr,
                    "a schema must be an object or a boolean",
                ));
            }
        };
        let extra_null = obj.get("nullable").and_then(Value::as_bool) == Some(true);
        let mut t = self.classify_inner(obj, ptr, depth)?;
        t.nullable |= extra_null;
        if t.max_length.is_none() {
            t.max_length = obj
                .get("maxLength")
                .and_then(Value::as_u64)
                .and_then(|n| u32::try_from(n).ok());
        }
        Ok(t)
    }

    fn classify_inner(
        &mut self,
        obj: &'a Map<String, Value>,
        ptr: &str,
        depth: usize,
    ) -> Result<Typed, ImportError> {
        if let Some(r) = obj.get("$ref") {
            let rptr = format!("{ptr}/$ref");
            let Some(r) = r.as_str() else {
                return Err(ImportError::at_pointer(rptr, "`$ref` must be a string"));
            };
            if !r.starts_with('#') {
                self.skip(
                    &rptr,
                    format!("$ref {r}"),
                    "external references are not followed; kept as json",
                );
                return Ok(Typed::ty(FieldType::Json));
            }
            let Some((tptr, target)) = self.resolve(r) else {
                return Err(ImportError::at_pointer(
                    rptr,
                    format!("`$ref` target `{r}` does not exist in this document"),
                ));
            };
            if let Some(&i) = self.by_pointer.get(&tptr) {
                return Ok(Typed {
                    kind: Kind::Ref(i),
                    nullable: false,
                    max_length: None,
                });
            }
            return self.classify(target, &tptr, depth + 1);
        }
        if let Some(all) = obj.get("allOf") {
            let aptr = format!("{ptr}/allOf");
            let Some(parts) = all.as_array() else {
                return Err(ImportError::at_pointer(aptr, "`allOf` must be an array"));
            };
            if let [one] = parts.as_slice() {
                return self.classify(one, &format!("{aptr}/0"), depth + 1);
            }
            if !obj.contains_key("type") && !obj.contains_key("properties") {
                self.skip(
                    &aptr,
                    "allOf",
                    "a combination of several schemas is kept as json",
                );
                return Ok(Typed::ty(FieldType::Json));
            }
        }
        for key in ["oneOf", "anyOf"] {
            let Some(alts) = obj.get(key) else { continue };
            let kptr = format!("{ptr}/{key}");
            let Some(alts) = alts.as_array() else {
                return Err(ImportError::at_pointer(
                    kptr,
                    format!("`{key}` must be an array"),
                ));
            };
            if let Some(values) = const_strings(alts) {
                // An enum written as alternatives of constants (each may
                // carry a title or description).
                return Ok(Typed {
                    kind: Kind::Type(FieldType::Enum { name: None, values }),
                    nullable: alts.iter().any(is_null_schema),
                    max_length: None,
                });
            }
            let mut nullable = false;
            let mut typed: Vec<Typed> = Vec::new();
            for (i, alt) in alts.iter().enumerate() {
                if is_null_schema(alt) {
                    nullable = true;
                    continue;
                }
                typed.push(self.classify(alt, &format!("{kptr}/{i}"), depth + 1)?);
            }
            let mut out = match typed.split_first() {
                None => Typed::ty(FieldType::Json),
                Some((first, rest)) if rest.iter().all(|t| t.kind == first.kind) => first.clone(),
                Some(_) => {
                    self.skip(
                        &kptr,
                        key,
                        "alternatives of different types are kept as json",
                    );
                    Typed::ty(FieldType::Json)
                }
            };
            out.nullable |= nullable || typed.iter().any(|t| t.nullable);
            return Ok(out);
        }
        let mut nullable = false;
        let ty: Option<&str> = match obj.get("type") {
            None => None,
            Some(Value::String(s)) => Some(s.as_str()),
            Some(Value::Array(types)) => {
                let mut names = Vec::new();
                for (i, t) in types.iter().enumerate() {
                    match t.as_str() {
                        Some("null") => nullable = true,
                        Some(s) => names.push(s),
                        None => {
                            return Err(ImportError::at_pointer(
                                format!("{ptr}/type/{i}"),
                                "type names must be strings",
                            ));
                        }
                    }
                }
                match names.as_slice() {
                    [] => None,
                    [one] => Some(*one),
                    _ => {
                        self.skip(
                            &format!("{ptr}/type"),
                            format!("type {}", names.join(" | ")),
                            "several types are kept as json",
                        );
                        return Ok(Typed {
                            kind: Kind::Type(FieldType::Json),
                            nullable,
                            max_length: None,
                        });
                    }
                }
            }
            Some(_) => {
                return Err(ImportError::at_pointer(
                    format!("{ptr}/type"),
                    "`type` must be a string or an array of strings",
                ));
            }
        };
        if let Some(t) = ty
            && !matches!(
                t,
                "string" | "integer" | "number" | "boolean" | "object" | "array" | "null"
            )
        {
            return Err(ImportError::at_pointer(
                format!("{ptr}/type"),
                format!("unknown type `{t}`"),
            ));
        }
        let format = obj.get("format").and_then(Value::as_str);
        let mut out = Typed {
            kind: Kind::Type(FieldType::Json),
            nullable,
            max_length: None,
        };
        if let Some(values) = obj.get("enum") {
            let Some(values) = values.as_array() else {
                return Err(ImportError::at_pointer(
                    format!("{ptr}/enum"),
                    "`enum` must be an array",
                ));
            };
            let non_null: Vec<&Value> = values.iter().filter(|v| !v.is_null()).collect();
            out.nullable |= non_null.len() < values.len();
            if !non_null.is_empty() && non_null.iter().all(|v| v.is_string()) {
                out.kind = Kind::Type(FieldType::Enum {
                    name: None,
                    values: non_null
                        .iter()
                        .filter_map(|v| v.as_str().map(str::to_string))
                        .collect(),
                });
                return Ok(out);
            }
            if ty.is_none() {
                out.kind = Kind::Type(infer_from_values(&non_null));
                return Ok(out);
            }
        }
        let ty = ty.or_else(|| {
            if obj.contains_key("properties") {
                Some("object")
            } else if obj.contains_key("items") {
                Some("array")
            } else if let Some(c) = obj.get("const") {
                match c {
                    Value::String(_) => Some("string"),
                    Value::Bool(_) => Some("boolean"),
                    Value::Number(n) if n.is_i64() || n.is_u64() => Some("integer"),
                    Value::Number(_) => Some("number"),
                    _ => None,
                }
            } else if obj.contains_key("format") || obj.contains_key("maxLength") {
                Some("string")
            } else {
                None
            }
        });
        out.kind = Kind::Type(match ty {
            Some("string") => {
                // Base64 content, or bytes as PostgreSQL's hex text (the
                // pattern our own schemas give a binary field).
                let hex_bytes = obj
                    .get("pattern")
                    .and_then(Value::as_str)
                    .is_some_and(|p| p.starts_with(r"^\\x") || p.starts_with(r"^(\\x"));
                if obj.get("contentEncoding").and_then(Value::as_str) == Some("base64") || hex_bytes
                {
                    FieldType::Binary
                } else {
                    match format {
                        Some("date") => FieldType::Date,
                        Some("time") => FieldType::Time,
                        Some("date-time") => FieldType::TimestampTz,
                        Some("uuid") => FieldType::Uuid,
                        Some("byte" | "binary") => FieldType::Binary,
                        Some("decimal") => FieldType::Decimal {
                            precision: None,
                            scale: None,
                        },
                        _ => FieldType::Text,
                    }
                }
            }
            Some("integer") => match format {
                Some("int32") => FieldType::Int32,
                Some("int16") => FieldType::Int16,
                _ => FieldType::Int64,
            },
            Some("number") => match format {
                Some("float") => FieldType::Float32,
                Some("decimal") => FieldType::Decimal {
                    precision: None,
                    scale: None,
                },
                Some("int32") => FieldType::Int32,
                Some("int64") => FieldType::Int64,
                _ => FieldType::Float64,
            },
            Some("boolean") => FieldType::Boolean,
            Some("array") => match obj.get("items") {
                Some(items @ (Value::Object(_) | Value::Bool(_))) => {
                    let item = self.classify(items, &format!("{ptr}/items"), depth + 1)?;
                    match item.kind {
                        Kind::Ref(i) => {
                            out.kind = Kind::RefList(i);
                            return Ok(out);
                        }
                        Kind::Type(FieldType::Json) | Kind::RefList(_) => FieldType::Json,
                        Kind::Type(t) => FieldType::Array { items: Box::new(t) },
                    }
                }
                Some(Value::Array(_)) => FieldType::Json,
                None => FieldType::Json,
                Some(_) => {
                    return Err(ImportError::at_pointer(
                        format!("{ptr}/items"),
                        "`items` must be a schema",
                    ));
                }
            },
            Some("null") => {
                out.nullable = true;
                FieldType::Json
            }
            _ => FieldType::Json,
        });
        Ok(out)
    }

    fn entity(&mut self, i: usize, fks: &mut Vec<ForeignKey>) -> Entity {
        let Some(info) = self.entities.get(i) else {
            return Entity::new(String::new(), Vec::new());
        };
        let mut fields: Vec<Field> = Vec::new();
        let mut notes: Vec<(String, String, String)> = Vec::new();
        let prop_names: HashSet<&str> = info.shape.props.iter().map(|p| p.name.as_str()).collect();
        for (prop, typed) in info.shape.props.iter().zip(&info.kinds) {
            let required = info.shape.required.contains(&prop.name);
            let obj = prop.schema.as_object();
            let mut field = match &typed.kind {
                Kind::Type(t) => Field::new(prop.name.clone(), t.clone()),
                Kind::Ref(target) => {
                    let target_info = self.entities.get(*target);
                    let key = target_info.and_then(|t| {
                        let k = t.key.as_ref()?;
                        let pos = t.shape.props.iter().position(|p| &p.name == k)?;
                        match t.kinds.get(pos).map(|k| &k.kind) {
                            Some(Kind::Type(ty)) => Some((k.clone(), ty.clone())),
                            _ => None,
                        }
                    });
                    let (Some(t), Some((key, key_ty))) = (target_info, key) else {
                        notes.push((
                            prop.pointer.clone(),
                            format!("{}.{}", info.name, prop.name),
                            "the referenced entity has no primary key; kept as json".into(),
                        ));
                        fields.push(self.finish(
                            Field::new(prop.name.clone(), FieldType::Json),
                            typed,
                            required,
                            obj,
                        ));
                        continue;
                    };
                    let fk_name = format!("{}_id", prop.name);
                    fks.push(ForeignKey {
                        from_entity: info.name.clone(),
                        from_fields: vec![fk_name.clone()],
                        to_entity: t.name.clone(),
                        to_fields: vec![key],
                        name: None,
                    });
                    if prop_names.contains(fk_name.as_str()) {
                        continue;
                    }
                    let mut f = Field::new(fk_name, key_ty);
                    f.description = obj
                        .and_then(|o| o.get("description"))
                        .and_then(Value::as_str)
                        .map(str::to_string);
                    f.nullable = !required || typed.nullable;
                    fields.push(f);
                    continue;
                }
                Kind::RefList(target) => {
                    let back = self
                        .entities
                        .get(*target)
                        .is_some_and(|t| t.kinds.iter().any(|k| k.kind == Kind::Ref(i)));
                    if back {
                        continue;
                    }
                    Field::new(prop.name.clone(), FieldType::Json)
                }
            };
            field = self.finish(field, typed, required, obj);
            if info.key.as_deref() == Some(prop.name.as_str()) {
                field.nullable = false;
            }
            fields.push(field);
        }
        let entity = Entity {
            name: info.name.clone(),
            source: Source {
                table: info.name.clone(),
                schema: None,
            },
            primary_key: info.key.iter().cloned().collect(),
            fields,
            relations: Vec::new(),
            indexes: Vec::new(),
            read_only: false,
            view: false,
            request_settings: false,
            write_settings: false,
            description: info
                .schema
                .get("description")
                .and_then(Value::as_str)
                .map(str::to_string),
        };
        for (ptr, what, reason) in notes {
            self.skip(&ptr, what, reason);
        }
        entity
    }

    fn finish(
        &self,
        mut field: Field,
        typed: &Typed,
        required: bool,
        obj: Option<&Map<String, Value>>,
    ) -> Field {
        field.nullable = !required || typed.nullable;
        field.max_length = typed.max_length.filter(|_| field.ty == FieldType::Text);
        if let Some(obj) = obj {
            field.description = obj
                .get("description")
                .and_then(Value::as_str)
                .map(str::to_string);
            field.default = obj.get("default").map(|d| match d {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            });
            field.unique = obj.get("x-unique").and_then(Value::as_bool) == Some(true);
        }
        field
    }
}

/// The values of alternatives that are all string constants
/// (`oneOf: [{const: a}, {const: b}]`, null alternatives aside), if they are.
fn const_strings(alts: &[Value]) -> Option<Vec<String>> {
    let values: Vec<String> = alts
        .iter()
        .filter(|a| !is_null_schema(a))
        .map(|a| a.get("const").and_then(Value::as_str).map(str::to_string))
        .collect::<Option<_>>()?;
    (!values.is_empty()).then_some(values)
}

/// `{"type": "null"}`, `{"const": null}`, `{"enum": [null]}`.
fn is_null_schema(v: &Value) -> bool {
    let Some(o) = v.as_object() else {
        return false;
    };
    o.get("type").and_then(Value::as_str) == Some("null")
        || o.get("const").is_some_and(Value::is_null)
        || o.get("enum")
            .and_then(Value::as_array)
            .is_some_and(|a| a.len() == 1 && a.iter().all(Value::is_null))
}

fn infer_from_values(values: &[&Value]) -> FieldType {
    if values.is_empty() {
        FieldType::Json
    } else if values.iter().all(|v| v.is_i64() || v.is_u64()) {
        FieldType::Int64
    } else if values.iter().all(|v| v.is_number()) {
        FieldType::Float64
    } else if values.iter().all(|v| v.is_boolean()) {
        FieldType::Boolean
    } else {
        FieldType::Json
    }
}

fn normalize(s: &str) -> String {
    s.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

/// `id`, `x-primary-key: true`, or the first `<entity>Id` / `<entity>_id`.
fn primary_key(e: &EntityInfo<'_>, kinds: &[Typed]) -> Option<String> {
    let scalar = |i: usize| matches!(kinds.get(i).map(|k| &k.kind), Some(Kind::Type(_)));
    let props = &e.shape.props;
    if let Some(i) = props
        .iter()
        .position(|p| p.schema.get("x-primary-key").and_then(Value::as_bool) == Some(true))
    {
        return props.get(i).map(|p| p.name.clone());
    }
    if let Some(i) = props.iter().position(|p| p.name == "id") {
        return scalar(i).then(|| "id".to_string());
    }
    let entity = normalize(&e.name);
    props
        .iter()
        .enumerate()
        .find(|(i, p)| {
            let stem = p
                .name
                .strip_suffix("_id")
                .or_else(|| p.name.strip_suffix("Id"))
                .or_else(|| p.name.strip_suffix("ID"));
            scalar(*i) && stem.is_some_and(|s| normalize(s) == entity)
        })
        .map(|(_, p)| p.name.clone())
}

/// Keywords on an entity schema that have no equivalent.
fn unsupported_keywords(schema: &Value, ptr: &str) -> Vec<(String, String)> {
    let Some(obj) = schema.as_object() else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for key in [
        "oneOf",
        "anyOf",
        "not",
        "if",
        "patternProperties",
        "dependentSchemas",
        "dependentRequired",
        "dependencies",
        "unevaluatedProperties",
        "propertyNames",
    ] {
        if obj.contains_key(key) {
            out.push((format!("{ptr}/{key}"), key.to_string()));
        }
    }
    if obj
        .get("additionalProperties")
        .is_some_and(Value::is_object)
    {
        out.push((
            format!("{ptr}/additionalProperties"),
            "additionalProperties".to_string(),
        ));
    }
    out
}

/// Decode `%XX` escapes in a URI fragment.
fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b == b'%'
            && let Some(hex) = bytes.get(i + 1..i + 3)
            && let Some(v) = std::str::from_utf8(hex)
                .ok()
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            out.push(v);
            i += 3;
            continue;
        }
        out.push(b);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}
