//! Low-level lexing shared by the grammar parsers: query-string decoding, a
//! char cursor that never slices off a char boundary, quoted values and
//! PostgreSQL array literals.

use baas_core::ir::MAX_JSON_PATH_STEPS;
use percent_encoding::percent_decode_str;

// An array literal has at most as many dimensions as an array value
// (PostgreSQL's `MAXDIM`): deeper nesting is an error, and bounds the
// parser's recursion.
use baas_core::Value;
use baas_core::value::MAX_ARRAY_DIMS;

use crate::RestError;

/// One decoded `key=value` pair; `value` is `None` for a bare `key`.
pub(crate) type Param = (String, Option<String>);

/// Decode one query-string component: `+` is a space, then percent-decoding;
/// the result must be UTF-8.
pub(crate) fn decode_component(s: &str) -> Result<String, RestError> {
    let spaced = s.replace('+', " ");
    percent_decode_str(&spaced)
        .decode_utf8()
        .map(|c| c.into_owned())
        .map_err(|_| {
            RestError::query_syntax("the query string is not valid UTF-8 after percent-decoding")
        })
}

/// Split and decode a raw query string (a leading `?` is ignored, empty
/// pairs are skipped).
pub(crate) fn parse_query_string(q: &str) -> Result<Vec<Param>, RestError> {
    let q = q.strip_prefix('?').unwrap_or(q);
    let mut out = Vec::new();
    for pair in q.split('&') {
        if pair.is_empty() {
            continue;
        }
        let (k, v) = match pair.split_once('=') {
            Some((k, v)) => (k, Some(v)),
            None => (pair, None),
        };
        let k = decode_component(k)?;
        let v = v.map(decode_component).transpose()?;
        out.push((k, v));
    }
    Ok(out)
}

/// At most `max` chars of `s` (with `…` when cut), for echoing input in messages.
pub(crate) fn clip(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        Some((i, _)) => format!("{}…", s.get(..i).unwrap_or_default()),
        None => s.to_string(),
    }
}

/// A position in a string that only moves by whole chars.
#[derive(Debug, Clone)]
pub(crate) struct Cursor<'a> {
    s: &'a str,
    pos: usize,
}

impl<'a> Cursor<'a> {
    pub(crate) fn new(s: &'a str) -> Self {
        Self { s, pos: 0 }
    }

    /// Character offset of the position (for messages).
    pub(crate) fn char_pos(&self) -> usize {
        self.s.get(..self.pos).map_or(0, |p| p.chars().count())
    }

    pub(crate) fn rest(&self) -> &'a str {
        self.s.get(self.pos..).unwrap_or("")
    }

    pub(crate) fn at_end(&self) -> bool {
        self.rest().is_empty()
    }

    pub(crate) fn peek(&self) -> Option<char> {
        self.rest().chars().next()
    }

    pub(crate) fn starts_with(&self, p: &str) -> bool {
        self.rest().starts_with(p)
    }

    pub(crate) fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.pos += c.len_utf8();
        Some(c)
    }

    /// Skip `n` bytes (clamped to the end; callers pass the length of a
    /// prefix of [`Cursor::rest`], so the position stays on a char boundary).
    pub(crate) fn advance(&mut self, n: usize) {
        let target = self.pos.saturating_add(n).min(self.s.len());
        if self.s.is_char_boundary(target) {
            self.pos = target;
        }
    }

    /// Consume `p` if the rest starts with it.
    pub(crate) fn eat(&mut self, p: &str) -> bool {
        if self.starts_with(p) {
            self.pos += p.len();
            true
        } else {
            false
        }
    }

    pub(crate) fn skip_ws(&mut self) {
        while matches!(self.peek(), Some(' ' | '\t')) {
            self.bump();
        }
    }

    /// Consume everything up to (not including) the first char for which
    /// `stop` holds, or to the end.
    pub(crate) fn take_until(&mut self, stop: impl Fn(char, &str) -> bool) -> &'a str {
        let start = self.pos;
        while let Some(c) = self.peek() {
            if stop(c, self.rest()) {
                break;
            }
            self.pos += c.len_utf8();
        }
        self.s.get(start..self.pos).unwrap_or("")
    }

    /// Consume the rest.
    pub(crate) fn take_rest(&mut self) -> &'a str {
        let r = self.rest();
        self.pos = self.s.len();
        r
    }

    /// A "could not parse" error pointing at the current position.
    pub(crate) fn error(&self, what: &str, expected: &str) -> RestError {
        let found = match self.peek() {
            Some(c) => format!("unexpected `{c}` at character {}", self.char_pos()),
            None => format!("the value ends at character {}", self.char_pos()),
        };
        RestError::query_syntax(format!("failed to parse {what} (`{}`)", clip(self.s, 120)))
            .with_details(format!("{found}; expected {expected}"))
    }
}

/// Parse a `"..."` value at the cursor (backslash escapes any char). Returns
/// `None` without consuming anything when the cursor is not on a well-formed
/// quoted value.
pub(crate) fn quoted(cur: &mut Cursor<'_>) -> Option<String> {
    let mut probe = cur.clone();
    if !probe.eat("\"") {
        return None;
    }
    let mut out = String::new();
    loop {
        match probe.bump()? {
            '"' => break,
            '\\' => out.push(probe.bump()?),
            c => out.push(c),
        }
    }
    *cur = probe;
    Some(out)
}

/// A name in a key, `select`, `order` or logic tree: a `"quoted"` name or raw
/// chars up to a delimiter (trimmed).
pub(crate) fn name(cur: &mut Cursor<'_>, stop: &dyn Fn(char, &str) -> bool) -> Option<String> {
    cur.skip_ws();
    if cur.peek() == Some('"') {
        let n = quoted(cur)?;
        cur.skip_ws();
        return Some(n);
    }
    let raw = cur.take_until(|c, rest| stop(c, rest)).trim();
    if raw.is_empty() {
        None
    } else {
        Some(raw.to_string())
    }
}

/// One step of a JSON path after an arrow, pushed onto `path`: a key, or
/// an array index (`-1` counts from the end; `-0` is `0`, `01` is `1`, as
/// PostgREST reads an integer). An unquoted key does not start with `-`
/// (PostgREST's rule: `data->>--34` is a parse error, not the key `--34`).
/// A path holds at most [`MAX_JSON_PATH_STEPS`] steps (each is work in
/// every statement that reads it).
pub(crate) fn json_step(
    cur: &mut Cursor<'_>,
    stop: &dyn Fn(char, &str) -> bool,
    what: &str,
    path: &mut Vec<String>,
) -> Result<(), RestError> {
    if path.len() >= MAX_JSON_PATH_STEPS {
        return Err(cur.error(
            what,
            &format!("at most {MAX_JSON_PATH_STEPS} steps in a JSON path"),
        ));
    }
    cur.skip_ws();
    let dash = cur.peek() == Some('-');
    let quoted = cur.peek() == Some('"');
    let step = name(cur, stop)
        .ok_or_else(|| cur.error(what, "a key or an array index after the arrow"))?;
    if dash && (step.len() < 2 || !step[1..].bytes().all(|b| b.is_ascii_digit())) {
        return Err(cur.error(
            what,
            "an array index (`-1`) or a key that does not start with `-`",
        ));
    }
    let digits = if dash { &step[1..] } else { step.as_str() };
    if !quoted && !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
        // An integer, as PostgREST reads it: no leading zeros, `-0` is 0.
        let trimmed = digits.trim_start_matches('0');
        path.push(match (dash, trimmed.is_empty()) {
            (_, true) => "0".into(),
            (true, false) => format!("-{trimmed}"),
            (false, false) => trimmed.to_string(),
        });
        return Ok(());
    }
    path.push(step);
    Ok(())
}

/// Parse a PostgreSQL array literal `{a,"b,c",NULL}` into its elements
/// (`None` is an unquoted `NULL`). A multi-dimensional literal
/// (`{{1,2},{3,4}}`, [`pg_array_value`]) gives its elements in storage
/// order: the operators it feeds (`cs` `cd` `ov`, `(any)` and `(all)`)
/// consider only the elements, ignoring dimensions, as PostgreSQL's `@>`
/// `<@` `&&` and `ANY`/`ALL` do. `max_items` bounds the elements of the
/// whole literal.
pub(crate) fn pg_array(text: &str, max_items: usize) -> Result<Vec<Option<String>>, RestError> {
    fn flatten(v: Value, out: &mut Vec<Option<String>>) {
        match v {
            Value::Array(items) => items.into_iter().for_each(|i| flatten(i, out)),
            Value::Text(s) => out.push(Some(s)),
            _ => out.push(None),
        }
    }
    let mut out = Vec::new();
    flatten(pg_array_value(text, max_items)?, &mut out);
    Ok(out)
}

/// Parse a PostgreSQL array literal into a [`Value::Array`] of its elements
/// (`Value::Text`, `Value::Null` for an unquoted `NULL`), a
/// multi-dimensional one (`{{1,2},{3,4}}`) into nested arrays, checked as
/// PostgreSQL checks its arrays ([`baas_core::value::array_dims`]: at most
/// [`MAX_ARRAY_DIMS`] deep, every sub-array of a level as long as the
/// others, none empty). `max_items` bounds the elements of the whole
/// literal.
pub(crate) fn pg_array_value(text: &str, max_items: usize) -> Result<Value, RestError> {
    let bad = |why: &str| {
        RestError::query_syntax(format!(
            "failed to parse array literal `{}`",
            clip(text, 120)
        ))
        .with_details(why.to_string())
        .with_hint("write arrays as {a,b,\"c,d\"} (or {{1,2},{3,4}})")
    };
    let mut cur = Cursor::new(text.trim());
    if cur.peek() != Some('{') {
        return Err(bad("an array literal starts with `{`"));
    }
    let mut count = 0;
    let items = array_level(&mut cur, 0, &mut count, max_items, &bad)?;
    cur.skip_ws();
    if !cur.at_end() {
        return Err(bad("unexpected text after `}`"));
    }
    baas_core::value::array_dims(&items, 1).map_err(|why| bad(&why))?;
    Ok(Value::Array(items))
}

/// The elements of one `{…}` of an array literal at nesting `depth`;
/// `count` is the scalar elements read so far in the whole literal.
fn array_level(
    cur: &mut Cursor<'_>,
    depth: usize,
    count: &mut usize,
    max_items: usize,
    bad: &dyn Fn(&str) -> RestError,
) -> Result<Vec<Value>, RestError> {
    if depth >= MAX_ARRAY_DIMS {
        return Err(RestError::bad_request(format!(
            "an array literal has at most {MAX_ARRAY_DIMS} dimensions"
        )));
    }
    if !cur.eat("{") {
        return Err(bad("expected `{`"));
    }
    let mut items = Vec::new();
    cur.skip_ws();
    if cur.eat("}") {
        return Ok(items);
    }
    loop {
        cur.skip_ws();
        match cur.peek() {
            Some('{') => items.push(Value::Array(array_level(
                cur,
                depth + 1,
                count,
                max_items,
                bad,
            )?)),
            next => {
                if *count >= max_items {
                    return Err(RestError::bad_request(format!(
                        "the array has more than {max_items} elements"
                    )));
                }
                *count += 1;
                if next == Some('"') {
                    let v = quoted(cur).ok_or_else(|| bad("unterminated quoted element"))?;
                    items.push(Value::Text(v));
                } else {
                    let raw = cur
                        .take_until(|c, _| matches!(c, ',' | '}' | '"' | '{'))
                        .trim();
                    if raw.is_empty() {
                        return Err(bad("empty element"));
                    }
                    items.push(if raw.eq_ignore_ascii_case("null") {
                        Value::Null
                    } else {
                        Value::Text(raw.to_string())
                    });
                }
            }
        }
        cur.skip_ws();
        match cur.bump() {
            Some(',') => continue,
            Some('}') => break,
            _ => return Err(bad("expected `,` or `}` after an element")),
        }
    }
    Ok(items)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_string_decoding() {
        let p = parse_query_string("?a=b+c&d=%22x%2Cy%22&&e&f=").unwrap_or_default();
        assert_eq!(
            p,
            vec![
                ("a".into(), Some("b c".into())),
                ("d".into(), Some("\"x,y\"".into())),
                ("e".into(), None),
                ("f".into(), Some(String::new())),
            ]
        );
        assert!(parse_query_string("a=%FF").is_err());
        // A literal plus is %2B.
        assert_eq!(
            parse_query_string("a=1%2B1").unwrap_or_default(),
            vec![("a".into(), Some("1+1".into()))]
        );
    }

    #[test]
    fn arrays() {
        assert_eq!(
            pg_array("{a, \"b,c\" ,NULL,\"NULL\",\"q\\\"x\"}", 10).ok(),
            Some(vec![
                Some("a".into()),
                Some("b,c".into()),
                None,
                Some("NULL".into()),
                Some("q\"x".into())
            ])
        );
        assert_eq!(pg_array("{}", 10).ok(), Some(vec![]));
        assert_eq!(pg_array("{a,b,c}", 2).map_err(|e| e.status), Err(400));
        // Multi-dimensional: the elements in storage order.
        let flat = |t: &str| pg_array(t, 10).ok();
        let v = |xs: &[&str]| Some(xs.iter().map(|x| Some(x.to_string())).collect::<Vec<_>>());
        assert_eq!(flat("{{1},{2}}"), v(&["1", "2"]));
        assert_eq!(flat(" { {1, 2} , {3,\"4}\"} } "), v(&["1", "2", "3", "4}"]));
        assert_eq!(flat("{{{a}},{{b}}}"), v(&["a", "b"]));
        assert_eq!(flat("{{{{{{x}}}}}}"), v(&["x"]));
        assert_eq!(pg_array("{{1,2},{3,4}}", 3).map_err(|e| e.status), Err(400));
        for bad in [
            "",
            "{",
            "{a",
            "{a,}",
            "{,a}",
            "a,b",
            "{a}x",
            "{\"a}",
            "{a\"b\"}",
            // PostgreSQL's malformed literals: ragged, mixed, empty sub-arrays.
            "{{1},{2,3}}",
            "{{1},2}",
            "{1,{2}}",
            "{{1},{{2}}}",
            "{{{1}},{2}}",
            "{{}}",
            "{{},{}}",
            "{{1}",
            "{{1}}}",
            "{{1}{2}}",
            // Seven dimensions, and far more (no deep recursion).
            "{{{{{{{x}}}}}}}",
        ] {
            assert_eq!(pg_array(bad, 10).map_err(|e| e.status), Err(400), "{bad}");
        }
        let deep = format!("{}x{}", "{".repeat(100_000), "}".repeat(100_000));
        assert_eq!(pg_array(&deep, 10).map_err(|e| e.status), Err(400));
    }

    #[test]
    fn clipping() {
        assert_eq!(clip("abc", 5), "abc");
        assert_eq!(clip("abcdef", 3), "abc…");
        assert_eq!(clip("ééé", 2), "éé…");
        assert_eq!(clip("", 0), "");
    }

    #[test]
    fn cursor_is_char_safe() {
        let mut c = Cursor::new("é,ü");
        assert_eq!(c.take_until(|ch, _| ch == ','), "é");
        assert_eq!(c.char_pos(), 1);
        assert_eq!(c.bump(), Some(','));
        assert_eq!(c.take_rest(), "ü");
        assert!(c.at_end());
    }
}
