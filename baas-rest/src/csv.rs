//! `text/csv` answers: each value in PostgreSQL's text output of its type,
//! as PostgREST prints it (the database writes its CSV), from the JSON
//! every engine answers alike: so the CSV is the same on every engine.
//!
//! | value | JSON answer | CSV field |
//! | --- | --- | --- |
//! | `boolean` | `true` | `t` |
//! | `timestamp` | `2021-01-01T10:00:00` | `2021-01-01 10:00:00` |
//! | `timestamptz` | `2021-01-01T10:00:00+00:00` | `2021-01-01 10:00:00+00` (`+05:30` stays) |
//! | `float8` / `float4` | `1e20`, `1.0` | `1e+20`, `1` (PostgreSQL's shortest digits: exponent form from 10^15, 10^6 for `float4`, and below 10^-4) |
//! | `jsonb` | `{"a":[1,2]}` | `{"a": [1, 2]}` (`jsonb`'s text; a string keeps its quotes) |
//! | array | `["a b",null,""]` | `{"a b",NULL,""}` (PostgreSQL's array text: elements quoted when empty, `NULL`, or holding `{` `}` `,` `"` `\` or white space, `"` and `\` escaped by `\`) |
//! | composite field | `{"city":"Paris","zip":75001}` | `(Paris,75001)` (a record's text) |
//! | to-one embedding | `{"id":1,"ok":true}` | `{"id":1,"ok":true}` (`row_to_json`: compact, values as `to_json` writes them) |
//! | to-many embedding | `[{"id":1},{"id":2}]` | `[{"id":1}, ⏎ {"id":2}]` (`json_agg`'s text) |
//! | to-many spread's values | `[1,2]` | `[1, 2]` (`json_agg`'s text) |
//! | other values | text, numbers, dates, UUIDs, decimals, `bytea`'s `\x…`, types without a mapping | as they are |
//!
//! Then each field is quoted as RFC 4180 says.

use baas_core::FieldType;
use baas_core::ir::GroupValue;
use serde_json::Value as J;

use crate::RestError;
use crate::params::{Cast, Node, Shape};

/// How the values under one key of an answer are written: the text
/// output of their PostgreSQL type.
#[derive(Debug, Clone, PartialEq)]
pub enum CsvForm {
    /// Strings as they are, numbers as their JSON text; a boolean `t`/`f`,
    /// an array PostgreSQL's array text of such values, an object its JSON
    /// (a value whose type is not known: an aggregate's, a database cast's).
    Plain,
    /// `boolean`: `t` / `f`.
    Bool,
    /// `timestamp`: a space between the date and the time.
    Timestamp,
    /// `timestamptz`: a space, and the offset's zero minutes left out.
    TimestampTz,
    /// `float8` (`true`) or `float4`: PostgreSQL's shortest digits.
    Float(bool),
    /// `jsonb`: its text (`, ` and `: ` between items).
    Json,
    /// An array of the form's values.
    Array(Box<CsvForm>),
    /// A composite field (or an array of them): a record's text.
    Composite,
    /// A to-one embedding: `row_to_json` of its columns.
    Row(CsvColumns),
    /// A to-many embedding: `json_agg` of its rows.
    Rows(CsvColumns),
    /// A to-many spread's field: `json_agg` of its values.
    Values(Box<CsvForm>),
}

/// The forms of an answer's keys ([`CsvForm`]); a key not listed is
/// [`CsvForm::Plain`].
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CsvColumns(Vec<(String, CsvForm)>);

impl CsvColumns {
    fn set(&mut self, key: &str, form: CsvForm) {
        match self.0.iter_mut().find(|(k, _)| k == key) {
            Some(slot) => slot.1 = form,
            None => self.0.push((key.to_string(), form)),
        }
    }

    fn get(&self, key: &str) -> &CsvForm {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map_or(&CsvForm::Plain, |(_, f)| f)
    }

    /// The forms of what `node` answers (its fields, casts, paths,
    /// aggregates, embeddings and spreads), under their output keys.
    pub(crate) fn of(node: &Node<'_>) -> Self {
        let mut out = Self::default();
        let entity = node.entity;
        if node.star {
            for f in entity.fields.iter().filter(|f| f.computed.is_none()) {
                out.set(&f.name, field_form(f));
            }
        }
        // Beside aggregates, the engine answers a `->` path's value as it
        // groups it (the shape keeps only its cast).
        let grouped_json = |key: &str, field: &str| {
            let answer = node
                .answers
                .iter()
                .find(|(o, _)| o == key)
                .map_or(field, |(_, a)| a.as_str());
            node.grouped
                .iter()
                .any(|g| g.key() == answer && matches!(g, GroupValue::Json { text: false, .. }))
        };
        for (key, field) in &node.outputs {
            let shape = node.shapes.iter().find(|(k, _)| k == key).map(|(_, s)| s);
            let form = match shape {
                Some(s) if s.cast.is_none() && grouped_json(key, field) => CsvForm::Json,
                Some(s) => shape_form(s),
                None if node.sql_casts.iter().any(|(k, _)| k == key) => CsvForm::Plain,
                None => entity.field(field).map_or(CsvForm::Plain, field_form),
            };
            out.set(key, form);
        }
        for (key, _) in &node.sql_casts {
            if !out.0.iter().any(|(k, _)| k == key) {
                out.set(key, CsvForm::Plain);
            }
        }
        for a in &node.aggregates {
            // A cast of the result (`total.sum()::text`) is its type.
            let form = match node
                .shapes
                .iter()
                .find(|(k, s)| *k == a.alias && s.cast.is_some())
            {
                Some((_, s)) => shape_form(s),
                None => type_form(&a.result_type_over(entity)),
            };
            out.set(&a.alias, form);
        }
        for a in &node.raised {
            out.set(&a.alias, CsvForm::Plain);
        }
        for c in node.children.iter().filter(|c| c.output) {
            let inner = Self::of(c);
            match c.spread {
                Some(false) => inner.0.into_iter().for_each(|(k, f)| out.set(&k, f)),
                // Its fields list every related row's value; its
                // aggregates (`...rel(count())`) join as one value each.
                Some(true) => inner.0.into_iter().for_each(|(k, f)| {
                    if c.lifts() && c.aggregates.iter().any(|a| a.alias == k) {
                        out.set(&k, f);
                    } else {
                        out.set(&k, CsvForm::Values(Box::new(f)));
                    }
                }),
                None if c.to_many => out.set(&c.key, CsvForm::Rows(inner)),
                None => out.set(&c.key, CsvForm::Row(inner)),
            }
        }
        out
    }
}

fn field_form(f: &baas_core::Field) -> CsvForm {
    if f.is_composite() {
        CsvForm::Composite
    } else if f.is_geometry() {
        CsvForm::Plain
    } else {
        type_form(&f.ty)
    }
}

fn type_form(ty: &FieldType) -> CsvForm {
    match ty {
        FieldType::Boolean => CsvForm::Bool,
        FieldType::Timestamp => CsvForm::Timestamp,
        FieldType::TimestampTz => CsvForm::TimestampTz,
        FieldType::Float64 => CsvForm::Float(true),
        FieldType::Float32 => CsvForm::Float(false),
        FieldType::Json => CsvForm::Json,
        FieldType::Array { items } => CsvForm::Array(Box::new(type_form(items))),
        _ => CsvForm::Plain,
    }
}

/// A path's value (`->`: JSON, `->>`: text), then its cast's type.
fn shape_form(s: &Shape) -> CsvForm {
    match s.cast.as_deref().map(Cast::parse) {
        Some(Some(Cast::Bool)) => CsvForm::Bool,
        Some(Some(Cast::Float(double))) => CsvForm::Float(double),
        Some(Some(Cast::Json)) => CsvForm::Json,
        Some(Some(Cast::Timestamp)) => CsvForm::Timestamp,
        Some(Some(Cast::TimestampTz)) => CsvForm::TimestampTz,
        Some(_) => CsvForm::Plain,
        None if !s.path.is_empty() && !s.text => CsvForm::Json,
        None => CsvForm::Plain,
    }
}

/// One CSV field (RFC 4180): quoted when it holds `,` `"` CR or LF, or is
/// an empty string (so that it differs from null, which is nothing at
/// all); quotes inside are doubled.
pub(crate) fn quote(text: &str, out: &mut String) {
    if text.is_empty() || text.contains([',', '"', '\r', '\n']) {
        out.push('"');
        out.push_str(&text.replace('"', "\"\""));
        out.push('"');
    } else {
        out.push_str(text);
    }
}

/// `text/csv` as PostgREST writes it: a header line of the first row's
/// keys, then one line per row, `\n` between lines and none at the end
/// (no rows: an empty header line, `"\n"`); each value its PostgreSQL text
/// ([`CsvForm`], by `columns`), null nothing. A body over `max` bytes is a
/// 400 `limit_exceeded`, found while writing.
pub(crate) fn body_within(
    rows: &[serde_json::Map<String, J>],
    columns: Option<&CsvColumns>,
    max: u64,
) -> Result<Vec<u8>, RestError> {
    let too_big = || {
        RestError::new(
            400,
            "limit_exceeded",
            format!("the response would be larger than {max} bytes"),
        )
        .with_details(format!("limit `max_response_bytes` = {max}"))
    };
    let plain = CsvColumns::default();
    let columns = columns.unwrap_or(&plain);
    let keys: Vec<&String> = rows.first().map(|r| r.keys().collect()).unwrap_or_default();
    let forms: Vec<&CsvForm> = keys.iter().map(|k| columns.get(k)).collect();
    let mut out = String::new();
    for (i, k) in keys.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        quote(k, &mut out);
    }
    out.push('\n');
    let mut field = String::new();
    for (n, row) in rows.iter().enumerate() {
        if n > 0 {
            out.push('\n');
        }
        for (i, (k, form)) in keys.iter().zip(&forms).enumerate() {
            if i > 0 {
                out.push(',');
            }
            if let Some(v) = row.get(*k).filter(|v| !v.is_null()) {
                field.clear();
                text(form, v, &mut field);
                quote(&field, &mut out);
            }
        }
        if out.len() as u64 > max {
            return Err(too_big());
        }
    }
    if out.len() as u64 > max {
        return Err(too_big());
    }
    Ok(out.into_bytes())
}

/// PostgreSQL's text output of `v` (not null) of `form`.
fn text(form: &CsvForm, v: &J, out: &mut String) {
    match (form, v) {
        (_, J::Null) => {}
        (CsvForm::Bool | CsvForm::Plain, J::Bool(b)) => out.push(if *b { 't' } else { 'f' }),
        (CsvForm::Timestamp, J::String(s)) => out.push_str(&s.replacen('T', " ", 1)),
        (CsvForm::TimestampTz, J::String(s)) => out.push_str(&instant_text(s)),
        (CsvForm::Float(double), J::Number(n)) => float_text(&n.to_string(), *double, out),
        (CsvForm::Json, v) => jsonb_text(v, out),
        (CsvForm::Array(item), J::Array(items)) => array_text(items, item, out),
        (CsvForm::Composite | CsvForm::Plain, J::Array(items)) => array_text(items, form, out),
        (CsvForm::Composite, J::Object(o)) => record_text(o, out),
        (CsvForm::Row(_) | CsvForm::Rows(_) | CsvForm::Values(_), v) => json_text(form, v, out),
        (_, J::String(s)) => out.push_str(s),
        (_, other) => out.push_str(&other.to_string()),
    }
}

/// `2021-01-01T10:00:00+05:00` as PostgreSQL writes it:
/// `2021-01-01 10:00:00+05` (`+05:30` and `+00:53:28` keep their minutes).
fn instant_text(s: &str) -> String {
    let mut t = s.replacen('T', " ", 1);
    // The offset: the last `+`/`-` after the time.
    let Some(at) = t.rfind(['+', '-']).filter(|&i| i > 10) else {
        return t;
    };
    while t.len() > at + 3 && (t.ends_with(":00")) {
        t.truncate(t.len() - 3);
    }
    t
}

/// A float's JSON text (`1.0`, `1e20`, `1.5e-5`) as PostgreSQL's
/// `float8out` / `float4out` writes it: the shortest digits (the JSON
/// text's, already shortest), in exponent form (`1e+20`, `1.5e-05`) when
/// the exponent is below -4 or at least 15 (6 for `float4`), else plain
/// (`1`, `0.0001`, `123456789012345.6`).
fn float_text(json: &str, double: bool, out: &mut String) {
    let (negative, unsigned) = match json.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, json),
    };
    let (mantissa, exponent) = match unsigned.split_once(['e', 'E']) {
        Some((m, e)) => (m, e.parse::<i64>().unwrap_or(0)),
        None => (unsigned, 0),
    };
    if !mantissa.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        // Not a number's text: as it is.
        out.push_str(json);
        return;
    }
    let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let all = format!("{int}{frac}");
    // The point sits after `point` digits of `all`.
    let mut point = int.len() as i64 + exponent;
    let lead = all.len() - all.trim_start_matches('0').len();
    point -= lead as i64;
    let digits = all[lead..].trim_end_matches('0');
    if negative {
        out.push('-');
    }
    if digits.is_empty() {
        out.push('0');
        return;
    }
    let e10 = point - 1;
    let limit = if double { 15 } else { 6 };
    if e10 < -4 || e10 >= limit {
        out.push_str(&digits[..1]);
        if digits.len() > 1 {
            out.push('.');
            out.push_str(&digits[1..]);
        }
        out.push('e');
        out.push(if e10 < 0 { '-' } else { '+' });
        let e = e10.unsigned_abs();
        if e < 10 {
            out.push('0');
        }
        out.push_str(&e.to_string());
    } else if point <= 0 {
        out.push_str("0.");
        out.extend(std::iter::repeat_n('0', point.unsigned_abs() as usize));
        out.push_str(digits);
    } else {
        let point = point as usize;
        if digits.len() <= point {
            out.push_str(digits);
            out.extend(std::iter::repeat_n('0', point - digits.len()));
        } else {
            out.push_str(&digits[..point]);
            out.push('.');
            out.push_str(&digits[point..]);
        }
    }
}

/// `jsonb`'s text: `{"a": 1, "b": [1, 2]}`.
fn jsonb_text(v: &J, out: &mut String) {
    match v {
        J::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                jsonb_text(item, out);
            }
            out.push(']');
        }
        J::Object(o) => {
            // `jsonb` keeps its keys shorter first, then by their bytes.
            let mut pairs: Vec<(&String, &J)> = o.iter().collect();
            pairs.sort_by(|(a, _), (b, _)| a.len().cmp(&b.len()).then_with(|| a.cmp(b)));
            out.push('{');
            for (i, (k, item)) in pairs.into_iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                out.push_str(&J::from(k.as_str()).to_string());
                out.push_str(": ");
                jsonb_text(item, out);
            }
            out.push('}');
        }
        J::Number(n) => numeric_text(&n.to_string(), out),
        other => out.push_str(&other.to_string()),
    }
}

/// A JSON number as `jsonb` keeps it, a `numeric`: its digits without an
/// exponent, the fraction's digits as written (`1e20` is
/// `100000000000000000000`, `1.50` stays, `1.5e-7` is `0.00000015`,
/// `2.50E1` is `25.0`).
fn numeric_text(json: &str, out: &mut String) {
    let Some((mantissa, exponent)) = json.split_once(['e', 'E']) else {
        out.push_str(json);
        return;
    };
    let Ok(exponent) = exponent.parse::<i64>() else {
        out.push_str(json);
        return;
    };
    let (negative, mantissa) = match mantissa.strip_prefix('-') {
        Some(m) => (true, m),
        None => (false, mantissa),
    };
    let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let digits = format!("{int}{frac}");
    // The point after `point` digits; `scale` digits after it.
    let point = int.len() as i64 + exponent;
    let scale = (frac.len() as i64 - exponent).max(0);
    // Bounded by JSON's own numbers (a double's exponent, or a decimal's
    // at most 1000: `MAX_DECIMAL_EXPONENT`); past that, as written.
    if point.abs() > 2000 || scale > 2000 {
        out.push_str(json);
        return;
    }
    let mut whole = String::new();
    let mut fraction = String::new();
    for i in 0..point.max(0) {
        whole.push(
            digits
                .as_bytes()
                .get(i as usize)
                .map_or('0', |b| *b as char),
        );
    }
    for i in point..point + scale {
        let d = if i < 0 {
            None
        } else {
            digits.as_bytes().get(i as usize)
        };
        fraction.push(d.map_or('0', |b| *b as char));
    }
    let whole = whole.trim_start_matches('0');
    let zero = whole.is_empty() && fraction.bytes().all(|b| b == b'0');
    if negative && !zero {
        out.push('-');
    }
    out.push_str(if whole.is_empty() { "0" } else { whole });
    if !fraction.is_empty() {
        out.push('.');
        out.push_str(&fraction);
    }
}

/// PostgreSQL's array text of `items`, each written as `item`:
/// `{1,2}`, `{{1,2},{3,4}}` (an element that is an array is a dimension,
/// but in an array of `jsonb`), `{"a b",NULL}`.
fn array_text(items: &[J], item: &CsvForm, out: &mut String) {
    out.push('{');
    let mut one = String::new();
    for (i, element) in items.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        match element {
            J::Null => out.push_str("NULL"),
            // A dimension of a multi-dimensional array.
            J::Array(inner) if *item != CsvForm::Json => array_text(inner, item, out),
            v => {
                one.clear();
                text(item, v, &mut one);
                let quoted = one.is_empty()
                    || one.eq_ignore_ascii_case("null")
                    || one.contains(['{', '}', ',', '"', '\\'])
                    || one.chars().any(pg_space);
                push_quoted(&one, quoted.then_some(Escape::Backslash), out);
            }
        }
    }
    out.push('}');
}

/// How [`push_quoted`] escapes a `"` or `\` inside quotes.
#[derive(Clone, Copy, PartialEq)]
enum Escape {
    /// Preceded by `\` (an array element).
    Backslash,
    /// Doubled (a record attribute).
    Doubled,
}

/// `text` as it is, or with `Some(escape)` between `"`s, each `"` and `\`
/// inside escaped so.
fn push_quoted(text: &str, escape: Option<Escape>, out: &mut String) {
    let Some(escape) = escape else {
        out.push_str(text);
        return;
    };
    out.push('"');
    for c in text.chars() {
        if c == '"' || c == '\\' {
            out.push(if escape == Escape::Doubled { c } else { '\\' });
        }
        out.push(c);
    }
    out.push('"');
}

/// White space as PostgreSQL's array and record output see it.
fn pg_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\r' | '\x0b' | '\x0c')
}

/// A record's text: `(Paris,75001)`, `("a b",,t)`: each attribute's text
/// (its type is not known here: [`CsvForm::Plain`]), quoted when empty or
/// holding `(` `)` `,` `"` `\` or white space, `"` and `\` doubled; null
/// nothing.
fn record_text(o: &serde_json::Map<String, J>, out: &mut String) {
    out.push('(');
    let mut one = String::new();
    for (i, v) in o.values().enumerate() {
        if i > 0 {
            out.push(',');
        }
        if v.is_null() {
            continue;
        }
        one.clear();
        match v {
            J::Object(inner) => record_text(inner, &mut one),
            v => text(&CsvForm::Plain, v, &mut one),
        }
        let quoted =
            one.is_empty() || one.contains(['(', ')', ',', '"', '\\']) || one.chars().any(pg_space);
        push_quoted(&one, quoted.then_some(Escape::Doubled), out);
    }
    out.push(')');
}

/// `v` (of `form`) as PostgreSQL's `to_json` writes it inside an
/// embedding (`row_to_json`, `json_agg`): compact, but `jsonb` values in
/// their text, floats in PostgreSQL's digits, and `json_agg`'s `, ` (and a
/// line break before a row) between the elements of a list.
fn json_text(form: &CsvForm, v: &J, out: &mut String) {
    match (form, v) {
        (_, J::Null) => out.push_str("null"),
        (CsvForm::Json, v) => jsonb_text(v, out),
        (CsvForm::Float(double), J::Number(n)) => float_text(&n.to_string(), *double, out),
        (CsvForm::Array(item), J::Array(items)) => {
            out.push('[');
            for (i, v) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                json_text(item, v, out);
            }
            out.push(']');
        }
        (CsvForm::Row(columns), J::Object(o)) => row_json(columns, o, out),
        (CsvForm::Rows(columns), J::Array(items)) => {
            aggregated(items, true, out, |v, out| match v {
                J::Object(o) => row_json(columns, o, out),
                v => json_text(&CsvForm::Plain, v, out),
            });
        }
        (CsvForm::Values(item), J::Array(items)) => {
            // A line break before a PostgreSQL array or record, not before
            // a `json` value (an embedding's).
            let structured = matches!(**item, CsvForm::Array(_) | CsvForm::Composite);
            aggregated(items, structured, out, |v, out| json_text(item, v, out));
        }
        (_, other) => out.push_str(&other.to_string()),
    }
}

/// `row_to_json` of a row whose keys have `columns`' forms.
fn row_json(columns: &CsvColumns, o: &serde_json::Map<String, J>, out: &mut String) {
    out.push('{');
    for (i, (k, v)) in o.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(&J::from(k.as_str()).to_string());
        out.push(':');
        json_text(columns.get(k), v, out);
    }
    out.push('}');
}

/// `json_agg`'s text of `items`, each written by `element`: `, ` between
/// them, and a line break and a space before each `structured` one
/// (a row, an array) after the first.
fn aggregated(items: &[J], structured: bool, out: &mut String, element: impl Fn(&J, &mut String)) {
    out.push('[');
    for (i, v) in items.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
            if structured && !v.is_null() {
                out.push_str("\n ");
            }
        }
        element(v, out);
    }
    out.push(']');
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn form_text(form: &CsvForm, v: J) -> String {
        let mut out = String::new();
        text(form, &v, &mut out);
        out
    }

    /// Values as PostgreSQL 15 prints them (each checked with `psql`:
    /// `SELECT x::text`, and `json_agg`/`row_to_json` for embeddings).
    #[test]
    fn postgresql_text_output() {
        assert_eq!(form_text(&CsvForm::Bool, json!(true)), "t");
        assert_eq!(form_text(&CsvForm::Bool, json!(false)), "f");
        assert_eq!(
            form_text(&CsvForm::Timestamp, json!("2021-01-01T10:00:00.5")),
            "2021-01-01 10:00:00.5"
        );
        for (json, pg) in [
            ("2020-12-31T18:30:00+00:00", "2020-12-31 18:30:00+00"),
            ("2021-01-01T00:00:00+05:30", "2021-01-01 00:00:00+05:30"),
            ("2021-01-01T00:00:00.25-03:00", "2021-01-01 00:00:00.25-03"),
            (
                "1900-01-01T00:00:00+00:53:28",
                "1900-01-01 00:00:00+00:53:28",
            ),
            ("1900-01-01T00:00:00+01:30:00", "1900-01-01 00:00:00+01:30"),
            ("infinity", "infinity"),
        ] {
            assert_eq!(form_text(&CsvForm::TimestampTz, json!(json)), pg, "{json}");
        }
        for (json, double, pg) in [
            ("1e20", true, "1e+20"),
            ("1.0", true, "1"),
            ("1.5", true, "1.5"),
            ("1e15", true, "1e+15"),
            ("123456789012345.6", true, "123456789012345.6"),
            ("0.0001", true, "0.0001"),
            ("0.00001", true, "1e-05"),
            ("1.5e-5", true, "1.5e-05"),
            ("-2.5e300", true, "-2.5e+300"),
            ("0.0", true, "0"),
            ("-0.0", true, "-0"),
            ("100", true, "100"),
            ("1000000.0", false, "1e+06"),
            ("123456.0", false, "123456"),
            ("0.1", false, "0.1"),
        ] {
            let mut out = String::new();
            float_text(json, double, &mut out);
            assert_eq!(out, pg, "{json}");
        }
        assert_eq!(form_text(&CsvForm::Float(true), json!("NaN")), "NaN");
        assert_eq!(
            form_text(
                &CsvForm::Json,
                json!({"bb": [1, 2], "c": null, "a": 1e20, "d": 1.5e-7})
            ),
            r#"{"a": 100000000000000000000, "c": null, "d": 0.00000015, "bb": [1, 2]}"#
        );
        for (json, pg) in [
            ("1.50", "1.50"),
            ("2.50E1", "25.0"),
            ("-1e-2", "-0.01"),
            ("1.5e+2", "150"),
            ("-0e5", "0"),
            ("12", "12"),
        ] {
            let mut out = String::new();
            numeric_text(json, &mut out);
            assert_eq!(out, pg, "{json}");
        }
        assert_eq!(
            form_text(
                &CsvForm::Array(Box::new(CsvForm::Json)),
                json!([[1, 2], {"a": 1}])
            ),
            r#"{"[1, 2]","{\"a\": 1}"}"#
        );
        assert_eq!(form_text(&CsvForm::Json, json!("str")), r#""str""#);
        assert_eq!(form_text(&CsvForm::Json, json!([])), "[]");
        let text_array = CsvForm::Array(Box::new(CsvForm::Plain));
        assert_eq!(
            form_text(
                &text_array,
                json!(["a b", null, "", "NULL", "x\"y", "a\\b", "{"])
            ),
            r#"{"a b",NULL,"","NULL","x\"y","a\\b","{"}"#
        );
        assert_eq!(
            form_text(
                &CsvForm::Array(Box::new(CsvForm::Bool)),
                json!([true, false])
            ),
            "{t,f}"
        );
        assert_eq!(
            form_text(
                &CsvForm::Array(Box::new(CsvForm::Plain)),
                json!([[1, 2], [3, 4]])
            ),
            "{{1,2},{3,4}}"
        );
        assert_eq!(
            form_text(
                &CsvForm::Array(Box::new(CsvForm::Timestamp)),
                json!(["2021-01-01T10:00:00"])
            ),
            r#"{"2021-01-01 10:00:00"}"#
        );
        assert_eq!(
            form_text(&CsvForm::Array(Box::new(CsvForm::Json)), json!([{"a": 1}])),
            r#"{"{\"a\": 1}"}"#
        );
        assert_eq!(
            form_text(
                &CsvForm::Composite,
                json!({"city": "New York", "zip": 10, "none": null, "q": "a\"b\\", "ok": true})
            ),
            r#"("New York",10,,"a""b\\",t)"#
        );
    }

    #[test]
    fn embeddings_as_json_agg_and_row_to_json() {
        let mut columns = CsvColumns::default();
        columns.set("j", CsvForm::Json);
        columns.set("f", CsvForm::Float(true));
        let rows = CsvForm::Rows(columns.clone());
        assert_eq!(
            form_text(
                &rows,
                json!([{"x": 1, "j": {"a": null, "b": [1, 2]}, "b": true, "f": 1.0},
                       {"x": 2, "j": null, "b": false, "f": 1e20}])
            ),
            "[{\"x\":1,\"j\":{\"a\": null, \"b\": [1, 2]},\"b\":true,\"f\":1}, \n {\"x\":2,\"j\":null,\"b\":false,\"f\":1e+20}]"
        );
        assert_eq!(form_text(&rows, json!([])), "[]");
        assert_eq!(
            form_text(
                &CsvForm::Row(columns),
                json!({"j": {"b": [1, 2]}, "a": ["a b", null]})
            ),
            r#"{"j":{"b": [1, 2]},"a":["a b",null]}"#
        );
        assert_eq!(
            form_text(&CsvForm::Values(Box::new(CsvForm::Plain)), json!([1, 2, 3])),
            "[1, 2, 3]"
        );
    }

    #[test]
    fn csv_quotes_as_rfc_4180() {
        let rows: Vec<serde_json::Map<String, J>> = vec![
            json!({"id": 1, "name": "plain", "note": null, "ok": true})
                .as_object()
                .cloned()
                .unwrap(),
            json!({"id": 2, "name": "a,b \"q\"\nline", "note": "", "ok": false})
                .as_object()
                .cloned()
                .unwrap(),
        ];
        let mut columns = CsvColumns::default();
        columns.set("ok", CsvForm::Bool);
        let body = body_within(&rows, Some(&columns), u64::MAX).unwrap();
        assert_eq!(
            String::from_utf8(body).unwrap(),
            "id,name,note,ok\n1,plain,,t\n2,\"a,b \"\"q\"\"\nline\",\"\",f"
        );
        assert_eq!(body_within(&[], None, u64::MAX).unwrap(), b"\n");
        let e = body_within(&rows, None, 10).unwrap_err();
        assert_eq!((e.status, e.code.as_str()), (400, "limit_exceeded"));
    }
}
