//! Where a MySQL/MariaDB view's columns come from, read from the server's
//! canonical text of the view (`information_schema.VIEWS.VIEW_DEFINITION`:
//! every column qualified, every alias quoted), as PostgreSQL's rewrite
//! rules say it for PostgreSQL ([`super::view_foreign_keys`]).
//!
//! Only what the canonical form makes certain is read: a select-list item
//! that is a bare column of a table of the current database, through its
//! alias in the `FROM` clause; an expression, a subquery's column, a set
//! operation (`UNION`) or anything unexpected comes from nowhere.

/// A token of the canonical text.
#[derive(Debug, Clone, PartialEq)]
enum Tok {
    /// A backquoted identifier, unquoted.
    Ident(String),
    /// A bare word (keyword or function name), lowercased.
    Word(String),
    Open,
    Close,
    Comma,
    Dot,
    /// Anything else: operators, literals.
    Other,
}

fn tokens(text: &str) -> Option<Vec<Tok>> {
    let mut out = Vec::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '`' => {
                let mut id = String::new();
                loop {
                    match chars.next()? {
                        '`' if chars.peek() == Some(&'`') => {
                            chars.next();
                            id.push('`');
                        }
                        '`' => break,
                        ch => id.push(ch),
                    }
                }
                out.push(Tok::Ident(id));
            }
            '\'' | '"' => {
                loop {
                    match chars.next()? {
                        '\\' => {
                            chars.next()?;
                        }
                        q if q == c && chars.peek() == Some(&c) => {
                            chars.next();
                        }
                        q if q == c => break,
                        _ => {}
                    }
                }
                out.push(Tok::Other);
            }
            '(' => out.push(Tok::Open),
            ')' => out.push(Tok::Close),
            ',' => out.push(Tok::Comma),
            '.' => out.push(Tok::Dot),
            c if c.is_whitespace() => {}
            c if c.is_ascii_alphanumeric() || c == '_' => {
                let mut w = c.to_ascii_lowercase().to_string();
                while let Some(&n) = chars.peek() {
                    if n.is_ascii_alphanumeric() || n == '_' {
                        w.push(n.to_ascii_lowercase());
                        chars.next();
                    } else {
                        break;
                    }
                }
                out.push(Tok::Word(w));
            }
            _ => out.push(Tok::Other),
        }
    }
    Some(out)
}

/// Words that end the `FROM` clause at the top level.
const AFTER_FROM: [&str; 8] = [
    "where",
    "group",
    "having",
    "order",
    "limit",
    "window",
    "procedure",
    "for",
];
/// Words that make the view a set operation: no column has one origin.
const SET_OPERATIONS: [&str; 3] = ["union", "except", "intersect"];

/// What a view's canonical text says for certain.
#[derive(Debug, Default, PartialEq)]
pub(super) struct ViewLineage {
    /// `(view column, table, column)` for each column that shows a column
    /// of a table of the database as it is.
    pub columns: Vec<(String, String, String)>,
    /// Every table of the database its `FROM` clause joins (not those of
    /// a derived table), once each: a view keyed by one table's key must
    /// read no other.
    pub tables: Vec<String>,
}

/// The lineage of the view defined by `definition` in database `db`
/// (empty where nothing is certain).
pub(super) fn lineage(db: &str, definition: &str) -> ViewLineage {
    let Some(toks) = tokens(definition) else {
        return ViewLineage::default();
    };
    // Top-level positions of `select`, `from` and the clause after it.
    let mut depth = 0usize;
    let (mut from, mut end) = (None, toks.len());
    for (i, t) in toks.iter().enumerate() {
        match t {
            Tok::Open => depth += 1,
            Tok::Close => depth = depth.saturating_sub(1),
            Tok::Word(w) if depth == 0 => {
                if SET_OPERATIONS.contains(&w.as_str()) {
                    return ViewLineage::default();
                }
                if w == "from" && from.is_none() {
                    from = Some(i);
                } else if from.is_some() && end == toks.len() && AFTER_FROM.contains(&w.as_str()) {
                    end = i;
                }
            }
            _ => {}
        }
    }
    let (Some(Tok::Word(first)), Some(from)) = (toks.first(), from) else {
        return ViewLineage::default();
    };
    if first != "select" {
        return ViewLineage::default();
    }
    // The tables of the `FROM` clause of this database, by alias and name:
    // `db`.`t` [`alias`]; a derived table's alias maps to nothing (`None`).
    let mut tables: Vec<(String, Option<String>)> = Vec::new();
    let clause = &toks[from + 1..end];
    let mut i = 0;
    while i < clause.len() {
        // A derived table (a query in parentheses, however it starts):
        // its own tables are not this query's, and its alias names none.
        let derived = clause[i] == Tok::Open
            && clause[i + 1..]
                .iter()
                .find(|t| **t != Tok::Open)
                .is_some_and(|t| {
                    matches!(t, Tok::Word(w) if ["select", "with", "values", "table"].contains(&w.as_str()))
                });
        if derived {
            let mut depth = 0usize;
            while i < clause.len() {
                match clause[i] {
                    Tok::Open => depth += 1,
                    Tok::Close => {
                        depth = depth.saturating_sub(1);
                        if depth == 0 {
                            break;
                        }
                    }
                    _ => {}
                }
                i += 1;
            }
            i += 1;
            if let Some(Tok::Ident(alias)) = clause.get(i) {
                tables.push((alias.clone(), None));
                i += 1;
            }
            continue;
        }
        if let (Tok::Ident(d), Some(Tok::Dot), Some(Tok::Ident(t))) =
            (&clause[i], clause.get(i + 1), clause.get(i + 2))
            && d == db
        {
            tables.push((t.clone(), Some(t.clone())));
            if let Some(Tok::Ident(alias)) = clause.get(i + 3) {
                tables.push((alias.clone(), Some(t.clone())));
                i += 1;
            }
            i += 3;
            continue;
        }
        i += 1;
    }
    // A name several tables answer to (a self-join without aliases), or a
    // derived table's, says nothing certain.
    let table_of = |name: &str| -> Option<String> {
        let mut found = tables.iter().filter(|(n, _)| n == name).map(|(_, t)| t);
        let t = found.next()?.as_ref()?;
        found.all(|o| o.as_ref() == Some(t)).then(|| t.clone())
    };
    // The select list: items split at top-level commas.
    let mut out = Vec::new();
    let mut items: Vec<&[Tok]> = Vec::new();
    let (mut start, mut depth) = (1usize, 0usize);
    for (k, t) in toks[..from].iter().enumerate().skip(1) {
        match t {
            Tok::Open => depth += 1,
            Tok::Close => depth = depth.saturating_sub(1),
            Tok::Comma if depth == 0 => {
                items.push(&toks[start..k]);
                start = k + 1;
            }
            _ => {}
        }
    }
    items.push(&toks[start..from]);
    for (n, item) in items.into_iter().enumerate() {
        // `distinct` and other modifiers before the first item only.
        const MODIFIERS: [&str; 6] = [
            "distinct",
            "distinctrow",
            "all",
            "straight_join",
            "sql_no_cache",
            "high_priority",
        ];
        let item = match item.iter().position(|t| matches!(t, Tok::Ident(_))) {
            Some(0) => item,
            Some(p)
                if n == 0
                    && item[..p]
                        .iter()
                        .all(|t| matches!(t, Tok::Word(w) if MODIFIERS.contains(&w.as_str()))) =>
            {
                &item[p..]
            }
            _ => continue,
        };
        let (table, column, alias) = match item {
            [
                Tok::Ident(d),
                Tok::Dot,
                Tok::Ident(t),
                Tok::Dot,
                Tok::Ident(c),
                Tok::Word(as_),
                Tok::Ident(a),
            ] if d == db && as_ == "as" => (table_of(t), c, a),
            [
                Tok::Ident(q),
                Tok::Dot,
                Tok::Ident(c),
                Tok::Word(as_),
                Tok::Ident(a),
            ] if as_ == "as" => (table_of(q), c, a),
            _ => continue,
        };
        if let Some(table) = table {
            out.push((alias.clone(), table, column.clone()));
        }
    }
    let mut read: Vec<String> = Vec::new();
    for t in tables.into_iter().filter_map(|(_, t)| t) {
        if !read.contains(&t) {
            read.push(t);
        }
    }
    ViewLineage {
        columns: out,
        tables: read,
    }
}

#[cfg(test)]
mod tests {
    use super::lineage;

    fn l(def: &str) -> Vec<(String, String, String)> {
        lineage("shop", def).columns
    }

    fn t(v: &str, table: &str, c: &str) -> (String, String, String) {
        (v.into(), table.into(), c.into())
    }

    #[test]
    fn plain_and_renamed_columns() {
        assert_eq!(
            l("select `shop`.`p`.`id` AS `id`,`shop`.`p`.`name` AS `label` from `shop`.`p`"),
            vec![t("id", "p", "id"), t("label", "p", "name")]
        );
        assert_eq!(
            l("select distinct `shop`.`p`.`id` AS `id` from `shop`.`p` where `shop`.`p`.`id` > 1"),
            vec![t("id", "p", "id")]
        );
    }

    #[test]
    fn aliases_joins_and_expressions() {
        let def = "select `x`.`id` AS `pen`,`y`.`qid` AS `qid`,concat(`x`.`name`,'a') AS `expr`,\
                   (select 1) AS `sub` from (`shop`.`p` `x` join `shop`.`q` `y` on(`y`.`pid` = `x`.`id`))";
        assert_eq!(l(def), vec![t("pen", "p", "id"), t("qid", "q", "qid")]);
        // Both tables are read, though only one's columns are shown.
        let def = "select `x`.`id` AS `id` from (`shop`.`p` `x` join `shop`.`q` `y` on(`y`.`pid` = `x`.`id`))";
        assert_eq!(lineage("shop", def).tables, ["p", "q"]);
        // Grouped: the shown column is still the table's.
        assert_eq!(
            l(
                "select `shop`.`q`.`pid` AS `pid`,count(0) AS `n` from `shop`.`q` group by `shop`.`q`.`pid`"
            ),
            vec![t("pid", "q", "pid")]
        );
    }

    #[test]
    fn nothing_certain() {
        // A set operation, a derived table, another database, a self-join
        // under one name, text that is no SELECT.
        assert!(l("select `shop`.`p`.`id` AS `id` from `shop`.`p` union select `shop`.`q`.`qid` AS `qid` from `shop`.`q`").is_empty());
        assert!(
            l("select `s`.`id` AS `id` from (select `shop`.`p`.`id` AS `id` from `shop`.`p`) `s`")
                .is_empty()
        );
        assert!(
            l("select `x`.`id` AS `id` from (select `x`.`id` AS `id` from `shop`.`p` `x`) `x`")
                .is_empty()
        );
        assert!(l("select `other`.`p`.`id` AS `id` from `other`.`p`").is_empty());
        assert!(l("select `x`.`id` AS `id` from (`shop`.`p` `x` join `shop`.`q` `x`)").is_empty());
        assert!(l("values (1)").is_empty());
        // A derived table that starts otherwise, under the name of a table
        // inside it.
        assert!(l("select `p`.`id` AS `id` from (with `c` as (select 1 AS `k`) select `shop`.`p`.`owner` AS `id` from `shop`.`p`) `p`").is_empty());
        assert!(l("select `p`.`id` AS `id` from ((select `shop`.`p`.`owner` AS `id` from `shop`.`p`)) `p`").is_empty());
        // A word before a later item is no modifier.
        assert!(
            l("select `shop`.`p`.`id` AS `id`,interval `shop`.`p`.`n` AS `n` from `shop`.`p`")
                == vec![t("id", "p", "id")]
        );
        assert!(
            l("select `shop`.`p`.`id` AS `it``s` from `shop`.`p` where `shop`.`p`.`name` = 'a''b'")
                == vec![t("it`s", "p", "id")]
        );
        assert!(l("select 'unterminated").is_empty());
    }

    /// Malformed text never panics and never invents an origin.
    #[test]
    fn malformed_text_is_nothing() {
        for def in [
            "",
            "select",
            "select from",
            "select `shop`.`p`.`id` AS from `shop`.`p`",
            "select `shop`.`p`.`id` AS `id` from",
            "select `shop`.`p`.`id` AS `id` from (((",
            "select `shop`.`p`.`id` AS `id` from )))",
            "select ((( `shop`.`p`.`id` AS `id` from `shop`.`p`",
            "select `unterminated",
            "select `shop`.`p`.`id` AS `id` from `shop`.`p` `x` `y` `z`",
            "select `shop`.`p`.`id` AS `id` from `shop`.",
            "select `x`.`id` AS `id` from (`shop`.`p` `x`",
            "from `shop`.`p` select `shop`.`p`.`id` AS `id`",
        ] {
            let found = lineage("shop", def);
            assert!(
                found.columns.iter().all(|(_, t, c)| t == "p" && c == "id"),
                "{def}: {found:?}"
            );
        }
    }
}
