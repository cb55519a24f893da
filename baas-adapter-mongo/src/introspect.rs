//! Live introspection by sampling: `$sample` documents per collection, infer
//! field types (unions widened), nullability (absent or null somewhere),
//! read `$jsonSchema` validators and unique indexes when present, and propose
//! `*_id` / `*Id` fields as relations to the collection they name.

use std::collections::BTreeMap;

use baas_core::relations::{ForeignKey, infer_relations};
use baas_core::{Entity, Field, FieldType, Index, IntrospectOptions, Result, SchemaMetadata};
use bson::{Bson, Document, doc};
use futures::TryStreamExt as _;

use crate::{COUNTERS, MongoAdapter, decode};

/// The field type a BSON value suggests.
pub fn bson_type(b: &Bson) -> Option<FieldType> {
    Some(match b {
        Bson::Null | Bson::Undefined => return None,
        Bson::Boolean(_) => FieldType::Boolean,
        Bson::Int32(_) => FieldType::Int32,
        Bson::Int64(_) => FieldType::Int64,
        Bson::Double(_) => FieldType::Float64,
        Bson::Decimal128(_) => FieldType::Decimal {
            precision: None,
            scale: None,
        },
        Bson::String(_) => FieldType::Text,
        Bson::ObjectId(_) => FieldType::ObjectId,
        Bson::DateTime(_) => FieldType::TimestampTz,
        Bson::Binary(b) if b.subtype == bson::spec::BinarySubtype::Uuid => FieldType::Uuid,
        Bson::Binary(_) => FieldType::Binary,
        Bson::Array(a) => {
            let mut items: Option<FieldType> = None;
            for x in a {
                match (bson_type(x), &items) {
                    (None, _) => {}
                    (Some(t), None) => items = Some(t),
                    (Some(t), Some(cur)) => items = Some(widen(cur, &t)),
                }
            }
            match items {
                Some(t) if !matches!(t, FieldType::Json | FieldType::Array { .. }) => {
                    FieldType::Array { items: Box::new(t) }
                }
                Some(_) => FieldType::Json,
                // An empty array says nothing about its items.
                None => FieldType::Array {
                    items: Box::new(FieldType::Text),
                },
            }
        }
        _ => FieldType::Json,
    })
}

/// The narrowest type holding both (`json` when nothing narrower does).
pub fn widen(a: &FieldType, b: &FieldType) -> FieldType {
    use FieldType as T;
    if a == b {
        return a.clone();
    }
    let dec = T::Decimal {
        precision: None,
        scale: None,
    };
    match (a, b) {
        (T::Int32, T::Int64) | (T::Int64, T::Int32) => T::Int64,
        (T::Int32 | T::Int64, T::Float64) | (T::Float64, T::Int32 | T::Int64) => T::Float64,
        (T::Decimal { .. }, x) | (x, T::Decimal { .. }) if x.is_numeric() => dec,
        (T::Array { items: x }, T::Array { items: y }) => match widen(x, y) {
            T::Json => T::Json,
            t => T::Array { items: Box::new(t) },
        },
        _ => T::Json,
    }
}

#[derive(Default)]
struct Seen {
    ty: Option<FieldType>,
    present: usize,
    order: usize,
}

/// Infer an entity from sampled documents (pure; `validator` and `uniques`
/// refine it).
pub fn infer_entity(
    collection: &str,
    docs: &[Document],
    validator: Option<&Document>,
    uniques: &[(String, Vec<String>)],
) -> Entity {
    let mut seen: BTreeMap<String, Seen> = BTreeMap::new();
    for d in docs {
        for (k, v) in d {
            let n = seen.len();
            let s = seen.entry(k.clone()).or_insert_with(|| Seen {
                order: n,
                ..Seen::default()
            });
            if let Some(t) = bson_type(v) {
                s.present += 1;
                s.ty = Some(match &s.ty {
                    None => t,
                    Some(cur) => widen(cur, &t),
                });
            }
        }
    }
    let schema = validator
        .and_then(|v| v.get_document("$jsonSchema").ok())
        .cloned()
        .unwrap_or_default();
    let props = schema
        .get_document("properties")
        .cloned()
        .unwrap_or_default();
    let required: Vec<String> = schema
        .get_array("required")
        .map(|a| {
            a.iter()
                .filter_map(|x| x.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    for (k, _) in &props {
        let n = seen.len();
        seen.entry(k.clone()).or_insert_with(|| Seen {
            order: n,
            ..Seen::default()
        });
    }
    let mut keys: Vec<(&String, &Seen)> = seen.iter().collect();
    keys.sort_by_key(|(k, s)| (k.as_str() != "_id", s.order));
    let mut fields = Vec::new();
    for (k, s) in keys {
        let declared = props.get_document(k).ok().and_then(declared_type);
        let is_declared = declared.is_some();
        let (ty, mut nullable) = match declared {
            Some((t, null)) => (t, null || !required.contains(k)),
            None => (
                s.ty.clone().unwrap_or(FieldType::Text),
                s.present < docs.len() || docs.is_empty(),
            ),
        };
        if required.contains(k) && !is_declared {
            nullable = false;
        }
        let mut f = if k == "_id" {
            Field::new("id", ty).with_column("_id")
        } else {
            Field::new(k.clone(), ty)
        };
        f.nullable = nullable && k != "_id";
        if let Ok(d) = props.get_document(k)
            && let Ok(desc) = d.get_str("description")
        {
            f.description = Some(desc.to_string());
        }
        if let Ok(d) = props.get_document(k)
            && let Ok(max) = d
                .get_i64("maxLength")
                .or_else(|_| d.get_i32("maxLength").map(i64::from))
        {
            f.max_length = u32::try_from(max).ok();
        }
        fields.push(f);
    }
    let mut e = Entity::new(collection, fields).with_primary_key(["id"]);
    for (name, cols) in uniques {
        let names: Vec<String> = cols
            .iter()
            .map(|c| {
                if c == "_id" {
                    "id".to_string()
                } else {
                    c.clone()
                }
            })
            .collect();
        if names.iter().any(|n| e.field(n).is_err()) || names == ["id"] {
            continue;
        }
        if let [one] = names.as_slice()
            && let Some(f) = e.fields.iter_mut().find(|f| &f.name == one)
        {
            f.unique = true;
        }
        e.indexes.push(Index {
            name: name.clone(),
            fields: names,
            unique: true,
        });
    }
    e
}

/// A `$jsonSchema` property's type and whether it admits null.
fn declared_type(p: &Document) -> Option<(FieldType, bool)> {
    let types: Vec<String> = match p.get("bsonType") {
        Some(Bson::String(s)) => vec![s.clone()],
        Some(Bson::Array(a)) => a
            .iter()
            .filter_map(|x| x.as_str().map(str::to_string))
            .collect(),
        _ => return None,
    };
    let null = types.iter().any(|t| t == "null");
    let mut ty: Option<FieldType> = None;
    for t in types.iter().filter(|t| *t != "null") {
        let ft = match t.as_str() {
            "string" => match p.get_array("enum") {
                Ok(v) => FieldType::Enum {
                    name: None,
                    values: v
                        .iter()
                        .filter_map(|x| x.as_str().map(str::to_string))
                        .collect(),
                },
                Err(_) => FieldType::Text,
            },
            "int" => FieldType::Int32,
            "long" => FieldType::Int64,
            "double" => FieldType::Float64,
            "decimal" => FieldType::Decimal {
                precision: None,
                scale: None,
            },
            "bool" => FieldType::Boolean,
            "date" => FieldType::TimestampTz,
            "objectId" => FieldType::ObjectId,
            "binData" => FieldType::Binary,
            "array" => match p.get_document("items").ok().and_then(declared_type) {
                Some((items, _)) => FieldType::Array {
                    items: Box::new(items),
                },
                None => FieldType::Json,
            },
            _ => FieldType::Json,
        };
        ty = Some(match ty {
            None => ft,
            Some(cur) => widen(&cur, &ft),
        });
    }
    ty.map(|t| (t, null))
}

/// `artist_id`, `artistId`, `ArtistId` → the entity it names (by collection
/// name, singular or plural, any case).
fn referenced<'s>(schema: &'s SchemaMetadata, from: &str, field: &str) -> Option<&'s Entity> {
    let stem = field
        .strip_suffix("_id")
        .or_else(|| field.strip_suffix("Id"))
        .or_else(|| field.strip_suffix("ID"))
        .filter(|s| !s.is_empty())?;
    let norm = |s: &str| s.replace('_', "").to_ascii_lowercase();
    let stem = norm(stem);
    schema.entities.iter().find(|e| {
        let n = norm(&e.name);
        e.name != from && (n == stem || n == format!("{stem}s") || n == format!("{stem}es"))
    })
}

/// Relations proposed from reference-looking fields whose type matches the
/// target's key.
pub fn propose_relations(schema: &mut SchemaMetadata) {
    let mut fks = Vec::new();
    for e in &schema.entities {
        for f in &e.fields {
            if f.name == "id" {
                continue;
            }
            let Some(t) = referenced(schema, &e.name, &f.name) else {
                continue;
            };
            let Ok(key) = t.field("id") else { continue };
            let compatible = f.ty == key.ty
                || (f.ty.is_numeric() && key.ty.is_numeric())
                || (f.ty == FieldType::Text && key.ty == FieldType::ObjectId);
            if compatible {
                fks.push(ForeignKey {
                    from_entity: e.name.clone(),
                    from_fields: vec![f.name.clone()],
                    to_entity: t.name.clone(),
                    to_fields: vec!["id".into()],
                    name: None,
                });
            }
        }
    }
    infer_relations(schema, &fks);
}

pub(crate) async fn introspect(
    db: &MongoAdapter,
    _options: &IntrospectOptions,
) -> Result<SchemaMetadata> {
    let database = db.database();
    let specs: Vec<Document> = database
        .run_command(doc! {"listCollections": 1, "nameOnly": false})
        .await
        .map_err(decode::error)?
        .get_document("cursor")
        .and_then(|c| c.get_array("firstBatch"))
        .map(|a| a.iter().filter_map(|x| x.as_document().cloned()).collect())
        .unwrap_or_default();
    let mut entities = Vec::new();
    let mut names: Vec<(String, Option<Document>, bool)> = specs
        .iter()
        .filter_map(|s| {
            let name = s.get_str("name").ok()?.to_string();
            if name.starts_with("system.") || name == COUNTERS {
                return None;
            }
            let opts = s.get_document("options").ok();
            let validator = opts.and_then(|o| o.get_document("validator").ok()).cloned();
            let view = s.get_str("type").is_ok_and(|t| t == "view");
            Some((name, validator, view))
        })
        .collect();
    names.sort_by(|a, b| a.0.cmp(&b.0));
    for (name, validator, view) in names {
        let coll = database.collection::<Document>(&name);
        let docs: Vec<Document> = coll
            .aggregate(vec![doc! {"$sample": {"size": i64::from(db.sample_size)}}])
            .await
            .map_err(decode::error)?
            .try_collect()
            .await
            .map_err(decode::error)?;
        let mut uniques = Vec::new();
        if !view {
            let idx: Vec<mongodb::IndexModel> = coll
                .list_indexes()
                .await
                .map_err(decode::error)?
                .try_collect()
                .await
                .map_err(decode::error)?;
            for m in idx {
                let unique = m.options.as_ref().and_then(|o| o.unique).unwrap_or(false);
                if unique {
                    let iname = m
                        .options
                        .as_ref()
                        .and_then(|o| o.name.clone())
                        .unwrap_or_else(|| format!("{name}_unique"));
                    uniques.push((iname, m.keys.keys().cloned().collect()));
                }
            }
        }
        let mut e = infer_entity(&name, &docs, validator.as_ref(), &uniques);
        e.read_only = view;
        e.view = view;
        entities.push(e);
    }
    let mut schema = SchemaMetadata::new(entities);
    propose_relations(&mut schema);
    Ok(schema)
}
