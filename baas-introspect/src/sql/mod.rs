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
//!
//! The importer, by concern (private modules): `split` cuts the dump into
//! statements, `classify` sorts them by their first words, `parse` parses one
//! in the dump's dialect; the model is built by `tables` (tables, columns,
//! `ALTER TABLE`, partitions), `types` (enums and domains), `constraints` (keys
//! and indexes), `views` and `relations` (foreign keys), and put together by
//! `finish`; `skips` is the report of what was left out.
//!
//! [`SchemaMetadata`]: baas_core::SchemaMetadata
//! [`infer_relations`]: baas_core::relations::infer_relations

mod classify;
mod constraints;
mod finish;
mod parse;
mod relations;
mod skips;
mod split;
mod tables;
mod types;
mod views;

use std::collections::{HashMap, HashSet};

use baas_core::Entity;
use baas_sql::Dialect;
use sqlparser::ast::{ObjectName, ObjectNamePart, Statement, UserDefinedTypeRepresentation};
use sqlparser::dialect::{
    Dialect as ParserDialect, MySqlDialect, PostgreSqlDialect, SQLiteDialect,
};

use crate::{Import, ImportError, SqlFlavor};

use finish::PendingComment;
use relations::RawFk;
use skips::{R_NOT_MODELLED, Skips};
use split::{LineIndex, Splitter};
use types::DomainDef;

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
    b.prescan(&parsed);
    for p in &parsed {
        for stmt in &p.statements {
            b.apply(stmt, p)?;
        }
    }
    b.finish()
}

/// A 1-based line and column.
type Pos = (usize, usize);

/// Statements parsed from one chunk.
struct Parsed {
    pos: Pos,
    /// Byte offset of the statement in the source.
    start: usize,
    statements: Vec<Statement>,
}

/// A table or view of the dump, with what building it needs besides its
/// entity.
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
    /// SQLite: how many automatic indexes (`sqlite_autoindex_<table>_<n>`)
    /// its PRIMARY KEY and UNIQUE constraints have created so far.
    autoindexes: usize,
}

/// The model being built from the parsed statements, and the skips report.
/// Its methods live with their concern, in the submodules.
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
    /// Lower-cased `schema.table` of every table the dump creates, anywhere
    /// in it (a `pg_dump --clean` file drops them before creating them).
    created: HashSet<String>,
    virtual_tables: Vec<String>,
    skips: Skips,
}

/// The parts of a possibly qualified name, unquoted.
fn ident_parts(name: &ObjectName) -> Vec<String> {
    name.0
        .iter()
        .map(|p| match p {
            ObjectNamePart::Identifier(i) => i.value.clone(),
            other => other.to_string(),
        })
        .collect()
}

/// The last part of a possibly qualified name.
fn last_part(name: &ObjectName) -> String {
    ident_parts(name).pop().unwrap_or_default()
}

/// Cut `s` to at most `max` characters, marking the cut.
fn clip(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        Some((i, _)) => format!("{}…", s.get(..i).unwrap_or(s)),
        None => s.to_string(),
    }
}
impl<'a> Builder<'a> {
    /// An empty model for `flavor`, with the matching parser dialect.
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
            created: HashSet::new(),
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

    /// Add one parsed statement to the model.
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
}
