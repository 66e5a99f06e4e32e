#!/usr/bin/env bash
# Sets up, builds (the daemon only, no tests) and runs the daemon on a demo database with
# the embedded default config (no config file): a task queue and an events table whose
# oldest 40% were deleted, so the vacuum job has work. Ctrl-C stops it gracefully. Inspect
# the journal while it runs with:
#   sqlite3 demo/demo.db "SELECT check_type, status, details FROM sqlite_health_checks"
set -euo pipefail
cd "$(dirname "$0")/.."
# Only the daemon, and built for a short build rather than for speed (docs/performance.md,
# "The first command"): its own tree build-demo/ (never build/, whose cache would keep these
# settings), -Os without debug info (MinSizeRel) and a unity build (one compiler run per
# batch of files, so the Asio, spdlog, JSON and CLI11 headers are parsed a few times instead
# of ninety). No test binaries, no GoogleTest (scripts/test.sh builds and runs the tests).
BUILD_DIR=build-demo BUILD_TYPE=MinSizeRel BUILD_TARGETS=sqlite-maintd MAINTD_DAEMON_ONLY=1 \
  ./scripts/build.sh -DMAINTD_BUILD_TESTS=OFF -DCMAKE_UNITY_BUILD=ON
mkdir -p demo
DB=demo/demo.db
if [ ! -f "$DB" ]; then
  echo "creating $DB (a task queue and an events table, the oldest 40% of events deleted)"
  sqlite3 "$DB" <<'SQL'
PRAGMA auto_vacuum=INCREMENTAL;
PRAGMA journal_mode=WAL;
CREATE TABLE tasks(id INTEGER PRIMARY KEY, status TEXT NOT NULL DEFAULT 'queued',
                   leased_by TEXT, lease_expires_at INTEGER, attempts INTEGER DEFAULT 0,
                   payload TEXT);
CREATE TABLE events(id INTEGER PRIMARY KEY, created_at INTEGER NOT NULL, body TEXT);
CREATE INDEX events_created ON events(created_at);
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM n WHERE i < 50000)
INSERT INTO events(created_at, body) SELECT unixepoch() - i*60, hex(randomblob(100)) FROM n;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM n WHERE i < 2000)
INSERT INTO tasks(status, leased_by, lease_expires_at, payload)
  SELECT CASE WHEN i % 10 = 0 THEN 'leased' ELSE 'queued' END, 'worker-' || (i % 4),
         unixepoch() - 30, 'job ' || i FROM n;
DELETE FROM events WHERE id <= 20000;  -- 40% of the file becomes free pages: vacuum runs
SQL
fi
echo "running: build-demo/bin/sqlite-maintd run $DB   (Ctrl-C to stop)"
exec build-demo/bin/sqlite-maintd run "$DB"
