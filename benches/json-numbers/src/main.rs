// Cost of serde_json's arbitrary_precision on what a read answer does: build
// rows of JSON values (ints, floats, decimals as numbers) and serialize them,
// and parse a request body of the same shape. Median of 15 runs of 200 pages
// of 1000 rows.
use serde_json::{Map, Value, json};
use std::time::Instant;

fn page() -> Vec<Map<String, Value>> {
    (0..1000)
        .map(|i| {
            let mut m = Map::new();
            m.insert("track_id".into(), json!(i));
            m.insert("name".into(), json!(format!("Track {i}")));
            m.insert("milliseconds".into(), json!(200_000 + i * 7));
            m.insert("bytes".into(), json!(6_000_000_i64 + i as i64 * 13));
            m.insert("rating".into(), Value::from(i as f64 / 7.0));
            // A decimal as the engine answers it.
            let text = format!("{}.{:02}", i % 10, i % 100);
            m.insert(
                "unit_price".into(),
                text.parse::<serde_json::Number>()
                    .map(Value::Number)
                    .unwrap_or(Value::String(text)),
            );
            m
        })
        .collect()
}

fn main() {
    let mut build = Vec::new();
    let mut ser = Vec::new();
    let mut parse = Vec::new();
    for _ in 0..15 {
        let t = Instant::now();
        let mut pages = Vec::new();
        for _ in 0..200 {
            pages.push(page());
        }
        build.push(t.elapsed().as_secs_f64());
        let t = Instant::now();
        let mut bytes = 0;
        let mut texts = Vec::new();
        for p in &pages {
            let s = serde_json::to_vec(p).unwrap();
            bytes += s.len();
            texts.push(s);
        }
        ser.push(t.elapsed().as_secs_f64());
        let t = Instant::now();
        let mut n = 0;
        for s in &texts {
            let v: Value = serde_json::from_slice(s).unwrap();
            n += v.as_array().unwrap().len();
        }
        parse.push(t.elapsed().as_secs_f64());
        assert!(bytes > 0 && n == 200_000);
    }
    for v in [&mut build, &mut ser, &mut parse] {
        v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    }
    println!(
        "build {:.1} ms, serialize {:.1} ms, parse {:.1} ms (200 pages x 1000 rows, median of 15)",
        build[7] * 1e3,
        ser[7] * 1e3,
        parse[7] * 1e3
    );
}
