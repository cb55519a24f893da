//! `select=` (vertical filtering and embedding) and `order=`.

use baas_core::ir::{Direction, Nulls, OrderBy};

use crate::lex::{Cursor, name};
use crate::{ParseLimits, RestError};

/// One item of `select=`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum SelectItem {
    /// `*`
    Star,
    /// `col` or `alias:col`.
    Field { alias: Option<String>, name: String },
    /// `col->a->>b`, `alias:col->0`, `col::text`, `col->a::text`: a JSON
    /// path into a field and/or a cast, shaped after the engine answers
    /// ([`crate::FieldAliases`]).
    Path {
        alias: Option<String>,
        name: String,
        shape: crate::params::Shape,
    },
    /// `col.sum()`, `alias:col.max()`, `col.sum()::text` (`count()`
    /// arrives as an empty embedding named `count`: the parameters tell
    /// them apart; `count()::text` here, with an empty `field`).
    Aggregate {
        alias: Option<String>,
        func: String,
        field: String,
        /// A JSON path and/or a cast before it: what it aggregates
        /// (PostgREST's input cast, `data->>n::int.sum()`); empty for the
        /// stored value.
        input: crate::params::Shape,
        /// `::type` after it: the result's cast (PostgREST's
        /// `total.sum()::text`).
        cast: Option<String>,
    },
    /// `rel(...)`, `alias:rel!hint!inner(...)`.
    Embed {
        alias: Option<String>,
        name: String,
        hint: Option<String>,
        inner: bool,
        /// `None` for an empty `rel()` (embedded only to filter the parents).
        children: Option<Vec<SelectItem>>,
        /// `...rel(cols)`: the embed's fields join its parent's (to-one),
        /// or become arrays of values there (to-many), as in PostgREST 12.
        spread: bool,
    },
}

fn stop_select(c: char, rest: &str) -> bool {
    matches!(c, ',' | '(' | ')' | '!' | ':' | '"' | '.') || rest.starts_with("->")
}

/// Parse a `select=` value. An empty value means `*`.
pub(crate) fn parse_select(s: &str, limits: &ParseLimits) -> Result<Vec<SelectItem>, RestError> {
    if s.trim().is_empty() {
        return Ok(vec![SelectItem::Star]);
    }
    let mut cur = Cursor::new(s);
    let items = forest(&mut cur, 1, limits)?;
    if !cur.at_end() {
        return Err(cur.error("select", "`,` or the end"));
    }
    Ok(items)
}

fn forest(
    cur: &mut Cursor<'_>,
    depth: usize,
    limits: &ParseLimits,
) -> Result<Vec<SelectItem>, RestError> {
    let mut items = Vec::new();
    loop {
        items.push(item(cur, depth, limits)?);
        cur.skip_ws();
        if !cur.eat(",") {
            return Ok(items);
        }
    }
}

fn item(cur: &mut Cursor<'_>, depth: usize, limits: &ParseLimits) -> Result<SelectItem, RestError> {
    cur.skip_ws();
    if cur.eat("*") {
        cur.skip_ws();
        return if matches!(cur.peek(), None | Some(',' | ')')) {
            Ok(SelectItem::Star)
        } else {
            Err(cur.error("select", "`,` after `*`"))
        };
    }
    if cur.eat("...") {
        let at = cur.rest().to_string();
        return match item(cur, depth, limits)? {
            SelectItem::Embed {
                alias: None,
                name,
                hint,
                inner,
                children: Some(children),
                spread: false,
            } => Ok(SelectItem::Embed {
                alias: None,
                name,
                hint,
                inner,
                children: Some(children),
                spread: true,
            }),
            _ => Err(RestError::query_syntax(format!(
                "a spread is `...rel(cols)`, an embedding with columns and no alias: `...{at}`"
            ))),
        };
    }
    if cur.starts_with("..") {
        return Err(cur.error("select", "`...rel(cols)` (three dots)"));
    }
    let first =
        name(cur, &stop_select).ok_or_else(|| cur.error("select", "a column or relation name"))?;
    let (alias, n) = if cur.starts_with(":") && !cur.starts_with("::") {
        cur.eat(":");
        let n = name(cur, &stop_select)
            .ok_or_else(|| cur.error("select", "a column or relation name after the alias"))?;
        (Some(first), n)
    } else {
        (None, first)
    };
    let mut input = crate::params::Shape::default();
    if cur.starts_with("->") || cur.starts_with("::") {
        let mut shape = crate::params::Shape::default();
        while cur.starts_with("->") {
            if shape.text {
                return Err(cur.error("select", "the end of the path after `->>`"));
            }
            shape.text = cur.eat("->>");
            if !shape.text {
                cur.eat("->");
            }
            crate::lex::json_step(cur, &stop_select, "select", &mut shape.path)?;
        }
        if cur.eat("::") {
            shape.cast = Some(
                name(cur, &stop_select).ok_or_else(|| cur.error("select", "a type after `::`"))?,
            );
        }
        cur.skip_ws();
        if !cur.starts_with(".") {
            if !matches!(cur.peek(), None | Some(',' | ')')) {
                return Err(cur.error(
                    "select",
                    "`,`, an aggregate (`.sum()`…) or the end after a JSON path or a cast",
                ));
            }
            return Ok(SelectItem::Path {
                alias,
                name: n,
                shape,
            });
        }
        input = shape;
    }
    // `col.sum()`, or `data->>n::int.sum()`: the aggregate of that value.
    if cur.starts_with(".") {
        if let Some(func) = aggregate_call(cur) {
            let cast = aggregate_cast(cur)?;
            cur.skip_ws();
            return Ok(SelectItem::Aggregate {
                alias,
                func,
                field: n,
                input,
                cast,
            });
        }
        return Err(cur.error(
            "select",
            "`,`, `(`, an aggregate (`.sum()`, `.avg()`, `.min()`, `.max()`, `.count()`) or the end after a name",
        ));
    }
    let mut hint = None;
    let mut inner = false;
    let mut bangs = false;
    while cur.eat("!") {
        bangs = true;
        let word = name(cur, &stop_select)
            .ok_or_else(|| cur.error("select", "a hint or join type after `!`"))?;
        match word.as_str() {
            "inner" => inner = true,
            "left" => inner = false,
            _ if hint.is_none() => hint = Some(word),
            _ => {
                return Err(RestError::query_syntax(format!(
                    "`{n}` has more than one hint"
                )));
            }
        }
    }
    if cur.eat("(") {
        if depth > limits.max_select_depth() {
            return Err(RestError::bad_request(format!(
                "embeddings are nested deeper than {} levels",
                limits.max_select_depth()
            )));
        }
        cur.skip_ws();
        let children = if cur.starts_with(")") {
            None
        } else {
            Some(forest(cur, depth + 1, limits)?)
        };
        if !cur.eat(")") {
            return Err(cur.error("select", "`,` or `)` closing the embedding"));
        }
        // `count()::text`: no embedding is cast, so this is the aggregate.
        if n == "count"
            && children.is_none()
            && hint.is_none()
            && !inner
            && let Some(cast) = aggregate_cast(cur)?
        {
            cur.skip_ws();
            return Ok(SelectItem::Aggregate {
                alias,
                func: n,
                field: String::new(),
                input: crate::params::Shape::default(),
                cast: Some(cast),
            });
        }
        cur.skip_ws();
        return Ok(SelectItem::Embed {
            spread: false,
            alias,
            name: n,
            hint,
            inner,
            children,
        });
    }
    if bangs {
        return Err(cur.error("select", "`(` after the embedding hint"));
    }
    cur.skip_ws();
    if !matches!(cur.peek(), None | Some(',' | ')')) {
        return Err(cur.error("select", "`,`, `(` or the end after a name"));
    }
    Ok(SelectItem::Field { alias, name: n })
}

/// `.sum()`, `.avg()`, `.min()`, `.max()` or `.count()` after a field (or
/// a value of it): the function's name.
fn aggregate_call(cur: &mut Cursor<'_>) -> Option<String> {
    ["sum", "avg", "min", "max", "count"]
        .into_iter()
        .find(|func| cur.eat(&format!(".{func}()")))
        .map(str::to_string)
}

/// The `::type` after an aggregate, if any.
fn aggregate_cast(cur: &mut Cursor<'_>) -> Result<Option<String>, RestError> {
    if !cur.eat("::") {
        return Ok(None);
    }
    name(cur, &stop_select)
        .map(Some)
        .ok_or_else(|| cur.error("select", "a type after `::`"))
}

fn stop_order(c: char, rest: &str) -> bool {
    matches!(c, '.' | ',' | '(' | ')' | '"') || rest.starts_with("->")
}

/// A JSON path in an `order=` key, from its first `->`: the keys, and
/// whether it ends with `->>` (the value's text).
fn order_path(cur: &mut Cursor<'_>) -> Result<(Vec<String>, bool), RestError> {
    let mut path = Vec::new();
    let mut text = false;
    while cur.starts_with("->") {
        if text {
            return Err(cur.error("order", "the end of the path after `->>`"));
        }
        text = cur.eat("->>");
        if !text {
            cur.eat("->");
        }
        crate::lex::json_step(cur, &stop_order, "order", &mut path)?;
    }
    Ok((path, text))
}

/// Parse an `order=` value: `a.desc.nullslast,b`.
pub(crate) fn parse_order(s: &str) -> Result<Vec<OrderBy>, RestError> {
    let mut cur = Cursor::new(s);
    let mut out = Vec::new();
    loop {
        let field =
            name(&mut cur, &stop_order).ok_or_else(|| cur.error("order", "a column name"))?;
        let mut o = if cur.eat("(") {
            // `rel(col)`, `rel(data->a)`: a field of the to-one related
            // row, or a value inside it (PostgREST's path is inside).
            let inner = name(&mut cur, &stop_order)
                .ok_or_else(|| cur.error("order", "a column name inside `(…)`"))?;
            let mut o = OrderBy::asc(inner);
            if cur.starts_with("->") {
                let (path, text) = order_path(&mut cur)?;
                o = o.at_path(path, text);
            }
            if !cur.eat(")") {
                return Err(cur.error("order", "`)` after the related column"));
            }
            o.through(field)
        } else {
            OrderBy::asc(field)
        };
        if cur.starts_with("->") {
            if o.related.is_some() {
                return Err(cur
                    .error("order", "`.`, `,` or the end after `rel(col)`")
                    .with_hint("write the path inside the parentheses: `rel(col->key)`"));
            }
            let (path, text) = order_path(&mut cur)?;
            o = o.at_path(path, text);
        }
        let mut seen_dir = false;
        while cur.eat(".") {
            let word = cur.take_until(|c, _| c == '.' || c == ',');
            match word.trim() {
                "asc" if !seen_dir && o.nulls.is_none() => seen_dir = true,
                "desc" if !seen_dir && o.nulls.is_none() => {
                    seen_dir = true;
                    o.direction = Direction::Desc;
                }
                "nullsfirst" if o.nulls.is_none() => o.nulls = Some(Nulls::First),
                "nullslast" if o.nulls.is_none() => o.nulls = Some(Nulls::Last),
                other => {
                    return Err(
                        RestError::query_syntax(format!("failed to parse order (`{s}`)"))
                            .with_details(format!("unexpected `{other}`"))
                            .with_hint("write order=col.asc|desc.nullsfirst|nullslast,col2"),
                    );
                }
            }
        }
        cur.skip_ws();
        out.push(o);
        if cur.at_end() {
            return Ok(out);
        }
        if !cur.eat(",") {
            return Err(cur.error("order", "`,` or the end"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sel(s: &str) -> Result<Vec<SelectItem>, RestError> {
        parse_select(s, &ParseLimits::default())
    }

    fn field(n: &str) -> SelectItem {
        SelectItem::Field {
            alias: None,
            name: n.into(),
        }
    }

    /// A JSON path step is a key or an index; an unquoted key does not
    /// start with `-` (PostgREST's JsonOperatorSpec: `data->>--34` is a
    /// parse error), in `select`, filters and `order`.
    #[test]
    fn json_steps_are_keys_or_indexes() {
        for ok in ["data->>-34", "data->-1->a", "data->a-b", "data->\"-x\""] {
            assert!(sel(ok).is_ok(), "{ok}");
        }
        for bad in ["data->>--34", "data->-", "data->-x"] {
            let e = sel(bad).expect_err(bad);
            assert_eq!((e.status, e.code.as_str()), (400, "PGRST100"), "{bad}");
        }
        assert!(crate::filter::parse_key("data->--1").is_err());
        assert!(crate::filter::parse_key("data->-1").is_ok());
        assert!(parse_order("data->--1").is_err());
        assert!(parse_order("data->-1.desc").is_ok());
    }

    /// PostgREST's input cast: a path and/or a cast before the aggregate,
    /// with the result's cast after it.
    #[test]
    fn aggregates_of_a_value() {
        let shape = |path: &[&str], text: bool, cast: Option<&str>| crate::params::Shape {
            path: path.iter().map(|p| p.to_string()).collect(),
            text,
            cast: cast.map(str::to_string),
        };
        assert_eq!(
            sel("s:data->>key::integer.sum()::text").ok(),
            Some(vec![SelectItem::Aggregate {
                alias: Some("s".into()),
                func: "sum".into(),
                field: "data".into(),
                input: shape(&["key"], true, Some("integer")),
                cast: Some("text".into()),
            }])
        );
        assert_eq!(
            sel("total::int.max(),n").ok(),
            Some(vec![
                SelectItem::Aggregate {
                    alias: None,
                    func: "max".into(),
                    field: "total".into(),
                    input: shape(&[], false, Some("int")),
                    cast: None,
                },
                field("n")
            ])
        );
        assert_eq!(
            sel("data->a.min()").ok(),
            Some(vec![SelectItem::Aggregate {
                alias: None,
                func: "min".into(),
                field: "data".into(),
                input: shape(&["a"], false, None),
                cast: None,
            }])
        );
        for bad in ["data->a.nope()", "total::int.sum", "data->a(x)"] {
            assert!(sel(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn items() {
        assert_eq!(
            sel("a, b ,*").ok(),
            Some(vec![field("a"), field("b"), SelectItem::Star])
        );
        assert_eq!(
            sel("x:rel!fk!inner(a,sub())").ok(),
            Some(vec![SelectItem::Embed {
                alias: Some("x".into()),
                name: "rel".into(),
                hint: Some("fk".into()),
                inner: true,
                spread: false,
                children: Some(vec![
                    field("a"),
                    SelectItem::Embed {
                        alias: None,
                        name: "sub".into(),
                        hint: None,
                        inner: false,
                        children: None,
                        spread: false,
                    }
                ])
            }])
        );
        assert_eq!(
            sel("r!inner!left(*)")
                .ok()
                .and_then(|v| v.into_iter().next()),
            Some(SelectItem::Embed {
                alias: None,
                name: "r".into(),
                hint: None,
                inner: false,
                children: Some(vec![SelectItem::Star]),
                spread: false,
            })
        );
        assert_eq!(sel("\"a,b\"").ok(), Some(vec![field("a,b")]));
        assert_eq!(sel("first-name").ok(), Some(vec![field("first-name")]));
        assert_eq!(sel("名前").ok(), Some(vec![field("名前")]));
    }

    #[test]
    fn depth() {
        let mut l = ParseLimits::default();
        l.ir.max_embed_depth = 2;
        assert!(parse_select("a(b)", &l).is_ok());
        assert!(parse_select("a(b(c))", &l).is_err());
        let mut l0 = ParseLimits::default();
        l0.ir.max_embed_depth = 1;
        assert!(parse_select("a(*)", &l0).is_err());
        assert!(parse_select("a", &l0).is_ok());
    }

    #[test]
    fn orders() {
        assert_eq!(
            parse_order(" a .desc, b").ok(),
            Some(vec![OrderBy::desc("a"), OrderBy::asc("b")])
        );
        assert!(parse_order("a.desc,").is_err());
        assert!(parse_order("a.DESC").is_err());
        // A related row's JSON value: the path inside the parentheses,
        // as PostgREST writes it; after them, a 400 that says so.
        assert_eq!(
            parse_order("rel(data->a->>b).desc,id").ok(),
            Some(vec![
                OrderBy::desc("data")
                    .at_path(vec!["a".into(), "b".into()], true)
                    .through("rel"),
                OrderBy::asc("id")
            ])
        );
        let after = parse_order("rel(data)->a").unwrap_err();
        assert_eq!(after.status, 400, "{after:?}");
        assert!(parse_order("rel(data->>a->b)").is_err());
    }
}
