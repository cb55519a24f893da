//! Validation of IR against metadata, engine capabilities, limits and the
//! caller's grants — once per request, before any translation.
//!
//! The [`Validator`] takes a request by value and returns it as a
//! [`Checked`] proof, which only this module can construct: adapters
//! execute `Checked` requests and never validate again. In the same walk
//! it applies the caller's grants ([`Validator::with_access`], see
//! [`crate::access`]) and converts every value once into its field's type:
//! filter operands and cursor values in place, written values into
//! [`TypedRecord`]s that the lowering binds as they are.
//!
//! Every problem is reported with a JSON pointer into the IR value as
//! serialised (e.g. `/filter/filters/0/value`); all problems are collected,
//! not just the first. A field the caller may not read or write is a
//! [`Error::Forbidden`] instead.

use std::collections::BTreeSet;

use crate::access::{Access, Action, FieldSet, Grant};
use crate::adapter::{Capabilities, Target};
use crate::error::{Error, Result, Violation};
use crate::ir::{
    Aggregate, AggregateFn, ArrayOp, CompareOp, Delete, Embed, Filter, GroupValue, Insert, IsValue,
    OnConflict, OrderBy, Query, Record, Selection, Update,
};
use crate::metadata::{Entity, Field, FieldType, Generated, RelationKind, SchemaMetadata};
use crate::value::Value;

/// Hard limits applied to every request, owned by the engine
/// (`EngineConfig::limits`) and passed down: the REST parser bounds its own
/// recursion with them, the validator refuses what goes beyond them, and
/// embedding chunks its key lists under `max_in_list`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Maximum nesting of `and`/`or`/`not`/`exists`.
    pub max_filter_depth: usize,
    /// Maximum number of candidates in one `in` list (also the most keys
    /// one batched embed query sends).
    pub max_in_list: usize,
    /// Maximum rows in one insert.
    pub max_insert_rows: usize,
    /// Maximum embedding depth, the root included (each level is one
    /// more statement; the row budget bounds the rows of all of them).
    pub max_embed_depth: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_filter_depth: 16,
            max_in_list: 1000,
            max_insert_rows: 1000,
            max_embed_depth: 8,
        }
    }
}

/// Whether a database type is one of PostgreSQL's range (or multirange)
/// types: `int4range`, `tstzrange`, `nummultirange`…
pub fn is_range_type(db_type: &str) -> bool {
    let t = db_type.to_ascii_lowercase();
    t.ends_with("range") && !t.contains(['[', ' '])
}

/// A written row, converted once into its fields' types: the fields in the
/// order the row gave them, each with its value for that field
/// ([`Value::coerce_body`]).
pub type TypedRecord<'a> = Vec<(&'a Field, Value)>;

/// A request the [`Validator`] accepted for one entity of one metadata
/// version on one engine, with the caller's grants applied. Only this
/// module constructs it (and [`crate::read`], which derives the batched
/// queries of embeds from a checked read), so holding one proves the
/// request was checked.
///
/// It dereferences to the request.
#[derive(Debug, Clone)]
pub struct Checked<'a, T> {
    target: Target<'a>,
    value: T,
    typed: Vec<TypedRecord<'a>>,
    /// Most keys one batched embed query may send ([`Limits::max_in_list`]).
    key_chunk: usize,
    /// The caller's time zone (not UTC), for what the read orchestration
    /// derives ([`Aggregate::zone`] of an embedding's groups).
    zone: Option<crate::zone::Zone>,
}

impl<'a, T> Checked<'a, T> {
    /// Crate-private: the proof is made by validation only.
    fn new(target: Target<'a>, value: T, limits: &Limits, zone: Option<crate::zone::Zone>) -> Self {
        Self {
            target,
            value,
            typed: Vec::new(),
            key_chunk: limits.max_in_list.max(1),
            zone,
        }
    }

    /// A query derived from this checked request by the read orchestration
    /// ([`crate::read`]): the flat part of a read, or the batched query of
    /// an embed, built only from checked parts and known relation fields.
    pub(crate) fn derive<U>(&self, target: Target<'a>, value: U) -> Checked<'a, U> {
        Checked {
            target,
            value,
            typed: Vec::new(),
            key_chunk: self.key_chunk,
            zone: self.zone,
        }
    }

    /// Most keys one batched query of the read orchestration may send.
    pub(crate) fn key_chunk(&self) -> usize {
        self.key_chunk
    }

    /// The caller's time zone, `None` for UTC ([`Validator::in_zone`]).
    pub(crate) fn zone(&self) -> Option<crate::zone::Zone> {
        self.zone
    }

    /// The entity addressed, with its schema.
    pub fn target(&self) -> Target<'a> {
        self.target
    }

    /// The entity addressed.
    pub fn entity(&self) -> &'a Entity {
        self.target.entity
    }

    /// The schema the request was checked against.
    pub fn schema(&self) -> &'a SchemaMetadata {
        self.target.schema
    }

    /// The request.
    pub fn get(&self) -> &T {
        &self.value
    }

    /// The request, giving up the proof.
    pub fn into_inner(self) -> T {
        self.value
    }
}

impl<T> std::ops::Deref for Checked<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.value
    }
}

impl<'a> Checked<'a, Insert> {
    /// The rows, converted into their fields' types (one per `rows` entry).
    pub fn typed_rows(&self) -> &[TypedRecord<'a>] {
        &self.typed
    }
}

impl<'a> Checked<'a, Update> {
    /// The new values, converted into their fields' types.
    pub fn typed_set(&self) -> &[(&'a Field, Value)] {
        self.typed.first().map_or(&[], Vec::as_slice)
    }
}

/// A checked write, borrowed (for rolled-back writes).
#[derive(Debug, Clone, Copy)]
pub enum CheckedWrite<'c, 'a> {
    /// Insert / upsert.
    Insert(&'c Checked<'a, Insert>),
    /// Update by filter.
    Update(&'c Checked<'a, Update>),
    /// Delete by filter.
    Delete(&'c Checked<'a, Delete>),
}

/// Checks IR for one target entity.
#[derive(Clone, Copy)]
pub struct Validator<'a> {
    target: Target<'a>,
    caps: &'a Capabilities,
    limits: &'a Limits,
    access: Option<&'a dyn Access>,
    zone: Option<crate::zone::Zone>,
}

impl std::fmt::Debug for Validator<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Validator")
            .field("entity", &self.target.entity.name)
            .field("engine", &self.caps.engine)
            .field("limits", &self.limits)
            .field("access", &self.access.is_some())
            .field("zone", &self.zone)
            .finish()
    }
}

struct Acc(Vec<Violation>);

impl Acc {
    fn push(&mut self, at: &str, msg: impl Into<String>) {
        self.0.push(Violation::new(at, msg));
    }
    fn add(&mut self, v: Violation) {
        self.0.push(v);
    }
    fn finish(self) -> Result<()> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(Error::Validation { violations: self.0 })
        }
    }
}

/// Whose filter is being checked: the caller's (fields must be readable,
/// grants apply to every `exists`), or a grant's own (trusted as given).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Origin {
    Caller,
    Grant,
}

fn forbidden_field(entity: &Entity, field: &str, what: &str) -> Error {
    Error::Forbidden(format!(
        "field `{field}` of `{}` may not be {what} by this caller",
        entity.name
    ))
}

fn and_opt(a: Option<Filter>, b: Option<Filter>) -> Option<Filter> {
    match (a, b) {
        (None, x) | (x, None) => x,
        (Some(a), Some(b)) => Some(Filter::and(vec![a, b])),
    }
}

/// `v`, given by a caller in `zone` (UTC when `None`), as a value of type
/// `ty`: read in the zone ([`Value::in_zone`]), then converted
/// ([`Value::coerce`], with `write` a written value's
/// [`Value::coerce_body`]), or, refused so, kept as the text the engine
/// stores as one ([`Capabilities::holds_text`]: PostgreSQL's `infinity`,
/// MySQL's `2020-00-15`).
pub(crate) fn typed_input(
    v: &Value,
    ty: &FieldType,
    caps: &Capabilities,
    zone: Option<crate::zone::Zone>,
    write: bool,
) -> std::result::Result<Value, String> {
    let zoned = match zone {
        Some(z) => v.in_zone(ty, z)?,
        None => None,
    };
    let v = zoned.as_ref().unwrap_or(v);
    let typed = if write {
        v.coerce_body(ty)
    } else {
        v.coerce(ty)
    };
    match typed {
        Err(_) if caps.holds_text(ty, v) => Ok(v.clone()),
        other => other,
    }
}

impl<'a> Validator<'a> {
    /// A validator for `target` on an engine with `caps`, every grant
    /// unrestricted.
    pub fn new(target: Target<'a>, caps: &'a Capabilities, limits: &'a Limits) -> Self {
        Self {
            target,
            caps,
            limits,
            access: None,
            zone: None,
        }
    }

    /// Read values as a caller in `zone` means them
    /// ([`Value::in_zone`]: a `timestamptz` without an offset is a local
    /// time there); UTC when `None`.
    pub fn in_zone(mut self, zone: Option<crate::zone::Zone>) -> Self {
        self.zone = zone.filter(|z| !z.is_utc());
        self
    }

    /// Apply `access` to everything the request touches (see
    /// [`crate::access`]).
    pub fn with_access(mut self, access: &'a dyn Access) -> Self {
        self.access = Some(access);
        self
    }

    fn entity(&self) -> &'a Entity {
        self.target.entity
    }

    fn schema(&self) -> &'a SchemaMetadata {
        self.target.schema
    }

    fn at(&self, entity: &'a Entity) -> Self {
        Self {
            target: Target {
                schema: self.target.schema,
                entity,
                call: None,
            },
            ..*self
        }
    }

    fn grant(&self, action: Action) -> Option<&'a Grant> {
        self.access
            .and_then(|a| a.grant(&self.entity().name, action))
    }

    fn readable(&self) -> Option<&'a FieldSet> {
        self.grant(Action::Read)
            .map(|g| &g.read)
            .filter(|r| !r.is_all())
    }

    /// A value computed from an instant in the caller's zone (a
    /// `timestamptz`'s date, or PostgreSQL's cast to a time or local
    /// timestamp) needs an engine that computes it there
    /// ([`Capabilities::time_zones`]): elsewhere it is refused here,
    /// before anything runs (a write's representation included), never
    /// computed in UTC.
    fn check_zoned(&self, g: &GroupValue, f: &Field) -> Result<()> {
        match self.zone {
            Some(zone) if g.needs_zone(&f.ty) => self.caps.require(
                self.caps.time_zones,
                &format!(
                    "grouping by an instant's date in a time zone other than UTC ({zone}, `Prefer: timezone`)"
                ),
            ),
            _ => Ok(()),
        }
    }

    /// The input of an aggregate of `field` (`f`) at `at`: a value of that
    /// field, which the field's type can give, by a cast this engine
    /// computes ([`GroupValue::Cast`] needs
    /// [`Capabilities::sql_casts`](crate::Capabilities::sql_casts)), in
    /// the caller's zone where it needs one (`check_zoned`).
    fn check_aggregate_input(
        &self,
        g: &GroupValue,
        field: &str,
        f: &Field,
        at: &str,
        acc: &mut Acc,
    ) -> Result<()> {
        self.check_zoned(g, f)?;
        if let GroupValue::Cast { to, .. } = g {
            self.caps.require(
                self.caps.sql_casts,
                &format!("aggregating the database's cast to {to} (the engine converts values PostgreSQL refuses)"),
            )?;
        }
        if g.field() != field {
            acc.push(
                &format!("{at}/input/field"),
                format!("the input is a value of `{field}`, the aggregated field"),
            );
        } else if !g.applies_to(&f.ty) {
            acc.push(
                &format!("{at}/input"),
                format!(
                    "cannot compute this value of `{field}` of type {}",
                    f.ty.name()
                ),
            );
        }
        if let GroupValue::Json { path, .. } = g
            && path.is_empty()
        {
            acc.push(&format!("{at}/input/path"), "a path has at least one step");
        }
        Ok(())
    }

    /// `Forbidden` when the caller may not read `field` here.
    fn check_readable(&self, field: &str, origin: Origin) -> Result<()> {
        if origin == Origin::Caller
            && let Some(r) = self.readable()
            && !r.contains(field)
        {
            return Err(forbidden_field(self.entity(), field, "read"));
        }
        Ok(())
    }

    /// The read grant's row filter for this entity, checked (trusted).
    fn grant_filter(&self, action: Action, acc: &mut Acc) -> Result<Option<Filter>> {
        let Some(f) = self.grant(action).and_then(|g| g.filter.clone()) else {
            return Ok(None);
        };
        let mut f = f;
        let before = acc.0.len();
        self.filter_rec(&mut f, "", acc, Origin::Grant)?;
        if acc.0.len() > before {
            // A grant that does not fit the metadata is the server's fault,
            // not the caller's: never let it pass unchecked.
            let problems: Vec<String> = acc.0.drain(before..).map(|v| v.to_string()).collect();
            return Err(Error::Backend {
                message: format!(
                    "the {} grant on `{}` does not fit the metadata: {}",
                    action.name(),
                    self.entity().name,
                    problems.join("; ")
                ),
                source: None,
            });
        }
        Ok(Some(f))
    }

    // ----------------------------------------------------------------- reads

    /// Check a read; with access, apply the read grants of the root, every
    /// embed and every `exists` target.
    pub fn query(&self, mut q: Query) -> Result<Checked<'a, Query>> {
        let mut acc = Acc(Vec::new());
        self.selection(&mut q.select, "/select", 1, &mut acc)?;
        if let Some(f) = &mut q.filter {
            self.filter_into(f, "/filter", &mut acc)?;
        }
        self.order(&mut q.order, "/order", &mut acc)?;
        if let Some(after) = &mut q.page.after {
            if q.order.is_empty() {
                acc.push("/page/after", "a keyset cursor needs an order");
            } else if after.len() != q.order.len() {
                acc.push(
                    "/page/after",
                    format!(
                        "the cursor has {} values but the order has {} keys",
                        after.len(),
                        q.order.len()
                    ),
                );
            } else {
                if q.page.offset.is_some() {
                    acc.push("/page/offset", "offset and keyset cursor are exclusive");
                }
                if q.order
                    .iter()
                    .any(|o| o.json.is_some() || o.related.is_some())
                {
                    acc.push(
                        "/order",
                        "keyset pagination cannot order by a value inside a JSON field or a related field",
                    );
                }
                // Rows are strictly ordered only when the order ends in a key;
                // otherwise rows tied with the cursor would be skipped.
                let pk = &self.entity().primary_key;
                if pk.is_empty() || !pk.iter().all(|k| q.order.iter().any(|o| &o.field == k)) {
                    acc.push(
                        "/order",
                        format!(
                            "keyset pagination needs the order to include the primary key ({})",
                            if pk.is_empty() {
                                "the entity has none".to_string()
                            } else {
                                pk.join(", ")
                            }
                        ),
                    );
                }
                for (i, (o, v)) in q.order.iter().zip(after.iter_mut()).enumerate() {
                    if let Ok(field) = self.entity().field(&o.field) {
                        if field.nullable {
                            acc.push(
                                &format!("/order/{i}/field"),
                                format!(
                                    "keyset pagination needs non-nullable order fields; `{}` is nullable",
                                    o.field
                                ),
                            );
                        }
                        if v.is_null() {
                            acc.push(
                                &format!("/page/after/{i}"),
                                "a keyset cursor value cannot be null",
                            );
                        }
                        self.coerce_in_place(
                            field,
                            v,
                            &format!("/page/after/{i}"),
                            &mut acc,
                            Origin::Caller,
                        );
                    }
                }
            }
        }
        if let Some(p) = &q.page.partition {
            if p.fields.is_empty() {
                acc.push(
                    "/page/partition/fields",
                    "a partition needs at least one field",
                );
            }
            for (i, f) in p.fields.iter().enumerate() {
                if self.entity().field(f).is_err() {
                    acc.add(Violation::unknown_field(
                        format!("/page/partition/fields/{i}"),
                        &self.entity().name,
                        f,
                    ));
                } else {
                    self.check_readable(f, Origin::Caller)?;
                }
            }
            if q.page.after.is_some() {
                acc.push(
                    "/page/partition",
                    "a partition limit and a keyset cursor are exclusive",
                );
            }
        }
        let row_filter = self.grant_filter(Action::Read, &mut acc)?;
        acc.finish()?;
        q.filter = and_opt(q.filter, row_filter);
        Ok(Checked::new(self.target, q, self.limits, self.zone))
    }

    /// Narrow `fields` to what may be read: every readable field for `*`
    /// (an empty list), `Forbidden` for a named field that may not be.
    fn fields(&self, fields: &mut Vec<String>, at: &str, acc: &mut Acc) -> Result<()> {
        for (i, f) in fields.iter().enumerate() {
            match self.entity().field(f) {
                Err(_) => acc.add(Violation::unknown_field(
                    format!("{at}/{i}"),
                    &self.entity().name,
                    f,
                )),
                Ok(fd) => {
                    self.check_readable(f, Origin::Caller)?;
                    self.check_computed(fd)?;
                }
            }
        }
        if fields.is_empty()
            && let Some(FieldSet::Only(names)) = self.readable()
        {
            // `*`: the readable columns (computed fields are read when named).
            *fields = self
                .entity()
                .star_fields()
                .filter(|f| names.contains(&f.name))
                .map(|f| f.name.clone())
                .collect();
            if fields.is_empty() {
                return Err(Error::Forbidden(format!(
                    "no field of `{}` may be read by this caller",
                    self.entity().name
                )));
            }
        }
        Ok(())
    }

    fn selection(&self, s: &mut Selection, at: &str, depth: usize, acc: &mut Acc) -> Result<()> {
        if depth > self.limits.max_embed_depth {
            acc.push(
                at,
                format!(
                    "embedding is nested deeper than {}",
                    self.limits.max_embed_depth
                ),
            );
            return Ok(());
        }
        if s.aggregates.is_empty() && !s.group_by_values.is_empty() {
            acc.push(
                &format!("{at}/group_by_values"),
                "computed groups apply beside aggregates",
            );
        }
        if !s.aggregates.is_empty() {
            // Checked by `embed`, which knows the relation; `fields` group
            // (empty: no grouping, not every field).
            if depth <= 1 {
                acc.push(
                    &format!("{at}/aggregates"),
                    "aggregates in a selection apply inside a one-to-many embedding; aggregate an entity's own rows with an Aggregate request",
                );
            }
        } else if s.omit_fields {
            if !s.fields.is_empty() {
                acc.push(
                    &format!("{at}/omit_fields"),
                    "a selection that omits its own fields cannot list fields",
                );
            }
        } else {
            self.fields(&mut s.fields, &format!("{at}/fields"), acc)?;
            if std::mem::take(&mut s.star) && !s.fields.is_empty() {
                // Every readable field, then the named ones not among them.
                let named = std::mem::take(&mut s.fields);
                self.fields(&mut s.fields, &format!("{at}/fields"), acc)?;
                if s.fields.is_empty() {
                    s.fields = self
                        .entity()
                        .star_fields()
                        .map(|f| f.name.clone())
                        .collect();
                }
                for n in named {
                    if !s.fields.contains(&n) {
                        s.fields.push(n);
                    }
                }
            }
        }
        if !s.casts.is_empty() {
            self.casts(s, at, acc)?;
        }
        // Below a selection whose rows are grouped (an embedding with
        // aggregates; the root, at depth 1, is a read's rows), a to-one
        // embed with aggregates joins its related row.
        let grouped = depth > 1 && self.aggregated(s);
        for (i, e) in s.embeds.iter_mut().enumerate() {
            self.embed(e, &format!("{at}/embeds/{i}"), depth, grouped, acc)?;
        }
        Ok(())
    }

    /// Whether the rows of a selection of this entity are grouped: it has
    /// aggregates, or a to-one embed of it has ([`Embed::joins`]).
    fn aggregated(&self, s: &Selection) -> bool {
        !s.aggregates.is_empty()
            || s.embeds
                .iter()
                .any(|e| e.joins(self.schema(), self.entity()))
    }

    /// [`Selection::casts`]: an engine that casts, a valid type name, a
    /// field listed once (never `*`: the list is explicit), in no
    /// aggregate and linking no embedding (its key would be text).
    fn casts(&self, s: &Selection, at: &str, acc: &mut Acc) -> Result<()> {
        self.caps.require(
            self.caps.sql_casts,
            "casts in select to types other than int2, int4, int8, numeric, float4, float8, boolean, text, varchar, json, jsonb, date, time, timestamp, timestamptz and uuid",
        )?;
        let links: Vec<&String> = s
            .embeds
            .iter()
            .filter_map(|e| self.entity().relation(&e.relation).ok())
            .flat_map(|r| &r.from_fields)
            .collect();
        for (i, c) in s.casts.iter().enumerate() {
            let cat = format!("{at}/casts/{i}");
            if !crate::ir::FieldCast::valid_type_name(&c.to) {
                acc.push(
                    &format!("{cat}/to"),
                    "a type name is lowercase letters, digits and `_` (at most 63 bytes)",
                );
            }
            if let Some(alias) = &c.alias {
                // Read beside the fields: readable as they are, and
                // answered under a key of its own.
                if self.entity().field(&c.field).is_ok() {
                    self.check_readable(&c.field, Origin::Caller)?;
                }
                if self.entity().field(alias).is_ok()
                    || s.casts[..i].iter().any(|o| o.alias == c.alias)
                    || s.embeds
                        .iter()
                        .any(|e| e.alias.as_ref().unwrap_or(&e.relation) == alias)
                {
                    acc.push(
                        &format!("{cat}/alias"),
                        format!("duplicate output key `{alias}`"),
                    );
                }
            }
            if s.omit_fields
                || !s.aggregates.is_empty()
                || (c.alias.is_none() && !s.fields.contains(&c.field))
            {
                acc.push(
                    &format!("{cat}/field"),
                    format!("`{}` is not a selected field", c.field),
                );
            } else if c.alias.is_none()
                && s.casts[..i]
                    .iter()
                    .any(|o| o.alias.is_none() && o.field == c.field)
            {
                acc.push(
                    &format!("{cat}/field"),
                    format!("`{}` is cast twice", c.field),
                );
            } else if self.entity().field(&c.field).is_err() {
                acc.add(Violation::unknown_field(
                    format!("{cat}/field"),
                    &self.entity().name,
                    &c.field,
                ));
            } else if links.contains(&&c.field) {
                acc.push(
                    &format!("{cat}/field"),
                    format!("`{}` links an embedding: it cannot be cast", c.field),
                );
            } else if !c.path.is_empty()
                && self
                    .entity()
                    .field(&c.field)
                    .is_ok_and(|f| f.ty != FieldType::Json)
            {
                acc.push(
                    &format!("{cat}/path"),
                    format!("`{}` is not a JSON field: it has no path", c.field),
                );
            }
        }
        Ok(())
    }

    fn embed(
        &self,
        e: &mut Embed,
        eat: &str,
        depth: usize,
        grouped: bool,
        acc: &mut Acc,
    ) -> Result<()> {
        let Ok(rel) = self.entity().relation(&e.relation) else {
            acc.push(
                &format!("{eat}/relation"),
                format!(
                    "unknown relation `{}` on `{}`",
                    e.relation,
                    self.entity().name
                ),
            );
            return Ok(());
        };
        let target = self.schema().entity(&rel.target)?;
        let v = self.at(target);
        if rel.function.is_some() {
            self.caps
                .require(self.caps.computed_fields, "computed relationships")?;
            // Its function sees the whole row: under a read grant that lists
            // fields, it is readable only when listed itself.
            self.check_readable(&e.relation, Origin::Caller)?;
        }
        v.selection(&mut e.select, &format!("{eat}/select"), depth + 1, acc)?;
        // The groups of an embedding with aggregates are ordered by their
        // keys (checked with its aggregates), not by the rows' fields.
        let mut ordered_groups = false;
        if grouped && e.joins(self.schema(), self.entity()) {
            v.joined_aggregates(e, eat, acc)?;
        } else if v.aggregated(&e.select) {
            v.embedded_aggregates(e, &rel.kind, eat, acc)?;
            ordered_groups = true;
        }
        if let Some(f) = &mut e.filter {
            v.filter_into(f, &format!("{eat}/filter"), acc)?;
        }
        if !ordered_groups {
            v.order(&mut e.order, &format!("{eat}/order"), acc)?;
        }
        if rel.kind.is_to_one() {
            // At most one row: its order changes nothing (PostgREST takes
            // it, `.order(col, { referencedTable })` on a to-one embed).
            e.order.clear();
            if e.limit.is_some() || e.offset.is_some() {
                acc.push(
                    eat,
                    format!(
                        "`{}` is a to-one relation: limit and offset do not apply",
                        e.relation
                    ),
                );
            }
        }
        let row_filter = v.grant_filter(Action::Read, acc)?;
        e.filter = and_opt(e.filter.take(), row_filter);
        let through = self.through(
            &rel.kind,
            &e.relation,
            e.through.take(),
            &format!("{eat}/through"),
            acc,
        )?;
        e.through = through;
        Ok(())
    }

    /// Check the aggregates of an embedding (`rel(count)`, and of a to-one
    /// one, `artist(count())`: over its one related row or none); only
    /// to-one relations embedded below; its order by a group field or an
    /// aggregate's alias (its page applies per parent); the grouping
    /// fields and the aggregated ones as an [`Aggregate`] on the target
    /// checks them (known, readable, of a type the function applies to).
    fn embedded_aggregates(
        &self,
        e: &Embed,
        kind: &RelationKind,
        eat: &str,
        acc: &mut Acc,
    ) -> Result<()> {
        // Its groups may embed to-one relations (grouped by them), or join
        // them (with aggregates of their own), no more.
        let target = self.entity();
        let mut joined = Vec::new();
        let mut joined_rows = 0;
        for n in &e.select.embeds {
            let to_one = target
                .relation(&n.relation)
                .is_ok_and(|r| r.kind.is_to_one() && r.function.is_none());
            if !to_one {
                return Err(Error::unsupported(
                    self.caps.engine.clone(),
                    format!(
                        "`{}` inside an embedding with aggregates (its groups embed to-one relations only)",
                        n.relation
                    ),
                ));
            }
            if n.joined(
                self.schema(),
                target,
                matches!(kind, RelationKind::ManyToMany { .. }),
            ) {
                // Its keys and those of the embeds joined inside it, each
                // answered apart ([`Aggregate::answer_key`]).
                for (_, m) in Embed::depth_first(std::slice::from_ref(n)) {
                    let via = Some(joined_rows);
                    joined_rows += 1;
                    joined.extend(
                        m.select
                            .fields
                            .iter()
                            .map(String::as_str)
                            .chain(m.select.group_by_values.iter().map(|g| g.key()))
                            .chain(m.select.aggregates.iter().map(|a| a.alias.as_str()))
                            .map(|k| Aggregate::answer_key(via, k)),
                    );
                }
            }
        }
        // Its groups are ordered (by a group field or an aggregate's
        // alias, as beside top-level aggregates) and paged per parent.
        if !e.order.is_empty() && !joined.is_empty() {
            return Err(Error::unsupported(
                self.caps.engine.clone(),
                format!(
                    "ordering the groups of `{}` beside the related rows it joins",
                    e.relation
                ),
            ));
        }
        self.selection_aggregate(e, eat, &joined, &e.order, acc)
    }

    /// Check an embed's selection as an [`Aggregate`] of this validator's
    /// entity (its fields group, beside the keys `joined` of related rows
    /// joined to them), its violations pointed at the selection.
    fn selection_aggregate(
        &self,
        e: &Embed,
        eat: &str,
        joined: &[String],
        order: &[OrderBy],
        acc: &mut Acc,
    ) -> Result<()> {
        let as_aggregate = Aggregate {
            entity: self.entity().name.clone(),
            filter: None,
            group_by: e.select.fields.clone(),
            group_by_values: e.select.group_by_values.clone(),
            aggregates: e.select.aggregates.clone(),
            having: Vec::new(),
            order: order.to_vec(),
            limit: None,
            offset: None,
            via: Vec::new(),
            zone: None,
        };
        match self.aggregate_beside(as_aggregate, joined, false) {
            Ok(_) => {}
            Err(Error::Validation { violations }) => {
                for mut v in violations {
                    v.pointer = if v.pointer.starts_with("/order") {
                        format!("{eat}{}", v.pointer)
                    } else {
                        format!(
                            "{eat}/select{}",
                            if v.pointer.starts_with("/group_by_values") {
                                v.pointer.clone()
                            } else {
                                v.pointer.replace("/group_by", "/fields")
                            }
                        )
                    };
                    acc.add(v);
                }
            }
            Err(e) => return Err(e),
        }
        Ok(())
    }

    /// Check the aggregates of a to-one embed joined to grouped rows
    /// ([`Embed::joins`]; this validator at its target): nothing cast,
    /// only [`Embed::joinable`] embeds below (each checked in turn), no
    /// order or page; its grouping fields and aggregated ones as an
    /// [`Aggregate`] on the target checks them.
    fn joined_aggregates(&self, e: &Embed, eat: &str, acc: &mut Acc) -> Result<()> {
        let joinable = e
            .select
            .embeds
            .iter()
            .all(|n| n.joinable(self.schema(), self.entity()));
        if !joinable || !e.select.casts.is_empty() {
            return Err(Error::unsupported(
                self.caps.engine.clone(),
                format!(
                    "`*`, embeddings of computed or to-many relations or database casts in `{}` beside aggregates",
                    e.relation
                ),
            ));
        }
        if e.select.aggregates.is_empty() {
            // Its aggregates are an embed's inside it, checked there.
            return Ok(());
        }
        self.selection_aggregate(e, eat, &[], &[], acc)
    }

    /// Check the junction condition of a relation (the caller's, if any,
    /// `and` the junction's read grant); only many-to-many relations have
    /// one.
    fn through(
        &self,
        kind: &RelationKind,
        relation: &str,
        given: Option<Filter>,
        at: &str,
        acc: &mut Acc,
    ) -> Result<Option<Filter>> {
        let RelationKind::ManyToMany { through } = kind else {
            if given.is_some() {
                acc.push(
                    at,
                    format!("`{relation}` is not a many-to-many relation: it has no junction"),
                );
            }
            return Ok(None);
        };
        let v = self.at(self.schema().entity(&through.entity)?);
        let mut given = given;
        if let Some(f) = &mut given {
            v.filter_into(f, at, acc)?;
        }
        let row_filter = v.grant_filter(Action::Read, acc)?;
        Ok(and_opt(given, row_filter))
    }

    /// Check order keys; a key through a to-one relation is checked on
    /// the related entity (known, readable) and gets the caller's read
    /// filter on it.
    fn order(&self, order: &mut [OrderBy], at: &str, acc: &mut Acc) -> Result<()> {
        for (i, o) in order.iter_mut().enumerate() {
            let v = match &mut o.related {
                None => self.at(self.entity()),
                Some(r) => {
                    let Ok(rel) = self.entity().relation(&r.relation) else {
                        acc.push(
                            &format!("{at}/{i}/related/relation"),
                            format!(
                                "unknown relation `{}` on `{}`",
                                r.relation,
                                self.entity().name
                            ),
                        );
                        continue;
                    };
                    if !rel.kind.is_to_one() {
                        acc.push(
                            &format!("{at}/{i}/related/relation"),
                            format!(
                                "`{}` is not a to-one relation: only the field of one linked row can order rows",
                                r.relation
                            ),
                        );
                        continue;
                    }
                    if rel.function.is_some() {
                        // A to-one computed relationship: its function of
                        // the row, readable only when listed.
                        self.caps
                            .require(self.caps.computed_fields, "computed relationships")?;
                        self.check_readable(&r.relation, Origin::Caller)?;
                    }
                    let v = self.at(self.schema().entity(&rel.target)?);
                    let mut given = r.filter.take().map(|b| *b);
                    if let Some(f) = &mut given {
                        v.filter_into(f, &format!("{at}/{i}/related/filter"), acc)?;
                    }
                    r.filter = and_opt(given, v.grant_filter(Action::Read, acc)?).map(Box::new);
                    v
                }
            };
            if let Some(j) = &o.json {
                path_length(&j.path, &format!("{at}/{i}/json"), acc);
            }
            match v.entity().field(&o.field) {
                Err(_) => acc.add(Violation::unknown_field(
                    format!("{at}/{i}/field"),
                    &v.entity().name,
                    &o.field,
                )),
                Ok(f) if o.json.is_some() && !f.ty.has_paths() => acc.push(
                    &format!("{at}/{i}/field"),
                    format!(
                        "`{}` is not a JSON field: `->` and `->>` apply to JSON and array fields",
                        o.field
                    ),
                ),
                Ok(f) if o.json.is_none() && !sortable(&f.ty) => acc.push(
                    &format!("{at}/{i}/field"),
                    format!("cannot order by `{}` of type {}", o.field, f.ty.name()),
                ),
                Ok(f) => {
                    v.check_readable(&o.field, Origin::Caller)?;
                    v.check_computed(f)?;
                }
            }
        }
        Ok(())
    }

    fn filter_into(&self, f: &mut Filter, at: &str, acc: &mut Acc) -> Result<()> {
        if f.depth() > self.limits.max_filter_depth {
            acc.push(
                at,
                format!(
                    "filter is nested deeper than {} levels",
                    self.limits.max_filter_depth
                ),
            );
            return Ok(());
        }
        self.filter_rec(f, at, acc, Origin::Caller)
    }

    fn field_at(
        &self,
        name: &str,
        at: &str,
        acc: &mut Acc,
        origin: Origin,
    ) -> Result<Option<&'a Field>> {
        match self.entity().field(name) {
            Ok(f) => {
                self.check_readable(name, origin)?;
                self.check_computed(f)?;
                Ok(Some(f))
            }
            Err(_) => {
                acc.add(Violation::unknown_field(
                    format!("{at}/field"),
                    &self.entity().name,
                    name,
                ));
                Ok(None)
            }
        }
    }

    /// A computed field needs an engine that calls functions on rows.
    fn check_computed(&self, f: &Field) -> Result<()> {
        if f.is_computed() {
            self.caps
                .require(self.caps.computed_fields, "computed fields")?;
        }
        Ok(())
    }

    /// `v` as a value of type `ty` ([`typed_input`]): in the caller's
    /// zone where the caller gave it; a grant's own values in UTC (a
    /// rule's instant is the same whoever asks).
    fn typed(
        &self,
        ty: &FieldType,
        v: &Value,
        write: bool,
        origin: Origin,
    ) -> std::result::Result<Value, String> {
        let zone = match origin {
            Origin::Caller => self.zone,
            Origin::Grant => None,
        };
        typed_input(v, ty, self.caps, zone, write)
    }

    /// Convert a filter operand into the field's type, in place.
    fn coerce_in_place(
        &self,
        field: &Field,
        v: &mut Value,
        at: &str,
        acc: &mut Acc,
        origin: Origin,
    ) {
        match self.typed(&field.ty, v, false, origin) {
            Ok(c) => *v = c,
            Err(e) => acc.push(at, format!("`{}`: {e}", field.name)),
        }
    }

    fn filter_rec(&self, f: &mut Filter, at: &str, acc: &mut Acc, origin: Origin) -> Result<()> {
        match f {
            Filter::And { filters } | Filter::Or { filters } => {
                for (i, g) in filters.iter_mut().enumerate() {
                    self.filter_rec(g, &format!("{at}/filters/{i}"), acc, origin)?;
                }
            }
            Filter::Not { filter } => {
                self.filter_rec(filter, &format!("{at}/filter"), acc, origin)?
            }
            Filter::Compare { field, op, value } => {
                if let Some(fd) = self.field_at(field, at, acc, origin)? {
                    let ordered = !matches!(op, CompareOp::Eq | CompareOp::Neq);
                    if ordered && !fd.ty.is_ordered() {
                        acc.push(
                            &format!("{at}/op"),
                            format!(
                                "`{op:?}` does not apply to `{field}` of type {}",
                                fd.ty.name()
                            )
                            .to_lowercase(),
                        );
                    } else if fd.ty == FieldType::Json
                        || (matches!(fd.ty, FieldType::Array { .. })
                            && (ordered || !matches!(value, Value::Array(_))))
                    {
                        // An array equals (or not) a whole array value.
                        acc.push(
                            &format!("{at}/op"),
                            format!(
                                "comparisons do not apply to `{field}` of type {}; use json_path or array filters",
                                fd.ty.name()
                            ),
                        );
                    } else if value.is_null() {
                        acc.push(
                            &format!("{at}/value"),
                            "comparing with null never matches; use `is null`",
                        );
                    } else {
                        self.coerce_in_place(fd, value, &format!("{at}/value"), acc, origin);
                    }
                }
            }
            Filter::In { field, values } => {
                if let Some(fd) = self.field_at(field, at, acc, origin)? {
                    if values.len() > self.limits.max_in_list {
                        acc.push(
                            &format!("{at}/values"),
                            format!(
                                "`in` list has {} values; the limit is {}",
                                values.len(),
                                self.limits.max_in_list
                            ),
                        );
                    }
                    if matches!(fd.ty, FieldType::Json | FieldType::Array { .. }) {
                        acc.push(
                            &format!("{at}/field"),
                            format!("`in` does not apply to `{field}` of type {}", fd.ty.name()),
                        );
                    }
                    for (i, v) in values.iter_mut().enumerate() {
                        self.coerce_in_place(fd, v, &format!("{at}/values/{i}"), acc, origin);
                    }
                }
            }
            Filter::Is { field, value } => {
                if let Some(fd) = self.field_at(field, at, acc, origin)?
                    && fd.ty != FieldType::Boolean
                {
                    match value {
                        IsValue::True | IsValue::False => acc.push(
                            &format!("{at}/value"),
                            format!(
                                "`is true/false` needs a boolean; `{field}` is {}",
                                fd.ty.name()
                            ),
                        ),
                        // PostgreSQL's refusal, as PostgREST answers it
                        // (after the field's read grant: no type is told
                        // about a field the caller may not read).
                        IsValue::Unknown => acc.add(
                            Violation::new(
                                format!("{at}/value"),
                                format!(
                                    "argument of IS UNKNOWN must be type boolean, not type {}",
                                    fd.ty.postgres_name()
                                ),
                            )
                            .with_code("42804"),
                        ),
                        IsValue::Null | IsValue::NotNull => {}
                    }
                }
            }
            Filter::Like { field, .. } => {
                if let Some(fd) = self.field_at(field, at, acc, origin)?
                    && !fd.ty.is_textual()
                {
                    acc.push(
                        &format!("{at}/field"),
                        format!("`like` needs a text field; `{field}` is {}", fd.ty.name()),
                    );
                }
            }
            Filter::Range { field, value, .. } => {
                if let Some(fd) = self.field_at(field, at, acc, origin)?
                    && !fd.db_type.as_deref().is_some_and(is_range_type)
                {
                    acc.push(
                        &format!("{at}/field"),
                        format!("range operators apply to range fields; `{field}` is not one"),
                    );
                }
                if value.trim().is_empty() || value.len() > crate::ir::MAX_RANGE_LITERAL_BYTES {
                    acc.push(
                        &format!("{at}/value"),
                        format!(
                            "a range literal is 1 to {} bytes (`[1,10)`)",
                            crate::ir::MAX_RANGE_LITERAL_BYTES
                        ),
                    );
                }
            }
            Filter::Regex {
                field,
                path,
                pattern,
                ..
            } => {
                if !path.is_empty() {
                    self.json_path_of(field, path, at, acc, origin)?;
                } else if let Some(fd) = self.field_at(field, at, acc, origin)?
                    && !fd.ty.is_textual()
                {
                    acc.push(
                        &format!("{at}/field"),
                        format!("`match` needs a text field; `{field}` is {}", fd.ty.name()),
                    );
                }
                if pattern.len() > crate::ir::MAX_REGEX_BYTES {
                    acc.push(
                        &format!("{at}/pattern"),
                        format!(
                            "the regular expression is longer than {} bytes",
                            crate::ir::MAX_REGEX_BYTES
                        ),
                    );
                }
            }
            Filter::TextSearch {
                field, path, query, ..
            } => {
                self.caps
                    .require(self.caps.full_text_search, "full-text search")?;
                if !path.is_empty() {
                    self.json_path_of(field, path, at, acc, origin)?;
                } else if let Some(fd) = self.field_at(field, at, acc, origin)?
                    // A whole JSON document: its strings (PostgreSQL's
                    // `to_tsvector` of `jsonb`, as PostgREST searches it).
                    && !(fd.ty.is_textual() || fd.ty == FieldType::Json)
                {
                    acc.push(
                        &format!("{at}/field"),
                        format!(
                            "full-text search needs a text or JSON field; `{field}` is {}",
                            fd.ty.name()
                        ),
                    );
                }
                if query.split_whitespace().next().is_none() {
                    acc.push(&format!("{at}/query"), "the search query is empty");
                }
                if query.len() > crate::text_query::MAX_TEXT_QUERY_BYTES {
                    acc.push(
                        &format!("{at}/query"),
                        format!(
                            "the search query is longer than {} bytes",
                            crate::text_query::MAX_TEXT_QUERY_BYTES
                        ),
                    );
                }
            }
            Filter::Array { field, values, .. } => {
                self.caps.require(self.caps.arrays, "array operators")?;
                if let Some(fd) = self.field_at(field, at, acc, origin)? {
                    match &fd.ty {
                        FieldType::Array { items } => {
                            for (i, v) in values.iter_mut().enumerate() {
                                if v.is_null() {
                                    acc.push(
                                        &format!("{at}/values/{i}"),
                                        "array operands cannot be null",
                                    );
                                } else {
                                    match self.typed(items, v, false, origin) {
                                        Ok(c) => *v = c,
                                        Err(e) => acc.push(&format!("{at}/values/{i}"), e),
                                    }
                                }
                            }
                        }
                        other => acc.push(
                            &format!("{at}/field"),
                            format!(
                                "array operators need an array field; `{field}` is {}",
                                other.name()
                            ),
                        ),
                    }
                }
            }
            Filter::JsonContains {
                field,
                path,
                op,
                value,
            } => {
                self.caps.require(self.caps.json_path, "JSON containment")?;
                path_length(path, at, acc);
                if let Some(fd) = self.field_at(field, at, acc, origin)?
                    && fd.ty != FieldType::Json
                {
                    acc.push(
                        &format!("{at}/field"),
                        format!(
                            "a JSON operand needs a json field; `{field}` is {}",
                            fd.ty.name()
                        ),
                    );
                }
                if *op == ArrayOp::Overlaps {
                    acc.push(&format!("{at}/op"), "JSON values have no overlap operator");
                }
                json_operand_size(value, at, acc);
            }
            Filter::JsonEquals { field, path, value } => {
                self.caps.require(self.caps.json_path, "JSON equality")?;
                path_length(path, at, acc);
                if let Some(fd) = self.field_at(field, at, acc, origin)?
                    && fd.ty != FieldType::Json
                {
                    acc.push(
                        &format!("{at}/field"),
                        format!(
                            "a JSON operand needs a json field; `{field}` is {}",
                            fd.ty.name()
                        ),
                    );
                }
                json_operand_size(value, at, acc);
            }
            Filter::JsonLike { field, path, .. }
            | Filter::JsonText { field, path, .. }
            | Filter::JsonIsNull { field, path, .. } => {
                self.json_path_of(field, path, at, acc, origin)?;
            }
            Filter::JsonPath {
                field, path, value, ..
            } => {
                self.json_path_of(field, path, at, acc, origin)?;
                json_operand_size(value, at, acc);
            }
            Filter::Exists {
                relation,
                filter,
                through,
            } => match self.entity().relation(relation) {
                Err(_) => acc.push(
                    &format!("{at}/relation"),
                    format!("unknown relation `{relation}` on `{}`", self.entity().name),
                ),
                Ok(rel) => {
                    if rel.function.is_some() {
                        self.caps
                            .require(self.caps.computed_fields, "computed relationships")?;
                        // Its function sees the whole row: under a read
                        // grant that lists fields, only when listed.
                        self.check_readable(relation, origin)?;
                    }
                    let target = self.at(self.schema().entity(&rel.target)?);
                    if let Some(g) = filter {
                        target.filter_rec(g, &format!("{at}/filter"), acc, origin)?;
                    }
                    if origin == Origin::Caller {
                        // The related rows the caller may see, and the
                        // junction rows leading to them.
                        let row_filter = target.grant_filter(Action::Read, acc)?;
                        *filter = and_opt(filter.take().map(|b| *b), row_filter).map(Box::new);
                        let given = through.take().map(|b| *b);
                        *through = self
                            .through(&rel.kind, relation, given, &format!("{at}/through"), acc)?
                            .map(Box::new);
                    } else if let Some(t) = through {
                        let RelationKind::ManyToMany { through: th } = &rel.kind else {
                            acc.push(
                                &format!("{at}/through"),
                                format!(
                                    "`{relation}` is not a many-to-many relation: it has no junction"
                                ),
                            );
                            return Ok(());
                        };
                        self.at(self.schema().entity(&th.entity)?).filter_rec(
                            t,
                            &format!("{at}/through"),
                            acc,
                            origin,
                        )?;
                    } else if let RelationKind::ManyToMany { through: th } = &rel.kind {
                        self.schema().entity(&th.entity)?;
                    }
                }
            },
        }
        Ok(())
    }

    /// Check the field and path of a JSON path filter: the engine's
    /// capability, a json field, a path that is not empty.
    fn json_path_of(
        &self,
        field: &str,
        path: &[String],
        at: &str,
        acc: &mut Acc,
        origin: Origin,
    ) -> Result<()> {
        self.caps
            .require(self.caps.json_path, "JSON path filters")?;
        if let Some(fd) = self.field_at(field, at, acc, origin)?
            && !fd.ty.has_paths()
        {
            acc.push(
                &format!("{at}/field"),
                format!(
                    "JSON paths need a json or array field; `{field}` is {}",
                    fd.ty.name()
                ),
            );
        }
        if path.is_empty() {
            acc.push(&format!("{at}/path"), "the JSON path is empty");
        }
        path_length(path, at, acc);
        Ok(())
    }

    // ---------------------------------------------------------------- writes

    fn writable(&self) -> Result<()> {
        if self.entity().read_only {
            Err(Error::Forbidden(format!(
                "entity `{}` is read-only",
                self.entity().name
            )))
        } else {
            Ok(())
        }
    }

    /// The fields `action` may write here (`None`: all).
    fn write_set(&self, action: Action) -> Option<&'a FieldSet> {
        self.grant(action).map(|g| &g.write).filter(|w| !w.is_all())
    }

    fn record(
        &self,
        r: &Record,
        at: &str,
        partial: bool,
        writable: &[Option<&'a FieldSet>],
        acc: &mut Acc,
    ) -> Result<TypedRecord<'a>> {
        let mut typed = Vec::with_capacity(r.len());
        for (k, v) in r {
            match self.entity().field(k) {
                Err(_) => acc.add(Violation::unknown_written_field(
                    format!("{at}/{}", escape_pointer(k)),
                    &self.entity().name,
                    k,
                )),
                Ok(f) if f.generated == Generated::Always || f.is_computed() => acc.push(
                    &format!("{at}/{}", escape_pointer(k)),
                    format!("`{k}` is generated by the database and cannot be written"),
                ),
                Ok(f) => {
                    if writable.iter().flatten().any(|w| !w.contains(k)) {
                        return Err(forbidden_field(self.entity(), k, "written"));
                    }
                    let v = Value::from_json(v);
                    if v.is_null() && !f.nullable {
                        acc.add(Violation::not_null(
                            format!("{at}/{}", escape_pointer(k)),
                            &self.entity().name,
                            k,
                        ));
                        continue;
                    }
                    match self.typed(&f.ty, &v, true, Origin::Caller) {
                        Err(e) => acc.push(
                            &format!("{at}/{}", escape_pointer(k)),
                            format!("`{k}`: {e}"),
                        ),
                        Ok(Value::Text(s))
                            if f.max_length
                                .is_some_and(|max| s.chars().count() > max as usize) =>
                        {
                            acc.push(
                                &format!("{at}/{}", escape_pointer(k)),
                                format!(
                                    "`{k}` is longer than {} characters",
                                    f.max_length.unwrap_or_default()
                                ),
                            );
                        }
                        Ok(Value::Int(i)) if f.range.is_some_and(|r| !r.contains(i)) => {
                            acc.push(
                                &format!("{at}/{}", escape_pointer(k)),
                                format!(
                                    "`{k}`: {i} is out of range ({})",
                                    f.range.map(|r| r.to_string()).unwrap_or_default()
                                ),
                            );
                        }
                        Ok(Value::Array(a))
                            if !self.caps.multidimensional_arrays
                                && matches!(&f.ty, FieldType::Array { items }
                                    if a.iter().any(|v| v.is_sub_array(items))) =>
                        {
                            return Err(Error::unsupported(
                                self.caps.engine.clone(),
                                format!(
                                    "multi-dimensional values of the array field `{k}` ([[1,2],[3,4]])"
                                ),
                            ));
                        }
                        Ok(c) => typed.push((f, c)),
                    }
                }
            }
        }
        if !partial {
            for f in &self.entity().fields {
                if !f.nullable
                    && f.default.is_none()
                    && f.generated == Generated::None
                    && !r.contains_key(&f.name)
                {
                    acc.add(Violation::not_null(at, &self.entity().name, &f.name));
                }
            }
        }
        Ok(typed)
    }

    /// Check `returning` against the fields: unknown ones are violations,
    /// unreadable ones forbidden; "every field" becomes the readable ones.
    fn returning(&self, r: &mut Option<Vec<String>>, acc: &mut Acc) -> Result<()> {
        if let Some(fields) = r {
            self.fields(fields, "/returning", acc)?;
        }
        Ok(())
    }

    /// The row filter of a write (the write grant's, and, since a write
    /// that finds rows reveals them, the read grant's).
    fn write_filter(&self, action: Action, acc: &mut Acc) -> Result<Option<Filter>> {
        let w = self.grant_filter(action, acc)?;
        let r = self.grant_filter(Action::Read, acc)?;
        if w.is_some() && w == r {
            return Ok(w);
        }
        Ok(and_opt(w, r))
    }

    /// Check an insert (an upsert that merges is an update of the rows it
    /// finds, so it needs both grants).
    pub fn insert(&self, mut ins: Insert) -> Result<Checked<'a, Insert>> {
        self.writable()?;
        let merging = ins
            .on_conflict
            .as_ref()
            .is_some_and(|u| u.action == OnConflict::Merge);
        for action in [Action::Insert, Action::Update] {
            if (action == Action::Insert || merging)
                && self.grant(action).is_some_and(|g| g.filter.is_some())
            {
                return Err(Error::Forbidden(format!(
                    "the caller may {} only some rows of `{}`, which cannot apply to {}",
                    action.name(),
                    self.entity().name,
                    if action == Action::Insert {
                        "an insert"
                    } else {
                        "an upsert that merges into existing rows"
                    }
                )));
            }
        }
        let writable = [
            self.write_set(Action::Insert),
            if merging {
                self.write_set(Action::Update)
            } else {
                None
            },
        ];
        let mut acc = Acc(Vec::new());
        if ins.rows.is_empty() {
            acc.push("/rows", "nothing to insert");
        }
        if ins.rows.len() > self.limits.max_insert_rows {
            acc.push(
                "/rows",
                format!(
                    "{} rows in one insert; the limit is {}",
                    ins.rows.len(),
                    self.limits.max_insert_rows
                ),
            );
        }
        let mut typed = Vec::with_capacity(ins.rows.len());
        for (i, r) in ins.rows.iter().enumerate() {
            typed.push(self.record(r, &format!("/rows/{i}"), false, &writable, &mut acc)?);
        }
        if let Some(up) = &ins.on_conflict {
            let target = if up.target.is_empty() {
                &self.entity().primary_key
            } else {
                &up.target
            };
            if target.is_empty() {
                acc.push(
                    "/on_conflict/target",
                    "the entity has no primary key to upsert on",
                );
            }
            for (i, f) in up.target.iter().enumerate() {
                if self.entity().field(f).is_err() {
                    acc.add(Violation::unknown_field(
                        format!("/on_conflict/target/{i}"),
                        &self.entity().name,
                        f,
                    ));
                } else {
                    // Which rows conflict tells whether a value exists.
                    self.check_readable(f, Origin::Caller)?;
                }
            }
            // A reset to the default writes the field as the merge's
            // other fields are written.
            for (i, k) in up.defaults.iter().enumerate() {
                let at = format!("/on_conflict/defaults/{i}");
                match self.entity().field(k) {
                    Err(_) => acc.add(Violation::unknown_written_field(at, &self.entity().name, k)),
                    Ok(f) if f.generated == Generated::Always || f.is_computed() => acc.push(
                        &at,
                        format!("`{k}` is generated by the database and cannot be written"),
                    ),
                    Ok(_) if up.action != OnConflict::Merge => {
                        acc.push(&at, "only a merge resets fields to their defaults")
                    }
                    // It writes an existing row only: the update grant's
                    // fields apply.
                    Ok(_) => {
                        if writable[1].is_some_and(|w| !w.contains(k)) {
                            return Err(forbidden_field(self.entity(), k, "written"));
                        }
                    }
                }
            }
            let is_key = |t: &[String]| same_set(t, target);
            let unique_keys: Vec<&[String]> = std::iter::once(self.entity().primary_key.as_slice())
                .filter(|k| !k.is_empty())
                .chain(
                    self.entity()
                        .indexes
                        .iter()
                        .filter(|i| i.unique)
                        .map(|i| i.fields.as_slice()),
                )
                .chain(
                    self.entity()
                        .fields
                        .iter()
                        .filter(|f| f.unique)
                        .map(|f| std::slice::from_ref(&f.name)),
                )
                .collect();
            if !target.is_empty() && !unique_keys.iter().any(|k| is_key(k)) {
                acc.push(
                    "/on_conflict/target",
                    "the conflict target must be the primary key or a unique index",
                );
            }
            // MySQL's ON DUPLICATE KEY fires on *any* unique key: refuse only when
            // a row sets every field of another unique key, so that a conflict
            // there is possible (an auto-generated key the rows omit cannot clash).
            let other_key_set = unique_keys.iter().filter(|k| !is_key(k)).any(|k| {
                ins.rows
                    .iter()
                    .any(|r| k.iter().all(|f| r.get(f).is_some_and(|v| !v.is_null())))
            });
            if !self.caps.upsert_conflict_target && other_key_set {
                return Err(Error::unsupported(
                    &self.caps.engine,
                    "upsert on one conflict target when the entity has other unique keys",
                ));
            }
        }
        self.returning(&mut ins.returning, &mut acc)?;
        acc.finish()?;
        let mut c = Checked::new(self.target, ins, self.limits, self.zone);
        c.typed = typed;
        Ok(c)
    }

    /// Check an update; with access, the update and read grants' row
    /// filters narrow the rows it touches.
    pub fn update(&self, mut upd: Update) -> Result<Checked<'a, Update>> {
        self.writable()?;
        let mut acc = Acc(Vec::new());
        if upd.set.is_empty() {
            acc.push("/set", "nothing to update");
        }
        let typed = self.record(
            &upd.set,
            "/set",
            true,
            &[self.write_set(Action::Update)],
            &mut acc,
        )?;
        self.filter_into(&mut upd.filter, "/filter", &mut acc)?;
        self.returning(&mut upd.returning, &mut acc)?;
        let row_filter = self.write_filter(Action::Update, &mut acc)?;
        acc.finish()?;
        if let Some(rf) = row_filter {
            upd.filter = Filter::and(vec![upd.filter, rf]);
        }
        let mut c = Checked::new(self.target, upd, self.limits, self.zone);
        c.typed = vec![typed];
        Ok(c)
    }

    /// Check a delete; with access, the delete and read grants' row
    /// filters narrow the rows it touches.
    pub fn delete(&self, mut del: Delete) -> Result<Checked<'a, Delete>> {
        self.writable()?;
        let mut acc = Acc(Vec::new());
        self.filter_into(&mut del.filter, "/filter", &mut acc)?;
        self.returning(&mut del.returning, &mut acc)?;
        let row_filter = self.write_filter(Action::Delete, &mut acc)?;
        acc.finish()?;
        if let Some(rf) = row_filter {
            del.filter = Filter::and(vec![del.filter, rf]);
        }
        Ok(Checked::new(self.target, del, self.limits, self.zone))
    }

    /// Check an aggregate request; with access, the read grant's row filter
    /// narrows the rows aggregated and every field it names must be
    /// readable.
    pub fn aggregate(&self, a: Aggregate) -> Result<Checked<'a, Aggregate>> {
        self.aggregate_beside(a, &[], false)
    }

    /// Check an aggregate whose rows also join the related row of each
    /// to-one embed of `embeds`, whose own aggregates are over that row's
    /// fields, grouped with `a`'s groups by the embed's `fields` and
    /// `group_by_values` (PostgREST's to-one spread:
    /// `/project?select=...client(name,budget.sum())` groups the projects
    /// by their client's name and sums the clients' budgets over them;
    /// `...client(name),...manager(name:email,count())` joins both). Each
    /// related row is joined as a left join
    /// ([`AggregateVia::outer`](crate::ir::AggregateVia::outer): a row
    /// without one is aggregated with its fields null), its filter the
    /// embed's and the related entity's read grant; its fields are checked
    /// as [`aggregate`](Self::aggregate) checks the entity's, and its
    /// aggregates are
    /// [`AggregateVia::aggregates`](crate::ir::AggregateVia::aggregates),
    /// in `embeds`' order, each embed inside one joined in turn
    /// ([`Aggregate::via`], depth first). Each related row's keys are
    /// answered apart ([`Aggregate::answer_key`]), so two may list one
    /// name. `a.order` may name the embeds' groups and aggregates, by
    /// their key or through their relation (`order=genre(name)`). The
    /// answer has them beside `a`'s.
    pub fn aggregate_joining(
        &self,
        mut a: Aggregate,
        embeds: Vec<Embed>,
    ) -> Result<Checked<'a, Aggregate>> {
        let engine = self.caps.engine.clone();
        // Each embed, and each inside it, is one via (depth first).
        let tree = Embed::depth_first(&embeds);
        let mut vias = Vec::with_capacity(tree.len());
        let mut relations = Vec::with_capacity(tree.len());
        let mut targets: Vec<&Entity> = Vec::with_capacity(tree.len());
        // Whether anything is answered beside a related row's keys: then
        // it needs no aggregates of its own (`...genre(name),count()`).
        let keyed = |s: &Selection| {
            !s.fields.is_empty() || !s.group_by_values.is_empty() || !s.aggregates.is_empty()
        };
        let parent_keyed =
            !a.group_by.is_empty() || !a.group_by_values.is_empty() || !a.aggregates.is_empty();
        for (n, &(parent, embed)) in tree.iter().enumerate() {
            let others = parent_keyed
                || tree
                    .iter()
                    .enumerate()
                    .any(|(m, (_, e))| m != n && keyed(&e.select));
            let from = parent.map_or(self.entity(), |p| targets[p]);
            let rel = from.relation(&embed.relation)?;
            relations.push((parent, rel.name.clone()));
            if !rel.kind.is_to_one() || rel.function.is_some() {
                return Err(Error::unsupported(
                    engine,
                    format!(
                        "aggregates of `{}` beside the aggregates of `{}` (a to-one relation's only)",
                        embed.relation,
                        self.entity().name
                    ),
                ));
            }
            if !embed.select.casts.is_empty()
                || parent.is_some() && !embed.joinable(self.schema(), from)
            {
                return Err(Error::unsupported(
                    engine,
                    format!(
                        "`*`, embeddings of computed or to-many relations or database casts in `{}` beside aggregates",
                        embed.relation
                    ),
                ));
            }
            let target = self.schema().entity(&rel.target)?;
            // Its keys are answered apart from the others'
            // ([`Aggregate::answer_key`]): none can collide.
            let related = self
                .at(target)
                .aggregate_beside(
                    Aggregate {
                        entity: target.name.clone(),
                        filter: embed.filter.clone(),
                        group_by: embed.select.fields.clone(),
                        group_by_values: embed.select.group_by_values.clone(),
                        aggregates: embed.select.aggregates.clone(),
                        having: Vec::new(),
                        order: Vec::new(),
                        limit: None,
                        offset: None,
                        via: Vec::new(),
                        zone: None,
                    },
                    &[],
                    others,
                )?
                .into_inner();
            targets.push(target);
            let checked = Selection {
                fields: related.group_by,
                group_by_values: related.group_by_values,
                aggregates: related.aggregates,
                ..Selection::default()
            };
            vias.push(crate::ir::AggregateVia::to_one(
                n,
                parent,
                rel,
                target,
                &checked,
                related.filter,
            ));
        }
        let keys: Vec<String> = vias
            .iter()
            .enumerate()
            .flat_map(|(i, via)| via.keys().map(move |k| Aggregate::answer_key(Some(i), k)))
            .collect();
        // `order=rel(col)` of a joined row's group or aggregate (of `rel`'s
        // or one joined inside it) names its answer key, as PostgREST
        // orders by the spread's output; so does a plain `order=col` that
        // is none of `a`'s keys and one joined row's only.
        let own = |k: &str| {
            a.group_by.iter().any(|g| g == k)
                || a.group_by_values.iter().any(|g| g.key() == k)
                || a.aggregates.iter().any(|ag| ag.alias == k)
        };
        let mut order = std::mem::take(&mut a.order);
        for o in &mut order {
            if o.json.is_some() || o.related.is_none() && own(&o.field) {
                continue;
            }
            let named = |via: &crate::ir::AggregateVia| via.keys().any(|k| k == o.field);
            // Through `rel`: its row's own first, else that of a row
            // joined inside it; a plain key: any joined row's.
            let matches = |inside: bool| -> Vec<usize> {
                (0..vias.len())
                    .filter(|&i| {
                        named(&vias[i])
                            && match &o.related {
                                Some(r) => {
                                    let mut top = i;
                                    while let Some(p) = relations[top].0 {
                                        top = p;
                                    }
                                    relations[top].1 == r.relation && (inside || top == i)
                                }
                                None => true,
                            }
                    })
                    .collect()
            };
            let mut found = matches(false);
            if found.is_empty() {
                found = matches(true);
            }
            if let [i] = found[..] {
                o.field = Aggregate::answer_key(Some(i), &o.field);
                o.related = None;
            }
        }
        a.order = order;
        let mut checked = self.aggregate_beside(a, &keys, false)?;
        checked.value.via = vias;
        Ok(checked)
    }

    /// [`aggregate`](Self::aggregate), beside the output keys `joined` of
    /// a related row's groups and aggregates
    /// ([`aggregate_joining`](Self::aggregate_joining)): no key of `a`'s
    /// may be one of them, and `a.order` may name them. With `others`
    /// (a related row's, answered beside other keys), `a` needs no
    /// aggregate of its own.
    fn aggregate_beside(
        &self,
        mut a: Aggregate,
        joined: &[String],
        others: bool,
    ) -> Result<Checked<'a, Aggregate>> {
        let mut acc = Acc(Vec::new());
        // The caller's zone, never the request's own (UTC: none).
        a.zone = self.zone.map(|z| z.name().to_string());
        if !a.via.is_empty() {
            // Its fields and rows are another entity's, whose grants this
            // check does not apply: only embedded reads build one.
            acc.push(
                "/via",
                "a relation's rows are aggregated inside an embedding only (`select=rel(col.sum())`)",
            );
        }
        if let Some(f) = &mut a.filter {
            self.filter_into(f, "/filter", &mut acc)?;
        }
        for (i, g) in a.group_by.iter().enumerate() {
            match self.entity().field(g) {
                Err(_) => acc.add(Violation::unknown_field(
                    format!("/group_by/{i}"),
                    &self.entity().name,
                    g,
                )),
                Ok(f) if !sortable(&f.ty) => acc.push(
                    &format!("/group_by/{i}"),
                    format!("cannot group by `{g}` of type {}", f.ty.name()),
                ),
                Ok(_) => self.check_readable(g, Origin::Caller)?,
            }
        }
        for (i, g) in a.group_by_values.iter().enumerate() {
            let at = format!("/group_by_values/{i}/field");
            let name = g.field();
            if let GroupValue::Cast { to, .. } = g {
                self.caps.require(
                    self.caps.sql_casts,
                    &format!("grouping aggregates by the database's cast to {to} (the engine converts values PostgreSQL refuses)"),
                )?;
            }
            match self.entity().field(name) {
                Err(_) => acc.add(Violation::unknown_field(
                    at.clone(),
                    &self.entity().name,
                    name,
                )),
                Ok(f) if !g.applies_to(&f.ty) => acc.push(
                    &at,
                    format!(
                        "cannot group by this value of `{name}` of type {}",
                        f.ty.name()
                    ),
                ),
                Ok(f) => {
                    self.check_readable(name, Origin::Caller)?;
                    self.check_zoned(g, f)?;
                }
            }
            let key = g.key();
            if key != name && self.entity().field(key).is_ok() {
                acc.push(
                    &format!("/group_by_values/{i}/alias"),
                    format!("`{key}` is a field's name: an alias is another key"),
                );
            } else if a.group_by.iter().any(|o| o == key)
                || a.group_by_values[..i].iter().any(|o| o.key() == key)
            {
                acc.push(&at, format!("`{key}` is grouped twice"));
            }
            if let GroupValue::Json { path, .. } = g
                && path.is_empty()
            {
                acc.push(
                    &format!("/group_by_values/{i}/path"),
                    "a path has at least one step",
                );
            }
        }
        if a.aggregates.is_empty() && joined.is_empty() && !others {
            acc.push("/aggregates", "no aggregate requested");
        }
        for (i, g) in a
            .group_by
            .iter()
            .map(String::as_str)
            .chain(a.group_by_values.iter().map(GroupValue::key))
            .enumerate()
        {
            if joined.iter().any(|j| j == g) {
                acc.push(
                    &format!("/group_by/{i}"),
                    format!("`{g}` is also a key of the related row's groups or aggregates"),
                );
            }
        }
        for (i, ag) in a.aggregates.iter().enumerate() {
            let at = format!("/aggregates/{i}");
            if a.aggregates[..i].iter().any(|o| o.alias == ag.alias)
                || joined.contains(&ag.alias)
                || a.group_by.contains(&ag.alias)
                || a.group_by_values.iter().any(|g| g.key() == ag.alias)
            {
                acc.push(
                    &format!("{at}/alias"),
                    format!("duplicate output key `{}`", ag.alias),
                );
            }
            if let Some(field) = ag.func.field() {
                match self.entity().field(field) {
                    Err(_) => acc.add(Violation::unknown_field(
                        format!("{at}/field"),
                        &self.entity().name,
                        field,
                    )),
                    Ok(f) => {
                        self.check_readable(field, Origin::Caller)?;
                        if let Some(g) = &ag.input {
                            self.check_aggregate_input(g, field, f, &at, &mut acc)?;
                        }
                        let ty = ag.input_type(&f.ty);
                        let ok = match ag.func {
                            AggregateFn::Sum { .. } | AggregateFn::Avg { .. } => ty.is_numeric(),
                            AggregateFn::CountValues { .. } => true,
                            AggregateFn::Min { .. } | AggregateFn::Max { .. } => {
                                ty.is_ordered() && !matches!(ty, FieldType::Uuid)
                            }
                            _ => sortable(&ty),
                        };
                        if !ok {
                            let what = match &ag.input {
                                Some(_) => format!("this value of `{field}`, of type"),
                                None => format!("`{field}` of type"),
                            };
                            acc.push(
                                &format!("{at}/fn"),
                                format!("this aggregate does not apply to {what} {}", ty.name()),
                            );
                        }
                    }
                }
            } else if ag.input.is_some() {
                acc.push(
                    &format!("{at}/input"),
                    "`count(*)` aggregates no value: an input applies to a field's aggregate",
                );
            }
        }
        for (i, h) in a.having.iter().enumerate() {
            if !a.aggregates.iter().any(|ag| ag.alias == h.alias) {
                acc.push(
                    &format!("/having/{i}/alias"),
                    format!("`{}` is not an aggregate of this request", h.alias),
                );
            }
            if !matches!(h.value, Value::Int(_) | Value::Float(_) | Value::Text(_)) {
                acc.push(&format!("/having/{i}/value"), "expected a number");
            }
        }
        for (i, o) in a.order.iter().enumerate() {
            if o.related.is_some() {
                acc.push(
                    &format!("/order/{i}/field"),
                    format!(
                        "an aggregate is ordered through a relation only by a field that its to-one spread or embedding lists (`...rel({f})`, `order=rel({f})`)",
                        f = o.field
                    ),
                );
            } else if o.json.is_some() {
                acc.push(
                    &format!("/order/{i}/field"),
                    "an aggregate cannot be ordered by a value inside a JSON field",
                );
            } else if !a.group_by.contains(&o.field)
                && !a.group_by_values.iter().any(|g| g.key() == o.field)
                && !a.aggregates.iter().any(|ag| ag.alias == o.field)
                && !joined.contains(&o.field)
            {
                acc.push(
                    &format!("/order/{i}/field"),
                    format!(
                        "`{}` is neither a group-by field nor an aggregate alias",
                        o.field
                    ),
                );
            }
        }
        let row_filter = self.grant_filter(Action::Read, &mut acc)?;
        acc.finish()?;
        a.filter = and_opt(a.filter, row_filter);
        Ok(Checked::new(self.target, a, self.limits, self.zone))
    }
}

/// Every entity a read of `entity` with `query` touches, for the engine to
/// collect grants ahead of validation: the root, every embed target and
/// junction at every depth, every `exists` target and junction. Unknown
/// names are skipped (validation reports them).
pub fn touched_entities(schema: &SchemaMetadata, query: &Query) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    out.insert(query.entity.clone());
    if let Ok(e) = schema.entity(&query.entity) {
        touched_selection(schema, e, &query.select, &mut out);
        if let Some(f) = &query.filter {
            touched_filter(schema, e, f, &mut out);
        }
        touched_order(schema, e, &query.order, &mut out);
    }
    out
}

/// The related entities of order keys through a relation (and their filters).
fn touched_order(
    schema: &SchemaMetadata,
    entity: &Entity,
    order: &[OrderBy],
    out: &mut BTreeSet<String>,
) {
    for r in order.iter().filter_map(|o| o.related.as_ref()) {
        if let Some(target) = touched_relation(schema, entity, &r.relation, out)
            && let Some(f) = &r.filter
        {
            touched_filter(schema, target, f, out);
        }
    }
}

/// [`touched_entities`] for a filter on `entity` (writes, counts,
/// aggregates).
pub fn touched_by_filter(
    schema: &SchemaMetadata,
    entity: &str,
    filter: Option<&Filter>,
) -> BTreeSet<String> {
    let mut out = filter.map_or_else(BTreeSet::new, |f| related_by_filter(schema, entity, f));
    out.insert(entity.to_string());
    out
}

/// The entities `filter` on `entity` reads through relations (`exists`
/// targets and junctions, at every depth): `entity` itself only where a
/// relation leads back to it (a write whose filter reads what it writes).
pub fn related_by_filter(
    schema: &SchemaMetadata,
    entity: &str,
    filter: &Filter,
) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    if let Ok(e) = schema.entity(entity) {
        touched_filter(schema, e, filter, &mut out);
    }
    out
}

fn touched_relation<'s>(
    schema: &'s SchemaMetadata,
    entity: &Entity,
    relation: &str,
    out: &mut BTreeSet<String>,
) -> Option<&'s Entity> {
    let rel = entity.relation(relation).ok()?;
    if let RelationKind::ManyToMany { through } = &rel.kind {
        out.insert(through.entity.clone());
    }
    out.insert(rel.target.clone());
    schema.entity(&rel.target).ok()
}

fn touched_selection(
    schema: &SchemaMetadata,
    entity: &Entity,
    s: &Selection,
    out: &mut BTreeSet<String>,
) {
    for e in &s.embeds {
        if let Some(target) = touched_relation(schema, entity, &e.relation, out) {
            touched_selection(schema, target, &e.select, out);
            if let Some(f) = &e.filter {
                touched_filter(schema, target, f, out);
            }
            touched_order(schema, target, &e.order, out);
        }
    }
}

fn touched_filter(
    schema: &SchemaMetadata,
    entity: &Entity,
    f: &Filter,
    out: &mut BTreeSet<String>,
) {
    match f {
        Filter::And { filters } | Filter::Or { filters } => {
            for g in filters {
                touched_filter(schema, entity, g, out);
            }
        }
        Filter::Not { filter } => touched_filter(schema, entity, filter, out),
        Filter::Exists {
            relation, filter, ..
        } => {
            if let Some(target) = touched_relation(schema, entity, relation, out)
                && let Some(g) = filter
            {
                touched_filter(schema, target, g, out);
            }
        }
        _ => {}
    }
}

/// A JSON path of more than [`MAX_JSON_PATH_STEPS`](crate::ir::MAX_JSON_PATH_STEPS)
/// steps is refused at `{at}/path`.
fn path_length(path: &[String], at: &str, acc: &mut Acc) {
    if path.len() > crate::ir::MAX_JSON_PATH_STEPS {
        acc.push(
            &format!("{at}/path"),
            format!(
                "at most {} steps in a JSON path",
                crate::ir::MAX_JSON_PATH_STEPS
            ),
        );
    }
}

/// A JSON operand past [`MAX_JSON_OPERAND_DEPTH`](crate::ir::MAX_JSON_OPERAND_DEPTH)
/// levels or [`MAX_JSON_OPERAND_NODES`](crate::ir::MAX_JSON_OPERAND_NODES)
/// values is refused at `{at}/value`.
fn json_operand_size(value: &serde_json::Value, at: &str, acc: &mut Acc) {
    let (depth, nodes) = json_size(value);
    if depth > crate::ir::MAX_JSON_OPERAND_DEPTH || nodes > crate::ir::MAX_JSON_OPERAND_NODES {
        acc.push(
            &format!("{at}/value"),
            format!(
                "the JSON operand is too large: at most {} levels and {} values",
                crate::ir::MAX_JSON_OPERAND_DEPTH,
                crate::ir::MAX_JSON_OPERAND_NODES
            ),
        );
    }
}

/// The nesting depth and the number of values of a JSON value.
fn json_size(v: &serde_json::Value) -> (usize, usize) {
    let children: Box<dyn Iterator<Item = &serde_json::Value>> = match v {
        serde_json::Value::Array(a) => Box::new(a.iter()),
        serde_json::Value::Object(o) => Box::new(o.values()),
        _ => return (0, 1),
    };
    children.fold((1, 1), |(d, n), c| {
        let (cd, cn) = json_size(c);
        (d.max(cd + 1), n + cn)
    })
}

fn sortable(t: &FieldType) -> bool {
    !matches!(
        t,
        FieldType::Json | FieldType::Array { .. } | FieldType::Binary
    )
}

fn same_set(a: &[String], b: &[String]) -> bool {
    a.len() == b.len() && a.iter().all(|x| b.contains(x))
}

/// Escape a key for use in a JSON pointer (RFC 6901).
pub fn escape_pointer(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::access::{Grant, Grants};
    use crate::ir::{Embed, Insert, Upsert};
    use crate::metadata::{Field, Relation, Through};

    /// `album` → `tracks` (one-to-many), `track` → `album`, `playlist` ↔
    /// `track` through `playlist_track`.
    fn schema() -> SchemaMetadata {
        let tracks_of_playlist = Relation {
            name: "tracks".into(),
            kind: RelationKind::ManyToMany {
                through: Through {
                    entity: "playlist_track".into(),
                    source_fields: vec!["playlist_id".into()],
                    target_fields: vec!["track_id".into()],
                },
            },
            target: "track".into(),
            from_fields: vec!["playlist_id".into()],
            to_fields: vec!["track_id".into()],
            constraint: None,
            function: None,
        };
        let s = SchemaMetadata::new(vec![
            Entity::new(
                "album",
                vec![
                    Field::new("album_id", FieldType::Int32),
                    Field::new("title", FieldType::Text),
                ],
            )
            .with_primary_key(["album_id"])
            .with_relation(Relation::one_to_many(
                "tracks",
                "track",
                &["album_id"],
                &["album_id"],
            )),
            Entity::new(
                "track",
                vec![
                    Field::new("track_id", FieldType::Int32),
                    Field::new("name", FieldType::Text),
                    Field::new("album_id", FieldType::Int32),
                    Field::new("genre_id", FieldType::Int32),
                    Field::new("price", FieldType::Int32),
                    Field::new("email", FieldType::Text),
                ],
            )
            .with_primary_key(["track_id"])
            .with_relation(Relation::many_to_one(
                "album",
                "album",
                &["album_id"],
                &["album_id"],
            )),
            Entity::new(
                "playlist",
                vec![Field::new("playlist_id", FieldType::Int32)],
            )
            .with_primary_key(["playlist_id"])
            .with_relation(tracks_of_playlist),
            Entity::new(
                "playlist_track",
                vec![
                    Field::new("playlist_id", FieldType::Int32),
                    Field::new("track_id", FieldType::Int32),
                ],
            )
            .with_primary_key(["playlist_id", "track_id"]),
        ]);
        let mut s = s;
        if let Some(t) = s.entities.iter_mut().find(|e| e.name == "track") {
            t.fields
                .iter_mut()
                .for_each(|f| f.unique = f.name == "email");
        }
        s
    }

    fn grants() -> Grants {
        let mut g = Grants::new();
        g.insert(
            "track",
            Action::Read,
            Grant::all()
                .rows(Filter::eq("genre_id", 1))
                .read_fields(["track_id", "name", "album_id", "genre_id"]),
        );
        g.insert(
            "track",
            Action::Update,
            Grant::all()
                .rows(Filter::eq("genre_id", 1))
                .write_fields(["name"]),
        );
        g.insert(
            "playlist_track",
            Action::Read,
            Grant::all().rows(Filter::cmp("playlist_id", CompareOp::Lte, 5)),
        );
        g
    }

    fn check<T>(
        f: impl for<'a> FnOnce(&Validator<'a>) -> Result<Checked<'a, T>>,
        entity: &str,
    ) -> Result<T> {
        let s = schema();
        let caps = Capabilities::all("test");
        let limits = Limits::default();
        let g = grants();
        let v = Validator::new(Target::new(&s, entity)?, &caps, &limits).with_access(&g);
        f(&v).map(Checked::into_inner)
    }

    fn forbidden<T: std::fmt::Debug>(r: Result<T>) {
        assert!(matches!(r, Err(Error::Forbidden(_))), "{r:?}");
    }

    /// The pointers of a validation error's violations (anything else
    /// fails the test).
    fn pointers<T: std::fmt::Debug>(r: Result<T>) -> Vec<String> {
        match r {
            Err(Error::Validation { violations }) => {
                violations.into_iter().map(|v| v.pointer).collect()
            }
            other => panic!("{other:?}"),
        }
    }

    /// A database cast (`col::interval`) takes a type name and a field
    /// selected once that links no embedding, on an engine that casts.
    #[test]
    fn database_casts_need_a_selected_field_a_name_and_the_engine() {
        let cast = |field: &str, to: &str| crate::ir::FieldCast {
            field: field.into(),
            to: to.into(),
            path: Vec::new(),
            alias: None,
        };
        let aliased = |field: &str, to: &str, alias: &str| crate::ir::FieldCast {
            alias: Some(alias.into()),
            ..cast(field, to)
        };
        let query = |fields: &[&str], casts: Vec<crate::ir::FieldCast>, embed: bool| {
            let mut q = Query::new("track");
            q.select.fields = fields.iter().map(|f| f.to_string()).collect();
            q.select.casts = casts;
            if embed {
                q.select.embeds.push(Embed::new("album"));
            }
            q
        };
        let s = schema();
        let limits = Limits::default();
        let run = |q: Query, caps: &Capabilities| {
            Validator::new(Target::new(&s, "track")?, caps, &limits)
                .query(q)
                .map(Checked::into_inner)
        };
        let pg = Capabilities::all("postgres");
        assert!(run(query(&["name"], vec![cast("name", "xml")], false), &pg).is_ok());
        // Under an alias, a cast is a column of its own: beside the field,
        // or of a field not otherwise selected, twice under two aliases.
        let beside = vec![aliased("name", "xml", "x"), aliased("name", "inet", "i")];
        assert!(run(query(&["name"], beside.clone(), false), &pg).is_ok());
        assert!(run(query(&["genre_id"], beside, false), &pg).is_ok());
        for (q, pointer) in [
            (
                query(&["name"], vec![aliased("name", "xml", "price")], false),
                "/select/casts/0/alias",
            ),
            (
                query(
                    &["name"],
                    vec![aliased("name", "xml", "x"), aliased("name", "inet", "x")],
                    false,
                ),
                "/select/casts/1/alias",
            ),
            (
                query(&["name"], vec![aliased("name", "xml", "album")], true),
                "/select/casts/0/alias",
            ),
            (
                query(&["name"], vec![aliased("nope", "xml", "x")], false),
                "/select/casts/0/field",
            ),
            (
                query(&["album_id"], vec![aliased("album_id", "text", "x")], true),
                "/select/casts/0/field",
            ),
            (
                query(&["name"], vec![cast("name", "Xml")], false),
                "/select/casts/0/to",
            ),
            (
                query(&["name"], vec![cast("genre_id", "xml")], false),
                "/select/casts/0/field",
            ),
            (
                query(
                    &["name"],
                    vec![cast("name", "xml"), cast("name", "inet")],
                    false,
                ),
                "/select/casts/1/field",
            ),
            (
                query(&["album_id"], vec![cast("album_id", "text")], true),
                "/select/casts/0/field",
            ),
        ] {
            match run(q, &pg) {
                Err(Error::Validation { violations }) => {
                    assert_eq!(violations[0].pointer, pointer, "{violations:?}");
                }
                other => panic!("{pointer}: {other:?}"),
            }
        }
        let mut lite = Capabilities::all("sqlite");
        lite.sql_casts = false;
        assert!(matches!(
            run(query(&["name"], vec![cast("name", "xml")], false), &lite),
            Err(Error::Unsupported { .. })
        ));
    }

    /// An aggregate's input is a value of its own field, of a type the
    /// value applies to, that the aggregate applies to; it reads the field
    /// (the grant's fields); the database's cast needs an engine that
    /// casts.
    #[test]
    fn aggregate_inputs_are_checked() {
        use crate::ir::{AggregateExpr, GroupValue};
        let a = |ag: AggregateExpr| Aggregate {
            entity: "track".into(),
            filter: None,
            group_by: Vec::new(),
            group_by_values: Vec::new(),
            aggregates: vec![ag],
            having: Vec::new(),
            order: Vec::new(),
            limit: None,
            offset: None,
            via: Vec::new(),
            zone: None,
        };
        let sum = |f: &str| AggregateExpr::new("s", AggregateFn::Sum { field: f.into() });
        let int = |f: &str| GroupValue::Integer {
            field: f.into(),
            alias: None,
        };
        let cast = |f: &str, to: &str| GroupValue::Cast {
            field: f.into(),
            path: Vec::new(),
            to: to.into(),
            alias: None,
        };
        assert!(
            check(
                |v| v.aggregate(a(sum("genre_id").of(int("genre_id")))),
                "track"
            )
            .is_ok()
        );
        // `name::int4.sum()`: a text summed as the database casts it.
        assert!(
            check(
                |v| v.aggregate(a(sum("name").of(cast("name", "int4")))),
                "track"
            )
            .is_ok()
        );
        for (ag, pointer) in [
            // Another field's value.
            (
                sum("genre_id").of(int("album_id")),
                "/aggregates/0/input/field",
            ),
            // A date of a text.
            (
                AggregateExpr::new(
                    "m",
                    AggregateFn::Max {
                        field: "name".into(),
                    },
                )
                .of(GroupValue::Date {
                    field: "name".into(),
                    alias: None,
                }),
                "/aggregates/0/input",
            ),
            // A sum of text.
            (
                sum("genre_id").of(cast("genre_id", "text")),
                "/aggregates/0/fn",
            ),
            // `count(*)` has no input.
            (
                AggregateExpr::new("n", AggregateFn::Count).of(int("genre_id")),
                "/aggregates/0/input",
            ),
        ] {
            let got = pointers(check(|v| v.aggregate(a(ag)), "track"));
            assert!(got.iter().any(|p| p == pointer), "{pointer}: {got:?}");
        }
        // `price` is not readable under the grant.
        forbidden(check(
            |v| v.aggregate(a(sum("price").of(int("price")))),
            "track",
        ));
        let s = schema();
        let mut lite = Capabilities::all("sqlite");
        lite.sql_casts = false;
        let limits = Limits::default();
        let v = Validator::new(Target::new(&s, "track").unwrap(), &lite, &limits);
        assert!(matches!(
            v.aggregate(a(sum("name").of(cast("name", "int4")))),
            Err(Error::Unsupported { .. })
        ));
        assert!(v.aggregate(a(sum("genre_id").of(int("genre_id")))).is_ok());
    }

    /// A computed group reads its field: unknown, unreadable, of a type
    /// the value does not apply to, or grouped twice, it is refused; the
    /// read grant's rows still narrow the aggregate.
    #[test]
    fn group_values_are_checked_like_group_fields() {
        use crate::ir::GroupValue;
        let a = |group_by: &[&str], g: GroupValue| Aggregate {
            entity: "track".into(),
            filter: None,
            group_by: group_by.iter().map(|f| f.to_string()).collect(),
            group_by_values: vec![g],
            aggregates: vec![crate::ir::AggregateExpr {
                alias: "n".into(),
                func: AggregateFn::Count,
                input: None,
            }],
            having: Vec::new(),
            order: Vec::new(),
            limit: None,
            offset: None,
            via: Vec::new(),
            zone: None,
        };
        let int = |f: &str| GroupValue::Integer {
            field: f.into(),
            alias: None,
        };
        let checked = check(|v| v.aggregate(a(&[], int("genre_id"))), "track").unwrap();
        assert_eq!(checked.filter, Some(Filter::eq("genre_id", 1)));
        // `price` is not readable under the grant.
        forbidden(check(|v| v.aggregate(a(&[], int("price"))), "track"));
        let date = GroupValue::Date {
            field: "name".into(),
            alias: None,
        };
        assert_eq!(
            pointers(check(|v| v.aggregate(a(&[], date)), "track")),
            ["/group_by_values/0/field"]
        );
        assert_eq!(
            pointers(check(
                |v| v.aggregate(a(&["genre_id"], int("genre_id"))),
                "track"
            )),
            ["/group_by_values/0/field"]
        );
        assert_eq!(
            pointers(check(|v| v.aggregate(a(&[], int("nope"))), "track")),
            ["/group_by_values/0/field"]
        );
        // The database's cast: a listed type, on an engine that casts.
        let cast = |to: &str| GroupValue::Cast {
            field: "name".into(),
            path: Vec::new(),
            to: to.into(),
            alias: None,
        };
        assert!(check(|v| v.aggregate(a(&[], cast("int4"))), "track").is_ok());
        // One field grouped by two values: each under a key of its own,
        // neither a field's name nor another group's.
        let two = |first: GroupValue, second: GroupValue| Aggregate {
            group_by_values: vec![first, second],
            order: vec![OrderBy::asc("i"), OrderBy::asc("t")],
            ..a(&[], cast("int4"))
        };
        assert!(
            check(
                |v| v.aggregate(two(cast("int4").aliased("i"), cast("time").aliased("t"))),
                "track"
            )
            .is_ok()
        );
        for (first, second, pointer) in [
            (cast("int4"), cast("time"), "/group_by_values/1/field"),
            (
                cast("int4").aliased("t"),
                cast("time").aliased("t"),
                "/group_by_values/1/field",
            ),
            (
                cast("int4").aliased("i"),
                cast("time").aliased("price"),
                "/group_by_values/1/alias",
            ),
        ] {
            let got = pointers(check(|v| v.aggregate(two(first, second)), "track"));
            assert!(got.iter().any(|p| p == pointer), "{pointer}: {got:?}");
        }
        assert_eq!(
            pointers(check(|v| v.aggregate(a(&[], cast("int4; --"))), "track")),
            ["/group_by_values/0/field"]
        );
        let s = schema();
        let mut lite = Capabilities::all("sqlite");
        lite.sql_casts = false;
        let limits = Limits::default();
        let v = Validator::new(Target::new(&s, "track").unwrap(), &lite, &limits);
        assert!(matches!(
            v.aggregate(a(&[], cast("int4"))),
            Err(Error::Unsupported { .. })
        ));
        // Inside an embedding: the target's grant applies, and they go
        // with aggregates only.
        let embedded = |g: GroupValue, aggregates: bool| {
            let mut q = Query::new("album");
            let mut tracks = Embed::new("tracks");
            if aggregates {
                tracks.select.aggregates = vec![crate::ir::AggregateExpr {
                    alias: "n".into(),
                    func: AggregateFn::Count,
                    input: None,
                }];
            }
            tracks.select.group_by_values = vec![g];
            q.select.embeds.push(tracks);
            q
        };
        assert!(check(|v| v.query(embedded(int("genre_id"), true)), "album").is_ok());
        forbidden(check(|v| v.query(embedded(int("price"), true)), "album"));
        assert!(matches!(
            check(|v| v.query(embedded(int("genre_id"), false)), "album"),
            Err(Error::Validation { .. })
        ));
        // Ordered by the computed group's field.
        let mut ordered = a(&[], int("genre_id"));
        ordered.order = vec![OrderBy::desc("genre_id")];
        assert!(check(|v| v.aggregate(ordered), "track").is_ok());
    }

    /// A caller's aggregate cannot join a relation (`via`): its fields
    /// would escape the related entity's grants. Embedded aggregates are
    /// checked as reads of the target, then joined by the read itself.
    #[test]
    fn callers_cannot_aggregate_through_a_relation() {
        let a = Aggregate {
            entity: "playlist_track".into(),
            filter: None,
            group_by: vec!["playlist_id".into()],
            group_by_values: Vec::new(),
            aggregates: vec![crate::ir::AggregateExpr {
                alias: "p".into(),
                func: AggregateFn::Sum {
                    field: "price".into(),
                },
                input: None,
            }],
            having: Vec::new(),
            order: Vec::new(),
            limit: None,
            offset: None,
            via: vec![crate::ir::AggregateVia {
                presence: None,
                parent: None,
                entity: "track".into(),
                from_fields: vec!["track_id".into()],
                to_fields: vec!["track_id".into()],
                group_by: vec!["email".into()],
                group_by_values: Vec::new(),
                filter: None,
                outer: false,
                aggregates: Vec::new(),
            }],
            zone: None,
        };
        match check(|v| v.aggregate(a), "playlist_track") {
            Err(Error::Validation { violations }) => {
                assert_eq!(violations[0].pointer, "/via", "{violations:?}");
            }
            other => panic!("{other:?}"),
        }
        // Through an embedding, the target's grant applies: `price` is
        // not readable there.
        let mut q = Query::new("playlist");
        let mut tracks = Embed::new("tracks");
        tracks.select.aggregates = vec![crate::ir::AggregateExpr {
            alias: "p".into(),
            func: AggregateFn::Sum {
                field: "price".into(),
            },
            input: None,
        }];
        q.select.embeds.push(tracks);
        forbidden(check(|v| v.query(q), "playlist"));
    }

    /// A computed field is read when named (`star` puts it after every
    /// field), never by `*`, never written, and refused by an engine
    /// without computed fields.
    #[test]
    fn computed_fields_are_named_read_only_and_need_the_engine() {
        let s = SchemaMetadata::new(vec![
            Entity::new(
                "author",
                vec![
                    Field::new("id", FieldType::Int32),
                    Field::new("name", FieldType::Text),
                    Field::new("label", FieldType::Text)
                        .nullable()
                        .computed(crate::Source {
                            table: "label".into(),
                            schema: Some("public".into()),
                        }),
                ],
            )
            .with_primary_key(["id"]),
        ]);
        let limits = Limits::default();
        let read = |caps: &Capabilities, sel: Selection| {
            let v = Validator::new(Target::new(&s, "author")?, caps, &limits);
            let mut q = Query::new("author");
            q.select = sel;
            v.query(q).map(|c| c.into_inner().select.fields)
        };
        let all = Capabilities::all("postgres");
        let star = Selection {
            fields: vec!["label".into()],
            star: true,
            ..Selection::default()
        };
        assert_eq!(read(&all, star.clone()).unwrap(), ["id", "name", "label"]);
        assert!(read(&all, Selection::default()).unwrap().is_empty());
        let mut mysql = Capabilities::all("mysql");
        mysql.computed_fields = false;
        assert!(matches!(read(&mysql, star), Err(Error::Unsupported { .. })));
        let v = Validator::new(Target::new(&s, "author").unwrap(), &all, &limits);
        let w = v.update(Update {
            entity: "author".into(),
            filter: Filter::eq("id", 1),
            set: json!({"label": "x"})
                .as_object()
                .cloned()
                .unwrap_or_default(),
            returning: None,
            max_rows: None,
        });
        assert!(matches!(w, Err(Error::Validation { .. })), "{w:?}");
    }

    #[test]
    fn reads_get_rows_and_fields_of_every_entity_they_touch() {
        // `*` narrows to the readable fields; the row filter is and-ed in.
        let q = check(|v| v.query(Query::new("track")), "track").unwrap();
        assert_eq!(
            q.select.fields,
            ["track_id", "name", "album_id", "genre_id"]
        );
        assert_eq!(q.filter, Some(Filter::eq("genre_id", 1)));
        // An embed gets the target's grant, next to its own filter.
        let mut q = Query::new("album");
        let mut e = Embed::new("tracks");
        e.filter = Some(Filter::eq("name", "x"));
        q.select.embeds.push(e);
        let q = check(|v| v.query(q), "album").unwrap();
        let e = &q.select.embeds[0];
        assert_eq!(e.select.fields.len(), 4);
        assert_eq!(
            e.filter,
            Some(Filter::and(vec![
                Filter::eq("name", "x"),
                Filter::eq("genre_id", 1)
            ]))
        );
        // `exists` gets the target's rows; a many-to-many relation the
        // junction's too.
        let q = check(
            |v| v.query(Query::new("playlist").filter(Filter::exists("tracks", None))),
            "playlist",
        )
        .unwrap();
        assert_eq!(
            q.filter,
            Some(Filter::Exists {
                relation: "tracks".into(),
                filter: Some(Box::new(Filter::eq("genre_id", 1))),
                through: Some(Box::new(Filter::cmp("playlist_id", CompareOp::Lte, 5))),
            })
        );
    }

    #[test]
    fn hidden_fields_are_refused_wherever_they_are_named() {
        forbidden(check(
            |v| v.query(Query::new("track").fields(["price"])),
            "track",
        ));
        forbidden(check(
            |v| v.query(Query::new("track").filter(Filter::or(vec![Filter::eq("price", 1)]))),
            "track",
        ));
        forbidden(check(
            |v| v.query(Query::new("track").order_by(OrderBy::asc("email"))),
            "track",
        ));
        forbidden(check(
            |v| {
                v.query(
                    Query::new("album")
                        .filter(Filter::exists("tracks", Some(Filter::eq("price", 1)))),
                )
            },
            "album",
        ));
        let mut q = Query::new("album");
        let mut e = Embed::new("tracks");
        e.order = vec![OrderBy::desc("price")];
        q.select.embeds.push(e);
        forbidden(check(|v| v.query(q), "album"));
        let upd = Update {
            entity: "track".into(),
            filter: Filter::eq("track_id", 1),
            set: json!({"price": 2}).as_object().unwrap().clone(),
            returning: None,
            max_rows: None,
        };
        forbidden(check(|v| v.update(upd), "track"));
        let upd = Update {
            entity: "track".into(),
            filter: Filter::eq("track_id", 1),
            set: json!({"name": "x"}).as_object().unwrap().clone(),
            returning: Some(vec!["email".into()]),
            max_rows: None,
        };
        forbidden(check(|v| v.update(upd), "track"));
    }

    #[test]
    fn writes_touch_only_rows_the_caller_may_see_and_change() {
        let upd = Update {
            entity: "track".into(),
            filter: Filter::eq("track_id", 1),
            set: json!({"name": "x"}).as_object().unwrap().clone(),
            returning: Some(vec![]),
            max_rows: None,
        };
        let u = check(|v| v.update(upd), "track").unwrap();
        assert_eq!(
            u.filter,
            Filter::and(vec![Filter::eq("track_id", 1), Filter::eq("genre_id", 1)])
        );
        assert_eq!(u.returning.unwrap().len(), 4, "returning `*` narrowed");
        // A merging upsert updates rows: the update grant's rows cannot
        // apply to it. A conflict target the caller cannot read would tell
        // which values exist.
        let row = json!({"track_id": 1, "name": "x", "album_id": 1, "genre_id": 1, "price": 1, "email": "a"});
        let ins = |target: Vec<String>| Insert {
            entity: "track".into(),
            rows: vec![row.as_object().unwrap().clone()],
            on_conflict: Some(Upsert {
                target,
                action: OnConflict::Ignore,
                defaults: vec![],
            }),
            returning: None,
        };
        forbidden(check(|v| v.insert(ins(vec!["email".into()])), "track"));
        let mut merge = ins(vec![]);
        merge.on_conflict = Some(Upsert {
            target: vec![],
            action: OnConflict::Merge,
            defaults: vec![],
        });
        forbidden(check(|v| v.insert(merge), "track"));
    }

    #[test]
    fn fields_a_merge_resets_to_their_defaults_are_checked() {
        let s = SchemaMetadata::new(vec![
            Entity::new(
                "counter",
                vec![
                    Field::new("id", FieldType::Int32),
                    Field::new("n", FieldType::Int32).nullable(),
                ],
            )
            .with_primary_key(["id"]),
        ]);
        let caps = Capabilities::all("test");
        let limits = Limits::default();
        let upsert = |action: OnConflict, defaults: &[&str]| {
            let v = Validator::new(Target::new(&s, "counter")?, &caps, &limits);
            v.insert(Insert {
                entity: "counter".into(),
                rows: vec![json!({"id": 1}).as_object().cloned().unwrap_or_default()],
                on_conflict: Some(Upsert {
                    target: vec![],
                    action,
                    defaults: defaults.iter().map(|d| d.to_string()).collect(),
                }),
                returning: None,
            })
        };
        let merged = upsert(OnConflict::Merge, &["id", "n"]).expect("a merge resets fields");
        assert_eq!(merged.on_conflict.as_ref().unwrap().defaults, ["id", "n"]);
        let err = upsert(OnConflict::Merge, &["nope"])
            .unwrap_err()
            .to_string();
        assert!(err.contains("nope"), "{err}");
        let err = upsert(OnConflict::Ignore, &["n"]).unwrap_err().to_string();
        assert!(err.contains("only a merge"), "{err}");
    }

    #[test]
    fn writes_outside_an_integer_fields_range_are_refused() {
        use crate::metadata::IntRange;
        // An unsigned column: `TINYINT UNSIGNED` in an int16, `BIGINT
        // UNSIGNED` in an int64.
        let mut small = Field::new("small", FieldType::Int16);
        small.range = Some(IntRange::unsigned(8));
        let mut big = Field::new("big", FieldType::Int64).nullable();
        big.range = Some(IntRange::unsigned(64));
        let s = SchemaMetadata::new(vec![
            Entity::new(
                "counter",
                vec![Field::new("id", FieldType::Int32), small, big],
            )
            .with_primary_key(["id"]),
        ]);
        let caps = Capabilities::all("test");
        let limits = Limits::default();
        let insert = |row: serde_json::Value| {
            let v = Validator::new(Target::new(&s, "counter")?, &caps, &limits);
            v.insert(Insert {
                entity: "counter".into(),
                rows: vec![row.as_object().cloned().unwrap_or_default()],
                on_conflict: None,
                returning: None,
            })
            .map(|_| ())
        };
        let messages = |r: Result<()>| match r {
            Err(Error::Validation { violations }) => violations
                .iter()
                .map(|v| format!("{}: {}", v.pointer, v.message))
                .collect::<Vec<_>>(),
            other => panic!("{other:?}"),
        };
        assert!(
            insert(json!({"id": 1, "small": 255, "big": 9_223_372_036_854_775_807_i64})).is_ok()
        );
        assert_eq!(
            messages(insert(json!({"id": 1, "small": 256}))),
            ["/rows/0/small: `small`: 256 is out of range (0..=255)"]
        );
        assert_eq!(
            messages(insert(json!({"id": 1, "small": -1}))),
            ["/rows/0/small: `small`: -1 is out of range (0..=255)"]
        );
        // Above the int64 maximum: refused with a clear message, not sent.
        let m = messages(insert(
            json!({"id": 1, "small": 0, "big": 18_446_744_073_709_551_615_u64}),
        ));
        assert_eq!(m.len(), 1);
        assert!(
            m[0].starts_with("/rows/0/big: `big`: ") && m[0].contains("out of range for int64"),
            "{m:?}"
        );
    }
}
