//! No-panic property tests: random query strings built from grammar
//! fragments, mutated valid queries and garbage never panic, and every error
//! is a well-formed 3xx-5xx.

use baas_rest::{
    Operation, ParseLimits, RestError, RestRequest, parse_accept, parse_prefer, parse_range,
    parse_request, route,
};

use crate::common::schema;

/// xorshift64*: deterministic, dependency-free.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items.get(self.below(items.len())).copied().unwrap_or("")
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
}

const KEYS: &[&str] = &[
    "name",
    "composer",
    "milliseconds",
    "bytes",
    "unit_price",
    "explicit",
    "rating",
    "tags",
    "chart_positions",
    "meta",
    "meta->a",
    "meta->>b",
    "meta->a->>0",
    "mood",
    "nope",
    "album.title",
    "album",
    "playlists.name",
    "select",
    "order",
    "limit",
    "offset",
    "or",
    "and",
    "not.or",
    "not.and",
    "album.or",
    "album.order",
    "album.limit",
    "album.offset",
    "on_conflict",
    "columns",
    "after",
    "\"name\"",
    "a.b.c",
    "",
    "not",
    "genre.name",
    "genre",
    "x->",
    "->",
];

const OPS: &[&str] = &[
    "eq",
    "neq",
    "gt",
    "gte",
    "lt",
    "lte",
    "like",
    "ilike",
    "in",
    "is",
    "fts",
    "plfts",
    "phfts",
    "wfts",
    "fts(english)",
    "cs",
    "cd",
    "ov",
    "sl",
    "match",
    "isdistinct",
    "eq(any)",
    "like(all)",
    "not.eq",
    "not.in",
    "not.is",
    "zz",
    "",
    "not",
    "in(any)",
];

const VALUES: &[&str] = &[
    "1",
    "-1",
    "1.5",
    "1e400",
    "true",
    "FALSE",
    "null",
    "not_null",
    "unknown",
    "*a*",
    "%",
    "_",
    "\\",
    "(1,2,3)",
    "(\"a,b\",c)",
    "()",
    "(",
    ")",
    "{a,b}",
    "{\"x\",NULL}",
    "{}",
    "{{1}}",
    "{",
    "\"",
    "\"\"",
    "é",
    "🎸",
    "a,b",
    "a b",
    "",
    ".",
    "..",
    "x.y.z",
    "[1,2]",
    "[",
    "{\"a\":1}",
    "9223372036854775808",
    "18446744073709551616",
    "love & hate",
    "\u{0}",
    "\u{7f}",
];

const SELECTS: &[&str] = &[
    "*",
    "name",
    "name,composer",
    "album(*)",
    "album(title,artist(name))",
    "a:album(*)",
    "playlists!inner(name)",
    "playlist(*)",
    "album!inner()",
    "genre()",
    "meta->a",
    "x::text",
    "...album(*)",
    "count()",
    "name:name",
    "t:name",
    "album(",
    ")",
    "album(*",
    "!",
    ":",
    "a,,b",
    "album!left(*)",
    "album!hint!inner(*)",
    "invoice_lines(track(album(artist(*))))",
    "playlists(name,count())",
    "playlists(genre(name),milliseconds.sum())",
    "album!inner(title)",
];

const ORDERS: &[&str] = &[
    "name",
    "name.desc",
    "name.asc.nullslast",
    "composer.nullsfirst",
    "a,b.desc",
    "album(title)",
    "meta->a",
    "name.",
    ".",
    ",",
    "name.desc.desc",
];

const GARBAGE: &[&str] = &[
    "%", "%2", "%ZZ", "%FF", "%C3", "%22", "%2C", "%28", "%29", "+", "&", "=", "==", "&&", "?",
    "#", ";", "\u{feff}", "\u{202e}", "日本", "\t", " ",
];

fn fragment(rng: &mut Rng) -> String {
    let key = rng.pick(KEYS).to_string();
    let value = match key.rsplit('.').next().unwrap_or("") {
        "select" => rng.pick(SELECTS).to_string(),
        "order" => rng.pick(ORDERS).to_string(),
        "or" | "and" => logic(rng, 0),
        "limit" | "offset" => rng
            .pick(&["0", "5", "-1", "x", "99999999999999999999"])
            .to_string(),
        _ => {
            let op = rng.pick(OPS);
            format!("{op}.{}", rng.pick(VALUES))
        }
    };
    format!("{key}={value}")
}

fn logic(rng: &mut Rng, depth: usize) -> String {
    let n = 1 + rng.below(3);
    let items: Vec<String> = (0..n)
        .map(|_| {
            if depth < 4 && rng.chance(25) {
                let not = if rng.chance(30) { "not." } else { "" };
                format!("{not}{}{}", rng.pick(&["and", "or"]), logic(rng, depth + 1))
            } else {
                format!("{}.{}.{}", rng.pick(KEYS), rng.pick(OPS), rng.pick(VALUES))
            }
        })
        .collect();
    format!("({})", items.join(","))
}

fn mutate(rng: &mut Rng, s: &str) -> String {
    let mut chars: Vec<char> = s.chars().collect();
    for _ in 0..1 + rng.below(4) {
        let at = rng.below(chars.len() + 1);
        match rng.below(4) {
            0 if at < chars.len() => {
                chars.remove(at);
            }
            1 => {
                let g: Vec<char> = rng.pick(GARBAGE).chars().collect();
                for (i, c) in g.into_iter().enumerate() {
                    chars.insert((at + i).min(chars.len()), c);
                }
            }
            2 => {
                let c = char::from_u32((rng.next() % 0x250) as u32).unwrap_or('x');
                chars.insert(at.min(chars.len()), c);
            }
            _ => {
                if chars.len() > 1 {
                    let b = rng.below(chars.len());
                    let a = at.min(chars.len() - 1);
                    chars.swap(a, b);
                }
            }
        }
    }
    chars.into_iter().collect()
}

fn check(e: &RestError, input: &str) {
    assert!((300..600).contains(&e.status), "{input}: {e:?}");
    assert!(
        !e.code.is_empty() && !e.message.is_empty(),
        "{input}: {e:?}"
    );
    let body = e.to_response().json();
    assert!(body.get("code").is_some(), "{input}");
}

const METHODS: &[&str] = &["GET", "HEAD", "POST", "PATCH", "DELETE", "PUT", "OPTIONS"];
const PATHS: &[&str] = &[
    "/t/track",
    "/t/track/1",
    "/t/album",
    "/t/playlist_track/1,2",
    "/t/invoice",
    "/t/artist/x",
    "/t/top_tracks",
    "/t/employee",
];
const BODIES: &[&str] = &[
    "{}",
    "[]",
    "{\"name\":\"x\"}",
    "[{\"name\":1},{}]",
    "1",
    "null",
    "{",
    "[{}, 2]",
    "",
    "{\"track_id\":1}",
];
const HEADERS: &[(&str, &[&str])] = &[
    (
        "Prefer",
        &[
            "return=representation",
            "count=exact",
            "resolution=merge-duplicates",
            "handling=strict, x",
            "return=headers-only,count=planned",
            ",,=,",
        ],
    ),
    (
        "Range",
        &[
            "0-24",
            "5-",
            "9-1",
            "a-b",
            "18446744073709551615-18446744073709551615",
            "-",
        ],
    ),
    (
        "Accept",
        &[
            "application/json",
            "application/vnd.pgrst.object+json",
            "text/csv",
            "*/*",
            ";;,",
        ],
    ),
    ("Content-Type", &["application/json", "text/plain", ""]),
    ("x-tenant-id", &["t", "u", " "]),
];

/// Whether the request parsed into an operation.
fn run(rng: &mut Rng, qs: &str) -> bool {
    let s = schema();
    let mut limits = ParseLimits::default();
    limits.ir.max_filter_depth = 6;
    limits.ir.max_in_list = 8;
    limits.ir.max_embed_depth = 4;
    let mut req = RestRequest::new(rng.pick(METHODS), rng.pick(PATHS), qs);
    for (name, values) in HEADERS {
        if rng.chance(30) {
            req = req.header(*name, rng.pick(values));
        }
    }
    req = req.body(rng.pick(BODIES));
    let _ = parse_prefer(&req.headers);
    let _ = parse_range(&req.headers);
    let _ = parse_accept(&req.headers);
    match route(&req.path, &req.headers) {
        Err(e) => {
            check(&e, qs);
            false
        }
        Ok(r) => match parse_request(&s, &r, &req, &limits) {
            Err(e) => {
                check(&e, qs);
                false
            }
            Ok(Operation::Read(read)) => {
                // The IR serialises and stays within the limits.
                assert!(serde_json::to_string(&read.query).is_ok());
                if let Some(f) = &read.query.filter {
                    assert!(f.depth() < 64, "{qs}");
                }
                assert!(
                    read.query
                        .page
                        .limit
                        .is_none_or(|l| l <= limits.http.max_limit)
                );
                true
            }
            Ok(Operation::Write(_)) => true,
        },
    }
}

/// Both outcomes must occur, or the generator is not exercising the parser.
fn assert_mixed(ok: usize, total: usize) {
    assert!(ok > total / 50 && ok < total, "{ok} of {total} parsed");
}

#[test]
fn grammar_fragments_never_panic() {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut ok = 0;
    for _ in 0..4000 {
        let n = 1 + rng.below(4);
        let qs: Vec<String> = (0..n).map(|_| fragment(&mut rng)).collect();
        let qs = qs.join("&");
        ok += usize::from(run(&mut rng, &qs));
    }
    assert_mixed(ok, 4000);
}

#[test]
fn mutated_queries_never_panic() {
    let corpus = [
        "select=name,album(title,artist(name))&album.title=like.*a*&order=name.desc.nullslast&limit=10",
        "or=(name.eq.\"a,b\",and(milliseconds.gt.1,not.or(genre_id.in.(1,2),tags.cs.{a,b})))",
        "meta->a->>b=eq.x&name=fts(english).love&explicit=is.true&tags=ov.{\"x,y\",NULL}",
        "select=playlists!inner(name)&playlists.name=eq.Music&name=not.ilike.*x*",
        "select=*,album()&album=not.is.null&milliseconds=gt(all).{1,2}",
        "on_conflict=track_id&columns=name,composer",
        "meta->>a=match.^x&meta->a->>b=not.imatch.y&meta->>c=fts(english).z&meta->d=is.true",
        "select=track_id,playlists(name,n:count(),ms:milliseconds.sum())&playlists.name=eq.Music",
    ];
    let mut rng = Rng(42);
    let mut ok = 0;
    for i in 0..6000 {
        let base = corpus.get(i % corpus.len()).copied().unwrap_or("");
        let qs = mutate(&mut rng, base);
        ok += usize::from(run(&mut rng, &qs));
    }
    assert_mixed(ok, 6000);
}

#[test]
fn garbage_never_panics() {
    let mut rng = Rng(7);
    for _ in 0..3000 {
        let len = rng.below(40);
        let qs: String = (0..len)
            .map(|_| {
                if rng.chance(40) {
                    rng.pick(GARBAGE).to_string()
                } else {
                    rng.pick(&[
                        "(", ")", ",", ".", "\"", "{", "}", "!", ":", "->", "*", "\\", "a", "eq",
                        "or", "not", "select", "=", "&",
                    ])
                    .to_string()
                }
            })
            .collect();
        let _ = run(&mut rng, &qs);
        // Paths too.
        let _ = route(&qs, &[]);
        let _ = route(&format!("/t/{qs}"), &[("x-tenant-id".into(), "t".into())]);
    }
}
