//! # baas-adapter-mongo
//!
//! The MongoDB [`DatabaseAdapter`] of mini-baas, on the official `mongodb`
//! driver: a tenant on MongoDB gets the same IR, the same validation and the
//! same JSON as a tenant on PostgreSQL.
//!
//! - **Lowering** ([`lower`]) is pure: filters become `$match` documents (NOT
//!   pushed inward by De Morgan, empty `and` = `{}`, empty `or` =
//!   `{$expr: false}`, `like`/`ilike` anchored regexes of the escaped text),
//!   `exists` a `$lookup` per relation, reads / counts / aggregates one
//!   aggregation pipeline each. Keys come only from metadata, values are
//!   typed BSON behind explicit operators: no `$where`, no operator injection.
//! - **Documents**: the sole primary-key field is stored as `_id` (an
//!   `objectid` key reads as its 24-hex string, other keys as themselves);
//!   every other field under its column. Dates/timestamps are BSON dates
//!   (RFC 3339 out), decimals Decimal128 (exact), binary BinData (`\x` hex
//!   out), UUIDs BinData subtype 4, times `HH:MM:SS` text.
//! - **Writes**: many rows are inserted in one transaction when the server
//!   has transactions (probed at connect); otherwise the rows already written
//!   are deleted again when a later one fails (atomic in effect, not
//!   isolated). `auto_increment` integer keys come from a counter collection
//!   (`__baas_counters`, raised to the collection's maximum first); many-to-one
//!   relations are checked before a write (MongoDB has no foreign keys), a
//!   missing target is a `Conflict`. `returning` re-reads the written
//!   documents by `_id`.
//! - **Cannot**: full-text search (`Unsupported`), changing a document's
//!   `_id` (`Unsupported`), relations across databases (`Unsupported`).
//!
//! Relation embedding is the shared orchestration's ([`baas_core::read`]:
//! one batched `$in` query per relation level); this adapter executes the
//! checked statements it sends. With [`MongoConfig::lookup_to_one`] it also
//! claims [`Capabilities::embed_to_one`]: a to-one embed (and its own to-one
//! embeds) is then a `$lookup` after the parent's page, with the embed's
//! filter, `$limit: 1` and a `$project` of its fields inside, decoded into
//! the same nested JSON. Off by default: on the CI server (SecantusDB) it is
//! slower for pages, faster only for large unpaged reads (figures:
//! [`MongoConfig::lookup_to_one`]).
#![warn(missing_docs)]

pub mod ddl;
pub mod decode;
pub mod introspect;
pub mod lower;

use std::time::Duration;

use async_trait::async_trait;
use baas_core::ir::{Aggregate, Delete, Filter, Insert, OnConflict, Query, Update, WriteResult};
use baas_core::{
    Capabilities, Checked, CheckedWrite, DatabaseAdapter, Entity, Error, Field, FieldType,
    Generated, IntrospectOptions, RelationKind, Result, SchemaChange, SchemaMetadata, Target,
    TypedRecord, WriteFinish,
};
use bson::{Bson, Document, doc};
use futures::TryStreamExt as _;
use mongodb::options::{ClientOptions, ReturnDocument};
use mongodb::{Client, ClientSession, Collection, Database};

pub use lower::ENGINE;

/// A decoded row.
pub use baas_core::Row;

/// Collection of the `auto_increment` counters.
pub const COUNTERS: &str = "__baas_counters";

/// How to connect.
#[derive(Debug, Clone)]
pub struct MongoConfig {
    /// `mongodb://…/database?…` (the path names the database).
    pub url: String,
    /// The database when the URL names none.
    pub database: Option<String>,
    /// Documents sampled per collection by introspection (`$sample`).
    pub sample_size: u32,
    /// Force multi-document transactions on or off; `None` probes the server.
    pub transactions: Option<bool>,
    /// How long to wait for a server before `Unavailable`.
    pub server_selection_timeout: Duration,
    /// Cap on the driver's connection pool (`None`: the URL's
    /// `maxPoolSize`, else the driver default of 10).
    pub max_pool_size: Option<u32>,
    /// Run to-one embeds as `$lookup` stages in their parent's pipeline,
    /// after its page ([`Capabilities::embed_to_one`]), instead of one
    /// batched `$in` query per relation level; the JSON is the same. Off by
    /// default: on SecantusDB (the CI server) a `$lookup` costs about half a
    /// millisecond per row and level, so pages read faster batched (200
    /// tracks with album and artist: 206 ms batched, 331 ms joined, medians),
    /// while its `$in` grows quadratically with the keys, so large unpaged
    /// reads are faster joined (2,240 invoice lines with track and album:
    /// 4.1 s batched, 1.8 s joined). Not measured on `mongod`; measure with
    /// `tests/lookup.rs` (`lookup_vs_batched_wall_time`).
    pub lookup_to_one: bool,
    /// The longest one read may run on the server (`maxTimeMS` on every
    /// aggregation: reads, counts, the keys a write with a representation
    /// or an `exists` filter matches; on an upsert's `findAndModify`); past
    /// it the server stops it and the request fails with
    /// [`baas_core::Error::Timeout`]. Updates and deletes are sent as
    /// `update` and `delete` commands with `maxTimeMS` too (the driver's
    /// own helpers send none). `None`: no bound.
    pub statement_timeout: Option<Duration>,
}

impl MongoConfig {
    /// Defaults for `url`: probe transactions, sample 1,000 documents, 5 s
    /// server selection, batched to-one embeds.
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            database: None,
            sample_size: 1000,
            transactions: None,
            server_selection_timeout: Duration::from_secs(5),
            max_pool_size: None,
            lookup_to_one: false,
            statement_timeout: None,
        }
    }
}

/// The MongoDB adapter (one client with its pool, created once).
#[derive(Debug, Clone)]
pub struct MongoAdapter {
    client: Client,
    db: Database,
    caps: Capabilities,
    sample_size: u32,
    /// [`MongoConfig::statement_timeout`].
    max_time: Option<Duration>,
}

/// Connect, check that the server answers and probe transactions.
pub async fn connect(cfg: MongoConfig) -> Result<MongoAdapter> {
    let mut opts = ClientOptions::parse(&cfg.url).await.map_err(|e| {
        Error::validation(
            "/url",
            baas_core::redact::redact_in(&format!("invalid MongoDB URL: {}", e.kind), &cfg.url),
        )
    })?;
    if opts.server_selection_timeout.is_none() {
        opts.server_selection_timeout = Some(cfg.server_selection_timeout);
    }
    if opts.app_name.is_none() {
        opts.app_name = Some("mini-baas".into());
    }
    if cfg.max_pool_size.is_some() {
        opts.max_pool_size = cfg.max_pool_size;
    }
    let client = Client::with_options(opts).map_err(decode::error)?;
    let db = match (&cfg.database, client.default_database()) {
        (Some(name), _) => client.database(name),
        (None, Some(db)) => db,
        (None, None) => {
            return Err(Error::validation(
                "",
                "the MongoDB URL names no database (mongodb://host/<database>)",
            ));
        }
    };
    db.run_command(doc! {"ping": 1})
        .await
        .map_err(decode::error)?;
    let transactions = match cfg.transactions {
        Some(t) => t,
        None => probe_transactions(&client, &db).await,
    };
    let mut caps = capabilities(transactions);
    caps.embed_to_one = cfg.lookup_to_one;
    Ok(MongoAdapter {
        client,
        db,
        caps,
        sample_size: cfg.sample_size,
        max_time: cfg.statement_timeout,
    })
}

/// What this adapter claims ([`connect`] turns
/// [`Capabilities::embed_to_one`] on from [`MongoConfig::lookup_to_one`]).
pub fn capabilities(transactions: bool) -> Capabilities {
    let mut c = Capabilities::minimal(ENGINE);
    c.arrays = true;
    c.json_path = true;
    // By regular expressions ([`baas_core::text_query`]).
    c.full_text_search = true;
    c.upsert_conflict_target = true;
    c.estimated_count = true;
    // `$dateFromParts` of an instant's parts in a `timezone`.
    c.time_zones = true;
    c.transactions = transactions;
    c.max_parameters = usize::MAX;
    c
}

/// Whether a transaction can run (a replica set or mongos; a standalone
/// `mongod` refuses them).
async fn probe_transactions(client: &Client, db: &Database) -> bool {
    let Ok(mut s) = client.start_session().await else {
        return false;
    };
    if s.start_transaction().await.is_err() {
        return false;
    }
    let coll = db.collection::<Document>(COUNTERS);
    let ok = coll
        .find_one(doc! {"_id": "__probe"})
        .session(&mut s)
        .await
        .is_ok();
    ok && s.commit_transaction().await.is_ok()
}

/// The options of an aggregation bounded by `max_time` (`maxTimeMS`).
fn bounded(max_time: Option<Duration>) -> mongodb::options::AggregateOptions {
    let mut options = mongodb::options::AggregateOptions::default();
    options.max_time = max_time;
    options
}

/// One unit of work: a session in a transaction when the server has them.
struct Work {
    session: Option<ClientSession>,
    /// [`MongoConfig::statement_timeout`] of each aggregation.
    max_time: Option<Duration>,
    /// `_id`s inserted so far, per collection, for compensation without
    /// transactions.
    inserted: Vec<(Collection<Document>, Vec<Bson>)>,
}

impl Work {
    async fn aggregate(
        &mut self,
        coll: &Collection<Document>,
        p: Vec<Document>,
    ) -> Result<Vec<Document>> {
        match &mut self.session {
            Some(s) => {
                let mut c = coll
                    .aggregate(p)
                    .with_options(bounded(self.max_time))
                    .session(&mut *s)
                    .await
                    .map_err(decode::error)?;
                c.stream(s).try_collect().await.map_err(decode::error)
            }
            None => coll
                .aggregate(p)
                .with_options(bounded(self.max_time))
                .await
                .map_err(decode::error)?
                .try_collect()
                .await
                .map_err(decode::error),
        }
    }

    async fn insert_many(
        &mut self,
        coll: &Collection<Document>,
        docs: Vec<Document>,
    ) -> Result<()> {
        let ids: Vec<Bson> = docs.iter().filter_map(|d| d.get("_id").cloned()).collect();
        let r = match &mut self.session {
            Some(s) => coll.insert_many(docs).session(s).await,
            None => coll.insert_many(docs).ordered(true).await,
        };
        match r {
            Ok(_) => {
                self.inserted.push((coll.clone(), ids));
                Ok(())
            }
            Err(e) => {
                if self.session.is_none() {
                    // Ordered: the rows before the failing one were written.
                    let written = match e.kind.as_ref() {
                        mongodb::error::ErrorKind::InsertMany(im) => im
                            .write_errors
                            .iter()
                            .flatten()
                            .map(|w| w.index)
                            .min()
                            .unwrap_or(0),
                        _ => 0,
                    };
                    self.inserted
                        .push((coll.clone(), ids.into_iter().take(written).collect()));
                }
                Err(decode::error(e))
            }
        }
    }

    /// The documents matching `f` updated with `u`: the `update` command
    /// (`multi`), bounded by `maxTimeMS`; the number matched.
    async fn update_many(
        &mut self,
        coll: &Collection<Document>,
        f: Document,
        u: Document,
    ) -> Result<u64> {
        let command = doc! {
            "update": coll.name(),
            "updates": [{"q": f, "u": u, "multi": true}],
            "ordered": true,
        };
        self.write_command(coll, command).await
    }

    /// The documents matching `f` deleted: the `delete` command, bounded
    /// by `maxTimeMS`; the number deleted.
    async fn delete_many(&mut self, coll: &Collection<Document>, f: Document) -> Result<u64> {
        let command = doc! {
            "delete": coll.name(),
            "deletes": [{"q": f, "limit": 0}],
            "ordered": true,
        };
        self.write_command(coll, command).await
    }

    /// Run a write command in the work's session, with `maxTimeMS` (the
    /// driver's `update_many` and `delete_many` send none, so a write by
    /// filter alone was not bounded): its `n`, or its first write error
    /// mapped as the driver's would be (a duplicate key is a conflict, the
    /// time limit a timeout).
    async fn write_command(
        &mut self,
        coll: &Collection<Document>,
        mut command: Document,
    ) -> Result<u64> {
        if let Some(t) = self.max_time {
            command.insert(
                "maxTimeMS",
                i64::try_from(t.as_millis()).unwrap_or(i64::MAX),
            );
        }
        // The client's write concern (the URL's `w=`), as the driver's
        // helpers send it; a transaction has its own.
        if self.session.is_none()
            && let Some(concern) = coll.write_concern()
            && *concern != mongodb::options::WriteConcern::default()
        {
            let concern = bson::serialize_to_document(concern).map_err(|e| Error::Backend {
                message: format!("mongodb: an unwritable write concern: {e}"),
                source: None,
            })?;
            command.insert("writeConcern", concern);
        }
        let db = coll.client().database(&coll.namespace().db);
        let r = match &mut self.session {
            Some(s) => db.run_command(command).session(s).await,
            None => db.run_command(command).await,
        }
        .map_err(decode::error)?;
        if let Ok(errors) = r.get_array("writeErrors")
            && let Some(Bson::Document(first)) = errors.first()
        {
            use mongodb::error::{ErrorKind, WriteError, WriteFailure};
            let w: WriteError =
                bson::deserialize_from_document(first.clone()).map_err(|e| Error::Backend {
                    message: format!("mongodb: an unreadable write error: {e}"),
                    source: None,
                })?;
            let e = mongodb::error::Error::from(ErrorKind::Write(WriteFailure::WriteError(w)));
            return Err(decode::error(e));
        }
        if let Ok(concern) = r.get_document("writeConcernError") {
            return Err(Error::Backend {
                message: format!("mongodb: write concern not satisfied: {concern}"),
                source: None,
            });
        }
        match r.get("n") {
            Some(Bson::Int32(n)) => Ok(u64::try_from(*n).unwrap_or(0)),
            Some(Bson::Int64(n)) => Ok(u64::try_from(*n).unwrap_or(0)),
            Some(Bson::Double(n)) => Ok(*n as u64),
            _ => Err(Error::Backend {
                message: format!("mongodb: a write command answered no count: {r}"),
                source: None,
            }),
        }
    }

    async fn upsert_one(
        &mut self,
        coll: &Collection<Document>,
        f: Document,
        u: Document,
        after: bool,
    ) -> Result<Option<Document>> {
        let rd = if after {
            ReturnDocument::After
        } else {
            ReturnDocument::Before
        };
        let mut options = mongodb::options::FindOneAndUpdateOptions::default();
        options.upsert = Some(true);
        options.return_document = Some(rd);
        options.max_time = self.max_time;
        let r = match &mut self.session {
            Some(s) => {
                coll.find_one_and_update(f, u)
                    .with_options(options)
                    .session(s)
                    .await
            }
            None => coll.find_one_and_update(f, u).with_options(options).await,
        };
        r.map_err(decode::error)
    }

    async fn commit(mut self) -> Result<()> {
        if let Some(s) = &mut self.session {
            s.commit_transaction().await.map_err(decode::error)?;
        }
        Ok(())
    }

    /// Undo: abort the transaction, or delete what this work inserted.
    async fn rollback(mut self) {
        match &mut self.session {
            Some(s) => {
                let _ = s.abort_transaction().await;
            }
            None => {
                for (coll, ids) in self.inserted.drain(..) {
                    if !ids.is_empty() {
                        let _ = coll.delete_many(doc! {"_id": {"$in": ids}}).await;
                    }
                }
            }
        }
    }
}

impl MongoAdapter {
    /// The driver's client (for callers that need it, e.g. test set-up).
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// The database entities live in unless their source names another.
    pub fn database(&self) -> &Database {
        &self.db
    }

    fn coll(&self, e: &Entity) -> Result<Collection<Document>> {
        let name = lower::collection_name(e)?;
        Ok(match &e.source.schema {
            Some(db) => self.client.database(db).collection(name),
            None => self.db.collection(name),
        })
    }

    async fn work(&self) -> Result<Work> {
        let session = if self.caps.transactions {
            let mut s = self.client.start_session().await.map_err(decode::error)?;
            s.start_transaction().await.map_err(decode::error)?;
            Some(s)
        } else {
            None
        };
        Ok(Work {
            session,
            max_time: self.max_time,
            inserted: Vec::new(),
        })
    }

    async fn run(&self, e: &Entity, pipeline: Vec<Document>) -> Result<Vec<Document>> {
        self.coll(e)?
            .aggregate(pipeline)
            .with_options(bounded(self.max_time))
            .await
            .map_err(decode::error)?
            .try_collect()
            .await
            .map_err(decode::error)
    }

    /// MongoDB's `explain` of `command` (an `aggregate`, `update` or
    /// `delete`) on `e`'s database: `queryPlanner`, or with `analyze`
    /// `executionStats` (which runs a read, bounded by `maxTimeMS`; a
    /// write's explain never writes); as text, that JSON indented.
    /// PostgreSQL's other options are refused. The answer is the server's, in relaxed
    /// extended JSON, without the driver's bookkeeping (`$clusterTime`,
    /// `operationTime`, `ok`) nor the server's address (`serverInfo`).
    async fn explain_command(
        &self,
        e: &Entity,
        mut command: Document,
        explain: baas_core::Explain,
    ) -> Result<serde_json::Value> {
        use baas_core::adapter::PlanFormat;
        let o = explain.options;
        if o.verbose || o.settings || o.buffers || o.wal {
            return Err(Error::unsupported(
                &self.caps.engine,
                "the plan options verbose, settings, buffers and wal (PostgreSQL's; MongoDB takes analyze)",
            ));
        }
        let verbosity = if o.analyze {
            "executionStats"
        } else {
            "queryPlanner"
        };
        // The bound on the explain itself (an analyzed read runs): on the
        // outer command, as the drivers' explain helpers send it, and on
        // the explained one.
        let explain_command = match self.max_time {
            Some(t) => {
                let ms = i64::try_from(t.as_millis()).unwrap_or(i64::MAX);
                command.insert("maxTimeMS", ms);
                doc! {"explain": command, "verbosity": verbosity, "maxTimeMS": ms}
            }
            None => doc! {"explain": command, "verbosity": verbosity},
        };
        let coll = self.coll(e)?;
        let db = coll.client().database(&coll.namespace().db);
        let mut answer = db
            .run_command(explain_command)
            .await
            .map_err(decode::error)?;
        for k in ["$clusterTime", "operationTime", "ok"] {
            answer.remove(k);
        }
        let plan = Bson::Document(without_addresses(answer)).into_relaxed_extjson();
        // As text: the JSON answer, indented (MongoDB writes no other).
        Ok(match explain.format {
            PlanFormat::Json => plan,
            PlanFormat::Text => {
                serde_json::Value::String(serde_json::to_string_pretty(&plan).unwrap_or_default())
            }
        })
    }

    /// The `explain` of an aggregation `pipeline` on `e`'s collection.
    async fn explain_pipeline(
        &self,
        e: &Entity,
        pipeline: Vec<Document>,
        explain: baas_core::Explain,
    ) -> Result<serde_json::Value> {
        let command = doc! {
            "aggregate": lower::collection_name(e)?,
            "pipeline": pipeline,
            "cursor": {},
        };
        self.explain_command(e, command, explain).await
    }

    async fn count_matching(
        &self,
        target: Target<'_>,
        filter: Option<&Filter>,
        cap: Option<u64>,
    ) -> Result<u64> {
        let docs = self
            .run(target.entity, lower::count(target, filter, cap)?)
            .await?;
        Ok(docs
            .first()
            .and_then(|d| match d.get("n") {
                Some(Bson::Int32(n)) => u64::try_from(*n).ok(),
                Some(Bson::Int64(n)) => u64::try_from(*n).ok(),
                Some(Bson::Double(n)) => Some(*n as u64),
                _ => None,
            })
            .unwrap_or(0))
    }

    /// The next `n` values of an `auto_increment` key, above every stored one.
    async fn next_ids(&self, e: &Entity, n: usize) -> Result<Vec<i64>> {
        let coll = self.coll(e)?;
        let max = coll
            .aggregate(vec![
                doc! {"$match": {"_id": {"$type": "number"}}},
                doc! {"$sort": {"_id": -1}},
                doc! {"$limit": 1},
            ])
            .with_options(bounded(self.max_time))
            .await
            .map_err(decode::error)?
            .try_next()
            .await
            .map_err(decode::error)?
            .and_then(|d| match d.get("_id") {
                Some(Bson::Int32(i)) => Some(i64::from(*i)),
                Some(Bson::Int64(i)) => Some(*i),
                Some(Bson::Double(f)) => Some(*f as i64),
                _ => None,
            })
            .unwrap_or(0);
        let counters = self.db.collection::<Document>(COUNTERS);
        let key = format!("{}.{}", self.db.name(), lower::collection_name(e)?);
        counters
            .update_one(doc! {"_id": &key}, doc! {"$max": {"seq": max}})
            .upsert(true)
            .await
            .map_err(decode::error)?;
        let end = counters
            .find_one_and_update(doc! {"_id": &key}, doc! {"$inc": {"seq": n as i64}})
            .return_document(ReturnDocument::After)
            .await
            .map_err(decode::error)?
            .and_then(|d| d.get_i64("seq").ok())
            .ok_or_else(|| Error::Backend {
                message: "the key counter did not advance".into(),
                source: None,
            })?;
        Ok((end - n as i64 + 1..=end).collect())
    }

    /// Give every document its `_id`: generated for an `auto_increment`
    /// integer key, an ObjectId when the key is one or the entity has no
    /// single-field key.
    async fn assign_ids(&self, e: &Entity, docs: &mut [Document]) -> Result<()> {
        let missing: Vec<usize> = (0..docs.len())
            .filter(|i| !docs[*i].contains_key("_id"))
            .collect();
        if missing.is_empty() {
            return Ok(());
        }
        let key: Option<&Field> = match e.primary_key.as_slice() {
            [k] => Some(e.field(k)?),
            _ => None,
        };
        match key.map(|f| (&f.ty, f.generated)) {
            Some((
                FieldType::Int16 | FieldType::Int32 | FieldType::Int64,
                Generated::AutoIncrement,
            )) => {
                let ids = self.next_ids(e, missing.len()).await?;
                for (i, id) in missing.into_iter().zip(ids) {
                    docs[i].insert("_id", Bson::Int64(id));
                }
            }
            None | Some((FieldType::ObjectId, _)) => {
                for i in missing {
                    docs[i].insert("_id", bson::oid::ObjectId::new());
                }
            }
            Some((ty, _)) => {
                return Err(Error::unsupported(
                    ENGINE,
                    format!(
                        "generating a {} key (only auto-increment integers and ObjectIds)",
                        ty.name()
                    ),
                ));
            }
        }
        Ok(())
    }

    /// MongoDB has no foreign keys: check that every many-to-one relation set
    /// by `rows` points at an existing document.
    async fn check_references(
        &self,
        w: &mut Work,
        target: Target<'_>,
        rows: &[&TypedRecord<'_>],
    ) -> Result<()> {
        let e = target.entity;
        for rel in &e.relations {
            if rel.kind != RelationKind::ManyToOne {
                continue;
            }
            let Ok(other) = target.schema.entity(&rel.target) else {
                continue;
            };
            // The parent keys the rows point at, typed as the parent's
            // fields (rows that set a link field to null point nowhere).
            let mut wanted: Vec<TypedRecord<'_>> = Vec::new();
            for r in rows {
                let vals: Option<TypedRecord<'_>> = rel
                    .from_fields
                    .iter()
                    .zip(&rel.to_fields)
                    .map(|(f, t)| {
                        let v = lower::typed_value(r, f);
                        let to = other.field(t).ok()?;
                        (!v.is_null())
                            .then(|| v.coerce(&to.ty).ok().map(|v| (to, v)))
                            .flatten()
                    })
                    .collect();
                if let Some(v) = vals
                    && !wanted.contains(&v)
                {
                    wanted.push(v);
                }
            }
            if wanted.is_empty() {
                continue;
            }
            let ors = wanted
                .iter()
                .map(|k| lower::key_match(other, &rel.to_fields, k).map(Bson::Document))
                .collect::<Result<Vec<_>>>()?;
            let mut proj = Document::new();
            for t in &rel.to_fields {
                let f = other.field(t)?;
                proj.insert(lower::storage_key(other, f)?, 1);
            }
            let found = w
                .aggregate(
                    &self.coll(other)?,
                    vec![doc! {"$match": {"$or": ors}}, doc! {"$project": proj}],
                )
                .await?;
            let found_rows = found
                .into_iter()
                .map(|mut d| decode_row(other, &rel.to_fields, &mut d))
                .collect::<Result<Vec<_>>>()?;
            for k in &wanted {
                let norm: Row = k
                    .iter()
                    .map(|(f, v)| (f.name.clone(), v.to_json()))
                    .collect();
                if !found_rows
                    .iter()
                    .any(|r| rel.to_fields.iter().all(|t| r.get(t) == norm.get(t)))
                {
                    return Err(Error::Conflict {
                        kind: baas_core::ConflictKind::ForeignKey,
                        message: format!(
                            "`{}.{}` points at no `{}` ({})",
                            e.name,
                            rel.name,
                            other.name,
                            serde_json::Value::Object(norm)
                        ),
                        constraint: Some(format!("{}.{}", e.name, rel.name)),
                    });
                }
            }
        }
        Ok(())
    }

    /// Re-read documents by `_id`, in the order of `ids`.
    async fn reread(
        &self,
        w: &mut Work,
        e: &Entity,
        ids: &[Bson],
        fields: &[String],
    ) -> Result<Vec<Row>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let sel = lower::selected(e, fields)?;
        let mut proj = lower::projection(e, &sel)?;
        proj.insert("_id", 1);
        let names: Vec<String> = sel.iter().map(|f| f.name.clone()).collect();
        let mut found: Vec<(Bson, Row)> = Vec::new();
        for chunk in id_chunks(ids) {
            let docs = w
                .aggregate(
                    &self.coll(e)?,
                    vec![
                        doc! {"$match": {"_id": {"$in": chunk.to_vec()}}},
                        doc! {"$project": proj.clone()},
                    ],
                )
                .await?;
            for mut d in docs {
                let id = d.get("_id").cloned().unwrap_or(Bson::Null);
                found.push((id, decode_row(e, &names, &mut d)?));
            }
        }
        Ok(ids
            .iter()
            .filter_map(|id| found.iter().find(|(k, _)| k == id).map(|(_, r)| r.clone()))
            .collect())
    }

    async fn insert_in(&self, w: &mut Work, insert: &Checked<'_, Insert>) -> Result<WriteResult> {
        let target = insert.target();
        let e = target.entity;
        let coll = self.coll(e)?;
        let typed = insert.typed_rows();
        let mut docs = typed
            .iter()
            .map(|r| lower::document(e, r))
            .collect::<Result<Vec<_>>>()?;
        self.assign_ids(e, &mut docs).await?;
        let rows: Vec<&TypedRecord<'_>> = typed.iter().collect();
        self.check_references(w, target, &rows).await?;
        let ids: Vec<Bson> = docs.iter().filter_map(|d| d.get("_id").cloned()).collect();
        let mut result = WriteResult::default();
        let written_ids = match &insert.on_conflict {
            None => {
                w.insert_many(&coll, docs).await?;
                result.affected = ids.len() as u64;
                ids
            }
            Some(up) => {
                let key = if up.target.is_empty() {
                    e.primary_key.clone()
                } else {
                    up.target.clone()
                };
                let mut written = Vec::new();
                for (r, mut d) in typed.iter().zip(docs) {
                    let f = lower::key_match(e, &key, r)?;
                    let id = d.remove("_id").unwrap_or(Bson::Null);
                    match up.action {
                        OnConflict::Merge => {
                            let mut u = Document::new();
                            // No defaults on MongoDB: a field reset to its
                            // default is one an insert would leave out.
                            let mut unset = Document::new();
                            for name in &up.defaults {
                                let f = e.field(name)?;
                                if key.contains(name) || e.primary_key.contains(name) {
                                    continue;
                                }
                                let k = lower::storage_key(e, f)?;
                                if !d.contains_key(k) {
                                    unset.insert(k, "");
                                }
                            }
                            if !d.is_empty() {
                                u.insert("$set", d);
                            }
                            if !unset.is_empty() {
                                u.insert("$unset", unset);
                            }
                            u.insert("$setOnInsert", doc! {"_id": id});
                            let after = w.upsert_one(&coll, f, u, true).await?;
                            if let Some(id) = after.and_then(|a| a.get("_id").cloned()) {
                                written.push(id);
                            }
                        }
                        OnConflict::Ignore => {
                            d.insert("_id", id.clone());
                            let before = w
                                .upsert_one(&coll, f, doc! {"$setOnInsert": d}, false)
                                .await?;
                            if before.is_none() {
                                written.push(id);
                            }
                        }
                    }
                }
                result.affected = written.len() as u64;
                written
            }
        };
        if let Some(fields) = &insert.returning {
            result.rows = self.reread(w, e, &written_ids, fields).await?;
        }
        Ok(result)
    }

    async fn update_in(&self, w: &mut Work, update: &Checked<'_, Update>) -> Result<WriteResult> {
        let target = update.target();
        let e = target.entity;
        let coll = self.coll(e)?;
        let typed: TypedRecord<'_> = update.typed_set().to_vec();
        let set = lower::update_set(e, &typed)?;
        self.check_references(w, target, &[&typed]).await?;
        if update.returning.is_none() {
            let affected = if lower::has_exists(&update.filter) {
                self.write_in_pages(w, target, &update.filter, Some(&set))
                    .await?
            } else {
                let (_, m) = lower::filter(target, Some(&update.filter))?;
                w.update_many(&coll, m, set).await?
            };
            return Ok(WriteResult {
                response: None,
                affected,
                rows: Vec::new(),
            });
        }
        let ids = self
            .ids_within(
                w,
                target,
                &update.filter,
                update.returning.as_ref().and(update.max_rows),
            )
            .await?;
        if ids.is_empty() {
            return Ok(WriteResult::default());
        }
        let mut affected = 0;
        for chunk in id_chunks(&ids) {
            affected += w
                .update_many(&coll, doc! {"_id": {"$in": chunk.to_vec()}}, set.clone())
                .await?;
        }
        let rows = match &update.returning {
            Some(fields) => self.reread(w, e, &ids, fields).await?,
            None => Vec::new(),
        };
        Ok(WriteResult {
            affected,
            rows,
            response: None,
        })
    }

    async fn delete_in(&self, w: &mut Work, delete: &Checked<'_, Delete>) -> Result<WriteResult> {
        let target = delete.target();
        let e = target.entity;
        let coll = self.coll(e)?;
        if delete.returning.is_none() {
            let affected = if lower::has_exists(&delete.filter) {
                self.write_in_pages(w, target, &delete.filter, None).await?
            } else {
                let (_, m) = lower::filter(target, Some(&delete.filter))?;
                w.delete_many(&coll, m).await?
            };
            return Ok(WriteResult {
                response: None,
                affected,
                rows: Vec::new(),
            });
        }
        let ids = self
            .ids_within(
                w,
                target,
                &delete.filter,
                delete.returning.as_ref().and(delete.max_rows),
            )
            .await?;
        let rows = match &delete.returning {
            Some(fields) => self.reread(w, e, &ids, fields).await?,
            None => Vec::new(),
        };
        let mut affected = 0;
        for chunk in id_chunks(&ids) {
            affected += w
                .delete_many(&coll, doc! {"_id": {"$in": chunk.to_vec()}})
                .await?;
        }
        Ok(WriteResult {
            affected,
            rows,
            response: None,
        })
    }

    /// Update (with `set`) or delete the documents `f` matches, where `f`
    /// needs `$lookup`s (an `exists` filter: `update_many` takes no
    /// pipeline), a page of [`WRITE_PAGE`] `_id`s at a time, in `_id`
    /// order (BSON's, across types: `$expr`, not a query's `$gt`, which
    /// compares one type only): the memory a write holds is one page,
    /// however many documents it touches. Each page is read after the
    /// previous one is written, past its last `_id`. Where `f` reads the
    /// collection it writes (a self-reference: `emp?subordinates=is.null`),
    /// what it matches would change as pages are written, so every `_id`
    /// is read first, as PostgreSQL's statement sees the rows as they
    /// were, at most [`SELF_READING_WRITE_MAX`] (past that, a 400 and
    /// nothing written). The number written.
    async fn write_in_pages(
        &self,
        w: &mut Work,
        target: Target<'_>,
        f: &Filter,
        set: Option<&Document>,
    ) -> Result<u64> {
        let coll = self.coll(target.entity)?;
        let reads_itself =
            baas_core::validate::related_by_filter(target.schema, &target.entity.name, f)
                .iter()
                .filter_map(|name| target.schema.entity(name).ok())
                .any(|e| self.coll(e).is_ok_and(|c| c.name() == coll.name()));
        if reads_itself {
            let ids = self
                .ids_within(w, target, f, Some(SELF_READING_WRITE_MAX))
                .await
                .map_err(|e| match e {
                    Error::LimitExceeded { .. } => Error::LimitExceeded {
                        limit: "self_reading_write_max",
                        max: SELF_READING_WRITE_MAX,
                        message: format!(
                            "this write's filter reads the collection it writes, and it matches more than {SELF_READING_WRITE_MAX} documents; nothing was written (narrow the filter)"
                        ),
                    },
                    other => other,
                })?;
            let mut affected = 0;
            for chunk in id_chunks(&ids) {
                let page = doc! {"_id": {"$in": chunk.to_vec()}};
                affected += match set {
                    Some(set) => w.update_many(&coll, page, set.clone()).await?,
                    None => w.delete_many(&coll, page).await?,
                };
            }
            return Ok(affected);
        }
        let mut after: Option<Bson> = None;
        let mut affected = 0;
        loop {
            let mut pipeline = Vec::new();
            if let Some(last) = after.take() {
                // `$literal`: a text key starting with `$` is no field path.
                pipeline.push(doc! {"$match": {"$expr": {"$gt": ["$_id", {"$literal": last}]}}});
            }
            pipeline.push(doc! {"$sort": {"_id": 1}});
            pipeline.extend(lower::ids(target, f)?);
            pipeline.push(doc! {"$limit": WRITE_PAGE});
            let ids: Vec<Bson> = w
                .aggregate(&coll, pipeline)
                .await?
                .into_iter()
                .filter_map(|mut d| d.remove("_id"))
                .collect();
            let full = ids.len() as i64 == WRITE_PAGE;
            let Some(last) = ids.last().cloned() else {
                break;
            };
            let page = doc! {"_id": {"$in": ids}};
            affected += match set {
                Some(set) => w.update_many(&coll, page, set.clone()).await?,
                None => w.delete_many(&coll, page).await?,
            };
            if !full {
                break;
            }
            after = Some(last);
        }
        Ok(affected)
    }

    /// The `_id`s of the documents a write touches, read before it
    /// writes: at most `max` (a representation's bound, [`Update::max_rows`]),
    /// past which the write is refused before anything is written.
    async fn ids_within(
        &self,
        w: &mut Work,
        target: Target<'_>,
        f: &Filter,
        max: Option<u64>,
    ) -> Result<Vec<Bson>> {
        let mut pipeline = lower::ids(target, f)?;
        if let Some(max) = max {
            pipeline
                .push(doc! {"$limit": i64::try_from(max.saturating_add(1)).unwrap_or(i64::MAX)});
        }
        let ids: Vec<Bson> = w
            .aggregate(&self.coll(target.entity)?, pipeline)
            .await?
            .into_iter()
            .filter_map(|mut d| d.remove("_id"))
            .collect();
        match max {
            Some(max) if ids.len() as u64 > max => Err(Error::representation_too_large(max)),
            _ => Ok(ids),
        }
    }
}

/// The most `_id`s one `$in` carries.
const IN_CHUNK_IDS: usize = 10_000;

/// The most bytes of `_id`s one `$in` carries: a command is at most 16 MiB,
/// and text keys can be long.
const IN_CHUNK_BYTES: usize = 8 << 20;

/// `ids` in chunks an `$in` can carry: at most [`IN_CHUNK_IDS`] and
/// [`IN_CHUNK_BYTES`] each (one `_id` at least).
fn id_chunks(ids: &[Bson]) -> impl Iterator<Item = &[Bson]> {
    let mut rest = ids;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let (mut n, mut bytes) = (0, 0);
        while n < rest.len() && n < IN_CHUNK_IDS {
            let size = bson_size(&rest[n]);
            if n > 0 && bytes + size > IN_CHUNK_BYTES {
                break;
            }
            bytes += size;
            n += 1;
        }
        let (chunk, tail) = rest.split_at(n);
        rest = tail;
        Some(chunk)
    })
}

/// About the bytes `b` takes as an array element (at least as many for
/// the usual keys).
fn bson_size(b: &Bson) -> usize {
    match b {
        Bson::String(s) => s.len() + 16,
        Bson::ObjectId(_) | Bson::Int32(_) | Bson::Int64(_) | Bson::Double(_) => 24,
        other => doc! {"": other.clone()}
            .to_vec()
            .map_or(IN_CHUNK_BYTES, |v| v.len() + 8),
    }
}

/// The `_id`s a write whose filter needs `$lookup`s reads at once
/// (`write_in_pages`).
const WRITE_PAGE: i64 = 1000;

/// The most documents a write whose filter reads the collection it writes
/// touches (`write_in_pages`: their `_id`s are read first).
const SELF_READING_WRITE_MAX: u64 = 100_000;

/// An `explain` answer without the servers' addresses, at any depth
/// (`serverInfo`, and a sharded plan's `shards[…].host`).
fn without_addresses(mut d: Document) -> Document {
    d.remove("serverInfo");
    d.remove("host");
    for (_, v) in d.iter_mut() {
        strip_addresses(v);
    }
    d
}

fn strip_addresses(v: &mut Bson) {
    match v {
        Bson::Document(d) => *d = without_addresses(std::mem::take(d)),
        Bson::Array(items) => items.iter_mut().for_each(strip_addresses),
        _ => {}
    }
}

/// Decode the joined embeds of a document into `out`, each under its key
/// after what is there already: its related row (decoded by field type, its
/// own joined embeds after its fields), or `null` when the `$lookup` found
/// none.
fn nest(
    schema: &SchemaMetadata,
    embeds: &[lower::JoinedEmbed],
    d: &mut Document,
    out: &mut Row,
) -> Result<()> {
    for j in embeds {
        let related = match d.remove(&j.helper) {
            Some(Bson::Array(a)) => a.into_iter().next(),
            _ => None,
        };
        let v = match related {
            Some(Bson::Document(mut sub)) => {
                let e = schema.entity(&j.entity)?;
                let mut r = decode_row(e, &j.fields, &mut sub)?;
                nest(schema, &j.embeds, &mut sub, &mut r)?;
                serde_json::Value::Object(r)
            }
            _ => serde_json::Value::Null,
        };
        out.insert(j.key.clone(), v);
    }
    Ok(())
}

/// Decode `fields` of a document into a row.
fn decode_row(e: &Entity, fields: &[String], d: &mut Document) -> Result<Row> {
    let mut out = Row::with_capacity(fields.len());
    for name in fields {
        let f = e.field(name)?;
        let k = lower::storage_key(e, f)?;
        let v = decode::shape(d.remove(k), &f.ty);
        out.insert(f.name.clone(), v);
    }
    Ok(out)
}

/// Commit `w` when `r` is a success, undo it otherwise.
/// Attempts at a write that meets transient write conflicts (another
/// transaction wrote the same documents first).
const WRITE_ATTEMPTS: u32 = 4;

/// Whether to run a write again after `e` (a transient conflict, attempts
/// left); waits a little longer each time.
async fn retry(e: &Error, attempt: &mut u32) -> bool {
    if !decode::is_transient(e) || *attempt >= WRITE_ATTEMPTS {
        return false;
    }
    tokio::time::sleep(std::time::Duration::from_millis(5 << *attempt)).await;
    *attempt += 1;
    true
}

async fn finish<T>(w: Work, r: Result<T>) -> Result<T> {
    match r {
        Ok(t) => {
            w.commit().await?;
            Ok(t)
        }
        Err(e) => {
            w.rollback().await;
            Err(e)
        }
    }
}

#[async_trait]
impl DatabaseAdapter for MongoAdapter {
    fn capabilities(&self) -> &Capabilities {
        &self.caps
    }

    async fn health(&self) -> Result<()> {
        self.db
            .run_command(doc! {"ping": 1})
            .await
            .map(|_| ())
            .map_err(decode::error)
    }

    async fn select(&self, query: &Checked<'_, Query>) -> Result<Vec<Row>> {
        let target = query.target();
        let plan = lower::find(target, query)?;
        let docs = self.run(target.entity, plan.pipeline).await?;
        docs.into_iter()
            .map(|mut d| {
                let mut r = decode_row(target.entity, &plan.fields, &mut d)?;
                nest(target.schema, &plan.embeds, &mut d, &mut r)?;
                Ok(r)
            })
            .collect()
    }

    async fn count_rows(&self, query: &Checked<'_, Query>) -> Result<u64> {
        self.count_matching(query.target(), query.filter.as_ref(), None)
            .await
    }

    async fn count_rows_up_to(&self, query: &Checked<'_, Query>, cap: u64) -> Result<u64> {
        self.count_matching(query.target(), query.filter.as_ref(), Some(cap))
            .await
    }

    /// The collection's document count from its metadata, without a
    /// filter; no estimate with one.
    async fn estimated_count(&self, query: &Checked<'_, Query>) -> Result<Option<u64>> {
        if query.filter.is_some() {
            return Ok(None);
        }
        Ok(Some(
            self.coll(query.entity())?
                .estimated_document_count()
                .await
                .map_err(decode::error)?,
        ))
    }

    /// The `explain` of the pipeline that reads the query's own documents
    /// (its embeddings aside, as the SQL engines plan their root
    /// statement).
    async fn explain(
        &self,
        query: &Checked<'_, Query>,
        explain: baas_core::Explain,
    ) -> Result<serde_json::Value> {
        let target = query.target();
        let mut root = Query::clone(query);
        root.select.embeds.clear();
        let plan = lower::find(target, &root)?;
        self.explain_pipeline(target.entity, plan.pipeline, explain)
            .await
    }

    /// The `explain` of the grouping pipeline.
    async fn explain_aggregate(
        &self,
        aggregate: &Checked<'_, Aggregate>,
        explain: baas_core::Explain,
    ) -> Result<serde_json::Value> {
        let target = aggregate.target();
        let plan = lower::aggregate(target, aggregate)?;
        self.explain_pipeline(target.entity, plan.pipeline, explain)
            .await
    }

    /// The `explain` of what selects a write's documents: its `update` or
    /// `delete` command, or, where it reads the `_id`s first (a filter
    /// through a relation, a representation), that read's pipeline.
    /// MongoDB explains no insert.
    async fn explain_write(
        &self,
        write: CheckedWrite<'_, '_>,
        explain: baas_core::Explain,
    ) -> Result<serde_json::Value> {
        let (target, filter, set, returning) = match write {
            CheckedWrite::Insert(_) => {
                return Err(Error::unsupported(
                    &self.caps.engine,
                    "execution plans of an insert (MongoDB's explain has none)",
                ));
            }
            CheckedWrite::Update(u) => (
                u.target(),
                &u.filter,
                Some(lower::update_set(
                    u.target().entity,
                    &u.typed_set().to_vec(),
                )?),
                u.returning.is_some(),
            ),
            CheckedWrite::Delete(d) => (d.target(), &d.filter, None, d.returning.is_some()),
        };
        let e = target.entity;
        if returning || lower::has_exists(filter) {
            return self
                .explain_pipeline(e, lower::ids(target, filter)?, explain)
                .await;
        }
        let (_, m) = lower::filter(target, Some(filter))?;
        let name = lower::collection_name(e)?;
        let command = match set {
            Some(u) => doc! {"update": name, "updates": [{"q": m, "u": u, "multi": true}]},
            None => doc! {"delete": name, "deletes": [{"q": m, "limit": 0}]},
        };
        self.explain_command(e, command, explain).await
    }

    async fn aggregate_rows(&self, aggregate: &Checked<'_, Aggregate>) -> Result<Vec<Row>> {
        let target = aggregate.target();
        let plan = lower::aggregate(target, aggregate)?;
        let docs = self.run(target.entity, plan.pipeline).await?;
        let mut rows = Vec::with_capacity(docs.len());
        for mut d in docs {
            let mut r = Row::new();
            for c in &plan.columns {
                r.insert(c.key.clone(), decode::shape(d.remove(&c.internal), &c.ty));
            }
            rows.push(r);
        }
        baas_core::value::finish_averages(&mut rows);
        // SQL aggregates without GROUP BY give one row even over no input
        // (count 0, other aggregates null); `$group` gives none.
        if rows.is_empty() && aggregate.ungrouped() {
            let mut r = Row::new();
            for (via, ag) in aggregate.all_aggregates() {
                let v = match ag.func {
                    baas_core::ir::AggregateFn::Count
                    | baas_core::ir::AggregateFn::CountValues { .. }
                    | baas_core::ir::AggregateFn::CountDistinct { .. } => serde_json::json!(0),
                    _ => serde_json::Value::Null,
                };
                r.insert(baas_core::ir::Aggregate::answer_key(via, &ag.alias), v);
            }
            let keep = aggregate.having.iter().all(|h| {
                let (Some(x), Some(y)) = (
                    r.get(&h.alias).and_then(serde_json::Value::as_f64),
                    h.value
                        .to_json()
                        .as_f64()
                        .or_else(|| h.value.to_json().as_str().and_then(|s| s.parse().ok())),
                ) else {
                    return false;
                };
                use baas_core::ir::CompareOp as Op;
                match h.op {
                    Op::Eq => x == y,
                    Op::Neq => x != y,
                    Op::Gt => x > y,
                    Op::Gte => x >= y,
                    Op::Lt => x < y,
                    Op::Lte => x <= y,
                }
            });
            if keep && aggregate.limit != Some(0) && aggregate.offset.unwrap_or(0) == 0 {
                rows.push(r);
            }
        }
        Ok(rows)
    }

    async fn insert_rows(&self, insert: &Checked<'_, Insert>) -> Result<WriteResult> {
        let mut attempt = 1;
        loop {
            let mut w = self.work().await?;
            let r = self.insert_in(&mut w, insert).await;
            match finish(w, r).await {
                Err(e) if retry(&e, &mut attempt).await => {}
                r => return r,
            }
        }
    }

    async fn update_rows(&self, update: &Checked<'_, Update>) -> Result<WriteResult> {
        let mut attempt = 1;
        loop {
            let mut w = self.work().await?;
            let r = self.update_in(&mut w, update).await;
            match finish(w, r).await {
                Err(e) if retry(&e, &mut attempt).await => {}
                r => return r,
            }
        }
    }

    async fn delete_rows(&self, delete: &Checked<'_, Delete>) -> Result<WriteResult> {
        let mut attempt = 1;
        loop {
            let mut w = self.work().await?;
            let r = self.delete_in(&mut w, delete).await;
            match finish(w, r).await {
                Err(e) if retry(&e, &mut attempt).await => {}
                r => return r,
            }
        }
    }

    /// In a multi-document transaction, finished (its reads outside the
    /// transaction: they do not see the write), then committed or aborted. Without transactions (a standalone server) this is
    /// `Unsupported` and nothing is written: compensating afterwards would
    /// let other readers see the write meanwhile. MongoDB has no request
    /// settings: `_settings` are ignored.
    async fn write_checked(
        &self,
        write: CheckedWrite<'_, '_>,
        then: &dyn WriteFinish,
        rollback: bool,
        _settings: &[(String, String)],
    ) -> Result<WriteResult> {
        if !self.caps.transactions {
            return Err(Error::unsupported(
                &self.caps.engine,
                if rollback {
                    "rolling a write back (`Prefer: tx=rollback`) on a server without transactions (they need a replica set or mongos)"
                } else {
                    "checking a write's answer before it commits (a cast in its `select` that could refuse a value) on a server without transactions (they need a replica set or mongos)"
                },
            ));
        }
        let mut attempt = 1;
        loop {
            let mut w = self.work().await?;
            if w.session.is_none() {
                return Err(Error::unsupported(&self.caps.engine, "transactions"));
            }
            let r = match &write {
                CheckedWrite::Insert(i) => self.insert_in(&mut w, i).await,
                CheckedWrite::Update(u) => self.update_in(&mut w, u).await,
                CheckedWrite::Delete(d) => self.delete_in(&mut w, d).await,
            };
            // Reads outside the session: they see the database as
            // committed, not this write.
            let r = match r {
                Ok(r) => then.finish(self, r).await,
                e => e,
            };
            let r = if rollback {
                w.rollback().await;
                r
            } else {
                finish(w, r).await
            };
            match r {
                Err(e) if retry(&e, &mut attempt).await => {}
                r => return r,
            }
        }
    }

    async fn introspect(&self, options: &IntrospectOptions) -> Result<SchemaMetadata> {
        introspect::introspect(self, options).await
    }

    async fn apply_ddl(&self, change: &SchemaChange) -> Result<()> {
        ddl::apply(self, change).await
    }
}

#[cfg(test)]
mod chunk_tests {
    use super::{Bson, IN_CHUNK_BYTES, IN_CHUNK_IDS, id_chunks};

    /// Long text keys are cut into chunks a command can carry; short ones
    /// by count; every `_id` is in exactly one chunk, in order.
    #[test]
    fn in_chunks_stay_under_the_command_size() {
        let long: Vec<Bson> = (0..10_000)
            .map(|i| Bson::String(format!("{i:04}{}", "x".repeat(2000))))
            .collect();
        let chunks: Vec<&[Bson]> = id_chunks(&long).collect();
        assert!(chunks.len() >= 3, "{}", chunks.len());
        for c in &chunks {
            // The command's own bytes, as the server counts them.
            let encoded = bson::doc! {"_id": {"$in": c.to_vec()}}.to_vec().unwrap();
            assert!(encoded.len() <= IN_CHUNK_BYTES && !c.is_empty());
        }
        assert_eq!(chunks.concat(), long);
        let short: Vec<Bson> = (0..25_000_i64).map(Bson::Int64).collect();
        let sizes: Vec<usize> = id_chunks(&short).map(<[Bson]>::len).collect();
        assert_eq!(sizes, vec![IN_CHUNK_IDS, IN_CHUNK_IDS, 5_000]);
        let huge = vec![Bson::String("y".repeat(IN_CHUNK_BYTES + 1)); 2];
        assert_eq!(id_chunks(&huge).count(), 2);
        assert_eq!(id_chunks(&[]).count(), 0);
    }
}
