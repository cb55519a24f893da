// postgrest-js (inside supabase-js, unmodified) against `baas serve --db`
// on the PostgreSQL parity fixture (.ci/sql/parity_pg.sql, database
// `baas_parity`): function calls with `.rpc()` and the read semantics of
// issue 13, as a PostgREST app makes them.
//
//   npm ci && node parity.mjs [path/to/baas]
//
// Needs the fixture loaded (bash .ci/fixtures.sh); $BAAS_TEST_PARITY_PG_URL
// overrides the database URL. Prints `N passed, M failed` last.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createClient } from "@supabase/supabase-js";
import { start, keysOf, check, eq, noError, fail, finish } from "./lib.mjs";

const url =
  process.env.BAAS_TEST_PARITY_PG_URL ?? "postgres://baas:baas_pw@127.0.0.1:5432/baas_parity";
const dir = mkdtempSync(join(tmpdir(), "baas-postgrest-js-"));
const geoUrl =
  process.env.BAAS_TEST_GEO_PG_URL ?? "postgres://baas:baas_pw@127.0.0.1:5432/baas_geo";
const geoDir = mkdtempSync(join(tmpdir(), "baas-postgrest-js-geo-"));
let server;
let geoServer;
try {
  server = await start(dir, ["--db", url, "--tenant", "parity"]);
  const keys = keysOf(dir, "parity");
  const options = { auth: { persistSession: false, autoRefreshToken: false } };
  // No rules on this database: closed, so the service role calls, and anon is refused.
  const db = createClient(`${server.base}/parity`, keys.service_role, options);
  const anon = createClient(`${server.base}/parity`, keys.anon, options);

  await check("rpc: a scalar by POST (postgrest-js's default)", async () => {
    const r = await db.rpc("add_them", { a: 1, b: 2 });
    noError(r);
    eq(r.data, 3);
  });
  await check("rpc: a parameter left to its default, by GET", async () => {
    const r = await db.rpc("add_them", { a: 1 }, { get: true });
    noError(r);
    eq(r.data, 11);
  });
  await check("rpc: a variadic function, its values an array (GET and POST)", async () => {
    let r = await db.rpc("plus", { v: [1, 2, 3] }, { get: true });
    noError(r);
    eq(r.data, 6);
    r = await db.rpc("plus", { v: [4, 5] });
    noError(r);
    eq(r.data, 9);
  });
  await check("insert: rows with other keys, as null or (defaultToNull: false) the default", async () => {
    const rows = [{ name: "js-c1", n: 5 }, { name: "js-c2" }];
    let r = await db.from("counter").insert(rows).select();
    eq(r.error && r.error.code, "23502");
    r = await db.from("counter").insert(rows, { defaultToNull: false }).select("name,n").order("name");
    noError(r);
    eq(r.data, [{ name: "js-c1", n: 5 }, { name: "js-c2", n: 0 }]);
    r = await db.from("counter").delete().in("name", ["js-c1", "js-c2"]);
    noError(r);
  });
  await check("upsert (defaultToNull: false): an existing row takes the default of a field it omits", async () => {
    let r = await db.from("counter").insert({ name: "js-u1", n: 5 });
    noError(r);
    r = await db
      .from("counter")
      .upsert([{ name: "js-u1" }, { name: "js-u2", n: 2 }], { defaultToNull: false })
      .select("name,n");
    noError(r);
    eq(r.data, [{ name: "js-u1", n: 0 }, { name: "js-u2", n: 2 }]);
    r = await db.from("counter").delete().in("name", ["js-u1", "js-u2"]);
    noError(r);
  });
  await check("bytea: PostgreSQL's hex text, read, filtered and written", async () => {
    let r = await db.from("blob").select("id,bytes").eq("bytes", "\\x48656c6c6f");
    noError(r);
    eq(r.data, [{ id: 1, bytes: "\\x48656c6c6f" }]);
    r = await db.from("blob").insert({ id: 20, bytes: "\\x00FF" }).select();
    noError(r);
    eq(r.data, [{ id: 20, bytes: "\\x00ff" }]);
    r = await db.from("blob").delete().eq("id", 20);
    noError(r);
  });
  await check("spreads: a to-many spread's values, and every key ([]) without related rows", async () => {
    let r = await db
      .from("author")
      .select("name, ...book(title)")
      .order("id")
      .order("id", { referencedTable: "book" });
    noError(r);
    eq(r.data, [
      { name: "Ada", title: ["Notes"] },
      { name: "Grace", title: ["Compilers"] },
      { name: "Edsger", title: ["Structured", "Shortest"] },
    ]);
    r = await db.from("author").select("name, ...book(*)").eq("id", 1).eq("book.pages", 999);
    noError(r);
    eq(r.data, [
      { name: "Ada", id: [], title: [], author_id: [], pages: [], price: [], printed: [], summary: [], feel: [] },
    ]);
  });
  await check("times: PostgreSQL's JSON text (+00:00, fractions without their ending zeros)", async () => {
    const r = await db
      .from("moment")
      .insert({ id: 91, t: "10:00:00.500", ts: "2020-05-06T10:00:00.250", tz: "2020-05-06T12:00:00.5+02:00" })
      .select("t,ts,tz");
    noError(r);
    eq(r.data, [{ t: "10:00:00.5", ts: "2020-05-06T10:00:00.25", tz: "2020-05-06T10:00:00.5+00:00" }]);
    noError(await db.from("moment").delete().eq("id", 91));
  });
  await check("rpc: a set of scalars", async () => {
    const r = await db.rpc("series", { n: 3 }, { get: true });
    noError(r);
    eq(r.data, [1, 2, 3]);
  });
  await check("rpc: rows of a table, with select, filter, order and limit", async () => {
    const r = await db
      .rpc("books_longer_than", { min_pages: 100 })
      .select("title,author(name)")
      .lt("pages", 250)
      .order("pages", { ascending: false })
      .limit(2);
    noError(r);
    eq(r.data, [
      { title: "Structured", author: { name: "Edsger" } },
      { title: "Notes", author: { name: "Ada" } },
    ]);
  });
  await check("rpc: a count in HEAD", async () => {
    // `select=*`: the table has an int4range and a tsvector column, read
    // as their text form (issue 13, item 10).
    const r = await db.rpc("books_longer_than", { min_pages: 0 }, { head: true, count: "exact" });
    noError(r);
    eq(r.count, 4);
  });
  await check("rpc: aggregates of a function's rows", async () => {
    const r = await db
      .rpc("books_longer_than", { min_pages: 0 })
      .select("author_id,n:count(),pages.max()")
      .order("author_id");
    noError(r);
    eq(r.data, [
      { author_id: 1, n: 1, max: 120 },
      { author_id: 2, n: 1, max: 300 },
      { author_id: 3, n: 2, max: 220 },
    ]);
  });
  await check("rpc: .single() on a set", async () => {
    const r = await db.rpc("books_longer_than", { min_pages: 250 }).select("title").single();
    noError(r);
    eq(r.data, { title: "Compilers" });
  });
  await check("rpc: one row (not SETOF) is an object", async () => {
    const r = await db.rpc("first_book").select("id,title");
    noError(r);
    eq(r.data, { id: 1, title: "Notes" });
  });
  await check("rpc: RETURNS TABLE", async () => {
    const r = await db.rpc("author_stats").eq("author_id", 3);
    noError(r);
    eq(r.data, [{ author_id: 3, books: 2, pages: 310 }]);
  });
  await check("rpc: void and a volatile write", async () => {
    const v = await db.rpc("reset_counter", { counter_name: "hits" });
    noError(v);
    eq([v.status, v.data], [204, null]);
    const r = await db.rpc("bump", { counter_name: "hits", step: 2 });
    noError(r);
    eq(r.data, 2);
  });
  await check("rpc: a volatile function refuses GET", async () => {
    const r = await db.rpc("bump", { counter_name: "hits" }, { get: true });
    eq(r.status, 405, "status");
  });
  await check("rpc: RAISE EXCEPTION reaches the client as PostgREST sends it", async () => {
    const r = await db.rpc("fail_with", { msg: "out of stock" });
    eq([r.status, r.error?.code, r.error?.message], [400, "P0001", "out of stock"]);
  });
  await check("rpc: a missing argument is the caller's error", async () => {
    const r = await db.rpc("add_them", {});
    if (!r.error || r.status >= 500) throw new Error(`expected a 4xx, got ${r.status} ${JSON.stringify(r.error)}`);
  });
  await check("rpc: closed to anon without an execute rule", async () => {
    const r = await anon.rpc("add_them", { a: 1 });
    if (!(r.status === 401 || r.status === 403)) throw new Error(`expected 401/403, got ${r.status}`);
  });
  await check("select: an embed only (issue 13, item 1)", async () => {
    const r = await db.from("book").select("author(name)").eq("id", 2);
    noError(r);
    eq(r.data, [{ author: { name: "Grace" } }]);
  });
  await check("select: like with % (item 2)", async () => {
    const r = await db.from("book").select("title").like("title", "S%").order("id");
    noError(r);
    eq(r.data, [{ title: "Structured" }, { title: "Shortest" }]);
  });
  await check("types without a mapping read as text (item 10)", async () => {
    const r = await db.from("book").select("printed,summary").textSearch("summary", "compilers", { config: "english" });
    noError(r);
    eq(r.data, [{ printed: "[1952,1960)", summary: "'bug':6 'compil':3 'first':2" }]);
  });
  await check("errors: maybeSingle on several rows is PGRST116 (item 4)", async () => {
    const r = await db.from("book").select("id").maybeSingle();
    eq(r.error?.code, "PGRST116");
  });
  await check("numbers: decimals are JSON numbers (item 3)", async () => {
    const r = await db.from("book").select("price").eq("title", "Notes").single();
    noError(r);
    eq(r.data, { price: 12.5 });
  });
  await check("embeds: a constraint name as the hint (item 11)", async () => {
    const r = await db
      .from("author")
      .select("name,review!review_reviewer_fkey(id)")
      .eq("id", 2)
      .single();
    noError(r);
    eq(r.data, { name: "Grace", review: [{ id: 1 }] });
  });
  await check("embeds: a self-reference by column and by table (item 11)", async () => {
    const r = await db
      .from("author")
      .select("name,mentor_id(name),mentees:author!mentor_id(name)")
      .eq("id", 2)
      .single();
    noError(r);
    eq(r.data, { name: "Grace", mentor_id: { name: "Ada" }, mentees: [{ name: "Edsger" }] });
  });
  await check("embeds: two foreign keys to one table is PGRST201 (item 11)", async () => {
    const r = await db.from("author").select("name,review(id)");
    eq(r.error?.code, "PGRST201");
  });
  await check("aggregates: a count inside an embedding (item 12)", async () => {
    const r = await db.from("author").select("name,book(count)").order("id");
    noError(r);
    eq(r.data, [
      { name: "Ada", book: [{ count: 1 }] },
      { name: "Grace", book: [{ count: 1 }] },
      { name: "Edsger", book: [{ count: 2 }] },
    ]);
  });
  await check("aggregates: an embedding's groups ordered and paged per parent (referencedTable)", async () => {
    const r = await db
      .from("author")
      .select("name, book(p:pages, n:count())")
      .in("id", [1, 3])
      .order("id")
      .order("p", { referencedTable: "book", ascending: false })
      .limit(1, { referencedTable: "book" });
    noError(r);
    eq(r.data, [
      { name: "Ada", book: [{ p: 120, n: 1 }] },
      { name: "Edsger", book: [{ p: 220, n: 1 }] },
    ]);
  });
  await check("spreads: aggregates of a to-one spread's fields are over the parent's rows (items 12, 13)", async () => {
    const r = await db
      .from("book")
      .select("...author(name,born.max(),ids:id.sum()),pages.sum(),count()")
      .order("name");
    noError(r);
    eq(r.data, [
      { name: "Ada", max: "1815-12-10", ids: 1, sum: 120, count: 1 },
      { name: "Edsger", max: "1930-05-11", ids: 6, sum: 310, count: 2 },
      { name: "Grace", max: "1906-12-09", ids: 2, sum: 300, count: 1 },
    ]);
  });
  await check("spreads: a to-one spread's count() answers where the spread lists it (items 12, 13)", async () => {
    const r = await db.from("book").select("...author(n:count(),name),pages.sum()").order("sum");
    noError(r);
    eq(r.data, [
      { n: 1, name: "Ada", sum: 120 },
      { n: 1, name: "Grace", sum: 300 },
      { n: 2, name: "Edsger", sum: 310 },
    ]);
  });
  await check("spreads: aggregates of a spread inside a spread, keys where listed (items 12, 13)", async () => {
    const r = await db
      .from("book")
      .select("...author(a:name,n:count(),...mentor_id(mentor:name,oldest:born.min()))")
      .order("author(a)");
    noError(r);
    eq(r.data, [
      { a: "Ada", n: 1, mentor: null, oldest: null },
      { a: "Edsger", n: 2, mentor: "Grace", oldest: "1906-12-09" },
      { a: "Grace", n: 1, mentor: "Ada", oldest: "1815-12-10" },
    ]);
  });
  await check("aggregates: a cast of the result, count()::text and sum()::text (item 12)", async () => {
    const r = await db.from("book").select("n:count()::text,pages.sum()::text");
    noError(r);
    eq(r.data, [{ n: "4", sum: "730" }]);
  });
  await check("aggregates: an input cast, s:jsonb->>key::integer.sum()::text (item 12)", async () => {
    const r = await db.from("note").select("author_id,s:body->meta->>n::integer.sum()::text").order("author_id");
    noError(r);
    eq(r.data, [{ author_id: 1, s: "6" }, { author_id: 2, s: null }]);
  });
  await check("arrays: a two-dimensional int[] written, read, and filtered by its elements (item 10)", async () => {
    await db.from("shelf").delete().eq("id", 950);
    const w = await db.from("shelf").insert({ id: 950, grid: [[1, 2], [3, 4]] }).select("grid");
    noError(w);
    eq(w.data, [{ grid: [[1, 2], [3, 4]] }]);
    const r = await db.from("shelf").select("id").contains("grid", [4, 1]);
    noError(r);
    eq(r.data, [{ id: 950 }]);
    const bad = await db.from("shelf").update({ grid: [[1], [2, 3]] }).eq("id", 950);
    eq(bad.status, 422);
    noError(await db.from("shelf").delete().eq("id", 950));
  });
  await check("schemas: .schema('personal') reads personal.book (item 16)", async () => {
    const r = await db.schema("personal").from("book").select("title,feel");
    noError(r);
    eq(r.data, [{ title: "Diary", feel: "calm" }]);
  });
  await check("json: paths and ->> in select (item 14)", async () => {
    const r = await db.from("note").select("id,title:body->>title,n:body->meta->n").eq("id", 1).single();
    noError(r);
    eq(r.data, { id: 1, title: "first", n: 3 });
  });
  await check("json: order by a path inside a JSON column (item 14)", async () => {
    const r = await db.from("note").select("id").order("body->meta->n", { ascending: true });
    noError(r);
    eq(r.data.map((x) => x.id), [2, 3, 1, 4]);
  });
  await check("json: contains() with an object on a jsonb column (item 14)", async () => {
    const r = await db.from("note").select("id").contains("body", { meta: { ok: true } });
    noError(r);
    eq(r.data, [{ id: 1 }]);
  });
  await check("computed fields: a function of the row, read when named (item 9)", async () => {
    const r = await db.from("author").select("id,full_label").eq("full_label", "Ada (1)").single();
    noError(r);
    eq(r.data, { id: 1, full_label: "Ada (1)" });
  });
  await check("order: by a column of the to-one related row, order('author(name)')", async () => {
    const r = await db.from("book").select("title").order("author(name)", { ascending: false }).order("title");
    noError(r);
    eq(r.data.map((x) => x.title), ["Compilers", "Shortest", "Structured", "Notes"]);
  });
  await check("rpc: overloads chosen by the arguments' names (item 9)", async () => {
    const a = await db.rpc("area", { w: 2, h: 3 });
    noError(a);
    const b = await db.rpc("area", { side: 3 });
    noError(b);
    eq([a.data, b.data], [6, 9]);
  });
  await check("computed relationships: a function of the row embeds its rows (item 9)", async () => {
    const r = await db.from("author").select("name,books_of(title)").eq("id", 3).order("title", { referencedTable: "books_of" }).single();
    noError(r);
    eq(r.data, { name: "Edsger", books_of: [{ title: "Shortest" }, { title: "Structured" }] });
  });
  await check("casts: ::int and ::text in select (item 14)", async () => {
    const r = await db.from("book").select("id,price::int,pages::text").eq("id", 1).single();
    noError(r);
    eq(r.data, { id: 1, price: 13, pages: "120" });
  });
  await check("embeds: through a view (item 11)", async () => {
    const r = await db.from("book_with_author").select("title,author(name)").eq("id", 1).single();
    noError(r);
    eq(r.data, { title: "Notes", author: { name: "Ada" } });
  });
  await check("fts: supabase-js's textSearch with tsquery syntax (item 10)", async () => {
    const r = await db.from("book").select("title").textSearch("summary", "'compiler' & 'bug'", { config: "english" });
    noError(r);
    eq(r.data, [{ title: "Compilers" }]);
  });
  await check("plans: explain() for the service role (item 17)", async () => {
    const r = await db.from("book").select("title").eq("id", 1).explain({ format: "json" });
    noError(r);
    eq(typeof r.data?.[0]?.Plan?.["Node Type"], "string");
    const refused = await anon.from("book").select("title").explain({ format: "json" });
    eq(refused.status, 406);
  });
  await check("plans: explain({ analyze, verbose, buffers }) runs the read, rolled back (item 17)", async () => {
    const r = await db.from("book").select("title").eq("id", 1).explain({ analyze: true, verbose: true, buffers: true, format: "json" });
    noError(r);
    eq(typeof r.data?.[0]?.Plan?.["Actual Rows"], "number");
    eq(Array.isArray(r.data?.[0]?.Plan?.Output), true);
    const text = await db.from("book").select("title").eq("id", 1).explain({ analyze: true });
    noError(text);
    eq(typeof text.data === "string" && text.data.includes("actual time"), true);
    // A volatile function analyzed through rpc(): called, then rolled back.
    const before = await db.from("counter").select("n").eq("name", "hits").single();
    const plan = await db.rpc("bump", { counter_name: "hits", step: 500 }).explain({ analyze: true, format: "json" });
    noError(plan);
    eq(plan.data?.[0]?.Plan?.["Actual Rows"], 1);
    const after = await db.from("counter").select("n").eq("name", "hits").single();
    eq(after.data, before.data);
  });
  await check("plans: explain() of insert, update and delete, analyzed and rolled back (item 17)", async () => {
    const before = await db.from("book").select("id, title").order("id");
    noError(before);
    const ins = await db.from("book").insert({ title: "Planned", author_id: 1, pages: 1 }).explain({ analyze: true, format: "json" });
    noError(ins);
    eq([ins.data?.[0]?.Plan?.["Node Type"], ins.data?.[0]?.Plan?.Operation], ["ModifyTable", "Insert"]);
    const upd = await db.from("book").update({ title: "Renamed" }).eq("id", 1).explain({ analyze: true, format: "json" });
    noError(upd);
    eq([upd.data?.[0]?.Plan?.Operation, upd.data?.[0]?.Plan?.["Actual Rows"]], ["Update", 0]);
    const del = await db.from("book").delete().eq("id", -1).explain({ format: "json" });
    noError(del);
    eq(del.data?.[0]?.Plan?.Operation, "Delete");
    const refused = await anon.from("book").delete().eq("id", 1).explain({ format: "json" });
    eq(refused.status, 406);
    const after = await db.from("book").select("id, title").order("id");
    eq(after.data, before.data);
  });
  await check("composite columns: objects, and ->> into them in select, filters and order (item 14)", async () => {
    const r = await db.from("trip").select("id, origin, city:origin->>city").lt("id", 3).order("id");
    noError(r);
    eq(r.data, [
      { id: 1, origin: { city: "Oslo", lat: 59.9139, lng: 10.7522 }, city: "Oslo" },
      { id: 2, origin: { city: "Rome", lat: 41.9028, lng: 12.4964 }, city: "Rome" },
    ]);
    const f = await db.from("trip").select("id").gt("origin->lat", 50).order("origin->lat", { ascending: false });
    noError(f);
    eq(f.data, [{ id: 1 }]);
  });
  await check("ranges: rangeLt, rangeAdjacent and overlaps (item 10)", async () => {
    const lt = await db.from("book").select("title").rangeLt("printed", "[1950,1951)");
    noError(lt);
    eq(lt.data, [{ title: "Notes" }]);
    const adj = await db.from("book").select("title").rangeAdjacent("printed", "[1960,1972)").order("id");
    noError(adj);
    eq(adj.data, [{ title: "Compilers" }, { title: "Structured" }, { title: "Shortest" }]);
    const ov = await db.from("book").select("title").overlaps("printed", "[1955,1959]").order("id");
    noError(ov);
    eq(ov.data, [{ title: "Compilers" }, { title: "Shortest" }]);
  });
  await check("json: gt()/gte() after ->> compare texts, after -> numbers (item 14)", async () => {
    const t = await db.from("note").select("id").gt("body->>title", "s").order("id");
    noError(t);
    eq(t.data, [{ id: 2 }, { id: 3 }]);
    // `->>` is text: the numbers 3, 1, 2 as "3", "1", "2", and "3" > "10"
    // (PostgreSQL's `->>`); as numbers none is.
    const n = await db.from("note").select("id").gt("body->meta->>n", 10).order("id");
    noError(n);
    eq(n.data, [{ id: 1 }, { id: 3 }]);
    // Negated: the texts not after "10" ("1"); a null body matches neither.
    const not = await db.from("note").select("id").not("body->meta->>n", "gt", "10").order("id");
    noError(not);
    eq(not.data, [{ id: 2 }]);
    const v = await db.from("note").select("id").lt("body->meta->n", 3).order("id");
    noError(v);
    eq(v.data, [{ id: 2 }, { id: 3 }]);
  });
  await check("json: comparisons after -> order JSON values across types, as jsonb (item 14)", async () => {
    // Objects and non-empty arrays above every number, an empty array
    // below everything, strings below numbers (jsonb's order).
    const objects = await db.from("note").select("id").gt("body->meta", 5).order("id");
    noError(objects);
    eq(objects.data, [{ id: 1 }, { id: 2 }, { id: 3 }]);
    const tags = await db.from("note").select("id").gt("body->tags", '"z"').order("id");
    noError(tags);
    eq(tags.data, [{ id: 1 }]);
    const strings = await db.from("note").select("id").lt("body->title", 0).order("id");
    noError(strings);
    eq(strings.data, [{ id: 1 }, { id: 2 }, { id: 3 }]);
    const ok = await db.from("note").select("id").neq("body->meta->ok", true).order("id");
    noError(ok);
    eq(ok.data, [{ id: 2 }]);
    // After `->` the operand is JSON: a string is quoted; a bare word is
    // PostgreSQL's invalid json input (22P02).
    const title = await db.from("note").select("id").eq("body->title", '"first"');
    noError(title);
    eq(title.data, [{ id: 1 }]);
    const bare = await db.from("note").select("id").eq("body->title", "first");
    eq([bare.status, bare.error && bare.error.code], [400, "22P02"]);
  });
  await check("json: ilike(), is() and contains() on a path inside a JSON column (item 14)", async () => {
    const like = await db.from("note").select("id").ilike("body->>title", "%IR%").order("id");
    noError(like);
    eq(like.data, [{ id: 1 }, { id: 3 }]);
    const none = await db.from("note").select("id").is("body->meta->ok", null).order("id");
    noError(none);
    eq(none.data, [{ id: 3 }, { id: 4 }]);
    const some = await db.from("note").select("id").not("body->tags", "is", null).order("id");
    noError(some);
    eq(some.data, [{ id: 1 }, { id: 2 }]);
    // An array operand goes as JSON text: postgrest-js writes a JS array as
    // a PostgreSQL array literal (`{b}`), which a JSON value is not (as in PostgREST).
    const tagged = await db.from("note").select("id").contains("body->tags", '["b"]');
    noError(tagged);
    eq(tagged.data, [{ id: 1 }]);
  });
  await check("writes: insert/update/delete(…).select('*, author(name)') embed in the representation", async () => {
    await db.from("note").delete().eq("id", 900);
    const ins = await db.from("note").insert({ id: 900, body: { a: 1 }, author_id: 1 }).select("id,author(name)").single();
    noError(ins);
    eq([ins.status, ins.data], [201, { id: 900, author: { name: "Ada" } }]);
    const upd = await db.from("note").update({ author_id: 3 }).eq("id", 900).select("...author(name),who:author(id)");
    noError(upd);
    eq(upd.data, [{ name: "Edsger", who: { id: 3 } }]);
    const del = await db.from("note").delete().eq("id", 900).select("id,author(id)");
    noError(del);
    eq(del.data, [{ id: 900, author: { id: 3 } }]);
    const gone = await db.from("note").select("id").eq("id", 900);
    eq(gone.data, []);
  });
  await check("writes: !inner in a write's select filters the representation, not the write", async () => {
    await db.from("note").delete().in("id", [901, 902]);
    const ins = await db
      .from("note")
      .insert([
        { id: 901, body: {}, author_id: 1 },
        { id: 902, body: {}, author_id: 3 },
      ])
      .select("id,author!inner(name)")
      .eq("author.id", 3);
    noError(ins);
    eq([ins.status, ins.data], [201, [{ id: 902, author: { name: "Edsger" } }]]);
    const both = await db.from("note").select("id").in("id", [901, 902]).order("id");
    eq(both.data, [{ id: 901 }, { id: 902 }]);
    await db.from("note").delete().in("id", [901, 902]);
  });
  await check("insert: a form's strings reach a number column, as PostgreSQL reads them", async () => {
    const r = await db.from("counter").insert({ name: "js-s", n: "7" }).select("name,n");
    noError(r);
    eq(r.data, [{ name: "js-s", n: 7 }]);
    const bad = await db.from("counter").insert({ name: "js-s2", n: "7.5" });
    eq([bad.status, bad.error && bad.error.code], [422, "validation"]);
    noError(await db.from("counter").delete().eq("name", "js-s"));
  });
  await check("single(): an insert of several rows is refused and writes nothing", async () => {
    const rows = [{ name: "js-x1", n: 1 }, { name: "js-x2", n: 2 }];
    const r = await db.from("counter").insert(rows).select().single();
    eq([r.status, r.error && r.error.code], [406, "PGRST116"]);
    const left = await db.from("counter").select("name").in("name", ["js-x1", "js-x2"]);
    noError(left);
    eq(left.data, []);
  });
  await check("rpc: an argument the function does not take is PGRST202", async () => {
    const r = await db.rpc("add_them", { a: 1, nope: 2 });
    eq([r.status, r.error && r.error.code], [404, "PGRST202"]);
    const g = await db.rpc("add_them", { b: 2 }, { get: true });
    eq([g.status, g.error && g.error.code], [404, "PGRST202"]);
  });
  await check("or across embeds: .or('book.not.is.null,…') with the embedding's filter", async () => {
    const r = await db
      .from("author")
      .select("name,book()")
      .gt("book.pages", 250)
      .or("book.not.is.null,name.eq.Ada")
      .order("name");
    noError(r);
    eq(r.data, [{ name: "Ada" }, { name: "Grace" }]);
  });
  await check("rpc: a composite type's rows, filtered like a table's", async () => {
    const r = await db.rpc("summaries", { min_pages: 0 }, { get: true }).select("title").lt("pages", 150).order("pages");
    noError(r);
    eq(r.data, [{ title: "Shortest" }, { title: "Notes" }]);
  });
  await check("rpc: the function sees the caller's claims (request.jwt.claims, as auth.jwt() reads it)", async () => {
    const r = await db.rpc("my_claims");
    noError(r);
    eq(r.data && r.data.role, "service_role");
  });
  await check("writes: a column default and a trigger see the caller's claims (auth.uid() on a write)", async () => {
    const r = await db.from("memo").insert({ body: "js-memo" }).select("body,owner,written_as");
    noError(r);
    eq(r.data, [{ body: "js-memo", owner: null, written_as: "service_role" }]);
    noError(await db.from("memo").delete().eq("body", "js-memo"));
  });
  await check("rpc: a row argument is an object of its fields; the function's own order is kept", async () => {
    const r = await db.rpc("works_of", { a: { id: 3 } }).select("title");
    noError(r);
    eq(r.data, [{ title: "Structured" }, { title: "Shortest" }]);
  });
  await check("computed relationships overloaded by table, a computed field of their rows", async () => {
    let r = await db.from("author").select("name, works_of(title, shout)").eq("id", 3);
    noError(r);
    eq(r.data, [{ name: "Edsger", works_of: [{ title: "Structured", shout: "STRUCTURED" }, { title: "Shortest", shout: "SHORTEST" }] }]);
    r = await db.from("book").select("title, works_of(title)").eq("title", "Structured");
    noError(r);
    eq(r.data, [{ title: "Structured", works_of: [{ title: "Shortest" }] }]);
  });
  await check("rpc: maxAffected bounds a call's rows, the call rolled back (PGRST124)", async () => {
    const before = await db.from("counter").select("name,n").order("name");
    noError(before);
    const r = await db.rpc("bump_all", { step: 1 }).select("n").maxAffected(0);
    eq([r.status, r.error && r.error.code], [400, "PGRST124"]);
    eq((await db.from("counter").select("name,n").order("name")).data, before.data);
  });
  await check("rpc: GET of a volatile function runs read-only (reads answer, writes are 405 25006)", async () => {
    const n = await db.rpc("book_count", {}, { get: true });
    noError(n);
    eq(typeof n.data, "number");
    const w = await db.rpc("bump", { counter_name: "hits" }, { get: true });
    eq([w.status, w.error && w.error.code], [405, "25006"]);
  });
  await check("rpc: a single unnamed jsonb parameter takes the whole body", async () => {
    const r = await db.rpc("echo_body", { any: [1, { b: null }] });
    noError(r);
    eq(r.data, { any: [1, { b: null }] });
  });
  await check("aggregates of a to-one embedding are per row, also inside a to-many one", async () => {
    const r = await db.from("author").select("name, book(author(count()))").eq("id", 3);
    noError(r);
    eq(r.data, [{ name: "Edsger", book: [{ author: { count: 1 } }, { author: { count: 1 } }] }]);
  });
  await check("views: one PostgreSQL writes through is written like a table, keyed by its table's key", async () => {
    let r = await db.from("pens").insert({ name: "js-pen" }).select("name,stamped");
    noError(r);
    eq(r.data, [{ name: "js-pen", stamped: null }]);
    r = await db.from("pens").update({ name: "js-nib" }).eq("name", "js-pen").select("name");
    noError(r);
    eq(r.data, [{ name: "js-nib" }]);
    r = await db.from("pens").upsert({ pen_id: 1, name: "quill" }).select("pen_id,name");
    noError(r);
    eq(r.data, [{ pen_id: 1, name: "quill" }]);
    r = await db.from("pens").delete().eq("name", "js-nib").select("name");
    noError(r);
    eq(r.data, [{ name: "js-nib" }]);
    r = await db.from("book_with_author").insert({ title: "x" });
    eq(r.status, 403);
    // Closed like a table: without a rule, anon writes nothing through it.
    r = await anon.from("pens").insert({ name: "anon-pen" });
    eq(r.status, 403);
    r = await db.from("pens").select("pen_id").eq("name", "anon-pen");
    noError(r);
    eq(r.data, []);
  });
  await check("aggregates: avg() is PostgreSQL's numeric average, digit for digit", async () => {
    const r = await db.from("book").select("p:pages.avg(),c:price.avg()").lte("id", 3);
    noError(r);
    eq(r.data, [{ p: 213.33333333333334, c: 29.2 }]);
    // The JSON text keeps PostgreSQL's digits (JSON.parse rounds them).
    const raw = await fetch(`${server.base}/parity/book?select=p:pages.avg(),c:price.avg()&id=lte.3`, {
      headers: { apikey: keys.service_role, Authorization: `Bearer ${keys.service_role}` },
    });
    eq(await raw.text(), '[{"p":213.3333333333333333,"c":29.2000000000000000}]');
  });
  await check("filters: eq with a JSON document compares as jsonb's = (item 14)", async () => {
    let r = await db.from("note").select("id").eq("body->meta", JSON.stringify({ ok: true, n: 3.0 }));
    noError(r);
    eq(r.data, [{ id: 1 }]);
    r = await db.from("note").select("id").eq("body", JSON.stringify({ meta: { n: 2 }, title: "third" }));
    noError(r);
    eq(r.data, [{ id: 3 }]);
    r = await db.from("note").select("id").eq("body->tags", JSON.stringify(["b", "a"]));
    noError(r);
    eq(r.data, []);
  });
  await check("csv: .csv() answers PostgreSQL's text of each value (item 17)", async () => {
    const r = await db.from("moment").select("*").order("id").csv();
    noError(r);
    eq(
      r.data,
      "id,d,t,ts,tz\n" +
        "1,infinity,24:00:00,-infinity,infinity\n" +
        "2,2020-05-06,10:00:00,2020-05-06 10:00:00,2020-05-06 10:00:00+00\n" +
        "3,294276-12-31,00:00:00,294276-12-31 23:59:59,294276-12-31 23:59:59+00",
    );
    const notes = await db.from("note").select("id,body,first:body->tags->0").lte("id", 2).order("id").csv();
    noError(notes);
    eq(
      notes.data,
      "id,body,first\n" +
        '1,"{""meta"": {""n"": 3, ""ok"": true}, ""tags"": [""a"", ""b""], ""title"": ""first""}","""a"""\n' +
        '2,"{""meta"": {""n"": 1, ""ok"": false}, ""tags"": [], ""title"": ""second""}",',
    );
  });
  await check("errors: a missing table is PGRST205, one relation embedded twice 42712", async () => {
    let r = await db.from("nope").select();
    eq([r.status, r.error && r.error.code], [404, "PGRST205"]);
    r = await db.from("book").select("author(name), author(id)");
    eq([r.status, r.error && r.error.code], [400, "42712"]);
  });
  await check("rpc: the function's response.status and response.headers are the answer's", async () => {
    let last;
    const seen = createClient(`${server.base}/parity`, keys.service_role, {
      ...options,
      global: { fetch: async (...args) => (last = await fetch(...args)) },
    });
    const r = await seen.rpc("brew", {}, { get: true });
    eq([r.status, last.headers.get("x-brew"), last.headers.get("cache-control")], [418, "earl grey", "no-store"]);
    const bad = await seen.rpc("bad_status", {}, { get: true });
    eq([bad.status, bad.error && bad.error.code], [500, "PGRST112"]);
  });
  // Row-level security of the database itself: a server with
  // --database-roles (each request runs as the caller's role) and --open
  // (no rules of ours), so the policies on `diary` are the only guard.
  const rlsDir = mkdtempSync(join(tmpdir(), "baas-postgrest-js-rls-"));
  let rlsServer;
  try {
    rlsServer = await start(rlsDir, ["--db", url, "--tenant", "rls", "--database-roles", "--open"]);
    const rlsKeys = keysOf(rlsDir, "rls");
    const rlsAnon = createClient(`${rlsServer.base}/rls`, rlsKeys.anon, options);
    const rlsService = createClient(`${rlsServer.base}/rls`, rlsKeys.service_role, options);
    const user = createClient(`${rlsServer.base}/rls`, rlsKeys.anon, options);
    await check("database roles: RLS policies decide what a signed-up user, anon and the service role see", async () => {
      const email = `js-rls-${process.pid}-${Date.now()}@example.com`;
      const up = await user.auth.signUp({ email, password: "Correct-Horse-9-battery" });
      noError(up);
      if (!up.data.session) throw new Error(`no session: ${JSON.stringify(up.data)}`);
      const own = await user.from("diary").insert({ entry: "js-own" }).select("owner,entry");
      noError(own);
      eq(own.data, [{ owner: up.data.user.id, entry: "js-own" }]);
      const mine = await user.from("diary").select("entry").order("entry");
      noError(mine);
      eq(mine.data, [{ entry: "js-own" }]);
      const forged = await user.from("diary").insert({ owner: "alice-1", entry: "js-forged" });
      eq([forged.status, forged.error && forged.error.code], [403, "42501"]);
      const anon = await rlsAnon.from("diary").select("entry");
      eq([anon.status, anon.error && anon.error.code], [401, "42501"]);
      const all = await rlsService.from("diary").select("entry", { count: "exact", head: true });
      eq(all.count, 4);
      noError(await user.from("diary").delete().eq("entry", "js-own"));
    });
  } finally {
    rlsServer?.child.kill();
    rmSync(rlsDir, { recursive: true, force: true });
  }
  // PostGIS (.ci/sql/geo_pg.sql, database `baas_geo`): its own server.
  geoServer = await start(geoDir, ["--db", geoUrl, "--tenant", "geo"]);
  const geo = createClient(`${geoServer.base}/geo`, keysOf(geoDir, "geo").service_role, options);
  await check("geojson: .geojson() answers a FeatureCollection (item 17)", async () => {
    const r = await geo.from("place").select("id,name,loc").eq("id", 1).geojson();
    noError(r);
    eq(r.data, {
      type: "FeatureCollection",
      features: [
        { type: "Feature", geometry: { type: "Point", coordinates: [1.5, 2.25] }, properties: { id: 1, name: "Harbour" } },
      ],
    });
    const none = await geo.from("visit").select("id").geojson();
    eq(none.status, 406);
  });
} catch (e) {
  fail("setup", e);
} finally {
  server?.child.kill();
  geoServer?.child.kill();
  rmSync(dir, { recursive: true, force: true });
  rmSync(geoDir, { recursive: true, force: true });
}
finish();
