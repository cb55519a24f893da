//! SQL DDL dumps → [`SchemaMetadata`]: PostgreSQL (`pg_dump` and
//! hand-written DDL), MySQL / MariaDB (`mysqldump`) and SQLite (`.schema`).
//!
//! The dump is cut into statements by a splitter that knows quoted strings and
//! identifiers, dollar quoting, comments, psql meta-commands and `COPY … FROM
//! stdin` data, MySQL `DELIMITER` and executable comments (`/*!40101 … */`),
//! and SQLite trigger bodies. Each statement is then parsed on its own with
//! [`sqlparser`], so one statement the parser does not know (a PL/pgSQL
//! function, a trigger, a grant…) is reported in [`Import::skipped`] with its
//! line and column instead of failing the import.
//!
//! Only these are errors, with a line and column: an unterminated quote,
//! dollar quote or comment; text that is not SQL at all; and a `CREATE TABLE`
//! the parser cannot understand.
//!
//! What is modelled: tables (columns, primary keys, unique constraints,
//! foreign keys, inline and `ALTER TABLE … ADD CONSTRAINT`), auto-increment in
//! all its spellings (`serial`, identity, `AUTO_INCREMENT`, `nextval()`
//! defaults, SQLite rowid aliases), generated columns, PostgreSQL enum types
//! and domains, indexes on plain columns, views (typed from their projection),
//! `COMMENT ON` and MySQL `COMMENT` clauses. Relations come from the foreign
//! keys through [`infer_relations`], exactly as in live introspection.
//!
//! Naming follows live introspection: the entity of a PostgreSQL table is named
//! like the table when it lives in `public`, `schema_table` otherwise, and its
//! source schema is always set; MySQL and SQLite entities have no source
//! schema. Identifiers keep the case they are written with.
//!
//! ```
//! use baas_introspect::{SqlFlavor, sql};
//!
//! let dump = "CREATE TABLE artist (id serial PRIMARY KEY, name text NOT NULL);\n\
//!             CREATE TABLE album (id serial PRIMARY KEY, artist_id int REFERENCES artist);\n\
//!             GRANT SELECT ON album TO reader;";
//! let imported = sql::import(dump, SqlFlavor::Postgres).unwrap();
//! let album = imported.schema.entity("album").unwrap();
//! assert_eq!(album.relations[0].name, "artist");
//! assert_eq!(imported.skipped.len(), 1); // the GRANT
//! ```

use std::collections::{HashMap, HashSet};

use baas_core::relations::{ForeignKey, infer_relations};
use baas_core::{Entity, Field, FieldType, Generated, Index, SchemaMetadata, Source};
use baas_sql::Dialect;
use baas_sql::types::field_type;
use sqlparser::ast::{
    AlterColumnOperation, AlterTable, AlterTableOperation, ArrayElemTypeDef, ColumnDef,
    ColumnOption, CommentDef, CommentObject, CreateIndex, CreateTable, CreateTableLikeKind,
    CreateTableOptions, CreateView, DataType, Expr, IndexColumn, JoinOperator, ObjectName,
    ObjectNamePart, Query, Select, SelectItem, SelectItemQualifiedWildcardKind, SetExpr, SqlOption,
    SqliteTableOption, Statement, TableConstraint, TableFactor, TableWithJoins,
    UserDefinedTypeRepresentation, Value,
};
use sqlparser::dialect::{
    Dialect as ParserDialect, MySqlDialect, PostgreSqlDialect, SQLiteDialect,
};
use sqlparser::parser::{Parser, ParserError};

use crate::{Import, ImportError, Location, Skipped, SqlFlavor};

/// Import a SQL DDL dump written for `flavor`.
///
/// Statements that are understood but not part of the data model (functions,
/// triggers, grants, session settings, data…) are listed in
/// [`Import::skipped`]; repeated `INSERT`/`COPY` statements are summarised as
/// one entry per table with a row count. Never panics, whatever the input.
pub fn import(text: &str, flavor: SqlFlavor) -> Result<Import, ImportError> {
    let lines = LineIndex::new(text);
    let chunks = Splitter::new(text, flavor, &lines).split()?;
    let mut b = Builder::new(text, flavor, &lines);
    let mut parsed: Vec<Parsed> = Vec::new();
    for chunk in &chunks {
        b.classify(chunk, &mut parsed)?;
    }
    b.find_partitions(&parsed);
    for p in &parsed {
        for stmt in &p.statements {
            b.apply(stmt, p)?;
        }
    }
    b.finish()
}

// ---------------------------------------------------------------------------
// Positions
// ---------------------------------------------------------------------------

/// A 1-based line and column.
type Pos = (usize, usize);

/// Byte offsets of line starts, to turn offsets into lines and columns.
struct LineIndex {
    starts: Vec<usize>,
}

impl LineIndex {
    fn new(src: &str) -> Self {
        let mut starts = vec![0];
        starts.extend(src.match_indices('\n').map(|(i, _)| i + 1));
        Self { starts }
    }

    /// Line and column (in characters) of a byte offset.
    fn locate(&self, src: &str, offset: usize) -> Pos {
        let offset = offset.min(src.len());
        let idx = self.starts.partition_point(|&s| s <= offset).max(1);
        let line_start = self.starts.get(idx - 1).copied().unwrap_or(0);
        let column = src
            .get(line_start..offset)
            .map_or(offset - line_start, |s| s.chars().count());
        (idx, column + 1)
    }
}

// ---------------------------------------------------------------------------
// Splitting
// ---------------------------------------------------------------------------

/// How many leading words of a statement are kept for classification.
const MAX_WORDS: usize = 16;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ChunkKind {
    /// An SQL statement.
    Sql,
    /// A psql meta-command (`\connect`) or a MySQL `DELIMITER` line.
    Meta,
}

/// One statement of the dump.
#[derive(Debug)]
struct Chunk {
    /// Byte offset of its first character.
    start: usize,
    /// Byte offset just past its last character (before the delimiter).
    end: usize,
    /// `src[start..end]`, with MySQL executable-comment markers blanked out
    /// (same length, so offsets into it are offsets into the source).
    text: String,
    /// The first words (outside quotes and comments), upper-cased, with their
    /// byte offsets in `text`.
    words: Vec<(String, usize)>,
    /// Whether a delimiter ended it (rather than the end of the input).
    terminated: bool,
    /// Parenthesised groups after a top-level `VALUES` (rows of an INSERT).
    tuples: usize,
    /// Data rows of a `COPY … FROM stdin`.
    copy_rows: Option<usize>,
    kind: ChunkKind,
}

impl Chunk {
    fn word(&self, i: usize) -> &str {
        self.words.get(i).map_or("", |(w, _)| w.as_str())
    }

    fn word_index(&self, word: &str) -> Option<usize> {
        self.words.iter().position(|(w, _)| w == word)
    }
}

fn is_word_start(c: u8) -> bool {
    c.is_ascii_alphabetic() || c == b'_' || c >= 0x80
}

fn is_word_byte(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_' || c == b'$' || c >= 0x80
}

struct Splitter<'a> {
    src: &'a str,
    b: &'a [u8],
    flavor: SqlFlavor,
    delim: String,
    lines: &'a LineIndex,
}

impl<'a> Splitter<'a> {
    fn new(src: &'a str, flavor: SqlFlavor, lines: &'a LineIndex) -> Self {
        Self {
            src,
            b: src.as_bytes(),
            flavor,
            delim: ";".to_string(),
            lines,
        }
    }

    fn err(&self, offset: usize, message: impl Into<String>) -> ImportError {
        let (line, column) = self.lines.locate(self.src, offset);
        ImportError::at(line, column, message)
    }

    fn at(&self, i: usize) -> Option<u8> {
        self.b.get(i).copied()
    }

    fn starts_with(&self, i: usize, s: &str) -> bool {
        self.b.get(i..).is_some_and(|r| r.starts_with(s.as_bytes()))
    }

    fn mysql(&self) -> bool {
        self.flavor == SqlFlavor::Mysql
    }

    fn pg(&self) -> bool {
        self.flavor == SqlFlavor::Postgres
    }

    /// Offset of the end of the line containing `i` (the `\n` or the end).
    fn eol(&self, i: usize) -> usize {
        self.src
            .get(i..)
            .and_then(|r| r.find('\n'))
            .map_or(self.b.len(), |p| i + p)
    }

    fn line_comment_at(&self, i: usize) -> bool {
        self.at(i) == Some(b'-')
            && self.at(i + 1) == Some(b'-')
            && (!self.mysql() || self.at(i + 2).is_none_or(|c| c.is_ascii_whitespace()))
    }

    /// Length of a MySQL executable-comment opener (`/*!40101`, `/*M!100616`).
    fn exec_marker(&self, i: usize) -> Option<usize> {
        if !self.mysql() {
            return None;
        }
        let opener = if self.starts_with(i, "/*!") {
            3
        } else if self.starts_with(i, "/*M!") {
            4
        } else {
            return None;
        };
        let mut k = i + opener;
        while self.at(k).is_some_and(|c| c.is_ascii_digit()) {
            k += 1;
        }
        Some(k - i)
    }

    /// Skip a block comment starting at `i`; nested for PostgreSQL.
    fn block_comment(&self, i: usize) -> Result<usize, ImportError> {
        let nested = self.pg();
        let mut depth = 0usize;
        let mut k = i;
        loop {
            if k >= self.b.len() {
                return Err(self.err(i, "unterminated /* comment"));
            }
            if self.starts_with(k, "/*") && (depth == 0 || nested) {
                depth += 1;
                k += 2;
            } else if self.starts_with(k, "*/") {
                depth = depth.saturating_sub(1);
                k += 2;
                if depth == 0 {
                    return Ok(k);
                }
            } else {
                k += 1;
            }
        }
    }

    /// Skip whitespace and comments between statements.
    fn skip_trivia(&self, mut i: usize) -> Result<usize, ImportError> {
        loop {
            match self.at(i) {
                None => return Ok(i),
                Some(c) if c.is_ascii_whitespace() => i += 1,
                Some(0xEF) if self.starts_with(i, "\u{feff}") => i += 3,
                Some(b'-') if self.line_comment_at(i) => i = self.eol(i),
                Some(b'#') if self.mysql() => i = self.eol(i),
                Some(b'/') if self.at(i + 1) == Some(b'*') => {
                    if self.exec_marker(i).is_some() {
                        return Ok(i);
                    }
                    i = self.block_comment(i)?;
                }
                Some(_) => return Ok(i),
            }
        }
    }

    /// Skip a quoted string or identifier opened at `i`.
    fn quoted(&self, i: usize, q: u8, backslash: bool) -> Result<usize, ImportError> {
        let mut k = i + 1;
        loop {
            match self.at(k) {
                None => {
                    let what = match q {
                        b'\'' => "unterminated string literal",
                        b'"' => "unterminated double-quoted identifier or string",
                        _ => "unterminated backquoted identifier",
                    };
                    return Err(self.err(i, what));
                }
                Some(b'\\') if backslash => k += 2,
                Some(c) if c == q => {
                    if self.at(k + 1) == Some(q) {
                        k += 2;
                    } else {
                        return Ok(k + 1);
                    }
                }
                Some(_) => k += 1,
            }
        }
    }

    /// Length of a PostgreSQL dollar-quote opener (`$$`, `$body$`) at `i`.
    fn dollar_tag(&self, i: usize) -> Option<usize> {
        let mut k = i + 1;
        match self.at(k) {
            Some(b'$') => return Some(2),
            Some(c) if c.is_ascii_alphabetic() || c == b'_' || c >= 0x80 => {}
            _ => return None,
        }
        while self
            .at(k)
            .is_some_and(|c| c.is_ascii_alphanumeric() || c == b'_' || c >= 0x80)
        {
            k += 1;
        }
        (self.at(k) == Some(b'$')).then_some(k + 1 - i)
    }

    fn dollar_body(&self, i: usize, len: usize) -> Result<usize, ImportError> {
        let tag = self.src.get(i..i + len).unwrap_or("$$");
        match self.src.get(i + len..).and_then(|r| r.find(tag)) {
            Some(p) => Ok(i + len + p + len),
            None => Err(self.err(
                i,
                format!("unterminated dollar-quoted string (no closing {tag})"),
            )),
        }
    }

    /// Whether a statement with these leading words has a `BEGIN … END` body
    /// whose semicolons do not end it.
    fn block_eligible(&self, words: &[(String, usize)]) -> bool {
        let w = |i: usize| words.get(i).map_or("", |(w, _)| w.as_str());
        if w(0) != "CREATE" {
            return false;
        }
        let head = [w(1), w(2), w(3)];
        match self.flavor {
            SqlFlavor::Sqlite => head.contains(&"TRIGGER"),
            SqlFlavor::Postgres => head.contains(&"FUNCTION") || head.contains(&"PROCEDURE"),
            SqlFlavor::Mysql => false,
        }
    }

    fn split(mut self) -> Result<Vec<Chunk>, ImportError> {
        let mut chunks = Vec::new();
        let mut i = 0;
        loop {
            i = self.skip_trivia(i)?;
            if i >= self.b.len() {
                break;
            }
            if self.at(i) == Some(b'\\') {
                let eol = self.eol(i);
                chunks.push(self.meta(i, eol));
                i = eol;
                continue;
            }
            if self.mysql() && self.delimiter_command(i) {
                let eol = self.eol(i);
                let arg = self.src.get(i + 9..eol).unwrap_or("").trim();
                if !arg.is_empty() {
                    self.delim = arg.to_string();
                }
                chunks.push(self.meta(i, eol));
                i = eol;
                continue;
            }
            let (mut chunk, next) = self.statement(i)?;
            i = next;
            if self.pg()
                && chunk.terminated
                && chunk.word(0) == "COPY"
                && chunk.text.to_ascii_uppercase().contains("FROM STDIN")
            {
                let (rows, after) = self.copy_data(i);
                chunk.copy_rows = Some(rows);
                i = after;
            }
            if !chunk.text.trim().is_empty() {
                chunks.push(chunk);
            }
        }
        Ok(chunks)
    }

    fn delimiter_command(&self, i: usize) -> bool {
        self.b
            .get(i..i + 9)
            .is_some_and(|w| w.eq_ignore_ascii_case(b"DELIMITER"))
            && self.at(i + 9).is_some_and(|c| c == b' ' || c == b'\t')
    }

    fn meta(&self, start: usize, end: usize) -> Chunk {
        Chunk {
            start,
            end,
            text: self
                .src
                .get(start..end)
                .unwrap_or("")
                .trim_end()
                .to_string(),
            words: Vec::new(),
            terminated: true,
            tuples: 0,
            copy_rows: None,
            kind: ChunkKind::Meta,
        }
    }

    /// Rows of `COPY … FROM stdin` data starting on the line after `i`, up to
    /// a `\.` line (or the end of the input).
    fn copy_data(&self, i: usize) -> (usize, usize) {
        let len = self.b.len();
        let mut k = match self.src.get(i..).and_then(|r| r.find('\n')) {
            Some(p) => i + p + 1,
            None => return (0, len),
        };
        let mut rows = 0;
        while k < len {
            let line_end = self.eol(k);
            let line = self
                .src
                .get(k..line_end)
                .unwrap_or("")
                .trim_end_matches('\r');
            let after = (line_end + 1).min(len);
            if line == "\\." {
                return (rows, after);
            }
            rows += 1;
            k = after;
        }
        (rows, len)
    }

    /// Scan one statement starting at `start`; returns it and the offset after
    /// its delimiter.
    fn statement(&self, start: usize) -> Result<(Chunk, usize), ImportError> {
        let delim = self.delim.as_bytes();
        let mut j = start;
        let mut blanks: Vec<(usize, usize)> = Vec::new();
        let mut words: Vec<(String, usize)> = Vec::new();
        let mut exec = false;
        let mut depth = 0usize;
        let mut after_values = false;
        let mut tuples = 0usize;
        let mut block_mode = false;
        let mut block = 0usize;
        let mut last_word = (0usize, 0usize);
        let (end, next, terminated) = loop {
            let Some(c) = self.at(j) else {
                if block > 0 {
                    return Err(self.err(
                        start,
                        "unterminated statement: BEGIN without a matching END",
                    ));
                }
                break (self.b.len(), self.b.len(), false);
            };
            if block == 0 && self.b.get(j..).is_some_and(|r| r.starts_with(delim)) {
                break (j, j + delim.len(), true);
            }
            match c {
                b'\'' => {
                    let e_string = self.pg()
                        && last_word.1 == j
                        && self
                            .src
                            .get(last_word.0..last_word.1)
                            .is_some_and(|w| w.eq_ignore_ascii_case("e"));
                    j = self.quoted(j, b'\'', self.mysql() || e_string)?;
                }
                b'"' => j = self.quoted(j, b'"', self.mysql())?,
                b'`' => j = self.quoted(j, b'`', false)?,
                b'[' if self.flavor == SqlFlavor::Sqlite => {
                    match self.src.get(j + 1..).and_then(|r| r.find(']')) {
                        Some(p) => j = j + 1 + p + 1,
                        None => return Err(self.err(j, "unterminated [identifier]")),
                    }
                }
                b'$' if self.pg() => match self.dollar_tag(j) {
                    Some(len) => j = self.dollar_body(j, len)?,
                    None => j += 1,
                },
                b'-' if self.line_comment_at(j) => j = self.eol(j),
                b'#' if self.mysql() => j = self.eol(j),
                b'/' if self.at(j + 1) == Some(b'*') => match self.exec_marker(j) {
                    Some(m) => {
                        blanks.push((j, j + m));
                        exec = true;
                        j += m;
                    }
                    None => j = self.block_comment(j)?,
                },
                b'*' if exec && self.at(j + 1) == Some(b'/') => {
                    blanks.push((j, j + 2));
                    exec = false;
                    j += 2;
                }
                b'(' => {
                    depth += 1;
                    if depth == 1 && after_values {
                        tuples += 1;
                    }
                    j += 1;
                }
                b')' => {
                    depth = depth.saturating_sub(1);
                    j += 1;
                }
                c if c.is_ascii_digit() => {
                    while self.at(j).is_some_and(is_word_byte) {
                        j += 1;
                    }
                }
                c if is_word_start(c) => {
                    let ws = j;
                    while self.at(j).is_some_and(is_word_byte) {
                        j += 1;
                    }
                    let w = self.src.get(ws..j).unwrap_or("");
                    if words.len() < MAX_WORDS {
                        words.push((w.to_ascii_uppercase(), ws - start));
                        block_mode = block_mode || self.block_eligible(&words);
                    }
                    if depth == 0
                        && (w.eq_ignore_ascii_case("VALUES") || w.eq_ignore_ascii_case("VALUE"))
                    {
                        after_values = true;
                    }
                    if block_mode {
                        if w.eq_ignore_ascii_case("BEGIN") || w.eq_ignore_ascii_case("CASE") {
                            block += 1;
                        } else if w.eq_ignore_ascii_case("END") {
                            block = block.saturating_sub(1);
                        }
                    }
                    last_word = (ws, j);
                }
                _ => j += 1,
            }
        };
        let end = end.min(self.b.len());
        let mut text = self.src.get(start..end).unwrap_or("").to_string();
        for (a, b) in blanks {
            let (a, b) = (
                a.saturating_sub(start),
                b.saturating_sub(start).min(text.len()),
            );
            if a < b && text.is_char_boundary(a) && text.is_char_boundary(b) {
                text.replace_range(a..b, &" ".repeat(b - a));
            }
        }
        Ok((
            Chunk {
                start,
                end,
                text,
                words,
                terminated,
                tuples,
                copy_rows: None,
                kind: ChunkKind::Sql,
            },
            next,
        ))
    }
}

/// Read a possibly qualified, possibly quoted name at the start of `s`
/// (`public.actor`, `` `shop`.`orders` ``, `[Album]`), unquoted and joined by dots.
fn read_name(s: &str) -> String {
    read_name_len(s).0
}

/// [`read_name`], with the number of bytes of `s` it spans.
fn read_name_len(s: &str) -> (String, usize) {
    let mut parts: Vec<String> = Vec::new();
    let mut rest = s.trim_start();
    loop {
        let close = match rest.chars().next() {
            Some('"') => Some('"'),
            Some('`') => Some('`'),
            Some('[') => Some(']'),
            Some('\'') => Some('\''),
            _ => None,
        };
        let used = if let Some(close) = close {
            let inner = rest.get(1..).unwrap_or("");
            match inner.find(close) {
                Some(p) => {
                    parts.push(inner.get(..p).unwrap_or("").to_string());
                    p + 2
                }
                None => break,
            }
        } else {
            let end = rest
                .char_indices()
                .find(|(_, c)| !(c.is_alphanumeric() || *c == '_' || *c == '$'))
                .map_or(rest.len(), |(i, _)| i);
            if end == 0 {
                break;
            }
            parts.push(rest.get(..end).unwrap_or("").to_string());
            end
        };
        rest = rest.get(used..).unwrap_or("");
        match rest.strip_prefix('.') {
            Some(r) if !parts.is_empty() => rest = r,
            _ => break,
        }
    }
    (parts.join("."), s.len() - rest.len())
}

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

// ---------------------------------------------------------------------------
// Skipped statements
// ---------------------------------------------------------------------------

const R_SESSION: &str = "session setting; not part of the schema";
const R_DATA: &str = "data, not schema";
const R_OWNER: &str = "ownership is not modelled";
const R_PRIVILEGES: &str = "privileges and roles are not modelled";
const R_CODE: &str =
    "server-side code (functions, procedures, triggers, aggregates, rules) is not modelled";
const R_SEQUENCE: &str =
    "sequences are not modelled; columns defaulting to nextval() are auto-increment";
const R_DROP: &str = "drops are ignored; the objects the dump creates are imported";
const R_DATABASE: &str = "databases, schemas and extensions are not modelled";
const R_CLIENT: &str = "client command";
const R_TRANSACTION: &str = "transaction control";
const R_NOT_MODELLED: &str = "statement not modelled";
const R_EXPR_INDEX: &str = "expression index; only indexes on plain columns are modelled";

struct SkipItem {
    pos: Pos,
    what: String,
    reason: String,
    statements: usize,
    rows: usize,
}

#[derive(Default)]
struct Skips {
    items: Vec<SkipItem>,
    groups: HashMap<String, usize>,
}

impl Skips {
    fn one(&mut self, pos: Pos, what: impl Into<String>, reason: impl Into<String>) {
        self.items.push(SkipItem {
            pos,
            what: what.into(),
            reason: reason.into(),
            statements: 1,
            rows: 0,
        });
    }

    /// Count one more statement (and `rows` rows) under `key`, reported once
    /// at its first position.
    fn group(&mut self, key: &str, pos: Pos, what: &str, reason: &str, rows: usize) {
        if let Some(item) = self.groups.get(key).and_then(|&i| self.items.get_mut(i)) {
            item.statements += 1;
            item.rows += rows;
            return;
        }
        self.groups.insert(key.to_string(), self.items.len());
        self.items.push(SkipItem {
            pos,
            what: what.to_string(),
            reason: reason.to_string(),
            statements: 1,
            rows,
        });
    }

    fn finish(self) -> Vec<Skipped> {
        let mut items = self.items;
        items.sort_by_key(|i| i.pos);
        items
            .into_iter()
            .map(|i| {
                let what = if i.rows > 0 {
                    let unit = if i.rows == 1 { "row" } else { "rows" };
                    format!("{} ({} {unit})", i.what, i.rows)
                } else if i.statements > 1 {
                    format!("{} ({} statements)", i.what, i.statements)
                } else {
                    i.what
                };
                Skipped {
                    location: Location::LineCol {
                        line: i.pos.0,
                        column: i.pos.1,
                    },
                    what,
                    reason: i.reason,
                }
            })
            .collect()
    }
}

// ---------------------------------------------------------------------------
// Building the model
// ---------------------------------------------------------------------------

/// Statements parsed from one chunk.
struct Parsed {
    pos: Pos,
    /// Byte offset of the statement in the source.
    start: usize,
    statements: Vec<Statement>,
}

struct Table {
    entity: Entity,
    /// Lookup key: schema (PostgreSQL only) and table, as written.
    schema: Option<String>,
    table: String,
    /// The name as written, for messages.
    written: String,
    pos: Pos,
    /// Declared type of each field, by field name.
    declared: HashMap<String, String>,
    without_rowid: bool,
    /// For views and `CREATE TABLE … AS SELECT`: the columns whose type could
    /// not be inferred from the projection.
    inferred_as_text: Vec<String>,
}

struct RawFk {
    from: usize,
    columns: Vec<String>,
    target: Vec<String>,
    target_columns: Vec<String>,
    name: Option<String>,
    pos: Pos,
}

struct DomainDef {
    data_type: DataType,
    default: Option<String>,
}

struct PendingComment {
    object: CommentObject,
    name: Vec<String>,
    text: Option<String>,
    pos: Pos,
}

/// A column type resolved against the enums and domains of the dump.
struct Resolved {
    ty: FieldType,
    max_length: Option<u32>,
    serial: bool,
    domain: Option<String>,
    default: Option<String>,
}

/// Failure to parse one statement.
struct ParseFailure {
    message: String,
    /// Byte offset in the source, when the parser gave a position.
    offset: Option<usize>,
}

struct Builder<'a> {
    src: &'a str,
    flavor: SqlFlavor,
    dialect: Dialect,
    lines: &'a LineIndex,
    parser_dialect: Box<dyn ParserDialect>,
    tables: Vec<Table>,
    fks: Vec<RawFk>,
    enums: HashMap<String, Vec<String>>,
    domains: HashMap<String, DomainDef>,
    comments: Vec<PendingComment>,
    /// Lower-cased `schema.table` of partitions → their parent as written.
    partitions: HashMap<String, String>,
    virtual_tables: Vec<String>,
    skips: Skips,
}

/// Words that may start an SQL statement: a chunk starting with anything
/// else that the parser rejects is not SQL.
const SQL_KEYWORDS: &[&str] = &[
    "ABORT",
    "ALTER",
    "ANALYZE",
    "ATTACH",
    "BEGIN",
    "CALL",
    "CHECKPOINT",
    "CLOSE",
    "CLUSTER",
    "COMMENT",
    "COMMIT",
    "COPY",
    "CREATE",
    "DEALLOCATE",
    "DECLARE",
    "DELETE",
    "DETACH",
    "DISCARD",
    "DO",
    "DROP",
    "END",
    "EXECUTE",
    "EXPLAIN",
    "FETCH",
    "FLUSH",
    "GRANT",
    "HANDLER",
    "IMPORT",
    "INSERT",
    "LISTEN",
    "LOAD",
    "LOCK",
    "MERGE",
    "MOVE",
    "NOTIFY",
    "OPTIMIZE",
    "PRAGMA",
    "PREPARE",
    "REASSIGN",
    "REFRESH",
    "REINDEX",
    "RELEASE",
    "RENAME",
    "REPAIR",
    "REPLACE",
    "RESET",
    "REVOKE",
    "ROLLBACK",
    "SAVEPOINT",
    "SECURITY",
    "SELECT",
    "SET",
    "SHOW",
    "START",
    "TABLE",
    "TRUNCATE",
    "UNLISTEN",
    "UNLOCK",
    "UPDATE",
    "USE",
    "VACUUM",
    "VALUES",
    "WITH",
];

fn ident_parts(name: &ObjectName) -> Vec<String> {
    name.0
        .iter()
        .map(|p| match p {
            ObjectNamePart::Identifier(i) => i.value.clone(),
            other => other.to_string(),
        })
        .collect()
}

fn last_part(name: &ObjectName) -> String {
    ident_parts(name).pop().unwrap_or_default()
}

fn is_nextval(e: &Expr) -> bool {
    match e {
        Expr::Function(f) => last_part(&f.name).eq_ignore_ascii_case("nextval"),
        Expr::Nested(inner) => is_nextval(inner),
        _ => false,
    }
}

fn is_null(e: &Expr) -> bool {
    matches!(e, Expr::Value(v) if matches!(v.value, Value::Null))
}

/// Cut `s` to at most `max` characters, marking the cut.
fn clip(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        Some((i, _)) => format!("{}…", s.get(..i).unwrap_or(s)),
        None => s.to_string(),
    }
}

/// The plain column an index or key part names, if it is one.
fn index_column(c: &IndexColumn, flavor: SqlFlavor) -> Option<String> {
    match &c.column.expr {
        Expr::Identifier(i) => Some(i.value.clone()),
        Expr::CompoundIdentifier(parts) => parts.last().map(|i| i.value.clone()),
        // MySQL prefix indexes: `name`(20).
        Expr::Function(f) if flavor == SqlFlavor::Mysql && f.name.0.len() == 1 => {
            Some(last_part(&f.name))
        }
        _ => None,
    }
}

impl<'a> Builder<'a> {
    fn new(src: &'a str, flavor: SqlFlavor, lines: &'a LineIndex) -> Self {
        let (dialect, parser_dialect): (Dialect, Box<dyn ParserDialect>) = match flavor {
            SqlFlavor::Postgres => (Dialect::Postgres, Box::new(PostgreSqlDialect {})),
            SqlFlavor::Mysql => (Dialect::Mysql, Box::new(MySqlDialect {})),
            SqlFlavor::Sqlite => (Dialect::Sqlite, Box::new(SQLiteDialect {})),
        };
        Self {
            src,
            flavor,
            dialect,
            lines,
            parser_dialect,
            tables: Vec::new(),
            fks: Vec::new(),
            enums: HashMap::new(),
            domains: HashMap::new(),
            comments: Vec::new(),
            partitions: HashMap::new(),
            virtual_tables: Vec::new(),
            skips: Skips::default(),
        }
    }

    fn locate(&self, offset: usize) -> Pos {
        self.lines.locate(self.src, offset)
    }

    fn error(&self, offset: usize, message: impl Into<String>) -> ImportError {
        let (line, column) = self.locate(offset);
        ImportError::at(line, column, message)
    }

    // -- parsing ------------------------------------------------------------

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

    fn parse(&self, chunk: &Chunk) -> Result<Vec<Statement>, ParseFailure> {
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

    // -- classification -----------------------------------------------------

    /// The name written after word `idx` (skipping `IF [NOT] EXISTS`, `ONLY`).
    fn name_after(chunk: &Chunk, idx: usize) -> String {
        let Some((w, off)) = chunk.words.get(idx) else {
            return String::new();
        };
        let mut at = off + w.len();
        for (next, noff) in chunk.words.iter().skip(idx + 1) {
            let gap = chunk.text.get(at..*noff).unwrap_or("x");
            if !gap.trim().is_empty() {
                break;
            }
            if matches!(next.as_str(), "IF" | "NOT" | "EXISTS" | "ONLY") {
                at = noff + next.len();
            } else {
                break;
            }
        }
        read_name(chunk.text.get(at..).unwrap_or(""))
    }

    fn classify(&mut self, chunk: &Chunk, out: &mut Vec<Parsed>) -> Result<(), ImportError> {
        let pos = self.locate(chunk.start);
        if chunk.kind == ChunkKind::Meta {
            let what = chunk.text.split_whitespace().next().unwrap_or("\\");
            let key = format!("meta:{what}");
            self.skips.group(&key, pos, what, R_CLIENT, 0);
            return Ok(());
        }
        let upper = |i: usize| chunk.word(i);
        match upper(0) {
            "SET" | "RESET" => self.skips.group("set", pos, "SET", R_SESSION, 0),
            "SELECT" if chunk.text.contains("set_config") => {
                self.skips.group("set", pos, "SET", R_SESSION, 0);
            }
            "SELECT" if chunk.text.contains("setval") => {
                self.skips
                    .group("setval", pos, "SELECT setval(…)", R_SEQUENCE, 0);
            }
            "SELECT" | "WITH" | "VALUES" | "TABLE" | "SHOW" | "EXPLAIN" => {
                self.skips.group(
                    "select",
                    pos,
                    upper(0),
                    "queries are not part of the schema",
                    0,
                );
            }
            "INSERT" | "REPLACE" => {
                let table = chunk
                    .word_index("INTO")
                    .map(|i| Self::name_after(chunk, i))
                    .unwrap_or_default();
                let what = format!("INSERT INTO {table}");
                self.skips
                    .group(&format!("insert:{table}"), pos, &what, R_DATA, chunk.tuples);
            }
            "COPY" => {
                let table = Self::name_after(chunk, 0);
                let what = format!("COPY {table}");
                let rows = chunk.copy_rows.unwrap_or(0);
                self.skips
                    .group(&format!("copy:{table}"), pos, &what, R_DATA, rows);
            }
            w @ ("UPDATE" | "DELETE" | "TRUNCATE" | "MERGE") => {
                self.skips.group(&format!("dml:{w}"), pos, w, R_DATA, 0);
            }
            "BEGIN" | "START" | "COMMIT" | "END" | "ROLLBACK" | "SAVEPOINT" | "RELEASE"
            | "ABORT" => {
                self.skips
                    .group("tx", pos, "BEGIN/COMMIT", R_TRANSACTION, 0);
            }
            "LOCK" | "UNLOCK" => self.skips.group(
                "lock",
                pos,
                "LOCK/UNLOCK TABLES",
                "table locks are not part of the schema",
                0,
            ),
            "USE" => self.skips.group("use", pos, "USE", R_CLIENT, 0),
            "PRAGMA" => self.skips.group("pragma", pos, "PRAGMA", R_SESSION, 0),
            "GRANT" | "REVOKE" => {
                self.skips
                    .group("grant", pos, "GRANT/REVOKE", R_PRIVILEGES, 0);
            }
            "DROP" => self.skips.group("drop", pos, "DROP", R_DROP, 0),
            "COMMENT" => return self.parse_into(chunk, pos, out, false),
            "ALTER" => return self.classify_alter(chunk, pos, out),
            "CREATE" => return self.classify_create(chunk, pos, out),
            _ => return self.parse_unknown(chunk, pos),
        }
        Ok(())
    }

    fn classify_alter(
        &mut self,
        chunk: &Chunk,
        pos: Pos,
        out: &mut Vec<Parsed>,
    ) -> Result<(), ImportError> {
        let upper = chunk.text.to_ascii_uppercase();
        let kind = chunk.word(1);
        if upper.contains("OWNER TO") {
            self.skips
                .group("owner", pos, "ALTER … OWNER TO", R_OWNER, 0);
            return Ok(());
        }
        match kind {
            "TABLE" if upper.contains("DISABLE KEYS") || upper.contains("ENABLE KEYS") => {
                self.skips.group(
                    "keys",
                    pos,
                    "ALTER TABLE … DISABLE/ENABLE KEYS",
                    "bulk-load setting; not part of the schema",
                    0,
                );
            }
            "TABLE" if upper.contains(" CLUSTER ON ") => {
                self.skips.group(
                    "cluster",
                    pos,
                    "ALTER TABLE … CLUSTER ON",
                    "physical storage setting; not part of the schema",
                    0,
                );
            }
            "TABLE" => return self.parse_into(chunk, pos, out, false),
            "SEQUENCE" => {
                let what = format!("ALTER SEQUENCE {}", Self::name_after(chunk, 1));
                self.skips.one(pos, what, R_SEQUENCE);
            }
            "FUNCTION" | "PROCEDURE" | "AGGREGATE" | "TRIGGER" | "RULE" | "EVENT" => {
                let what = format!("ALTER {kind} {}", Self::name_after(chunk, 1));
                self.skips.one(pos, what, R_CODE);
            }
            "DATABASE" | "SCHEMA" | "EXTENSION" => {
                let what = format!("ALTER {kind} {}", Self::name_after(chunk, 1));
                self.skips.one(pos, what, R_DATABASE);
            }
            "DEFAULT" | "ROLE" | "USER" | "GROUP" | "POLICY" => {
                self.skips
                    .group("grant", pos, "GRANT/REVOKE", R_PRIVILEGES, 0);
            }
            _ => {
                let what = format!("ALTER {kind} {}", Self::name_after(chunk, 1));
                self.skips.one(pos, what.trim_end(), R_NOT_MODELLED);
            }
        }
        Ok(())
    }

    fn classify_create(
        &mut self,
        chunk: &Chunk,
        pos: Pos,
        out: &mut Vec<Parsed>,
    ) -> Result<(), ImportError> {
        const KINDS: &[&str] = &[
            "TABLE",
            "VIEW",
            "INDEX",
            "TYPE",
            "DOMAIN",
            "FUNCTION",
            "PROCEDURE",
            "TRIGGER",
            "AGGREGATE",
            "OPERATOR",
            "CAST",
            "RULE",
            "EVENT",
            "LANGUAGE",
            "TRANSFORM",
            "SEQUENCE",
            "DATABASE",
            "SCHEMA",
            "EXTENSION",
            "TABLESPACE",
            "SERVER",
            "PUBLICATION",
            "SUBSCRIPTION",
            "COLLATION",
            "CONVERSION",
            "TEXT",
            "ACCESS",
            "STATISTICS",
            "POLICY",
            "ROLE",
            "USER",
            "GROUP",
        ];
        let Some(k) = (1..8).find(|&i| KINDS.contains(&chunk.word(i))) else {
            return self.parse_unknown(chunk, pos);
        };
        let kind = chunk.word(k);
        let before: Vec<&str> = (1..k).map(|i| chunk.word(i)).collect();
        let name = Self::name_after(chunk, k);
        let what = format!("CREATE {kind} {name}");
        match kind {
            "TABLE" if before.contains(&"VIRTUAL") => {
                let module = chunk
                    .word_index("USING")
                    .map(|i| chunk.word(i + 1).to_ascii_lowercase())
                    .unwrap_or_default();
                let short = name.rsplit('.').next().unwrap_or(&name).to_string();
                self.virtual_tables.push(short.to_ascii_lowercase());
                self.skips.one(
                    pos,
                    format!("CREATE VIRTUAL TABLE {name}"),
                    format!("virtual table (module {module}) is not modelled"),
                );
            }
            "TABLE" if before.contains(&"FOREIGN") => {
                self.skips.one(
                    pos,
                    format!("CREATE FOREIGN TABLE {name}"),
                    "foreign tables are not modelled",
                );
            }
            "TABLE" => return self.parse_into(chunk, pos, out, true),
            "VIEW" | "INDEX" | "TYPE" | "DOMAIN" => {
                return self.parse_into(chunk, pos, out, false);
            }
            "FUNCTION" | "PROCEDURE" | "TRIGGER" | "AGGREGATE" | "OPERATOR" | "CAST" | "RULE"
            | "EVENT" | "LANGUAGE" | "TRANSFORM" => self.skips.one(pos, what, R_CODE),
            "SEQUENCE" => self.skips.one(pos, what, R_SEQUENCE),
            "DATABASE" | "SCHEMA" | "EXTENSION" => self.skips.one(pos, what, R_DATABASE),
            "POLICY" | "ROLE" | "USER" | "GROUP" => self.skips.one(pos, what, R_PRIVILEGES),
            _ => self.skips.one(pos, what, R_NOT_MODELLED),
        }
        Ok(())
    }

    /// Parse a statement the model needs. A table definition that does not
    /// parse is an error; anything else is skipped with the parser's reason.
    fn parse_into(
        &mut self,
        chunk: &Chunk,
        pos: Pos,
        out: &mut Vec<Parsed>,
        required: bool,
    ) -> Result<(), ImportError> {
        match self.parse(chunk) {
            Ok(statements) => {
                out.push(Parsed {
                    pos,
                    start: chunk.start,
                    statements,
                });
                Ok(())
            }
            Err(f) if required => {
                let what = if chunk.terminated {
                    "cannot understand this table definition"
                } else {
                    "unterminated table definition"
                };
                Err(self.error(
                    f.offset.unwrap_or(chunk.end),
                    format!("{what}: {}", f.message),
                ))
            }
            Err(f) => {
                let what = (0..3)
                    .map(|i| chunk.word(i))
                    .filter(|w| !w.is_empty())
                    .collect::<Vec<_>>()
                    .join(" ");
                self.skips.one(
                    pos,
                    what,
                    format!("not understood by the SQL parser: {}", f.message),
                );
                Ok(())
            }
        }
    }

    /// A statement of a kind the importer does not know: skipped when it is
    /// SQL, an error when it is not.
    fn parse_unknown(&mut self, chunk: &Chunk, pos: Pos) -> Result<(), ImportError> {
        let what = (0..2)
            .map(|i| chunk.word(i))
            .filter(|w| !w.is_empty())
            .collect::<Vec<_>>()
            .join(" ");
        match self.parse(chunk) {
            Ok(_) => {
                self.skips.one(pos, what, R_NOT_MODELLED);
                Ok(())
            }
            Err(f)
                if SQL_KEYWORDS.contains(&chunk.word(0))
                    && chunk.text.starts_with(|c: char| c.is_ascii_alphabetic()) =>
            {
                self.skips.one(
                    pos,
                    what,
                    format!("not understood by the SQL parser: {}", f.message),
                );
                Ok(())
            }
            Err(_) => {
                let head = clip(chunk.text.lines().next().unwrap_or("").trim(), 40);
                Err(self.error(chunk.start, format!("not an SQL statement: `{head}`")))
            }
        }
    }

    // -- tables -------------------------------------------------------------

    /// Lookup key (schema, table) of a written name.
    fn key(&self, parts: &[String]) -> (Option<String>, String) {
        let table = parts.last().cloned().unwrap_or_default();
        match self.flavor {
            SqlFlavor::Postgres => {
                let schema = if parts.len() >= 2 {
                    parts.get(parts.len() - 2).cloned()
                } else {
                    None
                };
                (Some(schema.unwrap_or_else(|| "public".to_string())), table)
            }
            _ => (None, table),
        }
    }

    fn partition_key(&self, parts: &[String]) -> String {
        let (schema, table) = self.key(parts);
        format!("{}.{table}", schema.unwrap_or_default()).to_lowercase()
    }

    fn is_partition(&self, parts: &[String]) -> bool {
        self.partitions.contains_key(&self.partition_key(parts))
    }

    /// Find a table or view by written name: exact, then ignoring case.
    fn find(&self, parts: &[String]) -> Option<usize> {
        let (schema, table) = self.key(parts);
        self.tables
            .iter()
            .position(|t| t.schema == schema && t.table == table)
            .or_else(|| {
                self.tables.iter().position(|t| {
                    t.table.eq_ignore_ascii_case(&table)
                        && match (&t.schema, &schema) {
                            (Some(a), Some(b)) => a.eq_ignore_ascii_case(b),
                            (a, b) => a == b,
                        }
                })
            })
    }

    fn entity_name(&self, schema: Option<&str>, table: &str, replacing: Option<usize>) -> String {
        let base = match schema {
            Some(s) if s != "public" => format!("{s}_{table}"),
            _ => table.to_string(),
        };
        let taken = |n: &str| {
            self.tables
                .iter()
                .enumerate()
                .any(|(i, t)| Some(i) != replacing && t.entity.name == n)
        };
        if !taken(&base) {
            return base;
        }
        (2..)
            .map(|i| format!("{base}_{i}"))
            .find(|n| !taken(n))
            .unwrap_or(base)
    }

    /// Register a table or view, replacing an earlier definition of the same
    /// name in place (dumps drop and re-create).
    fn register(&mut self, parts: &[String], pos: Pos, mut table: Table) -> usize {
        let (schema, name) = self.key(parts);
        let existing = self
            .tables
            .iter()
            .position(|t| t.schema == schema && t.table == name);
        table.entity.name = self.entity_name(schema.as_deref(), &name, existing);
        table.entity.source = Source {
            table: name.clone(),
            schema: schema.clone(),
        };
        table.schema = schema;
        table.table = name;
        table.written = parts.join(".");
        table.pos = pos;
        match existing {
            Some(i) => {
                self.fks.retain(|fk| fk.from != i);
                if let Some(slot) = self.tables.get_mut(i) {
                    *slot = table;
                }
                i
            }
            None => {
                self.tables.push(table);
                self.tables.len() - 1
            }
        }
    }

    fn lookup_enum(&self, name: &str) -> Option<&Vec<String>> {
        self.enums.get(name).or_else(|| {
            self.enums
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                .map(|(_, v)| v)
        })
    }

    fn lookup_domain(&self, name: &str) -> Option<&DomainDef> {
        self.domains.get(name).or_else(|| {
            self.domains
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                .map(|(_, v)| v)
        })
    }

    fn plain(&self, declared: &str) -> Resolved {
        let t = field_type(self.dialect, declared);
        Resolved {
            ty: t.ty,
            max_length: t.max_length,
            serial: t.serial,
            domain: None,
            default: None,
        }
    }

    fn resolve_type(&self, dt: &DataType, depth: usize) -> Resolved {
        match dt {
            DataType::Custom(name, modifiers) if depth < 8 => {
                let last = last_part(name);
                if let Some(values) = self.lookup_enum(&last) {
                    let name = (!last.contains(['{', '}', '"'])).then(|| last.clone());
                    return Resolved {
                        ty: FieldType::Enum {
                            name,
                            values: values.clone(),
                        },
                        max_length: None,
                        serial: false,
                        domain: None,
                        default: None,
                    };
                }
                if let Some(d) = self.lookup_domain(&last) {
                    let mut r = self.resolve_type(&d.data_type, depth + 1);
                    r.domain = Some(last);
                    r.default = r.default.or_else(|| d.default.clone());
                    return r;
                }
                if modifiers.is_empty() {
                    self.plain(&last)
                } else {
                    let mods: Vec<String> = modifiers.iter().map(ToString::to_string).collect();
                    self.plain(&format!("{last}({})", mods.join(",")))
                }
            }
            DataType::Array(
                ArrayElemTypeDef::SquareBracket(inner, _)
                | ArrayElemTypeDef::AngleBracket(inner)
                | ArrayElemTypeDef::Parenthesis(inner)
                | ArrayElemTypeDef::ParenthesisNotNull(inner)
                | ArrayElemTypeDef::Qualified(inner, _),
            ) if depth < 8 => {
                let r = self.resolve_type(inner, depth + 1);
                Resolved {
                    ty: FieldType::Array {
                        items: Box::new(r.ty),
                    },
                    max_length: None,
                    serial: false,
                    domain: None,
                    default: None,
                }
            }
            other => self.plain(&other.to_string()),
        }
    }

    /// A field from a column definition; also collects its inline primary
    /// key and foreign keys.
    fn column_field(
        &self,
        col: &ColumnDef,
        inline_pk: &mut Vec<String>,
        inline_fks: &mut Vec<(String, ObjectName, Vec<String>, Option<String>)>,
    ) -> (Field, String) {
        let resolved = self.resolve_type(&col.data_type, 0);
        let declared = col.data_type.to_string();
        let name = col.name.value.clone();
        let mut field = Field::new(name.clone(), resolved.ty);
        field.nullable = true;
        field.max_length = resolved.max_length;
        field.default = resolved.default;
        let mut auto = resolved.serial;
        let mut comment = None;
        for opt in &col.options {
            match &opt.option {
                ColumnOption::Null => field.nullable = true,
                ColumnOption::NotNull => field.nullable = false,
                ColumnOption::Default(e) if is_nextval(e) => auto = true,
                ColumnOption::Default(e) if is_null(e) => field.default = None,
                ColumnOption::Default(e) => field.default = Some(e.to_string()),
                ColumnOption::PrimaryKey(_) => {
                    field.nullable = false;
                    inline_pk.push(name.clone());
                }
                ColumnOption::Unique(_) => field.unique = true,
                ColumnOption::ForeignKey(fk) => inline_fks.push((
                    name.clone(),
                    fk.foreign_table.clone(),
                    fk.referred_columns
                        .iter()
                        .map(|i| i.value.clone())
                        .collect(),
                    fk.name
                        .as_ref()
                        .or(opt.name.as_ref())
                        .map(|i| i.value.clone()),
                )),
                ColumnOption::Comment(c) => comment = Some(c.clone()),
                ColumnOption::Generated {
                    generation_expr: Some(_),
                    ..
                }
                | ColumnOption::Materialized(_)
                | ColumnOption::Alias(_) => field.generated = Generated::Always,
                ColumnOption::Generated { .. } | ColumnOption::Identity(_) => auto = true,
                ColumnOption::DialectSpecific(tokens)
                    if tokens.iter().any(|t| {
                        let t = t.to_string();
                        t.eq_ignore_ascii_case("AUTO_INCREMENT")
                            || t.eq_ignore_ascii_case("AUTOINCREMENT")
                    }) =>
                {
                    auto = true;
                }
                _ => {}
            }
        }
        if auto && field.generated == Generated::None {
            field.generated = Generated::AutoIncrement;
            field.default = None;
            if resolved.serial {
                field.nullable = false;
            }
        }
        if col.options.iter().any(|o| {
            matches!(
                o.option,
                ColumnOption::Generated {
                    generation_expr: None,
                    ..
                }
            )
        }) {
            // Identity columns are NOT NULL.
            field.nullable = false;
        }
        field.description = comment.or(resolved.domain);
        (field, declared)
    }

    /// Resolve written column names against a table's fields (case-insensitive
    /// fallback); `None` when one is unknown.
    fn field_names(&self, t: usize, cols: &[String]) -> Option<Vec<String>> {
        let e = &self.tables.get(t)?.entity;
        cols.iter()
            .map(|c| {
                e.fields
                    .iter()
                    .find(|f| &f.name == c)
                    .or_else(|| e.fields.iter().find(|f| f.name.eq_ignore_ascii_case(c)))
                    .map(|f| f.name.clone())
            })
            .collect()
    }

    /// A non-unique index on plain columns, named after its first column
    /// when the constraint has no name.
    fn add_plain_index(
        &mut self,
        t: usize,
        name: Option<&sqlparser::ast::Ident>,
        columns: Option<Vec<String>>,
    ) {
        let Some(cols) = columns.and_then(|c| self.field_names(t, &c)) else {
            return;
        };
        let name = name
            .map(|i| i.value.clone())
            .or_else(|| cols.first().cloned())
            .unwrap_or_default();
        self.add_index(
            t,
            Index {
                name,
                fields: cols,
                unique: false,
            },
        );
    }

    fn add_index(&mut self, t: usize, index: Index) {
        if let Some(table) = self.tables.get_mut(t) {
            let indexes = &mut table.entity.indexes;
            match indexes.iter_mut().find(|i| i.name == index.name) {
                Some(slot) => *slot = index,
                None => indexes.push(index),
            }
        }
    }

    fn add_constraint(&mut self, t: usize, c: &TableConstraint, pos: Pos, inline: bool) {
        let Some(table_name) = self.tables.get(t).map(|x| x.table.clone()) else {
            return;
        };
        let cols_of = |cols: &[IndexColumn]| -> Option<Vec<String>> {
            cols.iter().map(|c| index_column(c, self.flavor)).collect()
        };
        match c {
            TableConstraint::PrimaryKey(pk) => {
                let Some(cols) = cols_of(&pk.columns).and_then(|c| self.field_names(t, &c)) else {
                    self.skips.one(
                        pos,
                        format!("PRIMARY KEY of {table_name}"),
                        "names a column the table does not have",
                    );
                    return;
                };
                if let Some(table) = self.tables.get_mut(t) {
                    for f in &mut table.entity.fields {
                        if cols.contains(&f.name) {
                            f.nullable = false;
                        }
                    }
                    table.entity.primary_key = cols;
                }
            }
            TableConstraint::Unique(u) => {
                let Some(cols) = cols_of(&u.columns).and_then(|c| self.field_names(t, &c)) else {
                    self.skips.one(
                        pos,
                        format!("UNIQUE constraint of {table_name}"),
                        "not on plain columns of the table",
                    );
                    return;
                };
                let name = u
                    .name
                    .as_ref()
                    .or(u.index_name.as_ref())
                    .map(|i| i.value.clone());
                if let ([only], Some(table)) = (cols.as_slice(), self.tables.get_mut(t))
                    && let Some(f) = table.entity.fields.iter_mut().find(|f| &f.name == only)
                {
                    f.unique = true;
                }
                if cols.len() > 1 || (name.is_some() && !inline) {
                    let name =
                        name.unwrap_or_else(|| format!("{table_name}_{}_key", cols.join("_")));
                    self.add_index(
                        t,
                        Index {
                            name,
                            fields: cols,
                            unique: true,
                        },
                    );
                }
            }
            TableConstraint::ForeignKey(fk) => {
                self.fks.push(RawFk {
                    from: t,
                    columns: fk.columns.iter().map(|i| i.value.clone()).collect(),
                    target: ident_parts(&fk.foreign_table),
                    target_columns: fk
                        .referred_columns
                        .iter()
                        .map(|i| i.value.clone())
                        .collect(),
                    name: fk.name.as_ref().map(|i| i.value.clone()),
                    pos,
                });
            }
            TableConstraint::Index(ix) => {
                self.add_plain_index(t, ix.name.as_ref(), cols_of(&ix.columns));
            }
            TableConstraint::FulltextOrSpatial(ix) => {
                self.add_plain_index(t, ix.opt_index_name.as_ref(), cols_of(&ix.columns));
            }
            _ => {}
        }
    }

    fn table_comment(ct: &CreateTable) -> Option<String> {
        let from_options = |opts: &[SqlOption]| {
            opts.iter().find_map(|o| match o {
                SqlOption::Comment(CommentDef::WithEq(s) | CommentDef::WithoutEq(s)) => {
                    Some(s.clone())
                }
                _ => None,
            })
        };
        let options = match &ct.table_options {
            CreateTableOptions::With(o)
            | CreateTableOptions::Options(o)
            | CreateTableOptions::Plain(o)
            | CreateTableOptions::TableProperties(o) => from_options(o),
            CreateTableOptions::None => None,
        };
        options.or_else(|| match &ct.comment {
            Some(CommentDef::WithEq(s) | CommentDef::WithoutEq(s)) => Some(s.clone()),
            None => None,
        })
    }

    fn create_table(&mut self, ct: &CreateTable, p: &Parsed) -> Result<(), ImportError> {
        let parts = ident_parts(&ct.name);
        let written = parts.join(".");
        let short = parts.last().cloned().unwrap_or_default();
        if let Some(parent) = self.partitions.get(&self.partition_key(&parts)) {
            let reason = format!("partition of {parent}; served through the parent");
            self.skips
                .one(p.pos, format!("CREATE TABLE {written}"), reason);
            return Ok(());
        }
        if self.flavor == SqlFlavor::Sqlite && short.to_ascii_lowercase().starts_with("sqlite_") {
            self.skips.one(
                p.pos,
                format!("CREATE TABLE {written}"),
                "SQLite internal table",
            );
            return Ok(());
        }
        let lower = short.to_ascii_lowercase();
        if let Some(vt) = self.virtual_tables.iter().find(|vt| {
            lower.strip_prefix(vt.as_str()).is_some_and(|rest| {
                matches!(
                    rest,
                    "_data"
                        | "_idx"
                        | "_content"
                        | "_docsize"
                        | "_config"
                        | "_segments"
                        | "_segdir"
                        | "_stat"
                        | "_node"
                        | "_parent"
                        | "_rowid"
                )
            })
        }) {
            let reason = format!("shadow table of virtual table {vt}");
            self.skips
                .one(p.pos, format!("CREATE TABLE {written}"), reason);
            return Ok(());
        }

        let mut fields: Vec<Field> = Vec::new();
        let mut declared: HashMap<String, String> = HashMap::new();
        // Inherited and copied columns come first.
        let mut sources: Vec<Vec<String>> = ct.inherits.iter().flatten().map(ident_parts).collect();
        if let Some(CreateTableLikeKind::Parenthesized(like) | CreateTableLikeKind::Plain(like)) =
            &ct.like
        {
            sources.insert(0, ident_parts(&like.name));
        }
        for source in &sources {
            let Some(t) = self.find(source).and_then(|i| self.tables.get(i)) else {
                return Err(self.error(
                    p.start,
                    format!(
                        "table {written} copies columns from {}, which is not defined before it",
                        source.join(".")
                    ),
                ));
            };
            for f in &t.entity.fields {
                if !fields.iter().any(|o| o.name == f.name) {
                    fields.push(f.clone());
                    if let Some(d) = t.declared.get(&f.name) {
                        declared.insert(f.name.clone(), d.clone());
                    }
                }
            }
        }

        let mut inline_pk = Vec::new();
        let mut inline_fks = Vec::new();
        for col in &ct.columns {
            let (field, decl) = self.column_field(col, &mut inline_pk, &mut inline_fks);
            declared.insert(field.name.clone(), decl);
            match fields.iter_mut().find(|f| f.name == field.name) {
                Some(slot) => *slot = field,
                None => fields.push(field),
            }
        }
        let mut inferred_as_text = Vec::new();
        if let Some(q) = &ct.query
            && ct.columns.is_empty()
        {
            (fields, inferred_as_text) = self.view_fields(q, &[]);
        }
        let mut entity = Entity::new(short.clone(), fields);
        entity.description = Self::table_comment(ct);
        let table = Table {
            entity,
            schema: None,
            table: String::new(),
            written: String::new(),
            pos: p.pos,
            declared,
            without_rowid: ct
                .sqlite_table_options
                .options
                .iter()
                .any(|o| matches!(o, SqliteTableOption::WithoutRowid)),
            inferred_as_text,
        };
        let t = self.register(&parts, p.pos, table);
        if !inline_pk.is_empty()
            && let Some(table) = self.tables.get_mut(t)
        {
            table.entity.primary_key = inline_pk;
        }
        for (col, target, target_columns, name) in inline_fks {
            self.fks.push(RawFk {
                from: t,
                columns: vec![col],
                target: ident_parts(&target),
                target_columns,
                name,
                pos: p.pos,
            });
        }
        for c in &ct.constraints {
            self.add_constraint(t, c, p.pos, false);
        }
        Ok(())
    }

    fn create_view(&mut self, cv: &CreateView, p: &Parsed) {
        let parts = ident_parts(&cv.name);
        let short = parts.last().cloned().unwrap_or_default();
        let names: Vec<String> = cv.columns.iter().map(|c| c.name.value.clone()).collect();
        let (fields, inferred_as_text) = self.view_fields(&cv.query, &names);
        let mut entity = Entity::new(short, fields);
        entity.read_only = true;
        entity.description = cv.comment.clone();
        let table = Table {
            entity,
            schema: None,
            table: String::new(),
            written: String::new(),
            pos: p.pos,
            declared: HashMap::new(),
            without_rowid: false,
            inferred_as_text,
        };
        self.register(&parts, p.pos, table);
    }

    fn create_index(&mut self, ci: &CreateIndex, p: &Parsed) {
        let parts = ident_parts(&ci.table_name);
        let index_name = ci.name.as_ref().map(last_part);
        let what = format!(
            "CREATE {}INDEX {}",
            if ci.unique { "UNIQUE " } else { "" },
            index_name.clone().unwrap_or_default()
        );
        let Some(t) = self.find(&parts) else {
            if !self.is_partition(&parts) {
                let reason = format!(
                    "index on {}, which the dump does not define",
                    parts.join(".")
                );
                self.skips.one(p.pos, what.trim_end(), reason);
            }
            return;
        };
        let cols: Option<Vec<String>> = ci
            .columns
            .iter()
            .map(|c| index_column(c, self.flavor))
            .collect();
        let Some(cols) = cols else {
            self.skips.one(p.pos, what.trim_end(), R_EXPR_INDEX);
            return;
        };
        let Some(cols) = self.field_names(t, &cols) else {
            self.skips.one(
                p.pos,
                what.trim_end(),
                "names a column the table does not have",
            );
            return;
        };
        let table = self
            .tables
            .get(t)
            .map(|x| x.table.clone())
            .unwrap_or_default();
        let name = index_name.unwrap_or_else(|| format!("{table}_{}_idx", cols.join("_")));
        self.add_index(
            t,
            Index {
                name,
                fields: cols,
                unique: ci.unique && ci.predicate.is_none(),
            },
        );
    }

    fn alter_table(&mut self, at: &AlterTable, p: &Parsed) {
        let parts = ident_parts(&at.name);
        let Some(t) = self.find(&parts) else {
            if !self.is_partition(&parts) {
                let written = parts.join(".");
                self.skips.one(
                    p.pos,
                    format!("ALTER TABLE {written}"),
                    format!("table {written} is not defined in the dump"),
                );
            }
            return;
        };
        let mut unhandled = Vec::new();
        for op in &at.operations {
            match op {
                AlterTableOperation::AddConstraint { constraint, .. } => {
                    self.add_constraint(t, constraint, p.pos, false);
                }
                AlterTableOperation::AddColumn { column_def, .. } => {
                    let mut pk = Vec::new();
                    let mut fks = Vec::new();
                    let (field, decl) = self.column_field(column_def, &mut pk, &mut fks);
                    if let Some(table) = self.tables.get_mut(t) {
                        table.declared.insert(field.name.clone(), decl);
                        if !table.entity.fields.iter().any(|f| f.name == field.name) {
                            table.entity.fields.push(field);
                        }
                        if !pk.is_empty() {
                            table.entity.primary_key = pk;
                        }
                    }
                    for (col, target, target_columns, name) in fks {
                        self.fks.push(RawFk {
                            from: t,
                            columns: vec![col],
                            target: ident_parts(&target),
                            target_columns,
                            name,
                            pos: p.pos,
                        });
                    }
                }
                AlterTableOperation::AlterColumn { column_name, op } => {
                    let Some(name) = self
                        .field_names(t, std::slice::from_ref(&column_name.value))
                        .and_then(|v| v.into_iter().next())
                    else {
                        unhandled.push(op.to_string());
                        continue;
                    };
                    let resolved = match op {
                        AlterColumnOperation::SetDataType { data_type, .. } => {
                            Some((self.resolve_type(data_type, 0), data_type.to_string()))
                        }
                        _ => None,
                    };
                    let Some(table) = self.tables.get_mut(t) else {
                        continue;
                    };
                    let Some(f) = table.entity.fields.iter_mut().find(|f| f.name == name) else {
                        continue;
                    };
                    match op {
                        AlterColumnOperation::SetDefault { value } if is_nextval(value) => {
                            f.generated = Generated::AutoIncrement;
                            f.default = None;
                        }
                        AlterColumnOperation::SetDefault { value } => {
                            f.default = Some(value.to_string());
                        }
                        AlterColumnOperation::DropDefault => f.default = None,
                        AlterColumnOperation::SetNotNull => f.nullable = false,
                        AlterColumnOperation::DropNotNull => f.nullable = true,
                        AlterColumnOperation::AddGenerated { .. } => {
                            f.generated = Generated::AutoIncrement;
                            f.default = None;
                            f.nullable = false;
                        }
                        AlterColumnOperation::SetDataType { .. } => {
                            if let Some((r, decl)) = resolved {
                                f.ty = r.ty;
                                f.max_length = r.max_length;
                                table.declared.insert(name.clone(), decl);
                            }
                        }
                        other => unhandled.push(other.to_string()),
                    }
                }
                AlterTableOperation::AttachPartitionOf { .. }
                | AlterTableOperation::OwnerTo { .. } => {}
                other => unhandled.push(other.to_string()),
            }
        }
        if !unhandled.is_empty() {
            let written = parts.join(".");
            self.skips.one(
                p.pos,
                format!("ALTER TABLE {written} {}", clip(&unhandled.join(", "), 60)),
                "ALTER TABLE operation not modelled",
            );
        }
    }

    /// Note partitions (`PARTITION OF`, `ATTACH PARTITION`) before building,
    /// so that they and everything about them can be left out.
    fn find_partitions(&mut self, parsed: &[Parsed]) {
        for stmt in parsed.iter().flat_map(|p| &p.statements) {
            match stmt {
                Statement::CreateTable(ct) => {
                    if let Some(parent) = &ct.partition_of {
                        let key = self.partition_key(&ident_parts(&ct.name));
                        self.partitions.insert(key, ident_parts(parent).join("."));
                    }
                }
                Statement::AlterTable(at) => {
                    for op in &at.operations {
                        if let AlterTableOperation::AttachPartitionOf { partition, .. } = op {
                            let key = self.partition_key(&ident_parts(partition));
                            self.partitions.insert(key, ident_parts(&at.name).join("."));
                        }
                    }
                }
                _ => {}
            }
        }
    }

    fn apply(&mut self, stmt: &Statement, p: &Parsed) -> Result<(), ImportError> {
        match stmt {
            Statement::CreateTable(ct) => return self.create_table(ct, p),
            Statement::CreateView(cv) => self.create_view(cv, p),
            Statement::CreateIndex(ci) => self.create_index(ci, p),
            Statement::AlterTable(at) => self.alter_table(at, p),
            Statement::CreateType {
                name,
                representation,
            } => match representation {
                Some(UserDefinedTypeRepresentation::Enum { labels }) => {
                    self.enums.insert(
                        last_part(name),
                        labels.iter().map(|l| l.value.clone()).collect(),
                    );
                }
                _ => self.skips.one(
                    p.pos,
                    format!("CREATE TYPE {}", ident_parts(name).join(".")),
                    "only enum types are modelled; columns of this type are text",
                ),
            },
            Statement::CreateDomain(cd) => {
                self.domains.insert(
                    last_part(&cd.name),
                    DomainDef {
                        data_type: cd.data_type.clone(),
                        default: cd.default.as_ref().map(ToString::to_string),
                    },
                );
            }
            Statement::Comment {
                object_type,
                object_name,
                comment,
                ..
            } => self.comments.push(PendingComment {
                object: *object_type,
                name: ident_parts(object_name),
                text: comment.clone(),
                pos: p.pos,
            }),
            other => {
                let text = other.to_string();
                let what = text
                    .split_whitespace()
                    .take(3)
                    .collect::<Vec<_>>()
                    .join(" ");
                self.skips.one(p.pos, what, R_NOT_MODELLED);
            }
        }
        Ok(())
    }

    // -- views --------------------------------------------------------------

    fn add_factor(&self, f: &TableFactor, nullable: bool, out: &mut Vec<ScopeTable>, depth: usize) {
        match f {
            TableFactor::Table { name, alias, .. } => {
                let parts = ident_parts(name);
                let names = match alias {
                    Some(a) => vec![a.name.value.clone()],
                    None => vec![parts.last().cloned().unwrap_or_default(), parts.join(".")],
                };
                out.push(ScopeTable {
                    names,
                    table: self.find(&parts),
                    nullable,
                });
            }
            TableFactor::NestedJoin {
                table_with_joins, ..
            } if depth < 32 => self.add_joins(table_with_joins, nullable, out, depth + 1),
            TableFactor::Derived { alias, .. } => out.push(ScopeTable {
                names: alias.iter().map(|a| a.name.value.clone()).collect(),
                table: None,
                nullable,
            }),
            _ => {}
        }
    }

    fn add_joins(
        &self,
        twj: &TableWithJoins,
        nullable: bool,
        out: &mut Vec<ScopeTable>,
        depth: usize,
    ) {
        let first = out.len();
        self.add_factor(&twj.relation, nullable, out, depth);
        for j in &twj.joins {
            let before = out.len();
            let (left_null, right_null) = match &j.join_operator {
                JoinOperator::Left(_) | JoinOperator::LeftOuter(_) => (false, true),
                JoinOperator::Right(_) | JoinOperator::RightOuter(_) => (true, false),
                JoinOperator::FullOuter(_) => (true, true),
                _ => (false, false),
            };
            self.add_factor(&j.relation, nullable || right_null, out, depth);
            if left_null {
                for t in out.iter_mut().take(before).skip(first) {
                    t.nullable = true;
                }
            }
        }
    }

    /// The field a column reference in a view resolves to.
    fn lookup_column(
        &self,
        scope: &[ScopeTable],
        qualifier: Option<&str>,
        col: &str,
    ) -> Option<Field> {
        for st in scope {
            if let Some(q) = qualifier
                && !st.names.iter().any(|n| n == q || n.eq_ignore_ascii_case(q))
            {
                continue;
            }
            let Some(e) = st.table.and_then(|t| self.tables.get(t)).map(|t| &t.entity) else {
                continue;
            };
            let found = e
                .fields
                .iter()
                .find(|f| f.name == col)
                .or_else(|| e.fields.iter().find(|f| f.name.eq_ignore_ascii_case(col)));
            if let Some(f) = found {
                let mut f = f.clone();
                f.nullable |= st.nullable;
                return Some(f);
            }
        }
        None
    }

    fn expr_field(&self, e: &Expr, scope: &[ScopeTable]) -> Option<Field> {
        match e {
            Expr::Nested(inner) => self.expr_field(inner, scope),
            Expr::Identifier(i) => self.lookup_column(scope, None, &i.value),
            Expr::CompoundIdentifier(parts) => {
                let col = parts.last()?;
                let qualifier = parts.len().checked_sub(2).and_then(|i| parts.get(i));
                self.lookup_column(scope, qualifier.map(|q| q.value.as_str()), &col.value)
            }
            Expr::Cast { data_type, .. } => {
                let r = self.resolve_type(data_type, 0);
                let mut f = Field::new(String::new(), r.ty).nullable();
                f.max_length = r.max_length;
                Some(f)
            }
            _ => None,
        }
    }

    /// Output name of an unaliased projection expression.
    fn derived_name(&self, e: &Expr) -> String {
        match e {
            Expr::Identifier(i) => i.value.clone(),
            Expr::CompoundIdentifier(parts) => {
                parts.last().map(|i| i.value.clone()).unwrap_or_default()
            }
            Expr::Nested(inner) if self.flavor == SqlFlavor::Postgres => self.derived_name(inner),
            Expr::Cast { expr, .. } if self.flavor == SqlFlavor::Postgres => {
                self.derived_name(expr)
            }
            Expr::Function(f) if self.flavor == SqlFlavor::Postgres => last_part(&f.name),
            _ if self.flavor == SqlFlavor::Postgres => "?column?".to_string(),
            other => other.to_string(),
        }
    }

    fn select_columns(&self, s: &Select) -> Vec<ViewColumn> {
        let mut scope = Vec::new();
        for twj in &s.from {
            self.add_joins(twj, false, &mut scope, 0);
        }
        let mut out = Vec::new();
        let all_of = |st: &ScopeTable, out: &mut Vec<ViewColumn>| {
            if let Some(e) = st.table.and_then(|t| self.tables.get(t)).map(|t| &t.entity) {
                for f in &e.fields {
                    let mut f = f.clone();
                    f.nullable |= st.nullable;
                    out.push(ViewColumn {
                        name: f.name.clone(),
                        field: Some(f),
                    });
                }
            }
        };
        for item in &s.projection {
            match item {
                SelectItem::UnnamedExpr(e) => out.push(ViewColumn {
                    name: self.derived_name(e),
                    field: self.expr_field(e, &scope),
                }),
                SelectItem::ExprWithAlias { expr, alias } => out.push(ViewColumn {
                    name: alias.value.clone(),
                    field: self.expr_field(expr, &scope),
                }),
                SelectItem::ExprWithAliases { expr, aliases } => out.push(ViewColumn {
                    name: aliases
                        .first()
                        .map_or_else(|| self.derived_name(expr), |a| a.value.clone()),
                    field: self.expr_field(expr, &scope),
                }),
                SelectItem::Wildcard(_) => {
                    for st in &scope {
                        all_of(st, &mut out);
                    }
                }
                SelectItem::QualifiedWildcard(
                    SelectItemQualifiedWildcardKind::ObjectName(n),
                    _,
                ) => {
                    let q = last_part(n);
                    if let Some(st) = scope
                        .iter()
                        .find(|st| st.names.iter().any(|x| x.eq_ignore_ascii_case(&q)))
                    {
                        all_of(st, &mut out);
                    }
                }
                SelectItem::QualifiedWildcard(..) => {}
            }
        }
        out
    }

    fn set_expr_columns(&self, body: &SetExpr, depth: usize) -> Vec<ViewColumn> {
        match body {
            SetExpr::Select(s) => self.select_columns(s),
            SetExpr::Query(q) if depth < 32 => self.set_expr_columns(&q.body, depth + 1),
            SetExpr::SetOperation { left, .. } if depth < 32 => {
                self.set_expr_columns(left, depth + 1)
            }
            _ => Vec::new(),
        }
    }

    /// The fields of a view from its projection (renamed by `names` when the
    /// view lists its columns), and the names of those typed as text for
    /// want of a better guess.
    fn view_fields(&self, query: &Query, names: &[String]) -> (Vec<Field>, Vec<String>) {
        let mut columns = self.set_expr_columns(&query.body, 0);
        for (c, name) in columns.iter_mut().zip(names) {
            c.name.clone_from(name);
        }
        let mut fields: Vec<Field> = Vec::new();
        let mut fell_back = Vec::new();
        for c in columns {
            let mut name = c.name;
            if fields.iter().any(|f| f.name == name) {
                let base = name.clone();
                name = (2..)
                    .map(|i| format!("{base}_{i}"))
                    .find(|n| !fields.iter().any(|f| &f.name == n))
                    .unwrap_or(base);
            }
            let field = match c.field {
                Some(src) => Field {
                    name: name.clone(),
                    column: None,
                    ty: src.ty,
                    // Catalogs report every view column as nullable (a view
                    // cannot enforce NOT NULL); so does the importer.
                    nullable: true,
                    default: None,
                    generated: Generated::None,
                    unique: false,
                    max_length: src.max_length,
                    description: None,
                },
                None => {
                    fell_back.push(name.clone());
                    Field::new(name, FieldType::Text).nullable()
                }
            };
            fields.push(field);
        }
        (fields, fell_back)
    }

    // -- finishing ----------------------------------------------------------

    fn apply_comments(&mut self) {
        for c in std::mem::take(&mut self.comments) {
            let written = c.name.join(".");
            match c.object {
                CommentObject::Table
                | CommentObject::View
                | CommentObject::MaterializedView
                | CommentObject::ForeignTable => {
                    let partition = self.is_partition(&c.name);
                    let found = self.find(&c.name);
                    match found.and_then(|t| self.tables.get_mut(t)) {
                        Some(t) => t.entity.description = c.text,
                        None if partition => {}
                        None => self.skips.one(
                            c.pos,
                            format!("COMMENT ON {} {written}", c.object),
                            "comment on an object the dump does not define",
                        ),
                    }
                }
                CommentObject::Column => {
                    let (table, column) = c.name.split_at(c.name.len().saturating_sub(1));
                    let column = column.first().cloned().unwrap_or_default();
                    let field = self.find(table).and_then(|t| {
                        let name = self.field_names(t, std::slice::from_ref(&column))?;
                        Some((t, name.into_iter().next()?))
                    });
                    match field {
                        Some((t, name)) => {
                            if let Some(f) = self
                                .tables
                                .get_mut(t)
                                .and_then(|t| t.entity.fields.iter_mut().find(|f| f.name == name))
                            {
                                f.description = c.text;
                            }
                        }
                        None if self.is_partition(table) => {}
                        None => self.skips.one(
                            c.pos,
                            format!("COMMENT ON COLUMN {written}"),
                            "comment on a column the dump does not define",
                        ),
                    }
                }
                other => self.skips.one(
                    c.pos,
                    format!("COMMENT ON {other} {written}"),
                    "comment on an object that is not modelled",
                ),
            }
        }
    }

    fn resolve_fks(&mut self) -> Vec<ForeignKey> {
        let mut out = Vec::new();
        for fk in std::mem::take(&mut self.fks) {
            let Some(from) = self.tables.get(fk.from) else {
                continue;
            };
            let from_name = from.entity.name.clone();
            let what = format!(
                "FOREIGN KEY {}({}) REFERENCES {}",
                from.table,
                fk.columns.join(", "),
                fk.target.join(".")
            );
            let Some(to) = self.find(&fk.target) else {
                let reason = format!(
                    "references {}, which the dump does not define",
                    fk.target.join(".")
                );
                self.skips.one(fk.pos, what, reason);
                continue;
            };
            let target_columns = if fk.target_columns.is_empty() {
                self.tables
                    .get(to)
                    .map(|t| t.entity.primary_key.clone())
                    .unwrap_or_default()
            } else {
                fk.target_columns.clone()
            };
            let (Some(from_fields), Some(to_fields)) = (
                self.field_names(fk.from, &fk.columns),
                self.field_names(to, &target_columns),
            ) else {
                self.skips
                    .one(fk.pos, what, "names columns the tables do not have");
                continue;
            };
            if from_fields.is_empty() || from_fields.len() != to_fields.len() {
                self.skips
                    .one(fk.pos, what, "its columns do not match the referenced key");
                continue;
            }
            let to_name = self
                .tables
                .get(to)
                .map(|t| t.entity.name.clone())
                .unwrap_or_default();
            out.push(ForeignKey {
                from_entity: from_name,
                from_fields,
                to_entity: to_name,
                to_fields,
                name: fk.name,
            });
        }
        out
    }

    fn finish(mut self) -> Result<Import, ImportError> {
        // SQLite: an INTEGER PRIMARY KEY aliases the rowid.
        if self.flavor == SqlFlavor::Sqlite {
            for t in &mut self.tables {
                if t.without_rowid || t.entity.read_only {
                    continue;
                }
                if let [only] = t.entity.primary_key.as_slice()
                    && t.declared
                        .get(only)
                        .is_some_and(|d| d.eq_ignore_ascii_case("INTEGER"))
                    && let Some(f) = t.entity.fields.iter_mut().find(|f| &f.name == only)
                    && f.generated == Generated::None
                {
                    f.generated = Generated::AutoIncrement;
                    f.default = None;
                }
            }
        }
        // Views (and CREATE TABLE … AS SELECT) with columns typed as text.
        for t in &self.tables {
            if !t.inferred_as_text.is_empty() {
                let kind = if t.entity.read_only { "VIEW" } else { "TABLE" };
                let reason = format!(
                    "view column types inferred from the projection; typed as text: {}",
                    t.inferred_as_text.join(", ")
                );
                self.skips
                    .one(t.pos, format!("CREATE {kind} {}", t.written), reason);
            }
        }
        self.apply_comments();
        // A unique index on one column makes that column unique.
        for t in &mut self.tables {
            let singles: HashSet<String> = t
                .entity
                .indexes
                .iter()
                .filter(|i| i.unique)
                .filter_map(|i| match i.fields.as_slice() {
                    [only] => Some(only.clone()),
                    _ => None,
                })
                .collect();
            for f in &mut t.entity.fields {
                if singles.contains(&f.name) {
                    f.unique = true;
                }
            }
        }
        let fks = self.resolve_fks();
        let positions: Vec<Pos> = self.tables.iter().map(|t| t.pos).collect();
        let mut schema = SchemaMetadata::new(self.tables.into_iter().map(|t| t.entity).collect());
        infer_relations(&mut schema, &fks);
        if let Err(e) = schema.check() {
            let (location, message) = match &e {
                baas_core::Error::Validation { violations } => {
                    let first = violations.first();
                    let entity = first
                        .and_then(|v| v.pointer.strip_prefix("/entities/"))
                        .and_then(|p| p.split('/').next())
                        .and_then(|i| i.parse::<usize>().ok())
                        .and_then(|i| positions.get(i));
                    let message = violations
                        .iter()
                        .map(|v| format!("{}: {}", v.pointer, v.message))
                        .collect::<Vec<_>>()
                        .join("; ");
                    (
                        entity.map_or(Location::Document, |&(line, column)| Location::LineCol {
                            line,
                            column,
                        }),
                        message,
                    )
                }
                other => (Location::Document, other.to_string()),
            };
            return Err(ImportError {
                location,
                message: format!("the imported schema is inconsistent: {message}"),
            });
        }
        let mut import = Import::new(schema);
        import.skipped = self.skips.finish();
        Ok(import)
    }
}

/// A table visible in a view's `FROM`.
struct ScopeTable {
    /// Names it can be qualified by (alias, or table name).
    names: Vec<String>,
    /// The table, when the dump defines it.
    table: Option<usize>,
    /// On the nullable side of an outer join.
    nullable: bool,
}

/// One output column of a view.
struct ViewColumn {
    name: String,
    /// The field it reads, when resolved; `None` falls back to text.
    field: Option<Field>,
}
