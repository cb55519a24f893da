//! The discovery document (`GET /{tenant}/discovery`): what a client SDK
//! needs to know about a tenant's entities, as plain JSON.
//!
//! The format is stable: keys are only ever added (bumping `discovery_version`
//! on incompatible changes). Optional keys are left out when they do not
//! apply, never `null`.
//!
//! | key | meaning |
//! | --- | --- |
//! | `discovery_version` | format version, `1` |
//! | `tenant` | the tenant id |
//! | `engine` | [`Capabilities::engine`] (`postgres`, `mysql`, `sqlite`, …) |
//! | `metadata_version` | [`SchemaMetadata::version`] |
//! | `capabilities` | `full_text_search`, `arrays`, `json_path`, `upsert_conflict_target`, `estimated_count`, `transactions` (booleans, from [`Capabilities`]) |
//! | `limits` | the request limits ([`ParseLimits`]): the HTTP ones (`max_limit`, the page size cap, also applied without `limit`; `max_body_bytes`; `max_query_bytes`) and the engine's (`max_filter_depth`, `max_in_list`, `max_select_depth`, `max_insert_rows`) |
//! | `routes` | path templates relative to the tenant root: `collection` `/{entity}`, `item` `/{entity}/{id}`, `openapi` `/openapi.json` |
//! | `entities[]` | one object per entity, in metadata order: |
//! | `.name` | API name (the path segment; percent-encode it in URLs) |
//! | `.description` | table comment, when there is one |
//! | `.primary_key` | key field names, in key order (empty: no `/{entity}/{id}` route) |
//! | `.read_only` | entities that refuse writes: views the database cannot write through, a document store's views |
//! | `.operations` | methods on `/{entity}`: `GET`, `HEAD`, and unless read-only `POST`, `PUT` (with a primary key), `PATCH`, `DELETE`; empty for an entity named `discovery` or `openapi.json` (those paths are the tenant's documents) |
//! | `.item_operations` | methods on `/{entity}/{id}`: `GET`, `HEAD`, and unless read-only `PATCH`, `PUT`, `DELETE`; empty without a primary key |
//! | `.fields[]` | `name`; `type` ([`FieldType::name`]); `nullable`; `unique` (the field alone is unique: flagged unique, a one-field unique index, or the whole primary key); `has_default` (the database fills it when omitted); `generated` (`none`, `auto_increment`, `always`); `required_on_insert`; `writable` (false for generated-always fields); `sortable` (may appear in `order=`); `json_path` (`field->a->>b=op.v` filters apply: a JSON field, or an array on an engine with arrays); `operators` (URL filter operators that apply, below); and when they apply `enum_values`, `max_length`, `precision`, `scale`, `items` (the element type of an array, an object like `{type, enum_values, …}`), `description` |
//! | `.relations[]` | `name` (use it in `select=name(…)`), `kind` (`many_to_one`, `one_to_many`, `one_to_one`, `many_to_many`), `target`, `from_fields`, `to_fields`, `to_one` (embeds as an object or null, otherwise as an array), and for many-to-many `through` `{entity, source_fields, target_fields}` |
//!
//! Operators per field type (every operator also takes `not.` in front):
//!
//! | operators | fields |
//! | --- | --- |
//! | `is` (`null`, `not_null`, `unknown`; `true`/`false` on booleans) | every field |
//! | `eq` `neq` `in` `isdistinct` | every field but `json` and arrays |
//! | `gt` `gte` `lt` `lte` | ordered types: numbers, text, enums, dates and times, uuid, objectid |
//! | `like` `ilike` `match` `imatch` | text and enums |
//! | `fts` `plfts` `phfts` `wfts` | text and enums, when the engine has full-text search |
//! | `cs` `cd` `ov` | arrays, when the engine has arrays |

use baas_core::function::Function;
use baas_core::{Capabilities, Entity, Field, FieldType, Generated, RelationKind, SchemaMetadata};
use serde_json::{Map, Value as J, json};

use crate::ParseLimits;

/// The URL filter operators (`field=op.value`) that apply to a field of
/// type `ty` on an engine with `caps`, in a fixed order (see the module docs).
pub fn field_operators(ty: &FieldType, caps: &Capabilities) -> Vec<&'static str> {
    let mut ops = Vec::new();
    let structured = matches!(ty, FieldType::Json | FieldType::Array { .. });
    if !structured {
        ops.extend(["eq", "neq"]);
        if ty.is_ordered() {
            ops.extend(["gt", "gte", "lt", "lte"]);
        }
        ops.extend(["in", "isdistinct"]);
    }
    ops.push("is");
    if ty.is_textual() {
        ops.extend(["like", "ilike", "match", "imatch"]);
        if caps.full_text_search {
            ops.extend(["fts", "plfts", "phfts", "wfts"]);
        }
    }
    if matches!(ty, FieldType::Array { .. }) && caps.arrays {
        ops.extend(["cs", "cd", "ov"]);
    }
    ops
}

/// Whether `order=` accepts the field's type.
pub(crate) fn sortable(ty: &FieldType) -> bool {
    !matches!(
        ty,
        FieldType::Json | FieldType::Array { .. } | FieldType::Binary
    )
}

/// Entity names whose collection path is taken by the tenant's documents.
pub(crate) fn collection_shadowed(entity: &str) -> bool {
    matches!(entity, "discovery" | "openapi.json")
}

/// Methods served on `/{entity}`.
pub(crate) fn collection_methods(entity: &Entity) -> &'static [&'static str] {
    if collection_shadowed(&entity.name) {
        &[]
    } else if entity.read_only {
        &["GET", "HEAD"]
    } else if entity.primary_key.is_empty() {
        &["GET", "HEAD", "POST", "PATCH", "DELETE"]
    } else {
        &["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"]
    }
}

/// Methods served on `/{entity}/{id}`.
pub(crate) fn item_methods(entity: &Entity) -> &'static [&'static str] {
    if entity.primary_key.is_empty() {
        &[]
    } else if entity.read_only {
        &["GET", "HEAD"]
    } else {
        &["GET", "HEAD", "PATCH", "PUT", "DELETE"]
    }
}

/// The field alone is unique: flagged, a one-field unique index, or the
/// whole primary key.
fn is_unique(entity: &Entity, field: &Field) -> bool {
    field.unique
        || entity.primary_key == [field.name.as_str()]
        || entity
            .indexes
            .iter()
            .any(|i| i.unique && i.fields == [field.name.as_str()])
}

fn type_info(ty: &FieldType, out: &mut Map<String, J>) {
    out.insert("type".into(), ty.name().into());
    match ty {
        FieldType::Enum { values, .. } => {
            out.insert("enum_values".into(), json!(values));
        }
        FieldType::Decimal { precision, scale } => {
            if let Some(p) = precision {
                out.insert("precision".into(), (*p).into());
            }
            if let Some(s) = scale {
                out.insert("scale".into(), (*s).into());
            }
        }
        FieldType::Array { items } => {
            let mut m = Map::new();
            type_info(items, &mut m);
            out.insert("items".into(), J::Object(m));
        }
        _ => {}
    }
}

fn field_doc(entity: &Entity, f: &Field, caps: &Capabilities) -> J {
    let mut m = Map::new();
    m.insert("name".into(), f.name.clone().into());
    type_info(&f.ty, &mut m);
    if let Some(t) = &f.db_type {
        m.insert("db_type".into(), t.clone().into());
    }
    m.insert("nullable".into(), f.nullable.into());
    m.insert("unique".into(), is_unique(entity, f).into());
    m.insert("has_default".into(), f.default.is_some().into());
    m.insert(
        "generated".into(),
        match f.generated {
            Generated::None => "none",
            Generated::AutoIncrement => "auto_increment",
            Generated::Always => "always",
        }
        .into(),
    );
    m.insert(
        "required_on_insert".into(),
        baas_core::json_schema::insert_requires(f).into(),
    );
    m.insert(
        "writable".into(),
        (f.generated != Generated::Always && !entity.read_only).into(),
    );
    m.insert("sortable".into(), sortable(&f.ty).into());
    m.insert("json_path".into(), caps.paths_into(&f.ty).into());
    m.insert("operators".into(), json!(field_operators(&f.ty, caps)));
    if let Some(n) = f.max_length {
        m.insert("max_length".into(), n.into());
    }
    if let Some(d) = &f.description {
        m.insert("description".into(), d.clone().into());
    }
    J::Object(m)
}

fn relation_doc(r: &baas_core::Relation) -> J {
    let mut m = Map::new();
    m.insert("name".into(), r.name.clone().into());
    let kind = match &r.kind {
        RelationKind::ManyToOne => "many_to_one",
        RelationKind::OneToMany => "one_to_many",
        RelationKind::OneToOne => "one_to_one",
        RelationKind::ManyToMany { .. } => "many_to_many",
    };
    m.insert("kind".into(), kind.into());
    m.insert("target".into(), r.target.clone().into());
    m.insert("from_fields".into(), json!(r.from_fields));
    m.insert("to_fields".into(), json!(r.to_fields));
    m.insert("to_one".into(), r.kind.is_to_one().into());
    if let RelationKind::ManyToMany { through } = &r.kind {
        m.insert(
            "through".into(),
            json!({
                "entity": through.entity,
                "source_fields": through.source_fields,
                "target_fields": through.target_fields,
            }),
        );
    }
    J::Object(m)
}

fn entity_doc(e: &Entity, caps: &Capabilities) -> J {
    let mut m = Map::new();
    m.insert("name".into(), e.name.clone().into());
    if let Some(d) = &e.description {
        m.insert("description".into(), d.clone().into());
    }
    m.insert("primary_key".into(), json!(e.primary_key));
    m.insert("read_only".into(), e.read_only.into());
    m.insert("operations".into(), json!(collection_methods(e)));
    m.insert("item_operations".into(), json!(item_methods(e)));
    m.insert(
        "fields".into(),
        J::Array(e.fields.iter().map(|f| field_doc(e, f, caps)).collect()),
    );
    m.insert(
        "relations".into(),
        J::Array(e.relations.iter().map(relation_doc).collect()),
    );
    J::Object(m)
}

/// The methods `/rpc/{function}` answers: `GET`/`HEAD` only for functions
/// that do not write.
pub(crate) fn function_methods(f: &Function) -> &'static [&'static str] {
    if f.volatility.is_read_only() {
        &["GET", "HEAD", "POST"]
    } else {
        &["POST"]
    }
}

fn function_doc(f: &Function) -> J {
    let mut m = Map::new();
    m.insert("name".into(), f.name.clone().into());
    if let Some(d) = &f.description {
        m.insert("description".into(), d.clone().into());
    }
    m.insert("path".into(), format!("/rpc/{}", f.name).into());
    m.insert("operations".into(), json!(function_methods(f)));
    m.insert(
        "volatility".into(),
        serde_json::to_value(f.volatility).unwrap_or(J::Null),
    );
    m.insert(
        "params".into(),
        J::Array(
            f.params
                .iter()
                .map(|p| {
                    let mut d = Map::new();
                    d.insert("name".into(), p.name.clone().into());
                    type_info(&p.ty, &mut d);
                    d.insert("optional".into(), p.optional.into());
                    J::Object(d)
                })
                .collect(),
        ),
    );
    m.insert(
        "returns".into(),
        serde_json::to_value(&f.returns).unwrap_or(J::Null),
    );
    J::Object(m)
}

/// The discovery document of `tenant` (see the module docs for the format),
/// with the default [`ParseLimits`].
pub fn discovery_document(tenant: &str, schema: &SchemaMetadata, caps: &Capabilities) -> J {
    discovery_document_with_limits(tenant, schema, caps, &ParseLimits::default())
}

/// [`discovery_document`] reporting the limits the server really applies.
pub fn discovery_document_with_limits(
    tenant: &str,
    schema: &SchemaMetadata,
    caps: &Capabilities,
    limits: &ParseLimits,
) -> J {
    json!({
        "discovery_version": 1,
        "tenant": tenant,
        "engine": caps.engine,
        "metadata_version": schema.version,
        "capabilities": {
            "full_text_search": caps.full_text_search,
            "arrays": caps.arrays,
            "json_path": caps.json_path,
            "upsert_conflict_target": caps.upsert_conflict_target,
            "estimated_count": caps.estimated_count,
            "transactions": caps.transactions,
        },
        "limits": {
            "max_limit": limits.http.max_limit,
            "max_filter_depth": limits.ir.max_filter_depth,
            "max_in_list": limits.ir.max_in_list,
            "max_body_bytes": limits.http.max_body_bytes,
            "max_select_depth": limits.max_select_depth(),
            "max_query_bytes": limits.http.max_query_bytes,
            "max_insert_rows": limits.ir.max_insert_rows,
        },
        "routes": {
            "collection": "/{entity}",
            "item": "/{entity}/{id}",
            "openapi": "/openapi.json",
            "rpc": "/rpc/{function}",
        },
        "entities": schema.entities.iter().map(|e| entity_doc(e, caps)).collect::<Vec<_>>(),
        "functions": schema.functions.iter().map(function_doc).collect::<Vec<_>>(),
    })
}
