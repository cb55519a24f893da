#!/usr/bin/env bash
# Load the Chinook fixtures into PostgreSQL (database `chinook`) and MariaDB
# (database `Chinook`), from shared/fixtures beside the repository. Drops and
# reloads every time, so each run starts from the same data.
set -euo pipefail
FIXTURES=${BAAS_FIXTURES:-$(cd "$(dirname "$0")/../.." && pwd)/shared/fixtures}
CHINOOK="$FIXTURES/chinook"
[ -f "$CHINOOK/Chinook_PostgreSql.sql" ] || { echo "fixtures not found in $CHINOOK" >&2; exit 1; }

# PostgreSQL: the script drops/creates `chinook` and \c's into it; run it as
# `baas` so that role owns the database and can create the scratch table.
runuser -u postgres -- psql -qtA -c "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname='chinook' AND pid <> pg_backend_pid()" >/dev/null
PGPASSWORD=baas_pw psql -h 127.0.0.1 -U baas -d postgres -v ON_ERROR_STOP=1 -q \
  -f "$CHINOOK/Chinook_PostgreSql.sql" >/dev/null
echo "chinook loaded into PostgreSQL: $(PGPASSWORD=baas_pw psql -h 127.0.0.1 -U baas -d chinook -tAc 'SELECT count(*) FROM track') tracks"

# MariaDB: the script drops/creates `Chinook`.
mariadb --protocol=socket --default-character-set=utf8mb4 < "$CHINOOK/Chinook_MySql.sql"
echo "Chinook loaded into MariaDB: $(mariadb --protocol=socket -N -e 'SELECT count(*) FROM Chinook.Track') tracks"

# Pagila (schema only: views, enums, domains, partitions, triggers) into
# PostgreSQL database `pagila`, loaded as the superuser because the dump sets
# owners; introspection only reads catalogs.
PAGILA="$FIXTURES/pagila/pagila-schema.sql"
runuser -u postgres -- psql -qtA -c "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname='pagila' AND pid <> pg_backend_pid()" >/dev/null
runuser -u postgres -- psql -q -c "DROP DATABASE IF EXISTS pagila" >/dev/null
runuser -u postgres -- psql -q -c "CREATE DATABASE pagila OWNER baas" >/dev/null
# The dump targets PostgreSQL 18 with pgvector; this machine has PostgreSQL 15
# and no pgvector package, so it loads a rewrite with exactly these changes
# (the SQL importer reads the original file; the comparison test in
# baas-introspect/tests/pagila.rs lists each resulting difference):
#   - uuidv7() (PG 18)            -> a pg_catalog shim over gen_random_uuid()
#   - GENERATED ... VIRTUAL (18)  -> GENERATED ... STORED
#   - pgvector's vector(20)       -> real[] (extension lines and the hnsw index dropped)
runuser -u postgres -- psql -d pagila -q -c \
  "CREATE FUNCTION pg_catalog.uuidv7() RETURNS uuid LANGUAGE sql AS 'SELECT pg_catalog.gen_random_uuid()'" >/dev/null
sed -e 's/) VIRTUAL$/) STORED/' \
    -e 's/public\.vector([0-9]*)/real[]/' \
    -e '/EXTENSION IF NOT EXISTS vector/d' -e '/COMMENT ON EXTENSION vector/d' \
    -e '/USING hnsw/d' "$PAGILA" \
  | runuser -u postgres -- psql -d pagila -v ON_ERROR_STOP=1 -q >/dev/null 2>"${LOG_DIR:-/tmp}/pagila-load.log" \
  || { cat "${LOG_DIR:-/tmp}/pagila-load.log" >&2; exit 1; }
echo "pagila loaded into PostgreSQL: $(runuser -u postgres -- psql -d pagila -tAc "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid=c.relnamespace WHERE n.nspname='public' AND c.relkind IN ('r','p','v','m')") relations"

# A Supabase-shaped database (internal schemas + the app's own) for Supabase mode.
recreate() {
  runuser -u postgres -- psql -qtA -c "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname='$1' AND pid <> pg_backend_pid()" >/dev/null
  runuser -u postgres -- psql -q -c "DROP DATABASE IF EXISTS $1" >/dev/null 2>&1
  runuser -u postgres -- psql -q -c "CREATE DATABASE $1 OWNER baas" >/dev/null
}
recreate baas_supabase_like
PGPASSWORD=baas_pw psql -h 127.0.0.1 -U baas -d baas_supabase_like -v ON_ERROR_STOP=1 -q \
  -f "$(dirname "$0")/sql/supabase_like.sql" >/dev/null
echo "supabase-like database loaded"

# The PostgREST parity fixture (functions, ranges, tsvector, views, a
# self-reference, two schemas with same-named objects).
# Supabase's API roles, for the parity fixture's row-level security under
# `database_roles` (cluster-wide, so made here as postgres, idempotently).
runuser -u postgres -- psql -q -v ON_ERROR_STOP=1 -c "DO \$\$BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'anon') THEN CREATE ROLE anon NOLOGIN; END IF;
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'authenticated') THEN CREATE ROLE authenticated NOLOGIN; END IF;
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'service_role') THEN CREATE ROLE service_role NOLOGIN BYPASSRLS; END IF;
END\$\$;" -c "GRANT anon, authenticated, service_role TO baas" >/dev/null
recreate baas_parity
PGPASSWORD=baas_pw psql -h 127.0.0.1 -U baas -d baas_parity -v ON_ERROR_STOP=1 -q \
  -f "$(dirname "$0")/sql/parity_pg.sql" >/dev/null
# Its MariaDB side: stored functions for /rpc.
mariadb --protocol=socket --default-character-set=utf8mb4 < "$(dirname "$0")/sql/parity_mysql.sql"
echo "parity database loaded (PostgreSQL and MariaDB)"

# Statements slower than a tenant's statement timeout (baas-server/tests/
# timeouts.rs): a view and a trigger that sleep, beside a fast table.
recreate baas_slow
PGPASSWORD=baas_pw psql -h 127.0.0.1 -U baas -d baas_slow -v ON_ERROR_STOP=1 -q \
  -f "$(dirname "$0")/sql/slow_pg.sql" >/dev/null
mariadb --protocol=socket --default-character-set=utf8mb4 < "$(dirname "$0")/sql/slow_mysql.sql"
echo "slow database loaded (PostgreSQL and MariaDB)"

# PostGIS (geometry columns, application/geo+json): the extension is
# created by the superuser (it is not a trusted one).
recreate baas_geo
runuser -u postgres -- psql -d baas_geo -v ON_ERROR_STOP=1 -q -c "CREATE EXTENSION postgis" >/dev/null
PGPASSWORD=baas_pw psql -h 127.0.0.1 -U baas -d baas_geo -v ON_ERROR_STOP=1 -q \
  -f "$(dirname "$0")/sql/geo_pg.sql" >/dev/null
echo "PostGIS database loaded: $(PGPASSWORD=baas_pw psql -h 127.0.0.1 -U baas -d baas_geo -tAc 'SELECT postgis_lib_version()')"

# 1,000 tables with foreign keys, for the introspection timing.
recreate baas_many
PGPASSWORD=baas_pw psql -h 127.0.0.1 -U baas -d baas_many -v ON_ERROR_STOP=1 -q -c "
DO \$\$ BEGIN
  FOR i IN 1..1000 LOOP
    EXECUTE format('CREATE TABLE t%s (id serial PRIMARY KEY, name varchar(80) NOT NULL, amount numeric(10,2),
                    created_at timestamptz NOT NULL DEFAULT now(), parent_id int REFERENCES t%s(id),
                    other_id int REFERENCES t%s(id), UNIQUE (name))', i, greatest(i - 1, 1), greatest(i / 2, 1));
    EXECUTE format('CREATE INDEX t%s_parent_idx ON t%s (parent_id)', i, i);
  END LOOP;
END \$\$;" >/dev/null
echo "baas_many: $(PGPASSWORD=baas_pw psql -h 127.0.0.1 -U baas -d baas_many -tAc "SELECT count(*) FROM pg_tables WHERE schemaname='public'") tables"

# 400 tables in a chain of foreign keys, each with a view renaming its key,
# for the timing of views' keys and relations.
recreate baas_views
PGPASSWORD=baas_pw psql -h 127.0.0.1 -U baas -d baas_views -v ON_ERROR_STOP=1 -q -c "
DO \$\$ BEGIN
  FOR i IN 1..400 LOOP
    EXECUTE format('CREATE TABLE t%s (id serial PRIMARY KEY, parent_id int %s, a text, b int, c date,
                    d numeric, e text, f text, g int, h int)',
                   i, CASE WHEN i > 1 THEN format('REFERENCES t%s (id)', i - 1) ELSE '' END);
    EXECUTE format('CREATE VIEW v%s AS SELECT id AS vid, parent_id, a, b, c, d, e, f, g, h FROM t%s', i, i);
  END LOOP;
END \$\$;" >/dev/null
echo "baas_views: $(PGPASSWORD=baas_pw psql -h 127.0.0.1 -U baas -d baas_views -tAc "SELECT count(*) FROM pg_views WHERE schemaname='public'") views"
