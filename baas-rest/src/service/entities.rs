//! The entity family: rows of `/{tenant}/{entity}` and
//! `/{tenant}/{entity}/{id}`, and the same under `/{tenant}/rest/v1/`.
//! Reads go to the engine; writes through `Idempotency-Key`, the singular
//! pre-count and `Prefer: tx=rollback`.

use baas_core::Value;
use baas_core::ir::{Filter, Insert, OnConflict, Query, WriteResult};
use baas_engine::{Principal, Tenant};

use super::{Service, core_error};
use crate::idempotency::{Claim, IdempotencyScope, InFlightGuard, REPLAYED, fingerprint};
use crate::route::Route;
use crate::write::Write;
use crate::{Operation, RestError, RestRequest, RestResponse, parse_request};

impl Service {
    pub(super) async fn entity(
        &self,
        tenant: &Tenant,
        r: &Route,
        req: &RestRequest,
        principal: &Principal,
    ) -> Result<RestResponse, RestError> {
        let op = parse_request(tenant.schema(), r, req, &self.limits)?;
        if let Operation::Read(read) = &op {
            aggregates_allowed(tenant, read)?;
        }
        let media = match &op {
            Operation::Read(read) => read.media,
            Operation::Write(w) => w.media,
        };
        if let crate::Media::Plan { text, options, .. } = media {
            let explain = baas_core::Explain {
                format: plan_format(text),
                options,
            };
            // Boxed: a plan's futures stay out of every request's state.
            return Box::pin(self.explain(tenant, op, explain, principal)).await;
        }
        match op {
            Operation::Read(mut read) => {
                self.prepare_answer(principal, tenant, &mut read.aliases)
                    .await?;
                if let Some(aggregate) = read.aggregate.take() {
                    let embeds = std::mem::take(&mut read.query.select.embeds);
                    let rows = self
                        .baas
                        .aggregate_embedding(principal, tenant, *aggregate, embeds)
                        .await
                        .map_err(core_error)?;
                    return Ok(crate::read_response_within(
                        &read,
                        baas_core::ir::Rows {
                            rows,
                            ..Default::default()
                        },
                        tenant.config().limits.max_response_bytes,
                    ));
                }
                // The query moves into the engine; the response only needs
                // its entity and page.
                let shell = Query {
                    page: read.query.page.clone(),
                    ..Query::new(read.query.entity.clone())
                };
                let query = std::mem::replace(&mut read.query, shell);
                let mut rows = self
                    .baas
                    .find(principal, tenant, query)
                    .await
                    .map_err(core_error)?;
                let asked = rows.response.take();
                let resp = crate::read_response_within(
                    &read,
                    rows,
                    tenant.config().limits.max_response_bytes,
                );
                Ok(super::as_functions_asked(resp, asked))
            }
            Operation::Write(w) => {
                let Some(store) = self.idempotency.as_deref() else {
                    return self.write(tenant, w, principal).await;
                };
                let Some(key) = crate::idempotency::idempotency_key(req)? else {
                    return self.write(tenant, w, principal).await;
                };
                let scope = IdempotencyScope {
                    tenant: tenant.id().to_string(),
                    caller: principal.subject.clone().unwrap_or_default(),
                    key,
                };
                match store.claim(&scope, &fingerprint(req)) {
                    Claim::Run => {}
                    Claim::Replay(mut r) => {
                        r.headers.push((REPLAYED.into(), "true".into()));
                        return Ok(r);
                    }
                    Claim::InFlight => {
                        return Err(RestError::new(
                            409,
                            "idempotency_key_in_use",
                            "a request with this Idempotency-Key is still running",
                        )
                        .with_hint("retry after it finished to get its answer"));
                    }
                    Claim::Mismatch => {
                        return Err(RestError::new(
                            422,
                            "idempotency_key_reused",
                            "this Idempotency-Key was used for a different request",
                        )
                        .with_hint("send a new key for a new write"));
                    }
                }
                let guard = InFlightGuard {
                    store,
                    scope,
                    done: false,
                };
                let resp = match self.write(tenant, w, principal).await {
                    Ok(r) => r,
                    Err(e) => e.to_response(),
                };
                guard.finish(&resp);
                Ok(resp)
            }
        }
    }

    /// Whether a merge upsert will insert at least one row (PostgREST's
    /// statuses depend on it), found before it runs: `Some(true)` when a
    /// row lacks part of the conflict target (it can only be inserted),
    /// else whether fewer rows than the body's distinct keys already exist.
    /// `None` for other writes, and when the rows cannot be counted (a
    /// caller who may write but not read): the statuses of a plain insert.
    async fn upsert_inserts(
        &self,
        tenant: &Tenant,
        write: &Write,
        principal: &Principal,
    ) -> Option<bool> {
        let Write::Insert(ins) = write else {
            return None;
        };
        let up = ins.on_conflict.as_ref()?;
        if up.action != OnConflict::Merge {
            return None;
        }
        // No row: nothing inserted (PostgREST's 200).
        if ins.rows.is_empty() {
            return Some(false);
        }
        let entity = tenant.schema().entity(&ins.entity).ok()?;
        let target = if up.target.is_empty() {
            &entity.primary_key
        } else {
            &up.target
        };
        if target.is_empty() {
            return None;
        }
        let mut seen = std::collections::HashSet::new();
        let mut keys = Vec::new();
        for row in &ins.rows {
            let mut parts = Vec::with_capacity(target.len());
            for f in target {
                match row.get(f) {
                    None | Some(serde_json::Value::Null) => return Some(true),
                    Some(v) => parts.push(v),
                }
            }
            if seen.insert(serde_json::to_string(&parts).ok()?) {
                keys.push(Filter::and(
                    target
                        .iter()
                        .zip(parts)
                        .map(|(f, v)| Filter::eq(f.as_str(), Value::from_json(v)))
                        .collect(),
                ));
            }
        }
        let distinct = keys.len() as u64;
        let existing = self
            .baas
            .count(principal, tenant, &ins.entity, Some(Filter::or(keys)))
            .await
            .ok()?;
        Some(existing < distinct)
    }

    /// Run a parsed write (the singular and `max-affected` pre-counts,
    /// `tx=rollback`, 404 by key).
    async fn write(
        &self,
        tenant: &Tenant,
        mut w: crate::WriteRequest,
        principal: &Principal,
    ) -> Result<RestResponse, RestError> {
        if let Some(limited) = w.limited.take() {
            self.limit_write(tenant, &mut w.write, limited, principal)
                .await?;
        }
        let filter = match &w.write {
            Write::Update(u) => Some(u.filter.clone()),
            Write::Delete(d) => Some(d.filter.clone()),
            Write::Insert(_) => None,
        };
        let singular = w.singular && w.key.is_none();
        // A singular insert of other than one row is refused before it
        // writes, as PostgREST refuses it (its transaction rolled back).
        if let Write::Insert(i) = &w.write
            && singular
            && i.rows.len() != 1
        {
            let affected = i.rows.len() as u64;
            return Ok(crate::write_response(
                &w,
                WriteResult {
                    response: None,
                    affected,
                    rows: Vec::new(),
                },
            ));
        }
        // A patch that sets nothing touches no row: nothing to count.
        let sets_nothing = matches!(&w.write, Write::Update(u) if u.set.is_empty());
        if let Some(f) = filter
            && !sets_nothing
            && (singular || w.prefer.max_affected.is_some())
        {
            let n = self
                .baas
                .count(principal, tenant, w.write.entity(), Some(f))
                .await
                .map_err(core_error)?;
            if singular && n != 1 {
                return Ok(crate::write_response(
                    &w,
                    WriteResult {
                        response: None,
                        affected: n,
                        rows: Vec::new(),
                    },
                ));
            }
            if let Some(max) = w.prefer.max_affected
                && n > max
            {
                return Err(RestError::from(&baas_core::Error::max_affected(max, n)));
            }
        }
        w.inserts = self.upsert_inserts(tenant, &w.write, principal).await;
        // The write moves into the engine; the response only needs
        // its kind, entity and `returning`, not the inserted rows.
        let shell = match &w.write {
            Write::Insert(i) => Write::Insert(Insert {
                entity: i.entity.clone(),
                rows: Vec::new(),
                on_conflict: i.on_conflict.clone(),
                returning: i.returning.clone(),
            }),
            other => other.clone(),
        };
        let op = std::mem::replace(&mut w.write, shell);
        let is_put = matches!(w.write, Write::Insert(_));
        // Shapes that could refuse a returned value are applied inside the
        // write's transaction: the refusal (kept as it will be answered)
        // takes the write back.
        // So are the joins of to-many spreads, whose budgets can refuse
        // the answer: never after the write is committed.
        self.prepare_answer(principal, tenant, &mut w.aliases)
            .await?;
        let joins = w.aliases.as_ref().is_some_and(|a| a.joins());
        let refused: std::sync::Mutex<Option<RestError>> = std::sync::Mutex::new(None);
        let check = |r: &WriteResult| -> baas_core::Result<()> {
            let Some(aliases) = &w.aliases else {
                return Ok(());
            };
            let mut budget = aliases.join_budget();
            for row in &r.rows {
                if let Err(e) =
                    aliases.apply_within(&mut row.clone(), &mut budget, w.prefer.timezone)
                {
                    let message = e.message.clone();
                    *refused
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(e);
                    return Err(baas_core::Error::validation("/select", message));
                }
            }
            Ok(())
        };
        let rollback = w.prefer.rollback;
        // Embeddings read inside the write's transaction where the engine
        // reads there (the SQL engines): a representation past the row
        // budget (the written rows' embeddings) then writes nothing, and
        // the error never hides a committed write.
        let caps = tenant.capabilities();
        let embeds = w
            .representation
            .as_ref()
            .is_some_and(|r| !r.embeds.is_empty())
            && caps.transactions
            && caps.reads_in_writes;
        let result = match w.representation.take() {
            rep if w.check || joins || embeds => {
                self.baas
                    .write_checked(principal, tenant, op, rep, rollback, &check)
                    .await
            }
            Some(rep) => {
                self.baas
                    .write_representing(principal, tenant, op, rep, rollback)
                    .await
            }
            None if rollback => self.baas.write_rolled_back(principal, tenant, op).await,
            None => self.baas.write(principal, tenant, op).await,
        }
        .map_err(|e| {
            let refused = refused
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .take();
            refused.unwrap_or_else(|| core_error(e))
        })?;
        let mut result = result;
        w.keep_inner(&mut result.rows);
        if w.key.is_some() && !is_put && result.affected == 0 {
            return Err(RestError::not_found(format!(
                "no `{}` row has this key",
                w.write.entity()
            )));
        }
        let asked = result.response.take();
        Ok(super::as_functions_asked(
            crate::write_response(&w, result),
            asked,
        ))
    }
}

impl Service {
    /// Narrow a limited `PATCH`/`DELETE` ([`crate::Limited`]) to the keys
    /// of its rows: a read of the primary key under the caller's grants
    /// (its filter, `order` then the key, `offset`, `limit`), whose keys
    /// are `and`-ed to the write's filter. A row changed in between so
    /// that it no longer matches is not written; never more than `limit`
    /// rows are.
    async fn limit_write(
        &self,
        tenant: &Tenant,
        write: &mut Write,
        limited: crate::Limited,
        principal: &Principal,
    ) -> Result<(), RestError> {
        let entity = tenant.schema().entity(write.entity()).map_err(core_error)?;
        if entity.primary_key.is_empty() {
            return Err(RestError::unsupported(format!(
                "a limited write needs a primary key; `{}` has none",
                entity.name
            )));
        }
        let filter = match &mut *write {
            Write::Update(u) => &mut u.filter,
            Write::Delete(d) => &mut d.filter,
            Write::Insert(_) => return Ok(()),
        };
        let mut order = limited.order;
        for k in &entity.primary_key {
            if !order.iter().any(|o| o.field == *k) {
                order.push(baas_core::ir::OrderBy::asc(k.clone()));
            }
        }
        let query = Query {
            select: baas_core::ir::Selection {
                fields: entity.primary_key.clone(),
                ..baas_core::ir::Selection::default()
            },
            filter: Some(filter.clone()),
            order,
            page: baas_core::ir::Page {
                limit: Some(limited.limit),
                offset: limited.offset,
                ..baas_core::ir::Page::default()
            },
            ..Query::new(entity.name.clone())
        };
        let rows = self
            .baas
            .find(principal, tenant, query)
            .await
            .map_err(core_error)?
            .rows;
        let keys = rows
            .iter()
            .map(|r| {
                Filter::and(
                    entity
                        .primary_key
                        .iter()
                        .map(|k| {
                            Filter::eq(
                                k.as_str(),
                                Value::from_json(r.get(k).unwrap_or(&serde_json::Value::Null)),
                            )
                        })
                        .collect(),
                )
            })
            .collect();
        *filter = Filter::and(vec![filter.clone(), Filter::or(keys)]);
        Ok(())
    }
}

/// PostgREST's 400 `PGRST123` for a read that aggregates
/// ([`ReadRequest::aggregates`](crate::ReadRequest::aggregates)) when the
/// tenant turns aggregates off ([`TenantConfig::aggregates`](baas_engine::TenantConfig::aggregates)).
pub(super) fn aggregates_allowed(
    tenant: &Tenant,
    read: &crate::ReadRequest,
) -> Result<(), RestError> {
    if tenant.config().aggregates || !read.aggregates() {
        return Ok(());
    }
    Err(RestError::new(
        400,
        crate::error::codes::AGGREGATES_DISALLOWED,
        "Use of aggregate functions is not allowed",
    ))
}

/// Whether `principal` may see plans: the 406 of another caller, before
/// anything of the request runs (plans show the schema, indexes and row
/// estimates).
pub(super) fn plans_seen_by(principal: &Principal) -> Result<(), RestError> {
    if principal.sees_plans() {
        Ok(())
    } else {
        Err(plan_not_available(
            "execution plans are served to the service role only",
        ))
    }
}

/// The 406 (`PGRST107`) of `Accept: application/vnd.pgrst.plan…` where no
/// plan is served: `why` says which (another caller, an engine without
/// plans, a statement without one).
pub(super) fn plan_not_available(why: &str) -> RestError {
    RestError::new(
        406,
        crate::error::codes::MEDIA_TYPE,
        format!("None of these media types are available: application/vnd.pgrst.plan ({why})"),
    )
    .with_hint("accept application/json or text/csv")
}

impl Service {
    /// `Accept: application/vnd.pgrst.plan…`: the plan of a read's own
    /// statement (of an aggregate's grouping statement, of a write's
    /// `INSERT`, `UPDATE` or `DELETE`), for the service role, on the
    /// engines that have one; otherwise (another caller or engine) a 406.
    async fn explain(
        &self,
        tenant: &Tenant,
        op: Operation,
        explain: baas_core::Explain,
        principal: &Principal,
    ) -> Result<RestResponse, RestError> {
        // Refused before anything runs (a limited write reads its keys).
        plans_seen_by(principal)?;
        let mut read = match op {
            Operation::Read(read) => read,
            Operation::Write(mut w) => {
                // The statement as it would run: a limited write narrowed
                // to its rows' keys first (a read).
                if let Some(limited) = w.limited.take() {
                    self.limit_write(tenant, &mut w.write, limited, principal)
                        .await?;
                }
                let plan = self
                    .baas
                    .explain_write(principal, tenant, w.write, explain)
                    .await;
                return plan_response(tenant, plan, w.media);
            }
        };
        let plan = match read.aggregate.take() {
            Some(aggregate) => {
                let embeds = std::mem::take(&mut read.query.select.embeds);
                self.baas
                    .explain_aggregate(principal, tenant, *aggregate, embeds, explain)
                    .await
            }
            None => {
                let query = std::mem::replace(&mut read.query, Query::new(""));
                self.baas.explain(principal, tenant, query, explain).await
            }
        };
        plan_response(tenant, plan, read.media)
    }
}

/// The engine's plan format an `Accept: application/vnd.pgrst.plan…`
/// asks for.
pub(super) fn plan_format(text: bool) -> baas_core::PlanFormat {
    if text {
        baas_core::PlanFormat::Text
    } else {
        baas_core::PlanFormat::Json
    }
}

/// The answer of `Accept: application/vnd.pgrst.plan…`: the plan (JSON,
/// or the engine's text), or a 406 when the engine has none in that
/// format (of that statement, with those options). Any other refusal (a
/// rule's, a request the engine cannot serve at all) is the request's
/// own error, as without a plan.
pub(super) fn plan_response(
    tenant: &Tenant,
    plan: baas_core::Result<serde_json::Value>,
    media: crate::Media,
) -> Result<RestResponse, RestError> {
    let engine = &tenant.capabilities().engine;
    let plan = match plan {
        Ok(plan) => plan,
        Err(baas_core::Error::Unsupported { feature, .. })
            if feature.starts_with("execution plans")
                || feature.starts_with("the plan options") =>
        {
            return Err(plan_not_available(&format!(
                "{feature} are not served for the {engine} engine"
            )));
        }
        Err(e) => return Err(core_error(e)),
    };
    let body = match plan {
        serde_json::Value::String(s) => s,
        other => other.to_string(),
    };
    Ok(RestResponse::new(
        200,
        vec![("content-type".into(), media.content_type().into_owned())],
        body,
    ))
}
