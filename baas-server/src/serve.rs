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
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::Request;
use axum::middleware::{self, Next};
use axum::response::Response;
use mini_baas::engine::{
    AdapterStore, Baas, EngineConfig, Principal, Sealer, SecretKey, TenantConfig, TenantMode,
    WriteOp, redact_in,
};

use crate::edge;
use baas_auth::{Authenticator, KeyRing, KeyRole, RulesPolicy, SERVICE_ROLE};
use mini_baas::ir::Insert;
use mini_baas::{Entity, Field, FieldType, Generated, Relation, SchemaMetadata, UrlConnector};
use serde::Deserialize;

/// Flags of `baas serve` (each also read from its `BAAS_*` variable).
///
/// Flags are visible to every local user (`ps`, `/proc/PID/cmdline`): give
/// secrets (the admin key, a database URL with a password) through their
/// `*_FILE` flag or their environment variable instead.
#[derive(clap::Args, Debug, Default)]
pub struct ServeArgs {
    /// Address to listen on [default: 127.0.0.1:8080].
    #[arg(long, env = "BAAS_LISTEN")]
    listen: Option<SocketAddr>,
    /// Directory for the embedded databases [default: ./baas-data]; created owner-only (0700).
    #[arg(long, env = "BAAS_DATA_DIR")]
    data_dir: Option<PathBuf>,
    /// Serve this existing database (postgres://, mysql://, sqlite://, mongodb://) instead of the demo: it is introspected and served as one tenant. Visible in /proc/PID/cmdline: prefer --db-file or BAAS_DB when the URL holds a password.
    #[arg(long, env = "BAAS_DB", hide_env_values = true)]
    db: Option<String>,
    /// Read the --db URL from this file (trailing newline trimmed).
    #[arg(long, env = "BAAS_DB_FILE", conflicts_with = "db")]
    db_file: Option<PathBuf>,
    /// Tenant id for --db [default: main].
    #[arg(long, env = "BAAS_TENANT")]
    tenant: Option<String>,
    /// Where tenants and metadata are kept (default: sqlite://DATA_DIR/system.db, created 0600). Prefer --system-db-file or BAAS_SYSTEM_DB for a URL with a password.
    #[arg(long, env = "BAAS_SYSTEM_DB", hide_env_values = true)]
    system_db: Option<String>,
    /// Read the --system-db URL from this file (trailing newline trimmed).
    #[arg(long, env = "BAAS_SYSTEM_DB_FILE", conflicts_with = "system_db")]
    system_db_file: Option<PathBuf>,
    /// Key for the /_admin routes (at least 16 bytes); without it they are off. Visible in /proc/PID/cmdline: prefer --admin-key-file or BAAS_ADMIN_KEY.
    #[arg(long, env = "BAAS_ADMIN_KEY", hide_env_values = true)]
    admin_key: Option<String>,
    /// Read the admin key from this file (trailing newline trimmed).
    #[arg(long, env = "BAAS_ADMIN_KEY_FILE", conflicts_with = "admin_key")]
    admin_key_file: Option<PathBuf>,
    /// File holding the key (32 bytes as 64 hex digits or base64) that seals the tenants' database URLs in the system store. Default: the BAAS_SECRET_KEY variable, else DATA_DIR/secret.key, created on first start (move it out of the data directory in production).
    #[arg(long, env = "BAAS_SECRET_KEY_FILE")]
    secret_key_file: Option<PathBuf>,
    /// The key being rotated out: stored URLs it opens are sealed again with the current key at start (also BAAS_PREVIOUS_SECRET_KEY).
    #[arg(long, env = "BAAS_PREVIOUS_SECRET_KEY_FILE")]
    previous_secret_key_file: Option<PathBuf>,
    /// Largest page a request may ask for [default: 1000].
    #[arg(long, env = "BAAS_MAX_LIMIT")]
    max_limit: Option<u64>,
    /// Largest request body in bytes [default: 1048576].
    #[arg(long, env = "BAAS_MAX_BODY_BYTES")]
    max_body_bytes: Option<usize>,
    /// Connections per tenant pool [default: 8].
    #[arg(long, env = "BAAS_MAX_CONNECTIONS")]
    max_connections: Option<u32>,
    /// Seconds to receive a request head, from its first byte; slower clients are disconnected (0: no limit) [default: 10].
    #[arg(long, env = "BAAS_HEADER_TIMEOUT_SECS")]
    header_timeout_secs: Option<u64>,
    /// Seconds to receive a whole request body; slower ones are answered 408 (0: no limit) [default: 30].
    #[arg(long, env = "BAAS_BODY_TIMEOUT_SECS")]
    body_timeout_secs: Option<u64>,
    /// Seconds a keep-alive connection may wait for its next request before it is closed (0: no limit) [default: 60].
    #[arg(long, env = "BAAS_IDLE_TIMEOUT_SECS")]
    idle_timeout_secs: Option<u64>,
    /// Most HTTP connections open at once; new ones beyond it are closed at once [default: 1024].
    #[arg(long, env = "BAAS_MAX_HTTP_CONNECTIONS")]
    max_http_connections: Option<usize>,
    /// Seconds to let in-flight requests finish after SIGTERM / Ctrl-C; then the server exits anyway [default: 10].
    #[arg(long, env = "BAAS_SHUTDOWN_TIMEOUT_SECS")]
    shutdown_timeout_secs: Option<u64>,
    /// Proxies whose Forwarded / X-Forwarded-* headers are believed: addresses or CIDR blocks, comma-separated (e.g. 127.0.0.1,10.0.0.0/8). From any other peer those headers are removed [default: none].
    #[arg(long, env = "BAAS_TRUSTED_PROXIES")]
    trusted_proxies: Option<String>,
    /// CORS: allowed origins, comma-separated, or `*`; CORS is off without it [default: off].
    #[arg(long, env = "BAAS_CORS_ORIGINS")]
    cors_origins: Option<String>,
    /// CORS: allowed methods [default: GET,HEAD,POST,PATCH,PUT,DELETE].
    #[arg(long, env = "BAAS_CORS_METHODS")]
    cors_methods: Option<String>,
    /// CORS: allowed request headers [default: accept,authorization,content-type,prefer,range,range-unit,x-tenant-id,idempotency-key,apikey,x-client-info,accept-profile,content-profile].
    #[arg(long, env = "BAAS_CORS_HEADERS")]
    cors_headers: Option<String>,
    /// CORS: response headers exposed to scripts [default: content-range,location,preference-applied,x-supabase-api-version].
    #[arg(long, env = "BAAS_CORS_EXPOSE_HEADERS")]
    cors_expose_headers: Option<String>,
    /// CORS: allow credentials (cookies, Authorization) [default: false].
    #[arg(long, env = "BAAS_CORS_CREDENTIALS", num_args = 0..=1, default_missing_value = "true")]
    cors_credentials: Option<bool>,
    /// CORS: seconds a browser may cache a preflight answer [default: 600].
    #[arg(long, env = "BAAS_CORS_MAX_AGE_SECS")]
    cors_max_age_secs: Option<u64>,
    /// Log format: text or json [default: text]. Levels come from RUST_LOG (default info).
    #[arg(long, env = "BAAS_LOG_FORMAT")]
    log_format: Option<String>,
    /// DEVELOPMENT ONLY: entities without permission rules are readable and writable by anyone (anon). Without it they are reachable only with the service_role key or the admin key.
    #[arg(long, env = "BAAS_OPEN", num_args = 0..=1, default_missing_value = "true")]
    open: Option<bool>,
    /// With --db on PostgreSQL: every request's statements run as the caller's database role (anon, authenticated, service_role: PostgREST's SET LOCAL role), so the database's GRANTs and row-level security policies apply, besides the rules. The database user must be a member of those roles.
    #[arg(long, env = "BAAS_DATABASE_ROLES", num_args = 0..=1, default_missing_value = "true")]
    database_roles: Option<bool>,
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
    db_file: Option<PathBuf>,
    tenant: Option<String>,
    system_db: Option<String>,
    system_db_file: Option<PathBuf>,
    admin_key: Option<String>,
    admin_key_file: Option<PathBuf>,
    secret_key_file: Option<PathBuf>,
    previous_secret_key_file: Option<PathBuf>,
    max_limit: Option<u64>,
    max_body_bytes: Option<usize>,
    max_connections: Option<u32>,
    header_timeout_secs: Option<u64>,
    body_timeout_secs: Option<u64>,
    idle_timeout_secs: Option<u64>,
    max_http_connections: Option<usize>,
    shutdown_timeout_secs: Option<u64>,
    trusted_proxies: Option<List>,
    cors_origins: Option<List>,
    cors_methods: Option<List>,
    cors_headers: Option<List>,
    cors_expose_headers: Option<List>,
    cors_credentials: Option<bool>,
    cors_max_age_secs: Option<u64>,
    log_format: Option<String>,
    open: Option<bool>,
    database_roles: Option<bool>,
    /// The `[auth]` table: token lifetimes, sign-up, rate limits
    /// (`baas_auth::AuthSettings`).
    auth: Option<baas_auth::AuthSettings>,
}

/// A list in the TOML file: `"a,b"` or `["a", "b"]`.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum List {
    Text(String),
    Items(Vec<String>),
}

impl List {
    fn joined(self) -> String {
        match self {
            Self::Text(t) => t,
            Self::Items(v) => v.join(","),
        }
    }
}

/// Where the tenants' URLs are sealed with: a key file, a key in the
/// environment, or the data directory's generated key.
#[derive(Debug, Clone, PartialEq)]
enum KeySource {
    File(PathBuf),
    Env,
    DataDir,
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
    secret_key: KeySource,
    previous_secret_key: Option<KeySource>,
    max_limit: u64,
    max_body_bytes: usize,
    max_connections: u32,
    edge: edge::EdgeConfig,
    log_json: bool,
    open: bool,
    database_roles: bool,
    auth: baas_auth::AuthSettings,
}

/// The value of a `*_file` setting: the file's text, trailing newline (and
/// other trailing whitespace) trimmed. Errors name the file, never the value.
fn read_value_file(what: &str, path: &Path) -> Result<String, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read the {what} file `{}`: {e}", path.display()))?;
    let value = text.trim_end_matches(['\n', '\r', ' ', '\t']).to_string();
    if value.is_empty() {
        return Err(format!("the {what} file `{}` is empty", path.display()));
    }
    Ok(value)
}

fn secs(v: u64) -> Option<Duration> {
    (v > 0).then(|| Duration::from_secs(v))
}

fn list(s: &str) -> Vec<String> {
    s.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
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
        // A value given directly wins over a file given at a lower level.
        let from = |direct: Option<String>,
                    path: Option<PathBuf>,
                    file_direct: Option<String>,
                    file_path: Option<PathBuf>,
                    what: &str|
         -> Result<Option<String>, String> {
            if let Some(v) = direct {
                return Ok(Some(v));
            }
            if let Some(p) = path {
                return read_value_file(what, &p).map(Some);
            }
            if let Some(v) = file_direct {
                return Ok(Some(v));
            }
            file_path.map(|p| read_value_file(what, &p)).transpose()
        };
        let db = from(self.db, self.db_file, file.db, file.db_file, "database URL")?;
        let system_db = from(
            self.system_db,
            self.system_db_file,
            file.system_db,
            file.system_db_file,
            "system database URL",
        )?
        .unwrap_or_else(|| format!("sqlite://{}", data_dir.join("system.db").display()));
        let admin_key = from(
            self.admin_key,
            self.admin_key_file,
            file.admin_key,
            file.admin_key_file,
            "admin key",
        )?;
        let secret_key = match self.secret_key_file.or(file.secret_key_file) {
            Some(p) => KeySource::File(p),
            None if std::env::var_os("BAAS_SECRET_KEY").is_some() => KeySource::Env,
            None => KeySource::DataDir,
        };
        let previous_secret_key = match self
            .previous_secret_key_file
            .or(file.previous_secret_key_file)
        {
            Some(p) => Some(KeySource::File(p)),
            None if std::env::var_os("BAAS_PREVIOUS_SECRET_KEY").is_some() => Some(KeySource::Env),
            None => None,
        };
        let log_format = self
            .log_format
            .or(file.log_format)
            .unwrap_or_else(|| "text".into());
        let log_json = match log_format.as_str() {
            "text" => false,
            "json" => true,
            other => return Err(format!("--log-format must be text or json, not `{other}`")),
        };
        let max_body_bytes = self
            .max_body_bytes
            .or(file.max_body_bytes)
            .unwrap_or(1024 * 1024);
        let max_http_connections = self
            .max_http_connections
            .or(file.max_http_connections)
            .unwrap_or(1024);
        if max_http_connections == 0 {
            return Err("--max-http-connections must be at least 1".into());
        }
        let trusted_proxies = edge::parse_proxies(
            &self
                .trusted_proxies
                .or(file.trusted_proxies.map(List::joined))
                .unwrap_or_default(),
        )
        .map_err(|e| format!("--trusted-proxies: {e}"))?;
        let cors = match self
            .cors_origins
            .or(file.cors_origins.map(List::joined))
            .map(|o| list(&o))
            .filter(|o| !o.is_empty())
        {
            None => None,
            Some(origins) => {
                let credentials = self
                    .cors_credentials
                    .or(file.cors_credentials)
                    .unwrap_or(false);
                let any = origins.iter().any(|o| o == "*");
                if any && origins.len() > 1 {
                    return Err("--cors-origins: `*` cannot be combined with origins".into());
                }
                if any && credentials {
                    // Browsers refuse `*` with credentials; echoing every
                    // origin instead would hand any site the user's session.
                    return Err(
                        "--cors-credentials needs the origins listed: `*` would let any site send credentialed requests"
                            .into(),
                    );
                }
                for o in &origins {
                    if o != "*" && !(o.starts_with("http://") || o.starts_with("https://")) {
                        return Err(format!(
                            "--cors-origins: `{o}` is not an origin (scheme://host[:port])"
                        ));
                    }
                }
                let pick = |flag: Option<String>, file: Option<List>, default: &str| {
                    list(
                        &flag
                            .or(file.map(List::joined))
                            .unwrap_or_else(|| default.into()),
                    )
                    .join(", ")
                };
                Some(edge::Cors {
                    origins: (!any).then(|| {
                        origins
                            .iter()
                            .map(|o| o.trim_end_matches('/').to_string())
                            .collect()
                    }),
                    methods: pick(
                        self.cors_methods,
                        file.cors_methods,
                        "GET,HEAD,POST,PATCH,PUT,DELETE",
                    ),
                    headers: pick(
                        self.cors_headers,
                        file.cors_headers,
                        "accept,authorization,content-type,prefer,range,range-unit,x-tenant-id,idempotency-key,apikey,x-client-info,accept-profile,content-profile",
                    ),
                    expose_headers: pick(
                        self.cors_expose_headers,
                        file.cors_expose_headers,
                        "content-range,location,preference-applied,x-supabase-api-version",
                    ),
                    credentials,
                    max_age_secs: self
                        .cors_max_age_secs
                        .or(file.cors_max_age_secs)
                        .unwrap_or(600),
                })
            }
        };
        let edge = edge::EdgeConfig {
            header_timeout: secs(
                self.header_timeout_secs
                    .or(file.header_timeout_secs)
                    .unwrap_or(10),
            ),
            body_timeout: secs(
                self.body_timeout_secs
                    .or(file.body_timeout_secs)
                    .unwrap_or(30),
            ),
            idle_timeout: secs(
                self.idle_timeout_secs
                    .or(file.idle_timeout_secs)
                    .unwrap_or(60),
            ),
            max_connections: max_http_connections,
            shutdown_timeout: Duration::from_secs(
                self.shutdown_timeout_secs
                    .or(file.shutdown_timeout_secs)
                    .unwrap_or(10),
            ),
            trusted_proxies,
            cors,
        };
        if self.database_roles.or(file.database_roles) == Some(true) && db.is_none() {
            return Err(
                "--database-roles applies to the database given with --db (PostgreSQL)".into(),
            );
        }
        Ok(Settings {
            listen: self
                .listen
                .or(file.listen)
                .unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 8080))),
            db,
            tenant: self.tenant.or(file.tenant).unwrap_or_else(|| "main".into()),
            system_db,
            admin_key,
            secret_key,
            previous_secret_key,
            max_limit: self.max_limit.or(file.max_limit).unwrap_or(1000),
            max_body_bytes,
            max_connections: self.max_connections.or(file.max_connections).unwrap_or(8),
            edge,
            data_dir,
            log_json,
            open: self.open.or(file.open).unwrap_or(false),
            database_roles: self.database_roles.or(file.database_roles).unwrap_or(false),
            auth: file.auth.unwrap_or_default(),
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
    let note = Entity::new(
        "note",
        vec![
            id(),
            text("owner_id", 64),
            text("body", 10_000),
            Field {
                default: Some("CURRENT_TIMESTAMP".into()),
                ..Field::new("created_at", FieldType::TimestampTz).nullable()
            },
        ],
    )
    .with_primary_key(["id"]);
    vec![author, book, note]
}

/// The demo's rules: books and authors readable by anyone and writable by
/// signed-in users; a note readable and writable only by its owner, whose
/// id is set from the caller's.
fn demo_rules() -> Vec<baas_core::access::Rule> {
    serde_json::from_value(serde_json::json!([
        {"entity": "author", "name": "authors are public", "action": ["read"], "role": ["anon", "authenticated"]},
        {"entity": "author", "name": "users edit authors", "action": ["insert", "update", "delete"], "role": ["authenticated"]},
        {"entity": "book", "name": "books are public", "action": ["read"], "role": ["anon", "authenticated"]},
        {"entity": "book", "name": "users edit books", "action": ["insert", "update", "delete"], "role": ["authenticated"]},
        {"entity": "note", "name": "own notes", "action": ["read", "insert", "update", "delete"],
         "role": ["authenticated"], "filter": "owner_id=eq.auth.uid()", "preset": {"owner_id": "auth.uid()"}}
    ]))
    .unwrap_or_else(|e| unreachable!("the demo rules are valid: {e}"))
}

fn rows(v: serde_json::Value) -> Vec<serde_json::Map<String, serde_json::Value>> {
    v.as_array()
        .map(|a| a.iter().filter_map(|r| r.as_object().cloned()).collect())
        .unwrap_or_default()
}

fn demo_url(data_dir: &Path) -> String {
    format!("sqlite://{}", data_dir.join("demo.db").display())
}

/// Create the demo tenant (managed SQLite) with sample data, once.
async fn ensure_demo(baas: &Baas, data_dir: &Path, max_connections: u32) -> Result<(), String> {
    if baas.store().tenant("demo").await.map_err(err)?.is_some() {
        // A demo created by an older version: add the note entity and the
        // rules it lacks.
        let t = baas.tenant("demo").await.map_err(err)?;
        if t.schema().entity("note").is_err()
            && let Some(note) = demo_entities().into_iter().find(|e| e.name == "note")
        {
            baas.create_entity("demo", note).await.map_err(err)?;
        }
        if baas
            .tenant("demo")
            .await
            .map_err(err)?
            .schema()
            .rules
            .is_empty()
        {
            baas.set_rules("demo", demo_rules()).await.map_err(err)?;
        }
        return Ok(());
    }
    let url = demo_url(data_dir);
    let mut config = TenantConfig::new("demo", url, TenantMode::Managed);
    config.limits.max_connections = max_connections;
    baas.register_tenant(config, None).await.map_err(err)?;
    for e in demo_entities() {
        baas.create_entity("demo", e).await.map_err(err)?;
    }
    baas.set_rules("demo", demo_rules()).await.map_err(err)?;
    let t = baas.tenant("demo").await.map_err(err)?;
    let admin = Principal::new("baas-server", [SERVICE_ROLE.to_string()]);
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
    config.database_roles = s.database_roles;
    baas.register_tenant(config, None).await.map_err(err)?;
    Ok(())
}

/// Make `path` readable by its owner only (`mode` 0o700 for a directory,
/// 0o600 for a file) when it exists and is more open; says so in the log.
#[cfg(unix)]
fn owner_only(path: &Path, mode: u32) -> Result<(), String> {
    use std::os::unix::fs::PermissionsExt;
    let meta = match std::fs::metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(format!("cannot read `{}`: {e}", path.display())),
    };
    let current = meta.permissions().mode() & 0o777;
    if current & !mode != 0 {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
            .map_err(|e| format!("cannot restrict `{}`: {e}", path.display()))?;
        tracing::info!(
            path = %path.display(),
            from = format!("{current:o}"),
            to = format!("{mode:o}"),
            "restricted the permissions"
        );
    }
    Ok(())
}

#[cfg(not(unix))]
fn owner_only(_path: &Path, _mode: u32) -> Result<(), String> {
    Ok(())
}

/// Whether `dir` holds only what the server keeps there (so restricting
/// it cannot break anything else: `--data-dir .` or `/tmp` are left alone).
fn only_server_files(dir: &Path) -> bool {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return false;
    };
    entries.flatten().all(|e| {
        let name = e.file_name();
        let name = name.to_string_lossy();
        ["system.db", "demo.db", "secret.key"]
            .iter()
            .any(|f| name.starts_with(f))
    })
}

/// Create the data directory owner-only (0700), or restrict an existing one
/// that holds only the server's files (another directory gets a warning).
fn ensure_data_dir(dir: &Path) -> Result<(), String> {
    let existed = dir.is_dir();
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder
        .create(dir)
        .map_err(|e| format!("cannot create `{}`: {e}", dir.display()))?;
    if !existed || only_server_files(dir) {
        return owner_only(dir, 0o700);
    }
    #[cfg(unix)]
    if let Ok(meta) = std::fs::metadata(dir) {
        use std::os::unix::fs::PermissionsExt;
        if meta.permissions().mode() & 0o077 != 0 {
            tracing::warn!(
                path = %dir.display(),
                "the data directory holds other files and is open to other users: its permissions are left as they are; the databases and the key inside are 0600"
            );
        }
    }
    Ok(())
}

/// The file of a `sqlite:` URL (`None`: another engine, or in memory).
fn sqlite_file(url: &str) -> Option<PathBuf> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or_default();
    (!path.is_empty() && !path.starts_with(":memory:")).then(|| PathBuf::from(path))
}

/// A SQLite database file (and its journal files) owner-only: created empty
/// with 0600 when missing (SQLite gives its WAL and journal files the
/// database's mode), restricted when it exists.
fn ensure_private_sqlite(url: &str) -> Result<(), String> {
    let Some(path) = sqlite_file(url) else {
        return Ok(());
    };
    let mut open = std::fs::OpenOptions::new();
    open.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut open, 0o600);
    match open.open(&path) {
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
        // A directory that does not exist (yet) is reported by SQLite itself.
        Err(_) => return Ok(()),
    }
    for suffix in ["", "-wal", "-shm", "-journal"] {
        let mut p = path.clone().into_os_string();
        p.push(suffix);
        owner_only(Path::new(&p), 0o600)?;
    }
    Ok(())
}

fn parse_key(text: &str, what: &str) -> Result<SecretKey, String> {
    SecretKey::parse(text).map_err(|e| format!("{what}: {e}"))
}

/// The key that seals the tenants' URLs.
fn load_key(src: &KeySource, env: &str, data_dir: &Path) -> Result<SecretKey, String> {
    match src {
        KeySource::File(p) => {
            let text = std::fs::read_to_string(p)
                .map_err(|e| format!("cannot read the secret key file `{}`: {e}", p.display()))?;
            #[cfg(unix)]
            if let Ok(meta) = std::fs::metadata(p) {
                use std::os::unix::fs::PermissionsExt;
                if meta.permissions().mode() & 0o077 != 0 {
                    tracing::warn!(path = %p.display(), "the secret key file is readable by other users: chmod 600 it");
                }
            }
            parse_key(&text, &format!("the secret key file `{}`", p.display()))
        }
        KeySource::Env => parse_key(&std::env::var(env).unwrap_or_default(), env),
        KeySource::DataDir => {
            let path = data_dir.join("secret.key");
            match std::fs::read_to_string(&path) {
                Ok(text) => {
                    owner_only(&path, 0o600)?;
                    parse_key(&text, &format!("the secret key file `{}`", path.display()))
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    let key = SecretKey::generate().map_err(err)?;
                    let mut open = std::fs::OpenOptions::new();
                    open.write(true).create_new(true);
                    #[cfg(unix)]
                    std::os::unix::fs::OpenOptionsExt::mode(&mut open, 0o600);
                    let mut f = open
                        .open(&path)
                        .map_err(|e| format!("cannot create `{}`: {e}", path.display()))?;
                    std::io::Write::write_all(&mut f, format!("{}\n", key.to_base64()).as_bytes())
                        .map_err(|e| format!("cannot write `{}`: {e}", path.display()))?;
                    tracing::warn!(
                        path = %path.display(),
                        "created the secret key that seals the stored database credentials; \
                         keep a copy: without it they cannot be read. In production keep it out \
                         of the data directory (--secret-key-file or BAAS_SECRET_KEY)"
                    );
                    Ok(key)
                }
                Err(e) => Err(format!("cannot read `{}`: {e}", path.display())),
            }
        }
    }
}

/// The server's secret key and, during a rotation, the previous one.
fn secret_keys(s: &Settings) -> Result<(SecretKey, Option<SecretKey>), String> {
    let key = load_key(&s.secret_key, "BAAS_SECRET_KEY", &s.data_dir)?;
    let previous = s
        .previous_secret_key
        .as_ref()
        .map(|p| load_key(p, "BAAS_PREVIOUS_SECRET_KEY", &s.data_dir))
        .transpose()?;
    Ok((key, previous))
}

/// The tenants' API and token keys, derived from the server's secret key.
pub fn key_ring(s: &Settings) -> Result<KeyRing, String> {
    let (key, previous) = secret_keys(s)?;
    Ok(KeyRing::new(key, previous))
}

/// Flags of `baas keys`: where the server's secret key is.
#[derive(clap::Args, Debug)]
pub struct KeysArgs {
    /// The tenant (e.g. `demo`).
    #[arg(value_name = "TENANT")]
    tenant_id: String,
    /// The server's data directory [default: ./baas-data] (its secret.key).
    #[arg(long, env = "BAAS_DATA_DIR")]
    data_dir: Option<PathBuf>,
    /// The server's secret key file (as given to `baas serve`).
    #[arg(long, env = "BAAS_SECRET_KEY_FILE")]
    secret_key_file: Option<PathBuf>,
    /// The server's TOML configuration file.
    #[arg(long, env = "BAAS_CONFIG")]
    config: Option<PathBuf>,
}

/// `baas keys TENANT`: the tenant's anon and service_role keys as JSON.
pub fn print_keys(args: KeysArgs) -> Result<(), String> {
    let tenant = args.tenant_id.as_str();
    baas_engine::check_tenant_id(tenant).map_err(err)?;
    let s = ServeArgs {
        data_dir: args.data_dir,
        secret_key_file: args.secret_key_file,
        config: args.config,
        ..ServeArgs::default()
    }
    .settings()?;
    if s.secret_key == KeySource::DataDir && !s.data_dir.join("secret.key").exists() {
        return Err(format!(
            "no secret key in `{}`: start the server once (it creates it), or pass --secret-key-file",
            s.data_dir.display()
        ));
    }
    let keys = key_ring(&s)?.tenant(tenant);
    println!(
        "{}",
        serde_json::json!({
            "anon": keys.api_key(KeyRole::Anon),
            "service_role": keys.api_key(KeyRole::ServiceRole),
        })
    );
    Ok(())
}

/// Open the system store with the tenants' URLs sealed; also returns the
/// store's database (the auth family keeps its users there).
async fn open_store(
    s: &Settings,
) -> Result<(AdapterStore, Arc<dyn baas_core::adapter::DatabaseAdapter>), String> {
    let (key, previous) = secret_keys(s)?;
    let mut sealer = Sealer::new(&key);
    if let Some(prev) = &previous {
        sealer = sealer.with_previous(prev);
    }
    ensure_private_sqlite(&s.system_db)?;
    let system = mini_baas::connect(&s.system_db)
        .await
        .map_err(|e| format!("system store: {}", redact_in(&e.to_string(), &s.system_db)))?;
    let store = AdapterStore::open_sealed(system.clone(), sealer)
        .await
        .map_err(|e| {
            let e = redact_in(&e.to_string(), &s.system_db);
            if e.contains("does not open") {
                format!(
                    "{e}. Start with the secret key this system store was sealed with \
                     (--secret-key-file, BAAS_SECRET_KEY or DATA_DIR/secret.key); to change keys, \
                     give the old one as --previous-secret-key-file"
                )
            } else {
                e
            }
        })?;
    if store.resealed() > 0 {
        tracing::info!(
            tenants = store.resealed(),
            "sealed stored database URLs with the current secret key"
        );
    }
    // SQLite may have created its WAL/SHM files while opening.
    ensure_private_sqlite(&s.system_db)?;
    Ok((store, system))
}

/// Build the engine and the router for `s` (tests use this directly).
pub async fn app(s: &Settings) -> Result<(Router, Arc<Baas>, String), String> {
    ensure_data_dir(&s.data_dir)?;
    let (store, system) = open_store(s).await?;
    let ring = Arc::new(key_ring(s)?);
    let policy = if s.open {
        RulesPolicy::open()
    } else {
        RulesPolicy::closed()
    };
    let baas = Arc::new(
        Baas::builder(Arc::new(store), Arc::new(UrlConnector))
            .config(EngineConfig::default())
            .policy(Arc::new(policy))
            .build(),
    );
    let tenant = match &s.db {
        Some(url) => {
            ensure_db_tenant(&baas, s, url)
                .await
                .map_err(|e| redact_in(&e, url))?;
            s.tenant.clone()
        }
        None => {
            ensure_private_sqlite(&demo_url(&s.data_dir))?;
            ensure_demo(&baas, &s.data_dir, s.max_connections).await?;
            ensure_private_sqlite(&demo_url(&s.data_dir))?;
            "demo".to_string()
        }
    };
    let limits = mini_baas::rest::RestLimits {
        max_limit: s.max_limit,
        max_body_bytes: s.max_body_bytes,
        ..Default::default()
    };
    let mut service = mini_baas::rest::Service::new(baas.clone())
        .with_limits(limits)
        .with_authenticator(Arc::new(
            Authenticator::new(ring.clone(), s.admin_key.clone()).with_engine(baas.clone()),
        ));
    if let Some(key) = &s.admin_key {
        service = service.with_admin_key(key.clone()).map_err(err)?;
    }
    // Users and sessions at /{tenant}/auth/v1, kept in the system store.
    let auth = baas_auth::AuthRoutes::open(system, ring.clone(), s.auth.clone())
        .await
        .map_err(|e| format!("auth: {e}"))?;
    service = service.with_family("auth", Arc::new(auth)).map_err(err)?;
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
        cors = s.edge.cors.is_some(),
        trusted_proxies = s.edge.trusted_proxies.len(),
        "mini-baas listening"
    );
    let keys = key_ring(&s)?.tenant(&tenant);
    print_banner(&base, &tenant, t.schema(), &keys, s.open);
    edge::run(listener, router, s.edge, shutdown_signal()).await;
    Ok(())
}

fn print_banner(
    base: &str,
    tenant: &str,
    schema: &SchemaMetadata,
    keys: &baas_auth::TenantKeys,
    open: bool,
) {
    let list = schema
        .entities
        .iter()
        .map(|e| e.name.as_str())
        .take(8)
        .collect::<Vec<_>>()
        .join(", ");
    println!("mini-baas is serving tenant `{tenant}` at {base}/{tenant}/  (entities: {list})");
    println!();
    println!(
        "API keys (supabase-js: createClient(\"{base}/{tenant}\", ANON_KEY); `baas keys {tenant}` prints them again):"
    );
    println!("  anon          {}", keys.api_key(KeyRole::Anon));
    println!(
        "  service_role  {}   (secret: bypasses every rule)",
        keys.api_key(KeyRole::ServiceRole)
    );
    println!();
    let ruled: std::collections::BTreeSet<&str> =
        schema.rules.iter().map(|r| r.entity.as_str()).collect();
    let unruled: Vec<&str> = schema
        .entities
        .iter()
        .map(|e| e.name.as_str())
        .filter(|e| !ruled.contains(e))
        .collect();
    if open {
        println!(
            "WARNING: --open: entities without rules are readable and writable by ANYONE. Development only."
        );
        println!();
    } else if !unruled.is_empty() {
        let shown = unruled
            .iter()
            .take(8)
            .copied()
            .collect::<Vec<_>>()
            .join(", ");
        let more = if unruled.len() > 8 { ", …" } else { "" };
        println!(
            "Closed by default: {} entities have no rules ({shown}{more}) and are reachable only with the service_role key.",
            unruled.len()
        );
        println!(
            "  Add rules with PUT /_admin/tenants/{tenant}/rules, or start with --open during development."
        );
        println!();
    }
    if tenant == "demo" && schema.entity("book").is_ok() {
        println!("Try:");
        println!(
            "  curl '{base}/demo/book?select=title,year,author(name)&year=gt.1965&order=year.desc&limit=3'"
        );
        println!(
            "  curl -X POST '{base}/demo/auth/v1/signup' -H 'Content-Type: application/json' -d '{{\"email\":\"me@example.com\",\"password\":\"a long password\"}}'"
        );
        println!("  curl '{base}/demo/openapi.json'");
    } else {
        let first = schema
            .entities
            .first()
            .map_or("entity", |e| e.name.as_str());
        println!("Try:");
        println!("  curl '{base}/{tenant}/{first}?limit=5' -H 'apikey: <service_role key>'");
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
        static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let p = std::env::temp_dir().join(format!("baas-config-{}-{n}.toml", std::process::id(),));
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
        let e = &s.edge;
        assert_eq!(
            (
                e.header_timeout,
                e.body_timeout,
                e.idle_timeout,
                e.max_connections,
                e.shutdown_timeout
            ),
            (
                Some(Duration::from_secs(10)),
                Some(Duration::from_secs(30)),
                Some(Duration::from_secs(60)),
                1024,
                Duration::from_secs(10)
            )
        );
        assert!(e.trusted_proxies.is_empty() && e.cors.is_none());
        assert_eq!(s.previous_secret_key, None);
    }

    #[test]
    fn edge_settings_from_the_file() {
        let path = file(
            "idle_timeout_secs = 0\nmax_http_connections = 5\ntrusted_proxies = [\"10.0.0.0/8\", \"::1\"]\ncors_origins = \"https://a.example, https://b.example/\"\ncors_credentials = true\n",
        );
        let s = ServeArgs {
            config: Some(path.clone()),
            ..ServeArgs::default()
        }
        .settings()
        .unwrap();
        assert_eq!(s.edge.idle_timeout, None, "0 turns the timeout off");
        assert_eq!(s.edge.max_connections, 5);
        assert_eq!(s.edge.trusted_proxies.len(), 2);
        let cors = s.edge.cors.unwrap();
        assert_eq!(
            cors.origins,
            Some(vec!["https://a.example".into(), "https://b.example".into()])
        );
        assert!(cors.credentials);
        let _ = std::fs::remove_file(path);
        for (args, want) in [
            (
                ServeArgs {
                    trusted_proxies: Some("10.0.0.0/40".into()),
                    ..ServeArgs::default()
                },
                "--trusted-proxies",
            ),
            (
                ServeArgs {
                    cors_origins: Some("a.example".into()),
                    ..ServeArgs::default()
                },
                "not an origin",
            ),
            (
                ServeArgs {
                    max_http_connections: Some(0),
                    ..ServeArgs::default()
                },
                "at least 1",
            ),
            (
                ServeArgs {
                    cors_origins: Some("*".into()),
                    cors_credentials: Some(true),
                    ..ServeArgs::default()
                },
                "origins listed",
            ),
        ] {
            let err = args.settings().unwrap_err();
            assert!(err.contains(want), "{err}");
        }
    }

    #[test]
    fn secrets_are_read_from_files() {
        let key = file("admin-key-from-a-file-0123\r\n");
        let db = file("postgres://u:pw@h/db\n\n");
        let s = ServeArgs {
            admin_key_file: Some(key.clone()),
            db_file: Some(db.clone()),
            ..ServeArgs::default()
        }
        .settings()
        .unwrap();
        assert_eq!(s.admin_key.as_deref(), Some("admin-key-from-a-file-0123"));
        assert_eq!(s.db.as_deref(), Some("postgres://u:pw@h/db"));
        let err = ServeArgs {
            admin_key_file: Some(PathBuf::from("/no/such/key")),
            ..ServeArgs::default()
        }
        .settings()
        .unwrap_err();
        assert!(
            err.contains("/no/such/key") && err.contains("admin key"),
            "{err}"
        );
        let _ = std::fs::remove_file(key);
        let _ = std::fs::remove_file(db);
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
