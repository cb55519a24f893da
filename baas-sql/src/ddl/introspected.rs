//! What live introspection reads back after `CreateEntity`.

use baas_core::{Entity, Field, FieldType, Generated, Index};

use super::{Ddl, unique_index_name};
use crate::dialect::Dialect;

/// What introspection on `d` reports for a column created for type `t`
/// (`max_length` updated where the engine reports one).
pub(crate) fn introspected_type(
    d: Dialect,
    t: &FieldType,
    max_length: &mut Option<u32>,
) -> FieldType {
    match t {
        FieldType::Decimal {
            precision: Some(p),
            scale: None,
        } => FieldType::Decimal {
            precision: Some(*p),
            scale: Some(0),
        },
        other => d
            .sql()
            .introspected_type(other, max_length)
            .unwrap_or_else(|| other.clone()),
    }
}

/// The entity as live introspection describes it after `CreateEntity` on
/// `dialect` (ignoring defaults, descriptions and relations, which
/// introspection prints or names its own way):
///
/// - field names are column names (`column` is folded into `name`), key and
///   index fields too; indexes are sorted by name and include the unique
///   index of each `unique` field; a field covered by a single-column unique
///   index is `unique`; a sole key field is not reported `unique`;
/// - `decimal(p)` reads back as `decimal(p,0)`;
/// - PostgreSQL: unnamed enums read back as `text`; a named enum loses its
///   schema prefix;
/// - MySQL: enums lose their type name; `uuid` reads back as `text` with
///   `max_length` 36 (it is stored as `char(36)`);
/// - SQLite: `int32` and auto-increment keys read back as `int64` (SQLite
///   integers are 64-bit; the rowid is declared `INTEGER`) and enums as
///   `text`.
pub fn introspected(dialect: Dialect, entity: &Entity) -> Entity {
    let column_of = |name: &String| -> String {
        entity
            .fields
            .iter()
            .find(|f| &f.name == name)
            .map_or_else(|| name.clone(), |f| f.column().to_string())
    };
    let key: Vec<&Field> = entity.key_fields().collect();
    let ddl = Ddl::new(dialect, entity);
    let mut indexes: Vec<Index> = entity
        .indexes
        .iter()
        .map(|ix| Index {
            name: ix.name.clone(),
            fields: ix.fields.iter().map(column_of).collect(),
            unique: ix.unique,
        })
        .collect();
    for f in &entity.fields {
        if f.unique && !ddl.unique_covered(f, &key) {
            indexes.push(Index {
                name: unique_index_name(&entity.source.table, f.column()),
                fields: vec![f.column().to_string()],
                unique: true,
            });
        }
    }
    indexes.sort_by(|a, b| a.name.cmp(&b.name));
    let fields = entity
        .fields
        .iter()
        // The DDL makes no functions: computed fields are not found.
        .filter(|f| !f.is_computed())
        .map(|f| {
            let mut max_length = f.max_length;
            let mut ty = introspected_type(dialect, &f.ty, &mut max_length);
            if f.generated == Generated::AutoIncrement
                && let Some(t) = dialect.sql().introspected_auto_increment()
            {
                ty = t;
            }
            let column = f.column().to_string();
            let unique = indexes
                .iter()
                .any(|ix| ix.unique && ix.fields.as_slice() == std::slice::from_ref(&column));
            Field {
                name: column,
                column: None,
                ty,
                nullable: f.nullable,
                default: None,
                generated: f.generated,
                unique,
                max_length,
                // The DDL declares no unsigned columns.
                range: None,
                db_type: None,
                description: None,
                computed: None,
            }
        })
        .collect();
    Entity {
        name: entity.name.clone(),
        source: entity.source.clone(),
        primary_key: entity.primary_key.iter().map(column_of).collect(),
        fields,
        relations: Vec::new(),
        indexes,
        read_only: false,
        view: false,
        request_settings: false,
        write_settings: false,
        description: None,
    }
}
