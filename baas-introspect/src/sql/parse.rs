//! Parsing one statement with [`sqlparser`] in the dump's dialect, and
//! repairing, offsets kept, the clauses the parser does not know and the
//! model does not need.

use sqlparser::ast::Statement;
use sqlparser::parser::{Parser, ParserError};

use super::Builder;
use super::split::{Chunk, read_name_len};

/// Clauses the parser does not know and the model does not need, blanked out
/// when the parser stops at them. `*` is any name, `#` any number, `…` the
/// rest of the statement.
const BLANKABLE: &[&[&str]] = &[
    // MySQL 8 invisible indexes and columns.
    &["INVISIBLE"],
    &["VISIBLE"],
    // pg_dump identity columns: `ADD GENERATED … AS IDENTITY (SEQUENCE NAME s …)`.
    &["SEQUENCE", "NAME", "*"],
    // `WITH NO DATA` after a materialized view, check options after a view.
    &["WITH", "NO", "DATA"],
    &["WITH", "DATA"],
    &["WITH", "CASCADED", "CHECK", "OPTION"],
    &["WITH", "LOCAL", "CHECK", "OPTION"],
    &["WITH", "CHECK", "OPTION"],
    // PostgreSQL table access method and `LIKE` options.
    &["USING", "*"],
    &["INCLUDING", "*"],
    &["EXCLUDING", "*"],
    // SQLite conflict clauses on constraints.
    &["ON", "CONFLICT", "*"],
    // MySQL column storage options.
    &["SRID", "#"],
    &["STORAGE", "*"],
    &["COLUMN_FORMAT", "*"],
    // MySQL partitioning (the last clause of CREATE TABLE).
    &["PARTITION", "BY", "…"],
];

/// Length of `s` covered by `pattern` at its start, if it matches.
fn match_phrase(s: &str, pattern: &[&str]) -> Option<usize> {
    let mut used = 0;
    for part in pattern {
        let rest = s.get(used..)?;
        let trimmed = rest.trim_start();
        used += rest.len() - trimmed.len();
        let len = match *part {
            "*" => {
                let (name, len) = read_name_len(trimmed);
                if name.is_empty() {
                    return None;
                }
                len
            }
            "#" => trimmed
                .find(|c: char| !c.is_ascii_digit())
                .unwrap_or(trimmed.len()),
            "…" => trimmed.len(),
            word => {
                let w = trimmed.get(..word.len())?;
                let next = trimmed.get(word.len()..)?.chars().next();
                if !w.eq_ignore_ascii_case(word)
                    || next.is_some_and(|c| c.is_alphanumeric() || c == '_')
                {
                    return None;
                }
                word.len()
            }
        };
        if len == 0 {
            return None;
        }
        used += len;
    }
    Some(used)
}

/// `text` with `a..b` replaced by spaces, if those are character boundaries.
fn blank(text: &str, a: usize, b: usize) -> Option<String> {
    if a >= b || b > text.len() || !text.is_char_boundary(a) || !text.is_char_boundary(b) {
        return None;
    }
    let mut t = text.to_string();
    t.replace_range(a..b, &" ".repeat(b - a));
    Some(t)
}

/// Failure to parse one statement.
pub(super) struct ParseFailure {
    pub(super) message: String,
    /// Byte offset in the source, when the parser gave a position.
    pub(super) offset: Option<usize>,
}

impl Builder<'_> {
    fn parse_text(&self, text: &str) -> Result<Vec<Statement>, ParserError> {
        Parser::new(self.parser_dialect.as_ref())
            .with_recursion_limit(40)
            .try_with_sql(text)
            .and_then(|mut p| p.parse_statements())
    }

    /// Byte offset in `chunk` of a parser line/column (1-based, characters).
    fn chunk_offset(chunk: &Chunk, line: usize, column: usize) -> usize {
        let text = chunk.text.as_str();
        let mut off = 0;
        if line > 1 {
            match text.match_indices('\n').nth(line - 2) {
                Some((i, _)) => off = i + 1,
                None => return chunk.end,
            }
        }
        let rest = text.get(off..).unwrap_or("");
        let adv = rest
            .char_indices()
            .take_while(|(_, c)| *c != '\n')
            .nth(column.saturating_sub(1))
            .map_or_else(|| rest.find('\n').unwrap_or(rest.len()), |(i, _)| i);
        chunk.start + off + adv
    }

    /// Split a parser error into its message and position in the source.
    fn failure(chunk: &Chunk, e: &ParserError) -> ParseFailure {
        let raw = match e {
            ParserError::TokenizerError(s) | ParserError::ParserError(s) => s.clone(),
            ParserError::RecursionLimitExceeded => {
                return ParseFailure {
                    message: "expression nested too deeply".to_string(),
                    offset: Some(chunk.start),
                };
            }
        };
        if let Some(at) = raw.rfind(" at Line: ") {
            let loc = raw.get(at + 10..).unwrap_or("");
            let mut nums = loc.split(", Column: ").map(|n| n.trim().parse::<usize>());
            if let (Some(Ok(line)), Some(Ok(column))) = (nums.next(), nums.next()) {
                return ParseFailure {
                    message: raw.get(..at).unwrap_or(&raw).to_string(),
                    offset: Some(Self::chunk_offset(chunk, line, column)),
                };
            }
        }
        ParseFailure {
            message: raw,
            offset: None,
        }
    }

    /// Rewrite syntax the parser does not know into an equivalent it does,
    /// keeping every offset: PostgreSQL 18 `VIRTUAL` generated columns become
    /// `STORED`; clauses that do not change the data model are blanked out
    /// (see [`BLANKABLE`]), as is `ONLY` in `CREATE INDEX … ON ONLY`.
    fn repair(chunk: &Chunk, text: &str, f: &ParseFailure) -> Option<String> {
        let at = f.offset?.checked_sub(chunk.start)?;
        let rest = text.get(at..)?;
        if f.message.starts_with("Expected: STORED")
            && rest
                .get(..7)
                .is_some_and(|w| w.eq_ignore_ascii_case("VIRTUAL"))
        {
            let mut t = text.to_string();
            t.replace_range(at..at + 7, "STORED ");
            return Some(t);
        }
        for pattern in BLANKABLE {
            if let Some(len) = match_phrase(rest, pattern) {
                return blank(text, at, at + len);
            }
        }
        let before = text.get(..at)?.trim_end();
        if f.message.starts_with("Expected: a list of columns")
            && before.len() >= 5
            && before
                .get(before.len() - 5..)
                .is_some_and(|w| w.eq_ignore_ascii_case(" ONLY"))
        {
            return blank(text, before.len() - 4, before.len());
        }
        None
    }

    pub(super) fn parse(&self, chunk: &Chunk) -> Result<Vec<Statement>, ParseFailure> {
        let mut text = chunk.text.clone();
        for _ in 0..16 {
            match self.parse_text(&text) {
                Ok(statements) => return Ok(statements),
                Err(e) => {
                    let failure = Self::failure(chunk, &e);
                    match Self::repair(chunk, &text, &failure) {
                        Some(fixed) => text = fixed,
                        None => return Err(failure),
                    }
                }
            }
        }
        Err(ParseFailure {
            message: "statement could not be repaired for the parser".to_string(),
            offset: None,
        })
    }
}
