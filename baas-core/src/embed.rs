//! Relation embedding, engine-neutral: one batched query per relation level
//! (two for many-to-many: the junction, then the targets), never one per row.
//!
//! [`find_with_embeds`] runs the flat query (adding the link fields it needs),
//! then for every embed collects the distinct link keys of the parent rows,
//! fetches all related rows with one `in` filter (chunked under the `in`-list
//! limit) through the same adapter — which resolves deeper embeds the same way
//! — and attaches them: an object or `null` for to-one relations, an array for
//! to-many ones. An embed's `limit` applies per parent, after its `order`: in
//! the database for one-to-many relations (a `ROW_NUMBER()` window per parent
//! key), after the batch for many-to-many ones (the targets are shared).

use std::collections::HashMap;

use serde_json::{Map, Value as J};

use crate::adapter::{DatabaseAdapter, Target};
use crate::error::Result;
use crate::ir::{Embed, Filter, Query, Rows};
use crate::metadata::{Entity, FieldType, RelationKind};
use crate::value::Value;

type Row = Map<String, J>;

/// Keys per `in` filter (kept under the default `in`-list limit).
const CHUNK: usize = 500;

/// A key value in the canonical JSON of `ty`, so that the two ends of a
/// relation compare equal even when their field types differ (an int32 key
/// pointing at an int64 or decimal one).
fn canon(v: &J, ty: &FieldType) -> J {
    Value::from_json(v)
        .coerce(ty)
        .map(|x| x.to_json())
        .unwrap_or_else(|_| v.clone())
}

/// The canonical text of one key value: integers (the common key type) go
/// straight to their decimal text, which is what the general path would
/// produce for them too; everything else goes through `canon`.
fn key_part(v: &J, ty: &FieldType) -> String {
    match (v, ty) {
        (J::Number(n), FieldType::Int16 | FieldType::Int32 | FieldType::Int64)
            if n.is_i64() || n.is_u64() =>
        {
            n.to_string()
        }
        _ => canon(v, ty).to_string(),
    }
}

fn key_of(row: &Row, fields: &[String], types: &[FieldType]) -> Option<String> {
    if let ([f], [ty]) = (fields, types) {
        return match row.get(f) {
            None | Some(J::Null) => None,
            Some(v) => Some(key_part(v, ty)),
        };
    }
    let mut key = String::new();
    for (i, (f, ty)) in fields.iter().zip(types).enumerate() {
        match row.get(f) {
            None | Some(J::Null) => return None,
            Some(v) => {
                if i > 0 {
                    key.push('\u{1f}');
                }
                key.push_str(&key_part(v, ty));
            }
        }
    }
    Some(key)
}

/// The types of `fields` of `entity` (text for unknown ones).
fn types_of(entity: &Entity, fields: &[String]) -> Vec<FieldType> {
    fields
        .iter()
        .map(|f| entity.field(f).map_or(FieldType::Text, |fd| fd.ty.clone()))
        .collect()
}

/// A filter matching rows whose `fields` equal one of `keys` (rows of values).
fn keys_filter(fields: &[String], keys: &[Vec<J>]) -> Filter {
    if let [field] = fields {
        return Filter::In {
            field: field.clone(),
            values: keys.iter().map(|k| Value::from_json(&k[0])).collect(),
        };
    }
    Filter::or(
        keys.iter()
            .map(|k| {
                Filter::and(
                    fields
                        .iter()
                        .zip(k)
                        .map(|(f, v)| Filter::eq(f.clone(), Value::from_json(v)))
                        .collect(),
                )
            })
            .collect(),
    )
}

fn distinct_keys(rows: &[Row], fields: &[String], types: &[FieldType]) -> Vec<Vec<J>> {
    let mut seen = std::collections::HashSet::new();
    let mut out = Vec::new();
    for r in rows {
        if let Some(k) = key_of(r, fields, types)
            && seen.insert(k)
        {
            out.push(
                fields
                    .iter()
                    .zip(types)
                    .map(|(f, ty)| canon(&r[f], ty))
                    .collect(),
            );
        }
    }
    out
}

/// Fetch every row of `entity` whose `fields` match one of `keys`, in chunks.
async fn fetch_by_keys(
    db: &dyn DatabaseAdapter,
    target: Target<'_>,
    base: &Query,
    fields: &[String],
    keys: &[Vec<J>],
) -> Result<Vec<Row>> {
    let mut out = Vec::new();
    for chunk in keys.chunks(CHUNK) {
        let mut q = base.clone();
        let kf = keys_filter(fields, chunk);
        q.filter = Some(match q.filter.take() {
            Some(f) => Filter::and(vec![kf, f]),
            None => kf,
        });
        out.extend(db.find(target, &q).await?.rows);
    }
    Ok(out)
}

/// Add `needed` to an explicit field list (an empty list already means all).
fn with_fields(selected: &[String], needed: &[String]) -> (Vec<String>, Vec<String>) {
    if selected.is_empty() {
        return (Vec::new(), Vec::new());
    }
    let mut fields = selected.to_vec();
    let mut added = Vec::new();
    for n in needed {
        if !fields.contains(n) {
            fields.push(n.clone());
            added.push(n.clone());
        }
    }
    (fields, added)
}

/// Run `query` with its embeds resolved. The adapter's `find` must handle the
/// flat part (this function calls it with `embeds` emptied).
pub async fn find_with_embeds(
    db: &dyn DatabaseAdapter,
    target: Target<'_>,
    query: &Query,
) -> Result<Rows> {
    let entity = target.entity;
    let mut needed = Vec::new();
    for e in &query.select.embeds {
        needed.extend(entity.relation(&e.relation)?.from_fields.iter().cloned());
    }
    let (fields, added) = with_fields(&query.select.fields, &needed);
    let mut flat = query.clone();
    flat.select.fields = fields;
    flat.select.embeds.clear();
    let mut result = db.find(target, &flat).await?;
    for embed in &query.select.embeds {
        attach(db, target, entity, embed, &mut result.rows).await?;
    }
    for r in &mut result.rows {
        for f in &added {
            r.shift_remove(f);
        }
    }
    Ok(result)
}

async fn attach(
    db: &dyn DatabaseAdapter,
    parent: Target<'_>,
    entity: &Entity,
    embed: &Embed,
    rows: &mut [Row],
) -> Result<()> {
    let rel = entity.relation(&embed.relation)?;
    let target = Target::new(parent.schema, &rel.target)?;
    let key = embed.alias.clone().unwrap_or_else(|| rel.name.clone());
    let target_entity = target.entity;
    // Parent keys in the types of the fields they are matched against.
    let parent_types = match &rel.kind {
        RelationKind::ManyToMany { through } => types_of(
            parent.schema.entity(&through.entity)?,
            &through.source_fields,
        ),
        _ => types_of(target_entity, &rel.to_fields),
    };
    let child_types = types_of(target_entity, &rel.to_fields);
    let parent_keys = distinct_keys(rows, &rel.from_fields, &parent_types);
    let mut child_q = Query::new(rel.target.clone());
    child_q.select = embed.select.clone();
    child_q.filter = embed.filter.clone();
    child_q.order = embed.order.clone();

    // Children grouped by the parent key they belong to.
    let mut groups: HashMap<String, Vec<Row>> = HashMap::new();
    match &rel.kind {
        RelationKind::ManyToMany { through } => {
            let junction = Target::new(parent.schema, &through.entity)?;
            let mut jq = Query::new(through.entity.clone());
            jq.select.fields = through
                .source_fields
                .iter()
                .chain(&through.target_fields)
                .cloned()
                .collect();
            let links = if parent_keys.is_empty() {
                Vec::new()
            } else {
                fetch_by_keys(db, junction, &jq, &through.source_fields, &parent_keys).await?
            };
            let target_keys = distinct_keys(&links, &through.target_fields, &child_types);
            let (fields, added) = with_fields(&child_q.select.fields, &rel.to_fields);
            child_q.select.fields = fields;
            let children = if target_keys.is_empty() {
                Vec::new()
            } else {
                fetch_by_keys(db, target, &child_q, &rel.to_fields, &target_keys).await?
            };
            let mut by_target: HashMap<String, usize> = HashMap::new();
            for (i, c) in children.iter().enumerate() {
                if let Some(k) = key_of(c, &rel.to_fields, &child_types) {
                    by_target.entry(k).or_insert(i);
                }
            }
            // Keep the children's order within each parent.
            let mut per_parent: HashMap<String, Vec<usize>> = HashMap::new();
            for l in &links {
                let (Some(pk), Some(tk)) = (
                    key_of(l, &through.source_fields, &parent_types),
                    key_of(l, &through.target_fields, &child_types),
                ) else {
                    continue;
                };
                if let Some(&i) = by_target.get(&tk) {
                    per_parent.entry(pk).or_default().push(i);
                }
            }
            for (pk, mut idx) in per_parent {
                idx.sort_unstable();
                idx.dedup();
                let list = idx
                    .into_iter()
                    .map(|i| strip(children[i].clone(), &added))
                    .collect();
                groups.insert(pk, list);
            }
        }
        _ => {
            let (fields, added) = with_fields(&child_q.select.fields, &rel.to_fields);
            child_q.select.fields = fields;
            // Bound the batch: at most `limit` children per parent, in the database.
            if let (Some(limit), false) = (embed.limit, rel.kind.is_to_one()) {
                child_q.page.partition = Some(crate::ir::PartitionLimit {
                    fields: rel.to_fields.clone(),
                    limit,
                });
            }
            let children = if parent_keys.is_empty() {
                Vec::new()
            } else {
                fetch_by_keys(db, target, &child_q, &rel.to_fields, &parent_keys).await?
            };
            for c in children {
                if let Some(k) = key_of(&c, &rel.to_fields, &child_types) {
                    groups.entry(k).or_default().push(strip(c, &added));
                }
            }
        }
    }
    let to_one = rel.kind.is_to_one();
    let n = embed.limit.map_or(usize::MAX, |l| l as usize);
    // How many parents share each key: the last one may take the group
    // instead of cloning it (parents usually have distinct keys).
    let parent_row_keys: Vec<Option<String>> = rows
        .iter()
        .map(|r| key_of(r, &rel.from_fields, &parent_types))
        .collect();
    let mut sharing: HashMap<&str, usize> = HashMap::new();
    for k in parent_row_keys.iter().flatten() {
        *sharing.entry(k.as_str()).or_default() += 1;
    }
    for (r, k) in rows.iter_mut().zip(&parent_row_keys) {
        let last = k
            .as_deref()
            .and_then(|k| sharing.get_mut(k))
            .is_some_and(|c| {
                *c -= 1;
                *c == 0
            });
        let value = match k {
            None => None,
            Some(k) if to_one => groups
                .get_mut(k)
                .and_then(|l| {
                    if last {
                        (!l.is_empty()).then(|| l.swap_remove(0))
                    } else {
                        l.first().cloned()
                    }
                })
                .map(J::Object),
            Some(k) => {
                let list = if last {
                    groups.remove(k)
                } else {
                    groups.get(k).cloned()
                };
                list.map(|l| J::Array(l.into_iter().take(n).map(J::Object).collect()))
            }
        };
        let value = value.unwrap_or_else(|| {
            if to_one {
                J::Null
            } else {
                J::Array(Vec::new())
            }
        });
        r.insert(key.clone(), value);
    }
    Ok(())
}

fn strip(mut row: Row, added: &[String]) -> Row {
    for f in added {
        row.shift_remove(f);
    }
    row
}
