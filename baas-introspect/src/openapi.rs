//! OpenAPI 3.0 / 3.1 importer (JSON or YAML).
//!
//! - `components.schemas` → entities with the [`crate::json_schema`] rules
//!   (3.0 `nullable: true` and 3.1 type arrays both make a field nullable;
//!   `allOf` inheritance is merged);
//! - `paths` → [`Import::api_paths`]: one [`ApiPath`] per operation with its
//!   method, path template, `operationId` and the entity its body is: the
//!   component referenced by the first 2xx response with one (directly or as
//!   `type: array, items: $ref`), else by the request body. `$ref`s to
//!   `components.responses` / `components.requestBodies` are followed.
//! - Swagger 2.0 documents are refused; `webhooks` and `callbacks` are
//!   reported in [`Import::skipped`].
//!
//! Structural errors are at a JSON pointer; JSON syntax and YAML errors are
//! at a line and column.

use serde_json::Value;

use crate::document::parse_document;
use crate::json_schema::{Candidate, Converter, escape};
use crate::{ApiPath, Import, ImportError, Location, Skipped};

const METHODS: &[&str] = &[
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// How many `$ref` hops are followed for responses and request bodies.
const MAX_REF_HOPS: usize = 16;

/// Import an OpenAPI 3.x document.
pub fn import(text: &str) -> Result<Import, ImportError> {
    let (root, notes) = parse_document(text)?;
    let Some(obj) = root.as_object() else {
        return Err(ImportError::at_pointer(
            "",
            "an OpenAPI document must be an object",
        ));
    };
    match obj.get("openapi") {
        Some(Value::String(v)) if v.starts_with("3.") => {}
        Some(Value::String(v)) => {
            return Err(ImportError::at_pointer(
                "/openapi",
                format!("OpenAPI version `{v}` is not supported (3.0 and 3.1 are)"),
            ));
        }
        Some(_) => {
            return Err(ImportError::at_pointer(
                "/openapi",
                "`openapi` must be a version string such as \"3.1.0\"",
            ));
        }
        None if obj.contains_key("swagger") => {
            return Err(ImportError::at_pointer(
                "/swagger",
                "Swagger 2.0 is not supported: convert the document to OpenAPI 3",
            ));
        }
        None => {
            return Err(ImportError::at_pointer(
                "",
                "not an OpenAPI document: no `openapi` version field",
            ));
        }
    }
    let mut candidates = Vec::new();
    if let Some(components) = obj.get("components") {
        let Some(components) = components.as_object() else {
            return Err(ImportError::at_pointer(
                "/components",
                "`components` must be an object",
            ));
        };
        if let Some(schemas) = components.get("schemas") {
            let Some(schemas) = schemas.as_object() else {
                return Err(ImportError::at_pointer(
                    "/components/schemas",
                    "`components.schemas` must be an object",
                ));
            };
            for (name, schema) in schemas {
                candidates.push(Candidate {
                    name: name.clone(),
                    pointer: format!("/components/schemas/{}", escape(name)),
                    schema,
                });
            }
        }
    }
    let mut conv = Converter::new(&root);
    conv.skipped = notes;
    let schema = conv.convert(&candidates)?;
    let mut skipped = std::mem::take(&mut conv.skipped);
    let api_paths = paths(&root, &conv, &mut skipped)?;
    if obj.contains_key("webhooks") {
        skipped.push(Skipped {
            location: Location::Pointer("/webhooks".into()),
            what: "webhooks".into(),
            reason: "incoming webhooks are not API paths of this service".into(),
        });
    }
    Ok(Import {
        schema,
        skipped,
        api_paths,
    })
}

/// Follow `$ref`s from `value` (a response, request body or path item).
fn deref<'a>(root: &'a Value, mut value: &'a Value) -> &'a Value {
    for _ in 0..MAX_REF_HOPS {
        let Some(r) = value.get("$ref").and_then(Value::as_str) else {
            break;
        };
        let Some(fragment) = r.strip_prefix('#') else {
            break;
        };
        match root.pointer(fragment) {
            Some(v) if !fragment.is_empty() => value = v,
            _ => break,
        }
    }
    value
}

/// The entity of the first media type of a `content` map that has one
/// (JSON media types first).
fn content_entity(conv: &Converter<'_>, holder: &Value) -> Option<String> {
    let content = holder.get("content")?.as_object()?;
    let mut media: Vec<(&String, &Value)> = content.iter().collect();
    media.sort_by_key(|(k, _)| !k.contains("json"));
    media
        .iter()
        .find_map(|(_, m)| conv.entity_of(m.get("schema")?))
}

fn paths(
    root: &Value,
    conv: &Converter<'_>,
    skipped: &mut Vec<Skipped>,
) -> Result<Vec<ApiPath>, ImportError> {
    let Some(paths) = root.get("paths") else {
        return Ok(Vec::new());
    };
    let Some(paths) = paths.as_object() else {
        return Err(ImportError::at_pointer(
            "/paths",
            "`paths` must be an object",
        ));
    };
    let mut out = Vec::new();
    for (path, item) in paths {
        let ptr = format!("/paths/{}", escape(path));
        let item = deref(root, item);
        let Some(item) = item.as_object() else {
            return Err(ImportError::at_pointer(
                ptr,
                "a path item must be an object",
            ));
        };
        for (method, op) in item {
            if !METHODS.contains(&method.as_str()) {
                continue;
            }
            let op_ptr = format!("{ptr}/{method}");
            let Some(op_obj) = op.as_object() else {
                return Err(ImportError::at_pointer(
                    op_ptr,
                    "an operation must be an object",
                ));
            };
            let operation_id = match op_obj.get("operationId") {
                None => None,
                Some(Value::String(s)) => Some(s.clone()),
                Some(_) => {
                    return Err(ImportError::at_pointer(
                        format!("{op_ptr}/operationId"),
                        "`operationId` must be a string",
                    ));
                }
            };
            let mut entity = None;
            if let Some(responses) = op_obj.get("responses") {
                let Some(responses) = responses.as_object() else {
                    return Err(ImportError::at_pointer(
                        format!("{op_ptr}/responses"),
                        "`responses` must be an object",
                    ));
                };
                entity = responses
                    .iter()
                    .filter(|(code, _)| code.starts_with('2'))
                    .find_map(|(_, resp)| content_entity(conv, deref(root, resp)));
            }
            if entity.is_none()
                && let Some(body) = op_obj.get("requestBody")
            {
                entity = content_entity(conv, deref(root, body));
            }
            if op_obj.contains_key("callbacks") {
                skipped.push(Skipped {
                    location: Location::Pointer(format!("{op_ptr}/callbacks")),
                    what: format!(
                        "callbacks of {}",
                        operation_id.as_deref().unwrap_or(path.as_str())
                    ),
                    reason: "callbacks are requests this API makes, not paths it serves".into(),
                });
            }
            out.push(ApiPath {
                method: method.to_ascii_uppercase(),
                path: path.clone(),
                operation_id,
                entity,
            });
        }
    }
    Ok(out)
}
