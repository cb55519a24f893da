//! Horizontal filters: `col=op.value`, `not.`, `any`/`all` modifiers, JSON
//! path columns, and logic trees `or=(…)`, `and=(…)`, all lowered to
//! [`baas_core::ir::Filter`].

use baas_core::ir::{ArrayOp, CompareOp, Filter, IsValue, RangeOp, TextSyntax};
use baas_core::{Entity, FieldType, Value};

use crate::lex::{Cursor, name, pg_array, quoted};
use crate::{ParseLimits, RestError};

/// A column reference: a field and an optional JSON path (`meta->a->>b`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FieldRef {
    pub(crate) name: String,
    pub(crate) json: Vec<String>,
    /// The path's last arrow is `->>` (its text: a JSON `null` is SQL
    /// `NULL` there, as a missing value is), not `->`.
    pub(crate) text: bool,
}

/// `any` / `all` modifiers of a simple operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Quant {
    Any,
    All,
}

/// Operators taking one value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Simple {
    Cmp(CompareOp),
    Like { ci: bool },
    Regex { ci: bool },
    IsDistinct,
}

/// Full-text operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Fts {
    /// `to_tsquery`
    Query,
    /// `plainto_tsquery`
    Plain,
    /// `phraseto_tsquery`
    Phrase,
    /// `websearch_to_tsquery`
    Web,
}

/// `is.` operands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum IsWord {
    Null,
    NotNull,
    True,
    False,
    Unknown,
}

/// A parsed operation, values still as text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Operation {
    Simple {
        op: Simple,
        value: String,
    },
    Quantified {
        op: Simple,
        quant: Quant,
        values: Vec<Option<String>>,
    },
    In(Vec<String>),
    Is(IsWord),
    Fts {
        kind: Fts,
        lang: Option<String>,
        value: String,
    },
    /// `cs cd ov` with an array literal (`{1,2}`); on a JSON field the
    /// text is a JSON operand instead (`cs.{"a":1}`), so the array's
    /// parse error only counts on other fields.
    Array {
        op: ArrayOp,
        raw: String,
        values: Result<Vec<Option<String>>, RestError>,
    },
    /// `sl sr nxr nxl adj`, and `cs cd ov` with a range literal
    /// (`[1,10)`, `(1,)`) rather than an array (`{1,2}`).
    Range {
        op: RangeOp,
        value: String,
    },
}

/// An operation, maybe negated with `not.`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct OpExpr {
    pub(crate) negate: bool,
    pub(crate) op: Operation,
}

/// Where a value ends: at the end of the parameter, or at `,`/`)` in a logic tree.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ctx {
    Top,
    Logic,
}

fn what(ctx: Ctx) -> &'static str {
    match ctx {
        Ctx::Top => "filter",
        Ctx::Logic => "logic tree",
    }
}

const OPERATORS: &str = "eq, neq, gt, gte, lt, lte, like, ilike, match, imatch, isdistinct, in, is, fts, plfts, phfts, wfts, cs, cd, ov";

fn simple_op(name: &str) -> Option<Simple> {
    Some(match name {
        "eq" => Simple::Cmp(CompareOp::Eq),
        "neq" => Simple::Cmp(CompareOp::Neq),
        "gt" => Simple::Cmp(CompareOp::Gt),
        "gte" => Simple::Cmp(CompareOp::Gte),
        "lt" => Simple::Cmp(CompareOp::Lt),
        "lte" => Simple::Cmp(CompareOp::Lte),
        "like" => Simple::Like { ci: false },
        "ilike" => Simple::Like { ci: true },
        "match" => Simple::Regex { ci: false },
        "imatch" => Simple::Regex { ci: true },
        "isdistinct" => Simple::IsDistinct,
        _ => return None,
    })
}

/// A query parameter's value names an operator (`eq.5`, `not.in.(1,2)`,
/// `is.null`, `fts(english).cat`, `eq(any).{1,2}`): the parameter is a
/// filter, not a function's argument, by PostgREST's rule (its
/// `hasOperator`): a call's query parameter that names no parameter of the
/// function and no operator is an argument it does not take.
pub(crate) fn names_operator(value: &str) -> bool {
    let head = value.split('.').next().unwrap_or("");
    let name = head.split('(').next().unwrap_or("");
    let fts = fts_op(name);
    match head {
        "not" => value.split('.').nth(1).is_some(),
        _ if head.contains('(') => fts || simple_op(name).is_some() || range_op(name),
        _ => matches!(head, "is" | "in") || fts || simple_op(head).is_some() || range_op(head),
    }
}

/// The full-text search operators.
fn fts_op(name: &str) -> bool {
    matches!(name, "fts" | "plfts" | "phfts" | "wfts")
}

/// The operators of ranges and arrays, which take no modifier.
fn range_op(name: &str) -> bool {
    matches!(
        name,
        "cs" | "cd" | "ov" | "sl" | "sr" | "nxr" | "nxl" | "adj"
    )
}

/// A value that opens a `"` and never closes it (in a list or logic tree,
/// where quotes delimit values): a 400, not a value with a stray quote.
fn unterminated(cur: &Cursor<'_>, ctx: Ctx) -> RestError {
    cur.error(what(ctx), "a closing `\"` for the quoted value")
        .with_hint("close the quotes, or escape a literal quote as \\\"")
}

/// Read one value in context: the rest of the parameter (top), or a quoted
/// value, a `{...}` literal or raw text up to `,`/`)` (logic tree). In a
/// logic tree, a value that opens a quote must close it (400 otherwise).
fn single_value(cur: &mut Cursor<'_>, ctx: Ctx) -> Result<String, RestError> {
    Ok(match ctx {
        Ctx::Top => cur.take_rest().to_string(),
        Ctx::Logic => {
            let mut probe = cur.clone();
            match quoted(&mut probe) {
                Some(q) if matches!(probe.peek(), None | Some(',' | ')')) => {
                    *cur = probe;
                    return Ok(q);
                }
                None if cur.peek() == Some('"') => return Err(unterminated(cur, ctx)),
                _ => {}
            }
            if cur.peek() == Some('{') {
                // `{…}` up to the first `}` with no nested `{` (memchr-fast,
                // so many unterminated braces stay linear in practice).
                let rest = cur.rest();
                if let Some(end) = rest.find('}')
                    && let Some(lit) = rest.get(..=end)
                    && !lit.get(1..).unwrap_or("").contains('{')
                {
                    cur.advance(lit.len());
                    return Ok(lit.to_string());
                }
            }
            cur.take_until(|c, _| c == ',' || c == ')').to_string()
        }
    })
}

fn end_of_value(cur: &Cursor<'_>, ctx: Ctx) -> bool {
    match ctx {
        Ctx::Top => cur.at_end(),
        Ctx::Logic => matches!(cur.peek(), None | Some(',' | ')')),
    }
}

/// `(a,"b,c",d)` for `in`.
fn in_list(cur: &mut Cursor<'_>, ctx: Ctx, limits: &ParseLimits) -> Result<Vec<String>, RestError> {
    cur.skip_ws();
    if !cur.eat("(") {
        return Err(cur
            .error(what(ctx), "`(` to open the `in` list")
            .with_hint("write lists as in.(a,b,\"c,d\")"));
    }
    let mut out = Vec::new();
    cur.skip_ws();
    if cur.eat(")") {
        cur.skip_ws();
        return Ok(out);
    }
    loop {
        if out.len() >= limits.ir.max_in_list {
            return Err(RestError::bad_request(format!(
                "an `in` list has more than {} values",
                limits.ir.max_in_list
            )));
        }
        let mut probe = cur.clone();
        match quoted(&mut probe) {
            Some(q) if matches!(probe.peek(), Some(',' | ')')) => {
                *cur = probe;
                out.push(q);
            }
            None if cur.peek() == Some('"') => return Err(unterminated(cur, ctx)),
            _ => out.push(cur.take_until(|c, _| c == ',' || c == ')').to_string()),
        }
        match cur.bump() {
            Some(',') => continue,
            Some(')') => break,
            _ => {
                return Err(cur.error(what(ctx), "`,` or `)` in the `in` list"));
            }
        }
    }
    cur.skip_ws();
    Ok(out)
}

/// Parse `[not.]op[(mod)].value` at the cursor.
pub(crate) fn op_expr(
    cur: &mut Cursor<'_>,
    ctx: Ctx,
    limits: &ParseLimits,
) -> Result<OpExpr, RestError> {
    let negate = cur.eat("not.");
    let op_name = cur
        .take_until(|c, _| !(c.is_ascii_lowercase() || c == '_'))
        .to_string();
    if op_name.is_empty() {
        return Err(cur
            .error(what(ctx), "an operator")
            .with_hint(format!("operators: {OPERATORS}")));
    }
    let modifier = if cur.eat("(") {
        let m = cur
            .take_until(|c, _| c == ')' || c == '.')
            .trim()
            .to_string();
        if !cur.eat(")") {
            return Err(cur.error(what(ctx), "`)` closing the operator modifier"));
        }
        Some(m)
    } else {
        None
    };
    let needs_dot = |cur: &mut Cursor<'_>| {
        if cur.eat(".") {
            Ok(())
        } else {
            Err(cur.error(what(ctx), "`.` after the operator"))
        }
    };
    let op = match op_name.as_str() {
        "in" if modifier.is_none() => {
            needs_dot(cur)?;
            Operation::In(in_list(cur, ctx, limits)?)
        }
        "is" if modifier.is_none() => {
            needs_dot(cur)?;
            let w = cur.take_until(|c, _| !(c.is_ascii_alphabetic() || c == '_'));
            let word = match w.to_ascii_lowercase().as_str() {
                "null" => IsWord::Null,
                "not_null" => IsWord::NotNull,
                "true" => IsWord::True,
                "false" => IsWord::False,
                "unknown" => IsWord::Unknown,
                _ => {
                    return Err(RestError::query_syntax(format!(
                        "`is.{w}` is not an `is` operand"
                    ))
                    .with_hint("use is.null, is.not_null, is.true, is.false or is.unknown"));
                }
            };
            Operation::Is(word)
        }
        name if fts_op(name) => {
            let kind = match op_name.as_str() {
                "fts" => Fts::Query,
                "plfts" => Fts::Plain,
                "phfts" => Fts::Phrase,
                _ => Fts::Web,
            };
            let lang = match modifier {
                Some(l)
                    if !l.is_empty()
                        && l.chars()
                            .all(|c| c.is_alphanumeric() || c == '_' || c == ' ') =>
                {
                    Some(l)
                }
                Some(l) => {
                    return Err(RestError::query_syntax(format!(
                        "`{l}` is not a text-search language"
                    )));
                }
                None => None,
            };
            needs_dot(cur)?;
            Operation::Fts {
                kind,
                lang,
                value: single_value(cur, ctx)?,
            }
        }
        "cs" | "cd" | "ov" if modifier.is_none() => {
            let op = match op_name.as_str() {
                "cs" => ArrayOp::Contains,
                "cd" => ArrayOp::ContainedBy,
                _ => ArrayOp::Overlaps,
            };
            needs_dot(cur)?;
            let v = single_value(cur, ctx)?;
            if v.trim_start().starts_with(['[', '(']) || v.trim() == "empty" {
                Operation::Range {
                    op: match op {
                        ArrayOp::Contains => RangeOp::Contains,
                        ArrayOp::ContainedBy => RangeOp::ContainedBy,
                        ArrayOp::Overlaps => RangeOp::Overlaps,
                    },
                    value: v,
                }
            } else {
                Operation::Array {
                    op,
                    values: pg_array(&v, limits.ir.max_in_list),
                    raw: v,
                }
            }
        }
        "sl" | "sr" | "nxr" | "nxl" | "adj" if modifier.is_none() => {
            let op = match op_name.as_str() {
                "sl" => RangeOp::StrictlyLeft,
                "sr" => RangeOp::StrictlyRight,
                "nxr" => RangeOp::NotExtendRight,
                "nxl" => RangeOp::NotExtendLeft,
                _ => RangeOp::Adjacent,
            };
            needs_dot(cur)?;
            Operation::Range {
                op,
                value: single_value(cur, ctx)?,
            }
        }
        other if other == "in" || other == "is" || range_op(other) => {
            return Err(RestError::query_syntax(format!(
                "`{op_name}` takes no modifier in parentheses"
            )));
        }
        other => {
            let Some(op) = simple_op(other) else {
                return Err(
                    RestError::query_syntax(format!("unknown operator `{other}`"))
                        .with_hint(format!("operators: {OPERATORS}")),
                );
            };
            let quant = match modifier.as_deref() {
                None => None,
                Some("any") => Some(Quant::Any),
                Some("all") => Some(Quant::All),
                Some(m) => {
                    return Err(RestError::query_syntax(format!(
                        "unknown operator modifier `({m})`"
                    ))
                    .with_hint("the modifiers are (any) and (all)"));
                }
            };
            if quant.is_some() && op == Simple::IsDistinct {
                return Err(RestError::query_syntax(
                    "`isdistinct` takes no (any)/(all) modifier",
                ));
            }
            needs_dot(cur)?;
            let value = single_value(cur, ctx)?;
            match quant {
                None => Operation::Simple { op, value },
                Some(quant) => Operation::Quantified {
                    op,
                    quant,
                    values: pg_array(&value, limits.ir.max_in_list)?,
                },
            }
        }
    };
    if !end_of_value(cur, ctx) {
        return Err(cur.error(what(ctx), "the end of the value"));
    }
    Ok(OpExpr { negate, op })
}

/// Parse a whole top-level filter value (`eq.5`, `not.in.(1,2)`, ...).
pub(crate) fn parse_op_value(value: &str, limits: &ParseLimits) -> Result<OpExpr, RestError> {
    let mut cur = Cursor::new(value);
    op_expr(&mut cur, Ctx::Top, limits)
}

fn stop_name(c: char, rest: &str) -> bool {
    matches!(c, '.' | ',' | '(' | ')' | '"') || rest.starts_with("->")
}

/// `->a->>b` after a field name; keys end at `->`, `.`, `,` or `)`.
/// Whether the last arrow is `->>`.
fn json_path(cur: &mut Cursor<'_>) -> Result<(Vec<String>, bool), RestError> {
    let (mut path, mut text) = (Vec::new(), false);
    while cur.starts_with("->") {
        text = cur.eat("->>");
        if !text {
            cur.eat("->");
        }
        crate::lex::json_step(cur, &stop_name, "JSON path", &mut path)?;
    }
    Ok((path, text))
}

/// Parse a filter key: `col`, `meta->a->>b`, `rel.sub.col`. Returns the
/// embedding path and the column.
pub(crate) fn parse_key(key: &str) -> Result<(Vec<String>, FieldRef), RestError> {
    let mut cur = Cursor::new(key);
    let mut segs = Vec::new();
    loop {
        let n = name(&mut cur, &stop_name).ok_or_else(|| cur.error("filter key", "a name"))?;
        if cur.starts_with("->") {
            let (json, text) = json_path(&mut cur)?;
            if !cur.at_end() {
                return Err(cur.error("filter key", "the end of the key after a JSON path"));
            }
            return Ok((
                segs,
                FieldRef {
                    name: n,
                    json,
                    text,
                },
            ));
        }
        if cur.at_end() {
            return Ok((
                segs,
                FieldRef {
                    name: n,
                    json: Vec::new(),
                    text: false,
                },
            ));
        }
        if !cur.eat(".") {
            return Err(cur.error("filter key", "`.` between names"));
        }
        segs.push(n);
    }
}

/// A logic tree: `and(...)` / `or(...)` (maybe negated) or one filter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum LogicTree {
    Expr {
        negate: bool,
        or: bool,
        items: Vec<LogicTree>,
    },
    Leaf {
        field: FieldRef,
        expr: OpExpr,
    },
}

/// Parse the value of an `or=`/`and=` parameter: `(item,item,...)`.
pub(crate) fn parse_logic(
    value: &str,
    negate: bool,
    or: bool,
    limits: &ParseLimits,
) -> Result<LogicTree, RestError> {
    let mut cur = Cursor::new(value);
    let items = group(&mut cur, 1, limits)?;
    cur.skip_ws();
    if !cur.at_end() {
        return Err(cur.error("logic tree", "the end after the closing `)`"));
    }
    Ok(LogicTree::Expr { negate, or, items })
}

fn group(
    cur: &mut Cursor<'_>,
    depth: usize,
    limits: &ParseLimits,
) -> Result<Vec<LogicTree>, RestError> {
    if depth > limits.ir.max_filter_depth {
        return Err(RestError::bad_request(format!(
            "logic trees are nested deeper than {} levels",
            limits.ir.max_filter_depth
        )));
    }
    cur.skip_ws();
    if !cur.eat("(") {
        return Err(cur
            .error("logic tree", "`(`")
            .with_hint("write or=(a.eq.1,b.gt.2)"));
    }
    let mut items = Vec::new();
    loop {
        cur.skip_ws();
        items.push(item(cur, depth, limits)?);
        cur.skip_ws();
        match cur.bump() {
            Some(',') => continue,
            Some(')') => break,
            _ => return Err(cur.error("logic tree", "`,` or `)`")),
        }
    }
    Ok(items)
}

fn item(cur: &mut Cursor<'_>, depth: usize, limits: &ParseLimits) -> Result<LogicTree, RestError> {
    let mut probe = cur.clone();
    let negate = probe.eat("not.");
    // `and(…)`, or `and (…)` with spaces, as PostgREST reads it.
    for (kw, or) in [("and", false), ("or", true)] {
        let mut after = probe.clone();
        if after.eat(kw) {
            after.skip_ws();
            if after.starts_with("(") {
                *cur = after;
                let items = group(cur, depth + 1, limits)?;
                return Ok(LogicTree::Expr { negate, or, items });
            }
        }
    }
    let n = name(cur, &stop_name)
        .ok_or_else(|| cur.error("logic tree", "a column name, `and(`, `or(` or `not.`"))?;
    let (json, text) = json_path(cur)?;
    if !cur.eat(".") {
        return Err(cur.error("logic tree", "`.` between the column and the operator"));
    }
    let expr = op_expr(cur, Ctx::Logic, limits)?;
    Ok(LogicTree::Leaf {
        field: FieldRef {
            name: n,
            json,
            text,
        },
        expr,
    })
}

/// A leaf a logic tree's owner lowers itself (an embedding's null check),
/// or `None` for a filter of the entity's own.
pub(crate) type LeafLowering<'a> =
    dyn Fn(&FieldRef, &OpExpr) -> Option<Result<Filter, RestError>> + 'a;

impl LogicTree {
    /// Lower to IR on `entity`, each leaf first offered to `leaf`.
    pub(crate) fn to_filter_with(
        &self,
        entity: &Entity,
        leaf: &LeafLowering<'_>,
    ) -> Result<Filter, RestError> {
        match self {
            Self::Leaf { field, expr } => match leaf(field, expr) {
                Some(f) => f,
                None => to_filter(field, expr, entity),
            },
            Self::Expr { negate, or, items } => {
                let filters = items
                    .iter()
                    .map(|i| i.to_filter_with(entity, leaf))
                    .collect::<Result<Vec<_>, _>>()?;
                let f = if *or {
                    Filter::or(filters)
                } else {
                    Filter::and(filters)
                };
                Ok(if *negate { Filter::not(f) } else { f })
            }
        }
    }
}

/// Type a URL value for a field: booleans and numbers become JSON-typed
/// values when they parse, everything else stays text for validation to
/// coerce (or to report with a pointer).
pub(crate) fn typed(ty: Option<&FieldType>, raw: &str) -> Value {
    let t = raw.trim();
    match ty {
        Some(FieldType::Boolean) => match t.to_ascii_lowercase().as_str() {
            "true" | "t" => Value::Bool(true),
            "false" | "f" => Value::Bool(false),
            _ => Value::Text(raw.to_string()),
        },
        Some(FieldType::Int16 | FieldType::Int32 | FieldType::Int64) => {
            if let Ok(i) = t.parse::<i64>() {
                Value::Int(i)
            } else {
                match t.parse::<f64>() {
                    Ok(f) if f.is_finite() && looks_numeric(t) => Value::Float(f),
                    _ => Value::Text(raw.to_string()),
                }
            }
        }
        Some(FieldType::Float32 | FieldType::Float64) => match t.parse::<f64>() {
            Ok(f) if f.is_finite() && looks_numeric(t) => Value::Float(f),
            _ => Value::Text(raw.to_string()),
        },
        // An array literal compared whole (`tags=eq.{a,b}`,
        // `grid=eq.{{1,2},{3,4}}`): its elements typed, its dimensions
        // kept. A malformed one stays text, which the array field refuses.
        Some(FieldType::Array { items }) if t.starts_with('{') => {
            fn typed_items(v: Value, items: &FieldType) -> Value {
                match v {
                    Value::Array(a) => {
                        Value::Array(a.into_iter().map(|i| typed_items(i, items)).collect())
                    }
                    Value::Text(s) => typed(Some(items), &s),
                    other => other,
                }
            }
            match crate::lex::pg_array_value(t, t.len()) {
                Ok(v) => typed_items(v, items),
                Err(_) => Value::Text(raw.to_string()),
            }
        }
        _ => Value::Text(raw.to_string()),
    }
}

/// Digits, sign, point and exponent only (Rust also parses `inf`, `NaN`).
fn looks_numeric(t: &str) -> bool {
    !t.is_empty()
        && t.chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '+' | '-' | '.' | 'e' | 'E'))
}

/// A JSON operand (PostgreSQL's `jsonb` input): `5`, `"text"`, `true`,
/// `null`, `{"a":1}`, `[1,2]`; anything else is PostgreSQL's 400 `22P02`.
fn json_operand(raw: &str) -> Result<serde_json::Value, RestError> {
    serde_json::from_str(raw.trim()).map_err(|_| {
        RestError::new(
            400,
            "22P02",
            format!("invalid input syntax for type json: `{raw}`"),
        )
        .with_hint(
            "JSON compares with JSON: eq.5, eq.\"text\", eq.{\"a\":1}; `->>` compares texts (data->>a=eq.text)",
        )
    })
}

/// PostgREST pattern → the IR's `LIKE` pattern, as PostgREST hands it to
/// PostgreSQL: `*` and `%` match any run, `_` one character, and `\`
/// escapes the next character (`\*`, `\%`, `\_`, `\\` match themselves).
/// A trailing lone `\` matches a backslash (PostgreSQL would refuse the
/// pattern), so every engine gets a well-formed pattern.
pub(crate) fn like_pattern(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        match c {
            '*' | '%' => out.push('%'),
            '\\' => match chars.next() {
                Some(n @ ('%' | '_' | '\\')) => {
                    out.push('\\');
                    out.push(n);
                }
                // No escape needed: `*` and other characters are literal
                // in a `LIKE` pattern.
                Some(n) => out.push(n),
                None => out.push_str("\\\\"),
            },
            c => out.push(c),
        }
    }
    out
}

fn field_type<'e>(entity: &'e Entity, name: &str) -> Option<&'e FieldType> {
    entity.field(name).ok().map(|f| &f.ty)
}

fn simple_filter(field: &str, ty: Option<&FieldType>, op: Simple, raw: &str) -> Filter {
    match op {
        Simple::Cmp(op) => Filter::cmp(field, op, typed(ty, raw)),
        Simple::Like { ci } => Filter::Like {
            field: field.to_string(),
            pattern: like_pattern(raw),
            case_insensitive: ci,
        },
        Simple::Regex { ci } => Filter::Regex {
            field: field.to_string(),
            path: Vec::new(),
            pattern: raw.to_string(),
            case_insensitive: ci,
        },
        Simple::IsDistinct => Filter::or(vec![
            Filter::cmp(field, CompareOp::Neq, typed(ty, raw)),
            Filter::is(field, IsValue::Null),
        ]),
    }
}

/// Lower one filter to IR, typing its values by the field.
pub(crate) fn to_filter(
    field: &FieldRef,
    expr: &OpExpr,
    entity: &Entity,
) -> Result<Filter, RestError> {
    let f = if field.json.is_empty() {
        plain_filter(&field.name, &expr.op, entity)?
    } else {
        // A JSON `null` is a value only in a JSON field: an array's or a
        // composite's NULL element is SQL `NULL` after either arrow.
        let json = field_type(entity, &field.name) == Some(&FieldType::Json);
        json_filter(field, &expr.op, json)?
    };
    Ok(if expr.negate { Filter::not(f) } else { f })
}

/// `cs`/`cd` with a JSON operand (`{"a":1}`, `["x"]`) on a JSON field or
/// a path inside one; `None` for other operators.
fn json_containment(
    name: &str,
    path: &[String],
    op: &Operation,
) -> Option<Result<Filter, RestError>> {
    let (op, raw) = match op {
        Operation::Range {
            op: RangeOp::Contains,
            value,
        }
        | Operation::Array {
            op: ArrayOp::Contains,
            raw: value,
            ..
        } => (ArrayOp::Contains, value),
        Operation::Range {
            op: RangeOp::ContainedBy,
            value,
        }
        | Operation::Array {
            op: ArrayOp::ContainedBy,
            raw: value,
            ..
        } => (ArrayOp::ContainedBy, value),
        _ => return None,
    };
    Some(
        serde_json::from_str(raw)
            .map(|value| Filter::JsonContains {
                field: name.to_string(),
                path: path.to_vec(),
                op,
                value,
            })
            .map_err(|e| {
                RestError::query_syntax(format!("`{raw}` is not a JSON value: {e}")).with_hint(
                    "on a JSON column, `cs` and `cd` take JSON: cs.{\"a\":1}, cs.[\"x\"]",
                )
            }),
    )
}

fn plain_filter(name: &str, op: &Operation, entity: &Entity) -> Result<Filter, RestError> {
    let ty = field_type(entity, name);
    // `cs`/`cd` on a JSON field: a JSON operand (`{"a":1}`, `["x"]`).
    if ty == Some(&FieldType::Json)
        && let Some(f) = json_containment(name, &[], op)
    {
        return f;
    }
    // `eq`/`neq`/`in` of a whole JSON field: `jsonb`'s `=` with a JSON
    // operand (a string quoted, `data=eq."text"`), as PostgreSQL compares
    // (not a composite or geometry field, which PostgreSQL compares in
    // their own types).
    let plain_json = entity
        .field(name)
        .is_ok_and(|f| f.ty == FieldType::Json && !f.is_composite() && !f.is_geometry());
    if plain_json {
        let equals = |raw: &str| -> Result<Filter, RestError> {
            Ok(Filter::JsonEquals {
                field: name.to_string(),
                path: Vec::new(),
                value: json_operand(raw)?,
            })
        };
        match op {
            Operation::Simple {
                op: Simple::Cmp(CompareOp::Eq),
                value,
            } => return equals(value),
            Operation::Simple {
                op: Simple::Cmp(CompareOp::Neq),
                value,
            } => return Ok(Filter::not(equals(value)?)),
            Operation::In(values) => {
                let each = values.iter().map(|v| equals(v));
                return Ok(Filter::or(each.collect::<Result<Vec<_>, _>>()?));
            }
            _ => {}
        }
    }
    Ok(match op {
        Operation::Simple { op, value } => simple_filter(name, ty, *op, value),
        Operation::Quantified { op, quant, values } => {
            quantified(*quant, values, |v| Ok(simple_filter(name, ty, *op, v)))?
        }
        Operation::In(values) => Filter::In {
            field: name.to_string(),
            values: values.iter().map(|v| typed(ty, v)).collect(),
        },
        Operation::Is(w) => Filter::is(
            name,
            match w {
                IsWord::Null => IsValue::Null,
                IsWord::Unknown => IsValue::Unknown,
                IsWord::NotNull => IsValue::NotNull,
                IsWord::True => IsValue::True,
                IsWord::False => IsValue::False,
            },
        ),
        Operation::Fts { kind, lang, value } => text_search(name, Vec::new(), *kind, lang, value),
        Operation::Range { op, value } => Filter::Range {
            field: name.to_string(),
            op: *op,
            value: value.clone(),
        },
        Operation::Array { op, values, .. } => {
            let values = values.as_ref().map_err(Clone::clone)?;
            let items = match ty {
                Some(FieldType::Array { items }) => Some(items.as_ref()),
                _ => None,
            };
            Filter::Array {
                field: name.to_string(),
                op: *op,
                values: values
                    .iter()
                    .map(|v| v.as_deref().map_or(Value::Null, |v| typed(items, v)))
                    .collect(),
            }
        }
    })
}

/// `op(any)` / `op(all)` over `values`: `or` / `and` of `one` for each
/// (a NULL in the list is a 400).
fn quantified(
    quant: Quant,
    values: &[Option<String>],
    one: impl Fn(&str) -> Result<Filter, RestError>,
) -> Result<Filter, RestError> {
    let filters = values
        .iter()
        .map(|v| match v.as_deref() {
            Some(v) => one(v),
            None => Err(
                RestError::query_syntax("NULL is not allowed in an (any)/(all) list")
                    .with_hint("use is.null"),
            ),
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(match quant {
        Quant::Any => Filter::or(filters),
        Quant::All => Filter::and(filters),
    })
}

/// `fts` `plfts` `phfts` `wfts` (`col=fts(english).fox`), on a field or
/// the string at a JSON path in it.
fn text_search(
    name: &str,
    path: Vec<String>,
    kind: Fts,
    lang: &Option<String>,
    value: &str,
) -> Filter {
    Filter::TextSearch {
        field: name.to_string(),
        path,
        query: value.to_string(),
        language: lang.clone(),
        syntax: match kind {
            Fts::Query => TextSyntax::TsQuery,
            Fts::Plain => TextSyntax::Plain,
            Fts::Phrase => TextSyntax::Phrase,
            Fts::Web => TextSyntax::Web,
        },
    }
}

fn json_filter(field: &FieldRef, op: &Operation, json: bool) -> Result<Filter, RestError> {
    let one = |op: CompareOp, v: &str| -> Result<Filter, RestError> {
        // `->>` answers text: `data->>n=eq.1` compares the text `1` (of
        // the number 1 and of the string "1"), and `data->>n=gt.5` texts
        // (`'10' < '5'`), as PostgreSQL does.
        if field.text {
            return Ok(Filter::JsonText {
                field: field.name.clone(),
                path: field.json.clone(),
                op,
                value: v.to_string(),
            });
        }
        // `->` answers JSON, compared with JSON as `jsonb` compares
        // (PostgREST leaves the operand to PostgreSQL as `jsonb`): a
        // string quoted (`data->a=eq."x"`), a document equal as `jsonb`'s
        // `=` has it, every other comparison across types by type.
        let value = json_operand(v)?;
        if (value.is_object() || value.is_array())
            && let CompareOp::Eq | CompareOp::Neq = op
        {
            let equal = Filter::JsonEquals {
                field: field.name.clone(),
                path: field.json.clone(),
                value,
            };
            return Ok(if op == CompareOp::Eq {
                equal
            } else {
                Filter::not(equal)
            });
        }
        Ok(Filter::JsonPath {
            field: field.name.clone(),
            path: field.json.clone(),
            op,
            value,
        })
    };
    let like = |ci: bool, v: &str| Filter::JsonLike {
        field: field.name.clone(),
        path: field.json.clone(),
        pattern: like_pattern(v),
        case_insensitive: ci,
    };
    let regex = |ci: bool, v: &str| Filter::Regex {
        field: field.name.clone(),
        path: field.json.clone(),
        pattern: v.to_string(),
        case_insensitive: ci,
    };
    // `->` keeps a JSON `null` (a value: not SQL `NULL`); `->>` gives
    // its text, SQL `NULL`, as PostgreSQL's operators do.
    let null = || Filter::JsonIsNull {
        field: field.name.clone(),
        path: field.json.clone(),
        missing_only: json && !field.text,
    };
    if let Some(f) = json_containment(&field.name, &field.json, op) {
        return f;
    }
    match op {
        Operation::Simple {
            op: Simple::Like { ci },
            value,
        } => Ok(like(*ci, value)),
        Operation::Quantified {
            op: Simple::Like { ci },
            quant,
            values,
        } => quantified(*quant, values, |v| Ok(like(*ci, v))),
        Operation::Simple {
            op: Simple::Regex { ci },
            value,
        } => Ok(regex(*ci, value)),
        Operation::Quantified {
            op: Simple::Regex { ci },
            quant,
            values,
        } => quantified(*quant, values, |v| Ok(regex(*ci, v))),
        Operation::Fts { kind, lang, value } => Ok(text_search(
            &field.name,
            field.json.clone(),
            *kind,
            lang,
            value,
        )),
        Operation::Is(IsWord::True | IsWord::False | IsWord::Unknown) => Err(RestError::new(
            400,
            "42804",
            "argument of IS TRUE, IS FALSE or IS UNKNOWN must be type boolean, not a JSON path",
        )
        .with_hint("compare the value (`data->flag=eq.true`), or test it with is.null")),
        Operation::Is(IsWord::Null) => Ok(null()),
        Operation::Is(IsWord::NotNull) => Ok(Filter::not(null())),
        Operation::Simple {
            op: Simple::Cmp(c),
            value,
        } => one(*c, value),
        Operation::Quantified {
            op: Simple::Cmp(c),
            quant,
            values,
        } => quantified(*quant, values, |v| one(*c, v)),
        Operation::In(values) => Ok(Filter::or(
            values
                .iter()
                .map(|v| one(CompareOp::Eq, v))
                .collect::<Result<_, _>>()?,
        )),
        _ => Err(RestError::unsupported(
            "on a JSON path only eq, neq, gt, gte, lt, lte, in, like, ilike, match, imatch, fts, plfts, phfts, wfts, cs, cd and is.null / is.not_null are supported",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lim() -> ParseLimits {
        ParseLimits::default()
    }

    fn op(v: &str) -> Result<OpExpr, RestError> {
        parse_op_value(v, &lim())
    }

    #[test]
    fn like_patterns() {
        assert_eq!(like_pattern("*a*"), "%a%");
        // `%` and `_` are wildcards; a trailing `\` is a literal one.
        assert_eq!(like_pattern("50%_\\"), "50%_\\\\");
        assert_eq!(like_pattern("50\\%\\_\\*"), "50\\%\\_*");
        assert_eq!(like_pattern(""), "");
        assert_eq!(like_pattern("é*ü"), "é%ü");
    }

    #[test]
    fn typing() {
        let int = FieldType::Int32;
        assert_eq!(typed(Some(&int), " 7 "), Value::Int(7));
        assert_eq!(typed(Some(&int), "-0"), Value::Int(0));
        assert_eq!(typed(Some(&int), "1e3"), Value::Float(1000.0));
        assert_eq!(typed(Some(&int), "0x10"), Value::Text("0x10".into()));
        assert_eq!(
            typed(Some(&int), "infinity"),
            Value::Text("infinity".into())
        );
        assert_eq!(typed(Some(&FieldType::Float64), "-2.5"), Value::Float(-2.5));
        assert_eq!(
            typed(Some(&FieldType::Float64), "NaN"),
            Value::Text("NaN".into())
        );
        assert_eq!(typed(Some(&FieldType::Boolean), "T"), Value::Bool(true));
        assert_eq!(typed(Some(&FieldType::Boolean), "f"), Value::Bool(false));
        assert_eq!(
            typed(Some(&FieldType::Boolean), "1"),
            Value::Text("1".into())
        );
        assert_eq!(
            typed(Some(&FieldType::Text), " 7 "),
            Value::Text(" 7 ".into())
        );
        assert_eq!(typed(None, "7"), Value::Text("7".into()));
        let json = |raw: &str| json_operand(raw).ok();
        assert_eq!(json(" 7 "), Some(serde_json::json!(7)));
        assert_eq!(json("-7.25"), Some(serde_json::json!(-7.25)));
        assert_eq!(json("true"), Some(serde_json::json!(true)));
        assert_eq!(json("\"x\""), Some(serde_json::json!("x")));
        assert_eq!(json("null"), Some(serde_json::Value::Null));
        for bad in ["True", "x", "inf", "'x'", ""] {
            assert_eq!(json_operand(bad).map_err(|e| e.code), Err("22P02".into()));
        }
    }

    #[test]
    fn op_expressions() {
        assert_eq!(
            op("not.eq.x").ok(),
            Some(OpExpr {
                negate: true,
                op: Operation::Simple {
                    op: Simple::Cmp(CompareOp::Eq),
                    value: "x".into()
                }
            })
        );
        assert_eq!(
            op("in.(a)").ok().map(|o| o.op),
            Some(Operation::In(vec!["a".into()]))
        );
        assert_eq!(
            op("in.( a , b )").ok().map(|o| o.op),
            // As in PostgREST, blanks after `(` are skipped, the rest is kept.
            Some(Operation::In(vec!["a ".into(), " b ".into()]))
        );
        assert_eq!(
            op("fts(simple).x.y").ok().map(|o| o.op),
            Some(Operation::Fts {
                kind: Fts::Query,
                lang: Some("simple".into()),
                value: "x.y".into()
            })
        );
        assert_eq!(
            op("wfts().x").map_err(|e| e.status),
            Err(400),
            "empty language"
        );
        assert_eq!(
            op("like(any).{a,\"b\"}").ok().map(|o| o.op),
            Some(Operation::Quantified {
                op: Simple::Like { ci: false },
                quant: Quant::Any,
                values: vec![Some("a".into()), Some("b".into())]
            })
        );
        assert_eq!(op("is.null.x").map_err(|e| e.status), Err(400));
        assert_eq!(op("in.(1)x").map_err(|e| e.status), Err(400));
        // Unterminated quotes and parentheses are 400s, not values.
        for bad in [
            "in.(\"unterminated)",
            "in.(\"a\",\"b)",
            "in.(a,\"b\\\")",
            "in.(\"a",
            "in.(a",
            "in.(",
        ] {
            assert_eq!(op(bad).map_err(|e| e.status), Err(400), "{bad}");
        }
        // A quote inside an unquoted value is kept, as PostgREST does.
        assert_eq!(
            op("in.(a\"b,\"c\")").ok().map(|o| o.op),
            Some(Operation::In(vec!["a\"b".into(), "c".into()]))
        );
    }

    #[test]
    fn logic_values() {
        let v = |s: &str, ctx| single_value(&mut Cursor::new(s), ctx).ok();
        assert_eq!(v("{a,b},rest", Ctx::Logic).as_deref(), Some("{a,b}"));
        assert_eq!(v("{a,{b}},rest", Ctx::Logic).as_deref(), Some("{a"));
        assert_eq!(v("\"q,x\")", Ctx::Logic).as_deref(), Some("q,x"));
        assert_eq!(v("\"q\"x,", Ctx::Logic).as_deref(), Some("\"q\"x"));
        assert_eq!(v("a,b", Ctx::Top).as_deref(), Some("a,b"));
        // An opened quote must close inside a logic tree; at the top level
        // the whole rest is the value.
        assert_eq!(v("\"q,x)", Ctx::Logic), None);
        assert_eq!(v("\"q\\\")", Ctx::Logic), None);
        assert_eq!(v("\"q", Ctx::Top).as_deref(), Some("\"q"));
    }

    #[test]
    fn keys() {
        let (path, f) = parse_key("a.b.c").unwrap_or_default_key();
        assert_eq!(path, ["a", "b"]);
        assert_eq!(f.name, "c");
        let (path, f) = parse_key("m->\"x->y\"->>0").unwrap_or_default_key();
        assert!(path.is_empty());
        assert_eq!(f.json, ["x->y", "0"]);
        for bad in [
            "", ".", "a.", ".a", "a..b", "a->", "a->b.c", "\"a", "a\"b\"",
        ] {
            assert!(parse_key(bad).is_err(), "{bad}");
        }
    }

    trait OrDefault {
        fn unwrap_or_default_key(self) -> (Vec<String>, FieldRef);
    }

    impl OrDefault for Result<(Vec<String>, FieldRef), RestError> {
        fn unwrap_or_default_key(self) -> (Vec<String>, FieldRef) {
            self.unwrap_or((
                vec!["<error>".into()],
                FieldRef {
                    name: String::new(),
                    json: Vec::new(),
                    text: false,
                },
            ))
        }
    }

    #[test]
    fn logic_trees_take_spaces_before_their_parentheses() {
        let t = parse_logic(
            "( and ( a.in.( 1, 2, 3 ) , a.eq.3 ) , or ( a.eq.2 , a.eq.3 ) )",
            false,
            false,
            &lim(),
        )
        .expect("spaces");
        let LogicTree::Expr { items, .. } = t else {
            panic!("a tree");
        };
        assert!(matches!(
            &items[..],
            [
                LogicTree::Expr { or: false, .. },
                LogicTree::Expr { or: true, .. }
            ]
        ));
        // A column whose name starts like a keyword is a column.
        assert!(parse_logic("(order_no.eq.1,orbit.eq.2)", false, true, &lim()).is_ok());
    }

    #[test]
    fn logic_trees() {
        let t = parse_logic("(a.eq.1,not.and(b.is.null,c->d.gt.2))", false, true, &lim());
        let Ok(LogicTree::Expr { negate, or, items }) = t else {
            panic!("{t:?}");
        };
        assert!(!negate && or);
        assert_eq!(items.len(), 2);
        assert!(matches!(
            items.get(1),
            Some(LogicTree::Expr { negate: true, or: false, items }) if items.len() == 2
        ));
        let mut deep = ParseLimits::default();
        deep.ir.max_filter_depth = 2;
        assert!(parse_logic("(and(a.eq.1))", false, true, &deep).is_ok());
        for bad in [
            "(a.eq.\"x)",
            "(a.eq.\"x,b.eq.1)",
            "(a.in.(\"x),b.eq.1)",
            "(a.eq.1,or(b.eq.2)",
            "(a.eq.1",
            "(and(a.eq.1,b.eq.2)",
        ] {
            assert_eq!(
                parse_logic(bad, false, true, &lim())
                    .map(|_| ())
                    .map_err(|e| e.status),
                Err(400),
                "{bad}"
            );
        }
        assert!(parse_logic("(and(or(a.eq.1)))", false, true, &deep).is_err());
    }
}
