//! The engine, [`Baas`]: one generic service for every entity of every
//! tenant.
//!
//! ```text
//! request ─▶ Baas::tenant(id)        cached runtime: metadata + pooled adapter + validators
//!         ─▶ Policy::authorize      may refuse, or add a row filter
//!         ─▶ WriteHook::before      (writes) may change or refuse the write
//!         ─▶ body validation        JSON Schema compiled from metadata (writes)
//!         ─▶ DatabaseAdapter        validated IR → SQL / BSON, bound values
//!         ─▶ WriteHook::after, ChangeEvent broadcast (writes)
//! ```
//!
//! - **Tenants** ([`TenantConfig`]) live in a [`MetadataStore`] with their
//!   versioned metadata.
//! - **Adapter cache**: a tenant's adapter (its connection pool, capped at
//!   [`TenantLimits::max_connections`]) is created by the [`Connector`] on
//!   first use and reused by every request; at most
//!   [`EngineConfig::max_cached_tenants`] are kept, the least recently used
//!   goes first, and tenants idle longer than [`EngineConfig::idle_timeout`]
//!   are dropped (their pools close). Concurrent first requests share one
//!   connection attempt.
//! - **Metadata changes** (managed entities, re-introspection) store a new
//!   version and swap the tenant's runtime atomically, keeping its pool;
//!   body validators are compiled lazily per entity and belong to one
//!   metadata version, so they are never stale.
//! - **Isolation**: a [`Tenant`] handle holds only its own adapter and
//!   metadata; every operation goes through it.
//!
//! ```
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
//! use std::sync::Arc;
//! use baas_engine::{Baas, Connector, MemoryStore, TenantConfig, TenantMode};
//! # use baas_core::{DatabaseAdapter, Result};
//! # struct NoDb;
//! # #[async_trait::async_trait]
//! # impl Connector for NoDb {
//! #     async fn connect(&self, t: &TenantConfig) -> Result<Arc<dyn DatabaseAdapter>> {
//! #         Err(baas_core::Error::unsupported("none", "connections"))
//! #     }
//! # }
//! let baas = Baas::builder(Arc::new(MemoryStore::new()), Arc::new(NoDb)).build();
//! let err = baas.tenant("nobody").await.unwrap_err();
//! assert_eq!(err.code(), "not_found");
//! # });
//! ```

mod access;
mod body;
mod secret;
mod store;
mod tenant;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use tokio::sync::{OnceCell, broadcast};

pub use access::{
    AccessRequest, Action, AllowAll, ChangeEvent, HookContext, Policy, Principal, WriteHook,
    WriteOp,
};
pub use secret::{Opened, SEALED_PREFIX, SECRET_KEY_LEN, Sealer, SecretKey};
pub use store::{
    AdapterStore, MemoryStore, MetadataStore, SCHEMA_TABLE, TENANT_TABLE, Versioned, system_schema,
};
pub use tenant::{MAX_TENANT_ID_LEN, TenantConfig, TenantLimits, TenantMode, check_tenant_id};

use baas_core::adapter::{Capabilities, DatabaseAdapter, SchemaChange, Target, WriteRef};
use baas_core::error::{Error, NotFoundKind, Result};
use baas_core::ir::{Aggregate, Filter, Query, Rows, WriteResult};
use baas_core::metadata::{Entity, Field, SchemaMetadata};
pub use baas_core::redact::{redact_error, redact_in, redact_url};
use baas_core::validate::{Limits, Validator};
use body::BodyValidators;

type Row = serde_json::Map<String, serde_json::Value>;

/// Opens the database of a tenant. The facade crate (`mini-baas`) provides
/// one that picks the adapter from the URL scheme.
#[async_trait]
pub trait Connector: Send + Sync + 'static {
    /// A pooled adapter for `tenant.url`, with at most
    /// `tenant.limits.max_connections` connections. Called once per tenant
    /// (again only after eviction).
    async fn connect(&self, tenant: &TenantConfig) -> Result<Arc<dyn DatabaseAdapter>>;
}

/// Engine-wide settings.
#[derive(Debug, Clone)]
pub struct EngineConfig {
    /// Tenants whose runtime (and connection pool) stays cached.
    pub max_cached_tenants: usize,
    /// A tenant unused this long is evicted (its pool closes).
    pub idle_timeout: Duration,
    /// IR limits (filter depth, `in` lists, rows per insert, embed depth).
    pub limits: Limits,
    /// Change events buffered per slow subscriber before it lags.
    pub event_capacity: usize,
}

impl Default for EngineConfig {
    fn default() -> Self {
        Self {
            max_cached_tenants: 256,
            idle_timeout: Duration::from_secs(15 * 60),
            limits: Limits::default(),
            event_capacity: 1024,
        }
    }
}

/// One tenant's runtime: its configuration, one metadata version, its pooled
/// adapter and the body validators of that version.
pub struct Tenant {
    config: TenantConfig,
    schema: Arc<SchemaMetadata>,
    version: u64,
    adapter: Arc<dyn DatabaseAdapter>,
    validators: HashMap<String, OnceLock<Result<Arc<BodyValidators>, String>>>,
}

impl std::fmt::Debug for Tenant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tenant")
            .field("id", &self.config.id)
            .field("engine", &self.adapter.capabilities().engine)
            .field("version", &self.version)
            .field("entities", &self.schema.entities.len())
            .finish_non_exhaustive()
    }
}

impl Tenant {
    fn new(
        config: TenantConfig,
        schema: SchemaMetadata,
        version: u64,
        adapter: Arc<dyn DatabaseAdapter>,
    ) -> Self {
        let validators = schema
            .entities
            .iter()
            .map(|e| (e.name.clone(), OnceLock::new()))
            .collect();
        Self {
            config,
            schema: Arc::new(schema),
            version,
            adapter,
            validators,
        }
    }

    /// Tenant id.
    pub fn id(&self) -> &str {
        &self.config.id
    }

    /// Configuration (the URL may hold a password: use
    /// [`TenantConfig::redacted`] to show it).
    pub fn config(&self) -> &TenantConfig {
        &self.config
    }

    /// The metadata served.
    pub fn schema(&self) -> &Arc<SchemaMetadata> {
        &self.schema
    }

    /// The metadata version served.
    pub fn version(&self) -> u64 {
        self.version
    }

    /// The tenant's database adapter.
    pub fn adapter(&self) -> &Arc<dyn DatabaseAdapter> {
        &self.adapter
    }

    /// What the tenant's engine can do.
    pub fn capabilities(&self) -> &Capabilities {
        self.adapter.capabilities()
    }

    /// An entity with the schema, or `NotFound`.
    pub fn target(&self, entity: &str) -> Result<Target<'_>> {
        Target::new(&self.schema, entity)
    }

    fn body_validators(&self, entity: &Entity) -> Result<Arc<BodyValidators>> {
        let cell = self
            .validators
            .get(&entity.name)
            .ok_or_else(|| Error::entity_not_found(&entity.name))?;
        cell.get_or_init(|| {
            BodyValidators::new(entity)
                .map(Arc::new)
                .map_err(|e| e.to_string())
        })
        .clone()
        .map_err(|message| Error::Backend {
            message,
            source: None,
        })
    }
}

struct Slot {
    cell: Arc<OnceCell<Arc<Tenant>>>,
    last_used: Instant,
}

struct Cache {
    slots: HashMap<String, Slot>,
    last_sweep: Instant,
}

/// The engine. Cheap to share (`Arc<Baas>`); every method takes `&self`.
pub struct Baas {
    store: Arc<dyn MetadataStore>,
    connector: Arc<dyn Connector>,
    policy: Arc<dyn Policy>,
    hooks: Vec<Arc<dyn WriteHook>>,
    config: EngineConfig,
    cache: Mutex<Cache>,
    schema_lock: tokio::sync::Mutex<()>,
    events: broadcast::Sender<ChangeEvent>,
}

impl std::fmt::Debug for Baas {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Baas")
            .field("config", &self.config)
            .field("hooks", &self.hooks.len())
            .finish_non_exhaustive()
    }
}

/// Builds a [`Baas`].
pub struct BaasBuilder {
    store: Arc<dyn MetadataStore>,
    connector: Arc<dyn Connector>,
    policy: Arc<dyn Policy>,
    hooks: Vec<Arc<dyn WriteHook>>,
    config: EngineConfig,
}

impl BaasBuilder {
    /// Replace the [`AllowAll`] policy.
    pub fn policy(mut self, policy: Arc<dyn Policy>) -> Self {
        self.policy = policy;
        self
    }

    /// Add a write hook (run in the order added).
    pub fn hook(mut self, hook: Arc<dyn WriteHook>) -> Self {
        self.hooks.push(hook);
        self
    }

    /// Replace the engine settings.
    pub fn config(mut self, config: EngineConfig) -> Self {
        self.config = config;
        self
    }

    /// The engine.
    pub fn build(self) -> Baas {
        let (events, _) = broadcast::channel(self.config.event_capacity.max(1));
        Baas {
            store: self.store,
            connector: self.connector,
            policy: self.policy,
            hooks: self.hooks,
            cache: Mutex::new(Cache {
                slots: HashMap::new(),
                last_sweep: Instant::now(),
            }),
            config: self.config,
            schema_lock: tokio::sync::Mutex::new(()),
            events,
        }
    }
}

fn and_filter(a: Option<Filter>, b: Option<Filter>) -> Option<Filter> {
    match (a, b) {
        (None, x) | (x, None) => x,
        (Some(a), Some(b)) => Some(Filter::and(vec![a, b])),
    }
}

/// Give every to-many embed without a `limit` of its own the tenant's
/// default, at every depth (an embedded list is a page too). Unknown
/// relations are left for validation to report.
fn default_embed_limits(
    schema: &SchemaMetadata,
    entity: &Entity,
    embeds: &mut [baas_core::ir::Embed],
    default: u64,
) {
    for e in embeds {
        let Ok(rel) = entity.relation(&e.relation) else {
            continue;
        };
        if e.limit.is_none() && !rel.kind.is_to_one() {
            e.limit = Some(default);
        }
        if let Ok(target) = schema.entity(&rel.target) {
            default_embed_limits(schema, target, &mut e.select.embeds, default);
        }
    }
}

/// For each many-to-one relation of a new entity, give its target the
/// reverse one-to-many relation, named after the new entity (skipped when
/// the target already has a relation or field of that name), as
/// introspection would.
fn add_reverse_relations(schema: &mut SchemaMetadata, entity: &Entity) {
    for r in &entity.relations {
        if r.kind != baas_core::metadata::RelationKind::ManyToOne || r.target == entity.name {
            continue;
        }
        let Some(target) = schema.entities.iter_mut().find(|e| e.name == r.target) else {
            continue;
        };
        if target.relation(&entity.name).is_ok() || target.field(&entity.name).is_ok() {
            continue;
        }
        let to: Vec<&str> = r.to_fields.iter().map(String::as_str).collect();
        let from: Vec<&str> = r.from_fields.iter().map(String::as_str).collect();
        target
            .relations
            .push(baas_core::metadata::Relation::one_to_many(
                entity.name.clone(),
                entity.name.clone(),
                &to,
                &from,
            ));
    }
}

impl Baas {
    /// Start building an engine over a metadata store and a connector.
    pub fn builder(store: Arc<dyn MetadataStore>, connector: Arc<dyn Connector>) -> BaasBuilder {
        BaasBuilder {
            store,
            connector,
            policy: Arc::new(AllowAll),
            hooks: Vec::new(),
            config: EngineConfig::default(),
        }
    }

    /// Engine settings.
    pub fn config(&self) -> &EngineConfig {
        &self.config
    }

    /// The metadata store.
    pub fn store(&self) -> &Arc<dyn MetadataStore> {
        &self.store
    }

    /// Receive every [`ChangeEvent`] published from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<ChangeEvent> {
        self.events.subscribe()
    }

    fn cache(&self) -> std::sync::MutexGuard<'_, Cache> {
        // Every critical section leaves the map consistent; ignore poisoning.
        self.cache
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Tenant ids whose runtime is cached now (for tests and metrics).
    pub fn cached_tenants(&self) -> Vec<String> {
        let mut ids: Vec<String> = self.cache().slots.keys().cloned().collect();
        ids.sort();
        ids
    }

    /// The runtime of a tenant: from the cache, or loaded (configuration and
    /// latest metadata from the store, adapter from the connector; an
    /// introspected tenant without stored metadata is introspected now).
    pub async fn tenant(&self, id: &str) -> Result<Arc<Tenant>> {
        let cell = {
            let now = Instant::now();
            let mut cache = self.cache();
            self.sweep(&mut cache, now, id);
            if let Some(slot) = cache.slots.get_mut(id) {
                slot.last_used = now;
                slot.cell.clone()
            } else {
                let cell = Arc::new(OnceCell::new());
                cache.slots.insert(
                    id.to_string(),
                    Slot {
                        cell: cell.clone(),
                        last_used: now,
                    },
                );
                cell
            }
        };
        match cell.get_or_try_init(|| self.load(id)).await {
            Ok(t) => Ok(t.clone()),
            Err(e) => {
                // Forget the failed attempt so the next request retries.
                let mut cache = self.cache();
                if cache
                    .slots
                    .get(id)
                    .is_some_and(|s| Arc::ptr_eq(&s.cell, &cell))
                {
                    cache.slots.remove(id);
                }
                Err(e)
            }
        }
    }

    /// Drop idle tenants (at most every few seconds) and keep the cache
    /// under its bound, never evicting `keep`.
    fn sweep(&self, cache: &mut Cache, now: Instant, keep: &str) {
        let idle = self.config.idle_timeout;
        if now.duration_since(cache.last_sweep) >= idle.min(Duration::from_secs(5)) {
            cache.last_sweep = now;
            cache
                .slots
                .retain(|k, s| k == keep || now.duration_since(s.last_used) < idle);
        }
        let max = self.config.max_cached_tenants.max(1);
        while cache.slots.len() >= max && !cache.slots.contains_key(keep) || cache.slots.len() > max
        {
            let Some(oldest) = cache
                .slots
                .iter()
                .filter(|(k, _)| k.as_str() != keep)
                .min_by_key(|(_, s)| s.last_used)
                .map(|(k, _)| k.clone())
            else {
                break;
            };
            cache.slots.remove(&oldest);
        }
    }

    async fn load(&self, id: &str) -> Result<Arc<Tenant>> {
        let config = self
            .store
            .tenant(id)
            .await?
            .ok_or_else(|| Error::NotFound {
                kind: NotFoundKind::Tenant,
                name: id.to_string(),
            })?;
        let adapter = self
            .connector
            .connect(&config)
            .await
            .map_err(|e| redact_error(e, &config.url))?;
        let (schema, version) = match self.store.schema(id).await? {
            Some(v) => (v.value, v.version),
            None => {
                let schema = match config.mode {
                    TenantMode::Introspected => adapter.introspect(&config.introspect).await?,
                    TenantMode::Managed => SchemaMetadata::default(),
                };
                let version = self.store.put_schema(id, &schema, None).await?;
                (schema, version)
            }
        };
        Ok(Arc::new(Tenant::new(config, schema, version, adapter)))
    }

    /// Put a freshly built runtime in the cache (replacing any older one).
    fn install(&self, tenant: Tenant) -> Arc<Tenant> {
        let tenant = Arc::new(tenant);
        let cell = Arc::new(OnceCell::new_with(Some(tenant.clone())));
        let now = Instant::now();
        let mut cache = self.cache();
        self.sweep(&mut cache, now, tenant.id());
        cache.slots.insert(
            tenant.id().to_string(),
            Slot {
                cell,
                last_used: now,
            },
        );
        tenant
    }

    // ---------------------------------------------------------------- admin

    /// Register (or re-register) a tenant: connect, check the database
    /// answers, and store its configuration with its metadata —
    /// `schema` when given, else introspected (introspected tenants) or
    /// empty (managed ones). A managed tenant registered again keeps its
    /// stored metadata (its tables exist); an introspected one stores a new
    /// version. Returns the ready runtime.
    pub async fn register_tenant(
        &self,
        config: TenantConfig,
        schema: Option<SchemaMetadata>,
    ) -> Result<Arc<Tenant>> {
        config.check()?;
        let _guard = self.schema_lock.lock().await;
        let adapter = self
            .connector
            .connect(&config)
            .await
            .map_err(|e| redact_error(e, &config.url))?;
        adapter
            .health()
            .await
            .map_err(|e| redact_error(e, &config.url))?;
        let stored = self.store.schema(&config.id).await?;
        let (schema, version) = match (stored, config.mode) {
            // A managed tenant keeps its stored metadata: its tables exist.
            (Some(v), TenantMode::Managed) => (v.value, v.version),
            (stored, mode) => {
                let schema = match (schema, mode) {
                    (Some(s), _) => s,
                    (None, TenantMode::Introspected) => {
                        adapter.introspect(&config.introspect).await?
                    }
                    (None, TenantMode::Managed) => SchemaMetadata::default(),
                };
                schema.check()?;
                let base = stored.map(|v| v.version);
                let version = self.store.put_schema(&config.id, &schema, base).await?;
                (schema, version)
            }
        };
        self.store.put_tenant(&config).await?;
        Ok(self.install(Tenant::new(config, schema, version, adapter)))
    }

    /// Every registered tenant (URLs redacted).
    pub async fn tenants(&self) -> Result<Vec<TenantConfig>> {
        Ok(self
            .store
            .tenants()
            .await?
            .iter()
            .map(TenantConfig::redacted)
            .collect())
    }

    /// Re-read an introspected tenant's database and serve the new metadata
    /// (a new version). Returns the new runtime.
    pub async fn reintrospect(&self, id: &str) -> Result<Arc<Tenant>> {
        let _guard = self.schema_lock.lock().await;
        let t = self.tenant(id).await?;
        if t.config.mode != TenantMode::Introspected {
            return Err(Error::validation(
                "/mode",
                format!(
                    "tenant `{id}` is managed: its metadata is changed through the entity routes, not by introspection"
                ),
            ));
        }
        let schema = t.adapter.introspect(&t.config.introspect).await?;
        let version = self.store.put_schema(id, &schema, Some(t.version)).await?;
        Ok(self.install(Tenant::new(
            t.config.clone(),
            schema,
            version,
            t.adapter.clone(),
        )))
    }

    async fn change_schema(
        &self,
        id: &str,
        change: impl FnOnce(&SchemaMetadata) -> Result<(SchemaMetadata, SchemaChange)>,
    ) -> Result<Arc<Tenant>> {
        let _guard = self.schema_lock.lock().await;
        let t = self.tenant(id).await?;
        if t.config.mode != TenantMode::Managed {
            return Err(Error::Forbidden(format!(
                "tenant `{id}` serves an existing database (introspected): mini-baas does not change its schema; migrate it yourself and re-run introspection"
            )));
        }
        let (schema, ddl) = change(&t.schema)?;
        schema.check()?;
        t.adapter.apply_ddl(&ddl).await?;
        let version = self.store.put_schema(id, &schema, Some(t.version)).await?;
        Ok(self.install(Tenant::new(
            t.config.clone(),
            schema,
            version,
            t.adapter.clone(),
        )))
    }

    /// Managed tenants: create an entity — its table is created at once and
    /// it is served by the next request, without restart.
    pub async fn create_entity(&self, tenant: &str, entity: Entity) -> Result<Arc<Tenant>> {
        self.change_schema(tenant, |current| {
            if current.entity(&entity.name).is_ok() {
                return Err(Error::Conflict {
                    message: format!("entity `{}` already exists", entity.name),
                    constraint: None,
                });
            }
            if entity.read_only {
                return Err(Error::validation(
                    "/read_only",
                    "a managed entity cannot be read-only",
                ));
            }
            // The existing targets of its many-to-one relations: their
            // tables exist, so the engine can add foreign keys to them.
            let references = current
                .entities
                .iter()
                .filter(|t| {
                    entity.relations.iter().any(|r| {
                        r.kind == baas_core::metadata::RelationKind::ManyToOne && r.target == t.name
                    })
                })
                .cloned()
                .collect();
            let mut next = current.clone();
            add_reverse_relations(&mut next, &entity);
            next.entities.push(entity.clone());
            Ok((next, SchemaChange::CreateEntity { entity, references }))
        })
        .await
    }

    /// Managed tenants: add a field to an entity (the column is added at
    /// once). The field must be nullable or have a default.
    pub async fn add_field(&self, tenant: &str, entity: &str, field: Field) -> Result<Arc<Tenant>> {
        self.change_schema(tenant, |current| {
            let before = current.entity(entity)?.clone();
            if before.field(&field.name).is_ok() {
                return Err(Error::Conflict {
                    message: format!("field `{}` already exists on `{entity}`", field.name),
                    constraint: None,
                });
            }
            if !field.nullable && field.default.is_none() {
                return Err(Error::validation(
                    "/nullable",
                    "a field added to an existing entity must be nullable or have a default",
                ));
            }
            let mut next = current.clone();
            if let Some(e) = next.entities.iter_mut().find(|e| e.name == entity) {
                e.fields.push(field.clone());
            }
            Ok((
                next,
                SchemaChange::AddField {
                    entity: before,
                    field,
                },
            ))
        })
        .await
    }

    // ----------------------------------------------------------- operations

    /// Resolve `entity` and ask the policy; the row filter it returns, if
    /// any, is to be `and`-ed with the caller's.
    async fn authorize<'t>(
        &self,
        principal: &Principal,
        tenant: &'t Tenant,
        entity: &str,
        action: Action,
    ) -> Result<(Target<'t>, Option<Filter>)> {
        let target = tenant.target(entity)?;
        let row_filter = self
            .policy
            .authorize(&AccessRequest {
                principal,
                tenant: tenant.id(),
                entity: target.entity,
                action,
            })
            .await?;
        Ok((target, row_filter))
    }

    fn validator<'a>(&'a self, tenant: &'a Tenant, target: Target<'a>) -> Validator<'a> {
        Validator::new(target, tenant.capabilities(), &self.config.limits)
    }

    /// Rows of an entity (with embeds, count and page as the query says),
    /// restricted by the policy.
    pub async fn find(&self, principal: &Principal, tenant: &Tenant, query: Query) -> Result<Rows> {
        let (target, row_filter) = self
            .authorize(principal, tenant, &query.entity, Action::Read)
            .await?;
        let limits = &tenant.config.limits;
        let mut query = Query {
            filter: and_filter(query.filter, row_filter),
            max_rows: Some(
                query
                    .max_rows
                    .map_or(limits.max_rows, |m| m.min(limits.max_rows)),
            ),
            ..query
        };
        default_embed_limits(
            &tenant.schema,
            target.entity,
            &mut query.select.embeds,
            limits.embed_limit,
        );
        self.validator(tenant, target).query(&query)?;
        tenant.adapter.find(target, &query).await
    }

    /// Number of rows matching `filter`, restricted by the policy.
    pub async fn count(
        &self,
        principal: &Principal,
        tenant: &Tenant,
        entity: &str,
        filter: Option<Filter>,
    ) -> Result<u64> {
        let (target, row_filter) = self
            .authorize(principal, tenant, entity, Action::Read)
            .await?;
        let filter = and_filter(filter, row_filter);
        if let Some(f) = &filter {
            self.validator(tenant, target).filter(f)?;
        }
        tenant.adapter.count(target, filter.as_ref()).await
    }

    /// Grouped aggregates, restricted by the policy.
    pub async fn aggregate(
        &self,
        principal: &Principal,
        tenant: &Tenant,
        aggregate: Aggregate,
    ) -> Result<Vec<Row>> {
        let (target, row_filter) = self
            .authorize(principal, tenant, &aggregate.entity, Action::Read)
            .await?;
        let aggregate = Aggregate {
            filter: and_filter(aggregate.filter, row_filter),
            ..aggregate
        };
        self.validator(tenant, target).aggregate(&aggregate)?;
        tenant.adapter.aggregate(target, &aggregate).await
    }

    /// Run a write: policy (row filters narrow updates and deletes), `before`
    /// hooks, body validation (JSON Schema) and IR validation, the write
    /// itself (atomic), `after` hooks, then a [`ChangeEvent`].
    pub async fn write(
        &self,
        principal: &Principal,
        tenant: &Tenant,
        op: WriteOp,
    ) -> Result<WriteResult> {
        self.run_write(principal, tenant, op, false).await
    }

    /// Run a write as [`write`](Self::write) does — policy, `before` hooks,
    /// validation, the same statements and the same result — then roll it
    /// back instead of committing (`Prefer: tx=rollback`), through
    /// [`DatabaseAdapter::write_rolled_back`]. Nothing is kept, so no
    /// `after` hook runs and no [`ChangeEvent`] is published. An engine
    /// without transactions answers [`Error::Unsupported`] and writes
    /// nothing.
    pub async fn write_rolled_back(
        &self,
        principal: &Principal,
        tenant: &Tenant,
        op: WriteOp,
    ) -> Result<WriteResult> {
        self.run_write(principal, tenant, op, true).await
    }

    async fn run_write(
        &self,
        principal: &Principal,
        tenant: &Tenant,
        op: WriteOp,
        rollback: bool,
    ) -> Result<WriteResult> {
        let (target, row_filter) = self
            .authorize(principal, tenant, op.entity(), op.action())
            .await?;
        let entity = target.entity;
        let mut op = match (op, row_filter) {
            (op, None) => op,
            (WriteOp::Insert(_), Some(_)) => {
                return Err(Error::Forbidden(format!(
                    "the policy restricts `{}` to some rows, which cannot apply to an insert",
                    entity.name
                )));
            }
            (WriteOp::Update(mut u), Some(f)) => {
                u.filter = Filter::and(vec![u.filter, f]);
                WriteOp::Update(u)
            }
            (WriteOp::Delete(mut d), Some(f)) => {
                d.filter = Filter::and(vec![d.filter, f]);
                WriteOp::Delete(d)
            }
        };
        let ctx = HookContext {
            principal,
            tenant: tenant.id(),
            entity,
        };
        for hook in &self.hooks {
            hook.before(&ctx, &mut op).await?;
        }
        if op.entity() != entity.name {
            return Err(Error::Forbidden(
                "a write hook may not redirect a write to another entity".into(),
            ));
        }
        let v = self.validator(tenant, target);
        let adapter = &tenant.adapter;
        let result = match &op {
            WriteOp::Insert(i) => {
                v.insert(i)?;
                tenant.body_validators(entity)?.check_insert(&i.rows)?;
                if rollback {
                    adapter
                        .write_rolled_back(target, WriteRef::Insert(i))
                        .await?
                } else {
                    adapter.insert(target, i).await?
                }
            }
            WriteOp::Update(u) => {
                v.update(u)?;
                tenant.body_validators(entity)?.check_update(&u.set)?;
                if rollback {
                    adapter
                        .write_rolled_back(target, WriteRef::Update(u))
                        .await?
                } else {
                    adapter.update(target, u).await?
                }
            }
            WriteOp::Delete(d) => {
                v.delete(d)?;
                if rollback {
                    adapter
                        .write_rolled_back(target, WriteRef::Delete(d))
                        .await?
                } else {
                    adapter.delete(target, d).await?
                }
            }
        };
        if rollback {
            return Ok(result);
        }
        for hook in &self.hooks {
            hook.after(&ctx, &op, &result).await;
        }
        if result.affected > 0 && self.events.receiver_count() > 0 {
            // No subscriber is not an error; a lagging one loses old events.
            let _ = self.events.send(ChangeEvent {
                tenant: tenant.id().to_string(),
                entity: entity.name.clone(),
                action: op.action(),
                affected: result.affected,
                rows: result.rows.clone(),
                schema_version: tenant.version,
            });
        }
        Ok(result)
    }
}
