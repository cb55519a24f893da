// `Accept: text/csv` against `application/json` for the same reads on one
// `baas serve` over PostgreSQL's Chinook: 40 alternated requests each, the
// first 5 left out, median time and body size. CSV writes each value as
// PostgreSQL's text output of its type (baas-rest/src/csv.rs), embeddings
// as `json_agg` text.
//
//   bash benches/csv/run.sh            (after `cargo build`; BAAS_BIN to pick a binary)
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { start, keysOf } from "../../tests/js/lib.mjs";
const url = process.env.BAAS_TEST_PG_URL ?? "postgres://baas:baas_pw@127.0.0.1:5432/chinook";
const dir = mkdtempSync(join(tmpdir(), "csvbench-"));
const server = await start(dir, ["--db", url, "--tenant", "c"]);
const key = keysOf(dir, "c").service_role;
const headers = (accept) => ({ apikey: key, Authorization: `Bearer ${key}`, Accept: accept });
const median = (xs) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)];
for (const path of ["invoice?limit=412", "track?limit=1000", "album?select=*,track(*)&limit=100"]) {
  const times = { json: [], csv: [] };
  let sizes = {};
  for (let i = 0; i < 40; i++) {
    for (const [k, accept] of [["json", "application/json"], ["csv", "text/csv"]]) {
      const t = performance.now();
      const r = await fetch(`${server.base}/c/${path}`, { headers: headers(accept) });
      const body = await r.text();
      if (r.status !== 200) throw new Error(`${path} ${k}: ${r.status} ${body.slice(0, 200)}`);
      if (i >= 5) times[k].push(performance.now() - t);
      sizes[k] = body.length;
    }
  }
  const j = median(times.json), c = median(times.csv);
  console.log(`${path}: json ${j.toFixed(2)} ms (${sizes.json} B), csv ${c.toFixed(2)} ms (${sizes.csv} B), csv/json ${(c / j).toFixed(2)}x`);
}
server.child.kill();
