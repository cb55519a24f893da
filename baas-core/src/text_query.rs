//! Full-text queries as a tree ([`TextQuery`]), read from each of
//! [`TextSyntax`]'s forms as PostgreSQL reads them, for the engines
//! without PostgreSQL's text search: MySQL/MariaDB compile it to `MATCH …
//! AGAINST` in boolean mode, SQLite and MongoDB (and MySQL at a JSON path)
//! to word-bounded regular expressions.
//!
//! A query's words are what PostgreSQL's `simple` configuration makes of
//! them: runs of letters, combining marks and digits, as written (a
//! search ignores case; no stemming, no stop words). PostgreSQL's own
//! parser also keeps an e-mail address, a host name, a URL or a number
//! like `3.14` as one token; here each is its words. A lexeme holding
//! several such runs (`foo-bar`) is a phrase of them, as PostgreSQL's
//! parser reads a hyphenated word; one holding none (`-`, `,`) is left
//! out, as PostgreSQL leaves out a stop word.
//!
//! ```
//! use baas_core::ir::TextSyntax;
//! use baas_core::text_query::TextQuery;
//!
//! let q = TextSyntax::Web.parse(r#""quick fox" or dog -cat"#, "mysql").unwrap();
//! assert_eq!(
//!     q,
//!     TextQuery::Or(vec![
//!         TextQuery::phrase(["quick", "fox"]),
//!         TextQuery::And(vec![
//!             TextQuery::word("dog"),
//!             TextQuery::Not(Box::new(TextQuery::word("cat"))),
//!         ]),
//!     ])
//! );
//! ```

use crate::error::{Error, Violation};
use crate::ir::TextSyntax;

/// At most this many bytes in a full-text query (validation refuses a
/// longer one, as a `match` pattern's length is bounded).
pub const MAX_TEXT_QUERY_BYTES: usize = 4096;

/// At most this many words and phrases in one query: each is a search of
/// its own on the engines that compose them.
pub const MAX_TEXT_QUERY_TERMS: usize = 32;

/// At most this many places held between the words of one phrase
/// (`a <7> b`, `a <3> b <4> c`) where the engine searches by regular
/// expressions: each is a part of the pattern (on SQLite, some 100 KB of
/// its 1 MiB). PostgreSQL takes distances up to 16 384.
pub const MAX_PHRASE_PLACES: usize = 6;

/// Whether a search in `language` (`fts(simple)`) reads words as
/// [`TextQuery`] does: none named, or PostgreSQL's `simple` configuration
/// (no stemming, no stop words). Another (`english`) stems, which only
/// PostgreSQL does.
pub fn words_as_written(language: Option<&str>) -> bool {
    matches!(language, None | Some("simple" | "pg_catalog.simple"))
}

/// A full-text query: which texts it matches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TextQuery {
    /// A word, or words one right after the other (a phrase: PostgreSQL's
    /// `<->`), as written; with `prefix`, the (only) word begins a word of
    /// the text (`super:*`).
    Term {
        /// One word or more, each letters, marks and digits only; an empty
        /// one between two words holds a place, any one word of the text
        /// (`a <3> b` is `a`, two places, `b`).
        words: Vec<String>,
        /// The word is a prefix (a single word only).
        prefix: bool,
    },
    /// Every part matches.
    And(Vec<TextQuery>),
    /// One part matches (none: nothing matches, as a query of stop words
    /// only in PostgreSQL).
    Or(Vec<TextQuery>),
    /// The part does not match.
    Not(Box<TextQuery>),
}

impl TextQuery {
    /// A single word.
    pub fn word(w: &str) -> Self {
        Self::Term {
            words: vec![w.to_string()],
            prefix: false,
        }
    }

    /// Words one after the other.
    pub fn phrase<'a>(words: impl IntoIterator<Item = &'a str>) -> Self {
        Self::Term {
            words: words.into_iter().map(str::to_string).collect(),
            prefix: false,
        }
    }

    /// The number of terms (words and phrases, and parts that match
    /// nothing) in the query.
    pub fn terms(&self) -> usize {
        match self {
            Self::Term { .. } => 1,
            Self::Or(parts) if parts.is_empty() => 1,
            Self::And(parts) | Self::Or(parts) => parts.iter().map(Self::terms).sum(),
            Self::Not(inner) => inner.terms(),
        }
    }
}

/// The letters, marks and digits of a word in a regular expression's
/// class, as Rust's `regex` (SQLite), PCRE2 (MariaDB) and ICU (MySQL)
/// read Unicode's properties.
pub const UNICODE_WORD: &str = "\\p{L}\\p{M}\\p{N}";

/// A word's characters for a server whose regular expressions know no
/// Unicode property (MongoDB's PCRE is built without them, and `\w` there
/// is ASCII): ASCII letters and digits and every character past ASCII,
/// written as themselves. A non-ASCII character that is no letter (`—`,
/// `«`, a no-break space) then joins the words beside it.
pub const ASCII_SEPARATED_WORD: &str = "0-9A-Za-z\u{80}-\u{10FFFF}";

/// The regular expression of a [`TextQuery::Term`]: its words, each
/// bounded by an end of the text or a character outside `word` (a
/// class's contents: [`UNICODE_WORD`], [`ASCII_SEPARATED_WORD`]), one
/// after the other with such characters between; a prefix without the
/// bound after it. Matched anywhere and case-insensitively (the engine's
/// flag). The words hold letters, marks and digits only: nothing in them
/// is an operator of any regex dialect. Places held between two words
/// (empty words) are as many words of the text, with their separators.
pub fn term_pattern(words: &[String], prefix: bool, word: &str) -> String {
    let gap = format!("[^{word}]");
    let mut out = format!("(?:^|{gap})");
    let (mut held, mut first) = (0, true);
    for w in words {
        if w.is_empty() {
            held += 1;
            continue;
        }
        if !first {
            if held > 0 {
                out.push_str(&format!("(?:{gap}+[{word}]+){{{held}}}"));
            }
            out.push_str(&gap);
            out.push('+');
        }
        (held, first) = (0, false);
        out.push_str(w);
    }
    if !prefix {
        out.push_str(&format!("(?:{gap}|$)"));
    }
    out
}

/// Whether `c` is part of a word: a letter, a combining mark or a digit
/// (Unicode's `L`, `M`, `N`), as [`term_pattern`]'s classes read it.
fn word_char(c: char) -> bool {
    c.is_alphanumeric() || is_mark(c)
}

/// A combining mark (Unicode's `M`: an accent in decomposed form, a
/// virama), found by the same classes the patterns use.
fn is_mark(c: char) -> bool {
    static MARK: std::sync::LazyLock<regex::Regex> =
        std::sync::LazyLock::new(|| regex::Regex::new(r"^\p{M}$").expect("a valid class"));
    !c.is_ascii() && MARK.is_match(c.encode_utf8(&mut [0; 4]))
}

/// The words of a lexeme: its runs of letters, marks and digits, as
/// written (searches ignore case).
fn words_of(lexeme: &str) -> Vec<String> {
    lexeme
        .split(|c: char| !word_char(c))
        .filter(|w| !w.is_empty())
        .map(str::to_string)
        .collect()
}

/// A lexeme as a term: `None` when it holds no word.
fn term(lexeme: &str, prefix: bool) -> Option<TextQuery> {
    let words = words_of(lexeme);
    (!words.is_empty()).then_some(TextQuery::Term { words, prefix })
}

fn and(parts: Vec<TextQuery>) -> Option<TextQuery> {
    match parts.len() {
        0 => None,
        1 => parts.into_iter().next(),
        _ => Some(TextQuery::And(parts)),
    }
}

fn or(parts: Vec<TextQuery>) -> Option<TextQuery> {
    match parts.len() {
        0 => None,
        1 => parts.into_iter().next(),
        _ => Some(TextQuery::Or(parts)),
    }
}

/// PostgreSQL's 400 `42601` for a malformed `tsquery`, as PostgreSQL's
/// own error reads (no pointer: the same answer on every engine).
fn syntax_error(query: &str) -> Error {
    Error::Validation {
        violations: vec![
            Violation::new("", format!("syntax error in tsquery: \"{query}\"")).with_code("42601"),
        ],
    }
}

/// What a text query may say that an engine without PostgreSQL's text
/// search cannot search for: `Unsupported` on `engine`.
fn beyond(engine: &str, what: &str) -> Error {
    Error::unsupported(
        engine,
        format!("{what} in a full-text query (only PostgreSQL searches it)"),
    )
}

impl TextSyntax {
    /// `query` as a [`TextQuery`], read as PostgreSQL reads this syntax:
    /// `to_tsquery`'s operators (`&`, `|`, `!`, `<->`, parentheses,
    /// `'quoted'` lexemes, a `:*` prefix), `websearch_to_tsquery`'s
    /// (`"a phrase"`, `or`, `-word`), `plainto_tsquery`'s words (all
    /// required), `phraseto_tsquery`'s phrase. A query without a word
    /// matches nothing (`Or` of none). Distances (`a <3> b`) hold places
    /// between a phrase's words, as a part without a word does (`a <-> -
    /// <-> b` is `a <2> b`), `<0>` puts the next part at the same place
    /// (the same word in any case, or none); a lexeme whose weights leave out `D`
    /// (`a:AB`) matches nothing, as a text's words all weigh `D`.
    ///
    /// # Errors
    /// A malformed `tsquery` (PostgreSQL's 400 `42601`, a distance past
    /// 16 384 its `22023`); what only PostgreSQL searches (a phrase
    /// holding over [`MAX_PHRASE_PLACES`] places, a phrase of anything
    /// but words, a prefix inside a phrase: `Unsupported` on `engine`);
    /// more than [`MAX_TEXT_QUERY_TERMS`] words and phrases.
    pub fn parse(self, query: &str, engine: &str) -> Result<TextQuery, Error> {
        let q = match self {
            // `plainto_tsquery`: every word of the text, each required
            // (`it's` is `it & s`).
            Self::Words | Self::Plain => and(words_of(query)
                .into_iter()
                .map(|w| TextQuery::Term {
                    words: vec![w],
                    prefix: false,
                })
                .collect()),
            Self::Phrase => term(query, false),
            Self::Web => web(query),
            Self::TsQuery => TsParser::new(query, engine).parse()?,
        };
        let q = q.unwrap_or(TextQuery::Or(Vec::new()));
        if q.terms() > MAX_TEXT_QUERY_TERMS {
            return Err(Error::validation(
                "/query",
                format!("a full-text query holds at most {MAX_TEXT_QUERY_TERMS} words and phrases"),
            ));
        }
        Ok(q)
    }
}

/// `websearch_to_tsquery`, as PostgreSQL's reader goes: words (all
/// required), `"quoted phrases"` (a `"` without a closing one is skipped),
/// `or` between an operand and a later one (elsewhere a word), `-` before
/// an operand excludes it (`--a` is `a`); `!&|()<:` separate words. It
/// never fails: what it cannot read it leaves out.
fn web(query: &str) -> Option<TextQuery> {
    const DELIMITERS: &str = "!&|()<:";
    let mut groups: Vec<Vec<TextQuery>> = vec![Vec::new()];
    let mut at = 0;
    let mut operand_next = true;
    let mut negate = false;
    while let Some(c) = query[at..].chars().next() {
        if c.is_whitespace() {
            at += c.len_utf8();
            continue;
        }
        if !operand_next {
            // An operator: `or` (not part of a word, an operand after it),
            // else an implicit `and`.
            let rest = &query[at..];
            let after = rest.get(2..).unwrap_or("");
            let is_or = rest.get(..2).is_some_and(|o| o.eq_ignore_ascii_case("or"))
                && after
                    .chars()
                    .next()
                    .is_some_and(|d| !(d == '-' || d == '_' || word_char(d)))
                && after.chars().skip(1).any(|d| !d.is_whitespace());
            if is_or {
                groups.push(Vec::new());
                at += 2;
            }
            operand_next = true;
            continue;
        }
        if c == '-' {
            negate = !negate;
            at += 1;
            continue;
        }
        let part = if c == '"' {
            let Some(close) = query[at + 1..].find('"') else {
                at += 1;
                continue;
            };
            let inside = &query[at + 1..at + 1 + close];
            at += close + 2;
            term(inside, false)
        } else if DELIMITERS.contains(c) {
            at += 1;
            continue;
        } else {
            let rest = &query[at..];
            let end = rest
                .find(|d: char| d.is_whitespace() || d == '"' || DELIMITERS.contains(d))
                .unwrap_or(rest.len());
            at += end;
            term(&rest[..end], false)
        };
        if let Some(p) = part {
            let p = if negate {
                TextQuery::Not(Box::new(p))
            } else {
                p
            };
            groups.last_mut().expect("one group at least").push(p);
            operand_next = false;
        }
        negate = false;
    }
    or(groups.into_iter().filter_map(and).collect())
}

/// A reader of `to_tsquery`'s syntax. Precedence, loosest first: `|`,
/// `&`, `<->`, `!`.
struct TsParser<'q> {
    query: &'q str,
    engine: &'q str,
    /// The first thing only PostgreSQL searches: reported once the whole
    /// query has read well (its syntax errors come first, as there).
    refused: Option<Error>,
    at: usize,
    /// `!` and `(` around the operand being read (bounded: the reader
    /// recurses for each).
    depth: usize,
}

/// At most this many `!` and `(` around one operand of a `tsquery`
/// (PostgreSQL's own reader stops at 32 levels of its stack too): the
/// reader and what it builds recurse once per level.
pub const MAX_TEXT_QUERY_DEPTH: usize = 32;

/// PostgreSQL's largest distance in a phrase (`<16384>`).
const MAX_DISTANCE: u64 = 16_384;

/// A phrase being read: its words and held places (empty words; those
/// before the first word and after the last kept until the outermost
/// phrase trims them, [`trimmed`], as a parenthesized phrase's count
/// where it stands: `(a <-> -) <-> b` is `a <2> b`), or nothing (a part
/// that matches no text). What only PostgreSQL searches is noted in
/// `refused`, reported once the whole query has read well.
struct Phrase<'q> {
    engine: &'q str,
    words: Vec<String>,
    nothing: bool,
    refused: Option<Error>,
    /// The next part stands at the last one's place (`<0>`).
    overlay: bool,
}

/// The most places one run holds in [`Phrase::words`]: a run past
/// [`MAX_PHRASE_PLACES`] between two words is refused anyway, and one
/// before the first or after the last is trimmed.
const MAX_HELD_RUN: usize = MAX_PHRASE_PLACES + 1;

impl Phrase<'_> {
    fn refuse(&mut self, what: &str) {
        self.refused
            .get_or_insert_with(|| beyond(self.engine, what));
    }

    /// `n` places before the next part.
    fn hold(&mut self, n: u64) {
        let run = self.words.iter().rev().take_while(|w| w.is_empty()).count();
        let room = MAX_HELD_RUN.saturating_sub(run);
        let n = usize::try_from(n).unwrap_or(usize::MAX).min(room);
        self.words.extend(std::iter::repeat_n(String::new(), n));
    }

    fn word(&mut self, w: String) {
        if w.is_empty() {
            return self.hold(1);
        }
        self.words.push(w);
        let first = self.words.iter().position(|w| !w.is_empty()).unwrap_or(0);
        let held = self.words[first..].iter().filter(|w| w.is_empty()).count();
        if held > MAX_PHRASE_PLACES {
            self.refuse(&format!(
                "a phrase holding over {MAX_PHRASE_PLACES} places between its words (`a <8> b`)"
            ));
        }
    }

    /// `w` at the last entry's place (`a <0> w`): a held place takes it,
    /// the same word (in any case) is itself, another word is no text's.
    fn overlay(&mut self, w: String) {
        match self.words.last() {
            _ if w.is_empty() => {}
            None => self.word(w),
            Some(last) if last.is_empty() => {
                self.words.pop();
                self.word(w);
            }
            Some(last) if last.to_lowercase() == w.to_lowercase() => {}
            Some(_) => self.nothing = true,
        }
    }

    fn push(&mut self, part: Option<TextQuery>) {
        if std::mem::take(&mut self.overlay) {
            match part {
                // Nothing at the last place: no place more.
                None => return,
                Some(TextQuery::Term {
                    words,
                    prefix: false,
                }) => {
                    let mut words = words.into_iter();
                    if let Some(first) = words.next() {
                        self.overlay(first);
                    }
                    return words.for_each(|w| self.word(w));
                }
                part => return self.push(part),
            }
        }
        match part {
            // A part without a word keeps its place (`a <-> - <-> b` is
            // `a <2> b`).
            None => self.hold(1),
            Some(TextQuery::Term {
                words,
                prefix: false,
            }) => words.into_iter().for_each(|w| self.word(w)),
            Some(TextQuery::Term { prefix: true, .. }) => {
                self.refuse("a prefix inside a phrase");
                self.hold(1);
            }
            Some(TextQuery::Or(parts)) if parts.is_empty() => self.nothing = true,
            Some(_) => {
                self.refuse("a phrase (`<->`) of anything but words");
                self.hold(1);
            }
        }
    }

    fn finish(self) -> (Option<TextQuery>, Option<Error>) {
        let q = if self.nothing {
            Some(TextQuery::Or(Vec::new()))
        } else {
            (!self.words.is_empty()).then_some(TextQuery::Term {
                words: self.words,
                prefix: false,
            })
        };
        (q, self.refused)
    }
}

/// The query as PostgreSQL keeps it once read: each phrase without the
/// places before its first word and after its last, a phrase of places
/// only (and what holds only such) gone; `Or` of none (a part that
/// matches nothing) kept.
fn trimmed(q: TextQuery) -> Option<TextQuery> {
    match q {
        TextQuery::Term { mut words, prefix } => {
            while words.last().is_some_and(String::is_empty) {
                words.pop();
            }
            let lead = words.iter().take_while(|w| w.is_empty()).count();
            words.drain(..lead);
            (!words.is_empty()).then_some(TextQuery::Term { words, prefix })
        }
        TextQuery::Or(parts) if parts.is_empty() => Some(TextQuery::Or(parts)),
        TextQuery::Or(parts) => or(parts.into_iter().filter_map(trimmed).collect()),
        TextQuery::And(parts) => and(parts.into_iter().filter_map(trimmed).collect()),
        TextQuery::Not(inner) => trimmed(*inner).map(|q| TextQuery::Not(Box::new(q))),
    }
}

enum Tok<'q> {
    And,
    Or,
    Not,
    Open,
    Close,
    /// `<->` (1) or `<N>`.
    Follow(u64),
    /// A lexeme, whether it is a prefix (`:*`), and whether its weights
    /// leave out `D`, a text's only one (`:AB`: it matches no text).
    Lexeme(std::borrow::Cow<'q, str>, bool, bool),
}

impl<'q> TsParser<'q> {
    fn new(query: &'q str, engine: &'q str) -> Self {
        Self {
            query,
            engine,
            refused: None,
            at: 0,
            depth: 0,
        }
    }

    fn rest(&self) -> &'q str {
        &self.query[self.at..]
    }

    fn skip_space(&mut self) {
        let rest = self.rest();
        self.at += rest.len() - rest.trim_start().len();
    }

    fn peek(&mut self) -> Result<Option<Tok<'q>>, Error> {
        let at = self.at;
        let t = self.next()?;
        self.at = at;
        Ok(t)
    }

    fn next(&mut self) -> Result<Option<Tok<'q>>, Error> {
        self.skip_space();
        let rest = self.rest();
        let Some(c) = rest.chars().next() else {
            return Ok(None);
        };
        let simple = match c {
            '&' => Some(Tok::And),
            '|' => Some(Tok::Or),
            '!' => Some(Tok::Not),
            '(' => Some(Tok::Open),
            ')' => Some(Tok::Close),
            _ => None,
        };
        if let Some(t) = simple {
            self.at += 1;
            return Ok(Some(t));
        }
        if c == '<' {
            let close = rest.find('>').ok_or_else(|| syntax_error(self.query))?;
            let inner = &rest[1..close];
            let n = if inner == "-" {
                1
            } else if !inner.is_empty() && inner.bytes().all(|d| d.is_ascii_digit()) {
                // Past a `u64` is past 16 384 too (PostgreSQL's 22023).
                inner.parse::<u64>().unwrap_or(u64::MAX)
            } else {
                return Err(syntax_error(self.query));
            };
            self.at += close + 1;
            return Ok(Some(Tok::Follow(n)));
        }
        let lexeme = if c == '\'' {
            // `'…'`, a quote inside doubled or after `\`.
            let mut out = String::new();
            let mut chars = rest.char_indices().skip(1).peekable();
            let mut end = None;
            while let Some((i, d)) = chars.next() {
                if d == '\\' {
                    if let Some((_, e)) = chars.next() {
                        out.push(e);
                    }
                    continue;
                }
                if d == '\'' {
                    if chars.peek().map(|p| p.1) == Some('\'') {
                        chars.next();
                        out.push('\'');
                        continue;
                    }
                    end = Some(i + 1);
                    break;
                }
                out.push(d);
            }
            self.at += end.ok_or_else(|| syntax_error(self.query))?;
            std::borrow::Cow::Owned(out)
        } else {
            // Up to a space or an operator; a `'` inside is the word's (as
            // PostgreSQL reads `don't`), `\` takes the next character.
            let mut out = String::new();
            let mut end = rest.len();
            let mut chars = rest.char_indices();
            while let Some((i, d)) = chars.next() {
                if d.is_whitespace() || "&|!()<:".contains(d) {
                    end = i;
                    break;
                }
                if d == '\\' {
                    if let Some((_, e)) = chars.next() {
                        out.push(e);
                    }
                    continue;
                }
                out.push(d);
            }
            if end == 0 {
                // `:` where an operand should be.
                return Err(syntax_error(self.query));
            }
            self.at += end;
            std::borrow::Cow::Owned(out)
        };
        // Weights and a prefix: `:*`, `:AB`, `:*a`. A text's words all
        // weigh `D` (`to_tsvector`'s), so weights without it match none.
        let (mut prefix, mut weighed_out) = (false, false);
        if let Some(flags) = self.rest().strip_prefix(':') {
            let len = flags
                .find(|d: char| !matches!(d, '*' | 'a'..='d' | 'A'..='D'))
                .unwrap_or(flags.len());
            let flags = &flags[..len];
            prefix = flags.contains('*');
            weighed_out = flags.chars().any(|d| d != '*')
                && !flags.chars().any(|d| d.eq_ignore_ascii_case(&'d'));
            self.at += 1 + len;
        }
        Ok(Some(Tok::Lexeme(lexeme, prefix, weighed_out)))
    }

    fn parse(mut self) -> Result<Option<TextQuery>, Error> {
        if self.rest().trim().is_empty() {
            return Ok(None);
        }
        let q = self.or()?;
        if self.next()?.is_some() {
            return Err(syntax_error(self.query));
        }
        if let Some(e) = self.refused {
            return Err(e);
        }
        Ok(q.and_then(trimmed))
    }

    fn or(&mut self) -> Result<Option<TextQuery>, Error> {
        let mut parts = vec![self.and()?];
        while matches!(self.peek()?, Some(Tok::Or)) {
            self.next()?;
            parts.push(self.and()?);
        }
        Ok(or(parts.into_iter().flatten().collect()))
    }

    fn and(&mut self) -> Result<Option<TextQuery>, Error> {
        let mut parts = vec![self.follow()?];
        while matches!(self.peek()?, Some(Tok::And)) {
            self.next()?;
            parts.push(self.follow()?);
        }
        Ok(and(parts.into_iter().flatten().collect()))
    }

    /// `a <-> b <2> c`: a phrase of words, each at its distance from the
    /// one before.
    fn follow(&mut self) -> Result<Option<TextQuery>, Error> {
        let first = self.unary()?;
        if !matches!(self.peek()?, Some(Tok::Follow(_))) {
            return Ok(first);
        }
        let mut phrase = Phrase {
            engine: self.engine,
            words: Vec::new(),
            nothing: false,
            refused: None,
            overlay: false,
        };
        phrase.push(first);
        while let Some(Tok::Follow(n)) = self.peek()? {
            self.next()?;
            if n > MAX_DISTANCE {
                return Err(Error::Validation {
                    violations: vec![
                        Violation::new(
                            "",
                            format!(
                                "distance in phrase operator must be an integer value between zero and {MAX_DISTANCE} inclusive"
                            ),
                        )
                        .with_code("22023"),
                    ],
                });
            }
            // `<0>`: the next part at the same place as the last.
            phrase.overlay = n == 0;
            phrase.hold(n.saturating_sub(1));
            phrase.push(self.unary()?);
        }
        let (q, refused) = phrase.finish();
        if let Some(e) = refused {
            self.refused.get_or_insert(e);
        }
        Ok(q)
    }

    fn unary(&mut self) -> Result<Option<TextQuery>, Error> {
        let tok = self.next()?;
        if matches!(tok, Some(Tok::Not | Tok::Open)) {
            self.depth += 1;
            if self.depth > MAX_TEXT_QUERY_DEPTH {
                return Err(Error::validation(
                    "/query",
                    format!(
                        "a full-text query nests at most {MAX_TEXT_QUERY_DEPTH} `!` and `(` deep"
                    ),
                ));
            }
        }
        let out = self.operand(tok);
        self.depth = self.depth.saturating_sub(1);
        out
    }

    fn operand(&mut self, tok: Option<Tok<'q>>) -> Result<Option<TextQuery>, Error> {
        match tok {
            Some(Tok::Not) => Ok(self.unary()?.map(|q| TextQuery::Not(Box::new(q)))),
            Some(Tok::Open) => {
                let inner = self.or()?;
                match self.next()? {
                    Some(Tok::Close) => Ok(inner),
                    _ => Err(syntax_error(self.query)),
                }
            }
            Some(Tok::Lexeme(l, prefix, weighed_out)) => {
                let t = term(&l, prefix);
                if weighed_out && t.is_some() {
                    return Ok(Some(TextQuery::Or(Vec::new())));
                }
                if let Some(TextQuery::Term {
                    words,
                    prefix: true,
                }) = &t
                    && words.len() > 1
                {
                    let e = beyond(self.engine, "a prefix inside a phrase");
                    self.refused.get_or_insert(e);
                }
                Ok(t)
            }
            _ => Err(syntax_error(self.query)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(s: &str) -> TextQuery {
        TextQuery::word(s)
    }

    fn not(q: TextQuery) -> TextQuery {
        TextQuery::Not(Box::new(q))
    }

    fn ts(q: &str) -> Result<TextQuery, Error> {
        TextSyntax::TsQuery.parse(q, "test")
    }

    #[test]
    fn tsquery_operators_and_precedence() {
        assert_eq!(
            ts("'fat' & ('Rat' | cat:*) & !dog").unwrap(),
            TextQuery::And(vec![
                w("fat"),
                TextQuery::Or(vec![
                    w("Rat"),
                    TextQuery::Term {
                        words: vec!["cat".into()],
                        prefix: true
                    }
                ]),
                not(w("dog")),
            ])
        );
        // `|` is looser than `&`, `&` than `<->`, `<->` than `!`.
        assert_eq!(
            ts("a & b | c <-> d").unwrap(),
            TextQuery::Or(vec![
                TextQuery::And(vec![w("a"), w("b")]),
                TextQuery::phrase(["c", "d"])
            ])
        );
        assert_eq!(ts("!!a").unwrap(), not(not(w("a"))));
        // A quoted lexeme with several words is a phrase; `''` and `\'` a
        // quote; a `'` inside an unquoted lexeme is the lexeme's.
        assert_eq!(
            ts("'quick  fox'").unwrap(),
            TextQuery::phrase(["quick", "fox"])
        );
        assert_eq!(ts("'it''s'").unwrap(), TextQuery::phrase(["it", "s"]));
        assert_eq!(ts(r"'it\'s'").unwrap(), TextQuery::phrase(["it", "s"]));
        assert_eq!(ts("don't").unwrap(), TextQuery::phrase(["don", "t"]));
        assert_eq!(ts(r"a\ b").unwrap(), TextQuery::phrase(["a", "b"]));
        assert_eq!(ts("foo-bar").unwrap(), TextQuery::phrase(["foo", "bar"]));
        assert_eq!(
            ts("Über:*").unwrap(),
            TextQuery::Term {
                words: vec!["Über".into()],
                prefix: true
            }
        );
        // Marks are part of a word (a virama, a decomposed accent).
        assert_eq!(ts("नमस्ते").unwrap(), w("नमस्ते"));
        assert_eq!(ts("cafe\u{301}").unwrap(), w("cafe\u{301}"));
        // Nothing to search: matches nothing.
        assert_eq!(ts("  ").unwrap(), TextQuery::Or(Vec::new()));
        assert_eq!(ts("- & ,").unwrap(), TextQuery::Or(Vec::new()));
        assert_eq!(ts("a & -").unwrap(), w("a"));
    }

    /// As PostgreSQL reads them (`to_tsquery('simple', …)` on a text
    /// whose words all weigh `D`): distances and wordless parts hold
    /// places, leading and trailing ones vanish; weights without `D`
    /// match nothing.
    #[test]
    fn distances_and_weights() {
        let phrase = |words: &[&str]| TextQuery::Term {
            words: words.iter().map(|w| w.to_string()).collect(),
            prefix: false,
        };
        let nothing = TextQuery::Or(Vec::new());
        for (q, want) in [
            ("a <2> b", phrase(&["a", "", "b"])),
            ("a <-> - <-> b", phrase(&["a", "", "b"])),
            ("a <-> - <-> - <-> b", phrase(&["a", "", "", "b"])),
            ("a <2> b <-> c", phrase(&["a", "", "b", "c"])),
            ("- <-> a", w("a")),
            ("a <-> -", w("a")),
            ("a <3> 'b c'", phrase(&["a", "", "", "b", "c"])),
            ("a:D", w("a")),
            ("a:AD", w("a")),
            (
                "a:*d",
                TextQuery::Term {
                    words: vec!["a".into()],
                    prefix: true,
                },
            ),
            ("a:A", nothing.clone()),
            ("a:*AB", nothing.clone()),
            ("a:A <-> b", nothing.clone()),
            ("!a:C", not(nothing.clone())),
            ("a:B | b", TextQuery::Or(vec![nothing.clone(), w("b")])),
            // Places of a parenthesized phrase count where it stands; only
            // the outermost phrase loses those before and after its words.
            ("(a <-> -) <-> b", phrase(&["a", "", "b"])),
            ("a <-> (- <-> b)", phrase(&["a", "", "b"])),
            ("(a <3> -) <2> b", phrase(&["a", "", "", "", "", "b"])),
            ("a <-> (b <-> -) <-> c", phrase(&["a", "b", "", "c"])),
            ("a <-> (- <-> -) <-> b", phrase(&["a", "", "", "b"])),
            ("a <-> (- | -) <-> b", phrase(&["a", "", "b"])),
            ("a <-> (- & c) <-> b", phrase(&["a", "c", "b"])),
            ("a <40> -", w("a")),
            ("- <40> a", w("a")),
            ("(- <-> -) & c", w("c")),
            ("- <-> -", nothing.clone()),
            // `<0>`: the same place (PostgreSQL's `simple` lexemes are
            // lower-cased: the same word in any case is itself).
            ("ab <0> AB", w("ab")),
            ("ab <0> x", nothing.clone()),
            ("x <-> ab <0> ab <-> y", phrase(&["x", "ab", "y"])),
            ("a <0> - <-> b", phrase(&["a", "b"])),
            ("a <-> - <0> b", phrase(&["a", "b"])),
            ("- <0> a", w("a")),
            ("a <0> 'a b'", phrase(&["a", "b"])),
            ("!(a <0> b)", not(nothing.clone())),
        ] {
            assert_eq!(ts(q).unwrap(), want, "{q}");
        }
        let pattern = |q: &str| match ts(q).unwrap() {
            TextQuery::Term { words, prefix } => term_pattern(&words, prefix, "a-z"),
            other => panic!("{other:?}"),
        };
        assert_eq!(
            pattern("x <3> y"),
            "(?:^|[^a-z])x(?:[^a-z]+[a-z]+){2}[^a-z]+y(?:[^a-z]|$)"
        );
        let re = regex::Regex::new(&format!("(?i){}", pattern("a <3> d"))).unwrap();
        assert!(re.is_match("a, b. c d"));
        assert!(!re.is_match("a b d"));
        assert!(!re.is_match("a b c e d"));
    }

    #[test]
    fn tsquery_syntax_errors_are_postgresqls() {
        for q in [
            "a b", "a &", "& a", "(a", "a)", "'a", "a <- b", "a <x> b", "a <+1> b", "a | | b", "!",
            ":*", "a & :*",
        ] {
            let e = ts(q).expect_err(q);
            let Error::Validation { violations } = &e else {
                panic!("{q}: {e:?}");
            };
            assert_eq!(violations[0].code.as_deref(), Some("42601"), "{q}");
        }
    }

    #[test]
    fn what_only_postgresql_searches_is_refused() {
        for q in [
            "a <-> b:*",
            "(a | b) <-> c",
            "a <-> !b",
            "a <0> b:*",
            "a <8> b",
            "a <4> b <5> c",
        ] {
            let e = ts(q).expect_err(q);
            assert!(matches!(e, Error::Unsupported { .. }), "{q}: {e}");
        }
        assert!(ts("a <7> b").is_ok());
        assert!(ts("a <3> b <4> c").is_ok());
        let long = vec!["w"; 20].join(" <-> ");
        assert!(ts(&long).is_ok(), "words alone hold no place");
        // PostgreSQL's errors come first, wherever they are in the query.
        for q in [
            "a <16385> b",
            "a <99999999999> b",
            "a <-> !b <16385> c",
            "a <40> b <16385> c",
        ] {
            let Err(Error::Validation { violations }) = ts(q) else {
                panic!("{q}: a distance past 16 384");
            };
            assert_eq!(violations[0].code.as_deref(), Some("22023"), "{q}");
        }
        let Err(Error::Validation { violations }) = ts("a <-> !b (") else {
            panic!("a syntax error after a refusal");
        };
        assert_eq!(violations[0].code.as_deref(), Some("42601"));
        let many = vec!["w"; MAX_TEXT_QUERY_TERMS + 1].join(" & ");
        assert!(ts(&many).is_err());
        assert!(ts(&vec!["w"; MAX_TEXT_QUERY_TERMS].join(" & ")).is_ok());
    }

    /// Attack: a query nested 60 000 deep would overflow the stack of
    /// a reader that recursed without bound (and abort the server).
    #[test]
    fn nesting_is_bounded() {
        for q in [
            format!("{}a", "(".repeat(60_000)),
            format!("{}a", "!".repeat(60_000)),
            format!(
                "{}a{}",
                "(".repeat(MAX_TEXT_QUERY_DEPTH + 1),
                ")".repeat(MAX_TEXT_QUERY_DEPTH + 1)
            ),
        ] {
            let e = ts(&q).expect_err("too deep");
            assert!(e.to_string().contains("nests at most"), "{e}");
        }
        let ok = format!(
            "{}a{}",
            "(".repeat(MAX_TEXT_QUERY_DEPTH),
            ")".repeat(MAX_TEXT_QUERY_DEPTH)
        );
        assert_eq!(ts(&ok).unwrap(), w("a"));
        // Siblings do not add up.
        let wide = vec!["(!a)"; MAX_TEXT_QUERY_TERMS].join(" & ");
        assert!(ts(&wide).is_ok());
    }

    #[test]
    fn term_patterns_bound_words() {
        let re = |words: &[&str], prefix| {
            let words: Vec<String> = words.iter().map(|w| w.to_string()).collect();
            regex::RegexBuilder::new(&term_pattern(&words, prefix, UNICODE_WORD))
                .case_insensitive(true)
                .build()
                .unwrap()
        };
        let fox = re(&["fox"], false);
        assert!(fox.is_match("the Fox."));
        assert!(fox.is_match("fox"));
        assert!(fox.is_match("a_fox_b"));
        assert!(!fox.is_match("foxes"));
        assert!(!fox.is_match("firefox"));
        let phrase = re(&["quick", "fox"], false);
        assert!(phrase.is_match("the quick, brown? no: quick  fox!"));
        assert!(!phrase.is_match("quick brown fox"));
        let prefix = re(&["über"], true);
        assert!(prefix.is_match("ÜBERALL"));
        assert!(!prefix.is_match("xüber"));
        // Non-ASCII letters and marks are no boundary.
        assert!(!re(&["caf"], false).is_match("café"));
        assert!(!re(&["иве"], false).is_match("привет"));
        assert!(re(&["नमस्ते"], false).is_match("नमस्ते दुनिया"));
        assert!(re(&["İstanbul"], false).is_match("İSTANBUL'da"));
        // The class for servers without Unicode properties reads alike
        // in Rust's regex: non-ASCII characters join words.
        let ascii = |w: &str| {
            regex::RegexBuilder::new(&term_pattern(&[w.to_string()], false, ASCII_SEPARATED_WORD))
                .case_insensitive(true)
                .build()
                .unwrap()
        };
        assert!(!ascii("caf").is_match("café"));
        assert!(ascii("café").is_match("un café."));
        assert!(!ascii("fox").is_match("fox—dog"));
    }

    #[test]
    fn web_plain_and_phrase() {
        let web = |q: &str| TextSyntax::Web.parse(q, "test").unwrap();
        assert_eq!(
            web(r#"a "b c" OR d -e -"f g""#),
            TextQuery::Or(vec![
                TextQuery::And(vec![w("a"), TextQuery::phrase(["b", "c"])]),
                TextQuery::And(vec![
                    w("d"),
                    not(w("e")),
                    not(TextQuery::phrase(["f", "g"]))
                ]),
            ])
        );
        // As PostgreSQL's reader: `or` first or last is a word, a `-`
        // keeps across spaces and twice cancels, a `"` never closed is
        // skipped, `!&|()<:` separate words.
        assert_eq!(
            web("or a or"),
            TextQuery::And(vec![w("or"), w("a"), w("or")])
        );
        assert_eq!(
            web("a or or b"),
            TextQuery::Or(vec![w("a"), TextQuery::And(vec![w("or"), w("b")])])
        );
        assert_eq!(web("a orb"), TextQuery::And(vec![w("a"), w("orb")]));
        assert_eq!(web("- a"), not(w("a")));
        assert_eq!(web("--a"), w("a"));
        assert_eq!(
            web(r#""unclosed phrase"#),
            TextQuery::And(vec![w("unclosed"), w("phrase")])
        );
        assert_eq!(web("a|b"), TextQuery::And(vec![w("a"), w("b")]));
        assert_eq!(web("a-b"), TextQuery::phrase(["a", "b"]));
        assert_eq!(web("-"), TextQuery::Or(Vec::new()));
        // Attack: a multi-byte character right after an `o` where an
        // operator may stand (`or`'s test must not cut it in two).
        assert_eq!(web("a oé"), TextQuery::And(vec![w("a"), w("oé")]));
        assert_eq!(web("a o€ b"), TextQuery::And(vec![w("a"), w("o"), w("b")]));
        // `plainto_tsquery`: every word required.
        assert_eq!(
            TextSyntax::Plain
                .parse("The fat-rat, it's", "test")
                .unwrap(),
            TextQuery::And(vec![w("The"), w("fat"), w("rat"), w("it"), w("s")])
        );
        assert_eq!(
            TextSyntax::Phrase.parse("The fat rat", "test").unwrap(),
            TextQuery::phrase(["The", "fat", "rat"])
        );
        assert_eq!(
            TextSyntax::Words.parse("quick fox", "test").unwrap(),
            TextQuery::And(vec![w("quick"), w("fox")])
        );
    }
}
