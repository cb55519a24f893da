#!/usr/bin/env python3
"""Slow and hostile HTTP clients against a running `baas serve`.

Usage: slow_clients.py HOST PORT TIMEOUT_SECS MAX_CONNECTIONS

The server must run with --header-timeout-secs, --body-timeout-secs and
--idle-timeout-secs all equal to TIMEOUT_SECS and --max-http-connections
MAX_CONNECTIONS. Each scenario prints `ok NAME SECONDS` or `FAIL NAME: why`;
the exit status is the number of failures. Every socket has a deadline, so
the whole run is bounded (about 5 x TIMEOUT_SECS plus a few seconds).
Standard library only.
"""

import socket
import sys
import time

HOST, PORT = sys.argv[1], int(sys.argv[2])
TIMEOUT = float(sys.argv[3])
MAX_CONN = int(sys.argv[4])
# A connection the server should close at TIMEOUT must be closed by this.
LATE = TIMEOUT + 2.5
failures = 0


def connect():
    s = socket.create_connection((HOST, PORT), timeout=5)
    s.settimeout(LATE + 2)
    return s


def read_until_closed(s, deadline):
    """Everything the server sends until it closes; None if still open at deadline."""
    data = b""
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return None
        s.settimeout(left)
        try:
            chunk = s.recv(65536)
        except socket.timeout:
            return None
        except (ConnectionResetError, BrokenPipeError):
            return data
        if not chunk:
            return data
        data += chunk


def report(name, ok, why, started):
    global failures
    took = time.monotonic() - started
    if ok:
        print(f"ok {name} {took:.2f}", flush=True)
    else:
        failures += 1
        print(f"FAIL {name}: {why} (after {took:.2f} s)", flush=True)


def get(path, keep_alive=False):
    s = connect()
    conn = "keep-alive" if keep_alive else "close"
    s.sendall(f"GET {path} HTTP/1.1\r\nHost: {HOST}\r\nConnection: {conn}\r\n\r\n".encode())
    return s


def scenario_idle():
    """A connection that never sends anything is closed after the idle timeout."""
    t0 = time.monotonic()
    s = connect()
    data = read_until_closed(s, t0 + LATE)
    took = time.monotonic() - t0
    report("idle_connection_closed", data is not None and took >= TIMEOUT * 0.75,
           f"closed={data is not None}", t0)
    s.close()


def scenario_keep_alive_idle():
    """After a served request, an idle keep-alive connection is closed too."""
    t0 = time.monotonic()
    s = get("/demo/author?limit=1", keep_alive=True)
    data = read_until_closed(s, t0 + LATE + 1)
    ok = data is not None and data.startswith(b"HTTP/1.1 200")
    report("keep_alive_idle_closed", ok, f"got {data[:40] if data else data!r}", t0)
    s.close()


def scenario_slowloris():
    """Headers trickled one byte at a time are cut off at the header timeout."""
    t0 = time.monotonic()
    s = connect()
    head = f"GET /demo/author HTTP/1.1\r\nHost: {HOST}\r\nX-Pad: {'a' * 400}\r\n\r\n".encode()
    closed = False
    for b in head:
        if time.monotonic() - t0 > LATE:
            break
        try:
            s.send(bytes([b]))
        except (BrokenPipeError, ConnectionResetError):
            closed = True
            break
        s.settimeout(0.2)
        try:
            if s.recv(1) == b"":
                closed = True
                break
        except socket.timeout:
            pass
        except ConnectionResetError:
            closed = True
            break
    took = time.monotonic() - t0
    report("slowloris_closed", closed and TIMEOUT * 0.75 <= took <= LATE,
           f"closed={closed}", t0)
    s.close()


def scenario_body_never_sent():
    """A body promised by Content-Length but never sent: 408 JSON, then close."""
    t0 = time.monotonic()
    s = connect()
    s.sendall((f"POST /demo/author HTTP/1.1\r\nHost: {HOST}\r\n"
               "Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"na").encode())
    data = read_until_closed(s, t0 + LATE)
    ok = (data is not None and data.startswith(b"HTTP/1.1 408")
          and b'"code":"request_timeout"' in data and b'"message"' in data)
    report("body_never_sent_408", ok, f"got {data[:60] if data else data!r}", t0)
    s.close()


def scenario_slow_reader():
    """A client that keeps sending requests but never reads the answers is cut off."""
    t0 = time.monotonic()
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.settimeout(5)
    s.connect((HOST, PORT))
    s.setblocking(False)
    req = f"GET /demo/openapi.json HTTP/1.1\r\nHost: {HOST}\r\n\r\n".encode()
    closed = False
    while time.monotonic() - t0 < LATE + 5:
        try:
            s.send(req)
        except BlockingIOError:
            time.sleep(0.05)
        except (BrokenPipeError, ConnectionResetError):
            closed = True
            break
    report("slow_reader_closed", closed, "the connection stayed open", t0)
    s.close()


def scenario_max_connections():
    """Beyond the limit, new connections are closed at once; once slots free, clients are served."""
    t0 = time.monotonic()
    holders = [connect() for _ in range(MAX_CONN)]
    time.sleep(0.3)  # let the server accept them all
    extra = get("/demo/author?limit=1")
    data = read_until_closed(extra, time.monotonic() + 1.5)
    refused = data is not None and not data.startswith(b"HTTP/1.1 200")
    extra.close()
    for h in holders:
        h.close()
    time.sleep(0.3)
    s = get("/demo/author?limit=1")
    data = read_until_closed(s, time.monotonic() + 3)
    served = data is not None and data.startswith(b"HTTP/1.1 200")
    s.close()
    report("max_connections_respected", refused and served,
           f"refused_beyond_limit={refused} served_after={served}", t0)


for scenario in (scenario_idle, scenario_keep_alive_idle, scenario_slowloris,
                 scenario_body_never_sent, scenario_slow_reader, scenario_max_connections):
    try:
        scenario()
    except Exception as e:  # a scenario crashing is a failure, not a hang
        failures += 1
        print(f"FAIL {scenario.__name__}: {e!r}", flush=True)
sys.exit(failures)
