//! One [`DatabaseAdapter`] for every SQL engine, over the small
//! [`SqlBackend`] trait ([`crate::backend`]) that each engine crate
//! implements (pool, binding, decoding, error mapping). It executes checked
//! requests ([`Checked`]): lowering, transactions, joined embeds and the
//! `RETURNING` emulation for MySQL exist once, here.

use async_trait::async_trait;
use baas_core::ir::{
    Aggregate, Delete, Filter, Insert, OnConflict, Query, Record, Rows, Update, WriteResult,
};
use baas_core::{
    Capabilities, Checked, CheckedWrite, DatabaseAdapter, Entity, Error, Field, Generated,
    IntrospectOptions, Result, SchemaChange, SchemaMetadata, Target, TypedRecord, WriteFinish,
};

use crate::backend::{ExecResult, Row, SqlBackend, SqlTransaction};
use crate::dialect::Dialect;
use crate::lower::{self, OutColumn, ProcedurePlan, SelectPlan, Statement};

/// The generic SQL [`DatabaseAdapter`].
#[derive(Debug)]
pub struct SqlAdapter<B> {
    backend: B,
}

/// Whether statements run with `settings` are answered with what they
/// asked of the HTTP answer (`response_settings`): with
/// PostgREST's request settings, whose functions and triggers may set
/// `response.status`; not with a caller's zone alone (`timezone`).
fn answers_settings(settings: &[(String, String)]) -> bool {
    settings.iter().any(|(k, _)| k != "timezone")
}

impl<B: SqlBackend> SqlAdapter<B> {
    /// The insert proper (see [`DatabaseAdapter::insert_rows`]).
    async fn write_insert(&self, checked: &Checked<'_, Insert>) -> Result<WriteResult> {
        let target = checked.target();
        let insert: &Insert = checked;
        let typed = checked.typed_rows();
        let caps = self.backend.capabilities();
        let (batches, ret) = lower::insert(self.d(), target, insert, typed, caps.max_parameters)?;
        let e = target.entity;
        let n = insert.rows.len();
        let ignoring = insert
            .on_conflict
            .as_ref()
            .is_some_and(|u| u.action == OnConflict::Ignore);
        let merging = insert
            .on_conflict
            .as_ref()
            .is_some_and(|u| u.action == OnConflict::Merge);
        let mut result = WriteResult::default();

        // Without RETURNING an ignoring upsert cannot tell inserted rows from
        // skipped ones by the affected count (MySQL counts both): go the keyed way.
        if caps.returning || (ret.is_none() && !ignoring) {
            // Returned rows go back to input order: a batch whose rows all came
            // back maps one to one; a batch an ignoring upsert thinned out keeps
            // its own order at the position of its first row.
            //
            // One statement that returns nothing is atomic on its own: it runs
            // on the pool, sparing the BEGIN and COMMIT round trips (a
            // single-row create did three round trips instead of one). Several
            // batches share a transaction, and so do returned rows: they are
            // decoded before COMMIT, so a write whose response cannot be built
            // (a cell the decoder refuses) is rolled back, never committed
            // behind a 500.
            let mut tx = if batches.len() > 1 || ret.is_some() {
                Some(self.backend.begin().await?)
            } else {
                None
            };
            let mut placed: Vec<(usize, usize, Row)> = Vec::new();
            for b in &batches {
                match &ret {
                    Some(cols) => {
                        let rows = match tx.as_mut() {
                            Some(tx) => tx.fetch(&b.statement, cols).await?,
                            None => self.backend.fetch(&b.statement, cols).await?,
                        };
                        result.affected += rows.len() as u64;
                        if rows.len() == b.rows.len() {
                            placed.extend(b.rows.iter().zip(rows).map(|(i, r)| (*i, 0, r)));
                        } else {
                            let at = b.rows.first().copied().unwrap_or(n);
                            placed.extend(rows.into_iter().enumerate().map(|(k, r)| (at, k, r)));
                        }
                    }
                    None => {
                        let done = match tx.as_mut() {
                            Some(tx) => tx.execute(&b.statement).await?,
                            None => self.backend.execute(&b.statement).await?,
                        };
                        result.affected += done.affected;
                    }
                }
            }
            placed.sort_by_key(|(i, k, _)| (*i, *k));
            result.rows = placed.into_iter().map(|(_, _, r)| r).collect();
            // MySQL counts an upserted row as 2; report rows written like the others.
            if merging && !caps.returning {
                result.affected = n as u64;
            }
            if let Some(tx) = tx {
                tx.commit().await?;
            }
            return Ok(result);
        }

        // No RETURNING (MySQL): identify the written rows and re-read them in
        // the same transaction.
        let mut tx = self.backend.begin().await?;
        let want_rows = ret.is_some();
        let cols = ret.unwrap_or_default();
        let key_fields: Vec<String> = match &insert.on_conflict {
            Some(up) if !up.target.is_empty() => up.target.clone(),
            _ => e.primary_key.clone(),
        };
        let all_keyed = !key_fields.is_empty()
            && insert.rows.iter().all(|r| {
                key_fields
                    .iter()
                    .all(|k| r.get(k).is_some_and(|v| !v.is_null()))
            });
        if all_keyed {
            // Rows that already exist are not "inserted" by an ignoring upsert.
            let existing: Vec<Row> = if ignoring {
                let key_cols: Vec<OutColumn> = key_fields
                    .iter()
                    .map(|k| {
                        e.field(k).map(|f| OutColumn {
                            key: f.name.clone(),
                            ty: f.ty.clone(),
                        })
                    })
                    .collect::<Result<_>>()?;
                let keys: Vec<Record> = typed.iter().map(|r| key_record(&key_fields, r)).collect();
                self.reread(
                    tx.as_mut(),
                    target,
                    &key_fields,
                    &keys,
                    &key_cols,
                    true,
                    false,
                )
                .await?
            } else {
                Vec::new()
            };
            let mut written = 0;
            for b in &batches {
                written += tx.execute(&b.statement).await?.affected;
            }
            let wanted: Vec<Record> = typed
                .iter()
                .map(|r| key_record(&key_fields, r))
                .filter(|k| {
                    !existing
                        .iter()
                        .any(|x| key_fields.iter().all(|f| x.get(f) == k.get(f)))
                })
                .collect();
            result.affected = if ignoring {
                wanted.len() as u64
            } else if merging {
                n as u64
            } else {
                written
            };
            if want_rows {
                result.rows = self
                    .reread(
                        tx.as_mut(),
                        target,
                        &key_fields,
                        &wanted,
                        &cols,
                        false,
                        true,
                    )
                    .await?;
            }
        } else if let (Some(pk), None) = (auto_key(e), &insert.on_conflict) {
            // Generated keys of one multi-row INSERT are consecutive, stepping
            // by @@auto_increment_increment (InnoDB lock mode 0 or 1, MariaDB's
            // default); batches that set the key keep their own.
            let step_plan = Statement {
                sql: "SELECT @@auto_increment_increment".into(),
                params: Vec::new(),
            };
            let step = tx
                .fetch(
                    &step_plan,
                    &[OutColumn {
                        key: "step".into(),
                        ty: baas_core::FieldType::Int64,
                    }],
                )
                .await?
                .first()
                .and_then(|r| r.get("step"))
                .and_then(serde_json::Value::as_u64)
                .unwrap_or(1)
                .max(1);
            let mut keys: Vec<Option<Record>> = vec![None; n];
            for b in &batches {
                let r = tx.execute(&b.statement).await?;
                result.affected += r.affected;
                for (k, i) in b.rows.iter().enumerate() {
                    let value = if b.sets_key {
                        typed[*i]
                            .iter()
                            .find(|(f, _)| f.name == pk.name)
                            .map(|(_, v)| v.to_json())
                            .unwrap_or_default()
                    } else {
                        let first = r.last_insert_id.ok_or_else(|| Error::Backend {
                            message: "the server reported no generated id".into(),
                            source: None,
                        })?;
                        serde_json::Value::from(first + k as u64 * step)
                    };
                    let mut key = Record::new();
                    key.insert(pk.name.clone(), value);
                    keys[*i] = Some(key);
                }
            }
            if want_rows {
                let ordered: Vec<Record> = keys.into_iter().flatten().collect();
                result.rows = self
                    .reread(
                        tx.as_mut(),
                        target,
                        &e.primary_key,
                        &ordered,
                        &cols,
                        false,
                        true,
                    )
                    .await?;
            }
        } else if ignoring {
            return Err(Error::unsupported(
                caps.engine.clone(),
                "an ignoring upsert whose rows do not all carry the conflict target (no RETURNING on this engine)",
            ));
        } else {
            return Err(Error::unsupported(
                caps.engine.clone(),
                "returning rows written without their key (no RETURNING on this engine)",
            ));
        }
        tx.commit().await?;
        Ok(result)
    }

    /// The update proper (see [`DatabaseAdapter::update_rows`]).
    async fn write_update(&self, checked: &Checked<'_, Update>) -> Result<WriteResult> {
        let target = checked.target();
        let update: &Update = checked;
        let set = checked.typed_set();
        let caps = self.backend.capabilities();
        let (stmt, ret) = lower::update(self.d(), target, update, set)?;
        match ret {
            None => Ok(WriteResult {
                response: None,
                affected: self.backend.execute(&stmt).await?.affected,
                rows: Vec::new(),
            }),
            Some(cols) if caps.returning => {
                // Decoded before COMMIT: a response that cannot be built rolls back.
                let mut tx = self.backend.begin().await?;
                let rows = fetch_within(tx.as_mut(), &stmt, &cols, update.max_rows).await?;
                tx.commit().await?;
                Ok(WriteResult {
                    response: None,
                    affected: rows.len() as u64,
                    rows,
                })
            }
            Some(cols) => {
                let e = target.entity;
                if e.primary_key.is_empty() {
                    return Err(Error::unsupported(
                        caps.engine.clone(),
                        "returning rows from an entity without a primary key",
                    ));
                }
                let mut tx = self.backend.begin().await?;
                let keyq = lower::select_for_update(
                    self.d(),
                    target,
                    &e.primary_key,
                    &update.filter,
                    past(update.max_rows),
                )?;
                let keys =
                    fetch_within(tx.as_mut(), &keyq.statement, &keyq.columns, update.max_rows)
                        .await?;
                if keys.is_empty() {
                    tx.commit().await?;
                    return Ok(WriteResult::default());
                }
                for chunk in keys.chunks(KEY_CHUNK) {
                    let by_key = Update {
                        entity: update.entity.clone(),
                        filter: lower::key_filter(e, &e.primary_key, chunk)?,
                        set: update.set.clone(),
                        returning: None,
                        max_rows: None,
                    };
                    let (st, _) = lower::update(self.d(), target, &by_key, set)?;
                    tx.execute(&st).await?;
                }
                // Keys may have been updated themselves: re-read by the new key.
                let new_keys: Vec<Record> = keys
                    .into_iter()
                    .map(|mut k| {
                        for f in &e.primary_key {
                            if let Some((_, v)) = set.iter().find(|(g, _)| &g.name == f) {
                                k.insert(f.clone(), v.to_json());
                            }
                        }
                        k
                    })
                    .collect();
                let rows = self
                    .reread(
                        tx.as_mut(),
                        target,
                        &e.primary_key,
                        &new_keys,
                        &cols,
                        false,
                        true,
                    )
                    .await?;
                tx.commit().await?;
                Ok(WriteResult {
                    response: None,
                    affected: new_keys.len() as u64,
                    rows,
                })
            }
        }
    }

    /// The delete proper (see [`DatabaseAdapter::delete_rows`]).
    async fn write_delete(&self, checked: &Checked<'_, Delete>) -> Result<WriteResult> {
        let target = checked.target();
        let delete: &Delete = checked;
        let caps = self.backend.capabilities();
        let (stmt, ret) = lower::delete(self.d(), target, delete)?;
        match ret {
            None => Ok(WriteResult {
                response: None,
                affected: self.backend.execute(&stmt).await?.affected,
                rows: Vec::new(),
            }),
            Some(cols) if caps.returning => {
                // Decoded before COMMIT: a response that cannot be built rolls back.
                let mut tx = self.backend.begin().await?;
                let rows = fetch_within(tx.as_mut(), &stmt, &cols, delete.max_rows).await?;
                tx.commit().await?;
                Ok(WriteResult {
                    response: None,
                    affected: rows.len() as u64,
                    rows,
                })
            }
            Some(cols) => {
                let mut tx = self.backend.begin().await?;
                let fields: Vec<String> = cols.iter().map(|c| c.key.clone()).collect();
                let plan = lower::select_for_update(
                    self.d(),
                    target,
                    &fields,
                    &delete.filter,
                    past(delete.max_rows),
                )?;
                let rows =
                    fetch_within(tx.as_mut(), &plan.statement, &plan.columns, delete.max_rows)
                        .await?;
                let affected = tx.execute(&stmt).await?.affected;
                tx.commit().await?;
                Ok(WriteResult {
                    affected,
                    rows,
                    response: None,
                })
            }
        }
    }

    /// After a failed insert into an entity with an auto-increment key: a
    /// `Conflict` when the keys it asks to generate would pass the largest
    /// value of the key's type, counting from the larger of the table's
    /// largest key and the largest key the insert gives itself (SQLite then
    /// answers "database or disk is full", MySQL "Failed to read
    /// auto-increment value"): the table's state, not a server failure.
    /// `None` when that is not the cause.
    async fn exhausted_key(&self, checked: &Checked<'_, Insert>) -> Option<Error> {
        let target = checked.target();
        let insert: &Insert = checked;
        let key = auto_key(target.entity)?;
        let max: i64 = match key.ty {
            baas_core::FieldType::Int16 => i16::MAX.into(),
            baas_core::FieldType::Int32 => i32::MAX.into(),
            baas_core::FieldType::Int64 => i64::MAX,
            _ => return None,
        };
        let generated = insert
            .rows
            .iter()
            .filter(|r| r.get(&key.name).is_none_or(serde_json::Value::is_null))
            .count() as i64;
        if generated == 0 {
            return None;
        }
        // The insert was rolled back: the keys it gave are not in the table.
        let given = insert
            .rows
            .iter()
            .filter_map(|r| r.get(&key.name).and_then(serde_json::Value::as_i64))
            .max();
        let mut q = Query::new(target.entity.name.clone())
            .order_by(baas_core::ir::OrderBy::desc(key.name.clone()))
            .limit(1);
        q.select.fields = vec![key.name.clone()];
        let plan = lower::select(self.d(), target, &q).ok()?;
        let stored = self
            .fetch_plan(&plan)
            .await
            .ok()
            .and_then(|rows| rows.first()?.get(&key.name)?.as_i64());
        let top = given.max(stored)?;
        top.checked_add(generated)
            .is_none_or(|v| v > max)
            .then(|| Error::Conflict {
                kind: baas_core::ConflictKind::Other,
                message: format!(
                    "no new key can be generated for `{}`: its auto-increment key `{}` would pass the largest value of its type ({max}): {generated} generated after {top}; give keys explicitly, or delete or renumber the rows holding the largest keys",
                    target.entity.name, key.name
                ),
                constraint: None,
            })
    }

    /// Wrap a backend.
    pub fn new(backend: B) -> Self {
        Self { backend }
    }

    /// The backend (pool access for callers that need it).
    pub fn backend(&self) -> &B {
        &self.backend
    }

    /// One attempt of [`DatabaseAdapter::write_checked`]: one pinned
    /// transaction, ended (committed, or rolled back) before it answers.
    async fn write_checked_once(
        &self,
        write: CheckedWrite<'_, '_>,
        finish: &dyn WriteFinish,
        rollback: bool,
        settings: &[(String, String)],
    ) -> Result<WriteResult> {
        let (pinned, inner) = self.pinned().await?;
        let result = match inner.set_settings(settings).await {
            Ok(()) => match write {
                CheckedWrite::Insert(i) => inner.insert_rows(i).await,
                CheckedWrite::Update(u) => inner.update_rows(u).await,
                CheckedWrite::Delete(d) => inner.delete_rows(d).await,
            },
            Err(e) => Err(e),
        };
        // `finish` reads inside the transaction: it sees the write.
        let result = match result {
            Ok(r) => finish.finish(&inner, r).await,
            e => e,
        };
        // What the write's triggers asked of the answer (a malformed
        // request takes the write back, as a function's does).
        let result = match result {
            Ok(mut r) if answers_settings(settings) => match inner.response_settings().await {
                Ok(asked) => {
                    r.response = asked;
                    Ok(r)
                }
                Err(e) => Err(e),
            },
            r => r,
        };
        match result {
            Ok(r) if !rollback => {
                pinned.take()?.commit().await?;
                Ok(r)
            }
            result => {
                // Never committed: even a failed rollback keeps nothing.
                if let Ok(tx) = pinned.take() {
                    let _ = tx.rollback().await;
                }
                result
            }
        }
    }

    /// SQLite's plan of `statement`: `EXPLAIN QUERY PLAN`, whose rows
    /// (`id`, `parent`, `detail`) nest by `parent`. As JSON,
    /// `{"query_plan": [{"id", "parent", "detail", "plans": [...]}]}`
    /// (`plans` only under a node that has some); as text, the tree the
    /// `sqlite3` shell prints for `.eqp on` (`QUERY PLAN`, then `|--`
    /// and `` `-- `` branches). Nothing runs: SQLite has no option that
    /// runs the statement (`analyze`) nor PostgreSQL's other options.
    async fn sqlite_plan(
        &self,
        statement: Statement,
        explain: baas_core::Explain,
    ) -> Result<serde_json::Value> {
        use baas_core::adapter::PlanFormat;
        if explain.options.names().next().is_some() {
            return Err(Error::unsupported(
                self.d().name(),
                "the plan options analyze, verbose, settings, buffers and wal (SQLite's EXPLAIN QUERY PLAN takes none)",
            ));
        }
        let stmt = Statement {
            sql: format!("EXPLAIN QUERY PLAN {}", statement.sql),
            params: statement.params,
        };
        let int = |key: &str| OutColumn {
            key: key.into(),
            ty: baas_core::FieldType::Int64,
        };
        let columns = [
            int("id"),
            int("parent"),
            int("notused"),
            OutColumn {
                key: "detail".into(),
                ty: baas_core::FieldType::Text,
            },
        ];
        let rows = self.backend.fetch(&stmt, &columns).await?;
        let nodes: Vec<(i64, i64, String)> = rows
            .iter()
            .map(|r| {
                let n = |k: &str| r.get(k).and_then(serde_json::Value::as_i64).unwrap_or(0);
                let detail = r.get("detail").and_then(serde_json::Value::as_str);
                (n("id"), n("parent"), detail.unwrap_or_default().to_string())
            })
            .collect();
        Ok(match explain.format {
            PlanFormat::Json => serde_json::json!({ "query_plan": plan_nodes(&nodes, 0, 0) }),
            PlanFormat::Text => {
                let mut text = String::from("QUERY PLAN");
                plan_lines(&nodes, 0, "", 0, &mut text);
                serde_json::Value::String(text)
            }
        })
    }

    fn d(&self) -> Dialect {
        self.backend.dialect()
    }

    /// Whether MariaDB's `ANALYZE` of a write to `entity`, which runs it,
    /// is undone by the transaction it runs in: the table is InnoDB
    /// (MyISAM and Aria keep what they write, and a view's base tables
    /// are not looked at) and has no trigger (one could write to such a
    /// table; foreign keys, and their cascades, join InnoDB tables only).
    /// The tenant's user tells triggers only with the TRIGGER privilege
    /// (`information_schema.TRIGGERS` lists no other): without it, no.
    /// Else the request's 406, naming why. An `AUTO_INCREMENT` counter or
    /// a sequence the write advances stays advanced, as a PostgreSQL
    /// sequence does.
    async fn rolls_back_entirely(&self, entity: &baas_core::Entity) -> Result<()> {
        let (schema, name) = (&entity.source.schema, &entity.source.table);
        let probe = Statement {
            sql: "SELECT (SELECT COUNT(*) FROM information_schema.TABLES \
                  WHERE TABLE_SCHEMA = COALESCE(?, DATABASE()) AND TABLE_NAME = ? AND ENGINE = 'InnoDB') AS innodb, \
                  (SELECT COUNT(*) FROM information_schema.TRIGGERS \
                  WHERE EVENT_OBJECT_SCHEMA = COALESCE(?, DATABASE()) AND EVENT_OBJECT_TABLE = ?) AS triggers, \
                  (SELECT COUNT(*) FROM information_schema.USER_PRIVILEGES WHERE PRIVILEGE_TYPE = 'TRIGGER') \
                  + (SELECT COUNT(*) FROM information_schema.SCHEMA_PRIVILEGES \
                  WHERE TABLE_SCHEMA = COALESCE(?, DATABASE()) AND PRIVILEGE_TYPE = 'TRIGGER') \
                  + (SELECT COUNT(*) FROM information_schema.TABLE_PRIVILEGES \
                  WHERE TABLE_SCHEMA = COALESCE(?, DATABASE()) AND TABLE_NAME = ? AND PRIVILEGE_TYPE = 'TRIGGER') \
                  AS sees_triggers"
                .into(),
            params: vec![
                schema.clone().into(),
                name.clone().into(),
                schema.clone().into(),
                name.clone().into(),
                schema.clone().into(),
                schema.clone().into(),
                name.clone().into(),
            ],
        };
        let int = |key: &str| OutColumn {
            key: key.into(),
            ty: baas_core::FieldType::Int64,
        };
        let rows = self
            .backend
            .fetch(
                &probe,
                &[int("innodb"), int("triggers"), int("sees_triggers")],
            )
            .await?;
        let get = |k: &str| {
            rows.first()
                .and_then(|r| r.get(k))
                .and_then(serde_json::Value::as_i64)
        };
        let why = match (get("innodb"), get("triggers"), get("sees_triggers")) {
            (Some(1), Some(0), Some(n)) if n > 0 => return Ok(()),
            (Some(1), Some(0), _) => {
                "the tenant's database user may not see the table's triggers (it lacks the TRIGGER privilege)"
            }
            (Some(1), _, _) => {
                "the table has triggers, which could write to a non-transactional table"
            }
            _ => {
                "the table is not InnoDB (a non-transactional table, or a view, would keep what it writes)"
            }
        };
        Err(Error::unsupported(
            self.d().name(),
            format!(
                "execution plans with analyze of a write to `{}` (MariaDB's ANALYZE runs it): {why}",
                entity.name
            ),
        ))
    }

    /// Make `settings` (name, value) visible to the rest of the current
    /// transaction's statements: `SELECT set_config($1, $2, true), …`,
    /// the values bound, on PostgreSQL; nothing elsewhere, nor without
    /// settings. Run on an adapter pinned to a transaction: outside one,
    /// the settings would end with this statement.
    async fn set_settings(&self, settings: &[(String, String)]) -> Result<()> {
        if settings.is_empty() || self.d() != Dialect::Postgres {
            return Ok(());
        }
        // What a function set for the answer with `is_local = false` in
        // an earlier request on this connection is not this answer's.
        let mut calls = vec![
            "set_config('response.status', '', true)".to_string(),
            "set_config('response.headers', '', true)".to_string(),
        ];
        calls.extend(
            (1..=settings.len()).map(|i| format!("set_config(${}, ${}, true)", 2 * i - 1, 2 * i)),
        );
        let calls = calls.join(", ");
        let params = settings
            .iter()
            .flat_map(|(k, v)| {
                [
                    sea_query::Value::from(k.clone()),
                    sea_query::Value::from(v.clone()),
                ]
            })
            .collect();
        self.backend
            .execute(&Statement {
                sql: format!("SELECT {calls}"),
                params,
            })
            .await
            .map_err(|e| {
                if matches!(e, Error::Unavailable { .. } | Error::Timeout { .. }) {
                    return e;
                }
                // A zone the database's time zone data lacks (chrono-tz
                // knows it): the request's, a 400, never the server's.
                if let Some((_, zone)) = settings.iter().find(|(k, _)| k == "timezone")
                    && e.to_string().contains("\"TimeZone\"")
                {
                    return unknown_zone(zone);
                }
                // The tenant's setup, not the caller's request: a role
                // the database lacks, or its user may not take.
                let role = settings.iter().find(|(k, _)| k == "role");
                Error::Backend {
                    message: match role {
                        Some((_, r)) => format!(
                            "the request settings could not be set (is `{r}` a database role the tenant's user is a member of?): {e}"
                        ),
                        None => format!("the request settings could not be set: {e}"),
                    },
                    source: None,
                }
            })?;
        Ok(())
    }

    /// What the transaction's statements asked of the HTTP answer so far
    /// (PostgREST's `response.status` and `response.headers`, read with
    /// `current_setting(…, true)`: unset is `NULL`, or empty once a
    /// transaction of the session set it), checked
    /// ([`ResponseSettings::parse`]: malformed is the function's 500).
    /// PostgreSQL only; run where [`set_settings`](Self::set_settings) ran.
    async fn response_settings(&self) -> Result<Option<baas_core::ir::ResponseSettings>> {
        if self.d() != Dialect::Postgres {
            return Ok(None);
        }
        let text = |key: &str| OutColumn {
            key: key.into(),
            ty: baas_core::FieldType::Text,
        };
        // Decoded by position: the columns in the SELECT's order.
        let rows = self
            .backend
            .fetch(
                &Statement {
                    sql: "SELECT current_setting('response.status', true), \
                          current_setting('response.headers', true)"
                        .into(),
                    params: Vec::new(),
                },
                &[text("status"), text("headers")],
            )
            .await?;
        let row = rows.into_iter().next().unwrap_or_default();
        let get = |k: &str| row.get(k).and_then(serde_json::Value::as_str);
        baas_core::ir::ResponseSettings::parse(get("status"), get("headers"))
    }

    /// A new transaction, and an adapter whose every statement is that
    /// transaction's (take it from the [`Pinned`] to end it).
    async fn pinned(&self) -> Result<(Pinned, SqlAdapter<Pinned>)> {
        let pinned = Pinned::new(
            self.backend.begin().await?,
            self.d(),
            self.backend.capabilities().clone(),
        );
        let inner = SqlAdapter {
            backend: pinned.clone(),
        };
        Ok((pinned, inner))
    }

    /// The engine's plan of `statement` (`EXPLAIN (FORMAT JSON)` on
    /// PostgreSQL, `EXPLAIN FORMAT=JSON` on MySQL, PostgreSQL's text
    /// `EXPLAIN` as one string, MySQL's JSON plan indented as its text;
    /// SQLite's: [`Self::sqlite_plan`]), with its bound values and the options
    /// asked for: PostgreSQL takes them all; MariaDB `analyze` only (its
    /// `ANALYZE FORMAT=JSON`). With `analyze` the statement runs inside a
    /// transaction that is rolled back, whatever it would write.
    async fn explain_statement(
        &self,
        statement: Statement,
        explain: baas_core::Explain,
    ) -> Result<serde_json::Value> {
        use baas_core::adapter::PlanFormat;
        let options = explain.options;
        if self.d() == Dialect::Sqlite {
            return self.sqlite_plan(statement, explain).await;
        }
        let prefix = match (self.d(), explain.format) {
            (Dialect::Postgres, format) => {
                // PostgreSQL's refusal, in its words (its class-22 code
                // would otherwise read as a refused value).
                if options.wal && !options.analyze {
                    return Err(Error::Validation {
                        violations: vec![
                            baas_core::Violation::new("", "EXPLAIN option WAL requires ANALYZE")
                                .with_code("22023"),
                        ],
                    });
                }
                // The options' names are PostgreSQL's own words.
                let mut words = vec![match format {
                    PlanFormat::Json => "FORMAT JSON".to_string(),
                    PlanFormat::Text => "FORMAT TEXT".to_string(),
                }];
                words.extend(options.names().map(str::to_ascii_uppercase));
                format!("EXPLAIN ({}) ", words.join(", "))
            }
            // As text too: the JSON plan, indented (MariaDB has no text
            // tree; MySQL's `FORMAT=TREE` is MySQL 8's alone).
            (Dialect::Mysql, _) => {
                if options.verbose || options.settings || options.buffers || options.wal {
                    return Err(Error::unsupported(
                        self.d().name(),
                        "the plan options verbose, settings, buffers and wal (PostgreSQL's; MariaDB takes analyze)",
                    ));
                }
                if options.analyze {
                    "ANALYZE FORMAT=JSON ".into()
                } else {
                    "EXPLAIN FORMAT=JSON ".into()
                }
            }
            (d, _) => {
                return Err(Error::unsupported(
                    d.name(),
                    "execution plans in this format",
                ));
            }
        };
        let stmt = Statement {
            sql: format!("{prefix}{}", statement.sql),
            params: statement.params,
        };
        let json = explain.format == PlanFormat::Json || self.d() == Dialect::Mysql;
        let columns = [OutColumn {
            key: "plan".into(),
            ty: if json {
                baas_core::FieldType::Json
            } else {
                baas_core::FieldType::Text
            },
        }];
        let rows = if options.analyze {
            // The statement runs: whatever it writes (a volatile function
            // a read calls) is rolled back.
            let mut tx = self.backend.begin().await?;
            let rows = tx.fetch(&stmt, &columns).await;
            let _ = tx.rollback().await;
            match rows {
                // MySQL has no `ANALYZE <select>` (its `EXPLAIN ANALYZE`
                // writes no JSON): its syntax error, and only that.
                Err(Error::Backend { ref source, .. })
                    if matches!(self.d(), Dialect::Mysql)
                        && source
                            .as_ref()
                            .is_some_and(|e| e.to_string().contains("SQL syntax")) =>
                {
                    return Err(Error::unsupported(
                        self.d().name(),
                        "execution plans with analyze on MySQL (MariaDB's ANALYZE FORMAT=JSON)",
                    ));
                }
                rows => rows?,
            }
        } else {
            self.backend.fetch(&stmt, &columns).await?
        };
        let mut lines = rows.into_iter().filter_map(|mut r| r.shift_remove("plan"));
        Ok(match explain.format {
            PlanFormat::Json => lines.next().unwrap_or(serde_json::Value::Null),
            PlanFormat::Text if json => serde_json::Value::String(
                serde_json::to_string_pretty(&lines.next().unwrap_or(serde_json::Value::Null))
                    .unwrap_or_default(),
            ),
            PlanFormat::Text => serde_json::Value::String(
                lines
                    .filter_map(|l| l.as_str().map(str::to_string))
                    .collect::<Vec<_>>()
                    .join("\n"),
            ),
        })
    }

    async fn fetch_plan(&self, plan: &SelectPlan) -> Result<Vec<Row>> {
        self.backend.fetch(&plan.statement, &plan.columns).await
    }

    async fn count_matching(
        &self,
        target: Target<'_>,
        filter: Option<&Filter>,
        cap: Option<u64>,
    ) -> Result<u64> {
        let plan = lower::count(self.d(), target, filter, cap)?;
        let rows = self.fetch_plan(&plan).await?;
        Ok(rows
            .first()
            .and_then(|r| r.get("count"))
            .and_then(serde_json::Value::as_u64)
            .unwrap_or(0))
    }

    /// Re-read rows by key inside `tx`, in the order of `keys` (key values
    /// as decoded rows hold them; duplicates once). With `strict`, every key
    /// must come back: a row the database stores under a different key
    /// (collation, rounding) is an error, never a silently shorter result.
    #[allow(clippy::too_many_arguments)]
    async fn reread(
        &self,
        tx: &mut dyn SqlTransaction,
        target: Target<'_>,
        key_fields: &[String],
        keys: &[Record],
        returning: &[OutColumn],
        lock: bool,
        strict: bool,
    ) -> Result<Vec<Row>> {
        let e = target.entity;
        let key_of = |r: &Row| -> String {
            key_fields
                .iter()
                .map(|k| r.get(k).map(ToString::to_string).unwrap_or_default())
                .collect::<Vec<_>>()
                .join("\u{1f}")
        };
        let mut seen = std::collections::HashSet::new();
        let wanted: Vec<(String, Record)> = keys
            .iter()
            .filter_map(|k| {
                let s = key_of(k);
                seen.insert(s.clone()).then(|| (s, k.clone()))
            })
            .collect();
        if wanted.is_empty() {
            return Ok(Vec::new());
        }
        // Select the key fields too, to put rows back in input order.
        let mut fields: Vec<String> = returning.iter().map(|c| c.key.clone()).collect();
        for k in key_fields {
            if !fields.contains(k) {
                fields.push(k.clone());
            }
        }
        let mut found: std::collections::HashMap<String, Row> = std::collections::HashMap::new();
        for chunk in wanted.chunks(KEY_CHUNK) {
            let chunk_keys: Vec<Record> = chunk.iter().map(|(_, k)| k.clone()).collect();
            let filter = lower::key_filter(e, key_fields, &chunk_keys)?;
            let plan = if lock {
                lower::select_for_update(self.d(), target, &fields, &filter, None)?
            } else {
                let mut q = Query::new(e.name.clone()).filter(filter);
                q.select.fields = fields.clone();
                lower::select(self.d(), target, &q)?
            };
            for r in tx.fetch(&plan.statement, &plan.columns).await? {
                found.insert(key_of(&r), r);
            }
        }
        let mut out = Vec::with_capacity(wanted.len());
        for (k, _) in &wanted {
            if let Some(r) = found.remove(k) {
                out.push(project(r, returning));
            }
        }
        if strict && out.len() != wanted.len() {
            return Err(Error::Backend {
                message: format!(
                    "{}: {} of {} written rows could not be read back by key (the database stores the key differently, e.g. collation or rounding)",
                    self.backend.capabilities().engine,
                    wanted.len() - out.len(),
                    wanted.len()
                ),
                source: None,
            });
        }
        Ok(out)
    }
}

/// Attempts of a write the database aborted for a concurrent transaction
/// (a deadlock victim, a serialization failure: [`SqlBackend::retryable`]);
/// the transaction was rolled back whole, so it runs again as it was.
const WRITE_ATTEMPTS: usize = 3;

/// Keys per re-read or keyed update statement.
const KEY_CHUNK: usize = 1000;

/// The key values of a written row as decoded rows hold them (its typed
/// values as JSON), to find the row again.
fn key_record(keys: &[String], row: &TypedRecord<'_>) -> Record {
    let mut out = Record::new();
    for k in keys {
        if let Some((_, v)) = row.iter().find(|(f, _)| &f.name == k) {
            out.insert(k.clone(), v.to_json());
        }
    }
    out
}

fn project(mut r: Row, cols: &[OutColumn]) -> Row {
    let mut out = Row::with_capacity(cols.len());
    for c in cols {
        out.insert(c.key.clone(), r.remove(&c.key).unwrap_or_default());
    }
    out
}

/// The row estimate of a plan [`SqlAdapter::explain_statement`] gave as
/// JSON: PostgreSQL's `Plan Rows` of the top node; MySQL's rows out of its
/// join (a `query_block` of one `table` or a `nested_loop` of them): the
/// last table's `rows_produced_per_join` (MySQL 8), or the product of each
/// table's `rows` × `filtered` % (MariaDB). `None` for another shape.
fn planned_rows(d: Dialect, plan: &serde_json::Value) -> Option<u64> {
    let rows = match d {
        Dialect::Postgres => plan.get(0)?.get("Plan")?.get("Plan Rows")?.as_f64()?,
        Dialect::Mysql => {
            let block = plan.get("query_block")?;
            let tables: Vec<&serde_json::Value> = match block.get("nested_loop") {
                Some(serde_json::Value::Array(steps)) => steps
                    .iter()
                    .map(|s| s.get("table"))
                    .collect::<Option<_>>()?,
                _ => vec![block.get("table")?],
            };
            match tables.last()?.get("rows_produced_per_join") {
                Some(n) => n.as_f64()?,
                None => tables.iter().try_fold(1.0, |acc, t| {
                    let filtered = t.get("filtered").map_or(Some(100.0), |f| f.as_f64())?;
                    Some(acc * t.get("rows")?.as_f64()? * filtered / 100.0)
                })?,
            }
        }
        Dialect::Sqlite => return None,
    };
    (rows.is_finite() && rows >= 0.0).then(|| rows.round() as u64)
}

fn auto_key(entity: &Entity) -> Option<&Field> {
    match entity.primary_key.as_slice() {
        [k] => entity
            .field(k)
            .ok()
            .filter(|f| f.generated == Generated::AutoIncrement),
        _ => None,
    }
}

#[async_trait]
impl<B: SqlBackend> DatabaseAdapter for SqlAdapter<B> {
    fn capabilities(&self) -> &Capabilities {
        self.backend.capabilities()
    }

    async fn health(&self) -> Result<()> {
        self.backend.health().await
    }

    async fn select(&self, query: &Checked<'_, Query>) -> Result<Vec<Row>> {
        if query.target().call.is_some_and(|c| c.procedure.is_some()) {
            // A procedure's rows are read as it answers them (the caller
            // refused every other part of the query).
            let plan = lower::procedure_call(self.d(), query.target())?;
            let limit = match (query.page.limit, query.max_rows) {
                (Some(a), Some(b)) => a.min(b),
                (a, b) => a.or(b).unwrap_or(u64::MAX),
            };
            return self.backend.call_procedure(&plan, limit).await;
        }
        let plan = lower::select(self.d(), query.target(), query)?;
        let rows = self.fetch_plan(&plan).await?;
        Ok(if plan.joined.is_empty() {
            rows
        } else {
            rows.into_iter().map(|r| plan.nest(r)).collect()
        })
    }

    async fn count_rows(&self, query: &Checked<'_, Query>) -> Result<u64> {
        self.count_matching(query.target(), query.filter.as_ref(), None)
            .await
    }

    async fn count_rows_up_to(&self, query: &Checked<'_, Query>, cap: u64) -> Result<u64> {
        self.count_matching(query.target(), query.filter.as_ref(), Some(cap))
            .await
    }

    /// `EXPLAIN` of the root statement, with the same bound values. A
    /// procedure's `CALL` has no plan.
    async fn explain(
        &self,
        query: &Checked<'_, Query>,
        explain: baas_core::Explain,
    ) -> Result<serde_json::Value> {
        if query.target().call.is_some_and(|c| c.procedure.is_some()) {
            return Err(Error::unsupported(
                self.d().name(),
                "execution plans of a procedure's `CALL`",
            ));
        }
        let mut root = Query::clone(query);
        root.select.embeds.clear();
        let plan = lower::select(self.d(), query.target(), &root)?;
        self.explain_statement(plan.statement, explain).await
    }

    /// `EXPLAIN` of the write's statement as it would run, with the same
    /// bound values (an insert's first batch). With `analyze` on
    /// MySQL/MariaDB, only where the transaction it runs in undoes it: an
    /// InnoDB table without triggers.
    async fn explain_write(
        &self,
        write: CheckedWrite<'_, '_>,
        explain: baas_core::Explain,
    ) -> Result<serde_json::Value> {
        let target = match write {
            CheckedWrite::Insert(c) => c.target(),
            CheckedWrite::Update(c) => c.target(),
            CheckedWrite::Delete(c) => c.target(),
        };
        if explain.options.analyze && self.d() == Dialect::Mysql {
            self.rolls_back_entirely(target.entity).await?;
        }
        let statement = match write {
            CheckedWrite::Insert(checked) => {
                let max = self.backend.capabilities().max_parameters;
                let (batches, _) = lower::insert(
                    self.d(),
                    checked.target(),
                    checked,
                    checked.typed_rows(),
                    max,
                )?;
                batches
                    .into_iter()
                    .next()
                    .map(|b| b.statement)
                    .ok_or_else(|| {
                        Error::unsupported(
                            self.d().name(),
                            "execution plans of an insert of no row",
                        )
                    })?
            }
            CheckedWrite::Update(checked) => {
                lower::update(self.d(), checked.target(), checked, checked.typed_set())?.0
            }
            CheckedWrite::Delete(checked) => lower::delete(self.d(), checked.target(), checked)?.0,
        };
        self.explain_statement(statement, explain).await
    }

    /// `EXPLAIN` of the grouping statement, with the same bound values.
    async fn explain_aggregate(
        &self,
        aggregate: &Checked<'_, Aggregate>,
        explain: baas_core::Explain,
    ) -> Result<serde_json::Value> {
        let plan = lower::aggregate(self.d(), aggregate.target(), aggregate)?;
        self.explain_statement(plan.statement, explain).await
    }

    /// The rows the planner expects the matching rows' select to answer
    /// (PostgREST's `count=planned`), from the `EXPLAIN` of
    /// [`lower::matching`]: PostgreSQL's `Plan Rows`; on MySQL the rows
    /// the join produces (MySQL's `rows_produced_per_join` of its last
    /// table, MariaDB's `rows` × `filtered` of each). `None` on SQLite, for
    /// a procedure's result, and for a plan of another shape.
    async fn estimated_count(&self, query: &Checked<'_, Query>) -> Result<Option<u64>> {
        if matches!(self.d(), Dialect::Sqlite)
            || query.target().call.is_some_and(|c| c.procedure.is_some())
        {
            return Ok(None);
        }
        let rows = lower::matching(self.d(), query.target(), query.filter.as_ref(), None)?;
        let plan = self
            .explain_statement(rows, baas_core::Explain::default())
            .await?;
        Ok(planned_rows(self.d(), &plan))
    }

    async fn aggregate_rows(&self, aggregate: &Checked<'_, Aggregate>) -> Result<Vec<Row>> {
        let plan = lower::aggregate(self.d(), aggregate.target(), aggregate)?;
        let mut rows = self.fetch_plan(&plan).await?;
        baas_core::value::finish_averages(&mut rows);
        Ok(rows)
    }

    async fn insert_rows(&self, insert: &Checked<'_, Insert>) -> Result<WriteResult> {
        let mut attempt = 1;
        loop {
            match self.write_insert(insert).await {
                Err(e) if attempt < WRITE_ATTEMPTS && self.backend.retryable(&e) => attempt += 1,
                Err(e @ Error::Backend { .. }) => {
                    return Err(self.exhausted_key(insert).await.unwrap_or(e));
                }
                other => return other,
            }
        }
    }

    async fn update_rows(&self, checked: &Checked<'_, Update>) -> Result<WriteResult> {
        let mut attempt = 1;
        loop {
            match self.write_update(checked).await {
                Err(e) if attempt < WRITE_ATTEMPTS && self.backend.retryable(&e) => attempt += 1,
                other => return other,
            }
        }
    }

    async fn delete_rows(&self, checked: &Checked<'_, Delete>) -> Result<WriteResult> {
        let mut attempt = 1;
        loop {
            match self.write_delete(checked).await {
                Err(e) if attempt < WRITE_ATTEMPTS && self.backend.retryable(&e) => attempt += 1,
                other => return other,
            }
        }
    }

    /// Run the ordinary write over one transaction (pinned: every
    /// statement, and every transaction the write begins, is that
    /// transaction), after the request settings on PostgreSQL
    /// (one `set_config` statement), finish its result reading in it,
    /// then commit or roll it back.
    /// Single-statement writes that normally run on the pool run inside
    /// it too.
    /// A conflict with another transaction (a deadlock, a serialization
    /// failure) runs the whole transaction again, as a write on the pool
    /// is retried.
    async fn write_checked(
        &self,
        write: CheckedWrite<'_, '_>,
        finish: &dyn WriteFinish,
        rollback: bool,
        settings: &[(String, String)],
    ) -> Result<WriteResult> {
        let mut attempt = 1;
        loop {
            match self
                .write_checked_once(write, finish, rollback, settings)
                .await
            {
                Err(e) if attempt < WRITE_ATTEMPTS && self.backend.retryable(&e) => attempt += 1,
                other => return other,
            }
        }
    }

    /// One transaction (pinned) that first runs `SELECT set_config($1,
    /// $2, true), …` with `settings`, on PostgreSQL; `None` elsewhere or
    /// without settings.
    async fn session(
        &self,
        settings: &[(String, String)],
    ) -> Result<Option<Box<dyn baas_core::Session>>> {
        if settings.is_empty() || self.d() != Dialect::Postgres {
            return Ok(None);
        }
        let (pinned, inner) = self.pinned().await?;
        if let Err(e) = inner.set_settings(settings).await {
            if let Ok(tx) = pinned.take() {
                let _ = tx.rollback().await;
            }
            return Err(e);
        }
        Ok(Some(Box::new(PinnedSession { pinned, inner })))
    }

    /// [`baas_core::read::find`] over an adapter pinned to one
    /// transaction that first runs `SELECT set_config($1, $2, true), …`
    /// (PostgreSQL; the values bound), then commits, or rolls back with
    /// `rollback` or more rows than `at_most`. Other engines ignore the
    /// settings; a read without settings, rollback or bound runs on the
    /// pool. A procedure's `CALL` runs in the pinned transaction too (its
    /// rows are what `max-affected` counts).
    async fn find_call(
        &self,
        query: &Checked<'_, Query>,
        settings: &[(String, String)],
        rollback: bool,
        at_most: Option<u64>,
    ) -> Result<Rows> {
        let procedure = query.target().call.is_some_and(|c| c.procedure.is_some());
        let settings = if self.d() == Dialect::Postgres && !procedure {
            settings
        } else {
            &[]
        };
        if !rollback && at_most.is_none() && settings.is_empty() {
            return baas_core::read::find(self, query).await;
        }
        let (pinned, inner) = self.pinned().await?;
        let result = async {
            inner.set_settings(settings).await?;
            let mut rows = baas_core::read::find(&inner, query).await?;
            let n = rows.rows.len() as u64;
            if let Some(max) = at_most
                && n > max
            {
                return Err(Error::max_affected(max, n));
            }
            if answers_settings(settings) {
                rows.response = inner.response_settings().await?;
            }
            Ok(rows)
        }
        .await;
        let tx = pinned.take();
        match (result, rollback) {
            (Ok(rows), false) => {
                tx?.commit().await?;
                Ok(rows)
            }
            // Never committed: even a failed rollback keeps nothing.
            (result, _) => {
                if let Ok(tx) = tx {
                    let _ = tx.rollback().await;
                }
                result
            }
        }
    }

    async fn introspect(&self, options: &IntrospectOptions) -> Result<SchemaMetadata> {
        crate::introspect::introspect(&self.backend, options).await
    }

    /// Lower the change with [`crate::ddl::schema_change`] and run it.
    ///
    /// PostgreSQL and SQLite have transactional DDL: every statement runs in
    /// one transaction, so a failure leaves nothing behind. MySQL / MariaDB
    /// commit each DDL statement implicitly: `CreateEntity` is a single
    /// `CREATE TABLE` there (indexes inline), and when a later statement of an
    /// `AddField` fails (the unique index), the column is dropped again
    /// ([`crate::ddl::revert`]) before the error is returned.
    ///
    /// An existing table, column, index or type is `Error::Conflict`.
    async fn apply_ddl(&self, change: &SchemaChange) -> Result<()> {
        let statements = crate::ddl::schema_change(self.d(), change)?;
        if !self.d().sql().transactional_ddl() {
            for (i, st) in statements.iter().enumerate() {
                if let Err(e) = self.backend.execute(st).await {
                    if i > 0 {
                        for undo in crate::ddl::revert(self.d(), change)? {
                            // Best effort: the original error is what matters.
                            let _ = self.backend.execute(&undo).await;
                        }
                    }
                    return Err(e);
                }
            }
            return Ok(());
        }
        let mut tx = self.backend.begin().await?;
        for st in &statements {
            tx.execute(st).await?;
        }
        tx.commit().await
    }
}

/// A [`baas_core::Session`]: an adapter pinned to one transaction with
/// its settings set ([`DatabaseAdapter::session`]).
struct PinnedSession {
    pinned: Pinned,
    inner: SqlAdapter<Pinned>,
}

#[async_trait]
impl baas_core::Session for PinnedSession {
    fn adapter(&self) -> &dyn DatabaseAdapter {
        &self.inner
    }

    async fn end(self: Box<Self>, commit: bool) -> Result<()> {
        let tx = self.pinned.take()?;
        if commit {
            tx.commit().await
        } else {
            // Never committed: even a failed rollback keeps nothing.
            let _ = tx.rollback().await;
            Ok(())
        }
    }
}

/// One open transaction seen as a backend, for
/// [`DatabaseAdapter::write_checked`] and [`DatabaseAdapter::find_call`]: statements run in it, and a
/// transaction "begun" on it is the same transaction, whose commit does
/// nothing — so the write code runs unchanged and the caller decides the
/// end. A write uses its backend sequentially; a concurrent use finds the
/// transaction taken and fails instead of interleaving.
#[derive(Clone)]
struct Pinned {
    slot: std::sync::Arc<std::sync::Mutex<Option<Box<dyn SqlTransaction>>>>,
    dialect: Dialect,
    caps: std::sync::Arc<Capabilities>,
}

impl Pinned {
    fn new(tx: Box<dyn SqlTransaction>, dialect: Dialect, caps: Capabilities) -> Self {
        Self {
            slot: std::sync::Arc::new(std::sync::Mutex::new(Some(tx))),
            dialect,
            caps: std::sync::Arc::new(caps),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<Box<dyn SqlTransaction>>> {
        self.slot
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn take(&self) -> Result<Box<dyn SqlTransaction>> {
        self.lock().take().ok_or_else(|| Error::Backend {
            message: "the rolled-back write's transaction is in use or gone".into(),
            source: None,
        })
    }

    fn put(&self, tx: Box<dyn SqlTransaction>) {
        *self.lock() = Some(tx);
    }

    async fn fetch_in(&self, stmt: &Statement, columns: &[OutColumn]) -> Result<Vec<Row>> {
        let mut tx = self.take()?;
        let r = tx.fetch(stmt, columns).await;
        self.put(tx);
        r
    }

    async fn fetch_at_most_in(
        &self,
        stmt: &Statement,
        columns: &[OutColumn],
        max: u64,
    ) -> Result<Option<Vec<Row>>> {
        let mut tx = self.take()?;
        let r = tx.fetch_at_most(stmt, columns, max).await;
        self.put(tx);
        r
    }

    async fn execute_in(&self, stmt: &Statement) -> Result<ExecResult> {
        let mut tx = self.take()?;
        let r = tx.execute(stmt).await;
        self.put(tx);
        r
    }

    async fn call_in(&self, plan: &ProcedurePlan, limit: u64) -> Result<Vec<Row>> {
        let mut tx = self.take()?;
        let r = tx.call_procedure(plan, limit).await;
        self.put(tx);
        r
    }
}

impl std::fmt::Debug for Pinned {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pinned")
            .field("dialect", &self.dialect)
            .finish_non_exhaustive()
    }
}

#[async_trait]
impl SqlTransaction for Pinned {
    async fn fetch(&mut self, stmt: &Statement, columns: &[OutColumn]) -> Result<Vec<Row>> {
        self.fetch_in(stmt, columns).await
    }

    async fn fetch_at_most(
        &mut self,
        stmt: &Statement,
        columns: &[OutColumn],
        max: u64,
    ) -> Result<Option<Vec<Row>>> {
        self.fetch_at_most_in(stmt, columns, max).await
    }

    async fn execute(&mut self, stmt: &Statement) -> Result<ExecResult> {
        self.execute_in(stmt).await
    }

    async fn call_procedure(&mut self, plan: &ProcedurePlan, limit: u64) -> Result<Vec<Row>> {
        self.call_in(plan, limit).await
    }

    /// The outer transaction ends it.
    async fn commit(self: Box<Self>) -> Result<()> {
        Ok(())
    }

    async fn rollback(self: Box<Self>) -> Result<()> {
        Ok(())
    }
}

#[async_trait]
impl SqlBackend for Pinned {
    fn dialect(&self) -> Dialect {
        self.dialect
    }

    fn capabilities(&self) -> &Capabilities {
        &self.caps
    }

    async fn fetch(&self, stmt: &Statement, columns: &[OutColumn]) -> Result<Vec<Row>> {
        self.fetch_in(stmt, columns).await
    }

    async fn execute(&self, stmt: &Statement) -> Result<ExecResult> {
        self.execute_in(stmt).await
    }

    /// On the pinned transaction: rolled back with it (`Prefer:
    /// tx=rollback`, past `max-affected`).
    async fn call_procedure(&self, plan: &ProcedurePlan, limit: u64) -> Result<Vec<Row>> {
        self.call_in(plan, limit).await
    }

    async fn begin(&self) -> Result<Box<dyn SqlTransaction>> {
        Ok(Box::new(self.clone()))
    }

    async fn health(&self) -> Result<()> {
        Ok(())
    }
}

/// The page that reads one row past a write's bound (its rows to lock
/// and answer first, where the engine has no `RETURNING`): the write is
/// refused before it writes, having locked at most that many.
fn past(max: Option<u64>) -> Option<u64> {
    max.map(|m| m.saturating_add(1))
}

/// The rows a write answers (`RETURNING`, or the rows it is about to
/// write), within its representation's bound (`max_rows` of an
/// [`Update`] / [`Delete`]): past it, an error, the transaction left for
/// the caller to roll back (dropped uncommitted).
async fn fetch_within(
    tx: &mut dyn SqlTransaction,
    stmt: &Statement,
    columns: &[OutColumn],
    max: Option<u64>,
) -> Result<Vec<Row>> {
    match max {
        None => tx.fetch(stmt, columns).await,
        Some(max) => tx
            .fetch_at_most(stmt, columns, max)
            .await?
            .ok_or_else(|| Error::representation_too_large(max)),
    }
}

/// Most levels of an SQLite plan shown (its nodes nest by `parent`; a
/// plan SQLite writes has a handful).
const PLAN_DEPTH: usize = 64;

/// The nodes of an SQLite `EXPLAIN QUERY PLAN` under `parent`, as JSON,
/// each with its own below it (`plans`).
fn plan_nodes(nodes: &[(i64, i64, String)], parent: i64, depth: usize) -> serde_json::Value {
    serde_json::Value::Array(
        nodes
            .iter()
            .filter(|(id, p, _)| *p == parent && *id != parent)
            .map(|(id, p, detail)| {
                let mut node = serde_json::json!({"id": id, "parent": p, "detail": detail});
                let below = if depth < PLAN_DEPTH {
                    plan_nodes(nodes, *id, depth + 1)
                } else {
                    serde_json::Value::Array(Vec::new())
                };
                if below.as_array().is_some_and(|b| !b.is_empty()) {
                    node["plans"] = below;
                }
                node
            })
            .collect(),
    )
}

/// The nodes under `parent` as the `sqlite3` shell draws them, a line
/// each after `out`.
fn plan_lines(
    nodes: &[(i64, i64, String)],
    parent: i64,
    indent: &str,
    depth: usize,
    out: &mut String,
) {
    if depth >= PLAN_DEPTH {
        return;
    }
    let below: Vec<&(i64, i64, String)> = nodes
        .iter()
        .filter(|(id, p, _)| *p == parent && *id != parent)
        .collect();
    for (i, (id, _, detail)) in below.iter().enumerate() {
        let last = i + 1 == below.len();
        out.push('\n');
        out.push_str(indent);
        out.push_str(if last { "`--" } else { "|--" });
        out.push_str(detail);
        let next = format!("{indent}{}", if last { "   " } else { "|  " });
        plan_lines(nodes, *id, &next, depth + 1, out);
    }
}

/// The request's 400 `22023` (PostgreSQL's code) for a zone the
/// database's time zone data lacks (`Prefer: timezone`).
fn unknown_zone(zone: &str) -> Error {
    Error::Validation {
        violations: vec![
            baas_core::Violation::new(
                "/prefer/timezone",
                format!("the database does not know the time zone `{zone}` (`Prefer: timezone`)"),
            )
            .with_code("22023"),
        ],
    }
}
