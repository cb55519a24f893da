//! The database's own text for a rejected write ("Out of range value for
//! column 'n' at row 1", "duplicate key value violates unique constraint
//! …"), turned into the column it names and a message for the client.
//!
//! The raw text names tables, schemas, constraint internals and sometimes the
//! offending value; clients get [`Clean`] instead, and the raw text goes to
//! the log (`map_sqlx_error`, with the `sqlx` feature).

/// What a constraint or value error is about, per the database's text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Problem {
    /// A unique (or primary) key already holds the value.
    Duplicate,
    /// A foreign key of the written row points at no row.
    MissingReference,
    /// The row is still referenced by other rows (delete or key update).
    StillReferenced,
    /// A foreign key does not hold, one way or the other (SQLite does not
    /// say which).
    Reference,
    /// An exclusion constraint: the row overlaps an existing one.
    Exclusion,
    /// A column that cannot be null got null.
    NotNull,
    /// A check constraint failed.
    Check,
    /// A number out of the column's range.
    OutOfRange,
    /// A string longer than the column allows.
    TooLong,
    /// Any other value the column does not accept.
    BadValue,
}

/// A client-facing account of a driver error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Clean {
    /// The column the error is about, when the database names it.
    pub column: Option<String>,
    /// One sentence without the database's internals.
    pub message: String,
}

/// The first `'…'`, `` `…` `` or `"…"`-quoted name after `marker` (any
/// case) in `text`; for a qualified name (`` `db`.`t`.`col` ``, `t.col`) its
/// last part.
fn quoted_after(text: &str, marker: &str) -> Option<String> {
    let at = text
        .to_ascii_lowercase()
        .find(&marker.to_ascii_lowercase())?;
    let rest = &text[at + marker.len()..];
    let rest = rest.trim_start();
    let open = rest.chars().next()?;
    let name = if matches!(open, '\'' | '`' | '"') {
        // `db`.`t`.`col`: take quoted parts joined by dots.
        let mut last = String::new();
        let mut s = rest;
        loop {
            let q = s.chars().next()?;
            if !matches!(q, '\'' | '`' | '"') {
                break;
            }
            let body = &s[1..];
            let end = body.find(q)?;
            last = body[..end].to_string();
            s = &body[end + 1..];
            match s.strip_prefix('.') {
                Some(r) => s = r,
                None => break,
            }
        }
        last
    } else {
        rest.split(|c: char| c.is_whitespace() || c == ',')
            .next()?
            .to_string()
    };
    let name = name.rsplit('.').next().unwrap_or(&name).to_string();
    (!name.is_empty()).then_some(name)
}

/// What the database's `message` says, and about which column: MySQL and
/// MariaDB name the column in most messages, SQLite as `table.column`,
/// PostgreSQL for not-null violations, and in the detail of unique and
/// foreign-key violations (its other messages name a type or a constraint).
/// `detail` is the driver's detail line where it has one (PostgreSQL's
/// `Key (email)=(…) already exists.`), which names the column of a unique or
/// foreign-key violation.
pub fn classify(
    engine: &str,
    problem: Problem,
    message: &str,
    detail: Option<&str>,
    constraint: Option<&str>,
) -> Clean {
    let column = match (engine, problem) {
        ("postgres", Problem::Duplicate | Problem::MissingReference) => detail
            .and_then(|d| d.strip_prefix("Key ("))
            .and_then(|d| d.split_once(")="))
            .map(|(cols, _)| cols.trim_matches('"').to_string())
            .filter(|c| !c.contains(',')),
        ("mysql", Problem::MissingReference) => quoted_after(message, "FOREIGN KEY ("),
        ("mysql", Problem::Duplicate) => None,
        ("mysql", _) => quoted_after(message, "column"),
        ("sqlite", Problem::Duplicate | Problem::NotNull) => {
            // `UNIQUE constraint failed: t.a, t.b`: one column only when one.
            message
                .split_once("failed:")
                .map(|(_, l)| l.trim())
                .filter(|l| !l.contains(','))
                .and_then(|l| quoted_after(l, ""))
        }
        ("postgres", Problem::NotNull) => quoted_after(message, "column"),
        _ => None,
    };
    let constraint = constraint
        .map(str::to_string)
        .or_else(|| match (engine, problem) {
            ("mysql", Problem::Duplicate) => quoted_after(message, "for key"),
            // `… a foreign key constraint fails (`db`.`t`, CONSTRAINT `fk` …`.
            ("mysql", Problem::MissingReference | Problem::StillReferenced) => {
                quoted_after(message, ", CONSTRAINT")
            }
            // MariaDB: CONSTRAINT `c` failed for …; MySQL: Check constraint 'c' is violated.
            ("mysql", Problem::Check) => {
                quoted_after(message, "CONSTRAINT").or_else(|| quoted_after(message, "onstraint"))
            }
            ("sqlite", Problem::Check) => message
                .split_once("failed:")
                .map(|(_, n)| n.trim().to_string()),
            _ => None,
        });
    let named = |what: &str| match &constraint {
        Some(c) => format!("{what} (constraint `{c}`)"),
        None => what.to_string(),
    };
    let about = |what: &str| match &column {
        Some(c) => format!("`{c}`: {what}"),
        None => what.to_string(),
    };
    let message = match problem {
        Problem::Duplicate => named(&about("a row with this value already exists")),
        Problem::MissingReference => named(&about("refers to a row that does not exist")),
        Problem::StillReferenced => named("the row is still referenced by other rows"),
        Problem::Reference => named("a reference between rows would not hold"),
        Problem::Exclusion => named("the row conflicts with an existing row"),
        Problem::NotNull => about("cannot be null"),
        Problem::Check => named(&about("the value breaks a check")),
        Problem::OutOfRange => about("the value is out of the column's range"),
        Problem::TooLong => about("the value is too long for the column"),
        Problem::BadValue => about("the column does not accept this value"),
    };
    Clean { column, message }
}

/// The problem a SQLSTATE class-22 error (data exception) is.
pub fn data_exception(code: &str) -> Problem {
    match code {
        // numeric_value_out_of_range.
        "22003" => Problem::OutOfRange,
        // string_data_right_truncation.
        "22001" => Problem::TooLong,
        _ => Problem::BadValue,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(engine: &str, p: Problem, m: &str, k: Option<&str>) -> (Option<String>, String) {
        let r = classify(engine, p, m, None, k);
        (r.column, r.message)
    }

    fn some(s: &str) -> Option<String> {
        Some(s.to_string())
    }

    #[test]
    fn mysql_messages_name_the_column() {
        assert_eq!(
            c(
                "mysql",
                Problem::OutOfRange,
                "Out of range value for column 'tiny' at row 1",
                None
            ),
            (
                some("tiny"),
                "`tiny`: the value is out of the column's range".into()
            )
        );
        assert_eq!(
            c(
                "mysql",
                Problem::TooLong,
                "Data too long for column 'name' at row 1",
                None
            ),
            (
                some("name"),
                "`name`: the value is too long for the column".into()
            )
        );
        assert_eq!(
            c(
                "mysql",
                Problem::BadValue,
                "Incorrect datetime value: 'x' for column `db`.`t`.`at` at row 1",
                None
            ),
            (
                some("at"),
                "`at`: the column does not accept this value".into()
            )
        );
        assert_eq!(
            c(
                "mysql",
                Problem::NotNull,
                "Column 'name' cannot be null",
                None
            ),
            (some("name"), "`name`: cannot be null".into())
        );
        assert_eq!(
            c(
                "mysql",
                Problem::Duplicate,
                "Duplicate entry 'a@b' for key 'user.email'",
                None
            ),
            (
                None,
                "a row with this value already exists (constraint `email`)".into()
            )
        );
        assert_eq!(
            c(
                "mysql",
                Problem::MissingReference,
                "Cannot add or update a child row: a foreign key constraint fails (`db`.`album`, CONSTRAINT `album_artist` FOREIGN KEY (`artist_id`) REFERENCES `artist` (`id`))",
                None
            ),
            (
                some("artist_id"),
                "`artist_id`: refers to a row that does not exist (constraint `album_artist`)"
                    .into()
            )
        );
    }

    #[test]
    fn postgres_and_sqlite_messages() {
        assert_eq!(
            c(
                "postgres",
                Problem::NotNull,
                "null value in column \"name\" of relation \"t\" violates not-null constraint",
                None
            ),
            (some("name"), "`name`: cannot be null".into())
        );
        assert_eq!(
            c(
                "postgres",
                Problem::Duplicate,
                "duplicate key value violates unique constraint \"t_email_key\"",
                Some("t_email_key")
            ),
            (
                None,
                "a row with this value already exists (constraint `t_email_key`)".into()
            )
        );
        assert_eq!(
            c(
                "postgres",
                Problem::OutOfRange,
                "smallint out of range",
                None
            ),
            (None, "the value is out of the column's range".into())
        );
        assert_eq!(
            c(
                "sqlite",
                Problem::Duplicate,
                "UNIQUE constraint failed: t.email",
                None
            ),
            (
                some("email"),
                "`email`: a row with this value already exists".into()
            )
        );
        assert_eq!(
            c(
                "sqlite",
                Problem::Duplicate,
                "UNIQUE constraint failed: t.a, t.b",
                None
            )
            .0,
            None
        );
        assert_eq!(
            c(
                "sqlite",
                Problem::Check,
                "CHECK constraint failed: positive",
                None
            ),
            (
                None,
                "the value breaks a check (constraint `positive`)".into()
            )
        );
    }
}
