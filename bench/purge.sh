#!/usr/bin/env bash
# Purge benchmark: a million expired events are deleted by the retention job while the
# open pixel is under load. Prints the purge time and the tracking requests' latency
# during it (p50, p99 and the longest), measured by wrk in the same run.
#
# Usage: bench/purge.sh            (env: EVENTS=1000000 CONNECTIONS=16 SENDS=100)
set -euo pipefail

EVENTS=${EVENTS:-1000000}
CONNECTIONS=${CONNECTIONS:-16}
SENDS=${SENDS:-100}
PORT=${PORT:-18090}

cd "$(dirname "$0")/.."
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
cargo build --release --quiet
BIN=target/release/mailtally

WORK=$(mktemp -d)
SERVER=
trap '[ -n "$SERVER" ] && kill "$SERVER" 2>/dev/null; wait 2>/dev/null; rm -rf "$WORK"' EXIT
export MAILTALLY_DATA_DIR="$WORK/data" MAILTALLY_LISTEN="127.0.0.1:$PORT"
export EMAIL_TRACKING_ENABLED=true EMAIL_TRACKING_RETENTION_DAYS=90 RUST_LOG=warn
unset DATABASE_URL PUBLIC_BASE_URL

start() {
  "$BIN" serve >>"$WORK/serve.log" 2>&1 &
  SERVER=$!
  for _ in $(seq 100); do curl -fs "http://127.0.0.1:$PORT/healthz" >/dev/null && return; sleep 0.1; done
  echo "server did not start" >&2; cat "$WORK/serve.log" >&2; exit 1
}

TOKEN=$("$BIN" user add --org Bench --email bench@example.com --role owner | tail -n 1)
start
for i in $(seq "$SENDS"); do
  curl -fs -o /dev/null -H "Authorization: Bearer $TOKEN" -H 'content-type: application/json' \
    -d "{\"to\":\"r$i@example.com\",\"subject\":\"Bench\",\"html\":\"<p>hi</p>\"}" \
    "http://127.0.0.1:$PORT/api/v1/sends"
done
kill "$SERVER"; wait "$SERVER" 2>/dev/null || true; SERVER=

echo "writing $EVENTS events dated 200 days ago ..."
python3 - "$WORK" "$EVENTS" "$SENDS" <<'PY'
import email, glob, re, sqlite3, sys, time
work, events, sends = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
db = sqlite3.connect(f"{work}/data/mailtally.db")
old = int((time.time() - 200 * 86400) * 1000)
rows = ((1 + i % sends, "open", None, "direct", "GET", "Mozilla/5.0 (bench)", "198.51.100.0",
         0, old + i, "human", None, "no bot signal", "human", None, "no bot signal", 1)
        for i in range(events))
db.executemany("INSERT INTO events (send_id, kind, position, source, method, user_agent, ip, "
               "prefetch, at, base_class, base_agent, base_reason, class, agent, reason, counted)"
               " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", rows)
db.commit()
opens = []
for path in glob.glob(f"{work}/data/outbox/*.eml"):
    msg = email.message_from_binary_file(open(path, "rb"))
    for part in msg.walk():
        if part.get_content_type() == "text/html":
            html = part.get_payload(decode=True).decode(part.get_content_charset() or "utf-8")
            opens += re.findall(r"/track/open/[A-Za-z0-9_-]+", html)
with open(f"{work}/open.lua", "w") as f:
    f.write("local paths = {" + ",".join(f'"{p}"' for p in opens) + "}\n")
    f.write("local i = 0\nrequest = function()\n  i = i % #paths + 1\n")
    f.write("  return wrk.format('GET', paths[i])\nend\n")
PY

count() {
  python3 -c "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute(\
'select count(*) from events where at < strftime(\"%s\",\"now\",\"-90 days\")*1000')\
.fetchone()[0])" "$WORK/data/mailtally.db"
}
echo "expired events before: $(count)"

# The retention job runs as the server starts; wrk loads the pixel meanwhile.
began=$(date +%s.%N)
start
wrk -t 2 -c "$CONNECTIONS" -d 600s --latency -s "$WORK/open.lua" "http://127.0.0.1:$PORT/" \
  >"$WORK/wrk.out" 2>&1 &
WRK=$!
while [ "$(count)" -gt 0 ]; do sleep 0.5; done
done_at=$(date +%s.%N)
kill -INT "$WRK" 2>/dev/null || true; wait "$WRK" 2>/dev/null || true
echo "expired events after:  $(count)"
python3 -c "import sys; print(f'purge took {float(sys.argv[2]) - float(sys.argv[1]):.1f} s')" \
  "$began" "$done_at"
echo "tracking requests during the purge (wrk, $CONNECTIONS connections):"
grep -E "Requests/sec|requests in|Latency  |50%|99%" "$WORK/wrk.out" | sed 's/^/  /'
awk '/Latency  / {print "  longest request: " $4}' "$WORK/wrk.out"
