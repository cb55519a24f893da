//! SQL type names → [`FieldType`], shared by live introspection and the DDL
//! importer so both read `numeric(10,2)` or `TINYINT(1)` the same way.

use baas_core::{FieldType, IntRange};

use crate::Dialect;

/// A column type as declared, mapped to a field type.
#[derive(Debug, Clone, PartialEq)]
pub struct SqlType {
    /// The field type.
    pub ty: FieldType,
    /// Declared maximum length of character types (`varchar(40)` → 40).
    pub max_length: Option<u32>,
    /// True for `serial`/`bigserial` (an auto-increment shorthand).
    pub serial: bool,
    /// The values of an unsigned integer (`INT UNSIGNED` → `0..=4294967295`),
    /// narrower than its field type.
    pub range: Option<IntRange>,
    /// No mapping: the type is read as its text form (`ty` is `Text`).
    pub unmapped: bool,
}

impl SqlType {
    fn of(ty: FieldType) -> Self {
        Self {
            ty,
            max_length: None,
            serial: false,
            range: None,
            unmapped: false,
        }
    }
}

/// The width in bits of an integer type name (`tinyint` → 8), if it is one.
fn int_bits(base: &str) -> Option<u32> {
    Some(match base {
        "tinyint" | "int1" => 8,
        "smallint" | "int2" => 16,
        "mediumint" | "int3" => 24,
        "int" | "integer" | "int4" => 32,
        "bigint" | "int8" => 64,
        _ => return None,
    })
}

/// Split `name(args) rest` into the lowercase base name, the argument list and
/// whether `unsigned` follows.
fn split(declared: &str) -> (String, Vec<String>, bool) {
    let d = declared.trim();
    let lower = d.to_ascii_lowercase();
    let unsigned = lower.contains(" unsigned");
    let (base, args) = match (lower.find('('), lower.rfind(')')) {
        (Some(open), Some(close)) if close > open => {
            let inner = &d[open + 1..close];
            let base = format!("{} {}", &lower[..open], &lower[close + 1..]);
            (base, split_args(inner))
        }
        _ => (lower.clone(), Vec::new()),
    };
    let base = base
        .replace(" unsigned", "")
        .replace(" zerofill", "")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    (base, args, unsigned)
}

/// Arguments of `enum('a','b,c')` or `numeric(10, 2)`, quotes removed.
fn split_args(inner: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quote: Option<char> = None;
    let mut chars = inner.chars().peekable();
    while let Some(c) = chars.next() {
        match (quote, c) {
            (Some(q), c) if c == q => {
                if chars.peek() == Some(&q) {
                    cur.push(q);
                    chars.next();
                } else {
                    quote = None;
                }
            }
            (Some(_), '\\') => {
                if let Some(n) = chars.next() {
                    cur.push(n);
                }
            }
            (Some(_), c) => cur.push(c),
            (None, '\'' | '"') => quote = Some(c),
            (None, ',') => out.push(std::mem::take(&mut cur).trim().to_string()),
            (None, c) => cur.push(c),
        }
    }
    if !cur.trim().is_empty() || !out.is_empty() {
        out.push(cur.trim().to_string());
    }
    out
}

/// Whether `base` (lowercase, without arguments) is a MySQL spatial type.
pub(crate) fn is_mysql_spatial(base: &str) -> bool {
    matches!(
        base,
        "geometry"
            | "point"
            | "linestring"
            | "polygon"
            | "multipoint"
            | "multilinestring"
            | "multipolygon"
            | "geometrycollection"
            | "geomcollection"
    )
}

/// How a spatial column type is read, for the report of an import or
/// introspection: `None` when `declared` is not spatial. MySQL's spatial
/// types are `binary` (MySQL's geometry bytes: a 4-byte SRID, then WKB);
/// PostGIS `geometry`/`geography` and PostgreSQL's geometric types are
/// `text` (hex EWKB, `(x,y)` notation), as the engine prints them.
pub fn spatial_note(dialect: Dialect, declared: &str) -> Option<&'static str> {
    let (base, _, _) = split(declared);
    // `public.geometry(Point,4326)`: the type's schema does not matter.
    let base = base.rsplit('.').next().unwrap_or_default().to_string();
    match dialect {
        Dialect::Mysql if is_mysql_spatial(&base) => Some(
            "spatial type: read as binary (MySQL geometry bytes: 4-byte SRID, then WKB); not queryable as geometry",
        ),
        Dialect::Postgres if matches!(base.as_str(), "geometry" | "geography") => Some(
            "PostGIS type: read as text (hex EWKB, as PostgreSQL prints it); not queryable as geometry",
        ),
        Dialect::Postgres
            if matches!(
                base.as_str(),
                "point" | "line" | "lseg" | "box" | "path" | "polygon" | "circle"
            ) =>
        {
            Some("geometric type: read as text (PostgreSQL's `(x,y)` notation)")
        }
        _ => None,
    }
}

/// Map a declared column type to a field type. Unknown types map to `text`
/// (every engine can render them as text), never to an error.
///
/// ```
/// use baas_sql::{Dialect, types::field_type};
/// use baas_core::{FieldType, IntRange};
/// assert_eq!(field_type(Dialect::Mysql, "TINYINT(1)").ty, FieldType::Boolean);
/// assert_eq!(
///     field_type(Dialect::Postgres, "numeric(10,2)").ty,
///     FieldType::Decimal { precision: Some(10), scale: Some(2) }
/// );
/// assert_eq!(field_type(Dialect::Sqlite, "NVARCHAR(160)").max_length, Some(160));
/// ```
pub fn field_type(dialect: Dialect, declared: &str) -> SqlType {
    let trimmed = declared.trim();
    // PostgreSQL arrays: `integer[]`, `text[][]`, `_int4` (udt names).
    // An array of a type without a mapping is an array of its text forms.
    let array = |inner: SqlType| SqlType {
        unmapped: inner.unmapped,
        ..SqlType::of(FieldType::Array {
            items: Box::new(inner.ty),
        })
    };
    if let Some(elem) = trimmed.strip_suffix("[]") {
        return array(field_type(dialect, elem.trim_end_matches("[]")));
    }
    if let Some(item) = dialect.sql().udt_array_item(trimmed) {
        return array(field_type(dialect, item));
    }
    let (base, args, unsigned) = split(trimmed);
    let serial = matches!(
        base.as_str(),
        "serial" | "bigserial" | "smallserial" | "serial2" | "serial4" | "serial8"
    );
    // The engine's own readings first (MySQL `TINYINT(1)`, SQLite `INT`…).
    if let Some(ty) = dialect.sql().declared_type(&base, &args) {
        return SqlType {
            ty,
            max_length: None,
            serial,
            range: None,
            unmapped: false,
        };
    }
    // PostgreSQL's `money` (text with the locale's currency) and `timetz`
    // (a time with an offset): no mapping keeps their value, so their
    // text form, as PostgreSQL's JSON writes them.
    if dialect == Dialect::Postgres
        && matches!(base.as_str(), "money" | "timetz" | "time with time zone")
    {
        return SqlType {
            ty: FieldType::Text,
            max_length: None,
            serial: false,
            range: None,
            unmapped: true,
        };
    }
    let range = int_bits(&base).filter(|_| unsigned).map(IntRange::unsigned);
    let num = |i: usize| args.get(i).and_then(|a| a.trim().parse::<u32>().ok());
    let ty = match base.as_str() {
        "bool" | "boolean" => FieldType::Boolean,
        "bit" if num(0).is_none_or(|n| n == 1) => FieldType::Boolean,
        // Unsigned values need the next wider type.
        "smallint" | "tinyint" if unsigned => FieldType::Int32,
        "smallint" | "int2" | "tinyint" | "smallserial" | "serial2" => FieldType::Int16,
        // `INT UNSIGNED` does not fit an int32.
        "int" | "integer" | "int4" | "mediumint" | "serial" | "serial4" if unsigned => {
            FieldType::Int64
        }
        "int" | "integer" | "int4" | "mediumint" | "serial" | "serial4" => FieldType::Int32,
        "bigint" | "int8" | "bigserial" | "serial8" => FieldType::Int64,
        "real" | "float4" => FieldType::Float32,
        "float" | "double" | "double precision" | "float8" => FieldType::Float64,
        "numeric" | "decimal" | "dec" | "money" => FieldType::Decimal {
            precision: num(0),
            scale: if num(0).is_some() {
                Some(num(1).unwrap_or(0))
            } else {
                None
            },
        },
        "date" => FieldType::Date,
        "time" | "time without time zone" | "timetz" | "time with time zone" => FieldType::Time,
        "timestamp"
        | "timestamp without time zone"
        | "datetime"
        | "datetime2"
        | "smalldatetime" => FieldType::Timestamp,
        "timestamptz" | "timestamp with time zone" | "datetimeoffset" => FieldType::TimestampTz,
        "uuid" | "uniqueidentifier" => FieldType::Uuid,
        "json" | "jsonb" => FieldType::Json,
        "bytea" | "blob" | "tinyblob" | "mediumblob" | "longblob" | "binary" | "varbinary"
        | "image" => FieldType::Binary,
        "enum" => FieldType::Enum {
            name: None,
            values: args.clone(),
        },
        "char"
        | "character"
        | "nchar"
        | "varchar"
        | "character varying"
        | "nvarchar"
        | "varying character"
        | "native character"
        | "nvarchar2"
        | "varchar2"
        | "bpchar"
        | "national character"
        | "national varchar"
        | "national character varying" => {
            return SqlType {
                ty: FieldType::Text,
                max_length: num(0),
                serial: false,
                range: None,
                unmapped: false,
            };
        }
        _ => {
            return SqlType {
                ty: FieldType::Text,
                max_length: None,
                serial,
                range: None,
                unmapped: true,
            };
        }
    };
    SqlType {
        ty,
        max_length: None,
        serial,
        range,
        unmapped: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn common_declarations() {
        let pg = |s| field_type(Dialect::Postgres, s).ty;
        let my = |s| field_type(Dialect::Mysql, s).ty;
        let lite = |s| field_type(Dialect::Sqlite, s).ty;
        assert_eq!(pg("character varying"), FieldType::Text);
        assert_eq!(pg("timestamp with time zone"), FieldType::TimestampTz);
        assert_eq!(
            pg("integer[]"),
            FieldType::Array {
                items: Box::new(FieldType::Int32)
            }
        );
        assert_eq!(
            pg("_text"),
            FieldType::Array {
                items: Box::new(FieldType::Text)
            }
        );
        assert!(field_type(Dialect::Postgres, "bigserial").serial);
        // Unsigned integers: a type wide enough, and their own range.
        let unsigned = |s| {
            let t = field_type(Dialect::Mysql, s);
            (t.ty, t.range.map(|r| (r.min, r.max)))
        };
        assert_eq!(
            unsigned("tinyint unsigned"),
            (FieldType::Int32, Some((0, 255)))
        );
        assert_eq!(
            unsigned("smallint(5) unsigned"),
            (FieldType::Int32, Some((0, 65_535)))
        );
        assert_eq!(
            unsigned("mediumint unsigned"),
            (FieldType::Int64, Some((0, 16_777_215)))
        );
        assert_eq!(
            unsigned("int(10) unsigned zerofill"),
            (FieldType::Int64, Some((0, 4_294_967_295)))
        );
        assert_eq!(
            unsigned("bigint unsigned"),
            (FieldType::Int64, Some((0, i64::MAX)))
        );
        assert_eq!(unsigned("int"), (FieldType::Int32, None));
        assert_eq!(my("int(11) unsigned"), FieldType::Int64);
        assert_eq!(my("int(11)"), FieldType::Int32);
        assert_eq!(my("smallint(5) unsigned"), FieldType::Int32);
        assert_eq!(my("year(4)"), FieldType::Int16);
        assert_eq!(lite("REAL"), FieldType::Float64);
        assert_eq!(my("timestamp"), FieldType::TimestampTz);
        assert_eq!(my("datetime(6)"), FieldType::Timestamp);
        assert_eq!(
            my("enum('a','it''s','c,d')"),
            FieldType::Enum {
                name: None,
                values: vec!["a".into(), "it's".into(), "c,d".into()]
            }
        );
        assert_eq!(
            my("decimal(10,2)"),
            FieldType::Decimal {
                precision: Some(10),
                scale: Some(2)
            }
        );
        assert_eq!(
            lite("NUMERIC(10,2)"),
            FieldType::Decimal {
                precision: Some(10),
                scale: Some(2)
            }
        );
        assert_eq!(lite("INTEGER"), FieldType::Int64);
        assert_eq!(lite("DATETIME"), FieldType::Timestamp);
        assert_eq!(lite("something odd"), FieldType::Text);
        assert_eq!(
            field_type(Dialect::Mysql, "varchar(255)").max_length,
            Some(255)
        );
    }

    #[test]
    fn spatial_types_have_a_type_and_a_note() {
        for t in [
            "GEOMETRY",
            "point",
            "POLYGON",
            "multipolygon",
            "geomcollection",
        ] {
            assert_eq!(field_type(Dialect::Mysql, t).ty, FieldType::Binary, "{t}");
            assert!(spatial_note(Dialect::Mysql, t).is_some(), "{t}");
        }
        assert_eq!(
            field_type(Dialect::Postgres, "geometry(Point,4326)").ty,
            FieldType::Text
        );
        assert!(spatial_note(Dialect::Postgres, "geometry(Point,4326)").is_some());
        assert!(spatial_note(Dialect::Postgres, "point").is_some());
        assert!(spatial_note(Dialect::Postgres, "public.geography").is_some());
        assert!(spatial_note(Dialect::Mysql, "int").is_none());
        assert!(spatial_note(Dialect::Sqlite, "point").is_none());
    }
}
