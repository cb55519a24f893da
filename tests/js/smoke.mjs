// supabase-js, unmodified, against `baas` serving its demo (entities
// `author` and `book`), with `http://host/demo` as the project URL:
// supabase-js appends `/rest/v1`, which baas serves as an alias of
// `/demo/…`.
//
// Closed by default: the key is the demo's anon key (`baas keys demo`);
// reads run as anon (books and authors are public), writes as a user signed
// up through /demo/auth/v1 (role `authenticated`), and an anon write is
// refused.
//
//   npm ci && node smoke.mjs [path/to/baas]   (default: $BAAS_BIN, else
//                                              ../../target/debug/baas)
//
// Starts baas in a fresh temporary directory on a free port, runs the
// checks, stops it, and prints `N passed, M failed` last (exit 1 on a
// failure).

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createClient } from "@supabase/supabase-js";
import { start, keysOf, check, eq, noError, fail, finish } from "./lib.mjs";

const dir = mkdtempSync(join(tmpdir(), "baas-supabase-js-"));
let server;
try {
  server = await start(dir);
  const keys = keysOf(dir, "demo");
  const options = { auth: { persistSession: false, autoRefreshToken: false } };
  // Reads: anon. Writes: a signed-up user (role `authenticated`).
  const supabase = createClient(`${server.base}/demo`, keys.anon, options);
  const user = createClient(`${server.base}/demo`, keys.anon, options);

  await check("sign up a user for the writes", async () => {
    const email = `js-smoke-${process.pid}-${Date.now()}@example.com`;
    const r = await user.auth.signUp({ email, password: "Correct-Horse-9-battery" });
    noError(r);
    if (!r.data.session) throw new Error(`no session (autoconfirm off?): ${JSON.stringify(r.data)}`);
    eq(r.data.user?.email, email, "email");
  });

  await check("select with an embed and a filter", async () => {
    const r = await supabase.from("book").select("title,author(name)").eq("author_id", 1).order("id");
    noError(r);
    eq(r.status, 200, "status");
    eq(r.data, [
      { title: "A Wizard of Earthsea", author: { name: "Ursula K. Le Guin" } },
      { title: "The Left Hand of Darkness", author: { name: "Ursula K. Le Guin" } },
      { title: "The Dispossessed", author: { name: "Ursula K. Le Guin" } },
    ]);
  });

  await check("order, range filters and limit", async () => {
    const r = await supabase
      .from("book")
      .select("title,year")
      .gt("year", 1965)
      .lt("year", 1980)
      .order("year", { ascending: false })
      .limit(2);
    noError(r);
    eq(r.data, [
      { title: "Kindred", year: 1979 },
      { title: "The Dispossessed", year: 1974 },
    ]);
  });

  await check("in, ilike, or", async () => {
    const r = await supabase
      .from("author")
      .select("name")
      .or("country.eq.PL,name.ilike.*calvino*")
      .in("id", [2, 3, 4])
      .order("id");
    noError(r);
    eq(r.data, [{ name: "Stanisław Lem" }, { name: "Italo Calvino" }]);
  });

  await check("textSearch: tsquery and websearch syntax on the embedded SQLite", async () => {
    const a = await supabase.from("book").select("title").textSearch("title", "the & !(left | cyberiad)").order("id");
    noError(a);
    eq(a.data, [{ title: "The Dispossessed" }, { title: "Parable of the Sower" }]);
    const b = await supabase
      .from("book")
      .select("title")
      .textSearch("title", '"left hand" or kindred -solaris', { type: "websearch" })
      .order("id");
    noError(b);
    eq(b.data, [{ title: "The Left Hand of Darkness" }, { title: "Kindred" }]);
    // A malformed tsquery: PostgreSQL's 42601, as PostgREST answers it.
    const bad = await supabase.from("book").select("title").textSearch("title", "left hand");
    eq(bad.error?.code, "42601");
  });

  await check("single and maybeSingle", async () => {
    const one = await supabase.from("book").select("title").eq("id", 4).single();
    noError(one);
    eq(one.data, { title: "Solaris" });
    const none = await supabase.from("book").select("title").eq("id", 999).maybeSingle();
    noError(none);
    eq(none.data, null);
    const many = await supabase.from("book").select("title").eq("author_id", 1).single();
    if (!many.error) throw new Error("single() over three rows must fail");
    eq(many.status, 406, "status");
  });

  await check("count exact with head", async () => {
    const r = await supabase.from("book").select("*", { count: "exact", head: true });
    noError(r);
    eq(r.count, 8, "count");
    eq(r.data, null, "data");
  });

  await check("an anon insert into book is refused", async () => {
    const title = "Anonymous Pamphlet";
    const r = await supabase.from("book").insert({ title, year: 2000, author_id: 1 }).select("id");
    if (!r.error) throw new Error(`inserted: ${JSON.stringify(r.data)}`);
    if (r.status !== 401 && r.status !== 403) throw new Error(`status ${r.status}, expected 401 or 403`);
    const c = await supabase.from("book").select("*", { count: "exact", head: true }).eq("title", title);
    noError(c);
    eq(c.count, 0, "count");
  });

  let id;
  await check("insert with select", async () => {
    const r = await user
      .from("book")
      .insert({ title: "The Invisible Planet", year: 2001, author_id: 2 })
      .select("id,title,year")
      .single();
    noError(r);
    eq(r.status, 201, "status");
    id = r.data.id;
    eq(r.data, { id, title: "The Invisible Planet", year: 2001 }, "row");
  }).then(async () => {
    // (a write's representation has no embeds, a documented difference
    // from PostgREST: 501; read the row back instead)
    await check("the inserted row reads back with its embed", async () => {
      const r = await supabase.from("book").select("title,author(name)").eq("id", id).single();
      noError(r);
      eq(r.data, { title: "The Invisible Planet", author: { name: "Stanisław Lem" } });
    });
  });

  await check("insert several, count them", async () => {
    const r = await user
      .from("author")
      .insert([{ name: "Ted Chiang", country: "US" }, { name: "Liu Cixin", country: "CN" }])
      .select("name");
    noError(r);
    eq(r.data, [{ name: "Ted Chiang" }, { name: "Liu Cixin" }]);
    const c = await supabase.from("author").select("*", { count: "exact", head: true });
    eq(c.count, 6, "count");
  });

  await check("update", async () => {
    const r = await user.from("book").update({ year: 2002 }).eq("id", id).select("year");
    noError(r);
    eq(r.data, [{ year: 2002 }]);
  });

  await check("upsert", async () => {
    const r = await user
      .from("book")
      .upsert({ id, title: "The Invisible Planet (rev.)", year: 2003, author_id: 2 })
      .select("title,year");
    noError(r);
    eq(r.data, [{ title: "The Invisible Planet (rev.)", year: 2003 }]);
  });

  await check("delete", async () => {
    const r = await user.from("book").delete().eq("id", id);
    noError(r);
    eq(r.status, 204, "status");
    const after = await supabase.from("book").select("id").eq("id", id);
    eq(after.data, []);
  });

  await check("errors come back as PostgREST-shaped errors", async () => {
    const missing = await supabase.from("nope").select();
    eq(missing.status, 404, "status");
    eq(missing.error?.code, "PGRST205");
    eq(missing.error?.message, "Could not find the table 'nope' in the schema cache");
    const invalid = await user.from("book").insert({ title: { nested: true } }).select();
    eq(invalid.status, 422, "status");
    eq(invalid.error?.code, "validation");
  });
} catch (e) {
  fail("setup", e);
} finally {
  server?.child.kill();
  rmSync(dir, { recursive: true, force: true });
}

finish();
