"""SQLite: an int8 sum as mini-baas writes it (two halves, exact past
2^63: `SUM(x >> 32)`, `SUM(x & 4294967295)`) against a plain `SUM(x)`,
1,000,000 rows in 100 groups, in memory; median of 7 runs, two rounds.

    python3 benches/sqlite-sums/run.py
"""
import random
import sqlite3
import time

c = sqlite3.connect(":memory:")
c.execute("create table t(g int, n int)")
random.seed(1)
c.executemany(
    "insert into t values (?,?)",
    ((i % 100, random.randint(-(2**40), 2**40)) for i in range(1_000_000)),
)


def run(sql, k=7):
    ts = []
    for _ in range(k):
        t = time.perf_counter()
        c.execute(sql).fetchall()
        ts.append(time.perf_counter() - t)
    ts.sort()
    return ts[k // 2] * 1000


print("sqlite", sqlite3.sqlite_version)
for _ in range(2):
    plain = run("select g, sum(n) from t group by g")
    split = run("select g, sum((n) >> 32), sum((n) & 4294967295) from t group by g")
    print(f"plain {plain:.1f} ms, split {split:.1f} ms, split/plain {split / plain:.2f}x")
