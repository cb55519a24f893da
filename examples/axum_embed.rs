//! Embed mini-baas in an existing axum application, under `/api`, next to
//! the application's own routes.
//!
//! ```text
//! cargo run -p mini-baas --example axum_embed --features axum
//! ```
//!
//! The app owns `GET /health` and `GET /hello`; everything under `/api` is
//! mini-baas, serving a SQLite database created at start (table `todo`) as
//! tenant `app`.

use std::sync::Arc;

use axum::Router;
use axum::routing::get;
use mini_baas::UrlConnector;
use mini_baas::engine::{Baas, MemoryStore, TenantConfig, TenantMode};
use mini_baas::rest::Service;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // The application's database, with a table mini-baas has never seen.
    let path = std::env::temp_dir().join("mini-baas-axum-embed.db");
    let _ = std::fs::remove_file(&path);
    let url = format!("sqlite://{}", path.display());
    let db = mini_baas::sqlite::connect(mini_baas::sqlite::SqliteConfig::new(&url)).await?;
    db.backend()
        .execute_script(
            "CREATE TABLE todo (id INTEGER PRIMARY KEY, title TEXT NOT NULL, done BOOLEAN NOT NULL DEFAULT 0);
             INSERT INTO todo (title, done) VALUES ('read the README', 1), ('embed mini-baas', 0);",
        )
        .await?;

    // The engine: tenants in memory here (use AdapterStore to persist them),
    // adapters chosen by URL scheme.
    let baas =
        Arc::new(Baas::builder(Arc::new(MemoryStore::new()), Arc::new(UrlConnector)).build());
    baas.register_tenant(
        TenantConfig::new("app", url, TenantMode::Introspected),
        None,
    )
    .await?;
    let service = Service::new(baas);

    let app = Router::new()
        .route("/health", get(|| async { "ok" }))
        .route(
            "/hello",
            get(|| async { "hello from the host application" }),
        )
        .nest("/api", mini_baas::axum::router(service));

    let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await?;
    let base = format!("http://{}", listener.local_addr()?);
    println!("host app at {base}; mini-baas mounted at {base}/api");
    println!("  curl {base}/health");
    println!("  curl '{base}/api/app/todo?done=is.false'");
    println!(
        "  curl -X POST {base}/api/app/todo -H 'Content-Type: application/json' -H 'Prefer: return=representation' -d '{{\"title\":\"ship it\"}}'"
    );
    axum::serve(listener, app)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    Ok(())
}
