//! Function calls, PostgREST's way: `/{tenant}/rpc/{function}` (and the
//! same under `/{tenant}/rest/v1/`).
//!
//! - **Arguments**: with `GET`/`HEAD`, query parameters named like the
//!   function's parameters (a repeated one is an array); with `POST`, the
//!   keys of the JSON object body, or, with `Prefer: params=single-object`,
//!   the whole body as the one parameter.
//! - **The rest of the query string** (`select`, filters, `order`,
//!   `limit`, `offset`, embeds) applies to the result, read like rows;
//!   aggregates in `select` (`select=id.max()`, `count()`) group the rows
//!   of a function that returns rows, as an entity's.
//! - **Volatility**: `GET`/`HEAD` call only stable and immutable functions
//!   (a volatile one may write): 405 with `Allow: POST`.
//! - **The answer**: a scalar function gives its value, a set of scalars an
//!   array of values, rows an array of objects (with `Content-Range` and
//!   `count` as on an entity), a function returning one row (not `SETOF`)
//!   one object (or `null`), a `void` function `204 No Content`, a
//!   MySQL/MariaDB procedure the rows of its first result set (an array;
//!   filters, order, `select`, offset, limit and counts applied to them in
//!   memory) or, with `OUT`
//!   parameters, one object of their values.

use baas_core::function::{Function, Returns};
use baas_core::ir::Rows;
use baas_core::{Entity, SchemaMetadata};
use serde_json::{Map, Value as J};

use crate::filter::typed;
use crate::read::ReadRequest;
use crate::{ParseLimits, RestError, RestRequest, RestResponse, parse_read};

/// A parsed call.
#[derive(Debug, Clone, PartialEq)]
pub struct RpcRequest {
    /// Arguments by parameter name (not yet converted: the function's
    /// parameters do it, [`Function::call`]).
    pub args: Map<String, J>,
    /// The read of the result (its entity is the function's name).
    pub read: ReadRequest,
    /// The method may write (`POST`); `GET`/`HEAD` may not.
    pub post: bool,
    /// `Prefer: tx=rollback`: call inside a transaction rolled back
    /// afterwards ([`Baas::call_rolled_back`](baas_engine::Baas::call_rolled_back)).
    pub rollback: bool,
    /// `Prefer: handling=strict, max-affected=n`: a call answering more
    /// rows is rolled back and refused, PostgREST's 400 `PGRST124`
    /// ([`Baas::call_with`](baas_engine::Baas::call_with)); not
    /// applied to aggregates of a call.
    pub max_affected: Option<u64>,
}

/// An array literal's elements (texts, nested arrays, `NULL`s) as JSON
/// values of the element type `item`, as a repeated argument's are.
fn typed_elements(item: &baas_core::FieldType, v: baas_core::Value) -> J {
    match v {
        baas_core::Value::Array(items) => {
            J::Array(items.into_iter().map(|i| typed_elements(item, i)).collect())
        }
        baas_core::Value::Text(t) => typed(Some(item), &t).to_json(),
        _ => J::Null,
    }
}

/// Parse a call of `f` (whose result reads through `result`, its
/// [`Function::result_entity`]): the arguments and the read of the result.
/// The method is `GET`, `HEAD` or `POST` (others are a 405 before this);
/// the body must be buffered.
pub fn parse_rpc(
    schema: &SchemaMetadata,
    f: &Function,
    result: &Entity,
    req: &RestRequest,
    limits: &ParseLimits,
) -> Result<RpcRequest, RestError> {
    let (method, query, headers) = (req.method.as_str(), req.query.as_str(), &req.headers);
    let Some(body) = req.body.as_bytes() else {
        return Err(RestError::new(
            500,
            "internal",
            "the request body is still a stream: read it first (Body::collect)",
        ));
    };
    let post = method.eq_ignore_ascii_case("POST");
    let mut args = Map::new();
    // The array arguments given as one literal (`?ids={1,2}`): no more
    // values of theirs may follow.
    let mut literals = std::collections::HashSet::new();
    let mut rest = Vec::new();
    // `POST …?columns=a,b`: the body's keys taken as arguments.
    let mut columns: Option<Vec<String>> = None;
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let key = decode(k)?;
        let text = decode(v)?;
        if post && key == "columns" {
            columns = Some(column_list(&text));
            continue;
        }
        match f.params.iter().find(|p| p.name == key) {
            // A value naming an operator is a filter of the result, as in
            // PostgREST (`?id=5&id=gt.2`: the argument, then a filter).
            Some(p) if !post && !crate::filter::names_operator(&text) => {
                let item = match &p.ty {
                    baas_core::FieldType::Array { items } => Some(items.as_ref()),
                    _ => None,
                };
                // `?ids={1,2}`: PostgreSQL's array literal (postgrest-js
                // writes an array argument so), each element typed.
                if let Some(item) = item
                    && text.trim_start().starts_with('{')
                {
                    if args.contains_key(&key) || !literals.insert(key.clone()) {
                        return Err(RestError::bad_request(format!(
                            "the argument `{key}` is given twice"
                        )));
                    }
                    let array = crate::lex::pg_array_value(&text, limits.ir.max_in_list)?;
                    args.insert(key, typed_elements(item, array));
                    continue;
                }
                // A table's row: its JSON object's text.
                let value = if p.row {
                    serde_json::from_str(&text).map_err(|_| {
                        RestError::bad_request(format!(
                            "the argument `{key}` is a row: a JSON object of its fields"
                        ))
                    })?
                } else {
                    typed(item.or(Some(&p.ty)), &text).to_json()
                };
                match (args.get_mut(&key), item) {
                    (Some(J::Array(a)), Some(_)) if !literals.contains(&key) => a.push(value),
                    (Some(_), _) => {
                        return Err(RestError::bad_request(format!(
                            "the argument `{key}` is given twice"
                        )));
                    }
                    (None, Some(_)) => {
                        args.insert(key, J::Array(vec![value]));
                    }
                    (None, None) => {
                        args.insert(key, value);
                    }
                }
            }
            _ => rest.push(pair),
        }
    }
    let prefer = crate::headers::parse_prefer(headers)?;
    if post {
        let body: J = if body.iter().all(u8::is_ascii_whitespace) {
            J::Object(Map::new())
        } else {
            serde_json::from_slice(body)
                .map_err(|e| RestError::invalid_body(format!("the body is not JSON: {e}")))?
        };
        if f.takes_body() && !prefer.single_object {
            // The whole body (PostgREST's single unnamed `json` parameter).
            args.insert(String::new(), body);
        } else if prefer.single_object {
            let [p] = f.params.as_slice() else {
                return Err(RestError::new(
                    404,
                    crate::error::codes::NO_FUNCTION,
                    format!(
                        "`Prefer: params=single-object` passes the body as the one parameter; `{}` has {}",
                        f.name,
                        f.params.len()
                    ),
                ));
            };
            args.insert(p.name.clone(), body);
        } else {
            match body_arguments(body, columns.as_deref()) {
                Some(m) => args.extend(m),
                None => {
                    return Err(RestError::invalid_body(
                        "the body of a function call is a JSON object of its arguments",
                    )
                    .with_hint(
                        "send `Prefer: params=single-object` to pass it as the one parameter",
                    ));
                }
            }
        }
    }
    // PostgREST reads `Range` on `GET` only: a `POST` call is paged by
    // `limit`/`offset`.
    let ranged: Vec<(String, String)>;
    let headers = if post {
        ranged = headers
            .iter()
            .filter(|(k, _)| {
                !k.eq_ignore_ascii_case("range") && !k.eq_ignore_ascii_case("range-unit")
            })
            .cloned()
            .collect();
        &ranged
    } else {
        headers
    };
    let mut read = parse_read(schema, result, &rest.join("&"), headers, limits)?;
    if method.eq_ignore_ascii_case("HEAD") {
        read.into_head();
    }
    // A call is rolled back when asked (`tx=rollback`), its rows
    // aggregated or not. `max-affected` bounds the rows a call answers,
    // not its aggregates.
    let rollback = prefer.rollback;
    let max_affected = prefer.max_affected.filter(|_| read.aggregate.is_none());
    read.prefer.applied.retain(|a| {
        (max_affected.is_some() || !a.starts_with("max-affected="))
            && (rollback || !a.starts_with("tx=rollback"))
    });
    Ok(RpcRequest {
        args,
        read,
        post,
        rollback,
        max_affected,
    })
}

/// The function `/rpc/{name}` calls: the one of that name, or among
/// overloads the one whose parameters the request's arguments fit
/// ([`SchemaMetadata::overloads_for`]). The arguments are the body's keys
/// (`POST`; those `columns=` lists, if given), or the query parameters that
/// name no operator and are not `select`, `order`,
/// `limit`, `offset`, `and`, `or`, `columns`, `on_conflict`, a cursor
/// (`after=[…]`) or an embedding's (`GET`/`HEAD`: PostgREST's rule, so `?nope=1` is an
/// argument and `?name=eq.x` a filter of the result). Arguments that fit no
/// function of that name (an unknown one, a required one missing): 404
/// `PGRST202`; several overloads: 300 `PGRST203`, as PostgREST answers.
pub(crate) fn overload<'s>(
    schema: &'s baas_core::SchemaMetadata,
    name: &str,
    req: &RestRequest,
) -> Result<&'s baas_core::function::Function, RestError> {
    let all: Vec<_> = schema.functions.iter().filter(|f| f.name == name).collect();
    if all.is_empty() {
        return schema.function(name).map_err(RestError::from);
    }
    // PostgREST's form: `public.f(a => integer)`, `public.f( => text)`.
    let signature = |f: &baas_core::function::Function| {
        let params: Vec<String> = f
            .params
            .iter()
            .map(|p| {
                let ty = p.db_type.clone().unwrap_or_else(|| p.ty.name().to_string());
                format!("{} => {ty}", p.name)
            })
            .collect();
        let schema = f
            .source
            .schema
            .as_deref()
            .map(|s| format!("{s}."))
            .unwrap_or_default();
        format!("{schema}{}({})", f.source.table, params.join(", "))
    };
    // Several overloads fit: PostgREST's 300 `PGRST203`.
    let ambiguous = |several: &[&baas_core::function::Function]| {
        RestError::new(
            300,
            crate::error::codes::AMBIGUOUS_FUNCTION,
            format!(
                "Could not choose the best candidate function between: {}",
                several
                    .iter()
                    .map(|f| signature(f))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        )
    };
    let mut keys: Vec<String> = Vec::new();
    let post = req.method.eq_ignore_ascii_case("POST");
    if post && crate::headers::parse_prefer(&req.headers).is_ok_and(|p| p.single_object) {
        // The body is the one argument: of the overloads taking one.
        if let [f] = all.as_slice() {
            return Ok(f);
        }
        let one: Vec<_> = all.iter().filter(|f| f.params.len() == 1).collect();
        match one.as_slice() {
            [f] => keys.push(f.params[0].name.clone()),
            [] => {
                return Err(RestError::new(
                    404,
                    crate::error::codes::NO_FUNCTION,
                    format!("no overload of `{name}` takes one parameter"),
                ));
            }
            several => {
                let several: Vec<_> = several.iter().map(|f| **f).collect();
                return Err(ambiguous(&several));
            }
        }
    } else if post {
        let Some(body) = req.body.as_bytes() else {
            return Ok(all[0]);
        };
        let columns = req.query.split('&').find_map(|pair| {
            let (k, v) = pair.split_once('=')?;
            (k == "columns").then(|| column_list(&decode(v).unwrap_or_default()))
        });
        if body.iter().all(u8::is_ascii_whitespace) {
            // No arguments.
        } else if let Some(m) = serde_json::from_slice(body)
            .ok()
            .and_then(|b| body_arguments(b, columns.as_deref()))
        {
            keys.extend(m.keys().cloned());
        } else if let [f] = all.as_slice() {
            // Not an object: the call's parse says why.
            return Ok(f);
        }
    } else {
        const RESERVED: [&str; 3] = ["select", "columns", "on_conflict"];
        const EMBEDDABLE: [&str; 5] = ["order", "limit", "offset", "and", "or"];
        for pair in req.query.split('&').filter(|p| !p.is_empty()) {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            let k = decode(k).unwrap_or_default();
            let last = k.rsplit('.').next().unwrap_or("");
            let v = decode(v).unwrap_or_default();
            // A keyset cursor (`after=[…]`) is ours, not an argument.
            let cursor = k == "after" && v.trim_start().starts_with('[');
            let argument = !(k.contains('.')
                || RESERVED.contains(&k.as_str())
                || EMBEDDABLE.contains(&last)
                || cursor
                || crate::filter::names_operator(&v));
            if argument && !keys.contains(&k) {
                keys.push(k);
            }
        }
    }
    let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
    // A function of one unnamed `json` parameter takes a `POST`'s body
    // when no overload takes its keys (PostgREST's fallback).
    let mut fitting: Vec<_> = all.iter().copied().filter(|f| f.takes(&keys)).collect();
    if fitting.is_empty() && post {
        fitting = all.iter().copied().filter(|f| f.takes_body()).collect();
    }
    match fitting.as_slice() {
        [f] => Ok(f),
        [] => {
            let mut sorted = keys.clone();
            sorted.sort_unstable();
            Err(RestError::no_function(&format!("{name}({})", sorted.join(", ")))
            .with_details(format!(
                "Searched for the function {name} with parameters {}, but no matches were found in the schema cache.",
                if sorted.is_empty() { "none".to_string() } else { sorted.join(", ") }
            ))
            .with_hint(format!(
                "{}: {}",
                if all.len() == 1 {
                    "its signature"
                } else {
                    "its overloads"
                },
                all.iter()
                    .map(|f| signature(f))
                    .collect::<Vec<_>>()
                    .join("; ")
            )))
        }
        several => {
            // Two overloads with the same parameter names: no call can
            // choose between them (PostgREST's hint); else naming other
            // arguments may.
            let names: Vec<_> = several.iter().map(|f| f.param_names()).collect();
            let twins = names
                .iter()
                .enumerate()
                .any(|(i, n)| names[..i].contains(n));
            let hint = if twins {
                "Try renaming the parameters or the function itself in the database so function overloading can be resolved"
            } else {
                "name the arguments of one overload only"
            };
            Err(ambiguous(several).with_hint(hint))
        }
    }
}

/// The arguments of a call's JSON body, as PostgREST takes them: the
/// object, or the first object of an array of objects (an empty array:
/// none); with `columns=`, only the keys it lists. `None`: not an object.
fn body_arguments(body: J, columns: Option<&[String]>) -> Option<Map<String, J>> {
    let mut m = match body {
        J::Object(m) => m,
        J::Array(items) if items.iter().all(J::is_object) => match items.into_iter().next() {
            Some(J::Object(m)) => m,
            _ => Map::new(),
        },
        _ => return None,
    };
    if let Some(cols) = columns {
        m.retain(|k, _| cols.contains(k));
    }
    Some(m)
}

/// The names `columns=a,b` lists.
fn column_list(text: &str) -> Vec<String> {
    text.split(',')
        .map(|c| c.trim().trim_matches('"').to_string())
        .filter(|c| !c.is_empty())
        .collect()
}

fn decode(s: &str) -> Result<String, RestError> {
    let plus = s.replace('+', " ");
    percent_encoding::percent_decode_str(&plus)
        .decode_utf8()
        .map(|c| c.into_owned())
        .map_err(|_| RestError::bad_request("the query string is not valid UTF-8"))
}

/// The answer to a call, shaped by what `f` returns (see the module docs).
pub fn rpc_response(f: &Function, req: &ReadRequest, rows: Rows, max_bytes: u64) -> RestResponse {
    let set = f.returns.is_set();
    match &f.returns {
        Returns::Void => {
            let mut headers = Vec::new();
            crate::response::preference_applied(&req.prefer, &mut headers);
            RestResponse {
                status: 204,
                headers,
                body: Vec::new().into(),
            }
        }
        Returns::Entity { .. } | Returns::Rows { .. } | Returns::Procedure { .. }
            if set || req.singular =>
        {
            crate::read_response_within(req, rows, max_bytes)
        }
        Returns::Entity { .. } | Returns::Rows { .. } | Returns::Procedure { .. } => {
            let total = rows.total;
            let one = rows.rows.into_iter().next().map_or(J::Null, J::Object);
            value_response(req, &one, 1, total, max_bytes)
        }
        Returns::Scalar { .. } => {
            let key = f.name.as_str();
            let total = rows.total;
            let values: Vec<J> = rows
                .rows
                .into_iter()
                .map(|mut r| r.remove(key).unwrap_or(J::Null))
                .collect();
            let n = values.len();
            if !set {
                let one = values.into_iter().next().unwrap_or(J::Null);
                return value_response(req, &one, 1, total, max_bytes);
            }
            // One value asked for (`Accept: …object+json`): the value, or
            // PostgREST's 406 for none or several.
            if req.singular {
                if n != 1 {
                    return crate::RestError::singular(n as u64).to_response();
                }
                let one = values.into_iter().next().unwrap_or(J::Null);
                return value_response(req, &one, 1, total, max_bytes);
            }
            value_response(req, &J::Array(values), n, total, max_bytes)
        }
    }
}

/// A function's value (or values): with PostgREST's `Content-Range` of
/// the `returned` values (of `total`, counted when asked for), and its
/// 206 when they are a part of it.
fn value_response(
    req: &ReadRequest,
    v: &J,
    returned: usize,
    total: Option<u64>,
    max_bytes: u64,
) -> RestResponse {
    let body = if req.head {
        Vec::new()
    } else {
        match crate::response::json_body_within(v, 1, max_bytes) {
            Ok(b) => b,
            Err(e) => return e.to_response(),
        }
    };
    let offset = req.query.page.offset.unwrap_or(0);
    let status = match total {
        Some(t) if (returned as u64) < t => 206,
        _ => 200,
    };
    let mut headers = vec![
        (
            "content-type".into(),
            "application/json; charset=utf-8".into(),
        ),
        (
            "content-range".into(),
            crate::content_range(offset, returned, total),
        ),
    ];
    crate::response::preference_applied(&req.prefer, &mut headers);
    RestResponse {
        status,
        headers,
        body: body.into(),
    }
}
