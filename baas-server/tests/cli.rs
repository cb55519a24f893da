//! The `baas` binary end to end: Supabase mode on a Supabase-shaped local
//! database, live introspection, files, and failures with clear messages.

use std::process::Command;

use baas_testkit::{fixtures_dir, pg_url, skip_or_fail};

fn baas(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_baas"))
        .args(args)
        .output()
        .expect("run baas");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn entity_names(json: &str) -> Vec<String> {
    let v: serde_json::Value = serde_json::from_str(json).expect("JSON on stdout");
    v["entities"]
        .as_array()
        .expect("entities")
        .iter()
        .map(|e| e["name"].as_str().unwrap_or_default().to_string())
        .collect()
}

#[test]
fn supabase_internal_schemas_are_left_out() {
    let url = pg_url("baas_supabase_like");
    // Same layout a Supabase project has; Supabase mode's exclusions, given explicitly
    // because a local server is not at <ref>.supabase.co.
    let mut args = vec!["introspect", url.as_str(), "--compact"];
    let excluded: Vec<String> = baas_introspect::supabase::INTERNAL_SCHEMAS
        .iter()
        .map(|s| s.to_string())
        .collect();
    for s in &excluded {
        args.push("--exclude-schema");
        args.push(s);
    }
    let (ok, out, err) = baas(&args);
    if !ok {
        if err.contains("unavailable") || err.contains("does not exist") {
            skip_or_fail(
                "PostgreSQL database baas_supabase_like (.ci/fixtures.sh)",
                &err,
            );
            return;
        }
        panic!("baas failed: {err}");
    }
    let mut names = entity_names(&out);
    names.sort();
    assert_eq!(names, ["app_audit_log", "posts", "profiles"]);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let profiles = v["entities"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["name"] == "profiles")
        .unwrap();
    // The foreign key into auth.users has no entity to point at: no relation.
    assert!(
        profiles["relations"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["target"] != "auth_users")
    );
    assert_eq!(profiles["description"], "Public profile of each auth user");

    // Without the exclusions the internal schemas are visible.
    let (ok, out, _) = baas(&["introspect", &url, "--compact"]);
    assert!(ok);
    assert!(entity_names(&out).contains(&"auth_users".to_string()));
}

#[test]
fn supabase_project_urls_need_a_password_and_a_valid_ref() {
    let (ok, _, err) = baas(&["introspect", "https://abcdefghijklmnopqrst.supabase.co"]);
    assert!(!ok && err.contains("password"), "{err}");
    let (ok, _, err) = baas(&["introspect", "supabase:x!", "--password", "pw"]);
    assert!(!ok && err.contains("not a Supabase project"), "{err}");
}

#[test]
fn live_database_and_failures() {
    let (ok, out, err) = baas(&["introspect", &pg_url("chinook")]);
    if !ok {
        skip_or_fail("PostgreSQL chinook", &err);
        return;
    }
    assert!(entity_names(&out).contains(&"playlist_track".to_string()));

    let (ok, _, err) = baas(&["introspect", "/no/such/file.prisma"]);
    assert!(!ok && err.starts_with("error: cannot read"), "{err}");
    let (ok, _, err) = baas(&["introspect", "mystery.xyz"]);
    assert!(!ok && err.contains("--format"), "{err}");
    let (ok, _, err) = baas(&["introspect", "postgres://baas:x@127.0.0.1:1/none"]);
    assert!(!ok && err.contains("unavailable"), "{err}");
}

#[test]
fn schema_files_are_imported() {
    let pagila = fixtures_dir().join("pagila/pagila-schema.sql");
    let (ok, out, err) = baas(&["introspect", pagila.to_str().unwrap(), "--compact"]);
    assert!(ok, "{err}");
    assert!(entity_names(&out).contains(&"film".to_string()));
    assert!(
        err.contains("skipped"),
        "skipped statements are reported on stderr"
    );
}

/// Run `baas` and return its exit status code.
fn baas_status(args: &[&str]) -> (Option<i32>, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_baas"))
        .args(args)
        .output()
        .expect("run baas");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Write `text` to a fresh file named `name` in the temp directory.
fn temp_file(name: &str, text: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("baas-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write temp file");
    path
}

#[test]
fn diff_exit_status_is_0_same_1_different_2_trouble() {
    let a = temp_file("a.sql", "CREATE TABLE t (id int PRIMARY KEY, name text);\n");
    let b = temp_file(
        "b.sql",
        "CREATE TABLE t (id int PRIMARY KEY, name text NOT NULL);\n",
    );
    let (a, b) = (a.to_str().unwrap(), b.to_str().unwrap());

    let (code, out, err) = baas_status(&["diff", a, a]);
    assert_eq!(code, Some(0), "identical sources: {out}{err}");
    let (code, out, err) = baas_status(&["diff", a, b]);
    assert_eq!(code, Some(1), "differing sources: {out}{err}");
    assert!(out.contains("nullable"), "{out}");
    let (code, _, _) = baas_status(&["diff", a, b, "--json"]);
    assert_eq!(code, Some(1), "--json keeps the status");
    let (code, _, err) = baas_status(&["diff", a, "/no/such/file.sql"]);
    assert_eq!(code, Some(2), "unreadable source: {err}");
    assert!(err.starts_with("error: cannot read"), "{err}");
}

#[test]
fn diff_compares_defaults_by_meaning_unless_strict() {
    let a = temp_file(
        "defaults-a.sql",
        "CREATE TABLE t (id int PRIMARY KEY, at timestamp DEFAULT now());\n",
    );
    let b = temp_file(
        "defaults-b.sql",
        "CREATE TABLE t (id int PRIMARY KEY, at timestamp DEFAULT CURRENT_TIMESTAMP);\n",
    );
    let (a, b) = (a.to_str().unwrap(), b.to_str().unwrap());
    let (code, out, err) = baas_status(&["diff", a, b]);
    assert_eq!(code, Some(0), "{out}{err}");
    let (code, out, err) = baas_status(&["diff", a, b, "--strict"]);
    assert_eq!(code, Some(1), "{err}");
    assert_eq!(out, "~ t.at: default now() -> CURRENT_TIMESTAMP\n");
}

#[test]
fn help_lists_every_format_and_introspect_prints_api_paths() {
    let (ok, out, _) = baas(&["introspect", "--help"]);
    assert!(ok);
    for format in [
        "sql:postgres",
        "sql:mysql",
        "sql:sqlite",
        "prisma",
        "openapi",
    ] {
        assert!(out.contains(format), "--help lacks {format}: {out}");
    }
    let (ok, out, _) = baas(&["diff", "--help"]);
    assert!(ok && out.contains("Exit status"), "{out}");

    let spec = temp_file(
        "pets-openapi.yaml",
        "openapi: 3.1.0\ninfo: {title: t, version: '1'}\npaths:\n  /pets/{id}:\n    get:\n      operationId: getPet\n      responses:\n        '200':\n          content:\n            application/json:\n              schema: {$ref: '#/components/schemas/Pet'}\ncomponents:\n  schemas:\n    Pet:\n      type: object\n      properties:\n        id: {type: integer}\n",
    );
    let (ok, out, err) = baas(&[
        "introspect",
        spec.to_str().unwrap(),
        "--api-paths",
        "--compact",
    ]);
    assert!(ok, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).expect("JSON");
    assert_eq!(
        v,
        serde_json::json!([{"method": "GET", "path": "/pets/{id}", "operation_id": "getPet", "entity": "Pet"}])
    );
}
