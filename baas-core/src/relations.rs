//! Relations inferred from foreign keys, shared by live introspection and the
//! schema importers so every discovery path names relations the same way.
//!
//! For each foreign key `child.(cols) → parent.(keys)`:
//! - a **many-to-one** on the child, named after the column without its
//!   `_id`/`Id` suffix (`artist_id` → `artist`), or after the parent entity
//!   when that would collide with a field (`reports_to` → `reports_to_employee`);
//! - the reverse on the parent: **one-to-one** when the child columns are unique
//!   (primary key or unique index), otherwise **one-to-many**, named after the
//!   child entity (`album`), or `album_by_<column>` when the same child has
//!   several foreign keys to that parent;
//! - for a **junction** (an entity with exactly two foreign keys, whose
//!   primary key holds the columns of both, and maybe more, as PostgREST
//!   reads it) a **many-to-many** on each side, named after the other
//!   side (`playlist.track`, `track.playlist`).
//!
//! Names are made unique per entity against its fields and earlier relations by
//! suffixing `_2`, `_3`…; foreign keys are processed in a sorted order, so the
//! result does not depend on catalog order.

use crate::metadata::{Relation, RelationKind, SchemaMetadata, Through};

/// A foreign key between two entities of a schema, by field names.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct ForeignKey {
    /// The referencing entity.
    pub from_entity: String,
    /// Its referencing fields.
    pub from_fields: Vec<String>,
    /// The referenced entity.
    pub to_entity: String,
    /// The referenced fields.
    pub to_fields: Vec<String>,
    /// Constraint name, when known.
    pub name: Option<String>,
}

fn strip_id(col: &str) -> Option<String> {
    let lower = col.to_ascii_lowercase();
    for suffix in ["_id", "_fk", "_key"] {
        if lower.len() > suffix.len() && lower.ends_with(suffix) {
            return Some(col[..col.len() - suffix.len()].to_string());
        }
    }
    // camelCase / PascalCase `ArtistId`, `artistID`.
    if col.len() > 2 && (col.ends_with("Id") || col.ends_with("ID")) {
        return Some(col[..col.len() - 2].to_string());
    }
    None
}

fn taken(schema: &SchemaMetadata, entity: &str, name: &str) -> bool {
    schema.entity(entity).is_ok_and(|e| {
        e.fields.iter().any(|f| f.name == name) || e.relations.iter().any(|r| r.name == name)
    })
}

fn unique_name(schema: &SchemaMetadata, entity: &str, base: String) -> String {
    if !taken(schema, entity, &base) {
        return base;
    }
    (2..)
        .map(|i| format!("{base}_{i}"))
        .find(|n| !taken(schema, entity, n))
        .unwrap_or(base)
}

fn push(schema: &mut SchemaMetadata, entity: &str, rel: Relation) {
    if let Some(e) = schema.entities.iter_mut().find(|e| e.name == entity) {
        e.relations.push(rel);
    }
}

fn same_set(a: &[String], b: &[String]) -> bool {
    a.len() == b.len() && a.iter().all(|x| b.contains(x))
}

fn is_unique(schema: &SchemaMetadata, entity: &str, fields: &[String]) -> bool {
    schema.entity(entity).is_ok_and(|e| {
        same_set(&e.primary_key, fields)
            || e.indexes
                .iter()
                .any(|i| i.unique && same_set(&i.fields, fields))
            || (fields.len() == 1 && e.field(&fields[0]).is_ok_and(|f| f.unique))
    })
}

/// Add the relations implied by `fks` to `schema` (existing relations are kept).
/// Foreign keys naming unknown entities are skipped.
pub fn infer_relations(schema: &mut SchemaMetadata, fks: &[ForeignKey]) {
    let mut fks: Vec<&ForeignKey> = fks
        .iter()
        .filter(|fk| {
            schema.entity(&fk.from_entity).is_ok()
                && schema.entity(&fk.to_entity).is_ok()
                && !fk.from_fields.is_empty()
                && fk.from_fields.len() == fk.to_fields.len()
        })
        .collect();
    fks.sort();
    fks.dedup();

    for fk in &fks {
        let count_same = fks
            .iter()
            .filter(|o| o.from_entity == fk.from_entity && o.to_entity == fk.to_entity)
            .count();
        // Many-to-one on the child.
        let base = match fk.from_fields.as_slice() {
            [col] => strip_id(col)
                .filter(|s| !taken(schema, &fk.from_entity, s))
                .unwrap_or_else(|| {
                    if count_same == 1
                        && fk.from_entity != fk.to_entity
                        && !taken(schema, &fk.from_entity, &fk.to_entity)
                    {
                        fk.to_entity.clone()
                    } else {
                        format!("{col}_{}", fk.to_entity)
                    }
                }),
            cols => {
                if count_same == 1 {
                    fk.to_entity.clone()
                } else {
                    format!("{}_by_{}", fk.to_entity, cols.join("_"))
                }
            }
        };
        let name = unique_name(schema, &fk.from_entity, base);
        push(
            schema,
            &fk.from_entity.clone(),
            Relation {
                name,
                kind: RelationKind::ManyToOne,
                target: fk.to_entity.clone(),
                from_fields: fk.from_fields.clone(),
                to_fields: fk.to_fields.clone(),
                constraint: fk.name.clone(),
                function: None,
            },
        );
        // The reverse on the parent.
        let one = is_unique(schema, &fk.from_entity, &fk.from_fields);
        let base = if count_same == 1 && fk.from_entity != fk.to_entity {
            fk.from_entity.clone()
        } else {
            let cols: Vec<String> = fk
                .from_fields
                .iter()
                .map(|c| strip_id(c).unwrap_or_else(|| c.clone()))
                .collect();
            format!("{}_by_{}", fk.from_entity, cols.join("_"))
        };
        let name = unique_name(schema, &fk.to_entity, base);
        push(
            schema,
            &fk.to_entity.clone(),
            Relation {
                name,
                kind: if one {
                    RelationKind::OneToOne
                } else {
                    RelationKind::OneToMany
                },
                target: fk.from_entity.clone(),
                from_fields: fk.to_fields.clone(),
                to_fields: fk.from_fields.clone(),
                constraint: fk.name.clone(),
                function: None,
            },
        );
    }

    // Junctions: exactly two foreign keys, both inside the primary key
    // (which may hold more columns, as PostgREST takes it: `jobs (job_id,
    // site_id, project_id)` links sites and projects).
    let junctions: Vec<(String, &ForeignKey, &ForeignKey)> = schema
        .entities
        .iter()
        .filter_map(|j| {
            let own: Vec<&&ForeignKey> = fks.iter().filter(|fk| fk.from_entity == j.name).collect();
            // Two foreign keys over the same columns (one table's key
            // referencing two others) link nothing to nothing.
            if own.len() != 2
                || j.primary_key.is_empty()
                || own[0]
                    .from_fields
                    .iter()
                    .any(|c| own[1].from_fields.contains(c))
            {
                return None;
            }
            own.iter()
                .flat_map(|fk| &fk.from_fields)
                .all(|c| j.primary_key.contains(c))
                .then(|| (j.name.clone(), *own[0], *own[1]))
        })
        .collect();
    for (junction, a, b) in junctions {
        for (here, there) in [(a, b), (b, a)] {
            let base = if taken(schema, &here.to_entity, &there.to_entity) {
                format!("{}_via_{junction}", there.to_entity)
            } else {
                there.to_entity.clone()
            };
            let name = unique_name(schema, &here.to_entity, base);
            push(
                schema,
                &here.to_entity.clone(),
                Relation {
                    name,
                    kind: RelationKind::ManyToMany {
                        through: Through {
                            entity: junction.clone(),
                            source_fields: here.from_fields.clone(),
                            target_fields: there.from_fields.clone(),
                        },
                    },
                    target: there.to_entity.clone(),
                    from_fields: here.to_fields.clone(),
                    to_fields: there.to_fields.clone(),
                    constraint: None,
                    function: None,
                },
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metadata::{Entity, Field, FieldType};

    fn ent(name: &str, fields: &[&str], pk: &[&str]) -> Entity {
        Entity::new(
            name,
            fields
                .iter()
                .map(|f| Field::new(*f, FieldType::Int32))
                .collect(),
        )
        .with_primary_key(pk.iter().copied())
    }

    fn fk(from: &str, cols: &[&str], to: &str, keys: &[&str]) -> ForeignKey {
        ForeignKey {
            from_entity: from.into(),
            from_fields: cols.iter().map(|s| s.to_string()).collect(),
            to_entity: to.into(),
            to_fields: keys.iter().map(|s| s.to_string()).collect(),
            name: None,
        }
    }

    fn names(s: &SchemaMetadata, e: &str) -> Vec<String> {
        s.entity(e)
            .unwrap()
            .relations
            .iter()
            .map(|r| r.name.clone())
            .collect()
    }

    #[test]
    fn chinook_like_relations_are_readable_and_unique() {
        let mut s = SchemaMetadata::new(vec![
            ent("artist", &["artist_id"], &["artist_id"]),
            ent("album", &["album_id", "artist_id"], &["album_id"]),
            ent("employee", &["employee_id", "reports_to"], &["employee_id"]),
            ent("track", &["track_id"], &["track_id"]),
            ent("playlist", &["playlist_id"], &["playlist_id"]),
            ent(
                "playlist_track",
                &["playlist_id", "track_id"],
                &["playlist_id", "track_id"],
            ),
            ent("flight", &["id", "origin_id", "destination_id"], &["id"]),
            ent("airport", &["id"], &["id"]),
        ]);
        // Catalog order must not matter.
        infer_relations(
            &mut s,
            &[
                fk("playlist_track", &["track_id"], "track", &["track_id"]),
                fk("flight", &["origin_id"], "airport", &["id"]),
                fk("album", &["artist_id"], "artist", &["artist_id"]),
                fk("employee", &["reports_to"], "employee", &["employee_id"]),
                fk(
                    "playlist_track",
                    &["playlist_id"],
                    "playlist",
                    &["playlist_id"],
                ),
                fk("flight", &["destination_id"], "airport", &["id"]),
            ],
        );
        assert_eq!(names(&s, "album"), ["artist"]);
        assert_eq!(names(&s, "artist"), ["album"]);
        assert_eq!(
            names(&s, "employee"),
            ["reports_to_employee", "employee_by_reports_to"]
        );
        assert_eq!(names(&s, "flight"), ["destination", "origin"]);
        assert_eq!(
            names(&s, "airport"),
            ["flight_by_destination", "flight_by_origin"]
        );
        assert_eq!(names(&s, "playlist"), ["playlist_track", "track"]);
        assert_eq!(names(&s, "track"), ["playlist_track", "playlist"]);
        let m2m = s.entity("playlist").unwrap().relation("track").unwrap();
        assert!(
            matches!(&m2m.kind, RelationKind::ManyToMany { through } if through.entity == "playlist_track")
        );
        assert!(s.check().is_ok(), "{:?}", s.check());
    }

    /// A junction's primary key may hold more than its two foreign keys.
    #[test]
    fn junctions_with_more_key_columns_link_many_to_many() {
        let mut s = SchemaMetadata::new(vec![
            ent("site", &["id"], &["id"]),
            ent("project", &["id"], &["id"]),
            ent(
                "job",
                &["job_id", "site_id", "project_id"],
                &["job_id", "site_id", "project_id"],
            ),
            ent(
                "visit",
                &["id", "site_id", "project_id"],
                &["id", "site_id"],
            ),
        ]);
        infer_relations(
            &mut s,
            &[
                fk("job", &["site_id"], "site", &["id"]),
                fk("job", &["project_id"], "project", &["id"]),
                fk("visit", &["site_id"], "site", &["id"]),
                fk("visit", &["project_id"], "project", &["id"]),
            ],
        );
        let m2m = s.entity("site").unwrap().relation("project").unwrap();
        assert!(
            matches!(&m2m.kind, RelationKind::ManyToMany { through } if through.entity == "job"),
            "{m2m:?}"
        );
        // `visit`'s key does not hold `project_id`: no junction.
        assert!(
            s.entity("site")
                .unwrap()
                .relations
                .iter()
                .all(|r| !matches!(&r.kind, RelationKind::ManyToMany { through } if through.entity == "visit"))
        );
        assert!(s.check().is_ok(), "{:?}", s.check());
    }

    #[test]
    fn unique_child_columns_give_one_to_one() {
        let mut s = SchemaMetadata::new(vec![
            ent("user", &["id"], &["id"]),
            ent("profile", &["user_id"], &["user_id"]),
        ]);
        infer_relations(&mut s, &[fk("profile", &["user_id"], "user", &["id"])]);
        let r = s.entity("user").unwrap().relation("profile").unwrap();
        assert_eq!(r.kind, RelationKind::OneToOne);
    }
}
