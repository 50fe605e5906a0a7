#!/usr/bin/env bash
# pildoc serve over real HTTP on loopback (curl, a free port chosen by the
# kernel): every status code, concurrent requests in three languages
# byte-identical to pildoc render, a worker killed mid-request, a full
# queue, slow clients, a body over the limit, SIGTERM with a request in
# flight, the request log. Prints "N passed, N failed".
set -u
cd "$(dirname "$0")/.."
. tests/lib.sh
PILDOC=$(realpath "${PILDOC:-./pildoc}")
T=$(mktemp -d /tmp/pildoc-serve.XXXXXX)
SERVERS=()
cleanup() {
  for p in "${SERVERS[@]}"; do
    pkill -CONT -P "$p" 2>/dev/null
    kill -KILL "$p" 2>/dev/null
  done
  rm -rf "$T"
}
trap cleanup EXIT
export SOURCE_DATE_EPOCH=1795305600

# start NAME ARGS...: a server on a free port; sets PID, URL, LOG
start() {
  LOG=$T/$1.log
  : > "$LOG"
  shift
  "$PILDOC" serve --listen 127.0.0.1:0 "$@" 2> "$LOG" &
  PID=$!
  SERVERS+=("$PID")
  local port
  port=$(serve_port "$LOG" "$PID")
  URL=http://127.0.0.1:$port
  [ -n "$port" ] || { echo "FAIL: the server did not start:"; cat "$LOG"; exit 1; }
}
# code ARGS...: the HTTP status of curl ARGS; the body goes to $T/body
code() { curl -s -o "$T/body" -w '%{http_code}' "$@"; }
worker_pid() { curl -s "$URL/health" | grep -o '"pid":[0-9]*' | head -1 | cut -d: -f2; }
# wait_busy: until the (only) worker is handling a request
wait_busy() {
  for _ in $(seq 1200); do
    curl -s "$URL/health" | grep -q '"state":"busy"' && return 0
    sleep 0.05
  done
  return 1
}
json_error() { grep -qF "{\"error\":\"$1" "$T/body" && [ "$(wc -l < "$T/body")" = 1 ]; }
json_field() { grep -q "\"field\":\"$1\"}" "$T/body"; }

# --- A: two workers; statuses, JSON, identical documents --------------------------
start a --workers 2 --max-body 20000

check "GET /health: 200 with two workers" test "$(code "$URL/health")" = 200
check "/health lists two idle workers" test "$(grep -o '"state":"idle"' "$T/body" | wc -l)" = 2
check "GET /templates" test "$(code "$URL/templates")" = 200
check "/templates lists consent and leaflet" grep -qx '{"templates":\["consent","leaflet"\]}' "$T/body"
check "GET /langs" test "$(code "$URL/langs")" = 200
check "/langs lists en, fr, zh_CN" grep -qx '{"langs":\["en","fr","zh_CN"\]}' "$T/body"

# concurrent requests in three languages, XML data and form fields, against pildoc render
"$PILDOC" render leaflet --lang en -o "$T/ref-leaflet-en.pdf"
"$PILDOC" render leaflet --lang fr --paper letter -o "$T/ref-leaflet-fr.pdf"
"$PILDOC" render leaflet --lang zh_CN --set treatment.condition=crps --set 'clinic.name=Clinique & Co' -o "$T/ref-leaflet-zh.pdf"
"$PILDOC" render consent --lang fr --data templates/data/sample-patient.xml -o "$T/ref-consent-fr.pdf"
"$PILDOC" render consent --lang zh_CN --data templates/data/sample-patient.xml -o "$T/ref-consent-zh.pdf"
"$PILDOC" render consent --lang en -o "$T/ref-consent-en.pdf"
req() { # NAME URL-TAIL CURL-ARGS...
  local name=$1 tail=$2
  shift 2
  curl -s -D "$T/h-$name" -o "$T/got-$name.pdf" -w '%{http_code}' -X POST "$@" "$URL/render/$tail" > "$T/code-$name"
}
for round in 1 2; do
  jobs=()
  req leaflet-en 'leaflet' &
  jobs+=($!)
  req leaflet-fr 'leaflet?lang=fr-FR&paper=letter' &
  jobs+=($!)
  req leaflet-zh 'leaflet?lang=zh-Hans' --data-urlencode treatment.condition=crps --data-urlencode 'clinic.name=Clinique & Co' &
  jobs+=($!)
  req consent-fr 'consent?lang=fr' -H 'Content-Type: application/xml' --data-binary @templates/data/sample-patient.xml &
  jobs+=($!)
  req consent-zh 'consent?lang=zh_CN' -H 'Content-Type: application/xml; charset=utf-8' --data-binary @templates/data/sample-patient.xml &
  jobs+=($!)
  req consent-en 'consent?lang=en' &
  jobs+=($!)
  wait "${jobs[@]}"
  for n in leaflet-en leaflet-fr leaflet-zh consent-fr consent-zh consent-en; do
    check "round $round: $n: 200" test "$(cat "$T/code-$n")" = 200
    check "round $round: $n: identical to pildoc render" cmp -s "$T/got-$n.pdf" "$T/ref-$n.pdf"
  done
done
check "200: application/pdf" grep -qi '^Content-Type: application/pdf' "$T/h-consent-zh"
check "200: a safe file name" grep -qi '^Content-Disposition: attachment; filename="consent-zh_CN.pdf"' "$T/h-consent-zh"
check "200: a request id" grep -qi '^X-Request-Id: [0-9a-f]*-[0-9]*' "$T/h-consent-zh"
check "200: not cached" grep -qi '^Cache-Control: no-store' "$T/h-consent-zh"
curl -s -D "$T/h-id" -o /dev/null -H 'X-Request-Id: proxy-42' "$URL/health"
check "the proxy's request id is kept" grep -qi '^X-Request-Id: proxy-42' "$T/h-id"

# 400: bad data, named by field
check "400: unknown language" test "$(code -X POST "$URL/render/leaflet?lang=xx")" = 400
check "400: unknown language: JSON names lang" json_field lang
check "400: unknown language: lists the available ones" json_error "unknown language 'xx' (available: en, fr, zh_CN)"
check "400: unknown paper" test "$(code -X POST "$URL/render/leaflet?paper=a3")" = 400
check "400: unknown paper: field" json_field paper
"$PILDOC" render leaflet --lang fr --large-print -o "$T/ref-large.pdf"
check "200: large_print=1" test "$(code -X POST "$URL/render/leaflet?lang=fr&large_print=1")" = 200
check "large_print=1: identical to pildoc render --large-print" cmp -s "$T/body" "$T/ref-large.pdf"
check "400: large_print=2" test "$(code -X POST "$URL/render/leaflet?large_print=2")" = 400
check "400: large_print=2: field" json_field large_print
"$PILDOC" render leaflet --lang fr --plain -o "$T/ref-plain.pdf"
check "200: plain=1" test "$(code -X POST "$URL/render/leaflet?lang=fr&plain=1")" = 200
check "plain=1: identical to pildoc render --plain (untagged, not PDF/A)" cmp -s "$T/body" "$T/ref-plain.pdf"
check "200: plain=0" test "$(code -X POST "$URL/render/leaflet?lang=fr&large_print=1&plain=0")" = 200
check "plain=0: as without it" cmp -s "$T/body" "$T/ref-large.pdf"
check "400: plain=yes" test "$(code -X POST "$URL/render/leaflet?plain=yes")" = 400
check "400: plain=yes: field" json_field plain
check "400: form=2" test "$(code -X POST "$URL/render/consent?form=2")" = 400
check "400: form=2: field" json_field form
check "400: form=1 for the leaflet (no line to sign on)" test "$(code -X POST "$URL/render/leaflet?form=1")" = 400
check "400: form=1 for the leaflet: field, says why" bash -c "grep -q '\"field\":\"form\"' '$T/body' && grep -q 'no line to sign on' '$T/body'"
check "200: form=1, a fillable consent sheet" test "$(code -X POST "$URL/render/consent?form=1")" = 200
check "200: form=1: an AcroForm with signature fields" bash -c "pdfsig '$T/body' 2>&1 | grep -q 'sign.patient'"
check "200: form=0, no form" test "$(code -X POST "$URL/render/consent?form=0")" = 200
check "200: form=0: no AcroForm" bash -c "! grep -aq AcroForm '$T/body'"
check "400: an unknown parameter" test "$(code -X POST "$URL/render/leaflet?colour=red")" = 400
check "400: malformed XML" test "$(code -X POST -H 'Content-Type: application/xml' --data '<data><patient' "$URL/render/consent")" = 400
check "400: malformed XML: names the body and its line" json_error "request body:1: malformed XML"
check "400: malformed XML: field body" json_field body
check "400: an unknown variable in XML" test "$(code -X POST -H 'Content-Type: application/xml' --data '<data><patient><nam>x</nam></patient></data>' "$URL/render/consent")" = 400
check "400: a DTD in XML" test "$(code -X POST -H 'Content-Type: application/xml' --data '<!DOCTYPE d [<!ENTITY e "x">]><data/>' "$URL/render/consent")" = 400
check "400: a bad form value" test "$(code -X POST --data 'treatment.condition=bogus' "$URL/render/leaflet")" = 400
check "400: a bad form value: field is the form field" json_field treatment.condition
check "400: a form field given twice (two names for one patient)" test "$(code -X POST --data 'patient.name=Alice&patient.name=Bob' "$URL/render/consent")" = 400
check "400: a form field given twice: says so, names the field" bash -c "grep -q 'given twice' '$T/body' && grep -q '\"field\":\"patient.name\"' '$T/body'"
check "400: a form field given twice: no name quoted" bash -c "! grep -q 'Alice\\|Bob' '$T/body'"
check "400: an impossible date" test "$(code -X POST --data-urlencode 'patient.birth_date=2020-02-31' --data-urlencode 'patient.name=Zoë Secretname' "$URL/render/consent")" = 400
check "400: the error does not quote the value" bash -c "! grep -q Secretname '$T/body'"
# 404: only names of the installed set, never a path
check "404: unknown template" test "$(code -X POST "$URL/render/nonexistent")" = 404
check "404: unknown template: field template" json_field template
check "404: a path is not a template" test "$(code -X POST "$URL/render/..%2F..%2Fetc%2Fhostname")" = 404
check "404: an absolute path is not a template" test "$(code -X POST "$URL/render/%2Fetc%2Fhostname")" = 404
code -X POST "$URL/render/%2Fetc%2Fhostname" > /dev/null; cp "$T/body" "$T/body-exists"
code -X POST "$URL/render/%2Fno%2Fsuch%2Ffile" > /dev/null
check "404: an existing and a missing file answer alike (nothing revealed)" cmp -s "$T/body-exists" "$T/body"
check "404: templates/leaflet.xml is not a name" test "$(code -X POST "$URL/render/templates%2Fleaflet.xml")" = 404
check "404: unknown route" test "$(code "$URL/etc/passwd")" = 404
check "405: GET /render" test "$(code "$URL/render/leaflet")" = 405
check "405: POST /health" test "$(code -X POST "$URL/health")" = 405
# 413: over --max-body, declared or chunked
head -c 30000 /dev/zero | tr '\0' 'a' > "$T/big"
check "413: Content-Length over the limit" test "$(code -X POST -H 'Content-Type: application/xml' --data-binary @"$T/big" "$URL/render/consent")" = 413
check "413: JSON names the body" json_field body
check "413: chunked body over the limit" test "$(code -X POST -H 'Content-Type: application/xml' -H 'Transfer-Encoding: chunked' --data-binary @"$T/big" "$URL/render/consent")" = 413
# 415: wrong content type
check "415: text/plain" test "$(code -X POST -H 'Content-Type: text/plain' --data x "$URL/render/leaflet")" = 415
check "415: multipart" test "$(code -X POST -F 'patient.name=x' "$URL/render/consent")" = 415
check "415: JSON names Content-Type" json_field Content-Type
check "the server is still healthy" test "$(code "$URL/health")" = 200

# the log: one line per request, method path status bytes ms id; no patient data
check "log: a line per request" grep -qE '^[0-9T:-]+Z POST /render/consent 200 [0-9]+ [0-9.]+ ms id=[0-9a-f]+-[0-9]+$' "$LOG"
check "log: errors too" grep -qE ' POST /render/leaflet 415 [0-9]+ ' "$LOG"
check "log: never the query" bash -c "! grep -q 'lang=' '$LOG'"
check "log: never patient data" bash -c "! grep -qE 'Secretname|Zoë|Martin' '$LOG'"
kill -TERM "$PID"
wait "$PID"
check "A: exit 0 after SIGTERM" test $? = 0

# --- B: a language with an incomplete catalog -> 422 for the consent sheet ---------
D=$T/datadir
mkdir -p "$D/po" "$D/build/locale/pt/LC_MESSAGES"
ln -s "$PWD/templates" "$D/templates"
ln -s "$PWD/fonts" "$D/fonts"
for l in build/locale/*/; do ln -s "$PWD/$l" "$D/build/locale/$(basename "$l")"; done
cp po/LINGUAS "$D/po/LINGUAS"
echo pt >> "$D/po/LINGUAS"
printf 'msgid ""\nmsgstr "Content-Type: text/plain; charset=UTF-8\\n"\n\nmsgid "Information for patients"\nmsgstr "Informação para doentes"\n' > "$T/pt.po"
msgfmt -o "$D/build/locale/pt/LC_MESSAGES/pildoc.mo" "$T/pt.po"
PILDOC_DATADIR=$D start b --workers 1
check "422: a consent sheet half-translated" test "$(code -X POST "$URL/render/consent?lang=pt")" = 422
check "422: JSON names lang and says why" bash -c "grep -q 'not translated into pt' '$T/body' && grep -q '\"field\":\"lang\"' '$T/body'"
check "a half-translated leaflet is served (English fallback)" test "$(code -X POST "$URL/render/leaflet?lang=pt")" = 200
kill -TERM "$PID"
wait "$PID"
check "B: exit 0 after SIGTERM" test $? = 0

# --- C: one worker, a queue of one: 503, a killed worker, SIGTERM ------------------
start c --workers 1 --queue 1 --timeout 10
W=$(worker_pid)
kill -STOP "$W"
req held-1 'leaflet?lang=fr&paper=letter' &
H1=$!
wait_busy
req held-2 'leaflet?lang=fr&paper=letter' &
H2=$!
sleep 0.3
check "503: the worker busy and the queue full" test "$(code -X POST "$URL/render/leaflet")" = 503
check "503: says why" json_error "all 1 workers are busy"
kill -CONT "$W"
wait $H1 $H2
check "503: the held requests then complete" test "$(cat "$T/code-held-1")$(cat "$T/code-held-2")" = 200200
check "503: and are right" cmp -s "$T/got-held-2.pdf" "$T/ref-leaflet-fr.pdf"

W=$(worker_pid)
kill -STOP "$W"
req killed 'consent?lang=fr' -H 'Content-Type: application/xml' --data-binary @templates/data/sample-patient.xml &
K=$!
wait_busy
kill -KILL "$W"
wait $K
check "500: a worker killed during a request" test "$(cat "$T/code-killed")" = 500
check "500: says the worker died" grep -q '"error":"the worker handling this request died (signal 9' "$T/got-killed.pdf"
check "after a killed worker the next request succeeds" test "$(code -X POST "$URL/render/leaflet?lang=fr&paper=letter")" = 200
check "... and is right" cmp -s "$T/body" "$T/ref-leaflet-fr.pdf"
check "a new worker took its place" test "$(worker_pid)" != "$W"
check "/health: 200 again" test "$(code "$URL/health")" = 200

# SIGTERM with a request in flight: it completes, no new connections, exit 0
W=$(worker_pid)
kill -STOP "$W"
req flight 'leaflet?lang=zh_CN' --data-urlencode treatment.condition=crps --data-urlencode 'clinic.name=Clinique & Co' &
F=$!
wait_busy
kill -TERM "$PID"
sleep 0.5
curl -s -o /dev/null --max-time 2 "$URL/health"
check "after SIGTERM no new connection is accepted" test $? = 7
kill -CONT "$W"
wait $F
check "SIGTERM: the request in flight completes" test "$(cat "$T/code-flight")" = 200
check "SIGTERM: ... with the right document" cmp -s "$T/got-flight.pdf" "$T/ref-leaflet-zh.pdf"
wait "$PID"
check "SIGTERM: exit 0" test $? = 0
check "SIGTERM: the worker has ended" bash -c "! kill -0 $W 2>/dev/null"
check "SIGTERM: logged" grep -q '^pildoc serve: stopped' "$LOG"

# --- D: slow clients, bounded by --timeout ----------------------------------------
start d --workers 1 --timeout 2
PORT=${URL##*:}
elapsed() { # the seconds until the server closes the connection of COMMANDS on fd 3
  local t0
  trap '' PIPE # the server closing first is what is tested
  t0=$(date +%s.%N)
  "$@"
  cat <&3 > /dev/null
  awk "BEGIN { print $(date +%s.%N) - $t0 }"
}
silent() { exec 3<> "/dev/tcp/127.0.0.1/$PORT"; printf 'POST /render/leaflet HTTP/1.1\r\nHost: x\r\n' >&3; }
s=$(elapsed silent)
check "a client that stops mid-headers is cut off by --timeout 2 (${s}s)" awk "BEGIN { exit !($s < 5) }"
trickle() {
  exec 3<> "/dev/tcp/127.0.0.1/$PORT"
  printf 'POST /render/consent HTTP/1.1\r\nHost: x\r\nContent-Type: application/xml\r\nContent-Length: 200\r\n\r\n<data>' >&3
  for _ in $(seq 12); do printf ' ' >&3 2>/dev/null || break; sleep 0.4; done
}
s=$(elapsed trickle)
check "a client trickling its body is cut off by --timeout 2 (${s}s)" awk "BEGIN { exit !($s < 5.5) }"
check "the slow clients are logged as cut off" grep -qE ' POST /render/consent 408 0 .* \(connection closed\)' "$LOG"
check "the server still answers" test "$(code -X POST "$URL/render/leaflet")" = 200
kill -TERM "$PID"
wait "$PID"
check "exit 0 after SIGTERM when idle" test $? = 0

# --- E: slow-header clients (slowloris) do not starve the server ------------------
# Ten clients from 127.0.0.2 each send a header byte every 0.2 s (never silent
# long enough for --timeout 30). Only --max-per-ip 3 of them get a connection,
# those are cut off by --header-timeout 2, and requests from 127.0.0.1 are
# served meanwhile; without both limits they would hold all 6 connections.
start e --workers 1 --max-connections 6 --max-per-ip 3 --header-timeout 2 --timeout 30
PORT=${URL##*:}
python3 tests/slow-clients.py "$PORT" 10 25 127.0.0.2 > "$T/slow.out" &
SLOW=$!
sleep 1
check "slowloris: GET /health is answered while slow clients connect" test "$(code --max-time 20 "$URL/health")" = 200
check "slowloris: a document is rendered meanwhile" test "$(code --max-time 20 -X POST "$URL/render/leaflet?lang=fr&paper=letter")" = 200
check "slowloris: ... and is right" cmp -s "$T/body" "$T/ref-leaflet-fr.pdf"
wait $SLOW
check "slowloris: ten slow clients reported" test "$(wc -l < "$T/slow.out")" = 10
check "slowloris: none held its connection for 25 s" bash -c "! grep -q held '$T/slow.out'"
cut=$(grep -c 'no whole request headers within 2 s: closed' "$LOG")
check "slowloris: 1 to 3 (--max-per-ip) cut off by --header-timeout, logged ($cut)" test "$cut" -ge 1 -a "$cut" -le 3
check "slowloris: the server still answers" test "$(code -X POST "$URL/render/leaflet")" = 200
kill -TERM "$PID"
wait "$PID"
check "slowloris: exit 0 after SIGTERM" test $? = 0
"$PILDOC" serve --timeout 5 --header-timeout 6 2> "$T/err"
check "--header-timeout longer than --timeout: usage error (2)" test $? = 2

# --- usage ----------------------------------------------------------------------
"$PILDOC" serve --workers 0 2> "$T/err"
check "--workers 0: usage error (2)" test $? = 2
"$PILDOC" serve --listen localhost 2> "$T/err"
check "--listen without a port: usage error" test $? = 2
check "pildoc serve --help" "$PILDOC" serve --help

# the default --workers on a machine with more than 64 cores is capped (not a refusal to start)
if [ -z "${PILDOC_SANITIZED:-}" ] && command -v gcc >/dev/null; then
  make_cores_shim "$T/cores.so"
  LD_PRELOAD=$T/cores.so "$PILDOC" serve --listen 127.0.0.1:0 2> "$T/cores.log" &
  cores_pid=$!
  SERVERS+=("$cores_pid")
  for _ in $(seq 600); do
    grep -q 'listening on' "$T/cores.log" && break
    kill -0 $cores_pid 2>/dev/null || break
    sleep 0.05
  done
  check "96 cores, default --workers: the server starts (capped at 64)" grep -q 'listening on' "$T/cores.log"
  kill -TERM $cores_pid 2>/dev/null
  wait $cores_pid 2>/dev/null
fi

# under make SAN=...: the servers' and workers' reports land in their logs
check "no sanitizer report from a server or worker" bash -c "! grep -lE 'ERROR: (Address|Leak)Sanitizer|runtime error:' '$T'/*.log"

summary serve
