//! Relation embedding, engine-neutral: one batched query per relation level
//! (two for many-to-many: the junction, then the targets), never one per row.
//!
//! [`find_with_embeds`] runs the flat query (adding the link fields it needs),
//! then for every embed collects the distinct link keys of the parent rows,
//! fetches all related rows with one `in` filter (chunked under the `in`-list
//! limit) — resolving deeper embeds the same way — and attaches them: an
//! object or `null` for to-one relations, an array for to-many ones. An
//! embed's `limit` applies per parent, after its `order`: in the database for
//! one-to-many relations (a `ROW_NUMBER()` window per parent key), after the
//! batch for many-to-many ones (the targets are shared).
//!
//! ## The row budget
//!
//! [`Query::max_rows`] bounds the whole read, whatever its shape:
//! - **fetched**: every query sent to the database (root page, junctions,
//!   related rows, at every depth) is capped at what is left of the budget
//!   plus one row, so the database never sends more; one row over the
//!   budget ends the read with [`Error::LimitExceeded`];
//! - **answered**: before related rows are attached, the rows the answer
//!   would then hold are counted — a related row (with everything embedded
//!   under it) counts once for every parent it is attached to, since it is
//!   copied for each — and an answer over the budget is refused before
//!   anything is copied. Shared many-to-many targets therefore cannot
//!   multiply into an answer far larger than what was fetched.

use std::collections::HashMap;

use serde_json::{Map, Value as J};

use crate::adapter::{DatabaseAdapter, Target};
use crate::error::{Error, Result};
use crate::ir::{Embed, Filter, Query, Rows};
use crate::metadata::{Entity, FieldType, RelationKind};
use crate::value::Value;

type Row = Map<String, J>;

/// Keys per `in` filter (kept under the default `in`-list limit).
const CHUNK: usize = 500;

/// Rows copied into an answer between two yields to the executor.
const YIELD_EVERY: u64 = 4096;

/// Yield once to the executor (runtime-agnostic), so that a read being
/// copied can be dropped between slices of work.
struct YieldNow(bool);

impl std::future::Future for YieldNow {
    type Output = ();
    fn poll(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<()> {
        if self.0 {
            std::task::Poll::Ready(())
        } else {
            self.0 = true;
            cx.waker().wake_by_ref();
            std::task::Poll::Pending
        }
    }
}

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

/// What is left of one read's row budget ([`Query::max_rows`]); shared by
/// every level of the read.
#[derive(Debug, Clone, Copy)]
struct Budget {
    max: Option<u64>,
    fetched: u64,
}

impl Budget {
    fn exceeded(max: u64, what: &str) -> Error {
        Error::LimitExceeded {
            limit: "max_rows",
            max,
            message: format!(
                "this read {what} more than {max} rows, counting the page and every embedded row at every depth"
            ),
        }
    }

    /// The `limit` for the next database query: what is left, plus one row
    /// to tell "exactly used up" from "over".
    fn cap(&self, limit: Option<u64>) -> Option<u64> {
        match self.max {
            None => limit,
            Some(max) => {
                let cap = max.saturating_sub(self.fetched).saturating_add(1);
                Some(limit.map_or(cap, |l| l.min(cap)))
            }
        }
    }

    /// Count `n` rows that came from the database.
    fn fetch(&mut self, n: usize) -> Result<()> {
        self.fetched = self.fetched.saturating_add(n as u64);
        match self.max {
            Some(max) if self.fetched > max => Err(Self::exceeded(max, "would fetch")),
            _ => Ok(()),
        }
    }

    /// Check the rows an answer would hold.
    fn answer(&self, rows: u64) -> Result<()> {
        match self.max {
            Some(max) if rows > max => Err(Self::exceeded(max, "would answer with")),
            _ => Ok(()),
        }
    }
}

/// Rows of the answer a related row stands for: itself and everything
/// embedded under it, at every depth.
fn weight(row: &Row, embeds: &[Embed]) -> u64 {
    let mut w = 1u64;
    for e in embeds {
        let key = e.alias.as_deref().unwrap_or(&e.relation);
        match row.get(key) {
            Some(J::Object(o)) => w = w.saturating_add(weight(o, &e.select.embeds)),
            Some(J::Array(a)) => {
                for x in a {
                    if let J::Object(o) = x {
                        w = w.saturating_add(weight(o, &e.select.embeds));
                    }
                }
            }
            _ => {}
        }
    }
    w
}

/// Rows of the answer that attaching would add: every parent row gets a
/// copy of its key's group, `weights` rows each.
fn copies(
    rows: &[Row],
    fields: &[String],
    types: &[FieldType],
    weights: &HashMap<String, u64>,
) -> u64 {
    rows.iter()
        .filter_map(|r| key_of(r, fields, types))
        .fold(0u64, |acc, k| {
            acc.saturating_add(weights.get(&k).copied().unwrap_or(0))
        })
}

/// One query of the read: flat through the adapter, or with its embeds
/// resolved here (sharing the budget).
async fn run(
    db: &dyn DatabaseAdapter,
    target: Target<'_>,
    query: &Query,
    budget: &mut Budget,
) -> Result<Rows> {
    if query.select.embeds.is_empty() {
        let mut q = query.clone();
        q.max_rows = None;
        q.page.limit = budget.cap(q.page.limit);
        let result = db.find(target, &q).await?;
        budget.fetch(result.rows.len())?;
        return Ok(result);
    }
    let entity = target.entity;
    let mut needed = Vec::new();
    for e in &query.select.embeds {
        needed.extend(entity.relation(&e.relation)?.from_fields.iter().cloned());
    }
    let (fields, added) = with_fields(&query.select.fields, &needed);
    let mut flat = query.clone();
    flat.select.fields = fields;
    flat.select.embeds.clear();
    flat.max_rows = None;
    flat.page.limit = budget.cap(flat.page.limit);
    let mut result = db.find(target, &flat).await?;
    budget.fetch(result.rows.len())?;
    let mut answered = result.rows.len() as u64;
    for embed in &query.select.embeds {
        let attached = attach(
            db,
            target,
            entity,
            embed,
            &mut result.rows,
            budget,
            answered,
        )
        .await?;
        answered = answered.saturating_add(attached);
    }
    for r in &mut result.rows {
        for f in &added {
            r.shift_remove(f);
        }
    }
    Ok(result)
}

/// Fetch every row of `entity` whose `fields` match one of `keys`, in chunks.
async fn fetch_by_keys(
    db: &dyn DatabaseAdapter,
    target: Target<'_>,
    base: &Query,
    fields: &[String],
    keys: &[Vec<J>],
    budget: &mut Budget,
) -> Result<Vec<Row>> {
    let mut out = Vec::new();
    for chunk in keys.chunks(CHUNK) {
        let mut q = base.clone();
        let kf = keys_filter(fields, chunk);
        q.filter = Some(match q.filter.take() {
            Some(f) => Filter::and(vec![kf, f]),
            None => kf,
        });
        // Boxed: `run` recurses through here for deeper embeds.
        out.extend(Box::pin(run(db, target, &q, budget)).await?.rows);
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

/// Run `query` with its embeds resolved, within its row budget
/// ([`Query::max_rows`], see the module docs). The adapter's `find` must
/// handle the flat part (this function calls it with `embeds` emptied and
/// `max_rows` turned into a `limit`).
pub async fn find_with_embeds(
    db: &dyn DatabaseAdapter,
    target: Target<'_>,
    query: &Query,
) -> Result<Rows> {
    let mut budget = Budget {
        max: query.max_rows,
        fetched: 0,
    };
    run(db, target, query, &mut budget).await
}

/// Attach `embed` to `rows`; returns how many rows of the answer it added
/// (related rows with their own embedded rows, once per parent). `answered`
/// rows are in the answer already.
async fn attach(
    db: &dyn DatabaseAdapter,
    parent: Target<'_>,
    entity: &Entity,
    embed: &Embed,
    rows: &mut [Row],
    budget: &mut Budget,
    answered: u64,
) -> Result<u64> {
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
    let to_one = rel.kind.is_to_one();
    let n = embed.limit.map_or(usize::MAX, |l| l as usize);
    let mut groups: HashMap<String, Vec<Row>> = HashMap::new();
    // Each branch fills `groups`, and checks the budget before anything is
    // copied: the rows each group adds per parent, and the total.
    let (weights, added_rows) = match &rel.kind {
        RelationKind::ManyToMany { through } => {
            let junction = Target::new(parent.schema, &through.entity)?;
            let mut jq = Query::new(through.entity.clone());
            jq.select.fields = through
                .source_fields
                .iter()
                .chain(&through.target_fields)
                .cloned()
                .collect();
            // With a limit and the targets in key order, unfiltered, the
            // first `limit` links of each parent (in target-key order) name
            // exactly the targets kept: bound the junction rows in the
            // database instead of fetching every link of every parent.
            if let Some(limit) = embed.limit
                && embed.filter.is_none()
                && embed.order.is_empty()
                && rel.to_fields == target_entity.primary_key
            {
                jq.order = through
                    .target_fields
                    .iter()
                    .map(|f| crate::ir::OrderBy::asc(f.clone()))
                    .collect();
                jq.page.partition = Some(crate::ir::PartitionLimit {
                    fields: through.source_fields.clone(),
                    limit,
                });
            }
            let links = if parent_keys.is_empty() {
                Vec::new()
            } else {
                fetch_by_keys(
                    db,
                    junction,
                    &jq,
                    &through.source_fields,
                    &parent_keys,
                    budget,
                )
                .await?
            };
            let target_keys = distinct_keys(&links, &through.target_fields, &child_types);
            let (fields, added) = with_fields(&child_q.select.fields, &rel.to_fields);
            child_q.select.fields = fields;
            let children = if target_keys.is_empty() {
                Vec::new()
            } else {
                fetch_by_keys(db, target, &child_q, &rel.to_fields, &target_keys, budget).await?
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
            // Targets are shared between parents: each parent gets copies.
            // Count what the copies would add before making any.
            let child_weight: Vec<u64> = children
                .iter()
                .map(|c| weight(c, &embed.select.embeds))
                .collect();
            let mut weights: HashMap<String, u64> = HashMap::new();
            for (pk, idx) in &mut per_parent {
                idx.sort_unstable();
                idx.dedup();
                idx.truncate(n);
                let w = idx
                    .iter()
                    .fold(0u64, |acc, &i| acc.saturating_add(child_weight[i]));
                weights.insert(pk.clone(), w);
            }
            let added_rows = copies(rows, &rel.from_fields, &parent_types, &weights);
            budget.answer(answered.saturating_add(added_rows))?;
            let mut copied = 0u64;
            for (pk, idx) in per_parent {
                let mut list = Vec::with_capacity(idx.len());
                for i in idx {
                    if copied >= YIELD_EVERY {
                        copied = 0;
                        YieldNow(false).await;
                    }
                    copied += child_weight[i];
                    list.push(strip(children[i].clone(), &added));
                }
                groups.insert(pk, list);
            }
            (weights, added_rows)
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
                fetch_by_keys(db, target, &child_q, &rel.to_fields, &parent_keys, budget).await?
            };
            for c in children {
                if let Some(k) = key_of(&c, &rel.to_fields, &child_types) {
                    groups.entry(k).or_default().push(strip(c, &added));
                }
            }
            // What each group adds to the answer per parent, counted before
            // any group is copied to its parents.
            let take = if to_one { 1 } else { n };
            let weights: HashMap<String, u64> = groups
                .iter()
                .map(|(k, list)| {
                    let w = list.iter().take(take).fold(0u64, |acc, r| {
                        acc.saturating_add(weight(r, &embed.select.embeds))
                    });
                    (k.clone(), w)
                })
                .collect();
            let added_rows = copies(rows, &rel.from_fields, &parent_types, &weights);
            budget.answer(answered.saturating_add(added_rows))?;
            (weights, added_rows)
        }
    };
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
    let mut copied = 0u64;
    for (r, k) in rows.iter_mut().zip(&parent_row_keys) {
        // Give the executor a chance to drop this read (client gone,
        // shutdown) between bounded slices of copying.
        if copied >= YIELD_EVERY {
            copied = 0;
            YieldNow(false).await;
        }
        copied += k
            .as_deref()
            .and_then(|k| weights.get(k))
            .copied()
            .unwrap_or(0)
            .max(1);
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
    Ok(added_rows)
}

fn strip(mut row: Row, added: &[String]) -> Row {
    for f in added {
        row.shift_remove(f);
    }
    row
}
