//! Validation of IR against metadata and engine capabilities, before any
//! translation. Every problem is reported with a JSON pointer into the IR
//! value as serialised (e.g. `/filter/filters/0/value`); all problems are
//! collected, not just the first.

use crate::adapter::{Capabilities, Target};
use crate::error::{Error, Result, Violation};
use crate::ir::{
    Aggregate, AggregateFn, CompareOp, Delete, Filter, Insert, IsValue, OrderBy, Query, Record,
    Selection, Update,
};
use crate::metadata::{Entity, Field, FieldType, Generated, RelationKind, SchemaMetadata};
use crate::value::Value;

/// Hard limits applied to every request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Maximum nesting of `and`/`or`/`not`/`exists`.
    pub max_filter_depth: usize,
    /// Maximum number of candidates in one `in` list.
    pub max_in_list: usize,
    /// Maximum rows in one insert.
    pub max_insert_rows: usize,
    /// Maximum embedding depth.
    pub max_embed_depth: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_filter_depth: 16,
            max_in_list: 1000,
            max_insert_rows: 1000,
            max_embed_depth: 4,
        }
    }
}

/// Checks IR for one target entity.
#[derive(Debug, Clone, Copy)]
pub struct Validator<'a> {
    target: Target<'a>,
    caps: &'a Capabilities,
    limits: &'a Limits,
}

struct Acc(Vec<Violation>);

impl Acc {
    fn push(&mut self, at: &str, msg: impl Into<String>) {
        self.0.push(Violation::new(at, msg));
    }
    fn finish(self) -> Result<()> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(Error::Validation { violations: self.0 })
        }
    }
}

impl<'a> Validator<'a> {
    /// A validator for `target` on an engine with `caps`.
    pub fn new(target: Target<'a>, caps: &'a Capabilities, limits: &'a Limits) -> Self {
        Self {
            target,
            caps,
            limits,
        }
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
            },
            ..*self
        }
    }

    /// Check a read.
    pub fn query(&self, q: &Query) -> Result<()> {
        let mut acc = Acc(Vec::new());
        self.selection(&q.select, "/select", 1, &mut acc)?;
        if let Some(f) = &q.filter {
            self.filter_into(f, "/filter", &mut acc)?;
        }
        self.order(&q.order, "/order", &mut acc);
        if let Some(after) = &q.page.after {
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
                for (i, (o, v)) in q.order.iter().zip(after).enumerate() {
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
                        self.check_value(field, v, &format!("/page/after/{i}"), &mut acc);
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
                    acc.push(
                        &format!("/page/partition/fields/{i}"),
                        format!("unknown field `{f}` on `{}`", self.entity().name),
                    );
                }
            }
            if q.page.after.is_some() {
                acc.push(
                    "/page/partition",
                    "a partition limit and a keyset cursor are exclusive",
                );
            }
        }
        if q.count == crate::ir::Count::Estimated && !self.caps.estimated_count {
            // Estimated falls back to exact: not an error.
        }
        acc.finish()
    }

    fn selection(&self, s: &Selection, at: &str, depth: usize, acc: &mut Acc) -> Result<()> {
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
        for (i, f) in s.fields.iter().enumerate() {
            if self.entity().field(f).is_err() {
                acc.push(
                    &format!("{at}/fields/{i}"),
                    format!("unknown field `{f}` on `{}`", self.entity().name),
                );
            }
        }
        for (i, e) in s.embeds.iter().enumerate() {
            let eat = format!("{at}/embeds/{i}");
            let Ok(rel) = self.entity().relation(&e.relation) else {
                acc.push(
                    &format!("{eat}/relation"),
                    format!(
                        "unknown relation `{}` on `{}`",
                        e.relation,
                        self.entity().name
                    ),
                );
                continue;
            };
            let target = self.schema().entity(&rel.target)?;
            let v = self.at(target);
            v.selection(&e.select, &format!("{eat}/select"), depth + 1, acc)?;
            if let Some(f) = &e.filter {
                v.filter_into(f, &format!("{eat}/filter"), acc)?;
            }
            v.order(&e.order, &format!("{eat}/order"), acc);
            if rel.kind.is_to_one() && (e.limit.is_some() || !e.order.is_empty()) {
                acc.push(
                    &eat,
                    format!(
                        "`{}` is a to-one relation: order and limit do not apply",
                        e.relation
                    ),
                );
            }
        }
        Ok(())
    }

    fn order(&self, order: &[OrderBy], at: &str, acc: &mut Acc) {
        for (i, o) in order.iter().enumerate() {
            match self.entity().field(&o.field) {
                Err(_) => acc.push(
                    &format!("{at}/{i}/field"),
                    format!("unknown field `{}` on `{}`", o.field, self.entity().name),
                ),
                Ok(f) if !sortable(&f.ty) => acc.push(
                    &format!("{at}/{i}/field"),
                    format!("cannot order by `{}` of type {}", o.field, f.ty.name()),
                ),
                Ok(_) => {}
            }
        }
    }

    /// Check a filter on the target entity.
    pub fn filter(&self, f: &Filter) -> Result<()> {
        let mut acc = Acc(Vec::new());
        self.filter_into(f, "", &mut acc)?;
        acc.finish()
    }

    fn filter_into(&self, f: &Filter, at: &str, acc: &mut Acc) -> Result<()> {
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
        self.filter_rec(f, at, acc)
    }

    fn field_at(&self, name: &str, at: &str, acc: &mut Acc) -> Option<&'a Field> {
        match self.entity().field(name) {
            Ok(f) => Some(f),
            Err(_) => {
                acc.push(
                    &format!("{at}/field"),
                    format!("unknown field `{name}` on `{}`", self.entity().name),
                );
                None
            }
        }
    }

    fn check_value(&self, field: &Field, v: &Value, at: &str, acc: &mut Acc) {
        if let Err(e) = v.coerce(&field.ty) {
            acc.push(at, format!("`{}`: {e}", field.name));
        }
    }

    fn filter_rec(&self, f: &Filter, at: &str, acc: &mut Acc) -> Result<()> {
        match f {
            Filter::And { filters } | Filter::Or { filters } => {
                for (i, g) in filters.iter().enumerate() {
                    self.filter_rec(g, &format!("{at}/filters/{i}"), acc)?;
                }
            }
            Filter::Not { filter } => self.filter_rec(filter, &format!("{at}/filter"), acc)?,
            Filter::Compare { field, op, value } => {
                if let Some(fd) = self.field_at(field, at, acc) {
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
                    } else if matches!(fd.ty, FieldType::Json | FieldType::Array { .. }) {
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
                        self.check_value(fd, value, &format!("{at}/value"), acc);
                    }
                }
            }
            Filter::In { field, values } => {
                if let Some(fd) = self.field_at(field, at, acc) {
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
                    for (i, v) in values.iter().enumerate() {
                        self.check_value(fd, v, &format!("{at}/values/{i}"), acc);
                    }
                }
            }
            Filter::Is { field, value } => {
                if let Some(fd) = self.field_at(field, at, acc)
                    && matches!(value, IsValue::True | IsValue::False)
                    && fd.ty != FieldType::Boolean
                {
                    acc.push(
                        &format!("{at}/value"),
                        format!(
                            "`is true/false` needs a boolean; `{field}` is {}",
                            fd.ty.name()
                        ),
                    );
                }
            }
            Filter::Like { field, .. } => {
                if let Some(fd) = self.field_at(field, at, acc)
                    && !fd.ty.is_textual()
                {
                    acc.push(
                        &format!("{at}/field"),
                        format!("`like` needs a text field; `{field}` is {}", fd.ty.name()),
                    );
                }
            }
            Filter::TextSearch { field, query, .. } => {
                self.caps
                    .require(self.caps.full_text_search, "full-text search")?;
                if let Some(fd) = self.field_at(field, at, acc)
                    && !fd.ty.is_textual()
                {
                    acc.push(
                        &format!("{at}/field"),
                        format!(
                            "full-text search needs a text field; `{field}` is {}",
                            fd.ty.name()
                        ),
                    );
                }
                if query.split_whitespace().next().is_none() {
                    acc.push(&format!("{at}/query"), "the search query is empty");
                }
            }
            Filter::Array { field, values, .. } => {
                self.caps.require(self.caps.arrays, "array operators")?;
                if let Some(fd) = self.field_at(field, at, acc) {
                    match &fd.ty {
                        FieldType::Array { items } => {
                            for (i, v) in values.iter().enumerate() {
                                if v.is_null() {
                                    acc.push(
                                        &format!("{at}/values/{i}"),
                                        "array operands cannot be null",
                                    );
                                } else if let Err(e) = v.coerce(items) {
                                    acc.push(&format!("{at}/values/{i}"), e);
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
            Filter::JsonPath {
                field, path, value, ..
            } => {
                self.caps
                    .require(self.caps.json_path, "JSON path filters")?;
                if let Some(fd) = self.field_at(field, at, acc)
                    && fd.ty != FieldType::Json
                {
                    acc.push(
                        &format!("{at}/field"),
                        format!(
                            "JSON paths need a json field; `{field}` is {}",
                            fd.ty.name()
                        ),
                    );
                }
                if path.is_empty() {
                    acc.push(&format!("{at}/path"), "the JSON path is empty");
                }
                if !matches!(
                    value,
                    Value::Text(_) | Value::Int(_) | Value::Float(_) | Value::Bool(_)
                ) {
                    acc.push(
                        &format!("{at}/value"),
                        format!(
                            "JSON path operands must be a string, number or boolean, not {}",
                            value.kind_name()
                        ),
                    );
                }
            }
            Filter::Exists { relation, filter } => match self.entity().relation(relation) {
                Err(_) => acc.push(
                    &format!("{at}/relation"),
                    format!("unknown relation `{relation}` on `{}`", self.entity().name),
                ),
                Ok(rel) => {
                    let target = self.schema().entity(&rel.target)?;
                    if let RelationKind::ManyToMany { through } = &rel.kind {
                        self.schema().entity(&through.entity)?;
                    }
                    if let Some(g) = filter {
                        self.at(target)
                            .filter_rec(g, &format!("{at}/filter"), acc)?;
                    }
                }
            },
        }
        Ok(())
    }

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

    fn record(&self, r: &Record, at: &str, partial: bool, acc: &mut Acc) {
        for (k, v) in r {
            match self.entity().field(k) {
                Err(_) => acc.push(
                    &format!("{at}/{}", escape_pointer(k)),
                    format!("unknown field `{k}` on `{}`", self.entity().name),
                ),
                Ok(f) if f.generated == Generated::Always => acc.push(
                    &format!("{at}/{}", escape_pointer(k)),
                    format!("`{k}` is generated by the database and cannot be written"),
                ),
                Ok(f) => {
                    let v = Value::from_json(v);
                    if v.is_null() && !f.nullable {
                        acc.push(
                            &format!("{at}/{}", escape_pointer(k)),
                            format!("`{k}` cannot be null"),
                        );
                    } else if let Err(e) = v.coerce_write(&f.ty) {
                        acc.push(
                            &format!("{at}/{}", escape_pointer(k)),
                            format!("`{k}`: {e}"),
                        );
                    } else if let (Some(max), Value::Text(s)) = (f.max_length, &v)
                        && s.chars().count() > max as usize
                    {
                        acc.push(
                            &format!("{at}/{}", escape_pointer(k)),
                            format!("`{k}` is longer than {max} characters"),
                        );
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
                    acc.push(at, format!("required field `{}` is missing", f.name));
                }
            }
        }
    }

    fn returning(&self, r: &Option<Vec<String>>, acc: &mut Acc) {
        for (i, f) in r.iter().flatten().enumerate() {
            if self.entity().field(f).is_err() {
                acc.push(
                    &format!("/returning/{i}"),
                    format!("unknown field `{f}` on `{}`", self.entity().name),
                );
            }
        }
    }

    /// Check an insert.
    pub fn insert(&self, ins: &Insert) -> Result<()> {
        self.writable()?;
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
        for (i, r) in ins.rows.iter().enumerate() {
            self.record(r, &format!("/rows/{i}"), false, &mut acc);
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
                    acc.push(
                        &format!("/on_conflict/target/{i}"),
                        format!("unknown field `{f}` on `{}`", self.entity().name),
                    );
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
        self.returning(&ins.returning, &mut acc);
        acc.finish()
    }

    /// Check an update.
    pub fn update(&self, upd: &Update) -> Result<()> {
        self.writable()?;
        let mut acc = Acc(Vec::new());
        if upd.set.is_empty() {
            acc.push("/set", "nothing to update");
        }
        self.record(&upd.set, "/set", true, &mut acc);
        self.filter_into(&upd.filter, "/filter", &mut acc)?;
        self.returning(&upd.returning, &mut acc);
        acc.finish()
    }

    /// Check a delete.
    pub fn delete(&self, del: &Delete) -> Result<()> {
        self.writable()?;
        let mut acc = Acc(Vec::new());
        self.filter_into(&del.filter, "/filter", &mut acc)?;
        self.returning(&del.returning, &mut acc);
        acc.finish()
    }

    /// Check an aggregate request.
    pub fn aggregate(&self, a: &Aggregate) -> Result<()> {
        let mut acc = Acc(Vec::new());
        if let Some(f) = &a.filter {
            self.filter_into(f, "/filter", &mut acc)?;
        }
        for (i, g) in a.group_by.iter().enumerate() {
            match self.entity().field(g) {
                Err(_) => acc.push(
                    &format!("/group_by/{i}"),
                    format!("unknown field `{g}` on `{}`", self.entity().name),
                ),
                Ok(f) if !sortable(&f.ty) => acc.push(
                    &format!("/group_by/{i}"),
                    format!("cannot group by `{g}` of type {}", f.ty.name()),
                ),
                Ok(_) => {}
            }
        }
        if a.aggregates.is_empty() {
            acc.push("/aggregates", "no aggregate requested");
        }
        for (i, ag) in a.aggregates.iter().enumerate() {
            let at = format!("/aggregates/{i}");
            if a.aggregates[..i].iter().any(|o| o.alias == ag.alias)
                || a.group_by.contains(&ag.alias)
            {
                acc.push(
                    &format!("{at}/alias"),
                    format!("duplicate output key `{}`", ag.alias),
                );
            }
            if let Some(field) = ag.func.field() {
                match self.entity().field(field) {
                    Err(_) => acc.push(
                        &format!("{at}/field"),
                        format!("unknown field `{field}` on `{}`", self.entity().name),
                    ),
                    Ok(f) => {
                        let ok = match ag.func {
                            AggregateFn::Sum { .. } | AggregateFn::Avg { .. } => f.ty.is_numeric(),
                            AggregateFn::Min { .. } | AggregateFn::Max { .. } => {
                                f.ty.is_ordered() && !matches!(f.ty, FieldType::Uuid)
                            }
                            _ => sortable(&f.ty),
                        };
                        if !ok {
                            acc.push(
                                &format!("{at}/fn"),
                                format!(
                                    "this aggregate does not apply to `{field}` of type {}",
                                    f.ty.name()
                                ),
                            );
                        }
                    }
                }
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
            if !a.group_by.contains(&o.field) && !a.aggregates.iter().any(|ag| ag.alias == o.field)
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
        acc.finish()
    }
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
