//! Users, sessions, refresh tokens and one-time (confirmation) tokens in
//! four managed tables of the system store, read and written through the IR only (so any engine that keeps
//! the system store keeps them: SQLite, PostgreSQL, MySQL, MongoDB). Every
//! row carries its `tenant`; every read and write filters on it.
//!
//! | table | key | holds |
//! | --- | --- | --- |
//! | [`USER_TABLE`] | `id` (unique `tenant` + `email_key`) | e-mail, phone, argon2id hash, metadata (JSON text), confirmation and sign-in times |
//! | [`SESSION_TABLE`] | `id` | the user, `aal`, `amr` (JSON text), the secret that derives its refresh tokens, client IP and user agent |
//! | [`REFRESH_TOKEN_TABLE`] | `digest` (SHA-256 of the token) | the session, the parent token's digest, whether and when it was exchanged |
//! | [`ONE_TIME_TOKEN_TABLE`] | `digest` (SHA-256 of the token) | the user, the kind (`confirmation`), the e-mail address it confirms, its expiry; one per user and kind, deleted when used |
//!
//! `email_key` is never null (`e:<email>`, or `u:<id>` for a user without
//! e-mail) so that one unique index makes e-mails unique per tenant on
//! every engine, MongoDB included (whose unique indexes do not skip nulls).
//! Refresh and confirmation tokens are never stored, only their digests.

use std::sync::Arc;

use baas_core::adapter::{DatabaseAdapter, DatabaseAdapterExt, SchemaChange, Target};
use baas_core::error::{Error, Result};
use baas_core::ir::{CompareOp, Delete, Filter, Insert, Query, Update};
use baas_core::metadata::{Entity, Field, FieldType, Index, SchemaMetadata};
use serde_json::{Map, Value};

/// Users.
pub const USER_TABLE: &str = "baas_auth_user";
/// Sessions.
pub const SESSION_TABLE: &str = "baas_auth_session";
/// Refresh tokens (digests).
pub const REFRESH_TOKEN_TABLE: &str = "baas_auth_refresh_token";
/// One-time tokens: e-mail confirmation links (digests).
pub const ONE_TIME_TOKEN_TABLE: &str = "baas_auth_one_time_token";

/// A JSON object (a row, metadata).
pub(crate) type Record = Map<String, Value>;

fn text(name: &str, max: u32) -> Field {
    Field {
        max_length: Some(max),
        ..Field::new(name, FieldType::Text)
    }
}

fn index(table: &str, suffix: &str, fields: &[&str], unique: bool) -> Index {
    Index {
        name: format!("{table}_{suffix}"),
        fields: fields.iter().map(|f| f.to_string()).collect(),
        unique,
    }
}

/// The metadata of the four tables.
pub fn auth_schema() -> SchemaMetadata {
    let tstz = |name: &str| Field::new(name, FieldType::TimestampTz);
    let mut user = Entity::new(
        USER_TABLE,
        vec![
            text("id", 36),
            text("tenant", 64),
            text("email_key", 300),
            text("email", 255).nullable(),
            text("phone", 32).nullable(),
            text("password_hash", 255).nullable(),
            text("aud", 64),
            text("role", 64),
            tstz("email_confirmed_at").nullable(),
            tstz("last_sign_in_at").nullable(),
            Field::new("app_metadata", FieldType::Text),
            Field::new("user_metadata", FieldType::Text),
            Field::new("is_anonymous", FieldType::Boolean),
            tstz("created_at"),
            tstz("updated_at"),
        ],
    )
    .with_primary_key(["id"]);
    user.indexes = vec![index(
        USER_TABLE,
        "email_key",
        &["tenant", "email_key"],
        true,
    )];
    user.description = Some("mini-baas auth: users of every tenant".into());

    let mut session = Entity::new(
        SESSION_TABLE,
        vec![
            text("id", 36),
            text("tenant", 64),
            text("user_id", 36),
            text("aal", 8),
            Field::new("amr", FieldType::Text),
            text("secret", 64),
            tstz("created_at"),
            tstz("refreshed_at").nullable(),
            text("user_agent", 512).nullable(),
            text("ip", 64).nullable(),
        ],
    )
    .with_primary_key(["id"]);
    session.indexes = vec![index(
        SESSION_TABLE,
        "user_idx",
        &["tenant", "user_id"],
        false,
    )];
    session.description = Some("mini-baas auth: sessions".into());

    let mut token = Entity::new(
        REFRESH_TOKEN_TABLE,
        vec![
            text("digest", 64),
            text("tenant", 64),
            text("session_id", 36),
            text("user_id", 36),
            text("parent", 64).nullable(),
            Field::new("revoked", FieldType::Boolean),
            tstz("revoked_at").nullable(),
            tstz("created_at"),
        ],
    )
    .with_primary_key(["digest"]);
    token.indexes = vec![
        index(
            REFRESH_TOKEN_TABLE,
            "session_idx",
            &["tenant", "session_id"],
            false,
        ),
        index(
            REFRESH_TOKEN_TABLE,
            "user_idx",
            &["tenant", "user_id"],
            false,
        ),
    ];
    token.description = Some("mini-baas auth: refresh tokens (SHA-256 digests only)".into());

    let mut one_time = Entity::new(
        ONE_TIME_TOKEN_TABLE,
        vec![
            text("digest", 64),
            text("tenant", 64),
            text("user_id", 36),
            text("kind", 32),
            text("email", 255),
            tstz("created_at"),
            tstz("expires_at"),
        ],
    )
    .with_primary_key(["digest"]);
    one_time.indexes = vec![index(
        ONE_TIME_TOKEN_TABLE,
        "user_idx",
        &["tenant", "user_id"],
        false,
    )];
    one_time.description =
        Some("mini-baas auth: one-time tokens, e-mail confirmations (SHA-256 digests only)".into());

    SchemaMetadata::new(vec![user, session, token, one_time])
}

/// A user as stored.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct UserRow {
    pub id: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub password_hash: Option<String>,
    pub aud: String,
    pub role: String,
    pub email_confirmed_at: Option<String>,
    pub last_sign_in_at: Option<String>,
    pub app_metadata: Record,
    pub user_metadata: Record,
    pub is_anonymous: bool,
    pub created_at: String,
    pub updated_at: String,
}

/// The unique key of a user's e-mail (or of its id when it has none).
pub(crate) fn email_key(email: Option<&str>, id: &str) -> String {
    match email {
        Some(e) => format!("e:{e}"),
        None => format!("u:{id}"),
    }
}

/// A session as stored.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct SessionRow {
    pub id: String,
    pub user_id: String,
    pub aal: String,
    /// `[{method, timestamp}]`.
    pub amr: Value,
    /// Derives the session's refresh tokens (base64url).
    pub secret: String,
    pub created_at: String,
    pub refreshed_at: Option<String>,
    pub user_agent: Option<String>,
    pub ip: Option<String>,
}

/// A refresh token as stored.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct TokenRow {
    pub digest: String,
    pub session_id: String,
    pub user_id: String,
    pub revoked: bool,
    pub revoked_at: Option<String>,
}

/// A one-time token as stored.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct OneTimeTokenRow {
    pub digest: String,
    pub user_id: String,
    /// [`CONFIRMATION`].
    pub kind: String,
    /// The address the token confirms.
    pub email: String,
    pub created_at: String,
    pub expires_at: String,
}

/// The kind of an e-mail confirmation token.
pub(crate) const CONFIRMATION: &str = "confirmation";

impl OneTimeTokenRow {
    fn decode(row: &Record) -> Result<Self> {
        let r = |k| req(row, k, "one-time token");
        Ok(Self {
            digest: r("digest")?,
            user_id: r("user_id")?,
            kind: r("kind")?,
            email: r("email")?,
            created_at: r("created_at")?,
            expires_at: r("expires_at")?,
        })
    }

    fn encode(&self, tenant: &str) -> Record {
        let mut r = Record::new();
        r.insert("digest".into(), self.digest.clone().into());
        r.insert("tenant".into(), tenant.into());
        r.insert("user_id".into(), self.user_id.clone().into());
        r.insert("kind".into(), self.kind.clone().into());
        r.insert("email".into(), self.email.clone().into());
        r.insert("created_at".into(), self.created_at.clone().into());
        r.insert("expires_at".into(), self.expires_at.clone().into());
        r
    }
}

/// Which sessions a logout ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Scope<'a> {
    /// Every session of the user.
    Global { user: &'a str },
    /// One session.
    Local { session: &'a str },
    /// Every session of the user but one.
    Others { user: &'a str, except: &'a str },
}

fn corrupt(what: &str) -> Error {
    Error::Backend {
        message: format!("the auth store holds an unreadable {what}"),
        source: None,
    }
}

fn s(row: &Record, key: &str) -> Option<String> {
    row.get(key).and_then(Value::as_str).map(str::to_string)
}

fn req(row: &Record, key: &str, what: &str) -> Result<String> {
    s(row, key).ok_or_else(|| corrupt(what))
}

fn object(row: &Record, key: &str, what: &str) -> Result<Record> {
    let text = row.get(key).and_then(Value::as_str).unwrap_or("{}");
    match serde_json::from_str(text) {
        Ok(Value::Object(m)) => Ok(m),
        _ => Err(corrupt(what)),
    }
}

fn boolean(row: &Record, key: &str) -> bool {
    match row.get(key) {
        Some(Value::Bool(b)) => *b,
        Some(Value::Number(n)) => n.as_i64().is_some_and(|n| n != 0),
        _ => false,
    }
}

impl UserRow {
    fn decode(row: &Record) -> Result<Self> {
        Ok(Self {
            id: req(row, "id", "user")?,
            email: s(row, "email"),
            phone: s(row, "phone"),
            password_hash: s(row, "password_hash"),
            aud: req(row, "aud", "user")?,
            role: req(row, "role", "user")?,
            email_confirmed_at: s(row, "email_confirmed_at"),
            last_sign_in_at: s(row, "last_sign_in_at"),
            app_metadata: object(row, "app_metadata", "user's app_metadata")?,
            user_metadata: object(row, "user_metadata", "user's user_metadata")?,
            is_anonymous: boolean(row, "is_anonymous"),
            created_at: req(row, "created_at", "user")?,
            updated_at: req(row, "updated_at", "user")?,
        })
    }

    fn encode(&self, tenant: &str) -> Record {
        let mut r = Record::new();
        r.insert("id".into(), self.id.clone().into());
        r.insert("tenant".into(), tenant.into());
        r.insert(
            "email_key".into(),
            email_key(self.email.as_deref(), &self.id).into(),
        );
        r.insert("email".into(), opt(&self.email));
        r.insert("phone".into(), opt(&self.phone));
        r.insert("password_hash".into(), opt(&self.password_hash));
        r.insert("aud".into(), self.aud.clone().into());
        r.insert("role".into(), self.role.clone().into());
        r.insert("email_confirmed_at".into(), opt(&self.email_confirmed_at));
        r.insert("last_sign_in_at".into(), opt(&self.last_sign_in_at));
        r.insert(
            "app_metadata".into(),
            Value::Object(self.app_metadata.clone()).to_string().into(),
        );
        r.insert(
            "user_metadata".into(),
            Value::Object(self.user_metadata.clone()).to_string().into(),
        );
        r.insert("is_anonymous".into(), self.is_anonymous.into());
        r.insert("created_at".into(), self.created_at.clone().into());
        r.insert("updated_at".into(), self.updated_at.clone().into());
        r
    }
}

fn opt(v: &Option<String>) -> Value {
    v.as_ref().map_or(Value::Null, |s| Value::String(s.clone()))
}

impl SessionRow {
    fn decode(row: &Record) -> Result<Self> {
        let amr = row
            .get("amr")
            .and_then(Value::as_str)
            .and_then(|t| serde_json::from_str::<Value>(t).ok())
            .filter(Value::is_array)
            .ok_or_else(|| corrupt("session's amr"))?;
        Ok(Self {
            id: req(row, "id", "session")?,
            user_id: req(row, "user_id", "session")?,
            aal: req(row, "aal", "session")?,
            amr,
            secret: req(row, "secret", "session")?,
            created_at: req(row, "created_at", "session")?,
            refreshed_at: s(row, "refreshed_at"),
            user_agent: s(row, "user_agent"),
            ip: s(row, "ip"),
        })
    }

    fn encode(&self, tenant: &str) -> Record {
        let mut r = Record::new();
        r.insert("id".into(), self.id.clone().into());
        r.insert("tenant".into(), tenant.into());
        r.insert("user_id".into(), self.user_id.clone().into());
        r.insert("aal".into(), self.aal.clone().into());
        r.insert("amr".into(), self.amr.to_string().into());
        r.insert("secret".into(), self.secret.clone().into());
        r.insert("created_at".into(), self.created_at.clone().into());
        r.insert("refreshed_at".into(), opt(&self.refreshed_at));
        r.insert("user_agent".into(), opt(&self.user_agent));
        r.insert("ip".into(), opt(&self.ip));
        r
    }
}

impl TokenRow {
    fn decode(row: &Record) -> Result<Self> {
        Ok(Self {
            digest: req(row, "digest", "refresh token")?,
            session_id: req(row, "session_id", "refresh token")?,
            user_id: req(row, "user_id", "refresh token")?,
            revoked: boolean(row, "revoked"),
            revoked_at: s(row, "revoked_at"),
        })
    }
}

/// The four tables in one database.
pub(crate) struct Store {
    adapter: Arc<dyn DatabaseAdapter>,
    schema: SchemaMetadata,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("engine", &self.adapter.capabilities().engine)
            .finish_non_exhaustive()
    }
}

fn tenant_is(tenant: &str) -> Filter {
    Filter::eq("tenant", tenant)
}

impl Store {
    /// Use `adapter`'s database, creating the tables that do not exist.
    ///
    /// The creation is asked for every time: an engine where it is
    /// idempotent (MongoDB, where counting a missing collection succeeds)
    /// then gets its unique index, and a SQL engine answers `Conflict` for
    /// a table that exists.
    pub async fn open(adapter: Arc<dyn DatabaseAdapter>) -> Result<Self> {
        let schema = auth_schema();
        for entity in &schema.entities {
            let target = Target {
                schema: &schema,
                entity,
                call: None,
            };
            let created = adapter
                .apply_ddl(&SchemaChange::CreateEntity {
                    entity: entity.clone(),
                    references: Vec::new(),
                })
                .await;
            match created {
                Ok(()) | Err(Error::Conflict { .. }) => {}
                // Another refusal, of a table that is there and readable:
                // use it as it is.
                Err(e) if adapter.count(target, None).await.is_ok() => {
                    tracing::debug!(table = %entity.name, error = %e, "auth: table kept as it is");
                }
                Err(e) => return Err(e),
            }
        }
        Ok(Self { adapter, schema })
    }

    fn target(&self, table: &str) -> Target<'_> {
        Target::new(&self.schema, table).unwrap_or_else(|_| unreachable!("auth table {table}"))
    }

    async fn find_one(&self, table: &str, filter: Filter) -> Result<Option<Record>> {
        let q = Query::new(table).filter(filter).limit(1);
        let rows = self.adapter.find(self.target(table), &q).await?;
        Ok(rows.rows.into_iter().next())
    }

    async fn insert(&self, table: &str, row: Record) -> Result<()> {
        let insert = Insert {
            entity: table.into(),
            rows: vec![row],
            on_conflict: None,
            returning: None,
        };
        self.adapter.insert(self.target(table), &insert).await?;
        Ok(())
    }

    async fn update(&self, table: &str, filter: Filter, set: Record) -> Result<u64> {
        let update = Update {
            entity: table.into(),
            filter,
            set,
            returning: None,
            max_rows: None,
        };
        Ok(self
            .adapter
            .update(self.target(table), &update)
            .await?
            .affected)
    }

    async fn delete(&self, table: &str, filter: Filter) -> Result<u64> {
        let delete = Delete {
            entity: table.into(),
            filter,
            returning: None,
            max_rows: None,
        };
        Ok(self
            .adapter
            .delete(self.target(table), &delete)
            .await?
            .affected)
    }

    // ---------- users ----------

    /// Insert a user; `Ok(false)` when its e-mail is taken.
    pub async fn insert_user(&self, tenant: &str, user: &UserRow) -> Result<bool> {
        match self.insert(USER_TABLE, user.encode(tenant)).await {
            Ok(()) => Ok(true),
            Err(Error::Conflict { .. }) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// The user with `id`.
    pub async fn user(&self, tenant: &str, id: &str) -> Result<Option<UserRow>> {
        let f = Filter::and(vec![tenant_is(tenant), Filter::eq("id", id)]);
        self.find_one(USER_TABLE, f)
            .await?
            .map(|r| UserRow::decode(&r))
            .transpose()
    }

    /// The user with e-mail `email` (normalised).
    pub async fn user_by_email(&self, tenant: &str, email: &str) -> Result<Option<UserRow>> {
        let f = Filter::and(vec![
            tenant_is(tenant),
            Filter::eq("email_key", email_key(Some(email), "")),
        ]);
        self.find_one(USER_TABLE, f)
            .await?
            .map(|r| UserRow::decode(&r))
            .transpose()
    }

    /// Store `user` (every field but `id` and `created_at`); `Ok(false)`
    /// when its new e-mail is taken or it no longer exists.
    pub async fn save_user(&self, tenant: &str, user: &UserRow) -> Result<bool> {
        let mut set = user.encode(tenant);
        for k in ["id", "tenant", "created_at"] {
            set.remove(k);
        }
        let f = Filter::and(vec![tenant_is(tenant), Filter::eq("id", user.id.as_str())]);
        match self.update(USER_TABLE, f, set).await {
            Ok(n) => Ok(n > 0),
            Err(Error::Conflict { .. }) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Set `last_sign_in_at`.
    pub async fn signed_in(&self, tenant: &str, user: &str, at: &str) -> Result<()> {
        let mut set = Record::new();
        set.insert("last_sign_in_at".into(), at.into());
        let f = Filter::and(vec![tenant_is(tenant), Filter::eq("id", user)]);
        self.update(USER_TABLE, f, set).await?;
        Ok(())
    }

    // ---------- sessions ----------

    /// Insert a session.
    pub async fn insert_session(&self, tenant: &str, session: &SessionRow) -> Result<()> {
        self.insert(SESSION_TABLE, session.encode(tenant)).await
    }

    /// The session with `id`.
    pub async fn session(&self, tenant: &str, id: &str) -> Result<Option<SessionRow>> {
        let f = Filter::and(vec![tenant_is(tenant), Filter::eq("id", id)]);
        self.find_one(SESSION_TABLE, f)
            .await?
            .map(|r| SessionRow::decode(&r))
            .transpose()
    }

    /// Record a refresh of the session; `false` when it no longer exists.
    pub async fn refreshed(&self, tenant: &str, session: &str, at: &str) -> Result<bool> {
        let mut set = Record::new();
        set.insert("refreshed_at".into(), at.into());
        let f = Filter::and(vec![tenant_is(tenant), Filter::eq("id", session)]);
        Ok(self.update(SESSION_TABLE, f, set).await? > 0)
    }

    /// End sessions and delete their refresh tokens; returns how many
    /// sessions ended.
    pub async fn end_sessions(&self, tenant: &str, scope: Scope<'_>) -> Result<u64> {
        let (sessions, tokens) = match scope {
            Scope::Global { user } => (Filter::eq("user_id", user), Filter::eq("user_id", user)),
            Scope::Local { session } => {
                (Filter::eq("id", session), Filter::eq("session_id", session))
            }
            Scope::Others { user, except } => (
                Filter::and(vec![
                    Filter::eq("user_id", user),
                    Filter::not(Filter::eq("id", except)),
                ]),
                Filter::and(vec![
                    Filter::eq("user_id", user),
                    Filter::not(Filter::eq("session_id", except)),
                ]),
            ),
        };
        // Sessions first: a refresh racing with the logout then finds no
        // session, whatever tokens it still sees.
        let n = self
            .delete(
                SESSION_TABLE,
                Filter::and(vec![tenant_is(tenant), sessions]),
            )
            .await?;
        self.delete(
            REFRESH_TOKEN_TABLE,
            Filter::and(vec![tenant_is(tenant), tokens]),
        )
        .await?;
        Ok(n)
    }

    // ---------- refresh tokens ----------

    /// Insert a refresh token (active); inserting the same digest again is
    /// not an error (tokens are derived deterministically, several requests
    /// may insert the same one).
    pub async fn insert_token(
        &self,
        tenant: &str,
        digest: &str,
        session: &SessionRow,
        parent: Option<&str>,
        now: &str,
    ) -> Result<()> {
        let mut r = Record::new();
        r.insert("digest".into(), digest.into());
        r.insert("tenant".into(), tenant.into());
        r.insert("session_id".into(), session.id.clone().into());
        r.insert("user_id".into(), session.user_id.clone().into());
        r.insert("parent".into(), parent.map_or(Value::Null, Value::from));
        r.insert("revoked".into(), false.into());
        r.insert("revoked_at".into(), Value::Null);
        r.insert("created_at".into(), now.into());
        match self.insert(REFRESH_TOKEN_TABLE, r).await {
            Ok(()) | Err(Error::Conflict { .. }) => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// The refresh token whose digest is `digest`.
    pub async fn token(&self, tenant: &str, digest: &str) -> Result<Option<TokenRow>> {
        let f = Filter::and(vec![tenant_is(tenant), Filter::eq("digest", digest)]);
        self.find_one(REFRESH_TOKEN_TABLE, f)
            .await?
            .map(|r| TokenRow::decode(&r))
            .transpose()
    }

    /// Mark the token exchanged if it is still active: `true` for the one
    /// caller that did (a conditional update: its affected-row count decides
    /// who won a race).
    pub async fn revoke_if_active(&self, tenant: &str, digest: &str, now: &str) -> Result<bool> {
        let mut set = Record::new();
        set.insert("revoked".into(), true.into());
        set.insert("revoked_at".into(), now.into());
        let f = Filter::and(vec![
            tenant_is(tenant),
            Filter::eq("digest", digest),
            Filter::eq("revoked", false),
        ]);
        Ok(self.update(REFRESH_TOKEN_TABLE, f, set).await? == 1)
    }

    /// Delete the session's tokens exchanged before `before` (kept until
    /// then to detect their reuse).
    pub async fn purge_exchanged(&self, tenant: &str, session: &str, before: &str) -> Result<()> {
        let f = Filter::and(vec![
            tenant_is(tenant),
            Filter::eq("session_id", session),
            Filter::eq("revoked", true),
            Filter::cmp("revoked_at", CompareOp::Lt, before),
        ]);
        self.delete(REFRESH_TOKEN_TABLE, f).await?;
        Ok(())
    }

    // ---------- one-time tokens ----------

    /// Store `token`, replacing the user's other tokens of its kind (a new
    /// confirmation link invalidates the previous one).
    pub async fn replace_one_time_token(
        &self,
        tenant: &str,
        token: &OneTimeTokenRow,
    ) -> Result<()> {
        let f = Filter::and(vec![
            tenant_is(tenant),
            Filter::eq("user_id", token.user_id.as_str()),
            Filter::eq("kind", token.kind.as_str()),
        ]);
        self.delete(ONE_TIME_TOKEN_TABLE, f).await?;
        self.insert(ONE_TIME_TOKEN_TABLE, token.encode(tenant))
            .await
    }

    /// The one-time token whose digest is `digest`.
    pub async fn one_time_token(
        &self,
        tenant: &str,
        digest: &str,
    ) -> Result<Option<OneTimeTokenRow>> {
        let f = Filter::and(vec![tenant_is(tenant), Filter::eq("digest", digest)]);
        self.find_one(ONE_TIME_TOKEN_TABLE, f)
            .await?
            .map(|r| OneTimeTokenRow::decode(&r))
            .transpose()
    }

    /// Delete the one-time token: `true` for the one caller that did (its
    /// affected-row count decides who used it first).
    pub async fn consume_one_time_token(&self, tenant: &str, digest: &str) -> Result<bool> {
        let f = Filter::and(vec![tenant_is(tenant), Filter::eq("digest", digest)]);
        Ok(self.delete(ONE_TIME_TOKEN_TABLE, f).await? == 1)
    }

    /// Mark the user's address `email` confirmed at `at` (if the user still
    /// has that address); `false` otherwise.
    pub async fn confirm_email(
        &self,
        tenant: &str,
        user: &str,
        email: &str,
        at: &str,
    ) -> Result<bool> {
        let mut set = Record::new();
        set.insert("email_confirmed_at".into(), at.into());
        set.insert("updated_at".into(), at.into());
        let f = Filter::and(vec![
            tenant_is(tenant),
            Filter::eq("id", user),
            Filter::eq("email_key", email_key(Some(email), "")),
        ]);
        Ok(self.update(USER_TABLE, f, set).await? > 0)
    }
}
