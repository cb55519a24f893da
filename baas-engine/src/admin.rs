//! Tenants and their metadata: registration, re-introspection and the
//! managed-mode schema changes (each a new metadata version, served by the
//! next request).

use std::sync::Arc;

use baas_core::adapter::SchemaChange;
use baas_core::error::{Error, Result};
use baas_core::metadata::{Entity, Field, SchemaMetadata};

use crate::runtime::Tenant;
use crate::{Baas, TenantConfig, TenantMode, redact_error};

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

/// Keep `previous`'s rules in a freshly introspected `schema`: those whose
/// entity still exists (a rule of a vanished entity would grant nothing).
fn carry_rules(schema: &mut SchemaMetadata, previous: &SchemaMetadata) {
    schema.rules = previous
        .rules
        .iter()
        .filter(|r| schema.entity(&r.entity).is_ok())
        .cloned()
        .collect();
}

/// Create the tables of `schema`'s entities, each after the targets of its
/// many-to-one relations (which get foreign keys).
async fn create_tables(
    adapter: &dyn baas_core::adapter::DatabaseAdapter,
    schema: &SchemaMetadata,
) -> Result<()> {
    let mut done: Vec<&str> = Vec::new();
    while done.len() < schema.entities.len() {
        let before = done.len();
        for e in &schema.entities {
            if done.contains(&e.name.as_str()) {
                continue;
            }
            let parents: Vec<&str> = e
                .relations
                .iter()
                .filter(|r| {
                    r.kind == baas_core::metadata::RelationKind::ManyToOne && r.target != e.name
                })
                .map(|r| r.target.as_str())
                .collect();
            if !parents.iter().all(|p| done.contains(p)) {
                continue;
            }
            if e.is_view() {
                return Err(Error::validation(
                    if e.view { "/view" } else { "/read_only" },
                    format!("managed entity `{}` cannot be a view or read-only", e.name),
                ));
            }
            let references = schema
                .entities
                .iter()
                .filter(|t| parents.contains(&t.name.as_str()))
                .cloned()
                .collect();
            adapter
                .apply_ddl(&SchemaChange::CreateEntity {
                    entity: e.clone(),
                    references,
                })
                .await?;
            done.push(&e.name);
        }
        if done.len() == before {
            return Err(Error::validation(
                "/entities",
                "the many-to-one relations between these entities form a cycle: create them one by one",
            ));
        }
    }
    Ok(())
}

impl Baas {
    /// Replace a tenant's permission rules (any mode): checked against its
    /// metadata and by the engine's policy (a rule that does not compile is
    /// refused, naming it), then stored as a new metadata version, served by
    /// the next request.
    pub async fn set_rules(
        &self,
        id: &str,
        rules: Vec<baas_core::access::Rule>,
    ) -> Result<Arc<Tenant>> {
        let _guard = self.schema_lock.lock().await;
        let t = self.tenant(id).await?;
        let mut schema = SchemaMetadata::clone(t.schema());
        schema.rules = rules;
        schema.check()?;
        self.policy.check_schema(&schema)?;
        self.next_version(&t, schema).await
    }

    /// Store `schema` as `t`'s next metadata version (refused when another
    /// version was stored since `t`'s) and serve it from the next request.
    async fn next_version(&self, t: &Tenant, schema: SchemaMetadata) -> Result<Arc<Tenant>> {
        let version = self
            .store
            .put_schema(t.id(), &schema, Some(t.version()))
            .await?;
        Ok(self.install(Tenant::new(
            t.config().clone(),
            schema,
            version,
            t.adapter().clone(),
        )))
    }

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
                        let mut s = adapter.introspect(&config.introspect).await?;
                        // Rules are not in the database: they outlive a
                        // re-registration.
                        if let Some(v) = &stored {
                            carry_rules(&mut s, &v.value);
                        }
                        s
                    }
                    (None, TenantMode::Managed) => SchemaMetadata::default(),
                };
                schema.check()?;
                self.policy.check_schema(&schema)?;
                if mode == TenantMode::Managed {
                    // A new managed tenant given its metadata: its tables
                    // are created now, parents first, so that what is
                    // served exists.
                    create_tables(adapter.as_ref(), &schema).await?;
                }
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
        if t.config().mode != TenantMode::Introspected {
            return Err(Error::validation(
                "/mode",
                format!(
                    "tenant `{id}` is managed: its metadata is changed through the entity routes, not by introspection"
                ),
            ));
        }
        let mut schema = t.adapter().introspect(&t.config().introspect).await?;
        carry_rules(&mut schema, t.schema());
        self.next_version(&t, schema).await
    }

    async fn change_schema(
        &self,
        id: &str,
        change: impl FnOnce(&SchemaMetadata) -> Result<(SchemaMetadata, SchemaChange)>,
    ) -> Result<Arc<Tenant>> {
        let _guard = self.schema_lock.lock().await;
        let t = self.tenant(id).await?;
        if t.config().mode != TenantMode::Managed {
            return Err(Error::Forbidden(format!(
                "tenant `{id}` serves an existing database (introspected): mini-baas does not change its schema; migrate it yourself and re-run introspection"
            )));
        }
        let (schema, ddl) = change(t.schema())?;
        schema.check()?;
        self.policy.check_schema(&schema)?;
        t.adapter().apply_ddl(&ddl).await?;
        self.next_version(&t, schema).await
    }

    /// Managed tenants: create an entity — its table is created at once and
    /// it is served by the next request, without restart.
    pub async fn create_entity(&self, tenant: &str, entity: Entity) -> Result<Arc<Tenant>> {
        self.change_schema(tenant, |current| {
            if current.entity(&entity.name).is_ok() {
                return Err(Error::Conflict {
                    kind: baas_core::ConflictKind::Other,
                    message: format!("entity `{}` already exists", entity.name),
                    constraint: None,
                });
            }
            if entity.is_view() {
                return Err(Error::validation(
                    if entity.view { "/view" } else { "/read_only" },
                    "a managed entity cannot be a view or read-only",
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
                    kind: baas_core::ConflictKind::Other,
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
}
