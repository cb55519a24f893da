//! MySQL / MariaDB: `?` marks, instants bound as UTC `DATETIME`, decimals
//! compared as `DECIMAL(65,30)`, `LIKE BINARY`, `MATCH … AGAINST`, JSON
//! paths through `JSON_EXTRACT`, no `RETURNING` (rows re-read `FOR UPDATE`),
//! non-transactional DDL, 64-character identifiers.

use baas_core::ir::{CompareOp, TextSyntax};
use baas_core::text_query::{TextQuery, UNICODE_WORD, term_pattern};
use baas_core::{FieldType, Result};
use chrono::{DateTime, Utc};
use sea_query::{
    DynIden, Expr, Keyword, MysqlQueryBuilder, OnConflict, QueryBuilder, Value as SqValue, Values,
};

use super::containment::{Containment, JsonReads, Kind, Target};
use super::{AnyQuery, AnySchema, DecimalType, SqlDialect};
use crate::ddl::{At, Ddl};
use crate::lower::iden;

/// Longest identifier MySQL / MariaDB accept (characters).
const MAX_IDENT: usize = 64;

pub(crate) struct Mysql;

/// The most array indexes from the end (`->-1`) one JSON path may take
/// on MySQL/MariaDB ([`SqlDialect::json_doc_at`]: the statement grows
/// fourfold with each).
const MAX_INDEXES_FROM_END: usize = 3;

/// A term in `MATCH`'s boolean syntax: a word (`fox`, a prefix `fox*`)
/// or a phrase in double quotes; `None` for a phrase that holds places
/// (`a <3> b`), which `MATCH` cannot say. Words are letters, marks and
/// digits only ([`TextQuery`]), so nothing in them is an operator.
fn boolean_term(words: &[String], prefix: bool) -> Option<String> {
    Some(match words {
        [one] if prefix => format!("{one}*"),
        [one] => one.clone(),
        _ if words.iter().any(String::is_empty) => return None,
        _ => format!("\"{}\"", words.join(" ")),
    })
}

/// The query as one boolean-mode search, where it is one: a term
/// (`+a`), a conjunction of terms and excluded terms with one term at
/// least (`+a +"b c" -d`), a disjunction of terms (`a b`).
fn boolean_mode(q: &TextQuery) -> Option<String> {
    let term = |q: &TextQuery| match q {
        TextQuery::Term { words, prefix } => boolean_term(words, *prefix),
        _ => None,
    };
    match q {
        TextQuery::Term { .. } => term(q).map(|t| format!("+{t}")),
        TextQuery::And(parts) => {
            let mut out = Vec::with_capacity(parts.len());
            for p in parts {
                out.push(match p {
                    TextQuery::Not(inner) => format!("-{}", term(inner)?),
                    _ => format!("+{}", term(p)?),
                });
            }
            out.iter()
                .any(|t| t.starts_with('+'))
                .then(|| out.join(" "))
        }
        TextQuery::Or(parts) if !parts.is_empty() => parts
            .iter()
            .map(term)
            .collect::<Option<Vec<_>>>()
            .map(|t| t.join(" ")),
        _ => None,
    }
}

impl Mysql {
    /// A number written plainly with at most 35 digits before the
    /// point and 30 after, compared with an operand written so,
    /// compares exactly, as a decimal; any other (`1e300`, which
    /// MariaDB calls an INTEGER, 40 digits, or such an operand) as
    /// a double: a cast out of a decimal's range is an error in a
    /// strict write's filter, whichever row or operand holds it.
    fn json_number_compare(
        &self,
        col: Expr,
        path: &[String],
        op: &str,
        operand: Expr,
    ) -> Result<Expr> {
        const NUMBER: &str = "JSON_TYPE(JSON_EXTRACT({}, {})) IN ('INTEGER', 'UNSIGNED INTEGER', 'DOUBLE', 'DECIMAL')";
        const PLAIN: &str = "REGEXP '^-?[0-9]{1,35}([.][0-9]{1,30})?$'";
        let template = format!(
            "COALESCE(CASE WHEN {NUMBER} AND JSON_UNQUOTE(JSON_EXTRACT({{}}, {{}})) {PLAIN} AND {{}} {PLAIN} \
         THEN CAST(JSON_UNQUOTE(JSON_EXTRACT({{}}, {{}})) AS DECIMAL(65,30)) {op} CAST({{}} AS DECIMAL(65,30)) END, \
         CASE WHEN {NUMBER} THEN CAST(JSON_UNQUOTE(JSON_EXTRACT({{}}, {{}})) AS DOUBLE) {op} CAST({{}} AS DOUBLE) END)"
        );
        let (doc, at) = self.json_doc_at(col, path)?;
        let pair = || [doc.clone(), Expr::val(at.clone())];
        let mut args: Vec<Expr> = (0..2).flat_map(|_| pair()).collect();
        args.push(operand.clone());
        args.extend(pair());
        args.push(operand.clone());
        args.extend((0..2).flat_map(|_| pair()));
        args.push(operand);
        Ok(self.custom(&template, args))
    }
}

impl SqlDialect for Mysql {
    fn name(&self) -> &'static str {
        "mysql"
    }

    fn build(&self, q: AnyQuery<'_>) -> (String, Values) {
        q.build_with(MysqlQueryBuilder)
    }

    fn build_schema(&self, s: AnySchema<'_>) -> String {
        s.build_with(MysqlQueryBuilder)
    }

    fn placeholder(&self) -> (&'static str, bool) {
        MysqlQueryBuilder.placeholder()
    }

    /// The session runs in UTC: an instant is its UTC wall-clock time.
    fn timestamp_tz(&self, t: DateTime<Utc>) -> SqValue {
        SqValue::ChronoDateTime(Some(t.naive_utc()))
    }

    fn uuid(&self, u: uuid::Uuid) -> SqValue {
        SqValue::String(Some(u.hyphenated().to_string()))
    }

    /// Compared with a string MySQL converts both sides to double; the
    /// widest DECIMAL keeps exactness without clamping to the column's
    /// precision (an out-of-range write then fails in strict mode instead
    /// of being silently capped).
    fn cast(&self, ty: &FieldType, raw: SqValue) -> Expr {
        match ty {
            FieldType::Decimal { .. } if !matches!(raw, SqValue::String(None)) => {
                self.custom("CAST({} AS DECIMAL(65,30))", vec![Expr::val(raw)])
            }
            _ => Expr::val(raw),
        }
    }

    /// String literals treat `\` as an escape, hence `'\\'`.
    /// Case-insensitive: both sides lowered. Case-sensitive:
    /// `col LIKE p AND col LIKE BINARY p`. `LIKE BINARY`
    /// alone cannot use an index on the column, so an `UPDATE` or `DELETE`
    /// filtered by it scans — and, under REPEATABLE READ, locks — every row,
    /// and deadlocks with concurrent writes to other rows. The plain `LIKE`
    /// (the column's collation) lets the index narrow the range first; every
    /// binary match is also a match under the collation, so the result is
    /// the same.
    fn like(&self, col: Expr, pattern: &str, case_insensitive: bool) -> Expr {
        let p = || Expr::val(pattern.to_string());
        if case_insensitive {
            self.custom("LOWER({}) LIKE LOWER({}) ESCAPE '\\\\'", vec![col, p()])
        } else {
            self.custom(
                "({} LIKE {} ESCAPE '\\\\' AND {} LIKE BINARY {} ESCAPE '\\\\')",
                vec![col.clone(), p(), col, p()],
            )
        }
    }

    /// `REGEXP` (ICU on MySQL 8, PCRE on MariaDB) with the pattern behind
    /// inline flags: `(?s-i)` / `(?si)` make case follow `match` / `imatch`
    /// whatever the column's collation, and `.` match a newline as in
    /// PostgreSQL.
    fn regex(&self, col: Expr, pattern: &str, case_insensitive: bool) -> Result<Expr> {
        let flags = if case_insensitive { "(?si)" } else { "(?s-i)" };
        Ok(self.custom(
            "{} REGEXP {}",
            vec![col, Expr::val(format!("{flags}{pattern}"))],
        ))
    }

    /// At a JSON path (an expression `MATCH` does not take) by regular
    /// expressions.
    fn text_search_at(
        &self,
        text: Expr,
        query: &str,
        language: Option<&str>,
        syntax: TextSyntax,
    ) -> Result<Expr> {
        super::text_search_by_regex(self, text, query, language, syntax)
    }

    /// `MATCH … AGAINST` in boolean mode: one where the query is a
    /// conjunction of words and phrases (some excluded) or a disjunction
    /// of them (`+a +"b c" -d`, `a b`), else one per term composed with
    /// `AND`/`OR`/`NOT`.
    fn text_search(
        &self,
        col: Expr,
        query: &str,
        language: Option<&str>,
        syntax: TextSyntax,
    ) -> Result<Expr> {
        if !baas_core::text_query::words_as_written(language) {
            return Err(self.unsupported(
                "a full-text search language other than `simple` (MySQL uses the index's parser)",
            ));
        }
        let q = syntax.parse(query, self.name())?;
        let against = |b: String| {
            self.custom(
                "MATCH ({}) AGAINST ({} IN BOOLEAN MODE)",
                vec![col.clone(), Expr::val(b)],
            )
        };
        match boolean_mode(&q) {
            Some(b) => Ok(self.custom(
                "CASE WHEN {} IS NULL THEN NULL ELSE {} END",
                vec![col.clone(), against(b)],
            )),
            // `MATCH` answers 0 for a NULL text: the `CASE` keeps it NULL.
            // A phrase that holds places (`a <3> b`), which `MATCH`
            // cannot say, by a regular expression alone (a scan): its
            // words in `MATCH` would need the index to hold each (no stop
            // word, none under the index's shortest).
            None => super::text_query_condition(self, col.clone(), &q, false, &|words, prefix| {
                Ok(match boolean_term(words, prefix) {
                    Some(t) => against(format!("+{t}")),
                    None => self.regex(
                        col.clone(),
                        &term_pattern(words, prefix, UNICODE_WORD),
                        true,
                    )?,
                })
            }),
        }
    }

    /// By the type first (MySQL/MariaDB compare JSON values of one type
    /// only): one `CASE` on the value's `JSON_TYPE`, each other type's
    /// answer known from its rank against the operand's
    /// ([`baas_core::jsonb_order::type_rank`]; an array's from its length,
    /// `[]` ranking first), the operand's own type compared: strings and
    /// booleans by their texts' bytes, numbers by value (an operand past a
    /// double, `1e400`, above or below every stored one). Nothing at the
    /// path matches no `WHEN`: NULL.
    fn json_path_compare(
        &self,
        col: Expr,
        path: &[String],
        op: CompareOp,
        operand: &serde_json::Value,
    ) -> Result<Expr> {
        use serde_json::Value as J;
        use std::cmp::Ordering;
        let symbol = super::op_symbol(op);
        let r = baas_core::jsonb_order::type_rank(operand);
        let constant = |o: Ordering| if op.holds(o) { "1 = 1" } else { "1 = 0" };
        let of_rank = |k: i8| constant(k.cmp(&r));
        let text = |t: String| -> Result<Expr> {
            let at = self.json_scalar_text_at(col.clone(), path)?;
            Ok(self.json_text_compare(at, symbol, Expr::val(t)))
        };
        // The operand's own type: a comparison, or (JSON `null`, a number
        // past a double) a constant.
        let (same, same_constant) = match operand {
            J::Null => (None, Some(constant(Ordering::Equal))),
            J::String(s) => (Some(text(s.clone())?), None),
            J::Bool(b) => (Some(text(b.to_string())?), None),
            J::Number(n) if n.as_f64().is_none() => {
                let above = !n.to_string().starts_with('-');
                let o = if above {
                    Ordering::Less
                } else {
                    Ordering::Greater
                };
                (None, Some(constant(o)))
            }
            J::Number(n) => (
                Some(self.json_number_compare(
                    col.clone(),
                    path,
                    symbol,
                    Expr::val(n.to_string()),
                )?),
                None,
            ),
            J::Array(_) | J::Object(_) => {
                return Err(self.unsupported(
                    "ordering the JSON value at a path against an array or an object (gt, gte, lt, lte)",
                ));
            }
        };
        // The template and its arguments in order: the document at the
        // path for each `JSON_EXTRACT({}, {})`, a comparison for each `{}`.
        let (doc, at) = self.json_doc_at(col, path)?;
        let pair = || [doc.clone(), Expr::val(at.clone())];
        let mut template = String::from("CASE JSON_TYPE(JSON_EXTRACT({}, {}))");
        let mut args: Vec<Expr> = pair().into();
        let branch = |template: &mut String, args: &mut Vec<Expr>, ty: &str, k: i8| {
            let answer = if k != r {
                of_rank(k)
            } else if let Some(e) = &same {
                args.push(e.clone());
                "{}"
            } else {
                same_constant.unwrap_or("NULL")
            };
            template.push_str(&format!(" WHEN '{ty}' THEN {answer}"));
        };
        branch(&mut template, &mut args, "NULL", 0);
        branch(&mut template, &mut args, "STRING", 1);
        branch(&mut template, &mut args, "BOOLEAN", 3);
        branch(&mut template, &mut args, "OBJECT", 5);
        let (empty, full) = (of_rank(-1), of_rank(4));
        if empty == full {
            template.push_str(&format!(" WHEN 'ARRAY' THEN {empty}"));
        } else {
            template.push_str(&format!(
                " WHEN 'ARRAY' THEN CASE WHEN JSON_LENGTH(JSON_EXTRACT({{}}, {{}})) = 0 THEN {empty} ELSE {full} END"
            ));
            args.extend(pair());
        }
        match &same {
            // One comparison for the four number types; NULL where
            // nothing is at the path, as the comparison is.
            Some(e) if r == 2 => {
                template.push_str(" ELSE {}");
                args.push(e.clone());
            }
            _ => {
                for ty in ["INTEGER", "UNSIGNED INTEGER", "DOUBLE", "DECIMAL"] {
                    branch(&mut template, &mut args, ty, 2);
                }
            }
        }
        template.push_str(" END");
        Ok(self.custom(&template, args))
    }

    /// An index from the end (`data->tags->-1`) is found row by row:
    /// MariaDB (10.11) resolves `[last]` once per statement, so every row
    /// after the first would read the first row's index. The element is
    /// extracted first, at `JSON_LENGTH(…) - n`, where the value before
    /// it is an array of at least `n` elements (else SQL NULL, as
    /// PostgreSQL's `->` answers; an object or a scalar is no array,
    /// though MariaDB's `[0]` would read it), and the rest of the path is
    /// read from it. No path the server sees is ever malformed: a strict
    /// write's filter turns such a warning into an error. The document
    /// repeats four times per such index, so a path takes at most
    /// `MAX_INDEXES_FROM_END` (3) of them (501 past that).
    fn json_doc_at(&self, col: Expr, path: &[String]) -> Result<(Expr, String)> {
        let from_end = path
            .iter()
            .filter(|k| baas_core::ir::index_from_end(k).is_some())
            .count();
        if from_end > MAX_INDEXES_FROM_END {
            return Err(self.unsupported(&format!(
                "more than {MAX_INDEXES_FROM_END} array indexes from the end (`->-1`) in one JSON path"
            )));
        }
        let (mut doc, mut rest) = (col, 0);
        // `[i]` of an object or a scalar reads the value itself on
        // MySQL/MariaDB: the document is SQL NULL (nothing at the path)
        // unless the value before each index is an array.
        let mut arrays: Vec<String> = Vec::new();
        let guard = |doc: Expr, arrays: &mut Vec<String>| {
            if arrays.is_empty() {
                return doc;
            }
            let conditions = vec!["JSON_TYPE(JSON_EXTRACT({}, {})) = 'ARRAY'"; arrays.len()];
            let mut args: Vec<Expr> = arrays
                .drain(..)
                .flat_map(|p| [doc.clone(), Expr::val(p)])
                .collect();
            args.push(doc);
            self.custom(
                &format!("CASE WHEN {} THEN {{}} END", conditions.join(" AND ")),
                args,
            )
        };
        for (i, k) in path.iter().enumerate() {
            if baas_core::ir::index_from_start(k).is_some() {
                arrays.push(super::json_path_text(self, &path[rest..i]));
                continue;
            }
            let Some(n) = baas_core::ir::index_from_end(k) else {
                continue;
            };
            doc = guard(doc, &mut arrays);
            let to_array = super::json_path_text(self, &path[rest..i]);
            let template = format!(
                "CASE WHEN JSON_TYPE(JSON_EXTRACT({{}}, {{}})) = 'ARRAY' AND JSON_LENGTH({{}}, {{}}) >= {n} \
                 THEN JSON_EXTRACT({{}}, CONCAT({{}}, '[', JSON_LENGTH({{}}, {{}}) - {n}, ']')) END"
            );
            let args = (0..4)
                .flat_map(|_| [doc.clone(), Expr::val(to_array.clone())])
                .collect();
            doc = self.custom(&template, args);
            rest = i + 1;
        }
        Ok((
            guard(doc, &mut arrays),
            super::json_path_text(self, &path[rest..]),
        ))
    }

    fn json_at(&self, col: Expr, path: &[String]) -> Result<Expr> {
        super::at_path(self, "JSON_EXTRACT({}, {})", &col, path)
    }

    /// A number's text as the document holds it (MariaDB: as written;
    /// MySQL: its own form of the value).
    fn json_scalar_text_at(&self, col: Expr, path: &[String]) -> Result<Expr> {
        super::at_path(
            self,
            "CASE WHEN JSON_TYPE(JSON_EXTRACT({}, {})) IN ('STRING', 'INTEGER', 'UNSIGNED INTEGER', 'DOUBLE', 'DECIMAL', 'BOOLEAN') THEN JSON_UNQUOTE(JSON_EXTRACT({}, {})) END",
            &col,
            path,
        )
    }

    /// By bytes, as SQLite and MongoDB compare texts (`JSON_UNQUOTE`'s
    /// `utf8mb4_bin`, made sure of whatever the operand's collation).
    fn json_text_compare(&self, text: Expr, op: &str, value: Expr) -> Expr {
        self.custom(
            &format!("CAST({{}} AS BINARY) {op} CAST({{}} AS BINARY)"),
            vec![text, value],
        )
    }

    /// `JSON_EXTRACT` answers SQL NULL for a missing path only (a JSON
    /// `null` is MySQL's JSON null, MariaDB's text `null`).
    fn json_null_at(&self, col: Expr, path: &[String], missing_only: bool) -> Result<Expr> {
        let template = if missing_only {
            "JSON_EXTRACT({}, {}) IS NULL"
        } else {
            "COALESCE(JSON_TYPE(JSON_EXTRACT({}, {})), 'NULL') = 'NULL'"
        };
        super::at_path(self, template, &col, path)
    }

    fn call_form(&self) -> Option<super::CallForm> {
        Some(super::CallForm::Positional)
    }

    /// The instant compared with UTC's date and time: a `TIMESTAMP`
    /// reads in the session's zone, UTC (sqlx's default, as
    /// [`SqlDialect::date_of`] has it).
    fn instant_before(&self, epoch: i64) -> Option<String> {
        let t = chrono::DateTime::from_timestamp(epoch, 0)?;
        Some(format!("{{}} < '{}'", t.format("%Y-%m-%d %H:%M:%S")))
    }

    fn date_shifted(&self, seconds: &str) -> Option<String> {
        Some(format!("DATE(DATE_ADD({{}}, INTERVAL ({seconds}) SECOND))"))
    }

    /// `jsonb`'s `=`, built from the operand as containment is (MariaDB's
    /// JSON is text, which `=` compares as text: key order and `1.0`
    /// against `1` would differ).
    fn json_equals(&self, col: Expr, value: &serde_json::Value) -> Result<Expr> {
        let (sql, args) = super::containment::equality(&MysqlJson, col, value)?;
        Ok(self.custom(&sql, args))
    }

    /// `jsonb`'s containment ([`super::containment`]): not
    /// `JSON_CONTAINS`, whose arrays hold a scalar at any depth and an
    /// object inside an element, and whose integers differ from the same
    /// double.
    fn json_contains(
        &self,
        col: Expr,
        value: &serde_json::Value,
        contained_by: bool,
    ) -> Result<Expr> {
        let (sql, args) = super::containment::containment(&MysqlJson, col, value, contained_by)?;
        Ok(self.custom(&sql, args))
    }

    /// Four keys (type rank, number, length, text) from `JSON_TYPE`:
    /// MariaDB's JSON is text, and MySQL orders JSON values its own way.
    fn json_order(&self, col: Expr, path: &[String], text: bool) -> Result<Vec<Expr>> {
        const NUMBER: &str = "'INTEGER', 'UNSIGNED INTEGER', 'DOUBLE', 'DECIMAL'";
        let x = "JSON_EXTRACT({}, {})";
        let key = |template: String| super::at_path(self, &template, &col, path);
        if text {
            return Ok(vec![key(format!(
                "CASE WHEN JSON_TYPE({x}) <> 'NULL' THEN JSON_UNQUOTE({x}) END"
            ))?]);
        }
        // `jsonb`'s order as far as keys go: an empty array first, arrays
        // and objects by their length before their text (element by
        // element would need a comparator MySQL cannot be given).
        Ok(vec![
            key(format!(
                "CASE JSON_TYPE({x}) WHEN 'NULL' THEN 0 WHEN 'BOOLEAN' THEN 3 \
                 WHEN 'ARRAY' THEN CASE WHEN JSON_LENGTH({x}) = 0 THEN -1 ELSE 4 END \
                 WHEN 'OBJECT' THEN 5 WHEN 'INTEGER' THEN 2 WHEN 'UNSIGNED INTEGER' THEN 2 \
                 WHEN 'DOUBLE' THEN 2 WHEN 'DECIMAL' THEN 2 WHEN 'STRING' THEN 1 END"
            ))?,
            key(format!(
                "CASE WHEN JSON_TYPE({x}) IN ({NUMBER}) THEN CAST(JSON_UNQUOTE({x}) AS DECIMAL(65,30)) END"
            ))?,
            key(format!(
                "CASE WHEN JSON_TYPE({x}) IN ('ARRAY', 'OBJECT') THEN JSON_LENGTH({x}) END"
            ))?,
            key(format!(
                "CASE WHEN JSON_TYPE({x}) NOT IN ('NULL', {NUMBER}) THEN JSON_UNQUOTE({x}) END"
            ))?,
        ])
    }

    /// MySQL and MariaDB accept OFFSET only after a LIMIT.
    fn offset_needs_limit(&self) -> bool {
        true
    }

    fn avg(&self) -> &'static str {
        "CAST(AVG({}) AS DOUBLE)"
    }

    /// MySQL compares JSON values as JSON; MariaDB's JSON is text, compared
    /// by its binary collation (never case-insensitively).
    fn json_group(&self, col: Expr, path: &[String]) -> Result<Expr> {
        let x = "JSON_EXTRACT({}, {})";
        super::at_path(
            self,
            &format!("CASE WHEN JSON_TYPE({x}) <> 'NULL' THEN {x} END"),
            &col,
            path,
        )
    }

    fn date_of(&self, col: Expr, _ty: &FieldType) -> Expr {
        // The session's time zone is UTC (the driver sets it).
        self.custom("DATE({})", vec![col])
    }

    /// `ROUND` of a DECIMAL rounds half away from zero, of a DOUBLE as the
    /// C library does (half to even): doubles are rounded by hand.
    fn rounded(&self, col: Expr, ty: &FieldType) -> Expr {
        match ty {
            FieldType::Float32 | FieldType::Float64 => self.custom(
                "CAST(SIGN({}) * FLOOR(ABS({}) + 0.5) AS SIGNED)",
                vec![col.clone(), col],
            ),
            _ => self.custom("CAST(ROUND({}) AS SIGNED)", vec![col]),
        }
    }

    fn returning(&self) -> bool {
        false
    }

    fn lock_reread_rows(&self) -> bool {
        true
    }

    /// `INSERT INTO t () VALUES ()` is not lowered: a row sets a field.
    fn insert_default_values(&self) -> bool {
        false
    }

    /// `ON DUPLICATE KEY UPDATE k = k` is MySQL's no-op upsert (sea-query's
    /// `do_nothing` renders invalid SQL there).
    fn on_conflict_keep(&self, oc: &mut OnConflict, target: Vec<DynIden>) {
        oc.do_nothing_on(target);
    }

    fn identifier_length(&self, name: &str) -> Option<(usize, usize, &'static str)> {
        Some((name.chars().count(), MAX_IDENT, "characters"))
    }

    /// Every DDL statement commits implicitly.
    fn transactional_ddl(&self) -> bool {
        false
    }

    fn decimal(&self) -> DecimalType {
        DecimalType {
            name: "decimal",
            max_precision: 65,
            max_scale: 30,
            unbounded: false,
        }
    }

    fn column_type_name(
        &self,
        _ddl: &Ddl<'_>,
        ty: &FieldType,
        max_length: Option<u32>,
        _auto: bool,
        _at: &At,
    ) -> Result<Option<String>> {
        Ok(Some(match ty {
            FieldType::Text => match max_length {
                Some(n) => format!("varchar({n})"),
                None => "longtext".into(),
            },
            FieldType::Int16 => "smallint".into(),
            FieldType::Int32 => "int".into(),
            FieldType::Int64 => "bigint".into(),
            FieldType::Float32 => "float".into(),
            FieldType::Float64 => "double".into(),
            FieldType::Boolean => "tinyint(1)".into(),
            FieldType::Date => "date".into(),
            FieldType::Time => "time(6)".into(),
            FieldType::Timestamp => "datetime(6)".into(),
            FieldType::TimestampTz => "timestamp(6)".into(),
            // What the MySQL adapter reads as a UUID on MySQL and MariaDB alike.
            FieldType::Uuid => "char(36)".into(),
            FieldType::Json => "json".into(),
            FieldType::Binary => "longblob".into(),
            FieldType::Enum { values, .. } => {
                let labels: Vec<String> = values
                    .iter()
                    .map(|v| MysqlQueryBuilder.value_to_string(&SqValue::String(Some(v.clone()))))
                    .collect();
                format!("enum({})", labels.join(","))
            }
            _ => return Ok(None),
        }))
    }

    /// Enums are `enum(…)` columns.
    fn enum_as_checked_text(&self, _named: bool) -> bool {
        false
    }

    /// The default's precision must match the column's.
    fn current_timestamp_default(&self, _adding: bool) -> Result<Expr> {
        Ok(Expr::Keyword(Keyword::Custom(iden("CURRENT_TIMESTAMP(6)"))))
    }

    /// MySQL cannot index `TEXT` / `BLOB` / `JSON` without a key length.
    fn bounded_index_keys(&self) -> bool {
        true
    }

    /// sea-query renders `CREATE INDEX … ON db.table` in a form MySQL refuses.
    fn index_on_qualified_table(&self) -> bool {
        false
    }

    /// Enums lose their type name; `uuid` reads back as `text` with
    /// `max_length` 36 (it is stored as `char(36)`).
    fn introspected_type(&self, ty: &FieldType, max_length: &mut Option<u32>) -> Option<FieldType> {
        Some(match ty {
            FieldType::Enum { values, .. } => FieldType::Enum {
                name: None,
                values: values.clone(),
            },
            FieldType::Uuid => {
                *max_length = Some(36);
                FieldType::Text
            }
            _ => return None,
        })
    }

    fn declared_type(&self, base: &str, args: &[String]) -> Option<FieldType> {
        let num = |i: usize| args.get(i).and_then(|a| a.trim().parse::<u32>().ok());
        Some(match base {
            "tinyint" if num(0) == Some(1) => FieldType::Boolean,
            "year" => FieldType::Int16,
            "float" if num(0).is_none_or(|p| p <= 24) => FieldType::Float32,
            // TIMESTAMP stores an instant (converted to UTC by the session).
            "timestamp" => FieldType::TimestampTz,
            // Spatial values come back as MySQL's geometry bytes (a 4-byte
            // SRID, then WKB); see `types::spatial_note`.
            b if crate::types::is_mysql_spatial(b) => FieldType::Binary,
            _ => return None,
        })
    }
}
/// MySQL's and MariaDB's JSON reads for [`super::containment`]:
/// `JSON_TYPE` of `JSON_EXTRACT` at a path, `JSON_TABLE` rows of an
/// array's elements (`v`, JSON) or of an object's keys (`k`). Strings and
/// keys compare as bytes (cast to `BINARY`: the column's collation does
/// not apply, as `jsonb` compares them), numbers as numbers (`1` is
/// `1.0`).
struct MysqlJson;

impl MysqlJson {
    /// `JSON_EXTRACT(X, 'path')`.
    fn at(c: &mut Containment<'_>, t: &Target, path: &str) {
        match t {
            Target::Column(col) => c.push_arg("JSON_EXTRACT({}, ", col.clone()),
            Target::Each(alias) => c.sql.push_str(&format!("JSON_EXTRACT({alias}.v, ")),
        }
        c.push_arg("{})", Expr::val(path.to_string()));
    }

    fn names(kind: Kind) -> &'static str {
        match kind {
            Kind::Object => "'OBJECT'",
            Kind::Array => "'ARRAY'",
            Kind::Number => "'INTEGER', 'UNSIGNED INTEGER', 'DOUBLE', 'DECIMAL'",
            Kind::String => "'STRING'",
            Kind::True | Kind::False => "'BOOLEAN'",
            Kind::Null => "'NULL'",
        }
    }

    /// ` AND <value> = v`, the value read by `read` (its JSON). A number
    /// is cast only where the value is a number (`CASE`: a cast of another
    /// text, or out of range, would be a warning, an error in a strict
    /// write's filter): a plain integer of up to 20 digits as a decimal
    /// (exact), any other number as a double (never out of range); so `1`
    /// is `1.0`. Strings compare as bytes.
    fn equal(c: &mut Containment<'_>, read: &dyn Fn(&mut Containment<'_>), v: &serde_json::Value) {
        use serde_json::Value as J;
        match v {
            J::Number(n) => {
                let ty = |c: &mut Containment<'_>| {
                    c.sql.push_str("JSON_TYPE(");
                    read(c);
                    c.sql.push(')');
                };
                let text = |c: &mut Containment<'_>| {
                    c.sql.push_str("JSON_UNQUOTE(");
                    read(c);
                    c.sql.push(')');
                };
                // MariaDB calls `1e300` and 30 digits an INTEGER too:
                // only a plain integer's text is read as a decimal.
                c.sql.push_str(" AND CASE WHEN ");
                ty(c);
                c.sql.push_str(" IN ('INTEGER', 'UNSIGNED INTEGER') AND ");
                text(c);
                c.sql.push_str(" REGEXP '^-?[0-9]{1,20}$' THEN ");
                match (n.as_i64(), n.as_u64()) {
                    (Some(i), _) => {
                        c.sql.push_str("CAST(");
                        text(c);
                        c.push_arg(" AS DECIMAL(65,0)) = {}", Expr::val(i));
                    }
                    (None, Some(u)) => {
                        c.sql.push_str("CAST(");
                        text(c);
                        c.push_arg(" AS DECIMAL(65,0)) = {}", Expr::val(u));
                    }
                    // A fraction equals no integer; an integral double
                    // (`1e3`) as a double.
                    (None, None) => {
                        c.sql.push_str("CAST(");
                        text(c);
                        c.push_arg(
                            " AS DOUBLE) = {}",
                            Expr::val(n.as_f64().unwrap_or(f64::NAN)),
                        );
                    }
                }
                c.sql.push_str(" WHEN ");
                ty(c);
                c.sql.push_str(
                    " IN ('INTEGER', 'UNSIGNED INTEGER', 'DOUBLE', 'DECIMAL') THEN CAST(",
                );
                text(c);
                c.push_arg(
                    " AS DOUBLE) = {} END",
                    Expr::val(n.as_f64().unwrap_or(f64::NAN)),
                );
            }
            J::String(s) => {
                c.sql.push_str(" AND CAST(JSON_UNQUOTE(");
                read(c);
                c.push_arg(") AS BINARY) = CAST({} AS BINARY)", Expr::val(s.clone()));
            }
            J::Bool(b) => {
                c.sql.push_str(" AND JSON_UNQUOTE(");
                read(c);
                c.sql
                    .push_str(if *b { ") = 'true'" } else { ") = 'false'" });
            }
            J::Null | J::Array(_) | J::Object(_) => {}
        }
    }
}

impl JsonReads for MysqlJson {
    fn type_is(&self, c: &mut Containment<'_>, t: &Target, path: &str, kind: Kind) {
        c.sql.push_str("COALESCE(JSON_TYPE(");
        Self::at(c, t, path);
        c.sql.push_str(&format!(") IN ({}), 0)", Self::names(kind)));
    }

    fn equals(&self, c: &mut Containment<'_>, t: &Target, path: &str, v: &serde_json::Value) {
        Self::equal(c, &|c| Self::at(c, t, path), v);
    }

    fn element_is(&self, c: &mut Containment<'_>, alias: &str, kind: Kind) {
        c.sql.push_str(&format!(
            "COALESCE(JSON_TYPE({alias}.v) IN ({}), 0)",
            Self::names(kind)
        ));
    }

    fn element_equals(&self, c: &mut Containment<'_>, alias: &str, v: &serde_json::Value) {
        Self::equal(c, &|c| c.sql.push_str(&format!("{alias}.v")), v);
    }

    fn elements(&self, c: &mut Containment<'_>, t: &Target, path: &str, alias: &str) {
        c.sql.push_str("JSON_TABLE(");
        Self::at(c, t, path);
        c.sql
            .push_str(&format!(", '$[*]' COLUMNS (v JSON PATH '$')) AS {alias}"));
    }

    fn keys(&self, c: &mut Containment<'_>, t: &Target, path: &str, alias: &str) {
        c.sql.push_str("JSON_TABLE(JSON_KEYS(");
        Self::at(c, t, path);
        c.sql.push_str(&format!(
            "), '$[*]' COLUMNS (k LONGTEXT PATH '$')) AS {alias}"
        ));
    }

    fn key_is(&self, alias: &str) -> String {
        format!("CAST({alias}.k AS BINARY) = CAST({{}} AS BINARY)")
    }

    fn key_rows_have_values(&self) -> bool {
        false
    }

    fn escapes_path_keys(&self) -> bool {
        true
    }

    fn engine(&self) -> &'static str {
        "mysql"
    }
}
