//! Request orchestration, once for every route family: principal → grants
//! of every entity the request touches → validate once (the grants applied
//! in the same walk) → execute → hooks and events.
//!
//! ```text
//! find:  grants (root, embeds, junctions, exists targets) → Validator → read::find
//! write: root grant → WriteHook::before → grants → Validator → adapter → after hooks, ChangeEvent
//! ```

use std::collections::BTreeSet;

use baas_core::access::{Action, Grant, Grants};
use baas_core::adapter::{Row, Target, WriteCheck, WriteFinish};
use baas_core::error::{Error, Result};
use baas_core::ir::{Aggregate, Embed, Filter, OnConflict, Query, Rows, WriteResult};
use baas_core::metadata::{Entity, SchemaMetadata};
use baas_core::validate::{CheckedWrite, Validator, touched_by_filter, touched_entities};
use baas_core::value::AnswerFormat;

use crate::access::{AccessRequest, ChangeEvent, HookContext, Principal, Resource, WriteOp};
use crate::runtime::Tenant;
use crate::{Baas, DecimalFormat};

/// `query` within the tenant's row budget: `max_rows` capped by the
/// tenant's, and every to-many embed given the default page size
/// ([`default_embed_limits`]); `entity` is the query's root in `schema`.
fn within_budget(tenant: &Tenant, schema: &SchemaMetadata, entity: &Entity, query: Query) -> Query {
    let limits = &tenant.config().limits;
    let mut query = Query {
        max_rows: Some(
            query
                .max_rows
                .map_or(limits.max_rows, |m| m.min(limits.max_rows)),
        ),
        ..query
    };
    default_embed_limits(schema, entity, &mut query.select.embeds, limits.embed_limit);
    query
}

/// Give every to-many embed without a `limit` of its own the tenant's
/// default, at every depth (an embedded list is a page too). Unknown
/// relations are left for validation to report.
fn default_embed_limits(
    schema: &SchemaMetadata,
    entity: &Entity,
    embeds: &mut [Embed],
    default: u64,
) {
    for e in embeds {
        let Ok(rel) = entity.relation(&e.relation) else {
            continue;
        };
        let Ok(target) = schema.entity(&rel.target) else {
            continue;
        };
        // An embedding with aggregates (its own or a joined to-one
        // relation's) answers one object per group: its groups are bounded
        // by the parents' rows, not paged.
        let aggregated = !e.select.aggregates.is_empty()
            || e.select.embeds.iter().any(|n| n.joins(schema, target));
        if e.limit.is_none() && !rel.kind.is_to_one() && !aggregated {
            e.limit = Some(default);
        }
        default_embed_limits(schema, target, &mut e.select.embeds, default);
    }
}

/// Run a checked write: plainly, rolled back (`tx=rollback`), or
/// finished inside its transaction; in a transaction that sets
/// `settings` first when there are any ([`statement_settings`]).
async fn execute(
    adapter: &dyn baas_core::DatabaseAdapter,
    write: CheckedWrite<'_, '_>,
    rollback: bool,
    finish: Option<&dyn WriteFinish>,
    settings: &[(String, String)],
) -> Result<WriteResult> {
    match (finish, write) {
        (Some(finish), w) => adapter.write_checked(w, finish, rollback, settings).await,
        (None, w) if rollback || !settings.is_empty() => {
            let as_written = baas_core::AsWritten;
            adapter
                .write_checked(w, &as_written, rollback, settings)
                .await
        }
        (None, CheckedWrite::Insert(i)) => adapter.insert_rows(i).await,
        (None, CheckedWrite::Update(u)) => adapter.update_rows(u).await,
        (None, CheckedWrite::Delete(d)) => adapter.delete_rows(d).await,
    }
}

/// The settings of `principal`'s statements on `tenant`, none where they
/// need none: where the engine has settings
/// ([`Capabilities::request_settings`](baas_core::Capabilities::request_settings))
/// and the statements may read them (`reads_settings`: a flagged entity,
/// [`calls_functions`], a function call), or always with
/// [`TenantConfig::database_roles`](crate::TenantConfig::database_roles),
/// PostgREST's request settings ([`Principal::request_settings`]), with
/// database roles the caller's `role` last ([`Principal::database_role`]:
/// a role outside [`DATABASE_ROLES`](crate::DATABASE_ROLES) is refused).
/// With a zone (`Prefer: timezone`, [`Principal::timezone`]) on an engine
/// with settings, always its `timezone`, PostgREST's `SET LOCAL timezone`:
/// what the database computes from an instant (a cast's date or text, a
/// view's or a function's) is in the caller's zone too.
fn statement_settings(
    tenant: &Tenant,
    principal: &Principal,
    reads_settings: bool,
) -> Result<Vec<(String, String)>> {
    let roles = tenant.config().database_roles;
    let engine = tenant.capabilities().request_settings;
    let zone = principal.timezone.filter(|_| engine);
    let request = roles || (reads_settings && engine);
    if !request && zone.is_none() {
        return Ok(Vec::new());
    }
    let mut settings = if request {
        principal.request_settings()
    } else {
        Vec::new()
    };
    if let Some(zone) = zone {
        settings.push(("timezone".into(), zone.name().into()));
    }
    if roles {
        settings.push(("role".into(), principal.database_role()?.into()));
    }
    Ok(settings)
}

/// Where a request's further reads run (counts, aggregates, the
/// embeddings of a write's representation): on the pool, or, when the
/// tenant switches to the caller's database role
/// ([`TenantConfig::database_roles`](crate::TenantConfig::database_roles)),
/// when they may read the request settings, or when the caller names a
/// zone on PostgreSQL (`Prefer: timezone`), in a session of the caller's
/// settings (its zone) and role ([`statement_settings`]).
struct Scope(Option<Box<dyn baas_core::Session>>);

impl Scope {
    /// The scope of reads that may call a function reading the request
    /// settings (`reads_settings`: [`calls_functions`], a function call's
    /// rows), or of any read of a tenant with database roles.
    /// With `read_only` (a function call's rows read as PostgREST's `GET`
    /// reads them), the session's transaction is read-only.
    async fn open(
        tenant: &Tenant,
        principal: &Principal,
        reads_settings: bool,
        read_only: bool,
    ) -> Result<Self> {
        let mut settings = statement_settings(tenant, principal, reads_settings)?;
        if read_only {
            settings.push(read_only_setting(tenant)?);
        }
        if settings.is_empty() {
            return Ok(Self(None));
        }
        match tenant.adapter().session(&settings).await? {
            Some(session) => Ok(Self(Some(session))),
            // Never the tenant's user in place of the caller's role.
            None if tenant.config().database_roles => Err(Error::unsupported(
                &tenant.capabilities().engine,
                "running a request as the caller's database role",
            )),
            None => Ok(Self(None)),
        }
    }

    fn adapter<'a>(&'a self, tenant: &'a Tenant) -> &'a dyn baas_core::DatabaseAdapter {
        match &self.0 {
            Some(session) => session.adapter(),
            None => tenant.adapter().as_ref(),
        }
    }

    /// The scope an execution plan is made in: with `analyze` the
    /// statement runs, so in the read's own scope (its settings, role,
    /// read-only transaction; end it with [`discard`](Self::discard)); the
    /// planner alone runs on the pool.
    async fn for_plan(
        tenant: &Tenant,
        principal: &Principal,
        explain: baas_core::Explain,
        reads_settings: bool,
        read_only: bool,
    ) -> Result<Self> {
        if explain.options.analyze {
            Self::open(tenant, principal, reads_settings, read_only).await
        } else {
            Ok(Self(None))
        }
    }

    /// End the session keeping nothing (a plan's `analyze` ran the
    /// statement), and give `result`.
    async fn discard<T>(self, result: Result<T>) -> Result<T> {
        if let Some(session) = self.0 {
            session.end(false).await?;
        }
        result
    }

    /// End the session: commit after `result` succeeded, else roll back.
    async fn close<T>(self, result: Result<T>) -> Result<T> {
        if let Some(session) = self.0 {
            session.end(result.is_ok()).await?;
        }
        result
    }
}

/// A read's statements together within the tenant's statement timeout
/// (`TenantLimits::statement_timeout_ms`), as each one is: a read of
/// several statements (a count, one per embedding level) that runs past it
/// as a whole is cancelled, [`Error::Timeout`]. Dropping a read mid-way
/// keeps nothing it could write: its session, if any, is rolled back, and
/// the database stops the statement in flight at its own bound.
async fn within_time<T>(
    tenant: &Tenant,
    read: impl std::future::Future<Output = Result<T>>,
) -> Result<T> {
    match tenant.config().limits.statement_timeout() {
        None => read.await,
        Some(t) => tokio::time::timeout(t, read).await.unwrap_or_else(|_| {
            Err(Error::Timeout {
                message: format!(
                    "{}: the read's statements together ran past the statement timeout",
                    tenant.capabilities().engine
                ),
            })
        }),
    }
}

/// The setting that makes a transaction read-only (PostgREST's `GET` of
/// any function: a write in it is the database's 25006, a 405); engines
/// that take no settings cannot promise it.
fn read_only_setting(tenant: &Tenant) -> Result<(String, String)> {
    if !tenant.capabilities().request_settings {
        return Err(Error::unsupported(
            tenant.capabilities().engine.clone(),
            "calling a function that may write in a read-only transaction",
        ));
    }
    Ok(("transaction_read_only".into(), "on".into()))
}

/// Whether a read of `entity` with `embeds` may call a database function
/// of the tenant's: the entity, or one it embeds, has a computed field
/// (whether the read names it or not: a cheap, safe answer) or is a view that reads request
/// settings ([`Entity::request_settings`]), or an embedding is a computed
/// relationship. Such a read runs with the caller's request settings
/// ([`DatabaseAdapter::find_call`]), which the function may read
/// (`auth.uid()`); other reads run on the pool, one statement each
/// (unless the caller names a zone on PostgreSQL: [`statement_settings`]).
///
/// [`DatabaseAdapter::find_call`]: baas_core::DatabaseAdapter::find_call
fn calls_functions(schema: &SchemaMetadata, entity: &Entity, embeds: &[Embed]) -> bool {
    (entity.is_view() && entity.request_settings)
        || entity.fields.iter().any(baas_core::Field::is_computed)
        || embeds.iter().any(|e| {
            entity.relation(&e.relation).is_ok_and(|r| {
                r.function.is_some()
                    || schema
                        .entity(&r.target)
                        .is_ok_and(|t| calls_functions(schema, t, &e.select.embeds))
            })
        })
}

/// How the answer to `principal` writes its values: the tenant's decimals
/// ([`DecimalFormat`]), the caller's time zone ([`Principal::timezone`]).
fn answer_format(tenant: &Tenant, principal: &Principal) -> AnswerFormat {
    AnswerFormat {
        decimals_as_strings: tenant.config().decimals == DecimalFormat::String,
        zone: principal.timezone,
    }
}

/// Rows of `entity` (with `embeds`) as the answer to `principal` writes
/// them ([`answer_format`]): the adapters answer decimal numbers and
/// instants in UTC.
fn formatted(
    tenant: &Tenant,
    principal: &Principal,
    schema: &SchemaMetadata,
    entity: &Entity,
    embeds: &[Embed],
    rows: &mut [Row],
) {
    let format = answer_format(tenant, principal);
    baas_core::value::format_answer(rows, &format, schema, entity, embeds);
}

/// What a read answers: its rows, or, when its caller asked for it, the
/// engine's plan of its root statement (nothing read).
enum Answer<T> {
    Rows(T),
    Plan(serde_json::Value),
}

/// How a function call runs ([`Baas::call_with`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CallOptions {
    /// Roll the call back afterwards, whatever it did (`Prefer:
    /// tx=rollback`); unsupported on an engine without transactions.
    pub rollback: bool,
    /// Answering more rows than this rolls the call back and refuses it
    /// ([`Error::max_affected`]: PostgREST's `Prefer: max-affected` of a
    /// call).
    pub max_affected: Option<u64>,
    /// Run the call in a read-only transaction (PostgreSQL: PostgREST's
    /// `GET` of a function that may write; a write in it is the
    /// database's 25006, a 405). Unsupported on other engines.
    pub read_only: bool,
}

/// How a function call runs ([`Baas::call`] and its siblings).
#[derive(Debug, Clone, Copy)]
enum CallMode {
    /// Called as the options say.
    Run(CallOptions),
    /// Only planned, with these options (with `analyze` the statement
    /// runs, rolled back; in a read-only transaction when the flag says
    /// so, as PostgREST's `GET` calls a function).
    Plan(baas_core::Explain, bool),
}

impl<T: Default> Answer<T> {
    /// The rows of a read run without a plan asked for (which is never a
    /// plan: no rows then).
    fn into_rows(self) -> T {
        match self {
            Self::Rows(rows) => rows,
            Self::Plan(_) => T::default(),
        }
    }

    /// The plan of a read run with one asked for (which always answers
    /// one; `null` otherwise).
    fn into_plan(self) -> serde_json::Value {
        match self {
            Self::Plan(plan) => plan,
            Self::Rows(_) => serde_json::Value::Null,
        }
    }
}

/// Whether `principal` may see execution plans: they show the schema,
/// indexes and row estimates, so only the service role (or the admin).
fn plans_allowed(principal: &Principal) -> Result<()> {
    if principal.sees_plans() {
        Ok(())
    } else {
        Err(Error::Forbidden(
            "execution plans are served to the service role only".into(),
        ))
    }
}

/// A checked aggregate's groups (formatted for the caller) in the read's
/// scope, or, with `plan`, the plan of its grouping statement.
async fn aggregated(
    tenant: &Tenant,
    principal: &Principal,
    checked: &baas_core::Checked<'_, Aggregate>,
    plan: Option<baas_core::Explain>,
    reads_settings: bool,
    read_only: bool,
) -> Result<Answer<Vec<Row>>> {
    if let Some(explain) = plan {
        let scope = Scope::for_plan(tenant, principal, explain, reads_settings, read_only).await?;
        let plan = scope
            .adapter(tenant)
            .explain_aggregate(checked, explain)
            .await;
        return Ok(Answer::Plan(scope.discard(plan).await?));
    }
    let scope = Scope::open(tenant, principal, reads_settings, read_only).await?;
    // A call's rows aggregated under `tx=rollback`: in its session, rolled
    // back (a function that writes keeps nothing).
    let rolled_back = checked.target().call.is_some_and(|c| c.rolled_back);
    if rolled_back && scope.0.is_none() {
        return Err(Error::unsupported(
            &tenant.capabilities().engine,
            "rolling back the call whose rows are aggregated (`Prefer: tx=rollback`)",
        ));
    }
    let rows = scope.adapter(tenant).aggregate_rows(checked).await;
    let mut rows = if rolled_back {
        scope.discard(rows).await?
    } else {
        scope.close(rows).await?
    };
    aggregate_formatted(tenant, principal, checked, &mut rows)?;
    Ok(Answer::Rows(rows))
}

/// An aggregate's answer as the answer to `principal` writes it
/// ([`answer_format`]): its groups and aggregates by their types
/// ([`Aggregate::answer_types`]), keyed as the engine answers, before a
/// via's keys are nested.
fn aggregate_formatted(
    tenant: &Tenant,
    principal: &Principal,
    checked: &baas_core::Checked<'_, Aggregate>,
    rows: &mut [Row],
) -> Result<()> {
    let format = answer_format(tenant, principal);
    if format.is_plain() {
        return Ok(());
    }
    let types = checked.get().answer_types(checked.target())?;
    let keys: Vec<(&str, &baas_core::FieldType)> = types
        .iter()
        .filter(|(_, ty)| format.rewrites(ty))
        .map(|(k, ty)| (k.as_str(), ty))
        .collect();
    baas_core::value::format_answer_keys(
        rows,
        &keys,
        &format,
        checked.schema(),
        checked.entity(),
        &[],
    );
    Ok(())
}

/// The refusal of a write by a grant's check.
fn refused(grant: &Grant, why: &str) -> Error {
    Error::Forbidden(match &grant.rule {
        Some(rule) => format!("{why} (rule `{rule}`)"),
        None => why.to_string(),
    })
}

/// A written row's values as the database will store them, for a rule's
/// check to decide on what is kept rather than on what was sent: a number
/// in its field's type (a decimal rounded to its scale: `99.996` is
/// `100.00` in a `numeric(10,2)`), a number sent to a text field as its
/// text. Other values stay as sent (instants are already in UTC); a value
/// the type refuses stays too (the validator refuses it afterwards).
fn as_stored(entity: &Entity, row: &Row) -> Row {
    use baas_core::FieldType as T;
    row.iter()
        .map(|(k, v)| {
            let stored = match entity.field(k).map(|f| &f.ty) {
                Ok(
                    ty @ (T::Int16
                    | T::Int32
                    | T::Int64
                    | T::Float32
                    | T::Float64
                    | T::Decimal { .. }),
                ) => baas_core::Value::from_json(v)
                    .coerce_body(ty)
                    .ok()
                    .map(|t| t.to_json()),
                Ok(T::Text) => match v {
                    serde_json::Value::Number(n) => Some(serde_json::Value::String(n.to_string())),
                    _ => None,
                },
                _ => None,
            };
            (k.clone(), stored.unwrap_or_else(|| v.clone()))
        })
        .collect()
}

/// A grant's presets set on the written rows, then its check: evaluated on
/// every row an insert writes (a failing or unknown one refuses the write),
/// and on an update's new values — what they decide refuses it or not, and
/// what depends on unchanged fields narrows the update to the rows that
/// satisfy it. A merging upsert's rows must also pass the update grant's
/// check.
///
/// The checks compare JSON: the caller's instants (`timestamptz`) are
/// first written in UTC ([`instants_in_utc`](baas_core::value::instants_in_utc),
/// read in the caller's `zone`), and so are the rule's own values, presets
/// and what is left of a check for the update's filter, in UTC whoever
/// asks.
fn apply_presets_and_checks(
    op: &mut WriteOp,
    entity: &Entity,
    zone: Option<baas_core::zone::Zone>,
    root: &Grant,
    merge: Option<&Grant>,
) -> Result<()> {
    use baas_core::eval::{Eval, constant, eval, partial};
    use baas_core::value::instants_in_utc;
    let instants = |row: &mut Row, zone| {
        for (k, v) in row.iter_mut() {
            if let Ok(f) = entity.field(k) {
                instants_in_utc(&f.ty, v, zone);
            }
        }
    };
    let mut presets = root.presets.clone();
    instants(&mut presets, None);
    match op {
        WriteOp::Insert(i) => {
            for row in &mut i.rows {
                instants(row, zone);
                for (k, v) in &presets {
                    row.insert(k.clone(), v.clone());
                }
                // Built only for a check.
                let mut stored = None;
                for g in std::iter::once(root).chain(merge) {
                    if let Some(check) = &g.check {
                        let stored = stored.get_or_insert_with(|| as_stored(entity, row));
                        match eval(check, stored) {
                            Eval::True => {}
                            Eval::Unsupported => {
                                return Err(refused(
                                    g,
                                    "the rule's check cannot be evaluated on new rows",
                                ));
                            }
                            Eval::False | Eval::Unknown => {
                                return Err(refused(g, "a new row violates the rule's check"));
                            }
                        }
                    }
                }
            }
        }
        WriteOp::Update(u) => {
            instants(&mut u.set, zone);
            for (k, v) in &presets {
                u.set.insert(k.clone(), v.clone());
            }
            if let Some(check) = &root.check {
                let Some(rest) = partial(check, &as_stored(entity, &u.set)) else {
                    return Err(refused(
                        root,
                        "the rule's check cannot be evaluated on the new values",
                    ));
                };
                match constant(&rest) {
                    Some(true) => {}
                    Some(false) => {
                        return Err(refused(root, "the new values violate the rule's check"));
                    }
                    None => {
                        // The rule's instants, typed here in UTC: the
                        // caller's zone reads the caller's filter only.
                        let mut rest = rest;
                        rest.compared_values_mut(&mut |field, v| {
                            if let Ok(f) = entity.field(field)
                                && f.ty == baas_core::FieldType::TimestampTz
                                && let Ok(t) = v.coerce(&f.ty)
                            {
                                *v = t;
                            }
                        });
                        let f = std::mem::replace(&mut u.filter, Filter::and(Vec::new()));
                        u.filter = Filter::and(vec![f, rest]);
                    }
                }
            }
        }
        WriteOp::Delete(_) => {}
    }
    Ok(())
}

/// A function call made ready to read ([`Baas::prepared_call`]).
struct PreparedCall<'t> {
    /// The function called.
    function: &'t baas_core::function::Function,
    /// Its arguments, converted.
    call: baas_core::function::Call,
    /// The tenant's schema with the function's result entity last.
    schema: SchemaMetadata,
    /// The caller's read grant on the entity the function returns, under
    /// the function's name (none: its rows are not narrowed).
    grants: Grants,
}

impl PreparedCall<'_> {
    /// The result entity in `schema` (a [`PreparedCall::schema`]).
    fn entity(schema: &SchemaMetadata) -> &Entity {
        schema
            .entities
            .last()
            .expect("a prepared call's schema ends with its result entity")
    }
}

impl Baas {
    /// The policy's grant for one entity and action.
    async fn grant(
        &self,
        principal: &Principal,
        tenant: &Tenant,
        entity: &Entity,
        action: Action,
    ) -> Result<Grant> {
        self.policy
            .grant(&AccessRequest {
                principal,
                tenant: tenant.id(),
                resource: Resource::Entity(entity),
                action,
                schema: tenant.schema(),
                version: tenant.version(),
            })
            .await
    }

    /// The policy's answer to `principal` executing the function `f`.
    async fn execute_grant(
        &self,
        principal: &Principal,
        tenant: &Tenant,
        f: &baas_core::function::Function,
    ) -> Result<Grant> {
        self.policy
            .grant(&AccessRequest {
                principal,
                tenant: tenant.id(),
                resource: Resource::Function(f),
                action: Action::Execute,
                schema: tenant.schema(),
                version: tenant.version(),
            })
            .await
    }

    /// Whether the policy lets `principal` call the function `f` (what
    /// [`Baas::visible_schema`] lists): for answers that would show the
    /// function's signature.
    pub async fn may_execute(
        &self,
        principal: &Principal,
        tenant: &Tenant,
        f: &baas_core::function::Function,
    ) -> bool {
        self.execute_grant(principal, tenant, f).await.is_ok()
    }

    /// The read grants of `entities` (unknown names are skipped: validation
    /// reports them), added to `grants`.
    async fn read_grants(
        &self,
        principal: &Principal,
        tenant: &Tenant,
        entities: &BTreeSet<String>,
        grants: &mut Grants,
    ) -> Result<()> {
        for name in entities {
            if let Ok(entity) = tenant.schema().entity(name) {
                let g = self.grant(principal, tenant, entity, Action::Read).await?;
                grants.insert(name.clone(), Action::Read, g);
            }
        }
        Ok(())
    }

    /// The tenant's metadata as `principal` may use it, for the documents
    /// that describe the API (discovery, OpenAPI): an entity the policy
    /// lets the caller neither read nor write is left out (with the
    /// relations to it), and an entity whose grants name fields keeps only
    /// the fields the caller may read or write. Rules are not shown.
    pub async fn visible_schema(
        &self,
        principal: &Principal,
        tenant: &Tenant,
    ) -> Result<SchemaMetadata> {
        let never = Filter::or(Vec::new());
        let mut out = SchemaMetadata::clone(tenant.schema());
        out.rules.clear();
        let mut kept = Vec::new();
        for entity in &tenant.schema().entities {
            let mut fields: Option<BTreeSet<String>> = Some(BTreeSet::new());
            let mut usable = false;
            for action in [Action::Read, Action::Insert, Action::Update, Action::Delete] {
                let g = match self.grant(principal, tenant, entity, action).await {
                    Ok(g) => g,
                    Err(Error::Forbidden(_)) => continue,
                    Err(e) => return Err(e),
                };
                if g.filter.as_ref() == Some(&never) {
                    continue;
                }
                usable = true;
                let set = if action == Action::Read {
                    &g.read
                } else {
                    &g.write
                };
                match (set, &mut fields) {
                    (baas_core::access::FieldSet::All, _) => fields = None,
                    (baas_core::access::FieldSet::Only(names), Some(f)) => {
                        f.extend(names.iter().cloned());
                    }
                    (_, None) => {}
                }
            }
            if !usable {
                continue;
            }
            let mut e = entity.clone();
            if let Some(f) = fields {
                e.fields
                    .retain(|x| f.contains(&x.name) || e.primary_key.contains(&x.name));
            }
            kept.push(e);
        }
        let names: BTreeSet<String> = kept.iter().map(|e| e.name.clone()).collect();
        for e in &mut kept {
            e.relations.retain(|r| {
                names.contains(&r.target)
                    && match &r.kind {
                        baas_core::metadata::RelationKind::ManyToMany { through } => {
                            names.contains(&through.entity)
                        }
                        _ => true,
                    }
            });
        }
        out.entities = kept;
        let mut functions = Vec::new();
        for f in &tenant.schema().functions {
            match self.execute_grant(principal, tenant, f).await {
                Ok(_) => functions.push(f.clone()),
                Err(Error::Forbidden(_)) => {}
                Err(e) => return Err(e),
            }
        }
        out.functions = functions;
        Ok(out)
    }

    /// The validator of what `principal` asks of `target`: values are
    /// read in the caller's time zone ([`Principal::timezone`]).
    fn validator<'a>(
        &'a self,
        tenant: &'a Tenant,
        principal: &Principal,
        target: Target<'a>,
    ) -> Validator<'a> {
        Validator::new(target, tenant.capabilities(), &self.config.limits)
            .in_zone(principal.timezone)
    }

    /// Rows of an entity (with embeds, count and page as the query says),
    /// as the caller's grants allow on every entity it touches, within the
    /// tenant's row budget and, all its statements together, its statement
    /// timeout (`TenantLimits::statement_timeout_ms`: past it, `Error::Timeout`).
    pub async fn find(&self, principal: &Principal, tenant: &Tenant, query: Query) -> Result<Rows> {
        // On the heap: a read's future is large, and a timeout around it
        // would hold it on the caller's stack.
        within_time(
            tenant,
            Box::pin(self.find_unbounded(principal, tenant, query)),
        )
        .await
    }

    /// [`find`](Self::find) without its bound on the whole read's time.
    async fn find_unbounded(
        &self,
        principal: &Principal,
        tenant: &Tenant,
        query: Query,
    ) -> Result<Rows> {
        let mut grants = Grants::new();
        let checked = self
            .checked_read(principal, tenant, query, &mut grants)
            .await?;
        let adapter = tenant.adapter();
        let reads = calls_functions(tenant.schema(), checked.entity(), &checked.select.embeds);
        let settings = statement_settings(tenant, principal, reads)?;
        let rows = if settings.is_empty() {
            baas_core::read::find(adapter.as_ref(), &checked).await
        } else {
            adapter.find_call(&checked, &settings, false, None).await
        };
        let mut rows = rows?;
        formatted(
            tenant,
            principal,
            tenant.schema(),
            checked.entity(),
            &checked.select.embeds,
            &mut rows.rows,
        );
        Ok(rows)
    }

    /// The fields of `entity` a `*` gives the caller (PostgREST's
    /// `select=*`): those the read grant lets it read, computed fields
    /// aside, in the entity's order, as a read of `entity` with `*`
    /// answers them. What a read checks (the entity exists, the caller may
    /// read it) is checked; nothing is read.
    pub async fn star_fields(
        &self,
        principal: &Principal,
        tenant: &Tenant,
        entity: &str,
    ) -> Result<Vec<String>> {
        let mut grants = Grants::new();
        let checked = self
            .checked_read(principal, tenant, Query::new(entity), &mut grants)
            .await?;
        Ok(if checked.select.fields.is_empty() {
            checked
                .entity()
                .star_fields()
                .map(|f| f.name.clone())
                .collect()
        } else {
            checked.select.fields.clone()
        })
    }

    /// The engine's execution plan of a read's own statement (PostgREST's
    /// `Accept: application/vnd.pgrst.plan`), under the same grants and
    /// validation as [`find`](Self::find). Plans show the schema, indexes
    /// and row estimates: only the service role (or the admin) gets them;
    /// anyone else is `Forbidden`.
    pub async fn explain(
        &self,
        principal: &Principal,
        tenant: &Tenant,
        query: Query,
        explain: baas_core::Explain,
    ) -> Result<serde_json::Value> {
        plans_allowed(principal)?;
        let mut grants = Grants::new();
        let checked = self
            .checked_read(principal, tenant, query, &mut grants)
            .await?;
        let reads = calls_functions(tenant.schema(), checked.entity(), &checked.select.embeds);
        let scope = Scope::for_plan(tenant, principal, explain, reads, false).await?;
        let plan = scope.adapter(tenant).explain(&checked, explain).await;
        scope.discard(plan).await
    }

    /// The engine's execution plan of the statement that computes an
    /// aggregate's groups, as [`aggregate_embedding`](Self::aggregate_embedding)
    /// checks and builds it (related rows embedded afterwards are further
    /// statements): the service role's only, as [`explain`](Self::explain).
    pub async fn explain_aggregate(
        &self,
        principal: &Principal,
        tenant: &Tenant,
        aggregate: Aggregate,
        embeds: Vec<Embed>,
        explain: baas_core::Explain,
    ) -> Result<serde_json::Value> {
        plans_allowed(principal)?;
        let target = tenant.target(&aggregate.entity)?;
        self.aggregate_embedding_from(
            principal,
            tenant,
            target,
            Grants::new(),
            aggregate,
            embeds,
            Some(explain),
        )
        .await
        .map(Answer::into_plan)
    }

    /// The engine's execution plan of the statement that reads a function
    /// call's rows (`/rpc/{name}` with `Accept: application/vnd.pgrst.plan`),
    /// the call checked as [`call`](Self::call) checks it (or, with
    /// `aggregate`, as [`call_aggregate`](Self::call_aggregate)); nothing
    /// is called, unless the plan is `analyze`'s (the statement then runs
    /// in a transaction that is rolled back: nothing it writes is kept;
    /// with `read_only`, PostgREST's `GET` of a volatile function, that
    /// transaction is read-only, so a function that writes fails). A
    /// procedure's `CALL` has none. The service role's only,
    /// as [`explain`](Self::explain).
    #[allow(clippy::too_many_arguments)]
    pub async fn explain_call(
        &self,
        principal: &Principal,
        tenant: &Tenant,
        function: &str,
        args: &serde_json::Map<String, serde_json::Value>,
        query: Query,
        aggregate: Option<Aggregate>,
        explain: baas_core::Explain,
        read_only: bool,
    ) -> Result<serde_json::Value> {
        plans_allowed(principal)?;
        Ok(match aggregate {
            Some(a) => {
                let embeds = query.select.embeds;
                self.call_aggregate_as(
                    principal,
                    tenant,
                    function,
                    args,
                    a,
                    embeds,
                    CallMode::Plan(explain, read_only),
                )
                .await?
                .into_plan()
            }
            None => self
                .call_as(
                    principal,
                    tenant,
                    function,
                    args,
                    query,
                    CallMode::Plan(explain, read_only),
                )
                .await?
                .into_plan(),
        })
    }

    /// A read within the tenant's row budget, validated with the caller's
    /// grants on every entity it touches (gathered into `grants`).
    async fn checked_read<'t>(
        &'t self,
        principal: &Principal,
        tenant: &'t Tenant,
        query: Query,
        grants: &'t mut Grants,
    ) -> Result<baas_core::Checked<'t, Query>> {
        let target = tenant.target(&query.entity)?;
        self.checked_read_from(principal, tenant, target, query, grants)
            .await
    }

    /// [`checked_read`](Self::checked_read) of the rows of `target`: an
    /// entity's table, or a function call's rows (whose result entity
    /// joins `target.schema`; the grant of its rows, if any, is already
    /// in `grants`).
    async fn checked_read_from<'t>(
        &'t self,
        principal: &Principal,
        tenant: &'t Tenant,
        target: Target<'t>,
        query: Query,
        grants: &'t mut Grants,
    ) -> Result<baas_core::Checked<'t, Query>> {
        let query = within_budget(tenant, target.schema, target.entity, query);
        let touched = touched_entities(target.schema, &query);
        self.read_grants(principal, tenant, &touched, grants)
            .await?;
        self.validator(tenant, principal, target)
            .with_access(grants)
            .query(query)
    }

    /// The call of `function` with `args`, made ready to read: the engine
    /// serves functions, the caller may execute it, the arguments convert
    /// ([`Function::call`](baas_core::function::Function::call)). With the
    /// schema its result entity joins (a copy of the tenant's, so the
    /// validator and the embed planner resolve it like any entity:
    /// function and entity names never collide, `SchemaMetadata::check`),
    /// and the caller's read grant on the entity it returns, under the
    /// function's name (its rows are narrowed as if read from the entity).
    async fn prepared_call<'t>(
        &self,
        principal: &Principal,
        tenant: &'t Tenant,
        function: &str,
        args: &serde_json::Map<String, serde_json::Value>,
    ) -> Result<PreparedCall<'t>> {
        let schema = tenant.schema();
        let keys: Vec<&str> = args.keys().map(String::as_str).collect();
        let f = schema.function_for(function, &keys)?;
        let caps = tenant.capabilities();
        caps.require(caps.functions, "functions (`/rpc`)")?;
        self.execute_grant(principal, tenant, f).await?;
        let call = f.call(args, caps, principal.timezone)?;
        let mut with_result = SchemaMetadata::clone(schema);
        with_result.entities.push(f.result_entity(schema)?);
        let mut grants = Grants::new();
        if let baas_core::function::Returns::Entity {
            entity: returned, ..
        } = &f.returns
        {
            let g = self
                .grant(principal, tenant, schema.entity(returned)?, Action::Read)
                .await?;
            grants.insert(f.name.clone(), Action::Read, g);
        }
        Ok(PreparedCall {
            function: f,
            call,
            schema: with_result,
            grants,
        })
    }

    /// Call a function (`/rpc/{name}`) and read its result like rows:
    /// `query` (on the function's name) filters, orders, pages and embeds
    /// them as on an entity. The caller needs the policy's
    /// [`Action::Execute`] on the function; rows of an entity it returns
    /// are narrowed by the caller's read grant on that entity, as if read
    /// from the entity itself. `args` are converted by the parameters'
    /// types ([`Function::call`](baas_core::function::Function::call)).
    pub async fn call(
        &self,
        principal: &Principal,
        tenant: &Tenant,
        function: &str,
        args: &serde_json::Map<String, serde_json::Value>,
        query: Query,
    ) -> Result<Rows> {
        self.call_with(
            principal,
            tenant,
            function,
            args,
            query,
            CallOptions::default(),
        )
        .await
    }

    /// [`call`](Self::call) inside a transaction rolled back afterwards
    /// (`Prefer: tx=rollback`): the answer of the call, and nothing it
    /// wrote kept ([`DatabaseAdapter::find_call`]; unsupported on
    /// an engine without transactions).
    ///
    /// [`DatabaseAdapter::find_call`]: baas_core::DatabaseAdapter::find_call
    pub async fn call_rolled_back(
        &self,
        principal: &Principal,
        tenant: &Tenant,
        function: &str,
        args: &serde_json::Map<String, serde_json::Value>,
        query: Query,
    ) -> Result<Rows> {
        let options = CallOptions {
            rollback: true,
            ..CallOptions::default()
        };
        self.call_with(principal, tenant, function, args, query, options)
            .await
    }

    /// [`call`](Self::call) as `options` say ([`CallOptions`]): rolled
    /// back afterwards, bounded in the rows it answers, or in a read-only
    /// transaction.
    pub async fn call_with(
        &self,
        principal: &Principal,
        tenant: &Tenant,
        function: &str,
        args: &serde_json::Map<String, serde_json::Value>,
        query: Query,
        options: CallOptions,
    ) -> Result<Rows> {
        self.call_as(
            principal,
            tenant,
            function,
            args,
            query,
            CallMode::Run(options),
        )
        .await
        .map(Answer::into_rows)
    }

    /// [`call`](Self::call) as `mode` says: committed, rolled back, or
    /// only planned.
    async fn call_as(
        &self,
        principal: &Principal,
        tenant: &Tenant,
        function: &str,
        args: &serde_json::Map<String, serde_json::Value>,
        query: Query,
        mode: CallMode,
    ) -> Result<Answer<Rows>> {
        let PreparedCall {
            function: f,
            call,
            schema: with_result,
            mut grants,
        } = self
            .prepared_call(principal, tenant, function, args)
            .await?;
        // A procedure's result set is no source a statement reads from: its
        // rows are read, then filtered, ordered, paged, projected and
        // counted in memory (within the tenant's `max_rows`, as any read).
        let mut query = query;
        let mut in_memory = None;
        if call.procedure.is_some() {
            let sel = &query.select;
            if query.page.after.is_some()
                || sel.omit_fields
                || !sel.embeds.is_empty()
                || !sel.aggregates.is_empty()
                || !sel.casts.is_empty()
            {
                return Err(Error::unsupported(
                    tenant.capabilities().engine.clone(),
                    format!(
                        "a cursor, embeddings, aggregates or casts on the result of the procedure `{}` (its rows are read in memory: filters, order, `select` of its columns, offset, limit and counts apply)",
                        f.name
                    ),
                ));
            }
            let memory = query.filter.is_some()
                || !query.order.is_empty()
                || query.page.offset.is_some_and(|o| o > 0)
                || !matches!(query.count, baas_core::ir::Count::None)
                || !sel.fields.is_empty();
            if memory {
                let rows = baas_core::eval::RowQuery {
                    filter: query.filter.take(),
                    order: std::mem::take(&mut query.order),
                    offset: query.page.offset.take().unwrap_or(0),
                    limit: query.page.limit.take(),
                    fields: std::mem::take(&mut query.select.fields),
                };
                let count = std::mem::replace(&mut query.count, baas_core::ir::Count::None);
                in_memory = Some((rows, count));
            }
        }
        let entity = PreparedCall::entity(&with_result);
        let query = Query {
            entity: f.name.clone(),
            ..query
        };
        let target = Target::call(&with_result, entity, &call);
        let embeds = query.select.embeds.clone();
        let checked = self
            .checked_read_from(principal, tenant, target, query, &mut grants)
            .await?;
        let adapter = tenant.adapter();
        let settings = statement_settings(tenant, principal, true)?;
        let mut rows = match mode {
            CallMode::Plan(explain, read_only) => {
                let scope = Scope::for_plan(tenant, principal, explain, true, read_only).await?;
                let plan = scope.adapter(tenant).explain(&checked, explain).await;
                return Ok(Answer::Plan(scope.discard(plan).await?));
            }
            CallMode::Run(options) => {
                let mut settings = settings;
                if options.read_only {
                    settings.push(read_only_setting(tenant)?);
                }
                adapter
                    .find_call(&checked, &settings, options.rollback, options.max_affected)
                    .await?
            }
        };
        if let Some((read, count)) = in_memory {
            let engine = &tenant.capabilities().engine;
            let (kept, held) = read.run(std::mem::take(&mut rows.rows), engine, &f.name)?;
            rows.rows = kept;
            if !matches!(count, baas_core::ir::Count::None) {
                rows.total = Some(held);
            }
        }
        formatted(
            tenant,
            principal,
            &with_result,
            entity,
            &embeds,
            &mut rows.rows,
        );
        Ok(Answer::Rows(rows))
    }

    /// Grouped aggregates of the rows a function call returns
    /// (PostgREST's `/rpc/f?select=id.max()`), with embeds beside them as
    /// [`aggregate_embedding`](Self::aggregate_embedding) takes them: the
    /// call is checked as [`call`](Self::call) checks it, and its rows are
    /// aggregated as an entity's are (`aggregate.entity` is the function's
    /// name). Functions that return rows only: a scalar's values, a
    /// procedure's result set (no query reads from a `CALL`) and `void`
    /// are [`Error::Unsupported`]. As `options` say: the grouping statement
    /// runs in a read-only transaction ([`CallOptions::read_only`],
    /// PostgREST's `GET`), or in one rolled back afterwards
    /// ([`CallOptions::rollback`]: a function that writes keeps nothing;
    /// unsupported without a session to roll back); `max_affected` does
    /// not apply to aggregates.
    #[allow(clippy::too_many_arguments)]
    pub async fn call_aggregate(
        &self,
        principal: &Principal,
        tenant: &Tenant,
        function: &str,
        args: &serde_json::Map<String, serde_json::Value>,
        aggregate: Aggregate,
        embeds: Vec<Embed>,
        options: CallOptions,
    ) -> Result<Vec<Row>> {
        let mode = CallMode::Run(CallOptions {
            max_affected: None,
            ..options
        });
        self.call_aggregate_as(principal, tenant, function, args, aggregate, embeds, mode)
            .await
            .map(Answer::into_rows)
    }

    /// [`call_aggregate`](Self::call_aggregate), or with
    /// [`CallMode::Plan`] the plan of its grouping statement.
    #[allow(clippy::too_many_arguments)]
    async fn call_aggregate_as(
        &self,
        principal: &Principal,
        tenant: &Tenant,
        function: &str,
        args: &serde_json::Map<String, serde_json::Value>,
        aggregate: Aggregate,
        embeds: Vec<Embed>,
        mode: CallMode,
    ) -> Result<Answer<Vec<Row>>> {
        let PreparedCall {
            function: f,
            mut call,
            schema: with_result,
            grants,
        } = self
            .prepared_call(principal, tenant, function, args)
            .await?;
        let plan = match mode {
            CallMode::Plan(explain, read_only) => {
                call.read_only = read_only;
                Some(explain)
            }
            CallMode::Run(options) => {
                call.read_only = options.read_only;
                call.rolled_back = options.rollback;
                None
            }
        };
        use baas_core::function::Returns;
        if !matches!(f.returns, Returns::Entity { .. } | Returns::Rows { .. }) {
            return Err(Error::unsupported(
                tenant.capabilities().engine.clone(),
                format!(
                    "aggregates of what `{}` returns: they apply to functions that return rows (not a scalar, a procedure's result set or nothing)",
                    f.name
                ),
            ));
        }
        let entity = PreparedCall::entity(&with_result);
        let aggregate = Aggregate {
            entity: f.name.clone(),
            ..aggregate
        };
        let target = Target::call(&with_result, entity, &call);
        self.aggregate_embedding_from(principal, tenant, target, grants, aggregate, embeds, plan)
            .await
    }

    /// Number of rows matching `filter`, as the caller's grants allow.
    pub async fn count(
        &self,
        principal: &Principal,
        tenant: &Tenant,
        entity: &str,
        filter: Option<Filter>,
    ) -> Result<u64> {
        let target = tenant.target(entity)?;
        let mut grants = Grants::new();
        let touched = touched_by_filter(tenant.schema(), entity, filter.as_ref());
        self.read_grants(principal, tenant, &touched, &mut grants)
            .await?;
        let mut query = Query::new(entity);
        query.filter = filter;
        let checked = self
            .validator(tenant, principal, target)
            .with_access(&grants)
            .query(query)?;
        let reads = calls_functions(tenant.schema(), checked.entity(), &[]);
        let scope = Scope::open(tenant, principal, reads, false).await?;
        let n = scope.adapter(tenant).count_rows(&checked).await;
        scope.close(n).await
    }

    /// Grouped aggregates, as the caller's grants allow (the read grant's
    /// rows, readable fields only).
    pub async fn aggregate(
        &self,
        principal: &Principal,
        tenant: &Tenant,
        aggregate: Aggregate,
    ) -> Result<Vec<Row>> {
        let target = tenant.target(&aggregate.entity)?;
        self.aggregate_joining_from(
            principal,
            tenant,
            target,
            Grants::new(),
            aggregate,
            Vec::new(),
            None,
        )
        .await
        .map(Answer::into_rows)
    }

    /// Grouped aggregates whose rows also join the related row of each
    /// to-one embed of `embeds`, with aggregates of its own over that
    /// row's fields when it is a [`spread`](Embed::spread) (PostgREST's
    /// to-one spread, `...client(name,budget.sum())`; [`Embed::joined`]
    /// says which embeds join): [`Validator::aggregate_joining`]
    /// says what is checked. Each embed's groups and aggregates are
    /// answered inside each group, under the embed's key (its alias, or
    /// its relation's name), as an embedded object. Without embeds,
    /// [`aggregate`](Self::aggregate).
    pub async fn aggregate_joining(
        &self,
        principal: &Principal,
        tenant: &Tenant,
        aggregate: Aggregate,
        embeds: Vec<Embed>,
    ) -> Result<Vec<Row>> {
        let target = tenant.target(&aggregate.entity)?;
        let grants = Grants::new();
        self.aggregate_joining_from(principal, tenant, target, grants, aggregate, embeds, None)
            .await
            .map(Answer::into_rows)
    }

    /// [`aggregate_joining`](Self::aggregate_joining) (without embeds,
    /// [`aggregate`](Self::aggregate)) of the rows of `target`, with
    /// `grants` already gathered (a call's result grant).
    #[allow(clippy::too_many_arguments)]
    async fn aggregate_joining_from(
        &self,
        principal: &Principal,
        tenant: &Tenant,
        target: Target<'_>,
        mut grants: Grants,
        aggregate: Aggregate,
        embeds: Vec<Embed>,
        plan: Option<baas_core::Explain>,
    ) -> Result<Answer<Vec<Row>>> {
        let schema = target.schema;
        // A function's rows, or rows whose fields or embeds call one.
        let reads = target.call.is_some() || calls_functions(schema, target.entity, &embeds);
        let read_only = target.call.is_some_and(|c| c.read_only);
        let mut touched = touched_by_filter(schema, &aggregate.entity, aggregate.filter.as_ref());
        if !embeds.is_empty() {
            let mut probe = Query::new(aggregate.entity.clone());
            probe.select.embeds.clone_from(&embeds);
            touched.extend(touched_entities(schema, &probe));
        }
        self.read_grants(principal, tenant, &touched, &mut grants)
            .await?;
        let validator = self
            .validator(tenant, principal, target)
            .with_access(&grants);
        if embeds.is_empty() {
            let checked = validator.aggregate(aggregate)?;
            return aggregated(tenant, principal, &checked, plan, reads, read_only).await;
        }
        // One key per via: each embed's and each inside it, depth first.
        let names: Vec<String> = Embed::depth_first(&embeds)
            .into_iter()
            .map(|(_, e)| e.key().to_string())
            .collect();
        let checked = validator.aggregate_joining(aggregate, embeds)?;
        let mut rows = match aggregated(tenant, principal, &checked, plan, reads, read_only).await?
        {
            Answer::Rows(rows) => rows,
            plan @ Answer::Plan(_) => return Ok(plan),
        };
        // Each related row's groups and aggregates, under its embed's key.
        for row in &mut rows {
            baas_core::read::nest_joined(row, &names, &checked.get().via);
        }
        Ok(Answer::Rows(rows))
    }

    /// Grouped aggregates with to-one embeds beside them (PostgREST's
    /// `select=amount.sum(),customer(name)`): the groups are also grouped
    /// by each embedded relation's key fields, then the related row is
    /// embedded in each group as [`find`](Self::find) embeds it (the
    /// caller's read grants, the tenant's row budget over groups and
    /// embedded rows). Validated before anything runs; a to-many embedding
    /// is [`Error::Unsupported`]. A to-one embed with aggregates of its
    /// own, or one that lists its fields ([`Embed::joinable`]: grouped by
    /// them, as PostgREST groups, not by the related row), is joined to the
    /// aggregated rows instead, as
    /// [`aggregate_joining`](Self::aggregate_joining) joins them. Without
    /// embeds, [`aggregate`](Self::aggregate).
    pub async fn aggregate_embedding(
        &self,
        principal: &Principal,
        tenant: &Tenant,
        aggregate: Aggregate,
        embeds: Vec<Embed>,
    ) -> Result<Vec<Row>> {
        let target = tenant.target(&aggregate.entity)?;
        let grants = Grants::new();
        let read =
            Box::pin(self.aggregate_embedding_from(
                principal, tenant, target, grants, aggregate, embeds, None,
            ));
        within_time(tenant, read).await.map(Answer::into_rows)
    }

    /// [`aggregate_embedding`](Self::aggregate_embedding) of the rows of
    /// `target`, with `grants` already gathered (a call's result grant).
    /// With `plan`, the plan of its grouping statement instead.
    #[allow(clippy::too_many_arguments)]
    async fn aggregate_embedding_from(
        &self,
        principal: &Principal,
        tenant: &Tenant,
        target: Target<'_>,
        grants: Grants,
        mut aggregate: Aggregate,
        mut embeds: Vec<Embed>,
        plan: Option<baas_core::Explain>,
    ) -> Result<Answer<Vec<Row>>> {
        let (schema, entity) = (target.schema, target.entity);
        let mut joined = Vec::new();
        for e in std::mem::take(&mut embeds) {
            if e.joined(schema, entity, false) {
                joined.push(e);
            } else {
                embeds.push(e);
            }
        }
        if embeds.is_empty() {
            return self
                .aggregate_joining_from(principal, tenant, target, grants, aggregate, joined, plan)
                .await;
        }
        let select = baas_core::ir::Selection {
            omit_fields: true,
            embeds,
            ..baas_core::ir::Selection::default()
        };
        let mut read_grants = grants.clone();
        let embedding = self
            .checked_read_from(
                principal,
                tenant,
                target,
                Query {
                    select,
                    ..Query::new(entity.name.clone())
                },
                &mut read_grants,
            )
            .await?;
        for e in &embedding.select.embeds {
            if !entity.relation(&e.relation)?.kind.is_to_one() {
                return Err(Error::unsupported(
                    tenant.capabilities().engine.clone(),
                    format!(
                        "the to-many embedding `{}` beside aggregates (embed to-one relations, or aggregate inside the embedding: `{}(count)`)",
                        e.relation, e.relation
                    ),
                ));
            }
        }
        let (keys, _) = baas_core::read::representation_fields(entity, &[], &embedding.select)?;
        let mut added = Vec::new();
        for k in keys {
            if aggregate.group_by_values.iter().any(|g| g.field() == k) {
                return Err(Error::unsupported(
                    tenant.capabilities().engine.clone(),
                    format!(
                        "grouping by a value computed from `{k}` beside an embedding that `{k}` links (group by `{k}` itself)"
                    ),
                ));
            }
            if !aggregate.group_by.contains(&k) {
                aggregate.group_by.push(k.clone());
                added.push(k);
            }
        }
        let mut rows = match self
            .aggregate_joining_from(principal, tenant, target, grants, aggregate, joined, plan)
            .await?
        {
            Answer::Rows(rows) => rows,
            plan @ Answer::Plan(_) => return Ok(plan),
        };
        let reads = calls_functions(schema, entity, &embedding.select.embeds);
        let scope = Scope::open(tenant, principal, reads, false).await?;
        let embedded =
            baas_core::read::embed_into(scope.adapter(tenant), &embedding, &mut rows, &added).await;
        scope.close(embedded).await?;
        // The groups' own keys are written; the embedded rows are not yet.
        let format = answer_format(tenant, principal);
        let embeds = &embedding.select.embeds;
        baas_core::value::format_answer_keys(&mut rows, &[], &format, schema, entity, embeds);
        Ok(Answer::Rows(rows))
    }

    /// Run a write: the policy's grant for the root (a refusal stops here),
    /// `before` hooks, the grants of everything the (possibly changed) write
    /// touches, validation with those grants applied (row filters narrow
    /// updates and deletes, fields are checked), the write itself (atomic),
    /// `after` hooks, then a [`ChangeEvent`].
    pub async fn write(
        &self,
        principal: &Principal,
        tenant: &Tenant,
        op: WriteOp,
    ) -> Result<WriteResult> {
        self.run_write(principal, tenant, op, false, None, None, None)
            .await
            .map(Answer::into_rows)
    }

    /// Run a write as [`write`](Self::write) does — grants, `before` hooks,
    /// validation, the same statements and the same result — then roll it
    /// back instead of committing (`Prefer: tx=rollback`), through
    /// [`DatabaseAdapter::write_checked`](baas_core::DatabaseAdapter::write_checked). Nothing is kept, so no
    /// `after` hook runs and no [`ChangeEvent`] is published. An engine
    /// without transactions answers [`Error::Unsupported`] and writes
    /// nothing.
    pub async fn write_rolled_back(
        &self,
        principal: &Principal,
        tenant: &Tenant,
        op: WriteOp,
    ) -> Result<WriteResult> {
        self.run_write(principal, tenant, op, true, None, None, None)
            .await
            .map(Answer::into_rows)
    }

    /// Run a write as [`write`](Self::write) (or, with `rollback`,
    /// [`write_rolled_back`](Self::write_rolled_back)) does, and answer
    /// its returned rows with `representation`'s embeds attached
    /// (PostgREST's `POST …?select=*,author(*)`): the returned fields are
    /// `representation`'s (none when it omits them), the related rows are
    /// read as [`find`](Self::find) reads them — the caller's read grants
    /// on every entity embedded, the tenant's row budget over the written
    /// rows and the embedded ones — validated before anything is written.
    ///
    /// The related rows are read once the write is done (committed, or
    /// rolled back): they are the database's rows at that moment. Hooks
    /// and the [`ChangeEvent`] see the written rows without embeds. An
    /// insert of more rows than the budget is refused before it writes;
    /// an update or delete whose representation exceeds it, or whose
    /// related rows cannot be read, answers the error after writing, and
    /// the message says that the write took effect.
    pub async fn write_representing(
        &self,
        principal: &Principal,
        tenant: &Tenant,
        op: WriteOp,
        representation: baas_core::ir::Selection,
        rollback: bool,
    ) -> Result<WriteResult> {
        self.run_write(
            principal,
            tenant,
            op,
            rollback,
            Some(representation),
            None,
            None,
        )
        .await
        .map(Answer::into_rows)
    }

    /// Run a write as [`write_representing`](Self::write_representing)
    /// does (without embeds in `representation`, as [`write`](Self::write)
    /// does), but make its representation inside the write's transaction,
    /// before it commits, and hand it to `check` there, as the caller will
    /// see it (the tenant's decimals applied, the embeddings attached):
    /// when the representation cannot be made (a database cast refuses a
    /// value, the row budget is exceeded) or `check` refuses it, nothing is
    /// written and that error is the answer
    /// ([`DatabaseAdapter::write_checked`](baas_core::DatabaseAdapter::write_checked)).
    /// This is how a representation whose shapes could refuse a value
    /// (`POST …?select=code::int,author(born::date)`), or that casts to a
    /// type of the database's own (`select=id::inet`: the written rows
    /// read again by key), is answered as PostgREST's one statement
    /// answers it. On SQL engines the embeddings
    /// are read in the transaction (they see the write); on MongoDB they
    /// are read beside it (they see the database as committed). An engine
    /// without transactions answers [`Error::Unsupported`] and writes
    /// nothing.
    pub async fn write_checked(
        &self,
        principal: &Principal,
        tenant: &Tenant,
        op: WriteOp,
        representation: Option<baas_core::ir::Selection>,
        rollback: bool,
        check: &WriteCheck<'_>,
    ) -> Result<WriteResult> {
        self.run_write(
            principal,
            tenant,
            op,
            rollback,
            representation,
            Some(check),
            None,
        )
        .await
        .map(Answer::into_rows)
    }

    /// The engine's execution plan of a write's own statement (PostgREST's
    /// `Accept: application/vnd.pgrst.plan` on `POST`, `PATCH`, `PUT`,
    /// `DELETE`), the write checked as [`write`](Self::write) checks it
    /// (the caller's grants, presets, rule checks and validation) but
    /// without its hooks: a plan has no side effects, so it is the plan of
    /// the write as the caller sent it. Without `analyze` nothing runs;
    /// with it the statement runs in a transaction that is rolled back (in
    /// the caller's settings and role where the write would be): no row is
    /// kept (what no transaction takes back is: a sequence's `nextval`),
    /// no [`ChangeEvent`] is published. The service role's only, as
    /// [`explain`](Self::explain); a write that writes nothing (`[]`, `{}`)
    /// runs no statement and has no plan ([`Error::Unsupported`]).
    pub async fn explain_write(
        &self,
        principal: &Principal,
        tenant: &Tenant,
        op: WriteOp,
        explain: baas_core::Explain,
    ) -> Result<serde_json::Value> {
        plans_allowed(principal)?;
        self.run_write(principal, tenant, op, true, None, None, Some(explain))
            .await
            .map(Answer::into_plan)
    }

    #[allow(clippy::too_many_arguments)]
    async fn run_write(
        &self,
        principal: &Principal,
        tenant: &Tenant,
        mut op: WriteOp,
        rollback: bool,
        representation: Option<baas_core::ir::Selection>,
        check: Option<&WriteCheck<'_>>,
        plan: Option<baas_core::Explain>,
    ) -> Result<Answer<WriteResult>> {
        let target = tenant.target(op.entity())?;
        let entity = target.entity;
        let action = op.action();
        // A refusal of the write itself comes before any hook runs.
        let root = self.grant(principal, tenant, entity, action).await?;
        // Nothing to write (PostgREST's `[]` insert, `{}` update): the
        // caller may write, no row is touched, no hook runs, no event.
        if op.is_empty() {
            if plan.is_some() {
                return Err(Error::unsupported(
                    &tenant.capabilities().engine,
                    "execution plans of a write that writes nothing",
                ));
            }
            return Ok(Answer::Rows(WriteResult::default()));
        }
        // The representation's embeds are checked as a read of the
        // entity, before anything runs.
        let mut read_grants = Grants::new();
        let embedding = match representation.filter(|s| !s.embeds.is_empty() || !s.casts.is_empty())
        {
            Some(select) => {
                let query = Query {
                    select,
                    ..Query::new(entity.name.clone())
                };
                Some(
                    self.checked_read(principal, tenant, query, &mut read_grants)
                        .await?,
                )
            }
            None => None,
        };
        let ctx = HookContext {
            principal,
            tenant: tenant.id(),
            entity,
        };
        // A plan has no side effects: no hook runs for it (it plans the
        // write as the caller sent it).
        if plan.is_none() {
            for hook in &self.hooks {
                hook.before(&ctx, &mut op).await?;
            }
        }
        if op.entity() != entity.name {
            return Err(Error::Forbidden(
                "a write hook may not redirect a write to another entity".into(),
            ));
        }
        let merge = match &op {
            WriteOp::Insert(i) => {
                if i.on_conflict
                    .as_ref()
                    .is_some_and(|u| u.action == OnConflict::Merge)
                {
                    Some(
                        self.grant(principal, tenant, entity, Action::Update)
                            .await?,
                    )
                } else {
                    None
                }
            }
            _ => None,
        };
        // Presets and checks apply to what the hooks left: the last word.
        apply_presets_and_checks(&mut op, entity, principal.timezone, &root, merge.as_ref())?;
        let mut grants = Grants::new();
        grants.insert(entity.name.clone(), action, root);
        if let Some(g) = merge {
            grants.insert(entity.name.clone(), Action::Update, g);
        }
        let filter = match &op {
            WriteOp::Insert(_) => None,
            WriteOp::Update(u) => Some(&u.filter),
            WriteOp::Delete(d) => Some(&d.filter),
        };
        let touched = touched_by_filter(tenant.schema(), &entity.name, filter);
        self.read_grants(principal, tenant, &touched, &mut grants)
            .await?;
        // The rows an update or delete answers are within the tenant's row
        // budget: one past it, the adapter stops reading them and the
        // write is undone. An insert answers at most its rows (the
        // per-insert limit bounds them; with embeddings, the budget, below).
        let budget = tenant.config().limits.max_rows;
        let within = |m: Option<u64>| Some(m.map_or(budget, |m| m.min(budget)));
        match &mut op {
            WriteOp::Update(u) if u.returning.is_some() => u.max_rows = within(u.max_rows),
            WriteOp::Delete(d) if d.returning.is_some() => d.max_rows = within(d.max_rows),
            _ => {}
        }
        let mut added = Vec::new();
        if let Some(rep) = &embedding {
            let returning = match &mut op {
                WriteOp::Insert(i) => {
                    if let Some(max) = rep.max_rows
                        && i.rows.len() as u64 > max
                    {
                        return Err(Error::representation_too_large(max));
                    }
                    &mut i.returning
                }
                WriteOp::Update(u) => &mut u.returning,
                WriteOp::Delete(d) => &mut d.returning,
            };
            if let Some(fields) = returning {
                let (with_keys, extra) =
                    baas_core::read::representation_fields(entity, fields, &rep.select)?;
                *fields = with_keys;
                added = extra;
            }
        }
        let v = self
            .validator(tenant, principal, target)
            .with_access(&grants);
        // A plan: of the statement the checked write lowers to, in the
        // write's scope when `analyze` runs it (then rolled back).
        if let Some(explain) = plan {
            let scope =
                Scope::for_plan(tenant, principal, explain, entity.writes_settings(), false)
                    .await?;
            // Boxed: the plan's futures stay out of every write's state.
            let planned = Box::pin(async {
                let a = scope.adapter(tenant);
                match op {
                    WriteOp::Insert(i) => {
                        a.explain_write(CheckedWrite::Insert(&v.insert(i)?), explain)
                            .await
                    }
                    WriteOp::Update(u) => {
                        a.explain_write(CheckedWrite::Update(&v.update(u)?), explain)
                            .await
                    }
                    WriteOp::Delete(d) => {
                        a.explain_write(CheckedWrite::Delete(&v.delete(d)?), explain)
                            .await
                    }
                }
            })
            .await;
            return scope.discard(planned).await.map(Answer::Plan);
        }
        let adapter = tenant.adapter().as_ref();
        // The write's statements see the caller's request settings where
        // they may read them, and everywhere with database roles; so do
        // its embeddings read inside its transaction (with a check) where
        // they may call a function of the database's, as after it
        // ([`represent_as`]).
        let embeddings_read = check.is_some()
            && embedding
                .as_ref()
                .is_some_and(|e| calls_functions(e.schema(), e.entity(), &e.select.embeds));
        let settings = statement_settings(
            tenant,
            principal,
            entity.writes_settings() || embeddings_read,
        )?;
        // With a check, the representation is made inside the write's
        // transaction, and checked there.
        let representing = check.map(|check| Representing {
            tenant,
            entity,
            embedding: embedding.as_ref(),
            added: &added,
            check,
            format: answer_format(tenant, principal),
            written: std::sync::Mutex::new(None),
        });
        let check = representing.as_ref().map(|r| r as &dyn WriteFinish);
        // Validated once, after the hooks; the checked write is what runs
        // and what the hooks and the event see afterwards.
        let (result, op) = match op {
            WriteOp::Insert(i) => {
                let c = v.insert(i)?;
                let r = execute(
                    adapter,
                    CheckedWrite::Insert(&c),
                    rollback,
                    check,
                    &settings,
                )
                .await?;
                (r, WriteOp::Insert(c.into_inner()))
            }
            WriteOp::Update(u) => {
                let c = v.update(u)?;
                let r = execute(
                    adapter,
                    CheckedWrite::Update(&c),
                    rollback,
                    check,
                    &settings,
                )
                .await?;
                (r, WriteOp::Update(c.into_inner()))
            }
            WriteOp::Delete(d) => {
                let c = v.delete(d)?;
                let r = execute(
                    adapter,
                    CheckedWrite::Delete(&c),
                    rollback,
                    check,
                    &settings,
                )
                .await?;
                (r, WriteOp::Delete(c.into_inner()))
            }
        };
        // Represented inside the transaction: the hooks and the event see
        // the written rows, without embeds.
        let (written, answer) = match representing {
            Some(r) => {
                let written = r
                    .written
                    .into_inner()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .unwrap_or_else(|| result.clone());
                (written, Some(result))
            }
            None => {
                let mut result = result;
                written_formatted(tenant, entity, &mut result.rows);
                (result, None)
            }
        };
        if !rollback {
            for hook in &self.hooks {
                hook.after(&ctx, &op, &written).await;
            }
            if written.affected > 0 && self.events.receiver_count() > 0 {
                // No subscriber is not an error; a lagging one loses old events.
                let _ = self.events.send(ChangeEvent {
                    tenant: tenant.id().to_string(),
                    entity: entity.name.clone(),
                    action,
                    affected: written.affected,
                    rows: written.rows.clone(),
                    schema_version: tenant.version(),
                });
            }
        }
        // A checked write's answer is the caller's already (`Representing`).
        if let Some(a) = answer {
            return Ok(Answer::Rows(a));
        }
        let done = if rollback {
            "the write was rolled back"
        } else {
            "the write was committed"
        };
        let mut answer =
            represent_as(principal, tenant, embedding.as_ref(), &added, written, done).await?;
        let format = answer_format(tenant, principal);
        write_answer_formatted(
            &format,
            tenant,
            entity,
            embedding.as_ref(),
            &mut answer.rows,
        );
        Ok(Answer::Rows(answer))
    }
}

/// A write's representation made inside its transaction
/// ([`Baas::write_checked`]): the tenant's decimals, the embeddings read
/// through the transaction, then the caller's check.
struct Representing<'a> {
    tenant: &'a Tenant,
    entity: &'a Entity,
    embedding: Option<&'a baas_core::Checked<'a, Query>>,
    added: &'a [String],
    check: &'a WriteCheck<'a>,
    /// How the caller reads the answer, which the check sees so.
    format: AnswerFormat,
    /// The written rows before embedding, for the hooks and the event.
    written: std::sync::Mutex<Option<WriteResult>>,
}

#[async_trait::async_trait]
impl WriteFinish for Representing<'_> {
    async fn finish(
        &self,
        db: &dyn baas_core::DatabaseAdapter,
        mut result: WriteResult,
    ) -> Result<WriteResult> {
        written_formatted(self.tenant, self.entity, &mut result.rows);
        *self
            .written
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(result.clone());
        let done = "nothing was written";
        let mut result = represent(db, self.embedding, self.added, result, done).await?;
        write_answer_formatted(
            &self.format,
            self.tenant,
            self.entity,
            self.embedding,
            &mut result.rows,
        );
        (self.check)(&result)?;
        Ok(result)
    }
}

/// [`represent`] after the write, its reads in the caller's [`Scope`] (as
/// the caller's database role where the tenant switches roles; none
/// without embeddings to read).
async fn represent_as(
    principal: &Principal,
    tenant: &Tenant,
    representation: Option<&baas_core::Checked<'_, Query>>,
    added: &[String],
    result: WriteResult,
    done: &str,
) -> Result<WriteResult> {
    let Some(rep) = representation else {
        return Ok(result);
    };
    let reads = calls_functions(rep.schema(), rep.entity(), &rep.select.embeds);
    let scope = Scope::open(tenant, principal, reads, false).await?;
    let r = represent(scope.adapter(tenant), Some(rep), added, result, done).await;
    scope.close(r).await
}

/// A write's returned rows with `representation`'s embeds attached, read
/// through `db`, and the fields only read for them (`added`) dropped
/// ([`Baas::write_representing`]); an error's message ends with what
/// became of the write (`done`).
async fn represent(
    db: &dyn baas_core::DatabaseAdapter,
    representation: Option<&baas_core::Checked<'_, Query>>,
    added: &[String],
    mut result: WriteResult,
    done: &str,
) -> Result<WriteResult> {
    let Some(rep) = representation else {
        return Ok(result);
    };
    baas_core::read::embed_into(db, rep, &mut result.rows, added)
        .await
        .map_err(|e| match e {
            Error::LimitExceeded {
                limit,
                max,
                message,
            } => Error::LimitExceeded {
                limit,
                max,
                message: format!("{message}; {done}, its representation was not answered"),
            },
            other => other,
        })?;
    Ok(result)
}

/// A write's answer (rows of `entity`, with `representation`'s embeds)
/// as `format` writes it.
fn write_answer_formatted(
    format: &AnswerFormat,
    tenant: &Tenant,
    entity: &Entity,
    representation: Option<&baas_core::Checked<'_, Query>>,
    rows: &mut [Row],
) {
    let (schema, entity, embeds) = match representation {
        Some(r) => (r.schema(), r.entity(), &r.select.embeds[..]),
        None => (tenant.schema().as_ref(), entity, &[][..]),
    };
    baas_core::value::format_answer(rows, format, schema, entity, embeds);
}

/// The rows a write wrote as its hooks and its event see them: the
/// tenant's decimals ([`DecimalFormat`]), instants in UTC (whoever
/// listens is in no caller's zone).
fn written_formatted(tenant: &Tenant, entity: &Entity, rows: &mut [Row]) {
    let format = AnswerFormat {
        zone: None,
        ..answer_format(tenant, &Principal::anonymous())
    };
    baas_core::value::format_answer(rows, &format, tenant.schema(), entity, &[]);
}
