//! Sorting statements by their first words: what is parsed into the model,
//! what is skipped (and why), and what is not SQL at all.

use crate::ImportError;

use super::skips::{
    R_CLIENT, R_CODE, R_DATA, R_DATABASE, R_DROP, R_NOT_MODELLED, R_OWNER, R_PRIVILEGES,
    R_SEQUENCE, R_SESSION, R_TRANSACTION,
};
use super::split::{Chunk, ChunkKind, read_name};
use super::{Builder, Parsed, Pos, clip};

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

impl Builder<'_> {
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

    pub(super) fn classify(
        &mut self,
        chunk: &Chunk,
        out: &mut Vec<Parsed>,
    ) -> Result<(), ImportError> {
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
}
