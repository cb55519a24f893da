//! The per-tenant OpenAPI 3.1 document (`GET /{tenant}/openapi.json`).
//!
//! Generated from the metadata and the engine's capabilities, it describes
//! the routes of [`route`](mod@crate::route) and the grammar of the crate docs:
//!
//! - `servers`: `{server_url}/{tenant}` (the tenant percent-encoded; just
//!   `/{tenant}` without a server URL). Paths are relative to it.
//! - `/{entity}`: `GET`/`HEAD` with `select`, `order`, `limit`, `offset`,
//!   `after`, `or`/`and`/`not.or`/`not.and`, one filter parameter per field
//!   (`field=op.value`, the operators of [`field_operators`]), `Range`,
//!   `Range-Unit` and `Prefer` (`count=…`); `POST` (a row or an array of rows,
//!   `columns`, `on_conflict`, `Prefer: return=…, resolution=…`), `PATCH` and
//!   `DELETE` (filters required). Read-only entities have `GET`/`HEAD` only.
//! - `/{entity}/{id}` (entities with a primary key; composite keys are
//!   `v1,v2`): `GET`/`HEAD`, and unless read-only `PATCH`, `PUT` (merge
//!   upsert; key fields come from the path) and `DELETE`.
//! - `components.schemas`: per entity the record as read (`artist`), an
//!   insert row (`artist.insert`) and an update body (`artist.update`), from
//!   [`entity_json_schema`]; `Error` for `{"code","message","details","hint"}`
//!   (plus `violations` on validation errors). Responses 400/403/404/406/409/415/416/422/501/503
//!   refer to it. A `POST`'s 201 declares no `content`: its body is empty
//!   unless `Prefer: return=representation` (`x-representation` gives the
//!   rows' shape). Writes take an `Idempotency-Key` header.
//!
//! Names: component names must match `^[a-zA-Z0-9.\-_]+$`, so other
//! characters of an entity name become `_` and clashes get a `-2`, `-3`…
//! suffix (the schema's `title` keeps the real name). Path keys carry the
//! entity name percent-encoded (everything but `A-Z a-z 0-9 - . _ ~`), which
//! is what the router decodes; `{` `}` `/` can never be mistaken for a
//! template or a separator. Field names that the grammar reserves (`select`,
//! `order`, `limit`, `offset`, `after`, `or`, `and`, `not`, `columns`,
//! `on_conflict`) or that contain `.` get no filter parameter of their own
//! (filter them inside `or=(…)`). An entity named `discovery` or
//! `openapi.json` has no collection path: those are the tenant's documents.

use std::collections::HashSet;

use baas_core::json_schema::{DIALECT, SchemaMode, entity_json_schema, field_json_schema};
use baas_core::{Capabilities, Entity, Field, SchemaMetadata};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde_json::{Map, Value as J, json};

use crate::discovery::{collection_shadowed, field_operators};

/// Characters kept as-is in a path segment (RFC 3986 unreserved).
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// Query parameters the grammar reserves: no field filter by those names.
const RESERVED: &[&str] = &[
    "select",
    "order",
    "limit",
    "offset",
    "after",
    "or",
    "and",
    "not",
    "columns",
    "on_conflict",
];

const OBJECT_MEDIA_TYPE: &str = crate::headers::OBJECT_MEDIA_TYPE;

/// A path segment for `name`: percent-encoded, and `.`/`..` spelled out so
/// clients do not normalise them away.
fn segment(name: &str) -> String {
    match name {
        "." => "%2E".into(),
        ".." => "%2E%2E".into(),
        _ => utf8_percent_encode(name, SEGMENT).to_string(),
    }
}

/// Component-name allocation: `^[a-zA-Z0-9.\-_]+$`, unique.
struct Names {
    used: HashSet<String>,
}

impl Names {
    fn sanitize(name: &str) -> String {
        let s: String = name
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        if s.is_empty() { "_".into() } else { s }
    }

    /// A base name `b` such that `b`, `b.insert` and `b.update` are free.
    fn entity(&mut self, name: &str) -> String {
        let base = Self::sanitize(name);
        let free = |b: &str, used: &HashSet<String>| {
            [b.to_string(), format!("{b}.insert"), format!("{b}.update")]
                .iter()
                .all(|n| !used.contains(n))
        };
        let mut candidate = base.clone();
        let mut n = 2;
        while !free(&candidate, &self.used) {
            candidate = format!("{base}-{n}");
            n += 1;
        }
        for n in [
            candidate.clone(),
            format!("{candidate}.insert"),
            format!("{candidate}.update"),
        ] {
            self.used.insert(n);
        }
        candidate
    }
}

fn schema_ref(name: &str) -> J {
    // Component names hold no `~` or `/`: no JSON-pointer escaping needed.
    json!({ "$ref": format!("#/components/schemas/{name}") })
}

fn param_ref(name: &str) -> J {
    json!({ "$ref": format!("#/components/parameters/{name}") })
}

fn response_ref(name: &str) -> J {
    json!({ "$ref": format!("#/components/responses/{name}") })
}

fn error_schema() -> J {
    json!({
        "type": "object",
        "description": "Every error body. `code` is PostgREST's where it has one (`PGRST116`, `PGRST124`, `PGRST200`, `PGRST201`, SQLSTATEs `23502`, `23503`, `23505`, `42703`), our stable code otherwise (see the status list of the REST dialect); `details` and `hint` are null when absent; `details` is the candidate list (an array) for `PGRST201`.",
        "required": ["code", "message", "details", "hint"],
        "properties": {
            "code": {"type": "string", "examples": ["validation", "23505", "PGRST116"]},
            "message": {"type": "string"},
            "details": {"type": ["string", "array", "null"]},
            "hint": {"type": ["string", "null"]},
            "violations": {
                "type": "array",
                "description": "Validation errors (422, and 400 `23502` / `42703`) only: each problem with a JSON pointer into the request, and its SQLSTATE when it has one.",
                "items": {
                    "type": "object",
                    "required": ["pointer", "message"],
                    "properties": {
                        "pointer": {"type": "string"},
                        "message": {"type": "string"},
                        "code": {"type": "string"}
                    }
                }
            }
        }
    })
}

fn error_responses() -> Map<String, J> {
    let mut m = Map::new();
    for (name, desc) in [
        (
            "BadRequest",
            "400: the URL grammar, a header or the body cannot be parsed; an unknown column (`42703`), a null or missing non-null field (`23502`), an unknown embedding (`PGRST200`), `max-affected` exceeded (`PGRST124`).",
        ),
        (
            "Forbidden",
            "403: the request is not allowed (e.g. a write to a read-only entity).",
        ),
        ("NotFound", "404: no such entity, field, relation or row."),
        (
            "NotAcceptable",
            "406: a singular response (`Accept: application/vnd.pgrst.object+json`) found 0 or several rows (`PGRST116`).",
        ),
        (
            "Conflict",
            "409: a unique (`23505`) or foreign-key (`23503`) constraint was violated, or a request with the same `Idempotency-Key` is still running.",
        ),
        (
            "RangeNotSatisfiable",
            "416: the offset is past the matching rows, or the `Range` is malformed or inverted.",
        ),
        (
            "UnsupportedMediaType",
            "415: a write body without `Content-Type: application/json` (or `text/csv` for an insert).",
        ),
        (
            "Validation",
            "422: the request failed validation against the metadata (`violations` carries JSON pointers), or its `Idempotency-Key` was used for a different request.",
        ),
        (
            "Unsupported",
            "501: a construct this dialect or this database engine does not support.",
        ),
        (
            "Unavailable",
            "503: the database is unavailable; retry later.",
        ),
    ] {
        m.insert(
            name.into(),
            json!({
                "description": desc,
                "content": {"application/json": {"schema": schema_ref("Error")}}
            }),
        );
    }
    m
}

fn common_parameters(caps: &Capabilities) -> Map<String, J> {
    let string = json!({"type": "string"});
    let count = if caps.estimated_count {
        "`count=exact` counts the matching rows (`Content-Range: 0-24/3573`); `count=planned` answers the planner's estimate; `count=estimated` counts exactly up to the row budget and answers the estimate beyond it."
    } else {
        "`count=exact` counts the matching rows (`Content-Range: 0-24/3573`); `count=planned`/`count=estimated` are accepted and counted exactly."
    };
    let upsert = if caps.upsert_conflict_target {
        "`resolution=merge-duplicates|ignore-duplicates` turns the insert into an upsert on the primary key or `on_conflict`."
    } else {
        "`resolution=merge-duplicates|ignore-duplicates` turns the insert into an upsert (this engine always resolves on every unique key)."
    };
    let mut m = Map::new();
    let mut q = |name: &str, desc: &str, schema: &J| {
        m.insert(
            name.into(),
            json!({"name": name, "in": "query", "required": false, "description": desc, "schema": schema}),
        );
    };
    q(
        "select",
        "Fields and embedded relations: `select=a,b,rel(c,d)`, `alias:rel(*)`, `rel!inner(*)`, `*` for every field.",
        &string,
    );
    q(
        "order",
        "Sort keys: `order=a.desc.nullslast,b`. The primary key is appended as a tie-breaker.",
        &string,
    );
    q(
        "limit",
        "Page size, capped by the server.",
        &json!({"type": "integer", "minimum": 0}),
    );
    q(
        "offset",
        "Rows to skip.",
        &json!({"type": "integer", "minimum": 0}),
    );
    q(
        "after",
        "Keyset cursor: a JSON array with one value per `order` key, e.g. `[\"AC/DC\",1]`.",
        &string,
    );
    q(
        "or",
        "Any of the conditions: `or=(a.eq.1,b.gt.2)`, nested `and(…)`.",
        &string,
    );
    q(
        "and",
        "All of the conditions: `and=(a.gte.1,a.lte.9)`.",
        &string,
    );
    q("not.or", "None of the conditions.", &string);
    q("not.and", "Not all of the conditions.", &string);
    q(
        "columns",
        "Body keys to keep (others are dropped): `columns=a,b`.",
        &string,
    );
    q(
        "on_conflict",
        "Upsert conflict target (with `Prefer: resolution=…`): `on_conflict=a,b`.",
        &string,
    );
    let mut h = |name: &str, key: &str, desc: &str, schema: J| {
        m.insert(
            key.into(),
            json!({"name": name, "in": "header", "required": false, "description": desc, "schema": schema}),
        );
    };
    h(
        "Range",
        "range",
        "Rows to return, inclusive: `0-24` (intersected with `limit`/`offset`); anything else is a 416.",
        json!({"type": "string", "pattern": r"^(items=)?\d+-\d*$"}),
    );
    h(
        "Range-Unit",
        "rangeUnit",
        "Must be `items` when given (400 otherwise).",
        json!({"type": "string", "enum": ["items"]}),
    );
    h("Prefer", "preferRead", count, json!({"type": "string"}));
    h(
        "Prefer",
        "preferWrite",
        &format!(
            "`return=minimal` (default, no body), `return=representation` (the written rows, shaped by `select`), `return=headers-only` (`Location` of a one-row insert); `count=exact`; {upsert} `missing=default` is accepted; `tx=rollback` runs the write, answers as usual (`Preference-Applied: tx=rollback`) and keeps nothing (501 on an engine without transactions); `handling=strict` rejects unknown preferences."
        ),
        json!({"type": "string"}),
    );
    h(
        "Idempotency-Key",
        "idempotencyKey",
        "Up to 255 visible ASCII characters (a random UUID): a retry with the same key and the same request returns the first answer (`Idempotent-Replayed: true`) without writing again; the same key with another request is a 422; while the first still runs, a 409.",
        json!({"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[!-~]+$"}),
    );
    m
}

fn filter_parameters(entity: &Entity, caps: &Capabilities) -> Vec<J> {
    entity
        .fields
        .iter()
        .filter(|f| !RESERVED.contains(&f.name.as_str()) && !f.name.contains('.'))
        .map(|f| {
            let ops = field_operators(&f.ty, caps);
            let mut desc = format!(
                "Filter on `{}` ({}{}): `{}=op.value`, op one of {}; prefix `not.` to negate.",
                f.name,
                f.ty.name(),
                if f.nullable { ", nullable" } else { "" },
                f.name,
                ops.join(", ")
            );
            if caps.paths_into(&f.ty) {
                desc.push_str(&format!(
                    " JSON paths: `{}->a->>b=eq.v` (parameter named with the path).",
                    f.name
                ));
            }
            json!({
                "name": f.name,
                "in": "query",
                "required": false,
                "description": desc,
                "schema": {"type": "string"}
            })
        })
        .collect()
}

fn rows_content(read: &str) -> J {
    json!({
        "application/json": {"schema": {"type": "array", "items": schema_ref(read)}},
        OBJECT_MEDIA_TYPE: {"schema": schema_ref(read)}
    })
}

fn content_range_header() -> J {
    json!({
        "description": "`first-last/total` (`*` when not counted, `*/total` when empty).",
        "schema": {"type": "string"}
    })
}

fn errors(responses: &mut Map<String, J>, codes: &[(&str, &str)]) {
    for (code, name) in codes {
        responses.insert((*code).into(), response_ref(name));
    }
}

const READ_ERRORS: &[(&str, &str)] = &[
    ("400", "BadRequest"),
    ("404", "NotFound"),
    ("406", "NotAcceptable"),
    ("416", "RangeNotSatisfiable"),
    ("422", "Validation"),
    ("501", "Unsupported"),
    ("503", "Unavailable"),
];

const WRITE_ERRORS: &[(&str, &str)] = &[
    ("400", "BadRequest"),
    ("403", "Forbidden"),
    ("404", "NotFound"),
    ("406", "NotAcceptable"),
    ("409", "Conflict"),
    ("415", "UnsupportedMediaType"),
    ("422", "Validation"),
    ("501", "Unsupported"),
    ("503", "Unavailable"),
];

fn read_op(e: &Entity, read: &str, item: bool, head: bool, filters: &[J]) -> J {
    let mut params = vec![param_ref("select")];
    if !item {
        params.extend(filters.iter().cloned());
        params.extend(
            [
                "order",
                "limit",
                "offset",
                "after",
                "or",
                "and",
                "not.or",
                "not.and",
                "range",
                "rangeUnit",
                "preferRead",
            ]
            .map(param_ref),
        );
    }
    let mut responses = Map::new();
    let ok = if item {
        json!({
            "description": "The row.",
            "content": if head { J::Null } else { json!({ OBJECT_MEDIA_TYPE: {"schema": schema_ref(read)} }) }
        })
    } else {
        json!({
            "description": "The matching rows (one object with `Accept: application/vnd.pgrst.object+json`).",
            "headers": {"Content-Range": content_range_header()},
            "content": if head { J::Null } else { rows_content(read) }
        })
    };
    let strip = |mut r: J| {
        if let Some(o) = r.as_object_mut() {
            o.retain(|_, v| !v.is_null());
        }
        r
    };
    responses.insert("200".into(), strip(ok.clone()));
    if !item {
        let mut partial = strip(ok);
        partial["description"] =
            "Part of the matching rows: the total (`Prefer: count=…`) is larger than the page."
                .into();
        responses.insert("206".into(), partial);
    }
    errors(&mut responses, READ_ERRORS);
    let what = if item { "one" } else { "rows of" };
    json!({
        "operationId": format!("{}{}{}", if head { "head" } else { "get" }, if item { "One" } else { "" }, op_suffix(e)),
        "summary": format!("{} {what} `{}`", if head { "Count" } else { "Read" }, e.name),
        "tags": [e.name],
        "parameters": params,
        "responses": responses,
    })
}

/// A suffix for operation ids: the entity name as given (ids are free text,
/// but unique per document).
fn op_suffix(e: &Entity) -> String {
    format!(":{}", e.name)
}

fn write_responses(read: &str, created: bool) -> Map<String, J> {
    let mut r = Map::new();
    if created {
        // One status, two shapes: PostgREST answers 201 with no body for
        // `return=minimal` (the default) and `headers-only`, and with the rows
        // for `return=representation`. The body is optional, so no `content`
        // is declared (a declared one would make every empty 201 a mismatch);
        // `x-representation` gives its shape.
        r.insert(
            "201".into(),
            json!({
                "description": "Inserted. No body by default (`Prefer: return=minimal`) nor with `return=headers-only` (a one-row insert then gets `Location`); with `return=representation` a JSON array of the inserted rows (one object with `Accept: application/vnd.pgrst.object+json`), as in `x-representation`.",
                "headers": {
                    "Location": {"description": "`/{entity}/{key}` relative to the tenant root.", "schema": {"type": "string"}},
                    "Content-Range": content_range_header()
                },
                "x-representation": rows_content(read)
            }),
        );
    } else {
        r.insert(
            "200".into(),
            json!({
                "description": "Done, with `Prefer: return=representation`: the affected rows.",
                "headers": {"Content-Range": content_range_header()},
                "content": rows_content(read)
            }),
        );
        r.insert(
            "204".into(),
            json!({"description": "Done (`Prefer: return=minimal`, the default)."}),
        );
    }
    errors(&mut r, WRITE_ERRORS);
    r
}

fn body(schema: J, desc: &str) -> J {
    json!({
        "required": true,
        "description": desc,
        "content": {"application/json": {"schema": schema}}
    })
}

fn collection_item(e: &Entity, names: &str, filters: &[J]) -> J {
    let read = names.to_string();
    let insert = format!("{names}.insert");
    let update = format!("{names}.update");
    let mut item = Map::new();
    item.insert("get".into(), read_op(e, &read, false, false, filters));
    item.insert("head".into(), read_op(e, &read, false, true, filters));
    if !e.read_only {
        let post_params = [
            "columns",
            "on_conflict",
            "select",
            "preferWrite",
            "idempotencyKey",
        ]
        .map(param_ref);
        item.insert(
            "post".into(),
            json!({
                "operationId": format!("insert{}", op_suffix(e)),
                "summary": format!("Insert `{}` rows (or upsert with `Prefer: resolution=…`)", e.name),
                "tags": [e.name],
                "parameters": post_params,
                "requestBody": {
                    "required": true,
                    "description": "One row, or an array of rows inserted in one transaction; or CSV (a header line of column names, then one line per row; `NULL` is null).",
                    "content": {
                        "application/json": {"schema": {"oneOf": [schema_ref(&insert), {"type": "array", "items": schema_ref(&insert)}]}},
                        "text/csv": {"schema": {"type": "string"}}
                    }
                },
                "responses": write_responses(&read, true),
            }),
        );
        let mut with_filters: Vec<J> = filters.to_vec();
        with_filters.extend(
            [
                "or",
                "and",
                "not.or",
                "not.and",
                "select",
                "preferWrite",
                "idempotencyKey",
            ]
            .map(param_ref),
        );
        let mut patch_params = with_filters.clone();
        patch_params.push(param_ref("columns"));
        item.insert(
            "patch".into(),
            json!({
                "operationId": format!("update{}", op_suffix(e)),
                "summary": format!("Update the matching `{}` rows (a filter is required)", e.name),
                "tags": [e.name],
                "parameters": patch_params,
                "requestBody": body(schema_ref(&update), "The fields to set."),
                "responses": write_responses(&read, false),
            }),
        );
        item.insert(
            "delete".into(),
            json!({
                "operationId": format!("delete{}", op_suffix(e)),
                "summary": format!("Delete the matching `{}` rows (a filter is required)", e.name),
                "tags": [e.name],
                "parameters": with_filters,
                "responses": write_responses(&read, false),
            }),
        );
    }
    J::Object(item)
}

fn id_parameter(e: &Entity) -> J {
    let key_fields: Vec<_> = e.key_fields().collect();
    let schema = match key_fields.as_slice() {
        [f] if !matches!(
            f.ty,
            baas_core::FieldType::Json | baas_core::FieldType::Array { .. }
        ) =>
        {
            let mut s = field_json_schema(f, SchemaMode::Update);
            if let Some(o) = s.as_object_mut() {
                o.remove("description");
                o.remove("readOnly");
                if let Some(J::Array(ts)) = o.get_mut("type") {
                    ts.retain(|t| t != "null");
                }
                if let Some(J::Array(vs)) = o.get_mut("enum") {
                    vs.retain(|v| !v.is_null());
                }
            }
            s
        }
        _ => json!({"type": "string"}),
    };
    json!({
        "name": "id",
        "in": "path",
        "required": true,
        "description": format!(
            "The primary key ({}); a composite key is its values in key order separated by `,` (percent-encode commas inside a value).",
            e.primary_key.join(", ")
        ),
        "schema": schema
    })
}

fn item_item(e: &Entity, names: &str) -> J {
    let read = names.to_string();
    let mut item = Map::new();
    item.insert("parameters".into(), json!([id_parameter(e)]));
    item.insert("get".into(), read_op(e, &read, true, false, &[]));
    item.insert("head".into(), read_op(e, &read, true, true, &[]));
    if !e.read_only {
        let params = json!([
            param_ref("select"),
            param_ref("columns"),
            param_ref("preferWrite"),
            param_ref("idempotencyKey")
        ]);
        item.insert(
            "patch".into(),
            json!({
                "operationId": format!("updateOne{}", op_suffix(e)),
                "summary": format!("Update one `{}` row by key", e.name),
                "tags": [e.name],
                "parameters": params,
                "requestBody": body(schema_ref(&format!("{names}.update")), "The fields to set."),
                "responses": write_responses(&read, false),
            }),
        );
        // PUT: an insert row whose key may come from the path.
        let mut put_schema = entity_json_schema(e, SchemaMode::Insert);
        if let Some(o) = put_schema.as_object_mut() {
            o.remove("$schema");
            o.insert("title".into(), format!("{} (put)", e.name).into());
            if let Some(J::Array(req)) = o.get_mut("required") {
                req.retain(|r| !e.primary_key.iter().any(|k| r == k));
                if req.is_empty() {
                    o.remove("required");
                }
            }
        }
        item.insert(
            "put".into(),
            json!({
                "operationId": format!("upsertOne{}", op_suffix(e)),
                "summary": format!("Insert or merge one `{}` row by key", e.name),
                "description": "Upserts on the primary key and merges the given fields (unlike PostgREST, the whole row is not needed). Key fields default to the path; if given they must match it.",
                "tags": [e.name],
                "parameters": params,
                "requestBody": body(put_schema, "The row."),
                "responses": write_responses(&read, false),
            }),
        );
        item.insert(
            "delete".into(),
            json!({
                "operationId": format!("deleteOne{}", op_suffix(e)),
                "summary": format!("Delete one `{}` row by key", e.name),
                "tags": [e.name],
                "parameters": [
                    param_ref("select"),
                    param_ref("preferWrite"),
                    param_ref("idempotencyKey")
                ],
                "responses": write_responses(&read, false),
            }),
        );
    }
    J::Object(item)
}

/// `/rpc/{function}`: `POST` with the arguments as a JSON object, and
/// `GET`/`HEAD` with them in the query string for functions that do not
/// write.
fn rpc_item(f: &baas_core::function::Function, schema: &SchemaMetadata) -> J {
    use baas_core::function::Returns;
    let param_schema = |p: &baas_core::function::Param| {
        // A table's row: an object of its fields (unknown ones ignored).
        if p.row {
            return json!({"type": ["object", "null"]});
        }
        let mut field = Field::new(p.name.clone(), p.ty.clone());
        field.nullable = true;
        field_json_schema(&field, SchemaMode::Read)
    };
    let mut props = Map::new();
    for p in &f.params {
        props.insert(p.name.clone(), param_schema(p));
    }
    let required: Vec<&str> = f
        .params
        .iter()
        .filter(|p| !p.optional)
        .map(|p| p.name.as_str())
        .collect();
    let row = match &f.returns {
        Returns::Void => J::Null,
        Returns::Scalar { ty, .. } => field_json_schema(
            &Field::new(f.name.clone(), ty.clone()).nullable(),
            SchemaMode::Read,
        ),
        Returns::Entity { entity, .. } => schema
            .entity(entity)
            .map(|e| entity_json_schema(e, SchemaMode::Read))
            .unwrap_or_else(|_| json!({"type": "object"})),
        Returns::Rows { fields, .. } => {
            let e = Entity::new(f.name.clone(), fields.clone());
            entity_json_schema(&e, SchemaMode::Read)
        }
        // Columns known when it runs.
        Returns::Procedure { out } if out.is_empty() => json!({
            "type": "object",
            "description": "A row of the procedure's first result set, keyed by its column names."
        }),
        Returns::Procedure { out } => {
            let fields = out.iter().map(|o| o.field.clone()).collect();
            entity_json_schema(&Entity::new(f.name.clone(), fields), SchemaMode::Read)
        }
    };
    let mut row = row;
    if let Some(o) = row.as_object_mut() {
        o.remove("$schema");
    }
    let result = if f.returns.is_set() {
        json!({"type": "array", "items": row})
    } else {
        row
    };
    let mut ok = Map::new();
    if matches!(f.returns, Returns::Void) {
        ok.insert("204".into(), json!({"description": "Done; no body."}));
    } else {
        ok.insert(
            "200".into(),
            json!({"description": "The result.", "content": {"application/json": {"schema": result}}}),
        );
    }
    let mut responses = ok.clone();
    errors(&mut responses, WRITE_ERRORS);
    let desc = f
        .description
        .clone()
        .unwrap_or_else(|| format!("Call `{}`.", f.name));
    let mut item = Map::new();
    item.insert(
        "post".into(),
        json!({
            "tags": ["rpc"],
            "operationId": format!("rpc.{}", f.name),
            "summary": desc,
            "parameters": [param_ref("select"), param_ref("order"), param_ref("limit"), param_ref("offset")],
            // A single unnamed `json` parameter takes the whole body.
            "requestBody": if f.takes_body() {
                json!({"required": true, "content": {"application/json": {"schema": {}}}})
            } else {
                json!({"required": !required.is_empty(), "content": {"application/json": {"schema": {
                    "type": "object", "properties": props, "required": required, "additionalProperties": false
                }}}})
            },
            "responses": responses,
        }),
    );
    // A `GET` has no body to give an unnamed `json` parameter.
    if f.volatility.is_read_only() && !f.takes_body() {
        let mut params: Vec<J> = f
            .params
            .iter()
            .map(|p| json!({"name": p.name, "in": "query", "required": !p.optional, "schema": param_schema(p)}))
            .collect();
        params.extend(["select", "order", "limit", "offset"].map(param_ref));
        let mut responses = ok;
        errors(&mut responses, READ_ERRORS);
        item.insert(
            "get".into(),
            json!({
                "tags": ["rpc"],
                "operationId": format!("rpc.{}.get", f.name),
                "summary": desc,
                "parameters": params,
                "responses": responses,
            }),
        );
    }
    J::Object(item)
}

/// The OpenAPI 3.1 document of `tenant` (see the module docs). Paths are
/// relative to `{server_url}/{tenant}`; without `server_url` the server is
/// `/{tenant}`, relative to wherever the document was fetched from.
pub fn openapi_document(
    tenant: &str,
    schema: &SchemaMetadata,
    caps: &Capabilities,
    server_url: Option<&str>,
) -> J {
    let mut names = Names {
        used: HashSet::from(["Error".to_string()]),
    };
    let mut paths = Map::new();
    let mut schemas = Map::new();
    let mut tags = Vec::new();
    for e in &schema.entities {
        let base = names.entity(&e.name);
        for (suffix, mode) in [
            ("", SchemaMode::Read),
            (".insert", SchemaMode::Insert),
            (".update", SchemaMode::Update),
        ] {
            let mut s = entity_json_schema(e, mode);
            if let Some(o) = s.as_object_mut() {
                // The document's `jsonSchemaDialect` says it once.
                o.remove("$schema");
            }
            schemas.insert(format!("{base}{suffix}"), s);
        }
        let filters = filter_parameters(e, caps);
        let seg = segment(&e.name);
        if !collection_shadowed(&e.name) {
            paths.insert(format!("/{seg}"), collection_item(e, &base, &filters));
        }
        if !e.primary_key.is_empty() {
            paths.insert(format!("/{seg}/{{id}}"), item_item(e, &base));
        }
        let mut tag = json!({"name": e.name});
        if let Some(d) = &e.description {
            tag["description"] = d.clone().into();
        }
        tags.push(tag);
    }
    for f in &schema.functions {
        // Overloads share a path: it describes the first (discovery lists
        // every overload).
        paths
            .entry(format!("/rpc/{}", segment(&f.name)))
            .or_insert_with(|| rpc_item(f, schema));
    }
    schemas.insert("Error".into(), error_schema());
    let server = format!(
        "{}/{}",
        server_url.unwrap_or("").trim_end_matches('/'),
        segment(tenant)
    );
    json!({
        "openapi": "3.1.0",
        "jsonSchemaDialect": DIALECT,
        "info": {
            "title": format!("mini-baas — {tenant}"),
            "version": format!("{}", schema.version),
            "description": format!(
                "The REST API of tenant `{tenant}` on {} (PostgREST-compatible URL grammar). Errors are `{{\"code\",\"message\",\"details\",\"hint\"}}`. The discovery document at `/discovery` lists filter operators per field.",
                caps.engine
            ),
        },
        "servers": [{"url": server}],
        "tags": tags,
        "paths": paths,
        "components": {
            "schemas": schemas,
            "parameters": common_parameters(caps),
            "responses": error_responses(),
        },
    })
}
