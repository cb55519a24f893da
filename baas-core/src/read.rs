//! The read orchestration, once for every engine: a checked query →
//! its rows with every embed resolved, the count when asked, within the
//! row budget. Adapters only execute the single statements it sends them.
//!
//! [`find`] splits the query's embeds in two:
//! - **joined**: to-one embeds whose own embeds are all to-one, when the
//!   engine says it can ([`Capabilities::embed_to_one`](crate::Capabilities)):
//!   they stay in the query, and the adapter returns them nested, from one
//!   statement;
//! - **batched**: every other embed. After the parent rows, one batched query
//!   per relation level (two for many-to-many: the junction, then the
//!   targets) fetches the related rows of all parents with one `in` filter
//!   (chunked under the `in`-list limit and the engine's parameter limit),
//!   never one query per row, and attaches them: an object or `null` for
//!   to-one relations, an array for to-many ones. An embed's `limit` applies
//!   per parent, after its `order`: in the database for one-to-many
//!   relations (a `ROW_NUMBER()` window per parent key), after the batch for
//!   many-to-many ones (the targets are shared).
//!
//! Either way the answer is the same JSON: the row's own fields, then its
//! embeds in selection order.
//!
//! ## The row budget
//!
//! [`Query::max_rows`] bounds the whole read, whatever its shape:
//! - **fetched**: every query sent to the database (root page, junctions,
//!   related rows, at every depth) is capped at what is left of the budget
//!   plus one row, so the database never sends more; rows joined into their
//!   parent count as fetched too; one row over the budget ends the read with
//!   [`Error::LimitExceeded`];
//! - **answered**: before related rows are attached, the rows the answer
//!   would then hold are counted — a related row (with everything embedded
//!   under it) counts once for every parent it is attached to, since it is
//!   copied for each — and an answer over the budget is refused before
//!   anything is copied. Shared many-to-many targets therefore cannot
//!   multiply into an answer far larger than what was fetched.

use std::collections::HashMap;

use serde_json::{Map, Value as J};

use crate::adapter::{DatabaseAdapter, Row, Target};
use crate::error::{Error, Result};
use crate::ir::{Aggregate, Count, Embed, Filter, OrderBy, PartitionLimit, Query, Rows, Selection};
use crate::metadata::{Entity, FieldType, Relation, RelationKind, SchemaMetadata};
use crate::validate::Checked;
use crate::value::Value;

/// Rows copied into an answer between two yields to the executor.
const YIELD_EVERY: u64 = 4096;

/// Bound parameters kept free for the rest of a batched statement (its
/// own filter, order, page) when chunking keys under the engine's limit.
const PARAMETER_MARGIN: usize = 100;

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

/// Run a checked read: its rows with every embed resolved, and the count
/// when it asks for one, within its row budget ([`Query::max_rows`], see the
/// module docs).
pub async fn find<D: DatabaseAdapter + ?Sized>(db: &D, query: &Checked<'_, Query>) -> Result<Rows> {
    let mut budget = Budget {
        max: query.max_rows,
        fetched: 0,
    };
    let rows = run(db, query, &mut budget).await?;
    let total = match query.count {
        Count::None => None,
        Count::Exact => Some(db.count_rows(query).await?),
        Count::Planned => match db.estimated_count(query).await? {
            Some(n) => Some(n),
            // No estimate: exact up to the budget, then exact.
            None => Some(estimated(db, query, false).await?),
        },
        Count::Estimated => Some(estimated(db, query, true).await?),
    };
    Ok(Rows {
        rows,
        total,
        response: None,
    })
}

/// PostgREST's `count=estimated` ([`Count::Estimated`]): exact up to the
/// row budget, counting one row past it at most; past it, the larger of
/// that and the planner's estimate, or the exact count where the engine
/// has no estimate (`ask_estimate` false: the caller asked already, and
/// there is none).
async fn estimated<D: DatabaseAdapter + ?Sized>(
    db: &D,
    query: &Checked<'_, Query>,
    ask_estimate: bool,
) -> Result<u64> {
    let Some(max) = query.max_rows else {
        return db.count_rows(query).await;
    };
    let counted = db.count_rows_up_to(query, max.saturating_add(1)).await?;
    if counted <= max {
        return Ok(counted);
    }
    let estimate = if ask_estimate {
        db.estimated_count(query).await?
    } else {
        None
    };
    Ok(match estimate {
        Some(n) => n.max(counted),
        None => db.count_rows(query).await?,
    })
}

/// The fields a write must return so that [`embed_into`] can attach
/// `selection`'s embeds to its rows (PostgREST's representation of a
/// write, `POST …?select=*,author(*)`): `returning` (the fields the
/// representation shows; empty: all) with the keys of every embedded
/// relation added (and the primary key, for `selection`'s database casts,
/// read again by it), and those added (dropped again by [`embed_into`]). A
/// selection that omits its own fields (`select=author(*)`) returns only
/// the keys, all added.
pub fn representation_fields(
    entity: &Entity,
    returning: &[String],
    selection: &Selection,
) -> Result<(Vec<String>, Vec<String>)> {
    let mut needed = Vec::new();
    if !selection.casts.is_empty() {
        needed.extend(entity.primary_key.iter().cloned());
    }
    for e in &selection.embeds {
        for f in &entity.relation(&e.relation)?.from_fields {
            if !needed.contains(f) {
                needed.push(f.clone());
            }
        }
    }
    if selection.omit_fields && needed.is_empty() {
        needed.push(stand_in(entity));
    }
    let own = Selection {
        fields: returning.to_vec(),
        omit_fields: selection.omit_fields,
        ..Selection::default()
    };
    Ok(with_fields(&own, &needed))
}

/// Attach `query`'s embeds to `rows`, rows of its entity that came from
/// elsewhere — a write's representation, returned by the write with the
/// fields [`representation_fields`] named — then drop the `added` fields.
/// Every embed is batched (one query per relation level, as for [`find`]),
/// under the query's row budget, which counts `rows` as fetched and
/// answered. `query`'s own filter, order and page do not apply. Its
/// database casts ([`Selection::casts`]) are read again for `rows` by
/// primary key: run inside the write's transaction, they see the write.
pub async fn embed_into<D: DatabaseAdapter + ?Sized>(
    db: &D,
    query: &Checked<'_, Query>,
    rows: &mut [Row],
    added: &[String],
) -> Result<()> {
    if !query.select.casts.is_empty() {
        cast_again(db, query, rows).await?;
    }
    let mut budget = Budget {
        max: query.max_rows,
        fetched: 0,
    };
    let mut answered = rows.len() as u64;
    budget.fetch(answered)?;
    for embed in &query.select.embeds {
        let n = attach(db, query, embed, rows, &mut budget, answered).await?;
        answered = answered.saturating_add(n);
    }
    for r in rows.iter_mut() {
        for f in added {
            r.shift_remove(f);
        }
    }
    Ok(())
}

/// Read `query`'s database casts of `rows` (rows of its entity a write
/// returned) by primary key, and put each where the answer has it: the
/// field's place, or its alias.
async fn cast_again<D: DatabaseAdapter + ?Sized>(
    db: &D,
    query: &Checked<'_, Query>,
    rows: &mut [Row],
) -> Result<()> {
    let entity = query.entity();
    let key = &entity.primary_key;
    if key.is_empty() {
        return Err(Error::unsupported(
            db.capabilities().engine.clone(),
            format!(
                "casts to the database's own types in the representation of a write to `{}`, which has no primary key to read them by",
                entity.name
            ),
        ));
    }
    let types = types_of(entity, key);
    let keys = distinct_keys(rows, key, &types);
    // Each under a key no field has (it cannot hold NUL).
    let internal = |i: usize| format!("\u{0}cast{i}");
    let base = Query {
        select: Selection {
            fields: key.clone(),
            casts: query
                .select
                .casts
                .iter()
                .enumerate()
                .map(|(i, c)| crate::ir::FieldCast {
                    alias: Some(internal(i)),
                    ..c.clone()
                })
                .collect(),
            ..Selection::default()
        },
        ..Query::new(entity.name.clone())
    };
    let mut budget = Budget {
        max: query.max_rows,
        fetched: 0,
    };
    let read = fetch_by_keys(db, query, query.target(), &base, key, &keys, &mut budget).await?;
    let read: HashMap<String, Row> = read
        .into_iter()
        .filter_map(|r| Some((key_of(&r, key, &types)?, r)))
        .collect();
    for row in rows.iter_mut() {
        let Some(found) = key_of(row, key, &types).and_then(|k| read.get(&k)) else {
            continue;
        };
        for (i, c) in query.select.casts.iter().enumerate() {
            let v = found.get(&internal(i)).cloned().unwrap_or(J::Null);
            row.insert(c.alias.clone().unwrap_or_else(|| c.field.clone()), v);
        }
    }
    Ok(())
}

/// Whether `embed` (on `entity`) and everything embedded under it is
/// to-one, so one statement can return it with its parent.
fn joinable(schema: &SchemaMetadata, entity: &Entity, embed: &Embed) -> bool {
    // Aggregates (`artist(count())`, `album(...artist(artist_id.sum()))`)
    // are a grouped statement of their own.
    embed.select.aggregates.is_empty()
        && embed.to_one_target(schema, entity).is_some_and(|t| {
            embed
                .select
                .embeds
                .iter()
                .all(|e| !e.joins(schema, t) && joinable(schema, t, e))
        })
}

/// One query of the read: its own statement (with its joined embeds), then
/// its batched embeds, sharing the budget.
async fn run<D: DatabaseAdapter + ?Sized>(
    db: &D,
    query: &Checked<'_, Query>,
    budget: &mut Budget,
) -> Result<Vec<Row>> {
    let target = query.target();
    let entity = target.entity;
    // A per-parent page (a batched to-many level) numbers its rows in a
    // window: its to-one embeds stay batched.
    let join = db.capabilities().embed_to_one && query.page.partition.is_none();
    let (joined, batched): (Vec<&Embed>, Vec<&Embed>) = query
        .select
        .embeds
        .iter()
        .partition(|e| join && joinable(target.schema, entity, e));
    let mut needed = Vec::new();
    for e in &batched {
        needed.extend(entity.relation(&e.relation)?.from_fields.iter().cloned());
    }
    if query.select.omit_fields && needed.is_empty() {
        needed.push(stand_in(entity));
    }
    let (fields, added) = with_fields(&query.select, &needed);
    let flat = Query {
        entity: query.entity.clone(),
        select: Selection {
            fields,
            omit_fields: false,
            star: false,
            embeds: joined
                .iter()
                .map(|e| with_stand_ins(target.schema, entity, e))
                .collect(),
            aggregates: Vec::new(),
            group_by_values: Vec::new(),
            casts: query.select.casts.clone(),
        },
        filter: query.filter.clone(),
        order: query.order.clone(),
        page: crate::ir::Page {
            limit: budget.cap(query.page.limit),
            ..query.page.clone()
        },
        count: Count::None,
        max_rows: None,
    };
    let mut rows = db.select(&query.derive(target, flat)).await?;
    if joined.iter().any(|e| omits_fields(e)) {
        for r in &mut rows {
            for e in &joined {
                if let Some(v) = r.get_mut(e.key()) {
                    drop_stand_ins(v, e);
                }
            }
        }
    }
    // Joined rows count as fetched, and are in the answer already.
    let mut answered = rows.len() as u64;
    for r in &rows {
        for e in &joined {
            answered = answered.saturating_add(nested_weight(r.get(e.key()), e));
        }
    }
    budget.fetch(answered)?;
    for embed in &batched {
        let attached = attach(db, query, embed, &mut rows, budget, answered).await?;
        answered = answered.saturating_add(attached);
    }
    if !added.is_empty() {
        for r in &mut rows {
            for f in &added {
                r.shift_remove(f);
            }
        }
    }
    // Joined embeds came first; put the keys back in selection order when
    // a batched embed was asked for before a joined one.
    let order_differs = !joined.is_empty()
        && !batched.is_empty()
        && query
            .select
            .embeds
            .iter()
            .position(|e| batched.iter().any(|b| std::ptr::eq(*b, e)))
            < query
                .select
                .embeds
                .iter()
                .rposition(|e| joined.iter().any(|j| std::ptr::eq(*j, e)));
    if order_differs {
        for r in &mut rows {
            for e in &query.select.embeds {
                if let Some(v) = r.shift_remove(e.key()) {
                    r.insert(e.key().to_string(), v);
                }
            }
        }
    }
    Ok(rows)
}

/// Rows of the answer an embedded value stands for (`null`: none).
fn nested_weight(v: Option<&J>, e: &Embed) -> u64 {
    match v {
        Some(J::Object(o)) => weight(o, &e.select.embeds),
        Some(J::Array(a)) => a.iter().fold(0u64, |acc, x| match x {
            J::Object(o) => acc.saturating_add(weight(o, &e.select.embeds)),
            _ => acc,
        }),
        _ => 0,
    }
}

/// Rows of the answer a related row stands for: itself and everything
/// embedded under it, at every depth.
fn weight(row: &Row, embeds: &[Embed]) -> u64 {
    let mut w = 1u64;
    for e in embeds {
        w = w.saturating_add(nested_weight(row.get(e.key()), e));
    }
    w
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
    fn fetch(&mut self, n: u64) -> Result<()> {
        self.fetched = self.fetched.saturating_add(n);
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

/// A key value in the type of the field it is matched against, so that
/// the two ends of a relation compare equal even when their field types
/// differ (an int32 key pointing at an int64 or decimal one). `None`: the
/// value cannot be of that type, so it matches nothing there.
fn typed_key(v: &J, ty: &FieldType) -> Option<Value> {
    Value::from_json(v).coerce(ty).ok()
}

/// The canonical text of one key value: integers (the common key type) go
/// straight to their decimal text; everything else through its typed JSON.
fn key_part(v: &J, ty: &FieldType) -> String {
    match (v, ty) {
        (J::Number(n), FieldType::Int16 | FieldType::Int32 | FieldType::Int64)
            if n.is_i64() || n.is_u64() =>
        {
            n.to_string()
        }
        _ => typed_key(v, ty)
            .map(|x| x.to_json())
            .unwrap_or_else(|| v.clone())
            .to_string(),
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

/// A filter matching rows whose `fields` equal one of `keys` (typed rows of
/// values).
fn keys_filter(fields: &[String], keys: &[Vec<Value>]) -> Filter {
    if let [field] = fields {
        return Filter::In {
            field: field.clone(),
            values: keys.iter().map(|k| k[0].clone()).collect(),
        };
    }
    Filter::or(
        keys.iter()
            .map(|k| {
                Filter::and(
                    fields
                        .iter()
                        .zip(k)
                        .map(|(f, v)| Filter::eq(f.clone(), v.clone()))
                        .collect(),
                )
            })
            .collect(),
    )
}

/// The distinct keys of `rows` on `fields`, typed as `types` (the fields
/// they will be matched against); keys that cannot have those types are
/// left out (they match nothing).
fn distinct_keys(rows: &[Row], fields: &[String], types: &[FieldType]) -> Vec<Vec<Value>> {
    let mut seen = std::collections::HashSet::new();
    let mut out = Vec::new();
    for r in rows {
        if let Some(k) = key_of(r, fields, types)
            && seen.insert(k)
        {
            let typed: Option<Vec<Value>> = fields
                .iter()
                .zip(types)
                .map(|(f, ty)| typed_key(&r[f], ty))
                .collect();
            out.extend(typed);
        }
    }
    out
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

/// Fetch every row of `target` whose `fields` match one of `keys`, in
/// chunks, with `base`'s selection, filter, order and partition.
async fn fetch_by_keys<D: DatabaseAdapter + ?Sized>(
    db: &D,
    parent: &Checked<'_, Query>,
    target: Target<'_>,
    base: &Query,
    fields: &[String],
    keys: &[Vec<Value>],
    budget: &mut Budget,
) -> Result<Vec<Row>> {
    let params = parameters(db);
    let chunk = (parent.key_chunk().min(params) / fields.len().max(1)).max(1);
    fetch_in_chunks(db, parent, target, base, fields, keys, chunk, budget).await
}

/// The values one statement may bind on `db`, less a margin for those a
/// statement binds besides its keys.
fn parameters<D: DatabaseAdapter + ?Sized>(db: &D) -> usize {
    db.capabilities()
        .max_parameters
        .saturating_sub(PARAMETER_MARGIN)
        .max(1)
}

/// [`fetch_by_keys`] in statements of at most `chunk` keys each.
#[allow(clippy::too_many_arguments)]
async fn fetch_in_chunks<D: DatabaseAdapter + ?Sized>(
    db: &D,
    parent: &Checked<'_, Query>,
    target: Target<'_>,
    base: &Query,
    fields: &[String],
    keys: &[Vec<Value>],
    chunk: usize,
    budget: &mut Budget,
) -> Result<Vec<Row>> {
    let mut out = Vec::new();
    for keys in keys.chunks(chunk.max(1)) {
        let mut q = base.clone();
        let kf = keys_filter(fields, keys);
        q.filter = Some(match q.filter.take() {
            Some(f) => Filter::and(vec![kf, f]),
            None => kf,
        });
        let q = parent.derive(target, q);
        // Boxed: `run` recurses through here for deeper embeds.
        out.extend(Box::pin(run(db, &q, budget)).await?);
    }
    Ok(out)
}

/// The fields to read for `selection` with `needed` added (an empty list
/// already means all), and those added (to drop from the answer). A
/// selection that omits its own fields reads only `needed`, all added.
fn with_fields(selection: &Selection, needed: &[String]) -> (Vec<String>, Vec<String>) {
    if selection.fields.is_empty() && !selection.omit_fields {
        return (Vec::new(), Vec::new());
    }
    let mut fields = selection.fields.clone();
    let mut added = Vec::new();
    for n in needed {
        if !fields.contains(n) {
            fields.push(n.clone());
            added.push(n.clone());
        }
    }
    (fields, added)
}

/// The one field read for a row whose own fields are omitted and that
/// needs none to join: its first key field (or first field). A statement
/// cannot select nothing; adapters know nothing of omitted fields.
fn stand_in(entity: &Entity) -> String {
    entity
        .primary_key
        .first()
        .or_else(|| entity.fields.first().map(|f| &f.name))
        .cloned()
        .unwrap_or_default()
}

/// Whether `embed`, or an embed under it, omits its own fields.
fn omits_fields(embed: &Embed) -> bool {
    embed.select.omit_fields || embed.select.embeds.iter().any(omits_fields)
}

/// A joined embed as the adapter gets it: every selection that omits its
/// own fields reads its stand-in field instead (dropped again by
/// [`drop_stand_ins`]).
fn with_stand_ins(schema: &SchemaMetadata, entity: &Entity, embed: &Embed) -> Embed {
    let mut e = embed.clone();
    let target = entity
        .relation(&embed.relation)
        .ok()
        .and_then(|r| schema.entity(&r.target).ok());
    if let Some(target) = target {
        if e.select.omit_fields {
            e.select.omit_fields = false;
            e.select.fields = vec![stand_in(target)];
        }
        e.select.embeds = embed
            .select
            .embeds
            .iter()
            .map(|c| with_stand_ins(schema, target, c))
            .collect();
    }
    e
}

/// Drop the stand-in fields of a joined embed's value (see
/// [`with_stand_ins`]): an object whose selection omits its own fields
/// keeps only its embeds.
fn drop_stand_ins(v: &mut J, embed: &Embed) {
    let J::Object(o) = v else { return };
    if embed.select.omit_fields {
        o.retain(|k, _| embed.select.embeds.iter().any(|e| e.key() == k));
    }
    for e in &embed.select.embeds {
        if let Some(c) = o.get_mut(e.key()) {
            drop_stand_ins(c, e);
        }
    }
}

/// Attach `embed` to `rows` (rows of `parent`); returns how many rows of the
/// answer it added (related rows with their own embedded rows, once per
/// parent). `answered` rows are in the answer already.
async fn attach<D: DatabaseAdapter + ?Sized>(
    db: &D,
    parent: &Checked<'_, Query>,
    embed: &Embed,
    rows: &mut [Row],
    budget: &mut Budget,
    answered: u64,
) -> Result<u64> {
    let schema = parent.schema();
    let rel = parent.entity().relation(&embed.relation)?;
    if let Some(function) = &rel.function {
        return attach_computed(db, parent, embed, rel, function, rows, budget, answered).await;
    }
    let target = Target::new(schema, &rel.target)?;
    if !embed.select.aggregates.is_empty()
        || embed
            .select
            .embeds
            .iter()
            .any(|e| e.joins(target.schema, target.entity))
    {
        return attach_aggregates(db, parent, embed, rel, target, rows, budget, answered).await;
    }
    attach_linked(db, parent, embed, rel, target, rows, budget, answered).await
}

/// A computed relationship's rows ([`Relation::function`]): the function
/// is called with each parent row (`FROM parent AS _p, LATERAL fn(_p.*)`),
/// its rows carrying the parent's key under helper fields; they are then
/// fetched, paged per parent and attached like a one-to-many (or to-one)
/// relation's, through a result entity standing for the call (the
/// returned table's fields, relations and read filter, plus the key).
#[allow(clippy::too_many_arguments)]
async fn attach_computed<D: DatabaseAdapter + ?Sized>(
    db: &D,
    parent: &Checked<'_, Query>,
    embed: &Embed,
    rel: &Relation,
    function: &crate::metadata::Source,
    rows: &mut [Row],
    budget: &mut Budget,
    answered: u64,
) -> Result<u64> {
    let schema = parent.schema();
    let owner = parent.entity();
    // A function's rows (`/rpc/f?select=rel(…)`): the function of a row is
    // of the table it returns, whose rows are read by key.
    let owner = match schema.function(&owner.name).map(|f| &f.returns) {
        Ok(crate::function::Returns::Entity { entity, .. }) => schema.entity(entity)?,
        _ => owner,
    };
    let keys: Vec<(String, String)> = rel
        .from_fields
        .iter()
        .enumerate()
        .map(|(i, f)| (f.clone(), format!("__baas_k{i}")))
        .collect();
    let mut result = schema.entity(&rel.target)?.clone();
    // `*` reads the returned table's fields, not the keys added to them.
    let star;
    let embed = if embed.select.fields.is_empty()
        && !embed.select.omit_fields
        && embed.select.aggregates.is_empty()
    {
        let mut e = embed.clone();
        e.select.fields = result.star_fields().map(|f| f.name.clone()).collect();
        star = e;
        &star
    } else {
        embed
    };
    result.name = format!("{}.{}", owner.name, rel.name);
    result.source = function.clone();
    result.read_only = true;
    result.indexes.clear();
    for (f, out) in &keys {
        let ty = owner.field(f)?.ty.clone();
        result
            .fields
            .push(crate::metadata::Field::new(out.clone(), ty));
    }
    let call = crate::function::Call {
        source: function.clone(),
        args: Vec::new(),
        void: false,
        procedure: None,
        read_only: false,
        rolled_back: false,
        row_of: Some(crate::function::RowOf {
            entity: owner.clone(),
            keys: keys.clone(),
        }),
    };
    let linked = Relation {
        name: rel.name.clone(),
        kind: rel.kind.clone(),
        target: result.name.clone(),
        from_fields: rel.from_fields.clone(),
        to_fields: keys.into_iter().map(|(_, out)| out).collect(),
        constraint: None,
        function: None,
    };
    let mut with = schema.clone();
    with.entities.push(result);
    let entity = &with.entities[with.entities.len() - 1];
    let target = Target::call(&with, entity, &call);
    if !embed.select.aggregates.is_empty() {
        // `books_of(count)`: an aggregate of the call, by the parents' keys.
        return attach_aggregates(db, parent, embed, &linked, target, rows, budget, answered).await;
    }
    attach_linked(db, parent, embed, &linked, target, rows, budget, answered).await
}

/// Attach the rows `rel` links to each parent (see the module docs).
#[allow(clippy::too_many_arguments)]
async fn attach_linked<D: DatabaseAdapter + ?Sized>(
    db: &D,
    parent: &Checked<'_, Query>,
    embed: &Embed,
    rel: &Relation,
    target: Target<'_>,
    rows: &mut [Row],
    budget: &mut Budget,
    answered: u64,
) -> Result<u64> {
    let schema = parent.schema();
    let key = embed.key().to_string();
    let target_entity = target.entity;
    // Parent keys in the types of the fields they are matched against.
    let parent_types = match &rel.kind {
        RelationKind::ManyToMany { through } => {
            types_of(schema.entity(&through.entity)?, &through.source_fields)
        }
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
    // Rows skipped per parent (`rel.offset`), after the order.
    let skip = embed.offset.map_or(0, |o| o as usize);
    // What the database keeps per parent: the skipped rows and the page.
    let window = embed
        .limit
        .map(|l| l.saturating_add(embed.offset.unwrap_or(0)));
    // Many-to-many groups are built already skipped; one-to-many groups
    // hold every fetched row and are skipped when attached.
    let attach_skip = match rel.kind {
        RelationKind::ManyToMany { .. } => 0,
        _ => skip,
    };
    let mut groups: HashMap<String, Vec<Row>> = HashMap::new();
    // Each branch fills `groups`, and checks the budget before anything is
    // copied: the rows each group adds per parent, and the total.
    let (weights, added_rows) = match &rel.kind {
        RelationKind::ManyToMany { through } => {
            let junction = Target::new(schema, &through.entity)?;
            let mut jq = Query::new(through.entity.clone());
            jq.select.fields = through
                .source_fields
                .iter()
                .chain(&through.target_fields)
                .cloned()
                .collect();
            jq.filter = embed.through.clone();
            // With a limit and the targets in key order, unfiltered, the
            // first `limit` links of each parent (in target-key order) name
            // exactly the targets kept: bound the junction rows in the
            // database instead of fetching every link of every parent.
            if let Some(limit) = window
                && embed.filter.is_none()
                && embed.order.is_empty()
                && rel.to_fields == target_entity.primary_key
            {
                jq.order = through
                    .target_fields
                    .iter()
                    .map(|f| OrderBy::asc(f.clone()))
                    .collect();
                jq.page.partition = Some(PartitionLimit {
                    fields: through.source_fields.clone(),
                    limit,
                });
            }
            let links = if parent_keys.is_empty() {
                Vec::new()
            } else {
                fetch_by_keys(
                    db,
                    parent,
                    junction,
                    &jq,
                    &through.source_fields,
                    &parent_keys,
                    budget,
                )
                .await?
            };
            let target_keys = distinct_keys(&links, &through.target_fields, &child_types);
            let (fields, added) = with_fields(&child_q.select, &rel.to_fields);
            child_q.select.fields = fields;
            child_q.select.omit_fields = false;
            let children = if target_keys.is_empty() {
                Vec::new()
            } else if embed.order.is_empty() {
                fetch_by_keys(
                    db,
                    parent,
                    target,
                    &child_q,
                    &rel.to_fields,
                    &target_keys,
                    budget,
                )
                .await?
            } else {
                // Ordered: every target in one statement, so that the
                // order holds across all of a parent's targets (statements
                // of a few keys each are each ordered, not their sum).
                let params = parameters(db);
                let most = params / rel.to_fields.len().max(1);
                if target_keys.len() > most {
                    return Err(Error::LimitExceeded {
                        limit: "max_parameters",
                        max: most as u64,
                        message: format!(
                            "the ordered many-to-many embedding `{}` links more than {most} rows (one statement orders them); add a filter or a limit",
                            embed.relation
                        ),
                    });
                }
                fetch_in_chunks(
                    db,
                    parent,
                    target,
                    &child_q,
                    &rel.to_fields,
                    &target_keys,
                    most,
                    budget,
                )
                .await?
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
                idx.drain(..skip.min(idx.len()));
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
            let (fields, added) = with_fields(&child_q.select, &rel.to_fields);
            child_q.select.fields = fields;
            child_q.select.omit_fields = false;
            // Bound the batch: at most `limit` children per parent, in the database.
            if let (Some(limit), false) = (window, rel.kind.is_to_one()) {
                child_q.page.partition = Some(PartitionLimit {
                    fields: rel.to_fields.clone(),
                    limit,
                });
            }
            let children = if parent_keys.is_empty() {
                Vec::new()
            } else {
                fetch_by_keys(
                    db,
                    parent,
                    target,
                    &child_q,
                    &rel.to_fields,
                    &parent_keys,
                    budget,
                )
                .await?
            };
            for c in children {
                if let Some(k) = key_of(&c, &rel.to_fields, &child_types) {
                    groups.entry(k).or_default().push(strip(c, &added));
                }
            }
            // What each group adds to the answer per parent, counted before
            // any group is copied to its parents.
            let (skip, take) = if to_one { (0, 1) } else { (skip, n) };
            let weights: HashMap<String, u64> = groups
                .iter()
                .map(|(k, list)| {
                    let w = list.iter().skip(skip).take(take).fold(0u64, |acc, r| {
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
                list.map(|l| {
                    J::Array(
                        l.into_iter()
                            .skip(attach_skip)
                            .take(n)
                            .map(J::Object)
                            .collect(),
                    )
                })
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

/// The aggregates of a one-to-many embed (`rel(count)`), attached to each
/// parent: one grouped [`Aggregate`] per chunk of parent keys, grouped by
/// the link fields and then the embed's fields, on the embed's filter (the
/// caller's and the read grant's). A parent gets its groups in the embed's
/// order (a group's key or an aggregate's alias), then the grouping
/// fields', paged by the embed's `offset` and `limit` per parent; with no
/// grouping field, exactly one object, also when it has no related row
/// (`count` 0, the other aggregates null).
#[allow(clippy::too_many_arguments)]
async fn attach_aggregates<D: DatabaseAdapter + ?Sized>(
    db: &D,
    parent: &Checked<'_, Query>,
    embed: &Embed,
    rel: &crate::metadata::Relation,
    target: Target<'_>,
    rows: &mut [Row],
    budget: &mut Budget,
    answered: u64,
) -> Result<u64> {
    let key = embed.key().to_string();
    // A many-to-many embedding aggregates the parent's junction rows (those
    // the junction's read grant shows) whose target passes the embed's
    // filter: an aggregate of the junction, by its source fields, over
    // their targets ([`Aggregate::via`], the junction's target fields
    // joined to the target's keys; `count()` alone without a filter reads
    // the junction only).
    let mut via = None;
    // The entity the groups are rows of (the embedding's target).
    let groups_of = target;
    let (target, to_fields, filter) = match &rel.kind {
        RelationKind::ManyToMany { through } => {
            let joins = embed.filter.is_some()
                || !embed.select.fields.is_empty()
                || !embed.select.group_by_values.is_empty()
                || !embed.select.embeds.is_empty()
                || embed
                    .select
                    .aggregates
                    .iter()
                    .any(|a| a.func != crate::ir::AggregateFn::Count);
            let mut grouped = embed.select.fields.clone();
            grouped.extend(
                embed
                    .select
                    .group_by_values
                    .iter()
                    .map(|g| g.field().to_string()),
            );
            for e in &embed.select.embeds {
                grouped.extend(target.entity.relation(&e.relation)?.from_fields.clone());
            }
            if let Some(clash) = grouped.iter().find(|f| through.source_fields.contains(f)) {
                return Err(Error::unsupported(
                    db.capabilities().engine.clone(),
                    format!(
                        "grouping a many-to-many embedding by `{clash}`, also a field of its junction's link to the parent"
                    ),
                ));
            }
            // The targets' condition goes on the join (as fast as an
            // `EXISTS` through the junction, measured).
            if joins {
                via = Some(crate::ir::AggregateVia {
                    presence: None,
                    parent: None,
                    entity: rel.target.clone(),
                    from_fields: through.target_fields.clone(),
                    to_fields: rel.to_fields.clone(),
                    group_by: embed.select.fields.clone(),
                    group_by_values: embed.select.group_by_values.clone(),
                    filter: embed.filter.clone(),
                    outer: false,
                    aggregates: embed.select.aggregates.clone(),
                });
            }
            (
                Target::new(parent.schema(), &through.entity)?,
                &through.source_fields,
                embed.through.clone(),
            )
        }
        _ => (target, &rel.to_fields, embed.filter.clone()),
    };
    let rel = &Relation {
        to_fields: to_fields.clone(),
        ..rel.clone()
    };
    let types = types_of(target.entity, &rel.to_fields);
    let parent_keys = distinct_keys(rows, &rel.from_fields, &types);
    let grouping = &embed.select.fields;
    let mut group_by = rel.to_fields.clone();
    // Through a junction, the grouping fields are the targets' (`via`).
    if via.is_none() {
        group_by.extend(
            grouping
                .iter()
                .filter(|f| !rel.to_fields.contains(f))
                .cloned(),
        );
    }
    // To-one embeds with aggregates (a to-one spread's,
    // `tracks(...genre(name,genre_id.count()))`) or listing their fields
    // ([`Embed::joined`]): their related row joins the aggregated rows (a
    // left join; one inside another joins its row in turn), their groups
    // and aggregates answered inside each group under their key
    // ([`AggregateVia`]).
    let (joined, nested): (Vec<Embed>, Vec<Embed>) = embed
        .select
        .embeds
        .iter()
        .cloned()
        .partition(|e| e.joined(groups_of.schema, groups_of.entity, via.is_some()));
    // Each joined embed, and each inside it, is one via (depth first).
    let tree = Embed::depth_first(&joined);
    let joined_keys: Vec<String> = tree.iter().map(|(_, e)| e.key().to_string()).collect();
    let mut joins = Vec::with_capacity(tree.len());
    let mut targets: Vec<&Entity> = Vec::with_capacity(tree.len());
    for &(parent, e) in &tree {
        let from = parent.map_or(groups_of.entity, |p| targets[p]);
        let r = from.relation(&e.relation)?;
        targets.push(groups_of.schema.entity(&r.target)?);
        let i = joins.len();
        joins.push(crate::ir::AggregateVia::to_one(
            i,
            parent,
            r,
            targets[i],
            &e.select,
            e.filter.clone(),
        ));
    }
    // To-one embeds inside the groups (`tracks(genre(name),count())`): also
    // grouped by their relations' key fields, then embedded into each group
    // as in a read of the target.
    let nested = &nested;
    let mut nested_keys = Vec::new();
    // A value computed from the link to the parent is one per parent, as
    // the link is: the link's stored value groups (the cast applies to
    // it), and the link stays in the answer.
    let (linked, values): (Vec<&crate::ir::GroupValue>, Vec<&crate::ir::GroupValue>) = embed
        .select
        .group_by_values
        .iter()
        .partition(|g| rel.to_fields.iter().any(|t| t == g.field()));
    if let Some(g) = linked
        .iter()
        .find(|g| matches!(g, crate::ir::GroupValue::Json { .. }))
    {
        return Err(Error::unsupported(
            db.capabilities().engine.clone(),
            format!(
                "grouping an embedding by a path inside `{}`, its link to the parent",
                g.field()
            ),
        ));
    }
    if let Some(g) = linked.iter().find(|g| {
        matches!(g, crate::ir::GroupValue::Cast { to, .. }
            if !crate::ir::GroupValue::CAST_TYPES.contains(&to.as_str()))
    }) {
        return Err(Error::unsupported(
            db.capabilities().engine.clone(),
            format!(
                "grouping an embedding by the database's cast of `{}`, its link to the parent",
                g.field()
            ),
        ));
    }
    // Each form of the link answers its stored value under its key.
    let aliased: Vec<(String, String)> = linked
        .iter()
        .filter(|g| g.key() != g.field())
        .map(|g| (g.field().to_string(), g.key().to_string()))
        .collect();
    let linked: Vec<&str> = linked.iter().map(|g| g.field()).collect();
    // Through a junction, the via groups by them (the targets' fields).
    let values: Vec<crate::ir::GroupValue> = match &via {
        Some(_) => Vec::new(),
        None => values.into_iter().cloned().collect(),
    };
    let values = &values;
    for e in nested {
        for f in &groups_of.entity.relation(&e.relation)?.from_fields {
            if values.iter().any(|g| g.field() == f) {
                return Err(Error::unsupported(
                    db.capabilities().engine.clone(),
                    format!(
                        "grouping by a value computed from `{f}` beside `{}`, which `{f}` links",
                        e.relation
                    ),
                ));
            }
            let by = match &mut via {
                Some(v) => &mut v.group_by,
                None => &mut group_by,
            };
            if !by.contains(f) {
                by.push(f.clone());
            }
            if !grouping.contains(f) && !nested_keys.contains(f) {
                nested_keys.push(f.clone());
            }
        }
    }
    // Through a junction, the joined rows hang off the junction's target
    // (via 0): their vias come after it (`shifted_joins`), and their
    // answers are moved back to `joins`' indexes (`from_junction`).
    let sent_joins = match via {
        Some(_) => shifted_joins(&joins),
        None => joins.clone(),
    };
    // By every group, a via's under its answer key.
    let vias: Vec<&crate::ir::AggregateVia> = via.iter().chain(&sent_joins).collect();
    let mut order: Vec<OrderBy> = group_by
        .iter()
        .map(|f| OrderBy::asc(f.clone()))
        .chain(vias.iter().enumerate().flat_map(|(i, v)| {
            v.group_by
                .iter()
                .map(move |f| OrderBy::asc(Aggregate::answer_key(Some(i), f)))
        }))
        .collect();
    order.extend(values.iter().map(|g| OrderBy::asc(g.key())).chain(
        vias.iter().enumerate().flat_map(|(i, v)| {
            v.group_by_values
                .iter()
                .map(move |g| OrderBy::asc(Aggregate::answer_key(Some(i), g.key())))
        }),
    ));
    // The embedding's own order first (a group field or an aggregate's
    // alias: through a junction, the targets' groups and aggregates are
    // the via's), the grouping fields breaking its ties: each parent's
    // groups come in it.
    let own: Vec<OrderBy> = embed
        .order
        .iter()
        .map(|o| OrderBy {
            field: match via {
                Some(_) => Aggregate::answer_key(Some(0), &o.field),
                None => o.field.clone(),
            },
            ..o.clone()
        })
        .collect();
    // Each key once (a later one would overrule it in MongoDB's `$sort`).
    let mut ordered = own;
    for o in order {
        if !ordered.iter().any(|x| x.field == o.field) {
            ordered.push(o);
        }
    }
    let order = ordered;
    let groups_query = parent.derive(
        groups_of,
        Query {
            select: Selection {
                fields: match &via {
                    Some(v) => v.group_by.clone(),
                    None => group_by.clone(),
                },
                embeds: nested.clone(),
                ..Selection::default()
            },
            ..Query::new(groups_of.entity.name.clone())
        },
    );
    let params = parameters(db);
    let chunk = (parent.key_chunk().min(params) / rel.to_fields.len().max(1)).max(1);
    let mut groups: HashMap<String, Vec<J>> = HashMap::new();
    for keys in parent_keys.chunks(chunk) {
        let kf = keys_filter(&rel.to_fields, keys);
        let aggregate = Aggregate {
            entity: target.entity.name.clone(),
            filter: Some(match filter.clone() {
                Some(f) => Filter::and(vec![kf, f]),
                None => kf,
            }),
            group_by: group_by.clone(),
            group_by_values: values.clone(),
            // Through a junction, the targets' ([`AggregateVia::aggregates`]).
            aggregates: match &via {
                Some(_) => Vec::new(),
                None => embed.select.aggregates.clone(),
            },
            having: Vec::new(),
            order: order.clone(),
            limit: None,
            offset: None,
            via: via.iter().chain(&sent_joins).cloned().collect(),
            zone: parent.zone().map(|z| z.name().to_string()),
        };
        let mut got = db.aggregate_rows(&parent.derive(target, aggregate)).await?;
        budget.fetch(got.len() as u64)?;
        for g in &mut got {
            if via.is_some() {
                // The junction's targets' groups and aggregates are this
                // embedding's own; its joined rows', `joins`' again.
                from_junction(g, joins.len());
            }
            nest_joined(g, &joined_keys, &joins);
        }
        if !nested.is_empty() {
            let mut done = answered.saturating_add(got.len() as u64);
            for e in nested {
                let n = Box::pin(attach(db, &groups_query, e, &mut got, budget, done)).await?;
                done = done.saturating_add(n);
            }
            for g in &mut got {
                for f in &nested_keys {
                    if !rel.to_fields.contains(f) {
                        g.shift_remove(f);
                    }
                }
            }
        }
        for mut g in got {
            let Some(k) = key_of(&g, &rel.to_fields, &types) else {
                continue;
            };
            for (field, alias) in &aliased {
                let v = g.get(field).cloned().unwrap_or(J::Null);
                g.insert(alias.clone(), v);
            }
            for f in &rel.to_fields {
                if !grouping.contains(f) && !linked.contains(&f.as_str()) {
                    g.shift_remove(f);
                }
            }
            groups.entry(k).or_default().push(J::Object(g));
        }
    }
    // The embedding's page, per parent.
    let page = |groups: &mut Vec<J>| {
        let skip = usize::try_from(embed.offset.unwrap_or(0)).unwrap_or(usize::MAX);
        groups.drain(..skip.min(groups.len()));
        if let Some(limit) = embed.limit {
            groups.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
        }
    };
    groups.values_mut().for_each(page);
    // A parent without related rows: no group, or (no grouping field nor
    // embed) the aggregates of an empty set.
    let ungrouped = joins
        .iter()
        .all(|j| j.group_by.is_empty() && j.group_by_values.is_empty());
    let empty: Vec<J> = if grouping.is_empty()
        && nested.is_empty()
        && values.is_empty()
        && linked.is_empty()
        && ungrouped
    {
        let none = |aggregates: &[crate::ir::AggregateExpr]| -> Row {
            aggregates
                .iter()
                .map(|a| {
                    let v = match a.func {
                        crate::ir::AggregateFn::Count
                        | crate::ir::AggregateFn::CountValues { .. }
                        | crate::ir::AggregateFn::CountDistinct { .. } => J::from(0),
                        _ => J::Null,
                    };
                    (a.alias.clone(), v)
                })
                .collect()
        };
        let mut row = none(&embed.select.aggregates);
        // The joined rows' aggregates of no row (counts 0, as PostgREST's),
        // nested as a group's are.
        for (i, j) in joins.iter().enumerate() {
            let present = crate::ir::AggregateVia::presence_alias(i);
            row.extend(
                none(&j.aggregates)
                    .into_iter()
                    .filter(|(k, _)| *k != present)
                    .map(|(k, v)| (Aggregate::answer_key(Some(i), &k), v)),
            );
        }
        nest_joined(&mut row, &joined_keys, &joins);
        let mut empty = vec![J::Object(row)];
        page(&mut empty);
        empty
    } else {
        Vec::new()
    };
    let mut added = 0u64;
    for r in rows.iter() {
        added = added.saturating_add(
            key_of(r, &rel.from_fields, &types)
                .and_then(|k| groups.get(&k))
                .map_or(empty.len(), Vec::len) as u64,
        );
    }
    budget.answer(answered.saturating_add(added))?;
    // A to-one embedding's one related row makes at most one group: an
    // object (`{"count": 1}`), or `null` when it has none, as PostgREST's
    // `row_to_json` of the grouped related row.
    let to_one = rel.kind.is_to_one();
    for r in rows.iter_mut() {
        let value = key_of(r, &rel.from_fields, &types)
            .and_then(|k| groups.get(&k).cloned())
            .unwrap_or_else(|| empty.clone());
        let value = if to_one {
            value.into_iter().next().unwrap_or(J::Null)
        } else {
            J::Array(value)
        };
        r.insert(key.clone(), value);
    }
    Ok(added)
}

/// Move the groups and aggregates of each joined related row
/// (`joins[i]`, [`Aggregate::via`], answered under
/// [`Aggregate::answer_key`]) from a group `g` of an aggregate into an
/// object under `keys[i]` (its embed's key), as the embed answers them:
/// inside its parent via's object when it has one
/// ([`AggregateVia::parent`](crate::ir::AggregateVia::parent)); `null`
/// where the group has no related row
/// ([`AggregateVia::mark_presence`](crate::ir::AggregateVia::mark_presence)).
pub fn nest_joined(g: &mut Row, keys: &[String], joins: &[crate::ir::AggregateVia]) {
    // Each via's keys; `None` where its group has no related row.
    let mut objects: Vec<Option<Row>> = joins
        .iter()
        .enumerate()
        .map(|(i, j)| {
            let mut related = Row::new();
            for k in j.keys() {
                if let Some(v) = g.shift_remove(&Aggregate::answer_key(Some(i), k)) {
                    related.insert(k.to_string(), v);
                }
            }
            let absent = j.presence.as_ref().is_some_and(|p| {
                let v = if *p == crate::ir::AggregateVia::presence_alias(i) {
                    related.shift_remove(p)
                } else {
                    related.get(p).cloned()
                };
                v.is_none_or(|v| v.is_null() || v.as_u64() == Some(0))
            });
            (!absent).then_some(related)
        })
        .collect();
    // Each via's object, with those inside it after its own keys, in order.
    fn build(
        i: usize,
        objects: &mut [Option<Row>],
        keys: &[String],
        joins: &[crate::ir::AggregateVia],
    ) -> J {
        let Some(mut row) = objects[i].take() else {
            return J::Null;
        };
        for c in (i + 1)..joins.len().min(keys.len()) {
            if joins[c].parent == Some(i) {
                let inner = build(c, objects, keys, joins);
                row.insert(keys[c].clone(), inner);
            }
        }
        J::Object(row)
    }
    for i in 0..joins.len().min(keys.len()) {
        if joins[i].parent.is_none() {
            let related = build(i, &mut objects, keys, joins);
            g.insert(keys[i].clone(), related);
        }
    }
}

/// `joins` (to-one rows joined to a many-to-many embedding's targets) as
/// vias after the junction's target's (index 0): each one index on, a
/// top-level one joined to the target's row, its presence count renamed
/// with its index.
fn shifted_joins(joins: &[crate::ir::AggregateVia]) -> Vec<crate::ir::AggregateVia> {
    use crate::ir::AggregateVia;
    joins
        .iter()
        .enumerate()
        .map(|(i, j)| {
            let mut j = j.clone();
            j.parent = Some(j.parent.map_or(0, |p| p + 1));
            let (old, new) = (
                AggregateVia::presence_alias(i),
                AggregateVia::presence_alias(i + 1),
            );
            if j.presence.as_deref() == Some(old.as_str()) {
                j.presence = Some(new.clone());
                for a in &mut j.aggregates {
                    if a.alias == old {
                        a.alias = new.clone();
                    }
                }
            }
            j
        })
        .collect()
}

/// The answer of an aggregate through a junction, in one pass over its
/// keys: via 0's (the junction's targets') become the embedding's own
/// keys, and the `n` joined vias of [`shifted_joins`] move one index back
/// (their presence counts too), as `joins` and [`nest_joined`] name them.
/// Any other key (the junction's own) stays as it is.
fn from_junction(g: &mut Row, n: usize) {
    use crate::ir::AggregateVia;
    for (k, v) in std::mem::take(g) {
        let via = k.strip_prefix("_baas_v").and_then(|rest| {
            let digits = rest.find('_')?;
            let i: usize = rest[..digits].parse().ok()?;
            Some((i, &rest[digits + 1..]))
        });
        let key = match via {
            Some((0, own)) => own.to_string(),
            Some((i, rest)) if i <= n => {
                let rest = if rest == AggregateVia::presence_alias(i) {
                    AggregateVia::presence_alias(i - 1)
                } else {
                    rest.to_string()
                };
                Aggregate::answer_key(Some(i - 1), &rest)
            }
            _ => k,
        };
        g.insert(key, v);
    }
}

fn strip(mut row: Map<String, J>, added: &[String]) -> Row {
    for f in added {
        row.shift_remove(f);
    }
    row
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metadata::Field;

    fn track() -> Entity {
        Entity::new(
            "track",
            vec![
                Field::new("track_id", FieldType::Int32),
                Field::new("name", FieldType::Text),
                Field::new("album_id", FieldType::Int32),
            ],
        )
        .with_primary_key(["track_id"])
        .with_relation(Relation::many_to_one(
            "album",
            "album",
            &["album_id"],
            &["album_id"],
        ))
    }

    fn selecting(fields: &[&str], omit_fields: bool, embeds: &[&str]) -> Selection {
        Selection {
            fields: fields.iter().map(|f| f.to_string()).collect(),
            omit_fields,
            embeds: embeds.iter().map(|e| Embed::new(*e)).collect(),
            ..Selection::default()
        }
    }

    #[test]
    fn a_write_returns_the_keys_its_representation_embeds_by() {
        let t = track();
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        // Every field already holds the keys.
        assert_eq!(
            representation_fields(&t, &[], &selecting(&[], false, &["album"])).unwrap(),
            (vec![], vec![])
        );
        // Listed fields gain the key, dropped again.
        assert_eq!(
            representation_fields(&t, &s(&["name"]), &selecting(&["name"], false, &["album"]))
                .unwrap(),
            (s(&["name", "album_id"]), s(&["album_id"]))
        );
        assert_eq!(
            representation_fields(
                &t,
                &s(&["album_id"]),
                &selecting(&["album_id"], false, &["album"])
            )
            .unwrap(),
            (s(&["album_id"]), vec![])
        );
        // `select=album(*)`: only the key, dropped.
        assert_eq!(
            representation_fields(&t, &[], &selecting(&[], true, &["album"])).unwrap(),
            (s(&["album_id"]), s(&["album_id"]))
        );
        // An unknown relation is an error, not an empty key list.
        assert!(representation_fields(&t, &[], &selecting(&[], false, &["nope"])).is_err());
    }
}
