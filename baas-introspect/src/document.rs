//! Reading a JSON or YAML document (JSON Schema, OpenAPI) into a JSON value.
//!
//! YAML is read into its own tree first, so that what a JSON value cannot
//! hold is reported rather than fatal: an integer literal beyond the 64-bit
//! range (a `minimum: -9223372036854776000` in a real specification) becomes
//! the nearest float, with a note in [`Import::skipped`](crate::Import).
//! YAML merge keys (`<<`) are applied; tags are dropped.

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

use crate::json_schema::escape;
use crate::{ImportError, Location, Skipped};

/// How many nested merge keys (`<<`) are followed.
const MAX_MERGE_DEPTH: usize = 32;

/// Parse a JSON or YAML document into a JSON value, with notes about values
/// that were read approximately. JSON syntax errors and YAML errors carry a
/// line and column.
pub(crate) fn parse_document(text: &str) -> Result<(Value, Vec<Skipped>), ImportError> {
    let (text, bom) = match text.strip_prefix('\u{feff}') {
        Some(t) => (t, 1),
        None => (text, 0),
    };
    let trimmed = text.trim_start();
    if trimmed.starts_with('{') || trimmed.starts_with('[') {
        // serde_json reads integers beyond 64 bits as floats by itself.
        return serde_json::from_str(text)
            .map(|v| (v, Vec::new()))
            .map_err(|e| {
                let column = e.column().max(1) + if e.line() == 1 { bom } else { 0 };
                ImportError::at(e.line().max(1), column, strip_position(&e.to_string()))
            });
    }
    let node: Node = serde_yaml_ng::from_str(text).map_err(|e| {
        let (line, column) = e
            .location()
            .map_or((1, 1), |l| (l.line().max(1), l.column().max(1)));
        ImportError::at(
            line,
            column,
            format!("YAML: {}", strip_position(&e.to_string())),
        )
    })?;
    let mut notes = Vec::new();
    let value = to_json(node, "", &mut notes, 0)?;
    Ok((value, notes))
}

/// Drop the " at line X column Y" suffix the parsers add (the location is kept
/// separately).
fn strip_position(msg: &str) -> String {
    msg.find(" at line ")
        .map_or(msg, |i| msg.get(..i).unwrap_or(msg))
        .to_string()
}

/// A YAML value, with room for integers a JSON value cannot hold.
enum Node {
    Null,
    Bool(bool),
    Int(i64),
    Uint(u64),
    /// An integer beyond 64 bits, as written.
    Wide(String),
    Float(f64),
    Str(String),
    Seq(Vec<Node>),
    Map(Vec<(Node, Node)>),
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(NodeVisitor)
    }
}

struct NodeVisitor;

impl<'de> Visitor<'de> for NodeVisitor {
    type Value = Node;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("any YAML value")
    }
    fn visit_unit<E>(self) -> Result<Node, E> {
        Ok(Node::Null)
    }
    fn visit_none<E>(self) -> Result<Node, E> {
        Ok(Node::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Node, D::Error> {
        Node::deserialize(d)
    }
    fn visit_bool<E>(self, v: bool) -> Result<Node, E> {
        Ok(Node::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Node, E> {
        Ok(Node::Int(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Node, E> {
        Ok(Node::Uint(v))
    }
    fn visit_i128<E>(self, v: i128) -> Result<Node, E> {
        Ok(Node::Wide(v.to_string()))
    }
    fn visit_u128<E>(self, v: u128) -> Result<Node, E> {
        Ok(Node::Wide(v.to_string()))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Node, E> {
        Ok(Node::Float(v))
    }
    fn visit_str<E>(self, v: &str) -> Result<Node, E> {
        Ok(Node::Str(v.to_string()))
    }
    fn visit_string<E>(self, v: String) -> Result<Node, E> {
        Ok(Node::Str(v))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Node, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Node::Seq(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Node, A::Error> {
        let mut entries = Vec::new();
        while let Some(entry) = map.next_entry()? {
            entries.push(entry);
        }
        Ok(Node::Map(entries))
    }
    /// A tagged value (`!Tag value`): the tag is dropped.
    fn visit_enum<A: de::EnumAccess<'de>>(self, data: A) -> Result<Node, A::Error> {
        use de::VariantAccess;
        let (_tag, variant): (de::IgnoredAny, _) = data.variant()?;
        variant.newtype_variant()
    }
}

fn to_json(
    node: Node,
    ptr: &str,
    notes: &mut Vec<Skipped>,
    depth: usize,
) -> Result<Value, ImportError> {
    Ok(match node {
        Node::Null => Value::Null,
        Node::Bool(b) => Value::Bool(b),
        Node::Int(i) => Value::from(i),
        Node::Uint(u) => Value::from(u),
        Node::Wide(text) => {
            let approx = text
                .parse::<f64>()
                .ok()
                .and_then(serde_json::Number::from_f64);
            notes.push(Skipped {
                location: Location::Pointer(ptr.to_string()),
                what: format!("integer {text}"),
                reason: "beyond the 64-bit range; read as the nearest float".into(),
            });
            approx.map_or(Value::String(text), Value::Number)
        }
        Node::Float(f) => serde_json::Number::from_f64(f)
            .map_or_else(|| Value::String(f.to_string()), Value::Number),
        Node::Str(s) => Value::String(s),
        Node::Seq(items) => Value::Array(
            items
                .into_iter()
                .enumerate()
                .map(|(i, v)| to_json(v, &format!("{ptr}/{i}"), notes, depth))
                .collect::<Result<_, _>>()?,
        ),
        Node::Map(entries) => {
            let mut out = Map::new();
            let mut merged: Vec<Map<String, Value>> = Vec::new();
            for (k, v) in entries {
                let key = match k {
                    Node::Str(s) => s,
                    Node::Int(n) => n.to_string(),
                    Node::Uint(n) => n.to_string(),
                    Node::Wide(n) => n,
                    Node::Float(n) => n.to_string(),
                    Node::Bool(b) => b.to_string(),
                    Node::Null => "null".to_string(),
                    Node::Seq(_) | Node::Map(_) => {
                        return Err(ImportError::at_pointer(
                            ptr,
                            "mapping keys must be strings, numbers or booleans",
                        ));
                    }
                };
                if key == "<<" {
                    merged.extend(merge_sources(v, ptr, notes, depth)?);
                    continue;
                }
                let child = format!("{ptr}/{}", escape(&key));
                let v = to_json(v, &child, notes, depth)?;
                out.insert(key, v);
            }
            // Merged keys never override the mapping's own.
            for m in merged {
                for (k, v) in m {
                    out.entry(k).or_insert(v);
                }
            }
            Value::Object(out)
        }
    })
}

/// The mappings a merge key (`<< : *a` or `<< : [*a, *b]`) brings in,
/// earlier ones first.
fn merge_sources(
    node: Node,
    ptr: &str,
    notes: &mut Vec<Skipped>,
    depth: usize,
) -> Result<Vec<Map<String, Value>>, ImportError> {
    if depth > MAX_MERGE_DEPTH {
        return Err(ImportError::at_pointer(
            ptr,
            "YAML merge keys nested too deeply",
        ));
    }
    let not_mapping = || {
        ImportError::at_pointer(
            ptr,
            "YAML merge keys: `<<` must be a mapping or a list of mappings",
        )
    };
    let items = match node {
        Node::Seq(items) => items,
        other => vec![other],
    };
    items
        .into_iter()
        .map(|item| match to_json(item, ptr, notes, depth + 1)? {
            Value::Object(m) => Ok(m),
            _ => Err(not_mapping()),
        })
        .collect()
}
