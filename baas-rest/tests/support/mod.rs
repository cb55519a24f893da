//! What the service test binaries share.

use std::sync::Arc;

use async_trait::async_trait;
use baas_core::DatabaseAdapter;
use baas_engine::{Connector, TenantConfig};

/// Tenants on SQLite (the only adapter baas-rest's tests depend on).
pub struct Lite;

#[async_trait]
impl Connector for Lite {
    async fn connect(&self, t: &TenantConfig) -> baas_core::Result<Arc<dyn DatabaseAdapter>> {
        let db =
            baas_adapter_sqlite::connect(baas_adapter_sqlite::SqliteConfig::new(&t.url)).await?;
        Ok(Arc::new(db))
    }
}

/// A fresh SQLite file URL for one test (`baas-rest-{name}-{pid}.db`).
pub fn fresh_sqlite(name: &str) -> String {
    let path = std::env::temp_dir().join(format!("baas-rest-{name}-{}.db", std::process::id()));
    for ext in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{ext}", path.display()));
    }
    format!("sqlite://{}", path.display())
}
