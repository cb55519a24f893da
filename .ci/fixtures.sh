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
