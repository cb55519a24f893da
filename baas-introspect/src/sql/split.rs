//! Cutting a dump into statements: positions (line and column of a byte
//! offset), and the splitter that knows quotes, dollar quoting, comments,
//! psql meta-commands, `COPY … FROM stdin` data, MySQL `DELIMITER` and
//! executable comments, and SQLite trigger bodies.

use crate::{ImportError, SqlFlavor};

use super::Pos;

/// Byte offsets of line starts, to turn offsets into lines and columns.
pub(super) struct LineIndex {
    starts: Vec<usize>,
}

impl LineIndex {
    pub(super) fn new(src: &str) -> Self {
        let mut starts = vec![0];
        starts.extend(src.match_indices('\n').map(|(i, _)| i + 1));
        Self { starts }
    }

    /// Line and column (in characters) of a byte offset.
    pub(super) fn locate(&self, src: &str, offset: usize) -> Pos {
        let offset = offset.min(src.len());
        let idx = self.starts.partition_point(|&s| s <= offset).max(1);
        let line_start = self.starts.get(idx - 1).copied().unwrap_or(0);
        let column = src
            .get(line_start..offset)
            .map_or(offset - line_start, |s| s.chars().count());
        (idx, column + 1)
    }
}

/// How many leading words of a statement are kept for classification.
const MAX_WORDS: usize = 16;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum ChunkKind {
    /// An SQL statement.
    Sql,
    /// A psql meta-command (`\connect`) or a MySQL `DELIMITER` line.
    Meta,
}

/// One statement of the dump.
#[derive(Debug)]
pub(super) struct Chunk {
    /// Byte offset of its first character.
    pub(super) start: usize,
    /// Byte offset just past its last character (before the delimiter).
    pub(super) end: usize,
    /// `src[start..end]`, with MySQL executable-comment markers blanked out
    /// (same length, so offsets into it are offsets into the source).
    pub(super) text: String,
    /// The first words (outside quotes and comments), upper-cased, with their
    /// byte offsets in `text`.
    pub(super) words: Vec<(String, usize)>,
    /// Whether a delimiter ended it (rather than the end of the input).
    pub(super) terminated: bool,
    /// Parenthesised groups after a top-level `VALUES` (rows of an INSERT).
    pub(super) tuples: usize,
    /// Data rows of a `COPY … FROM stdin`.
    pub(super) copy_rows: Option<usize>,
    pub(super) kind: ChunkKind,
}

impl Chunk {
    pub(super) fn word(&self, i: usize) -> &str {
        self.words.get(i).map_or("", |(w, _)| w.as_str())
    }

    pub(super) fn word_index(&self, word: &str) -> Option<usize> {
        self.words.iter().position(|(w, _)| w == word)
    }
}

fn is_word_start(c: u8) -> bool {
    c.is_ascii_alphabetic() || c == b'_' || c >= 0x80
}

fn is_word_byte(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_' || c == b'$' || c >= 0x80
}

pub(super) struct Splitter<'a> {
    src: &'a str,
    b: &'a [u8],
    flavor: SqlFlavor,
    delim: String,
    lines: &'a LineIndex,
}

impl<'a> Splitter<'a> {
    pub(super) fn new(src: &'a str, flavor: SqlFlavor, lines: &'a LineIndex) -> Self {
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

    pub(super) fn split(mut self) -> Result<Vec<Chunk>, ImportError> {
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
pub(super) fn read_name(s: &str) -> String {
    read_name_len(s).0
}

/// [`read_name`], with the number of bytes of `s` it spans.
pub(super) fn read_name_len(s: &str) -> (String, usize) {
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
