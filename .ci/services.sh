#!/usr/bin/env bash
# Install (if missing) and start (if not running) PostgreSQL and MariaDB on
# 127.0.0.1, then create the `baas` role/user the tests connect as.
# Idempotent: safe to run any number of times.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
LOG_DIR=${LOG_DIR:-/tmp/mini-baas-ci-logs}; mkdir -p "$LOG_DIR"

need=()
command -v pg_ctlcluster >/dev/null 2>&1 || need+=(postgresql postgresql-client)
command -v psql >/dev/null 2>&1 || need+=(postgresql-client)
command -v mariadbd >/dev/null 2>&1 || [ -x /usr/sbin/mariadbd ] || need+=(mariadb-server)
command -v mariadb >/dev/null 2>&1 || need+=(mariadb-client)
if [ ${#need[@]} -gt 0 ]; then
  echo "installing: ${need[*]}"
  apt-get update -qq >"$LOG_DIR/apt.log" 2>&1
  apt-get install -y -qq --no-install-recommends "${need[@]}" >>"$LOG_DIR/apt.log" 2>&1
fi

# ---------- PostgreSQL ----------
PG_VER=$(ls /etc/postgresql 2>/dev/null | sort -V | tail -n1)
if [ -z "$PG_VER" ]; then
  PG_VER=$(ls /usr/lib/postgresql | sort -V | tail -n1)
  pg_createcluster "$PG_VER" main >/dev/null
fi
if ! pg_isready -q -h 127.0.0.1 -p 5432; then
  pg_ctlcluster --skip-systemctl-redirect "$PG_VER" main start || pg_ctlcluster "$PG_VER" main start
fi
for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
pg_isready -h 127.0.0.1 -p 5432
# PostGIS for the geometry tests (application/geo+json), from Debian.
if [ ! -f "/usr/share/postgresql/$PG_VER/extension/postgis.control" ]; then
  echo "installing: postgresql-$PG_VER-postgis-3"
  apt-get update -qq >>"$LOG_DIR/apt.log" 2>&1
  apt-get install -y -qq --no-install-recommends "postgresql-$PG_VER-postgis-3" >>"$LOG_DIR/apt.log" 2>&1
fi
runuser -u postgres -- psql -v ON_ERROR_STOP=1 -qtA -c \
  "DO \$\$BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname='baas') THEN CREATE ROLE baas LOGIN CREATEDB PASSWORD 'baas_pw'; ELSE ALTER ROLE baas LOGIN CREATEDB PASSWORD 'baas_pw'; END IF; END\$\$;"

# ---------- MariaDB ----------
install -d -o mysql -g mysql -m 0755 /run/mysqld
[ -d /var/lib/mysql/mysql ] || mariadb-install-db --user=mysql --datadir=/var/lib/mysql >"$LOG_DIR/mariadb-install-db.log" 2>&1
if ! mariadb-admin --protocol=socket ping >/dev/null 2>&1; then
  start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd -- \
    --user=mysql --bind-address=127.0.0.1 --port=3306 --socket=/run/mysqld/mysqld.sock \
    --log-error="$LOG_DIR/mariadb.err"
fi
for _ in $(seq 1 30); do mariadb-admin --protocol=socket ping >/dev/null 2>&1 && break; sleep 1; done
mariadb-admin --protocol=socket ping
mariadb --protocol=socket -e "
  CREATE USER IF NOT EXISTS 'baas'@'127.0.0.1' IDENTIFIED BY 'baas_pw';
  CREATE USER IF NOT EXISTS 'baas'@'localhost' IDENTIFIED BY 'baas_pw';
  GRANT ALL PRIVILEGES ON \`Chinook\`.* TO 'baas'@'127.0.0.1';
  GRANT ALL PRIVILEGES ON \`Chinook\`.* TO 'baas'@'localhost';
  GRANT ALL PRIVILEGES ON \`disc\\_%\`.* TO 'baas'@'127.0.0.1';
  GRANT ALL PRIVILEGES ON \`disc\\_%\`.* TO 'baas'@'localhost';
  GRANT ALL PRIVILEGES ON \`baas_parity\`.* TO 'baas'@'127.0.0.1';
  GRANT ALL PRIVILEGES ON \`baas_parity\`.* TO 'baas'@'localhost';
  GRANT ALL PRIVILEGES ON \`baas_slow\`.* TO 'baas'@'127.0.0.1';
  GRANT ALL PRIVILEGES ON \`baas_slow\`.* TO 'baas'@'localhost';
  FLUSH PRIVILEGES;"
echo "services: PostgreSQL $PG_VER and MariaDB are up"
