//! Tenant runtimes and their cache: one pooled adapter and one metadata
//! version per tenant, created on first use, shared by concurrent first
//! requests, evicted when idle or when the cache is full.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use baas_core::adapter::{Capabilities, DatabaseAdapter, Target};
use baas_core::error::{Error, NotFoundKind, Result};
use baas_core::metadata::SchemaMetadata;
use tokio::sync::OnceCell;

use crate::{Baas, TenantConfig, TenantMode, redact_error};

/// One tenant's runtime: its configuration, one metadata version, its pooled
/// adapter and the body validators of that version.
pub struct Tenant {
    config: TenantConfig,
    schema: Arc<SchemaMetadata>,
    version: u64,
    adapter: Arc<dyn DatabaseAdapter>,
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
    pub(crate) fn new(
        config: TenantConfig,
        schema: SchemaMetadata,
        version: u64,
        adapter: Arc<dyn DatabaseAdapter>,
    ) -> Self {
        Self {
            config,
            schema: Arc::new(schema),
            version,
            adapter,
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
}

pub(crate) struct Slot {
    pub(crate) cell: Arc<OnceCell<Arc<Tenant>>>,
    pub(crate) last_used: Instant,
}

pub(crate) struct Cache {
    pub(crate) slots: HashMap<String, Slot>,
    pub(crate) last_sweep: Instant,
}

impl Baas {
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
    pub(crate) fn install(&self, tenant: Tenant) -> Arc<Tenant> {
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
}
