//! Semantic comparison of column defaults.
//!
//! The same default is written differently by each source: PostgreSQL adds
//! casts (`'{}'::jsonb`, `'G'::public.mpaa_rating`), MariaDB writes
//! `current_timestamp()` where a dump says `CURRENT_TIMESTAMP`, Prisma writes
//! `now()` and unquoted strings, MySQL quotes numbers (`'0'`). [`canonical`]
//! reduces a default to one spelling per meaning so that only real
//! differences remain.

use baas_core::FieldType;

/// Words that continue a type name after a cast (`::character varying`,
/// `::timestamp without time zone`, `::double precision`).
const TYPE_WORDS: &[&str] = &["varying", "precision", "without", "with", "time", "zone"];

/// The canonical form of `default` on a field of type `ty`: casts removed,
/// case folded outside string literals, redundant parentheses removed,
/// engine synonyms of the current time unified, numbers and booleans in one
/// spelling, a quoted literal unquoted on textual fields. `None` when the
/// default is SQL `NULL` (the same as no default).
pub(super) fn canonical(default: &str, ty: &FieldType) -> Option<String> {
    let mut s = strip_casts(default.trim());
    s = fold_case(&s);
    s = strip_parens(s.trim());
    if s == "null" {
        return None;
    }
    if is_current_timestamp(&s) {
        return Some("current_timestamp".into());
    }
    if matches!(s.as_str(), "curdate()" | "current_date" | "current_date()") {
        return Some("current_date".into());
    }
    let unquoted = unquote(&s);
    match ty {
        FieldType::Boolean => {
            let v = unquoted.as_deref().unwrap_or(&s);
            match v {
                "true" | "t" | "1" | "b'1'" | "yes" | "on" => return Some("true".into()),
                "false" | "f" | "0" | "b'0'" | "no" | "off" => return Some("false".into()),
                _ => {}
            }
        }
        t if t.is_numeric() => {
            if let Some(n) = number(unquoted.as_deref().unwrap_or(&s)) {
                return Some(n);
            }
        }
        _ => {}
    }
    if let Some(text) = unquoted {
        return Some(format!("'{text}'"));
    }
    if matches!(ty, FieldType::Text | FieldType::Enum { .. }) && !s.contains(['(', ' ', '\'']) {
        // Prisma writes a string default without quotes.
        return Some(format!("'{}'", default.trim()));
    }
    Some(s)
}

/// `now()`, `current_timestamp`, `current_timestamp()`, `current_timestamp(3)`,
/// `localtimestamp…`: the current time, in any engine's spelling (`s` folded
/// to lowercase).
fn is_current_timestamp(s: &str) -> bool {
    if s == "now()" {
        return true;
    }
    let Some(rest) = s
        .strip_prefix("current_timestamp")
        .or_else(|| s.strip_prefix("localtimestamp"))
    else {
        return false;
    };
    rest.is_empty()
        || rest
            .strip_prefix('(')
            .and_then(|r| r.strip_suffix(')'))
            .is_some_and(|p| p.bytes().all(|b| b.is_ascii_digit()))
}

/// `default` without `::type` casts outside string literals.
fn strip_casts(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    let mut in_str = false;
    while i < b.len() {
        let c = b[i];
        if c == b'\'' {
            in_str = !in_str;
        }
        if !in_str && c == b':' && b.get(i + 1) == Some(&b':') {
            i += 2;
            // The type name: identifiers, dots, quotes, a (n) modifier, [].
            loop {
                while i < b.len()
                    && (b[i].is_ascii_alphanumeric() || matches!(b[i], b'_' | b'.' | b'"'))
                {
                    i += 1;
                }
                if b.get(i) == Some(&b'(') {
                    while i < b.len() && b[i] != b')' {
                        i += 1;
                    }
                    i += 1;
                }
                while b.get(i) == Some(&b'[') && b.get(i + 1) == Some(&b']') {
                    i += 2;
                }
                let rest = &s[i.min(s.len())..];
                let word = rest.trim_start();
                let next = word
                    .split(|ch: char| !ch.is_ascii_alphanumeric())
                    .next()
                    .unwrap_or_default();
                if word.len() < rest.len()
                    && TYPE_WORDS.iter().any(|w| w.eq_ignore_ascii_case(next))
                {
                    i += rest.len() - word.len();
                    continue;
                }
                break;
            }
            continue;
        }
        let ch = s[i..].chars().next().unwrap_or_default();
        out.push(ch);
        i += ch.len_utf8();
    }
    out
}

/// Lowercase outside string literals.
fn fold_case(s: &str) -> String {
    let mut in_str = false;
    s.chars()
        .map(|c| {
            if c == '\'' {
                in_str = !in_str;
            }
            if in_str { c } else { c.to_ascii_lowercase() }
        })
        .collect()
}

/// Remove parentheses around the whole expression (`((0))` → `0`).
fn strip_parens(s: &str) -> String {
    let mut s = s;
    while s.starts_with('(') && s.ends_with(')') && encloses(s) {
        s = s[1..s.len() - 1].trim();
    }
    s.to_string()
}

/// Whether the first `(` of `s` closes at its last character.
fn encloses(s: &str) -> bool {
    let mut depth = 0usize;
    let mut in_str = false;
    for (i, c) in s.char_indices() {
        match c {
            '\'' => in_str = !in_str,
            '(' if !in_str => depth += 1,
            ')' if !in_str => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return i == s.len() - 1;
                }
            }
            _ => {}
        }
    }
    false
}

/// The text of a single quoted literal (`'a''b'` → `a'b`; an `E` or `N`
/// prefix is allowed), or `None` when `s` is not one.
fn unquote(s: &str) -> Option<String> {
    let s = s
        .strip_prefix(['e', 'n'])
        .filter(|r| r.starts_with('\''))
        .unwrap_or(s);
    let inner = s.strip_prefix('\'')?.strip_suffix('\'')?;
    if inner.replace("''", "").contains('\'') {
        return None;
    }
    Some(inner.replace("''", "'"))
}

/// A numeric literal in one spelling (`+1.50` → `1.5`, `0.00` → `0`), or
/// `None` when `s` is not a plain decimal number.
fn number(s: &str) -> Option<String> {
    let s = s.strip_prefix('+').unwrap_or(s);
    let (neg, digits) = match s.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, s),
    };
    let (int, frac) = digits.split_once('.').unwrap_or((digits, ""));
    if int.is_empty() && frac.is_empty()
        || !int.bytes().all(|b| b.is_ascii_digit())
        || !frac.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let int = int.trim_start_matches('0');
    let frac = frac.trim_end_matches('0');
    let int = if int.is_empty() { "0" } else { int };
    let mut out = String::new();
    if neg && (int != "0" || !frac.is_empty()) {
        out.push('-');
    }
    out.push_str(int);
    if !frac.is_empty() {
        out.push('.');
        out.push_str(frac);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(s: &str, ty: &FieldType) -> Option<String> {
        canonical(s, ty)
    }

    #[test]
    fn casts_and_case_are_not_differences() {
        assert_eq!(
            c("'{}'::JSONB", &FieldType::Json),
            c("'{}'::jsonb", &FieldType::Json)
        );
        assert_eq!(
            c("'{}'::jsonb", &FieldType::Json),
            c("'{}'", &FieldType::Json)
        );
        assert_eq!(
            c("'x'::character varying", &FieldType::Text),
            c("x", &FieldType::Text)
        );
        assert_eq!(
            c("nextval('s'::regclass)", &FieldType::Int32).as_deref(),
            Some("nextval('s')")
        );
        assert_eq!(c("'{}'::text[]", &FieldType::Text).as_deref(), Some("'{}'"));
    }

    #[test]
    fn current_time_synonyms_are_one_default() {
        for s in [
            "CURRENT_TIMESTAMP",
            "current_timestamp()",
            "now()",
            "NOW()",
            "CURRENT_TIMESTAMP(3)",
            "now()::timestamp without time zone",
        ] {
            assert_eq!(
                c(s, &FieldType::Timestamp).as_deref(),
                Some("current_timestamp"),
                "{s}"
            );
        }
    }

    #[test]
    fn numbers_booleans_and_null_in_one_spelling() {
        assert_eq!(c("'0'", &FieldType::Int32).as_deref(), Some("0"));
        assert_eq!(c("((0))", &FieldType::Int32).as_deref(), Some("0"));
        assert_eq!(c("0.00", &FieldType::Float64).as_deref(), Some("0"));
        assert_eq!(c("b'1'", &FieldType::Boolean).as_deref(), Some("true"));
        assert_eq!(c("TRUE", &FieldType::Boolean).as_deref(), Some("true"));
        assert_eq!(c("NULL", &FieldType::Text), None);
        assert_eq!(c("NULL::character varying", &FieldType::Text), None);
        // Case inside a string is meaningful.
        assert_ne!(c("'A'", &FieldType::Text), c("'a'", &FieldType::Text));
        assert_ne!(c("1", &FieldType::Int32), c("2", &FieldType::Int32));
    }
}
