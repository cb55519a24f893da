// Full-text search against the strongest plain baseline, `ilike`, on the
// same column in the same run: Chinook's `track.name` (3 503 rows, no
// text index), one `baas serve` per engine. SQLite and MongoDB search by
// word-bounded regular expressions (baas_core::text_query), PostgreSQL by
// `to_tsvector('simple', name) @@ to_tsquery(…)` as PostgREST does (the
// `simple` configuration, as the others split words). 40 alternated
// requests each, the first 5 left out, the median.
//
//   bash benches/fts/run.sh   (after `cargo build`; BAAS_BIN to pick a binary)
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { start, keysOf } from "../../tests/js/lib.mjs";

// Each engine's own Chinook names: the table and its text column.
const engines = [
  ["postgres", process.env.BAAS_TEST_PG_URL ?? "postgres://baas:baas_pw@127.0.0.1:5432/chinook", "track", "name"],
  ["sqlite", `sqlite://${process.env.FTS_SQLITE}`, "Track", "Name"],
  ["mongodb", process.env.BAAS_TEST_MONGO_URL ?? "mongodb://127.0.0.1:27017/chinook?directConnection=true", "Track", "Name"],
];
const median = (xs) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const reads = [
  ["ilike", "ilike.*love*"],
  ["fts word", "fts(simple).love"],
  ["fts tsquery", "fts(simple).love%20%26%20!(me%20%7C%20you)"],
  ["wfts", "wfts(simple).%22love%20me%22%20or%20heart%20-blue"],
];
for (const [engine, url, table, column] of engines) {
  const dir = mkdtempSync(join(tmpdir(), "ftsbench-"));
  const server = await start(dir, ["--db", url, "--tenant", "c"]);
  try {
  const key = keysOf(dir, "c").service_role;
  const headers = { apikey: key, Authorization: `Bearer ${key}` };
  const times = Object.fromEntries(reads.map(([k]) => [k, []]));
  const rows = {};
  for (let i = 0; i < 40; i++) {
    for (const [k, filter] of reads) {
      const t = performance.now();
      const r = await fetch(`${server.base}/c/${table}?select=${column}&${column}=${filter}`, { headers });
      const body = await r.text();
      if (r.status !== 200) throw new Error(`${engine} ${k}: ${r.status} ${body.slice(0, 300)}`);
      if (i >= 5) times[k].push(performance.now() - t);
      rows[k] = JSON.parse(body).length;
    }
  }
  const base = median(times.ilike);
  const line = reads
    .map(([k]) => `${k} ${median(times[k]).toFixed(2)} ms (${rows[k]} rows, ${(median(times[k]) / base).toFixed(2)}x)`)
    .join("; ");
  console.log(`${engine}: ${line}`);
  } finally {
    server.child.kill();
  }
}
