//! The sqlx plumbing every sqlx-based [`SqlBackend`](crate::SqlBackend)
//! shares, stated once: a transaction type and the pool-side `fetch`,
//! `execute`, `begin` and `health`. An engine crate supplies only what differs
//! (its driver type, binding, row decoding, error mapping, how it reports
//! generated ids).

/// Implement [`SqlTransaction`](crate::SqlTransaction) for a new transaction
/// type and [`SqlBackend`](crate::SqlBackend) for `$backend`, a struct with a
/// `pool: sqlx::Pool<$db>` and a `caps: Capabilities` field.
///
/// - `query`: `fn(&Statement) -> Result<sqlx::query::Query<'static, $db, _>>`
///   (binding);
/// - `decode`: `fn(&<$db as sqlx::Database>::Row, &[OutColumn]) -> Result<Row>`;
/// - `err`: `fn(sqlx::Error) -> baas_core::Error`;
/// - `last_insert_id`: an expression over the statement's query result;
/// - `extra`: further `SqlBackend` items (e.g. `estimated_rows`).
#[macro_export]
macro_rules! sqlx_backend {
    (
        backend: $backend:ty,
        db: $db:ty,
        dialect: $dialect:expr,
        transaction: $tx:ident,
        query: $query:path,
        decode: $decode:path,
        err: $err:path,
        last_insert_id: |$res:ident| $lid:expr
        $(, extra: { $($extra:item)* })?
        $(,)?
    ) => {
        /// A transaction of this engine (rolled back when dropped uncommitted).
        struct $tx($crate::__private::sqlx::Transaction<'static, $db>);

        #[$crate::__private::async_trait]
        impl $crate::SqlTransaction for $tx {
            async fn fetch(
                &mut self,
                stmt: &$crate::Statement,
                columns: &[$crate::OutColumn],
            ) -> $crate::__private::Result<::std::vec::Vec<$crate::Row>> {
                let rows = $query(stmt)?.fetch_all(&mut *self.0).await.map_err($err)?;
                rows.iter().map(|r| $decode(r, columns)).collect()
            }

            async fn execute(
                &mut self,
                stmt: &$crate::Statement,
            ) -> $crate::__private::Result<$crate::ExecResult> {
                let $res = $query(stmt)?.execute(&mut *self.0).await.map_err($err)?;
                Ok($crate::ExecResult {
                    affected: $res.rows_affected(),
                    last_insert_id: $lid,
                })
            }

            async fn commit(self: Box<Self>) -> $crate::__private::Result<()> {
                self.0.commit().await.map_err($err)
            }

            async fn rollback(self: Box<Self>) -> $crate::__private::Result<()> {
                self.0.rollback().await.map_err($err)
            }
        }

        #[$crate::__private::async_trait]
        impl $crate::SqlBackend for $backend {
            fn dialect(&self) -> $crate::Dialect {
                $dialect
            }

            fn capabilities(&self) -> &$crate::__private::Capabilities {
                &self.caps
            }

            async fn fetch(
                &self,
                stmt: &$crate::Statement,
                columns: &[$crate::OutColumn],
            ) -> $crate::__private::Result<::std::vec::Vec<$crate::Row>> {
                let rows = $query(stmt)?.fetch_all(&self.pool).await.map_err($err)?;
                rows.iter().map(|r| $decode(r, columns)).collect()
            }

            async fn execute(
                &self,
                stmt: &$crate::Statement,
            ) -> $crate::__private::Result<$crate::ExecResult> {
                let $res = $query(stmt)?.execute(&self.pool).await.map_err($err)?;
                Ok($crate::ExecResult {
                    affected: $res.rows_affected(),
                    last_insert_id: $lid,
                })
            }

            async fn begin(
                &self,
            ) -> $crate::__private::Result<::std::boxed::Box<dyn $crate::SqlTransaction>> {
                Ok(::std::boxed::Box::new($tx(self.pool.begin().await.map_err($err)?)))
            }

            async fn health(&self) -> $crate::__private::Result<()> {
                $crate::__private::sqlx::query("SELECT 1")
                    .execute(&self.pool)
                    .await
                    .map(|_| ())
                    .map_err($err)
            }

            $($($extra)*)?
        }
    };
}
