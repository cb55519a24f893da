//! Filters evaluated in memory against one row: how a rule's write check
//! holds for the rows an insert writes, and (later) how realtime events and
//! storage objects are authorized without a database round trip.
//!
//! Semantics follow SQL's three-valued logic closely enough for checks: a
//! comparison with a null or missing value is *unknown*, which a check
//! treats as a failure (as SQL's `WITH CHECK` does). Operators that need the
//! database (`exists`, full-text search, the text of a number at a JSON
//! path, array operators) are not evaluated here: [`eval`] answers
//! [`Eval::Unsupported`] for them, and callers refuse such a check rather
//! than guess.
//!
//! [`partial`] evaluates what known values decide and leaves the rest as a
//! filter: an update's check becomes "what the new values decide" plus "a
//! condition on the rows' unchanged fields".

use std::cmp::Ordering;

use serde_json::Value;

use crate::ir::{Filter, IsValue, Record};

/// The outcome of evaluating a filter on a row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Eval {
    /// The filter holds.
    True,
    /// The filter does not hold.
    False,
    /// SQL's unknown (a comparison with null).
    Unknown,
    /// The filter uses an operator that cannot be evaluated in memory.
    Unsupported,
}

impl Eval {
    fn from_bool(b: bool) -> Self {
        if b { Self::True } else { Self::False }
    }

    fn not(self) -> Self {
        match self {
            Self::True => Self::False,
            Self::False => Self::True,
            other => other,
        }
    }
}

/// Evaluate `filter` on `row` (fields by API name; a missing field is null).
pub fn eval(filter: &Filter, row: &Record) -> Eval {
    match filter {
        Filter::And { filters } => {
            let mut out = Eval::True;
            for f in filters {
                match eval(f, row) {
                    Eval::False => return Eval::False,
                    Eval::Unsupported => out = Eval::Unsupported,
                    Eval::Unknown if out == Eval::True => out = Eval::Unknown,
                    _ => {}
                }
            }
            out
        }
        Filter::Or { filters } => {
            let mut out = Eval::False;
            for f in filters {
                match eval(f, row) {
                    Eval::True => return Eval::True,
                    Eval::Unsupported => out = Eval::Unsupported,
                    Eval::Unknown if out == Eval::False => out = Eval::Unknown,
                    _ => {}
                }
            }
            out
        }
        Filter::Not { filter } => eval(filter, row).not(),
        Filter::Compare { field, op, value } => {
            let v = row.get(field).unwrap_or(&Value::Null);
            let value = value.to_json();
            if v.is_null() || value.is_null() {
                return Eval::Unknown;
            }
            match compare(v, &value) {
                None => Eval::Unsupported,
                Some(ord) => Eval::from_bool(op.holds(ord)),
            }
        }
        Filter::In { field, values } => {
            let v = row.get(field).unwrap_or(&Value::Null);
            if v.is_null() {
                return if values.is_empty() {
                    Eval::False
                } else {
                    Eval::Unknown
                };
            }
            let mut out = Eval::False;
            for c in values {
                let c = c.to_json();
                if c.is_null() {
                    out = Eval::Unknown;
                    continue;
                }
                match compare(v, &c) {
                    Some(Ordering::Equal) => return Eval::True,
                    None => return Eval::Unsupported,
                    _ => {}
                }
            }
            out
        }
        Filter::Is { field, value } => {
            let v = row.get(field).unwrap_or(&Value::Null);
            Eval::from_bool(match value {
                IsValue::Null | IsValue::Unknown => v.is_null(),
                IsValue::NotNull => !v.is_null(),
                // MySQL's booleans are `TINYINT(1)`: a number that is not
                // zero is true there.
                IsValue::True => match v {
                    Value::Number(n) => n.as_f64().is_some_and(|n| n != 0.0),
                    other => other == &Value::Bool(true),
                },
                IsValue::False => match v {
                    Value::Number(n) => n.as_f64() == Some(0.0),
                    other => other == &Value::Bool(false),
                },
            })
        }
        Filter::Like {
            field,
            pattern,
            case_insensitive,
        } => match row.get(field).unwrap_or(&Value::Null) {
            Value::Null => Eval::Unknown,
            Value::String(s) => Eval::from_bool(if *case_insensitive {
                like(&s.to_lowercase(), &pattern.to_lowercase())
            } else {
                like(s, pattern)
            }),
            _ => Eval::Unsupported,
        },
        // The text at a JSON path (a rule's `meta->>owner=eq.auth.uid()`
        // checking an insert): a string's or a boolean's, compared by
        // bytes as MySQL, SQLite and MongoDB compare it (PostgreSQL's `C`
        // collation; `eq`/`neq` under any deterministic collation). A
        // number's text is each engine's own: not evaluated here.
        Filter::JsonText {
            field,
            path,
            op,
            value,
        } => {
            let at = row.get(field).and_then(|v| crate::ir::json_at(v, path));
            let text = match at {
                Some(Value::String(s)) => s.as_str(),
                Some(Value::Bool(true)) => "true",
                Some(Value::Bool(false)) => "false",
                Some(Value::Number(_)) => return Eval::Unsupported,
                _ => return Eval::Unknown,
            };
            Eval::from_bool(op.holds(text.as_bytes().cmp(value.as_bytes())))
        }
        // The JSON value at a path against a JSON operand, as `jsonb`
        // orders them (strings by bytes, as for `JsonText`).
        Filter::JsonPath {
            field,
            path,
            op,
            value,
        } => match row.get(field).and_then(|v| crate::ir::json_at(v, path)) {
            Some(Value::Null) if path.is_empty() => Eval::Unknown,
            Some(at) => Eval::from_bool(op.holds(crate::jsonb_order::jsonb_cmp(at, value))),
            None => Eval::Unknown,
        },
        _ => Eval::Unsupported,
    }
}

/// Order two non-null JSON values the way the databases order them for the
/// types a filter compares: numbers by value (a number against a numeric
/// string too), strings bytewise, booleans false < true. `None` when the
/// two cannot be compared.
fn compare(a: &Value, b: &Value) -> Option<Ordering> {
    match (a, b) {
        (Value::String(x), Value::String(y)) => Some(x.as_bytes().cmp(y.as_bytes())),
        (Value::Bool(x), Value::Bool(y)) => Some(x.cmp(y)),
        // A boolean against a text operand (an untyped field's): the text
        // as PostgreSQL's boolean input reads it.
        (Value::Bool(x), Value::String(t)) => Some(x.cmp(&boolean_text(t)?)),
        (Value::String(t), Value::Bool(y)) => Some(boolean_text(t)?.cmp(y)),
        (Value::Number(_), _) | (_, Value::Number(_)) => {
            let n = |v: &Value| match v {
                Value::Number(n) => Exact::parse(&n.to_string()),
                Value::String(s) => Exact::parse(s.trim()),
                _ => None,
            };
            Some(n(a)?.cmp(&n(b)?))
        }
        _ => None,
    }
}

/// `a` against `b` as `jsonb` orders them, without writing and reading
/// them again for two scalars of one type (the sort of [`RowQuery`]
/// compares each row many times): numbers exactly, strings by bytes,
/// `false` < `true`, as [`compare`] does; other pairs by
/// [`jsonb_cmp`](crate::jsonb_order::jsonb_cmp).
fn jsonb_order(a: &Value, b: &Value) -> Ordering {
    let same_scalar = matches!(
        (a, b),
        (Value::Number(_), Value::Number(_))
            | (Value::String(_), Value::String(_))
            | (Value::Bool(_), Value::Bool(_))
    );
    same_scalar
        .then(|| compare(a, b))
        .flatten()
        .unwrap_or_else(|| crate::jsonb_order::jsonb_cmp(a, b))
}

/// PostgreSQL's boolean input (`t`, `true`, `yes`, `on`, `1` and their
/// opposites, any case, trimmed; a unique prefix of the words too).
fn boolean_text(t: &str) -> Option<bool> {
    let t = t.trim().to_ascii_lowercase();
    let is_prefix = |word: &str| !t.is_empty() && word.starts_with(t.as_str());
    match t.as_str() {
        "1" => Some(true),
        "0" => Some(false),
        "o" => None,
        _ if is_prefix("true") || is_prefix("yes") || is_prefix("on") => Some(true),
        _ if is_prefix("false") || is_prefix("no") || is_prefix("off") => Some(false),
        _ => None,
    }
}

/// A decimal number as written (JSON's grammar: `-12.5e3`), compared
/// exactly, as the databases compare `bigint` and `numeric`: never through
/// a float, whose 53 bits make `9007199254740993` equal `9007199254740992`
/// (a check on a 64-bit key would then pass for a neighbour's key).
#[derive(Debug, PartialEq, Eq)]
struct Exact {
    negative: bool,
    /// The significant digits, without leading or trailing zeros (empty
    /// for zero).
    digits: Vec<u8>,
    /// The power of ten of the first significant digit's place plus one:
    /// the number is `0.digits × 10^magnitude`.
    magnitude: i64,
}

impl Exact {
    /// The number `s` writes (`[-]digits[.digits][e[+-]digits]`, JSON's
    /// grammar, a leading `+` and leading zeros allowed); `None` for any
    /// other text (`NaN`, `inf`, `0x1f`).
    fn parse(s: &str) -> Option<Self> {
        let (negative, s) = match s.as_bytes().first()? {
            b'-' => (true, &s[1..]),
            b'+' => (false, &s[1..]),
            _ => (false, s),
        };
        let (mantissa, exponent) = match s.find(['e', 'E']) {
            Some(i) => (&s[..i], s[i + 1..].parse::<i64>().ok()?),
            None => (s, 0),
        };
        let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
        if int.is_empty() && frac.is_empty()
            || !int.bytes().chain(frac.bytes()).all(|b| b.is_ascii_digit())
        {
            return None;
        }
        let all: Vec<u8> = int.bytes().chain(frac.bytes()).collect();
        let lead = all.iter().take_while(|b| **b == b'0').count();
        let digits: Vec<u8> = all[lead..].to_vec();
        let trail = digits.iter().rev().take_while(|b| **b == b'0').count();
        let digits = digits[..digits.len() - trail].to_vec();
        if digits.is_empty() {
            return Some(Self {
                negative: false,
                digits,
                magnitude: 0,
            });
        }
        let int_len = i64::try_from(int.len()).ok()?;
        let lead = i64::try_from(lead).ok()?;
        Some(Self {
            negative,
            digits,
            magnitude: exponent.checked_add(int_len - lead)?,
        })
    }

    /// The order of the absolute values.
    fn cmp_abs(&self, other: &Self) -> Ordering {
        match (self.digits.is_empty(), other.digits.is_empty()) {
            (true, true) => Ordering::Equal,
            (true, false) => Ordering::Less,
            (false, true) => Ordering::Greater,
            // Without trailing zeros, digits compare as written once their
            // first places agree.
            (false, false) => self
                .magnitude
                .cmp(&other.magnitude)
                .then_with(|| self.digits.cmp(&other.digits)),
        }
    }
}

impl Ord for Exact {
    fn cmp(&self, other: &Self) -> Ordering {
        match (self.negative, other.negative) {
            (false, false) => self.cmp_abs(other),
            (true, true) => other.cmp_abs(self),
            (true, false) => Ordering::Less,
            (false, true) => Ordering::Greater,
        }
    }
}

impl PartialOrd for Exact {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// SQL `LIKE`: `%` any run, `_` one character, `\` escapes the next one.
fn like(s: &str, pattern: &str) -> bool {
    let s: Vec<char> = s.chars().collect();
    let mut p: Vec<(char, bool)> = Vec::new(); // (char, literal)
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            if let Some(n) = chars.next() {
                p.push((n, true));
            }
        } else {
            p.push((c, false));
        }
    }
    // Iterative matching with backtracking to the last `%` (linear-ish).
    let (mut i, mut j) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while i < s.len() {
        if j < p.len() && !p[j].1 && p[j].0 == '%' {
            star = Some((j, i));
            j += 1;
        } else if j < p.len() && ((!p[j].1 && p[j].0 == '_') || p[j].0 == s[i]) {
            i += 1;
            j += 1;
        } else if let Some((sj, si)) = star {
            j = sj + 1;
            i = si + 1;
            star = Some((sj, si + 1));
        } else {
            return false;
        }
    }
    while j < p.len() && !p[j].1 && p[j].0 == '%' {
        j += 1;
    }
    j == p.len()
}

/// The filter always true (`and` of nothing).
fn always() -> Filter {
    Filter::and(Vec::new())
}

/// The filter always false (`or` of nothing).
fn never() -> Filter {
    Filter::or(Vec::new())
}

/// Whether `f` is the constant true / false [`partial`] produces.
pub fn constant(f: &Filter) -> Option<bool> {
    match f {
        Filter::And { filters } if filters.is_empty() => Some(true),
        Filter::Or { filters } if filters.is_empty() => Some(false),
        _ => None,
    }
}

/// What `known` decides of `filter`: every condition on a field in `known`
/// is evaluated with its value (unknown counts as false, as a check does)
/// and the conditions on other fields are kept. The result is a filter on
/// the other fields, [`constant`] when the known values decide it all.
/// `None` when a condition on a known field cannot be evaluated in memory.
pub fn partial(filter: &Filter, known: &Record) -> Option<Filter> {
    Some(match filter {
        Filter::And { filters } => {
            let mut out = Vec::new();
            for f in filters {
                let r = partial(f, known)?;
                match constant(&r) {
                    Some(false) => return Some(never()),
                    Some(true) => {}
                    None => out.push(r),
                }
            }
            if out.len() == 1 {
                out.pop()?
            } else {
                Filter::and(out)
            }
        }
        Filter::Or { filters } => {
            let mut out = Vec::new();
            for f in filters {
                let r = partial(f, known)?;
                match constant(&r) {
                    Some(true) => return Some(always()),
                    Some(false) => {}
                    None => out.push(r),
                }
            }
            if out.len() == 1 {
                out.pop()?
            } else {
                Filter::or(out)
            }
        }
        Filter::Not { filter } => {
            let r = partial(filter, known)?;
            match constant(&r) {
                Some(b) => {
                    if b {
                        never()
                    } else {
                        always()
                    }
                }
                None => Filter::not(r),
            }
        }
        Filter::Compare { field, .. }
        | Filter::In { field, .. }
        | Filter::Is { field, .. }
        | Filter::Like { field, .. }
            if known.contains_key(field) =>
        {
            match eval(filter, known) {
                Eval::True => always(),
                Eval::False | Eval::Unknown => never(),
                Eval::Unsupported => return None,
            }
        }
        other => {
            if mentions_any(other, known) {
                return None;
            }
            other.clone()
        }
    })
}

/// Whether a filter this module does not evaluate names a field of `known`.
fn mentions_any(f: &Filter, known: &Record) -> bool {
    match f {
        Filter::TextSearch { field, .. }
        | Filter::Range { field, .. }
        | Filter::Regex { field, .. }
        | Filter::Array { field, .. }
        | Filter::JsonContains { field, .. }
        | Filter::JsonEquals { field, .. }
        | Filter::JsonLike { field, .. }
        | Filter::JsonText { field, .. }
        | Filter::JsonIsNull { field, .. }
        | Filter::JsonPath { field, .. } => known.contains_key(field),
        // An `exists` names the relation's local fields; be conservative.
        Filter::Exists { .. } => !known.is_empty(),
        _ => false,
    }
}

/// A read of rows already in memory, which no statement reads from (a
/// MySQL/MariaDB procedure's result set): the rows `filter` holds for
/// ([`eval`]: unknown is no match), ordered, paged and projected, as a
/// database would read a table.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RowQuery {
    /// The rows kept.
    pub filter: Option<Filter>,
    /// Sort keys: plain fields (a JSON path or a related row's field is
    /// refused); values as `jsonb` orders them (numbers by value, strings
    /// by bytes), nulls as PostgreSQL sorts them unless said.
    pub order: Vec<crate::ir::OrderBy>,
    /// Rows skipped after ordering.
    pub offset: u64,
    /// At most this many rows after the offset.
    pub limit: Option<u64>,
    /// The fields answered, in this order; empty: every one.
    pub fields: Vec<String>,
}

impl RowQuery {
    /// The rows of `rows` the query answers, and how many the filter held
    /// for (before paging: a count's). `what` names the rows in errors.
    ///
    /// # Errors
    /// A field no row has (when there are rows): PostgreSQL's 42703; a
    /// filter [`eval`] cannot decide, or an order by a JSON path or a
    /// related row: `Unsupported` on `engine`.
    pub fn run(
        &self,
        rows: Vec<Record>,
        engine: &str,
        what: &str,
    ) -> Result<(Vec<Record>, u64), crate::Error> {
        use crate::error::Violation;
        // Every field named must be a column of the rows (PostgreSQL's
        // 42703), whichever row a filter would stop at.
        if let Some(first) = rows.first() {
            let mut named: Vec<&str> = self.fields.iter().map(String::as_str).collect();
            named.extend(self.order.iter().map(|o| o.field.as_str()));
            if let Some(f) = &self.filter {
                named.extend(f.fields());
            }
            if let Some(missing) = named.iter().find(|n| !first.contains_key(**n)) {
                return Err(crate::Error::Validation {
                    violations: vec![Violation::unknown_field("", what, missing)],
                });
            }
        }
        // What `eval` decides on any row, known before any is read (the
        // answer never depends on the data): comparisons, `in`, `is`,
        // `like` and their `and`/`or`/`not`. A JSON column of a
        // procedure's rows is a text there: its paths are refused.
        fn decidable(f: &Filter) -> bool {
            match f {
                Filter::And { filters } | Filter::Or { filters } => filters.iter().all(decidable),
                Filter::Not { filter } => decidable(filter),
                Filter::Compare { .. }
                | Filter::In { .. }
                | Filter::Is { .. }
                | Filter::Like { .. } => true,
                _ => false,
            }
        }
        if self.filter.as_ref().is_some_and(|f| !decidable(f)) {
            return Err(crate::Error::unsupported(
                engine,
                format!(
                    "this filter on the result of `{what}`, read in memory (comparisons, `in`, `is`, `like`/`ilike` and `and`/`or`/`not` of them are)"
                ),
            ));
        }
        if let Some(o) = self
            .order
            .iter()
            .find(|o| o.json.is_some() || o.related.is_some())
        {
            return Err(crate::Error::unsupported(
                engine,
                format!(
                    "ordering the result of `{what}` by a JSON path or a related row (`{}`)",
                    o.field
                ),
            ));
        }
        let mut kept = Vec::with_capacity(rows.len());
        for row in rows {
            let holds = match &self.filter {
                None => Eval::True,
                Some(f) => eval(f, &row),
            };
            match holds {
                Eval::True => kept.push(row),
                Eval::False | Eval::Unknown => {}
                Eval::Unsupported => {
                    return Err(crate::Error::unsupported(
                        engine,
                        format!(
                            "this filter on the result of `{what}`, read in memory: a comparison of values of two types (a number with a text that is none, a boolean with a text that is none)"
                        ),
                    ));
                }
            }
        }
        let held = kept.len() as u64;
        if !self.order.is_empty() {
            kept.sort_by(|a, b| {
                for o in &self.order {
                    let (x, y) = (a.get(&o.field), b.get(&o.field));
                    let null = |v: Option<&Value>| v.is_none_or(Value::is_null);
                    let desc = o.direction == crate::ir::Direction::Desc;
                    // PostgreSQL: nulls last ascending, first descending.
                    let nulls_first = match o.nulls {
                        Some(crate::ir::Nulls::First) => true,
                        Some(crate::ir::Nulls::Last) => false,
                        None => desc,
                    };
                    let ord = match (null(x), null(y)) {
                        (true, true) => Ordering::Equal,
                        (true, false) if nulls_first => Ordering::Less,
                        (true, false) => Ordering::Greater,
                        (false, true) if nulls_first => Ordering::Greater,
                        (false, true) => Ordering::Less,
                        (false, false) => {
                            let ord =
                                jsonb_order(x.unwrap_or(&Value::Null), y.unwrap_or(&Value::Null));
                            if desc { ord.reverse() } else { ord }
                        }
                    };
                    if ord != Ordering::Equal {
                        return ord;
                    }
                }
                Ordering::Equal
            });
        }
        let skip = usize::try_from(self.offset).unwrap_or(usize::MAX);
        let take = self
            .limit
            .map_or(usize::MAX, |l| usize::try_from(l).unwrap_or(usize::MAX));
        let page = kept.into_iter().skip(skip).take(take);
        let rows = if self.fields.is_empty() {
            page.collect()
        } else {
            page.map(|mut row| {
                let mut out = Record::new();
                for f in &self.fields {
                    if let Some(v) = row.remove(f) {
                        out.insert(f.clone(), v);
                    }
                }
                out
            })
            .collect()
        };
        Ok((rows, held))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ir::CompareOp;
    use serde_json::json;

    fn row(v: Value) -> Record {
        v.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn text_at_a_json_path() {
        let r = row(
            json!({"meta": {"owner": "u1", "ok": true, "n": 5, "tags": ["B", "a"], "0": "zero"}}),
        );
        let text = |path: &[&str], op, v: &str| {
            eval(
                &Filter::JsonText {
                    field: "meta".into(),
                    path: path.iter().map(|s| s.to_string()).collect(),
                    op,
                    value: v.into(),
                },
                &r,
            )
        };
        assert_eq!(text(&["owner"], CompareOp::Eq, "u1"), Eval::True);
        assert_eq!(text(&["owner"], CompareOp::Eq, "u2"), Eval::False);
        assert_eq!(text(&["ok"], CompareOp::Eq, "true"), Eval::True);
        assert_eq!(text(&["tags", "0"], CompareOp::Lt, "a"), Eval::True);
        assert_eq!(text(&["tags", "-1"], CompareOp::Eq, "a"), Eval::True);
        // An index is no object's key; missing, arrays, objects: unknown.
        assert_eq!(text(&["0"], CompareOp::Eq, "zero"), Eval::Unknown);
        assert_eq!(text(&["none"], CompareOp::Neq, "x"), Eval::Unknown);
        assert_eq!(text(&["tags"], CompareOp::Neq, "x"), Eval::Unknown);
        // A number's text differs by engine: not evaluated here.
        assert_eq!(text(&["n"], CompareOp::Eq, "5"), Eval::Unsupported);
        assert_eq!(
            eval(
                &Filter::not(Filter::JsonText {
                    field: "meta".into(),
                    path: vec!["owner".into()],
                    op: CompareOp::Gt,
                    value: "u0".into(),
                }),
                &r
            ),
            Eval::False
        );
    }

    #[test]
    fn json_at_a_path_compares_as_jsonb() {
        let r = row(json!({"meta": {"n": 5, "s": "b", "ok": true, "nil": null, "a": [1, 2]}}));
        let at = |k: &str, op, v: serde_json::Value| {
            eval(
                &Filter::JsonPath {
                    field: "meta".into(),
                    path: vec![k.into()],
                    op,
                    value: v,
                },
                &r,
            )
        };
        assert_eq!(at("n", CompareOp::Eq, json!(5.0)), Eval::True);
        assert_eq!(at("n", CompareOp::Gt, json!(4)), Eval::True);
        // Across types by type: null < string < number < boolean < array.
        assert_eq!(at("ok", CompareOp::Gt, json!(1e300)), Eval::True);
        assert_eq!(at("s", CompareOp::Lt, json!(0)), Eval::True);
        assert_eq!(at("s", CompareOp::Neq, json!(5)), Eval::True);
        assert_eq!(at("nil", CompareOp::Lt, json!("")), Eval::True);
        assert_eq!(at("nil", CompareOp::Gte, json!(null)), Eval::True);
        assert_eq!(at("a", CompareOp::Gt, json!(true)), Eval::True);
        assert_eq!(at("a", CompareOp::Lt, json!([1, 3])), Eval::True);
        // Nothing at the path: unknown, also negated.
        assert_eq!(at("none", CompareOp::Neq, json!(5)), Eval::Unknown);
        assert_eq!(at("0", CompareOp::Eq, json!(5)), Eval::Unknown);
    }

    #[test]
    fn rows_in_memory_filter_order_page_and_project() {
        use crate::ir::{Direction, Nulls, OrderBy};
        let rows: Vec<Record> = [
            json!({"id": 1, "n": 10, "s": "b"}),
            json!({"id": 2, "n": null, "s": "a"}),
            json!({"id": 3, "n": 9.5, "s": "B"}),
            json!({"id": 4, "n": 10, "s": "a"}),
        ]
        .into_iter()
        .map(row)
        .collect();
        let ids =
            |r: &[Record]| -> Vec<i64> { r.iter().map(|x| x["id"].as_i64().unwrap()).collect() };
        let by = |field: &str, direction, nulls| OrderBy {
            direction,
            nulls,
            ..OrderBy::asc(field)
        };
        let q = RowQuery {
            order: vec![
                by("n", Direction::Asc, None),
                by("s", Direction::Desc, None),
            ],
            ..RowQuery::default()
        };
        // Nulls last ascending; strings by bytes (`B` < `a` < `b`).
        let (r, held) = q.run(rows.clone(), "mysql", "f").unwrap();
        assert_eq!((ids(&r), held), (vec![3, 1, 4, 2], 4));
        let q = RowQuery {
            filter: Some(Filter::cmp("n", CompareOp::Gte, "10")),
            order: vec![by("s", Direction::Asc, Some(Nulls::First))],
            offset: 1,
            limit: Some(5),
            fields: vec!["s".into(), "id".into()],
        };
        let (r, held) = q.run(rows.clone(), "mysql", "f").unwrap();
        assert_eq!(held, 2);
        assert_eq!(
            serde_json::to_value(&r).unwrap(),
            json!([{"s": "b", "id": 1}])
        );
        // A column the rows lack: 42703; what eval cannot decide: 501.
        let bad = RowQuery {
            fields: vec!["nope".into()],
            ..RowQuery::default()
        };
        assert!(format!("{:?}", bad.run(rows.clone(), "mysql", "f")).contains("42703"));
        let fts = RowQuery {
            filter: Some(Filter::TextSearch {
                field: "s".into(),
                path: Vec::new(),
                query: "a".into(),
                language: None,
                syntax: Default::default(),
            }),
            ..RowQuery::default()
        };
        assert!(matches!(
            fts.run(rows, "mysql", "f"),
            Err(crate::Error::Unsupported { .. })
        ));
    }

    #[test]
    fn numbers_compare_exactly() {
        // Keys past 2^53 that a float would take for one another: a check
        // `owner_id = <the caller's id>` must not hold for a neighbour's.
        let r = row(json!({"owner": 1234567890123456789_i64, "price": "100.00000000000000001"}));
        let owner = |v: serde_json::Value| {
            eval(
                &Filter::Compare {
                    field: "owner".into(),
                    op: CompareOp::Eq,
                    value: crate::Value::Json(v),
                },
                &r,
            )
        };
        assert_eq!(owner(json!(1234567890123456789_i64)), Eval::True);
        assert_eq!(owner(json!(1234567890123456788_i64)), Eval::False);
        assert_eq!(owner(json!("1234567890123456790")), Eval::False);
        assert_eq!(owner(json!("1234567890123456789")), Eval::True);
        assert_eq!(owner(json!("1.234567890123456789e18")), Eval::True);
        assert_eq!(owner(json!("not a number")), Eval::Unsupported);
        assert_eq!(
            eval(&Filter::cmp("price", CompareOp::Lte, 100), &r),
            Eval::False
        );
        assert_eq!(
            eval(&Filter::cmp("price", CompareOp::Gt, "100.0"), &r),
            Eval::True
        );
        let ord = |a: &str, b: &str| Exact::parse(a).unwrap().cmp(&Exact::parse(b).unwrap());
        for (a, b, want) in [
            ("0", "-0.000", Ordering::Equal),
            ("-1", "0", Ordering::Less),
            ("-2", "-10", Ordering::Greater),
            ("0.5", "5e-1", Ordering::Equal),
            ("12.50", "12.5", Ordering::Equal),
            ("0012", "12", Ordering::Equal),
            ("99", "100", Ordering::Less),
            ("0.099", "0.1", Ordering::Less),
            ("1e400", "9e399", Ordering::Greater),
            ("-1e-400", "-2e-400", Ordering::Greater),
            ("9007199254740993", "9007199254740992", Ordering::Greater),
        ] {
            assert_eq!(ord(a, b), want, "{a} vs {b}");
        }
        for bad in ["", "-", ".", "NaN", "inf", "1e", "0x1f", "1.2.3", "e5"] {
            assert_eq!(Exact::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn compares_like_sql() {
        let r = row(json!({"a": 3, "s": "abc", "n": null, "b": true}));
        assert_eq!(eval(&Filter::cmp("a", CompareOp::Eq, 3), &r), Eval::True);
        assert_eq!(eval(&Filter::cmp("a", CompareOp::Gt, "2"), &r), Eval::True);
        assert_eq!(
            eval(&Filter::cmp("s", CompareOp::Lt, "abd"), &r),
            Eval::True
        );
        assert_eq!(eval(&Filter::cmp("n", CompareOp::Eq, 1), &r), Eval::Unknown);
        assert_eq!(
            eval(&Filter::cmp("missing", CompareOp::Neq, 1), &r),
            Eval::Unknown
        );
        assert_eq!(eval(&Filter::is("n", IsValue::Null), &r), Eval::True);
        assert_eq!(eval(&Filter::is("b", IsValue::True), &r), Eval::True);
        assert_eq!(
            eval(&Filter::not(Filter::cmp("n", CompareOp::Eq, 1)), &r),
            Eval::Unknown
        );
        let f = Filter::In {
            field: "a".into(),
            values: vec![1.into(), 3.into()],
        };
        assert_eq!(eval(&f, &r), Eval::True);
        assert_eq!(
            eval(
                &Filter::or(vec![
                    Filter::cmp("n", CompareOp::Eq, 1),
                    Filter::cmp("a", CompareOp::Eq, 3)
                ]),
                &r
            ),
            Eval::True
        );
        assert_eq!(
            eval(
                &Filter::and(vec![
                    Filter::cmp("n", CompareOp::Eq, 1),
                    Filter::cmp("a", CompareOp::Eq, 4)
                ]),
                &r
            ),
            Eval::False
        );
    }

    #[test]
    fn like_patterns() {
        assert!(like("hello", "h%o"));
        assert!(like("hello", "_ello"));
        assert!(like("a%b", "a\\%b"));
        assert!(!like("axb", "a\\%b"));
        assert!(like("", "%"));
        assert!(!like("abc", "ab"));
        assert!(like("mississippi", "%iss%pi"));
    }

    #[test]
    fn partial_keeps_what_is_not_known() {
        let f = Filter::and(vec![
            Filter::cmp("owner", CompareOp::Eq, "u1"),
            Filter::cmp("state", CompareOp::Neq, "locked"),
        ]);
        let decided = partial(&f, &row(json!({"owner": "u1"}))).unwrap();
        assert_eq!(decided, Filter::cmp("state", CompareOp::Neq, "locked"));
        let refused = partial(&f, &row(json!({"owner": "u2"}))).unwrap();
        assert_eq!(constant(&refused), Some(false));
        let all = partial(&f, &row(json!({"owner": "u1", "state": "open"}))).unwrap();
        assert_eq!(constant(&all), Some(true));
        let untouched = partial(&f, &Record::new()).unwrap();
        assert_eq!(untouched, f);
    }
}
