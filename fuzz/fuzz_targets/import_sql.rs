//! Fuzz the SQL DDL importer: any text, in every flavor, must give `Ok` or
//! `Err` — never a panic, a stack overflow or a hang.
#![no_main]

use baas_introspect::{SqlFlavor, sql};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    for flavor in [SqlFlavor::Postgres, SqlFlavor::Mysql, SqlFlavor::Sqlite] {
        if let Ok(import) = sql::import(&text, flavor) {
            // Whatever is imported must be consistent.
            assert!(import.schema.check().is_ok());
        }
    }
});
