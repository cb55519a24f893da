//! The metadata store ("system DB"): registered tenants and the versioned
//! metadata of each.
//!
//! Two implementations: [`MemoryStore`] (tests, ephemeral servers) and
//! [`AdapterStore`], which keeps everything in two tables of *any* database
//! reached through a [`DatabaseAdapter`] — the embedded default is a SQLite
//! file — so the store needs no SQL of its own and works on every engine
//! that supports managed tables.
//!
//! Versions: every change of a tenant's metadata stores a whole new version
//! (1, 2, 3…); older versions are kept. Writers say which version they
//! derived the change from, and a concurrent change makes the slower one
//! fail with [`Error::Conflict`] instead of silently overwriting it.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;

use crate::secret::Sealer;
use crate::tenant::TenantConfig;
use baas_core::adapter::{DatabaseAdapter, DatabaseAdapterExt, SchemaChange, Target};
use baas_core::error::{Error, Result};
use baas_core::ir::{Filter, Insert, OnConflict, OrderBy, Page, Query, Upsert};
use baas_core::metadata::{Entity, Field, FieldType, SchemaMetadata};

/// A value with the version it was stored as.
#[derive(Debug, Clone, PartialEq)]
pub struct Versioned<T> {
    /// 1 for the first version, then +1 per change.
    pub version: u64,
    /// The value.
    pub value: T,
}

/// Where tenants and their metadata live.
#[async_trait]
pub trait MetadataStore: Send + Sync + 'static {
    /// Every registered tenant.
    async fn tenants(&self) -> Result<Vec<TenantConfig>>;

    /// One tenant, if registered.
    async fn tenant(&self, id: &str) -> Result<Option<TenantConfig>>;

    /// Register or replace a tenant.
    async fn put_tenant(&self, tenant: &TenantConfig) -> Result<()>;

    /// The latest metadata of a tenant, if any was stored.
    async fn schema(&self, tenant: &str) -> Result<Option<Versioned<SchemaMetadata>>>;

    /// Store a new metadata version derived from version `base` (`None`:
    /// the tenant has none yet) and return its number. `Err(Conflict)` when
    /// another version was stored since `base`.
    async fn put_schema(
        &self,
        tenant: &str,
        schema: &SchemaMetadata,
        base: Option<u64>,
    ) -> Result<u64>;
}

fn stale(tenant: &str, base: Option<u64>, latest: Option<u64>) -> Error {
    Error::Conflict {
        kind: baas_core::ConflictKind::Other,
        message: format!(
            "the metadata of tenant `{tenant}` changed concurrently (based on version {}, latest is {})",
            base.map_or_else(|| "none".to_string(), |v| v.to_string()),
            latest.map_or_else(|| "none".to_string(), |v| v.to_string()),
        ),
        constraint: None,
    }
}

/// An in-process store; everything is lost when it is dropped.
#[derive(Debug, Default)]
pub struct MemoryStore {
    inner: Mutex<MemoryInner>,
}

#[derive(Debug, Default)]
struct MemoryInner {
    tenants: BTreeMap<String, TenantConfig>,
    schemas: HashMap<String, Vec<SchemaMetadata>>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, MemoryInner> {
        // A panic while holding the lock cannot leave the maps half-updated
        // (every update is one insert/push), so poisoning is ignored.
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Every stored version of a tenant's metadata, oldest first.
    pub fn history(&self, tenant: &str) -> Vec<SchemaMetadata> {
        self.lock().schemas.get(tenant).cloned().unwrap_or_default()
    }
}

#[async_trait]
impl MetadataStore for MemoryStore {
    async fn tenants(&self) -> Result<Vec<TenantConfig>> {
        Ok(self.lock().tenants.values().cloned().collect())
    }

    async fn tenant(&self, id: &str) -> Result<Option<TenantConfig>> {
        Ok(self.lock().tenants.get(id).cloned())
    }

    async fn put_tenant(&self, tenant: &TenantConfig) -> Result<()> {
        tenant.check()?;
        self.lock()
            .tenants
            .insert(tenant.id.clone(), tenant.clone());
        Ok(())
    }

    async fn schema(&self, tenant: &str) -> Result<Option<Versioned<SchemaMetadata>>> {
        Ok(self.lock().schemas.get(tenant).and_then(|v| {
            v.last().map(|s| Versioned {
                version: v.len() as u64,
                value: s.clone(),
            })
        }))
    }

    async fn put_schema(
        &self,
        tenant: &str,
        schema: &SchemaMetadata,
        base: Option<u64>,
    ) -> Result<u64> {
        let mut inner = self.lock();
        let versions = inner.schemas.entry(tenant.to_string()).or_default();
        let latest = (!versions.is_empty()).then_some(versions.len() as u64);
        if latest != base {
            return Err(stale(tenant, base, latest));
        }
        versions.push(schema.clone());
        Ok(versions.len() as u64)
    }
}

/// Name of the table holding tenants.
pub const TENANT_TABLE: &str = "baas_tenant";
/// Name of the table holding metadata versions.
pub const SCHEMA_TABLE: &str = "baas_schema_version";

/// A store kept in two managed tables of any database: `baas_tenant (id,
/// config)` and `baas_schema_version (tenant, version, schema, created_at)`,
/// the configuration and metadata as JSON text. The tables are created on
/// [`open`](Self::open) when missing.
///
/// Opened with [`open_sealed`](Self::open_sealed), the tenants' URLs (which
/// may hold passwords) are stored sealed by a [`Sealer`] whose key lives
/// outside the store; opened with [`open`](Self::open) they are stored as
/// given.
pub struct AdapterStore {
    adapter: Arc<dyn DatabaseAdapter>,
    schema: SchemaMetadata,
    sealer: Option<Sealer>,
    resealed: usize,
}

impl std::fmt::Debug for AdapterStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AdapterStore")
            .field("engine", &self.adapter.capabilities().engine)
            .field("sealed", &self.sealer.is_some())
            .finish_non_exhaustive()
    }
}

/// The metadata of the store's own two tables.
pub fn system_schema() -> SchemaMetadata {
    let mut tenant = Entity::new(
        TENANT_TABLE,
        vec![
            Field {
                max_length: Some(64),
                ..Field::new("id", FieldType::Text)
            },
            Field::new("config", FieldType::Text),
        ],
    )
    .with_primary_key(["id"]);
    tenant.description = Some("mini-baas tenants (configuration as JSON)".into());
    let mut version = Entity::new(
        SCHEMA_TABLE,
        vec![
            Field {
                max_length: Some(64),
                ..Field::new("tenant", FieldType::Text)
            },
            Field::new("version", FieldType::Int64),
            Field::new("schema", FieldType::Text),
            Field::new("created_at", FieldType::TimestampTz),
        ],
    )
    .with_primary_key(["tenant", "version"]);
    version.description = Some("mini-baas metadata versions (SchemaMetadata as JSON)".into());
    SchemaMetadata::new(vec![tenant, version])
}

impl AdapterStore {
    /// Use `adapter`'s database as the store, creating the two tables when
    /// they do not exist yet. Tenant URLs are stored as given (plaintext);
    /// prefer [`open_sealed`](Self::open_sealed) when they hold passwords.
    /// A store holding sealed URLs cannot be read this way.
    pub async fn open(adapter: Arc<dyn DatabaseAdapter>) -> Result<Self> {
        Self::open_with(adapter, None).await
    }

    /// [`open`](Self::open), with the tenants' URLs sealed by `sealer`:
    /// no URL is written in plaintext. At open, every stored tenant is read
    /// (a key that does not open one is an error naming the tenant, so a
    /// wrong key fails at start), and every URL stored in plaintext (from
    /// before sealing) or sealed with one of the sealer's previous keys is
    /// sealed again with the current key — that is how a key is rotated.
    /// [`resealed`](Self::resealed) tells how many were.
    pub async fn open_sealed(adapter: Arc<dyn DatabaseAdapter>, sealer: Sealer) -> Result<Self> {
        let mut store = Self::open_with(adapter, Some(sealer)).await?;
        let mut resealed = 0;
        for (config, stale) in store.stored_tenants(None).await? {
            if stale {
                store.put_tenant(&config).await?;
                resealed += 1;
            }
        }
        store.resealed = resealed;
        Ok(store)
    }

    /// How many stored tenant URLs [`open_sealed`](Self::open_sealed)
    /// sealed again (plaintext ones, or sealed with a previous key).
    pub fn resealed(&self) -> usize {
        self.resealed
    }

    async fn open_with(adapter: Arc<dyn DatabaseAdapter>, sealer: Option<Sealer>) -> Result<Self> {
        let schema = system_schema();
        for entity in &schema.entities {
            let target = Target {
                schema: &schema,
                entity,
                call: None,
            };
            if adapter.count(target, None).await.is_err() {
                adapter
                    .apply_ddl(&SchemaChange::CreateEntity {
                        entity: entity.clone(),
                        references: Vec::new(),
                    })
                    .await?;
            }
        }
        Ok(Self {
            adapter,
            schema,
            sealer,
            resealed: 0,
        })
    }

    /// Tenants (all, or the one with `id`), each with whether its stored
    /// URL is stale (must be sealed again).
    async fn stored_tenants(&self, id: Option<&str>) -> Result<Vec<(TenantConfig, bool)>> {
        let q = Query {
            filter: id.map(|id| Filter::eq("id", id)),
            order: vec![OrderBy::asc("id")],
            ..Query::new(TENANT_TABLE)
        };
        let rows = self.adapter.find(self.target(TENANT_TABLE), &q).await?;
        rows.rows
            .iter()
            .map(|r| {
                let mut config = decode_tenant(r)?;
                let what = format!("URL of tenant `{}`", config.id);
                match &self.sealer {
                    Some(sealer) => {
                        let opened = sealer.open(&config.url, &seal_context(&config.id), &what)?;
                        config.url = opened.text;
                        Ok((config, opened.stale))
                    }
                    None if Sealer::is_sealed(&config.url) => Err(Error::Backend {
                        message: format!(
                            "the {what} is sealed: open the store with its secret key"
                        ),
                        source: None,
                    }),
                    None => Ok((config, false)),
                }
            })
            .collect()
    }

    fn target(&self, name: &str) -> Target<'_> {
        Target::new(&self.schema, name).unwrap_or_else(|_| unreachable!("system entity {name}"))
    }

    async fn latest_version(&self, tenant: &str) -> Result<Option<(u64, String)>> {
        let q = Query {
            filter: Some(Filter::eq("tenant", tenant)),
            order: vec![OrderBy::desc("version")],
            page: Page {
                limit: Some(1),
                ..Page::default()
            },
            ..Query::new(SCHEMA_TABLE)
        };
        let rows = self.adapter.find(self.target(SCHEMA_TABLE), &q).await?;
        Ok(rows.rows.into_iter().next().and_then(|r| {
            let v = r.get("version")?.as_u64()?;
            let s = r.get("schema")?.as_str()?.to_string();
            Some((v, s))
        }))
    }
}

fn corrupt(what: &str, e: serde_json::Error) -> Error {
    Error::backend(format!("the metadata store holds an unreadable {what}"), e)
}

/// The associated data a tenant's URL is sealed with: it opens only in
/// that tenant's row.
fn seal_context(tenant: &str) -> String {
    format!("baas-tenant-url:{tenant}")
}

fn decode_tenant(row: &serde_json::Map<String, serde_json::Value>) -> Result<TenantConfig> {
    let text = row
        .get("config")
        .and_then(|c| c.as_str())
        .unwrap_or_default();
    serde_json::from_str(text).map_err(|e| corrupt("tenant configuration", e))
}

#[async_trait]
impl MetadataStore for AdapterStore {
    async fn tenants(&self) -> Result<Vec<TenantConfig>> {
        Ok(self
            .stored_tenants(None)
            .await?
            .into_iter()
            .map(|(c, _)| c)
            .collect())
    }

    async fn tenant(&self, id: &str) -> Result<Option<TenantConfig>> {
        Ok(self
            .stored_tenants(Some(id))
            .await?
            .into_iter()
            .next()
            .map(|(c, _)| c))
    }

    async fn put_tenant(&self, tenant: &TenantConfig) -> Result<()> {
        tenant.check()?;
        let config = match &self.sealer {
            Some(sealer) => {
                let sealed = TenantConfig {
                    url: sealer.seal(&tenant.url, &seal_context(&tenant.id))?,
                    ..tenant.clone()
                };
                serde_json::to_string(&sealed)
            }
            None => serde_json::to_string(tenant),
        }
        .map_err(|e| corrupt("tenant", e))?;
        let mut row = serde_json::Map::new();
        row.insert("id".into(), tenant.id.clone().into());
        row.insert("config".into(), config.into());
        let insert = Insert {
            entity: TENANT_TABLE.into(),
            rows: vec![row],
            on_conflict: Some(Upsert {
                target: vec!["id".into()],
                action: OnConflict::Merge,
                defaults: vec![],
            }),
            returning: None,
        };
        self.adapter
            .insert(self.target(TENANT_TABLE), &insert)
            .await?;
        Ok(())
    }

    async fn schema(&self, tenant: &str) -> Result<Option<Versioned<SchemaMetadata>>> {
        self.latest_version(tenant)
            .await?
            .map(|(version, text)| {
                let value = serde_json::from_str(&text).map_err(|e| corrupt("schema", e))?;
                Ok(Versioned { version, value })
            })
            .transpose()
    }

    async fn put_schema(
        &self,
        tenant: &str,
        schema: &SchemaMetadata,
        base: Option<u64>,
    ) -> Result<u64> {
        let latest = self.latest_version(tenant).await?.map(|(v, _)| v);
        if latest != base {
            return Err(stale(tenant, base, latest));
        }
        let version = base.unwrap_or(0) + 1;
        let text = serde_json::to_string(schema).map_err(|e| corrupt("schema", e))?;
        let mut row = serde_json::Map::new();
        row.insert("tenant".into(), tenant.into());
        row.insert("version".into(), version.into());
        row.insert("schema".into(), text.into());
        row.insert(
            "created_at".into(),
            chrono::Utc::now()
                .to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
                .into(),
        );
        let insert = Insert {
            entity: SCHEMA_TABLE.into(),
            rows: vec![row],
            on_conflict: None,
            returning: None,
        };
        // Two writers from the same base race on the (tenant, version) key:
        // the slower one gets the primary-key Conflict.
        match self
            .adapter
            .insert(self.target(SCHEMA_TABLE), &insert)
            .await
        {
            Ok(_) => Ok(version),
            Err(Error::Conflict { .. }) => Err(stale(tenant, base, Some(version))),
            Err(e) => Err(e),
        }
    }
}
