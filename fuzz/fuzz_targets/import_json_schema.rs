//! Fuzz the json_schema importer: any input must give `Ok` or `Err`, never a
//! panic, a stack overflow or a hang.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = baas_introspect::import(text, baas_introspect::Format::JsonSchema);
    }
});
