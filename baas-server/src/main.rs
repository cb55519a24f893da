//! `baas` — the mini-baas command line and ready server.
//!
//! ```text
//! baas                                                   # serve the embedded demo (SQLite) on 127.0.0.1:8080
//! baas serve --db postgres://user:pass@host/db           # serve an existing database
//! baas introspect postgres://user:pass@host/db          # a live database
//! baas introspect mysql://user:pass@host/db
//! baas introspect sqlite://app.db
//! baas introspect mongodb://host/db                      # sampled
//! baas introspect https://<ref>.supabase.co --password …  # Supabase (internal schemas left out)
//! baas introspect schema.prisma                          # a schema file (format from the extension)
//! baas introspect dump.sql --format sql:mysql
//! baas introspect openapi.yaml --api-paths              # the operations of an OpenAPI document
//! baas diff schema.prisma postgres://…/db                # what differs between two sources
//! ```
//!
//! The discovered [`mini_baas::SchemaMetadata`] is printed as JSON on stdout;
//! skipped statements and warnings go to stderr; failures exit non-zero with a
//! one-line message.
//!
//! `baas diff` exits like `diff(1)`: 0 when the sources describe the same
//! data model, 1 when they differ, 2 when either cannot be read.

mod edge;
mod serve;

/// mimalloc instead of glibc's malloc: a server allocates many small,
/// short-lived values per request (JSON maps, strings) from several threads,
/// where glibc's arenas showed lock contention in profiles.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::process::ExitCode;

use baas_introspect::{Format, Import, supabase};
use clap::{Parser, Subcommand};
use mini_baas::IntrospectOptions;

#[derive(Parser)]
#[command(
    name = "baas",
    version,
    about = "mini-baas: a backend that adapts to your database"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the REST API (the default command): the embedded demo, or an existing database with --db.
    #[command(
        after_help = "Secrets: command-line flags are visible to every local user (ps, /proc/PID/cmdline). \
Give the admin key and database URLs that hold a password with --admin-key-file / --db-file / \
--system-db-file or their environment variables (BAAS_ADMIN_KEY, BAAS_DB, BAAS_SYSTEM_DB), and the \
secret key with --secret-key-file or BAAS_SECRET_KEY."
    )]
    Serve(Box<serve::ServeArgs>),
    /// Print a tenant's API keys as JSON: `{"anon": "…", "service_role": "…"}` (derived from the server's secret key: run it with the same data directory or --secret-key-file as the server).
    Keys(serve::KeysArgs),
    /// Print the metadata discovered from a database URL, a Supabase project or a schema file.
    Introspect {
        #[command(flatten)]
        source: SourceArgs,
        /// Compact JSON instead of pretty-printed.
        #[arg(long)]
        compact: bool,
        /// Print the HTTP operations an OpenAPI document declares (method,
        /// path, operationId, the entity of its body) instead of the metadata.
        #[arg(long)]
        api_paths: bool,
    },
    /// Compare the metadata of two sources (each a URL, Supabase project or file).
    #[command(
        after_help = "Exit status: 0 when the two sources describe the same data model, \
1 when they differ, 2 when either source cannot be read (like diff(1))."
    )]
    Diff {
        /// The old side.
        old: String,
        /// The new side.
        new: String,
        /// Options applied to both sides.
        #[command(flatten)]
        options: CommonArgs,
        /// Print the diff as JSON.
        #[arg(long)]
        json: bool,
        /// Compare column defaults as written: `now()` differs from
        /// `CURRENT_TIMESTAMP`, `'{}'::JSONB` from `'{}'::jsonb`. By default
        /// they are compared by meaning.
        #[arg(long)]
        strict: bool,
    },
}

#[derive(clap::Args)]
struct SourceArgs {
    /// `postgres://…`, `mysql://…`, `sqlite://…`, `https://<ref>.supabase.co`, `supabase:<ref>`, or a file.
    source: String,
    #[command(flatten)]
    common: CommonArgs,
}

#[derive(clap::Args)]
struct CommonArgs {
    /// File format: sql or sql:postgres (PostgreSQL dump), sql:mysql (MySQL/MariaDB dump),
    /// sql:sqlite (SQLite .schema), prisma, jsonschema, openapi, graphql.
    /// Default: from the file name (.sql is PostgreSQL unless the name says mysql/mariadb/sqlite).
    #[arg(long)]
    format: Option<String>,
    /// Database schema to read (PostgreSQL; repeatable). Default: every non-system schema.
    #[arg(long = "schema")]
    schemas: Vec<String>,
    /// Database schema to leave out (repeatable).
    #[arg(long = "exclude-schema")]
    exclude_schemas: Vec<String>,
    /// Leave views out.
    #[arg(long)]
    skip_views: bool,
    /// Supabase database password.
    #[arg(long, env = "SUPABASE_DB_PASSWORD", hide_env_values = true)]
    password: Option<String>,
    /// With a Supabase project, also read its internal schemas (auth, storage, …).
    #[arg(long)]
    include_internal: bool,
}

fn is_database_url(s: &str) -> bool {
    let lower = s.to_ascii_lowercase();
    [
        "postgres://",
        "postgresql://",
        "mysql://",
        "mariadb://",
        "sqlite:",
        "mongodb://",
        "mongodb+srv://",
    ]
    .iter()
    .any(|p| lower.starts_with(p))
}

/// Discover the metadata of one source.
async fn discover(source: &str, args: &CommonArgs) -> Result<Import, String> {
    let mut options = IntrospectOptions {
        schemas: args.schemas.clone(),
        exclude_schemas: args.exclude_schemas.clone(),
        skip_views: args.skip_views,
    };
    let url = if supabase::is_supabase(source) && !is_database_url(source) {
        if !args.include_internal {
            options
                .exclude_schemas
                .extend(supabase::INTERNAL_SCHEMAS.iter().map(|s| s.to_string()));
        }
        Some(
            supabase::connection_url(source, args.password.as_deref().unwrap_or_default())
                .map_err(|e| e.message)?,
        )
    } else if is_database_url(source) {
        Some(source.to_string())
    } else {
        None
    };
    if let Some(url) = url {
        let db = mini_baas::connect(&url).await.map_err(|e| e.to_string())?;
        let schema = db.introspect(&options).await.map_err(|e| e.to_string())?;
        return Ok(Import::new(schema));
    }
    let format = match &args.format {
        Some(f) => Format::parse(f).ok_or_else(|| format!("unknown --format `{f}`"))?,
        None => Format::from_path(source).ok_or_else(|| {
            format!("cannot tell the format of `{source}` from its name; pass --format")
        })?,
    };
    let text =
        std::fs::read_to_string(source).map_err(|e| format!("cannot read `{source}`: {e}"))?;
    baas_introspect::import(&text, format).map_err(|e| format!("{source}: {e}"))
}

fn report_skipped(source: &str, import: &Import) {
    for s in &import.skipped {
        eprintln!(
            "{source}: skipped {} at {}: {}",
            s.what, s.location, s.reason
        );
    }
}

/// Print `value` as JSON on stdout.
fn print<T: serde::Serialize>(value: &T, compact: bool) -> Result<(), String> {
    let text = if compact {
        serde_json::to_string(value)
    } else {
        serde_json::to_string_pretty(value)
    };
    println!("{}", text.map_err(|e| e.to_string())?);
    Ok(())
}

/// How a command that succeeded ended: a diff that found differences exits
/// with status 1, everything else with 0.
enum Outcome {
    /// Done; status 0.
    Done,
    /// `baas diff` found differences; status 1.
    Differences,
}

/// Exit status of a failed `baas diff` (as `diff(1)`: trouble is 2, so that
/// "differences" (1) stays unambiguous).
const DIFF_TROUBLE: u8 = 2;

async fn run(cli: Cli) -> Result<Outcome, (String, ExitCode)> {
    match cli
        .command
        .unwrap_or_else(|| Command::Serve(Box::default()))
    {
        Command::Serve(args) => serve::serve(*args)
            .await
            .map(|()| Outcome::Done)
            .map_err(|e| (e, ExitCode::FAILURE)),
        Command::Keys(args) => serve::print_keys(args)
            .map(|()| Outcome::Done)
            .map_err(|e| (e, ExitCode::FAILURE)),
        Command::Introspect {
            source,
            compact,
            api_paths,
        } => {
            let fail = |e| (e, ExitCode::FAILURE);
            let import = discover(&source.source, &source.common)
                .await
                .map_err(fail)?;
            report_skipped(&source.source, &import);
            if api_paths {
                print(&import.api_paths, compact).map_err(fail)?;
            } else {
                print(&import.schema, compact).map_err(fail)?;
            }
            Ok(Outcome::Done)
        }
        Command::Diff {
            old,
            new,
            options,
            json,
            strict,
        } => {
            let fail = |e| (e, ExitCode::from(DIFF_TROUBLE));
            let a = discover(&old, &options).await.map_err(fail)?;
            let b = discover(&new, &options).await.map_err(fail)?;
            let d = baas_introspect::diff::diff_with(
                &a.schema,
                &b.schema,
                baas_introspect::diff::DiffOptions { strict },
            );
            if json {
                let text = serde_json::to_string_pretty(&d).map_err(|e| fail(e.to_string()))?;
                println!("{text}");
            } else if d.is_empty() {
                println!("no differences");
            } else {
                print!("{d}");
            }
            Ok(if d.is_empty() {
                Outcome::Done
            } else {
                Outcome::Differences
            })
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(run(cli));
    // Past the shutdown deadline, requests still running (a blocking
    // database call) must not hold the exit: give them a moment, no more.
    runtime.shutdown_timeout(std::time::Duration::from_secs(1));
    match result {
        Ok(Outcome::Done) => ExitCode::SUCCESS,
        Ok(Outcome::Differences) => ExitCode::from(1),
        Err((e, code)) => {
            eprintln!("error: {e}");
            code
        }
    }
}
