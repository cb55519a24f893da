//! One [`SqlBackend`] for every sqlx driver: [`SqlxBackend<E>`], where the
//! engine crate's [`SqlxEngine`] supplies only what truly differs between
//! drivers.
//!
//! Stated once here: running a [`Statement`] on the pool or in a
//! transaction, binding its parameters in order (and the errors when a
//! parameter cannot be bound), decoding rows — read each cell raw, NULL is
//! null whatever the column, ask the engine for the cell's value by the
//! driver's type name, shape it into JSON by the output column's
//! [`FieldType`](baas_core::FieldType) through
//! [`Value::shape`] — error mapping ([`map_sqlx_error`](crate::map_sqlx_error)), health, scripts, and
//! the planner's row estimate (the dialect's statement, run like any other).
//!
//! The engine supplies: its driver, how one sea-query value is added to its
//! arguments, how one non-null cell of a given driver type becomes a
//! [`Value`], what a finished statement reports (rows affected, generated
//! id), and its capabilities.

use std::fmt;

use async_trait::async_trait;
use baas_core::{Capabilities, Error, Result, Value};
use sea_query::Value as SqValue;
use sqlx::error::BoxDynError;
use sqlx::{
    AssertSqlSafe, ColumnIndex, Database, Decode, Executor, IntoArguments, Pool, Row as _,
    TypeInfo as _, ValueRef as _,
};

use crate::backend::{ExecResult, Row, SqlBackend, SqlTransaction};
use crate::dialect::Dialect;
use crate::lower::{OutColumn, ProcedurePlan, Statement};

/// What differs between sqlx drivers. Implemented by a marker type in each
/// engine crate; [`SqlxBackend<Self>`] does the rest.
pub trait SqlxEngine: Send + Sync + 'static {
    /// The sqlx driver.
    type Db: Database;

    /// The dialect statements are lowered to (its name names the engine in
    /// errors).
    const DIALECT: Dialect;

    /// What the engine can do.
    fn capabilities() -> Capabilities;

    /// The detail line of a database error, where the driver has one
    /// (PostgreSQL's `Key (email)=(…) already exists.`): it names the column
    /// the message leaves out.
    fn error_detail(_db: &(dyn sqlx::error::DatabaseError + 'static)) -> Option<String> {
        None
    }

    /// The hint line of a database error, where the driver reports one
    /// (PostgreSQL's `HINT`).
    fn error_hint(_db: &(dyn sqlx::error::DatabaseError + 'static)) -> Option<String> {
        None
    }

    /// Add one parameter to `args`. `None`: the engine has no binding for
    /// this kind of value.
    fn bind(
        args: &mut <Self::Db as Database>::Arguments,
        value: SqValue,
    ) -> Option<std::result::Result<(), BoxDynError>>;

    /// Decode one non-null cell whose driver type is named `type_name`
    /// ([`TypeInfo::name`](sqlx::TypeInfo::name)) into an engine-neutral
    /// [`Value`]; the error is a message.
    fn decode(
        value: <Self::Db as Database>::ValueRef<'_>,
        type_name: &str,
    ) -> std::result::Result<Value, String>;

    /// Rows affected by a finished statement and the id it generated, where
    /// the driver reports one.
    fn exec_result(result: &<Self::Db as Database>::QueryResult) -> ExecResult;

    /// Whether a column's declared type is only an affinity, so that a
    /// cell may hold a value of another type (SQLite: `'yesterday'` in a
    /// `DATE` column, `'abc'` in an `INTEGER` one). Such a cell reads as
    /// the value it holds ([`Value::shape_loose`]) rather than failing the
    /// whole read; on the other engines every cell fits its type, and a
    /// cell that does not shape is an error.
    const LOOSE_CELLS: bool = false;

    /// Decode a cell as `T` (for [`decode`](Self::decode)), the driver's
    /// error as a message.
    fn dec<'r, T: Decode<'r, Self::Db>>(
        value: <Self::Db as Database>::ValueRef<'r>,
    ) -> std::result::Result<T, String> {
        T::decode(value).map_err(|e| e.to_string())
    }
}

/// The pool of one sqlx engine as a [`SqlBackend`].
pub struct SqlxBackend<E: SqlxEngine> {
    pool: Pool<E::Db>,
    caps: Capabilities,
}

impl<E: SqlxEngine> Clone for SqlxBackend<E> {
    fn clone(&self) -> Self {
        Self {
            pool: self.pool.clone(),
            caps: self.caps.clone(),
        }
    }
}

impl<E: SqlxEngine> fmt::Debug for SqlxBackend<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SqlxBackend")
            .field("engine", &E::DIALECT.name())
            .field("pool", &self.pool)
            .field("caps", &self.caps)
            .finish()
    }
}

impl<E: SqlxEngine> SqlxBackend<E>
where
    for<'c> &'c mut <E::Db as Database>::Connection: Executor<'c, Database = E::Db>,
{
    /// Use an existing pool, with the engine's capabilities.
    pub fn from_pool(pool: Pool<E::Db>) -> Self {
        Self {
            pool,
            caps: E::capabilities(),
        }
    }

    /// The pool.
    pub fn pool(&self) -> &Pool<E::Db> {
        &self.pool
    }

    /// Run a trusted SQL script (several statements), e.g. a schema or
    /// fixture file. Never pass user input here: it is not parameterised.
    pub async fn execute_script(&self, sql: &str) -> Result<()> {
        sqlx::raw_sql(AssertSqlSafe(sql.to_string()))
            .execute(&self.pool)
            .await
            .map(|_| ())
            .map_err(err::<E>)
    }
}

fn err<E: SqlxEngine>(e: sqlx::Error) -> Error {
    let (detail, hint) = match &e {
        sqlx::Error::Database(db) => (E::error_detail(db.as_ref()), E::error_hint(db.as_ref())),
        _ => (None, None),
    };
    crate::sqlx_error::map_sqlx_error_with(E::DIALECT.name(), e, detail.as_deref(), hint.as_deref())
}

/// The statement's parameters, bound in order.
fn arguments<E: SqlxEngine>(params: &[SqValue]) -> Result<<E::Db as Database>::Arguments> {
    let engine = E::DIALECT.name();
    let mut args = <E::Db as Database>::Arguments::default();
    for p in params {
        match E::bind(&mut args, p.clone()) {
            Some(Ok(())) => {}
            Some(Err(e)) => {
                return Err(Error::Backend {
                    message: format!("{engine}: cannot bind a parameter: {e}"),
                    source: None,
                });
            }
            None => return Err(Error::unsupported(engine, format!("binding {p:?}"))),
        }
    }
    Ok(args)
}

/// The statement as an sqlx query.
fn query<E: SqlxEngine>(
    stmt: &Statement,
) -> Result<sqlx::query::Query<'static, E::Db, <E::Db as Database>::Arguments>>
where
    <E::Db as Database>::Arguments: IntoArguments<E::Db>,
{
    Ok(sqlx::query_with(
        AssertSqlSafe(stmt.sql.clone()),
        arguments::<E>(&stmt.params)?,
    ))
}

/// The value of cell `i` (the column `key`): NULL is null whatever the
/// column; otherwise the engine decodes it by the driver's type name.
fn cell<E: SqlxEngine>(row: &<E::Db as Database>::Row, i: usize, key: &str) -> Result<Value>
where
    usize: ColumnIndex<<E::Db as Database>::Row>,
{
    let raw = row.try_get_raw(i).map_err(err::<E>)?;
    if raw.is_null() {
        return Ok(Value::Null);
    }
    // Owned, so the cell can be handed over whole.
    let ty = raw.type_info().into_owned();
    E::decode(raw, ty.name()).map_err(|m| column_error::<E>(key, m))
}

fn column_error<E: SqlxEngine>(key: &str, m: String) -> Error {
    Error::Backend {
        message: format!("{}: column `{key}`: {m}", E::DIALECT.name()),
        source: None,
    }
}

/// One row as JSON keyed by `columns` (in select-list order).
fn decode_row<E: SqlxEngine>(row: &<E::Db as Database>::Row, columns: &[OutColumn]) -> Result<Row>
where
    usize: ColumnIndex<<E::Db as Database>::Row>,
{
    let mut out = Row::with_capacity(columns.len());
    for (i, c) in columns.iter().enumerate() {
        let v = cell::<E>(row, i, &c.key)?;
        let j = if E::LOOSE_CELLS {
            v.shape_loose(&c.ty)
        } else {
            v.shape(&c.ty).map_err(|m| column_error::<E>(&c.key, m))?
        };
        out.insert(c.key.clone(), j);
    }
    Ok(out)
}

/// One row of a result set without declared columns, keyed by the
/// columns' names, each value in its own JSON shape ([`Value::to_json`]:
/// the type the driver gives the column decides it).
fn decode_described<E: SqlxEngine>(row: &<E::Db as Database>::Row) -> Result<Row>
where
    usize: ColumnIndex<<E::Db as Database>::Row>,
{
    use sqlx::Column as _;
    let columns = row.columns();
    let mut out = Row::with_capacity(columns.len());
    for (i, c) in columns.iter().enumerate() {
        out.insert(c.name().to_string(), cell::<E>(row, i, c.name())?.to_json());
    }
    Ok(out)
}

/// Run a select on `executor` (the pool or a transaction) and decode its rows.
async fn fetch_on<'c, E, X>(
    executor: X,
    stmt: &Statement,
    columns: &[OutColumn],
) -> Result<Vec<Row>>
where
    E: SqlxEngine,
    X: Executor<'c, Database = E::Db>,
    <E::Db as Database>::Arguments: IntoArguments<E::Db>,
    usize: ColumnIndex<<E::Db as Database>::Row>,
{
    let rows = query::<E>(stmt)?
        .fetch_all(executor)
        .await
        .map_err(err::<E>)?;
    rows.iter().map(|r| decode_row::<E>(r, columns)).collect()
}

/// Run a statement that returns no rows on `executor`.
async fn execute_on<'c, E, X>(executor: X, stmt: &Statement) -> Result<ExecResult>
where
    E: SqlxEngine,
    X: Executor<'c, Database = E::Db>,
    <E::Db as Database>::Arguments: IntoArguments<E::Db>,
{
    let done = query::<E>(stmt)?
        .execute(executor)
        .await
        .map_err(err::<E>)?;
    Ok(E::exec_result(&done))
}

/// A procedure's call ([`SqlBackend::call_procedure`]) on the connection
/// of `tx`: its `before` statements, the `CALL` and the rows of its first
/// result set (at most `limit` kept), or its `OUT` parameters' values.
async fn call_on<E: SqlxEngine>(
    tx: &mut sqlx::Transaction<'static, E::Db>,
    plan: &ProcedurePlan,
    limit: u64,
) -> Result<Vec<Row>>
where
    for<'c> &'c mut <E::Db as Database>::Connection: Executor<'c, Database = E::Db>,
    <E::Db as Database>::Arguments: IntoArguments<E::Db>,
    usize: ColumnIndex<<E::Db as Database>::Row>,
{
    use futures::TryStreamExt as _;
    for stmt in &plan.before {
        execute_on::<E, _>(&mut **tx, stmt).await?;
    }
    let mut out = Vec::new();
    {
        let mut stream = Executor::fetch_many(&mut **tx, query::<E>(&plan.call)?);
        // Rows, then the end of their result set (a `Left`): after the
        // first end, or the limit, rows are read to the end of the call
        // (its last packet, and a failure after the first result set,
        // come after them) but not kept; with `OUT` parameters none is.
        let mut first = plan.out.is_none();
        while let Some(step) = stream.try_next().await.map_err(err::<E>)? {
            match step {
                sqlx::Either::Left(_) => first = false,
                sqlx::Either::Right(row) => {
                    if first && (out.len() as u64) < limit {
                        out.push(decode_described::<E>(&row)?);
                    }
                }
            }
        }
    }
    if let Some((read, columns)) = &plan.out {
        out = fetch_on::<E, _>(&mut **tx, read, columns).await?;
    }
    Ok(out)
}

/// A transaction of an sqlx engine (rolled back when dropped uncommitted).
struct SqlxTransaction<E: SqlxEngine>(sqlx::Transaction<'static, E::Db>);

#[async_trait]
impl<E: SqlxEngine> SqlTransaction for SqlxTransaction<E>
where
    for<'c> &'c mut <E::Db as Database>::Connection: Executor<'c, Database = E::Db>,
    <E::Db as Database>::Arguments: IntoArguments<E::Db>,
    usize: ColumnIndex<<E::Db as Database>::Row>,
{
    async fn fetch(&mut self, stmt: &Statement, columns: &[OutColumn]) -> Result<Vec<Row>> {
        fetch_on::<E, _>(&mut *self.0, stmt, columns).await
    }

    async fn fetch_at_most(
        &mut self,
        stmt: &Statement,
        columns: &[OutColumn],
        max: u64,
    ) -> Result<Option<Vec<Row>>> {
        use futures::TryStreamExt as _;
        let mut rows = query::<E>(stmt)?.fetch(&mut *self.0);
        let mut out = Vec::new();
        while let Some(r) = rows.try_next().await.map_err(err::<E>)? {
            if out.len() as u64 >= max {
                return Ok(None);
            }
            out.push(decode_row::<E>(&r, columns)?);
        }
        Ok(Some(out))
    }

    async fn execute(&mut self, stmt: &Statement) -> Result<ExecResult> {
        execute_on::<E, _>(&mut *self.0, stmt).await
    }

    async fn call_procedure(&mut self, plan: &ProcedurePlan, limit: u64) -> Result<Vec<Row>> {
        call_on::<E>(&mut self.0, plan, limit).await
    }

    async fn commit(self: Box<Self>) -> Result<()> {
        self.0.commit().await.map_err(err::<E>)
    }

    async fn rollback(self: Box<Self>) -> Result<()> {
        self.0.rollback().await.map_err(err::<E>)
    }
}

#[async_trait]
impl<E: SqlxEngine> SqlBackend for SqlxBackend<E>
where
    for<'c> &'c mut <E::Db as Database>::Connection: Executor<'c, Database = E::Db>,
    <E::Db as Database>::Arguments: IntoArguments<E::Db>,
    usize: ColumnIndex<<E::Db as Database>::Row>,
{
    fn dialect(&self) -> Dialect {
        E::DIALECT
    }

    fn capabilities(&self) -> &Capabilities {
        &self.caps
    }

    // On a connection taken from the pool, not on the pool itself: sqlx's
    // pool executor boxes the whole connection future again for every
    // statement (measured: a third of the memory copied per GET by id).
    async fn fetch(&self, stmt: &Statement, columns: &[OutColumn]) -> Result<Vec<Row>> {
        let mut conn = self.pool.acquire().await.map_err(err::<E>)?;
        fetch_on::<E, _>(&mut *conn, stmt, columns).await
    }

    async fn execute(&self, stmt: &Statement) -> Result<ExecResult> {
        let mut conn = self.pool.acquire().await.map_err(err::<E>)?;
        execute_on::<E, _>(&mut *conn, stmt).await
    }

    async fn call_procedure(&self, plan: &ProcedurePlan, limit: u64) -> Result<Vec<Row>> {
        // In a transaction, as PostgREST calls a function: a procedure that
        // fails half-way writes nothing.
        let mut tx = self.pool.begin().await.map_err(err::<E>)?;
        let out = call_on::<E>(&mut tx, plan, limit).await?;
        tx.commit().await.map_err(err::<E>)?;
        Ok(out)
    }

    async fn begin(&self) -> Result<Box<dyn SqlTransaction>> {
        let tx = self.pool.begin().await.map_err(err::<E>)?;
        Ok(Box::new(SqlxTransaction::<E>(tx)))
    }

    fn retryable(&self, error: &baas_core::Error) -> bool {
        crate::sqlx_error::is_transaction_conflict(error)
    }

    async fn health(&self) -> Result<()> {
        sqlx::query::<E::Db>("SELECT 1")
            .execute(&self.pool)
            .await
            .map(|_| ())
            .map_err(err::<E>)
    }
}
