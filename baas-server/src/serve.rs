//! `baas serve` (and `baas` with no arguments): the ready server.
//!
//! Configuration, lowest precedence first: built-in defaults, a TOML file
//! (`--config`, `BAAS_CONFIG`), environment variables (`BAAS_*`), flags.
//!
//! With no `--db`, the embedded default runs: a SQLite system store and a
//! managed SQLite tenant `demo` with sample data, both in the data directory
//! (`./baas-data`), created on first start and reused afterwards.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::extract::Request;
use axum::middleware::{self, Next};
use axum::response::Response;
use mini_baas::engine::{
    AdapterStore, Baas, EngineConfig, Principal, TenantConfig, TenantMode, WriteOp,
};
use mini_baas::ir::Insert;
use mini_baas::{Entity, Field, FieldType, Generated, Relation, SchemaMetadata, UrlConnector};
use serde::Deserialize;

/// Flags of `baas serve` (each also read from its `BAAS_*` variable).
#[derive(clap::Args, Debug, Default)]
pub struct ServeArgs {
    /// Address to listen on [default: 127.0.0.1:8080].
    #[arg(long, env = "BAAS_LISTEN")]
    listen: Option<SocketAddr>,
    /// Directory for the embedded databases [default: ./baas-data].
    #[arg(long, env = "BAAS_DATA_DIR")]
    data_dir: Option<PathBuf>,
    /// Serve this existing database (postgres://, mysql://, sqlite://, mongodb://) instead of the demo: it is introspected and served as one tenant.
    #[arg(long, env = "BAAS_DB", hide_env_values = true)]
    db: Option<String>,
    /// Tenant id for --db [default: main].
    #[arg(long, env = "BAAS_TENANT")]
    tenant: Option<String>,
    /// Where tenants and metadata are kept (default: sqlite://DATA_DIR/system.db).
    #[arg(long, env = "BAAS_SYSTEM_DB", hide_env_values = true)]
    system_db: Option<String>,
    /// Key for the /_admin routes (at least 16 bytes); without it they are off.
    #[arg(long, env = "BAAS_ADMIN_KEY", hide_env_values = true)]
    admin_key: Option<String>,
    /// Largest page a request may ask for [default: 1000].
    #[arg(long, env = "BAAS_MAX_LIMIT")]
    max_limit: Option<u64>,
    /// Largest request body in bytes [default: 1048576].
    #[arg(long, env = "BAAS_MAX_BODY_BYTES")]
    max_body_bytes: Option<usize>,
    /// Connections per tenant pool [default: 8].
    #[arg(long, env = "BAAS_MAX_CONNECTIONS")]
    max_connections: Option<u32>,
    /// Log format: text or json [default: text]. Levels come from RUST_LOG (default info).
    #[arg(long, env = "BAAS_LOG_FORMAT")]
    log_format: Option<String>,
    /// A TOML file with any of the settings above (snake_case keys).
    #[arg(long, env = "BAAS_CONFIG")]
    config: Option<PathBuf>,
}

/// The settings, as the TOML file spells them.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    listen: Option<SocketAddr>,
    data_dir: Option<PathBuf>,
    db: Option<String>,
    tenant: Option<String>,
    system_db: Option<String>,
    admin_key: Option<String>,
    max_limit: Option<u64>,
    max_body_bytes: Option<usize>,
    max_connections: Option<u32>,
    log_format: Option<String>,
}

/// Resolved settings.
#[derive(Debug)]
pub struct Settings {
    listen: SocketAddr,
    data_dir: PathBuf,
    db: Option<String>,
    tenant: String,
    system_db: String,
    admin_key: Option<String>,
    max_limit: u64,
    max_body_bytes: usize,
    max_connections: u32,
    log_json: bool,
}

impl ServeArgs {
    /// Merge flags/env over the file over defaults.
    pub fn settings(self) -> Result<Settings, String> {
        let file = match &self.config {
            Some(p) => {
                let text = std::fs::read_to_string(p)
                    .map_err(|e| format!("cannot read `{}`: {e}", p.display()))?;
                toml::from_str::<FileConfig>(&text).map_err(|e| format!("{}: {e}", p.display()))?
            }
            None => FileConfig::default(),
        };
        let data_dir = self
            .data_dir
            .or(file.data_dir)
            .unwrap_or_else(|| PathBuf::from("baas-data"));
        let system_db = self
            .system_db
            .or(file.system_db)
            .unwrap_or_else(|| format!("sqlite://{}", data_dir.join("system.db").display()));
        let log_format = self
            .log_format
            .or(file.log_format)
            .unwrap_or_else(|| "text".into());
        let log_json = match log_format.as_str() {
            "text" => false,
            "json" => true,
            other => return Err(format!("--log-format must be text or json, not `{other}`")),
        };
        Ok(Settings {
            listen: self
                .listen
                .or(file.listen)
                .unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 8080))),
            db: self.db.or(file.db),
            tenant: self.tenant.or(file.tenant).unwrap_or_else(|| "main".into()),
            system_db,
            admin_key: self.admin_key.or(file.admin_key),
            max_limit: self.max_limit.or(file.max_limit).unwrap_or(1000),
            max_body_bytes: self
                .max_body_bytes
                .or(file.max_body_bytes)
                .unwrap_or(1024 * 1024),
            max_connections: self.max_connections.or(file.max_connections).unwrap_or(8),
            data_dir,
            log_json,
        })
    }
}

fn init_tracing(json: bool) {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr);
    // `try_init`: a second call (tests) keeps the first subscriber.
    let _ = if json {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
}

/// Per-request log line (debug level: the hot path stays quiet at info).
async fn log_request(req: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = req.method().clone();
    // `Uri` clones share their bytes: no copy of the path per request.
    let uri = req.uri().clone();
    let resp = next.run(req).await;
    let status = resp.status().as_u16();
    let micros = started.elapsed().as_micros() as u64;
    let path = uri.path();
    if status >= 500 {
        tracing::warn!(%method, path, status, micros, "request");
    } else {
        tracing::debug!(%method, path, status, micros, "request");
    }
    resp
}

fn err(e: impl std::fmt::Display) -> String {
    e.to_string()
}

/// The demo tenant's entities: `author` and `book` (book → author).
fn demo_entities() -> Vec<Entity> {
    let id = || Field::new("id", FieldType::Int64).generated(Generated::AutoIncrement);
    let text = |n: &str, len: u32| Field {
        max_length: Some(len),
        ..Field::new(n, FieldType::Text)
    };
    let author = Entity::new(
        "author",
        vec![id(), text("name", 200), text("country", 2).nullable()],
    )
    .with_primary_key(["id"]);
    let book = Entity::new(
        "book",
        vec![
            id(),
            text("title", 300),
            Field::new("year", FieldType::Int32).nullable(),
            Field::new(
                "price",
                FieldType::Decimal {
                    precision: Some(8),
                    scale: Some(2),
                },
            )
            .nullable(),
            Field::new("author_id", FieldType::Int64),
        ],
    )
    .with_primary_key(["id"])
    .with_relation(Relation::many_to_one(
        "author",
        "author",
        &["author_id"],
        &["id"],
    ));
    vec![author, book]
}

fn rows(v: serde_json::Value) -> Vec<serde_json::Map<String, serde_json::Value>> {
    v.as_array()
        .map(|a| a.iter().filter_map(|r| r.as_object().cloned()).collect())
        .unwrap_or_default()
}

/// Create the demo tenant (managed SQLite) with sample data, once.
async fn ensure_demo(baas: &Baas, data_dir: &Path, max_connections: u32) -> Result<(), String> {
    if baas.store().tenant("demo").await.map_err(err)?.is_some() {
        return Ok(());
    }
    let url = format!("sqlite://{}", data_dir.join("demo.db").display());
    let mut config = TenantConfig::new("demo", url, TenantMode::Managed);
    config.limits.max_connections = max_connections;
    baas.register_tenant(config, None).await.map_err(err)?;
    for e in demo_entities() {
        baas.create_entity("demo", e).await.map_err(err)?;
    }
    let t = baas.tenant("demo").await.map_err(err)?;
    let admin = Principal::new("baas-server", ["admin".to_string()]);
    let authors = rows(serde_json::json!([
        {"name": "Ursula K. Le Guin", "country": "US"},
        {"name": "Stanisław Lem", "country": "PL"},
        {"name": "Octavia E. Butler", "country": "US"},
        {"name": "Italo Calvino", "country": "IT"}
    ]));
    let books = rows(serde_json::json!([
        {"title": "A Wizard of Earthsea", "year": 1968, "price": "9.99", "author_id": 1},
        {"title": "The Left Hand of Darkness", "year": 1969, "price": "11.50", "author_id": 1},
        {"title": "The Dispossessed", "year": 1974, "price": "12.00", "author_id": 1},
        {"title": "Solaris", "year": 1961, "price": "10.25", "author_id": 2},
        {"title": "The Cyberiad", "year": 1965, "price": "13.00", "author_id": 2},
        {"title": "Kindred", "year": 1979, "price": "8.75", "author_id": 3},
        {"title": "Parable of the Sower", "year": 1993, "price": "10.00", "author_id": 3},
        {"title": "Invisible Cities", "year": 1972, "price": "9.50", "author_id": 4}
    ]));
    for (entity, rows) in [("author", authors), ("book", books)] {
        let insert = Insert {
            entity: entity.into(),
            rows,
            on_conflict: None,
            returning: None,
        };
        baas.write(&admin, &t, WriteOp::Insert(insert))
            .await
            .map_err(err)?;
    }
    Ok(())
}

/// Register (or refresh) the `--db` tenant: introspected, new metadata
/// version on every start so the served API follows the database.
async fn ensure_db_tenant(baas: &Baas, s: &Settings, url: &str) -> Result<(), String> {
    let mut config = TenantConfig::new(s.tenant.clone(), url, TenantMode::Introspected);
    config.limits.max_connections = s.max_connections;
    baas.register_tenant(config, None).await.map_err(err)?;
    Ok(())
}

/// Build the engine and the router for `s` (tests use this directly).
pub async fn app(s: &Settings) -> Result<(Router, Arc<Baas>, String), String> {
    std::fs::create_dir_all(&s.data_dir)
        .map_err(|e| format!("cannot create `{}`: {e}", s.data_dir.display()))?;
    let system = mini_baas::connect(&s.system_db).await.map_err(err)?;
    let store = AdapterStore::open(system).await.map_err(err)?;
    let baas = Arc::new(
        Baas::builder(Arc::new(store), Arc::new(UrlConnector))
            .config(EngineConfig::default())
            .build(),
    );
    let tenant = match &s.db {
        Some(url) => {
            ensure_db_tenant(&baas, s, url).await?;
            s.tenant.clone()
        }
        None => {
            ensure_demo(&baas, &s.data_dir, s.max_connections).await?;
            "demo".to_string()
        }
    };
    let limits = mini_baas::rest::RestLimits {
        max_limit: s.max_limit,
        max_body_bytes: s.max_body_bytes,
        ..Default::default()
    };
    let mut service = mini_baas::rest::Service::new(baas.clone()).with_limits(limits);
    if let Some(key) = &s.admin_key {
        service = service.with_admin_key(key.clone()).map_err(err)?;
    }
    let router = baas_axum::router(service).layer(middleware::from_fn(log_request));
    Ok((router, baas, tenant))
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutting down: finishing in-flight requests");
}

/// Run the server until Ctrl-C / SIGTERM.
pub async fn serve(args: ServeArgs) -> Result<(), String> {
    let s = args.settings()?;
    init_tracing(s.log_json);
    let (router, baas, tenant) = app(&s).await?;
    let listener = tokio::net::TcpListener::bind(s.listen)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", s.listen))?;
    let addr = listener.local_addr().map_err(err)?;
    let base = format!("http://{addr}");
    let t = baas.tenant(&tenant).await.map_err(err)?;
    tracing::info!(
        %addr,
        tenant = %tenant,
        engine = %t.capabilities().engine,
        entities = t.schema().entities.len(),
        admin = s.admin_key.is_some(),
        "mini-baas listening"
    );
    print_banner(&base, &tenant, t.schema());
    axum::serve(listener, router)
        .with_graceful_shutdown(shutdown_signal())
        .await
        .map_err(err)?;
    Ok(())
}

fn print_banner(base: &str, tenant: &str, schema: &SchemaMetadata) {
    let list = schema
        .entities
        .iter()
        .map(|e| e.name.as_str())
        .take(8)
        .collect::<Vec<_>>()
        .join(", ");
    println!("mini-baas is serving tenant `{tenant}` at {base}/{tenant}/  (entities: {list})");
    println!();
    if tenant == "demo" && schema.entity("book").is_ok() {
        println!("Try:");
        println!(
            "  curl '{base}/demo/book?select=title,year,author(name)&year=gt.1965&order=year.desc&limit=3'"
        );
        println!(
            "  curl -X POST '{base}/demo/author' -H 'Content-Type: application/json' -H 'Prefer: return=representation' -d '{{\"name\":\"Ted Chiang\",\"country\":\"US\"}}'"
        );
        println!("  curl '{base}/demo/openapi.json'");
    } else {
        let first = schema
            .entities
            .first()
            .map_or("entity", |e| e.name.as_str());
        println!("Try:");
        println!("  curl '{base}/{tenant}/{first}?limit=5'");
        println!("  curl '{base}/{tenant}/discovery'");
        println!("  curl '{base}/{tenant}/openapi.json'");
    }
    println!();
    println!("Stop with Ctrl-C.");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(text: &str) -> PathBuf {
        let p = std::env::temp_dir().join(format!(
            "baas-config-{}-{}.toml",
            std::process::id(),
            text.len()
        ));
        std::fs::write(&p, text).unwrap();
        p
    }

    #[test]
    fn defaults() {
        let s = ServeArgs::default().settings().unwrap();
        assert_eq!(s.listen, SocketAddr::from(([127, 0, 0, 1], 8080)));
        assert_eq!(s.data_dir, PathBuf::from("baas-data"));
        assert_eq!(s.system_db, "sqlite://baas-data/system.db");
        assert_eq!(
            (s.max_limit, s.max_body_bytes, s.max_connections),
            (1000, 1 << 20, 8)
        );
        assert!(s.db.is_none() && s.admin_key.is_none() && !s.log_json);
    }

    #[test]
    fn flags_override_the_file() {
        let path = file(
            "listen = \"0.0.0.0:9000\"\ndata_dir = \"/srv/baas\"\nmax_limit = 50\nlog_format = \"json\"\nadmin_key = \"from-the-file-0123\"\n",
        );
        let args = ServeArgs {
            config: Some(path.clone()),
            max_limit: Some(20),
            ..ServeArgs::default()
        };
        let s = args.settings().unwrap();
        assert_eq!(s.listen, SocketAddr::from(([0, 0, 0, 0], 9000)));
        assert_eq!(s.system_db, "sqlite:///srv/baas/system.db");
        assert_eq!(s.max_limit, 20, "the flag wins");
        assert!(s.log_json);
        assert_eq!(s.admin_key.as_deref(), Some("from-the-file-0123"));
        let _ = std::fs::remove_file(path);
    }

    #[test]
    fn bad_files_are_named() {
        let path = file("listen = 42\nunknown_key = true\n");
        let err = ServeArgs {
            config: Some(path.clone()),
            ..ServeArgs::default()
        }
        .settings()
        .unwrap_err();
        assert!(err.contains(&path.display().to_string()), "{err}");
        let _ = std::fs::remove_file(path);
        let err = ServeArgs {
            log_format: Some("xml".into()),
            ..ServeArgs::default()
        }
        .settings()
        .unwrap_err();
        assert!(err.contains("text or json"), "{err}");
    }
}
