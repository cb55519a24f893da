//! Write bodies checked against JSON Schemas compiled from metadata
//! (required fields, types, formats, enums, lengths, unknown fields), once
//! per entity and metadata version.

use std::fmt::Write as _;

use baas_core::error::{Error, Result, Violation};
use baas_core::ir::Record;
use baas_core::json_schema::{SchemaMode, entity_json_schema};
use baas_core::metadata::Entity;

/// Most violations reported for one request.
const MAX_VIOLATIONS: usize = 50;

/// The compiled validators of one entity.
pub(crate) struct BodyValidators {
    insert: jsonschema::Validator,
    update: jsonschema::Validator,
}

impl std::fmt::Debug for BodyValidators {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BodyValidators").finish_non_exhaustive()
    }
}

fn compile(entity: &Entity, mode: SchemaMode) -> Result<jsonschema::Validator> {
    let schema = entity_json_schema(entity, mode);
    jsonschema::options()
        .with_draft(jsonschema::Draft::Draft202012)
        .should_validate_formats(true)
        .build(&schema)
        .map_err(|e| Error::Backend {
            message: format!(
                "the JSON Schema generated for entity `{}` does not compile: {e}",
                entity.name
            ),
            source: None,
        })
}

impl BodyValidators {
    /// Compile the insert and update validators of `entity`.
    pub(crate) fn new(entity: &Entity) -> Result<Self> {
        Ok(Self {
            insert: compile(entity, SchemaMode::Insert)?,
            update: compile(entity, SchemaMode::Update)?,
        })
    }

    /// Check insert rows; pointers are `/rows/{i}/{field}` as in the IR.
    pub(crate) fn check_insert(&self, rows: &[Record]) -> Result<()> {
        let mut violations = Vec::new();
        for (i, row) in rows.iter().enumerate() {
            check(&self.insert, row, &format!("/rows/{i}"), &mut violations);
            if violations.len() >= MAX_VIOLATIONS {
                break;
            }
        }
        finish(violations)
    }

    /// Check the `set` of an update (nothing required); pointers `/set/{field}`.
    pub(crate) fn check_update(&self, set: &Record) -> Result<()> {
        let mut violations = Vec::new();
        check(&self.update, set, "/set", &mut violations);
        finish(violations)
    }
}

fn check(v: &jsonschema::Validator, row: &Record, prefix: &str, out: &mut Vec<Violation>) {
    let instance = serde_json::Value::Object(row.clone());
    if v.is_valid(&instance) {
        return;
    }
    for e in v.iter_errors(&instance) {
        if out.len() >= MAX_VIOLATIONS {
            break;
        }
        let mut pointer = prefix.to_string();
        let path = e.instance_path().as_str().to_string();
        let _ = write!(pointer, "{path}");
        out.push(Violation::new(pointer, e.to_string()));
    }
}

fn finish(violations: Vec<Violation>) -> Result<()> {
    if violations.is_empty() {
        Ok(())
    } else {
        Err(Error::Validation { violations })
    }
}
