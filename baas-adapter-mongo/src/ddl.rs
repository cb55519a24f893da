//! Managed collections: a `$jsonSchema` validator generated from metadata,
//! unique indexes for unique fields, unique indexes and composite keys.

use baas_core::{Entity, Error, FieldType, Result, SchemaChange};
use bson::{Bson, Document, doc};
use futures::TryStreamExt as _;
use mongodb::IndexModel;
use mongodb::options::IndexOptions;

use crate::lower::{self, ENGINE};
use crate::{MongoAdapter, decode};

/// The `bsonType` schema of one field type.
fn type_schema(ty: &FieldType) -> Document {
    match ty {
        FieldType::Text | FieldType::Time => doc! {"bsonType": "string"},
        FieldType::Enum { values, .. } if !values.is_empty() => {
            doc! {"bsonType": "string", "enum": values.clone()}
        }
        FieldType::Enum { .. } => doc! {"bsonType": "string"},
        FieldType::Int16 | FieldType::Int32 => doc! {"bsonType": "int"},
        FieldType::Int64 => doc! {"bsonType": ["long", "int"]},
        FieldType::Float32 | FieldType::Float64 => doc! {"bsonType": ["double", "int", "long"]},
        FieldType::Decimal { .. } => doc! {"bsonType": "decimal"},
        FieldType::Boolean => doc! {"bsonType": "bool"},
        FieldType::Date | FieldType::Timestamp | FieldType::TimestampTz => {
            doc! {"bsonType": "date"}
        }
        FieldType::Uuid | FieldType::Binary => doc! {"bsonType": "binData"},
        FieldType::Json => Document::new(),
        FieldType::Array { items } => {
            // An array holds null elements, as PostgreSQL's do (and the
            // validator lets through).
            let mut item = type_schema(items);
            or_null(&mut item);
            doc! {"bsonType": "array", "items": item}
        }
        FieldType::ObjectId => doc! {"bsonType": "objectId"},
        _ => Document::new(),
    }
}

/// Let a typed schema `s` also take null (an untyped one takes anything;
/// an enumeration lists null among its values).
fn or_null(s: &mut Document) {
    if let Some(t) = s.remove("bsonType") {
        let mut types = match t {
            Bson::Array(a) => a,
            other => vec![other],
        };
        types.push(Bson::String("null".into()));
        s.insert("bsonType", types);
    }
    if let Ok(values) = s.get_array_mut("enum") {
        values.push(Bson::Null);
    }
}

/// The `$jsonSchema` validator of an entity: every field typed, non-nullable
/// fields required, nullable ones also accepting null.
pub fn json_schema(e: &Entity) -> Result<Document> {
    let mut props = Document::new();
    let mut required = Vec::new();
    for f in &e.fields {
        let key = lower::storage_key(e, f)?;
        let mut s = type_schema(&f.ty);
        if f.nullable {
            or_null(&mut s);
        } else {
            required.push(Bson::String(key.to_string()));
        }
        if let (Some(max), FieldType::Text) = (f.max_length, &f.ty) {
            s.insert("maxLength", i64::from(max));
        }
        if let Some(d) = &f.description {
            s.insert("description", d.clone());
        }
        props.insert(key, s);
    }
    let mut schema = doc! {"bsonType": "object", "properties": props};
    if !required.is_empty() {
        schema.insert("required", required);
    }
    Ok(doc! {"$jsonSchema": schema})
}

/// The unique indexes an entity needs (the sole key is `_id`, indexed already).
pub fn unique_indexes(e: &Entity) -> Result<Vec<(String, Document)>> {
    let mut out: Vec<(String, Document)> = Vec::new();
    let mut add = |name: String, fields: &[String]| -> Result<()> {
        let mut keys = Document::new();
        for f in fields {
            keys.insert(lower::storage_key(e, e.field(f)?)?, 1);
        }
        if keys.keys().any(|k| k == "_id") || out.iter().any(|(_, k)| k == &keys) {
            return Ok(());
        }
        out.push((name, keys));
        Ok(())
    };
    if e.primary_key.len() > 1 {
        add(format!("{}_pkey", e.source.table), &e.primary_key)?;
    }
    for i in e.indexes.iter().filter(|i| i.unique) {
        add(i.name.clone(), &i.fields)?;
    }
    for f in e.fields.iter().filter(|f| f.unique) {
        add(
            format!("{}_{}_key", e.source.table, f.column()),
            std::slice::from_ref(&f.name),
        )?;
    }
    Ok(out)
}

pub(crate) async fn apply(db: &MongoAdapter, change: &SchemaChange) -> Result<()> {
    match change {
        // References are checked on every write (no foreign keys in MongoDB).
        SchemaChange::CreateEntity { entity, .. } => {
            let name = lower::collection_name(entity)?;
            let database = match &entity.source.schema {
                Some(s) => db.client().database(s),
                None => db.database().clone(),
            };
            let validator = json_schema(entity)?;
            let exists = database
                .list_collection_names()
                .await
                .map_err(decode::error)?
                .iter()
                .any(|c| c == name);
            if exists {
                database
                    .run_command(doc! {"collMod": name, "validator": validator})
                    .await
                    .map_err(decode::error)?;
            } else {
                database
                    .create_collection(name)
                    .validator(validator)
                    .await
                    .map_err(decode::error)?;
            }
            let coll = database.collection::<Document>(name);
            let existing: Vec<IndexModel> = coll
                .list_indexes()
                .await
                .map_err(decode::error)?
                .try_collect()
                .await
                .map_err(decode::error)?;
            for (iname, keys) in unique_indexes(entity)? {
                if existing.iter().any(|m| m.keys == keys) {
                    continue;
                }
                let opts = IndexOptions::builder().name(iname).unique(true).build();
                coll.create_index(IndexModel::builder().keys(keys).options(opts).build())
                    .await
                    .map_err(decode::error)?;
            }
            Ok(())
        }
        SchemaChange::AddField { entity, field } => {
            if entity.fields.iter().any(|f| f.name == field.name) {
                return Err(Error::validation(
                    "/field/name",
                    format!("`{}` is already a field of `{}`", field.name, entity.name),
                ));
            }
            let mut after = entity.clone();
            after.fields.push(field.clone());
            let name = lower::collection_name(entity)?;
            let database = match &entity.source.schema {
                Some(s) => db.client().database(s),
                None => db.database().clone(),
            };
            // Existing documents lack the field: it must be nullable unless
            // the collection is empty.
            if !field.nullable {
                let n = database
                    .collection::<Document>(name)
                    .estimated_document_count()
                    .await
                    .map_err(decode::error)?;
                if n > 0 {
                    return Err(Error::validation(
                        "/field/nullable",
                        format!(
                            "`{}` must be nullable: `{name}` already holds documents without it",
                            field.name
                        ),
                    ));
                }
            }
            database
                .run_command(doc! {"collMod": name, "validator": json_schema(&after)?})
                .await
                .map_err(decode::error)?;
            if field.unique {
                let key = lower::storage_key(&after, field)?;
                let opts = IndexOptions::builder()
                    .name(format!("{name}_{key}_key"))
                    .unique(true)
                    .build();
                database
                    .collection::<Document>(name)
                    .create_index(
                        IndexModel::builder()
                            .keys(doc! {key: 1})
                            .options(opts)
                            .build(),
                    )
                    .await
                    .map_err(decode::error)?;
            }
            Ok(())
        }
        _ => Err(Error::unsupported(ENGINE, "this schema change")),
    }
}
