//! The [`DatabaseAdapter`] trait: one implementation per engine.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::ir::{Aggregate, Delete, Filter, Insert, Query, Rows, Update, WriteResult};
use crate::metadata::{Entity, Field, SchemaMetadata};
use crate::validate::{Checked, CheckedWrite, Limits, Validator};

/// A row as every adapter returns it: JSON keyed by field name (embedded
/// relations under their output key).
pub type Row = serde_json::Map<String, serde_json::Value>;

/// A test of a write's answer: an error takes the write back and is the
/// write's answer (`Baas::write_checked` in `baas-engine`).
pub type WriteCheck<'a> = dyn Fn(&WriteResult) -> Result<()> + Send + Sync + 'a;

/// What a write run by [`DatabaseAdapter::write_checked`] does with its
/// result before its transaction ends: shape it, read more through `db`,
/// refuse it.
#[async_trait]
pub trait WriteFinish: Send + Sync {
    /// Finish `result`. `db` reads inside the write's transaction where the
    /// engine can (it then sees the write: SQL engines); an error takes
    /// the write back and is the write's answer.
    async fn finish(&self, db: &dyn DatabaseAdapter, result: WriteResult) -> Result<WriteResult>;
}

/// One transaction whose statements all see request settings
/// ([`DatabaseAdapter::session`]): reads that must run as the caller (a
/// tenant that switches to the caller's database role) run on its
/// [`adapter`](Self::adapter), then it ends.
#[async_trait]
pub trait Session: Send + Sync {
    /// The adapter whose every statement runs in the session's
    /// transaction.
    fn adapter(&self) -> &dyn DatabaseAdapter;
    /// End the transaction: commit it, or roll it back.
    async fn end(self: Box<Self>, commit: bool) -> Result<()>;
}

/// The [`WriteFinish`] that keeps a write's result as it is.
#[derive(Debug, Clone, Copy, Default)]
pub struct AsWritten;

#[async_trait]
impl WriteFinish for AsWritten {
    async fn finish(&self, _db: &dyn DatabaseAdapter, result: WriteResult) -> Result<WriteResult> {
        Ok(result)
    }
}

/// How an execution plan is written ([`DatabaseAdapter::explain`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum PlanFormat {
    /// The engine's JSON plan.
    #[default]
    Json,
    /// The engine's text plan.
    Text,
}

/// What an execution plan shows beyond the planner's estimates
/// (PostgREST's `options=analyze|verbose|settings|buffers|wal`, PostgreSQL's
/// `EXPLAIN` options of the same names).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PlanOptions {
    /// Run the statement and show what it did (`ANALYZE`): actual rows and
    /// times. The statement runs inside a transaction that is rolled back,
    /// so nothing it would write is kept.
    pub analyze: bool,
    /// Output columns and names in full (`VERBOSE`).
    pub verbose: bool,
    /// The planner settings that differ from their defaults (`SETTINGS`).
    pub settings: bool,
    /// Buffer usage (`BUFFERS`).
    pub buffers: bool,
    /// Write-ahead log records generated (`WAL`; with `analyze` only).
    pub wal: bool,
}

impl PlanOptions {
    /// Whether any option is set.
    pub fn any(self) -> bool {
        self != Self::default()
    }

    /// The options set, by their names, in PostgREST's order.
    pub fn names(self) -> impl Iterator<Item = &'static str> {
        [
            (self.analyze, "analyze"),
            (self.verbose, "verbose"),
            (self.settings, "settings"),
            (self.buffers, "buffers"),
            (self.wal, "wal"),
        ]
        .into_iter()
        .filter_map(|(on, name)| on.then_some(name))
    }
}

/// An execution plan asked for: its format and options
/// ([`DatabaseAdapter::explain`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Explain {
    /// How the plan is written.
    pub format: PlanFormat,
    /// What it shows.
    pub options: PlanOptions,
}

impl Explain {
    /// The planner's estimates only, in `format`.
    pub fn new(format: PlanFormat) -> Self {
        Self {
            format,
            options: PlanOptions::default(),
        }
    }
}

/// What live introspection reads.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct IntrospectOptions {
    /// Database schemas to read (PostgreSQL). Empty: every non-system schema.
    #[serde(default)]
    pub schemas: Vec<String>,
    /// Schemas never read (e.g. Supabase's `auth`, `storage`, …).
    #[serde(default)]
    pub exclude_schemas: Vec<String>,
    /// Leave views out.
    #[serde(default)]
    pub skip_views: bool,
}

/// What an engine can do, as plain data. Validation consults it *before*
/// lowering, so an unsupported construct gives [`Error::Unsupported`] instead of
/// wrong SQL.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Capabilities {
    /// Engine name (`postgres`, `mysql`, `sqlite`, `mongodb`).
    pub engine: String,
    /// `Filter::TextSearch`.
    pub full_text_search: bool,
    /// `Filter::Array` and array fields.
    pub arrays: bool,
    /// `Filter::JsonPath`.
    pub json_path: bool,
    /// Native `RETURNING` (otherwise emulated inside the same transaction).
    pub returning: bool,
    /// Upsert with an explicit conflict target (MySQL always uses every unique key).
    pub upsert_conflict_target: bool,
    /// [`DatabaseAdapter::estimated_count`] answers for some reads
    /// (`count=planned`/`estimated` use the planner's estimate).
    pub estimated_count: bool,
    /// Multi-statement transactions.
    pub transactions: bool,
    /// Maximum bound parameters in one statement.
    pub max_parameters: usize,
    /// To-one embeds (many-to-one, one-to-one, and their own to-one embeds)
    /// run in the statement of their parent (a join), instead of one
    /// batched query per relation: [`DatabaseAdapter::select`] then gets
    /// such embeds in the query and must return them nested.
    pub embed_to_one: bool,
    /// Function calls ([`Target::call`]): `/rpc/{function}`.
    pub functions: bool,
    /// Computed fields ([`Field::computed`](crate::Field::computed)): a
    /// database function called with the row (PostgreSQL).
    pub computed_fields: bool,
    /// Casts the database applies to selected fields
    /// ([`Selection::casts`](crate::ir::Selection::casts), PostgreSQL).
    pub sql_casts: bool,
    /// Multi-dimensional values of array fields (`[[1,2],[3,4]]` written to
    /// an `int[]`: PostgreSQL's array types take any number of dimensions;
    /// its array operators read the elements, ignoring them).
    #[serde(default)]
    pub multidimensional_arrays: bool,
    /// The date, time and timestamp texts no calendar value holds that
    /// the engine stores ([`TemporalText`](crate::value::TemporalText)):
    /// read as that text, and accepted as it in writes and filters
    /// (PostgreSQL: the infinities, years past chrono's, `24:00:00`;
    /// MySQL/MariaDB: zero-in-dates and durations). Elsewhere such a text
    /// is no value of its type (a 400).
    #[serde(default)]
    pub temporal_texts: Vec<crate::value::TemporalText>,
    /// PostgREST's request settings (`request.jwt.claims`, …) reach the
    /// statements of a call ([`DatabaseAdapter::find_call`]) and of a write
    /// ([`DatabaseAdapter::write_checked`]), for the database's own
    /// functions, defaults and triggers to read (PostgreSQL:
    /// `current_setting`, Supabase's `auth.uid()`).
    #[serde(default)]
    pub request_settings: bool,
    /// An instant's date or time in a caller's time zone, computed by the
    /// engine where a grouping needs it ([`Aggregate::zone`](crate::ir::Aggregate::zone):
    /// PostgreSQL's `AT TIME ZONE`, MongoDB's `timezone`, the zone's
    /// offsets on MySQL/MariaDB and SQLite). Without it a
    /// caller in a zone other than UTC cannot group by such a value
    /// (refused by validation, before anything runs).
    #[serde(default)]
    pub time_zones: bool,
    /// What [`DatabaseAdapter::write_checked`]'s `finish` reads sees the
    /// write (its reads are the write's transaction's: the SQL engines;
    /// MongoDB reads beside its session, the database as committed).
    #[serde(default)]
    pub reads_in_writes: bool,
}

impl Capabilities {
    /// Whether JSON paths (`->`, `->>`) into a field of type `ty` are
    /// served: into a JSON field where the engine has JSON paths, into an
    /// array where it has arrays too ([`FieldType::has_paths`](crate::FieldType::has_paths)).
    pub fn paths_into(&self, ty: &crate::FieldType) -> bool {
        self.json_path
            && match ty {
                crate::FieldType::Json => true,
                crate::FieldType::Array { .. } => self.arrays,
                _ => false,
            }
    }

    /// Capabilities with every optional feature off.
    pub fn minimal(engine: impl Into<String>) -> Self {
        Self {
            engine: engine.into(),
            full_text_search: false,
            arrays: false,
            json_path: false,
            returning: false,
            upsert_conflict_target: false,
            estimated_count: false,
            transactions: false,
            max_parameters: 999,
            embed_to_one: false,
            functions: false,
            computed_fields: false,
            sql_casts: false,
            multidimensional_arrays: false,
            temporal_texts: Vec::new(),
            request_settings: false,
            time_zones: false,
            reads_in_writes: false,
        }
    }

    /// Capabilities with every optional feature on and 65 535 bound
    /// parameters per statement (PostgreSQL's and MySQL's limit). An engine
    /// starts from this and turns off, explicitly, what it lacks.
    ///
    /// ```
    /// use baas_core::Capabilities;
    /// let mut caps = Capabilities::all("sqlite");
    /// caps.full_text_search = false;
    /// assert!(caps.returning && !caps.full_text_search);
    /// ```
    pub fn all(engine: impl Into<String>) -> Self {
        Self {
            engine: engine.into(),
            full_text_search: true,
            arrays: true,
            json_path: true,
            returning: true,
            upsert_conflict_target: true,
            estimated_count: true,
            transactions: true,
            max_parameters: 65_535,
            embed_to_one: true,
            functions: true,
            computed_fields: true,
            sql_casts: true,
            multidimensional_arrays: true,
            temporal_texts: {
                use crate::value::TemporalText as T;
                vec![
                    T::Infinite,
                    T::FarYear,
                    T::EndOfDay,
                    T::ZeroInDate,
                    T::Duration,
                ]
            },
            request_settings: true,
            time_zones: true,
            reads_in_writes: true,
        }
    }

    /// Whether `v`, refused as a value of type `ty`, is a text the engine
    /// stores as one ([`Capabilities::temporal_texts`]): then it is written
    /// and compared as that text.
    pub fn holds_text(&self, ty: &crate::FieldType, v: &crate::Value) -> bool {
        match v {
            crate::Value::Text(s) => crate::value::TemporalText::of(ty, s)
                .is_some_and(|t| self.temporal_texts.contains(&t)),
            _ => false,
        }
    }

    /// `Err(Unsupported)` unless `flag` is set.
    pub fn require(&self, flag: bool, feature: &str) -> Result<()> {
        if flag {
            Ok(())
        } else {
            Err(Error::unsupported(&self.engine, feature))
        }
    }
}

/// A change to a managed schema (mini-baas owns the tables), applied by
/// [`DatabaseAdapter::apply_ddl`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "change", rename_all = "snake_case")]
#[non_exhaustive]
pub enum SchemaChange {
    /// Create the table / collection of a new entity, with its primary key,
    /// unique constraints, indexes and foreign keys.
    CreateEntity {
        /// The entity as it will be served.
        entity: Entity,
        /// The existing entities its many-to-one relations point to (their
        /// tables exist): SQL engines turn each such relation into a foreign
        /// key when it targets the entity's primary key or a unique key.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        references: Vec<Entity>,
    },
    /// Add a column to an existing entity's table. `entity` is the entity
    /// *before* the change; `field` must be nullable or have a default when
    /// the table may already hold rows.
    AddField {
        /// The entity before the change.
        entity: Entity,
        /// The new field.
        field: Field,
    },
}

/// An entity together with the schema it belongs to (needed to resolve
/// relations in `exists` filters).
#[derive(Debug, Clone, Copy)]
pub struct Target<'a> {
    /// The whole schema.
    pub schema: &'a SchemaMetadata,
    /// The entity addressed.
    pub entity: &'a Entity,
    /// A function call the entity's rows come from (its
    /// [`result_entity`](crate::function::Function::result_entity)): the
    /// statement reads `FROM fn(args) AS name` instead of the table.
    /// Only reads ([`DatabaseAdapter::select`] and
    /// [`DatabaseAdapter::count_rows`]) take one, on engines whose
    /// [`Capabilities::functions`] is set.
    pub call: Option<&'a crate::function::Call>,
}

impl<'a> Target<'a> {
    /// Resolve `entity` in `schema`.
    pub fn new(schema: &'a SchemaMetadata, entity: &str) -> Result<Self> {
        Ok(Self {
            schema,
            entity: schema.entity(entity)?,
            call: None,
        })
    }

    /// The rows of a function call, read through `entity` (the function's
    /// result entity, which need not be in `schema`).
    pub fn call(
        schema: &'a SchemaMetadata,
        entity: &'a Entity,
        call: &'a crate::function::Call,
    ) -> Self {
        Self {
            schema,
            entity,
            call: Some(call),
        }
    }
}

/// A database engine behind mini-baas: it executes requests the
/// [`Validator`] checked ([`Checked`]); it never validates again and never
/// orchestrates (embedding, counting, the row budget: [`crate::read`]).
///
/// Library users call the validating helpers of [`DatabaseAdapterExt`]
/// (`db.find(target, &query)`, `db.insert(target, &insert)`, …), which every
/// adapter has.
///
/// # Contract
/// - Every request is [`Checked`] against the same metadata and these
///   [`capabilities`](Self::capabilities): fields, relations and types are
///   known, filter operands are already converted into their fields' types,
///   written values are in [`Checked::typed_rows`] /
///   [`Checked::typed_set`]. An adapter still must not panic on any input,
///   and returns [`Error::Unsupported`] for what its capabilities do not
///   claim.
/// - Records are returned as JSON objects keyed by *field* names and shaped
///   by the rules in [`crate::value`], identically on every engine.
/// - Identifiers come only from metadata; every value is a bound parameter.
/// - Multi-row writes are atomic: on error nothing is written.
/// - Errors are mapped into [`Error`]: unique/foreign-key violations →
///   `Conflict`, not-null/check violations → `Validation`, connection failures
///   and pool timeouts → `Unavailable`.
///
/// # Implementing
/// Keep a connection pool created once (never connect per call); translate with
/// a pure lowering step (e.g. `baas-sql`) and run the conformance suite
/// (the `baas-testkit` crate) against a real server.
#[async_trait]
pub trait DatabaseAdapter: Send + Sync + 'static {
    /// What this engine can do.
    fn capabilities(&self) -> &Capabilities;

    /// Check that the database answers.
    async fn health(&self) -> Result<()>;

    /// The rows of one checked read: its fields, filter, order and page.
    /// Its `count` and `max_rows` are the orchestrator's business (ignore
    /// them). Embeds are present only when
    /// [`Capabilities::embed_to_one`] is set, and then only to-one embeds
    /// whose own embeds are to-one too: return each nested under its key
    /// (an object, or `null` when no related row matches the embed's
    /// filter), after the row's own fields, in selection order.
    async fn select(&self, query: &Checked<'_, Query>) -> Result<Vec<Row>>;

    /// The number of rows matching the checked query's filter (its
    /// selection, order and page do not apply).
    async fn count_rows(&self, query: &Checked<'_, Query>) -> Result<u64>;

    /// The engine's execution plan of the statement that reads the checked
    /// query's own rows (batched embeds are further statements): JSON
    /// (`EXPLAIN (FORMAT JSON)` on PostgreSQL, `EXPLAIN FORMAT=JSON` on
    /// MySQL, SQLite's `EXPLAIN QUERY PLAN` nested as a tree, MongoDB's
    /// `explain` of the pipeline), or the
    /// engine's text as one string, with the
    /// [`PlanOptions`] asked for (with `analyze`, the statement runs in a
    /// transaction that is rolled back). `Unsupported` where the engine
    /// has no such plan, or not with those options.
    async fn explain(
        &self,
        query: &Checked<'_, Query>,
        explain: Explain,
    ) -> Result<serde_json::Value> {
        let _ = (query, explain);
        Err(Error::unsupported(
            self.capabilities().engine.clone(),
            "execution plans",
        ))
    }

    /// The engine's execution plan of the checked write's own statement
    /// (the `INSERT`, `UPDATE` or `DELETE` it lowers to; an insert bound in
    /// several statements shows its first), as [`explain`](Self::explain)
    /// gives a read's: without `analyze` nothing runs; with it, the write
    /// runs in a transaction that is rolled back (where that cannot undo
    /// it, `analyze` is refused, `Unsupported`: on MariaDB a table that is
    /// not InnoDB, or has triggers, would keep it). Further statements
    /// a write may need (reading the written rows again where the engine
    /// has no `RETURNING`) are not shown. `Unsupported` where the engine
    /// has no such plan.
    async fn explain_write(
        &self,
        write: CheckedWrite<'_, '_>,
        explain: Explain,
    ) -> Result<serde_json::Value> {
        let _ = (write, explain);
        Err(Error::unsupported(
            self.capabilities().engine.clone(),
            "execution plans",
        ))
    }

    /// The engine's execution plan of the statement that computes the
    /// checked aggregate's groups (a to-one row joined to them included;
    /// related rows embedded afterwards are further statements), as
    /// [`explain`](Self::explain) gives a read's. `Unsupported` where the
    /// engine has no such plan.
    async fn explain_aggregate(
        &self,
        aggregate: &Checked<'_, Aggregate>,
        explain: Explain,
    ) -> Result<serde_json::Value> {
        let _ = (aggregate, explain);
        Err(Error::unsupported(
            self.capabilities().engine.clone(),
            "execution plans",
        ))
    }

    /// The number of rows matching the checked query's filter, counting at
    /// most `cap` of them (`count=estimated` counts exactly up to the row
    /// budget, and no further). The default counts them all.
    async fn count_rows_up_to(&self, query: &Checked<'_, Query>, cap: u64) -> Result<u64> {
        Ok(self.count_rows(query).await?.min(cap))
    }

    /// The planner's estimate of the rows matching the checked query's
    /// filter (its selection, order and page do not apply), where the
    /// engine has one (`count=planned`, and `count=estimated` past the row
    /// budget): PostgreSQL's and MySQL's `EXPLAIN` of the read, MongoDB's
    /// collection statistics without a filter. `None` where it has none.
    async fn estimated_count(&self, query: &Checked<'_, Query>) -> Result<Option<u64>> {
        let _ = query;
        Ok(None)
    }

    /// Grouped aggregates, one JSON object per group.
    async fn aggregate_rows(&self, aggregate: &Checked<'_, Aggregate>) -> Result<Vec<Row>>;

    /// Insert (or upsert) rows.
    async fn insert_rows(&self, insert: &Checked<'_, Insert>) -> Result<WriteResult>;

    /// Update rows by filter.
    async fn update_rows(&self, update: &Checked<'_, Update>) -> Result<WriteResult>;

    /// Delete rows by filter.
    async fn delete_rows(&self, delete: &Checked<'_, Delete>) -> Result<WriteResult>;

    /// Run a write exactly as [`insert_rows`](Self::insert_rows) /
    /// [`update_rows`](Self::update_rows) / [`delete_rows`](Self::delete_rows)
    /// would — same statements, same result — inside one transaction, and
    /// hand the result to `finish` before the transaction ends: when it
    /// refuses, the transaction is rolled back and its error returned;
    /// otherwise it is committed, or with `rollback` rolled back
    /// (`Prefer: tx=rollback`), and what `finish` made of the result is
    /// returned. Nothing the write did is visible to others before it
    /// commits, nor ever after a rollback.
    ///
    /// `settings` are the request settings, as for
    /// [`find_call`](Self::find_call): where the engine has them
    /// ([`Capabilities::request_settings`]), its statements see them (a
    /// column default or a trigger reading `auth.uid()`); elsewhere they are
    /// ignored.
    ///
    /// The default refuses with [`Error::Unsupported`]: an engine that cannot
    /// undo a write must say so rather than commit it.
    async fn write_checked(
        &self,
        write: CheckedWrite<'_, '_>,
        finish: &dyn WriteFinish,
        rollback: bool,
        settings: &[(String, String)],
    ) -> Result<WriteResult> {
        let _ = (write, finish, settings);
        Err(Error::unsupported(
            &self.capabilities().engine,
            if rollback {
                "rolling a write back (`Prefer: tx=rollback`) without transactions"
            } else {
                "checking a write's answer before it commits (a cast in its `select` that could refuse a value) without transactions"
            },
        ))
    }

    /// A function call's read exactly as [`crate::read::find`] runs it,
    /// with `settings` (name, value) visible to the database for its
    /// statements, and with `rollback` inside one transaction rolled back
    /// afterwards, whatever the call did (`Prefer: tx=rollback`). With
    /// `at_most`, a call answering more rows is rolled back and refused
    /// ([`Error::max_affected`],
    /// PostgREST's `Prefer: max-affected` of a call).
    ///
    /// The settings are PostgREST's request settings
    /// (`request.jwt.claims`, which Supabase's `auth.uid()` and
    /// `auth.jwt()` read): PostgreSQL sets them with `set_config(name,
    /// value, true)` in the call's transaction. The default ignores them
    /// (an engine without such settings), and refuses a rollback with
    /// [`Error::Unsupported`]: an engine that cannot undo a call must say
    /// so rather than keep its effects.
    async fn find_call(
        &self,
        query: &Checked<'_, Query>,
        settings: &[(String, String)],
        rollback: bool,
        at_most: Option<u64>,
    ) -> Result<Rows> {
        let _ = settings;
        if rollback || at_most.is_some() {
            return Err(Error::unsupported(
                &self.capabilities().engine,
                "rolling a call back (`Prefer: tx=rollback`, `max-affected`) without transactions",
            ));
        }
        crate::read::find(self, query).await
    }

    /// A transaction whose statements first see `settings` (name, value:
    /// PostgreSQL's `set_config(name, value, true)`; `role` among them
    /// switches the transaction to that database role, as PostgREST's
    /// `SET LOCAL role`), for reads that must run as the caller. `None`
    /// where the engine has no such settings, or none are given: the
    /// statements then run on the pool. The default has none.
    async fn session(&self, settings: &[(String, String)]) -> Result<Option<Box<dyn Session>>> {
        let _ = settings;
        Ok(None)
    }

    /// Discover the metadata of the live database from its catalogs: tables
    /// and views (read-only unless the database writes through them; keyed
    /// by the table keys they show), columns with types, nullability, defaults,
    /// auto-increment and generated columns, primary keys, unique constraints
    /// and indexes, foreign keys as relations (see [`crate::relations`]), enum
    /// types, comments as descriptions.
    async fn introspect(&self, options: &IntrospectOptions) -> Result<SchemaMetadata>;

    /// Apply a managed-schema change (DDL lowered for this engine), so the
    /// entity can be served at once. The default refuses with
    /// [`Error::Unsupported`].
    async fn apply_ddl(&self, change: &SchemaChange) -> Result<()> {
        let _ = change;
        Err(Error::unsupported(
            &self.capabilities().engine,
            "managed schema changes",
        ))
    }
}

/// The validating entry points every [`DatabaseAdapter`] has, for library
/// users: each checks its request with [`Validator`] (default [`Limits`],
/// the adapter's capabilities, no grants) and runs it; reads go through
/// the shared orchestration ([`crate::read::find`]: embeds, count, row
/// budget). An engine or service with its own limits and grants uses
/// [`Validator`] and [`crate::read`] directly, as `baas-engine` does.
#[async_trait]
pub trait DatabaseAdapterExt: DatabaseAdapter {
    /// Rows matching a query (embeds resolved, count when asked, within
    /// `query.max_rows`).
    async fn find(&self, target: Target<'_>, query: &Query) -> Result<Rows> {
        let limits = Limits::default();
        let checked = Validator::new(target, self.capabilities(), &limits).query(query.clone())?;
        crate::read::find(self, &checked).await
    }

    /// Number of rows matching a filter.
    async fn count(&self, target: Target<'_>, filter: Option<&Filter>) -> Result<u64> {
        let limits = Limits::default();
        let mut q = Query::new(target.entity.name.clone());
        q.filter = filter.cloned();
        let checked = Validator::new(target, self.capabilities(), &limits).query(q)?;
        self.count_rows(&checked).await
    }

    /// Grouped aggregates, one JSON object per group.
    async fn aggregate(&self, target: Target<'_>, aggregate: &Aggregate) -> Result<Vec<Row>> {
        let limits = Limits::default();
        let checked =
            Validator::new(target, self.capabilities(), &limits).aggregate(aggregate.clone())?;
        self.aggregate_rows(&checked).await
    }

    /// Insert (or upsert) rows.
    async fn insert(&self, target: Target<'_>, insert: &Insert) -> Result<WriteResult> {
        let limits = Limits::default();
        let checked =
            Validator::new(target, self.capabilities(), &limits).insert(insert.clone())?;
        self.insert_rows(&checked).await
    }

    /// Update rows by filter.
    async fn update(&self, target: Target<'_>, update: &Update) -> Result<WriteResult> {
        let limits = Limits::default();
        let checked =
            Validator::new(target, self.capabilities(), &limits).update(update.clone())?;
        self.update_rows(&checked).await
    }

    /// Delete rows by filter.
    async fn delete(&self, target: Target<'_>, delete: &Delete) -> Result<WriteResult> {
        let limits = Limits::default();
        let checked =
            Validator::new(target, self.capabilities(), &limits).delete(delete.clone())?;
        self.delete_rows(&checked).await
    }
}

impl<T: DatabaseAdapter + ?Sized> DatabaseAdapterExt for T {}
