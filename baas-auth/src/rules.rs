//! Permission rules ([`Rule`](baas_core::access::Rule), stored in the tenant's metadata) compiled
//! into the engine's grants: the same IR filters on PostgreSQL,
//! MySQL/MariaDB, SQLite and MongoDB.
//!
//! A rule's `filter` and `check` are written in the URL filter grammar and
//! parsed by the same parser as a request's query string, once per metadata
//! version. The caller's values are references, replaced by the caller's
//! own values as the request runs — bound parameters, never pasted text:
//!
//! | reference | value |
//! | --- | --- |
//! | `auth.uid()` | the token's `sub` |
//! | `auth.role()` | the caller's role |
//! | `auth.email()` | the token's `email` |
//! | `auth.jwt()->>'claim'`, `auth.jwt()->'app_metadata'->>'team'` | a claim, by path |
//!
//! A reference stands for a whole value (`owner_id=eq.auth.uid()`,
//! `team_id=in.(auth.jwt()->>'team')`); inside `or=(…)` quote it:
//! `or=(public.is.true,owner_id.eq."auth.uid()")`. A rule whose reference
//! the caller cannot fill (`auth.uid()` for an anonymous caller) does not
//! apply to that caller. A reference compared with a field takes the
//! field's type, as a body's value does (`owner_id=eq.auth.uid()` on an
//! `int8` key: the subject's digits are the number); a caller whose value
//! the type cannot take (a subject that is no number) cannot fill it. A
//! write's check compares numbers exactly, never through a float (64-bit
//! keys past 2^53 stay apart). Compared with the text at a JSON path
//! (`meta->>owner=eq.auth.uid()`), a reference is the claim's text (a
//! string as it is, a number or boolean as JSON writes it); a claim that
//! is an object or an array makes an `eq` match no row, and any other
//! comparison not apply. A write's check evaluates such a comparison on
//! the new row where the path holds a string or a boolean (by bytes); a
//! number there is refused as a check that cannot be evaluated.
//!
//! **Closed by default.** For an entity, a caller gets what the rules that
//! name its role and the action grant, or nothing: reads and embeds see no
//! rows, updates and deletes change none, inserts are refused (403). Several
//! rules that apply are alternatives (filters `or`-ed, field lists joined).
//! The `service_role` key and the admin key bypass rules. In **open** mode
//! (development), an entity without any rule is open to everyone.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use serde_json::Value as Json;

use baas_core::access::{Action, FieldSet, Grant};
use baas_core::error::{Error, Result};
use baas_core::ir::{CompareOp, Filter};
use baas_core::metadata::{Entity, FieldType, SchemaMetadata};
use baas_core::value::Value;
use baas_engine::{AccessRequest, Policy, Principal, Resource};
use baas_rest::{ParseLimits, RestError, parse_read};

use crate::principal::{ANON_ROLE, SERVICE_ROLE};

/// Compiled rule sets kept at once (per tenant and metadata version).
const MAX_CACHED_VERSIONS: usize = 1024;

/// A caller reference in a rule.
#[derive(Debug, Clone, PartialEq)]
enum Ref {
    Uid,
    Role,
    Email,
    /// `auth.jwt()` followed by a claim path.
    Jwt(Vec<String>),
}

impl Ref {
    /// Parse a reference; `None` when `s` is a plain value.
    fn parse(s: &str) -> Option<Self> {
        let t: String = s.chars().filter(|c| !c.is_whitespace()).collect();
        match t.as_str() {
            "auth.uid()" => return Some(Self::Uid),
            "auth.role()" => return Some(Self::Role),
            "auth.email()" => return Some(Self::Email),
            _ => {}
        }
        let mut rest = t.strip_prefix("auth.jwt()")?;
        let mut path = Vec::new();
        while !rest.is_empty() {
            rest = rest
                .strip_prefix("->>")
                .or_else(|| rest.strip_prefix("->"))?;
            let end = rest.find("->").unwrap_or(rest.len());
            let seg = rest[..end].trim_matches(|c| c == '\'' || c == '"');
            if seg.is_empty() {
                return None;
            }
            path.push(seg.to_string());
            rest = &rest[end..];
        }
        (!path.is_empty()).then_some(Self::Jwt(path))
    }

    /// The caller's value, `None` when the caller has none.
    fn resolve(&self, p: &Principal) -> Option<Json> {
        let v = match self {
            Self::Uid => Json::String(p.subject.clone()?),
            Self::Role => Json::String(role_of(p).to_string()),
            Self::Email => p.claims.get("email")?.clone(),
            Self::Jwt(path) => {
                let mut cur = p.claims.get(&path[0])?;
                for seg in &path[1..] {
                    cur = match cur {
                        Json::Object(m) => m.get(seg)?,
                        Json::Array(a) => a.get(seg.parse::<usize>().ok()?)?,
                        _ => return None,
                    };
                }
                cur.clone()
            }
        };
        (!v.is_null() && v != Json::String(String::new())).then_some(v)
    }
}

fn role_of(p: &Principal) -> &str {
    p.roles.first().map_or(ANON_ROLE, String::as_str)
}

/// A filter whose caller references are still open.
#[derive(Debug, Clone)]
struct Template {
    filter: Filter,
    has_refs: bool,
}

impl Template {
    fn new(filter: Filter) -> Self {
        let mut has_refs = false;
        visit_values(&filter, &mut |v| {
            if let Value::Text(s) = v
                && Ref::parse(s).is_some()
            {
                has_refs = true;
            }
        });
        Self { filter, has_refs }
    }

    /// The filter for `p` on `entity` (of `schema`), or `None` when `p`
    /// lacks a referenced value ([`bind_refs`]).
    fn bind(&self, p: &Principal, schema: &SchemaMetadata, entity: &Entity) -> Option<Filter> {
        if !self.has_refs {
            return Some(self.filter.clone());
        }
        let mut f = self.filter.clone();
        bind_refs(&mut f, p, schema, Some(entity), false).then_some(f)
    }
}

/// A reference's value for a field.
enum Fill {
    /// Not a reference.
    Plain,
    /// The caller's value, typed.
    Value(Value),
    /// The caller has none.
    Missing,
    /// The caller has one the field's type cannot take (a subject that is
    /// no number, for an `int8` key): no row holds it.
    Untyped,
}

/// `v`'s reference filled for `p`, typed as `field` of `entity` takes a
/// body's value: numbers from their text (`auth.uid()`'s `"42"`), exactly;
/// other types as the caller gives them (the validator converts them).
fn fill(v: &Value, p: &Principal, entity: Option<&Entity>, field: &str) -> Fill {
    let Value::Text(s) = v else {
        return Fill::Plain;
    };
    let Some(r) = Ref::parse(s) else {
        return Fill::Plain;
    };
    let Some(j) = r.resolve(p) else {
        return Fill::Missing;
    };
    let v = Value::from_json(&j);
    match entity.and_then(|e| e.field(field).ok()).map(|f| &f.ty) {
        Some(
            ty @ (FieldType::Int16
            | FieldType::Int32
            | FieldType::Int64
            | FieldType::Float32
            | FieldType::Float64),
        ) => v.coerce_body(ty).map_or(Fill::Untyped, Fill::Value),
        _ => Fill::Value(v),
    }
}

/// Fill `f`'s references for `p`, each typed by the field it is compared
/// with (`entity`'s; inside an `exists`, the related entity's): `false`
/// when `p` lacks one, so that the rule is not for `p`. A value the
/// field's type cannot take makes an `eq` (an `in` element) match no row,
/// so that the other branches of an `or` still hold
/// (`or=(public.is.true,owner_id.eq."auth.uid()")`); under a `not`, or
/// with another operator, it is one `p` lacks.
fn bind_refs(
    f: &mut Filter,
    p: &Principal,
    schema: &SchemaMetadata,
    entity: Option<&Entity>,
    negated: bool,
) -> bool {
    match f {
        Filter::And { filters } | Filter::Or { filters } => filters
            .iter_mut()
            .all(|x| bind_refs(x, p, schema, entity, negated)),
        Filter::Not { filter } => bind_refs(filter, p, schema, entity, !negated),
        Filter::Compare { field, op, value } => match fill(value, p, entity, field) {
            Fill::Plain => true,
            Fill::Value(v) => {
                *value = v;
                true
            }
            Fill::Missing => false,
            Fill::Untyped if !negated && *op == CompareOp::Eq => {
                *f = Filter::or(Vec::new());
                true
            }
            Fill::Untyped => false,
        },
        Filter::In { field, values } => {
            let mut kept = Vec::with_capacity(values.len());
            for v in values.drain(..) {
                match fill(&v, p, entity, field) {
                    Fill::Plain => kept.push(v),
                    Fill::Value(t) => kept.push(t),
                    Fill::Missing => return false,
                    Fill::Untyped if !negated => {}
                    Fill::Untyped => return false,
                }
            }
            *values = kept;
            true
        }
        // The text at a JSON path (`data->>owner=eq.auth.uid()`): the
        // caller's value as `->>` would write it. A claim that is an object
        // or an array is no scalar's text: an `eq` of it matches no row (as
        // `Compare`'s untyped value), otherwise the caller lacks it.
        Filter::JsonText { value, op, .. } => match Ref::parse(value).map(|r| r.resolve(p)) {
            None => true,
            Some(Some(Json::String(s))) => {
                *value = s;
                true
            }
            Some(Some(j @ (Json::Number(_) | Json::Bool(_)))) => {
                *value = j.to_string();
                true
            }
            Some(None) => false,
            Some(Some(_)) if !negated && *op == CompareOp::Eq => {
                *f = Filter::or(Vec::new());
                true
            }
            Some(Some(_)) => false,
        },
        Filter::Exists {
            relation,
            filter: Some(inner),
            ..
        } => {
            let related = entity
                .and_then(|e| e.relation(relation).ok())
                .and_then(|r| schema.entity(&r.target).ok());
            bind_refs(inner, p, schema, related, negated)
        }
        _ => true,
    }
}

fn visit_values(f: &Filter, g: &mut impl FnMut(&Value)) {
    match f {
        Filter::And { filters } | Filter::Or { filters } => {
            filters.iter().for_each(|x| visit_values(x, g));
        }
        Filter::Not { filter } => visit_values(filter, g),
        Filter::Compare { value, .. } => g(value),
        Filter::In { values, .. } => values.iter().for_each(g),
        Filter::JsonText { value, .. } => g(&Value::Text(value.clone())),
        Filter::Exists {
            filter: Some(inner),
            ..
        } => visit_values(inner, g),
        _ => {}
    }
}

/// One rule, parsed.
#[derive(Debug, Clone)]
struct Compiled {
    name: String,
    actions: Vec<Action>,
    roles: Vec<String>,
    filter: Option<Template>,
    check: Option<Template>,
    read: Option<Vec<String>>,
    write: Option<Vec<String>>,
    presets: Vec<(String, Json)>,
}

/// The rules of one metadata version, by entity.
#[derive(Debug, Default)]
struct RuleSet {
    by_entity: HashMap<String, Vec<Compiled>>,
    /// The roles each function's `execute` rules name.
    executors: HashMap<String, Vec<String>>,
}

fn rule_error(i: usize, what: &str, e: &RestError) -> Error {
    let hint = e
        .hint
        .as_deref()
        .map(|h| format!(" ({h})"))
        .unwrap_or_default();
    Error::validation(
        format!("/rules/{i}/{what}"),
        format!("the rule's {what} does not parse: {}{hint}", e.message),
    )
}

/// A reference compared with the JSON value after `->`
/// (`meta->owner=eq."auth.uid()"`): no caller value is a JSON document
/// there (PostgreSQL: `jsonb = uuid` has no operator), and filling one in
/// would guess its JSON type. `->>` compares the caller's value with the
/// text at the path.
fn reference_after_arrow(f: &Filter) -> bool {
    match f {
        Filter::And { filters } | Filter::Or { filters } => {
            filters.iter().any(reference_after_arrow)
        }
        Filter::Not { filter } => reference_after_arrow(filter),
        Filter::JsonPath {
            value: Json::String(s),
            ..
        } => Ref::parse(s).is_some(),
        Filter::Exists {
            filter: Some(inner),
            ..
        } => reference_after_arrow(inner),
        _ => false,
    }
}

fn parse_filter(
    schema: &SchemaMetadata,
    entity: &Entity,
    text: &str,
    limits: &ParseLimits,
    i: usize,
    what: &str,
) -> Result<Template> {
    let read =
        parse_read(schema, entity, text, &[], limits).map_err(|e| rule_error(i, what, &e))?;
    let q = read.query;
    let keys = text.split('&').map(|kv| kv.split('=').next().unwrap_or(""));
    if keys
        .into_iter()
        .any(|k| matches!(k, "order" | "limit" | "offset" | "columns" | "on_conflict"))
    {
        return Err(Error::validation(
            format!("/rules/{i}/{what}"),
            "a rule's filter holds conditions only (no order, limit or offset)",
        ));
    }
    let Some(filter) = q.filter else {
        return Err(Error::validation(
            format!("/rules/{i}/{what}"),
            "the rule's filter is empty: leave it out to cover every row",
        ));
    };
    if reference_after_arrow(&filter) {
        return Err(Error::validation(
            format!("/rules/{i}/{what}"),
            "a reference compares with the text at a JSON path: use ->> (meta->>owner=eq.auth.uid())",
        ));
    }
    let names = filter.fields();
    if let Some(bad) = names.iter().find(|n| entity.field(n).is_err()) {
        return Err(Error::validation(
            format!("/rules/{i}/{what}"),
            format!("`{bad}` is not a field of `{}`", entity.name),
        ));
    }
    Ok(Template::new(filter))
}

fn compile(schema: &SchemaMetadata, limits: &ParseLimits) -> Result<RuleSet> {
    let mut set = RuleSet::default();
    for (i, r) in schema.rules.iter().enumerate() {
        if schema.function(&r.entity).is_ok() {
            if r.action.iter().any(|a| *a != Action::Execute)
                || r.filter.is_some()
                || r.check.is_some()
                || r.read.is_some()
                || r.write.is_some()
                || !r.preset.is_empty()
            {
                return Err(Error::validation(
                    format!("/rules/{i}/action"),
                    "a rule on a function has the one action `execute`, and no filter, check, fields or presets",
                ));
            }
            set.executors
                .entry(r.entity.clone())
                .or_default()
                .extend(r.role.iter().cloned());
            continue;
        }
        let entity = schema.entity(&r.entity).map_err(|_| {
            Error::validation(
                format!("/rules/{i}/entity"),
                format!("rule entity `{}` is not an entity", r.entity),
            )
        })?;
        let filter = r
            .filter
            .as_deref()
            .map(|t| parse_filter(schema, entity, t, limits, i, "filter"))
            .transpose()?;
        let check = r
            .check
            .as_deref()
            .map(|t| parse_filter(schema, entity, t, limits, i, "check"))
            .transpose()?;
        if check.is_some()
            && !r
                .action
                .iter()
                .any(|a| matches!(a, Action::Insert | Action::Update))
        {
            return Err(Error::validation(
                format!("/rules/{i}/check"),
                "a check applies to inserts and updates: add one of them to `action`",
            ));
        }
        for (field, v) in &r.preset {
            if let Json::String(s) = v
                && s.starts_with("auth.")
                && Ref::parse(s).is_none()
            {
                return Err(Error::validation(
                    format!("/rules/{i}/preset/{field}"),
                    format!(
                        "`{s}` is not a reference (auth.uid(), auth.role(), auth.email(), auth.jwt()->>'claim')"
                    ),
                ));
            }
        }
        set.by_entity
            .entry(r.entity.clone())
            .or_default()
            .push(Compiled {
                name: r.display_name(),
                actions: r.action.clone(),
                roles: r.role.clone(),
                filter,
                check,
                read: r.read.clone(),
                write: r.write.clone(),
                presets: r
                    .preset
                    .iter()
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect(),
            });
    }
    Ok(set)
}

fn union(acc: &mut Option<Vec<String>>, more: &Option<Vec<String>>, first: bool) {
    match (first, more) {
        (true, m) => *acc = m.clone(),
        (false, None) => *acc = None,
        (false, Some(m)) => {
            if let Some(a) = acc {
                for f in m {
                    if !a.contains(f) {
                        a.push(f.clone());
                    }
                }
            }
        }
    }
}

/// The [`Policy`] of rules: compiled once per tenant and metadata version.
pub struct RulesPolicy {
    open: bool,
    limits: ParseLimits,
    cache: Mutex<HashMap<(String, u64), Arc<RuleSet>>>,
}

impl std::fmt::Debug for RulesPolicy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RulesPolicy")
            .field("open", &self.open)
            .finish_non_exhaustive()
    }
}

impl RulesPolicy {
    /// Closed by default: an entity without rules is reachable only by the
    /// service role and the admin.
    pub fn closed() -> Self {
        Self::new(false)
    }

    /// Development: an entity without rules is open to everyone; entities
    /// with rules follow them.
    pub fn open() -> Self {
        Self::new(true)
    }

    fn new(open: bool) -> Self {
        Self {
            open,
            limits: ParseLimits::default(),
            cache: Mutex::new(HashMap::new()),
        }
    }

    /// Whether entities without rules are open.
    pub fn is_open(&self) -> bool {
        self.open
    }

    fn rules(&self, tenant: &str, version: u64, schema: &SchemaMetadata) -> Result<Arc<RuleSet>> {
        let key = (tenant.to_string(), version);
        if let Some(s) = self
            .cache
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&key)
        {
            return Ok(s.clone());
        }
        // Stored metadata was checked when stored; a failure here is the
        // server's (5xx), not the caller's.
        let set = Arc::new(compile(schema, &self.limits).map_err(|e| Error::Backend {
            message: format!("the stored rules of tenant `{tenant}` do not compile: {e}"),
            source: None,
        })?);
        let mut cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        if cache.len() >= MAX_CACHED_VERSIONS {
            cache.clear();
        }
        cache.insert(key, set.clone());
        Ok(set)
    }

    /// The grant of `p` for `action` on `entity` under `set`.
    fn grant_for(
        &self,
        set: &RuleSet,
        schema: &SchemaMetadata,
        entity: &Entity,
        action: Action,
        p: &Principal,
    ) -> Result<Grant> {
        let role = role_of(p);
        let Some(rules) = set.by_entity.get(&entity.name) else {
            return if self.open {
                Ok(Grant::all())
            } else {
                nothing(entity, action, role, None)
            };
        };
        let mut applicable = 0usize;
        let mut filters: Option<Vec<Filter>> = Some(Vec::new());
        let mut checks: Option<Vec<Filter>> = Some(Vec::new());
        let mut read = None;
        let mut write = None;
        let mut presets = serde_json::Map::new();
        let mut names = Vec::new();
        'rules: for r in rules {
            if !r.actions.contains(&action) || !r.roles.iter().any(|x| x == role) {
                continue;
            }
            // Bind everything first: a reference the caller cannot fill
            // means the rule is not for them.
            let filter = match &r.filter {
                None => None,
                Some(t) => match t.bind(p, schema, entity) {
                    Some(f) => Some(f),
                    None => continue 'rules,
                },
            };
            // A check defaults to the filter, as SQL's WITH CHECK does.
            let check = match (&r.check, &r.filter, action) {
                (_, _, Action::Read | Action::Delete) => None,
                (Some(t), _, _) | (None, Some(t), _) => match t.bind(p, schema, entity) {
                    Some(f) => Some(f),
                    None => continue 'rules,
                },
                (None, None, _) => None,
            };
            let mut bound = Vec::new();
            for (k, v) in &r.presets {
                let value = match v {
                    Json::String(s) => match Ref::parse(s) {
                        Some(reference) => match reference.resolve(p) {
                            Some(j) => j,
                            None => continue 'rules,
                        },
                        None => v.clone(),
                    },
                    _ => v.clone(),
                };
                bound.push((k.clone(), value));
            }
            let first = applicable == 0;
            applicable += 1;
            names.push(r.name.clone());
            match (filter, &mut filters) {
                (None, _) => filters = None,
                (Some(f), Some(fs)) => fs.push(f),
                (Some(_), None) => {}
            }
            match (check, &mut checks) {
                (None, _) => checks = None,
                (Some(f), Some(cs)) => cs.push(f),
                (Some(_), None) => {}
            }
            union(&mut read, &r.read, first);
            let mut w = r.write.clone();
            if let Some(w) = &mut w {
                w.extend(bound.iter().map(|(k, _)| k.clone()));
            }
            union(&mut write, &w, first);
            for (k, v) in bound {
                presets.entry(k).or_insert(v);
            }
        }
        if applicable == 0 {
            return nothing(entity, action, role, Some(rules));
        }
        let mut g = Grant::all();
        if action != Action::Insert
            && let Some(fs) = filters
        {
            g = g.rows(one_of(fs));
        }
        if matches!(action, Action::Insert | Action::Update)
            && let Some(cs) = checks
        {
            g = g.check(one_of(cs));
        }
        if let Some(r) = read {
            g.read = FieldSet::Only(r);
        }
        if let Some(w) = write {
            g.write = FieldSet::Only(w);
        }
        g.presets = presets;
        Ok(g.named(names.join(" | ")))
    }
}

fn one_of(mut fs: Vec<Filter>) -> Filter {
    if fs.len() == 1 {
        fs.pop().unwrap_or_else(|| Filter::and(Vec::new()))
    } else {
        Filter::or(fs)
    }
}

/// What a caller no rule covers gets: no rows (reads, updates, deletes),
/// or a refusal (inserts).
fn nothing(
    entity: &Entity,
    action: Action,
    role: &str,
    rules: Option<&Vec<Compiled>>,
) -> Result<Grant> {
    if action == Action::Insert {
        let why = match rules {
            None => format!(
                "`{}` has no rules: only the service role may write it",
                entity.name
            ),
            Some(_) => format!("no rule lets role `{role}` insert into `{}`", entity.name),
        };
        return Err(Error::Forbidden(why));
    }
    Ok(Grant::all().rows(Filter::or(Vec::new())))
}

#[async_trait]
impl Policy for RulesPolicy {
    async fn grant(&self, request: &AccessRequest<'_>) -> Result<Grant> {
        let p = request.principal;
        if p.has_role(SERVICE_ROLE) || p.has_role(baas_rest::ADMIN_ROLE) {
            return Ok(Grant::all());
        }
        match request.resource {
            Resource::Entity(entity) => {
                if request.schema.rules.is_empty() && self.open {
                    return Ok(Grant::all());
                }
                let set = self.rules(request.tenant, request.version, request.schema)?;
                self.grant_for(&set, request.schema, entity, request.action, p)
            }
            Resource::Function(f) => {
                if request.schema.rules.is_empty() && self.open {
                    return Ok(Grant::all());
                }
                let set = self.rules(request.tenant, request.version, request.schema)?;
                let role = role_of(p);
                match set.executors.get(&f.name) {
                    Some(roles) if roles.iter().any(|r| r == role) => Ok(Grant::all()),
                    None if self.open => Ok(Grant::all()),
                    _ => Err(Error::Forbidden(format!(
                        "no rule lets role `{role}` execute `{}`",
                        f.name
                    ))),
                }
            }
            _ => Err(Error::Forbidden("no rule covers this resource".into())),
        }
    }

    fn check_schema(&self, schema: &SchemaMetadata) -> Result<()> {
        compile(schema, &self.limits).map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use baas_core::metadata::Field;
    use serde_json::json;

    fn schema(rules: serde_json::Value) -> SchemaMetadata {
        let note = Entity::new(
            "note",
            vec![
                Field::new("id", FieldType::Int64),
                Field::new("owner_id", FieldType::Text),
                Field::new("body", FieldType::Text),
                Field::new("public", FieldType::Boolean),
                Field::new("meta", FieldType::Json),
            ],
        )
        .with_primary_key(["id"]);
        let mut s = SchemaMetadata::new(vec![note]);
        s.rules = serde_json::from_value(rules).unwrap();
        s
    }

    fn user(sub: &str) -> Principal {
        let mut p = Principal::new(sub, ["authenticated".to_string()]);
        p.claims.insert("sub".into(), json!(sub));
        p.claims
            .insert("app_metadata".into(), json!({"team": "t1"}));
        p
    }

    fn grant(s: &SchemaMetadata, p: &Principal, action: Action) -> Result<Grant> {
        let policy = RulesPolicy::closed();
        let set = compile(s, &ParseLimits::default())?;
        policy.grant_for(&set, s, s.entity("note")?, action, p)
    }

    #[test]
    fn references_parse() {
        assert_eq!(Ref::parse("auth.uid()"), Some(Ref::Uid));
        assert_eq!(Ref::parse(" auth.role( ) "), Some(Ref::Role));
        assert_eq!(
            Ref::parse("auth.jwt()->'app_metadata'->>'team'"),
            Some(Ref::Jwt(vec!["app_metadata".into(), "team".into()]))
        );
        assert_eq!(Ref::parse("auth.jwt()"), None);
        assert_eq!(Ref::parse("auth.uid"), None);
        assert_eq!(Ref::parse("hello"), None);
    }

    #[test]
    fn owner_rules_bind_the_caller() {
        let s = schema(json!([{
            "entity": "note", "name": "own notes",
            "action": ["read", "insert", "update", "delete"], "role": ["authenticated"],
            "filter": "owner_id=eq.auth.uid()", "preset": {"owner_id": "auth.uid()"},
            "write": ["body"]
        }]));
        let g = grant(&s, &user("u1"), Action::Read).unwrap();
        assert_eq!(g.filter, Some(Filter::cmp("owner_id", CompareOp::Eq, "u1")));
        let g = grant(&s, &user("u1"), Action::Insert).unwrap();
        assert_eq!(g.filter, None);
        assert_eq!(g.check, Some(Filter::cmp("owner_id", CompareOp::Eq, "u1")));
        assert_eq!(g.presets["owner_id"], json!("u1"));
        assert_eq!(
            g.write,
            FieldSet::Only(vec!["body".into(), "owner_id".into()])
        );
        assert_eq!(g.rule.as_deref(), Some("own notes"));
        // Anonymous: the rule names another role; reads see nothing,
        // inserts are refused.
        let anon = Principal::anonymous();
        let g = grant(&s, &anon, Action::Read).unwrap();
        assert_eq!(g.filter, Some(Filter::or(Vec::new())));
        assert!(matches!(
            grant(&s, &anon, Action::Insert),
            Err(Error::Forbidden(_))
        ));
        // An authenticated caller without a subject cannot fill auth.uid().
        let nosub = Principal {
            roles: vec!["authenticated".into()],
            ..Principal::default()
        };
        assert_eq!(
            grant(&s, &nosub, Action::Update).unwrap().filter,
            Some(Filter::or(Vec::new()))
        );
    }

    #[test]
    fn references_fill_the_text_at_a_json_path() {
        // `->>` compares texts: the caller's value as its text, a claim
        // that is a number too; one the caller lacks leaves the rule out.
        let s = schema(json!([{
            "entity": "note", "action": ["read"], "role": ["authenticated"],
            "filter": "or=(meta->>owner.eq.\"auth.uid()\",meta->>team.eq.\"auth.jwt()->'app_metadata'->>'level'\")"
        }]));
        let text = |path: &str, value: &str| Filter::JsonText {
            field: "meta".into(),
            path: vec![path.into()],
            op: CompareOp::Eq,
            value: value.into(),
        };
        let mut p = user("u1");
        p.claims.insert("app_metadata".into(), json!({"level": 3}));
        assert_eq!(
            grant(&s, &p, Action::Read).unwrap().filter,
            Some(Filter::or(vec![text("owner", "u1"), text("team", "3")]))
        );
        // No `level` claim: the rule cannot be filled, so nothing is read.
        assert_eq!(
            grant(&s, &user("u1"), Action::Read).unwrap().filter,
            Some(Filter::or(Vec::new()))
        );
        // A boolean and a float as their texts; a claim that looks like an
        // operator or a field path is a plain text (bound, or a MongoDB
        // `$literal`).
        for (claim, want) in [
            (json!(true), "true"),
            (json!(2.5), "2.5"),
            (json!("$$jt"), "$$jt"),
            (json!("$meta.owner"), "$meta.owner"),
        ] {
            let mut p = user("u1");
            p.claims
                .insert("app_metadata".into(), json!({"level": claim}));
            assert_eq!(
                grant(&s, &p, Action::Read).unwrap().filter,
                Some(Filter::or(vec![text("owner", "u1"), text("team", want)]))
            );
        }
        // An object or an array is no text: its `eq` matches no row, the
        // other branch of the `or` still holds; negated, the rule is not
        // for the caller.
        let mut p = user("u1");
        p.claims
            .insert("app_metadata".into(), json!({"level": ["a"]}));
        assert_eq!(
            grant(&s, &p, Action::Read).unwrap().filter,
            Some(Filter::or(vec![
                text("owner", "u1"),
                Filter::or(Vec::new())
            ]))
        );
        let negated = schema(json!([{
            "entity": "note", "action": ["read"], "role": ["authenticated"],
            "filter": "meta->>team=not.eq.auth.jwt()->'app_metadata'->>'level'"
        }]));
        assert_eq!(
            grant(&negated, &p, Action::Read).unwrap().filter,
            Some(Filter::or(Vec::new()))
        );
    }

    #[test]
    fn references_take_the_compared_fields_type() {
        // `id` is an int8: the subject's text is a number there, and a
        // subject that is no number fills nothing (the rule is not for
        // that caller), never a value the field cannot hold.
        let s = schema(json!([{
            "entity": "note", "action": ["read", "insert"], "role": ["authenticated"],
            "filter": "id=eq.auth.uid()", "check": "or=(id.eq.\"auth.uid()\",id.lt.0)"
        }]));
        let g = grant(&s, &user("9007199254740993"), Action::Read).unwrap();
        assert_eq!(
            g.filter,
            Some(Filter::cmp(
                "id",
                CompareOp::Eq,
                Value::Int(9007199254740993)
            ))
        );
        let g = grant(&s, &user("42"), Action::Insert).unwrap();
        assert_eq!(
            g.check,
            Some(Filter::or(vec![
                Filter::cmp("id", CompareOp::Eq, Value::Int(42)),
                Filter::cmp("id", CompareOp::Lt, Value::Int(0)),
            ]))
        );
        let g = grant(&s, &user("alice"), Action::Read).unwrap();
        assert_eq!(g.filter, Some(Filter::or(Vec::new())));
        // Another branch of an `or` still holds for that caller; under a
        // `not`, the rule is not for them.
        let s = schema(json!([
            {"entity": "note", "action": ["read"], "role": ["authenticated"],
             "filter": "or=(public.is.true,id.eq.\"auth.uid()\")"},
            {"entity": "note", "action": ["read"], "role": ["authenticated"],
             "filter": "id=not.eq.auth.uid()"}
        ]));
        let g = grant(&s, &user("alice"), Action::Read).unwrap();
        assert_eq!(
            g.filter,
            Some(Filter::or(vec![
                Filter::is("public", baas_core::ir::IsValue::True),
                Filter::or(Vec::new()),
            ]))
        );
    }

    #[test]
    fn alternatives_and_claims() {
        let s = schema(json!([
            {"entity": "note", "action": ["read"], "role": ["anon", "authenticated"], "filter": "public=is.true", "read": ["id", "body"]},
            {"entity": "note", "action": ["read"], "role": ["authenticated"], "filter": "owner_id=eq.auth.jwt()->'app_metadata'->>'team'"}
        ]));
        let g = grant(&s, &user("u1"), Action::Read).unwrap();
        assert_eq!(
            g.filter,
            Some(Filter::or(vec![
                Filter::is("public", baas_core::ir::IsValue::True),
                Filter::cmp("owner_id", CompareOp::Eq, "t1"),
            ]))
        );
        assert!(g.read.is_all(), "the second rule reads every field");
        let g = grant(&s, &Principal::anonymous(), Action::Read).unwrap();
        assert_eq!(g.read, FieldSet::Only(vec!["id".into(), "body".into()]));
    }

    #[test]
    fn bad_rules_are_refused_with_a_pointer() {
        let policy = RulesPolicy::closed();
        for (rules, pointer) in [
            (
                json!([{"entity": "note", "action": ["read"], "role": ["anon"], "filter": "nope=eq.1"}]),
                "/rules/0/filter",
            ),
            (
                json!([{"entity": "note", "action": ["read"], "role": ["anon"], "filter": "id=zz.1"}]),
                "/rules/0/filter",
            ),
            (
                json!([{"entity": "note", "action": ["read"], "role": ["anon"], "filter": "order=id"}]),
                "/rules/0/filter",
            ),
            (
                json!([{"entity": "note", "action": ["read"], "role": ["anon"], "check": "id=eq.1"}]),
                "/rules/0/check",
            ),
            (
                json!([{"entity": "note", "action": ["insert"], "role": ["anon"], "preset": {"owner_id": "auth.nope()"}}]),
                "/rules/0/preset/owner_id",
            ),
            // After `->` a JSON operand: a bare word is none (with the
            // hint to quote it or compare texts), a reference compares
            // with the text `->>` gives.
            (
                json!([{"entity": "note", "action": ["read"], "role": ["anon"], "filter": "meta->status=eq.active"}]),
                "compares texts",
            ),
            (
                json!([{"entity": "note", "action": ["read"], "role": ["anon"], "filter": "meta->owner=eq.auth.uid()"}]),
                "/rules/0/filter",
            ),
            (
                json!([{"entity": "note", "action": ["read"], "role": ["anon"], "filter": "or=(id.eq.1,meta->owner.eq.\"\\\"auth.uid()\\\"\")"}]),
                "use ->>",
            ),
        ] {
            let e = policy.check_schema(&schema(rules)).unwrap_err();
            assert!(format!("{e:?}").contains(pointer), "{e:?}");
        }
    }

    /// A check with `->` compares JSON values as `jsonb` on the row an
    /// insert writes (strings by bytes), across types by type.
    #[test]
    fn checks_compare_json_values_as_jsonb() {
        let s = schema(json!([{
            "entity": "note", "action": ["insert"], "role": ["authenticated"],
            "check": "meta->level=gt.3"
        }]));
        let g = grant(&s, &user("u1"), Action::Insert).unwrap();
        let check = g.check.expect("a check");
        for (meta, want) in [
            (json!({"level": 4}), baas_core::eval::Eval::True),
            (json!({"level": 3.0}), baas_core::eval::Eval::False),
            (json!({"level": true}), baas_core::eval::Eval::True),
            (json!({"level": "9"}), baas_core::eval::Eval::False),
            (json!({}), baas_core::eval::Eval::Unknown),
        ] {
            let row = json!({"id": 1, "meta": meta});
            let row = row.as_object().unwrap();
            assert_eq!(baas_core::eval::eval(&check, row), want, "{row:?}");
        }
    }
}
