//! The engine (`Baas`) on real SQLite databases: tenant cache, eviction,
//! metadata versions, policies, hooks, change events and body validation.

#![cfg(feature = "sqlite")]

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use mini_baas::engine::{
    AccessRequest, Action, Baas, Connector, EngineConfig, Grant, HookContext, MemoryStore,
    MetadataStore, Policy, Principal, TenantConfig, TenantMode, WriteHook, WriteOp,
};
use mini_baas::ir::{Filter, Insert, Query, Update};
use mini_baas::{DatabaseAdapter, Error, Result, SchemaMetadata, UrlConnector};
use serde_json::json;

static N: AtomicUsize = AtomicUsize::new(0);

/// A fresh SQLite file with a `note` table and two rows.
async fn note_db() -> String {
    let n = N.fetch_add(1, Ordering::Relaxed);
    let path: PathBuf =
        std::env::temp_dir().join(format!("baas-engine-{}-{n}.db", std::process::id()));
    let _ = std::fs::remove_file(&path);
    let url = format!("sqlite://{}", path.display());
    let db = mini_baas::sqlite::connect(mini_baas::sqlite::SqliteConfig::new(&url))
        .await
        .unwrap();
    db.backend()
        .execute_script(
            "CREATE TABLE note (id INTEGER PRIMARY KEY, owner TEXT NOT NULL, body VARCHAR(20) NOT NULL, stars INTEGER);
             INSERT INTO note (owner, body, stars) VALUES ('ann', 'hello', 1), ('bob', 'world', 2);",
        )
        .await
        .unwrap();
    url
}

/// Counts connections, delegating to the URL connector.
#[derive(Default)]
struct Counting(AtomicUsize);

#[async_trait]
impl Connector for Counting {
    async fn connect(&self, t: &TenantConfig) -> Result<Arc<dyn DatabaseAdapter>> {
        self.0.fetch_add(1, Ordering::SeqCst);
        UrlConnector.connect(t).await
    }
}

fn principal() -> Principal {
    Principal::anonymous()
}

async fn engine_with(config: EngineConfig) -> (Baas, Arc<Counting>, Arc<MemoryStore>) {
    let store = Arc::new(MemoryStore::new());
    let counting = Arc::new(Counting::default());
    let baas = Baas::builder(store.clone(), counting.clone())
        .config(config)
        .build();
    (baas, counting, store)
}

async fn register(baas: &Baas, id: &str) {
    let url = note_db().await;
    baas.register_tenant(TenantConfig::new(id, url, TenantMode::Introspected), None)
        .await
        .unwrap();
}

#[tokio::test]
async fn one_adapter_per_tenant_reused() {
    let (baas, counting, store) = engine_with(EngineConfig::default()).await;
    let url = note_db().await;
    // Stored but not yet loaded: the first request connects and introspects.
    store
        .put_tenant(&TenantConfig::new("acme", url, TenantMode::Introspected))
        .await
        .unwrap();
    let reads = (0..20).map(|_| async {
        let t = baas.tenant("acme").await.unwrap();
        baas.find(&principal(), &t, Query::new("note"))
            .await
            .unwrap()
    });
    let results = futures::future::join_all(reads).await;
    assert!(results.iter().all(|r| r.rows.len() == 2));
    assert_eq!(
        counting.0.load(Ordering::SeqCst),
        1,
        "one connection attempt for 20 concurrent first requests"
    );
    let v = store.schema("acme").await.unwrap().unwrap();
    assert_eq!(v.version, 1);
    assert_eq!(v.value.entities[0].name, "note");
}

#[tokio::test]
async fn cache_is_bounded_and_evicts_idle_tenants() {
    let (baas, counting, _) = engine_with(EngineConfig {
        max_cached_tenants: 2,
        idle_timeout: Duration::from_millis(300),
        ..EngineConfig::default()
    })
    .await;
    for id in ["a", "b", "c"] {
        register(&baas, id).await;
    }
    assert_eq!(counting.0.load(Ordering::SeqCst), 3);
    // Bounded: "a", least recently used, went first.
    assert_eq!(baas.cached_tenants(), vec!["b", "c"]);
    baas.tenant("a").await.unwrap();
    assert_eq!(
        counting.0.load(Ordering::SeqCst),
        4,
        "evicted tenant reconnects"
    );
    assert_eq!(baas.cached_tenants(), vec!["a", "c"]);
    // Reuse: no new connection.
    baas.tenant("a").await.unwrap();
    assert_eq!(counting.0.load(Ordering::SeqCst), 4);
    // Idle: after the timeout the next access sweeps the others out.
    tokio::time::sleep(Duration::from_millis(400)).await;
    baas.tenant("a").await.unwrap();
    assert_eq!(baas.cached_tenants(), vec!["a"]);
}

#[tokio::test]
async fn unknown_tenant_and_failed_connection() {
    let (baas, counting, store) = engine_with(EngineConfig::default()).await;
    let err = baas.tenant("ghost").await.unwrap_err();
    assert_eq!(err.code(), "not_found");
    assert!(err.to_string().contains("tenant `ghost`"), "{err}");
    store
        .put_tenant(&TenantConfig::new(
            "down",
            "oracle://nowhere",
            TenantMode::Introspected,
        ))
        .await
        .unwrap();
    assert!(baas.tenant("down").await.is_err());
    assert!(baas.tenant("down").await.is_err());
    assert_eq!(
        counting.0.load(Ordering::SeqCst),
        2,
        "a failed load is retried, not cached"
    );
    assert!(baas.cached_tenants().is_empty());
    let bad = TenantConfig::new("_admin", "sqlite::memory:", TenantMode::Managed);
    assert_eq!(
        baas.register_tenant(bad, None).await.unwrap_err().code(),
        "validation"
    );
}

#[tokio::test]
async fn metadata_versions_conflict() {
    let store = MemoryStore::new();
    let s = SchemaMetadata::default();
    assert_eq!(store.put_schema("t", &s, None).await.unwrap(), 1);
    assert_eq!(store.put_schema("t", &s, Some(1)).await.unwrap(), 2);
    let stale = store.put_schema("t", &s, Some(1)).await.unwrap_err();
    assert_eq!(stale.code(), "conflict");
    assert!(stale.to_string().contains("latest is 2"), "{stale}");
    assert_eq!(store.history("t").len(), 2);
}

#[tokio::test]
async fn reintrospection_serves_new_tables_without_restart() {
    let (baas, counting, store) = engine_with(EngineConfig::default()).await;
    let url = note_db().await;
    let t = baas
        .register_tenant(
            TenantConfig::new("acme", url.clone(), TenantMode::Introspected),
            None,
        )
        .await
        .unwrap();
    assert!(t.target("tag").is_err());
    let db = mini_baas::sqlite::connect(mini_baas::sqlite::SqliteConfig::new(&url))
        .await
        .unwrap();
    db.backend()
        .execute_script("CREATE TABLE tag (id INTEGER PRIMARY KEY, name TEXT)")
        .await
        .unwrap();
    let t2 = baas.reintrospect("acme").await.unwrap();
    assert_eq!(t2.version(), 2);
    assert!(t2.target("tag").is_ok());
    assert!(Arc::ptr_eq(t.adapter(), t2.adapter()), "the pool is kept");
    assert_eq!(counting.0.load(Ordering::SeqCst), 1);
    assert_eq!(store.history("acme").len(), 2);
    // Introspected tenants are never altered by the engine.
    let err = baas
        .create_entity("acme", mini_baas::Entity::new("x", vec![]))
        .await
        .unwrap_err();
    assert_eq!(err.code(), "forbidden");
}

/// Readers see only their own notes; writers may only touch their own.
struct OwnerPolicy;

#[async_trait]
impl Policy for OwnerPolicy {
    async fn grant(&self, r: &AccessRequest<'_>) -> Result<Grant> {
        match (&r.principal.subject, r.action) {
            (_, Action::Read) => Ok(Grant::all()),
            (None, _) => Err(Error::Forbidden("sign in to write".into())),
            (Some(_), Action::Insert) => Ok(Grant::all()),
            (Some(who), _) => Ok(Grant::all().rows(Filter::eq("owner", who.as_str()))),
        }
    }
}

/// Stamps the owner on inserts.
struct StampOwner;

#[async_trait]
impl WriteHook for StampOwner {
    async fn before(&self, ctx: &HookContext<'_>, op: &mut WriteOp) -> Result<()> {
        if let (WriteOp::Insert(i), Some(who)) = (op, &ctx.principal.subject) {
            for row in &mut i.rows {
                row.insert("owner".into(), json!(who));
            }
        }
        Ok(())
    }
}

#[tokio::test]
async fn policy_hooks_and_events() {
    let store = Arc::new(MemoryStore::new());
    let baas = Baas::builder(store, Arc::new(UrlConnector))
        .policy(Arc::new(OwnerPolicy))
        .hook(Arc::new(StampOwner))
        .build();
    register(&baas, "acme").await;
    let t = baas.tenant("acme").await.unwrap();
    let mut events = baas.subscribe();
    let ann = Principal::new("ann", []);

    // Anonymous writes are refused, nothing written.
    let row = json!({"body": "x"}).as_object().unwrap().clone();
    let insert = Insert {
        entity: "note".into(),
        rows: vec![row],
        on_conflict: None,
        returning: Some(vec![]),
    };
    let err = baas
        .write(&Principal::anonymous(), &t, WriteOp::Insert(insert.clone()))
        .await
        .unwrap_err();
    assert_eq!(err.code(), "forbidden");

    // The hook stamps the owner; the event carries the row.
    let r = baas.write(&ann, &t, WriteOp::Insert(insert)).await.unwrap();
    assert_eq!(r.rows[0]["owner"], "ann");
    let ev = events.try_recv().unwrap();
    assert_eq!(
        (ev.entity.as_str(), ev.action, ev.affected),
        ("note", Action::Insert, 1)
    );
    assert_eq!(ev.rows[0]["body"], "x");

    // The policy narrows an update to ann's rows although she asked for all.
    let set = json!({"stars": 5}).as_object().unwrap().clone();
    let upd = Update {
        entity: "note".into(),
        filter: Filter::and(vec![]),
        set,
        returning: None,
        max_rows: None,
    };
    let r = baas.write(&ann, &t, WriteOp::Update(upd)).await.unwrap();
    assert_eq!(r.affected, 2, "ann owns 'hello' and 'x'");
    let all = baas
        .find(
            &Principal::anonymous(),
            &t,
            Query::new("note").filter(Filter::eq("stars", 5)),
        )
        .await
        .unwrap();
    assert!(all.rows.iter().all(|r| r["owner"] == "ann"));
    assert_eq!(all.rows.len(), 2);
}

#[tokio::test]
async fn bodies_are_validated_with_pointers() {
    let (baas, _, _) = engine_with(EngineConfig::default()).await;
    register(&baas, "acme").await;
    let t = baas.tenant("acme").await.unwrap();
    let rows = vec![
        json!({"owner": "a", "body": "ok"})
            .as_object()
            .unwrap()
            .clone(),
        json!({"owner": "a", "nope": 1})
            .as_object()
            .unwrap()
            .clone(),
    ];
    let insert = Insert {
        entity: "note".into(),
        rows,
        on_conflict: None,
        returning: None,
    };
    let err = baas
        .write(&principal(), &t, WriteOp::Insert(insert))
        .await
        .unwrap_err();
    let Error::Validation { violations } = &err else {
        panic!("{err}")
    };
    let pointers: Vec<&str> = violations.iter().map(|v| v.pointer.as_str()).collect();
    assert!(
        pointers.iter().all(|p| p.starts_with("/rows/1")),
        "{pointers:?}"
    );
    // Nothing was written: the first, valid row is not there either.
    let n = baas.count(&principal(), &t, "note", None).await.unwrap();
    assert_eq!(n, 2);
}

#[tokio::test]
async fn adapter_store_persists_versions() {
    use mini_baas::engine::AdapterStore;
    let n = N.fetch_add(1, Ordering::Relaxed);
    let path = std::env::temp_dir().join(format!("baas-store-{}-{n}.db", std::process::id()));
    let _ = std::fs::remove_file(&path);
    let url = format!("sqlite://{}", path.display());
    let schema = SchemaMetadata::new(vec![
        mini_baas::Entity::new(
            "a",
            vec![mini_baas::Field::new("id", mini_baas::FieldType::Int64)],
        )
        .with_primary_key(["id"]),
    ]);
    {
        let store = AdapterStore::open(mini_baas::connect(&url).await.unwrap())
            .await
            .unwrap();
        let mut t = TenantConfig::new("acme", "postgres://u:pw@h/db", TenantMode::Managed);
        store.put_tenant(&t).await.unwrap();
        t.limits.max_connections = 3;
        store.put_tenant(&t).await.unwrap(); // upsert, not a conflict
        assert_eq!(
            store
                .put_schema("acme", &SchemaMetadata::default(), None)
                .await
                .unwrap(),
            1
        );
        assert_eq!(store.put_schema("acme", &schema, Some(1)).await.unwrap(), 2);
        let stale = store
            .put_schema("acme", &schema, Some(1))
            .await
            .unwrap_err();
        assert_eq!(stale.code(), "conflict");
        let bad = TenantConfig::new("no/slash", "sqlite::memory:", TenantMode::Managed);
        assert_eq!(
            store.put_tenant(&bad).await.unwrap_err().code(),
            "validation"
        );
    }
    // Reopened: the tables exist already and everything is still there.
    let store = AdapterStore::open(mini_baas::connect(&url).await.unwrap())
        .await
        .unwrap();
    let tenants = store.tenants().await.unwrap();
    assert_eq!(tenants.len(), 1);
    assert_eq!(tenants[0].limits.max_connections, 3);
    let latest = store.schema("acme").await.unwrap().unwrap();
    assert_eq!((latest.version, latest.value), (2, schema));
    assert!(store.schema("other").await.unwrap().is_none());
    let _ = std::fs::remove_file(&path);
}

/// Counts the `before` calls it sees.
#[derive(Default)]
struct CountingHook(AtomicUsize);

#[async_trait]
impl WriteHook for CountingHook {
    async fn before(&self, _: &HookContext<'_>, _: &mut WriteOp) -> Result<()> {
        self.0.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }
}

/// A write's plan has no side effects: no hook runs for it, no change is
/// published, nothing is written (SQLite's `EXPLAIN QUERY PLAN` of an
/// insert of values: nothing scanned; `analyze`, which SQLite has not,
/// `Unsupported`); another caller than the service role is refused before
/// anything.
#[tokio::test]
async fn plans_of_writes_run_no_hook() {
    let store = Arc::new(MemoryStore::new());
    let hook = Arc::new(CountingHook::default());
    let baas = Baas::builder(store, Arc::new(UrlConnector))
        .hook(hook.clone())
        .build();
    register(&baas, "acme").await;
    let t = baas.tenant("acme").await.unwrap();
    let mut events = baas.subscribe();
    let insert = WriteOp::Insert(Insert {
        entity: "note".into(),
        rows: vec![
            json!({"owner": "ann", "body": "planned"})
                .as_object()
                .unwrap()
                .clone(),
        ],
        on_conflict: None,
        returning: None,
    });
    let mut analyze = mini_baas::Explain::default();
    analyze.options.analyze = true;
    let service = Principal::new("svc", ["service_role".to_string()]);
    for explain in [mini_baas::Explain::default(), analyze] {
        let plan = baas
            .explain_write(&service, &t, insert.clone(), explain)
            .await;
        if explain.options.analyze {
            assert!(matches!(plan, Err(Error::Unsupported { .. })), "{plan:?}");
        } else {
            assert_eq!(plan.unwrap(), serde_json::json!({"query_plan": []}));
        }
        let err = baas
            .explain_write(&principal(), &t, insert.clone(), explain)
            .await
            .unwrap_err();
        assert!(matches!(err, Error::Forbidden(_)), "{err:?}");
    }
    assert_eq!(hook.0.load(Ordering::SeqCst), 0, "no hook ran");
    assert!(events.try_recv().is_err(), "no change published");
    let rows = baas.find(&service, &t, Query::new("note")).await.unwrap();
    assert_eq!(rows.rows.len(), 2, "nothing written");
    // The same write, run: the hook sees it.
    baas.write(&service, &t, insert).await.unwrap();
    assert_eq!(hook.0.load(Ordering::SeqCst), 1);
}
