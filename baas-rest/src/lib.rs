//! # baas-rest
//!
//! The HTTP dialect of mini-baas, framework-free: a plain [`RestRequest`]
//! (method, path, query, headers, body: whole or a stream, see [`body`]) is
//! routed ([`route()`], [`resolve`]: by route family, see [`family`]) and
//! parsed into
//! the [`baas_core::ir`] (a [`ReadRequest`] holding a `Query`, or a
//! [`WriteRequest`] holding an `Insert`/`Update`/`Delete`); the engine
//! validates and runs it; [`read_response`] / [`write_response`] /
//! [`RestError::to_response`] turn the outcome back into a plain
//! [`RestResponse`]. Integration crates (axum, actix) only convert types.
//!
//! The URL grammar follows PostgREST's, so postgrest-js, supabase-js and
//! postgrest-py work against it.
//!
//! ```
//! use baas_core::{Entity, Field, FieldType, SchemaMetadata};
//! use baas_core::ir::{CompareOp, Filter};
//! use baas_rest::{Operation, ParseLimits, RestRequest, parse_request, route};
//!
//! let schema = SchemaMetadata::new(vec![Entity::new(
//!     "artist",
//!     vec![Field::new("artist_id", FieldType::Int32), Field::new("name", FieldType::Text)],
//! )
//! .with_primary_key(["artist_id"])]);
//! let req = RestRequest::new("GET", "/acme/artist", "artist_id=gt.10&order=name&limit=5");
//! let r = route(&req.path, &req.headers).unwrap();
//! assert_eq!(r.tenant(), Some("acme"));
//! let Operation::Read(read) = parse_request(&schema, &r, &req, &ParseLimits::default()).unwrap() else {
//!     unreachable!()
//! };
//! assert_eq!(read.query.filter, Some(Filter::cmp("artist_id", CompareOp::Gt, 10i64)));
//! assert_eq!(read.query.page.limit, Some(5));
//! ```
//!
//! ## Grammar → IR
//!
//! | URL / header | IR |
//! | --- | --- |
//! | `col=eq.v` `neq` `gt` `gte` `lt` `lte` | `Filter::Compare` (value typed by the field: booleans and numbers become JSON-typed when they parse, everything else stays text for validation to coerce) |
//! | `col=match.re` / `imatch` | `Filter::Regex` (the pattern bound as a value, unanchored, at most [`MAX_REGEX_BYTES`](baas_core::ir::MAX_REGEX_BYTES) bytes; text fields): PostgreSQL `~` / `~*`, MySQL/MariaDB `REGEXP` behind `(?s-i)` / `(?si)`, SQLite `REGEXP` (the `regex` crate, registered on each connection), MongoDB `$regex` with options `s` / `is`; see the differences below |
//! | `col=like.*a*` / `ilike` | `Filter::Like`, as PostgREST: `*` and `%` match any run, `_` one character, `\` escapes the next character (`\*` `\%` `\_` `\\` match themselves) |
//! | `col=in.(a,b,"c,d")` | `Filter::In` (`"…"` quotes `,` `(` `)`; `\` escapes inside quotes; `in.()` is empty; an unterminated quote is a 400) |
//! | `col=is.null` / `is.not_null` / `is.true` / `is.false` / `is.unknown` | `Filter::Is` (`unknown` → `Null`, a boolean's unknown; on another type PostgreSQL's 400 `42804`, as PostgREST answers) |
//! | `col=isdistinct.v` | `Or[Compare Neq v, Is Null]` |
//! | `col=sl.[1,10)` `sr` `nxr` `nxl` `adj`, `col=cs.[1,5)` `cd` `ov` with a range literal (`[`/`(`-delimited or `empty`; `{…}` is an array) | `Filter::Range`: PostgreSQL's `<< >> &< &> -\|- @> <@ &&` on a range field (`int4range`, `tstzrange`…, a `db_type` ending in `range`), the literal bound and cast to the field's type |
//! | `col=fts.w` `plfts` `phfts` `wfts`, `fts(english).w` | `Filter::TextSearch` with `language` — see below |
//! | `col=eq.{a,b}` / `neq.{…}` on an array field | `Filter::Compare` with the whole array (`Value::Array`, its elements typed, the dimensions of `{{1,2},{3,4}}` kept): PostgreSQL's array `=` (order, length and dimensions count; `NULL` elements equal), MongoDB's array equality; ordered comparisons of arrays are a 422 |
//! | `col=cs.{a,b}` / `cd.{…}` / `ov.{…}` | `Filter::Array` `Contains` / `ContainedBy` / `Overlaps` (PostgreSQL array literal: quotes, `\` escapes, `NULL`; a multi-dimensional one, `{{1,2},{3,4}}`, gives its elements, as PostgreSQL's `@>` `<@` `&&` and `= ANY` ignore dimensions: sub-arrays of matching lengths, at most 6 levels, else a 400) |
//! | `data=cs.{"a":1}` / `cd.[…]` on a JSON field, or at a path inside one (`data->tags=cs.["a"]`) | `Filter::JsonContains` (its `path`: the value there; a missing path matches neither `cs` nor `not.cs`): `jsonb`'s `@>` / `<@` with a JSON operand (what postgrest-js's `.contains(col, {…})` sends): PostgreSQL `@>`; MySQL/MariaDB and SQLite a condition built from the operand with `jsonb`'s rules (`JSON_TYPE`/`JSON_EXTRACT` and `JSON_TABLE` rows; `json_type`, `json_each`: MySQL's own `JSON_CONTAINS` finds a scalar at any depth and `1` unequal to `1.0`), MongoDB an `$expr` built likewise; an operand key holding `"` or `\` is a 501 on SQLite where it must be read by a path (also for `eq` of a document) (SQLite's path text has no escapes; MySQL's is escaped); at most [`MAX_JSON_OPERAND_DEPTH`](baas_core::ir::MAX_JSON_OPERAND_DEPTH) levels and [`MAX_JSON_OPERAND_NODES`](baas_core::ir::MAX_JSON_OPERAND_NODES) values; malformed JSON is a 400 |
//! | `col=eq(any).{a,b}` / `(all)` (any simple operator) | `Or` / `And` of the operator over the elements |
//! | `col=not.op.v` | `Filter::Not` |
//! | `meta->a->b=eq."v"`, `meta->n=gt.5` | `Filter::JsonPath { path: [a, b] }`: a JSON operand (a string quoted; no JSON: PostgreSQL's 400 `22P02`) compared as `jsonb` compares, across types by type (`null` < strings < numbers < booleans < arrays < objects, `[]` first: `meta->n=gt.5` holds for `true`, `neq.5` for `"x"`); an object or array literal with `eq`/`neq`: `Filter::JsonEquals`; `in` → `Or` of `eq` |
//! | `meta->>a=eq.v` / `neq` / `gt` / `gte` / `lt` / `lte` / `in` | `Filter::JsonText`: the text at the path, as `->>` gives a scalar's (a string, a number's text, `true`/`false`), compared with the text `v` as PostgreSQL compares texts (`meta->>n=gt.5` is false for `10`: `'10' < '5'`; `%` `_` as themselves): PostgreSQL by the database's collation, MySQL/MariaDB (`CAST … AS BINARY`), SQLite and MongoDB by bytes (PostgreSQL's `C` collation); an array, an object, JSON `null` or a missing key matches neither a comparison nor its negation; the value may be a rule's reference (`meta->>owner=eq.auth.uid()`) |
//! | `data=eq.{"a":1}` / `neq.[1,2]` / `eq.5` / `eq."text"` / `in.("[1,2]",5)` on a whole JSON field, `data->a=eq.{"b":2}` at a path | `Filter::JsonEquals`: `jsonb`'s `=` on every engine (PostgreSQL's `=`; elsewhere built from the operand: the same type, objects of the same keys, none more, each value equal, arrays of as many elements equal in order, numbers by value: `1` equals `1.0`); a missing path or null field matches neither `eq` nor `neq`; an operand that is no JSON is PostgreSQL's 400 `22P02` (a string is quoted) |
//! | `meta->>a=like.*x*` / `ilike`, `meta->>a=match.^x` / `imatch`, `meta->>a=fts.word` (and `plfts` `phfts` `wfts`), `meta->a=is.null` / `not.is.null` | `Filter::JsonLike` / `Filter::Regex` / `Filter::TextSearch` with a `path` (the text at the path, as `->>` gives a scalar's: a string, a number's text, `true`/`false`; an object, array or missing key matches neither `like` nor `not.like`; full-text search at a path: every engine, MySQL/MariaDB by regular expressions as `MATCH` takes indexed columns only) / `Filter::JsonIsNull` (after `->>`, missing or JSON `null`; after `->`, missing only: PostgreSQL's `->` keeps a JSON `null`, which is no SQL `NULL`, `missing_only`); any key on every engine (`.`, `$`, quotes are data); at most [`MAX_JSON_PATH_STEPS`](baas_core::ir::MAX_JSON_PATH_STEPS) steps (400). `is.true` / `is.false` on a path is PostgreSQL's 400 `42804` (a JSON value is not a boolean: compare it, `meta->flag=eq.true`) |
//! | `or=(a.eq.1,b.gt.2)`, `and=(…)`, `not.or=(…)`, nested `or(…,and(…))`, `not.and(…)` | `Filter::Or` / `And` / `Not`; values quoted `"…"` when they hold `,` `(` `)`; arrays `{…}` |
//! | several parameters | `And` of them |
//! | `select=a,b,*` | `Selection::fields` (`*` = every field; a name beside `*` must still be a field: `*,unknown` is the 422 of `a,unknown`) |
//! | `select=alias:col` | `Selection::fields` names `col`; the response renames it ([`FieldAliases`], applied by [`read_response`] / [`write_response`], so every engine answers alike); `a:col,b:col` gives both |
//! | `select=data->a->>b`, `alias:data->tags->0`, `arr->0` (an array field, as PostgREST's), `loc->>city` (a PostgreSQL composite field: its object, [`Field::is_composite`](baas_core::Field::is_composite); in filters and `order` too), `col::text`, `price::int`, `data->>n::numeric` | the field is read whole; the path (object keys, array indexes, negative from the end) and the cast are applied to the answer, so every engine answers alike: `->` keeps the JSON value, `->>` and `::text` give its text (objects as compact JSON), a missing step is `null`; the key is the last path step (or the alias); casts to `int2` `int4` `int8` `numeric` `float4` `float8` `bool` `text` `varchar` `json` `jsonb` `date` `time` `timestamp` `timestamptz` `uuid` convert as PostgreSQL does (see `Cast` in `params.rs`; a value the type cannot take is a 400 `22P02`, a malformed date or time `22007`, out of range `22003`, a number to a date `42846`; `::timestamptz` of a timestamp without an offset reads it in the caller's zone (`Prefer: timezone`, UTC by default, PostgREST's session zone), and `::date`/`::time`/`::timestamp` of an answered instant take its date or time there; `->>…::json` reads the text as JSON, `data->>meta::json` an object, text that is no JSON `22P02`). In a write's representation, a cast that could refuse a returned value, at the root or inside an embedding, is applied inside the write's transaction, its embeddings read there on SQL engines ([`WriteRequest::check`], [`Baas::write_checked`](baas_engine::Baas::write_checked)): a refusal is its error and nothing is written, as PostgREST's one statement fails (an engine without transactions: 501). A field, or the text at a path inside a JSON field (`data->a::interval`), cast to another type (`col::interval`, `::xml`, `::inet`, `::bpchar`…) is PostgreSQL's own cast ([`Selection::casts`](baas_core::ir::Selection::casts): `to_json(CAST(col AS "type"))`, the value's JSON, as PostgREST shows it: the value's text for most types, an array of an array type (`stops::_text`), an object of a composite type; no such type is its 400 `42704`, a cast it does not make `42846`), (not of a link of an embedding; in a write's representation, the written rows are read again by primary key with the casts, inside the write's transaction; beside aggregates its text groups). Beside the field itself (`id::inet,x:id`, `*,x:id::inet`) or cast twice (`a:id::inet,b:id::cidr`), each cast is read as a column of its own ([`FieldCast::alias`](baas_core::ir::FieldCast::alias)) |
//! | `select=id,full_name`, `select=*,full_name`, `full_name=eq.x`, `order=full_name` | a computed field ([`Field::computed`](baas_core::Field::computed), PostgreSQL: a `STABLE`/`IMMUTABLE` function whose one argument is a row of the table, returning one value): read as `schema.fn(table.*)` when named, never by `*` (`*,full_name` adds it after the columns: `Selection::star`), filtered and ordered like a column, inside embeddings too; never written (422) |
//! | `select=*,books_of(title)`, `longest_book(*)` | a computed relationship ([`Relation::function`](baas_core::Relation::function), PostgreSQL: a `STABLE`/`IMMUTABLE` function whose one argument is a row of the table, returning rows of a served table; one name may serve several tables, an overload per table, `get_messages(channels)` and `get_messages(users)`): `SETOF tbl` embeds an array (filtered, ordered and paged per parent like a one-to-many), `tbl` (or `SETOF tbl ROWS 1`) an object or `null`; one named like a foreign key's relation overrides it, as in PostgREST; on a function's rows too (`/rpc/authors?select=name,books_of(title)`); read as `FROM owner AS _p, LATERAL fn(_p.*)` for the parents' keys, under the returned table's read grant; its rows embed further; as a filter of its parent (`books_of!inner(…)`, `books_of=not.is.null`) an `EXISTS (SELECT 1 FROM fn(parent.*) …)`; with aggregates (`books_of(count)`) an aggregate of the lateral call grouped by the parents' keys; a to-one one orders its parent (`order=longest_book(pages)`, a `LEFT JOIN LATERAL fn(parent.*)`) |
//! | `select=rel(…)` (embeds, no field, no `*`) | `Selection::omit_fields`: only the embeds are returned, as in PostgREST |
//! | `select=rel(a,sub(*))`, `alias:rel(…)`, `rel!hint(…)` | `Embed` (nested); `rel` is a relation name, the name of the related entity, a foreign-key constraint name, or a many-to-one's foreign-key column (`artist_id(*)`), as PostgREST resolves them; a hint is a relation or constraint name, a link column of either side, or the junction; a self-reference is the table's name (one-to-many), the column (many-to-one), `table!column` (one-to-many); a name that is both a relation's and its target's, beside other relations to that entity, names the entity (every relation to it a candidate: 300 `PGRST201`, as PostgREST); a computed relationship is named by its function only; the output key stays as written |
//! | `select=rel!inner(…)` | the `Embed`, plus `Filter::Exists { relation, filter: embed's filter }` on the parent |
//! | `select=rel()` + `rel=not.is.null` / `rel=is.null`, also inside `or=(rel.not.is.null,…)` / `and=(…)` | `Exists` / `Not(Exists)` on the parent, with the embedding's own filters (`rel.col=eq.x`, wherever they stand); an empty `()` embeds nothing |
//! | `rel.col=eq.v`, `rel.or=(…)` | the embed's `filter` |
//! | `rel.order=…`, `rel.limit=n`, `rel.offset=n` | the embed's `order` / `limit` / `offset` (per parent) |
//! | `order=a.desc.nullslast,b` | `Query::order` with `Nulls` |
//! | `order=album(title).desc,name`, `order=profile(data->age)` | `OrderBy::related` ([`RelatedKey`](baas_core::ir::RelatedKey)): a field of the row related through a to-one relation (an embedding of this level by its key, or any relation an embedding of that name resolves to; it need not be embedded), or a value inside its JSON field (the path inside the parentheses, as PostgREST writes it; sorted as `order=data->age` sorts), read by a left join (SQL) or a `$lookup` (MongoDB) under the caller's read grant on the related entity (a hidden row sorts as null); in embeddings too; not with a keyset cursor |
//! | `order=data->a->b.desc`, `order=data->>a` | `OrderBy::json` ([`JsonKey`](baas_core::ir::JsonKey)): `->` sorts JSON values by type then value (`null` < strings < numbers < booleans < arrays < objects, as `jsonb`), `->>` their text; a missing path is NULL; in embeddings too (`rel.order=data->a`); not with a keyset cursor (`after`) |
//! | `limit=n`, `offset=n`, `Range: 0-24` (`Range-Unit: items`) | `Page { limit, offset }` (intersected; capped at [`RestLimits::max_limit`], which also applies when no limit is given); a malformed `Range` is a 416, another unit a 400 |
//! | `after=[v1,v2]` (extension: a JSON array) | `Page::after` (keyset cursor, one value per order key) |
//! | `Prefer: count=exact` / `planned` / `estimated` | `Count::Exact` / `Planned` (the planner's estimate of the matching rows: `EXPLAIN` on PostgreSQL and MySQL, MongoDB's collection count without a filter; `estimated` elsewhere) / `Estimated` (exact up to the tenant's row budget, the larger of that and the estimate beyond it) |
//! | `Accept: application/vnd.pgrst.plan+json` / `plan+text` (the service role only) | the engine's plan of the read's own statement (batched embeds are further statements), of an aggregate's grouping statement (joined to-one rows included; embedded ones are further statements), of the statement that reads an `/rpc` function's rows (nothing is called, volatile or not), or of a write's own `INSERT`, `UPDATE` or `DELETE` (`POST`, `PATCH`, `PUT`, `DELETE`, upserts; checked as the write is but without its hooks, which a plan does not run; a limited write's keys read first; an insert bound in several statements shows its first; the written rows read again where MySQL has no `RETURNING` are further statements; nothing is written): `EXPLAIN (FORMAT JSON)` / `EXPLAIN` on PostgreSQL, `EXPLAIN FORMAT=JSON` on MySQL, SQLite's `EXPLAIN QUERY PLAN` (JSON: `{"query_plan": [{"id", "parent", "detail", "plans": [...]}]}`, its nodes nested by `parent`; text: the tree the `sqlite3` shell draws, `QUERY PLAN` then `` `--SEARCH artist USING INTEGER PRIMARY KEY (rowid=?)``), MongoDB's `explain` of the read's (or grouping) pipeline, or of a write's `update`/`delete` command (of the `_id`s it reads first where it reads them: a filter through a relation, a representation; the server's answer without its address and the driver's bookkeeping), with the same bound values and grants; `plan+text` (what postgrest-js's `explain()` asks for by default) is PostgreSQL's and SQLite's text, and MySQL's and MongoDB's JSON plan indented (MariaDB writes no text tree). `for="text/csv"` (a media type we produce; `application/json` without it) and `options=analyze\|verbose\|settings\|buffers\|wal` (PostgREST's, as postgrest-js's `explain()` sends them; unknown names ignored) are named again in the answer's `Content-Type`: PostgreSQL takes the five as its `EXPLAIN` options (`wal` without `analyze` is its 400 `22023`), MariaDB `analyze` (its `ANALYZE FORMAT=JSON`; of a write only to an InnoDB table without triggers, else a 406: a non-transactional table would keep the write, and an `AUTO_INCREMENT` counter stays advanced), MongoDB `analyze` (its `executionStats`: a read's pipeline runs, bounded by the statement timeout; a write's explain never writes). With `analyze` the statement runs as the read would (the caller's request settings and role), inside a transaction that is rolled back (an analyzed write's rows too: no row is kept, no change is published): a volatile function an `/rpc` plan calls keeps nothing the transaction holds (a sequence's `nextval`, a non-transactional MariaDB table, are not), and the tenant's statement timeout bounds it; the analyzed call of a volatile function by `GET` runs in a read-only transaction, as PostgREST's `GET` (a function that writes: the 405 `25006`) |
//! | `Accept-Profile: s` (GET, HEAD), `Content-Profile: s` (writes, `POST /rpc`) | the route names a table or function of database schema `s` (`/book` is `personal.book`, otherwise `personal_book`); `public`, what supabase-js sends by default, keeps the plain names; a schema nothing comes from: 406 `PGRST106` ([`route::apply_profile`]) |
//! | `Accept: application/vnd.pgrst.object+json` | [`ReadRequest::singular`] |
//! | `Accept: text/csv` | [`Media::Csv`]: a header line of the keys, then one line per row (`\n` between lines, none at the end, as PostgREST); each value PostgreSQL's text output of its type, as PostgREST's CSV holds it ([`csv`](mod@csv): booleans `t`/`f`, `2021-01-01 10:00:00+00`, `1e+20`, `jsonb`'s `{"a": [1, 2]}`, array literals `{"a b",NULL}`, a composite field's `(Paris,75001)`, embeddings as `row_to_json`/`json_agg` write them), the same bytes on every engine (a `jsonb` value as PostgreSQL keeps it: keys shorter first, numbers without exponent); RFC 4180 quoting (a field with `,` `"` CR or LF, or an empty string, is quoted, quotes doubled); null is an empty field; `Content-Type: text/csv; charset=utf-8`; on reads, the rows of `/rpc` functions and `return=representation` |
//! | `Accept: application/vnd.pgrst.array+json;nulls=stripped` (or `…object+json;nulls=stripped`) | [`Media::JsonStripped`]: null-valued keys are left out at every depth (embeds and JSON values too, as PostgreSQL's `json_strip_nulls` does for PostgREST) |
//! | `Accept: application/geo+json` (postgrest-js's `.geojson()`) | [`Media::GeoJson`]: a `FeatureCollection`, one `Feature` per row, its `geometry` the row's first selected PostGIS `geometry` field (`*`: the table's first; none selected: `null`), its `properties` the other keys, embeds included; reads of entities, the representation of their writes (`return=representation`), and `/rpc` results with a geometry field. A `geometry` column is read everywhere as its GeoJSON (PostGIS's cast to `jsonb`, as PostgREST shows it in JSON: with `crs` when it has an SRID, which features leave out) and written from GeoJSON (SRID 4326 by default), WKT/EWKT or EWKB hex; a malformed one is a 400. `geography` is a type without a mapping (its text form, as in PostgREST) |
//! | `Accept` with several ranges, `q=` | the acceptable range with the highest `q` that we produce; `q=0` refuses; none: 406 `PGRST107` |
//! | `GET /{entity}/{id}` (composite: `/{entity}/1,2`) | `Compare Eq` on each key field, singular, 404 when absent |
//! | `/{tenant}/rest/v1/{entity}…` | the same as `/{tenant}/{entity}…` (Supabase's prefix; see [`route`](mod@route)) |
//! | `POST` object / array | `Insert` (one / many rows) |
//! | `POST` with `Content-Type: text/csv` (PostgREST's bulk insert) | `Insert` of the rows: a header line of column names, one line per row (RFC 4180 quoting, LF or CRLF); each value a string the field's type converts, `NULL` null, an empty field the empty string; a row of another length is a 400 `PGRST102` |
//! | `POST` + `Prefer: resolution=merge-duplicates` / `ignore-duplicates` (+ `on_conflict=a,b`) | `Insert::on_conflict = Upsert { target, Merge / Ignore, defaults }` (target empty = primary key; `defaults`: the `columns=` of a merge with `Prefer: missing=default`) |
//! | `PUT /{entity}/{id}` | one-row `Insert` with `Upsert { target: primary key, Merge }` |
//! | `PUT /{entity}?pk=eq.v` (PostgREST's) | the same, the key from the filters: they must be one `eq` on each key field and nothing else (405 `PGRST105`, also without a primary key), without `limit`/`offset` (400 `PGRST114`); a body's key that differs from them is a 400 `PGRST115`; of an array body the first row is written, as PostgREST writes it; the body's fields are written and an existing row keeps the others, as PostgREST's `INSERT … ON CONFLICT DO UPDATE` of the body's columns (whose row to insert is checked first, as PostgreSQL checks it: a non-null field without a default left out is a 400 `23502`, row or no row) |
//! | writes to a view | as to a table where the database writes through it (PostgreSQL's auto-updatable views and views with `INSTEAD OF` triggers, MySQL's updatable views), keyed as PostgREST keys views (the view's columns showing a whole primary key of a table it reads, under the view's names for them, through views over views: PostgreSQL's rewrite rules say where each column comes from, MySQL's canonical text of the view does), except that a view written through is keyed only when its rows are one table's (PostgreSQL's auto-updatable views are, their `FROM` holding one relation; others must read no other table) and it shows each key column once: a join could repeat a key, and a write by key must touch one row, and related by its tables' foreign keys; a view the database cannot write is read-only (403) |
//! | `PATCH ?filters` / `PATCH /{entity}/{id}` | `Update` (a filter is required) |
//! | `DELETE ?filters` / `DELETE /{entity}/{id}` | `Delete` (a filter is required) |
//! | `PATCH`/`DELETE` `?filters&order=a&limit=n&offset=m` | PostgREST's limited update/delete ([`Limited`]): the [`Service`] reads the keys of the first `n` matching rows after `m` in that order (the primary key breaks ties) under the caller's grants, then writes those rows only (filter `and` keys; a row changed in between so that it no longer matches is left out); `limit` or `offset` without `order` is a 400 `PGRST109`; `limit` at most [`RestLimits::max_limit`]; an entity without primary key: 501. `order` alone there, and `order`/`limit`/`offset` on `POST`, say nothing of the rows written and are ignored, as PostgREST ignores them |
//! | `columns=a,b` | body keys outside the list are dropped |
//! | `Prefer: return=representation` / `minimal` / `headers-only` | `returning: Some(select= fields, empty = all)` / `None` / `Some(primary key)` + `Location` |
//! | `select=*,rel(…)` with `return=representation` (`.insert(…).select('*, author(*)')`) | the write returns its rows' fields and relation keys, then their embeds are read as a `GET` reads them (the caller's read grants on every embedded entity, the row budget over the written and embedded rows; spreads, aliases, aggregates, the embed-only select and nested `rel.order/limit/offset` too): [`Baas::write_representing`](baas_engine::Baas::write_representing). An `!inner` embedding (`author!inner(*)`, or `author!inner()` to filter unseen) filters the representation, not the write, as in PostgREST: every row is written, the ones without a related row the embedding keeps are not answered ([`WriteRequest::keep_inner`]) |
//! | `Prefer: tx=rollback` / `tx=commit` | the write (or `/rpc` call, its rows aggregated or not) runs and answers as usual, then is rolled back ([`Baas::write_rolled_back`](baas_engine::Baas::write_rolled_back), [`Baas::call_rolled_back`](baas_engine::Baas::call_rolled_back), [`Baas::call_aggregate`](baas_engine::Baas::call_aggregate); 501 on an engine without transactions) / committed (the default) |
//! | `Prefer: missing=default`, `handling=strict`, unknown tokens | accepted / strict rejects unknown tokens (400 `PGRST122`) / ignored |
//! | `Prefer: timezone=America/Los_Angeles` | the caller's zone ([`Principal::timezone`](baas_engine::Principal::timezone)): instants answered and read there on every engine (see the differences below) |
//! | `Prefer: handling=strict, max-affected=n` on `PATCH`/`DELETE` | the matching rows are counted first; more than `n` is a 400 `PGRST124` and nothing is written (ignored without `handling=strict`, as in PostgREST) |
//! | `Prefer: handling=strict, max-affected=n` on `/rpc` (PostgREST 13) | the call runs in a transaction; answering more than `n` rows (after the read's filters and page) is a 400 `PGRST124`, the call rolled back ([`Baas::call_with`](baas_engine::Baas::call_with)); not applied to aggregates of a call (not reported in `Preference-Applied`) |
//! | `Idempotency-Key: k` on a write | see [`idempotency`] (the service replays the first answer) |
//!
//! Full-text search: the query goes as written, with its syntax
//! ([`baas_core::ir::TextSyntax`]). PostgreSQL runs it as PostgREST does:
//! `fts` is `to_tsquery` (`'eggs' & 'ham'`, `|`, `!`, `<->`, `:*`,
//! parentheses), `plfts` `plainto_tsquery`, `phfts` `phraseto_tsquery`,
//! `wfts` `websearch_to_tsquery`; a malformed query is a 400 `42601`, as
//! in PostgREST (a malformed range literal a 400 `22P02`). MySQL/MariaDB,
//! SQLite and MongoDB read the query as PostgreSQL reads each syntax
//! ([`TextSyntax::parse`](baas_core::ir::TextSyntax::parse): the same
//! operators, the same 400 `42601`) and search its words as PostgreSQL's
//! `simple` configuration splits them (letters, marks and digits, any case; no
//! stemming, so `fts(simple)` or no language: another is a 501): MySQL by
//! `MATCH … AGAINST` in boolean mode on a column with a `FULLTEXT` index,
//! the others (and MySQL at a JSON path) by word-bounded regular
//! expressions (MongoDB's have no Unicode classes: there a non-ASCII
//! character that is no letter, `—` or a no-break space, joins the words
//! beside it). Distances `a <3> b` hold places (at most 6 in a phrase;
//! on a MySQL column such a phrase is a regular expression; places are
//! these words, where PostgreSQL's parser counts `foo-bar` as three and
//! `3.14` as one), weights `a:AB` match no text without `D`, as PostgreSQL's
//! `to_tsvector` of a text weighs every word `D`. What only PostgreSQL's
//! `tsquery` says (a phrase of anything but words, longer phrases)
//! is a 501 there; a query nests at most 32 `!` and `(` deep (400). Differences that remain: with
//! no language PostgreSQL uses the database's `default_text_search_config`
//! (often `english`: stems and stop words), where the others search the
//! words as written (`fts(simple)` asks PostgreSQL for the same); its
//! parser keeps an e-mail address, a URL or a number like `3.14` as one
//! token; MySQL's `FULLTEXT` parser counts `_` and a `'` inside a word
//! as the word's, and applies its stop words and minimum word length. On a
//! whole JSON field (`body=fts.word`, PostgreSQL) the document's string
//! values are searched (`to_tsvector` of `jsonb`, as PostgREST searches
//! it; keys and numbers are not); elsewhere a 501.
//!
//! ## Not supported (and the error returned)
//!
//! | construct | error |
//! | --- | --- |
//! | casts in `select` to other types on MySQL/MariaDB, SQLite, MongoDB (types of PostgreSQL's); in a write's representation, PostgreSQL's own casts of the written rows' fields when the entity has no primary key to read them again by | 501 (the first naming the engine) |
//! | to-many embeddings or a cursor (`after`) beside top-level aggregates, an embedding with aggregates that embeds a to-many relation (PostgREST's own statement fails on both embeddings: PostgreSQL cannot group by the embedding's `json_agg`, `could not identify an equality operator for type json`; a group of many parents has no one set of related rows to show) | 501 naming the engine |
//! | grouping top-level aggregates by a cast that can merge stored values other than `::date` of a timestamp, `::int2`/`::int4`/`::int8` of a decimal or float and `::bool` of an integer (`::time` of a timestamp, `::float4` of a double, casts of a text such as `::int` or `::uuid`, a cast other than `::text`/`::json` after a JSON path) on MySQL/MariaDB, SQLite and MongoDB (they turn a text that is no number or date into `0` or `NULL` where PostgreSQL refuses it) | 501 naming the engine |
//! | aggregates in a spread inside a to-many spread (`...albums(...tracks(count()))`) | 400 `PGRST127` `Feature not implemented`, PostgREST's answer (it refuses aggregates in any to-many spread) |
//! | aggregating the database's own cast of a value (`data->>n::int.sum()`, `id::text.max()`) on MySQL/MariaDB, SQLite and MongoDB (casts every engine computes alike work everywhere: `total::int.sum()`, `created::date.max()`) | 501 naming the engine |
//! | aggregates of what an `/rpc` function returns when it is no row: a scalar's values, a procedure's result set, `void` (aggregates of a function's rows work) | 501 |
//! | beside aggregates, `order` by a field that groups nothing (`select=artist(name),count()&order=artist_id`), or through a relation (`order=rel(col)`) that is no to-one embedding or spread listing `col` (PostgreSQL refuses PostgREST's statement) | 422 |
//! | `order=rel(col)` through a to-many relation (computed or not) | 422 |
//! | range operators on anything but a PostgreSQL range field (a range column otherwise reads as its text form; `eq`, `in` and ordering compare ranges, `like` that text) | 422 (not a range field), 501 on engines without range types |
//! | `Accept: application/vnd.pgrst.plan…` (EXPLAIN) from another caller than the service role, a plan of an insert on MongoDB (its `explain` has none), the options `verbose`, `settings`, `buffers`, `wal` on MongoDB, the options `verbose`, `settings`, `buffers`, `wal` on MySQL/MariaDB and `analyze` on MySQL (its `EXPLAIN ANALYZE` writes no JSON), any option on SQLite (its `EXPLAIN QUERY PLAN` runs nothing and takes none), `analyze` of a write on MariaDB to a table that is not InnoDB (or a view) or has triggers (a non-transactional table would keep what it writes), a write of nothing (`[]`, `{}`: no statement runs), a MySQL procedure's `CALL`, `for=` a media type we do not produce | 406 `PGRST107` (why in the message) |
//! | `Accept: application/geo+json` on an entity without a PostGIS geometry field; any other type (`text/xml`, `text/plain`…) | 406 `PGRST107` |
//! | an array or an object as the operand of `gt`/`gte`/`lt`/`lte` after `->` (`data->a=lt.[2]`) on MySQL/MariaDB and MongoDB (PostgreSQL and SQLite order them as `jsonb`; equality works everywhere) | 501 naming the engine |
//! | range operators (`sl`, `adj`…) on a JSON path; more than three array indexes from the end in one JSON path (`data->-1->-1->-1->-1`) on MySQL/MariaDB (each is found row by row, MariaDB's `[last]` being resolved once per statement, and the statement grows with each) | 501 (the second naming the engine) |
//! | `NULL` in an `(any)`/`(all)` list | 400 |
//! | `/rpc/{function}` on SQLite and MongoDB (no stored functions); a cursor, embeddings, aggregates, the database's own casts, or a filter memory cannot decide (`fts`, `match`) on a MySQL/MariaDB procedure's result set (a `CALL` is no source a query reads from: filters, order, `select`, offset, limit and counts apply to its rows in memory) | 501 naming the engine |
//! | polymorphic functions (`anyelement`: no type to convert an argument to), functions with unnamed parameters other than a computed field's row or one unnamed `json`, `jsonb`, `text`, `xml` or `bytea` parameter alone, as computed fields or relationships `VOLATILE` functions of a row (a named row argument is still a call's), a row of a composite type that is no served table, `record` or `SETOF record` without a column list | not introspected (the name is a 404; overloads PostgreSQL then cannot choose between, `f()` beside `f(int DEFAULT 1)`, are its 400 `42725`) |
//! | the request settings in a read that calls no function of the database's (a table's read, a view whose rule calls no function nor `current_setting`: one statement on the pool, see `BENCHMARKS.md`, or in a session of the caller's zone alone under `Prefer: timezone`; hand-written metadata sets `request_settings` on an entity to change that), unless the tenant switches to the caller's database role (`TenantConfig::database_roles`, PostgREST's `SET LOCAL role`: then every statement runs in the caller's settings and role, the database's row-level security applying) | not set |
//! | a function call's body as `application/x-www-form-urlencoded`; `Prefer: params=single-object` on `GET` | 400 `PGRST102` / 404 `PGRST202` |
//! | `..rel(cols)` (PostgREST's development branch: distinct values of a to-many spread) | 400 `PGRST100` |
//! | computed fields on MySQL/MariaDB, SQLite, MongoDB (hand-written metadata) | 501 |
//! | computed relationships of an entity without a primary key (a view showing no whole primary key of a table it reads: the rows are fetched per parent by its key) | 400 `PGRST200` (no relation) |
//! | a representation (`return=representation`, `headers-only`) of a write to a MySQL/MariaDB view that shows no whole table key (no `RETURNING`: the rows are read again by key) | 501 naming the engine (the write with `return=minimal` goes through) |
//! | embedding through a view column that is an expression, or whose rule also has a subquery column of the same name from elsewhere (a view takes its base tables' foreign keys from where each column comes from, renamed or not: the rewrite rule's target entries, as PostgREST reads them; a foreign key between two tables also holds between views over each, `works?select=writers(name)` over tables of another schema) | 400 `PGRST200` (no relation) |
//! | unknown operator, malformed value, unbalanced parentheses or quotes, unknown embedding | 400 |
//! | a write body without `Content-Type: application/json` (or `application/…+json`, or `text/csv` to insert); the form types a browser sends cross-origin without asking (`application/x-www-form-urlencoded`, `multipart/form-data`, `text/plain`), which PostgREST takes, are refused so that a page elsewhere cannot write with a visitor's ambient credentials | 415 |
//!
//! ## Differences from PostgREST
//!
//! - An answer's keys follow `select=` (an embedding before a field, an
//!   aggregate before the fields that group it, a to-one spread's
//!   `count()` among its fields, also through spreads inside it, as
//!   PostgREST's), except where a spread lists `*` or holds a to-many
//!   spread: its raised `count()` then follows its fields.
//! - A JSON path's index (`data->0`, `data->-1`) steps into an array
//!   only, and a key into an object only, on every engine, in filters,
//!   `order` and `select` (an object's key `"0"` is no `->0`, as in
//!   PostgreSQL; MongoDB's dotted paths, which also look into every
//!   element of an array, are only a first cut for an index); PostgreSQL's
//!   `->0` and `->-1` of a scalar answer the scalar itself, here nothing.
//! - After `->>`, comparisons, `like`/`ilike`, `match`/`imatch` and
//!   `fts` read a scalar's text (a string, a number's, `true`/`false`),
//!   as PostgreSQL's: a number's text as the document writes it (MySQL:
//!   its own form, `1e20`; PostgreSQL's `jsonb`: `100000000000000000000`;
//!   MongoDB: `$toString`'s); an array or an object matches neither a
//!   condition nor its negation (PostgreSQL's `->>` gives its JSON text),
//!   and PostgreSQL's `fts` on `->` searches every string of an object or
//!   array.
//! - The embeddings of a write's representation are read after the
//!   write's statement, in statements of their own (PostgREST reads them
//!   in the write's statement), inside the write's transaction on the SQL
//!   engines: they show the related rows as the write left them (after a
//!   `DELETE` with `ON DELETE CASCADE`, no children), and a
//!   representation whose embedded rows exceed the row budget writes
//!   nothing (the error says so); an insert of more rows than the budget
//!   is refused before it writes. On MongoDB (whose reads do not see a
//!   transaction's writes) they are read once the write is done, and such
//!   an error says the write was made.
//! - `like`/`ilike`: `\*` matches a literal `*` (PostgREST turns it into
//!   `\%`, a literal `%`), and a trailing `\` matches a backslash
//!   (PostgreSQL refuses the pattern).
//! - `match` / `imatch`: each engine uses its own regex dialect on the
//!   bound pattern. PostgreSQL: POSIX ARE (`\m`, `\y`, back-references);
//!   MySQL 8: ICU; MariaDB: PCRE2; SQLite: Rust's `regex` crate (no
//!   back-references or look-around; linear time; a pattern it cannot
//!   compile, or larger than 1 MiB compiled, is a 422); MongoDB: PCRE.
//!   Plain syntax (`^ $ . * + ? | [] () {m,n}`, classes like `[a-z]`,
//!   `\d`) means the same everywhere; `.` matches a newline on every
//!   engine (as PostgreSQL's default). `imatch` and `match` ignore the
//!   column's collation (MariaDB's case-insensitive default included).
//!   A malformed pattern is the engine's error (a 4xx, wording per engine).
//! - `order=data->a`: PostgreSQL sorts with `jsonb`'s own order, and
//!   SQLite too (a collation mini-baas registers,
//!   [`baas_core::jsonb_order`]: strings by their bytes, as PostgreSQL's
//!   `C` collation); MySQL/MariaDB and MongoDB sort by type (an empty
//!   array first of all), then numbers by value and strings by the
//!   column's collation, arrays and objects by their length, as
//!   PostgreSQL does, but two arrays or two objects of as many elements
//!   or pairs by their JSON text on MySQL/MariaDB (`[10]` before `[9]`,
//!   where `jsonb` compares element by element), in BSON order on
//!   MongoDB.
//!   `order=data->>a` on MongoDB writes a double's text by `$toString`.
//! - `text/csv` is quoted as RFC 4180 says (PostgREST's upcoming
//!   `pg_csv` too), where PostgREST's record text also quotes a value
//!   holding white space or `(` `)` `\` and doubles backslashes; an empty
//!   string is `""` (as in PostgREST's record text; `pg_csv` leaves it
//!   empty, as a null). A JSON field's `null` is an empty field, as SQL's
//!   null; a PostGIS geometry is its GeoJSON text (PostgREST's CSV holds
//!   its EWKB hex).
//! - Upsert statuses follow PostgREST's (a merge `POST` that inserts
//!   nothing is a 200, a `PUT` with a representation that inserts is a
//!   201), but where PostgreSQL's `xmax` tells PostgREST atomically, the
//!   [`Service`] counts the body's keys that already exist just before the
//!   write (one more query per merge upsert; a concurrent writer in between
//!   can change the answer, never the data). A caller who may not read the
//!   rows gets the plain statuses (201 / 200).
//!   `Content-Range` on writes is PostgREST's: `*/n` for inserts and
//!   deletes, `0-(n-1)/n` for updates (returned or not), none for `PUT`.
//! - A MySQL/MariaDB procedure's rows are filtered and ordered in memory:
//!   texts by bytes, where a table's read compares them in the server's
//!   collation (often case-insensitive).
//! - Strings at a JSON path (after `->` and `->>`) compare by bytes on
//!   MySQL/MariaDB, SQLite and MongoDB, as in PostgreSQL's `C`
//!   collation; another collation of the database orders them otherwise
//!   there (`B` before `a` in `C`, after it in `en_US`).
//! - `Prefer: timezone=…` takes the names of the IANA time zone database
//!   (chrono-tz's list, in any case; PostgREST takes those of
//!   `pg_timezone_names`) on every engine; one the PostgreSQL server's own
//!   zone data lacks is a 400 `22023` there. mini-baas applies the zone
//!   itself to what it reads and writes: answers write `timestamptz`
//!   values in the zone (rows, embeddings, aggregates, a function's
//!   answer, a write's representation, CSV, casts in `select`), in
//!   PostgreSQL's JSON form (`2024-01-15T10:00:00-08:00`, `-04:56:02`
//!   for a local mean time), and a `timestamptz` the caller writes,
//!   filters by or passes to a function without an offset is a local time
//!   there (one that happens twice is the later, one that never happens
//!   is read with the offset before the change, as PostgreSQL reads
//!   them). A rule's own instants (its filter, presets and checks) are
//!   UTC whoever asks, and a write's instants are compared with a check
//!   as instants, whatever zone or offset they were written in. A
//!   grouping beside aggregates takes an instant's date (and, on
//!   PostgreSQL, its time or local timestamp) in the zone too
//!   (`select=at::date,count()` groups by the zone's dates, as PostgREST's
//!   session zone makes PostgreSQL group, on every engine: PostgreSQL and
//!   MongoDB name the zone, MySQL/MariaDB and SQLite, which need no time
//!   zone data of their own, pick the zone's offset at the instant from
//!   chrono-tz's table, the one the answers' instants are written with). On PostgreSQL the request runs
//!   with the zone as its session's `timezone` (PostgREST's `SET LOCAL
//!   timezone`), so what a view or a function computes from an instant
//!   (`now()::date`, `to_char(at, 'HH24:MI')`), PostgreSQL's own casts
//!   (`at::interval`) and a `tstzrange` literal without offsets are the
//!   zone's as well (at the cost of a transaction around the request's
//!   statements, as request settings: BENCHMARKS.md); the other engines
//!   compute them in UTC. What stays in UTC everywhere: instants past
//!   chrono's years (262143 on), and the rows hooks and realtime see. Another name (an abbreviation, `PST`; a POSIX rule,
//!   `UTC+3`) is an unknown preference: ignored, or a 400 `PGRST122`
//!   under `handling=strict`.
//! - Binary values (`bytea`, `BLOB`, BinData) are PostgreSQL's hex text
//!   on every engine (`"\\x48656c6c6f"`, as PostgREST answers a `bytea`),
//!   and are written and filtered as that; a string without the `\x` is
//!   read as base64, where PostgreSQL reads it in its escape form (the
//!   text's own bytes, `\\` a backslash).
//! - A read without `order` answers its rows in primary-key order on
//!   every engine (the key breaks ties of any `order` too), so that
//!   pages are stable and engines agree; PostgREST answers the
//!   database's order, which PostgreSQL does not promise (in practice
//!   the table's physical order). A function's rows (`/rpc`, computed
//!   relationships) without `order` come as the database answers them,
//!   in practice the function's own order, as in PostgREST; a page per
//!   parent of a computed relationship (`rel.limit=1`) is in primary-key
//!   order (its window needs one to be repeatable).
//! - An unbalanced `and=(…)`/`or=(…)` is a 400 (PostgREST ignores a
//!   surplus `)` at the end).
//! - A table or function that does not exist is PostgREST's 404
//!   `PGRST205` / `PGRST202` without PostgREST's hint naming close
//!   names (which would list the schema to anonymous callers), the same
//!   answer whether the tenant exists or not; `/rpc`: a function
//!   that exists but takes other arguments (an unknown one, a required one
//!   missing) is PostgREST's 404 `PGRST202`, its hint the signature
//!   (for a caller who may call it; others get no hint). A
//!   repeated query argument of a scalar parameter is a 400 (PostgREST
//!   takes the last).
//! - Error bodies of database refusals keep PostgREST's code and status
//!   (`23505` 409, `23503` 409, `23502` 400…) with a message and details
//!   of ours, the same on every engine (`` `id`: a row with this value
//!   already exists`` where PostgreSQL writes `Key (id)=(1) already
//!   exists.`); a value that is none of its field's
//!   type is a 422 `validation` before any statement (PostgreSQL: 400
//!   `22P02`/`22007`).
//! - A malformed `Range` header is a 416 and a `Range-Unit` other than
//!   `items` a 400 (PostgREST ignores both and answers every row): a
//!   client that asks for a part it cannot have is told so, with
//!   PostgREST's 416 code `PGRST103`.
//! - `Prefer: count=planned`/`estimated` count exactly where the engine
//!   has no row estimate (SQLite; MongoDB with a filter), and
//!   `estimated`'s threshold is the tenant's row budget (PostgREST's:
//!   `db-max-rows`).
//! - `on_conflict` without `Prefer: resolution=…` is a 400, not ignored;
//!   filters on `POST` are a 400.
//! - A written value is read as PostgreSQL's `json_to_recordset` under
//!   PostgREST reads it, on every engine: a number's text for a number
//!   field (`"7"`, spaces around it skipped as PostgreSQL skips them),
//!   PostgreSQL's boolean texts (`"true"`, `"yes"`, `"f"`), a number or a
//!   boolean for a text (its JSON text)
//!   ([`Value::coerce_body`](baas_core::Value::coerce_body)), but objects
//!   and arrays for a text are a 422; the published write schemas describe
//!   the canonical JSON types. Dates and
//!   times are read as PostgreSQL reads them: a timestamp's text into a
//!   date gives its date as written (`toISOString()`), a date in ISO
//!   8601's basic form (`20190101`) is that date, an offset on a
//!   timestamp without zone is dropped, a timestamp with zone without an
//!   offset is UTC; PostgreSQL's other date styles (`Jan 1 2019`,
//!   `1/1/2019`) are a 422.
//! - A bulk insert whose rows have different keys, without `columns=`:
//!   each row's missing keys take their defaults (PostgREST refuses it,
//!   `PGRST102` `All object keys must match`). With `columns=` (how
//!   postgrest-js sends a bulk insert), a listed field a row lacks is
//!   `null`, or with `Prefer: missing=default` its default, as in
//!   PostgREST; on `PATCH`, `columns=` only drops the unlisted keys. A
//!   merging upsert with `Prefer: missing=default` (postgrest-js's
//!   `upsert(rows, { defaultToNull: false })`) resets a listed field a row
//!   lacks to its default in an existing row too, as PostgREST's `SET col
//!   = EXCLUDED.col` ([`Upsert::defaults`](baas_core::ir::Upsert::defaults);
//!   on MongoDB, which has no defaults, the field is removed).
//! - A singular write (`Accept: …object+json`) is not rolled back by
//!   [`write_response`]: the caller checks [`WriteRequest::singular`]
//!   before committing (the [`Service`] counts the rows a `PATCH`/`DELETE`
//!   filter matches first, and refuses an insert of other than one row
//!   before it writes), [`write_response`] answers 406 otherwise.
//! - `Location` (for `return=headers-only`): [`write_response`] answers
//!   `/{entity}/{key}`, relative to the route family's root; the
//!   [`Service`] makes it absolute (`{mount}/{tenant}/{entity}/{key}`, or
//!   `…/{tenant}/rest/v1/{entity}/{key}` through the alias).
//! - An embedding name is a relation name first, then PostgREST's: the
//!   related table, a foreign-key constraint or a foreign-key column;
//!   several candidates give a 300 as in PostgREST.
//!
//! - Aggregates in `select` (`count()`, also written `count` where the
//!   entity has no such field, as PostgREST keeps it, `col.count()` (non-null values),
//!   `col.sum()`, `col.avg()`, `col.min()`, `col.max()`, with `alias:`): grouped by the other listed
//!   fields, filtered, ordered and paged (`limit`, `offset`, `Range`) like the read, under the
//!   caller's grants (`order` names a group by its field or by the key it
//!   is shown under, `select=day:at::date,count()&order=day`, and an
//!   aggregate by its alias, `order=count.desc`, where PostgREST orders
//!   by columns only); `*` beside an aggregate is a 400 (list the group
//!   fields). A cast after one (`count()::text`, `s:total.sum()::text`,
//!   also in embeddings and spreads) converts the answer as a path's cast
//!   does (to `int2` … `uuid`; another type is a 501). A path or a cast
//!   before one (PostgREST's input cast, `data->>n::int.sum()`,
//!   `s:data->>n::integer.sum()::text`, `total::int.sum()`,
//!   `created::date.max()`) aggregates that value
//!   ([`AggregateExpr::input`](baas_core::ir::AggregateExpr::input)),
//!   computed as a grouping by it computes it: `::date` of a timestamp,
//!   `::int` of a number (rounded half away from zero), `::bool` of an
//!   integer and `->>` on every engine; a cast that keeps values and their
//!   order (`::int8` of an integer, `::text` of a text) aggregates the
//!   stored value; the others (`data->>n::int`, `id::text`, which orders
//!   as text) are PostgreSQL's own cast, a 501 naming the engine
//!   elsewhere. `avg` of integers and decimals is PostgreSQL's `numeric`
//!   average on every engine, digit for digit (`1.5000000000000000`; the
//!   engine sums and counts, the division is ours with PostgreSQL's
//!   scale); of floats the engine's float (last bits may differ between
//!   engines). `sum` of 64-bit integers is exact past 2^63, as PostgreSQL's
//!   `numeric` sum of an `int8` (MySQL's `DECIMAL` sum, MongoDB's sum of
//!   `$toDecimal`s, SQLite's sums of the values' high and low 32 bits
//!   joined (its own integer sums stop at 2^63); a whole decimal, a
//!   string for a tenant that keeps decimals as strings).
//!   Inside a one-to-many embedding (`rel(count)`,
//!   `rel(count())`, `rel(col,n:count(),col2.sum())`) they aggregate each
//!   parent's related rows (the embedding's filter and the read grant
//!   apply), grouped by the embedding's listed fields: one object per
//!   group, or exactly one with no grouping field (`[{"count": 0}]` for a
//!   parent without related rows), as PostgREST answers; the groups
//!   follow `rel.order` (a group field, the key it is shown under, or an
//!   aggregate's alias: `tracks(genre_id,n:count())&tracks.order=n.desc`;
//!   then the grouping fields) and `rel.limit`/`rel.offset` page them per
//!   parent, also through a junction (inside a to-one
//!   embedding, over its one related row: an object, `{"count": 0}`
//!   without one, `null` when grouped and there is none:
//!   `artist(name,count())`, `album(...artist(artist_id.sum()))`; so also
//!   inside a to-many embedding or beside aggregates,
//!   `messages(channel(count()))`: one `{"count": 1}` per message, where a
//!   to-one spread's, `messages(...channel(count()))`, count the
//!   messages); its groups may
//!   embed to-one relations (`tracks(genre(name),count())`: grouped by the
//!   related row, as beside top-level aggregates; a parent without related
//!   rows then has no group, `[]`). Inside a many-to-many embedding
//!   (`playlists(name,count())`, `tracks(milliseconds.sum())`) they
//!   aggregate the parent's links — the junction rows its read grant shows
//!   — over their targets, which the embedding's filter and the target's
//!   read grant keep (one statement: the junction joined to the target,
//!   grouped by its link to the parent and the listed target fields; its
//!   groups may embed to-one relations of the targets,
//!   `tracks(genre(name),count())`, and aggregate their fields, each
//!   target joined to its related row, `tracks(...genre(name,genre_id.count()))`); a target linked twice counts twice,
//!   as in PostgREST's join, and a link whose target is gone is not
//!   aggregated (`count()` alone, without a filter, counts the links
//!   without reading their targets). To-one
//!   embeddings beside top-level aggregates (`select=artist(name),count()`)
//!   group by the related row (its key fields, read but not shown) and
//!   embed it in each group, where PostgREST groups by the embedded
//!   values: two related rows whose selected fields are equal stay two
//!   groups here. A group's keys come in the order fields, aggregates,
//!   embeddings (PostgREST: the `select` order). A listed field shown
//!   through a form that can make two stored values one groups by the
//!   shown value, as PostgREST groups, on every engine
//!   ([`Aggregate::group_by_values`](baas_core::ir::Aggregate::group_by_values),
//!   computed by the engine; `order` on the field orders by it):
//!   `data->a` (JSON values: `"1"` and `1` two groups, JSON `null` and a
//!   missing key one, answered `null`; objects compare as `jsonb` on
//!   PostgreSQL and MySQL 8, by their stored text on MariaDB, SQLite and
//!   MongoDB), `data->>a` or `data->a::text` (its text),
//!   `created::date` (the day of a timestamp, UTC for one with an
//!   offset), `total::int` (rounded half away from zero, as the cast
//!   shows a value; PostgreSQL's own cast of a `float8` rounds half to
//!   even), `flags::bool` (whether an integer is not zero); on
//!   PostgreSQL any other cast that can merge values, as PostgreSQL casts
//!   (`created::time`, `code::int` of a text, `data->>n::int`: a text
//!   that is no integer is its 400 `22P02`; a type of its own, such as
//!   `span::interval`, by the cast value's text); inside embeddings too
//!   (`invoices(total::int,count())`, `tracks(unit_price::int,count())`
//!   through a junction; a value of the link to the parent is one per
//!   parent: the stored link groups,
//!   [`Selection::group_by_values`](baas_core::ir::Selection::group_by_values)). A field also listed as
//!   stored, and casts that keep values apart
//!   (`::text`, an integer's `::int8`, a number's `::numeric`) group by
//!   the stored value. One field shown in two forms that each merge
//!   values (`d:created::date,t:created::time`, `a:data->x,b:data->y`)
//!   groups by both, each answered under its key
//!   ([`GroupValue::key`](baas_core::ir::GroupValue::key)); `order`
//!   names such a form by its key (`order=d.desc`), where PostgREST's
//!   `ORDER BY` only takes the field, which PostgreSQL then refuses.
//! - Spreads `...rel(cols)`: a to-one embed's fields join the parent, a
//!   to-many embed's fields become arrays of values (PostgREST 12), nested
//!   spreads too. A spread takes no alias; a missing to-one row adds its
//!   fields as `null`, a to-many spread without related rows as `[]`
//!   (with `...rel(*)`, every field `*` reads for the caller, as
//!   PostgREST adds every column). The to-many relations inside a to-many
//!   spread (spread or embedded) are joined to its rows as PostgREST 13
//!   joins them: one value per combination, the outer values repeated,
//!   `null` where a row has none (`...albums(album_id,...tracks(track_id))`:
//!   `"album_id": [2, 3, 3], "track_id": [2, 3, 4]`); two such relations
//!   side by side multiply the rows, and what the joins add past the rows
//!   the database answered is bounded by the tenant's row budget
//!   (`max_rows`: a 400 `limit_exceeded` past it). Aggregates in a
//!   to-many spread (`...invoices(count(),total.sum())`,
//!   `...invoices(invoice_id,count())`), which PostgREST 13 refuses (400
//!   `PGRST127`), are answered: over every related row of the parent,
//!   joining it as values (`count` 0, the others `null`, without related
//!   rows), its fields staying arrays of every row's value (the rows and
//!   the aggregates are read as two embeddings); under a to-one spread
//!   they reach its parent (PostgREST's development branch, after 13,
//!   answers them otherwise: the related rows joined to the parents and
//!   grouped by the listed fields, one row for all parents). In a spread
//!   inside a to-many spread they are PostgREST 13's 400 `PGRST127`. A to-one
//!   spread's `count()` (`/track?select=...album(title,count())`) counts
//!   the parent's rows, grouped by the spread's fields as
//!   `select=...album(title),count()` is (alone, `...album(count())`,
//!   it groups nothing). Its aggregates of its own fields
//!   (`/track?select=...album(title,album_id.sum())`) are over the
//!   parent's rows too: the related row is joined to each (a left join, as
//!   PostgREST's: a row without one is aggregated with its fields `null`),
//!   the spread's fields grouping with the parent's
//!   ([`Baas::aggregate_joining`](baas_engine::Baas::aggregate_joining)).
//!   The parent's own aggregates stay over its fields
//!   (`total.sum(),...customer(country,support_rep_id.max())`); several
//!   to-one spreads aggregate side by side, each related row joined
//!   (`...album(title,album_id.sum()),...genre(name,count())`). Inside a
//!   one-to-many embedding they are over its rows, per parent, as its own
//!   aggregates are (`/album?select=title,tracks(...genre(name,genre_id.count()))`:
//!   each album's tracks by genre). Spreads inside a spread join in turn,
//!   their aggregates over the parent's rows too
//!   (`/invoice_line?select=...track(media_type_id,...album(album_id.sum()))`:
//!   lines by their track's media type, summing their albums' ids), as do
//!   to-one embeddings inside them (`...track(media_type(name),…)`).
//!   Beside aggregates, a to-one embedding or spread that lists its fields
//!   groups by them, as PostgREST groups (two albums of one title are one
//!   group of `album(title),count()`); one listing `*` groups by its
//!   related row. A related row missing for a group embeds `null`.
//!   `order=rel(col)` orders the groups by a field (or alias) a to-one
//!   spread or embedding `rel` lists, or one of a spread inside it; a
//!   plain `order=col` names a spread's field that no other joined row
//!   lists. Two joined rows may list one name: each groups; aliased, each
//!   shows (`...media_type(kind:name),...genre(g:name)`), else the later
//!   spread's value is the one the row shows, as a client reads
//!   PostgREST's object that holds the key twice.
//! - A column of a type without a mapping (PostgreSQL ranges, `tsvector`,
//!   `inet`, PostGIS `geography`…; [`Field::db_type`](baas_core::Field::db_type); a
//!   PostGIS `geometry` is its GeoJSON instead, see `application/geo+json`) is a
//!   string: its PostgreSQL text form, read with `CAST(col AS text)`,
//!   compared and sorted in its own type (`col < CAST($1 AS type)`, so an
//!   `interval`, a range, `inet` or `money` order as PostgreSQL orders
//!   them; `xml` and the geometric types, which PostgreSQL does not
//!   order, as text), written through `CAST($1 AS type)`; `money` and
//!   `timetz` are such types too; `fts` on a
//!   `tsvector` column searches it directly (words with `plainto_tsquery`).
//!   An array of such a type (`int4range[]`, `inet[]`) is an array of
//!   those strings, each element's output as PostgreSQL's JSON writes it
//!   (`CAST(CAST(col AS text) AS text[])`: `10.0.0.3`, not `10.0.0.3/32`).
//! - `/rpc/{function}` ([`rpc`]): `POST` calls any function; `GET` and
//!   `HEAD` a stable or immutable one, and on PostgreSQL also a volatile
//!   one (PostgreSQL's default) in a read-only transaction, as PostgREST
//!   does: a write in it is a 405 with the database's `25006`, nothing
//!   written (so are aggregates of its rows, `select=count()`;
//!   MySQL/MariaDB: a function that may write is `POST` only).
//!   Arguments are passed by name only (a
//!   function with unnamed parameters is not served, but for a computed
//!   field's row and PostgREST's single unnamed parameter: `f(json)` or
//!   `f(jsonb)` takes a `POST`'s whole JSON body, whatever its keys;
//!   `f(text)` the argument `""`, `{"": "hello"}`; a raw `text/plain`,
//!   `text/xml` or `application/octet-stream` body is refused, 415, as
//!   every body that is no JSON); a row of a served table is a JSON object of its fields
//!   (`{"user_row": {"username": "x"}}`, or its text in the query string;
//!   missing fields null, unknown ones ignored: PostgreSQL's
//!   `json_populate_record`, as PostgREST's `json_to_recordset` fills
//!   it); a `GET` query
//!   parameter is an argument unless its value names an operator (then a
//!   filter of the result, under a parameter's name too: `?id=5&id=gt.2`,
//!   as PostgREST splits them); a `POST` body's keys are the arguments
//!   (with `columns=`, those it lists; an array of objects gives its
//!   first, as PostgREST takes it); an
//!   array argument in the query string is the repeated key
//!   (`?ids=1&ids=2`), and so are a `VARIADIC` parameter's values
//!   (`/rpc/plus?v=1&v=2`, or `{"v": [1, 2]}`; one value is an array of
//!   one), passed as `VARIADIC v => …`; a call needs an `execute` rule under the rules
//!   policy (closed by default), and the rows of an entity it returns are
//!   narrowed by that entity's read rule. On PostgreSQL a call runs in a
//!   transaction where `request.jwt.claims` holds the caller's verified
//!   claims as JSON (with `sub` and `role`; `{"role":"anon"}` for an
//!   anonymous caller), `request.method` and `request.path` (`/rpc/f`,
//!   below the REST root) the request's, `request.headers` its headers
//!   (a JSON object, names in lower case) and `request.cookies` its
//!   cookies, as PostgREST sets them, so Supabase's `auth.uid()`
//!   and `auth.jwt()` work in the function
//!   ([`Principal::request_settings`](baas_engine::Principal::request_settings));
//!   a table write runs in such a transaction too (its column defaults
//!   and triggers read them), and so does a read that calls a function
//!   of the database's (computed fields or relationships, a view whose
//!   rule calls `auth.uid()`: introspection marks such entities
//!   `request_settings`). What the function (or a write's trigger) sets in
//!   `response.status` (a status from 200 to 599) and `response.headers`
//!   (a JSON array of one-key objects, `[{"Cache-Control": "no-store"}]`)
//!   is the successful answer's status and headers (the framing, hop-by-hop and CORS headers
//!   excepted); a malformed one is PostgREST's 500 `PGRST112` /
//!   `PGRST111`, the call (or write) rolled back.
//!   A function's `RAISE EXCEPTION`
//!   answers 400 with code `P0001`, its message, `DETAIL` and `HINT`;
//!   `RAISE SQLSTATE 'PT402'` answers its own status (a `PT` code naming
//!   none, and PL/pgSQL's other failures such as a failed `ASSERT`
//!   (`P0004`), a 500 with their code and message), and `RAISE SQLSTATE
//!   'PGRST'` a whole error given as JSON, as in PostgREST, its `DETAIL`
//!   giving the status and the answer's headers
//!   (`{"status": 401, "headers": {"WWW-Authenticate": "Bearer"}}`; the
//!   error table of [`RestError`]; MySQL's `SIGNAL` takes the same forms).
//!   Overloads (one name, other parameter names) are chosen by the names
//!   of the call's arguments (the query parameters named like a parameter
//!   of one of them, the body's keys, or with `Prefer:
//!   params=single-object` the one overload taking one parameter): none
//!   fits, 404 `PGRST202`;
//!   several (overloads with the same parameter names and other types,
//!   `f(x int)` and `f(x text)`, always), 300 `PGRST203`; the OpenAPI path
//!   describes the first.
//!
//! Errors are documented in [`error`]; routes in [`route`](mod@route).
#![warn(missing_docs)]

pub mod authn;
pub mod body;
pub mod csv;
pub mod discovery;
pub mod error;
pub mod family;
mod filter;
pub mod headers;
mod http;
pub mod idempotency;
mod lex;
pub mod openapi;
mod params;
mod read;
mod response;
pub mod route;
pub mod rpc;
mod select;
pub mod service;
mod write;

use baas_core::SchemaMetadata;
pub use baas_core::validate::Limits;

pub use authn::{ADMIN_ROLE, Authenticate};
pub use body::{Body, BoxError, ByteStream, payload_too_large};
pub use discovery::{discovery_document, discovery_document_with_limits};
pub use error::{RestError, error_chain};
pub use family::{FamilyRequest, RouteFamily};
pub use headers::{
    Media, Prefer, ReturnMode, parse_accept, parse_media, parse_prefer, parse_range,
};
pub use http::{RestRequest, RestResponse, header};
pub use idempotency::{
    IdempotencyConfig, IdempotencyScope, IdempotencyStore, MemoryIdempotencyStore,
};
pub use openapi::openapi_document;
pub use params::FieldAliases;
pub use read::{ReadRequest, key_filter, parse_read, parse_read_by_key};
pub use response::{content_range, read_response, read_response_within, write_response};
pub use route::{Route, Target, allowed_methods, family_root, resolve, route};
pub use service::{Prepared, Service};
pub use write::{Limited, Write, WriteRequest, parse_write, parse_write_by_key};

/// The HTTP layer's own limits (all 4xx when exceeded). Everything else a
/// request may do — filter depth, `in` lists, embedding depth, rows per
/// insert, the row budget — is the engine's ([`Limits`], per tenant
/// `TenantLimits`): the parser bounds its recursion with those
/// ([`ParseLimits`]), so one number holds everywhere.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RestLimits {
    /// Page size cap; a read without `limit` gets this many rows at most
    /// (visible in `Content-Range`). Larger limits are cut to it.
    pub max_limit: u64,
    /// Maximum body size in bytes of entity and admin requests (413 beyond,
    /// [`payload_too_large`]); route families bound their streams
    /// themselves.
    pub max_body_bytes: usize,
    /// Maximum raw query-string length in bytes (414 beyond).
    pub max_query_bytes: usize,
}

impl Default for RestLimits {
    fn default() -> Self {
        Self {
            max_limit: 1000,
            max_body_bytes: 1024 * 1024,
            max_query_bytes: 64 * 1024,
        }
    }
}

/// What the parser is bounded by: the HTTP limits and the engine's
/// request limits (the [`Service`] takes them from the engine's
/// configuration), so that a grammar too deep or a list too long is refused
/// while parsing, by the same numbers validation uses.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ParseLimits {
    /// Page size, body and query-string length.
    pub http: RestLimits,
    /// Filter depth, `in` lists, embedding depth (the engine's).
    pub ir: Limits,
}

impl ParseLimits {
    /// Both sets of limits.
    pub fn new(http: RestLimits, ir: Limits) -> Self {
        Self { http, ir }
    }

    /// Embedding levels below the root (`a(b(c(*)))` is 3): the engine's
    /// embedding depth counts the root.
    pub fn max_select_depth(&self) -> usize {
        self.ir.max_embed_depth.saturating_sub(1)
    }
}

/// A parsed entity request.
#[derive(Debug, Clone, PartialEq)]
pub enum Operation {
    /// `GET` / `HEAD`.
    Read(ReadRequest),
    /// `POST` / `PUT` / `PATCH` / `DELETE`.
    Write(WriteRequest),
}

/// Parse a request on a [`Route::Collection`] or [`Route::Item`] of `schema`.
/// Other routes are not entity requests (404 here; serve them elsewhere).
/// The body must be whole ([`Body::collect`] a stream first; the
/// [`Service`] does).
pub fn parse_request(
    schema: &SchemaMetadata,
    route: &Route,
    req: &RestRequest,
    limits: &ParseLimits,
) -> Result<Operation, RestError> {
    let (entity, key) = match route {
        Route::Collection { entity, .. } => (entity, None),
        Route::Item { entity, key, .. } => (entity, Some(key.as_slice())),
        _ => return Err(RestError::not_found("not an entity route")),
    };
    let entity = schema.entity(entity)?;
    let Some(body) = req.body.as_bytes() else {
        return Err(RestError::new(
            500,
            "internal",
            "the request body is still a stream: read it first (Body::collect)",
        ));
    };
    let method = req.method.to_ascii_uppercase();
    match method.as_str() {
        "GET" | "HEAD" => {
            let mut r = match key {
                Some(k) => parse_read_by_key(schema, entity, k, &req.query, &req.headers, limits)?,
                None => parse_read(schema, entity, &req.query, &req.headers, limits)?,
            };
            if method == "HEAD" {
                r.into_head();
            }
            Ok(Operation::Read(r))
        }
        _ => Ok(Operation::Write(match key {
            Some(k) => parse_write_by_key(
                schema,
                entity,
                &method,
                k,
                &req.query,
                &req.headers,
                body,
                limits,
            )?,
            None => parse_write(
                schema,
                entity,
                &method,
                &req.query,
                &req.headers,
                body,
                limits,
            )?,
        })),
    }
}
