#!/usr/bin/env bash
# Load benchmark of the tracking endpoints against a static route of the same server.
#
# Starts a release build of `mailtally serve` on loopback with a fresh SQLite data
# directory, sends SENDS emails through the API, then drives wrk (Debian package `wrk`) at
# CONNECTIONS connections for DURATION per route: /healthz (static), the open pixel and the
# click redirector, each request picking one of the sends' URLs. It prints requests/s and
# p99 latency per route, the ratio of each tracked route to the static one, and checks
# that every answered tracked request is in the database afterwards.
#
# Usage: bench/load.sh            (env: CONNECTIONS=64 DURATION=10s THREADS=2 SENDS=200)
set -euo pipefail

CONNECTIONS=${CONNECTIONS:-64}
DURATION=${DURATION:-10s}
THREADS=${THREADS:-2}
SENDS=${SENDS:-200}
PORT=${PORT:-18089}

cd "$(dirname "$0")/.."
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
cargo build --release --quiet
BIN=target/release/mailtally

WORK=$(mktemp -d)
trap 'kill "$SERVER" 2>/dev/null || true; wait "$SERVER" 2>/dev/null || true; rm -rf "$WORK"' EXIT
export MAILTALLY_DATA_DIR="$WORK/data" MAILTALLY_LISTEN="127.0.0.1:$PORT"
export EMAIL_TRACKING_ENABLED=true RUST_LOG=warn
unset DATABASE_URL PUBLIC_BASE_URL

TOKEN=$("$BIN" user add --org Bench --email bench@example.com --role owner | tail -n 1)
"$BIN" serve >"$WORK/serve.log" 2>&1 &
SERVER=$!
for _ in $(seq 50); do curl -fs "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.1; done

HTML='<html><body><p>Hello</p><a href="https://example.com/a?x=1&amp;y=2">A</a>'
HTML+='<a href="https://example.com/b">B</a></body></html>'
for i in $(seq "$SENDS"); do
  curl -fs -o /dev/null -H "Authorization: Bearer $TOKEN" -H 'content-type: application/json' \
    -d "{\"to\":\"r$i@example.com\",\"subject\":\"Bench\",\"html\":\"${HTML//\"/\\\"}\"}" \
    "http://127.0.0.1:$PORT/api/v1/sends"
done

# The tracked paths of every send, read from the outbox with Python's MIME parser.
python3 - "$WORK" <<'PY'
import email, glob, re, sys
work = sys.argv[1]
opens, clicks = [], []
for path in glob.glob(f"{work}/data/outbox/*.eml"):
    msg = email.message_from_binary_file(open(path, "rb"))
    for part in msg.walk():
        if part.get_content_type() == "text/html":
            html = part.get_payload(decode=True).decode(part.get_content_charset() or "utf-8")
            opens += re.findall(r"/track/open/[A-Za-z0-9_-]+", html)
            clicks += re.findall(r"/track/click/[A-Za-z0-9_-]+", html)[:1]
for name, paths in (("open", opens), ("click", clicks)):
    with open(f"{work}/{name}.lua", "w") as f:
        f.write("local paths = {" + ",".join(f'"{p}"' for p in paths) + "}\n")
        f.write("local i = 0\nrequest = function()\n  i = i % #paths + 1\n")
        f.write("  return wrk.format('GET', paths[i])\nend\n")
PY

run() { # name, path, [lua script]
  local script=()
  [ -n "${3:-}" ] && script=(-s "$3")
  wrk -t "$THREADS" -c "$CONNECTIONS" -d "$DURATION" --latency "${script[@]}" \
    "http://127.0.0.1:$PORT$2" >"$WORK/$1.out"
  local rps p99 total
  rps=$(awk '/Requests\/sec/ {print $2}' "$WORK/$1.out")
  p99=$(awk '$1 == "99%" {print $2}' "$WORK/$1.out")
  total=$(awk '/requests in/ {print $1}' "$WORK/$1.out")
  printf '%-8s %10s req/s   p99 %8s   %s requests\n' "$1" "$rps" "$p99" "$total"
  echo "$rps $total" >"$WORK/$1.num"
}

echo "wrk: $THREADS threads, $CONNECTIONS connections, $DURATION per route, $SENDS sends"
run static /healthz
run open / "$WORK/open.lua"
run click / "$WORK/click.lua"

kill "$SERVER"; wait "$SERVER" 2>/dev/null || true
read -r static_rps _ <"$WORK/static.num"
read -r open_rps open_total <"$WORK/open.num"
read -r click_rps click_total <"$WORK/click.num"
stored=$(python3 -c "import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); \
print(c.execute('select count(*) from events').fetchone()[0])" "$WORK/data/mailtally.db")
python3 - "$static_rps" "$open_rps" "$click_rps" <<'PY'
import sys
static, open_, click = map(float, sys.argv[1:4])
print(f"ratio    open/static {open_ / static:.2f}   click/static {click / static:.2f}"
      "   (target: at least 0.50)")
PY
answered=$((open_total + click_total))
echo "events   $stored stored for $answered answered tracked requests"
if [ "$stored" -lt "$answered" ]; then
  echo "LOST EVENTS: $((answered - stored)) answered requests are not in the database" >&2
  exit 1
fi
