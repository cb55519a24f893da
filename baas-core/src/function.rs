//! Database functions as metadata: what `/{tenant}/rpc/{function}` calls.
//!
//! A function is served the way PostgREST serves it: its result is read
//! like a relation, `SELECT … FROM fn(a => $1, …) AS fn WHERE … ORDER BY …
//! LIMIT …`, so filters, `order`, `limit`, `select` and embeds work on a
//! set result exactly as on an entity. [`Function::result_entity`] gives
//! the read-only entity that stands for the result (its rows are those of
//! the returned entity for `RETURNS SETOF tbl`, the declared columns for
//! `RETURNS TABLE (…)`, or one column named after the function for a
//! scalar), and a [`Call`] carries the bound arguments to the adapter.
//!
//! Argument values are converted by their declared types with the same
//! rules as written fields ([`Value::coerce_body`]), and always bound.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::metadata::{Entity, Field, FieldType, SchemaMetadata, Source};
use crate::value::Value;
use crate::{Violation, metadata::Generated};

/// A database function, callable at `/{tenant}/rpc/{name}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Function {
    /// API name (the URL segment after `rpc/`).
    pub name: String,
    /// The function in the database (`table` holds its name).
    pub source: Source,
    /// Its parameters, in declaration order, passed by name.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub params: Vec<Param>,
    /// What it returns.
    pub returns: Returns,
    /// Whether it may change data; `GET` and `HEAD` call only
    /// [`Volatility::Stable`] and [`Volatility::Immutable`] functions.
    #[serde(default)]
    pub volatility: Volatility,
    /// Human-readable description (the function's comment).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// One named parameter.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Param {
    /// Its name (the argument's key in the query string or the body);
    /// empty for PostgREST's single unnamed parameter (the argument `""`,
    /// or for `json`/`jsonb` a `POST`'s whole body:
    /// [`Function::takes_body`]), passed by position.
    pub name: String,
    /// Its type.
    pub ty: FieldType,
    /// The database's name of its type (`integer`, `text[]`, `myschema.mood`),
    /// cast to in the call so the database resolves the function exactly:
    /// letters, digits, `_`, spaces, `.`, `"` and `[]` only
    /// ([`SchemaMetadata::check`] refuses anything else).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub db_type: Option<String>,
    /// It has a default, so a call may leave it out.
    #[serde(default, skip_serializing_if = "is_false")]
    pub optional: bool,
    /// PostgreSQL's `VARIADIC` parameter (the last; its type an array):
    /// the call passes its array as `VARIADIC name => …`, and one value
    /// given for it is an array of that value (`?v=1`, `{"v": 1}`).
    #[serde(default, skip_serializing_if = "is_false")]
    pub variadic: bool,
    /// A row of a table (PostgreSQL, its type the table's `db_type`):
    /// given as a JSON object of its fields (`{"user_row": {"username":
    /// "x"}}`, PostgREST's), fields left out null, others ignored; `ty`
    /// is then [`FieldType::Json`].
    #[serde(default, skip_serializing_if = "is_false")]
    pub row: bool,
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// What a function returns.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Returns {
    /// Nothing (`RETURNS void`): a call answers `204 No Content`.
    Void,
    /// One value (or, with `set`, a set of values) of a type: a JSON value
    /// (an array of values).
    Scalar {
        /// The value's type.
        ty: FieldType,
        /// `RETURNS SETOF type`.
        #[serde(default, skip_serializing_if = "is_false")]
        set: bool,
        /// The database's type of a value mini-baas has no mapping for
        /// (`ty` is `text`): the value is read as its text, as a field's
        /// ([`Field::db_type`]).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        db_type: Option<String>,
    },
    /// Rows of an entity (`RETURNS [SETOF] tbl`): relations, embeds and
    /// the entity's read rules apply to them.
    Entity {
        /// The entity (API name).
        entity: String,
        /// A set of rows (otherwise at most one, answered as an object).
        #[serde(default, skip_serializing_if = "is_false")]
        set: bool,
    },
    /// Rows of declared columns (`RETURNS TABLE (…)`, `OUT` parameters).
    Rows {
        /// The columns.
        fields: Vec<Field>,
        /// A set of rows (otherwise one, answered as an object).
        #[serde(default, skip_serializing_if = "is_false")]
        set: bool,
    },
    /// A procedure (MySQL/MariaDB `CALL`): the rows of the first result
    /// set it answers, whose columns are known only when it runs, each
    /// value shaped by the type the database gives its column then (a
    /// JSON array; `[]` when it answers no result set). A call cannot be
    /// read from in a query: the engine reads its rows within the row
    /// budget and applies filters, order, `select`, offset, limit and
    /// counts in memory ([`crate::eval::RowQuery`]). Called in a
    /// transaction (the request's, rolled back under `tx=rollback`): a
    /// procedure that fails writes nothing, unless it commits itself.
    Procedure {
        /// Its `OUT` and `INOUT` parameters: when it has any, the answer
        /// is one object of their values, typed by their declared types
        /// (as a PostgreSQL function's `OUT` parameters answer), and its
        /// result sets are read and dropped.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        out: Vec<OutParam>,
    },
}

/// An `OUT` or `INOUT` parameter of a procedure ([`Returns::Procedure`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OutParam {
    /// Its name and declared type: a field of the answer.
    pub field: Field,
    /// Its place among all the procedure's parameters (0 is the first),
    /// where the call passes the variable that receives it.
    pub position: usize,
    /// `INOUT`: also a parameter of the function ([`Function::params`],
    /// same name), whose argument the variable holds before the call.
    #[serde(default, skip_serializing_if = "is_false")]
    pub inout: bool,
}

impl Returns {
    /// Whether the result is a set (answered as a JSON array).
    pub fn is_set(&self) -> bool {
        match self {
            Self::Void => false,
            Self::Procedure { out } => out.is_empty(),
            Self::Scalar { set, .. } | Self::Entity { set, .. } | Self::Rows { set, .. } => *set,
        }
    }

    /// Whether each result row is an object (entity or declared columns),
    /// rather than one value.
    pub fn is_rows(&self) -> bool {
        matches!(
            self,
            Self::Entity { .. } | Self::Rows { .. } | Self::Procedure { .. }
        )
    }
}

/// Whether a function may change data (PostgreSQL's volatility classes).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Volatility {
    /// Same result for the same arguments, forever.
    Immutable,
    /// Same result within one statement; reads only.
    Stable,
    /// May write (the default, as in PostgreSQL): `POST` only.
    #[default]
    Volatile,
}

impl Volatility {
    /// Whether `GET`/`HEAD` may call it (it does not write).
    pub fn is_read_only(self) -> bool {
        !matches!(self, Self::Volatile)
    }
}

/// One argument of a [`Call`].
#[derive(Debug, Clone, PartialEq)]
pub struct Arg {
    /// The parameter's name.
    pub name: String,
    /// Its declared type.
    pub ty: FieldType,
    /// The value, converted to that type.
    pub value: Value,
    /// The database type to cast it to ([`Param::db_type`]).
    pub db_type: Option<String>,
    /// Passed as the function's variadic array ([`Param::variadic`]).
    pub variadic: bool,
    /// A table's row from a JSON object ([`Param::row`]).
    pub row: bool,
}

/// Whether `s` is a plausible database type name (as PostgreSQL's
/// `format_type` writes one without a modifier): safe to write into SQL,
/// since without parentheses, commas, quotes `'`, operators or `;` it can
/// only name a type.
pub fn is_type_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 256
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | ' ' | '.' | '"' | '[' | ']'))
}

/// A call: the function and its arguments, converted and bound by name.
#[derive(Debug, Clone, PartialEq)]
pub struct Call {
    /// The function in the database.
    pub source: Source,
    /// Arguments in declaration order; parameters left out take their
    /// defaults.
    pub args: Vec<Arg>,
    /// The result is nothing (`void`): the statement reads one `NULL` text
    /// column named after the function instead.
    pub void: bool,
    /// A computed relationship's call: the function is called with each
    /// row of this entity (`args` are empty), and its rows carry the row's
    /// key ([`RowOf`]).
    pub row_of: Option<RowOf>,
    /// A procedure's call ([`Returns::Procedure`]), with its `OUT`
    /// parameters: a statement of its own, not a source a query reads
    /// from.
    pub procedure: Option<Vec<OutParam>>,
    /// The statements calling it run in a read-only transaction
    /// (PostgREST's `GET` of a function that may write: a write in it is
    /// the database's 25006). Set by the engine that runs the call.
    pub read_only: bool,
    /// The statements reading its rows run in a transaction rolled back
    /// afterwards (`Prefer: tx=rollback` of aggregates of its rows). Set
    /// by the engine that runs the call.
    pub rolled_back: bool,
}

/// The rows a computed relationship's function is called with: every row
/// of `entity`, whose key fields the result carries under `keys` (so
/// the read orchestration can filter by them and attach the rows).
#[derive(Debug, Clone, PartialEq)]
pub struct RowOf {
    /// The table whose rows are the argument.
    pub entity: Entity,
    /// (key field of `entity`, name of the result field holding it).
    pub keys: Vec<(String, String)>,
}

impl Function {
    /// Its parameters' names, sorted: what a call by named arguments tells
    /// overloads apart by.
    pub fn param_names(&self) -> Vec<&str> {
        let mut names: Vec<&str> = self.params.iter().map(|p| p.name.as_str()).collect();
        names.sort_unstable();
        names
    }

    /// Its parameters' names and database types, sorted: two overloads
    /// with the same signature are one function twice.
    pub fn signature(&self) -> Vec<(&str, String)> {
        let mut params: Vec<(&str, String)> = self
            .params
            .iter()
            .map(|p| {
                let ty = p.db_type.clone().unwrap_or_else(|| p.ty.name().to_string());
                (p.name.as_str(), ty)
            })
            .collect();
        params.sort_unstable();
        params
    }
    /// The read-only entity standing for the result: named like the
    /// function, with its [`Source`], so a query on it lowers to a read
    /// from the call. For [`Returns::Entity`], the returned entity's
    /// fields, key and relations (embeds work on the result); for a scalar
    /// or `void`, one field named after the function.
    pub fn result_entity(&self, schema: &SchemaMetadata) -> Result<Entity> {
        let mut entity = match &self.returns {
            Returns::Entity { entity, .. } => {
                let mut e = schema.entity(entity)?.clone();
                e.indexes.clear();
                e
            }
            Returns::Rows { fields, .. } => Entity::new(self.name.clone(), fields.clone()),
            // Columns known when it runs.
            Returns::Procedure { out } => Entity::new(
                self.name.clone(),
                out.iter().map(|o| o.field.clone()).collect(),
            ),
            Returns::Scalar { ty, db_type, .. } => {
                let mut field =
                    Field::new(self.name.clone(), ty.clone()).with_column(&self.source.table);
                field.db_type.clone_from(db_type);
                Entity::new(self.name.clone(), vec![field])
            }
            Returns::Void => Entity::new(
                self.name.clone(),
                vec![
                    Field::new(self.name.clone(), FieldType::Text)
                        .nullable()
                        .with_column(&self.source.table),
                ],
            ),
        };
        entity.name = self.name.clone();
        entity.source = self.source.clone();
        entity.read_only = true;
        for f in &mut entity.fields {
            f.generated = Generated::None;
        }
        Ok(entity)
    }

    /// Convert named arguments (JSON values by parameter name) into a
    /// [`Call`]: every key must be a parameter, every parameter without a
    /// default must be given, and each value must fit its type. All
    /// problems are reported at once. A date or time argument may be a
    /// text the engine stores as one (`caps`:
    /// [`Capabilities::holds_text`](crate::Capabilities::holds_text)); a
    /// `timestamptz` without an offset is a local time of the caller's
    /// `zone` ([`Value::in_zone`]; UTC when `None`).
    pub fn call(
        &self,
        args: &serde_json::Map<String, serde_json::Value>,
        caps: &crate::Capabilities,
        zone: Option<crate::zone::Zone>,
    ) -> Result<Call> {
        let mut v = Vec::new();
        for k in args.keys() {
            if !self.params.iter().any(|p| &p.name == k) {
                v.push(Violation::new(
                    format!("/{}", crate::validate::escape_pointer(k)),
                    format!(
                        "`{}` has no parameter `{k}` (parameters: {})",
                        self.name,
                        self.param_list()
                    ),
                ));
            }
        }
        let mut out = Vec::new();
        for p in &self.params {
            match args.get(&p.name) {
                None if p.optional => {}
                None => v.push(Violation::new(
                    format!("/{}", crate::validate::escape_pointer(&p.name)),
                    format!("`{}` needs the argument `{}`", self.name, p.name),
                )),
                Some(j)
                    if p.row
                        && !matches!(j, serde_json::Value::Object(_) | serde_json::Value::Null) =>
                {
                    v.push(Violation::new(
                        format!("/{}", crate::validate::escape_pointer(&p.name)),
                        format!("argument `{}` (a row): a JSON object of its fields", p.name),
                    ));
                }
                Some(j) => {
                    let one;
                    let j = match j {
                        // One value of a variadic parameter: its array of one.
                        serde_json::Value::Array(_) | serde_json::Value::Null => j,
                        _ if p.variadic => {
                            one = serde_json::Value::Array(vec![j.clone()]);
                            &one
                        }
                        _ => j,
                    };
                    let typed =
                        crate::validate::typed_input(&Value::from_json(j), &p.ty, caps, zone, true);
                    match typed {
                        Ok(value) => out.push(Arg {
                            name: p.name.clone(),
                            ty: p.ty.clone(),
                            value,
                            db_type: p.db_type.clone(),
                            variadic: p.variadic,
                            row: p.row,
                        }),
                        Err(why) => v.push(Violation::new(
                            format!("/{}", crate::validate::escape_pointer(&p.name)),
                            format!("argument `{}` ({}): {why}", p.name, p.ty.name()),
                        )),
                    }
                }
            }
        }
        if !v.is_empty() {
            return Err(Error::Validation { violations: v });
        }
        Ok(Call {
            source: self.source.clone(),
            args: out,
            void: matches!(self.returns, Returns::Void),
            row_of: None,
            procedure: match &self.returns {
                Returns::Procedure { out } => Some(out.clone()),
                _ => None,
            },
            read_only: false,
            rolled_back: false,
        })
    }

    /// Whether a `POST`'s whole body is its one argument, whatever its
    /// keys: PostgREST's function of a single unnamed `json`/`jsonb`
    /// parameter (named `""`, [`Param::name`]). An unnamed parameter of
    /// another type (`f(text)`) is the argument `""` (`{"": "hello"}`).
    pub fn takes_body(&self) -> bool {
        matches!(self.params.as_slice(), [p] if p.name.is_empty() && p.ty == FieldType::Json)
    }

    /// A call with arguments named `keys` fits this function: each names
    /// a parameter, and every parameter without a default is named.
    pub fn takes(&self, keys: &[&str]) -> bool {
        keys.iter()
            .all(|k| self.params.iter().any(|p| p.name == *k))
            && self
                .params
                .iter()
                .all(|p| p.optional || keys.contains(&p.name.as_str()))
    }

    fn param_list(&self) -> String {
        if self.params.is_empty() {
            return "none".into();
        }
        self.params
            .iter()
            .map(|p| p.name.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// Consistency problems of this function within `schema`, pointed at
    /// `at` (its JSON pointer).
    pub(crate) fn problems(&self, schema: &SchemaMetadata, at: &str) -> Vec<Violation> {
        let mut v = Vec::new();
        for (i, p) in self.params.iter().enumerate() {
            if let Some(t) = &p.db_type
                && !is_type_name(t)
            {
                v.push(Violation::new(
                    format!("{at}/params/{i}/db_type"),
                    format!("`{t}` is not a type name"),
                ));
            }
            if self.params[..i].iter().any(|o| o.name == p.name) {
                v.push(Violation::new(
                    format!("{at}/params/{i}/name"),
                    format!("duplicate parameter `{}`", p.name),
                ));
            }
            if p.row && (p.db_type.is_none() || p.ty != FieldType::Json) {
                v.push(Violation::new(
                    format!("{at}/params/{i}/row"),
                    "a row parameter is of type `json` with the row's `db_type` (its table's composite type, PostgreSQL)",
                ));
            }
            if p.name.is_empty() && self.params.len() > 1 {
                v.push(Violation::new(
                    format!("{at}/params/{i}/name"),
                    "an unnamed parameter is the function's only one (it takes the whole body)",
                ));
            }
        }
        if schema.entity(&self.name).is_ok() {
            v.push(Violation::new(
                format!("{at}/name"),
                format!(
                    "`{}` names an entity too: give the function another API name",
                    self.name
                ),
            ));
        }
        if let Returns::Entity { entity, .. } = &self.returns
            && schema.entity(entity).is_err()
        {
            v.push(Violation::new(
                format!("{at}/returns/entity"),
                format!("`{entity}` is not an entity"),
            ));
        }
        if self.source.is_system() {
            v.push(Violation::new(
                format!("{at}/source"),
                format!("`{}` is in a system schema", self.source),
            ));
        }
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn area(params: &[(&str, bool)]) -> Function {
        Function {
            name: "area".into(),
            source: Source {
                table: "area".into(),
                schema: None,
            },
            params: params
                .iter()
                .map(|(n, optional)| Param {
                    name: n.to_string(),
                    ty: FieldType::Int32,
                    db_type: None,
                    optional: *optional,
                    variadic: false,
                    row: false,
                })
                .collect(),
            returns: Returns::Scalar {
                ty: FieldType::Int32,
                set: false,
                db_type: None,
            },
            volatility: Volatility::Immutable,
            description: None,
        }
    }

    /// Overloads are told apart by their parameter names: the call's
    /// argument names choose one, none or several; two overloads with the
    /// same names and types are refused by the metadata check, with other
    /// types they are kept (every call is ambiguous, as in PostgREST).
    #[test]
    fn overloads_are_chosen_by_argument_names() {
        let mut s = SchemaMetadata::new(Vec::new());
        s.functions = vec![
            area(&[("w", false), ("h", false)]),
            area(&[("side", false)]),
            area(&[("side", false), ("scale", true)]),
        ];
        let params = |keys: &[&str]| -> Vec<usize> {
            s.overloads_for("area", keys)
                .iter()
                .map(|f| f.params.len())
                .collect()
        };
        assert_eq!(params(&["w", "h"]), [2]);
        assert_eq!(params(&["side", "scale"]), [2]);
        assert_eq!(params(&["side"]), [1, 2], "ambiguous");
        assert!(params(&["w"]).is_empty());
        assert!(s.function_for("area", &["side"]).is_err());
        assert!(s.function_for("area", &["h", "w"]).is_ok());
        assert!(s.check().is_ok(), "{:?}", s.check());
        s.functions.push(area(&[("h", false), ("w", false)]));
        assert!(s.check().is_err(), "same parameters twice");
        // The same names, another type: kept, and never chosen.
        let last = s.functions.last_mut().unwrap();
        last.params[0].ty = FieldType::Text;
        assert!(s.check().is_ok(), "{:?}", s.check());
        assert_eq!(s.overloads_for("area", &["w", "h"]).len(), 2);
        assert!(s.function_for("area", &["w", "h"]).is_err());
    }
}
