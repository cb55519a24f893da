//! # baas-engine
//!
//! The runtime of mini-baas, [`Baas`]: one generic service for every entity
//! of every tenant. Every request, whatever its route family, goes through
//! it:
//!
//! ```text
//! request ─▶ Baas::tenant(id)        cached runtime: metadata version + pooled adapter
//!         ─▶ Policy::grant          for every entity the request touches (root, embeds,
//!                                   junctions, exists targets): refuse, or rows + fields
//!         ─▶ WriteHook::before      (writes) may change or refuse the write
//!         ─▶ Validator              validate once, grants applied in the same walk → Checked
//!         ─▶ read::find / adapter   embeds (joined or batched), count, row budget; writes
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
//!   version and swap the tenant's runtime atomically, keeping its pool.
//! - **Limits**: [`EngineConfig::limits`] (filter depth, `in` lists, rows per
//!   insert, embed depth) and each tenant's [`TenantLimits`] (row budget,
//!   embed limit, response bytes, connections) are the one set of request
//!   limits; the HTTP layer keeps only its own (page size, body, query
//!   length) and parses with these.
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
#![warn(missing_docs)]

mod access;
mod admin;
mod request;
mod runtime;
mod secret;
mod store;
mod tenant;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use tokio::sync::broadcast;

pub use access::{
    ADMIN_ROLE, AccessRequest, Action, AllowAll, ChangeEvent, DATABASE_ROLES, Grant, HookContext,
    Policy, Principal, RequestInfo, Resource, WriteHook, WriteOp,
};
pub use baas_core::access::{FieldSet, Grants};
pub use baas_core::redact::{redact_error, redact_in, redact_url};
pub use request::CallOptions;
pub use runtime::Tenant;
pub use secret::{Opened, SEALED_PREFIX, SECRET_KEY_LEN, Sealer, SecretKey};
pub use store::{
    AdapterStore, MemoryStore, MetadataStore, SCHEMA_TABLE, TENANT_TABLE, Versioned, system_schema,
};
pub use tenant::{
    DecimalFormat, ExternalIssuer, MAX_TENANT_ID_LEN, TenantAuth, TenantConfig, TenantLimits,
    TenantMode, check_tenant_id,
};

use baas_core::adapter::DatabaseAdapter;
use baas_core::error::Result;
use baas_core::validate::Limits;
use runtime::Cache;

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
}
