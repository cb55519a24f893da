//! PostgreSQL's `jsonb` sort order, for engines that let mini-baas compare
//! JSON values itself (SQLite, through a collation: see
//! `baas-adapter-sqlite`).
//!
//! As PostgreSQL's B-tree order of `jsonb` (its manual, "jsonb Indexing"):
//! `Object > Array > Boolean > Number > String > Null`; an object with
//! more pairs after one with fewer, an array with more elements after one
//! with fewer; objects of as many pairs pair by pair (key, then value), in
//! `jsonb`'s storage order of keys (shorter keys first, then by bytes);
//! arrays of as many elements element by element (an empty array, as a
//! whole value, before any other: `null` too); numbers by value
//! (exactly, whatever their text: `1.0` = `1` = `1e0`); strings by bytes
//! (PostgreSQL compares them in the database's collation, `C` in this
//! project's fixtures); `false < true`.
//!
//! ```
//! use baas_core::jsonb_order::jsonb_cmp;
//! use serde_json::json;
//! use std::cmp::Ordering;
//!
//! assert_eq!(jsonb_cmp(&json!([9]), &json!([10])), Ordering::Less);
//! assert_eq!(jsonb_cmp(&json!(["b"]), &json!(["a", "a"])), Ordering::Less);
//! // Keys in storage order (`a`, `bb` against `b`, `aa`): `a` < `b`.
//! assert_eq!(jsonb_cmp(&json!({"a": 1, "bb": 0}), &json!({"b": 0, "aa": 5})), Ordering::Less);
//! assert_eq!(jsonb_cmp(&json!([]), &json!(null)), Ordering::Less);
//! assert_eq!(jsonb_cmp(&json!(1.0), &json!(1)), Ordering::Equal);
//! ```

use std::cmp::Ordering;

use serde_json::Value;

/// The order of `a` and `b` as PostgreSQL's `jsonb` (see the module),
/// whole values: an empty array sorts before any other, `null` included
/// (PostgreSQL's manual: "for historical reasons"; not inside a value).
/// [`jsonb_text_cmp`] of their texts.
pub fn jsonb_cmp(a: &Value, b: &Value) -> Ordering {
    jsonb_text_cmp(&a.to_string(), &b.to_string())
}

/// [`jsonb_cmp`] of two JSON texts; a text that is no JSON (or nests
/// deeper than [`MAX_TEXT_DEPTH`], or has a number whose exponent passes
/// an `i64`, or a lone surrogate escape) sorts after every JSON value, by
/// its bytes (a total order, as a SQLite collation must be). Numbers are
/// read leniently (`007`, `5.`, `-.5` are numbers here). Never panics: it
/// runs inside SQLite's sort. The texts are
/// read into borrowed values (no allocation for a string without
/// escapes), as this runs for every comparison of a sort.
pub fn jsonb_text_cmp(a: &str, b: &str) -> Ordering {
    match (Text::parse(a), Text::parse(b)) {
        (Some(x), Some(y)) => {
            let empty = |v: &Text<'_>| !matches!(v, Text::Array(items) if items.is_empty());
            empty(&x).cmp(&empty(&y)).then_with(|| x.cmp_jsonb(&y))
        }
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) => a.as_bytes().cmp(b.as_bytes()),
    }
}

/// The rank of `v`'s type in `jsonb`'s order, as the engines' sort keys
/// number it (`order=data->a` on MySQL/MariaDB, SQLite and MongoDB): an
/// empty array -1, `null` 0, a string 1, a number 2, a boolean 3, an
/// array 4, an object 5. Values of two ranks compare as their ranks.
///
/// ```
/// use baas_core::jsonb_order::type_rank;
/// use serde_json::json;
///
/// assert!(type_rank(&json!(true)) > type_rank(&json!(1e300)));
/// assert!(type_rank(&json!([])) < type_rank(&json!(null)));
/// ```
pub fn type_rank(v: &Value) -> i8 {
    match v {
        Value::Array(items) if items.is_empty() => -1,
        Value::Null => 0,
        Value::String(_) => 1,
        Value::Number(_) => 2,
        Value::Bool(_) => 3,
        Value::Array(_) => 4,
        Value::Object(_) => 5,
    }
}

/// How deep [`jsonb_text_cmp`] reads a text's arrays and objects.
pub const MAX_TEXT_DEPTH: usize = 256;

/// A JSON value read from text, borrowing what it can.
enum Text<'a> {
    Null,
    Bool(bool),
    Number(&'a str),
    String(std::borrow::Cow<'a, str>),
    Array(Vec<Text<'a>>),
    /// Pairs in `jsonb`'s storage order, one per key (the last).
    Object(Vec<(std::borrow::Cow<'a, str>, Text<'a>)>),
}

impl<'a> Text<'a> {
    fn parse(s: &'a str) -> Option<Self> {
        let mut r = Reader { s, at: 0 };
        let v = r.value(0)?;
        r.ws();
        (r.at == s.len()).then_some(v)
    }

    fn rank(&self) -> u8 {
        match self {
            Self::Null => 0,
            Self::String(_) => 1,
            Self::Number(_) => 2,
            Self::Bool(_) => 3,
            Self::Array(_) => 4,
            Self::Object(_) => 5,
        }
    }

    /// `jsonb`'s order inside a value (no empty-array rule).
    fn cmp_jsonb(&self, other: &Self) -> Ordering {
        self.rank()
            .cmp(&other.rank())
            .then_with(|| match (self, other) {
                (Self::Bool(x), Self::Bool(y)) => x.cmp(y),
                (Self::Number(x), Self::Number(y)) => {
                    match (Decimal::parse(x), Decimal::parse(y)) {
                        (Some(p), Some(q)) => p.cmp(&q),
                        _ => x.cmp(y),
                    }
                }
                (Self::String(x), Self::String(y)) => x.as_bytes().cmp(y.as_bytes()),
                (Self::Array(x), Self::Array(y)) => x.len().cmp(&y.len()).then_with(|| {
                    x.iter()
                        .zip(y)
                        .map(|(p, q)| p.cmp_jsonb(q))
                        .find(|o| o.is_ne())
                        .unwrap_or(Ordering::Equal)
                }),
                (Self::Object(x), Self::Object(y)) => x.len().cmp(&y.len()).then_with(|| {
                    x.iter()
                        .zip(y)
                        .map(|((k, v), (l, w))| {
                            k.as_bytes().cmp(l.as_bytes()).then_with(|| v.cmp_jsonb(w))
                        })
                        .find(|o| o.is_ne())
                        .unwrap_or(Ordering::Equal)
                }),
                _ => Ordering::Equal,
            })
    }
}

/// A reader of JSON text (RFC 8259), for [`Text::parse`].
struct Reader<'a> {
    s: &'a str,
    at: usize,
}

impl<'a> Reader<'a> {
    fn ws(&mut self) {
        let b = self.s.as_bytes();
        while self.at < b.len() && matches!(b[self.at], b' ' | b'\t' | b'\n' | b'\r') {
            self.at += 1;
        }
    }

    fn eat(&mut self, word: &str) -> bool {
        let hit = self.s[self.at..].starts_with(word);
        if hit {
            self.at += word.len();
        }
        hit
    }

    fn value(&mut self, depth: usize) -> Option<Text<'a>> {
        self.ws();
        let b = self.s.as_bytes();
        match *b.get(self.at)? {
            b'n' => self.eat("null").then_some(Text::Null),
            b't' => self.eat("true").then_some(Text::Bool(true)),
            b'f' => self.eat("false").then_some(Text::Bool(false)),
            b'"' => self.string().map(Text::String),
            b'[' if depth < MAX_TEXT_DEPTH => {
                self.at += 1;
                let mut items = Vec::new();
                self.ws();
                if self.eat("]") {
                    return Some(Text::Array(items));
                }
                loop {
                    items.push(self.value(depth + 1)?);
                    self.ws();
                    if self.eat("]") {
                        return Some(Text::Array(items));
                    }
                    if !self.eat(",") {
                        return None;
                    }
                }
            }
            b'{' if depth < MAX_TEXT_DEPTH => {
                self.at += 1;
                let mut pairs = Vec::new();
                self.ws();
                if !self.eat("}") {
                    loop {
                        self.ws();
                        if self.s.as_bytes().get(self.at) != Some(&b'"') {
                            return None;
                        }
                        let k = self.string()?;
                        self.ws();
                        if !self.eat(":") {
                            return None;
                        }
                        pairs.push((k, self.value(depth + 1)?));
                        self.ws();
                        if self.eat("}") {
                            break;
                        }
                        if !self.eat(",") {
                            return None;
                        }
                    }
                }
                // Storage order; a repeated key keeps its last value, as
                // `jsonb` does (the sort is stable).
                pairs.sort_by(|(k, _), (l, _)| {
                    k.len()
                        .cmp(&l.len())
                        .then_with(|| k.as_bytes().cmp(l.as_bytes()))
                });
                let mut kept: Vec<(std::borrow::Cow<'a, str>, Text<'a>)> =
                    Vec::with_capacity(pairs.len());
                for (k, v) in pairs {
                    match kept.last_mut() {
                        Some(last) if last.0 == k => last.1 = v,
                        _ => kept.push((k, v)),
                    }
                }
                Some(Text::Object(kept))
            }
            b'-' | b'0'..=b'9' => {
                let start = self.at;
                while self.at < b.len()
                    && matches!(b[self.at], b'-' | b'+' | b'.' | b'e' | b'E' | b'0'..=b'9')
                {
                    self.at += 1;
                }
                let text = &self.s[start..self.at];
                Decimal::parse(text).map(|_| Text::Number(text))
            }
            _ => None,
        }
    }

    /// A string at `"`: borrowed when it has no escape.
    fn string(&mut self) -> Option<std::borrow::Cow<'a, str>> {
        let b = self.s.as_bytes();
        self.at += 1;
        let start = self.at;
        while self.at < b.len() {
            match b[self.at] {
                b'"' => {
                    let text = &self.s[start..self.at];
                    self.at += 1;
                    return Some(std::borrow::Cow::Borrowed(text));
                }
                b'\\' => break,
                c if c < 0x20 => return None,
                _ => self.at += 1,
            }
        }
        // Escapes: let serde_json decode the whole string literal.
        let mut end = self.at;
        while end < b.len() {
            match b[end] {
                b'\\' => end += 2,
                b'"' => break,
                _ => end += 1,
            }
        }
        let literal = self.s.get(start - 1..=end)?;
        let decoded: String = serde_json::from_str(literal).ok()?;
        self.at = end + 1;
        Some(std::borrow::Cow::Owned(decoded))
    }
}

/// A number as its sign, significant digits (no leading or trailing
/// zeros) and the power of ten of the first digit's place.
#[derive(PartialEq, Eq)]
struct Decimal {
    negative: bool,
    digits: Vec<u8>,
    /// Wide enough that no text's exponent overflows it (`1e…` is
    /// parsed as an `i64`, the digits' count is a `usize`).
    exponent: i128,
}

impl Decimal {
    fn parse(text: &str) -> Option<Self> {
        let (negative, rest) = match text.strip_prefix('-') {
            Some(r) => (true, r),
            None => (false, text),
        };
        let (mantissa, exp) = match rest.find(['e', 'E']) {
            Some(i) => (&rest[..i], rest[i + 1..].parse::<i64>().ok()?),
            None => (rest, 0),
        };
        let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
        if !(int.bytes().chain(frac.bytes())).all(|b| b.is_ascii_digit()) {
            return None;
        }
        let all: Vec<u8> = int.bytes().chain(frac.bytes()).map(|b| b - b'0').collect();
        let Some(first) = all.iter().position(|d| *d != 0) else {
            return Some(Self {
                negative: false,
                digits: Vec::new(),
                exponent: 0,
            });
        };
        let last = all.iter().rposition(|d| *d != 0).unwrap_or(first);
        let exponent =
            i128::try_from(int.len()).ok()? - 1 - i128::try_from(first).ok()? + i128::from(exp);
        Some(Self {
            negative,
            digits: all[first..=last].to_vec(),
            exponent,
        })
    }

    fn is_zero(&self) -> bool {
        self.digits.is_empty()
    }

    /// The order of the magnitudes.
    fn magnitude_cmp(&self, other: &Self) -> Ordering {
        self.exponent
            .cmp(&other.exponent)
            .then_with(|| self.digits.cmp(&other.digits))
    }
}

impl Ord for Decimal {
    fn cmp(&self, other: &Self) -> Ordering {
        let sign = |d: &Self| {
            if d.is_zero() {
                0
            } else if d.negative {
                -1
            } else {
                1
            }
        };
        match (sign(self), sign(other)) {
            (s, t) if s != t => s.cmp(&t),
            (0, _) => Ordering::Equal,
            (1, _) => self.magnitude_cmp(other),
            _ => other.magnitude_cmp(self),
        }
    }
}

impl PartialOrd for Decimal {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// PostgreSQL 15's own order of these values (`SELECT v FROM (VALUES
    /// …) t(v) ORDER BY v::jsonb`, database collation `C.UTF-8`).
    #[test]
    fn sorts_as_postgresql() {
        let expected = [
            "[]",
            "null",
            "\"\"",
            "\"B\"",
            "\"b\"",
            "-1",
            "0",
            "9.5",
            "10",
            "1e300",
            "false",
            "true",
            "[9]",
            "[10]",
            "[1, 2]",
            "{\"a\": 2}",
            "{\"aa\": 0}",
            "{\"b\": 1}",
            "{\"a\": 1, \"bb\": 0}",
            "{\"b\": 0, \"aa\": 5}",
            "{\"b\": 1, \"aa\": 0}",
        ];
        let nested = [
            "[null]",
            "[\"a\"]",
            "[1]",
            "[true]",
            "[[]]",
            "[[1]]",
            "[{}]",
            "{\"a\": null}",
            "{\"a\": 1}",
            "{\"a\": []}",
        ];
        for expected in [&expected[..], &nested[..]] {
            let mut texts: Vec<&str> = expected.iter().rev().copied().collect();
            texts.sort_by(|a, b| jsonb_text_cmp(a, b));
            assert_eq!(texts, expected);
        }
    }

    #[test]
    fn numbers_compare_by_value() {
        let n = |s: &str| serde_json::from_str::<Value>(s).unwrap();
        for (a, b, o) in [
            ("1.0", "1", Ordering::Equal),
            ("1e2", "100", Ordering::Equal),
            ("-0", "0", Ordering::Equal),
            ("0.001", "1e-3", Ordering::Equal),
            ("-2", "-10", Ordering::Greater),
            (
                "123456789012345678901234567890",
                "123456789012345678901234567891",
                Ordering::Less,
            ),
            ("0.1", "0.09", Ordering::Greater),
            // No overflow (the collation runs inside SQLite: a panic there
            // would abort the process).
            ("10e9223372036854775807", "1", Ordering::Greater),
            ("0.1e-9223372036854775808", "0", Ordering::Greater),
            ("-10e9223372036854775807", "-1", Ordering::Less),
        ] {
            assert_eq!(jsonb_cmp(&n(a), &n(b)), o, "{a} {b}");
        }
    }

    /// The text comparison agrees with the value one, escapes, repeated
    /// keys, spaces and all.
    #[test]
    fn texts_compare_as_their_values() {
        let texts = [
            r#""a\"b""#,
            r#""a\u0041""#,
            r#""aA""#,
            r#"{"k": 1, "k": 2}"#,
            r#"{"k":2}"#,
            r#"{"k":1}"#,
            " [ 1 , {\"x\" : [ ] } ] ",
            "[1,{\"x\":[]}]",
            "[1,{\"x\":[0]}]",
            "-0.0",
            "0",
            "1E+2",
            "100",
            "[]",
            "null",
            "true",
            r#""é""#,
            r#""\u00e9""#,
        ];
        for a in texts {
            for b in texts {
                let (x, y): (Value, Value) = (
                    serde_json::from_str(a).unwrap(),
                    serde_json::from_str(b).unwrap(),
                );
                assert_eq!(jsonb_text_cmp(a, b), jsonb_cmp(&x, &y), "{a} {b}");
            }
        }
        // The same values, spelled apart (not through `jsonb_cmp`).
        for (a, b) in [
            (r#""a\u0041""#, r#""aA""#),
            (r#""\u00e9""#, r#""é""#),
            (r#"{"k": 1, "k": 2}"#, r#"{"k":2}"#),
            (" [ 1 , {\"x\" : [ ] } ] ", "[1,{\"x\":[]}]"),
            ("1E+2", "100"),
        ] {
            assert_eq!(jsonb_text_cmp(a, b), Ordering::Equal, "{a} {b}");
        }
        assert_eq!(jsonb_text_cmp(r#""a\"b""#, r#""aA""#), Ordering::Less);
        let deep = "[".repeat(MAX_TEXT_DEPTH + 1) + &"]".repeat(MAX_TEXT_DEPTH + 1);
        assert_eq!(
            jsonb_text_cmp(&deep, "null"),
            Ordering::Greater,
            "too deep: no JSON"
        );
    }

    #[test]
    fn text_that_is_no_json_sorts_last() {
        assert_eq!(jsonb_text_cmp("{", "null"), Ordering::Greater);
        for bad in [
            "[1,]", "{\"a\"}", "01x", "\"\\q\"", "tru", "[1] x", "1.2.3", "--1",
        ] {
            assert_eq!(jsonb_text_cmp(bad, "[]"), Ordering::Greater, "{bad}");
        }
        assert_eq!(jsonb_text_cmp("[1]", "[1]"), Ordering::Equal);
        assert_eq!(jsonb_text_cmp("{\"a\": 1}", "{\"a\":1}"), Ordering::Equal);
    }
}
