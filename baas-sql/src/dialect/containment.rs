//! JSON containment as `jsonb`'s `@>` / `<@` define it, on engines whose
//! JSON has no such operator (SQLite, MySQL/MariaDB): the operand is known
//! at lowering time, so its shape becomes SQL. An object needs each of its
//! keys (the value at the key's path), an array each of its elements in
//! some element of the column (`EXISTS` over the column's elements), a
//! scalar an equal scalar of the same JSON type; `contained_by` walks the
//! column's keys and elements instead (`NOT EXISTS` one outside the
//! operand). At the top level only, an array contains a scalar it holds
//! (PostgreSQL's exception), and a scalar is contained by an array
//! holding it. The operand's size is bounded by validation
//! ([`baas_core::ir::MAX_JSON_OPERAND_DEPTH`]).
//!
//! One algorithm; each engine says how it reads JSON ([`JsonReads`]).

use baas_core::Result;
use sea_query::Expr;
use serde_json::Value as J;

/// Where a condition reads JSON: the column, or an element row of an
/// iteration over a nested array (its alias), known to be a container
/// where a path is read from it.
pub(super) enum Target {
    Column(Expr),
    Each(String),
}

/// The JSON types containment tells apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    Object,
    Array,
    Number,
    String,
    True,
    False,
    Null,
}

impl Kind {
    fn of(v: &J) -> Self {
        match v {
            J::Object(_) => Self::Object,
            J::Array(_) => Self::Array,
            J::Number(_) => Self::Number,
            J::String(_) => Self::String,
            J::Bool(true) => Self::True,
            J::Bool(false) => Self::False,
            J::Null => Self::Null,
        }
    }
}

/// How an engine reads JSON for [`Containment`]; each method pushes SQL
/// (`{}` for each argument it pushes) into the builder.
pub(super) trait JsonReads {
    /// `kind` of the value at `path` of `t`: false (not NULL) when the
    /// path is missing, so that a negated containment keeps the row.
    fn type_is(&self, c: &mut Containment<'_>, t: &Target, path: &str, kind: Kind);
    /// The value at `path` of `t`, known to be of the scalar `v`'s kind,
    /// equals `v` (nothing to push for `null`, and where the kind says it).
    fn equals(&self, c: &mut Containment<'_>, t: &Target, path: &str, v: &J);
    /// `kind` of the element row `alias`.
    fn element_is(&self, c: &mut Containment<'_>, alias: &str, kind: Kind);
    /// The element row `alias`, known to be of the scalar `v`'s kind,
    /// equals `v`.
    fn element_equals(&self, c: &mut Containment<'_>, alias: &str, v: &J);
    /// A row source (for `FROM`) of the elements of the array at `path`
    /// of `t`, as `alias`.
    fn elements(&self, c: &mut Containment<'_>, t: &Target, path: &str, alias: &str);
    /// A row source of the keys of the object at `path` of `t`, as
    /// `alias`.
    fn keys(&self, c: &mut Containment<'_>, t: &Target, path: &str, alias: &str);
    /// The key row `alias` is the bound key `{}` (pushed after).
    fn key_is(&self, alias: &str) -> String;
    /// Whether a key row is also an element row of the key's value
    /// ([`JsonReads::element_is`] and [`JsonReads::element_equals`] read
    /// it): then a key no path can quote is still compared.
    fn key_rows_have_values(&self) -> bool;
    /// Whether the engine's path text reads `\"` and `\\` inside a
    /// quoted key (MySQL/MariaDB; SQLite's does not: such a key is
    /// refused).
    fn escapes_path_keys(&self) -> bool;
    /// The engine's name, for its refusals.
    fn engine(&self) -> &'static str;
}

/// The SQL of one containment condition, built by [`containment`].
pub(super) struct Containment<'d> {
    /// SQL with `{}` for each of [`Containment::args`].
    pub(super) sql: String,
    /// The arguments, in order.
    pub(super) args: Vec<Expr>,
    next: usize,
    reads: &'d dyn JsonReads,
}

/// `col @> value` (`contained_by`: `col <@ value`) as SQL (`{}` for each
/// argument), NULL for a NULL column (it matches neither the condition
/// nor its negation).
pub(super) fn containment(
    reads: &dyn JsonReads,
    col: Expr,
    value: &J,
    contained_by: bool,
) -> Result<(String, Vec<Expr>)> {
    on_column(reads, col, |c, root| {
        if contained_by {
            c.contained_by(root, "$", value, true)
        } else {
            c.contains(root, "$", value, true)
        }
    })
}

/// `col = value` as `jsonb`'s `=` compares (SQL, `{}` for each argument):
/// the same type, objects of as many keys each equal to the operand's,
/// arrays of as many elements each equal to the operand's at its index,
/// scalars equal (numbers by value); NULL for a NULL column.
pub(super) fn equality(reads: &dyn JsonReads, col: Expr, value: &J) -> Result<(String, Vec<Expr>)> {
    on_column(reads, col, |c, root| c.equal(root, "$", value))
}

/// The condition `build` writes on the column `col`, NULL where `col` is.
fn on_column(
    reads: &dyn JsonReads,
    col: Expr,
    build: impl FnOnce(&mut Containment<'_>, &Target) -> Result<()>,
) -> Result<(String, Vec<Expr>)> {
    let mut c = Containment {
        sql: String::new(),
        args: Vec::new(),
        next: 0,
        reads,
    };
    c.sql.push_str("CASE WHEN {} IS NULL THEN NULL ELSE ");
    c.args.push(col.clone());
    build(&mut c, &Target::Column(col))?;
    c.sql.push_str(" END");
    Ok((c.sql, c.args))
}

impl Containment<'_> {
    /// The value at `path` of `t` equals `v`.
    fn equal(&mut self, t: &Target, path: &str, v: &J) -> Result<()> {
        let reads = self.reads;
        match v {
            J::Object(o) => {
                let a = self.alias();
                self.sql.push('(');
                reads.type_is(self, t, path, Kind::Object);
                self.sql.push_str(" AND (SELECT COUNT(*) FROM ");
                reads.keys(self, t, path, &a);
                self.sql.push_str(&format!(") = {}", o.len()));
                for (k, item) in o {
                    self.sql.push_str(" AND ");
                    let sub = self.key_path(path, k)?;
                    self.equal(t, &sub, item)?;
                }
                self.sql.push(')');
            }
            J::Array(items) => {
                let a = self.alias();
                self.sql.push('(');
                reads.type_is(self, t, path, Kind::Array);
                self.sql.push_str(" AND (SELECT COUNT(*) FROM ");
                reads.elements(self, t, path, &a);
                self.sql.push_str(&format!(") = {}", items.len()));
                for (i, item) in items.iter().enumerate() {
                    self.sql.push_str(" AND ");
                    self.equal(t, &format!("{path}[{i}]"), item)?;
                }
                self.sql.push(')');
            }
            scalar => self.scalar_at(t, path, scalar),
        }
        Ok(())
    }

    /// Push `sql` with one argument for its `{}`.
    pub(super) fn push_arg(&mut self, sql: &str, arg: Expr) {
        self.sql.push_str(sql);
        self.args.push(arg);
    }

    fn alias(&mut self) -> String {
        self.next += 1;
        format!("_baas_j{}", self.next)
    }

    /// The path of `key` below `path`, quoted (a quote or backslash
    /// escaped where the engine reads escapes, else refused); bound where
    /// it is used, as the key itself.
    fn key_path(&self, path: &str, key: &str) -> Result<String> {
        if key.contains(['"', '\\']) && !self.reads.escapes_path_keys() {
            return Err(baas_core::Error::unsupported(
                self.reads.engine(),
                "JSON keys containing a quote or backslash",
            ));
        }
        let mut out = format!("{path}.");
        super::push_json_key(&mut out, key);
        Ok(out)
    }

    /// The value at `path` of `t` is the scalar `v`.
    fn scalar_at(&mut self, t: &Target, path: &str, v: &J) {
        let reads = self.reads;
        self.sql.push('(');
        reads.type_is(self, t, path, Kind::of(v));
        reads.equals(self, t, path, v);
        self.sql.push(')');
    }

    /// The element row `alias` is the scalar `v`, or a container holding
    /// (`contained_by`: held by) `v`.
    fn element(&mut self, alias: &str, v: &J, contained_by: bool) -> Result<()> {
        let reads = self.reads;
        self.sql.push('(');
        reads.element_is(self, alias, Kind::of(v));
        match v {
            J::Array(_) | J::Object(_) => {
                self.sql.push_str(" AND ");
                let inner = Target::Each(alias.to_string());
                if contained_by {
                    self.contained_by(&inner, "$", v, false)?;
                } else {
                    self.contains(&inner, "$", v, false)?;
                }
            }
            scalar => reads.element_equals(self, alias, scalar),
        }
        self.sql.push(')');
        Ok(())
    }

    /// `EXISTS (SELECT 1 FROM <elements of t at path> WHERE <element is v>)`.
    fn some_element(&mut self, t: &Target, path: &str, v: &J, contained_by: bool) -> Result<()> {
        let reads = self.reads;
        let a = self.alias();
        self.sql.push_str("EXISTS (SELECT 1 FROM ");
        reads.elements(self, t, path, &a);
        self.sql.push_str(" WHERE ");
        self.element(&a, v, contained_by)?;
        self.sql.push(')');
        Ok(())
    }

    /// The value at `path` of `t` contains `v`.
    fn contains(&mut self, t: &Target, path: &str, v: &J, top: bool) -> Result<()> {
        let reads = self.reads;
        match v {
            J::Object(o) => {
                self.sql.push('(');
                reads.type_is(self, t, path, Kind::Object);
                for (k, item) in o {
                    self.sql.push_str(" AND ");
                    let sub = self.key_path(path, k)?;
                    self.contains(t, &sub, item, false)?;
                }
                self.sql.push(')');
            }
            J::Array(items) => {
                self.sql.push('(');
                reads.type_is(self, t, path, Kind::Array);
                for item in items {
                    self.sql.push_str(" AND ");
                    self.some_element(t, path, item, false)?;
                }
                self.sql.push(')');
            }
            scalar => {
                self.sql.push('(');
                self.scalar_at(t, path, scalar);
                if top {
                    // PostgreSQL's exception: an array contains a scalar
                    // it holds, at the top level.
                    self.sql.push_str(" OR (");
                    reads.type_is(self, t, path, Kind::Array);
                    self.sql.push_str(" AND ");
                    self.some_element(t, path, scalar, false)?;
                    self.sql.push(')');
                }
                self.sql.push(')');
            }
        }
        Ok(())
    }

    /// The value at `path` of `t` is contained by `v`.
    fn contained_by(&mut self, t: &Target, path: &str, v: &J, top: bool) -> Result<()> {
        let reads = self.reads;
        match v {
            J::Object(o) => {
                // No key of the value outside the operand, and each of
                // its keys' values contained by the operand's.
                let a = self.alias();
                self.sql.push('(');
                reads.type_is(self, t, path, Kind::Object);
                self.sql.push_str(" AND NOT EXISTS (SELECT 1 FROM ");
                reads.keys(self, t, path, &a);
                self.sql.push_str(" WHERE NOT (0");
                for (k, item) in o {
                    self.sql.push_str(" OR (");
                    let key_is = reads.key_is(&a);
                    self.push_arg(&key_is, Expr::val(k.clone()));
                    self.sql.push_str(" AND ");
                    if reads.key_rows_have_values() {
                        self.element(&a, item, true)?;
                    } else {
                        let sub = self.key_path(path, k)?;
                        self.contained_by(t, &sub, item, false)?;
                    }
                    self.sql.push(')');
                }
                self.sql.push_str(")))");
            }
            J::Array(items) => {
                let a = self.alias();
                self.sql.push_str("((");
                reads.type_is(self, t, path, Kind::Array);
                self.sql.push_str(" AND NOT EXISTS (SELECT 1 FROM ");
                reads.elements(self, t, path, &a);
                self.sql.push_str(" WHERE NOT (0");
                for item in items {
                    self.sql.push_str(" OR ");
                    self.element(&a, item, true)?;
                }
                self.sql.push_str(")))");
                if top {
                    // The exception reversed: a scalar is contained by an
                    // array holding it, at the top level.
                    for item in items.iter().filter(|i| !i.is_array() && !i.is_object()) {
                        self.sql.push_str(" OR ");
                        self.scalar_at(t, path, item);
                    }
                }
                self.sql.push(')');
            }
            scalar => self.scalar_at(t, path, scalar),
        }
        Ok(())
    }
}
