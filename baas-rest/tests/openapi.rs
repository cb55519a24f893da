//! The per-tenant OpenAPI document and the discovery document: checked
//! against the official OpenAPI 3.1 schema, and for content.

use baas_core::{
    Capabilities, Entity, Field, FieldType, Generated, Index, Relation, SchemaMetadata,
};
use baas_rest::{discovery_document, openapi_document};
use baas_testkit::{Naming, chinook_metadata};
use serde_json::{Value as J, json};

const OAS_31_SCHEMA: &str = include_str!("data/oas-3.1-schema-2022-10-07.json");

fn postgres() -> Capabilities {
    let mut c = Capabilities::minimal("postgres");
    c.full_text_search = true;
    c.arrays = true;
    c.json_path = true;
    c.estimated_count = true;
    c.upsert_conflict_target = true;
    c
}

fn assert_valid_openapi(doc: &J) {
    let schema: J = serde_json::from_str(OAS_31_SCHEMA).unwrap();
    assert_eq!(
        schema["$id"],
        json!("https://spec.openapis.org/oas/3.1/schema/2022-10-07")
    );
    let v = jsonschema::draft202012::new(&schema).expect("the OAS 3.1 schema compiles");
    let errors: Vec<String> = v
        .iter_errors(doc)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "invalid OpenAPI document:\n{}",
        errors.join("\n")
    );
    // Every component schema is a valid JSON Schema 2020-12 on its own.
    let dialect = doc["jsonSchemaDialect"].as_str().unwrap();
    assert_eq!(dialect, "https://json-schema.org/draft/2020-12/schema");
    for (name, s) in doc["components"]["schemas"].as_object().unwrap() {
        assert!(
            regex_like_component_name(name),
            "component name `{name}` breaks ^[a-zA-Z0-9.\\-_]+$"
        );
        jsonschema::draft202012::new(s).unwrap_or_else(|e| panic!("{name}: {e}"));
    }
    // Every $ref points at something that exists.
    check_refs(doc, doc);
}

fn regex_like_component_name(n: &str) -> bool {
    !n.is_empty()
        && n.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
}

fn check_refs(root: &J, v: &J) {
    match v {
        J::Object(m) => {
            if let Some(J::String(r)) = m.get("$ref") {
                let ptr = r.strip_prefix('#').expect("local ref");
                assert!(root.pointer(ptr).is_some(), "dangling $ref {r}");
            }
            m.values().for_each(|x| check_refs(root, x));
        }
        J::Array(a) => a.iter().for_each(|x| check_refs(root, x)),
        _ => {}
    }
}

/// An entity with every field type, and awkward names around it.
fn every_type() -> SchemaMetadata {
    let mut id = Field::new("id", FieldType::Uuid);
    id.default = Some("gen_random_uuid()".into());
    id.description = Some("Row id".into());
    let mut label = Field::new("label", FieldType::Text);
    label.max_length = Some(40);
    label.unique = true;
    let fields = vec![
        id,
        label,
        Field::new("i16", FieldType::Int16).nullable(),
        Field::new("i32", FieldType::Int32).nullable(),
        Field::new("i64", FieldType::Int64).generated(Generated::AutoIncrement),
        Field::new("f32", FieldType::Float32).nullable(),
        Field::new("f64", FieldType::Float64).nullable(),
        Field::new(
            "price",
            FieldType::Decimal {
                precision: Some(10),
                scale: Some(2),
            },
        ),
        Field::new(
            "ratio",
            FieldType::Decimal {
                precision: None,
                scale: None,
            },
        )
        .nullable(),
        Field::new("flag", FieldType::Boolean),
        Field::new("day", FieldType::Date).nullable(),
        Field::new("at", FieldType::Time).nullable(),
        Field::new("local", FieldType::Timestamp).nullable(),
        Field::new("instant", FieldType::TimestampTz).nullable(),
        Field::new("doc", FieldType::Json).nullable(),
        Field::new("blob", FieldType::Binary).nullable(),
        Field::new(
            "tags",
            FieldType::Array {
                items: Box::new(FieldType::Text),
            },
        )
        .nullable(),
        Field::new(
            "mood",
            FieldType::Enum {
                name: Some("mood".into()),
                values: vec!["sad".into(), "happy".into()],
            },
        )
        .nullable(),
        Field::new("oid", FieldType::ObjectId).nullable(),
        Field::new("search", FieldType::Text)
            .nullable()
            .generated(Generated::Always),
        // Names the grammar reserves or cannot address as a parameter.
        Field::new("order", FieldType::Int32).nullable(),
        Field::new("a.b", FieldType::Int32).nullable(),
        Field::new("owner_id", FieldType::Int32).nullable(),
    ];
    let mut thing = Entity::new("thing", fields)
        .with_primary_key(["id"])
        .with_relation(Relation::many_to_one(
            "owner",
            "my table/{x}",
            &["owner_id"],
            &["key"],
        ));
    thing.indexes = vec![Index {
        name: "thing_i32".into(),
        fields: vec!["i32".into()],
        unique: true,
    }];
    thing.description = Some("Every type".into());
    let mut view = Entity::new("thing_view", vec![Field::new("label", FieldType::Text)])
        .with_primary_key(["label"]);
    view.read_only = true;
    let odd = Entity::new(
        "my table/{x}",
        vec![
            Field::new("key", FieldType::Int32),
            Field::new("k2", FieldType::Text),
        ],
    )
    .with_primary_key(["key", "k2"]);
    let clash = Entity::new("thing.insert", vec![Field::new("x", FieldType::Int32)]);
    let error = Entity::new("Error", vec![Field::new("x", FieldType::Int32)]);
    let shadowed =
        Entity::new("discovery", vec![Field::new("x", FieldType::Int32)]).with_primary_key(["x"]);
    SchemaMetadata::new(vec![thing, view, odd, clash, error, shadowed])
}

#[test]
fn chinook_openapi_is_valid() {
    let schema = chinook_metadata(Naming::SnakeCase);
    for (caps, url) in [
        (postgres(), Some("https://api.example.com/v1/")),
        (Capabilities::minimal("sqlite"), None),
    ] {
        let doc = openapi_document("acme", &schema, &caps, url);
        assert_valid_openapi(&doc);
    }
}

#[test]
fn every_type_openapi_is_valid() {
    let doc = openapi_document("t 1", &every_type(), &postgres(), Some("http://h"));
    assert_valid_openapi(&doc);
}

#[test]
fn the_oas_schema_catches_broken_documents() {
    let schema: J = serde_json::from_str(OAS_31_SCHEMA).unwrap();
    let v = jsonschema::draft202012::new(&schema).unwrap();
    let good = openapi_document(
        "acme",
        &chinook_metadata(Naming::SnakeCase),
        &postgres(),
        None,
    );
    assert!(v.is_valid(&good));
    let mut no_info = good.clone();
    no_info.as_object_mut().unwrap().remove("info");
    assert!(!v.is_valid(&no_info));
    let mut bad_path = good.clone();
    bad_path["paths"]
        .as_object_mut()
        .unwrap()
        .insert("artist".into(), json!({}));
    assert!(!v.is_valid(&bad_path), "path keys start with /");
    let mut bad_param = good.clone();
    bad_param["paths"]["/artist"]["get"]["parameters"][1]["in"] = json!("body");
    assert!(!v.is_valid(&bad_param));
    let mut bad_name = good;
    bad_name["components"]["schemas"]
        .as_object_mut()
        .unwrap()
        .insert("a b".into(), json!({}));
    assert!(!v.is_valid(&bad_name), "component names are restricted");
}

#[test]
fn chinook_openapi_content() {
    let schema = chinook_metadata(Naming::SnakeCase);
    let doc = openapi_document(
        "acme",
        &schema,
        &postgres(),
        Some("https://api.example.com/"),
    );
    assert_eq!(doc["openapi"], json!("3.1.0"));
    assert_eq!(
        doc["servers"],
        json!([{"url": "https://api.example.com/acme"}])
    );
    let paths = doc["paths"].as_object().unwrap();
    // Every Chinook entity has a primary key: two paths each.
    assert_eq!(paths.len(), 2 * schema.entities.len());
    let artist = &paths["/artist"];
    let methods: Vec<&String> = artist.as_object().unwrap().keys().collect();
    assert_eq!(methods, ["get", "head", "post", "patch", "delete"]);
    let item: Vec<&String> = paths["/artist/{id}"].as_object().unwrap().keys().collect();
    assert_eq!(
        item,
        ["parameters", "get", "head", "patch", "put", "delete"]
    );
    assert_eq!(
        paths["/artist/{id}"]["parameters"][0]["schema"],
        json!({"type": "integer", "minimum": i32::MIN, "maximum": i32::MAX, "format": "int32"})
    );
    let get_params: Vec<String> = artist["get"]["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            p.get("name").and_then(J::as_str).map_or_else(
                || {
                    p["$ref"]
                        .as_str()
                        .unwrap()
                        .rsplit('/')
                        .next()
                        .unwrap()
                        .to_string()
                },
                |n| format!("filter:{n}"),
            )
        })
        .collect();
    assert_eq!(
        get_params,
        [
            "select",
            "filter:artist_id",
            "filter:name",
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
            "preferRead"
        ]
    );
    let name_filter = &artist["get"]["parameters"][2]["description"];
    assert_eq!(
        name_filter,
        &json!(
            "Filter on `name` (text, nullable): `name=op.value`, op one of eq, neq, gt, gte, lt, lte, in, isdistinct, is, like, ilike, match, imatch, fts, plfts, phfts, wfts; prefix `not.` to negate."
        )
    );
    assert_eq!(
        artist["get"]["responses"]["200"]["content"]["application/json"]["schema"],
        json!({"type": "array", "items": {"$ref": "#/components/schemas/artist"}})
    );
    assert_eq!(
        artist["post"]["requestBody"]["content"]["application/json"]["schema"],
        json!({"oneOf": [
            {"$ref": "#/components/schemas/artist.insert"},
            {"type": "array", "items": {"$ref": "#/components/schemas/artist.insert"}}
        ]})
    );
    let codes: Vec<&String> = artist["post"]["responses"]
        .as_object()
        .unwrap()
        .keys()
        .collect();
    assert_eq!(
        codes,
        [
            "201", "400", "403", "404", "406", "409", "415", "422", "501", "503"
        ]
    );
    // A 201 is empty unless `return=representation`: no body is promised.
    let created = &artist["post"]["responses"]["201"];
    assert_eq!(created.get("content"), None, "{created}");
    assert_eq!(
        created["x-representation"]["application/json"]["schema"]["items"],
        json!({"$ref": "#/components/schemas/artist"})
    );
    // Bodyless answers and answers with a body get their own status on
    // the other writes.
    assert!(artist["patch"]["responses"]["204"].get("content").is_none());
    assert!(artist["patch"]["responses"]["200"].get("content").is_some());
    assert_eq!(
        artist["patch"]["responses"]["422"],
        json!({"$ref": "#/components/responses/Validation"})
    );
    assert_eq!(
        doc["components"]["responses"]["Unavailable"]["content"]["application/json"]["schema"],
        json!({"$ref": "#/components/schemas/Error"})
    );
    assert_eq!(
        doc["components"]["schemas"]["Error"]["required"],
        json!(["code", "message", "details", "hint"])
    );
    let schemas = doc["components"]["schemas"].as_object().unwrap();
    assert_eq!(schemas.len(), 3 * schema.entities.len() + 1);
    assert_eq!(
        schemas["track.insert"]["required"],
        json!([
            "track_id",
            "name",
            "media_type_id",
            "milliseconds",
            "unit_price"
        ])
    );
    assert_eq!(
        schemas["track"]["properties"]["unit_price"],
        json!({"type": ["number", "string"], "pattern": r"^-?\d+\.\d{2}$"})
    );
    assert!(schemas["track"].get("$schema").is_none());
    // PUT takes the key from the path: the key is not required in its body.
    assert_eq!(
        paths["/artist/{id}"]["put"]["requestBody"]["content"]["application/json"]["schema"]
            .get("required"),
        None
    );
    assert_eq!(
        paths["/track/{id}"]["put"]["requestBody"]["content"]["application/json"]["schema"]["required"],
        json!(["name", "media_type_id", "milliseconds", "unit_price"])
    );
}

#[test]
fn odd_names_read_only_and_reserved_fields() {
    let doc = openapi_document("t 1", &every_type(), &Capabilities::minimal("sqlite"), None);
    assert_eq!(doc["servers"], json!([{"url": "/t%201"}]));
    let paths = doc["paths"].as_object().unwrap();
    let keys: Vec<&String> = paths.keys().collect();
    assert_eq!(
        keys,
        [
            "/thing",
            "/thing/{id}",
            "/thing_view",
            "/thing_view/{id}",
            "/my%20table%2F%7Bx%7D",
            "/my%20table%2F%7Bx%7D/{id}",
            "/thing.insert",
            "/Error",
            // `/discovery` is the tenant's document: only the item path.
            "/discovery/{id}",
        ]
    );
    // Read-only: reads only.
    let view: Vec<&String> = paths["/thing_view"].as_object().unwrap().keys().collect();
    assert_eq!(view, ["get", "head"]);
    let view_item: Vec<&String> = paths["/thing_view/{id}"]
        .as_object()
        .unwrap()
        .keys()
        .collect();
    assert_eq!(view_item, ["parameters", "get", "head"]);
    // Component names: sanitised and unique.
    let names: Vec<&String> = doc["components"]["schemas"]
        .as_object()
        .unwrap()
        .keys()
        .collect();
    assert_eq!(
        names,
        [
            "thing",
            "thing.insert",
            "thing.update",
            "thing_view",
            "thing_view.insert",
            "thing_view.update",
            "my_table__x_",
            "my_table__x_.insert",
            "my_table__x_.update",
            "thing.insert-2",
            "thing.insert-2.insert",
            "thing.insert-2.update",
            "Error-2",
            "Error-2.insert",
            "Error-2.update",
            "discovery",
            "discovery.insert",
            "discovery.update",
            "Error",
        ]
    );
    assert_eq!(
        doc["components"]["schemas"]["my_table__x_"]["title"],
        json!("my table/{x}")
    );
    assert_eq!(
        paths["/thing.insert"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
            ["items"],
        json!({"$ref": "#/components/schemas/thing.insert-2"})
    );
    // Composite key: a string path parameter.
    assert_eq!(
        paths["/my%20table%2F%7Bx%7D/{id}"]["parameters"][0]["schema"],
        json!({"type": "string"})
    );
    // Reserved and dotted field names get no filter parameter; no fts/arrays on sqlite.
    let filters: Vec<&str> = paths["/thing"]["get"]["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|p| p.get("name").and_then(J::as_str))
        .collect();
    assert!(filters.contains(&"label") && filters.contains(&"owner_id"));
    assert!(!filters.contains(&"order") && !filters.contains(&"a.b"));
    let label = paths["/thing"]["get"]["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "label")
        .unwrap();
    assert!(
        label["description"]
            .as_str()
            .unwrap()
            .contains("is, like, ilike, match, imatch;")
    );
    // Generated-always fields are read-only and absent from write schemas.
    let s = &doc["components"]["schemas"];
    assert_eq!(s["thing"]["properties"]["search"]["readOnly"], json!(true));
    assert!(s["thing.insert"]["properties"].get("search").is_none());
    assert_eq!(
        s["thing.insert"]["required"],
        json!(["label", "price", "flag"])
    );
    // The uuid key's path parameter: the write pattern, not nullable.
    let id_schema = &paths["/thing/{id}"]["parameters"][0]["schema"];
    assert_eq!(id_schema["type"], json!("string"));
    assert!(
        id_schema["pattern"]
            .as_str()
            .unwrap()
            .contains("[uU][rR][nN]:")
    );
}

#[test]
fn discovery_content() {
    let schema = chinook_metadata(Naming::SnakeCase);
    let d = discovery_document("acme", &schema, &postgres());
    assert_eq!(d["discovery_version"], json!(1));
    assert_eq!(d["tenant"], json!("acme"));
    assert_eq!(d["engine"], json!("postgres"));
    assert_eq!(
        d["capabilities"],
        json!({
            "full_text_search": true, "arrays": true, "json_path": true,
            "upsert_conflict_target": true, "estimated_count": true, "transactions": false
        })
    );
    assert_eq!(
        d["limits"],
        json!({
            "max_limit": 1000, "max_filter_depth": 16, "max_in_list": 1000,
            "max_body_bytes": 1048576, "max_select_depth": 7, "max_query_bytes": 65536,
            "max_insert_rows": 1000
        })
    );
    let entities = d["entities"].as_array().unwrap();
    assert_eq!(entities.len(), schema.entities.len());
    assert_eq!(
        entities[0],
        json!({
            "name": "artist",
            "primary_key": ["artist_id"],
            "read_only": false,
            "operations": ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"],
            "item_operations": ["GET", "HEAD", "PATCH", "PUT", "DELETE"],
            "fields": [
                {
                    "name": "artist_id", "type": "int32", "nullable": false, "unique": true,
                    "has_default": false, "generated": "none", "required_on_insert": true,
                    "writable": true, "sortable": true, "json_path": false,
                    "operators": ["eq", "neq", "gt", "gte", "lt", "lte", "in", "isdistinct", "is"]
                },
                {
                    "name": "name", "type": "text", "nullable": true, "unique": false,
                    "has_default": false, "generated": "none", "required_on_insert": false,
                    "writable": true, "sortable": true, "json_path": false,
                    "operators": ["eq", "neq", "gt", "gte", "lt", "lte", "in", "isdistinct", "is",
                                  "like", "ilike", "match", "imatch", "fts", "plfts", "phfts", "wfts"],
                    "max_length": 120
                }
            ],
            "relations": [
                {"name": "albums", "kind": "one_to_many", "target": "album",
                 "from_fields": ["artist_id"], "to_fields": ["artist_id"], "to_one": false}
            ]
        })
    );
    let track = entities.iter().find(|e| e["name"] == "track").unwrap();
    let price = track["fields"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == "unit_price")
        .unwrap();
    assert_eq!(price["type"], json!("decimal"));
    assert_eq!(
        (price["precision"].clone(), price["scale"].clone()),
        (json!(10), json!(2))
    );
    assert_eq!(
        price["operators"],
        json!([
            "eq",
            "neq",
            "gt",
            "gte",
            "lt",
            "lte",
            "in",
            "isdistinct",
            "is"
        ])
    );
    let playlists = track["relations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "playlists")
        .unwrap();
    assert_eq!(
        playlists,
        &json!({
            "name": "playlists", "kind": "many_to_many", "target": "playlist",
            "from_fields": ["track_id"], "to_fields": ["playlist_id"], "to_one": false,
            "through": {"entity": "playlist_track", "source_fields": ["track_id"], "target_fields": ["playlist_id"]}
        })
    );
    let album = track["relations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "album")
        .unwrap();
    assert_eq!(album["to_one"], json!(true));
    assert_eq!(album["kind"], json!("many_to_one"));
}

#[test]
fn discovery_types_and_capabilities() {
    let schema = every_type();
    let field = |d: &J, e: &str, f: &str| -> J {
        d["entities"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["name"] == e)
            .unwrap()["fields"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["name"] == f)
            .unwrap()
            .clone()
    };
    let pg = discovery_document("t", &schema, &postgres());
    let lite = discovery_document("t", &schema, &Capabilities::minimal("sqlite"));
    assert_eq!(lite["engine"], json!("sqlite"));
    assert_eq!(
        field(&pg, "thing", "tags"),
        json!({
            "name": "tags", "type": "array", "items": {"type": "text"}, "nullable": true,
            "unique": false, "has_default": false, "generated": "none",
            "required_on_insert": false, "writable": true, "sortable": false, "json_path": true,
            "operators": ["is", "cs", "cd", "ov"]
        })
    );
    assert_eq!(field(&lite, "thing", "tags")["operators"], json!(["is"]));
    assert_eq!(field(&lite, "thing", "tags")["json_path"], json!(false));
    assert_eq!(field(&pg, "thing", "doc")["json_path"], json!(true));
    assert_eq!(field(&lite, "thing", "doc")["json_path"], json!(false));
    assert_eq!(field(&pg, "thing", "doc")["operators"], json!(["is"]));
    assert_eq!(
        field(&pg, "thing", "mood")["operators"],
        json!([
            "eq",
            "neq",
            "gt",
            "gte",
            "lt",
            "lte",
            "in",
            "isdistinct",
            "is",
            "like",
            "ilike",
            "match",
            "imatch",
            "fts",
            "plfts",
            "phfts",
            "wfts"
        ])
    );
    assert_eq!(
        field(&pg, "thing", "mood")["enum_values"],
        json!(["sad", "happy"])
    );
    assert_eq!(
        field(&pg, "thing", "flag")["operators"],
        json!(["eq", "neq", "in", "isdistinct", "is"])
    );
    assert_eq!(field(&pg, "thing", "blob")["sortable"], json!(false));
    let id = field(&pg, "thing", "id");
    assert_eq!(
        (
            &id["unique"],
            &id["has_default"],
            &id["required_on_insert"],
            &id["description"]
        ),
        (&json!(true), &json!(true), &json!(false), &json!("Row id"))
    );
    assert_eq!(
        field(&pg, "thing", "i32")["unique"],
        json!(true),
        "unique index"
    );
    assert_eq!(
        field(&pg, "thing", "label")["unique"],
        json!(true),
        "flagged"
    );
    let search = field(&pg, "thing", "search");
    assert_eq!(
        (&search["generated"], &search["writable"]),
        (&json!("always"), &json!(false))
    );
    assert_eq!(
        field(&pg, "thing", "i64")["generated"],
        json!("auto_increment")
    );
    let ents = pg["entities"].as_array().unwrap();
    let view = ents.iter().find(|e| e["name"] == "thing_view").unwrap();
    assert_eq!(view["read_only"], json!(true));
    assert_eq!(view["operations"], json!(["GET", "HEAD"]));
    assert_eq!(view["item_operations"], json!(["GET", "HEAD"]));
    assert_eq!(field(&pg, "thing_view", "label")["writable"], json!(false));
    let keyless = ents.iter().find(|e| e["name"] == "thing.insert").unwrap();
    assert_eq!(keyless["item_operations"], json!([]));
    let shadowed = ents.iter().find(|e| e["name"] == "discovery").unwrap();
    assert_eq!(shadowed["operations"], json!([]));
    assert_eq!(ents[0]["description"], json!("Every type"));
}

#[test]
fn paths_route_to_their_entities() {
    use baas_rest::{Route, route};
    let schema = every_type();
    let doc = openapi_document("t 1", &schema, &postgres(), None);
    let server = doc["servers"][0]["url"].as_str().unwrap();
    for (path, item) in doc["paths"].as_object().unwrap() {
        let tag = item["get"]["tags"][0].as_str().unwrap();
        let concrete = format!("{server}{}", path.replace("{id}", "1,a"));
        match route(&concrete, &[]).unwrap() {
            Route::Collection { tenant, entity } => {
                assert_eq!((tenant.as_str(), entity.as_str()), ("t 1", tag), "{path}");
                assert!(!path.ends_with("{id}"));
            }
            Route::Item {
                tenant,
                entity,
                key,
            } => {
                assert_eq!((tenant.as_str(), entity.as_str()), ("t 1", tag), "{path}");
                assert_eq!(key, ["1", "a"]);
            }
            other => panic!("{path} routes to {other:?}"),
        }
    }
    // Every filter parameter parses as a filter on its field.
    let lite = Capabilities::minimal("sqlite");
    let doc = openapi_document("t", &schema, &lite, None);
    for p in doc["paths"]["/thing"]["get"]["parameters"]
        .as_array()
        .unwrap()
    {
        let Some(name) = p.get("name").and_then(J::as_str) else {
            continue;
        };
        let req = baas_rest::RestRequest::new("GET", "/t/thing", format!("{name}=is.null"));
        let r = route(&req.path, &req.headers).unwrap();
        let op = baas_rest::parse_request(&schema, &r, &req, &baas_rest::ParseLimits::default());
        assert!(op.is_ok(), "{name}: {op:?}");
    }
}
