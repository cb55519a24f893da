//! SQLite: `?` marks, dates, times and UUIDs bound as text (fixed-width, so
//! text order is time order), `GLOB` for case-sensitive `LIKE`, `json_type` /
//! `json_extract` paths, no full-text search, no arrays, no schemas, the rowid
//! as the only auto-increment key.

use baas_core::ir::CompareOp;
use baas_core::{FieldType, Result};
use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, Utc};
use sea_query::{Expr, QueryBuilder, SqliteQueryBuilder, Value as SqValue, Values};

use super::containment::{Containment, JsonReads, Kind, Target};
use super::{AnyQuery, AnySchema, DecimalType, SqlDialect};
use crate::ddl::{At, Ddl};

/// The most memory one compiled regular expression may take on SQLite
/// (the `regex` crate's size limit): beyond it the pattern is refused.
pub(crate) const REGEX_SIZE_LIMIT: usize = 1 << 20;

pub(crate) struct Sqlite;

impl Sqlite {
    /// SQLite's JSON path text has no escape for a quote or backslash in a
    /// key: such keys are refused.
    fn plain_path(&self, path: &[String]) -> Result<()> {
        if path.iter().any(|k| k.contains(['"', '\\'])) {
            return Err(self.unsupported("JSON path keys containing a quote or backslash"));
        }
        Ok(())
    }
}

impl SqlDialect for Sqlite {
    /// SQLite's `SUM` of integers fails past 2^63 (PostgreSQL's `numeric`
    /// sum goes on): two halves, each far from it.
    fn splits_integer_sums(&self) -> bool {
        true
    }

    fn name(&self) -> &'static str {
        "sqlite"
    }

    fn build(&self, q: AnyQuery<'_>) -> (String, Values) {
        q.build_with(SqliteQueryBuilder)
    }

    fn build_schema(&self, s: AnySchema<'_>) -> String {
        s.build_with(SqliteQueryBuilder)
    }

    fn placeholder(&self) -> (&'static str, bool) {
        SqliteQueryBuilder.placeholder()
    }

    fn date(&self, d: NaiveDate) -> SqValue {
        SqValue::String(Some(baas_core::value::format_date(d)))
    }

    fn time(&self, t: NaiveTime) -> SqValue {
        SqValue::String(Some(baas_core::value::format_time_stored(t)))
    }

    fn timestamp(&self, t: NaiveDateTime) -> SqValue {
        SqValue::String(Some(t.format("%Y-%m-%d %H:%M:%S%.f").to_string()))
    }

    /// Fixed-width fraction so that text order is time order.
    fn timestamp_tz(&self, t: DateTime<Utc>) -> SqValue {
        SqValue::String(Some(t.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()))
    }

    fn uuid(&self, u: uuid::Uuid) -> SqValue {
        SqValue::String(Some(u.hyphenated().to_string()))
    }

    /// SQLite's `LIKE` ignores ASCII case; `GLOB` is the case-sensitive form.
    fn like(&self, col: Expr, pattern: &str, case_insensitive: bool) -> Expr {
        if case_insensitive {
            let p = Expr::val(pattern.to_string());
            self.custom(self.like_template(true), vec![col, p])
        } else {
            let g = Expr::val(like_to_glob(pattern));
            self.custom("{} GLOB {}", vec![col, g])
        }
    }

    /// `REGEXP`, the function the SQLite adapter registers on every
    /// connection (Rust's `regex` crate: linear time, no backreferences or
    /// look-around). The pattern is compiled here first, within
    /// [`REGEX_SIZE_LIMIT`], so a malformed or oversized one is a
    /// validation error rather than a failed statement.
    fn regex(&self, col: Expr, pattern: &str, case_insensitive: bool) -> Result<Expr> {
        let flags = if case_insensitive { "(?si)" } else { "(?s)" };
        let full = format!("{flags}{pattern}");
        if let Err(e) = regex::RegexBuilder::new(&full)
            .size_limit(REGEX_SIZE_LIMIT)
            .build()
        {
            return Err(baas_core::Error::validation(
                "/pattern",
                format!("invalid regular expression: {e}"),
            ));
        }
        Ok(self.custom("{} REGEXP {}", vec![col, Expr::val(full)]))
    }

    /// By regular expressions (SQLite has no text search over any text).
    fn text_search(
        &self,
        col: Expr,
        query: &str,
        language: Option<&str>,
        syntax: baas_core::ir::TextSyntax,
    ) -> Result<Expr> {
        super::text_search_by_regex(self, col, query, language, syntax)
    }

    /// The value's JSON text (`->`) against the operand's in the
    /// collation that orders JSON texts as `jsonb`
    /// ([`crate::SQLITE_JSONB_COLLATION`]): every type, arrays and objects
    /// too.
    fn json_path_compare(
        &self,
        col: Expr,
        path: &[String],
        op: CompareOp,
        operand: &serde_json::Value,
    ) -> Result<Expr> {
        Ok(self.custom(
            &format!(
                "{{}} COLLATE {} {} {{}}",
                crate::SQLITE_JSONB_COLLATION,
                super::op_symbol(op)
            ),
            vec![self.json_at(col, path)?, Expr::val(operand.to_string())],
        ))
    }

    /// A condition built from the operand's shape with `json_type`,
    /// `json_extract` and `json_each` (SQLite has no containment
    /// operator): see [`Containment`].
    fn json_index_from_end(&self, n: u64) -> String {
        format!("#-{n}")
    }

    fn json_at(&self, col: Expr, path: &[String]) -> Result<Expr> {
        self.plain_path(path)?;
        // `->` keeps JSON text (a string stays quoted), unlike json_extract.
        super::at_path(self, "({} -> {})", &col, path)
    }

    /// A number's text as the document holds it (`->`: `1.50`, `1e2`).
    fn json_scalar_text_at(&self, col: Expr, path: &[String]) -> Result<Expr> {
        self.plain_path(path)?;
        super::at_path(
            self,
            "CASE json_type({}, {}) WHEN 'text' THEN json_extract({}, {}) \
             WHEN 'integer' THEN ({} -> {}) WHEN 'real' THEN ({} -> {}) \
             WHEN 'true' THEN 'true' WHEN 'false' THEN 'false' END",
            &col,
            path,
        )
    }

    /// `json_type` is SQL NULL for a missing path, `'null'` for JSON
    /// `null`.
    fn json_null_at(&self, col: Expr, path: &[String], missing_only: bool) -> Result<Expr> {
        self.plain_path(path)?;
        let template = if missing_only {
            "json_type({}, {}) IS NULL"
        } else {
            "COALESCE(json_type({}, {}), 'null') = 'null'"
        };
        super::at_path(self, template, &col, path)
    }

    fn json_equals(&self, col: Expr, value: &serde_json::Value) -> Result<Expr> {
        let (sql, args) = super::containment::equality(&SqliteJson, col, value)?;
        Ok(self.custom(&sql, args))
    }

    fn json_contains(
        &self,
        col: Expr,
        value: &serde_json::Value,
        contained_by: bool,
    ) -> Result<Expr> {
        let (sql, args) = super::containment::containment(&SqliteJson, col, value, contained_by)?;
        Ok(self.custom(&sql, args))
    }

    /// Three keys (type rank, number, text) from `json_type`.
    /// `->` answers JSON text (`null` for JSON null), compared as text.
    fn json_group(&self, col: Expr, path: &[String]) -> Result<Expr> {
        self.plain_path(path)?;
        super::at_path(self, "NULLIF({} -> {}, 'null')", &col, path)
    }

    /// `date()` reads both stored forms, and applies an offset (to UTC).
    fn date_of(&self, col: Expr, _ty: &FieldType) -> Expr {
        self.custom("date({})", vec![col])
    }

    /// `unixepoch` reads the instant's text with its offset (whole
    /// seconds, rounded down).
    fn instant_before(&self, epoch: i64) -> Option<String> {
        Some(format!("unixepoch({{}}) < {epoch}"))
    }

    fn date_shifted(&self, seconds: &str) -> Option<String> {
        Some(format!("date(unixepoch({{}}) + ({seconds}), 'unixepoch')"))
    }

    /// SQLite's `ROUND` rounds half away from zero.
    fn rounded(&self, col: Expr, _ty: &FieldType) -> Expr {
        self.custom("CAST(ROUND({}) AS INTEGER)", vec![col])
    }

    fn json_order(&self, col: Expr, path: &[String], text: bool) -> Result<Vec<Expr>> {
        self.plain_path(path)?;
        let (t, x) = ("json_type({}, {})", "json_extract({}, {})");
        let key = |template: String| super::at_path(self, &template, &col, path);
        if text {
            return Ok(vec![key(format!(
                "CASE {t} WHEN 'null' THEN NULL WHEN 'true' THEN 'true' WHEN 'false' THEN 'false' \
                 ELSE CAST({x} AS TEXT) END"
            ))?]);
        }
        // `jsonb`'s order: by type (an empty array first), numbers by
        // value, strings by bytes, `false` < `true`; arrays and objects
        // by their JSON text compared as `jsonb` compares them
        // (`baas_core::jsonb_order`, the collation the adapter registers
        // on every connection: it parses both texts, so it sorts the
        // containers alone).
        Ok(vec![
            key(format!(
                "CASE {t} WHEN 'null' THEN 0 WHEN 'text' THEN 1 WHEN 'integer' THEN 2 \
                 WHEN 'real' THEN 2 WHEN 'true' THEN 3 WHEN 'false' THEN 3 \
                 WHEN 'array' THEN CASE WHEN json_array_length({{}}, {{}}) = 0 THEN -1 ELSE 4 END \
                 WHEN 'object' THEN 5 END"
            ))?,
            key(format!("CASE WHEN {t} IN ('integer', 'real') THEN {x} END"))?,
            key(format!(
                "CASE {t} WHEN 'text' THEN {x} WHEN 'true' THEN 'true' WHEN 'false' THEN 'false' END"
            ))?,
            key(format!(
                "CASE WHEN {t} IN ('array', 'object') THEN ({{}} -> {{}}) END COLLATE {}",
                crate::SQLITE_JSONB_COLLATION
            ))?,
        ])
    }

    /// SQLite accepts OFFSET only after a LIMIT.
    fn offset_needs_limit(&self) -> bool {
        true
    }

    fn schemas(&self) -> bool {
        false
    }

    fn rowid_auto_increment(&self) -> bool {
        true
    }

    fn aggregate_operand(&self, ty: &FieldType, bound: Expr) -> Expr {
        match ty {
            FieldType::Decimal { .. } => self.custom("CAST({} AS NUMERIC)", vec![bound]),
            _ => bound,
        }
    }

    fn decimal(&self) -> DecimalType {
        DecimalType {
            name: "NUMERIC",
            max_precision: u32::MAX,
            max_scale: u32::MAX,
            unbounded: true,
        }
    }

    fn column_type_name(
        &self,
        _ddl: &Ddl<'_>,
        ty: &FieldType,
        max_length: Option<u32>,
        auto: bool,
        _at: &At,
    ) -> Result<Option<String>> {
        Ok(Some(match ty {
            FieldType::Text => match max_length {
                Some(n) => format!("VARCHAR({n})"),
                None => "TEXT".into(),
            },
            // Exactly `INTEGER` makes a single-column primary key the rowid
            // (auto-assigned); any other integer spelling keeps it a plain key.
            FieldType::Int16 | FieldType::Int32 | FieldType::Int64 if auto => "INTEGER".into(),
            FieldType::Int16 => "SMALLINT".into(),
            FieldType::Int32 => "INT".into(),
            FieldType::Int64 => "BIGINT".into(),
            FieldType::Float32 => "FLOAT4".into(),
            FieldType::Float64 => "REAL".into(),
            FieldType::Boolean => "BOOLEAN".into(),
            FieldType::Date => "DATE".into(),
            FieldType::Time => "TIME".into(),
            FieldType::Timestamp => "DATETIME".into(),
            FieldType::TimestampTz => "TIMESTAMPTZ".into(),
            FieldType::Uuid => "UUID".into(),
            FieldType::Json => "JSON".into(),
            FieldType::Binary => "BLOB".into(),
            FieldType::Enum { .. } => "TEXT".into(),
            _ => return Ok(None),
        }))
    }

    /// A column added later needs a constant default.
    fn current_timestamp_default(&self, adding: bool) -> Result<Expr> {
        if adding {
            return Err(self.unsupported(
                "adding a column whose default is CURRENT_TIMESTAMP (not a constant)",
            ));
        }
        Ok(Expr::current_timestamp())
    }

    /// Integers are 64-bit; enums are text.
    fn introspected_type(
        &self,
        ty: &FieldType,
        _max_length: &mut Option<u32>,
    ) -> Option<FieldType> {
        Some(match ty {
            FieldType::Int32 => FieldType::Int64,
            FieldType::Enum { .. } => FieldType::Text,
            _ => return None,
        })
    }

    /// Declared `INTEGER` to be the rowid.
    fn introspected_auto_increment(&self) -> Option<FieldType> {
        Some(FieldType::Int64)
    }

    /// Integers are 64-bit whatever the declaration says; `REAL` is an
    /// 8-byte float.
    fn declared_type(&self, base: &str, _args: &[String]) -> Option<FieldType> {
        Some(match base {
            "int" | "integer" | "int4" | "mediumint" | "serial" | "serial4" => FieldType::Int64,
            "real" => FieldType::Float64,
            _ => return None,
        })
    }
}

/// Translate a LIKE pattern (`%`, `_`, `\` escapes) to an equivalent GLOB pattern.
fn like_to_glob(p: &str) -> String {
    let mut out = String::with_capacity(p.len() + 4);
    let mut chars = p.chars();
    while let Some(c) = chars.next() {
        match c {
            '%' => out.push('*'),
            '_' => out.push('?'),
            '\\' => match chars.next() {
                Some(n) => push_glob_literal(&mut out, n),
                None => push_glob_literal(&mut out, '\\'),
            },
            other => push_glob_literal(&mut out, other),
        }
    }
    out
}

fn push_glob_literal(out: &mut String, c: char) {
    match c {
        '*' | '?' | '[' => {
            out.push('[');
            out.push(c);
            out.push(']');
        }
        other => out.push(other),
    }
}

/// SQLite's JSON reads for [`super::containment`]: `json_type` and
/// `json_extract` at a path, `json_each` rows (`type`, `atom`, `key`,
/// `value`: a nested container as JSON text).
struct SqliteJson;

impl SqliteJson {
    /// `X, 'path'` for `json_type(…)` and friends.
    fn at(c: &mut Containment<'_>, t: &Target, path: &str) {
        match t {
            Target::Column(col) => {
                c.push_arg("{}, ", col.clone());
                c.push_arg("{}", Expr::val(path.to_string()));
            }
            Target::Each(alias) => {
                c.sql.push_str(alias);
                c.push_arg(".value, {}", Expr::val(path.to_string()));
            }
        }
    }

    fn names(kind: Kind) -> &'static str {
        match kind {
            Kind::Object => "'object'",
            Kind::Array => "'array'",
            Kind::Number => "'integer', 'real'",
            Kind::String => "'text'",
            Kind::True => "'true'",
            Kind::False => "'false'",
            Kind::Null => "'null'",
        }
    }

    /// The comparable SQL value of a number or a string.
    fn atom(v: &serde_json::Value) -> Option<Expr> {
        match v {
            serde_json::Value::Number(n) => Some(match n.as_i64() {
                Some(i) => Expr::val(i),
                None => Expr::val(n.as_f64().unwrap_or(f64::NAN)),
            }),
            serde_json::Value::String(s) => Some(Expr::val(s.clone())),
            _ => None,
        }
    }
}

impl JsonReads for SqliteJson {
    fn type_is(&self, c: &mut Containment<'_>, t: &Target, path: &str, kind: Kind) {
        c.sql.push_str("COALESCE(json_type(");
        Self::at(c, t, path);
        c.sql.push_str(&format!(") IN ({}), 0)", Self::names(kind)));
    }

    fn equals(&self, c: &mut Containment<'_>, t: &Target, path: &str, v: &serde_json::Value) {
        if let Some(atom) = Self::atom(v) {
            c.sql.push_str(" AND json_extract(");
            Self::at(c, t, path);
            c.push_arg(") = {}", atom);
        }
    }

    fn element_is(&self, c: &mut Containment<'_>, alias: &str, kind: Kind) {
        c.sql
            .push_str(&format!("{alias}.type IN ({})", Self::names(kind)));
    }

    fn element_equals(&self, c: &mut Containment<'_>, alias: &str, v: &serde_json::Value) {
        if let Some(atom) = Self::atom(v) {
            c.push_arg(&format!(" AND {alias}.atom = {{}}"), atom);
        }
    }

    fn elements(&self, c: &mut Containment<'_>, t: &Target, path: &str, alias: &str) {
        c.sql.push_str("json_each(");
        Self::at(c, t, path);
        c.sql.push_str(&format!(") AS {alias}"));
    }

    fn keys(&self, c: &mut Containment<'_>, t: &Target, path: &str, alias: &str) {
        self.elements(c, t, path, alias);
    }

    fn key_is(&self, alias: &str) -> String {
        format!("{alias}.key = {{}}")
    }

    fn key_rows_have_values(&self) -> bool {
        true
    }

    fn escapes_path_keys(&self) -> bool {
        false
    }

    fn engine(&self) -> &'static str {
        "sqlite"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regex_is_checked_and_bound() {
        let d = Sqlite;
        let col = Expr::cust("name");
        assert!(d.regex(col.clone(), "^a(b|c)$", false).is_ok());
        assert!(d.regex(col.clone(), "(", false).is_err());
        // Compiled size beyond the limit: refused, not run.
        assert!(d.regex(col, "\\w{1000}{1000}", true).is_err());
    }

    #[test]
    fn glob_translation_escapes_metacharacters() {
        assert_eq!(like_to_glob("A%"), "A*");
        assert_eq!(like_to_glob("a_c"), "a?c");
        assert_eq!(like_to_glob("100\\%"), "100%");
        assert_eq!(like_to_glob("what?*[x"), "what[?][*][[]x");
    }
}
