//! Secrets at rest and in view: owner-only files, tenant URLs sealed in the
//! system store (no password in its bytes, a wrong key fails at start, key
//! rotation), redacted URLs in `/_admin/tenants`, and secrets read from
//! files instead of the command line.

mod common;
mod server;

use std::path::Path;
use std::sync::Arc;

use baas_testkit::skip_or_fail;
use common::request;
use mini_baas::engine::{AdapterStore, MetadataStore, Sealer, SecretKey, TenantConfig, TenantMode};
use server::{start, start_fails, temp_dir};

/// Every byte of a SQLite database: the file and its WAL / journal.
fn sqlite_bytes(db: &Path) -> Vec<u8> {
    let mut all = Vec::new();
    for suffix in ["", "-wal", "-journal"] {
        let mut p = db.as_os_str().to_owned();
        p.push(suffix);
        if let Ok(b) = std::fs::read(&p) {
            all.extend(b);
        }
    }
    all
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

async fn sqlite_store(path: &Path) -> Arc<dyn mini_baas::DatabaseAdapter> {
    let url = format!("sqlite://{}?mode=rwc", path.display());
    mini_baas::connect(&url).await.expect("sqlite")
}

/// The store seals URLs: the file never holds the password; a wrong key is
/// refused with a clear error; a previous key opens the old values and they
/// are sealed again with the new key; plaintext rows from before sealing
/// are read and sealed at open.
#[tokio::test]
async fn tenant_urls_are_sealed_in_the_store() {
    let dir = temp_dir("secrets-store");
    let db = dir.join("system.db");
    let url = "postgres://app:hunter2-Secret@db.example/app?sslpassword=ssl-Secret-9";
    let k1 = SecretKey::generate().unwrap();
    let k2 = SecretKey::generate().unwrap();
    {
        let store = AdapterStore::open_sealed(sqlite_store(&db).await, Sealer::new(&k1))
            .await
            .unwrap();
        store
            .put_tenant(&TenantConfig::new("acme", url, TenantMode::Introspected))
            .await
            .unwrap();
        assert_eq!(store.tenant("acme").await.unwrap().unwrap().url, url);
    }
    let bytes = sqlite_bytes(&db);
    assert!(contains(&bytes, "enc:v1:"), "the sealed form is stored");
    for secret in ["hunter2-Secret", "ssl-Secret-9", "db.example"] {
        assert!(!contains(&bytes, secret), "`{secret}` is in system.db");
    }

    // Another key: a clear error naming the tenant, not garbage.
    let err = AdapterStore::open_sealed(sqlite_store(&db).await, Sealer::new(&k2))
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("does not open") && err.contains("acme"),
        "{err}"
    );
    assert!(!err.contains("hunter2"), "{err}");
    // Unsealed access to a sealed store is refused too.
    let plain = AdapterStore::open(sqlite_store(&db).await).await.unwrap();
    assert!(plain.tenant("acme").await.is_err());

    // Rotation: new key, old one as previous.
    let store =
        AdapterStore::open_sealed(sqlite_store(&db).await, Sealer::new(&k2).with_previous(&k1))
            .await
            .unwrap();
    assert_eq!(store.resealed(), 1);
    drop(store);
    let store = AdapterStore::open_sealed(sqlite_store(&db).await, Sealer::new(&k2))
        .await
        .unwrap();
    assert_eq!(store.resealed(), 0);
    assert_eq!(store.tenant("acme").await.unwrap().unwrap().url, url);

    // A plaintext row (a store from before sealing) reads and is sealed at open.
    plain
        .put_tenant(&TenantConfig::new(
            "old",
            "postgres://u:legacy-pw@h/db",
            TenantMode::Introspected,
        ))
        .await
        .unwrap();
    let store = AdapterStore::open_sealed(sqlite_store(&db).await, Sealer::new(&k2))
        .await
        .unwrap();
    assert_eq!(store.resealed(), 1);
    assert_eq!(
        store.tenant("old").await.unwrap().unwrap().url,
        "postgres://u:legacy-pw@h/db"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[cfg(unix)]
fn mode(p: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).unwrap().permissions().mode() & 0o777
}

/// The data directory is 0700, the stores and the key 0600 — on creation,
/// and fixed at start when an older version left them open. A replaced key
/// makes the server refuse to start, saying why.
#[cfg(unix)]
#[test]
fn data_dir_is_owner_only_and_a_wrong_key_fails_at_start() {
    use std::os::unix::fs::PermissionsExt;
    let dir = temp_dir("secrets-perms");
    let data = dir.join("baas-data");
    let server = start(&dir, &[], &[]);
    drop(server);
    assert_eq!(mode(&data), 0o700);
    for f in ["system.db", "demo.db", "secret.key"] {
        assert_eq!(mode(&data.join(f)), 0o600, "{f}");
    }
    // Open them up (as an older version did) and restart: fixed.
    std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o755)).unwrap();
    for f in ["system.db", "demo.db"] {
        std::fs::set_permissions(data.join(f), std::fs::Permissions::from_mode(0o644)).unwrap();
    }
    let server = start(&dir, &[], &[]);
    drop(server);
    assert_eq!(mode(&data), 0o700);
    assert_eq!(mode(&data.join("system.db")), 0o600);
    assert_eq!(mode(&data.join("demo.db")), 0o600);

    // A directory that holds other files too (`--data-dir .`) is not
    // restricted, only the server's files in it.
    let shared = dir.join("shared");
    std::fs::create_dir_all(&shared).unwrap();
    std::fs::write(shared.join("notes.txt"), "mine").unwrap();
    std::fs::set_permissions(&shared, std::fs::Permissions::from_mode(0o755)).unwrap();
    drop(start(&shared, &["--data-dir", "."], &[]));
    assert_eq!(mode(&shared), 0o755);
    assert_eq!(mode(&shared.join("system.db")), 0o600);
    assert_eq!(mode(&shared.join("secret.key")), 0o600);

    // The demo tenant's URL is sealed with secret.key: another key is refused.
    let other = SecretKey::generate().unwrap().to_base64();
    let err = start_fails(&dir, &[], &[("BAAS_SECRET_KEY", other.as_str())]);
    assert!(
        err.contains("does not open") && err.contains("--previous-secret-key-file"),
        "{err}"
    );
    // Rotation through the server: the new key, the old file as previous.
    let key_file = dir.join("new.key");
    std::fs::write(&key_file, format!("{other}\n")).unwrap();
    let old = data.join("secret.key");
    let rotate = [
        "--secret-key-file",
        key_file.to_str().unwrap(),
        "--previous-secret-key-file",
        old.to_str().unwrap(),
    ];
    drop(start(&dir, &rotate, &[]));
    // From now on the new key alone opens the store.
    drop(start(
        &dir,
        &["--secret-key-file", key_file.to_str().unwrap()],
        &[],
    ));
    let err = start_fails(&dir, &[], &[]);
    assert!(err.contains("does not open"), "{err}");
    let err = start_fails(&dir, &[], &[("BAAS_SECRET_KEY", "not-a-key")]);
    assert!(err.contains("32 bytes"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// `--admin-key-file` and `--db-file` read their value from a file (the
/// trailing newline trimmed), so neither shows in /proc/PID/cmdline; the
/// admin listing redacts the password and secret query parameters, and
/// system.db holds neither.
#[tokio::test]
async fn secrets_from_files_and_redacted_listing() {
    let pg = std::env::var("BAAS_TEST_PG_URL")
        .unwrap_or_else(|_| "postgres://baas:baas_pw@127.0.0.1:5432/chinook".into());
    if mini_baas::connect(&pg).await.is_err() {
        skip_or_fail("PostgreSQL (BAAS_TEST_PG_URL)", &"cannot connect");
        return;
    }
    let password = pg
        .split_once("://")
        .and_then(|(_, rest)| rest.split_once('@'))
        .and_then(|(info, _)| info.split_once(':'))
        .map(|(_, p)| p.to_string())
        .expect("a password in BAAS_TEST_PG_URL");
    let dir = temp_dir("secrets-files");
    let key = "an-admin-key-from-a-file-0123";
    std::fs::write(dir.join("admin.key"), format!("{key}\n")).unwrap();
    std::fs::write(dir.join("db.url"), format!("{pg}\n")).unwrap();
    let server = start(
        &dir,
        &[
            "--admin-key-file",
            "admin.key",
            "--db-file",
            "db.url",
            "--tenant",
            "chinook",
        ],
        &[],
    );
    let cmdline = std::fs::read(format!("/proc/{}/cmdline", server.child.id())).unwrap();
    assert!(!contains(&cmdline, &password) && !contains(&cmdline, key));
    let auth = format!("Bearer {key}");
    let admin = [("Authorization", auth.as_str())];

    // A second tenant whose password travels as a query parameter.
    let (scheme, _) = pg.split_once("://").unwrap();
    let host_db = pg.rsplit_once('@').map(|(_, h)| h).unwrap();
    let user = pg
        .split_once("://")
        .and_then(|(_, r)| r.split_once(':'))
        .map(|(u, _)| u)
        .unwrap();
    let query_url = format!("{scheme}://{user}@{host_db}?sslmode=disable&password={password}");
    let body = serde_json::json!({"id": "q", "url": query_url, "mode": "introspected"});
    let r = request(
        server.addr,
        "POST",
        "/_admin/tenants",
        &[admin[0], ("Content-Type", "application/json")],
        body.to_string().as_bytes(),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text());
    assert!(!r.text().contains(&password), "{}", r.text());

    let r = request(server.addr, "GET", "/_admin/tenants", &admin, b"").await;
    assert_eq!(r.status, 200, "{}", r.text());
    let text = r.text();
    assert!(!text.contains(&password), "{text}");
    assert!(text.contains("password=***"), "{text}");
    assert!(text.contains(":***@"), "{text}");
    // The key is the file's text without its newline: a different key is refused.
    let r = request(
        server.addr,
        "GET",
        "/_admin/tenants",
        &[("Authorization", "Bearer an-admin-key-from-a-file-0124")],
        b"",
    )
    .await;
    assert_eq!(r.status, 403, "{}", r.text());
    drop(server);
    let bytes = sqlite_bytes(&dir.join("baas-data/system.db"));
    assert!(!contains(&bytes, &password), "the password is in system.db");

    // An empty or missing file is a clear error naming the file, not the value.
    std::fs::write(dir.join("empty"), "\n").unwrap();
    let err = start_fails(&dir, &["--admin-key-file", "empty"], &[]);
    assert!(err.contains("empty") && err.contains("admin key"), "{err}");
    let err = start_fails(&dir, &["--db-file", "missing.url"], &[]);
    assert!(err.contains("missing.url"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}
