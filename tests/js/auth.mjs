// supabase-js auth (GoTrue routes under /{tenant}/auth/v1) and row rules,
// end to end, on every engine: the demo tenant (SQLite), then managed
// tenants on a SQLite file, PostgreSQL, MariaDB and MongoDB, each with a
// `note` entity that only its owner may read and write.
//
//   npm ci && node auth.mjs [path/to/baas]   (default: $BAAS_BIN, else
//                                             ../../target/debug/baas)
//
// Starts one `baas serve --admin-key …` in a fresh temporary directory on a
// free port, registers the managed tenants through /_admin/tenants, takes
// each tenant's keys from `baas keys TENANT` (same directory), runs the
// checks, stops it, and prints `N passed, M failed` last (exit 1 on a
// failure).
//
// Servers: BAAS_TEST_PG_URL, BAAS_TEST_MYSQL_URL, BAAS_TEST_MONGO_URL (the
// defaults of .ci/run otherwise). PostgreSQL gets a fresh database per run
// (the `baas` role has CREATEDB), dropped at the end; MariaDB (where `baas`
// may only use the URL's database) gets its `note` table dropped before and
// after; MongoDB gets a fresh database per run. An unreachable server is
// skipped, or a failure under CI=true.

import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { createConnection } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createClient } from "@supabase/supabase-js";
import { start, keysOf as keysIn, check as checkNamed, eq, noError, fail, finish } from "./lib.mjs";

const CI = process.env.CI === "true";
const PG_URL = process.env.BAAS_TEST_PG_URL ?? "postgres://baas:baas_pw@127.0.0.1:5432/chinook";
const MYSQL_URL = process.env.BAAS_TEST_MYSQL_URL ?? "mysql://baas:baas_pw@127.0.0.1:3306/Chinook";
const MONGO_URL =
  process.env.BAAS_TEST_MONGO_URL ?? "mongodb://127.0.0.1:27017/chinook?directConnection=true";

// Unique per run: user emails, the PostgreSQL and MongoDB database names.
const runId = `${process.pid.toString(36)}${Date.now().toString(36)}`;
const adminKey = randomBytes(24).toString("hex");
const password = "Correct-Horse-9-battery";

/** Run one check of `engine`; resolves to whether it passed. */
const check = (engine, name, fn) => checkNamed(`${engine} ${name}`, fn);

/** The value, or an error naming what an earlier check should have produced. */
function need(value, what) {
  if (value === undefined || value === null) throw new Error(`no ${what} (an earlier check failed)`);
  return value;
}

const byNumber = (a, b) => (a < b ? -1 : a > b ? 1 : 0);
const sorted = (ids) => [...ids].sort(byNumber);

/** `[header, payload]` of a JWT (not verified). */
function decodeJwt(token) {
  const parts = String(token).split(".");
  if (parts.length !== 3) throw new Error(`not a JWT: ${token}`);
  return parts.slice(0, 2).map((p) => JSON.parse(Buffer.from(p, "base64url").toString("utf8")));
}

const dir = mkdtempSync(join(tmpdir(), "baas-supabase-js-auth-"));
let server;

/** The tenant's `{anon, service_role}` keys, from `baas keys TENANT` run in the server's directory. */
function keysOf(tenant) {
  const keys = keysIn(dir, tenant);
  for (const role of ["anon", "service_role"]) {
    if (typeof keys[role] !== "string") throw new Error(`no "${role}" key in ${JSON.stringify(keys)}`);
    eq(decodeJwt(keys[role])[1].role, role, `the ${role} key's role claim:`);
  }
  return keys;
}

/** A `/_admin/…` request with the admin key. */
async function admin(method, path, body) {
  const r = await fetch(`${server.base}${path}`, {
    method,
    headers: { Authorization: `Bearer ${adminKey}`, "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: r.status, text: await r.text() };
}

// ---------- the managed `note` entity and its rule ----------

const noteEntity = {
  name: "note",
  source: { table: "note" },
  primary_key: ["id"],
  fields: [
    { name: "id", type: { kind: "int64" }, generated: "auto_increment" },
    { name: "owner_id", type: { kind: "text" } },
    { name: "body", type: { kind: "text" } },
    // Nullable: MongoDB has no column defaults (the SQL engines apply now()).
    { name: "created_at", type: { kind: "timestamptz" }, nullable: true, default: "now()" },
  ],
};

const ownNotes = {
  entity: "note",
  name: "own notes",
  action: ["read", "insert", "update", "delete"],
  role: ["authenticated"],
  filter: "owner_id=eq.auth.uid()",
  check: "owner_id=eq.auth.uid()",
  preset: { owner_id: "auth.uid()" },
};

// ---------- the database servers ----------

/** A server that is not there: a skip, or a failure under CI=true. */
class Unavailable extends Error {}

function reachable(host, port) {
  return new Promise((ok) => {
    const socket = createConnection({ host, port });
    const done = (up) => {
      socket.destroy();
      ok(up);
    };
    socket.setTimeout(3000, () => done(false));
    socket.once("connect", () => done(true));
    socket.once("error", () => done(false));
  });
}

function urlParts(url, defaultPort) {
  const u = new URL(url);
  return {
    u,
    host: u.hostname.replace(/^\[|\]$/g, ""),
    port: Number(u.port) || defaultPort,
    user: decodeURIComponent(u.username),
    password: decodeURIComponent(u.password),
    db: decodeURIComponent(u.pathname.replace(/^\//, "")),
  };
}

async function mustReach(what, host, port) {
  if (!(await reachable(host, port))) throw new Unavailable(`${what} at ${host}:${port} is unreachable`);
}

/** Run a database CLI; a missing binary is Unavailable. */
function cli(cmd, args, env) {
  try {
    return execFileSync(cmd, args, {
      env: { ...process.env, ...env },
      encoding: "utf8",
      timeout: 60_000,
      stdio: ["ignore", "pipe", "pipe"],
    });
  } catch (e) {
    if (e.code === "ENOENT") throw new Unavailable(`the \`${cmd}\` client is not installed`);
    throw new Error(`${cmd} ${args.join(" ")}: ${e.stderr || e.message}`);
  }
}

const pg = urlParts(PG_URL, 5432);
const pgDb = `baas_js_auth_${runId}`;
function psql(sql) {
  return cli(
    "psql",
    ["-h", pg.host, "-p", String(pg.port), "-U", pg.user, "-d", "postgres", "-v", "ON_ERROR_STOP=1", "-qAtc", sql],
    { PGPASSWORD: pg.password },
  );
}

const my = urlParts(MYSQL_URL, 3306);
function mysqlCli(sql) {
  const args = ["--protocol=tcp", "-h", my.host, "-P", String(my.port), "-u", my.user, my.db, "-e", sql];
  try {
    return cli("mariadb", args, { MYSQL_PWD: my.password });
  } catch (e) {
    if (!(e instanceof Unavailable)) throw e;
    return cli("mysql", args, { MYSQL_PWD: my.password });
  }
}

const mongo = urlParts(MONGO_URL, 27017);

/** The engines after the demo: `prepare` returns the tenant's database URL. */
const managed = [
  {
    engine: "sqlite",
    tenant: "notes_lite",
    prepare: async () => `sqlite://${join(dir, "notes.db")}?mode=rwc`,
  },
  {
    engine: "postgres",
    tenant: "notes_pg",
    prepare: async () => {
      await mustReach("PostgreSQL (BAAS_TEST_PG_URL)", pg.host, pg.port);
      psql(`CREATE DATABASE "${pgDb}"`);
      const u = new URL(PG_URL);
      u.pathname = `/${pgDb}`;
      return u.toString();
    },
    cleanup: () => psql(`DROP DATABASE IF EXISTS "${pgDb}" WITH (FORCE)`),
  },
  {
    engine: "mysql",
    tenant: "notes_my",
    prepare: async () => {
      await mustReach("MariaDB (BAAS_TEST_MYSQL_URL)", my.host, my.port);
      mysqlCli("DROP TABLE IF EXISTS note");
      return MYSQL_URL;
    },
    cleanup: () => mysqlCli("DROP TABLE IF EXISTS note"),
  },
  {
    engine: "mongo",
    tenant: "notes_mongo",
    prepare: async () => {
      await mustReach("MongoDB (BAAS_TEST_MONGO_URL)", mongo.host, mongo.port);
      const u = new URL(MONGO_URL);
      u.pathname = `/baas_js_auth_${runId}`;
      return u.toString();
    },
  },
];

// ---------- one engine ----------

/**
 * Register the managed tenant with its metadata (`note` and the rule): the
 * registration creates the table, and the next request serves it.
 */
async function registerNotes(engine, tenant, url) {
  let keys;
  const ok = await check(engine, "register the managed tenant with its rules", async () => {
    const r = await admin("POST", "/_admin/tenants", {
      id: tenant,
      url,
      mode: "managed",
      schema: { entities: [noteEntity], rules: [ownNotes] },
    });
    eq(r.status, 201, `POST /_admin/tenants ${r.text}:`);
    keys = keysOf(tenant);
    const service = client(tenant, keys.service_role).sb;
    const probe = await service.from("note").select("id").limit(1);
    if (probe.error) throw new Error(`note not served after registration: ${JSON.stringify(probe.error)}`);
  });
  return ok ? keys : null;
}

/** A supabase-js client on `tenant` that records the requests it makes. */
function client(tenant, key) {
  const calls = [];
  const sb = createClient(`${server.base}/${tenant}`, key, {
    auth: {
      persistSession: false,
      autoRefreshToken: false,
      // auth-js caches the JWKS per storage key (GLOBAL_JWKS), and the
      // default key is per host: every tenant here shares 127.0.0.1.
      storageKey: `sb-${tenant}-auth-token`,
    },
    global: {
      fetch: (input, init) => {
        const url = new URL(String(input?.url ?? input));
        calls.push(`${init?.method ?? input?.method ?? "GET"} ${url.pathname}`);
        return fetch(input, init);
      },
    },
  });
  return { sb, calls };
}

async function runEngine(engine, tenant, keys) {
  const sql = engine !== "mongo";
  const users = ["a", "b"].map((n) => ({
    n,
    email: `js-${engine}-${n}-${runId}@example.com`,
    ...client(tenant, keys.anon),
    notes: [],
  }));
  const [A, B] = users;

  const signedUp = await check(engine, "sign up two users", async () => {
    for (const u of users) {
      const r = await u.sb.auth.signUp({ email: u.email, password });
      noError(r);
      const s = r.data.session;
      if (!s) throw new Error(`sign-up gave no session (autoconfirm off?): ${JSON.stringify(r.data)}`);
      eq(r.data.user?.email, u.email, "user.email");
      u.id = need(r.data.user.id, "user id");
      eq(s.user?.id, u.id, "session.user.id");
      eq(s.token_type, "bearer", "token_type");
      eq(decodeJwt(s.access_token)[1].sub, u.id, "access token sub");
      u.signupRefresh = s.refresh_token;
    }
    if (A.id === B.id) throw new Error(`both users have id ${A.id}`);
  });
  if (!signedUp) return;

  await check(engine, "sign in with password", async () => {
    for (const u of users) {
      const r = await u.sb.auth.signInWithPassword({ email: u.email, password });
      noError(r);
      if (!r.data.session) throw new Error(`no session: ${JSON.stringify(r.data)}`);
      eq(r.data.user?.id, u.id, "user.id");
      eq(r.data.session.user?.id, u.id, "session.user.id");
      eq(decodeJwt(r.data.session.access_token)[1].role, "authenticated", "access token role");
    }
  });

  await check(engine, "getUser() returns the user with its email", async () => {
    for (const u of users) {
      const r = await u.sb.auth.getUser();
      noError(r);
      eq(r.data.user?.id, u.id, "id");
      eq(r.data.user?.email, u.email, "email");
    }
  });

  await check(engine, "updateUser() sets user_metadata", async () => {
    const r = await A.sb.auth.updateUser({ data: { nickname: "ay" } });
    noError(r);
    eq(r.data.user?.user_metadata?.nickname, "ay", "returned user_metadata.nickname");
    const g = await A.sb.auth.getUser();
    noError(g);
    eq(g.data.user?.user_metadata?.nickname, "ay", "user_metadata.nickname read back");
  });

  let wrong;
  await check(engine, "a wrong password gives 400 Invalid login credentials", async () => {
    const r = await client(tenant, keys.anon).sb.auth.signInWithPassword({
      email: A.email,
      password: `${password}-wrong`,
    });
    wrong = r.error;
    if (!r.error) throw new Error(`signed in: ${JSON.stringify(r.data)}`);
    eq(r.error.status, 400, "status");
    eq(r.error.message, "Invalid login credentials", "message");
    eq(r.data.session, null, "session");
  });

  await check(engine, "the wrong-password error has code invalid_credentials", async () => {
    eq(need(wrong, "wrong-password error").code, "invalid_credentials", "code");
  });

  await check(engine, "an unknown email gives the same error", async () => {
    const r = await client(tenant, keys.anon).sb.auth.signInWithPassword({
      email: `js-${engine}-nobody-${runId}@example.com`,
      password,
    });
    if (!r.error) throw new Error(`signed in: ${JSON.stringify(r.data)}`);
    eq(r.error.status, 400, "status");
    eq(r.error.message, "Invalid login credentials", "message");
  });

  await check(engine, "sign-up with an existing email fails", async () => {
    const r = await client(tenant, keys.anon).sb.auth.signUp({ email: A.email, password });
    if (!r.error) throw new Error(`no error: ${JSON.stringify(r.data)}`);
    eq(r.data.session, null, "session");
    return `${r.error.status} ${r.error.code ?? "-"} "${r.error.message}"`;
  });

  await check(engine, "GET /settings", async () => {
    const r = await fetch(`${server.base}/${tenant}/auth/v1/settings`, { headers: { apikey: keys.anon } });
    eq(r.status, 200, "status");
    const s = await r.json();
    if (typeof s.external !== "object" || s.external === null) throw new Error(`no "external": ${JSON.stringify(s)}`);
    eq(s.mailer_autoconfirm, true, "mailer_autoconfirm");
  });

  await check(engine, "getClaims() verifies the access token against the JWKS", async () => {
    if (typeof A.sb.auth.getClaims !== "function") return "getClaims() absent in this auth-js";
    const session = need((await A.sb.auth.getSession()).data.session, "session");
    const [header, payload] = decodeJwt(session.access_token);
    if (!["RS256", "ES256"].includes(header.alg) || !header.kid) {
      throw new Error(
        `access token header ${JSON.stringify(header)}: auth-js verifies only RS256/ES256 tokens with a kid against the JWKS, otherwise getClaims() falls back to GET /user`,
      );
    }
    const jr = await fetch(`${server.base}/${tenant}/auth/v1/.well-known/jwks.json`, {
      headers: { apikey: keys.anon },
    });
    eq(jr.status, 200, "jwks.json status");
    const jwks = await jr.json();
    if (!jwks.keys?.some((k) => k.kid === header.kid)) {
      throw new Error(`kid ${header.kid} is not in the JWKS: ${JSON.stringify(jwks)}`);
    }
    const from = A.calls.length;
    const r = await A.sb.auth.getClaims();
    noError(r);
    eq(r.data?.claims?.sub, A.id, "claims.sub");
    eq(r.data?.claims?.email, A.email, "claims.email");
    eq(r.data?.claims?.role, "authenticated", "claims.role");
    const made = A.calls.slice(from);
    if (made.some((c) => c.endsWith("/auth/v1/user"))) {
      throw new Error(`getClaims() fell back to GET /user: ${made.join(", ")}`);
    }
    // The same signature over another payload must not verify.
    const parts = session.access_token.split(".");
    parts[1] = Buffer.from(JSON.stringify({ ...payload, sub: B.id })).toString("base64url");
    const forged = await A.sb.auth.getClaims(parts.join("."));
    if (!forged.error) throw new Error(`a forged token verified: ${JSON.stringify(forged.data?.claims)}`);
    return header.alg;
  });

  // ---------- notes ----------

  const inserted = await check(engine, "insert notes without owner_id: owner_id is the user's id", async () => {
    const r = await A.sb.from("note").insert([{ body: "a1" }, { body: "a2" }]).select();
    noError(r);
    eq(r.status, 201, "status");
    const rows = [...r.data].sort((x, y) => byNumber(x.body, y.body));
    eq(rows.map((n) => [n.body, n.owner_id]), [["a1", A.id], ["a2", A.id]], "A's rows");
    const b = await B.sb.from("note").insert({ body: "b1" }).select().single();
    noError(b);
    eq([b.data.body, b.data.owner_id], ["b1", B.id], "B's row");
    for (const n of [...rows, b.data]) {
      if (n.id === null || n.id === undefined) throw new Error(`no id: ${JSON.stringify(n)}`);
      if (sql && typeof n.created_at !== "string") throw new Error(`created_at not defaulted: ${JSON.stringify(n)}`);
    }
    A.notes = rows.map((n) => n.id);
    A.byBody = Object.fromEntries(rows.map((n) => [n.body, n.id]));
    B.notes = [b.data.id];
  });
  if (!inserted) return;
  const bNote = B.notes[0];

  await check(engine, "insert with the other user's owner_id is overridden or refused", async () => {
    const r = await A.sb.from("note").insert({ owner_id: B.id, body: "spoof" }).select();
    if (r.error) {
      eq(r.status, 403, `refused (${JSON.stringify(r.error)}) with status`);
      return "refused: 403";
    }
    eq(r.data.length, 1, "rows");
    eq(r.data[0].owner_id, A.id, "stored owner_id");
    A.notes.push(r.data[0].id);
    return "overridden by the preset";
  });

  await check(engine, "each user sees exactly their own notes", async () => {
    for (const u of users) {
      const r = await u.sb.from("note").select("id,owner_id").order("id");
      noError(r);
      eq(r.data.map((n) => n.id), sorted(u.notes), `${u.n}'s ids`);
      if (r.data.some((n) => n.owner_id !== u.id)) throw new Error(`foreign rows: ${JSON.stringify(r.data)}`);
    }
    const byId = await A.sb.from("note").select("id").eq("id", bNote);
    noError(byId);
    eq(byId.data, [], "A filtering on B's note id");
    const byOwner = await A.sb.from("note").select("id").eq("owner_id", B.id);
    noError(byOwner);
    eq(byOwner.data, [], "A filtering on B's owner_id");
  });

  await check(engine, "updating the other user's note affects 0 rows", async () => {
    const r = await A.sb.from("note").update({ body: "hacked" }).eq("id", bNote).select();
    noError(r);
    eq(r.data, [], "updated rows");
    const back = await B.sb.from("note").select("body").eq("id", bNote);
    noError(back);
    eq(back.data, [{ body: "b1" }], "B's note");
  });

  await check(engine, "deleting the other user's note affects 0 rows", async () => {
    const r = await A.sb.from("note").delete().eq("id", bNote).select();
    noError(r);
    eq(r.data, [], "deleted rows");
    const back = await B.sb.from("note").select("id").eq("id", bNote);
    noError(back);
    eq(back.data, [{ id: bNote }], "B's note");
  });

  await check(engine, "a user updates and deletes their own note", async () => {
    const a1 = need(A.byBody?.a1, "note a1");
    const a2 = need(A.byBody?.a2, "note a2");
    const u = await A.sb.from("note").update({ body: "a1 edited" }).eq("id", a1).select("id,body");
    noError(u);
    eq(u.data, [{ id: a1, body: "a1 edited" }], "updated rows");
    const d = await A.sb.from("note").delete().eq("id", a2).select("id");
    noError(d);
    eq(d.data, [{ id: a2 }], "deleted rows");
    A.notes = A.notes.filter((id) => id !== a2);
  });

  await check(engine, "an update cannot hand a note to the other user", async () => {
    const a1 = need(A.byBody?.a1, "note a1");
    const r = await A.sb.from("note").update({ owner_id: B.id }).eq("id", a1).select("id,owner_id");
    if (r.error) {
      eq(r.status, 403, `refused (${JSON.stringify(r.error)}) with status`);
      return "refused: 403";
    }
    eq(r.data, [{ id: a1, owner_id: A.id }], "updated rows");
    return "overridden by the preset";
  });

  await check(engine, "anon sees no notes", async () => {
    const r = await client(tenant, keys.anon).sb.from("note").select("id");
    noError(r);
    eq(r.data, [], "rows");
  });

  await check(engine, "anon cannot insert a note", async () => {
    const r = await client(tenant, keys.anon).sb.from("note").insert({ body: "anon" }).select();
    if (!r.error) throw new Error(`inserted: ${JSON.stringify(r.data)}`);
    if (r.status !== 401 && r.status !== 403) throw new Error(`status ${r.status}, expected 401 or 403`);
    return String(r.status);
  });

  await check(engine, "the service role sees every note of both users", async () => {
    const r = await client(tenant, keys.service_role).sb.from("note").select("id,owner_id").order("id");
    noError(r);
    eq(r.data.map((n) => n.id), sorted([...A.notes, ...B.notes]), "ids");
    const owner = new Map([...A.notes.map((id) => [id, A.id]), ...B.notes.map((id) => [id, B.id])]);
    for (const n of r.data) eq(n.owner_id, owner.get(n.id), `owner of ${n.id}`);
  });

  // ---------- refresh and sign-out ----------

  await check(engine, "refreshSession() rotates the refresh token; the new session works", async () => {
    const before = need((await A.sb.auth.getSession()).data.session, "session");
    A.oldRefresh = before.refresh_token;
    const r = await A.sb.auth.refreshSession();
    noError(r);
    const s = need(r.data.session, "refreshed session");
    eq(r.data.user?.id, A.id, "user.id");
    if (s.refresh_token === before.refresh_token) throw new Error("the refresh token was not rotated");
    A.newRefresh = s.refresh_token;
    eq((await A.sb.auth.getSession()).data.session?.access_token, s.access_token, "stored access token");
    const notes = await A.sb.from("note").select("id").order("id");
    noError(notes);
    eq(notes.data.map((n) => n.id), sorted(A.notes), "A's ids with the new token");
    const g = await A.sb.auth.getUser();
    noError(g);
    eq(g.data.user?.email, A.email, "getUser() email");
  });

  await check(engine, "signOut() revokes the user's refresh tokens", async () => {
    const tokens = {
      "the current": need(A.newRefresh, "refreshed token"),
      "the pre-refresh": need(A.oldRefresh, "pre-refresh token"),
      "the sign-up session's": need(A.signupRefresh, "sign-up token"),
    };
    const r = await A.sb.auth.signOut();
    eq(r.error, null, "signOut error");
    eq((await A.sb.auth.getSession()).data.session, null, "session after signOut");
    const seen = [];
    for (const [which, token] of Object.entries(tokens)) {
      const again = await client(tenant, keys.anon).sb.auth.refreshSession({ refresh_token: token });
      if (!again.error) throw new Error(`${which} refresh token still works after signOut()`);
      eq(again.data.session, null, `${which} token's session`);
      seen.push(`${again.error.status} ${again.error.code ?? "-"}`);
    }
    const notes = await A.sb.from("note").select("id");
    noError(notes);
    eq(notes.data, [], "notes read after signOut (as anon)");
    return [...new Set(seen)].join(", ");
  });

  await check(engine, "signOut({scope: 'local'}) ends only that session", async () => {
    const B2 = client(tenant, keys.anon);
    const s2 = await B2.sb.auth.signInWithPassword({ email: B.email, password });
    noError(s2);
    const local = need((await B.sb.auth.getSession()).data.session, "B's session").refresh_token;
    const r = await B.sb.auth.signOut({ scope: "local" });
    eq(r.error, null, "signOut error");
    const dead = await client(tenant, keys.anon).sb.auth.refreshSession({ refresh_token: local });
    if (!dead.error) throw new Error("the signed-out session's refresh token still works");
    const alive = await B2.sb.auth.refreshSession();
    noError(alive);
    need(alive.data.session, "the other session, refreshed");
    const notes = await B2.sb.from("note").select("id").order("id");
    noError(notes);
    eq(notes.data.map((n) => n.id), sorted(B.notes), "B's ids in the other session");
    const g = await B2.sb.auth.signOut({ scope: "global" });
    eq(g.error, null, "global signOut error");
    const gone = await client(tenant, keys.anon).sb.auth.refreshSession({ refresh_token: B.signupRefresh });
    if (!gone.error) throw new Error("a global signOut() left the sign-up session's refresh token working");
  });
}

// ---------- main ----------

const watchdog = setTimeout(() => {
  fail("timeout", "the checks did not finish within 20 minutes");
  server?.child.kill();
  finish();
}, 20 * 60_000);
watchdog.unref();

const cleanups = [];
try {
  server = await start(dir, ["--admin-key", adminKey]);

  let demoKeys;
  if (await check("demo", "baas keys demo", async () => void (demoKeys = keysOf("demo")))) {
    await runEngine("demo", "demo", demoKeys);
  }

  for (const t of managed) {
    let url;
    try {
      url = await t.prepare();
    } catch (e) {
      if (e instanceof Unavailable && !CI) {
        console.log(`skip ${t.engine}: ${e.message}`);
        continue;
      }
      fail(`${t.engine} setup`, e);
      continue;
    }
    if (t.cleanup) cleanups.push(t);
    const keys = await registerNotes(t.engine, t.tenant, url);
    if (keys) await runEngine(t.engine, t.tenant, keys);
  }
} catch (e) {
  fail("setup", e);
} finally {
  if (server) {
    if (server.child.exitCode === null && server.child.signalCode === null) {
      const exited = new Promise((ok) => server.child.once("exit", ok));
      server.child.kill();
      await Promise.race([exited, new Promise((ok) => setTimeout(ok, 10_000))]);
    }
  }
  for (const t of cleanups) {
    try {
      t.cleanup();
    } catch (e) {
      console.log(`warning: ${t.engine} cleanup: ${e?.message ?? e}`);
    }
  }
  rmSync(dir, { recursive: true, force: true });
}

finish();
