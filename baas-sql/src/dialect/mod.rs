//! What differs between SQL engines, one file per engine.
//!
//! The shared lowering ([`crate::lower`]), DDL ([`crate::ddl`]), type mapping
//! ([`crate::types`]) and introspection ask the engine's [`SqlDialect`] every
//! question whose answer differs between engines: placeholder marks, how a
//! date or a UUID is bound, the casts a parameter needs, `LIKE` forms,
//! full-text search, JSON path extraction, paging and `RETURNING` quirks,
//! DDL type names, identifier limits and what the engine refuses. They never
//! match on [`Dialect`] themselves.
//!
//! [`SqlDialect`] is a trait whose default methods are the plain, standard
//! SQL answer, so an engine file overrides only where its engine departs
//! from it; the required methods (the sea-query backend, JSON paths, column
//! type names) are those with no portable answer. The trait is crate-private
//! and used as `&'static dyn SqlDialect` ([`Dialect::sql`]): the public
//! [`Dialect`] enum stays a plain `Copy` value, and a call costs one indirect
//! jump per question, nothing next to building the SQL text.
//!
//! A new SQL engine is a new file here implementing [`SqlDialect`], a
//! variant of [`Dialect`] with its arm in [`Dialect::sql`], and its catalog
//! reader in [`crate::introspect`].

use baas_core::ir::{ArrayOp, CompareOp, GroupValue, RangeOp, TextSyntax};
use baas_core::text_query::{TextQuery, UNICODE_WORD, term_pattern, words_as_written};
use baas_core::zone::Zone;
use baas_core::{Error, Field, FieldType, Result};
use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, Utc};
use sea_query::{
    ColumnType, DeleteStatement, DynIden, Expr, IndexCreateStatement, InsertStatement, OnConflict,
    QueryBuilder, SchemaBuilder, SelectStatement, TableAlterStatement, TableCreateStatement,
    TableDropStatement, UpdateStatement, Value as SqValue, Values,
};

use crate::ddl::{At, Ddl};
use crate::lower::Statement;

mod containment;
mod mysql;
pub(crate) mod postgres;
mod sqlite;

/// The SQL dialect to lower to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Dialect {
    /// PostgreSQL ≥ 12.
    Postgres,
    /// MySQL ≥ 8 and MariaDB ≥ 10.5.
    Mysql,
    /// SQLite ≥ 3.35.
    Sqlite,
}

impl Dialect {
    /// Engine name as used in capabilities and errors.
    pub fn name(self) -> &'static str {
        self.sql().name()
    }

    /// The engine's answers to every question the shared code asks.
    pub(crate) fn sql(self) -> &'static dyn SqlDialect {
        match self {
            Self::Postgres => &postgres::Postgres,
            Self::Mysql => &mysql::Mysql,
            Self::Sqlite => &sqlite::Sqlite,
        }
    }
}

/// A DML statement to render with an engine's sea-query backend.
pub(crate) enum AnyQuery<'a> {
    Select(&'a SelectStatement),
    Insert(&'a InsertStatement),
    Update(&'a UpdateStatement),
    Delete(&'a DeleteStatement),
}

impl AnyQuery<'_> {
    /// Render with `builder` (called by each engine with its backend).
    pub(crate) fn build_with<B: QueryBuilder>(&self, builder: B) -> (String, Values) {
        match self {
            Self::Select(s) => s.build(builder),
            Self::Insert(s) => s.build(builder),
            Self::Update(s) => s.build(builder),
            Self::Delete(s) => s.build(builder),
        }
    }
}

/// A DDL statement to render with an engine's sea-query backend.
pub(crate) enum AnySchema<'a> {
    CreateTable(&'a TableCreateStatement),
    AlterTable(&'a TableAlterStatement),
    DropTable(&'a TableDropStatement),
    CreateIndex(&'a IndexCreateStatement),
}

impl AnySchema<'_> {
    /// Render with `builder` (called by each engine with its backend).
    pub(crate) fn build_with<B: SchemaBuilder>(&self, builder: B) -> String {
        match self {
            Self::CreateTable(s) => s.to_string(builder),
            Self::AlterTable(s) => s.to_string(builder),
            Self::DropTable(s) => s.to_string(builder),
            Self::CreateIndex(s) => s.to_string(builder),
        }
    }
}

/// How an engine stores `decimal` columns.
#[derive(Debug, Clone, Copy)]
pub(crate) struct DecimalType {
    /// Type name (`numeric`, `decimal`).
    pub name: &'static str,
    /// Largest precision.
    pub max_precision: u32,
    /// Largest scale.
    pub max_scale: u32,
    /// Whether a decimal without precision can be declared.
    pub unbounded: bool,
}

/// The differences of one SQL engine. Default methods give the standard SQL
/// answer; see the [module documentation](self).
pub(crate) trait SqlDialect: Send + Sync {
    /// Engine name as used in capabilities and errors.
    fn name(&self) -> &'static str;

    /// `Error::Unsupported` for `feature` on this engine.
    fn unsupported(&self, feature: &str) -> Error {
        Error::unsupported(self.name(), feature)
    }

    // ---------------------------------------------------------- rendering

    /// Render a DML statement with the engine's sea-query backend.
    fn build(&self, q: AnyQuery<'_>) -> (String, Values);

    /// Render a DDL statement with the engine's sea-query backend.
    fn build_schema(&self, s: AnySchema<'_>) -> String;

    /// The parameter mark of the sea-query backend and whether it is
    /// numbered (`("$", true)` renders `$1, $2…`).
    fn placeholder(&self) -> (&'static str, bool);

    /// A custom expression; `{}` in `template` marks the arguments in order
    /// (rendered as the backend's placeholders, `$1`… or `?`).
    fn custom(&self, template: &str, args: Vec<Expr>) -> Expr {
        use std::fmt::Write as _;
        let (mark, numbered) = self.placeholder();
        let mut out = String::with_capacity(template.len() + 8);
        let mut parts = template.split("{}");
        if let Some(first) = parts.next() {
            out.push_str(first);
        }
        for (i, p) in parts.enumerate() {
            out.push_str(mark);
            if numbered {
                let _ = write!(out, "{}", i + 1);
            }
            out.push_str(p);
        }
        Expr::cust_with_exprs(out, args)
    }

    // ------------------------------------------------------ binding values

    /// A `date` parameter.
    fn date(&self, d: NaiveDate) -> SqValue {
        SqValue::ChronoDate(Some(d))
    }

    /// A `time` parameter.
    fn time(&self, t: NaiveTime) -> SqValue {
        SqValue::ChronoTime(Some(t))
    }

    /// A `timestamp` (without time zone) parameter.
    fn timestamp(&self, t: NaiveDateTime) -> SqValue {
        SqValue::ChronoDateTime(Some(t))
    }

    /// A `timestamptz` parameter (an instant, in UTC).
    fn timestamp_tz(&self, t: DateTime<Utc>) -> SqValue {
        SqValue::ChronoDateTimeUtc(Some(t))
    }

    /// A `uuid` parameter.
    fn uuid(&self, u: uuid::Uuid) -> SqValue {
        SqValue::Uuid(Some(u))
    }

    /// A whole array value for an array field of type `ty` (items of
    /// `item_ty`). Engines without array columns refuse.
    fn bind_array(
        &self,
        _ty: &FieldType,
        _item_ty: &FieldType,
        _items: &[baas_core::Value],
    ) -> Result<Expr> {
        Err(self.unsupported("array fields"))
    }

    /// The bound parameter `raw` of a field of type `ty`, with the cast the
    /// engine needs to compare or store it as that type.
    fn cast(&self, _ty: &FieldType, raw: SqValue) -> Expr {
        Expr::val(raw)
    }

    /// A bound value compared with an aggregate of type `ty` (`HAVING`):
    /// as bound; SQLite converts a decimal's text to a number, as the
    /// affinity of a column would (an aggregate is an expression, with
    /// none).
    fn aggregate_operand(&self, _ty: &FieldType, bound: Expr) -> Expr {
        bound
    }

    // ------------------------------------------------------------ filters

    /// The column `col` of type `ty` as text, for `LIKE` and full-text search.
    fn as_text(&self, col: Expr, _ty: &FieldType) -> Expr {
        col
    }

    /// The `LIKE` template (`{}`: column, pattern with `%`, `_`, `\`
    /// escapes), case-sensitive or not.
    fn like_template(&self, case_insensitive: bool) -> &'static str {
        if case_insensitive {
            "LOWER({}) LIKE LOWER({}) ESCAPE '\\'"
        } else {
            "{} LIKE {} ESCAPE '\\'"
        }
    }

    /// `col LIKE pattern`, case-sensitive or not.
    fn like(&self, col: Expr, pattern: &str, case_insensitive: bool) -> Expr {
        self.custom(
            self.like_template(case_insensitive),
            vec![col, Expr::val(pattern.to_string())],
        )
    }

    /// `col` matches the regular expression `pattern` anywhere (PostgREST's
    /// `match` / `imatch`), the pattern bound as a value; NULL for a NULL
    /// `col`, as SQL's operators (full-text search by regular expressions
    /// relies on it). Engines without regular expressions answer
    /// `Unsupported`.
    fn regex(&self, _col: Expr, _pattern: &str, _case_insensitive: bool) -> Result<Expr> {
        Err(self.unsupported("regular expressions (`match` / `imatch`)"))
    }

    /// Full-text match of `query`, written in `syntax`, against the text
    /// `col`.
    fn text_search(
        &self,
        _col: Expr,
        _query: &str,
        _language: Option<&str>,
        _syntax: TextSyntax,
    ) -> Result<Expr> {
        Err(self.unsupported("full-text search"))
    }

    /// The text form of `col` cast to the engine's type `ty` (its name
    /// already checked): PostgreSQL's `CAST(CAST(col AS "ty") AS text)`,
    /// what a grouping by such a cast groups.
    fn cast_text(&self, _col: Expr, ty: &str) -> Result<Expr> {
        Err(self.unsupported(&format!("casts to `{ty}` in select")))
    }

    /// The JSON of `col` cast to the engine's type `ty` (a selected
    /// [`FieldCast`](baas_core::ir::FieldCast), its name already checked),
    /// as PostgREST's JSON of the row writes it: PostgreSQL's
    /// `to_json(CAST(col AS "ty"))` (a string of the value's text for most
    /// types; an array of an array type, an object of a composite one, a
    /// number of a numeric one).
    fn cast_json(&self, _col: Expr, ty: &str) -> Result<Expr> {
        Err(self.unsupported(&format!("casts to `{ty}` in select")))
    }

    /// Full-text search on the string at a JSON path (an expression, not
    /// a column): [`text_search`](Self::text_search) where the engine
    /// searches any text; MySQL's `MATCH` takes indexed columns only.
    fn text_search_at(
        &self,
        text: Expr,
        query: &str,
        language: Option<&str>,
        syntax: TextSyntax,
    ) -> Result<Expr> {
        self.text_search(text, query, language, syntax)
    }

    /// Full-text search in the string values of a whole JSON document
    /// (PostgreSQL's `to_tsvector` of `jsonb`, as PostgREST searches it:
    /// not its keys nor numbers); elsewhere unsupported (the document's
    /// text would match its keys).
    fn text_search_document(
        &self,
        _doc: Expr,
        _query: &str,
        _language: Option<&str>,
        _syntax: TextSyntax,
    ) -> Result<Expr> {
        Err(self.unsupported(
            "full-text search of a whole JSON document (search a path: `data->>body=fts.word`)",
        ))
    }

    /// Full-text search on a column that already is a text-search vector
    /// (PostgreSQL `tsvector`): no `to_tsvector` around it.
    fn text_search_vector(
        &self,
        _vector: Expr,
        _query: &str,
        _language: Option<&str>,
        _syntax: TextSyntax,
    ) -> Result<Expr> {
        Err(self.unsupported("full-text search on a tsvector column"))
    }

    /// The template (`{} << {}`: column, range literal) of a range
    /// operator; `None` where the engine has no range types.
    fn range_operator(&self, _op: RangeOp) -> Option<&'static str> {
        None
    }

    /// The template (`{} @> {}`: column, array parameter) of an array
    /// operator; `None` where the engine has no arrays.
    fn array_operator(&self, _op: ArrayOp) -> Option<&'static str> {
        None
    }

    /// `<the JSON value at path in the JSON column col> <op> operand`, as
    /// `jsonb` compares ([`baas_core::ir::Filter::JsonPath`]): across
    /// types by type; NULL where nothing is at the path, so that neither
    /// the comparison nor its negation holds there.
    fn json_path_compare(
        &self,
        col: Expr,
        path: &[String],
        op: CompareOp,
        operand: &serde_json::Value,
    ) -> Result<Expr>;

    /// The document and the SQL/JSON path text that reach `path` in the
    /// JSON column `col`, for templates that read `{}, {}` pairs
    /// ([`at_path`]): by default the column itself and
    /// [`json_path_text`]'s text. MySQL/MariaDB first step into the
    /// element an index from the end names, row by row.
    fn json_doc_at(&self, col: Expr, path: &[String]) -> Result<(Expr, String)> {
        Ok((col, json_path_text(self, path)))
    }

    /// The array index of the `n`-th element from the end (`n` ≥ 1) in the
    /// engine's SQL/JSON path text: `last-(n-1)` (the default, the
    /// standard's syntax; the MySQL dialect never writes it, as MariaDB
    /// resolves `last` once per statement: [`SqlDialect::json_doc_at`]);
    /// SQLite's `#-n`.
    fn json_index_from_end(&self, n: u64) -> String {
        if n <= 1 {
            "last".into()
        } else {
            format!("last-{}", n - 1)
        }
    }

    /// The JSON value at `path` in the JSON column `col` (SQL NULL when
    /// missing), as the engine's JSON: what `Filter::JsonContains` with a
    /// path tests.
    fn json_at(&self, col: Expr, path: &[String]) -> Result<Expr>;

    /// The text at `path` in the JSON column `col`, as PostgreSQL's `->>`
    /// gives it for a scalar: a string as it is, a number's text, `true`
    /// or `false`; SQL NULL when the value there is missing, JSON `null`,
    /// an array or an object (`Filter::JsonLike`, `Filter::JsonText`,
    /// `Filter::Regex`).
    fn json_scalar_text_at(&self, col: Expr, path: &[String]) -> Result<Expr>;

    /// `text <op> value` for a text read from a JSON document
    /// (`Filter::JsonText`): as the engine compares texts (PostgreSQL:
    /// the database's collation; SQLite: bytes).
    fn json_text_compare(&self, text: Expr, op: &str, value: Expr) -> Expr {
        self.custom(&format!("{{}} {op} {{}}"), vec![text, value])
    }

    /// True when `path` in the JSON column `col` is missing or holds JSON
    /// `null`, or with `missing_only` when it is missing
    /// (`Filter::JsonIsNull`; a NULL column too).
    fn json_null_at(&self, col: Expr, path: &[String], missing_only: bool) -> Result<Expr>;

    /// How a function call (`/rpc`) reads as a row source; `None` where
    /// the engine has no stored functions.
    fn call_form(&self) -> Option<CallForm> {
        None
    }

    /// The JSON column `col` equals `value`, as
    /// [`baas_core::ir::Filter::JsonEquals`] defines it (`jsonb`'s `=`;
    /// the default: built from the operand as containment is,
    /// [`containment::equality`]).
    fn json_equals(&self, col: Expr, value: &serde_json::Value) -> Result<Expr> {
        let _ = (col, value);
        Err(self.unsupported("JSON equality"))
    }

    /// `col @> value` (`contained_by`: `col <@ value`) on a JSON column, as
    /// [`baas_core::ir::Filter::JsonContains`] defines it (the default:
    /// unsupported).
    fn json_contains(
        &self,
        _col: Expr,
        _value: &serde_json::Value,
        _contained_by: bool,
    ) -> Result<Expr> {
        Err(self.unsupported("JSON containment"))
    }

    /// The expressions that sort on the value at `path` inside the JSON
    /// column `col`, as [`baas_core::ir::JsonKey`] defines the order:
    /// `text` sorts the value's text; otherwise JSON values by type
    /// (`null` < string < number < boolean < array < object), then value.
    fn json_order(&self, col: Expr, path: &[String], text: bool) -> Result<Vec<Expr>>;

    // ------------------------------------------------------ reads & writes

    /// `OFFSET` is accepted only after a `LIMIT` (then the largest one is added).
    fn offset_needs_limit(&self) -> bool {
        false
    }

    /// The text at `path` in the JSON column `col` (`->>`'s: a string as
    /// it is, another value's JSON text, SQL NULL for JSON `null` or a
    /// missing path): [`SqlDialect::json_order`]'s text key.
    fn json_text_at(&self, col: Expr, path: &[String]) -> Result<Expr> {
        self.json_order(col, path, true)?
            .into_iter()
            .next()
            .ok_or_else(|| self.unsupported("the text at a JSON path"))
    }

    /// The value [`GroupValue`] groups by, of the column `col` of type
    /// `ty` (which [`GroupValue::applies_to`]), typed as
    /// [`GroupValue::answer_type`]: the JSON ones as
    /// [`SqlDialect::json_group`] and [`SqlDialect::json_text_at`] say,
    /// the others as [`SqlDialect::date_of`], [`SqlDialect::rounded`] and
    /// [`SqlDialect::group_cast`] say, an integer's `<> 0`. A value at a
    /// path binds the path's keys ([`GroupValue::path`]). An instant's
    /// date, time or local timestamp is taken in `zone`
    /// ([`Aggregate::zone`](baas_core::ir::Aggregate::zone); UTC when
    /// `None`): [`SqlDialect::date_in_zone`].
    fn group_value(
        &self,
        col: Expr,
        g: &GroupValue,
        ty: &FieldType,
        zone: Option<Zone>,
    ) -> Result<Expr> {
        let zone = zone.filter(|z| !z.is_utc() && *ty == FieldType::TimestampTz);
        match g {
            GroupValue::Json {
                path, text: false, ..
            } => self.json_group(col, path),
            GroupValue::Json {
                path, text: true, ..
            } => self.json_text_at(col, path),
            GroupValue::Date { .. } => match zone {
                Some(zone) => self.date_in_zone(col, zone),
                None => Ok(self.date_of(col, ty)),
            },
            GroupValue::Integer { .. } => Ok(self.rounded(col, ty)),
            // A boolean on PostgreSQL, 0/1 on MySQL and SQLite (their
            // booleans); NULL stays NULL.
            GroupValue::NonZero { .. } => Ok(self.custom("({} <> 0)", vec![col])),
            GroupValue::Cast { path, to, .. } => {
                let of = if path.is_empty() {
                    col
                } else {
                    self.json_text_at(col, path)?
                };
                self.group_cast(of, ty, to, zone)
            }
        }
    }

    /// The database's cast of `col` (of type `ty`, or text at a JSON path)
    /// to `to`, as [`GroupValue::Cast`] says, an instant taken in `zone`
    /// (UTC when `None`) (the default: unsupported).
    fn group_cast(
        &self,
        _col: Expr,
        _ty: &FieldType,
        to: &str,
        _zone: Option<Zone>,
    ) -> Result<Expr> {
        Err(self.unsupported(&format!("grouping by the database's cast to {to}")))
    }

    /// The date of the `timestamptz` column `col` in `zone` (not UTC).
    ///
    /// The default needs no time zone data in the database (SQLite has
    /// none; MySQL/MariaDB's `CONVERT_TZ` needs the server's tables): the
    /// zone's offsets ([`Zone::offsets`], the ones the answers' instants
    /// are written with) are a search tree of `CASE`s on the instant
    /// ([`SqlDialect::instant_before`]), whose offset
    /// [`SqlDialect::date_shifted`] adds before taking the date. Eight
    /// or nine comparisons a row for a zone with summer time (some 360
    /// changes from 1883 to 2099), a few kilobytes of SQL. Unsupported
    /// where the dialect has neither.
    fn date_in_zone(&self, col: Expr, zone: Zone) -> Result<Expr> {
        let offsets = zone.offsets();
        let before: Option<Vec<String>> = offsets
            .iter()
            .skip(1)
            .map(|(from, _)| self.instant_before(*from))
            .collect();
        let tree = before.and_then(|before| self.date_shifted(&offset_tree(&offsets, &before)));
        let Some(template) = tree else {
            return Err(self.unsupported(&format!(
                "grouping by an instant's date in a time zone other than UTC ({zone}, `Prefer: timezone`)"
            )));
        };
        let uses = template.matches("{}").count();
        Ok(self.custom(&template, vec![col; uses]))
    }

    /// For [`SqlDialect::date_in_zone`]'s default: a condition, `{}` for
    /// a `timestamptz` column, true where its instant is before the Unix
    /// second `epoch` (`None`: the engine names zones itself, or cannot).
    fn instant_before(&self, _epoch: i64) -> Option<String> {
        None
    }

    /// For [`SqlDialect::date_in_zone`]'s default: the date, in UTC, of
    /// a `timestamptz` column (`{}`) moved by `seconds` (an integer
    /// expression, which may itself hold `{}` for the column).
    fn date_shifted(&self, _seconds: &str) -> Option<String> {
        None
    }

    /// The JSON value at `path` in the JSON column `col`, SQL NULL where
    /// the path is missing or holds JSON `null`, in a form the engine
    /// groups by (JSON values equal as JSON, strings case-sensitively).
    fn json_group(&self, col: Expr, path: &[String]) -> Result<Expr>;

    /// The keys that sort the output column `grouped` of a
    /// [`SqlDialect::json_group`] value as [`baas_core::ir::JsonKey`]
    /// orders JSON values (the default: [`SqlDialect::json_order`] on the
    /// whole value).
    fn json_group_order(&self, grouped: Expr) -> Result<Vec<Expr>> {
        self.json_order(grouped, &[], false)
    }

    /// The date of a date or timestamp column (of a timestamp with an
    /// offset, its UTC date).
    fn date_of(&self, col: Expr, ty: &FieldType) -> Expr;

    /// A numeric column rounded half away from zero, as a 64-bit integer.
    fn rounded(&self, col: Expr, ty: &FieldType) -> Expr;

    /// Whether a sum of 64-bit integers is answered in two halves (the
    /// high bits' sum under its key, the low 32 bits' under
    /// [`SUM_LOW`](baas_core::ir::SUM_LOW)), joined exactly afterwards:
    /// where the engine's integer sums stop at 2^63 (SQLite's error).
    fn splits_integer_sums(&self) -> bool {
        false
    }

    /// The aggregate `AVG` of a column (`{}`), as a double.
    fn avg(&self) -> &'static str {
        "AVG({})"
    }

    /// Writes can return rows (`RETURNING`). Otherwise the adapter re-reads
    /// them in the write's transaction.
    fn returning(&self) -> bool {
        true
    }

    /// Rows read to emulate `RETURNING` are locked (`… FOR UPDATE`).
    fn lock_reread_rows(&self) -> bool {
        false
    }

    /// `INSERT … DEFAULT VALUES` for a row that sets no field.
    fn insert_default_values(&self) -> bool {
        true
    }

    /// Make `oc` keep the existing row (`DO NOTHING`); `target` is the
    /// conflict target's columns.
    fn on_conflict_keep(&self, oc: &mut OnConflict, _target: Vec<DynIden>) {
        oc.do_nothing();
    }

    // ---------------------------------------------------------------- DDL

    /// `(length, largest length, unit)` of an identifier where the engine
    /// limits it; `None` when any length is kept.
    fn identifier_length(&self, _name: &str) -> Option<(usize, usize, &'static str)> {
        None
    }

    /// Tables may live in a named schema.
    fn schemas(&self) -> bool {
        true
    }

    /// DDL statements run in a transaction. Otherwise each commits on its
    /// own: a new table's indexes go inside its `CREATE TABLE`, and a failed
    /// `AddField` is undone by [`crate::ddl::revert`].
    fn transactional_ddl(&self) -> bool {
        true
    }

    /// The column type of an auto-increment key of type `ty` when the engine
    /// spells it as a type (an identity column); `None`: the type name plus
    /// sea-query's auto-increment clause.
    fn identity_column(&self, _ty: &FieldType) -> Option<ColumnType> {
        None
    }

    /// Auto-increment exists only as a single-column integer primary key
    /// (declared `INTEGER`, the rowid).
    fn rowid_auto_increment(&self) -> bool {
        false
    }

    /// How `decimal` columns are declared.
    fn decimal(&self) -> DecimalType;

    /// The declared type of a column of type `ty` (what
    /// [`crate::types::field_type`] reads back), `None` when the engine has
    /// no such column type. `ddl` checks names; `at` points at the field.
    /// Decimals and ObjectIds are handled before this is asked.
    fn column_type_name(
        &self,
        ddl: &Ddl<'_>,
        ty: &FieldType,
        max_length: Option<u32>,
        auto: bool,
        at: &At,
    ) -> Result<Option<String>>;

    /// An enum column is text with a `CHECK (col IN (…))` (a named enum has
    /// a type name, `named`).
    fn enum_as_checked_text(&self, _named: bool) -> bool {
        true
    }

    /// Statements creating the types the fields need before the table
    /// (PostgreSQL's named enums).
    fn create_types(&self, _ddl: &Ddl<'_>, _fields: &[(&Field, At)]) -> Result<Vec<Statement>> {
        Ok(Vec::new())
    }

    /// The default `CURRENT_TIMESTAMP` of a timestamp column; `adding`: in
    /// an `ALTER TABLE … ADD COLUMN`.
    fn current_timestamp_default(&self, _adding: bool) -> Result<Expr> {
        Ok(Expr::current_timestamp())
    }

    /// Index keys must be bounded: no index on unbounded text, binary or JSON.
    fn bounded_index_keys(&self) -> bool {
        false
    }

    /// `CREATE INDEX` accepts a schema-qualified table.
    fn index_on_qualified_table(&self) -> bool {
        true
    }

    // ---------------------------------------------- reading schemas back

    /// What live introspection reads back for a column created with type
    /// `ty`, where it differs (`None`: the same type). May set `max_length`.
    fn introspected_type(
        &self,
        _ty: &FieldType,
        _max_length: &mut Option<u32>,
    ) -> Option<FieldType> {
        None
    }

    /// What an auto-increment key reads back as, when its declared type
    /// changes for it.
    fn introspected_auto_increment(&self) -> Option<FieldType> {
        None
    }

    /// The field type of a declared type (`base` lowercase without
    /// arguments, `args` its arguments) where the engine reads it its own
    /// way; `None`: the shared mapping.
    fn declared_type(&self, _base: &str, _args: &[String]) -> Option<FieldType> {
        None
    }

    /// The item type of a declared array type spelled the engine's own way
    /// (`_int4` on PostgreSQL; `int4[]` is understood everywhere).
    fn udt_array_item<'a>(&self, _declared: &'a str) -> Option<&'a str> {
        None
    }

    /// The entity name of a table found in `schema` by introspection.
    fn entity_name(&self, _schema: Option<&str>, table: &str) -> String {
        table.to_string()
    }
}

/// How an engine calls a function as the source of a read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallForm {
    /// `"schema"."fn"(p => CAST($1 AS type), …) AS fn`: any result, the
    /// arguments by name, cast to their types (PostgreSQL).
    Named,
    /// `` (SELECT `fn`(?, …) AS `fn`) AS `fn` ``: one value, the arguments
    /// by position, converted by the server (MySQL/MariaDB stored functions).
    Positional,
}

/// SQL's symbol of a comparison.
pub(crate) fn op_symbol(op: CompareOp) -> &'static str {
    match op {
        CompareOp::Eq => "=",
        CompareOp::Neq => "<>",
        CompareOp::Gt => ">",
        CompareOp::Gte => ">=",
        CompareOp::Lt => "<",
        CompareOp::Lte => "<=",
    }
}

/// A full-text query ([`TextQuery`]) as a condition on the text `text`:
/// each term by `term` (its words and whether the last is a prefix),
/// composed with `AND`, `OR` and `NOT`; NULL where the text is NULL, so
/// that neither the query nor its negation holds there (PostgreSQL's `@@`
/// of a NULL document). With `null_in_null_out` (each term is NULL for a
/// NULL text, as `REGEXP` is) the composition is NULL there by itself and
/// stands bare: SQLite evaluates every operand of an `AND` inside a
/// `CASE` (a term per row each, measured), not in a bare condition.
pub(crate) fn text_query_condition<D: SqlDialect + ?Sized>(
    sql: &D,
    text: Expr,
    q: &TextQuery,
    null_in_null_out: bool,
    term: &dyn Fn(&[String], bool) -> Result<Expr>,
) -> Result<Expr> {
    fn build<D: SqlDialect + ?Sized>(
        sql: &D,
        q: &TextQuery,
        term: &dyn Fn(&[String], bool) -> Result<Expr>,
    ) -> Result<Expr> {
        Ok(match q {
            TextQuery::Term { words, prefix } => term(words, *prefix)?,
            TextQuery::Or(parts) if parts.is_empty() => Expr::cust("1 = 0"),
            TextQuery::And(parts) | TextQuery::Or(parts) => {
                let sep = if matches!(q, TextQuery::And(_)) {
                    " AND "
                } else {
                    " OR "
                };
                let template = format!("({})", vec!["{}"; parts.len()].join(sep));
                let args = parts
                    .iter()
                    .map(|p| build(sql, p, term))
                    .collect::<Result<Vec<_>>>()?;
                sql.custom(&template, args)
            }
            TextQuery::Not(inner) => sql.custom("NOT ({})", vec![build(sql, inner, term)?]),
        })
    }
    /// Whether a part matches nothing (`1 = 0`, which is no NULL for a
    /// NULL text: `NOT (1 = 0)` would hold there).
    fn holds_nothing(q: &TextQuery) -> bool {
        match q {
            TextQuery::Term { .. } => false,
            TextQuery::And(parts) | TextQuery::Or(parts) => {
                parts.is_empty() || parts.iter().any(holds_nothing)
            }
            TextQuery::Not(inner) => holds_nothing(inner),
        }
    }
    let condition = build(sql, q, term)?;
    // A part without a term (`1 = 0`) still needs the text's NULL.
    if null_in_null_out && !holds_nothing(q) {
        return Ok(condition);
    }
    Ok(sql.custom(
        "CASE WHEN {} IS NULL THEN NULL ELSE {} END",
        vec![text, condition],
    ))
}

/// Full-text search of `query` in the text `text` by regular expressions
/// ([`SqlDialect::regex`], case-insensitive): each word or phrase of the
/// query bounded by what is no letter or digit
/// ([`term_pattern`]), composed as the query says. For engines without
/// an index that takes the text (SQLite; MySQL at a JSON path). No
/// `language`: the words are PostgreSQL's `simple` configuration's.
pub(crate) fn text_search_by_regex<D: SqlDialect + ?Sized>(
    sql: &D,
    text: Expr,
    query: &str,
    language: Option<&str>,
    syntax: TextSyntax,
) -> Result<Expr> {
    if !words_as_written(language) {
        return Err(sql.unsupported(
            "a full-text search language other than `simple` (words are searched as they are written)",
        ));
    }
    let q = syntax.parse(query, sql.name())?;
    text_query_condition(sql, text.clone(), &q, true, &|words, prefix| {
        sql.regex(
            text.clone(),
            &term_pattern(words, prefix, UNICODE_WORD),
            true,
        )
    })
}

/// `template` with each `{}, {}` pair bound to `col` and the SQL/JSON
/// path text of `path` (`JSON_EXTRACT({}, {})`, `json_type({}, {})`),
/// or what they step into first ([`SqlDialect::json_doc_at`]).
pub(crate) fn at_path(
    sql: &dyn SqlDialect,
    template: &str,
    col: &Expr,
    path: &[String],
) -> Result<Expr> {
    let (doc, jp) = sql.json_doc_at(col.clone(), path)?;
    let n = template.matches("{}").count() / 2;
    let args = (0..n)
        .flat_map(|_| [doc.clone(), Expr::val(jp.clone())])
        .collect();
    Ok(sql.custom(template, args))
}

/// `$."a"."b"[0]` — keys quoted, digits as array indexes, `-n` as the
/// n-th element from the end (SQLite's `[#-n]`,
/// [`SqlDialect::json_index_from_end`]; MySQL/MariaDB step into such an
/// element first, [`SqlDialect::json_doc_at`], and never write one) — the
/// SQL/JSON path syntax of MySQL and SQLite.
pub(crate) fn json_path_text<D: SqlDialect + ?Sized>(sql: &D, path: &[String]) -> String {
    let mut s = String::from("$");
    for k in path {
        if baas_core::ir::index_from_start(k).is_some() {
            s.push('[');
            s.push_str(k);
            s.push(']');
        } else if let Some(n) = baas_core::ir::index_from_end(k) {
            s.push('[');
            s.push_str(&sql.json_index_from_end(n));
            s.push(']');
        } else {
            s.push('.');
            push_json_key(&mut s, k);
        }
    }
    s
}

/// A JSON path key as a JSON string: `"` and `\` escaped with a
/// backslash, control characters as JSON writes them (`\n`, `\u001f`),
/// as the stored documents spell them (MariaDB compares a key as it is
/// spelled; a raw newline in the path matches no stored `\n`).
pub(crate) fn push_json_key(out: &mut String, key: &str) {
    out.push_str(&serde_json::Value::from(key).to_string());
}

/// `text` in double quotes, `"` and `\` escaped with a backslash
/// (PostgreSQL array items).
pub(crate) fn push_quoted(out: &mut String, text: &str) {
    out.push('"');
    for c in text.chars() {
        if c == '"' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
}

/// The offset in force at an instant, among `offsets` ([`Zone::offsets`]:
/// `(from, seconds)`, the first from `i64::MIN`), as nested `CASE`s that
/// halve the list at each level; `before[i]` is the condition that the
/// instant is before `offsets[i + 1]`'s `from`.
fn offset_tree(offsets: &[(i64, i32)], before: &[String]) -> String {
    fn tree(offsets: &[(i64, i32)], before: &[String], out: &mut String) {
        if let [(_, seconds)] = offsets {
            out.push_str(&seconds.to_string());
            return;
        }
        let mid = offsets.len() / 2;
        out.push_str("CASE WHEN ");
        out.push_str(&before[mid - 1]);
        out.push_str(" THEN ");
        tree(&offsets[..mid], &before[..mid - 1], out);
        out.push_str(" ELSE ");
        tree(&offsets[mid..], &before[mid..], out);
        out.push_str(" END");
    }
    let mut out = String::new();
    if !offsets.is_empty() {
        tree(offsets, before, &mut out);
    }
    out
}

/// The SQL literal's text of `zone` (UTC when `None`): the time zone
/// database's own name (`America/Los_Angeles`, from chrono-tz's static
/// table, never the caller's text: letters, digits and `/_-+` only,
/// [`Zone::name`]), written in the statement so that a group's expression
/// repeats as itself (a bound one would be another parameter in GROUP
/// BY).
pub(crate) fn zone_literal(zone: Option<Zone>) -> &'static str {
    zone.map_or("UTC", |z| z.name())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_paths_quote_keys() {
        let my = mysql::Mysql;
        assert_eq!(json_path_text(&my, &["a".into(), "0".into()]), "$.\"a\"[0]");
        assert_eq!(json_path_text(&my, &["we\"ird".into()]), "$.\"we\\\"ird\"");
        assert_eq!(
            json_path_text(&my, &["a\nb\u{1f}é".into()]),
            "$.\"a\\nb\\u001fé\""
        );
    }

    /// MySQL/MariaDB step into an index from the end row by row (never
    /// `[last]`, which MariaDB resolves once per statement), at most three
    /// times in one path.
    #[test]
    fn mysql_steps_into_indexes_from_the_end() {
        use sea_query::{MysqlQueryBuilder, Query};
        let p = |v: &[&str]| v.iter().map(|k| k.to_string()).collect::<Vec<_>>();
        let my = mysql::Mysql;
        let col = || Expr::cust("`meta`");
        let (doc, rest) = my.json_doc_at(col(), &p(&["a", "-2", "b"])).unwrap();
        assert_eq!(rest, "$.\"b\"");
        let sql = Query::select().expr(doc).to_string(MysqlQueryBuilder);
        assert_eq!(
            sql,
            "SELECT CASE WHEN JSON_TYPE(JSON_EXTRACT(`meta`, '$.\\\"a\\\"')) = 'ARRAY' \
             AND JSON_LENGTH(`meta`, '$.\\\"a\\\"') >= 2 THEN JSON_EXTRACT(`meta`, \
             CONCAT('$.\\\"a\\\"', '[', JSON_LENGTH(`meta`, '$.\\\"a\\\"') - 2, ']')) END"
        );
        let (_, rest) = my.json_doc_at(col(), &p(&["-1", "-1", "-1"])).unwrap();
        assert_eq!(rest, "$");
        let err = my
            .json_doc_at(col(), &p(&["-1", "-1", "-1", "-1"]))
            .unwrap_err();
        assert!(matches!(err, Error::Unsupported { .. }), "{err}");
        let (doc, rest) = my.json_doc_at(col(), &p(&["a", "0"])).unwrap();
        assert_eq!(rest, "$.\"a\"[0]");
        // `[0]` of an object or a scalar would read the value itself: the
        // document is read only where an array is there.
        assert_eq!(
            Query::select().expr(doc).to_string(MysqlQueryBuilder),
            "SELECT CASE WHEN JSON_TYPE(JSON_EXTRACT(`meta`, '$.\\\"a\\\"')) = 'ARRAY' THEN `meta` END"
        );
        let (doc, rest) = my.json_doc_at(col(), &p(&["b"])).unwrap();
        assert_eq!(rest, "$.\"b\"");
        assert_eq!(
            Query::select().expr(doc).to_string(MysqlQueryBuilder),
            "SELECT `meta`"
        );
    }

    #[test]
    fn negative_indexes_count_from_the_end() {
        let p = |v: &[&str]| v.iter().map(|k| k.to_string()).collect::<Vec<_>>();
        assert_eq!(
            json_path_text(&sqlite::Sqlite, &p(&["a", "-2"])),
            "$.\"a\"[#-2]"
        );
        // Not an index: a key.
        assert_eq!(
            json_path_text(&sqlite::Sqlite, &p(&["-0", "-x"])),
            "$.\"-0\".\"-x\""
        );
    }
}
