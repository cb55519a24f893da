//! Lexer and parser for GraphQL type-system documents (SDL), with line/column
//! tracking. Executable definitions (queries, fragments) are refused.

use crate::ImportError;

/// Deepest nesting of list types and values.
const MAX_DEPTH: usize = 64;

pub(super) use crate::Pos;

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Name(String),
    Int(String),
    Float(String),
    Str(String),
    /// One of `! $ & ( ) : = @ [ ] { | }`.
    Punct(char),
    Spread,
    Eof,
}

impl Tok {
    fn describe(&self) -> String {
        match self {
            Self::Name(s) => format!("`{s}`"),
            Self::Int(s) | Self::Float(s) => format!("number `{s}`"),
            Self::Str(_) => "a string".into(),
            Self::Punct(c) => format!("`{c}`"),
            Self::Spread => "`...`".into(),
            Self::Eof => "end of input".into(),
        }
    }
}

#[derive(Debug, Clone)]
struct Token {
    tok: Tok,
    pos: Pos,
}

struct Lexer {
    chars: Vec<char>,
    i: usize,
    line: usize,
    col: usize,
}

impl Lexer {
    fn at(&self, k: usize) -> Option<char> {
        self.chars.get(self.i + k).copied()
    }

    fn pos(&self) -> Pos {
        Pos {
            line: self.line,
            col: self.col,
        }
    }

    /// Advance one character, tracking lines (`\r\n`, `\n` and `\r`).
    fn advance(&mut self) -> Option<char> {
        let c = self.at(0)?;
        self.i += 1;
        if c == '\n' || (c == '\r' && self.at(0) != Some('\n')) {
            self.line += 1;
            self.col = 1;
        } else if c != '\r' {
            self.col += 1;
        }
        Some(c)
    }

    fn run(mut self) -> Result<Vec<Token>, ImportError> {
        let mut out = Vec::new();
        while let Some(c) = self.at(0) {
            let pos = self.pos();
            match c {
                ' ' | '\t' | '\n' | '\r' | ',' | '\u{feff}' => {
                    self.advance();
                }
                '#' => {
                    while self.at(0).is_some_and(|c| c != '\n' && c != '\r') {
                        self.advance();
                    }
                }
                '!' | '$' | '&' | '(' | ')' | ':' | '=' | '@' | '[' | ']' | '{' | '|' | '}' => {
                    self.advance();
                    out.push(Token {
                        tok: Tok::Punct(c),
                        pos,
                    });
                }
                '.' => {
                    if self.at(1) == Some('.') && self.at(2) == Some('.') {
                        self.advance();
                        self.advance();
                        self.advance();
                        out.push(Token {
                            tok: Tok::Spread,
                            pos,
                        });
                    } else {
                        return Err(pos.error("unexpected `.` (did you mean `...`?)"));
                    }
                }
                '"' => {
                    let tok = if self.at(1) == Some('"') && self.at(2) == Some('"') {
                        self.block_string(pos)?
                    } else {
                        self.string(pos)?
                    };
                    out.push(Token { tok, pos });
                }
                c if c == '-' || c.is_ascii_digit() => {
                    let tok = self.number(pos)?;
                    out.push(Token { tok, pos });
                }
                c if c == '_' || c.is_ascii_alphabetic() => {
                    let mut s = String::new();
                    while let Some(c) = self
                        .at(0)
                        .filter(|c| *c == '_' || c.is_ascii_alphanumeric())
                    {
                        s.push(c);
                        self.advance();
                    }
                    out.push(Token {
                        tok: Tok::Name(s),
                        pos,
                    });
                }
                other => {
                    return Err(
                        pos.error(format!("unexpected character `{}`", other.escape_debug()))
                    );
                }
            }
        }
        out.push(Token {
            tok: Tok::Eof,
            pos: self.pos(),
        });
        Ok(out)
    }

    fn number(&mut self, pos: Pos) -> Result<Tok, ImportError> {
        let mut s = String::new();
        let mut float = false;
        if self.at(0) == Some('-') {
            s.push('-');
            self.advance();
        }
        let digits = |lx: &mut Self, s: &mut String| -> usize {
            let mut n = 0;
            while let Some(d) = lx.at(0).filter(char::is_ascii_digit) {
                s.push(d);
                lx.advance();
                n += 1;
            }
            n
        };
        if digits(self, &mut s) == 0 {
            return Err(pos.error("expected digits in a number"));
        }
        if self.at(0) == Some('.') {
            float = true;
            s.push('.');
            self.advance();
            if digits(self, &mut s) == 0 {
                return Err(self.pos().error("expected digits after `.`"));
            }
        }
        if let Some(e) = self.at(0).filter(|c| *c == 'e' || *c == 'E') {
            float = true;
            s.push(e);
            self.advance();
            if let Some(sign) = self.at(0).filter(|c| *c == '+' || *c == '-') {
                s.push(sign);
                self.advance();
            }
            if digits(self, &mut s) == 0 {
                return Err(self.pos().error("expected digits in an exponent"));
            }
        }
        if self
            .at(0)
            .is_some_and(|c| c == '_' || c == '.' || c.is_ascii_alphabetic())
        {
            return Err(self.pos().error("invalid number"));
        }
        Ok(if float { Tok::Float(s) } else { Tok::Int(s) })
    }

    fn string(&mut self, pos: Pos) -> Result<Tok, ImportError> {
        self.advance();
        let mut s = String::new();
        loop {
            let here = self.pos();
            match self.advance() {
                None | Some('\n' | '\r') => return Err(pos.error("unterminated string")),
                Some('"') => return Ok(Tok::Str(s)),
                Some('\\') => match self.advance() {
                    Some('"') => s.push('"'),
                    Some('\\') => s.push('\\'),
                    Some('/') => s.push('/'),
                    Some('b') => s.push('\u{8}'),
                    Some('f') => s.push('\u{c}'),
                    Some('n') => s.push('\n'),
                    Some('r') => s.push('\r'),
                    Some('t') => s.push('\t'),
                    Some('u') => {
                        let mut hex = String::new();
                        if self.at(0) == Some('{') {
                            self.advance();
                            while let Some(h) = self.at(0).filter(char::is_ascii_hexdigit) {
                                if hex.len() > 6 {
                                    break;
                                }
                                hex.push(h);
                                self.advance();
                            }
                            if self.advance() != Some('}') {
                                return Err(here.error("invalid unicode escape"));
                            }
                        } else {
                            for _ in 0..4 {
                                match self.at(0).filter(char::is_ascii_hexdigit) {
                                    Some(h) => {
                                        hex.push(h);
                                        self.advance();
                                    }
                                    None => return Err(here.error("invalid unicode escape")),
                                }
                            }
                        }
                        match u32::from_str_radix(&hex, 16).ok().and_then(char::from_u32) {
                            Some(c) => s.push(c),
                            // A lone surrogate (half of a pair): keep a replacement.
                            None if !hex.is_empty() => s.push('\u{fffd}'),
                            None => return Err(here.error("invalid unicode escape")),
                        }
                    }
                    _ => return Err(here.error("invalid escape sequence")),
                },
                Some(c) => s.push(c),
            }
        }
    }

    fn block_string(&mut self, pos: Pos) -> Result<Tok, ImportError> {
        for _ in 0..3 {
            self.advance();
        }
        let mut raw = String::new();
        loop {
            if self.at(0) == Some('"') && self.at(1) == Some('"') && self.at(2) == Some('"') {
                for _ in 0..3 {
                    self.advance();
                }
                return Ok(Tok::Str(block_string_value(&raw)));
            }
            if self.at(0) == Some('\\')
                && self.at(1) == Some('"')
                && self.at(2) == Some('"')
                && self.at(3) == Some('"')
            {
                for _ in 0..4 {
                    self.advance();
                }
                raw.push_str("\"\"\"");
                continue;
            }
            match self.advance() {
                None => return Err(pos.error("unterminated block string")),
                Some(c) => raw.push(c),
            }
        }
    }
}

/// The GraphQL `BlockStringValue` algorithm: common indentation and blank
/// first/last lines removed.
fn block_string_value(raw: &str) -> String {
    let lines: Vec<&str> = raw
        .split(['\n'])
        .map(|l| l.trim_end_matches('\r'))
        .collect();
    let indent = lines
        .iter()
        .skip(1)
        .filter_map(|l| {
            let n = l.chars().take_while(|c| *c == ' ' || *c == '\t').count();
            (n < l.chars().count()).then_some(n)
        })
        .min()
        .unwrap_or(0);
    let mut out: Vec<String> = lines
        .iter()
        .enumerate()
        .map(|(i, l)| {
            if i == 0 {
                (*l).to_string()
            } else {
                l.chars().skip(indent).collect()
            }
        })
        .collect();
    while out.first().is_some_and(|l| l.trim().is_empty()) {
        out.remove(0);
    }
    while out.last().is_some_and(|l| l.trim().is_empty()) {
        out.pop();
    }
    out.join("\n")
}

/// A constant value (directive arguments, default values).
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Value {
    Null,
    Int(String),
    Float(String),
    Str(String),
    Bool(bool),
    Enum(String),
    List(Vec<Value>),
    Object(Vec<(String, Value)>),
}

impl Value {
    /// The value as text: strings unquoted, lists and objects in GraphQL syntax.
    pub fn text(&self) -> String {
        match self {
            Self::Str(s) => s.clone(),
            other => other.source(),
        }
    }

    fn source(&self) -> String {
        match self {
            Self::Null => "null".into(),
            Self::Int(n) | Self::Float(n) | Self::Enum(n) => n.clone(),
            Self::Str(s) => format!("{s:?}"),
            Self::Bool(b) => b.to_string(),
            Self::List(items) => {
                let items: Vec<String> = items.iter().map(Self::source).collect();
                format!("[{}]", items.join(", "))
            }
            Self::Object(fields) => {
                let fields: Vec<String> = fields
                    .iter()
                    .map(|(k, v)| format!("{k}: {}", v.source()))
                    .collect();
                format!("{{{}}}", fields.join(", "))
            }
        }
    }
}

/// `@name(arg: value, …)`.
#[derive(Debug, Clone)]
pub(super) struct Directive {
    pub name: String,
    pub args: Vec<(String, Value)>,
}

/// A type reference: `Name`, `[T]`, `T!`.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum TypeRef {
    Named(String, Pos),
    List(Box<TypeRef>),
    NonNull(Box<TypeRef>),
}

impl TypeRef {
    /// The innermost named type and its position.
    pub fn base(&self) -> (&str, Pos) {
        let mut t = self;
        loop {
            match t {
                Self::Named(n, p) => return (n, *p),
                Self::List(inner) | Self::NonNull(inner) => t = inner,
            }
        }
    }

    pub fn non_null(&self) -> bool {
        matches!(self, Self::NonNull(_))
    }

    /// Without the outer `!`.
    pub fn nullable_inner(&self) -> &TypeRef {
        match self {
            Self::NonNull(inner) => inner,
            other => other,
        }
    }

    pub fn is_list(&self) -> bool {
        matches!(self.nullable_inner(), Self::List(_))
    }
}

/// A field of an object, interface or input type.
#[derive(Debug, Clone)]
pub(super) struct FieldDef {
    pub name: String,
    pub pos: Pos,
    pub description: Option<String>,
    pub ty: TypeRef,
    pub directives: Vec<Directive>,
    /// Names of the field's arguments (`repository(name: String!)`).
    pub args: Vec<String>,
}

impl FieldDef {
    pub fn has_directive(&self, name: &str) -> bool {
        self.directives.iter().any(|d| d.name == name)
    }

    /// The argument `arg` (or the only argument) of directive `name`.
    pub fn directive_arg(&self, name: &str, arg: &str) -> Option<&Value> {
        let d = self.directives.iter().find(|d| d.name == name)?;
        d.args
            .iter()
            .find(|(n, _)| n == arg)
            .or(match d.args.as_slice() {
                [only] => Some(only),
                _ => None,
            })
            .map(|(_, v)| v)
    }
}

/// The kind of a definition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum DefKind {
    Schema,
    Scalar,
    Object,
    Interface,
    Union,
    Enum,
    Input,
    Directive,
}

impl DefKind {
    pub fn keyword(self) -> &'static str {
        match self {
            Self::Schema => "schema",
            Self::Scalar => "scalar",
            Self::Object => "type",
            Self::Interface => "interface",
            Self::Union => "union",
            Self::Enum => "enum",
            Self::Input => "input",
            Self::Directive => "directive",
        }
    }
}

/// A type-system definition or extension.
#[derive(Debug, Clone)]
pub(super) struct Def {
    pub kind: DefKind,
    pub extend: bool,
    /// Empty for `schema`.
    pub name: String,
    pub pos: Pos,
    pub name_pos: Pos,
    pub description: Option<String>,
    pub fields: Vec<FieldDef>,
    /// Enum values (name, description).
    pub values: Vec<(String, Option<String>)>,
    /// Root operation types of `schema { query: Q }`: (operation, type).
    pub operations: Vec<(String, String)>,
}

struct Parser {
    toks: Vec<Token>,
    i: usize,
}

impl Parser {
    fn peek(&self) -> &Tok {
        self.toks.get(self.i).map_or(&Tok::Eof, |t| &t.tok)
    }

    fn peek_at(&self, k: usize) -> &Tok {
        self.toks.get(self.i + k).map_or(&Tok::Eof, |t| &t.tok)
    }

    fn pos(&self) -> Pos {
        self.toks
            .get(self.i)
            .or_else(|| self.toks.last())
            .map_or(Pos { line: 1, col: 1 }, |t| t.pos)
    }

    fn bump(&mut self) -> Tok {
        let t = self.peek().clone();
        if self.i < self.toks.len() {
            self.i += 1;
        }
        t
    }

    fn is_punct(&self, c: char) -> bool {
        *self.peek() == Tok::Punct(c)
    }

    fn is_name(&self, name: &str) -> bool {
        matches!(self.peek(), Tok::Name(n) if n == name)
    }

    fn unexpected(&self, expected: &str) -> ImportError {
        self.pos().error(format!(
            "expected {expected}, found {}",
            self.peek().describe()
        ))
    }

    fn punct(&mut self, c: char) -> Result<(), ImportError> {
        if self.is_punct(c) {
            self.bump();
            Ok(())
        } else {
            Err(self.unexpected(&format!("`{c}`")))
        }
    }

    fn name(&mut self, expected: &str) -> Result<(String, Pos), ImportError> {
        let pos = self.pos();
        match self.peek() {
            Tok::Name(n) => {
                let n = n.clone();
                self.bump();
                Ok((n, pos))
            }
            _ => Err(self.unexpected(expected)),
        }
    }

    fn description(&mut self) -> Option<String> {
        match self.peek() {
            Tok::Str(s) => {
                let s = s.clone();
                self.bump();
                Some(s)
            }
            _ => None,
        }
    }

    fn document(&mut self) -> Result<Vec<Def>, ImportError> {
        let mut defs = Vec::new();
        while *self.peek() != Tok::Eof {
            defs.push(self.definition()?);
        }
        Ok(defs)
    }

    fn definition(&mut self) -> Result<Def, ImportError> {
        let pos = self.pos();
        let description = self.description();
        let extend = self.is_name("extend");
        if extend {
            if description.is_some() {
                return Err(self.pos().error("extensions cannot have a description"));
            }
            self.bump();
        }
        let kw_pos = self.pos();
        let kw = match self.peek() {
            Tok::Name(n) => n.clone(),
            Tok::Punct('{') => {
                return Err(kw_pos
                    .error("executable definitions (queries) are not part of a schema document"));
            }
            _ => return Err(self.unexpected("a definition")),
        };
        let kind = match kw.as_str() {
            "schema" => DefKind::Schema,
            "scalar" => DefKind::Scalar,
            "type" => DefKind::Object,
            "interface" => DefKind::Interface,
            "union" => DefKind::Union,
            "enum" => DefKind::Enum,
            "input" => DefKind::Input,
            "directive" if !extend => DefKind::Directive,
            "query" | "mutation" | "subscription" | "fragment" => {
                return Err(kw_pos.error(format!(
                    "executable definitions (`{kw}`) are not part of a schema document"
                )));
            }
            other => {
                return Err(kw_pos.error(format!(
                    "expected a type-system definition (`type`, `enum`, `scalar`, …), found `{other}`"
                )));
            }
        };
        self.bump();
        let mut def = Def {
            kind,
            extend,
            name: String::new(),
            pos: if extend { kw_pos } else { pos },
            name_pos: kw_pos,
            description,
            fields: Vec::new(),
            values: Vec::new(),
            operations: Vec::new(),
        };
        match kind {
            DefKind::Schema => {
                self.directives()?;
                if self.is_punct('{') {
                    self.bump();
                    while !self.is_punct('}') {
                        let (op, _) = self.name("`query`, `mutation` or `subscription`")?;
                        self.punct(':')?;
                        let (ty, _) = self.name("a type name")?;
                        def.operations.push((op, ty));
                    }
                    self.bump();
                } else if !extend {
                    return Err(self.unexpected("`{`"));
                }
            }
            DefKind::Directive => {
                self.punct('@')?;
                let (name, npos) = self.name("a directive name")?;
                def.name = name;
                def.name_pos = npos;
                if self.is_punct('(') {
                    self.arguments_definition()?;
                }
                if self.is_name("repeatable") {
                    self.bump();
                }
                if !self.is_name("on") {
                    return Err(self.unexpected("`on`"));
                }
                self.bump();
                if self.is_punct('|') {
                    self.bump();
                }
                self.name("a directive location")?;
                while self.is_punct('|') {
                    self.bump();
                    self.name("a directive location")?;
                }
            }
            _ => {
                let (name, npos) = self.name(&format!("a name after `{kw}`"))?;
                def.name = name;
                def.name_pos = npos;
                if matches!(kind, DefKind::Object | DefKind::Interface)
                    && self.is_name("implements")
                {
                    self.bump();
                    if self.is_punct('&') {
                        self.bump();
                    }
                    self.name("an interface name")?;
                    loop {
                        if self.is_punct('&') {
                            self.bump();
                            self.name("an interface name")?;
                        } else if matches!(self.peek(), Tok::Name(_)) && !self.is_keyword_start() {
                            // Legacy `implements A, B` (commas are ignored).
                            self.bump();
                        } else {
                            break;
                        }
                    }
                }
                self.directives()?;
                match kind {
                    DefKind::Object | DefKind::Interface | DefKind::Input if self.is_punct('{') => {
                        def.fields = self.fields(kind == DefKind::Input)?;
                    }
                    DefKind::Enum if self.is_punct('{') => {
                        self.bump();
                        while !self.is_punct('}') {
                            let d = self.description();
                            let (v, vpos) = self.name("an enum value")?;
                            if matches!(v.as_str(), "true" | "false" | "null") {
                                return Err(vpos.error(format!("`{v}` cannot be an enum value")));
                            }
                            self.directives()?;
                            def.values.push((v, d));
                        }
                        self.bump();
                    }
                    DefKind::Union if self.is_punct('=') => {
                        self.bump();
                        if self.is_punct('|') {
                            self.bump();
                        }
                        self.name("a member type")?;
                        while self.is_punct('|') {
                            self.bump();
                            self.name("a member type")?;
                        }
                    }
                    _ => {}
                }
            }
        }
        Ok(def)
    }

    /// Whether the current name starts a new definition (so a bare name
    /// after `implements A` is not taken as another interface).
    fn is_keyword_start(&self) -> bool {
        matches!(
            self.peek(),
            Tok::Name(n) if matches!(
                n.as_str(),
                "type" | "interface" | "union" | "enum" | "input" | "scalar" | "schema"
                    | "directive" | "extend"
            )
        ) && matches!(
            self.peek_at(1),
            Tok::Name(_) | Tok::Punct('{') | Tok::Punct('@')
        )
    }

    fn fields(&mut self, input: bool) -> Result<Vec<FieldDef>, ImportError> {
        self.punct('{')?;
        let mut out = Vec::new();
        while !self.is_punct('}') {
            let description = self.description();
            let (name, pos) = self.name("a field name or `}`")?;
            let mut args = Vec::new();
            if !input && self.is_punct('(') {
                args = self.arguments_definition()?;
            }
            self.punct(':')?;
            let ty = self.type_ref(0)?;
            if input && self.is_punct('=') {
                self.bump();
                self.value(0)?;
            }
            let directives = self.directives()?;
            out.push(FieldDef {
                name,
                pos,
                description,
                ty,
                directives,
                args,
            });
        }
        self.bump();
        Ok(out)
    }

    /// After a field or directive name: `(name: Type = default @d, …)`; the
    /// argument names.
    fn arguments_definition(&mut self) -> Result<Vec<String>, ImportError> {
        self.punct('(')?;
        let mut names = Vec::new();
        while !self.is_punct(')') {
            self.description();
            let (name, _) = self.name("an argument name")?;
            names.push(name);
            self.punct(':')?;
            self.type_ref(0)?;
            if self.is_punct('=') {
                self.bump();
                self.value(0)?;
            }
            self.directives()?;
        }
        self.bump();
        Ok(names)
    }

    fn type_ref(&mut self, depth: usize) -> Result<TypeRef, ImportError> {
        if depth > MAX_DEPTH {
            return Err(self.pos().error("type nested too deeply"));
        }
        let t = if self.is_punct('[') {
            self.bump();
            let inner = self.type_ref(depth + 1)?;
            self.punct(']')?;
            TypeRef::List(Box::new(inner))
        } else {
            let (n, p) = self.name("a type")?;
            TypeRef::Named(n, p)
        };
        if self.is_punct('!') {
            self.bump();
            return Ok(TypeRef::NonNull(Box::new(t)));
        }
        Ok(t)
    }

    fn directives(&mut self) -> Result<Vec<Directive>, ImportError> {
        let mut out = Vec::new();
        while self.is_punct('@') {
            self.bump();
            let (name, _) = self.name("a directive name")?;
            let mut args = Vec::new();
            if self.is_punct('(') {
                self.bump();
                while !self.is_punct(')') {
                    let (n, _) = self.name("an argument name")?;
                    self.punct(':')?;
                    args.push((n, self.value(0)?));
                }
                self.bump();
            }
            out.push(Directive { name, args });
        }
        Ok(out)
    }

    fn value(&mut self, depth: usize) -> Result<Value, ImportError> {
        if depth > MAX_DEPTH {
            return Err(self.pos().error("value nested too deeply"));
        }
        Ok(match self.peek().clone() {
            Tok::Int(n) => {
                self.bump();
                Value::Int(n)
            }
            Tok::Float(n) => {
                self.bump();
                Value::Float(n)
            }
            Tok::Str(s) => {
                self.bump();
                Value::Str(s)
            }
            Tok::Name(n) => {
                self.bump();
                match n.as_str() {
                    "true" => Value::Bool(true),
                    "false" => Value::Bool(false),
                    "null" => Value::Null,
                    _ => Value::Enum(n),
                }
            }
            Tok::Punct('[') => {
                self.bump();
                let mut items = Vec::new();
                while !self.is_punct(']') {
                    items.push(self.value(depth + 1)?);
                }
                self.bump();
                Value::List(items)
            }
            Tok::Punct('{') => {
                self.bump();
                let mut fields = Vec::new();
                while !self.is_punct('}') {
                    let (n, _) = self.name("a field name")?;
                    self.punct(':')?;
                    fields.push((n, self.value(depth + 1)?));
                }
                self.bump();
                Value::Object(fields)
            }
            Tok::Punct('$') => {
                return Err(self
                    .pos()
                    .error("variables are not allowed in a schema document"));
            }
            _ => return Err(self.unexpected("a value")),
        })
    }
}

/// Parse a GraphQL SDL document.
pub(super) fn parse(text: &str) -> Result<Vec<Def>, ImportError> {
    let toks = Lexer {
        chars: text.chars().collect(),
        i: 0,
        line: 1,
        col: 1,
    }
    .run()?;
    Parser { toks, i: 0 }.document()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn block_strings_are_dedented() {
        assert_eq!(
            block_string_value("\n    Hello,\n      World!\n\n    Yours,\n      GraphQL.\n  "),
            "Hello,\n  World!\n\nYours,\n  GraphQL."
        );
    }

    #[test]
    fn parses_types_with_descriptions() {
        let defs = parse(
            "\"\"\"A user.\"\"\"\ntype User implements Node & Entity @key(fields: \"id\") {\n  \"the key\" id: ID!\n  posts(first: Int = 10): [Post!]!\n}\nenum Role { ADMIN USER }\n",
        )
        .unwrap();
        assert_eq!(defs[0].description.as_deref(), Some("A user."));
        assert_eq!(defs[0].fields[0].description.as_deref(), Some("the key"));
        assert!(defs[0].fields[1].ty.is_list());
        assert_eq!(defs[1].values.len(), 2);
    }

    #[test]
    fn errors_have_positions() {
        let e = parse("type A {\n  id: ID!\n  name String\n}").unwrap_err();
        assert_eq!(e.location, crate::Location::LineCol { line: 3, column: 8 });
        let e = parse("type A {\n  id: [ID!\n}").unwrap_err();
        assert_eq!(e.location, crate::Location::LineCol { line: 3, column: 1 });
    }
}
