#!/usr/bin/env bash
# Install (if missing) and start (if not running) an SMTP sink on
# 127.0.0.1: aiosmtpd from PyPI with its Mailbox handler, which stores every
# message it receives as one file in a Maildir (new/). The auth mail tests
# (baas-auth/tests/mail.rs) send confirmation e-mails to it over real SMTP
# and read them back from the Maildir.
# Idempotent: safe to run any number of times.
# BAAS_TEST_SMTP (host:port, default 127.0.0.1:2525) and BAAS_TEST_MAILDIR
# (default /var/tmp/baas-maildir) are the values the tests read too.
set -euo pipefail
PREFIX=${TEST_SERVERS_PREFIX:-/opt/test-servers}
RUN=${TEST_SERVERS_RUN:-$PREFIX/run}
LOG_DIR=${LOG_DIR:-/tmp/mini-baas-ci-logs}
SMTP=${BAAS_TEST_SMTP:-127.0.0.1:2525}
SMTP_HOST=${SMTP%:*}
SMTP_PORT=${SMTP##*:}
MAILDIR=${BAAS_TEST_MAILDIR:-/var/tmp/baas-maildir}
AIOSMTPD_VERSION=1.4.6
# aiosmtpd creates the Maildir only if the folder does not exist: make all of it.
mkdir -p "$PREFIX" "$RUN/logs" "$LOG_DIR" "$MAILDIR/cur" "$MAILDIR/new" "$MAILDIR/tmp"
port_open() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }

if ! port_open "$SMTP_HOST" "$SMTP_PORT"; then
  VENV="$PREFIX/aiosmtpd-venv"
  if ! "$VENV/bin/python3" -c "import aiosmtpd, sys; sys.exit(aiosmtpd.__version__ != '$AIOSMTPD_VERSION')" 2>/dev/null; then
    echo "installing aiosmtpd==$AIOSMTPD_VERSION into $VENV"
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install -q "aiosmtpd==$AIOSMTPD_VERSION" >"$LOG_DIR/aiosmtpd-pip.log" 2>&1 \
      || { cat "$LOG_DIR/aiosmtpd-pip.log" >&2; exit 1; }
  fi
  start-stop-daemon --start --background --make-pidfile --pidfile "$RUN/smtp.pid" \
    --output "$RUN/logs/smtp.log" --exec "$VENV/bin/python3" -- \
    -m aiosmtpd -n -l "$SMTP_HOST:$SMTP_PORT" -c aiosmtpd.handlers.Mailbox "$MAILDIR"
  for _ in $(seq 1 80); do port_open "$SMTP_HOST" "$SMTP_PORT" && break; sleep 0.25; done
  port_open "$SMTP_HOST" "$SMTP_PORT" \
    || { echo "the SMTP sink never opened $SMTP_HOST:$SMTP_PORT" >&2; tail -n 50 "$RUN/logs/smtp.log" >&2; exit 1; }
fi
echo "SMTP sink (aiosmtpd) is up on $SMTP_HOST:$SMTP_PORT, storing mail in $MAILDIR/new"
