//! PostgreSQL: `$n` marks, typed parameters with `CAST(… AS type)`, `ILIKE`,
//! `tsvector` full-text search, arrays, `jsonb` paths, identity columns,
//! named enum types, 63-byte identifiers.

use baas_core::ir::{ArrayOp, CompareOp, GroupValue, RangeOp, TextSyntax};
use baas_core::zone::Zone;
use baas_core::{Error, Field, FieldType, Result, Value};
use sea_query::extension::postgres::Type;
use sea_query::{
    ColumnType, Expr, PostgresQueryBuilder, QueryBuilder, SchemaName, TypeRef, Value as SqValue,
    Values,
};

use super::{AnyQuery, AnySchema, DecimalType, SqlDialect, push_quoted, zone_literal};
use crate::ddl::{At, Ddl, invalid, statement};
use crate::lower::Statement;
use crate::lower::iden;

/// Longest identifier PostgreSQL keeps (bytes; longer names are truncated).
const MAX_IDENT: usize = 63;

pub(crate) struct Postgres;

impl Postgres {
    /// `template` with each `{}` bound to `col` and the `KEYS` after it to
    /// the keys of `path` (`jsonb_extract_path(col, k1, k2)`).
    fn path_template(&self, template: &str, col: Expr, path: &[String]) -> Expr {
        let col = self.arrays_on_the_way(col, path);
        let marks = vec!["{}"; path.len()].join(", ");
        let mut args = Vec::new();
        for _ in 0..template.matches("{}").count() {
            args.push(col.clone());
            args.extend(path.iter().map(|k| Expr::val(k.clone())));
        }
        self.custom(&template.replace("KEYS", &marks), args)
    }

    /// `col`, or SQL NULL where an index step of `path` (`->0`, `->-1`)
    /// meets no array: `jsonb_extract_path` reads such a step as an
    /// object's key too (`{"0": 1}`), where PostgreSQL's `->` with an
    /// integer, which PostgREST writes, finds nothing.
    fn arrays_on_the_way(&self, col: Expr, path: &[String]) -> Expr {
        let mut conditions = Vec::new();
        let mut args = Vec::new();
        for (i, step) in path.iter().enumerate() {
            if !baas_core::ir::is_array_step(step) {
                continue;
            }
            let marks = vec!["{}"; i].join(", ");
            conditions.push(if i == 0 {
                "jsonb_typeof(CAST({} AS jsonb)) = 'array'".to_string()
            } else {
                format!("jsonb_typeof(jsonb_extract_path(CAST({{}} AS jsonb), {marks})) = 'array'")
            });
            args.push(col.clone());
            args.extend(path[..i].iter().map(|k| Expr::val(k.clone())));
        }
        if conditions.is_empty() {
            return col;
        }
        args.push(col);
        self.custom(
            &format!("CASE WHEN {} THEN {{}} END", conditions.join(" AND ")),
            args,
        )
    }
}

impl SqlDialect for Postgres {
    fn name(&self) -> &'static str {
        "postgres"
    }

    fn build(&self, q: AnyQuery<'_>) -> (String, Values) {
        q.build_with(PostgresQueryBuilder)
    }

    fn build_schema(&self, s: AnySchema<'_>) -> String {
        s.build_with(PostgresQueryBuilder)
    }

    fn placeholder(&self) -> (&'static str, bool) {
        PostgresQueryBuilder.placeholder()
    }

    fn bind_array(&self, ty: &FieldType, item_ty: &FieldType, items: &[Value]) -> Result<Expr> {
        // One text parameter in array-literal syntax, cast to the array
        // type: `CAST($1 AS text[])` with `{"a","b"}`.
        let cast = pg_cast(ty).ok_or_else(|| self.unsupported("arrays of this type"))?;
        let literal = array_literal(items, item_ty)?;
        Ok(self.custom(
            &format!("CAST({{}} AS {cast})"),
            vec![Expr::val(SqValue::String(Some(literal)))],
        ))
    }

    /// Text parameters of other types are cast (`CAST($1 AS numeric)`);
    /// UUIDs and chrono values are sent typed.
    fn cast(&self, ty: &FieldType, raw: SqValue) -> Expr {
        match pg_cast(ty) {
            Some(cast) if !matches!(raw, SqValue::Uuid(_)) && !is_chrono(&raw) => {
                self.custom(&format!("CAST({{}} AS {cast})"), vec![Expr::val(raw)])
            }
            _ => Expr::val(raw),
        }
    }

    /// Enum types have no text operators.
    fn as_text(&self, col: Expr, ty: &FieldType) -> Expr {
        match ty {
            FieldType::Enum { name: Some(_), .. } => self.custom("CAST({} AS text)", vec![col]),
            _ => col,
        }
    }

    fn like_template(&self, case_insensitive: bool) -> &'static str {
        if case_insensitive {
            "{} ILIKE {} ESCAPE '\\'"
        } else {
            "{} LIKE {} ESCAPE '\\'"
        }
    }

    /// POSIX `~` / `~*` (advanced regular expressions).
    fn regex(&self, col: Expr, pattern: &str, case_insensitive: bool) -> Result<Expr> {
        let op = if case_insensitive {
            "{} ~* {}"
        } else {
            "{} ~ {}"
        };
        Ok(self.custom(op, vec![col, Expr::val(pattern.to_string())]))
    }

    /// `to_tsvector(lang, col)` searched like a tsvector column.
    fn text_search(
        &self,
        col: Expr,
        query: &str,
        language: Option<&str>,
        syntax: TextSyntax,
    ) -> Result<Expr> {
        // Without a language, the database's `default_text_search_config`,
        // as PostgREST (and so supabase-js's `.textSearch(col, q)`).
        let vector = match language {
            Some(lang) => self.custom(
                "to_tsvector(CAST({} AS regconfig), {})",
                vec![Expr::val(lang.to_string()), col],
            ),
            None => self.custom("to_tsvector({})", vec![col]),
        };
        self.text_search_vector(vector, query, language, syntax)
    }

    fn text_search_document(
        &self,
        doc: Expr,
        query: &str,
        language: Option<&str>,
        syntax: TextSyntax,
    ) -> Result<Expr> {
        self.text_search(doc, query, language, syntax)
    }

    fn cast_text(&self, col: Expr, ty: &str) -> Result<Expr> {
        Ok(Expr::cust_with_expr(
            format!("CAST(CAST($1 AS {}) AS text)", quote(ty)),
            col,
        ))
    }

    fn cast_json(&self, col: Expr, ty: &str) -> Result<Expr> {
        Ok(Expr::cust_with_expr(
            format!("to_json(CAST($1 AS {}))", quote(ty)),
            col,
        ))
    }

    fn text_search_vector(
        &self,
        vector: Expr,
        query: &str,
        language: Option<&str>,
        syntax: TextSyntax,
    ) -> Result<Expr> {
        let function = tsquery_function(syntax);
        Ok(match language {
            Some(lang) => self.custom(
                &format!("{{}} @@ {function}(CAST({{}} AS regconfig), {{}})"),
                vec![
                    vector,
                    Expr::val(lang.to_string()),
                    Expr::val(query.to_string()),
                ],
            ),
            None => self.custom(
                &format!("{{}} @@ {function}({{}})"),
                vec![vector, Expr::val(query.to_string())],
            ),
        })
    }

    fn range_operator(&self, op: RangeOp) -> Option<&'static str> {
        Some(match op {
            RangeOp::StrictlyLeft => "{} << {}",
            RangeOp::StrictlyRight => "{} >> {}",
            RangeOp::NotExtendRight => "{} &< {}",
            RangeOp::NotExtendLeft => "{} &> {}",
            RangeOp::Adjacent => "{} -|- {}",
            RangeOp::Contains => "{} @> {}",
            RangeOp::ContainedBy => "{} <@ {}",
            RangeOp::Overlaps => "{} && {}",
        })
    }

    fn array_operator(&self, op: ArrayOp) -> Option<&'static str> {
        Some(match op {
            ArrayOp::Contains => "{} @> {}",
            ArrayOp::ContainedBy => "{} <@ {}",
            ArrayOp::Overlaps => "{} && {}",
        })
    }

    /// `jsonb`'s own comparison.
    fn json_path_compare(
        &self,
        col: Expr,
        path: &[String],
        op: CompareOp,
        operand: &serde_json::Value,
    ) -> Result<Expr> {
        Ok(self.custom(
            &format!("{{}} {} CAST({{}} AS jsonb)", super::op_symbol(op)),
            vec![self.json_at(col, path)?, Expr::val(operand.to_string())],
        ))
    }

    fn json_at(&self, col: Expr, path: &[String]) -> Result<Expr> {
        Ok(self.path_template("jsonb_extract_path(CAST({} AS jsonb), KEYS)", col, path))
    }

    fn json_scalar_text_at(&self, col: Expr, path: &[String]) -> Result<Expr> {
        Ok(self.path_template(
            "CASE WHEN jsonb_typeof(jsonb_extract_path(CAST({} AS jsonb), KEYS)) IN ('string', 'number', 'boolean') THEN jsonb_extract_path_text(CAST({} AS jsonb), KEYS) END",
            col,
            path,
        ))
    }

    fn json_null_at(&self, col: Expr, path: &[String], missing_only: bool) -> Result<Expr> {
        // The text of JSON null is SQL NULL, as is a missing key's; the
        // value itself (`->`) is SQL NULL only where it is missing.
        let template = if missing_only {
            "jsonb_extract_path(CAST({} AS jsonb), KEYS) IS NULL"
        } else {
            "jsonb_extract_path_text(CAST({} AS jsonb), KEYS) IS NULL"
        };
        Ok(self.path_template(template, col, path))
    }

    fn call_form(&self) -> Option<super::CallForm> {
        Some(super::CallForm::Named)
    }

    /// `jsonb`'s own `=`.
    fn json_equals(&self, col: Expr, value: &serde_json::Value) -> Result<Expr> {
        Ok(self.custom(
            "CAST({} AS jsonb) = CAST({} AS jsonb)",
            vec![col, Expr::val(value.to_string())],
        ))
    }

    /// `jsonb`'s own `@>` / `<@`.
    fn json_contains(
        &self,
        col: Expr,
        value: &serde_json::Value,
        contained_by: bool,
    ) -> Result<Expr> {
        let op = if contained_by { "<@" } else { "@>" };
        Ok(self.custom(
            &format!("CAST({{}} AS jsonb) {op} CAST({{}} AS jsonb)"),
            vec![col, Expr::val(value.to_string())],
        ))
    }

    /// `jsonb`'s own order (PostgREST's `order=data->a`), or the text of
    /// `->>`.
    fn json_order(&self, col: Expr, path: &[String], text: bool) -> Result<Vec<Expr>> {
        let marks = vec!["{}"; path.len()].join(", ");
        let f = if text {
            "jsonb_extract_path_text"
        } else {
            "jsonb_extract_path"
        };
        let mut args = vec![self.arrays_on_the_way(col, path)];
        args.extend(path.iter().map(|k| Expr::val(k.clone())));
        Ok(vec![self.custom(
            &format!("{f}(CAST({{}} AS jsonb), {marks})"),
            args,
        )])
    }

    fn avg(&self) -> &'static str {
        "CAST(AVG({}) AS double precision)"
    }

    /// `jsonb`: equal as JSON (`1` and `1.0` are one value, keys in any order).
    fn json_group(&self, col: Expr, path: &[String]) -> Result<Expr> {
        Ok(self.custom(
            "NULLIF({}, CAST('null' AS jsonb))",
            vec![self.json_at(col, path)?],
        ))
    }

    /// PostgreSQL's own cast, from the allow-listed names (another valid
    /// type name: the cast value's text); a timestamp
    /// with an offset is taken in `zone` first, UTC without one (the
    /// date, time or timestamp the select's cast shows).
    fn group_cast(&self, col: Expr, ty: &FieldType, to: &str, zone: Option<Zone>) -> Result<Expr> {
        let Some(to) = GroupValue::CAST_TYPES.iter().find(|t| **t == to) else {
            // Another type: its text, as a select's cast shows it.
            if !baas_core::ir::FieldCast::valid_type_name(to) {
                return Err(self.unsupported(&format!("grouping by a cast to {to}")));
            }
            return self.cast_text(col, to);
        };
        let local = *ty == FieldType::TimestampTz && matches!(*to, "date" | "time" | "timestamp");
        let template = if local {
            format!("CAST(({{}} AT TIME ZONE '{}') AS {to})", zone_literal(zone))
        } else {
            format!("CAST({{}} AS {to})")
        };
        Ok(self.custom(&template, vec![col]))
    }

    /// `jsonb` sorts as the IR orders JSON values.
    fn json_group_order(&self, grouped: Expr) -> Result<Vec<Expr>> {
        Ok(vec![grouped])
    }

    fn date_in_zone(&self, col: Expr, zone: Zone) -> Result<Expr> {
        let template = format!(
            "CAST(({{}} AT TIME ZONE '{}') AS date)",
            zone_literal(Some(zone))
        );
        Ok(self.custom(&template, vec![col]))
    }

    fn date_of(&self, col: Expr, ty: &FieldType) -> Expr {
        match ty {
            FieldType::TimestampTz => {
                self.custom("CAST(({} AT TIME ZONE 'UTC') AS date)", vec![col])
            }
            _ => self.custom("CAST({} AS date)", vec![col]),
        }
    }

    /// A `numeric`'s cast rounds half away from zero; a double's would
    /// round half to even, so it goes through `numeric`.
    fn rounded(&self, col: Expr, ty: &FieldType) -> Expr {
        match ty {
            FieldType::Float32 | FieldType::Float64 => {
                self.custom("CAST(ROUND(CAST({} AS numeric)) AS bigint)", vec![col])
            }
            _ => self.custom("CAST({} AS bigint)", vec![col]),
        }
    }

    fn identifier_length(&self, name: &str) -> Option<(usize, usize, &'static str)> {
        Some((name.len(), MAX_IDENT, "bytes"))
    }

    /// sea-query writes `… GENERATED BY DEFAULT AS IDENTITY` for these.
    fn identity_column(&self, ty: &FieldType) -> Option<ColumnType> {
        Some(match ty {
            FieldType::Int16 => ColumnType::SmallInteger,
            FieldType::Int32 => ColumnType::Integer,
            _ => ColumnType::BigInteger,
        })
    }

    fn decimal(&self) -> DecimalType {
        DecimalType {
            name: "numeric",
            max_precision: 1000,
            max_scale: 1000,
            unbounded: true,
        }
    }

    fn column_type_name(
        &self,
        ddl: &Ddl<'_>,
        ty: &FieldType,
        max_length: Option<u32>,
        _auto: bool,
        at: &At,
    ) -> Result<Option<String>> {
        let ty_at = at.at("type");
        Ok(Some(match ty {
            FieldType::Text => match max_length {
                Some(n) => format!("varchar({n})"),
                None => "text".into(),
            },
            FieldType::Int16 => "smallint".into(),
            FieldType::Int32 => "integer".into(),
            FieldType::Int64 => "bigint".into(),
            FieldType::Float32 => "real".into(),
            FieldType::Float64 => "double precision".into(),
            FieldType::Boolean => "boolean".into(),
            FieldType::Date => "date".into(),
            FieldType::Time => "time".into(),
            FieldType::Timestamp => "timestamp".into(),
            FieldType::TimestampTz => "timestamptz".into(),
            FieldType::Uuid => "uuid".into(),
            FieldType::Json => "jsonb".into(),
            FieldType::Binary => "bytea".into(),
            FieldType::Array { items } => {
                let item_at = At(format!("{ty_at}/items"));
                match items.as_ref() {
                    FieldType::Array { .. } => {
                        return Err(self.unsupported("nested arrays"));
                    }
                    FieldType::Enum { name: None, .. } => {
                        return Err(invalid(
                            format!("{ty_at}/items/name"),
                            "an array of enums needs a named (PostgreSQL) enum type",
                        ));
                    }
                    other => format!("{}[]", ddl.type_name(other, None, false, &item_at)?),
                }
            }
            FieldType::Enum { name: Some(n), .. } => {
                let (schema, name) = type_name(ddl, n, &format!("{ty_at}/name"))?;
                match schema {
                    Some(s) => format!("\"{s}\".\"{name}\""),
                    None => format!("\"{name}\""),
                }
            }
            // Unnamed: text with a CHECK constraint.
            FieldType::Enum { name: None, .. } => "text".into(),
            _ => return Ok(None),
        }))
    }

    /// Named enums are types; unnamed ones are text with a check.
    fn enum_as_checked_text(&self, named: bool) -> bool {
        !named
    }

    /// `CREATE TYPE … AS ENUM` for the named enums `fields` use, once per type.
    fn create_types(&self, ddl: &Ddl<'_>, fields: &[(&Field, At)]) -> Result<Vec<Statement>> {
        let mut seen: Vec<(&str, &[String])> = Vec::new();
        let mut out = Vec::new();
        for (f, at) in fields {
            let ty = match &f.ty {
                FieldType::Array { items } => items.as_ref(),
                t => t,
            };
            let FieldType::Enum {
                name: Some(n),
                values,
            } = ty
            else {
                continue;
            };
            if let Some((_, v)) = seen.iter().find(|(s, _)| s == n) {
                if *v != values.as_slice() {
                    return Err(invalid(
                        at.at("type/values"),
                        format!("enum type `{n}` is used with two different value lists"),
                    ));
                }
                continue;
            }
            seen.push((n, values));
            let (schema, name) = type_name(ddl, n, &at.at("type/name"))?;
            let type_ref = TypeRef(schema.map(|s| SchemaName(None, iden(s))), iden(name));
            let stmt = Type::create()
                .as_enum(type_ref)
                .values(values.iter().map(|v| iden(v)))
                .to_owned();
            out.push(statement(stmt.to_string(PostgresQueryBuilder)));
        }
        Ok(out)
    }

    /// Unnamed enums read back as `text`; a named enum loses its schema
    /// prefix.
    fn introspected_type(
        &self,
        ty: &FieldType,
        _max_length: &mut Option<u32>,
    ) -> Option<FieldType> {
        Some(match ty {
            FieldType::Enum { name: None, .. } => FieldType::Text,
            FieldType::Enum {
                name: Some(n),
                values,
            } => FieldType::Enum {
                name: Some(n.rsplit('.').next().unwrap_or(n).to_string()),
                values: values.clone(),
            },
            FieldType::Array { items } => FieldType::Array {
                items: Box::new(crate::ddl::introspected_type(
                    super::Dialect::Postgres,
                    items,
                    &mut None,
                )),
            },
            _ => return None,
        })
    }

    /// `_int4`: the catalog's name of `int4[]`.
    fn udt_array_item<'a>(&self, declared: &'a str) -> Option<&'a str> {
        if declared.starts_with('_') && declared.len() > 1 {
            Some(&declared[1..])
        } else {
            None
        }
    }

    /// Tables outside `public` are `<schema>_<table>`.
    fn entity_name(&self, schema: Option<&str>, table: &str) -> String {
        match schema {
            Some(s) if s != "public" => format!("{s}_{table}"),
            _ => table.to_string(),
        }
    }
}

/// The function that reads a query written in `syntax` (PostgREST's `fts`,
/// `plfts`, `phfts`, `wfts`).
fn tsquery_function(syntax: TextSyntax) -> &'static str {
    match syntax {
        TextSyntax::Words | TextSyntax::Plain => "plainto_tsquery",
        TextSyntax::TsQuery => "to_tsquery",
        TextSyntax::Phrase => "phraseto_tsquery",
        TextSyntax::Web => "websearch_to_tsquery",
    }
}

/// PostgreSQL type name for casts of bound text (`None` = no cast needed).
fn pg_cast(ty: &FieldType) -> Option<String> {
    Some(match ty {
        FieldType::Decimal { .. } => "numeric".into(),
        FieldType::Date => "date".into(),
        FieldType::Time => "time".into(),
        FieldType::Timestamp => "timestamp".into(),
        FieldType::TimestampTz => "timestamptz".into(),
        FieldType::Uuid => "uuid".into(),
        FieldType::Json => "jsonb".into(),
        // Braces would collide with the custom-expression markers; such a
        // type name is refused by metadata validation anyway.
        FieldType::Enum { name: Some(n), .. } if !n.contains(['{', '}']) => quote_type(n),
        FieldType::Array { items } => format!("{}[]", elem_type(items)?),
        _ => return None,
    })
}

fn elem_type(ty: &FieldType) -> Option<String> {
    Some(match ty {
        FieldType::Text | FieldType::ObjectId | FieldType::Enum { name: None, .. } => "text".into(),
        FieldType::Int16 => "int2".into(),
        FieldType::Int32 => "int4".into(),
        FieldType::Int64 => "int8".into(),
        FieldType::Float32 => "float4".into(),
        FieldType::Float64 => "float8".into(),
        FieldType::Boolean => "bool".into(),
        FieldType::Binary => "bytea".into(),
        FieldType::Array { .. } => return None,
        other => pg_cast(other)?,
    })
}

/// Quote a (possibly schema-qualified, `schema.name`) type name.
fn quote_type(n: &str) -> String {
    n.split('.')
        .map(|p| format!("\"{}\"", p.replace('"', "\"\"")))
        .collect::<Vec<_>>()
        .join(".")
}

/// A PostgreSQL identifier, quoted (`"a""b"`).
pub(crate) fn quote(ident: &str) -> String {
    format!("\"{}\"", ident.replace('"', "\"\""))
}

fn is_chrono(v: &SqValue) -> bool {
    matches!(
        v,
        SqValue::ChronoDate(_)
            | SqValue::ChronoTime(_)
            | SqValue::ChronoDateTime(_)
            | SqValue::ChronoDateTimeUtc(_)
    )
}

/// An array literal (`{"a","b",NULL}`) of already-typed items.
fn array_literal(items: &[Value], item_ty: &FieldType) -> Result<String> {
    let mut out = String::from("{");
    for (i, v) in items.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        // A sub-array of a multi-dimensional value (`{{1,2},{3,4}}`).
        if let Value::Array(sub) = v
            && v.is_sub_array(item_ty)
        {
            out.push_str(&array_literal(sub, item_ty)?);
            continue;
        }
        let v = v
            .coerce(item_ty)
            .map_err(|m| Error::validation("", format!("array item {i}: {m}")))?;
        let text = match &v {
            Value::Null => {
                out.push_str("NULL");
                continue;
            }
            Value::Bytes(b) => {
                let mut h = String::from("\\x");
                for byte in b {
                    h.push_str(&format!("{byte:02x}"));
                }
                h
            }
            other => match other.to_json() {
                serde_json::Value::String(s) => s,
                j => j.to_string(),
            },
        };
        push_quoted(&mut out, &text);
    }
    out.push('}');
    Ok(out)
}

/// `schema.name` or `name` of an enum type, checked.
fn type_name<'n>(ddl: &Ddl<'_>, n: &'n str, pointer: &str) -> Result<(Option<&'n str>, &'n str)> {
    let (schema, name) = match n.split_once('.') {
        Some((s, t)) => (Some(s), t),
        None => (None, n),
    };
    if let Some(s) = schema {
        ddl.ident(s, pointer)?;
    }
    ddl.ident(name, pointer)?;
    if name.contains('.') {
        return Err(invalid(
            pointer,
            format!("type name `{n}` has too many dots"),
        ));
    }
    Ok((schema, name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn array_literals_quote_items() {
        let t = FieldType::Text;
        let items = vec![Value::from("a\"b"), Value::Null, Value::from("c\\d,{}")];
        assert_eq!(
            array_literal(&items, &t).unwrap(),
            r#"{"a\"b",NULL,"c\\d,{}"}"#
        );
        assert_eq!(array_literal(&[], &t).unwrap(), "{}");
        let rows = vec![
            Value::Array(vec![Value::from(1i64), Value::Null]),
            Value::Array(vec![Value::from(3i64), Value::from(4i64)]),
        ];
        assert_eq!(
            array_literal(&rows, &FieldType::Int32).unwrap(),
            r#"{{"1",NULL},{"3","4"}}"#
        );
    }
}
