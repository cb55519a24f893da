//! Routing: tenant from path or header, items, composite keys, reserved routes.

use baas_rest::route::{route_with, split_key};
use baas_rest::{Route, route};

use crate::common::hdrs;

fn coll(t: &str, e: &str) -> Route {
    Route::Collection {
        tenant: t.into(),
        entity: e.into(),
    }
}

fn item(t: &str, e: &str, key: &[&str]) -> Route {
    Route::Item {
        tenant: t.into(),
        entity: e.into(),
        key: key.iter().map(|k| k.to_string()).collect(),
    }
}

#[test]
fn tenant_in_path() {
    assert_eq!(
        route("/acme/artist", &[]).ok(),
        Some(coll("acme", "artist"))
    );
    assert_eq!(
        route("/acme/artist/", &[]).ok(),
        Some(coll("acme", "artist"))
    );
    assert_eq!(route("acme/artist", &[]).ok(), Some(coll("acme", "artist")));
    assert_eq!(
        route("/acme/artist/42", &[]).ok(),
        Some(item("acme", "artist", &["42"]))
    );
    assert_eq!(
        route("/acme/discovery", &[]).ok(),
        Some(Route::Discovery {
            tenant: "acme".into()
        })
    );
    assert_eq!(
        route("/acme/openapi.json", &[]).ok(),
        Some(Route::OpenApi {
            tenant: "acme".into()
        })
    );
    assert_eq!(
        route("/acme/artist/42", &[])
            .ok()
            .and_then(|r| r.tenant().map(String::from)),
        Some("acme".into())
    );
}

#[test]
fn keys_are_split_then_decoded() {
    assert_eq!(
        route("/t/playlist_track/1,3402", &[]).ok(),
        Some(item("t", "playlist_track", &["1", "3402"]))
    );
    assert_eq!(
        route("/t/customer/a%2Cb,c%20d", &[]).ok(),
        Some(item("t", "customer", &["a,b", "c d"]))
    );
    assert_eq!(
        route("/t/artist/Mot%C3%B6rhead", &[]).ok(),
        Some(item("t", "artist", &["Motörhead"]))
    );
    assert_eq!(
        route("/t/artist/a%2Fb", &[]).ok(),
        Some(item("t", "artist", &["a/b"]))
    );
    // `+` is literal in paths.
    assert_eq!(
        route("/t/artist/a+b", &[]).ok(),
        Some(item("t", "artist", &["a+b"]))
    );
    assert_eq!(
        split_key(",").ok(),
        Some(vec![String::new(), String::new()])
    );
    assert_eq!(route("/t/artist/%FF", &[]).map_err(|e| e.status), Err(400));
    // Percent-encoded names.
    assert_eq!(
        route("/t%20x/order%20items", &[]).ok(),
        Some(coll("t x", "order items"))
    );
}

#[test]
fn tenant_from_header() {
    let h = hdrs(&[("X-Tenant-Id", "acme")]);
    assert_eq!(route("/artist", &h).ok(), Some(coll("acme", "artist")));
    assert_eq!(
        route("/artist/7", &h).ok(),
        Some(item("acme", "artist", &["7"]))
    );
    assert_eq!(
        route("/discovery", &h).ok(),
        Some(Route::Discovery {
            tenant: "acme".into()
        })
    );
    assert_eq!(
        route("/openapi.json", &h).ok(),
        Some(Route::OpenApi {
            tenant: "acme".into()
        })
    );
    // Both, agreeing.
    assert_eq!(route("/acme/artist", &h).ok(), Some(coll("acme", "artist")));
    assert_eq!(
        route("/acme/artist/7", &h).ok(),
        Some(item("acme", "artist", &["7"]))
    );
    assert_eq!(
        route("/acme/discovery", &h).ok(),
        Some(Route::Discovery {
            tenant: "acme".into()
        })
    );
    // Whitespace around the header value is ignored.
    assert_eq!(
        route("/artist", &hdrs(&[("x-tenant-id", " acme ")])).ok(),
        Some(coll("acme", "artist"))
    );
}

#[test]
fn disagreeing_tenants_are_refused() {
    let h = hdrs(&[("x-tenant-id", "acme")]);
    for path in ["/other/artist/7", "/other/discovery", "/other/openapi.json"] {
        let e = route(path, &h).expect_err(path);
        assert_eq!(e.status, 400, "{path}");
        assert!(
            e.message.contains("other") && e.message.contains("acme"),
            "{e:?}"
        );
    }
    // Two segments are read as /{entity}/{id} under the header's tenant.
    assert_eq!(
        route("/other/artist", &h).ok(),
        Some(item("acme", "other", &["artist"]))
    );
    assert_eq!(
        route("/artist", &hdrs(&[("x-tenant-id", "  ")])).map_err(|e| e.status),
        Err(400)
    );
}

#[test]
fn admin_is_reserved() {
    assert_eq!(
        route("/_admin", &[]).ok(),
        Some(Route::Admin(String::new()))
    );
    assert_eq!(
        route("/_admin/tenants/acme", &[]).ok(),
        Some(Route::Admin("/tenants/acme".into()))
    );
    assert_eq!(
        route("/_admin/x", &hdrs(&[("x-tenant-id", "acme")])).ok(),
        Some(Route::Admin("/x".into()))
    );
    assert_eq!(
        route("/_admin", &[])
            .ok()
            .and_then(|r| r.tenant().map(String::from)),
        None
    );
}

#[test]
fn no_route() {
    for path in [
        "",
        "/",
        "/acme",
        "/acme/a/b/c",
        "//artist",
        "/acme//artist",
        "/%5Fadmin/artist",
    ] {
        // `%5Fadmin` decodes to `_admin`, which is never a tenant.
        assert_eq!(route(path, &[]).map_err(|e| e.status), Err(404), "{path}");
    }
    let e = route("/", &[]).expect_err("root");
    assert_eq!(e.code, "not_found");
    assert!(e.hint.is_some());
    assert_eq!(
        route_with("/a/b/c", Some("t")).map_err(|e| e.status),
        Err(400)
    );
    assert_eq!(
        route_with("/t/a/b/c", Some("t")).map_err(|e| e.status),
        Err(404)
    );
}

#[test]
fn families_and_the_rest_v1_alias() {
    use baas_rest::resolve;
    use baas_rest::route::{Target, family_root};

    let none = |_: &str| false;
    let data = |r: Route, alias: bool| Target::Data { route: r, alias };
    let fam = |t: &str, n: &str, p: &str| Target::Family {
        tenant: t.into(),
        name: n.into(),
        path: p.into(),
    };
    for (path, header, want) in [
        ("/t/rest/v1/artist", None, data(coll("t", "artist"), true)),
        ("/t/rest/v1/artist/", None, data(coll("t", "artist"), true)),
        (
            "/t/rest/v1/artist/7",
            None,
            data(item("t", "artist", &["7"]), true),
        ),
        (
            "/t/rest/v1",
            None,
            data(Route::OpenApi { tenant: "t".into() }, true),
        ),
        (
            "/t/rest/v1/",
            None,
            data(Route::OpenApi { tenant: "t".into() }, true),
        ),
        (
            "/t/rest/v1/discovery",
            None,
            data(coll("t", "discovery"), true),
        ),
        (
            "/t/rest/v1/rest/v1",
            None,
            data(item("t", "rest", &["v1"]), true),
        ),
        ("/t/%72est/v1/artist", None, data(coll("t", "artist"), true)),
        ("/t/rest", None, data(coll("t", "rest"), false)),
        ("/t/rest/v2", None, data(item("t", "rest", &["v2"]), false)),
        ("/t/auth", None, data(coll("t", "auth"), false)),
        ("/t/auth/v1", None, fam("t", "auth", "")),
        ("/t/auth/v1/", None, fam("t", "auth", "/")),
        (
            "/t/storage/v1/object/a%2Fb//c",
            None,
            fam("t", "storage", "/object/a%2Fb//c"),
        ),
        (
            "/rest/v1/artist",
            Some("t"),
            data(coll("t", "artist"), true),
        ),
        (
            "/t/rest/v1/artist",
            Some("t"),
            data(coll("t", "artist"), true),
        ),
        ("/auth/v1/token", Some("t"), fam("t", "auth", "/token")),
        (
            "/rest/v1",
            Some("t"),
            data(Route::OpenApi { tenant: "t".into() }, true),
        ),
        // Not a family: the plain routes as before.
        (
            "/_admin/auth/v1",
            Some("t"),
            Target::Admin("/auth/v1".into()),
        ),
        (
            "/rest/artist",
            Some("t"),
            data(item("t", "rest", &["artist"]), false),
        ),
    ] {
        assert_eq!(
            resolve(path, header, &none).ok(),
            Some(want),
            "{path} {header:?}"
        );
    }
    // A registered family is a prefix too; unregistered names are not.
    let probe = |n: &str| n == "probe";
    assert_eq!(
        resolve("/t/probe/v1/x", None, &probe).ok(),
        Some(fam("t", "probe", "/x"))
    );
    assert_eq!(
        resolve("/t/probe/v1", None, &none).ok(),
        Some(data(item("t", "probe", &["v1"]), false))
    );
    // Another tenant in the path than in the header; paths too deep or
    // with empty segments under the alias; the old grammar's 404s.
    for (path, header, status) in [
        ("/u/rest/v1/artist", Some("t"), 400),
        ("/u/auth/v1/x", Some("t"), 400),
        ("/t/rest/v1/a/b/c", None, 404),
        ("/t/rest/v1//a", None, 404),
        ("/_admin/rest/v1/x", None, 200),
        ("/%5Fadmin/rest/v1/x", None, 404),
        ("//rest/v1/x", None, 404),
    ] {
        let got = resolve(path, header, &none)
            .map(|_| 200)
            .map_err(|e| e.status);
        assert_eq!(got.unwrap_or_else(|s| s), status, "{path} {header:?}");
    }
    // `route` sees the alias as the plain route and other families as 404.
    assert_eq!(
        route("/t/rest/v1/artist", &[]).ok(),
        Some(coll("t", "artist"))
    );
    assert_eq!(route("/t/auth/v1/x", &[]).map_err(|e| e.status), Err(404));
    // The public root: mount, encoded tenant, family.
    assert_eq!(family_root("", "t", None), "/t");
    assert_eq!(
        family_root("/api/", "café x", Some("rest")),
        "/api/caf%C3%A9%20x/rest/v1"
    );
}

#[test]
fn rpc_routes() {
    let rpc = |t: &str, f: &str| Route::Rpc {
        tenant: t.into(),
        function: f.into(),
    };
    assert_eq!(
        route("/acme/rpc/add_them", &[]).ok(),
        Some(rpc("acme", "add_them"))
    );
    assert_eq!(
        route("/acme/rpc/add%20them", &[]).ok(),
        Some(rpc("acme", "add them"))
    );
    assert_eq!(
        route("/acme/rest/v1/rpc/add_them", &[]).ok(),
        Some(rpc("acme", "add_them"))
    );
    // The collection of an entity named `rpc` stays an entity route.
    assert_eq!(route("/acme/rpc", &[]).ok(), Some(coll("acme", "rpc")));
    // With the tenant in a header.
    assert_eq!(
        route("/rpc/add_them", &hdrs(&[("x-tenant-id", "acme")])).ok(),
        Some(rpc("acme", "add_them"))
    );
    assert!(route("/other/rpc/add_them", &hdrs(&[("x-tenant-id", "acme")])).is_err());
}
