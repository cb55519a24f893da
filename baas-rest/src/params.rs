//! Query parameters → a tree of resource nodes (the root entity and its
//! embeddings), each with its own filters, order and limit. Shared by reads
//! and writes.

use baas_core::ir::{AggregateExpr, AggregateFn, Embed, Filter, GroupValue, OrderBy, Selection};
use baas_core::{Entity, Relation, SchemaMetadata, Value};

use crate::filter::{IsWord, Operation, parse_key, parse_logic, parse_op_value, to_filter};
use crate::lex::{Cursor, name, parse_query_string};
use crate::select::{SelectItem, parse_order, parse_select};
use crate::{ParseLimits, RestError};

/// The root entity or one embedding, with what the parameters asked of it.
#[derive(Debug, Clone)]
pub(crate) struct Node<'s> {
    pub(crate) entity: &'s Entity,
    /// Output key (alias, or the name as written in `select=`).
    pub(crate) key: String,
    /// Resolved relation name (empty for the root).
    pub(crate) relation: String,
    /// The embedding's name as `select=` writes it, before its alias
    /// (`album` of `albums:album(…)`): filters and orders may name it
    /// too, as PostgREST's do.
    pub(crate) written: String,
    pub(crate) alias: Option<String>,
    pub(crate) inner: bool,
    /// False for an empty `rel()`: used to filter parents, not returned.
    pub(crate) output: bool,
    /// True when `select=` was absent or listed `*`.
    pub(crate) star: bool,
    pub(crate) fields: Vec<String>,
    /// Every listed field as (output key, field), in `select=` order
    /// (`alias:col` gives `alias`).
    pub(crate) outputs: Vec<(String, String)>,
    pub(crate) filters: Vec<Filter>,
    pub(crate) order: Option<Vec<OrderBy>>,
    pub(crate) limit: Option<u64>,
    pub(crate) offset: Option<u64>,
    /// `rel=not.is.null` (`Some(true)`) / `rel=is.null` (`Some(false)`).
    pub(crate) exists: Option<bool>,
    /// `...rel(cols)`: `Some(to_many)`; the fields join the parent.
    pub(crate) spread: Option<bool>,
    /// An embedding of a to-many relation (spread or not).
    pub(crate) to_many: bool,
    /// A to-many spread with aggregates ([`Node::lifts`]) that also lists
    /// fields: the key the engine answers its aggregates under, read
    /// apart from its rows.
    pub(crate) split: Option<String>,
    /// A to-one spread's `count()`s, raised to its parent: PostgREST
    /// groups the parent by the spread's fields, so they count the
    /// parent's rows.
    pub(crate) raised: Vec<AggregateExpr>,
    /// Aggregates in `select` (`count()`, `col.sum()`…): the other listed
    /// fields group them.
    pub(crate) aggregates: Vec<AggregateExpr>,
    /// JSON paths and casts in `select` (`data->a->>b`, `col::text`), by
    /// output key.
    pub(crate) shapes: Vec<(String, Shape)>,
    /// Casts the database applies (`col::interval`: a type [`Cast`] does
    /// not convert), by output key, as `select=` lists them.
    pub(crate) sql_casts: Vec<(String, baas_core::ir::FieldCast)>,
    /// Without aggregates: the database's casts the engine answers
    /// ([`Node::settle`]).
    pub(crate) casts: Vec<baas_core::ir::FieldCast>,
    /// Beside aggregates: the fields grouped by their stored value
    /// ([`Node::settle`]).
    pub(crate) group_by: Vec<String>,
    /// Beside aggregates: the values the engine groups by
    /// ([`Node::settle`]); the shapes of their outputs keep only their
    /// casts (the engine answers the value at the path).
    pub(crate) grouped: Vec<GroupValue>,
    /// (output key, engine key) of the outputs the engine answers under a
    /// key of their own rather than their field's name (one field in two
    /// computed forms, or a database cast beside the stored value).
    pub(crate) answers: Vec<(String, String)>,
    /// The answer's keys in `select=` order (`None`: where `*` stands):
    /// an output's key, an embedding's, a raised aggregate's.
    pub(crate) layout: Vec<Option<String>>,
    pub(crate) children: Vec<Node<'s>>,
}

impl<'s> Node<'s> {
    fn new(entity: &'s Entity, key: String) -> Self {
        Self {
            entity,
            written: key.clone(),
            key,
            relation: String::new(),
            alias: None,
            inner: false,
            output: true,
            star: true,
            fields: Vec::new(),
            outputs: Vec::new(),
            filters: Vec::new(),
            order: None,
            limit: None,
            offset: None,
            exists: None,
            spread: None,
            to_many: false,
            split: None,
            raised: Vec::new(),
            aggregates: Vec::new(),
            shapes: Vec::new(),
            sql_casts: Vec::new(),
            casts: Vec::new(),
            group_by: Vec::new(),
            grouped: Vec::new(),
            answers: Vec::new(),
            layout: Vec::new(),
            children: Vec::new(),
        }
    }

    fn find_mut(&mut self, path: &[String]) -> Result<&mut Node<'s>, RestError> {
        let Some((first, rest)) = path.split_first() else {
            return Ok(self);
        };
        let parent = self.entity.name.clone();
        // By its key, else by its name as written when one embedding
        // alone has it (`album.order=…` of `albums:album(…)`).
        let at = self
            .children
            .iter()
            .position(|c| &c.key == first)
            .or_else(|| {
                let mut named = self
                    .children
                    .iter()
                    .enumerate()
                    .filter(|(_, c)| &c.written == first);
                match (named.next(), named.next()) {
                    (Some((i, _)), None) => Some(i),
                    _ => None,
                }
            });
        let Some(child) = at.map(|i| &mut self.children[i]) else {
            return Err(RestError::new(
                400,
                "PGRST108",
                format!("`{first}` is not an embedded resource of `{parent}` in this request"),
            )
            .with_hint(format!(
                "add `{first}(*)` to `select=` to filter or order it"
            )));
        };
        child.find_mut(rest)
    }

    /// The field listed under the alias `key` (`category` of
    /// `category:name`), when `key` is no field of the entity and that
    /// output shows the stored value (no path, no cast).
    fn aliased_field(&self, key: &str) -> Option<&str> {
        if self.entity.field(key).is_ok()
            || self.shapes.iter().any(|(k, _)| k == key)
            || self.sql_casts.iter().any(|(k, _)| k == key)
        {
            return None;
        }
        self.outputs
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, f)| f.as_str())
            // A key of a to-one spread inside it is one of its keys too.
            .or_else(|| {
                self.children
                    .iter()
                    .filter(|c| c.spread == Some(false))
                    .find_map(|c| c.aliased_field(key))
            })
    }

    /// Decide what the engine computes, once `select=` is parsed, so that
    /// every output reads one value the engine answers:
    /// - beside aggregates, a field shown only through forms that could
    ///   show two stored values as one (a JSON path, `::date` of a
    ///   timestamp…) groups by each value the engine computes
    ///   ([`Shape::grouping`]); a field also shown as stored groups by its
    ///   stored value, which decides every form the shapes compute;
    /// - a database cast (`id::inet`) is the engine's, grouped beside
    ///   aggregates;
    /// - one computed value of a field, shown alone, is answered under
    ///   the field's name; several, or one beside the stored value (also
    ///   through `*`), each under a key of its own ([`Node::answers`]).
    fn settle(&mut self) -> Result<(), RestError> {
        // A to-many spread's fields list every related row: not grouped.
        let aggregates = self.aggregated();
        // Each output of a field, with the value the engine computes for
        // it (`None`: the stored value) and whether the database casts.
        let mut forms: Vec<(String, String, Option<GroupValue>, bool)> = Vec::new();
        for (key, field) in &self.outputs {
            if self.aggregates.iter().any(|a| a.alias == *key) {
                continue;
            }
            let Ok(f) = self.entity.field(field) else {
                continue;
            };
            if let Some((_, c)) = self.sql_casts.iter().find(|(k, _)| k == key) {
                let g = GroupValue::Cast {
                    field: c.field.clone(),
                    path: c.path.clone(),
                    to: c.to.clone(),
                    alias: None,
                };
                forms.push((key.clone(), field.clone(), Some(g), true));
                continue;
            }
            let g = match self.shapes.iter().find(|(k, _)| k == key) {
                Some((_, shape)) if aggregates => shape.grouping(f)?,
                _ => None,
            };
            forms.push((key.clone(), field.clone(), g, false));
        }
        // Keys the engine answers already: fields, aggregates, embeds.
        let mut taken: Vec<String> = self.aggregates.iter().map(|a| a.alias.clone()).collect();
        taken.extend(
            self.children
                .iter()
                .flat_map(|c| std::iter::once(c.engine_key().to_string()).chain(c.split.clone())),
        );
        let mut done: Vec<&str> = Vec::new();
        for (_, field, _, _) in &forms {
            if done.contains(&field.as_str()) {
                continue;
            }
            done.push(field);
            let of_field = || forms.iter().filter(|(_, f, _, _)| f == field);
            let stored = (self.star && !aggregates) || of_field().any(|(_, _, g, _)| g.is_none());
            if stored && aggregates {
                self.group_by.push(field.clone());
            }
            // The values the engine computes: the database's casts, and
            // beside aggregates, without the stored value, every form.
            let mut computed: Vec<(&GroupValue, bool)> = Vec::new();
            for (_, _, g, sql) in of_field() {
                if let Some(g) = g
                    && (*sql || !stored)
                    && !computed.iter().any(|(c, _)| *c == g)
                {
                    computed.push((g, *sql));
                }
            }
            let own_keys = stored || computed.len() > 1;
            for (g, sql) in computed {
                let outputs: Vec<&str> = of_field()
                    .filter(|(_, _, o, _)| o.as_ref() == Some(g))
                    .map(|(k, _, _, _)| k.as_str())
                    .collect();
                let answer = if own_keys {
                    let base = outputs[0];
                    let free =
                        |k: &str| self.entity.field(k).is_err() && !taken.iter().any(|t| t == k);
                    std::iter::once(base.to_string())
                        .chain((2..).map(|i| format!("{base}_{i}")))
                        .find(|k| free(k))
                        .unwrap_or_else(|| base.to_string())
                } else {
                    field.clone()
                };
                taken.push(answer.clone());
                for k in &outputs {
                    if answer != *field {
                        self.answers.push((k.to_string(), answer.clone()));
                    }
                    // The engine answers the value at the path: the shape
                    // keeps its cast.
                    if !sql && let Some((_, shape)) = self.shapes.iter_mut().find(|(s, _)| s == k) {
                        shape.path.clear();
                    }
                }
                let alias = (answer != *field).then_some(answer);
                match g {
                    _ if aggregates => self.grouped.push(match alias {
                        Some(a) => g.clone().aliased(a),
                        None => g.clone(),
                    }),
                    GroupValue::Cast {
                        field, path, to, ..
                    } => self.casts.push(baas_core::ir::FieldCast {
                        field: field.clone(),
                        to: to.clone(),
                        path: path.clone(),
                        alias,
                    }),
                    _ => {}
                }
            }
        }
        Ok(())
    }

    /// The embedding a filter's field names (`rel` of `rel=is.null`):
    /// a child's key that is no field of this node's entity.
    fn embedding_of(&self, field: &crate::filter::FieldRef) -> Option<&Node<'s>> {
        if !field.json.is_empty() || self.entity.field(&field.name).is_ok() {
            return None;
        }
        self.children.iter().find(|c| c.key == field.name)
    }

    /// The row condition of this node: its own filters and the existence
    /// conditions its `!inner` / `is.null` children put on it.
    pub(crate) fn condition(&self) -> Option<Filter> {
        self.condition_with(true)
    }

    /// The condition of a write: [`condition`](Self::condition) without
    /// this node's own `!inner` children, which filter only a write's
    /// representation, as in PostgREST (`WriteRequest::inner`).
    pub(crate) fn write_condition(&self) -> Option<Filter> {
        self.condition_with(false)
    }

    fn condition_with(&self, inner: bool) -> Option<Filter> {
        let mut all = self.filters.clone();
        for c in &self.children {
            let exists = || Filter::Exists {
                relation: c.relation.clone(),
                filter: c.condition().map(Box::new),
                through: None,
            };
            if (c.inner && inner) || c.exists == Some(true) {
                all.push(exists());
            }
            if c.exists == Some(false) {
                all.push(Filter::not(exists()));
            }
        }
        match all.len() {
            0 => None,
            1 => all.pop(),
            _ => Some(Filter::and(all)),
        }
    }

    /// The IR selection of this node.
    pub(crate) fn selection(&self) -> Selection {
        // `*` reads every field but computed ones, which are read when
        // named (`*,full_name`).
        let computed: Vec<String> = self
            .fields
            .iter()
            .filter(|f| self.entity.field(f).is_ok_and(|f| f.is_computed()))
            .cloned()
            .collect();
        Selection {
            star: self.star && !computed.is_empty(),
            fields: if self.star {
                computed
            } else {
                self.fields.clone()
            },
            // `select=rel(*)`: the embed only, as PostgREST answers.
            omit_fields: !self.star && self.fields.is_empty(),
            casts: self.casts.clone(),
            embeds: self
                .children
                .iter()
                .filter(|c| c.output)
                .flat_map(Node::embeds)
                .collect(),
            aggregates: Vec::new(),
            group_by_values: Vec::new(),
        }
    }

    /// Whether a shape of this selection, or of an embedding's, can refuse
    /// a value the engine answers ([`Shape::may_fail`], by its field's
    /// type).
    pub(crate) fn casts_may_fail(&self) -> bool {
        self.shapes_may_fail() || self.children.iter().any(|c| c.output && c.casts_may_fail())
    }

    /// Whether a shape of this selection itself (its embeddings' aside)
    /// can refuse a value the engine answers.
    pub(crate) fn shapes_may_fail(&self) -> bool {
        self.shapes.iter().any(|(key, shape)| {
            let field = self
                .outputs
                .iter()
                .find(|(k, _)| k == key)
                .and_then(|(_, f)| self.entity.field(f).ok());
            field.is_none_or(|f| shape.may_fail(&f.ty))
        })
    }

    /// The output names of this node and its embeds, when some field is
    /// renamed (`alias:col`) anywhere below it.
    pub(crate) fn aliases(&self) -> Option<FieldAliases> {
        let embeds: Vec<(String, FieldAliases)> = self
            .children
            .iter()
            .filter(|c| c.output)
            .filter_map(|c| Some((c.key.clone(), c.aliases()?)))
            .collect();
        let renamed = !self.answers.is_empty() || self.outputs.iter().any(|(k, f)| k != f);
        let embed_renames: Vec<(String, String)> = self
            .children
            .iter()
            .filter(|c| c.output && c.engine_key() != c.key)
            .map(|c| (c.engine_key().to_string(), c.key.clone()))
            .collect();
        let spreads: Vec<Spread> = self
            .children
            .iter()
            .filter(|c| c.output)
            .filter_map(|c| {
                Some(Spread {
                    key: c.key.clone(),
                    to_many: c.spread?,
                    keys: c.spread_keys(),
                    groups: if c.spread == Some(true) {
                        c.many_groups()
                    } else {
                        Vec::new()
                    },
                    lifted: c
                        .lifts()
                        .then(|| c.split.clone().unwrap_or_else(|| c.key.clone())),
                })
            })
            .collect();
        // The engine answers groups before aggregates and embeddings after
        // fields: where either is here, the answer is put in `select=` order.
        let embedding = |k: &Option<String>| {
            k.as_ref().is_some_and(|k| {
                self.children
                    .iter()
                    .any(|c| c.key == *k || c.split.as_ref() == Some(k))
            })
        };
        let first_embedding = self.layout.iter().position(embedding);
        let field_after =
            first_embedding.is_some_and(|i| self.layout[i..].iter().any(|k| !embedding(k)));
        let layout = if self.aggregated() || field_after {
            self.layout.clone()
        } else {
            Vec::new()
        };
        (renamed
            || !embeds.is_empty()
            || !spreads.is_empty()
            || !embed_renames.is_empty()
            || !self.shapes.is_empty()
            || !layout.is_empty())
        .then(|| FieldAliases {
            layout,
            flat_layout: self.flat_layout(),
            join_limit: None,
            shapes: self.shapes.clone(),
            embed_renames,
            spreads,
            star: self.star,
            fields: if renamed {
                self.outputs
                    .iter()
                    .map(|(k, f)| {
                        let answer = self.answers.iter().find(|(o, _)| o == k);
                        (k.clone(), answer.map_or(f, |(_, a)| a).clone())
                    })
                    .collect()
            } else {
                Vec::new()
            },
            answers: self.answers.iter().map(|(_, a)| a.clone()).collect(),
            embed_keys: self
                .children
                .iter()
                .filter(|c| c.output)
                .flat_map(|c| std::iter::once(c.key.clone()).chain(c.split.clone()))
                .collect(),
            embeds,
        })
    }

    /// [`FieldAliases::flat_layout`]: this node's layout with each to-one
    /// spread whose keys hold a `count()` raised to this node replaced by
    /// its own keys, those of the to-one spreads inside it in their place
    /// (the raised one among them); empty when no spread has one. A
    /// spread listing `*`, or with a to-many spread or one listing `*`
    /// inside it, keeps the raised keys after its fields.
    fn flat_layout(&self) -> Vec<Option<String>> {
        let mine = |k: &String| self.layout.iter().flatten().any(|l| l == k);
        let raises = |c: &Node<'_>| {
            c.output
                && c.spread == Some(false)
                && c.spread_layout()
                    .is_some_and(|l| l.iter().flatten().any(|k| *k != c.key && mine(k)))
        };
        if !self.children.iter().any(raises) {
            return Vec::new();
        }
        let mut out: Vec<Option<String>> = Vec::new();
        for slot in &self.layout {
            match self
                .children
                .iter()
                .find(|c| slot.as_ref() == Some(&c.key) && raises(c))
            {
                Some(c) => out.extend(c.spread_layout().unwrap_or_default()),
                None if slot.is_some() && out.contains(slot) => {}
                None => out.push(slot.clone()),
            }
        }
        out
    }

    /// The keys a spread puts in its parent, in `select=` order: its
    /// listed fields and embeddings, each spread inside it replaced by its
    /// own keys (`*`'s fields are added once known,
    /// [`FieldAliases::fill_star_spreads`]).
    fn spread_keys(&self) -> Vec<KeyPart> {
        let mut out = Vec::new();
        for slot in &self.layout {
            let Some(k) = slot else {
                if self.star {
                    out.push(KeyPart::Star(self.entity.name.clone()));
                }
                continue;
            };
            // A to-many spread's aggregates are lifted apart, as values
            // (not keys of its rows), under a key of their own.
            if self.lifts() && self.aggregates.iter().any(|a| a.alias == *k)
                || self.children.iter().any(|g| g.split.as_ref() == Some(k))
            {
                continue;
            }
            match self
                .children
                .iter()
                .find(|g| g.output && g.spread.is_some() && g.key == *k)
            {
                Some(g) => out.extend(g.spread_keys()),
                None => out.push(KeyPart::Key(k.clone())),
            }
        }
        out
    }

    /// The to-many relations inside this to-many spread, each as the keys
    /// it puts in the spread's rows: a to-many spread's keys, a to-many
    /// embedding's key, those found through to-one spreads. PostgREST
    /// joins the spread's rows to theirs (one row per combination, a row
    /// of `null`s for none) before it gathers each key's values.
    fn many_groups(&self) -> Vec<Vec<KeyPart>> {
        let mut out = Vec::new();
        for g in self.children.iter().filter(|g| g.output) {
            match g.spread {
                Some(true) => out.push(g.spread_keys()),
                Some(false) => out.extend(g.many_groups()),
                None if g.to_many => out.push(vec![KeyPart::Key(g.key.clone())]),
                None => {}
            }
        }
        out
    }

    /// A to-one spread's keys as they join its parent: its layout, each
    /// to-one spread inside it replaced by its own; `None` when it (or
    /// one inside it) lists `*` or holds a to-many spread.
    fn spread_layout(&self) -> Option<Vec<Option<String>>> {
        if self.star || self.children.iter().any(|g| g.spread == Some(true)) {
            return None;
        }
        let mut out = Vec::new();
        for slot in &self.layout {
            match self
                .children
                .iter()
                .find(|g| g.output && g.spread == Some(false) && slot.as_ref() == Some(&g.key))
            {
                Some(g) => out.extend(g.spread_layout()?),
                None => out.push(slot.clone()),
            }
        }
        Some(out)
    }

    /// Whether this node or one below casts a field in the database
    /// ([`Node::sql_casts`], or a [`GroupValue::Cast`] its aggregates
    /// group by).
    pub(crate) fn has_sql_casts(&self) -> bool {
        !self.sql_casts.is_empty()
            || self
                .grouped
                .iter()
                .chain(self.aggregates.iter().filter_map(|a| a.input.as_ref()))
                .any(|g| matches!(g, GroupValue::Cast { .. }))
            || self.children.iter().any(Node::has_sql_casts)
    }

    /// The key the engine answers this embed under.
    pub(crate) fn engine_key(&self) -> &str {
        self.alias.as_deref().unwrap_or(&self.relation)
    }

    /// A to-many spread with aggregates (`...rel(count())`,
    /// `...rel(id,total.sum())`, which PostgREST 13 refuses): its
    /// aggregates are over all of a parent's related rows, and join the
    /// parent as values;
    /// its fields, arrays of every related row's value
    /// ([`Node::split`]).
    pub(crate) fn lifts(&self) -> bool {
        self.spread == Some(true) && !self.aggregates.is_empty()
    }

    /// A to-one spread with aggregates of its own fields
    /// (`...category(name,budget.sum())`): as in PostgREST, they are over
    /// the parent's rows, the spread's fields grouping them with the
    /// parent's; the engine joins the related row to the aggregated rows
    /// ([`baas_engine::Baas::aggregate_joining`]) and answers them inside
    /// the embedding, which the spread puts in the parent. So is one with
    /// such a spread inside it (`...track(media_type_id,...album(album_id.sum()))`:
    /// the aggregated rows join the track, then its album).
    pub(crate) fn joins(&self) -> bool {
        self.spread == Some(false)
            && (!self.aggregates.is_empty() || self.children.iter().any(Node::joins))
    }

    /// Whether this node's rows are grouped: aggregates of its own, or of
    /// a to-one spread's ([`Node::joins`]).
    pub(crate) fn aggregated(&self) -> bool {
        (!self.aggregates.is_empty() && !self.lifts()) || self.children.iter().any(Node::joins)
    }

    /// Whether a spread below this node, through spreads, has aggregates.
    fn spreads_aggregates(&self) -> bool {
        self.children
            .iter()
            .any(|c| c.spread.is_some() && (!c.aggregates.is_empty() || c.spreads_aggregates()))
    }

    /// The order of this node's rows. Beside aggregates, an output's own
    /// key that names no field of the entity (`select=day:at::date,count()&order=day`)
    /// names the value it shows, as an aggregate's alias does: the key the
    /// engine answers that value under (PostgREST orders by columns only,
    /// where the ungrouped column is PostgreSQL's error).
    pub(crate) fn order_by(&self) -> Vec<OrderBy> {
        let mut order = self.order.clone().unwrap_or_default();
        if !self.aggregated() {
            return order;
        }
        for o in &mut order {
            if o.related.is_some()
                || o.json.is_some()
                || self.entity.field(&o.field).is_ok()
                || self.aggregates.iter().any(|a| a.alias == o.field)
            {
                continue;
            }
            let Some((key, field)) = self.outputs.iter().find(|(k, _)| *k == o.field) else {
                continue;
            };
            o.field = match self.answers.iter().find(|(k, _)| k == key) {
                Some((_, answer)) => answer.clone(),
                None => field.clone(),
            };
        }
        order
    }

    /// The IR embeds of this node: one, or for a [`Node::lifts`] spread
    /// that lists fields, its rows and its aggregates apart.
    fn embeds(&self) -> Vec<Embed> {
        if !self.lifts() {
            return vec![self.embed()];
        }
        let aggregated = |alias: Option<String>| Embed {
            relation: self.relation.clone(),
            alias,
            select: Selection {
                aggregates: self.aggregates.clone(),
                ..Selection::default()
            },
            filter: self.condition(),
            order: Vec::new(),
            limit: self.limit,
            offset: self.offset.filter(|o| *o > 0),
            through: None,
            spread: true,
        };
        match &self.split {
            None => vec![aggregated(self.alias.clone())],
            Some(key) => vec![self.rows_embed(), aggregated(Some(key.clone()))],
        }
    }

    fn embed(&self) -> Embed {
        let mut embed = self.rows_embed();
        if self.aggregated() {
            let select = &mut embed.select;
            // `rel(count)`, `rel(col,col2.sum())`: the listed fields group.
            select.fields = self.group_by.clone();
            select.omit_fields = false;
            select.aggregates = self.aggregates.clone();
            select.group_by_values = self.grouped.clone();
        }
        embed
    }

    /// This node's rows as an embed (its aggregates aside).
    fn rows_embed(&self) -> Embed {
        Embed {
            relation: self.relation.clone(),
            alias: self.alias.clone(),
            select: self.selection(),
            filter: self.condition(),
            order: self.order_by(),
            limit: self.limit,
            offset: self.offset.filter(|o| *o > 0),
            through: None,
            spread: self.spread.is_some(),
        }
    }
}

/// The output names of the selected fields (`select=alias:col`), applied
/// to the rows the engine returns (the IR names fields only by their
/// names): for the root and, by output key, for each embed below it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FieldAliases {
    /// `*` was selected: every field is kept, the aliased copies follow.
    star: bool,
    /// (output key, engine key: the field, or [`Node::answers`]'s) in
    /// `select=` order; empty: no field renamed here.
    fields: Vec<(String, String)>,
    /// Keys the engine answers for an output only ([`Node::answers`]):
    /// not fields `*` keeps.
    answers: Vec<String>,
    /// The output keys of every embed of this level, in order.
    embed_keys: Vec<String>,
    /// Aliases inside embeds, by the embed's output key.
    embeds: Vec<(String, FieldAliases)>,
    /// Embeds spread into this level (`...rel(cols)`).
    spreads: Vec<Spread>,
    /// (engine key, output key) of embeds the engine answered under
    /// another name (the output key is a field of this level).
    embed_renames: Vec<(String, String)>,
    /// JSON paths and casts, by output key, applied to the renamed row.
    shapes: Vec<(String, Shape)>,
    /// The keys in `select=` order, as PostgREST answers them (`None`:
    /// the fields `*` reads, in the engine's order), where the engine's
    /// order differs (groups before aggregates, embeddings last); empty:
    /// the engine's order is the answer's.
    layout: Vec<Option<String>>,
    /// The answer's keys once spreads are lifted, where a to-one
    /// spread's raised `count()` stands among its fields in `select=`
    /// (`...album(n:count(),title)`: `n`, then `title`); empty otherwise.
    flat_layout: Vec<Option<String>>,
    /// The rows and bytes the joins of to-many spreads may add to the
    /// whole answer ([`JoinBudget`]); `None`: unbounded (set by the
    /// service, from the tenant's `max_rows` and `max_response_bytes`).
    join_limit: Option<(u64, u64)>,
}

/// A JSON path into a field and/or a cast in `select` (`data->a->>b`,
/// `data->0`, `col::text`, `price::int`), applied to the value the engine
/// answered, so every engine answers alike: an object step takes the key,
/// an array step an index (negative from the end); a missing step gives
/// `null`; `->>` and `::text` give the text of the value (a string as it
/// is, other values as their compact JSON text, `null` stays `null`);
/// `::json` and `::jsonb` change nothing; the other casts convert as PostgreSQL does (`Cast`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Shape {
    /// The keys and indexes, in order.
    pub(crate) path: Vec<String>,
    /// The last step was `->>`.
    pub(crate) text: bool,
    /// `::type`.
    pub(crate) cast: Option<String>,
}

impl Shape {
    fn apply(
        &self,
        mut v: serde_json::Value,
        zone: Option<baas_core::zone::Zone>,
    ) -> Result<serde_json::Value, RestError> {
        use serde_json::Value as J;
        if !self.path.is_empty() {
            // An index steps into an array only (an object's key `0` is
            // not its `->0`), a key into an object only.
            v = baas_core::ir::json_at(&v, &self.path)
                .cloned()
                .unwrap_or(J::Null);
        }
        if self.text {
            v = Cast::Text.apply(v, zone)?;
            // `->>…::json`: the text read as JSON, as PostgreSQL casts it
            // (`settings->>foo::json` of `{"int":1}` is that object).
            if let (J::String(t), Some(Some(Cast::Json))) =
                (&v, self.cast.as_deref().map(Cast::parse))
            {
                return serde_json::from_str(t).map_err(|_| {
                    RestError::new(400, "22P02", "invalid input syntax for type json")
                        .with_details(format!("Token \"{t}\" is invalid."))
                });
            }
        }
        match self.cast.as_deref().map(Cast::parse) {
            Some(Some(c)) => c.apply(v, zone),
            Some(None) => Err(Cast::unknown(self.cast.as_deref().unwrap_or_default())),
            None => Ok(v),
        }
    }

    /// How aggregates group by this shape of `field`: `None` by the stored
    /// value (the shape shows two stored values as two), else by the
    /// value the engine computes ([`GroupValue`]): the value at a path
    /// (its text after `->>`, kept by a `::text` or `::json` after it),
    /// the date of a timestamp (`::date`), a number rounded to an integer
    /// (`::int`), whether an integer is not zero (`::bool`), on every
    /// engine; the other casts that can merge values (`::float4` of a
    /// double, `::time` of a timestamp, casts of text, a cast of the value
    /// at a path to another type) by the database's own cast, PostgreSQL
    /// only (the engine refuses it elsewhere: a 501 naming it).
    pub(crate) fn grouping(
        &self,
        field: &baas_core::Field,
    ) -> Result<Option<GroupValue>, RestError> {
        self.computed(field, Cast::keeps_distinct)
    }

    /// What an aggregate of this shape of `field` aggregates (PostgREST's
    /// input cast, `data->>n::int.sum()`): `None`, the stored value, where
    /// the cast keeps every value and its order (`::int8` of an integer,
    /// `::numeric` of a number, `::text` of a text); else the value
    /// computed as [`grouping`](Self::grouping) computes it, by the
    /// database's own cast where no engine-wide value applies (`id::text`
    /// orders as text: PostgreSQL only).
    pub(crate) fn aggregated(
        &self,
        field: &baas_core::Field,
    ) -> Result<Option<GroupValue>, RestError> {
        self.computed(field, Cast::keeps_value)
    }

    /// The value of `field` this shape gives, or `None` where `stored`
    /// says the cast may be ignored.
    fn computed(
        &self,
        field: &baas_core::Field,
        stored: fn(Cast, &baas_core::FieldType) -> bool,
    ) -> Result<Option<GroupValue>, RestError> {
        use baas_core::FieldType as T;
        let cast = match self.cast.as_deref() {
            Some(c) => Some(Cast::parse(c).ok_or_else(|| Cast::unknown(c))?),
            None => None,
        };
        let database = |c: Cast| {
            Ok(Some(GroupValue::Cast {
                field: field.name.clone(),
                path: self.path.clone(),
                to: c.type_name().to_string(),
                alias: None,
            }))
        };
        if !self.path.is_empty() {
            return match cast {
                None | Some(Cast::Text | Cast::Json) => Ok(Some(GroupValue::Json {
                    field: field.name.clone(),
                    path: self.path.clone(),
                    text: self.text || cast == Some(Cast::Text),
                    alias: None,
                })),
                Some(c) => database(c),
            };
        }
        match cast {
            None => Ok(None),
            Some(c) if stored(c, &field.ty) => Ok(None),
            Some(Cast::Date) if matches!(field.ty, T::Timestamp | T::TimestampTz) => {
                Ok(Some(GroupValue::Date {
                    field: field.name.clone(),
                    alias: None,
                }))
            }
            Some(Cast::Int(_))
                if matches!(field.ty, T::Decimal { .. } | T::Float32 | T::Float64) =>
            {
                Ok(Some(GroupValue::Integer {
                    field: field.name.clone(),
                    alias: None,
                }))
            }
            Some(Cast::Bool) if matches!(field.ty, T::Int16 | T::Int32 | T::Int64) => {
                Ok(Some(GroupValue::NonZero {
                    field: field.name.clone(),
                    alias: None,
                }))
            }
            Some(c) => database(c),
        }
    }

    /// Whether the shape can refuse a stored value of type `ty` (a 400
    /// after the engine answered: not allowed where the request has
    /// already written). A value at a JSON path can be anything: only
    /// `::text` and `::json` take every one; a field's own type decides
    /// the others (`::date` of a timestamp, `::numeric` of an integer,
    /// `::int8` of an `int4` never refuse; `::int` of a decimal can be out
    /// of range).
    pub(crate) fn may_fail(&self, ty: &baas_core::FieldType) -> bool {
        use baas_core::FieldType as T;
        let cast = match self.cast.as_deref().map(Cast::parse) {
            None | Some(Some(Cast::Text | Cast::Json)) => return false,
            Some(None) => return true,
            Some(Some(c)) => c,
        };
        if !self.path.is_empty() {
            return true;
        }
        let fits = match cast {
            Cast::Int(bits) => match ty {
                T::Boolean => true,
                T::Int16 => bits >= 16,
                T::Int32 => bits >= 32,
                T::Int64 => bits >= 64,
                _ => false,
            },
            Cast::Numeric => matches!(ty, T::Int16 | T::Int32 | T::Int64 | T::Decimal { .. }),
            Cast::Float(_) => ty.is_numeric(),
            Cast::Bool => matches!(ty, T::Boolean | T::Int16 | T::Int32 | T::Int64),
            Cast::Date | Cast::Timestamp | Cast::TimestampTz => {
                matches!(ty, T::Date | T::Timestamp | T::TimestampTz)
            }
            Cast::Time => matches!(ty, T::Time | T::Timestamp | T::TimestampTz),
            Cast::Uuid => matches!(ty, T::Uuid),
            Cast::Text | Cast::Json => true,
        };
        !fits
    }
}

/// A cast in `select` (`col::int`), by PostgreSQL's type names, applied to
/// the value the engine answered, as PostgreSQL converts a value of the
/// column's type (or the text of `->>`):
///
/// | cast | from a number | from a string | from a boolean |
/// | --- | --- | --- | --- |
/// | `int2` `smallint` `int4` `int` `integer` `int8` `bigint` | rounded half away from zero, range-checked | parsed (surrounding spaces allowed) | `1` / `0` |
/// | `numeric` `decimal` | as it is | parsed, every digit kept | refused |
/// | `float4` `real` `float8` `float` | as a double | parsed | refused |
/// | `bool` `boolean` | `0` is false, others true (integers) | `t` `true` `y` `yes` `on` `1` / `f` `false` `n` `no` `off` `0`, any case | as it is |
/// | `text` `varchar` | its JSON text | as it is | `true` / `false` |
/// | `json` `jsonb` | unchanged | unchanged | unchanged |
///
/// `null` stays `null`. A value the type cannot take is a 400 with
/// PostgreSQL's code (`22P02` bad text, `22003` out of range, `42846` a
/// JSON array or object to a scalar type).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Cast {
    /// An integer of this many bits.
    Int(u8),
    /// `numeric`.
    Numeric,
    /// `float8` (`float4` rounds to single precision).
    Float(bool),
    /// `boolean`.
    Bool,
    /// `text`.
    Text,
    /// `json`: the value as it is.
    Json,
    /// `date`: of a date, a timestamp (its date; with an offset, in UTC)
    /// or their text.
    Date,
    /// `time`: of a time or a timestamp (its time of day).
    Time,
    /// `timestamp`: of a date (at midnight) or a timestamp (with an
    /// offset: in UTC, the offset dropped).
    Timestamp,
    /// `timestamptz`: of a date or timestamp without offset (read in the
    /// caller's zone, UTC without one) or with one (written in that zone).
    TimestampTz,
    /// `uuid`: a UUID's text, lowercase and hyphenated.
    Uuid,
}

impl Cast {
    /// The cast named `ty` (PostgreSQL's names, any case).
    pub(crate) fn parse(ty: &str) -> Option<Self> {
        Some(match ty.to_ascii_lowercase().as_str() {
            "int2" | "smallint" => Self::Int(16),
            "int4" | "int" | "integer" => Self::Int(32),
            "int8" | "bigint" => Self::Int(64),
            "numeric" | "decimal" => Self::Numeric,
            "float4" | "real" => Self::Float(false),
            "float8" | "float" => Self::Float(true),
            "bool" | "boolean" => Self::Bool,
            "text" | "varchar" => Self::Text,
            "json" | "jsonb" => Self::Json,
            "date" => Self::Date,
            "time" => Self::Time,
            "timestamp" => Self::Timestamp,
            "timestamptz" => Self::TimestampTz,
            "uuid" => Self::Uuid,
            _ => return None,
        })
    }

    /// The 501 of a cast to a type this layer does not convert (one the
    /// database casts reaches it only where that cannot apply).
    pub(crate) fn unknown(ty: &str) -> RestError {
        RestError::unsupported(format!(
            "casts to `{ty}` are not supported here: {} are on every engine, PostgreSQL's \
             other types on PostgreSQL",
            Self::NAMES
        ))
    }

    /// The types this layer casts to, for messages.
    pub(crate) const NAMES: &str = "int2, int4, int8, numeric, float4, float8, boolean, text, \
                                    varchar, json, jsonb, date, time, timestamp, timestamptz and uuid";

    /// Whether two different values of a field of type `ty` stay two
    /// after the cast (grouping by the stored value then groups as by the
    /// cast one): true of text and JSON, of the timestamps of a date or
    /// timestamp (an instant stays one instant), of a number's numeric,
    /// of an integer's wider type, and of a cast to the field's own kind;
    /// false where it rounds or truncates (`::int` of a decimal, `::date`
    /// of a timestamp, `::bool` of an integer, `::float4` of an `int4`).
    fn keeps_distinct(self, ty: &baas_core::FieldType) -> bool {
        use baas_core::FieldType as T;
        match self {
            Self::Text | Self::Json => true,
            // `1.0` and `1.00` of a text are one numeric.
            Self::Numeric => !matches!(ty, T::Text),
            Self::Uuid => matches!(ty, T::Uuid),
            Self::Timestamp | Self::TimestampTz => {
                matches!(ty, T::Date | T::Timestamp | T::TimestampTz)
            }
            // Narrower integers: out of range is an error, not a merge.
            Self::Int(_) => matches!(ty, T::Boolean | T::Int16 | T::Int32 | T::Int64),
            Self::Float(double) => match ty {
                T::Int16 | T::Float32 => true,
                T::Int32 | T::Float64 => double,
                _ => false,
            },
            Self::Bool => matches!(ty, T::Boolean),
            Self::Date => matches!(ty, T::Date),
            Self::Time => matches!(ty, T::Time),
        }
    }

    /// Whether a value of type `ty` cast by it is the same value, ordered
    /// alike (an aggregate of the cast is the aggregate of the stored
    /// value): a wider number of a number, a type of itself.
    fn keeps_value(self, ty: &baas_core::FieldType) -> bool {
        use baas_core::FieldType as T;
        match self {
            Self::Int(bits) => match ty {
                T::Int16 => true,
                T::Int32 => bits >= 32,
                T::Int64 => bits >= 64,
                _ => false,
            },
            Self::Numeric => matches!(ty, T::Int16 | T::Int32 | T::Int64 | T::Decimal { .. }),
            Self::Float(double) => match ty {
                T::Int16 | T::Float32 => true,
                T::Int32 | T::Float64 => double,
                _ => false,
            },
            Self::Text => matches!(ty, T::Text),
            Self::Json => matches!(ty, T::Json),
            Self::Uuid => matches!(ty, T::Uuid),
            Self::Bool => matches!(ty, T::Boolean),
            Self::Date => matches!(ty, T::Date),
            Self::Time => matches!(ty, T::Time),
            Self::Timestamp => matches!(ty, T::Timestamp),
            Self::TimestampTz => matches!(ty, T::TimestampTz),
        }
    }

    /// Whether PostgreSQL has a cast from values of type `ty` to this
    /// type: none from `bigint`, `smallint`, `numeric` or floats to
    /// `boolean`, none from `boolean` to another number than `integer`,
    /// none from numbers or booleans to dates, times or UUIDs.
    fn casts_from(self, ty: &baas_core::FieldType) -> bool {
        use baas_core::FieldType as T;
        let number = matches!(
            ty,
            T::Int16 | T::Int32 | T::Int64 | T::Decimal { .. } | T::Float32 | T::Float64
        );
        match self {
            Self::Bool => !number || matches!(ty, T::Int32),
            Self::Int(32) => true,
            Self::Int(_) | Self::Numeric | Self::Float(_) => !matches!(ty, T::Boolean),
            Self::Date | Self::Time | Self::Timestamp | Self::TimestampTz | Self::Uuid => {
                !number && !matches!(ty, T::Boolean)
            }
            Self::Text | Self::Json => true,
        }
    }

    /// Its short PostgreSQL name (one of [`GroupValue::CAST_TYPES`]).
    fn type_name(self) -> &'static str {
        match self {
            Self::Int(16) => "int2",
            Self::Int(32) => "int4",
            Self::Int(_) => "int8",
            Self::Numeric => "numeric",
            Self::Float(false) => "float4",
            Self::Float(true) => "float8",
            Self::Bool => "bool",
            Self::Text => "text",
            Self::Json => "jsonb",
            Self::Date => "date",
            Self::Time => "time",
            Self::Timestamp => "timestamp",
            Self::TimestampTz => "timestamptz",
            Self::Uuid => "uuid",
        }
    }

    fn name(self) -> &'static str {
        match self {
            Self::Int(16) => "smallint",
            Self::Int(32) => "integer",
            Self::Int(_) => "bigint",
            Self::Numeric => "numeric",
            Self::Float(false) => "real",
            Self::Float(true) => "double precision",
            Self::Bool => "boolean",
            Self::Text => "text",
            Self::Json => "json",
            Self::Date => "date",
            Self::Time => "time without time zone",
            Self::Timestamp => "timestamp without time zone",
            Self::TimestampTz => "timestamp with time zone",
            Self::Uuid => "uuid",
        }
    }

    fn invalid(self, v: &str) -> RestError {
        // PostgreSQL's codes: a malformed date or time is 22007.
        let code = match self {
            Self::Date | Self::Time | Self::Timestamp | Self::TimestampTz => "22007",
            _ => "22P02",
        };
        RestError::new(
            400,
            code,
            format!("invalid input syntax for type {}: \"{v}\"", self.name()),
        )
    }

    /// A date, time, timestamp or UUID cast of a string (the forms the
    /// engines answer, and their usual text forms). A `timestamptz` is
    /// read and written in `zone` as PostgreSQL's session zone (an answer's
    /// instants are already written there, so a date or time of one is
    /// the zone's).
    fn temporal(
        self,
        s: &str,
        zone: Option<baas_core::zone::Zone>,
    ) -> Result<serde_json::Value, RestError> {
        use baas_core::value::{
            format_date, format_time, format_timestamp, format_timestamptz, parse_timestamp,
            parse_timestamptz,
        };
        let t = s.trim();
        let text = match self {
            Self::Date => parse_timestamp(t).map(|ts| format_date(ts.date())),
            Self::Timestamp => parse_timestamp(t).map(format_timestamp),
            Self::TimestampTz => parse_timestamptz(t)
                .or_else(|| baas_core::zone::instant_in(parse_timestamp(t)?, zone))
                .map(|at| match zone {
                    Some(z) => z.format(at),
                    None => format_timestamptz(at),
                }),
            Self::Time => baas_core::Value::Text(t.to_string())
                .coerce(&baas_core::FieldType::Time)
                .ok()
                .map(|v| v.to_json())
                .and_then(|v| v.as_str().map(str::to_string))
                .or_else(|| parse_timestamp(t).map(|ts| format_time(ts.time()))),
            _ => baas_core::Value::Text(t.to_string())
                .coerce(&baas_core::FieldType::Uuid)
                .ok()
                .map(|v| v.to_json())
                .and_then(|v| v.as_str().map(str::to_string)),
        };
        text.map(serde_json::Value::String)
            .ok_or_else(|| self.invalid(s))
    }

    /// `v` as this type.
    /// `v` as this type, for a caller in `zone` (UTC when `None`): the
    /// zone a `timestamptz` is read in without an offset, and written in.
    pub(crate) fn apply(
        self,
        v: serde_json::Value,
        zone: Option<baas_core::zone::Zone>,
    ) -> Result<serde_json::Value, RestError> {
        use serde_json::Value as J;
        Ok(match (self, v) {
            (_, J::Null) => J::Null,
            (Self::Json, v) => v,
            (Self::Text, J::String(s)) => J::String(s),
            (Self::Text, other) => J::String(other.to_string()),
            (_, J::Array(_) | J::Object(_)) => {
                return Err(RestError::new(
                    400,
                    "42846",
                    format!("cannot cast a JSON array or object to type {}", self.name()),
                ));
            }
            (Self::Int(_), J::Bool(b)) => J::from(i64::from(b)),
            (Self::Int(bits), J::Number(n)) => J::from(self.int(bits, &n.to_string())?),
            (Self::Int(bits), J::String(s)) => {
                let t = s.trim();
                if t.is_empty() || t.contains(['.', 'e', 'E']) {
                    return Err(self.invalid(&s));
                }
                J::from(self.int(bits, t)?)
            }
            (Self::Numeric, J::Number(n)) => J::Number(n),
            (Self::Numeric, J::String(s)) => {
                J::Number(decimal(s.trim()).ok_or_else(|| self.invalid(&s))?)
            }
            (Self::Float(double), J::Number(n)) => self.float(double, &n.to_string())?,
            (Self::Float(double), J::String(s)) => self.float(double, s.trim())?,
            (Self::Bool, J::Bool(b)) => J::Bool(b),
            (Self::Bool, J::Number(n)) => match n.as_i64() {
                Some(i) => J::Bool(i != 0),
                None => return Err(self.invalid(&n.to_string())),
            },
            (Self::Bool, J::String(s)) => match s.trim().to_ascii_lowercase().as_str() {
                "t" | "true" | "y" | "yes" | "on" | "1" => J::Bool(true),
                "f" | "false" | "n" | "no" | "off" | "0" => J::Bool(false),
                _ => return Err(self.invalid(&s)),
            },
            (
                Self::Date | Self::Time | Self::Timestamp | Self::TimestampTz | Self::Uuid,
                J::String(s),
            ) => self.temporal(&s, zone)?,
            (Self::Date | Self::Time | Self::Timestamp | Self::TimestampTz | Self::Uuid, other) => {
                let from = match other {
                    J::Bool(_) => "boolean",
                    _ => "numeric",
                };
                return Err(RestError::new(
                    400,
                    "42846",
                    format!("cannot cast type {from} to {}", self.name()),
                ));
            }
            (Self::Numeric | Self::Float(_), J::Bool(b)) => {
                return Err(RestError::new(
                    400,
                    "42846",
                    format!("cannot cast type boolean to {}: \"{b}\"", self.name()),
                ));
            }
        })
    }

    /// An integer of `bits` bits from the text of a number, rounded half
    /// away from zero.
    fn int(self, bits: u8, text: &str) -> Result<i64, RestError> {
        let out_of_range = || RestError::new(400, "22003", format!("{} out of range", self.name()));
        let i = match text.parse::<i64>() {
            Ok(i) => i,
            Err(_) => {
                let f: f64 = text.parse().map_err(|_| self.invalid(text))?;
                if !f.is_finite() {
                    return Err(self.invalid(text));
                }
                let r = f.round();
                if r < i64::MIN as f64 || r >= i64::MAX as f64 {
                    return Err(out_of_range());
                }
                r as i64
            }
        };
        let max = if bits >= 64 {
            i64::MAX
        } else {
            (1i64 << (bits - 1)) - 1
        };
        if i > max || i < -max - 1 {
            return Err(out_of_range());
        }
        Ok(i)
    }

    /// A double (or a single, rounded) from the text of a number.
    fn float(self, double: bool, text: &str) -> Result<serde_json::Value, RestError> {
        let f: f64 = text.parse().map_err(|_| self.invalid(text))?;
        if !f.is_finite() {
            // NaN and the infinities: strings, as decimals' are.
            return Ok(serde_json::Value::String(text.to_string()));
        }
        // A single prints its own shortest digits (`0.1`, not the double's).
        let shortest = if double {
            f.to_string()
        } else {
            (f as f32).to_string()
        };
        decimal(&shortest)
            .map(serde_json::Value::Number)
            .ok_or_else(|| self.invalid(text))
    }
}

/// The JSON number of a decimal's text (`-01.50`, `+.5`, `1e3`, `2.`),
/// every digit kept; `None` when it is not one.
fn decimal(text: &str) -> Option<serde_json::Number> {
    let (neg, rest) = match text.as_bytes().first()? {
        b'-' => (true, &text[1..]),
        b'+' => (false, &text[1..]),
        _ => (false, text),
    };
    let (mantissa, exp) = match rest.find(['e', 'E']) {
        Some(i) => (&rest[..i], Some(&rest[i + 1..])),
        None => (rest, None),
    };
    let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if int.is_empty() && frac.is_empty() || !digits(int) || !digits(frac) {
        return None;
    }
    let mut out = String::with_capacity(text.len() + 1);
    if neg {
        out.push('-');
    }
    let int = int.trim_start_matches('0');
    out.push_str(if int.is_empty() { "0" } else { int });
    if !frac.is_empty() {
        out.push('.');
        out.push_str(frac);
    }
    if let Some(e) = exp {
        let ed = e.strip_prefix(['-', '+']).unwrap_or(e);
        if ed.is_empty() || !digits(ed) {
            return None;
        }
        out.push('e');
        out.push_str(e);
    }
    serde_json::from_str(&out).ok()
}

/// One `...rel(cols)`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Spread {
    /// The embed's output key (removed from the row).
    key: String,
    /// To-many: each field becomes an array of the related rows' values.
    to_many: bool,
    /// The output keys of its fields, which a missing to-one row gives
    /// as `null` and a to-many one without rows as `[]`, in `select=`
    /// order, those of the spreads inside it in their place; a `*` stands
    /// for its entity's fields until they are known
    /// ([`FieldAliases::fill_star_spreads`]).
    keys: Vec<KeyPart>,
    /// A to-many spread: the keys of each to-many relation inside it
    /// (a spread's fields, an embedding's key), whose related rows each
    /// related row of the spread is joined to, as PostgREST joins them
    /// ([`Node::many_groups`]).
    groups: Vec<Vec<KeyPart>>,
    /// A to-many spread with aggregates ([`Node::lifts`]): the key of the
    /// embed holding its one group of aggregates, whose values join the
    /// parent (`key` itself when it lists no field).
    lifted: Option<String>,
}

/// A key a spread puts in its parent, or a `*` standing for its entity's
/// fields until they are known ([`FieldAliases::fill_star_spreads`]).
#[derive(Debug, Clone, PartialEq, Eq)]
enum KeyPart {
    Key(String),
    Star(String),
}

impl KeyPart {
    fn key(&self) -> Option<&String> {
        match self {
            Self::Key(k) => Some(k),
            Self::Star(_) => None,
        }
    }
}

/// `parts` with each `*` replaced by its entity's fields in `fields`
/// (left out when unknown), each key once, where it first stands.
fn expand_stars(parts: &mut Vec<KeyPart>, fields: &[(String, Vec<String>)]) {
    let mut out: Vec<KeyPart> = Vec::with_capacity(parts.len());
    let push = |k: &String, out: &mut Vec<KeyPart>| {
        if !out.iter().any(|p| p.key() == Some(k)) {
            out.push(KeyPart::Key(k.clone()));
        }
    };
    for part in parts.drain(..) {
        match &part {
            KeyPart::Key(k) => push(k, &mut out),
            KeyPart::Star(e) => match fields.iter().find(|(n, _)| n == e) {
                Some((_, star)) => star.iter().for_each(|k| push(k, &mut out)),
                None => out.push(part.clone()),
            },
        }
    }
    *parts = out;
}

impl Spread {
    /// The spread's related rows joined to the rows of the to-many
    /// relations inside them ([`Spread::groups`]), as PostgREST's lateral
    /// joins give them: for each row, one row per combination of theirs,
    /// the other keys repeated; a relation without rows gives one row of
    /// `null`s (a left join). Without such relations, the rows as they
    /// are.
    fn joined(
        &self,
        items: Vec<serde_json::Value>,
        budget: &mut JoinBudget,
    ) -> Result<Vec<serde_json::Value>, RestError> {
        use serde_json::Value as J;
        if self.groups.is_empty() {
            return Ok(items);
        }
        let mut out = Vec::with_capacity(items.len());
        for item in items {
            let J::Object(mut base) = item else {
                out.push(item);
                continue;
            };
            // Each group's values, taken out of the row: they are moved
            // into the joined rows one by one, never copied whole.
            let columns: Vec<Vec<(String, Vec<J>)>> = self
                .groups
                .iter()
                .map(|group| {
                    group
                        .iter()
                        .filter_map(KeyPart::key)
                        .filter_map(|k| {
                            let v = base.shift_remove(k)?;
                            Some((
                                k.clone(),
                                match v {
                                    J::Array(a) => a,
                                    _ => Vec::new(),
                                },
                            ))
                        })
                        .collect()
                })
                .collect();
            let mut rows = vec![base];
            for group in columns {
                // The group's keys hold arrays of one length (a spread's
                // rows, or an embedding's).
                let n = group.iter().map(|(_, v)| v.len()).max().unwrap_or(0);
                // Past its first, each combination is a row the database
                // did not answer, repeating the row's other values: the
                // budget bounds them (two relations side by side multiply).
                if n > 1 {
                    for row in &rows {
                        budget.take(n as u64 - 1, JoinBudget::size(row) * (n as u64 - 1))?;
                    }
                }
                let mut next = Vec::with_capacity(rows.len() * n.max(1));
                for row in rows {
                    for i in 0..n.max(1) {
                        let mut r = row.clone();
                        for (k, values) in &group {
                            r.insert(k.clone(), values.get(i).cloned().unwrap_or(J::Null));
                        }
                        next.push(r);
                    }
                }
                rows = next;
            }
            out.extend(rows.into_iter().map(J::Object));
        }
        Ok(out)
    }

    /// The values of the one group of aggregates `v` holds.
    fn lift(v: serde_json::Value) -> Vec<(String, serde_json::Value)> {
        match v {
            serde_json::Value::Array(groups) => match groups.into_iter().next() {
                Some(serde_json::Value::Object(o)) => o.into_iter().collect(),
                _ => Vec::new(),
            },
            _ => Vec::new(),
        }
    }

    /// The fields the spread embed `v` puts in its parent, in order.
    fn fields(
        &self,
        v: serde_json::Value,
        budget: &mut JoinBudget,
    ) -> Result<Vec<(String, serde_json::Value)>, RestError> {
        use serde_json::Value as J;
        Ok(match (v, self.to_many) {
            (J::Object(o), false) => o.into_iter().collect(),
            (J::Array(items), true) => {
                let keys: Vec<String> = match items.first() {
                    Some(J::Object(o)) => o.keys().cloned().collect(),
                    _ => self.keys.iter().filter_map(KeyPart::key).cloned().collect(),
                };
                let mut items = self.joined(items, budget)?;
                keys.into_iter()
                    .map(|k| {
                        let values = items
                            .iter_mut()
                            .map(|i| {
                                i.as_object_mut()
                                    .and_then(|o| o.shift_remove(&k))
                                    .unwrap_or(J::Null)
                            })
                            .collect();
                        (k, J::Array(values))
                    })
                    .collect()
            }
            (_, to_many) => self
                .keys
                .iter()
                .filter_map(KeyPart::key)
                .map(|k| {
                    let empty = if to_many {
                        J::Array(Vec::new())
                    } else {
                        J::Null
                    };
                    (k.clone(), empty)
                })
                .collect(),
        })
    }
}

/// What the joins of to-many spreads ([`Spread::joined`]) may add to an
/// answer, past the rows the database answered: rows, within the tenant's
/// row budget (`max_rows`), and the bytes of the values they repeat,
/// within its response budget (`max_response_bytes`: the answer holds
/// them all). Joining a spread's rows to one relation inside it adds at
/// most that relation's rows, already within the row budget; two
/// relations side by side multiply, and the budgets stop the product
/// before it is built.
#[derive(Debug, Clone, Copy)]
pub(crate) struct JoinBudget {
    rows: u64,
    max_rows: u64,
    bytes: u64,
    max_bytes: u64,
}

impl JoinBudget {
    /// A budget of `max_rows` rows and `max_bytes` bytes.
    pub(crate) fn new(max_rows: u64, max_bytes: u64) -> Self {
        Self {
            rows: max_rows,
            max_rows,
            bytes: max_bytes,
            max_bytes,
        }
    }

    /// No bound (an answer whose engine read bounded it otherwise).
    pub(crate) fn unlimited() -> Self {
        Self::new(u64::MAX, u64::MAX)
    }

    /// The bytes of a row's JSON.
    fn size(row: &serde_json::Map<String, serde_json::Value>) -> u64 {
        struct Count(u64);
        impl std::io::Write for Count {
            fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
                self.0 += b.len() as u64;
                Ok(b.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let mut c = Count(0);
        let _ = serde_json::to_writer(&mut c, row);
        c.0
    }

    /// Spend `rows` rows repeating `bytes` bytes, or refuse the answer.
    fn take(&mut self, rows: u64, bytes: u64) -> Result<(), RestError> {
        let (Some(left_rows), Some(left_bytes)) =
            (self.rows.checked_sub(rows), self.bytes.checked_sub(bytes))
        else {
            let (limit, max, message) = if self.rows < rows {
                (
                    "max_rows",
                    self.max_rows,
                    format!(
                        "the to-many relations inside a to-many spread join to more than {} rows",
                        self.max_rows
                    ),
                )
            } else {
                (
                    "max_response_bytes",
                    self.max_bytes,
                    format!(
                        "the response would be larger than {} bytes: the to-many relations inside a to-many spread repeat its values",
                        self.max_bytes
                    ),
                )
            };
            return Err(RestError::from(&baas_core::Error::LimitExceeded {
                limit,
                max,
                message,
            })
            .with_hint(
                "spread fewer to-many relations side by side, or limit them (`rel.limit=`)",
            ));
        };
        self.rows = left_rows;
        self.bytes = left_bytes;
        Ok(())
    }
}

impl FieldAliases {
    /// Bound what the joins of to-many spreads add to an answer
    /// ([`JoinBudget`]).
    pub(crate) fn limit_joins(&mut self, max_rows: u64, max_bytes: u64) {
        self.join_limit = Some((max_rows, max_bytes));
    }

    /// A fresh budget for one answer.
    pub(crate) fn join_budget(&self) -> JoinBudget {
        self.join_limit
            .map_or_else(JoinBudget::unlimited, |(rows, bytes)| {
                JoinBudget::new(rows, bytes)
            })
    }

    /// Whether a to-many spread here or below joins its rows to relations
    /// inside it ([`Spread::joined`]): an answer that can be refused.
    pub(crate) fn joins(&self) -> bool {
        self.spreads.iter().any(|s| !s.groups.is_empty())
            || self.embeds.iter().any(|(_, inner)| inner.joins())
    }

    /// The entities of the `...rel(*)` spreads here and below, whose
    /// fields [`fill_star_spreads`](Self::fill_star_spreads) needs.
    pub(crate) fn star_spread_entities(&self, out: &mut Vec<String>) {
        for s in &self.spreads {
            for part in s.keys.iter().chain(s.groups.iter().flatten()) {
                if let KeyPart::Star(e) = part
                    && !out.contains(e)
                {
                    out.push(e.clone());
                }
            }
        }
        for (_, inner) in &self.embeds {
            inner.star_spread_entities(out);
        }
    }

    /// Give each `...rel(*)` spread the fields `*` reads of its entity
    /// (by entity, as the engine answers them to the caller): a related
    /// row that is missing then adds every one of them, `null` (to-one) or
    /// `[]` (to-many), as PostgREST answers; the listed ones follow.
    pub(crate) fn fill_star_spreads(&mut self, fields: &[(String, Vec<String>)]) {
        for s in &mut self.spreads {
            expand_stars(&mut s.keys, fields);
            for group in &mut s.groups {
                expand_stars(group, fields);
            }
        }
        for (_, inner) in &mut self.embeds {
            inner.fill_star_spreads(fields);
        }
    }

    /// Put `row`'s keys in `layout`'s order: the listed
    /// keys where they stand, the others where `*` stands, in the engine's
    /// order (after the listed ones without a `*`).
    fn arrange(layout: &[Option<String>], row: &mut serde_json::Map<String, serde_json::Value>) {
        // Already in order (the engine's order is often the select's).
        if !layout.contains(&None)
            && row
                .keys()
                .eq(layout.iter().flatten().filter(|k| row.contains_key(*k)))
        {
            return;
        }
        let listed = |k: &str| layout.iter().flatten().any(|l| l == k);
        let mut old: Vec<(String, Option<serde_json::Value>)> = std::mem::take(row)
            .into_iter()
            .map(|(k, v)| (k, Some(v)))
            .collect();
        let rest = |row: &mut serde_json::Map<String, serde_json::Value>,
                    old: &mut Vec<(String, Option<serde_json::Value>)>| {
            for (k, v) in old.iter_mut() {
                if !listed(k)
                    && let Some(v) = v.take()
                {
                    row.insert(k.clone(), v);
                }
            }
        };
        for slot in layout {
            match slot {
                None => rest(row, &mut old),
                Some(key) => {
                    if let Some(v) = old
                        .iter_mut()
                        .find(|(k, _)| k == key)
                        .and_then(|(_, v)| v.take())
                    {
                        row.insert(key.clone(), v);
                    }
                }
            }
        }
        // Keys nothing lists (none expected): kept, last.
        for (k, v) in old {
            if let Some(v) = v {
                row.insert(k, v);
            }
        }
    }

    /// Rename the fields of `row` (and of its embedded rows): the listed
    /// fields under their output keys, in `select=` order (with `*`: every
    /// field first), then the embeds; a cast the value cannot take is a
    /// 400 (`Cast`).
    pub fn apply(
        &self,
        row: &mut serde_json::Map<String, serde_json::Value>,
    ) -> Result<(), RestError> {
        self.apply_within(row, &mut JoinBudget::unlimited(), None)
    }

    /// [`apply`](Self::apply) within `budget`: the rows the joins of
    /// to-many spreads may add to the answer ([`JoinBudget`]), counted
    /// across every row it is given; casts for a caller in `zone`
    /// (`Prefer: timezone`).
    pub(crate) fn apply_within(
        &self,
        row: &mut serde_json::Map<String, serde_json::Value>,
        budget: &mut JoinBudget,
        zone: Option<baas_core::zone::Zone>,
    ) -> Result<(), RestError> {
        if !self.embed_renames.is_empty() {
            // All at once: an output key may be another embed's engine key.
            let old = std::mem::take(row);
            for (k, v) in old {
                match self.embed_renames.iter().find(|(e, _)| *e == k) {
                    Some((_, key)) => row.insert(key.clone(), v),
                    None => row.insert(k, v),
                };
            }
        }
        if !self.fields.is_empty() {
            let old = std::mem::take(row);
            let mut out = serde_json::Map::with_capacity(old.len());
            if self.star {
                for (k, v) in &old {
                    if !self.embed_keys.contains(k) && !self.answers.contains(k) {
                        out.insert(k.clone(), v.clone());
                    }
                }
            }
            for (key, field) in &self.fields {
                if let Some(v) = old.get(field) {
                    out.insert(key.clone(), v.clone());
                }
            }
            for k in &self.embed_keys {
                if let Some(v) = old.get(k) {
                    out.insert(k.clone(), v.clone());
                }
            }
            *row = out;
        }
        for (key, shape) in &self.shapes {
            if let Some(v) = row.get_mut(key) {
                *v = shape.apply(std::mem::take(v), zone)?;
            }
        }
        if !self.layout.is_empty() {
            Self::arrange(&self.layout, row);
        }
        for (key, inner) in &self.embeds {
            match row.get_mut(key) {
                Some(serde_json::Value::Object(o)) => inner.apply_within(o, budget, zone)?,
                Some(serde_json::Value::Array(items)) => {
                    for item in items {
                        if let serde_json::Value::Object(o) = item {
                            inner.apply_within(o, budget, zone)?;
                        }
                    }
                }
                _ => {}
            }
        }
        if !self.spreads.is_empty() {
            // The spread embed's fields take its place, in order.
            let old = std::mem::take(row);
            for (k, v) in old {
                if self.spreads.iter().any(|s| s.lifted.as_ref() == Some(&k)) {
                    row.extend(Spread::lift(v));
                    continue;
                }
                match self.spreads.iter().find(|s| s.key == k) {
                    Some(s) => row.extend(s.fields(v, budget)?),
                    None => {
                        row.insert(k, v);
                    }
                }
            }
        }
        if !self.flat_layout.is_empty() {
            Self::arrange(&self.flat_layout, row);
        }
        Ok(())
    }
}

/// Name the relation of each `order=rel(col)` key as the IR does: `rel`
/// is an embedding of this level (its output key or relation), or any
/// relation an embedding of that name would resolve to. In an embedding
/// of this level, `col` may be the alias a field is listed under
/// (`select=...genre(category:name)&order=genre(category)`), as PostgREST
/// orders by the embedding's output.
fn related_order(
    schema: &SchemaMetadata,
    node: &Node<'_>,
    mut order: Vec<OrderBy>,
) -> Result<Vec<OrderBy>, RestError> {
    for o in &mut order {
        let Some(r) = &o.related else { continue };
        let embedded = node
            .children
            .iter()
            .find(|c| c.key == r.relation || c.relation == r.relation);
        let relation = match embedded {
            Some(c) => {
                if let Some(field) = c.aliased_field(&o.field) {
                    o.field = field.to_string();
                }
                c.relation.clone()
            }
            None => resolve(schema, node.entity, &r.relation, None)?
                .0
                .name
                .clone(),
        };
        if let Some(r) = &mut o.related {
            r.relation = relation;
        }
    }
    Ok(order)
}

/// Everything the query string said.
#[derive(Debug, Clone)]
pub(crate) struct Params<'s> {
    pub(crate) root: Node<'s>,
    pub(crate) columns: Option<Vec<String>>,
    pub(crate) on_conflict: Option<Vec<String>>,
    pub(crate) after: Option<Vec<Value>>,
}

const AGGREGATES: [&str; 5] = ["count", "sum", "avg", "min", "max"];

/// Resolve an embedding name as PostgREST does: a relation of `entity` by
/// its name; else the relations whose target entity has that name, or
/// whose foreign-key constraint has that name, or the many-to-one whose
/// single link field has that name (`select=artist_id(*)`). A `hint`
/// narrows the target-name candidates: a relation name, a constraint name,
/// a single link field on either side, or the junction entity.
///
/// On a self-referencing entity (one foreign key, two relations) the
/// entity's own name is the one-to-many (`children:person(*)`), the link
/// field is the many-to-one (`parent_id(*)`), and the hint of the
/// one-to-many is the referencing field (`reports:employee!manager_id(*)`).
pub(crate) fn resolve<'s>(
    schema: &'s SchemaMetadata,
    entity: &'s Entity,
    name: &str,
    hint: Option<&str>,
) -> Result<(&'s Relation, &'s Entity), RestError> {
    use baas_core::RelationKind;
    let target = |r: &'s Relation| -> Result<(&'s Relation, &'s Entity), RestError> {
        Ok((r, schema.entity(&r.target)?))
    };
    let single = |cols: &[String], h: &str| cols.len() == 1 && cols[0] == h;
    let matches_hint = |r: &Relation, h: &str| {
        r.name == h
            || r.constraint.as_deref() == Some(h)
            || single(&r.from_fields, h)
            || single(&r.to_fields, h)
            || matches!(&r.kind, RelationKind::ManyToMany { through } if through.entity == h)
    };
    // A relation by its name, unless a hint names another (then the
    // relations to an entity of that name, narrowed by the hint). A name
    // that is also its target's, beside other relations to that entity
    // (`sites`' `big_projects` through `jobs`, and `main_project`), is
    // the entity's name, as PostgREST reads it: every relation to it is
    // a candidate.
    if let Some(r) = entity
        .relations
        .iter()
        .find(|r| r.name == name && hint.is_none_or(|h| matches_hint(r, h)))
    {
        let shared = hint.is_none()
            && r.function.is_none()
            && r.target == name
            && entity
                .relations
                .iter()
                .any(|o| !std::ptr::eq(o, r) && o.function.is_none() && o.target == name);
        if !shared {
            return target(r);
        }
    }
    let is_self = |r: &Relation| r.target == entity.name;
    // A computed relationship is named by its function only (PostgREST's
    // `findRel`): a function returning rows of `clients` is no candidate
    // of `clients(*)`.
    let candidates: Vec<&Relation> = entity
        .relations
        .iter()
        .filter(|r| r.function.is_none())
        .filter(|r| match (is_self(r), hint) {
            (true, None) => {
                r.target == name && r.kind == RelationKind::OneToMany
                    || single(&r.from_fields, name) && r.kind == RelationKind::ManyToOne
            }
            (true, Some(h)) => {
                r.target == name
                    && (r.name == h || r.kind == RelationKind::OneToMany && single(&r.to_fields, h))
            }
            (false, None) => {
                r.target == name
                    || r.constraint.as_deref() == Some(name)
                    || single(&r.from_fields, name) && r.kind == RelationKind::ManyToOne
            }
            (false, Some(h)) => r.target == name && matches_hint(r, h),
        })
        .collect();
    // A foreign-key constraint or column names a relation to a table, not
    // one a view inherits (PostgREST's `findRel`: `not relFTableIsView`).
    let candidates = if hint.is_none() && candidates.len() > 1 {
        let tables: Vec<&Relation> = candidates
            .iter()
            .copied()
            .filter(|r| r.target == name || !schema.entity(&r.target).is_ok_and(|e| e.is_view()))
            .collect();
        if tables.is_empty() {
            candidates
        } else {
            tables
        }
    } else {
        candidates
    };
    match candidates.as_slice() {
        [r] => target(r),
        [] => {
            let known: Vec<&str> = entity.relations.iter().map(|r| r.name.as_str()).collect();
            Err(RestError::new(
                400,
                crate::error::codes::NO_RELATION,
                format!(
                    "Could not find a relationship between '{}' and '{name}' in the schema cache",
                    entity.name
                ),
            )
            .with_details(format!(
                "Searched for a relation or a related entity named '{name}' of '{}'{}, but no matches were found.",
                entity.name,
                hint.map(|h| format!(" matching the hint '{h}'"))
                    .unwrap_or_default()
            ))
            .with_hint(if known.is_empty() {
                format!("`{}` has no relations", entity.name)
            } else {
                format!("relations of `{}`: {}", entity.name, known.join(", "))
            }))
        }
        many => {
            let candidates: Vec<serde_json::Value> = many
                .iter()
                .map(|r| {
                    serde_json::json!({
                        "cardinality": cardinality(&r.kind),
                        "embedding": format!("{} with {}", entity.name, r.target),
                        // PostgREST names the foreign key's constraint.
                        "relationship": format!(
                            "{} using {}({}) and {}({})",
                            r.constraint.as_deref().unwrap_or(&r.name),
                            entity.name,
                            r.from_fields.join(", "),
                            r.target,
                            r.to_fields.join(", ")
                        ),
                    })
                })
                .collect();
            let options: Vec<String> = many
                .iter()
                .map(|r| {
                    // PostgREST names a many-to-many relation by its junction.
                    let by = match (&r.constraint, &r.kind) {
                        (Some(c), _) => c.as_str(),
                        (None, RelationKind::ManyToMany { through }) => through.entity.as_str(),
                        (None, _) => r.name.as_str(),
                    };
                    format!("'{name}!{by}'")
                })
                .collect();
            Err(RestError::new(
                300,
                crate::error::codes::AMBIGUOUS_EMBED,
                format!(
                    "Could not embed because more than one relationship was found for '{}' and '{name}'",
                    entity.name
                ),
            )
            .with_json_details(serde_json::Value::Array(candidates))
            .with_hint(format!(
                "Try changing '{name}' to one of the following: {}. Find the desired relationship in the 'details' key.",
                options.join(", ")
            )))
        }
    }
}

/// PostgREST's name for a relation's cardinality.
fn cardinality(kind: &baas_core::RelationKind) -> &'static str {
    match kind {
        baas_core::RelationKind::ManyToOne => "many-to-one",
        baas_core::RelationKind::OneToMany => "one-to-many",
        baas_core::RelationKind::OneToOne => "one-to-one",
        baas_core::RelationKind::ManyToMany { .. } => "many-to-many",
    }
}

/// Add `func(field)` (output key: the alias, else the function's name, as
/// PostgREST names it) to `node`'s aggregates; its key.
fn push_aggregate(
    node: &mut Node<'_>,
    alias: Option<String>,
    func: &str,
    field: Option<&String>,
) -> Result<String, RestError> {
    let key = alias.unwrap_or_else(|| func.to_string());
    if node.outputs.iter().any(|(k, _)| *k == key) {
        return Err(
            RestError::query_syntax(format!("`{key}` is selected twice"))
                .with_hint("give one of them an alias: `total:col.sum()`"),
        );
    }
    let field = field.cloned();
    let func = match (func, field) {
        ("count", None) => AggregateFn::Count,
        ("count", Some(field)) => AggregateFn::CountValues { field },
        ("sum", Some(field)) => AggregateFn::Sum { field },
        ("avg", Some(field)) => AggregateFn::Avg { field },
        ("min", Some(field)) => AggregateFn::Min { field },
        ("max", Some(field)) => AggregateFn::Max { field },
        (f, _) => return Err(RestError::query_syntax(format!("unknown aggregate `{f}`"))),
    };
    node.outputs.push((key.clone(), key.clone()));
    node.layout.push(Some(key.clone()));
    node.aggregates.push(AggregateExpr::new(key.clone(), func));
    Ok(key)
}

fn build_node<'s>(
    schema: &'s SchemaMetadata,
    node: &mut Node<'s>,
    items: &[SelectItem],
) -> Result<(), RestError> {
    node.star = false;
    for item in items {
        match item {
            SelectItem::Star => {
                node.star = true;
                node.layout.push(None);
            }
            SelectItem::Aggregate {
                alias,
                func,
                field,
                input,
                cast,
            } => {
                // `data->>n::int.sum()`: the value it aggregates (an
                // unknown field is the validator's to name).
                let computed = match node.entity.field(field) {
                    Ok(f) if *input != Shape::default() => {
                        if !input.path.is_empty() && f.ty != baas_core::FieldType::Json {
                            return Err(RestError::query_syntax(format!(
                                "`{field}` is not a JSON field: `->` and `->>` apply to JSON fields"
                            )));
                        }
                        input.aggregated(f)?
                    }
                    _ => None,
                };
                let field = (!field.is_empty()).then_some(field);
                let key = push_aggregate(node, alias.clone(), func, field)?;
                if let Some(g) = computed
                    && let Some(last) = node.aggregates.last_mut()
                {
                    last.input = Some(g);
                }
                // `total.sum()::text`: the answer cast, as a path's cast
                // is (our casts only: the engine computes no cast of an
                // aggregate).
                if let Some(c) = cast {
                    let Some(to) = Cast::parse(c) else {
                        return Err(RestError::unsupported(format!(
                            "a cast of an aggregate to `{c}`: aggregates cast to {}",
                            Cast::NAMES
                        )));
                    };
                    // Its type is known before it is read: refused as
                    // PostgreSQL refuses the cast (`count()::bool`).
                    if let Some(a) = node.aggregates.last() {
                        let input = a
                            .func
                            .field()
                            .and_then(|f| node.entity.field(f).ok())
                            .map(|f| a.input_type(&f.ty));
                        let from = a.func.result_type(input.as_ref());
                        if !to.casts_from(&from) {
                            return Err(RestError::new(
                                400,
                                "42846",
                                format!(
                                    "cannot cast type {} to {}",
                                    from.postgres_name(),
                                    to.name()
                                ),
                            ));
                        }
                    }
                    node.shapes.push((
                        key,
                        Shape {
                            cast: Some(c.clone()),
                            ..Shape::default()
                        },
                    ));
                }
            }
            // `count` (`rel(count)`, `select=count`): PostgREST's
            // `count()`, kept for compatibility, when the entity has no
            // field of that name.
            SelectItem::Field { alias, name }
                if name == "count" && node.entity.field(name).is_err() =>
            {
                push_aggregate(node, alias.clone(), "count", None)?;
            }
            SelectItem::Path { alias, name, shape } => {
                // PostgREST names `data->a->>b` after its last key that
                // is no array index (`data->tags->0` is `tags`, `data->>0`
                // is `data`).
                let key = alias
                    .clone()
                    .or_else(|| {
                        shape
                            .path
                            .iter()
                            .rev()
                            .find(|k| k.parse::<i64>().is_err())
                            .cloned()
                    })
                    .unwrap_or_else(|| name.clone());
                let mut shape = shape.clone();
                // The text of a composite field is PostgreSQL's record text
                // (`(Oslo,59.9)`), not its object's JSON text: its cast.
                let record_text = |c: &str| {
                    shape.path.is_empty()
                        && matches!(Cast::parse(c), Some(Cast::Text))
                        && node.entity.field(name).is_ok_and(|f| f.is_composite())
                };
                if let Some(c) = shape.cast.as_deref()
                    && (Cast::parse(c).is_none() || record_text(c))
                {
                    // A type of the database's own: cast by it, of the
                    // field or of the text at a path inside it (the engine
                    // answers the cast's text: the shape keeps nothing).
                    let to = c.to_ascii_lowercase();
                    if !baas_core::ir::FieldCast::valid_type_name(&to) {
                        return Err(RestError::query_syntax(format!(
                            "`{c}` is not a type name (letters, digits and `_`, at most 63 bytes)"
                        )));
                    }
                    if !shape.path.is_empty()
                        && node
                            .entity
                            .field(name)
                            .is_ok_and(|f| f.ty != baas_core::FieldType::Json)
                    {
                        return Err(RestError::query_syntax(format!(
                            "`{name}` is not a JSON field: `->` and `->>` apply to JSON fields"
                        )));
                    }
                    node.sql_casts.push((
                        key.clone(),
                        baas_core::ir::FieldCast {
                            field: name.clone(),
                            to,
                            path: std::mem::take(&mut shape.path),
                            alias: None,
                        },
                    ));
                    shape.cast = None;
                    shape.text = false;
                }
                // A path steps into a JSON value or an array (PostgREST's
                // `arr->0`), which every engine answers as JSON arrays.
                if !shape.path.is_empty()
                    && let Ok(f) = node.entity.field(name)
                    && !f.ty.has_paths()
                {
                    return Err(RestError::query_syntax(format!(
                        "`{name}` is not a JSON field: `->` and `->>` apply to JSON and array fields"
                    )));
                }
                if !node.fields.contains(name) {
                    node.fields.push(name.clone());
                }
                if node.outputs.iter().any(|(k, _)| *k == key) {
                    return Err(
                        RestError::query_syntax(format!("`{key}` is selected twice"))
                            .with_hint("give one of them an alias: `other:col->key`"),
                    );
                }
                node.outputs.push((key.clone(), name.clone()));
                node.layout.push(Some(key.clone()));
                node.shapes.push((key, shape));
            }
            SelectItem::Field { alias, name } => {
                if !node.fields.contains(name) {
                    node.fields.push(name.clone());
                }
                let key = alias.clone().unwrap_or_else(|| name.clone());
                if !node.outputs.iter().any(|(k, _)| *k == key) {
                    node.layout.push(Some(key.clone()));
                    node.outputs.push((key, name.clone()));
                }
            }
            SelectItem::Embed {
                alias,
                name,
                hint,
                inner,
                children,
                spread,
            } => {
                if AGGREGATES.contains(&name.as_str())
                    && node.entity.relation(name).is_err()
                    && !node.entity.relations.iter().any(|r| &r.target == name)
                {
                    if name != "count" || children.is_some() || *spread || hint.is_some() {
                        return Err(RestError::query_syntax(format!(
                            "`{name}(…)` is not an aggregate: use `count()` or `col.{name}()`"
                        )));
                    }
                    push_aggregate(node, alias.clone(), "count", None)?;
                    continue;
                }
                let (rel, target) = resolve(schema, node.entity, name, hint.as_deref())?;
                let key = alias.clone().unwrap_or_else(|| name.clone());
                if node.children.iter().any(|c| c.key == key) {
                    // PostgREST's code: PostgreSQL's duplicate alias.
                    return Err(
                        RestError::new(400, "42712", format!("`{key}` is embedded twice"))
                            .with_hint("give one of them an alias: `other:rel(*)`"),
                    );
                }
                let mut child = Node::new(target, key.clone());
                child.written.clone_from(name);
                child.to_many = !rel.kind.is_to_one();
                if *spread {
                    child.spread = Some(child.to_many);
                }
                child.relation = rel.name.clone();
                // The engine answers an embed under its alias (or relation
                // name) and reads the join fields under their names: an
                // output key that is a field of the parent (`reports_to(*)`)
                // or another embed's engine key goes to the engine under a
                // free name, renamed back after it answers ([`FieldAliases`]).
                let engine_keys: Vec<&str> = node
                    .children
                    .iter()
                    .flat_map(|c| std::iter::once(c.engine_key()).chain(c.split.as_deref()))
                    .collect();
                let free = |k: &str| node.entity.field(k).is_err() && !engine_keys.contains(&k);
                let engine_key = if free(&key) {
                    key.clone()
                } else {
                    std::iter::once(rel.name.clone())
                        .chain((2..).map(|i| format!("{}_{i}", rel.name)))
                        .find(|k| free(k))
                        .unwrap_or_else(|| rel.name.clone())
                };
                child.alias = (engine_key != rel.name).then_some(engine_key);
                child.inner = *inner;
                match children {
                    Some(items) => build_node(schema, &mut child, items)?,
                    None => child.output = false,
                }
                // PostgREST's empty embedding is also one that lists
                // nothing of its own, only empty embeddings
                // (`album(artist())`): it filters, it is not shown.
                if child.spread.is_none()
                    && !child.star
                    && child.outputs.is_empty()
                    && child.aggregates.is_empty()
                    && child.casts.is_empty()
                    && child.children.iter().all(|c| !c.output)
                {
                    child.output = false;
                }
                node.layout.push(Some(child.key.clone()));
                for a in std::mem::take(&mut child.raised) {
                    node.layout.push(Some(a.alias.clone()));
                    if node.outputs.iter().any(|(k, _)| *k == a.alias) {
                        return Err(RestError::query_syntax(format!(
                            "`{}` is selected twice",
                            a.alias
                        ))
                        .with_hint("give one of them an alias: `n:count()`"));
                    }
                    node.outputs.push((a.alias.clone(), a.alias.clone()));
                    // Its cast (`...album(n:count()::text)`) goes with it.
                    if let Some(at) = child.shapes.iter().position(|(k, _)| *k == a.alias) {
                        node.shapes.push(child.shapes.remove(at));
                    }
                    node.aggregates.push(a);
                    // Nothing else listed: it groups nothing, shows nothing.
                    if !child.star
                        && child.fields.is_empty()
                        && child.aggregates.is_empty()
                        && !child.children.iter().any(|c| c.output)
                    {
                        child.output = false;
                    }
                }
                if child.spread == Some(true) && child.spreads_aggregates() {
                    // PostgREST refuses aggregates in any to-many spread;
                    // we answer those of the spread itself (a superset),
                    // not those of a spread inside it.
                    return Err(RestError::not_implemented(
                        "Aggregates are not implemented for one-to-many or many-to-many spreads.",
                    )
                    .with_hint(format!(
                        "aggregate in `...{name}(…)` itself, or embed it: `{name}(…)`"
                    )));
                }
                if child.lifts()
                    && (child.star || !child.fields.is_empty() || !child.children.is_empty())
                {
                    // Its rows and its aggregates are read apart: the
                    // aggregates under a key of their own.
                    let mut taken: Vec<String> = node
                        .children
                        .iter()
                        .flat_map(|c| {
                            std::iter::once(c.engine_key().to_string()).chain(c.split.clone())
                        })
                        .collect();
                    taken.push(child.engine_key().to_string());
                    let base = format!("{}_aggregates", rel.name);
                    child.split = std::iter::once(base.clone())
                        .chain((2..).map(|i| format!("{base}_{i}")))
                        .find(|k| node.entity.field(k).is_err() && !taken.contains(k));
                    // Its aggregates right after its rows, as it lists them.
                    if let Some(split) = &child.split {
                        let at = node
                            .layout
                            .iter()
                            .position(|k| k.as_deref() == Some(child.key.as_str()))
                            .map_or(node.layout.len(), |i| i + 1);
                        node.layout.insert(at, Some(split.clone()));
                    }
                }
                node.children.push(child);
            }
        }
    }
    if node.spread == Some(false) && !node.aggregates.is_empty() {
        // Its `count()`s count the parent's rows: they are the parent's.
        // Aggregates of its own fields stay ([`Node::joins`]).
        let (counts, own) = std::mem::take(&mut node.aggregates)
            .into_iter()
            .partition(|a| a.func == AggregateFn::Count);
        node.raised = counts;
        node.aggregates = own;
        let raised = &node.raised;
        node.outputs
            .retain(|(k, _)| !raised.iter().any(|a| a.alias == *k));
    }
    node.settle()
}

/// `select=*,name`: `*` already returns every field, so the IR carries no
/// field list and the validator never sees `name`. Report unknown names
/// here, as the validator reports them (same pointer shape, same message),
/// so that `*,unknown` fails like `id,unknown`.
fn unknown_beside_star(node: &Node<'_>, at: &str, out: &mut Vec<baas_core::Violation>) {
    if node.star {
        for (i, f) in node.fields.iter().enumerate() {
            if node.entity.field(f).is_err() {
                out.push(baas_core::Violation::unknown_field(
                    format!("{at}/fields/{i}"),
                    &node.entity.name,
                    f,
                ));
            }
        }
    }
    for (i, c) in node.children.iter().filter(|c| c.output).enumerate() {
        unknown_beside_star(c, &format!("{at}/embeds/{i}/select"), out);
    }
}

fn parse_u64(key: &str, v: &str) -> Result<u64, RestError> {
    v.trim().parse::<u64>().map_err(|_| {
        RestError::query_syntax(format!("`{key}` must be a non-negative integer, got `{v}`"))
    })
}

/// A comma-separated list of names (`columns=`, `on_conflict=`).
fn name_list(param: &str, v: &str) -> Result<Vec<String>, RestError> {
    let mut cur = Cursor::new(v);
    let mut out = Vec::new();
    let stop = |c: char, _: &str| c == ',' || c == '"';
    loop {
        let n = name(&mut cur, &stop).ok_or_else(|| cur.error(param, "a column name"))?;
        out.push(n);
        if cur.at_end() {
            return Ok(out);
        }
        if !cur.eat(",") {
            return Err(cur.error(param, "`,` or the end"));
        }
    }
}

fn set_once<T>(slot: &mut Option<T>, v: T, key: &str) -> Result<(), RestError> {
    if slot.is_some() {
        return Err(RestError::query_syntax(format!(
            "`{key}` is given more than once"
        )));
    }
    *slot = Some(v);
    Ok(())
}

/// Parse a whole query string for `entity`.
pub(crate) fn parse_params<'s>(
    schema: &'s SchemaMetadata,
    entity: &'s Entity,
    query: &str,
    limits: &ParseLimits,
) -> Result<Params<'s>, RestError> {
    if query.len() > limits.http.max_query_bytes {
        return Err(RestError::new(
            414,
            "uri_too_long",
            format!(
                "the query string exceeds {} bytes",
                limits.http.max_query_bytes
            ),
        ));
    }
    let pairs = parse_query_string(query)?;
    let mut root = Node::new(entity, entity.name.clone());
    let mut select: Option<&str> = None;
    for (k, v) in &pairs {
        if k == "select"
            && let Some(v) = v
        {
            set_once(&mut select, v.as_str(), "select")?;
        }
    }
    if let Some(s) = select {
        build_node(schema, &mut root, &parse_select(s, limits)?)?;
        let mut unknown = Vec::new();
        unknown_beside_star(&root, "/select", &mut unknown);
        if !unknown.is_empty() {
            return Err(baas_core::Error::Validation {
                violations: unknown,
            }
            .into());
        }
    }
    let mut columns = None;
    let mut on_conflict = None;
    let mut after = None;
    let mut trees = Vec::new();
    for (k, v) in &pairs {
        let Some(v) = v else { continue };
        match k.as_str() {
            "select" => continue,
            "columns" => {
                set_once(&mut columns, name_list("columns", v)?, k)?;
                continue;
            }
            "on_conflict" => {
                set_once(&mut on_conflict, name_list("on_conflict", v)?, k)?;
                continue;
            }
            "after" if v.trim_start().starts_with('[') => {
                let json: serde_json::Value = serde_json::from_str(v).map_err(|e| {
                    RestError::query_syntax(format!("`after` is not a JSON array: {e}"))
                })?;
                let values = json
                    .as_array()
                    .map(|a| a.iter().map(Value::from_json).collect())
                    .ok_or_else(|| RestError::query_syntax("`after` must be a JSON array"))?;
                set_once(&mut after, values, k)?;
                continue;
            }
            _ => {}
        }
        let segs: Vec<&str> = k.split('.').collect();
        let last = segs.last().copied().unwrap_or_default();
        let path_of = |n: usize| -> Vec<String> {
            segs.iter()
                .take(n)
                .filter(|s| **s != "not")
                .map(|s| s.to_string())
                .collect()
        };
        let prefix = segs.len().saturating_sub(1);
        match last {
            "order" => {
                let node = root.find_mut(&path_of(prefix))?;
                let order = related_order(schema, node, parse_order(v)?)?;
                set_once(&mut node.order, order, k)?;
            }
            "limit" => {
                // PostgREST's answer to a negative limit (RangeSpec).
                if v.trim().starts_with('-') && v.trim()[1..].parse::<u64>().is_ok() {
                    return Err(RestError::new(
                        416,
                        "PGRST103",
                        "Limit should be greater than or equal to zero.",
                    ));
                }
                let n = parse_u64(k, v)?;
                let node = root.find_mut(&path_of(prefix))?;
                set_once(&mut node.limit, n, k)?;
            }
            "offset" => {
                // A negative offset skips nothing, as PostgREST ignores it.
                let n = if v.trim().starts_with('-') && v.trim()[1..].parse::<u64>().is_ok() {
                    0
                } else {
                    parse_u64(k, v)?
                };
                let node = root.find_mut(&path_of(prefix))?;
                set_once(&mut node.offset, n, k)?;
            }
            "and" | "or" => {
                let negate = segs.iter().take(prefix).any(|s| *s == "not");
                let tree = parse_logic(v, negate, last == "or", limits)?;
                // Lowered once every parameter is read: an embedding's
                // null check in it (`or=(rel.not.is.null,…)`) takes the
                // embedding's filters, wherever they stand.
                root.find_mut(&path_of(prefix))?;
                trees.push((path_of(prefix), tree));
            }
            _ => {
                let (path, field) = parse_key(k)?;
                let expr = parse_op_value(v, limits).map_err(|e| {
                    if e.hint.is_none() {
                        e.with_hint(format!(
                            "filters are written `{k}=op.value`, e.g. `{k}=eq.1`"
                        ))
                    } else {
                        e
                    }
                })?;
                let node = root.find_mut(&path)?;
                // `rel=is.null` / `rel=not.is.null` on an embedding.
                if node.embedding_of(&field).is_some() {
                    let exists = null_check(&field, &expr)?;
                    if let Some(c) = node.children.iter_mut().find(|c| c.key == field.name) {
                        set_once(&mut c.exists, exists, k)?;
                    }
                    continue;
                }
                let f = to_filter(&field, &expr, node.entity)?;
                node.filters.push(f);
            }
        }
    }
    for (path, tree) in trees {
        let node = root.find_mut(&path)?;
        let f = {
            let node: &Node<'_> = node;
            tree.to_filter_with(node.entity, &|field, expr| {
                let c = node.embedding_of(field)?;
                Some(null_check(field, expr).map(|exists| {
                    let f = Filter::Exists {
                        relation: c.relation.clone(),
                        filter: c.condition().map(Box::new),
                        through: None,
                    };
                    if exists { f } else { Filter::not(f) }
                }))
            })?
        };
        node.filters.push(f);
    }
    Ok(Params {
        root,
        columns,
        on_conflict,
        after,
    })
}

/// Whether `rel=is.null` / `not.is.null` (or the same in a logic tree)
/// asks for a related row (`true`) or for none; another operator on an
/// embedding is a 400.
fn null_check(
    field: &crate::filter::FieldRef,
    expr: &crate::filter::OpExpr,
) -> Result<bool, RestError> {
    match (&expr.op, expr.negate) {
        (Operation::Is(IsWord::Null), false) | (Operation::Is(IsWord::NotNull), true) => Ok(false),
        (Operation::Is(IsWord::Null), true) | (Operation::Is(IsWord::NotNull), false) => Ok(true),
        _ => Err(RestError::query_syntax(format!(
            "`{}` is an embedding: only `is.null` and `not.is.null` apply to it",
            field.name
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::{Cast, JoinBudget, KeyPart, Spread};
    use serde_json::{Value as J, json};

    fn cast(ty: &str, v: J) -> Result<J, String> {
        Cast::parse(ty)
            .expect("a served cast")
            .apply(v, None)
            .map_err(|e| e.code)
    }

    #[test]
    fn dates_times_and_uuids_cast_as_postgresql_does() {
        assert_eq!(
            cast("date", json!("2024-02-29T23:59:58")),
            Ok(json!("2024-02-29"))
        );
        assert_eq!(cast("date", json!(" 2024-02-29 ")), Ok(json!("2024-02-29")));
        // An offset is taken in UTC.
        assert_eq!(
            cast("timestamptz", json!("2024-02-29T23:30:00+02:00")),
            Ok(json!("2024-02-29T21:30:00+00:00"))
        );
        assert_eq!(
            cast("timestamptz", json!("2024-02-29")),
            Ok(json!("2024-02-29T00:00:00+00:00"))
        );
        assert_eq!(
            cast("timestamp", json!("2024-02-29T23:30:00+00:00")),
            Ok(json!("2024-02-29T23:30:00"))
        );
        assert_eq!(
            cast("time", json!("2024-02-29T23:30:05.5")),
            Ok(json!("23:30:05.5"))
        );
        assert_eq!(cast("time", json!("07:08")), Ok(json!("07:08:00")));
        assert_eq!(
            cast("uuid", json!("6F1C8A2E-0C3B-4B6A-9D8E-0A1B2C3D4E5F")),
            Ok(json!("6f1c8a2e-0c3b-4b6a-9d8e-0a1b2c3d4e5f"))
        );
        assert_eq!(cast("date", J::Null), Ok(J::Null));
        assert_eq!(cast("date", json!("2024-02-30")), Err("22007".into()));
        assert_eq!(cast("uuid", json!("nope")), Err("22P02".into()));
        assert_eq!(cast("date", json!(20240229)), Err("42846".into()));
        assert_eq!(cast("uuid", json!(true)), Err("42846".into()));
        assert_eq!(cast("timestamp", json!({"a": 1})), Err("42846".into()));
    }

    #[test]
    fn spread_joins_multiply_within_their_budget() {
        let spread = Spread {
            key: "albums".into(),
            to_many: true,
            groups: vec![
                vec![KeyPart::Key("t".into())],
                vec![KeyPart::Key("g".into())],
            ],
            ..Spread::default()
        };
        let items = || {
            vec![
                json!({"title": "A", "t": [1, 2], "g": ["x", "y", "z"]}),
                json!({"title": "B", "t": [], "g": ["w"]}),
            ]
        };
        let joined = spread
            .joined(items(), &mut JoinBudget::unlimited())
            .unwrap();
        let pairs: Vec<_> = joined
            .iter()
            .map(|r| (r["title"].clone(), r["t"].clone(), r["g"].clone()))
            .collect();
        assert_eq!(
            pairs,
            vec![
                (json!("A"), json!(1), json!("x")),
                (json!("A"), json!(1), json!("y")),
                (json!("A"), json!(1), json!("z")),
                (json!("A"), json!(2), json!("x")),
                (json!("A"), json!(2), json!("y")),
                (json!("A"), json!(2), json!("z")),
                (json!("B"), json!(null), json!("w")),
            ]
        );
        // A's 2 × 3 rows add 5 past its own: 4 rows are refused, and so
        // are the bytes they repeat.
        let e = spread
            .joined(items(), &mut JoinBudget::new(4, u64::MAX))
            .unwrap_err();
        assert!(e.message.contains("rows"), "{}", e.message);
        let e = spread
            .joined(items(), &mut JoinBudget::new(100, 40))
            .unwrap_err();
        assert!(e.message.contains("bytes"), "{}", e.message);
        assert!(
            spread
                .joined(items(), &mut JoinBudget::new(5, 1000))
                .is_ok()
        );
    }
}
