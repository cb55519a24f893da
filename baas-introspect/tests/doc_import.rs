//! Document importers (Prisma, JSON Schema, OpenAPI, GraphQL SDL) on realistic
//! inputs: golden snapshots of each [`Import`], assertions on the facts that
//! matter, malformed inputs with their locations, and no panics on truncated
//! or garbled input.

use baas_core::{Entity, Field, FieldType, Generated, RelationKind, SchemaMetadata};
use baas_introspect::{Format, Import, ImportError, Location, import};

fn input(path: &str) -> String {
    let full = format!("{}/tests/inputs/{path}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("{full}: {e}"))
}

fn format_of(path: &str) -> Format {
    match path.split('/').next() {
        Some("prisma") => Format::Prisma,
        Some("jsonschema") => Format::JsonSchema,
        Some("openapi") => Format::OpenApi,
        _ => Format::Graphql,
    }
}

const INPUTS: &[&str] = &[
    "prisma/shop.prisma",
    "prisma/mongo_catalog.prisma",
    "jsonschema/library-2020-12.json",
    "jsonschema/order-draft-07.json",
    "openapi/petclinic-3.0.yaml",
    "openapi/tasks-3.1.json",
    "graphql/community.graphql",
];

/// Import a realistic input; it must succeed and be internally consistent.
fn load(path: &str) -> Import {
    let imported = import(&input(path), format_of(path)).unwrap_or_else(|e| panic!("{path}: {e}"));
    if let Err(e) = imported.schema.check() {
        panic!("{path}: inconsistent metadata: {e:?}");
    }
    imported
}

fn entity<'a>(s: &'a SchemaMetadata, name: &str) -> &'a Entity {
    s.entity(name)
        .unwrap_or_else(|_| panic!("no entity `{name}`"))
}

fn field<'a>(s: &'a SchemaMetadata, e: &str, f: &str) -> &'a Field {
    entity(s, e)
        .field(f)
        .unwrap_or_else(|_| panic!("no field `{e}.{f}`"))
}

fn has_field(s: &SchemaMetadata, e: &str, f: &str) -> bool {
    entity(s, e).field(f).is_ok()
}

/// `(kind, target, from, to)` of a relation.
fn rel(s: &SchemaMetadata, e: &str, name: &str) -> (String, String, Vec<String>, Vec<String>) {
    let r = entity(s, e).relation(name).unwrap_or_else(|_| {
        let names: Vec<&str> = entity(s, e)
            .relations
            .iter()
            .map(|r| r.name.as_str())
            .collect();
        panic!("no relation `{e}.{name}` (have {names:?})")
    });
    let kind = match &r.kind {
        RelationKind::ManyToOne => "many_to_one".to_string(),
        RelationKind::OneToMany => "one_to_many".to_string(),
        RelationKind::OneToOne => "one_to_one".to_string(),
        RelationKind::ManyToMany { through } => format!("many_to_many via {}", through.entity),
    };
    (
        kind,
        r.target.clone(),
        r.from_fields.clone(),
        r.to_fields.clone(),
    )
}

fn kind(s: &SchemaMetadata, e: &str, name: &str) -> String {
    rel(s, e, name).0
}

fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

fn names(s: &SchemaMetadata) -> Vec<&str> {
    s.entities.iter().map(|e| e.name.as_str()).collect()
}

fn skipped_whats(i: &Import) -> Vec<&str> {
    i.skipped.iter().map(|s| s.what.as_str()).collect()
}

fn enum_values(t: &FieldType) -> (Option<&str>, Vec<&str>) {
    match t {
        FieldType::Enum { name, values } => {
            (name.as_deref(), values.iter().map(String::as_str).collect())
        }
        other => panic!("not an enum: {other:?}"),
    }
}

// ---------------------------------------------------------------------------
// Golden snapshots.

#[test]
fn snapshots() {
    for path in INPUTS {
        let name = path.replace('/', "_").replace(['.', '-'], "_");
        insta::assert_json_snapshot!(name, load(path));
    }
}

// ---------------------------------------------------------------------------
// Prisma.

#[test]
fn prisma_models_fields_and_types() {
    let i = load("prisma/shop.prisma");
    let s = &i.schema;
    assert_eq!(
        names(s),
        [
            "User",
            "Profile",
            "Post",
            "Tag",
            "Category",
            "CategoriesOnPosts",
            "Comment",
            "Product",
            "Order",
            "OrderItem",
            "Payment",
            "Review",
            "UserStats",
            "_UserFollows",
            "_PostToTag",
        ]
    );
    let user = entity(s, "User");
    assert_eq!(user.source.table, "users");
    // A PostgreSQL datasource without `schema=`: Prisma's tables are in `public`.
    assert_eq!(user.source.schema.as_deref(), Some("public"));
    assert_eq!(user.primary_key, ["id"]);
    assert_eq!(user.description.as_deref(), Some("A registered account."));
    // Relation fields are not fields.
    let fields: Vec<&str> = user.fields.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(
        fields,
        ["id", "email", "name", "role", "createdAt", "updatedAt"]
    );

    let id = field(s, "User", "id");
    assert_eq!(id.ty, FieldType::Int32);
    assert_eq!(id.generated, Generated::AutoIncrement);
    assert_eq!(id.default, None);
    assert!(!id.nullable);
    let email = field(s, "User", "email");
    assert!(email.unique && !email.nullable);
    assert_eq!(email.max_length, Some(255));
    assert_eq!(email.description.as_deref(), Some("Login e-mail, unique."));
    assert!(field(s, "User", "name").nullable);
    let role = field(s, "User", "role");
    assert_eq!(
        enum_values(&role.ty),
        (Some("user_role"), vec!["customer", "editor", "admin"])
    );
    assert_eq!(role.default.as_deref(), Some("customer"));
    let created = field(s, "User", "createdAt");
    assert_eq!(created.column.as_deref(), Some("created_at"));
    // `@db.Timestamptz(6)` overrides the provider's `timestamp(3)`.
    assert_eq!(created.ty, FieldType::TimestampTz);
    assert_eq!(created.default.as_deref(), Some("now()"));
    assert_eq!(field(s, "User", "updatedAt").ty, FieldType::Timestamp);

    assert_eq!(
        enum_values(&field(s, "Order", "status").ty),
        (
            Some("OrderStatus"),
            vec!["PENDING", "PAID", "SHIPPED", "DELIVERED", "CANCELLED"]
        )
    );
    assert_eq!(
        field(s, "Order", "number").default.as_deref(),
        Some("cuid()")
    );

    let product_id = field(s, "Product", "id");
    assert_eq!(product_id.ty, FieldType::Uuid);
    assert_eq!(product_id.default.as_deref(), Some("uuid()"));
    assert_eq!(product_id.generated, Generated::None);
    assert_eq!(
        field(s, "Product", "price").ty,
        FieldType::Decimal {
            precision: Some(10),
            scale: Some(2)
        }
    );
    assert_eq!(field(s, "Product", "sku").max_length, Some(12));
    assert_eq!(field(s, "Product", "stock").ty, FieldType::Int16);
    assert_eq!(field(s, "Product", "weightKg").ty, FieldType::Float32);
    assert_eq!(
        field(s, "Product", "active").default.as_deref(),
        Some("true")
    );
    assert_eq!(
        field(s, "Product", "keywords").ty,
        FieldType::Array {
            items: Box::new(FieldType::Text)
        }
    );
    assert_eq!(field(s, "Product", "attributes").ty, FieldType::Json);
    assert_eq!(field(s, "Product", "thumbnail").ty, FieldType::Binary);
    assert!(!has_field(s, "Product", "searchVec"));
    assert_eq!(field(s, "Post", "viewCount").ty, FieldType::Int64);
    assert_eq!(field(s, "Profile", "birthday").ty, FieldType::Date);
    assert_eq!(field(s, "Payment", "capturedAt").ty, FieldType::Timestamp);
    assert_eq!(
        field(s, "Payment", "id").default.as_deref(),
        Some("gen_random_uuid()")
    );

    // Views are read-only; ignored models are gone.
    let stats = entity(s, "UserStats");
    assert!(stats.read_only);
    assert_eq!(stats.source.table, "user_stats");
    // Its only identity is a `@unique` field.
    assert_eq!(stats.primary_key, ["userId"]);
    assert!(s.entity("LegacyAudit").is_err());
    let skipped = skipped_whats(&i);
    for what in [
        "datasource db",
        "generator client",
        "model LegacyAudit",
        "Product.searchVec",
        "@@fulltext on Post",
    ] {
        assert!(skipped.contains(&what), "{what} not in {skipped:?}");
    }
    assert_eq!(
        i.skipped[0].location,
        Location::LineCol { line: 6, column: 1 }
    );
}

#[test]
fn prisma_keys_indexes_and_relations() {
    let s = load("prisma/shop.prisma").schema;
    // Composite keys.
    assert_eq!(
        entity(&s, "OrderItem").primary_key,
        ["orderId", "productId"]
    );
    assert_eq!(
        entity(&s, "CategoriesOnPosts").primary_key,
        ["postId", "categoryId"]
    );
    // Indexes, with Prisma's default names from table and column names.
    let review = entity(&s, "Review");
    assert_eq!(review.indexes.len(), 1);
    assert!(review.indexes[0].unique);
    assert_eq!(review.indexes[0].fields, ["userId", "productId"]);
    assert_eq!(review.indexes[0].name, "reviews_user_id_product_id_key");
    let post = entity(&s, "Post");
    assert_eq!(post.indexes[0].name, "posts_author_id_published_at_idx");
    assert_eq!(post.indexes[0].fields, ["authorId", "publishedAt"]);
    assert!(!post.indexes[0].unique);
    assert_eq!(
        entity(&s, "Product").indexes[0].name,
        "products_category_idx"
    );

    // Relations are named by the schema's relation fields, both ways.
    assert_eq!(
        rel(&s, "Post", "author"),
        (
            "many_to_one".into(),
            "User".into(),
            strings(&["authorId"]),
            strings(&["id"])
        )
    );
    assert_eq!(kind(&s, "User", "posts"), "one_to_many");
    assert_eq!(kind(&s, "Order", "customer"), "many_to_one");
    // One-to-one: the foreign key side is unique.
    assert_eq!(kind(&s, "User", "profile"), "one_to_one");
    assert_eq!(kind(&s, "Order", "payment"), "one_to_one");
    assert_eq!(kind(&s, "Profile", "user"), "many_to_one");
    // Self-relation.
    assert_eq!(
        rel(&s, "Category", "parent"),
        (
            "many_to_one".into(),
            "Category".into(),
            strings(&["parentId"]),
            strings(&["id"])
        )
    );
    assert_eq!(kind(&s, "Category", "children"), "one_to_many");
    assert_eq!(kind(&s, "Comment", "replyTo"), "many_to_one");
    // Explicit many-to-many through a model with a composite key.
    assert_eq!(
        kind(&s, "Post", "Category"),
        "many_to_many via CategoriesOnPosts"
    );
    assert_eq!(
        kind(&s, "Category", "Post"),
        "many_to_many via CategoriesOnPosts"
    );
    assert_eq!(kind(&s, "Order", "Product"), "many_to_many via OrderItem");
    // Implicit many-to-many: Prisma's `_AToB` junction with columns A and B.
    let junction = entity(&s, "_PostToTag");
    assert_eq!(junction.source.table, "_PostToTag");
    assert_eq!(junction.primary_key, ["A", "B"]);
    assert_eq!(field(&s, "_PostToTag", "A").ty, FieldType::Int32);
    assert_eq!(kind(&s, "Post", "tags"), "many_to_many via _PostToTag");
    assert_eq!(kind(&s, "Tag", "posts"), "many_to_many via _PostToTag");
    // Named self many-to-many: each side by its field.
    assert_eq!(entity(&s, "_UserFollows").primary_key, ["A", "B"]);
    assert_eq!(
        kind(&s, "User", "followers"),
        "many_to_many via _UserFollows"
    );
    assert_eq!(
        kind(&s, "User", "following"),
        "many_to_many via _UserFollows"
    );
    // Prisma keeps the values of the field whose name sorts first
    // (`followers`) in column A: that field reads from B.
    let through = |name: &str| match &entity(&s, "User").relation(name).unwrap().kind {
        RelationKind::ManyToMany { through } => {
            (through.source_fields.clone(), through.target_fields.clone())
        }
        other => panic!("{other:?}"),
    };
    assert_eq!(through("followers"), (strings(&["B"]), strings(&["A"])));
    assert_eq!(through("following"), (strings(&["A"]), strings(&["B"])));
}

#[test]
fn prisma_mongo_composite_types_are_json() {
    let i = load("prisma/mongo_catalog.prisma");
    let s = &i.schema;
    assert_eq!(names(s), ["Brand", "Item"]);
    let id = field(s, "Item", "id");
    assert_eq!(id.ty, FieldType::ObjectId);
    assert_eq!(id.column.as_deref(), Some("_id"));
    assert_eq!(id.default.as_deref(), Some("auto()"));
    assert_eq!(field(s, "Item", "brandId").ty, FieldType::ObjectId);
    assert_eq!(field(s, "Item", "dimensions").ty, FieldType::Json);
    assert!(field(s, "Item", "dimensions").nullable);
    assert_eq!(field(s, "Item", "photos").ty, FieldType::Json);
    assert_eq!(kind(s, "Item", "brand"), "many_to_one");
    assert_eq!(kind(s, "Brand", "items"), "one_to_many");
    assert_eq!(entity(s, "Item").source.table, "items");
}

fn prisma(text: &str) -> Import {
    let i = import(text, Format::Prisma).unwrap_or_else(|e| panic!("{e}"));
    if let Err(e) = i.schema.check() {
        panic!("inconsistent metadata: {e:?}");
    }
    i
}

#[test]
fn prisma_block_comments_are_accepted() {
    let i = prisma(
        "/* A schema\n   over two lines. */\n/**\n * An account.\n */\nmodel A {\n  id Int @id /* the key */\n  /** Shown name. */\n  name String\n}\n",
    );
    let a = entity(&i.schema, "A");
    assert_eq!(a.description.as_deref(), Some("An account."));
    assert_eq!(
        field(&i.schema, "A", "name").description.as_deref(),
        Some("Shown name.")
    );
}

#[test]
fn prisma_model_identified_only_by_unique_uses_it_as_primary_key() {
    let s = prisma(
        "model A {\n  code String @unique\n  note String? @unique\n}\n\
         model B {\n  x Int\n  y Int\n  @@unique([x, y])\n}\n\
         model C {\n  x Int? @unique\n}\n",
    )
    .schema;
    assert_eq!(entity(&s, "A").primary_key, ["code"]);
    assert_eq!(entity(&s, "B").primary_key, ["x", "y"]);
    // An optional unique field cannot identify a row.
    assert!(entity(&s, "C").primary_key.is_empty());
}

fn with_provider(provider: &str, model: &str) -> SchemaMetadata {
    prisma(&format!(
        "datasource db {{\n  provider = \"{provider}\"\n  url = env(\"DATABASE_URL\")\n}}\n{model}"
    ))
    .schema
}

#[test]
fn prisma_types_are_what_the_providers_migrations_create() {
    let model = "model T {\n  id Int @id\n  at DateTime\n  tz DateTime @db.Timestamptz(6)\n  d Decimal\n  p Decimal @db.Decimal(10, 2)\n  s String\n  long String @db.Text\n  v String @db.VarChar(20)\n  big Int @db.UnsignedInt\n}\n";
    let ty = |s: &SchemaMetadata, f: &str| field(s, "T", f).ty.clone();
    let len = |s: &SchemaMetadata, f: &str| field(s, "T", f).max_length;
    let dec = |p, sc| FieldType::Decimal {
        precision: Some(p),
        scale: Some(sc),
    };

    let pg = with_provider("postgresql", model);
    assert_eq!(ty(&pg, "at"), FieldType::Timestamp, "timestamp(3)");
    assert_eq!(ty(&pg, "tz"), FieldType::TimestampTz);
    assert_eq!(ty(&pg, "d"), dec(65, 30));
    assert_eq!(ty(&pg, "p"), dec(10, 2));
    assert_eq!(len(&pg, "s"), None);

    let my = with_provider("mysql", model);
    assert_eq!(ty(&my, "at"), FieldType::Timestamp, "datetime(3)");
    assert_eq!(ty(&my, "d"), dec(65, 30));
    assert_eq!(len(&my, "s"), Some(191), "varchar(191)");
    assert_eq!(len(&my, "long"), None, "@db.Text lifts the default length");
    assert_eq!(len(&my, "v"), Some(20));
    assert_eq!(ty(&my, "big"), FieldType::Int64);

    let lite = with_provider("sqlite", model);
    assert_eq!(ty(&lite, "at"), FieldType::Timestamp);
    assert_eq!(
        ty(&lite, "d"),
        FieldType::Decimal {
            precision: None,
            scale: None
        }
    );
    let ms = with_provider("sqlserver", model);
    assert_eq!(ty(&ms, "d"), dec(32, 16));
    let mongo = with_provider(
        "mongodb",
        "model T {\n  id String @id @map(\"_id\") @db.ObjectId\n  at DateTime\n}\n",
    );
    assert_eq!(
        ty(&mongo, "at"),
        FieldType::TimestampTz,
        "BSON dates are instants"
    );
}

#[test]
fn prisma_relations_are_named_by_their_relation_fields() {
    let s = prisma(
        "model User {\n  id Int @id\n  written Post[] @relation(\"written\")\n  edited Post[] @relation(\"edited\")\n  card Card?\n}\n\
         model Post {\n  id Int @id\n  authorId Int\n  editorId Int?\n  writer User @relation(\"written\", fields: [authorId], references: [id])\n  editor User? @relation(\"edited\", fields: [editorId], references: [id])\n}\n\
         model Card {\n  id Int @id\n  ownerId Int @unique\n  holder User @relation(fields: [ownerId], references: [id])\n}\n",
    )
    .schema;
    assert_eq!(kind(&s, "User", "written"), "one_to_many");
    assert_eq!(rel(&s, "User", "written").2, strings(&["id"]));
    assert_eq!(rel(&s, "User", "written").3, strings(&["authorId"]));
    assert_eq!(rel(&s, "User", "edited").3, strings(&["editorId"]));
    assert_eq!(kind(&s, "User", "card"), "one_to_one");
    assert_eq!(rel(&s, "Post", "writer").2, strings(&["authorId"]));
    assert_eq!(rel(&s, "Card", "holder").1, "User");
}

#[test]
fn prisma_entities_carry_the_datasources_database_schema() {
    let s = prisma(
        "datasource db {\n  provider = \"postgresql\"\n  url = \"postgresql://u@h/db?schema=app\"\n  schemas = [\"app\", \"audit\"]\n}\n\
         model A {\n  id Int @id\n}\n\
         model B {\n  id Int @id\n  @@schema(\"audit\")\n}\n",
    )
    .schema;
    assert_eq!(entity(&s, "A").source.schema.as_deref(), Some("app"));
    assert_eq!(entity(&s, "B").source.schema.as_deref(), Some("audit"));
    let s = with_provider("postgresql", "model A {\n  id Int @id\n}\n");
    assert_eq!(entity(&s, "A").source.schema.as_deref(), Some("public"));
    // MySQL and SQLite tables are in the connection's database.
    let s = with_provider("mysql", "model A {\n  id Int @id\n}\n");
    assert_eq!(entity(&s, "A").source.schema, None);
}

fn openapi_yaml(schemas: &str) -> Import {
    let text = format!(
        "openapi: 3.1.0\ninfo: {{title: t, version: '1'}}\npaths: {{}}\ncomponents:\n  schemas:\n{schemas}"
    );
    import(&text, Format::OpenApi).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn openapi_integer_literal_beyond_64_bits_degrades_to_a_float_with_a_note() {
    let i = openapi_yaml(
        "    Thing:\n      type: object\n      properties:\n        id: {type: integer}\n        n: {type: integer, minimum: -9223372036854776000, maximum: 18446744073709551616}\n",
    );
    assert_eq!(field(&i.schema, "Thing", "n").ty, FieldType::Int64);
    let notes: Vec<(String, Location)> = i
        .skipped
        .iter()
        .map(|s| (s.what.clone(), s.location.clone()))
        .collect();
    assert_eq!(
        notes,
        [
            (
                "integer -9223372036854776000".to_string(),
                ptr("/components/schemas/Thing/properties/n/minimum")
            ),
            (
                "integer 18446744073709551616".to_string(),
                ptr("/components/schemas/Thing/properties/n/maximum")
            ),
        ]
    );
    // Merge keys and tags still read as before.
    let i = openapi_yaml(
        "    Base: &base\n      type: object\n      properties:\n        id: {type: integer}\n    Thing:\n      <<: *base\n      description: !note merged\n",
    );
    assert_eq!(field(&i.schema, "Thing", "id").ty, FieldType::Int64);
}

#[test]
fn openapi_one_of_constants_is_an_enum_with_its_values() {
    let i = openapi_yaml(
        "    Thing:\n      type: object\n      properties:\n        id: {type: integer}\n        mood:\n          oneOf:\n            - {const: sad, title: Sad}\n            - {const: ok}\n            - {type: 'null'}\n",
    );
    let mood = field(&i.schema, "Thing", "mood");
    assert_eq!(enum_values(&mood.ty), (None, vec!["sad", "ok"]));
    assert!(mood.nullable);
}

#[test]
fn openapi_object_schema_without_properties_is_reported() {
    let i = openapi_yaml(
        "    Empty:\n      type: object\n      properties: {}\n    Bare:\n      type: object\n    Code:\n      type: string\n      enum: [a, b]\n",
    );
    assert!(i.schema.entities.is_empty());
    assert_eq!(
        skipped_whats(&i),
        ["object schema Empty", "object schema Bare"]
    );
}

// ---------------------------------------------------------------------------
// JSON Schema.

#[test]
fn json_schema_2020_12_defs() {
    let i = load("jsonschema/library-2020-12.json");
    let s = &i.schema;
    assert_eq!(
        names(s),
        [
            "Address",
            "Publisher",
            "Author",
            "Book",
            "Copy",
            "Branch",
            "Member",
            "Loan"
        ]
    );
    // Keys: `id`, `x-primary-key`, `<entity>Id`; none for Address.
    assert_eq!(entity(s, "Book").primary_key, ["id"]);
    assert_eq!(entity(s, "Copy").primary_key, ["barcode"]);
    assert_eq!(entity(s, "Author").primary_key, ["authorId"]);
    assert_eq!(entity(s, "Branch").primary_key, ["branchId"]);
    assert!(entity(s, "Address").primary_key.is_empty());

    assert_eq!(field(s, "Book", "id").ty, FieldType::Int64);
    assert_eq!(field(s, "Publisher", "id").ty, FieldType::Int32);
    assert_eq!(field(s, "Book", "price").ty, FieldType::Float64);
    assert_eq!(field(s, "Book", "publishedOn").ty, FieldType::Date);
    assert_eq!(field(s, "Book", "cover").ty, FieldType::Binary);
    assert_eq!(field(s, "Author", "authorId").ty, FieldType::Uuid);
    assert_eq!(field(s, "Copy", "acquiredAt").ty, FieldType::TimestampTz);
    // `$ref` to a non-entity definition is resolved inline.
    let isbn = field(s, "Book", "isbn");
    assert_eq!(
        (isbn.ty.clone(), isbn.max_length, isbn.nullable),
        (FieldType::Text, Some(13), false)
    );
    assert_eq!(
        enum_values(&field(s, "Book", "genre").ty),
        (
            None,
            vec!["fiction", "non-fiction", "poetry", "children", "reference"]
        )
    );
    // Nullability: required, type arrays with null, anyOf with null, enum with null.
    assert!(!field(s, "Book", "title").nullable);
    assert!(field(s, "Book", "subtitle").nullable);
    assert!(field(s, "Author", "died").nullable);
    let returned = field(s, "Loan", "returnedAt");
    assert_eq!(
        (returned.ty.clone(), returned.nullable),
        (FieldType::TimestampTz, true)
    );
    let condition = field(s, "Copy", "condition");
    assert!(condition.nullable);
    assert_eq!(
        enum_values(&condition.ty).1,
        ["new", "good", "worn", "damaged"]
    );
    assert_eq!(field(s, "Book", "language").default.as_deref(), Some("en"));
    assert_eq!(
        field(s, "Member", "active").default.as_deref(),
        Some("true")
    );
    assert!(field(s, "Member", "email").unique);
    assert_eq!(
        field(s, "Member", "fines").ty,
        FieldType::Decimal {
            precision: None,
            scale: None
        }
    );

    // `$ref` to an entity → `<prop>_id` typed like the target key + relation.
    let author = field(s, "Book", "author_id");
    assert_eq!(
        (author.ty.clone(), author.nullable),
        (FieldType::Uuid, false)
    );
    assert!(!has_field(s, "Book", "author"));
    assert_eq!(
        rel(s, "Book", "author"),
        (
            "many_to_one".into(),
            "Author".into(),
            strings(&["author_id"]),
            strings(&["authorId"])
        )
    );
    assert!(field(s, "Book", "publisher_id").nullable);
    assert_eq!(field(s, "Book", "publisher_id").ty, FieldType::Int32);
    // An array of `$ref` with a back-reference is the reverse side.
    assert!(!has_field(s, "Publisher", "books"));
    assert_eq!(kind(s, "Publisher", "Book"), "one_to_many");
    assert!(!has_field(s, "Branch", "copies"));
    // Without a back-reference it is json.
    assert_eq!(field(s, "Book", "coAuthors").ty, FieldType::Json);
    // An existing `<prop>_id` property is the foreign key.
    let member_id = field(s, "Loan", "member_id");
    assert_eq!(member_id.description.as_deref(), Some("Borrower."));
    assert_eq!(
        entity(s, "Loan")
            .fields
            .iter()
            .filter(|f| f.name == "member_id")
            .count(),
        1
    );
    assert_eq!(kind(s, "Loan", "member"), "many_to_one");
    // Keyless targets and nested objects are json.
    assert_eq!(field(s, "Branch", "address").ty, FieldType::Json);
    assert_eq!(field(s, "Branch", "openingHours").ty, FieldType::Json);
    // oneOf mixing types → json + skipped.
    assert_eq!(field(s, "Member", "contact").ty, FieldType::Json);
    let one_of = i
        .skipped
        .iter()
        .find(|sk| sk.what == "oneOf")
        .expect("oneOf reported");
    assert_eq!(
        one_of.location,
        Location::Pointer("/$defs/Member/properties/contact/oneOf".into())
    );
    assert!(skipped_whats(&i).contains(&"patternProperties"));
}

#[test]
fn json_schema_draft_07_root_entity() {
    let i = load("jsonschema/order-draft-07.json");
    let s = &i.schema;
    assert_eq!(
        names(s),
        [
            "Order",
            "PostalAddress",
            "Customer",
            "Product",
            "OrderLine",
            "Refund",
            "Webhook"
        ]
    );
    let order = entity(s, "Order");
    assert_eq!(order.primary_key, ["id"]);
    assert_eq!(
        order.description.as_deref(),
        Some("A customer order as sent by the checkout service.")
    );
    assert_eq!(field(s, "Order", "customer_id").ty, FieldType::Int64);
    assert!(!has_field(s, "Order", "lines"));
    assert_eq!(field(s, "Order", "taxRate").ty, FieldType::Float32);
    assert_eq!(field(s, "Order", "status").default.as_deref(), Some("cart"));
    assert!(field(s, "Order", "coupon").nullable);
    assert_eq!(field(s, "Order", "coupon").max_length, Some(32));
    assert_eq!(field(s, "Order", "flags").ty, FieldType::Json);
    // `$ref: "#"` points at the root entity.
    assert_eq!(field(s, "OrderLine", "order_id").ty, FieldType::Uuid);
    assert_eq!(
        rel(s, "Order", "OrderLine"),
        (
            "one_to_many".into(),
            "OrderLine".into(),
            strings(&["id"]),
            strings(&["order_id"])
        )
    );
    assert_eq!(field(s, "OrderLine", "product_id").ty, FieldType::Text);
    assert_eq!(entity(s, "Product").primary_key, ["sku"]);
    assert_eq!(entity(s, "Customer").primary_key, ["customerId"]);
    // allOf inheritance merges the parts.
    let refund: Vec<&str> = entity(s, "Refund")
        .fields
        .iter()
        .map(|f| f.name.as_str())
        .collect();
    assert_eq!(
        refund,
        [
            "id",
            "order_id",
            "product_id",
            "quantity",
            "unitPrice",
            "discount",
            "reason",
            "refundedAt"
        ]
    );
    assert!(!field(s, "Refund", "reason").nullable);
    // External refs and `if` are reported.
    assert_eq!(field(s, "Webhook", "url").ty, FieldType::Json);
    let whats = skipped_whats(&i);
    assert!(whats.contains(&"$ref https://example.com/schemas/url.json"));
    assert!(whats.contains(&"if"));
}

// ---------------------------------------------------------------------------
// OpenAPI.

fn paths(i: &Import) -> Vec<(String, String, Option<String>, Option<String>)> {
    i.api_paths
        .iter()
        .map(|p| {
            (
                p.method.clone(),
                p.path.clone(),
                p.operation_id.clone(),
                p.entity.clone(),
            )
        })
        .collect()
}

fn p(
    method: &str,
    path: &str,
    op: Option<&str>,
    entity: Option<&str>,
) -> (String, String, Option<String>, Option<String>) {
    (
        method.into(),
        path.into(),
        op.map(Into::into),
        entity.map(Into::into),
    )
}

#[test]
fn openapi_3_0_yaml() {
    let i = load("openapi/petclinic-3.0.yaml");
    let s = &i.schema;
    assert_eq!(
        paths(&i),
        [
            p("GET", "/pets", Some("listPets"), Some("Pet")),
            p("POST", "/pets", Some("createPet"), Some("Pet")),
            p("GET", "/pets/{petId}", Some("showPetById"), Some("Pet")),
            p("PUT", "/pets/{petId}", Some("updatePet"), Some("Pet")),
            p("DELETE", "/pets/{petId}", Some("deletePet"), None),
            p(
                "GET",
                "/pets/{petId}/visits",
                Some("listVisitsOfPet"),
                Some("Visit")
            ),
            p(
                "POST",
                "/pets/{petId}/visits",
                Some("addVisit"),
                Some("Visit")
            ),
            p("GET", "/owners", Some("listOwners"), Some("Owner")),
            p("GET", "/owners/{ownerId}", Some("getOwner"), Some("Owner")),
            p("GET", "/vets", Some("listVets"), Some("Vet")),
            p("GET", "/store/inventory", Some("getInventory"), None),
            p("POST", "/store/orders", Some("placeOrder"), Some("Order")),
            p(
                "GET",
                "/store/orders/{orderId}",
                Some("getOrderById"),
                Some("Order")
            ),
            p(
                "DELETE",
                "/store/orders/{orderId}",
                Some("deleteOrder"),
                None
            ),
            p("GET", "/health", None, None),
        ]
    );
    // 3.0 `nullable: true`.
    assert!(field(s, "Owner", "address").nullable);
    assert!(!field(s, "Owner", "firstName").nullable);
    assert_eq!(field(s, "Owner", "telephone").max_length, Some(10));
    // allOf inheritance: Pet = NewPet + its own properties.
    let pet = entity(s, "Pet");
    assert_eq!(pet.primary_key, ["id"]);
    assert_eq!(
        pet.description.as_deref(),
        Some("A pet known to the clinic.")
    );
    assert!(!field(s, "Pet", "name").nullable);
    assert_eq!(field(s, "Pet", "microchip").ty, FieldType::Uuid);
    assert!(field(s, "Pet", "microchip").nullable);
    assert_eq!(
        enum_values(&field(s, "Pet", "status").ty).1,
        ["available", "pending", "sold", "adopted"]
    );
    assert_eq!(field(s, "Pet", "owner_id").ty, FieldType::Int64);
    assert_eq!(kind(s, "Pet", "owner"), "many_to_one");
    assert_eq!(kind(s, "Owner", "Pet"), "one_to_many");
    assert!(!has_field(s, "Owner", "pets"));
    // `allOf: [$ref]` + `nullable`.
    let vet = field(s, "Visit", "vet_id");
    assert_eq!((vet.ty.clone(), vet.nullable), (FieldType::Int32, true));
    assert!(!field(s, "Visit", "pet_id").nullable);
    assert_eq!(
        field(s, "Visit", "cost").ty,
        FieldType::Decimal {
            precision: None,
            scale: None
        }
    );
    assert_eq!(field(s, "Order", "quantity").default.as_deref(), Some("1"));
    assert_eq!(field(s, "Order", "payment").ty, FieldType::Json);
    // Schemas that are not objects are not entities.
    assert!(s.entity("PetStatus").is_err());
    assert!(s.entity("VisitList").is_err());
    let whats = skipped_whats(&i);
    assert!(whats.contains(&"callbacks of placeOrder"), "{whats:?}");
    assert!(whats.contains(&"oneOf"));
}

#[test]
fn openapi_3_1_json() {
    let i = load("openapi/tasks-3.1.json");
    let s = &i.schema;
    assert_eq!(
        paths(&i),
        [
            p(
                "GET",
                "/workspaces",
                Some("listWorkspaces"),
                Some("Workspace")
            ),
            p(
                "GET",
                "/workspaces/{workspaceId}/projects",
                Some("listProjects"),
                Some("ProjectPage")
            ),
            p(
                "POST",
                "/workspaces/{workspaceId}/projects",
                Some("createProject"),
                Some("Project")
            ),
            p(
                "GET",
                "/projects/{projectId}/tasks",
                Some("listTasks"),
                Some("Task")
            ),
            p(
                "POST",
                "/projects/{projectId}/tasks",
                Some("createTask"),
                Some("Task")
            ),
            p("GET", "/tasks/{taskId}", Some("getTask"), Some("Task")),
            p("PATCH", "/tasks/{taskId}", Some("updateTask"), Some("Task")),
            p("DELETE", "/tasks/{taskId}", Some("deleteTask"), None),
            p(
                "GET",
                "/tasks/{taskId}/comments",
                Some("listComments"),
                Some("Comment")
            ),
            p(
                "POST",
                "/tasks/{taskId}/comments",
                Some("addComment"),
                Some("Comment")
            ),
            p("GET", "/users/me", Some("whoAmI"), Some("User")),
            p("GET", "/labels", Some("listLabels"), Some("Label")),
        ]
    );
    // 3.1 type arrays.
    let avatar = field(s, "User", "avatar");
    assert_eq!(
        (avatar.ty.clone(), avatar.nullable),
        (FieldType::Binary, true)
    );
    assert!(field(s, "User", "lastSeenAt").nullable);
    assert!(!field(s, "User", "email").nullable);
    assert_eq!(field(s, "User", "email").max_length, Some(320));
    assert_eq!(field(s, "Task", "priority").ty, FieldType::Int64);
    assert_eq!(
        field(s, "Task", "watchers").ty,
        FieldType::Array {
            items: Box::new(FieldType::Uuid)
        }
    );
    // Foreign keys, nullable through oneOf/anyOf with null.
    assert!(field(s, "Project", "lead_id").nullable);
    assert!(!field(s, "Project", "workspace_id").nullable);
    assert!(field(s, "Task", "assignee_id").nullable);
    assert_eq!(kind(s, "Task", "assignee"), "many_to_one");
    assert_eq!(kind(s, "User", "Task_by_assignee"), "one_to_many");
    assert_eq!(kind(s, "User", "Task_by_reporter"), "one_to_many");
    // Self-reference: `parent` + `subtasks` (reverse side).
    assert_eq!(kind(s, "Task", "parent"), "many_to_one");
    assert_eq!(kind(s, "Task", "Task_by_parent"), "one_to_many");
    assert!(!has_field(s, "Task", "subtasks"));
    assert_eq!(field(s, "Task", "labels").ty, FieldType::Json);
    assert!(!has_field(s, "Workspace", "projects"));
    assert_eq!(kind(s, "Workspace", "Project"), "one_to_many");
    assert_eq!(
        i.skipped
            .iter()
            .find(|sk| sk.what == "webhooks")
            .map(|sk| &sk.location),
        Some(&Location::Pointer("/webhooks".into()))
    );
}

// ---------------------------------------------------------------------------
// GraphQL.

#[test]
fn graphql_types_keys_and_scalars() {
    let i = load("graphql/community.graphql");
    let s = &i.schema;
    assert_eq!(
        names(s),
        [
            "User",
            "Profile",
            "Question",
            "Answer",
            "Comment",
            "Tag",
            "Badge",
            "Vote",
            "Event",
            "Location",
            "Conversation",
            "Message",
            "Image",
            "FileLink",
            "User_badges",
            "User_following",
            "Question_tags",
            "Event_organizers",
        ]
    );
    let user = entity(s, "User");
    assert_eq!(user.primary_key, ["id"]);
    assert_eq!(
        user.description.as_deref(),
        Some("A member of the community.")
    );
    assert_eq!(field(s, "User", "id").ty, FieldType::Text);
    assert!(field(s, "User", "handle").unique);
    assert!(!field(s, "User", "handle").nullable);
    assert!(field(s, "User", "displayName").nullable);
    assert_eq!(field(s, "User", "reputation").ty, FieldType::Int32);
    assert_eq!(field(s, "User", "reputation").default.as_deref(), Some("1"));
    assert_eq!(
        enum_values(&field(s, "User", "role").ty),
        (Some("Role"), vec!["MEMBER", "MODERATOR", "ADMIN"])
    );
    assert_eq!(field(s, "User", "createdAt").ty, FieldType::TimestampTz);
    // Unknown custom scalar → text + note.
    assert_eq!(field(s, "User", "bio").ty, FieldType::Text);
    assert!(skipped_whats(&i).contains(&"scalar Markdown"));
    // `extend type` adds fields, with their descriptions.
    assert_eq!(
        field(s, "User", "legacyKarma").description.as_deref(),
        Some("Karma from a legacy system.")
    );
    assert_eq!(
        field(s, "Question", "body").description.as_deref(),
        Some("The question body, in Markdown.")
    );
    assert_eq!(field(s, "Question", "views").ty, FieldType::Int64);
    assert_eq!(
        field(s, "Answer", "bounty").ty,
        FieldType::Decimal {
            precision: None,
            scale: None
        }
    );
    assert_eq!(field(s, "Profile", "birthday").ty, FieldType::Date);
    assert_eq!(
        field(s, "Profile", "languages").ty,
        FieldType::Array {
            items: Box::new(FieldType::Text)
        }
    );
    assert_eq!(
        field(s, "Event", "ratings").ty,
        FieldType::Array {
            items: Box::new(FieldType::Array {
                items: Box::new(FieldType::Int32)
            })
        }
    );
    assert_eq!(field(s, "Event", "metadata").ty, FieldType::Json);
    // Keys: `@id`, and a scalar `id` that is not of type ID.
    assert_eq!(entity(s, "Tag").primary_key, ["name"]);
    assert_eq!(entity(s, "Event").primary_key, ["id"]);
    assert_eq!(field(s, "Event", "id").ty, FieldType::Uuid);
    assert!(entity(s, "Image").primary_key.is_empty());
    // Root types, interfaces, unions, inputs are reported, not entities.
    let whats = skipped_whats(&i);
    for what in [
        "type RootQuery",
        "type RootMutation",
        "interface Node",
        "interface Timestamped",
        "union Attachment",
        "input AskQuestionInput",
        "Message.attachment",
    ] {
        assert!(whats.contains(&what), "{what} not in {whats:?}");
    }
    assert!(s.entity("RootQuery").is_err());
    let root = i
        .skipped
        .iter()
        .find(|sk| sk.what == "type RootQuery")
        .map(|sk| &sk.location);
    assert_eq!(
        root,
        Some(&Location::LineCol {
            line: 198,
            column: 1
        })
    );
}

#[test]
fn graphql_relations() {
    let s = load("graphql/community.graphql").schema;
    // `author: User!` → `authorId`, the existing `authorId: ID!` is reused.
    assert_eq!(
        entity(&s, "Question")
            .fields
            .iter()
            .filter(|f| f.name == "authorId")
            .count(),
        1
    );
    assert!(!has_field(&s, "Question", "author"));
    assert_eq!(
        rel(&s, "Question", "author"),
        (
            "many_to_one".into(),
            "User".into(),
            strings(&["authorId"]),
            strings(&["id"])
        )
    );
    // Lists with a back-reference are the reverse side.
    assert!(!has_field(&s, "User", "questions"));
    assert_eq!(kind(&s, "User", "Question"), "one_to_many");
    assert!(!has_field(&s, "Question", "answers"));
    assert_eq!(kind(&s, "Question", "Answer"), "one_to_many");
    // A single field that is not a one-to-one (the other side also lists).
    assert_eq!(
        field(&s, "Question", "acceptedAnswerId").ty,
        FieldType::Text
    );
    assert!(field(&s, "Question", "acceptedAnswerId").nullable);
    assert_eq!(kind(&s, "Question", "acceptedAnswer"), "many_to_one");
    // One-to-one: the non-null side holds a unique key.
    assert!(!has_field(&s, "User", "profileId"));
    assert!(field(&s, "Profile", "userId").unique);
    assert!(!field(&s, "Profile", "userId").nullable);
    assert_eq!(kind(&s, "User", "Profile"), "one_to_one");
    // Two references to the same type.
    assert_eq!(kind(&s, "Message", "sender"), "many_to_one");
    assert_eq!(kind(&s, "Message", "recipient"), "many_to_one");
    assert_eq!(kind(&s, "User", "Message_by_sender"), "one_to_many");
    // Self-reference.
    assert_eq!(kind(&s, "Comment", "inReplyTo"), "many_to_one");
    assert!(!has_field(&s, "Comment", "replies"));
    // Lists on both sides share one junction.
    let junction = entity(&s, "Question_tags");
    assert_eq!(junction.primary_key, ["questionId", "tagId"]);
    assert_eq!(
        kind(&s, "Question", "Tag"),
        "many_to_many via Question_tags"
    );
    assert_eq!(
        rel(&s, "Tag", "Question"),
        (
            "many_to_many via Question_tags".into(),
            "Question".into(),
            strings(&["name"]),
            strings(&["id"])
        )
    );
    assert!(s.entity("Tag_questions").is_err());
    assert_eq!(kind(&s, "User", "Badge"), "many_to_many via User_badges");
    assert_eq!(kind(&s, "User", "Tag"), "many_to_many via User_following");
    // A list without any back-reference gets its own junction.
    assert_eq!(field(&s, "Event_organizers", "eventId").ty, FieldType::Uuid);
    assert_eq!(
        kind(&s, "Event", "User"),
        "many_to_many via Event_organizers"
    );
}

// ---------------------------------------------------------------------------
// Malformed input.

fn err(text: &str, format: Format) -> ImportError {
    match import(text, format) {
        Ok(i) => panic!("expected an error, got {i:#?}"),
        Err(e) => e,
    }
}

fn at(line: usize, column: usize) -> Location {
    Location::LineCol { line, column }
}

fn ptr(p: &str) -> Location {
    Location::Pointer(p.into())
}

#[test]
fn prisma_errors_have_line_and_column() {
    let cases: &[(&str, Location)] = &[
        // Unterminated string.
        (
            "model User {\n  id   Int    @id\n  name String @default(\"anonymous)\n}\n",
            at(3, 24),
        ),
        // Unknown type.
        ("model User {\n  id   Int @id\n  name Strng\n}\n", at(3, 8)),
        // Not a block keyword.
        ("modle User {\n  id Int @id\n}\n", at(1, 1)),
        // Unclosed block: reported at the end of input.
        ("model User {\n  id Int @id\n", at(3, 1)),
        // A field without a type.
        ("model User {\n  id Int @id\n  name\n}\n", at(4, 1)),
        // `@relation` to an unknown field.
        (
            "model User {\n  id Int @id\n  posts Post[]\n}\nmodel Post {\n  id Int @id\n  authorId Int\n  author User @relation(fields: [autorId], references: [id])\n}\n",
            at(8, 15),
        ),
        // Duplicate model.
        (
            "model A {\n  id Int @id\n}\n\nmodel A {\n  id Int @id\n}\n",
            at(5, 7),
        ),
        // `@@id` naming an unknown field.
        ("model A {\n  a Int\n  b Int\n  @@id([a, c])\n}\n", at(4, 3)),
        // Stray character.
        ("model A {\n  id Int @id ;\n}\n", at(2, 14)),
    ];
    for (text, loc) in cases {
        let e = err(text, Format::Prisma);
        assert_eq!(&e.location, loc, "{text:?}: {e}");
    }
}

#[test]
fn json_schema_errors_have_pointers() {
    let cases: &[(&str, Location)] = &[
        (
            "{\n  \"$defs\": {\n    \"A\": { \"type\": \"object\", }\n  }\n}",
            at(3, 30),
        ),
        ("[1, 2]", ptr("")),
        (
            r#"{"$defs": {"A": {"type": "object", "properties": []}}}"#,
            ptr("/$defs/A/properties"),
        ),
        (
            r##"{"$defs": {"A": {"properties": {"b": {"$ref": "#/$defs/Missing"}}}}}"##,
            ptr("/$defs/A/properties/b/$ref"),
        ),
        (
            r#"{"$defs": {"A": {"properties": {"name": {"type": "strin"}}}}}"#,
            ptr("/$defs/A/properties/name/type"),
        ),
        (
            r#"{"$defs": {"A": {"properties": {"x": {"type": "string"}}, "required": "x"}}}"#,
            ptr("/$defs/A/required"),
        ),
        (
            r#"{"definitions": {"A/B": {"properties": {"x": {"enum": "a"}}}}}"#,
            ptr("/definitions/A~1B/properties/x/enum"),
        ),
        (r#"{"$defs": 3}"#, ptr("/$defs")),
    ];
    for (text, loc) in cases {
        let e = err(text, Format::JsonSchema);
        assert_eq!(&e.location, loc, "{text}: {e}");
    }
}

#[test]
fn openapi_errors_have_pointers_or_positions() {
    let cases: &[(&str, Location)] = &[
        // YAML syntax: a tab-indented / badly indented mapping.
        (
            "openapi: 3.0.0\ninfo:\n  title: x\n   version: 1\npaths: {}\n",
            at(4, 11),
        ),
        // JSON syntax.
        ("{\"openapi\": \"3.1.0\",\n \"paths\": {]\n}", at(2, 12)),
        ("info:\n  title: x\n", ptr("")),
        (
            "swagger: '2.0'\ninfo: {title: x, version: '1'}\n",
            ptr("/swagger"),
        ),
        ("openapi: 4.0.0\n", ptr("/openapi")),
        ("openapi: 3.0.0\npaths: []\n", ptr("/paths")),
        (
            "openapi: 3.0.0\npaths:\n  /pets:\n    get: 42\n",
            ptr("/paths/~1pets/get"),
        ),
        (
            "openapi: 3.1.0\ncomponents:\n  schemas:\n    Pet:\n      properties:\n        name: {type: [string, 3]}\n",
            ptr("/components/schemas/Pet/properties/name/type/1"),
        ),
        (
            "openapi: 3.1.0\ncomponents:\n  schemas:\n    Pet:\n      properties:\n        owner: {$ref: '#/components/schemas/Owner'}\n",
            ptr("/components/schemas/Pet/properties/owner/$ref"),
        ),
        (
            "openapi: 3.0.0\npaths:\n  /a:\n    get:\n      operationId: [x]\n",
            ptr("/paths/~1a/get/operationId"),
        ),
    ];
    for (text, loc) in cases {
        let e = err(text, Format::OpenApi);
        assert_eq!(&e.location, loc, "{text}: {e}");
    }
}

fn graphql(text: &str) -> Import {
    let i = import(text, Format::Graphql).unwrap_or_else(|e| panic!("{e}"));
    if let Err(e) = i.schema.check() {
        panic!("inconsistent metadata: {e:?}");
    }
    i
}

#[test]
fn graphql_field_with_arguments_is_a_lookup_not_a_foreign_key() {
    let i = graphql(
        "type Owner {\n  id: ID!\n  repository(name: String!): Repository\n  repositories: [Repository!]!\n}\n\
         type Repository {\n  id: ID!\n  owner: Owner!\n}\n",
    );
    let s = &i.schema;
    assert!(
        !has_field(s, "Owner", "repositoryId"),
        "no fake foreign key"
    );
    assert!(skipped_whats(&i).contains(&"Owner.repository"));
    // The child's foreign key is not unique, and the relation is to-many.
    assert!(!field(s, "Repository", "ownerId").unique);
    assert_eq!(kind(s, "Repository", "owner"), "many_to_one");
    assert_eq!(kind(s, "Owner", "Repository"), "one_to_many");
}

#[test]
fn graphql_relay_connections_are_to_many() {
    let i = graphql(
        "type PageInfo {\n  hasNextPage: Boolean!\n  endCursor: String\n}\n\
         type Owner {\n  id: ID!\n  issues(first: Int, after: String): IssueConnection!\n  labels(first: Int): LabelConnection\n}\n\
         type IssueConnection {\n  edges: [IssueEdge]\n  pageInfo: PageInfo!\n  totalCount: Int!\n}\n\
         type IssueEdge {\n  cursor: String!\n  node: Issue\n}\n\
         type Issue {\n  id: ID!\n  author: Owner\n}\n\
         type LabelConnection {\n  nodes: [Label]\n  pageInfo: PageInfo!\n}\n\
         type Label {\n  id: ID!\n  name: String!\n}\n",
    );
    let s = &i.schema;
    // Back-pointer on the node: one-to-many.
    assert_eq!(kind(s, "Owner", "Issue"), "one_to_many");
    assert_eq!(kind(s, "Issue", "author"), "many_to_one");
    // No back-pointer: a junction, many-to-many.
    assert_eq!(kind(s, "Owner", "Label"), "many_to_many via Owner_labels");
    // The wrappers are not entities.
    assert_eq!(names(s), ["Owner", "Issue", "Label", "Owner_labels"]);
    let skipped = skipped_whats(&i);
    for what in [
        "type IssueConnection",
        "type IssueEdge",
        "type LabelConnection",
        "type PageInfo",
    ] {
        assert!(skipped.contains(&what), "{what} not in {skipped:?}");
    }
}

#[test]
fn graphql_duplicate_field_error_names_both_positions() {
    let e = err(
        "type A {\n  id: ID\n  name: String\n  name: String\n}\n",
        Format::Graphql,
    );
    assert_eq!(e.location, at(4, 3));
    assert!(e.message.contains("line 3, column 3"), "{e}");
    let e = err(
        "type A {\n  id: ID\n}\nextend type A {\n  id: String\n}\n",
        Format::Graphql,
    );
    assert_eq!(e.location, at(5, 3));
    assert!(e.message.contains("line 2, column 3"), "{e}");
}

#[test]
fn graphql_errors_have_line_and_column() {
    let cases: &[(&str, Location)] = &[
        // Missing `:`.
        ("type User {\n  id: ID!\n  name String\n}\n", at(3, 8)),
        // Unterminated block string.
        ("\"\"\"\nA user.\ntype User {\n  id: ID!\n}\n", at(1, 1)),
        // Unclosed type: end of input.
        ("type User {\n  id: ID!\n", at(3, 1)),
        // A query is not a schema.
        ("type A { id: ID }\nquery { a { id } }\n", at(2, 1)),
        ("type A { id: ID }\n{ a { id } }\n", at(2, 1)),
        // Duplicate type.
        ("type A { id: ID }\n\ntype A { id: ID }\n", at(3, 6)),
        // Duplicate field.
        ("type A {\n  id: ID\n  id: String\n}\n", at(3, 3)),
        // Bad character and bad escape.
        ("type A {\n  id: ID ~\n}\n", at(2, 10)),
        ("type A @d(x: \"a\\qb\") { id: ID }\n", at(1, 16)),
        // Unclosed list type.
        ("type A {\n  ids: [ID!\n}\n", at(3, 1)),
        // Enum value `true`.
        ("enum B {\n  true\n}\n", at(2, 3)),
    ];
    for (text, loc) in cases {
        let e = err(text, Format::Graphql);
        assert_eq!(&e.location, loc, "{text:?}: {e}");
    }
}

// ---------------------------------------------------------------------------
// Robustness: never panic.

/// Deterministic xorshift generator.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

fn all_formats() -> [Format; 4] {
    [
        Format::Prisma,
        Format::JsonSchema,
        Format::OpenApi,
        Format::Graphql,
    ]
}

/// Import every prefix (at char boundaries) of a realistic input.
fn every_prefix(path: &str) {
    let text = input(path);
    let format = format_of(path);
    for (n, _) in text.char_indices() {
        let _ = import(&text[..n], format);
    }
    assert!(import(&text, format).is_ok());
}

#[test]
fn every_prefix_prisma_shop() {
    every_prefix("prisma/shop.prisma");
}

#[test]
fn every_prefix_prisma_mongo() {
    every_prefix("prisma/mongo_catalog.prisma");
}

#[test]
fn every_prefix_json_schema_2020_12() {
    every_prefix("jsonschema/library-2020-12.json");
}

#[test]
fn every_prefix_json_schema_draft_07() {
    every_prefix("jsonschema/order-draft-07.json");
}

#[test]
fn every_prefix_openapi_yaml() {
    every_prefix("openapi/petclinic-3.0.yaml");
}

#[test]
fn every_prefix_openapi_json() {
    every_prefix("openapi/tasks-3.1.json");
}

#[test]
fn every_prefix_graphql() {
    every_prefix("graphql/community.graphql");
}

#[test]
fn mutated_inputs_and_garbage_do_not_panic() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let alphabet: Vec<char> =
        "{}[]()<>:;,.=@!?|&$#\"'`\\/ \n\t-_0123456789aZ~%*+ëλ€😀\u{0}\u{feff}"
            .chars()
            .collect();
    for path in INPUTS {
        let text = input(path);
        let format = format_of(path);
        let chars: Vec<char> = text.chars().collect();
        for _ in 0..300 {
            let mut c = chars.clone();
            for _ in 0..1 + rng.below(8) {
                let pos = rng.below(c.len());
                match rng.below(4) {
                    0 => {
                        if pos < c.len() {
                            c.remove(pos);
                        }
                    }
                    1 => c.insert(pos, alphabet[rng.below(alphabet.len())]),
                    2 => {
                        if pos < c.len() {
                            c[pos] = alphabet[rng.below(alphabet.len())];
                        }
                    }
                    _ => {
                        // Duplicate a slice (repeats fields, types, keys).
                        let len = rng.below(200).min(c.len() - pos.min(c.len()));
                        let slice: Vec<char> = c[pos..pos + len].to_vec();
                        let at = rng.below(c.len());
                        for (k, ch) in slice.into_iter().enumerate() {
                            c.insert(at + k, ch);
                        }
                    }
                }
            }
            let mutated: String = c.into_iter().collect();
            let _ = import(&mutated, format);
        }
    }
    for _ in 0..2000 {
        let len = rng.below(200);
        let garbage: String = (0..len)
            .map(|_| alphabet[rng.below(alphabet.len())])
            .collect();
        for format in all_formats() {
            let _ = import(&garbage, format);
        }
    }
}

#[test]
fn pathological_inputs_are_errors_not_crashes() {
    let deep_json = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let deep_obj = "{\"a\":".repeat(50_000);
    let deep_yaml = "- ".repeat(50_000);
    let deep_list_type = format!(
        "type A {{ a: {}Int{} }}",
        "[".repeat(50_000),
        "]".repeat(50_000)
    );
    let deep_prisma = format!(
        "model A {{\n  id Int @id @default({}1{})\n}}",
        "[".repeat(50_000),
        "]".repeat(50_000)
    );
    let deep_gql_value = format!(
        "type A @d(x: {}1{}) {{ id: ID }}",
        "[".repeat(50_000),
        "]".repeat(50_000)
    );
    // A self-referencing `$ref` chain and a reference cycle.
    let ref_cycle = r##"{"$defs": {"A": {"properties": {"x": {"$ref": "#/$defs/B"}}}, "B": {"$ref": "#/$defs/C"}, "C": {"$ref": "#/$defs/B"}}}"##;
    let self_ref =
        r##"{"$defs": {"A": {"properties": {"x": {"$ref": "#/$defs/A/properties/x"}}}}}"##;
    let all_of_cycle = r##"{"$defs": {"A": {"allOf": [{"$ref": "#/$defs/A"}], "properties": {"id": {"type": "integer"}}}}}"##;
    let yaml_bomb = "a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]\ne: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]\nf: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]\ng: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f]\nh: &h [*g, *g, *g, *g, *g, *g, *g, *g, *g]\ni: &i [*h, *h, *h, *h, *h, *h, *h, *h, *h]\nopenapi: 3.0.0\n";
    let cases: Vec<(&str, Format)> = vec![
        (&deep_json, Format::JsonSchema),
        (&deep_json, Format::OpenApi),
        (&deep_obj, Format::JsonSchema),
        (&deep_yaml, Format::OpenApi),
        (&deep_list_type, Format::Graphql),
        (&deep_prisma, Format::Prisma),
        (&deep_gql_value, Format::Graphql),
        (yaml_bomb, Format::OpenApi),
    ];
    for (text, format) in cases {
        assert!(
            import(text, format).is_err(),
            "{format:?} accepted {}",
            &text[..40]
        );
    }
    for text in [ref_cycle, self_ref, all_of_cycle] {
        let _ = import(text, Format::JsonSchema);
    }
}

#[test]
fn format_dispatch_by_file_name() {
    for path in INPUTS {
        let by_name = Format::from_path(path).expect("known extension");
        assert_eq!(by_name, format_of(path), "{path}");
    }
}

#[test]
fn error_messages_are_readable() {
    let e = err(
        "openapi: 3.0.0\ninfo:\n  title: x\n   version: 1\n",
        Format::OpenApi,
    );
    let msg = e.to_string();
    assert!(msg.starts_with("line 4, column 11: YAML: "), "{msg}");
    assert!(!msg.contains("at line"), "{msg}");
    let e = err("{\"a\": }", Format::JsonSchema);
    assert_eq!(e.to_string(), "line 1, column 7: expected value");
    let e = err(
        r#"{"$defs": {"A": {"properties": {"n": {"type": "strin"}}}}}"#,
        Format::JsonSchema,
    );
    assert_eq!(
        e.to_string(),
        "/$defs/A/properties/n/type: unknown type `strin`"
    );
    let e = err("model A {\n  id Int @id\n  b Strng\n}\n", Format::Prisma);
    assert_eq!(
        e.to_string(),
        "line 3, column 5: unknown type `Strng` (not a scalar, enum, model or composite type)"
    );
    let e = err("type A {\n  id: ID!\n  name String\n}\n", Format::Graphql);
    assert_eq!(
        e.to_string(),
        "line 3, column 8: expected `:`, found `String`"
    );
}

#[test]
fn graphql_list_pairs_and_self_lists() {
    let sdl = r#"
        type User {
          id: ID!
          followers: [User!]!
          following: [User!]!
          friends: [User!]!
          team: Team
          teams: [Team!]!
        }
        type Team {
          id: ID!
          members: [User!]!
          captain: User!
        }
    "#;
    let i = import(sdl, Format::Graphql).unwrap();
    let s = &i.schema;
    s.check().unwrap();
    // Two self lists share one junction; a third gets its own.
    assert_eq!(names(s), ["User", "Team", "User_followers", "User_friends"]);
    assert_eq!(
        entity(s, "User_followers").primary_key,
        ["userId", "followingId"]
    );
    assert_eq!(
        entity(s, "User_friends").primary_key,
        ["userId", "friendsId"]
    );
    // `Team.members` is the reverse of `User.team`; `User.teams` the
    // reverse of `Team.captain`: no junction for either.
    assert!(has_field(s, "User", "teamId"));
    assert!(has_field(s, "Team", "captainId"));
    assert!(!field(s, "Team", "captainId").unique);
    assert_eq!(kind(s, "Team", "User"), "one_to_many");
    assert_eq!(kind(s, "User", "Team"), "one_to_many");
}

/// A binary field of our own published schemas (read and write: bytes as
/// PostgreSQL's `\x` hex text) imports as binary again.
#[test]
fn json_schema_binary_of_our_own_schemas() {
    use baas_core::json_schema::{SchemaMode, entity_json_schema};
    let e = Entity::new(
        "blob",
        vec![
            Field::new("id", FieldType::Int32),
            Field::new("bytes", FieldType::Binary).nullable(),
        ],
    )
    .with_primary_key(["id"]);
    for mode in [SchemaMode::Read, SchemaMode::Insert] {
        let mut doc = entity_json_schema(&e, mode);
        doc["title"] = "blob".into();
        let i = import(&doc.to_string(), Format::JsonSchema)
            .unwrap_or_else(|err| panic!("{doc}: {err}"));
        let blob = &i.schema.entities[0];
        assert_eq!(
            blob.field("bytes").map(|f| &f.ty).ok(),
            Some(&FieldType::Binary),
            "{doc}"
        );
    }
}
