//! mini-baas embedded in an existing actix-web application: the app keeps
//! its own routes (`/health`, `/hello`) and its own authentication
//! middleware, and mounts a REST backend over an SQLite database under
//! `/api`.
//!
//! ```text
//! cargo run -p mini-baas --example actix_embed --features actix
//! PORT=9000 cargo run -p mini-baas --example actix_embed --features actix
//! ```

use std::sync::Arc;

use mini_baas::actix::actix_web::dev::Service as _;
use mini_baas::actix::actix_web::{self, App, HttpMessage, HttpServer, web};
use mini_baas::actix::{RestLimits, Service};
use mini_baas::engine::{Baas, MemoryStore, Principal, TenantConfig, TenantMode};
use mini_baas::sqlite::{SqliteConfig, connect};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    actix_web::rt::System::new().block_on(run())
}

async fn run() -> Result<(), Box<dyn std::error::Error>> {
    // 1. A database the backend has never seen: created here, with a table
    //    and a few rows. A file, so that the engine's own pool sees it.
    let path =
        std::env::temp_dir().join(format!("mini-baas-actix-embed-{}.db", std::process::id()));
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
    let url = format!("sqlite://{}", path.display());
    let db = connect(SqliteConfig::new(&url)).await?;
    db.backend()
        .execute_script(
            "CREATE TABLE book (id INTEGER PRIMARY KEY, title TEXT NOT NULL, author TEXT NOT NULL, year INTEGER);
             INSERT INTO book (title, author, year) VALUES
               ('Dune', 'Frank Herbert', 1965),
               ('Neuromancer', 'William Gibson', 1984),
               ('The Left Hand of Darkness', 'Ursula K. Le Guin', 1969),
               ('Hyperion', 'Dan Simmons', 1989);",
        )
        .await?;
    drop(db);

    // 2. The engine, with the database registered as an introspected tenant:
    //    its tables become entities, no code per table.
    let baas = Baas::builder(
        Arc::new(MemoryStore::new()),
        Arc::new(mini_baas::UrlConnector),
    )
    .build();
    let tenant = baas
        .register_tenant(
            TenantConfig::new("demo", &url, TenantMode::Introspected),
            None,
        )
        .await?;
    let entities: Vec<&str> = tenant
        .schema()
        .entities
        .iter()
        .map(|e| e.name.as_str())
        .collect();
    let service = Service::new(Arc::new(baas)).with_limits(RestLimits {
        max_body_bytes: 64 * 1024,
        ..RestLimits::default()
    });

    // 3. The host application, unchanged but for one `.service(…)` line.
    let port: u16 = std::env::var("PORT")
        .ok()
        .and_then(|p| p.parse().ok())
        .unwrap_or(8080);
    let server = HttpServer::new(move || {
        App::new()
            // The host's authentication: whoever it recognises becomes a
            // `Principal` in the request extensions, which mini-baas hands
            // to its policy (the default policy allows everything).
            .wrap_fn(|req, srv| {
                let bearer = req
                    .headers()
                    .get("authorization")
                    .and_then(|v| v.to_str().ok());
                if bearer == Some("Bearer demo-token") {
                    req.extensions_mut()
                        .insert(Principal::new("demo-user", ["reader".to_string()]));
                }
                srv.call(req)
            })
            .route("/health", web::get().to(|| async { "ok" }))
            .route(
                "/hello",
                web::get().to(|| async { "hello from the host application" }),
            )
            .service(mini_baas::actix::scope("/api", service.clone()))
    })
    .workers(2)
    .bind(("127.0.0.1", port))?;

    let base = format!("http://127.0.0.1:{port}");
    println!(
        "actix app on {base} — mini-baas under {base}/api, tenant `demo`, entities {entities:?}"
    );
    println!("try:");
    println!("  curl {base}/health");
    println!("  curl {base}/hello");
    println!("  curl '{base}/api/demo/book?year=lt.1980&order=year&select=title,year'");
    println!("  curl {base}/api/demo/book/2");
    println!(
        "  curl -X POST {base}/api/demo/book -H 'content-type: application/json' \
         -H 'prefer: return=representation' -d '{{\"title\":\"Solaris\",\"author\":\"Stanislaw Lem\",\"year\":1961}}'"
    );
    println!(
        "  curl -i -X POST {base}/api/demo/book -H 'content-type: application/json' \
         -H 'prefer: return=headers-only' -d '{{\"title\":\"Ubik\",\"author\":\"Philip K. Dick\"}}'"
    );
    println!(
        "  curl -X PATCH '{base}/api/demo/book?id=eq.1' -H 'content-type: application/json' \
         -H 'prefer: return=representation' -d '{{\"year\":1966}}'"
    );
    println!("  curl -i -X DELETE {base}/api/demo/book/4");
    println!("  curl {base}/api/demo/discovery");
    println!("database: {} (Ctrl-C to stop)", path.display());

    // Runs until Ctrl-C / SIGTERM (actix stops gracefully), then cleans up.
    server.run().await?;
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
    Ok(())
}
