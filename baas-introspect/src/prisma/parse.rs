//! Lexer and parser for the Prisma schema language (PSL), with line/column
//! tracking. Produces a small syntax tree; meaning is given in the parent module.

use crate::ImportError;

/// Deepest nesting of lists and function calls in attribute arguments.
const MAX_DEPTH: usize = 32;

pub(super) use crate::Pos;

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Ident(String),
    Str(String),
    Num(String),
    LBrace,
    RBrace,
    LParen,
    RParen,
    LBracket,
    RBracket,
    Colon,
    Comma,
    Eq,
    Question,
    Dot,
    At,
    AtAt,
    Eof,
}

impl Tok {
    fn describe(&self) -> String {
        match self {
            Self::Ident(s) => format!("`{s}`"),
            Self::Str(_) => "a string".into(),
            Self::Num(n) => format!("number `{n}`"),
            Self::LBrace => "`{`".into(),
            Self::RBrace => "`}`".into(),
            Self::LParen => "`(`".into(),
            Self::RParen => "`)`".into(),
            Self::LBracket => "`[`".into(),
            Self::RBracket => "`]`".into(),
            Self::Colon => "`:`".into(),
            Self::Comma => "`,`".into(),
            Self::Eq => "`=`".into(),
            Self::Question => "`?`".into(),
            Self::Dot => "`.`".into(),
            Self::At => "`@`".into(),
            Self::AtAt => "`@@`".into(),
            Self::Eof => "end of input".into(),
        }
    }
}

#[derive(Debug, Clone)]
struct Token {
    tok: Tok,
    pos: Pos,
    /// `///` documentation lines written just before this token.
    doc: Option<String>,
    /// Whether a line break separates this token from the previous one.
    newline_before: bool,
}

fn is_ident_start(c: char) -> bool {
    c.is_alphabetic() || c == '_'
}

fn is_ident_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_' || c == '-'
}

fn lex(text: &str) -> Result<Vec<Token>, ImportError> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    let mut line = 1;
    let mut col = 1;
    let mut doc: Vec<String> = Vec::new();
    let mut newline_before = true;
    // Whether only whitespace precedes `i` on the current line.
    let mut line_start = true;
    let at = |i: usize| chars.get(i).copied();
    while let Some(c) = at(i) {
        let pos = Pos { line, col };
        if c == '\n' {
            i += 1;
            line += 1;
            col = 1;
            newline_before = true;
            line_start = true;
            continue;
        }
        if c.is_whitespace() || c == '\u{feff}' {
            i += 1;
            col += 1;
            continue;
        }
        if c == '/' && at(i + 1) == Some('/') {
            let start = i;
            while at(i).is_some_and(|c| c != '\n') {
                i += 1;
                col += 1;
            }
            let comment: String = chars.get(start..i).unwrap_or_default().iter().collect();
            if line_start && let Some(d) = comment.strip_prefix("///") {
                let d = d.strip_prefix(' ').unwrap_or(d).trim_end();
                doc.push(d.to_string());
            }
            continue;
        }
        if c == '/' && at(i + 1) == Some('*') {
            // A block comment; `/** … */` at the start of a line documents
            // what follows, as `///` does.
            let doc_comment = line_start && at(i + 2) == Some('*') && at(i + 3) != Some('/');
            let start = i + 2;
            i += 2;
            col += 2;
            loop {
                match at(i) {
                    None => return Err(pos.error("unterminated block comment (no `*/`)")),
                    Some('*') if at(i + 1) == Some('/') => break,
                    Some('\n') => {
                        line += 1;
                        col = 1;
                        newline_before = true;
                    }
                    Some(_) => col += 1,
                }
                i += 1;
            }
            if doc_comment {
                let body: String = chars.get(start + 1..i).unwrap_or_default().iter().collect();
                for l in body.lines() {
                    let l = l.trim();
                    let l = l
                        .strip_prefix('*')
                        .map_or(l, |r| r.strip_prefix(' ').unwrap_or(r));
                    if !l.trim().is_empty() {
                        doc.push(l.trim_end().to_string());
                    }
                }
            }
            i += 2;
            col += 2;
            continue;
        }
        line_start = false;
        let tok = match c {
            '{' => Tok::LBrace,
            '}' => Tok::RBrace,
            '(' => Tok::LParen,
            ')' => Tok::RParen,
            '[' => Tok::LBracket,
            ']' => Tok::RBracket,
            ':' => Tok::Colon,
            ',' => Tok::Comma,
            '=' => Tok::Eq,
            '?' => Tok::Question,
            '.' => Tok::Dot,
            '@' if at(i + 1) == Some('@') => {
                i += 1;
                col += 1;
                Tok::AtAt
            }
            '@' => Tok::At,
            '"' => {
                let mut s = String::new();
                i += 1;
                col += 1;
                loop {
                    match at(i) {
                        None | Some('\n') => {
                            return Err(pos.error("unterminated string"));
                        }
                        Some('"') => break,
                        Some('\\') => {
                            let esc = at(i + 1);
                            i += 2;
                            col += 2;
                            match esc {
                                Some('n') => s.push('\n'),
                                Some('t') => s.push('\t'),
                                Some('r') => s.push('\r'),
                                Some('u') => {
                                    let hex: String =
                                        chars.get(i..i + 4).unwrap_or_default().iter().collect();
                                    match u32::from_str_radix(&hex, 16)
                                        .ok()
                                        .and_then(char::from_u32)
                                    {
                                        Some(ch) if hex.len() == 4 => {
                                            s.push(ch);
                                            i += 4;
                                            col += 4;
                                        }
                                        _ => {
                                            return Err(Pos { line, col: col - 2 }
                                                .error("invalid unicode escape"));
                                        }
                                    }
                                }
                                Some('\n') | None => {
                                    return Err(pos.error("unterminated string"));
                                }
                                Some(other) => s.push(other),
                            }
                        }
                        Some(ch) => {
                            s.push(ch);
                            i += 1;
                            col += 1;
                        }
                    }
                }
                Tok::Str(s)
            }
            c if c.is_ascii_digit()
                || (c == '-' && at(i + 1).is_some_and(|d| d.is_ascii_digit())) =>
            {
                let start = i;
                i += 1;
                col += 1;
                while at(i).is_some_and(|d| d.is_ascii_digit() || d == '.') {
                    i += 1;
                    col += 1;
                }
                let n: String = chars.get(start..i).unwrap_or_default().iter().collect();
                out.push(Token {
                    tok: Tok::Num(n),
                    pos,
                    doc: None,
                    newline_before,
                });
                newline_before = false;
                continue;
            }
            c if is_ident_start(c) => {
                let start = i;
                while at(i).is_some_and(is_ident_char) {
                    i += 1;
                    col += 1;
                }
                let s: String = chars.get(start..i).unwrap_or_default().iter().collect();
                let d = if doc.is_empty() {
                    None
                } else {
                    Some(std::mem::take(&mut doc).join("\n"))
                };
                out.push(Token {
                    tok: Tok::Ident(s),
                    pos,
                    doc: d,
                    newline_before,
                });
                newline_before = false;
                continue;
            }
            other => {
                return Err(pos.error(format!("unexpected character `{}`", other.escape_debug())));
            }
        };
        // Doc comments only attach to identifiers (block keywords, field
        // names, enum values); a doc before `}` or `@@` is dropped.
        doc.clear();
        out.push(Token {
            tok,
            pos,
            doc: None,
            newline_before,
        });
        newline_before = false;
        i += 1;
        col += 1;
    }
    out.push(Token {
        tok: Tok::Eof,
        pos: Pos { line, col },
        doc: None,
        newline_before: true,
    });
    Ok(out)
}

/// An attribute argument value.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Expr {
    Str(String),
    Num(String),
    /// A bare identifier: `true`, an enum value, a field name.
    Ident(String),
    Call {
        name: String,
        args: Vec<Arg>,
    },
    List(Vec<Expr>),
}

impl Expr {
    /// Names of a field list `[a, b(sort: Desc)]` (or a single name).
    pub fn names(&self) -> Vec<String> {
        match self {
            Self::List(items) => items.iter().filter_map(Self::name).collect(),
            other => other.name().into_iter().collect(),
        }
    }

    fn name(&self) -> Option<String> {
        match self {
            Self::Ident(s) | Self::Call { name: s, .. } => Some(s.clone()),
            _ => None,
        }
    }

    /// The source-like text of the expression, strings unquoted at the top.
    pub fn text(&self) -> String {
        match self {
            Self::Str(s) => s.clone(),
            other => other.source(),
        }
    }

    fn source(&self) -> String {
        match self {
            Self::Str(s) => format!("{s:?}"),
            Self::Num(n) | Self::Ident(n) => n.clone(),
            Self::Call { name, args } => {
                let args: Vec<String> = args.iter().map(Arg::source).collect();
                format!("{name}({})", args.join(", "))
            }
            Self::List(items) => {
                let items: Vec<String> = items.iter().map(Self::source).collect();
                format!("[{}]", items.join(", "))
            }
        }
    }
}

/// `name: value` or a positional `value`.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Arg {
    pub name: Option<String>,
    pub value: Expr,
}

impl Arg {
    fn source(&self) -> String {
        match &self.name {
            Some(n) => format!("{n}: {}", self.value.source()),
            None => self.value.source(),
        }
    }
}

/// `@name(args)` or `@@name(args)`; `name` may be qualified (`db.VarChar`).
#[derive(Debug, Clone)]
pub(super) struct Attr {
    pub name: String,
    pub pos: Pos,
    pub args: Vec<Arg>,
}

impl Attr {
    /// The argument named `name`, or else the positional argument at `index`.
    pub fn arg(&self, name: &str, index: Option<usize>) -> Option<&Expr> {
        self.args
            .iter()
            .find(|a| a.name.as_deref() == Some(name))
            .or_else(|| index.and_then(|i| self.args.iter().filter(|a| a.name.is_none()).nth(i)))
            .map(|a| &a.value)
    }
}

/// A field's type: `Name`, `Name?`, `Name[]`, `Unsupported("…")`.
#[derive(Debug, Clone)]
pub(super) struct TypeRef {
    pub name: String,
    pub pos: Pos,
    pub list: bool,
    pub optional: bool,
    /// The argument of `Unsupported("…")`.
    pub unsupported: Option<String>,
}

/// A field of a model, view or composite type.
#[derive(Debug, Clone)]
pub(super) struct FieldDecl {
    pub name: String,
    pub pos: Pos,
    pub doc: Option<String>,
    pub ty: TypeRef,
    pub attrs: Vec<Attr>,
}

impl FieldDecl {
    pub fn attr(&self, name: &str) -> Option<&Attr> {
        self.attrs.iter().find(|a| a.name == name)
    }
}

/// A value of an enum.
#[derive(Debug, Clone)]
pub(super) struct EnumValue {
    pub name: String,
    pub attrs: Vec<Attr>,
}

/// The keyword of a top-level block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum BlockKind {
    Model,
    View,
    Enum,
    Type,
    Datasource,
    Generator,
}

impl BlockKind {
    pub fn keyword(self) -> &'static str {
        match self {
            Self::Model => "model",
            Self::View => "view",
            Self::Enum => "enum",
            Self::Type => "type",
            Self::Datasource => "datasource",
            Self::Generator => "generator",
        }
    }
}

/// A top-level block.
#[derive(Debug, Clone)]
pub(super) struct Block {
    pub kind: BlockKind,
    pub pos: Pos,
    pub name: String,
    pub name_pos: Pos,
    pub doc: Option<String>,
    pub fields: Vec<FieldDecl>,
    pub values: Vec<EnumValue>,
    /// Block attributes (`@@map`, `@@id`, …).
    pub attrs: Vec<Attr>,
    /// `name = value` settings of a `datasource` or `generator`.
    pub settings: Vec<(String, Expr)>,
}

impl Block {
    pub fn attr(&self, name: &str) -> Option<&Attr> {
        self.attrs.iter().find(|a| a.name == name)
    }

    /// The value of a `datasource`/`generator` setting.
    pub fn setting(&self, name: &str) -> Option<&Expr> {
        self.settings
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v)
    }
}

struct Parser {
    toks: Vec<Token>,
    i: usize,
}

impl Parser {
    fn peek(&self) -> &Tok {
        self.toks.get(self.i).map_or(&Tok::Eof, |t| &t.tok)
    }

    fn token(&self) -> Option<&Token> {
        self.toks.get(self.i).or_else(|| self.toks.last())
    }

    fn pos(&self) -> Pos {
        self.token().map_or(Pos { line: 1, col: 1 }, |t| t.pos)
    }

    fn newline_before(&self) -> bool {
        self.token().is_none_or(|t| t.newline_before)
    }

    fn bump(&mut self) -> Tok {
        let t = self.peek().clone();
        if self.i < self.toks.len() {
            self.i += 1;
        }
        t
    }

    fn unexpected(&self, expected: &str) -> ImportError {
        self.pos().error(format!(
            "expected {expected}, found {}",
            self.peek().describe()
        ))
    }

    fn expect(&mut self, tok: &Tok, expected: &str) -> Result<(), ImportError> {
        if self.peek() == tok {
            self.bump();
            Ok(())
        } else {
            Err(self.unexpected(expected))
        }
    }

    fn ident(&mut self, expected: &str) -> Result<(String, Pos), ImportError> {
        let pos = self.pos();
        match self.peek() {
            Tok::Ident(s) => {
                let s = s.clone();
                self.bump();
                Ok((s, pos))
            }
            _ => Err(self.unexpected(expected)),
        }
    }

    fn schema(&mut self) -> Result<Vec<Block>, ImportError> {
        let mut blocks = Vec::new();
        while *self.peek() != Tok::Eof {
            blocks.push(self.block()?);
        }
        Ok(blocks)
    }

    fn block(&mut self) -> Result<Block, ImportError> {
        let pos = self.pos();
        let doc = self.token().and_then(|t| t.doc.clone());
        let (kw, _) = self.ident("`model`, `enum`, `view`, `type`, `datasource` or `generator`")?;
        let kind = match kw.as_str() {
            "model" => BlockKind::Model,
            "view" => BlockKind::View,
            "enum" => BlockKind::Enum,
            "type" => BlockKind::Type,
            "datasource" => BlockKind::Datasource,
            "generator" => BlockKind::Generator,
            other => {
                return Err(pos.error(format!(
                    "expected `model`, `enum`, `view`, `type`, `datasource` or `generator`, found `{other}`"
                )));
            }
        };
        let (name, name_pos) = self.ident(&format!("a name after `{kw}`"))?;
        self.expect(&Tok::LBrace, &format!("`{{` after `{kw} {name}`"))?;
        let mut block = Block {
            kind,
            pos,
            name,
            name_pos,
            doc,
            fields: Vec::new(),
            values: Vec::new(),
            attrs: Vec::new(),
            settings: Vec::new(),
        };
        loop {
            match self.peek() {
                Tok::RBrace => {
                    self.bump();
                    break;
                }
                Tok::AtAt if kind != BlockKind::Datasource && kind != BlockKind::Generator => {
                    self.bump();
                    let attr = self.attribute(pos_before(self))?;
                    block.attrs.push(attr);
                }
                Tok::Ident(_) => match kind {
                    BlockKind::Datasource | BlockKind::Generator => {
                        let (name, _) = self.ident("a setting name")?;
                        self.expect(&Tok::Eq, "`=`")?;
                        let value = self.expr(0)?;
                        block.settings.push((name, value));
                    }
                    BlockKind::Enum => {
                        let (name, _) = self.ident("an enum value")?;
                        let attrs = self.field_attributes()?;
                        block.values.push(EnumValue { name, attrs });
                    }
                    _ => {
                        let doc = self.token().and_then(|t| t.doc.clone());
                        let (name, fpos) = self.ident("a field name")?;
                        if self.newline_before() {
                            return Err(self.pos().error(format!(
                                "field `{name}` has no type (expected a type on the same line)"
                            )));
                        }
                        let ty = self.type_ref()?;
                        let attrs = self.field_attributes()?;
                        block.fields.push(FieldDecl {
                            name,
                            pos: fpos,
                            doc,
                            ty,
                            attrs,
                        });
                    }
                },
                Tok::Eof => {
                    return Err(self.pos().error(format!(
                        "unexpected end of input: `{} {}` (line {}) is not closed with `}}`",
                        kind.keyword(),
                        block.name,
                        pos.line
                    )));
                }
                _ => {
                    return Err(self.unexpected(match kind {
                        BlockKind::Enum => "an enum value, `@@` or `}`",
                        BlockKind::Datasource | BlockKind::Generator => "a setting or `}`",
                        _ => "a field, `@@` or `}`",
                    }));
                }
            }
        }
        Ok(block)
    }

    fn type_ref(&mut self) -> Result<TypeRef, ImportError> {
        let (name, pos) = self.ident("a type")?;
        let mut ty = TypeRef {
            name,
            pos,
            list: false,
            optional: false,
            unsupported: None,
        };
        if ty.name == "Unsupported" && *self.peek() == Tok::LParen {
            self.bump();
            let inner = match self.bump() {
                Tok::Str(s) => s,
                _ => return Err(pos.error("expected `Unsupported(\"type\")`")),
            };
            self.expect(&Tok::RParen, "`)`")?;
            ty.unsupported = Some(inner);
        }
        match self.peek() {
            Tok::LBracket => {
                self.bump();
                self.expect(&Tok::RBracket, "`]` (list types are written `Type[]`)")?;
                ty.list = true;
            }
            Tok::Question => {
                self.bump();
                ty.optional = true;
            }
            _ => {}
        }
        Ok(ty)
    }

    fn field_attributes(&mut self) -> Result<Vec<Attr>, ImportError> {
        let mut attrs = Vec::new();
        while *self.peek() == Tok::At {
            let pos = self.pos();
            self.bump();
            attrs.push(self.attribute(pos)?);
        }
        Ok(attrs)
    }

    /// After `@`/`@@`: a (qualified) name and optional arguments.
    fn attribute(&mut self, pos: Pos) -> Result<Attr, ImportError> {
        let (mut name, _) = self.ident("an attribute name")?;
        while *self.peek() == Tok::Dot {
            self.bump();
            let (part, _) = self.ident("an attribute name after `.`")?;
            name.push('.');
            name.push_str(&part);
        }
        let args = if *self.peek() == Tok::LParen {
            self.bump();
            self.args(0)?
        } else {
            Vec::new()
        };
        Ok(Attr { name, pos, args })
    }

    /// After `(`: arguments up to and including `)`.
    fn args(&mut self, depth: usize) -> Result<Vec<Arg>, ImportError> {
        let mut args = Vec::new();
        loop {
            if *self.peek() == Tok::RParen {
                self.bump();
                return Ok(args);
            }
            let named = matches!(self.peek(), Tok::Ident(_))
                && self
                    .toks
                    .get(self.i + 1)
                    .is_some_and(|t| t.tok == Tok::Colon);
            let name = if named {
                let (n, _) = self.ident("an argument name")?;
                self.bump();
                Some(n)
            } else {
                None
            };
            let value = self.expr(depth + 1)?;
            args.push(Arg { name, value });
            match self.peek() {
                Tok::Comma => {
                    self.bump();
                }
                Tok::RParen => {}
                _ => return Err(self.unexpected("`,` or `)`")),
            }
        }
    }

    fn expr(&mut self, depth: usize) -> Result<Expr, ImportError> {
        if depth > MAX_DEPTH {
            return Err(self.pos().error("expression nested too deeply"));
        }
        match self.peek().clone() {
            Tok::Str(s) => {
                self.bump();
                Ok(Expr::Str(s))
            }
            Tok::Num(n) => {
                self.bump();
                Ok(Expr::Num(n))
            }
            Tok::Ident(mut name) => {
                self.bump();
                while *self.peek() == Tok::Dot {
                    self.bump();
                    let (part, _) = self.ident("a name after `.`")?;
                    name.push('.');
                    name.push_str(&part);
                }
                if *self.peek() == Tok::LParen {
                    self.bump();
                    let args = self.args(depth + 1)?;
                    Ok(Expr::Call { name, args })
                } else {
                    Ok(Expr::Ident(name))
                }
            }
            Tok::LBracket => {
                self.bump();
                let mut items = Vec::new();
                loop {
                    if *self.peek() == Tok::RBracket {
                        self.bump();
                        return Ok(Expr::List(items));
                    }
                    items.push(self.expr(depth + 1)?);
                    match self.peek() {
                        Tok::Comma => {
                            self.bump();
                        }
                        Tok::RBracket => {}
                        _ => return Err(self.unexpected("`,` or `]`")),
                    }
                }
            }
            _ => Err(self.unexpected("a value")),
        }
    }
}

/// The position of the token just consumed (the `@@` of a block attribute).
fn pos_before(p: &Parser) -> Pos {
    p.toks
        .get(p.i.saturating_sub(1))
        .map_or(Pos { line: 1, col: 1 }, |t| t.pos)
}

/// Parse a Prisma schema into its blocks.
pub(super) fn parse(text: &str) -> Result<Vec<Block>, ImportError> {
    let toks = lex(text)?;
    Parser { toks, i: 0 }.schema()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_fields_attributes_and_docs() {
        let blocks = parse(
            "/// Users.\nmodel User {\n  /// The key.\n  id Int @id @default(autoincrement())\n  name String? @db.VarChar(80)\n  @@map(\"users\")\n}\n",
        )
        .unwrap();
        let b = &blocks[0];
        assert_eq!(b.doc.as_deref(), Some("Users."));
        assert_eq!(b.fields[0].doc.as_deref(), Some("The key."));
        assert_eq!(b.fields[1].attrs[0].name, "db.VarChar");
        assert_eq!(b.attrs[0].pos, Pos { line: 6, col: 3 });
        assert_eq!(b.fields[0].attrs[1].args[0].value.text(), "autoincrement()");
    }

    #[test]
    fn block_comments_are_comments_and_doc_block_comments_document() {
        let blocks = parse(
            "/* header\n   over lines */\n/**\n * Users.\n */\nmodel User {\n  id Int @id /* inline */\n  /** The name. */\n  name String\n}\n",
        )
        .unwrap();
        let b = &blocks[0];
        assert_eq!(b.doc.as_deref(), Some("Users."));
        assert_eq!(b.fields[1].doc.as_deref(), Some("The name."));
        assert_eq!(b.fields[1].pos, Pos { line: 9, col: 3 });
        let e = parse("model A {\n  /* open\n}").unwrap_err();
        assert_eq!(e.location, crate::Location::LineCol { line: 2, column: 3 });
    }

    #[test]
    fn errors_carry_positions() {
        let e = parse("model A {\n  id Int @id\n  x \"y\"\n}").unwrap_err();
        assert_eq!(e.location, crate::Location::LineCol { line: 3, column: 5 });
        let e = parse("model A {\n  s String @default(\"abc\n}").unwrap_err();
        assert_eq!(
            e.location,
            crate::Location::LineCol {
                line: 2,
                column: 21
            }
        );
    }
}
