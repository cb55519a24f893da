//! A SQLite file of a bench's own, loaded by a script, through the
//! adapter (its collations and settings), for the benches that read it
//! (`#[path]`-included: bench targets share no library).

use std::path::PathBuf;

use baas_adapter_sqlite::{SqliteAdapter, SqliteConfig, connect};

/// A fresh file `baas-bench-{tag}-{pid}.db` in the temporary directory,
/// `script` run on it; the adapter and the file's path (to remove after).
pub fn sqlite_file(
    rt: &tokio::runtime::Runtime,
    tag: &str,
    script: &str,
) -> (SqliteAdapter, PathBuf) {
    let path = std::env::temp_dir().join(format!("baas-bench-{tag}-{}.db", std::process::id()));
    let _ = std::fs::remove_file(&path);
    let db = rt.block_on(async {
        let db = connect(SqliteConfig::new(format!("sqlite://{}", path.display())))
            .await
            .expect("sqlite");
        db.backend().execute_script(script).await.expect("rows");
        db
    });
    (db, path)
}
