//! Pure lowering of validated IR to BSON: filters, aggregation pipelines for
//! reads, counts and aggregates, and the documents of writes. Nothing here
//! touches the network, so every construct is snapshot-tested
//! (`tests/snapshots_bson.rs`).
//!
//! Safety: document keys come only from metadata (checked by [`storage_key`]),
//! user values are converted by the field's type into typed BSON scalars and
//! always sit behind an explicit operator (`$eq`, `$in`, …) or `$literal`, so a
//! value can never become an operator, a field path or JavaScript (`$where`
//! is never produced).

use baas_core::ir::{
    AVERAGE_COUNT, Aggregate, AggregateFn, ArrayOp, CompareOp, Direction, Embed, Filter,
    GroupValue, IsValue, Nulls, OrderBy, Query,
};
use baas_core::text_query::{ASCII_SEPARATED_WORD, TextQuery, term_pattern, words_as_written};
use baas_core::{
    Entity, Error, Field, FieldType, RelationKind, Result, SchemaMetadata, Target, TypedRecord,
    Value,
};
use bson::{Bson, Document, doc};

/// The engine name used in errors.
pub const ENGINE: &str = "mongodb";

/// Prefix of the helper fields the pipelines add (never a metadata column).
const HELPER: &str = "__baas_";

/// Where a field lives in a document: `_id` for the sole primary-key field,
/// its column otherwise. Columns that MongoDB would read as an operator or a
/// path (`$…`, dotted, NUL, empty, or the helper prefix) are refused.
pub fn storage_key<'e>(entity: &'e Entity, field: &'e Field) -> Result<&'e str> {
    if entity.primary_key.len() == 1 && entity.primary_key[0] == field.name {
        return Ok("_id");
    }
    let c = field.column();
    if c.is_empty()
        || c.starts_with('$')
        || c.contains('.')
        || c.contains('\0')
        || c.starts_with(HELPER)
        || c == "_id"
    {
        return Err(Error::validation(
            "",
            format!(
                "column `{c}` of `{}.{}` cannot be used as a MongoDB field name",
                entity.name, field.name
            ),
        ));
    }
    Ok(c)
}

fn key_of<'e>(entity: &'e Entity, name: &str) -> Result<(&'e Field, &'e str)> {
    let f = entity.field(name)?;
    Ok((f, storage_key(entity, f)?))
}

/// A collection name from metadata, refused when MongoDB would not accept it.
pub fn collection_name(entity: &Entity) -> Result<&str> {
    let t = entity.source.table.as_str();
    if t.is_empty() || t.starts_with("system.") || t.contains(['$', '\0']) {
        return Err(Error::validation(
            "",
            format!("`{t}` cannot be used as a MongoDB collection name"),
        ));
    }
    Ok(t)
}

/// A typed value as BSON, by the field type. `value` is already of the
/// field's type (validation converted it: [`baas_core::Checked`]); a value
/// of another kind is refused, never guessed.
pub fn to_bson(ty: &FieldType, value: &Value) -> Result<Bson> {
    Ok(match (ty, value) {
        (_, Value::Null) => Bson::Null,
        (FieldType::Int16 | FieldType::Int32, Value::Int(i)) => match i32::try_from(*i) {
            Ok(i) => Bson::Int32(i),
            Err(_) => Bson::Int64(*i),
        },
        (FieldType::Int64, Value::Int(i)) => Bson::Int64(*i),
        (_, Value::Int(i)) => Bson::Int64(*i),
        // Stored as the f32 it is, as the SQL engines bind it, so that
        // writes and filters agree.
        (FieldType::Float32, Value::Float(f)) => Bson::Double(f64::from(*f as f32)),
        (_, Value::Float(f)) => Bson::Double(*f),
        (_, Value::Bool(b)) => Bson::Boolean(*b),
        (FieldType::ObjectId, Value::Text(s)) => Bson::ObjectId(
            bson::oid::ObjectId::parse_str(s)
                .map_err(|_| Error::validation("", format!("`{s}` is not an ObjectId")))?,
        ),
        (_, Value::Text(s)) => Bson::String(s.clone()),
        (_, Value::Decimal(s)) => Bson::Decimal128(
            s.parse()
                .map_err(|_| Error::validation("", format!("`{s}` does not fit a Decimal128")))?,
        ),
        (_, Value::Bytes(b)) => Bson::Binary(bson::Binary {
            subtype: bson::spec::BinarySubtype::Generic,
            bytes: b.clone(),
        }),
        (_, Value::Uuid(u)) => Bson::Binary(bson::Binary {
            subtype: bson::spec::BinarySubtype::Uuid,
            bytes: u.as_bytes().to_vec(),
        }),
        (_, Value::Date(d)) => Bson::DateTime(bson::DateTime::from_chrono(
            d.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc(),
        )),
        (_, Value::Timestamp(t)) => Bson::DateTime(bson::DateTime::from_chrono(t.and_utc())),
        (_, Value::TimestampTz(t)) => Bson::DateTime(bson::DateTime::from_chrono(*t)),
        // No BSON time-of-day type: the canonical text sorts correctly.
        (_, Value::Time(t)) => Bson::String(baas_core::value::format_time_stored(*t)),
        (_, Value::Json(j)) => json_to_bson(j),
        (FieldType::Array { items }, Value::Array(a)) => Bson::Array(
            a.iter()
                .map(|x| to_bson(items, x))
                .collect::<Result<Vec<_>>>()?,
        ),
        (_, Value::Array(a)) => Bson::Array(a.iter().map(|x| json_to_bson(&x.to_json())).collect()),
        (_, other) => {
            return Err(Error::validation(
                "",
                format!("cannot store a {} as {}", other.kind_name(), ty.name()),
            ));
        }
    })
}

/// Arbitrary JSON as BSON (a `json` field's content is data, stored as is).
pub fn json_to_bson(j: &serde_json::Value) -> Bson {
    use serde_json::Value as J;
    match j {
        J::Null => Bson::Null,
        J::Bool(b) => Bson::Boolean(*b),
        J::Number(n) => match n.as_i64() {
            Some(i) => match i32::try_from(i) {
                Ok(i) => Bson::Int32(i),
                Err(_) => Bson::Int64(i),
            },
            None => Bson::Double(n.as_f64().unwrap_or(f64::NAN)),
        },
        J::String(s) => Bson::String(s.clone()),
        J::Array(a) => Bson::Array(a.iter().map(json_to_bson).collect()),
        J::Object(m) => Bson::Document(
            m.iter()
                .map(|(k, v)| (k.clone(), json_to_bson(v)))
                .collect(),
        ),
    }
}

fn always(b: bool) -> Document {
    if b {
        Document::new()
    } else {
        doc! {"$expr": false}
    }
}

fn cmp_op(op: CompareOp) -> &'static str {
    match op {
        CompareOp::Eq => "$eq",
        CompareOp::Neq => "$ne",
        CompareOp::Gt => "$gt",
        CompareOp::Gte => "$gte",
        CompareOp::Lt => "$lt",
        CompareOp::Lte => "$lte",
    }
}

/// The complement of an ordered comparison on non-null values.
fn flip(op: CompareOp) -> CompareOp {
    match op {
        CompareOp::Eq => CompareOp::Neq,
        CompareOp::Neq => CompareOp::Eq,
        CompareOp::Gt => CompareOp::Lte,
        CompareOp::Gte => CompareOp::Lt,
        CompareOp::Lt => CompareOp::Gte,
        CompareOp::Lte => CompareOp::Gt,
    }
}

/// A SQL `LIKE` pattern as an anchored regular expression: `%` → `.*`, `_` →
/// `.`, `\x` → literal `x`; every other character is literal (ASCII
/// punctuation escaped). The end anchor `(?!.)` (with the `s` option) is the
/// absolute end of the text, unlike `$`, which also matches before a final
/// newline.
pub fn like_to_regex(pattern: &str) -> String {
    let mut out = String::from("^");
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        match c {
            '%' => out.push_str(".*"),
            '_' => out.push('.'),
            '\\' => match chars.next() {
                Some(n) => push_literal(&mut out, n),
                None => push_literal(&mut out, '\\'),
            },
            c => push_literal(&mut out, c),
        }
    }
    out.push_str("(?!.)");
    out
}

fn push_literal(out: &mut String, c: char) {
    if c.is_ascii_punctuation() || c == ' ' {
        if c == ' ' {
            out.push(' ');
            return;
        }
        out.push('\\');
    }
    out.push(c);
}

/// `{$regex, $options}` in string form: the portable spelling (a BSON
/// regular-expression value is mangled by some MongoDB-wire servers).
fn regex(pattern: &str, ci: bool) -> Result<Document> {
    if pattern.contains('\0') {
        return Err(Error::validation(
            "/pattern",
            "the pattern contains a NUL character",
        ));
    }
    Ok(doc! {"$regex": like_to_regex(pattern), "$options": if ci { "is" } else { "s" }})
}

/// The string at `path` inside the JSON field `key` matches `re` (a
/// `$regex` / `$options` document), or with `neg` does not: a value there
/// that is missing or not a string matches neither (`Filter::JsonLike`,
/// `Filter::Regex` at a path).
fn json_string_matches(key: &str, path: &[String], re: Document, neg: bool) -> Document {
    // The text of a scalar (`->>`: a string, a number's `$toString`,
    // `true`/`false`), matching or (negated) not, at the path as
    // `value_at` walks it: a dotted path would also look into an array's
    // elements. Nothing else matches either.
    let text = scalar_text(&value_at(key, path));
    let mut matches = doc! {"$regexMatch": {
        "input": {"$ifNull": ["$$jt", ""]},
        // Operands of an expression: literals, or a `$…` pattern would be
        // read as a field path or a variable.
        "regex": {"$literal": re.get("$regex").cloned().unwrap_or(Bson::Null)},
        "options": {"$literal": re.get("$options").cloned().unwrap_or(Bson::Null)},
    }};
    if neg {
        matches = doc! {"$not": [matches]};
    }
    doc! {"$expr": {"$let": {
        "vars": {"jt": text},
        "in": {"$cond": [{"$eq": [{"$ifNull": ["$$jt", Bson::Null]}, Bson::Null]}, false, matches]},
    }}}
}

/// The text of the scalar `v` (`->>`: a string, a number's `$toString`,
/// `true`/`false`), `null` for anything else (missing, JSON `null`, an
/// array, an object). `v` is bound once (`$let`): an expression walking a path is not
/// repeated per branch.
fn scalar_text(v: &Bson) -> Document {
    doc! {"$let": {"vars": {"sv": v.clone()}, "in": {"$switch": {
        "branches": [
            {"case": {"$eq": [{"$type": "$$sv"}, "string"]}, "then": "$$sv"},
            {"case": {"$isNumber": "$$sv"}, "then": {"$toString": "$$sv"}},
            {"case": {"$eq": [{"$type": "$$sv"}, "bool"]}, "then": {"$cond": ["$$sv", "true", "false"]}},
        ],
        "default": Bson::Null,
    }}}}
}

/// The text at `path` inside the JSON field `key` (as `scalar_text`)
/// compared with `value` (`Filter::JsonText`; `op` already the complement
/// when negated): strings compare by bytes; a value there that is no
/// scalar matches nothing.
fn json_text_compares(key: &str, path: &[String], op: CompareOp, value: &str) -> Document {
    doc! {"$expr": {"$let": {
        "vars": {"jt": scalar_text(&value_at(key, path))},
        "in": {"$and": [
            {"$eq": [{"$type": "$$jt"}, "string"]},
            // A literal: `$x` would be a field path, `$$x` a variable.
            {cmp_op(op): ["$$jt", {"$literal": value}]},
        ]},
    }}}
}

/// A full-text query on the string field `key`: each word or phrase a
/// case-insensitive `$regex` bounded by what is no word character
/// ([`term_pattern`] of [`ASCII_SEPARATED_WORD`]: MongoDB's PCRE has no
/// Unicode classes, its `\w` is ASCII), composed with `$and`, `$or`, `$nor`; negated, a
/// string that does not match (a missing or null field matches neither).
fn text_search_field(key: &str, q: &TextQuery, neg: bool) -> Document {
    fn build(key: &str, q: &TextQuery) -> Document {
        match q {
            TextQuery::Term { words, prefix } => {
                doc! {key: {"$regex": term_pattern(words, *prefix, ASCII_SEPARATED_WORD), "$options": "i"}}
            }
            TextQuery::Or(parts) if parts.is_empty() => always(false),
            TextQuery::And(parts) => {
                doc! {"$and": parts.iter().map(|p| build(key, p)).collect::<Vec<_>>()}
            }
            TextQuery::Or(parts) => {
                doc! {"$or": parts.iter().map(|p| build(key, p)).collect::<Vec<_>>()}
            }
            TextQuery::Not(inner) => doc! {"$nor": [build(key, inner)]},
        }
    }
    let matches = build(key, q);
    if neg {
        doc! {"$and": [{key: {"$type": "string"}}, {"$nor": [matches]}]}
    } else {
        doc! {"$and": [{key: {"$type": "string"}}, matches]}
    }
}

/// A full-text query on the text at `path` inside the JSON field `key`
/// (a scalar's, as `->>` gives it: [`scalar_text`]), as
/// [`text_search_field`] composes it, in an `$expr` (`$regexMatch`, the
/// patterns `$literal`s).
fn text_search_at(key: &str, path: &[String], q: &TextQuery, neg: bool) -> Document {
    fn build(q: &TextQuery) -> Bson {
        match q {
            TextQuery::Term { words, prefix } => Bson::Document(doc! {"$regexMatch": {
                "input": {"$ifNull": ["$$jt", ""]},
                "regex": {"$literal": term_pattern(words, *prefix, ASCII_SEPARATED_WORD)},
                "options": "i",
            }}),
            TextQuery::And(parts) => {
                Bson::Document(doc! {"$and": parts.iter().map(build).collect::<Vec<_>>()})
            }
            TextQuery::Or(parts) => {
                Bson::Document(doc! {"$or": parts.iter().map(build).collect::<Vec<_>>()})
            }
            TextQuery::Not(inner) => Bson::Document(doc! {"$not": [build(inner)]}),
        }
    }
    let mut matches = build(q);
    if neg {
        matches = Bson::Document(doc! {"$not": [matches]});
    }
    doc! {"$expr": {"$let": {
        "vars": {"jt": scalar_text(&value_at(key, path))},
        "in": {"$and": [{"$eq": [{"$type": "$$jt"}, "string"]}, matches]},
    }}}
}

/// Whether a JSON path key can be written in MongoDB's dotted notation.
fn plain_key(k: &str) -> bool {
    !k.is_empty()
        && !k.contains(['.', '\0'])
        && !k.starts_with('$')
        && baas_core::ir::index_from_end(k).is_none()
}

/// Lowers filters of one entity; `$lookup` stages needed by `exists`
/// conditions are collected in `lookups` and must run before the `$match`.
struct FilterLower<'a> {
    schema: &'a SchemaMetadata,
    lookups: Vec<Document>,
    /// Shared counter so helper names are unique across nesting levels.
    next: &'a std::cell::Cell<usize>,
}

impl<'a> FilterLower<'a> {
    fn fresh(&self, prefix: &str) -> String {
        let n = self.next.get();
        self.next.set(n + 1);
        format!("{HELPER}{prefix}{n}")
    }

    fn lower(&mut self, e: &'a Entity, f: &Filter, neg: bool) -> Result<Document> {
        Ok(match f {
            Filter::And { filters } | Filter::Or { filters } => {
                let is_and = matches!(f, Filter::And { .. });
                // De Morgan: NOT(a AND b) = NOT a OR NOT b, and vice versa.
                let conj = is_and != neg;
                if filters.is_empty() {
                    return Ok(always(conj));
                }
                if filters.len() == 1 {
                    return self.lower(e, &filters[0], neg);
                }
                let parts = filters
                    .iter()
                    .map(|g| self.lower(e, g, neg).map(Bson::Document))
                    .collect::<Result<Vec<_>>>()?;
                if conj {
                    doc! {"$and": parts}
                } else {
                    doc! {"$or": parts}
                }
            }
            Filter::Not { filter } => self.lower(e, filter, !neg)?,
            Filter::Compare { field, op, value } => {
                let (fd, key) = key_of(e, field)?;
                if value.is_null() {
                    return Err(Error::validation(
                        "/value",
                        "comparing with null never matches; use `is null`",
                    ));
                }
                let v = to_bson(&fd.ty, value)?;
                let op = if neg { flip(*op) } else { *op };
                match op {
                    // Three-valued logic: `<>` never matches null or a missing field.
                    CompareOp::Neq => doc! {key: {"$nin": [v, Bson::Null]}},
                    op => doc! {key: {cmp_op(op): v}},
                }
            }
            Filter::In { field, values } => {
                let (fd, key) = key_of(e, field)?;
                let vals = values
                    .iter()
                    .filter(|v| !v.is_null())
                    .map(|v| to_bson(&fd.ty, v))
                    .collect::<Result<Vec<_>>>()?;
                match (vals.is_empty(), neg) {
                    (true, _) => always(neg),
                    (false, false) => doc! {key: {"$in": vals}},
                    (false, true) => {
                        let mut v = vals;
                        v.push(Bson::Null);
                        doc! {key: {"$nin": v}}
                    }
                }
            }
            Filter::Is { field, value } => {
                let (_, key) = key_of(e, field)?;
                let (op, v) = match value {
                    IsValue::Null | IsValue::Unknown => ("$eq", Bson::Null),
                    IsValue::NotNull => ("$ne", Bson::Null),
                    IsValue::True => ("$eq", Bson::Boolean(true)),
                    IsValue::False => ("$eq", Bson::Boolean(false)),
                };
                let op = match (op, neg) {
                    (o, false) => o,
                    ("$eq", true) => "$ne",
                    (_, true) => "$eq",
                };
                doc! {key: {op: v}}
            }
            Filter::Like {
                field,
                pattern,
                case_insensitive,
            } => {
                let (_, key) = key_of(e, field)?;
                let re = regex(pattern, *case_insensitive)?;
                if neg {
                    doc! {key: {"$not": re, "$ne": Bson::Null}}
                } else {
                    doc! {key: re}
                }
            }
            Filter::Regex {
                field,
                path,
                pattern,
                case_insensitive,
            } => {
                let (_, key) = key_of(e, field)?;
                if pattern.contains('\0') {
                    return Err(Error::validation(
                        "/pattern",
                        "the pattern contains a NUL character",
                    ));
                }
                // `s`: `.` matches a newline, as in PostgreSQL.
                let re = doc! {
                    "$regex": pattern.as_str(),
                    "$options": if *case_insensitive { "is" } else { "s" },
                };
                if !path.is_empty() {
                    json_string_matches(key, path, re, neg)
                } else if neg {
                    doc! {key: {"$not": re, "$ne": Bson::Null}}
                } else {
                    doc! {key: re}
                }
            }
            Filter::TextSearch {
                field,
                path,
                query,
                language,
                syntax,
            } => {
                if !words_as_written(language.as_deref()) {
                    return Err(Error::unsupported(
                        ENGINE,
                        "a full-text search language other than `simple` (words are searched as they are written)",
                    ));
                }
                let (fd, key) = key_of(e, field)?;
                if path.is_empty() && fd.ty == FieldType::Json {
                    return Err(Error::unsupported(
                        ENGINE,
                        "full-text search of a whole JSON document (search a path: `data->>body=fts.word`)",
                    ));
                }
                let q = syntax.parse(query, ENGINE)?;
                if path.is_empty() {
                    text_search_field(key, &q, neg)
                } else {
                    text_search_at(key, path, &q, neg)
                }
            }
            Filter::Range { .. } => {
                return Err(Error::unsupported(ENGINE, "range operators"));
            }
            Filter::Array { field, op, values } => {
                let (fd, key) = key_of(e, field)?;
                let FieldType::Array { items } = &fd.ty else {
                    return Err(Error::validation(
                        "/field",
                        format!(
                            "array operators need an array field; `{field}` is {}",
                            fd.ty.name()
                        ),
                    ));
                };
                let vals = values
                    .iter()
                    .map(|v| to_bson(items, v))
                    .collect::<Result<Vec<_>>>()?;
                match (op, neg, vals.is_empty()) {
                    (ArrayOp::Contains, false, true) => doc! {key: {"$type": "array"}},
                    (ArrayOp::Contains, true, true) => always(false),
                    (ArrayOp::Contains, false, false) => doc! {key: {"$all": vals}},
                    (ArrayOp::Contains, true, false) => {
                        doc! {key: {"$type": "array", "$not": {"$all": vals}}}
                    }
                    (ArrayOp::ContainedBy, false, _) => {
                        doc! {key: {"$type": "array", "$not": {"$elemMatch": {"$nin": vals}}}}
                    }
                    (ArrayOp::ContainedBy, true, _) => doc! {key: {"$elemMatch": {"$nin": vals}}},
                    (ArrayOp::Overlaps, false, true) => always(false),
                    (ArrayOp::Overlaps, true, true) => doc! {key: {"$type": "array"}},
                    (ArrayOp::Overlaps, false, false) => doc! {key: {"$in": vals}},
                    (ArrayOp::Overlaps, true, false) => {
                        doc! {key: {"$type": "array", "$nin": vals}}
                    }
                }
            }
            Filter::JsonPath {
                field,
                path,
                op,
                value,
            } => {
                if (value.is_array() || value.is_object())
                    && matches!(op, CompareOp::Eq | CompareOp::Neq)
                {
                    // A document's equality is `JsonEquals`'s.
                    let equal = Filter::JsonEquals {
                        field: field.clone(),
                        path: path.clone(),
                        value: value.clone(),
                    };
                    return self.lower(e, &equal, neg != (*op == CompareOp::Neq));
                }
                let (_, key) = key_of(e, field)?;
                json_path(key, path, if neg { flip(*op) } else { *op }, value)?
            }
            Filter::JsonLike {
                field,
                path,
                pattern,
                case_insensitive,
            } => {
                let (_, key) = key_of(e, field)?;
                json_string_matches(key, path, regex(pattern, *case_insensitive)?, neg)
            }
            Filter::JsonText {
                field,
                path,
                op,
                value,
            } => {
                let (_, key) = key_of(e, field)?;
                json_text_compares(key, path, if neg { flip(*op) } else { *op }, value)
            }
            Filter::JsonIsNull {
                field,
                path,
                missing_only,
            } => {
                // `null` matches a missing path and a null value; with
                // `missing_only` a missing path alone (each step checked,
                // `present_at`). Not by a dotted path, which also looks
                // into an array's elements, where PostgreSQL's `->` finds
                // no key.
                let (_, key) = key_of(e, field)?;
                if *missing_only {
                    let present = present_at(key, path);
                    return Ok(if neg {
                        doc! {"$expr": present}
                    } else {
                        doc! {"$expr": {"$not": [present]}}
                    });
                }
                let op = if neg { "$ne" } else { "$eq" };
                doc! {"$expr": {op: [{"$ifNull": [value_at(key, path), Bson::Null]}, Bson::Null]}}
            }
            Filter::JsonContains {
                field,
                path,
                op,
                value,
            } => {
                let (_, key) = key_of(e, field)?;
                let col = value_at(key, path);
                let mut c = Containment { next: 0 };
                let held = match op {
                    ArrayOp::ContainedBy => c.contained_by(&col, value, true),
                    _ => c.contains(&col, value, true),
                };
                if neg {
                    // A null field or a missing path matches neither, as in
                    // SQL (a JSON `null` at a path is a value).
                    let present = if path.is_empty() {
                        Bson::Document(doc! {"$ne": [{"$ifNull": [&col, Bson::Null]}, Bson::Null]})
                    } else {
                        present_at(key, path)
                    };
                    doc! {"$expr": {"$and": [present, {"$not": [held]}]}}
                } else {
                    doc! {"$expr": held}
                }
            }
            Filter::JsonEquals { field, path, value } => {
                let (_, key) = key_of(e, field)?;
                let col = value_at(key, path);
                let mut equal = Containment { next: 0 }.equals(&col, value);
                if neg {
                    equal = Bson::Document(doc! {"$not": [equal]});
                }
                // A missing path (a null field: SQL's null) matches
                // neither, as in SQL; a JSON `null` at a path is a value.
                let present = if path.is_empty() {
                    Bson::Document(doc! {"$ne": [{"$ifNull": [&col, Bson::Null]}, Bson::Null]})
                } else {
                    present_at(key, path)
                };
                doc! {"$expr": {"$and": [present, equal]}}
            }
            Filter::Exists {
                relation,
                filter,
                through,
            } => {
                let name = self.exists(e, relation, filter.as_deref(), through.as_deref())?;
                if neg {
                    doc! {name: {"$eq": []}}
                } else {
                    doc! {name: {"$ne": []}}
                }
            }
            other => {
                return Err(Error::unsupported(ENGINE, format!("filter {other:?}")));
            }
        })
    }

    /// Add a `$lookup` stage fetching at most one related row matching
    /// `filter` (through junction rows matching `through`, for a
    /// many-to-many relation); returns the helper field holding it.
    fn exists(
        &mut self,
        e: &'a Entity,
        relation: &str,
        filter: Option<&Filter>,
        through_filter: Option<&Filter>,
    ) -> Result<String> {
        let rel = e.relation(relation)?;
        let target = self.schema.entity(&rel.target)?;
        let name = self.fresh("x");
        // The innermost pipeline: the related rows that match `filter`.
        let mut inner = FilterLower {
            schema: self.schema,
            lookups: Vec::new(),
            next: self.next,
        };
        let m = match filter {
            Some(f) => inner.lower(target, f, false)?,
            None => Document::new(),
        };
        let mut target_stages: Vec<Document> = inner.lookups;
        if !m.is_empty() {
            target_stages.push(doc! {"$match": m});
        }
        target_stages.push(doc! {"$limit": 1});
        target_stages.push(doc! {"$project": {"_id": 1}});
        let stage = match &rel.kind {
            RelationKind::ManyToMany { through } => {
                let junction = self.schema.entity(&through.entity)?;
                let inner_name = self.fresh("x");
                let to_target = join(
                    junction,
                    &through.target_fields,
                    target,
                    &rel.to_fields,
                    target_stages,
                    &inner_name,
                )?;
                // The junction rows allowed, then the ones reaching a target.
                let mut jl = FilterLower {
                    schema: self.schema,
                    lookups: Vec::new(),
                    next: self.next,
                };
                let jm = match through_filter {
                    Some(f) => jl.lower(junction, f, false)?,
                    None => Document::new(),
                };
                let mut junction_stages = jl.lookups;
                if !jm.is_empty() {
                    junction_stages.push(doc! {"$match": jm});
                }
                junction_stages.extend([
                    to_target,
                    doc! {"$match": {inner_name.as_str(): {"$ne": []}}},
                    doc! {"$limit": 1},
                    doc! {"$project": {"_id": 1}},
                ]);
                join(
                    e,
                    &rel.from_fields,
                    junction,
                    &through.source_fields,
                    junction_stages,
                    &name,
                )?
            }
            _ => join(
                e,
                &rel.from_fields,
                target,
                &rel.to_fields,
                target_stages,
                &name,
            )?,
        };
        self.lookups.push(stage);
        Ok(name)
    }
}

/// `$lookup` from `from` rows into `to` where `to.to_fields = from.from_fields`
/// (null keys never match, as in SQL), then `stages`. A single-field link
/// uses `localField`/`foreignField` (an equality join the server can run
/// as one lookup per key, not one pipeline per document) with null
/// foreign keys filtered out; composite links compare in `$expr`.
fn join(
    from: &Entity,
    from_fields: &[String],
    to: &Entity,
    to_fields: &[String],
    stages: Vec<Document>,
    as_name: &str,
) -> Result<Document> {
    join_at(from, "", from_fields, to, to_fields, stages, as_name)
}

/// [`join`] from the fields of `from` under the key prefix `at` (a row
/// looked up earlier: `_baas_via0.`).
fn join_at(
    from: &Entity,
    at: &str,
    from_fields: &[String],
    to: &Entity,
    to_fields: &[String],
    stages: Vec<Document>,
    as_name: &str,
) -> Result<Document> {
    if from.source.schema != to.source.schema {
        return Err(Error::unsupported(
            ENGINE,
            "relations across databases (`$lookup` reads one database)",
        ));
    }
    if let ([ff], [tf]) = (from_fields, to_fields) {
        let (_, fk) = key_of(from, ff)?;
        let (_, tk) = key_of(to, tf)?;
        let mut pipeline = vec![doc! {"$match": {tk: {"$ne": Bson::Null}}}];
        pipeline.extend(stages);
        return Ok(doc! {"$lookup": {
            "from": collection_name(to)?,
            "localField": format!("{at}{fk}"),
            "foreignField": tk,
            "pipeline": pipeline,
            "as": as_name,
        }});
    }
    let mut lets = Document::new();
    let mut conds = Vec::new();
    for (i, (ff, tf)) in from_fields.iter().zip(to_fields).enumerate() {
        let (_, fk) = key_of(from, ff)?;
        let (_, tk) = key_of(to, tf)?;
        let var = format!("k{i}");
        lets.insert(var.clone(), format!("${at}{fk}"));
        conds.push(Bson::Document(
            doc! {"$eq": [format!("${tk}"), format!("$${var}")]},
        ));
        conds.push(Bson::Document(
            doc! {"$gt": [format!("$${var}"), Bson::Null]},
        ));
    }
    let mut pipeline = vec![doc! {"$match": {"$expr": {"$and": conds}}}];
    pipeline.extend(stages);
    Ok(doc! {"$lookup": {
        "from": collection_name(to)?,
        "let": lets,
        "pipeline": pipeline,
        "as": as_name,
    }})
}

/// A JSON path comparison: dotted notation when every key allows it (type
/// bracketing keeps `"10"` and `10` apart, as the SQL engines do), otherwise
/// `$getField` with the key as a `$literal`, behind an explicit type check.
/// The dotted key of a path inside the field stored at `key` (`data.a.b`),
/// when every step can be written so (see [`plain_key`]); else the
/// filter is an expression over [`value_at`].
fn json_dotted(key: &str, path: &[String]) -> Option<String> {
    path.iter().all(|k| plain_key(k)).then(|| {
        std::iter::once(key)
            .chain(path.iter().map(String::as_str))
            .collect::<Vec<_>>()
            .join(".")
    })
}

/// The JSON value at `path` in the field stored at `key` against a
/// scalar operand as `jsonb` compares them: by type rank
/// ([`json_rank`]), then within a type (strings by bytes, numbers by
/// value, `false` < `true`); false where nothing is at the path (so that
/// a negation, the flipped comparison, does not hold there either). An
/// array or an object operand is refused.
fn json_path(
    key: &str,
    path: &[String],
    op: CompareOp,
    value: &serde_json::Value,
) -> Result<Document> {
    use serde_json::Value as J;
    let same = match value {
        J::Null => Bson::Boolean(matches!(
            op,
            CompareOp::Eq | CompareOp::Gte | CompareOp::Lte
        )),
        J::Bool(b) => Bson::Document(doc! {cmp_op(op): ["$$v", *b]}),
        J::Number(n) => Bson::Document(doc! {cmp_op(op): ["$$v", {"$literal": number(n)}]}),
        J::String(s) => Bson::Document(doc! {cmp_op(op): ["$$v", {"$literal": s.as_str()}]}),
        J::Array(_) | J::Object(_) => {
            return Err(Error::unsupported(
                ENGINE,
                "ordering the JSON value at a path against an array or an object (gt, gte, lt, lte)",
            ));
        }
    };
    let r = i32::from(baas_core::jsonb_order::type_rank(value));
    let compared = doc! {"$let": {
        "vars": {"v": value_at(key, path)},
        "in": {"$let": {
            "vars": {"r": json_rank(key, path)},
            "in": {"$cond": [
                {"$eq": ["$$r", Bson::Null]},
                false,
                {"$cond": [{"$eq": ["$$r", r]}, same, {cmp_op(op): ["$$r", r]}]},
            ]},
        }},
    }};
    let exact = doc! {"$expr": compared};
    // A dotted path also looks into every element of an array on the way
    // and compares an array by any of its elements: every row `eq` holds
    // for matches it too, so it comes first, for an index.
    Ok(match json_dotted(key, path) {
        Some(dotted) if op == CompareOp::Eq && !value.is_null() => {
            let v = match value {
                J::Bool(b) => Bson::Boolean(*b),
                J::Number(n) => number(n),
                J::String(s) => Bson::String(s.clone()),
                _ => Bson::Null,
            };
            doc! {"$and": [{dotted: {"$eq": v}}, exact]}
        }
        _ => exact,
    })
}

/// A JSON number as BSON: a 64-bit integer where it is one, else a double
/// (as a document's numbers are stored); past a double's range (`1e400`)
/// an infinity of its sign, which every stored number is below or above.
fn number(n: &serde_json::Number) -> Bson {
    match n.as_i64() {
        Some(i) => Bson::Int64(i),
        None => Bson::Double(n.as_f64().unwrap_or_else(|| {
            if n.to_string().starts_with('-') {
                f64::NEG_INFINITY
            } else {
                f64::INFINITY
            }
        })),
    }
}

/// The `$lookup` writing into `helper` the related row (at most one, that
/// `key.filter` lets through) of a to-one relation, projected on `field`
/// as `v`.
fn related_lookup(
    target: Target<'_>,
    key: &baas_core::ir::RelatedKey,
    field: &str,
    helper: &str,
    next: &std::cell::Cell<usize>,
) -> Result<Document> {
    let e = target.entity;
    let rel = e.relation(&key.relation)?;
    let to = target.schema.entity(&rel.target)?;
    let mut l = FilterLower {
        schema: target.schema,
        lookups: Vec::new(),
        next,
    };
    let m = match key.filter.as_deref() {
        Some(f) => l.lower(to, f, false)?,
        None => Document::new(),
    };
    let mut stages = l.lookups;
    if !m.is_empty() {
        stages.push(doc! {"$match": m});
    }
    let (_, k) = key_of(to, field)?;
    stages.push(doc! {"$limit": 1});
    stages.push(doc! {"$project": {"_id": 0, "v": format!("${k}")}});
    join(e, &rel.from_fields, to, &rel.to_fields, stages, helper)
}

/// Aggregation expressions for JSON containment
/// ([`baas_core::ir::Filter::JsonContains`]), built from the operand: an
/// object needs each key's value to contain the operand's (`$getField`),
/// an array each element in some element (`$anyElementTrue` over `$map`),
/// a scalar an equal value of the same JSON type; `contained_by` walks the
/// field's keys (`$objectToArray`) and elements instead. The operand's size
/// is bounded by validation.
struct Containment {
    next: usize,
}

impl Containment {
    fn var(&mut self) -> String {
        self.next += 1;
        format!("j{}", self.next)
    }

    fn type_is(e: &Bson, ty: &str) -> Bson {
        Bson::Document(doc! {"$eq": [{"$type": e.clone()}, ty]})
    }

    /// `e` is the scalar `v` (same JSON type, equal value).
    fn scalar(e: &Bson, v: &serde_json::Value) -> Bson {
        use serde_json::Value as J;
        let ty = match v {
            J::Null => return Self::type_is(e, "null"),
            J::Bool(_) => Self::type_is(e, "bool"),
            J::Number(_) => Bson::Document(doc! {"$isNumber": e.clone()}),
            _ => Self::type_is(e, "string"),
        };
        let lit = match v {
            J::Bool(b) => Bson::Boolean(*b),
            J::Number(n) => number(n),
            J::String(s) => Bson::String(s.clone()),
            _ => Bson::Null,
        };
        Bson::Document(doc! {"$and": [ty, {"$eq": [e.clone(), {"$literal": lit}]}]})
    }

    /// Some element of the array `e` satisfies `test` (of `$$var`).
    fn any(&mut self, e: &Bson, test: impl FnOnce(&mut Self, &Bson) -> Bson) -> Bson {
        let var = self.var();
        let x = Bson::String(format!("$${var}"));
        let body = test(self, &x);
        Bson::Document(doc! {"$and": [
            {"$isArray": e.clone()},
            {"$anyElementTrue": [{"$map": {
                "input": {"$cond": [{"$isArray": e.clone()}, e.clone(), []]},
                "as": var,
                "in": body,
            }}]},
        ]})
    }

    /// `e` contains `v`.
    fn contains(&mut self, e: &Bson, v: &serde_json::Value, top: bool) -> Bson {
        use serde_json::Value as J;
        match v {
            J::Object(o) => {
                let mut all = vec![Self::type_is(e, "object")];
                for (k, item) in o {
                    let field = Bson::Document(doc! {"$cond": [
                        Self::type_is(e, "object"),
                        {"$getField": {"field": {"$literal": k.as_str()}, "input": e.clone()}},
                        Bson::Null,
                    ]});
                    all.push(self.contains(&field, item, false));
                }
                Bson::Document(doc! {"$and": all})
            }
            J::Array(items) => {
                let mut all = vec![Bson::Document(doc! {"$isArray": e.clone()})];
                for item in items {
                    all.push(self.any(e, |c, x| c.contains(x, item, false)));
                }
                Bson::Document(doc! {"$and": all})
            }
            scalar if top => {
                let held = self.any(e, |_, x| Self::scalar(x, scalar));
                Bson::Document(doc! {"$or": [Self::scalar(e, scalar), held]})
            }
            scalar => Self::scalar(e, scalar),
        }
    }

    /// `e` equals `v` as `jsonb`'s `=` compares: an object of the same
    /// keys (none more) whose values are equal, an array of as many
    /// elements equal in order, an equal scalar of the same JSON type.
    fn equals(&mut self, e: &Bson, v: &serde_json::Value) -> Bson {
        use serde_json::Value as J;
        // Each level binds its value once (`$let`): the expression grows
        // with the operand, not twofold per level.
        let var = self.var();
        let x = Bson::String(format!("$${var}"));
        let body = match v {
            J::Object(o) => {
                let keys_var = format!("{var}k");
                let keys = Bson::String(format!("$${keys_var}"));
                let mut all = vec![
                    Self::type_is(&x, "object"),
                    Bson::Document(doc! {"$eq": [{"$size": keys.clone()}, o.len() as i64]}),
                ];
                for (k, item) in o {
                    let field = Bson::Document(doc! {"$cond": [
                        Self::type_is(&x, "object"),
                        {"$getField": {"field": {"$literal": k.as_str()}, "input": x.clone()}},
                        Bson::Null,
                    ]});
                    all.push(Bson::Document(
                        doc! {"$in": [{"$literal": k.as_str()}, keys.clone()]},
                    ));
                    all.push(self.equals(&field, item));
                }
                let names = doc! {"$map": {"input": object_entries(x.clone()), "in": "$$this.k"}};
                doc! {"$let": {"vars": {keys_var: names}, "in": {"$and": all}}}
            }
            J::Array(items) => {
                let array =
                    Bson::Document(doc! {"$cond": [{"$isArray": x.clone()}, x.clone(), []]});
                let mut all = vec![
                    Bson::Document(doc! {"$isArray": x.clone()}),
                    Bson::Document(doc! {"$eq": [{"$size": array.clone()}, items.len() as i64]}),
                ];
                for (i, item) in items.iter().enumerate() {
                    let element = Bson::Document(doc! {"$arrayElemAt": [array.clone(), i as i64]});
                    all.push(self.equals(&element, item));
                }
                doc! {"$and": all}
            }
            scalar => return Self::scalar(e, scalar),
        };
        Bson::Document(doc! {"$let": {"vars": {var: e.clone()}, "in": body}})
    }

    /// `v` contains `e`.
    fn contained_by(&mut self, e: &Bson, v: &serde_json::Value, top: bool) -> Bson {
        use serde_json::Value as J;
        match v {
            J::Object(o) => {
                let var = self.var();
                let (key, value) = (
                    Bson::String(format!("$${var}.k")),
                    Bson::String(format!("$${var}.v")),
                );
                let mut any = Vec::new();
                for (k, item) in o {
                    let inner = self.contained_by(&value, item, false);
                    any.push(Bson::Document(
                        doc! {"$and": [{"$eq": [key.clone(), {"$literal": k.as_str()}]}, inner]},
                    ));
                }
                Bson::Document(doc! {"$and": [
                    Self::type_is(e, "object"),
                    {"$allElementsTrue": [{"$map": {
                        "input": {"$cond": [Self::type_is(e, "object"), {"$objectToArray": e.clone()}, []]},
                        "as": var,
                        "in": {"$or": any},
                    }}]},
                ]})
            }
            J::Array(items) => {
                let var = self.var();
                let x = Bson::String(format!("$${var}"));
                let any: Vec<Bson> = items
                    .iter()
                    .map(|item| self.contained_by(&x, item, false))
                    .collect();
                let mut either = vec![Bson::Document(doc! {"$and": [
                    {"$isArray": e.clone()},
                    {"$allElementsTrue": [{"$map": {
                        "input": {"$cond": [{"$isArray": e.clone()}, e.clone(), []]},
                        "as": var,
                        "in": {"$or": any},
                    }}]},
                ]})];
                if top {
                    // A scalar is contained by an array holding it.
                    either.extend(
                        items
                            .iter()
                            .filter(|i| !i.is_array() && !i.is_object())
                            .map(|i| Self::scalar(e, i)),
                    );
                }
                Bson::Document(doc! {"$or": either})
            }
            scalar => Self::scalar(e, scalar),
        }
    }
}

/// The `$lookup` stages and the `$match` document of a filter.
pub fn filter(target: Target<'_>, f: Option<&Filter>) -> Result<(Vec<Document>, Document)> {
    let next = std::cell::Cell::new(0);
    filter_with(target, f, &next)
}

fn filter_with(
    target: Target<'_>,
    f: Option<&Filter>,
    next: &std::cell::Cell<usize>,
) -> Result<(Vec<Document>, Document)> {
    let Some(f) = f else {
        return Ok((Vec::new(), Document::new()));
    };
    let mut l = FilterLower {
        schema: target.schema,
        lookups: Vec::new(),
        next,
    };
    let m = l.lower(target.entity, f, false)?;
    Ok((l.lookups, m))
}

/// Whether a filter needs `$lookup` (and so an aggregation pipeline).
pub fn has_exists(f: &Filter) -> bool {
    match f {
        Filter::Exists { .. } => true,
        Filter::And { filters } | Filter::Or { filters } => filters.iter().any(has_exists),
        Filter::Not { filter } => has_exists(filter),
        _ => false,
    }
}

/// The order with the primary key appended (a total order, as in SQL).
pub fn effective_order(e: &Entity, order: &[OrderBy]) -> Vec<OrderBy> {
    let mut out = order.to_vec();
    for k in &e.primary_key {
        if !out
            .iter()
            .any(|o| &o.field == k && o.json.is_none() && o.related.is_none())
        {
            out.push(OrderBy::asc(k.clone()));
        }
    }
    out
}

/// The value at `path` inside the field stored at `key`, as an
/// aggregation expression: an object step takes the key, an array step
/// (digits, or `-n` counting from the end) the element; anything else is
/// null (a missing key too: the CI's MongoDB-wire server calls a missing
/// value an object; [`present_at`] tells a JSON `null` from nothing).
fn value_at(key: &str, path: &[String]) -> Bson {
    let mut v = Bson::String(format!("${key}"));
    for (n, k) in path.iter().enumerate() {
        let index = match baas_core::ir::index_from_start(k) {
            Some(i) => Some(i as i64),
            None => baas_core::ir::index_from_end(k).map(|n| -(n as i64)),
        };
        // The step's input bound once (`$let`): the expression grows
        // linearly with the path, not twofold per step.
        let var = format!("p{n}");
        let x = Bson::String(format!("$${var}"));
        // An index steps into an array only (an object's key `0` is not
        // its `->0`), a key into an object only.
        let step = match index {
            Some(i) => doc! {"$cond": [
                {"$isArray": x.clone()},
                {"$ifNull": [{"$arrayElemAt": [x.clone(), i]}, Bson::Null]},
                Bson::Null,
            ]},
            None => doc! {"$cond": [
                {"$eq": [{"$type": x.clone()}, "object"]},
                {"$ifNull": [
                    {"$getField": {"field": {"$literal": k.as_str()}, "input": x.clone()}},
                    Bson::Null,
                ]},
                Bson::Null,
            ]},
        };
        v = Bson::Document(doc! {"$let": {"vars": {var: v}, "in": step}});
    }
    v
}

/// `$objectToArray` of `v` where it is an object, else of `{}`; through
/// `$mergeObjects` (a new object: the CI's MongoDB-wire server refuses
/// some objects an expression answers there).
fn object_entries(v: impl Into<Bson>) -> Document {
    let v = v.into();
    doc! {"$objectToArray": {"$mergeObjects": [{"$cond": [
        {"$eq": [{"$type": v.clone()}, "object"]},
        v,
        {"$literal": {}},
    ]}]}}
}

/// True where every step of `path` inside the field stored at `key` finds
/// something (a JSON `null` too), as [`value_at`] walks it: an object's
/// key, an array's element (from the end for `-n`). `$and` stops at the first false step, so `$size`
/// only meets arrays.
fn present_at(key: &str, path: &[String]) -> Bson {
    let root = format!("${key}");
    let mut steps = vec![Bson::Document(
        doc! {"$not": [{"$in": [{"$type": root}, ["missing", "null"]]}]},
    )];
    for (i, k) in path.iter().enumerate() {
        let parent = value_at(key, &path[..i]);
        let has_key = doc! {"$and": [
            {"$eq": [{"$type": parent.clone()}, "object"]},
            {"$in": [{"$literal": k.as_str()}, {"$map": {
                "input": object_entries(parent.clone()),
                "in": "$$this.k",
            }}]},
        ]};
        let element = |at_least: i64| {
            doc! {"$and": [
                {"$isArray": parent.clone()},
                {"$gte": [{"$size": parent.clone()}, at_least]},
            ]}
        };
        let step = match baas_core::ir::index_from_start(k) {
            Some(n) => element(n as i64 + 1),
            None => match baas_core::ir::index_from_end(k) {
                Some(n) => element(i64::try_from(n).unwrap_or(i64::MAX)),
                None => has_key,
            },
        };
        steps.push(Bson::Document(step));
    }
    Bson::Document(doc! {"$and": steps})
}

/// The rank of the type of `$$v`, the value at `path` inside the field
/// stored at `key` ([`baas_core::jsonb_order::type_rank`]'s: an empty
/// array -1, `null` 0, a string 1, a number 2, a boolean 3, an array 4,
/// an object 5); null where nothing is at the path (checked by
/// `present_at`, as `value_at` answers null for both where a step meets
/// no array or object).
fn json_rank(key: &str, path: &[String]) -> Bson {
    let ty = |t: &str| doc! {"$eq": [{"$type": "$$v"}, t]};
    Bson::Document(doc! {"$cond": [present_at(key, path), {"$switch": {
        "branches": [
            // `jsonb` puts an empty array first of all.
            {"case": {"$cond": [{"$isArray": "$$v"}, {"$eq": [{"$size": "$$v"}, 0]}, false]}, "then": -1},
            {"case": ty("null"), "then": 0},
            {"case": ty("string"), "then": 1},
            {"case": {"$isNumber": "$$v"}, "then": 2},
            {"case": ty("bool"), "then": 3},
            {"case": ty("array"), "then": 4},
            {"case": ty("object"), "then": 5},
        ],
        "default": Bson::Null,
    }}, Bson::Null]})
}

/// The keys that sort on the value at `path` inside the field stored at
/// `key`, as [`baas_core::ir::JsonKey`] defines the order: `text`, one key
/// (the value's text: strings as they are, numbers by `$toString`,
/// booleans `true`/`false`, JSON `null` as null); otherwise a type rank
/// (an empty array < `null` < string < number < boolean < array <
/// object; nothing at the path: null), the number, an array's or
/// object's length, and the string, boolean text, or the array or object
/// itself (BSON order, between two of one length).
fn json_order(key: &str, path: &[String], text: bool) -> Vec<Bson> {
    let v = value_at(key, path);
    let ty = |t: &str| doc! {"$eq": [{"$type": "$$v"}, t]};
    let at = |body: Bson| Bson::Document(doc! {"$let": {"vars": {"v": v.clone()}, "in": body}});
    let boolean_text = doc! {"$cond": ["$$v", "true", "false"]};
    if text {
        return vec![at(Bson::Document(doc! {"$switch": {
            "branches": [
                {"case": ty("string"), "then": "$$v"},
                {"case": {"$isNumber": "$$v"}, "then": {"$toString": "$$v"}},
                {"case": ty("bool"), "then": boolean_text},
                {"case": {"$in": [{"$type": "$$v"}, ["array", "object"]]}, "then": "$$v"},
            ],
            "default": Bson::Null,
        }}))];
    }
    // A JSON `null` is a value (rank 0); nothing at the path sorts as
    // SQL's null: checked by `present_at`, as `value_at` answers null for
    // both where a step meets no array or object.
    vec![
        at(json_rank(key, path)),
        at(Bson::Document(
            doc! {"$cond": [{"$isNumber": "$$v"}, "$$v", Bson::Null]},
        )),
        // `jsonb` sorts arrays, and objects, by their length first.
        at(Bson::Document(doc! {"$cond": [
            {"$isArray": "$$v"},
            {"$size": "$$v"},
            {"$cond": [ty("object"), {"$size": object_entries("$$v")}, Bson::Null]},
        ]})),
        at(Bson::Document(doc! {"$switch": {
            "branches": [
                {"case": ty("string"), "then": "$$v"},
                {"case": ty("bool"), "then": boolean_text},
                {"case": {"$in": [{"$type": "$$v"}, ["array", "object"]]}, "then": "$$v"},
            ],
            "default": Bson::Null,
        }})),
    ]
}

/// The value [`GroupValue`] groups by, of the field stored at `key`: the
/// JSON value at a path (JSON null, as a missing path, null), its text as
/// [`json_order`] reads it, a date's day in UTC (`$dateTrunc`, a BSON date
/// at midnight), a number rounded half away from zero (`$round` would
/// round half to even) as a 64-bit integer, or whether an integer is not
/// zero. The database's own casts are PostgreSQL's: refused. An
/// instant's day is taken in `zone` where one is given (the aggregate's
/// [`Aggregate::zone`], for a `timestamptz` field): the zone's year, month
/// and day, as a BSON date at midnight.
fn group_value(key: &str, g: &GroupValue, zone: Option<&str>) -> Result<Bson> {
    let x = || Bson::String(format!("${key}"));
    Ok(match g {
        GroupValue::Json {
            path, text: false, ..
        } => value_at(key, path),
        GroupValue::Json {
            path, text: true, ..
        } => json_order(key, path, true)
            .into_iter()
            .next()
            .unwrap_or(Bson::Null),
        GroupValue::Date { .. } => match zone {
            None => Bson::Document(doc! {"$dateTrunc": {"date": x(), "unit": "day"}}),
            Some(z) => {
                let part = |p: &str| doc! {p: {"date": x(), "timezone": z}};
                Bson::Document(doc! {"$dateFromParts": {
                    "year": part("$year"),
                    "month": part("$month"),
                    "day": part("$dayOfMonth"),
                }})
            }
        },
        GroupValue::Integer { .. } => Bson::Document(doc! {"$toLong": {"$cond": [
            {"$gte": [x(), 0]},
            {"$trunc": {"$add": [x(), 0.5]}},
            {"$trunc": {"$subtract": [x(), 0.5]}},
        ]}}),
        GroupValue::NonZero { .. } => Bson::Document(doc! {"$cond": [
            {"$eq": [{"$ifNull": [x(), Bson::Null]}, Bson::Null]},
            Bson::Null,
            {"$ne": [x(), 0]},
        ]}),
        GroupValue::Cast { to, .. } => {
            return Err(Error::unsupported(
                "mongodb",
                format!("grouping by the database's cast to {to}"),
            ));
        }
    })
}

/// MongoDB sorts null (and missing) before every value; the IR's default is
/// PostgreSQL's (nulls last ascending, first descending). A helper flag
/// `is null` is sorted first wherever the two disagree on a nullable key.
fn sort_spec(
    keys: &[(String, Direction, Nulls, bool)],
    helpers: &mut Document,
    prefix: &str,
) -> Document {
    let mut sort = Document::new();
    for (i, (key, dir, nulls, nullable)) in keys.iter().enumerate() {
        let native = match dir {
            Direction::Asc => Nulls::First,
            Direction::Desc => Nulls::Last,
        };
        if *nullable && *nulls != native {
            let h = format!("{HELPER}{prefix}{i}");
            helpers.insert(
                h.clone(),
                doc! {"$eq": [{"$ifNull": [format!("${key}"), Bson::Null]}, Bson::Null]},
            );
            sort.insert(h, if *nulls == Nulls::Last { 1 } else { -1 });
        }
        sort.insert(key.clone(), if *dir == Direction::Asc { 1 } else { -1 });
    }
    sort
}

/// A read: the aggregation pipeline and the fields it returns, in output order.
#[derive(Debug, Clone)]
pub struct FindPlan {
    /// The pipeline.
    pub pipeline: Vec<Document>,
    /// Output fields (API names), in order.
    pub fields: Vec<String>,
    /// The to-one embeds joined into the pipeline, in selection order
    /// (their output keys follow the fields).
    pub embeds: Vec<JoinedEmbed>,
}

/// A to-one embed joined into its parent's pipeline by a `$lookup`: the
/// helper field holding its related row (an array of at most one document)
/// and how to decode it.
#[derive(Debug, Clone)]
pub struct JoinedEmbed {
    /// Output key (the embed's alias, or its relation name).
    pub key: String,
    /// The helper field the `$lookup` writes into the parent document.
    pub helper: String,
    /// The related entity.
    pub entity: String,
    /// The related row's output fields (API names), in order.
    pub fields: Vec<String>,
    /// Its own joined embeds, in selection order.
    pub embeds: Vec<JoinedEmbed>,
}

/// The `$lookup` of a to-one embed of `parent` (and, inside its pipeline,
/// of the embed's own to-one embeds): the related row matching the link and
/// the embed's filter, at most one, projected on the embed's fields and the
/// helpers of its nested embeds.
fn lookup_embed(
    schema: &SchemaMetadata,
    parent: &Entity,
    embed: &Embed,
    next: &std::cell::Cell<usize>,
) -> Result<(Document, JoinedEmbed)> {
    let rel = parent.relation(&embed.relation)?;
    if !rel.kind.is_to_one() || rel.from_fields.len() != rel.to_fields.len() {
        return Err(Error::unsupported(
            ENGINE,
            format!("joining the to-many embed `{}`", embed.relation),
        ));
    }
    let target = schema.entity(&rel.target)?;
    let n = next.get();
    next.set(n + 1);
    let helper = format!("{HELPER}j{n}");
    let mut fl = FilterLower {
        schema,
        lookups: Vec::new(),
        next,
    };
    let m = match &embed.filter {
        Some(f) => fl.lower(target, f, false)?,
        None => Document::new(),
    };
    let mut stages = fl.lookups;
    if !m.is_empty() {
        stages.push(doc! {"$match": m});
    }
    stages.push(doc! {"$limit": 1});
    let fields = selected(target, &embed.select.fields)?;
    let mut proj = projection(target, &fields)?;
    let mut embeds = Vec::with_capacity(embed.select.embeds.len());
    for e in &embed.select.embeds {
        let (stage, j) = lookup_embed(schema, target, e, next)?;
        stages.push(stage);
        proj.insert(j.helper.clone(), 1);
        embeds.push(j);
    }
    stages.push(doc! {"$project": proj});
    let stage = join(
        parent,
        &rel.from_fields,
        target,
        &rel.to_fields,
        stages,
        &helper,
    )?;
    Ok((
        stage,
        JoinedEmbed {
            key: embed
                .alias
                .clone()
                .unwrap_or_else(|| embed.relation.clone()),
            helper,
            entity: target.name.clone(),
            fields: fields.iter().map(|f| f.name.clone()).collect(),
            embeds,
        },
    ))
}

/// The fields a selection returns (every field when empty).
pub fn selected<'e>(e: &'e Entity, fields: &[String]) -> Result<Vec<&'e Field>> {
    if fields.is_empty() {
        Ok(e.star_fields().collect())
    } else {
        fields.iter().map(|f| e.field(f)).collect()
    }
}

/// `$project` of fields by storage key (`_id` only when selected).
pub fn projection(e: &Entity, fields: &[&Field]) -> Result<Document> {
    let mut p = Document::new();
    let mut id = false;
    for f in fields {
        let k = storage_key(e, f)?;
        id |= k == "_id";
        p.insert(k, 1);
    }
    if !id {
        p.insert("_id", 0);
    }
    Ok(p)
}

/// The pipeline of a read. Embeds in the query are to-one embeds (with
/// only to-one embeds under them): each is a `$lookup` after the page
/// ([`FindPlan::embeds`] says how to decode them); the read orchestration
/// ([`baas_core::read`]) sends only those, and batches every other embed.
pub fn find(target: Target<'_>, q: &Query) -> Result<FindPlan> {
    let e = target.entity;
    if !q.select.embeds.is_empty() && q.page.partition.is_some() {
        return Err(Error::unsupported(
            ENGINE,
            "joined embeds in a per-parent page",
        ));
    }
    let next = std::cell::Cell::new(0);
    let (mut pipeline, mut m) = filter_with(target, q.filter.as_ref(), &next)?;
    let order = effective_order(e, &q.order);
    if let Some(after) = &q.page.after {
        let k = keyset(e, &q.order, after)?;
        m = if m.is_empty() {
            k
        } else {
            doc! {"$and": [m, k]}
        };
    }
    if !m.is_empty() {
        pipeline.push(doc! {"$match": m});
    }
    let mut json_keys = Document::new();
    let mut keys = Vec::with_capacity(order.len());
    for (i, o) in order.iter().enumerate() {
        if let Some(r) = &o.related {
            // The related row's field, from a `$lookup` of at most one row.
            let h = format!("{HELPER}r{i}");
            pipeline.push(related_lookup(target, r, &o.field, &h, &next)?);
            let first = doc! {"$arrayElemAt": [format!("${h}"), 0]};
            let value = doc! {"$getField": {"field": "v", "input": first}};
            match &o.json {
                None => {
                    json_keys.insert(h.clone(), value);
                    keys.push((h, o.direction, o.effective_nulls(), true));
                }
                // A value inside its JSON field (`rel(data->a)`): the
                // related value in a stage of its own, which the keys read.
                Some(j) => {
                    pipeline.push(doc! {"$addFields": {h.as_str(): value}});
                    for (n, expr) in json_order(&h, &j.path, j.text).into_iter().enumerate() {
                        let k = format!("{HELPER}j{i}_{n}");
                        json_keys.insert(k.clone(), expr);
                        keys.push((k, o.direction, o.effective_nulls(), true));
                    }
                }
            }
            continue;
        }
        let (f, k) = key_of(e, &o.field)?;
        match &o.json {
            None => keys.push((k.to_string(), o.direction, o.effective_nulls(), f.nullable)),
            Some(j) => {
                for (n, expr) in json_order(k, &j.path, j.text).into_iter().enumerate() {
                    let h = format!("{HELPER}j{i}_{n}");
                    json_keys.insert(h.clone(), expr);
                    keys.push((h, o.direction, o.effective_nulls(), true));
                }
            }
        }
    }
    if !json_keys.is_empty() {
        // Its own stage: the null helpers below read these fields.
        pipeline.push(doc! {"$addFields": json_keys});
    }
    let mut helpers = Document::new();
    let mut sort = sort_spec(&keys, &mut helpers, "n");
    if sort.is_empty() {
        sort.insert("_id", 1);
    }
    if !helpers.is_empty() {
        pipeline.push(doc! {"$addFields": helpers});
    }
    if let Some(p) = &q.page.partition {
        let mut by = Document::new();
        for (i, f) in p.fields.iter().enumerate() {
            let (_, k) = key_of(e, f)?;
            by.insert(format!("p{i}"), format!("${k}"));
        }
        let rn = format!("{HELPER}rn");
        pipeline.push(doc! {"$setWindowFields": {
            "partitionBy": by,
            "sortBy": sort.clone(),
            "output": {rn.as_str(): {"$documentNumber": {}}},
        }});
        pipeline.push(doc! {"$match": {rn.as_str(): {"$lte": p.limit as i64}}});
    }
    pipeline.push(doc! {"$sort": sort});
    if let Some(off) = q.page.offset.filter(|o| *o > 0) {
        pipeline.push(doc! {"$skip": off as i64});
    }
    match q.page.limit {
        Some(0) => pipeline.push(doc! {"$match": {"$expr": false}}),
        Some(n) => pipeline.push(doc! {"$limit": n as i64}),
        None => {}
    }
    let fields = selected(e, &q.select.fields)?;
    let mut proj = projection(e, &fields)?;
    // Joined after the page: one lookup per returned row, not per match.
    let mut embeds = Vec::with_capacity(q.select.embeds.len());
    for embed in &q.select.embeds {
        let (stage, j) = lookup_embed(target.schema, e, embed, &next)?;
        pipeline.push(stage);
        proj.insert(j.helper.clone(), 1);
        embeds.push(j);
    }
    pipeline.push(doc! {"$project": proj});
    Ok(FindPlan {
        pipeline,
        fields: fields.iter().map(|f| f.name.clone()).collect(),
        embeds,
    })
}

/// Rows strictly after the cursor in `order` (non-null keys, checked by validation).
fn keyset(e: &Entity, order: &[OrderBy], after: &[Value]) -> Result<Document> {
    if after.len() != order.len() {
        return Err(Error::validation(
            "/page/after",
            "the cursor must have one value per order key",
        ));
    }
    let mut any = Vec::new();
    for i in 0..order.len() {
        let mut all = Vec::new();
        for j in 0..i {
            let (f, k) = key_of(e, &order[j].field)?;
            all.push(Bson::Document(
                doc! {k: {"$eq": to_bson(&f.ty, &after[j])?}},
            ));
        }
        let (f, k) = key_of(e, &order[i].field)?;
        let op = match order[i].direction {
            Direction::Asc => "$gt",
            Direction::Desc => "$lt",
        };
        all.push(Bson::Document(doc! {k: {op: to_bson(&f.ty, &after[i])?}}));
        any.push(Bson::Document(if all.len() == 1 {
            match all.pop() {
                Some(Bson::Document(d)) => d,
                _ => Document::new(),
            }
        } else {
            doc! {"$and": all}
        }));
    }
    Ok(if any.len() == 1 {
        match any.pop() {
            Some(Bson::Document(d)) => d,
            _ => Document::new(),
        }
    } else {
        doc! {"$or": any}
    })
}

/// The pipeline counting the rows that match a filter (result `{n: …}`, or
/// no document at all for zero).
pub fn count(target: Target<'_>, f: Option<&Filter>, cap: Option<u64>) -> Result<Vec<Document>> {
    let (mut pipeline, m) = filter(target, f)?;
    if !m.is_empty() {
        pipeline.push(doc! {"$match": m});
    }
    if let Some(cap) = cap {
        pipeline.push(doc! {"$limit": i64::try_from(cap).unwrap_or(i64::MAX)});
    }
    pipeline.push(doc! {"$count": "n"});
    Ok(pipeline)
}

/// The pipeline selecting the `_id`s of the rows a write addresses.
pub fn ids(target: Target<'_>, f: &Filter) -> Result<Vec<Document>> {
    let (mut pipeline, m) = filter(target, Some(f))?;
    if !m.is_empty() {
        pipeline.push(doc! {"$match": m});
    }
    pipeline.push(doc! {"$project": {"_id": 1}});
    Ok(pipeline)
}

/// One output column of an aggregate: its internal key (`g0`, `a0`; user
/// aliases never reach BSON), output key and type.
#[derive(Debug, Clone)]
pub struct OutColumn {
    /// Key in the pipeline's output documents.
    pub internal: String,
    /// Key in the JSON row.
    pub key: String,
    /// JSON type.
    pub ty: FieldType,
}

/// An aggregate's pipeline and output columns.
#[derive(Debug, Clone)]
pub struct AggregatePlan {
    /// The pipeline.
    pub pipeline: Vec<Document>,
    /// Output columns in order.
    pub columns: Vec<OutColumn>,
}

/// `$group` with one accumulator per aggregate; `having` is a following
/// `$match`. With [`Aggregate::via`], the related row passing its filter
/// is looked up and unwound first (a row without one is dropped, as SQL's
/// inner join, or kept with it missing when
/// [`AggregateVia::outer`](baas_core::ir::AggregateVia::outer)), and
/// the via's groups and aggregates read its fields.
pub fn aggregate(target: Target<'_>, a: &Aggregate) -> Result<AggregatePlan> {
    let e = target.entity;
    let (mut pipeline, m) = filter(target, a.filter.as_ref())?;
    if !m.is_empty() {
        pipeline.push(doc! {"$match": m});
    }
    // The entity and key prefix each via's fields come from: its related
    // row, looked up under a helper key of its own.
    let mut vias: Vec<(&Entity, String)> = Vec::with_capacity(a.via.len());
    for (i, (via, related)) in a.via_entities(target)?.into_iter().enumerate() {
        let helper = format!("{HELPER}via{i}");
        let (mut stages, m) = filter(
            Target::new(target.schema, &related.name)?,
            via.filter.as_ref(),
        )?;
        if !m.is_empty() {
            stages.push(doc! {"$match": m});
        }
        stages.push(doc! {"$limit": 1});
        // Linked to the aggregated row, or to an earlier via's row.
        let (from, at) = match via.parent.and_then(|p| vias.get(p)) {
            Some((parent, prefix)) => (*parent, prefix.as_str()),
            None => (e, ""),
        };
        pipeline.push(join_at(
            from,
            at,
            &via.from_fields,
            related,
            &via.to_fields,
            stages,
            &helper,
        )?);
        // Outer: a row without a related row stays, its fields missing.
        pipeline.push(if via.outer {
            doc! {"$unwind": {"path": format!("${helper}"), "preserveNullAndEmptyArrays": true}}
        } else {
            doc! {"$unwind": format!("${helper}")}
        });
        vias.push((related, format!("{helper}.")));
    }
    let mut columns: Vec<OutColumn> = Vec::new();
    let mut group_id = Document::new();
    let mut finish = Document::new();
    finish.insert("_id", 0);
    let mut nullable = std::collections::HashMap::new();
    // The caller's zone, for an instant's day (UTC: none).
    let zone = a.time_zone()?;
    let zone_of = |ty: &baas_core::FieldType| {
        zone.filter(|_| *ty == baas_core::FieldType::TimestampTz)
            .map(|z| z.name())
    };
    let side = |via: Option<usize>| match via.and_then(|i| vias.get(i)) {
        Some((related, prefix)) => (*related, prefix.as_str()),
        None => (e, ""),
    };
    for (i, (related, g)) in a.stored_groups().enumerate() {
        let (from, pre) = side(related);
        let (f, k) = key_of(from, g)?;
        let k = format!("{pre}{k}");
        let internal = format!("g{i}");
        // A related row's field is missing where there is none (an outer
        // via): one group with a null one, as SQL's left join.
        if related.is_some() {
            group_id.insert(
                internal.clone(),
                doc! {"$ifNull": [format!("${k}"), Bson::Null]},
            );
        } else {
            group_id.insert(internal.clone(), format!("${k}"));
        }
        finish.insert(internal.clone(), format!("$_id.{internal}"));
        // A related field is null where an outer via finds no row.
        let key = Aggregate::answer_key(related, &f.name);
        nullable.insert(
            key.clone(),
            (internal.clone(), f.nullable || related.is_some()),
        );
        columns.push(OutColumn {
            internal,
            key,
            ty: f.ty.clone(),
        });
    }
    for (j, (related, g)) in a.computed_groups().enumerate() {
        let (from, pre) = side(related);
        let (f, k) = key_of(from, g.field())?;
        let zone = zone_of(&f.ty);
        let internal = format!("gv{j}");
        // `$ifNull`: a missing value and null are one group (an `_id`
        // without the key would be another).
        group_id.insert(
            internal.clone(),
            doc! {"$ifNull": [group_value(&format!("{pre}{k}"), g, zone)?, Bson::Null]},
        );
        finish.insert(internal.clone(), format!("$_id.{internal}"));
        let key = Aggregate::answer_key(related, g.key());
        nullable.insert(key.clone(), (internal.clone(), true));
        columns.push(OutColumn {
            internal,
            key,
            ty: g.answer_type(),
        });
    }
    let mut group =
        doc! {"_id": if group_id.is_empty() { Bson::Null } else { Bson::Document(group_id) }};
    // Exact averages by key: their `$avg` (internal), which `having`
    // compares.
    let mut averages: std::collections::HashMap<String, String> = Default::default();
    for (i, (related, ag)) in a.all_aggregates().enumerate() {
        let (from, pre) = side(related);
        let field = ag.func.field().map(|f| key_of(from, f)).transpose()?;
        let internal = format!("a{i}");
        // The stored value, or the value computed from it (an input cast).
        let path = match (field, &ag.input) {
            (Some((f, k)), Some(g)) => Some(group_value(&format!("{pre}{k}"), g, zone_of(&f.ty))?),
            (f, _) => f.map(|(_, k)| Bson::String(format!("${pre}{k}"))),
        };
        let present = |p: &Bson| doc! {"$ne": [{"$ifNull": [p, Bson::Null]}, Bson::Null]};
        let input = field.map(|(f, _)| ag.input_type(&f.ty));
        // What `$sum` adds: 64-bit integers as decimals, whose sum goes
        // past 2^63 exactly (a `long` sum would turn into a rounded
        // double), as PostgreSQL's `numeric` sum of an `int8`; a value
        // of another type in the field is no number and adds nothing.
        let summed = |p: &Bson| -> Bson {
            if input == Some(baas_core::FieldType::Int64) {
                Bson::Document(
                    doc! {"$cond": [{"$isNumber": p.clone()}, {"$toDecimal": p.clone()}, Bson::Null]},
                )
            } else {
                p.clone()
            }
        };
        // An exact average is answered as its sum (null without values)
        // and its count (`finish_averages`); `$avg` still orders.
        if let (true, Some(p)) = (ag.func.exact_average(input.as_ref()), &path) {
            let (sum, n) = (format!("s{i}"), format!("c{i}"));
            group.insert(internal.clone(), doc! {"$avg": summed(p)});
            group.insert(sum.clone(), doc! {"$sum": summed(p)});
            // The numbers only, the values `$sum` adds (a document of
            // another type in a typed field counts for neither).
            group.insert(
                n.clone(),
                doc! {"$sum": {"$cond": [{"$isNumber": p.clone()}, 1_i64, 0_i64]}},
            );
            finish.insert(internal.clone(), 1);
            finish.insert(
                sum.clone(),
                doc! {"$cond": [{"$gt": [format!("${n}"), 0]}, format!("${sum}"), Bson::Null]},
            );
            finish.insert(n.clone(), 1);
            let key = Aggregate::answer_key(related, &ag.alias);
            nullable.insert(key.clone(), (internal.clone(), true));
            averages.insert(key.clone(), internal);
            let sum_ty = AggregateFn::average_sum_type(input.as_ref());
            columns.push(OutColumn {
                internal: sum,
                key: key.clone(),
                ty: sum_ty,
            });
            columns.push(OutColumn {
                internal: n,
                key: format!("{key}{AVERAGE_COUNT}"),
                ty: baas_core::FieldType::Int64,
            });
            continue;
        }
        match (&ag.func, path) {
            (AggregateFn::Count, _) => {
                group.insert(internal.clone(), doc! {"$sum": 1_i64});
                finish.insert(internal.clone(), 1);
            }
            (AggregateFn::CountValues { .. }, Some(p)) => {
                group.insert(
                    internal.clone(),
                    doc! {"$sum": {"$cond": [present(&p), 1_i64, 0_i64]}},
                );
                finish.insert(internal.clone(), 1);
            }
            (AggregateFn::CountDistinct { .. }, Some(p)) => {
                group.insert(internal.clone(), doc! {"$addToSet": p});
                finish.insert(
                    internal.clone(),
                    doc! {"$size": {"$filter": {"input": format!("${internal}"), "cond": {"$ne": ["$$this", Bson::Null]}}}},
                );
            }
            (AggregateFn::Sum { .. }, Some(p)) => {
                // SQL's SUM of no value is null, `$sum` gives 0: count the values too.
                let n = format!("c{i}");
                group.insert(internal.clone(), doc! {"$sum": summed(&p)});
                group.insert(n.clone(), doc! {"$sum": {"$cond": [present(&p), 1, 0]}});
                finish.insert(
                    internal.clone(),
                    doc! {"$cond": [{"$gt": [format!("${n}"), 0]}, format!("${internal}"), Bson::Null]},
                );
            }
            (AggregateFn::Avg { .. }, Some(p)) => {
                group.insert(internal.clone(), doc! {"$avg": p});
                finish.insert(internal.clone(), 1);
            }
            (AggregateFn::Min { .. }, Some(p)) => {
                group.insert(internal.clone(), doc! {"$min": p});
                finish.insert(internal.clone(), 1);
            }
            (AggregateFn::Max { .. }, Some(p)) => {
                group.insert(internal.clone(), doc! {"$max": p});
                finish.insert(internal.clone(), 1);
            }
            _ => {
                return Err(Error::validation(
                    "/aggregates",
                    "aggregate without a field",
                ));
            }
        }
        let ty = ag
            .func
            .result_type(field.map(|(f, _)| ag.input_type(&f.ty)).as_ref());
        let can_be_null = !matches!(
            ag.func,
            AggregateFn::Count
                | AggregateFn::CountValues { .. }
                | AggregateFn::CountDistinct { .. }
        );
        let key = Aggregate::answer_key(related, &ag.alias);
        nullable.insert(key.clone(), (internal.clone(), can_be_null));
        columns.push(OutColumn { internal, key, ty });
    }
    pipeline.push(doc! {"$group": group});
    pipeline.push(doc! {"$project": finish});
    let mut having = Vec::new();
    for h in &a.having {
        let (internal, ty) = match averages.get(&h.alias) {
            Some(avg) => (avg.clone(), baas_core::FieldType::Float64),
            None => columns
                .iter()
                .find(|c| c.key == h.alias && c.internal.starts_with('a'))
                .map(|c| (c.internal.clone(), c.ty.clone()))
                .ok_or_else(|| {
                    Error::validation("/having", format!("unknown aggregate `{}`", h.alias))
                })?,
        };
        let v = h
            .value
            .coerce(&ty)
            .map_err(|m| Error::validation("/having", m))?;
        having.push(Bson::Document(
            doc! {internal.as_str(): {cmp_op(h.op): to_bson(&ty, &v)?}},
        ));
    }
    match having.len() {
        0 => {}
        1 => {
            if let Some(Bson::Document(d)) = having.pop() {
                pipeline.push(doc! {"$match": d});
            }
        }
        _ => pipeline.push(doc! {"$match": {"$and": having}}),
    }
    // A JSON value group sorts as the IR orders JSON values (BSON puts
    // numbers before strings): by helper keys over the grouped value, the
    // first null for the null group so that nulls are placed as asked.
    let mut json_keys = Document::new();
    let mut keys = Vec::new();
    for o in &a.order {
        let (internal, can_be_null) = nullable.get(&o.field).cloned().ok_or_else(|| {
            Error::validation(
                "/order",
                format!(
                    "`{}` is neither a group-by field nor an aggregate alias",
                    o.field
                ),
            )
        })?;
        let json_value = a.computed_groups().any(|(r, g)| {
            Aggregate::answer_key(r, g.key()) == o.field
                && matches!(g, GroupValue::Json { text: false, .. })
        });
        if !json_value {
            keys.push((internal, o.direction, o.effective_nulls(), can_be_null));
            continue;
        }
        for (n, mut k) in json_order(&internal, &[], false).into_iter().enumerate() {
            if n == 0 {
                k = Bson::Document(
                    doc! {"$cond": [{"$eq": [format!("${internal}"), Bson::Null]}, Bson::Null, k]},
                );
            }
            let h = format!("{HELPER}j{internal}_{n}");
            json_keys.insert(h.clone(), k);
            keys.push((h, o.direction, o.effective_nulls(), true));
        }
    }
    if !json_keys.is_empty() {
        pipeline.push(doc! {"$addFields": json_keys});
    }
    let mut helpers = Document::new();
    let mut sort = sort_spec(&keys, &mut helpers, "n");
    // Groups come out of `$group` in no particular order: make it total.
    for c in &columns {
        if c.internal.starts_with('g') && !sort.contains_key(&c.internal) {
            sort.insert(c.internal.clone(), 1);
        }
    }
    if !helpers.is_empty() {
        pipeline.push(doc! {"$addFields": helpers});
    }
    if !sort.is_empty() {
        pipeline.push(doc! {"$sort": sort});
    }
    if let Some(o) = a.offset.filter(|o| *o > 0) {
        pipeline.push(doc! {"$skip": i64::try_from(o).unwrap_or(i64::MAX)});
    }
    if let Some(l) = a.limit {
        if l == 0 {
            pipeline.push(doc! {"$match": {"$expr": false}});
        } else {
            pipeline.push(doc! {"$limit": l as i64});
        }
    }
    Ok(AggregatePlan { pipeline, columns })
}

/// A row to write as a document (storage keys, values already converted
/// by validation). Fields absent from the row are absent from the document
/// (read back as null).
pub fn document(e: &Entity, row: &TypedRecord<'_>) -> Result<Document> {
    let mut d = Document::new();
    for (f, v) in row {
        d.insert(storage_key(e, f)?, to_bson(&f.ty, v)?);
    }
    Ok(d)
}

/// The `$set` document of an update.
pub fn update_set(e: &Entity, set: &TypedRecord<'_>) -> Result<Document> {
    let d = document(e, set)?;
    if d.contains_key("_id") {
        return Err(Error::unsupported(
            ENGINE,
            "changing a document's key (`_id` is immutable)",
        ));
    }
    Ok(doc! {"$set": d})
}

/// The value a typed row gives `field` (null when absent).
pub fn typed_value<'r>(row: &'r TypedRecord<'_>, field: &str) -> &'r Value {
    row.iter()
        .find(|(f, _)| f.name == field)
        .map_or(&Value::Null, |(_, v)| v)
}

/// The filter matching a row by the values of `fields` in `row` (the upsert
/// conflict target).
pub fn key_match(e: &Entity, fields: &[String], row: &TypedRecord<'_>) -> Result<Document> {
    let mut d = Document::new();
    for f in fields {
        let (fd, k) = key_of(e, f)?;
        d.insert(k, doc! {"$eq": to_bson(&fd.ty, typed_value(row, f))?});
    }
    Ok(d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_patterns_become_anchored_literal_regexes() {
        assert_eq!(like_to_regex("100\\%%"), "^100\\%.*(?!.)");
        assert_eq!(like_to_regex("a_b"), "^a.b(?!.)");
        assert_eq!(like_to_regex("what? [*]"), "^what\\? \\[\\*\\](?!.)");
        assert_eq!(like_to_regex("$where"), "^\\$where(?!.)");
        assert_eq!(like_to_regex("a\\"), "^a\\\\(?!.)");
        assert_eq!(like_to_regex("é.^"), "^é\\.\\^(?!.)");
    }

    #[test]
    fn json_path_keys() {
        assert!(plain_key("a"));
        assert!(plain_key("2"));
        assert!(!plain_key("a.b"));
        assert!(!plain_key("$where"));
        assert!(!plain_key(""));
    }
}
