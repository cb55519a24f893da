//! The dynamic query IR: what every request becomes before it reaches an adapter.
//!
//! The IR names entities, fields and relations by their API names; nothing in it
//! is SQL or BSON. It is (de)serialisable with serde so request cases can be
//! stored as JSON files (`baas-testkit/cases/*/request.json`). An IR value is
//! checked against metadata by [`crate::validate`] before any adapter sees it.

use serde::{Deserialize, Serialize};

use crate::value::Value;

/// The longest regular expression a [`Filter::Regex`] may carry, in bytes
/// (validation refuses longer ones): a bound on what any engine compiles.
pub const MAX_REGEX_BYTES: usize = 1024;

/// A row filter.
///
/// `And(vec![])` is true and `Or(vec![])` is false on every engine.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
#[non_exhaustive]
pub enum Filter {
    /// All of the filters hold (true when empty).
    And {
        /// The operands.
        filters: Vec<Filter>,
    },
    /// Any of the filters holds (false when empty).
    Or {
        /// The operands.
        filters: Vec<Filter>,
    },
    /// The filter does not hold.
    Not {
        /// The operand.
        filter: Box<Filter>,
    },
    /// `field <op> value`. Comparing with null never matches (use [`Filter::Is`]).
    Compare {
        /// Field name.
        field: String,
        /// The comparison.
        op: CompareOp,
        /// The operand.
        value: Value,
    },
    /// `field IN (values)`; an empty list matches nothing; null items never match.
    In {
        /// Field name.
        field: String,
        /// The candidates.
        values: Vec<Value>,
    },
    /// `field IS NULL / NOT NULL / TRUE / FALSE`.
    Is {
        /// Field name.
        field: String,
        /// What to test for.
        value: IsValue,
    },
    /// SQL `LIKE` pattern (`%` any run, `_` one character, `\` escapes).
    Like {
        /// Field name.
        field: String,
        /// The pattern.
        pattern: String,
        /// `ILIKE` semantics (case-insensitive).
        #[serde(default)]
        case_insensitive: bool,
    },
    /// Regular-expression match (PostgREST's `match` / `imatch`): true when
    /// the pattern matches anywhere in the text (unanchored, as POSIX `~`).
    /// The pattern is always bound as a value; each engine evaluates it with
    /// its own regex dialect (see the README's differences).
    Regex {
        /// Field name (a text field; a `json` field with a `path`).
        field: String,
        /// Object keys (or array indexes as decimal strings) from the root
        /// of a JSON field to the text tested (`data->>name=match.^a`: a
        /// scalar's, as [`Filter::JsonLike`]'s); empty: the field itself.
        /// A value there that is missing, JSON `null`, an array or an
        /// object matches neither `match` nor its negation.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        path: Vec<String>,
        /// The pattern, at most [`MAX_REGEX_BYTES`] bytes.
        pattern: String,
        /// `imatch`: case-insensitive.
        #[serde(default)]
        case_insensitive: bool,
    },
    /// Full-text match: of plain words (all must match), or of a query in
    /// one of PostgreSQL's syntaxes ([`TextSyntax`]).
    TextSearch {
        /// Field name (a text field; a `json` field with a `path`).
        field: String,
        /// Object keys (or array indexes as decimal strings) from the root
        /// of a JSON field to the string searched (`data->>body=fts.fox`);
        /// empty: the field itself. A value there that is missing or not
        /// a string matches nothing. PostgreSQL only: MySQL's `MATCH`
        /// needs a column with a `FULLTEXT` index.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        path: Vec<String>,
        /// The query, in `syntax`.
        query: String,
        /// Text-search configuration (PostgreSQL), e.g. `english`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        language: Option<String>,
        /// How `query` is written [default: plain words].
        #[serde(default, skip_serializing_if = "TextSyntax::is_words")]
        syntax: TextSyntax,
    },
    /// PostgreSQL's range operators on a range field (one whose `db_type`
    /// names a range type: `int4range`, `tstzrange`, `datemultirange`…),
    /// against a range literal (`[1,10)`, `(,5]`, `empty`) read as the
    /// field's type.
    Range {
        /// Field name.
        field: String,
        /// The operator.
        op: RangeOp,
        /// The range literal.
        value: String,
    },
    /// Array operators on array fields.
    Array {
        /// Field name.
        field: String,
        /// The operator.
        op: ArrayOp,
        /// The operand elements.
        values: Vec<Value>,
    },
    /// The JSON value at a path inside a JSON field compared with a JSON
    /// operand as PostgreSQL compares `jsonb` (PostgREST's
    /// `data->a=gt.5`): values of two types by type, `null` < strings <
    /// numbers < booleans < arrays < objects (an empty array before all
    /// of them); numbers by value (`1` = `1.0`), `false` < `true`,
    /// strings as each engine orders texts (PostgreSQL: the database's
    /// collation; the others by bytes, as its `C` collation). So
    /// `data->n=gt.5` holds for `true` and `neq.5` for `"x"`. An array or
    /// an object operand: equal as [`Filter::JsonEquals`] everywhere;
    /// ordered as `jsonb` on PostgreSQL and SQLite, refused
    /// (`Unsupported`) on MySQL/MariaDB and MongoDB. A number past a
    /// double (`1e400`) is above (below) every number those engines store.
    /// A missing path or a NULL field matches neither this nor its
    /// negation.
    JsonPath {
        /// Field name (a `json` field).
        field: String,
        /// Object keys (or array indexes as decimal strings) from the root.
        path: Vec<String>,
        /// The comparison.
        op: CompareOp,
        /// The JSON operand.
        value: serde_json::Value,
    },
    /// A comparison of the text at a path inside a JSON field, as
    /// PostgreSQL's `->>` gives a scalar's (PostgREST's `data->>a=gt.m`,
    /// `eq`, `in`): a string as it is, a number's text (as the document
    /// writes it: `data->>n=gt.5` is false for `10`, `'10' < '5'`),
    /// `true`/`false`, compared with the text `value`: equal texts, or
    /// ordered as each engine orders texts (PostgreSQL: the database's
    /// collation; MySQL/MariaDB, SQLite and MongoDB: by bytes, as
    /// PostgreSQL's `C` collation). A value there that is missing, JSON
    /// `null`, an array or an object matches neither this nor its
    /// negation.
    JsonText {
        /// Field name (a `json` field).
        field: String,
        /// Object keys (or array indexes as decimal strings) from the root.
        path: Vec<String>,
        /// The comparison.
        op: CompareOp,
        /// The text compared with.
        value: String,
    },
    /// SQL `LIKE` on the text at a path inside a JSON field, as
    /// PostgreSQL's `->>` gives a scalar's (PostgREST's
    /// `data->>a=like.*x*`): a string as it is, a number's text (as the
    /// document writes it), `true`/`false`; false when the value there is
    /// missing, JSON `null`, an array or an object (and so is its `not`).
    JsonLike {
        /// Field name (a `json` field).
        field: String,
        /// Object keys (or array indexes as decimal strings) from the root.
        path: Vec<String>,
        /// The pattern, as [`Filter::Like`]'s.
        pattern: String,
        /// `ILIKE` semantics (case-insensitive).
        #[serde(default)]
        case_insensitive: bool,
    },
    /// The value at a path inside a JSON field is missing or JSON `null`
    /// (PostgREST's `data->>a=is.null`; `not` of it: a value is there),
    /// or with `missing_only` missing alone (`data->a=is.null`:
    /// PostgreSQL's `->` keeps a JSON `null`, which is no SQL `NULL`).
    JsonIsNull {
        /// Field name (a `json` field).
        field: String,
        /// Object keys (or array indexes as decimal strings) from the root.
        path: Vec<String>,
        /// Only a missing value (or a NULL field) matches, not JSON `null`.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        missing_only: bool,
    },
    /// JSON containment on a JSON field, as PostgreSQL's `jsonb` `@>` /
    /// `<@`: an object contains an object whose every key it has with a
    /// containing value; an array contains an array whose every element
    /// some element of it contains; scalars are equal (numbers by value);
    /// at the top level an array also contains a scalar it holds.
    JsonContains {
        /// Field name (a `json` field).
        field: String,
        /// Object keys (or array indexes as decimal strings) from the root
        /// to the value tested (`data->tags=cs.["a"]`); empty: the field.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        path: Vec<String>,
        /// `Contains`: the field contains `value`; `ContainedBy`: `value`
        /// contains the field (`Overlaps` is refused).
        op: ArrayOp,
        /// The JSON operand.
        value: serde_json::Value,
    },
    /// The JSON value at `path` of a JSON field equals a JSON operand, as
    /// `jsonb`'s `=` compares (PostgREST's `data=eq.{"a":1}`): objects
    /// with the same keys whose values are equal, arrays of equal
    /// elements in order, numbers by value (`1` and `1.0` are equal),
    /// strings, booleans and `null` of the same type. A missing path or a
    /// NULL field matches neither this nor its negation.
    JsonEquals {
        /// Field name (a `json` field).
        field: String,
        /// Object keys (or array indexes as decimal strings) from the root
        /// to the value compared (`data->tags=eq.["a"]`); empty: the field.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        path: Vec<String>,
        /// The JSON operand.
        value: serde_json::Value,
    },
    /// Some related row exists (optionally matching `filter`).
    Exists {
        /// Relation name on the filtered entity.
        relation: String,
        /// Condition on the related rows.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        filter: Option<Box<Filter>>,
        /// Many-to-many relations only: a condition on the junction rows
        /// that link to the related rows (the engine puts the junction's
        /// row permissions here).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        through: Option<Box<Filter>>,
    },
}

impl Filter {
    /// The fields the filter tests directly, through `And`, `Or` and
    /// `Not` (not through `Exists`, whose fields are another entity's).
    ///
    /// ```
    /// use baas_core::ir::{CompareOp, Filter};
    ///
    /// let f = Filter::or(vec![Filter::cmp("a", CompareOp::Eq, 1), Filter::not(Filter::cmp("b", CompareOp::Gt, 2))]);
    /// assert_eq!(f.fields(), ["a", "b"]);
    /// ```
    pub fn fields(&self) -> Vec<&str> {
        let mut out = Vec::new();
        let mut stack = vec![self];
        while let Some(f) = stack.pop() {
            match f {
                Self::And { filters } | Self::Or { filters } => stack.extend(filters.iter().rev()),
                Self::Not { filter } => stack.push(filter),
                Self::Compare { field, .. }
                | Self::In { field, .. }
                | Self::Is { field, .. }
                | Self::Like { field, .. }
                | Self::Regex { field, .. }
                | Self::Range { field, .. }
                | Self::TextSearch { field, .. }
                | Self::Array { field, .. }
                | Self::JsonContains { field, .. }
                | Self::JsonEquals { field, .. }
                | Self::JsonLike { field, .. }
                | Self::JsonText { field, .. }
                | Self::JsonIsNull { field, .. }
                | Self::JsonPath { field, .. } => out.push(field.as_str()),
                Self::Exists { .. } => {}
            }
        }
        out
    }

    /// Call `f` with each value compared with a field's own values
    /// (`Compare`, `In`) and the field's name, through `And`, `Or` and
    /// `Not`; the operands of other filters (patterns, JSON, ranges,
    /// arrays, `Exists` on other entities) are not visited.
    pub fn compared_values_mut(&mut self, f: &mut dyn FnMut(&str, &mut Value)) {
        match self {
            Self::And { filters } | Self::Or { filters } => {
                for g in filters {
                    g.compared_values_mut(f);
                }
            }
            Self::Not { filter } => filter.compared_values_mut(f),
            Self::Compare { field, value, .. } => f(field, value),
            Self::In { field, values } => {
                for v in values {
                    f(field, v);
                }
            }
            _ => {}
        }
    }

    /// `And` of the filters.
    pub fn and(filters: Vec<Filter>) -> Self {
        Self::And { filters }
    }
    /// `Or` of the filters.
    pub fn or(filters: Vec<Filter>) -> Self {
        Self::Or { filters }
    }
    /// Negation.
    #[allow(clippy::should_implement_trait)]
    pub fn not(f: Filter) -> Self {
        Self::Not {
            filter: Box::new(f),
        }
    }
    /// A comparison.
    pub fn cmp(field: impl Into<String>, op: CompareOp, value: impl Into<Value>) -> Self {
        Self::Compare {
            field: field.into(),
            op,
            value: value.into(),
        }
    }
    /// `field = value`.
    pub fn eq(field: impl Into<String>, value: impl Into<Value>) -> Self {
        Self::cmp(field, CompareOp::Eq, value)
    }
    /// `field IN values`.
    pub fn in_list<V: Into<Value>>(field: impl Into<String>, values: Vec<V>) -> Self {
        Self::In {
            field: field.into(),
            values: values.into_iter().map(Into::into).collect(),
        }
    }
    /// Some row of `relation` exists (matching `filter` when given).
    pub fn exists(relation: impl Into<String>, filter: Option<Filter>) -> Self {
        Self::Exists {
            relation: relation.into(),
            filter: filter.map(Box::new),
            through: None,
        }
    }
    /// `field IS <value>`.
    pub fn is(field: impl Into<String>, value: IsValue) -> Self {
        Self::Is {
            field: field.into(),
            value,
        }
    }

    /// Nesting depth (a leaf is 1).
    pub fn depth(&self) -> usize {
        match self {
            Self::And { filters } | Self::Or { filters } => {
                1 + filters.iter().map(Self::depth).max().unwrap_or(0)
            }
            Self::Not { filter } => 1 + filter.depth(),
            Self::Exists {
                filter: Some(f), ..
            } => 1 + f.depth(),
            _ => 1,
        }
    }
}

/// Comparison operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CompareOp {
    /// `=`
    Eq,
    /// `<>`
    Neq,
    /// `>`
    Gt,
    /// `>=`
    Gte,
    /// `<`
    Lt,
    /// `<=`
    Lte,
}

impl CompareOp {
    /// Whether `a <op> b` holds where `a` orders as `ord` against `b`.
    ///
    /// ```
    /// use baas_core::ir::CompareOp;
    /// use std::cmp::Ordering;
    ///
    /// assert!(CompareOp::Gte.holds(Ordering::Equal));
    /// assert!(!CompareOp::Lt.holds(Ordering::Greater));
    /// ```
    pub fn holds(self, ord: std::cmp::Ordering) -> bool {
        use std::cmp::Ordering;
        match self {
            Self::Eq => ord == Ordering::Equal,
            Self::Neq => ord != Ordering::Equal,
            Self::Gt => ord == Ordering::Greater,
            Self::Gte => ord != Ordering::Less,
            Self::Lt => ord == Ordering::Less,
            Self::Lte => ord != Ordering::Greater,
        }
    }
}

/// Operand of [`Filter::Is`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IsValue {
    /// `IS NULL`
    Null,
    /// `IS NOT NULL`
    NotNull,
    /// `IS TRUE`
    True,
    /// `IS FALSE`
    False,
    /// `IS UNKNOWN`: a boolean's null (of another type, PostgreSQL's
    /// 400 `42804`, refused by validation).
    Unknown,
}

/// How a full-text query is written. Engines with PostgreSQL's text
/// search run the syntaxes as PostgREST does (`to_tsquery`,
/// `plainto_tsquery`, `phraseto_tsquery`, `websearch_to_tsquery`); the
/// others search the query as [`TextSyntax::parse`] reads it (a
/// [`TextQuery`](crate::text_query::TextQuery)), its words as
/// PostgreSQL's `simple` configuration makes them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TextSyntax {
    /// Plain words, all required (every engine with full-text search).
    #[default]
    Words,
    /// `tsquery` syntax: `'fat' & ('rat' | cat:*) & !dog`, `a <-> b` (`fts`).
    TsQuery,
    /// Plain text, all words required (`plfts`).
    Plain,
    /// The words as a phrase, in order (`phfts`).
    Phrase,
    /// Web-search syntax: `"a phrase" or word -excluded` (`wfts`).
    Web,
}

impl TextSyntax {
    fn is_words(&self) -> bool {
        *self == Self::Words
    }
}

/// Range operators ([`Filter::Range`]), as PostgREST names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RangeOp {
    /// `sl`, `<<`: strictly left of.
    StrictlyLeft,
    /// `sr`, `>>`: strictly right of.
    StrictlyRight,
    /// `nxr`, `&<`: does not extend to the right of.
    NotExtendRight,
    /// `nxl`, `&>`: does not extend to the left of.
    NotExtendLeft,
    /// `adj`, `-|-`: adjacent to.
    Adjacent,
    /// `cs`, `@>`: contains.
    Contains,
    /// `cd`, `<@`: is contained by.
    ContainedBy,
    /// `ov`, `&&`: overlaps.
    Overlaps,
}

/// Most steps in one JSON path (`data->a->0->b`): every engine's
/// statement reads each step, some more than once.
pub const MAX_JSON_PATH_STEPS: usize = 16;

/// Deepest nesting of arrays and objects in a [`Filter::JsonContains`]
/// or [`Filter::JsonEquals`] operand (each level is a nested condition on
/// the SQL engines).
pub const MAX_JSON_OPERAND_DEPTH: usize = 8;

/// Most scalars, arrays and objects in a [`Filter::JsonContains`] or
/// [`Filter::JsonEquals`] operand.
pub const MAX_JSON_OPERAND_NODES: usize = 256;

/// Longest range literal a [`Filter::Range`] may carry, in bytes.
pub const MAX_RANGE_LITERAL_BYTES: usize = 256;

/// Array operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ArrayOp {
    /// The field contains every operand element (`@>`).
    Contains,
    /// Every element of the field is among the operands (`<@`).
    ContainedBy,
    /// The field and the operands share an element (`&&`).
    Overlaps,
}

/// Sort direction.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// Ascending.
    #[default]
    Asc,
    /// Descending.
    Desc,
}

/// Where nulls sort.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Nulls {
    /// Nulls before other values.
    First,
    /// Nulls after other values.
    Last,
}

/// One sort key. When `nulls` is absent nulls sort as in PostgreSQL (last when
/// ascending, first when descending) on every engine.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrderBy {
    /// Field name.
    pub field: String,
    /// Direction.
    #[serde(default)]
    pub direction: Direction,
    /// Null placement.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nulls: Option<Nulls>,
    /// Order by a value inside the (JSON) field rather than the field.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub json: Option<JsonKey>,
    /// `field` is a field of the row related through this to-one relation
    /// (PostgREST's `order=author(name)`), not of the ordered entity.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub related: Option<RelatedKey>,
}

/// The to-one relation an [`OrderBy`] reads its field through. A row
/// without a related row (or whose related row `filter` hides) sorts as
/// null.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RelatedKey {
    /// A many-to-one or one-to-one relation of the ordered entity.
    pub relation: String,
    /// The related rows that count; validation adds the caller's read
    /// filter on the related entity, so an order never reveals a row the
    /// caller may not read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filter: Option<Box<Filter>>,
}

/// The value inside a JSON field that an [`OrderBy`] sorts on.
///
/// `text: false` (PostgREST's `order=data->a`) sorts JSON values as
/// PostgreSQL's `jsonb` does, by type first: JSON `null` < strings <
/// numbers < booleans < arrays < objects; strings by the engine's
/// collation, numbers by value, `false` < `true`. `text: true`
/// (`order=data->>a`) sorts the value's text (numbers as text, JSON `null`
/// as SQL `NULL`). A path that is missing in a row is SQL `NULL` (placed by
/// [`OrderBy::nulls`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JsonKey {
    /// Object keys (or array indexes as decimal strings) from the root.
    pub path: Vec<String>,
    /// Sort the value's text rather than the JSON value.
    #[serde(default)]
    pub text: bool,
}

impl OrderBy {
    /// Ascending on `field`.
    pub fn asc(field: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            direction: Direction::Asc,
            nulls: None,
            json: None,
            related: None,
        }
    }
    /// Descending on `field`.
    pub fn desc(field: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            direction: Direction::Desc,
            nulls: None,
            json: None,
            related: None,
        }
    }
    /// The same order with nulls after the other values.
    pub fn nulls_last(mut self) -> Self {
        self.nulls = Some(Nulls::Last);
        self
    }

    /// The same order on `field` of the row related through the to-one
    /// `relation`.
    pub fn through(mut self, relation: impl Into<String>) -> Self {
        self.related = Some(RelatedKey {
            relation: relation.into(),
            filter: None,
        });
        self
    }

    /// The same order on the value at `path` inside the JSON field
    /// (`text`: its text, as `->>`).
    pub fn at_path(mut self, path: Vec<String>, text: bool) -> Self {
        self.json = Some(JsonKey { path, text });
        self
    }
    /// The effective null placement.
    pub fn effective_nulls(&self) -> Nulls {
        self.nulls.unwrap_or(match self.direction {
            Direction::Asc => Nulls::Last,
            Direction::Desc => Nulls::First,
        })
    }
}

/// Which rows of the ordered result to return.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Page {
    /// At most this many rows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u64>,
    /// Skip this many rows (offset pagination).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offset: Option<u64>,
    /// Keyset pagination: the order-key values of the last row already seen,
    /// one per `order` entry. Rows strictly after it are returned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<Vec<Value>>,
    /// At most `limit` rows per distinct value of `fields`, in query order
    /// (how embedded to-many relations bound their rows per parent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partition: Option<PartitionLimit>,
}

/// A per-group row limit: `ROW_NUMBER() OVER (PARTITION BY fields ORDER BY …) <= limit`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PartitionLimit {
    /// The fields whose distinct values form the groups.
    pub fields: Vec<String>,
    /// Rows kept per group.
    pub limit: u64,
}

/// Whether and how to count the matching rows.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Count {
    /// No count.
    #[default]
    None,
    /// `count(*)` over the filter.
    Exact,
    /// PostgREST's `count=planned`: the planner's estimate of the matching
    /// rows where the engine has one
    /// ([`DatabaseAdapter::estimated_count`](crate::DatabaseAdapter::estimated_count)),
    /// as [`Estimated`](Self::Estimated) otherwise.
    Planned,
    /// PostgREST's `count=estimated`: exact up to the read's row budget
    /// ([`Query::max_rows`]; counting stops one row past it), beyond it the
    /// larger of that and the planner's estimate, or the exact count where
    /// the engine has no estimate. Without a budget, exact.
    Estimated,
}

/// What to return for each row: fields and embedded relations.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Selection {
    /// Fields to return; empty means every field (unless `omit_fields`),
    /// computed fields aside ([`Field::computed`](crate::Field::computed):
    /// read only when named).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<String>,
    /// `fields` are read beside every field (PostgREST's `*,full_name`
    /// with a computed field); validation expands the list (the readable
    /// fields, then the named ones) and clears the flag.
    #[serde(default, skip_serializing_if = "is_false")]
    pub star: bool,
    /// Return none of the entity's own fields, only `embeds` (PostgREST's
    /// `select=rel(*)`); `fields` must then be empty. The engine still reads
    /// the key fields it needs to join the embeds, and drops them from the
    /// answer.
    #[serde(default, skip_serializing_if = "is_false")]
    pub omit_fields: bool,
    /// Related entities to embed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub embeds: Vec<Embed>,
    /// Inside a one-to-many embedding only: aggregate the related rows of
    /// each parent instead of listing them (PostgREST's `rel(count)`,
    /// `rel(genre_id,milliseconds.sum())`), grouped by `fields`. Each
    /// parent gets one object per group (`[{"count": 5}]`); with no
    /// `fields`, exactly one, also when it has no related row (`count` 0,
    /// the others null). `embeds` must then be empty.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub aggregates: Vec<AggregateExpr>,
    /// With `aggregates` inside a one-to-many embedding: groups by values
    /// computed from fields not in `fields`, as
    /// [`Aggregate::group_by_values`] (each answered under its
    /// [`GroupValue::key`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub group_by_values: Vec<GroupValue>,
    /// Selected fields the database reads through a cast to a type of its
    /// own (PostgREST's `col::interval`, `col::inet`): the engine answers
    /// the cast value's JSON, `to_json(CAST(col AS type))` (a string of its
    /// text for most types, an array of an array type; null stays null).
    /// A cast without an alias reads a field of `fields` (selected, cast
    /// once) in that form; one with an alias ([`FieldCast::alias`]) is
    /// answered beside the fields. Neither casts a field that links an
    /// embedding. PostgreSQL only ([`Capabilities::sql_casts`](crate::Capabilities::sql_casts)).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub casts: Vec<FieldCast>,
}

/// A selected field read through a cast the database applies
/// ([`Selection::casts`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldCast {
    /// Field name.
    pub field: String,
    /// The type's name: lowercase letters, digits and `_`, starting with a
    /// letter or `_`, at most 63 bytes (PostgreSQL's identifier limit).
    pub to: String,
    /// Cast the text at this path inside the (JSON) field instead
    /// (PostgREST's `data->a::interval`: `->>`'s text); the field is then
    /// answered as that cast's text.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub path: Vec<String>,
    /// Answer the cast under this key, as a column of its own: the field
    /// may then be selected besides (`id::inet,id`), also through `*`, or
    /// cast again under another alias. Without one, the cast's text takes
    /// the field's place in the answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alias: Option<String>,
}

impl FieldCast {
    /// Whether `to` is a type name a cast may take ([`FieldCast::to`]).
    pub fn valid_type_name(to: &str) -> bool {
        let mut bytes = to.bytes();
        matches!(bytes.next(), Some(b'a'..=b'z' | b'_'))
            && to.len() <= 63
            && bytes.all(|b| matches!(b, b'a'..=b'z' | b'0'..=b'9' | b'_'))
    }
}

fn is_false(b: &bool) -> bool {
    !*b
}

impl Selection {
    /// Only these embeds, none of the entity's own fields.
    pub fn embeds_only(embeds: Vec<Embed>) -> Self {
        Self {
            fields: Vec::new(),
            omit_fields: true,
            star: false,
            embeds,
            aggregates: Vec::new(),
            group_by_values: Vec::new(),
            casts: Vec::new(),
        }
    }
}

/// An embedded relation, with its own selection, filter, order and limit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Embed {
    /// Relation name.
    pub relation: String,
    /// Key in the output object (defaults to the relation name).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alias: Option<String>,
    /// What to return for each related row.
    #[serde(default)]
    pub select: Selection,
    /// Filter on the related rows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filter: Option<Filter>,
    /// Order of the related rows (to-many only).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub order: Vec<OrderBy>,
    /// At most this many related rows per parent (to-many only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u64>,
    /// Skip this many related rows per parent, after `order` and before
    /// `limit` (to-many only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offset: Option<u64>,
    /// Many-to-many relations only: a condition on the junction rows that
    /// link parents to related rows (the engine puts the junction's row
    /// permissions here).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub through: Option<Filter>,
    /// A spread of its related row into the parent (PostgREST's
    /// `...rel(cols)`): a to-one spread's aggregates are over the
    /// parent's rows, not over its one related row ([`Embed::joins`]).
    /// Without it, a to-one embedding's aggregates (`channel(count())`)
    /// are over each parent's related row: one object per parent, as
    /// PostgREST's lateral subquery answers.
    #[serde(default, skip_serializing_if = "is_false")]
    pub spread: bool,
}

impl Embed {
    /// Whether this embed of a row of `parent` joins its related row to
    /// grouped rows: a to-one [`spread`](Self::spread) (not of a
    /// function's relation) with aggregates of its own,
    /// `...genre(name,genre_id.count())`, or with a spread inside it that
    /// joins (`...track(media_type_id,...album(album_id.sum()))`): its
    /// groups and aggregates are the grouped rows', over their related
    /// rows ([`AggregateVia`]).
    pub fn joins(
        &self,
        schema: &crate::metadata::SchemaMetadata,
        parent: &crate::metadata::Entity,
    ) -> bool {
        self.spread
            && self.to_one_target(schema, parent).is_some_and(|t| {
                !self.select.aggregates.is_empty()
                    || self.select.embeds.iter().any(|e| e.joins(schema, t))
            })
    }

    /// The related entity of this embed of a row of `parent`, when its
    /// relation is a to-one relation of a table (not a function's).
    pub(crate) fn to_one_target<'s>(
        &self,
        schema: &'s crate::metadata::SchemaMetadata,
        parent: &crate::metadata::Entity,
    ) -> Option<&'s crate::metadata::Entity> {
        let rel = parent.relation(&self.relation).ok()?;
        if !rel.kind.is_to_one() || rel.function.is_some() {
            return None;
        }
        schema.entity(&rel.target).ok()
    }

    /// Whether this embed of a row of `parent`, beside aggregates of the
    /// parent's rows, is joined to the aggregated rows, its listed fields
    /// grouping with theirs and its aggregates over their related rows
    /// (PostgREST groups by a to-one embedding's or spread's fields, at
    /// any depth: `...track(media_type_id,...album(album_id.sum()))`): a
    /// to-one relation (not a function's) that lists its fields (not
    /// `*`) without database casts, and aggregates only as a
    /// [`spread`](Self::spread), every embed inside it likewise.
    /// Otherwise the groups are grouped by the relation's key fields and
    /// the related row embedded in each.
    pub fn joinable(
        &self,
        schema: &crate::metadata::SchemaMetadata,
        parent: &crate::metadata::Entity,
    ) -> bool {
        let s = &self.select;
        let star = s.star
            || s.fields.is_empty()
                && !s.omit_fields
                && s.aggregates.is_empty()
                && s.group_by_values.is_empty();
        !star
            && s.casts.is_empty()
            // A plain embedding's aggregates are over its own related row.
            && (self.spread || s.aggregates.is_empty())
            && self
                .to_one_target(schema, parent)
                .is_some_and(|t| s.embeds.iter().all(|e| e.joinable(schema, t)))
    }

    /// Whether, beside aggregates of the rows of `parent`, this embed is
    /// joined to the aggregated rows ([`AggregateVia`]): it
    /// [`joins`](Self::joins) (aggregates below it) or is
    /// [`joinable`](Self::joinable) (its listed fields group). Inside a
    /// many-to-many embedding (`through_junction`), whose rows are grouped
    /// over the junction, only one that joins (and is refused there): the
    /// others group by their relation's key and are embedded.
    pub fn joined(
        &self,
        schema: &crate::metadata::SchemaMetadata,
        parent: &crate::metadata::Entity,
        through_junction: bool,
    ) -> bool {
        self.joins(schema, parent) || !through_junction && self.joinable(schema, parent)
    }

    /// `embeds` and every embed inside each, depth first (an embed before
    /// those inside it), each with the index in this list of the embed it
    /// is inside: the order of [`Aggregate::via`] when joined embeds are
    /// joined ([`AggregateVia::parent`]).
    pub fn depth_first(embeds: &[Embed]) -> Vec<(Option<usize>, &Embed)> {
        fn walk<'e>(
            embeds: &'e [Embed],
            parent: Option<usize>,
            out: &mut Vec<(Option<usize>, &'e Embed)>,
        ) {
            for e in embeds {
                let at = out.len();
                out.push((parent, e));
                walk(&e.select.embeds, Some(at), out);
            }
        }
        let mut out = Vec::new();
        walk(embeds, None, &mut out);
        out
    }

    /// The key its rows are answered under: its alias, else its relation.
    pub fn key(&self) -> &str {
        self.alias.as_deref().unwrap_or(&self.relation)
    }

    /// Embed `relation` with every field, no filter, order or limit.
    pub fn new(relation: impl Into<String>) -> Self {
        Self {
            relation: relation.into(),
            alias: None,
            select: Selection::default(),
            filter: None,
            order: Vec::new(),
            limit: None,
            offset: None,
            through: None,
            spread: false,
        }
    }
}

/// A read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Query {
    /// Entity name.
    pub entity: String,
    /// What to return.
    #[serde(default)]
    pub select: Selection,
    /// Which rows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filter: Option<Filter>,
    /// In which order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub order: Vec<OrderBy>,
    /// Which slice.
    #[serde(default)]
    pub page: Page,
    /// Whether to count.
    #[serde(default)]
    pub count: Count,
    /// Row budget of the whole read: at most this many rows fetched from
    /// the database and at most this many rows in the answer, the root page
    /// and every embedded row at every depth together
    /// ([`crate::Error::LimitExceeded`] beyond it). `None`: unbounded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_rows: Option<u64>,
}

impl Query {
    /// Every row and field of `entity`.
    pub fn new(entity: impl Into<String>) -> Self {
        Self {
            entity: entity.into(),
            select: Selection::default(),
            filter: None,
            order: Vec::new(),
            page: Page::default(),
            count: Count::None,
            max_rows: None,
        }
    }
    /// Builder: set the filter.
    pub fn filter(mut self, f: Filter) -> Self {
        self.filter = Some(f);
        self
    }
    /// Builder: add a sort key.
    pub fn order_by(mut self, o: OrderBy) -> Self {
        self.order.push(o);
        self
    }
    /// Builder: set the limit.
    pub fn limit(mut self, n: u64) -> Self {
        self.page.limit = Some(n);
        self
    }
    /// Builder: set the offset.
    pub fn offset(mut self, n: u64) -> Self {
        self.page.offset = Some(n);
        self
    }
    /// Builder: select these fields.
    pub fn fields<S: Into<String>>(mut self, fields: impl IntoIterator<Item = S>) -> Self {
        self.select.fields = fields.into_iter().map(Into::into).collect();
        self
    }
}

/// A row to write: field name → value.
pub type Record = serde_json::Map<String, serde_json::Value>;

/// What an insert does when a row conflicts on the conflict target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OnConflict {
    /// Update the existing row with the new values.
    Merge,
    /// Keep the existing row, drop the new one.
    Ignore,
}

/// Upsert behaviour.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Upsert {
    /// Fields forming the conflict target (a primary key or unique index);
    /// empty means the primary key.
    #[serde(default)]
    pub target: Vec<String>,
    /// What to do on conflict.
    pub action: OnConflict,
    /// Fields a merge resets to their default in an existing row when the
    /// inserted row omits them (PostgREST's `Prefer: missing=default` with
    /// `columns=`: `SET col = EXCLUDED.col`, the value an insert that omits
    /// `col` writes; on MongoDB, which has no defaults, the field is
    /// removed). Empty: a merge sets only the fields each row gives.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub defaults: Vec<String>,
}

/// An insert of one or many rows. Many rows are written atomically: one bad
/// row means none is written.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Insert {
    /// Entity name.
    pub entity: String,
    /// Rows, by field name.
    pub rows: Vec<Record>,
    /// Upsert behaviour, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_conflict: Option<Upsert>,
    /// Return the written rows with these fields (empty selection = all fields);
    /// `None` returns nothing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub returning: Option<Vec<String>>,
}

/// An update of every row matching `filter`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Update {
    /// Entity name.
    pub entity: String,
    /// Which rows (required: an unfiltered update must say `And []` explicitly).
    pub filter: Filter,
    /// New values by field name.
    pub set: Record,
    /// Fields to return from the updated rows; `None` returns nothing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub returning: Option<Vec<String>>,
    /// With `returning`: the most rows the update may answer. One that
    /// would answer more writes nothing ([`Error::representation_too_large`](crate::Error::representation_too_large));
    /// the adapter stops reading the rows one past it. The engine sets it
    /// to the tenant's row budget.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_rows: Option<u64>,
}

/// A delete of every row matching `filter`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Delete {
    /// Entity name.
    pub entity: String,
    /// Which rows (required).
    pub filter: Filter,
    /// Fields to return from the deleted rows; `None` returns nothing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub returning: Option<Vec<String>>,
    /// With `returning`: the most rows the delete may answer, as
    /// [`Update::max_rows`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_rows: Option<u64>,
}

/// An aggregate function.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "fn", rename_all = "snake_case", deny_unknown_fields)]
pub enum AggregateFn {
    /// `count(*)`
    Count,
    /// `count(field)`: the rows whose `field` is not null (PostgREST's
    /// `field.count()`).
    CountValues {
        /// Field name.
        field: String,
    },
    /// `count(DISTINCT field)`
    CountDistinct {
        /// Field name.
        field: String,
    },
    /// `sum(field)` (integers sum to int64, decimals to decimal, floats to float64).
    Sum {
        /// Field name.
        field: String,
    },
    /// `avg(field)`: of integers and decimals an exact decimal, as
    /// PostgreSQL's `numeric` average ([`crate::value::numeric_avg`]: the
    /// engine answers the sum and the count, [`AggregateFn::exact_average`]);
    /// of floats a float64 computed by the engine (last bits may differ
    /// between engines).
    Avg {
        /// Field name.
        field: String,
    },
    /// `min(field)`
    Min {
        /// Field name.
        field: String,
    },
    /// `max(field)`
    Max {
        /// Field name.
        field: String,
    },
}

/// The suffix of the key under which an engine answers the count of an
/// exact average's values ([`AggregateFn::exact_average`]), beside its sum
/// under the aggregate's own key.
pub const AVERAGE_COUNT: &str = "\u{1}count";

/// The suffix of the key under which an engine whose integers stop at
/// 2^63 (SQLite) answers the sum of the low 32 bits of a 64-bit integer
/// sum's values, beside the sum of their high bits under the sum's own
/// key; [`crate::value::finish_averages`] joins them into the exact sum.
pub const SUM_LOW: &str = "\u{1}low";

impl AggregateFn {
    /// The type of its result over values of type `input` (`None` for
    /// `count(*)`): counts are 64-bit integers, averages of integers and
    /// decimals decimals ([`exact_average`](Self::exact_average)), of
    /// floats 64-bit floats (computed by the engine: last bits may differ
    /// between engines), 16- and 32-bit integers sum to a 64-bit integer,
    /// 64-bit integers to a whole decimal (PostgreSQL's `sum(int8)` is
    /// `numeric`, MySQL's `SUM` of a `BIGINT` a `DECIMAL`: a total past
    /// 2^63 is exact, never a failed decode), floats to a 64-bit float,
    /// and `min`/`max` keep the input's type.
    pub fn result_type(&self, input: Option<&crate::FieldType>) -> crate::FieldType {
        use crate::FieldType as T;
        match (self, input) {
            (Self::Count | Self::CountValues { .. } | Self::CountDistinct { .. }, _) => T::Int64,
            (Self::Avg { .. }, _) if self.exact_average(input) => T::Decimal {
                precision: None,
                scale: None,
            },
            (Self::Avg { .. }, _) => T::Float64,
            (Self::Sum { .. }, Some(T::Int16 | T::Int32)) => T::Int64,
            (Self::Sum { .. }, Some(T::Int64)) => T::Decimal {
                precision: None,
                scale: Some(0),
            },
            (Self::Sum { .. }, Some(T::Float32 | T::Float64)) => T::Float64,
            (_, Some(ty)) => ty.clone(),
            (_, None) => T::Int64,
        }
    }

    /// Whether this is an average of integers or decimals (of values of
    /// type `input`), which the engines answer as two values: the sum
    /// under the aggregate's key, typed as [`AggregateFn::Sum`]'s result,
    /// and the count of values under that key and [`AVERAGE_COUNT`].
    /// [`crate::value::finish_averages`] turns them into PostgreSQL's
    /// exact average, so that every engine answers the same digits.
    pub fn exact_average(&self, input: Option<&crate::FieldType>) -> bool {
        use crate::FieldType as T;
        matches!(
            (self, input),
            (
                Self::Avg { .. },
                Some(T::Int16 | T::Int32 | T::Int64 | T::Decimal { .. })
            )
        )
    }

    /// The type of an exact average's sum, as the engines answer it beside
    /// its count ([`exact_average`](Self::exact_average)): `sum`'s result
    /// over values of type `input`.
    pub fn average_sum_type(input: Option<&crate::FieldType>) -> crate::FieldType {
        Self::Sum {
            field: String::new(),
        }
        .result_type(input)
    }

    /// The field it applies to, if any.
    pub fn field(&self) -> Option<&str> {
        match self {
            Self::Count => None,
            Self::CountValues { field }
            | Self::CountDistinct { field }
            | Self::Sum { field }
            | Self::Avg { field }
            | Self::Min { field }
            | Self::Max { field } => Some(field),
        }
    }
}

/// One aggregate output column: `{"alias": "n", "fn": "count"}`,
/// `{"alias": "total", "fn": "sum", "field": "price"}`.
// No `deny_unknown_fields`: serde cannot combine it with `flatten`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AggregateExpr {
    /// Output key.
    pub alias: String,
    /// The function.
    #[serde(flatten)]
    pub func: AggregateFn,
    /// What it aggregates when not the field's stored value: a value
    /// computed from that field (PostgREST's input cast,
    /// `data->>n::int.sum()`, `created::date.max()`), as
    /// [`Aggregate::group_by_values`] computes it. Its field is the
    /// function's; its alias is not used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input: Option<GroupValue>,
}

impl AggregateExpr {
    /// `func` of the stored values, answered under `alias`.
    pub fn new(alias: impl Into<String>, func: AggregateFn) -> Self {
        Self {
            alias: alias.into(),
            func,
            input: None,
        }
    }

    /// The same aggregate of a value computed from its field
    /// ([`AggregateExpr::input`]).
    #[must_use]
    pub fn of(mut self, input: GroupValue) -> Self {
        self.input = Some(input);
        self
    }

    /// The type of the values it aggregates, given its field's type: its
    /// input's [`GroupValue::answer_type`], or the field's own.
    pub fn input_type(&self, field: &crate::FieldType) -> crate::FieldType {
        match &self.input {
            Some(g) => g.answer_type(),
            None => field.clone(),
        }
    }

    /// The type of its result over rows of `entity` (its function's
    /// [`AggregateFn::result_type`] of its [`input_type`](Self::input_type)).
    pub fn result_type_over(&self, entity: &crate::Entity) -> crate::FieldType {
        let input = self
            .func
            .field()
            .and_then(|f| entity.field(f).ok())
            .map(|f| self.input_type(&f.ty));
        self.func.result_type(input.as_ref())
    }
}

/// A condition on an aggregate result (`HAVING`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Having {
    /// Alias of an aggregate in the same request.
    pub alias: String,
    /// The comparison.
    pub op: CompareOp,
    /// The operand.
    pub value: Value,
}

/// Grouped aggregates.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Aggregate {
    /// Entity name.
    pub entity: String,
    /// Rows to aggregate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filter: Option<Filter>,
    /// Group-by field names (returned under their names).
    #[serde(default)]
    pub group_by: Vec<String>,
    /// Groups by a value computed from a field rather than by its stored
    /// value (PostgREST's `select=data->a,count()`,
    /// `select=invoice_date::date,count()`), after
    /// [`Aggregate::group_by`]'s, each answered under its
    /// [`GroupValue::key`]: its field's name, or its alias where one field
    /// is grouped by two values. The keys are the answer's: no two alike,
    /// none a field of `group_by`'s or an aggregate's alias.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub group_by_values: Vec<GroupValue>,
    /// The aggregates.
    pub aggregates: Vec<AggregateExpr>,
    /// Conditions on the aggregates (all must hold).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub having: Vec<Having>,
    /// Order of the groups: by group-by field names, computed groups'
    /// keys ([`GroupValue::key`]) or aggregate aliases, a via's as
    /// [`Aggregate::answer_key`] names them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub order: Vec<OrderBy>,
    /// At most this many groups.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u64>,
    /// Groups skipped first, after the order (PostgREST's `offset` beside
    /// aggregates).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offset: Option<u64>,
    /// Aggregate with the rows of other entities that each row of
    /// `entity` links to, each joined in turn
    /// ([`AggregateVia::from_fields`] equal to its
    /// [`AggregateVia::to_fields`]; an inner join: a row that reaches none,
    /// or none passing [`AggregateVia::filter`], is not aggregated, unless
    /// [`AggregateVia::outer`]): each via's [`AggregateVia::aggregates`]
    /// and [`AggregateVia::group_by`] are of its related entity's fields,
    /// answered after the entity's own and the earlier vias', each under
    /// [`Aggregate::answer_key`]. A via may join the row of an earlier one
    /// ([`AggregateVia::parent`]). This is how a many-to-many embedding is
    /// aggregated (`playlists(name,tracks.count())` through the junction:
    /// its rows, grouped by their source, over their targets), and how the
    /// related rows of to-one spreads and embeddings group and are
    /// aggregated with their parent's
    /// (`...album(title,ids:album_id.sum()),...genre(name)`,
    /// `...track(...album(album_id.sum()))`). Internal to
    /// reads: a caller's [`Aggregate`] with one is refused by validation,
    /// which checks no grant on the related entity.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub via: Vec<AggregateVia>,
    /// The time zone (an IANA name, `America/Los_Angeles`) in which a
    /// group computed from an instant (a `timestamptz`'s date, time or
    /// local timestamp, [`GroupValue::Date`], [`GroupValue::Cast`]) takes
    /// it, as PostgREST's `Prefer: timezone` makes PostgreSQL compute it;
    /// UTC when `None`. Validation sets it to the caller's zone (a
    /// caller's own is replaced); an engine that cannot convert an
    /// instant to a zone refuses it (`Unsupported`) where a group needs it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zone: Option<String>,
}

impl Aggregate {
    /// The zone [`Aggregate::zone`] names, `None` for UTC (under any of
    /// its names) or none; an error for a name that is no time zone.
    pub fn time_zone(&self) -> crate::Result<Option<crate::zone::Zone>> {
        let Some(name) = self.zone.as_deref() else {
            return Ok(None);
        };
        let zone = crate::zone::Zone::parse(name).ok_or_else(|| {
            crate::Error::validation("/zone", format!("`{name}` is no time zone"))
        })?;
        Ok(Some(zone).filter(|z| !z.is_utc()))
    }

    /// The fields grouped by their stored value, in answer order: each
    /// with `None` when it is a field of `entity`, `Some(i)` when of the
    /// related entity of [`Aggregate::via`]'s `i`-th.
    pub fn stored_groups(&self) -> impl Iterator<Item = (Option<usize>, &str)> {
        let related = self
            .via
            .iter()
            .enumerate()
            .flat_map(|(i, v)| v.group_by.iter().map(move |g| (Some(i), g.as_str())));
        self.group_by
            .iter()
            .map(|g| (None, g.as_str()))
            .chain(related)
    }

    /// Every aggregate, in answer order, likewise marked: `Some(i)` when
    /// it is of the `i`-th via's related fields ([`AggregateVia::aggregates`]).
    pub fn all_aggregates(&self) -> impl Iterator<Item = (Option<usize>, &AggregateExpr)> {
        let related = self
            .via
            .iter()
            .enumerate()
            .flat_map(|(i, v)| v.aggregates.iter().map(move |a| (Some(i), a)));
        self.aggregates.iter().map(|a| (None, a)).chain(related)
    }

    /// Whether the aggregate groups by nothing (one answer over every row,
    /// also over none).
    pub fn ungrouped(&self) -> bool {
        self.stored_groups().next().is_none() && self.computed_groups().next().is_none()
    }

    /// The computed groups, after the stored ones, likewise marked.
    pub fn computed_groups(&self) -> impl Iterator<Item = (Option<usize>, &GroupValue)> {
        let related = self
            .via
            .iter()
            .enumerate()
            .flat_map(|(i, v)| v.group_by_values.iter().map(move |g| (Some(i), g)));
        self.group_by_values
            .iter()
            .map(|g| (None, g))
            .chain(related)
    }

    /// Every key of the answer, in its order: the groups' (stored, then
    /// computed) and the aggregates' aliases, each marked as
    /// [`Aggregate::stored_groups`] marks them and named as the answer
    /// names it ([`Aggregate::answer_key`]).
    pub fn answer_keys(&self) -> impl Iterator<Item = (Option<usize>, String)> {
        self.stored_groups()
            .chain(self.computed_groups().map(|(i, g)| (i, g.key())))
            .chain(self.all_aggregates().map(|(i, a)| (i, a.alias.as_str())))
            .map(|(i, k)| (i, Self::answer_key(i, k)))
    }

    /// Every key of the answer with its type, in the answer's order
    /// ([`Aggregate::answer_keys`]): a stored group's field's type, a
    /// computed group's [`GroupValue::answer_type`], an aggregate's
    /// [`AggregateFn::result_type`] over its input
    /// ([`AggregateExpr::input_type`]). An error when a field is not one
    /// of its entity's, or a via does not link ([`Aggregate::via_entities`]).
    pub fn answer_types(
        &self,
        target: crate::adapter::Target<'_>,
    ) -> crate::Result<Vec<(String, crate::FieldType)>> {
        let joined = self.via_entities(target)?;
        let entity = |via: Option<usize>| via.map_or(target.entity, |i| joined[i].1);
        let mut types = Vec::new();
        for (via, g) in self.stored_groups() {
            let f = entity(via).field(g)?;
            types.push((Self::answer_key(via, g), f.ty.clone()));
        }
        for (via, g) in self.computed_groups() {
            types.push((Self::answer_key(via, g.key()), g.answer_type()));
        }
        for (via, a) in self.all_aggregates() {
            let input = match a.func.field() {
                Some(f) => Some(a.input_type(&entity(via).field(f)?.ty)),
                None => None,
            };
            let ty = a.func.result_type(input.as_ref());
            types.push((Self::answer_key(via, &a.alias), ty));
        }
        Ok(types)
    }

    /// The key a group or aggregate is answered under: `key` for the
    /// aggregated entity's (`None`), `_baas_v{i}_{key}` for the `i`-th
    /// via's related row, so that two related rows may group or
    /// aggregate one name (`...genre(name),...media_type(name)`); a
    /// reader moves them into the embed's object under `key`
    /// ([`crate::read::nest_joined`]). [`Aggregate::order`] names a via's
    /// key so.
    pub fn answer_key(via: Option<usize>, key: &str) -> String {
        match via {
            None => key.to_string(),
            Some(i) => format!("_baas_v{i}_{key}"),
        }
    }

    /// The entities [`Aggregate::via`] joins on `target`, in its order,
    /// for an adapter to join: an error when a link's fields are not
    /// fields of both sides, one for one, when a via's parent is not an
    /// earlier via, or when two groups or aggregates
    /// would answer under one key (their output keys would collide).
    pub fn via_entities<'s>(
        &self,
        target: crate::adapter::Target<'s>,
    ) -> crate::Result<Vec<(&AggregateVia, &'s crate::metadata::Entity)>> {
        let mut joined: Vec<(&AggregateVia, &'s crate::metadata::Entity)> =
            Vec::with_capacity(self.via.len());
        for (i, via) in self.via.iter().enumerate() {
            let related = target.schema.entity(&via.entity)?;
            if via.from_fields.is_empty() || via.from_fields.len() != via.to_fields.len() {
                return Err(crate::Error::validation(
                    "/via/to_fields",
                    "a link is one or more fields, one for one",
                ));
            }
            let from = match via.parent {
                None => target.entity,
                Some(p) if p < i => joined[p].1,
                Some(_) => {
                    return Err(crate::Error::validation(
                        "/via/parent",
                        "a via's parent is an earlier via",
                    ));
                }
            };
            for f in &via.from_fields {
                from.field(f)?;
            }
            for f in &via.to_fields {
                related.field(f)?;
            }
            for g in &via.group_by_values {
                if !g.applies_to(&related.field(g.field())?.ty) {
                    return Err(crate::Error::validation(
                        "/via/group_by_values",
                        format!("cannot group by this value of `{}`", g.field()),
                    ));
                }
            }
            joined.push((via, related));
        }
        if !self.via.is_empty() {
            let keys: Vec<String> = self.answer_keys().map(|(_, k)| k).collect();
            for (i, k) in keys.iter().enumerate() {
                if keys[..i].contains(k) {
                    return Err(crate::Error::validation(
                        "/via/group_by",
                        format!("`{k}` is grouped or aggregated twice"),
                    ));
                }
            }
        }
        Ok(joined)
    }
}

/// A value computed from a field that an [`Aggregate`] groups by
/// ([`Aggregate::group_by_values`]): two rows are in one group when the
/// values are equal, whatever their stored values, and the group answers
/// the value, typed as [`GroupValue::answer_type`] says. Every engine
/// computes it alike.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "by", rename_all = "snake_case", deny_unknown_fields)]
pub enum GroupValue {
    /// The value at `path` inside a JSON field (PostgREST's `data->a`),
    /// compared as JSON (`"1"` and `1` are two groups); with `text`, its
    /// text (`data->>a`: `"1"` and `1` are one group, answered `"1"`).
    /// A missing path and JSON `null` are one group, answered `null`.
    Json {
        /// A JSON field.
        field: String,
        /// Object keys (or array indexes as decimal strings) from the
        /// root; `-n` counts from the end ([`index_from_end`]).
        path: Vec<String>,
        /// Group by the value's text rather than the JSON value.
        #[serde(default)]
        text: bool,
        /// The key the group answers under, instead of the field's name
        /// ([`GroupValue::key`]): one field grouped by two values
        /// (`d:created::date,t:created::time`) answers each under its own.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        alias: Option<String>,
    },
    /// The date of a date or timestamp field (of a timestamp with an
    /// offset: its date in [`Aggregate::zone`], UTC by default), answered
    /// as a date (`created::date`).
    Date {
        /// A date, timestamp or timestamptz field.
        field: String,
        /// The key the group answers under, instead of the field's name
        /// ([`GroupValue::key`]): one field grouped by two values
        /// (`d:created::date,t:created::time`) answers each under its own.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        alias: Option<String>,
    },
    /// A number rounded half away from zero to an integer, answered as a
    /// 64-bit integer (`total::int` of a decimal).
    Integer {
        /// A numeric field.
        field: String,
        /// The key the group answers under, instead of the field's name
        /// ([`GroupValue::key`]): one field grouped by two values
        /// (`d:created::date,t:created::time`) answers each under its own.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        alias: Option<String>,
    },
    /// Whether an integer is not zero, answered as a boolean
    /// (`flags::bool`).
    NonZero {
        /// An integer field.
        field: String,
        /// The key the group answers under, instead of the field's name
        /// ([`GroupValue::key`]): one field grouped by two values
        /// (`d:created::date,t:created::time`) answers each under its own.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        alias: Option<String>,
    },
    /// The database's own cast of the field, or of the text at `path`
    /// inside a JSON field, to `to` (PostgREST's `code::int` of a text,
    /// `created::time`, `data->>n::int`), answered typed as `to` maps
    /// ([`GroupValue::answer_type`]); a timestamp with an offset is taken
    /// in [`Aggregate::zone`] (UTC by default). PostgreSQL only
    /// ([`Capabilities::sql_casts`](crate::Capabilities::sql_casts)): the
    /// other engines convert text that is no number, date or UUID to a
    /// value (`0`, `NULL`) where PostgreSQL refuses it.
    Cast {
        /// The field.
        field: String,
        /// Object keys (or array indexes) inside a JSON field; empty for
        /// the field itself.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        path: Vec<String>,
        /// One of [`GroupValue::CAST_TYPES`] (answered typed), or another
        /// type name ([`FieldCast::valid_type_name`]: `interval`, `inet`…),
        /// answered as the cast value's text, as [`Selection::casts`] are.
        to: String,
        /// The key the group answers under, instead of the field's name
        /// ([`GroupValue::key`]): one field grouped by two values
        /// (`d:created::date,t:created::time`) answers each under its own.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        alias: Option<String>,
    },
}

impl GroupValue {
    /// Whether this value of a field of type `ty` is computed in the
    /// caller's zone (`Prefer: timezone`): a `timestamptz`'s date, or
    /// PostgreSQL's cast of it to a date, time or local timestamp.
    pub fn needs_zone(&self, ty: &crate::metadata::FieldType) -> bool {
        let local = match self {
            Self::Date { .. } => true,
            Self::Cast { to, path, .. } => {
                path.is_empty() && matches!(to.as_str(), "date" | "time" | "timestamp")
            }
            _ => false,
        };
        local && *ty == crate::metadata::FieldType::TimestampTz
    }

    /// The field the value is computed from.
    pub fn field(&self) -> &str {
        match self {
            Self::Json { field, .. }
            | Self::Date { field, .. }
            | Self::Integer { field, .. }
            | Self::NonZero { field, .. }
            | Self::Cast { field, .. } => field,
        }
    }

    /// The key the group answers under (and an order names): its alias,
    /// or else its field's name.
    pub fn key(&self) -> &str {
        match self {
            Self::Json { alias, .. }
            | Self::Date { alias, .. }
            | Self::Integer { alias, .. }
            | Self::NonZero { alias, .. }
            | Self::Cast { alias, .. } => alias.as_deref().unwrap_or(self.field()),
        }
    }

    fn alias_mut(&mut self) -> &mut Option<String> {
        match self {
            Self::Json { alias, .. }
            | Self::Date { alias, .. }
            | Self::Integer { alias, .. }
            | Self::NonZero { alias, .. }
            | Self::Cast { alias, .. } => alias,
        }
    }

    /// The same value answered under `alias` ([`GroupValue::key`]).
    #[must_use]
    pub fn aliased(mut self, alias: impl Into<String>) -> Self {
        *self.alias_mut() = Some(alias.into());
        self
    }

    /// The path inside the JSON field the value is read at (empty for a
    /// value of the field itself).
    pub fn path(&self) -> &[String] {
        match self {
            Self::Json { path, .. } | Self::Cast { path, .. } => path,
            Self::Date { .. } | Self::Integer { .. } | Self::NonZero { .. } => &[],
        }
    }

    /// The type of the answered value.
    pub fn answer_type(&self) -> crate::FieldType {
        use crate::FieldType as T;
        match self {
            Self::Json { text: false, .. } => T::Json,
            Self::Json { text: true, .. } => T::Text,
            Self::Date { .. } => T::Date,
            Self::Integer { .. } => T::Int64,
            Self::NonZero { .. } => T::Boolean,
            Self::Cast { to, .. } => match to.as_str() {
                "int2" | "int4" | "int8" => T::Int64,
                "numeric" => T::Decimal {
                    precision: None,
                    scale: None,
                },
                "float4" | "float8" => T::Float64,
                "bool" => T::Boolean,
                "date" => T::Date,
                "time" => T::Time,
                "timestamp" => T::Timestamp,
                "timestamptz" => T::TimestampTz,
                "uuid" => T::Uuid,
                _ => T::Text,
            },
        }
    }

    /// Whether the value can be computed from a field of type `ty`.
    pub fn applies_to(&self, ty: &crate::FieldType) -> bool {
        use crate::FieldType as T;
        match self {
            Self::Json { .. } => matches!(ty, T::Json),
            Self::Date { .. } => matches!(ty, T::Date | T::Timestamp | T::TimestampTz),
            Self::Integer { .. } => ty.is_numeric(),
            Self::NonZero { .. } => matches!(ty, T::Int16 | T::Int32 | T::Int64),
            Self::Cast { path, to, .. } => {
                (Self::CAST_TYPES.contains(&to.as_str()) || FieldCast::valid_type_name(to))
                    && (path.is_empty() || *ty == T::Json)
            }
        }
    }

    /// The types a [`GroupValue::Cast`] takes (PostgreSQL's names).
    pub const CAST_TYPES: [&'static str; 13] = [
        "int2",
        "int4",
        "int8",
        "numeric",
        "float4",
        "float8",
        "bool",
        "text",
        "date",
        "time",
        "timestamp",
        "timestamptz",
        "uuid",
    ];
}

/// The related rows an [`Aggregate`] aggregates ([`Aggregate::via`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AggregateVia {
    /// The related entity (a table's, not a function's).
    pub entity: String,
    /// The earlier via (its index in [`Aggregate::via`]) whose related row
    /// this one is related to (`...track(...album(title))` from
    /// `invoice_line`: album through track); `None`, the aggregated
    /// entity's row.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<usize>,
    /// Fields of the aggregated entity (of [`AggregateVia::parent`]'s
    /// related entity, with one) that link a row to its related row.
    pub from_fields: Vec<String>,
    /// The related entity's fields they equal, in the same order.
    pub to_fields: Vec<String>,
    /// Group-by fields of the related entity, answered after
    /// [`Aggregate::group_by`]'s under [`Aggregate::answer_key`].
    #[serde(default)]
    pub group_by: Vec<String>,
    /// Groups by values computed from the related entity's fields
    /// ([`Aggregate::group_by_values`]), after `group_by`'s.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub group_by_values: Vec<GroupValue>,
    /// Condition on the related rows (a many-to-many embedding's filter
    /// and the target's read grant).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filter: Option<Filter>,
    /// Keep the rows that reach no related row (or none passing
    /// [`AggregateVia::filter`]): they are aggregated with the related
    /// fields null, as a left join (a to-one spread's aggregates,
    /// PostgREST's `...category(budget.sum())`). Without it, an inner join.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub outer: bool,
    /// Aggregates of the related entity's fields, answered after
    /// [`Aggregate::aggregates`] (which stay over the aggregated entity's
    /// own fields), under their aliases' [`Aggregate::answer_key`].
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub aggregates: Vec<AggregateExpr>,
    /// One of its keys that is null (or a count of 0) exactly where a
    /// group has no related row ([`AggregateVia::mark_presence`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub presence: Option<String>,
}

impl AggregateVia {
    /// The `i`-th via of an aggregate, joining the related row of the
    /// to-one relation `rel` (to `related`) of the aggregated row, or of
    /// via `parent`'s row, as a left join: its groups, aggregates and
    /// filter those of the embed's selection, its presence marked
    /// ([`AggregateVia::mark_presence`]).
    pub fn to_one(
        i: usize,
        parent: Option<usize>,
        rel: &crate::metadata::Relation,
        related: &crate::metadata::Entity,
        select: &Selection,
        filter: Option<Filter>,
    ) -> Self {
        let mut via = Self {
            entity: rel.target.clone(),
            parent,
            from_fields: rel.from_fields.clone(),
            to_fields: rel.to_fields.clone(),
            group_by: select.fields.clone(),
            group_by_values: select.group_by_values.clone(),
            filter,
            outer: true,
            aggregates: select.aggregates.clone(),
            presence: None,
        };
        via.mark_presence(i, related);
        via
    }

    /// Its keys, in answer order: the groups' (stored, then computed) and
    /// the aggregates' aliases, as the related row's object shows them
    /// (the answer names each by [`Aggregate::answer_key`]).
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.group_by
            .iter()
            .map(String::as_str)
            .chain(self.group_by_values.iter().map(GroupValue::key))
            .chain(self.aggregates.iter().map(|a| a.alias.as_str()))
    }

    /// The alias of the count that tells whether a group of the `i`-th
    /// via has a related row ([`AggregateVia::mark_presence`]).
    pub fn presence_alias(i: usize) -> String {
        format!("_baas_present{i}")
    }

    /// Say which key tells a group without a related row (the `i`-th
    /// via's, `related` its entity), so that it answers its embed as
    /// `null` (a missing to-one row, as PostgREST embeds it), not as an
    /// object of nulls ([`crate::read::nest_joined`]): a grouping field
    /// that cannot be null, else a count of the related rows' key added
    /// under [`presence_alias`](Self::presence_alias)`(i)` (dropped from
    /// the answer; it costs about a fifth more on a small join,
    /// `benches/joined-groups`).
    pub fn mark_presence(&mut self, i: usize, related: &crate::metadata::Entity) {
        if let Some(f) = self
            .group_by
            .iter()
            .find(|g| related.field(g).is_ok_and(|f| !f.nullable))
        {
            self.presence = Some(f.clone());
        } else if let Some(f) = self.to_fields.first() {
            self.aggregates.push(AggregateExpr {
                alias: Self::presence_alias(i),
                func: AggregateFn::CountValues { field: f.clone() },
                input: None,
            });
            self.presence = Some(Self::presence_alias(i));
        }
    }
}

/// The `i` of a JSON path step of digits (at most nine): the array
/// element at index `i` (PostgREST's `data->0`, an integer), as every
/// engine reads a path step of that form. Such a step, and one from the
/// end ([`index_from_end`]), finds nothing in an object or a scalar, as
/// PostgreSQL's `->` with an integer finds nothing in an object.
pub fn index_from_start(step: &str) -> Option<u64> {
    if step.is_empty() || step.len() > 9 || !step.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    step.parse().ok()
}

/// Whether a JSON path step indexes an array ([`index_from_start`],
/// [`index_from_end`]).
pub fn is_array_step(step: &str) -> bool {
    index_from_start(step).is_some() || index_from_end(step).is_some()
}

/// The `n` of a JSON path step `-n` (1 ≤ n, at most nine digits): the
/// n-th array element from the end (PostgREST's `data->-1`), as every
/// engine reads a path step of that form.
pub fn index_from_end(step: &str) -> Option<u64> {
    let digits = step.strip_prefix('-')?;
    if digits.is_empty() || digits.len() > 9 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok().filter(|n| *n > 0)
}

/// The value at `path` inside the JSON value `v`, as PostgreSQL's `->`
/// steps: an index ([`is_array_step`], from the end too) into an array
/// only, a key into an object only; `None` where a step finds nothing.
pub fn json_at<'v>(v: &'v serde_json::Value, path: &[String]) -> Option<&'v serde_json::Value> {
    use serde_json::Value as J;
    path.iter().try_fold(v, |v, step| match v {
        J::Array(a) => {
            let i = match index_from_start(step) {
                Some(i) => usize::try_from(i).ok()?,
                None => a
                    .len()
                    .checked_sub(usize::try_from(index_from_end(step)?).ok()?)?,
            };
            a.get(i)
        }
        J::Object(o) if !is_array_step(step) => o.get(step),
        _ => None,
    })
}

/// A list of rows, plus the count when asked for.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Rows {
    /// The rows, as normalised JSON objects.
    pub rows: Vec<serde_json::Map<String, serde_json::Value>>,
    /// The total number of matching rows (ignoring the page), when asked for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total: Option<u64>,
    /// What the database's functions asked of the HTTP answer while the
    /// rows were read ([`DatabaseAdapter::find_call`](crate::DatabaseAdapter::find_call)
    /// on PostgreSQL), if anything.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response: Option<ResponseSettings>,
}

/// PostgREST's `response.status` and `response.headers` settings, as a
/// database function sets them for the HTTP answer of its call
/// (`set_config('response.status', '201', true)`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResponseSettings {
    /// The answer's status, in place of the usual one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// Headers added to the answer (one that the answer has already is
    /// replaced), in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub headers: Vec<(String, String)>,
}

impl ResponseSettings {
    /// The settings from their texts as the database holds them (`None`
    /// or empty: not set), `None` when neither is set. `response.status`
    /// is a status from 200 to 599 (an interim `1xx` is no answer); `response.headers` a JSON array of
    /// objects of one key, each a header and its string value
    /// (`[{"Cache-Control": "no-store"}]`). Anything else is PostgREST's
    /// answer for the function's mistake: a 500 `PGRST112` (the status) or
    /// `PGRST111` (the headers).
    ///
    /// ```
    /// use baas_core::ir::ResponseSettings;
    /// let r = ResponseSettings::parse(Some("418"), Some(r#"[{"X-A": "b"}]"#)).unwrap().unwrap();
    /// assert_eq!((r.status, r.headers), (Some(418), vec![("X-A".into(), "b".into())]));
    /// assert!(ResponseSettings::parse(Some(""), None).unwrap().is_none());
    /// assert!(ResponseSettings::parse(Some("teapot"), None).is_err());
    /// assert!(ResponseSettings::parse(None, Some(r#"{"X-A": "b"}"#)).is_err());
    /// ```
    pub fn parse(status: Option<&str>, headers: Option<&str>) -> crate::Result<Option<Self>> {
        fn set(t: Option<&str>) -> Option<&str> {
            t.map(str::trim).filter(|t| !t.is_empty())
        }
        let (status, headers) = (set(status), set(headers));
        if status.is_none() && headers.is_none() {
            return Ok(None);
        }
        let refused = |code: &str, message: &str| {
            crate::Error::Raised(Box::new(crate::error::Raised {
                status: 500,
                code: code.into(),
                message: message.into(),
                details: None,
                hint: None,
                headers: Vec::new(),
            }))
        };
        let status = match status {
            None => None,
            Some(t) => Some(
                t.parse::<u16>()
                    .ok()
                    .filter(|s| (200..=599).contains(s))
                    .ok_or_else(|| {
                        refused(
                            "PGRST112",
                            "response.status guc must be a valid status code",
                        )
                    })?,
            ),
        };
        let headers = match headers {
            None => Vec::new(),
            Some(t) => {
                let malformed = || {
                    refused(
                        "PGRST111",
                        "response.headers guc must be a JSON array composed of objects with a single key and a string value",
                    )
                };
                let list: Vec<serde_json::Map<String, serde_json::Value>> =
                    serde_json::from_str(t).map_err(|_| malformed())?;
                list.into_iter()
                    .map(|o| match o.into_iter().collect::<Vec<_>>().as_slice() {
                        [(k, serde_json::Value::String(v))]
                            if is_header_name(k) && is_header_value(v) =>
                        {
                            Ok((k.clone(), v.clone()))
                        }
                        _ => Err(malformed()),
                    })
                    .collect::<crate::Result<_>>()?
            }
        };
        Ok(Some(Self { status, headers }))
    }
}

/// An HTTP header name: one or more of RFC 9110's token characters.
pub(crate) fn is_header_name(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

/// An HTTP header value: visible ASCII, spaces and tabs (no line breaks,
/// which would forge headers).
pub(crate) fn is_header_value(s: &str) -> bool {
    s.bytes().all(|b| b == b'\t' || (b' '..=b'~').contains(&b))
}

/// Result of a write.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct WriteResult {
    /// Number of rows written.
    pub affected: u64,
    /// The written rows, when `returning` was asked for.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rows: Vec<serde_json::Map<String, serde_json::Value>>,
    /// What the write's triggers and defaults asked of the HTTP answer
    /// (`response.status`, `response.headers`), when it ran with request
    /// settings ([`DatabaseAdapter::write_checked`](crate::DatabaseAdapter::write_checked)
    /// on PostgreSQL).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response: Option<ResponseSettings>,
}

#[cfg(test)]
mod aggregate_expr_tests {
    use super::{AggregateExpr, AggregateFn, GroupValue};
    use crate::FieldType;

    /// The input is one more key beside the function's (absent: the
    /// stored value), and decides the result's type.
    #[test]
    fn input_reads_and_writes_as_json_and_types_the_result() {
        let j = serde_json::json!({
            "alias": "s", "fn": "sum", "field": "price",
            "input": {"by": "integer", "field": "price"}
        });
        let a: AggregateExpr = serde_json::from_value(j.clone()).unwrap();
        assert_eq!(
            a,
            AggregateExpr::new(
                "s",
                AggregateFn::Sum {
                    field: "price".into()
                }
            )
            .of(GroupValue::Integer {
                field: "price".into(),
                alias: None
            })
        );
        assert_eq!(serde_json::to_value(&a).unwrap(), j);
        let dec = FieldType::Decimal {
            precision: None,
            scale: None,
        };
        // A rounded value is a 64-bit integer; their sum a whole decimal.
        assert_eq!(a.input_type(&dec), FieldType::Int64);
        assert_eq!(
            a.func.result_type(Some(&a.input_type(&dec))),
            FieldType::Decimal {
                precision: None,
                scale: Some(0)
            }
        );
        let plain: AggregateExpr =
            serde_json::from_value(serde_json::json!({"alias": "n", "fn": "count"})).unwrap();
        assert_eq!(plain, AggregateExpr::new("n", AggregateFn::Count));
        assert_eq!(plain.func.result_type(None), FieldType::Int64);
    }
}
