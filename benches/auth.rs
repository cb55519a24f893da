//! What auth adds to a request: verifying the caller's token, and turning
//! the tenant's rules into the grant of one entity (issue "Auth": target
//! ≤ 20 µs for both together).
//!
//! `cargo bench -p baas-benches --bench auth`

use std::sync::Arc;

use baas_auth::{Authenticator, KeyRing, KeyRole, RulesPolicy};
use baas_core::access::Action;
use baas_core::metadata::{Entity, Field, FieldType, SchemaMetadata};
use baas_engine::{AccessRequest, Policy, Principal, Resource, SecretKey};
use baas_rest::Authenticate;
use criterion::{Criterion, criterion_group, criterion_main};
use serde_json::json;

fn schema() -> SchemaMetadata {
    let note = Entity::new(
        "note",
        vec![
            Field::new("id", FieldType::Int64),
            Field::new("owner_id", FieldType::Text),
            Field::new("body", FieldType::Text),
        ],
    )
    .with_primary_key(["id"]);
    let mut s = SchemaMetadata::new(vec![note]);
    s.rules = serde_json::from_value(json!([
        {"entity": "note", "action": ["read", "insert", "update", "delete"], "role": ["authenticated"],
         "filter": "owner_id=eq.auth.uid()", "preset": {"owner_id": "auth.uid()"}}
    ]))
    .expect("rules");
    s
}

/// The question the engine asks for a read of `note`.
fn read_note<'a>(
    principal: &'a Principal,
    entity: &'a Entity,
    schema: &'a SchemaMetadata,
) -> AccessRequest<'a> {
    AccessRequest {
        principal,
        tenant: "t",
        resource: Resource::Entity(entity),
        action: Action::Read,
        schema,
        version: 1,
    }
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    let ring = Arc::new(KeyRing::new(SecretKey::from_bytes([9; 32]), None));
    let keys = ring.tenant("t");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs();
    let mut claims = serde_json::Map::new();
    for (k, v) in [
        ("sub", json!("8d3c9d5e-6b1f-4f7e-9d55-0c6f3b1a2b3c")),
        ("role", json!("authenticated")),
        ("aud", json!("authenticated")),
        ("exp", json!(now + 3600)),
        ("iat", json!(now)),
        ("session_id", json!("5b0f2c1e-0000-4000-8000-000000000001")),
        ("email", json!("ada@example.com")),
        (
            "app_metadata",
            json!({"provider": "email", "providers": ["email"]}),
        ),
        ("user_metadata", json!({})),
        ("is_anonymous", json!(false)),
    ] {
        claims.insert(k.into(), v);
    }
    let user_token = keys.sign_access_token(claims);
    let anon = keys.api_key(KeyRole::Anon);
    let auth = Authenticator::new(ring.clone(), None);
    let headers = vec![
        ("apikey".to_string(), anon.clone()),
        ("authorization".to_string(), format!("Bearer {user_token}")),
    ];
    let anon_only = vec![("apikey".to_string(), anon)];
    let policy = RulesPolicy::closed();
    let schema = schema();
    let entity = schema.entity("note").expect("note").clone();

    let mut g = c.benchmark_group("auth");
    // A token's first request pays the signature check; later ones hit the
    // authenticator's cache of verified tokens.
    g.bench_function("verify: user token, first sight (ES256, uncached)", |b| {
        b.iter(|| keys.verify(&user_token).expect("verify"));
    });
    g.bench_function("principal: anon key (HS256)", |b| {
        b.iter(|| {
            rt.block_on(auth.principal(Some("t"), &anon_only))
                .expect("anon")
        });
    });
    g.bench_function("principal: user token (ES256) + anon key", |b| {
        b.iter(|| {
            rt.block_on(auth.principal(Some("t"), &headers))
                .expect("user")
        });
    });
    let principal = rt
        .block_on(auth.principal(Some("t"), &headers))
        .expect("user");
    g.bench_function("grant: owner rule on note (compiled, cached)", |b| {
        b.iter(|| {
            rt.block_on(policy.grant(&read_note(&principal, &entity, &schema)))
                .expect("grant")
        });
    });
    g.bench_function("principal + grant (one request)", |b| {
        b.iter(|| {
            let p = rt
                .block_on(auth.principal(Some("t"), &headers))
                .expect("user");
            rt.block_on(policy.grant(&read_note(&p, &entity, &schema)))
                .expect("grant")
        });
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
