//! Reads: query string and headers → [`baas_core::ir::Query`].

use baas_core::ir::{Aggregate, Filter, Page, Query};
use baas_core::{Entity, SchemaMetadata};

use crate::filter::typed;
use crate::headers::{Media, Prefer, RowRange, parse_media, parse_prefer, parse_range};
use crate::params::{FieldAliases, parse_params};
use crate::{ParseLimits, RestError};

/// A parsed read.
#[derive(Debug, Clone, PartialEq)]
pub struct ReadRequest {
    /// The IR query (not yet validated against metadata).
    pub query: Query,
    /// The response must be one object (`Accept: application/vnd.pgrst.object+json`
    /// or `GET /{entity}/{id}`); 0 or several rows is a 406 (404 by key).
    pub singular: bool,
    /// Addressed by primary key (`/{entity}/{id}`): no row is a 404.
    pub by_key: bool,
    /// `HEAD`: the response has headers but no body.
    pub head: bool,
    /// The representation `Accept` asked for (JSON, stripped nulls, one
    /// object, CSV).
    pub media: Media,
    /// The page size was set (or cut) to [`RestLimits::max_limit`](crate::RestLimits::max_limit).
    pub limit_capped: bool,
    /// The `Prefer` header.
    pub prefer: Prefer,
    /// `select=` holds aggregates (`count()`, `col.sum()`…): the read is
    /// this grouped aggregate (grouped by the other listed fields) instead
    /// of [`query`](Self::query), whose filter and page it shares.
    pub aggregate: Option<Box<Aggregate>>,
    /// Output names of renamed fields (`select=alias:col`), applied by
    /// [`read_response`](crate::read_response); `None` when nothing is renamed.
    pub aliases: Option<FieldAliases>,
    /// `Accept: application/geo+json`: the output key of each feature's
    /// geometry (the first selected geometry field), `None` when none is
    /// selected (features without geometry).
    pub geometry: Option<String>,
    /// `Accept: text/csv`: how each key's values are written (their
    /// PostgreSQL text output, [`CsvForm`](crate::csv::CsvForm)).
    pub csv: Option<crate::csv::CsvColumns>,
}

impl ReadRequest {
    /// Whether the read aggregates: at the top ([`aggregate`](Self::aggregate)),
    /// or inside an embedding or a spread at any depth (`rel(count)`,
    /// `...rel(col.sum())`).
    pub fn aggregates(&self) -> bool {
        fn inside(embeds: &[baas_core::ir::Embed]) -> bool {
            embeds
                .iter()
                .any(|e| !e.select.aggregates.is_empty() || inside(&e.select.embeds))
        }
        self.aggregate.is_some() || inside(&self.query.select.embeds)
    }

    /// Make this the read of a `HEAD`: GET's status and headers, no body.
    /// The embeddings change neither (an `!inner` one is already a filter
    /// on the parent, and `Content-Range` counts parent rows), so they are
    /// not read: a `HEAD` costs the parent page (and its count), however
    /// much a `GET` would embed.
    pub fn into_head(&mut self) {
        self.head = true;
        self.query.select.embeds.clear();
    }
}

/// Combine two optional filters with `and`.
pub(crate) fn and_filters(a: Option<Filter>, b: Option<Filter>) -> Option<Filter> {
    match (a, b) {
        (None, x) | (x, None) => x,
        (Some(Filter::And { mut filters }), Some(b)) => {
            filters.push(b);
            Some(Filter::and(filters))
        }
        (Some(a), Some(b)) => Some(Filter::and(vec![a, b])),
    }
}

/// The filter selecting one row of `entity` by its primary key values
/// (text, in key order).
pub fn key_filter(entity: &Entity, key: &[String]) -> Result<Filter, RestError> {
    if entity.primary_key.is_empty() {
        return Err(RestError::bad_request(format!(
            "`{}` has no primary key: address its rows with filters",
            entity.name
        )));
    }
    if key.len() != entity.primary_key.len() {
        return Err(RestError::bad_request(format!(
            "the key of `{}` has {} field(s) ({}); the path gives {} value(s)",
            entity.name,
            entity.primary_key.len(),
            entity.primary_key.join(", "),
            key.len()
        ))
        .with_hint("separate the values of a composite key with commas, in key order"));
    }
    let mut parts: Vec<Filter> = entity
        .primary_key
        .iter()
        .zip(key)
        .map(|(f, v)| {
            let ty = entity.field(f).ok().map(|fd| &fd.ty);
            Filter::eq(f.as_str(), typed(ty, v))
        })
        .collect();
    Ok(if parts.len() == 1 {
        parts.pop().unwrap_or_else(|| Filter::and(Vec::new()))
    } else {
        Filter::and(parts)
    })
}

/// Intersect `offset`/`limit` with a `Range` and cap at `max_limit`.
/// Returns (offset, limit, capped).
pub(crate) fn page_bounds(
    offset: Option<u64>,
    limit: Option<u64>,
    range: Option<RowRange>,
    max_limit: u64,
) -> (u64, u64, bool) {
    let o = offset.unwrap_or(0);
    let q_end = limit.map(|l| o.saturating_add(l));
    let (start, r_end) = match range {
        Some((a, b)) => (o.max(a), b.map(|b| b.saturating_add(1))),
        None => (o, None),
    };
    let end = match (q_end, r_end) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    };
    let lim = end.map(|e| e.saturating_sub(start));
    match lim {
        Some(l) if l <= max_limit => (start, l, false),
        _ => (start, max_limit, true),
    }
}

/// The grouped aggregate a `select=` with aggregates asks for: grouped by
/// the listed fields, with the read's filter, order (of group fields or
/// aggregate keys) and page size.
///
/// A field shown through a path or a cast that could show two stored
/// values as one groups by the value the engine computes
/// ([`Aggregate::group_by_values`], [`crate::params::Node::grouped`]).
fn aggregate_of(
    root: &crate::params::Node<'_>,
    query: &Query,
) -> Result<Option<Box<Aggregate>>, RestError> {
    if !root.aggregated() {
        return Ok(None);
    }
    if root.star {
        return Err(RestError::bad_request(
            "`*` cannot be grouped: list the fields that group the aggregates",
        ));
    }
    if query.page.after.is_some() {
        return Err(RestError::unsupported(
            "cursors (`after`) on aggregates are not supported",
        ));
    }
    Ok(Some(Box::new(Aggregate {
        entity: query.entity.clone(),
        filter: query.filter.clone(),
        group_by: root.group_by.clone(),
        group_by_values: root.grouped.clone(),
        aggregates: root.aggregates.clone(),
        having: Vec::new(),
        order: root.order_by(),
        limit: query.page.limit,
        offset: query.page.offset,
        via: Vec::new(),
        // The caller's, set by validation.
        zone: None,
    })))
}

fn read(
    schema: &SchemaMetadata,
    entity: &Entity,
    key: Option<&[String]>,
    query: &str,
    headers: &[(String, String)],
    limits: &ParseLimits,
) -> Result<ReadRequest, RestError> {
    let prefer = parse_prefer(headers)?;
    let media = parse_media(headers)?;
    let p = parse_params(schema, entity, query, limits)?;
    if p.columns.is_some() {
        return Err(RestError::bad_request("`columns` applies to writes only"));
    }
    if p.on_conflict.is_some() {
        return Err(RestError::bad_request(
            "`on_conflict` applies to writes only",
        ));
    }
    let mut filter = p.root.condition();
    let mut page = Page {
        after: p.after.clone(),
        ..Page::default()
    };
    let mut limit_capped = false;
    match key {
        Some(key) => {
            filter = and_filters(Some(key_filter(entity, key)?), filter);
            page.limit = p.root.limit;
            page.offset = p.root.offset;
        }
        None => {
            let range = parse_range(headers)?;
            let (offset, limit, capped) =
                page_bounds(p.root.offset, p.root.limit, range, limits.http.max_limit);
            page.offset = (offset > 0).then_some(offset);
            page.limit = Some(limit);
            limit_capped = capped;
        }
    }
    let query = Query {
        entity: entity.name.clone(),
        select: p.root.selection(),
        filter,
        order: p.root.order.clone().unwrap_or_default(),
        page,
        count: prefer.count.unwrap_or_default(),
        max_rows: None,
    };
    let aggregate = aggregate_of(&p.root, &query)?;
    let geometry = if media == Media::GeoJson {
        geometry_key(entity, &p.root)?
    } else {
        None
    };
    Ok(ReadRequest {
        aggregate,
        query,
        singular: media.is_singular() || key.is_some(),
        by_key: key.is_some(),
        head: false,
        media,
        limit_capped,
        prefer,
        aliases: p.root.aliases(),
        geometry,
        csv: (media == Media::Csv).then(|| crate::csv::CsvColumns::of(&p.root)),
    })
}

/// The output key of the geometry of `application/geo+json` features: the
/// first geometry field of the row (with `*`, the entity's first; else the
/// first listed), as PostGIS's `ST_AsGeoJSON(row)` takes it. An entity
/// without a geometry field cannot answer GeoJSON: 406.
pub(crate) fn geometry_key(
    entity: &Entity,
    root: &crate::params::Node<'_>,
) -> Result<Option<String>, RestError> {
    if !entity.fields.iter().any(baas_core::Field::is_geometry) {
        return Err(RestError::new(
            406,
            crate::error::codes::MEDIA_TYPE,
            format!(
                "None of these media types are available: application/geo+json (`{}` has no PostGIS geometry field)",
                entity.name
            ),
        )
        .with_hint("accept application/json or text/csv"));
    }
    let geometry = |f: &str| entity.field(f).is_ok_and(baas_core::Field::is_geometry);
    if root.star
        && let Some(f) = entity.fields.iter().find(|f| f.is_geometry())
    {
        return Ok(Some(f.name.clone()));
    }
    Ok(root
        .outputs
        .iter()
        .find(|(key, field)| geometry(field) && !root.shapes.iter().any(|(k, _)| k == key))
        .map(|(key, _)| key.clone()))
}

/// Parse a read of `entity` (`GET /{entity}?…`).
///
/// Values are typed by their field (booleans and numbers become JSON-typed
/// when they parse); field names are not checked here: run
/// [`baas_core::validate::Validator::query`] on the result, which reports
/// unknown fields and bad values with JSON pointers into the IR. Embedding
/// names are resolved here (they decide which entity the nested parameters
/// apply to).
pub fn parse_read(
    schema: &SchemaMetadata,
    entity: &Entity,
    query: &str,
    headers: &[(String, String)],
    limits: &ParseLimits,
) -> Result<ReadRequest, RestError> {
    read(schema, entity, None, query, headers, limits)
}

/// Parse a read of one row by primary key (`GET /{entity}/{id}?…`): the key
/// filter is and-ed with any other filter; the response is singular.
pub fn parse_read_by_key(
    schema: &SchemaMetadata,
    entity: &Entity,
    key: &[String],
    query: &str,
    headers: &[(String, String)],
    limits: &ParseLimits,
) -> Result<ReadRequest, RestError> {
    read(schema, entity, Some(key), query, headers, limits)
}

#[cfg(test)]
mod tests {
    use super::page_bounds;

    #[test]
    fn bounds() {
        assert_eq!(page_bounds(None, None, None, 100), (0, 100, true));
        assert_eq!(page_bounds(Some(5), Some(10), None, 100), (5, 10, false));
        assert_eq!(page_bounds(None, Some(500), None, 100), (0, 100, true));
        assert_eq!(
            page_bounds(None, None, Some((10, Some(19))), 100),
            (10, 10, false)
        );
        assert_eq!(
            page_bounds(None, None, Some((10, None)), 100),
            (10, 100, true)
        );
        assert_eq!(
            page_bounds(Some(20), None, Some((10, Some(29))), 100),
            (20, 10, false)
        );
        assert_eq!(
            page_bounds(Some(5), Some(3), Some((0, Some(99))), 100),
            (5, 3, false)
        );
        assert_eq!(
            page_bounds(Some(50), Some(3), Some((0, Some(9))), 100),
            (50, 0, false)
        );
        assert_eq!(
            page_bounds(
                Some(u64::MAX),
                Some(u64::MAX),
                Some((u64::MAX, Some(u64::MAX))),
                100
            ),
            (u64::MAX, 0, false)
        );
    }
}
