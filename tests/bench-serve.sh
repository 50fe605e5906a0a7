#!/usr/bin/env bash
# make bench, pildoc serve: a bounded load test on loopback with ab (apache2-utils).
# Three ab clients at once (consent sheet with the sample patient's data in
# en, fr and zh_CN), REQUESTS in all (default 10,000, about two minutes on
# a busy 2-core machine; BENCH_SERVE_REQUESTS sets it), each client stopped
# after 150 s whatever happens. Prints requests/s,
# p50/p99 latency per language, failures, and the resident memory of each
# worker after a warm-up and at the end. Figures, not a test.
set -eu
cd "$(dirname "$0")/.."
. tests/lib.sh
PILDOC=$(realpath "${PILDOC:-./pildoc}")
REQUESTS=${BENCH_SERVE_REQUESTS:-10000}
WORKERS=${BENCH_SERVE_WORKERS:-$(nproc)}
T=$(mktemp -d /tmp/pildoc-bench-serve.XXXXXX)
PID=
trap '[ -n "$PID" ] && kill -TERM $PID 2>/dev/null; rm -rf "$T"' EXIT
export SOURCE_DATE_EPOCH=1795305600
: > "$T/log"
"$PILDOC" serve --listen 127.0.0.1:0 --workers "$WORKERS" --queue 64 2> "$T/log" &
PID=$!
PORT=$(serve_port "$T/log" "$PID")
URL=http://127.0.0.1:$PORT
rss() { # resident memory of each worker, MB
  curl -s "$URL/health" | grep -o '"pid":[0-9]*' | cut -d: -f2 | while read -r p; do
    awk '/^VmRSS/ { printf "%.1f ", $2 / 1024 }' "/proc/$p/status"
  done
}
body=templates/data/sample-patient.xml
# warm-up of every worker: fonts, templates, catalogs, shaped paragraphs
for l in en fr zh_CN; do
  ab -q -n 40 -c "$WORKERS" -p "$body" -T application/xml "$URL/render/consent?lang=$l" > /dev/null 2>&1
done
echo "machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg); $WORKERS workers; $REQUESTS requests (consent sheet with data, en/fr/zh_CN, 3 clients x 2 connections)"
before=$(rss)
start=$(date +%s.%N)
n=$((REQUESTS / 3))
for l in en fr zh_CN; do
  ab -q -t 150 -n "$n" -c 2 -p "$body" -T application/xml "$URL/render/consent?lang=$l" > "$T/ab-$l" 2>&1 &
done
wait %2 %3 %4
secs=$(awk "BEGIN { print $(date +%s.%N) - $start }")
after=$(rss)
total=0
for l in en fr zh_CN; do
  done_n=$(awk '/^Complete requests:/ { print $3 }' "$T/ab-$l")
  failed=$(awk '/^Failed requests:/ { print $3 }' "$T/ab-$l")
  non2xx=$(awk '/^Non-2xx responses:/ { print $3 }' "$T/ab-$l")
  total=$((total + ${done_n:-0}))
  printf '%-6s %6s requests, %s failed, %s non-2xx; %s/s; latency p50 %s ms, p99 %s ms\n' "$l" \
    "${done_n:-?}" "${failed:-?}" "${non2xx:-0}" \
    "$(awk '/^Requests per second:/ { print $4 }' "$T/ab-$l")" \
    "$(awk '$1 == "50%" { print $2 }' "$T/ab-$l")" "$(awk '$1 == "99%" { print $2 }' "$T/ab-$l")"
done
awk "BEGIN { printf \"all    %d requests in %.1f s: %.0f requests/s\n\", $total, $secs, $total / $secs }"
echo "worker resident memory (MB), after warm-up: $before"
echo "worker resident memory (MB), at the end:    $after"
echo "5xx in the server log: $(grep -cE ' (500|503) ' "$T/log" || true)"
kill -TERM $PID
wait $PID
PID=
