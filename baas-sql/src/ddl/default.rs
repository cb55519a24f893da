//! Column defaults: literals parsed (never pasted), checked against the
//! field type and written back by sea-query.

use baas_core::{Field, FieldType, Generated, Result};
use sea_query::{Expr, Keyword};

use super::{At, Ddl, invalid};
use crate::lower::iden;

/// A default value this module can write: parsed, never pasted.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Literal {
    /// `NULL` (the same as no default).
    Null,
    /// A number, as validated text (`-12`, `3.25`, `1e-3`).
    Number(String),
    /// A quoted string, unquoted.
    Str(String),
    /// `true` / `false`.
    Bool(bool),
    /// `CURRENT_TIMESTAMP`, `now()`, `current_timestamp()`.
    CurrentTimestamp,
}

fn is_number(s: &str) -> bool {
    let s = s.strip_prefix(['-', '+']).unwrap_or(s);
    let (mantissa, exponent) = match s.find(['e', 'E']) {
        Some(i) => (&s[..i], Some(&s[i + 1..])),
        None => (s, None),
    };
    let (int, frac) = match mantissa.split_once('.') {
        Some((a, b)) => (a, Some(b)),
        None => (mantissa, None),
    };
    let digits = |t: &str| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit());
    let int_ok = digits(int) || (int.is_empty() && frac.is_some_and(digits));
    let frac_ok = frac.is_none_or(|f| f.is_empty() && !int.is_empty() || digits(f));
    let exp_ok = exponent.is_none_or(|e| digits(e.strip_prefix(['-', '+']).unwrap_or(e)));
    int_ok && frac_ok && exp_ok
}

fn is_integer(s: &str) -> bool {
    let t = s.strip_prefix(['-', '+']).unwrap_or(s);
    !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit())
}

/// Parse a default as introspection reports it. `None`: not a literal this
/// module accepts.
pub(super) fn parse_default(text: &str) -> Option<Literal> {
    let mut t = text.trim();
    // Redundant parentheses: `(0)`, `('x')` (SQLite and MariaDB print them).
    while let Some(inner) = t.strip_prefix('(').and_then(|r| r.strip_suffix(')')) {
        t = inner.trim();
    }
    if let Some(body) = t.strip_prefix('\'') {
        let mut out = String::new();
        let mut chars = body.char_indices().peekable();
        let mut end = None;
        while let Some((i, c)) = chars.next() {
            match c {
                '\'' if chars.peek().is_some_and(|(_, n)| *n == '\'') => {
                    out.push('\'');
                    chars.next();
                }
                '\'' => {
                    end = Some(i + 1);
                    break;
                }
                c => out.push(c),
            }
        }
        let rest = body[end?..].trim();
        // A PostgreSQL cast (`'a'::text`, `'x'::character varying`): the
        // column type already says it, so the cast is dropped, never copied.
        if !rest.is_empty() {
            let cast = rest.strip_prefix("::")?;
            if cast.is_empty()
                || !cast
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || " _\".,()[]".contains(c))
            {
                return None;
            }
        }
        return Some(Literal::Str(out));
    }
    if is_number(t) {
        return Some(Literal::Number(t.to_string()));
    }
    let lower = t.to_ascii_lowercase();
    match lower.as_str() {
        "null" => Some(Literal::Null),
        "true" => Some(Literal::Bool(true)),
        "false" => Some(Literal::Bool(false)),
        "current_timestamp" | "current_timestamp()" | "now()" | "localtimestamp" => {
            Some(Literal::CurrentTimestamp)
        }
        _ => {
            // MariaDB prints `current_timestamp(6)` for fractional columns.
            let p = lower
                .strip_prefix("current_timestamp(")?
                .strip_suffix(')')?;
            p.bytes()
                .all(|b| b.is_ascii_digit())
                .then_some(Literal::CurrentTimestamp)
        }
    }
}

impl Ddl<'_> {
    /// The default of `f`, parsed and checked against its type.
    pub(super) fn default_expr(&self, f: &Field, at: &At, adding: bool) -> Result<Option<Expr>> {
        let Some(text) = &f.default else {
            return Ok(None);
        };
        let pointer = at.at("default");
        let lit = parse_default(text).ok_or_else(|| {
            invalid(
                &pointer,
                format!(
                    "default `{text}` is not a literal managed DDL can write (a number, a quoted string, true/false, NULL or CURRENT_TIMESTAMP)"
                ),
            )
        })?;
        let mismatch = || {
            invalid(
                &pointer,
                format!("default `{text}` does not fit a {} field", f.ty.name()),
            )
        };
        if f.generated != Generated::None && lit != Literal::Null {
            return Err(invalid(&pointer, "a generated field cannot have a default"));
        }
        let numeric = f.ty.is_numeric();
        let expr = match (lit, &f.ty) {
            (Literal::Null, _) => return Ok(None),
            (Literal::Number(n), FieldType::Boolean) => match n.as_str() {
                "0" => Expr::val(false),
                "1" => Expr::val(true),
                _ => return Err(mismatch()),
            },
            (Literal::Number(n), FieldType::Int16 | FieldType::Int32 | FieldType::Int64) => {
                if !is_integer(&n) {
                    return Err(mismatch());
                }
                Expr::Keyword(Keyword::Custom(iden(&n)))
            }
            // Validated digits only: written as they are (no float rounding).
            (Literal::Number(n), _) if numeric => Expr::Keyword(Keyword::Custom(iden(&n))),
            (Literal::Number(_), _) => return Err(mismatch()),
            (Literal::Str(s), _) if numeric => {
                // PostgreSQL prints negative numbers as `'-1'::integer`.
                let ok = match f.ty {
                    FieldType::Int16 | FieldType::Int32 | FieldType::Int64 => is_integer(&s),
                    _ => is_number(&s),
                };
                if !ok {
                    return Err(mismatch());
                }
                Expr::Keyword(Keyword::Custom(iden(&s)))
            }
            (Literal::Str(s), FieldType::Enum { values, .. }) => {
                if !values.contains(&s) {
                    return Err(invalid(
                        &pointer,
                        format!("default `{s}` is not one of the enum values"),
                    ));
                }
                Expr::val(s)
            }
            (Literal::Str(s), FieldType::Boolean) => match s.as_str() {
                "t" | "true" | "1" => Expr::val(true),
                "f" | "false" | "0" => Expr::val(false),
                _ => return Err(mismatch()),
            },
            (Literal::Str(_), FieldType::Binary | FieldType::Array { .. }) => {
                return Err(mismatch());
            }
            (Literal::Str(s), _) => Expr::val(s),
            (Literal::Bool(b), FieldType::Boolean) => Expr::val(b),
            (Literal::Bool(_), _) => return Err(mismatch()),
            (Literal::CurrentTimestamp, FieldType::Timestamp | FieldType::TimestampTz) => {
                self.sql.current_timestamp_default(adding)?
            }
            (Literal::CurrentTimestamp, _) => return Err(mismatch()),
        };
        Ok(Some(expr))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_parse_only_literals() {
        assert_eq!(parse_default("42"), Some(Literal::Number("42".into())));
        assert_eq!(
            parse_default("-1.5e3"),
            Some(Literal::Number("-1.5e3".into()))
        );
        assert_eq!(parse_default("(0)"), Some(Literal::Number("0".into())));
        assert_eq!(parse_default("'it''s'"), Some(Literal::Str("it's".into())));
        assert_eq!(
            parse_default("'x'::character varying"),
            Some(Literal::Str("x".into()))
        );
        assert_eq!(parse_default("TRUE"), Some(Literal::Bool(true)));
        assert_eq!(parse_default("now()"), Some(Literal::CurrentTimestamp));
        assert_eq!(
            parse_default("current_timestamp(6)"),
            Some(Literal::CurrentTimestamp)
        );
        assert_eq!(parse_default("NULL"), Some(Literal::Null));
        for bad in [
            "nextval('s'::regclass)",
            "'a' || 'b'",
            "'a'; DROP TABLE x",
            "'a'::text; DROP TABLE x",
            "1; DROP TABLE x",
            "gen_random_uuid()",
            "'unterminated",
            "1.2.3",
            "-",
            "e5",
            "",
        ] {
            assert_eq!(parse_default(bad), None, "{bad}");
        }
    }
}
