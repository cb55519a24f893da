// Shared by the supabase-js scripts: the baas binary, starting `baas serve`
// on a free port, a tenant's keys, and the checks with their closing
// `N passed, M failed` line.

import { spawn, execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join, resolve, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { createInterface } from "node:readline";

const here = dirname(fileURLToPath(import.meta.url));
const targetDir = process.env.CARGO_TARGET_DIR ?? resolve(here, "../../target");

/** The baas binary: argv[2], else $BAAS_BIN, else the debug build. */
export const bin = process.argv[2] ?? process.env.BAAS_BIN ?? join(targetDir, "debug/baas");
if (!existsSync(bin)) {
  console.error(`no baas binary at ${bin}: build it (cargo build -p baas-server) or pass its path`);
  process.exit(2);
}

/** Start `baas serve ...args` in `dir`; resolves to `{child, base}` once it listens. */
export function start(dir, args = []) {
  const child = spawn(bin, ["serve", ...args], {
    cwd: dir,
    env: { ...process.env, BAAS_LISTEN: "127.0.0.1:0", RUST_LOG: "warn" },
    stdio: ["ignore", "pipe", "inherit"],
  });
  return new Promise((ok, fail) => {
    const timer = setTimeout(() => fail(new Error("baas did not start within 60 s")), 60_000);
    child.on("exit", (code) => fail(new Error(`baas exited early (${code})`)));
    const lines = createInterface({ input: child.stdout });
    lines.on("line", (line) => {
      const url = line.match(/http:\/\/[0-9.:]+/);
      if (url && line.includes("serving")) {
        clearTimeout(timer);
        ok({ child, base: url[0] });
      }
    });
  });
}

/** The tenant's `{anon, service_role}` keys, from `baas keys TENANT` run in `dir` (`args` as for serve). */
export function keysOf(dir, tenant, args = []) {
  const out = execFileSync(bin, ["keys", tenant, ...args], {
    cwd: dir,
    env: { ...process.env, RUST_LOG: "warn" },
    encoding: "utf8",
    timeout: 60_000,
    stdio: ["ignore", "pipe", "pipe"],
  });
  const line = out
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l.startsWith("{"))
    .pop();
  if (!line) throw new Error(`baas keys ${tenant} printed no JSON line: ${JSON.stringify(out)}`);
  const keys = JSON.parse(line);
  if (typeof keys.anon !== "string") throw new Error(`no anon key in ${line}`);
  return keys;
}

const counts = { passed: 0, failed: 0 };

/**
 * Run one named check; a throw fails it. `fn` may return a detail printed
 * after the name. Resolves to whether it passed.
 */
export async function check(name, fn) {
  try {
    const detail = await fn();
    counts.passed += 1;
    console.log(`ok ${name}${typeof detail === "string" ? ` (${detail})` : ""}`);
    return true;
  } catch (e) {
    counts.failed += 1;
    console.log(`FAILED ${name}: ${e?.stack ?? e}`);
    return false;
  }
}

/** Count a failure that happened outside a check (setup). */
export function fail(what, e) {
  counts.failed += 1;
  console.log(`FAILED ${what}: ${e?.stack ?? e}`);
}

/** Print the closing line and exit (1 on a failure). */
export function finish() {
  console.log(`${counts.passed} passed, ${counts.failed} failed`);
  process.exit(counts.failed > 0 ? 1 : 0);
}

/** JSON equality. */
export function eq(actual, expected, what = "") {
  const a = JSON.stringify(actual);
  const b = JSON.stringify(expected);
  if (a !== b) throw new Error(`${what} expected ${b}, got ${a}`);
}

/** A supabase-js answer without an error. */
export function noError({ error }) {
  if (error) throw new Error(`error: ${JSON.stringify(error)}`);
}
